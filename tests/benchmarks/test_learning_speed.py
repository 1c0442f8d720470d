"""benchmarks/learning_speed.py runs end to end in seconds on a tiny configuration."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "learning_speed.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("learning_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["learning_speed"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules["learning_speed"]


def test_tiny_run_trains_measures_resumes_and_tabulates(bench, tmp_path, capsys):
    args = ["--task", "traversal", "--configs", "base,mix-0.25", "--seeds", "0",
            "--budget", "00:01:00", "--lessons", "2", "--out", str(tmp_path), "--tiny",
            "--no-test-graph", "--episodes", "4", "--set", "threshold=0.0"]
    assert bench.main(args) == 0
    out = capsys.readouterr().out
    runs = json.loads((tmp_path / "traversal" / "results.json").read_text())
    assert [r["config"] for r in runs] == ["base", "mix-0.25"]
    for run in runs:
        # threshold 0: each check passes; the run stops once lesson 2 is passed
        assert sorted(run["passes"]) == ["1", "2"]
        for p in run["passes"].values():
            assert 0.0 <= p["final"] <= 1.0 and p["test"] is None
            assert 0.0 <= p["final_steps"] <= 1.0
    assert "| base | 1 |" in out and "| mix-0.25 | 1 |" in out
    assert "paper Final" in out and "Final (steps)" in out
    assert "trained length (steps)" in out
    assert (tmp_path / "learning_speed_traversal.png").is_file()
    config = json.loads((tmp_path / "traversal/base/seed-0/history.json").read_text())
    assert config[-1]["lesson"] == 2
    # a second invocation finds the runs done: nothing more is trained
    steps = config[-1]["step"]
    assert bench.main(args) == 0
    again = json.loads((tmp_path / "traversal/base/seed-0/history.json").read_text())
    assert again[-1]["step"] == steps


def test_trained_length_yardstick_counts_the_walks_a_lesson_covers(bench):
    import random

    from kgdnc.tasks.registry import get_task
    from kgdnc.training.data import mix_seed

    spec = get_task("traversal")
    final = spec.lessons[13]
    # by hand on lesson 1 (walks of one step): a 1-step walk's two answer steps
    # (its triple and the termination triple) right, one step of every longer walk
    eps = [spec.make_episode(final, random.Random(mix_seed(4321, i))) for i in range(30)]
    steps = [int(e.mask.sum()) for e in eps]
    right = [s if int(e.meta["length"]) <= 1 else 1 for e, s in zip(eps, steps, strict=True)]
    assert bench.trained_length_steps(1, 30) == pytest.approx(sum(right) / sum(steps))
    values = [bench.trained_length_steps(lesson, 30) for lesson in range(1, 15)]
    assert values == sorted(values)  # longer lessons cover more
    assert values[3] == values[4]  # lessons 4 and 5 both end at 4-step walks
    assert values[-1] == 1.0  # the final lesson covers every walk
    assert 0.05 < values[0] < 0.15


def test_docs_section_is_replaced_in_place(bench, tmp_path):
    md = tmp_path / "results.md"
    md.write_text("# Results\n\nintro\n")
    bench.write_docs("traversal", "table one", md)
    bench.write_docs("traversal", "table two", md)
    text = md.read_text()
    assert text.count("<!-- learning-speed:traversal -->") == 1
    assert "table two" in text and "table one" not in text and text.startswith("# Results")


def test_set_values_are_json_or_bare_strings(bench):
    assert bench.set_value("3e-4") == 3e-4
    assert bench.set_value("true") is True
    assert bench.set_value("[1, 2]") == [1, 2]
    assert bench.set_value("None") is None
    assert bench.set_value("auto") == "auto"


def test_preset_option_trains_on_that_preset(bench, tmp_path):
    import torch

    args = ["--task", "traversal", "--preset", "cpu-ln", "--configs", "base", "--seeds", "0",
            "--budget", "00:01:00", "--lessons", "1", "--out", str(tmp_path), "--tiny",
            "--no-test-graph", "--episodes", "4", "--set", "threshold=0.0"]
    assert bench.main(args) == 0
    ckpt = torch.load(tmp_path / "traversal/base/seed-0/last.ckpt", map_location="cpu",
                      weights_only=False)
    config = ckpt["hyper_parameters"]["train_config"]
    assert config["preset"] == "cpu-ln" and config["layer_norm"] is True
    assert config["hidden_size"] == 16  # --tiny still shrinks it
