"""Who holds what: uncertain control observations fused per H3 cell (pure; no I/O).

The model, per cell, is a hidden Markov model — the cell is held, held by the other side, or held by
neither (grey) — filtered forward in time, with evidence kept per state:

- **Prediction.** Control can change. Between observations the belief relaxes toward ignorance: the
  evidence for each state is multiplied by ``2 ** (-Δt / half_life)``. This is the forward pass of a
  Beta–Bernoulli filter with exponential forgetting, the closed form of an HMM whose switching
  probability per half-life is one half.
- **Update.** An observation of side s with reliability ρ (the probability that the observer is
  right) adds ``w · log(ρ / (1 − ρ))`` of evidence for s to each cell it covers, w being the spatial
  weight: 1 inside the observation's radius, then a Gaussian fall-off of scale ``smoothing_m`` over
  neighbouring cells (spatial smoothing: a block is likely held by whoever holds the next one).
  An area observation (a map polygon) covers the cells whose centres are inside it. An ``unknown``
  observation ("status not confirmed", the grey zone) adds the same evidence to a third row, *grey*.
- **Neighbourhood prior.** The same evidence is also kept on a coarser grid blurred at
  ``context_m`` (4 km) and forgotten more slowly; each cell reads its coarse cell's shares as a prior
  of ``context_weight`` pseudo-evidence. Where a cell has little evidence of its own (the first days,
  a lone wrong-side report far from the front) the neighbourhood decides; where it has plenty, its
  own evidence does — a kernel that widens where observers are sparse, like the k-nearest vote, but
  weighed by time and reliability. On the real 2024–2025 maps this prior lifts the worst day after
  warm-up from 0.69 to 0.80+ (see ``benchmarks/control_accuracy.py``).
- **Belief and state.** With E the cell's evidence plus its prior, P(other side) =
  (a + E_other) / (2a + E_other + E_held), a being a prior pseudo-count. The state is *unconfirmed*
  when the cell's own recent evidence is below ``min_evidence``, its newest observation is older than
  ``horizon_days``, or grey evidence outweighs both sides (recent reports say nobody's control is
  confirmed); *contested* when the minority side holds at least ``contested_share`` of the sided
  evidence (recent observations disagree); else *held* or *other side*.

Everything is arrays over the grid's cells, so folding one observation touches only the cells near
it, and the whole map is a few numpy operations. Replay is re-running the filter over the
observations up to a time (:meth:`ControlFusion.replay`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import h3
import numpy as np
import numpy.typing as npt
import shapely

from greyzone.model.enums import Side
from greyzone.model.grid import Grid

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
    half_life_days: float = 2.5
    horizon_days: float = 21.0
    smoothing_m: float = 1200.0  # suits ~200 observers a day over 80 km x 80 km (see control/evaluate.py)
    context_m: float = 4000.0  # the neighbourhood whose evidence is a cell's prior
    context_weight: float = 2.0  # that prior's strength, in evidence units (one sure report ≈ 1.7)
    context_half_life_days: float = 6.0  # the neighbourhood changes more slowly than a block
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


HELD_ROW, OTHER_ROW, GREY_ROW = 0, 1, 2
_ROWS = {Side.HELD: HELD_ROW, Side.OTHER_SIDE: OTHER_ROW}  # any other side ("unknown") is grey evidence


def context_resolution(res: int, context_m: float) -> int:
    """The coarsest H3 resolution (not finer than ``res``) whose cells resolve a ``context_m`` blur."""
    for r in range(0, res + 1):
        if h3.average_hexagon_edge_length(r, unit="m") <= context_m / 3:
            return r
    return res


class ControlFusion:
    """The filter's state over one grid. Fold observations in time order; read states at any time.

    ``evidence`` holds three rows per cell (held, other side, grey) on the grid; ``context`` the same
    over a coarser grid blurred at ``context_m``, read as the prior of the cells inside each coarse cell.
    """

    def __init__(self, grid: Grid, params: FusionParams | None = None) -> None:
        self.grid = grid
        self.params = p = params or FusionParams()
        self.evidence = np.zeros((3, len(grid)))
        self.as_of = np.full(len(grid), -np.inf)  # time of the newest observation that touched the cell
        self.t_s = -np.inf  # the time the evidence is valid at
        self.context_grid, self.context_of = _context_grid(grid, context_resolution(grid.res, p.context_m))
        self.context = np.zeros((3, len(self.context_grid)))

    @property
    def held(self) -> Floats:
        return np.asarray(self.evidence[HELD_ROW])

    @property
    def other(self) -> Floats:
        return np.asarray(self.evidence[OTHER_ROW])

    @property
    def grey(self) -> Floats:
        return np.asarray(self.evidence[GREY_ROW])

    def advance(self, t_s: float) -> None:
        """Predict to time ``t_s`` (evidence decays toward 50/50); time never goes back."""
        if t_s <= self.t_s:
            return
        if np.isfinite(self.t_s):
            dt = t_s - self.t_s
            self.evidence *= 2.0 ** (-dt / (self.params.half_life_days * DAY_S))
            self.context *= 2.0 ** (-dt / (self.params.context_half_life_days * DAY_S))
        self.t_s = t_s

    def fold(self, obs: Observation) -> None:
        """Update with one observation (and predict to its time first)."""
        self.advance(obs.t_s)
        rho = min(max(obs.reliability, 0.5001), 0.9999)
        strength = math.log(rho / (1 - rho))
        row = _ROWS.get(obs.side, GREY_ROW)
        idx, weight = _footprint(self.grid, obs, self.params.smoothing_m)
        if idx.size:
            self.as_of[idx] = np.maximum(self.as_of[idx], obs.t_s)
            np.add.at(self.evidence[row], idx, strength * weight)
        idx, weight = _footprint(self.context_grid, obs, self.params.context_m)
        if idx.size:
            np.add.at(self.context[row], idx, strength * weight)

    def fold_all(self, observations: Iterable[Observation]) -> None:
        for obs in sorted(observations, key=lambda o: o.t_s):
            self.fold(obs)

    def combined(self) -> Floats:
        """Evidence per row and cell with the neighbourhood's prior: ``context_weight`` pseudo-counts
        shared as the coarse cell's evidence is (fewer while the neighbourhood has seen little)."""
        ctx = self.context[:, self.context_of]
        total = ctx.sum(axis=0)
        prior = self.params.context_weight * np.minimum(total, 1.0) / np.maximum(total, 1e-12)
        return np.asarray(self.evidence + ctx * prior, dtype=np.float64)

    def p_other(self) -> Floats:
        a = self.params.prior
        e = self.combined()
        return np.asarray((a + e[OTHER_ROW]) / (2 * a + e[OTHER_ROW] + e[HELD_ROW]), dtype=np.float64)

    def states(self, t_s: float | None = None) -> npt.NDArray[np.int8]:
        """A STATE_CODES code per cell, at ``t_s`` (default: the filter's time), never going back."""
        if t_s is not None:
            self.advance(t_s)
        p = self.params
        held, other, grey = self.combined()
        sided = held + other
        stale = self.as_of < self.t_s - p.horizon_days * DAY_S
        out = np.where(other > held, STATE_CODES[ControlState.OTHER_SIDE], STATE_CODES[ControlState.HELD])
        disputed = np.minimum(held, other) >= p.contested_share * np.maximum(sided, 1e-12)
        out = np.where(disputed, STATE_CODES[ControlState.CONTESTED], out)
        unseen = (sided + grey < p.min_evidence) | stale | (grey > np.maximum(held, other))
        out = np.where(unseen, STATE_CODES[ControlState.UNCONFIRMED], out)
        return out.astype(np.int8)

    @staticmethod
    def replay(
        grid: Grid, observations: Sequence[Observation], t_s: float, params: FusionParams | None = None
    ) -> ControlFusion:
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


