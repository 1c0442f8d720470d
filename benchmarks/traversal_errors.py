"""Where a traversal model's walks go wrong, by walk length, on one lesson's episodes.

Runs the model on the episodes ``kgdnc eval`` draws for the lesson (the same
seed gives the same episodes), reads each answer step as the digits' modes (the
paper's reading), and for every walk answered wrong reports its first wrong step
and what that step names:

- the termination triple before the walk is over (``ends early``);
- a wrong edge label: the query's labels, all given before the answer, were not
  replayed in order;
- the right edge label from a wrong source: the walk lost its place;
- the right source and edge label, a wrong destination: a look-up that missed;
- anything after the last step (a missing termination) counts as ``no end``.

    python benchmarks/traversal_errors.py --model /path/to/passed-05.ckpt --lesson 14 --episodes 200
    python benchmarks/traversal_errors.py --model /path/to/passed-05.ckpt --lesson 5 --longest 20

``--longest L`` keeps the lesson's graphs and draws walks of up to L steps (the
curriculum's stretched episodes when L is the last lesson's 20): are long walks
lost to their length or to the larger graphs of the later lessons?
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import random

import torch

from kgdnc.tasks import get_task
from kgdnc.tasks.codec import TERMINATION, decode_logits, digits_to_triple
from kgdnc.training.data import batch_of, mix_seed
from kgdnc.training.evaluate import lesson_module
from kgdnc.training.trained import load_trained


def first_error(got: list[list[int]], want: list[list[int]]) -> tuple[int, str] | None:
    """(1-based step, kind) of the first wrong answer step, or None when all are right."""
    for step, (g, w) in enumerate(zip(got, want, strict=True), start=1):
        if g == w:
            continue
        if tuple(w) == TERMINATION:
            return step, "no end"
        if tuple(g) == TERMINATION:
            return step, "ends early"
        if g[1] != w[1]:
            return step, "wrong edge label"
        if g[0] != w[0]:
            return step, "wrong source"
        return step, "wrong destination"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a traversal checkpoint (.ckpt)")
    parser.add_argument("--lesson", type=int, required=True, help="1-14")
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=4321, help="as kgdnc eval --seed")
    parser.add_argument("--longest", type=int, default=None,
                        help="walks of up to this many steps on the lesson's graphs")
    args = parser.parse_args()

    torch.set_num_threads(1)
    module = lesson_module(load_trained(args.model))
    task = get_task("traversal")
    lesson = task.lessons[args.lesson - 1]
    if args.longest is not None:
        lesson = dataclasses.replace(lesson, length=(lesson.length[0], args.longest))
    asked: collections.Counter[int] = collections.Counter()
    right: collections.Counter[int] = collections.Counter()
    at_step: dict[int, collections.Counter[int]] = collections.defaultdict(collections.Counter)
    kinds: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for start in range(0, args.episodes, 25):
        made = [task.make_episode(lesson, random.Random(mix_seed(args.seed, start + i)))
                for i in range(min(25, args.episodes - start))]
        batch = batch_of(task, made)
        with torch.no_grad():
            labels = decode_logits(module(batch.inputs)[0])
        wanted = digits_to_triple(batch.targets.long())
        for i, episode in enumerate(made):
            length = int(episode.meta["length"])
            steps = batch.mask[i].nonzero().flatten()
            asked[length] += 1
            error = first_error(labels[i, steps].tolist(), wanted[i, steps].tolist())
            if error is None:
                right[length] += 1
                continue
            at_step[length][error[0]] += 1
            kinds[length][error[1]] += 1

    walks = "" if args.longest is None else f", walks of up to {args.longest} steps"
    print(f"{args.model}, lesson {args.lesson}{walks}, {args.episodes} episodes (seed {args.seed})")
    print("| walk length | walks | right | first wrong step (step: walks) | what it names |")
    print("|---|---|---|---|---|")
    for length in sorted(asked):
        steps = ", ".join(f"{s}: {n}" for s, n in sorted(at_step[length].items()))
        named = ", ".join(f"{k} {n}" for k, n in kinds[length].most_common())
        print(f"| {length} | {asked[length]} | {right[length]} | {steps} | {named} |")


if __name__ == "__main__":
    main()
