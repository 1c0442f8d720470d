import random

import networkx as nx
import pytest
import torch

from kgdnc.tasks.codec import TERMINATION, digits_to_triple
from kgdnc.tasks.curriculum import TRAVERSAL_LESSONS, Lesson
from kgdnc.tasks.traversal import make_episode


def nx_follow(g: nx.MultiDiGraph, source, relations):
    path, node = [], source
    for rel in relations:
        (v,) = [v for _, v, r in g.out_edges(node, data="relation") if r == rel]
        path.append((node, rel, v))
        node = v
    return path


@pytest.mark.parametrize("seed", range(12))
def test_targets_equal_networkx_answers(seed, read, described):
    lesson = TRAVERSAL_LESSONS[seed]
    ep = make_episode(lesson, seed)
    steps = read(ep.inputs)
    g = described(steps)
    n = g.number_of_edges()
    assert ep.meta["n_triples"] == n
    query = [t for t, f0, f1 in steps[n:] if f0 and not f1]
    source = query[0][0]
    assert all(t[0] is None and t[2] is None for t in query[1:])
    expected = nx_follow(g, source, [t[1] for t in query])
    answers = [tuple(r) for r in digits_to_triple(ep.targets[ep.mask]).tolist()]
    assert answers == [*expected, TERMINATION]
    assert ep.meta["answers"] == answers and ep.meta["length"] == len(expected)
    assert lesson.length[0] <= len(expected) <= lesson.length[1]
    # layout: description, query (flag 0), answer (flag 1 on every step, flag 0 on first)
    assert [f1 for _, _, f1 in steps] == ep.mask.tolist()
    answer_steps = [s for s in steps if s[2]]
    assert [f0 for _, f0, _ in answer_steps] == [True] + [False] * (len(answer_steps) - 1)
    assert all(t == (None, None, None) for t, _, _ in answer_steps)
    assert len(ep) == n + 2 * len(expected) + 1


def test_episode_reproducible_from_its_seed():
    lesson = TRAVERSAL_LESSONS[8]
    a, b = make_episode(lesson, 1234), make_episode(lesson, 1234)
    assert a.meta["seed"] == 1234 and a.meta == b.meta
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)
    assert torch.equal(a.mask, b.mask)
    c = make_episode(lesson, 1235)
    assert not torch.equal(a.inputs, c.inputs) if len(a) == len(c) else True


def test_description_is_in_random_order(read, described):
    unsorted = 0
    for seed in range(5):
        ep = make_episode(Lesson(1, (10, 10), (2, 2), (1, 1)), random.Random(seed))
        steps = read(ep.inputs)
        desc = [t for t, _, _ in steps[: described(steps).number_of_edges()]]
        unsorted += desc != sorted(desc)
    assert unsorted >= 4


def test_planning_steps_option(read):
    ep = make_episode(TRAVERSAL_LESSONS[0], 7, planning_steps=4)
    steps = read(ep.inputs)
    first_answer = ep.mask.tolist().index(True)
    plan = steps[first_answer - 4 : first_answer]
    assert all(t == (None, None, None) and not f1 for t, _, f1 in plan)
    assert [f0 for _, f0, _ in plan] == [True, False, False, False]


def test_walk_on_a_user_graph():
    g = nx.MultiDiGraph()
    names = ["Bank", "Oval", "Angel", "Euston"]
    for i, name in enumerate(names):
        g.add_node(i, label=name)
    for i in range(4):
        g.add_edge(i, (i + 1) % 4, key="north", relation="Northern")
        g.add_edge((i + 1) % 4, i, key="south", relation="Southbound")
    ep = make_episode(Lesson(1, (0, 0), (0, 0), (3, 3)), 5, graph=g)
    assert ep.meta["n_triples"] == 8 and ep.meta["length"] == 3
    assert sorted(ep.meta["node_names"].values()) == sorted(names)
    path = ep.meta["path"]
    assert all(a[2] == b[0] for a, b in zip(path, path[1:], strict=False))
