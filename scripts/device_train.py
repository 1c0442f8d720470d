"""Continue the training campaign on a machine with a GPU, for a fixed budget.

What it does, in one command of at most ten minutes (see ``device_train.sh``):

1. checks that torch sees a CUDA device (unless ``--tiny``);
2. copies each unfinished campaign run ``RUNS/<folder>/`` (``CAMPAIGN`` names
   the folder of each task; last.ckpt, history.json) to a work folder and
   resumes it there with ``kgdnc train --resume`` on the GPU, at a batch that
   keeps the GPU busy, with DataLoader workers making the episodes on the CPU
   cores, all runs at once, for ``--budget``;
3. beside them, on the remaining CPU cores, runs more seeds of the
   learning-speed levers (``benchmarks/learning_speed.py``, one thread each);
4. writes to ``OUT``: ``<task>-last.ckpt`` and ``<task>-history.json`` per
   run, ``levers.tar.gz`` and ``device.log`` (at most 8 files), and prints the
   examples per second of each run.

Bring the results home with ``python scripts/device_train.py --fetch FOLDER``
(FOLDER: where the device tool put the files), which copies the checkpoints and
histories into ``RUNS/<folder>/``.

``--tiny`` runs the same steps on the CPU for a few seconds (what the tests do).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASKS = ("traversal", "shortest-path", "inference")
# The campaign's run of each task, a folder under RUNS: the cpu-ln preset's runs,
# which learn several times faster per example than the first runs.
CAMPAIGN = {task: f"{task}-cpu-ln" for task in TASKS}
# GPU batch per task: large enough to fill the GPU's launches, small enough that
# the per-episode memory (links are B x N x N) stays far below its memory.
GPU_BATCH = {"traversal": 64, "shortest-path": 32, "inference": 64}
LEVERS = ("base", "mask-0.1", "word-64", "layer-norm", "memory-init", "bypass-dropout",
          "mix-0.25", "batch-2")


def log(line: str, file: Path) -> None:
    print(line, flush=True)
    with file.open("a") as handle:
        handle.write(line + "\n")


def history(run: Path) -> list[dict]:
    file = run / "history.json"
    return json.loads(file.read_text()) if file.is_file() else []


def completed(run: Path) -> bool:
    """Whether a run's last check passed the final lesson of its curriculum."""
    h = history(run)
    return bool(h) and bool(h[-1].get("completed"))


def progress(run: Path) -> tuple[int, float, int]:
    """(examples, wall seconds, lesson) of a run's last check."""
    h = history(run)
    if not h:
        return 0, 0.0, 0
    return int(h[-1]["examples"]), float(h[-1]["wall_time_s"]), int(h[-1]["lesson"])


def train_command(run: Path, task: str, args: argparse.Namespace) -> list[str]:
    command = [sys.executable, "-c", "from kgdnc.cli.main import app; app()",
               "train", "--resume", "--out", str(run),
               "--max-time", args.budget, "--no-progress"]
    if args.tiny:
        return [*command, "--accelerator", "cpu", "--threads", "1"]
    return [*command, "--accelerator", "gpu", "--batch-size", str(GPU_BATCH[task]),
            "--workers", str(args.workers), "--threads", "2"]


def lever_commands(work: Path, args: argparse.Namespace) -> list[list[str]]:
    script = str(ROOT / "benchmarks" / "learning_speed.py")
    if args.tiny:
        return [[sys.executable, script, "--task", "traversal", "--configs", "base",
                 "--seeds", "1", "--budget", "00:00:05", "--lessons", "1", "--tiny",
                 "--no-test-graph", "--episodes", "2", "--out", str(work / "levers")]]
    return [[sys.executable, script, "--task", "traversal", "--configs", lever,
             "--seeds", str(args.lever_seed), "--budget", args.budget, "--lessons", "1",
             "--no-test-graph", "--out", str(work / "levers")]
            for lever in LEVERS[: args.levers]]


