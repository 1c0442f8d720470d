import random

import networkx as nx
import pytest
import torch

from kgdnc.errors import UserError
from kgdnc.tasks.codec import encode_triple, triple_digits
from kgdnc.tasks.curriculum import SHORTEST_PATH_LESSONS, Lesson
from kgdnc.tasks.graphs import random_graph
from kgdnc.tasks.shortest_path import (
    ShortestPathRollout,
    candidate_log_probs,
    choose_next,
    make_episode,
    optimal_nll,
)


@pytest.mark.parametrize("index", range(0, 15, 2))
def test_prefix_and_optimal_moves_equal_networkx(index, read, described):
    lesson = SHORTEST_PATH_LESSONS[index]
    ep = make_episode(lesson, index)
    steps = read(ep.prefix.inputs)
    g = described(steps)
    n = g.number_of_edges()
    assert steps[n] == ((ep.start, None, ep.destination), True, False)
    assert [f0 for _, f0, _ in steps[n + 1 :]] == [True] + [False] * 9
    assert len(steps) == n + 11 and not ep.prefix.mask.any()
    length = nx.shortest_path_length(g, ep.start, ep.destination)
    assert ep.shortest_length == length and lesson.length[0] <= length <= lesson.length[1]
    first_steps = {tuple(p[:2]) for p in nx.all_shortest_paths(g, ep.start, ep.destination)}
    for node in g.nodes:
        triples, digits = ep.candidates(node)
        assert set(triples) == {(node, r, v) for _, v, r in g.out_edges(node, data="relation")}
        assert torch.equal(digits, torch.stack([triple_digits(t) for t in triples]))
        if not nx.has_path(g, node, ep.destination) or node == ep.destination:
            assert ep.optimal(node) == set()
            continue
        d = nx.shortest_path_length(g, node, ep.destination)
        want = {i for i, t in enumerate(triples)
                if nx.has_path(g, t[2], ep.destination)
                and nx.shortest_path_length(g, t[2], ep.destination) == d - 1}  # fmt: skip
        assert ep.optimal(node) == want
    assert ep.meta["answers"][0][::2] in first_steps
    assert ep.walk_correct(ep.meta["answers"])


def test_step_input_flags():
    ep = make_episode(SHORTEST_PATH_LESSONS[0], 1)
    first = ep.step_input(None)
    assert first[:90].sum() == 0 and first[90] == 1 and first[91] == 1
    t = ep.meta["answers"][0]
    x = ep.step_input(t)
    assert torch.equal(x[:90], encode_triple(t)) and x[90] == 0 and x[91] == 1


def test_walk_correct_rejects_long_or_broken_walks():
    ep = make_episode(SHORTEST_PATH_LESSONS[3], 2)
    path = ep.meta["answers"]
    assert ep.walk_correct(path)
    assert not ep.walk_correct(path[:-1])
    assert not ep.walk_correct([*path, path[-1]])
    broken = [path[0], (path[0][2], 998, path[-1][2])] if len(path) > 1 else [(0, 0, 0)]
    assert not ep.walk_correct(broken)


def test_walk_correct_with_one_step_of_slack():
    """Methods' pass rule: a walk at most one step longer than the shortest."""
    ep = make_episode(SHORTEST_PATH_LESSONS[3], 2)
    path = ep.meta["answers"]
    assert ep.walk_correct(path, slack=1)
    # a detour out of the start and back is two steps longer
    back = None
    for first in ep.candidates(ep.start)[0]:
        for t in ep.candidates(first[2])[0]:
            if t[2] == ep.start:
                back = (first, t)
    if back is not None:
        detour = [back[0], back[1], *path]  # two steps longer
        assert not ep.walk_correct(detour, slack=1)
        assert ep.walk_correct(detour, slack=2)
    assert not ep.walk_correct(path[:-1], slack=1)


def test_dagger_mixing_statistics():
    rng = random.Random(0)
    picks = [choose_next({0, 1}, 2, 0.8, rng) for _ in range(20000)]
    frac_network = picks.count(2) / len(picks)
    assert 0.19 < frac_network < 0.21
    assert abs(picks.count(0) - picks.count(1)) < 0.05 * len(picks)  # uniform over optimal
    assert {choose_next(set(), 3, 0.8, rng) for _ in range(100)} == {3}
    assert {choose_next({1}, 3, 1.0, rng) for _ in range(100)} == {1}
    assert {choose_next({1}, 3, 0.0, rng) for _ in range(100)} == {3}


def test_candidate_log_probs_renormalise():
    torch.manual_seed(0)
    logits = torch.randn(3, 90)
    cand = torch.randint(0, 10, (3, 4, 9))
    mask = torch.tensor([[True, True, True, False], [True, False, False, False], [False] * 4])
    lp = candidate_log_probs(logits, cand, mask)
    assert lp.shape == (3, 4)
    assert torch.allclose(lp[0, :3].exp().sum(), torch.tensor(1.0))
    assert torch.allclose(lp[1, 0], torch.tensor(0.0), atol=1e-6)
    assert torch.isinf(lp[~mask]).all() and not torch.isnan(lp).any()
    # the score of a candidate is the sum of its digits' log-probabilities
    logp = torch.log_softmax(logits.view(3, 9, 10), -1)
    raw = torch.stack([logp[0, torch.arange(9), cand[0, c]].sum() for c in range(3)])
    assert torch.allclose(lp[0, :3], raw - torch.logsumexp(raw, 0), atol=1e-5)
    opt = torch.tensor([[True, False, True, False], [True, False, False, False], [False] * 4])
    nll = optimal_nll(lp, opt)
    assert torch.allclose(nll[0], -torch.log(lp[0, 0].exp() + lp[0, 2].exp()), atol=1e-5)
    assert nll[1].abs() < 1e-6 and nll[2] == 0
    # gradients flow to the logits
    logits.requires_grad_(True)
    optimal_nll(candidate_log_probs(logits, cand, mask), opt).sum().backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def run(roll, pick):
    while not roll.done:
        x = roll.inputs()
        assert x.shape == (roll.batch_size, 92)
        digits, mask, optimal = roll.candidates()
        roll.advance(pick(digits, mask, optimal))
    return roll


