"""The LightningModule: a thin wrapper over the plain DNC (or the LSTM baseline).

One shared :meth:`GraphTaskModule.step` serves training, validation and test:
the loss is the cross-entropy summed over the nine digits of each answer step,
summed over the episode's answer steps (and its loss-only recall steps,
``Batch.aux``, when the auxiliary recall loss is on) and averaged over episodes;
the metrics are the greedy episode accuracy (every answer step right, recall
steps never counted) and the per-step accuracy. Shortest path is interactive
(see :mod:`kgdnc.training.rollout`): the network's own choices are fed back, and
training mixes in the planner's moves (DAgger, β = 0.8).

Shapes: B episodes, T steps, N memory slots.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor

from kgdnc import __version__
from kgdnc.dnc import DNCConfig
from kgdnc.tasks.codec import (
    FLAG_ANSWER,
    FLAG_PHASE,
    INPUT_SIZE,
    N_DIGITS,
    OUTPUT_SIZE,
    TERMINATION_LABEL,
)
from kgdnc.training.checkpoint import FORMAT, FORMAT_VERSION, META_KEY
from kgdnc.training.losses import Scores, StepResult, greedy_scores, sequence_loss
from kgdnc.training.presets import TrainConfig
from kgdnc.training.trained import build_network, memory_size_for, round_up

__all__ = [  # build_network, round_up (training.trained), StepResult (losses): re-exported
    "GraphTaskModule",
    "StepResult",
    "batch_lessons",
    "build_network",
    "codec_of",
    "network_config",
    "round_up",
]

GRAPH_CODEC = {
    "input_size": INPUT_SIZE, "output_size": OUTPUT_SIZE, "n_digits": N_DIGITS, "base": 10,
    "labels": 1000, "termination": TERMINATION_LABEL,
}


def codec_of(task: Any) -> dict[str, Any]:
    """What a checkpoint records of the task's encoding."""
    if task.name == "copy":
        return {"input_size": task.input_size, "output_size": task.output_size,
                "bits": task.target_size}
    return dict(GRAPH_CODEC)


# TrainConfig.answer_reset -> DNCConfig.reset_inputs: the flags on at the steps where the
# controller's state is zeroed (both: an answer phase's first step; flag 1: every answer step)
RESET_INPUTS: dict[str, tuple[int, ...]] = {
    "off": (), "first": (FLAG_PHASE, FLAG_ANSWER), "every": (FLAG_ANSWER,),
}


def network_config(config: TrainConfig) -> DNCConfig:
    """The :class:`DNCConfig` of a training configuration (sizes from the task's codec)."""
    from kgdnc.tasks import get_task

    task = get_task(config.task)
    return DNCConfig(
        input_size=task.input_size,
        output_size=task.output_size,
        hidden_size=config.hidden_size,
        num_layers=config.num_layers,
        controller=config.controller,  # type: ignore[arg-type]
        word_size=config.word_size,
        read_heads=config.read_heads,
        memory_size=config.memory_size,
        link_sparsity=config.link_sparsity,
        key_masking=config.key_masking,
        key_mask_floor=config.key_mask_floor,
        deallocation_erase=config.deallocation_erase,
        link_sharpness=config.link_sharpness,
        memory_init=config.memory_init,
        bypass_dropout=config.bypass_dropout,
        layer_norm=config.layer_norm,
        reset_inputs=RESET_INPUTS[config.answer_reset],
        fused=config.fused,  # type: ignore[arg-type]
        controller_clip=config.controller_clip,
        lstm_grad_clip=config.lstm_grad_clip,
    )


def batch_lessons(batch: Any) -> Tensor | None:
    """(B,) the lesson number of each episode of a batch, when it is known."""
    if isinstance(batch, list):
        return torch.tensor([int(e.meta.get("lesson") or 0) for e in batch], dtype=torch.long)
    return getattr(batch, "lessons", None)


