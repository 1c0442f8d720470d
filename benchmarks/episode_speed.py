"""How long the task generators take to make one training episode.

Times ``make_episode`` (graph, labels, description, queries, targets: all that a
training step's data costs) for each task at a few lessons, on one thread, and
prints a markdown table: the median over ``--repeats`` rounds of ``--episodes``
episodes each, with the mean episode length in steps.

    python benchmarks/episode_speed.py                      # default lessons, ~1 min
    python benchmarks/episode_speed.py --tasks shortest-path --lessons 5 --episodes 500

Shortest-path episodes are made as the ``cpu-ln`` preset trains them (queries
with a real choice); inference episodes with its three recall blocks.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import torch

from kgdnc.tasks import get_task

# lessons timed by default: the first, one in the middle, the last
DEFAULT_LESSONS = {"traversal": (1, 10, 14), "inference": (1, 6, 17),
                   "shortest-path": (1, 5, 15)}
# the episode options of the cpu-ln preset's training episodes
OPTIONS = {"traversal": {}, "inference": {"aux_recall": 3},
           "shortest-path": {"real_choice": True}}


def time_lesson(task: str, lesson: int, episodes: int, repeats: int) -> tuple[float, float]:
    """(median ms per episode, mean steps per episode) for one task and lesson."""
    spec = get_task(task)
    chosen = spec.lessons[lesson - 1]
    rounds, steps = [], []
    for r in range(repeats):
        rng = random.Random(r)
        start = time.perf_counter()
        made = [spec.make_episode(chosen, rng, **OPTIONS[task]) for _ in range(episodes)]
        rounds.append((time.perf_counter() - start) / episodes * 1e3)
        steps += [len(getattr(e, "prefix", e)) for e in made]
    return statistics.median(rounds), statistics.mean(steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default=",".join(DEFAULT_LESSONS))
    parser.add_argument("--lessons", default=None,
                        help="comma-separated lessons (default: first, middle, last)")
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| task | lesson | steps (mean; shortest path: before the answer) | ms per episode |")
    print("|---|---|---|---|")
    for task in args.tasks.split(","):
        lessons = (tuple(int(x) for x in args.lessons.split(","))
                   if args.lessons else DEFAULT_LESSONS[task])
        for lesson in lessons:
            ms, steps = time_lesson(task, lesson, args.episodes, args.repeats)
            print(f"| {task} | {lesson} | {steps:.0f} | {ms:.2f} |", flush=True)


if __name__ == "__main__":
    main()
