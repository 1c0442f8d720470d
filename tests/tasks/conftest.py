import networkx as nx
import pytest
import torch

from kgdnc.tasks.codec import FLAG_ANSWER, FLAG_PHASE


def _label(block: torch.Tensor):
    """One label's 30 input dims -> int, or None for a blank."""
    if block.sum() == 0:
        return None
    d = block.view(3, 10).argmax(-1).tolist()
    return d[0] * 100 + d[1] * 10 + d[2]


def read_steps(inputs: torch.Tensor):
    """Episode inputs (T, 92) -> list of (triple with None for blanks, flag0, flag1)."""
    out = []
    for x in inputs:
        triple = tuple(_label(x[30 * s : 30 * (s + 1)]) for s in range(3))
        out.append((triple, bool(x[FLAG_PHASE]), bool(x[FLAG_ANSWER])))
    return out


def description_graph(steps) -> nx.MultiDiGraph:
    """The graph given by the leading unflagged, complete triples."""
    g = nx.MultiDiGraph()
    for triple, f0, f1 in steps:
        if f0 or f1 or None in triple:
            break
        u, r, v = triple
        g.add_edge(u, v, key=r, relation=r)
    return g


@pytest.fixture
def read():
    return read_steps


@pytest.fixture
def described():
    return description_graph
