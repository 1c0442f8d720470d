"""``kgdnc finetune`` for a few steps, then the model answers with --model NAME."""

import json

import pytest
from typer.testing import CliRunner

from kgdnc.cli.main import app
from kgdnc.reasoning.finetune import write_initial_checkpoint

runner = CliRunner()


@pytest.mark.slow
def test_finetune_few_steps_then_query(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("KGDNC_HOME", str(home))
    base = write_initial_checkpoint(tmp_path / "sp.ckpt", "shortest-path", hidden_size=16,
                                    memory_size=16, word_size=8, read_heads=2)
    args = ["finetune", "--task", "shortest-path", "--graph", "london-underground-zone1",
            "--from-model", str(base), "--name", "zone1-sp", "--steps", "2", "--batch-size",
            "2", "--eval-queries", "3", "--max-triples", "48", "--no-progress",
            "--accelerator", "cpu", "--length", "2-3"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "held-out accuracy (3 queries)" in result.output
    folder = home / "models" / "zone1-sp"
    assert sorted(p.name for p in folder.iterdir()) == ["card.json", "model.ckpt"]
    card = json.loads((folder / "card.json").read_text())
    assert card["steps"] == 2 and card["examples"] == 4 and card["graph"] == (
        "london-underground-zone1")
    assert card["lengths"] == [2, 3]
    assert 0.0 <= card["accuracy_before"] <= 1.0 and 0.0 <= card["accuracy_after"] <= 1.0
    assert (home / "models" / ".runs" / "zone1-sp" / "last.ckpt").is_file()
    # the fine-tuned weights differ from the base model's
    from kgdnc.training.checkpoint import read_checkpoint

    before = read_checkpoint(base)["state_dict"]
    after = read_checkpoint(folder / "model.ckpt")["state_dict"]
    assert any(not (before[k] == after[k]).all() for k in before)
    query = runner.invoke(app, ["query", "--graph", "london-underground-zone1", "--from",
                                "Bank", "--to", "Holborn", "--model", "zone1-sp", "--json"])
    assert query.exit_code == 0, query.output
    assert json.loads(query.output)["model"] == "zone1-sp"
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "already exists" in again.output


def test_query_lengths_take_the_same_option_as_eval(tmp_path, monkeypatch):
    monkeypatch.setenv("KGDNC_HOME", str(tmp_path / "home"))
    for option in ("--length", "--lengths"):  # --lengths: the old name, still read
        result = runner.invoke(app, ["finetune", "--task", "traversal", "--name", "x",
                                     option, "2-x"])
        assert result.exit_code == 2 and "query length '2-x'" in result.output
