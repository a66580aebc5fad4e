"""The greyzone command line: thin; every command ends with a one-line summary (or JSON)."""

from __future__ import annotations

import json
import math
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import h3
import numpy as np
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from greyzone.errors import GreyzoneError
from greyzone.export import write_csv, write_geojson, write_jsonl
from greyzone.ingest.build import BuildContext
from greyzone.ingest.formats import Format
from greyzone.ingest.gazetteer import Gazetteer
from greyzone.ingest.records import Reject, write_rejects
from greyzone.ingest.runner import DEFAULT_BATCH_SIZE, ingest_files
from greyzone.model.enums import INCIDENT_KINDS, Kind
from greyzone.settings import Settings, reporter_key
from greyzone.store.base import ReportQuery, StoreStats
from greyzone.store.sqlite import SqliteStore

app = typer.Typer(add_completion=False, no_args_is_help=True, help="greyzone: reports in, stored safely, out again.")
err = Console(stderr=True)
DbOption = Annotated[
    Path | None, typer.Option("--db", help="The store (SQLite file). Default ./greyzone.db or $GREYZONE_DB.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary instead.")]


def _settings(db: Path | None, gazetteer: Path | None = None) -> Settings:
    return Settings.from_env(db_path=db, gazetteer_dir=gazetteer)


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


@app.command()
def init(db: DbOption = None) -> None:
    """Create (or migrate) the store and its reporter key."""
    settings = _settings(db)
    with SqliteStore.open(settings.db_path) as store:
        version = store.schema_version()
    reporter_key(settings)
    _out(f"store ready: {settings.db_path} (schema version {version}); reporter key: {settings.key_path}")


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Files to ingest.", exists=True, dir_okay=False)],
    db: DbOption = None,
    fmt: Annotated[Format, typer.Option("--format", help="The files' format; auto recognises it.")] = Format.AUTO,
    rejects: Annotated[Path | None, typer.Option("--rejects", help="Write every rejected row here (CSV).")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Source for rows that name none.")] = None,
    gazetteer: Annotated[
        Path | None, typer.Option("--gazetteer", help="Folder of gazetteer files for place names.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Reports per transaction.")] = DEFAULT_BATCH_SIZE,
    as_json: JsonOption = False,
) -> None:
    """Ingest report files; each batch lands whole or not at all, rejects are reported with reasons."""
    settings = _settings(db, gazetteer)
    ctx = BuildContext(
        gazetteer=Gazetteer.from_dir(settings.gazetteer_dir) if settings.gazetteer_dir else None,
        reporter_key=reporter_key(settings),
        now_s=datetime.now(UTC).timestamp(),
        default_source=source,
    )
    kept: list[Reject] = []
    with SqliteStore.open(settings.db_path) as store, _progress(as_json) as progress:
        task = progress.add_task("ingest", total=sum(f.stat().st_size for f in files))
        done_before: dict[Path, int] = {}

        def on_batch(path: Path, result: Any, position: int) -> None:
            progress.update(task, advance=position - done_before.get(path, 0), description=path.name)
            done_before[path] = position

        summary = ingest_files(
            files, store, fmt=fmt, ctx=ctx, batch_size=batch_size, on_rejects=kept.extend, on_batch=on_batch
        )
    if rejects is not None:
        _write_rejects(kept, rejects)
    if as_json:
        _out(json.dumps(summary.as_dict()))
        return
    for r in kept[:10]:
        err.print(f"[yellow]rejected[/] {r}", highlight=False, soft_wrap=True)
    if len(kept) > 10:
        err.print(
            f"… and {len(kept) - 10} more rejects" + (f" (all in {rejects})" if rejects else " (use --rejects PATH)")
        )
    s = summary
    _out(
        f"ingested {len(files)} file(s): {s.accepted} accepted, {s.duplicates} duplicates, {s.rejected} rejected,"
        f" {s.incidents} incidents"
    )


def _progress(quiet: bool) -> Progress:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=err, disable=quiet or not err.is_terminal, transient=True)


def _write_rejects(rejects: list[Reject], path: Path) -> None:
    write_rejects(rejects, path)


def _parse_time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected an ISO 8601 time or date such as 2024-11-03; got {value!r}", param_hint=name
        ) from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def _parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in value.split(","))
    except ValueError:
        raise typer.BadParameter(
            f"expected LON_MIN,LAT_MIN,LON_MAX,LAT_MAX; got {value!r}", param_hint="--bbox"
        ) from None
    if not (x0 < x1 and y0 < y1):
        raise typer.BadParameter("expected LON_MIN < LON_MAX and LAT_MIN < LAT_MAX", param_hint="--bbox")
    return x0, y0, x1, y1


@app.command()
def reports(
    db: DbOption = None,
    since: Annotated[str | None, typer.Option(help="From this time (ISO 8601; a date means 00:00 UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (exclusive).")] = None,
    kind: Annotated[list[Kind] | None, typer.Option(help="Only these kinds (repeat for several).")] = None,
    bbox: Annotated[str | None, typer.Option(help="LON_MIN,LAT_MIN,LON_MAX,LAT_MAX")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv, geojson or jsonl")] = "csv",
    limit: Annotated[int | None, typer.Option(min=1)] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of standard output.")
    ] = None,
) -> None:
    """Export stored reports (ordered by time)."""
    if fmt not in ("csv", "geojson", "jsonl"):
        raise typer.BadParameter(f"expected csv, geojson or jsonl; got {fmt!r}", param_hint="--format")
    query = ReportQuery(
        since=_parse_time(since, "--since"),
        until=_parse_time(until, "--until"),
        kinds=frozenset(kind or ()),
        bbox=_parse_bbox(bbox),
        limit=limit,
    )
    settings = _settings(db)
    with SqliteStore.open(settings.db_path, create=False) as store:
        stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            n = {"csv": write_csv, "geojson": write_geojson, "jsonl": write_jsonl}[fmt](
                store.read_reports(query), stream
            )
        finally:
            if output:
                stream.close()
    err.print(f"exported {n} reports as {fmt}" + (f" to {output}" if output else ""))


