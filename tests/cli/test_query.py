"""``kgdnc query``: JSON schema, text output, name errors (exit 2, one line)."""

import json

import pytest
from typer.testing import CliRunner

from kgdnc.cli.main import app
from kgdnc.graphs import KnowledgeGraph, save
from kgdnc.reasoning.finetune import write_initial_checkpoint

runner = CliRunner()
TINY = dict(hidden_size=16, memory_size=16, word_size=8, read_heads=2)


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("KGDNC_HOME", str(tmp_path / "home"))
    kg = KnowledgeGraph("village")
    for a, b in [("Mill", "Church"), ("Church", "Green"), ("Green", "Inn"), ("Inn", "Mill"),
                 ("Church", "School"), ("School", "Inn")]:
        kg.add_triple(a.lower(), "road", b.lower())
        kg.add_triple(b.lower(), "back", a.lower())
    for node in kg.nodes.values():
        kg.add_node(node.id, node.id.title())
    save(kg, "village")
    return {t: str(write_initial_checkpoint(tmp_path / f"{t}.ckpt", t, **TINY))
            for t in ("shortest-path", "traversal", "inference")}


def run(*args):
    return runner.invoke(app, ["query", "--graph", "village", *args])


@pytest.mark.parametrize(
    "kind, args",
    [("shortest-path", ["--to", "inn"]), ("traversal", ["--via", "road,road"]),
     ("inference", ["--relation", "road/road"])],
)
def test_json_schema(setup, kind, args):
    result = run("--from", "Mill", *args, "--model", setup[kind], "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for key in ("task", "from", "answer", "expected", "correct", "model", "memory_size"):
        assert key in data
    assert data["task"] == kind and data["from"] == "Mill"
    assert isinstance(data["correct"], bool) and data["model"] == setup[kind]
    assert isinstance(data["memory_size"], int) and data["memory_size"] >= data["triples"]
    for triple in data["answer"] + data["expected"]:
        assert len(triple) == 3
    assert all(isinstance(x, str) for t in data["expected"] for x in t)


def test_text_output_and_votes(setup):
    result = run("--from", "mill", "--to", "School", "--model", setup["shortest-path"],
                 "--votes", "3")
    assert result.exit_code == 0, result.output
    assert "shortest path Mill -> School" in result.output
    assert "votes: 3 label draws" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "Mil", "--to", "Inn"], "no node named 'Mil'"),
        (["--from", "Mill", "--via", "rood"], "no relation named 'rood'"),
        (["--from", "Mill"], "exactly one of"),
        (["--from", "Mill", "--to", "Inn", "--votes", "0"], "votes must be at least 1"),
        (["--from", "Mill", "--to", "Inn", "--model", "nope"], "no model named 'nope'"),
        (["--from", "Mill", "--to", "Inn", "--graph", "nowhere"], "nowhere"),
    ],
)
def test_errors_are_one_line_exit_2(setup, args, message):
    result = runner.invoke(app, ["query", "--graph", "village", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "kind, args",
    [("traversal", ["--via", "road,road"]), ("inference", ["--relation", "road/road"])],
)
def test_node_decoding_answers_with_nodes_of_the_graph(setup, kind, args):
    """An untrained network's digit modes spell labels of no node; decoded among
    the described nodes, every source and destination it answers is a station."""
    names = {"Mill", "Church", "Green", "Inn", "School"}
    result = run("--from", "Mill", *args, "--model", setup[kind], "--json", "--decode", "nodes",
                 "--votes", "3")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["answer"], data
    for triple in data["answer"]:
        assert triple[0] in names and triple[2] in names, triple


def test_node_decoding_is_refused_for_shortest_path(setup):
    result = run("--from", "Mill", "--to", "Inn", "--model", setup["shortest-path"],
                 "--decode", "nodes")
    assert result.exit_code == 2, result.output
    assert "not shortest-path" in result.output
    assert len(result.output.strip().splitlines()) == 1
