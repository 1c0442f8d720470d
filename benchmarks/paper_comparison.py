"""The paper's real-graph tests, measured with ``kgdnc eval --graph``, beside its figures.

Runs :func:`kgdnc.reasoning.accuracy.graph_accuracy` (what ``kgdnc eval --graph``
prints) for:

- London Underground traversal, random 7-step walks (paper: DNC 98.8 %, LSTM
  never passed lesson 1) — the DNC and, with ``--lstm``, the LSTM baseline;
- London Underground shortest path, all pairs 4 steps apart (paper: 55.3 %);
- family-tree inference, compositions of 2, 3 and 4 relations (paper: 81.8 %
  on 4-step relations such as "maternal great uncle").

Each London test runs on the zone-1 view (65 stations, 254 triples: the whole
map is described, as in the paper) and on the whole network (271 stations,
752 triples: query-focused sub-graphs of 256 triples). Prints a markdown table
with the command that reproduces each row.

    python benchmarks/paper_comparison.py

The LSTM baseline is `benchmarks/models/traversal_lstm.ckpt`, the slim best
checkpoint of the baseline run in `docs/results.md` (483,200 examples).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from kgdnc.reasoning.accuracy import graph_accuracy
from kgdnc.reasoning.models import resolve_model

LONDON = ("london-underground-zone1", "london-underground")


def row(test: str, model: str, graph: str, length: str, episodes: int, paper: str,
        seed: int) -> str:
    lo, _, hi = length.partition("-")
    lengths = (int(lo), int(hi or lo))
    t0 = time.perf_counter()
    report = graph_accuracy(model, graph, lengths=lengths, episodes=episodes, seed=seed)
    took = time.perf_counter() - t0
    per_length = ""
    if len(report.by_length) > 1:
        per_length = " (" + ", ".join(
            f"{k}: {v['accuracy']:.1%}" for k, v in sorted(report.by_length.items())
        ) + ")"
    command = (f"`kgdnc eval --model {model} --graph {graph} --length {length} "
               f"--episodes {episodes}`")
    if report.no_plan is not None:  # shortest path: what a walk with no plan answers
        per_length += f" (a walk with no plan: {report.no_plan:.1%})"
    return (f"| {test} | {graph} | {report.episodes} | **{report.accuracy:.1%}**{per_length} "
            f"| {paper} | {command} | {took:.0f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traversal", default=None, help="traversal model (default: bundled)")
    parser.add_argument("--shortest-path", default=None, help="model (default: bundled)")
    parser.add_argument("--inference", default=None, help="model (default: bundled)")
    parser.add_argument("--lstm", default="benchmarks/models/traversal_lstm.ckpt",
                        help="LSTM baseline traversal checkpoint (empty: none)")
    parser.add_argument("--walks", type=int, default=200, help="7-step walks per graph")
    parser.add_argument("--pairs", type=int, default=2000,
                        help="4-step pairs per graph (2,000 covers all of them)")
    parser.add_argument("--relations", type=int, default=300, help="family-tree queries")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--tests", default="traversal,shortest-path,inference",
                        help="which tests, comma-separated")
    args = parser.parse_args()
    torch.set_num_threads(1)

    def path(spec: str | None, task: str) -> str:
        found = Path(resolve_model(spec, task).path).resolve()
        here = Path.cwd()
        return str(found.relative_to(here)) if found.is_relative_to(here) else str(found)

    tests = set(args.tests.split(","))
    rows = []
    for graph in LONDON if "traversal" in tests else ():
        traversal = path(args.traversal, "traversal")
        rows.append(row("traversal, random 7-step walks (DNC)", traversal, graph, "7",
                        args.walks, "98.8 ± 1.6 %", args.seed))
        if args.lstm:
            rows.append(row("traversal, random 7-step walks (LSTM)", args.lstm, graph, "7",
                            args.walks, "LSTM never passed lesson 1", args.seed))
    for graph in LONDON if "shortest-path" in tests else ():
        shortest = path(args.shortest_path, "shortest-path")
        rows.append(row("shortest path, all 4-step pairs (DNC)", shortest, graph, "4",
                        args.pairs, "55.3 ± 6.4 %", args.seed))
    if "inference" in tests:
        inference = path(args.inference, "inference")
        rows.append(row("inference, relations of 2-4 steps (DNC)", inference, "family-tree",
                        "2-4", args.relations, "81.8 ± 13.5 % (4-step)", args.seed))
    print("| test | graph | queries | kgdnc | paper | command | time |")
    print("|---|---|---|---|---|---|---|")
    for line in rows:
        print(line)


if __name__ == "__main__":
    main()
