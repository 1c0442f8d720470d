"""Speed and peak memory of kgdnc's DNC against the PyPI package ``dnc`` 1.1.0.

Every measurement runs in its own Python process (so peak memory belongs to
one configuration), kgdnc and ``dnc`` alternate, and the table reports the
median over repeats of the time per batch (forward + backward) and the peak
resident memory of the process.

    python benchmarks/bench_dnc.py                 # the full tables (about 20 minutes)
    python benchmarks/bench_dnc.py --quick         # N = 256 only, one repeat
    python benchmarks/bench_dnc.py --threads 1     # pin torch to one thread
    python benchmarks/bench_dnc.py --threads 1 --late-only   # the late-lesson table only
    python benchmarks/bench_dnc.py --threads 1 --profile 8   # torch.profiler, fused, sparse K=8
    python benchmarks/bench_dnc.py --threads 1 --interleaved 7   # late shape, alternating
    python benchmarks/bench_dnc.py --threads 1 --unroll-ab 10    # a node per step vs one

Configuration (both implementations): one LSTM layer of 256 units, input and
output width 64, word width W = 64, R = 4 read heads, batch B = 16; output and
interface clipped to ±20 (``dnc``'s default, ``controller_clip=20`` here).
``dnc`` 1.1.0 has no sparse temporal link matrix (its ``SDNC`` is a different
model that needs FAISS or FLANN), so the sparse row compares kgdnc's sparse
links with ``dnc``'s dense DNC on the same sizes.

Every kgdnc row runs twice: the eager PyTorch step (``fused="off"``) and the
fused C++ step (``fused="on"``, ``kgdnc.dnc.fused_cpu``; built before timing).

The late-lesson table uses the sizes of the late traversal lessons: T = 256
steps, N = 256 slots, batch 8, LSTM 1×128, W = 32, R = 4, input 92, output 90,
dense and sparse K = 8 links, no clipping; plus ``dnc`` at N = 256, T = 256,
batch 8 with LSTM 256 and W = 64 (its comparison shape).
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
from dataclasses import asdict, dataclass, replace

INPUT, HIDDEN, WORD, HEADS, BATCH, CLIP = 64, 256, 64, 4, 16, 20.0
SCALING_STEPS = 20  # the N = 16384 memory alone is 64 MB per step
# the late traversal lessons: input 92, output 90, LSTM 1x128, W = 32, R = 4, batch 8
LATE = {"input": 92, "output": 90, "hidden": 128, "word": 32, "batch": 8, "clip": None}


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
    fused: str = "off"  # kgdnc only: DNCConfig.fused
    input: int = INPUT
    output: int = INPUT
    hidden: int = HIDDEN
    word: int = WORD
    batch: int = BATCH
    clip: float | None = CLIP

    @property
    def label(self) -> str:
        links = "dense" if self.sparsity is None else f"sparse K={self.sparsity}"
        shape = ""
        if (self.hidden, self.word, self.batch) != (HIDDEN, WORD, BATCH):
            shape = f" B={self.batch} H={self.hidden} W={self.word}"
        return f"N={self.memory_size} T={self.steps}{shape} {links}"


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
    x = torch.randn(run.batch, run.steps, run.input)
    if run.impl == "kgdnc":
        from kgdnc.dnc import DNC, DNCConfig, fused_cpu

        cfg = DNCConfig(
            input_size=run.input,
            output_size=run.output,
            hidden_size=run.hidden,
            word_size=run.word,
            read_heads=HEADS,
            memory_size=run.memory_size,
            link_sparsity=run.sparsity,
            controller_clip=run.clip,
            fused=run.fused,  # type: ignore[arg-type]
        )
        if run.fused != "off" and not fused_cpu.available():
            raise SystemExit("the fused step could not be built")
        model = DNC(cfg)

        def forward() -> torch.Tensor:
            return model(x)[0]
    else:
        from dnc import DNC as PeerDNC

        model = PeerDNC(
            input_size=run.input,
            hidden_size=run.hidden,
            rnn_type="lstm",
            num_layers=1,
            num_hidden_layers=1,
            nr_cells=run.memory_size,
            cell_size=run.word,
            read_heads=HEADS,
            batch_first=True,
            gpu_id=-1,
            clip=run.clip if run.clip is not None else 20.0,
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


def profile(links: str, fused: str, steps: int, threads: int | None) -> None:
    """Print torch.profiler's table for one late-lesson batch (after one warm-up batch)."""
    import torch
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    from kgdnc.dnc import DNC, DNCConfig

    if threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = DNCConfig(
        input_size=92, output_size=90, hidden_size=128, word_size=32, read_heads=HEADS,
        memory_size=256, link_sparsity=None if links == "dense" else int(links),
        fused=fused,  # type: ignore[arg-type]
    )
    model = DNC(cfg)
    x = torch.randn(8, steps, 92)
    model(x)[0].sum().backward()
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        model(x)[0].sum().backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))


