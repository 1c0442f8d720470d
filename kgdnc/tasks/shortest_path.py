"""Shortest path: an interactive task trained DAgger-style (PAPER.md §2).

The episode is a fixed prefix and an interactive answer:

- prefix: the description (all triples, random order), the query
  ``(source, _, destination)`` with flag 0 on, and 10 blank planning steps (flag 0
  on the first);
- answer, one triple per step: the input is the triple chosen at the previous
  step with flag 1 on (the first answer step: a blank triple, flags 0 and 1); the
  network's output is scored only on the triples leaving the current node
  (:func:`candidate_log_probs`), the chosen triple moves the walk to its
  destination.

Training (DAgger, β = 0.8): the target at each step is every candidate that
begins a shortest path from the current node (:meth:`ShortestPathEpisode.optimal`);
the recommended loss is ``-log Σ_{i optimal} p_i`` (:func:`optimal_nll`); the next
move is an optimal candidate (uniformly) with probability β, else the network's
own choice (:func:`choose_next`). Metric: an episode is right when the greedy walk
reaches the destination in exactly ``shortest_length`` steps.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import networkx as nx
import torch
from torch import Tensor

from kgdnc.errors import UserError
from kgdnc.tasks.codec import N_DIGITS, digit_log_probs, encode_input, triple_digits
from kgdnc.tasks.curriculum import Lesson
from kgdnc.tasks.episode import Batch, Episode, EpisodeBuilder, collate, episode_rng
from kgdnc.tasks.graphs import episode_graph, graph_triples, lesson_graph

__all__ = [
    "BETA",
    "PLANNING_STEPS",
    "Blocks",
    "ShortestPathEpisode",
    "ShortestPathRollout",
    "backward_plan",
    "candidate_log_probs",
    "choose_next",
    "first_move_queries",
    "make_episode",
    "no_plan_success",
    "optimal_nll",
    "predecessor_recall",
    "shortest_path_episode",
]

BETA = 0.8
PLANNING_STEPS = 10
_TRIES = 200
LabelTriple = tuple[int, int, int]


@dataclass
class ShortestPathEpisode:
    """One shortest-path episode on a graph in label space.

    Attributes:
        prefix: Episode (T, 92) of description, query and planning; no answer steps.
        graph: the episode's graph (integer node and relation labels).
        start: source node label.
        destination: destination node label.
        shortest_length: number of triples on a shortest path.
        meta: as :attr:`Episode.meta` (``answers`` holds one shortest path).
    """

    prefix: Episode
    graph: nx.MultiDiGraph
    start: int
    destination: int
    shortest_length: int
    meta: dict[str, Any] = field(default_factory=dict)
    _distance: dict[int, int] = field(default_factory=dict, repr=False)
    _candidates: dict[int, tuple[list[LabelTriple], Tensor]] = field(
        default_factory=dict, repr=False
    )

    def __post_init__(self) -> None:
        if not self._distance:
            self._distance = dict(
                nx.single_source_shortest_path_length(
                    self.graph.reverse(copy=False), self.destination
                )
            )

    def distance(self, node: int) -> int | None:
        """Edges from ``node`` to the destination, None when unreachable."""
        return self._distance.get(node)

    def candidates(self, node: int) -> tuple[list[LabelTriple], Tensor]:
        """The distinct triples leaving ``node`` (sorted) and their digits (C, 9)."""
        if node not in self._candidates:
            triples = sorted(
                {(node, rel, v) for _, v, rel in self.graph.out_edges(node, data="relation")}
            )
            digits = (
                torch.stack([triple_digits(t) for t in triples])
                if triples
                else torch.zeros(0, N_DIGITS, dtype=torch.long)
            )
            self._candidates[node] = (triples, digits)
        return self._candidates[node]

    def optimal(self, node: int) -> set[int]:
        """Indices of the candidates of ``node`` that begin a shortest path to the
        destination (empty at the destination or when it cannot be reached)."""
        d = self.distance(node)
        if d is None or d == 0:
            return set()
        triples, _ = self.candidates(node)
        return {i for i, (_, _, v) in enumerate(triples) if self._distance.get(v) == d - 1}

    def step_input(self, triple: Sequence[int] | None) -> Tensor:
        """An answer step's input (92,): the previously chosen triple with flag 1 on;
        ``None`` for the first answer step (blank triple, flags 0 and 1 on)."""
        if triple is None:
            return encode_input((None, None, None), phase=True, answer=True)
        return encode_input(triple, answer=True)

    def walk_correct(self, walk: Sequence[Sequence[int]], slack: int = 0) -> bool:
        """Whether ``walk`` (chosen triples) goes from start to destination along the
        graph's edges in exactly ``shortest_length`` steps (with ``slack``: in
        at most ``shortest_length + slack`` steps, e.g. 1 for the Methods' rule)."""
        if not self.shortest_length <= len(walk) <= self.shortest_length + slack:
            return False
        node = self.start
        for triple in walk:
            triples, _ = self.candidates(node)
            if tuple(triple) not in triples:
                return False
            node = triple[2]
        return node == self.destination


