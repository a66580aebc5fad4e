"""One trip: the least-exposure route for a mode, with its risk and what carries it (pure).

Hazard rates come per street, or per street and hour (then each street is charged the hour one
enters it on the route itself: an exact search in the time-expanded graph, ``timed``). The cost
minimised per street is exposure + ``time_weight`` × hours (so that where the hazard is nil the
shortest way wins, and a detour is taken only for a real gain: by default an hour of travel
weighs as much as a 0.1 % chance of harm). The other side's ground is never entered; grey ground
costs ``grey_penalty`` times more (None: never entered either). Without hazard rates the route is
the fastest one and its risk is *unknown*.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from greyzone.model.enums import Kind
from greyzone.routing.exposure import (
    ASSUMPTIONS,
    HARM,
    Harm,
    Profile,
    edge_exposure,
    edge_seconds,
    risk,
    road_density,
    with_control,
)
from greyzone.routing.graph import StreetGraph
from greyzone.routing.reach import ReachResult
from greyzone.routing.shortest import Router
from greyzone.routing.timed import TimedPath, TimedRouter, hour_entered, route_cost

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Segment:
    """A street of the route and the part of the route's exposure it carries."""

    edge: int
    name: str
    exposure: float
    share: float
    threat: Kind | None  # the threat that weighs most on it
    minute: float = 0.0  # minutes after departure one enters it (its hazard is that hour's)


@dataclass(frozen=True, slots=True)
class RoutePlan:
    reachable: bool
    reason: str  # why not, when not reachable
    nodes: npt.NDArray[np.int64]
    edges: npt.NDArray[np.int64]
    length_m: float
    seconds: float
    exposure: float | None  # None: no hazard known
    risk: float | None
    riskiest: list[Segment]
    assumptions: str = ASSUMPTIONS
    note: str = ""  # how the hour of each street was settled, when not exactly


