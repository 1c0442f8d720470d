"""The DNC (controller + memory, unrolled over time) and an LSTM baseline.

Shapes: B batch, T time steps, I input width, O output width, L controller
layers, H hidden units per layer, N slots, W word width, R read heads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kgdnc.dnc import fused_cpu
from kgdnc.dnc.config import DNCConfig
from kgdnc.dnc.interface import split_interface
from kgdnc.dnc.memory import access_step
from kgdnc.dnc.state import (
    ControllerState,
    DNCState,
    LSTMState,
    initial_access_state,
)
from kgdnc.errors import UserError


class MemoryTrace(NamedTuple):
    """What the memory did at every step, for plots and inspection.

    Attributes:
        write_weights: (B, T, N) [w^w_t].
        read_weights: (B, T, R, N) [w^r_t].
        usage: (B, T, N) [u_t].
        read_modes: (B, T, R, 3) [π_t]: backward, content, forward.
        write_gate: (B, T) [g^w_t].
        allocation_gate: (B, T) [g^a_t].
        free_gates: (B, T, R) [f_t].
    """

    write_weights: Tensor
    read_weights: Tensor
    usage: Tensor
    read_modes: Tensor
    write_gate: Tensor
    allocation_gate: Tensor
    free_gates: Tensor


class _StepInputs:
    """The per-step inputs of the controller's weight products, kept (detached) during
    the unroll for :class:`_DeferredWeightGrads`: r_{t-1}, each layer's h^l_{t-1} and
    h^{l-1}_t, and the interface layer's input; each list holds (steps, B, ·) pieces in
    time order (one per step, or one for the whole unroll)."""

    def __init__(self, batch_size: int, n_layers: int) -> None:
        self.batch_size = batch_size
        self.reads: list[Tensor] = []
        self.recur: list[list[Tensor]] = [[] for _ in range(n_layers)]
        self.below: list[list[Tensor]] = [[] for _ in range(n_layers)]
        self.interface: list[Tensor] = []


class _DeferredWeightGrads(torch.autograd.Function):
    """The controller's per-step weight gradients as one product over all steps.

    Forward: the x-projection of every step, b + W_x x_t, as (T, B, L·G), and the
    interface bias b_ξ repeated as (T, B, S): the per-step products added to them
    use detached weights, so the gradients arriving here are exactly the
    pre-activations' gradients ∂a_t and ∂ξ_t. The backward returns
    ∂W = Σ_t ∂a_tᵀ u_t (u_t the step's input, from :class:`_StepInputs`) as one
    (T·B)-deep product per weight, instead of T thin (B-deep) products and T
    accumulations: the same sums, in another order. Time-major, so each step's
    rows are contiguous and the gradients need no transposing copy.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, inputs: _StepInputs, x_steps: Tensor, weight_x: Tensor, bias: Tensor,
        weight_r: Tensor, weight_below: Tensor | None, weight_h: Tensor | None,
        weight_i: Tensor, bias_i: Tensor,
    ) -> tuple[Tensor, Tensor]:
        ctx.inputs = inputs
        ctx.has = (weight_below is not None, weight_h is not None)
        ctx.save_for_backward(x_steps, weight_x)
        steps, b, width = x_steps.shape
        gates = torch.addmm(bias, x_steps.reshape(steps * b, width), weight_x.t())
        return (gates.view(steps, b, -1),
                bias_i.expand(steps, b, bias_i.shape[0]).contiguous())

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: Any, d_gates: Tensor, d_xi: Tensor
    ) -> tuple[Tensor | None, ...]:
        inputs: _StepInputs = ctx.inputs
        x_steps, weight_x = ctx.saved_tensors
        steps, b, width = d_gates.shape
        d_a = d_gates.reshape(steps * b, width)
        d_i = d_xi.reshape(steps * b, -1)
        n_layers = len(inputs.recur)
        gates = width // n_layers

        def product(d: Tensor, kept: list[Tensor]) -> Tensor:
            rows = kept[0] if len(kept) == 1 else torch.cat(kept)
            return d.t().mm(rows.reshape(steps * b, -1))

        layer = [d_a[:, k * gates:(k + 1) * gates] for k in range(n_layers)]
        grad_x = d_a.mm(weight_x).view(steps, b, -1) if ctx.needs_input_grad[1] else None
        grad_weight_x = d_a.t().mm(x_steps.reshape(steps * b, -1))
        grad_r = product(d_a, inputs.reads)
        grad_below = grad_h = None
        if ctx.has[0]:
            grad_below = torch.stack([product(layer[k], inputs.below[k])
                                      for k in range(1, n_layers)])
        if ctx.has[1]:
            grad_h = torch.stack([product(layer[k], inputs.recur[k]) for k in range(n_layers)])
        grad_i = product(d_i, inputs.interface)
        return (None, grad_x, grad_weight_x, d_a.sum(0), grad_r, grad_below, grad_h, grad_i,
                d_i.sum(0))


