"""One test per equation of PAPER.md §1, on tiny cases worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from kgdnc.dnc import addressing
from kgdnc.dnc.fused import CosineContent, DenseLinkRead, EraseWrite
from kgdnc.dnc.state import DenseLinks

EPS = 1e-6


def t(values: object) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def test_content_weighting_is_softmax_of_scaled_cosine() -> None:
    memory = t([[[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]])  # (B=1, N=3, W=2)
    keys = t([[[3.0, 0.0]]])  # (B, H=1, W)
    strengths = t([[2.0]])
    weights = addressing.content_weighting(memory, keys, strengths, EPS)
    assert weights.shape == (1, 1, 3)
    cosines = torch.tensor([1.0, 0.0, 1.0 / math.sqrt(2.0)], dtype=torch.float64)
    expected = torch.softmax(2.0 * cosines, dim=0)
    torch.testing.assert_close(weights[0, 0], expected, atol=1e-5, rtol=0)
    assert weights.sum().item() == pytest.approx(1.0)


def test_fused_content_weighting_matches_the_formula() -> None:
    gen = torch.Generator().manual_seed(0)
    memory = torch.randn(2, 6, 3, generator=gen, dtype=torch.float64)
    keys = torch.randn(2, 4, 3, generator=gen, dtype=torch.float64)
    strengths = 1 + torch.rand(2, 4, generator=gen, dtype=torch.float64)
    cos = torch.nn.functional.cosine_similarity(keys.unsqueeze(2), memory.unsqueeze(1), dim=-1)
    expected = torch.softmax(strengths.unsqueeze(-1) * cos, dim=-1)
    got = addressing.content_weighting(memory, keys, strengths, EPS)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_content_weighting_of_zero_memory_is_uniform_and_finite() -> None:
    memory = torch.zeros(2, 4, 3, dtype=torch.float64, requires_grad=True)
    keys = torch.zeros(2, 2, 3, dtype=torch.float64, requires_grad=True)
    weights = addressing.content_weighting(memory, keys, torch.ones(2, 2, dtype=torch.float64), EPS)
    torch.testing.assert_close(weights, torch.full_like(weights, 0.25))
    weights[:, :, 0].sum().backward()
    assert torch.isfinite(memory.grad).all() and torch.isfinite(keys.grad).all()


def test_key_mask_ignores_masked_out_dimensions() -> None:
    # slot 0 matches the key on dim 0 only, slot 1 on dim 1 only
    memory = t([[[1.0, 0.0], [0.0, 1.0]]])
    keys = t([[[1.0, 1.0]]])
    strengths = t([[10.0]])
    plain = addressing.content_weighting(memory, keys, strengths, EPS)
    torch.testing.assert_close(plain[0, 0, 0], plain[0, 0, 1])  # a tie without a mask
    mask = t([[[1.0, 0.0]]])  # look only at dim 0
    masked = addressing.content_weighting(memory, keys, strengths, EPS, masks=mask)
    # cos on dim 0: slot 0 -> 1, slot 1 -> 0
    expected = torch.softmax(t([10.0, 0.0]), dim=0)
    torch.testing.assert_close(masked[0, 0], expected, atol=1e-5, rtol=0)


def test_retention_and_usage_update() -> None:
    free = t([[1.0, 0.5]])  # (B, R=2)
    read_prev = t([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])  # head 0 on slot 0, head 1 on slot 1
    psi = addressing.retention(free, read_prev)
    torch.testing.assert_close(psi, t([[0.0, 0.5, 1.0]]))
    usage_prev = t([[0.5, 0.5, 0.2]])
    write_prev = t([[0.0, 0.5, 0.5]])
    u = addressing.usage(usage_prev, write_prev, psi)
    # (u + w − u∘w) ∘ ψ = ([0.5, 0.75, 0.6]) ∘ [0, 0.5, 1]
    torch.testing.assert_close(u, t([[0.0, 0.375, 0.6]]))


def test_allocation_follows_the_free_list_product() -> None:
    usage = t([[0.5, 0.2, 0.9]])
    a = addressing.allocation(usage, EPS)
    # φ = [1, 0, 2]: a[1] = 0.8, a[0] = 0.5·0.2, a[2] = 0.1·0.2·0.5
    torch.testing.assert_close(a, t([[0.1, 0.8, 0.01]]))


def test_allocation_goes_to_the_one_free_slot() -> None:
    usage = t([[1.0, 1.0, 0.0, 1.0]])
    a = addressing.allocation(usage, EPS)
    assert int(a.argmax()) == 2
    assert a[0, 2].item() == pytest.approx(1.0, abs=1e-5)
    assert a.sum().item() == pytest.approx(1.0, abs=1e-5)


def test_allocation_gradient_is_finite_at_zero_and_full_usage() -> None:
    usage = t([[0.0, 1.0, 0.0, 0.3]]).requires_grad_()
    addressing.allocation(usage, EPS).pow(2).sum().backward()
    assert torch.isfinite(usage.grad).all()


def test_write_weighting_gates() -> None:
    alloc = t([[0.0, 1.0, 0.0]])
    content = t([[0.5, 0.0, 0.5]])
    one, zero, half = t([[1.0]]), t([[0.0]]), t([[0.5]])
    torch.testing.assert_close(addressing.write_weighting(alloc, content, one, one), alloc)
    torch.testing.assert_close(addressing.write_weighting(alloc, content, zero, one), content)
    torch.testing.assert_close(
        addressing.write_weighting(alloc, content, zero, zero), torch.zeros_like(alloc)
    )
    torch.testing.assert_close(
        addressing.write_weighting(alloc, content, half, half), t([[0.125, 0.25, 0.125]])
    )


@pytest.mark.parametrize("fn", [addressing.erase_and_write, EraseWrite.apply])
def test_erase_and_write(fn: object) -> None:
    memory = t([[[1.0, 2.0], [3.0, 4.0]]])
    write = t([[1.0, 0.5]])
    erase = t([[1.0, 0.0]])
    vector = t([[10.0, 20.0]])
    new = fn(memory, write, erase, vector)  # type: ignore[operator]
    # row 0: dim 0 erased, + v; row 1: 3·(1 − 0.5) + 5, 4 + 10
    torch.testing.assert_close(new, t([[[10.0, 22.0], [6.5, 14.0]]]))


def test_precedence() -> None:
    p_prev = t([[0.5, 0.5, 0.0]])
    write = t([[0.0, 0.0, 0.6]])
    torch.testing.assert_close(addressing.precedence(p_prev, write), t([[0.2, 0.2, 0.6]]))


def _write_in_order(order: list[int], n: int) -> torch.Tensor:
    """Dense link matrix after one-hot writes to the slots in ``order``."""
    link = torch.zeros(1, n, n, dtype=torch.float64)
    prec = torch.zeros(1, n, dtype=torch.float64)
    for slot in order:
        write = torch.zeros(1, n, dtype=torch.float64)
        write[0, slot] = 1.0
        link = addressing.dense_links(link, write, prec)
        prec = addressing.precedence(prec, write)
    return link


def test_links_record_write_order_and_keep_a_zero_diagonal() -> None:
    link = _write_in_order([0, 2, 1, 3], n=4)
    expected = torch.zeros(4, 4, dtype=torch.float64)
    expected[2, 0] = expected[1, 2] = expected[3, 1] = 1.0  # L[i, j]: i written after j
    torch.testing.assert_close(link[0], expected)
    # writing the same slot twice keeps the diagonal at 0
    again = _write_in_order([1, 1, 1], n=3)
    assert torch.all(again[0].diagonal() == 0)


def test_dense_link_rule_with_soft_weights() -> None:
    link_prev = t([[[0.0, 0.2], [0.4, 0.0]]])
    write = t([[0.3, 0.5]])
    prec = t([[0.6, 0.1]])
    link = addressing.dense_links(link_prev, write, prec)
    l01 = (1 - 0.3 - 0.5) * 0.2 + 0.3 * 0.1
    l10 = (1 - 0.5 - 0.3) * 0.4 + 0.5 * 0.6
    torch.testing.assert_close(link, t([[[0.0, l01], [l10, 0.0]]]))


def test_forward_and_backward_weightings_follow_write_order() -> None:
    link = _write_in_order([0, 2, 1, 3], n=4)
    reads = torch.zeros(1, 2, 4, dtype=torch.float64)
    reads[0, 0, 2] = 1.0  # head 0 was reading slot 2
    reads[0, 1, 1] = 1.0  # head 1 was reading slot 1
    forward, backward = addressing.directional_weightings(DenseLinks(link), reads)
    # order 0 -> 2 -> 1 -> 3: after 2 comes 1, before 2 came 0
    assert forward[0, 0].argmax().item() == 1 and backward[0, 0].argmax().item() == 0
    assert forward[0, 1].argmax().item() == 3 and backward[0, 1].argmax().item() == 2
    torch.testing.assert_close(forward.sum(-1), torch.ones(1, 2, dtype=torch.float64))


def test_fused_dense_link_read_matches_the_formula() -> None:
    gen = torch.Generator().manual_seed(0)
    link_prev = torch.rand(2, 5, 5, generator=gen, dtype=torch.float64) / 5
    link_prev.diagonal(dim1=1, dim2=2).zero_()
    write = torch.rand(2, 5, generator=gen, dtype=torch.float64) / 5
    prec = torch.rand(2, 5, generator=gen, dtype=torch.float64) / 5
    reads = torch.rand(2, 3, 5, generator=gen, dtype=torch.float64)
    link, forward, backward = DenseLinkRead.apply(link_prev, write, prec, reads)
    expected = addressing.dense_links(link_prev, write, prec)
    torch.testing.assert_close(link, expected)
    ref_fwd, ref_bwd = addressing.directional_weightings(DenseLinks(expected), reads)
    torch.testing.assert_close(forward, ref_fwd)
    torch.testing.assert_close(backward, ref_bwd)


def test_read_mode_mixing() -> None:
    backward = t([[[1.0, 0.0, 0.0]]])
    content = t([[[0.0, 1.0, 0.0]]])
    forward = t([[[0.0, 0.0, 1.0]]])
    for mode in range(3):
        modes = torch.zeros(1, 1, 3, dtype=torch.float64)
        modes[0, 0, mode] = 1.0
        mixed = addressing.read_weighting(backward, content, forward, modes)
        assert mixed[0, 0].argmax().item() == mode
    modes = t([[[0.2, 0.3, 0.5]]])
    mixed = addressing.read_weighting(backward, content, forward, modes)
    torch.testing.assert_close(mixed, t([[[0.2, 0.3, 0.5]]]))


def test_sharpen_keeps_mass_and_concentrates() -> None:
    d = t([[[0.1, 0.3, 0.2, 0.0]]])
    one = addressing.sharpen(d, t([[1.0]]))
    torch.testing.assert_close(one, d)
    sharp = addressing.sharpen(d, t([[3.0]]))
    torch.testing.assert_close(sharp.sum(-1), d.sum(-1))
    expected = d**3 / (d**3).sum() * d.sum()
    torch.testing.assert_close(sharp, expected)
    assert sharp[0, 0, 1] > d[0, 0, 1]
    empty = addressing.sharpen(torch.zeros(1, 1, 4, dtype=torch.float64), t([[2.0]]))
    assert torch.all(empty == 0)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_fused_erase_write_and_content_match_the_formulas_in_values_and_gradients(
    dtype: torch.dtype,
) -> None:
    gen = torch.Generator().manual_seed(1)
    b, n, w, h = 2, 7, 5, 3

    def leaf(*shape: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
        x = torch.rand(*shape, generator=gen, dtype=torch.float64) * scale + shift
        return x.to(dtype).requires_grad_()

    memory, keys = leaf(b, n, w, scale=2, shift=-1), leaf(b, h, w, scale=2, shift=-1)
    strengths, write = leaf(b, h, shift=1), leaf(b, n, scale=1 / n)
    erase, vector = leaf(b, w), leaf(b, w, scale=2, shift=-1)
    tol = {"atol": 1e-5, "rtol": 1e-4} if dtype == torch.float32 else {}

    def plain_content(m: torch.Tensor, k: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        dots = torch.bmm(k, m.transpose(1, 2))
        norms = k.norm(dim=-1).unsqueeze(-1) * m.norm(dim=-1).unsqueeze(1)
        return torch.softmax(s.unsqueeze(-1) * dots / (norms + EPS), dim=-1)

    cases = [
        (EraseWrite.apply, addressing.erase_and_write, (memory, write, erase, vector)),
        (
            lambda m, k, s: CosineContent.apply(m, k, s, EPS),
            plain_content,
            (memory, keys, strengths),
        ),
    ]
    for fused, plain, inputs in cases:
        got, expected = fused(*inputs), plain(*inputs)
        torch.testing.assert_close(got, expected, **tol)
        weight = torch.randn(got.shape, generator=gen, dtype=torch.float64).to(dtype)
        grads = torch.autograd.grad((got * weight).sum(), inputs)
        ref_grads = torch.autograd.grad((expected * weight).sum(), inputs)
        for g, ref in zip(grads, ref_grads, strict=True):
            torch.testing.assert_close(g, ref, **tol)
