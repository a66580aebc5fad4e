from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from greyzone.control.fusion import DAY_S, STATE_CODES, ControlFusion, ControlState, FusionParams, Observation
from greyzone.model.enums import Side
from greyzone.model.grid import Grid

CITY = box(37.10, 48.24, 37.26, 48.33)
RAW_OBSERVATIONS = st.lists(  # (lon, lat, side, day, reliability) of observers in the city
    st.tuples(
        st.floats(37.11, 37.25),
        st.floats(48.25, 48.32),
        st.sampled_from([Side.HELD, Side.OTHER_SIDE]),
        st.floats(0, 30),
        st.floats(0.55, 0.99),
    ),
    min_size=1,
    max_size=40,
)
T0 = 1_730_000_000.0
HELD, OTHER = STATE_CODES[ControlState.HELD], STATE_CODES[ControlState.OTHER_SIDE]
CONTESTED, UNCONFIRMED = STATE_CODES[ControlState.CONTESTED], STATE_CODES[ControlState.UNCONFIRMED]


@pytest.fixture(scope="module")
def grid() -> Grid:
    return Grid.from_polygon(CITY, 8)


def obs(lon: float, lat: float, side: Side, day: float = 0.0, reliability: float = 0.9) -> Observation:
    return Observation(T0 + day * DAY_S, side, reliability, lon, lat, 100.0)


def cell_of(grid: Grid, lon: float, lat: float) -> int:
    idx, d = grid.near(lon, lat, 600)
    return int(idx[np.argmin(d)])


def test_a_reliable_observation_flips_its_cell_and_not_far_cells(grid: Grid) -> None:
    fusion = ControlFusion(grid)
    fusion.fold(obs(37.18, 48.28, Side.OTHER_SIDE))
    states = fusion.states()
    assert states[cell_of(grid, 37.18, 48.28)] == OTHER
    assert states[cell_of(grid, 37.12, 48.32)] == UNCONFIRMED  # ~5 km away: nothing known there
    assert fusion.p_other()[cell_of(grid, 37.18, 48.28)] > 0.8


def test_conflicting_fresh_observations_are_contested(grid: Grid) -> None:
    fusion = ControlFusion(grid)
    fusion.fold(obs(37.18, 48.28, Side.OTHER_SIDE, 0.0))
    fusion.fold(obs(37.18, 48.28, Side.HELD, 0.1))
    assert fusion.states()[cell_of(grid, 37.18, 48.28)] == CONTESTED


def test_silence_becomes_unconfirmed_after_the_horizon(grid: Grid) -> None:
    params = FusionParams(horizon_days=10, half_life_days=8)  # the horizon, not the decay, decides here
    fusion = ControlFusion(grid, params)
    fusion.fold(obs(37.18, 48.28, Side.HELD))
    here = cell_of(grid, 37.18, 48.28)
    assert fusion.states(T0 + 9 * DAY_S)[here] == HELD
    assert fusion.states(T0 + 11 * DAY_S)[here] == UNCONFIRMED


def test_areas_cover_their_cells_and_unknown_marks_without_a_side(grid: Grid) -> None:
    fusion = ControlFusion(grid)
    fusion.fold(Observation(T0, Side.OTHER_SIDE, 0.8, area=box(37.20, 48.24, 37.26, 48.33)))
    fusion.fold(Observation(T0, Side.UNKNOWN, 0.8, area=Point(37.12, 48.30).buffer(0.01)))
    states = fusion.states()
    east = grid.lon >= 37.20  # the cells whose centres are inside the area
    assert (states[east] == OTHER).all() and not (states[~east] == OTHER).any()
    seen = fusion.as_of > -np.inf
    assert seen[cell_of(grid, 37.12, 48.30)] and states[cell_of(grid, 37.12, 48.30)] == UNCONFIRMED
    shares = fusion.area_km2(states)
    assert shares["other_side"] == pytest.approx(grid.area_km2[east].sum())


