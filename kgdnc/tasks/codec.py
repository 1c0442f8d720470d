"""Labels <-> digit codes: the paper's encoding of graph triples (PAPER.md §2).

A label is a number 0–999 written as 3 decimal digits, hundreds first, each a
10-way one-hot: 30 dims per label, 90 per triple (source, edge, destination). A
blank label (``None``) is all zeros. Inputs are the triple plus two flags
(``INPUT_SIZE = 92``); the network's output is nine 10-way softmaxes
(``OUTPUT_SIZE = 90`` logits), one per digit, decoded by each digit's mode.

Label 999 is reserved: node and edge labels are drawn from 0–998
(``LABEL_SPACE = 999`` labels) and the end of a traversal answer is the
termination triple ``(999, 999, 999)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from kgdnc.errors import UserError

__all__ = [
    "DIGITS_PER_LABEL",
    "FLAG_ANSWER",
    "FLAG_PHASE",
    "INPUT_SIZE",
    "LABEL_SIZE",
    "LABEL_SPACE",
    "MAX_LABEL",
    "N_DIGITS",
    "OUTPUT_SIZE",
    "TERMINATION",
    "TERMINATION_LABEL",
    "TRIPLE_SIZE",
    "Triple",
    "DECODES",
    "check_decode",
    "decode_logits",
    "decode_nodes",
    "described_nodes",
    "digit_log_probs",
    "digit_loss",
    "digit_rows",
    "digits_correct",
    "digits_to_triple",
    "encode_input",
    "encode_rows",
    "encode_triple",
    "input_row",
    "target_row",
    "triple_digits",
]

Triple = tuple[int | None, int | None, int | None]

DIGITS_PER_LABEL = 3
LABEL_SIZE = 10 * DIGITS_PER_LABEL  # 30
TRIPLE_SIZE = 3 * LABEL_SIZE  # 90
N_DIGITS = 3 * DIGITS_PER_LABEL  # 9 softmaxes
INPUT_SIZE = TRIPLE_SIZE + 2  # 92: triple + 2 flags
OUTPUT_SIZE = TRIPLE_SIZE  # 90 logits = 9 digits x 10 classes
FLAG_PHASE = TRIPLE_SIZE  # input index of flag 0 (phase change / query)
FLAG_ANSWER = TRIPLE_SIZE + 1  # input index of flag 1 (answer phase)
MAX_LABEL = 999
TERMINATION_LABEL = 999
LABEL_SPACE = 999  # labels 0-998 are free for nodes and edges
TERMINATION: tuple[int, int, int] = (TERMINATION_LABEL,) * 3


def _label_digits(label: int) -> tuple[int, int, int]:
    if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label <= MAX_LABEL:
        raise ValueError(f"label {label!r} is not an integer in 0-{MAX_LABEL}")
    return label // 100, (label // 10) % 10, label % 10


def _hot(triple: Sequence[int | None]) -> list[int]:
    """The indices of a triple's ones in its 90 dims (3 per label, none for a blank)."""
    if len(triple) != 3:
        raise ValueError(f"a triple has 3 labels, got {len(triple)}")
    hot: list[int] = []
    for slot, label in enumerate(triple):
        if label is not None:
            h, t, u = _label_digits(label)
            base = LABEL_SIZE * slot
            hot += (base + h, base + 10 + t, base + 20 + u)
    return hot


def _checked(triple: Sequence[int | None], blanks: bool = True) -> tuple[int, int, int]:
    """A triple's labels, each checked as :func:`_label_digits` does; a blank is -1."""
    if len(triple) != 3:
        raise ValueError(f"a triple has 3 labels, got {len(triple)}")
    out = []
    for label in triple:
        if label is None and blanks:
            out.append(-1)
        elif type(label) is int and 0 <= label <= MAX_LABEL:
            out.append(label)
        elif label is None:
            raise ValueError("a target triple cannot have blanks")
        else:
            _label_digits(label)  # raises the label's error
            out.append(int(label))
    return out[0], out[1], out[2]


