import math

import pytest

from kgdnc.errors import UserError
from kgdnc.training.checkpoint import checkpoint_meta, read_checkpoint
from kgdnc.training.presets import make_preset
from kgdnc.training.schedule import PlateauSchedule


def test_a_better_check_resets_the_wait_and_a_plateau_lowers_the_rate():
    s = PlateauSchedule(1e-3, patience=100, decay=0.5, floor=1e-4)
    assert not s.update(0.50, 50, passed=False)  # first check: the lesson's best
    assert not s.update(0.60, 100, passed=False)  # better: the wait restarts at 100
    assert not s.update(0.609, 199, passed=False)  # not by a point, 99 episodes
    assert s.lr == 1e-3
    assert s.update(0.59, 200, passed=False)  # 100 episodes since the best
    assert s.lr == pytest.approx(5e-4)
    assert not s.update(0.59, 299, passed=False)  # the wait restarts at the drop
    assert s.update(0.59, 300, passed=False)
    assert s.lr == pytest.approx(2.5e-4)


def test_the_rate_never_goes_below_the_floor():
    s = PlateauSchedule(1e-3, patience=10, decay=0.3, floor=2e-4)
    s.update(0.5, 0, passed=False)
    assert s.update(0.5, 10, passed=False)
    assert s.lr == pytest.approx(3e-4)
    assert s.update(0.5, 20, passed=False)
    assert s.lr == pytest.approx(2e-4)  # 9e-5 clipped to the floor
    assert not s.update(0.5, 30, passed=False)  # at the floor: no more drops
    assert s.lr == pytest.approx(2e-4)


def test_a_passed_lesson_starts_a_new_best_and_keeps_the_rate():
    s = PlateauSchedule(1e-3, patience=10, decay=0.5, floor=1e-5)
    s.update(0.95, 0, passed=False)
    assert s.update(0.90, 10, passed=False)
    assert not s.update(0.91, 15, passed=True)
    assert s.lr == pytest.approx(5e-4)
    # the next lesson's first check is its best, however low
    assert not s.update(0.20, 20, passed=False)
    assert s.best == pytest.approx(0.20)
    assert not s.update(0.20, 29, passed=False)
    assert s.update(0.20, 30, passed=False)


def test_with_restart_a_passed_lesson_returns_to_the_configured_rate():
    s = PlateauSchedule(1e-3, patience=10, decay=0.5, floor=1e-5, restart=True)
    s.update(0.95, 0, passed=False)
    assert s.update(0.90, 10, passed=False)
    assert s.lr == pytest.approx(5e-4)
    assert s.update(0.91, 15, passed=True)  # a change: restored
    assert s.lr == pytest.approx(1e-3)
    assert not s.update(0.20, 20, passed=False)  # the new lesson's first best
    assert not s.update(0.95, 25, passed=True)  # already at the configured rate
    assert s.lr == pytest.approx(1e-3)


def test_a_hold_keeps_the_rate_through_each_lessons_first_episodes():
    s = PlateauSchedule(1e-3, patience=10, decay=0.5, floor=1e-5, restart=True, hold=40)
    s.begin(0)
    s.update(0.5, 0, passed=False)
    for episodes in (10, 20, 30):  # a plateau, but inside the first 40 episodes
        assert not s.update(0.5, episodes, passed=False)
    assert s.lr == pytest.approx(1e-3)
    assert s.update(0.5, 40, passed=False)  # the hold is over: the plateau counts
    assert s.lr == pytest.approx(5e-4)
    assert s.update(0.9, 45, passed=True)  # a pass: restored, and a new hold
    assert not s.update(0.3, 50, passed=False)
    for episodes in (60, 70, 80):  # 85 - 45 = 40: held until 85
        assert not s.update(0.3, episodes, passed=False)
    assert s.update(0.3, 85, passed=False)
    assert s.lr == pytest.approx(5e-4)


