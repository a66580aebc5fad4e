"""``greyzone control``: who holds what — the fused map, a place's shares, history, evaluation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from greyzone.application.control import (
    EvaluationOptions,
    cell_history,
    control_map,
    evaluate_control,
    place_history,
    place_share,
    sweep_control,
)
from greyzone.application.movement import KYIV
from greyzone.cli.common import (
    DbOption,
    JsonOption,
    UrlOption,
    app,
    count_progress,
    err,
    out,
    parse_bbox,
    parse_lonlat,
    parse_time,
    refusing,
    store_of,
)

control_app = typer.Typer(no_args_is_help=True, help="Who holds what: control observations fused per H3 cell.")
app.add_typer(control_app, name="control")
AtOption = Annotated[str | None, typer.Option(help="As of this time (ISO 8601; default now).")]


@control_app.command("map")
def control_map_cmd(
    db: DbOption = None,
    at: AtOption = None,
    res: Annotated[int, typer.Option(min=5, max=10, help="H3 resolution of the cells.")] = 8,
    geojson: Annotated[Path | None, typer.Option(help="Write the state polygons here.")] = None,
    svg: Annotated[Path | None, typer.Option(help="Draw the map here (SVG, with legend and scale).")] = None,
    front: Annotated[
        bool, typer.Option(help="Front-wide: the front in parts (H3 res 4), each a Dask task; the cells' states.")
    ] = False,
    scheduler: Annotated[
        str | None, typer.Option(help="--front: a Dask scheduler's address (default: a local cluster).")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=256, help="--front: the local cluster's workers.")] = 2,
    parquet: Annotated[Path | None, typer.Option(help="--front: write the cells here (GeoParquet).")] = None,
    read_in_tasks: Annotated[
        bool | None,
        typer.Option(
            "--read-in-tasks/--read-here",
            help="--front: each task reads its part and ring from the store, or this process reads once and sends"
            " (default: in the tasks for PostgreSQL or a --scheduler, here for an SQLite file).",
        ),
    ] = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """The fused control map: area per state (held, other side, contested, unconfirmed) and its "as of"."""
    when = parse_time(at, "--at") or datetime.now(UTC)
    if front:
        _front(db, database_url, when, res, scheduler, workers, parquet, as_json, read_in_tasks)
        return
    with store_of(db, database_url) as store, refusing(missing="--at"):
        m = control_map(store, when, res)
    rows = m.rows()
    if geojson is not None:
        geojson.write_text(json.dumps(m.to_geojson()), encoding="utf-8")
    if svg is not None:
        from greyzone.plotting import control_map as control_picture  # matplotlib: only when drawing

        newest = max((str(r["as_of"]) for r in rows if r["as_of"]), default=None)
        title = f"Control at {when.astimezone(KYIV):%Y-%m-%d %H:%M} Kyiv time, H3 res {res}"
        svg.write_text(control_picture([(a.state.value, a.geometry) for a in m.areas], title, newest), "utf-8")
    if as_json:
        out(json.dumps({"at": when.isoformat(), "states": rows}))
        return
    for row in rows:
        out(f"{row['state']:<12} {row['area_km2']:>10.2f} km²  as of {row['as_of'] or 'never'}")
    out(f"control map at {when.astimezone(KYIV):%Y-%m-%d %H:%M} Kyiv time: {m.cells} cells at H3 res {res}")


@control_app.command("share")
def control_share(
    place: Annotated[str, typer.Option(help="A place name the gazetteer knows (its area: a disc of its precision).")],
    gazetteer: Annotated[Path, typer.Option(help="Folder of gazetteer files.")],
    db: DbOption = None,
    at: AtOption = None,
    res: Annotated[int, typer.Option(min=5, max=10)] = 8,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """What share of a place is held, other side, contested or unconfirmed."""
    when = parse_time(at, "--at") or datetime.now(UTC)
    with store_of(db, database_url) as store, refusing(missing="--at"):
        shares = place_share(store, gazetteer, place, when, res)
    if as_json:
        out(json.dumps({"place": place, "at": when.isoformat(), "shares": shares}))
        return
    local = when.astimezone(KYIV)
    out(f"{place} at {local:%Y-%m-%d %H:%M} Kyiv time: " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()))


@control_app.command("history")
def control_history(
    db: DbOption = None,
    cell: Annotated[str | None, typer.Option(help="An H3 cell id (hex) at the map's resolution.")] = None,
    place: Annotated[str | None, typer.Option(help="A place name (needs --gazetteer).")] = None,
    gazetteer: Annotated[Path | None, typer.Option(help="Folder of gazetteer files.")] = None,
    res: Annotated[int, typer.Option(min=5, max=10)] = 8,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """How a cell's state, or a place's shares, changed day by day, and on what evidence."""
    if (cell is None) == (place is None):
        raise typer.BadParameter("give exactly one of --cell or --place", param_hint="--cell/--place")
    if place is not None and gazetteer is None:
        raise typer.BadParameter("--place needs --gazetteer", param_hint="--gazetteer")
    with store_of(db, database_url) as store, refusing(missing="--at"):
        if cell is not None:
            rows, days = cell_history(store, cell, res)
        else:
            assert gazetteer is not None and place is not None  # checked above
            rows, days = place_history(store, gazetteer, place, res)
    if as_json:
        out(json.dumps(rows))
        return
    for row in rows:
        out("  ".join(f"{k} {v}" for k, v in row.items()))
    out(f"{len(rows)} rows over {days} days")


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
    near: Annotated[
        str | None, typer.Option(help="LON,LAT: score only the cells within --radius-km of it (e.g. the city centre).")
    ] = None,
    radius_km: Annotated[float, typer.Option(min=0.1, help="With --near: the radius scored.")] = 8.0,
    as_json: JsonOption = False,
) -> None:
    """Score the fused map against real published maps (status snapshots or daily occupied areas) with
    simulated observers, beside the naive map: IoU, and the false-reassurance rate (the share of the
    truth's other-side and grey ground called held)."""
    point = parse_lonlat(near, "--near") if near is not None else None
    options = EvaluationOptions(obs_per_day, noise, res, seed, parse_bbox(bbox), roads, road_share, point, radius_km)
    with refusing():
        run = evaluate_control(truth, options)
    from greyzone.plotting import reassurance_chart, scores_chart, sweep_chart

    summary = dict(run.summary)
    if plot is not None:
        title = f"IoU of the other side's ground, {obs_per_day} observers/day, {noise:.0%} wrong (H3 res {res})"
        plot.write_text(scores_chart(run.result.scores, title, run.dates), encoding="utf-8")
        where = f" within {radius_km:g} km of {near}" if near else ""
        reassured = plot.with_name(plot.stem + "-reassurance.svg")
        reassured.write_text(reassurance_chart(run.result.scores, f"False reassurance{where}", run.dates), "utf-8")
    if sweep:
        with count_progress() as progress:
            task = progress.add_task("sweep", total=12)
            rows = sweep_control(run, seed, lambda: progress.advance(task))
        summary["sweep"] = list(rows)
        for row in rows:
            err.print(
                f"{row['obs_per_day']:>4} observers/day, {row['noise']:.0%} wrong: fused {row['fused_iou_mean']:.3f},"
                f" naive {row['naive_iou_mean']:.3f}, lag {row['median_lag_days']:.0f} d"
            )
        if plot is not None:
            table = {(int(r["obs_per_day"]), float(r["noise"])): float(r["fused_iou_mean"]) for r in rows}
            title = "fused IoU (other side) by observers/day; one line per noise"
            plot.with_name(plot.stem + "-sweep.svg").write_text(sweep_chart(table, title), encoding="utf-8")
    if as_json:
        out(json.dumps(summary))
        return
    s = summary
    glitches = (
        f"; without the truth's one-day glitches ({', '.join(run.glitch_dates)}) min"
        f" {s['fused_iou_min_without_glitches']:.3f}"
        if run.glitch_dates
        else ""
    )
    out(
        f"fused IoU mean {s['fused_iou_mean']:.3f} (min {s['fused_iou_min']:.3f}{glitches}), naive"
        f" {s['naive_iou_mean']:.3f} (min {s['naive_iou_min']:.3f}); fused better on"
        f" {s['fused_better_share']:.0%} of {s['days_scored']} days after a week's warm-up;"
        f" median lag {s['median_lag_days']:.0f} days; grey IoU {s['grey_iou_mean']:.3f}; false reassurance"
        f" {s['false_reassurance_mean']:.1%} (naive {s['naive_false_reassurance_mean']:.1%}) of the other side's and"
        f" grey ground called held; the centre called held wrongly on {len(run.centre_misled_dates)} days"
    )
    out(
        f"on the {s['days_with_unsafe']} days with other-side or grey ground in the region: false reassurance"
        f" {s['false_reassurance_mean_with_unsafe']:.1%} (naive {s['naive_false_reassurance_mean_with_unsafe']:.1%});"
        f" on the {s['days_with_other']} with other-side ground: IoU {s['fused_iou_mean_with_other']:.3f} (naive"
        f" {s['naive_iou_mean_with_other']:.3f}); the price: {s['caution_mean']:.1%} of the truly held ground not"
        " shown held"
    )


def _front(
    db: Path | None, database_url: str | None, when: datetime, res: int, scheduler: str | None, workers: int,
    parquet: Path | None, as_json: bool, read_in_tasks: bool | None,
) -> None:  # fmt: skip
    from greyzone.application.front import front_control, write_front

    with store_of(db, database_url) as store, refusing(missing="--at"):
        m = front_control(store, when, res, scheduler=scheduler, workers=workers, in_tasks=read_in_tasks)
    if parquet is not None:
        write_front(m, parquet, when)
    said = {"at": when.isoformat(), "parts": m.parts, "cells": len(m.cells), "states": m.counts(),
            "workers": m.workers, "seconds": round(m.seconds, 2)}  # fmt: skip
    if as_json:
        out(json.dumps(said))
        return
    for state, n in m.counts().items():
        out(f"{state:<12} {n:>10,} cells")
    out(f"front-wide control at {when.astimezone(KYIV):%Y-%m-%d %H:%M} Kyiv time: {m.parts} parts on {m.workers} "
        f"workers, {m.seconds:.1f} s")  # fmt: skip
