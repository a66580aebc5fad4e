"""The ways out of a city (pure): for each gate, the least-cost route from the centre and its status,
with the reason and since when over a history.

- *cut*: no way there without crossing the other side's ground (or no road at all);
- *risky*: a way only through grey ground (contested or unconfirmed);
- *threatened*: a way on held ground, but the other side's ground or grey ground lies within reach
  of it of a threat that hunts on roads (:data:`REACHES`), or strikes on the road itself were
  reported recently (:data:`STRIKES`);
- *open*: none of these.

Roads come under fire kilometres before anyone holds them: *threatened* is the warning stage, days
or weeks before *cut*. Distances are measured on the route (the streets it takes) in the city's UTM
zone, to the nearest point of each area, with where along the route (km from the centre) it is.

A street's control state comes from areas (the other side's, the grey ones) by exact line–polygon
intersection: a street that a polygon touches anywhere is in that state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pyproj
import shapely
import shapely.ops

from greyzone.routing.exposure import CONTESTED, HELD, OTHER_SIDE, with_control
from greyzone.routing.graph import StreetGraph
from greyzone.routing.shortest import Router

Floats = npt.NDArray[np.float64]


class Status(StrEnum):
    OPEN = "open"
    THREATENED = "threatened"
    RISKY = "risky"
    CUT = "cut"


@dataclass(frozen=True, slots=True)
class Reach:
    """How far past the other side's (or grey) ground a threat reaches a road, and whether being in
    that reach makes a road *threatened* (``warns``) or is only said in the reason."""

    threat: str
    km: float
    warns: bool
    source: str


#: The stated reaches (README, "Ways out"). Mortars and FPV drones hunt what moves on a road near the
#: line; tube artillery reaches the whole of a front-line city for most of a war, so it is said, not
#: warned of (a warning that never ends warns no one). Change them with ``--reach THREAT=KM``.
REACHES: tuple[Reach, ...] = (
    Reach("mortars", 7.0, True, "120 mm mortars (2B11 / 2S12 Sani): maximum range about 7 km"),
    Reach(
        "FPV drones",
        10.0,
        True,
        "FPV drones on radio control strike out to about 10 km from their operators near the line "
        "(RUSI, Watling & Reynolds, 'Stormbreak', 2023; the 'kill zone' reported along the Donetsk front "
        "in 2024-2025); fibre-optic FPVs reach 15-20 km by 2025",
    ),
    Reach(
        "tube artillery",
        20.0,
        False,
        "122 mm D-30 howitzer 15.4 km, 152 mm 2S3 Akatsiya 18.5 km, 2S19 Msta 24.7 km (manufacturers' figures)",
    ),
)


@dataclass(frozen=True, slots=True)
class StrikeRule:
    """Strikes on the road itself make it threatened: at least ``count`` incidents of road-hunting
    kinds (FPV strikes, drone drops) within ``within_m`` of the route in the last ``hours``."""

    count: int = 3
    within_m: float = 300.0
    hours: float = 48.0


STRIKES = StrikeRule()


@dataclass(frozen=True, slots=True)
class Nearest:
    """The nearest point of an area to a route: how far (km; 0 when it touches) and where (km along
    the route from its start)."""

    km: float
    at_km: float


@dataclass(frozen=True, slots=True)
class Corridor:
    gate: str
    status: Status
    cost: float  # of the route it would take (nan when cut)
    edges: npt.NDArray[np.int64]
    other: Nearest | None = None  # the other side's ground nearest the route (None: none known)
    grey: Nearest | None = None  # grey ground nearest the route
    strikes: int = 0  # road-hunting incidents on the route in the strike rule's hours
    within: tuple[str, ...] = field(default=())  # the threats whose reach the route is in

    def reason(self, since: str | None = None, reaches: Sequence[Reach] = REACHES, rule: StrikeRule = STRIKES) -> str:
        """Why it has its status, in one line ("threatened: other side 3.2 km from the road at km 14;
        within reach of FPV drones (10 km), tube artillery (20 km); 4 FPV or drone strikes on it in
        48 h since 2024-10-12")."""
        when = f" — since {since}" if since else ""
        parts = []
        if self.status is Status.CUT:
            parts.append("no way there that avoids the other side's ground")
        elif self.status is Status.RISKY:
            parts.append("the only way there crosses grey or unconfirmed ground (no fresh evidence who holds it)")
        for label, near in (("other side", self.other), ("grey ground", self.grey)):
            if near is not None and self.status is not Status.CUT:
                parts.append(f"{label} {near.km:.1f} km from the road at km {near.at_km:.0f}")
        by_name = {r.threat: r for r in reaches}
        if self.within and self.status is not Status.CUT:
            parts.append("within reach of " + ", ".join(f"{t} ({by_name[t].km:g} km)" for t in self.within))
        if self.strikes:
            parts.append(
                f"{self.strikes} FPV or drone strike{'s' if self.strikes > 1 else ''} on it in {rule.hours:g} h"
            )
        text = "; ".join(parts) or "nothing known within reach of the road"
        return f"{self.status.value}: {text}{when}"


def street_lines(graph: StreetGraph) -> npt.NDArray[np.object_]:
    """Each street's shape as a shapely LineString (lon/lat)."""
    parts = np.repeat(np.arange(graph.n_edges), np.diff(graph.shape_offset))
    return np.asarray(shapely.linestrings(graph.shape_lonlat, indices=parts), dtype=object)


def street_states(
    lines: npt.NDArray[np.object_], other: shapely.Geometry | None, grey: shapely.Geometry | None
) -> npt.NDArray[np.int8]:
    """Control state per street: other side if the other side's area touches it, grey (contested) if a
    grey area does, else held."""
    states = np.full(len(lines), HELD, dtype=np.int8)
    if grey is not None and not grey.is_empty:
        states[shapely.intersects(lines, grey)] = CONTESTED
    if other is not None and not other.is_empty:
        states[shapely.intersects(lines, other)] = OTHER_SIDE
    return states


class Metric:
    """Lon/lat ↔ metres in the UTM zone of a place (distances to ~0.1 %)."""

    def __init__(self, lon: float, lat: float) -> None:
        zone = int((lon + 180) // 6) + 1
        crs = pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)
        self._forward = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform
        self._inverse = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform

    def inverse(self, x: float, y: float) -> tuple[float, float]:
        """Metres back to lon/lat."""
        lon, lat = self._inverse(x, y)
        return float(lon), float(lat)

    def __call__(self, geometry: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(geometry, self.points)

    def points(self, lonlat: Floats) -> Floats:
        x, y = self._forward(lonlat[:, 0], lonlat[:, 1])
        return np.column_stack([x, y])


def route_line(graph: StreetGraph, edges: npt.NDArray[np.int64]) -> shapely.LineString | None:
    """The route's shape as one line (lon/lat) from its start, or None for an empty route."""
    if edges.size == 0:
        return None
    offsets = graph.shape_offset
    points = np.concatenate([graph.shape_lonlat[offsets[e] : offsets[e + 1]] for e in edges.tolist()])
    return shapely.LineString(points) if len(points) >= 2 else None


def nearest(line_m: shapely.LineString, area_m: shapely.Geometry | None) -> Nearest | None:
    """The nearest point of ``area_m`` to ``line_m`` (both in metres), or None without an area."""
    if area_m is None or area_m.is_empty:
        return None
    on_line, _ = shapely.ops.nearest_points(line_m, area_m)
    return Nearest(float(line_m.distance(area_m)) / 1000, float(line_m.project(on_line)) / 1000)


@dataclass(frozen=True, slots=True)
class Threats:
    """What a day's map gives a route: the other side's and grey ground (metres) and the road-hunting
    strikes of the strike rule's hours (points, metres)."""

    other_m: shapely.Geometry | None = None
    grey_m: shapely.Geometry | None = None
    strikes_m: Floats = field(default_factory=lambda: np.zeros((0, 2)))


def assess(
    line_m: shapely.LineString, threats: Threats, reaches: Sequence[Reach] = REACHES, rule: StrikeRule = STRIKES
) -> tuple[Nearest | None, Nearest | None, int, tuple[str, ...], bool]:
    """A route (metres) against a day's threats: nearest other side and grey ground, strikes on it,
    the threats whose reach it is in, and whether that makes it threatened."""
    other, grey = nearest(line_m, threats.other_m), nearest(line_m, threats.grey_m)
    closest = min((n.km for n in (other, grey) if n is not None), default=np.inf)
    within = tuple(r.threat for r in reaches if closest <= r.km)
    strikes = 0
    if len(threats.strikes_m):
        points = shapely.points(threats.strikes_m)
        strikes = int(np.count_nonzero(shapely.dwithin(line_m, points, rule.within_m)))
    warned = {r.threat for r in reaches if r.warns}
    threatened = bool(warned.intersection(within)) or strikes >= rule.count
    return other, grey, strikes, within, threatened


def corridors(
    graph: StreetGraph,
    cost: Floats,
    states: npt.NDArray[np.int8],
    centre: int,
    gates: Sequence[tuple[str, int]],
    grey_penalty: float = 10.0,
    threats: Threats | None = None,
    metric: Metric | None = None,
    reaches: Sequence[Reach] = REACHES,
    rule: StrikeRule = STRIKES,
) -> list[Corridor]:
    """The status of each gate's way out from ``centre`` (node) under these street states, and with
    ``threats`` (in ``metric``'s metres) whether a way on held ground is threatened."""
    held_only = Router(graph, with_control(cost, states, None))
    through_grey = Router(graph, with_control(cost, states, grey_penalty))
    to_m = metric or Metric(float(graph.lon[centre]), float(graph.lat[centre]))
    out = []
    for name, node in gates:
        path = held_only.path(centre, node)
        if path.reachable:
            status, route_cost = Status.OPEN, path.cost
        else:
            path = through_grey.path(centre, node)
            status = Status.RISKY if path.reachable else Status.CUT
            route_cost = float(cost[path.edges].sum()) if path.reachable else float("nan")
        line = route_line(graph, path.edges)
        if line is None or threats is None:  # no route to measure, or nothing to measure it against
            out.append(Corridor(name, status, route_cost, path.edges))
            continue
        other, grey, strikes, within, threatened = assess(to_m(line), threats, reaches, rule)
        if status is Status.OPEN and threatened:
            status = Status.THREATENED
        out.append(Corridor(name, status, route_cost, path.edges, other, grey, strikes, within))
    return out


@dataclass(frozen=True, slots=True)
class Day:
    """One day of a history: its label, the street states and (optionally) the threats."""

    day: str
    states: npt.NDArray[np.int8]
    threats: Threats | None = None


@dataclass(frozen=True)
class WayOut:
    """A gate's history: each day's corridor, and the days its status changed."""

    gate: str
    days: list[tuple[str, Corridor]]

    @property
    def changes(self) -> list[tuple[str, Status]]:
        log: list[tuple[str, Status]] = []
        for day, c in self.days:
            if not log or log[-1][1] is not c.status:
                log.append((day, c.status))
        return log

    def first(self, status: Status) -> str | None:
        return next((day for day, c in self.days if c.status is status), None)

    @property
    def since(self) -> str:
        return self.changes[-1][0]


def area_days(
    graph: StreetGraph,
    maps: Iterable[tuple[str, shapely.Geometry | None, shapely.Geometry | None]],
    metric: Metric,
) -> list[Day]:
    """Days from published maps (day, the other side's area, the grey area; lon/lat): the street
    states and the threats of each."""
    lines = street_lines(graph)
    return [
        Day(
            day,
            street_states(lines, other, grey),
            Threats(metric(other) if other is not None else None, metric(grey) if grey is not None else None),
        )
        for day, other, grey in maps
    ]


def history(
    graph: StreetGraph,
    cost: Floats,
    days: Iterable[Day | tuple[str, npt.NDArray[np.int8]]],
    centre: int,
    gates: Sequence[tuple[str, int]],
    reaches: Sequence[Reach] = REACHES,
    rule: StrikeRule = STRIKES,
) -> dict[str, WayOut]:
    """Each gate's corridor day by day."""
    metric = Metric(float(graph.lon[centre]), float(graph.lat[centre]))
    out: dict[str, WayOut] = {name: WayOut(name, []) for name, _ in gates}
    for d in days:
        day = d if isinstance(d, Day) else Day(d[0], d[1])
        found = corridors(
            graph, cost, day.states, centre, gates, threats=day.threats, metric=metric, reaches=reaches, rule=rule
        )
        for corridor in found:
            out[corridor.gate].days.append((day.day, corridor))
    return out