def _time_batch(model: object, x: object) -> tuple[float, float]:
    """Wall and CPU seconds of one forward + backward pass of ``model`` on ``x``."""
    model.zero_grad(set_to_none=True)  # type: ignore[attr-defined]
    start, cpu = time.perf_counter(), time.process_time()
    model(x)[0].sum().backward()  # type: ignore[operator]
    return time.perf_counter() - start, time.process_time() - cpu


def interleaved(rounds: int, threads: int | None) -> None:
    """Late-lesson shape, dense and sparse K = 8: eager and fused models with the same
    weights in one process, batches alternating for ``rounds`` rounds; medians and the
    median of the per-round ratios (robust to a machine whose load changes by the minute)."""
    import torch

    from kgdnc.dnc import DNC, DNCConfig, fused_cpu

    if threads is not None:
        torch.set_num_threads(threads)
    if not fused_cpu.available():
        raise SystemExit("the fused step could not be built")
    print("| links | eager s/batch (CPU) | fused s/batch (CPU) | fused vs eager, wall (CPU) "
          "| per-round CPU ratios |")
    print("|---|---|---|---|---|")
    for sparsity in (None, 8):
        torch.manual_seed(0)
        cfg = DNCConfig(
            input_size=LATE["input"], output_size=LATE["output"], hidden_size=LATE["hidden"],
            word_size=LATE["word"], read_heads=HEADS, memory_size=256, link_sparsity=sparsity,
            controller_clip=LATE["clip"],
        )
        eager = DNC(cfg)
        fused = DNC(replace(cfg, fused="on"))
        fused.load_state_dict(eager.state_dict())
        x = torch.randn(LATE["batch"], 256, LATE["input"])

        _time_batch(eager, x), _time_batch(fused, x)  # warm-up: buffers, the build's load
        runs = [(_time_batch(eager, x), _time_batch(fused, x)) for _ in range(rounds)]
        med = statistics.median
        ew, ec = med(e[0] for e, _ in runs), med(e[1] for e, _ in runs)
        fw, fc = med(f[0] for _, f in runs), med(f[1] for _, f in runs)
        ratios = [e[1] / f[1] for e, f in runs]
        links = "dense" if sparsity is None else f"sparse K={sparsity}"
        print(f"| {links} | {ew:.2f} ({ec:.2f}) | {fw:.2f} ({fc:.2f}) | {ew / fw:.1f}× "
              f"({ec / fc:.1f}×) | {' '.join(f'{r:.1f}' for r in ratios)} |")


# (label, DNCConfig fields, batch, steps) for --unroll-ab
UNROLL_SHAPES = [
    ("N=256 T=100 B=16 H=256 W=64 (`--quick`)",
     dict(input_size=INPUT, output_size=INPUT, hidden_size=HIDDEN, word_size=WORD,
          memory_size=256, controller_clip=CLIP), BATCH, 100),
    ("N=128 T=100 B=8 H=128 W=64, layer norm (`cpu-ln`)",
     dict(input_size=92, output_size=90, hidden_size=128, word_size=64, memory_size=128,
          layer_norm=True), 8, 100),
    ("N=256 T=256 B=8 H=128 W=32 (late lessons)",
     dict(input_size=LATE["input"], output_size=LATE["output"], hidden_size=LATE["hidden"],
          word_size=LATE["word"], memory_size=256), LATE["batch"], 256),
]


