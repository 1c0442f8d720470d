"""Shortest-path evaluation reports the first move against a uniform choice, and the
exact answers against a walk with no plan."""

import random
from collections import defaultdict

import networkx as nx
import pytest
import torch

from kgdnc.tasks import get_task
from kgdnc.tasks.shortest_path import no_plan_success
from kgdnc.training.data import mix_seed
from kgdnc.training.evaluate import (
    _first_move_report,
    _tally_first_moves,
    evaluate,
    load_trained,
)


def _episodes(n, lesson=6, seed=3):
    spec = get_task("shortest-path")
    return [spec.make_episode(spec.lessons[lesson - 1], random.Random(mix_seed(seed, i)))
            for i in range(n)]


def test_first_moves_count_only_real_choices_and_their_chance():
    made = _episodes(30)
    choices = []
    for ep in made:
        triples, _ = ep.candidates(ep.start)
        optimal = ep.optimal(ep.start)
        choices.append(0 < len(optimal) < len(triples)
                       and (len(optimal), len(triples), ep.shortest_length))
    assert any(choices) and not all(choices)  # lesson 6 has both kinds
    counted = [c for c in choices if c]
    assert len({c[2] for c in counted}) > 1  # and more than one length
    # every first move right, and then every first move wrong
    for value in (True, False):
        first = defaultdict(lambda: [0.0, 0.0, 0.0])
        step_correct = torch.full((len(made), 3), value)
        _tally_first_moves(first, made, step_correct)
        for length, (n, right, chance) in first.items():
            mine = [c for c in counted if c[2] == length]
            assert n == len(mine) and right == (len(mine) if value else 0)
            assert abs(chance - sum(o / k for o, k, _ in mine)) < 1e-9
        report = _first_move_report(first)
        assert report["episodes"] == len(counted)
        assert report["accuracy"] == (1.0 if value else 0.0)
        assert abs(report["chance"] * len(counted) - sum(o / k for o, k, _ in counted)) < 1e-9
        assert sorted(report["by_length"]) == sorted({c[2] for c in counted})
        assert sum(m["episodes"] for m in report["by_length"].values()) == len(counted)


def test_shortest_path_eval_reports_first_moves():
    from importlib import resources

    model = resources.files("kgdnc.models") / "shortest_path.ckpt"
    report = evaluate(str(model), lesson=6, episodes=24, seed=3, batch_size=12)
    move = report.first_move
    assert move is not None and 0 < move["episodes"] <= 24
    assert 0.0 <= move["accuracy"] <= 1.0 and 0.0 < move["chance"] < 1.0
    assert "a uniform choice" in report.detail
    assert report.to_dict()["first_move"] == move
    # the same episodes tallied by hand give the same chance
    first = defaultdict(lambda: [0.0, 0.0, 0.0])
    _tally_first_moves(first, _episodes(24), torch.ones(24, 1, dtype=torch.bool))
    mine = _first_move_report(first)
    assert mine["episodes"] == move["episodes"] and abs(mine["chance"] - move["chance"]) < 1e-9
    assert move["by_length"].keys() == mine["by_length"].keys()
    # and the no-plan baseline is the mean of the episodes' own
    slack = 1 if load_trained(str(model)).config.pass_rule == "one-longer" else 0
    want = sum(no_plan_success(e.graph, e.start, e.destination, e.shortest_length + slack)
               for e in _episodes(24)) / 24
    assert abs(report.no_plan - want) < 1e-9 and report.to_dict()["no_plan"] == report.no_plan
    assert "a walk with no plan" in report.detail


def test_other_tasks_report_no_first_moves():
    from importlib import resources

    model = resources.files("kgdnc.models") / "traversal.ckpt"
    report = evaluate(str(model), lesson=1, episodes=4, seed=3)
    assert report.first_move is None and report.to_dict()["first_move"] is None
    assert report.no_plan is None


def _graph(*edges):
    g = nx.MultiDiGraph()
    for u, rel, v in edges:
        g.add_edge(u, v, relation=rel)
    return g


def test_no_plan_success_by_hand():
    # a -> b -> c, and a dead end a -> x: half the first moves
    g = _graph(("a", 1, "b"), ("b", 1, "c"), ("a", 2, "x"))
    assert no_plan_success(g, "a", "c", 2) == pytest.approx(0.5)
    assert no_plan_success(g, "b", "c", 1) == 1.0 and no_plan_success(g, "a", "c", 1) == 0.0
    # a destination one triple away is named, whatever else leaves the node
    g.add_edge("a", "c", relation=3)
    assert no_plan_success(g, "a", "c", 1) == 1.0
    # two triples to the same node are two moves: 2 of 3
    g = _graph(("a", 1, "b"), ("a", 2, "b"), ("b", 1, "c"), ("a", 3, "x"))
    assert no_plan_success(g, "a", "c", 2) == pytest.approx(2 / 3)
    # a wrong move may come back with more steps: 1/2 + 1/2 * 1/2
    g = _graph(("a", 1, "b"), ("b", 1, "c"), ("a", 2, "x"), ("x", 1, "a"))
    assert no_plan_success(g, "a", "c", 2) == pytest.approx(0.5)
    assert no_plan_success(g, "a", "c", 3) == pytest.approx(0.5)
    assert no_plan_success(g, "a", "c", 4) == pytest.approx(0.75)
    assert no_plan_success(g, "c", "a", 5) == 0.0  # unreachable
