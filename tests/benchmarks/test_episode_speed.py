"""benchmarks/episode_speed.py times the task generators and prints a table."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "episode_speed.py"


def test_it_prints_a_row_per_task_and_lesson():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--tasks", "traversal,shortest-path", "--lessons", "1,2",
         "--episodes", "3", "--repeats", "1"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line.split("|")[1:-1] for line in done.stdout.splitlines()[2:]]
    assert [(r[0].strip(), int(r[1])) for r in rows] == [
        ("traversal", 1), ("traversal", 2), ("shortest-path", 1), ("shortest-path", 2)]
    assert all(float(r[2]) > 0 and float(r[3]) > 0 for r in rows)
