"""One training run: build the task, curriculum, module and Trainer, fit, report.

``kgdnc train`` calls :func:`train_run`. A run folder holds::

    OUT/last.ckpt          every curriculum check and at the end (resume from it)
    OUT/best.ckpt          highest lesson + accuracy so far
    OUT/passed-LL.ckpt     the weights as lesson LL was passed (no optimiser)
    OUT/csv/version_K/     metrics.csv per invocation (K counts resumptions)
    OUT/tensorboard/version_K/
    OUT/history.json       every curriculum check: lesson, accuracy, step, examples, time
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgdnc.errors import UserError
from kgdnc.training.presets import DEFAULT_PRESET, TrainConfig, make_preset

ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")
STRATEGIES = ("auto", "ddp", "ddp_spawn", "single_device")


@dataclass(frozen=True)
class RunOptions:
    """How to run (not what to learn: that is the :class:`TrainConfig`).

    Attributes:
        task, model, preset: choose the :class:`TrainConfig` (ignored on resume,
            where the checkpoint's configuration is used; a differing explicit
            task or model is an error).
        seed: seed of the weights and episodes.
        out: run folder.
        resume: continue from ``out/last.ckpt``.
        max_steps: stop at this global step (batches, counted over resumptions).
        max_time: ``HH:MM:SS`` for this invocation.
        until_lesson: stop once this (1-based) lesson has been passed.
        keep_training: once the last lesson has been passed, go on training on
            the final lesson (with the run's replay) until ``max_steps`` or
            ``max_time``; a completed run may be resumed so.
        init_from: a checkpoint (path) whose weights and lesson a new run
            starts from: a warm start, with a fresh optimiser. A model of
            another graph task (same network) gives its weights only: the run
            starts at lesson 1 with no examples counted (transfer).
        accelerator, devices, strategy: Lightning's.
        threads: ``torch.set_num_threads`` for this process (default 1: the
            DNC's small operations run slower with more threads on shared cores).
        progress: rich progress bar; off: one line per curriculum check.
        overrides: (field, value) pairs applied to the preset.
        fast_dev_run: Lightning's smoke test (a few batches, no checkpoints).
        log_every: batches between logged training metrics.
    """

    task: str | None = None
    model: str | None = None
    preset: str = DEFAULT_PRESET
    seed: int = 0
    out: Path = Path("runs/run")
    resume: bool = False
    max_steps: int | None = None
    max_time: str | None = None
    until_lesson: int | None = None
    keep_training: bool = False
    init_from: Path | None = None
    accelerator: str = "auto"
    devices: str = "1"
    strategy: str = "auto"
    threads: int | None = None
    progress: bool = True
    overrides: tuple[tuple[str, Any], ...] = ()
    fast_dev_run: int | bool = False
    log_every: int = 50


@dataclass
class TrainResult:
    """What a run reached."""

    out: Path
    task: str
    model: str
    steps: int
    examples: int
    lesson: int
    n_lessons: int
    completed: bool
    wall_time_s: float
    last_checkpoint: Path | None
    best_checkpoint: Path | None
    is_global_zero: bool = True
    history: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> str:
        """A short human summary (empty on DDP ranks other than 0)."""
        if not self.is_global_zero:
            return ""
        status = (
            "curriculum completed" if self.completed else f"lesson {self.lesson}/{self.n_lessons}"
        )
        last = self.history[-1] if self.history else None
        acc = f", last check {last['accuracy']:.3f} on lesson {last['lesson']}" if last else ""
        lines = [
            f"{self.task} ({self.model}): {status}{acc}; {self.steps} steps, "
            f"{self.examples:,} examples, {self.wall_time_s / 60:.1f} min",
        ]
        if self.last_checkpoint is not None:
            lines.append(f"checkpoints: {self.last_checkpoint}"
                         + (f", {self.best_checkpoint}" if self.best_checkpoint else ""))
        return "\n".join(lines)


def parse_duration(text: str) -> dt.timedelta:
    """``HH:MM:SS`` (or ``DD:HH:MM:SS``) -> timedelta.

    Raises:
        UserError: any other form.
    """
    match = re.fullmatch(r"(?:(\d+):)?(\d+):(\d{1,2}):(\d{1,2})", text.strip())
    if not match:
        raise UserError(f"the time limit {text!r} is not HH:MM:SS, e.g. 01:30:00")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    if minutes >= 60 or seconds >= 60:
        raise UserError(f"the time limit {text!r}: minutes and seconds must be below 60")
    total = dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if total.total_seconds() <= 0:
        raise UserError("the time limit must be longer than 00:00:00")
    return total


def parse_devices(text: str) -> int | str:
    """The number of devices: a positive count or ``auto``."""
    if text == "auto":
        return text
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise UserError(f"devices {text!r} is not a positive number or auto")


# what a resume may change: training options, the planning steps and recall blocks of
# the episodes (steps, no weights), and the network options that hold no weights (the
# fused step; sparse links, which the paper found to learn as dense ones; where the
# controller's state is reset)
RESUMABLE = frozenset({
    "lr", "lr_patience", "lr_decay", "lr_min", "lr_restart", "lr_hold", "lr_keep_lessons",
    "batch_size",
    "check_every", "check_mode", "eval_episodes", "pass_rule", "threshold", "late_threshold",
    "late_threshold_from", "late_threshold_to", "end_threshold", "end_threshold_from", "end_lr",
    "replay",
    "curriculum_mix", "curriculum_stretch", "stretch_reach", "num_workers", "grad_clip",
    "dagger_beta", "planning_steps", "aux_recall",
    "aux_queries", "real_choice", "plan_targets", "move_loss", "fused", "link_sparsity",
    "answer_reset", "answer_reset_from",
})


def _resolve_config(options: RunOptions, last: Path) -> TrainConfig:
    if options.resume:
        from kgdnc.training.checkpoint import checkpoint_meta, read_checkpoint

        if not last.is_file():
            raise UserError(
                f"nothing to resume: {str(last)!r} does not exist; start a new run or resume the "
                "of an earlier run"
            )
        if options.init_from is not None:
            raise UserError(
                "a warm start (init_from) begins a new run; it cannot be combined with resuming"
            )
        state = read_checkpoint(last)
        meta = checkpoint_meta(state, last)
        if "optimizer_states" not in state:
            raise UserError(
                f"{str(last)!r} holds weights only (a lesson pass or a bundled model), not a "
                "resumable run; start a new run from it with init_from (--init-from)"
            )
        config = TrainConfig.from_dict(meta["train_config"])
        for name, given in (("task", options.task), ("model", options.model)):
            if given is not None and given != getattr(config, name):
                raise UserError(
                    f"the {name} {given} differs from the run in {str(options.out)!r} "
                    f"({getattr(config, name)}); leave it out or pick another run folder"
                )
        fixed = [(k, v) for k, v in options.overrides if k not in RESUMABLE]
        if fixed:
            names = ", ".join(k for k, _ in fixed)
            raise UserError(
                f"{names} cannot change when resuming (the network is in the checkpoint); "
                "drop them or start a new run"
            )
        changes = {k: v for k, v in options.overrides if v is not None}
        return dataclasses.replace(config, **changes) if changes else config
    if last.exists():
        raise UserError(
            f"{str(options.out)!r} already holds a run (last.ckpt); resume it "
            "or choose another run folder"
        )
    if options.init_from is not None:
        return _warm_config(options)
    if options.task is None:
        raise UserError("a new run needs a task: copy, traversal, shortest-path or inference")
    return make_preset(
        options.preset, options.task, options.model or "dnc", seed=options.seed,
        **dict(options.overrides),
    )


# what a warm start keeps of its model: the task and the network's shape and options
NETWORK_FIELDS = frozenset({
    "task", "model", "controller", "hidden_size", "num_layers", "memory_size", "word_size",
    "read_heads", "link_sparsity", "key_masking", "key_mask_floor", "deallocation_erase",
    "link_sharpness", "memory_init", "bypass_dropout", "layer_norm", "answer_reset",
    "lstm_grad_clip", "controller_clip", "memory_sizing",
})


def _warm_config(options: RunOptions) -> TrainConfig:
    """A new run that starts from a trained model's weights and lesson: the model's
    network, this run's preset and overrides for everything else."""
    from kgdnc.training.checkpoint import checkpoint_meta, read_checkpoint

    path = Path(str(options.init_from))
    meta = checkpoint_meta(read_checkpoint(path), path)
    saved = TrainConfig.from_dict(meta["train_config"])
    task = options.task or saved.task
    if task != saved.task and "copy" in (task, saved.task):
        raise UserError(
            f"the task {task} differs from the model's task ({saved.task}), and copy episodes "
            "have another input; pick a model of a graph task or of the same task"
        )
    given = dict(options.overrides)
    # the network options that hold no weights may change, as on a resume
    bad = sorted(k for k in given if k in NETWORK_FIELDS and k not in RESUMABLE
                 and given[k] is not None and given[k] != getattr(saved, k))
    if bad:
        names = ", ".join(bad)
        raise UserError(f"{names} cannot differ from the model a warm start begins with; "
                        "drop them or train from scratch")
    kept = NETWORK_FIELDS - {"task", "model"} - {k for k in RESUMABLE if given.get(k) is not None}
    network = {k: getattr(saved, k) for k in kept}
    return make_preset(
        options.preset, task, saved.model, seed=options.seed, **{**given, **network}
    )


def warm_start(module: Any, curriculum: Any, path: Path) -> None:
    """Load a model's weights into ``module`` and start ``curriculum`` at its lesson
    (its examples count on); a model of another task gives its weights only (lesson 1,
    no examples counted)."""
    from kgdnc.training.checkpoint import checkpoint_meta, read_checkpoint

    data = read_checkpoint(path)
    meta = checkpoint_meta(data, path)
    module.load_state_dict(data["state_dict"], strict=True)
    if meta["train_config"]["task"] != module.config.task:
        return
    module.examples_seen = int(meta.get("examples_seen", 0))
    position = int((meta.get("curriculum") or {}).get("position", meta.get("lesson", 0)))
    curriculum.load_state_dict({"position": position, "n_lessons": len(curriculum.lessons)})


def make_curriculum(config: TrainConfig) -> Any:
    """The task's curriculum with the configuration's pass marks, check cadence
    (episodes), replay, mix and stretch."""
    from kgdnc.tasks import Curriculum, get_task
    from kgdnc.training.data import check_plan

    task = get_task(config.task)
    return Curriculum(
        task.lessons,
        threshold=config.threshold if config.threshold is not None else task.threshold,
        check_every=check_plan(config).every,
        replay=config.replay if config.replay is not None else task.replay,
        mix=config.curriculum_mix,
        stretch=config.curriculum_stretch,
        stretch_reach=config.stretch_reach,
        late_threshold=config.late_threshold,
        late_from=config.late_threshold_from,
        late_to=config.late_threshold_to,
        end_threshold=config.end_threshold,
        end_from=config.end_threshold_from,
    )


def train_run(options: RunOptions) -> TrainResult:
    """Train as ``options`` say; see the module docstring for the run folder.

    Raises:
        UserError: bad options, a missing or foreign checkpoint to resume.
    """
    if options.accelerator not in ACCELERATORS:
        raise UserError(
            f"accelerator {options.accelerator!r} is unknown; "
            f"use one of {', '.join(ACCELERATORS)}"
        )
    if options.strategy not in STRATEGIES:
        raise UserError(
            f"strategy {options.strategy!r} is unknown; use one of {', '.join(STRATEGIES)}"
        )
    devices = parse_devices(options.devices)
    max_time = parse_duration(options.max_time) if options.max_time is not None else None
    if options.max_steps is not None and options.max_steps < 1:
        raise UserError(f"max_steps must be at least 1, got {options.max_steps}")
    if options.until_lesson is not None and options.until_lesson < 1:
        raise UserError(f"until_lesson must be at least 1, got {options.until_lesson}")
    if options.keep_training and options.max_steps is None and max_time is None:
        raise UserError("keep_training needs a limit: give max_steps or max_time")
    if options.threads is not None and options.threads < 1:
        raise UserError(f"threads must be at least 1, got {options.threads}")
    out = Path(options.out)
    last = out / "last.ckpt"
    config = _resolve_config(options, last)

    import logging
    import warnings

    import pytorch_lightning as pl
    import torch
    from pytorch_lightning.loggers import CSVLogger

    from kgdnc.training.callbacks import (
        CheckReporter,
        CurriculumCallback,
        HistoryWriter,
        InvocationTimer,
        LessonProgressBar,
        StopWhenComplete,
    )
    from kgdnc.training.checkpoint_io import SafeCheckpointIO
    from kgdnc.training.data import EpisodeDataModule, check_plan
    from kgdnc.training.module import GraphTaskModule
    from kgdnc.training.schedule import PlateauSchedule

    # The DNC's many small operations gain nothing from intra-op threads and
    # lose much when cores are shared: one thread per process unless told.
    torch.set_num_threads(options.threads or 1)
    for pattern in (
        ".*does not have many workers.*",
        ".*IterableDataset.*__len__.*",
        ".*resuming from a checkpoint that ended before the epoch ended.*",
        ".*Experiment logs directory.*exists and is not empty.*",
        ".*Checkpoint directory.*exists and is not empty.*",
        ".*GPU available but not used.*",
        ".*Be aware that when using `ckpt_path`.*",
        ".*LOCAL_RANK.*",
        ".*overridden `transfer_batch_to_device`.*",
        ".*isinstance\\(treespec, LeafSpec\\)`? is deprecated.*",
    ):
        warnings.filterwarnings("ignore", message=pattern)
    # Lightning's banners and tips say nothing about this run.
    for name in ("pytorch_lightning", "lightning_fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if options.accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise UserError(
            f"accelerator {options.accelerator} asks for a GPU, but torch sees no CUDA device "
            "here; use the cpu accelerator (or auto)"
        )
    if options.accelerator == "mps" and not torch.backends.mps.is_available():
        raise UserError("accelerator mps asks for Apple's GPU, which torch cannot use here; "
                        "use the cpu accelerator (or auto)")
    pl.seed_everything(config.seed, verbose=False)

    curriculum = make_curriculum(config)
    plan = check_plan(config)
    module = GraphTaskModule(config.to_dict())
    if options.init_from is not None and not options.resume:
        warm_start(module, curriculum, Path(options.init_from))
    data = EpisodeDataModule(config, curriculum)
    # last.ckpt after every check (a stopped run loses at most one check
    # interval), best.ckpt when the curriculum progresses, passed-LL.ckpt per lesson
    schedule = (
        PlateauSchedule(config.lr, config.lr_patience, config.lr_decay, config.lr_min,
                        restart=config.lr_restart, hold=config.lr_hold,
                        keep_lessons=config.lr_keep_lessons)
        if config.lr_patience else None
    )
    curriculum_cb = CurriculumCallback(
        curriculum, mode=plan.mode, every=plan.every,
        out=None if options.fast_dev_run else out, schedule=schedule,
        end_lr=config.end_lr,
    )
    callbacks: list[pl.Callback] = [
        curriculum_cb,
        CheckReporter(curriculum_cb, every_check=not options.progress),
        StopWhenComplete(
            curriculum, until_lesson=options.until_lesson, keep_training=options.keep_training
        ),
        HistoryWriter(curriculum_cb, out),
    ]
    if options.progress:
        callbacks.append(LessonProgressBar(leave=True))
    if max_time is not None:
        callbacks.append(InvocationTimer(duration=max_time, interval="step", verbose=False))

    loggers: list[Any] = []
    if not options.fast_dev_run:
        loggers.append(CSVLogger(save_dir=out, name="csv"))
        try:
            from pytorch_lightning.loggers import TensorBoardLogger

            loggers.append(
                TensorBoardLogger(save_dir=out, name="tensorboard", default_hp_metric=False)
            )
        except ModuleNotFoundError:  # tensorboard is optional
            pass

    trainer = pl.Trainer(
        accelerator=options.accelerator,
        devices=devices,
        strategy=options.strategy,
        max_steps=options.max_steps if options.max_steps is not None else -1,
        max_epochs=-1,
        val_check_interval=plan.batches(config.batch_size),
        check_val_every_n_epoch=None,
        # running checks tally the training episodes: no validation loop at all
        limit_val_batches=0 if plan.mode == "running" else None,
        enable_checkpointing=False,  # the curriculum callback writes the checkpoints
        num_sanity_val_steps=0,
        gradient_clip_val=config.grad_clip if config.grad_clip > 0 else None,
        log_every_n_steps=options.log_every,
        callbacks=callbacks,
        logger=loggers if loggers else False,
        enable_progress_bar=options.progress,
        enable_model_summary=False,
        plugins=[SafeCheckpointIO()],
        fast_dev_run=options.fast_dev_run,
        use_distributed_sampler=False,
    )
    trainer.fit(
        module, datamodule=data, ckpt_path=str(last) if options.resume else None, weights_only=True
    )
    if not options.fast_dev_run:
        trainer.save_checkpoint(last, weights_only=False)
    best = out / "best.ckpt"
    return TrainResult(
        out=out,
        task=config.task,
        model=config.model,
        steps=int(trainer.global_step),
        examples=int(module.examples_seen),
        lesson=curriculum.position + 1,
        n_lessons=len(curriculum.lessons),
        completed=bool(curriculum.completed),
        wall_time_s=curriculum_cb.wall_time_s,
        last_checkpoint=last if last.exists() else None,
        best_checkpoint=best if best.exists() else None,
        is_global_zero=trainer.is_global_zero,
        history=list(curriculum_cb.history),
    )
