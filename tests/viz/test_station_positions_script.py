"""scripts/london_station_positions.py on a small stand-in for TfL's feed: names map
to TfL's spelling, hubs and the two Hammersmiths split, bus stops left out."""

import csv
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HAMMERSMITH = {"Hammersmith (District and Piccadilly)": "1000096",
               "Hammersmith (Hammersmith & City and Circle)": "1000097"}
EDGWARE = {"Edgware Road (Bakerloo)": "940GZZLUERB", "Edgware Road (Circle Line)": "940GZZLUERC"}


def load_script():
    spec = importlib.util.spec_from_file_location(
        "london_station_positions", ROOT / "scripts" / "london_station_positions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_positions_are_rebuilt_from_a_feed(tmp_path):
    script = load_script()
    with open(ROOT / "datasets" / "london_underground" / "positions.csv", encoding="utf-8") as f:
        shipped = list(csv.DictReader(f))
    stations = [["UniqueId", "Name"]]
    points = [["UniqueId", "StationUniqueId", "AreaName", "Lat", "Lon"]]
    for i, row in enumerate(shipped):
        name, lat, lon = row["station"], float(row["lat"]), float(row["lon"])
        if name in HAMMERSMITH:
            uid, sub = "HUBHMS", HAMMERSMITH[name]
        else:
            uid, sub = EDGWARE.get(name, f"940GZZLU{i:03d}"), "1000001"
            stations.append([uid, script.tfl_name(name)])
        for area, dlat in (("Entr", -0.0001), ("BookH", 0.0), ("DisEB", 0.0001)):
            points.append([f"{uid}-{sub}-{area}-1", uid, area, f"{lat + dlat:.6f}", f"{lon:.6f}"])
        points.append([f"{uid}-{sub}-Bus-9", uid, "Bus", "52.0", "1.0"])  # left out
    stations.append(["HUBHMS", "Hammersmith"])
    stations.append(["910GBTHNLGR", "Bethnal Green"])  # the Overground station of that name
    names = {"Edgware Road (Bakerloo)", "Edgware Road (Circle Line)"}
    stations = [r for r in stations if r[1] not in names]
    stations += [[uid, "Edgware Road"] for uid in EDGWARE.values()]
    for name, rows in (("Stations.csv", stations), ("StationPoints.csv", points)):
        with open(tmp_path / name, "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)
    out = tmp_path / "positions.csv"
    script.main(tmp_path, out)
    with open(out, encoding="utf-8") as f:
        rebuilt = list(csv.DictReader(f))
    assert rebuilt == shipped
    assert script.tfl_name("St. Paul's") == "St Paul's"
