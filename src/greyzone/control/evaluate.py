"""Scoring fused control maps against a known truth (pure; the truth is given as cell states).

Observers are simulated: each day, ``n`` of them at random places report the state of their cell
in the truth, with a wrong-side rate and a location error. "Grey" truth (no confirmed control) is
reported as ``unknown``. The fused map is scored every day against the truth: IoU of each class.
Some observers may stand on roads (``road_cells``: the cells a road network crosses, one entry per
~200 m of road), as crews and drivers do. The naive baseline is a majority vote of the 7 nearest
observations of the last 14 days.

Where people move matters more than the whole box: ``scored`` restricts every score to some cells
(those within a radius of the city's centre), while observers and the fusion still cover the grid.
Besides IoU, the **false-reassurance rate**: the share of the truth's other-side and grey area that the
map calls *held* — the error that sends people where they should not go (the naive map has no grey:
what it does not call other side it calls held). ``centre`` names a cell (the city centre): the days it
is called held while the truth says otherwise are listed.

A map is not always right either: a snapshot that loses or gains a large piece of ground for one day
and gets it back the next (2024-01-24 in the DeepStateMap set: 298.6 → 228.0 → 298.6 km² occupied) is
a glitch of the truth, not a change. :func:`glitch_days` finds them; the summary gives the worst day
with and without them, naming them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree

from greyzone.control.fusion import DAY_S, STATE_CODES, ControlFusion, ControlState, FusionParams, Observation
from greyzone.model.enums import Side
from greyzone.model.grid import Grid

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
    iou_grey: float  # fused contested + unconfirmed against the truth's grey (not the same definition)
    false_reassurance: float = 0.0  # share of the truth's other-side + grey area the fused map calls held
    naive_false_reassurance: float = 0.0  # the same for the naive map
    centre_misled: bool = False  # the centre cell called held while the truth says other side or grey
    caution: float = 0.0  # the price of it: share of the truth's held area the fused map does not call held
    truth_unsafe_share: float = 0.0  # share of the region the truth says other side or grey


@dataclass(frozen=True, slots=True)
class Evaluation:
    scores: list[DayScore]
    lags_days: npt.NDArray[np.int64]  # per cell that turned other side in the truth: days until the map showed it
    glitches: tuple[int, ...] = ()  # days whose truth is a one-day glitch of the map (see glitch_days)

    @property
    def median_lag_days(self) -> float:
        return float(np.median(self.lags_days)) if self.lags_days.size else float("nan")

    def summary(self, warmup_days: int = 7) -> dict[str, Any]:
        """The figures of the days after the warm-up: IoU of fused and naive maps, lag, grey IoU."""
        after = self.scores[warmup_days:] or self.scores
        fused = np.array([s.iou_other for s in after])
        naive = np.array([s.baseline_iou_other for s in after])
        clean = np.array([s.iou_other for s in after if s.day not in self.glitches] or [np.nan])
        with_other = [s for s in after if s.truth_other_share > 0]
        with_unsafe = [s for s in after if s.truth_unsafe_share > 0]
        return {
            "days_scored": len(after),
            "fused_iou_mean": round(float(fused.mean()), 4),
            "fused_iou_min": round(float(fused.min()), 4),
            "fused_iou_min_without_glitches": round(float(clean.min()), 4),
            "glitch_days": [s.day for s in after if s.day in self.glitches],
            "naive_iou_mean": round(float(naive.mean()), 4),
            "naive_iou_min": round(float(naive.min()), 4),
            "fused_better_share": round(float(np.mean(fused > naive)), 4),
            "median_lag_days": self.median_lag_days,
            "grey_iou_mean": round(float(np.mean([s.iou_grey for s in after])), 4),
            "false_reassurance_mean": round(float(np.mean([s.false_reassurance for s in after])), 4),
            "naive_false_reassurance_mean": round(float(np.mean([s.naive_false_reassurance for s in after])), 4),
            "centre_misled_days": [s.day for s in after if s.centre_misled],
            "caution_mean": round(float(np.mean([s.caution for s in after])), 4),
            # the same on the days there is something to get wrong: other-side (or any unsafe) ground in the region
            "days_with_other": len(with_other),
            "fused_iou_mean_with_other": _mean([s.iou_other for s in with_other]),
            "naive_iou_mean_with_other": _mean([s.baseline_iou_other for s in with_other]),
            "days_with_unsafe": len(with_unsafe),
            "false_reassurance_mean_with_unsafe": _mean([s.false_reassurance for s in with_unsafe]),
            "naive_false_reassurance_mean_with_unsafe": _mean([s.naive_false_reassurance for s in with_unsafe]),
        }


def _mean(values: list[float]) -> float:
    return round(float(np.mean(values)), 4) if values else float("nan")


def iou(predicted: npt.NDArray[np.bool_], truth: npt.NDArray[np.bool_], area: npt.NDArray[np.float64]) -> float:
    union = float(area[predicted | truth].sum())
    return float(area[predicted & truth].sum()) / union if union > 0 else 1.0


def false_reassurance(held: npt.NDArray[np.bool_], truth: npt.NDArray[np.int8], area: npt.NDArray[np.float64]) -> float:
    """The share of the truth's other-side and grey area that a map calls held (0 when there is none)."""
    unsafe = truth != TRUTH_HELD
    total = float(area[unsafe].sum())
    return float(area[unsafe & held].sum()) / total if total > 0 else 0.0


