"""Replays: per-step weights on triples agree with the static picture; the page is
self-contained; a GIF is written; layouts are the graph's own."""

import json
import re

import pytest
import torch

from kgdnc.errors import UserError
from kgdnc.graphs import KnowledgeGraph, load
from kgdnc.reasoning import ask
from kgdnc.reasoning.finetune import write_initial_checkpoint
from kgdnc.viz import picture_data
from kgdnc.viz.layout import graph_layout, london_line_colours, london_positions
from kgdnc.viz.replay import (
    LEVELS,
    animation_steps,
    check_replay_path,
    on_triples,
    replay_data,
    write_replay,
    write_replay_animation,
)

TINY = dict(hidden_size=16, memory_size=16, word_size=8, read_heads=2)
QUERIES = {"shortest-path": dict(to="n3"), "traversal": dict(via="next,next"),
           "inference": dict(relation="next/next/prev")}
# anything a browser would fetch, or a link to elsewhere (``url(#id)`` points into the page)
EXTERNAL = re.compile(r"(?i)(https?:|ftp:|wss?:|file:|data:|src\s*=|href\s*=|@import|"
                      r"url\s*\(\s*['\"]?(?!#)|fetch\s*\(|XMLHttpRequest|importScripts|<link|"
                      r"<iframe|<img)")


def ring() -> KnowledgeGraph:
    kg = KnowledgeGraph("ring")
    for i in range(8):
        kg.add_triple(f"n{i}", "next", f"n{(i + 1) % 8}")
        kg.add_triple(f"n{(i + 1) % 8}", "prev", f"n{i}")
    return kg


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    return {kind: write_initial_checkpoint(folder / f"{kind}.ckpt", kind, **TINY)
            for kind in QUERIES}


def page_json(text: str) -> dict:
    match = re.search(r'<script id="replay-data" type="application/json">(.*?)</script>',
                      text, re.S)
    assert match, "the page holds its data inline"
    return json.loads(match.group(1))


def test_on_triples_maps_slots_to_the_triple_written_there():
    write = torch.zeros(4, 5)
    write[0, 3] = 1.0  # triple 0 stored in slot 3
    write[1, 1] = 1.0  # triple 1 stored in slot 1
    read = torch.zeros(4, 2, 5)
    read[3, 0, 1] = 0.7  # step 3, head 0 reads slot 1 -> triple 1
    read[3, 1, 3] = 0.4  # head 1 reads slot 3 -> triple 0
    read[0, 0, 1] = 1.0  # step 0 reads slot 1 before triple 1 is stored there: not counted
    on = on_triples(read, write, described=2)
    assert on.shape == (4, 2, 2)
    torch.testing.assert_close(on[3], torch.tensor([[0.0, 0.7], [0.4, 0.0]]))
    assert on[0].abs().sum() == 0
    w = on_triples(write, write, described=2)  # (T, D): the write at step k lands on triple k
    assert w.shape == (4, 2) and w[0, 0] == 1 and w[1, 1] == 1 and w[1, 0] == 0


@pytest.mark.parametrize("kind", list(QUERIES))
def test_replay_numbers_match_the_static_picture(kind, models):
    kg = ring()
    answer = ask("n0", graph=kg, model=str(models[kind]), trace=True, **QUERIES[kind])
    data = replay_data(answer, kg)
    pic = picture_data(answer)
    steps, slots = pic.write.shape
    assert data.write_on.shape == (steps, 16) and data.read_on.shape == (steps, 2, 16)
    assert data.usage.shape == (steps, slots) and data.modes.shape == (steps, 2, 3)
    asked = [t for t, _ in pic.asked]
    # panel 5 of the static picture sums the heads; the replay keeps them apart
    torch.testing.assert_close(data.read_on[asked].sum(dim=1), pic.hits)
    torch.testing.assert_close(data.write_on[5, 5], (pic.write[5] ** 2).sum())
    assert [p.name for p in data.phases] == [p.name for p in pic.phases]
    assert len(data.steps) == steps and all(data.steps)
    assert data.steps[0].startswith("description 1/16: ")
    # the described triples are the graph's, in the order the description showed them
    assert {tuple(t) for t in data.triples} == {tuple(t) for t in kg.triples}
    for (s, r, t), name in zip(data.triples, pic.description, strict=True):
        assert name == f"{s} –{r}→ {t}"
    assert data.exact_path and all(tuple(t) in {tuple(x) for x in kg.triples}
                                   for t in data.exact_path)


