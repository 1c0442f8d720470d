"""``kgdnc train``: train a DNC (or the LSTM baseline) on one of the paper's tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kgdnc.cli.main import app, user_errors
from kgdnc.training.presets import DEFAULT_PRESET


def _lessons(text: str | None) -> tuple[int, ...] | None:
    """``--lr-keep-lessons``: "2" or "1,2" -> (2,) or (1, 2); "" -> none."""
    if text is None:
        return None
    from kgdnc.errors import UserError

    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        raise UserError(f"--lr-keep-lessons {text!r} is not a list of lesson numbers; "
                        "write e.g. 2 or 1,2")
    return tuple(int(p) for p in parts)


@app.command()
@user_errors
def train(
    task: Annotated[
        str | None, typer.Option(help="copy, traversal, shortest-path or inference.")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="dnc, or lstm for the LSTM baseline (default: dnc).")
    ] = None,
    preset: Annotated[
        str,
        typer.Option(help="cpu-ln (the measured fastest on 2 cores), cpu, or paper (ED Table 2)."),
    ] = DEFAULT_PRESET,
    max_steps: Annotated[
        int | None, typer.Option(help="Stop at this many batches in all (resumes count on).")
    ] = None,
    max_time: Annotated[
        str | None, typer.Option(help="Stop after HH:MM:SS of this invocation.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Run folder for checkpoints and logs [runs/TASK-MODEL].")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from OUT/last.ckpt (step and lesson).")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of weights and episodes.")] = 0,
    accelerator: Annotated[str, typer.Option(help="auto, cpu or gpu.")] = "auto",
    devices: Annotated[str, typer.Option(help="Number of devices, or auto.")] = "1",
    strategy: Annotated[str, typer.Option(help="auto or ddp (gloo on CPU).")] = "auto",
    batch_size: Annotated[int | None, typer.Option(help="Override the preset's batch.")] = None,
    lr: Annotated[
        float | None,
        typer.Option(help="Override the preset's learning rate (may change on --resume)."),
    ] = None,
    lr_patience: Annotated[
        int | None,
        typer.Option(help="Lower the learning rate after this many training episodes "
                     "without a better check (0: a fixed rate, the default; may change "
                     "on --resume)."),
    ] = None,
    lr_decay: Annotated[
        float | None, typer.Option(help="Factor of each such drop (default 0.3).")
    ] = None,
    lr_min: Annotated[
        float | None, typer.Option(help="The lowest rate the drops reach (default 1e-5).")
    ] = None,
    lr_restart: Annotated[
        bool | None,
        typer.Option(help="With --lr-patience: a passed lesson returns the rate to --lr "
                     "(may change on --resume)."),
    ] = None,
    lr_hold: Annotated[
        int | None,
        typer.Option(help="With --lr-patience: the first this many training episodes of "
                     "each lesson never lower the rate (may change on --resume)."),
    ] = None,
    lr_keep_lessons: Annotated[
        str | None,
        typer.Option(help="With --lr-patience: lessons whose plateaus never lower the "
                     "rate, e.g. 2 or 1,2 (may change on --resume)."),
    ] = None,
    optimizer: Annotated[
        str | None, typer.Option(help="Override the preset's optimiser: rmsprop or adam.")
    ] = None,
    hidden_size: Annotated[
        int | None, typer.Option(help="Override the controller's units per layer.")
    ] = None,
    layers: Annotated[int | None, typer.Option(help="Override the controller's layers.")] = None,
    word_size: Annotated[int | None, typer.Option(help="Override W, the word width.")] = None,
    read_heads: Annotated[int | None, typer.Option(help="Override R, the read heads.")] = None,
    key_masking: Annotated[
        bool | None, typer.Option(help="Masked content lookup (Csordás & Schmidhuber 2019).")
    ] = None,
    key_mask_floor: Annotated[
        float | None, typer.Option(help="With key masking, the mask's floor (Csordás: 0.1).")
    ] = None,
    deallocation_erase: Annotated[
        bool | None,
        typer.Option(help="Wipe freed slots before the write (Csordás & Schmidhuber 2019).")
    ] = None,
    link_sharpness: Annotated[
        bool | None,
        typer.Option(help="Sharpen the link weightings per read head (Csordás & Schmidhuber "
                          "2019).")
    ] = None,
    memory_init: Annotated[
        float | None, typer.Option(help="Initial memory: this small constant (default zeros).")
    ] = None,
    bypass_dropout: Annotated[
        float | None, typer.Option(help="Dropout on the controller's direct output path.")
    ] = None,
    layer_norm: Annotated[
        bool | None, typer.Option(help="Layer normalisation in the controller.")
    ] = None,
    answer_reset: Annotated[
        str | None,
        typer.Option(help="Zero the controller's state (not in the paper) 'first' where an "
                     "answer phase begins (the query reaches the answer only through the "
                     "memory) or before 'every' answer step; 'off': never (the paper's). "
                     "cpu-ln traversal: first (from lesson 2); other presets: off.")
    ] = None,
    answer_reset_from: Annotated[
        int | None,
        typer.Option(help="With --answer-reset: the first lesson trained with it (the "
                     "lessons before train without; may change on --resume).")
    ] = None,
    late_threshold: Annotated[
        float | None,
        typer.Option(help="The pass mark of the lessons from --late-threshold-from to "
                     "--late-threshold-to (not in the paper, whose mark is 0.9; may change on "
                     "--resume). cpu-ln: 0.95 from lesson 2 (inference: to 6).")
    ] = None,
    late_threshold_from: Annotated[
        int | None,
        typer.Option(help="With --late-threshold: the first lesson passed at it.")
    ] = None,
    late_threshold_to: Annotated[
        int | None,
        typer.Option(help="With --late-threshold: the last lesson passed at it (default: "
                     "the last lesson; cpu-ln inference: 6).")
    ] = None,
    end_threshold: Annotated[
        float | None,
        typer.Option(help="The pass mark of the lessons from --end-threshold-from to the "
                     "last, in place of --late-threshold there (not in the paper; may "
                     "change on --resume). cpu-ln traversal: 0.98 from lesson 13.")
    ] = None,
    end_threshold_from: Annotated[
        int | None,
        typer.Option(help="With --end-threshold or --end-lr: the first of the end lessons "
                     "(default: the last lesson only).")
    ] = None,
    end_lr: Annotated[
        float | None,
        typer.Option(help="The learning rate each lesson from --end-threshold-from (default: "
                     "the last) on begins at (not in the paper; may change on --resume). "
                     "cpu-ln traversal: 3e-4 from lesson 13.")
    ] = None,
    fused: Annotated[
        str | None,
        typer.Option(help="The memory step: off (eager reference), auto or on (fused C++ "
                     "on the CPU; same equations, may change on --resume).")
    ] = None,
    init_from: Annotated[
        str | None,
        typer.Option(help="Start a new run from a model's weights and lesson (a checkpoint, "
                     "or a stored or bundled model's name); fresh optimiser. A model of "
                     "another graph task gives its weights only (lesson 1)."),
    ] = None,
    until_lesson: Annotated[
        int | None, typer.Option(help="Stop once this lesson has been passed.")
    ] = None,
    keep_training: Annotated[
        bool,
        typer.Option("--keep-training",
                     help="After the last lesson passes, train on it until --max-steps or "
                     "--max-time (also resumes a completed run)."),
    ] = False,
    workers: Annotated[
        int | None, typer.Option(help="DataLoader workers generating episodes.")
    ] = None,
    memory_size: Annotated[
        int | None, typer.Option(help="Override N, memory slots (the minimum when per episode).")
    ] = None,
    memory_sizing: Annotated[
        str | None, typer.Option(help="fixed, or episode (at least one slot per input step).")
    ] = None,
    check_every: Annotated[
        int | None,
        typer.Option(help="Training episodes between curriculum checks (default: the "
                     "paper's: traversal 200, inference 3200, shortest path 2000)."),
    ] = None,
    check_mode: Annotated[
        str | None,
        typer.Option(help="running (the training episodes' own answers) or fresh "
                     "(new episodes); default: the task's."),
    ] = None,
    eval_episodes: Annotated[
        int | None, typer.Option(help="Episodes in each fresh check (default 128; "
                                 "shortest path 50).")
    ] = None,
    pass_rule: Annotated[
        str | None,
        typer.Option(help="Shortest path: exact, or one-longer (default; Methods).")
    ] = None,
    curriculum_mix: Annotated[
        float | None,
        typer.Option(help="Share of episodes drawn from all lessons so far (default 0).")
    ] = None,
    curriculum_stretch: Annotated[
        float | None,
        typer.Option(help="Traversal: share of episodes with walks up to the last lesson's "
                          "length on the current lesson's graphs (default 0).")
    ] = None,
    stretch_reach: Annotated[
        float | None,
        typer.Option(help="With --curriculum-stretch: stretched walks up to this multiple of "
                          "the lesson's longest (default: the last lesson's 20 steps).")
    ] = None,
    planning_steps: Annotated[
        int | None, typer.Option(help="Shortest path, inference: planning steps (default 10).")
    ] = None,
    aux_recall: Annotated[
        int | None,
        typer.Option(help="Recall blocks per training episode for the auxiliary recall "
                     "loss (Park et al. 2020; shortest path: backward look-ups; default "
                     "0; may change on --resume)."),
    ] = None,
    aux_queries: Annotated[
        int | None,
        typer.Option(help="Shortest path: further queries per training episode, scored "
                     "(loss only) on their first move (default 0; may change on --resume)."),
    ] = None,
    plan_targets: Annotated[
        bool | None,
        typer.Option(help="Score the planning steps (loss only): shortest path on a "
                     "shortest path's triples, from the destination backwards; inference "
                     "on the relation's hops, one a step (default: on for cpu-ln "
                     "inference, else off; may change on --resume)."),
    ] = None,
    real_choice: Annotated[
        bool | None,
        typer.Option(help="Shortest path: only queries whose source has a wrong first "
                     "move, in training and checks (default off; may change on --resume)."),
    ] = None,
    move_loss: Annotated[
        str | None,
        typer.Option(help="Shortest path: the loss of a move, candidates (default: "
                     "renormalised over the node's triples) or triple (every digit of "
                     "the optimal triple; may change on --resume)."),
    ] = None,
    link_sparsity: Annotated[
        int | None, typer.Option(help="Sparse links: keep K per row (default: dense).")
    ] = None,
    threads: Annotated[
        int | None, typer.Option(help="torch CPU threads for this process (default: 1).")
    ] = None,
    progress: Annotated[
        bool, typer.Option(help="Rich progress bar (off: one line per curriculum check).")
    ] = True,
) -> None:
    """Train on a task's curriculum, with checkpoints (last.ckpt, best.ckpt) and logs in OUT."""
    from kgdnc.training.run import RunOptions, train_run

    start = None
    if init_from is not None:
        from kgdnc.reasoning.models import resolve_model

        start = Path(resolve_model(init_from, task or "traversal").path)

    overrides = dict(
        batch_size=batch_size, lr=lr, lr_patience=lr_patience, lr_decay=lr_decay,
        lr_min=lr_min, lr_restart=lr_restart, lr_hold=lr_hold,
        lr_keep_lessons=_lessons(lr_keep_lessons),
        optimizer=optimizer,
        memory_size=memory_size,
        memory_sizing=memory_sizing, check_every=check_every, check_mode=check_mode,
        eval_episodes=eval_episodes, pass_rule=pass_rule, curriculum_mix=curriculum_mix,
        curriculum_stretch=curriculum_stretch,
        stretch_reach=stretch_reach,
        planning_steps=planning_steps, aux_recall=aux_recall, aux_queries=aux_queries,
        plan_targets=plan_targets,
        real_choice=real_choice, move_loss=move_loss, link_sparsity=link_sparsity,
        hidden_size=hidden_size, num_layers=layers, word_size=word_size, read_heads=read_heads,
        key_masking=key_masking, key_mask_floor=key_mask_floor,
        deallocation_erase=deallocation_erase, link_sharpness=link_sharpness,
        memory_init=memory_init,
        bypass_dropout=bypass_dropout, layer_norm=layer_norm, answer_reset=answer_reset,
        answer_reset_from=answer_reset_from, late_threshold=late_threshold,
        late_threshold_from=late_threshold_from, late_threshold_to=late_threshold_to,
        end_threshold=end_threshold, end_threshold_from=end_threshold_from, end_lr=end_lr,
        fused=fused,
        num_workers=workers,
    )
    options = RunOptions(
        task=task, model=model, preset=preset, seed=seed,
        out=out if out is not None else Path("runs") / f"{task or 'run'}-{model or 'dnc'}",
        resume=resume, max_steps=max_steps, max_time=max_time, until_lesson=until_lesson,
        keep_training=keep_training, init_from=start,
        accelerator=accelerator, devices=devices, strategy=strategy,
        threads=threads, progress=progress,
        overrides=tuple((k, v) for k, v in overrides.items() if v is not None),
    )
    result = train_run(options)
    if result.is_global_zero:
        typer.echo(result.summary())
