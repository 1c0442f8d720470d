import json
import random

import pytest
import torch

from kgdnc.errors import UserError
from kgdnc.tasks.codec import FLAG_ANSWER
from kgdnc.training.checkpoint import checkpoint_meta, read_checkpoint
from kgdnc.training.losses import Scores
from kgdnc.training.presets import TrainConfig


@pytest.mark.parametrize(
    "task, model",
    [
        ("traversal", "dnc"),
        ("inference", "dnc"),
        ("shortest-path", "dnc"),
        ("copy", "dnc"),
        ("traversal", "lstm"),
        ("shortest-path", "lstm"),
    ],
)
def test_fast_dev_run_trains_each_task(tiny_run, task, model):
    result = tiny_run(task, model, fast_dev_run=2)
    assert result.steps == 2
    assert result.examples == 8
    assert result.last_checkpoint is None  # fast_dev_run writes nothing
    assert len(result.history) == 1  # the curriculum was checked
    assert 0.0 <= result.history[0]["accuracy"] <= 1.0


def test_resume_restores_step_lesson_and_examples(tiny_run, tmp_path, capsys):
    out = tmp_path / "run"
    # threshold 0: every check passes, so the lesson advances every 2 batches
    first = tiny_run(
        "traversal", out=out, max_steps=4,
        overrides=(("threshold", 0.0), ("check_mode", "fresh")),
    )
    assert (first.steps, first.lesson, first.examples) == (4, 3, 16)
    meta = checkpoint_meta(read_checkpoint(out / "last.ckpt"))
    assert meta["curriculum"]["position"] == 2
    assert meta["examples_seen"] == 16
    assert read_checkpoint(out / "last.ckpt")["global_step"] == 4
    # resumed checks draw new evaluation sets: the check counter is saved too
    assert read_checkpoint(out / "last.ckpt")["EpisodeDataModule"] == {"checks": 2}

    capsys.readouterr()
    second = tiny_run(out=out, resume=True, max_steps=6)
    assert (second.steps, second.lesson, second.examples) == (6, 4, 24)
    # the resumed invocation reports its own check only, not the last old one again
    assert [line.split("|")[0].strip() for line in capsys.readouterr().out.splitlines()
            if line.startswith("step")] == ["step       6"]
    # the resumed run's first check was on lesson 3, the lesson it stopped at
    assert [h["lesson"] for h in second.history] == [1, 2, 3]
    history = json.loads((out / "history.json").read_text())
    assert [h["step"] for h in history] == [2, 4, 6]
    assert (out / "best.ckpt").exists()
    assert list((out / "csv").glob("version_*/metrics.csv"))


def test_last_checkpoint_follows_every_check_even_without_progress(tiny_run, tmp_path):
    """A run stuck on a lesson still refreshes last.ckpt, so a stop loses little."""
    out = tmp_path / "stuck"
    # threshold above 1: no check ever passes, so best.ckpt stays at the first check
    tiny_run("traversal", out=out, max_steps=6, overrides=(("threshold", 1.01),))
    assert read_checkpoint(out / "best.ckpt")["global_step"] == 2
    assert read_checkpoint(out / "last.ckpt")["global_step"] == 6


def test_resume_and_new_run_guards(tiny_run, tmp_path):
    with pytest.raises(UserError, match="nothing to resume"):
        tiny_run(out=tmp_path / "none", resume=True)
    out = tmp_path / "run"
    tiny_run("traversal", out=out, max_steps=2)
    with pytest.raises(UserError, match="already holds a run"):
        tiny_run("traversal", out=out, max_steps=2)
    with pytest.raises(UserError, match="differs"):
        tiny_run("inference", out=out, resume=True)
    with pytest.raises(UserError, match="word_size cannot change when resuming"):
        tiny_run(out=out, resume=True, overrides=(("word_size", 16),))


