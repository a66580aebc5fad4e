"""Products read from a store (any backend) and the hazard model file: what the CLI and the service
both answer with — the hazard state at a time, the rates and control states a route needs, the
fused control observations, the forecast as GeoJSON. Edge code: the pure core does the work."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import h3
import numpy as np

from greyzone.errors import NotAvailableError
from greyzone.model.enums import Kind
from greyzone.store.base import ReportQuery


def hazard_columns(
    store: Any,
    kinds: frozenset[Kind],
    bbox: tuple[float, float, float, float] | None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Any:
    """The stored reports of these kinds as the hazard model's columns (one row per report)."""
    from greyzone.hazard.inputs import COVERING_KINDS, ReportColumns

    covering = any(k.value in COVERING_KINDS for k in kinds)  # an alert centred outside may cover the box
    f = store.read_frame(ReportQuery(since=since, until=until, kinds=kinds, bbox=None if covering else bbox))
    return ReportColumns(f.incident, f.kind, f.observed_s, f.span_s, f.lon, f.lat, f.location_precision_m)


def hazard_state(store: Any, path: Path, until: datetime) -> Any:
    """The saved state as it stands at ``until``: every stored report since the fit folded in (no
    refit), or — for a time before the fit's newest data — rebuilt from the reports before it."""
    from greyzone.hazard.events import Window
    from greyzone.hazard.forecast import HazardState
    from greyzone.hazard.inputs import events_of, state_from_dict

    if not path.exists():
        raise NotAvailableError(f"no fitted hazard model at {path}: run `greyzone hazard fit` first")
    data = json.loads(path.read_text(encoding="utf-8"))
    state = state_from_dict(data)
    since = datetime.fromtimestamp(state.as_of_s, UTC)
    w = state.params.window
    kinds = frozenset(Kind(k) for k in data["kinds"])
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


def forecast_geojson(state: Any, rate: Any, as_of: str, window: Any, first: int) -> dict[str, Any]:
    """The forecast's cells with their hourly rates (or *unknown* when ``rate`` is None: stale data)."""
    features = []
    for i, cell in enumerate(state.grid.cells):
        boundary = [[lon, lat] for lat, lon in h3.api.basic_int.cell_to_boundary(int(cell))]
        props: dict[str, Any] = {
            "cell": h3.int_to_str(int(cell)),
            "as_of": as_of,
            "first": datetime.fromtimestamp(window.t0_s + first * window.bin_s, UTC).isoformat(),
            "bin_s": window.bin_s,
        }
        if rate is None:
            props |= {"status": "unknown", "events_per_km2_h": None}
        else:
            props |= {"status": "ok", "events_per_km2_h": [float(f"{v:.4g}") for v in rate[i]]}
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Polygon", "coordinates": [[*boundary, boundary[0]]]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def control_observations(store: Any, until: datetime) -> list[Any]:
    """The stored control observations up to ``until``, in time order."""
    from greyzone.control.products import observations_from_reports

    query = ReportQuery(until=until, kinds=frozenset({Kind.CONTROL_OBSERVATION}))
    return observations_from_reports(store.read_reports(query))


def control_grid(observations: list[Any], res: int) -> Any:
    """The H3 grid over the observed points (with a margin of ~5 km)."""
    from shapely.geometry import box

    from greyzone.model.grid import Grid

    lons = [o.lon for o in observations if o.area is None]
    lats = [o.lat for o in observations if o.area is None]
    if not lons:
        raise NotAvailableError("no control observations with a place stored before that time")
    return Grid.from_polygon(box(min(lons) - 0.05, min(lats) - 0.05, max(lons) + 0.05, max(lats) + 0.05), res)


def fused_control(store: Any, when: datetime, res: int) -> Any:
    """The control map fused from every stored observation before ``when``."""
    from greyzone.control.fusion import ControlFusion

    observations = control_observations(store, when)
    if not observations:
        raise NotAvailableError("no control observations stored before that time")
    fusion = ControlFusion(control_grid(observations, res))
    fusion.fold_all(observations)
    return fusion


