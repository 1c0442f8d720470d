from __future__ import annotations

from pathlib import Path

import pytest

from kgdnc.errors import KgdncError, UserError
from kgdnc.graphs import BUNDLED, load_bundled
from kgdnc.graphs.datasets import data_path, london_underground, london_underground_zone1

STATIONS = "station,zone\nA,1\nB,1\nC,2/3\nD,1/2\nE,3\n"
CONNECTIONS = (
    "line,branch,from,to,label,reverse_label\n"
    "Red,main,A,B,Red eastbound,Red westbound\n"
    "Red,main,B,C,Red eastbound,Red westbound\n"
    "Blue,north,B,D,Blue northbound,Blue southbound\n"
    "Blue,north,D,E,Blue northbound,Blue southbound\n"
)


@pytest.fixture
def tube(tmp_path: Path) -> tuple[Path, Path]:
    stations, connections = tmp_path / "stations.csv", tmp_path / "connections.csv"
    stations.write_text(STATIONS)
    connections.write_text(CONNECTIONS)
    return stations, connections


def test_underground_rows_become_two_labelled_triples(tube: tuple[Path, Path]) -> None:
    kg = london_underground(*tube)
    assert len(kg.nodes) == 5 and len(kg) == 8
    assert ("A", "Red eastbound", "B") in kg and ("B", "Red westbound", "A") in kg
    assert kg.edge_attributes(("D", "Blue southbound", "B")) == {"line": "Blue", "branch": "north"}
    assert kg.nodes["C"].attributes["zone"] == "2/3"
    nxg = kg.to_networkx()
    assert {d["relation"] for _, _, d in nxg.out_edges("B", data=True)} == {
        "Red eastbound",
        "Red westbound",
        "Blue northbound",
    }


def test_zone1_view_is_induced(tube: tuple[Path, Path]) -> None:
    kg = london_underground_zone1(*tube)
    assert kg.name == "london-underground-zone1"
    assert set(kg.nodes) == {"A", "B", "D"}  # "1/2" is in zone 1, "2/3" is not
    assert sorted(kg.triples) == sorted(
        [
            ("A", "Red eastbound", "B"),
            ("B", "Red westbound", "A"),
            ("B", "Blue northbound", "D"),
            ("D", "Blue southbound", "B"),
        ]
    )


def test_unknown_station_in_connections(tube: tuple[Path, Path]) -> None:
    stations, connections = tube
    connections.write_text(CONNECTIONS + "Red,main,C,Z,Red eastbound,Red westbound\n")
    with pytest.raises(KgdncError, match=r"connections.csv:6: station 'Z'"):
        london_underground(stations, connections)


real = data_path("london_underground")


@pytest.mark.skipif(
    not (real / "stations.csv").is_file() or not (real / "connections.csv").is_file(),
    reason="bundled London Underground files not present",
)
def test_real_underground_loads_with_distinct_labels_per_station() -> None:
    kg = load_bundled("london-underground")
    s = kg.summary()
    assert 250 <= s.nodes <= 300 and s.isolated == 0 and s.components == 1
    for node in kg.nodes:
        labels = [t.relation for t in kg.out_edges(node)]
        assert len(labels) == len(set(labels)), node
    zone1 = load_bundled("london-underground-zone1")
    assert 40 <= len(zone1.nodes) < s.nodes
    assert set(zone1.nodes) <= set(kg.nodes)
    assert kg.find_node("oxford circus").id == "Oxford Circus"


def test_bundled_example_and_family_tree() -> None:
    example = load_bundled("example")
    assert example.find_node("ada lovelace").attributes["rdf:type"] == "Person"
    assert example.follow("Ada Lovelace", ["lives in"]) == ["http://example.org/london"]
    tree = load_bundled("family-tree")
    assert len(tree.relations) == 8 and len(tree) > 500
    assert set(BUNDLED) == {
        "london-underground",
        "london-underground-zone1",
        "family-tree",
        "example",
    }
    with pytest.raises(UserError):
        load_bundled("nope")
