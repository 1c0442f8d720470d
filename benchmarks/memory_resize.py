"""Memory resizing (the paper's ED Fig. 2): accuracy vs memory size x number of triples.

One trained traversal model, the same weights, run with memories of several
sizes N on random graphs (the paper's: uniform points, K nearest neighbours,
out-degree 2-4) of several sizes. An episode is right when every answer step is
(the training metric). Writes a heat map PNG and a markdown table, and puts the
table into ``docs/results.md`` under "## Memory resizing" (that section only).

    python benchmarks/memory_resize.py --model runs/traversal-dnc-cpu/best.ckpt

Default model: the bundled traversal model. Walk lengths: the range of the
lesson the model reached (override with --lengths).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import tempfile
import time
from pathlib import Path

import torch

from kgdnc.tasks import TRAVERSAL_LESSONS, collate, digits_correct
from kgdnc.tasks.graphs import random_graph, random_walk
from kgdnc.tasks.traversal import traversal_episode
from kgdnc.training.evaluate import load_trained

DOCS = Path(__file__).resolve().parents[1] / "docs"
SECTION = "## Memory resizing"


def cell_accuracy(network, triples: int, memory: int, episodes: int, lengths, seed: int):
    """Accuracy and mean triples of ``episodes`` random traversal episodes at N = memory."""
    rng = random.Random(f"memory-resize/{seed}/{triples}")
    made, sizes = [], []
    nodes = max(3, round(triples / 3))  # out-degree 2-4: 3 triples per node on average
    while len(made) < episodes:
        g = random_graph(rng, nodes, (2, 4))
        walk = random_walk(g, rng.randint(*lengths), rng)
        made.append(traversal_episode(g, walk[0][0], [t[1] for t in walk], rng))
        sizes.append(g.number_of_edges())
    batch = collate(made)
    with torch.no_grad():
        state = network.initial_state(len(made), memory)
        y, _ = network(batch.inputs, state)
    ok = digits_correct(y, batch.targets) | ~batch.mask
    return float(ok.all(dim=-1).float().mean()), sum(sizes) / len(sizes)


def write_section(table: str, path: Path) -> None:
    """Replace (or append) the "Memory resizing" section of ``path``, atomically."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Results\n"
    block = f"{SECTION}\n\n{table.strip()}\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(block + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + block
    fd, tmp = tempfile.mkstemp(prefix=".results.", suffix=".md", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def heat_map(acc, memories, triples, title: str, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.1 * len(memories) + 2.5, 0.7 * len(triples) + 2), dpi=110)
    shown = ax.imshow(acc, origin="lower", cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(memories)), [str(m) for m in memories])
    ax.set_yticks(range(len(triples)), [str(t) for t in triples])
    ax.set_xlabel("memory slots N")
    ax.set_ylabel("triples in the graph (target)")
    for i in range(len(triples)):
        for j in range(len(memories)):
            ax.text(
                j,
                i,
                f"{acc[i][j]:.0%}",
                ha="center",
                va="center",
                color="white" if acc[i][j] < 0.6 else "black",
                fontsize=8,
            )
    fig.colorbar(shown, ax=ax, label="episode accuracy")
    ax.set_title(title, fontsize=9)
    fd, tmp = tempfile.mkstemp(prefix=".memory_resize.", suffix=".png", dir=out.parent)
    os.close(fd)
    fig.savefig(tmp, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="traversal checkpoint [bundled]")
    parser.add_argument("--memories", default="16,32,64,128,256")
    parser.add_argument("--triples", default="12,24,48,96,192")
    parser.add_argument("--episodes", type=int, default=32)
    parser.add_argument("--lengths", default=None, help="walk lengths LOW-HIGH")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DOCS / "memory_resize.png")
    parser.add_argument("--results", type=Path, default=DOCS / "results.md")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from kgdnc.reasoning.models import resolve_model

    entry = resolve_model(args.model, "traversal")
    trained = load_trained(entry.path)
    if trained.task != "traversal":
        raise SystemExit(f"{entry.path} is a {trained.task} model; pass a traversal model")
    lesson = min(trained.lesson, len(TRAVERSAL_LESSONS))
    if args.lengths:
        lo, _, hi = args.lengths.partition("-")
        lengths = (int(lo), int(hi or lo))
    else:
        lengths = TRAVERSAL_LESSONS[lesson - 1].length
    memories = [int(x) for x in args.memories.split(",")]
    triples = [int(x) for x in args.triples.split(",")]
    network = trained.network.eval()
    cfg = trained.config
    started = time.perf_counter()
    acc, sizes = [], []
    for t in triples:
        row = []
        for m in memories:
            a, mean = cell_accuracy(network, t, m, args.episodes, lengths, args.seed)
            row.append(a)
            print(f"triples ~{t:4d} (mean {mean:6.1f}) | N {m:4d} | accuracy {a:.3f}", flush=True)
        acc.append(row)
        sizes.append(mean)
    wall = time.perf_counter() - started

    history = trained.meta.get("history") or []
    passed = [h["lesson"] for h in history if h.get("passed")]
    status = (
        f"passed lessons up to {max(passed)}"
        if passed
        else "has passed no lesson (an early checkpoint: expect low accuracy)"
    )
    source = entry.label() if entry.kind != "file" else str(args.model)
    header = "| triples \\ N | " + " | ".join(str(m) for m in memories) + " |"
    lines = [
        f"Model `{source}`: trained at N = {cfg.memory_size} ({cfg.memory_sizing} sizing), "
        f"on lesson {lesson} of {len(TRAVERSAL_LESSONS)}; it {status}. "
        f"Walk lengths {lengths[0]}-{lengths[1]}; {args.episodes} random graphs per cell "
        f"(out-degree 2-4); episode accuracy (every answer step right). "
        f"{wall:.0f} s on CPU.",
        "",
        "```",
        "python benchmarks/memory_resize.py"
        + (f" --model {args.model}" if args.model else "")
        + (f" --lengths {args.lengths}" if args.lengths else "")
        + f" --episodes {args.episodes}",
        "```",
        "",
        header,
        "|" + "---|" * (len(memories) + 1),
    ]
    for t, mean, row in zip(triples, sizes, acc, strict=True):
        lines.append(f"| {t} (mean {mean:.0f}) | " + " | ".join(f"{a:.1%}" for a in row) + " |")
    lines += ["", f"![accuracy vs memory size and triples]({args.out.name})", ""]
    table = "\n".join(lines)
    print(table)
    if not args.no_docs:
        heat_map(
            acc,
            memories,
            triples,
            f"traversal, lesson {lesson}, lengths {lengths[0]}-{lengths[1]}",
            args.out,
        )
        write_section(table, args.results)
        print(f"wrote {args.out} and the '{SECTION}' section of {args.results}")


if __name__ == "__main__":
    main()
