"""Time-dependent least-cost paths: exact against Dijkstra on the explicitly built time-expanded graph."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from greyzone.routing.graph import StreetGraph
from greyzone.routing.timed import TimedRouter, hour_entered
from strategies import random_graph


def time_expanded_truth(
    g: StreetGraph,
    ticks: npt.NDArray[np.int64],
    hourly: npt.NDArray[np.float64],
    s: int,
    depart_s: float,
    tick_s: float,
    horizon: int,
    every_tick: bool = False,
    keep: Callable[[int, int], bool] | None = None,
) -> npt.NDArray[np.float64]:
    """Brute force: every (junction, tick) up to ``horizon`` ticks is a vertex; every street entered at
    every tick an arc, charged the hour it is entered. The cheapest cost to each junction, any tick
    (``every_tick``: to each junction at each tick, junctions × ticks). ``keep(e, hour)`` False leaves
    the arc of street e entered in that hour out."""
    n, hours = g.n_nodes, hourly.shape[1]
    rows, cols, vals = [], [], []
    for k in range(horizon + 1):
        hour = min(int((depart_s + k * tick_s) // 3600), hours - 1)
        for e in range(g.n_edges):
            c, nk = hourly[e, hour], k + ticks[e]
            if np.isfinite(c) and nk <= horizon and (keep is None or keep(e, hour)):
                rows.append(g.source()[e] * (horizon + 1) + k)
                cols.append(g.target[e] * (horizon + 1) + nk)
                vals.append(c + 1e-300)
    size = n * (horizon + 1)
    best: dict[tuple[int, int], float] = {}  # parallel arcs: the cheapest (a sparse matrix would add them)
    for r, c, v in zip(rows, cols, vals, strict=True):
        best[(r, c)] = min(v, best.get((r, c), np.inf))
    r2, c2 = zip(*best, strict=True) if best else ((), ())
    matrix = csr_matrix((list(best.values()), (list(r2), list(c2))), shape=(size, size))
    dist = np.asarray(dijkstra(matrix, indices=s * (horizon + 1)), dtype=np.float64).reshape(n, horizon + 1)
    return dist if every_tick else np.asarray(dist.min(axis=1))


def whole_ticks(router: TimedRouter, depart_s: float) -> tuple[npt.NDArray[np.int64], int]:
    """The travel times in ticks (whole ticks in these tests) and how many ticks the brute force runs:
    well beyond the cap, past which the cost no longer depends on the tick."""
    ticks = np.rint(router.seconds / router.tick_s).astype(np.int64)
    n = router.graph.n_nodes
    return ticks, router.cap(depart_s) + 4 * n + 4 * int(ticks.max(initial=0)) * n + 4


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 12), st.integers(1, 40), st.integers(1, 4), st.floats(0, 7200), st.integers(0, 10_000))
def test_time_dependent_search_equals_the_time_expanded_graph(
    n: int, m: int, hours: int, depart_s: float, seed: int
) -> None:
    g, _ = random_graph(n, m, seed)
    rng = np.random.default_rng(seed)
    tick_s = 600.0  # six ticks an hour: paths of a few streets cross hours
    seconds = rng.integers(0, 5, g.n_edges).astype(np.float64) * tick_s
    hourly = rng.uniform(0, 10, (g.n_edges, hours)) * (rng.random((g.n_edges, hours)) > 0.1)
    hourly[rng.random((g.n_edges, hours)) < 0.1] = np.inf  # closed in some hours
    router = TimedRouter(g, seconds, hourly, tick_s=tick_s)
    layered = TimedRouter(g, seconds, hourly, tick_s=tick_s, quick_states=0)  # always the layered bounds
    stepped = TimedRouter(g, seconds, hourly, tick_s=tick_s, quick_states=0, layered_states=0)  # the stepped ones
    ticks, horizon = whole_ticks(router, depart_s)
    for s in rng.integers(0, n, 3).tolist():
        truth = time_expanded_truth(g, ticks, hourly, s, depart_s, tick_s, horizon)
        for t, path in [(t, r.path(s, t, depart_s)) for t in range(n) for r in (router, layered, stepped)]:
            if np.isinf(truth[t]):
                assert not path.reachable
                continue
            assert path.reachable and path.cost == pytest.approx(truth[t], rel=1e-9, abs=1e-9)
            assert path.nodes[0] == s and path.nodes[-1] == t
            hour = hour_entered(depart_s, path.entered_s, hours)
            assert hourly[path.edges, hour].sum() == pytest.approx(path.cost, rel=1e-9, abs=1e-9)  # costs what it says


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 8), st.integers(1, 24), st.integers(2, 4), st.floats(0, 3600), st.integers(0, 10_000))
def test_the_stepped_bounds_never_exceed_what_is_left_to_pay(
    n: int, m: int, hours: int, depart_s: float, seed: int
) -> None:
    """From every (junction, tick) a route from the origin can be at, the stepped bound (what the search
    adds to a state's cost) is at most the least cost on from there to the destination, by the
    time-expanded graph. Costs are at least a weight per second of travel (as the planner's are), so
    the bound charges the time left in the hour to a way that leaves it; streets take at most ten
    minutes, so a way cannot stay in its hour long after the hour ends."""
    from greyzone.routing.timed import _potential

    g, _ = random_graph(n, m, seed)
    rng = np.random.default_rng(seed)
    tick_s = 300.0
    seconds = rng.integers(0, 3, g.n_edges).astype(np.float64) * tick_s
    # each hour a rate per second of travel (so that bounds are often tight), a few streets dearer
    hourly = seconds[:, None] / tick_s * rng.uniform(1, 4, hours) + rng.uniform(0, 3, (g.n_edges, hours)) * (
        rng.random((g.n_edges, hours)) < 0.3
    )
    hourly[rng.random((g.n_edges, hours)) < 0.05] = np.inf
    router = TimedRouter(g, seconds, hourly, tick_s=tick_s)
    ticks, horizon = whole_ticks(router, depart_s)
    s, t = (int(x) for x in rng.integers(0, n, 2))
    reached = time_expanded_truth(g, ticks, hourly, s, depart_s, tick_s, horizon, every_tick=True)
    first, last = router.hour(depart_s), hours - 1
    pots = router._bounds(s, t, np.array([depart_s]), first, last, np.inf, True)
    states = np.argwhere(np.isfinite(reached))
    rows = last - first + 1
    for v, k in states[rng.permutation(len(states))[:12]].tolist():
        at = depart_s + k * tick_s
        hour = router.hour(at)
        on = time_expanded_truth(g, ticks, hourly, v, at, tick_s, horizon)[t]
        bound = _potential(pots, first, last, at, v, router.static.landmarks, t, router.rho, router.hold)
        assert bound <= on * (1 + 1e-9) + 1e-12, (v, k, bound, on)
        if hour >= last or v == t:
            continue
        # each branch on its own: a way that stays in the hour, and one that leaves it (enters the
        # destination's street in a later hour)
        stays = time_expanded_truth(g, ticks, hourly, v, at, tick_s, horizon, keep=lambda e, h, k=hour: h <= k)[t]
        leaves = time_expanded_truth(
            g, ticks, hourly, v, at, tick_s, horizon, keep=lambda e, h, k=hour: h > k or g.target[e] != t
        )[t]
        row = hour - first
        leave = max(pots[rows + row, v], pots[2 * rows + row, v] + router.rho * ((hour + 1) * 3600.0 - at))
        assert leave <= leaves * (1 + 1e-9) + 1e-12, (v, k, leave, leaves)
        if at + pots[3 * rows, v] < (hour + 1) * 3600.0 + router.hold:  # the search lets it stay
            assert pots[row, v] <= stays * (1 + 1e-9) + 1e-12, (v, k, pots[row, v], stays)
        else:
            assert np.isinf(stays), (v, k, stays)  # it cannot


def test_past_their_memory_cap_the_stepped_bounds_give_way_to_the_layered_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A search whose stepped bounds would hold more than ``stepped_cells`` numbers never computes them:
    it runs on the layered bounds to the full budget, and its answer is still the time-expanded truth."""
    from greyzone.routing import timed

    g, _ = random_graph(12, 40, 7)
    rng = np.random.default_rng(7)
    tick_s = 600.0
    seconds = rng.integers(1, 5, g.n_edges).astype(np.float64) * tick_s
    hourly = rng.uniform(0, 10, (g.n_edges, 4))
    capped = TimedRouter(g, seconds, hourly, tick_s=tick_s, quick_states=0, layered_states=0, stepped_cells=3 * 12)
    free = TimedRouter(g, seconds, hourly, tick_s=tick_s, quick_states=0, layered_states=0)
    ticks, horizon = whole_ticks(capped, 0.0)
    truth = time_expanded_truth(g, ticks, hourly, 0, 0.0, tick_s, horizon)
    stepped = [free.path(0, t, 0.0) for t in range(1, 12)]  # these reach the stepped bounds
    assert any(p.reachable for p in stepped)

    def refused(*args: object) -> None:
        raise AssertionError("the stepped bounds were computed past their cap")

    monkeypatch.setattr(timed, "_stepped", refused)
    for t, other in zip(range(1, 12), stepped, strict=True):
        path = capped.path(0, t, 0.0)
        assert path.exact and path.reachable == np.isfinite(truth[t])
        if path.reachable:
            assert path.cost == pytest.approx(truth[t], rel=1e-9) == other.cost
    with pytest.raises(AssertionError, match="past their cap"):
        free.path(0, int(np.argmax(np.where(np.isfinite(truth), truth, -1))), 0.0)


def test_the_hour_decides_the_way() -> None:
    """Two ways from 0 to 3: via 1 (dear in hour 0, free later) and via 2 (the reverse)."""
    from greyzone.routing.graph import Edges

    u, v = np.array([0, 1, 0, 2]), np.array([1, 3, 2, 3])
    shapes = [np.array([[0.0, 0.0], [0.001, 0.0]])] * 4
    g = StreetGraph.from_edges(
        np.array([0.0, 0.001, 0.001, 0.002]),
        np.zeros(4),
        Edges(u, v, np.full(4, 100.0), np.zeros(4, np.int8), np.ones(4, bool), [""] * 4, shapes),
    )
    by_pair = {(0, 1): [1.0, 1.0], (1, 3): [5.0, 0.0], (0, 2): [1.0, 1.0], (2, 3): [0.0, 5.0]}  # × hour
    hourly = np.array([by_pair[(a, b)] for a, b in zip(g.source().tolist(), g.target.tolist(), strict=True)])
    seconds = np.full(4, 1800.0)
    router = TimedRouter(g, seconds, hourly, tick_s=60.0)
    early = router.path(0, 3, depart_s=0.0)  # second street entered at 0:30, still hour 0
    late = router.path(0, 3, depart_s=2400.0)  # second street entered at 1:10, hour 1
    assert early.nodes.tolist() == [0, 2, 3] and early.cost == 1.0
    assert late.nodes.tolist() == [0, 1, 3] and late.cost == 1.0
    assert hour_entered(2400.0, late.entered_s, 2).tolist() == [0, 1]


def test_hourly_costs_are_checked() -> None:
    g, _ = random_graph(5, 10, 0)
    with pytest.raises(ValueError, match="edges × hours"):
        TimedRouter(g, np.ones(g.n_edges), np.ones(g.n_edges))
    with pytest.raises(ValueError, match="non-negative"):
        TimedRouter(g, np.ones(g.n_edges), -np.ones((g.n_edges, 2)))


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 40), st.integers(3, 150), st.integers(2, 5), st.floats(0, 3599), st.integers(0, 10_000))
def test_no_route_is_more_exposed_than_the_fastest(n: int, m: int, hours: int, depart_s: float, seed: int) -> None:
    """Charged the hours it is travelled, the chosen route's exposure never exceeds the fastest route's."""
    from greyzone.model.enums import Kind
    from greyzone.routing.exposure import PROFILES, Mode
    from greyzone.routing.planner import Planner
    from greyzone.routing.shortest import Router

    g, _ = random_graph(n, m, seed)
    rng = np.random.default_rng(seed)
    rates = {Kind.SHELLING: rng.uniform(0, 3000, (g.n_edges, hours)), Kind.FPV_STRIKE: rng.uniform(0, 900, g.n_edges)}
    planner = Planner(g, PROFILES[Mode.CAR], rates, tick_s=60.0)
    fastest = Router(g, planner.seconds)
    for s, t in rng.integers(0, n, (8, 2)).tolist():
        chosen, quick = planner.route(s, t, depart_s), fastest.path(s, t)
        assert chosen.reachable == quick.reachable
        if not quick.reachable:
            continue
        hour = hour_entered(depart_s, np.concatenate(([0.0], np.cumsum(planner.seconds[quick.edges])[:-1])), hours)
        assert chosen.exposure is not None and chosen.exposure <= planner.exposure[quick.edges, hour].sum() + 1e-12
        assert chosen.seconds >= quick.cost - 1e-6


