"""PostGIS in the PostgreSQL store (really started, with Debian's PostGIS): each report's point and area
as geometries equal to what the store holds, and the layers GDAL's ogrinfo (what QGIS reads with) lists,
their feature counts equal to the API's answers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import shapely
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from greyzone.cli import app as cli
from greyzone.service.app import Limits, create_app
from greyzone.settings import Settings

AT = "2024-11-07T21:00:00+00:00"  # the last evening of the week the fixture holds
runner = CliRunner()


def run(*args: str) -> str:
    got = runner.invoke(cli, list(args))
    assert got.exit_code == 0, got.output
    return got.stdout


def ogr(url: str) -> str:
    """The GDAL connection string of a database URL."""
    parts = urlsplit(url)
    return f"PG:host={parts.hostname} port={parts.port} user={parts.username} dbname={parts.path.lstrip('/')}"


def ogrinfo(*args: str) -> str:
    if shutil.which("ogrinfo") is None:
        if os.environ.get("CI"):
            pytest.fail("GDAL's ogrinfo is not installed: `make test` installs it (Debian package gdal-bin)")
        pytest.skip("GDAL's ogrinfo is not installed (`make test` installs the Debian package gdal-bin)")
    done = subprocess.run(["ogrinfo", "-ro", *args], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def front(postgres: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A week of the demo city in a PostgreSQL database: its reports, streets and gates, a fitted hazard,
    its districts and service points, and the products published for AT."""
    folder = tmp_path_factory.mktemp("postgis")
    with psycopg.connect(f"{postgres}/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE gis")
    url = f"{postgres}/gis"
    run("demo", "--db", str(folder / "d.db"), "--dir", str(folder / "s"), "--days", "7", "--json")
    s = folder / "s"
    for name in ("reports.csv", "field-reports.jsonl", "control-areas.geojson"):
        run("ingest", str(s / name), "--database-url", url)
    run("city", "import", str(s / "streets.geojson"), "--name", "demo", "--gates", str(s / "gates.geojson"),
        "--timezone", "Europe/Kyiv", "--curfew", "11:00-15:00", "--database-url", url)  # fmt: skip
    run("hazard", "fit", "--kind", "shelling", "--res", "8", "--database-url", url)
    run("demo-coordination", "--dir", str(s), "--database-url", url)
    said = json.loads(run("gis", "publish", "--at", AT, "--database-url", url, "--json"))
    assert said["empty"] == [] and all(n > 0 for n in said["layers"].values()), said
    return url


def test_each_reports_point_and_area_are_postgis_geometries_equal_to_the_stored_ones(front: str) -> None:
    with psycopg.connect(front) as conn:
        points = conn.execute("SELECT lon, lat, ST_X(point), ST_Y(point), ST_SRID(point) FROM reports").fetchall()
        areas = conn.execute(
            "SELECT area_wkb, ST_AsGeoJSON(area), ST_SRID(area) FROM reports WHERE area_wkb IS NOT NULL"
        ).fetchall()
        districts = conn.execute(
            "SELECT d.geometry, ST_AsGeoJSON(g.geom) FROM districts d JOIN gis_districts g USING (city, name)"
        ).fetchall()
        indexed = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'reports'")}
    assert len(points) > 500 and all(x == px and y == py and srid == 4326 for x, y, px, py, srid in points)
    assert len(areas) > 10 and all(srid == 4326 for _, _, srid in areas)
    for wkb, geojson, _ in areas:  # the area as PostGIS gives it back is the one stored
        assert shapely.equals_exact(shapely.from_wkb(bytes(wkb)), shapely.from_geojson(geojson), tolerance=1e-12)
    assert len(districts) == 7
    for stored, geojson in districts:
        assert shapely.equals_exact(shapely.from_geojson(stored), shapely.from_geojson(geojson), tolerance=1e-12)
    assert {"reports_by_point", "reports_by_area"} <= indexed  # GiST


