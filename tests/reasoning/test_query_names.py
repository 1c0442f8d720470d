"""Names in queries: ids, case-insensitive labels, ambiguity, aliases."""

import pytest
from reasoning_helpers import grid_graph

from kgdnc.errors import UserError
from kgdnc.graphs import KnowledgeGraph, load
from kgdnc.reasoning.query import parse_query


def test_each_kind_resolves_ids_and_labels():
    kg = grid_graph()
    q = parse_query(kg, "cell 0-0", to="c33")
    assert (q.task, q.start, q.destination) == ("shortest-path", "c00", "c33")
    q = parse_query(kg, "c00", via="east, North")
    assert (q.task, q.relations) == ("traversal", ("east", "north"))
    q = parse_query(kg, "Cell 0-0", relation="east/north/north")
    assert (q.task, q.relations, q.relation_text) == (
        "inference", ("east", "north", "north"), "east/north/north")


def test_exactly_one_kind():
    kg = grid_graph()
    with pytest.raises(UserError, match="exactly one of"):
        parse_query(kg, "c00")
    with pytest.raises(UserError, match="a destination and relations to follow"):
        parse_query(kg, "c00", to="c11", via="east")


def test_unknown_node_suggests_close_names():
    kg = grid_graph()
    with pytest.raises(UserError, match="no node named 'Cell 0-9'.*did you mean"):
        parse_query(kg, "Cell 0-9", to="c11")


def test_ambiguous_node_lists_candidates():
    kg = KnowledgeGraph("amb")
    kg.add_node("a1", "Paris")
    kg.add_node("a2", "paris")
    kg.add_triple("a1", "r", "a2")
    with pytest.raises(UserError, match="ambiguous.*'a1', 'a2'"):
        parse_query(kg, "PARIS", to="a2")


def test_ambiguous_via_label_is_an_error():
    kg = KnowledgeGraph("amb")
    kg.add_relation("r1", "line")
    kg.add_relation("r2", "Line")
    kg.add_triple("a", "r1", "b")
    kg.add_triple("b", "r2", "c")
    with pytest.raises(UserError, match="relation name 'LINE' is ambiguous"):
        parse_query(kg, "a", via="LINE")


def test_kinship_alias_expands_on_family_tree():
    kg = load("family-tree")
    q = parse_query(kg, "Leo Young", relation="Maternal Great Uncle")
    names = [kg.relation_label(r) for r in q.relations]
    assert names == ["mother", "mother", "brother"]
    assert q.relation_text == "Maternal Great Uncle"


def test_relation_needs_two_to_five_steps():
    kg = grid_graph()
    with pytest.raises(UserError, match="single relation.*ask a traversal"):
        parse_query(kg, "c00", relation="east")
    with pytest.raises(UserError, match="at most 5"):
        parse_query(kg, "c00", relation="east/east/east/east/east/east")
