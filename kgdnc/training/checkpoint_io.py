"""Lightning's checkpoint IO, made safe: atomic writes, ``weights_only`` reads.

Kept apart from :mod:`kgdnc.training.checkpoint` so that reading a checkpoint
imports no Lightning.
"""

from __future__ import annotations

from typing import Any

from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO

from kgdnc.training.checkpoint import atomic_save, checkpoint_meta, read_checkpoint

__all__ = ["SafeCheckpointIO"]


class SafeCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint IO that writes atomically and reads with ``weights_only=True``."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        atomic_save(checkpoint, path)

    def load_checkpoint(
        self, path: Any, map_location: Any | None = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        data = read_checkpoint(path)
        checkpoint_meta(data, path)
        return data
