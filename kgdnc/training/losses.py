"""Loss and greedy scoring on answer steps, for the paper's digit outputs.

The network's output y_t (90 wide) is read as nine 10-way softmaxes (three
digits for each of source, edge, destination). The loss is the cross-entropy
summed over the nine digits and over the answer steps of an episode, averaged
over episodes; nothing outside the answer phase counts (the training module
passes answer and recall steps, ``Batch.loss_mask()``, as the loss's mask, and
answer steps alone to the scores). A step is right when every digit's mode
equals the target; an episode is right when all its answer steps are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from kgdnc.tasks.codec import digit_loss, digits_correct


class Scores(NamedTuple):
    """Greedy scores of a batch.

    Attributes:
        step_correct: (B, T) bool, True on answer steps answered right.
        episode_correct: (B,) bool, every answer step of the episode right.
        answer_steps: (B,) int, number of answer steps per episode.
    """

    step_correct: Tensor
    episode_correct: Tensor
    answer_steps: Tensor


class StepResult:
    """Loss and greedy scores of one batch (plain holder, not a tensor container).

    ``exact`` (B,): shortest path's strict verdict (a walk of exactly the
    shortest length) when ``scores.episode_correct`` follows a looser pass rule.
    """

    def __init__(
        self,
        loss: Tensor,
        scores: Scores,
        lengths: Tensor | None = None,
        exact: Tensor | None = None,
    ) -> None:
        self.loss = loss
        self.scores = scores
        self.lengths = lengths
        self.exact = exact


StepLoss = Callable[[Tensor, Tensor], Tensor]
StepCorrect = Callable[[Tensor, Tensor], Tensor]


def episode_losses(
    y: Tensor, targets: Tensor, mask: Tensor, step_loss: StepLoss = digit_loss
) -> Tensor:
    """Cross-entropy per episode, summed over the 9 digits of each answer step.

    Args:
        y: (B, T, 90) outputs.
        targets: (B, T, 9) int64 digit classes (any value off the answer steps).
        mask: (B, T) bool or 0/1, answer steps.
        step_loss: per-step loss (..., O), (..., K) -> (...); the digit loss by
            default, the copy task's bit loss for copy.

    Returns:
        (B,) summed cross-entropy of each episode's answer steps.
    """
    answer = mask.bool()
    safe = torch.where(answer.unsqueeze(-1), targets, torch.zeros_like(targets)).long()
    nll = step_loss(y.float(), safe)  # (B, T)
    return (nll * answer.to(nll.dtype)).sum(-1)


def sequence_loss(
    y: Tensor, targets: Tensor, mask: Tensor, step_loss: StepLoss = digit_loss
) -> Tensor:
    """Mean over episodes of :func:`episode_losses` (a scalar)."""
    return episode_losses(y, targets, mask, step_loss).mean()


def greedy_scores(
    y: Tensor, targets: Tensor, mask: Tensor, step_correct: StepCorrect = digits_correct
) -> Scores:
    """Score each digit's mode against the targets on the answer steps.

    Args:
        y: (B, T, 90) outputs.
        targets: (B, T, 9) digit classes.
        mask: (B, T) answer steps.
        step_correct: per-step greedy check; every digit's mode by default.
    """
    answer = mask.bool()
    step_right = step_correct(y, targets) & answer
    wrong = answer & ~step_right
    return Scores(step_right, ~wrong.any(-1), answer.sum(-1))
