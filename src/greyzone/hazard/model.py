"""A self-exciting (Hawkes / ETAS-type) model of one threat kind on H3 cells and time bins (pure).

Intensity — expected events in cell c during bin t:

    λ(c, t) = μ_c · p[hour(t)] · τ[week(t)]  +  (1 − q) · Σ_k θ_k · Σ_{c' in ring k of c} X_{c'}(t)
    X_{c'}(t) = Σ over past events j in c' (bins s_j < t) of n_j · q^(t − s_j − 1)

- **background**: μ per cell (spatially smoothed), an hour-of-day profile p (mean 1; flat when bins
  are days) and a slow weekly trend τ (mean 1 over the fit, 3-week smoothed);
- **excitation**: each event triggers on average θ_k further events in *each* cell of H3 ring k
  around it (k = 0 … K: distance-decaying on the grid), spread over the following bins with a
  geometric (discrete exponential) delay of ratio q: mean delay 1 / (1 − q) bins. The branching
  ratio α = Σ_k θ_k · |ring k| is the share of events that are triggered by others.

**Fit.** Maximum likelihood (Poisson counts per cell-bin) by expectation–maximisation: each event
is split between background and the earlier events near it in proportion to what each contributes
to λ (Veen & Schoenberg 2008; Mohler et al. 2011); the background margins are updated by iterative
proportional fitting. Sums over earlier events are not pairwise: with a geometric delay the sum of
all of a cell's past events is one decaying number, kept per cell and read by binary search, so an
iteration costs O(events × cells per ring disc), not O(events²). Standard errors of α and q come from
the observed information (numeric Hessian of the log-likelihood).

**State and forecast.** :class:`HazardState` holds Y_c = Σ_j n_j q^(now − s_j) per cell; a new report
is folded in by decaying Y and adding to it (no refit); the forecast for bin t > now is the
background plus the excitation of the past events and of the horizon's own expected events, carried
bin by bin (the expected intensity is linear in past counts, so this is exact in expectation).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import h3
import numba
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from greyzone.hazard.events import Events, Window
from greyzone.model.grid import Grid

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
WEEK_S = 7 * 86_400.0
_LOG_FLOOR = 1e-300


@dataclass(frozen=True)
class Rings:
    """For each ring k = 0 … K: (cell, neighbour) index pairs on the grid, and per cell the number of
    its ring-k cells that are on the grid (m_k); ``full`` is the ring's size off the grid's edge."""

    pairs: list[tuple[Ints, Ints]]
    on_grid: Floats  # (K + 1, n_cells)
    full: Floats  # (K + 1,)

    @staticmethod
    def of(grid: Grid, k_max: int) -> Rings:
        pairs = []
        counts = np.zeros((k_max + 1, len(grid)))
        for k in range(k_max + 1):
            src: list[int] = []
            dst: list[int] = []
            for i, c in enumerate(grid.cells.tolist()):
                for n in h3.api.basic_int.grid_ring(c, k):
                    j = grid.index.get(n)
                    if j is not None:
                        src.append(i)
                        dst.append(j)
            a, b = np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64)
            pairs.append((a, b))
            counts[k] = np.bincount(a, minlength=len(grid))
        return Rings(pairs, counts, np.array([1.0] + [6.0 * k for k in range(1, k_max + 1)]))

    @property
    def k_max(self) -> int:
        return len(self.pairs) - 1

    def matrix(self, theta: Floats, n: int) -> sp.csr_matrix:
        """Σ_k θ_k · (ring-k adjacency), as a sparse n × n matrix."""
        rows = np.concatenate([p[0] for p in self.pairs])
        cols = np.concatenate([p[1] for p in self.pairs])
        vals = np.concatenate([np.full(len(p[0]), theta[k]) for k, p in enumerate(self.pairs)])
        return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


@dataclass(frozen=True)
class HawkesParams:
    mu: Floats  # per cell: background events per bin at profile = trend = 1
    profile: Floats  # per phase (hour of day UTC), mean 1
    trend: Floats  # per week of the fit window, mean 1
    theta: Floats  # per ring k: triggered events per parent in each cell of ring k
    q: float  # geometric delay ratio per bin
    window: Window
    n_phase: int
    loglik: float = math.nan
    n_events: float = 0.0
    iterations: int = 0
    se: dict[str, float] = field(default_factory=dict)

    @property
    def alpha(self) -> float:
        return float(self.theta @ np.array([1.0] + [6.0 * k for k in range(1, len(self.theta))]))

    @property
    def mean_delay_bins(self) -> float:
        return 1.0 / (1.0 - self.q)

    def background_per_bin(self) -> float:
        return float(self.mu.sum())

    def summary(self) -> dict[str, float | int | list[float]]:
        """The fitted parameters with their standard errors, for people."""
        return {
            "events": round(self.n_events, 2),
            "bins": self.window.n_bins,
            "bin_s": self.window.bin_s,
            "branching_ratio": round(self.alpha, 4),
            "branching_ratio_se": round(self.se.get("alpha", math.nan), 4),
            "mean_delay_bins": round(self.mean_delay_bins, 3),
            "mean_delay_bins_se": round(self.se.get("mean_delay_bins", math.nan), 3),
            "ring_share": [
                round(float(t * f) / max(self.alpha, 1e-12), 4)
                for t, f in zip(self.theta, [1.0] + [6.0 * k for k in range(1, len(self.theta))], strict=True)
            ],
            "background_per_day": round(self.background_per_bin() * 86_400 / self.window.bin_s, 3),
            "background_per_day_se": round(self.se.get("background_per_day", math.nan), 3),
            "hour_profile": [round(float(v), 3) for v in self.profile],
            "trend_last": round(float(self.trend[-1]), 3),
            "loglik": round(self.loglik, 3),
            "iterations": self.iterations,
        }


@dataclass(frozen=True)
class FitOptions:
    rings: int = 3
    max_iter: int = 300
    tol: float = 1e-6  # change of the log-likelihood per event that ends the iterations
    smooth_background: tuple[float, ...] = (1.0, 0.25)  # weight per ring of the background smoothing
    uniform_share: float = 0.02  # of the background spread evenly: no cell is ever impossible
    profile_pseudo: float = 5.0  # pseudo-events per hour pulling the profile toward flat
    trend_pseudo: float = 5.0  # pseudo-events per week pulling the trend toward 1


class _Structure:
    """What the fit needs that does not depend on the parameters: for each event entry e of ``own``
    (default: all) and each neighbour cell c' within K rings, the last earlier entry in c' (or none)
    and the gap in bins.

    Kept lean (a front's parts hold hundreds of millions of pairs): about 7 bytes a pair — the earlier
    entry as a 32-bit index, the gap as 16 bits (32 when the window has more than 65,536 bins), and
    each (ring, entry) slot's pairs as a run (their start, ~1 byte a pair: a slot has several); 40
    before. Built a chunk at a time and summed in one compiled pass (no temporaries)."""

    CHUNK = 1 << 22  # pairs built at once

    def __init__(self, events: Events, rings: Rings, n_cells: int, own: npt.NDArray[np.intp] | None = None) -> None:
        self.events, self.rings, self.n_cells = events, rings, n_cells
        own = np.arange(len(events), dtype=np.intp) if own is None else own
        self.size = len(own)
        if len(events) >= 2**31 or (rings.k_max + 1) * self.size >= 2**31:
            raise ValueError("too many events for one piece: split the front into more parts")
        nb = events.window.n_bins
        key = events.cell * nb + events.bin
        cell, bins = events.cell[own], events.bin[own]
        j_parts, g_parts = [], []
        gap_type = np.uint16 if nb <= 2**16 else np.int32
        per_slot = np.zeros((rings.k_max + 1) * self.size, dtype=np.int64)
        for k, (src, dst) in enumerate(rings.pairs):
            order = np.argsort(src, kind="stable")
            src_sorted, dst_sorted = src[order], dst[order]
            start = np.searchsorted(src_sorted, np.arange(n_cells), side="left")
            stop = np.searchsorted(src_sorted, np.arange(n_cells), side="right")
            step = max(1, self.CHUNK // max(int(np.max(stop - start, initial=1)), 1))
            for lo in range(0, self.size, step):  # the cells of an entry's rings, a chunk of entries at a time
                part = slice(lo, min(lo + step, self.size))
                count = (stop - start)[cell[part]]
                e_idx = np.repeat(np.arange(lo, part.stop, dtype=np.int64), count)
                offsets = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
                neighbour = dst_sorted[np.repeat(start[cell[part]], count) + offsets]
                j = np.searchsorted(key, neighbour * nb + bins[e_idx], side="left") - 1
                ok = (j >= 0) & (events.cell[np.maximum(j, 0)] == neighbour)
                e_ok, j_ok = e_idx[ok], j[ok]
                j_parts.append(j_ok.astype(np.int32))
                g_parts.append((bins[e_ok] - events.bin[j_ok] - 1).astype(gap_type))
                per_slot[k * self.size + lo : k * self.size + part.stop] += np.bincount(
                    e_ok - lo, minlength=part.stop - lo
                )  # the pairs come slot after slot: ring by ring, entry by entry
        self.pair_j = np.concatenate(j_parts) if j_parts else np.zeros(0, np.int32)
        self.pair_gap = np.concatenate(g_parts) if g_parts else np.zeros(0, gap_type)
        self.slot_start = np.concatenate(([0], np.cumsum(per_slot))).astype(np.int64)  # slot s: its pairs' run

    def sums(self, q: float) -> tuple[Floats, Floats]:
        """T[k, e] = Σ_{c' in ring k} X_{c'}(s_e) and D[k, e], the same weighted by each delay − 1 (e:
        the entries of ``own``)."""
        ev = self.events
        r, rd = decayed_sums(ev.cell, ev.bin, ev.n, q)
        powers = q ** np.arange(int(self.pair_gap.max(initial=0)) + 1, dtype=np.float64)  # q^gap, each gap once
        t, d = _pair_sums(self.pair_j, self.pair_gap, self.slot_start, r, rd, powers)
        return t.reshape(self.rings.k_max + 1, self.size), d.reshape(self.rings.k_max + 1, self.size)


@numba.njit(cache=True)
def _pair_sums(pair_j, pair_gap, slot_start, r, rd, powers):  # type: ignore[no-untyped-def]
    """T and D of ``_Structure.sums`` in one pass over the pairs, each slot's in their order (the sums
    of a bincount over them, to the last bit): T[slot] = Σ R_j q^gap, D[slot] = Σ q^gap (gap R_j + RD_j)."""
    size = len(slot_start) - 1
    t, d = np.zeros(size), np.zeros(size)
    for s in range(size):
        sum_t = sum_d = 0.0
        for p in range(slot_start[s], slot_start[s + 1]):
            j, gap = pair_j[p], pair_gap[p]
            decay = powers[gap]
            sum_t += r[j] * decay
            sum_d += decay * (gap * r[j] + rd[j])
        t[s], d[s] = sum_t, sum_d
    return t, d


def weighted_count(index: npt.NDArray[np.integer[Any]], weights: Floats, size: int) -> Floats:
    """np.bincount with weights, typed as floats."""
    return np.asarray(np.bincount(index, weights=weights, minlength=size), dtype=np.float64)


def decayed_sums(cell: Ints, bins: Ints, n: Floats, q: float) -> tuple[Floats, Floats]:
    """For entries sorted by (cell, bin): R_j = Σ_{l ≤ j, same cell} n_l q^(s_j − s_l) and
    RD_j = Σ n_l (s_j − s_l) q^(s_j − s_l).

    One compiled pass by the recurrences R_j = n_j + q^Δ R_{j−1} and RD_j = q^Δ (RD_{j−1} + Δ R_{j−1})
    (Δ = s_j − s_{j−1}, within a cell): every term decays, so nothing overflows however long the window,
    and each value is as exact as its few operations."""
    if len(cell) == 0:
        return np.zeros(0), np.zeros(0)
    r, rd = _decayed(
        np.asarray(cell, dtype=np.int64), np.asarray(bins, dtype=np.int64), np.asarray(n, dtype=np.float64), float(q)
    )
    return r, rd


@numba.njit(cache=True)
def _decayed(cell, bins, n, q):  # type: ignore[no-untyped-def]
    r, rd = np.empty(len(cell)), np.empty(len(cell))
    for j in range(len(cell)):
        if j == 0 or cell[j] != cell[j - 1]:
            r[j], rd[j] = n[j], 0.0
        else:
            gap = float(bins[j] - bins[j - 1])
            decay = q**gap
            r[j] = n[j] + decay * r[j - 1]
            rd[j] = decay * (rd[j - 1] + gap * r[j - 1])
    return r, rd


def _phase_trend_counts(window: Window, n_phase: int) -> tuple[Ints, Ints, Floats]:
    bins = np.arange(window.n_bins, dtype=np.int64)
    phase = window.phases(bins, n_phase)
    week = np.floor(bins * window.bin_s / WEEK_S).astype(np.int64)
    counts = np.zeros((n_phase, int(week.max()) + 1))
    np.add.at(counts, (phase, week), 1.0)
    return phase, week, counts


@dataclass
class _Background:
    """μ per cell × hour profile × weekly trend, and its M-step (iterative proportional fitting)."""

    mu: Floats
    profile: Floats
    trend: Floats
    counts: Floats  # bins per (phase, week) of the window
    smoother: sp.csr_matrix
    options: FitOptions
    fixed: tuple[Floats, Floats, Floats]  # background-only events (too vague to excite) by cell, phase, week

    @property
    def exposure(self) -> float:
        """Σ over the window's bins of profile × trend (μ's multiplier in the expected count)."""
        return float(self.profile @ self.counts @ self.trend)

    def set_mu(self, by_cell: Floats) -> None:
        o = self.options
        mu = self.smoother @ by_cell / self.exposure
        self.mu = np.asarray((1 - o.uniform_share) * mu + o.uniform_share * mu.sum() / len(mu), dtype=np.float64)

    def update(self, sums: Sums) -> None:
        """M-step from the expected background events by cell, phase and week (an E-step's sums)."""
        o, n_phase = self.options, len(self.profile)
        fixed_cell, fixed_phase, fixed_week = self.fixed
        by_cell = weighted_count(sums.cells, sums.by_cell, len(self.mu))
        self.set_mu(by_cell + fixed_cell)
        by_phase = sums.by_phase + fixed_phase
        self.profile = _shrunk(by_phase, self.mu.sum() * (self.counts @ self.trend), o.profile_pseudo, np.ones(n_phase))
        per_week = self.profile @ self.counts
        by_week = sums.by_week + fixed_week
        raw = _shrunk(by_week, self.mu.sum() * per_week, o.trend_pseudo, None)
        raw = np.convolve(np.pad(raw, 2, mode="edge"), [0.1, 0.2, 0.4, 0.2, 0.1], mode="valid")
        self.trend = raw / float(raw @ per_week / per_week.sum())


@dataclass(frozen=True)
class Piece:
    """The entries one E-step sums over: all of a fit's (one process), or one part of a front with the
    halo its entries need (``front``): the terms of its own entries count (the structure's), ``cell``
    their cells' indices on the whole grid, ``ring_cells`` how many cells of each ring around them are
    on it."""

    structure: _Structure
    cell: Ints
    phase: Ints
    week: Ints
    ring_cells: Floats  # (K + 1, own entries)
    remaining: Floats  # bins after each own entry's to the window's end
    n: Floats
    cells: Ints  # the distinct cells of ``cell``, sorted
    cell_at: npt.NDArray[np.intp]  # each entry's place in ``cells``

    @staticmethod
    def of(
        events: Events,
        rings: Rings,
        own: npt.NDArray[np.intp] | None = None,
        to_global: Ints | None = None,
    ) -> Piece:
        """``events`` on ``rings``' grid; ``own`` (default: all) and the global index of each local cell
        (default: the same)."""
        own = np.arange(len(events), dtype=np.intp) if own is None else own
        local = events.cell[own]
        n_phase = events.window.n_phase
        _, week_of_bin, _ = _phase_trend_counts(events.window, n_phase)
        cell = local if to_global is None else to_global[local]
        cells, cell_at = np.unique(cell, return_inverse=True)
        return Piece(
            _Structure(events, rings, rings.on_grid.shape[1], own),
            cell,
            events.window.phases(events.bin[own], n_phase),
            week_of_bin[events.bin[own]],
            rings.on_grid[:, local],
            (events.window.n_bins - 1 - events.bin[own]).astype(np.float64),
            events.n[own],
            cells.astype(np.int64),
            cell_at.astype(np.intp),
        )


@dataclass(frozen=True)
class Sums:
    """An E-step's sums over a piece's entries; the sums of two pieces are the sums of their entries.
    ``log_lam``: Σ n log λ; ``parents``: per ring, the parent–cell pairs' exposure; ``triggered``: per
    ring, the expected triggered events; ``gap``: their delays' sum; ``by_cell`` (at ``cells``),
    ``by_phase``, ``by_week``: the expected background events."""

    log_lam: float
    parents: Floats
    triggered: Floats
    gap: float
    cells: Ints
    by_cell: Floats
    by_phase: Floats
    by_week: Floats

    def __add__(self, other: Sums) -> Sums:
        cells, where = np.unique(np.concatenate([self.cells, other.cells]), return_inverse=True)
        return Sums(
            self.log_lam + other.log_lam,
            self.parents + other.parents,
            self.triggered + other.triggered,
            self.gap + other.gap,
            cells,
            weighted_count(where, np.concatenate([self.by_cell, other.by_cell]), len(cells)),
            self.by_phase + other.by_phase,
            self.by_week + other.by_week,
        )


@dataclass(frozen=True)
class Point:
    """The parameters one E-step is taken at."""

    mu: Floats
    profile: Floats
    trend: Floats
    theta: Floats
    q: float


def e_step(piece: Piece, at: Point) -> Sums:
    """The expectation step over a piece: each own entry split between the background and the earlier
    events near it, in proportion to what each adds to λ; the sums the M-step needs."""
    t, d = piece.structure.sums(at.q)
    background = at.mu[piece.cell] * at.profile[piece.phase] * at.trend[piece.week]
    trig_k = (1 - at.q) * at.theta[:, None] * t
    lam = np.maximum(background + trig_k.sum(axis=0), _LOG_FLOOR)
    w = piece.n / lam
    return Sums(
        float(piece.n @ np.log(lam)),
        (piece.ring_cells * (1 - at.q**piece.remaining)) @ piece.n,
        (trig_k * w).sum(axis=1),
        float(((1 - at.q) * at.theta[:, None] * d * w).sum()),
        piece.cells,
        weighted_count(piece.cell_at, background * w, len(piece.cells)),
        weighted_count(piece.phase, background * w, len(at.profile)),
        weighted_count(piece.week, background * w, len(at.trend)),
    )


EStep = Callable[[Point], Sums]


def fit(
    events: Events,
    grid: Grid,
    options: FitOptions | None = None,
    rings: Rings | None = None,
    start: HawkesParams | None = None,
    vague: Events | None = None,
) -> HawkesParams:
    """Maximum-likelihood parameters for ``events`` (one threat kind) on ``grid`` by EM, from
    ``start`` when given (a refit on a little more data converges in a few iterations).

    ``vague``: reports too imprecise to place at the model's resolution (an oblast and a month):
    they inform the background only — neither triggering nor triggered."""
    o = options or FitOptions()
    rings = rings or Rings.of(grid, o.rings)
    piece = Piece.of(events, rings)
    return fit_by(lambda at: e_step(piece, at), events, grid, rings, o, start, vague)


def fit_by(
    estep: EStep,
    events: Events,
    grid: Grid,
    rings: Rings,
    options: FitOptions,
    start: HawkesParams | None = None,
    vague: Events | None = None,
) -> HawkesParams:
    """The EM iterations with the E-step ``estep`` (one process, or the sum over a front's parts: the
    M-step is the same); ``events`` serve the start and the counts only."""
    o = options
    bg, theta, q = _initial(events, grid, rings, o, start, vague)
    previous, loglik, iterations = -math.inf, math.nan, 0
    for iterations in range(1, o.max_iter + 1):  # noqa: B007 (the count is reported)
        sums = estep(Point(bg.mu, bg.profile, bg.trend, theta, q))
        loglik = sums.log_lam - float(bg.mu.sum()) * bg.exposure - float(theta @ sums.parents)
        if abs(loglik - previous) <= o.tol * max(events.total, 1e-9):
            break
        previous = loglik
        triggered = float(sums.triggered.sum())
        if triggered > 1e-9:  # the delay's mean over the expected parent–child pairs → q
            mean_gap = sums.gap / triggered
            q = min(max(mean_gap / (1 + mean_gap), 1e-6), 1 - 1e-6)
        theta = sums.triggered / np.maximum(sums.parents, 1e-12)
        bg.update(sums)
    params = HawkesParams(
        bg.mu, bg.profile, bg.trend, theta, q, events.window, len(bg.profile), loglik, events.total, iterations
    )
    exposure = bg.exposure

    def loglik_at(alpha_scale: float, q: float) -> float:
        at = Point(params.mu, params.profile, params.trend, params.theta * alpha_scale, q)
        s = estep(at)
        return s.log_lam - float(params.mu.sum()) * exposure - float(at.theta @ s.parents)

    return replace(params, se=_standard_errors(loglik_at, params))


def _initial(
    events: Events, grid: Grid, rings: Rings, o: FitOptions, start: HawkesParams | None, vague: Events | None
) -> tuple[_Background, Floats, float]:
    """The starting point: ``start``'s parameters, or a third of events triggered within ~3 bins."""
    window = events.window
    n_phase = window.n_phase
    _, week_of_bin, counts = _phase_trend_counts(window, n_phase)
    n_weeks = counts.shape[1]
    v = vague if vague is not None else Events(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), window)
    v = v.first(window.n_bins)
    fixed = (
        weighted_count(v.cell, v.n, len(grid)),
        weighted_count(window.phases(v.bin, n_phase), v.n, n_phase),
        weighted_count(week_of_bin[v.bin], v.n, n_weeks),
    )
    bg = _Background(
        np.zeros(len(grid)),
        np.ones(n_phase),
        np.ones(n_weeks),
        counts,
        _smoother(rings, o.smooth_background, len(grid)),
        o,
        fixed,
    )
    if start is not None and len(start.theta) == rings.k_max + 1 and len(start.mu) == len(grid):
        bg.profile = start.profile.copy()
        bg.trend = np.concatenate([start.trend, np.full(max(n_weeks - len(start.trend), 0), start.trend[-1])])[:n_weeks]
        bg.mu = start.mu.copy()
        floor = 0.1 * (1 / 3) / float(rings.full.sum())  # EM cannot revive a ring weight that reached 0
        return bg, np.maximum(start.theta, floor), min(max(start.q, 0.05), 0.95)
    bg.set_mu(weighted_count(events.cell, events.n, len(grid)) * (2 / 3) + fixed[0])
    return bg, np.full(rings.k_max + 1, (1 / 3) / float(rings.full.sum())), 2 / 3


