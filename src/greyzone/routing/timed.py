"""Least-cost paths when a street's cost depends on the hour one enters it (pure; numba).

The model is the time-expanded graph: time after departure is kept to the second along each path (a
street takes its travel time), and entering street e after t seconds costs ``hourly[e, h]`` with h the
hour of ``depart_s + t`` counted from the start of hour 0 (the last hour's cost holds for every later
hour). A state is (junction, tick) with ticks of ``tick_s`` (a minute by default): of two paths
reaching a junction within the same tick the one whose cost plus lower bound is less is kept (the
cheaper, but for the stepped bounds' share of the time left in the hour) — exact when travel times are
whole ticks (the test's time-expanded graph), and otherwise off by at most what the hour changes within
the tick give back. There is no waiting on the way (one may wait only before leaving, which is the
departure-window search). The test compares the search with Dijkstra on the explicitly built
time-expanded graph, for one departure and for a window of them.

How one search stays small at district scale (10^5 junctions), each step exact:

1. **A real route first.** The static least-cost route at each street's cheapest hour (bidirectional
   ALT, ``shortest``: about a millisecond at 10^5 junctions), charged the hours it is travelled, is an
   upper bound U on the answer.
2. **A horizon.** Every street costs at least ``rho`` per second of travel (the time weight, where the
   hazard is nil), so a route of duration T costs at least B + rho × T, B being the least cost of any
   route once rho per second is taken off every street (a static search): no route costing at most U
   travels longer than (U − B) / rho, the hours after that can never be entered, and the search
   treats the last reachable hour as the last one (from then on a junction's states merge: the costs
   no longer depend on the tick). B is first taken from its landmark bound (no search): when that
   already gives the hour in which the real route of step 1 enters its last street — no horizon can
   be earlier — the static search for B is not needed (about two queries in five at 10^5).
3. **Hour-aware lower bounds.** For each reachable hour h, backward from the destination, the cost to
   go when one may move on to the next hours' costs at any junction (the *layered* relaxation: hour
   h's costs, then h+1's, …; the last hour's static distance). It never exceeds the cost of any way on
   from a state in hour h, and it is consistent, so A* on it stays exact — and it is far tighter than
   the cheapest-hour landmarks (which let every street take its best hour). The backward searches
   stop at junctions that no route under U can pass (the landmark bound from the origin, plus the
   cost to go, exceeds U): there the bound is infinite and no state is kept.
   They are computed only when a first search on the landmark bound alone (each street's cheapest
   hour) has not ended within ``QUICK_STATES`` states: a short trip needs no more.
   **Stepped bounds**, when the search on the layered ones has not ended within ``LAYERED_STATES``
   states, or at once for one departure whose horizon spans ``STEPPED_HOURS`` hours or more (at 10^5
   junctions about two trips in five come to them: the long ones, which cross hours; a window's hour of
   departures tries the layered ones first — its time filters, below, are looser). The layered
   relaxation may move on to a cheaper hour at once; a real route cannot: it spends what is left of its
   hour in it, then a whole hour in each hour it crosses, at rho per second at least. So for a state in
   hour h, the least of: A, staying in hour h to the destination (hour h's static cost — only if the
   travel-time landmarks leave it time to get there before the hour ends), and leaving it, the larger
   of F, hour h's costs to any junction and from there M of hour h + 1, and C + rho × the seconds left
   in hour h, C being the same with rho per second taken off hour h's costs; M of an hour is what a way
   that has just entered it costs at least (A, or the larger of F and C + rho × an hour less the
   longest street). Each of A, F, C is a backward Dijkstra an hour, the last hour's first, kept to the
   junctions a departure can reach before the hour ends (travel-time landmarks) and on a route under U.
   The bound is consistent too (the seconds left in the hour fall as fast as a street's time is
   charged). Its arrays hold three rows an hour of the horizon per junction: past ``STEPPED_CELLS`` (at
   10^6 junctions, from a horizon of three hours on) the search stays on the layered bounds, to the
   budget. On the trips that come to it at 10^5 junctions it is at the origin a median 98 % of the
   optimum (the layered bound 93 %; the worst 80 % against 63 %: ``benchmarks/routing.py --bounds``).
4. **Pruning.** A state whose cost plus bound exceeds U is never stored; a state is dropped when an
   expanded one of the same junction is cheaper by more than the hour changes still *within the
   horizon* could ever give back (``_dominated``).

If no route under U survives the tick merging (possible only when travel times are not whole ticks),
the answer is the route of step 1: the cheaper of the two is kept either way. A window of departures
is searched an hour of departures at a time (one source per departure), the most promising hour
first, each under the best found so far (``best``). The number of states is bounded
(``budget``); past it the search says it gave up (``exact`` False) and the planner falls back to
charging each street the hour one reaches it on the fastest way, and says so.

A street with infinite cost in an hour is closed in that hour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

from greyzone.routing.graph import StreetGraph
from greyzone.routing.heap import heap_new, heap_pop, heap_push, heap_room
from greyzone.routing.shortest import Router, _bound, _landmarks

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
QUICK_STATES = 500  # a first search on the cheapest-hour bound alone: enough for a short trip
LAYERED_STATES = 30_000  # then on the layered bounds: enough for most trips; past it, the stepped bounds
STEPPED_HOURS = 3  # one departure whose horizon spans this many hours goes to the stepped bounds at once
STEPPED_CELLS = 8_000_000  # the stepped bounds' arrays at most (64 MB; past it, the layered bounds to the budget)


@dataclass(frozen=True, slots=True)
class TimedPath:
    reachable: bool
    cost: float  # nan when unreachable
    nodes: Ints
    edges: Ints
    entered_s: Floats  # seconds after departure one enters each edge
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
        budget: int = 1_000_000,  # states: about 95 MB at most for one search
        quick_states: int = QUICK_STATES,
        layered_states: int = LAYERED_STATES,
        stepped_cells: int = STEPPED_CELLS,
    ) -> None:
        hourly = np.asarray(hourly, dtype=np.float64)
        if hourly.ndim != 2 or hourly.shape[0] != graph.n_edges or hourly.shape[1] == 0:
            raise ValueError("hourly: expected a cost per directed edge and hour (edges × hours)")
        if np.isnan(hourly).any() or (hourly < 0).any():
            raise ValueError("hourly: costs must be non-negative numbers (inf: closed)")
        if seconds.shape != (graph.n_edges,) or not tick_s > 0:
            raise ValueError("seconds: one travel time per directed edge; tick_s > 0")
        self.graph, self.tick_s, self.budget, self.quick_states = graph, float(tick_s), int(budget), int(quick_states)
        self.layered_states, self.stepped_cells = int(layered_states), int(stepped_cells)
        self.hourly = np.ascontiguousarray(hourly)
        usable = np.isfinite(seconds)
        self.seconds = np.where(usable, seconds, 0.0).astype(np.float64)
        lower = np.where(usable, self.hourly.min(axis=1), np.inf)
        self.hourly[~usable] = np.inf
        self.slope, self.jump = _change_bounds(self.hourly[usable], self.seconds[usable])
        moving = usable & (self.seconds > 0) & np.isfinite(lower)
        self.rho = (
            float((lower[moving] / self.seconds[moving]).min(initial=np.inf)) * (1 - 1e-9) if moving.any() else 0.0
        )
        self.static = Router(graph, lower, min(landmarks, graph.n_nodes))  # landmarks on the cheapest hour
        # what a street costs beyond rho per second of it: the least of it over a route bounds how long
        # a route under a given cost can last (step 2)
        self.beyond = Router(graph, np.maximum(lower - self.rho * self.seconds, 0.0), min(landmarks, graph.n_nodes))
        # for the backward searches: each hour's costs in the reversed graph's order (read in that order)
        self.r_hourly = np.ascontiguousarray(self.hourly[self.static.r_edge].T)
        self.r_seconds = np.ascontiguousarray(self.seconds[self.static.r_edge])
        # landmarks on travel times: how soon one can be at a junction, and from there at the destination
        self.clock = _landmarks(graph, np.where(usable, self.seconds, np.inf), min(landmarks, graph.n_nodes))
        self.hold = float(self.seconds.max(initial=0.0))  # the longest street: how far into an hour one enters it

    @property
    def hours(self) -> int:
        return int(self.hourly.shape[1])

    def hour(self, seconds: float) -> int:
        """The column of the costs at ``seconds`` after the start of hour 0."""
        return min(max(int(seconds // 3600.0), 0), self.hours - 1)

    def cap(self, depart_s: float) -> int:
        """The tick after departure from which every street is charged the last hour's cost."""
        ticks: int = math.ceil((float(self.hours - 1) * 3600.0 - float(depart_s)) / self.tick_s)
        return max(0, ticks)

    def charge(self, edges: Ints, depart_s: float) -> float:
        """What a route costs leaving at ``depart_s``, each street charged the hour it is entered."""
        return route_cost(self.hourly, self.seconds, edges, depart_s)

    def path(self, origin: int, destination: int, depart_s: float = 0.0) -> TimedPath:
        """The cheapest path leaving ``origin`` at ``depart_s`` seconds after the start of hour 0."""
        return self.best(origin, destination, np.array([float(depart_s)]))[1]

    def best(self, origin: int, destination: int, departures_s: Floats) -> tuple[int, TimedPath]:
        """The cheapest path over a window of departures and the index of the departure it leaves at:
        the least of what a search from each departure would give. The departures of one hour are
        searched at once — the time-expanded graph with a source at each (origin, departure) — the
        most promising hour first (where the real route of step 1 is cheapest), each hour under the
        best found so far, so that a window's horizon and lower bounds stay those of an hour's."""
        departures = np.asarray(departures_s, dtype=np.float64).ravel()
        nothing = TimedPath(False, math.nan, *(np.zeros(0, dtype=np.int64),) * 2, np.zeros(0))
        if departures.size == 0:
            return 0, nothing
        static = self.static.path(origin, destination)  # a real route: charged, an upper bound (step 1)
        charged = np.array([self.charge(static.edges, float(d)) if static.reachable else math.inf for d in departures])
        pick = int(np.argmin(charged))
        upper = float(charged[pick])
        hours = np.array([self.hour(float(d)) for d in departures])
        last_entry = float(self.seconds[static.edges[:-1]].sum()) if static.reachable else math.inf
        found: tuple[float, Ints, int] | None = None
        alt = float(_bound(origin, destination, self.beyond.landmarks))  # a landmark bound of the least below
        least: list[float] = []  # the least cost beyond rho per second of any route: a static search, once needed

        def horizon(index: Ints, bound: float) -> int:
            """The last hour for the departures ``index`` under ``bound`` (step 2). On the landmark bound
            ``alt`` when that already gives the hour in which the real route (if under ``bound``) enters
            its last street — the horizon can be no earlier —, else on the least cost itself."""
            latest = float(departures[index].max())
            if not math.isfinite(bound):
                return self.hours - 1
            if not least:
                last = self._horizon(latest, bound - alt)
                under = index[charged[index] <= bound]
                if under.size and last <= self.hour(float(departures[under].max()) + last_entry):
                    return last
                least.append(self.beyond.path(origin, destination).cost)
            return self._horizon(latest, bound - least[0])

        def search(hour: int) -> bool:
            """Search the departures of ``hour`` under the best so far; False if over the budget."""
            nonlocal found
            index = np.flatnonzero(hours == hour)
            bound = upper if found is None else found[0]
            last = horizon(index, bound)
            cost, edges, root = self._hour_search(origin, destination, departures[index], bound, last)
            if math.isfinite(cost) and 0 <= cost <= bound and (found is None or cost < found[0]):
                found = (cost, edges, int(index[root]))
            return cost != -1.0

        again = [
            h for h in sorted(set(hours.tolist()), key=lambda h: float(charged[hours == h].min())) if not search(h)
        ]
        if not all(search(h) for h in again):  # once more under the best found since: still over the budget
            return pick, TimedPath(False, math.nan, *(np.zeros(0, dtype=np.int64),) * 2, np.zeros(0), exact=False)
        if found is not None:
            return found[2], self._timed_path(origin, found[1], found[0])
        if math.isfinite(upper):  # nothing under the real route survived the tick merging: the real route
            return pick, self._timed_path(origin, static.edges, upper)
        return pick, nothing

    def _hour_search(
        self, origin: int, destination: int, departures: Floats, upper: float, last: int
    ) -> tuple[float, Ints, int]:
        """One search from every departure given (of one hour) under ``upper`` with the horizon ``last``:
        the cost, the edges and the departure's index (cost −1: over the budget; inf: nothing under
        ``upper``)."""
        first = self.hour(float(departures.min()))
        limit = upper * (1 + 1e-9)
        g = self.graph

        def search(pots: Floats, starts: Floats, budget: int) -> tuple[float, Ints, int]:
            if not (starts <= limit).any():
                return math.inf, np.zeros(0, dtype=np.int64), 0
            return _timed_astar(  # type: ignore[no-any-return]
                g.indptr, g.target, self.seconds, self.hourly, origin, destination, departures, starts,
                self.tick_s, math.ceil(last * 3600.0 / self.tick_s), pots, first, last, limit, budget,
                self.slope, self.jump, self.rho, self.static.landmarks, self.hold,
            )  # fmt: skip

        quick = float(_bound(origin, destination, self.static.landmarks))
        found = search(np.zeros((0, g.n_nodes)), np.full(departures.size, quick), self.quick_states)
        rows = last - first + 1
        if (3 * rows + 1) * g.n_nodes > self.stepped_cells:  # the stepped bounds would take too much memory
            stages = [(False, self.budget)]
        elif departures.size == 1 and rows >= STEPPED_HOURS:  # a long trip: the layered bounds are too loose
            stages = [(True, self.budget)]
        else:  # (a window's hour tries the layered ones first: its time filters are looser)
            stages = [(False, self.layered_states), (True, self.budget)]
        for stepped, budget in stages:
            if found[0] != -1.0:  # done (or nothing under the limit)
                break
            pots = self._bounds(origin, destination, departures, first, last, limit, stepped)
            starts = [_potential(pots, first, last, d, origin, self.static.landmarks, destination, self.rho, self.hold)
                      for d in departures.tolist()]  # fmt: skip
            found = search(pots, np.array(starts), budget)
        return found

    def _horizon(self, depart_s: float, spare: float) -> int:
        """The last hour a route can enter a street in when its cost beyond rho per second is at most
        ``spare`` (the upper bound less the least such cost of any route: a route of duration T costs at
        least that least cost + rho × T)."""
        if not math.isfinite(spare) or self.rho <= 0:
            return self.hours - 1
        return self.hour(depart_s + max(spare, 0.0) * (1 + 1e-9) / self.rho)

    def _bounds(
        self, origin: int, destination: int, departures: Floats, first: int, last: int, limit: float, stepped: bool
    ) -> Floats:
        """The lower bounds to ``destination`` for hours ``first`` … ``last`` (step 3): the layered ones (a
        row an hour) or the stepped ones (three rows an hour and the seconds to ``destination``); inf
        where no route under ``limit`` passes."""
        s = self.static
        if not stepped:
            return _layered(  # type: ignore[no-any-return]
                s.r_indptr, s.r_source, self.r_hourly, destination, first, last, origin, s.landmarks, limit
            )
        return _stepped(  # type: ignore[no-any-return]
            s.r_indptr, s.r_source, self.r_hourly, self.r_seconds, destination, first, last, origin, s.landmarks,
            limit, self.rho, self.hold, self.beyond.landmarks, self.clock, float(departures.min()),
            float(departures.max()),
        )  # fmt: skip

    def _timed_path(self, origin: int, edges: Ints, cost: float) -> TimedPath:
        nodes = np.concatenate((np.array([origin], dtype=np.int64), self.graph.target[edges]))
        entered = np.concatenate(([0.0], np.cumsum(self.seconds[edges])[:-1]))
        return TimedPath(True, cost, nodes, edges, entered.astype(np.float64))


