"""Least-cost paths on a StreetGraph with fixed edge costs (pure; compiled with numba).

Bidirectional A*: a search forward from the origin and one backward from the destination (on the
reversed graph), each with a binary heap, alternately settling the nearer frontier; every edge
relaxed toward a node the other search has reached offers a complete path, and the searches stop
when the two frontiers together cost at least the best path offered (Pohl 1971; Goldberg &
Harrelson 2005). Both run on costs reduced by the *average* potential p = (h_t − h_s) / 2 (Ikeda et
al. 1994), h being straight-line metres × the least cost per straight-line metre of any edge: a
consistent lower bound, so the reduced costs stay ≥ 0 and the answer stays exact while the searches
lean toward each other. The tests check it against plain Dijkstra and networkx on every pair.

The costs are whatever the planner minimises — seconds, or exposure — one per directed edge.
An unreachable destination is an answer (``Path.reachable`` False), never a huge number.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

from greyzone.routing.graph import M_PER_DEG, StreetGraph

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Path:
    reachable: bool
    cost: float  # nan when unreachable
    nodes: Ints  # origin … destination
    edges: Ints  # the directed edges taken, in order


class Router:
    """Least-cost paths for one cost per edge; the reversed graph is built once."""

    def __init__(self, graph: StreetGraph, cost: Floats) -> None:
        if cost.shape != (graph.n_edges,) or not np.all(np.isfinite(cost)) or (cost < 0).any():
            raise ValueError("cost: expected one finite, non-negative number per directed edge")
        self.graph, self.cost = graph, np.ascontiguousarray(cost, dtype=np.float64)
        self.source = source = graph.source()
        order = np.argsort(graph.target, kind="stable")
        self.r_indptr = np.searchsorted(graph.target[order], np.arange(graph.n_nodes + 1)).astype(np.int64)
        self.r_source = source[order].astype(np.int64)
        self.r_edge = order.astype(np.int64)
        # A* potentials: straight-line metres × the least cost per straight-line metre of any edge is a
        # lower bound of the cost to go, consistent by the triangle inequality
        k = math.cos(math.radians(float(graph.lat.mean()))) if graph.n_nodes else 1.0
        self.x = np.ascontiguousarray(graph.lon * k * M_PER_DEG)
        self.y = np.ascontiguousarray(graph.lat * M_PER_DEG)
        chord = np.hypot(self.x[graph.target] - self.x[source], self.y[graph.target] - self.y[source])
        ratio = self.cost[chord > 0] / chord[chord > 0]
        self.per_m = float(ratio.min()) * (1 - 1e-9) if ratio.size else 0.0

    def path(self, origin: int, destination: int) -> Path:
        g = self.graph
        cost, meet, pred_f, pred_b = _bidirectional(g.indptr, g.target, self.cost, self.r_indptr, self.r_source,
                                                    self.r_edge, origin, destination, self.x, self.y,
                                                    self.per_m)  # fmt: skip
        if not math.isfinite(cost):
            return Path(False, math.nan, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        forward, backward = [], []
        node = meet
        while node != origin:
            forward.append(int(pred_f[node]))
            node = int(self.source[pred_f[node]])
        node = meet
        while node != destination:
            backward.append(int(pred_b[node]))
            node = int(g.target[pred_b[node]])
        edges = np.array(forward[::-1] + backward, dtype=np.int64)
        nodes = np.concatenate([[origin], g.target[edges]]).astype(np.int64)
        return Path(True, float(cost), nodes, edges)


@numba.njit(cache=True)
def _potential(v, s, t, x, y, per_m):  # type: ignore[no-untyped-def]
    """The forward search's potential: half of (bound to t − bound to s); the backward one's is minus it."""
    to_t = math.hypot(x[v] - x[t], y[v] - y[t])
    to_s = math.hypot(x[v] - x[s], y[v] - y[s])
    return 0.5 * per_m * (to_t - to_s)


@numba.njit(cache=True)
def _bidirectional(indptr, target, cost, r_indptr, r_source, r_edge, s, t, x, y, per_m):  # type: ignore[no-untyped-def]
    n = len(indptr) - 1
    dist_f = np.full(n, np.inf)
    dist_b = np.full(n, np.inf)
    done_f = np.zeros(n, dtype=np.bool_)
    done_b = np.zeros(n, dtype=np.bool_)
    pred_f = np.full(n, -1, dtype=np.int64)  # the edge that reached the node
    pred_b = np.full(n, -1, dtype=np.int64)
    dist_f[s] = 0.0
    dist_b[t] = 0.0
    heap_f = [(0.0, s)]
    heap_b = [(0.0, t)]
    best = np.inf if s != t else 0.0
    meet = s
    while heap_f and heap_b:
        if heap_f[0][0] + heap_b[0][0] >= best:
            break
        if heap_f[0][0] <= heap_b[0][0]:
            d, u = heapq.heappop(heap_f)
            if done_f[u]:
                continue
            done_f[u] = True
            pu = _potential(u, s, t, x, y, per_m)
            for e in range(indptr[u], indptr[u + 1]):
                v = target[e]
                nd = d + max(cost[e] - pu + _potential(v, s, t, x, y, per_m), 0.0)
                if nd < dist_f[v]:
                    dist_f[v] = nd
                    pred_f[v] = e
                    heapq.heappush(heap_f, (nd, v))
                if nd + dist_b[v] < best:  # then nd is v's forward distance: pred_f[v] is e, or ties it
                    best = nd + dist_b[v]
                    meet = v
        else:
            d, u = heapq.heappop(heap_b)
            if done_b[u]:
                continue
            done_b[u] = True
            pu = _potential(u, s, t, x, y, per_m)
            for k in range(r_indptr[u], r_indptr[u + 1]):
                v = r_source[k]
                e = r_edge[k]
                nd = d + max(cost[e] - _potential(v, s, t, x, y, per_m) + pu, 0.0)
                if nd < dist_b[v]:
                    dist_b[v] = nd
                    pred_b[v] = e
                    heapq.heappush(heap_b, (nd, v))
                if nd + dist_f[v] < best:
                    best = nd + dist_f[v]
                    meet = v
    # reduced costs add p(t) − p(s) to every s–t path: give the true cost back
    return best + _potential(s, s, t, x, y, per_m) - _potential(t, s, t, x, y, per_m), meet, pred_f, pred_b