def _shrunk(observed: Floats, expected: Floats, pseudo: float, weights: Floats | None) -> Floats:
    """Observed / expected ratios pulled toward 1 by ``pseudo`` events, then scaled to mean 1."""
    ratio = observed / np.maximum(expected, 1e-12)
    trust = observed / (observed + pseudo)
    out = trust * ratio + (1 - trust)
    if weights is not None:
        return np.asarray(out / out.mean(), dtype=np.float64)
    return np.asarray(out, dtype=np.float64)


def _smoother(rings: Rings, weights: tuple[float, ...], n: int) -> sp.csr_matrix:
    """Spreads each cell's count over its rings 0 … len(weights) − 1, keeping the total."""
    parts = []
    for k, w in enumerate(weights[: rings.k_max + 1]):
        src, dst = rings.pairs[k]
        parts.append((dst, src, np.full(len(src), w)))
    rows = np.concatenate([p[0] for p in parts])
    cols = np.concatenate([p[1] for p in parts])
    vals = np.concatenate([p[2] for p in parts])
    m = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    column_sums = np.asarray(m.sum(axis=0)).ravel()
    return sp.csr_matrix(m @ sp.diags(1.0 / np.maximum(column_sums, 1e-12)))


def _standard_errors(loglik_at: Callable[[float, float], float], params: HawkesParams) -> dict[str, float]:
    """Standard errors from the observed information of (log α, logit q), background held fixed;
    ``loglik_at(alpha_scale, q)``: the log-likelihood with θ scaled and the delay ratio q."""
    x0 = np.array([0.0, math.log(params.q / (1 - params.q))])

    def f(x: Floats) -> float:
        return loglik_at(math.exp(x[0]), 1 / (1 + math.exp(-x[1])))

    h = 1e-3
    hess = np.zeros((2, 2))
    f0 = f(x0)
    for i in range(2):
        for j in range(i, 2):
            ei, ej = np.eye(2)[i] * h, np.eye(2)[j] * h
            if i == j:
                hess[i, i] = (f(x0 + ei) - 2 * f0 + f(x0 - ei)) / h**2
            else:
                hess[i, j] = hess[j, i] = (f(x0 + ei + ej) - f(x0 + ei - ej) - f(x0 - ei + ej) + f(x0 - ei - ej)) / (
                    4 * h**2
                )
    out = {
        "background_per_day": math.sqrt(max(params.n_events * (1 - min(params.alpha, 0.999)), 0.0))
        / (params.window.n_bins * params.window.bin_s / 86_400)
    }
    try:
        cov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        return out
    if cov[0, 0] > 0:
        out["alpha"] = params.alpha * math.sqrt(cov[0, 0])  # d α / d log α = α
    if cov[1, 1] > 0:
        dq = params.q * (1 - params.q)  # d q / d logit q
        out["mean_delay_bins"] = math.sqrt(cov[1, 1]) * dq / (1 - params.q) ** 2
    return out
