"""``kgdnc viz`` writes a real PNG."""

from typer.testing import CliRunner

from kgdnc.cli.main import app
from kgdnc.reasoning.finetune import write_initial_checkpoint

runner = CliRunner()


def test_viz_writes_png(tmp_path, monkeypatch):
    monkeypatch.setenv("KGDNC_HOME", str(tmp_path / "home"))
    model = write_initial_checkpoint(tmp_path / "sp.ckpt", "shortest-path", hidden_size=16,
                                     memory_size=16, word_size=8, read_heads=2)
    out = tmp_path / "memory.png"
    result = runner.invoke(app, ["viz", "--graph", "london-underground-zone1", "--from", "Bank",
                                 "--to", "Oxford Circus", "--model", str(model), "--out",
                                 str(out), "--max-triples", "60"])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    bad = runner.invoke(app, ["viz", "--graph", "london-underground-zone1", "--from", "Bank",
                              "--to", "Nowhere Street", "--model", str(model)])
    assert bad.exit_code == 2 and "no node named" in bad.output
