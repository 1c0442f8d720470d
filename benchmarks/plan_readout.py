"""What a shortest-path network names during planning: for each planning step k,
the share of episodes whose most probable description triple is a k-th last
triple of a shortest path (the targets of ``--plan-targets``), against a
uniform pick among the description's triples.

Runs the prefixes (description, query, planning) of lesson episodes (the
episodes of ``kgdnc eval --lesson``, seed 1234 by default) and prints a
markdown table per shortest length L and step k ≤ L.

    python benchmarks/plan_readout.py runs/shortest-path-cpu-ln/last.ckpt --lesson 8 --episodes 400
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict

import torch

from kgdnc.tasks import get_task
from kgdnc.tasks.codec import N_DIGITS
from kgdnc.tasks.episode import collate
from kgdnc.tasks.shortest_path import PLANNING_STEPS, backward_plan, candidate_log_probs
from kgdnc.training.data import mix_seed
from kgdnc.training.evaluate import lesson_module, load_trained


def plan_readout(
    model: str, lesson: int, episodes: int, seed: int = 1234, batch_size: int = 32
) -> dict[tuple[int, int], list[float]]:
    """(shortest length L, planning step k) -> [episodes, right, chance summed]."""
    trained = load_trained(model)
    module = lesson_module(trained)
    planning = trained.config.planning_steps
    planning = PLANNING_STEPS if planning is None else planning
    spec = get_task("shortest-path")
    chosen = spec.lessons[lesson - 1]
    table: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    net = module.network
    with torch.no_grad():
        for start in range(0, episodes, batch_size):
            made = [spec.make_episode(chosen, random.Random(mix_seed(seed, start + i)),
                                      planning_steps=planning)
                    for i in range(min(batch_size, episodes - start))]
            prefix = collate([e.prefix for e in made], pad_side="left").inputs
            state = net.initial_state(len(made), module.memory_size_for(prefix.shape[1]))
            y, _ = net(prefix, state)
            first = prefix.shape[1] - planning
            for i, episode in enumerate(made):
                digits, targets = backward_plan(episode)
                mask = torch.ones(1, digits.shape[0], dtype=torch.bool)
                for k, t in enumerate(targets[:planning], start=1):
                    logp = candidate_log_probs(y[i : i + 1, first + k - 1],
                                               digits.view(1, -1, N_DIGITS), mask)
                    row = table[(episode.shortest_length, k)]
                    row[0] += 1
                    row[1] += float(t[int(logp.argmax())])
                    row[2] += float(t.sum()) / t.numel()
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a shortest-path checkpoint")
    parser.add_argument("--lesson", type=int, default=8)
    parser.add_argument("--episodes", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    table = plan_readout(args.model, args.lesson, args.episodes, args.seed)
    print("| length L | planning step k | episodes | k-th last triple named | uniform pick |")
    print("|---|---|---|---|---|")
    for (length, k), (n, right, chance) in sorted(table.items()):
        print(f"| {length} | {k} | {int(n)} | {right / n:.1%} | {chance / n:.1%} |")


if __name__ == "__main__":
    main()
