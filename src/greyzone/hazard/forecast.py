"""What the fitted hazard gives people and the route planner (pure): the hazard at a place and time,
the forecast by cell and hour, exposure rates per street segment — each with its "as of" and the
age of the data behind it. Stale or absent data gives *unknown*, never *calm*.

:class:`HazardState` is the fitted parameters plus the excitation left by every event folded so far
(one number per cell); folding a new report decays and adds to it, so the hazard follows new reports
without a refit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from greyzone.hazard.events import Events, Ints
from greyzone.hazard.model import WEEK_S, HawkesParams, Rings
from greyzone.model.grid import Grid

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class HazardAnswer:
    """The hazard at one place and time, or why it is unknown."""

    status: str  # "ok" | "unknown"
    reason: str
    events_per_km2_h: float | None  # expected events per km² per hour (None: unknown)
    triggered_share: float | None  # the part due to recent events nearby (the rest: background)
    as_of_s: float  # the newest data behind the answer
    data_age_h: float

    @property
    def known(self) -> bool:
        return self.status == "ok"


@dataclass
class HazardState:
    params: HawkesParams
    grid: Grid
    rings: Rings
    excitation: Floats  # per cell: Σ n_j q^(now_bin − s_j)
    now_bin: int
    as_of_s: float  # time of the newest event folded in (or the end of the fit window)
    stale_after_s: float = 2 * 86_400.0
    clumping_k: float = math.inf  # events come in bunches: P(≥ 1 event) = 1 − (1 + λ/k)^−k (inf: Poisson)
    _matrix: sp.csr_matrix | None = field(default=None, repr=False)

    @staticmethod
    def after(
        params: HawkesParams,
        grid: Grid,
        rings: Rings,
        events: Events,
        as_of_s: float,
        stale_after_s: float | None = None,
    ) -> HazardState:
        """The state at the end of ``events``' window: all of them folded in."""
        now = events.window.n_bins - 1
        y = np.zeros(len(grid))
        np.add.at(y, events.cell, events.n * params.q ** (now - events.bin).astype(np.float64))
        stale = stale_after_s if stale_after_s is not None else max(2 * 86_400.0, 2 * events.window.bin_s)
        return HazardState(params, grid, rings, y, now, as_of_s, stale)

    @property
    def matrix(self) -> sp.csr_matrix:
        if self._matrix is None:
            self._matrix = self.rings.matrix(self.params.theta, len(self.grid))
        return self._matrix

    def advance(self, bin_: int) -> None:
        """Let the excitation decay up to bin ``bin_`` (quiet time passing); never goes back."""
        if bin_ > self.now_bin:
            self.excitation *= self.params.q ** (bin_ - self.now_bin)
            self.now_bin = bin_

    def fold(self, cell: Ints, bins: Ints, n: Floats, newest_s: float) -> None:
        """Fold in new events (bins on the fit's time axis): late ones count with their own decay."""
        if cell.size == 0:
            return
        self.advance(int(bins.max()))
        np.add.at(self.excitation, cell, n * self.params.q ** (self.now_bin - bins).astype(np.float64))
        self.as_of_s = max(self.as_of_s, newest_s)

    def expected(self, first_bin: int, n_bins: int) -> tuple[Floats, Floats]:
        """Expected events per cell in each of ``n_bins`` bins from ``first_bin`` (> now): the
        background and the triggered part — by past events and by the horizon's own expected
        events — each (cells × bins)."""
        p, w = self.params, self.params.window
        bins = np.arange(first_bin, first_bin + n_bins, dtype=np.int64)
        trend = p.trend[min(int((first_bin * w.bin_s) // WEEK_S), len(p.trend) - 1)]
        background = p.mu[:, None] * (p.profile[w.phases(bins, p.n_phase)] * trend)[None, :]
        triggered = np.zeros_like(background)
        # the expected excitation is linear in the expected counts: carry it bin by bin, the
        # forecast's own expected events triggering later bins of the horizon (exact in expectation)
        x = self.excitation * p.q ** max(first_bin - 1 - self.now_bin, 0)
        for i in range(n_bins):
            triggered[:, i] = (1 - p.q) * (self.matrix @ x)
            x = p.q * x + background[:, i] + triggered[:, i]
        return background, triggered

    def p_occurrence(self, expected: Floats) -> Floats:
        """P(at least one event) in cell-bins of ``expected`` events, allowing for clumping."""
        return p_occurrence(expected, self.clumping_k)

    def freshness(self, t_s: float) -> tuple[bool, float]:
        """(is the data fresh enough at ``t_s``, its age in hours)."""
        age = max(t_s - self.as_of_s, 0.0)
        return age <= self.stale_after_s, age / 3600.0

    def at(self, lon: float, lat: float, t_s: float) -> HazardAnswer:
        """The hazard at a place and time: events per km² per hour, or unknown with the reason."""
        fresh, age_h = self.freshness(t_s)
        if not fresh:
            return HazardAnswer(
                "unknown",
                f"the newest data is {age_h:.0f} h old (stale after {self.stale_after_s / 3600:.0f} h)",
                None,
                None,
                self.as_of_s,
                age_h,
            )
        idx, distance = self.grid.near(lon, lat, 1.5 * math.sqrt(float(self.grid.area_km2.mean())) * 1000)
        if idx.size == 0:
            return HazardAnswer("unknown", "outside the area the hazard was fitted on", None, None, self.as_of_s, age_h)
        cell = int(idx[np.argmin(distance)])
        b = int(self.params.window.bin_of(t_s))
        if b <= self.now_bin:
            b = self.now_bin + 1
        background, triggered = self.expected(b, 1)
        total = float(background[cell, 0] + triggered[cell, 0])
        per = self.grid.area_km2[cell] * self.params.window.bin_s / 3600.0
        return HazardAnswer("ok", "", total / per, float(triggered[cell, 0]) / max(total, 1e-300), self.as_of_s, age_h)

    def segment_rates(self, segment_cell: Ints, first_bin: int, n_bins: int, usual: bool = False) -> Floats:
        """Expected events per km² per hour at each street segment's cell, for ``n_bins`` bins
        (segments × bins): what the route planner multiplies by time spent and vulnerability. ``usual``:
        the background alone (the level usual at that hour and place, without the recent events' surge)."""
        background, triggered = self.expected(first_bin, n_bins)
        density = (background + (0.0 if usual else triggered)) / (
            self.grid.area_km2[:, None] * self.params.window.bin_s / 3600.0
        )
        return np.asarray(density[segment_cell], dtype=np.float64)


def p_occurrence(expected: Floats, k: float) -> Floats:
    """P(N ≥ 1) for a negative-binomial N of mean ``expected`` and clumping ``k`` (inf: Poisson)."""
    lam = np.maximum(expected, 0.0)
    if not math.isfinite(k):
        return np.asarray(-np.expm1(-lam), dtype=np.float64)
    return np.asarray(-np.expm1(-k * np.log1p(lam / k)), dtype=np.float64)


def clumping_from(expected: Floats, occurred: npt.NDArray[np.bool_]) -> float:
    """The k that makes :func:`p_occurrence` fit observed occurrences best (Bernoulli likelihood);
    inf when Poisson fits as well. Conflict events come in bunches (a cell-day of UCDP holds up to
    hundreds), so a mean count of 0.3 does not mean a 26 % chance of any."""
    from scipy.optimize import minimize_scalar

    def loss(log_k: float) -> float:
        p = np.clip(p_occurrence(expected, math.exp(log_k)), 1e-12, 1 - 1e-12)
        return -float(np.where(occurred, np.log(p), np.log1p(-p)).sum())

    best = minimize_scalar(loss, bounds=(-6.0, 9.0), method="bounded")
    poisson = np.clip(p_occurrence(expected, math.inf), 1e-12, 1 - 1e-12)
    poisson_loss = -float(np.where(occurred, np.log(poisson), np.log1p(-poisson)).sum())
    return math.exp(best.x) if best.fun < poisson_loss - 1e-9 else math.inf
