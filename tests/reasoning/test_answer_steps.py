"""A shortest-path answer steps the network only while a walk is still going.

:func:`kgdnc.training.rollout.play` stops once every walk of the batch has ended
(at the destination, at a node with no way out, or after its step cap); the
steps it skips could not change an answer: a finished walk takes no more moves.
Checked here against a loop that always plays the longest cap, and against the
scored loop of training (answering plays with ``score=False``).
"""

import pytest
from reasoning_helpers import grid_graph

from kgdnc.graphs import KnowledgeGraph
from kgdnc.reasoning import answer as answering
from kgdnc.reasoning import ask
from kgdnc.tasks.shortest_path import candidate_log_probs
from kgdnc.training.rollout import play


def play_every_step(roll, forward, state, device="cpu", **_):
    """The answer loop without its early stop: every cap's step, ended walks fed zeros."""
    _, state = forward(roll.prefix.inputs, state)
    for _ in range(max(roll.max_steps)):
        y, state = forward(roll.inputs()[:, None], state)
        digits, mask, _ = roll.candidates()
        roll.advance(candidate_log_probs(y[:, 0], digits, mask).argmax(-1))


def play_scored(roll, forward, state, device="cpu", **_):
    """Training's loop: every step's loss and scores computed too."""
    return play(roll, forward, state, device, score=True)


def counting(steps, player):
    """``player`` with a forward that adds the steps it runs to ``steps``."""

    def run(roll, forward, state, device="cpu", **options):
        def counted(x, st):
            steps.append(x.shape[1])
            return forward(x, st)

        return player(roll, counted, state, device, **options)

    return run


def branching_line(length: int = 10) -> KnowledgeGraph:
    """n0 -> n1 -> ... a one-way line, and a dead end off n0: every walk from n0 to n2
    ends after one or two steps, far below its cap of (nodes - 1) steps."""
    kg = KnowledgeGraph("line")
    for i in range(length):
        kg.add_node(f"n{i}", f"Node {i}")
    kg.add_node("dead", "Dead end")
    for i in range(length - 1):
        kg.add_triple(f"n{i}", "next", f"n{i + 1}")
    kg.add_triple("n0", "aside", "dead")
    return kg


def comparable(a):
    out = a.to_dict()
    del out["model_time_s"]  # the one field that is a measurement
    return out, a.text().rsplit("\n", 1)[0]


CASES = [  # (graph, start, destination, seed, votes); model: a tiny untrained one
    ("grid", "c00", "c33", 0, 1),  # every walk runs to its cap
    ("grid", "c30", "c03", 2, 3),
    ("line", "n0", "n2", 0, 3),  # every walk ends early: a dead end or the destination
    ("line", "n0", "n5", 4, 1),
]
# the bundled model on the London Underground (when written: walks of 21, 1 and 1
# steps, capped at 64; and of 1, 3 and 1)
BUNDLED = [
    ("Bank", "London Bridge", 0, 3),
    ("Victoria", "Green Park", 2, 3),
]


def same_answers_and_fewer_steps(monkeypatch, start, to, **options):
    answers, steps = [], []
    for player in (play, play_scored, play_every_step):
        ran: list[int] = []
        monkeypatch.setattr(answering, "play", counting(ran, player))
        answers.append(ask(start, to=to, **options))
        steps.append(sum(ran))
    early, scored, full = answers
    assert comparable(early) == comparable(scored) == comparable(full)
    walks = [d.labels for d in early.draws]
    assert walks == [d.labels for d in scored.draws] == [d.labels for d in full.draws]
    # the early stop runs the prefix and the longest walk, no step more
    prefix = max(len(d.episode.episode.prefix) for d in early.draws)
    longest = max(len(d.labels) for d in early.draws)
    cap = max(d.episode.max_steps for d in early.draws)
    assert steps == [prefix + longest, prefix + longest, prefix + cap]
    return early


@pytest.mark.parametrize(("graph", "start", "to", "seed", "votes"), CASES)
def test_answers_are_the_same_with_and_without_the_early_stop(
    graph, start, to, seed, votes, tiny_models, monkeypatch
):
    kg = grid_graph() if graph == "grid" else branching_line()
    same_answers_and_fewer_steps(monkeypatch, start, to, graph=kg, seed=seed, votes=votes,
                                 model=str(tiny_models["shortest-path"]))


@pytest.mark.parametrize(("start", "to", "seed", "votes"), BUNDLED)
def test_the_bundled_model_answers_the_same_with_and_without_the_early_stop(
    start, to, seed, votes, monkeypatch
):
    same_answers_and_fewer_steps(monkeypatch, start, to, graph="london-underground",
                                 seed=seed, votes=votes)


def test_walks_that_end_early_run_fewer_network_steps(tiny_models, monkeypatch):
    ran: list[int] = []
    monkeypatch.setattr(answering, "play", counting(ran, play))
    a = ask("n0", to="n2", graph=branching_line(), model=str(tiny_models["shortest-path"]),
            votes=3)
    qe = a.draws[0].episode
    assert qe.max_steps == 10  # 11 nodes
    assert all(1 <= len(d.labels) <= 2 for d in a.draws)
    assert sum(ran) <= len(qe.episode.prefix) + 2 < len(qe.episode.prefix) + qe.max_steps
