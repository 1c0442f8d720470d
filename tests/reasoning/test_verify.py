"""Exact answers: every shortest path counts, walks, reachable sets."""

from reasoning_helpers import grid_graph

from kgdnc.reasoning.verify import (
    is_shortest_path,
    is_walk,
    one_shortest_path,
    one_walk,
    reachable,
)


def test_any_shortest_path_is_right_and_longer_ones_are_not():
    g = grid_graph(3).to_networkx()
    a = [("c00", "east", "c10"), ("c10", "north", "c11")]
    b = [("c00", "north", "c01"), ("c01", "east", "c11")]
    assert is_shortest_path(g, "c00", "c11", a)
    assert is_shortest_path(g, "c00", "c11", b)
    assert not is_shortest_path(g, "c00", "c11", a[:1])
    detour = [("c00", "east", "c10"), ("c10", "west", "c00"), ("c00", "north", "c01"),
              ("c01", "east", "c11")]
    assert not is_shortest_path(g, "c00", "c11", detour)
    assert not is_shortest_path(g, "c00", "c11", [("c00", "north", "c10"), a[1]])  # no edge
    assert is_shortest_path(g, "c00", "c11", one_shortest_path(g, "c00", "c11"))


def test_walk_and_reachable():
    g = grid_graph(3).to_networkx()
    walk = one_walk(g, "c00", ["east", "east", "north"])
    assert walk == [("c00", "east", "c10"), ("c10", "east", "c20"), ("c20", "north", "c21")]
    assert is_walk(g, "c00", ["east", "east", "north"], walk)
    assert not is_walk(g, "c00", ["east", "east", "north"], walk[:2])
    assert one_walk(g, "c00", ["west"]) is None
    assert reachable(g, "c00", ["east", "north"]) == {"c11"}


def test_non_unique_relations_accept_every_walk():
    from kgdnc.graphs import KnowledgeGraph

    kg = KnowledgeGraph.from_triples([("a", "son", "b"), ("a", "son", "c"), ("c", "son", "d")])
    g = kg.to_networkx()
    assert reachable(g, "a", ["son", "son"]) == {"d"}
    assert one_walk(g, "a", ["son", "son"]) == [("a", "son", "c"), ("c", "son", "d")]
    assert is_walk(g, "a", ["son"], [("a", "son", "b")])
    assert is_walk(g, "a", ["son"], [("a", "son", "c")])