def test_resume_may_lower_the_learning_rate(tiny_run, tmp_path):
    out = tmp_path / "run"
    tiny_run("traversal", out=out, max_steps=2)
    before = read_checkpoint(out / "last.ckpt")
    assert before["optimizer_states"][0]["param_groups"][0]["lr"] == pytest.approx(1e-3)
    tiny_run(out=out, resume=True, max_steps=4, overrides=(("lr", 2e-4),))
    after = read_checkpoint(out / "last.ckpt")
    assert after["global_step"] == 4
    assert after["optimizer_states"][0]["param_groups"][0]["lr"] == pytest.approx(2e-4)
    assert checkpoint_meta(after)["train_config"]["lr"] == pytest.approx(2e-4)
    # the optimiser's moments carried over: the resumed run continued, not restarted
    assert after["optimizer_states"][0]["state"][0]["step"] == 4


def test_resume_may_switch_to_sparse_links(tiny_run, tmp_path):
    """Sparse links hold no weights: a run may switch to them (for the long late
    lessons) and its network is rebuilt with them."""
    out = tmp_path / "run"
    tiny_run("traversal", out=out, max_steps=2)
    result = tiny_run(out=out, resume=True, max_steps=4, overrides=(("link_sparsity", 4),))
    assert result.steps == 4
    meta = checkpoint_meta(read_checkpoint(out / "last.ckpt"))
    assert meta["train_config"]["link_sparsity"] == 4
    assert meta["model_config"]["link_sparsity"] == 4


def test_resume_may_change_where_the_controller_is_reset(tiny_run, tmp_path):
    """The controller's reset holds no weights: a run may move it (``first`` for the
    look-up of lesson 1, ``every`` after) and its network is rebuilt with it."""
    out = tmp_path / "run"
    tiny_run("traversal", out=out, max_steps=2,
             overrides=(("answer_reset", "first"), ("answer_reset_from", 1)))
    result = tiny_run(out=out, resume=True, max_steps=4, overrides=(("answer_reset", "every"),))
    assert result.steps == 4
    meta = checkpoint_meta(read_checkpoint(out / "last.ckpt"))
    assert meta["train_config"]["answer_reset"] == "every"
    assert tuple(meta["model_config"]["reset_inputs"]) == (FLAG_ANSWER,)


def test_resume_may_change_the_planning_steps(tiny_run, tmp_path):
    """Planning steps are blank steps of the episode, no weights: a shortest-path run
    may lengthen them on resume, and its episodes then carry that many."""
    from kgdnc.training.data import episode_options
    from kgdnc.training.presets import TrainConfig

    out = tmp_path / "run"
    tiny_run("shortest-path", out=out, max_steps=2)
    result = tiny_run(out=out, resume=True, max_steps=4, overrides=(("planning_steps", 20),))
    assert result.steps == 4
    meta = checkpoint_meta(read_checkpoint(out / "last.ckpt"))
    config = TrainConfig.from_dict(meta["train_config"])
    assert config.planning_steps == 20
    assert episode_options(config)["planning_steps"] == 20


def test_aux_recall_is_saved_and_may_change_on_resume(tiny_run, tmp_path):
    """Recall blocks are steps of the training episodes, no weights: saved with the
    run, kept by a plain resume, changeable (here off) on resume."""
    from kgdnc.training.data import episode_options
    from kgdnc.training.presets import TrainConfig

    out = tmp_path / "run"
    tiny_run("traversal", out=out, max_steps=2, overrides=(("aux_recall", 2),))

    def saved() -> TrainConfig:
        return TrainConfig.from_dict(checkpoint_meta(read_checkpoint(out / "last.ckpt"))
                                     ["train_config"])

    assert saved().aux_recall == 2
    assert episode_options(saved()) == {"aux_recall": 2}
    assert tiny_run(out=out, resume=True, max_steps=3).steps == 3
    assert saved().aux_recall == 2
    assert tiny_run(out=out, resume=True, max_steps=4, overrides=(("aux_recall", 0),)).steps == 4
    assert saved().aux_recall == 0
    assert episode_options(saved()) == {}