def input_row(
    triple: Sequence[int | None], phase: bool = False, answer: bool = False
) -> tuple[int, int, int, int, int]:
    """One input step as five integers, the labels checked (-1 for a blank) and the
    two flags: a row of :func:`encode_rows`, which builds many steps at once."""
    return (*_checked(triple), int(phase), int(answer))


def target_row(triple: Sequence[int]) -> tuple[int, int, int]:
    """A (complete) target triple's labels, checked: a row of :func:`digit_rows`."""
    return _checked(triple, blanks=False)


# (3, 3): where digit j of label slot s starts in the 90 dims of a triple
_DIGIT_BASE = np.arange(3)[:, None] * LABEL_SIZE + np.arange(3)[None, :] * 10
_PLACES = np.array([100, 10, 1])


def _digits(labels: np.ndarray) -> np.ndarray:
    """(T, 3) labels -> (T, 3, 3) digits, hundreds first."""
    return labels[:, :, None] // _PLACES % 10


def encode_rows(rows: Sequence[Sequence[int]]) -> Tensor:
    """Many input steps at once: rows of :func:`input_row` -> FloatTensor (T, 92),
    row t equal to ``encode_input`` of its triple and flags."""
    a = np.asarray(rows, dtype=np.int64).reshape(-1, 5)
    t = a.shape[0]
    out = np.zeros((t, INPUT_SIZE), dtype=np.float32)
    labels = a[:, :3]
    cols = (_DIGIT_BASE + _digits(labels)).reshape(t, N_DIGITS)
    present = np.repeat(labels >= 0, DIGITS_PER_LABEL, axis=1)
    steps = np.broadcast_to(np.arange(t)[:, None], (t, N_DIGITS))
    out[steps[present], cols[present]] = 1.0
    out[:, FLAG_PHASE] = a[:, 3]
    out[:, FLAG_ANSWER] = a[:, 4]
    return torch.from_numpy(out)


def digit_rows(rows: Sequence[Sequence[int]]) -> Tensor:
    """Many targets at once: rows of :func:`target_row` -> LongTensor (T, 9), row t
    equal to ``triple_digits`` of its triple."""
    labels = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
    return torch.from_numpy(_digits(labels).reshape(-1, N_DIGITS))


def encode_triple(triple: Sequence[int | None]) -> Tensor:
    """One triple as 3 one-hot digits per label.

    Args:
        triple: (source, edge, destination) labels in 0–999; ``None`` is a blank.

    Returns:
        FloatTensor (90,): slot s, digit j, value d is at index ``(3*s + j)*10 + d``.
    """
    out = torch.zeros(TRIPLE_SIZE)
    out[_hot(triple)] = 1.0
    return out


def encode_input(triple: Sequence[int | None], phase: bool = False, answer: bool = False) -> Tensor:
    """One input step: the triple's 90 dims plus flag 0 (``phase``) and flag 1 (``answer``).

    Returns:
        FloatTensor (92,).
    """
    x = torch.zeros(INPUT_SIZE)
    x[:TRIPLE_SIZE] = encode_triple(triple)
    x[FLAG_PHASE] = float(phase)
    x[FLAG_ANSWER] = float(answer)
    return x


def triple_digits(triple: Sequence[int]) -> Tensor:
    """The nine digit classes of a (complete) triple, the target of one answer step.

    Returns:
        LongTensor (9,), each in 0–9.
    """
    return digit_rows([target_row(triple)])[0]


def digits_to_triple(digits: Tensor) -> Tensor:
    """Digit classes (..., 9) -> labels (..., 3), hundreds first."""
    d = digits.reshape(*digits.shape[:-1], 3, 3)
    return d[..., 0] * 100 + d[..., 1] * 10 + d[..., 2]


def digit_log_probs(logits: Tensor) -> Tensor:
    """Per-digit log-softmax of the output.

    Args:
        logits: (..., 90) network output y.

    Returns:
        (..., 9, 10) log-probabilities, one 10-way distribution per digit.
    """
    return torch.log_softmax(logits.reshape(*logits.shape[:-1], N_DIGITS, 10), dim=-1)


