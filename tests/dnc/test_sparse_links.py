"""The sparse link matrix: O(N·K) storage, same rule as the dense one, equal when K ≥ N."""

from __future__ import annotations

import torch

from kgdnc.dnc import DNC, DNCConfig, addressing
from kgdnc.dnc.state import DenseLinks, SparseLinks, initial_access_state

EPS = 1e-6


def _random_steps(steps: int, b: int, n: int, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Soft write weightings (sum ≤ 1) and read weightings, float64."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(steps):
        write = torch.softmax(3 * torch.randn(b, n, generator=gen, dtype=torch.float64), -1)
        write = write * torch.rand(b, 1, generator=gen, dtype=torch.float64)
        reads = torch.softmax(3 * torch.randn(b, 2, n, generator=gen, dtype=torch.float64), -1)
        out.append((write, reads))
    return out


def _sparse_state(b: int, n: int, k: int) -> SparseLinks:
    state = initial_access_state(b, n, 1, 1, k, dtype=torch.float64, device=torch.device("cpu"))
    assert isinstance(state.links, SparseLinks)
    return state.links


def _top_k_dense(x: torch.Tensor, k: int) -> torch.Tensor:
    values, index = x.topk(k, dim=-1)
    return torch.zeros_like(x).scatter(-1, index, values)


def test_sparse_equals_dense_when_k_covers_all_slots() -> None:
    b, n = 2, 6
    for k in (n, n + 3):
        sparse = _sparse_state(b, n, k)
        assert sparse.values.shape == (b, n, n)  # K is capped at N
        link = torch.zeros(b, n, n, dtype=torch.float64)
        prec = torch.zeros(b, n, dtype=torch.float64)
        for write, reads in _random_steps(12, b, n, seed=k):
            sparse = addressing.sparse_links(sparse, write, prec, EPS)
            link = addressing.dense_links(link, write, prec)
            prec = addressing.precedence(prec, write)
            torch.testing.assert_close(sparse.to_dense(), link)
            f_s, b_s = addressing.directional_weightings(sparse, reads)
            f_d, b_d = addressing.directional_weightings(DenseLinks(link), reads)
            torch.testing.assert_close(f_s, f_d)
            torch.testing.assert_close(b_s, b_d)


def test_sparse_links_follow_the_top_k_rule_and_store_k_per_row() -> None:
    b, n, k = 3, 12, 3
    sparse = _sparse_state(b, n, k)
    reference = torch.zeros(b, n, n, dtype=torch.float64)
    prec = torch.zeros(b, n, dtype=torch.float64)
    for write, reads in _random_steps(20, b, n, seed=1):
        sparse = addressing.sparse_links(sparse, write, prec, EPS)
        assert sparse.values.shape == (b, n, k) and sparse.index.shape == (b, n, k)
        # reference: dense rule on the top-K of w and p, then the K largest per row
        updated = addressing.dense_links(reference, _top_k_dense(write, k), _top_k_dense(prec, k))
        reference = _top_k_dense(updated, k)
        prec = addressing.precedence(prec, write)
        dense = sparse.to_dense()
        torch.testing.assert_close(dense, reference)
        assert torch.all(dense.diagonal(dim1=1, dim2=2) == 0)
        # the column indices of a row are distinct
        sorted_index = sparse.index.sort(-1).values
        assert torch.all(sorted_index[..., 1:] != sorted_index[..., :-1])
        f_s, b_s = addressing.directional_weightings(sparse, reads)
        f_d, b_d = addressing.directional_weightings(DenseLinks(dense), reads)
        torch.testing.assert_close(f_s, f_d)
        torch.testing.assert_close(b_s, b_d)


def test_sparse_links_record_write_order() -> None:
    n, k = 8, 2
    sparse = _sparse_state(1, n, k)
    prec = torch.zeros(1, n, dtype=torch.float64)
    order = [5, 1, 7, 0]
    for slot in order:
        write = torch.zeros(1, n, dtype=torch.float64)
        write[0, slot] = 1.0
        sparse = addressing.sparse_links(sparse, write, prec, EPS)
        prec = addressing.precedence(prec, write)
    dense = sparse.to_dense()[0]
    for before, after in zip(order, order[1:], strict=False):
        assert dense[after, before].item() == 1.0
    assert dense.sum().item() == 3.0


def test_paper_threshold_variant_prunes_below_one_over_k() -> None:
    b, n, k = 2, 10, 4
    sparse = _sparse_state(b, n, k)
    prec = torch.zeros(b, n, dtype=torch.float64)
    for write, _ in _random_steps(15, b, n, seed=3):
        sparse = addressing.sparse_links(sparse, write, prec, EPS, threshold=True)
        prec = addressing.precedence(prec, write)
        values = sparse.values
        assert torch.all((values == 0) | (values >= 1.0 / k))


def test_sparse_model_equals_dense_model_when_k_covers_memory() -> None:
    base = dict(input_size=3, output_size=2, hidden_size=8, word_size=4, read_heads=2)
    dense = DNC(DNCConfig(**base, memory_size=5)).double()
    sparse = DNC(DNCConfig(**base, memory_size=5, link_sparsity=5)).double()
    sparse.load_state_dict(dense.state_dict())  # no parameter depends on N or K
    x = torch.randn(2, 9, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y_dense, s_dense = dense(x)
    y_sparse, s_sparse = sparse(x)
    torch.testing.assert_close(y_sparse, y_dense)
    assert isinstance(s_sparse.access.links, SparseLinks)
    assert isinstance(s_dense.access.links, DenseLinks)
    torch.testing.assert_close(s_sparse.access.links.to_dense(), s_dense.access.links.link)