def test_shortest_path_rollout_scores_and_gradients():
    from kgdnc.tasks import get_task
    from kgdnc.training.module import GraphTaskModule
    from kgdnc.training.presets import make_preset
    from kgdnc.training.rollout import rollout

    config = make_preset("cpu", "shortest-path", hidden_size=16, memory_size=16, word_size=8,
                         read_heads=2)
    module = GraphTaskModule(config.to_dict())
    task = get_task("shortest-path")
    episodes = [task.make_episode(task.lessons[3], random.Random(i)) for i in range(4)]
    greedy = rollout(module, episodes, explore=False, rng=random.Random(0))
    loose = rollout(module, episodes, explore=False, rng=random.Random(0), slack=1)
    # the one-longer rule accepts every exactly-shortest walk, and reports those apart
    assert (loose.scores.episode_correct >= loose.exact).all()
    assert torch.equal(loose.exact, greedy.scores.episode_correct)
    # greedy accuracy is the walks' own verdict; steps counted only where an optimal move exists
    assert greedy.scores.episode_correct.shape == (4,)
    assert (greedy.scores.answer_steps >= 1).all()
    assert greedy.lengths.tolist() == [e.shortest_length for e in episodes]
    trained = rollout(module, episodes, explore=True, rng=random.Random(0))
    trained.loss.backward()
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert torch.isfinite(trained.loss) and trained.loss > 0


def test_checks_are_counted_in_episodes_whatever_the_batch(tiny_run, tmp_path):
    # 8 episodes between checks: every 2 batches of 4, every 4 batches of 2
    four = tiny_run("traversal", out=tmp_path / "b4", max_steps=4)
    assert [h["examples"] for h in four.history] == [8, 16]
    two = tiny_run("traversal", out=tmp_path / "b2", max_steps=8, overrides=(("batch_size", 2),))
    assert [h["examples"] for h in two.history] == [8, 16]
    assert [h["step"] for h in two.history] == [4, 8]
    assert all(h["mode"] == "running" for h in two.history)


def test_resume_may_change_batch_size_and_checks_and_continues_the_stream(tiny_run, tmp_path):
    out = tmp_path / "run"
    tiny_run("traversal", out=out, max_steps=2)  # 8 episodes at batch 4
    second = tiny_run(
        out=out, resume=True, max_steps=4,
        overrides=(("batch_size", 8), ("check_every", 16), ("check_mode", "fresh")),
    )
    assert second.examples == 8 + 2 * 8  # two more batches of 8
    meta = checkpoint_meta(read_checkpoint(out / "last.ckpt"))
    config = meta["train_config"]
    assert (config["batch_size"], config["check_every"], config["check_mode"]) == (8, 16, "fresh")
    assert meta["curriculum"]["check_every"] == 16
    assert second.history[-1]["mode"] == "fresh"


def test_resumed_stream_starts_after_the_episodes_seen(tiny_run, tmp_path):
    """The data module's stream starts at the examples seen, not at step x batch."""
    from kgdnc.training.data import EpisodeDataModule
    from kgdnc.training.presets import make_preset
    from kgdnc.training.run import make_curriculum

    config = make_preset("cpu", "traversal", batch_size=8)
    data = EpisodeDataModule(config, make_curriculum(config))

    class FakeTrainer:
        global_rank, world_size, global_step = 0, 1, 3
        lightning_module = type("M", (), {"examples_seen": 12})()

    data.trainer = FakeTrainer()  # type: ignore[assignment]
    loader = data.train_dataloader()
    assert loader.dataset.start == 12


