"""benchmarks/sparse_switch.py measures one checkpoint with dense and sparse links."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "sparse_switch.py"


@pytest.fixture
def model(tmp_path):
    from kgdnc.reasoning.finetune import write_initial_checkpoint

    return write_initial_checkpoint(tmp_path / "m.ckpt", "traversal", hidden_size=16,
                                    memory_size=16, word_size=8, read_heads=2)


def test_the_probe_checkpoint_asks_for_sparse_links(model, tmp_path):
    from kgdnc.training.checkpoint import read_checkpoint
    from kgdnc.training.trained import load_trained

    spec = importlib.util.spec_from_file_location("sparse_switch", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    data = read_checkpoint(model)
    probe = tmp_path / "probe.ckpt"
    torch.save(bench.with_sparsity(data, 2), probe)
    assert load_trained(probe).model_config.link_sparsity == 2
    assert load_trained(probe).network.config.link_sparsity == 2
    assert load_trained(model).model_config.link_sparsity is None  # the original untouched


@pytest.mark.slow
def test_dense_and_sparse_rows_for_one_checkpoint(model):
    done = subprocess.run([sys.executable, str(SCRIPT), str(model), "--lesson", "2",
                           "--episodes", "4", "--sparsity", "2"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert [r.split("|")[1].strip() for r in rows[1:]] == ["dense", "sparse K = 2"]
