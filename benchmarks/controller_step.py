"""What the controller's share of a training step costs, three ways.

One DNC, one set of weights, forward + backward of a whole batch, on one
thread, with the fused memory step; the three ways of running the controller
alternate batch by batch in one process, so that each sees the same load:

- ``step by step``: the controller's weight gradients formed at every step
  (``DNC.defer_weight_grads = False``), the controller as PyTorch operations;
- ``deferred``: the weight gradients formed once per batch
  (``_DeferredWeightGrads``), the controller as PyTorch operations;
- ``deferred + whole step``: also the whole controller step as one C++
  operation (``fused_cpu.controller_step``; one-layer LSTM only).

All three compute the same gradients (``tests/dnc/test_deferred_grads.py``).
Prints a markdown table: CPU milliseconds per time step (median of
``--rounds``) and the speed-up over ``step by step``.

    python benchmarks/controller_step.py                    # the default shapes, ~3 min
    python benchmarks/controller_step.py --shapes 8x150x152x64x128:ln --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from kgdnc.dnc import DNC, DNCConfig

# B x T x N x W x H, ":ln" for layer normalisation (the cpu-ln preset)
DEFAULT_SHAPES = ("8x150x152x64x128:ln", "16x100x256x32x128", "8x256x256x64x256")
MODES = {"step by step": (False, False), "deferred": (True, False),
         "deferred + whole step": (True, True)}


def parse_shape(text: str) -> tuple[int, int, int, int, int, bool]:
    dims, _, option = text.partition(":")
    try:
        b, t, n, w, h = (int(v) for v in dims.split("x"))
    except ValueError:
        raise SystemExit(
            f"--shapes {text!r}: write BxTxNxWxH[:ln], e.g. 8x150x152x64x128:ln") from None
    return b, t, n, w, h, option == "ln"


def measure(shape: tuple[int, int, int, int, int, bool], rounds: int) -> dict[str, float]:
    """Median CPU seconds per time step of each mode."""
    b, steps, n, w, h, layer_norm = shape
    torch.manual_seed(0)
    cfg = DNCConfig(input_size=92, output_size=92, hidden_size=h, memory_size=n, word_size=w,
                    read_heads=4, layer_norm=layer_norm, fused="auto", lstm_grad_clip=10.0,
                    controller_clip=20.0)  # fmt: skip
    model = DNC(cfg)
    x = torch.randn(b, steps, 92)

    def run(mode: str) -> None:
        model.defer_weight_grads, model.fuse_controller = MODES[mode]
        model.zero_grad()
        y, _ = model(x, model.initial_state(b, n))
        y.square().mean().backward()

    for mode in MODES:  # warm up (and build the fused step)
        run(mode)
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(rounds):
        for mode in MODES:
            start = time.process_time()
            run(mode)
            times[mode].append(time.process_time() - start)
    return {mode: statistics.median(v) / steps for mode, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default=",".join(DEFAULT_SHAPES),
                        help="comma-separated BxTxNxWxH[:ln]")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    shapes = [parse_shape(s) for s in args.shapes.split(",")]
    print("| B | T | N | W | H | layer norm | " + " | ".join(f"{m} ms/step" for m in MODES)
          + " | speed-up |")
    print("|" + "---|" * (6 + len(MODES) + 1))
    for shape in shapes:
        per_step = measure(shape, args.rounds)
        base = per_step["step by step"]
        cells = " | ".join(f"{1000 * v:.3f}" for v in per_step.values())
        gains = ", ".join(f"{base / v:.2f}×" for m, v in per_step.items() if m != "step by step")
        b, t, n, w, h, ln = shape
        print(f"| {b} | {t} | {n} | {w} | {h} | {'yes' if ln else 'no'} | {cells} | {gains} |")


if __name__ == "__main__":
    main()