def test_running_check_counts_only_the_current_lessons_episodes():
    from kgdnc.tasks import get_task
    from kgdnc.tasks.episode import collate
    from kgdnc.training.module import GraphTaskModule
    from kgdnc.training.presets import make_preset

    config = make_preset("cpu", "traversal", hidden_size=8, memory_size=8, word_size=4,
                         read_heads=1)
    module = GraphTaskModule(config.to_dict())
    module.lesson = 1  # lesson 2 is being trained
    task = get_task("traversal")
    episodes = [task.make_episode(task.lessons[i % 2], random.Random(i)) for i in range(6)]
    batch = collate(episodes)
    assert batch.lessons.tolist() == [1, 2, 1, 2, 1, 2]
    correct = torch.tensor([True, True, False, False, True, True])
    steps = torch.zeros(6, batch.mask.shape[1], dtype=torch.bool)
    module._tally(batch, Scores(steps, correct, batch.mask.sum(-1)))
    assert module.running_episodes() == 6
    module.trainer = type("T", (), {"world_size": 1})()  # type: ignore[assignment]
    result = module.take_running_check()
    # lesson-2 episodes are 1, 3, 5: right, wrong, right
    assert result["episodes"] == 3 and result["accuracy"] == pytest.approx(2 / 3)
    assert module.running_episodes() == 0


def test_inference_checks_count_each_query_as_a_question():
    """Three queries an episode: two of three right in every episode is 67 % of the
    answers but no episode wholly right."""
    from kgdnc.tasks import get_task
    from kgdnc.tasks.episode import collate
    from kgdnc.training.module import GraphTaskModule
    from kgdnc.training.presets import make_preset

    config = make_preset("cpu", "inference", hidden_size=8, memory_size=8, word_size=4,
                         read_heads=1)
    module = GraphTaskModule(config.to_dict())
    task = get_task("inference")
    episodes = [task.make_episode(task.lessons[0], random.Random(i)) for i in range(4)]
    batch = collate(episodes)
    steps = batch.mask.clone()
    for row in steps:  # the first answer of each episode is wrong
        row[int(row.nonzero()[0])] = False
    assert batch.mask.sum(-1).tolist() == [3, 3, 3, 3]
    module._tally(batch, Scores(steps, torch.zeros(4, dtype=torch.bool), batch.mask.sum(-1)))
    module.trainer = type("T", (), {"world_size": 1})()  # type: ignore[assignment]
    result = module.take_running_check()
    assert result["accuracy"] == pytest.approx(2 / 3)
    assert result["episode_accuracy"] == 0.0 and result["episodes"] == 4


def test_until_lesson_stops_after_that_lesson_and_keeps_its_weights(tiny_run, tmp_path):
    out = tmp_path / "run"
    result = tiny_run("traversal", out=out, until_lesson=2, overrides=(("threshold", 0.0),))
    # every check passes: lesson 1 at the first check, lesson 2 at the second
    assert result.lesson == 3 and len(result.history) == 2
    for lesson in (1, 2):
        slim = read_checkpoint(out / f"passed-{lesson:02d}.ckpt")
        assert "optimizer_states" not in slim and slim["state_dict"]
        # the record travels with the weights: the lesson it reached and its checks
        meta = checkpoint_meta(slim)
        assert meta["curriculum"]["position"] == lesson
        assert [h["lesson"] for h in meta["history"]] == list(range(1, lesson + 1))


@pytest.mark.parametrize(
    "option, value",
    [("key_masking", True), ("key_mask_floor", 0.1), ("memory_init", 1e-3),
     ("bypass_dropout", 0.2), ("layer_norm", True), ("link_sparsity", 4), ("fused", "auto"),
     ("deallocation_erase", True), ("link_sharpness", True)],
)
def test_each_lever_reaches_the_network_and_is_saved(tiny_run, tmp_path, option, value):
    from kgdnc.training.trained import load_trained

    extra = (("key_masking", True),) if option == "key_mask_floor" else ()
    out = tmp_path / option
    tiny_run("traversal", out=out, max_steps=2, overrides=((option, value), *extra))
    meta = checkpoint_meta(read_checkpoint(out / "last.ckpt"))
    assert meta["train_config"][option] == value
    assert meta["model_config"][option] == value
    # the answering loader rebuilds the same network from the checkpoint alone (and
    # answers with the eager step, the same equations, so that nothing is compiled)
    answering = "off" if option == "fused" else value
    assert getattr(load_trained(out / "last.ckpt").model_config, option) == answering


