"""Tiny training runs shared by the training tests."""

from pathlib import Path

import pytest

TINY = (
    ("batch_size", 4),
    ("hidden_size", 16),
    ("memory_size", 16),
    ("word_size", 8),
    ("read_heads", 2),
    ("eval_episodes", 4),
    ("check_every", 8),  # episodes: two batches
)


@pytest.fixture(autouse=True)
def one_thread():
    """Small DNC operations are far slower with several threads on shared cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_run(tmp_path):
    """``tiny_run(task, model="dnc", **options)``: a few batches of a tiny network."""
    from kgdnc.training.run import RunOptions, train_run

    def run(task=None, model=None, out: Path | None = None, overrides=(), **options):
        given = dict(overrides)
        # a test's pass mark holds for every lesson (cpu-ln passes later lessons at 95 %
        # and traversal's last ones higher)
        for mark in ("late_threshold", "end_threshold"):
            if "threshold" in given and mark not in given:
                overrides = tuple(overrides) + ((mark, given["threshold"]),)
        opts = RunOptions(
            task=task, model=model, out=out or tmp_path / f"{task}-{model}", progress=False,
            overrides=tuple(overrides) if options.get("resume") else TINY + tuple(overrides),
            **options,
        )
        return train_run(opts)

    return run
