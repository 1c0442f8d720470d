"""Shortest-path evaluation reports the first move against a uniform choice."""

import random

import torch

from kgdnc.tasks import get_task
from kgdnc.training.data import mix_seed
from kgdnc.training.evaluate import _tally_first_moves, evaluate


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
        choices.append(0 < len(optimal) < len(triples) and (len(optimal), len(triples)))
    assert any(choices) and not all(choices)  # lesson 6 has both kinds
    # every first move right, and then every first move wrong
    for value in (True, False):
        first = [0.0, 0.0, 0.0]
        step_correct = torch.full((len(made), 3), value)
        _tally_first_moves(first, made, step_correct)
        counted = [c for c in choices if c]
        assert first[0] == len(counted)
        assert first[1] == (len(counted) if value else 0)
        assert abs(first[2] - sum(o / n for o, n in counted)) < 1e-9


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
    first = [0.0, 0.0, 0.0]
    _tally_first_moves(first, _episodes(24), torch.ones(24, 1, dtype=torch.bool))
    assert first[0] == move["episodes"] and abs(first[2] / first[0] - move["chance"]) < 1e-9


def test_other_tasks_report_no_first_moves():
    from importlib import resources

    model = resources.files("kgdnc.models") / "traversal.ckpt"
    report = evaluate(str(model), lesson=1, episodes=4, seed=3)
    assert report.first_move is None and report.to_dict()["first_move"] is None
