"""One function per quantity of the DNC's memory addressing (PAPER.md §1).

Shapes: B batch, N slots, W word width, R read heads, H heads of any kind
(R read heads or the one write head), K links kept per row.
Every function is batched and vectorised: no Python loop over heads or slots.
"""

from __future__ import annotations

import torch
from torch import Tensor

from kgdnc.dnc.fused import CosineContent, SparseLinkRead
from kgdnc.dnc.state import DenseLinks, Links, SparseLinks


def content_weighting(
    memory: Tensor,
    keys: Tensor,
    strengths: Tensor,
    epsilon: float,
    masks: Tensor | None = None,
) -> Tensor:
    """Content weighting C(M, k, β)[i] = softmax_i(β · cos(k, M[i])).

    Args:
        memory: (B, N, W) [M].
        keys: (B, H, W) [k], one per head.
        strengths: (B, H) [β] ≥ 1.
        epsilon: cos(k, M[i]) = k·M[i] / (|k| |M[i]| + ε), finite for zero memory.
        masks: (B, H, W) [m] in [0, 1] or None. With a mask (Csordás &
            Schmidhuber 2019) the cosine compares k∘m with M[i]∘m.

    Returns:
        (B, H, N) weightings over slots; each row sums to 1.
    """
    if masks is None:
        # the formula below without a mask, with a hand-written backward
        return CosineContent.apply(memory, keys, strengths, epsilon)
    # |x∘m| = sqrt(Σ x² m² + ε²): the ε² keeps sqrt's gradient finite at 0
    eps2 = epsilon * epsilon
    masks_sq = masks * masks
    dots = torch.bmm(keys * masks_sq, memory.transpose(1, 2))  # (k∘m)·(M∘m)
    key_norms = (keys * keys * masks_sq).sum(-1, keepdim=True).add(eps2).sqrt()
    memory_sq = (memory * memory).transpose(1, 2)  # (B, W, N)
    mem_norms = torch.bmm(masks_sq, memory_sq).add(eps2).sqrt()  # (B, H, N)
    cosine = dots / (key_norms * mem_norms + epsilon)
    return torch.softmax(cosine * strengths.unsqueeze(-1), dim=-1)


def retention(free_gates: Tensor, read_weights_prev: Tensor) -> Tensor:
    """Memory retention ψ_t = Π_i (1 − f_i · w^r_{i,t-1}).

    Args:
        free_gates: (B, R) [f_i].
        read_weights_prev: (B, R, N) [w^r_{t-1}].

    Returns:
        (B, N) [ψ_t].
    """
    return (1.0 - free_gates.unsqueeze(-1) * read_weights_prev).prod(dim=1)


def usage(usage_prev: Tensor, write_weights_prev: Tensor, retention_t: Tensor) -> Tensor:
    """Usage u_t = (u_{t-1} + w^w_{t-1} − u_{t-1} ∘ w^w_{t-1}) ∘ ψ_t.

    Args:
        usage_prev: (B, N) [u_{t-1}].
        write_weights_prev: (B, N) [w^w_{t-1}].
        retention_t: (B, N) [ψ_t].

    Returns:
        (B, N) [u_t] in [0, 1].
    """
    return (usage_prev + write_weights_prev - usage_prev * write_weights_prev) * retention_t


def allocation(usage_t: Tensor, epsilon: float) -> Tensor:
    """Allocation weighting a[φ_j] = (1 − u[φ_j]) · Π_{i<j} u[φ_i].

    φ sorts the slots by ascending usage. The usage is clamped to [ε, 1] before
    the cumulative product (a product's gradient through exact zeros is NaN).
    Gradients flow through the sorted usage values, not through the
    permutation φ (the paper ignores gradients through the sort).

    Args:
        usage_t: (B, N) [u_t].
        epsilon: lower clamp of the usage.

    Returns:
        (B, N) [a_t]; sums to at most 1.
    """
    clamped = usage_t.clamp(epsilon, 1.0)
    sorted_usage, free_list = torch.sort(clamped, dim=-1)  # φ: (B, N)
    ones = sorted_usage.new_ones(sorted_usage.shape[0], 1)
    exclusive = torch.cumprod(torch.cat([ones, sorted_usage[:, :-1]], dim=-1), dim=-1)
    sorted_allocation = (1.0 - sorted_usage) * exclusive
    return torch.zeros_like(sorted_allocation).scatter(-1, free_list, sorted_allocation)