@pytest.mark.parametrize("where", ["first", "every"])
def test_answer_reset_reaches_the_network_and_is_saved(tiny_run, tmp_path, where):
    from kgdnc.tasks.codec import FLAG_PHASE
    from kgdnc.training.trained import load_trained

    flags = (FLAG_PHASE, FLAG_ANSWER) if where == "first" else (FLAG_ANSWER,)
    out = tmp_path / "reset"
    tiny_run("traversal", out=out, max_steps=2,
             overrides=(("answer_reset", where), ("answer_reset_from", 1)))
    meta = checkpoint_meta(read_checkpoint(out / "last.ckpt"))
    assert meta["train_config"]["answer_reset"] == where
    assert tuple(meta["model_config"]["reset_inputs"]) == flags
    assert load_trained(out / "last.ckpt").model_config.reset_inputs == flags


def test_answer_reset_begins_at_its_lesson_and_passes_keep_theirs(tiny_run, tmp_path):
    """answer_reset_from 2: lesson 1 trains without the reset and its pass is saved
    without it; from lesson 2 on the network resets, and its checkpoints say so."""
    from kgdnc.tasks.codec import FLAG_PHASE
    from kgdnc.training.trained import load_trained

    out = tmp_path / "staged"
    result = tiny_run("traversal", out=out, max_steps=4,
                      overrides=(("answer_reset", "first"), ("answer_reset_from", 2),
                                 ("threshold", 0.0)))
    assert result.lesson == 3  # lessons 1 and 2 passed
    first = (FLAG_PHASE, FLAG_ANSWER)
    assert load_trained(out / "passed-01.ckpt").model_config.reset_inputs == ()
    assert load_trained(out / "passed-02.ckpt").model_config.reset_inputs == first
    assert load_trained(out / "last.ckpt").model_config.reset_inputs == first
    # a resume at lesson 3 trains with the reset; moved to lesson 4, it trains without
    tiny_run(out=out, resume=True, max_steps=5,
             overrides=(("answer_reset_from", 4), ("threshold", 1.01)))
    assert load_trained(out / "last.ckpt").model_config.reset_inputs == ()
    with pytest.raises(UserError, match="answer_reset_from"):
        TrainConfig(task="traversal", answer_reset="first", answer_reset_from=0)


def test_late_threshold_holds_late_lessons_and_may_change_on_resume(tiny_run, tmp_path):
    """Lessons before late_threshold_from pass at the threshold, later ones only at
    late_threshold; a resume may move both."""
    out = tmp_path / "late"
    # threshold 0 passes lesson 1 at its first check; lesson 2 needs 1.0, which a
    # tiny network's running accuracy does not reach in a few steps
    result = tiny_run("traversal", out=out, max_steps=6,
                      overrides=(("threshold", 0.0), ("late_threshold", 1.0),
                                 ("late_threshold_from", 2)))
    assert result.lesson == 2
    assert [h["lesson"] for h in result.history if h["passed"]] == [1]
    assert any(h["lesson"] == 2 and h["accuracy"] < 1.0 for h in result.history)
    resumed = tiny_run(out=out, resume=True, max_steps=8,
                       overrides=(("late_threshold_from", 3),))
    assert resumed.lesson == 3  # lesson 2 passed at the threshold, 0
    meta = checkpoint_meta(read_checkpoint(out / "last.ckpt"))
    assert (meta["train_config"]["late_threshold"],
            meta["train_config"]["late_threshold_from"]) == (1.0, 3)
    # a range that ends before lesson 3 leaves it at the threshold again
    ended = tiny_run(out=out, resume=True, max_steps=10,
                     overrides=(("late_threshold_from", 1), ("late_threshold_to", 2)))
    assert ended.lesson > 3
    meta = checkpoint_meta(read_checkpoint(out / "last.ckpt"))
    assert meta["train_config"]["late_threshold_to"] == 2
    with pytest.raises(UserError, match="late_threshold"):
        TrainConfig(task="traversal", late_threshold=-0.5)
    with pytest.raises(UserError, match="late_threshold_from"):
        TrainConfig(task="traversal", late_threshold=0.95, late_threshold_from=0)
    with pytest.raises(UserError, match="late_threshold_to"):
        TrainConfig(task="traversal", late_threshold=0.95, late_threshold_from=3,
                    late_threshold_to=2)


