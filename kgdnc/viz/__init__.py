"""Pictures of the DNC's memory while it answers a query (matplotlib, Agg backend)."""

from kgdnc.viz.memory import MemoryPicture, Phase, memory_picture, picture_data, read_hits

__all__ = ["MemoryPicture", "Phase", "memory_picture", "picture_data", "read_hits"]
