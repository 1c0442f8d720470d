"""Seeded family trees and the kinship relations composed from them.

A triple ``(A, mother, B)`` reads "B is A's mother": following relations from a
person composes them, so ``mother/mother/brother`` from A reaches A's maternal
great uncles. The eight base relations are :data:`BASE_RELATIONS`;
:data:`KINSHIP_ALIASES` names compositions of 2 to 5 of them (the paper's
family-tree inference task asks for such relations, e.g. "maternal great uncle").
"""

from __future__ import annotations

import difflib
import random
from dataclasses import dataclass, field

from kgdnc.errors import UserError
from kgdnc.graphs.graph import KnowledgeGraph, clean_text

BASE_RELATIONS = ("mother", "father", "son", "daughter", "husband", "wife", "brother", "sister")

FAMILY_NAMESPACE = "http://example.org/family/"
FAMILY_RELATION_NAMESPACE = "http://example.org/family/relation/"

_M, _F, _S, _D = "mother", "father", "son", "daughter"
_H, _W, _B, _Z = "husband", "wife", "brother", "sister"

KINSHIP_ALIASES: dict[str, tuple[str, ...]] = {
    # length 2
    "maternal grandmother": (_M, _M),
    "maternal grandfather": (_M, _F),
    "paternal grandmother": (_F, _M),
    "paternal grandfather": (_F, _F),
    "maternal uncle": (_M, _B),
    "maternal aunt": (_M, _Z),
    "paternal uncle": (_F, _B),
    "paternal aunt": (_F, _Z),
    "son's son": (_S, _S),
    "son's daughter": (_S, _D),
    "daughter's son": (_D, _S),
    "daughter's daughter": (_D, _D),
    "brother's son": (_B, _S),
    "brother's daughter": (_B, _D),
    "sister's son": (_Z, _S),
    "sister's daughter": (_Z, _D),
    "son-in-law": (_D, _H),
    "daughter-in-law": (_S, _W),
    "wife's mother": (_W, _M),
    "wife's father": (_W, _F),
    "husband's mother": (_H, _M),
    "husband's father": (_H, _F),
    "brother's wife": (_B, _W),
    "sister's husband": (_Z, _H),
    "wife's brother": (_W, _B),
    "wife's sister": (_W, _Z),
    "husband's brother": (_H, _B),
    "husband's sister": (_H, _Z),
    # length 3
    "maternal great grandmother": (_M, _M, _M),
    "maternal great grandfather": (_M, _M, _F),
    "paternal great grandmother": (_F, _F, _M),
    "paternal great grandfather": (_F, _F, _F),
    "maternal great uncle": (_M, _M, _B),
    "maternal great aunt": (_M, _M, _Z),
    "paternal great uncle": (_F, _F, _B),
    "paternal great aunt": (_F, _F, _Z),
    "maternal uncle's son": (_M, _B, _S),
    "maternal uncle's daughter": (_M, _B, _D),
    "maternal aunt's son": (_M, _Z, _S),
    "maternal aunt's daughter": (_M, _Z, _D),
    "paternal uncle's son": (_F, _B, _S),
    "paternal uncle's daughter": (_F, _B, _D),
    "paternal aunt's son": (_F, _Z, _S),
    "paternal aunt's daughter": (_F, _Z, _D),
    "maternal uncle's wife": (_M, _B, _W),
    "paternal aunt's husband": (_F, _Z, _H),
    "son's son's son": (_S, _S, _S),
    "daughter's daughter's daughter": (_D, _D, _D),
    "brother's son's son": (_B, _S, _S),
    "sister's daughter's daughter": (_Z, _D, _D),
    "wife's mother's mother": (_W, _M, _M),
    # length 4
    "maternal great great grandmother": (_M, _M, _M, _M),
    "paternal great great grandfather": (_F, _F, _F, _F),
    "maternal great great uncle": (_M, _M, _M, _B),
    "paternal great great aunt": (_F, _F, _F, _Z),
    "maternal great uncle's son": (_M, _M, _B, _S),
    "maternal great aunt's daughter": (_M, _M, _Z, _D),
    "paternal great uncle's son": (_F, _F, _B, _S),
    "paternal great aunt's daughter": (_F, _F, _Z, _D),
    "maternal great uncle's wife": (_M, _M, _B, _W),
    "paternal great aunt's husband": (_F, _F, _Z, _H),
    "maternal uncle's son's son": (_M, _B, _S, _S),
    "paternal aunt's daughter's daughter": (_F, _Z, _D, _D),
    # length 5
    "maternal great great great grandmother": (_M, _M, _M, _M, _M),
    "paternal great great great grandfather": (_F, _F, _F, _F, _F),
    "maternal great great uncle's son": (_M, _M, _M, _B, _S),
    "paternal great great aunt's daughter": (_F, _F, _F, _Z, _D),
    "maternal great uncle's grandson": (_M, _M, _B, _S, _S),
    "paternal great uncle's granddaughter": (_F, _F, _B, _D, _D),
    "maternal second cousin via great aunt": (_M, _M, _Z, _D, _S),
    "paternal second cousin via great uncle": (_F, _F, _B, _S, _D),
}


