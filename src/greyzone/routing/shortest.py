"""Least-cost paths on a StreetGraph with fixed edge costs (pure; compiled with numba).

Bidirectional A*: a search forward from the origin and one backward from the destination (on the
reversed graph), each with a binary heap, alternately settling the nearer frontier; every edge
relaxed toward a node the other search has reached offers a complete path, and the searches stop
when the two frontiers together cost at least the best path offered (Pohl 1971; Goldberg &
Harrelson 2005). Both run on costs reduced by the *average* potential p = (h_t − h_s) / 2 (Ikeda et
al. 1994), h being the landmark bound (ALT, Goldberg & Harrelson 2005): the costs from and to 16
landmarks at the edges of the city are computed once per cost vector, and by the triangle inequality
d(L, t) − d(L, v) ≤ d(v, t). The bound is consistent, so the reduced costs stay ≥ 0 and the answer
stays exact while the searches lean toward each other. The tests check it against plain Dijkstra and
networkx on every pair. An edge of infinite cost is closed.

The costs are whatever the planner minimises — seconds, or exposure — one per directed edge.
An unreachable destination is an answer (``Path.reachable`` False), never a huge number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

from greyzone.routing.graph import StreetGraph
from greyzone.routing.heap import heap_new, heap_pop, heap_push, heap_room

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

    def __init__(self, graph: StreetGraph, cost: Floats, landmarks: int = 16) -> None:
        if cost.shape != (graph.n_edges,) or np.isnan(cost).any() or (cost < 0).any():
            raise ValueError("cost: expected one non-negative number per directed edge (inf: closed)")
        self.graph, self.cost = graph, np.ascontiguousarray(cost, dtype=np.float64)
        self.source = source = graph.source()
        order = np.argsort(graph.target, kind="stable")
        self.r_indptr = np.searchsorted(graph.target[order], np.arange(graph.n_nodes + 1)).astype(np.int64)
        self.r_source = source[order].astype(np.int64)
        self.r_edge = order.astype(np.int64)
        self.landmarks = _landmarks(graph, self.cost, min(landmarks, graph.n_nodes))

    def reweighted(self, cost: Floats, landmarks: Floats) -> Router:
        """The same graph (reversed structure reused) with other costs, never below the ones
        ``landmarks`` were computed on: cheap enough to make per departure."""
        if cost.shape != (self.graph.n_edges,) or np.isnan(cost).any() or (cost < 0).any():
            raise ValueError("cost: expected one non-negative number per directed edge (inf: closed)")
        other = object.__new__(Router)
        other.graph, other.cost, other.source = self.graph, np.ascontiguousarray(cost, dtype=np.float64), self.source
        other.r_indptr, other.r_source, other.r_edge = self.r_indptr, self.r_source, self.r_edge
        other.landmarks = landmarks
        return other

    def path(self, origin: int, destination: int) -> Path:
        g = self.graph
        cost, meet, pred_f, pred_b = _bidirectional(
            g.indptr,
            g.target,
            self.cost,
            self.r_indptr,
            self.r_source,
            self.r_edge,
            origin,
            destination,
            self.landmarks,
        )
        if not math.isfinite(cost):
            return Path(False, math.nan, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        edges = _unwind(pred_f, pred_b, self.source, g.target, origin, destination, meet)
        nodes = np.concatenate((np.array([origin], dtype=np.int64), g.target[edges]))
        return Path(True, float(cost), nodes, edges)


def _landmarks(graph: StreetGraph, cost: Floats, count: int) -> Floats:
    """Costs from and to ``count`` landmarks spread by farthest-point selection, a junction at a time
    (n × 2L: from each landmark, then to each; the searches read a junction's row at once)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    open_ = np.flatnonzero(np.isfinite(cost))
    u, v, c = graph.source()[open_], graph.target[open_], cost[open_]
    order = np.lexsort((c, v, u))  # parallel streets: the cheapest (a sparse matrix would add them up)
    u, v, c = u[order], v[order], c[order]
    first = np.ones(u.size, dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    matrix = csr_matrix((c[first] + 1e-300, (u[first], v[first])), shape=(graph.n_nodes, graph.n_nodes))  # keep 0s
    if count == 0:
        return np.zeros((graph.n_nodes, 0))
    chosen = [int(np.random.default_rng(0).integers(graph.n_nodes))]
    from_lm = [np.asarray(dijkstra(matrix, indices=chosen[0]), dtype=np.float64)]
    chosen[0] = int(np.argmax(np.where(np.isfinite(from_lm[0]), from_lm[0], -1.0)))  # start at an edge of the city
    from_lm[0] = np.asarray(dijkstra(matrix, indices=chosen[0]), dtype=np.float64)
    nearest = from_lm[0].copy()
    while len(chosen) < count:
        nxt = int(np.argmax(np.where(np.isfinite(nearest), nearest, -1.0)))
        if nxt in chosen:
            break
        chosen.append(nxt)
        from_lm.append(np.asarray(dijkstra(matrix, indices=nxt), dtype=np.float64))
        nearest = np.minimum(nearest, from_lm[-1])
    to_lm = np.asarray(dijkstra(matrix.T.tocsr(), indices=chosen), dtype=np.float64).reshape(len(chosen), -1)
    return np.ascontiguousarray(np.vstack([*from_lm, to_lm]).T)  # a junction's costs from, then to, each landmark


@numba.njit(cache=True)
def _unwind(pred_f, pred_b, source, target, origin, destination, meet):  # type: ignore[no-untyped-def]
    """The edges of the path: back from the meeting node to the origin, then on to the destination."""
    back = []
    node = meet
    while node != origin:
        back.append(pred_f[node])
        node = source[pred_f[node]]
    out = back[::-1]
    node = meet
    while node != destination:
        out.append(pred_b[node])
        node = target[pred_b[node]]
    result = np.empty(len(out), dtype=np.int64)
    for i in range(len(out)):
        result[i] = out[i]
    return result


@numba.njit(cache=True)
def _bound(v, w, landmarks):  # type: ignore[no-untyped-def]
    """A lower bound of the cost from v to w by the triangle inequality at each landmark L:
    d(L, w) − d(L, v) and d(v, L) − d(w, L); terms with an unreachable side say nothing."""
    best = 0.0
    half = landmarks.shape[1] // 2
    for k in range(half):
        a, b = landmarks[w, k], landmarks[v, k]
        if a < np.inf and b < np.inf and a - b > best:
            best = a - b
        c, d = landmarks[v, half + k], landmarks[w, half + k]
        if c < np.inf and d < np.inf and c - d > best:
            best = c - d
    return best * (1.0 - 1e-12)


@numba.njit(cache=True)
def _potential(v, s, t, landmarks):  # type: ignore[no-untyped-def]
    """The forward search's potential: half of (bound to t − bound from s); the backward one's is minus it."""
    return 0.5 * (_bound(v, t, landmarks) - _bound(s, v, landmarks))


@numba.njit(cache=True, inline="always")
def _cached(pot, v, s, t, landmarks):  # type: ignore[no-untyped-def]
    """v's potential, from ``pot`` once it has been computed there."""
    if np.isnan(pot[v]):
        pot[v] = _potential(v, s, t, landmarks)
    return pot[v]


@numba.njit(cache=True)
def _expand(  # type: ignore[no-untyped-def]
    u, sign, indptr, other, r_edge, cost, dist, pred, dist_other, keys, values, size, pot, s, t, landmarks, best, meet
):  # fmt: skip
    """Relax the streets out of u (forward, ``sign`` 1: along them; backward, −1: the reversed graph's,
    whose i-th street is ``r_edge[i]``) on costs reduced by the potential; each street that reaches a node
    the other search has reached offers a path. The heap (arrays and size), the best path's cost and its
    meeting node."""
    pu = _cached(pot, u, s, t, landmarks)
    keys, values = heap_room(keys, values, size, indptr[u + 1] - indptr[u])
    for i in range(indptr[u], indptr[u + 1]):
        v = other[i]
        e = i if sign > 0 else r_edge[i]
        nd = dist[u] + max(cost[e] + sign * (_cached(pot, v, s, t, landmarks) - pu), 0.0)
        if nd < dist[v]:
            dist[v] = nd
            pred[v] = e
            size = heap_push(keys, values, size, nd, v)
        if nd + dist_other[v] < best:  # then nd is v's distance: pred[v] is e, or ties it
            best = nd + dist_other[v]
            meet = v
    return keys, values, size, best, meet


@numba.njit(cache=True)
def _bidirectional(indptr, target, cost, r_indptr, r_source, r_edge, s, t, landmarks):  # type: ignore[no-untyped-def]
    n = len(indptr) - 1
    dist_f = np.full(n, np.inf)
    dist_b = np.full(n, np.inf)
    done_f = np.zeros(n, dtype=np.bool_)
    done_b = np.zeros(n, dtype=np.bool_)
    pred_f = np.full(n, -1, dtype=np.int64)  # the edge that reached the node
    pred_b = np.full(n, -1, dtype=np.int64)
    pot = np.full(n, np.nan)  # the potential, computed once per node
    dist_f[s] = 0.0
    dist_b[t] = 0.0
    keys_f, values_f = heap_new(1 << 10)
    keys_b, values_b = heap_new(1 << 10)
    size_f = heap_push(keys_f, values_f, 0, 0.0, s)
    size_b = heap_push(keys_b, values_b, 0, 0.0, t)
    best = np.inf if s != t else 0.0
    meet = s
    while size_f and size_b:
        if keys_f[0] + keys_b[0] >= best:
            break
        if keys_f[0] <= keys_b[0]:
            u = values_f[0]
            size_f = heap_pop(keys_f, values_f, size_f)
            if not done_f[u]:
                done_f[u] = True
                keys_f, values_f, size_f, best, meet = _expand(
                    u, 1.0, indptr, target, r_edge, cost, dist_f, pred_f, dist_b, keys_f, values_f, size_f, pot, s, t,
                    landmarks, best, meet,
                )  # fmt: skip
        else:
            u = values_b[0]
            size_b = heap_pop(keys_b, values_b, size_b)
            if not done_b[u]:
                done_b[u] = True
                keys_b, values_b, size_b, best, meet = _expand(
                    u, -1.0, r_indptr, r_source, r_edge, cost, dist_b, pred_b, dist_f, keys_b, values_b, size_b, pot,
                    s, t, landmarks, best, meet,
                )  # fmt: skip
    # reduced costs add p(t) − p(s) to every s–t path: give the true cost back
    return best + _potential(s, s, t, landmarks) - _potential(t, s, t, landmarks), meet, pred_f, pred_b
