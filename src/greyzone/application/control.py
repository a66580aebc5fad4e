"""Who holds what: the fused control map, a place's shares, a cell's or a place's history, evaluation."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import h3
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Point, box

from greyzone.application.reports import Json
from greyzone.control.evaluate import Evaluation, cells_near, evaluate, fill_days, road_cells, truth_states
from greyzone.control.fusion import DAY_S, ControlFusion, ControlHistory, Observation
from greyzone.control.products import CODE_STATES, StateArea, observations_from_reports, place_shares, state_areas
from greyzone.errors import InputError, NotAvailableError
from greyzone.ingest.deepstate import status_by_day
from greyzone.ingest.gazetteer import Gazetteer
from greyzone.ingest.geojson import read_lines
from greyzone.model.enums import Kind
from greyzone.model.grid import Grid
from greyzone.store.base import ReportQuery, Store

NEVER = -1e300  # as-of of a cell nothing was ever observed in


def control_observations(store: Store, until: datetime) -> list[Observation]:
    """The stored control observations up to ``until``, in time order."""
    query = ReportQuery(until=until, kinds=frozenset({Kind.CONTROL_OBSERVATION}))
    return observations_from_reports(store.read_reports(query))


def observations_or_refuse(store: Store, until: datetime) -> list[Observation]:
    observations = control_observations(store, until)
    if not observations:
        raise NotAvailableError("no control observations stored before that time")
    return observations


def control_grid(observations: list[Observation], res: int) -> Grid:
    """The H3 grid over the observed points (with a margin of ~5 km)."""
    lons = [o.lon for o in observations if o.area is None]
    lats = [o.lat for o in observations if o.area is None]
    if not lons:
        raise NotAvailableError("no control observations with a place stored before that time")
    return Grid.from_polygon(box(min(lons) - 0.05, min(lats) - 0.05, max(lons) + 0.05, max(lats) + 0.05), res)


def fused_control(store: Store, when: datetime, res: int) -> ControlFusion:
    """The control map fused from every stored observation before ``when``."""
    observations = observations_or_refuse(store, when)
    fusion = ControlFusion(control_grid(observations, res))
    fusion.fold_all(observations)
    return fusion


def as_of_text(t_s: float) -> str | None:
    return datetime.fromtimestamp(t_s, UTC).isoformat() if t_s > NEVER else None


@dataclass(frozen=True)
class ControlMap:
    """The fused map at a time: one dissolved area per state, each with its "as of"."""

    at: datetime
    res: int
    cells: int
    areas: list[StateArea]

    def rows(self) -> list[Json]:
        return [
            {"state": a.state.value, "area_km2": round(a.area_km2, 2), "as_of": as_of_text(a.as_of_s)}
            for a in self.areas
        ]

    def to_geojson(self) -> Json:
        features = [
            {"type": "Feature", "geometry": json.loads(shapely.to_geojson(a.geometry)), "properties": row}
            for a, row in zip(self.areas, self.rows(), strict=True)
        ]
        return {"type": "FeatureCollection", "features": features, "at": self.at.isoformat()}


def control_map(store: Store, when: datetime, res: int) -> ControlMap:
    fusion = fused_control(store, when, res)
    return ControlMap(when, res, len(fusion.grid), state_areas(fusion, fusion.states(when.timestamp())))


def place_disc(gazetteer_dir: Path, place: str) -> shapely.Geometry:
    """A place the gazetteer knows, as a disc of its precision."""
    lon, lat, radius_m = Gazetteer.from_dir(gazetteer_dir).resolve(place)
    return Point(lon, lat).buffer(radius_m / 111_320.0)


def place_share(store: Store, gazetteer_dir: Path, place: str, when: datetime, res: int) -> dict[str, float]:
    """The share (0-1) of a place held, other side, contested or unconfirmed."""
    disc = place_disc(gazetteer_dir, place)
    fusion = fused_control(store, when, res)
    return place_shares(fusion, fusion.states(when.timestamp()), disc)


def day_text(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, UTC).strftime("%Y-%m-%d")


def _history(store: Store, res: int) -> tuple[Grid, ControlHistory, list[float]]:
    observations = observations_or_refuse(store, datetime.now(UTC))
    grid = control_grid(observations, res)
    history = ControlHistory(grid, observations)
    first, last = history.observations[0].t_s, history.observations[-1].t_s
    days = [first - first % DAY_S + DAY_S * (i + 1) for i in range(int((last - first) // DAY_S) + 1)]
    return grid, history, days


def cell_history(store: Store, cell: str, res: int) -> tuple[list[Json], int]:
    """The days a cell's state changed, with the evidence's date; and the days looked at."""
    grid, history, days = _history(store, res)
    if not h3.is_valid_cell(cell) or h3.str_to_int(cell) not in grid.index:
        raise InputError("cell", f"not a cell of the map at res {res}: {cell!r}")
    i = grid.index[h3.str_to_int(cell)]
    rows: list[Json] = []
    previous = None
    for t in days:
        state_now = history.at(t)
        state = CODE_STATES[int(state_now.states(t)[i])].value
        if state != previous:
            as_of = state_now.as_of[i]
            rows.append(
                {"day": day_text(t), "state": state, "evidence_as_of": day_text(as_of) if as_of > NEVER else None}
            )
            previous = state
    return rows, len(days)


def place_history(store: Store, gazetteer_dir: Path, place: str, res: int) -> tuple[list[Json], int]:
    """A place's shares day by day; and the days looked at."""
    disc = place_disc(gazetteer_dir, place)
    _, history, days = _history(store, res)
    rows: list[Json] = []
    for t in days:
        state_now = history.at(t)
        shares = place_shares(state_now, state_now.states(t), disc)
        rows.append({"day": day_text(t), **{k: round(v, 3) for k, v in shares.items()}})
    return rows, len(days)