def caution(held: npt.NDArray[np.bool_], truth: npt.NDArray[np.int8], area: npt.NDArray[np.float64]) -> float:
    """The share of the truth's held area that a map does not call held (0 when there is none)."""
    safe = truth == TRUTH_HELD
    total = float(area[safe].sum())
    return float(area[safe & ~held].sum()) / total if total > 0 else 0.0


def cells_near(grid: Grid, lon: float, lat: float, radius_km: float) -> npt.NDArray[np.intp]:
    """The cells whose centres lie within ``radius_km`` of a point."""
    dx = (grid.lon - lon) * M_PER_DEG * np.cos(np.radians(lat))
    dy = (grid.lat - lat) * M_PER_DEG
    return np.flatnonzero(np.hypot(dx, dy) <= radius_km * 1000)


def simulate_day(
    grid: Grid,
    truth: npt.NDArray[np.int8],
    t_s: float,
    n: int,
    noise: float,
    rng: np.random.Generator,
    location_error_m: float = 200.0,
    reliability: float = 0.85,
    road_cells: npt.NDArray[np.intp] | None = None,
    road_share: float = 0.0,
) -> list[Observation]:
    """``n`` observers at random cells (a ``road_share`` of them on roads), each reporting its cell's
    true side (wrong with rate ``noise``)."""
    at = rng.integers(0, len(grid), n)
    if road_cells is not None and road_cells.size and road_share > 0:
        on_road = rng.random(n) < road_share
        at[on_road] = rng.choice(road_cells, int(on_road.sum()))
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
    grid: Grid,
    truths: list[npt.NDArray[np.int8]],
    start_s: float,
    per_day: int,
    noise: float,
    seed: int = 0,
    params: FusionParams | None = None,
    window_days: int = 14,
    road_cells: npt.NDArray[np.intp] | None = None,
    road_share: float = 0.0,
    scored: npt.NDArray[np.intp] | None = None,
    centre: int | None = None,
) -> Evaluation:
    """Score the fused map and the baseline on each day of ``truths`` (one truth per consecutive day),
    on the ``scored`` cells only when given (observers and the fusion still cover the whole grid)."""
    rng = np.random.default_rng(seed)
    fusion = ControlFusion(grid, params)
    history: list[list[Observation]] = []
    area = grid.area_km2.copy()
    if scored is not None:
        area[np.setdiff1d(np.arange(len(grid)), scored)] = 0.0  # a cell outside weighs nothing
    total = float(area.sum())
    scores = []
    turned = np.full(len(grid), -1)  # the day the truth last turned the cell other side
    lags: list[int] = []
    grey_codes = [STATE_CODES[ControlState.CONTESTED], STATE_CODES[ControlState.UNCONFIRMED]]
    previous = truths[0] if truths else None
    for day, truth in enumerate(truths):
        t = start_s + day * DAY_S
        todays = simulate_day(grid, truth, t, per_day, noise, rng, road_cells=road_cells, road_share=road_share)
        history.append(todays)
        fusion.fold_all(todays)
        states = fusion.states(t + DAY_S)
        predicted = states == OTHER
        truth_other = truth == TRUTH_OTHER
        turned[truth_other & (previous != TRUTH_OTHER)] = day
        turned[~truth_other] = -1
        shown = (turned >= 0) & predicted
        lags.extend((day - turned[shown]).tolist())
        turned[shown] = -1
        previous = truth
        recent = [o for obs in history[-window_days:] for o in obs]
        naive = baseline_other(grid, recent)
        held = states == HELD
        scores.append(
            DayScore(
                day,
                iou(predicted, truth_other, area),
                iou(naive, truth_other, area),
                float(area[predicted].sum()) / total,
                float(area[truth_other].sum()) / total,
                iou(np.isin(states, grey_codes), truth == TRUTH_GREY, area),
                false_reassurance(held, truth, area),
                false_reassurance(~naive, truth, area),
                centre is not None and bool(held[centre]) and int(truth[centre]) != TRUTH_HELD,
                caution(held, truth, area),
                float(area[truth != TRUTH_HELD].sum()) / total,
            )
        )
    return Evaluation(scores, np.array(lags, dtype=np.int64), glitch_days(truths, grid.area_km2))


