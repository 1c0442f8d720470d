"""The controller's weight gradients formed once per call equal the step-by-step ones."""

from __future__ import annotations

import pytest
import torch

from kgdnc.dnc import DNC, DNCConfig


def _model(**options: object) -> DNC:
    torch.manual_seed(0)
    sizes = dict(input_size=5, output_size=4, hidden_size=6, word_size=4, read_heads=2,
                 memory_size=7)
    cfg = DNCConfig(**{**sizes, **options})  # type: ignore[arg-type]
    return DNC(cfg).double()


def _grads(model: DNC, x: torch.Tensor, defer: bool) -> dict[str, torch.Tensor]:
    model.zero_grad()
    model.defer_weight_grads = defer
    y, _ = model(x)
    (y.sin() * torch.linspace(-1, 1, y.shape[-1], dtype=y.dtype)).sum().backward()
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


def _graph_names(tensor: torch.Tensor) -> set[str]:
    seen: set[str] = set()
    stack = [tensor.grad_fn]
    visited = set()
    while stack:
        node = stack.pop()
        if node is None or node in visited:
            continue
        visited.add(node)
        seen.add(node.name())
        stack.extend(next_fn for next_fn, _ in node.next_functions)
    return seen


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"num_layers": 2},
        {"controller": "feedforward", "num_layers": 2},
        {"layer_norm": True},
        {"layer_norm": True, "fused": "auto"},
        {"num_layers": 2, "lstm_grad_clip": 0.01, "controller_clip": 0.5},
        {"link_sparsity": 2, "key_masking": True},
    ],
)
def test_deferred_weight_gradients_equal_step_by_step(options: dict[str, object]) -> None:
    model = _model(**options)
    x = torch.randn(3, 11, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    step_by_step = _grads(model, x, defer=False)
    deferred = _grads(model, x, defer=True)
    assert step_by_step.keys() == deferred.keys()
    assert set(step_by_step) >= {"weight_r", "interface.weight", "interface.bias"}
    for name, grad in step_by_step.items():
        assert grad.abs().max() > 0, name
        torch.testing.assert_close(deferred[name], grad, rtol=1e-10, atol=1e-12, msg=name)


def test_the_clip_hook_reaches_deferred_gradients() -> None:
    """A tight LSTM gradient clip changes W_h's gradient, deferred or not, the same way."""
    x = torch.randn(2, 10, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    loose = _grads(_model(lstm_grad_clip=None), x, defer=True)["weight_h"]
    tight = _grads(_model(lstm_grad_clip=1e-4), x, defer=True)["weight_h"]
    assert tight.abs().max() < loose.abs().max()
    torch.testing.assert_close(tight, _grads(_model(lstm_grad_clip=1e-4), x, defer=False)[
        "weight_h"], rtol=1e-10, atol=1e-14)


def test_deferral_only_where_it_pays() -> None:
    model = _model()
    long_x = torch.randn(2, DNC.DEFER_MIN_STEPS, 5, dtype=torch.float64)
    short_x = torch.randn(2, DNC.DEFER_MIN_STEPS - 1, 5, dtype=torch.float64)
    assert "_DeferredWeightGradsBackward" in _graph_names(model(long_x)[0])
    assert "_DeferredWeightGradsBackward" not in _graph_names(model(short_x)[0])
    model.defer_weight_grads = False
    assert "_DeferredWeightGradsBackward" not in _graph_names(model(long_x)[0])
    model.defer_weight_grads = True
    with torch.no_grad():
        y, _ = model(long_x)
    assert y.grad_fn is None


def test_gradcheck_through_the_deferred_path() -> None:
    model = _model(hidden_size=3, word_size=2, memory_size=3, num_layers=2, layer_norm=True)
    x = torch.randn(1, DNC.DEFER_MIN_STEPS, 5, dtype=torch.float64,
                    generator=torch.Generator().manual_seed(3)).requires_grad_()
    names = [n for n, _ in model.named_parameters()]

    def run(x_: torch.Tensor, *flat: torch.Tensor) -> torch.Tensor:
        y, _ = torch.func.functional_call(model, dict(zip(names, flat, strict=True)), (x_,))
        return y

    assert torch.autograd.gradcheck(run, (x, *model.parameters()), eps=1e-6, atol=1e-5,
                                    fast_mode=True)


# --- the whole controller step in C++ (fused_cpu.controller_step) ------------------------


@pytest.fixture(scope="module")
def built() -> None:
    from kgdnc.dnc import fused_cpu

    assert fused_cpu.available(), "the fused C++ step failed to build (see the warning)"


@pytest.mark.parametrize("layer_norm", [False, True])
@pytest.mark.parametrize("clips", [(None, None), (1e-3, 0.3)])
@pytest.mark.parametrize("node", ["ControllerStepFunction", "UnrollFunction"])
def test_whole_controller_step_equals_the_eager_step(
    built: None, layer_norm: bool, clips: tuple[float | None, float | None], node: str
) -> None:
    """One C++ node per step (``fuse_unroll = False``), or one for the whole unroll."""
    lstm_clip, clip = clips
    x = torch.randn(3, 12, 5, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    results = []
    for fused in ("off", "auto"):
        model = _model(layer_norm=layer_norm, fused=fused, lstm_grad_clip=lstm_clip,
                       controller_clip=clip)  # fmt: skip
        model.fuse_unroll = node == "UnrollFunction"
        y, state = model(x)
        names = str(_graph_names(y))
        assert (node in names) == (fused == "auto")
        other = "UnrollFunction" if node == "ControllerStepFunction" else "ControllerStepFunction"
        assert other not in names
        loss = y.sin().sum() + 0.3 * state.controller.h.sum() + 0.2 * state.controller.c.sum()
        loss.backward()
        with torch.no_grad():
            y_eval, _ = model(x)
        grads = {n: p.grad.clone() for n, p in model.named_parameters()}
        results.append((y.detach(), y_eval, state.controller.h.detach(), grads))
    (y0, e0, h0, g0), (y1, e1, h1, g1) = results
    torch.testing.assert_close(y1, y0, rtol=0, atol=1e-12)
    torch.testing.assert_close(e1, e0, rtol=0, atol=1e-12)
    torch.testing.assert_close(h1, h0, rtol=0, atol=1e-12)
    for name, grad in g0.items():
        assert grad.abs().max() > 0, name
        torch.testing.assert_close(g1[name], grad, rtol=1e-10, atol=1e-12, msg=name)


def test_gradcheck_whole_controller_step(built: None) -> None:
    from kgdnc.dnc import fused_cpu

    gen = torch.Generator().manual_seed(5)
    b, h, reads, s = 2, 3, 4, 5

    def rand(*shape: int, grad: bool = True) -> torch.Tensor:
        return torch.randn(*shape, generator=gen, dtype=torch.float64).requires_grad_(grad)

    weights = (rand(reads, 4 * h, grad=False), rand(h, 4 * h, grad=False),
               rand(h, s, grad=False))  # fmt: skip
    inputs = (rand(b, 4 * h), rand(b, reads), rand(b, h), rand(b, h), rand(h), rand(h),
              rand(b, s), rand(s), rand(s))  # fmt: skip

    def run(gx, r, hp, cp, g_h, b_h, xb, g_i, b_i):  # type: ignore[no-untyped-def]
        return tuple(fused_cpu.controller_step(gx, r, hp, cp, (g_h, b_h), xb, (g_i, b_i),
                                               weights, lstm_clip=None, clip=0.8))

    assert torch.autograd.gradcheck(run, inputs, eps=1e-6, atol=1e-5)