def route_cost(costs: Floats, seconds: Floats, edges: Ints, depart_s: float) -> float:
    """What the route ``edges`` costs leaving at ``depart_s`` (seconds after the start of hour 0), each
    street charged ``costs`` (streets × hours) at the hour it is entered."""
    entered = np.concatenate(([0.0], np.cumsum(seconds[edges])[:-1]))
    return float(costs[edges, hour_entered(depart_s, entered, costs.shape[1])].sum())


def hour_entered(depart_s: float, entered_s: Floats, hours: int) -> Ints:
    """The hour (0 … hours−1) in which each street is entered."""
    return np.minimum((depart_s + np.asarray(entered_s)) // 3600.0, hours - 1).astype(np.int64)


def _change_bounds(hourly: Floats, seconds: Floats) -> tuple[float, float]:
    """How much a street's cost can change from one hour to the next, at most per second and at most
    per street (inf when a street opens or closes between hours)."""
    if hourly.shape[1] < 2 or hourly.shape[0] == 0:
        return 0.0, 0.0
    finite = np.isfinite(hourly)
    if (finite[:, 1:] != finite[:, :-1]).any():
        return math.inf, math.inf
    change = np.abs(np.diff(np.where(finite, hourly, 0.0), axis=1)).max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_second = np.where(change > 0, change / seconds, 0.0)
    return float(per_second.max(initial=0.0)), float(change.max(initial=0.0))


@numba.njit(cache=True)
def _layered(r_indptr, r_source, r_hourly, t, first, last, s, landmarks, limit):  # type: ignore[no-untyped-def]
    """The layered lower bounds (module docstring, step 3): row k for hour first + k. One Dijkstra
    backward from ``t`` over (hour, junction) states: within an hour along the reversed streets at that
    hour's cost, and from hour k + 1 to hour k at the same junction for free (one may move on to the
    next hour anywhere); the last row alone is the static cost to ``t`` at hour ``last``. A junction
    is not expanded once the landmark bound from ``s`` plus its value exceeds ``limit``."""
    n = len(r_indptr) - 1
    rows = last - first + 1
    dist = np.full(rows * n, np.inf)
    done = np.zeros(rows * n, dtype=np.bool_)
    ahead = np.full(n, -1.0)  # the landmark bound from s, computed once per junction
    keys, values = heap_new(1 << 14)
    x = (rows - 1) * n + t
    dist[x] = 0.0
    size = heap_push(keys, values, 0, 0.0, x)
    while size:
        d, x = keys[0], values[0]
        size = heap_pop(keys, values, size)
        if done[x]:
            continue
        done[x] = True
        k, u = x // n, x % n
        if ahead[u] < 0:
            ahead[u] = _bound(s, u, landmarks)
        if d + ahead[u] > limit:
            continue
        keys, values = heap_room(keys, values, size, 1 + r_indptr[u + 1] - r_indptr[u])
        if k > 0 and d < dist[x - n]:  # on to the next hour here
            dist[x - n] = d
            size = heap_push(keys, values, size, d, x - n)
        row = k * n
        for i in range(r_indptr[u], r_indptr[u + 1]):
            y, nd = row + r_source[i], d + r_hourly[first + k, i]
            if nd < dist[y]:
                dist[y] = nd
                size = heap_push(keys, values, size, nd, y)
    dist *= 1.0 - 1e-12
    return dist.reshape(rows, n)


@numba.njit(cache=True)
def _stepped(  # type: ignore[no-untyped-def]
    r_indptr, r_source, r_hourly, r_seconds, t, first, last, s, landmarks, limit, rho, hold, beyond, clock, earliest,
    latest,
):  # fmt: skip
    """The stepped lower bounds (module docstring, step 3) for hours first … last, three blocks of a
    row an hour: A, the static cost to ``t`` at hour k's costs (a way that stays in hour k); for
    k < last, F, the least cost of a way that leaves hour k, at hour k's costs up to any junction and
    from there M of hour k + 1; C, the same on hour k's costs less rho per second (the time spent in
    hour k, at least what is left of it, is charged by the caller). M of hour k is the least of A and
    the larger of F and C + rho × (an hour less the longest street, ``hold``); of the last hour, A.
    Backward Dijkstra searches, the last hour's first. A junction is left out of hour k's searches
    when no departure (``earliest`` … ``latest``) can be there in hour k on a route under ``limit``:
    too far to be there before the hour ends (the landmark bound on travel times, ``clock``), or, for
    a way that stays in the hour, to reach ``t`` before it ends; or too dear (its value plus the
    landmark bounds of reaching it, on the costs and on the costs beyond rho per second once it is
    hour k, exceeds ``limit``)."""
    n = len(r_indptr) - 1
    rows = last - first + 1
    out = np.full((3 * rows + 1, n), np.inf)
    known = np.full((4, n), -1.0)  # per junction, once: bounds from s (cost, beyond rho, seconds), seconds to t
    done = np.full(n, -1, dtype=np.int64)  # the search that settled a junction
    keys, values = heap_new(1 << 14)
    free = np.zeros(n)
    for k in range(rows - 1, -1, -1):
        hour = first + k
        since = max(hour * 3600.0 - latest, 0.0)  # in hour k: at least this long on the way
        end = (hour + 1) * 3600.0 - earliest  # seconds after the earliest departure when hour k ends
        out[k, t] = 0.0
        size = heap_push(keys, values, 0, 0.0, t)
        keys, values = _settle(
            r_indptr, r_source, r_hourly[hour], r_seconds, 0.0, out[k], done, 3 * k, known, rho * since, keys, values,
            size, s, t, landmarks, beyond, clock, limit, free, np.inf if k == rows - 1 else end + hold, True,
        )  # fmt: skip
        if k == rows - 1:
            continue
        seeds = _step(out, k + 1, rows, rho * (3600.0 - hold))
        for block, off in ((1, 0.0), (2, rho)):
            dist, size = out[block * rows + k], 0
            for x in np.flatnonzero(seeds < np.inf):
                if _known(known, 2, x, s, x, clock) < end + hold:  # a way can enter hour k + 1 here
                    dist[x] = seeds[x]
                    keys, values = heap_room(keys, values, size, 1)
                    size = heap_push(keys, values, size, seeds[x], x)
            spent = rho * (since if block == 1 else max((hour + 1) * 3600.0 - latest, 0.0))
            gate = free if block == 1 else out[rows + k]  # no way on through u under the limit at full costs: none
            keys, values = _settle(
                r_indptr, r_source, r_hourly[hour], r_seconds, off, dist, done, 3 * k + block, known, spent, keys,
                values, size, s, t, landmarks, beyond, clock, limit, gate, end, False,
            )  # fmt: skip
    out *= 1.0 - 1e-12
    out[3 * rows] = known[3]  # the least seconds to t (−1: not known): a label stays in its hour only if in time
    return out


@numba.njit(cache=True)
def _step(out, k, rows, step):  # type: ignore[no-untyped-def]
    """M of row k: what a way that has just entered hour k costs at least from each junction."""
    if k == rows - 1:
        return out[k].copy()
    return np.minimum(out[k], np.maximum(out[rows + k], step + out[2 * rows + k]))


@numba.njit(cache=True, inline="always")
def _known(known, j, u, a, b, landmarks):  # type: ignore[no-untyped-def]
    """``known[j, u]``, the landmark bound from a to b, computed the first time."""
    if known[j, u] < 0:
        known[j, u] = _bound(a, b, landmarks)
    return known[j, u]


@numba.njit(cache=True)
def _settle(  # type: ignore[no-untyped-def]
    r_indptr, r_source, cost, r_seconds, rho, dist, done, search, known, spent, keys, values, size, s, t, landmarks,
    beyond, clock, limit, gate, deadline, stays,
):  # fmt: skip
    """Dijkstra backward from the queued junctions on ``cost`` less ``rho`` per second of each street,
    into ``dist``; the heap's arrays for the next search. A junction is not expanded when no route
    under ``limit`` passes it: its value plus the least cost of getting there (the landmark bound, and
    ``spent`` + the bound beyond rho per second) exceeds ``limit``, or ``gate`` there does. A street
    is relaxed only from a junction one can leave before ``deadline`` seconds after the earliest
    departure (with ``stays``: and still reach t by then)."""
    while size:
        d, u = keys[0], values[0]
        size = heap_pop(keys, values, size)
        if done[u] == search:
            continue
        done[u] = search
        ahead = _known(known, 0, u, s, u, landmarks)
        if d + ahead > limit or gate[u] + ahead > limit:
            continue
        if spent > 0 and d + spent + _known(known, 1, u, s, u, beyond) > limit:
            continue
        keys, values = heap_room(keys, values, size, r_indptr[u + 1] - r_indptr[u])
        for i in range(r_indptr[u], r_indptr[u + 1]):
            v, nd = r_source[i], d + max(cost[i] - rho * r_seconds[i], 0.0)
            if not nd < dist[v]:
                continue
            if deadline < np.inf:  # v too far from s to leave it in time (or, staying, to reach t in time)
                late = _known(known, 2, v, s, v, clock) + (_known(known, 3, v, v, t, clock) if stays else 0.0)
                if late >= deadline:
                    continue
            dist[v] = nd
            size = heap_push(keys, values, size, nd, v)
    return keys, values


@numba.njit(cache=True)
def _find(keys, key):  # type: ignore[no-untyped-def]
    """The slot of ``key`` in the open-addressing table, or of the empty slot where it would go."""
    mask = len(keys) - 1
    slot = (key * 0x9E3779B97F4A7C15) & mask
    while keys[slot] != -1 and keys[slot] != key:
        slot = (slot + 1) & mask
    return slot


@numba.njit(cache=True)
def _timed_astar(  # type: ignore[no-untyped-def]
    indptr, target, seconds, hourly, s, t, departs, starts, tick_s, cap, pots, first, last, limit, budget, slope, jump,
    rho, landmarks, hold,
):  # fmt: skip
    """A* over (junction, tick) states from a source at every departure (a label's ``secs`` is its time
    since the start of hour 0); the cost at ``t``, the edges, the departure it left at (cost −1: over
    the budget; inf: nothing under ``limit``)."""
    head = np.full(len(indptr) - 1, -1, dtype=np.int64)  # per junction, its expanded labels as a linked list
    span = cap + 1
    size = 1 << 12  # labels, grown by doubling
    while size < 2 * len(departs):
        size *= 2
    node, tick = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)  # tick: the label's bucket
    dist, secs = np.empty(size, dtype=np.float64), np.empty(size, dtype=np.float64)  # secs: exact time
    pred, via = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)  # the label before, the edge from it
    done, after = np.zeros(size, dtype=np.bool_), np.empty(size, dtype=np.int64)  # after: the next expanded label
    keys, labels = np.full(2 * size, -1, dtype=np.int64), np.empty(2 * size, dtype=np.int64)
    n, heap_k, heap_v, queued = _sources(
        keys, labels, node, tick, dist, secs, pred, via, s, span, cap, departs, starts, tick_s, limit
    )
    while queued:
        a = heap_v[0]
        queued = heap_pop(heap_k, heap_v, queued)
        if done[a]:
            continue
        done[a] = True
        u = node[a]
        if u == t:
            edges, root = _unwind_labels(pred, via, a)
            return dist[a], edges, -1 - pred[root]
        hour = min(int(secs[a] // 3600.0), hourly.shape[1] - 1)
        if _dominated(a, head[u], after, secs, dist, last, slope, jump, limit, rho):
            continue
        after[a], head[u] = head[u], a
        heap_k, heap_v = heap_room(heap_k, heap_v, queued, indptr[u + 1] - indptr[u])
        for e in range(indptr[u], indptr[u + 1]):
            if hourly[e, hour] == np.inf:
                continue
            v, ns, nd = target[e], secs[a] + seconds[e], dist[a] + hourly[e, hour]
            f = nd + _potential(pots, first, last, ns, v, landmarks, t, rho, hold)
            if not f <= limit:  # no route under the limit passes here (or the bound is infinite)
                continue
            nk = min(int(ns // tick_s), cap)
            slot = _find(keys, v * span + nk)
            if keys[slot] != -1:  # of two labels of one junction and tick, the one of the lower bound is kept
                b = labels[slot]
                if not done[b] and (
                    f < dist[b] + _potential(pots, first, last, secs[b], v, landmarks, t, rho, hold)
                    if pots.shape[0] > last - first + 1  # the stepped bounds change with the time within a tick
                    else nd < dist[b]  # the others do not (but where an hour begins in it)
                ):
                    dist[b], secs[b], pred[b], via[b] = nd, ns, a, e
                    queued = heap_push(heap_k, heap_v, queued, f, b)
                continue
            if n >= budget:
                return -1.0, np.zeros(0, dtype=np.int64), 0
            if n == size:  # grow the labels and rebuild the table at twice the size
                size *= 2
                node, tick, pred, via, after, dist, secs, done = _grown(
                    node, tick, pred, via, after, dist, secs, done, size
                )
                keys, labels = _rehash(node, tick, n, span, 2 * size)
                slot = _find(keys, v * span + nk)
            keys[slot], labels[slot] = v * span + nk, n
            node[n], tick[n], dist[n], secs[n], pred[n], via[n] = v, nk, nd, ns, a, e
            queued = heap_push(heap_k, heap_v, queued, f, n)
            n += 1
    return np.inf, np.zeros(0, dtype=np.int64), 0


@numba.njit(cache=True, inline="always")
def _potential(pots, first, last, secs, v, landmarks, t, rho, hold):  # type: ignore[no-untyped-def]
    """The lower bound of the cost on from junction v at ``secs`` (since the start of hour 0): without
    rows the landmark bound on each street's cheapest hour; with a row an hour the layered bound of
    the hour; with the stepped bounds (module docstring, step 3) the least of staying in the hour (A,
    when the destination can still be reached within it) and leaving it (the larger of F and C + rho
    per second left in the hour); from the last hour on, A."""
    if pots.shape[0] == 0:
        return _bound(v, t, landmarks)
    hour = int(secs // 3600.0)
    if pots.shape[0] == last - first + 1:  # the layered bounds: a row an hour
        return pots[min(hour, last) - first, v]
    if hour >= last:
        return pots[last - first, v]
    k, rows, end = hour - first, last - first + 1, (hour + 1) * 3600.0
    leave = max(pots[rows + k, v], pots[2 * rows + k, v] + rho * (end - secs))
    if secs + pots[3 * rows, v] >= end + hold:  # too late to reach t within the hour: it must leave it
        return leave
    return min(pots[k, v], leave)


@numba.njit(cache=True)
def _sources(keys, labels, node, tick, dist, secs, pred, via, s, span, cap, departs, starts, tick_s, limit):  # type: ignore[no-untyped-def]
    """The source labels, one per departure (its pred −1 − its index; a departure within the tick of an
    earlier one merges with it, and one whose bound exceeds ``limit`` is left out): their count and the
    heap they start (its arrays and size)."""
    heap_k, heap_v = heap_new(len(node))
    n = queued = 0
    for i in range(len(departs)):
        key = s * span + min(int(departs[i] // tick_s), cap)
        slot = _find(keys, key)
        if starts[i] > limit or keys[slot] != -1:
            continue
        keys[slot], labels[slot] = key, n
        node[n], tick[n], dist[n], secs[n], pred[n], via[n] = s, key - s * span, 0.0, departs[i], -1 - i, -1
        queued = heap_push(heap_k, heap_v, queued, starts[i], n)
        n += 1
    return n, heap_k, heap_v, queued


@numba.njit(cache=True)
def _dominated(a, b, after, secs, dist, last, slope, jump, limit, rho):  # type: ignore[no-untyped-def]
    """Whether an expanded label b of the same junction (any: the test compares their costs) leaves
    nothing for label a to gain. From the same junction at two times the same way on costs at most,
    per hour change between the two crossing moments, what the streets entered between them may gain:
    slope × (seconds apart) + jump (the hourly costs' largest change per second and per street). Only
    the hour changes a way on can still meet count: those before ``last`` and before the later label's
    time plus the longest a way on from a can last and stay under ``limit`` ((limit − a's cost) / rho)."""
    checked = 0
    while b != -1 and checked < 4:
        checked += 1
        earlier, later = min(secs[a], secs[b]), max(secs[a], secs[b])
        reach = later + ((limit - dist[a]) / rho if rho > 0 else np.inf)
        final = min(last, int(reach // 3600.0)) if reach < np.inf else last
        changes = final - min(int(earlier // 3600.0), last)
        gain = 0.0 if changes <= 0 else changes * (slope * (later - earlier) + jump)
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
    """The edges from the source label to ``last``, and that source label (its pred is negative)."""
    count, b = 0, last
    while pred[b] >= 0:
        count, b = count + 1, pred[b]
    edges = np.empty(count, dtype=np.int64)
    b = last
    for i in range(count - 1, -1, -1):
        edges[i], b = via[b], pred[b]
    return edges, b


@numba.njit(cache=True)
def _grown(node, tick, pred, via, after, dist, secs, done, size):  # type: ignore[no-untyped-def]
    """The label arrays at ``size``."""
    return (
        _grow_i(node, size), _grow_i(tick, size), _grow_i(pred, size), _grow_i(via, size), _grow_i(after, size),
        _grow_f(dist, size), _grow_f(secs, size), _grow_b(done, size),
    )  # fmt: skip


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
