"""``kgdnc models list | show | remove``."""

import json

from typer.testing import CliRunner

from kgdnc.cli.main import app
from kgdnc.reasoning import models, save_model
from kgdnc.reasoning.finetune import write_initial_checkpoint
from kgdnc.training.checkpoint import read_checkpoint

runner = CliRunner()


def test_list_show_remove(tmp_path, monkeypatch):
    monkeypatch.setenv("KGDNC_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(models, "bundled_path", lambda task: None)
    assert "no models" in runner.invoke(app, ["models", "list"]).output
    ckpt = write_initial_checkpoint(tmp_path / "m.ckpt", "traversal", hidden_size=16,
                                    memory_size=16, word_size=8, read_heads=2)
    card = {"task": "traversal", "graph": "g", "accuracy_before": 0.1, "accuracy_after": 0.5}
    save_model(read_checkpoint(ckpt), "walker", card)
    listed = runner.invoke(app, ["models", "list", "--json"])
    rows = json.loads(listed.output)
    assert [(r["name"], r["kind"], r["task"]) for r in rows] == [
        ("walker", "workspace", "traversal")]
    assert "50.0%" in runner.invoke(app, ["models", "list"]).output
    shown = runner.invoke(app, ["models", "show", "walker", "--json"])
    info = json.loads(shown.output)
    assert info["task"] == "traversal" and info["card"]["graph"] == "g"
    assert info["parameters"] > 0
    text = runner.invoke(app, ["models", "show", "walker"]).output
    assert "fine-tuning:" in text and "traversal" in text
    missing = runner.invoke(app, ["models", "show", "nope"])
    assert missing.exit_code == 2 and "no model named 'nope'" in missing.output
    assert runner.invoke(app, ["models", "remove", "walker"]).exit_code == 0
    assert runner.invoke(app, ["models", "remove", "walker"]).exit_code == 2
