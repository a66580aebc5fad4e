"""Scoring fused control maps against a known truth (pure; the truth is given as cell states).

Observers are simulated: each day, ``n`` of them at random places report the state of their cell
in the truth, with a wrong-side rate and a location error. "Grey" truth (no confirmed control) is
reported as ``unknown``. The fused map is scored every day against the truth: IoU of each class.
The naive baseline is a majority vote of the 7 nearest observations of the last 14 days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from greyzone.control.fusion import DAY_S, STATE_CODES, ControlFusion, ControlState, FusionParams, Grid, Observation
from greyzone.model.enums import Side

OTHER, HELD = STATE_CODES[ControlState.OTHER_SIDE], STATE_CODES[ControlState.HELD]
TRUTH_HELD, TRUTH_OTHER, TRUTH_GREY = 0, 1, 2
M_PER_DEG = 111_320.0


@dataclass(frozen=True, slots=True)
class DayScore:
    day: int
    iou_other: float
    baseline_iou_other: float
    other_share: float  # share of the region the fused map calls other side
    truth_other_share: float


def iou(predicted: npt.NDArray[np.bool_], truth: npt.NDArray[np.bool_], area: npt.NDArray[np.float64]) -> float:
    union = float(area[predicted | truth].sum())
    return float(area[predicted & truth].sum()) / union if union > 0 else 1.0


def simulate_day(
    grid: Grid, truth: npt.NDArray[np.int8], t_s: float, n: int, noise: float, rng: np.random.Generator,
    location_error_m: float = 200.0, reliability: float = 0.85,
) -> list[Observation]:  # fmt: skip
    """``n`` observers at random cells, each reporting its cell's true side (wrong with rate ``noise``)."""
    at = rng.integers(0, len(grid), n)
    k = np.cos(np.radians(grid.lat[at]))
    lon = grid.lon[at] + rng.normal(0, location_error_m, n) / (M_PER_DEG * k)
    lat = grid.lat[at] + rng.normal(0, location_error_m, n) / M_PER_DEG
    wrong = rng.random(n) < noise
    out = []
    for i in range(n):
        state = int(truth[at[i]])
        if state == TRUTH_GREY:
            side = Side.UNKNOWN
        else:
            other = (state == TRUTH_OTHER) != bool(wrong[i])
            side = Side.OTHER_SIDE if other else Side.HELD
        out.append(Observation(t_s + rng.uniform(0, DAY_S), side, reliability, float(lon[i]), float(lat[i]), 150.0))
    return out


def baseline_other(grid: Grid, recent: list[Observation], k: int = 7) -> npt.NDArray[np.bool_]:
    """The naive map: a cell is other side when most of its k nearest recent observations say so."""
    sided = [o for o in recent if o.side is not Side.UNKNOWN]
    if len(sided) < k:
        return np.zeros(len(grid), dtype=bool)
    scale = np.cos(np.radians(grid.lat.mean()))
    points = np.column_stack([[o.lon * scale for o in sided], [o.lat for o in sided]])
    votes = np.array([o.side is Side.OTHER_SIDE for o in sided])
    _, nearest = cKDTree(points).query(np.column_stack([grid.lon * scale, grid.lat]), k=k)
    return np.asarray(votes[nearest].sum(axis=1) > k / 2)


def evaluate(
    grid: Grid, truths: list[npt.NDArray[np.int8]], start_s: float, per_day: int, noise: float, seed: int = 0,
    params: FusionParams | None = None, window_days: int = 14,
) -> list[DayScore]:  # fmt: skip
    """Score the fused map and the baseline on each day of ``truths`` (one truth per day)."""
    rng = np.random.default_rng(seed)
    fusion = ControlFusion(grid, params)
    history: list[list[Observation]] = []
    total = float(grid.area_km2.sum())
    scores = []
    for day, truth in enumerate(truths):
        t = start_s + day * DAY_S
        todays = simulate_day(grid, truth, t, per_day, noise, rng)
        history.append(todays)
        fusion.fold_all(todays)
        states = fusion.states(t + DAY_S)
        predicted = states == OTHER
        truth_other = truth == TRUTH_OTHER
        recent = [o for obs in history[-window_days:] for o in obs]
        scores.append(DayScore(
            day, iou(predicted, truth_other, grid.area_km2),
            iou(baseline_other(grid, recent), truth_other, grid.area_km2),
            float(grid.area_km2[predicted].sum()) / total, float(grid.area_km2[truth_other].sum()) / total,
        ))  # fmt: skip
    return scores