def test_rollout_with_an_oracle_and_a_wrong_network():
    eps = [make_episode(SHORTEST_PATH_LESSONS[6], s) for s in range(4)]
    prefix = ShortestPathRollout(eps).prefix
    assert prefix.inputs.shape[0] == 4 and prefix.mask.sum() == 0
    assert (prefix.inputs[:, -1, :90] == 0).all()  # left padded: all end with planning
    oracle = run(ShortestPathRollout(eps), lambda d, m, o: o.float().argmax(-1))
    assert oracle.correct().all()
    assert [len(w) for w in oracle.walks] == [e.shortest_length for e in eps]

    def worst(d, m, o):  # a valid but non-optimal move where one exists
        return torch.where(m & ~o, 1.0, 0.0).argmax(-1)

    wrong = run(ShortestPathRollout(eps), worst)
    dagger = run(ShortestPathRollout(eps, beta=1.0, rng=random.Random(0)), worst)
    assert dagger.correct().all()
    assert not wrong.correct().all()


def test_rollout_first_input_and_trainable_rows():
    eps = [make_episode(SHORTEST_PATH_LESSONS[0], s) for s in range(3)]
    roll = ShortestPathRollout(eps, beta=0.8, rng=random.Random(1))
    x = roll.inputs()
    assert (x[:, 90:] == 1).all() and (x[:, :90] == 0).all()
    assert roll.trainable().tolist() == [1.0, 1.0, 1.0]
    assert roll.max_steps == [2 * e.shortest_length for e in eps]


def test_user_graph_subgraph_keeps_shortest_length():
    g = random_graph(random.Random(0), 300, (2, 3))
    named = nx.relabel_nodes(g, {n: f"s{n}" for n in g.nodes})
    ep = make_episode(Lesson(1, (0, 0), (0, 0), (5, 5)), 3, graph=named, max_triples=80)
    assert ep.graph.number_of_edges() <= 80
    assert ep.shortest_length == 5
    s, d = ep.meta["node_names"][ep.start], ep.meta["node_names"][ep.destination]
    assert nx.shortest_path_length(named, f"s{s}", f"s{d}") == 5


@pytest.mark.parametrize("index", [0, 2, 4, 8])
def test_real_choice_keeps_only_sources_with_a_wrong_first_move(index):
    lesson = SHORTEST_PATH_LESSONS[index]
    plain = [make_episode(lesson, seed) for seed in range(60)]
    chosen = [make_episode(lesson, seed, real_choice=True) for seed in range(60)]

    def wrong_move(ep):
        triples, _ = ep.candidates(ep.start)
        return len(ep.optimal(ep.start)) < len(triples)

    assert all(wrong_move(ep) for ep in chosen)
    assert all(lesson.length[0] <= ep.shortest_length <= lesson.length[1] for ep in chosen)
    if index == 0:  # the paper's lesson 1 often offers no wrong first move
        assert not all(wrong_move(ep) for ep in plain)


def test_real_choice_on_a_user_graph_and_its_error():
    chain = nx.MultiDiGraph()
    chain.add_edge("a", "b", relation="r")
    chain.add_edge("b", "c", relation="r")
    with pytest.raises(UserError, match="with a wrong first move"):
        make_episode(Lesson(1, (0, 0), (0, 0), (2, 2)), 0, graph=chain, real_choice=True)
    chain.add_edge("a", "x", relation="s")
    ep = make_episode(Lesson(1, (0, 0), (0, 0), (2, 2)), 0, graph=chain, real_choice=True)
    assert ep.meta["node_names"][ep.start] == "a" and ep.meta["node_names"][ep.destination] == "c"


def test_triple_scores_are_the_digits_own_log_probs():
    torch.manual_seed(0)
    logits = torch.randn(2, 90)
    triples = [[(1, 2, 3), (1, 5, 7), (0, 0, 0)], [(4, 4, 4), (9, 9, 9), (8, 8, 8)]]
    digits = torch.stack([torch.stack([triple_digits(t) for t in row]) for row in triples])
    mask = torch.tensor([[True, True, False], [True, True, True]])
    raw = candidate_log_probs(logits, digits, mask, renormalise=False)
    logp = torch.log_softmax(logits.view(2, 9, 10), -1)
    for b in range(2):
        for c in range(3):
            want = sum(float(logp[b, k, digits[b, c, k]]) for k in range(9))
            if mask[b, c]:
                assert float(raw[b, c]) == pytest.approx(want, rel=1e-5)
            else:
                assert raw[b, c] == float("-inf")
    # less than the renormalised log-probabilities, the same ranking
    norm = candidate_log_probs(logits, digits, mask)
    assert (raw[mask] < norm[mask]).all()
    assert torch.equal(raw.argmax(-1), norm.argmax(-1))
