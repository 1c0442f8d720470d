"""Split the interface vector ξ_t into its parts and squash each (PAPER.md §1).

Layout of ξ_t (B, S), in this order; S = ``DNCConfig.interface_size``:

| part | size | squash |
|---|---|---|
| read keys k^r_i | R·W | none |
| read strengths β^r_i | R | oneplus |
| write key k^w | W | none |
| write strength β^w | 1 | oneplus |
| erase vector e | W | sigmoid |
| write vector v | W | none |
| free gates f_i | R | sigmoid |
| allocation gate g^a | 1 | sigmoid |
| write gate g^w | 1 | sigmoid |
| read modes π_i | 3R | softmax over each 3 (backward, content, forward) |
| read masks m^r_i (key_masking) | R·W | floor + (1 − floor)·sigmoid |
| write mask m^w (key_masking) | W | floor + (1 − floor)·sigmoid |
| forward sharpness s^f_i (link_sharpness) | R | oneplus |
| backward sharpness s^b_i (link_sharpness) | R | oneplus |
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from kgdnc.dnc.config import DNCConfig


class Interface(NamedTuple):
    """The squashed parts of ξ_t (B batch, R read heads, W word width).

    Attributes:
        read_keys: (B, R, W) [k^r_i].
        read_strengths: (B, R) [β^r_i] ≥ 1.
        write_key: (B, 1, W) [k^w].
        write_strength: (B, 1) [β^w] ≥ 1.
        erase: (B, W) [e] in (0, 1).
        write_vector: (B, W) [v].
        free_gates: (B, R) [f_i] in (0, 1).
        allocation_gate: (B, 1) [g^a] in (0, 1).
        write_gate: (B, 1) [g^w] in (0, 1).
        read_modes: (B, R, 3) [π_i]: backward, content, forward; each sums to 1.
        read_masks: (B, R, W) [m^r_i] in (floor, 1) (``key_mask_floor``) or None
            (key masking off).
        write_mask: (B, 1, W) [m^w] or None.
        forward_sharpness: (B, R) [s^f_i] ≥ 1 or None (link sharpness off).
        backward_sharpness: (B, R) [s^b_i] ≥ 1 or None.
    """

    read_keys: Tensor
    read_strengths: Tensor
    write_key: Tensor
    write_strength: Tensor
    erase: Tensor
    write_vector: Tensor
    free_gates: Tensor
    allocation_gate: Tensor
    write_gate: Tensor
    read_modes: Tensor
    read_masks: Tensor | None = None
    write_mask: Tensor | None = None
    forward_sharpness: Tensor | None = None
    backward_sharpness: Tensor | None = None


def oneplus(x: Tensor) -> Tensor:
    """oneplus(x) = 1 + log(1 + e^x), in [1, ∞)."""
    return 1.0 + F.softplus(x)


def _mask(x: Tensor, floor: float) -> Tensor:
    """Key mask floor + (1 − floor) · sigmoid(x), in (floor, 1)."""
    mask = torch.sigmoid(x)
    if floor > 0.0:
        mask = mask * (1.0 - floor) + floor
    return mask


def interface_sizes(config: DNCConfig) -> list[int]:
    """Sizes of the consecutive parts of ξ_t, in the order of the table above.

    The free, allocation and write gates are one part of R + 2 (one sigmoid)."""
    w, r = config.word_size, config.read_heads
    sizes = [r * w, r, w, 1, w, w, r + 2, 3 * r]
    if config.key_masking:
        sizes += [r * w, w]
    if config.link_sharpness:
        sizes += [r, r]
    return sizes


def split_interface(xi: Tensor, config: DNCConfig) -> Interface:
    """Split ξ_t (B, S) and squash each part (see the module docstring)."""
    b = xi.shape[0]
    w, r = config.word_size, config.read_heads
    parts = torch.split(xi, interface_sizes(config), dim=-1)
    keys, strengths, wkey, wstrength, erase, wvec, gate_logits, modes = parts[:8]
    gates = torch.sigmoid(gate_logits)  # (B, R + 2): free gates, g^a, g^w
    read_masks = write_mask = fwd_sharp = bwd_sharp = None
    rest = list(parts[8:])
    if config.key_masking:
        read_masks = _mask(rest.pop(0), config.key_mask_floor).view(b, r, w)
        write_mask = _mask(rest.pop(0), config.key_mask_floor).view(b, 1, w)
    if config.link_sharpness:
        fwd_sharp = oneplus(rest.pop(0))
        bwd_sharp = oneplus(rest.pop(0))
    return Interface(
        read_keys=keys.reshape(b, r, w),
        read_strengths=oneplus(strengths),
        write_key=wkey.reshape(b, 1, w),
        write_strength=oneplus(wstrength),
        erase=torch.sigmoid(erase),
        write_vector=wvec,
        free_gates=gates[:, :r],
        allocation_gate=gates[:, r : r + 1],
        write_gate=gates[:, r + 1 : r + 2],
        read_modes=torch.softmax(modes.reshape(b, r, 3), dim=-1),
        read_masks=read_masks,
        write_mask=write_mask,
        forward_sharpness=fwd_sharp,
        backward_sharpness=bwd_sharp,
    )