@settings(max_examples=20, deadline=None)
@given(
    RAW_OBSERVATIONS,
    st.floats(0, 40),
)
def test_replay_equals_fusing_the_observations_up_to_then(grid: Grid, raw: list, at_day: float) -> None:  # type: ignore[type-arg]
    observations = [obs(x, y, s, d, r) for x, y, s, d, r in raw]
    t = T0 + at_day * DAY_S
    replayed = ControlFusion.replay(grid, observations, t)
    direct = ControlFusion(grid)
    for o in sorted(observations, key=lambda o: o.t_s):
        if o.t_s <= t:
            direct.fold(o)
    assert np.array_equal(replayed.states(t), direct.states(t))
    assert np.allclose(replayed.p_other(), direct.p_other())


def test_evaluation_follows_a_moving_front() -> None:
    from greyzone.control.evaluate import TRUTH_HELD, TRUTH_OTHER, evaluate

    region = box(36.9, 48.0, 37.5, 48.5)
    g = Grid.from_polygon(region, 7)
    truths = []
    for day in range(40):  # the other side's ground grows westwards, 300 m a day
        front = 37.35 - day * 300 / (111_320 * np.cos(np.radians(48.25)))
        truths.append(np.where(g.lon > front, TRUTH_OTHER, TRUTH_HELD).astype(np.int8))
    result = evaluate(g, truths, T0, per_day=60, noise=0.1, seed=3)
    scores = result.scores
    assert 0 <= result.median_lag_days <= 7  # the moving front shows within a week
    assert len(scores) == 40 and [s.day for s in scores] == list(range(40))
    fused = np.array([s.iou_other for s in scores[7:]])
    baseline = np.array([s.baseline_iou_other for s in scores[7:]])
    assert fused.mean() > 0.8 and baseline.mean() > 0.8  # both follow the front after a week's warm-up
    assert abs(scores[-1].other_share - scores[-1].truth_other_share) < 0.1


def test_products_polygons_shares_changes_and_reports(grid: Grid) -> None:
    from datetime import UTC, datetime

    from shapely.geometry import box as make_box

    from greyzone.control.products import changes, observations_from_reports, place_shares, state_areas
    from greyzone.model import Kind, Report

    east = make_box(37.20, 48.24, 37.26, 48.33)
    reports = [
        Report(
            kind=Kind.CONTROL_OBSERVATION,
            side=Side.OTHER_SIDE,
            observed_at=datetime(2024, 11, 1, tzinfo=UTC),
            lon=37.23,
            lat=48.28,
            location_precision_m=3000.0,
            source="map",
            credibility=0.8,
            area_wkb=east.wkb,
        ),
        Report(
            kind=Kind.CONTROL_OBSERVATION,
            side=Side.HELD,
            observed_at=datetime(2024, 11, 2, tzinfo=UTC),
            lon=37.12,
            lat=48.28,
            location_precision_m=200.0,
            source="observer",
            credibility=0.6,
        ),
        Report(
            kind=Kind.SHELLING,
            observed_at=datetime(2024, 11, 2, tzinfo=UTC),
            lon=37.12,
            lat=48.28,
            location_precision_m=200.0,
            source="police",
        ),
    ]
    observations = observations_from_reports(reports)
    assert [o.side for o in observations] == [Side.OTHER_SIDE, Side.HELD]
    assert observations[0].area is not None and observations[0].reliability == pytest.approx(0.9)
    fusion = ControlFusion(grid)
    before = fusion.states(observations[0].t_s)
    fusion.fold_all(observations)
    after = fusion.states()
    areas = {a.state.value: a for a in state_areas(fusion, after)}
    assert areas["other_side"].area_km2 == pytest.approx(grid.area_km2[grid.lon >= 37.20].sum())
    assert areas["other_side"].geometry.intersection(east).area / areas["other_side"].geometry.area > 0.9
    assert areas["other_side"].as_of_s == observations[0].t_s and areas["held"].as_of_s == observations[1].t_s
    shares = place_shares(fusion, after, east)
    assert shares["other_side"] == pytest.approx(1.0) and sum(shares.values()) == pytest.approx(1.0)
    log = changes(fusion, before, after, fusion.t_s)
    assert {c.after.value for c in log} == {"other_side", "held"}
    assert all(c.before.value == "unconfirmed" for c in log)