def test_html_is_self_contained_and_carries_the_numbers(models, tmp_path):
    kg = ring()
    answer = ask("n0", graph=kg, model=str(models["traversal"]), trace=True,
                 **QUERIES["traversal"])
    out = write_replay(answer, kg, tmp_path / "page" / "replay.html")
    assert [p.name for p in out.parent.iterdir()] == ["replay.html"]  # no temp file left
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text and "<script>" in text
    assert EXTERNAL.search('<script src="https://cdn.example/d3.js">')  # the check can fail
    assert not EXTERNAL.search("marker-mid: url(#arrow1)")
    assert not EXTERNAL.search(text), EXTERNAL.search(text)
    page = page_json(text)
    data = replay_data(answer, kg)
    assert len(page["steps"]) == data.n_steps == len(page["hits"]) == len(page["usage"])
    assert page["heads"] == ["write", "read 1", "read 2"]
    assert [p[0] for p in page["phases"]] == ["description", "query", "answer"]
    layers = [data.write_on] + [data.read_on[:, i] for i in range(data.read_heads)]
    for h, layer in enumerate(layers):
        peak = float(layer.max())
        assert page["peaks"][h] == pytest.approx(peak)
        for t in range(data.n_steps):
            flat = page["hits"][t][h]
            for k, level in zip(flat[::2], flat[1::2], strict=True):
                share = float(layer[t, k]) / peak
                assert abs(level - share * LEVELS) <= 0.5 + 1e-6
            strongest = int(layer[t].argmax())
            if float(layer[t, strongest]) >= 0.01 * peak:
                assert flat[0] == strongest  # the hardest-hit triple comes first
    assert len(page["nodes"]) == 8 and len(page["triples"]) == 16
    assert page["exactPath"] and page["layout"].startswith("networkx spring")


def test_big_graph_replay_says_it_draws_a_subgraph(models, tmp_path):
    kg = load("london-underground")
    answer = ask("Bank", to="Oxford Circus", graph=kg, model=str(models["shortest-path"]),
                 trace=True, max_triples=40)
    out = write_replay(answer, kg, tmp_path / "bank.html")
    text = out.read_text(encoding="utf-8")
    assert not EXTERNAL.search(text)
    page = page_json(text)
    assert "query-focused sub-graph of 40 of 752 triples" in page["note"]
    assert page["layout"] == "geographic (TfL station data)" and "TfL" in page["credit"]
    assert len(page["nodes"]) == 271  # the whole map, the sub-graph on top
    assert sum(n[3] for n in page["nodes"]) == answer.focus.nodes
    colours = {g: c for g, c in page["groups"]}
    assert colours["Central"] == "#E32017" and colours["Victoria"] == "#0098D4"


def test_gif_is_written_for_a_tiny_model(models, tmp_path):
    from PIL import Image

    kg = ring()
    answer = ask("n0", graph=kg, model=str(models["shortest-path"]), trace=True,
                 **QUERIES["shortest-path"])
    out = write_replay_animation(answer, kg, tmp_path / "replay.gif", dpi=40, max_frames=12)
    assert out.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    data = replay_data(answer, kg)
    with Image.open(out) as im:
        assert im.n_frames == len(animation_steps(data, 12))
    assert [p.name for p in tmp_path.iterdir()] == ["replay.gif"]


def test_animation_steps_thin_only_the_description(models):
    kg = ring()
    answer = ask("n0", graph=kg, model=str(models["traversal"]), trace=True,
                 **QUERIES["traversal"])
    data = replay_data(answer, kg)
    described = data.phases[0].end
    assert animation_steps(data, 1000) == list(range(data.n_steps))
    few = animation_steps(data, described // 2 + (data.n_steps - described))
    assert few[0] == 0 and described - 1 in few
    assert few[-(data.n_steps - described):] == list(range(described, data.n_steps))
    assert len(few) < data.n_steps


def test_bad_replay_paths_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="give a file ending in .html, .gif or .mp4"):
        check_replay_path(tmp_path / "replay.pdf")
    folder = tmp_path / "dir.html"
    folder.mkdir()
    with pytest.raises(UserError, match="is a folder"):
        check_replay_path(folder)
    from matplotlib import animation

    if not animation.writers.is_available("ffmpeg"):
        with pytest.raises(UserError, match="needs ffmpeg"):
            check_replay_path(tmp_path / "replay.mp4")


def test_london_is_drawn_from_real_station_positions():
    positions = london_positions()
    kg = load("london-underground")
    assert set(positions) == set(kg.nodes)
    lat, lon = positions["Bank"]
    assert 51.50 < lat < 51.52 and -0.10 < lon < -0.08
    layout = graph_layout(kg)
    assert layout.kind == "geographic (TfL station data)"
    p = layout.positions
    assert p["Bank"][0] > p["Oxford Circus"][0]  # the City is east of the West End
    assert p["Morden"][1] > p["Bank"][1] > p["High Barnet"][1]  # north is up
    assert min(p, key=lambda n: p[n][0]) == "Chesham"  # the westernmost station
    assert set(london_line_colours()) == {kg.edge_attributes(t)["line"] for t in kg.triples}


def test_other_layouts_are_deterministic_and_the_family_tree_by_generation():
    kg = ring()
    assert graph_layout(kg).positions == graph_layout(kg).positions
    tree = load("family-tree")
    layout = graph_layout(tree)
    assert layout.kind.startswith("family tree")
    gen = {n: tree.nodes[n].attributes["generation"] for n in tree.nodes}
    ys = {}
    for n, (_, y) in layout.positions.items():
        ys.setdefault(gen[n], set()).add(round(y, 9))
    assert all(len(v) == 1 for v in ys.values())  # one row per generation
    rows = sorted(ys)
    assert [next(iter(ys[g])) for g in rows] == sorted(next(iter(ys[g])) for g in rows)
