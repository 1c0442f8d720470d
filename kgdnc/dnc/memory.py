"""One access step of the DNC's memory: write, then read (PAPER.md §1).

Shapes: B batch, N slots, W word width, R read heads.
"""

from __future__ import annotations

import torch

from kgdnc.dnc import addressing
from kgdnc.dnc.config import DNCConfig
from kgdnc.dnc.fused import DenseLinkRead, EraseWrite
from kgdnc.dnc.interface import Interface
from kgdnc.dnc.state import AccessState, DenseLinks, Links, SparseLinks


def access_step(prev: AccessState, iface: Interface, config: DNCConfig) -> AccessState:
    """Advance the memory by one time step.

    Order (every quantity from PAPER.md §1): retention ψ_t, usage u_t,
    allocation a_t, write content c^w_t on M_{t-1}, write weighting w^w_t,
    erase/write M_t, links L_t (from p_{t-1}), precedence p_t, forward and
    backward weightings from w^r_{t-1}, read content c^r_t on M_t (after this
    step's write), read weightings w^r_t and read vectors r_t = M_tᵀ w^r_t.

    Args:
        prev: the state after step t−1 (memory (B, N, W), read weights (B, R, N), ...).
        iface: the squashed interface ξ_t.
        config: sizes and options (epsilon, link sparsity, the Csordás options).

    Returns:
        The ``AccessState`` after step t; ``read_vectors`` is (B, R, W) [r_t].
    """
    eps = config.epsilon
    psi = addressing.retention(iface.free_gates, prev.read_weights)  # (B, N) [ψ_t]
    usage = addressing.usage(prev.usage, prev.write_weights, psi)  # (B, N) [u_t]
    alloc = addressing.allocation(usage, eps)  # (B, N) [a_t]
    write_content = addressing.content_weighting(
        prev.memory, iface.write_key, iface.write_strength, eps, iface.write_mask
    ).squeeze(1)  # (B, N) [c^w_t]
    write_weights = addressing.write_weighting(
        alloc, write_content, iface.allocation_gate, iface.write_gate
    )  # (B, N) [w^w_t]

    memory_prev = prev.memory
    if config.deallocation_erase:
        memory_prev = memory_prev * psi.unsqueeze(-1)  # freed slots are wiped
    # M_t = M_{t-1} ∘ (1 − w^w eᵀ) + w^w vᵀ (addressing.erase_and_write, fused)
    memory = EraseWrite.apply(memory_prev, write_weights, iface.erase, iface.write_vector)

    links: Links
    if isinstance(prev.links, SparseLinks):
        links = addressing.sparse_links(
            prev.links, write_weights, prev.precedence, eps, config.sparse_link_threshold
        )
        forward, backward = addressing.directional_weightings(links, prev.read_weights)
    else:
        # addressing.dense_links then addressing.directional_weightings, fused
        link, forward, backward = DenseLinkRead.apply(
            prev.links.link, write_weights, prev.precedence, prev.read_weights
        )
        links = DenseLinks(link)
    precedence = addressing.precedence(prev.precedence, write_weights)  # (B, N) [p_t]
    if iface.forward_sharpness is not None and iface.backward_sharpness is not None:
        forward = addressing.sharpen(forward, iface.forward_sharpness)
        backward = addressing.sharpen(backward, iface.backward_sharpness)
    read_content = addressing.content_weighting(
        memory, iface.read_keys, iface.read_strengths, eps, iface.read_masks
    )  # (B, R, N) [c^r_t]
    read_weights = addressing.read_weighting(backward, read_content, forward, iface.read_modes)
    read_vectors = torch.bmm(read_weights, memory)  # (B, R, W) [r_t]
    return AccessState(
        memory=memory,
        read_weights=read_weights,
        write_weights=write_weights,
        usage=usage,
        precedence=precedence,
        links=links,
        read_vectors=read_vectors,
    )