def unroll_ab(rounds: int, threads: int | None) -> None:
    """The fused step with one autograd node per step against the whole unroll as one
    node (``DNC.fuse_unroll``): one model, batches alternating, CPU seconds."""
    import torch

    from kgdnc.dnc import DNC, DNCConfig, fused_cpu

    if threads is not None:
        torch.set_num_threads(threads)
    if not fused_cpu.available():
        raise SystemExit("the fused step could not be built")
    print("| shape | a node per step: CPU s/batch (min) | one node: CPU s/batch (min) "
          "| speed-up of the medians |")
    print("|---|---|---|---|")
    for label, fields, batch_size, steps in UNROLL_SHAPES:
        torch.manual_seed(0)
        model = DNC(DNCConfig(read_heads=HEADS, fused="on", **fields))  # type: ignore[arg-type]
        x = torch.randn(batch_size, steps, model.config.input_size)

        def batch(unroll: bool, model: DNC = model, x: torch.Tensor = x) -> float:
            model.fuse_unroll = unroll
            return _time_batch(model, x)[1]  # CPU seconds

        batch(False), batch(True)  # warm-up
        runs = [(batch(False), batch(True)) for _ in range(rounds)]
        step = statistics.median(r[0] for r in runs)
        whole = statistics.median(r[1] for r in runs)
        print(f"| {label} | {step:.3f} ({min(r[0] for r in runs):.3f}) | {whole:.3f} "
              f"({min(r[1] for r in runs):.3f}) | {step / whole:.2f}× |")


def _measure(run: Run, reps: int, cache: dict[Run, list[dict[str, object]]]) -> list:
    results = cache.setdefault(run, [])
    while len(results) < reps:
        results.append(spawn(run))
        _log(run.impl if run.fused == "off" else "fused", run, results[-1])
    return results


def _cell(results: list[dict[str, object]]) -> str:
    t, c, p, a = _summary(results)
    return f"{t:.2f} ({c:.2f}) | {p:.0f} ({a:.0f})"


