"""Query episodes: the training layout, label draws, sub-graphs."""

import random

import networkx as nx
import pytest
import torch
from reasoning_helpers import grid_graph

from kgdnc.errors import UserError
from kgdnc.graphs import load
from kgdnc.reasoning.kinds import build_episode, sample_query
from kgdnc.reasoning.query import Query, parse_query
from kgdnc.tasks.graphs import relabel_for_episode
from kgdnc.tasks.shortest_path import ShortestPathEpisode
from kgdnc.tasks.traversal import traversal_episode


def test_traversal_episode_is_laid_out_as_in_training():
    g = grid_graph().to_networkx()
    q = Query("traversal", "c00", relations=("east", "north", "north"))
    qe = build_episode(g, q, random.Random(5))
    # replay the same draws with the task's own builder
    rng = random.Random(5)
    relab = relabel_for_episode(g, rng, require_unique=False)
    ref = traversal_episode(relab.graph, relab.nodes["c00"],
                            [relab.relations[r] for r in q.relations], rng)
    assert torch.equal(qe.episode.inputs, ref.inputs)
    assert torch.equal(qe.episode.targets, ref.targets)
    assert torch.equal(qe.episode.mask, ref.mask)
    assert qe.focus is None and qe.n_triples == g.number_of_edges()


def test_label_draws_differ_by_seed_and_repeat_with_it():
    g = grid_graph().to_networkx()
    q = Query("shortest-path", "c00", destination="c33")
    a = build_episode(g, q, random.Random(1))
    b = build_episode(g, q, random.Random(1))
    c = build_episode(g, q, random.Random(2))
    assert torch.equal(a.episode.prefix.inputs, b.episode.prefix.inputs)
    assert not torch.equal(a.episode.prefix.inputs, c.episode.prefix.inputs)
    assert a.node_labels != c.node_labels


def test_subgraph_keeps_a_shortest_path():
    kg = load("london-underground")
    g = kg.to_networkx()
    q = parse_query(kg, "Bank", to="Oxford Circus")
    for seed in range(3):
        qe = build_episode(g, q, random.Random(seed), max_triples=60)
        assert qe.focus is not None and qe.focus.triples <= 60
        assert qe.focus.graph_triples == g.number_of_edges()
        assert isinstance(qe.episode, ShortestPathEpisode)
        sub = qe.episode.graph
        s, d = qe.node_labels["Bank"], qe.node_labels["Oxford Circus"]
        assert nx.shortest_path_length(sub, s, d) == nx.shortest_path_length(g, "Bank",
                                                                               "Oxford Circus")
        assert qe.n_triples == sub.number_of_edges()


def test_query_nodes_over_budget_is_a_user_error():
    kg = load("london-underground")
    q = parse_query(kg, "Bank", to="Oxford Circus")
    with pytest.raises(UserError, match="raise the triple limit"):
        build_episode(kg.to_networkx(), q, random.Random(0), max_triples=3)


def test_inference_with_several_answers_targets_a_reachable_node():
    kg = load("family-tree")
    g = kg.to_networkx()
    q = parse_query(kg, "Leo Young", relation="maternal great uncle")
    qe = build_episode(g, q, random.Random(0), max_triples=120)
    (start, rel, end), = qe.meta["answers"]
    assert start == qe.node_labels[q.start]
    assert rel == qe.table_relation.label
    assert qe.node_of[end] in kg.follow("Leo Young", ["mother", "mother", "brother"])
    # the relations of the composition carry the table relation's edge labels
    assert [qe.relation_labels[r] for r in q.relations] == list(qe.table_relation.edges)


def test_no_path_is_a_user_error():
    kg = grid_graph()
    q = Query("traversal", "c00", relations=("west",))
    with pytest.raises(UserError, match="nothing is reached"):
        build_episode(kg.to_networkx(), q, random.Random(0))


@pytest.mark.parametrize("task", ["traversal", "shortest-path", "inference"])
def test_sample_query_respects_lengths_and_exclusions(task):
    g = grid_graph().to_networkx()
    rng = random.Random(0)
    seen = set()
    for _ in range(5):
        q = sample_query(g, task, rng, (2, 3), exclude=seen)
        assert q.key() not in seen
        seen.add(q.key())
        if task == "shortest-path":
            assert nx.shortest_path_length(g, q.start, q.destination) in (2, 3)
        else:
            assert len(q.relations) in (2, 3)
        build_episode(g, q, rng)  # always answerable


def test_sampled_inference_queries_all_fit_the_relation_table():
    """Family-tree walks such as brother/brother/sister/brother have no table relation
    of their shape; they are never sampled, so every sampled query can be asked."""
    from kgdnc.tasks.inference import fits_table

    assert not fits_table(["brother", "brother", "sister", "brother"])
    assert fits_table(["mother", "mother", "brother"])
    g = load("family-tree").to_networkx()
    rng = random.Random(3)
    for _ in range(40):
        q = sample_query(g, "inference", rng, (4, 4))
        assert fits_table(q.relations)
        build_episode(g, q, random.Random(0))  # raises if the table has no fit


@pytest.mark.parametrize("planning", [None, 3])
@pytest.mark.parametrize(
    "query",
    [Query("shortest-path", "c00", destination="c33"),
     Query("traversal", "c00", relations=("east", "north")),
     Query("inference", "c00", relations=("east", "north"), relation_text="east/north")],
    ids=lambda q: q.task,
)
def test_each_kind_counts_the_steps_its_layout_takes(query, planning):
    """The memory budget's inverse counts exactly the steps between the description
    and the answer, with the model's planning steps (traversal plans nothing)."""
    from kgdnc.reasoning.kinds import kind_of
    from kgdnc.training.trained import description_budget, memory_size_for

    g = grid_graph().to_networkx()
    qe = build_episode(g, query, random.Random(0), planning_steps=planning)
    kind = kind_of(query.task)
    other = kind.other_steps(query, planning)
    assert qe.answer_start - qe.n_triples == other
    assert other == kind.query_steps(query) + (
        0 if query.task == "traversal" else (10 if planning is None else planning))
    # a memory sized for the episode holds its description beside the other steps
    n = memory_size_for(qe.total_steps, 16)
    assert description_budget(n, other) >= qe.n_triples
