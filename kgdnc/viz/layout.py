"""Where to draw a graph's nodes, and in which colour to draw its edges.

Three layouts, chosen from the graph itself:

- geographic: nodes with ``lat``/``lon`` attributes, or the bundled London
  Underground stations, whose positions (TfL station data, see
  ``datasets/london_underground/README.md``) are drawn as on a map
  (equirectangular, x scaled by cos(latitude));
- by generation: nodes that all carry an integer ``generation`` attribute (the
  family tree), one row per generation, ordered so that relatives sit together;
- otherwise networkx's spring layout with a fixed seed (deterministic).

Edges are coloured by the London Underground line they belong to (TfL's line
colours, ``datasets/london_underground/lines.csv``) or else by relation.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Collection, Hashable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import networkx as nx

from kgdnc.graphs import KnowledgeGraph

__all__ = [
    "Layout",
    "edge_colour",
    "graph_layout",
    "london_line_colours",
    "london_positions",
]

LAYOUT_SEED = 0
SPRING_ITERATIONS = 60
# relation colours for graphs with no line colours, then grey: matplotlib's tab10 and
# tab20b without green and orange, which mark the exact and the model's answer
PALETTE = ("#1f77b4", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#843c39")
OTHER_COLOUR = "#8c8c8c"


@dataclass(frozen=True)
class Layout:
    """Node positions in a unit box, y growing downwards (as on a screen).

    Attributes:
        positions: node id -> (x, y), both in [0, 1]; the longer side spans [0, 1].
        width, height: extent of the positions (one of them is 1).
        kind: how the positions were made, in words (shown on the page).
    """

    positions: dict[Hashable, tuple[float, float]]
    width: float
    height: float
    kind: str


def _data_file(*parts: str) -> Any:
    from kgdnc.graphs.datasets import data_path

    return data_path(*parts)


@lru_cache(maxsize=1)
def london_positions() -> dict[str, tuple[float, float]]:
    """Station name -> (latitude, longitude), from ``positions.csv`` of the bundled data."""
    path = _data_file("london_underground", "positions.csv")
    with open(path, encoding="utf-8", newline="") as f:
        return {row["station"]: (float(row["lat"]), float(row["lon"]))
                for row in csv.DictReader(f)}


@lru_cache(maxsize=1)
def london_line_colours() -> dict[str, str]:
    """Line name -> TfL's colour (``#RRGGBB``)."""
    path = _data_file("london_underground", "lines.csv")
    with open(path, encoding="utf-8", newline="") as f:
        return {row["line"]: row["colour"] for row in csv.DictReader(f)}


def _normalise(raw: dict[Hashable, tuple[float, float]], kind: str) -> Layout:
    """Scale positions into the unit box, keeping their aspect ratio."""
    if not raw:
        return Layout({}, 1.0, 1.0, kind)
    xs = [p[0] for p in raw.values()]
    ys = [p[1] for p in raw.values()]
    x0, y0 = min(xs), min(ys)
    span = max(max(xs) - x0, max(ys) - y0) or 1.0
    positions = {n: ((x - x0) / span, (y - y0) / span) for n, (x, y) in raw.items()}
    width = (max(xs) - x0) / span or 1.0
    height = (max(ys) - y0) / span or 1.0
    return Layout(positions, width, height, kind)


def _geographic(coords: dict[Hashable, tuple[float, float]], kind: str) -> Layout:
    """(lat, lon) -> equirectangular positions, north up."""
    mean_lat = sum(lat for lat, _ in coords.values()) / len(coords)
    scale = math.cos(math.radians(mean_lat))
    raw = {n: (lon * scale, -lat) for n, (lat, lon) in coords.items()}
    return _normalise(raw, kind)


def _node_coords(kg: KnowledgeGraph, nodes: Collection[Hashable]) -> dict[Hashable, tuple[
        float, float]] | None:
    """Latitude and longitude of every node from its attributes, or None."""
    out = {}
    for n in nodes:
        attrs = kg.nodes[str(n)].attributes
        lat = attrs.get("lat", attrs.get("latitude"))
        lon = attrs.get("lon", attrs.get("longitude"))
        try:
            out[n] = (float(lat), float(lon))
        except (TypeError, ValueError):
            return None
    return out


