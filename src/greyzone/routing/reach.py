"""Reach ("isochrone"): where one can get from a point within T minutes below a risk R (pure).

One label-setting search from the origin on the planner's cost (exposure + time weight × hours), each
street charged the hour one enters it on the cheapest way found, a node's time and exposure being
those of that cheapest way; the search covers the whole city (a label past T is still expanded: a
place beyond it must not be reached by a costlier way that happens to be quicker). A node is *reached*
when its cheapest way arrives within T with a risk (1 − exp(−exposure)) at most R: the places a trip
the planner would plan gets to in time and below the risk. With rates that do not change by hour this
is exact (Dijkstra); with hourly rates it is the planner's quick rule (the hour each street is reached
on the cheapest way).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class ReachResult:
    seconds: Floats  # per node: seconds after departure on its cheapest way (inf: not reached)
    exposure: Floats  # per node: the exposure of that way
    pred: Ints  # per node: the street it is reached by (-1: the origin, or not reached)

    def reached(self, max_s: float, max_risk: float) -> npt.NDArray[np.bool_]:
        risk = -np.expm1(-np.where(np.isfinite(self.exposure), self.exposure, np.inf))
        return np.asarray((self.seconds <= max_s) & (risk <= max_risk))


def reach(
    indptr: Ints,
    target: Ints,
    seconds: Floats,
    cost: Floats,
    exposure: Floats,
    origin: int,
    depart_s: float,
) -> ReachResult:
    """The search from ``origin`` leaving ``depart_s`` seconds after the start of hour 0; ``cost`` and
    ``exposure`` are streets × hours."""
    secs, expo, pred = _reach(indptr, target, seconds, cost, exposure, origin, float(depart_s))
    return ReachResult(secs, expo, pred)


@numba.njit(cache=True)
def _reach(indptr, target, seconds, cost, exposure, s, depart_s):  # type: ignore[no-untyped-def]
    n = len(indptr) - 1
    hours = cost.shape[1]
    best = np.full(n, np.inf)
    when = np.full(n, np.inf)
    expo = np.full(n, np.inf)
    pred = np.full(n, -1, dtype=np.int64)
    best[s] = 0.0
    when[s] = 0.0
    expo[s] = 0.0
    heap = [(0.0, s)]
    while heap:
        c, u = heapq.heappop(heap)
        if c > best[u]:
            continue
        hour = min(max(int((depart_s + when[u]) // 3600.0), 0), hours - 1)
        for e in range(indptr[u], indptr[u + 1]):
            step = cost[e, hour]
            if not np.isfinite(step) or not np.isfinite(seconds[e]):
                continue
            v = target[e]
            if c + step < best[v]:
                best[v] = c + step
                when[v] = when[u] + seconds[e]
                expo[v] = expo[u] + exposure[e, hour]
                pred[v] = e
                heapq.heappush(heap, (best[v], v))
    return when, expo, pred