def shortest_path_episode(
    graph: nx.MultiDiGraph,
    start: int,
    destination: int,
    rng: random.Random,
    *,
    lesson: int = 0,
    seed: int | None = None,
    planning_steps: int = PLANNING_STEPS,
) -> ShortestPathEpisode:
    """The episode for one (start, destination) query on a graph in label space."""
    description = graph_triples(graph)
    rng.shuffle(description)
    b = EpisodeBuilder()
    b.describe(description)
    b.add((start, None, destination), phase=True)
    b.plan(planning_steps)
    try:
        nodes = nx.shortest_path(graph, start, destination)
    except nx.NetworkXNoPath:
        raise UserError(f"node {destination} cannot be reached from node {start}") from None
    path = [
        (u, min(d["relation"] for d in graph[u][v].values()), v)
        for u, v in zip(nodes, nodes[1:], strict=False)
    ]
    meta: dict[str, Any] = {
        "task": "shortest-path",
        "lesson": lesson,
        "seed": seed,
        "answers": path,
        "query": (start, None, destination),
        "length": len(path),
        "n_triples": len(description),
    }
    names = {n: d["name"] for n, d in graph.nodes(data=True) if "name" in d}
    if names:
        meta["node_names"] = names
    return ShortestPathEpisode(b.build(meta), graph, start, destination, len(path), meta)


def no_plan_success(graph: nx.MultiDiGraph, start: Any, destination: Any, steps: int) -> float:
    """The chance that a walk with no plan reaches ``destination`` from ``start`` in at
    most ``steps`` moves: it names the destination when a triple leads there, and
    otherwise takes one of the triples leaving its node uniformly (a triple is a
    distinct (node, relation, next node)). With ``steps`` the shortest length this is
    the share of exact answers that needs no plan: the baseline of the task's metric.
    """
    reverse = graph.reverse(copy=False)
    dist = nx.single_source_shortest_path_length(reverse, destination, cutoff=steps)
    memo: dict[tuple[Any, int], float] = {}

    def success(node: Any, left: int) -> float:
        if node == destination:
            return 1.0
        if left == 0 or dist.get(node, steps + 1) > left:
            return 0.0
        if dist[node] == 1:
            return 1.0
        key = (node, left)
        if key not in memo:
            moves = {(v, rel) for _, v, rel in graph.out_edges(node, data="relation")}
            memo[key] = sum(success(v, left - 1) for v, _ in moves) / len(moves)
        return memo[key]

    return success(start, steps)