class Planner:
    """Routes for one mode, hazard and control map. Rates come per street (the same every hour) or per
    street and hour (hour 0 being the hour the departures are counted from); with hourly rates the
    route is exact in the time-expanded graph (``timed``): each street is charged the hour one enters
    it on *that* route. The costs, and the landmarks of the search, are built once for every departure."""

    def __init__(
        self,
        graph: StreetGraph,
        profile: Profile,
        rates: Mapping[Kind, Floats] | None,
        states: npt.NDArray[np.int8] | None = None,
        grey_penalty: float | None = 10.0,
        time_weight: float = 0.001,
        tick_s: float = 60.0,
        factor: Floats | None = None,
    ) -> None:
        self.graph, self.profile, self.states, self.grey_penalty = graph, profile, states, grey_penalty
        self.seconds = seconds = self.base_seconds = edge_seconds(graph, profile)
        if factor is not None:  # streets closed (inf) or dearer, e.g. by mine reports: slower to take, never faster
            self.seconds = seconds = np.where(np.isinf(factor), np.inf, seconds)
        self.factor = factor
        self.known = bool(rates)
        hours = max((r.shape[1] for r in (rates or {}).values() if r.ndim == 2), default=1)
        by_hour = {k: _by_hour(r, hours) for k, r in (rates or {}).items()}
        hunted = any(HARM.get(k) is Harm.ROAD for k in by_hour)
        self.density = density = road_density(graph) if hunted else None
        exposure, self.per_kind = edge_exposure(seconds, by_hour, profile, density)  # streets × hours
        self.exposure = exposure if self.per_kind else np.zeros((graph.n_edges, 1))
        hold = np.where(np.isfinite(seconds), seconds / 3600.0, 0.0)[:, None]
        cost = self.exposure + time_weight * hold if rates else np.repeat(seconds[:, None], 1, axis=1)
        cost = np.where(np.isfinite(seconds)[:, None], cost, np.inf)
        if factor is not None:
            cost = cost * np.where(np.isfinite(factor), factor, 1.0)[:, None]
        self.cost = with_control(cost, states, grey_penalty) if states is not None else cost
        self.rates = rates or {}
        self.timed = TimedRouter(graph, seconds, self.cost, tick_s=tick_s) if hours > 1 else None
        self.static = Router(graph, self.cost[:, 0]) if hours == 1 else None
        self._quick: Router | None = None

    def route(
        self,
        origin: int,
        destination: int,
        depart_s: float = 0.0,
        top: int = 5,
        exact: bool = True,
        _found: TimedPath | None = None,
    ) -> RoutePlan:
        """The least-cost route leaving at ``depart_s`` seconds after the start of hour 0, or why there is
        none. ``exact`` False (or an exact search over its budget): each street charged the hour one
        reaches it on the fastest way — quick, and the route's risk is still counted at the hours it is
        travelled."""
        note = ""
        if self.timed is not None:
            timed = _found if _found is not None else self.timed.path(origin, destination, depart_s) if exact else None
            if timed is not None and (timed.exact or timed.reachable):
                found, edges, nodes = timed.reachable, timed.edges, timed.nodes
            else:
                if exact:
                    note = (
                        "approximate: each street is charged the hour one reaches it on the fastest way (the "
                        "exact time-dependent search met its budget)"
                    )
                arrival = self.arrivals(origin)
                at_hour = self.cost[np.arange(self.graph.n_edges), self.hour_of(depart_s + arrival)]
                cheapest = self.timed.static.landmarks  # built on each street's cheapest hour: still valid
                path = self._fastest().reweighted(at_hour, cheapest).path(origin, destination)
                found, edges, nodes = path.reachable, path.edges, path.nodes
        else:
            assert self.static is not None
            path = self.static.path(origin, destination)
            found, edges, nodes = path.reachable, path.edges, path.nodes
        if not found:
            return self._unreachable(origin, destination)
        if self.timed is not None:  # never worse than the fastest way, charged the hours it is travelled
            quick = self._fastest().path(origin, destination)
            if quick.reachable and self.charged(quick.edges, depart_s) < self.charged(edges, depart_s):
                edges, nodes = quick.edges, quick.nodes
        return self.plan_of(nodes, edges, depart_s, top, note)

    def plan_of(
        self, nodes: npt.NDArray[np.int64], edges: npt.NDArray[np.int64], depart_s: float, top: int = 5, note: str = ""
    ) -> RoutePlan:
        """The plan of a given route leaving at ``depart_s``: its length and time, its exposure with each
        street charged the hour it is entered, and the ``top`` streets that carry most of it."""
        entered = np.concatenate(([0.0], np.cumsum(self.seconds[edges])[:-1]))
        hour = self.hour_of(depart_s + entered)
        charged = self.exposure[edges, hour]
        total = float(charged.sum()) if self.known else None
        riskiest = self._riskiest(edges, hour, charged, entered, total, top) if self.known and total else []
        return RoutePlan(
            True,
            "",
            nodes,
            edges,
            float(self.graph.length_m[edges].sum()),
            float(self.seconds[edges].sum()),
            total,
            risk(total) if total is not None else None,
            riskiest,
            note=note,
        )

    def _riskiest(
        self,
        edges: npt.NDArray[np.int64],
        hour: npt.NDArray[np.int64],
        charged: Floats,
        entered: Floats,
        total: float,
        top: int,
    ) -> list[Segment]:
        """The streets that carry most of the route's exposure, one entry per street (its stretches on
        the route summed; an unnamed street by itself): share, the threat weighing most on it, and the
        minute the route first enters it."""
        names = self.graph.name_id[edges]
        unnamed = np.array([not self.graph.names[n] for n in names.tolist()], dtype=bool)
        key = np.where(unnamed, -1 - edges, names)  # unnamed streets stay apart
        _, first_at, group = np.unique(key, return_index=True, return_inverse=True)
        carried = np.bincount(group.ravel(), weights=charged, minlength=first_at.size)
        seen = np.argsort(first_at, kind="stable")  # the streets in the order the route enters them
        ranked = seen[np.argsort(-carried[seen], kind="stable")]
        rows = []
        for g in ranked[carried[ranked] > 0][:top].tolist():
            at = np.flatnonzero(group.ravel() == g)
            by_threat = {k: float(v[edges[at], hour[at]].sum()) for k, v in self.per_kind.items()}
            first = int(at[0])
            edge = int(edges[first])
            threat = max(by_threat, key=lambda k: by_threat[k]) if by_threat else None
            name = self.graph.names[self.graph.name_id[edge]]
            share = float(carried[g])
            rows.append(Segment(edge, name, share, share / total, threat, float(entered[first]) / 60.0))
        return rows[:top]

    def by_threat(
        self, edges: npt.NDArray[np.int64], depart_s: float, rates: Mapping[Kind, Floats] | None = None
    ) -> dict[Kind, float]:
        """A route's exposure to each threat, each street charged the hour it is entered: under the
        planner's rates, or under other ``rates`` of the same shape (e.g. the usual level)."""
        entered = np.concatenate(([0.0], np.cumsum(self.seconds[edges])[:-1]))
        hour = self.hour_of(depart_s + entered)
        if rates is None:
            return {k: float(v[edges, hour].sum()) for k, v in self.per_kind.items()}
        hours = self.exposure.shape[1]
        picked = {k: _by_hour(r, hours)[edges, hour] for k, r in rates.items()}
        density = self.density[edges] if self.density is not None else road_density(self.graph)[edges]
        _, per_kind = edge_exposure(self.seconds[edges], picked, self.profile, density)
        return {k: float(v.sum()) for k, v in per_kind.items()}

    def reach(self, origin: int, depart_s: float) -> ReachResult:
        """Where one gets from ``origin`` leaving at ``depart_s``: each node's time and exposure on its
        cheapest way (``routing.reach``)."""
        from greyzone.routing.reach import reach

        g = self.graph
        return reach(g.indptr, g.target, self.seconds, self.cost, self.exposure, origin, depart_s)

    def matrix(
        self, origins: list[int], destinations: list[int], depart_s: float, exact: bool = False
    ) -> tuple[Floats, Floats]:
        """Seconds and exposure from every origin to every destination (origins × destinations; inf:
        no way): one search from each origin over the whole city (``reach``: each junction by its
        least-cost way, each street charged the hour it is reached), or with ``exact`` each pair's
        route as :meth:`route` plans it (the time-dependent search)."""
        seconds = np.full((len(origins), len(destinations)), np.inf)
        exposure = np.full_like(seconds, np.inf)
        for i, o in enumerate(origins):
            if exact:
                for j, d in enumerate(destinations):
                    plan = self.route(o, d, depart_s, top=0)
                    if plan.reachable:
                        seconds[i, j], exposure[i, j] = plan.seconds, plan.exposure or 0.0
                continue
            found = self.reach(o, depart_s)
            seconds[i], exposure[i] = found.seconds[destinations], found.exposure[destinations]
        return seconds, exposure

    def charged(self, edges: npt.NDArray[np.int64], depart_s: float) -> float:
        """What a route costs, each street charged the hour it is entered."""
        return route_cost(self.cost, self.seconds, edges, depart_s)

    def _fastest(self) -> Router:
        if self._quick is None:
            self._quick = Router(self.graph, np.where(np.isfinite(self.cost).any(axis=1), self.seconds, np.inf))
        return self._quick

    def hour_of(self, seconds: Floats) -> npt.NDArray[np.int64]:
        """The hour (column of the rates) of moments ``seconds`` after the start of hour 0."""
        return hour_entered(0.0, np.where(np.isfinite(seconds), seconds, 0.0), self.exposure.shape[1])

    def arrivals(self, origin: int) -> Floats:
        """Seconds from ``origin`` to the start of every street on the fastest way (inf: not reachable)."""
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra

        g, usable = self.graph, np.isfinite(self.seconds)
        matrix = csr_matrix(
            (self.seconds[usable] + 1e-9, (g.source()[usable], g.target[usable])), shape=(g.n_nodes, g.n_nodes)
        )
        return np.asarray(dijkstra(matrix, indices=origin), dtype=np.float64)[g.source()]

    def _unreachable(self, origin: int, destination: int) -> RoutePlan:
        def joined(seconds: Floats) -> bool:
            return Router(self.graph, seconds).path(origin, destination).reachable

        crossed = "the other side's ground" + (" or grey ground" if self.grey_penalty is None else "")
        if not joined(self.base_seconds):
            reason = f"no road for {self.profile.mode.value} between these points"
        elif self.factor is not None and not joined(self.seconds):
            reason = "every way is closed by recent mine or UXO reports or by the areas to avoid"
        else:
            reason = f"cut by control: every way crosses {crossed}"
        empty = np.zeros(0, dtype=np.int64)
        return RoutePlan(False, reason, empty, empty, math.nan, math.nan, None, None, [])


