"""Copy: recreate sequences of random binary vectors (ED Fig. 1 and ED Fig. 4).

Each vector has ``BITS = 6`` random bits. An episode holds ``lesson.queries``
sequences in turn (ED Fig. 4: one sequence of length 1–100; ED Fig. 1: 10
sequences of 5, see ``COPY_ALLOCATION_LESSON``); each sequence is presented, then
recreated at once, before the next one:

- input: L steps, the bits with flag 0 on the first step;
- recall: L steps with blank bits and flag 1 on (flag 0 also on the first);
  targets the presented bits, in order.

Sizes: input ``COPY_INPUT_SIZE = 8`` (6 bits + 2 flags), output and target
``COPY_OUTPUT_SIZE = 6``; the output is one logit per bit, the loss binary
cross-entropy summed over bits (:func:`bits_loss`), a step right when every bit's
sign is (:func:`bits_correct`).
"""

from __future__ import annotations

import random
from typing import Any

import torch
from torch import Tensor

from kgdnc.errors import UserError
from kgdnc.tasks.curriculum import Lesson
from kgdnc.tasks.episode import Episode, episode_rng

__all__ = [
    "BITS",
    "COPY_INPUT_SIZE",
    "COPY_OUTPUT_SIZE",
    "bits_correct",
    "bits_loss",
    "make_episode",
]

BITS = 6
COPY_INPUT_SIZE = BITS + 2
COPY_OUTPUT_SIZE = BITS


def make_episode(lesson: Lesson, rng: random.Random | int, graph: Any = None) -> Episode:
    """A copy episode: ``lesson.queries`` sequences, lengths drawn from ``lesson.length``.

    Returns:
        Episode with inputs (T, 8), targets (T, 6) bits as 0/1 longs, mask (T,).
    """
    if graph is not None:
        raise UserError("the copy task takes no graph; drop the graph option")
    rng, seed = episode_rng(rng)
    inputs: list[Tensor] = []
    targets: list[Tensor] = []
    mask: list[bool] = []
    lengths = []
    for _ in range(lesson.queries):
        length = rng.randint(*lesson.length)
        lengths.append(length)
        seq = torch.tensor(
            [[rng.getrandbits(1) for _ in range(BITS)] for _ in range(length)], dtype=torch.long
        )
        for t in range(length):
            x = torch.zeros(COPY_INPUT_SIZE)
            x[:BITS] = seq[t].float()
            x[BITS] = float(t == 0)
            inputs.append(x)
            targets.append(torch.zeros(BITS, dtype=torch.long))
            mask.append(False)
        for t in range(length):
            x = torch.zeros(COPY_INPUT_SIZE)
            x[BITS] = float(t == 0)
            x[BITS + 1] = 1.0
            inputs.append(x)
            targets.append(seq[t])
            mask.append(True)
    meta = {
        "task": "copy",
        "lesson": lesson.index,
        "seed": seed,
        "lengths": lengths,
        "length": max(lengths),
    }
    return Episode(torch.stack(inputs), torch.stack(targets), torch.tensor(mask), meta)


def bits_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """Binary cross-entropy summed over bits, per step.

    Args:
        logits: (..., 6) network output; targets: (..., 6) bits.

    Returns:
        (...) loss per step; mask it to the recall steps.
    """
    return torch.nn.functional.binary_cross_entropy_with_logits(
        logits, targets.float(), reduction="none"
    ).sum(dim=-1)


def bits_correct(logits: Tensor, targets: Tensor) -> Tensor:
    """(...) True where every bit's sign matches its target."""
    return ((logits > 0) == targets.bool()).all(dim=-1)
