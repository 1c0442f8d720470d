"""Graphs and tiny models shared by the reasoning, viz and CLI tests."""

from kgdnc.graphs import KnowledgeGraph

TINY = dict(hidden_size=16, memory_size=16, word_size=8, read_heads=2)


def grid_graph(size: int = 4, name: str = "grid") -> KnowledgeGraph:
    """A size x size grid; each cell links to its neighbours by east/west/north/south."""
    kg = KnowledgeGraph(name)
    for x in range(size):
        for y in range(size):
            kg.add_node(f"c{x}{y}", f"Cell {x}-{y}")
    for x in range(size):
        for y in range(size):
            here = f"c{x}{y}"
            if x + 1 < size:
                kg.add_triple(here, "east", f"c{x + 1}{y}")
                kg.add_triple(f"c{x + 1}{y}", "west", here)
            if y + 1 < size:
                kg.add_triple(here, "north", f"c{x}{y + 1}")
                kg.add_triple(f"c{x}{y + 1}", "south", here)
    return kg


def tiny_model(path, task, seed=1):
    """An untrained tiny checkpoint of ``task`` at ``path``."""
    from kgdnc.reasoning.finetune import write_initial_checkpoint

    return write_initial_checkpoint(path, task, seed=seed, **TINY)