@app.command()
def stats(db: DbOption = None, as_json: JsonOption = False) -> None:
    """What the store holds: reports and incidents by kind, sources, time span."""
    settings = _settings(db)
    with SqliteStore.open(settings.db_path, create=False) as store:
        s = store.stats()
    if as_json:
        _out(json.dumps(stats_to_dict(s)))
        return
    _print_stats(s)
    _out(f"{s.reports} reports, {s.incidents} incidents, {s.batches} batches, {s.rejects} rejects ({_span(s)})")


def stats_to_dict(s: StoreStats) -> dict[str, Any]:
    return {
        "reports": s.reports,
        "incidents": s.incidents,
        "batches": s.batches,
        "rejects": s.rejects,
        "first_observed": s.first_observed.isoformat() if s.first_observed else None,
        "last_observed": s.last_observed.isoformat() if s.last_observed else None,
        "by_kind": {k: {"reports": n, "incidents": m} for k, (n, m) in s.by_kind.items()},
        "by_source": s.by_source,
    }


def _span(s: StoreStats) -> str:
    if s.first_observed is None or s.last_observed is None:
        return "empty"
    return f"{s.first_observed:%Y-%m-%d %H:%M} to {s.last_observed:%Y-%m-%d %H:%M} UTC"


def _print_stats(s: StoreStats) -> None:
    console = Console()
    table = Table(title="reports by kind", title_justify="left")
    table.add_column("kind")
    table.add_column("reports", justify="right")
    table.add_column("incidents", justify="right")
    for k, (n, m) in s.by_kind.items():
        table.add_row(k, str(n), str(m))
    console.print(table)
    sources = Table(title="reports by source", title_justify="left")
    sources.add_column("source")
    sources.add_column("reports", justify="right")
    for name, n in list(s.by_source.items())[:15]:
        sources.add_row(name, str(n))
    console.print(sources)


@app.command()
def demo(
    db: Annotated[Path, typer.Option("--db", help="The demo store (created anew).")] = Path("greyzone-demo.db"),
    folder: Annotated[Path, typer.Option("--dir", help="Where the scenario's files are written.")] = Path(
        "demo-scenario"
    ),
    seed: Annotated[int, typer.Option(help="Same seed, same scenario.")] = 7,
    days: Annotated[int, typer.Option(min=1, max=365)] = 28,
    as_json: JsonOption = False,
) -> None:
    """Generate the SYNTHETIC demo scenario (a Pokrovsk-like city), ingest it, show what is stored."""
    from greyzone.demo.overview import overview_svg
    from greyzone.demo.scenario import write_scenario

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    files = write_scenario(folder, seed=seed, days=days)
    settings = _settings(db)
    ctx = BuildContext(reporter_key=reporter_key(settings))
    kept: list[Reject] = []
    with SqliteStore.open(db) as store:
        summary = ingest_files(files.report_files(), store, ctx=ctx, on_rejects=kept.extend)
        s = store.stats()
        title = f"SYNTHETIC DEMO: a Pokrovsk-like city, {days} days, {s.reports} reports ({s.incidents} incidents)"
        picture = folder / "overview.svg"
        picture.write_text(overview_svg(files.streets, store.read_reports(ReportQuery()), title), encoding="utf-8")
    _write_rejects(kept, folder / "rejects.csv")
    if as_json:
        _out(
            json.dumps({"ingest": summary.as_dict(), "store": stats_to_dict(s), "map": str(picture), "synthetic": True})
        )
        return
    err.print(
        "[bold red]SYNTHETIC DEMO DATA[/] — generated, not real reports. Streets and gates for routing: "
        f"{files.streets}, {files.gates}"
    )
    for r in kept:
        err.print(f"[yellow]rejected on purpose[/] {r}", highlight=False, soft_wrap=True)
    _print_stats(s)
    _out(
        f"demo: {summary.accepted} reports accepted ({summary.incidents} incidents), {summary.rejected} rejects"
        f" (see {folder / 'rejects.csv'}), store {db}, map {picture}"
    )


control_app = typer.Typer(no_args_is_help=True, help="Who holds what: control observations fused per H3 cell.")
app.add_typer(control_app, name="control")


def _control_observations(db: Path | None, at: str | None) -> tuple[list[Any], datetime]:
    """The stored control observations up to ``at`` (default now), in time order."""
    from greyzone.products import control_observations

    when = _parse_time(at, "--at") or datetime.now(UTC)
    with SqliteStore.open(_settings(db).db_path, create=False) as store:
        observations = control_observations(store, when)
    if not observations:
        raise typer.BadParameter("no control observations stored before that time", param_hint="--at")
    return observations, when


def _control_grid(observations: list[Any], res: int) -> Any:
    from greyzone.products import control_grid

    return control_grid(observations, res)


def _fused_control(db: Path | None, at: str | None, res: int) -> tuple[Any, Any, datetime]:
    from greyzone.control.fusion import ControlFusion

    observations, when = _control_observations(db, at)
    fusion = ControlFusion(_control_grid(observations, res))
    fusion.fold_all(observations)
    return fusion, fusion.states(when.timestamp()), when


