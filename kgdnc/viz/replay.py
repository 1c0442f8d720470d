"""A replay of one query on the graph's own map: where the heads look, step by step.

Memory slots are tied to the graph through the description: triple ``k`` of the
description was written at step ``k`` with the write weighting ``w^w_k``, so how
much a weighting ``w`` at step ``t`` touches the stored triple ``k`` is the overlap
``Σ_n w[n] · w^w_k[n]`` — the read hits of the static picture
(:func:`kgdnc.viz.memory.read_hits`), here for every step, for the write head and
for each read head separately. Only triples already stored (``k ≤ t``) count: a
DNC writes before it reads within a step, so at step ``k`` the heads may already
touch triple ``k``.

Two outputs share the same numbers (:class:`ReplayData`) and the same drawing
(:class:`Scene`):

- :func:`write_replay_html`: one self-contained HTML file (data and script inline,
  no external URL) with an SVG map, a time slider with play/pause, the phases
  marked on the slider, and per step the triple described or asked, the triples
  each head touches (edges lit by weight), the read modes and the memory usage;
- :func:`write_replay_animation`: the same replay as a GIF (matplotlib's
  PillowWriter) or an MP4 (where ffmpeg is installed).
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from torch import Tensor

from kgdnc.atomic import current_umask, write_text
from kgdnc.errors import UserError
from kgdnc.graphs import KnowledgeGraph
from kgdnc.reasoning import Answer
from kgdnc.tasks.codec import N_DIGITS, TRIPLE_SIZE, digits_to_triple
from kgdnc.tasks.shortest_path import ShortestPathEpisode
from kgdnc.viz.layout import Layout, edge_colour, graph_layout
from kgdnc.viz.memory import Phase, picture_data

__all__ = [
    "REPLAY_SUFFIXES",
    "ReplayData",
    "Scene",
    "check_replay_path",
    "replay_data",
    "replay_scene",
    "write_replay",
    "write_replay_animation",
    "write_replay_html",
]

REPLAY_SUFFIXES = (".html", ".htm", ".gif", ".mp4")
CONTEXT_TRIPLES = 2000  # graphs up to this size are drawn whole, the sub-graph on top
CONTEXT_NODES = 1000
TOP_PER_HEAD = 40  # the page keeps, per step and head, the triples touched hardest…
MIN_SHARE = 0.01  # …down to 1% of that head's largest weight in the episode
LEVELS = 100  # weights are stored on the page as integers 1..100 of that largest weight
WRITE_COLOUR = "#e8202a"
READ_COLOURS = ("#1f6feb", "#8e44ad", "#00a3bf", "#8c564b", "#d6336c", "#5c6bc0")
LONDON_CREDIT = ("Station positions: TfL station data (Powered by TfL Open Data; contains "
                 "OS data © Crown copyright and database rights). Line colours: TfL's.")

Triple3 = tuple[Any, Any, Any]


# ------------------------------------------------------------------ the numbers


@dataclass
class ReplayData:
    """Per-step weights on the stored triples, and what each step shows.

    Attributes:
        title: one line naming the query and the verdict (the static picture's).
        task: the query's task.
        triples: the D described triples as graph ids, in description order
            (triple ``k`` was shown, and written, at step ``k``).
        write_on: (T, D) ``Σ_n w^w_t[n] w^w_k[n]`` for ``k ≤ t``, 0 for ``k > t``.
        read_on: (T, R, D) ``Σ_n w^r_{t,i}[n] w^w_k[n]`` for ``k ≤ t``, 0 after.
        usage: (T, N) u_t.   modes: (T, R, 3) π_t (backward, content, forward).
        phases: the episode's phases (description, query, planning, answer).
        steps: T lines, what each step shows (the triple described or asked, …).
        step_edges: per step, the triple the step is about (graph ids), or None.
        step_nodes: per step, nodes the step is about (query's start, destination…).
        answer_path, exact_path: the model's answer and an exact answer as triples
            of graph ids (inference: a walk of the composition to the end node).
        answer_nodes, exact_nodes: end nodes to ring (inference), else empty.
        triple_names: the D described triples in the graph's labels.
        correct: the verdict.   focus: ``Answer.focus`` (None: the whole graph).
        memory_size: N.
    """

    title: str
    task: str
    triples: list[Triple3]
    write_on: Tensor
    read_on: Tensor
    usage: Tensor
    modes: Tensor
    phases: list[Phase]
    steps: list[str]
    step_edges: list[Triple3 | None]
    step_nodes: list[list[Hashable]]
    answer_path: list[Triple3]
    exact_path: list[Triple3]
    answer_nodes: list[Hashable] = field(default_factory=list)
    exact_nodes: list[Hashable] = field(default_factory=list)
    triple_names: list[str] = field(default_factory=list)
    correct: bool = False
    focus: Any = None
    memory_size: int = 0

    @property
    def n_steps(self) -> int:
        return int(self.write_on.shape[0])

    @property
    def read_heads(self) -> int:
        return int(self.read_on.shape[1])


def on_triples(weights: Tensor, write: Tensor, described: int) -> Tensor:
    """How much weightings touch the stored triples, step by step.

    Args:
        weights: (T, ..., N) weightings over the slots (w^w or w^r).
        write: (T, N) write weightings w^w; step ``k < described`` stored triple k.
        described: D.

    Returns:
        (T, ..., D): ``Σ_n weights[t, …, n] w^w_k[n]`` where ``k ≤ t``, else 0.
    """
    stored = write[:described]  # (D, N)
    out = weights @ stored.T  # (T, ..., D)
    steps = weights.shape[0]
    k = stored.new_tensor(range(described)).long()
    t = stored.new_tensor(range(steps)).long()
    mask = (k[None, :] <= t[:, None]).to(out.dtype)  # (T, D)
    return out * mask.reshape(steps, *([1] * (out.dim() - 2)), described)


def _described(answer: Answer) -> list[Triple3]:
    """The description's triples as graph ids, decoded from the episode's inputs."""
    qe = answer.draws[0].episode
    ep = qe.episode.prefix if isinstance(qe.episode, ShortestPathEpisode) else qe.episode
    n_desc = qe.n_triples
    digits = ep.inputs[:n_desc, :TRIPLE_SIZE].reshape(n_desc, N_DIGITS, 10).argmax(-1)
    node_of, rel_of = qe.node_of, qe.relation_of
    return [(node_of.get(s), rel_of.get(r), node_of.get(t))
            for s, r, t in digits_to_triple(digits).tolist()]


def _walk(kg: KnowledgeGraph, start: Hashable, relations: Sequence[str],
          end: Hashable | None) -> list[Triple3]:
    """One walk from ``start`` along ``relations`` that ends at ``end`` (breadth first,
    first in name order); empty when there is none."""
    if end is None or start is None:
        return []
    paths: dict[Hashable, list[Triple3]] = {start: []}
    for rel in relations:
        nxt: dict[Hashable, list[Triple3]] = {}
        for node in sorted(paths, key=str):
            for tr in sorted(kg.out_edges(str(node)), key=lambda t: t.tail):
                if tr.relation == rel and tr.tail not in nxt:
                    nxt[tr.tail] = [*paths[node], (tr.head, tr.relation, tr.tail)]
        paths = nxt
    return paths.get(end, [])


def replay_data(answer: Answer, graph: KnowledgeGraph) -> ReplayData:
    """The replay's numbers from an answer asked with ``trace=True`` on ``graph``."""
    pic = picture_data(answer)
    triples = _described(answer)
    n_desc = len(triples)
    write_on = on_triples(pic.write, pic.write, n_desc)  # (T, D)
    read_on = on_triples(pic.read, pic.write, n_desc)  # (T, R, D)
    q = answer.query
    draw = answer.draws[0]

    def name(node: Hashable | None) -> str:
        return "?" if node is None else graph.label(str(node)) if str(node) in graph.nodes \
            else str(node)

    def rel_name(rel: Hashable | None) -> str:
        if rel is None:
            return "?"
        return graph.relation_label(str(rel)) if str(rel) in graph.relations else str(rel)

    def text(tr: Triple3) -> str:
        return f"{name(tr[0])} –{rel_name(tr[1])}→ {name(tr[2])}"

    total = pic.write.shape[0]
    steps: list[str] = [""] * total
    step_edges: list[Triple3 | None] = [None] * total
    step_nodes: list[list[Hashable]] = [[] for _ in range(total)]
    ends = [n for n in (q.start, q.destination) if n is not None]
    for phase in pic.phases:
        length = phase.end - phase.start
        for i, t in enumerate(range(phase.start, phase.end)):
            if phase.name == "description":
                steps[t] = f"description {i + 1}/{length}: {pic.description[t]}"
                step_edges[t] = triples[t]
            elif phase.name == "query":
                step_nodes[t] = list(ends)
                if q.task == "shortest-path":
                    steps[t] = f"query: shortest path {name(q.start)} → {name(q.destination)}"
                elif q.task == "traversal":
                    start = f" from {name(q.start)}" if i == 0 else ""
                    steps[t] = f"query {i + 1}/{length}: follow {rel_name(q.relations[i])}{start}"
                else:
                    steps[t] = f"query: {q.relation_text} of {name(q.start)}"
            elif phase.name == "planning":
                steps[t] = f"planning {i + 1}/{length} (no input)"
                step_nodes[t] = list(ends)
            else:
                chosen = draw.answer[i] if i < len(draw.answer) else None
                if q.task == "inference" and chosen is not None:
                    s, r, e = chosen
                    steps[t] = f"answer: {name(s)} –{r or '?'}→ {name(e)}"
                    if None in chosen:
                        steps[t] += " (? : a label this episode did not use)"
                    step_nodes[t] = [n for n in (s, e) if n is not None]
                elif chosen is not None:
                    steps[t] = f"answer {i + 1}/{length}: {text(chosen)}"
                    step_edges[t] = chosen
                else:
                    steps[t] = f"answer {i + 1}/{length}: end of the answer"
    answer_nodes: list[Hashable] = []
    exact_nodes: list[Hashable] = []
    if q.task == "inference":
        model_end = answer.answer[0][2] if answer.answer else None
        exact_end = answer.expected[0][2] if answer.expected else None
        answer_path = _walk(graph, q.start, q.relations, model_end)
        exact_path = _walk(graph, q.start, q.relations, exact_end)
        answer_nodes = [model_end] if model_end is not None else []
        exact_nodes = [exact_end] if exact_end is not None else []
    else:
        answer_path = list(answer.answer)
        exact_path = list(answer.expected)
    return ReplayData(
        title=pic.title, task=q.task, triples=triples, write_on=write_on, read_on=read_on,
        usage=pic.usage, modes=pic.modes, phases=pic.phases, steps=steps,
        step_edges=step_edges, step_nodes=step_nodes, answer_path=answer_path,
        exact_path=exact_path, answer_nodes=answer_nodes, exact_nodes=exact_nodes,
        triple_names=list(pic.description),
        correct=bool(answer.correct), focus=answer.focus,
        memory_size=int(pic.write.shape[1]),
    )


# ------------------------------------------------------------------ the drawing


@dataclass
class Scene:
    """The map: node positions and one drawn lane per (station pair, line/relation).

    Attributes:
        size: (width, height) in drawing units (the longer side is 1000).
        positions: node -> (x, y) in drawing units, y downwards.
        focus_nodes: nodes of the episode's (sub-)graph; the rest is context.
        lanes: (u, v, group, colour, offset index, lanes of the pair, in the episode).
        lane_of: (unordered pair, group) -> (offset index, lanes of the pair).
        groups: group name -> colour (legend).
        labels: node -> display label.
        layout: how the positions were made.
        note: what is drawn (whole graph or sub-graph), for the page.
        credit: attribution of the positions (London), or "".
    """

    size: tuple[float, float]
    positions: dict[Hashable, tuple[float, float]]
    focus_nodes: set[Hashable]
    lanes: list[tuple[Hashable, Hashable, str, str, int, int, bool]]
    lane_of: dict[tuple[frozenset[Hashable], str], tuple[int, int]]
    groups: dict[str, str]
    labels: dict[Hashable, str]
    layout: str
    note: str
    credit: str = ""
    group_of: dict[Triple3, str] = field(default_factory=dict)

    def segment(self, triple: Triple3, width: float) -> tuple[float, float, float, float] | None:
        """The drawn segment of a triple on its lane (``width``: lane spacing), or None."""
        u, _, v = triple
        if u not in self.positions or v not in self.positions or u == v:
            return None
        group = self.group_of.get(triple)
        index, count = self.lane_of.get((frozenset((u, v)), group or ""), (0, 1))
        return _offset(self.positions[u], self.positions[v], index, count, width, u, v)


def _offset(a: tuple[float, float], b: tuple[float, float], index: int, count: int,
            width: float, u: Hashable, v: Hashable) -> tuple[float, float, float, float]:
    """Segment a-b moved sideways to lane ``index`` of ``count`` (same side whichever
    way the pair is given)."""
    flip = str(u) > str(v)
    (x1, y1), (x2, y2) = (b, a) if flip else (a, b)
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy) or 1.0
    shift = (index - (count - 1) / 2) * width
    nx_, ny_ = -dy / length * shift, dx / length * shift
    seg = (x1 + nx_, y1 + ny_, x2 + nx_, y2 + ny_)
    return (seg[2], seg[3], seg[0], seg[1]) if flip else seg


def _beside(seg: tuple[float, float, float, float] | None, shift: float
            ) -> tuple[float, float, float, float] | None:
    """A segment moved ``shift`` units to its left."""
    if seg is None:
        return None
    x1, y1, x2, y2 = seg
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    ox, oy = -(y2 - y1) / length * shift, (x2 - x1) / length * shift
    return (x1 + ox, y1 + oy, x2 + ox, y2 + oy)


def replay_scene(data: ReplayData, graph: KnowledgeGraph, episode_nodes: Sequence[Hashable]
                 ) -> Scene:
    """Lay out the graph (whole when small, else the episode's sub-graph)."""
    focus_nodes = set(episode_nodes)
    whole = len(graph.triples) <= CONTEXT_TRIPLES and len(graph.nodes) <= CONTEXT_NODES
    drawn = list(graph.nodes) if whole else sorted(focus_nodes, key=str)
    layout: Layout = graph_layout(graph, drawn)
    scale = 1000.0
    positions = {n: (x * scale, y * scale) for n, (x, y) in layout.positions.items()}
    drawn_set = set(drawn)
    described = set(data.triples)
    if whole:
        edges = [tuple(t) for t in graph.triples if t.head in drawn_set and t.tail in drawn_set]
    else:
        edges = list(described)
    known = {tuple(t) for t in graph.triples}
    extra = [t for t in (*data.answer_path, *data.exact_path)
             if t[1] is not None and tuple(t) in known]
    relation_order: dict[str, int] = {}
    for t in sorted({t[1] for t in edges}, key=str):
        relation_order[str(t)] = len(relation_order)
    group_of: dict[Triple3, str] = {}
    groups: dict[str, str] = {}
    pair_groups: dict[frozenset[Hashable], set[str]] = defaultdict(set)
    pair_in_episode: dict[tuple[frozenset[Hashable], str], bool] = defaultdict(bool)
    for t in [*edges, *extra]:
        g, colour = edge_colour(graph, (str(t[0]), str(t[1]), str(t[2])), relation_order)
        group_of[tuple(t)] = g
        groups.setdefault(g, colour)
        if t[0] != t[2]:
            pair = frozenset((t[0], t[2]))
            pair_groups[pair].add(g)
            in_episode = t[0] in focus_nodes and t[2] in focus_nodes and (
                not whole or tuple(t) in described)
            pair_in_episode[(pair, g)] |= in_episode
    lane_of: dict[tuple[frozenset[Hashable], str], tuple[int, int]] = {}
    lanes = []
    for pair in sorted(pair_groups, key=lambda p: sorted(map(str, p))):
        names = sorted(pair_groups[pair])
        u, v = sorted(pair, key=str)
        for i, g in enumerate(names):
            lane_of[(pair, g)] = (i, len(names))
            lanes.append((u, v, g, groups[g], i, len(names), pair_in_episode[(pair, g)]))
    labels = {n: graph.label(str(n)) for n in drawn}
    if data.focus is not None:
        note = f"drawn: the {data.focus.describe()}"
        if whole:
            note += "; the rest of the graph faded"
    else:
        note = f"drawn: the whole graph ({len(described)} triples described)"
    credit = LONDON_CREDIT if "TfL" in layout.kind else ""
    return Scene((layout.width * scale, layout.height * scale), positions, focus_nodes, lanes,
                 lane_of, groups, labels, layout.kind, note, credit, group_of)


def _episode_nodes(answer: Answer) -> list[Hashable]:
    return list(answer.draws[0].episode.node_labels)


# ------------------------------------------------------------------ paths and checks


def check_replay_path(out: str | os.PathLike[str]) -> Path:
    """The output path, checked before any work: a known suffix, a writer for it."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in REPLAY_SUFFIXES:
        raise UserError(
            f"replay file {str(out)!r} has an unknown format {suffix or '(none)'!r}; "
            "give a file ending in .html, .gif or .mp4"
        )
    if suffix == ".mp4":
        import matplotlib

        matplotlib.use("Agg", force=True)
        from matplotlib import animation

        if not animation.writers.is_available("ffmpeg"):
            raise UserError(
                "an .mp4 replay needs ffmpeg, which is not installed; write a .gif or .html "
                "instead (or install ffmpeg)"
            )
    if path.exists() and path.is_dir():
        raise UserError(f"replay file {str(out)!r} is a folder; give a file name")
    return path


def _atomic_write(target: Path, write: Any, suffix: str) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``target``, then rename
    (matplotlib's writers want a file name with the format's suffix, so not
    :func:`kgdnc.atomic.write_file`)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def write_replay(answer: Answer, graph: KnowledgeGraph, out: str | os.PathLike[str]) -> Path:
    """Write the replay of ``answer`` (asked with ``trace=True`` on ``graph``) to
    ``out``: an HTML page, a GIF or an MP4, by the file's suffix."""
    path = check_replay_path(out)
    if path.suffix.lower() in (".html", ".htm"):
        return write_replay_html(answer, graph, path)
    return write_replay_animation(answer, graph, path)


# ------------------------------------------------------------------ HTML


def _sparse(values: Tensor, peak: float) -> list[int]:
    """(D,) weights -> [k, level, k, level, …] of the strongest, level in 1..LEVELS."""
    if peak <= 0:
        return []
    share = values / peak
    count = min(TOP_PER_HEAD, int(share.numel()))
    top = share.topk(count)
    out: list[int] = []
    for v, k in zip(top.values.tolist(), top.indices.tolist(), strict=True):
        if v < MIN_SHARE:
            break
        out += [int(k), max(1, min(LEVELS, round(v * LEVELS)))]
    return out


def page_data(data: ReplayData, scene: Scene) -> dict[str, Any]:
    """What the page's script draws, as JSON-ready lists (coordinates to 0.1 unit)."""
    index = {n: i for i, n in enumerate(scene.positions)}

    def r(x: float) -> float:
        return round(x, 1)

    nodes = [[r(x), r(y), scene.labels.get(n, str(n)), int(n in scene.focus_nodes)]
             for n, (x, y) in scene.positions.items()]
    groups = list(scene.groups)
    lanes = [[index[u], index[v], groups.index(g), i, m, int(inside)]
             for u, v, g, _, i, m, inside in scene.lanes if u in index and v in index]

    def edge(t: Triple3 | None) -> list[Any] | None:
        if t is None or t[0] not in index or t[2] not in index:
            return None
        g = scene.group_of.get(tuple(t), "")
        i, m = scene.lane_of.get((frozenset((t[0], t[2])), g), (0, 1))
        return [index[t[0]], index[t[2]], i, m]

    triples = [edge(t) for t in data.triples]
    heads = ["write"] + [f"read {i + 1}" for i in range(data.read_heads)]
    colours = [WRITE_COLOUR] + [READ_COLOURS[i % len(READ_COLOURS)]
                                for i in range(data.read_heads)]
    layers = [data.write_on] + [data.read_on[:, i] for i in range(data.read_heads)]
    peaks = [float(layer.max()) if layer.numel() else 0.0 for layer in layers]
    hits = [[_sparse(layer[t], peak) for layer, peak in zip(layers, peaks, strict=True)]
            for t in range(data.n_steps)]
    usage_levels = (data.usage.clamp(0, 1) * 9).round().int().tolist()
    return {
        "title": data.title,
        "correct": data.correct,
        "note": scene.note,
        "layout": scene.layout,
        "credit": scene.credit,
        "size": [r(scene.size[0]), r(scene.size[1])],
        "nodes": nodes,
        "groups": [[g, scene.groups[g]] for g in groups],
        "lanes": lanes,
        "triples": triples,
        "tripleNames": data.triple_names,
        "heads": heads,
        "headColours": colours,
        "peaks": peaks,
        "levels": LEVELS,
        "hits": hits,
        "phases": [[p.name, p.start, p.end] for p in data.phases],
        "steps": data.steps,
        "stepEdges": [edge(t) for t in data.step_edges],
        "stepNodes": [[index[n] for n in ns if n in index] for ns in data.step_nodes],
        "modes": [[[round(float(v), 3) for v in head] for head in step]
                  for step in data.modes.tolist()],
        "usage": ["".join(str(v) for v in row) for row in usage_levels],
        "usageMean": [round(float(v), 4) for v in data.usage.mean(dim=1).tolist()],
        "memorySize": data.memory_size,
        "answerPath": [e for e in (edge(t) for t in data.answer_path) if e],
        "exactPath": [e for e in (edge(t) for t in data.exact_path) if e],
        "answerNodes": [index[n] for n in data.answer_nodes if n in index],
        "exactNodes": [index[n] for n in data.exact_nodes if n in index],
        "queryNodes": sorted({index[n] for ns in data.step_nodes for n in ns if n in index}),
    }


def replay_html(data: ReplayData, scene: Scene) -> str:
    """The whole page as one string."""
    payload = json.dumps(page_data(data, scene), ensure_ascii=False, separators=(",", ":"))
    payload = payload.replace("</", "<\\/")  # never closes the script element
    page, style, script = _page_parts()
    parts = {"TITLE": html.escape(data.title), "STYLE": style, "SCRIPT": script,
             "DATA": payload}
    return re.sub(r"%(TITLE|STYLE|SCRIPT|DATA)%", lambda m: parts[m.group(1)], page)


def write_replay_html(answer: Answer, graph: KnowledgeGraph, out: str | os.PathLike[str]) -> Path:
    """Write the replay page of ``answer`` (asked with ``trace=True``) to ``out``."""
    data = replay_data(answer, graph)
    scene = replay_scene(data, graph, _episode_nodes(answer))
    return write_text(out, replay_html(data, scene))


# ------------------------------------------------------------------ GIF / MP4

MAX_FRAMES = 100  # a long description is shown every k-th step in animations


def animation_steps(data: ReplayData, max_frames: int = MAX_FRAMES) -> list[int]:
    """The steps an animation shows: every step after the description, and the
    description thinned evenly so that the whole fits in ``max_frames``."""
    desc = next((p for p in data.phases if p.name == "description"), None)
    n_desc = desc.end if desc else 0
    rest = list(range(n_desc, data.n_steps))
    room = max(1, max_frames - len(rest))
    stride = max(1, math.ceil(n_desc / room))
    shown = list(range(0, n_desc, stride))
    if n_desc and shown[-1] != n_desc - 1:
        shown.append(n_desc - 1)
    return shown + rest


def write_replay_animation(answer: Answer, graph: KnowledgeGraph, out: str | os.PathLike[str],
                           *, fps: int = 6, dpi: int = 64,
                           max_frames: int = MAX_FRAMES) -> Path:
    """Write the replay as a GIF (PillowWriter) or MP4 (ffmpeg), by ``out``'s suffix."""
    path = check_replay_path(out)
    data = replay_data(answer, graph)
    scene = replay_scene(data, graph, _episode_nodes(answer))
    import matplotlib
    import numpy as np

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib import animation
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba

    steps = animation_steps(data, max_frames)
    xs = [p[0] for n, p in scene.positions.items() if n in scene.focus_nodes]
    ys = [p[1] for n, p in scene.positions.items() if n in scene.focus_nodes]
    if not xs:
        xs, ys = [0.0, scene.size[0]], [0.0, scene.size[1]]
    pad = 0.06 * max(max(xs) - min(xs), max(ys) - min(ys), 1.0)
    view = (min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad)
    span = max(view[1] - view[0], view[3] - view[2])
    lane = span / 250

    fig = plt.figure(figsize=(11, 7), dpi=dpi)
    ax_map = fig.add_axes((0.01, 0.12, 0.62, 0.8))
    ax_modes = fig.add_axes((0.68, 0.58, 0.3, 0.28))
    ax_usage = fig.add_axes((0.68, 0.2, 0.3, 0.25))
    ax_time = fig.add_axes((0.05, 0.05, 0.9, 0.03))
    ax_map.set_xlim(view[0], view[1])
    ax_map.set_ylim(view[3], view[2])
    ax_map.set_aspect("equal")
    ax_map.axis("off")
    base, base_colours = [], []
    for u, v, _, colour, i, m, inside in scene.lanes:
        seg = _offset(scene.positions[u], scene.positions[v], i, m, lane, u, v)
        base.append(((seg[0], seg[1]), (seg[2], seg[3])))
        base_colours.append(to_rgba(colour, 0.9 if inside else 0.15))
    ax_map.add_collection(LineCollection(base, colors=base_colours, linewidths=1.6))
    pts = [(p, n in scene.focus_nodes) for n, p in scene.positions.items()]
    ax_map.scatter([p[0] for p, _ in pts], [p[1] for p, _ in pts], s=6,
                   c=["white" if f else "#dddddd" for _, f in pts],
                   edgecolors=["#333333" if f else "#bbbbbb" for _, f in pts],
                   linewidths=0.6, zorder=3)

    def path_lines(path: list[Triple3]) -> list[Any]:
        segs = [scene.segment(tuple(t), lane) for t in path]
        return [((s[0], s[1]), (s[2], s[3])) for s in segs if s]

    ax_map.add_collection(LineCollection(path_lines(data.exact_path), colors="#2ca02c",
                                         linewidths=7, alpha=0.35, zorder=2))
    ax_map.add_collection(LineCollection(path_lines(data.answer_path), colors="#ff7f0e",
                                         linewidths=3, linestyles="dashed", alpha=0.9,
                                         zorder=2))
    marked = {n for ns in data.step_nodes for n in ns} | set(data.answer_nodes) | set(
        data.exact_nodes) | {t[0] for t in data.exact_path} | {t[2] for t in data.exact_path}
    for n in marked:
        if n in scene.positions:
            x, y = scene.positions[n]
            ax_map.annotate(scene.labels.get(n, str(n)), (x, y), fontsize=7, zorder=6,
                            xytext=(3, 3), textcoords="offset points")
    layers = [data.write_on] + [data.read_on[:, i] for i in range(data.read_heads)]
    colours = [WRITE_COLOUR] + [READ_COLOURS[i % len(READ_COLOURS)]
                                for i in range(data.read_heads)]
    peaks = [float(x.max()) or 1.0 for x in layers]
    lit = [LineCollection([], linewidths=2.2, zorder=4) for _ in layers]
    for c in lit:
        ax_map.add_collection(c)
    current = LineCollection([], colors="black", linewidths=5, zorder=5)
    ax_map.add_collection(current)
    segs = [scene.segment(tuple(t), lane) for t in data.triples]
    n_heads = len(layers)
    # each head drawn beside the others on a triple's lane, as on the page
    head_segs = [[_beside(sg, (h - (n_heads - 1) / 2) * lane * 0.8) for sg in segs]
                 for h in range(n_heads)]
    fig.text(0.01, 0.97, data.title, fontsize=9, va="top")
    caption = fig.text(0.01, 0.935, "", fontsize=10, va="top", weight="bold")
    fig.text(0.01, 0.1, scene.note, fontsize=7, color="#555555")
    if scene.credit:
        fig.text(0.01, 0.005, scene.credit, fontsize=6, color="#777777")
    heads = ["write"] + [f"read {i + 1}" for i in range(data.read_heads)]
    keys = [*zip(heads, colours, strict=True), ("model's answer", "#ff7f0e"),
            ("exact answer", "#2ca02c")]
    for i, (h, c) in enumerate(keys):
        fig.text(0.68 + (i % 3) * 0.1, 0.11 - (i // 3) * 0.025, h, color=c, fontsize=8,
                 weight="bold")

    modes = data.modes  # (T, R, 3)
    r_heads = data.read_heads
    bars = []
    mode_colours = ("tab:purple", "tab:green", "tab:orange")
    width = 0.8 / 3
    for m in range(3):
        bars.append(ax_modes.bar([h + (m - 1) * width for h in range(r_heads)],
                                 [0.0] * r_heads, width, color=mode_colours[m],
                                 label=("backward", "content", "forward")[m]))
    ax_modes.set_ylim(0, 1)
    ax_modes.set_xticks(range(r_heads), [f"read {h + 1}" for h in range(r_heads)], fontsize=7)
    ax_modes.set_title("read modes π_t", fontsize=8, loc="left")
    ax_modes.legend(fontsize=6, loc="upper right", ncol=3)
    ax_modes.tick_params(labelsize=6)
    n_slots = data.usage.shape[1]
    usage_img = ax_usage.imshow(data.usage[0:1].numpy(), aspect="auto", cmap="Greys",
                                vmin=0, vmax=1, interpolation="nearest",
                                extent=(-0.5, n_slots - 0.5, 0, 1))
    ax_usage.set_yticks([])
    ax_usage.set_xlabel("memory slot", fontsize=7)
    ax_usage.tick_params(labelsize=6)
    usage_title = fig.text(0.68, 0.46, "", fontsize=8)  # fixed place (not an axes title)
    total = data.n_steps
    phase_colours = {"description": "#c6dbef", "query": "#fdd0a2", "planning": "#dadaeb",
                     "answer": "#c7e9c0"}
    for p in data.phases:
        ax_time.axvspan(p.start - 0.5, p.end - 0.5, color=phase_colours.get(p.name, "#eee"))
        if p.end > p.start:
            ax_time.text((p.start + p.end - 1) / 2, 0.5, p.name, ha="center", va="center",
                         fontsize=7)
    ax_time.set_xlim(-0.5, total - 0.5)
    ax_time.set_yticks([])
    ax_time.tick_params(labelsize=6)
    cursor = ax_time.axvline(0, color="black", lw=2)

    def frame(t: int) -> None:
        for h, (layer, peak, colour, coll) in enumerate(zip(layers, peaks, colours, lit,
                                                            strict=True)):
            shares = layer[t] / peak
            keep = [k for k in shares.topk(min(TOP_PER_HEAD, shares.numel())).indices.tolist()
                    if float(shares[k]) >= MIN_SHARE and segs[k]]
            hs = head_segs[h]
            coll.set_segments([((hs[k][0], hs[k][1]), (hs[k][2], hs[k][3])) for k in keep])
            coll.set_colors([to_rgba(colour, min(1.0, 0.15 + float(shares[k])))
                             for k in keep])
        edge = data.step_edges[t]
        seg = scene.segment(tuple(edge), lane) if edge is not None else None
        current.set_segments([((seg[0], seg[1]), (seg[2], seg[3]))] if seg else [])
        caption.set_text(f"step {t + 1}/{total} — {data.steps[t]}")
        for m in range(3):
            for h, rect in enumerate(bars[m]):
                rect.set_height(float(modes[t, h, m]))
        usage_img.set_data(data.usage[t:t + 1].numpy())
        usage_title.set_text(f"usage u_t: mean {float(data.usage[t].mean()):.2f} "
                             f"of N = {n_slots} slots")
        cursor.set_xdata([t, t])

    # Bake everything that never changes into one background image, so that each
    # frame draws only the lit edges, the bars, the usage strip and one caption.
    moving = [*lit, current, caption, usage_img, usage_title, cursor,
              *[r for b in bars for r in b]]
    for artist in moving:
        artist.set_visible(False)
    fig.canvas.draw()
    background = np.asarray(fig.canvas.buffer_rgba()).copy()
    for ax in (ax_map, ax_modes, ax_usage, ax_time):
        for child in ax.get_children():
            if child not in moving:
                child.set_visible(False)
    for text in fig.texts:
        if text not in (caption, usage_title):
            text.set_visible(False)
    ax_bg = fig.add_axes((0, 0, 1, 1), zorder=-1)
    ax_bg.imshow(background, interpolation="nearest", aspect="auto")
    ax_bg.set_axis_off()
    for artist in moving:
        artist.set_visible(True)
    suffix = path.suffix.lower()

    def write(tmp: str) -> None:
        writer: Any = (animation.PillowWriter(fps=fps) if suffix == ".gif"
                       else animation.FFMpegWriter(fps=fps))
        with writer.saving(fig, tmp, dpi):
            for t in steps:
                frame(t)
                writer.grab_frame()

    try:
        return _atomic_write(path, write, suffix)
    finally:
        plt.close(fig)


# ------------------------------------------------------------------ the page


@lru_cache(maxsize=1)
def _page_parts() -> tuple[str, str, str]:
    """The page's template, style sheet and script (``kgdnc/viz/page/``)."""
    folder = resources.files("kgdnc.viz").joinpath("page")
    return tuple(folder.joinpath(name).read_text(encoding="utf-8")  # type: ignore[return-value]
                 for name in ("replay.html", "replay.css", "replay.js"))
