"""Danger by place, hour and threat: fit a model on the stored incidents (kept in the store), answer
from it at a place and time, forecast the next hours, backtest, export.

A model is a row of the store (family ``hazard``): the kinds it was fitted on, its fit figures, the
span of its data and its state. A refit adds a row; questions read the newest model per set of
kinds (``--model FILE`` reads an exported one instead).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import h3
import numpy as np
import numpy.typing as npt
from shapely.geometry import box

from greyzone.application.reports import Json, iso
from greyzone.errors import InputError, NotAvailableError
from greyzone.hazard.backtest import Backtest, backtest
from greyzone.hazard.events import Events, Window
from greyzone.hazard.forecast import HazardAnswer, HazardState
from greyzone.hazard.inputs import (
    BIN_S,
    COVERING_KINDS,
    ReportColumns,
    events_of,
    split_events,
    state_from_dict,
    state_to_dict,
    window_over,
)
from greyzone.hazard.model import FitOptions, HawkesParams, Rings, fit
from greyzone.model.enums import HARM_KINDS, INCIDENT_KINDS, Kind
from greyzone.model.grid import Grid
from greyzone.routing.exposure import HARM, Harm
from greyzone.store.base import ModelRecord, ReportQuery, Store

FAMILY = "hazard"
STATE_FORMAT = "greyzone-hazard/1"
Floats = npt.NDArray[np.float64]
BBox = tuple[float, float, float, float]


class Bin(StrEnum):
    HOUR = "hour"
    DAY = "day"


def hazard_kinds(kinds: frozenset[Kind] | None) -> frozenset[Kind]:
    """The kinds asked for, or every incident kind except air-raid alerts."""
    return kinds or INCIDENT_KINDS - {Kind.AIR_RAID_ALERT}


def hazard_columns(
    store: Store,
    kinds: frozenset[Kind],
    bbox: BBox | None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ReportColumns:
    """The stored reports of these kinds as the hazard model's columns (one row per report)."""
    covering = any(k.value in COVERING_KINDS for k in kinds)  # an alert centred outside may cover the box
    f = store.read_frame(ReportQuery(since=since, until=until, kinds=kinds, bbox=None if covering else bbox))
    return ReportColumns(f.incident, f.kind, f.observed_s, f.span_s, f.lon, f.lat, f.location_precision_m)


def hazard_grid(columns: ReportColumns, bbox: BBox | None, res: int) -> Grid:
    """The grid over ``bbox``, or over the reports with a margin of ~2 km."""
    if len(columns.lon) == 0:
        raise InputError("kind", "no stored reports of those kinds there and then")
    x0, y0, x1, y1 = bbox or (
        columns.lon.min() - 0.02,
        columns.lat.min() - 0.02,
        columns.lon.max() + 0.02,
        columns.lat.max() + 0.02,
    )
    return Grid.from_polygon(box(x0, y0, x1, y1), res)


@dataclass(frozen=True)
class HazardModel:
    """A fitted model as read back: its kinds, its row (None for a file) and its state's data."""

    kinds: tuple[Kind, ...]
    data: Json
    record: ModelRecord | None = None
    origin: str = "store"  # "store" or the file it was read from

    @property
    def name(self) -> str:
        if self.record is None:
            return self.origin
        return f"hazard model #{self.record.model_id} ({', '.join(k.value for k in self.kinds)})"

    def state(self) -> HazardState:
        return state_from_dict(dict(self.data))


@dataclass(frozen=True)
class FittedHazard:
    model: HazardModel
    grid_cells: int
    res: int
    window: Window
    summary: Json


MIN_INCIDENTS = 20  # fewer incidents of a kind than this fit no model of their own (too few to learn from)