def route_rates(
    store: Any, paths: list[Path], graph: Any, profile: Any, hour0: datetime, hours: int
) -> tuple[dict[Any, Any] | None, list[str]]:
    """Hazard rates per street for ``hours`` hours from ``hour0`` (streets × hours), from each fresh model
    (conservatively as its most harmful kind for this mode); notes say what was left out."""
    from greyzone.routing.exposure import EFFECT_KM2

    rates: dict[Any, Any] = {}
    notes: list[str] = []
    middle = np.array(
        [
            graph.shape_lonlat[a:b].mean(axis=0)
            for a, b in zip(graph.shape_offset[:-1], graph.shape_offset[1:], strict=True)
        ]
    )
    start = hour0.timestamp()
    for path in paths:
        if not path.exists():
            notes.append(f"no hazard model at {path}: risk unknown (run `greyzone hazard fit`)")
            continue
        state = hazard_state(store, path, hour0)
        fresh, age_h = state.freshness(start)
        if not fresh:
            notes.append(f"hazard model {path.name} is {age_h:.0f} h old: left out, risk unknown")
            continue
        kinds = [Kind(k) for k in json.loads(path.read_text(encoding="utf-8"))["kinds"]]
        kind = max(kinds, key=lambda k: EFFECT_KM2.get(k, 0.01) * profile.vulnerability.get(k, 1.0))
        cell, _ = state.grid.nearest(middle[:, 0], middle[:, 1])
        window = state.params.window
        bins = window.bin_of(start + 3600.0 * np.arange(hours))  # the model's bin of each hour
        first = max(int(bins[0]), state.now_bin + 1)  # the present bin is forecast as the next one
        by_bin = state.segment_rates(np.asarray(cell, dtype=np.int64), first, max(1, int(bins[-1]) - first + 1))
        hourly = by_bin[:, np.clip(bins - first, 0, by_bin.shape[1] - 1)]
        rates[kind] = rates.get(kind, 0.0) + hourly
    return (rates or None), notes


def route_control(store: Any, graph: Any, when: datetime, notes: list[str]) -> Any:
    """Control state per street at ``when`` from the fused map, or None (with a note) when nothing is known."""
    from greyzone.routing.exposure import edge_states

    try:
        fusion = fused_control(store, when, 8)
    except NotAvailableError:
        notes.append("no control observations stored: the route ignores who holds what")
        return None
    cell, _ = fusion.grid.nearest(graph.shape_lonlat[:, 0], graph.shape_lonlat[:, 1])
    return edge_states(graph, fusion.states(when.timestamp())[cell])


@dataclass(frozen=True)
class Departures:
    """The routes for each departure (UTC), the index of the best, and what they were planned on."""

    starts: list[datetime]
    routes: list[Any]  # RoutePlan, one per start
    best: int
    notes: list[str]
    rates: dict[Any, Any] | None
    states: Any
    offsets: Any  # seconds of each start after the start of its first hour


def plan_departures(
    store: Any,
    models: list[Path],
    graph: Any,
    profile: Any,
    origin: int,
    destination: int,
    starts: list[datetime],
    grey_penalty: float | None = 10.0,
) -> Departures:
    """The least-exposure route for each departure with the stored hazard and control (6 hours of
    forecast past the last one: long walks cross hours), and the best of them."""
    from greyzone.routing.planner import Planner, best_departure

    hour0 = starts[0].replace(minute=0, second=0, microsecond=0)
    hours = math.ceil((starts[-1] - hour0).total_seconds() / 3600) + 6
    rates, notes = route_rates(store, models, graph, profile, hour0, hours)
    states = route_control(store, graph, starts[0], notes)
    offsets = np.array([(t - hour0).total_seconds() for t in starts])
    best, routes = best_departure(Planner(graph, profile, rates, states, grey_penalty), origin, destination, offsets)
    notes += [routes[best].note] if routes[best].note else []
    return Departures(starts, routes, best, notes, rates, states, offsets)


def route_line(graph: Any, edges: Any) -> list[list[float]]:
    """The route's shape: the points of its streets in order (lon, lat)."""
    return [
        p
        for e in edges.tolist()
        for p in graph.shape_lonlat[graph.shape_offset[e] : graph.shape_offset[e + 1]].tolist()
    ]


def riskiest_rows(route: Any, depart: datetime) -> list[dict[str, Any]]:
    """The streets that carry most of a route's risk: share, threat and the time one enters each."""
    return [
        {
            "street": s.name or f"#{s.edge}",
            "share": round(s.share, 3),
            "threat": s.threat.value if s.threat else None,
            "entered": (depart + timedelta(minutes=s.minute)).isoformat(),
        }
        for s in route.riskiest
    ]
