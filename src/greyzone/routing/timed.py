"""Least-cost paths when a street's cost depends on the hour one enters it (pure; numba).

The model is the time-expanded graph: time after departure is kept to the second along each path
(a street takes its travel time), and entering street e after t seconds costs ``hourly[e, h]`` with h
the hour of ``depart_s + t`` counted from the start of hour 0 (the last hour's cost holds for every
later hour). A state is (junction, tick) with ticks of ``tick_s`` (a minute by default): of two
paths reaching a junction within the same tick the cheaper is kept — exact when travel times are
whole ticks (the test's time-expanded graph), and otherwise off only where an hour changes within
that tick. There is no waiting on the way (one may wait only before leaving, which is the
departure-window search). A* runs over the states that matter: states are created only when
reached, kept in a hash table, and once every later street is charged its last hour's cost (tick ≥
``cap``) the tick no longer matters and the states of a junction merge into one. A label is also
dropped when an expanded one of the same junction is cheaper by more than an hour change could
ever give back (``_dominated``). The A* bound is the
ALT landmark bound (as in ``shortest``) on each street's cheapest hour, which never exceeds any hour's
cost: the bound stays consistent and the answer exact. The test compares it with Dijkstra on the
explicitly built time-expanded graph.

A street with infinite cost in an hour is closed in that hour. The number of states is bounded
(``budget``): where the hours differ so much that the bound is weak and paths of many durations
compete, the search says it gave up (``exact`` False) rather than run on; the planner then falls
back to charging each street the hour one reaches it on the fastest way, and says so.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

from greyzone.routing.graph import StreetGraph
from greyzone.routing.shortest import _bound, _landmarks

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class TimedPath:
    reachable: bool
    cost: float  # nan when unreachable
    nodes: Ints
    edges: Ints
    entered_s: Floats  # seconds after departure one enters each edge (in whole ticks)
    exact: bool = True  # False: the search met its label budget and gave up (``reachable`` is then False)


class TimedRouter:
    """Exact least-cost paths for costs by street and hour; landmarks are built once (on each street's
    cheapest hour) and serve every departure."""

    def __init__(
        self,
        graph: StreetGraph,
        seconds: Floats,
        hourly: Floats,
        tick_s: float = 60.0,
        landmarks: int = 16,
        budget: int = 50_000,
    ) -> None:
        hourly = np.asarray(hourly, dtype=np.float64)
        if hourly.ndim != 2 or hourly.shape[0] != graph.n_edges or hourly.shape[1] == 0:
            raise ValueError("hourly: expected a cost per directed edge and hour (edges × hours)")
        if np.isnan(hourly).any() or (hourly < 0).any():
            raise ValueError("hourly: costs must be non-negative numbers (inf: closed)")
        if seconds.shape != (graph.n_edges,) or not tick_s > 0:
            raise ValueError("seconds: one travel time per directed edge; tick_s > 0")
        self.graph, self.tick_s, self.budget = graph, float(tick_s), int(budget)
        self.hourly = np.ascontiguousarray(hourly)
        usable = np.isfinite(seconds)
        self.seconds = np.where(usable, seconds, 0.0).astype(np.float64)
        lower = np.where(usable, self.hourly.min(axis=1), np.inf)
        self.hourly[~usable] = np.inf
        # how much an edge's cost can change from one hour to the next, at most and per second
        steps = self.hourly[usable]
        if steps.shape[1] > 1:
            both = np.isfinite(steps[:, 1:]) & np.isfinite(steps[:, :-1])
            closing = (np.isfinite(steps[:, 1:]) != np.isfinite(steps[:, :-1])).any()
            change = np.where(both, np.abs(np.diff(np.where(np.isfinite(steps), steps, 0.0), axis=1)), 0.0).max(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                per_second = np.where(change > 0, change / self.seconds[usable], 0.0)
            self.jump = np.inf if closing else float(change.max(initial=0.0))
            self.slope = np.inf if closing else float(per_second.max(initial=0.0))
        else:
            self.jump = self.slope = 0.0
        self.from_lm, self.to_lm = _landmarks(graph, lower, min(landmarks, graph.n_nodes))

    def cap(self, depart_s: float) -> int:
        """The tick from which every street is charged its last hour's cost."""
        last = float(self.hourly.shape[1] - 1) * 3600.0
        ticks: int = math.ceil((last - float(depart_s)) / self.tick_s)
        return max(0, ticks)

    def path(self, origin: int, destination: int, depart_s: float = 0.0) -> TimedPath:
        """The cheapest path leaving ``origin`` at ``depart_s`` seconds after the start of hour 0."""
        g = self.graph
        cost, edges = _timed_astar(
            g.indptr,
            g.target,
            self.seconds,
            self.hourly,
            origin,
            destination,
            float(depart_s),
            self.tick_s,
            self.cap(depart_s),
            self.from_lm,
            self.to_lm,
            self.budget,
            self.slope,
            self.jump,
        )
        if not math.isfinite(cost) or cost < 0:
            empty = np.zeros(0, dtype=np.int64)
            return TimedPath(False, math.nan, empty, empty, np.zeros(0), exact=cost >= 0)
        nodes = np.concatenate((np.array([origin], dtype=np.int64), g.target[edges]))
        entered = np.concatenate(([0.0], np.cumsum(self.seconds[edges])[:-1]))
        return TimedPath(True, float(cost), nodes, edges, entered.astype(np.float64))