def fit_each_kind(store: Store, res: int, bin_: Bin, bbox: BBox | None) -> tuple[list[FittedHazard], list[str]]:
    """One model per kind that harms people moving (HARM_KINDS) with at least MIN_INCIDENTS stored
    incidents: what routes count; what was not fitted, and why."""
    frame = store.read_frame(ReportQuery(kinds=HARM_KINDS, bbox=bbox))
    fitted, skipped = [], []
    for kind in sorted(HARM_KINDS, key=lambda k: k.value):
        pick = np.array([k == kind.value for k in frame.kind], dtype=bool)
        incidents = len(np.unique(frame.incident[pick])) if pick.any() else 0
        if incidents and HARM.get(kind) is Harm.GROUND:
            skipped.append(f"{kind.value}: {incidents} incidents, counted by their reports on the streets, no model")
        elif incidents >= MIN_INCIDENTS:
            try:
                fitted.append(fit_hazard(store, frozenset({kind}), res, bin_, bbox))
            except NotAvailableError as exc:
                skipped.append(f"{kind.value}: {exc}")
        elif incidents:
            skipped.append(f"{kind.value}: {incidents} incidents, fewer than {MIN_INCIDENTS}: no model")
    if not fitted:
        raise NotAvailableError(
            f"no kind that harms people moving has {MIN_INCIDENTS} stored incidents: nothing to fit"
        )
    return fitted, skipped


def fit_hazard(store: Store, kinds: frozenset[Kind], res: int, bin_: Bin, bbox: BBox | None) -> FittedHazard:
    """Fit the model on the stored incidents and keep it, with its state, in the store."""
    columns = hazard_columns(store, kinds, bbox)
    return fit_on_grid(store, kinds, columns, hazard_grid(columns, bbox, res), bin_)


# what fits the model on a grid: (events, vague, grid, options) → (parameters, the grid's rings)
Fitter = Callable[[Events, Events, Grid, FitOptions], tuple[HawkesParams, Rings]]


def _one_process(events: Events, vague: Events, grid: Grid, options: FitOptions) -> tuple[HawkesParams, Rings]:
    rings = Rings.of(grid, options.rings)
    return fit(events, grid, options, rings, vague=vague), rings


def fit_on_grid(
    store: Store,
    kinds: frozenset[Kind],
    columns: ReportColumns,
    grid: Grid,
    bin_: Bin,
    fitter: Fitter = _one_process,
    extra: Json | None = None,
) -> FittedHazard:
    """Fit the model on ``columns`` over ``grid`` (by ``fitter``: one process, or a front's parts) and
    keep it, with its state, in the store."""
    first, last = float(columns.observed_s.min()), float(columns.observed_s.max())
    window = window_over(first, last, BIN_S[bin_.value])
    events, vague = split_events(columns, grid, window)
    if len(events) == 0:
        raise NotAvailableError(
            f"none of the {len(columns.one_per_incident())} incidents of these kinds can be placed on the model's"
            " cells (each spreads over a whole oblast, hromada or month: an air-raid alert, a vague report); they"
            " would inform a background only: nothing to fit"
        )
    params, rings = fitter(events, vague, grid, FitOptions())
    state = HazardState.after(params, grid, rings, events, last)
    names = tuple(sorted(k.value for k in kinds))
    summary: Json = {
        "cells": len(grid),
        "res": grid.res,
        **params.summary(),
        "background_only_incidents": round(vague.total, 2),
        "bin": bin_.value,
        **(extra or {}),
    }
    record = ModelRecord(
        FAMILY,
        names,
        STATE_FORMAT,
        time.time(),
        first,
        last,
        json.dumps(summary),
        json.dumps(state_to_dict(state, names)),
    )
    model_id = store.write_model(record)
    kept = dataclasses.replace(record, model_id=model_id)
    model = HazardModel(tuple(Kind(k) for k in names), json.loads(kept.state), kept)
    return FittedHazard(model, len(grid), grid.res, window, summary | {"model": model.name})


def _model_of(record: ModelRecord) -> HazardModel:
    if record.format != STATE_FORMAT:
        raise NotAvailableError(
            f"hazard model #{record.model_id} is in format {record.format!r}, not {STATE_FORMAT!r}:"
            " refit it with `greyzone hazard fit`"
        )
    return HazardModel(tuple(Kind(k) for k in record.kinds), json.loads(record.state), record)


def stored_models(store: Store) -> list[HazardModel]:
    """The newest model for each set of kinds, newest first."""
    return [_model_of(r) for r in store.read_models(FAMILY)]