def _pick_pair(
    graph: nx.MultiDiGraph,
    lengths: tuple[int, int],
    rng: random.Random,
    tries: int,
    *,
    real_choice: bool = False,
) -> tuple[Any, Any] | None:
    """A (source, destination) pair at distance L, L drawn from ``lengths`` (another
    length in range when none is found): a random source, then a uniform choice among
    the nodes at that distance from it. With ``real_choice``, only pairs whose source
    has a first move that does not begin a shortest path (:func:`_needing_a_plan`)."""
    lo, hi = lengths
    first = rng.randint(lo, hi)
    order = [first, *rng.sample([n for n in range(lo, hi + 1) if n != first], hi - lo)]
    nodes = list(graph.nodes)
    if not nodes:
        return None
    for length in order:
        for _ in range(tries):
            s = rng.choice(nodes)
            dist = nx.single_source_shortest_path_length(graph, s, cutoff=length)
            far = sorted((d for d, n in dist.items() if n == length), key=repr)
            if real_choice and far:
                far = _needing_a_plan(graph, s, far, length)
            if far:
                return s, rng.choice(far)
    return None


def _needing_a_plan(
    graph: nx.MultiDiGraph, source: Any, destinations: list[Any], length: int
) -> list[Any]:
    """The ``destinations`` (each ``length`` edges from ``source``) for which some
    triple leaving ``source`` does not begin a shortest path: a first move that
    needs a plan."""
    reach = [
        nx.single_source_shortest_path_length(graph, v, cutoff=length - 1)
        for v in set(graph.successors(source))
    ]
    return [d for d in destinations if any(dist.get(d) != length - 1 for dist in reach)]


def make_episode(
    lesson: Lesson,
    rng: random.Random | int,
    graph: nx.MultiDiGraph | None = None,
    *,
    max_triples: int | None = None,
    planning_steps: int = PLANNING_STEPS,
    real_choice: bool = False,
) -> ShortestPathEpisode:
    """A shortest-path episode whose shortest path length is drawn from
    ``lesson.length``.

    ``real_choice`` keeps only sources with a first move that does not begin a
    shortest path (a lever: the paper's early lessons often have none, and are then
    answered without a plan). Random graphs with no such pair at any distance in
    range are drawn again. With a
    user ``graph`` the pair is chosen on it, then the graph (a sub-graph keeping a
    shortest path between them when too big) is relabelled; outgoing relations
    need not be distinct per node here, since candidates are whole triples.
    """
    rng, seed = episode_rng(rng)
    if graph is None:
        for _ in range(_TRIES):
            g = lesson_graph(lesson, rng)
            pair = _pick_pair(
                g, lesson.length, rng, tries=2 * g.number_of_nodes(), real_choice=real_choice
            )
            if pair is not None:
                break
        else:
            raise UserError(f"could not draw a graph with a path of length {lesson.length}")
        start, destination = pair
    else:
        pair = _pick_pair(graph, lesson.length, rng, tries=_TRIES, real_choice=real_choice)
        if pair is None:
            raise UserError(
                f"the graph has no pair of nodes {lesson.length[0]}-{lesson.length[1]} "
                "steps apart" + (" with a wrong first move" if real_choice else "")
                + "; choose other path lengths"
            )
        relabelled = episode_graph(
            graph, rng, pair, max_triples=max_triples, connect=True, require_unique=False
        )
        g = relabelled.graph
        start, destination = relabelled.nodes[pair[0]], relabelled.nodes[pair[1]]
    return shortest_path_episode(
        g, start, destination, rng, lesson=lesson.index, seed=seed, planning_steps=planning_steps
    )


def choose_next(
    optimal_indices: Collection[int], network_choice: int, beta: float, rng: random.Random
) -> int:
    """DAgger mixing: with probability ``beta`` an optimal candidate (uniformly among
    ``optimal_indices``), else ``network_choice``; the network's choice also when no
    candidate is optimal."""
    if optimal_indices and rng.random() < beta:
        return rng.choice(sorted(optimal_indices))
    return network_choice


