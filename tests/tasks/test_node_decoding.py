import pytest
import torch

from kgdnc.errors import UserError
from kgdnc.tasks.codec import (
    TERMINATION,
    check_decode,
    decode_logits,
    decode_nodes,
    described_nodes,
    encode_input,
    triple_digits,
)


def _logits(digit_probs):
    """(9 rows of 10 probabilities) -> (90,) logits whose softmaxes are them."""
    return torch.tensor(digit_probs, dtype=torch.float64).log().reshape(90)


def _confident(triple, p=0.9):
    rows = []
    for d in triple_digits(triple).tolist():
        row = [(1 - p) / 9] * 10
        row[d] = p
        rows.append(row)
    return rows


def test_described_nodes_are_the_sources_and_destinations_of_the_description():
    rows = [encode_input(t) for t in [(5, 1, 17), (17, 2, 305), (305, 1, 5)]]
    query = encode_input((5, 1, None), phase=True)
    inputs = torch.stack(rows + [query])
    assert described_nodes(inputs, 3).tolist() == [5, 17, 305]
    assert described_nodes(inputs, 1).tolist() == [5, 17]


def test_a_digit_mix_that_spells_no_node_is_read_as_the_likelier_node():
    # destination digits: 3 or 1 (0.55 / 0.45), 0 (0.9), 7 or 5 (0.55 / 0.45):
    # the modes spell 307, which is no node
    rows = _confident((17, 2, 305))
    rows[6] = [0.0] * 10
    rows[6][3], rows[6][1] = 0.55, 0.45
    rows[8] = [0.0] * 10
    rows[8][7], rows[8][5] = 0.55, 0.45
    y = _logits([[max(v, 1e-6) for v in r] for r in rows])
    assert decode_logits(y).tolist() == [17, 2, 307]  # digit modes: no such node
    nodes = torch.tensor([5, 17, 105, 305])
    # among the nodes: 305 = .55 · .9 · .45 against 105 = .45 · .9 · .45; 5 and 17
    # have a first digit 0 (probability ~0): 305 wins
    assert decode_nodes(y, nodes).tolist() == [17, 2, 305]
    # with 305 absent, the next likeliest described node is taken
    assert decode_nodes(y, torch.tensor([5, 17, 105])).tolist() == [17, 2, 105]


def test_the_middle_label_keeps_its_digit_modes_and_batches_decode_alike():
    y = torch.stack([_logits(_confident((5, 412, 17))), _logits(_confident((17, 7, 5)))])
    nodes = torch.tensor([5, 17])
    out = decode_nodes(y.reshape(1, 2, 90), nodes)
    assert out.tolist() == [[[5, 412, 17], [17, 7, 5]]]
    assert out.tolist() == decode_logits(y.reshape(1, 2, 90)).tolist()  # confident: same


def test_the_termination_triple_stays_a_candidate():
    """A traversal answer ends with the reserved termination triple, no node's."""
    y = _logits(_confident(TERMINATION, p=0.6))
    assert decode_nodes(y, torch.tensor([5, 17])).tolist() == list(TERMINATION)


def test_decode_choices_are_checked_per_task():
    check_decode("digits", "shortest-path")
    check_decode("nodes", "traversal")
    check_decode("nodes", "inference")
    with pytest.raises(UserError, match="unknown decoding 'modes'"):
        check_decode("modes", "traversal")
    with pytest.raises(UserError, match="not shortest-path"):
        check_decode("nodes", "shortest-path")
    with pytest.raises(UserError, match="not copy"):
        check_decode("nodes", "copy")
