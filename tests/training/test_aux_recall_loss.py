"""The auxiliary recall loss: recall steps carry loss, never scores."""

import random

import pytest
import torch

from kgdnc.errors import UserError
from kgdnc.tasks import get_task
from kgdnc.tasks.episode import collate
from kgdnc.training.presets import make_preset

TINY = dict(hidden_size=8, memory_size=8, word_size=4, read_heads=1)


def _module(task="traversal", **overrides):
    from kgdnc.training.module import GraphTaskModule

    torch.manual_seed(0)
    return GraphTaskModule(make_preset("cpu", task, **TINY, **overrides).to_dict())


def _batch(task="traversal", blocks=2):
    spec = get_task(task)
    episodes = [spec.make_episode(spec.lessons[0], random.Random(i), aux_recall=blocks)
                for i in range(3)]
    return collate(episodes)


@pytest.mark.parametrize("task", ["traversal", "inference"])
def test_recall_steps_change_the_loss_and_not_the_scores(task):
    module = _module(task)
    batch = _batch(task)
    assert batch.aux.any()
    with torch.no_grad():
        full = module.run_batch(batch, explore=False)
        # the same batch with no recall steps marked: less loss, the same scores
        bare = module.run_batch(batch._replace(aux=torch.zeros_like(batch.aux)), explore=False)
        # other targets on the recall steps only: another loss, the same scores
        targets = batch.targets.clone()
        targets[batch.aux] = (targets[batch.aux] + 1) % 10
        moved = module.run_batch(batch._replace(targets=targets), explore=False)
    assert full.loss > bare.loss
    assert not torch.isclose(full.loss, moved.loss)
    for other in (bare, moved):
        assert torch.equal(full.scores.step_correct, other.scores.step_correct)
        assert torch.equal(full.scores.episode_correct, other.scores.episode_correct)
        assert torch.equal(full.scores.answer_steps, other.scores.answer_steps)
    # answer steps are counted from the mask alone
    assert full.scores.answer_steps.tolist() == batch.mask.sum(-1).tolist()
    # the task's own loss counts recall steps as the module's does
    y, _ = module(batch.inputs)
    assert torch.isclose(get_task(task).loss(y, batch), full.loss, rtol=1e-4)


def test_recall_steps_alone_give_gradients():
    module = _module()
    batch = _batch()
    no_answers = batch._replace(mask=torch.zeros_like(batch.mask))
    result = module.run_batch(no_answers, explore=False)
    assert result.loss > 0
    result.loss.backward()
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)
    # nothing to score: no answer steps, every episode vacuously right
    assert int(result.scores.answer_steps.sum()) == 0


def test_episode_options_give_recall_blocks_to_training_episodes_only():
    from kgdnc.training.data import episode_options

    for task in ("traversal", "inference"):
        config = make_preset("cpu", task, aux_recall=3)
        assert episode_options(config)["aux_recall"] == 3
        assert "aux_recall" not in episode_options(config, training=False)
        assert "aux_recall" not in episode_options(make_preset("cpu", task))


def test_training_stream_gets_recall_blocks_and_fresh_checks_do_not():
    from kgdnc.training.data import EpisodeDataModule
    from kgdnc.training.run import make_curriculum

    config = make_preset("cpu", "inference", aux_recall=2, check_mode="fresh")
    data = EpisodeDataModule(config, make_curriculum(config))
    train = data.train_dataloader().dataset
    assert train.options == {"aux_recall": 2}
    assert int(train.episode(0).aux.sum()) == 2
    checks = data.val_dataloader().dataset
    assert "aux_recall" not in checks.options
    batch = next(iter(checks))
    assert not batch.aux.any() and batch.mask.any()


@pytest.mark.parametrize(
    "task, value, message",
    [
        ("shortest-path", 1, "not shortest-path \\(its answer is an interactive rollout\\)"),
        ("copy", 2, "not copy"),
        ("traversal", -1, "aux_recall must be at least 0"),
    ],
)
def test_aux_recall_is_refused_where_it_has_no_meaning(task, value, message):
    with pytest.raises(UserError, match=message):
        make_preset("cpu", task, aux_recall=value)
    assert make_preset("cpu", task).aux_recall == 0  # off by default everywhere


def test_shortest_path_resume_cannot_turn_it_on():
    import dataclasses

    config = make_preset("cpu", "shortest-path")
    with pytest.raises(UserError, match="--aux-recall"):
        dataclasses.replace(config, aux_recall=2)
