"""The fused C++ access step equals the eager reference, and falls back when it must.

The first test to need the compiled step builds it (about 20-60 s on a fresh
cache, once per session: the ``built`` fixture is module-scoped); later runs load
it from the cache.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from kgdnc.dnc import DNC, DNCConfig, access_step, fused_cpu, split_interface
from kgdnc.dnc.state import AccessState, DenseLinks, SparseLinks, initial_access_state

F64 = torch.float64
BASE = dict(input_size=3, output_size=2, word_size=4, read_heads=2)

OPTIONS: dict[str, dict[str, object]] = {
    "dense": {},
    "sparse": dict(link_sparsity=3),
    "sparse_threshold": dict(link_sparsity=3, sparse_link_threshold=True),
    "key_masking": dict(key_masking=True),
    "key_mask_floor": dict(key_masking=True, key_mask_floor=0.1),
    "deallocation_erase": dict(deallocation_erase=True),
    "link_sharpness": dict(link_sharpness=True),
    "all_dense": dict(
        key_masking=True, key_mask_floor=0.1, deallocation_erase=True, link_sharpness=True
    ),
    "all_sparse": dict(
        link_sparsity=2, key_masking=True, key_mask_floor=0.1, deallocation_erase=True,
        link_sharpness=True, sparse_link_threshold=True,
    ),
}


@pytest.fixture(scope="module")
def built() -> None:
    """Build (or load from the cache) the fused step once for this module."""
    fused_cpu.reset()
    assert fused_cpu.available(), "the fused C++ step failed to build (see the warning)"


def _random_state(cfg: DNCConfig, b: int, n: int, gen: torch.Generator) -> AccessState:
    """A plausible mid-episode state: weightings on the simplex, usage in (0, 1)."""
    w, r = cfg.word_size, cfg.read_heads
    cpu = torch.device("cpu")
    start = initial_access_state(b, n, w, r, cfg.link_sparsity, dtype=F64, device=cpu)

    def simplex(*shape: int, mass: float) -> torch.Tensor:
        return torch.softmax(2 * torch.randn(*shape, generator=gen, dtype=F64), -1) * mass

    links: DenseLinks | SparseLinks
    if isinstance(start.links, SparseLinks):
        # values around 1/K so that the threshold keeps some and drops some
        k = start.links.values.shape[-1]
        values = torch.rand(start.links.values.shape, generator=gen, dtype=F64) * 2.0 / k
        links = SparseLinks(values, start.links.index)
    else:
        link = torch.rand(b, n, n, generator=gen, dtype=F64) / n
        link.diagonal(dim1=-2, dim2=-1).zero_()
        links = DenseLinks(link)
    return AccessState(
        memory=torch.randn(b, n, w, generator=gen, dtype=F64),
        read_weights=simplex(b, r, n, mass=0.9),
        write_weights=simplex(b, n, mass=0.8),
        usage=torch.rand(b, n, generator=gen, dtype=F64),
        precedence=simplex(b, n, mass=0.7),
        links=links,
        read_vectors=start.read_vectors,
    )


def _leaves(state: AccessState, xi: torch.Tensor) -> list[torch.Tensor]:
    links = state.links
    tensor = links.values if isinstance(links, SparseLinks) else links.link
    tensors = [xi, state.memory, state.read_weights, state.write_weights, state.usage,
               state.precedence, tensor]
    return [t.detach().clone().requires_grad_() for t in tensors]


def _step(cfg: DNCConfig, state: AccessState, xi: torch.Tensor, fused: bool):
    """One step from copies of ``state``; returns outputs and d(random loss)/d(inputs)."""
    leaves = _leaves(state, xi)
    x, m, rw, ww, u, p, link = leaves
    links = (
        SparseLinks(link, state.links.index)
        if isinstance(state.links, SparseLinks)
        else DenseLinks(link)
    )
    prev = AccessState(m, rw, ww, u, p, links, state.read_vectors)
    if fused:
        out = fused_cpu.access_step(prev, x, cfg)
    else:
        out = access_step(prev, split_interface(x, cfg), cfg)
    dense = out.links.to_dense() if isinstance(out.links, SparseLinks) else out.links.link
    results = [out.memory, out.read_weights, out.write_weights, out.usage, out.precedence,
               dense, out.read_vectors]
    gen = torch.Generator().manual_seed(123)
    loss = sum((t * torch.randn(t.shape, generator=gen, dtype=t.dtype)).sum() for t in results)
    grads = torch.autograd.grad(loss, leaves)
    return [t.detach() for t in results], grads, out


@pytest.mark.parametrize("n", [1, 2, 7, 64])
@pytest.mark.parametrize("option", list(OPTIONS))
def test_fused_step_equals_eager_forward_and_backward(built: None, option: str, n: int) -> None:
    cfg = DNCConfig(**{**BASE, **OPTIONS[option]})  # type: ignore[arg-type]
    gen = torch.Generator().manual_seed(n)
    state = _random_state(cfg, 3, n, gen)
    xi = 2.0 * torch.randn(3, cfg.interface_size, generator=gen, dtype=F64)
    eager, eager_grads, eager_out = _step(cfg, state, xi, fused=False)
    fused, fused_grads, fused_out = _step(cfg, state, xi, fused=True)
    names = ["memory", "read_weights", "write_weights", "usage", "precedence", "links", "reads"]
    for name, a, b in zip(names, eager, fused, strict=True):
        assert a.shape == b.shape, name
        assert torch.allclose(a, b, rtol=0, atol=1e-6), (name, (a - b).abs().max())
    grad_names = ["xi", "memory", "read_weights", "write_weights", "usage", "precedence", "links"]
    for name, a, b in zip(grad_names, eager_grads, fused_grads, strict=True):
        assert torch.allclose(a, b, rtol=0, atol=1e-6), ("grad " + name, (a - b).abs().max())
    if isinstance(eager_out.links, SparseLinks):
        # the same top-K choices: the very same rows of (column, value) pairs
        assert torch.equal(eager_out.links.index, fused_out.links.index)
        assert torch.allclose(eager_out.links.values, fused_out.links.values, atol=1e-6)


def _compare(
    cfg: DNCConfig, n: int, batch: int, seed: int, dtype: torch.dtype, atol: float
) -> None:
    """One step from a random state in ``dtype``: fused and eager outputs and gradients agree."""
    gen = torch.Generator().manual_seed(seed)
    state = _random_state(cfg, batch, n, gen)
    state = AccessState(*(t.to(dtype) if t.is_floating_point() else t for t in state[:5]),
                        state.links.__class__(*(t.to(dtype) if t.is_floating_point() else t
                                                for t in state.links)),
                        state.read_vectors.to(dtype))
    xi = (2.0 * torch.randn(batch, cfg.interface_size, generator=gen, dtype=F64)).to(dtype)
    eager, eager_grads, _ = _step(cfg, state, xi, fused=False)
    fused, fused_grads, _ = _step(cfg, state, xi, fused=True)
    for i, (a, b) in enumerate(zip([*eager, *eager_grads], [*fused, *fused_grads], strict=True)):
        assert a.shape == b.shape and a.dtype == b.dtype == dtype, i
        assert torch.allclose(a, b, rtol=0, atol=atol), (i, (a - b).abs().max())


@pytest.mark.parametrize("heads", [1, 3, 4, 5])
@pytest.mark.parametrize("n", [9, 17])
@pytest.mark.parametrize("option", ["dense", "link_sharpness", "sparse"])
def test_fused_step_equals_eager_for_any_number_of_heads(
    built: None, option: str, n: int, heads: int
) -> None:
    # the dense link passes keep R = 1, 2, 4 in registers and take any other R
    # from memory; N = 9, 17 leave a partial last vector (8 or 4 lanes)
    cfg = DNCConfig(**{**BASE, "read_heads": heads, **OPTIONS[option]})  # type: ignore[arg-type]
    _compare(cfg, n, 3, seed=10 * n + heads, dtype=F64, atol=1e-6)


@pytest.mark.parametrize("n", [5, 8, 13, 40])
def test_fused_step_in_float32_equals_eager(built: None, n: int) -> None:
    cfg = DNCConfig(**{**BASE, "read_heads": 4})  # type: ignore[arg-type]
    _compare(cfg, n, 2, seed=n, dtype=torch.float32, atol=2e-5)


def test_sharpening_empty_links_in_float32_has_finite_gradients(built: None) -> None:
    # the first step of an episode: every link 0, sharpness exponents near 1, so the
    # sharpened weighting's normaliser sits just above float32's smallest normal and
    # its square underflows (the gradient once divided 0 by it: NaN)
    cfg = DNCConfig(**{**BASE, "read_heads": 4, "link_sharpness": True})  # type: ignore[arg-type]
    state = initial_access_state(2, 64, cfg.word_size, 4, None, dtype=torch.float32,
                                 device=torch.device("cpu"))
    xi = torch.randn(2, cfg.interface_size, generator=torch.Generator().manual_seed(0))
    xi[:, -2 * 4:] = -12.0  # the 2R sharpness fields, the last without key masks
    fields = split_interface(xi, cfg)
    assert fields.forward_sharpness is not None and fields.backward_sharpness is not None
    assert torch.allclose(fields.forward_sharpness, torch.ones(2, 4))
    _, eager_grads, _ = _step(cfg, state, xi, fused=False)
    _, fused_grads, _ = _step(cfg, state, xi, fused=True)
    for a, b in zip(eager_grads, fused_grads, strict=True):
        assert torch.isfinite(b).all()
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-5 * float(a.abs().max()))


def test_fused_step_without_grad_equals_the_recorded_one(built: None) -> None:
    cfg = DNCConfig(**BASE)  # type: ignore[arg-type]
    gen = torch.Generator().manual_seed(3)
    state = _random_state(cfg, 2, 6, gen)
    xi = torch.randn(2, cfg.interface_size, generator=gen, dtype=F64)
    leaves = _leaves(state, xi)
    options = fused_cpu._options(cfg)
    recorded = fused_cpu.fused_op(options, *leaves, None)
    assert recorded[0].grad_fn is not None
    with torch.no_grad():
        plain = fused_cpu.fused_op(options, *leaves, None)
    assert plain[0].grad_fn is None
    for a, b in zip(recorded, plain, strict=True):
        assert torch.equal(a.detach(), b)


def test_second_order_gradients_are_refused(built: None) -> None:
    cfg = DNCConfig(**BASE)  # type: ignore[arg-type]
    gen = torch.Generator().manual_seed(4)
    state = _random_state(cfg, 2, 4, gen)
    xi = torch.randn(2, cfg.interface_size, generator=gen, dtype=F64)
    leaves = _leaves(state, xi)
    out = fused_cpu.fused_op(fused_cpu._options(cfg), *leaves, None)
    with pytest.raises(RuntimeError, match="not differentiable"):
        torch.autograd.grad(out[7].sum(), leaves[0], create_graph=True)


@pytest.mark.parametrize("option", ["dense", "all_sparse", "all_dense"])
def test_gradcheck_of_the_fused_op(built: None, option: str) -> None:
    cfg = DNCConfig(**{**BASE, **OPTIONS[option]})  # type: ignore[arg-type]
    gen = torch.Generator().manual_seed(5)
    state = _random_state(cfg, 2, 5, gen)
    xi = torch.randn(2, cfg.interface_size, generator=gen, dtype=F64)
    leaves = _leaves(state, xi)
    index = state.links.index if isinstance(state.links, SparseLinks) else None
    options = fused_cpu._options(cfg)

    def op(*inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        outs = fused_cpu.fused_op(options, *inputs, index)
        return tuple(o for i, o in enumerate(outs) if i != 6)  # the index is not differentiable

    assert torch.autograd.gradcheck(op, tuple(leaves), eps=1e-6, atol=1e-5)


def _model(cfg: DNCConfig, fused: str) -> DNC:
    torch.manual_seed(0)
    return DNC(dataclasses.replace(cfg, fused=fused)).double()  # type: ignore[arg-type]


@pytest.mark.parametrize("option", ["dense", "sparse", "all_dense", "all_sparse"])
def test_whole_model_with_padded_batch_equals_eager(built: None, option: str) -> None:
    cfg = DNCConfig(**{**BASE, "hidden_size": 6, **OPTIONS[option]})  # type: ignore[arg-type]
    x = torch.randn(4, 9, 3, generator=torch.Generator().manual_seed(2), dtype=F64)
    x[1, 5:] = 0.0  # padded episodes: zero input after their end, as the collate pads
    x[3, 2:] = 0.0
    results = []
    for mode in ("off", "on"):
        model = _model(cfg, mode)
        state = model.initial_state(4, memory_size=6)
        y, final = model(x, state)
        (y.square().sum() + final.access.memory.sum()).backward()
        grads = [p.grad.clone() for p in model.parameters()]  # type: ignore[union-attr]
        results.append((y.detach(), final.access.read_vectors.detach(), grads))
    (y0, r0, g0), (y1, r1, g1) = results
    assert torch.allclose(y0, y1, atol=1e-6) and torch.allclose(r0, r1, atol=1e-6)
    for a, b in zip(g0, g1, strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_fused_lstm_cell_equals_eager_and_passes_gradcheck(built: None) -> None:
    gen = torch.Generator().manual_seed(7)
    b, h = 3, 5
    pre = (2 * torch.randn(b, 4 * h, generator=gen, dtype=F64)).requires_grad_()
    c_prev = torch.randn(b, h, generator=gen, dtype=F64).requires_grad_()
    sig = torch.sigmoid(pre[:, : 3 * h])
    c = torch.addcmul(sig[:, h : 2 * h] * c_prev, sig[:, :h], torch.tanh(pre[:, 3 * h :]))
    h_eager = sig[:, 2 * h :] * torch.tanh(c)
    h_fused, c_fused = fused_cpu.lstm_cell(pre, c_prev)
    assert torch.allclose(h_eager, h_fused, rtol=0, atol=1e-12)
    assert torch.allclose(c, c_fused, rtol=0, atol=1e-12)
    assert torch.autograd.gradcheck(lambda p, q: tuple(fused_cpu.lstm_cell(p, q)), (pre, c_prev))
    assert torch.autograd.gradcheck(lambda p, q: fused_cpu.lstm_cell(p, q)[0], (pre, c_prev))


def test_two_layer_model_with_gradient_clip_equals_eager(built: None) -> None:
    cfg = DNCConfig(
        **{**BASE, "hidden_size": 6, "num_layers": 2, "lstm_grad_clip": 0.01}  # type: ignore[arg-type]
    )
    x = torch.randn(2, 7, 3, generator=torch.Generator().manual_seed(8), dtype=F64)
    results = []
    for mode in ("off", "on"):
        model = _model(cfg, mode)
        y, final = model(x, model.initial_state(2, memory_size=5))
        (y.square().sum() + final.controller.c.sum()).backward()
        grads = [p.grad.clone() for p in model.parameters()]  # type: ignore[union-attr]
        results.append((y.detach(), grads))
    (y0, g0), (y1, g1) = results
    assert torch.allclose(y0, y1, atol=1e-6)
    for a, b in zip(g0, g1, strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_trace_with_the_fused_step_equals_eager(built: None) -> None:
    cfg = DNCConfig(**{**BASE, "hidden_size": 6, "link_sparsity": 2})  # type: ignore[arg-type]
    # a fixed input: near-uniform weights make ties in the top-K that any rounding
    # difference can break either way
    x = torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(2), dtype=F64)
    _, _, eager = _model(cfg, "off").trace(x)
    _, _, fused = _model(cfg, "auto").trace(x)
    for a, b in zip(eager, fused, strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_float32_fused_model_matches_eager(built: None) -> None:
    cfg = DNCConfig(**{**BASE, "hidden_size": 8, "memory_size": 16})  # type: ignore[arg-type]
    x = torch.randn(3, 20, 3)
    torch.manual_seed(0)
    eager = DNC(cfg)
    fused = DNC(dataclasses.replace(cfg, fused="auto"))
    fused.load_state_dict(eager.state_dict())
    assert torch.allclose(eager(x)[0], fused(x)[0], atol=1e-5)


def test_fallback_when_the_build_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise RuntimeError("Error building extension 'kgdnc_fused': c++: not found\nmore")

    monkeypatch.setattr(fused_cpu, "_load", broken)
    fused_cpu.reset()
    try:
        cfg = DNCConfig(**{**BASE, "hidden_size": 6, "fused": "auto"})  # type: ignore[arg-type]
        x = torch.randn(2, 4, 3)
        with pytest.warns(RuntimeWarning) as caught:
            torch.manual_seed(0)
            y, _ = DNC(cfg)(x)
            y2, _ = DNC(cfg)(x)  # a second model: no second warning
        assert len(caught) == 1
        message = str(caught[0].message)
        assert "\n" not in message and "could not be built" in message and "eager" in message
        torch.manual_seed(0)
        y_eager, _ = DNC(dataclasses.replace(cfg, fused="off"))(x)
        assert torch.equal(y, y_eager)
        assert not fused_cpu.available()
    finally:
        fused_cpu.reset()


def test_off_never_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden() -> None:
        raise AssertionError("fused='off' must not build anything")

    monkeypatch.setattr(fused_cpu, "_load", forbidden)
    fused_cpu.reset()
    try:
        cfg = DNCConfig(**{**BASE, "hidden_size": 6})  # type: ignore[arg-type]
        assert cfg.fused == "off"
        DNC(cfg)(torch.randn(2, 3, 3))
    finally:
        fused_cpu.reset()


def test_unsupported_dtype_falls_back_and_on_says_so(built: None) -> None:
    like = torch.zeros(2, dtype=torch.bfloat16)
    auto = DNCConfig(**{**BASE, "fused": "auto"})  # type: ignore[arg-type]
    assert not fused_cpu.use_fused(auto, like)
    with pytest.warns(RuntimeWarning, match="bfloat16"):
        assert not fused_cpu.use_fused(dataclasses.replace(auto, fused="on"), like)
    assert fused_cpu.use_fused(auto, torch.zeros(2))
    assert not fused_cpu.use_fused(dataclasses.replace(auto, fused="off"), torch.zeros(2))


def test_fused_field_is_saved_and_old_configs_load_off() -> None:
    cfg = DNCConfig(**{**BASE, "fused": "auto"})  # type: ignore[arg-type]
    assert DNCConfig.from_dict(cfg.to_dict()).fused == "auto"
    old = cfg.to_dict()
    del old["fused"]
    assert DNCConfig.from_dict(old).fused == "off"
    with pytest.raises(Exception, match="fused"):
        DNCConfig(**{**BASE, "fused": "yes"})  # type: ignore[arg-type]


def test_cache_folder_follows_kgdnc_home(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("KGDNC_HOME", str(tmp_path))
    assert fused_cpu.cache_dir() == tmp_path / "cache" / "fused"
    monkeypatch.delenv("KGDNC_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert fused_cpu.cache_dir() == tmp_path / "xdg" / "kgdnc" / "fused"
    assert fused_cpu.build_name().startswith("kgdnc_fused_")


def test_the_source_ships_inside_the_package() -> None:
    assert fused_cpu.SOURCE.is_file()
    assert fused_cpu.SOURCE.parent.parent == fused_cpu.SOURCE.parent.parent.parent / "dnc"


@pytest.mark.slow
@pytest.mark.parametrize("option", ["all_dense", "all_sparse"])
def test_ten_thousand_fused_steps_train_without_nan(built: None, option: str) -> None:
    cfg = DNCConfig(
        **{**BASE, "hidden_size": 8, "memory_size": 8, "fused": "on", **OPTIONS[option]}  # type: ignore[arg-type]
    )
    torch.manual_seed(0)
    model = DNC(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(1)
    state = None
    steps, chunk = 10_000, 100
    for _ in range(steps // chunk):
        x = torch.randn(2, chunk, 3, generator=gen)
        y, state = model(x, state)
        loss = (y - x[..., :2].roll(3, dims=1)).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        state = state.detach()  # truncated BPTT: one state runs through all 10,000 steps
        assert math.isfinite(loss.item())
        for tensor in (state.access.memory, state.access.usage, state.access.read_weights):
            assert torch.isfinite(tensor).all()
    assert (state.access.usage >= 0).all() and (state.access.usage <= 1).all()


# --- all steps as one node (fused_cpu.unroll) --------------------------------------------


def _state_leaves(state: AccessState) -> tuple[AccessState, list[torch.Tensor]]:
    """``state`` with its floating tensors as fresh leaves that require gradients."""
    links = state.links
    tensors = [state.memory, state.read_weights, state.write_weights, state.usage,
               state.precedence, links.values if isinstance(links, SparseLinks) else links.link,
               torch.randn(state.read_vectors.shape, generator=torch.Generator().manual_seed(9),
                           dtype=F64)]
    leaves = [t.detach().clone().requires_grad_() for t in tensors]
    m, rw, ww, u, p, link, rv = leaves
    out_links = (SparseLinks(link, links.index) if isinstance(links, SparseLinks)
                 else DenseLinks(link))
    return AccessState(m, rw, ww, u, p, out_links, rv), leaves


def _with_resets(x: torch.Tensor) -> torch.Tensor:
    """``x`` (3, T, I) with inputs 0 and 1 both on at a few steps: resets with
    ``reset_inputs=(0, 1)`` at step 0 of episode 2 and mid-episode in the others."""
    x = x.clone()
    for episode, step in ((0, 3), (0, 7), (1, 4), (2, 0)):
        x[episode, step, :2] = 1.0
    return x


@pytest.mark.parametrize(("layer_norm", "reset"), [(False, False), (True, False), (True, True)])
@pytest.mark.parametrize("option", list(OPTIONS))
def test_unroll_equals_one_node_per_step(
    built: None, option: str, layer_norm: bool, reset: bool
) -> None:
    """The whole unroll as one node: the values and gradients of the per-step nodes, for the
    weights, the state before the first step and the state after the last; also with
    controller resets (``reset_inputs``), one of them before the first step."""
    cfg = DNCConfig(**{**BASE, "hidden_size": 6, "layer_norm": layer_norm,
                       "lstm_grad_clip": 0.05, "controller_clip": 1.5,
                       "reset_inputs": (0, 1) if reset else (),
                       **OPTIONS[option]})  # type: ignore[arg-type]
    x = torch.randn(3, 10, 3, generator=torch.Generator().manual_seed(11), dtype=F64)
    x[1, 6:] = 0.0  # a padded episode
    if reset:
        x = _with_resets(x)
    results = []
    for unroll in (False, True):
        model = _model(cfg, "on")
        model.fuse_unroll = unroll
        start = model.initial_state(3, memory_size=7)
        access, leaves = _state_leaves(_random_state(cfg, 3, 7, torch.Generator().manual_seed(3)))
        h0 = torch.randn(1, 3, 6, dtype=F64, generator=torch.Generator().manual_seed(4))
        h0.requires_grad_()
        state = type(start)(type(start.controller)(h0, start.controller.c), access)
        y, final = model(x, state)
        links = final.access.links
        dense = links.to_dense() if isinstance(links, SparseLinks) else links.link
        gen = torch.Generator().manual_seed(5)
        outs = [y, final.controller.h, final.controller.c, *final.access[:5], dense,
                final.access.read_vectors]
        loss = sum((t * torch.randn(t.shape, generator=gen, dtype=F64)).sum() for t in outs)
        loss.backward()
        grads = [p.grad.clone() for p in model.parameters()] + [h0.grad.clone()]
        grads += [t.grad.clone() for t in leaves]
        results.append(([t.detach() for t in outs], grads))
    (o0, g0), (o1, g1) = results
    for i, (a, b) in enumerate(zip(o0, o1, strict=True)):
        assert torch.allclose(a, b, rtol=0, atol=1e-9), ("output", i, (a - b).abs().max())
    for i, (a, b) in enumerate(zip(g0, g1, strict=True)):
        assert torch.allclose(a, b, rtol=0, atol=1e-9), ("grad", i, (a - b).abs().max())


@pytest.mark.parametrize("option", ["dense", "all_sparse"])
def test_whole_model_with_resets_equals_eager(built: None, option: str) -> None:
    """Controller resets: the fused model (one node for the whole unroll) against the
    eager reference, values and gradients, with the state before the first step reset
    in one episode."""
    cfg = DNCConfig(**{**BASE, "hidden_size": 6, "reset_inputs": (0, 1),
                       **OPTIONS[option]})  # type: ignore[arg-type]
    x = _with_resets(torch.randn(3, 9, 3, generator=torch.Generator().manual_seed(8), dtype=F64))
    results = []
    for mode in ("off", "on"):
        model = _model(cfg, mode)
        start = model.initial_state(3, memory_size=6)
        h0 = torch.randn(1, 3, 6, dtype=F64, generator=torch.Generator().manual_seed(4))
        h0.requires_grad_()
        y, final = model(x, type(start)(type(start.controller)(h0, start.controller.c),
                                        start.access))
        (y.square().sum() + final.controller.c.sum()).backward()
        grads = [p.grad.clone() for p in model.parameters()]  # type: ignore[union-attr]
        results.append((y.detach(), grads, h0.grad.clone()))  # type: ignore[union-attr]
    (y0, g0, h0), (y1, g1, h1) = results
    assert torch.allclose(y0, y1, atol=1e-6)
    for a, b in zip(g0, g1, strict=True):
        assert torch.allclose(a, b, atol=1e-6)
    assert torch.allclose(h0, h1, atol=1e-6)
    assert h0[0, 2].abs().max() == 0  # episode 2 resets before its first step
    assert h0[0, 0].abs().max() > 0


@pytest.mark.parametrize(("option", "reset"), [("dense", False), ("all_sparse", False),
                                               ("dense", True)])
def test_gradcheck_of_the_unroll(built: None, option: str, reset: bool) -> None:
    cfg = DNCConfig(**{**BASE, "hidden_size": 2, "read_heads": 1, "word_size": 2,
                       "controller_clip": 0.9, **OPTIONS[option]})  # type: ignore[arg-type]
    gen = torch.Generator().manual_seed(6)
    b, steps, h, s = 2, 3, 2, cfg.interface_size
    access, leaves = _state_leaves(_random_state(cfg, b, 4, gen))
    index = access.links.index if isinstance(access.links, SparseLinks) else None

    def rand(*shape: int, grad: bool = True) -> torch.Tensor:
        return torch.randn(*shape, generator=gen, dtype=F64).requires_grad_(grad)

    weights = (rand(cfg.read_size, 4 * h, grad=False), rand(h, 4 * h, grad=False),
               rand(h, s, grad=False))  # fmt: skip
    inputs = (rand(steps, b, 4 * h), rand(steps, b, s), rand(h), rand(h), rand(s), rand(s),
              rand(1, b, h), rand(1, b, h), *leaves)
    # (T, B): episode 0 resets before step 1, episode 1 before step 0
    keep = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=F64) if reset else None

    def run(gx, xb, g_h, b_h, g_i, b_i, h0, c0, m, rw, ww, u, p, link, rv):  # type: ignore[no-untyped-def]
        links = SparseLinks(link, index) if index is not None else DenseLinks(link)
        state = AccessState(m, rw, ww, u, p, links, rv)
        from kgdnc.dnc.state import ControllerState

        hn, reads, _, ctrl, out = fused_cpu.unroll(
            gx, xb, ControllerState(h0, c0), state, (g_h, b_h), (g_i, b_i), weights, cfg,
            keep=keep)
        tensor = out.links.values if index is not None else out.links.link
        return (hn, reads, ctrl.h, ctrl.c, out.memory, out.read_weights, out.write_weights,
                out.usage, out.precedence, tensor, out.read_vectors)

    # the controller's matrix products (BLAS) may round the last bit differently from
    # one call to the next (their kernels depend on the operands' alignment): two
    # backward passes agree to rounding, not bit for bit
    assert torch.autograd.gradcheck(run, inputs, eps=1e-6, atol=1e-5, nondet_tol=1e-12)
