"""Episodes as tensors, and batches of them padded with masks.

An episode is one input sequence with its targets: ``inputs`` (T, I), ``targets``
(T, K) (digit classes for the graph tasks, bits for copy), ``mask`` (T,), True
on the answer steps, the steps that carry loss and are scored, and ``aux`` (T,),
True on loss-only answer steps (the recall blocks of the auxiliary recall loss,
Park et al. 2020), never scored.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import torch
from torch import Tensor

from kgdnc.tasks.codec import (
    decode_logits,
    decode_nodes,
    described_nodes,
    digit_rows,
    encode_rows,
    input_row,
    target_row,
)

__all__ = ["Batch", "Episode", "EpisodeBuilder", "collate", "decode_answers", "episode_rng"]


def episode_rng(rng: random.Random | int) -> tuple[random.Random, int | None]:
    """The generator for one episode and the seed to record in its ``meta``.

    An int is a seed (the episode is then reproducible from ``meta["seed"]``); a
    ``random.Random`` is used as given (``meta["seed"]`` is None).
    """
    if isinstance(rng, random.Random):
        return rng, None
    if isinstance(rng, int) and not isinstance(rng, bool):
        return random.Random(rng), rng
    raise TypeError(f"expected a random.Random or an int seed, got {type(rng).__name__}")


@dataclass
class Episode:
    """One episode.

    Attributes:
        inputs: FloatTensor (T, I), I = 92 for the graph tasks (x_t).
        targets: LongTensor (T, K), K = 9 digit classes for the graph tasks (z_t);
            zeros on non-answer steps.
        mask: BoolTensor (T,), True on answer steps (loss, accuracy, answers).
        aux: BoolTensor (T,), True on loss-only answer steps (recall blocks): they
            carry loss in training but are never scored; all False by default.
        meta: ``task``, ``lesson`` (the lesson's index), ``seed`` (int, or None when
            the episode was made from a caller's ``random.Random``), ``answers``
            (the target triples in label space, in answer-step order), ``length``
            (what accuracy is broken down by) and task-specific keys.
    """

    inputs: Tensor
    targets: Tensor
    mask: Tensor
    meta: dict[str, Any] = field(default_factory=dict)
    aux: Tensor = field(default=None)  # type: ignore[assignment]  # None -> all False

    def __post_init__(self) -> None:
        if self.aux is None:
            self.aux = torch.zeros(self.inputs.shape[0], dtype=torch.bool)

    def __len__(self) -> int:
        return int(self.inputs.shape[0])


class Batch(NamedTuple):
    """Padded episodes.

    Attributes:
        inputs: (B, T, I) x, zeros on padding.
        targets: (B, T, K) z, zeros on padding.
        mask: (B, T) True on answer steps, False on padding.
        lengths: (B,) each episode's true length.
        lessons: (B,) each episode's lesson number (``meta["lesson"]``, 0 when
            unknown), or None.
        aux: (B, T) True on loss-only answer steps, False on padding, or None
            (none). The training loss counts ``mask | aux``; scores ``mask`` only.
    """

    inputs: Tensor
    targets: Tensor
    mask: Tensor
    lengths: Tensor
    lessons: Tensor | None = None
    aux: Tensor | None = None

    def loss_mask(self) -> Tensor:
        """(B, T) the steps that carry loss: answer steps and loss-only steps."""
        return self.mask if self.aux is None else self.mask | self.aux


def collate(episodes: Sequence[Episode], pad_side: Literal["right", "left"] = "right") -> Batch:
    """Stack episodes into a batch, padding to the longest with zeros, mask and aux False.

    ``pad_side="left"`` puts the padding first so that all episodes end on the same
    step (what the shortest-path prefix needs before the interactive answer).
    """
    if not episodes:
        raise ValueError("collate needs at least one episode")
    b = len(episodes)
    t = max(len(e) for e in episodes)
    i = episodes[0].inputs.shape[-1]
    k = episodes[0].targets.shape[-1]
    inputs = torch.zeros(b, t, i, dtype=episodes[0].inputs.dtype)
    targets = torch.zeros(b, t, k, dtype=torch.long)
    mask = torch.zeros(b, t, dtype=torch.bool)
    aux = torch.zeros(b, t, dtype=torch.bool)
    lengths = torch.tensor([len(e) for e in episodes], dtype=torch.long)
    for n, e in enumerate(episodes):
        length = len(e)
        sl = slice(0, length) if pad_side == "right" else slice(t - length, t)
        inputs[n, sl] = e.inputs
        targets[n, sl] = e.targets
        mask[n, sl] = e.mask
        aux[n, sl] = e.aux
    lessons = torch.tensor([int(e.meta.get("lesson") or 0) for e in episodes], dtype=torch.long)
    return Batch(inputs, targets, mask, lengths, lessons, aux)


def decode_answers(logits: Tensor, episodes: Sequence[Episode], decode: str = "digits") -> Tensor:
    """The labels a batch's outputs spell, (B, T, 3): each digit's mode
    (``digits``), or sources and destinations among each episode's described
    nodes (``nodes``, :func:`~kgdnc.tasks.codec.decode_nodes`).

    Args:
        logits: (B, T, 90) outputs of the collated ``episodes``.
        episodes: the batch's episodes, in order (their descriptions give the nodes).
        decode: ``digits`` or ``nodes`` (checked by ``codec.check_decode``).
    """
    if decode != "nodes":
        return decode_logits(logits)
    return torch.stack([decode_nodes(logits[i], described_nodes(e.inputs, e.meta["n_triples"]))
                        for i, e in enumerate(episodes)])


class EpisodeBuilder:
    """Appends graph-task steps one at a time and builds an :class:`Episode`."""

    _NO_TARGET = (0, 0, 0)  # digits all 0, as the targets of steps without an answer

    def __init__(self) -> None:
        self._inputs: list[tuple[int, ...]] = []  # rows of codec.input_row
        self._targets: list[tuple[int, int, int]] = []  # rows of codec.target_row
        self._mask: list[bool] = []
        self._aux: list[bool] = []

    def __len__(self) -> int:
        """Steps added so far."""
        return len(self._inputs)

    def add(
        self,
        triple: Sequence[int | None] = (None, None, None),
        *,
        phase: bool = False,
        answer: bool = False,
        target: Sequence[int] | None = None,
        aux: bool = False,
    ) -> None:
        """One step: input triple and flags; ``target`` makes it an answer step,
        scored, or with ``aux`` a loss-only one (never scored)."""
        if aux and target is None:
            raise ValueError("a loss-only step needs a target")
        self._inputs.append(input_row(triple, phase=phase, answer=answer))
        self._targets.append(self._NO_TARGET if target is None else target_row(target))
        self._mask.append(target is not None and not aux)
        self._aux.append(aux)

    def describe(self, triples: Sequence[tuple[int, int, int]]) -> None:
        """The graph description phase: one triple per step, no flags."""
        for triple in triples:
            self.add(triple)

    def plan(self, steps: int, targets: Sequence[tuple[int, int, int]] = ()) -> None:
        """A planning phase: blank steps, flag 0 on the first; step k's loss-only
        target is ``targets[k - 1]`` while there are targets (never scored)."""
        for s in range(steps):
            target = targets[s] if s < len(targets) else None
            self.add(phase=s == 0, target=target, aux=target is not None)

    def recall(
        self, triples: Sequence[tuple[int, int, int]], blocks: int, rng: random.Random
    ) -> list[tuple[int, int, int]]:
        """Recall blocks of the auxiliary recall loss (Park et al. 2020), laid out as a
        one-step traversal query: ``(s, e, _)`` with flag 0 on, then a blank step with
        flags 0 and 1 on whose loss-only target is the stored triple ``(s, e, d)``.

        The triples are drawn uniformly from ``triples`` (the description) with
        ``rng``, distinct while there are enough, among those whose ``(s, e)`` names
        one triple (all of them when none does). ``blocks == 0`` draws nothing.

        Returns:
            The recalled triples, in block order.
        """
        if blocks <= 0 or not triples:
            return []
        pairs: dict[tuple[int, int], int] = {}
        for s, e, _ in triples:
            pairs[s, e] = pairs.get((s, e), 0) + 1
        pool = [t for t in triples if pairs[t[0], t[1]] == 1] or list(triples)
        chosen: list[tuple[int, int, int]] = []
        while len(chosen) < blocks:
            chosen += rng.sample(pool, min(len(pool), blocks - len(chosen)))
        for s, e, d in chosen:
            self.add((s, e, None), phase=True)
            self.add(phase=True, answer=True, target=(s, e, d), aux=True)
        return chosen

    def build(self, meta: dict[str, Any]) -> Episode:
        """The episode of the steps added so far, encoded all at once."""
        inputs = encode_rows(self._inputs)
        targets = digit_rows(self._targets)
        mask = torch.tensor(self._mask, dtype=torch.bool)
        return Episode(inputs, targets, mask, meta, torch.tensor(self._aux, dtype=torch.bool))
