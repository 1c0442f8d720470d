import random
import re
from pathlib import Path

import pytest

from kgdnc.tasks.curriculum import (
    INFERENCE_LESSONS,
    SHORTEST_PATH_LESSONS,
    TRAVERSAL_LESSONS,
    Curriculum,
    Lesson,
)

PAPER = Path("/work/shared/PAPER.md")

# Literal copy of PAPER.md §2's curriculum lines (ED Tables 3-5).
TRAVERSAL_TEXT = """
1 (3,10)/(2,4)/(1,1) · 2 (3,10)/(2,4)/(1,2) · 3 (5,10)/(2,4)/(1,3) ·
4 (5,10)/(2,4)/(1,4) · 5 (10,15)/(2,4)/(1,4) · 6 (10,15)/(2,4)/(1,5) ·
7 (10,20)/(2,4)/(1,5) · 8 (10,20)/(2,4)/(1,6) · 9 (10,30)/(2,4)/(1,6) ·
10 (10,30)/(2,4)/(1,7) · 11 (10,30)/(2,4)/(1,8) · 12 (10,30)/(2,4)/(1,9) ·
13 (10,40)/(2,6)/(1,10) · 14 (10,40)/(2,6)/(1,20).
"""
INFERENCE_TEXT = """
1 (3,3)/(2,2)/(2,2) · 2 (3,5)/(2,2)/(2,2) · 3 (4,6)/(2,4)/(2,2) · 4 (4,6)/(2,4)/(2,2) ·
5 (6,12)/(2,4)/(2,2) · 6 (12,18)/(2,4)/(2,2) · 7 (4,6)/(2,4)/(2,3) · 8 (6,12)/(2,4)/(2,3) ·
9 (12,18)/(2,4)/(2,3) · 10 (4,6)/(2,4)/(2,4) · 11 (4,6)/(2,4)/(2,4) · 12 (6,12)/(2,4)/(2,4) ·
13 (12,18)/(2,4)/(2,4) · 14 (4,6)/(2,4)/(2,5) · 15 (6,12)/(2,4)/(2,5) ·
16 (12,18)/(2,4)/(2,5) · 17 (20,25)/(2,4)/(2,5).
"""
SHORTEST_PATH_TEXT = """
1 (5,10)/(1,2)/(2,2) · 2 (5,20)/(1,2)/(2,2) · 3 (10,20)/(1,2)/(2,2) ·
4 (10,20)/(1,2)/(2,3) · 5 (10,20)/(1,3)/(2,3) · 6 (10,20)/(2,3)/(2,3) ·
7 (10,20)/(2,3)/(2,4) · 8 (10,20)/(2,4)/(2,4) · 9 (10,25)/(2,4)/(2,4) ·
10 (10,25)/(2,4)/(2,5) · 11 (10,25)/(2,4)/(2,5) · 12 (15,25)/(2,4)/(2,5) ·
13 (15,25)/(2,5)/(2,5) · 14 (20,25)/(2,5)/(2,5) · 15 (20,25)/(2,6)/(2,5).
"""
ROW = re.compile(r"(\d+) \((\d+),(\d+)\)/\((\d+),(\d+)\)/\((\d+),(\d+)\)")


def parse(text: str, queries: int = 1) -> tuple[Lesson, ...]:
    rows = [tuple(map(int, m.groups())) for m in ROW.finditer(text)]
    return tuple(Lesson(r[0], r[1:3], r[3:5], r[5:7], queries) for r in rows)


@pytest.mark.parametrize(
    "lessons, text, queries",
    [
        (TRAVERSAL_LESSONS, TRAVERSAL_TEXT, 1),
        (INFERENCE_LESSONS, INFERENCE_TEXT, 3),
        (SHORTEST_PATH_LESSONS, SHORTEST_PATH_TEXT, 1),
    ],
)
def test_tables_match_the_paper(lessons, text, queries):
    assert lessons == parse(text, queries)
    assert [lesson.index for lesson in lessons] == list(range(1, len(lessons) + 1))
    if PAPER.exists():  # the literal copy above is still the paper's text
        flat = " ".join(PAPER.read_text(encoding="utf-8").split())
        assert " ".join(text.split()) in flat


def test_table_sizes():
    assert (len(TRAVERSAL_LESSONS), len(INFERENCE_LESSONS), len(SHORTEST_PATH_LESSONS)) == (
        14,
        17,
        15,
    )


