"""Pictures of what the memory does while the DNC answers a query (cf. the paper's Fig. 3).

One figure, five panels, time on the x axis of the first four, with the phases
(description, query, planning, answer) marked:

1. write weighting w^w_t over the N slots;
2. read weightings w^r_t (the strongest head at each slot);
3. usage u_t;
4. read modes π_t averaged over heads: backward, content, forward;
5. which stored triples the reads hit: for each query and answer step t and
   each description step k, ``Σ_i Σ_n w^r_{t,i}[n] · w^w_k[n]`` — how much the
   reads at t land on the slots written while triple k was shown; the columns
   are the triples hit hardest, labelled with the graph's names.

Rendered with matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from torch import Tensor

from kgdnc.atomic import write_file
from kgdnc.reasoning import Answer, QueryEpisode, kind_of
from kgdnc.tasks.codec import N_DIGITS, TRIPLE_SIZE, digits_to_triple
from kgdnc.tasks.shortest_path import ShortestPathEpisode

__all__ = ["MemoryPicture", "Phase", "memory_picture", "phases_of", "picture_data", "read_hits"]


@dataclass(frozen=True)
class Phase:
    """Steps [start, end) of one phase of the episode."""

    name: str
    start: int
    end: int


@dataclass
class MemoryPicture:
    """What the figure shows, as arrays (B = 1 removed).

    Attributes:
        write: (T, N) w^w_t.  read: (T, R, N) w^r_t.  usage: (T, N) u_t.
        modes: (T, R, 3) π_t (backward, content, forward).
        phases: the episode's phases.
        description: the triple shown at each description step, as names.
        asked: (step, text) of the query and answer steps, in order.
        hits: (A, D) read hits of the ``asked`` steps on the description steps.
        title: one line naming the query and the verdict.
    """

    write: Tensor
    read: Tensor
    usage: Tensor
    modes: Tensor
    phases: list[Phase]
    description: list[str]
    asked: list[tuple[int, str]]
    hits: Tensor
    title: str


def read_hits(read: Tensor, write: Tensor, steps: list[int], described: int) -> Tensor:
    """How much the reads at ``steps`` land where the description was written.

    Args:
        read: (T, R, N) read weightings w^r.
        write: (T, N) write weightings w^w.
        steps: the A read steps to score.
        described: D, the description steps (0..D-1).

    Returns:
        (A, D): ``Σ_i Σ_n w^r_{t,i}[n] w^w_k[n]``.
    """
    reads = read[steps].sum(dim=1)  # (A, N)
    return reads @ write[:described].T  # (A, D)


def _names(answer: Answer, labels: Tensor, qe: QueryEpisode) -> list[str]:
    """Label triples as the graph's names (``?`` for a label the draw never used)."""
    out = []
    for s, r, t in qe.ids(labels.tolist()):
        ends = [answer.names.get(n) or str(qe.graph.nodes[qe.node_labels[n]].get("name"))
                if n is not None else "?" for n in (s, t)]
        out.append(f"{ends[0]} –{answer.relation_name(r) or '?'}→ {ends[1]}")
    return out


def phases_of(qe: QueryEpisode, total: int) -> list[Phase]:
    """The episode's phases over ``total`` steps (the interactive answer included)."""
    described = qe.n_triples
    asked = described + kind_of(qe.query.task).query_steps(qe.query)
    phases = [Phase("description", 0, described), Phase("query", described, asked)]
    if qe.answer_start > asked:
        phases.append(Phase("planning", asked, qe.answer_start))
    return [*phases, Phase("answer", qe.answer_start, total)]


def picture_data(answer: Answer) -> MemoryPicture:
    """The arrays of :class:`MemoryPicture` from an answer made with ``trace=True``."""
    if answer.trace is None:
        raise ValueError("the answer holds no memory trace; ask with trace=True")
    trace = answer.trace
    qe = answer.draws[0].episode
    inputs = qe.episode.prefix.inputs if isinstance(qe.episode, ShortestPathEpisode) \
        else qe.episode.inputs
    n_desc = qe.n_triples
    digits = inputs[:n_desc, :TRIPLE_SIZE].reshape(n_desc, N_DIGITS, 10).argmax(-1)
    description = _names(answer, digits_to_triple(digits), qe)
    phases = phases_of(qe, int(trace.write_weights.shape[1]))
    labelled = answer.labelled(answer.draws[0].answer)
    asked: list[tuple[int, str]] = []
    for phase in phases[1:]:
        if phase.name == "planning":
            continue
        for t in range(phase.start, phase.end):
            i = t - phase.start
            text = f"{phase.name} {i + 1}"
            if phase.name == "answer":
                step = labelled[i] if i < len(labelled) else None
                text += ": " + (" –".join(str(x or "?") for x in step[:2]) if step else "end")
            asked.append((t, text))
    write = trace.write_weights[0].float()
    read = trace.read_weights[0].float()
    hits = read_hits(read, write, [t for t, _ in asked], n_desc)
    verdict = "correct" if answer.correct else "wrong"
    title = (f"{answer.headline()} — answer {verdict} — N = {answer.memory_size} slots, "
             f"{n_desc} triples, model {answer.model}")
    return MemoryPicture(write, read, trace.usage[0].float(), trace.read_modes[0].float(),
                         phases, description, asked, hits, title)


