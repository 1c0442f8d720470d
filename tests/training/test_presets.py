import pytest

from kgdnc.errors import UserError
from kgdnc.training.presets import TrainConfig, make_preset

# ED Table 2: task -> (LSTM layers x units, batch, learning rate, N, W, R)
ED_TABLE_2 = {
    "shortest-path": (2, 256, 1, 3e-6, 128, 50, 5),
    "traversal": (3, 256, 2, 1e-5, 256, 50, 5),
    "inference": (3, 256, 32, 1e-5, 128, 50, 5),
}


@pytest.mark.parametrize("task", sorted(ED_TABLE_2))
def test_paper_preset_is_ed_table_2(task):
    c = make_preset("paper", task)
    got = (c.num_layers, c.hidden_size, c.batch_size, c.lr, c.memory_size, c.word_size,
           c.read_heads)
    assert got == ED_TABLE_2[task]
    assert c.optimizer == "rmsprop"
    assert c.controller == "lstm"
    assert c.lstm_grad_clip == 10.0
    assert c.memory_sizing == "fixed"


def test_cpu_preset_is_the_measured_setting():
    c = make_preset("cpu", "traversal")
    assert (c.hidden_size, c.num_layers, c.memory_size, c.word_size, c.read_heads) == (
        128, 1, 64, 32, 4)
    assert (c.batch_size, c.optimizer, c.lr, c.grad_clip) == (32, "adam", 1e-3, 10.0)


def test_default_preset_is_cpu_with_the_measured_levers():
    from kgdnc.training.presets import DEFAULT_PRESET
    from kgdnc.training.run import RunOptions

    assert DEFAULT_PRESET == "cpu-ln" and RunOptions().preset == DEFAULT_PRESET
    for task in ("traversal", "inference", "shortest-path"):
        base, c = make_preset("cpu", task), make_preset("cpu-ln", task)
        assert (c.batch_size, c.layer_norm, c.word_size, c.fused) == (8, True, 64, "auto")
        assert c.preset == "cpu-ln"
        # everything else is the cpu preset's
        changed = {k for k, v in c.to_dict().items() if base.to_dict()[k] != v}
        levers = {"preset", "batch_size", "layer_norm", "word_size", "fused"}
        # inference also learns the look-up from recall blocks; shortest path scores
        # every digit of a move, on queries that need a plan, passed on exact answers;
        # traversal stretches a tenth of its walks and, from lesson 2, resets the
        # controller where the answer begins; both pass lessons 2 on at 95 %, traversal
        # its last two at 98 % and a lower rate
        own = {"inference": {"aux_recall", "lr_patience", "hidden_size", "key_masking",
                             "key_mask_floor", "lr_restart", "lr_hold", "lr_keep_lessons",
                             "late_threshold", "late_threshold_from", "late_threshold_to",
                             "plan_targets"},
               "shortest-path": {"move_loss", "real_choice", "pass_rule"},
               "traversal": {"curriculum_stretch", "answer_reset",
                             "answer_reset_from", "late_threshold",
                             "late_threshold_from", "end_threshold", "end_threshold_from",
                             "end_lr"}}.get(task, set())
        assert changed == levers | own
        assert c.aux_recall == (3 if task == "inference" else 0)
        assert c.lr_patience == (12_800 if task == "inference" else 0)
        # inference: a 256-unit controller, masked look-ups, each lesson begun at 1e-3
        inference = task == "inference"
        assert (c.hidden_size, c.key_masking, c.key_mask_floor, c.lr_restart, c.lr_hold) == (
            (256, True, 0.1, True, 51_200) if inference
            else (128, False, base.key_mask_floor, False, 0))
        assert c.lr_keep_lessons == ((2,) if inference else ())
        # inference names the relation's hops while it plans
        assert c.plan_targets == inference
        assert c.curriculum_stretch == (0.1 if task == "traversal" else 0.0)
        assert c.answer_reset == ("first" if task == "traversal" else "off")
        assert c.answer_reset_from == (2 if task == "traversal" else 1)
        # traversal's and inference's lessons after the first pass at 95 %
        assert (c.late_threshold, c.late_threshold_from) == (
            (None, 1) if task == "shortest-path" else (0.95, 2))
        # inference's until lesson 6 (lessons 7-8 sit at 84-88 % for 1M examples)
        assert c.late_threshold_to == (6 if inference else None)
        # traversal's end lessons, 13 and 14, pass at 98 % and train at 3e-4
        assert (c.end_threshold, c.end_threshold_from, c.end_lr) == (
            (0.98, 13, 3e-4) if task == "traversal" else (None, None, None))
        planning = task == "shortest-path"
        assert (c.move_loss == "triple", c.real_choice, c.pass_rule == "exact") == (planning,) * 3


def test_the_preset_reset_is_left_out_where_there_is_no_lstm_controller():
    assert make_preset("cpu-ln", "traversal", "lstm").answer_reset == "off"
    assert make_preset("cpu-ln", "traversal", controller="feedforward").answer_reset == "off"
    with pytest.raises(UserError, match="answer_reset"):
        make_preset("cpu-ln", "traversal", "lstm", answer_reset="first")