def decode_logits(logits: Tensor) -> Tensor:
    """Greedy decoding: each digit's mode, read back as three labels.

    Args:
        logits: (..., 90) network output y.

    Returns:
        LongTensor (..., 3): (source, edge, destination) labels.
    """
    digits = logits.reshape(*logits.shape[:-1], N_DIGITS, 10).argmax(dim=-1)
    return digits_to_triple(digits)


# How answers are read from the output: each digit's mode (the paper's), or the
# source and destination as the most probable of the episode's node labels.
DECODES = ("digits", "nodes")


def check_decode(decode: str, task: str) -> None:
    """Refuse a decoding the task cannot take (a one-line ``UserError``).

    ``nodes`` reads each answer's source and destination as the described node
    label whose three digits are the most probable together, instead of each
    digit's mode (which may spell a label of no node); it applies to traversal
    and inference. Shortest path already chooses among the current node's triples.
    """
    if decode not in DECODES:
        raise UserError(f"unknown decoding {decode!r}; choose one of: {', '.join(DECODES)}")
    if decode == "nodes" and task not in ("traversal", "inference"):
        raise UserError(
            f"decoding among nodes is for traversal and inference answers, not {task} "
            "(shortest path already chooses among the node's triples); drop --decode"
        )


def described_nodes(inputs: Tensor, n_triples: int) -> Tensor:
    """The node labels of an episode's description: the sources and destinations
    of its first ``n_triples`` input rows.

    Args:
        inputs: (T, 92) an episode's inputs, the description first.
        n_triples: rows of the description.

    Returns:
        LongTensor (K,), sorted and distinct.
    """
    labels = decode_logits(inputs[:n_triples, :TRIPLE_SIZE])  # one-hot rows: their modes
    return torch.unique(labels[:, [0, 2]])


def decode_nodes(logits: Tensor, nodes: Tensor) -> Tensor:
    """Decoding among known nodes: the source and the destination are each the
    label of ``nodes`` (or the termination label, which ends a traversal answer)
    with the highest summed log-probability of its three digits; the middle label
    is its digits' modes, as in :func:`decode_logits`.

    Args:
        logits: (..., 90) network output y.
        nodes: LongTensor (K,), the labels a source or destination may take.

    Returns:
        LongTensor (..., 3).
    """
    labels = decode_logits(logits)
    logp = digit_log_probs(logits).reshape(*logits.shape[:-1], 3, DIGITS_PER_LABEL, 10)
    nodes = torch.cat([nodes, nodes.new_tensor([TERMINATION_LABEL])]).unique()
    digits = nodes[:, None] // nodes.new_tensor([100, 10, 1]) % 10  # (K, 3)
    for slot in (0, 2):
        # score[..., k] = Σ_j log p(digit j of slot = digits[k, j])
        part = logp[..., slot, :, :]  # (..., 3, 10)
        score = sum(part[..., j, digits[:, j]] for j in range(DIGITS_PER_LABEL))
        labels[..., slot] = nodes[score.argmax(dim=-1)]
    return labels


def digit_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy summed over the nine digits, per step (the paper's loss).

    Args:
        logits: (..., 90) network output y.
        targets: (..., 9) digit classes z.

    Returns:
        (...) loss per step; mask it to the answer steps.
    """
    logp = digit_log_probs(logits)
    return -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1).sum(dim=-1)


def digits_correct(logits: Tensor, targets: Tensor) -> Tensor:
    """Whether the greedy answer of each step equals its target triple.

    Args:
        logits: (..., 90); targets: (..., 9) digit classes.

    Returns:
        BoolTensor (...): True where all nine digit modes are right.
    """
    digits = logits.reshape(*logits.shape[:-1], N_DIGITS, 10).argmax(dim=-1)
    return (digits == targets).all(dim=-1)
