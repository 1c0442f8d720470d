"""CPU time of the memory access step alone: a chain of steps, forward + backward.

The controller is left out: ξ_t comes from a fixed random tensor, so the figure is
the access step's own cost (``kgdnc.dnc.fused_cpu.access_step`` or the eager
``kgdnc.dnc.memory.access_step``), the part a change to ``csrc/access_step.cpp``
moves. Prints the minimum and the median CPU time of a chain over ``--rounds``.

    python benchmarks/access_step.py                        # fused, dense, N=256 B=16 W=64 R=4
    python benchmarks/access_step.py --links 8 --fused off  # eager, sparse K=8
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from kgdnc.dnc import DNCConfig, fused_cpu
from kgdnc.dnc.interface import split_interface
from kgdnc.dnc.memory import access_step
from kgdnc.dnc.state import initial_access_state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fused", choices=("on", "off"), default="on")
    parser.add_argument("--links", default="dense", help="'dense' or K (sparse links)")
    parser.add_argument("--memory", type=int, default=256, help="N slots")
    parser.add_argument("--word", type=int, default=64, help="W")
    parser.add_argument("--heads", type=int, default=4, help="R read heads")
    parser.add_argument("--batch", type=int, default=16, help="B")
    parser.add_argument("--steps", type=int, default=20, help="steps in the chain")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)
    sparsity = None if args.links == "dense" else int(args.links)
    cfg = DNCConfig(input_size=8, output_size=8, word_size=args.word, read_heads=args.heads,
                    memory_size=args.memory, link_sparsity=sparsity, fused=args.fused)
    if args.fused == "on" and not fused_cpu.available():
        raise SystemExit("the fused step could not be built")
    xi = (torch.randn(args.steps, args.batch, cfg.interface_size) * 2).requires_grad_()

    def chain() -> float:
        start = time.process_time()
        state = initial_access_state(args.batch, args.memory, args.word, args.heads, sparsity,
                                     dtype=torch.float32, device="cpu")
        reads = []
        for t in range(args.steps):
            if args.fused == "on":
                state = fused_cpu.access_step(state, xi[t], cfg)
            else:
                state = access_step(state, split_interface(xi[t], cfg), cfg)
            reads.append(state.read_vectors)
        torch.stack(reads).sum().backward()
        xi.grad = None
        return time.process_time() - start

    for _ in range(3):
        chain()
    times = [chain() for _ in range(args.rounds)]
    print(f"{args.fused} {args.links} N={args.memory} B={args.batch} W={args.word} "
          f"R={args.heads} T={args.steps}: min {min(times) * 1e3:.1f} ms, "
          f"median {statistics.median(times) * 1e3:.1f} ms CPU per chain")


if __name__ == "__main__":
    main()