def _ratio(slow: list[dict[str, object]], fast: list[dict[str, object]]) -> str:
    t_s, c_s, _, _ = _summary(slow)
    t_f, c_f, _, _ = _summary(fast)
    return f"{t_s / t_f:.1f}× ({c_s / c_f:.1f}×)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="N=256 only, one repeat")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the cheap rows")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per process")
    parser.add_argument("--skip-peer", action="store_true", help="kgdnc rows only")
    parser.add_argument("--late-only", action="store_true", help="the late-lesson table only")
    parser.add_argument(
        "--profile", metavar="LINKS", help="profile one late-lesson batch: 'dense' or K (sparse)"
    )
    parser.add_argument("--profile-fused", default="on", help="DNCConfig.fused for --profile")
    parser.add_argument("--profile-steps", type=int, default=64, help="T for --profile")
    parser.add_argument(
        "--interleaved", type=int, metavar="ROUNDS",
        help="late shape: eager and fused alternating in one process, ROUNDS rounds",
    )
    parser.add_argument(
        "--unroll-ab", type=int, metavar="ROUNDS",
        help="fused: a node per step against one node for the unroll, ROUNDS rounds",
    )
    parser.add_argument(
        "--scaling", default="256,1024,4096,16384", help="N for the sparse kgdnc-only rows"
    )
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(Run(**json.loads(args.worker)))))
        return
    if args.profile:
        profile(args.profile, args.profile_fused, args.profile_steps, args.threads)
        return
    if args.interleaved:
        interleaved(args.interleaved, args.threads)
        return
    if args.unroll_ab:
        unroll_ab(args.unroll_ab, args.threads)
        return

    th = args.threads
    repeats = 1 if args.quick else args.repeats
    cache: dict[Run, list[dict[str, object]]] = {}
    rows: list[tuple[Run, Run | None, int]] = []  # (kgdnc eager run, dnc run, repeats)
    if not args.late_only:
        # dnc's dense N=1024 batch takes ~30 s and ~8 GB
        rows.append((Run("kgdnc", 256, 100, None, 3, 1, th), Run("dnc", 256, 100, None, 2, 1, th),
                     repeats))  # fmt: skip
        if not args.quick:
            big_dnc = Run("dnc", 1024, 50, None, 1, 0, th)
            rows += [
                (Run("kgdnc", 1024, 50, None, 2, 1, th), big_dnc, min(repeats, 2)),
                (Run("kgdnc", 1024, 50, 8, 3, 1, th), big_dnc, min(repeats, 2)),
            ]
    if not args.quick:
        late_dnc_shape = {"hidden": 256, "word": 64, "batch": 8}
        rows.append((Run("kgdnc", 256, 256, None, 2, 1, th, **late_dnc_shape),
                     Run("dnc", 256, 256, None, 2, 1, th, **late_dnc_shape), repeats))  # fmt: skip
    late: list[tuple[Run, int]] = []
    if not args.quick:
        late = [(Run("kgdnc", 256, 256, k, 3, 1, th, **LATE), repeats) for k in (None, 8)]

    table = []
    for eager, peer, reps in rows:  # alternate the implementations
        fused = replace(eager, fused="on")
        for i in range(1, reps + 1):
            _measure(eager, i, cache)
            _measure(fused, i, cache)
            if peer is not None and not args.skip_peer:
                _measure(peer, i, cache)
        table.append((eager, fused, peer))
    late_table = []
    for eager, reps in late:
        fused = replace(eager, fused="on")
        for i in range(1, reps + 1):
            _measure(eager, i, cache)
            _measure(fused, i, cache)
        late_table.append((eager, fused))

    scaling = []
    if not args.quick and not args.late_only:
        for n in (int(v) for v in args.scaling.split(",")):
            run = Run("kgdnc", n, SCALING_STEPS, 8, 2, 1, th)
            results = [spawn(run) for _ in range(min(repeats, 2))]
            _log("kgdnc", run, results[-1])
            scaling.append((run, results))

    threads = next(iter(cache.values()))[0]["threads"]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch threads {threads}, python {platform.python_version()}")  # fmt: skip
    print()
    print("Seconds per batch, wall (CPU); peak MB (above base); speed-ups wall (CPU).")
    print()
    if table:
        print(
            "| config | kgdnc eager s | eager MB | kgdnc fused s | fused MB | dnc s | dnc MB "
            "| fused vs eager | eager vs dnc | fused vs dnc |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for eager, fused, peer in table:
            e, f = cache[eager], cache[fused]
            d = cache.get(peer, []) if peer is not None else []
            cells = [eager.label, _cell(e), _cell(f), _cell(d) if d else "– | –", _ratio(e, f)]
            cells += [_ratio(d, e), _ratio(d, f)] if d else ["–", "–"]
            print("| " + " | ".join(cells) + " |")
    if late_table:
        print()
        print("Late lessons: T=256, N=256, B=8, LSTM 1x128, W=32, R=4, input 92, output 90.")
        print()
        print(
            "| links | eager s/batch | eager episodes/s | fused s/batch | fused episodes/s "
            "| speed-up wall (CPU) | eager MB | fused MB |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for eager, fused in late_table:
            te, ce, pe, ae = _summary(cache[eager])
            tf, cf, pf, af = _summary(cache[fused])
            b = eager.batch
            cells = [
                "dense" if eager.sparsity is None else f"sparse K={eager.sparsity}",
                f"{te:.2f} ({ce:.2f})",
                f"{b / te:.1f} ({b / ce:.1f})",
                f"{tf:.2f} ({cf:.2f})",
                f"{b / tf:.1f} ({b / cf:.1f})",
                _ratio(cache[eager], cache[fused]),
                f"{pe:.0f} ({ae:.0f})",
                f"{pf:.0f} ({af:.0f})",
            ]
            print("| " + " | ".join(cells) + " |")
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
