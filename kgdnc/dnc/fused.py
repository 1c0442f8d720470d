"""Hand-written autograd functions for the costliest quantities of a step.

Each computes exactly what its plain counterpart in ``addressing`` computes
(tests compare values and gradients, and run ``gradcheck`` on them), with
fewer passes over the big tensors and less saved for backward: autograd on
the plain formulas keeps several (B, N, N) or (B, N, W) intermediates per
step; these keep only their inputs, which the step keeps alive anyway, and
build each (B, N, W) or (B, N, N) result in one buffer with in-place steps
(every fresh large buffer costs page faults and a pass over memory).

Shapes: B batch, N slots, W word width, R read heads, K links kept per row.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable


def _zero_diagonal_(matrix: Tensor) -> Tensor:
    matrix.diagonal(dim1=-2, dim2=-1).zero_()
    return matrix


class DenseLinkRead(torch.autograd.Function):
    """L_t from L_{t-1}, w^w_t, p_{t-1}; then f = L_t w^r_{t-1}, b = L_tᵀ w^r_{t-1}.

    Inputs: link_prev (B, N, N) [L_{t-1}], write_weights (B, N) [w^w_t],
    precedence_prev (B, N) [p_{t-1}], read_weights_prev (B, R, N) [w^r_{t-1}].
    Outputs: link (B, N, N) [L_t], forward (B, R, N) [f_t], backward (B, R, N) [b_t].
    """

    @staticmethod
    def forward(
        ctx: Any, link_prev: Tensor, write_weights: Tensor, precedence_prev: Tensor, reads: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        w_i = write_weights.unsqueeze(-1)  # (B, N, 1)
        link = torch.sub(1.0 - w_i, write_weights.unsqueeze(1))  # 1 − w[i] − w[j]
        link.mul_(link_prev)
        link.baddbmm_(w_i, precedence_prev.unsqueeze(1))  # + w[i] p[j]
        _zero_diagonal_(link)
        forward = torch.bmm(reads, link.transpose(1, 2))
        backward = torch.bmm(reads, link)
        ctx.save_for_backward(link_prev, write_weights, precedence_prev, reads, link)
        return link, forward, backward

    @staticmethod
    @once_differentiable
    def backward(
        ctx: Any, grad_link: Tensor | None, grad_fwd: Tensor | None, grad_bwd: Tensor | None
    ) -> tuple[Tensor | None, ...]:
        link_prev, write_weights, precedence_prev, reads, link = ctx.saved_tensors
        b, n, _ = link.shape
        if grad_fwd is None:
            grad_fwd = torch.zeros_like(reads)
        if grad_bwd is None:
            grad_bwd = torch.zeros_like(reads)
        # G = dLoss/dL_t = gL + gfᵀ w + wᵀ gb  (f = w Lᵀ, b = w L), one rank-2R update
        left = torch.cat([grad_fwd, reads], dim=1).transpose(1, 2)  # (B, N, 2R)
        right = torch.cat([reads, grad_bwd], dim=1)  # (B, 2R, N)
        if grad_link is None:
            grad = torch.bmm(left, right)
        else:
            grad = torch.baddbmm(grad_link, left, right)
        _zero_diagonal_(grad)
        grad_reads = torch.bmm(grad_fwd, link).baddbmm_(grad_bwd, link.transpose(1, 2))
        # dp[j] = Σ_i G[i,j] w[i]
        # dw[i] = Σ_j G[i,j] p[j] − Σ_j G[i,j] L'[i,j] − Σ_j G[j,i] L'[j,i]
        grad_prec = torch.bmm(write_weights.unsqueeze(1), grad).squeeze(1)
        grad_write = torch.bmm(grad, precedence_prev.unsqueeze(-1)).squeeze(-1)
        w_i = write_weights.unsqueeze(-1)
        grad_link_prev = torch.sub(1.0 - w_i, write_weights.unsqueeze(1)).mul_(grad)
        grad_times_prev = grad.mul_(link_prev)  # G is not needed any more
        grad_write -= grad_times_prev.sum(-1)
        grad_write -= grad_times_prev.sum(-2)
        return grad_link_prev, grad_write, grad_prec, grad_reads


class EraseWrite(torch.autograd.Function):
    """M_t = M_{t-1} ∘ (1 − w^w eᵀ) + w^w vᵀ.

    Inputs: memory_prev (B, N, W) [M_{t-1}], write_weights (B, N) [w^w_t],
    erase (B, W) [e], write_vector (B, W) [v]. Output: (B, N, W) [M_t].
    """

    @staticmethod
    def forward(
        ctx: Any, memory_prev: Tensor, write_weights: Tensor, erase: Tensor, write_vector: Tensor
    ) -> Tensor:
        ww = write_weights.unsqueeze(-1)  # (B, N, 1)
        # one (B, N, W) buffer: −w eᵀ, then 1 − w eᵀ, then ∘ M_{t-1}, then + w vᵀ
        memory = torch.bmm(ww, erase.neg().unsqueeze(1)).add_(1.0)
        memory.mul_(memory_prev).baddbmm_(ww, write_vector.unsqueeze(1))
        ctx.save_for_backward(memory_prev, write_weights, erase, write_vector)
        return memory

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        memory_prev, write_weights, erase, write_vector = ctx.saved_tensors
        ww = write_weights.unsqueeze(-1)  # (B, N, 1)
        grad_times_prev = grad * memory_prev  # (B, N, W)
        grad_memory = torch.bmm(ww, erase.neg().unsqueeze(1)).add_(1.0).mul_(grad)  # G ∘ (1 − w eᵀ)
        # dw[n] = Σ_w G[n,w] (v[w] − M'[n,w] e[w])
        grad_write = torch.bmm(grad, write_vector.unsqueeze(-1)).squeeze(-1)
        grad_write -= torch.bmm(grad_times_prev, erase.unsqueeze(-1)).squeeze(-1)
        grad_erase = -torch.bmm(write_weights.unsqueeze(1), grad_times_prev).squeeze(1)
        grad_vector = torch.bmm(write_weights.unsqueeze(1), grad).squeeze(1)
        return grad_memory, grad_write, grad_erase, grad_vector


class SparseLinkRead(torch.autograd.Function):
    """Forward and backward weightings through a sparse link matrix.

    Inputs: values (B, N, K) [L̂_t entries], index (B, N, K) int64 columns,
    read_weights_prev (B, R, N) [w^r_{t-1}].
    Outputs: forward (B, R, N) f[r, i] = Σ_k L̂[i, idx[i,k]] w[r, idx[i,k]],
    backward (B, R, N) b[r, j] = Σ_{i,k: idx[i,k]=j} L̂[i, j] w[r, i].
    Saves only its inputs (no (B, R, N, K) intermediate).
    """

    @staticmethod
    def forward(ctx: Any, values: Tensor, index: Tensor, reads: Tensor) -> tuple[Tensor, Tensor]:
        b, n, k = values.shape
        r = reads.shape[1]
        flat = index.view(b, 1, n * k).expand(b, r, n * k)
        gathered = reads.gather(2, flat).view(b, r, n, k)
        forward = (gathered * values.unsqueeze(1)).sum(-1)
        contrib = (values.unsqueeze(1) * reads.unsqueeze(-1)).view(b, r, n * k)
        backward = reads.new_zeros(b, r, n).scatter_add_(2, flat, contrib)
        ctx.save_for_backward(values, index, reads)
        return forward, backward

    @staticmethod
    @once_differentiable
    def backward(
        ctx: Any, grad_fwd: Tensor | None, grad_bwd: Tensor | None
    ) -> tuple[Tensor, None, Tensor]:
        values, index, reads = ctx.saved_tensors
        b, n, k = values.shape
        r = reads.shape[1]
        flat = index.view(b, 1, n * k).expand(b, r, n * k)
        grad_values = values.new_zeros(b, n, k)
        grad_reads = reads.new_zeros(reads.shape)
        if grad_fwd is not None:
            # dL̂[i,k] += Σ_r gf[r,i] w[r, idx[i,k]];  dw[r, idx[i,k]] += gf[r,i] L̂[i,k]
            gathered = reads.gather(2, flat).view(b, r, n, k)
            grad_values += (gathered * grad_fwd.unsqueeze(-1)).sum(1)
            contrib = (grad_fwd.unsqueeze(-1) * values.unsqueeze(1)).view(b, r, n * k)
            grad_reads.scatter_add_(2, flat, contrib)
        if grad_bwd is not None:
            # dL̂[i,k] += Σ_r gb[r, idx[i,k]] w[r,i];  dw[r,i] += Σ_k gb[r, idx[i,k]] L̂[i,k]
            gathered = grad_bwd.gather(2, flat).view(b, r, n, k)
            grad_values += (gathered * reads.unsqueeze(-1)).sum(1)
            grad_reads += (gathered * values.unsqueeze(1)).sum(-1)
        return grad_values, None, grad_reads


class CosineContent(torch.autograd.Function):
    """Content weighting softmax_i(β · k·M[i] / (|k| |M[i]| + ε)), one per head.

    Inputs: memory (B, N, W) [M], keys (B, H, W) [k], strengths (B, H) [β], epsilon.
    Output: (B, H, N) weightings. Backward sends one (B, N, W) gradient to M
    (autograd on the plain formula sends two, from the dot and the norm).
    """

    @staticmethod
    def forward(
        ctx: Any, memory: Tensor, keys: Tensor, strengths: Tensor, epsilon: float
    ) -> Tensor:
        dots = torch.bmm(keys, memory.transpose(1, 2))  # (B, H, N)
        mem_norms = torch.linalg.vector_norm(memory, dim=-1)  # (B, N)
        key_norms = torch.linalg.vector_norm(keys, dim=-1)  # (B, H)
        denom = torch.baddbmm(
            dots.new_full((1, 1, 1), epsilon), key_norms.unsqueeze(-1), mem_norms.unsqueeze(1)
        )
        cosine = dots.div_(denom)
        weights = torch.softmax(cosine * strengths.unsqueeze(-1), dim=-1)
        ctx.save_for_backward(memory, keys, strengths, mem_norms, key_norms, cosine, weights)
        ctx.epsilon = epsilon
        return weights

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor, Tensor, None]:
        memory, keys, strengths, mem_norms, key_norms, cosine, weights = ctx.saved_tensors
        # softmax: dz = c ∘ (g − Σ g c); z = β cos
        gz = grad - (grad * weights).sum(-1, keepdim=True)
        gz.mul_(weights)
        grad_strengths = (gz * cosine).sum(-1)
        denom = torch.baddbmm(
            cosine.new_full((1, 1, 1), ctx.epsilon),
            key_norms.unsqueeze(-1),
            mem_norms.unsqueeze(1),
        )
        grad_dots = gz.mul_(strengths.unsqueeze(-1)).div_(denom)  # ∂/∂(k·M[i])
        grad_denom = -(grad_dots * cosine)  # ∂/∂(|k||M[i]| + ε)
        grad_mem_norms = torch.bmm(key_norms.unsqueeze(1), grad_denom).squeeze(1)  # (B, N)
        grad_key_norms = torch.bmm(grad_denom, mem_norms.unsqueeze(-1)).squeeze(-1)  # (B, H)
        # |x| has gradient x / |x| (0 at x = 0)
        mem_scale = torch.where(mem_norms > 0, grad_mem_norms / mem_norms, 0.0)
        key_scale = torch.where(key_norms > 0, grad_key_norms / key_norms, 0.0)
        grad_memory = torch.bmm(grad_dots.transpose(1, 2), keys)
        grad_memory.addcmul_(memory, mem_scale.unsqueeze(-1))
        grad_keys = torch.bmm(grad_dots, memory).addcmul_(keys, key_scale.unsqueeze(-1))
        return grad_memory, grad_keys, grad_strengths, None