def model_from_file(path: Path) -> HazardModel:
    """A model exported with ``hazard export`` (or written by an older greyzone beside its SQLite file)."""
    if not path.exists():
        raise NotAvailableError(f"no hazard model file at {path}: run `greyzone hazard fit`, then `hazard export`")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise InputError("model", f"{path} is not a greyzone hazard model ({STATE_FORMAT})")
    return HazardModel(tuple(Kind(k) for k in data["kinds"]), data, None, str(path))


def newest_model(store: Store, kinds: frozenset[Kind] | None = None) -> HazardModel:
    """The newest stored model (of exactly these kinds, when given)."""
    for m in stored_models(store):
        if kinds is None or frozenset(m.kinds) == kinds:
            return m
    which = f" of {', '.join(sorted(k.value for k in kinds))}" if kinds else ""
    raise NotAvailableError(f"no fitted hazard model{which} in the store: run `greyzone hazard fit` first")


def export_model(model: HazardModel) -> Json:
    """A stored model as JSON data (its state, with its fit figures and data span): what ``--model FILE`` reads."""
    record = model.record
    if record is None:
        return dict(model.data)
    fit_meta = {
        "model_id": record.model_id,
        "fitted_at": iso(record.fitted_at),
        "data_from": iso(record.data_from),
        "data_until": iso(record.data_until),
        "summary": json.loads(record.summary),
    }
    return dict(model.data) | {"fit": fit_meta}


def hazard_state(store: Store, model: HazardModel, until: datetime) -> HazardState:
    """The model's state as it stands at ``until``: every stored report since the fit folded in (no
    refit), or — for a time before the fit's newest data — rebuilt from the reports before it. A time
    before the model's first data is an InputError (there is nothing to answer from)."""
    state = model.state()
    first = state.params.window.t0_s
    if until.timestamp() < first:
        raise InputError("start", f"{until.isoformat()} is before the model's first data ({iso(first)})")
    since = datetime.fromtimestamp(state.as_of_s, UTC)
    w = state.params.window
    kinds = frozenset(model.kinds)
    if until < since:
        columns = hazard_columns(store, kinds, None, until=until)
        before = Window(w.t0_s, w.bin_s, max(int(w.bin_of(until.timestamp())), 1))
        events = events_of(columns, state.grid, before)
        newest = float(columns.observed_s.max()) if len(columns.lon) else -math.inf
        return HazardState.after(state.params, state.grid, state.rings, events, newest, state.stale_after_s)
    if until > since:
        columns = hazard_columns(store, kinds, None, since, until)
        if len(columns.lon):
            ahead = Window(w.t0_s, w.bin_s, int(w.bin_of(until.timestamp())) + 1)
            new = events_of(columns, state.grid, ahead)
            fresh = new.bin > state.now_bin - 1
            state.fold(new.cell[fresh], new.bin[fresh], new.n[fresh], float(columns.observed_s.max()))
    return state


def hazard_at(store: Store, model: HazardModel, lon: float, lat: float, when: datetime) -> HazardAnswer:
    """Expected events per km² per hour at a place and time, or unknown with the reason."""
    return hazard_state(store, model, when).at(lon, lat, when.timestamp())


