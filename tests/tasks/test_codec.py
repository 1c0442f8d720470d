import random

import pytest
import torch

from kgdnc.tasks.codec import (
    FLAG_ANSWER,
    FLAG_PHASE,
    INPUT_SIZE,
    N_DIGITS,
    OUTPUT_SIZE,
    TERMINATION,
    decode_logits,
    digit_log_probs,
    digit_loss,
    digits_correct,
    encode_input,
    encode_triple,
    input_ones,
    target_digits,
    triple_digits,
)


def test_sizes_are_the_papers():
    assert (INPUT_SIZE, OUTPUT_SIZE, N_DIGITS) == (92, 90, 9)
    assert TERMINATION == (999, 999, 999)


def test_encode_places_one_hot_digits():
    x = encode_triple((123, 0, 999))
    assert x.shape == (90,)
    assert x.sum() == 9
    hot = torch.nonzero(x).flatten().tolist()
    # slot s, digit j, value d at (3*s + j)*10 + d
    assert hot == [0 * 10 + 1, 1 * 10 + 2, 2 * 10 + 3, 30, 40, 50, 69, 79, 89]


def test_blank_label_is_all_zeros():
    x = encode_triple((None, 42, None))
    assert x[:30].sum() == 0 and x[60:].sum() == 0 and x[30:60].sum() == 3


def test_round_trip_through_logits():
    rng = random.Random(0)
    triples = [tuple(rng.randrange(1000) for _ in range(3)) for _ in range(50)]
    logits = torch.stack([encode_triple(t) for t in triples]) * 5.0  # one-hot as logits
    decoded = decode_logits(logits)
    assert decoded.shape == (50, 3)
    assert [tuple(r) for r in decoded.tolist()] == triples
    digits = torch.stack([triple_digits(t) for t in triples])
    assert digits_correct(logits, digits).all()
    assert torch.equal(decode_logits(logits.view(5, 10, 90)), decoded.view(5, 10, 3))


def test_log_probs_and_loss():
    logits = torch.randn(4, 7, 90)
    lp = digit_log_probs(logits)
    assert lp.shape == (4, 7, 9, 10)
    assert torch.allclose(lp.exp().sum(-1), torch.ones(4, 7, 9))
    targets = torch.randint(0, 10, (4, 7, 9))
    expected = (
        torch.nn.functional.cross_entropy(
            logits.reshape(-1, 10), targets.reshape(-1), reduction="none"
        )
        .view(4, 7, 9)
        .sum(-1)
    )
    assert torch.allclose(digit_loss(logits, targets), expected, atol=1e-5)


def test_flags_and_bad_labels():
    x = encode_input((1, 2, 3), phase=True, answer=False)
    assert x.shape == (92,) and x[FLAG_PHASE] == 1 and x[FLAG_ANSWER] == 0
    with pytest.raises(ValueError):
        encode_triple((1000, 0, 0))
    with pytest.raises(ValueError):
        triple_digits((1, None, 3))


@pytest.mark.parametrize(
    "triple, phase, answer",
    [((1, 2, 3), False, False), ((999, None, 40), True, False), ((None,) * 3, True, True),
     ((0, 0, 0), False, True)],
)
def test_input_ones_are_where_encode_input_puts_its_ones(triple, phase, answer):
    x = encode_input(triple, phase=phase, answer=answer)
    assert sorted(input_ones(triple, phase, answer)) == x.nonzero().flatten().tolist()
    if None not in triple:
        assert target_digits(triple) == triple_digits(triple).tolist()