@settings(max_examples=15, deadline=None)
@given(
    RAW_OBSERVATIONS,
    st.floats(-1, 40),
)
def test_history_checkpoints_replay_exactly(grid: Grid, raw: list, at_day: float) -> None:  # type: ignore[type-arg]
    from greyzone.control.fusion import ControlHistory

    observations = [obs(x, y, s, d, r) for x, y, s, d, r in raw]
    t = T0 + at_day * DAY_S
    history = ControlHistory(grid, observations, every_days=2.0)
    replayed = ControlFusion.replay(grid, observations, t)
    fast = history.at(t)
    assert np.array_equal(fast.evidence, replayed.evidence) and np.array_equal(fast.context, replayed.context)
    assert np.array_equal(fast.states(t), replayed.states(t))


def test_the_neighbourhood_outvotes_a_lone_report_where_the_cell_knows_little(grid: Grid) -> None:
    here = (37.18, 48.28)
    ring = [(here[0] + 0.057 * np.cos(a), here[1] + 0.038 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 12)]
    observations = [obs(x, y, Side.HELD, day=0.1 * i) for i, (x, y) in enumerate(ring)]  # 4.2 km around: out of reach
    observations.append(obs(*here, Side.OTHER_SIDE, day=1.5, reliability=0.7))
    cell = cell_of(grid, *here)
    alone = ControlFusion(grid, FusionParams(context_weight=0.0))
    alone.fold_all(observations)
    assert alone.states()[cell] == OTHER  # its own evidence is that one report
    with_prior = ControlFusion(grid)
    with_prior.fold_all(observations)
    assert with_prior.states()[cell] == HELD  # twelve held reports around it weigh more than a lone unsure one
    sure = ControlFusion(grid)
    sure.fold_all([*observations[:-1], obs(*here, Side.OTHER_SIDE, day=1.5, reliability=0.95)])
    assert sure.states()[cell] in (UNCONFIRMED, OTHER)  # a sure one makes a front at once: never held


SIDED_OR_GREY = st.sampled_from([Side.HELD, Side.OTHER_SIDE, Side.UNKNOWN])
LATER_OBSERVATIONS = st.lists(  # (lon, lat, side, hours after the other-side report, reliability)
    st.tuples(st.floats(37.15, 37.21), st.floats(48.26, 48.30), SIDED_OR_GREY, st.floats(0, 60), st.floats(0.55, 0.99)),
    max_size=30,
)


def _distance_m(o: Observation, lon: float, lat: float) -> float:
    k = np.cos(np.radians(lat))
    return float(np.hypot((o.lon - lon) * k, o.lat - lat) * 111_320.0)


@settings(max_examples=40, deadline=None)
@given(RAW_OBSERVATIONS, st.floats(37.16, 37.20), st.floats(48.27, 48.29), LATER_OBSERVATIONS, st.floats(0, 70))
def test_a_cell_beside_a_fresh_other_side_report_is_held_only_on_newer_evidence_of_its_own(
    grid: Grid,
    before: list,  # type: ignore[type-arg]
    lon: float,
    lat: float,
    after: list,  # type: ignore[type-arg]
    at_hours: float,
) -> None:
    """Whatever came before (held reports all around included) and whatever comes after: a cell within
    switch_m of a fresh, sure other-side report is held only if held reports newer than it, enough to
    be sure, stand on the cell."""
    p = FusionParams()
    t0 = T0 + 31 * DAY_S  # after every earlier report
    report = Observation(t0, Side.OTHER_SIDE, 0.9, lon, lat, 100.0)  # a sure report (see the docstring)
    t = t0 + min(at_hours, p.threat_days * 24) * 3600
    later = [Observation(t0 + h * 3600, s, r, x, y, 100.0) for x, y, s, h, r in after if t0 + h * 3600 <= t]
    fusion = ControlFusion(grid)
    fusion.fold_all([obs(x, y, s, d, r) for x, y, s, d, r in before] + [report, *later])
    states = fusion.states(t)
    idx, d = grid.near(lon, lat, report.radius_m + p.switch_m)
    for i in idx[d - report.radius_m <= p.switch_m].tolist():
        if states[i] != HELD:
            continue
        x, y = float(grid.lon[i]), float(grid.lat[i])
        newer_own = [o for o in later if o.side is Side.HELD and _distance_m(o, x, y) <= o.radius_m + p.own_m]
        assert len(newer_own) >= 2 or any(o.reliability > 0.88 for o in newer_own), (i, newer_own)


