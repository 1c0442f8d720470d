from __future__ import annotations

import json
from pathlib import Path

import pytest

from kgdnc.errors import KgdncError, UserError
from kgdnc.graphs import KnowledgeGraph, store


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KGDNC_HOME", str(tmp_path / "ws"))
    return tmp_path / "ws"


def sample(name: str = "g") -> KnowledgeGraph:
    g = KnowledgeGraph(name)
    g.add_node("http://x/a", "Ålice", {"age": "30", "tags": ["x", "y"]})
    g.add_relation("http://x/knows", "knows")
    g.add_triple("http://x/a", "http://x/knows", "b", {"since": "2001"})
    g.add_triple("b", "likes", "c")
    g.meta = {"source": "/tmp/g.ttl", "sha256": "0" * 64, "format": "turtle", "report": {"x": 1}}
    return g


def test_home_defaults_to_dot_kgdnc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KGDNC_HOME")
    assert store.home() == Path.home() / ".kgdnc"


def test_save_and_load_round_trip(home: Path) -> None:
    folder = store.save(sample())
    assert folder == home / "graphs" / "g"
    lines = (folder / "triples.tsv").read_text().splitlines()
    assert lines == ["http://x/a\thttp://x/knows\tb", "b\tlikes\tc"]  # headerless, PyKEEN style
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["counts"] == {"nodes": 3, "triples": 2, "relations": 2}
    assert meta["sha256"] == "0" * 64 and meta["format"] == "turtle" and meta["created"]
    back = store.load_stored("g")
    original = sample()
    assert back.triples == original.triples
    assert back.nodes == original.nodes
    assert back.relations == original.relations
    assert back.edge_attributes(("http://x/a", "http://x/knows", "b")) == {"since": "2001"}
    assert back.meta["source"] == "/tmp/g.ttl"


@pytest.mark.parametrize(
    "name", ["", " ", "a/b", "..", "../x", ".hidden", "a..b", "x" * 101, "a b", "a\\b"]
)
def test_invalid_names(name: str) -> None:
    with pytest.raises(UserError, match="graph name"):
        store.save(sample(), name)


def test_existing_name_needs_force() -> None:
    store.save(sample())
    with pytest.raises(UserError, match="the force option"):
        store.save(sample())
    other = KnowledgeGraph.from_triples([("p", "q", "r")])
    store.save(other, "g", force=True)
    assert store.load_stored("g").triples == [("p", "q", "r")]


def test_failure_mid_write_leaves_nothing(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(graph: KnowledgeGraph, folder: Path) -> None:
        (folder / "nodes.tsv").write_text("partial")
        raise OSError("disk full")

    monkeypatch.setattr(store, "_write_nodes", boom)
    with pytest.raises(OSError):
        store.save(sample())
    assert list((home / "graphs").iterdir()) == []
    assert not store.exists("g")


def test_failure_while_replacing_keeps_the_old_graph(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save(sample())

    def boom(meta: dict, folder: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "_write_meta", boom)
    with pytest.raises(KeyboardInterrupt):
        store.save(KnowledgeGraph.from_triples([("p", "q", "r")]), "g", force=True)
    assert [p.name for p in (home / "graphs").iterdir()] == ["g"]
    assert store.load_stored("g").triples == sample().triples


def test_remove_and_default_pointer() -> None:
    assert store.default_name() == "london-underground"
    store.save(sample())
    store.set_default("g")
    assert store.default_name() == "g"
    assert store.load().name == "g"
    store.remove("g")
    assert not store.exists("g")
    assert store.default_name() == "london-underground"
    with pytest.raises(UserError, match="no graph named 'g'"):
        store.remove("g")
    with pytest.raises(UserError, match="bundled"):
        store.remove("family-tree")


def test_load_prefers_stored_then_bundled_and_suggests() -> None:
    assert store.load("family-tree").name == "family-tree"
    with pytest.raises(UserError, match="did you mean 'family-tree'"):
        store.load("family-tre")


def test_list_graphs_marks_default() -> None:
    store.save(sample())
    store.set_default("g")
    entries = {e.name: e for e in store.list_graphs()}
    assert entries["g"].kind == "stored" and entries["g"].default and entries["g"].triples == 2
    assert entries["london-underground"].kind == "bundled"
    assert not entries["london-underground"].default


def test_damaged_graph_is_a_clear_error(home: Path) -> None:
    store.save(sample())
    (home / "graphs" / "g" / "triples.tsv").write_text("only\ttwo\n")
    with pytest.raises(KgdncError, match="damaged"):
        store.load_stored("g")


def test_ingest_to_store_checks_name_first_and_stores_nothing_on_error(
    home: Path, tmp_path: Path
) -> None:
    good = tmp_path / "My Data.csv"
    good.write_text("source,relation,target\na,r,b\n")
    summary = store.ingest_to_store(good)
    assert summary["name"] == "My-Data" and summary["triples"] == 1 and summary["default"]
    assert store.default_name() == "My-Data"
    bad = tmp_path / "bad.csv"
    bad.write_text("source,relation,target\na,r\n")
    with pytest.raises(UserError):
        store.ingest_to_store(bad)
    assert store.stored_names() == ["My-Data"]
    assert sorted(p.name for p in (home / "graphs").iterdir()) == [".default", "My-Data"]
