"""Where a traversal model's answer steps read from: the query's slots, the right triple.

A traversal answer needs two things at step k: the query's k-th edge label and
the description triple that leaves the current node along it. This script runs
a model on one lesson's graphs with walks of exactly ``--length`` steps (longer
than its lesson's, to see what breaks), records the memory, and reports per
answer step

- how often the answered triple's source, edge label and destination are right;
- per read head, the overlap of its read weighting with the write weighting of
  the k-th query step (a head that replays the query in order from memory, along
  the temporal links) and with that of the right description triple (the
  look-up of the next node).

    python benchmarks/traversal_replay.py --model CKPT --lesson 4 --length 8

Overlap is Σ_n w^r_t[n] · w^w_q[n], in [0, 1]: 1 when both weightings sit on one
slot. The episodes are those of ``make_episode`` with ``random.Random(mix_seed(
seed, i))``, as ``kgdnc eval`` draws them.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import replace

import torch

from kgdnc.tasks.registry import get_task
from kgdnc.training.data import batch_of, mix_seed
from kgdnc.training.evaluate import lesson_module
from kgdnc.training.trained import load_trained

DIGITS = 9  # three labels of three digits


def measure(model: str, lesson: int, length: int, episodes: int, seed: int) -> dict:
    """Per answer step: [source, edge, destination] right, and per head the overlap
    with the k-th query write and with the right triple's write (means over episodes)."""
    trained = load_trained(model)
    if trained.task != "traversal":
        raise SystemExit(f"{model} is a {trained.task} model; this script reads traversal ones")
    module = lesson_module(trained)
    module.eval()
    spec = get_task("traversal")
    if not 1 <= lesson <= len(spec.lessons):
        raise SystemExit(f"--lesson {lesson} is outside 1-{len(spec.lessons)}")
    chosen = replace(spec.lessons[lesson - 1], length=(length, length))
    made = [spec.make_episode(chosen, random.Random(mix_seed(seed, i))) for i in range(episodes)]
    batch = batch_of(spec, made)
    x = batch.inputs
    state = module.network.initial_state(x.shape[0], module.memory_size_for(x.shape[1]))
    with torch.no_grad():
        y, _, trace = module.network.trace(x, state)
    heads = trace.read_weights.shape[2]
    b, t = y.shape[:2]
    answered = y.reshape(b, t, DIGITS, -1).argmax(-1)
    shown = x[..., : y.shape[-1]].reshape(b, t, DIGITS, -1).argmax(-1)
    parts = torch.zeros(length, 3)
    overlap = torch.zeros(length, heads, 2)
    for i, ep in enumerate(made):
        steps = ep.mask.nonzero().flatten()[:length].tolist()  # not the termination
        # the first query step is the first with flag 0 on (the description has none)
        first_query = int(x[i, :, y.shape[-1]].nonzero()[0])
        description = shown[i, :first_query]
        ww, rw = trace.write_weights[i], trace.read_weights[i]
        for k, step in enumerate(steps):
            target = batch.targets[i, step]
            parts[k] += (answered[i, step] == target).view(3, 3).all(-1).float()
            where = (description == target).all(-1).nonzero().flatten()
            right = ww[int(where[0])] if len(where) else torch.zeros_like(ww[0])
            overlap[k, :, 0] += rw[step] @ ww[first_query + k]
            overlap[k, :, 1] += rw[step] @ right
    return {"parts": parts / episodes, "overlap": overlap / episodes}


def table(found: dict) -> str:
    parts, overlap = found["parts"], found["overlap"]
    heads = overlap.shape[1]
    lines = [
        "| answer step | source right | edge label right | destination right | "
        + " | ".join(f"head {r}: query k / triple" for r in range(heads)) + " |",
        "|---|---|---|---|" + "---|" * heads,
    ]
    for k in range(parts.shape[0]):
        cells = " | ".join(f"{overlap[k, r, 0]:.2f} / {overlap[k, r, 1]:.2f}" for r in range(heads))
        lines.append(f"| {k + 1} | {parts[k, 0]:.2f} | {parts[k, 1]:.2f} | {parts[k, 2]:.2f} "
                     f"| {cells} |")
    replay = overlap[:, :, 0].max(dim=1).values.mean().item()
    lines += ["", f"Query replayed from memory (the best head's overlap with the k-th query "
                  f"slot, mean over the steps): {replay:.2f}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a traversal checkpoint (.ckpt)")
    parser.add_argument("--lesson", type=int, required=True, help="whose graphs: 1-14")
    parser.add_argument("--length", type=int, required=True, help="steps of every walk")
    parser.add_argument("--episodes", type=int, default=64)
    parser.add_argument("--seed", type=int, default=55)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.length < 1 or args.episodes < 1:
        raise SystemExit("--length and --episodes must be at least 1")
    torch.set_num_threads(args.threads)
    found = measure(args.model, args.lesson, args.length, args.episodes, args.seed)
    print(f"{args.model}, lesson {args.lesson}'s graphs, walks of {args.length} steps, "
          f"{args.episodes} episodes (seed {args.seed})\n")
    print(table(found))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