def candidate_log_probs(
    logits: Tensor, cand_digits: Tensor, cand_mask: Tensor, *, renormalise: bool = True
) -> Tensor:
    """Log-probabilities of the candidate triples, renormalised over the valid ones.

    A candidate's score is the sum of its nine digits' log-probabilities under the
    output's softmaxes; a log-softmax over the valid candidates renormalises. With
    ``renormalise`` False the scores are the triples' own log-probabilities under
    the nine softmaxes (the ``triple`` move loss, a lever: every digit of the
    optimal triple is a target, as in traversal, not only those that tell the
    candidates apart); the ranking of the candidates is the same.

    Args:
        logits: (B, 90) network output y at one answer step.
        cand_digits: (B, C, 9) digit classes of the candidate triples.
        cand_mask: (B, C) True for real candidates (False on padding).

    Returns:
        (B, C): log p, -inf on invalid candidates; a row with no valid candidate is
        all -inf.
    """
    logp = digit_log_probs(logits)  # (B, 9, 10)
    b, c, _ = cand_digits.shape
    index = cand_digits.permute(0, 2, 1)  # (B, 9, C)
    scores = logp.gather(-1, index).sum(dim=1)  # (B, C)
    scores = scores.masked_fill(~cand_mask, float("-inf"))
    if not renormalise:
        return scores
    norm = torch.logsumexp(scores, dim=-1, keepdim=True)
    norm = torch.where(cand_mask.any(-1, keepdim=True), norm, torch.zeros_like(norm))
    return scores - norm


def optimal_nll(cand_log_probs: Tensor, optimal_mask: Tensor) -> Tensor:
    """The DAgger loss ``-log Σ_{i optimal} p_i`` per row.

    Args:
        cand_log_probs: (B, C) from :func:`candidate_log_probs`.
        optimal_mask: (B, C) True on optimal candidates.

    Returns:
        (B,) loss; 0 where no candidate is optimal (mask those rows out).
    """
    has = optimal_mask.any(-1)
    masked = cand_log_probs.masked_fill(~optimal_mask, float("-inf"))
    loss = -torch.logsumexp(masked, dim=-1)
    return torch.where(has, loss, torch.zeros_like(loss))


class Blocks(NamedTuple):
    """Loss-only blocks that follow a shortest-path answer in training.

    Attributes:
        inputs: (S, 92) the blocks' steps, in order.
        answers: the indices (into the S steps) of the scored steps, one per block.
        digits: per block, (C, 9) the candidate triples its answer is scored on.
        targets: per block, (C,) True on the right candidates.
    """

    inputs: Tensor
    answers: list[int]
    digits: list[Tensor]
    targets: list[Tensor]


def predecessor_recall(episode: ShortestPathEpisode, blocks: int, rng: random.Random) -> Blocks:
    """Recall blocks of the auxiliary recall loss for shortest path, asked backwards:
    the backward search of a plan looks up the triples that lead into a node.

    Each block is a query ``(_, _, d)`` with flag 0 on, then a blank step with flags
    0 and 1 on whose output is scored on all the description's triples and
    renormalised over them (:func:`candidate_log_probs`); its target is every
    triple ``(s, e, d)`` that ends in ``d`` (the loss is :func:`optimal_nll`). The
    nodes ``d`` are drawn uniformly with ``rng`` among those with an incoming
    triple, distinct while there are enough.
    """
    triples = graph_triples(episode.graph)
    ends = sorted({v for _, _, v in triples})
    chosen: list[int] = []
    while ends and len(chosen) < blocks:
        chosen += rng.sample(ends, min(len(ends), blocks - len(chosen)))
    b = EpisodeBuilder()
    digits = torch.stack([triple_digits(t) for t in triples]) if triples else None
    answers, targets = [], []
    for d in chosen:
        b.add((None, None, d), phase=True)
        answers.append(len(b))
        b.add(phase=True, answer=True)
        targets.append(torch.tensor([t[2] == d for t in triples], dtype=torch.bool))
    return Blocks(_inputs(b), answers, [digits] * len(chosen), targets)


