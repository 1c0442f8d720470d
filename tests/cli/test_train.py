import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from kgdnc.cli.main import app

runner = CliRunner()

TINY = [
    "--hidden-size", "16", "--word-size", "8", "--read-heads", "2", "--memory-size", "16",
    "--batch-size", "4", "--eval-episodes", "4", "--check-every", "8", "--threads", "1",
    "--no-progress",
]


def _train(out, *extra):
    return runner.invoke(app, ["train", "--out", str(out), *TINY, *extra])


def test_train_then_eval_json(tmp_path):
    out = tmp_path / "run"
    result = _train(out, "--task", "traversal", "--max-steps", "2")
    assert result.exit_code == 0, result.output
    assert (out / "last.ckpt").exists() and (out / "best.ckpt").exists()
    assert "lesson 1/14" in result.output

    result = runner.invoke(
        app, ["eval", "--model", str(out / "last.ckpt"), "--episodes", "6", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["episodes"] == 6
    assert 0.0 <= report["accuracy"] <= 1.0
    assert report["task"] == "traversal" and report["lesson"] == 1
    assert sum(row["episodes"] for row in report["by_length"].values()) == 6

    table = runner.invoke(
        app, ["eval", "--model", str(out / "last.ckpt"), "--episodes", "4", "--lesson", "3",
              "--memory-size", "40"]
    )
    assert table.exit_code == 0, table.output
    assert "episode accuracy" in table.output and "lesson 3" in table.output


def test_train_resume_continues(tmp_path):
    out = tmp_path / "run"
    assert _train(out, "--task", "inference", "--max-steps", "2").exit_code == 0
    result = runner.invoke(
        app, ["train", "--out", str(out), "--resume", "--max-steps", "4", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert "4 steps" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--task", "sorting"], "unknown task"),
        (["train", "--task", "traversal", "--model", "gru"], "unknown model"),
        (["train", "--task", "traversal", "--preset", "huge"], "unknown preset"),
        (["train", "--task", "traversal", "--max-time", "90 minutes"], "HH:MM:SS"),
        (["train", "--task", "traversal", "--devices", "two"], "devices 'two'"),
        (["train", "--task", "traversal", "--strategy", "horovod"], "strategy 'horovod'"),
        (["train", "--task", "traversal", "--max-steps", "0"], "max_steps must be"),
        (["train"], "needs a task"),
        (["train", "--task", "copy", "--aux-recall", "2"],
         "aux_recall (--aux-recall) is for the graph tasks, not copy"),
        (["train", "--task", "inference", "--aux-recall", "-1"], "aux_recall must be at least 0"),
        (["train", "--task", "traversal", "--real-choice"],
         "real_choice (--real-choice) is for shortest path only"),
        (["train", "--task", "inference", "--curriculum-stretch", "0.1"],
         "curriculum_stretch (--curriculum-stretch) is for traversal only"),
        (["train", "--task", "traversal", "--curriculum-stretch", "1"],
         "curriculum_stretch must lie in [0, 1)"),
        (["train", "--task", "traversal", "--preset", "cpu", "--stretch-reach", "2"],
         "stretch_reach (--stretch-reach) needs stretched episodes"),
        (["train", "--task", "traversal", "--stretch-reach", "0.5"],
         "stretch_reach must be at least 1"),
        (["train", "--task", "shortest-path", "--move-loss", "digits"],
         "unknown move loss 'digits'"),
        (["eval", "--model", "missing.ckpt"], "does not exist"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, args, message):
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "o")] if args[0] == "train"
                           else args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_resume_without_run_and_corrupt_checkpoint_exit_2(tmp_path):
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "none"), "--resume"])
    assert result.exit_code == 2 and "nothing to resume" in result.output
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"\x00" * 100)
    result = runner.invoke(app, ["eval", "--model", str(bad)])
    assert result.exit_code == 2 and "not a torch checkpoint" in result.output