def hour_entered(depart_s: float, entered_s: Floats, hours: int) -> Ints:
    """The hour (0 … hours−1) in which each street is entered."""
    return np.minimum((depart_s + np.asarray(entered_s)) // 3600.0, hours - 1).astype(np.int64)


@numba.njit(cache=True)
def _find(keys, key):  # type: ignore[no-untyped-def]
    """The slot of ``key`` in the open-addressing table, or of the empty slot where it would go."""
    mask = len(keys) - 1
    slot = (key * 0x9E3779B97F4A7C15) & mask
    while keys[slot] != -1 and keys[slot] != key:
        slot = (slot + 1) & mask
    return slot


@numba.njit(cache=True)
def _timed_astar(indptr, target, seconds, hourly, s, t, depart_s, tick_s, cap, from_lm, to_lm, budget, slope, jump):  # type: ignore[no-untyped-def]
    hours = hourly.shape[1]
    first = np.full(len(indptr) - 1, -1, dtype=np.int64)  # per junction, its expanded labels as a linked list
    span = cap + 1
    size = 1 << 12  # labels, grown by doubling
    node, tick = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)  # tick: the label's bucket
    dist, secs = np.empty(size, dtype=np.float64), np.empty(size, dtype=np.float64)  # secs: exact time elapsed
    pred, via = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)  # the label before, the edge from it
    done = np.zeros(size, dtype=np.bool_)
    after = np.empty(size, dtype=np.int64)  # the next expanded label of the same junction
    keys, labels = np.full(2 * size, -1, dtype=np.int64), np.empty(2 * size, dtype=np.int64)
    n = 1
    node[0], tick[0], dist[0], secs[0], pred[0], via[0] = s, 0, 0.0, 0.0, -1, -1
    slot = _find(keys, s * span)
    keys[slot], labels[slot] = s * span, 0
    heap = [(_bound(s, t, from_lm, to_lm), 0)]
    while heap:
        _, a = heapq.heappop(heap)
        if done[a]:
            continue
        done[a] = True
        u = node[a]
        if u == t:
            return dist[a], _unwind_labels(pred, via, a)
        hour = min(int((depart_s + secs[a]) // 3600.0), hours - 1)
        if _dominated(a, first[u], after, secs, dist, depart_s, hours, slope, jump):
            continue
        after[a], first[u] = first[u], a
        for e in range(indptr[u], indptr[u + 1]):
            if hourly[e, hour] == np.inf:
                continue
            v, ns, nd = target[e], secs[a] + seconds[e], dist[a] + hourly[e, hour]
            nk = min(int(ns // tick_s), cap)
            slot = _find(keys, v * span + nk)
            if keys[slot] != -1:
                b = labels[slot]
                if nd < dist[b] and not done[b]:  # the cheaper of two labels of one junction and tick
                    dist[b], secs[b], pred[b], via[b] = nd, ns, a, e
                    heapq.heappush(heap, (nd + _bound(v, t, from_lm, to_lm), b))
                continue
            if n == budget:
                return -1.0, np.zeros(0, dtype=np.int64)
            if n == size:  # grow the labels and rebuild the table at twice the size
                size *= 2
                node, tick, dist = _grow_i(node, size), _grow_i(tick, size), _grow_f(dist, size)
                secs = _grow_f(secs, size)
                pred, via, done = _grow_i(pred, size), _grow_i(via, size), _grow_b(done, size)
                after = _grow_i(after, size)
                keys, labels = _rehash(node, tick, n, span, 2 * size)
                slot = _find(keys, v * span + nk)
            keys[slot], labels[slot] = v * span + nk, n
            node[n], tick[n], dist[n], secs[n], pred[n], via[n] = v, nk, nd, ns, a, e
            heapq.heappush(heap, (nd + _bound(v, t, from_lm, to_lm), n))
            n += 1
    return np.inf, np.zeros(0, dtype=np.int64)


@numba.njit(cache=True)
def _dominated(a, b, after, secs, dist, depart_s, hours, slope, jump):  # type: ignore[no-untyped-def]
    """Whether an expanded label b of the same junction (never dearer: A* expands them in order) leaves
    nothing for label a to gain. From the same junction at two times the same way on costs at most,
    per hour change still ahead, what the streets entered between the two crossing moments may gain:
    slope × (seconds apart) + jump (the hourly costs' largest change per second and per street)."""
    while b != -1:
        earlier = min(secs[a], secs[b])
        changes = hours - 1 - min(int((depart_s + earlier) // 3600.0), hours - 1)
        gain = 0.0 if changes == 0 else changes * (slope * abs(secs[a] - secs[b]) + jump)
        if dist[b] + gain <= dist[a]:
            return True
        b = after[b]
    return False


@numba.njit(cache=True)
def _rehash(node, tick, n, span, size):  # type: ignore[no-untyped-def]
    keys, labels = np.full(size, -1, dtype=np.int64), np.empty(size, dtype=np.int64)
    for b in range(n):
        slot = _find(keys, node[b] * span + tick[b])
        keys[slot], labels[slot] = node[b] * span + tick[b], b
    return keys, labels


@numba.njit(cache=True)
def _unwind_labels(pred, via, last):  # type: ignore[no-untyped-def]
    count, b = 0, last
    while pred[b] >= 0:
        count, b = count + 1, pred[b]
    edges = np.empty(count, dtype=np.int64)
    b = last
    for i in range(count - 1, -1, -1):
        edges[i], b = via[b], pred[b]
    return edges


@numba.njit(cache=True)
def _grow_i(a, size):  # type: ignore[no-untyped-def]
    out = np.empty(size, dtype=np.int64)
    out[: len(a)] = a
    return out


@numba.njit(cache=True)
def _grow_f(a, size):  # type: ignore[no-untyped-def]
    out = np.empty(size, dtype=np.float64)
    out[: len(a)] = a
    return out


@numba.njit(cache=True)
def _grow_b(a, size):  # type: ignore[no-untyped-def]
    out = np.zeros(size, dtype=np.bool_)
    out[: len(a)] = a
    return out