def kinship_relation(name: str) -> tuple[str, ...]:
    """Resolve a kinship name or a path ``"mother/mother/brother"`` to base relations."""
    text = clean_text(name).lower()
    if text in KINSHIP_ALIASES:
        return KINSHIP_ALIASES[text]
    parts = tuple(clean_text(p) for p in text.replace(",", "/").split("/"))
    if all(p in BASE_RELATIONS for p in parts) and parts:
        return parts
    close = difflib.get_close_matches(text, list(KINSHIP_ALIASES) + list(BASE_RELATIONS), n=3)
    hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
    raise UserError(
        f"unknown kinship relation {name!r}; {hint}give a named relation or a path of "
        f"{', '.join(BASE_RELATIONS)} joined by '/'"
    )


_FEMALE_NAMES = (
    "Ada Alice Amelia Anna Beatrice Clara Cora Daisy Edith Eleanor Eliza Ella Emma Esther "
    "Evelyn Florence Grace Hannah Harriet Ida Iris Isla Ivy Jane Josephine Julia Lily Lucy "
    "Mabel Margaret Martha Mary Matilda Maud Mia Nora Olive Olivia Pearl Phoebe Rose Ruby "
    "Ruth Sarah Sophia Stella Violet Winifred Zoe"
).split()
_MALE_NAMES = (
    "Albert Alfred Arthur Benjamin Charles Daniel David Edmund Edward Ernest Felix Frank "
    "Frederick George Harold Harry Henry Hugh Isaac Jack Jacob James John Joseph Leo Leonard "
    "Louis Matthew Michael Oliver Oscar Patrick Peter Ralph Robert Samuel Stanley Thomas "
    "Victor Walter William"
).split()
_SURNAMES = (
    "Abbott Baker Carter Dawson Ellis Fletcher Gardner Hughes Irving Jennings Kemp Lawson "
    "Marsh Norris Owens Palmer Quinn Reeves Shaw Turner Underwood Vaughan Walsh Young"
).split()


@dataclass
class _Person:
    id: str
    given: str
    surname: str
    sex: str  # "female" or "male"
    generation: int
    origin: str  # "founder", "born" or "married in"
    parents: tuple[str, str] | None = None  # (mother, father)
    spouse: str | None = None
    children: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.given} {self.surname}"


@dataclass(frozen=True)
class FamilyTreeConfig:
    """Shape of a generated family tree.

    ``founding_couples`` start generation 0; each couple has between ``min_children``
    and ``max_children`` children; a person marries with probability ``marriage_rate``,
    preferring (with probability ``intermarriage_rate``) someone of another founding
    family in the same generation over a newcomer, which keeps the tree connected.
    """

    generations: int = 4
    founding_couples: int = 3
    min_children: int = 2
    max_children: int = 4
    marriage_rate: float = 0.8
    intermarriage_rate: float = 0.3


class _Tree:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.people: dict[str, _Person] = {}
        self.labels: set[str] = set()

    def new(self, sex: str, surname: str, generation: int, origin: str) -> _Person:
        pool = _FEMALE_NAMES if sex == "female" else _MALE_NAMES
        given = self.rng.choice(pool)
        label = f"{given} {surname}"
        if label in self.labels:
            free = [g for g in pool if f"{g} {surname}" not in self.labels]
            if free:
                given = self.rng.choice(free)
            else:
                suffix = 2
                while f"{given} {suffix} {surname}" in self.labels:
                    suffix += 1
                given = f"{given} {suffix}"
        person = _Person(
            id=f"{given} {surname}".lower().replace(" ", "-"),
            given=given,
            surname=surname,
            sex=sex,
            generation=generation,
            origin=origin,
        )
        self.labels.add(person.label)
        self.people[person.id] = person
        return person

    def marry(self, a: _Person, b: _Person) -> None:
        a.spouse, b.spouse = b.id, a.id

    def lineage(self, person: _Person, depth: int = 2) -> set[str]:
        """The person's ancestors up to ``depth`` generations (for avoiding close kin)."""
        found: set[str] = set()
        frontier = [person]
        for _ in range(depth):
            nxt = []
            for p in frontier:
                if p.parents:
                    found.update(p.parents)
                    nxt.extend(self.people[q] for q in p.parents)
            frontier = nxt
        return found