def test_the_best_departure_in_a_window_is_the_least_exposed() -> None:
    from greyzone.model.enums import Kind
    from greyzone.routing.exposure import PROFILES, Mode
    from greyzone.routing.planner import Planner, best_departure

    g, _ = random_graph(30, 120, 7)
    hourly = np.tile(np.array([400.0, 900.0, 50.0, 700.0, 700.0]), (g.n_edges, 1))  # calm in hour 2
    planner = Planner(g, PROFILES[Mode.CAR], {Kind.SHELLING: hourly})
    departures = np.arange(0, 4 * 3600 + 1, 1800.0)
    s, t = 0, int(np.argmax([planner.route(0, v).seconds if planner.route(0, v).reachable else 0 for v in range(30)]))
    best, routes = best_departure(planner, s, t, departures)
    risks = [r.risk for r in routes]
    assert all(r is not None for r in risks) and risks[best] == min(risks)  # type: ignore[type-var]
    assert 2 * 3600 <= departures[best] < 3 * 3600  # leaves in the calm hour
    assert routes[best].riskiest and routes[best].riskiest[0].threat == Kind.SHELLING


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 10), st.integers(1, 30), st.integers(2, 4), st.floats(0, 3600), st.integers(0, 10_000))
def test_a_window_equals_a_search_from_each_departure(n: int, m: int, hours: int, first_s: float, seed: int) -> None:
    """One search from every departure at once (``best``) gives the least of the time-expanded truths
    of each departure, leaves at a departure whose own truth is that, and costs what it says."""
    g, _ = random_graph(n, m, seed)
    rng = np.random.default_rng(seed)
    tick_s = 600.0
    seconds = rng.integers(0, 5, g.n_edges).astype(np.float64) * tick_s
    hourly = rng.uniform(0, 10, (g.n_edges, hours)) * (rng.random((g.n_edges, hours)) > 0.1)
    hourly[rng.random((g.n_edges, hours)) < 0.1] = np.inf
    router = TimedRouter(g, seconds, hourly, tick_s=tick_s)
    departures = first_s + np.arange(int(rng.integers(1, 6))) * 1800.0  # across the hours
    ticks, horizon = whole_ticks(router, float(departures[0]))
    s = int(rng.integers(0, n))
    truths = np.array([time_expanded_truth(g, ticks, hourly, s, float(d), tick_s, horizon) for d in departures])
    layered = TimedRouter(g, seconds, hourly, tick_s=tick_s, quick_states=0)  # always the layered bounds
    stepped = TimedRouter(g, seconds, hourly, tick_s=tick_s, quick_states=0, layered_states=0)  # the stepped ones
    for t, r in [(t, r) for t in range(n) for r in (router, layered, stepped)]:
        best, path = r.best(s, t, departures)
        singles = [r.path(s, t, float(d)) for d in departures]
        if np.isinf(truths[:, t]).all():
            assert not path.reachable and not any(p.reachable for p in singles)
            continue
        assert path.reachable and path.cost == pytest.approx(truths[:, t].min(), rel=1e-9, abs=1e-9)
        assert truths[best, t] == pytest.approx(path.cost, rel=1e-9, abs=1e-9)  # it leaves when it says
        assert path.cost == pytest.approx(min(p.cost for p in singles if p.reachable), rel=1e-9, abs=1e-9)
        hour = hour_entered(float(departures[best]), path.entered_s, hours)
        assert hourly[path.edges, hour].sum() == pytest.approx(path.cost, rel=1e-9, abs=1e-9)


