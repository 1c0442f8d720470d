"""Has a shortest-path network learned the backward look-up? Ask it after its answer.

The backward look-up of a plan finds the triples that lead into a node. This
plays fresh episodes of one lesson greedily, then asks each ``blocks`` recall
blocks ``(_, _, d)`` (as ``--aux-recall`` does in training,
:func:`kgdnc.tasks.shortest_path.predecessor_recall`) and prints the share whose
most likely triple, among the description's, ends in ``d``, beside the share
of triples that do (a uniform pick), and the mean loss of a block.

    python benchmarks/backward_lookup.py runs/shortest-path-cpu-ln/last.ckpt --lesson 6
"""

from __future__ import annotations

import argparse
import random

import torch

from kgdnc.tasks import get_task
from kgdnc.tasks.shortest_path import (
    ShortestPathRollout,
    candidate_log_probs,
    optimal_nll,
    predecessor_recall,
)
from kgdnc.training.rollout import play
from kgdnc.training.trained import load_trained


def backward_lookup(
    checkpoint: str, lesson: int, episodes: int, blocks: int = 3, seed: int = 99,
    batch_size: int = 20,
) -> dict[str, float]:
    """Right share, uniform share and mean loss of ``episodes * blocks`` look-ups."""
    trained = load_trained(checkpoint)
    network = trained.network.eval()
    task = get_task("shortest-path")
    chosen = task.lessons[lesson - 1]
    rng = random.Random(seed)
    right = asked = 0
    uniform = loss = 0.0
    with torch.no_grad():
        for start in range(0, episodes, batch_size):
            made = [task.make_episode(chosen, random.Random(rng.random()))
                    for _ in range(min(batch_size, episodes - start))]
            roll = ShortestPathRollout(made, max_steps=[e.shortest_length for e in made])
            steps = int(roll.prefix.inputs.shape[1]) + max(roll.max_steps) + 2 * blocks
            state = network.initial_state(len(made), trained.memory_size_for(steps))
            played = play(roll, network, state, score=False)
            drawn = [predecessor_recall(e, blocks, rng) for e in made]
            y, _ = network(torch.stack([b.inputs for b in drawn]), played.state)
            for i, b in enumerate(drawn):
                for k, step in enumerate(b.answers):
                    digits, target = b.digits[k][None], b.targets[k][None]
                    mask = torch.ones(target.shape, dtype=torch.bool)
                    logp = candidate_log_probs(y[i:i + 1, step], digits, mask)
                    right += int(target[0, int(logp.argmax())])
                    uniform += float(target.float().mean())
                    loss += float(optimal_nll(logp, target))
                    asked += 1
    return {"asked": asked, "right": right / asked, "uniform": uniform / asked,
            "loss": loss / asked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--lesson", type=int, default=6)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    r = backward_lookup(args.checkpoint, args.lesson, args.episodes, args.blocks)
    print(f"{args.checkpoint}, lesson {args.lesson}: {r['asked']} look-ups, "
          f"{r['right']:.1%} right (a uniform pick: {r['uniform']:.1%}), "
          f"mean loss {r['loss']:.3f}")


if __name__ == "__main__":
    main()
