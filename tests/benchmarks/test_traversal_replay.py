"""benchmarks/traversal_replay.py: where a traversal model's answer steps read from."""

import importlib.util
from importlib import resources
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "traversal_replay.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("traversal_replay", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bundled_model_replays_the_query_from_memory(bench, capsys):
    model = str(resources.files("kgdnc.models") / "traversal.ckpt")
    found = bench.measure(model, lesson=4, length=6, episodes=8, seed=1)
    parts, overlap = found["parts"], found["overlap"]
    assert parts.shape == (6, 3) and overlap.shape[0] == 6 and overlap.shape[2] == 2
    assert ((overlap >= 0) & (overlap <= 1.0 + 1e-6)).all()
    # a model past the last lesson (walks to 20) answers 6-step walks, every label right
    assert (parts[:, 1] >= 0.9).all() and parts.mean() > 0.9
    # ... and reads each query step's slot in order, one head at a time
    best = overlap[:, :, 0].max(dim=1)
    assert (best.values > 0.8).all()
    assert len(set(best.indices.tolist())) == 1  # the same head at every step
    assert bench.main(["--model", model, "--lesson", "4", "--length", "3",
                       "--episodes", "4"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n| ") == 1 + 3  # the header and three answer steps
    assert "Query replayed from memory" in out


def test_other_tasks_models_are_refused(bench):
    model = str(resources.files("kgdnc.models") / "inference.ckpt")
    with pytest.raises(SystemExit, match="inference model"):
        bench.measure(model, lesson=1, length=2, episodes=2, seed=0)