@dataclass(frozen=True)
class EvaluationRun:
    """The fused map scored against real snapshots with simulated observers, beside the naive map."""

    grid: Grid
    dates: list[str]
    truths: list[npt.NDArray[np.int8]]
    start_s: float
    result: Evaluation
    summary: Json = field(default_factory=dict)
    glitch_dates: list[str] = field(default_factory=list)  # days the truth lost and regained ground at once
    centre_misled_dates: list[str] = field(default_factory=list)  # days the centre was called held wrongly


@dataclass(frozen=True, slots=True)
class EvaluationOptions:
    obs_per_day: int = 200
    noise: float = 0.1
    res: int = 7
    seed: int = 0
    bbox: tuple[float, float, float, float] | None = None
    roads: Path | None = None
    road_share: float = 0.5
    near: tuple[float, float] | None = None  # score only the cells within radius_km of this point
    radius_km: float = 8.0


def evaluate_control(truth: Path, o: EvaluationOptions) -> EvaluationRun:
    """Score the fusion on ``truth`` (DeepStateMap-style status snapshots)."""
    days = status_by_day(truth)
    if not days:
        raise InputError(
            "truth", "no published states in that file (status snapshots: snapshot_utc, status; daily occupied: date)"
        )
    shapes = [g for d in days.values() for g in d.values()]
    bounds = (
        min(g.bounds[0] for g in shapes),
        min(g.bounds[1] for g in shapes),
        max(g.bounds[2] for g in shapes),
        max(g.bounds[3] for g in shapes),
    )
    grid = Grid.from_polygon(box(*(o.bbox or bounds)), o.res)
    snapshots = [truth_states(grid, d.get("occupied"), d.get("unknown_status")) for d in days.values()]
    dates, truths = fill_days(list(days), snapshots)
    start = datetime.fromisoformat(dates[0]).replace(tzinfo=UTC).timestamp()
    on_roads = road_cells(grid, read_lines(o.roads)) if o.roads is not None else None
    share = o.road_share if o.roads is not None else 0.0
    scored = cells_near(grid, *o.near, o.radius_km) if o.near is not None else None
    centre = int(grid.nearest(np.array([o.near[0]]), np.array([o.near[1]]))[0][0]) if o.near is not None else None
    if scored is not None and not scored.size:
        raise InputError("near", f"no cell of the map within {o.radius_km} km of {o.near}")
    result = evaluate(
        grid,
        truths,
        start,
        o.obs_per_day,
        o.noise,
        seed=o.seed,
        road_cells=on_roads,
        road_share=share,
        scored=scored,
        centre=centre,
    )
    summary: Json = {
        "days": len(result.scores),
        "cells": len(grid),
        "res": o.res,
        "obs_per_day": o.obs_per_day,
        "noise": o.noise,
        **result.summary(),
    }
    glitches = [dates[d] for d in result.summary()["glitch_days"]]
    summary["glitch_days"] = glitches
    misled = [dates[d] for d in result.summary()["centre_misled_days"]]
    summary["centre_misled_days"] = misled
    summary["scored_cells"] = len(grid) if scored is None else int(scored.size)
    return EvaluationRun(grid, dates, truths, start, result, summary, glitches, misled)


def sweep_control(run: EvaluationRun, seed: int, on_step: Callable[[], None] | None = None) -> list[dict[str, float]]:
    """The fused and naive scores for 50/100/200/500 observers a day × 0/10/20 % wrong reports (the
    figures of each, without the list of glitch days)."""
    rows: list[dict[str, float]] = []
    for n in (50, 100, 200, 500):
        for noise in (0.0, 0.1, 0.2):
            figures = evaluate(run.grid, run.truths, run.start_s, n, noise, seed=seed).summary()
            figures.pop("glitch_days", None)
            rows.append({"obs_per_day": n, "noise": noise, **figures})
            if on_step is not None:
                on_step()
    return rows
