"""Episodes of the paper's tasks: graph description + query -> tensors (PAPER.md §2).

Works on ``networkx.MultiDiGraph`` graphs (nodes with a ``label`` attribute,
edges with a ``relation`` attribute); knows nothing of models.

Names are imported on first use, so answering a query loads only the task
modules it needs (not the registry, the copy task or the episode streams).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "INPUT_SIZE": "kgdnc.tasks.codec",
    "N_DIGITS": "kgdnc.tasks.codec",
    "OUTPUT_SIZE": "kgdnc.tasks.codec",
    "TERMINATION": "kgdnc.tasks.codec",
    "decode_logits": "kgdnc.tasks.codec",
    "digit_log_probs": "kgdnc.tasks.codec",
    "digit_loss": "kgdnc.tasks.codec",
    "digits_correct": "kgdnc.tasks.codec",
    "encode_triple": "kgdnc.tasks.codec",
    "triple_digits": "kgdnc.tasks.codec",
    "INFERENCE_LESSONS": "kgdnc.tasks.curriculum",
    "SHORTEST_PATH_LESSONS": "kgdnc.tasks.curriculum",
    "TRAVERSAL_LESSONS": "kgdnc.tasks.curriculum",
    "Curriculum": "kgdnc.tasks.curriculum",
    "Lesson": "kgdnc.tasks.curriculum",
    "Batch": "kgdnc.tasks.episode",
    "Episode": "kgdnc.tasks.episode",
    "collate": "kgdnc.tasks.episode",
    "TASK_NAMES": "kgdnc.tasks.registry",
    "Task": "kgdnc.tasks.registry",
    "get_task": "kgdnc.tasks.registry",
    "ShortestPathEpisode": "kgdnc.tasks.shortest_path",
    "ShortestPathRollout": "kgdnc.tasks.shortest_path",
    "candidate_log_probs": "kgdnc.tasks.shortest_path",
    "choose_next": "kgdnc.tasks.shortest_path",
    "optimal_nll": "kgdnc.tasks.shortest_path",
    "EpisodeStream": "kgdnc.tasks.stream",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kgdnc.tasks' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