def test_resume_from_weights_only_exits_2(tmp_path):
    from kgdnc.training.checkpoint import export_checkpoint

    out = tmp_path / "run"
    assert _train(out, "--task", "traversal", "--max-steps", "1").exit_code == 0
    # last.ckpt replaced by a weights-only copy, as a lesson pass (passed-NN.ckpt) is written
    export_checkpoint(out / "last.ckpt", out / "last.ckpt")
    result = runner.invoke(app, ["train", "--out", str(out), "--resume", "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "holds weights only" in result.output and "--init-from" in result.output
    assert "Traceback" not in result.output


def test_eval_rejects_lesson_with_graph_and_bad_lesson(tmp_path):
    out = tmp_path / "run"
    assert _train(out, "--task", "traversal", "--max-steps", "1").exit_code == 0
    ckpt = str(out / "last.ckpt")
    both = runner.invoke(app, ["eval", "--model", ckpt, "--lesson", "2", "--graph", "x"])
    assert both.exit_code == 2 and "not both" in both.output
    far = runner.invoke(app, ["eval", "--model", ckpt, "--lesson", "99"])
    assert far.exit_code == 2 and "outside 1-14" in far.output
    copy = runner.invoke(app, ["eval", "--model", ckpt, "--task", "copy"])
    assert copy.exit_code == 2


@pytest.mark.slow
def test_ddp_two_cpu_processes(tmp_path):
    """Two gloo processes train a couple of steps and agree on the checkpoint."""
    script = tmp_path / "kgdnc_cli.py"
    script.write_text("from kgdnc.cli.main import app\n\nif __name__ == '__main__':\n    app()\n")
    out = tmp_path / "ddp"
    env = {**os.environ, "PL_DISABLE_FORK": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, str(script), "train", "--task", "traversal", "--out", str(out),
           *TINY, "--max-steps", "2", "--accelerator", "cpu", "--devices", "2",
           "--strategy", "ddp"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    from kgdnc.training.checkpoint import checkpoint_meta, read_checkpoint

    data = read_checkpoint(out / "last.ckpt")
    assert data["global_step"] == 2
    # 2 ranks x 4 episodes x 2 steps
    assert checkpoint_meta(data)["examples_seen"] == 16


@pytest.mark.slow
def test_eval_on_a_bundled_graph(tmp_path):
    out = tmp_path / "run"
    assert _train(out, "--task", "traversal", "--max-steps", "1").exit_code == 0
    result = runner.invoke(
        app, ["eval", "--model", str(out / "last.ckpt"), "--graph", "london-underground",
              "--length", "7", "--episodes", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["graph"] == "london-underground" and report["episodes"] == 2
    assert list(report["by_length"]) == ["7"] and report["step_accuracy"] is None
    bad = runner.invoke(app, ["eval", "--model", str(out / "last.ckpt"), "--length", "3-1",
                              "--graph", "london-underground"])
    assert bad.exit_code == 2 and "query length '3-1'" in bad.output


def test_eval_takes_a_bundled_model_by_name():
    result = runner.invoke(
        app, ["eval", "--model", "shortest-path", "--lesson", "1", "--episodes", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["model"].endswith("shortest_path.ckpt") and report["task"] == "shortest-path"
    unknown = runner.invoke(app, ["eval", "--model", "no-such-model"])
    assert unknown.exit_code == 2 and "no model named" in unknown.output


def test_asking_for_a_missing_gpu_is_a_one_line_error(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = _train(tmp_path / "run", "--task", "traversal", "--accelerator", "gpu",
                    "--max-steps", "1")
    assert result.exit_code == 2
    assert "no CUDA device" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run" / "last.ckpt").exists()


@pytest.mark.skipif("not __import__('torch').cuda.is_available()", reason="needs a CUDA GPU")
def test_training_on_the_gpu_runs_and_resumes(tmp_path):
    out = tmp_path / "run"
    result = _train(out, "--task", "traversal", "--accelerator", "gpu", "--max-steps", "2")
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["train", "--out", str(out), "--resume", "--accelerator", "gpu",
                                 "--max-steps", "4", "--batch-size", "16", "--no-progress"])
    assert result.exit_code == 0, result.output


def test_keep_training_without_a_limit_is_a_one_line_error(tmp_path):
    result = _train(tmp_path / "run", "--task", "copy", "--keep-training")
    assert result.exit_code == 2
    assert "needs a limit" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


def test_train_takes_the_plateau_schedule_options(tmp_path):
    out = tmp_path / "run"
    result = _train(out, "--task", "traversal", "--max-steps", "4", "--lr-patience", "8",
                    "--lr-decay", "0.5", "--lr-min", "1e-4", "--lr-restart", "--lr-hold", "16",
                    "--lr-keep-lessons", "2,1")
    assert result.exit_code == 0, result.output
    history = json.loads((out / "history.json").read_text())
    assert all("lr" in h and "lr_lowered" in h for h in history)
    from kgdnc.training.checkpoint import checkpoint_meta, read_checkpoint

    config = checkpoint_meta(read_checkpoint(out / "last.ckpt"))["train_config"]
    assert (config["lr_patience"], config["lr_decay"], config["lr_min"]) == (8, 0.5, 1e-4)
    assert config["lr_restart"] is True and config["lr_hold"] == 16
    assert list(config["lr_keep_lessons"]) == [1, 2]
    wrong = _train(tmp_path / "wrong", "--task", "traversal", "--max-steps", "2",
                   "--lr-patience", "8", "--lr-keep-lessons", "two")
    assert wrong.exit_code == 2 and "--lr-keep-lessons 'two'" in wrong.output
    assert "Traceback" not in wrong.output and not (tmp_path / "wrong").exists()
    bad = _train(tmp_path / "bad", "--task", "traversal", "--max-steps", "2",
                 "--lr-decay", "1.5")
    assert bad.exit_code == 2 and "lr_decay must lie in (0, 1)" in bad.output
    assert "Traceback" not in bad.output