def test_overrides_and_round_trip():
    c = make_preset("cpu", "inference", "lstm", lr=3e-4, batch_size=8, seed=5)
    assert (c.model, c.lr, c.batch_size, c.seed) == ("lstm", 3e-4, 8, 5)
    assert TrainConfig.from_dict(c.to_dict()) == c


@pytest.mark.parametrize(
    "args, kwargs",
    [
        (("gpu-farm", "traversal"), {}),
        (("cpu", "sorting"), {}),
        (("cpu", "traversal", "transformer"), {}),
        (("cpu", "traversal"), {"optimizer": "sgd"}),
        (("cpu", "traversal"), {"batch_size": 0}),
        (("cpu", "traversal"), {"colour": "red"}),
    ],
)
def test_bad_choices_are_user_errors(args, kwargs):
    with pytest.raises(UserError):
        make_preset(*args, **kwargs)


def test_unknown_saved_field_is_a_user_error():
    data = make_preset("cpu", "traversal").to_dict()
    data["future_option"] = 1
    with pytest.raises(UserError, match="unknown fields"):
        TrainConfig.from_dict(data)


def test_checks_default_to_the_papers_cadence_in_episodes():
    from kgdnc.training.data import check_plan

    plans = {t: check_plan(make_preset("cpu", t)) for t in ("traversal", "inference",
                                                           "shortest-path")}
    assert (plans["traversal"].every, plans["traversal"].mode) == (200, "running")
    assert (plans["inference"].every, plans["inference"].mode) == (3200, "running")
    sp = plans["shortest-path"]
    assert (sp.every, sp.mode, sp.episodes, sp.pass_rule) == (2000, "fresh", 50, "one-longer")
    assert sp.batches(8) == 250 and plans["traversal"].batches(3) == 67


def test_the_pass_rule_sets_the_steps_a_walk_may_add():
    assert make_preset("cpu", "shortest-path").slack == 1
    assert make_preset("cpu", "shortest-path", pass_rule="exact").slack == 0
    assert make_preset("cpu-ln", "shortest-path").slack == 0


def test_configs_written_before_episode_checks_keep_their_meaning():
    old = make_preset("cpu", "traversal").to_dict()
    for key in ("check_mode", "pass_rule", "curriculum_mix", "planning_steps"):
        del old[key]
    old.update(check_every=25, batch_size=8, eval_episodes=128)
    config = TrainConfig.from_dict(old)
    assert (config.check_every, config.check_mode, config.pass_rule) == (200, "fresh", "exact")


@pytest.mark.parametrize("task", ["traversal", "inference", "copy"])
def test_real_choice_is_for_shortest_path_only(task):
    with pytest.raises(UserError, match="real_choice \\(--real-choice\\) is for shortest path"):
        make_preset("cpu", task, real_choice=True)


def test_real_choice_reaches_training_and_check_episodes_and_may_change_on_resume():
    from kgdnc.training.data import episode_options
    from kgdnc.training.run import RESUMABLE

    config = make_preset("cpu", "shortest-path", real_choice=True)
    assert episode_options(config)["real_choice"] is True
    assert episode_options(config, training=False)["real_choice"] is True
    assert "real_choice" not in episode_options(make_preset("cpu", "shortest-path"))
    assert "real_choice" in RESUMABLE


def test_move_loss_choices_and_task():
    assert make_preset("cpu", "shortest-path").move_loss == "candidates"
    assert make_preset("cpu", "shortest-path", move_loss="triple").move_loss == "triple"
    with pytest.raises(UserError, match="unknown move loss 'digits'"):
        make_preset("cpu", "shortest-path", move_loss="digits")
    with pytest.raises(UserError, match="move_loss \\(--move-loss\\) is for shortest path"):
        make_preset("cpu", "traversal", move_loss="triple")


def test_curriculum_stretch_is_for_traversal_only_and_a_share():
    assert make_preset("cpu", "traversal", curriculum_stretch=0.1).curriculum_stretch == 0.1
    with pytest.raises(UserError, match="curriculum_stretch \\(--curriculum-stretch\\) is for "
                                        "traversal only"):
        make_preset("cpu", "inference", curriculum_stretch=0.1)
    with pytest.raises(UserError, match="must lie in \\[0, 1\\)"):
        make_preset("cpu", "traversal", curriculum_stretch=1.0)


def test_stretch_reach_needs_stretched_episodes_and_at_least_one():
    config = make_preset("cpu-ln", "traversal", stretch_reach=2.0)
    assert (config.curriculum_stretch, config.stretch_reach) == (0.1, 2.0)
    assert make_preset("cpu-ln", "traversal").stretch_reach is None
    with pytest.raises(UserError, match="stretch_reach \\(--stretch-reach\\) needs stretched "
                                        "episodes"):
        make_preset("cpu", "traversal", stretch_reach=2.0)
    with pytest.raises(UserError, match="stretch_reach must be at least 1, got 0.5"):
        make_preset("cpu-ln", "traversal", stretch_reach=0.5)
