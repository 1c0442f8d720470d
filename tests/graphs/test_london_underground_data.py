"""Invariants of the bundled London Underground data, read straight from its CSV files.

These tests use only pandas and networkx, so they check the data itself, independent of
the library code that loads it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from importlib.resources import files

import networkx as nx
import pandas as pd
import pytest

DATA = files("kgdnc.datasets") / "london_underground"

LINE_STATION_COUNTS = {
    "Bakerloo": 25,
    "Central": 49,
    "Circle": 35,
    "District": 60,
    "Hammersmith & City": 29,
    "Jubilee": 27,
    "Metropolitan": 34,
    "Northern": 52,
    "Piccadilly": 53,
    "Victoria": 16,
    "Waterloo & City": 2,
}
TOTAL_STATIONS = 271
TOTAL_CONNECTIONS = 376


@pytest.fixture(scope="module")
def stations() -> pd.DataFrame:
    with (DATA / "stations.csv").open(encoding="utf-8") as f:
        return pd.read_csv(f, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def connections() -> pd.DataFrame:
    with (DATA / "connections.csv").open(encoding="utf-8") as f:
        return pd.read_csv(f, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def lines_at(connections: pd.DataFrame) -> dict[str, set[str]]:
    """Station name -> the set of lines that serve it."""
    served: dict[str, set[str]] = defaultdict(set)
    for row in connections.itertuples(index=False):
        served[row[2]].add(row.line)
        served[row.to].add(row.line)
    return served


def line_graph(connections: pd.DataFrame, line: str) -> nx.Graph:
    rows = connections[connections["line"] == line]
    graph = nx.Graph()
    graph.add_edges_from(zip(rows["from"], rows["to"], strict=True))
    return graph


def adjacent(connections: pd.DataFrame, line: str, a: str, b: str) -> bool:
    return line_graph(connections, line).has_edge(a, b)


def test_columns(stations: pd.DataFrame, connections: pd.DataFrame) -> None:
    assert list(stations.columns) == ["station", "zone"]
    assert list(connections.columns) == ["line", "branch", "from", "to", "label", "reverse_label"]


def test_no_blank_or_padded_fields(stations: pd.DataFrame, connections: pd.DataFrame) -> None:
    for frame in (stations, connections):
        for column in frame.columns:
            values = frame[column]
            assert (values != "").all(), column
            assert (values == values.str.strip()).all(), column


def test_station_names_unique(stations: pd.DataFrame) -> None:
    assert stations["station"].is_unique


def test_no_near_duplicate_names(stations: pd.DataFrame) -> None:
    """Catches one station spelt two ways (e.g. "St Paul's" and "St. Paul's")."""
    keys = stations["station"].map(lambda s: re.sub(r"[^a-z0-9]", "", s.lower()))
    assert keys.is_unique


def test_stations_and_connections_name_the_same_set(
    stations: pd.DataFrame, connections: pd.DataFrame
) -> None:
    listed = set(stations["station"])
    connected = set(connections["from"]) | set(connections["to"])
    assert connected - listed == set(), "stations in connections.csv missing from stations.csv"
    assert listed - connected == set(), "isolated stations in stations.csv"


def test_total_counts(stations: pd.DataFrame, connections: pd.DataFrame) -> None:
    assert len(stations) == TOTAL_STATIONS
    assert len(connections) == TOTAL_CONNECTIONS


def test_only_the_eleven_underground_lines(connections: pd.DataFrame) -> None:
    assert set(connections["line"]) == set(LINE_STATION_COUNTS)


@pytest.mark.parametrize(("line", "count"), sorted(LINE_STATION_COUNTS.items()))
def test_station_count_per_line(connections: pd.DataFrame, line: str, count: int) -> None:
    assert line_graph(connections, line).number_of_nodes() == count


@pytest.mark.parametrize("line", sorted(LINE_STATION_COUNTS))
def test_each_line_is_connected(connections: pd.DataFrame, line: str) -> None:
    assert nx.is_connected(line_graph(connections, line))


def test_whole_network_is_connected(connections: pd.DataFrame) -> None:
    graph = nx.Graph()
    graph.add_edges_from(zip(connections["from"], connections["to"], strict=True))
    assert nx.is_connected(graph)


def test_no_self_loops(connections: pd.DataFrame) -> None:
    assert (connections["from"] != connections["to"]).all()


def test_no_duplicate_rows_or_pairs(connections: pd.DataFrame) -> None:
    assert not connections.duplicated().any()
    pairs = connections.apply(lambda r: (r["line"], frozenset((r["from"], r["to"]))), axis=1)
    assert pairs.is_unique, "a station pair appears twice on one line"


def test_zones_valid(stations: pd.DataFrame) -> None:
    for station, zone in zip(stations["station"], stations["zone"], strict=True):
        match = re.fullmatch(r"([1-9])(?:/([1-9]))?", zone)
        assert match, f"{station}: bad zone {zone!r}"
        if match.group(2):
            assert int(match.group(2)) == int(match.group(1)) + 1, f"{station}: {zone}"


@pytest.mark.parametrize(
    ("station", "zone"),
    [
        ("Oxford Circus", "1"),
        ("Battersea Power Station", "1"),
        ("Earl's Court", "1/2"),
        ("Stratford", "2/3"),
        ("Wimbledon", "3"),
        ("Heathrow Terminal 5", "6"),
        ("Moor Park", "6/7"),
        ("Chalfont & Latimer", "8"),
        ("Amersham", "9"),
        ("Chesham", "9"),
    ],
)
def test_known_zones(stations: pd.DataFrame, station: str, zone: str) -> None:
    assert stations.set_index("station").loc[station, "zone"] == zone


@pytest.mark.parametrize(
    ("line", "a", "b"),
    [
        ("Victoria", "Oxford Circus", "Green Park"),
        ("Central", "Bank", "Liverpool Street"),
        ("Northern", "Kennington", "Nine Elms"),
        ("Northern", "Nine Elms", "Battersea Power Station"),
        ("Northern", "Camden Town", "Chalk Farm"),
        ("Northern", "Camden Town", "Kentish Town"),
        ("Northern", "Euston", "Mornington Crescent"),
        ("Northern", "Euston", "King's Cross St. Pancras"),
        ("Northern", "Finchley Central", "Mill Hill East"),
        ("Circle", "Baker Street", "Great Portland Street"),
        ("Hammersmith & City", "Baker Street", "Great Portland Street"),
        ("Metropolitan", "Baker Street", "Great Portland Street"),
        ("Circle", "Paddington", "Edgware Road (Circle Line)"),
        ("Circle", "Royal Oak", "Paddington"),
        ("Circle", "Liverpool Street", "Aldgate"),
        ("Hammersmith & City", "Liverpool Street", "Aldgate East"),
        ("Bakerloo", "Paddington", "Edgware Road (Bakerloo)"),
        ("District", "Earl's Court", "Kensington (Olympia)"),
        ("District", "Ravenscourt Park", "Hammersmith (District and Piccadilly)"),
        ("Metropolitan", "Baker Street", "Finchley Road"),
        ("Metropolitan", "Chalfont & Latimer", "Chesham"),
        ("Metropolitan", "Moor Park", "Croxley"),
        ("Central", "Woodford", "Roding Valley"),
        ("Central", "North Acton", "West Acton"),
        ("Piccadilly", "Hatton Cross", "Heathrow Terminal 4"),
        ("Piccadilly", "Heathrow Terminals 2 & 3", "Heathrow Terminal 5"),
        ("Jubilee", "Canary Wharf", "North Greenwich"),
        ("Waterloo & City", "Waterloo", "Bank"),
    ],
)
def test_known_adjacencies(connections: pd.DataFrame, line: str, a: str, b: str) -> None:
    assert adjacent(connections, line, a, b)


@pytest.mark.parametrize(
    ("line", "a", "b"),
    [
        ("Metropolitan", "Baker Street", "St. John's Wood"),  # Met trains run fast to Finchley Road
        ("Hammersmith & City", "Liverpool Street", "Aldgate"),  # H&C avoids Aldgate
        ("Northern", "Camden Town", "Warren Street"),
        ("Central", "Bank", "Monument"),  # Bank and Monument are separate stations
    ],
)
def test_known_non_adjacencies(connections: pd.DataFrame, line: str, a: str, b: str) -> None:
    assert not adjacent(connections, line, a, b)


def test_circle_line_is_a_loop_with_one_spur(connections: pd.DataFrame) -> None:
    cycles = nx.cycle_basis(line_graph(connections, "Circle"))
    assert len(cycles) == 1
    assert len(cycles[0]) == 27
    assert "Hammersmith (Hammersmith & City and Circle)" not in cycles[0]


@pytest.mark.parametrize(
    ("station", "expected"),
    [
        ("Baker Street", {"Bakerloo", "Circle", "Hammersmith & City", "Jubilee", "Metropolitan"}),
        (
            "King's Cross St. Pancras",
            {"Circle", "Hammersmith & City", "Metropolitan", "Northern", "Piccadilly", "Victoria"},
        ),
        ("Bank", {"Central", "Northern", "Waterloo & City"}),
        ("Monument", {"Circle", "District"}),
        ("Paddington", {"Bakerloo", "Circle", "District", "Hammersmith & City"}),
        ("Edgware Road (Circle Line)", {"Circle", "District", "Hammersmith & City"}),
        ("Edgware Road (Bakerloo)", {"Bakerloo"}),
        ("Hammersmith (District and Piccadilly)", {"District", "Piccadilly"}),
        ("Hammersmith (Hammersmith & City and Circle)", {"Circle", "Hammersmith & City"}),
        ("Green Park", {"Jubilee", "Piccadilly", "Victoria"}),
        ("Waterloo", {"Bakerloo", "Jubilee", "Northern", "Waterloo & City"}),
    ],
)
def test_interchanges(lines_at: dict[str, set[str]], station: str, expected: set[str]) -> None:
    assert lines_at[station] == expected


def test_ambiguous_names_are_not_used(stations: pd.DataFrame) -> None:
    names = set(stations["station"])
    assert {"Edgware Road", "Hammersmith", "Bank and Monument"} & names == set()


def directed_edges(connections: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    """(source, target, label, line) for both directions of every row."""
    out = []
    for row in connections.itertuples(index=False):
        src, dst = row[2], row.to
        out.append((src, dst, row.label, row.line))
        out.append((dst, src, row.reverse_label, row.line))
    return out


def test_labels_distinct_among_edges_leaving_each_station(connections: pd.DataFrame) -> None:
    leaving: dict[str, list[str]] = defaultdict(list)
    for src, _dst, label, _line in directed_edges(connections):
        leaving[src].append(label)
    clashes = {s: ls for s, ls in leaving.items() if len(ls) != len(set(ls))}
    assert clashes == {}


def test_labels_name_their_line_and_differ_by_direction(connections: pd.DataFrame) -> None:
    for _src, _dst, label, line in directed_edges(connections):
        assert label.startswith(f"{line} "), label
    assert (connections["label"] != connections["reverse_label"]).all()


def test_branching_points_are_qualified(connections: pd.DataFrame) -> None:
    labels = {(s, d): label for s, d, label, _ in directed_edges(connections)}
    assert labels[("Camden Town", "Chalk Farm")] == "Northern northbound (Edgware branch)"
    assert labels[("Camden Town", "Kentish Town")] == "Northern northbound (High Barnet branch)"
    assert labels[("Chalk Farm", "Camden Town")] == "Northern southbound"
    assert labels[("Oxford Circus", "Green Park")] == "Victoria southbound"
    assert labels[("Green Park", "Oxford Circus")] == "Victoria northbound"
