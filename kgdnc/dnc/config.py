"""``DNCConfig``: everything needed to rebuild a DNC, as one frozen dataclass.

The memory size N is only a default: no parameter's shape depends on it, so
``DNC.initial_state(batch_size, memory_size=...)`` may pick any N at call time.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

from kgdnc.errors import UserError

ControllerKind = Literal["lstm", "feedforward"]
FusedMode = Literal["auto", "on", "off"]


@dataclass(frozen=True)
class DNCConfig:
    """Sizes and options of a DNC (paper symbols in brackets).

    Attributes:
        input_size: width I of each input x_t.
        output_size: width O of each output y_t.
        hidden_size: units H per controller layer.
        num_layers: controller layers L; the controller output h_t is the
            concatenation of every layer's output (L·H), as in the paper's deep LSTM.
        controller: ``"lstm"`` (the paper's) or ``"feedforward"`` (tanh layers).
        word_size: word width [W].
        read_heads: number of read heads [R].
        memory_size: default number of slots [N] (any N can be used at call time).
        link_sparsity: keep at most K links per row of the temporal link matrix
            [K, the paper's sparse link matrix]; ``None`` keeps the dense N×N matrix.
        epsilon: added to norms in cosine similarity; usage is clamped to
            [epsilon, 1] before the allocation's cumulative product.
        key_masking: Csordás & Schmidhuber (2019) masked content lookup: every
            read head and the write head emit a sigmoid mask m over the word,
            and lookups compare k∘m with M∘m. Adds (R+1)·W interface fields.
        deallocation_erase: Csordás & Schmidhuber (2019): multiply memory rows by
            the retention ψ_t before writing, so freed slots are wiped.
        link_sharpness: Csordás & Schmidhuber (2019): per read head, oneplus
            exponents s^f, s^b sharpen the forward and backward weightings.
            Adds 2·R interface fields.
        controller_clip: clip the interface vector ξ_t and the output
            pre-activation v_t to [-c, c] (DeepMind's release uses 20); ``None``: off.
        lstm_grad_clip: clip gradients of the LSTM gate pre-activations to
            [-c, c] during back-propagation through time (the paper uses 10),
            through a tensor hook; ``None``: off.
        sparse_link_threshold: with ``link_sparsity`` set, also renormalise the
            top-K write and precedence weightings and zero links below 1/K, the
            paper's literal recipe (off by default: see docs/dnc.md).
        key_mask_floor: with ``key_masking``, each mask is
            ``floor + (1 − floor) · sigmoid(x)`` instead of ``sigmoid(x)``, so no
            word position is masked out entirely (Csordás & Schmidhuber 2019
            recommend 0.1). In [0, 1); 0 is the plain sigmoid.
        memory_init: initialise every entry of M_0 to this constant instead of 0
            (Collier & Beel 2018 use small values such as 1e-6 … 0.01); ``None``:
            zeros. Keep ``memory_init · sqrt(W)`` well above ``epsilon``, or the
            cosine of a slot stays shrunk by |M[i]| / (|M[i]| + ε/|k|).
        bypass_dropout: dropout probability on the controller's direct output
            path, v_t = W_y dropout(h_t), in training mode only; ξ_t sees the
            undropped h_t (Franke et al. 2018, rsDNC). In [0, 1); 0: off.
        layer_norm: layer normalisation (learnt gain and bias) of each
            controller layer's output h^l_t as it leaves the controller (for W_ξ
            and W_y; the LSTM recurrence and the layer above see the raw h^l_t),
            and of the interface vector ξ_t = W_ξ LN(h_t) before it is clipped
            and split (rsDNC).
        reset_inputs: input indices; before each step whose input x_t is 1 at
            all of them, the LSTM controller's state (h, c) is zeroed, so what
            the steps before it said reaches the steps after only through the
            memory and the last read vectors. ``()``: never (the paper's DNC).
            A lever, not in the paper: the graph tasks' ``--answer-reset first``
            sets it to the two flags (both on only where an answer phase begins),
            ``every`` to flag 1 (on at every answer step).
        fused: how the memory access step runs; the same equations either way.
            ``"off"``: the eager PyTorch reference (``memory.access_step``).
            ``"auto"``: the fused C++ step (``kgdnc.dnc.fused_cpu``: one operation
            per direction, hand-written backward, OpenMP over the batch) for CPU
            float32/float64 tensors, compiled on first use and cached; anything
            else, or a failed build (one warning line), runs the eager step.
            ``"on"``: like ``"auto"``, and it also warns when it falls back.
    """

    input_size: int
    output_size: int
    hidden_size: int = 64
    num_layers: int = 1
    controller: ControllerKind = "lstm"
    word_size: int = 16
    read_heads: int = 4
    memory_size: int = 16
    link_sparsity: int | None = None
    epsilon: float = 1e-6
    key_masking: bool = False
    deallocation_erase: bool = False
    link_sharpness: bool = False
    controller_clip: float | None = None
    lstm_grad_clip: float | None = None
    sparse_link_threshold: bool = False
    key_mask_floor: float = 0.0
    memory_init: float | None = None
    bypass_dropout: float = 0.0
    layer_norm: bool = False
    reset_inputs: tuple[int, ...] = ()
    fused: FusedMode = "off"

    def __post_init__(self) -> None:
        positive = {
            "input_size": self.input_size,
            "output_size": self.output_size,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "word_size": self.word_size,
            "read_heads": self.read_heads,
            "memory_size": self.memory_size,
        }
        for name, value in positive.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UserError(f"DNCConfig.{name} must be a positive integer, got {value!r}")
        if self.controller not in ("lstm", "feedforward"):
            raise UserError(
                f"DNCConfig.controller must be 'lstm' or 'feedforward', got {self.controller!r}"
            )
        if self.link_sparsity is not None and (
            not isinstance(self.link_sparsity, int) or self.link_sparsity < 1
        ):
            raise UserError(
                f"DNCConfig.link_sparsity must be a positive integer or None, "
                f"got {self.link_sparsity!r}"
            )
        if not self.epsilon > 0:
            raise UserError(f"DNCConfig.epsilon must be > 0, got {self.epsilon!r}")
        for name in ("key_mask_floor", "bypass_dropout"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value < 1.0:
                raise UserError(f"DNCConfig.{name} must be in [0, 1), got {value!r}")
        if self.memory_init is not None and (
            not isinstance(self.memory_init, int | float) or not math.isfinite(self.memory_init)
        ):
            raise UserError(
                f"DNCConfig.memory_init must be a finite number or None, got {self.memory_init!r}"
            )
        reset = self.reset_inputs
        if not isinstance(reset, tuple) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < self.input_size
            for i in reset
        ):
            raise UserError(
                f"DNCConfig.reset_inputs must be a tuple of input indices in "
                f"[0, {self.input_size}), got {reset!r}"
            )
        if reset and self.controller != "lstm":
            raise UserError(
                "DNCConfig.reset_inputs needs the lstm controller (a feedforward one has "
                "no state to reset)"
            )
        if self.fused not in ("auto", "on", "off"):
            raise UserError(f"DNCConfig.fused must be 'auto', 'on' or 'off', got {self.fused!r}")
        for name in ("controller_clip", "lstm_grad_clip"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise UserError(f"DNCConfig.{name} must be > 0 or None, got {value!r}")

    @property
    def interface_size(self) -> int:
        """Width of ξ_t: W·R + 3W + 5R + 3, plus (R+1)·W with key masking, plus 2R
        with link sharpness."""
        w, r = self.word_size, self.read_heads
        size = w * r + 3 * w + 5 * r + 3
        if self.key_masking:
            size += (r + 1) * w
        if self.link_sharpness:
            size += 2 * r
        return size

    @property
    def controller_output_size(self) -> int:
        """Width of h_t, the concatenated layer outputs: L·H."""
        return self.num_layers * self.hidden_size

    @property
    def read_size(self) -> int:
        """Width of the concatenated read vectors [r^1 … r^R]: R·W."""
        return self.read_heads * self.word_size

    def to_dict(self) -> dict[str, Any]:
        """Plain dict, for checkpoints (``DNCConfig.from_dict`` reverses it)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DNCConfig:
        """Rebuild a config saved by ``to_dict``; unknown keys are an error.

        Fields missing from ``data`` (a checkpoint written before they existed)
        take their defaults, which are the behaviour of those older versions."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(
                f"unknown DNCConfig fields {unknown}: the checkpoint comes from another version"
            )
        if "reset_inputs" in data:  # a list after a round trip through JSON
            data = {**data, "reset_inputs": tuple(data["reset_inputs"])}
        return cls(**data)