def test_update_advances_only_at_threshold():
    c = Curriculum(TRAVERSAL_LESSONS[:3], threshold=0.9)
    assert c.lesson.index == 1
    assert c.update(0.89) is False and c.lesson.index == 1
    assert c.update(0.9) is True and c.lesson.index == 2
    assert c.update(0.95) is True and c.lesson.index == 3
    assert c.update(1.0) is False and c.completed and c.lesson.index == 3


def test_late_lessons_pass_at_the_late_mark():
    c = Curriculum(TRAVERSAL_LESSONS[:4], threshold=0.9, late_threshold=0.95, late_from=3)
    assert c.pass_mark == 0.9
    assert c.update(0.92) and c.update(0.92)  # lessons 1 and 2 at 0.9
    assert (c.position, c.pass_mark) == (2, 0.95)
    assert not c.update(0.94)  # lesson 3 needs 0.95
    assert c.update(0.95) and c.position == 3 and c.pass_mark == 0.95
    assert not c.update(0.949) and not c.completed
    assert not c.update(0.96) and c.completed
    state = c.state_dict()
    assert (state["late_threshold"], state["late_from"]) == (0.95, 3)
    # without a late mark the threshold holds throughout
    d = Curriculum(TRAVERSAL_LESSONS[:4], threshold=0.9, late_from=2, start=3)
    assert d.pass_mark == 0.9
    # late_to ends the range: lessons 2-3 at 0.95, lesson 4 at the threshold again
    e = Curriculum(TRAVERSAL_LESSONS[:4], threshold=0.9, late_threshold=0.95, late_from=2,
                   late_to=3)
    marks = [e.pass_mark]
    for _ in range(4):
        e.update(1.0)
        marks.append(e.pass_mark)
    assert marks == [0.9, 0.95, 0.95, 0.9, 0.9]
    assert e.completed and e.state_dict()["late_to"] == 3
    f = Curriculum(TRAVERSAL_LESSONS[:4], threshold=0.9, late_threshold=0.95, late_from=2,
                   late_to=3, start=3)
    assert not f.update(0.89) and f.update(0.91) is False and f.completed


def test_end_lessons_pass_at_the_end_mark():
    """The end mark holds from its first lesson to the last, over the late mark."""
    def marks(**kwargs):
        c = Curriculum(TRAVERSAL_LESSONS[:5], threshold=0.9, **kwargs)
        seen = [c.pass_mark]
        while not c.completed:
            c.update(1.0)
            seen.append(c.pass_mark)
        return seen[:-1], c.state_dict()

    seen, state = marks(late_threshold=0.95, late_from=2, end_threshold=0.98, end_from=4)
    assert seen == [0.9, 0.95, 0.95, 0.98, 0.98]
    assert (state["end_threshold"], state["end_from"]) == (0.98, 4)
    # without a first lesson the end mark is the last lesson's only
    assert marks(late_threshold=0.95, late_from=2, end_threshold=0.97)[0] == [
        0.9, 0.95, 0.95, 0.95, 0.97]
    # it holds over a late range that ends before it, and without one
    assert marks(late_threshold=0.95, late_from=2, late_to=2, end_threshold=0.97,
                 end_from=4)[0] == [0.9, 0.95, 0.9, 0.97, 0.97]
    assert marks(end_threshold=0.99, end_from=3)[0] == [0.9, 0.9, 0.99, 0.99, 0.99]
    c = Curriculum(TRAVERSAL_LESSONS[:5], threshold=0.9, end_threshold=0.98, start=4)
    assert not c.update(0.979) and not c.completed
    assert not c.update(0.98) and c.completed
    # the end lessons: from end_from, else the last
    assert [Curriculum(TRAVERSAL_LESSONS[:5], end_from=3, start=i).at_end
            for i in range(5)] == [False, False, True, True, True]
    assert [Curriculum(TRAVERSAL_LESSONS[:5], start=i).at_end
            for i in range(5)] == [False, False, False, False, True]


def test_replay_draws_earlier_lessons_at_ten_percent():
    c = Curriculum(TRAVERSAL_LESSONS, replay=0.1, start=4)
    rng = random.Random(1)
    draws = [c.sample_lesson(rng).index for _ in range(20000)]
    current = sum(d == 5 for d in draws) / len(draws)
    assert 0.88 < current < 0.92
    assert set(draws) == {1, 2, 3, 4, 5}
    earlier = [d for d in draws if d != 5]
    for k in (1, 2, 3, 4):  # uniform over earlier lessons
        assert 0.2 < earlier.count(k) / len(earlier) < 0.3


def test_no_replay_on_first_lesson_or_without_replay():
    rng = random.Random(0)
    assert {Curriculum(TRAVERSAL_LESSONS).sample_lesson(rng).index for _ in range(200)} == {1}
    c = Curriculum(SHORTEST_PATH_LESSONS, replay=0.0, start=6)
    assert {c(rng).index for _ in range(200)} == {7}


