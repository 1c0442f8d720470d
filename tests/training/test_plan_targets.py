"""The plan loss: shortest path's planning steps scored on a shortest path named
from the destination backwards (loss only, never accuracy)."""

import random

import networkx as nx
import pytest
import torch

from kgdnc.errors import UserError
from kgdnc.tasks import get_task
from kgdnc.tasks.codec import triple_digits
from kgdnc.tasks.shortest_path import backward_plan, shortest_path_episode
from kgdnc.training.presets import make_preset

TINY = dict(hidden_size=8, memory_size=8, word_size=4, read_heads=1)


def _diamond():
    """0 → {1, 2} → 3 → 4, with the detours 1 → 2 and 4 → 0 (labels 10–16)."""
    g = nx.MultiDiGraph()
    for u, r, v in [(0, 10, 1), (0, 11, 2), (1, 12, 3), (2, 13, 3), (3, 14, 4),
                    (1, 15, 2), (4, 16, 0)]:
        g.add_edge(u, v, key=r, relation=r)
    return shortest_path_episode(g, 0, 4, random.Random(0))


def test_step_k_targets_the_kth_last_triples_of_every_shortest_path():
    episode = _diamond()
    assert episode.shortest_length == 3
    digits, targets = backward_plan(episode)
    triples = sorted({(u, r, v) for u, v, r in episode.graph.edges(data="relation")})
    assert torch.equal(digits, torch.stack([triple_digits(t) for t in triples]))
    named = [{triples[i] for i in t.nonzero().flatten().tolist()} for t in targets]
    assert named == [
        {(3, 14, 4)},  # k = 1: into the destination
        {(1, 12, 3), (2, 13, 3)},  # both shortest paths
        {(0, 10, 1), (0, 11, 2)},  # k = L: the first moves
    ]
    # neither detour is on a shortest path
    assert not any(t[triples.index((1, 15, 2))] or t[triples.index((4, 16, 0))]
                   for t in targets)


def _episodes(n=3, lesson=5):
    spec = get_task("shortest-path")
    return [spec.make_episode(spec.lessons[lesson], random.Random(i)) for i in range(n)]


def _module(**overrides):
    from kgdnc.training.module import GraphTaskModule

    torch.manual_seed(0)
    return GraphTaskModule(make_preset("cpu", "shortest-path", **TINY, **overrides).to_dict())


@pytest.mark.parametrize("move_loss", ["candidates", "triple"])
def test_plan_loss_is_each_planning_step_nll_on_its_targets(move_loss):
    from kgdnc.tasks.episode import collate
    from kgdnc.tasks.shortest_path import candidate_log_probs, optimal_nll
    from kgdnc.training.rollout import plan_loss

    episodes = _episodes(3)
    net = _module().network
    prefix = collate([e.prefix for e in episodes], pad_side="left").inputs
    with torch.no_grad():
        y, _ = net(prefix, net.initial_state(3, 128))
        got = plan_loss(y, episodes, 10, move_loss=move_loss)
        for i, episode in enumerate(episodes):
            # by hand, one padded row alone: its planning is its last 10 steps
            alone, _ = net(prefix[i : i + 1], net.initial_state(1, 128))
            digits, targets = backward_plan(episode)
            mask = torch.ones(1, digits.shape[0], dtype=torch.bool)
            want = 0.0
            for k, t in enumerate(targets):
                step = prefix.shape[1] - 10 + k
                logp = candidate_log_probs(alone[:, step], digits[None], mask,
                                           renormalise=move_loss == "candidates")
                want += float(optimal_nll(logp, t[None]))
            assert len(targets) == episode.shortest_length
            assert float(got[i]) == pytest.approx(want, rel=1e-4)
            assert want > 0


@pytest.mark.parametrize("task", ["traversal", "copy"])
def test_plan_targets_are_for_shortest_path_and_inference(task):
    with pytest.raises(UserError, match="plan_targets \\(--plan-targets\\) is for shortest path"):
        make_preset("cpu", task, plan_targets=True)
    assert make_preset("cpu", "inference", plan_targets=True).plan_targets


def test_inference_planning_steps_name_the_relations_hops_one_a_step():
    from kgdnc.tasks.codec import digits_to_triple
    from kgdnc.tasks.inference import RELATIONS, inference_episode

    rel = next(r for r in RELATIONS if len(r.edges) == 3)
    # a chain 10 -> 11 -> 12 -> 13 along the relation's edges, and a side edge
    path = [(10 + k, e, 11 + k) for k, e in enumerate(rel.edges)]
    g = nx.MultiDiGraph()
    side = next(e for e in range(10) if e != rel.edges[0])
    for u, r, v in [*path, (10, side, 13)]:
        g.add_edge(u, v, key=r, relation=r)
    plain = inference_episode(g, [(10, rel)], random.Random(3))
    named = inference_episode(g, [(10, rel)], random.Random(3), plan_targets=True)
    # the same steps, answers and scores; loss-only targets on planning steps 1-3
    assert torch.equal(plain.inputs, named.inputs) and torch.equal(plain.mask, named.mask)
    assert torch.equal(plain.targets[plain.mask], named.targets[named.mask])
    assert not plain.aux.any() and not (named.aux & named.mask).any()
    query = len(path) + 1  # the description, then the query step
    assert torch.nonzero(named.aux).flatten().tolist() == [query + 1, query + 2, query + 3]
    hops = [tuple(t) for t in digits_to_triple(named.targets[named.aux]).tolist()]
    assert hops == path


def test_inference_plan_targets_reach_training_episodes_only():
    from kgdnc.training.data import episode_options

    config = make_preset("cpu", "inference", plan_targets=True)
    assert episode_options(config)["plan_targets"] is True
    assert "plan_targets" not in episode_options(config, training=False)
    spec = get_task("inference")
    lesson = spec.lessons[7]  # relations of 2-3 edges
    for seed in range(5):
        ep = spec.make_episode(lesson, random.Random(seed), plan_targets=True)
        plain = spec.make_episode(lesson, random.Random(seed))
        assert torch.equal(ep.inputs, plain.inputs) and torch.equal(ep.mask, plain.mask)
        # one target per edge of each query's relation
        assert int(ep.aux.sum()) == sum(len(r) for r in ep.meta["relations"])


def test_train_takes_plan_targets_and_a_resume_may_turn_them_off(tmp_path):
    from typer.testing import CliRunner

    from kgdnc.cli.main import app
    from kgdnc.training.checkpoint import checkpoint_meta, read_checkpoint

    out = tmp_path / "run"
    common = ["train", "--out", str(out), "--no-progress", "--batch-size", "2",
              "--check-every", "4"]
    tiny = ["--task", "shortest-path", "--hidden-size", "8", "--memory-size", "8",
            "--word-size", "4", "--read-heads", "1"]
    first = CliRunner().invoke(app, [*common, *tiny, "--max-steps", "2", "--plan-targets"])
    assert first.exit_code == 0, first.output
    meta = checkpoint_meta(read_checkpoint(out / "last.ckpt"))
    assert meta["train_config"]["plan_targets"] is True
    second = CliRunner().invoke(app, [*common, "--max-steps", "3", "--resume",
                                      "--no-plan-targets"])
    assert second.exit_code == 0, second.output
    meta = checkpoint_meta(read_checkpoint(out / "last.ckpt"))
    assert meta["train_config"]["plan_targets"] is False
