from __future__ import annotations

from pathlib import Path

import pytest

from kgdnc.errors import UserError
from kgdnc.graphs import (
    BASE_RELATIONS,
    KINSHIP_ALIASES,
    family_tree,
    family_tree_turtle,
    ingest,
    kinship_relation,
)
from kgdnc.graphs.datasets import FAMILY_TREE_GENERATIONS, FAMILY_TREE_SEED, bundled_family_tree


def test_seeded_and_reproducible() -> None:
    a, b = family_tree(seed=3, generations=4), family_tree(seed=3, generations=4)
    assert a.triples == b.triples and a.nodes == b.nodes
    assert family_tree(seed=4, generations=4).triples != a.triples


def test_generations_marriages_and_siblings() -> None:
    kg = family_tree(seed=1, generations=4)
    generations = {n.attributes["generation"] for n in kg.nodes.values()}
    assert generations == {0, 1, 2, 3}
    assert set(kg.relations) == set(BASE_RELATIONS)
    counts = {r: sum(1 for t in kg.triples if t.relation == r) for r in BASE_RELATIONS}
    assert all(counts[r] > 0 for r in BASE_RELATIONS)
    labels = [n.label for n in kg.nodes.values()]
    assert len(labels) == len(set(labels))  # names are unique, so find_node works


def test_relations_are_consistent() -> None:
    kg = family_tree(seed=2, generations=4)
    sex = {n.id: n.attributes["sex"] for n in kg.nodes.values()}
    triples = set(kg.triples)
    for a, r, b in triples:
        assert a != b
        assert sex[b] == ("female" if r in ("mother", "wife", "sister", "daughter") else "male")
        if r in ("mother", "father"):
            assert (b, "son" if sex[a] == "male" else "daughter", a) in triples
        if r in ("husband", "wife"):
            assert (b, "wife" if sex[a] == "female" else "husband", a) in triples
        if r in ("brother", "sister"):
            assert (b, "brother" if sex[a] == "male" else "sister", a) in triples
    assert kg.summary().components == 1


def test_kinship_aliases_compose_base_relations() -> None:
    assert KINSHIP_ALIASES["maternal great uncle"] == ("mother", "mother", "brother")
    assert {len(path) for path in KINSHIP_ALIASES.values()} == {2, 3, 4, 5}
    assert all(set(path) <= set(BASE_RELATIONS) for path in KINSHIP_ALIASES.values())
    assert len(set(KINSHIP_ALIASES.values())) == len(KINSHIP_ALIASES)


def test_kinship_relation_resolves_names_and_paths() -> None:
    assert kinship_relation(" Maternal  Great Uncle ") == ("mother", "mother", "brother")
    assert kinship_relation("father/sister") == ("father", "sister")
    with pytest.raises(UserError, match="did you mean 'maternal great uncle'"):
        kinship_relation("maternal grate uncle")


def test_maternal_great_uncle_is_found() -> None:
    kg = bundled_family_tree()
    for person in kg.nodes:
        for uncle in kg.follow(person, KINSHIP_ALIASES["maternal great uncle"]):
            assert kg.nodes[uncle].attributes["sex"] == "male"
            mother = kg.follow(person, ["mother"])
            grandmother = kg.follow(mother[0], ["mother"])
            assert uncle in kg.follow(grandmother[0], ["brother"])
            return
    pytest.fail("no maternal great uncle in the bundled tree")


def test_most_aliases_have_answers_in_the_bundled_tree() -> None:
    kg = bundled_family_tree()
    answered = [
        name
        for name, path in KINSHIP_ALIASES.items()
        if any(kg.follow(person, path) for person in kg.nodes)
    ]
    assert len(answered) >= 0.8 * len(KINSHIP_ALIASES)


def test_bundled_files_match_the_generator() -> None:
    fresh = family_tree(seed=FAMILY_TREE_SEED, generations=FAMILY_TREE_GENERATIONS)
    bundled = bundled_family_tree()
    assert bundled.triples == fresh.triples
    assert bundled.nodes == fresh.nodes
    assert 100 <= len(bundled.nodes) <= 400


def test_turtle_export_reads_back(tmp_path: Path) -> None:
    kg = family_tree(seed=0, generations=3)
    path = tmp_path / "family.ttl"
    path.write_text(family_tree_turtle(kg))
    back = ingest(path)
    assert len(back) == len(kg) and len(back.nodes) == len(kg.nodes)
    assert sorted(back.labelled_triples()) == sorted(kg.labelled_triples())
    person = next(iter(kg.nodes.values()))
    assert back.find_node(person.label).attributes["famr:sex"] == person.attributes["sex"]