def test_the_kept_lessons_never_lower_the_rate():
    s = PlateauSchedule(1e-3, patience=10, decay=0.5, floor=1e-5, restart=True,
                        keep_lessons=(2,))
    s.update(0.5, 0, passed=False, lesson=1)
    assert s.update(0.5, 10, passed=False, lesson=1)  # lesson 1: a plateau lowers it
    assert s.lr == pytest.approx(5e-4)
    assert s.update(0.9, 15, passed=True, lesson=1)  # restored at the pass
    for episodes in (20, 30, 40, 50, 60):  # lesson 2 is kept: the rate stays
        assert not s.update(0.4, episodes, passed=False, lesson=2)
    assert s.lr == pytest.approx(1e-3)
    assert not s.update(0.9, 65, passed=True, lesson=2)
    s.update(0.4, 70, passed=False, lesson=3)  # lesson 3's first best
    assert not s.update(0.4, 75, passed=False, lesson=3)
    assert s.update(0.4, 80, passed=False, lesson=3)  # a plateau of 10 on lesson 3
    assert s.lr == pytest.approx(5e-4)
    with pytest.raises(ValueError, match="keep_lessons"):
        PlateauSchedule(1e-3, patience=10, decay=0.5, floor=1e-5, keep_lessons=(0,))


def test_the_hold_counts_from_where_training_begins():
    s = PlateauSchedule(1e-3, patience=10, decay=0.5, floor=1e-5, hold=40)
    s.begin(1000)  # a warm start from a model that has seen 1,000 episodes
    s.begin(5000)  # a later call does not move the start
    s.update(0.5, 1010, passed=False)
    assert not s.update(0.5, 1030, passed=False)
    assert s.update(0.5, 1040, passed=False)


def test_the_hold_is_saved_and_an_older_state_has_none():
    s = PlateauSchedule(1e-3, patience=10, decay=0.5, floor=1e-5, hold=40)
    s.begin(100)
    s.update(0.5, 110, passed=False)
    restored = PlateauSchedule(1e-3, patience=10, decay=0.5, floor=1e-5, hold=40)
    restored.load_state_dict(s.state_dict())
    restored.begin(130)  # a resume: the saved start stands
    assert not restored.update(0.5, 130, passed=False)
    assert restored.update(0.5, 140, passed=False)
    # a state written before holds existed: the lesson under way has no hold
    old = {k: v for k, v in s.state_dict().items() if k != "start"}
    legacy = PlateauSchedule(1e-3, patience=10, decay=0.5, floor=1e-5, hold=40)
    legacy.load_state_dict(old)
    legacy.begin(130)
    assert legacy.update(0.5, 120, passed=False)


def test_state_round_trip_and_a_new_rate_on_resume_starts_afresh():
    s = PlateauSchedule(1e-3, patience=10, decay=0.5, floor=1e-5)
    s.update(0.5, 0, passed=False)
    s.update(0.5, 10, passed=False)
    state = s.state_dict()
    same = PlateauSchedule(1e-3, patience=10, decay=0.5, floor=1e-5)
    same.load_state_dict(state)
    assert (same.lr, same.best, same.since) == (s.lr, s.best, s.since) == (5e-4, 0.5, 10)
    other = PlateauSchedule(3e-4, patience=10, decay=0.5, floor=1e-5)  # --lr 3e-4
    other.load_state_dict(state)
    assert (other.lr, other.best, other.since) == (3e-4, -math.inf, 0)


@pytest.mark.parametrize(
    "field, value, words",
    [("lr_patience", -1, "lr_patience"), ("lr_decay", 1.0, "lr_decay"),
     ("lr_decay", 0.0, "lr_decay"), ("lr_min", 0.0, "lr_min"), ("lr_hold", -1, "lr_hold"),
     ("lr_keep_lessons", (0, 2), "lr_keep_lessons")],
)
def test_bad_schedule_options_are_user_errors(field, value, words):
    with pytest.raises(UserError, match=words):
        make_preset("cpu", "traversal", **{field: value})


def test_a_run_lowers_its_rate_on_a_plateau_and_resumes_at_the_lowered_rate(tiny_run, tmp_path):
    out = tmp_path / "run"
    # threshold above 1: no check passes; checks every 8 episodes, a drop after 16
    # episodes without a better check (a tiny run's checks rarely improve by half
    # a point twice, so at least one drop in 12 checks)
    first = tiny_run(
        "traversal", out=out, max_steps=24,
        overrides=(("threshold", 1.01), ("lr_patience", 16), ("lr_decay", 0.5),
                   ("lr_min", 1e-4)),
    )
    rates = [h["lr"] for h in first.history]
    assert len(rates) == 12
    drops = [h for h in first.history if h["lr_lowered"]]
    assert drops, rates
    # each drop halves the rate in force; the rate never rises
    assert all(b <= a for a, b in zip(rates, rates[1:], strict=False))
    assert rates[-1] == pytest.approx(max(1e-3 * 0.5 ** len(drops), 1e-4))
    ckpt = read_checkpoint(out / "last.ckpt")
    assert ckpt["optimizer_states"][0]["param_groups"][0]["lr"] == pytest.approx(rates[-1])
    # resumed: the optimiser trains on at the lowered rate, not the configuration's
    second = tiny_run(out=out, resume=True, max_steps=26)
    last = second.history[-1]
    expected = max(rates[-1] * 0.5, 1e-4) if last["lr_lowered"] else rates[-1]
    assert last["lr"] == pytest.approx(expected)
    # a new --lr on resume starts the schedule again from it (a first check is the
    # lesson's new best, so no drop at once)
    third = tiny_run(out=out, resume=True, max_steps=30, overrides=(("lr", 2e-3),))
    assert [h["lr"] for h in third.history[-2:]] == [pytest.approx(2e-3)] * 2
    assert checkpoint_meta(read_checkpoint(out / "last.ckpt"))["train_config"]["lr_patience"] == 16