def test_end_threshold_holds_the_last_lessons_and_may_change_on_resume(tiny_run, tmp_path):
    """From end_threshold_from on the end mark holds, over the late mark; a resume may
    lower it or move its first lesson."""
    out = tmp_path / "end"
    # lessons 1-2 pass at their first checks (late mark 0); from lesson 3 the end mark,
    # 1.0, which a tiny network's running accuracy does not reach in a few steps
    result = tiny_run("traversal", out=out, max_steps=8,
                      overrides=(("threshold", 0.0), ("late_threshold", 0.0),
                                 ("late_threshold_from", 2), ("end_threshold", 1.0),
                                 ("end_threshold_from", 3)))
    assert result.lesson == 3
    assert [h["lesson"] for h in result.history if h["passed"]] == [1, 2]
    assert any(h["lesson"] == 3 and h["accuracy"] < 1.0 for h in result.history)
    resumed = tiny_run(out=out, resume=True, max_steps=10,
                       overrides=(("end_threshold_from", 4),))
    assert resumed.lesson == 4  # lesson 3 passed at the late mark, 0
    meta = checkpoint_meta(read_checkpoint(out / "last.ckpt"))
    assert (meta["train_config"]["end_threshold"],
            meta["train_config"]["end_threshold_from"]) == (1.0, 4)
    lowered = tiny_run(out=out, resume=True, max_steps=12,
                       overrides=(("end_threshold", 0.0),))
    assert lowered.lesson > 4
    with pytest.raises(UserError, match="end_threshold"):
        TrainConfig(task="traversal", end_threshold=-0.1)
    with pytest.raises(UserError, match="end_threshold_from"):
        TrainConfig(task="traversal", end_threshold=0.98, end_threshold_from=0)


def test_end_lr_is_the_end_lessons_rate_and_holds_on_resume(tiny_run, tmp_path):
    """The run's rate until the end lessons; end_lr from the pass into them, and on a
    resume on one (over a --lr given there); with the plateau rule as well."""
    out = tmp_path / "end-lr"
    # every lesson passes at its first check; lesson 3 on is the end, at 1e-4
    result = tiny_run("traversal", out=out, max_steps=8,
                      overrides=(("threshold", 0.0), ("lr", 2e-3), ("end_threshold_from", 3),
                                 ("end_lr", 1e-4)))
    # a check records the rate it leaves: the end's from the pass into lesson 3 on
    after = [(h["lesson"] + h["passed"], h["lr"]) for h in result.history]
    assert after[:2] == [(2, pytest.approx(2e-3)), (3, pytest.approx(1e-4))]
    assert all(lr == pytest.approx(1e-4) for lesson, lr in after if lesson >= 3)
    assert result.lesson >= 4
    # resumed on an end lesson that no check passes: the rate is the end's from the start
    resumed = tiny_run(out=out, resume=True, max_steps=12,
                       overrides=(("lr", 5e-3), ("end_threshold", 1.01)))
    new = resumed.history[len(result.history):]
    assert new and not any(h["passed"] for h in new)
    assert all(h["lr"] == pytest.approx(1e-4) for h in new)
    meta = checkpoint_meta(read_checkpoint(out / "last.ckpt"))
    assert meta["train_config"]["end_lr"] == 1e-4
    with pytest.raises(UserError, match="end_lr"):
        TrainConfig(task="traversal", end_lr=0.0)
    # with the plateau rule the end lessons begin at end_lr too (its drops go on from it)
    planned = tiny_run("traversal", out=tmp_path / "end-lr-plateau", max_steps=8,
                       overrides=(("threshold", 0.0), ("lr", 2e-3), ("lr_patience", 16),
                                  ("end_threshold_from", 3), ("end_lr", 1e-4)))
    after = [(h["lesson"] + h["passed"], h["lr"]) for h in planned.history]
    assert after[0] == (2, pytest.approx(2e-3))
    assert all(lr == pytest.approx(1e-4) for lesson, lr in after if lesson >= 3)


