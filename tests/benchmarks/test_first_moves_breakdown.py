"""benchmarks/first_moves.py breaks a shortest-path model's first moves down by degree."""

import importlib.util
from importlib import resources
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "first_moves.py"


def test_the_breakdown_adds_up_to_the_evals_first_moves():
    from kgdnc.training.evaluate import evaluate

    spec = importlib.util.spec_from_file_location("first_moves", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    model = str(resources.files("kgdnc.models") / "shortest_path.ckpt")
    table = bench.first_moves(model, lesson=6, episodes=24, seed=3, batch_size=12)
    report = evaluate(model, lesson=6, episodes=24, seed=3, batch_size=12)
    n = sum(row[0] for row in table.values())
    assert n == report.first_move["episodes"] and n > 0
    assert abs(sum(row[1] for row in table.values()) / n - report.first_move["accuracy"]) < 1e-9
    assert abs(sum(row[2] for row in table.values()) / n - report.first_move["chance"]) < 1e-9
    for (length, out, into), (count, right, chance) in table.items():
        assert length >= 2 and out >= 2 and 1 <= into <= 4
        assert 0 <= right <= count and 0 < chance < count