def _footprint(grid: Grid, obs: Observation, smoothing_m: float) -> tuple[npt.NDArray[np.intp], Floats]:
    """The cells an observation speaks for and its weight on each: an area's cells (weight 1), or the
    cells near a point: 1 within its radius, then a Gaussian fall-off of scale ``smoothing_m``."""
    if obs.area is not None:
        idx = grid.inside(obs.area)
        return idx, np.ones(idx.size)
    idx, d = grid.near(obs.lon, obs.lat, obs.radius_m + 3 * smoothing_m)
    outside = np.maximum(d - obs.radius_m, 0.0)
    return idx, np.exp(-0.5 * (outside / smoothing_m) ** 2)


def _context_grid(grid: Grid, res: int) -> tuple[Grid, npt.NDArray[np.intp]]:
    """The coarse grid of the cells holding ``grid``'s centres, and each fine cell's coarse index."""
    parents = np.array(
        [h3.api.basic_int.latlng_to_cell(y, x, res) for x, y in zip(grid.lon, grid.lat, strict=True)], dtype=np.int64
    )
    cells, of = np.unique(parents, return_inverse=True)
    centres = [h3.api.basic_int.cell_to_latlng(int(c)) for c in cells]
    coarse = Grid(
        res,
        cells,
        np.array([c[1] for c in centres]),
        np.array([c[0] for c in centres]),
        np.array([h3.api.basic_int.cell_area(int(c), unit="km^2") for c in cells]),
        {int(c): i for i, c in enumerate(cells)},
    )
    return coarse, np.asarray(of, dtype=np.intp)


@dataclass(frozen=True, slots=True)
class _Checkpoint:
    boundary_s: float  # no observation folded into it is later than this
    next_obs: int  # the first observation not folded into it
    t_s: float  # the filter's time (its last observation's)
    evidence: Floats
    context: Floats
    as_of: Floats


class ControlHistory:
    """The filter run once over all observations, with a checkpoint every ``every_days``: the map as it
    stood at any past time is the last checkpoint before it plus the few observations since.

    A checkpoint is the state right after the last observation before its boundary, so continuing from
    it repeats exactly the arithmetic of a full replay: the result is identical, not approximate.
    """

    def __init__(
        self,
        grid: Grid,
        observations: Sequence[Observation],
        params: FusionParams | None = None,
        every_days: float = 4.0,
    ) -> None:
        self.grid, self.params = grid, params or FusionParams()
        self.observations = sorted(observations, key=lambda o: o.t_s)
        self.checkpoints: list[_Checkpoint] = []
        fusion = ControlFusion(grid, self.params)
        step = every_days * DAY_S
        boundary = self.observations[0].t_s + step if self.observations else math.inf
        for i, obs in enumerate(self.observations):
            while obs.t_s > boundary:
                self.checkpoints.append(
                    _Checkpoint(
                        boundary, i, fusion.t_s, fusion.evidence.copy(), fusion.context.copy(), fusion.as_of.copy()
                    )
                )
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
            fusion.evidence, fusion.context, fusion.as_of = c.evidence.copy(), c.context.copy(), c.as_of.copy()
            fusion.t_s = c.t_s
            start = c.next_obs
        for obs in self.observations[start:]:
            if obs.t_s > t_s:
                break
            fusion.fold(obs)
        fusion.advance(t_s)
        return fusion
