"""The models shipped in kgdnc/models load into today's code and beat chance on their
first lesson (random weights do not: see the last test)."""

import random
from importlib import resources

import pytest
import torch

from kgdnc.tasks import get_task
from kgdnc.tasks.codec import described_nodes
from kgdnc.training.evaluate import evaluate
from kgdnc.training.trained import load_trained

MODELS = resources.files("kgdnc.models")
BUNDLED = sorted(entry.name for entry in MODELS.iterdir() if entry.name.endswith(".ckpt"))
EPISODES = 64
MARGIN = 0.1  # above chance by more than the sampling noise of 64 episodes at chance


def _described_nodes(episode) -> int:
    """Distinct nodes in an episode's description."""
    return len(described_nodes(episode.inputs, int(episode.meta["n_triples"])))


def _walk_chance(episode) -> float:
    """Shortest path: the probability that a walk choosing uniformly among the
    triples leaving each node follows a shortest path to the destination."""
    mass = {episode.start: 1.0}
    for _ in range(episode.shortest_length):
        moved: dict[int, float] = {}
        for node, p in mass.items():
            triples, _ = episode.candidates(node)
            for i in episode.optimal(node):
                target = triples[i][2]
                moved[target] = moved.get(target, 0.0) + p / len(triples)
        mass = moved
    return mass.get(episode.destination, 0.0)


def chance(task_name: str, episodes: int = 200, seed: int = 99) -> float:
    """Episode accuracy of guessing on the task's first lesson: each asked node
    uniformly among the episode's nodes (traversal, inference), each move uniformly
    among the triples leaving the current node (shortest path)."""
    task = get_task(task_name)
    total = 0.0
    for i in range(episodes):
        episode = task.make_episode(task.lessons[0], random.Random(seed + i))
        if task.interactive:
            total += _walk_chance(episode)
        else:
            asked = len(episode.meta["answers"]) - (task_name == "traversal")  # not the end mark
            total += _described_nodes(episode) ** -asked
    return total / episodes


def test_a_model_is_bundled_for_each_query_task():
    assert {"traversal.ckpt", "shortest_path.ckpt", "inference.ckpt"} <= set(BUNDLED)


@pytest.mark.parametrize("name", BUNDLED)
def test_answering_runs_the_eager_step(name):
    """Models trained with the fused step answer without building it (no compiler,
    no first build on a fresh machine)."""
    assert load_trained(MODELS / name).model_config.fused == "off"


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_model_beats_chance_on_its_first_lesson(name):
    torch.set_num_threads(1)
    trained = load_trained(MODELS / name)
    report = evaluate(MODELS / name, lesson=1, episodes=EPISODES, seed=5)
    guess = chance(trained.task)
    assert report.task == trained.task and report.lesson == 1
    assert report.accuracy > guess + MARGIN, (report.accuracy, guess)


def test_random_weights_do_not_beat_chance(tmp_path):
    from kgdnc.reasoning.finetune import write_initial_checkpoint

    path = write_initial_checkpoint(tmp_path / "untrained.ckpt", "traversal", seed=3,
                                    hidden_size=16, memory_size=16, word_size=8, read_heads=2)
    report = evaluate(path, lesson=1, episodes=EPISODES, seed=5)
    assert report.accuracy <= chance("traversal") + MARGIN
