"""One trip: the least-exposure route for a mode, with its risk and what carries it (pure).

Hazard rates come per street, or per street and hour from departure (then each street is charged
the hour one reaches it on the fastest way). The cost minimised per street is exposure +
``time_weight`` × hours (so that where the hazard is
nil the shortest way wins, and a detour is taken only for a real gain: by default an hour of travel
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
from greyzone.routing.exposure import ASSUMPTIONS, Profile, edge_exposure, edge_seconds, risk, with_control
from greyzone.routing.graph import StreetGraph
from greyzone.routing.shortest import Router

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Segment:
    """A street of the route and the part of the route's exposure it carries."""

    edge: int
    name: str
    exposure: float
    share: float
    threat: Kind | None  # the threat that weighs most on it


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


def plan(graph: StreetGraph, profile: Profile, origin: int, destination: int, rates: Mapping[Kind, Floats] | None,
         states: npt.NDArray[np.int8] | None = None, grey_penalty: float | None = 10.0, time_weight: float = 0.001,
         top: int = 5) -> RoutePlan:  # fmt: skip
    """The least-exposure route from ``origin`` to ``destination`` (nodes), or why there is none."""
    seconds = edge_seconds(graph, profile)
    exposure, per_kind = edge_exposure(seconds, _at_the_hour(graph, seconds, origin, rates or {}), profile)
    cost = exposure + time_weight * seconds / 3600.0 if rates else seconds.copy()
    controlled = with_control(cost, states, grey_penalty) if states is not None else cost
    path = Router(graph, controlled).path(origin, destination)
    if not path.reachable:
        free = states is not None and Router(graph, cost).path(origin, destination).reachable
        crossed = "the other side's ground" + (" or grey ground" if grey_penalty is None else "")
        reason = (f"cut by control: every way crosses {crossed}" if free else
                  f"no road for {profile.mode.value} between these points")  # fmt: skip
        empty = np.zeros(0, dtype=np.int64)
        return RoutePlan(False, reason, empty, empty, math.nan, math.nan, None, None, [])
    e = path.edges
    total = float(exposure[e].sum()) if rates else None
    riskiest = []
    if rates and total:
        for edge in e[np.argsort(-exposure[e], kind="stable")[:top]].tolist():
            if exposure[edge] <= 0:
                break
            threat = max(per_kind, key=lambda k: float(per_kind[k][edge]))
            riskiest.append(Segment(edge, graph.names[graph.name_id[edge]], float(exposure[edge]),
                                    float(exposure[edge]) / total, threat))  # fmt: skip
    return RoutePlan(True, "", path.nodes, e, float(graph.length_m[e].sum()), float(seconds[e].sum()), total,
                     risk(total) if total is not None else None, riskiest)  # fmt: skip


def _at_the_hour(graph: StreetGraph, seconds: Floats, origin: int, rates: Mapping[Kind, Floats]) -> dict[Kind, Floats]:
    """Per street, the rate of the hour one would be on it: rates given by hour from departure
    (streets × hours) are read at the hour of arrival at the street's start on the fastest way from
    the origin (an approximation: the chosen route may be slower). Rates given per street pass as is."""
    hourly = {k: r for k, r in rates.items() if r.ndim == 2}
    if not hourly:
        return dict(rates)
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    finite = np.where(np.isfinite(seconds), seconds, 0.0) + 1e-9  # keep every street (scipy drops zeros)
    usable = np.isfinite(seconds)
    matrix = csr_matrix((finite[usable], (graph.source()[usable], graph.target[usable])),
                        shape=(graph.n_nodes, graph.n_nodes))  # fmt: skip
    arrival = np.asarray(dijkstra(matrix, indices=origin), dtype=np.float64)[graph.source()]
    out = dict(rates)
    for kind, r in hourly.items():
        hour = np.clip(np.nan_to_num(arrival / 3600.0, posinf=0.0).astype(np.int64), 0, r.shape[1] - 1)
        out[kind] = r[np.arange(len(hour)), hour]
    return out


def alternatives(graph: StreetGraph, profile: Profile, origin: int, destination: int, rates: Mapping[Kind, Floats],
                 states: npt.NDArray[np.int8] | None = None, grey_penalty: float | None = 10.0, most: int = 5
                 ) -> list[RoutePlan]:  # fmt: skip
    """Up to ``most`` routes none of which is both riskier and slower than another: the least-exposure
    route under weights of travel time from none to overwhelming (weighted sums find the supported
    points of the risk–time front), fastest first."""
    found: dict[bytes, RoutePlan] = {}
    for weight in (1e9, 1.0, 0.1, 0.01, 0.001, 1e-4, 0.0):
        route = plan(graph, profile, origin, destination, rates, states, grey_penalty, time_weight=weight, top=3)
        if route.reachable:
            found.setdefault(route.edges.tobytes(), route)
    routes = sorted(found.values(), key=lambda r: (r.seconds, r.risk or 0.0))
    front = [r for r in routes if not any(o is not r and o.seconds <= r.seconds and (o.risk or 0) <= (r.risk or 0)
                                          and (o.seconds, o.risk) != (r.seconds, r.risk) for o in routes)]  # fmt: skip
    if len(front) <= most:
        return front
    keep = np.unique(np.linspace(0, len(front) - 1, most).round().astype(int))  # spread along the front
    return [front[i] for i in keep]
