"""benchmarks/bench_dnc.py --unroll-ab runs end to end and prints one row per shape."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_dnc.py"


def test_unroll_ab_prints_a_row_per_shape() -> None:
    out = subprocess.run([sys.executable, str(SCRIPT), "--threads", "1", "--unroll-ab", "1"],
                         capture_output=True, text=True, check=True, timeout=600).stdout
    rows = [line for line in out.splitlines() if line.startswith("| N=")]
    assert len(rows) == 3, out
    for row in rows:
        speedup = re.search(r"\| ([0-9.]+)× \|$", row)
        assert speedup is not None and float(speedup.group(1)) > 0, row
