"""A sub-graph is the same in every process, whatever the hash seed: episodes on
user graphs are reproducible from their seed."""

import os
import subprocess
import sys

SCRIPT = """
import random
import networkx as nx
from kgdnc.tasks.graphs import sample_subgraph
g = nx.MultiDiGraph()
for i in range(300):
    g.add_edge(f"n{i}", f"n{(i * 7 + 3) % 300}", relation="r")
    g.add_edge(f"n{i}", f"n{(i + 1) % 300}", relation="s")
sub = sample_subgraph(g, 40, around=["n5"], rng=random.Random(1))
print(list(sub.nodes), list(sub.edges(keys=True)))
"""


def _run(hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_subgraph_order_does_not_depend_on_hash_seed():
    outputs = {_run(seed) for seed in ("1", "2", "3")}
    assert len(outputs) == 1
