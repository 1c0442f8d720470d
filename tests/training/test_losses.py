import torch

from kgdnc.training.losses import episode_losses, greedy_scores, sequence_loss


def _onehot_logits(digits: torch.Tensor, scale: float = 10.0) -> torch.Tensor:
    """(B, T, 9) digit classes -> (B, T, 90) logits peaked on them."""
    return torch.nn.functional.one_hot(digits, 10).float().mul(scale).flatten(-2)


def test_loss_counts_answer_steps_only():
    g = torch.Generator().manual_seed(0)
    y = torch.randn(2, 5, 90, generator=g)
    targets = torch.randint(0, 10, (2, 5, 9), generator=g)
    mask = torch.tensor([[0, 0, 0, 1, 1], [0, 0, 1, 1, 0]], dtype=torch.bool)
    base = episode_losses(y, targets, mask)
    y2 = y.clone()
    y2[~mask] = torch.randn(int((~mask).sum()), 90, generator=g) * 100
    targets2 = targets.clone()
    targets2[~mask] = 9 - targets2[~mask]
    assert torch.allclose(episode_losses(y2, targets2, mask), base)


def test_loss_is_digit_cross_entropy_summed_then_averaged_over_episodes():
    y = torch.zeros(2, 3, 90)  # uniform digits: ln(10) per digit
    targets = torch.zeros(2, 3, 9, dtype=torch.long)
    mask = torch.tensor([[0, 1, 1], [0, 0, 1]], dtype=torch.bool)
    ln10 = torch.log(torch.tensor(10.0))
    assert torch.allclose(episode_losses(y, targets, mask), torch.stack([18 * ln10, 9 * ln10]))
    assert torch.allclose(sequence_loss(y, targets, mask), 13.5 * ln10)


def test_greedy_scores_need_every_digit_and_every_step():
    targets = torch.randint(0, 10, (3, 4, 9), generator=torch.Generator().manual_seed(1))
    mask = torch.tensor([[0, 1, 1, 1]] * 3, dtype=torch.bool)
    y = _onehot_logits(targets)
    y[1, 2] = _onehot_logits((targets[1, 2] + 1) % 10)  # one wrong step
    y[2, 3, :10] = _onehot_logits(((targets[2, 3, :1] + 1) % 10)[None])[0, :10]  # one wrong digit
    y[0, 0] = 0.0  # a wrong non-answer step does not count
    scores = greedy_scores(y, targets, mask)
    assert scores.episode_correct.tolist() == [True, False, False]
    assert scores.answer_steps.tolist() == [3, 3, 3]
    assert scores.step_correct.sum().item() == 7
    assert scores.step_correct.shape == (3, 4)
