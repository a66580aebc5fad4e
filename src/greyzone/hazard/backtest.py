"""Rolling one-day-ahead forecasts scored against what happened, beside two baselines (pure).

Each test day the model forecasts every cell and bin of the day from the data before it (refit every
``refit_days``; between refits the day's events are folded into the state, no refit). The baselines:

- *historical*: the average count of the cell in that hour of the day (or that day, on day bins) over
  all days before;
- *last 7 days*: the cell's average count per bin over the 7 days before.

Each forecast rate gets the same small floor (``floor_share`` of the region's mean rate per cell-bin)
so that no model is infinitely wrong about a cell it never saw. Scores, over all test cell-bins:

- mean log-likelihood per event: Σ (n log λ − λ − log n!) / Σ n (Poisson; higher is better);
- Brier score of occurrence (a cell-bin *occurs* when it holds at least half an event; P = 1 − e^−λ);
- hit rate at 5 % of area: the share of each day's events inside the cells with the highest forecast
  for the day, taken until they cover 5 % of the area;
- reliability: forecast occurrence probabilities in ten bins of width 0.1, with the observed
  frequency in each.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln

from greyzone.hazard.events import Events
from greyzone.hazard.forecast import HazardState, clumping_from
from greyzone.hazard.model import FitOptions, HawkesParams, Rings, fit
from greyzone.model.grid import Grid

Floats = npt.NDArray[np.float64]
MODELS = ("model", "historical", "last_7_days")


@dataclass
class Score:
    loglik: float = 0.0
    events: float = 0.0
    brier_sum: float = 0.0
    cases: int = 0
    hits: float = 0.0
    reliability: Floats = field(default_factory=lambda: np.zeros((10, 3)))  # count, Σ p, Σ occurred

    def add(self, rate: Floats, observed: Floats, area: Floats, p: Floats | None = None) -> None:
        """Score one day: ``rate``, ``observed`` and the occurrence probability ``p`` (default:
        Poisson) are (cells × bins)."""
        rate = np.maximum(rate, 1e-300)
        self.loglik += float((observed * np.log(rate) - rate - gammaln(observed + 1)).sum())
        self.events += float(observed.sum())
        p = -np.expm1(-rate) if p is None else p
        occurred = observed >= 0.5
        self.brier_sum += float(((p - occurred) ** 2).sum())
        self.cases += p.size
        which = np.minimum((p * 10).astype(np.int64), 9).ravel()
        np.add.at(self.reliability, which, np.column_stack([np.ones(p.size), p.ravel(), occurred.ravel()]))
        order = np.argsort(-rate.sum(axis=1), kind="stable")
        covered = np.cumsum(area[order]) <= 0.05 * area.sum()
        covered[0] = True  # at least the top cell
        self.hits += float(observed[order[covered]].sum())

    def summary(self) -> dict[str, float]:
        return {
            "mean_loglik_per_event": self.loglik / self.events if self.events else math.nan,
            "brier": self.brier_sum / self.cases if self.cases else math.nan,
            "hit_rate_5pct_area": self.hits / self.events if self.events else math.nan,
        }

    def reliability_table(self, min_cases: int = 100) -> list[ReliabilityBin]:
        """Per probability bin holding cases: mean forecast, observed frequency, and whether it is
        within ±0.05 of the diagonal (judged only where it holds ``min_cases`` or more)."""
        rows = []
        for i, (count, p, hit) in enumerate(self.reliability):
            if count > 0:
                forecast, observed = p / count, hit / count
                judged = bool(abs(forecast - observed) <= 0.05) if count >= min_cases else None
                rows.append(ReliabilityBin(i / 10, int(count), float(forecast), float(observed), judged))
        return rows


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    low: float  # the bin is [low, low + 0.1)
    cases: int
    forecast: float
    observed: float
    within_0_05: bool | None  # None: fewer cases than judged


@dataclass
class Backtest:
    scores: dict[str, Score]
    params: list[HawkesParams]
    days: int
    bins_per_day: int

    def summary(self) -> dict[str, dict[str, float]]:
        return {name: s.summary() for name, s in self.scores.items()}


def backtest(
    grid: Grid,
    fit_events: Events,
    score_events: Events,
    train_bins: int,
    test_days: int,
    options: FitOptions | None = None,
    refit_days: int = 7,
    floor_share: float = 0.01,
    progress: Callable[[int], None] | None = None,
    known: HawkesParams | None = None,
    vague: Events | None = None,
) -> Backtest:
    """Forecast each of ``test_days`` days after the first ``train_bins`` bins of the window.

    ``fit_events`` is what the model learns from (reports spread over their precision);
    ``score_events`` what the forecasts are scored against (the same reports, as occurrences).
    ``known``: forecast with these parameters instead of fitting (the truth, in a simulation);
    ``vague``: reports that inform the fitted background only (see :func:`greyzone.hazard.model.fit`)."""
    window = fit_events.window
    per_day = max(1, round(86_400 / window.bin_s))
    rings = Rings.of(grid, (options or FitOptions()).rings)
    scores = {name: Score() for name in MODELS}
    fitted: list[HawkesParams] = []
    state: HazardState | None = None
    phase_all = window.phases(np.arange(window.n_bins, dtype=np.int64), per_day if per_day > 1 else 1)
    for day in range(test_days):
        start = train_bins + day * per_day
        if start + per_day > window.n_bins:
            break
        if state is None or day % refit_days == 0:
            previous = fitted[-1] if fitted else None
            past_vague = vague.first(start) if vague is not None else None
            params = known or fit(fit_events.first(start), grid, options, rings, previous, past_vague)
            fitted.append(params)
            state = HazardState.after(params, grid, rings, fit_events.first(start), window.t0_s + start * window.bin_s)
            state.clumping_k = _clumping(params, grid, rings, fit_events, score_events, start, per_day)
        else:
            todays = fit_events.between(start - per_day, start)
            state.fold(todays.cell, todays.bin, todays.n, window.t0_s + start * window.bin_s)
            state.advance(start - 1)
        background, triggered = state.expected(start, per_day)
        observed = _dense(score_events.between(start, start + per_day), len(grid), start, per_day)
        history = score_events.first(start)
        floor = floor_share * max(history.total, 1.0) / (len(grid) * start)
        rates = {
            "model": background + triggered + floor,
            "historical": _historical(history, len(grid), start, per_day, phase_all) + floor,
            "last_7_days": _recent(history, len(grid), start, per_day) + floor,
        }
        for name, rate in rates.items():
            scores[name].add(rate, observed, grid.area_km2, state.p_occurrence(rate) if name == "model" else None)
        if progress is not None:
            progress(day)
    return Backtest(scores, fitted, test_days, per_day)


def _clumping(
    params: HawkesParams,
    grid: Grid,
    rings: Rings,
    fit_events: Events,
    score_events: Events,
    start: int,
    per_day: int,
    days: int = 30,
) -> float:
    """The clumping k of the day-ahead forecasts of the last ``days`` days before ``start``."""
    expected, occurred = [], []
    for day in range(max(start - days * per_day, per_day), start, per_day):
        state = HazardState.after(params, grid, rings, fit_events.first(day), 0.0)
        background, triggered = state.expected(day, per_day)
        expected.append((background + triggered).ravel())
        occurred.append((_dense(score_events.between(day, day + per_day), len(grid), day, per_day) >= 0.5).ravel())
    if not expected:
        return math.inf
    return clumping_from(np.concatenate(expected), np.concatenate(occurred))


def _dense(events: Events, n_cells: int, start: int, n_bins: int) -> Floats:
    out = np.zeros((n_cells, n_bins))
    np.add.at(out, (events.cell, events.bin - start), events.n)
    return out


def _historical(history: Events, n_cells: int, start: int, per_day: int, phase_all: npt.NDArray[np.int64]) -> Floats:
    """The cell's mean count in each hour of the day (or per day) over all days before."""
    n_phase = per_day
    by = np.zeros((n_cells, n_phase))
    phase = phase_all[history.bin] if n_phase > 1 else np.zeros(len(history), dtype=np.int64)
    np.add.at(by, (history.cell, phase), history.n)
    days = max(start / per_day, 1.0)
    phases = phase_all[start : start + per_day] if n_phase > 1 else np.zeros(per_day, dtype=np.int64)
    return np.asarray(by[:, phases] / days, dtype=np.float64)


def _recent(history: Events, n_cells: int, start: int, per_day: int) -> Floats:
    """The cell's mean count per bin over the last 7 days."""
    recent = history.between(start - 7 * per_day, start)
    per_cell = np.bincount(recent.cell, weights=recent.n, minlength=n_cells) / (7 * per_day)
    return np.repeat(per_cell[:, None], per_day, axis=1).astype(np.float64)