def _by_generation(kg: KnowledgeGraph, nodes: Collection[Hashable]) -> Layout | None:
    """One row per generation; within a row, nodes ordered by the mean position of
    their relatives in the rows above (a few barycentre sweeps, ties by name)."""
    gens: dict[Hashable, int] = {}
    for n in nodes:
        g = kg.nodes[str(n)].attributes.get("generation")
        try:
            gens[n] = int(g)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
    rows: dict[int, list[Hashable]] = defaultdict(list)
    for n in sorted(nodes, key=lambda n: (kg.label(str(n)), str(n))):
        rows[gens[n]].append(n)
    neighbours: dict[Hashable, set[Hashable]] = defaultdict(set)
    for s, _, t in kg.triples:
        if s in gens and t in gens:
            neighbours[s].add(t)
            neighbours[t].add(s)
    order = {n: float(i) for row in rows.values() for i, n in enumerate(row)}
    levels = sorted(rows)
    for _ in range(3):
        for level in levels:
            def key(n: Hashable, level: int = level) -> tuple[float, float]:
                near = [order[m] for m in neighbours[n] if gens[m] < level]
                same = [order[m] for m in neighbours[n] if gens[m] == level]
                ref = near or same
                return (sum(ref) / len(ref) if ref else order[n], order[n])

            rows[level].sort(key=key)
            for i, n in enumerate(rows[level]):
                order[n] = float(i)
    widest = max(len(r) for r in rows.values())
    raw = {}
    for row_index, level in enumerate(levels):
        row = rows[level]
        pad = (widest - len(row)) / 2
        for i, n in enumerate(row):
            raw[n] = (pad + i, row_index * max(1.0, widest / 6))
    return _normalise(raw, "family tree, one row per generation")


def _spring(kg: KnowledgeGraph, nodes: Collection[Hashable]) -> Layout:
    g = nx.Graph()
    g.add_nodes_from(sorted(nodes, key=str))
    for s, _, t in kg.triples:
        if s in g and t in g and s != t:
            g.add_edge(s, t)
    try:
        raw = nx.spring_layout(g, seed=LAYOUT_SEED, iterations=SPRING_ITERATIONS)
        kind = f"networkx spring layout (seed {LAYOUT_SEED})"
    except ImportError:  # big graphs need scipy for the spring layout
        raw = nx.circular_layout(g)
        kind = "networkx circular layout"
    return _normalise({n: (float(p[0]), float(-p[1])) for n, p in raw.items()}, kind)


def graph_layout(kg: KnowledgeGraph, nodes: Collection[Hashable] | None = None) -> Layout:
    """Positions of ``nodes`` (default: every node of ``kg``), deterministic."""
    chosen = list(kg.nodes) if nodes is None else list(nodes)
    if not chosen:
        return Layout({}, 1.0, 1.0, "empty")
    coords = _node_coords(kg, chosen)
    if coords is not None:
        return _geographic(coords, "geographic (the nodes' lat/lon)")
    stations = london_positions()
    if all(str(n) in stations for n in chosen):
        return _geographic({n: stations[str(n)] for n in chosen},
                           "geographic (TfL station data)")
    tree = _by_generation(kg, chosen)
    if tree is not None:
        return tree
    return _spring(kg, chosen)


def edge_colour(kg: KnowledgeGraph, triple: tuple[str, str, str],
                relation_order: dict[str, int]) -> tuple[str, str]:
    """(group, colour) of an edge: its London Underground line, else its relation.

    ``relation_order``: relation id -> index among the drawn relations (the palette
    has 10 colours; relations past the tenth are grey).
    """
    line = kg.edge_attributes(triple).get("line")
    colours = london_line_colours()
    if line in colours:
        return str(line), colours[str(line)]
    rel = triple[1]
    i = relation_order.get(rel, len(PALETTE))
    return kg.relation_label(rel), PALETTE[i] if i < len(PALETTE) else OTHER_COLOUR
