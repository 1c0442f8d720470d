"""Models by name: bundled with kgdnc, stored in the workspace, or a checkpoint file.

- Bundled: ``kgdnc/models/traversal.ckpt``, ``shortest_path.ckpt`` and
  ``inference.ckpt`` (package data, found with ``importlib.resources``); named
  ``traversal``, ``shortest-path`` and ``inference``; the default model of each
  query kind.
- Workspace: ``$KGDNC_HOME/models/NAME/`` holding ``model.ckpt`` and
  ``card.json`` (what ``kgdnc finetune`` wrote: task, graph, base model, steps,
  held-out accuracy before and after). A workspace model hides a bundled one of
  the same name. Folders are written beside their final place and renamed into
  it, so a crash never leaves half a model.
- A path to any checkpoint written by ``kgdnc train``.

Every checkpoint is read with ``torch.load(..., weights_only=True)`` and
rebuilt as a plain network (:mod:`kgdnc.training.trained`): loading a model
never runs pickled code and never imports Lightning.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgdnc.errors import KgdncError, UserError
from kgdnc.graphs import home

if TYPE_CHECKING:
    from kgdnc.training.trained import Trained

__all__ = [
    "BUNDLED_MODELS",
    "ModelEntry",
    "bundled_path",
    "list_models",
    "load_model",
    "model_info",
    "models_dir",
    "remove_model",
    "resolve_model",
    "save_model",
    "validate_model_name",
]

BUNDLED_MODELS: dict[str, str] = {
    "traversal": "traversal.ckpt",
    "shortest-path": "shortest_path.ckpt",
    "inference": "inference.ckpt",
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
CHECKPOINT_FILE = "model.ckpt"
CARD_FILE = "card.json"


@dataclass(frozen=True)
class ModelEntry:
    """Where a model is.

    Attributes:
        name: its name (bundled or workspace), or the path as given.
        kind: ``bundled``, ``workspace`` or ``file``.
        path: the checkpoint file.
        card: ``card.json`` of a workspace model (empty otherwise).
    """

    name: str
    kind: str
    path: Path
    card: dict[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        """How the model is named in answers: ``bundled:traversal``, ``NAME``, or a path."""
        if self.kind == "bundled":
            return f"bundled:{self.name}"
        return self.name


def models_dir() -> Path:
    """``$KGDNC_HOME/models`` (default ``~/.kgdnc/models``)."""
    return home() / "models"


def validate_model_name(name: str) -> str:
    """``name`` if it is a valid model name, else ``UserError``."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise UserError(
            f"invalid model name {name!r}: use letters, digits, '.', '_' or '-' "
            "(starting with a letter or digit, no '/', no '..', at most 100 characters)"
        )
    return name


def bundled_path(task: str) -> Path | None:
    """The bundled checkpoint of a task, None when this install has none."""
    file = BUNDLED_MODELS.get(task)
    if file is None:
        return None
    try:
        ref = resources.files("kgdnc.models").joinpath(file)
    except ModuleNotFoundError:  # pragma: no cover - broken install
        return None
    return Path(str(ref)) if ref.is_file() else None


def _no_bundled(task: str) -> KgdncError:
    return KgdncError(
        f"no bundled {task} model is installed; train one with `kgdnc train --task {task}` "
        f"and name its checkpoint (runs/{task}-dnc/best.ckpt) as the model"
    )


def _workspace(name: str) -> ModelEntry | None:
    if not _NAME.match(name) or ".." in name:
        return None
    folder = models_dir() / name
    ckpt = folder / CHECKPOINT_FILE
    if not ckpt.is_file():
        return None
    card: dict[str, Any] = {}
    try:
        card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        card = {}
    return ModelEntry(name, "workspace", ckpt, card)


def _looks_like_path(spec: str) -> bool:
    return os.sep in spec or "/" in spec or spec.endswith((".ckpt", ".pt", ".pth"))


def resolve_model(spec: str | None, task: str) -> ModelEntry:
    """The model ``spec`` names for a ``task`` query.

    ``None``: the bundled model of ``task``. Otherwise an existing file, a workspace
    model, a bundled model's name (``traversal``, ``shortest-path``, ``inference``),
    or a path.

    Raises:
        KgdncError: no bundled model installed (exit 1).
        UserError: an unknown name or missing file.
    """
    if spec is None:
        path = bundled_path(task)
        if path is None:
            raise _no_bundled(task)
        return ModelEntry(task, "bundled", path)
    spec = spec.strip()
    if not spec:
        raise UserError("the model name is empty; give a model name or a checkpoint path")
    file = Path(spec).expanduser()
    if file.is_file():
        return ModelEntry(spec, "file", file)
    if not _looks_like_path(spec):
        entry = _workspace(spec)
        if entry is not None:
            return entry
        alias = spec.replace("_", "-")
        if alias in BUNDLED_MODELS:
            path = bundled_path(alias)
            if path is None:
                raise _no_bundled(alias)
            return ModelEntry(alias, "bundled", path)
        names = [m["name"] for m in list_models(read=False)]
        known = ", ".join(names) if names else "none yet"
        raise UserError(
            f"no model named {spec!r} (models: {known}); pass a workspace model name, "
            "a bundled one or a .ckpt path"
        )
    raise UserError(f"model file {spec!r} does not exist; pass a .ckpt written by kgdnc train")


