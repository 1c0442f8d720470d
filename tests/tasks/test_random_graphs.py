import math
import random

import networkx as nx
import pytest

from kgdnc.errors import UserError
from kgdnc.tasks.curriculum import SHORTEST_PATH_LESSONS, TRAVERSAL_LESSONS
from kgdnc.tasks.graphs import (
    episode_graph,
    graph_triples,
    lesson_graph,
    random_graph,
    relabel_for_episode,
    sample_subgraph,
)


@pytest.mark.parametrize("seed", range(20))
def test_random_graph_follows_the_paper(seed):
    rng = random.Random(seed)
    lesson = TRAVERSAL_LESSONS[seed % len(TRAVERSAL_LESSONS)]
    g = lesson_graph(lesson, rng)
    n = g.number_of_nodes()
    assert lesson.nodes[0] <= n <= lesson.nodes[1]
    lo, hi = lesson.out_degree
    labels = set()
    for u in g.nodes:
        assert g.nodes[u]["label"] == u and 0 <= u <= 998
        out = list(g.out_edges(u, data="relation"))
        assert lo <= len(out) or len(out) == n - 1
        assert len(out) <= min(hi, n - 1)
        rels = [r for _, _, r in out]
        assert len(set(rels)) == len(rels)  # edge labels unique per source
        labels.update(rels)
        # the K successors are the K nearest points
        dist = sorted(math.dist(g.nodes[u]["pos"], g.nodes[v]["pos"]) for v in g.nodes if v != u)
        got = sorted(math.dist(g.nodes[u]["pos"], g.nodes[v]["pos"]) for _, v, _ in out)
        assert got == dist[: len(out)]
    assert len(labels) <= max(n, hi)  # drawn from one set of N labels (Methods)
    assert 999 not in labels


def test_edge_labels_are_n_unique_labels_per_graph():
    """Methods: exactly N unique edge labels for an N-node graph, so the number of
    triples sharing the queried edge label stays about out-degree, not ~N."""
    rng = random.Random(0)
    lesson = TRAVERSAL_LESSONS[13]  # 10-40 nodes, out-degree 2-6
    shares, used = [], []
    for _ in range(300):
        g = lesson_graph(lesson, rng)
        rels = [r for _, _, r in g.edges(data="relation")]
        used.append(len(set(rels)) / g.number_of_nodes())
        shares.append(len(rels) / len(set(rels)))
    # N labels, each node's edges distinct: nearly all N labels get used, and a
    # label is shared by about out-degree triples (mean out-degree 4 here).
    assert sum(used) / len(used) > 0.9
    assert 3.0 < sum(shares) / len(shares) < 5.0
    # inference keeps labels 0-9 whatever the graph's size
    g = lesson_graph(lesson, rng, edge_labels=range(10), label_count=10)
    assert {r for _, _, r in g.edges(data="relation")} <= set(range(10))


def test_out_degree_one_to_two_graphs():
    rng = random.Random(3)
    for _ in range(20):
        g = lesson_graph(SHORTEST_PATH_LESSONS[0], rng)
        assert all(1 <= d <= 2 for _, d in g.out_degree())


def test_same_seed_same_graph():
    a = random_graph(random.Random(5), 12, (2, 4))
    b = random_graph(random.Random(5), 12, (2, 4))
    assert graph_triples(a) == graph_triples(b)


def user_graph():
    g = nx.MultiDiGraph()
    for name in "ABCDE":
        g.add_node(f"id-{name}", label=name)
    for u, rel, v in [("A", "next", "B"), ("B", "next", "C"), ("A", "far", "C"),
                      ("C", "next", "D"), ("D", "back", "A"), ("D", "next", "E")]:  # fmt: skip
        g.add_edge(f"id-{u}", f"id-{v}", key=rel, relation=rel)
    return g


def test_relabel_maps_names_to_labels():
    g = user_graph()
    r = relabel_for_episode(g, random.Random(0))
    assert set(r.nodes) == set(g.nodes) and len(set(r.nodes.values())) == 5
    assert set(r.relations) == {"next", "far", "back"}
    expected = {(r.nodes[u], r.relations[d], r.nodes[v]) for u, v, d in g.edges(data="relation")}
    assert set(graph_triples(r.graph)) == expected
    assert r.graph.nodes[r.nodes["id-A"]]["name"] == "A"
    other = relabel_for_episode(g, random.Random(1))
    assert other.nodes != r.nodes  # labels drawn per episode


def test_relabel_requires_distinct_relations_per_source():
    g = user_graph()
    g.add_edge("id-A", "id-E", key="next2", relation="next")
    with pytest.raises(UserError, match="several outgoing 'next' edges"):
        relabel_for_episode(g, random.Random(0))
    relabel_for_episode(g, random.Random(0), require_unique=False)


def test_relabel_rejects_too_many_relations():
    with pytest.raises(UserError, match="relations"):
        relabel_for_episode(user_graph(), random.Random(0), edge_labels=range(2))


def big_graph(seed=0):
    g = random_graph(random.Random(seed), 400, (2, 3))
    return g


@pytest.mark.parametrize("seed", range(5))
def test_subgraph_keeps_a_shortest_path(seed):
    g = big_graph(seed)
    rng = random.Random(seed)
    nodes = list(g.nodes)
    while True:
        s, d = rng.sample(nodes, 2)
        if nx.has_path(g, s, d) and nx.shortest_path_length(g, s, d) >= 4:
            break
    sub = sample_subgraph(g, 60, around=[s, d], rng=rng)
    assert sub.number_of_edges() <= 60
    assert nx.shortest_path_length(sub, s, d) == nx.shortest_path_length(g, s, d)
    assert nx.is_weakly_connected(sub)
    assert set(graph_triples(sub)) <= set(graph_triples(g))
    # induced: every edge of g between kept nodes is kept
    assert sub.number_of_edges() == g.subgraph(sub.nodes).number_of_edges()


def test_subgraph_grows_to_the_budget_and_errors_on_small_budget():
    g = big_graph(1)
    sub = sample_subgraph(g, 100, rng=random.Random(0))
    assert 90 <= sub.number_of_edges() <= 100
    s, d = next((s, d) for s in g for d in g if nx.has_path(g, s, d) and
                nx.shortest_path_length(g, s, d) > 5)  # fmt: skip
    with pytest.raises(UserError, match="max_triples"):
        sample_subgraph(g, 3, around=[s, d], rng=random.Random(0))


def test_episode_graph_subsamples_only_when_too_big():
    g = user_graph()
    assert episode_graph(g, random.Random(0)).graph.number_of_edges() == 6
    big = big_graph(2)
    r = episode_graph(big, random.Random(0), max_triples=50)
    assert r.graph.number_of_edges() <= 50
