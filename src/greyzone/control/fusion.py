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

- **Near the front: asymmetric by design.** The rules above weigh held and other side alike; beside
  the front that is the dangerous mistake, because ground changes hands there and a cell keeps its
  old evidence after it has. So the filter also keeps, per cell:

  * a **front field**: the evidence of every side spread at ``front_m`` (3 km: ground a few
    streets from the other side's is beside it, even before an observer has stood on it; 2.5 km
    left 5.4 % of the unsafe ground near Pokrovsk called held, 3 km 4.5 %) and forgotten at the
    neighbourhood's pace; a cell is *beside the front* when at least ``front_share`` of that
    evidence says other side or grey (a quarter: well above what wrong-side reports alone give in
    quiet ground, which is the observers' error rate);
  * its **own held evidence**: held observations that stand on the cell itself (within their radius
    plus ``own_m``), forgotten faster (``own_half_life_days``, 1.5 rather than 2.5) — the evidence
    that a cell beside the front is still held has to be days old at most, and it has to be the
    cell's own, not its neighbours' (smoothing and the neighbourhood prior do not count there);
  * a **switching** rule: an other-side or grey observation within ``switch_m`` of a cell means the
    cell may have changed hands, so its own held evidence older than that observation is void — the
    HMM's transition made likely by the evidence next door, rather than plain forgetting. A *sure*
    one (evidence of at least ``front_min_held``: a map's area, a report at least 88 % reliable)
    also makes the cells next to it front cells for ``threat_days`` at once (``threat_as_of``),
    before the front field has gathered; a less sure one counts in the field only, so that the
    observers' ordinary wrong-side reports do not turn quiet ground unconfirmed everywhere.

  Beside the front a cell is *held* only when its own, fresh held evidence is at least
  ``front_min_held`` (two sure reports: one may be wrong) and newer than every other-side or grey
  observation next to it; where the
  symmetric rules would say held and this does not hold, the state is *unconfirmed*. The other
  side's ground needs no such care: calling ground unsafe that is not is the safe mistake. Away
  from the front (no other-side or grey evidence near) the rules are the symmetric ones above.
  Measured on the real 2024–2025 maps within 8 km of Pokrovsk (``benchmarks/control_accuracy.py
  --near``), this takes the share of the other side's and grey ground called held from about a
  third to a few per cent, at the price of some held ground near the front shown as unconfirmed.

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
    # beside the front (see the module docstring)
    front_m: float = 3000.0  # the front field's spatial scale
    front_share: float = 0.25  # share of not-held evidence around a cell that makes it a front cell
    front_min_evidence: float = 0.5  # the front field needs this much evidence to say anything
    own_m: float = 500.0  # a held observation is a cell's own within its radius plus this
    switch_m: float = 1000.0  # an other-side or grey observation this close voids older own held evidence
    threat_days: float = 3.0  # an other-side or grey observation next to a cell makes it a front cell this long
    own_half_life_days: float = 1.5  # own held evidence ages this fast
    front_min_held: float = 2.0  # own held evidence a front cell needs to be held (one sure report ≈ 1.7)


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


def fold_order(o: Observation) -> tuple[float, float, float, str, float, float, bytes]:
    """Time first; then the place, the side, the reliability, the radius and the area's shape."""
    lon = o.lon if math.isfinite(o.lon) else math.inf
    lat = o.lat if math.isfinite(o.lat) else math.inf
    shape = b"" if o.area is None else bytes(shapely.to_wkb(o.area))
    return (o.t_s, lon, lat, o.side.value, o.reliability, o.radius_m, shape)


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
    over a coarser grid blurred at ``context_m``, read as the prior of the cells inside each coarse cell;
    ``front`` two rows (not held, all) of evidence at ``front_m``, on the coarse grid too; ``own_held``
    each cell's own held evidence, with ``held_as_of`` and ``threat_as_of`` the newest own held and the
    newest other-side or grey observation next to it.
    """

    def __init__(self, grid: Grid, params: FusionParams | None = None) -> None:
        self.grid = grid
        self.params = p = params or FusionParams()
        n = len(grid)
        self.evidence = np.zeros((3, n))
        self.as_of = np.full(n, -np.inf)  # time of the newest observation that touched the cell
        self.own_held = np.zeros(n)
        self.held_as_of = np.full(n, -np.inf)  # the newest held observation standing on the cell
        self.threat_as_of = np.full(n, -np.inf)  # the newest other-side or grey observation next to it
        self.t_s = -np.inf  # the time the evidence is valid at
        self.context_grid, self.context_of = _context_grid(grid, context_resolution(grid.res, p.context_m))
        self.context = np.zeros((3, len(self.context_grid)))
        self.front = np.zeros((2, len(self.context_grid)))  # at front_m: not held (other + grey), all sides
        self._reach_m = max(3 * p.smoothing_m, p.switch_m, p.own_m)
        self._seen: tuple[dict[tuple[int, int], bool], ...] = ({}, {})  # ``reaches``' answers by cell

    STATE = ("evidence", "as_of", "front", "own_held", "held_as_of", "threat_as_of", "context")

    def copy_state(self) -> dict[str, Floats]:
        """The arrays that make the filter's state (copies), for checkpoints."""
        return {name: getattr(self, name).copy() for name in self.STATE}

    def restore(self, state: dict[str, Floats], t_s: float) -> None:
        for name in self.STATE:
            setattr(self, name, state[name].copy())
        self.t_s = t_s

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
            p = self.params
            self.evidence *= 2.0 ** (-dt / (p.half_life_days * DAY_S))
            slow = 2.0 ** (-dt / (p.context_half_life_days * DAY_S))
            self.context *= slow
            self.front *= slow
            self.own_held *= 2.0 ** (-dt / (p.own_half_life_days * DAY_S))
        self.t_s = t_s

    def fold(self, obs: Observation) -> None:
        """Update with one observation (and predict to its time first)."""
        self.advance(obs.t_s)
        p = self.params
        rho = min(max(obs.reliability, 0.5001), 0.9999)
        strength = math.log(rho / (1 - rho))
        row = _ROWS.get(obs.side, GREY_ROW)
        if obs.area is not None:  # an area speaks for the cells inside it (its front reaches beyond)
            idx = self.grid.inside(obs.area)
            outside = np.zeros(idx.size)
            smooth = np.ones(idx.size)
        else:
            idx, d = self.grid.near(obs.lon, obs.lat, obs.radius_m + self._reach_m)
            outside = np.maximum(d - obs.radius_m, 0.0)
            smooth = np.exp(-0.5 * (outside / p.smoothing_m) ** 2)
        if idx.size:
            self.as_of[idx] = np.maximum(self.as_of[idx], obs.t_s)
            np.add.at(self.evidence[row], idx, strength * smooth)
            if row == HELD_ROW:
                mine = idx[outside <= p.own_m]
                np.add.at(self.own_held, mine, strength)
                self.held_as_of[mine] = obs.t_s
        if row != HELD_ROW:
            if obs.area is not None:
                idx, outside = self.grid.near_area(obs.area, p.switch_m)
            near = idx[outside <= p.switch_m]
            self.own_held[near] = 0.0  # it may have changed hands: older own held evidence is void
            if strength >= p.front_min_held:  # a sure report makes its neighbours front cells at once
                self.threat_as_of[near] = obs.t_s
        # the neighbourhood (the prior) and the front field, on the coarse grid from one query
        if obs.area is not None:
            cidx, coutside = self.context_grid.near_area(obs.area, 3 * p.front_m)
            inside = coutside == 0
            context_idx, context_w = cidx[inside], np.ones(int(inside.sum()))
        else:
            cidx, d = self.context_grid.near(obs.lon, obs.lat, obs.radius_m + 3 * max(p.context_m, p.front_m))
            coutside = np.maximum(d - obs.radius_m, 0.0)
            context_idx, context_w = cidx, np.exp(-0.5 * (coutside / p.context_m) ** 2)
        if context_idx.size:
            np.add.at(self.context[row], context_idx, strength * context_w)
        if cidx.size:
            front_w = strength * np.exp(-0.5 * (coutside / p.front_m) ** 2)
            np.add.at(self.front[1], cidx, front_w)
            if row != HELD_ROW:
                np.add.at(self.front[0], cidx, front_w)

    def reaches(self, obs: Observation) -> bool:
        """Whether folding ``obs`` would touch this grid: a cell's evidence, or the neighbourhood and
        front fields around one (the same cells ``fold`` looks up). One that does not leaves the state as
        it was but for the decay to its time — the same decay, in fewer steps."""
        if obs.area is not None or not math.isfinite(obs.lon):
            return True
        p = self.params
        return self.grid.touched(obs.lon, obs.lat, obs.radius_m + self._reach_m, self._seen[0]) or (
            self.context_grid.touched(obs.lon, obs.lat, obs.radius_m + 3 * max(p.context_m, p.front_m), self._seen[1])
        )

    def fold_all(self, observations: Iterable[Observation]) -> None:
        """Fold in time order; observations of the same moment in one fixed order (``fold_order``), so
        that any reading of the same observations — one query, or a front's parts — folds alike."""
        for obs in sorted(observations, key=fold_order):
            self.fold(obs)

    def front_field(self) -> npt.NDArray[np.bool_]:
        """The cells whose neighbourhood is a front: enough evidence around them, a ``front_share`` of
        it not held."""
        p = self.params
        not_held, total = self.front[:, self.context_of]
        return np.asarray((total >= p.front_min_evidence) & (not_held >= p.front_share * total))

    def beside_front(self) -> npt.NDArray[np.bool_]:
        """The cells beside the front: a front neighbourhood, or an other-side or grey report next to
        them in the last ``threat_days``."""
        recent = self.threat_as_of >= self.t_s - self.params.threat_days * DAY_S
        return np.asarray(self.front_field() | recent)

    def substantiated(self, states: npt.NDArray[np.int8]) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """The other side's and the grey ground of a map that more than a lone report stands for
        (``front_min_held`` of evidence: 10-20 % of reports are wrong), for what is measured from them
        (the reach of threats to a road): other-side cells, and contested or unconfirmed cells of a
        front neighbourhood."""
        p = self.params
        _, other, grey = self.combined()
        codes = STATE_CODES
        other_ground = (states == codes[ControlState.OTHER_SIDE]) & (other >= p.front_min_held)
        greyish = (states == codes[ControlState.CONTESTED]) | (states == codes[ControlState.UNCONFIRMED])
        grey_ground = greyish & self.front_field() & (other + grey >= p.front_min_held)
        return np.asarray(other_ground), np.asarray(grey_ground)

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
        front = self.beside_front()
        sided = held + other
        stale = self.as_of < self.t_s - p.horizon_days * DAY_S
        out = np.where(other > held, STATE_CODES[ControlState.OTHER_SIDE], STATE_CODES[ControlState.HELD])
        disputed = np.minimum(held, other) >= p.contested_share * np.maximum(sided, 1e-12)
        out = np.where(disputed, STATE_CODES[ControlState.CONTESTED], out)
        unseen = (sided + grey < p.min_evidence) | stale | (grey > np.maximum(held, other))
        own_fresh = (self.own_held >= p.front_min_held) & (self.held_as_of > self.threat_as_of)
        unsure = front & ~own_fresh & (out == STATE_CODES[ControlState.HELD])
        out = np.where(unseen | unsure, STATE_CODES[ControlState.UNCONFIRMED], out)
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
    state: dict[str, Floats]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.state.values())


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
        self.observations = sorted(observations, key=fold_order)  # as fold_all folds them
        self.checkpoints: list[_Checkpoint] = []
        fusion = ControlFusion(grid, self.params)
        step = every_days * DAY_S
        boundary = self.observations[0].t_s + step if self.observations else math.inf
        for i, obs in enumerate(self.observations):
            while obs.t_s > boundary:
                self.checkpoints.append(_Checkpoint(boundary, i, fusion.t_s, fusion.copy_state()))
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
            fusion.restore(c.state, c.t_s)
            start = c.next_obs
        for obs in self.observations[start:]:
            if obs.t_s > t_s:
                break
            fusion.fold(obs)
        fusion.advance(t_s)
        return fusion
