"""``greyzone gis publish`` (the products into PostGIS layers a GIS opens) and ``greyzone gis layers``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from greyzone.application.gis import publish
from greyzone.cli.common import DbOption, JsonOption, UrlOption, app, out, parse_time, refusing, store_of
from greyzone.store.base import GIS_LAYERS

gis_app = typer.Typer(no_args_is_help=True, help="Layers a GIS (QGIS, GDAL) opens directly: PostGIS.")
app.add_typer(gis_app, name="gis")
VIEWS = ("gis_reports", "gis_report_areas", "gis_districts", "gis_service_points")


@gis_app.command("publish")
def gis_publish(
    at: Annotated[str | None, typer.Option(help="The moment (ISO 8601 with its offset; default now).")] = None,
    res: Annotated[int, typer.Option(min=5, max=9, help="H3 resolution of the control map and the ways out.")] = 8,
    hours: Annotated[int, typer.Option(min=1, max=48, help="Hours of hazard forecast.")] = 6,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Publish the control map (by state and by cell), the hazard forecast and the ways out at a moment into
    the PostgreSQL store's PostGIS layers, each replaced whole in one transaction."""
    when = parse_time(at, "--at") or datetime.now(UTC)
    with store_of(db, database_url) as store, refusing():
        counts, empty = publish(store, when, res, hours)
    if as_json:
        out(json.dumps({"at": when.isoformat(), "layers": counts, "empty": empty}))
        return
    for table, n in counts.items():
        out(f"{table}: {n:,} features")
    for why in empty:
        out(f"empty — {why}")
    out(f"published for {when.isoformat()}; the views {', '.join(VIEWS)} need no publishing")


@gis_app.command("layers")
def gis_layers() -> None:
    """The layers a GIS finds in the PostgreSQL store (SRID 4326)."""
    for name in (*VIEWS, *GIS_LAYERS):
        out(name)


@app.command("export")
def export(
    parquet: Annotated[Path, typer.Option("--parquet", help="The folder the GeoParquet files are written to.")],
    at: Annotated[str | None, typer.Option(help="As of this moment (ISO 8601 with its offset; default now).")] = None,
    res: Annotated[int, typer.Option(min=5, max=9, help="H3 resolution of the control cells.")] = 8,
    hours: Annotated[int, typer.Option(min=1, max=48, help="Hours of hazard forecast.")] = 6,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reports, incidents, control cells and the hazard grid as GeoParquet (for notebooks: geopandas, DuckDB)."""
    from greyzone.application.parquet import export_parquet

    when = parse_time(at, "--at") or datetime.now(UTC)
    with store_of(db, database_url) as store, refusing():
        written, skipped = export_parquet(store, parquet, when, res, hours)
    if as_json:
        out(json.dumps({"at": when.isoformat(), "files": written, "skipped": skipped}))
        return
    for name, n in written.items():
        out(f"{parquet / name}: {n:,} rows")
    for why in skipped:
        out(f"not written — {why}")