def _check_input(x: Tensor, input_size: int) -> None:
    if x.dim() != 3 or x.shape[-1] != input_size:
        raise UserError(
            f"DNC input must have shape (B, T, {input_size}), got {tuple(x.shape)}: "
            "reshape the batch or fix DNCConfig.input_size"
        )


class DNC(nn.Module):
    """Differentiable Neural Computer (Graves et al. 2016).

    The controller sees χ_t = [x_t; r^1_{t-1} … r^R_{t-1}] (the previous
    step's reads), emits h_t (all layers concatenated, L·H), the interface
    ξ_t = W_ξ h_t and v_t = W_y h_t; the output is y_t = v_t + W_r [r^1_t … r^R_t].
    Options: ``layer_norm`` makes these ξ_t = LN(W_ξ LN(h_t)) and v_t = W_y LN(h_t);
    ``bypass_dropout`` makes v_t = W_y dropout(h_t) in training mode.
    No parameter's shape depends on N: pick the memory size per call with
    ``initial_state(batch_size, memory_size)``.

    Call: ``y, state = model(x, state=None)`` with x (B, T, I), y (B, T, O).

    In training (gradients on, at least ``DEFER_MIN_STEPS`` steps) the weight
    gradients of the per-step products (W_r, W_h, W_ξ and the layer links) are
    formed once per call over all steps (:class:`_DeferredWeightGrads`): the same
    gradients; ``defer_weight_grads = False`` takes them step by step. (Deferred,
    W_ξ is applied as a product of its detached weights, so forward hooks on the
    ``interface`` module do not fire.) With the fused step, a one-layer LSTM
    controller then runs its whole step (products, cell, layer norms, clip) as one
    C++ operation (``fused_cpu.controller_step``; ``fuse_controller = False``: the
    PyTorch operations), and, unless a trace is recorded, all its steps as one
    (``fused_cpu.unroll``: the same per-step C++ code in one autograd node;
    ``fuse_unroll = False``: one node per step).
    """

    DEFER_MIN_STEPS = 8
    defer_weight_grads = True
    fuse_controller = True
    fuse_unroll = True

    def __init__(self, config: DNCConfig) -> None:
        super().__init__()
        self.config = config
        i, h, n_layers = config.input_size, config.hidden_size, config.num_layers
        reads = config.read_size
        gates = 4 * h if config.controller == "lstm" else h
        # χ_t = [x_t; r_{t-1}] reaches every layer (the paper's deep LSTM); the x
        # part is projected for all steps at once, the read part step by step.
        self.weight_x = nn.Parameter(torch.empty(n_layers * gates, i))
        self.weight_r = nn.Parameter(torch.empty(n_layers * gates, reads))
        self.bias = nn.Parameter(torch.empty(n_layers * gates))
        # layer l also sees h^{l-1}_t (l ≥ 1) and, for an LSTM, its own h^l_{t-1}
        self.weight_below: nn.Parameter | None = None
        self.weight_h: nn.Parameter | None = None
        if n_layers > 1:
            self.weight_below = nn.Parameter(torch.empty(n_layers - 1, gates, h))
        if config.controller == "lstm":
            self.weight_h = nn.Parameter(torch.empty(n_layers, gates, h))
        self.interface = nn.Linear(config.controller_output_size, config.interface_size)
        # layer_norm: gain and bias per controller layer (L, H) for h_t, and for ξ_t
        self.norm_h_weight: nn.Parameter | None = None
        self.norm_h_bias: nn.Parameter | None = None
        self.norm_interface: nn.LayerNorm | None = None
        if config.layer_norm:
            self.norm_h_weight = nn.Parameter(torch.empty(n_layers, h))
            self.norm_h_bias = nn.Parameter(torch.empty(n_layers, h))
            self.norm_interface = nn.LayerNorm(config.interface_size)
        self.output_v = nn.Linear(config.controller_output_size, config.output_size)  # W_y
        self.output_r = nn.Linear(reads, config.output_size, bias=False)  # W_r
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform(±1/sqrt(H)) controller weights, forget-gate bias 1."""
        bound = 1.0 / math.sqrt(self.config.hidden_size)
        for weight in self._controller_weights():
            nn.init.uniform_(weight, -bound, bound)
        if self.config.controller == "lstm":
            h = self.config.hidden_size
            with torch.no_grad():
                self.bias.view(self.config.num_layers, 4, h)[:, 1].fill_(1.0)
        self.interface.reset_parameters()
        if self.norm_h_weight is not None and self.norm_h_bias is not None:
            nn.init.ones_(self.norm_h_weight)
            nn.init.zeros_(self.norm_h_bias)
        if self.norm_interface is not None:
            self.norm_interface.reset_parameters()
        self.output_v.reset_parameters()
        self.output_r.reset_parameters()

    def _controller_weights(self) -> list[nn.Parameter]:
        weights = [self.weight_x, self.weight_r, self.bias, self.weight_below, self.weight_h]
        return [w for w in weights if w is not None]

    def initial_state(self, batch_size: int, memory_size: int | None = None) -> DNCState:
        """All-zero state for ``batch_size`` sequences and N = ``memory_size`` slots
        (default ``config.memory_size``), on the weights' device and dtype."""
        cfg = self.config
        n = cfg.memory_size if memory_size is None else memory_size
        if not isinstance(n, int) or n < 1:
            raise UserError(f"memory size must be a positive integer, got {n!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise UserError(f"batch size must be a positive integer, got {batch_size!r}")
        like = self.weight_x
        layers = cfg.num_layers if cfg.controller == "lstm" else 0
        zeros = like.new_zeros(layers, batch_size, cfg.hidden_size)
        controller = ControllerState(zeros, zeros.clone())
        access = initial_access_state(
            batch_size,
            n,
            cfg.word_size,
            cfg.read_heads,
            cfg.link_sparsity,
            dtype=like.dtype,
            device=like.device,
            memory_init=cfg.memory_init,
        )
        return DNCState(controller, access)

    def forward(self, x: Tensor, state: DNCState | None = None) -> tuple[Tensor, DNCState]:
        """Run T steps.

        Args:
            x: (B, T, I) inputs [x_t].
            state: the state to start from; ``None``: ``initial_state(B)``.

        Returns:
            y (B, T, O) [y_t] and the state after the last step.
        """
        y, state, _ = self._unroll(x, state, record=False)
        return y, state

    def trace(
        self, x: Tensor, state: DNCState | None = None
    ) -> tuple[Tensor, DNCState, MemoryTrace]:
        """Like ``forward``, and also return what the memory did at every step."""
        y, state, trace = self._unroll(x, state, record=True)
        assert trace is not None
        return y, state, trace

    def _step_weights(self) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """Transposed controller weights W_rᵀ, per-layer W_belowᵀ and W_hᵀ, taken once per
        call: indexing a parameter at every step makes autograd build and fill a zero
        gradient of the whole parameter at every step."""
        below = [] if self.weight_below is None else [w.t() for w in self.weight_below.unbind(0)]
        recur = [] if self.weight_h is None else [w.t() for w in self.weight_h.unbind(0)]
        return self.weight_r.t(), below, recur

    def _controller_step(
        self,
        gates_x: Tensor,
        reads_prev: Tensor,
        ctrl: ControllerState,
        weights: tuple[Tensor, list[Tensor], list[Tensor]],
        cell: Callable[[Tensor, Tensor], list[Tensor]] | None = None,
        kept: _StepInputs | None = None,
    ) -> tuple[Tensor, ControllerState]:
        """One controller step: (B, L·4H) x-projection + (B, R·W) reads -> h_t (B, L·H).

        ``cell``: the same LSTM cell after the products, as one operation
        ((B, 4H) pre-activations, (B, H) c_{t-1}) -> [h_t, c_t] (the fused step's).
        ``kept``: where the products' inputs are kept for the deferred weight gradients.
        """
        cfg = self.config
        hsize, n_layers = cfg.hidden_size, cfg.num_layers
        weight_r_t, weights_below_t, weights_h_t = weights
        gates_all = torch.addmm(gates_x, reads_prev, weight_r_t)
        if kept is not None:
            kept.reads.append(reads_prev.detach().unsqueeze(0))
        lstm = cfg.controller == "lstm"
        width = 4 * hsize if lstm else hsize
        hs: list[Tensor] = []
        cs: list[Tensor] = []
        below: Tensor | None = None
        for layer in range(n_layers):
            pre = gates_all[:, layer * width : (layer + 1) * width]
            if below is not None and weights_below_t:
                pre = torch.addmm(pre, below, weights_below_t[layer - 1])
                if kept is not None:
                    kept.below[layer].append(below.detach().unsqueeze(0))
            if not weights_h_t:
                below = torch.tanh(pre)
                hs.append(below)
                continue
            pre = torch.addmm(pre, ctrl.h[layer], weights_h_t[layer])
            if kept is not None:
                kept.recur[layer].append(ctrl.h[layer].detach().unsqueeze(0))
            if cfg.lstm_grad_clip is not None and pre.requires_grad:
                clip = cfg.lstm_grad_clip
                pre.register_hook(lambda grad, c=clip: grad.clamp(-c, c))
            if cell is not None:
                below, c = cell(pre, ctrl.c[layer])
            else:
                sig = torch.sigmoid(pre[:, : 3 * hsize])
                candidate = torch.tanh(pre[:, 3 * hsize :])
                c = torch.addcmul(
                    sig[:, hsize : 2 * hsize] * ctrl.c[layer], sig[:, :hsize], candidate
                )
                below = sig[:, 2 * hsize :] * torch.tanh(c)
            hs.append(below)
            cs.append(c)
        out = hs[0] if n_layers == 1 else torch.cat(hs, dim=-1)
        if lstm:
            if n_layers == 1:  # views, not copies
                return out, ControllerState(hs[0].unsqueeze(0), cs[0].unsqueeze(0))
            return out, ControllerState(torch.stack(hs), torch.stack(cs))
        return out, ctrl

    def _reset_keep(self, x: Tensor) -> Tensor | None:
        """(T, B) 0 at the steps whose input is on (> 0.5) at every index of
        ``config.reset_inputs``, 1 elsewhere; ``None`` when no step resets."""
        index = self.config.reset_inputs
        if not index:
            return None
        on = (x[..., list(index)] > 0.5).all(dim=-1)  # (B, T)
        if not bool(on.any()):
            return None
        return (~on).to(x.dtype).t().contiguous()

    def _normalise_h(self, h: Tensor) -> Tensor:
        """layer_norm: LN over each layer's H units of h_t (B, L·H), own gain and bias."""
        assert self.norm_h_weight is not None and self.norm_h_bias is not None
        cfg = self.config
        b = h.shape[0]
        per_layer = h.view(b, cfg.num_layers, cfg.hidden_size)
        normed = F.layer_norm(per_layer, (cfg.hidden_size,))
        return torch.addcmul(self.norm_h_bias, normed, self.norm_h_weight).view(b, -1)

    def _output(self, hs: Tensor, reads: Tensor) -> Tensor:
        """y_t = v_t + W_r r_t from h_t (B, T, L·H) and r_t (B, T, R·W)."""
        cfg = self.config
        if cfg.bypass_dropout > 0.0 and self.training:
            hs = F.dropout(hs, cfg.bypass_dropout, training=True)  # the bypass path only
        v = self.output_v(hs)  # (B, T, O) [v_t]
        if cfg.controller_clip is not None:
            v = v.clamp(-cfg.controller_clip, cfg.controller_clip)
        return v + self.output_r(reads)

    def _unroll(
        self, x: Tensor, state: DNCState | None, record: bool
    ) -> tuple[Tensor, DNCState, MemoryTrace | None]:
        cfg = self.config
        _check_input(x, cfg.input_size)
        b, steps, _ = x.shape
        if state is None:
            state = self.initial_state(b)
        elif state.access.memory.shape[0] != b:
            raise UserError(
                f"state batch size {state.access.memory.shape[0]} differs from input batch "
                f"size {b}: build the state with initial_state({b}, ...)"
            )
        clip = cfg.controller_clip
        ctrl, access = state
        fused = fused_cpu.use_fused(cfg, access.memory)
        cell = fused_cpu.lstm_cell if fused and cfg.controller == "lstm" else None
        # (T, B, L·4H): b + W_x x_t for all steps, time-major; unbind once (indexing
        # per step would make autograd build a zero gradient of it at every step)
        x_steps = x.transpose(0, 1)
        kept: _StepInputs | None = None
        if (self.defer_weight_grads and steps >= self.DEFER_MIN_STEPS
                and torch.is_grad_enabled() and self.weight_r.requires_grad):
            kept = _StepInputs(b, cfg.num_layers)
            gates_x_all, xi_biases = _DeferredWeightGrads.apply(
                kept, x_steps.contiguous(), self.weight_x, self.bias, self.weight_r,
                self.weight_below, self.weight_h, self.interface.weight, self.interface.bias)
            # ξ_t = b_ξ + W_ξ h_t with W_ξ detached; its gradient comes through b_ξ's rows
            xi_bias = xi_biases.unbind(0)
            weight_i_t = self.interface.weight.detach().t()
            with torch.no_grad():
                weights = self._step_weights()
        else:
            gates_x_all = F.linear(x_steps, self.weight_x, self.bias)
            weights = self._step_weights()
        gates_x = gates_x_all.unbind(0)
        keep = self._reset_keep(x)  # (T, B): 0 where the controller's state is zeroed
        resets = [] if keep is None else (keep < 1).any(dim=1).tolist()  # per step
        # the whole controller step as one C++ operation: one-layer LSTM, weights detached
        whole = (fused and self.fuse_controller and cfg.controller == "lstm"
                 and cfg.num_layers == 1
                 and (kept is not None or not torch.is_grad_enabled()))
        if whole:
            if kept is None:  # no gradients at all: the weights as they are
                xi_biases = self.interface.bias.expand(steps, b, -1)
                xi_bias = xi_biases.unbind(0)
                weight_i_t = self.interface.weight.t()
            whole_weights = (weights[0], weights[2][0], weight_i_t)
            norm_h = norm_xi = None
            if self.norm_interface is not None:
                assert self.norm_h_weight is not None and self.norm_h_bias is not None
                norm_h = (self.norm_h_weight.view(-1), self.norm_h_bias.view(-1))
                norm_xi = (self.norm_interface.weight, self.norm_interface.bias)
            if self.fuse_unroll and not record and steps > 0:
                # all steps as one C++ operation
                hn, reads_all, h_all, ctrl, access = fused_cpu.unroll(
                    gates_x_all, xi_biases, ctrl, access, norm_h, norm_xi, whole_weights, cfg,
                    keep=keep)
                if kept is not None:
                    kept.reads.append(reads_all[:-1].detach())
                    kept.recur[0].append(h_all[:-1])
                    kept.interface.append(hn.detach())
                y = self._output(hn.transpose(0, 1), reads_all[1:].transpose(0, 1))
                return y, DNCState(ctrl, access), None
        outputs: list[Tensor] = []
        reads: list[Tensor] = []
        records: list[tuple[Tensor, ...]] = []
        for t in range(steps):
            if resets and resets[t]:
                ctrl = _reset_controller(ctrl, keep[t])
            reads_prev = access.read_vectors.reshape(b, cfg.read_size)  # r_{t-1}
            if whole:
                if kept is not None:
                    kept.reads.append(reads_prev.detach().unsqueeze(0))
                    kept.recur[0].append(ctrl.h[0].detach().unsqueeze(0))
                h_raw, c, h, xi = fused_cpu.controller_step(
                    gates_x[t], reads_prev, ctrl.h[0], ctrl.c[0], norm_h, xi_bias[t], norm_xi,
                    whole_weights, cfg.lstm_grad_clip, clip)
                ctrl = ControllerState(h_raw.unsqueeze(0), c.unsqueeze(0))
                if kept is not None:
                    kept.interface.append(h.detach().unsqueeze(0))
            else:
                h, ctrl = self._controller_step(gates_x[t], reads_prev, ctrl, weights, cell, kept)
                if self.norm_interface is not None:
                    h = self._normalise_h(h)  # LN(h_t); the recurrence keeps the raw h
                if kept is not None:
                    kept.interface.append(h.detach().unsqueeze(0))
                    xi = torch.addmm(xi_bias[t], h, weight_i_t)  # (B, S) [ξ_t]
                else:
                    xi = self.interface(h)  # (B, S) [ξ_t]
                if self.norm_interface is not None:
                    xi = self.norm_interface(xi)
                if clip is not None:
                    xi = xi.clamp(-clip, clip)
            if fused:
                access = fused_cpu.access_step(access, xi, cfg)
                iface = split_interface(xi.detach(), cfg) if record else None
            else:
                iface = split_interface(xi, cfg)
                access = access_step(access, iface, cfg)
            outputs.append(h)
            reads.append(access.read_vectors.reshape(b, cfg.read_size))
            if record:
                assert iface is not None
                records.append(
                    (
                        access.write_weights,
                        access.read_weights,
                        access.usage,
                        iface.read_modes,
                        iface.write_gate.squeeze(-1),
                        iface.allocation_gate.squeeze(-1),
                        iface.free_gates,
                    )
                )
        if steps == 0:
            return x.new_zeros(b, 0, cfg.output_size), DNCState(ctrl, access), None
        y = self._output(torch.stack(outputs, dim=1), torch.stack(reads, dim=1))
        trace = None
        if record:
            columns = zip(*records, strict=True)
            trace = MemoryTrace(*(torch.stack(items, dim=1) for items in columns))
        return y, DNCState(ctrl, access), trace


def _reset_controller(ctrl: ControllerState, keep: Tensor) -> ControllerState:
    """The LSTM state (h, c: (L, B, H)) times ``keep`` (B,): zeroed where it is 0."""
    k = keep.view(1, -1, 1)
    return ControllerState(ctrl.h * k, ctrl.c * k)


class LSTMBaseline(nn.Module):
    """The paper's LSTM comparison: a deep LSTM with the DNC's call signature.

    Uses ``config.input_size``, ``output_size``, ``hidden_size`` and ``num_layers``
    (memory fields are ignored). ``y, state = model(x, state=None)`` with
    x (B, T, I), y (B, T, O). With ``config.lstm_grad_clip`` the gradient of
    the LSTM outputs is clipped (nn.LSTM fuses its gates, so the hook sits on h).
    """

    def __init__(self, config: DNCConfig) -> None:
        super().__init__()
        self.config = config
        self.lstm = nn.LSTM(
            config.input_size, config.hidden_size, config.num_layers, batch_first=True
        )
        self.output = nn.Linear(config.hidden_size, config.output_size)

    def initial_state(self, batch_size: int, memory_size: int | None = None) -> LSTMState:
        """Zero (L, B, H) states; ``memory_size`` is accepted and ignored."""
        like = self.output.weight
        zeros = like.new_zeros(self.config.num_layers, batch_size, self.config.hidden_size)
        return LSTMState(zeros, zeros.clone())

    def forward(self, x: Tensor, state: LSTMState | None = None) -> tuple[Tensor, LSTMState]:
        """x (B, T, I) -> y (B, T, O) and the final state."""
        _check_input(x, self.config.input_size)
        if state is None:
            state = self.initial_state(x.shape[0])
        h, (hn, cn) = self.lstm(x, (state.h, state.c))
        clip = self.config.lstm_grad_clip
        if clip is not None and h.requires_grad:
            h.register_hook(lambda grad: grad.clamp(-clip, clip))
        return self.output(h), LSTMState(hn, cn)
