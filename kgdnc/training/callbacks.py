"""Lightning callbacks of a training run.

- :class:`CurriculumCallback`: every ``check_every`` training episodes it
  hands a greedy episode accuracy to the curriculum, which advances at the
  lesson's threshold: either the running accuracy of the training episodes of
  the current lesson since the last check (``running``: free), or that of a
  validation run on fresh episodes (``fresh``). After each check it writes
  ``last.ckpt``, ``best.ckpt`` when the run progressed, and
  ``passed-LL.ckpt`` (weights only) when lesson LL was passed. Its state (the
  curriculum and the history of checks) lives in the checkpoint, so
  ``--resume`` continues at the same lesson. With a
  :class:`~kgdnc.training.schedule.PlateauSchedule` it also lowers the learning
  rate when the lesson's checks stop improving (before the checkpoint is written,
  so the new rate is in it).
- :class:`LessonProgressBar`: the rich progress bar, showing loss, accuracy,
  lesson and examples seen.
- :class:`CheckReporter`: one plain line per curriculum check (for logs of
  background runs).
- :class:`InvocationTimer`: Lightning's timer, counting this invocation only
  (a resumed run gets the full ``--max-time`` again).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback, RichProgressBar, Timer

from kgdnc.atomic import write_text

if TYPE_CHECKING:
    from kgdnc.tasks import Curriculum
    from kgdnc.training.schedule import PlateauSchedule


class CurriculumCallback(Callback):
    """Advance the curriculum when the lesson's episodes are answered well enough.

    Args:
        curriculum: the run's curriculum, shared with the data module (which
            samples lessons from it).
        mode: ``running`` or ``fresh`` (see the module docstring).
        every: training episodes between running checks (fresh checks follow
            the Trainer's ``val_check_interval``).
        out: run folder for the checkpoints written after each check (None: none).
        schedule: lowers the learning rate on a plateau of the checks (None: the
            rate stays the configuration's).
        end_lr: the learning rate each of the curriculum's end lessons
            (:attr:`Curriculum.at_end`) begins at, also where a run without a
            schedule resumes on one (None: as the others); a schedule may lower
            it from there.
    """

    def __init__(
        self,
        curriculum: Curriculum,
        mode: str = "fresh",
        every: int = 200,
        out: Path | None = None,
        schedule: PlateauSchedule | None = None,
        end_lr: float | None = None,
    ) -> None:
        self.curriculum = curriculum
        self.schedule = schedule
        self.end_lr = end_lr
        self.mode = mode
        self.every = every
        self.out = Path(out) if out is not None else None
        self.history: list[dict[str, Any]] = []
        self.best_progress = -math.inf
        self._started = time.monotonic()
        self._elapsed_before = 0.0

    @property
    def wall_time_s(self) -> float:
        """Training wall time in seconds, over all invocations of the run."""
        return self._elapsed_before + (time.monotonic() - self._started)

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._started = time.monotonic()

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        pl_module.lesson = self.curriculum.position  # type: ignore[assignment]
        pl_module.sync_answer_reset()  # type: ignore[operator]
        if self.schedule is not None:  # the module sets it on the optimiser next
            self.schedule.begin(int(getattr(pl_module, "examples_seen", 0)))
            pl_module.scheduled_lr = self.schedule.lr  # type: ignore[assignment]
        elif self.end_lr is not None and self.curriculum.at_end:
            pl_module.scheduled_lr = self.end_lr  # type: ignore[assignment]

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or trainer.state.fn != "fit" or self.mode != "fresh":
            return
        result = getattr(pl_module, "check_result", None)
        if not result:
            return
        pl_module.check_result = None  # type: ignore[assignment]
        self._record(trainer, pl_module, result)

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
        batch_idx: int,
    ) -> None:
        if self.mode != "running":
            return
        seen = pl_module.running_episodes() * trainer.world_size  # type: ignore[operator]
        if seen < self.every:
            return
        self._record(trainer, pl_module, pl_module.take_running_check())  # type: ignore[operator]

    def _record(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, result: dict[str, Any]
    ) -> None:
        accuracy = float(result["accuracy"])
        if math.isnan(accuracy):
            return
        lesson = self.curriculum.position
        was_completed = self.curriculum.completed
        # Every rank holds the same all-reduced accuracy, so every rank's
        # curriculum takes the same decision.
        advanced = bool(self.curriculum.update(accuracy))
        # a completed run trained on (keep_training) passes nothing new
        newly_completed = self.curriculum.completed and not was_completed
        step_accuracy = result.get("step_accuracy")
        examples = int(getattr(pl_module, "examples_seen", 0))
        before = self.schedule.lr if self.schedule is not None else None
        changed = self.schedule is not None and self.schedule.update(
            accuracy, examples, advanced or newly_completed, lesson=int(lesson) + 1
        )
        lowered = changed and self.schedule.lr < before  # type: ignore[union-attr,operator]
        if changed:
            _set_lr(trainer, self.schedule.lr)  # type: ignore[union-attr]
        if advanced and self.end_lr is not None and self.curriculum.at_end:
            if self.schedule is not None:  # its plateaus count from the end's rate
                self.schedule.lr = self.end_lr
            _set_lr(trainer, self.end_lr)
            pl_module.scheduled_lr = self.end_lr  # type: ignore[assignment]
        record = {
            "lesson": int(lesson) + 1,
            "accuracy": accuracy,
            "exact_accuracy": float(result.get("exact_accuracy", accuracy)),
            "episode_accuracy": float(result.get("episode_accuracy", accuracy)),
            "step_accuracy": None if step_accuracy is None else float(step_accuracy),
            "loss": result.get("loss"),
            "episodes": int(result["episodes"]),
            "mode": self.mode,
            "passed": advanced or newly_completed,
            "completed": bool(self.curriculum.completed),
            "step": int(trainer.global_step),
            "examples": examples,
            "wall_time_s": round(self.wall_time_s, 1),
            "lr": _current_lr(trainer),
            "lr_lowered": bool(lowered),
            "lr_restored": bool(changed and not lowered),
        }
        self.history.append(record)
        pl_module.lesson = self.curriculum.position  # type: ignore[assignment]
        self._save(trainer, record, progress=float(lesson) + accuracy)
        # after the saves: a pass keeps the reset it was trained with
        pl_module.sync_answer_reset()  # type: ignore[operator]

    def _save(self, trainer: pl.Trainer, record: dict[str, Any], progress: float) -> None:
        """last.ckpt after every check; best.ckpt when the run progressed; a
        weights-only passed-LL.ckpt when lesson LL was passed."""
        if self.out is None or trainer.fast_dev_run:
            return
        improved = progress > self.best_progress
        self.best_progress = max(self.best_progress, progress)
        trainer.save_checkpoint(self.out / "last.ckpt")
        if improved:
            trainer.save_checkpoint(self.out / "best.ckpt")
        if record["passed"]:
            # the weights and the whole record (curriculum, history), no optimiser
            from kgdnc.training.checkpoint import export_checkpoint

            if trainer.is_global_zero:  # last.ckpt, just written, holds this check
                export_checkpoint(
                    self.out / "last.ckpt", self.out / f"passed-{record['lesson']:02d}.ckpt"
                )

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        from kgdnc.training.checkpoint import META_KEY

        meta = checkpoint.setdefault(META_KEY, {})
        meta["curriculum"] = self.curriculum.state_dict()
        meta["history"] = list(self.history)
        meta["wall_time_s"] = round(self.wall_time_s, 1)

    def state_dict(self) -> dict[str, Any]:
        return {
            "curriculum": self.curriculum.state_dict(),
            "history": list(self.history),
            "wall_time_s": self.wall_time_s,
            "best_progress": self.best_progress,
            **({"schedule": self.schedule.state_dict()} if self.schedule is not None else {}),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.curriculum.load_state_dict(state_dict["curriculum"])
        self.history = list(state_dict.get("history", []))
        self.best_progress = float(state_dict.get("best_progress", -math.inf))
        self._elapsed_before = float(state_dict.get("wall_time_s", 0.0))
        self._started = time.monotonic()
        if self.schedule is not None and "schedule" in state_dict:
            self.schedule.load_state_dict(state_dict["schedule"])


def _set_lr(trainer: pl.Trainer, lr: float) -> None:
    for optimizer in trainer.optimizers:
        for group in optimizer.param_groups:
            group["lr"] = lr


def _current_lr(trainer: pl.Trainer) -> float | None:
    """The learning rate of the run's optimiser (None before it exists)."""
    optimizers = trainer.optimizers
    return float(optimizers[0].param_groups[0]["lr"]) if optimizers else None


class _AfterCheck(Callback):
    """A callback that acts after each curriculum check, running or fresh (it must
    come after the :class:`CurriculumCallback` in the Trainer's list)."""

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.after_check(trainer, pl_module)

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
        batch_idx: int,
    ) -> None:
        self.after_check(trainer, pl_module)

    def after_check(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        raise NotImplementedError


class CheckReporter(_AfterCheck):
    """Print one line per curriculum check: step, examples, lesson, accuracy, wall time."""

    def __init__(self, curriculum_callback: CurriculumCallback, every_check: bool = True) -> None:
        self.curriculum_callback = curriculum_callback
        self.every_check = every_check
        self._seen = 0

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._seen = len(self.curriculum_callback.history)  # a resumed run's checks are old

    def after_check(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        history = self.curriculum_callback.history
        if trainer.sanity_checking or len(history) == self._seen or not trainer.is_global_zero:
            return
        self._seen = len(history)
        record = history[-1]
        if not (self.every_check or record["passed"]):
            return
        step_acc = record["step_accuracy"]
        loss = record["loss"]
        exact = record.get("exact_accuracy")
        whole = record.get("episode_accuracy")
        line = (
            f"step {record['step']:>7} | examples {record['examples']:>9,} | "
            f"lesson {record['lesson']}/{len(self.curriculum_callback.curriculum.lessons)} | "
            f"acc {record['accuracy']:.3f}"
            + (f" | exact {exact:.3f}" if exact is not None and exact != record["accuracy"]
               else "")
            + (f" | episodes {whole:.3f}" if whole is not None and whole != record["accuracy"]
               else "")
            + (f" | step acc {step_acc:.3f}" if step_acc is not None else "")
            + (f" | loss {loss:.3f}" if loss is not None else "")
            + f" | {_clock(record['wall_time_s'])}"
            + (f" | lr lowered to {record['lr']:.2g}" if record.get("lr_lowered") else "")
            + (f" | lr restored to {record['lr']:.2g}" if record.get("lr_restored") else "")
            + (" | PASSED" if record["passed"] else "")
        )
        print(line, flush=True)


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class LessonProgressBar(RichProgressBar):
    """Rich progress bar with the loss, accuracy, lesson and examples seen; no version number."""

    def get_metrics(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule
    ) -> dict[str, int | str | float | dict[str, float]]:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        for key in ("lesson", "examples"):
            if key in metrics:
                metrics[key] = int(float(metrics[key]))  # type: ignore[arg-type]
        if "val/acc" in metrics:
            metrics["check acc"] = metrics.pop("val/acc")
        return metrics


class InvocationTimer(Timer):
    """``Timer`` whose limit counts this invocation only (its saved state is ignored)."""

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._offset = 0


class StopWhenComplete(_AfterCheck):
    """Stop training once the last lesson (or lesson ``until_lesson``) has been passed;
    with ``keep_training``, the last lesson does not stop it."""

    def __init__(
        self, curriculum: Curriculum, until_lesson: int | None = None, keep_training: bool = False
    ) -> None:
        self.curriculum = curriculum
        self.until_lesson = until_lesson
        self.keep_training = keep_training

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.curriculum.completed and not self.keep_training:
            trainer.should_stop = True  # a completed run, resumed: nothing to train

    def after_check(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.state.fn != "fit":
            return
        passed = self.curriculum.position  # lessons passed so far
        if (self.curriculum.completed and not self.keep_training) or (
            self.until_lesson is not None and passed >= self.until_lesson
        ):
            trainer.should_stop = True


class HistoryWriter(_AfterCheck):
    """Keep ``OUT/history.json`` (every curriculum check) up to date, on rank 0."""

    def __init__(self, curriculum_callback: CurriculumCallback, out: Path) -> None:
        self.curriculum_callback = curriculum_callback
        self.out = Path(out)
        self._written = -1

    def after_check(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        history = self.curriculum_callback.history
        if not trainer.is_global_zero or trainer.fast_dev_run or len(history) == self._written:
            return
        write_text(self.out / "history.json", json.dumps(history, indent=1))
        self._written = len(history)