def plan(
    graph: StreetGraph,
    profile: Profile,
    origin: int,
    destination: int,
    rates: Mapping[Kind, Floats] | None,
    states: npt.NDArray[np.int8] | None = None,
    grey_penalty: float | None = 10.0,
    time_weight: float = 0.001,
    top: int = 5,
    depart_s: float = 0.0,
    factor: Floats | None = None,
) -> RoutePlan:
    """The least-exposure route from ``origin`` to ``destination`` (nodes), or why there is none."""
    planner = Planner(graph, profile, rates, states, grey_penalty, time_weight, factor=factor)
    return planner.route(origin, destination, depart_s, top)


def best_departure(
    planner: Planner, origin: int, destination: int, departures_s: Floats
) -> tuple[int, list[RoutePlan]]:
    """A route for each departure (seconds after the start of hour 0) and the index of the best: the
    least exposed, an hour of travel weighed as the planner weighs it (the fastest when no hazard is
    known). With hourly rates the best is exact over the whole window (``TimedRouter.best``: the
    departures of an hour searched at once) and every other departure gets the cheaper, at its own
    hours, of that route and the fastest way: how risky leaving then would be (no cheaper than the
    best; a search of its own might find it a little less risky)."""
    if planner.timed is None:  # the same every hour: one route serves every departure
        return 0, [planner.route(origin, destination, 0.0)] * len(departures_s)
    best, found = planner.timed.best(origin, destination, departures_s)
    chosen = planner.route(origin, destination, float(departures_s[best]), _found=found)
    if not chosen.reachable:
        return best, [chosen] * len(departures_s)
    quick = planner._fastest().path(origin, destination)
    ways = [(chosen.nodes, chosen.edges)] + ([(quick.nodes, quick.edges)] if quick.reachable else [])
    routes = []
    for i, depart in enumerate(float(d) for d in departures_s):
        nodes, edges = min(ways, key=lambda way: planner.charged(way[1], depart))
        routes.append(chosen if i == best else planner.plan_of(nodes, edges, depart, top=0))
    return best, routes


