"""Atomic writes, the one writer every layer uses: a file or a whole folder appears
complete or not at all.

Each write goes to a temporary beside its place and is renamed over it. The
temporaries carry the writing process's id (``.tmp-NAME-PID~XXXX``), so that
what a killed write left behind (``kill -9`` during ``kgdnc ingest --force``)
is told from a write still under way and cleared by the next folder write in
the same place (:func:`clear_leftovers`).

Nothing here imports torch or any graph library: every layer may use it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = [
    "clear_leftovers",
    "current_umask",
    "remove_folder",
    "replace_folder",
    "write_file",
    "write_named",
    "write_text",
]

_KINDS = (".tmp-", ".old-", ".rm-")  # a folder being written, replaced, removed
_OURS = re.compile(r"^\.(?:tmp|old|rm)-.+-(\d+)~[a-z0-9_]+$")
_LEGACY = re.compile(r"^\.(?:tmp|old|rm)-.+-[a-z0-9_]{8}$")  # before PIDs were recorded


def current_umask() -> int:
    """The process's umask (read without changing it for longer than an instant)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _temporary(root: Path, kind: str, name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"{kind}{name}-{os.getpid()}~", dir=root))


def clear_leftovers(root: Path) -> list[Path]:
    """Remove the temporary folders in ``root`` whose writer is gone (a killed write);
    those of live processes stay. Returns what was removed."""
    removed = []
    with contextlib.suppress(FileNotFoundError):
        for path in root.iterdir():
            if not path.name.startswith(_KINDS) or not path.is_dir():
                continue
            ours = _OURS.match(path.name)
            if (ours and not _alive(int(ours.group(1)))) or (
                not ours and _LEGACY.match(path.name)
            ):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


@contextmanager
def replace_folder(root: Path, name: str) -> Iterator[Path]:
    """Yield a temporary folder inside ``root`` to fill; on success it becomes
    ``root / name`` in one rename.

    What killed writes left in ``root`` is cleared first. An existing
    ``root / name`` is moved aside and put back if the rename fails; on any
    failure (an exception in the ``with`` body included) the temporary folder
    is removed, so a reader never sees a half-written folder.
    """
    final = root / name
    clear_leftovers(root)
    tmp = _temporary(root, ".tmp-", name)
    old: Path | None = None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes the folder private
        if final.exists():
            old = _temporary(root, ".old-", name)
            os.replace(final, old / name)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and (old / name).exists() and not final.exists():
            os.replace(old / name, final)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def remove_folder(root: Path, name: str) -> None:
    """Remove ``root / name`` at once: renamed aside in one step, then deleted."""
    trash = _temporary(root, ".rm-", name)
    os.replace(root / name, trash / name)
    shutil.rmtree(trash, ignore_errors=True)


def write_file(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
    """Write a file through ``write(handle)`` into a temporary beside ``path``, then
    rename it over ``path`` (with the usual mode, not a temporary's private one)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_named(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """:func:`write_file` for writers that want a file name rather than a handle
    (matplotlib's animation writers): ``write(tmp)`` gets a temporary path with
    ``path``'s suffix beside ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix,
                                dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`write_file` of ``text`` in UTF-8 with ``\\n`` line ends."""
    return write_file(path, lambda handle: handle.write(text.encode("utf-8")))