def test_state_round_trip():
    c = Curriculum(INFERENCE_LESSONS, threshold=0.9, check_every=100)
    c.update(0.95)
    c.update(0.99)
    state = c.state_dict()
    d = Curriculum(INFERENCE_LESSONS, check_every=3200, mix=0.2)
    d.load_state_dict(state)
    assert d.lesson == c.lesson and d.lesson.index == 3
    # the position is state; the cadence and mix are the (resumed) run's settings
    assert (d.check_every, d.mix) == (3200, 0.2)
    assert d.state_dict() == {**state, "check_every": 3200, "mix": 0.2}
    with pytest.raises(ValueError):
        Curriculum(TRAVERSAL_LESSONS).load_state_dict(state)


def test_mixed_curriculum_draws_all_lessons_so_far_uniformly():
    rng = random.Random(0)
    c = Curriculum(TRAVERSAL_LESSONS, replay=0.0, start=3, mix=0.5)
    counts = [0] * 5
    for _ in range(8000):
        counts[c(rng).index] += 1
    # half the episodes spread evenly over lessons 1-4, the rest on lesson 4
    assert counts[4] / 8000 == pytest.approx(0.5 + 0.5 / 4, abs=0.02)
    for lesson in (1, 2, 3):
        assert counts[lesson] / 8000 == pytest.approx(0.5 / 4, abs=0.015)


def test_stretched_episodes_keep_the_lessons_graphs_and_reach_the_last_lessons_length():
    rng = random.Random(0)
    c = Curriculum(TRAVERSAL_LESSONS, replay=0.1, start=1, stretch=0.2)
    drawn = [c(rng) for _ in range(8000)]
    stretched = [lesson for lesson in drawn if lesson.index == 0]
    assert len(stretched) / 8000 == pytest.approx(0.2, abs=0.015)
    # the current lesson's graphs, walks of 1 up to the last lesson's 20 steps
    assert set(stretched) == {Lesson(0, (3, 10), (2, 4), (1, 20))}
    # the rest as without stretch: 10 % replay of lesson 1, lesson 2 otherwise
    rest = [lesson.index for lesson in drawn if lesson.index]
    assert rest.count(1) / len(rest) == pytest.approx(0.1, abs=0.015)
    assert set(rest) == {1, 2}
    assert Curriculum(TRAVERSAL_LESSONS, stretch=0.5).state_dict()["stretch"] == 0.5


def test_stretch_reach_is_a_multiple_of_the_lessons_longest_capped_at_the_last():
    def longest(reach, position):
        c = Curriculum(TRAVERSAL_LESSONS, start=position, stretch=0.5, stretch_reach=reach)
        stretched = c.stretched(c.lesson)
        assert stretched.index == 0 and stretched.nodes == c.lesson.nodes
        assert stretched.length[0] == c.lesson.length[0]
        return stretched.length[1]

    # lessons 1, 4, 10, 13, 14 train walks of up to 1, 4, 7, 10, 20 steps
    assert [longest(2.0, p) for p in (0, 3, 9, 12, 13)] == [2, 8, 14, 20, 20]
    assert [longest(1.5, p) for p in (0, 3, 9)] == [2, 6, 11]  # rounded up
    assert [longest(1.0, p) for p in (0, 3)] == [1, 4]  # the lesson itself
    assert [longest(None, p) for p in (0, 3, 13)] == [20, 20, 20]  # the last lesson's
    # the share drawn is the stretch's, every stretched walk within the reach
    rng = random.Random(0)
    c = Curriculum(TRAVERSAL_LESSONS, start=3, stretch=0.25, stretch_reach=2.0)
    drawn = [c(rng) for _ in range(8000)]
    stretched = [lesson for lesson in drawn if lesson.index == 0]
    assert len(stretched) / 8000 == pytest.approx(0.25, abs=0.015)
    assert set(stretched) == {Lesson(0, (5, 10), (2, 4), (1, 8))}
    assert c.state_dict()["stretch_reach"] == 2.0


def test_stretched_traversal_episodes_are_numbered_zero_and_as_long_as_drawn():
    from kgdnc.tasks.traversal import make_episode

    c = Curriculum(TRAVERSAL_LESSONS, stretch=0.5)
    lengths = {make_episode(c.stretched(c.lesson), seed).meta["length"] for seed in range(200)}
    assert max(lengths) > 10 and min(lengths) == 1
    assert make_episode(c.stretched(c.lesson), 0).meta["lesson"] == 0
