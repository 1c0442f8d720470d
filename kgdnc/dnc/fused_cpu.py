"""The whole memory access step as one fused C++ operation per direction, on CPU.

``csrc/access_step.cpp`` computes what ``split_interface`` followed by
``memory.access_step`` compute (the eager path stays the reference and the
fallback; the tests compare values and gradients to 1e-6 in float64), with the
backward written by hand, OpenMP over the batch. It supports every access
option of ``DNCConfig``: dense and sparse links (with or without
``sparse_link_threshold``), ``key_masking`` with ``key_mask_floor``,
``deallocation_erase`` and ``link_sharpness``; float32 and float64; CPU only.

Building: the extension is compiled on first use with
``torch.utils.cpp_extension.load`` (g++ and ninja) into a cache folder,
``$KGDNC_HOME/cache/fused`` when ``KGDNC_HOME`` is set, else
``$XDG_CACHE_HOME/kgdnc/fused`` (default ``~/.cache/kgdnc/fused``); the folder
name hashes the source, the torch version and the CPU, so a rebuild happens
only when one of them changes. If it cannot be built, one warning line and the
eager path.

``DNCConfig.fused``: ``"off"`` always eager; ``"auto"`` the fused step for CPU
float32/float64 tensors when it builds, else eager (a failed build warns once);
``"on"`` the same, and a warning when it falls back for any reason.

Shapes: B batch, N slots, W word width, R read heads, K links kept per row,
S interface width.
"""

from __future__ import annotations

import hashlib
import os
import platform
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from kgdnc.dnc.config import DNCConfig
from kgdnc.dnc.state import AccessState, ControllerState, DenseLinks, Links, SparseLinks

SOURCE = Path(__file__).with_name("csrc") / "access_step.cpp"

_state: dict[str, Any] = {"loaded": None, "warned": set()}


def cache_dir() -> Path:
    """Where the compiled step is kept (see the module docstring)."""
    home = os.environ.get("KGDNC_HOME")
    if home:
        return Path(home).expanduser() / "cache" / "fused"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "kgdnc" / "fused"


def _cpu_identity() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("model name", "flags")):
                    return line
    except OSError:
        pass
    return platform.processor()


def _flags() -> list[str]:
    flags = ["-O3", "-fopenmp"]
    if platform.system() == "Linux" and platform.machine() in ("x86_64", "AMD64"):
        flags.append("-march=native")
    return flags


def build_name() -> str:
    """Extension name: a hash of the source, torch, python, the flags and the CPU."""
    digest = hashlib.sha256()
    digest.update(SOURCE.read_bytes())
    for part in (torch.__version__, platform.python_version(), " ".join(_flags())):
        digest.update(part.encode())
    digest.update(_cpu_identity().encode())
    return f"kgdnc_fused_{digest.hexdigest()[:16]}"


def _compile() -> None:
    """Compile (or load from the cache) and register ``torch.ops.kgdnc_fused``."""
    from torch.utils.cpp_extension import load

    name = build_name()
    folder = cache_dir() / name
    folder.mkdir(parents=True, exist_ok=True)
    load(
        name=name,
        sources=[str(SOURCE)],
        build_directory=str(folder),
        extra_cflags=_flags(),
        extra_ldflags=["-fopenmp"],
        is_python_module=False,
        verbose=False,
    )


def _registered() -> bool:
    try:
        return hasattr(torch.ops.kgdnc_fused, "access_step")
    except (AttributeError, RuntimeError):
        return False


def _load() -> None:
    """Register the operators: already there (loaded in this process), else compile/load."""
    if not _registered():
        _compile()


def _warn_once(key: str, message: str) -> None:
    if key not in _state["warned"]:
        _state["warned"].add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def available() -> bool:
    """Whether the fused step is built and loaded (building it on the first call).

    A failed build warns once (one line) and is not retried in this process."""
    if _state["loaded"] is None:
        try:
            _load()
            _state["loaded"] = _registered()
        except Exception as error:  # noqa: BLE001 - any build failure means: eager path
            reason = " ".join(str(error).split())[:200]
            _warn_once(
                "build",
                f"kgdnc: the fused C++ memory step could not be built ({type(error).__name__}: "
                f"{reason}); using the eager PyTorch step",
            )
            _state["loaded"] = False
    return bool(_state["loaded"])


def reset() -> None:
    """Forget the build result and the warnings given (for tests)."""
    _state["loaded"] = None
    _state["warned"] = set()


