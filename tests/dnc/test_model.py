"""The whole DNC: shapes, reads reaching the controller, memory resize, gradients, options."""

from __future__ import annotations

import pytest
import torch

from kgdnc.dnc import (
    DNC,
    AccessState,
    DenseLinks,
    DNCConfig,
    DNCState,
    LSTMBaseline,
    SparseLinks,
    access_step,
    split_interface,
)
from kgdnc.dnc.fused import CosineContent, DenseLinkRead, EraseWrite, SparseLinkRead
from kgdnc.errors import UserError

TINY = dict(input_size=3, output_size=2, hidden_size=6, word_size=4, read_heads=2, memory_size=5)


def _x(b: int, steps: int, i: int = 3, seed: int = 0, dtype: torch.dtype = torch.float32):
    return torch.randn(b, steps, i, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _model(seed: int = 0, **overrides: object) -> DNC:
    torch.manual_seed(seed)
    return DNC(DNCConfig(**{**TINY, **overrides}))  # type: ignore[arg-type]


@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("sparsity", [None, 2])
def test_shapes_of_output_and_state(controller: str, layers: int, sparsity: int | None) -> None:
    model = _model(controller=controller, num_layers=layers, link_sparsity=sparsity)
    b, steps = 2, 4
    y, state = model(_x(b, steps))
    assert y.shape == (b, steps, 2)
    assert isinstance(state, DNCState)
    acc = state.access
    assert isinstance(acc, AccessState)
    n, w, r = 5, 4, 2
    assert acc.memory.shape == (b, n, w)
    assert acc.read_weights.shape == (b, r, n)
    assert acc.write_weights.shape == (b, n)
    assert acc.usage.shape == (b, n) and acc.precedence.shape == (b, n)
    assert acc.read_vectors.shape == (b, r, w)
    if sparsity is None:
        assert isinstance(acc.links, DenseLinks) and acc.links.link.shape == (b, n, n)
    else:
        assert isinstance(acc.links, SparseLinks) and acc.links.values.shape == (b, n, 2)
        assert acc.links.index.dtype == torch.int64
    h_layers = layers if controller == "lstm" else 0
    assert state.controller.h.shape == (h_layers, b, 6)
    assert state.controller.c.shape == (h_layers, b, 6)
    # w^r mixes content (sums to 1) with link weightings (sum ≤ 1)
    assert torch.all(acc.read_weights >= 0) and torch.all(acc.read_weights.sum(-1) <= 1 + 1e-5)


def test_state_carries_over_between_calls() -> None:
    model = _model()
    x = _x(2, 6)
    y_all, state_all = model(x)
    y_a, state = model(x[:, :2])
    y_b, state = model(x[:, 2:], state)
    torch.testing.assert_close(torch.cat([y_a, y_b], 1), y_all)
    torch.testing.assert_close(state.access.memory, state_all.access.memory)


@pytest.mark.parametrize("layers", [1, 2])
def test_a_reset_step_zeroes_the_controller_state_and_keeps_the_memory(layers: int) -> None:
    """reset_inputs=(0, 1): a step whose inputs 0 and 1 are both 1 starts from a zero
    LSTM state: the same as stopping before it and going on with (h, c) zeroed and the
    memory and read vectors kept; the steps before it still matter through the memory."""
    model = _model(num_layers=layers, reset_inputs=(0, 1))
    x = _x(2, 7)
    x[:, 4, :2] = 1.0  # both episodes reset before step 4
    y_all, state_all = model(x)
    y_a, state = model(x[:, :4])
    ctrl = type(state.controller)(torch.zeros_like(state.controller.h),
                                  torch.zeros_like(state.controller.c))
    y_b, state = model(x[:, 4:], DNCState(ctrl, state.access))
    torch.testing.assert_close(torch.cat([y_a, y_b], 1), y_all)
    torch.testing.assert_close(state.controller.h, state_all.controller.h)
    plain = _model(num_layers=layers)  # the same weights without resets differ after step 4
    assert not torch.allclose(plain(x)[0][:, 4:], y_all[:, 4:])
    torch.testing.assert_close(plain(x)[0][:, :4], y_all[:, :4])
    x_other = x.clone()
    x_other[:, :4, 2] += 1.0  # earlier inputs still reach the later steps (memory)
    assert not torch.allclose(model(x_other)[0][:, 4:], y_all[:, 4:])


def test_reset_inputs_are_checked_and_saved() -> None:
    with pytest.raises(UserError, match="reset_inputs"):
        DNCConfig(**{**TINY, "reset_inputs": (3,)})  # type: ignore[arg-type]
    with pytest.raises(UserError, match="lstm controller"):
        DNCConfig(**{**TINY, "reset_inputs": (0,), "controller": "feedforward"})  # type: ignore[arg-type]
    cfg = DNCConfig(**{**TINY, "reset_inputs": (0, 1)})  # type: ignore[arg-type]
    data = {**cfg.to_dict(), "reset_inputs": [0, 1]}  # as JSON gives it back
    assert DNCConfig.from_dict(data) == cfg
    old = cfg.to_dict()
    del old["reset_inputs"]  # a checkpoint from before the field: never resets
    assert DNCConfig.from_dict(old).reset_inputs == ()


def test_previous_reads_change_the_next_controller_input() -> None:
    model = _model()
    x = _x(1, 1)
    state = model.initial_state(1)
    reads = torch.randn(1, 2, 4, generator=torch.Generator().manual_seed(1), requires_grad=True)
    state = state._replace(access=state.access._replace(read_vectors=reads))
    y, _ = model(x, state)
    # r_{t-1} reaches y_t only through the controller (y_t uses the current reads)
    (grad,) = torch.autograd.grad(y.sum(), reads)
    assert grad.abs().sum() > 0
    y_zero, _ = model(x)
    assert not torch.allclose(y, y_zero)
    # through time: the step-1 output depends on the step-0 reads, controller-wise
    x2 = _x(1, 2)
    state = model.initial_state(1)
    trace_y, _, trace = model.trace(x2, state)
    assert trace.read_weights.shape == (1, 2, 2, 5)
    with torch.no_grad():
        model.weight_r.zero_()
    y_cut, _ = model(x2)
    assert torch.allclose(y_cut[:, 0], trace_y[:, 0], atol=1e-6)  # r_0 = 0 at step 0
    assert not torch.allclose(y_cut[:, 1], trace_y[:, 1], atol=1e-6)


def test_no_parameter_depends_on_memory_size() -> None:
    shapes = {k: v.shape for k, v in _model(memory_size=5).state_dict().items()}
    for n in (1, 64):
        other = {k: v.shape for k, v in _model(memory_size=n).state_dict().items()}
        assert other == shapes


def test_weights_used_at_16_slots_run_at_8_and_4096() -> None:
    torch.manual_seed(0)
    cfg = DNCConfig(input_size=4, output_size=4, hidden_size=8, word_size=4, read_heads=2,
                    memory_size=16)  # fmt: skip
    model = DNC(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        x = torch.randn(2, 5, 4, generator=gen)
        y, _ = model(x)
        loss = (y - x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(1, 3, 4, generator=gen)
    with torch.no_grad():
        for n in (8, 4096):
            state = model.initial_state(1, memory_size=n)
            y, state = model(x, state)
            assert y.shape == (1, 3, 4) and torch.isfinite(y).all()
            assert state.access.memory.shape == (1, n, 4)
            assert state.access.usage.sum() > 0  # the memory was written
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])


def test_dtype_and_device_follow_the_weights() -> None:
    model = _model().double()
    state = model.initial_state(2, memory_size=7)
    assert state.access.memory.dtype == torch.float64
    assert state.controller.h.dtype == torch.float64
    y, state = model(_x(2, 3, dtype=torch.float64), state)
    assert y.dtype == torch.float64 and state.access.memory.shape == (2, 7, 4)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"controller": "feedforward", "num_layers": 2},
        {"num_layers": 2, "key_masking": True, "deallocation_erase": True, "link_sharpness": True},
        {"controller_clip": 0.5},
    ],
)
def test_gradcheck_tiny_float64(options: dict[str, object]) -> None:
    torch.manual_seed(0)
    cfg = DNCConfig(input_size=2, output_size=2, hidden_size=3, word_size=2, read_heads=2,
                    memory_size=3, **options)  # type: ignore[arg-type]  # fmt: skip
    model = DNC(cfg).double()
    x = _x(1, 3, i=2, dtype=torch.float64).requires_grad_()
    params = [p for p in model.parameters()]
    names = [n for n, _ in model.named_parameters()]

    def run(x_: torch.Tensor, *flat: torch.Tensor) -> torch.Tensor:
        state = dict(zip(names, flat, strict=True))
        y, _ = torch.func.functional_call(model, state, (x_,))
        return y

    assert torch.autograd.gradcheck(run, (x, *params), eps=1e-6, atol=1e-5, fast_mode=True)


