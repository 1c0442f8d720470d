"""Checkpoint files: atomic writes, safe reads, and what they hold.

A kgdnc checkpoint is a Lightning checkpoint (``state_dict``, optimiser and
loop states, callbacks' states) plus one entry, ``checkpoint["kgdnc"]``, with
everything needed to rebuild the trained network, its task and its codec with
no other file::

    {"format": "kgdnc-checkpoint", "version": 1, "kgdnc_version": "0.1.0",
     "train_config": {...},   # TrainConfig as a plain dict
     "model_config": {...},   # DNCConfig as a plain dict
     "task": "traversal",
     "codec": {"input_size": 92, "output_size": 90, "n_digits": 9, "base": 10},
     "curriculum": {...},     # the curriculum's state_dict (lesson, history)
     "examples_seen": 123456, "wall_time_s": 812.0,
     "history": [{"lesson": 1, "accuracy": 0.95, "step": 4300, ...}, ...]}

Only plain containers, numbers, strings and tensors are stored, so files are
read with ``torch.load(..., weights_only=True)``: loading a checkpoint never
executes pickled code. Files are written to a temporary path and renamed, so a
crash never leaves a half-written checkpoint.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from kgdnc.atomic import write_file
from kgdnc.errors import UserError

FORMAT = "kgdnc-checkpoint"
FORMAT_VERSION = 1
META_KEY = "kgdnc"

# Parts of a Lightning checkpoint that only resuming needs.
_TRAINING_ONLY = ("optimizer_states", "lr_schedulers", "loops", "callbacks")


def atomic_save(obj: Any, path: str | os.PathLike[str]) -> Path:
    """``torch.save`` to ``path`` atomically (:func:`kgdnc.atomic.write_file`)."""
    return write_file(path, lambda handle: torch.save(obj, handle))


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint file safely (``weights_only=True``) onto the CPU.

    Raises:
        UserError: the file is missing, unreadable, corrupt, or holds objects
            that are not plain data (a foreign or hostile pickle).
    """
    file = Path(path)
    if not file.is_file():
        raise UserError(
            f"checkpoint {str(file)!r} does not exist; pass a .ckpt written by kgdnc train"
        )
    hint = "pass a .ckpt written by kgdnc train"
    if not zipfile.is_zipfile(file):
        raise UserError(
            f"{str(file)!r} is not a torch checkpoint (corrupt or another format); {hint}"
        )
    try:
        data = torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise UserError(
            f"{str(file)!r} holds objects other than tensors and plain data, refused "
            f"(loading them could run code); {hint}"
        ) from None
    except Exception as exc:  # torch raises many kinds for damaged files
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:100]
        raise UserError(f"cannot read checkpoint {str(file)!r} ({reason}); {hint}") from None
    if not isinstance(data, dict):
        raise UserError(f"{str(file)!r} is not a kgdnc checkpoint; {hint}")
    return data


def checkpoint_meta(
    data: dict[str, Any], path: str | os.PathLike[str] = "checkpoint"
) -> dict[str, Any]:
    """The ``kgdnc`` entry of a loaded checkpoint, checked.

    Raises:
        UserError: the entry is missing (a foreign checkpoint) or of another format version.
    """
    meta = data.get(META_KEY)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise UserError(
            f"{str(path)!r} is not a kgdnc checkpoint (no kgdnc metadata); "
            "pass a .ckpt written by kgdnc train"
        )
    if meta.get("version") != FORMAT_VERSION:
        raise UserError(
            f"{str(path)!r} has checkpoint format version {meta.get('version')!r}, "
            f"this kgdnc reads version {FORMAT_VERSION}; retrain or use a matching kgdnc"
        )
    for key in ("train_config", "model_config", "task"):
        if key not in meta:
            raise UserError(
                f"{str(path)!r} lacks {key!r} in its kgdnc metadata; the file is damaged"
            )
    if "state_dict" not in data or not isinstance(data["state_dict"], dict):
        raise UserError(f"{str(path)!r} holds no weights (state_dict); the file is damaged")
    return meta


def export_checkpoint(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> Path:
    """Write a shippable copy of ``src``: weights and metadata, no optimiser or loop state.

    The copy loads with :func:`kgdnc.training.trained.load_trained` like the original,
    but cannot resume training.
    """
    data = read_checkpoint(src)
    checkpoint_meta(data, src)
    slim = {k: v for k, v in data.items() if k not in _TRAINING_ONLY}
    return atomic_save(slim, dst)
