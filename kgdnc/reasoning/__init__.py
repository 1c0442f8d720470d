"""Answer users' queries on their graphs with a trained DNC, and check every answer.

``ask("Bank", to="Oxford Circus")`` resolves the names, builds the episode as in
training (random labels, random order; a query-focused sub-graph for big
graphs), runs the model, maps its triples back to the graph's names and checks
them against the exact answer computed with networkx.
"""

from kgdnc.reasoning.answer import answer_query, ask, run_draws, verify_draw
from kgdnc.reasoning.episodes import DEFAULT_MAX_TRIPLES, Draw, Focus, QueryEpisode
from kgdnc.reasoning.kinds import KINDS, QueryKind, build_episode, kind_of, sample_query
from kgdnc.reasoning.models import (
    ModelEntry,
    list_models,
    load_model,
    model_info,
    resolve_model,
    save_model,
)
from kgdnc.reasoning.query import Query, parse_query
from kgdnc.reasoning.result import Answer

__all__ = [
    "DEFAULT_MAX_TRIPLES",
    "KINDS",
    "Answer",
    "Draw",
    "Focus",
    "ModelEntry",
    "Query",
    "QueryEpisode",
    "QueryKind",
    "answer_query",
    "ask",
    "build_episode",
    "kind_of",
    "list_models",
    "load_model",
    "model_info",
    "parse_query",
    "resolve_model",
    "run_draws",
    "sample_query",
    "save_model",
    "verify_draw",
]
