"""How fast a configuration learns: examples and wall time to pass each lesson.

For a task and one or more named configurations (levers, see ``LEVERS``), it
trains from scratch with ``kgdnc train`` (in this process, one run after the
other), for each seed, until the target lesson is passed or the time budget
of the run is spent. Runs are resumable: a second invocation continues each
unfinished run from its ``last.ckpt`` up to the same budget. For every lesson
passed it measures the weights saved at the pass (``passed-LL.ckpt``) on the
task's final lesson ("Final", 1,000 episodes by default) and on its real test
graph ("Test"), beside the paper's columns of ED Tables 3-5 (``../shared/PAPER.md``
§5) and, for traversal, what a network that answers exactly its lesson's walk
lengths scores on the same episodes (``trained_length_steps``), then writes

- ``OUT/results.json``: every run's history, passes and measurements;
- a markdown table (stdout, and with ``--write-docs`` into ``docs/results.md``
  between ``<!-- learning-speed:TASK -->`` markers);
- ``docs/learning_speed_TASK.png`` (with ``--write-docs``; else in OUT): the
  running check accuracy against examples, one line per run.

    python benchmarks/learning_speed.py --task traversal --configs base,mask-0.1 \\
        --seeds 0,1 --budget 00:20:00 --write-docs

The base configuration is the ``cpu`` preset at batch 8 (the best measured
batch before this benchmark) with the paper's protocol (edge labels, check
cadence) and the fused memory step; each lever changes one thing. ``--preset
cpu-ln`` puts the levers on ``kgdnc train``'s default instead. ``--tiny``
shrinks the network and the budget for a seconds-long smoke run (what the
tests use).
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Lessons passed by default, and the real test graph of each task.
TARGET = {"traversal": 5, "inference": 3, "shortest-path": 6}
TEST = {
    "traversal": ("london-underground-zone1", (7, 7), "London 7-step walks"),
    "shortest-path": ("london-underground-zone1", (4, 4), "London 4-step pairs"),
    "inference": ("family-tree", (4, 4), "family tree, 4-step relations"),
}
FINAL = {"traversal": 14, "inference": 17, "shortest-path": 15}
MEASURE_SEED = 4321  # of the episodes each pass is scored on
# what the Final column counts (question_accuracy)
QUESTIONS = {"traversal": "whole walks", "inference": "queries",
             "shortest-path": "shortest routes"}

# ED Tables 3-5: (Test, Final) after each lesson, in %.
PAPER = {
    "traversal": [(0.0, 10.7), (0.0, 19.7), (0.0, 27.3), (0.0, 38.2), (0.0, 39.7),
                  (0.0, 47.5), (0.1, 48.1), (13.6, 59.4), (15.0, 59.0), (72.8, 72.3),
                  (88.6, 81.6), (91.8, 90.7), (96.0, 96.8), (98.8, 99.0)],
    "inference": [(0.0, 2.3), (0.0, 8.9), (0.0, 14.3), (0.0, 15.5), (0.0, 22.7),
                  (0.0, 25.8), (0.1, 31.2), (0.1, 47.6), (0.0, 55.1), (14.5, 49.4),
                  (11.1, 50.2), (20.4, 66.3), (43.6, 78.9), (18.6, 68.6), (26.4, 78.4),
                  (61.9, 91.1), (81.8, 95.5)],
    "shortest-path": [(8.2, 11.2), (4.0, 12.7), (4.0, 13.2), (9.5, 13.7), (14.4, 22.8),
                      (14.2, 27.6), (28.3, 34.0), (29.2, 39.7), (34.4, 41.1), (32.3, 40.0),
                      (33.8, 44.0), (34.9, 47.2), (40.9, 54.3), (50.7, 54.0), (55.3, 64.0)],
}

# the fused memory step: the same equations as the eager one (tests/dnc/test_fused_cpu.py),
# 3-5x faster on these cores, so the wall times since session 23 are shorter for it
BASE: dict[str, Any] = {"batch_size": 8, "fused": "auto"}

# One change each against BASE (the learning rate is tuned with the batch).
LEVERS: dict[str, dict[str, Any]] = {
    "base": {},
    "batch-2": {"batch_size": 2, "lr": 3e-4},
    "batch-32": {"batch_size": 32},
    "mask-0.1": {"key_masking": True, "key_mask_floor": 0.1},
    "word-64": {"word_size": 64},
    "word-96": {"word_size": 96},
    "memory-init": {"memory_init": 1e-3},
    "bypass-dropout": {"bypass_dropout": 0.2},
    "layer-norm": {"layer_norm": True},
    "ln-word-64": {"layer_norm": True, "word_size": 64},
    "mix-0.25": {"curriculum_mix": 0.25},
    "sparse-8": {"link_sparsity": 8},
    "planning-20": {"planning_steps": 20},
    "aux-recall-3": {"aux_recall": 3},
    "answer-reset": {"layer_norm": True, "word_size": 64, "answer_reset": "first"},
    "answer-reset-every": {"layer_norm": True, "word_size": 64, "answer_reset": "every"},
    "answer-reset-from-2": {"layer_norm": True, "word_size": 64, "answer_reset": "first",
                            "answer_reset_from": 2},
    "exact-rule": {"pass_rule": "exact"},
    "plan-targets": {"plan_targets": True},
}

TINY: dict[str, Any] = {"hidden_size": 16, "memory_size": 16, "word_size": 8, "read_heads": 2,
                        "batch_size": 4, "check_every": 8, "eval_episodes": 4}


@dataclass
class RunSpec:
    task: str
    config: str
    seed: int
    overrides: dict[str, Any]
    out: Path
    preset: str = "cpu"


def parse_budget(text: str) -> float:
    """``HH:MM:SS`` -> seconds."""
    match = re.fullmatch(r"(\d+):(\d{2}):(\d{2})", text)
    if not match:
        raise SystemExit(f"--budget {text!r} is not HH:MM:SS, e.g. --budget 00:20:00")
    h, m, s = (int(g) for g in match.groups())
    return float(h * 3600 + m * 60 + s)


def set_value(text: str) -> Any:
    """A ``--set`` value: JSON (numbers, true/false, lists), ``None``, or else the bare
    string (``fused=auto``)."""
    if text in ("", "None"):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600:d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def history_of(out: Path) -> list[dict[str, Any]]:
    file = out / "history.json"
    return json.loads(file.read_text()) if file.is_file() else []


def train(spec: RunSpec, budget_s: float, target: int) -> None:
    """Train (or continue) one run until lesson ``target`` is passed or the budget is spent."""
    from kgdnc.training.run import RESUMABLE, RunOptions, train_run

    history = history_of(spec.out)
    passed = max((h["lesson"] for h in history if h["passed"]), default=0)
    spent = history[-1]["wall_time_s"] if history else 0.0
    left = budget_s - spent
    if passed >= target or left < 1:
        return
    resume = (spec.out / "last.ckpt").is_file()
    options = RunOptions(
        task=None if resume else spec.task,
        preset=spec.preset,
        seed=spec.seed,
        out=spec.out,
        resume=resume,
        max_time=clock(max(left, 1)),
        until_lesson=target,
        progress=False,
        # a resumed run keeps its network; the options a resume may change follow the spec
        overrides=tuple((k, v) for k, v in spec.overrides.items()
                        if not resume or k in RESUMABLE),
    )
    train_run(options)


def measure(spec: RunSpec, episodes: int, queries: int, test_graph: bool) -> list[dict[str, Any]]:
    """Final-lesson and real-graph accuracy of the weights saved at each pass."""
    from kgdnc.training.evaluate import evaluate

    graph, lengths, _ = TEST[spec.task]
    rows = []
    cache = spec.out / "measured.json"
    done = json.loads(cache.read_text()) if cache.is_file() else {}
    for ckpt in sorted(spec.out.glob("passed-*.ckpt")):
        key = f"{ckpt.name}/{episodes}/{queries}/{int(test_graph)}/questions"
        entry = done.get(key)
        if entry is None or "final_steps" not in entry:  # new, or measured before steps
            final = evaluate(ckpt, lesson=FINAL[spec.task], episodes=episodes, seed=MEASURE_SEED)
            if entry is None:
                test = None
                if test_graph:
                    from kgdnc.reasoning.accuracy import graph_accuracy

                    test = graph_accuracy(ckpt, graph, lengths=lengths, episodes=queries,
                                          seed=MEASURE_SEED).accuracy
                entry = done[key] = {"lesson": int(ckpt.stem.split("-")[1]),
                                     "final": final.question_accuracy, "test": test}
            entry["final_steps"] = final.step_accuracy
            cache.write_text(json.dumps(done, indent=1))
        rows.append(done[key])
    return rows


@functools.cache
def _final_walks(episodes: int, seed: int) -> tuple[tuple[int, int], ...]:
    """(walk length, answer steps) of the final traversal lesson's episodes, made
    once for every lesson's yardstick."""
    import random

    from kgdnc.tasks.registry import get_task
    from kgdnc.training.data import mix_seed

    spec = get_task("traversal")
    final = spec.lessons[FINAL["traversal"] - 1]
    made = (spec.make_episode(final, random.Random(mix_seed(seed, i))) for i in range(episodes))
    # answer steps: the walk's triples and its termination triple
    return tuple((int(ep.meta["length"]), int(ep.mask.sum())) for ep in made)


