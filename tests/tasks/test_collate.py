import torch

from kgdnc.tasks.curriculum import TRAVERSAL_LESSONS
from kgdnc.tasks.episode import collate
from kgdnc.tasks.traversal import make_episode


def test_collate_pads_with_mask_false():
    eps = [make_episode(TRAVERSAL_LESSONS[s % 4], s) for s in range(5)]
    b = collate(eps)
    t = max(len(e) for e in eps)
    assert b.inputs.shape == (5, t, 92) and b.targets.shape == (5, t, 9)
    assert b.mask.shape == (5, t) and b.lengths.tolist() == [len(e) for e in eps]
    for i, e in enumerate(eps):
        n = len(e)
        assert torch.equal(b.inputs[i, :n], e.inputs) and torch.equal(b.mask[i, :n], e.mask)
        assert not b.mask[i, n:].any() and (b.inputs[i, n:] == 0).all()
    assert b.mask.sum() == sum(int(e.mask.sum()) for e in eps)


def test_left_padding_aligns_the_ends():
    eps = [make_episode(TRAVERSAL_LESSONS[s % 4], s) for s in range(3)]
    b = collate(eps, pad_side="left")
    t = b.inputs.shape[1]
    for i, e in enumerate(eps):
        assert torch.equal(b.inputs[i, t - len(e) :], e.inputs)
        assert not b.mask[i, : t - len(e)].any()