def write_weighting(
    allocation_t: Tensor, write_content: Tensor, allocation_gate: Tensor, write_gate: Tensor
) -> Tensor:
    """Write weighting w^w_t = g^w (g^a a_t + (1 − g^a) c^w_t).

    Args:
        allocation_t: (B, N) [a_t].
        write_content: (B, N) [c^w_t], content weighting of the write key.
        allocation_gate: (B, 1) [g^a].
        write_gate: (B, 1) [g^w].

    Returns:
        (B, N) [w^w_t].
    """
    return torch.lerp(write_content, allocation_t, allocation_gate) * write_gate


def erase_and_write(
    memory_prev: Tensor, write_weights: Tensor, erase: Tensor, write_vector: Tensor
) -> Tensor:
    """Memory update M_t = M_{t-1} ∘ (1 − w^w eᵀ) + w^w vᵀ.

    Args:
        memory_prev: (B, N, W) [M_{t-1}].
        write_weights: (B, N) [w^w_t].
        erase: (B, W) [e].
        write_vector: (B, W) [v].

    Returns:
        (B, N, W) [M_t].
    """
    ww = write_weights.unsqueeze(-1)  # (B, N, 1)
    keep = 1.0 - ww * erase.unsqueeze(1)  # (B, N, W)
    return torch.baddbmm(memory_prev * keep, ww, write_vector.unsqueeze(1))


def precedence(precedence_prev: Tensor, write_weights: Tensor) -> Tensor:
    """Precedence p_t = (1 − Σ_i w^w_t[i]) p_{t-1} + w^w_t.

    Args:
        precedence_prev: (B, N) [p_{t-1}].
        write_weights: (B, N) [w^w_t].

    Returns:
        (B, N) [p_t].
    """
    return torch.addcmul(write_weights, 1.0 - write_weights.sum(-1, keepdim=True), precedence_prev)


def dense_links(link_prev: Tensor, write_weights: Tensor, precedence_prev: Tensor) -> Tensor:
    """Link matrix L_t[i,j] = (1 − w^w[i] − w^w[j]) L_{t-1}[i,j] + w^w[i] p_{t-1}[j], diag 0.

    Args:
        link_prev: (B, N, N) [L_{t-1}].
        write_weights: (B, N) [w^w_t].
        precedence_prev: (B, N) [p_{t-1}].

    Returns:
        (B, N, N) [L_t] with a zero diagonal.
    """
    w_i = write_weights.unsqueeze(-1)  # (B, N, 1)
    w_j = write_weights.unsqueeze(1)  # (B, 1, N)
    link = (1.0 - w_i - w_j) * link_prev + w_i * precedence_prev.unsqueeze(1)
    return link * (1.0 - torch.eye(link.shape[-1], dtype=link.dtype, device=link.device))


def sparse_links(
    links: SparseLinks,
    write_weights: Tensor,
    precedence_prev: Tensor,
    epsilon: float,
    threshold: bool = False,
) -> SparseLinks:
    """Sparse link matrix L̂_t, kept as K column indices and values per row.

    ŵ and p̂ keep the K largest entries of w^w_t and p_{t-1} (the rest set to
    0); L̂_t follows the dense rule with ŵ, p̂; then every row keeps its K
    largest entries. With K ≥ N nothing is dropped and L̂_t = L_t exactly.
    Only the K rows written (top-K of ŵ) can gain new entries, so the update
    costs O(N·K + K³) time and O(N·K) memory.

    With ``threshold`` (the paper's literal recipe) ŵ and p̂ are renormalised to
    sum to 1 and entries below 1/K are set to 0.

    Args:
        links: ``SparseLinks`` with values, index (B, N, K) [L̂_{t-1}].
        write_weights: (B, N) [w^w_t].
        precedence_prev: (B, N) [p_{t-1}].
        epsilon: keeps the renormalisation away from 0/0.
        threshold: renormalise and prune below 1/K.

    Returns:
        ``SparseLinks`` (B, N, K) [L̂_t].
    """
    values, index = links
    b, n, k = values.shape
    w_top, rows = write_weights.topk(k, dim=-1)  # (B, K): written rows i
    p_top, cols = precedence_prev.topk(k, dim=-1)  # (B, K): new columns j
    if threshold:
        w_top = w_top / (w_top.sum(-1, keepdim=True) + epsilon)
        p_top = p_top / (p_top.sum(-1, keepdim=True) + epsilon)
    w_hat = torch.zeros_like(write_weights).scatter(-1, rows, w_top)  # (B, N) [ŵ]
    p_hat = torch.zeros_like(precedence_prev).scatter(-1, cols, p_top)  # (B, N) [p̂]

    # every row decays: L[i, j] *= 1 − ŵ[i] − ŵ[j]
    w_at_index = w_hat.gather(1, index.view(b, n * k)).view(b, n, k)
    decayed = values * (1.0 - w_hat.unsqueeze(-1) - w_at_index)  # (B, N, K)

    # the K written rows gain ŵ[i] p̂[j]: on columns they hold, and on new ones
    row_sel = rows.unsqueeze(-1).expand(b, k, k)
    old_index = index.gather(1, row_sel)  # (B, K, K)
    p_at_old = p_hat.gather(1, old_index.view(b, k * k)).view(b, k, k)
    w_row = w_top.unsqueeze(-1)  # (B, K, 1)
    old_values = decayed.gather(1, row_sel) + w_row * p_at_old
    new_index = cols.unsqueeze(1).expand(b, k, k)
    new_values = w_row * p_top.unsqueeze(1)
    held = (old_index.unsqueeze(-1) == new_index.unsqueeze(-2)).any(dim=-2)  # (B, K, K)

    cand_index = torch.cat([old_index, new_index], dim=-1)  # (B, K, 2K)
    cand_values = torch.cat([old_values, new_values], dim=-1)
    cand_values = cand_values.masked_fill(cand_index == rows.unsqueeze(-1), 0.0)  # diagonal
    penalty = torch.cat([old_values.new_zeros(b, k, k), held.to(values.dtype)], dim=-1)
    score = cand_values.detach() - 2.0 * penalty  # a held column's duplicate never wins
    keep = score.topk(k, dim=-1).indices  # (B, K, K)
    kept_values = cand_values.gather(-1, keep)
    kept_index = cand_index.gather(-1, keep)

    new_values_all = decayed.scatter(1, row_sel, kept_values)
    new_index_all = index.scatter(1, row_sel, kept_index)
    if threshold:
        new_values_all = new_values_all.masked_fill(new_values_all < 1.0 / k, 0.0)
    return SparseLinks(new_values_all, new_index_all)


