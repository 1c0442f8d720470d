from pathlib import Path

import pytest

from kgdnc.atomic import replace_folder


def test_success_replaces_the_folder(tmp_path: Path) -> None:
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "old.txt").write_text("old")
    with replace_folder(tmp_path, "g") as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g"]


def test_failure_keeps_the_old_folder_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), replace_folder(tmp_path, "g") as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("disk full")
    assert (tmp_path / "g" / "old.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g"]
