"""The later-work options: key-mask floor, memory init, bypass dropout, layer norm."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from kgdnc.dnc import DNC, DNCConfig, split_interface
from kgdnc.dnc.addressing import content_weighting
from kgdnc.dnc.interface import interface_sizes
from kgdnc.errors import UserError

TINY = dict(input_size=3, output_size=2, hidden_size=6, word_size=4, read_heads=2, memory_size=5)


def _model(seed: int = 0, **overrides: object) -> DNC:
    torch.manual_seed(seed)
    return DNC(DNCConfig(**{**TINY, **overrides}))  # type: ignore[arg-type]


def _x(b: int = 2, steps: int = 6, seed: int = 1) -> torch.Tensor:
    return torch.randn(b, steps, 3, generator=torch.Generator().manual_seed(seed))


# --- config ------------------------------------------------------------------------------


def test_new_fields_default_off_and_round_trip() -> None:
    cfg = DNCConfig(**TINY)  # type: ignore[arg-type]
    assert cfg.key_mask_floor == 0.0 and cfg.memory_init is None
    assert cfg.bypass_dropout == 0.0 and cfg.layer_norm is False
    on = dataclasses.replace(
        cfg, key_masking=True, key_mask_floor=0.1, memory_init=1e-3, bypass_dropout=0.3,
        layer_norm=True,
    )
    assert DNCConfig.from_dict(on.to_dict()) == on


def test_config_saved_before_the_new_fields_still_loads() -> None:
    cfg = DNCConfig(**TINY)  # type: ignore[arg-type]
    old = cfg.to_dict()
    for name in ("key_mask_floor", "memory_init", "bypass_dropout", "layer_norm"):
        del old[name]
    assert DNCConfig.from_dict(old) == cfg
    # and the weights of such a model load into the rebuilt one (no new parameters)
    model = _model()
    DNC(DNCConfig.from_dict(old)).load_state_dict(model.state_dict())


@pytest.mark.parametrize(
    "field,value",
    [
        ("key_mask_floor", -0.1), ("key_mask_floor", 1.0), ("bypass_dropout", 1.0),
        ("bypass_dropout", -0.5), ("memory_init", float("nan")), ("memory_init", "0.1"),
    ],
)
def test_bad_option_values_are_user_errors(field: str, value: object) -> None:
    with pytest.raises(UserError, match=field):
        DNCConfig(**{**TINY, field: value})  # type: ignore[arg-type]


# --- key_mask_floor ------------------------------------------------------------------------


def test_mask_floor_keeps_every_word_position_in_the_lookup() -> None:
    floor = 0.1
    cfg = DNCConfig(**{**TINY, "key_masking": True, "key_mask_floor": floor})  # type: ignore[arg-type]
    r, w = cfg.read_heads, cfg.word_size
    sizes = interface_sizes(cfg)
    xi = torch.randn(3, cfg.interface_size, dtype=torch.float64)
    start = sum(sizes[:8])
    xi[:, start : start + (r + 1) * w] = -1e4  # mask logits: sigmoid → 0
    iface = split_interface(xi, cfg)
    assert iface.read_masks is not None and iface.write_mask is not None
    assert torch.allclose(iface.read_masks, torch.full((3, r, w), floor, dtype=torch.float64))
    assert torch.allclose(iface.write_mask, torch.full((3, 1, w), floor, dtype=torch.float64))
    # the same logits without a floor mask everything: lookups cannot tell slots apart
    plain = split_interface(xi, dataclasses.replace(cfg, key_mask_floor=0.0))
    assert plain.read_masks is not None
    memory = torch.eye(w, dtype=torch.float64).unsqueeze(0).expand(3, w, w)  # slot i = e_i
    keys = torch.eye(w, dtype=torch.float64)[:r].unsqueeze(0).expand(3, r, w)
    beta = torch.full((3, r), 50.0, dtype=torch.float64)
    masked = content_weighting(memory, keys, beta, cfg.epsilon, plain.read_masks)
    assert torch.allclose(masked, torch.full_like(masked, 1.0 / w), atol=1e-6)
    floored = content_weighting(memory, keys, beta, cfg.epsilon, iface.read_masks)
    assert torch.equal(floored.argmax(-1)[0], torch.arange(r))  # key i finds slot i
    assert floored.max() > 0.99


def test_mask_floor_zero_is_the_plain_sigmoid() -> None:
    cfg = DNCConfig(**{**TINY, "key_masking": True})  # type: ignore[arg-type]
    xi = torch.randn(2, cfg.interface_size)
    iface = split_interface(xi, cfg)
    w, r = cfg.word_size, cfg.read_heads
    start = sum(interface_sizes(cfg)[:8])
    assert iface.read_masks is not None
    expected = torch.sigmoid(xi[:, start : start + r * w]).view(2, r, w)
    assert torch.equal(iface.read_masks, expected)


# --- memory_init ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1e-6, 0.01])
def test_memory_init_fills_m0_at_any_memory_size(value: float) -> None:
    model = _model(memory_init=value)
    for n in (5, 9):
        state = model.initial_state(2, memory_size=n)
        assert torch.equal(state.access.memory, torch.full((2, n, 4), value))
        assert torch.equal(state.access.read_vectors, torch.zeros(2, 2, 4))
    assert torch.equal(_model().initial_state(2).access.memory, torch.zeros(2, 5, 4))


@pytest.mark.parametrize("value", [1e-6, 0.01])
def test_memory_init_gives_uniform_first_lookup_and_finite_gradients(value: float) -> None:
    model = _model(memory_init=value)
    state = model.initial_state(2)
    # equal rows: the first content lookup cannot prefer a slot
    keys = torch.randn(2, 3, 4)
    weights = content_weighting(state.access.memory, keys, torch.full((2, 3), 5.0), 1e-6)
    assert torch.allclose(weights, torch.full_like(weights, 0.2), atol=1e-6)
    y, _ = model(_x(), state)
    y.square().sum().backward()
    for p in model.parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all()


def test_memory_init_well_above_epsilon_gives_a_full_cosine() -> None:
    # a key along the constant rows: cos = |k||M|/(|k||M| + ε) ≈ 1 at 0.01, shrunk at 1e-7
    keys = torch.ones(1, 1, 4, dtype=torch.float64)
    beta = torch.ones(1, 1, dtype=torch.float64)
    memory = torch.full((1, 2, 4), 0.01, dtype=torch.float64)
    memory[0, 1] = -0.01  # the opposite direction
    w = content_weighting(memory, keys, beta, 1e-6)
    assert torch.allclose(w[0, 0], torch.softmax(torch.tensor([1.0, -1.0]), -1).double(), atol=1e-3)


def test_memory_init_changes_what_the_model_computes() -> None:
    x = _x()
    y0, _ = _model()(x)
    y1, _ = _model(memory_init=0.01)(x)
    assert not torch.allclose(y0, y1)


# --- bypass_dropout ------------------------------------------------------------------------


def test_bypass_dropout_only_drops_the_direct_output_path_in_training() -> None:
    x = _x(b=4, steps=8)
    model = _model(bypass_dropout=0.5)
    reference = _model(bypass_dropout=0.0)  # same seed: same weights
    model.eval()
    reference.eval()
    y_eval, s_eval = model(x)
    y_ref, _ = reference(x)
    assert torch.equal(y_eval, y_ref)  # eval: dropout is off
    model.train()
    torch.manual_seed(3)
    y_train, s_train = model(x)
    assert not torch.allclose(y_train, y_eval)
    # the memory and the reads never see the dropout: same state as in eval mode
    assert torch.equal(s_train.access.memory, s_eval.access.memory)
    assert torch.equal(s_train.access.read_vectors, s_eval.access.read_vectors)


def test_bypass_dropout_zeroes_about_p_of_h_in_the_output_path() -> None:
    model = _model(bypass_dropout=0.5, hidden_size=64)
    model.defer_weight_grads = False  # W_ξ runs as its module at every step, so the hook fires
    captured: list[torch.Tensor] = []
    model.output_v.register_forward_hook(lambda m, inp, out: captured.append(inp[0]))
    model.interface.register_forward_hook(lambda m, inp, out: captured.append(inp[0]))
    model.train()
    torch.manual_seed(0)
    model(_x(b=8, steps=10))
    h_out = captured[-1]  # (B, T, H) into W_y
    h_iface = torch.stack(captured[:-1], dim=1)  # (B, T, H) into W_ξ, never dropped
    dropped = h_out == 0
    assert 0.4 < dropped.double().mean().item() < 0.6
    assert torch.allclose(h_out[~dropped], 2.0 * h_iface[~dropped])
    assert (h_iface != 0).all()


# --- layer_norm ----------------------------------------------------------------------------


@pytest.mark.parametrize("layers", [1, 2])
def test_layer_norm_normalises_each_layer_output_and_the_interface(layers: int) -> None:
    model = _model(layer_norm=True, num_layers=layers, hidden_size=8)
    into_interface: list[torch.Tensor] = []
    xis: list[torch.Tensor] = []
    model.interface.register_forward_hook(lambda m, inp, out: into_interface.append(inp[0]))
    assert model.norm_interface is not None
    model.norm_interface.register_forward_hook(lambda m, inp, out: xis.append(out))
    with torch.no_grad():
        model.interface.weight.mul_(30.0)  # a big ξ before LN
        model(_x())
    h = torch.stack(into_interface).view(-1, layers, 8)
    assert torch.allclose(h.mean(-1), torch.zeros(()), atol=1e-5)
    assert torch.allclose(h.var(-1, unbiased=False), torch.ones(()), atol=1e-2)
    xi = torch.stack(xis)
    assert torch.allclose(xi.mean(-1), torch.zeros(()), atol=1e-5)
    assert torch.allclose(xi.var(-1, unbiased=False), torch.ones(()), atol=1e-2)


def test_layer_norm_makes_the_model_blind_to_the_interface_scale() -> None:
    x = _x()
    a = _model(layer_norm=True)
    b = _model(layer_norm=True)
    with torch.no_grad():
        b.interface.weight.mul_(7.0)
        b.interface.bias.mul_(7.0)
    ya, sa = a(x)
    yb, sb = b(x)
    assert torch.allclose(ya, yb, atol=1e-4)
    assert torch.allclose(sa.access.memory, sb.access.memory, atol=1e-4)
    # without layer norm the scale matters
    c, d = _model(), _model()
    with torch.no_grad():
        d.interface.weight.mul_(7.0)
    assert not torch.allclose(c(x)[0], d(x)[0], atol=1e-3)


def test_layer_norm_parameters_learn_and_only_exist_when_on() -> None:
    assert _model().norm_interface is None and _model().norm_h_weight is None
    model = _model(layer_norm=True, num_layers=2)
    assert model.norm_h_weight is not None and model.norm_h_weight.shape == (2, 6)
    y, _ = model(_x())
    y.square().sum().backward()
    assert model.norm_h_weight.grad is not None and model.norm_h_weight.grad.abs().sum() > 0
    assert model.norm_interface is not None and model.norm_interface.weight.grad is not None


def test_all_options_together_train_without_nan() -> None:
    model = _model(
        key_masking=True, key_mask_floor=0.1, memory_init=1e-6, bypass_dropout=0.2,
        layer_norm=True, link_sparsity=2, deallocation_erase=True, link_sharpness=True,
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x = _x(b=3, steps=12)
    target = torch.randn(3, 12, 2)
    first = None
    for _ in range(20):
        opt.zero_grad()
        loss = (model(x)[0] - target).square().mean()
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
        assert torch.isfinite(loss)
    model.eval()
    assert (model(x)[0] - target).square().mean().item() < first