def first_move_queries(
    episode: ShortestPathEpisode,
    blocks: int,
    rng: random.Random,
    planning_steps: int = PLANNING_STEPS,
) -> Blocks:
    """Further queries on the episode's graph, scored on their first move only: the
    move where a plan shows (the last move only has to name the destination).

    Each block is laid out as the episode's own query: ``(s, _, d)`` with flag 0 on,
    ``planning_steps`` blank steps (flag 0 on the first), then the first answer
    step (a blank triple, flags 0 and 1 on), scored on the triples leaving ``s``;
    its targets are those that begin a shortest path to ``d``. The pairs are drawn
    with ``rng`` as the episode's own (:func:`_pick_pair`), at a distance from 2 to
    the episode's shortest length (1 when the graph has no longer route).
    """
    b = EpisodeBuilder()
    answers, digits, targets = [], [], []
    reverse = episode.graph.reverse(copy=False)
    longest = max(2, episode.shortest_length)
    for _ in range(blocks):
        pair = _pick_pair(episode.graph, (2, longest), rng, tries=20) or _pick_pair(
            episode.graph, (1, 1), rng, tries=20)
        if pair is None:
            break
        start, destination = pair
        distance = nx.single_source_shortest_path_length(reverse, destination)
        triples, cand = episode.candidates(start)
        b.add((start, None, destination), phase=True)
        b.plan(planning_steps)
        answers.append(len(b))
        b.add(phase=True, answer=True)
        digits.append(cand)
        targets.append(torch.tensor(
            [distance.get(v) == distance[start] - 1 for _, _, v in triples], dtype=torch.bool))
    return Blocks(_inputs(b), answers, digits, targets)


def backward_plan(episode: ShortestPathEpisode) -> tuple[Tensor, list[Tensor]]:
    """Targets of the plan loss (a lever): a shortest path named during planning,
    from the destination backwards, as a backward search finds it.

    Returns the description's triples as digits (C, 9) and, for each planning step
    k = 1 … L (L the shortest length), a (C,) mask True on the triples that are
    the k-th last triple of some shortest path: ``(u, e, v)`` with ``u`` at
    L − k edges from the source and ``v`` at k − 1 edges from the destination
    (k = 1: the triples into the destination that end a shortest path).
    """
    triples = graph_triples(episode.graph)
    digits = (torch.stack([triple_digits(t) for t in triples]) if triples
              else torch.zeros(0, N_DIGITS, dtype=torch.long))
    from_start = nx.single_source_shortest_path_length(episode.graph, episode.start)
    length = episode.shortest_length
    targets = [
        torch.tensor([from_start.get(u) == length - k and episode.distance(v) == k - 1
                      for u, _, v in triples], dtype=torch.bool)
        for k in range(1, length + 1)
    ]
    return digits, targets


def _inputs(builder: EpisodeBuilder) -> Tensor:
    """The (S, 92) inputs of a builder's steps (S may be 0)."""
    return builder.build({}).inputs


