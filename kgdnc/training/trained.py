"""A trained network rebuilt from its checkpoint alone, and the memory it gets per episode.

As nanoGPT's ``sample.py`` does: the checkpoint's saved configuration
(:class:`DNCConfig`, :class:`TrainConfig`) rebuilds a plain ``DNC`` (or the
``LSTMBaseline``) and its weights are loaded into it. No Lightning module is
imported, so answering a query costs no more than importing torch; Lightning is
for training only (:mod:`kgdnc.training.module` wraps the same network).

Memory sizing, the one rule and its inverse: an episode of T steps gets one
slot per step, rounded up to a multiple of 8, never fewer than the N the model
was trained with (:func:`memory_size_for`); a memory of N slots holds a
description of N minus the episode's other steps (:func:`description_budget`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from kgdnc.dnc import DNC, DNCConfig, LSTMBaseline
from kgdnc.errors import UserError
from kgdnc.training.checkpoint import checkpoint_meta, read_checkpoint
from kgdnc.training.presets import TrainConfig

__all__ = [
    "Network",
    "Trained",
    "build_network",
    "description_budget",
    "load_trained",
    "memory_size_for",
    "round_up",
]

Network = DNC | LSTMBaseline
SLOT_MULTIPLE = 8


def round_up(value: int, multiple: int = SLOT_MULTIPLE) -> int:
    """``value`` rounded up to a multiple of ``multiple``."""
    return -(-value // multiple) * multiple


def memory_size_for(steps: int, least: int) -> int:
    """N for an episode of ``steps`` steps: one slot per step, rounded up to a
    multiple of 8, never fewer than ``least`` (the N the model was trained with)."""
    return max(int(least), round_up(int(steps)))


def description_budget(memory_size: int, other_steps: int) -> int:
    """The inverse of :func:`memory_size_for`: how many description steps (triples)
    a memory of ``memory_size`` slots holds beside ``other_steps`` other steps
    (query and planning). Below 1, the memory cannot hold the query at all."""
    return int(memory_size) - int(other_steps)


def build_network(model: str, config: DNCConfig) -> Network:
    """``DNC(config)`` for ``model == "dnc"``, ``LSTMBaseline(config)`` for ``"lstm"``."""
    return DNC(config) if model == "dnc" else LSTMBaseline(config)


@dataclass(frozen=True)
class Trained:
    """A checkpoint's network, ready to answer (eval mode, on the CPU).

    Attributes:
        network: the plain ``DNC`` or ``LSTMBaseline``.
        config: the run's :class:`TrainConfig`.
        model_config: the network's :class:`DNCConfig`.
        meta: the checkpoint's ``kgdnc`` metadata (curriculum, history, ...).
        path: where it came from.
    """

    network: Network
    config: TrainConfig
    model_config: DNCConfig
    meta: dict[str, Any]
    path: Path

    @property
    def task(self) -> str:
        return str(self.meta["task"])

    @property
    def lesson(self) -> int:
        """The curriculum lesson the run was on (1-based)."""
        curriculum = self.meta.get("curriculum") or {}
        return int(curriculum.get("position", self.meta.get("lesson", 0))) + 1

    @property
    def has_memory(self) -> bool:
        """False for the LSTM baseline (nothing to size, nothing to picture)."""
        return isinstance(self.network, DNC)

    def memory_size_for(self, steps: int) -> int:
        """N for an episode of ``steps`` steps (see :func:`memory_size_for`)."""
        return memory_size_for(steps, self.model_config.memory_size)


def _network_weights(state: dict[str, Any]) -> dict[str, Any]:
    """The network's part of a checkpoint's ``state_dict`` (keys ``network.*``)."""
    prefix = "network."
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def load_trained(path: str | os.PathLike[str]) -> Trained:
    """Rebuild the network of a checkpoint from the checkpoint alone (no pickled code
    runs, no Lightning is imported).

    The network is built on the ``meta`` device (shapes, no values) and takes the
    checkpoint's tensors as its parameters: no initialisation that the weights
    would overwrite, no copy of them.

    Raises:
        UserError: missing, corrupt or foreign file; weights that do not fit
            the stored configuration.
    """
    file = Path(path)
    data = read_checkpoint(file)
    meta = checkpoint_meta(data, file)
    try:
        config = TrainConfig.from_dict(meta["train_config"])
        # answering runs the eager step: the fused one is for training and would
        # cost a compiler and a first build on a fresh machine
        model_config = replace(DNCConfig.from_dict(meta["model_config"]), fused="off")
        with torch.device("meta"):
            network = build_network(str(meta.get("model", config.model)), model_config)
    except (TypeError, ValueError, UserError) as exc:
        raise UserError(
            f"{str(file)!r} holds a configuration this kgdnc cannot build ({exc})"
        ) from None
    try:
        network.load_state_dict(_network_weights(data["state_dict"]), strict=True, assign=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise UserError(
            f"{str(file)!r}: weights do not match the stored configuration ({first})"
        ) from None
    network.eval()
    return Trained(network, config, model_config, meta, file)