@pytest.mark.slow
def test_gradcheck_full_mode_with_every_option() -> None:
    torch.manual_seed(1)
    cfg = DNCConfig(input_size=2, output_size=2, hidden_size=3, word_size=2, read_heads=2,
                    memory_size=3, num_layers=2, key_masking=True, deallocation_erase=True,
                    link_sharpness=True)  # fmt: skip
    model = DNC(cfg).double()
    x = _x(1, 3, i=2, dtype=torch.float64).requires_grad_()
    names = [n for n, _ in model.named_parameters()]

    def run(x_: torch.Tensor, *flat: torch.Tensor) -> torch.Tensor:
        y, _ = torch.func.functional_call(model, dict(zip(names, flat, strict=True)), (x_,))
        return y

    assert torch.autograd.gradcheck(run, (x, *model.parameters()), eps=1e-6, atol=1e-5)


def test_gradcheck_fused_functions() -> None:
    gen = torch.Generator().manual_seed(0)
    d = dict(dtype=torch.float64)
    b, n, r, w, k = 2, 4, 2, 3, 2
    link = (torch.rand(b, n, n, generator=gen, **d) / n).requires_grad_()
    write = (torch.rand(b, n, generator=gen, **d) / n).requires_grad_()
    prec = (torch.rand(b, n, generator=gen, **d) / n).requires_grad_()
    reads = torch.rand(b, r, n, generator=gen, **d).requires_grad_()
    assert torch.autograd.gradcheck(DenseLinkRead.apply, (link, write, prec, reads))
    memory = torch.randn(b, n, w, generator=gen, **d).requires_grad_()
    erase = torch.rand(b, w, generator=gen, **d).requires_grad_()
    vector = torch.randn(b, w, generator=gen, **d).requires_grad_()
    assert torch.autograd.gradcheck(EraseWrite.apply, (memory, write, erase, vector))
    keys = torch.randn(b, r, w, generator=gen, **d).requires_grad_()
    strengths = (1 + torch.rand(b, r, generator=gen, **d)).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda m, k_, s: CosineContent.apply(m, k_, s, 1e-6), (memory, keys, strengths)
    )
    index = torch.stack([torch.randperm(n, generator=gen)[:k] for _ in range(b * n)])
    index = index.view(b, n, k)
    values = torch.rand(b, n, k, generator=gen, **d).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda v, rw: SparseLinkRead.apply(v, index, rw), (values, reads)
    )


