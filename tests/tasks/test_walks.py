"""Following relations: one set of helpers for whole graphs and label-space graphs."""

import random

import networkx as nx

from kgdnc.tasks.inference import RELATIONS, inference_episode
from kgdnc.tasks.traversal import traversal_episode
from kgdnc.tasks.walks import (
    follow_sets,
    on_walks,
    one_walk,
    random_walk,
    reachable,
    successors,
)


def _family() -> nx.MultiDiGraph:
    """a has two sons b and c; only c has a son (d): a walk son/son must pass c."""
    g = nx.MultiDiGraph()
    for u, v in (("a", "b"), ("a", "c"), ("c", "d")):
        g.add_edge(u, v, key="son", relation="son", relation_id="son")
    return g


def test_every_branch_is_followed_and_the_walk_shown_completes():
    g = _family()
    assert successors(g, "a", "son") == ["b", "c"]
    assert follow_sets(g, "a", ["son", "son"]) == [{"a"}, {"b", "c"}, {"d"}]
    assert on_walks(g, "a", ["son", "son"]) == [{"a"}, {"c"}, {"d"}]
    assert one_walk(g, "a", ["son", "son"]) == [("a", "son", "c"), ("c", "son", "d")]
    assert reachable(g, "a", ["son", "son", "son"]) == set()
    assert one_walk(g, "a", ["son", "son", "son"]) is None


def test_label_space_graphs_are_followed_by_their_relation_labels():
    g = nx.MultiDiGraph()
    g.add_edge(1, 2, key=7, relation=7)
    g.add_edge(2, 3, key=8, relation=8)
    assert one_walk(g, 1, [7, 8]) == [(1, 7, 2), (2, 8, 3)]
    assert reachable(g, 1, [8]) == set()


def test_random_walks_are_reproducible_from_their_seed():
    g = _family()
    g.add_edge("d", "a", key="father", relation="father", relation_id="father")
    walks = [random_walk(g, 3, random.Random(4)) for _ in range(2)]
    assert walks[0] == walks[1] and len(walks[0]) == 3
    for (_, _, v), (u, _, _) in zip(walks[0], walks[0][1:], strict=False):
        assert v == u


def test_episodes_take_a_given_answer():
    g = nx.MultiDiGraph()
    for u, v, rel in ((10, 11, 3), (10, 12, 3), (12, 13, 4), (11, 13, 4)):
        g.add_edge(u, v, key=rel, relation=rel)
    given = [(10, 3, 12), (12, 4, 13)]
    episode = traversal_episode(g, 10, [3, 4], random.Random(0), path=given)
    assert episode.meta["path"] == given and episode.meta["answers"][:2] == given
    relation = next(r for r in RELATIONS if r.edges == (3, 4))
    made = inference_episode(g, [(10, relation)], random.Random(0), ends=[13])
    assert made.meta["answers"] == [(10, relation.label, 13)]
