"""``kgdnc viz --replay``: an HTML page or a GIF; bad paths fail in one line."""

import pytest
from typer.testing import CliRunner

from kgdnc.cli.main import app
from kgdnc.reasoning.finetune import write_initial_checkpoint

runner = CliRunner()
QUERY = ["viz", "--graph", "london-underground-zone1", "--from", "Bank", "--to",
         "Oxford Circus", "--max-triples", "30"]


@pytest.fixture()
def model(tmp_path, monkeypatch):
    monkeypatch.setenv("KGDNC_HOME", str(tmp_path / "home"))
    return write_initial_checkpoint(tmp_path / "sp.ckpt", "shortest-path", hidden_size=16,
                                    memory_size=16, word_size=8, read_heads=2)


def test_replay_html(model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "out" / "bank.html"
    result = runner.invoke(app, [*QUERY, "--model", str(model), "--replay", str(page)])
    assert result.exit_code == 0, result.output
    assert f"wrote {page} (shortest-path" in result.output
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not (tmp_path / "memory.png").exists()  # --replay alone writes no PNG


@pytest.mark.slow
def test_replay_gif_beside_the_png(model, tmp_path):
    gif = tmp_path / "bank.gif"
    png = tmp_path / "memory.png"
    result = runner.invoke(app, [*QUERY, "--model", str(model), "--replay", str(gif),
                                 "--out", str(png)])
    assert result.exit_code == 0, result.output
    assert gif.read_bytes()[:6] == b"GIF89a" and png.read_bytes()[:4] == b"\x89PNG"
    assert result.output.count("wrote ") == 2


def test_bad_replay_path_is_one_line_and_writes_nothing(model, tmp_path):
    bad = tmp_path / "bank.pdf"
    result = runner.invoke(app, [*QUERY, "--model", str(model), "--replay", str(bad)])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "error: replay file" in result.output
    assert "Traceback" not in result.output and not bad.exists()
    result = runner.invoke(app, [*QUERY[:-4], "--to", "Nowhere Street", "--model", str(model),
                                 "--replay", str(tmp_path / "x.html")])
    assert result.exit_code == 2 and "no node named" in result.output
    assert list(tmp_path.glob("*.html")) == []
