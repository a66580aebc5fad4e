"""What the fused control map gives people (pure): polygons per state with their "as of", the share
of a place in each state, and the log of cells that changed state.

Also the bridge from stored reports: a ``control_observation`` report becomes an Observation, its
credibility c in [0, 1] read as the reliability 0.5 + c / 2 (a report with no credibility is a
coin toss; a certain one is always right).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import h3
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape

from greyzone.control.fusion import STATE_CODES, ControlFusion, ControlState, Observation
from greyzone.model.enums import Kind
from greyzone.model.report import Report

CODE_STATES = {code: state for state, code in STATE_CODES.items()}


def observations_from_reports(reports: Iterable[Report]) -> list[Observation]:
    """The control observations among ``reports`` (others are skipped), in time order."""
    out = []
    for r in reports:
        if r.kind is not Kind.CONTROL_OBSERVATION or r.side is None:
            continue
        area = shapely.from_wkb(r.area_wkb) if r.area_wkb is not None else None
        radius = 0.0 if area is not None else r.location_precision_m
        out.append(Observation(r.observed_at.timestamp(), r.side, 0.5 + r.credibility / 2, r.lon, r.lat, radius, area))
    return sorted(out, key=lambda o: o.t_s)


@dataclass(frozen=True, slots=True)
class StateArea:
    state: ControlState
    geometry: shapely.Geometry  # dissolved cells, lon/lat
    area_km2: float
    as_of_s: float  # the newest observation behind any of its cells (-inf: none)


def state_areas(fusion: ControlFusion, states: npt.NDArray[np.int8]) -> list[StateArea]:
    """One dissolved (multi)polygon per state present, with its area and "as of"."""
    out = []
    for state, code in STATE_CODES.items():
        idx = np.flatnonzero(states == code)
        if idx.size == 0:
            continue
        cells = [h3.int_to_str(int(c)) for c in fusion.grid.cells[idx]]
        geometry = shape(h3.cells_to_geo(cells))
        out.append(StateArea(state, geometry, float(fusion.grid.area_km2[idx].sum()), float(fusion.as_of[idx].max())))
    return out


def place_shares(fusion: ControlFusion, states: npt.NDArray[np.int8], place: shapely.Geometry) -> dict[str, float]:
    """The share (0-1) of ``place`` in each state (cells whose centres are inside it)."""
    idx = fusion.grid.inside(place)
    areas = fusion.area_km2(states, idx)
    total = sum(areas.values())
    return {k: (v / total if total else 0.0) for k, v in areas.items()}


@dataclass(frozen=True, slots=True)
class Change:
    cell: int
    before: ControlState
    after: ControlState
    at_s: float
    evidence_as_of_s: float  # the newest observation behind the new state


def changes(
    fusion: ControlFusion, before: npt.NDArray[np.int8], after: npt.NDArray[np.int8], at_s: float
) -> list[Change]:
    """The cells whose state differs between two maps of the same grid."""
    idx = np.flatnonzero(before != after)
    return [
        Change(
            int(fusion.grid.cells[i]),
            CODE_STATES[int(before[i])],
            CODE_STATES[int(after[i])],
            at_s,
            float(fusion.as_of[i]),
        )
        for i in idx.tolist()
    ]
