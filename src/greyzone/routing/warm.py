"""Compile the routing searches once, at set-up, into numba's cache (``cache=True``), so that the first
route a person asks for does not wait for the compiler (~10 s on a 2-core machine).

    python -m greyzone.routing.warm

Plans the ways the service and the CLI do — every departure of a window with hourly rates and control
(time-dependent search), the static search, the alternatives, the reach — on a small generated grid, so that each
compiled function meets the argument types it meets in use. Pure but for numba's own cache files.
"""

from __future__ import annotations

import time

import numpy as np

from greyzone.model.enums import Kind
from greyzone.routing.exposure import PROFILES, Mode
from greyzone.routing.graph import Edges, RoadClass, StreetGraph
from greyzone.routing.planner import Planner, alternatives, best_departure
from greyzone.routing.shortest import Router


def grid_graph(n: int = 6) -> StreetGraph:
    """An n × n grid of residential streets 100 m apart."""
    lon = np.repeat(np.arange(n) * 0.00135 + 37.1, n)
    lat = np.tile(np.arange(n) * 0.0009 + 48.2, n)
    pairs = [(i * n + j, i * n + j + 1) for i in range(n) for j in range(n - 1)]
    pairs += [(i * n + j, (i + 1) * n + j) for i in range(n - 1) for j in range(n)]
    edges = Edges(
        np.array([a for a, _ in pairs]),
        np.array([b for _, b in pairs]),
        np.full(len(pairs), 100.0),
        np.full(len(pairs), RoadClass.RESIDENTIAL, np.int8),
        np.zeros(len(pairs), bool),
        [f"street {k}" for k in range(len(pairs))],
        [np.array([[lon[a], lat[a]], [lon[b], lat[b]]]) for a, b in pairs],
    )
    return StreetGraph.from_edges(lon, lat, edges)


def warm() -> float:
    """Run every search once on a small grid; the seconds it took (the compile, the first time)."""
    started = time.perf_counter()
    g = grid_graph()
    hours = 8
    rng = np.random.default_rng(0)
    rates = {Kind.SHELLING: rng.random((g.n_edges, hours)), Kind.FPV_STRIKE: rng.random((g.n_edges, hours))}
    states = np.zeros(g.n_edges, dtype=np.int8)
    states[:3] = 2  # some grey streets
    origin, destination = 0, g.n_nodes - 1
    for mode in (Mode.FOOT, Mode.CAR):
        planner = Planner(g, PROFILES[mode], rates, states, 10.0)
        best_departure(planner, origin, destination, np.arange(0.0, 4 * 3600.0 + 1, 1800.0))
        if planner.timed is not None:  # a long trip's way too: the hour-aware lower bounds, layered and stepped
            planner.timed.quick_states = 0
            best_departure(planner, origin, destination, np.arange(0.0, 4 * 3600.0 + 1, 1800.0))
            planner.timed.layered_states = 0
            best_departure(planner, origin, destination, np.arange(0.0, 4 * 3600.0 + 1, 1800.0))
        planner.reach(origin, 600.0)
        alternatives(g, PROFILES[mode], origin, destination, rates, states, 10.0, depart_s=0.0)
        Planner(g, PROFILES[mode], None, None, 10.0).route(origin, destination)
    Router(g, g.length_m).path(origin, destination)
    return time.perf_counter() - started


if __name__ == "__main__":
    print(f"routing searches compiled and cached in {warm():.1f} s")
