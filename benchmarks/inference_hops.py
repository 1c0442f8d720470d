"""Where an inference model's planning steps read from: each hop of the relation.

An inference answer ``(start, relation, end)`` needs one look-up per edge of the
relation: hop k is the description triple that leaves the node reached after
k - 1 edges along the relation's k-th edge label. This script runs a model on
one lesson's episodes, records the memory, and reports, from the query step to
the answer step, the overlap of the read weightings with the write weighting of
each hop's triple (the best head at each step, and the step where each hop is
read best), split by the relation's length and by whether the answer was right.

    python benchmarks/inference_hops.py --model CKPT --lesson 8 --episodes 300

Overlap is Σ_n w^r_t[n] · ŵ^w_h[n], in [0, 1], with the write weighting divided
by its sum (where the triple went, not how strongly: a write gate under 1 scales
it): the read mass on the hop's slot, 1 when the read sits on it alone. The
episodes are those of ``make_episode`` with ``random.Random(mix_seed(seed, i))``,
as ``kgdnc eval`` draws them.
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict

import torch

from kgdnc.tasks.codec import TRIPLE_SIZE, decode_logits
from kgdnc.tasks.registry import get_task
from kgdnc.training.data import batch_of, mix_seed
from kgdnc.training.evaluate import lesson_module
from kgdnc.training.trained import load_trained


def hop_rows(description: list[list[int]], start: int, edges: tuple[int, ...]) -> list[int] | None:
    """The description index of each hop's triple, or None where the relation breaks."""
    where = {(s, e): (i, d) for i, (s, e, d) in enumerate(description)}
    node, rows = start, []
    for edge in edges:
        found = where.get((node, edge))
        if found is None:
            return None
        rows.append(found[0])
        node = found[1]
    return rows


def measure(model: str, lesson: int, episodes: int, seed: int) -> dict:
    """Per (relation length, right): the count, and per step from the query on and per
    hop the mean best-head overlap."""
    trained = load_trained(model)
    if trained.task != "inference":
        raise SystemExit(f"{model} is a {trained.task} model; this script reads inference ones")
    module = lesson_module(trained)
    module.eval()
    spec = get_task("inference")
    if not 1 <= lesson <= len(spec.lessons):
        raise SystemExit(f"--lesson {lesson} is outside 1-{len(spec.lessons)}")
    made = [spec.make_episode(spec.lessons[lesson - 1], random.Random(mix_seed(seed, i)))
            for i in range(episodes)]
    sums: dict[tuple[int, bool], torch.Tensor] = {}
    counts: dict[tuple[int, bool], int] = defaultdict(int)
    for first in range(0, len(made), 32):
        chunk = made[first:first + 32]
        batch = batch_of(spec, chunk)
        x = batch.inputs
        state = module.network.initial_state(x.shape[0], module.memory_size_for(x.shape[1]))
        with torch.no_grad():
            y, _, trace = module.network.trace(x, state)
        labels = decode_logits(y)
        for i, episode in enumerate(chunk):
            n = episode.meta["n_triples"]
            description = decode_logits(episode.inputs[:n, :TRIPLE_SIZE]).tolist()
            answers = torch.nonzero(episode.mask & ~episode.aux).flatten().tolist()
            for a_t, answer, edges in zip(answers, episode.meta["answers"],
                                          episode.meta["relations"], strict=True):
                rows = hop_rows(description, answer[0], tuple(edges))
                if rows is None:
                    continue
                q_t = a_t - 1
                while episode.inputs[q_t, :TRIPLE_SIZE].sum() == 0:  # back to the query step
                    q_t -= 1
                rw = trace.read_weights[i, q_t:a_t + 1]            # (S, R, N)
                ww = trace.write_weights[i, rows]                  # (H, N)
                ww = ww / ww.sum(-1, keepdim=True).clamp_min(1e-9)  # where, not how strongly
                overlap = torch.einsum("srn,hn->shr", rw, ww).amax(-1)  # (S, H)
                key = (len(edges), labels[i, a_t].tolist() == list(answer))
                sums[key] = sums.get(key, 0) + overlap
                counts[key] += 1
    return {key: (counts[key], sums[key] / counts[key]) for key in sorted(sums)}


def table(found: dict) -> str:
    lines = []
    for (length, right), (count, mean) in found.items():
        steps = mean.shape[0]
        names = ["query"] + [f"p{k}" for k in range(1, steps - 1)] + ["answer"]
        lines.append(f"\nrelations of {length} edges, answers {'right' if right else 'wrong'} "
                     f"({count} queries): best-head overlap with each hop's triple")
        lines.append("| hop | " + " | ".join(names) + " | best step |")
        lines.append("|---" * (len(names) + 2) + "|")
        for h in range(mean.shape[1]):
            best = int(mean[:, h].argmax())
            lines.append(f"| {h + 1} | " + " | ".join(f"{v:.2f}" for v in mean[:, h].tolist())
                         + f" | {names[best]} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="an inference checkpoint")
    parser.add_argument("--lesson", type=int, required=True, help="1-17")
    parser.add_argument("--episodes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=777)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"{args.model}, lesson {args.lesson}, {args.episodes} episodes")
    print(table(measure(args.model, args.lesson, args.episodes, args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
