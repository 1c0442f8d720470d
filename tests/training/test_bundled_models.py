"""The models shipped in kgdnc/models still load into today's code and answer."""

from importlib import resources

import pytest

from kgdnc.tasks import get_task
from kgdnc.tasks.episode import collate
from kgdnc.training.evaluate import load_trained

MODELS = resources.files("kgdnc.models")
BUNDLED = sorted(entry.name for entry in MODELS.iterdir() if entry.name.endswith(".ckpt"))


def test_a_model_is_bundled_for_each_query_task():
    assert {"traversal.ckpt", "shortest_path.ckpt", "inference.ckpt"} <= set(BUNDLED)


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_model_loads_and_runs(name):
    trained = load_trained(MODELS / name)
    task = get_task(trained.meta["train_config"]["task"])
    episode = task.make_episode(task.lessons[0], 0)
    if task.interactive:  # shortest path: the description, query and planning steps
        episode = episode.prefix
    batch = collate([episode])
    y, _ = trained.module.network(batch.inputs)
    assert y.shape == (1, batch.inputs.shape[1], task.output_size)
    assert y.isfinite().all()
