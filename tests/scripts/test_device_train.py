"""The prepared GPU run works end to end here, on the CPU, in its tiny mode."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def campaign(tmp_path):
    """Two tiny campaign runs (traversal, inference) to continue, in their campaign folders."""
    from kgdnc.training.run import RunOptions, train_run

    runs = tmp_path / "runs"
    tiny = (("hidden_size", 8), ("memory_size", 8), ("word_size", 4), ("read_heads", 1),
            ("batch_size", 2), ("check_every", 2))
    for task in ("traversal", "inference"):
        train_run(RunOptions(task=task, out=runs / f"{task}-cpu-ln", max_steps=2, progress=False,
                             overrides=tiny))
    return runs


@pytest.mark.slow  # five processes each import torch and Lightning: minutes on 2 shared cores
def test_device_script_tiny_mode_continues_each_run_and_writes_its_files(campaign, tmp_path):
    out = tmp_path / "out"
    before = {t: json.loads((campaign / f"{t}-cpu-ln" / "history.json").read_text())[-1]["examples"]
              for t in ("traversal", "inference")}
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "device_train.sh"), "--tiny", "--runs", str(campaign),
         "--work", str(tmp_path / "work"), "--budget", "00:00:03"],
        env={**os.environ, "OUT": str(out)}, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    files = sorted(p.name for p in out.iterdir())
    assert files == ["device.log", "inference-history.json", "inference-last.ckpt",
                     "levers.tar.gz", "traversal-history.json", "traversal-last.ckpt"]
    assert len(files) <= 8 and all((out / f).stat().st_size < 16 * 2**20 for f in files)
    assert "shortest-path: no" in (out / "device.log").read_text()
    assert "examples/s" in result.stdout
    for task in ("traversal", "inference"):
        after = json.loads((out / f"{task}-history.json").read_text())[-1]["examples"]
        assert after > before[task]  # it trained on from the committed state
    # --fetch brings them home
    home = tmp_path / "home"
    subprocess.run(["python", str(ROOT / "scripts" / "device_train.py"), "--fetch", str(out),
                    "--runs", str(home)], check=True, capture_output=True, timeout=120)
    assert (home / "traversal-cpu-ln" / "last.ckpt").is_file()
    assert (home / "device-levers" / "levers").is_dir()


def test_device_script_without_a_gpu_says_so(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = subprocess.run(
        ["python", str(ROOT / "scripts" / "device_train.py"), "--out", str(tmp_path),
         "--runs", str(tmp_path / "none")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2 and "no CUDA device" in result.stderr


def test_a_completed_run_is_skipped(tmp_path):
    """A run whose history says the curriculum is completed is not continued."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import device_train
    finally:
        sys.path.pop(0)
    run = tmp_path / "traversal-cpu-ln"
    run.mkdir()
    (run / "history.json").write_text(json.dumps([{"lesson": 14, "completed": False}]))
    assert not device_train.completed(run)
    (run / "history.json").write_text(json.dumps([{"lesson": 14, "completed": True}]))
    assert device_train.completed(run)
    assert not device_train.completed(tmp_path / "none")
    assert device_train.CAMPAIGN["shortest-path"] == "shortest-path-cpu-ln"
