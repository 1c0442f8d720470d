"""Where a shortest-path network's plan fails: its first moves by route length,
the source's out-degree and the destination's in-degree.

Plays lesson episodes greedily (the episodes of ``kgdnc eval --lesson``, seed
1234 by default) and, over those whose source offers a real choice, prints a
markdown table: per (shortest length, triples leaving the source, triples
entering the destination, 4 meaning 4 or more) the episodes, the share of
first moves that began a shortest path, and the share a uniform choice gets.

    python benchmarks/first_moves.py runs/shortest-path-cpu-ln/last.ckpt --lesson 5 --episodes 800
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from typing import Any

import torch

from kgdnc.tasks import get_task
from kgdnc.training.data import batch_of, mix_seed
from kgdnc.training.evaluate import _tally_first_moves, lesson_module, load_trained


def first_moves(
    model: str, lesson: int, episodes: int, seed: int = 1234, batch_size: int = 32
) -> dict[tuple[int, int, int], list[float]]:
    """(length, out-degree, in-degree capped at 4) -> [episodes, right, chance summed]."""
    module = lesson_module(load_trained(model))
    module._rng = random.Random(mix_seed(seed, 0xD1CE))
    spec = get_task("shortest-path")
    chosen = spec.lessons[lesson - 1]
    table: dict[tuple[int, int, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    with torch.no_grad():
        for start in range(0, episodes, batch_size):
            made = [spec.make_episode(chosen, random.Random(mix_seed(seed, start + i)))
                    for i in range(min(batch_size, episodes - start))]
            right = module.run_batch(batch_of(spec, made), explore=False).scores.step_correct
            _tally_first_moves(table, made, right, key=_degrees)
    return dict(table)


def _degrees(ep: Any) -> tuple[int, int, int]:
    """An episode's (shortest length, triples leaving the source, triples entering
    the destination capped at 4)."""
    return (ep.shortest_length, len(ep.candidates(ep.start)[0]),
            min(ep.graph.in_degree(ep.destination), 4))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--lesson", type=int, default=5)
    parser.add_argument("--episodes", type=int, default=800)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    torch.set_num_threads(1)
    table = first_moves(args.model, args.lesson, args.episodes, args.seed)
    print("| length | triples leaving the source | entering the destination | episodes "
          "| first moves right | a uniform choice |")
    print("|---|---|---|---|---|---|")
    for (length, out, into), (n, right, chance) in sorted(table.items()):
        into_text = "4+" if into == 4 else str(into)
        print(f"| {length} | {out} | {into_text} | {int(n)} | {right / n:.1%} | {chance / n:.1%} |")


if __name__ == "__main__":
    main()