def trained_length_steps(lesson: int, episodes: int, seed: int = MEASURE_SEED) -> float:
    """Traversal: the final lesson's answer steps right for a network that answers
    every walk up to lesson ``lesson``'s longest and, of a longer walk, only the
    first that many triples; on the episodes that ``measure`` scores (the same
    seed and count), so each pass has its own yardstick."""
    from kgdnc.tasks.registry import get_task

    longest = get_task("traversal").lessons[lesson - 1].length[1]
    walks = _final_walks(episodes, seed)
    right = sum(steps if length <= longest else longest for length, steps in walks)
    return right / sum(steps for _, steps in walks)


def summarise(spec: RunSpec, measured: list[dict[str, Any]]) -> dict[str, Any]:
    history = history_of(spec.out)
    passes = {}
    for h in history:
        if h["passed"] and h["lesson"] not in passes:
            passes[h["lesson"]] = {"examples": h["examples"], "wall_time_s": h["wall_time_s"]}
    by_lesson = {m["lesson"]: m for m in measured}
    for lesson, p in passes.items():
        p.update({k: by_lesson.get(lesson, {}).get(k) for k in ("final", "final_steps", "test")})
    last = history[-1] if history else {}
    rate = last.get("examples", 0) / last["wall_time_s"] if last.get("wall_time_s") else None
    return {
        "task": spec.task, "config": spec.config, "seed": spec.seed,
        "overrides": spec.overrides, "passes": passes,
        "examples": last.get("examples", 0), "wall_time_s": last.get("wall_time_s", 0.0),
        "examples_per_s": rate, "lesson": last.get("lesson"),
        "last_accuracy": last.get("accuracy"),
        "curve": [(h["examples"], h["accuracy"], h["lesson"], h.get("loss"))
                  for h in history],
    }


