"""Atomic replacement of workspace folders, shared by the graph and model stores.

Nothing here imports torch or any graph library: every layer may use it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def current_umask() -> int:
    """The process's umask (read without changing it for longer than an instant)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def replace_folder(root: Path, name: str) -> Iterator[Path]:
    """Yield a temporary folder inside ``root`` to fill; on success it becomes
    ``root / name`` in one rename.

    An existing ``root / name`` is moved aside first and put back if the rename
    fails; on any failure (an exception in the ``with`` body included) the
    temporary folder is removed, so a reader never sees a half-written folder.
    """
    final = root / name
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=root))
    old: Path | None = None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes the folder private
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".old-{name}-", dir=root))
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
