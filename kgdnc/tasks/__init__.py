"""Episodes of the paper's tasks: graph description + query -> tensors (PAPER.md §2).

Works on ``networkx.MultiDiGraph`` graphs (nodes with a ``label`` attribute,
edges with a ``relation`` attribute); knows nothing of models.
"""

from kgdnc.tasks.codec import (
    INPUT_SIZE,
    N_DIGITS,
    OUTPUT_SIZE,
    TERMINATION,
    decode_logits,
    digit_log_probs,
    digit_loss,
    digits_correct,
    encode_triple,
    triple_digits,
)
from kgdnc.tasks.curriculum import (
    INFERENCE_LESSONS,
    SHORTEST_PATH_LESSONS,
    TRAVERSAL_LESSONS,
    Curriculum,
    Lesson,
)
from kgdnc.tasks.episode import Batch, Episode, collate
from kgdnc.tasks.registry import TASK_NAMES, Task, get_task
from kgdnc.tasks.shortest_path import (
    ShortestPathEpisode,
    ShortestPathRollout,
    candidate_log_probs,
    choose_next,
    optimal_nll,
)
from kgdnc.tasks.stream import EpisodeStream

__all__ = [
    "INFERENCE_LESSONS",
    "INPUT_SIZE",
    "N_DIGITS",
    "OUTPUT_SIZE",
    "SHORTEST_PATH_LESSONS",
    "TASK_NAMES",
    "TERMINATION",
    "TRAVERSAL_LESSONS",
    "Batch",
    "Curriculum",
    "Episode",
    "EpisodeStream",
    "Lesson",
    "ShortestPathEpisode",
    "ShortestPathRollout",
    "Task",
    "candidate_log_probs",
    "choose_next",
    "collate",
    "decode_logits",
    "digit_log_probs",
    "digit_loss",
    "digits_correct",
    "encode_triple",
    "get_task",
    "optimal_nll",
    "triple_digits",
]
