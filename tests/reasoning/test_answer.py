"""Answering with a tiny untrained model: structure and honest verdicts, not accuracy."""

import random

import pytest
import torch
from reasoning_helpers import grid_graph

from kgdnc.errors import KgdncError, UserError
from kgdnc.reasoning import answer_query, ask, parse_query, verify_draw
from kgdnc.reasoning.kinds import build_episode
from kgdnc.reasoning.verify import is_shortest_path, is_walk, reachable
from kgdnc.tasks.codec import TERMINATION

QUERIES = {
    "shortest-path": dict(to="Cell 3-3"),
    "traversal": dict(via="east,north,north"),
    "inference": dict(relation="east/north/north"),
}


@pytest.mark.parametrize("task", list(QUERIES))
def test_each_query_kind_answers_and_verifies(task, tiny_models, grid):
    a = ask("Cell 0-0", graph=grid, model=str(tiny_models[task]), **QUERIES[task])
    g = grid.to_networkx()
    q = a.query
    assert q.task == task and a.votes == 1 and a.agreement == 1.0
    assert a.memory_size >= a.n_triples == g.number_of_edges()
    assert a.focus is None
    # the verdict is the exact check of the answer itself
    if task == "shortest-path":
        assert a.correct == is_shortest_path(g, q.start, q.destination, a.answer)
        assert is_shortest_path(g, q.start, q.destination, a.expected)
        assert 1 <= len(a.answer) <= 15
    elif task == "traversal":
        assert a.correct == (a.terminated and is_walk(g, q.start, q.relations, a.answer))
        assert is_walk(g, q.start, q.relations, a.expected)
    else:
        (s, rel, end), = a.answer
        assert a.correct == (s == q.start and rel is not None
                             and end in reachable(g, q.start, q.relations))
        assert a.expected[0][2] in reachable(g, q.start, q.relations)
    d = a.to_dict()
    assert d["task"] == task and d["from"] == "Cell 0-0"
    assert all(len(t) == 3 for t in d["answer"] + d["expected"])
    lines = a.text().splitlines()
    assert lines[1] == f"answer ({'correct' if a.correct else 'WRONG'}):"
    assert ("exact answer:" in lines) == (not a.correct)  # shown beside a wrong answer only
    assert d["correct"] is a.correct and d["expected"] == a.labelled(a.expected)


@pytest.mark.parametrize("task", list(QUERIES))
def test_a_perfect_decoding_maps_back_to_a_correct_answer(task, grid):
    g = grid.to_networkx()
    q = parse_query(grid, "c00", **QUERIES[task])
    qe = build_episode(g, q, random.Random(3))
    labels = list(qe.meta["answers"])
    draw = verify_draw(g, qe, labels)
    assert draw.correct
    if task == "traversal":
        assert labels[-1] == TERMINATION
        assert draw.answer == [("c00", "east", "c10"), ("c10", "north", "c11"),
                               ("c11", "north", "c12")]
        assert not verify_draw(g, qe, labels[:-1]).correct  # no termination: wrong
    if task == "shortest-path":
        wrong = verify_draw(g, qe, labels[:-1])
        assert not wrong.correct


def test_votes_report_majority_and_agreement(tiny_models, grid):
    a = ask("c00", to="c33", graph=grid, model=str(tiny_models["shortest-path"]), votes=3)
    assert a.votes == 3 and len(a.draws) == 3
    same = sum(d.answer == a.answer for d in a.draws)
    assert a.agreement == pytest.approx(same / 3) and same >= 1
    assert a.to_dict()["votes_correct"] == sum(d.correct for d in a.draws)
    # the draws used different labels
    assert len({tuple(sorted(d.episode.node_labels.items())) for d in a.draws}) == 3


def test_same_weights_run_at_two_memory_sizes(tiny_models, grid):
    q = parse_query(grid, "c00", via="east,east")
    small = answer_query(grid, q, model=str(tiny_models["traversal"]), memory_size=32, trace=True)
    big = answer_query(grid, q, model=str(tiny_models["traversal"]), memory_size=160, trace=True)
    assert small.memory_size == 32 and big.memory_size == 160
    assert small.trace.usage.shape[-1] == 32 and big.trace.usage.shape[-1] == 160
    # 32 slots cannot hold 48 triples: a sub-graph that fits (32 - 2 query steps)
    assert small.focus is not None and small.n_triples <= 30
    assert big.focus is None and big.n_triples == 48
    with pytest.raises(UserError, match="cannot hold this query"):
        answer_query(grid, q, model=str(tiny_models["traversal"]), memory_size=2)


def test_default_memory_grows_with_the_graph(tiny_models):
    small, big = grid_graph(3), grid_graph(5)
    model = str(tiny_models["shortest-path"])
    a = ask("c00", to="c22", graph=small, model=model)
    b = ask("c00", to="c44", graph=big, model=model)
    assert a.memory_size < b.memory_size
    assert b.memory_size >= b.n_triples + 11


def test_model_of_another_task_is_refused(tiny_models, grid):
    with pytest.raises(UserError, match="trained on traversal"):
        ask("c00", to="c33", graph=grid, model=str(tiny_models["traversal"]))


def test_missing_bundled_model_says_how_to_train(monkeypatch, grid):
    from kgdnc.reasoning import models

    monkeypatch.setattr(models, "bundled_path", lambda task: None)
    with pytest.raises(KgdncError, match="kgdnc train --task shortest-path") as info:
        ask("c00", to="c33", graph=grid)
    assert "\n" not in str(info.value)


def test_trace_covers_every_step(tiny_models, grid):
    a = ask("c00", to="c33", graph=grid, model=str(tiny_models["shortest-path"]), trace=True)
    qe = a.draws[0].episode
    steps = len(qe.episode.prefix) + len(a.answer)
    assert a.trace.write_weights.shape == (1, steps, a.memory_size)
    assert a.trace.read_modes.shape[:2] == (1, steps)


@pytest.mark.slow
def test_a_100k_triple_graph_answers(tiny_models):
    from kgdnc.graphs import KnowledgeGraph

    rng = random.Random(0)
    kg = KnowledgeGraph("big")
    n = 20_000
    for i in range(n):  # a ring keeps it connected, then random chords
        kg.add_triple(f"n{i}", "next", f"n{(i + 1) % n}")
    rels = ["r1", "r2", "r3", "r4"]
    while len(kg) < 100_000:
        kg.add_triple(f"n{rng.randrange(n)}", rng.choice(rels), f"n{rng.randrange(n)}")
    torch.manual_seed(0)
    a = ask("n0", to="n5", graph=kg, model=str(tiny_models["shortest-path"]))
    assert a.focus is not None and a.focus.graph_triples == 100_000
    assert a.n_triples <= 256
    assert isinstance(a.correct, bool) and a.expected
    t = ask("n0", via="next,next,next", graph=kg, model=str(tiny_models["traversal"]))
    assert t.focus is not None and t.expected[-1][2] == "n3"
