from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgdnc.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KGDNC_HOME", str(tmp_path / "ws"))
    return tmp_path / "ws"


@pytest.fixture
def ingested(tmp_path: Path) -> str:
    path = tmp_path / "people.csv"
    path.write_text("source,relation,target,since\nAda,knows,Charles,1833\nCharles,knows,Ada,\n")
    result = runner.invoke(app, ["ingest", str(path)])
    assert result.exit_code == 0, result.output
    return "people"


def test_list_shows_stored_bundled_and_default(ingested: str) -> None:
    result = runner.invoke(app, ["graphs", "list"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith("* people") and "2 triples" in line for line in lines)
    assert any("london-underground" in line and "bundled" in line for line in lines)
    data = json.loads(runner.invoke(app, ["graphs", "list", "--json"]).stdout)
    assert {"name": "people", "default": True}.items() <= data[0].items()


def test_list_without_anything_defaults_to_underground() -> None:
    result = runner.invoke(app, ["graphs", "list"])
    assert result.exit_code == 0
    assert any(line.startswith("* london-underground ") for line in result.stdout.splitlines())


def test_show_json(ingested: str) -> None:
    result = runner.invoke(app, ["graphs", "show", ingested, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["name"], summary["nodes"], summary["triples"]) == ("people", 2, 2)
    assert summary["sha256"] and summary["created"]


def test_show_bundled_and_unknown() -> None:
    result = runner.invoke(app, ["graphs", "show", "family-tree"])
    assert result.exit_code == 0 and "nodes" in result.stdout
    result = runner.invoke(app, ["graphs", "show", "family-tre"])
    assert result.exit_code == 2 and "did you mean 'family-tree'" in result.stderr


def test_remove(ingested: str, home: Path) -> None:
    result = runner.invoke(app, ["graphs", "remove", ingested])
    assert result.exit_code == 0
    assert not (home / "graphs" / ingested).exists()
    assert runner.invoke(app, ["graphs", "remove", ingested]).exit_code == 2
    result = runner.invoke(app, ["graphs", "remove", "london-underground"])
    assert result.exit_code == 2 and "bundled" in result.stderr


def test_export_tsv_to_stdout(ingested: str) -> None:
    result = runner.invoke(app, ["graphs", "export", ingested, "--format", "tsv"])
    assert result.exit_code == 0
    assert result.stdout == "Ada\tknows\tCharles\nCharles\tknows\tAda\n"


def test_export_ttl_to_file_reads_back(ingested: str, tmp_path: Path) -> None:
    out = tmp_path / "people.ttl"
    result = runner.invoke(app, ["graphs", "export", ingested, "--format", "ttl", "--out",
                                 str(out)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".people")] == []
    result = runner.invoke(app, ["ingest", str(out), "--name", "back", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["triples"] == 2
    back = runner.invoke(app, ["graphs", "export", "back", "--format", "tsv", "--labels"])
    assert sorted(back.stdout.splitlines()) == ["Ada\tknows\tCharles", "Charles\tknows\tAda"]


def test_export_errors(ingested: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["graphs", "export", ingested, "--format", "xml"])
    assert result.exit_code == 2 and "unknown export format" in result.stderr
    result = runner.invoke(
        app, ["graphs", "export", ingested, "--out", str(tmp_path / "no" / "such.tsv")]
    )
    assert result.exit_code == 2 and "does not exist" in result.stderr
