"""benchmarks/backward_lookup.py: look-ups asked after the answer, scored against a uniform pick."""

import dataclasses
import importlib.util
import random
from importlib import resources
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "backward_lookup.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("backward_lookup", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lookups_are_counted_and_scored_against_a_uniform_pick(script):
    model = str(resources.files("kgdnc.models") / "shortest_path.ckpt")
    result = script.backward_lookup(model, lesson=1, episodes=4, blocks=2, batch_size=3)
    assert result["asked"] == 8
    assert 0.0 <= result["right"] <= 1.0 and 0.0 < result["uniform"] < 1.0
    assert result["loss"] > 0.0
    # the same draws again give the same figures
    assert script.backward_lookup(model, lesson=1, episodes=4, blocks=2, batch_size=3) == result


def test_a_network_that_names_the_node_itself_is_right_every_time(script, monkeypatch):
    """A stand-in network whose answer puts all weight on a triple into the asked
    node: every look-up is right."""
    from kgdnc.tasks.codec import triple_digits

    model = str(resources.files("kgdnc.models") / "shortest_path.ckpt")
    real = script.predecessor_recall

    def recall(episode, blocks, rng):
        drawn = real(episode, blocks, random.Random(0))
        triples = sorted({(u, r, v) for u, v, r in episode.graph.edges(data="relation")})
        recall.wanted.append([triples[int(t.nonzero()[0])] for t in drawn.targets])
        return drawn

    recall.wanted = []
    monkeypatch.setattr(script, "predecessor_recall", recall)
    trained = script.load_trained(model)

    class Oracle(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = trained.network

        def initial_state(self, *args):
            return self.inner.initial_state(*args)

        def forward(self, x, state):
            y, state = self.inner(x, state)
            if x.shape[1] > 1 and recall.wanted:  # the look-ups: answer with the wanted triple
                wanted = recall.wanted[-x.shape[0]:]
                y = torch.full_like(y, -30.0).view(*y.shape[:2], 9, 10)
                for i, triples in enumerate(wanted):
                    for k, triple in enumerate(triples):
                        y[i, 2 * k + 1].scatter_(-1, triple_digits(triple)[:, None], 30.0)
                y = y.view(*y.shape[:2], 90)
            return y, state

    oracle = dataclasses.replace(trained, network=Oracle())
    monkeypatch.setattr(script, "load_trained", lambda path: oracle)
    result = script.backward_lookup(model, lesson=6, episodes=3, blocks=2, batch_size=3)
    assert result["right"] == 1.0 and result["loss"] < 1e-3
