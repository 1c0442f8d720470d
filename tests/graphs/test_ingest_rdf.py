from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
import rdflib
from rdflib import Literal, Namespace, URIRef
from rdflib.namespace import FOAF, OWL, RDF, RDFS, SKOS

from kgdnc.errors import UserError
from kgdnc.graphs import ingest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

EX = Namespace("http://example.org/")
SCHEMA = Namespace("http://schema.org/")


def sample() -> rdflib.Graph:
    g = rdflib.Graph()
    g.bind("ex", EX)
    g.add((EX.alice, RDF.type, FOAF.Person))
    g.add((EX.alice, RDFS.label, Literal("Alicia", lang="es")))
    g.add((EX.alice, RDFS.label, Literal("Alice", lang="en")))
    g.add((EX.alice, RDFS.label, Literal("Ali")))
    g.add((EX.alice, EX.age, Literal(30)))
    g.add((EX.alice, EX.knows, EX.bob))
    g.add((EX.bob, FOAF.name, Literal("Bob")))
    g.add((EX.bob, EX.livesIn, EX.paris))
    g.add((EX.paris, SKOS.prefLabel, Literal("Paris")))
    g.add((EX.paris, SCHEMA.name, Literal("Lutetia")))
    g.add((EX.knows, RDFS.label, Literal("knows")))
    return g


SUFFIX = {"turtle": "ttl", "nt": "nt", "n3": "n3", "xml": "rdf", "json-ld": "jsonld"}


