"""GeoParquet out: each file read back by geopandas as a layer in OGC:CRS84, its rows equal to the store's
reports, incidents, control cells and hazard grid, and saying what it is and for when."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from greyzone.application.control import fused_control
from greyzone.cli import app as cli
from greyzone.store.base import ReportQuery
from greyzone.store.sqlite import SqliteStore
from scenarios import demo_city

AT = datetime(2024, 11, 3, 21, 0, tzinfo=UTC)
runner = CliRunner()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, object]]:
    folder = tmp_path_factory.mktemp("parquet")
    db = demo_city(folder, days=3)
    fit = runner.invoke(cli, ["hazard", "fit", "--kind", "shelling", "--res", "8", "--db", str(db)])
    assert fit.exit_code == 0, fit.output
    got = runner.invoke(cli, ["export", "--parquet", str(folder / "out"), "--at", AT.isoformat(), "--db", str(db),
                              "--json"])  # fmt: skip
    assert got.exit_code == 0, got.output
    return db, folder / "out", json.loads(got.stdout)


def test_each_layer_reads_back_as_geometries_equal_to_the_store(exported: tuple[Path, Path, dict[str, object]]) -> None:
    import geopandas
    import pyarrow.parquet as pq

    db, out, said = exported
    assert said["skipped"] == []
    with SqliteStore.open(db) as store:
        frame = store.read_frame(ReportQuery(until=AT))
        fusion = fused_control(store, AT, 8)
    reports = geopandas.read_parquet(out / "reports.parquet")
    assert reports.crs is not None and reports.crs.to_epsg() in (4326, None) and "CRS84" in reports.crs.to_string()
    assert len(reports) == len(frame) > 100
    assert np.array_equal(reports["seq"].to_numpy(), frame.seq)
    assert np.allclose(reports.geometry.x, frame.lon) and np.allclose(reports.geometry.y, frame.lat)
    assert list(reports["kind"]) == frame.kind
    incidents = geopandas.read_parquet(out / "incidents.parquet")
    assert len(incidents) == len(np.unique(frame.incident)) and incidents["reports"].sum() == len(frame)
    cells = geopandas.read_parquet(out / "control_cells.parquet")
    assert len(cells) == len(fusion.grid) and set(cells.geometry.geom_type) == {"Polygon"}
    assert set(cells["state"]) <= {"held", "other_side", "contested", "unconfirmed"}
    hazard = geopandas.read_parquet(out / "hazard.parquet")
    assert len(hazard) > 50 and (hazard["status"] == "ok").all() and (hazard["peak_events_per_km2_h"] >= 0).all()
    for name in ("reports", "incidents", "control_cells", "hazard"):
        meta = pq.read_schema(out / f"{name}.parquet").metadata
        geo, about = json.loads(meta[b"geo"]), json.loads(meta[b"greyzone"])
        assert geo["version"] == "1.0.0" and geo["columns"]["geometry"]["encoding"] == "WKB"
        assert about["as_of"] == AT.isoformat()