@dataclass(frozen=True)
class Forecast:
    """Expected events per km² per hour for each cell and bin from ``first`` (None when stale: unknown)."""

    state: HazardState
    start: datetime
    first: int
    n_bins: int
    rate: Floats | None
    age_h: float
    usual: Floats | None = None  # the background alone (cells × bins): the level usual at that hour and place

    @property
    def fresh(self) -> bool:
        return self.rate is not None

    @property
    def as_of(self) -> str:
        return iso(self.state.as_of_s)

    @property
    def first_time(self) -> str:
        w = self.state.params.window
        return iso(w.t0_s + self.first * w.bin_s)

    def per_km2(self) -> Floats | None:
        """Expected events per km² over the whole horizon."""
        w = self.state.params.window
        return None if self.rate is None else self.rate.sum(axis=1) * w.bin_s / 3600

    def riskiest(self, top: int = 5) -> list[Json]:
        if self.rate is None:
            return []
        order = np.argsort(-self.rate.sum(axis=1))[:top]
        return [
            {"cell": h3.int_to_str(int(self.state.grid.cells[i])), "peak_events_per_km2_h": float(self.rate[i].max())}
            for i in order
        ]

    def to_geojson(self) -> Json:
        """The cells with their hourly rates (or *unknown*: stale data), with the forecast's as-of."""
        w = self.state.params.window
        features = []
        for i, cell in enumerate(self.state.grid.cells):
            boundary = [[lon, lat] for lat, lon in h3.api.basic_int.cell_to_boundary(int(cell))]
            props: Json = {
                "cell": h3.int_to_str(int(cell)),
                "as_of": self.as_of,
                "first": self.first_time,
                "bin_s": w.bin_s,
            }
            if self.rate is None:
                props |= {"status": "unknown", "events_per_km2_h": None}
            else:
                props |= {"status": "ok", "events_per_km2_h": [float(f"{v:.4g}") for v in self.rate[i]]}
            geometry = {"type": "Polygon", "coordinates": [[*boundary, boundary[0]]]}
            features.append({"type": "Feature", "properties": props, "geometry": geometry})
        status = "ok" if self.fresh else "unknown"
        return {
            "type": "FeatureCollection",
            "features": features,
            "status": status,
            "as_of": self.as_of,
            "data_age_h": round(self.age_h, 2),
            "usual_events_per_km2_h": self.usual_level(),
        }

    def usual_level(self) -> float | None:
        """The area's usual level: the background rate (no recent surge) over the cells and hours of the
        forecast, at the cells where there is any (the mean, events per km² per hour)."""
        if self.usual is None:
            return None
        where = self.usual.max(axis=1) > 0
        return float(f"{self.usual[where].mean():.4g}") if where.any() else 0.0


def hazard_forecast(store: Store, model: HazardModel, start: datetime, hours: int) -> Forecast:
    """The forecast for ``hours`` hours from ``start`` (the present bin is forecast as the next one)."""
    state = hazard_state(store, model, start)
    fresh, age_h = state.freshness(start.timestamp())
    w = state.params.window
    n_bins = max(1, math.ceil(hours * 3600 / w.bin_s))
    first = max(int(w.bin_of(start.timestamp())), state.now_bin + 1)
    background, triggered = state.expected(first, n_bins)
    per = state.grid.area_km2[:, None] * w.bin_s / 3600
    rate, usual = (background + triggered) / per, background / per
    return Forecast(state, start, first, n_bins, rate if fresh else None, age_h, usual if fresh else None)


@dataclass(frozen=True)
class BacktestRun:
    grid: Grid
    result: Backtest
    summary: Json


def backtest_hazard(
    store: Store,
    kinds: frozenset[Kind],
    split: datetime,
    test_days: int,
    res: int,
    bin_: Bin,
    bbox: BBox | None,
    refit_days: int,
    progress: Callable[[int], None] | None = None,
) -> BacktestRun:
    """Rolling one-day-ahead forecasts after ``split`` scored against what happened, beside two baselines."""
    columns = hazard_columns(
        store, kinds, bbox, until=datetime.fromtimestamp(split.timestamp() + test_days * 86_400, UTC)
    )
    grid = hazard_grid(columns, bbox, res)
    if split.timestamp() > float(columns.observed_s.max()):
        last = datetime.fromtimestamp(float(columns.observed_s.max()), UTC).date()
        raise InputError("train-until", f"the stored reports end on {last}: nothing to test after it")
    window = window_over(float(columns.observed_s.min()), split.timestamp() + test_days * 86_400, BIN_S[bin_.value])
    train_bins = int(window.bin_of(split.timestamp()))
    if train_bins < 14 * 86_400 / window.bin_s:
        raise InputError("train-until", "fewer than 14 days of data before it")
    precise, vague = split_events(columns, grid, window)
    occurrences = events_of(columns, grid, window, as_occurrences=True)
    result = backtest(
        grid, precise, occurrences, train_bins, test_days, refit_days=refit_days, progress=progress, vague=vague
    )
    summary: Json = {
        "test_days": test_days,
        "cells": len(grid),
        "res": res,
        "bin": bin_.value,
        "train_until": split.date().isoformat(),
        **result.summary(),
        "test_events": result.scores["model"].events,
        "reliability": [{n: getattr(r, n) for n in r.__slots__} for r in result.scores["model"].reliability_table()],
        "fitted": result.params[-1].summary() if result.params else None,
    }
    return BacktestRun(grid, result, summary)
