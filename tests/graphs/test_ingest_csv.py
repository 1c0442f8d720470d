from __future__ import annotations

from pathlib import Path

import pytest

from kgdnc.errors import UserError
from kgdnc.graphs import ingest


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    "name,text",
    [
        ("g.csv", "source,relation,target\na,r,b\nb,r,c\n"),
        ("g.csv", "source;relation;target\na;r;b\nb;r;c\n"),
        ("g.tsv", "source\trelation\ttarget\na\tr\tb\nb\tr\tc\n"),
        ("g.csv", "source\trelation\ttarget\na\tr\tb\nb\tr\tc\n"),  # tabs in a .csv
        ("g.csv", "\ufeffsource,relation,target\r\na,r,b\r\nb,r,c\r\n"),  # BOM, CRLF
        ("g.csv", "Head,Relation,Tail\na,r,b\nb,r,c\n"),
        ("g.csv", "subject,predicate,object\na,r,b\nb,r,c\n"),
    ],
)
def test_delimiters_bom_and_column_names(tmp_path: Path, name: str, text: str) -> None:
    kg = ingest(write(tmp_path, name, text))
    assert kg.triples == [("a", "r", "b"), ("b", "r", "c")]


def test_quoted_commas_and_non_ascii(tmp_path: Path) -> None:
    text = (
        'from,to,line\n"King\'s Cross, St. Pancras",Euston,Victoria\n'
        'Zürich,"Łódź ""Fabryczna""",Ü\n'
    )
    kg = ingest(write(tmp_path, "g.csv", text))
    assert ("King's Cross, St. Pancras", "Victoria", "Euston") in kg
    assert ("Zürich", "Ü", 'Łódź "Fabryczna"') in kg
    assert kg.find_node("zürich").id == "Zürich"


def test_from_to_line_with_extra_columns_as_edge_attributes(tmp_path: Path) -> None:
    text = "line,branch,from,to,label,note\nVictoria,main,A,B,Victoria northbound,\n"
    kg = ingest(write(tmp_path, "g.csv", text))
    triple = ("A", "Victoria northbound", "B")  # 'label' is preferred over 'line'
    assert kg.triples == [triple]
    assert kg.edge_attributes(triple) == {"line": "Victoria", "branch": "main"}
    nxg = kg.to_networkx()
    assert nxg.edges["A", "B", "Victoria northbound"]["line"] == "Victoria"


def test_explicit_columns(tmp_path: Path) -> None:
    text = "x,kind,y,weight\na,r,b,1\n"
    kg = ingest(write(tmp_path, "g.csv", text), source="x", relation="kind", target="y")
    assert kg.triples == [("a", "r", "b")]
    assert kg.edge_attributes(("a", "r", "b")) == {"weight": "1"}


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, "g.csv", "x,kind,y\na,r,b\n")
    with pytest.raises(UserError, match=r"missing column 'src'.*x, kind, y"):
        ingest(path, source="src", relation="kind", target="y")
    path = write(tmp_path, "h.csv", "from,to\na,b\n")
    with pytest.raises(UserError, match=r"missing relation column.*default-relation option"):
        ingest(path)
    kg = ingest(path, default_relation="next")
    assert kg.triples == [("a", "next", "b")]


def test_headerless_pykeen_train_txt(tmp_path: Path) -> None:
    path = write(tmp_path, "train.txt", "a\tr1\tb\nb\tr2\tc\n")
    kg = ingest(path)
    assert kg.meta["format"] == "tsv"
    assert kg.triples == [("a", "r1", "b"), ("b", "r2", "c")]


def test_headerless_needs_three_columns(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"exactly 3"):
        ingest(write(tmp_path, "g.csv", "a,b\nc,d\n"))


def test_undirected_adds_reverse_edges(tmp_path: Path) -> None:
    kg = ingest(write(tmp_path, "g.csv", "source,relation,target\na,r,b\nb,r,a\nb,r,c\n"),
                undirected=True)
    assert sorted(kg.triples) == [("a", "r", "b"), ("b", "r", "a"), ("b", "r", "c"),
                                  ("c", "r", "b")]
    assert kg.meta["report"]["reverse triples added (--undirected)"] == 1


def test_duplicates_removed_and_counted(tmp_path: Path) -> None:
    text = "source,relation,target\na,r,b\na,r,b\n a , r ,b\nb,r,a\n"
    kg = ingest(write(tmp_path, "g.csv", text))
    assert len(kg) == 2
    assert kg.meta["report"]["duplicate triples removed"] == 2


@pytest.mark.parametrize(
    "text,line,problem",
    [
        ("source,relation,target\na,r,b\nb,r\n", 3, "expected 3 columns, found 2"),
        ("source,relation,target\na,r,b\n\nb,r,c,d\n", 4, "expected 3 columns, found 4"),
        ("source,relation,target\na,r,b\nb,,c\n", 3, "empty 'relation' cell"),
        ('source,relation,target\n"a\nstill a",r,b\n,r,c\n', 4, "empty 'source' cell"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path: Path, text: str, line: int, problem: str) -> None:
    path = write(tmp_path, "g.csv", text)
    with pytest.raises(UserError) as err:
        ingest(path)
    assert f"{path}:{line}: {problem}" in str(err.value)
    assert "skip-bad-rows option" in str(err.value)


def test_skip_bad_rows_counts_them(tmp_path: Path) -> None:
    text = "source,relation,target\na,r,b\nb,r\n,r,c\nc,r,d\n"
    kg = ingest(write(tmp_path, "g.csv", text), skip_bad_rows=True)
    assert kg.triples == [("a", "r", "b"), ("c", "r", "d")]
    assert kg.meta["report"]["bad rows skipped (--skip-bad-rows)"] == 2


@pytest.mark.parametrize(
    "text,pattern",
    [
        ("source,relation,target\n", "only a header"),
        ("source,relation,target\n,,\n", "only a header"),  # a row of delimiters is blank
        ('source,relation,target\n"a,r,b\n', "(quoting|expected 3 columns)"),
    ],
)
def test_bad_tables(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(UserError, match=pattern):
        ingest(write(tmp_path, "g.csv", text))


def test_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "g.csv", "source,relation,target\nZürich,r,b\n", encoding="latin-1")
    with pytest.raises(UserError, match=r"g.csv:2: not UTF-8"):
        ingest(path)


def test_meta_records_source_and_hash(tmp_path: Path) -> None:
    import hashlib

    path = write(tmp_path, "g.csv", "source,relation,target\na,r,b\n")
    kg = ingest(path, name="mine")
    assert kg.name == "mine"
    assert kg.meta["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert kg.meta["source"] == str(path.resolve())
