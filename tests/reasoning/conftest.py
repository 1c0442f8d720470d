"""Fixtures of the reasoning tests: an isolated workspace, a grid graph, tiny models."""

import pytest
from reasoning_helpers import grid_graph, tiny_model


@pytest.fixture(autouse=True)
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("KGDNC_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Untrained tiny checkpoints, one per query task: {task: path}."""
    folder = tmp_path_factory.mktemp("models")
    return {
        task: tiny_model(folder / f"{task}.ckpt", task)
        for task in ("traversal", "shortest-path", "inference")
    }


@pytest.fixture
def grid():
    return grid_graph()