@control_app.command("map")
def control_map(
    db: DbOption = None,
    at: Annotated[str | None, typer.Option(help="The map as of this time (default now).")] = None,
    res: Annotated[int, typer.Option(min=5, max=10, help="H3 resolution of the cells.")] = 8,
    geojson: Annotated[Path | None, typer.Option(help="Write the state polygons here.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The fused control map: area per state (held, other side, contested, unconfirmed) and its "as of"."""
    import shapely

    from greyzone.control.products import state_areas

    fusion, states, when = _fused_control(db, at, res)
    areas = state_areas(fusion, states)
    rows = [
        {
            "state": a.state.value,
            "area_km2": round(a.area_km2, 2),
            "as_of": datetime.fromtimestamp(a.as_of_s, UTC).isoformat() if a.as_of_s > -1e300 else None,
        }
        for a in areas
    ]
    if geojson is not None:
        features = [
            {"type": "Feature", "geometry": json.loads(shapely.to_geojson(a.geometry)), "properties": row}
            for a, row in zip(areas, rows, strict=True)
        ]
        geojson.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    if as_json:
        _out(json.dumps({"at": when.isoformat(), "states": rows}))
        return
    for row in rows:
        _out(f"{row['state']:<12} {row['area_km2']:>10.2f} km²  as of {row['as_of'] or 'never'}")
    _out(f"control map at {when:%Y-%m-%d %H:%M} UTC: {len(fusion.grid)} cells at H3 res {res}")


@control_app.command("share")
def control_share(
    place: Annotated[str, typer.Option(help="A place name the gazetteer knows (its area: a disc of its precision).")],
    gazetteer: Annotated[Path, typer.Option(help="Folder of gazetteer files.")],
    db: DbOption = None,
    at: Annotated[str | None, typer.Option(help="As of this time (default now).")] = None,
    res: Annotated[int, typer.Option(min=5, max=10)] = 8,
    as_json: JsonOption = False,
) -> None:
    """What share of a place is held, other side, contested or unconfirmed."""
    from shapely.geometry import Point

    from greyzone.control.products import place_shares

    lon, lat, radius_m = Gazetteer.from_dir(gazetteer).resolve(place)
    disc = Point(lon, lat).buffer(radius_m / 111_320.0)
    fusion, states, when = _fused_control(db, at, res)
    shares = place_shares(fusion, states, disc)
    if as_json:
        _out(json.dumps({"place": place, "at": when.isoformat(), "shares": shares}))
        return
    _out(f"{place} at {when:%Y-%m-%d %H:%M} UTC: " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()))


@control_app.command("history")
def control_history(
    db: DbOption = None,
    cell: Annotated[str | None, typer.Option(help="An H3 cell id (hex) at the map's resolution.")] = None,
    place: Annotated[str | None, typer.Option(help="A place name (needs --gazetteer).")] = None,
    gazetteer: Annotated[Path | None, typer.Option(help="Folder of gazetteer files.")] = None,
    res: Annotated[int, typer.Option(min=5, max=10)] = 8,
    as_json: JsonOption = False,
) -> None:
    """How a cell's state, or a place's shares, changed day by day, and on what evidence."""
    import h3
    from shapely.geometry import Point

    from greyzone.control.fusion import DAY_S, ControlHistory
    from greyzone.control.products import CODE_STATES, place_shares

    if (cell is None) == (place is None):
        raise typer.BadParameter("give exactly one of --cell or --place", param_hint="--cell/--place")
    observations, _ = _control_observations(db, None)
    grid = _control_grid(observations, res)
    history = ControlHistory(grid, observations)
    first, last = history.observations[0].t_s, history.observations[-1].t_s
    days = [first - first % DAY_S + DAY_S * (i + 1) for i in range(int((last - first) // DAY_S) + 1)]
    rows: list[dict[str, Any]] = []
    if cell is not None:
        if not h3.is_valid_cell(cell) or h3.str_to_int(cell) not in grid.index:
            raise typer.BadParameter(f"not a cell of the map at res {res}: {cell!r}", param_hint="--cell")
        i = grid.index[h3.str_to_int(cell)]
        previous = None
        for t in days:
            state_now = history.at(t)
            state = CODE_STATES[int(state_now.states(t)[i])].value
            if state != previous:
                as_of = state_now.as_of[i]
                rows.append({"day": _day(t), "state": state, "evidence_as_of": _day(as_of) if as_of > -1e300 else None})
                previous = state
    else:
        if gazetteer is None:
            raise typer.BadParameter("--place needs --gazetteer", param_hint="--gazetteer")
        lon, lat, radius_m = Gazetteer.from_dir(gazetteer).resolve(place or "")
        disc = Point(lon, lat).buffer(radius_m / 111_320.0)
        for t in days:
            state_now = history.at(t)
            shares = place_shares(state_now, state_now.states(t), disc)
            rows.append({"day": _day(t), **{k: round(v, 3) for k, v in shares.items()}})
    if as_json:
        _out(json.dumps(rows))
        return
    for row in rows:
        _out("  ".join(f"{k} {v}" for k, v in row.items()))
    _out(f"{len(rows)} rows over {len(days)} days")


def _day(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, UTC).strftime("%Y-%m-%d")


@control_app.command("evaluate")
def control_evaluate(
    truth: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="DeepStateMap-style status snapshots.")],
    obs_per_day: Annotated[int, typer.Option(min=1)] = 200,
    noise: Annotated[float, typer.Option(min=0.0, max=0.5, help="Share of wrong-side reports.")] = 0.1,
    res: Annotated[int, typer.Option(min=5, max=9)] = 7,
    seed: int = 0,
    plot: Annotated[Path | None, typer.Option(help="Write the daily scores as an SVG chart here.")] = None,
    bbox: Annotated[str | None, typer.Option(help="The region scored (default: the snapshots' bounds).")] = None,
    sweep: Annotated[bool, typer.Option(help="Also score 50/100/200/500 observers x 0/10/20 % noise.")] = False,
    roads: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Road lines (GeoJSON) some observers stand on.")
    ] = None,
    road_share: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of observers on --roads.")] = 0.5,
    as_json: JsonOption = False,
) -> None:
    """Score the fused map against real snapshots with simulated observers, beside the naive map."""
    from shapely.geometry import box

    from greyzone.control.evaluate import evaluate, fill_days, road_cells, scores_svg, truth_states
    from greyzone.ingest.deepstate import status_by_day
    from greyzone.ingest.geojson import read_lines
    from greyzone.model.grid import Grid

    days = status_by_day(truth)
    if not days:
        raise typer.BadParameter("no status snapshots (snapshot_utc, status) in that file", param_hint="--truth")
    shapes = [g for d in days.values() for g in d.values()]
    x0, y0 = min(g.bounds[0] for g in shapes), min(g.bounds[1] for g in shapes)
    x1, y1 = max(g.bounds[2] for g in shapes), max(g.bounds[3] for g in shapes)
    x0, y0, x1, y1 = _parse_bbox(bbox) or (x0, y0, x1, y1)
    grid = Grid.from_polygon(box(x0, y0, x1, y1), res)
    dates, truths = fill_days(
        list(days), [truth_states(grid, d.get("occupied"), d.get("unknown_status")) for d in days.values()]
    )
    start = datetime.fromisoformat(dates[0]).replace(tzinfo=UTC).timestamp()
    on_roads = road_cells(grid, read_lines(roads)) if roads is not None else None
    result = evaluate(
        grid,
        truths,
        start,
        obs_per_day,
        noise,
        seed=seed,
        road_cells=on_roads,
        road_share=road_share if roads is not None else 0.0,
    )
    scores = result.scores
    summary: dict[str, Any] = {
        "days": len(scores),
        "cells": len(grid),
        "res": res,
        "obs_per_day": obs_per_day,
        "noise": noise,
        **result.summary(),
    }
    summary["glitch_days"] = [dates[d] for d in summary["glitch_days"]]
    if plot is not None:
        title = f"IoU of the other side's ground, {obs_per_day} observers/day, {noise:.0%} wrong (H3 res {res})"
        plot.write_text(scores_svg(scores, title, dates=dates), encoding="utf-8")
    if sweep:
        summary["sweep"] = _sweep(grid, truths, start, seed, plot)
    if as_json:
        _out(json.dumps(summary))
        return
    glitches = (
        f"; without the truth's one-day glitches ({', '.join(summary['glitch_days'])}) min"
        f" {summary['fused_iou_min_without_glitches']:.3f}"
        if summary["glitch_days"]
        else ""
    )
    _out(
        f"fused IoU mean {summary['fused_iou_mean']:.3f} (min {summary['fused_iou_min']:.3f}{glitches}), naive"
        f" {summary['naive_iou_mean']:.3f} (min {summary['naive_iou_min']:.3f}); fused better on"
        f" {summary['fused_better_share']:.0%} of {summary['days_scored']} days after a week's warm-up;"
        f" median lag {summary['median_lag_days']:.0f} days; grey IoU {summary['grey_iou_mean']:.3f}"
    )


def _sweep(grid: Any, truths: Any, start: float, seed: int, plot: Path | None) -> list[dict[str, float]]:

    from greyzone.control.evaluate import evaluate, sweep_svg

    rows, fused_table = [], {}
    with _progress(False) as progress:
        task = progress.add_task("sweep", total=12)
        for n in (50, 100, 200, 500):
            for noise in (0.0, 0.1, 0.2):
                figures = evaluate(grid, truths, start, n, noise, seed=seed).summary()
                fused_table[(n, noise)] = figures["fused_iou_mean"]
                rows.append({"obs_per_day": n, "noise": noise, **figures})
                progress.advance(task)
    for row in rows:
        err.print(
            f"{row['obs_per_day']:>4} observers/day, {row['noise']:.0%} wrong: fused {row['fused_iou_mean']:.3f},"
            f" naive {row['naive_iou_mean']:.3f}, lag {row['median_lag_days']:.0f} d"
        )
    if plot is not None:
        path = plot.with_name(plot.stem + "-sweep.svg")
        path.write_text(
            sweep_svg(fused_table, "fused IoU (other side) by observers/day; one line per noise"), encoding="utf-8"
        )
    return rows


hazard_app = typer.Typer(
    no_args_is_help=True, help="Danger by place, hour and threat: a self-exciting model of stored incidents."
)
app.add_typer(hazard_app, name="hazard")
KindOption = Annotated[
    list[Kind] | None,
    typer.Option("--kind", help="Threat kind (repeat it); default: every incident kind except air-raid alerts."),
]
ModelOption = Annotated[Path | None, typer.Option("--model", help="The fitted model file (default: <db>.hazard.json).")]


class Bin(StrEnum):
    HOUR = "hour"
    DAY = "day"


def _hazard_kinds(kinds: list[Kind] | None) -> frozenset[Kind]:
    return frozenset(kinds) if kinds else INCIDENT_KINDS - {Kind.AIR_RAID_ALERT}


def _hazard_columns(
    db: Path | None,
    kinds: frozenset[Kind],
    bbox: str | None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Any:
    from greyzone.products import hazard_columns

    with SqliteStore.open(_settings(db).db_path, create=False) as store:
        return hazard_columns(store, kinds, _parse_bbox(bbox), since, until)


def _hazard_grid(columns: Any, bbox: str | None, res: int) -> Any:
    from shapely.geometry import box

    from greyzone.model.grid import Grid

    if len(columns.lon) == 0:
        raise typer.BadParameter("no stored reports of those kinds there and then", param_hint="--kind")
    x0, y0, x1, y1 = _parse_bbox(bbox) or (
        columns.lon.min() - 0.02,
        columns.lat.min() - 0.02,
        columns.lon.max() + 0.02,
        columns.lat.max() + 0.02,
    )
    return Grid.from_polygon(box(x0, y0, x1, y1), res)


def _model_path(db: Path | None, model: Path | None) -> Path:
    return model or Path(str(_settings(db).db_path) + ".hazard.json")


@hazard_app.command("fit")
def hazard_fit(
    db: DbOption = None,
    kind: KindOption = None,
    res: Annotated[int, typer.Option(min=4, max=9)] = 7,
    bin_: Annotated[Bin, typer.Option("--bin", help="Time bins of the model.")] = Bin.HOUR,
    bbox: Annotated[str | None, typer.Option(help="LON_MIN,LAT_MIN,LON_MAX,LAT_MAX (default: the reports').")] = None,
    model: ModelOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fit the model on the stored incidents and save it with its state (what `at` and `forecast` read)."""
    from greyzone.hazard.forecast import HazardState
    from greyzone.hazard.inputs import BIN_S, split_events, state_to_dict, window_over
    from greyzone.hazard.model import FitOptions, Rings, fit

    kinds = _hazard_kinds(kind)
    columns = _hazard_columns(db, kinds, bbox)
    grid = _hazard_grid(columns, bbox, res)
    window = window_over(float(columns.observed_s.min()), float(columns.observed_s.max()), BIN_S[bin_.value])
    events, vague = split_events(columns, grid, window)
    options = FitOptions()
    rings = Rings.of(grid, options.rings)
    params = fit(events, grid, options, rings, vague=vague)
    state = HazardState.after(params, grid, rings, events, float(columns.observed_s.max()))
    path = _model_path(db, model)
    path.write_text(json.dumps(state_to_dict(state, sorted(k.value for k in kinds))), encoding="utf-8")
    summary = {
        "model": str(path),
        "cells": len(grid),
        "res": res,
        **params.summary(),
        "background_only_incidents": round(vague.total, 2),
    }
    if as_json:
        _out(json.dumps(summary))
        return
    _out(
        f"fitted on {summary['events']:.0f} incidents over {window.n_bins} {bin_.value}s, {len(grid)} cells (res {res})"
        f": background {summary['background_per_day']} ± {summary['background_per_day_se']} a day; branching ratio"
        f" {summary['branching_ratio']} ± {summary['branching_ratio_se']} (share of events triggered by others);"
        f" mean delay {summary['mean_delay_bins']} ± {summary['mean_delay_bins_se']} {bin_.value}s; model {path}"
    )


def _hazard_state(db: Path | None, model: Path | None, until: datetime) -> Any:
    """The saved state as it stands at ``until`` (``products.hazard_state``)."""
    from greyzone.errors import NotAvailableError
    from greyzone.products import hazard_state

    try:
        with SqliteStore.open(_settings(db).db_path, create=False) as store:
            return hazard_state(store, _model_path(db, model), until)
    except NotAvailableError as exc:
        raise typer.BadParameter(str(exc), param_hint="--model") from None


@hazard_app.command("at")
def hazard_at(
    lonlat: Annotated[str, typer.Option(help="LON,LAT")],
    time: Annotated[str | None, typer.Option(help="When (ISO 8601; default now).")] = None,
    db: DbOption = None,
    model: ModelOption = None,
    as_json: JsonOption = False,
) -> None:
    """The hazard at a place and time: expected events per km² per hour, or unknown with the reason."""
    lon, lat = _lonlat(lonlat, "--lonlat")
    when = _parse_time(time, "--time") or datetime.now(UTC)
    answer = _hazard_state(db, model, when).at(lon, lat, when.timestamp())
    row = {
        "status": answer.status,
        "reason": answer.reason,
        "events_per_km2_h": answer.events_per_km2_h,
        "triggered_share": answer.triggered_share,
        "as_of": datetime.fromtimestamp(answer.as_of_s, UTC).isoformat(),
        "data_age_h": round(answer.data_age_h, 2),
    }
    if as_json:
        _out(json.dumps(row))
    elif answer.known:
        _out(
            f"{answer.events_per_km2_h:.4g} events per km² per hour at {lon},{lat} on {when.isoformat()}"
            f" ({answer.triggered_share:.0%} from recent events nearby); as of {row['as_of']}"
        )
    else:
        _out(f"unknown: {answer.reason} (as of {row['as_of']})")


@hazard_app.command("forecast")
def hazard_forecast(
    hours: Annotated[int, typer.Option(min=1, max=168)] = 24,
    start: Annotated[str | None, typer.Option(help="First hour (ISO 8601; default now).")] = None,
    geojson: Annotated[Path | None, typer.Option(help="Write the cells with their hourly rates here.")] = None,
    svg: Annotated[Path | None, typer.Option(help="Draw the map of the forecast here.")] = None,
    db: DbOption = None,
    model: ModelOption = None,
    as_json: JsonOption = False,
) -> None:
    """The forecast for the next hours by cell: expected events per km² per hour, and the riskiest cells."""
    when = _parse_time(start, "--start") or datetime.now(UTC)
    state = _hazard_state(db, model, when)
    fresh, age_h = state.freshness(when.timestamp())
    w = state.params.window
    n_bins = max(1, math.ceil(hours * 3600 / w.bin_s))
    first = max(int(w.bin_of(when.timestamp())), state.now_bin + 1)
    background, triggered = state.expected(first, n_bins)
    rate = (background + triggered) / (state.grid.area_km2[:, None] * w.bin_s / 3600)
    as_of = datetime.fromtimestamp(state.as_of_s, UTC).isoformat()
    if geojson is not None:
        geojson.write_text(
            json.dumps(_forecast_geojson(state, rate if fresh else None, as_of, w, first)), encoding="utf-8"
        )
    if svg is not None:
        from greyzone.hazard.charts import forecast_svg

        title = f"expected events per km² in the {hours} h from {when:%Y-%m-%d %H:%M} UTC (as of {as_of[:16]})"
        svg.write_text(
            forecast_svg(state.grid, rate.sum(axis=1) * w.bin_s / 3600 if fresh else None, title), encoding="utf-8"
        )
    top = np.argsort(-rate.sum(axis=1))[:5]
    summary = {
        "status": "ok" if fresh else "unknown",
        "as_of": as_of,
        "data_age_h": round(age_h, 2),
        "bins": n_bins,
        "bin_s": w.bin_s,
        "cells": len(state.grid),
        "riskiest": [
            {"cell": h3.int_to_str(int(state.grid.cells[i])), "peak_events_per_km2_h": float(rate[i].max())}
            for i in top
        ]
        if fresh
        else [],
    }
    if as_json:
        _out(json.dumps(summary))
    elif not fresh:
        _out(f"unknown: the newest data is {age_h:.0f} h old (as of {as_of}); no forecast is given for stale data")
    else:
        _out(
            f"forecast of {n_bins} bins from {datetime.fromtimestamp(w.t0_s + first * w.bin_s, UTC).isoformat()} for"
            f" {len(state.grid)} cells, as of {as_of}; riskiest cells: "
            + ", ".join(f"{r['cell']} ({r['peak_events_per_km2_h']:.3g}/km²/h)" for r in summary["riskiest"])
        )


def _forecast_geojson(state: Any, rate: Any, as_of: str, window: Any, first: int) -> dict[str, Any]:
    from greyzone.products import forecast_geojson

    return forecast_geojson(state, rate, as_of, window, first)


@hazard_app.command("backtest")
def hazard_backtest(
    train_until: Annotated[str, typer.Option(help="The first day forecast (ISO date): the model learns from before.")],
    test_days: Annotated[int, typer.Option(min=1)],
    db: DbOption = None,
    kind: KindOption = None,
    res: Annotated[int, typer.Option(min=4, max=9)] = 6,
    bin_: Annotated[Bin, typer.Option("--bin", help="Time bins (hour: alerts; day: day-dated events).")] = Bin.DAY,
    bbox: Annotated[str | None, typer.Option(help="LON_MIN,LAT_MIN,LON_MAX,LAT_MAX (default: the reports').")] = None,
    refit_days: Annotated[int, typer.Option(min=1)] = 7,
    plot: Annotated[Path | None, typer.Option(help="Write the reliability diagram (PNG) here.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Rolling one-day-ahead forecasts scored against what happened, beside two baselines."""
    from greyzone.hazard.backtest import backtest
    from greyzone.hazard.charts import reliability_png
    from greyzone.hazard.inputs import BIN_S, events_of, split_events, window_over

    split = _parse_time(train_until, "--train-until") or datetime.now(UTC)  # a required option: never None
    columns = _hazard_columns(db, _hazard_kinds(kind), bbox, until=split + timedelta(days=test_days))
    grid = _hazard_grid(columns, bbox, res)
    if split.timestamp() > float(columns.observed_s.max()):
        last = datetime.fromtimestamp(float(columns.observed_s.max()), UTC).date()
        raise typer.BadParameter(
            f"the stored reports end on {last}: nothing to test after it", param_hint="--train-until"
        )
    window = window_over(float(columns.observed_s.min()), split.timestamp() + test_days * 86_400, BIN_S[bin_.value])
    train_bins = int(window.bin_of(split.timestamp()))
    if train_bins < 14 * 86_400 / window.bin_s:
        raise typer.BadParameter("fewer than 14 days of data before it", param_hint="--train-until")
    with _count_progress() as progress:
        task = progress.add_task("backtest", total=test_days)
        precise, vague = split_events(columns, grid, window)
        result = backtest(
            grid,
            precise,
            events_of(columns, grid, window, as_occurrences=True),
            train_bins,
            test_days,
            refit_days=refit_days,
            progress=lambda _: progress.advance(task),
            vague=vague,
        )
    summary: dict[str, Any] = {
        "test_days": test_days,
        "cells": len(grid),
        "res": res,
        "bin": bin_.value,
        "train_until": split.date().isoformat(),
        **result.summary(),
        "test_events": result.scores["model"].events,
        "reliability": [_slots(r) for r in result.scores["model"].reliability_table()],
        "fitted": result.params[-1].summary() if result.params else None,
    }
    if plot is not None:
        kinds = ", ".join(sorted(k.value for k in _hazard_kinds(kind)))
        title = f"{kinds}: {len(grid)} cells (res {res}), {bin_.value} bins, {test_days} days from {split.date()}"
        plot.write_bytes(reliability_png(result, title if len(title) < 90 else title[-90:]))
    if as_json:
        _out(json.dumps(summary))
        return
    table = Table("forecast", "log-lik / event", "Brier", "hit rate @ 5 % area")
    for name, s in result.summary().items():
        table.add_row(name, f"{s['mean_loglik_per_event']:.4f}", f"{s['brier']:.5f}", f"{s['hit_rate_5pct_area']:.3f}")
    Console().print(table)
    _out(f"{summary['test_events']:.0f} events over {test_days} days, {len(grid)} cells (res {res}), {bin_.value} bins")


def _slots(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def _count_progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
        transient=True,
    )


city_app = typer.Typer(no_args_is_help=True, help="A city's street network and its ways out (gates).")
app.add_typer(city_app, name="city")


@city_app.command("import")
def city_import(
    file: Annotated[Path, typer.Argument(help=".osm.pbf, .osm, .osm.bz2, .graphml (osmnx) or line .geojson")],
    name: Annotated[str, typer.Option(help="The city's name in the store.")],
    gates: Annotated[Path | None, typer.Option(help="Point GeoJSON of the ways out (property name).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a street network (replacing a city of that name) and its gates."""
    from greyzone.ingest.osm import graph_summary, read_street_graph
    from greyzone.store.base import City

    graph = read_street_graph(file)
    points = _gates(gates) if gates is not None else []
    snapped = [(n, *graph.snap(x, y)) for n, x, y in points]
    far = [f"{n} ({d:.0f} m)" for n, _, d in snapped if d > 500]
    if far:
        raise typer.BadParameter(f"gates more than 500 m from any street: {', '.join(far)}", param_hint="--gates")
    with SqliteStore.open(_settings(db).db_path) as store:
        store.write_city(City(name, str(file), graph.to_bytes(), graph.n_nodes, graph.n_edges, tuple(points)))
    summary = {
        "city": name,
        **graph_summary(graph),
        "gates": [{"name": n, "snapped_m": round(d, 1)} for n, _, d in snapped],
    }
    if as_json:
        _out(json.dumps(summary))
        return
    _out(
        f"city {name}: {summary['nodes']:,} junctions, {summary['edges']:,} directed streets, {summary['km']:,} km,"
        f" {len(points)} gates; from {file}"
    )


def _gates(path: Path) -> list[tuple[str, float, float]]:
    from greyzone.ingest.geojson import iter_features

    out = []
    for n, feature in iter_features(path):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        props = (feature.get("properties") if isinstance(feature, dict) else None) or {}
        if not isinstance(geometry, dict) or geometry.get("type") != "Point" or not props.get("name"):
            raise typer.BadParameter(f"{path}:{n}: expected a Point feature with a name", param_hint="--gates")
        x, y = geometry["coordinates"][:2]
        out.append((str(props["name"]), float(x), float(y)))
    return out


def _city(db: Path | None, name: str) -> Any:
    from greyzone.routing.graph import StreetGraph

    with SqliteStore.open(_settings(db).db_path, create=False) as store:
        city = store.read_city(name)
        known = store.city_names()
    if city is None:
        raise typer.BadParameter(
            f"no city {name!r} in the store (known: {', '.join(known) or 'none'}; `greyzone city import` adds one)",
            param_hint="--name",
        )
    return city, StreetGraph.from_bytes(city.graph)


@city_app.command("snap")
def city_snap(
    name: Annotated[str, typer.Option()],
    lonlat: Annotated[str, typer.Option(help="LON,LAT")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The street junction nearest a point, and how far it is."""
    lon, lat = _lonlat(lonlat, "--lonlat")
    _, graph = _city(db, name)
    node, distance = graph.snap(lon, lat)
    row = {"node": node, "lon": float(graph.lon[node]), "lat": float(graph.lat[node]), "distance_m": round(distance, 1)}
    _out(json.dumps(row) if as_json else f"junction {node} at {row['lon']:.6f},{row['lat']:.6f}, {distance:.0f} m away")


@city_app.command("fetch")
def city_fetch(
    place: Annotated[str, typer.Argument(help='A place name, e.g. "Pokrovsk, Ukraine".')],
    name: Annotated[str, typer.Option(help="The city's name in the store.")],
    db: DbOption = None,
) -> None:
    """Download a city's streets from OpenStreetMap (Overpass, through osmnx) and import them."""
    import tempfile

    try:
        import osmnx  # type: ignore[import-not-found]
    except ImportError:
        raise GreyzoneError(
            f"city fetch {place!r} needs the network and osmnx (pip install osmnx); offline, export "
            "the area as .osm.pbf and use `greyzone city import`"
        ) from None
    try:
        g = osmnx.graph_from_place(place, network_type="all", simplify=True)
    except Exception as exc:
        raise GreyzoneError(f"city fetch {place!r} failed (is the network reachable?): {exc}") from None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "city.graphml"
        osmnx.save_graphml(g, path)
        city_import(path, name, None, db, False)


@app.command("corridors")
def corridors_cmd(
    city: Annotated[str, typer.Option("--city", help="A city imported with its gates.")],
    at: Annotated[str | None, typer.Option(help="When (ISO 8601; default now).")] = None,
    centre: Annotated[
        str | None, typer.Option(help="LON,LAT the routes start from (default: the city's middle).")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=365, help="How far back to look for since-when.")] = 14,
    res: Annotated[int, typer.Option(min=6, max=9, help="H3 resolution of the control map.")] = 8,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """For each way out of the city: open, risky (only through grey ground) or cut, and since when."""
    from greyzone.control.fusion import ControlHistory
    from greyzone.routing.corridors import history
    from greyzone.routing.exposure import edge_states

    record, graph = _city(db, city)
    if not record.gates:
        raise typer.BadParameter(f"city {city!r} has no gates: import it with --gates", param_hint="--city")
    observations, when = _control_observations(db, at)
    grid = _control_grid(observations, res)
    control = ControlHistory(grid, observations)
    cell_of_point, _ = grid.nearest(graph.shape_lonlat[:, 0], graph.shape_lonlat[:, 1])
    x, y = (float(np.median(graph.lon)), float(np.median(graph.lat))) if centre is None else _lonlat(centre, "--centre")
    start = graph.snap(x, y)[0]
    gates = [(name, graph.snap(lon, lat)[0]) for name, lon, lat in record.gates]
    daily = []
    for back in range(days, -1, -1):
        t = when.timestamp() - back * 86_400
        daily.append((_day(t), edge_states(graph, control.at(t).states(t)[cell_of_point])))
    log = history(graph, graph.length_m, daily, start, gates)
    rows = [
        {
            "gate": name,
            "status": log[name][-1][1].value,
            "since": log[name][-1][0],
            "since_is_lower_bound": len(log[name]) == 1,
        }
        for name, _ in gates
    ]
    if as_json:
        _out(json.dumps({"city": city, "at": when.isoformat(), "corridors": rows}))
        return
    for r in rows:
        since = f"since {'at least ' if r['since_is_lower_bound'] else ''}{r['since']}"
        _out(f"{r['gate']:<28} {r['status']:<6} {since}")
    _out(f"{len(rows)} ways out of {city} on {when:%Y-%m-%d %H:%M} UTC, from the fused control map (res {res})")


def _lonlat(value: str, name: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in value.split(","))
    except ValueError:
        raise typer.BadParameter(f"expected LON,LAT; got {value!r}", param_hint=name) from None
    return lon, lat


@app.command("route")
def route_cmd(
    city: Annotated[str, typer.Option("--city", help="An imported city.")],
    from_: Annotated[str, typer.Option("--from", help="LON,LAT")],
    to: Annotated[str, typer.Option(help="LON,LAT")],
    mode: Annotated[str, typer.Option(help="foot, bicycle, car or armoured")] = "foot",
    depart: Annotated[str, typer.Option(help="HH:MM, Kyiv time")] = "12:00",
    window: Annotated[
        str | None, typer.Option(help="HH:MM-HH:MM (Kyiv): the best departure in it, and the curve")
    ] = None,
    step: Annotated[int, typer.Option(min=5, max=240, help="Minutes between departures tried in --window.")] = 30,
    alternatives: Annotated[bool, typer.Option(help="Also list up to 5 risk-vs-time alternatives.")] = False,
    date: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today)")] = None,
    hazard: Annotated[list[Path] | None, typer.Option(help="Fitted hazard model(s); default <db>.hazard.json")] = None,
    grey: Annotated[str, typer.Option(help="'penalty' (10× dearer) or 'forbid'")] = "penalty",
    geojson: Annotated[Path | None, typer.Option(help="Write the route here.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The least-exposure route between two points for a mode of travel, its risk and what carries it."""
    from zoneinfo import ZoneInfo

    from greyzone.products import plan_departures, riskiest_rows, route_line
    from greyzone.routing.exposure import PROFILES, Mode

    if mode not in {m.value for m in Mode}:
        raise typer.BadParameter(
            f"expected one of {', '.join(m.value for m in Mode)}; got {mode!r}", param_hint="--mode"
        )
    try:
        day = datetime.fromisoformat(date).date() if date else datetime.now(UTC).date()
        clock = datetime.strptime(depart, "%H:%M").time()
    except ValueError:
        raise typer.BadParameter("expected --date YYYY-MM-DD and --depart HH:MM", param_hint="--depart") from None
    when = datetime.combine(day, clock, ZoneInfo("Europe/Kyiv")).astimezone(UTC)
    _, graph = _city(db, city)
    (x0, y0), (x1, y1) = _lonlat(from_, "--from"), _lonlat(to, "--to")
    (origin, d0), (destination, d1) = graph.snap(x0, y0), graph.snap(x1, y1)
    for name, distance in (("--from", d0), ("--to", d1)):
        if distance > 1000:
            raise typer.BadParameter(
                f"the point is {distance / 1000:.1f} km from the nearest street of {city!r}: "
                "pick a point inside the city",
                param_hint=name,
            )
    starts = _departures(day, window, step) if window else [when]
    profile = PROFILES[Mode(mode)]
    grey_penalty = None if grey == "forbid" else 10.0
    with SqliteStore.open(_settings(db).db_path, create=False) as store:
        plans = plan_departures(
            store, hazard or [_model_path(db, None)], graph, profile, origin, destination, starts, grey_penalty
        )
    curve = list(zip(starts, plans.routes, strict=True))
    when, result = curve[plans.best]
    notes = plans.notes
    others = []
    if alternatives and result.reachable and plans.rates:
        from greyzone.routing.planner import alternatives as front

        others = front(
            graph,
            profile,
            origin,
            destination,
            plans.rates,
            plans.states,
            grey_penalty,
            depart_s=float(plans.offsets[plans.best]),
        )
    row = {
        "reachable": result.reachable,
        "reason": result.reason,
        "mode": mode,
        "depart": when.isoformat(),
        "length_m": round(result.length_m, 1),
        "minutes": round(result.seconds / 60, 1),
        "exposure": result.exposure,
        "risk": result.risk,
        "snapped_m": [round(d0, 1), round(d1, 1)],
        "riskiest": riskiest_rows(result, when),
        "notes": notes,
        "assumptions": result.assumptions,
        "curve": [{"depart": t.isoformat(), "risk": r.risk, "minutes": round(r.seconds / 60, 1)} for t, r in curve]
        if window
        else None,
        "alternatives": [
            {"km": round(r.length_m / 1000, 3), "minutes": round(r.seconds / 60, 1), "risk": r.risk} for r in others
        ],
    }
    if geojson is not None and result.reachable:
        line = {"type": "LineString", "coordinates": route_line(graph, result.edges)}
        feature = {"type": "Feature", "properties": {k: v for k, v in row.items() if k != "riskiest"}, "geometry": line}
        geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    if as_json:
        _out(json.dumps(row))
    else:
        _print_route(result, when, mode, bool(window), notes, others, curve)


def _print_route(
    result: Any,
    when: datetime,
    mode: str,
    windowed: bool,
    notes: list[str],
    others: list[Any],
    curve: list[tuple[datetime, Any]],
) -> None:
    from zoneinfo import ZoneInfo

    if not result.reachable:
        _out(f"no route: {result.reason}")
        return
    risk_text = f"risk {result.risk:.2%}" if result.risk is not None else "risk unknown (no fresh hazard)"
    kyiv = ZoneInfo("Europe/Kyiv")
    top = "; ".join(
        f"{s.name or f'#{s.edge}'} {s.share:.0%} ({s.threat.value if s.threat else '?'}, "
        f"{(when + timedelta(minutes=s.minute)).astimezone(kyiv):%H:%M})"
        for s in result.riskiest
    )
    lead = f"best departure {when.astimezone(kyiv):%H:%M} (Kyiv) — " if windowed else ""
    _out(
        f"{lead}{mode}: {result.length_m / 1000:.2f} km, {result.seconds / 60:.0f} min, {risk_text}"
        + (f"; riskiest: {top}" if top else "")
        + "".join(f"\nnote: {n}" for n in notes)
    )
    for r in others:
        _out(f"  alternative: {r.length_m / 1000:.2f} km, {r.seconds / 60:.0f} min, risk {r.risk or 0.0:.3%}")
    peak = max((r.risk or 0.0) for _, r in curve) or 1.0
    for t, r in curve if windowed else []:
        level = "unknown" if r.risk is None else f"{r.risk:.3%}"
        _out(f"  {t.astimezone(kyiv):%H:%M}  {level:>8}  {'█' * round(40 * (r.risk or 0.0) / peak)}")


def _departures(day: Any, window: str, step: int) -> list[datetime]:
    """The departures (UTC) every ``step`` minutes across a Kyiv-time window HH:MM-HH:MM of ``day``."""
    from zoneinfo import ZoneInfo

    try:
        a, b = (datetime.strptime(v.strip(), "%H:%M").time() for v in window.split("-"))
    except ValueError:
        raise typer.BadParameter(f"expected HH:MM-HH:MM; got {window!r}", param_hint="--window") from None
    start = datetime.combine(day, a, ZoneInfo("Europe/Kyiv"))
    end = datetime.combine(day, b, ZoneInfo("Europe/Kyiv"))
    if end <= start:
        raise typer.BadParameter("the window must end after it starts", param_hint="--window")
    out = []
    while start <= end:
        out.append(start.astimezone(UTC))
        start += timedelta(minutes=step)
    return out


user_app = typer.Typer(no_args_is_help=True, help="Users of the service: a role and a token each.")
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="A name (letters, digits, _.@-).")],
    role: Annotated[str, typer.Option(help="reporter, verifier, analyst or admin")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a user and print their token once (only its SHA-256 is stored)."""
    import re

    from greyzone.service.guard import new_token, token_hash
    from greyzone.store.base import AuditEntry

    if role not in ("reporter", "verifier", "analyst", "admin"):
        raise typer.BadParameter(f"expected reporter, verifier, analyst or admin; got {role!r}", param_hint="--role")
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", name):
        raise typer.BadParameter("use 1-64 letters, digits or _.@-", param_hint="NAME")
    token = new_token()
    with SqliteStore.open(_settings(db).db_path) as store:
        store.add_user(name, role, token_hash(token))
        store.audit(AuditEntry(datetime.now(UTC).timestamp(), "cli", "user.add", name, role))
    if as_json:
        _out(json.dumps({"name": name, "role": role, "token": token}))
    else:
        _out(f"{name} ({role}); token, shown only now: {token}")


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    db: DbOption = None,
    database_url: Annotated[
        str | None, typer.Option(help="postgresql://… (or GREYZONE_DATABASE_URL): the server store instead of --db")
    ] = None,
    rate: Annotated[int, typer.Option(min=1, help="Requests a minute per token (public: per address).")] = 1200,
    in_flight: Annotated[int, typer.Option(min=1, help="Requests at once; more are answered 503.")] = 64,
) -> None:
    """Run the API and the web map (FastAPI + uvicorn)."""
    from dataclasses import replace

    from greyzone.service.app import Limits, serve

    settings = _settings(db)
    settings = replace(settings, database_url=database_url or settings.database_url)
    where = "PostgreSQL" if settings.database_url else str(settings.db_path)
    _out(f"greyzone on http://{host}:{port}/ (API docs at /docs), store {where}")
    serve(settings, host, port, Limits(per_minute=rate, in_flight=in_flight))


def main() -> None:
    """Entry point: our errors become one clear line and exit 1; usage errors exit 2 (typer's)."""
    try:
        app()
    except GreyzoneError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except sqlite3.DatabaseError as exc:  # a damaged or foreign store file, met after it opened
        err.print(
            f"[bold red]error:[/] the store failed: {exc} (is --db a greyzone store of this version?)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)
