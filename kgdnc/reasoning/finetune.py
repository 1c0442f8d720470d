"""Fine-tune a trained model on a user's graph (``kgdnc finetune``).

Episodes come from the user's graph, made exactly as ``kgdnc query`` makes them
(:func:`kgdnc.reasoning.build_episode`): a random query of the task (a random
walk's relations for traversal and inference, a random pair at a drawn distance
for shortest path), fresh random labels and a random description order per
episode, a query-focused sub-graph when the graph is big. Training queries
whose answer is unique are preferred (so targets are unambiguous on graphs such
as family trees).

Held-out queries (``eval_queries`` of them, drawn first with their own seed)
are never trained on; accuracy on them — each answer checked against the exact
answer, as ``kgdnc query`` does — is measured before and after. Training runs
through Lightning with the project's module, progress bar, safe checkpoint IO
and time limit; ``OUT/last.ckpt`` is kept during the run. The result is stored
atomically as a workspace model (``kgdnc models list``), usable with
``kgdnc query --model NAME``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgdnc.errors import UserError
from kgdnc.reasoning.episodes import DEFAULT_LENGTHS
from kgdnc.reasoning.query import Query

if TYPE_CHECKING:
    import networkx as nx

    from kgdnc.tasks.curriculum import Lesson
    from kgdnc.tasks.episode import Episode
    from kgdnc.tasks.shortest_path import ShortestPathEpisode
    from kgdnc.training.trained import Network

__all__ = [
    "DEFAULT_LENGTHS",
    "DEFAULT_STEPS",
    "FinetuneOptions",
    "FinetuneResult",
    "finetune",
    "heldout_accuracy",
    "heldout_queries",
    "write_initial_checkpoint",
]

DEFAULT_STEPS = 200
_QUERY_TASKS = tuple(DEFAULT_LENGTHS)


@dataclass(frozen=True)
class FinetuneOptions:
    """What ``kgdnc finetune`` was asked.

    Attributes:
        task: ``traversal``, ``shortest-path`` or ``inference``.
        name: workspace name of the result.
        graph: graph name (None: the default graph).
        from_model: model to start from (None: the bundled model of ``task``).
        steps: batches to train (default 200 unless ``max_time`` is given).
        max_time: ``HH:MM:SS`` limit.
        batch_size, lr: default: the model's own batch (at most 16) and rate.
        eval_queries: held-out queries measured before and after.
        lengths: query lengths (walk, composition, shortest path), default per task.
        max_triples: sub-graph limit per episode.
        seed: seed of queries, label draws and the shuffled batches.
        out: run folder for checkpoints and logs (default
            ``$KGDNC_HOME/models/.runs/NAME``).
        force: replace a workspace model of the same name.
        progress: rich progress bar.
        accelerator: Lightning's (``auto``, ``cpu``, ``gpu``).
    """

    task: str
    name: str
    graph: str | None = None
    from_model: str | None = None
    steps: int | None = None
    max_time: str | None = None
    batch_size: int | None = None
    lr: float | None = None
    eval_queries: int = 50
    lengths: tuple[int, int] | None = None
    max_triples: int = 256
    seed: int = 0
    out: Path | None = None
    force: bool = False
    progress: bool = True
    accelerator: str = "auto"


@dataclass
class FinetuneResult:
    """What a fine-tuning run did."""

    name: str
    path: Path
    task: str
    graph: str
    base_model: str
    steps: int
    examples: int
    eval_queries: int
    accuracy_before: float
    accuracy_after: float
    wall_time_s: float
    card: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.name}: {self.task} on {self.graph}, {self.steps} steps "
            f"({self.examples:,} episodes, {self.wall_time_s:.0f} s) from {self.base_model}\n"
            f"held-out accuracy ({self.eval_queries} queries): "
            f"{self.accuracy_before:.1%} before -> {self.accuracy_after:.1%} after\n"
            f"saved as workspace model {self.name!r} ({self.path}); "
            f"use it with --model {self.name}"
        )


def write_initial_checkpoint(
    path: str | Path, task: str, preset: str | None = None, seed: int = 0, **overrides: Any
) -> Path:
    """An untrained model's checkpoint (weights drawn with ``seed``), loadable like any
    trained one: the start of a fine-tuning from scratch, or a tiny model for tests.

    ``preset``: default the training default (``cpu-ln``); ``overrides``:
    :class:`TrainConfig` fields (``hidden_size=16``, ...).
    """
    import torch

    from kgdnc.training.checkpoint import atomic_save
    from kgdnc.training.module import GraphTaskModule
    from kgdnc.training.presets import DEFAULT_PRESET, make_preset

    config = make_preset(preset or DEFAULT_PRESET, task, seed=seed, **overrides)
    torch.manual_seed(seed)
    module = GraphTaskModule(config.to_dict())
    checkpoint: dict[str, Any] = {"state_dict": module.state_dict()}
    module.on_save_checkpoint(checkpoint)
    return atomic_save(checkpoint, path)


def heldout_queries(
    graph: nx.MultiDiGraph, task: str, count: int, lengths: tuple[int, int], seed: int
) -> list[Query]:
    """``count`` distinct random queries (fewer when the graph has fewer)."""
    from kgdnc.reasoning.accuracy import sample_queries

    return sample_queries(
        graph, task, count, lengths, random.Random(f"kgdnc-finetune/{seed}/held-out")
    )


def heldout_accuracy(
    network: Network,
    trained_memory: int,
    graph: nx.MultiDiGraph,
    queries: list[Query],
    *,
    max_triples: int = 256,
    seed: int = 0,
    batch_size: int = 16,
    planning_steps: int | None = None,
) -> float:
    """Share of ``queries`` answered right (one label draw each, seeded), checked
    against the exact answers as ``kgdnc query`` checks them."""
    from kgdnc.reasoning.accuracy import query_results

    if not queries:
        return float("nan")
    results = query_results(network, trained_memory, graph, queries, max_triples=max_triples,
                            seed=seed, batch_size=batch_size, planning_steps=planning_steps)
    return sum(right for right, _ in results) / len(queries)


@dataclass(frozen=True)
class GraphEpisodes:
    """``make_episode(lesson, seed)`` for the episode stream: a random training query on
    the user's graph (never a held-out one) as a query episode."""

    graph: nx.MultiDiGraph
    task: str
    lengths: tuple[int, int]
    exclude: set[tuple[str, ...]]
    max_triples: int
    planning_steps: int | None = None

    def __call__(
        self, lesson: Lesson, seed: random.Random | int, graph: object = None, **_: object
    ) -> Episode | ShortestPathEpisode:
        """A task's ``make_episode`` (the lesson and a graph given are not used: the
        user's graph and the query lengths decide)."""
        from kgdnc.reasoning.kinds import build_episode, sample_query

        rng = seed if isinstance(seed, random.Random) else random.Random(seed)
        error: UserError | None = None
        for _attempt in range(20):
            query = sample_query(self.graph, self.task, rng, self.lengths, exclude=self.exclude,
                                 prefer_unique=True)
            try:
                return build_episode(self.graph, query, rng, max_triples=self.max_triples,
                                     planning_steps=self.planning_steps).episode
            except UserError as exc:  # e.g. a query whose nodes alone exceed the limit
                error = exc
        assert error is not None
        raise error