class ShortestPathRollout:
    """The interactive answer of a batch of shortest-path episodes.

    Usage (``model(x, state) -> (y, state)``)::

        roll = ShortestPathRollout(episodes, beta=0.8, rng=rng)   # beta=None: greedy
        y, state = model(roll.prefix.inputs)                       # (B, T, 92)
        while not roll.done:
            y, state = model(roll.inputs()[:, None], state)         # (B, 1, 92)
            digits, mask, optimal = roll.candidates()
            logp = candidate_log_probs(y[:, 0], digits, mask)       # (B, C)
            step_loss = optimal_nll(logp, optimal) * roll.trainable()
            roll.advance(logp.argmax(-1))
        accuracy = roll.correct().float().mean()

    The prefix is padded on the left so that all episodes reach the answer phase on
    the same step. A walk stops at the destination, at a node with no outgoing
    triple, or after ``max_steps``: by default ``shortest_length`` steps when
    greedy (``beta`` None), ``2 * shortest_length`` when training.
    """

    def __init__(
        self,
        episodes: Sequence[ShortestPathEpisode],
        *,
        beta: float | None = None,
        rng: random.Random | None = None,
        max_steps: Sequence[int] | None = None,
    ) -> None:
        if not episodes:
            raise ValueError("a rollout needs at least one episode")
        self.episodes = list(episodes)
        self.beta = beta
        self.rng = rng or random.Random(0)
        self.prefix: Batch = collate([e.prefix for e in self.episodes], pad_side="left")
        factor = 1 if beta is None else 2
        self.max_steps = (
            list(max_steps)
            if max_steps is not None
            else [factor * e.shortest_length for e in self.episodes]
        )
        self.nodes = [e.start for e in self.episodes]
        self.walks: list[list[LabelTriple]] = [[] for _ in self.episodes]
        self._step_cache: tuple[Tensor, Tensor, Tensor] | None = None

    @property
    def batch_size(self) -> int:
        return len(self.episodes)

    def _row_active(self, i: int) -> bool:
        e = self.episodes[i]
        node = self.nodes[i]
        return (
            node != e.destination
            and len(self.walks[i]) < self.max_steps[i]
            and bool(e.candidates(node)[0])
        )

    def active(self) -> Tensor:
        """(B,) True for the walks still going."""
        return torch.tensor([self._row_active(i) for i in range(self.batch_size)])

    @property
    def done(self) -> bool:
        return not any(self._row_active(i) for i in range(self.batch_size))

    def inputs(self) -> Tensor:
        """(B, 92) this answer step's inputs (zeros for finished walks)."""
        rows = []
        for i, e in enumerate(self.episodes):
            if not self._row_active(i):
                rows.append(torch.zeros_like(e.step_input(None)))
            else:
                rows.append(e.step_input(self.walks[i][-1] if self.walks[i] else None))
        return torch.stack(rows)

    def candidates(self) -> tuple[Tensor, Tensor, Tensor]:
        """This step's candidates of every row, padded.

        Returns:
            cand_digits (B, C, 9), cand_mask (B, C), optimal_mask (B, C); finished
            walks have no valid candidate.
        """
        if self._step_cache is not None:
            return self._step_cache
        lists = []
        for i, e in enumerate(self.episodes):
            if self._row_active(i):
                triples, digits = e.candidates(self.nodes[i])
                lists.append((digits, e.optimal(self.nodes[i])))
            else:
                lists.append((torch.zeros(0, N_DIGITS, dtype=torch.long), set()))
        c = max(1, max(d.shape[0] for d, _ in lists))
        cand_digits = torch.zeros(self.batch_size, c, N_DIGITS, dtype=torch.long)
        cand_mask = torch.zeros(self.batch_size, c, dtype=torch.bool)
        optimal_mask = torch.zeros(self.batch_size, c, dtype=torch.bool)
        for i, (digits, optimal) in enumerate(lists):
            cand_digits[i, : digits.shape[0]] = digits
            cand_mask[i, : digits.shape[0]] = True
            for j in optimal:
                optimal_mask[i, j] = True
        self._step_cache = (cand_digits, cand_mask, optimal_mask)
        return self._step_cache

    def trainable(self) -> Tensor:
        """(B,) float: 1 for rows whose step carries loss (active, with an optimal
        candidate), else 0."""
        _, _, optimal = self.candidates()
        return optimal.any(-1).float()

    def advance(self, network_choice: Tensor) -> Tensor:
        """Take one step: each active walk moves along the candidate picked by
        :func:`choose_next` (the network's choice when ``beta`` is None).

        Args:
            network_choice: (B,) index of the candidate the network prefers.

        Returns:
            (B,) index of the candidate taken, -1 for finished walks.
        """
        _, _, optimal = self.candidates()
        taken = torch.full((self.batch_size,), -1, dtype=torch.long)
        for i, e in enumerate(self.episodes):
            if not self._row_active(i):
                continue
            triples, _ = e.candidates(self.nodes[i])
            choice = int(network_choice[i])
            if self.beta is not None:
                opt = set(torch.nonzero(optimal[i]).flatten().tolist())
                choice = choose_next(opt, choice, self.beta, self.rng)
            triple = triples[choice]
            self.walks[i].append(triple)
            self.nodes[i] = triple[2]
            taken[i] = choice
        self._step_cache = None
        return taken

    def correct(self, slack: int = 0) -> Tensor:
        """(B,) True where the walk reached the destination in exactly
        ``shortest_length`` steps (``slack`` > 0: at most that many steps more)."""
        return torch.tensor(
            [e.walk_correct(w, slack) for e, w in zip(self.episodes, self.walks, strict=True)]
        )
