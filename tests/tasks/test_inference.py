import random

import networkx as nx
import pytest
import torch

from kgdnc.errors import UserError
from kgdnc.tasks.codec import digits_to_triple
from kgdnc.tasks.curriculum import INFERENCE_LESSONS, Lesson
from kgdnc.tasks.inference import RELATIONS, make_episode, relation_table


def test_relation_table_is_fixed_and_shaped_as_the_paper():
    assert relation_table() == RELATIONS  # same seed, same table
    assert len(RELATIONS) == 400
    for length in (2, 3, 4, 5):
        seqs = [r.edges for r in RELATIONS if len(r.edges) == length]
        assert len(seqs) == 100 and len(set(seqs)) == 100
        assert all(0 <= e <= 9 for s in seqs for e in s)
    assert [r.label for r in RELATIONS] == list(range(10, 410))
    assert relation_table(seed=1) != RELATIONS


def nx_complete(g: nx.MultiDiGraph, start, edges):
    node = start
    for label in edges:
        (node,) = [v for _, v, r in g.out_edges(node, data="relation") if r == label]
    return node


@pytest.mark.parametrize("index", [0, 1, 6, 9, 13, 16])
def test_targets_equal_networkx_answers(index, read, described):
    lesson = INFERENCE_LESSONS[index]
    by_label = {r.label: r.edges for r in RELATIONS}
    for seed in range(3):
        ep = make_episode(lesson, seed)
        steps = read(ep.inputs)
        g = described(steps)
        assert all(0 <= r <= 9 for _, _, r in g.edges(data="relation"))
        queries = [t for t, f0, f1 in steps if f0 and not f1 and t != (None, None, None)]
        assert len(queries) == 3
        expected = [(s, rel, nx_complete(g, s, by_label[rel])) for s, rel, _ in queries]
        answers = [tuple(r) for r in digits_to_triple(ep.targets[ep.mask]).tolist()]
        assert answers == expected == ep.meta["answers"]
        assert all(lesson.length[0] <= len(by_label[rel]) <= lesson.length[1]
                   for _, rel, _ in queries)  # fmt: skip
        # each query: query step, 10 planning steps, one answer step with both flags
        n = g.number_of_edges()
        assert len(ep) == n + 3 * 12
        for q in range(3):
            block = steps[n + 12 * q : n + 12 * (q + 1)]
            assert block[0][1] and not block[0][2]
            assert [f0 for _, f0, _ in block[1:11]] == [True] + [False] * 9
            assert block[11] == ((None, None, None), True, True)


def test_queries_differ_within_an_episode():
    ep = make_episode(INFERENCE_LESSONS[5], 3)
    assert len(set(ep.meta["answers"])) == 3


def test_reproducible_from_seed():
    a, b = make_episode(INFERENCE_LESSONS[-1], 99), make_episode(INFERENCE_LESSONS[-1], 99)
    assert torch.equal(a.inputs, b.inputs) and a.meta == b.meta


def test_user_graph_needs_few_relations():
    g = nx.MultiDiGraph()
    for i in range(12):
        g.add_node(i, label=f"n{i}")
        g.add_edge(i, (i + 1) % 12, key=f"r{i}", relation=f"r{i}")
    with pytest.raises(UserError, match="relations"):
        make_episode(Lesson(1, (0, 0), (0, 0), (2, 2), 3), random.Random(0), graph=g)


def test_user_graph_episode():
    g = nx.MultiDiGraph()
    for i in range(6):
        g.add_node(i, label=f"p{i}")
        g.add_edge(i, (i + 1) % 6, key="a", relation="a")
        g.add_edge(i, (i + 2) % 6, key="b", relation="b")
    ep = make_episode(Lesson(1, (0, 0), (0, 0), (2, 2), 3), random.Random(4), graph=g)
    assert len(ep.meta["answers"]) == 3 and ep.meta["n_triples"] == 12


def test_a_users_relation_names_map_onto_the_table():
    from kgdnc.tasks.graphs import relabel_for_episode
    from kgdnc.tasks.inference import inference_episode, match_relation

    g = nx.MultiDiGraph()
    for i, name in enumerate(["ann", "bea", "cat", "dan"]):
        g.add_node(i, label=name)
    g.add_edge(0, 1, key="mother", relation="mother")
    g.add_edge(1, 2, key="mother", relation="mother")
    g.add_edge(2, 3, key="brother", relation="brother")
    rng = random.Random(0)
    rel, fixed = match_relation(["mother", "mother", "brother"], rng)
    assert rel.edges[0] == rel.edges[1] != rel.edges[2]
    assert fixed == {"mother": rel.edges[0], "brother": rel.edges[2]}
    r = relabel_for_episode(g, rng, edge_labels=range(10), fixed_relations=fixed)
    ep = inference_episode(r.graph, [(r.nodes[0], rel)], rng)
    assert ep.meta["answers"] == [(r.nodes[0], rel.label, r.nodes[3])]
    with pytest.raises(UserError, match="no relation of 6 steps"):
        match_relation(list("abcdef"), rng)


def test_every_relation_gets_its_share_of_queries():
    """The queried relation is drawn uniformly among those the graph can follow
    (then its start), so no relation dominates: on lesson 1 (length 2, all ten
    edge labels) each of the 100 length-2 relations is asked about equally often."""
    import collections

    counts = collections.Counter()
    for i in range(600):
        episode = make_episode(INFERENCE_LESSONS[0], i)
        counts.update(tuple(r) for r in episode.meta["relations"])
    mean = sum(counts.values()) / 100
    assert len(counts) == 100
    assert max(counts.values()) < 2.2 * mean and min(counts.values()) > 0.3 * mean


def test_followable_queries_are_every_start_that_can_follow_each_relation():
    """The prefix-sharing search finds exactly the (start, relation, end) triples a
    walk from every start along every relation finds, in relation-then-start order."""
    from kgdnc.tasks.graphs import random_graph
    from kgdnc.tasks.inference import _followable, follow_relation

    rng = random.Random(3)
    for _ in range(5):
        g = random_graph(rng, n_nodes=rng.randint(8, 12), out_degree=(2, 4), edge_labels=range(10))
        want: dict[int, list] = {}
        for rel in RELATIONS:
            for start in sorted(g.nodes):
                end = follow_relation(g, start, rel.edges)
                if end is not None:
                    want.setdefault(len(rel.edges), []).append((start, rel, end))
        assert _followable(g, RELATIONS) == want
        assert sum(map(len, want.values())) > 0
