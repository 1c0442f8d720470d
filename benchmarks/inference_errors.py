"""Where an inference model's wrong answers come from, on one lesson's episodes.

Runs the model on fresh episodes of the lesson (the checks' episodes: no recall
blocks), reads each answer as the digits' modes (the paper's reading, what the
checks score), and sorts every wrong answer by what it names:

- the source or the relation of the answer triple wrong;
- a label that no described node has (digits taken from different nodes);
- the start node itself; the node after the relation's first edge (one hop short,
  for relations of two or more edges);
- the edges in reverse order; another first edge then the right second, or the
  right first edge then another (two-edge relations);
- another described node.

It also gives the accuracy per relation (the quartiles over relations with at
least 10 queries, the worst and the best), to tell a relation that was never
learned from a look-up that misses.

    python benchmarks/inference_errors.py --model /path/to/last.ckpt --lesson 2 --episodes 1500
"""

from __future__ import annotations

import argparse
import collections
import random
import statistics
from collections.abc import Sequence

import torch

from kgdnc.tasks import collate, get_task
from kgdnc.tasks.codec import TRIPLE_SIZE, decode_logits
from kgdnc.tasks.inference import RELATIONS
from kgdnc.training.trained import load_trained


def follow(step: dict[tuple[int, int], int], start: int, edges: Sequence[int]) -> int | None:
    """The node reached from ``start`` along ``edges`` in the description, or None."""
    node: int | None = start
    for edge in edges:
        node = step.get((node, edge)) if node is not None else None
    return node


def kind_of(got: list[int], answer: tuple[int, int, int], edges: tuple[int, ...],
            step: dict[tuple[int, int], int], nodes: set[int]) -> str:
    """What a wrong answer ``got`` names (see the module's list)."""
    src, rel, _ = answer
    end = got[2]
    if got[0] != src or got[1] != rel:
        return "the source or the relation wrong"
    if end not in nodes:
        return "a label no node has"
    if end == src:
        return "the start node"
    if len(edges) >= 2 and end == follow(step, src, edges[:-1]):
        return "one hop short"
    if len(edges) == 2:
        if end == follow(step, src, edges[::-1]):
            return "the edges in reverse order"
        if any(end == follow(step, src, (a, edges[1])) for a in range(10) if a != edges[0]):
            return "another first edge, the right second"
        if any(end == follow(step, src, (edges[0], a)) for a in range(10) if a != edges[1]):
            return "the right first edge, another second"
    return "another described node"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="an inference checkpoint")
    parser.add_argument("--lesson", type=int, required=True, help="1-17")
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=123)
    args = parser.parse_args()

    torch.set_num_threads(1)
    network = load_trained(args.model).network.eval()
    task = get_task("inference")
    lesson = task.lessons[args.lesson - 1]
    rng = random.Random(args.seed)
    episodes = [task.make_episode(lesson, rng.randrange(1 << 30)) for _ in range(args.episodes)]
    edges_of = {r.label: tuple(r.edges) for r in RELATIONS}
    per_relation: dict[int, list[int]] = collections.defaultdict(lambda: [0, 0])
    kinds: collections.Counter[str] = collections.Counter()
    by_length: collections.Counter[tuple[int, bool]] = collections.Counter()
    for first in range(0, len(episodes), 32):
        chunk = episodes[first:first + 32]
        with torch.no_grad():
            labels = decode_logits(network(collate(chunk).inputs)[0])
        for i, episode in enumerate(chunk):
            triples = decode_logits(episode.inputs[:episode.meta["n_triples"], :TRIPLE_SIZE])
            step = {(s, e): d for s, e, d in triples.tolist()}
            nodes = {s for s, _ in step} | set(step.values())
            answer_steps = torch.nonzero(episode.mask & ~episode.aux).flatten().tolist()
            for t, answer in zip(answer_steps, episode.meta["answers"], strict=True):
                got = labels[i, t].tolist()
                edges = edges_of[answer[1]]
                right = got == list(answer)
                per_relation[answer[1]][0] += right
                per_relation[answer[1]][1] += 1
                by_length[(len(edges), right)] += 1
                if not right:
                    kinds[kind_of(got, answer, edges, step, nodes)] += 1

    asked = sum(n for _, n in per_relation.values())
    wrong = asked - sum(r for r, _ in per_relation.values())
    print(f"lesson {args.lesson}, {args.episodes} episodes, {asked} queries: "
          f"{1 - wrong / asked:.1%} right")
    for length in sorted({n for n, _ in by_length}):
        n_right, n_wrong = by_length[(length, True)], by_length[(length, False)]
        print(f"  relations of {length} edges: {n_right / (n_right + n_wrong):.1%} "
              f"of {n_right + n_wrong}")
    print("wrong answers:")
    for kind, count in kinds.most_common():
        print(f"  {kind}: {count} ({count / max(wrong, 1):.0%})")
    scores = sorted((r / n, n, label) for label, (r, n) in per_relation.items() if n >= 10)
    if len(scores) >= 2:
        quartiles = statistics.quantiles([s for s, _, _ in scores], n=4)
        print(f"accuracy per relation ({len(scores)} relations with at least 10 queries): "
              f"quartiles {' / '.join(f'{q:.0%}' for q in quartiles)}")
        for name, part in (("worst", scores[:5]), ("best", scores[-5:])):
            print(f"  {name}: " + ", ".join(f"{label} {edges_of[label]} {s:.0%} of {n}"
                                              for s, n, label in part))


if __name__ == "__main__":
    main()