def tail_loss(run: dict[str, Any], checks: int = 5) -> float | None:
    """Mean training loss of the run's last few checks (running checks record it)."""
    losses = [c[3] for c in run["curve"][-checks:] if len(c) > 3 and c[3] is not None]
    return statistics.mean(losses) if losses else None


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def table(task: str, runs: list[dict[str, Any]], target: int, budget_s: float,
          command: str, episodes: int = 1000) -> str:
    """The markdown table: per configuration, the mean over seeds to pass each lesson."""
    lines = [
        f"Measured with `{command}` (budget {clock(budget_s)} a run, one torch thread; "
        "means over the seeds that passed, with how many did).",
        "",
        "| config | seeds | " + " | ".join(f"lesson {k}" for k in range(1, target + 1))
        + " | examples/s | reached |",
        "|---|---|" + "---|" * target + "---|---|",
    ]
    configs = list(dict.fromkeys(r["config"] for r in runs))
    for config in configs:
        mine = [r for r in runs if r["config"] == config]
        cells = []
        for lesson in range(1, target + 1):
            got = [r["passes"][lesson] for r in mine if lesson in r["passes"]]
            if not got:
                cells.append("not passed")
                continue
            ex = statistics.mean(g["examples"] for g in got)
            wall = statistics.mean(g["wall_time_s"] for g in got)
            cells.append(f"{ex / 1000:.1f}k ex, {wall / 60:.1f} min ({len(got)}/{len(mine)})")
        rates = [r["examples_per_s"] for r in mine if r["examples_per_s"]]
        rate = f"{statistics.mean(rates):.1f}" if rates else "–"
        reached = ", ".join(
            f"s{r['seed']}: L{r['lesson']} {pct(r['last_accuracy'])} % at {r['examples']:,}"
            + (f", loss {tail_loss(r):.2f}" if tail_loss(r) is not None else "")
            for r in mine
        )
        lines.append(f"| {config} | {len(mine)} | " + " | ".join(cells)
                     + f" | {rate} | {reached} |")
    lines += [
        "",
        f"At each pass: accuracy on the final lesson ({FINAL[task]}) and on "
        f"{TEST[task][2]} (ours | paper, %). Final counts {QUESTIONS[task]} right; "
        "Final (steps) counts answer steps right, each against its target: the "
        "paper does not say which of the two its column counts."
        + (" Trained length (steps): what a network that answers exactly the walks "
           "of its lesson's lengths scores there, on the same episodes."
           if task == "traversal" else ""),
        "",
        "| config | seed | lesson | examples | Final | Final (steps) | "
        + ("trained length (steps) | " if task == "traversal" else "")
        + "paper Final | Test | paper Test |",
        "|---|---|---|---|---|---|---|---|---|" + ("---|" if task == "traversal" else ""),
    ]
    if not any(r["passes"] for r in runs):
        lines.append("| (no lesson passed yet) | | | | | | | | |")
    for r in runs:
        for lesson, p in sorted(r["passes"].items()):
            paper_test, paper_final = PAPER[task][lesson - 1]
            reference = (f"{pct(trained_length_steps(lesson, episodes))} | "
                         if task == "traversal" else "")
            lines.append(
                f"| {r['config']} | {r['seed']} | {lesson} | {p['examples']:,} | "
                f"{pct(p.get('final'))} | {pct(p.get('final_steps'))} | {reference}"
                f"{paper_final} | {pct(p.get('test'))} | {paper_test} |"
            )
    return "\n".join(lines)


