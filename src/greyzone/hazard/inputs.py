"""From stored reports (as plain columns) to the model's events, and the fitted state to plain data
and back (pure: the caller reads the store and the files).

Reports of one incident count once: the most precisely located report stands for it (for an alert,
the widest). Air-raid alerts are in force over their whole region (they *cover* it); other reports
are one event somewhere within their precision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from greyzone.hazard.events import Events, Window, to_events
from greyzone.hazard.forecast import HazardState
from greyzone.hazard.model import HawkesParams, Rings
from greyzone.model.enums import Kind
from greyzone.model.grid import Grid

Floats = npt.NDArray[np.float64]
COVERING_KINDS = frozenset({Kind.AIR_RAID_ALERT.value})
BIN_S = {"hour": 3600.0, "day": 86_400.0}


@dataclass(frozen=True)
class ReportColumns:
    """The columns of stored reports the hazard needs (one row per report, any order)."""

    incident: npt.NDArray[np.int64]
    kind: Sequence[str]
    observed_s: Floats
    span_s: Floats
    lon: Floats
    lat: Floats
    location_precision_m: Floats

    def one_per_incident(self) -> npt.NDArray[np.intp]:
        """Row indices: for each incident, its most precisely located report — or, for an alert, its
        widest (an oblast alert and a hromada alert of the same moment: in force over the oblast)."""
        covers = np.array([k in COVERING_KINDS for k in self.kind], dtype=bool)
        key = np.where(covers, -self.location_precision_m, self.location_precision_m)
        order = np.lexsort((key, self.incident))
        first = np.ones(order.size, dtype=bool)
        first[1:] = self.incident[order][1:] != self.incident[order][:-1]
        return np.asarray(order[first], dtype=np.intp)


def window_over(first_s: float, last_s: float, bin_s: float) -> Window:
    """Whole bins (UTC-aligned) from the first report's to the last report's (the last bin holds it)."""
    t0 = math.floor(first_s / bin_s) * bin_s
    return Window(t0, bin_s, max(1, math.floor((last_s - t0) / bin_s) + 1))


def events_of(
    columns: ReportColumns, grid: Grid, window: Window, *, as_occurrences: bool = False, max_spread: float = math.inf
) -> Events:
    """One event per incident spread over its precision (``as_occurrences``: at its time and its own
    cell, or over the cells it covers — what a forecast is scored against). Incidents that would
    spread over more than ``max_spread`` cell-bins are left out (see :func:`split_events`)."""
    rows = columns.one_per_incident()
    covers = np.array([columns.kind[i] in COVERING_KINDS for i in rows], dtype=bool)
    precision = columns.location_precision_m[rows]
    span = columns.span_s[rows]
    if as_occurrences:
        precision = np.where(covers, precision, 0.0)
        span = np.zeros(rows.size)
    keep = spread_of(grid, window, precision, span) <= max_spread
    return to_events(
        grid,
        window,
        columns.lon[rows][keep],
        columns.lat[rows][keep],
        precision[keep],
        columns.observed_s[rows][keep],
        span[keep],
        covers[keep],
    )


def split_events(columns: ReportColumns, grid: Grid, window: Window, max_spread: float = 64.0) -> tuple[Events, Events]:
    """(precise, vague): incidents spread over at most ``max_spread`` cell-bins, and the others —
    an oblast-wide or month-long report, which the fit uses for the background only."""
    precise = events_of(columns, grid, window, max_spread=max_spread)
    rows = columns.one_per_incident()
    vague_rows = spread_of(grid, window, columns.location_precision_m[rows], columns.span_s[rows]) > max_spread
    if not vague_rows.any():
        return precise, Events(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), window)
    sub = ReportColumns(
        columns.incident[rows][vague_rows],
        [columns.kind[i] for i in rows[vague_rows]],
        columns.observed_s[rows][vague_rows],
        columns.span_s[rows][vague_rows],
        columns.lon[rows][vague_rows],
        columns.lat[rows][vague_rows],
        columns.location_precision_m[rows][vague_rows],
    )
    return precise, events_of(sub, grid, window)


def spread_of(grid: Grid, window: Window, precision_m: Floats, span_s: Floats) -> Floats:
    """About how many of the grid's cell-bins each report spreads over."""
    disc = np.pi * (precision_m / 1000.0) ** 2 / float(grid.area_km2.mean())
    cells = np.clip(disc, 1.0, len(grid))
    return np.asarray(cells * np.maximum(span_s / window.bin_s, 1.0), dtype=np.float64)


def state_to_dict(state: HazardState, kinds: Sequence[str]) -> dict[str, Any]:
    """Everything needed to answer from a fitted state later, as JSON-ready data."""
    p = state.params
    return {
        "format": "greyzone-hazard/1",
        "kinds": list(kinds),
        "res": state.grid.res,
        "cells": [int(c) for c in state.grid.cells],
        "rings": state.rings.k_max,
        "window": [p.window.t0_s, p.window.bin_s, p.window.n_bins],
        "n_phase": p.n_phase,
        "mu": p.mu.tolist(),
        "profile": p.profile.tolist(),
        "trend": p.trend.tolist(),
        "theta": p.theta.tolist(),
        "q": p.q,
        "loglik": p.loglik,
        "n_events": p.n_events,
        "iterations": p.iterations,
        "se": p.se,
        "excitation": state.excitation.tolist(),
        "now_bin": state.now_bin,
        "as_of_s": state.as_of_s,
        "stale_after_s": state.stale_after_s,
    }


def state_from_dict(data: dict[str, Any]) -> HazardState:
    """The state :func:`state_to_dict` wrote."""
    grid = Grid.from_cells(np.array(data["cells"], dtype=np.int64), int(data["res"]))
    window = Window(float(data["window"][0]), float(data["window"][1]), int(data["window"][2]))
    params = HawkesParams(
        np.array(data["mu"]),
        np.array(data["profile"]),
        np.array(data["trend"]),
        np.array(data["theta"]),
        float(data["q"]),
        window,
        int(data["n_phase"]),
        float(data["loglik"]),
        float(data["n_events"]),
        int(data["iterations"]),
        dict(data["se"]),
    )
    return HazardState(
        params,
        grid,
        Rings.of(grid, int(data["rings"])),
        np.array(data["excitation"]),
        int(data["now_bin"]),
        float(data["as_of_s"]),
        float(data["stale_after_s"]),
    )