def finetune(options: FinetuneOptions) -> FinetuneResult:
    """Fine-tune as ``options`` say; see the module docstring.

    Raises:
        UserError: bad options, a base model of another task, a taken name, a graph
            with no query of the task.
    """
    from kgdnc.reasoning.models import models_dir, resolve_model, save_model, validate_model_name
    from kgdnc.training.run import parse_duration

    if options.task not in _QUERY_TASKS:
        raise UserError(
            f"unknown task {options.task!r}; fine-tuning knows {', '.join(_QUERY_TASKS)}"
        )
    validate_model_name(options.name)
    if (models_dir() / options.name).exists() and not options.force:
        raise UserError(
            f"model {options.name!r} already exists; replace it (force) or choose another name"
        )
    if options.steps is not None and options.steps < 1:
        raise UserError(f"steps must be at least 1, got {options.steps}")
    if options.eval_queries < 1:
        raise UserError(f"held-out queries must be at least 1, got {options.eval_queries}")
    if options.batch_size is not None and options.batch_size < 1:
        raise UserError(f"the batch size must be at least 1, got {options.batch_size}")
    if options.lr is not None and options.lr <= 0:
        raise UserError(f"the learning rate must be positive, got {options.lr}")
    max_time = parse_duration(options.max_time) if options.max_time else None
    steps = options.steps if options.steps is not None else (None if max_time else DEFAULT_STEPS)
    lengths = options.lengths or DEFAULT_LENGTHS[options.task]
    if not 1 <= lengths[0] <= lengths[1]:
        raise UserError(f"query lengths {lengths} must satisfy 1 <= low <= high")

    from kgdnc.graphs import load

    kg = load(options.graph)
    graph = kg.to_networkx()
    entry = resolve_model(options.from_model, options.task)

    import logging
    import warnings

    import pytorch_lightning as pl
    from pytorch_lightning.callbacks import ModelCheckpoint
    from pytorch_lightning.loggers import CSVLogger
    from torch.utils.data import DataLoader

    from kgdnc.tasks import EpisodeStream, Lesson, get_task
    from kgdnc.training.callbacks import InvocationTimer, LessonProgressBar
    from kgdnc.training.checkpoint import META_KEY, read_checkpoint
    from kgdnc.training.checkpoint_io import SafeCheckpointIO
    from kgdnc.training.data import batch_of
    from kgdnc.training.module import GraphTaskModule
    from kgdnc.training.presets import TrainConfig
    from kgdnc.training.trained import load_trained

    base = load_trained(entry.path)
    if base.task != options.task:
        raise UserError(
            f"model {entry.label()!r} was trained on {base.task}, not {options.task}; "
            "start from a model of that task"
        )
    config = TrainConfig.from_dict(base.meta["train_config"])
    config = dataclasses.replace(
        config,
        lr=options.lr if options.lr is not None else config.lr,
        batch_size=options.batch_size or min(config.batch_size, 16),
        memory_sizing="episode",
        num_workers=0,
        aux_recall=0,  # query episodes never carry recall blocks
        seed=options.seed,
    )
    module = GraphTaskModule(config.to_dict(), base.meta["model_config"])
    module.network.load_state_dict(base.network.state_dict())
    module.examples_seen = 0

    held_out = heldout_queries(graph, options.task, options.eval_queries, lengths, options.seed)
    if not held_out:
        raise UserError(
            f"the graph has no {options.task} query of length {lengths[0]}-{lengths[1]}; "
            "choose other lengths"
        )
    exclude = {q.key() for q in held_out}
    measure = functools.partial(
        heldout_accuracy, graph=graph, queries=held_out, max_triples=options.max_triples,
        seed=options.seed, planning_steps=config.planning_steps,
    )
    before = measure(module.network, config.memory_size)

    task = dataclasses.replace(
        get_task(options.task),
        make_episode=GraphEpisodes(graph, options.task, lengths, exclude, options.max_triples,
                                   config.planning_steps),
    )
    lesson = Lesson(0, nodes=(0, 0), out_degree=(0, 0), length=lengths)
    stream = EpisodeStream(task, lambda rng: lesson, options.seed)
    loader = DataLoader(
        stream, batch_size=config.batch_size, num_workers=0,
        collate_fn=functools.partial(batch_of, task),
    )
    out = options.out or models_dir() / ".runs" / options.name
    out.mkdir(parents=True, exist_ok=True)
    every = max(1, (steps or 1000) // 4)
    callbacks: list[Any] = [
        ModelCheckpoint(dirpath=out, save_last=True, save_top_k=0, every_n_train_steps=every,
                        enable_version_counter=False),
    ]
    if options.progress:
        callbacks.append(LessonProgressBar(leave=True))
    if max_time is not None:
        callbacks.append(InvocationTimer(duration=max_time, interval="step", verbose=False))
    for pattern in (".*does not have many workers.*", ".*IterableDataset.*__len__.*",
                    ".*Checkpoint directory.*exists and is not empty.*",
                    ".*GPU available but not used.*", ".*overridden `transfer_batch_to_device`.*",
                    ".*isinstance\\(treespec, LeafSpec\\)`? is deprecated.*",
                    ".*`training_step` returned `None`.*", ".*save_top_k=0.*",
                    ".*defined a `validation_step` but have no `val_dataloader`.*"):
        warnings.filterwarnings("ignore", message=pattern)
    for name in ("pytorch_lightning", "lightning_fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    pl.seed_everything(options.seed, verbose=False)
    trainer = pl.Trainer(
        accelerator=options.accelerator,
        devices=1,
        max_steps=steps if steps is not None else -1,
        max_epochs=-1,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        gradient_clip_val=config.grad_clip if config.grad_clip > 0 else None,
        log_every_n_steps=max(1, min(50, steps or 50)),
        callbacks=callbacks,
        logger=CSVLogger(save_dir=out, name="csv"),
        enable_progress_bar=options.progress,
        enable_model_summary=False,
        plugins=[SafeCheckpointIO()],
    )
    started = time.monotonic()
    trainer.fit(module, train_dataloaders=loader)
    wall = time.monotonic() - started
    final = out / "final.ckpt"
    trainer.save_checkpoint(final)
    module.cpu()
    after = measure(module.network, config.memory_size)

    card = {
        "task": options.task,
        "graph": kg.name,
        "base_model": entry.label(),
        "steps": int(trainer.global_step),
        "examples": int(module.examples_seen),
        "batch_size": config.batch_size,
        "lr": config.lr,
        "lengths": list(lengths),
        "max_triples": options.max_triples,
        "eval_queries": len(held_out),
        "accuracy_before": before,
        "accuracy_after": after,
        "seed": options.seed,
        "wall_time_s": round(wall, 1),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    data = read_checkpoint(final)
    slim = {k: v for k, v in data.items()
            if k not in ("optimizer_states", "lr_schedulers", "loops", "callbacks")}
    slim.setdefault(META_KEY, {})["finetune"] = dict(card)
    saved = save_model(slim, options.name, card, force=options.force)
    return FinetuneResult(
        name=options.name, path=saved.path, task=options.task, graph=kg.name,
        base_model=entry.label(), steps=int(trainer.global_step),
        examples=int(module.examples_seen), eval_queries=len(held_out),
        accuracy_before=before, accuracy_after=after, wall_time_s=wall, card=card,
    )
