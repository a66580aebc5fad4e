"""``greyzone hazard``: danger by place, hour and threat — fit (kept in the store), at, forecast,
backtest, export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from greyzone.application.hazard import (
    MIN_INCIDENTS,
    Bin,
    HazardModel,
    backtest_hazard,
    export_model,
    fit_each_kind,
    fit_hazard,
    hazard_at,
    hazard_forecast,
    hazard_kinds,
    model_from_file,
    newest_model,
)
from greyzone.application.movement import KYIV
from greyzone.application.stores import AppStore
from greyzone.cli.common import (
    DbOption,
    JsonOption,
    UrlOption,
    app,
    count_progress,
    kyiv_text,
    out,
    parse_bbox,
    parse_lonlat,
    parse_time,
    refusing,
    store_of,
)
from greyzone.model.enums import Kind

hazard_app = typer.Typer(
    no_args_is_help=True, help="Danger by place, hour and threat: a self-exciting model of stored incidents."
)
app.add_typer(hazard_app, name="hazard")
KindOption = Annotated[
    list[Kind] | None,
    typer.Option("--kind", help="Threat kind (repeat it); default: every incident kind except air-raid alerts."),
]
WhichOption = Annotated[
    list[Kind] | None, typer.Option("--kind", help="Answer from the newest model of exactly these kinds (repeat it).")
]
ModelOption = Annotated[
    Path | None,
    typer.Option("--model", help="An exported model file (`hazard export`); default: the newest model in the store."),
]
BboxOption = Annotated[str | None, typer.Option(help="LON_MIN,LAT_MIN,LON_MAX,LAT_MAX (default: the reports').")]


def _kinds(kinds: list[Kind] | None) -> frozenset[Kind]:
    return hazard_kinds(frozenset(kinds) if kinds else None)


def _model(store: AppStore, model: Path | None, kinds: list[Kind] | None) -> HazardModel:
    """The model a question names: a file, the newest of exactly these kinds, or the newest of all."""
    with refusing(missing="--model"):
        return model_from_file(model) if model is not None else newest_model(store, frozenset(kinds) if kinds else None)


@hazard_app.command("fit")
def hazard_fit(
    db: DbOption = None,
    kind: KindOption = None,
    each_kind: Annotated[
        bool,
        typer.Option(
            "--each-kind",
            help=f"One model per incident kind with at least {MIN_INCIDENTS} incidents (not with --kind).",
        ),
    ] = False,
    res: Annotated[int, typer.Option(min=4, max=9)] = 7,
    bin_: Annotated[Bin, typer.Option("--bin", help="Time bins of the model.")] = Bin.HOUR,
    bbox: BboxOption = None,
    front: Annotated[
        bool,
        typer.Option(
            help="Front-wide: the grid is every cell of the H3 res-4 parts holding an incident; the E-step of"
            " each block of parts a Dask task (not with --bbox or --each-kind)."
        ),
    ] = False,
    scheduler: Annotated[
        str | None, typer.Option(help="--front: a Dask scheduler's address (default: a local cluster).")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=256, help="--front: the local cluster's workers.")] = 2,
    single: Annotated[bool, typer.Option(help="--front: the same fit in this one process (the check).")] = False,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fit the model on the stored incidents and keep it, with its state, in the store (what `at`,
    `forecast`, routes and the service read)."""
    if each_kind and kind:
        raise typer.BadParameter("give --kind or --each-kind, not both", param_hint="--each-kind")
    if front and (each_kind or bbox):
        raise typer.BadParameter("--front fits the whole front: not with --bbox or --each-kind", param_hint="--front")
    skipped: list[str] = []
    with store_of(db, database_url) as store, refusing():
        if front:
            from greyzone.application.front import front_hazard

            models = [front_hazard(store, _kinds(kind), res, bin_, scheduler=scheduler, workers=workers, single=single)]
        elif each_kind:
            models, skipped = fit_each_kind(store, res, bin_, parse_bbox(bbox))
        else:
            models = [fit_hazard(store, _kinds(kind), res, bin_, parse_bbox(bbox))]
    if as_json:
        summaries = [m.summary for m in models]
        out(json.dumps(summaries[0] if not each_kind else {"models": summaries, "skipped": skipped}))
        return
    for fitted in models:
        s = fitted.summary
        out(
            f"fitted on {s['events']:.0f} incidents over {fitted.window.n_bins} {bin_.value}s,"
            f" {fitted.grid_cells} cells (res {res}): background {s['background_per_day']} ±"
            f" {s['background_per_day_se']} a day; branching ratio"
            f" {s['branching_ratio']} ± {s['branching_ratio_se']} (share of events triggered by others);"
            f" mean delay {s['mean_delay_bins']} ± {s['mean_delay_bins_se']} {bin_.value}s; kept as {s['model']}"
        )
        if "parts" in s:
            out(f"front-wide: {s['parts']} part(s) on {s['workers']} worker(s), {s['seconds']} s")
    for line in skipped:
        out(f"not fitted: {line}")


