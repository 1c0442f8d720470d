"""The datasets bundled with kgdnc, by name (files under ``kgdnc.datasets``).

- ``london-underground``: every station (``zone`` attribute) and, for every pair of
  adjacent stations on a line, two triples labelled with line and direction.
- ``london-underground-zone1``: the induced subgraph on stations in zone 1.
- ``family-tree``: the bundled generated family tree (``datasets/family_tree``).
- ``example``: the small Turtle example of the README (``datasets/example.ttl``).
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

from kgdnc.errors import KgdncError, UserError
from kgdnc.graphs.graph import KnowledgeGraph, clean_text

BUNDLED: dict[str, str] = {
    "london-underground": "London Underground: all 11 lines, both directions (bundled)",
    "london-underground-zone1": "London Underground, zone 1 stations only (bundled)",
    "family-tree": "generated family tree, 5 generations, seed 0 (bundled)",
    "example": "small Turtle example from the README (bundled)",
}

FAMILY_TREE_SEED = 0
FAMILY_TREE_GENERATIONS = 5


def data_path(*parts: str) -> Path:
    """The path of a bundled data file (works from a checkout and from a wheel)."""
    return Path(str(resources.files("kgdnc.datasets").joinpath(*parts)))


def bundled_names() -> list[str]:
    """Names accepted by :func:`load_bundled`."""
    return list(BUNDLED)


def load_bundled(name: str) -> KnowledgeGraph:
    """A fresh copy of a bundled dataset."""
    if name == "london-underground":
        return london_underground()
    if name == "london-underground-zone1":
        return london_underground_zone1()
    if name == "family-tree":
        return bundled_family_tree()
    if name == "example":
        from kgdnc.graphs.ingest import ingest

        graph = ingest(data_path("example.ttl"), name="example")
        return graph
    raise UserError(f"no bundled dataset named {name!r}; bundled: {', '.join(BUNDLED)}")


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise KgdncError(f"bundled data file {path} is missing; reinstall kgdnc")
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise KgdncError(f"{path}: missing columns {', '.join(missing)}")
        return [
            (reader.line_num, {k: clean_text(v or "") for k, v in row.items() if k})
            for row in reader
        ]


def london_underground(
    stations_csv: str | Path | None = None, connections_csv: str | Path | None = None
) -> KnowledgeGraph:
    """The London Underground graph from ``stations.csv`` and ``connections.csv``.

    Nodes: stations (id = label = station name, attribute ``zone`` like ``"1"`` or
    ``"2/3"``). Every connection row gives ``from --label--> to`` and
    ``to --reverse_label--> from``, with ``line`` and ``branch`` as edge attributes.
    """
    folder = data_path("london_underground")
    stations_path = Path(stations_csv) if stations_csv else folder / "stations.csv"
    connections_path = Path(connections_csv) if connections_csv else folder / "connections.csv"
    graph = KnowledgeGraph("london-underground")
    for line, row in _read_csv(stations_path, ("station", "zone")):
        if not row["station"]:
            raise KgdncError(f"{stations_path}:{line}: empty station name")
        graph.add_node(row["station"], row["station"], {"zone": row["zone"]})
    columns = ("line", "branch", "from", "to", "label", "reverse_label")
    for line, row in _read_csv(connections_path, columns):
        for end in (row["from"], row["to"]):
            if end not in graph.nodes:
                raise KgdncError(
                    f"{connections_path}:{line}: station {end!r} is not in {stations_path.name}"
                )
        attrs = {"line": row["line"]}
        if row.get("branch"):
            attrs["branch"] = row["branch"]
        for rel in (row["label"], row["reverse_label"]):
            if rel not in graph.relations:
                graph.add_relation(rel, rel)
        graph.add_triple(row["from"], row["label"], row["to"], attrs)
        graph.add_triple(row["to"], row["reverse_label"], row["from"], attrs)
    graph.meta = {
        "source": "bundled: datasets/london_underground",
        "format": "csv",
    }
    return graph


def zones(zone: str) -> set[str]:
    """The zones of a station's ``zone`` value (``"2/3"`` -> ``{"2", "3"}``)."""
    return {z.strip() for z in str(zone).split("/") if z.strip()}


def london_underground_zone1(
    stations_csv: str | Path | None = None, connections_csv: str | Path | None = None
) -> KnowledgeGraph:
    """The induced subgraph on the stations whose zone includes 1."""
    full = london_underground(stations_csv, connections_csv)
    central = [n.id for n in full.nodes.values() if "1" in zones(n.attributes.get("zone", ""))]
    sub = full.subgraph(central, name="london-underground-zone1")
    return sub


def bundled_family_tree() -> KnowledgeGraph:
    """The bundled family tree, read from ``datasets/family_tree``."""
    folder = data_path("family_tree")
    graph = KnowledgeGraph("family-tree")
    people = folder / "people.tsv"
    triples = folder / "triples.tsv"
    if not people.is_file() or not triples.is_file():
        raise KgdncError(f"bundled data folder {folder} is incomplete; reinstall kgdnc")
    with open(people, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            graph.add_node(
                row["id"],
                row["label"],
                {"sex": row["sex"], "generation": int(row["generation"]), "origin": row["origin"]},
            )
    from kgdnc.graphs.generate import BASE_RELATIONS

    for relation in BASE_RELATIONS:
        graph.add_relation(relation, relation)
    with open(triples, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                head, relation, tail = line.rstrip("\n").split("\t")
                graph.add_triple(head, relation, tail)
    graph.meta = {
        "source": "bundled: datasets/family_tree",
        "format": "tsv",
        "options": {"seed": FAMILY_TREE_SEED, "generations": FAMILY_TREE_GENERATIONS},
    }
    return graph


def write_family_tree_files(folder: Path, graph: KnowledgeGraph) -> None:
    """Write ``people.tsv``, ``triples.tsv`` and ``family_tree.ttl`` (how the bundle is made)."""
    from kgdnc.atomic import write_text
    from kgdnc.graphs.export import to_tsv
    from kgdnc.graphs.generate import family_tree_turtle

    lines = ["id\tlabel\tsex\tgeneration\torigin"]
    for node in graph.nodes.values():
        a = node.attributes
        lines.append(f"{node.id}\t{node.label}\t{a['sex']}\t{a['generation']}\t{a['origin']}")
    write_text(folder / "people.tsv", "\n".join(lines) + "\n")
    write_text(folder / "triples.tsv", to_tsv(graph))
    write_text(folder / "family_tree.ttl", family_tree_turtle(graph))