def _by_hour(rates: Floats, hours: int) -> Floats:
    """Rates as streets × hours (the last hour repeated; rates per street are the same every hour)."""
    r = rates[:, None] if rates.ndim == 1 else rates
    return np.concatenate([r, np.repeat(r[:, -1:], hours - r.shape[1], axis=1)], axis=1) if r.shape[1] < hours else r


def alternatives(
    graph: StreetGraph,
    profile: Profile,
    origin: int,
    destination: int,
    rates: Mapping[Kind, Floats],
    states: npt.NDArray[np.int8] | None = None,
    grey_penalty: float | None = 10.0,
    most: int = 5,
    depart_s: float = 0.0,
    factor: Floats | None = None,
) -> list[RoutePlan]:
    """Up to ``most`` routes none of which is both riskier and slower than another: the least-exposure
    route under weights of travel time from none to overwhelming (weighted sums find the supported
    points of the risk–time front), fastest first."""
    found: dict[bytes, RoutePlan] = {}
    for weight in (1e9, 1.0, 0.1, 0.01, 0.001, 1e-4, 0.0):
        route = plan(graph, profile, origin, destination, rates, states, grey_penalty, weight, 3, depart_s, factor)
        if route.reachable:
            found.setdefault(route.edges.tobytes(), route)
    routes = sorted(found.values(), key=lambda r: (r.seconds, r.risk or 0.0))
    front = [
        r
        for r in routes
        if not any(
            o is not r
            and o.seconds <= r.seconds
            and (o.risk or 0) <= (r.risk or 0)
            and (o.seconds, o.risk) != (r.seconds, r.risk)
            for o in routes
        )
    ]
    if len(front) <= most:
        return front
    keep = np.unique(np.linspace(0, len(front) - 1, most).round().astype(int))  # spread along the front
    return [front[i] for i in keep]