def glitch_days(
    truths: list[npt.NDArray[np.int8]], area: npt.NDArray[np.float64], jump: float = 0.1, agree: float = 0.99
) -> tuple[int, ...]:
    """Days whose other-side ground differs from the day before by more than ``jump`` (1 − IoU)
    while the days before and after agree (IoU ≥ ``agree``): a map that flickered, not a change."""
    other = [t == TRUTH_OTHER for t in truths]
    return tuple(
        d
        for d in range(1, len(truths) - 1)
        if iou(other[d - 1], other[d + 1], area) >= agree and iou(other[d], other[d - 1], area) < 1 - jump
    )


def fill_days(days: list[str], truths: list[npt.NDArray[np.int8]]) -> tuple[list[str], list[npt.NDArray[np.int8]]]:
    """Consecutive days from dated snapshots (ISO dates, ascending): a day without a snapshot keeps
    the last map (it stands until it is redrawn)."""
    if not days:
        return [], []
    by_day = dict(zip(days, truths, strict=True))
    first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    out_days, out_truths, current = [], [], truths[0]
    for i in range((last - first).days + 1):
        day = (first + timedelta(days=i)).isoformat()
        current = by_day.get(day, current)
        out_days.append(day)
        out_truths.append(current)
    return out_days, out_truths


def road_cells(grid: Grid, roads: shapely.Geometry, step_m: float = 200.0) -> npt.NDArray[np.intp]:
    """The grid cells that ``roads`` (lines, lon/lat) cross: one entry per ``step_m`` of road, so a
    random pick is a random place on the roads."""
    scale = np.cos(np.radians(grid.lat.mean()))  # lines measured in metres: longitudes shrunk by cos(lat)
    step_deg = step_m / M_PER_DEG
    lines = shapely.get_parts(shapely.transform(roads, lambda xy: xy * [scale, 1.0]))
    lines = lines[shapely.get_type_id(lines) == shapely.GeometryType.LINESTRING]
    counts = np.ceil(shapely.length(lines) / step_deg).astype(np.intp) if lines.size else np.zeros(0, dtype=np.intp)
    along = np.concatenate([np.arange(c) * step_deg for c in counts]) if lines.size else np.zeros(0)
    points = shapely.get_coordinates(shapely.line_interpolate_point(np.repeat(lines, counts), along))
    if points.size == 0:
        return np.zeros(0, dtype=np.intp)
    nearest, distance_m = grid.nearest(points[:, 0] / scale, points[:, 1])
    return np.asarray(nearest[distance_m < 2 * float(np.sqrt(grid.area_km2.mean())) * 1000], dtype=np.intp)


def truth_states(grid: Grid, other: object | None, grey: object | None) -> npt.NDArray[np.int8]:
    """Truth codes per cell from a map's other-side and grey areas (cells whose centres are inside)."""
    t = np.full(len(grid), TRUTH_HELD, dtype=np.int8)
    if other is not None:
        t[grid.inside(other)] = TRUTH_OTHER
    if grey is not None:
        t[grid.inside(grey)] = TRUTH_GREY
    return t