@hazard_app.command("export")
def hazard_export(
    output: Annotated[Path, typer.Argument(help="The JSON file to write.")],
    db: DbOption = None,
    kind: Annotated[list[Kind] | None, typer.Option("--kind", help="The model of exactly these kinds.")] = None,
    database_url: UrlOption = None,
) -> None:
    """Write the newest stored model (its state, fit figures and data span) to a file `--model` reads."""
    with store_of(db, database_url) as store, refusing(missing="--kind"):
        model = newest_model(store, frozenset(kind) if kind else None)
    output.write_text(json.dumps(export_model(model)), encoding="utf-8")
    out(f"exported {model.name} to {output}")


@hazard_app.command("at")
def hazard_at_cmd(
    lonlat: Annotated[str, typer.Option(help="LON,LAT")],
    time: Annotated[str | None, typer.Option(help="When (ISO 8601; default now).")] = None,
    db: DbOption = None,
    kind: WhichOption = None,
    model: ModelOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """The hazard at a place and time: expected events per km² per hour, or unknown with the reason."""
    lon, lat = parse_lonlat(lonlat, "--lonlat")
    when = parse_time(time, "--time") or datetime.now(UTC)
    with store_of(db, database_url) as store, refusing(start="--time"):
        chosen = _model(store, model, kind)
        answer = hazard_at(store, chosen, lon, lat, when)
    as_of = datetime.fromtimestamp(answer.as_of_s, UTC).isoformat()
    row = {
        "status": answer.status,
        "reason": answer.reason,
        "events_per_km2_h": answer.events_per_km2_h,
        "triggered_share": answer.triggered_share,
        "as_of": as_of,
        "data_age_h": round(answer.data_age_h, 2),
        "model": chosen.name,
    }
    if as_json:
        out(json.dumps(row))
    elif answer.known:
        out(
            f"{answer.events_per_km2_h:.4g} events per km² per hour at {lon},{lat} on {kyiv_text(when)}"
            f" ({answer.triggered_share:.0%} from recent events nearby); as of {kyiv_text(as_of)}; {chosen.name}"
        )
    else:
        out(f"unknown: {answer.reason} (as of {kyiv_text(as_of)})")


@hazard_app.command("forecast")
def hazard_forecast_cmd(
    hours: Annotated[int, typer.Option(min=1, max=168)] = 24,
    start: Annotated[str | None, typer.Option(help="First hour (ISO 8601; default now).")] = None,
    geojson: Annotated[Path | None, typer.Option(help="Write the cells with their hourly rates here.")] = None,
    svg: Annotated[Path | None, typer.Option(help="Draw the map of the forecast here.")] = None,
    db: DbOption = None,
    kind: WhichOption = None,
    model: ModelOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """The forecast for the next hours by cell: expected events per km² per hour, and the riskiest cells."""
    when = parse_time(start, "--start") or datetime.now(UTC)
    with store_of(db, database_url) as store, refusing():
        chosen = _model(store, model, kind)
        f = hazard_forecast(store, chosen, when, hours)
    if geojson is not None:
        geojson.write_text(json.dumps(f.to_geojson()), encoding="utf-8")
    if svg is not None:
        from greyzone.plotting import forecast_map  # matplotlib: only when drawing

        title = f"Expected events per km² in the {hours} h from {when.astimezone(KYIV):%Y-%m-%d %H:%M} Kyiv time"
        svg.write_text(forecast_map(f.state.grid, f.per_km2(), title, f.as_of[:16]), encoding="utf-8")
    w = f.state.params.window
    summary = {
        "status": "ok" if f.fresh else "unknown",
        "as_of": f.as_of,
        "data_age_h": round(f.age_h, 2),
        "bins": f.n_bins,
        "bin_s": w.bin_s,
        "cells": len(f.state.grid),
        "riskiest": f.riskiest(),
        "model": chosen.name,
    }
    if as_json:
        out(json.dumps(summary))
    elif not f.fresh:
        out(
            f"unknown: the newest data is {f.age_h:.0f} h old (as of {kyiv_text(f.as_of)}); no forecast is given"
            " for stale data"
        )
    else:
        top = ", ".join(f"{r['cell']} ({r['peak_events_per_km2_h']:.3g}/km²/h)" for r in f.riskiest())
        out(
            f"forecast of {f.n_bins} bins from {kyiv_text(f.first_time)} for {len(f.state.grid)} cells, as of"
            f" {kyiv_text(f.as_of)}; riskiest cells: {top}"
        )


@hazard_app.command("backtest")
def hazard_backtest(
    train_until: Annotated[str, typer.Option(help="The first day forecast (ISO date): the model learns from before.")],
    test_days: Annotated[int, typer.Option(min=1)],
    db: DbOption = None,
    kind: KindOption = None,
    res: Annotated[int, typer.Option(min=4, max=9)] = 6,
    bin_: Annotated[Bin, typer.Option("--bin", help="Time bins (hour: alerts; day: day-dated events).")] = Bin.DAY,
    bbox: BboxOption = None,
    refit_days: Annotated[int, typer.Option(min=1)] = 7,
    plot: Annotated[Path | None, typer.Option(help="Write the reliability diagram (PNG) here.")] = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rolling one-day-ahead forecasts scored against what happened, beside two baselines."""
    split = parse_time(train_until, "--train-until") or datetime.now(UTC)  # a required option: never None
    kinds = _kinds(kind)
    with store_of(db, database_url) as store, refusing(), count_progress() as progress:
        task = progress.add_task("backtest", total=test_days)
        run = backtest_hazard(
            store, kinds, split, test_days, res, bin_, parse_bbox(bbox), refit_days, lambda _: progress.advance(task)
        )
    if plot is not None:
        from greyzone.plotting import reliability_png

        names = ", ".join(sorted(k.value for k in kinds))
        title = f"{names}: {len(run.grid)} cells (res {res}), {bin_.value} bins, {test_days} days from {split.date()}"
        plot.write_bytes(reliability_png(run.result, title if len(title) < 90 else title[-90:]))
    if as_json:
        out(json.dumps(run.summary))
        return
    table = Table("forecast", "log-lik / event", "Brier", "hit rate @ 5 % area")
    for name, s in run.result.summary().items():
        table.add_row(name, f"{s['mean_loglik_per_event']:.4f}", f"{s['brier']:.5f}", f"{s['hit_rate_5pct_area']:.3f}")
    Console().print(table)
    events = run.result.scores["model"].events
    out(f"{events:.0f} events over {test_days} days, {len(run.grid)} cells (res {res}), {bin_.value} bins")