def test_a_resumed_run_with_restart_returns_to_its_rate_when_a_lesson_passes(
    tiny_run, tmp_path
):
    out = tmp_path / "run"
    first = tiny_run(
        "traversal", out=out, max_steps=24,
        overrides=(("threshold", 1.01), ("lr_patience", 16), ("lr_decay", 0.5),
                   ("lr_min", 1e-4)),
    )
    assert first.history[-1]["lr"] < 1e-3
    # every check passes now: the first pass restores the configured rate
    second = tiny_run(out=out, resume=True, max_steps=28,
                      overrides=(("threshold", 0.0), ("lr_restart", True)))
    new = second.history[len(first.history):]
    assert new[0]["passed"] and new[0]["lr_restored"] and not new[0]["lr_lowered"]
    assert [h["lr"] for h in new] == [pytest.approx(1e-3)] * len(new)
    ckpt = read_checkpoint(out / "last.ckpt")
    assert ckpt["optimizer_states"][0]["param_groups"][0]["lr"] == pytest.approx(1e-3)
    assert checkpoint_meta(ckpt)["train_config"]["lr_restart"] is True


def test_without_patience_the_rate_stays_fixed(tiny_run, tmp_path):
    result = tiny_run("traversal", out=tmp_path / "fixed", max_steps=8,
                      overrides=(("threshold", 1.01),))
    assert [h["lr"] for h in result.history] == [pytest.approx(1e-3)] * 4
    assert not any(h["lr_lowered"] for h in result.history)


def test_a_run_holds_its_rate_through_a_lessons_first_episodes(tiny_run, tmp_path):
    # the plateau run above, with a hold of 48 episodes: checks every 8 episodes,
    # so the first five checks (8 to 40 episodes) keep the configured rate,
    # whatever they score
    result = tiny_run(
        "traversal", out=tmp_path / "held", max_steps=24,
        overrides=(("threshold", 1.01), ("lr_patience", 16), ("lr_decay", 0.5),
                   ("lr_min", 1e-4), ("lr_hold", 48)),
    )
    rates = [h["lr"] for h in result.history]
    assert rates[:5] == [pytest.approx(1e-3)] * 5
    assert not any(h["lr_lowered"] for h in result.history[:5])
    ckpt = read_checkpoint(tmp_path / "held" / "last.ckpt")
    assert checkpoint_meta(ckpt)["train_config"]["lr_hold"] == 48


def test_a_run_keeps_its_rate_on_a_kept_lesson_and_saves_the_list(tiny_run, tmp_path):
    # the plateau run above, lesson 1 kept: lesson 1 (the only one a run that passes
    # nothing sees) keeps the configured rate throughout
    result = tiny_run(
        "traversal", out=tmp_path / "kept", max_steps=24,
        overrides=(("threshold", 1.01), ("lr_patience", 16), ("lr_decay", 0.5),
                   ("lr_min", 1e-4), ("lr_keep_lessons", (1,))),
    )
    assert len(result.history) >= 10
    assert [h["lr"] for h in result.history] == [pytest.approx(1e-3)] * len(result.history)
    ckpt = read_checkpoint(tmp_path / "kept" / "last.ckpt")
    assert checkpoint_meta(ckpt)["train_config"]["lr_keep_lessons"] in ([1], (1,))
    # the saved list comes back as the same configuration
    from kgdnc.training.presets import TrainConfig

    config = TrainConfig.from_dict(checkpoint_meta(ckpt)["train_config"])
    assert config.lr_keep_lessons == (1,)
