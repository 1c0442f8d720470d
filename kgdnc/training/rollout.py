"""The interactive shortest-path answer, batched over episodes.

The prefix (description, query, 10 planning steps; padded on the left so that
every episode reaches the answer on the same step) runs through the network in
one call. Then, step by step: the input is the previously chosen triple (flag 1
on), the output's digit distributions are scored on the triples leaving the
current node and renormalised over them, the loss is ``-log Σ p`` over the
candidates that begin a shortest path, and the next move is an optimal
candidate with probability β (DAgger, training) or the network's greedy choice
(evaluation). Finished walks are padded (zero input, no loss).

In training, loss-only blocks may follow the answer (:func:`block_loss`), their
loss added to the episode's, never scored: ``aux_recall`` backward look-ups
``(_, _, d)`` (:func:`~kgdnc.tasks.shortest_path.predecessor_recall`), then
``aux_queries`` further queries scored on their first move
(:func:`~kgdnc.tasks.shortest_path.first_move_queries`). With ``plan_targets``
the planning steps' own outputs carry loss too (:func:`plan_loss`).

Metrics: an episode is right when the greedy walk reaches the destination in
exactly the shortest path's number of steps (with ``slack`` 1, the Methods'
rule: at most one step more; the exact verdict is returned beside it); a step
is right when the network's own choice begins a shortest path.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import torch
from torch import Tensor, nn

from kgdnc.tasks.codec import N_DIGITS
from kgdnc.tasks.shortest_path import (
    PLANNING_STEPS,
    Blocks,
    ShortestPathEpisode,
    ShortestPathRollout,
    backward_plan,
    candidate_log_probs,
    first_move_queries,
    optimal_nll,
    predecessor_recall,
)
from kgdnc.training.losses import Scores, StepResult
from kgdnc.training.presets import TrainConfig

__all__ = ["Played", "block_loss", "plan_loss", "play", "rollout"]

Forward = Callable[[Tensor, Any], tuple[Tensor, Any]]  # (x (B, T, 92), state) -> (y, state)


class Played(NamedTuple):
    """What :func:`play` did, S the answer steps played.

    Attributes:
        losses: (B,) summed step losses ``-log Σ_{i optimal} p_i``.
        right: (B, S) the network's own choice began a shortest path.
        answered: (B, S) steps that carried a loss (an optimal candidate existed).
        state: the network's state after the last step.
        prefix: (B, T, 92) the outputs of the prefix steps.
    """

    losses: Tensor
    right: Tensor
    answered: Tensor
    state: Any
    prefix: Tensor | None = None


def play(
    roll: ShortestPathRollout,
    forward: Forward,
    state: Any,
    device: Any = "cpu",
    *,
    score: bool = True,
    move_loss: str = "candidates",
) -> Played:
    """The interactive answer of ``roll``: the prefix in one call, then one step at a
    time, each move the network's greedy choice among the candidates (mixed with
    the planner's by ``roll``'s β when training). The network runs no step once
    every walk has ended: an ended walk takes no more moves.

    Args:
        roll: the batch's rollout (walks advance in place: ``roll.walks``).
        forward: the network's ``(x, state) -> (y, state)`` (or a tracing wrapper).
        state: the initial state, memory sized for the whole episode.
        device: where the network runs.
        score: also compute the losses and step scores; False (answering, which
            needs only the walks): the same moves, ``losses`` zero and ``right``,
            ``answered`` empty (B, 0).
        move_loss: ``candidates`` (the paper's: ``-log Σ p`` over the optimal
            candidates, renormalised over the candidates) or ``triple`` (the
            same sum of the optimal triples' own probabilities under the nine
            digit softmaxes, not renormalised: a lever).
    """
    b = roll.batch_size
    prefix, state = forward(roll.prefix.inputs.to(device), state)
    losses = torch.zeros(b, device=device)
    step_right: list[Tensor] = []
    step_mask: list[Tensor] = []
    while not roll.done:
        y, state = forward(roll.inputs().to(device)[:, None], state)  # (B, 1, 92)
        digits, mask, optimal = (tensor.to(device) for tensor in roll.candidates())
        logp = candidate_log_probs(y[:, 0], digits, mask)  # (B, C)
        if not score:
            roll.advance(logp.argmax(-1).cpu())
            continue
        trainable = optimal.any(-1)
        scored = logp if move_loss == "candidates" else candidate_log_probs(
            y[:, 0], digits, mask, renormalise=False)
        losses = losses + optimal_nll(scored, optimal) * trainable.to(losses.dtype)
        choice = logp.detach().argmax(-1)
        picked_optimal = optimal.gather(1, choice[:, None]).squeeze(1)
        step_right.append((picked_optimal & trainable).cpu())
        step_mask.append(trainable.cpu())
        roll.advance(choice.cpu())
    if step_right:
        return Played(losses, torch.stack(step_right, 1), torch.stack(step_mask, 1), state,
                      prefix)
    none = torch.zeros(b, 0, dtype=torch.bool)
    return Played(losses, none, none, state, prefix)


def plan_loss(
    prefix: Tensor, episodes: list[ShortestPathEpisode], planning_steps: int,
    device: Any = "cpu", move_loss: str = "candidates",
) -> Tensor:
    """The plan loss (a lever): planning step k of each episode is scored on the
    description's triples, its targets the k-th last triples of a shortest path
    (:func:`~kgdnc.tasks.shortest_path.backward_plan`), for k up to the episode's
    shortest length (and the planning steps); loss only, never accuracy.

    Args:
        prefix: (B, T, 92) the prefix outputs; the prefixes are padded on the left,
            so the last ``planning_steps`` steps are every episode's planning.
        move_loss: as in :func:`play`.

    Returns:
        (B,) the summed ``-log Σ p`` over each episode's scored planning steps.
    """
    losses = torch.zeros(len(episodes), device=device)
    if planning_steps < 1:
        return losses
    plans = [backward_plan(e) for e in episodes]
    c = max(1, max(digits.shape[0] for digits, _ in plans))
    digits = torch.zeros(len(episodes), c, N_DIGITS, dtype=torch.long)
    mask = torch.zeros(len(episodes), c, dtype=torch.bool)
    for i, (d, _) in enumerate(plans):
        digits[i, : d.shape[0]], mask[i, : d.shape[0]] = d, True
    digits, mask = digits.to(device), mask.to(device)
    first = prefix.shape[1] - planning_steps
    for k in range(1, min(planning_steps, max(len(t) for _, t in plans)) + 1):
        targets = torch.zeros(len(episodes), c, dtype=torch.bool)
        for i, (_, t) in enumerate(plans):
            if k <= len(t):
                targets[i, : t[k - 1].shape[0]] = t[k - 1]
        logp = candidate_log_probs(prefix[:, first + k - 1], digits, mask,
                                   renormalise=move_loss == "candidates")
        losses = losses + optimal_nll(logp, targets.to(device))
    return losses


def block_loss(
    drawn: list[Blocks], forward: Forward, state: Any, device: Any = "cpu",
    move_loss: str = "candidates",
) -> tuple[Tensor, Any]:
    """The loss of each episode's loss-only blocks (:class:`Blocks`, the same
    layout in every episode of the batch), run from ``state`` (after the answer).

    Args:
        move_loss: as in :func:`play`: ``candidates`` renormalises each block's
            scores over its candidates, ``triple`` scores the triples' own
            probabilities under the nine digit softmaxes.

    Returns:
        (B,) the summed ``-log Σ p`` of each block's right candidates; the state
        after the blocks.
    """
    if not drawn[0].answers:
        return torch.zeros(len(drawn), device=device), state
    y, state = forward(torch.stack([blocks.inputs for blocks in drawn]).to(device), state)
    losses = torch.zeros(len(drawn), device=device)
    for k, step in enumerate(drawn[0].answers):
        c = max(blocks.digits[k].shape[0] for blocks in drawn)
        digits = torch.zeros(len(drawn), c, N_DIGITS, dtype=torch.long)
        mask = torch.zeros(len(drawn), c, dtype=torch.bool)
        targets = torch.zeros(len(drawn), c, dtype=torch.bool)
        for i, blocks in enumerate(drawn):
            n = blocks.digits[k].shape[0]
            digits[i, :n], mask[i, :n], targets[i, :n] = blocks.digits[k], True, blocks.targets[k]
        logp = candidate_log_probs(y[:, step], digits.to(device), mask.to(device),
                                   renormalise=move_loss == "candidates")
        losses = losses + optimal_nll(logp, targets.to(device))
    return losses, state


class Player(Protocol):
    """What :func:`rollout` needs of the training module."""

    network: nn.Module
    config: TrainConfig

    @property
    def device(self) -> torch.device: ...

    def memory_size_for(self, steps: int) -> int: ...


def rollout(
    module: Player,
    episodes: list[ShortestPathEpisode],
    explore: bool,
    rng: random.Random,
    slack: int = 0,
) -> StepResult:
    """Play ``episodes`` through ``module.network`` (:func:`play`) and score them.

    Args:
        module: supplies the network, its device, the memory size and DAgger's β.
        episodes: the batch's episodes.
        explore: DAgger mixing (training) instead of greedy moves.
        rng: source of DAgger's coin flips.
        slack: greedy walks may take this many steps more than the shortest
            path and still count as right (``exact`` keeps the strict verdict).

    Returns:
        loss (mean over episodes of the summed step losses) and greedy scores;
        ``step_correct`` is (B, S) over the S answer steps played.
    """
    config = module.config
    beta = config.dagger_beta if explore else None
    max_steps = None if explore else [e.shortest_length + slack for e in episodes]
    recall, queries = (config.aux_recall, config.aux_queries) if explore else (0, 0)
    planning = PLANNING_STEPS if config.planning_steps is None else config.planning_steps
    roll = ShortestPathRollout(episodes, beta=beta, rng=rng, max_steps=max_steps)
    steps = (int(roll.prefix.inputs.shape[1]) + max(roll.max_steps) + 2 * recall
             + (planning + 2) * queries)
    state = module.network.initial_state(roll.batch_size, module.memory_size_for(steps))
    played = play(roll, module.network, state, module.device, move_loss=config.move_loss)
    losses, state = played.losses, played.state
    if explore and config.plan_targets:
        losses = losses + plan_loss(played.prefix, episodes, planning, module.device,
                                    move_loss=config.move_loss)
    for drawn in (
        [predecessor_recall(e, recall, rng) for e in episodes] if recall else None,
        [first_move_queries(e, queries, rng, planning) for e in episodes] if queries else None,
    ):
        if drawn is not None:
            loss, state = block_loss(drawn, module.network, state, module.device,
                                     move_loss=config.move_loss)
            losses = losses + loss
    right, answered = played.right, played.answered
    exact = roll.correct()
    if not explore:
        # greedy: the walk itself is the answer
        episode_right = roll.correct(slack)
    else:
        # with DAgger the walk mixes in the planner's moves: right when every
        # choice of the network's own began a shortest path
        episode_right = ~(answered & ~right).any(-1)
    scores = Scores(right, episode_right, answered.sum(-1))
    lengths = torch.tensor([e.shortest_length for e in episodes])
    return StepResult(losses.mean(), scores, lengths,
                      exact=exact if not explore else None)