def memory_picture(answer: Answer, out: str | os.PathLike[str], *, top: int = 16,
                   dpi: int = 100) -> Path:
    """Draw the memory of ``answer`` (asked with ``trace=True``) into a PNG at ``out``
    (written to a temporary file, then renamed).

    Args:
        top: how many of the hardest-hit stored triples panel 5 shows.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    pic = picture_data(answer)
    steps, slots = pic.write.shape
    fig = plt.figure(figsize=(13, 17), dpi=dpi)
    grid = fig.add_gridspec(5, 1, height_ratios=[3, 3, 2, 1.6, 3.2], hspace=0.45, top=0.95)
    image_kw = dict(aspect="auto", origin="lower", interpolation="nearest",
                    extent=(-0.5, steps - 0.5, -0.5, slots - 0.5))
    panels = [
        ("write weighting $w^w_t$", pic.write.T, "Reds"),
        ("read weightings $w^r_t$ (strongest head)", pic.read.max(dim=1).values.T, "Blues"),
        ("usage $u_t$", pic.usage.T, "Greys"),
    ]
    axes = []
    for row, (name, data, cmap) in enumerate(panels):
        ax = fig.add_subplot(grid[row])
        shown = ax.imshow(data.clamp(0, 1).numpy(), cmap=cmap, vmin=0, vmax=1, **image_kw)
        ax.set_ylabel("memory slot")
        ax.set_title(name, loc="left", fontsize=10)
        fig.colorbar(shown, ax=ax, pad=0.01, fraction=0.03)
        axes.append(ax)
    ax = fig.add_subplot(grid[3], sharex=axes[0])
    modes = pic.modes.mean(dim=1).numpy()  # (T, 3)
    for k, (name, colour) in enumerate((("backward", "tab:purple"), ("content", "tab:green"),
                                        ("forward", "tab:orange"))):
        ax.plot(range(steps), modes[:, k], label=name, color=colour, lw=1.2)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("read mode")
    ax.set_title("read modes $\\pi_t$ (mean over heads)", loc="left", fontsize=10)
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    axes.append(ax)
    for a in axes:
        for phase in pic.phases:
            a.axvline(phase.start - 0.5, color="black", lw=0.6, ls="--")
        a.set_xlim(-0.5, steps - 0.5)
    for phase in pic.phases:
        if phase.end > phase.start:
            axes[0].text((phase.start + phase.end) / 2, slots * 1.02, phase.name,
                         ha="center", va="bottom", fontsize=8)
    axes[-1].set_xlabel("time step t")

    ax = fig.add_subplot(grid[4])
    hits = pic.hits
    if hits.numel():
        strongest = hits.max(dim=0).values
        cols = strongest.argsort(descending=True)[: min(top, hits.shape[1])].sort().values
        data = hits[:, cols].numpy()
        shown = ax.imshow(data, aspect="auto", cmap="viridis", interpolation="nearest")
        ax.set_xticks(range(len(cols)))
        ax.set_xticklabels([f"{int(c)}: {pic.description[int(c)]}" for c in cols],
                           rotation=35, ha="right", fontsize=7)
        ax.set_yticks(range(len(pic.asked)))
        ax.set_yticklabels([text for _, text in pic.asked], fontsize=7)
        fig.colorbar(shown, ax=ax, pad=0.01, fraction=0.03)
    ax.set_title("which stored triples the reads hit (description step: triple)", loc="left",
                 fontsize=10)
    fig.suptitle(pic.title, fontsize=11, y=0.985)
    try:
        target = write_file(out, lambda handle: fig.savefig(handle, format="png",
                                                            bbox_inches="tight"))
    finally:
        plt.close(fig)
    return target