def test_district_scale_searches_are_exact_within_the_budget() -> None:
    """On a generated city of 10^4 junctions with hot spots that change by the hour (the benchmark's
    hazard), every search of 30 pairs ends within its state budget (no fallback), never costs more
    than the static route charged the hours it is travelled, and a window's best is no dearer than
    its own departures' routes."""
    import importlib.util
    from pathlib import Path

    from greyzone.model.enums import Kind
    from greyzone.routing.exposure import PROFILES, Mode
    from greyzone.routing.planner import Planner, best_departure

    spec = importlib.util.spec_from_file_location(
        "bench_routing", Path(__file__).parent.parent / "benchmarks/routing.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    generated_city, hazard = bench.generated_city, bench.hazard

    g = generated_city(100)
    planner = Planner(g, PROFILES[Mode.CAR], {Kind.SHELLING: hazard(g)})
    assert planner.timed is not None
    rng = np.random.default_rng(5)
    for s, t in rng.integers(0, g.n_nodes, (30, 2)).tolist():
        found = planner.timed.path(s, t, 300.0)
        assert found.exact
        static = planner.timed.static.path(s, t)
        if static.reachable:
            assert found.reachable and found.cost <= planner.timed.charge(static.edges, 300.0) + 1e-12
    departures = np.arange(0.0, 4 * 3600.0 + 1, 1200.0)
    for s, t in rng.integers(0, g.n_nodes, (5, 2)).tolist():
        best, routes = best_departure(planner, s, t, departures)
        assert not routes[best].note  # exact
        costs = [planner.charged(r.edges, float(d)) for r, d in zip(routes, departures, strict=True) if r.reachable]
        assert planner.charged(routes[best].edges, float(departures[best])) <= min(costs) + 1e-12