@settings(max_examples=30, deadline=None)
@given(RAW_OBSERVATIONS, st.lists(st.tuples(st.floats(0, 2 * np.pi), st.floats(0.8, 3.0)), min_size=1, max_size=25))
def test_neighbours_held_reports_alone_never_make_an_unconfirmed_front_cell_held(
    grid: Grid,
    before: list,  # type: ignore[type-arg]
    around: list,  # type: ignore[type-arg]
) -> None:
    """A front cell (beside other-side or grey ground) that is unconfirmed stays not held while only
    its neighbours report held: however many, however sure."""
    p = FusionParams()
    here = (37.18, 48.28)
    t0 = T0 + 31 * DAY_S
    fusion = ControlFusion(grid)
    fusion.fold_all([obs(x, y, s, d, r) for x, y, s, d, r in before])
    fusion.fold(Observation(t0, Side.OTHER_SIDE, 0.9, here[0] + 0.01, here[1], 100.0))  # ~740 m east
    cell = cell_of(grid, *here)
    cx, cy = float(grid.lon[cell]), float(grid.lat[cell])
    assert fusion.beside_front()[cell] and fusion.states()[cell] != HELD
    k = np.cos(np.radians(cy))
    for n, (angle, km) in enumerate(around):
        x, y = cx + km * 1000 * np.cos(angle) / (111_320 * k), cy + km * 1000 * np.sin(angle) / 111_320
        neighbour = Observation(t0 + (n + 1) * 600, Side.HELD, 0.99, x, y, 100.0)
        assert _distance_m(neighbour, cx, cy) > neighbour.radius_m + p.own_m  # not the cell's own
        fusion.fold(neighbour)
        if fusion.beside_front()[cell]:
            assert fusion.states()[cell] != HELD
    assert fusion.beside_front()[cell]  # within threat_days of the other-side report: still a front cell


def test_newly_taken_ground_makes_the_held_cells_beside_it_unconfirmed_at_once(grid: Grid) -> None:
    """A block held on a week of reports, then the map's other-side area next door: the cells beside it
    stop being held on the day, and become held again only on two fresh reports of their own (85 % sure)."""
    here = (37.18, 48.28)
    held = [obs(here[0] + dx, here[1], Side.HELD, day) for day in range(7) for dx in (-0.01, 0, 0.01)]
    fusion = ControlFusion(grid)
    fusion.fold_all(held)
    cell = cell_of(grid, *here)
    assert fusion.states(T0 + 7 * DAY_S)[cell] == HELD
    taken = box(here[0] + 0.006, here[1] - 0.02, here[0] + 0.04, here[1] + 0.02)  # its edge ~450 m east
    fusion.fold(Observation(T0 + 7.2 * DAY_S, Side.OTHER_SIDE, 0.95, area=taken))
    states = fusion.states()
    assert states[cell] == UNCONFIRMED
    inside = grid.inside(taken)
    assert inside.size > 10 and not (states[inside] == HELD).any()  # a week of held reports next door: not held
    assert (states[inside] == OTHER).any()  # where they reach less, the map's area wins
    fusion.fold(obs(*here, Side.HELD, 7.5, reliability=0.85))
    assert fusion.states()[cell] == UNCONFIRMED  # one report may be wrong
    fusion.fold(obs(*here, Side.HELD, 7.6, reliability=0.85))
    assert fusion.states()[cell] == HELD


def test_recent_unknown_status_reports_make_a_cell_unconfirmed(grid: Grid) -> None:
    fusion = ControlFusion(grid)
    here = cell_of(grid, 37.18, 48.28)
    fusion.fold(obs(37.18, 48.28, Side.HELD, 0.0))
    assert fusion.states()[here] == HELD
    for day in (2.0, 2.5, 3.0):
        fusion.fold(obs(37.18, 48.28, Side.UNKNOWN, day))
    assert fusion.states()[here] == UNCONFIRMED and fusion.grey[here] > fusion.held[here]