def test_sparse_model_has_finite_gradients() -> None:
    model = _model(link_sparsity=2, memory_size=6)
    y, _ = model(_x(2, 6))
    y.pow(2).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert model.weight_r.grad.abs().sum() > 0  # type: ignore[union-attr]


def test_deallocation_erase_wipes_freed_slots() -> None:
    cfg = DNCConfig(**TINY, deallocation_erase=True)  # type: ignore[arg-type]
    b, n, w, r = 1, 5, 4, 2
    prev = (
        DNC(cfg)
        .initial_state(b)
        .access._replace(
            memory=torch.ones(b, n, w),
            read_weights=torch.nn.functional.one_hot(torch.tensor([[1, 3]]), n).float(),
        )
    )
    xi = torch.zeros(b, cfg.interface_size)
    sizes_before_free = r * w + r + w + 1 + w + w
    xi[:, sizes_before_free : sizes_before_free + r] = 50.0  # free gates ≈ 1
    xi[:, sizes_before_free + r + 1] = -50.0  # write gate ≈ 0: nothing written
    iface = split_interface(xi, cfg)
    after = access_step(prev, iface, cfg)
    assert after.memory[0, 1].abs().max() < 1e-6 and after.memory[0, 3].abs().max() < 1e-6
    torch.testing.assert_close(after.memory[0, [0, 2, 4]], torch.ones(3, w))
    plain = DNCConfig(**TINY)  # type: ignore[arg-type]
    kept = access_step(prev, split_interface(xi, plain), plain)
    torch.testing.assert_close(kept.memory, prev.memory, atol=1e-6, rtol=0)


