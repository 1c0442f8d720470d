"""Speed and peak memory of kgdnc's DNC against the PyPI package ``dnc`` 1.1.0.

Every measurement runs in its own Python process (so peak memory belongs to
one configuration), kgdnc and ``dnc`` alternate, and the table reports the
median over repeats of the time per batch (forward + backward) and the peak
resident memory of the process.

    python benchmarks/bench_dnc.py                 # the full table (about 10 minutes)
    python benchmarks/bench_dnc.py --quick         # N = 256 only, one repeat
    python benchmarks/bench_dnc.py --threads 1     # pin torch to one thread

Configuration (both implementations): one LSTM layer of 256 units, input and
output width 64, word width W = 64, R = 4 read heads, batch B = 16; output and
interface clipped to ±20 (``dnc``'s default, ``controller_clip=20`` here).
``dnc`` 1.1.0 has no sparse temporal link matrix (its ``SDNC`` is a different
model that needs FAISS or FLANN), so the sparse row compares kgdnc's sparse
links with ``dnc``'s dense DNC on the same sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

INPUT, HIDDEN, WORD, HEADS, BATCH, CLIP = 64, 256, 64, 4, 16, 20.0
SCALING_STEPS = 20  # the N = 16384 memory alone is 64 MB per step


@dataclass(frozen=True)
class Run:
    """One measurement, done in a fresh process."""

    impl: str  # "kgdnc" or "dnc"
    memory_size: int
    steps: int
    sparsity: int | None
    batches: int
    warmup: int
    threads: int | None

    @property
    def label(self) -> str:
        links = "dense" if self.sparsity is None else f"sparse K={self.sparsity}"
        return f"N={self.memory_size} T={self.steps} {links}"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(run: Run) -> dict[str, object]:
    """Build the model, time ``warmup + batches`` forward+backward passes."""
    import torch

    if run.threads is not None:
        torch.set_num_threads(run.threads)
    torch.manual_seed(0)
    x = torch.randn(BATCH, run.steps, INPUT)
    if run.impl == "kgdnc":
        from kgdnc.dnc import DNC, DNCConfig

        cfg = DNCConfig(
            input_size=INPUT,
            output_size=INPUT,
            hidden_size=HIDDEN,
            word_size=WORD,
            read_heads=HEADS,
            memory_size=run.memory_size,
            link_sparsity=run.sparsity,
            controller_clip=CLIP,
        )
        model = DNC(cfg)

        def forward() -> torch.Tensor:
            return model(x)[0]
    else:
        from dnc import DNC as PeerDNC

        model = PeerDNC(
            input_size=INPUT,
            hidden_size=HIDDEN,
            rnn_type="lstm",
            num_layers=1,
            num_hidden_layers=1,
            nr_cells=run.memory_size,
            cell_size=WORD,
            read_heads=HEADS,
            batch_first=True,
            gpu_id=-1,
            clip=CLIP,
        )

        def forward() -> torch.Tensor:
            return model(x, (None, None, None), reset_experience=True)[0]

    base = _current_rss_mb()
    times, cpu_times = [], []
    for i in range(run.warmup + run.batches):
        model.zero_grad(set_to_none=True)
        start, cpu_start = time.perf_counter(), time.process_time()
        y = forward()
        y.sum().backward()
        del y  # the next batch must not find this one's graph alive
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        if i >= run.warmup:
            times.append(elapsed)
            cpu_times.append(cpu)
    return {
        "run": asdict(run),
        "seconds": statistics.median(times),
        "cpu_seconds": statistics.median(cpu_times),
        "peak_mb": _peak_rss_mb(),
        "base_mb": base,
        "threads": torch.get_num_threads(),
    }


def spawn(run: Run) -> dict[str, object]:
    """Measure ``run`` in a fresh interpreter."""
    cmd = [sys.executable, __file__, "--worker", json.dumps(asdict(run))]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _log(name: str, run: Run, result: dict[str, object]) -> None:
    print(
        f"  {name:5s} {run.label}: {result['seconds']:.3f} s wall, "
        f"{result['cpu_seconds']:.3f} s cpu, peak {result['peak_mb']:.0f} MB",
        file=sys.stderr,
    )


def _summary(results: list[dict[str, object]]) -> tuple[float, float, float, float]:
    """Medians of wall seconds, cpu seconds, peak MB and peak MB above the base."""

    def med(values: list[float]) -> float:
        return statistics.median(values)

    def get(r: dict[str, object], key: str) -> float:
        value = r[key]
        assert isinstance(value, int | float)
        return float(value)

    return (
        med([get(r, "seconds") for r in results]),
        med([get(r, "cpu_seconds") for r in results]),
        med([get(r, "peak_mb") for r in results]),
        med([get(r, "peak_mb") - get(r, "base_mb") for r in results]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="N=256 only, one repeat")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the cheap rows")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per process")
    parser.add_argument("--skip-peer", action="store_true", help="kgdnc rows only")
    parser.add_argument(
        "--scaling", default="256,1024,4096,16384", help="N for the sparse kgdnc-only rows"
    )
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(Run(**json.loads(args.worker)))))
        return

    th = args.threads
    repeats = 1 if args.quick else args.repeats
    # (kgdnc run, dnc run, repeats); dnc's dense N=1024 batch takes ~30 s and ~8 GB
    pairs: list[tuple[Run, Run | None, int]] = [
        (Run("kgdnc", 256, 100, None, 3, 1, th), Run("dnc", 256, 100, None, 2, 1, th), repeats),
    ]
    if not args.quick:
        big_dnc = Run("dnc", 1024, 50, None, 1, 0, th)
        pairs += [
            (Run("kgdnc", 1024, 50, None, 2, 1, th), big_dnc, min(repeats, 2)),
            (Run("kgdnc", 1024, 50, 8, 3, 1, th), big_dnc, min(repeats, 2)),
        ]
    rows = []
    peer_cache: dict[Run, list[dict[str, object]]] = {}
    for ours, peer, reps in pairs:
        mine: list[dict[str, object]] = []
        theirs = peer_cache.setdefault(peer, []) if peer is not None else []
        for _ in range(reps):  # alternate the two implementations
            mine.append(spawn(ours))
            _log("kgdnc", ours, mine[-1])
            if peer is not None and not args.skip_peer and len(theirs) < reps:
                theirs.append(spawn(peer))
                _log("dnc", peer, theirs[-1])
        rows.append((ours, mine, theirs))

    scaling = []
    if not args.quick:
        for n in (int(v) for v in args.scaling.split(",")):
            run = Run("kgdnc", n, SCALING_STEPS, 8, 2, 1, th)
            results = [spawn(run) for _ in range(min(repeats, 2))]
            _log("kgdnc", run, results[-1])
            scaling.append((run, results))

    threads = rows[0][1][0]["threads"]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch threads {threads}, python {platform.python_version()}")  # fmt: skip
    print()
    print(
        "| config | runs kgdnc/dnc | kgdnc s/batch (cpu) | dnc s/batch (cpu) | speed-up wall (cpu) "
        "| kgdnc peak MB (above base) | dnc peak MB (above base) | peak ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for ours, mine, theirs in rows:
        t_k, c_k, p_k, a_k = _summary(mine)
        cells = f"{t_k:.2f} ({c_k:.2f})"
        if theirs:
            t_d, c_d, p_d, a_d = _summary(theirs)
            cells += (
                f" | {t_d:.2f} ({c_d:.2f}) | {t_d / t_k:.1f}× ({c_d / c_k:.1f}×) "
                f"| {p_k:.0f} ({a_k:.0f}) | {p_d:.0f} ({a_d:.0f}) | 1/{p_d / p_k:.1f}"
            )
        else:
            cells += f" | – | – | {p_k:.0f} ({a_k:.0f}) | – | –"
        print(f"| {ours.label} | {len(mine)}/{len(theirs)} | {cells} |")
    if scaling:
        print()
        title = f"| kgdnc sparse K=8, T={SCALING_STEPS} | s/batch (cpu) | ms/step (cpu)"
        print(title + " | peak MB (above base) |")
        print("|---|---|---|---|")
        for run, results in scaling:
            t_k, c_k, p_k, a_k = _summary(results)
            per_step = f"{1000 * t_k / run.steps:.1f} ({1000 * c_k / run.steps:.1f})"
            print(
                f"| N={run.memory_size} | {t_k:.3f} ({c_k:.3f}) | {per_step} "
                f"| {p_k:.0f} ({a_k:.0f}) |"
            )


if __name__ == "__main__":
    main()