def plot(task: str, runs: list[dict[str, Any]], file: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, lx) = plt.subplots(1, 2, figsize=(11, 4.5))
    configs = list(dict.fromkeys(r["config"] for r in runs))
    colours = plt.get_cmap("tab10")
    styles = ["-", "--", ":", "-."]
    seeds = sorted({r["seed"] for r in runs})
    for r in runs:
        if not r["curve"]:
            continue
        xs = [c[0] for c in r["curve"]]
        ys = [c[1] + (c[2] - 1) for c in r["curve"]]  # lesson - 1 + accuracy
        colour = colours(configs.index(r["config"]) % 10)
        style = styles[seeds.index(r["seed"]) % len(styles)]
        ax.plot(xs, ys, style, color=colour, lw=1, label=f"{r['config']} s{r['seed']}")
        losses = [(c[0], c[3]) for c in r["curve"] if len(c) > 3 and c[3] is not None]
        if losses:
            lx.plot(*zip(*losses, strict=True), style, color=colour, lw=1)
    ax.set_xlabel("training examples")
    ax.set_ylabel("lesson − 1 + check accuracy")
    ax.set_title(f"{task}: lessons passed")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    thousands = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1000:.0f}k")
    for axis in (ax, lx):
        axis.xaxis.set_major_formatter(thousands)
    lx.set_xlabel("training examples")
    lx.set_ylabel("training loss per episode")
    lx.set_yscale("log")
    lx.set_title("loss (running checks)")
    lx.grid(alpha=0.3)
    fig.tight_layout()
    tmp = file.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    tmp.replace(file)


