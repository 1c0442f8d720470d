"""Answering imports no Lightning: a checkpoint rebuilds the plain network.

Each command runs in a fresh interpreter (this test process may have imported
Lightning already), which then lists the Lightning modules it holds.
"""

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from kgdnc.cli.main import app
try:
    for args in {commands!r}:
        app(args, standalone_mode=False)
finally:
    held = sorted(m for m in sys.modules
                  if m.split(".")[0] in ("pytorch_lightning", "lightning", "lightning_fabric",
                                         "lightning_utilities", "torchmetrics"))
    print("HELD=" + json.dumps(held))
"""


def _held(commands, home):
    """Run CLI commands in one fresh interpreter: (their output, Lightning modules held)."""
    env = {**os.environ, "KGDNC_HOME": str(home), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", PROBE.format(commands=commands)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("HELD="))
    return done.stdout, json.loads(line[len("HELD="):])


def test_answering_imports_no_lightning(tmp_path):
    out, held = _held(
        [
            ["query", "--from", "Bank", "--to", "Oxford Circus", "--json"],
            ["eval", "--model", "traversal", "--graph", "london-underground-zone1",
             "--episodes", "2", "--length", "1-2", "--json"],
        ],
        tmp_path / "home",
    )
    assert held == []
    assert '"correct"' in out and '"accuracy"' in out  # both did answer


@pytest.mark.slow
def test_a_memory_picture_imports_no_lightning(tmp_path):
    out, held = _held([["viz", "--from", "Bank", "--to", "Oxford Circus", "--out",
                        str(tmp_path / "m.png")]], tmp_path / "home")
    assert held == [] and (tmp_path / "m.png").is_file() and "wrote" in out


@pytest.mark.slow
def test_the_probe_sees_lightning_when_it_is_imported(tmp_path):
    # the check above can fail: a lesson evaluation builds the Lightning module
    _, held = _held([["eval", "--model", "traversal", "--lesson", "1", "--episodes", "2",
                      "--json"]], tmp_path / "home")
    assert "pytorch_lightning" in held
