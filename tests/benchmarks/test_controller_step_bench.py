"""benchmarks/controller_step.py times the three ways of running the controller."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "controller_step.py"


def test_it_prints_a_row_per_shape_with_three_timings():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--shapes", "2x9x8x4x6:ln,2x9x8x4x6", "--rounds", "1"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line.split("|")[1:-1] for line in done.stdout.splitlines()[2:]]
    assert [r[5].strip() for r in rows] == ["yes", "no"]
    assert all(float(v) > 0 for r in rows for v in r[6:9])
    assert all(r[9].count("×") == 2 for r in rows)


def test_a_bad_shape_is_one_line():
    done = subprocess.run([sys.executable, str(SCRIPT), "--shapes", "8x9"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "BxTxNxWxH" in done.stderr and "Traceback" not in done.stderr