def write_docs(task: str, text: str, results_md: Path) -> None:
    """Replace (or append) the section between this task's markers."""
    start, end = f"<!-- learning-speed:{task} -->", f"<!-- /learning-speed:{task} -->"
    block = f"{start}\n{text}\n{end}"
    old = results_md.read_text() if results_md.is_file() else ""
    if start in old and end in old:
        new = old[: old.index(start)] + block + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + f"\n\n### Learning speed: {task}\n\n{block}\n"
    tmp = results_md.with_suffix(".md.tmp")
    tmp.write_text(new)
    tmp.replace(results_md)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True, choices=sorted(TARGET))
    parser.add_argument("--configs", default="base",
                        help=f"comma-separated, from: {', '.join(LEVERS)}")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--budget", default="00:20:00", help="HH:MM:SS of training per run")
    parser.add_argument("--lessons", type=int, default=None,
                        help="stop a run once this lesson is passed (default: traversal 5, "
                             "inference 3, shortest path 6)")
    parser.add_argument("--preset", default="cpu", choices=("cpu", "cpu-ln", "paper"),
                        help="the preset each configuration changes (default: cpu, the "
                             "levers' yardstick; cpu-ln: kgdnc train's default)")
    parser.add_argument("--out", type=Path, default=Path("runs/learning-speed"))
    # 1,000: a sample of 200 reads the final lesson's step accuracy up to 3 points off
    # (docs/results.md, "Levers", session 21)
    parser.add_argument("--episodes", type=int, default=1000,
                        help="final-lesson episodes measured at each pass")
    parser.add_argument("--queries", type=int, default=100,
                        help="real-graph queries measured at each pass")
    parser.add_argument("--no-test-graph", action="store_true",
                        help="skip the real test graph (e.g. for tiny runs)")
    parser.add_argument("--measure-only", action="store_true", help="train nothing")
    parser.add_argument("--write-docs", action="store_true",
                        help="write the table into docs/results.md and the PNG into docs/")
    parser.add_argument("--tiny", action="store_true", help="a tiny network (smoke test)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="an extra training option for every run, e.g. --set lr=3e-4")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    configs = [c for c in args.configs.split(",") if c]
    unknown = [c for c in configs if c not in LEVERS]
    if unknown:
        print(f"unknown configs {unknown}; choose from {', '.join(LEVERS)}", file=sys.stderr)
        return 2
    seeds = [int(s) for s in args.seeds.split(",") if s]
    budget = parse_budget(args.budget)
    target = args.lessons or TARGET[args.task]
    extra = {}
    for item in args.set:
        field, _, value = item.partition("=")
        extra[field] = set_value(value)
    specs = []
    for config in configs:
        overrides = {**BASE, **LEVERS[config], **(TINY if args.tiny else {}), **extra}
        for seed in seeds:
            out = args.out / args.task / config / f"seed-{seed}"
            specs.append(RunSpec(args.task, config, seed, overrides, out, args.preset))
    if args.measure_only:  # only the runs that exist
        specs = [spec for spec in specs if history_of(spec.out)]
    runs = []
    for spec in specs:
        if not args.measure_only:
            t0 = time.perf_counter()
            train(spec, budget, target)
            print(f"{spec.config} seed {spec.seed}: trained {time.perf_counter() - t0:.0f} s",
                  file=sys.stderr)
        measured = measure(spec, args.episodes, args.queries, not args.no_test_graph)
        runs.append(summarise(spec, measured))
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / args.task / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    known = json.loads(results.read_text()) if results.is_file() else []
    for run in known:  # JSON keys are strings
        run["passes"] = {int(k): v for k, v in run["passes"].items()}
    keep = [r for r in known if (r["config"], r["seed"]) not in {(s.config, s.seed)
                                                                 for s in specs}]
    all_runs = keep + runs
    results.write_text(json.dumps(all_runs, indent=1))
    command = (f"python benchmarks/learning_speed.py --task {args.task}"
               + ("" if args.preset == "cpu" else f" --preset {args.preset}")
               + " --configs "
               f"{','.join(dict.fromkeys(r['config'] for r in all_runs))} "
               f"--seeds {args.seeds} --budget {args.budget} --lessons {target}"
               + (" --no-test-graph" if args.no_test_graph else "")
               + f" --episodes {args.episodes}"
               + ("" if args.no_test_graph else f" --queries {args.queries}"))
    text = table(args.task, all_runs, target, budget, command, args.episodes)
    print(text)
    png = (ROOT / "docs" if args.write_docs else args.out) / f"learning_speed_{args.task}.png"
    plot(args.task, all_runs, png)
    if args.write_docs:
        write_docs(args.task, text + f"\n\n![{args.task} learning speed]"
                   f"(learning_speed_{args.task}.png)", ROOT / "docs" / "results.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
