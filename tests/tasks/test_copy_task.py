import pytest
import torch

from kgdnc.errors import UserError
from kgdnc.tasks.copy import bits_correct, bits_loss, make_episode
from kgdnc.tasks.curriculum import COPY_ALLOCATION_LESSON, COPY_LESSONS


def test_copy_episode_layout():
    ep = make_episode(COPY_LESSONS[-1], 3)
    length = ep.meta["length"]
    assert 1 <= length <= 100 and ep.inputs.shape == (2 * length, 8)
    assert ep.targets.shape == (2 * length, 6)
    assert ep.mask.tolist() == [False] * length + [True] * length
    assert torch.equal(ep.targets[ep.mask], ep.inputs[:length, :6].long())
    assert ep.inputs[:, 7].tolist() == ep.mask.float().tolist()
    assert ep.inputs[0, 6] == 1 and ep.inputs[length, 6] == 1
    assert ep.inputs[ep.mask][:, :6].sum() == 0


def test_allocation_variant_has_ten_sequences_of_five():
    ep = make_episode(COPY_ALLOCATION_LESSON, 0)
    assert ep.meta["lengths"] == [5] * 10 and len(ep) == 100 and ep.mask.sum() == 50
    assert ep.mask.view(10, 10)[:, 5:].all() and not ep.mask.view(10, 10)[:, :5].any()


def test_bits_loss_and_correct():
    targets = torch.tensor([[1, 0, 1, 0, 1, 1]])
    good = (targets.float() * 2 - 1) * 10
    assert bits_correct(good, targets).all() and bits_loss(good, targets) < 1e-3
    assert not bits_correct(-good, targets).any()


def test_copy_takes_no_graph():
    with pytest.raises(UserError):
        make_episode(COPY_LESSONS[0], 0, graph=object())