def use_fused(config: DNCConfig, like: Tensor) -> bool:
    """Whether ``config.fused`` and the tensors (device, dtype) select the fused step."""
    if config.fused == "off":
        return False
    reason = None
    if like.device.type != "cpu":
        reason = f"device {like.device.type}"
    elif like.dtype not in (torch.float32, torch.float64):
        reason = f"dtype {like.dtype}"
    if reason is not None:
        if config.fused == "on":
            _warn_once(reason, f"kgdnc: the fused memory step does not run on {reason}; "
                       "using the eager PyTorch step")
        return False
    return available()


def _options(config: DNCConfig) -> tuple[bool, float, bool, bool, bool, float]:
    return (
        config.key_masking,
        float(config.key_mask_floor),
        config.deallocation_erase,
        config.link_sharpness,
        config.sparse_link_threshold,
        float(config.epsilon),
    )


def fused_op(
    options: tuple[bool, float, bool, bool, bool, float],
    xi: Tensor,
    memory: Tensor,
    read_weights: Tensor,
    write_weights: Tensor,
    usage: Tensor,
    precedence: Tensor,
    links: Tensor,
    index: Tensor | None,
) -> list[Tensor]:
    """One access step: (ξ_t, state_{t-1}) -> state_t, forward and backward in C++.

    The operator records its own autograd node (in C++: the backward pass runs no
    Python and keeps its intermediates out of Python's reach); it is not
    differentiable twice.

    Inputs: options (``_options``), xi (B, S) [ξ_t, before squashing], memory
    (B, N, W), read_weights (B, R, N), write_weights (B, N), usage (B, N),
    precedence (B, N), links (B, N, N) or sparse values (B, N, K), index
    (B, N, K) int64 or None.
    Outputs: memory, read_weights, write_weights, usage, precedence, links (or
    sparse values), index (not differentiable; empty for dense links),
    read_vectors (B, R, W).
    """
    return torch.ops.kgdnc_fused.access_step(
        xi, memory, read_weights, write_weights, usage, precedence, links, index, *options
    )


def _controller_args(
    like: Tensor, norm_h: tuple[Tensor, Tensor] | None, norm_xi: tuple[Tensor, Tensor] | None,
    lstm_clip: float | None, clip: float | None,
) -> tuple[tuple[Tensor, Tensor, Tensor, Tensor], bool, float, float]:
    """The C++ controller's layer-norm parameters (empty without layer norm), the flag and
    the clips (-1: none)."""
    layer_norm = norm_h is not None
    if layer_norm != (norm_xi is not None):
        raise ValueError("fused controller: layer norm on both h and ξ, or on neither")
    empty = like.new_empty(0)
    g_h, b_h = norm_h if norm_h is not None else (empty, empty)
    g_i, b_i = norm_xi if norm_xi is not None else (empty, empty)
    return ((g_h, b_h, g_i, b_i), layer_norm, -1.0 if lstm_clip is None else float(lstm_clip),
            -1.0 if clip is None else float(clip))


def _links_args(links: Links) -> tuple[Tensor, Tensor | None]:
    """The link tensor (dense, or the sparse values) and the sparse index (or None)."""
    if isinstance(links, SparseLinks):
        return links.values, links.index
    return links.link, None


def _access_state(outs: list[Tensor], sparse: bool) -> AccessState:
    """The state from the operator's outputs M, w^r, w^w, u, p, links, index, r."""
    m, wr, ww, u, p, links, index, rv = outs
    return AccessState(
        memory=m, read_weights=wr, write_weights=ww, usage=u, precedence=p,
        links=SparseLinks(links, index) if sparse else DenseLinks(links), read_vectors=rv,
    )


def lstm_cell(pre: Tensor, c_prev: Tensor) -> list[Tensor]:
    """The controller's LSTM cell after its matrix products, as one C++ operation.

    c_t = σ(f) ∘ c_{t-1} + σ(i) ∘ tanh(g), h_t = σ(o) ∘ tanh(c_t), exactly as
    ``DNC._controller_step`` computes them eagerly, with one autograd node.

    Args:
        pre: (B, 4H) pre-activations [i, f, o, g].
        c_prev: (B, H) [c_{t-1}].

    Returns:
        [h_t (B, H), c_t (B, H)].
    """
    return torch.ops.kgdnc_fused.lstm_cell(pre, c_prev)