class GraphTaskModule(pl.LightningModule):
    """DNC or LSTM baseline trained on one task's episodes.

    Args:
        train_config: :class:`TrainConfig` as a plain dict.
        model_config: :class:`DNCConfig` as a plain dict (default: derived
            from ``train_config``).

    Attributes:
        network: the plain ``DNC`` / ``LSTMBaseline``.
        lesson: the curriculum lesson being trained (0-based; set by the
            curriculum callback, used in the logs and the ``val/progress`` score).
        examples_seen: training episodes seen so far (all ranks).
    """

    def __init__(self, train_config: dict[str, Any], model_config: dict[str, Any] | None = None):
        super().__init__()
        config = TrainConfig.from_dict(train_config)
        net_config = (
            network_config(config) if model_config is None else DNCConfig.from_dict(model_config)
        )
        self.save_hyperparameters(
            {"train_config": config.to_dict(), "model_config": net_config.to_dict()}
        )
        self.config = config
        self.net_config = net_config
        self.network = build_network(config.model, net_config)
        from kgdnc.tasks import get_task

        self.task = get_task(config.task)
        self.lesson = 0
        self.examples_seen = 0
        self.scheduled_lr: float | None = None  # a plateau schedule's rate, when on
        self.memory_size_override: int | None = None
        self._rng = random.Random(config.seed + 7919)
        self._val_sums = torch.zeros(6, dtype=torch.float64)
        # running check since the last check: [questions of the current lesson's
        # episodes answered right, of them, all training episodes, their summed
        # loss, the current lesson's episodes right, of them]
        self._running: list[float] = [0, 0, 0, 0.0, 0, 0]
        self.check_result: dict[str, float] | None = None

    # ------------------------------------------------------------------ model

    def memory_size_for(self, steps: int) -> int:
        """N for a batch whose longest episode has ``steps`` steps."""
        if self.memory_size_override is not None:
            return self.memory_size_override
        if self.config.memory_sizing == "episode":
            return memory_size_for(steps, self.config.memory_size)
        return self.config.memory_size

    def forward(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """x (B, T, 92) -> y (B, T, 90) and the state (memory sized for T)."""
        if state is None:
            state = self.network.initial_state(x.shape[0], self.memory_size_for(x.shape[1]))
        return self.network(x, state)

    def sync_answer_reset(self) -> None:
        """Give the network the controller reset of the lesson being trained: none
        before ``answer_reset_from``, ``answer_reset``'s from it on (the curriculum
        callback calls it when training starts and after each check has saved its
        checkpoints, so a pass is saved as it was trained)."""
        if self.config.model != "dnc":
            return
        on = self.lesson + 1 >= self.config.answer_reset_from
        want = RESET_INPUTS[self.config.answer_reset] if on else ()
        if tuple(self.net_config.reset_inputs) != want:
            self.net_config = dataclasses.replace(self.net_config, reset_inputs=want)
            self.network.config = self.net_config

    # ------------------------------------------------------------------ steps

    def run_batch(self, batch: Any, explore: bool) -> StepResult:
        """Loss and greedy scores of ``batch``.

        Args:
            batch: a collated ``Batch`` (or, for interactive tasks, the list of
                episodes the rollout plays).
            explore: interactive tasks only: DAgger mixing (training) instead
                of greedy moves (evaluation).
        """
        if self.task.interactive:
            from kgdnc.training.rollout import rollout

            return rollout(self, batch, explore=explore, rng=self._rng,
                           slack=self.config.slack)
        inputs, targets, mask = batch.inputs, batch.targets, batch.mask
        y, _ = self(inputs)
        # loss on answer and recall steps (aux); scores on answer steps only
        loss = sequence_loss(y, targets, batch.loss_mask(), self.task.step_loss)
        with torch.no_grad():
            scores = greedy_scores(y.detach(), targets, mask, self.task.step_correct)
        return StepResult(loss, scores)

    def step(self, batch: Any, stage: str) -> Tensor:
        """The shared train/val/test step: loss, question and per-step accuracy, logged."""
        result = self.run_batch(batch, explore=stage == "train")
        scores = result.scores
        size = int(scores.episode_correct.shape[0])
        episodes_right = scores.episode_correct.float().sum()
        steps_right = scores.step_correct.float().sum()
        steps = scores.answer_steps.float().sum()
        step_acc = steps_right / steps.clamp(min=1)
        right, asked = self._questions(scores)
        acc = right.sum() / asked.sum().clamp(min=1)
        if stage == "train":
            self._tally(batch, scores, float(result.loss.detach()))
            self.examples_seen += size * self.trainer.world_size
            self.log("loss", result.loss.detach(), prog_bar=True, batch_size=size)
            self.log("acc", acc, prog_bar=True, batch_size=size)
            self.log("train/step_acc", step_acc, batch_size=size)
            self.log("lesson", float(self.lesson + 1), prog_bar=True, batch_size=size)
            self.log("examples", float(self.examples_seen), prog_bar=True, batch_size=size)
        else:
            exact = result.exact if result.exact is not None else scores.episode_correct
            sums = torch.tensor(
                [float(episodes_right), float(size), float(steps_right), float(steps),
                 float(result.loss) * size, float(exact.float().sum())],
                dtype=torch.float64,
            )
            self._val_sums = self._val_sums + sums
            self.log(f"{stage}/loss", result.loss.detach(), batch_size=size, sync_dist=True)
        return result.loss

    def _questions(self, scores: Scores) -> tuple[Tensor, Tensor]:
        """(B,) questions answered right and asked, per episode: each answer step
        where the task asks one question per answer (inference), else the episode."""
        if self.task.per_answer:
            return scores.step_correct.sum(-1), scores.answer_steps
        right = scores.episode_correct.long()
        return right, torch.ones_like(right)

    def _tally(self, batch: Any, scores: Scores, loss: float = 0.0) -> None:
        """Count the training episodes of the current lesson, their questions and
        greedy verdicts (a running check; interactive tasks' training walks mix in
        the planner's moves, so only tasks that feed nothing back are tallied),
        and the loss of all episodes."""
        size = int(scores.episode_correct.shape[0])
        self._running[2] += size
        self._running[3] += loss * size
        lessons = batch_lessons(batch)
        if self.task.interactive or lessons is None:
            return
        mine = lessons.to(scores.episode_correct.device) == self.lesson + 1
        right, asked = self._questions(scores)
        self._running[0] += int(right[mine].sum())
        self._running[1] += int(asked[mine].sum())
        self._running[4] += int(scores.episode_correct[mine].sum())
        self._running[5] += int(mine.sum())

    def running_episodes(self) -> int:
        """Training episodes (this rank) since the last running check."""
        return int(self._running[2])

    def take_running_check(self) -> dict[str, float | None]:
        """The running check's result (the questions of the current lesson's
        episodes since the last check, summed over ranks; the mean training loss of
        all episodes), and a fresh start."""
        counts = torch.tensor(self._running, dtype=torch.float64, device=self.device)
        self._running = [0, 0, 0, 0.0, 0, 0]
        if self.trainer.world_size > 1:
            counts = self.trainer.strategy.reduce(counts, reduce_op="sum")
        right, asked, seen, loss, episodes_right, episodes = (float(c) for c in counts)
        acc = right / asked if asked else float("nan")
        whole = episodes_right / episodes if episodes else float("nan")
        return {"accuracy": acc, "step_accuracy": None, "episodes": episodes,
                "loss": loss / seen if seen else None, "exact_accuracy": acc,
                "episode_accuracy": whole}

    def transfer_batch_to_device(
        self, batch: Any, device: torch.device, dataloader_idx: int
    ) -> Any:
        if self.task.interactive:
            return batch  # episodes with graphs: the rollout moves its tensors itself
        return super().transfer_batch_to_device(batch, device, dataloader_idx)

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        return self.step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> Tensor:
        return self.step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> Tensor:
        return self.step(batch, "test")

    def on_validation_epoch_start(self) -> None:
        self._val_sums = torch.zeros(6, dtype=torch.float64)

    on_test_epoch_start = on_validation_epoch_start

    def _epoch_scores(self, stage: str) -> None:
        sums = self._val_sums.to(self.device)
        if self.trainer.world_size > 1:
            sums = self.trainer.strategy.reduce(sums, reduce_op="sum")
        episodes = float(sums[1])
        if episodes == 0:
            return
        step_acc = float(sums[2]) / max(float(sums[3]), 1.0)
        whole = float(sums[0]) / episodes
        acc = step_acc if self.task.per_answer else whole
        exact = acc if self.task.per_answer else float(sums[5]) / episodes
        self.check_result = {
            "accuracy": acc,
            "episode_accuracy": whole,
            "step_accuracy": step_acc,
            "episodes": episodes,
            "loss": float(sums[4]) / episodes,
            "exact_accuracy": exact,
        }
        self.log(f"{stage}/acc", acc, prog_bar=stage == "val")
        self.log(f"{stage}/step_acc", step_acc)
        if self.task.interactive:
            self.log(f"{stage}/exact_acc", exact)

    def on_validation_epoch_end(self) -> None:
        self._epoch_scores("val")

    def on_test_epoch_end(self) -> None:
        self._epoch_scores("test")

    # ------------------------------------------------------------ optimiser

    def on_train_start(self) -> None:
        # a resumed run restores the optimiser's state, learning rate included;
        # the run's configuration (which --lr may change on --resume) decides it,
        # or the plateau schedule, which the curriculum callback set just before
        lr = self.scheduled_lr if self.scheduled_lr is not None else self.config.lr
        for optimizer in self.trainer.optimizers:
            for group in optimizer.param_groups:
                group["lr"] = lr

    def configure_optimizers(self) -> torch.optim.Optimizer:
        cfg = self.config
        if cfg.optimizer == "adam":
            return torch.optim.Adam(self.parameters(), lr=cfg.lr)
        return torch.optim.RMSprop(
            self.parameters(), lr=cfg.lr, alpha=cfg.rmsprop_decay, momentum=cfg.momentum, eps=1e-8
        )

    # ----------------------------------------------------------- checkpoint

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        meta = checkpoint.setdefault(META_KEY, {})
        meta.update(
            {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "kgdnc_version": __version__,
                "model": self.config.model,
                "task": self.config.task,
                "train_config": self.config.to_dict(),
                "model_config": self.net_config.to_dict(),
                "codec": codec_of(self.task),
                "examples_seen": int(self.examples_seen),
                "lesson": int(self.lesson),
            }
        )

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        meta = checkpoint.get(META_KEY, {})
        self.examples_seen = int(meta.get("examples_seen", 0))
        self.lesson = int(meta.get("lesson", 0))
