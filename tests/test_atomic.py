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


def test_a_killed_write_is_cleared_by_the_next_one(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    code = (
        "import sys, time; from pathlib import Path; from kgdnc.atomic import replace_folder\n"
        "with replace_folder(Path(sys.argv[1]), 'g') as tmp:\n"
        "    (tmp / 'half.txt').write_text('half'); print('writing', flush=True); time.sleep(60)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE,
                              text=True)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".tmp-g-")
    # a write still under way is left alone
    with replace_folder(tmp_path, "h") as tmp:
        (tmp / "x").write_text("x")
    assert left[0] in {p.name for p in tmp_path.iterdir()}
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    time.sleep(0.05)
    with replace_folder(tmp_path, "g") as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g", "h"]


def test_leftovers_of_older_versions_are_cleared(tmp_path: Path) -> None:
    from kgdnc.atomic import clear_leftovers

    (tmp_path / ".tmp-g-ab_c12yz").mkdir()  # mkdtemp's 8 characters, no process id
    (tmp_path / ".hidden").mkdir()  # not a temporary: kept
    assert [p.name for p in clear_leftovers(tmp_path)] == [".tmp-g-ab_c12yz"]
    assert [p.name for p in tmp_path.iterdir()] == [".hidden"]


def test_files_are_written_whole_with_the_usual_mode(tmp_path: Path) -> None:


    from kgdnc.atomic import current_umask, write_file, write_text

    target = write_text(tmp_path / "a" / "x.txt", "é\n")
    assert target.read_text(encoding="utf-8") == "é\n"
    assert target.stat().st_mode & 0o777 == 0o666 & ~current_umask()
    with pytest.raises(OSError):
        write_file(target, lambda handle: (handle.write(b"half"), _fail()))
    assert target.read_text(encoding="utf-8") == "é\n"
    assert [p.name for p in target.parent.iterdir()] == ["x.txt"]


def _fail() -> None:
    raise OSError("disk full")


def test_writers_that_want_a_file_name_get_one_with_the_suffix(tmp_path: Path) -> None:
    from kgdnc.atomic import write_named

    seen = []

    def write(tmp: Path) -> None:
        seen.append(tmp)
        tmp.write_bytes(b"GIF89a")

    target = write_named(tmp_path / "replay.gif", write)
    assert seen[0].suffix == ".gif" and seen[0].parent == tmp_path and seen[0] != target
    assert target.read_bytes() == b"GIF89a" and [p.name for p in tmp_path.iterdir()] == [
        "replay.gif"]
    with pytest.raises(ValueError):
        write_named(tmp_path / "replay.gif", lambda tmp: (tmp.write_bytes(b"x"), int("x")))
    assert target.read_bytes() == b"GIF89a" and len(list(tmp_path.iterdir())) == 1
