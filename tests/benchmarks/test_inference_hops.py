"""benchmarks/inference_hops.py: where an inference model's planning steps read from."""

import importlib.util
from importlib import resources
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "inference_hops.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("inference_hops", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bundled_model_reads_one_hop_a_planning_step(bench, capsys):
    model = str(resources.files("kgdnc.models") / "inference.ckpt")
    found = bench.measure(model, lesson=2, episodes=8, seed=1)
    # lesson 2 asks relations of two edges, and the bundled model answers nearly all
    assert set(found) <= {(2, True), (2, False)}
    count, mean = found[(2, True)]
    assert count >= 20 and mean.shape == (12, 2)  # query, 10 planning steps, answer
    assert ((mean >= 0) & (mean <= 1.0 + 1e-6)).all()
    # trained with the hops named while planning, it reads one hop a step, from the
    # query step or the first planning step on
    first, second = int(mean[:, 0].argmax()), int(mean[:, 1].argmax())
    assert first <= 1 and mean[first, 0] > 0.4
    assert second == first + 1 and mean[second, 1] > 0.8
    assert bench.main(["--model", model, "--lesson", "2", "--episodes", "4"]) == 0
    out = capsys.readouterr().out
    assert "relations of 2 edges, answers right" in out and "| 1 | " in out


def test_other_tasks_models_are_refused(bench):
    model = str(resources.files("kgdnc.models") / "traversal.ckpt")
    with pytest.raises(SystemExit, match="is a traversal model"):
        bench.measure(model, lesson=1, episodes=2, seed=0)