def test_answer_reset_is_checked():
    with pytest.raises(UserError, match="answer_reset"):
        TrainConfig(task="traversal", model="lstm", answer_reset="first")
    with pytest.raises(UserError, match="answer_reset must be one of"):
        TrainConfig(task="traversal", answer_reset="last")
    assert TrainConfig(task="traversal", answer_reset=True).answer_reset == "first"  # type: ignore[arg-type]
    assert TrainConfig(task="traversal").answer_reset == "off"


def test_warm_start_takes_the_models_weights_and_lesson(tiny_run, tmp_path):
    first = tmp_path / "first"
    tiny_run("traversal", out=first, max_steps=4, overrides=(("threshold", 0.0),))
    model = read_checkpoint(first / "last.ckpt")
    warm = tmp_path / "warm"
    # a new run: the model's network and lesson, a new batch size and fresh optimiser
    result = tiny_run(
        out=warm, init_from=first / "last.ckpt", max_steps=1,
        overrides=(("batch_size", 2), ("threshold", 1.01)),
    )
    assert result.lesson == 3  # the model had passed lessons 1 and 2
    saved = read_checkpoint(warm / "last.ckpt")
    meta = checkpoint_meta(saved)
    assert meta["train_config"]["batch_size"] == 2
    assert meta["train_config"]["word_size"] == checkpoint_meta(model)["train_config"]["word_size"]
    assert meta["examples_seen"] == 16 + 2
    with pytest.raises(UserError, match="cannot differ from the model"):
        tiny_run(out=tmp_path / "bad", init_from=first / "last.ckpt",
                 overrides=(("word_size", 64),))


def test_warm_start_may_change_where_the_controller_resets(tiny_run, tmp_path):
    """The reset holds no weights: a warm start may change it, as a resume may; the
    model's other network options stay."""
    first = tmp_path / "first"
    tiny_run("traversal", out=first, max_steps=2,
             overrides=(("answer_reset", "first"), ("answer_reset_from", 1)))
    warm = tmp_path / "warm"
    tiny_run(out=warm, init_from=first / "last.ckpt", max_steps=1,
             overrides=(("answer_reset", "every"), ("answer_reset_from", 1),
                        ("threshold", 1.01)))
    meta = checkpoint_meta(read_checkpoint(warm / "last.ckpt"))
    assert meta["train_config"]["answer_reset"] == "every"
    assert tuple(meta["model_config"]["reset_inputs"]) == (FLAG_ANSWER,)
    kept = tmp_path / "kept"
    tiny_run(out=kept, init_from=first / "last.ckpt", max_steps=1,
             overrides=(("threshold", 1.01),))
    assert checkpoint_meta(read_checkpoint(kept / "last.ckpt"))["train_config"][
        "answer_reset"] == "first"


