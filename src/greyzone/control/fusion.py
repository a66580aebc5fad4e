"""Who holds what: uncertain control observations fused per H3 cell (pure; no I/O).

The model, per cell, is a two-state hidden Markov model — the cell is held, or held by the other
side — filtered forward in time:

- **Prediction.** Control can change. Between observations the belief relaxes toward 50/50: the
  evidence for each side is multiplied by ``2 ** (-Δt / half_life)``. This is the forward pass of a
  Beta–Bernoulli filter with exponential forgetting, the closed form of an HMM whose switching
  probability per half-life is one half.
- **Update.** An observation of side s with reliability ρ (the probability that the observer is
  right) adds ``w · log(ρ / (1 − ρ))`` of evidence for s to each cell it covers, w being the spatial
  weight: 1 inside the observation's radius, then a Gaussian fall-off of scale ``smoothing_m`` over
  neighbouring cells (spatial smoothing: a block is likely held by whoever holds the next one).
  An area observation (a map polygon) covers the cells whose centres are inside it. An ``unknown``
  observation ("status not confirmed") adds evidence to neither side but marks the cell as seen.
- **Belief and state.** P(other side) = (a + E_other) / (2a + E_other + E_held), with a prior
  pseudo-count a. The state is *unconfirmed* when the recent evidence is below ``min_evidence`` (or
  the newest observation is older than ``horizon_days``), *contested* when the minority side holds at
  least ``contested_share`` of it (recent observations disagree), else *held* or *other side*.

Everything is arrays over the grid's cells, so folding one observation touches only the cells near
it, and the whole map is a few numpy operations. Replay is re-running the filter over the
observations up to a time (:meth:`ControlFusion.replay`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import h3
import numpy as np
import numpy.typing as npt
import shapely

from greyzone.model.enums import Side

Floats = npt.NDArray[np.float64]
DAY_S = 86_400.0


class ControlState(StrEnum):
    HELD = "held"
    OTHER_SIDE = "other_side"
    CONTESTED = "contested"
    UNCONFIRMED = "unconfirmed"


STATE_CODES = {s: i for i, s in enumerate(ControlState)}


@dataclass(frozen=True, slots=True)
class FusionParams:
    half_life_days: float = 4.0
    horizon_days: float = 21.0
    smoothing_m: float = 1500.0  # suits ~200 observers a day over 80 km x 80 km (see control/evaluate.py)
    contested_share: float = 0.45
    min_evidence: float = 0.3
    prior: float = 0.5


@dataclass(frozen=True, slots=True)
class Observation:
    """One observer's claim: this place (a point with a radius, or an area) is held by ``side``."""

    t_s: float
    side: Side
    reliability: float  # probability the observer is right, in (0.5, 1)
    lon: float = math.nan
    lat: float = math.nan
    radius_m: float = 0.0
    area: shapely.Geometry | None = None


@dataclass(frozen=True)
class Grid:
    """The H3 cells of a region at one resolution, with their centres (lon, lat) and areas."""

    res: int
    cells: npt.NDArray[np.int64]  # sorted
    lon: Floats
    lat: Floats
    area_km2: Floats
    index: dict[int, int] = field(repr=False)

    @staticmethod
    def from_polygon(polygon: shapely.Geometry, res: int) -> Grid:
        cells = sorted(h3.api.basic_int.geo_to_cells(polygon.__geo_interface__, res))
        centres = [h3.api.basic_int.cell_to_latlng(c) for c in cells]
        return Grid(
            res, np.array(cells, dtype=np.int64), np.array([c[1] for c in centres]), np.array([c[0] for c in centres]),
            np.array([h3.api.basic_int.cell_area(c, unit="km^2") for c in cells]), {c: i for i, c in enumerate(cells)},
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.cells)

    def near(self, lon: float, lat: float, reach_m: float) -> tuple[npt.NDArray[np.intp], Floats]:
        """Grid indices of the cells within ``reach_m`` of a point, and their distances (m)."""
        centre = h3.api.basic_int.latlng_to_cell(lat, lon, self.res)
        k = max(1, math.ceil(reach_m / (h3.average_hexagon_edge_length(self.res, unit="m") * 1.5)))
        found = [self.index[c] for c in h3.api.basic_int.grid_disk(centre, k) if c in self.index]
        idx = np.array(found, dtype=np.intp)
        return idx, _distance_m(lon, lat, self.lon[idx], self.lat[idx])

    def inside(self, area: shapely.Geometry) -> npt.NDArray[np.intp]:
        """Grid indices of the cells whose centres lie inside ``area``."""
        x0, y0, x1, y1 = area.bounds
        box = np.flatnonzero((self.lon >= x0) & (self.lon <= x1) & (self.lat >= y0) & (self.lat <= y1))
        hit = shapely.contains_xy(area, self.lon[box], self.lat[box])
        return np.asarray(box[hit], dtype=np.intp)


def _distance_m(lon: float, lat: float, lons: Floats, lats: Floats) -> Floats:
    k = math.cos(math.radians(lat))
    return np.asarray(np.hypot((lons - lon) * k, lats - lat) * 111_320.0, dtype=np.float64)


