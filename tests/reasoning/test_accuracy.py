"""Accuracy on a real graph's queries: sampling, scoring, the report."""

import random

import networkx as nx
import pytest
from reasoning_helpers import grid_graph

from kgdnc.errors import UserError
from kgdnc.graphs import save
from kgdnc.reasoning import answer_query
from kgdnc.reasoning.accuracy import (
    evaluate,
    graph_accuracy,
    parse_lengths,
    query_results,
    sample_queries,
)
from kgdnc.reasoning.kinds import kind_of
from kgdnc.training.evaluate import load_trained


@pytest.mark.parametrize(("text", "want"), [("7", (7, 7)), ("2-4", (2, 4)), (None, None)])
def test_parse_lengths(text, want):
    assert parse_lengths(text) == want


@pytest.mark.parametrize("text", ["0", "4-2", "x", "1-2-3", ""])
def test_parse_lengths_rejects(text):
    with pytest.raises(UserError, match="query length"):
        parse_lengths(text)


@pytest.mark.parametrize("task", ["traversal", "shortest-path", "inference"])
def test_sampled_queries_are_distinct_and_of_the_asked_length(task):
    g = grid_graph().to_networkx()
    queries = sample_queries(g, task, 20, (3, 3), random.Random(0))
    assert len(queries) == 20
    assert len({q.key() for q in queries}) == 20
    for q in queries:
        if task == "shortest-path":
            assert nx.shortest_path_length(g, q.start, q.destination) == 3
        else:
            assert len(q.relations) == 3


def test_sampling_stops_when_the_graph_has_no_more():
    g = grid_graph(2).to_networkx()  # 4 cells: 4 ordered pairs at distance 2
    queries = sample_queries(g, "shortest-path", 50, (2, 2), random.Random(0))
    assert len(queries) == 4


@pytest.mark.parametrize("task", ["traversal", "shortest-path", "inference"])
def test_batched_results_match_one_by_one_and_kgdnc_query(task, tiny_models):
    """Batching changes no verdict, and query i scores as `kgdnc query` scores it with
    the same seed and label draw."""
    kg = grid_graph()
    g = kg.to_networkx()
    queries = sample_queries(g, task, 6, (2, 3), random.Random(1))
    network = load_trained(tiny_models[task]).network
    batched = query_results(network, 16, g, queries, memory_size=128, seed=5, batch_size=6)
    alone = query_results(network, 16, g, queries, memory_size=128, seed=5, batch_size=1)
    assert batched == alone
    assert all(described == g.number_of_edges() for _, described in batched)
    answer = answer_query(kg, queries[0], model=str(tiny_models[task]), memory_size=128, seed=5)
    assert answer.correct == batched[0][0]


def test_graph_report_counts_by_length(tiny_models):
    save(grid_graph(), "grid")
    report = graph_accuracy(tiny_models["traversal"], "grid", lengths=(2, 4), episodes=12)
    assert report.graph == "grid" and report.lesson is None
    assert report.episodes == 12 and report.step_accuracy is None
    assert set(report.by_length) <= {2, 3, 4}
    assert sum(row["episodes"] for row in report.by_length.values()) == 12
    weighted = sum(row["accuracy"] * row["episodes"] for row in report.by_length.values())
    assert weighted / 12 == pytest.approx(report.accuracy)
    assert "12 distinct queries" in report.detail
    assert report.to_dict()["detail"] == report.detail


def test_a_small_triple_limit_gives_sub_graphs(tiny_models):
    save(grid_graph(), "grid")
    report = graph_accuracy(tiny_models["shortest-path"], "grid", lengths=(2, 2), episodes=4,
                            max_triples=20)
    assert "sub-graphs" in report.detail
    # a grid's 2-step pairs: some first moves lead away, none is a dead end
    assert 0.0 < report.no_plan < 1.0 and "a walk with no plan" in report.detail
    assert report.to_dict()["no_plan"] == report.no_plan


def test_evaluate_rejects_mixed_options(tiny_models):
    save(grid_graph(), "grid")
    path = tiny_models["traversal"]
    with pytest.raises(UserError, match="query lengths need a graph"):
        evaluate(path, lengths=(2, 2))
    with pytest.raises(UserError, match="not both"):
        evaluate(path, graph="grid", lesson=2)
    with pytest.raises(UserError, match="a task applies to lessons"):
        evaluate(path, graph="grid", task="traversal")
    with pytest.raises(UserError, match="no shortest-path query of length 9-9"):
        evaluate(tiny_models["shortest-path"], graph="grid", lengths=(9, 9), episodes=2)


def test_all_pairs_at_a_distance_are_enumerated():
    g = grid_graph().to_networkx()  # 4 x 4 grid: distance = Manhattan distance
    pairs = kind_of("shortest-path").every_query(g, (4, 4), random.Random(0))
    cells = [(x, y) for x in range(4) for y in range(4)]
    want = sum(1 for a in cells for b in cells if abs(a[0] - b[0]) + abs(a[1] - b[1]) == 4)
    assert len(pairs) == want == len({q.key() for q in pairs})
    assert all(nx.shortest_path_length(g, q.start, q.destination) == 4 for q in pairs)


def test_shortest_path_report_tests_every_pair_when_asked_enough(tiny_models):
    save(grid_graph(), "grid")
    report = graph_accuracy(tiny_models["shortest-path"], "grid", lengths=(6, 6), episodes=50)
    # 6 apart in a 4 x 4 grid: the two diagonals' corners, both ways
    assert report.episodes == 4


def test_graph_report_with_node_decoding_says_so_and_refuses_shortest_path(tiny_models):
    save(grid_graph(), "grid")
    report = graph_accuracy(tiny_models["traversal"], "grid", lengths=(2, 2), episodes=4,
                            decode="nodes")
    assert report.decode == "nodes" and report.to_dict()["decode"] == "nodes"
    assert "decoded among the described nodes" in str(report.table().caption)
    with pytest.raises(UserError, match="not shortest-path"):
        graph_accuracy(tiny_models["shortest-path"], "grid", lengths=(2, 2), episodes=4,
                       decode="nodes")
