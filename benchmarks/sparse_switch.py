"""Does a run answer alike with sparse links? The same weights, dense against K.

Sparse links hold no weights, so a run may switch to them on ``--resume``
(``--link-sparsity K``) when its episodes grow long. Before switching, this
measures the checkpoint on the same fresh episodes of one lesson twice: with
its own links and with K kept per row, and prints accuracy and wall time.

    python benchmarks/sparse_switch.py runs/traversal/last.ckpt --lesson 9 \\
        --episodes 200 --sparsity 8
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

import torch

from kgdnc.training.checkpoint import read_checkpoint
from kgdnc.training.evaluate import evaluate


def with_sparsity(data: dict, sparsity: int | None) -> dict:
    """A copy of checkpoint ``data`` whose saved configurations ask for ``sparsity``."""
    out = dict(data)
    for section in ("hyper_parameters", "kgdnc"):
        if section in data:
            out[section] = copy.deepcopy(data[section])
            for key in ("train_config", "model_config"):
                if key in out[section]:
                    out[section][key]["link_sparsity"] = sparsity
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--lesson", type=int, default=None)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--sparsity", type=int, default=8)
    parser.add_argument("--seed", type=int, default=99)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = read_checkpoint(args.checkpoint)
    print("| links | accuracy | wall s |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for sparsity in (None, args.sparsity):
            path = Path(folder) / "probe.ckpt"
            torch.save(with_sparsity(data, sparsity), path)
            start = time.perf_counter()
            report = evaluate(path, lesson=args.lesson, episodes=args.episodes,
                              seed=args.seed, batch_size=8)
            name = "dense" if sparsity is None else f"sparse K = {sparsity}"
            print(f"| {name} | {100 * report.accuracy:.1f} % | "
                  f"{time.perf_counter() - start:.0f} |", flush=True)


if __name__ == "__main__":
    main()