def directional_weightings(links: Links, read_weights_prev: Tensor) -> tuple[Tensor, Tensor]:
    """Forward f_i = L_t w^r_{i,t-1} and backward b_i = L_tᵀ w^r_{i,t-1} weightings.

    Args:
        links: ``DenseLinks`` (B, N, N) or ``SparseLinks`` (B, N, K) [L_t].
        read_weights_prev: (B, R, N) [w^r_{t-1}].

    Returns:
        forward (B, R, N) [f_t], backward (B, R, N) [b_t].
    """
    if isinstance(links, DenseLinks):
        link = links.link
        forward = torch.bmm(read_weights_prev, link.transpose(1, 2))
        backward = torch.bmm(read_weights_prev, link)
        return forward, backward
    # gather / scatter over the K columns of each row: O(R·N·K)
    forward, backward = SparseLinkRead.apply(links.values, links.index, read_weights_prev)
    return forward, backward


def sharpen(weights: Tensor, sharpness: Tensor) -> Tensor:
    """Link sharpness control S(d, s)_i = Σd · d_i^s / Σ_j d_j^s (Csordás & Schmidhuber 2019).

    The sharpened weighting keeps the total mass of ``weights`` (an empty link
    matrix still reads nothing).

    Args:
        weights: (B, R, N) [d], non-negative (a forward or backward weighting).
        sharpness: (B, R) [s] ≥ 1.

    Returns:
        (B, R, N) sharpened weighting with the same sums as ``weights``.
    """
    tiny = torch.finfo(weights.dtype).tiny
    # S is invariant to scaling d, so divide by the (detached) max to keep d^s in range
    scale = weights.amax(-1, keepdim=True).detach().clamp_min(tiny)
    powered = (weights / scale).clamp_min(tiny).pow(sharpness.unsqueeze(-1))
    total = weights.sum(-1, keepdim=True)
    return powered * (total / powered.sum(-1, keepdim=True).clamp_min(tiny))


def read_weighting(
    backward: Tensor, content: Tensor, forward: Tensor, read_modes: Tensor
) -> Tensor:
    """Read weighting w^r_i = π_i[1] b_i + π_i[2] c^r_i + π_i[3] f_i.

    Args:
        backward: (B, R, N) [b_t].
        content: (B, R, N) [c^r_t].
        forward: (B, R, N) [f_t].
        read_modes: (B, R, 3) [π_t]: backward, content, forward.

    Returns:
        (B, R, N) [w^r_t].
    """
    modes = read_modes.unsqueeze(-1)  # (B, R, 3, 1)
    mixed = backward * modes[:, :, 0]
    mixed = torch.addcmul(mixed, content, modes[:, :, 1])
    return torch.addcmul(mixed, forward, modes[:, :, 2])