@pytest.mark.parametrize("fmt", ["turtle", "nt", "n3", "xml", "json-ld"])
def test_every_triple_format_by_suffix(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"g.{SUFFIX[fmt]}"
    sample().serialize(path, format=fmt)
    kg = ingest(path)
    assert kg.meta["format"] == fmt
    assert len(kg) == 2 and len(kg.nodes) == 3
    labels = {n.label for n in kg.nodes.values()}
    assert labels == {"Alice", "Bob", "Paris"}
    assert kg.relation_label(str(EX.knows)) == "knows"
    assert kg.relation_label(str(EX.livesIn)) == "livesIn"  # local name


@pytest.mark.parametrize("fmt,suffix", [("trig", "trig"), ("nquads", "nq"), ("trix", "trix")])
def test_quad_formats_merge_named_graphs(tmp_path: Path, fmt: str, suffix: str) -> None:
    ds = rdflib.Dataset()
    g1 = ds.graph(URIRef("http://example.org/g1"))
    g2 = ds.graph(URIRef("http://example.org/g2"))
    g1.add((EX.a, EX.p, EX.b))
    g2.add((EX.b, EX.p, EX.c))
    g2.add((EX.a, EX.p, EX.b))  # the same statement in both graphs
    path = tmp_path / f"g.{suffix}"
    ds.serialize(path, format=fmt)
    kg = ingest(path)
    assert sorted(kg.triples) == [
        (str(EX.a), str(EX.p), str(EX.b)),
        (str(EX.b), str(EX.p), str(EX.c)),
    ]
    assert kg.meta["report"]["duplicate statements merged across named graphs"] == 1


def test_format_option_overrides_suffix(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    sample().serialize(path, format="turtle")
    assert len(ingest(path, format="ttl")) == 2


def test_label_priority_literals_and_types(tmp_path: Path) -> None:
    path = tmp_path / "g.ttl"
    sample().serialize(path, format="turtle")
    kg = ingest(path)
    alice = kg.nodes[str(EX.alice)]
    assert alice.label == "Alice"  # rdfs:label @en beats untagged and @es
    assert alice.attributes["ex:age"] == "30"
    assert alice.attributes["rdf:type"] == "Person"
    assert kg.nodes[str(EX.paris)].label == "Paris"  # skos:prefLabel beats schema:name
    assert not any(str(FOAF.Person) in t for t in kg.triples)
    assert str(RDF.type) not in kg.relations


def test_untagged_label_beats_other_languages(tmp_path: Path) -> None:
    path = tmp_path / "g.ttl"
    path.write_text(
        '@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n'
        '<http://x/a> rdfs:label "Eins"@de, "One" ; <http://x/p> <http://x/b> .\n'
    )
    assert ingest(path).nodes["http://x/a"].label == "One"


def test_include_types_makes_type_edges(tmp_path: Path) -> None:
    path = tmp_path / "g.ttl"
    sample().serialize(path, format="turtle")
    kg = ingest(path, include_types=True)
    assert (str(EX.alice), str(RDF.type), str(FOAF.Person)) in kg
    assert kg.relation_label(str(RDF.type)) == "type"


def test_blank_nodes_get_stable_ids(tmp_path: Path) -> None:
    text = (
        "@prefix ex: <http://example.org/> .\n"
        "ex:a ex:address [ ex:city ex:paris ; ex:street \"Rue 1\" ] .\n"
        "ex:b ex:address [ ex:city ex:rome ] .\n"
    )
    path = tmp_path / "g.ttl"
    path.write_text(text)
    first, second = ingest(path), ingest(path)
    assert first.triples == second.triples
    blanks = [n for n in first.nodes if n.startswith("_:b")]
    assert len(blanks) == 2
    # Same ids when the file is written in another order.
    lines = text.splitlines()
    path.write_text("\n".join([lines[0], lines[2], lines[1]]) + "\n")
    assert sorted(ingest(path).triples) == sorted(first.triples)


def test_owl_imports_is_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "g.ttl"
    path.write_text(
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "<http://x/onto> a owl:Ontology ; owl:imports <http://192.0.2.1/never.ttl> .\n"
        "<http://x/a> <http://x/p> <http://x/b> .\n"
    )
    kg = ingest(path)
    assert len(kg) == 1 and "http://x/onto" not in kg.nodes
    assert any("owl:imports" in k for k in kg.meta["report"])


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def jsonld_doc(context: object) -> str:
    return json.dumps(
        {"@context": context, "@id": "http://x/a", "knows": {"@id": "http://x/b"}, "name": "A"}
    )


def test_jsonld_remote_context_fails_fast_without_network(tmp_path: Path, no_sockets: None) -> None:
    path = tmp_path / "g.jsonld"
    path.write_text(jsonld_doc("http://192.0.2.1/context.jsonld"))
    start = time.monotonic()
    with pytest.raises(UserError, match=r"remote.*context option"):
        ingest(path)
    assert time.monotonic() - start < 5


def test_jsonld_remote_context_replaced_by_local_file(tmp_path: Path, no_sockets: None) -> None:
    ctx = tmp_path / "ctx.jsonld"
    ctx.write_text(
        json.dumps(
            {
                "@context": {
                    "knows": {"@id": "http://x/knows", "@type": "@id"},
                    "name": "http://xmlns.com/foaf/0.1/name",
                }
            }
        )
    )
    path = tmp_path / "g.jsonld"
    path.write_text(jsonld_doc(["https://schema.org/", {"extra": "http://x/extra"}]))
    kg = ingest(path, context=str(ctx))
    assert kg.triples == [("http://x/a", "http://x/knows", "http://x/b")]
    assert kg.nodes["http://x/a"].label == "A"


def test_jsonld_relative_context_is_read_locally(tmp_path: Path, no_sockets: None) -> None:
    (tmp_path / "ctx.json").write_text(json.dumps({"@context": {"@vocab": "http://x/"}}))
    path = tmp_path / "g.jsonld"
    path.write_text(jsonld_doc("ctx.json"))
    assert ingest(path).triples == [("http://x/a", "http://x/knows", "http://x/b")]


def test_remote_url_opener_is_blocked(tmp_path: Path, no_sockets: None) -> None:
    # An RDF/XML document whose DTD points at a URL; the parser must not fetch it.
    path = tmp_path / "g.rdf"
    path.write_text(
        '<?xml version="1.0"?>\n'
        '<!DOCTYPE rdf:RDF SYSTEM "http://192.0.2.1/rdf.dtd">\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:x="http://x/">\n'
        '<rdf:Description rdf:about="http://x/a"><x:p rdf:resource="http://x/b"/>'
        "</rdf:Description>\n</rdf:RDF>\n"
    )
    assert len(ingest(path)) == 1


@pytest.mark.parametrize(
    "suffix,text,line",
    [
        ("ttl", "@prefix ex: <http://x/> .\nex:a ex:p ex:b .\nex:a ex:p .\n", 3),
        ("nt", "<http://x/a> <http://x/p> <http://x/b> .\n<http://x/a> oops .\n", 2),
        ("rdf", '<?xml version="1.0"?>\n<rdf:RDF>\n<unclosed>\n', 2),
        ("jsonld", '{\n "@id": "http://x/a",\n "x": \n}\n', 4),
    ],
)
def test_syntax_errors_name_the_line(tmp_path: Path, suffix: str, text: str, line: int) -> None:
    path = tmp_path / f"bad.{suffix}"
    path.write_text(text)
    with pytest.raises(UserError) as err:
        ingest(path)
    message = str(err.value)
    assert str(path) in message and f"line {line}" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "name,content,pattern",
    [
        ("empty.ttl", b"", "empty"),
        ("blank.ttl", b"  \n\n", "empty"),
        ("bin.ttl", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        ("lits.ttl", b'<http://x/a> <http://x/p> "only a literal" .\n', "no triples"),
        ("g.xyz", b"a b c\n", "the format option"),
    ],
)
def test_bad_inputs(tmp_path: Path, name: str, content: bytes, pattern: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UserError, match=pattern):
        ingest(path)


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "g.ttl"
    path.write_text("<http://x/a> <http://x/p> <http://x/b> .\n")
    with pytest.raises(UserError, match="unknown format 'yaml'"):
        ingest(path, format="yaml")
    with pytest.raises(UserError, match="no such file"):
        ingest(tmp_path / "missing.ttl")
    with pytest.raises(UserError, match="folder"):
        ingest(tmp_path)
    with pytest.raises(UserError, match="unknown ingest option"):
        ingest(path, colour="red")


def test_vocabulary_declarations_are_not_nodes(tmp_path: Path) -> None:
    g = sample()
    g.add((FOAF.Person, RDF.type, OWL.Class))
    g.add((EX.knows, RDF.type, OWL.ObjectProperty))
    path = tmp_path / "g.ttl"
    g.serialize(path, format="turtle")
    kg = ingest(path)
    assert set(kg.nodes) == {str(EX.alice), str(EX.bob), str(EX.paris)}