def family_tree(
    seed: int = 0, generations: int = 4, config: FamilyTreeConfig | None = None
) -> KnowledgeGraph:
    """A random family tree, reproducible from ``seed`` (``config``, when given, wins
    over ``generations``).

    Nodes are people (id like ``alice-baker``, label ``Alice Baker``, attributes
    ``sex``, ``generation``, ``origin``); triples use :data:`BASE_RELATIONS` in the
    "B is A's relation" direction (see the module docstring).
    """
    cfg = config if config is not None else FamilyTreeConfig(generations=generations)
    if cfg.generations < 1:
        raise UserError("a family tree needs at least 1 generation")
    rng = random.Random(seed)
    tree = _Tree(rng)
    surnames = list(_SURNAMES)
    rng.shuffle(surnames)

    def next_surname() -> str:
        if surnames:
            return surnames.pop()
        return rng.choice(_SURNAMES)

    couples: list[tuple[_Person, _Person]] = []
    for _ in range(cfg.founding_couples):
        surname = next_surname()
        husband = tree.new("male", surname, 0, "founder")
        wife = tree.new("female", surname, 0, "founder")
        tree.marry(husband, wife)
        couples.append((wife, husband))

    for generation in range(1, cfg.generations):
        children: list[_Person] = []
        for mother, father in couples:
            for _ in range(rng.randint(cfg.min_children, cfg.max_children)):
                sex = rng.choice(("female", "male"))
                child = tree.new(sex, father.surname, generation, "born")
                child.parents = (mother.id, father.id)
                mother.children.append(child.id)
                father.children.append(child.id)
                children.append(child)
        couples = []
        if generation == cfg.generations - 1:
            break
        order = list(children)
        rng.shuffle(order)
        for person in order:
            if person.spouse is not None or rng.random() >= cfg.marriage_rate:
                continue
            kin = tree.lineage(person)
            candidates = [
                other
                for other in order
                if other.spouse is None
                and other.sex != person.sex
                and not (tree.lineage(other) & kin)
            ]
            if candidates and rng.random() < cfg.intermarriage_rate:
                partner = rng.choice(candidates)
            else:
                sex = "female" if person.sex == "male" else "male"
                partner = tree.new(sex, next_surname(), generation, "married in")
            tree.marry(person, partner)
            wife, husband = (person, partner) if person.sex == "female" else (partner, person)
            couples.append((wife, husband))

    return _to_graph(tree, seed, cfg)


def _to_graph(tree: _Tree, seed: int, cfg: FamilyTreeConfig) -> KnowledgeGraph:
    graph = KnowledgeGraph("family-tree")
    for relation in BASE_RELATIONS:
        graph.add_relation(relation, relation)
    people = tree.people
    for person in people.values():
        graph.add_node(
            person.id,
            person.label,
            {"sex": person.sex, "generation": person.generation, "origin": person.origin},
        )
    for person in people.values():
        if person.parents:
            mother, father = person.parents
            graph.add_triple(person.id, "mother", mother)
            graph.add_triple(person.id, "father", father)
            for parent in (mother, father):
                relation = "son" if person.sex == "male" else "daughter"
                graph.add_triple(parent, relation, person.id)
            for sibling_id in people[mother].children:
                if sibling_id != person.id:
                    relation = "brother" if people[sibling_id].sex == "male" else "sister"
                    graph.add_triple(person.id, relation, sibling_id)
        if person.spouse:
            relation = "husband" if person.sex == "female" else "wife"
            graph.add_triple(person.id, relation, person.spouse)
    graph.meta = {
        "source": f"kgdnc.graphs.family_tree(seed={seed}, generations={cfg.generations})",
        "format": "generated",
        "options": {"seed": seed, **cfg.__dict__},
    }
    return graph


def family_tree_turtle(graph: KnowledgeGraph) -> str:
    """A family tree as Turtle, people and relations under ``http://example.org/family/``."""
    from kgdnc.graphs.export import to_turtle

    return to_turtle(
        graph,
        namespace=FAMILY_NAMESPACE,
        prefix="fam",
        relation_namespace=FAMILY_RELATION_NAMESPACE,
    )
