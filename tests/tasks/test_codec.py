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
    digit_rows,
    digits_correct,
    encode_input,
    encode_rows,
    encode_triple,
    input_row,
    target_row,
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


def test_rows_encode_as_the_single_step_encoders_do():
    rng = random.Random(0)
    steps, targets = [], []
    for _ in range(50):
        triple = tuple(rng.choice([None, rng.randrange(1000)]) for _ in range(3))
        steps.append((triple, rng.random() < 0.5, rng.random() < 0.5))
        targets.append(tuple(rng.randrange(1000) for _ in range(3)))
    steps += [((None, None, None), True, True), ((0, 999, 0), False, False)]
    inputs = encode_rows([input_row(t, p, a) for t, p, a in steps])
    assert inputs.dtype == torch.float32 and inputs.shape == (len(steps), INPUT_SIZE)
    for row, (t, p, a) in zip(inputs, steps, strict=True):
        assert torch.equal(row, encode_input(t, phase=p, answer=a))
    digits = digit_rows([target_row(t) for t in targets])
    assert digits.dtype == torch.long
    assert torch.equal(digits, torch.stack([triple_digits(t) for t in targets]))
    assert encode_rows([]).shape == (0, INPUT_SIZE) and digit_rows([]).shape == (0, N_DIGITS)


@pytest.mark.parametrize("bad", [(1000, 0, 0), (-1, 0, 0), (True, 0, 0), (1.0, 2, 3), (1, 2)])
def test_rows_check_their_labels(bad):
    with pytest.raises(ValueError):
        input_row(bad)
    with pytest.raises(ValueError):
        target_row(bad)
    with pytest.raises(ValueError, match="cannot have blanks"):
        target_row((1, None, 3))