def controller_step(
    gates_x: Tensor, reads_prev: Tensor, h_prev: Tensor, c_prev: Tensor,
    norm_h: tuple[Tensor, Tensor] | None, xi_bias: Tensor,
    norm_xi: tuple[Tensor, Tensor] | None, weights: tuple[Tensor, Tensor, Tensor],
    lstm_clip: float | None, clip: float | None, eps: float = 1e-5,
) -> list[Tensor]:
    """A one-layer LSTM controller's whole step, as one C++ operation.

    pre = gx + r_{t-1} W_rᵀ + h_{t-1} W_hᵀ; the LSTM cell; hn = LN(h_t) ∘ g + b
    (``norm_h``; else h_t); ξ = clamp(LN(xb + hn W_ξᵀ) ∘ g' + b', ±clip)
    (``norm_xi``, ``clip`` each optional), exactly as ``DNC._unroll`` computes them
    eagerly; the LSTM gradient clip acts on ∂pre. The weights come in detached
    (their gradients are deferred, ``model._DeferredWeightGrads``), so the node
    returns no gradient for them.

    Args:
        gates_x: (B, 4H) the step's x-projection and bias.
        reads_prev: (B, R·W) [r_{t-1}].
        h_prev, c_prev: (B, H) the LSTM state.
        norm_h: (g, b), each (H,), or None.
        xi_bias: (B, S) the interface bias (with the deferral's zeros).
        norm_xi: (g', b'), each (S,), or None.
        weights: W_rᵀ (R·W, 4H), W_hᵀ (H, 4H), W_ξᵀ (H, S), detached.

    Returns:
        [h_t, c_t, hn_t, ξ_t].
    """
    (g_h, b_h, g_i, b_i), layer_norm, lstm_limit, limit = _controller_args(
        gates_x, norm_h, norm_xi, lstm_clip, clip)
    return torch.ops.kgdnc_fused.controller_step(
        gates_x, reads_prev, h_prev, c_prev, g_h, b_h, xi_bias, g_i, b_i, *weights,
        layer_norm, lstm_limit, limit, eps,
    )


def access_step(prev: AccessState, xi: Tensor, config: DNCConfig) -> AccessState:
    """``memory.access_step(prev, split_interface(xi, config), config)``, fused.

    Args:
        prev: the state after step t−1 (memory (B, N, W), links dense or sparse, ...).
        xi: (B, S) [ξ_t], the interface vector after clipping, before squashing.
        config: sizes and options.

    Returns:
        The ``AccessState`` after step t.
    """
    if not available():
        raise RuntimeError("the fused memory step is not available (see the warning above)")
    tensor, index = _links_args(prev.links)
    outs = fused_op(
        _options(config), xi, prev.memory, prev.read_weights, prev.write_weights, prev.usage,
        prev.precedence, tensor, index,
    )
    return _access_state(outs, index is not None)


def unroll(
    gates_x: Tensor, xi_bias: Tensor, controller: ControllerState, access: AccessState,
    norm_h: tuple[Tensor, Tensor] | None, norm_xi: tuple[Tensor, Tensor] | None,
    weights: tuple[Tensor, Tensor, Tensor], config: DNCConfig, eps: float = 1e-5,
    keep: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor, ControllerState, AccessState]:
    """All T steps of a one-layer LSTM controller and the fused access step, as one
    C++ operation with one autograd node.

    Each step is ``controller_step`` followed by ``access_step``, the same C++
    code; the backward runs the steps' backward in reverse inside the node, with
    no Python and no autograd engine between them.

    Args:
        gates_x: (T, B, 4H) every step's x-projection and bias.
        xi_bias: (T, B, S) every step's interface bias.
        controller: the LSTM state before the first step (h, c: (1, B, H)).
        access: the access state before the first step.
        norm_h, norm_xi, weights: as for ``controller_step``.
        config: sizes and options (``lstm_grad_clip``, ``controller_clip``, access options).
        keep: (T, B) or ``None``: before step t the LSTM state (h, c) is multiplied
            by ``keep[t]`` (0 zeroes it: ``DNCConfig.reset_inputs``).

    Returns:
        hn (T, B, H) the controller outputs; reads (T+1, B, R·W) r_0 .. r_T;
        h (T+1, B, H) the raw h each step starts from (after a reset: ``keep``), then
        h_T (not differentiable: for the deferred weight gradients); the controller
        and access states after the last step.
    """
    if not available():
        raise RuntimeError("the fused memory step is not available (see the warning above)")
    (g_h, b_h, g_i, b_i), layer_norm, lstm_limit, limit = _controller_args(
        gates_x, norm_h, norm_xi, config.lstm_grad_clip, config.controller_clip)
    tensor, index = _links_args(access.links)
    hn, reads, hs, h, c, *outs = torch.ops.kgdnc_fused.unroll(
        gates_x, xi_bias, g_h, b_h, g_i, b_i, controller.h[0], controller.c[0],
        access.memory, access.read_weights, access.write_weights, access.usage,
        access.precedence, tensor, index, access.read_vectors, *weights, keep, layer_norm,
        lstm_limit, limit, eps, *_options(config),
    )
    state = _access_state(outs, index is not None)
    return hn, reads, hs, ControllerState(h.unsqueeze(0), c.unsqueeze(0)), state