def test_gdal_lists_the_layers_and_their_counts_equal_the_apis(front: str) -> None:
    listed = ogrinfo(ogr(front))
    names = {line.split(":", 1)[1].split("(")[0].strip() for line in listed.splitlines() if line[:1].isdigit()}
    expected = {"gis_reports", "gis_report_areas", "gis_districts", "gis_service_points", "gis_control",
                "gis_control_cells", "gis_hazard", "gis_corridors"}  # fmt: skip
    assert expected <= names, listed

    def count(layer: str) -> int:
        summary = ogrinfo("-so", ogr(front), layer)
        line = next(x for x in summary.splitlines() if x.startswith("Feature Count:"))
        assert "EPSG" in summary and "4326" in summary, summary  # WGS 84, as QGIS needs to place it
        return int(line.split(":")[1])

    token = json.loads(run("user", "add", "ana", "--role", "analyst", "--database-url", front, "--json"))["token"]
    auth = {"Authorization": f"Bearer {token}"}
    at = AT.replace("+", "%2B")
    with TestClient(create_app(Settings(database_url=front), Limits(per_minute=10**6, per_address=10**6))) as api:

        def features(path: str) -> list[Any]:
            answer = api.get(path, headers=auth)
            assert answer.status_code == 200, answer.text
            return list(answer.json()["features"])

        answers = {
            "gis_control": features(f"/api/layers/control?at={at}&res=8"),
            "gis_hazard": features(f"/api/layers/hazard?start={at}&hours=6"),
            "gis_corridors": features(f"/api/layers/corridors?city=demo&at={at}&res=8"),
            "gis_districts": features("/api/districts?city=demo"),
        }
        points = api.get("/api/services?city=demo", headers=auth).json()["points"]
    for layer, found in answers.items():
        assert count(layer) == len(found) > 0, layer
    assert count("gis_service_points") == len(points) == 10
    with psycopg.connect(front) as conn:
        stored = conn.execute("SELECT count(*) FROM reports").fetchone()
        cells = conn.execute("SELECT count(*), count(DISTINCT state) FROM gis_control_cells").fetchone()
    assert stored is not None and count("gis_reports") == stored[0]
    assert cells is not None and count("gis_control_cells") == cells[0] > 100 and cells[1] >= 3


def test_the_control_cells_tile_the_dissolved_map(front: str) -> None:
    with psycopg.connect(front) as conn:
        rows = conn.execute(
            "SELECT c.state, abs(ST_Area(ST_Union(k.geom)::geography) / 1e6 - c.area_km2) / c.area_km2"
            " FROM gis_control c JOIN gis_control_cells k USING (state) GROUP BY c.state, c.area_km2"
        ).fetchall()
    assert len(rows) >= 3 and all(gap < 0.01 for _, gap in rows), rows  # the same ground, by cell or dissolved


def test_publishing_needs_the_server_store(tmp_path: Path) -> None:
    run("init", "--db", str(tmp_path / "x.db"))
    got = runner.invoke(cli, ["gis", "publish", "--db", str(tmp_path / "x.db")])
    assert got.exit_code == 2 and "PostgreSQL store" in got.output


def test_the_store_reads_reports_by_several_cells_and_by_having_an_area(front: str) -> None:
    import h3

    from greyzone.model.enums import Kind
    from greyzone.store.base import ReportQuery
    from greyzone.store.postgres import PostgresStore

    control = frozenset({Kind.CONTROL_OBSERVATION})
    with PostgresStore.open(front) as store:
        every = list(store.read_reports(ReportQuery(kinds=control)))
        areas = list(store.read_reports(ReportQuery(kinds=control, areas=True)))
        points = list(store.read_reports(ReportQuery(kinds=control, areas=False)))
        assert areas and points and len(areas) + len(points) == len(every)
        assert all(r.area_wkb is not None for r in areas) and all(r.area_wkb is None for r in points)

        def r5_of(r: Any) -> int:  # the res-5 parent of the report's block (res-9) cell, as the store keeps it
            return int(h3.api.basic_int.cell_to_parent(h3.api.basic_int.latlng_to_cell(r.lat, r.lon, 9), 5))

        r5 = sorted({r5_of(r) for r in points})
        chosen = tuple(r5[: max(1, len(r5) // 2)])
        inside = list(store.read_reports(ReportQuery(kinds=control, areas=False, cells=chosen)))
    expected = [r for r in points if r5_of(r) in chosen]
    assert [r.id for r in inside] == [r.id for r in expected]  # the same reports, in the same (time) order


def test_the_front_map_read_by_each_task_from_postgresql_equals_one_read(postgres: str) -> None:
    """Each Dask task reads its part and the ring around it from PostgreSQL (by their H3 cells); the map
    equals the one whose observations were read once and sent, and one process's over the whole front."""
    import numpy as np

    from greyzone.application.front import front_control, generate_front, single_control
    from greyzone.store.postgres import PostgresStore

    with psycopg.connect(f"{postgres}/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE front")
    when = datetime(2024, 11, 28, tzinfo=UTC)
    with PostgresStore.open(f"{postgres}/front") as store:
        assert generate_front(store, 30_000, days=10) == 30_000
        read_here = front_control(store, when, 7, workers=2, in_tasks=False)
        read_there = front_control(store, when, 7, workers=2)
        one = single_control(store, when, 7, read_there.cells)
    assert read_there.parts == read_here.parts > 30
    assert np.array_equal(read_there.cells, read_here.cells) and np.array_equal(read_there.states, read_here.states)
    where = np.searchsorted(read_there.cells, one.cells)
    assert len(one.cells) > 0.8 * len(read_there.cells) and np.array_equal(read_there.states[where], one.states)