def test_glitches_gaps_and_road_cells() -> None:
    from shapely.geometry import LineString

    from greyzone.control.evaluate import fill_days, glitch_days, road_cells

    g = Grid.from_polygon(box(36.9, 48.0, 37.5, 48.5), 7)
    west = np.where(g.lon < 37.2, 1, 0).astype(np.int8)
    less = np.where(g.lon < 37.0, 1, 0).astype(np.int8)
    days, maps = fill_days(["2024-01-01", "2024-01-03", "2024-01-04", "2024-01-05"], [west, west, less, west])
    assert days == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    assert maps[1] is west  # the day without a map keeps the last one
    assert glitch_days(maps, g.area_km2) == (3,)  # lost two thirds of the ground for a day, then got it back
    road = LineString([(37.0, 48.25), (37.4, 48.25)])  # ~29.7 km along a parallel
    cells = road_cells(g, road)
    assert 140 <= cells.size <= 150  # one entry per 200 m
    assert np.all(np.abs(g.lat[cells] - 48.25) < 0.015) and np.ptp(g.lon[cells]) > 0.35


def test_false_reassurance_is_the_unsafe_ground_called_held() -> None:
    from greyzone.control.evaluate import TRUTH_GREY, TRUTH_HELD, TRUTH_OTHER, false_reassurance

    truth = np.array([TRUTH_HELD, TRUTH_OTHER, TRUTH_GREY, TRUTH_OTHER], dtype=np.int8)
    area = np.array([1.0, 1.0, 2.0, 1.0])
    held = np.array([True, True, False, False])
    assert false_reassurance(held, truth, area) == pytest.approx(1 / 4)  # 1 km² of the 4 km² unsafe ground
    assert false_reassurance(np.ones(4, bool), truth, area) == 1.0
    assert false_reassurance(held, np.zeros(4, np.int8), area) == 0.0  # nothing unsafe: nothing misled


def test_cells_near_a_point(grid: Grid) -> None:
    from greyzone.control.evaluate import cells_near

    lon, lat = float(grid.lon.mean()), float(grid.lat.mean())
    near = cells_near(grid, lon, lat, 3.0)
    far = np.setdiff1d(np.arange(len(grid)), near)
    d = np.hypot((grid.lon - lon) * 111_320 * np.cos(np.radians(lat)), (grid.lat - lat) * 111_320)
    assert near.size and (d[near] <= 3000).all() and (d[far] > 3000).all()


def test_observations_of_one_moment_replay_alike_from_checkpoints(grid: Grid) -> None:
    """Several observers at the same moment: the history's checkpoints fold them in the order a replay does
    (the fixed order of ``fold_order``), whatever order they came in."""
    from greyzone.control.fusion import ControlHistory

    rng = np.random.default_rng(0)
    for _ in range(20):
        days = rng.choice([0.0, 1.0, 3.0], 8)
        raw = [obs(float(rng.uniform(37.11, 37.25)), float(rng.uniform(48.25, 48.32)),
                   Side.HELD if rng.random() < 0.5 else Side.OTHER_SIDE, float(d), float(rng.uniform(0.55, 0.99)))
               for d in days]  # fmt: skip
        t = T0 + 5 * DAY_S
        for order in (raw, raw[::-1]):
            fast, replayed = ControlHistory(grid, order, every_days=2.0).at(t), ControlFusion.replay(grid, raw, t)
            assert np.array_equal(fast.evidence, replayed.evidence)
            assert np.array_equal(fast.states(t), replayed.states(t))


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-0.5, 0.5),
    st.floats(-0.35, 0.35),
    st.sampled_from(list(Side)),
    st.sampled_from([0.0, 300.0, 3000.0]),
)
def test_an_observation_said_not_to_reach_a_grid_changes_nothing_on_it(
    dlon: float, dlat: float, side: Side, radius: float
) -> None:
    """``reaches`` (a front's part folds only the observations of its ring that reach it) is False only
    where folding the observation leaves every array of the state as it was; near the grid it is True."""
    g = Grid.from_polygon(box(37.10, 48.20, 37.20, 48.27), 8)
    o = Observation(T0 + DAY_S, side, 0.9, 37.15 + dlon, 48.235 + dlat, radius)
    folded, left = ControlFusion(g), ControlFusion(g)
    for f in (folded, left):
        f.fold(obs(37.15, 48.235, Side.HELD))
    folded.fold(o)
    left.advance(o.t_s)
    same = all(np.array_equal(getattr(folded, name), getattr(left, name)) for name in ControlFusion.STATE)
    if not folded.reaches(o):
        assert same
    if abs(dlon) < 0.1 and abs(dlat) < 0.07:  # within the grid or beside it
        assert folded.reaches(o) and not same
