"""Training and evaluation with PyTorch Lightning (see docs/training.md).

- :func:`train_run` / :class:`RunOptions`: one training run (``kgdnc train``).
- :func:`evaluate` / :class:`EvalReport`: accuracy on fresh episodes (``kgdnc eval``).
- :func:`load_trained` / :class:`Trained`: rebuild a checkpoint's plain network, safely,
  without Lightning.
- :func:`make_preset` / :class:`TrainConfig`: the ``paper`` and ``cpu`` presets.
- :class:`GraphTaskModule`, :class:`EpisodeDataModule`, :class:`CurriculumCallback`:
  the Lightning pieces.
- :func:`export_checkpoint`: a slim copy of a checkpoint for shipping.

Names are imported on first use, so ``import kgdnc.training.presets`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TrainConfig": "kgdnc.training.presets",
    "make_preset": "kgdnc.training.presets",
    "PRESETS": "kgdnc.training.presets",
    "RunOptions": "kgdnc.training.run",
    "TrainResult": "kgdnc.training.run",
    "train_run": "kgdnc.training.run",
    "EvalReport": "kgdnc.training.evaluate",
    "Trained": "kgdnc.training.trained",
    "evaluate": "kgdnc.training.evaluate",
    "load_trained": "kgdnc.training.trained",
    "export_checkpoint": "kgdnc.training.checkpoint",
    "read_checkpoint": "kgdnc.training.checkpoint",
    "GraphTaskModule": "kgdnc.training.module",
    "EpisodeDataModule": "kgdnc.training.data",
    "CurriculumCallback": "kgdnc.training.callbacks",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kgdnc.training' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