class ControlFusion:
    """The filter's state over one grid. Fold observations in time order; read states at any time."""

    def __init__(self, grid: Grid, params: FusionParams | None = None) -> None:
        self.grid = grid
        self.params = params or FusionParams()
        n = len(grid)
        self.held = np.zeros(n)
        self.other = np.zeros(n)
        self.as_of = np.full(n, -np.inf)  # time of the newest observation that touched the cell
        self.t_s = -np.inf  # the time the evidence is valid at

    def advance(self, t_s: float) -> None:
        """Predict to time ``t_s`` (evidence decays toward 50/50); time never goes back."""
        if t_s <= self.t_s:
            return
        if np.isfinite(self.t_s):
            factor = 2.0 ** (-(t_s - self.t_s) / (self.params.half_life_days * DAY_S))
            self.held *= factor
            self.other *= factor
        self.t_s = t_s

    def fold(self, obs: Observation) -> None:
        """Update with one observation (and predict to its time first)."""
        self.advance(obs.t_s)
        idx, weight = self._footprint(obs)
        if idx.size == 0:
            return
        self.as_of[idx] = np.maximum(self.as_of[idx], obs.t_s)
        if obs.side is Side.UNKNOWN:
            return
        rho = min(max(obs.reliability, 0.5001), 0.9999)
        evidence = weight * math.log(rho / (1 - rho))
        target = self.other if obs.side is Side.OTHER_SIDE else self.held
        np.add.at(target, idx, evidence)

    def fold_all(self, observations: Iterable[Observation]) -> None:
        for obs in sorted(observations, key=lambda o: o.t_s):
            self.fold(obs)

    def _footprint(self, obs: Observation) -> tuple[npt.NDArray[np.intp], Floats]:
        if obs.area is not None:
            idx = self.grid.inside(obs.area)
            return idx, np.ones(idx.size)
        s = self.params.smoothing_m
        idx, d = self.grid.near(obs.lon, obs.lat, obs.radius_m + 3 * s)
        outside = np.maximum(d - obs.radius_m, 0.0)
        return idx, np.exp(-0.5 * (outside / s) ** 2)

    def p_other(self) -> Floats:
        a = self.params.prior
        return np.asarray((a + self.other) / (2 * a + self.other + self.held), dtype=np.float64)

    def states(self, t_s: float | None = None) -> npt.NDArray[np.int8]:
        """A STATE_CODES code per cell, at ``t_s`` (default: the filter's time), never going back."""
        if t_s is not None:
            self.advance(t_s)
        p = self.params
        total = self.held + self.other
        minority = np.minimum(self.held, self.other)
        stale = self.as_of < self.t_s - p.horizon_days * DAY_S
        out = np.where(self.other > self.held, STATE_CODES[ControlState.OTHER_SIDE], STATE_CODES[ControlState.HELD])
        out = np.where(
            minority >= p.contested_share * np.maximum(total, 1e-12), STATE_CODES[ControlState.CONTESTED], out
        )
        out = np.where((total < p.min_evidence) | stale, STATE_CODES[ControlState.UNCONFIRMED], out)
        return out.astype(np.int8)

    @staticmethod
    def replay(grid: Grid, observations: Sequence[Observation], t_s: float, params: FusionParams | None = None
               ) -> ControlFusion:  # fmt: skip
        """The filter as it stood at ``t_s``: every observation up to then, folded in order."""
        fusion = ControlFusion(grid, params)
        fusion.fold_all(o for o in observations if o.t_s <= t_s)
        fusion.advance(t_s)
        return fusion

    def area_km2(self, states: npt.NDArray[np.int8], within: npt.NDArray[np.intp] | None = None) -> dict[str, float]:
        """Area (km²) in each state, over all cells or the cells at ``within``."""
        pick = slice(None) if within is None else within
        codes, areas = states[pick], self.grid.area_km2[pick]
        return {s.value: float(areas[codes == code].sum()) for s, code in STATE_CODES.items()}


@dataclass(frozen=True, slots=True)
class _Checkpoint:
    boundary_s: float  # no observation folded into it is later than this
    next_obs: int  # the first observation not folded into it
    t_s: float  # the filter's time (its last observation's)
    held: Floats
    other: Floats
    as_of: Floats


class ControlHistory:
    """The filter run once over all observations, with a checkpoint every ``every_days``: the map as it
    stood at any past time is the last checkpoint before it plus the few observations since.

    A checkpoint is the state right after the last observation before its boundary, so continuing from
    it repeats exactly the arithmetic of a full replay: the result is identical, not approximate.
    """

    def __init__(self, grid: Grid, observations: Sequence[Observation], params: FusionParams | None = None,
                 every_days: float = 4.0) -> None:  # fmt: skip
        self.grid, self.params = grid, params or FusionParams()
        self.observations = sorted(observations, key=lambda o: o.t_s)
        self.checkpoints: list[_Checkpoint] = []
        fusion = ControlFusion(grid, self.params)
        step = every_days * DAY_S
        boundary = self.observations[0].t_s + step if self.observations else math.inf
        for i, obs in enumerate(self.observations):
            while obs.t_s > boundary:
                self.checkpoints.append(_Checkpoint(boundary, i, fusion.t_s, fusion.held.copy(), fusion.other.copy(),
                                                    fusion.as_of.copy()))  # fmt: skip
                boundary += step
            fusion.fold(obs)
        self.latest = fusion

    def at(self, t_s: float) -> ControlFusion:
        """The filter as it stood at ``t_s`` (identical to :meth:`ControlFusion.replay`)."""
        fusion = ControlFusion(self.grid, self.params)
        start = 0
        earlier = [c for c in self.checkpoints if c.boundary_s <= t_s]
        if earlier:
            c = earlier[-1]
            fusion.held, fusion.other, fusion.as_of, fusion.t_s = c.held.copy(), c.other.copy(), c.as_of.copy(), c.t_s
            start = c.next_obs
        for obs in self.observations[start:]:
            if obs.t_s > t_s:
                break
            fusion.fold(obs)
        fusion.advance(t_s)
        return fusion
