"""The Differentiable Neural Computer (Graves et al., Nature 2016), in torch only.

``DNC(config)`` runs ``y, state = model(x, state=None)`` with x (B, T, I); the
memory size N is chosen per call through ``model.initial_state(B, memory_size)``.
See docs/dnc.md for the paper-symbol ↔ code-name table.
"""

from kgdnc.dnc.config import DNCConfig
from kgdnc.dnc.interface import Interface, split_interface
from kgdnc.dnc.memory import access_step
from kgdnc.dnc.model import DNC, LSTMBaseline, MemoryTrace
from kgdnc.dnc.state import (
    AccessState,
    ControllerState,
    DenseLinks,
    DNCState,
    LSTMState,
    SparseLinks,
    detach_state,
)

__all__ = [
    "DNC",
    "AccessState",
    "ControllerState",
    "DNCConfig",
    "DNCState",
    "DenseLinks",
    "Interface",
    "LSTMBaseline",
    "LSTMState",
    "MemoryTrace",
    "SparseLinks",
    "access_step",
    "detach_state",
    "split_interface",
]
