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


def stored(home: Path) -> list[str]:
    folder = home / "graphs"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_ingest_prints_summary_and_sets_default(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "net.csv"
    path.write_text("from,to,line\na,b,x\nb,c,x\na,b,x\n")
    result = runner.invoke(app, ["ingest", str(path), "--undirected"])
    assert result.exit_code == 0, result.output
    assert "triples" in result.stdout and "weakly connected components" in result.stdout
    assert "1 duplicate triples removed" in result.stdout
    assert "'net' is now the default graph" in result.stdout
    assert (home / "graphs" / ".default").read_text().strip() == "net"


def test_ingest_json_summary(tmp_path: Path) -> None:
    path = tmp_path / "train.txt"
    path.write_text("a\tr\tb\nb\tr\tc\n")
    result = runner.invoke(app, ["ingest", str(path), "--name", "pk", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["name"] == "pk"
    assert (summary["nodes"], summary["triples"], summary["relations"]) == (3, 2, 1)
    assert summary["components"] == 1 and summary["format"] == "tsv"


def test_existing_name_needs_force(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("source,relation,target\na,r,b\n")
    assert runner.invoke(app, ["ingest", str(path)]).exit_code == 0
    result = runner.invoke(app, ["ingest", str(path)])
    assert result.exit_code == 2 and "force option" in result.stderr
    assert runner.invoke(app, ["ingest", str(path), "--force"]).exit_code == 0


def test_rdf_options(tmp_path: Path) -> None:
    path = tmp_path / "g.data"
    path.write_text(
        "@prefix ex: <http://x/> .\nex:a a ex:Person ; ex:knows ex:b .\n"
    )
    result = runner.invoke(app, ["ingest", str(path), "--format", "turtle", "--include-types",
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["triples"] == 2


@pytest.mark.parametrize(
    "name,content,args,needle",
    [
        ("empty.ttl", b"", [], "empty"),
        ("bin.csv", b"\x00\x01\x02binary", [], "binary"),
        ("bad.ttl", b"@prefix ex: <http://x/> .\nex:a ex:p .\n", [], "line 2"),
        ("lits.nt", b'<http://x/a> <http://x/p> "x" .\n', [], "no triples"),
        ("g.ttl", b"<http://x/a> <http://x/p> <http://x/b> .\n", ["--format", "yaml"],
         "unknown format"),
        ("g.csv", b"x,y,z\na,r,b\n", ["--source", "src"], "missing column 'src'"),
        ("g.csv", b"source,relation,target\na,r\n", [], "g.csv:2: expected 3 columns"),
        ("g.jsonld", b'{"@context": "http://192.0.2.1/c", "@id": "http://x/a"}', [], "remote"),
        ("g.csv", b"source,relation,target\na,r,b\n", ["--name", "../evil"], "invalid graph"),
        ("g.csv", b"source,relation,target\na,r,b\n", ["--name", ""], "empty"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_stores_nothing(
    tmp_path: Path, home: Path, name: str, content: bytes, args: list[str], needle: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(app, ["ingest", str(path), *args])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0]
    assert "Traceback" not in result.output
    assert stored(home) == []


def test_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path / "nope.ttl")])
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_skip_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("source,relation,target\na,r,b\nb,r\nc,r,d\n")
    result = runner.invoke(app, ["ingest", str(path), "--skip-bad-rows", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["triples"] == 2
    assert summary["report"]["bad rows skipped (--skip-bad-rows)"] == 1
