"""The interactive shortest-path answer, batched over episodes.

The prefix (description, query, 10 planning steps; padded on the left so that
every episode reaches the answer on the same step) runs through the network in
one call. Then, step by step: the input is the previously chosen triple (flag 1
on), the output's digit distributions are scored on the triples leaving the
current node and renormalised over them, the loss is ``-log Σ p`` over the
candidates that begin a shortest path, and the next move is an optimal
candidate with probability β (DAgger, training) or the network's greedy choice
(evaluation). Finished walks are padded (zero input, no loss).

Metrics: an episode is right when the greedy walk reaches the destination in
exactly the shortest path's number of steps (with ``slack`` 1, the Methods'
rule: at most one step more; the exact verdict is returned beside it); a step
is right when the network's own choice begins a shortest path.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import torch

from kgdnc.training.losses import Scores

if TYPE_CHECKING:
    from kgdnc.training.module import GraphTaskModule, StepResult


def rollout(
    module: GraphTaskModule,
    episodes: list[Any],
    explore: bool,
    rng: random.Random,
    slack: int = 0,
) -> StepResult:
    """Play ``episodes`` (``ShortestPathEpisode``) through ``module.network``.

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
    from kgdnc.tasks.shortest_path import ShortestPathRollout, candidate_log_probs, optimal_nll
    from kgdnc.training.module import StepResult

    beta = module.config.dagger_beta if explore else None
    max_steps = None if explore else [e.shortest_length + slack for e in episodes]
    roll = ShortestPathRollout(episodes, beta=beta, rng=rng, max_steps=max_steps)
    device = module.device
    prefix = roll.prefix.inputs.to(device)
    b, t = int(prefix.shape[0]), int(prefix.shape[1])
    memory = module.memory_size_for(t + max(roll.max_steps))
    state = module.network.initial_state(b, memory)
    _, state = module.network(prefix, state)
    losses = torch.zeros(b, device=device)
    step_right: list[torch.Tensor] = []
    step_mask: list[torch.Tensor] = []
    while not roll.done:
        x = roll.inputs().to(device)[:, None]  # (B, 1, 92)
        y, state = module.network(x, state)
        digits, mask, optimal = (tensor.to(device) for tensor in roll.candidates())
        logp = candidate_log_probs(y[:, 0], digits, mask)  # (B, C)
        trainable = optimal.any(-1)
        losses = losses + optimal_nll(logp, optimal) * trainable.to(losses.dtype)
        choice = logp.detach().argmax(-1)
        picked_optimal = optimal.gather(1, choice[:, None]).squeeze(1)
        step_right.append((picked_optimal & trainable).cpu())
        step_mask.append(trainable.cpu())
        roll.advance(choice.cpu())
    exact = roll.correct()
    if step_right:
        right = torch.stack(step_right, dim=1)
        answered = torch.stack(step_mask, dim=1)
    else:
        right = torch.zeros(b, 0, dtype=torch.bool)
        answered = torch.zeros(b, 0, dtype=torch.bool)
    if not explore:
        # greedy: the walk itself is the answer
        episode_right = roll.correct(slack)
    else:
        # with DAgger the walk mixes in the planner's moves: right when every
        # choice of the network's own began a shortest path
        episode_right = ~(answered & ~right).any(-1)
    scores = Scores(right, episode_right, answered.sum(-1))
    lengths = torch.tensor([e.shortest_length for e in episodes])
    return StepResult(losses.mean(), scores, lengths, exact=exact if not explore else None)
