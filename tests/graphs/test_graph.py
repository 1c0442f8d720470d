from __future__ import annotations

import pytest

from kgdnc.errors import UserError
from kgdnc.graphs import KnowledgeGraph, Triple


def small() -> KnowledgeGraph:
    g = KnowledgeGraph("small")
    g.add_node("a", "Alice", {"age": "30"})
    g.add_node("b", "Bob")
    g.add_node("b2", "bob")
    g.add_node("c", "Carol")
    g.add_relation("r:knows", "knows")
    g.add_triple("a", "r:knows", "b")
    g.add_triple("b", "r:knows", "c", {"since": "2001"})
    g.add_triple("c", "likes", "a")
    return g


def test_triples_are_ids_and_duplicates_are_refused() -> None:
    g = small()
    assert g.triples[0] == Triple("a", "r:knows", "b")
    assert g.add_triple("a", "r:knows", "b") is False
    assert len(g) == 3
    assert g.relation_label("likes") == "likes"  # created on the fly, labelled by id
    assert g.labelled_triples()[0] == ("Alice", "knows", "Bob")


def test_to_networkx_carries_label_and_relation() -> None:
    nxg = small().to_networkx()
    assert nxg.nodes["a"]["label"] == "Alice"
    assert nxg.nodes["a"]["age"] == "30"
    edges = list(nxg.edges("b", data=True))
    assert edges == [("b", "c", {"since": "2001", "relation": "knows", "relation_id": "r:knows"})]
    assert nxg.number_of_nodes() == 4 and nxg.number_of_edges() == 3


def test_find_node_by_id_then_case_insensitive_label() -> None:
    g = small()
    assert g.find_node("a").label == "Alice"
    assert g.find_node("  alice ").id == "a"
    assert g.find_node("b2").label == "bob"  # exact id wins over the ambiguous label


def test_find_node_ambiguous_lists_candidates() -> None:
    with pytest.raises(UserError, match=r"ambiguous.*'b'.*'b2'"):
        small().find_node("BOB")


def test_find_node_unknown_suggests_close_names() -> None:
    with pytest.raises(UserError, match=r"did you mean 'Carol'"):
        small().find_node("Carl")


def test_follow_composes_relations() -> None:
    g = small()
    assert g.follow("Alice", ["knows", "knows"]) == ["c"]
    assert g.follow("a", ["knows", "likes"]) == []
    with pytest.raises(UserError):
        g.follow("a", ["hates"])


def test_summary_counts_components_and_degrees() -> None:
    g = small()
    s = g.summary()
    assert (s.nodes, s.triples, s.relations) == (4, 3, 2)
    assert s.components == 2 and s.isolated == 1  # b2 stands alone
    assert s.out_degree_max == 1 and s.out_degree_min == 0
    assert s.as_dict()["out_degree"]["mean"] == 0.75


def test_subgraph_is_induced() -> None:
    sub = small().subgraph(["a", "b"], name="ab")
    assert sub.triples == [Triple("a", "r:knows", "b")]
    assert sub.relation_label("r:knows") == "knows"
    assert sub.nodes["a"].attributes == {"age": "30"}


def test_ids_must_be_one_line() -> None:
    g = KnowledgeGraph()
    with pytest.raises(UserError):
        g.add_node("a\tb")
    assert g.add_node("x", "multi\nline  label").label == "multi line label"


def test_package_imports_no_torch_and_no_heavy_readers() -> None:
    import subprocess
    import sys

    code = (
        "import sys, kgdnc.graphs\n"
        "print(','.join(m for m in ('torch', 'rdflib', 'pandas', 'networkx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
