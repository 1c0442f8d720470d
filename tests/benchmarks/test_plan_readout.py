"""benchmarks/plan_readout.py reads what a shortest-path network names while planning."""

import importlib.util
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "plan_readout.py"


def _bench():
    spec = importlib.util.spec_from_file_location("plan_readout", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_every_episode_is_read_at_each_step_up_to_its_length():
    import random

    from kgdnc.tasks import get_task
    from kgdnc.training.data import mix_seed

    model = str(resources.files("kgdnc.models") / "shortest_path.ckpt")
    table = _bench().plan_readout(model, lesson=8, episodes=20, seed=3, batch_size=8)
    spec = get_task("shortest-path")
    lengths = Counter(
        spec.make_episode(spec.lessons[7], random.Random(mix_seed(3, i))).shortest_length
        for i in range(20))
    assert {key for key in table} == {(n, k) for n in lengths for k in range(1, n + 1)}
    for (length, _), (count, right, chance) in table.items():
        assert count == lengths[length]
        assert 0 <= right <= count and 0 < chance < count
        assert right == pytest.approx(round(right))  # whole episodes