def test_link_sharpness_changes_reads_and_key_masking_adds_fields() -> None:
    x = _x(2, 5)
    plain = _model()
    sharp = DNC(DNCConfig(**TINY, link_sharpness=True))  # type: ignore[arg-type]
    masked = DNC(DNCConfig(**TINY, key_masking=True))  # type: ignore[arg-type]
    for model in (sharp, masked):
        assert model.interface.out_features > plain.interface.out_features
        y, state = model(x)
        assert torch.isfinite(y).all()


def test_controller_clip_bounds_interface_and_output() -> None:
    model = _model(controller_clip=0.25)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(100.0)
        y, _ = model(_x(2, 4))
    # y = clip(v) + W_r r: with the read part removed, |y| ≤ clip
    with torch.no_grad():
        model.output_r.weight.zero_()
        y, state = model(_x(2, 4))
    assert y.abs().max() <= 0.25 + 1e-6
    assert state.access.read_weights.isfinite().all()


def test_lstm_gradient_clip_hook_bounds_gate_gradients() -> None:
    x = _x(2, 4)
    grads = {}
    for clip in (None, 1e-4):
        model = _model(lstm_grad_clip=clip)
        y, _ = model(x)
        (1e4 * y).sum().backward()
        grads[clip] = model.weight_x.grad.abs().max().item()  # type: ignore[union-attr]
    # dW_x = Σ_t gate_gradᵀ x_t with every gate gradient clipped to 1e-4
    bound = 1e-4 * x.abs().sum(dim=(0, 1)).max().item()
    assert grads[1e-4] <= bound + 1e-9
    assert grads[None] > 10 * grads[1e-4]


def test_bad_inputs_are_user_errors() -> None:
    model = _model()
    with pytest.raises(UserError, match="input"):
        model(torch.zeros(2, 3, 7))
    with pytest.raises(UserError, match="batch"):
        model(_x(2, 3), model.initial_state(3))
    with pytest.raises(UserError, match="memory size"):
        model.initial_state(2, memory_size=0)


def test_lstm_baseline_has_the_same_call_signature() -> None:
    cfg = DNCConfig(**TINY, num_layers=2, lstm_grad_clip=10.0)  # type: ignore[arg-type]
    model = LSTMBaseline(cfg)
    x = _x(2, 4)
    y, state = model(x, model.initial_state(2, memory_size=99))
    assert y.shape == (2, 4, 2) and state.h.shape == (2, 2, 6)
    y2, _ = model(x[:, 2:], model(x[:, :2])[1])
    torch.testing.assert_close(y2, y[:, 2:])
    y.sum().backward()
    assert state.detach().h.requires_grad is False


def test_detach_cuts_the_graph() -> None:
    model = _model(link_sparsity=2)
    _, state = model(_x(1, 2))
    cut = state.detach()
    assert not cut.access.memory.requires_grad
    assert not cut.access.links.values.requires_grad  # type: ignore[union-attr]
    y, _ = model(_x(1, 2), cut)
    y.sum().backward()
