"""The DNC's recurrent state, as NamedTuples of tensors.

Shapes use B batch, L controller layers, H hidden units, N memory slots,
W word width, R read heads, K links kept per row (sparse links).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor


class ControllerState(NamedTuple):
    """LSTM controller state; empty (L = 0) for a feed-forward controller.

    Attributes:
        h: (L, B, H) layer outputs h^l_{t-1}.
        c: (L, B, H) cell states.
    """

    h: Tensor
    c: Tensor


class DenseLinks(NamedTuple):
    """The temporal link matrix L_t kept whole.

    Attributes:
        link: (B, N, N) [L_t]; link[b, i, j] is the degree to which slot i was
            written just after slot j. The diagonal is always 0.
    """

    link: Tensor


class SparseLinks(NamedTuple):
    """The sparse link matrix L̂_t: at most K non-zeros per row, O(N·K) memory.

    Row i holds the columns ``index[b, i, :]`` (distinct within a row) with the
    values ``values[b, i, :]``; every other entry of the row is 0. Unused
    places hold the value 0.

    Attributes:
        values: (B, N, K) link strengths L̂_t[i, index[i, k]].
        index: (B, N, K) int64 column indices.
    """

    values: Tensor
    index: Tensor

    def to_dense(self) -> Tensor:
        """The (B, N, N) matrix these rows stand for."""
        b, n, _ = self.values.shape
        dense = self.values.new_zeros(b, n, n)
        return dense.scatter_add(2, self.index, self.values)


Links = DenseLinks | SparseLinks


class AccessState(NamedTuple):
    """Memory and everything the next access step reads from the previous one.

    Attributes:
        memory: (B, N, W) [M_t].
        read_weights: (B, R, N) [w^r_{t,i}].
        write_weights: (B, N) [w^w_t].
        usage: (B, N) [u_t].
        precedence: (B, N) [p_t].
        links: ``DenseLinks`` (B, N, N) or ``SparseLinks`` (B, N, K) [L_t].
        read_vectors: (B, R, W) [r^i_t].
    """

    memory: Tensor
    read_weights: Tensor
    write_weights: Tensor
    usage: Tensor
    precedence: Tensor
    links: Links
    read_vectors: Tensor

    @property
    def memory_size(self) -> int:
        """N, the number of slots."""
        return int(self.memory.shape[1])


class DNCState(NamedTuple):
    """The whole recurrent state returned by ``DNC.forward``."""

    controller: ControllerState
    access: AccessState

    def detach(self) -> DNCState:
        """The same state cut from the autograd graph (truncated BPTT)."""
        return detach_state(self)


class LSTMState(NamedTuple):
    """State of ``LSTMBaseline``: (layers, B, H) hidden and cell states."""

    h: Tensor
    c: Tensor

    def detach(self) -> LSTMState:
        """The same state cut from the autograd graph."""
        return LSTMState(self.h.detach(), self.c.detach())


def detach_state(state: DNCState) -> DNCState:
    """Return ``state`` with every tensor detached from the autograd graph."""
    links = state.access.links
    new_links: Links
    if isinstance(links, SparseLinks):
        new_links = SparseLinks(links.values.detach(), links.index)
    else:
        new_links = DenseLinks(links.link.detach())
    access = state.access._replace(
        memory=state.access.memory.detach(),
        read_weights=state.access.read_weights.detach(),
        write_weights=state.access.write_weights.detach(),
        usage=state.access.usage.detach(),
        precedence=state.access.precedence.detach(),
        links=new_links,
        read_vectors=state.access.read_vectors.detach(),
    )
    controller = ControllerState(state.controller.h.detach(), state.controller.c.detach())
    return DNCState(controller, access)


def initial_access_state(
    batch_size: int,
    memory_size: int,
    word_size: int,
    read_heads: int,
    link_sparsity: int | None,
    *,
    dtype: torch.dtype,
    device: torch.device,
    memory_init: float | None = None,
) -> AccessState:
    """All-zero access state (M_0 = 0, u_0 = 0, p_0 = 0, L_0 = 0, w_0 = 0, r_0 = 0).

    With ``memory_init`` every entry of M_0 is that constant instead (the read
    vectors r_0 stay 0: nothing has been read yet).

    With sparse links each row starts with K' = min(K, N) distinct columns
    (``(i + 1 + k) mod N``), all with value 0.
    """
    b, n, w, r = batch_size, memory_size, word_size, read_heads
    zeros = torch.zeros
    links: Links
    if link_sparsity is None:
        links = DenseLinks(zeros(b, n, n, dtype=dtype, device=device))
    else:
        k = min(link_sparsity, n)
        rows = torch.arange(n, device=device).unsqueeze(1)
        offsets = torch.arange(k, device=device).unsqueeze(0)
        index = ((rows + 1 + offsets) % n).unsqueeze(0).expand(b, n, k).contiguous()
        links = SparseLinks(zeros(b, n, k, dtype=dtype, device=device), index)
    memory = zeros(b, n, w, dtype=dtype, device=device)
    if memory_init is not None:
        memory.fill_(memory_init)
    return AccessState(
        memory=memory,
        read_weights=zeros(b, r, n, dtype=dtype, device=device),
        write_weights=zeros(b, n, dtype=dtype, device=device),
        usage=zeros(b, n, dtype=dtype, device=device),
        precedence=zeros(b, n, dtype=dtype, device=device),
        links=links,
        read_vectors=zeros(b, r, w, dtype=dtype, device=device),
    )