def test_warm_start_from_another_tasks_model_takes_its_weights_only(tiny_run, tmp_path):
    """Transfer: a traversal model starts an inference run with its weights, at lesson 1
    with no examples counted; copy models (another input) are refused."""
    first = tmp_path / "first"
    tiny_run("traversal", out=first, max_steps=4, overrides=(("threshold", 0.0),))
    warm = tmp_path / "warm"
    result = tiny_run("inference", out=warm, init_from=first / "last.ckpt", max_steps=1,
                      overrides=(("threshold", 1.01),))
    assert result.lesson == 1
    meta = checkpoint_meta(read_checkpoint(warm / "last.ckpt"))
    assert meta["train_config"]["task"] == "inference"
    donor = checkpoint_meta(read_checkpoint(first / "last.ckpt"))["train_config"]
    assert meta["train_config"]["word_size"] == donor["word_size"]
    # one batch of this run, none of the donor's
    assert meta["examples_seen"] == meta["train_config"]["batch_size"]
    copy = tmp_path / "copy"
    tiny_run("copy", out=copy, max_steps=1)
    with pytest.raises(UserError, match="copy episodes have another input"):
        tiny_run("traversal", out=tmp_path / "bad", init_from=copy / "last.ckpt")


def test_warm_start_begins_with_the_models_weights(tmp_path):
    from kgdnc.training.module import GraphTaskModule
    from kgdnc.training.presets import make_preset
    from kgdnc.training.run import make_curriculum, warm_start

    config = make_preset("cpu", "traversal", hidden_size=8, memory_size=8, word_size=4,
                         read_heads=1)
    donor = GraphTaskModule(config.to_dict())
    torch.save({"state_dict": donor.state_dict(), "kgdnc": {
        "format": "kgdnc-checkpoint", "version": 1, "task": "traversal",
        "train_config": config.to_dict(), "model_config": donor.net_config.to_dict(),
        "examples_seen": 500, "curriculum": {"position": 3}}}, tmp_path / "m.ckpt")
    module = GraphTaskModule(config.to_dict())
    curriculum = make_curriculum(config)
    warm_start(module, curriculum, tmp_path / "m.ckpt")
    for (name, a), b in zip(donor.state_dict().items(), module.state_dict().values(),
                            strict=True):
        assert torch.equal(a, b), name
    assert curriculum.position == 3 and module.examples_seen == 500


def test_resume_may_switch_the_fused_step(tiny_run, tmp_path):
    out = tmp_path / "run"
    tiny_run("traversal", out=out, max_steps=2)
    tiny_run(out=out, resume=True, max_steps=4, overrides=(("fused", "auto"),))
    meta = checkpoint_meta(read_checkpoint(out / "last.ckpt"))
    assert meta["train_config"]["fused"] == "auto" and meta["model_config"]["fused"] == "auto"


def test_keep_training_goes_on_after_the_last_lesson(tiny_run, tmp_path):
    """A completed run resumed with keep_training trains on its final lesson; its
    checks pass nothing new, so the weights saved at the last pass stay."""
    out = tmp_path / "copy"
    first = tiny_run("copy", out=out, overrides=(("threshold", 0.0),))
    assert first.completed and first.steps == 10  # five lessons, a check each 2 batches
    at_pass = (out / "passed-05.ckpt").read_bytes()
    again = tiny_run(out=out, resume=True)
    assert again.steps == 10  # a completed run stops at once
    kept = tiny_run(out=out, resume=True, keep_training=True, max_steps=14)
    assert kept.steps == 14 and kept.completed
    history = json.loads((out / "history.json").read_text())
    assert [h["passed"] for h in history[-2:]] == [False, False]
    assert [h["lesson"] for h in history[-2:]] == [5, 5]
    assert (out / "passed-05.ckpt").read_bytes() == at_pass
    with pytest.raises(UserError, match="needs a limit"):
        tiny_run(out=out, resume=True, keep_training=True)