_CACHE: dict[tuple[str, int, int], Trained] = {}


def load_model(entry: ModelEntry) -> Trained:
    """The plain network of ``entry``, rebuilt from its checkpoint without Lightning
    (:func:`kgdnc.training.trained.load_trained`), cached per file and modification
    time."""
    from kgdnc.training.trained import load_trained

    stat = entry.path.stat()
    key = (str(entry.path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _CACHE:
        if len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = load_trained(entry.path)
    return _CACHE[key]


def model_info(entry: ModelEntry) -> dict[str, Any]:
    """What ``kgdnc models show`` prints: task, sizes, training record, card."""
    from kgdnc.training.checkpoint import checkpoint_meta, read_checkpoint

    data = read_checkpoint(entry.path)
    meta = checkpoint_meta(data, entry.path)
    model_cfg = meta.get("model_config", {})
    train_cfg = meta.get("train_config", {})
    params = sum(int(t.numel()) for t in data["state_dict"].values() if hasattr(t, "numel"))
    history = meta.get("history") or []
    curriculum = meta.get("curriculum") or {}
    lesson = int(curriculum.get("position", meta.get("lesson", 0))) + 1
    info: dict[str, Any] = {
        "name": entry.name,
        "kind": entry.kind,
        "path": str(entry.path),
        "size_mb": round(entry.path.stat().st_size / 2**20, 2),
        "task": meta.get("task"),
        "model": meta.get("model", train_cfg.get("model", "dnc")),
        "preset": train_cfg.get("preset"),
        "parameters": params,
        "controller": f"{model_cfg.get('num_layers')}x{model_cfg.get('hidden_size')} "
        f"{model_cfg.get('controller', 'lstm')}",
        "memory": f"{model_cfg.get('memory_size')}x{model_cfg.get('word_size')}, "
        f"{model_cfg.get('read_heads')} read heads, sizing {train_cfg.get('memory_sizing')}",
        "lesson": lesson,
        "examples_seen": meta.get("examples_seen"),
        "wall_time_s": meta.get("wall_time_s"),
        "last_check": history[-1] if history else None,
        "kgdnc_version": meta.get("kgdnc_version"),
    }
    if entry.card:
        info["card"] = entry.card
    elif isinstance(meta.get("finetune"), dict):
        info["card"] = meta["finetune"]
    return info


def list_models(read: bool = True) -> list[dict[str, Any]]:
    """Workspace models, then bundled ones not hidden by a workspace model of the same
    name. With ``read``, each row also has the checkpoint's task and size."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    folder = models_dir()
    if folder.is_dir():
        for sub in sorted(folder.iterdir()):
            entry = _workspace(sub.name) if sub.is_dir() and not sub.name.startswith(".") else None
            if entry is None:
                continue
            seen.add(entry.name)
            rows.append({"name": entry.name, "kind": "workspace", "path": str(entry.path),
                         "task": entry.card.get("task"), "card": entry.card})
    for name in BUNDLED_MODELS:
        path = bundled_path(name)
        if path is None or name in seen:
            continue
        rows.append({"name": name, "kind": "bundled", "path": str(path), "task": name,
                     "card": {}})
    if read:
        for row in rows:
            row["size_mb"] = round(Path(row["path"]).stat().st_size / 2**20, 2)
    return rows


def save_model(
    checkpoint: dict[str, Any], name: str, card: dict[str, Any], *, force: bool = False
) -> ModelEntry:
    """Store a checkpoint (a loaded dict) and its card as workspace model ``name``.

    Written into a temporary folder beside its place, then renamed; an existing
    model is replaced only with ``force`` (moved aside first, put back on failure).

    Raises:
        UserError: invalid name, or the name is taken and ``force`` is off.
    """
    from kgdnc.atomic import replace_folder
    from kgdnc.training.checkpoint import atomic_save

    validate_model_name(name)
    root = models_dir()
    root.mkdir(parents=True, exist_ok=True)
    target = root / name
    if target.exists() and not force:
        raise UserError(f"model {name!r} already exists; replace it (force) or choose another name")
    with replace_folder(root, name) as tmp:
        atomic_save(checkpoint, tmp / CHECKPOINT_FILE)
        (tmp / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n",
                                     encoding="utf-8")
    entry = _workspace(name)
    assert entry is not None
    return entry


def remove_model(name: str) -> None:
    """Delete workspace model ``name`` (bundled models cannot be removed)."""
    validate_model_name(name)
    target = models_dir() / name
    if not (target / CHECKPOINT_FILE).is_file():
        if name in BUNDLED_MODELS:
            raise UserError(f"{name!r} is a bundled model and cannot be removed")
        raise UserError(f"no workspace model named {name!r}; `kgdnc models list` lists them")
    shutil.rmtree(target)