def run_all(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    logfile = out / "device.log"
    import torch

    if not args.tiny and not torch.cuda.is_available():
        print("torch sees no CUDA device here; run with --tiny to test on the CPU",
              file=sys.stderr)
        return 2
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    log(f"device: {device}; torch {torch.__version__}; {os.cpu_count()} cores", logfile)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    runs = Path(args.runs)
    procs: dict[str, subprocess.Popen] = {}
    before: dict[str, tuple[int, float, int]] = {}
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for task in TASKS:
        src = runs / CAMPAIGN[task]
        if not (src / "last.ckpt").is_file():
            log(f"{task}: no {src}/last.ckpt, skipped", logfile)
            continue
        if completed(src):
            log(f"{task}: {src} has completed its curriculum, skipped", logfile)
            continue
        dst = work / task
        dst.mkdir(parents=True, exist_ok=True)
        for name in ("last.ckpt", "history.json"):
            if (src / name).is_file():
                shutil.copy2(src / name, dst / name)
        before[task] = progress(dst)
        handle = (work / f"{task}.log").open("w")
        procs[task] = subprocess.Popen(train_command(dst, task, args), stdout=handle,
                                       stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    levers = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               env={**env, "OMP_NUM_THREADS": "1"}, cwd=ROOT)
              for c in lever_commands(work, args)] if args.levers else []
    t0 = time.monotonic()
    failed = 0
    for task, proc in procs.items():
        rc = proc.wait()
        examples, wall, lesson = progress(work / task)
        ex0, wall0, _ = before[task]
        rate = (examples - ex0) / (wall - wall0) if wall > wall0 else 0.0
        log(f"{task}: exit {rc}; lesson {lesson}; examples {ex0:,} -> {examples:,}; "
            f"{rate:.1f} examples/s", logfile)
        failed += rc != 0
        for name in ("last.ckpt", "history.json"):
            if (work / task / name).is_file():
                shutil.copy2(work / task / name, out / f"{task}-{name}")
        with (work / f"{task}.log").open() as handle:
            tail = handle.read().splitlines()[-5:]
        for line in tail:
            log(f"  {task}: {line}", logfile)
    for proc in levers:
        proc.wait()
    if levers and (work / "levers").is_dir():
        tmp = out / ".levers.tar.gz"
        with tarfile.open(tmp, "w:gz") as tar:
            tar.add(work / "levers", arcname="levers",
                    filter=lambda i: None if i.name.endswith(".ckpt") else i)
        tmp.replace(out / "levers.tar.gz")
    log(f"done in {time.monotonic() - t0:.0f} s", logfile)
    return 1 if failed else 0


def fetch(folder: Path, runs: Path) -> int:
    """Copy ``<task>-last.ckpt`` / ``<task>-history.json`` from ``folder`` into ``runs``."""
    copied = 0
    for task in TASKS:
        for name in ("last.ckpt", "history.json"):
            src = folder / f"{task}-{name}"
            if src.is_file():
                home = runs / CAMPAIGN[task]
                home.mkdir(parents=True, exist_ok=True)
                tmp = home / f".{name}.tmp"
                shutil.copyfile(src, tmp)
                tmp.replace(home / name)
                copied += 1
                print(f"{src} -> {home / name}")
    if (folder / "levers.tar.gz").is_file():
        with tarfile.open(folder / "levers.tar.gz") as tar:
            tar.extractall(runs / "device-levers", filter="data")
        print(f"lever runs unpacked into {runs / 'device-levers'}")
    return 0 if copied else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.environ.get("OUT", "device-out"))
    parser.add_argument("--runs", default="runs",
                        help="campaign runs, one folder per task (see CAMPAIGN)")
    parser.add_argument("--work", default="/tmp/kgdnc-device", help="where runs continue")
    parser.add_argument("--budget", default="00:08:00", help="HH:MM:SS of training per run")
    parser.add_argument("--workers", type=int, default=3, help="episode workers per GPU run")
    parser.add_argument("--levers", type=int, default=len(LEVERS),
                        help="lever runs on the CPU cores beside (0: none)")
    parser.add_argument("--lever-seed", type=int, default=1)
    parser.add_argument("--tiny", action="store_true", help="a few seconds on the CPU")
    parser.add_argument("--fetch", type=Path, default=None,
                        help="copy a device run's files from this folder into --runs")
    args = parser.parse_args(argv)
    if args.fetch is not None:
        return fetch(args.fetch, Path(args.runs))
    if args.tiny and args.budget == "00:08:00":
        args.budget = "00:00:05"
    return run_all(args)


if __name__ == "__main__":
    sys.exit(main())
