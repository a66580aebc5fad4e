"""Cities and movement: street networks with their ways out, the least-exposure route over a departure
window (with every fresh hazard model and the fused control map), and the status of each way out."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import h3
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape

from greyzone.application.control import control_grid, day_text, observations_or_refuse
from greyzone.application.hazard import HazardModel, hazard_state, stored_models
from greyzone.application.reports import Json
from greyzone.control.fusion import ControlFusion, ControlHistory
from greyzone.errors import InputError, NotAvailableError
from greyzone.hazard.forecast import HazardState
from greyzone.ingest.geojson import iter_features
from greyzone.ingest.osm import graph_summary, read_street_graph
from greyzone.model.enums import Kind
from greyzone.routing.exposure import (
    ASSUMPTIONS,
    PROFILES,
    Mode,
    Profile,
    edge_states,
    harm_weight,
    range_text,
    risk,
    risk_between,
    risk_text,
)
from greyzone.routing.graph import RoadClass, StreetGraph
from greyzone.store.base import City, Store

__all__ = [
    "KYIV",
    "MAX_GATE_SNAP_M",
    "MAX_SNAP_M",
    "Avoid",
    "CityGraph",
    "Floats",
    "Gate",
    "Mode",
    "RouteAnswer",
    "RouteRequest",
    "avoid_areas",
    "city_graph",
    "city_zone",
    "corridor_history",
    "corridor_layer",
    "import_city",
    "kyiv_time",
    "map_threats",
    "offline_profiles",
    "parse_avoid",
    "parse_reaches",
    "parse_zone",
    "plan_matrix",
    "plan_reach",
    "plan_route",
    "read_gates",
    "risk_text",
    "route_control",
    "route_line",
    "route_rates",
    "settlements_layer",
    "snap_point",
    "street_middles",
    "streets_layer",
    "way_out_row",
    "ways_out",
    "window_departures",
    "zone_label",
]

if TYPE_CHECKING:  # the searches compile with numba: imported when a route is asked for, not at start-up
    from greyzone.routing.corridors import Corridor, Metric, Nearest, Reach, Threats, WayOut
    from greyzone.routing.planner import Planner, RoutePlan

KYIV = ZoneInfo("Europe/Kyiv")  # the city's clock: what people read and type
Floats = npt.NDArray[np.float64]
Gate = tuple[str, float, float]  # name, lon, lat
MAX_SNAP_M = 1000.0  # a point farther from every street is outside the city
MAX_GATE_SNAP_M = 500.0


@dataclass(frozen=True)
class CityGraph:
    city: City
    graph: StreetGraph


def city_graph(store: Store, name: str) -> CityGraph:
    """The city of that name and its street graph; NotAvailableError naming the known ones."""
    city = store.read_city(name)
    if city is None:
        known = ", ".join(store.city_names()) or "none"
        raise NotAvailableError(f"no city {name!r} in the store (known: {known}; `greyzone city import` adds one)")
    return CityGraph(city, StreetGraph.from_bytes(city.graph))


def read_gates(path: Path) -> list[Gate]:
    """Named points (a Point GeoJSON with a ``name`` property per feature)."""
    out = []
    for n, feature in iter_features(path):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        props = (feature.get("properties") if isinstance(feature, dict) else None) or {}
        if not isinstance(geometry, dict) or geometry.get("type") != "Point" or not props.get("name"):
            raise InputError("gates", f"{path}:{n}: expected a Point feature with a name")
        x, y = geometry["coordinates"][:2]
        out.append((str(props["name"]), float(x), float(y)))
    return out


def import_city(
    store: Store, file: Path, name: str, gates: Path | None, timezone: str = "Europe/Kyiv", curfew: str | None = None
) -> Json:
    """Import a street network (replacing a city of that name), its gates and its clock (time zone and
    curfew window); what was imported."""
    zone = parse_zone(timezone)
    if curfew is not None:
        window_departures(date(2024, 1, 1), curfew, 60, zone)  # refused here, not at the first route
    graph = read_street_graph(file)
    points = read_gates(gates) if gates is not None else []
    snapped = [(n, *graph.snap(x, y)) for n, x, y in points]
    far = [f"{n} ({d:.0f} m)" for n, _, d in snapped if d > MAX_GATE_SNAP_M]
    if far:
        raise InputError("gates", f"gates more than {MAX_GATE_SNAP_M:.0f} m from any street: {', '.join(far)}")
    city = City(name, str(file), graph.to_bytes(), graph.n_nodes, graph.n_edges, tuple(points), 0.0, timezone, curfew)
    store.write_city(city)
    gate_rows = [{"name": n, "snapped_m": round(d, 1)} for n, _, d in snapped]
    return {"city": name, **graph_summary(graph), "gates": gate_rows, "timezone": str(zone), "curfew": curfew}


def snap_point(store: Store, city: str, lon: float, lat: float) -> Json:
    """Where a point meets the streets (what a trip starting there starts from: the nearest point of a
    street, how far along it), and the street junction nearest it; how far each is."""
    graph = city_graph(store, city).graph
    node, distance = graph.snap(lon, lat)
    on = graph.snap_onto(lon, lat)
    return {
        "node": node,
        "lon": float(graph.lon[node]),
        "lat": float(graph.lat[node]),
        "distance_m": round(distance, 1),
        "street": {
            "name": graph.names[graph.name_id[on.edge]],
            "lon": round(on.lon, 6),
            "lat": round(on.lat, 6),
            "distance_m": round(on.distance_m, 1),
            "along_m": round(on.fraction * float(graph.length_m[on.edge]), 1),
            "length_m": round(float(graph.length_m[on.edge]), 1),
            "refused_beyond_m": MAX_SNAP_M,
        },
    }


def streets_layer(graph: StreetGraph) -> Json:
    """The streets as GeoJSON (one feature per street and direction pair; coordinates to ~1 m)."""
    turns = graph.junction()  # a turn copy's streets are its junction's: drawn once, from the junction
    source, target = turns[graph.source()], turns[graph.target]
    reverse = np.isin(source * graph.n_nodes + target, target * graph.n_nodes + source)
    keep = ((source < target) | ~reverse) & ~graph.is_copy_edge()  # one direction of a two-way street
    features = []
    for e in np.flatnonzero(keep).tolist():
        line = np.round(graph.shape_lonlat[graph.shape_offset[e] : graph.shape_offset[e + 1]], 5).tolist()
        props = {
            "class": int(graph.road_class[e]),
            "name": graph.names[graph.name_id[e]],
            "oneway": not bool(reverse[e]),
        }
        features.append(
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": line}, "properties": props}
        )
    return {"type": "FeatureCollection", "features": features}


SETTLEMENT_RANK = {"M": 0, "T": 1, "X": 2, "C": 3}  # KATOTTG: city, urban-type settlement, settlement, village


def settlements_layer(gazetteer_dir: Path | None, bbox: tuple[float, float, float, float], most: int = 300) -> Json:
    """The gazetteer's settlements inside ``bbox`` as GeoJSON points (name, category), cities first:
    the map's place labels. NotAvailableError without a gazetteer."""
    from greyzone.ingest.gazetteer import Gazetteer

    if gazetteer_dir is None:
        raise NotAvailableError("no gazetteer: start the service with --gazetteer DIR for place labels")
    x0, y0, x1, y1 = bbox
    found = [
        p
        for p in Gazetteer.from_dir(gazetteer_dir).places()
        if p.category in SETTLEMENT_RANK and p.lon is not None and p.lat is not None
        if x0 <= p.lon <= x1 and y0 <= p.lat <= y1
    ]
    found.sort(key=lambda p: (SETTLEMENT_RANK[p.category], p.name))
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
            "properties": {"name": p.name, "category": p.category, "source": p.source},
        }
        for p in found[:most]
    ]
    return {"type": "FeatureCollection", "features": features}


def offline_profiles() -> Json:
    """What the web map's offline planner needs to cost a street as the server does (the same tables):
    speeds per road class and mode, the area threat's effect and each mode's vulnerability to it."""
    from greyzone.routing.exposure import EFFECT_KM2

    return {
        "speed_kph": {m.value: [PROFILES[m].speed_kph.get(c, 0.0) for c in RoadClass] for m in Mode},
        "effect_km2": EFFECT_KM2[Kind.SHELLING],
        "area_vulnerability": {m.value: PROFILES[m].vulnerability.get(Kind.SHELLING, 1.0) for m in Mode},
        "time_weight": 0.001,
        "grey_penalty": 10.0,
        "max_snap_m": MAX_SNAP_M,
        "counts": "the map's hazard forecast as an area threat (as shelling); the other side's ground closed, grey "
        "ground 10× dearer",
        "leaves_out": "FPV drones and drone drops hunting the roads, mine and UXO reports, every other hazard model",
    }


# ---------------------------------------------------------------------------------------------- the clock


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone (Europe/Kyiv), or InputError naming the fix."""
    from zoneinfo import ZoneInfoNotFoundError

    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError("timezone", f"unknown time zone {name!r}: give an IANA name such as Europe/Kyiv") from None


def city_zone(city: City) -> ZoneInfo:
    """The city's clock; InputError when it has none (a city imported before time zones were kept)."""
    if not city.timezone:
        raise InputError(
            "city",
            f"city {city.name!r} has no time zone set, so a clock time there cannot be read: re-import it with "
            "`greyzone city import … --timezone Europe/Kyiv` (or give the departure with its offset)",
        )
    return parse_zone(city.timezone)


def zone_label(zone: ZoneInfo) -> str:
    """What people read beside a clock time: "Kyiv" for Europe/Kyiv."""
    return str(zone).rsplit("/", 1)[-1].replace("_", " ")


def kyiv_time(day: date, clock: str, param: str = "depart", zone: ZoneInfo = KYIV) -> datetime:
    """HH:MM on ``day`` in the city's time (Kyiv by default), as UTC."""
    try:
        t = datetime.strptime(clock.strip(), "%H:%M").time()
    except ValueError:
        raise InputError(param, f"expected HH:MM (24-hour, {zone_label(zone)} time); got {clock!r}") from None
    return datetime.combine(day, t, zone).astimezone(UTC)


def window_departures(day: date, window: str, step_min: int, zone: ZoneInfo = KYIV) -> list[datetime]:
    """The departures (UTC) every ``step_min`` minutes across a local window HH:MM-HH:MM of ``day``; a
    window that ends before it starts runs across midnight into the next day."""
    parts = window.split("-")
    if len(parts) != 2:
        raise InputError("window", f"expected HH:MM-HH:MM; got {window!r}")
    start, end = (kyiv_time(day, p, "window", zone) for p in parts)
    if end == start:
        raise InputError("window", "the window must end after it starts (or before, to run across midnight)")
    if end < start:
        end = kyiv_time(day + timedelta(days=1), parts[1], "window", zone)
    out = []
    while start <= end:
        out.append(start)
        start += timedelta(minutes=step_min)
    return out


# ----------------------------------------------------------------------------------------------- routes


def street_middles(graph: StreetGraph) -> Floats:
    """The mean point of each street's shape (lon, lat)."""
    offsets = graph.shape_offset
    return np.array([graph.shape_lonlat[a:b].mean(axis=0) for a, b in itertools.pairwise(offsets)])


@dataclass
class RouteRates:
    """Hazard rates per street and hour for a route's hours, the usual level of each (the background,
    without the recent events' surge), and what each threat's rate stands on."""

    rates: dict[Kind, Floats] = field(default_factory=dict)
    usual: dict[Kind, Floats] = field(default_factory=dict)
    basis: dict[Kind, tuple[frozenset[Kind], float]] = field(default_factory=dict)  # the model's kinds, data start
    notes: list[Said] = field(default_factory=list)
    covered: set[Kind] = field(default_factory=set)


def route_rates(
    store: Store,
    models: Sequence[HazardModel],
    graph: StreetGraph,
    profile: Profile,
    hour0: datetime,
    hours: int,
    states: dict[tuple[str, float], HazardState] | None = None,
) -> RouteRates:
    """Hazard rates per street for ``hours`` hours from ``hour0`` (streets × hours), from each fresh model
    (conservatively as its most harmful kind for this mode); notes say what was left out. ``states`` keeps
    each model's state at ``hour0`` for the next trip planned at that hour (one question, several modes)."""
    out = RouteRates()
    if not models:
        text = "no fitted hazard model in the store: risk unknown (run `greyzone hazard fit`)"
        out.notes.append(Said("no_hazard_model", {}, text))
    middle = street_middles(graph)
    start = hour0.timestamp()
    for model in models:
        try:
            key = (model.name, hour0.timestamp())
            state = states[key] if states is not None and key in states else hazard_state(store, model, hour0)
            if states is not None:
                states[key] = state
        except InputError:
            text = f"{model.name} has no data before {hour0.isoformat()}: left out, risk unknown"
            out.notes.append(
                Said("model_no_data", {"model": model.name, "kinds": [k.value for k in model.kinds]}, text)
            )
            continue
        fresh, age_h = state.freshness(start)
        if not fresh:
            text = f"{model.name} is {age_h:.0f} h old: left out, risk unknown"
            out.notes.append(
                Said("model_stale", {"kinds": [k.value for k in model.kinds], "hours": round(age_h)}, text)
            )
            continue
        kind = max(model.kinds, key=lambda k: harm_weight(k, profile))
        if harm_weight(kind, profile) <= 0:  # mines and UXO: their reports close streets (mine_factors), no rate
            continue
        out.covered.update(model.kinds)
        cell, _ = state.grid.nearest(middle[:, 0], middle[:, 1])
        window = state.params.window
        bins = window.bin_of(start + 3600.0 * np.arange(hours, dtype=np.float64))  # the model's bin of each hour
        first = max(int(bins[0]), state.now_bin + 1)  # the present bin is forecast as the next one
        cells, n_bins = np.asarray(cell, dtype=np.int64), max(1, int(bins[-1]) - first + 1)
        column = np.clip(bins - first, 0, n_bins - 1)
        for target, usual in ((out.rates, False), (out.usual, True)):
            hourly = state.segment_rates(cells, first, n_bins, usual=usual)[:, column]
            target[kind] = target.get(kind, 0.0) + hourly
        out.basis[kind] = (frozenset(model.kinds), window.t0_s)
    return out


def route_control(
    store: Store, graph: StreetGraph, when: datetime, notes: list[Said]
) -> tuple[ControlHistory | None, ControlFusion | None, npt.NDArray[np.int8] | None]:
    """The control history up to ``when`` (the filter run once, with checkpoints: the map of any
    earlier day is cheap), the fused map at ``when`` and the control state per street from it, or
    None (with a note) when nothing is known."""
    try:
        observations = observations_or_refuse(store, when)
        history = ControlHistory(control_grid(observations, 8), observations)
    except NotAvailableError:
        notes.append(Said("no_control", {}, "no control observations stored: the route ignores who holds what"))
        return None, None, None
    fusion = history.at(when.timestamp())
    cell, _ = fusion.grid.nearest(graph.shape_lonlat[:, 0], graph.shape_lonlat[:, 1])
    return history, fusion, edge_states(graph, fusion.states(when.timestamp())[cell])


@dataclass(frozen=True, slots=True)
class Said:
    """A warning as people read it (``text``, English) and as a page translates it: a ``code`` and the
    figures it holds (``params``)."""

    code: str
    params: Json
    text: str

    def json(self) -> Json:
        return {"code": self.code, "params": self.params, "text": self.text}


@dataclass(frozen=True, slots=True)
class Mines:
    """The streets that mine and UXO reports close or make dearer at a moment."""

    factor: Floats | None  # per street: 1, dearer, or inf (closed); None: no report near any street
    age_days: Floats  # per street: the age of the newest report on it (nan: none)

    def closed(self) -> int:
        return 0 if self.factor is None else int(np.isinf(self.factor).sum())


@dataclass(frozen=True)
class StreetIndex:
    """The streets' shapes in metres (the city's UTM zone, ``corridors.Metric``) in an STRtree: which
    streets lie near a point or in an area."""

    metric: Metric
    tree: shapely.STRtree

    @staticmethod
    def of(graph: StreetGraph) -> StreetIndex:
        from greyzone.routing.corridors import Metric

        metric = Metric(float(np.median(graph.lon)), float(np.median(graph.lat)))
        xy = metric.points(graph.shape_lonlat)
        lines = shapely.linestrings(xy, indices=np.repeat(np.arange(graph.n_edges), np.diff(graph.shape_offset)))
        return StreetIndex(metric, shapely.STRtree(lines))

    def metres(self, lonlat: Floats) -> Floats:
        return self.metric.points(np.asarray(lonlat, dtype=np.float64))

    def shape(self, geometry: shapely.Geometry) -> shapely.Geometry:
        """A lon/lat geometry in the index's metres."""
        return self.metric(geometry)


@dataclass(frozen=True, slots=True)
class Avoid:
    """An area a trip keeps out of (``hard``) or pays ``penalty`` times more to cross: a polygon, or a
    point with a radius (lon/lat)."""

    geometry: shapely.Geometry
    radius_m: float = 0.0
    hard: bool = True
    penalty: float = 10.0


MAX_AVOID_AREAS = 20
MAX_AVOID_KM2 = 500.0


def parse_avoid(geometry: Json, radius_m: float = 200.0, hard: bool = True, penalty: float = 10.0) -> Avoid:
    """An area to avoid from a GeoJSON geometry (Polygon, MultiPolygon or Point with ``radius_m``);
    InputError saying what is wrong."""
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind not in ("Polygon", "MultiPolygon", "Point"):
        raise InputError("avoid", f"an area to avoid is a Polygon, a MultiPolygon or a Point; got {kind!r}")
    try:
        found = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise InputError("avoid", f"not a valid GeoJSON {kind}: {exc}") from None
    xy = shapely.get_coordinates(found)
    if found.is_empty or not np.isfinite(xy).all() or (np.abs(xy) > [180.0, 90.0]).any():
        raise InputError("avoid", "an area to avoid needs longitudes within ±180 and latitudes within ±90 (degrees)")
    if kind == "Point" and not 0 < radius_m <= 20_000:
        raise InputError("avoid", f"a point to avoid needs 0 < radius_m <= 20000; got {radius_m}")
    if not (penalty >= 1 and math.isfinite(penalty)):
        raise InputError("avoid", f"a penalty is a factor of at least 1; got {penalty}")
    if kind != "Point":
        found = shapely.make_valid(found)
        if found.area <= 0:
            raise InputError("avoid", "an area to avoid must enclose some ground")
    return Avoid(found, radius_m if kind == "Point" else 0.0, hard, penalty)


def avoid_areas(files: Sequence[Path], points: Sequence[str]) -> list[Avoid]:
    """The areas to avoid of GeoJSON files (properties radius_m, hard, penalty) and LON,LAT[,RADIUS_M]
    points (the CLI's --avoid and --avoid-point)."""
    out = []
    for path in files:
        for n, feature in iter_features(path):
            props = (feature.get("properties") if isinstance(feature, dict) else None) or {}
            geometry = feature.get("geometry") if isinstance(feature, dict) else None
            try:
                out.append(
                    parse_avoid(
                        geometry or {},
                        float(props.get("radius_m", 200.0)),
                        bool(props.get("hard", True)),
                        float(props.get("penalty", 10.0)),
                    )
                )
            except (InputError, ValueError, TypeError) as exc:
                raise InputError("avoid", f"{path}:{n}: {exc}") from None
    for text in points:
        try:
            values = [float(v) for v in text.split(",")]
        except ValueError:
            values = []
        if len(values) not in (2, 3):
            raise InputError("avoid-point", f"expected LON,LAT[,RADIUS_M]; got {text!r}")
        radius = values[2] if len(values) == 3 else 200.0
        out.append(parse_avoid({"type": "Point", "coordinates": values[:2]}, radius))
    return out


def avoid_factors(graph: StreetGraph, avoids: Sequence[Avoid]) -> tuple[Floats | None, list[Said]]:
    """Each street's cost factor from the areas to avoid (inf: a hard area it enters; the largest
    penalty of the soft ones), and what they did."""
    if not avoids:
        return None, []
    if len(avoids) > MAX_AVOID_AREAS:
        raise InputError("avoid", f"at most {MAX_AVOID_AREAS} areas to avoid; got {len(avoids)}")
    index = StreetIndex.of(graph)
    factor = np.ones(graph.n_edges)
    for a in avoids:
        area = index.shape(a.geometry).buffer(a.radius_m) if a.radius_m else index.shape(a.geometry)
        if not area.area / 1e6 <= MAX_AVOID_KM2:  # NaN too
            raise InputError("avoid", f"an area to avoid is over {MAX_AVOID_KM2:g} km²: draw a smaller one")
        hit = index.tree.query(area, predicate="intersects")
        factor[hit] = np.inf if a.hard else np.maximum(factor[hit], a.penalty)
    closed, dearer = int(np.isinf(factor).sum()), int(((factor > 1) & np.isfinite(factor)).sum())
    said = [
        Said(
            "avoided",
            {"closed": closed, "dearer": dearer, "areas": len(avoids)},
            f"areas to avoid: {closed} streets closed, {dearer} dearer",
        )
    ]
    return factor, said


def mine_factors(store: Store, graph: StreetGraph, when: datetime) -> Mines:
    """Each street's cost factor from the mine and UXO reports within MINE_NEAR_M of it (the newest
    counts; reports older than the factor's reach of 1 % are ignored): closed while recent, dearer after."""
    from greyzone.routing.exposure import MINE_CLOSED_DAYS, MINE_HALF_LIFE_DAYS, MINE_NEAR_M, mine_factor
    from greyzone.store.base import ReportQuery

    horizon = timedelta(days=MINE_CLOSED_DAYS + 10 * MINE_HALF_LIFE_DAYS)
    frame = store.read_frame(ReportQuery(since=when - horizon, until=when, kinds=frozenset({Kind.MINE_UXO})))
    age = np.full(graph.n_edges, np.nan)
    if len(frame) == 0:
        return Mines(None, age)
    index = StreetIndex.of(graph)
    reported = shapely.points(index.metres(np.column_stack([frame.lon, frame.lat])))
    hit_report, hit_edge = index.tree.query(reported, predicate="dwithin", distance=MINE_NEAR_M)
    report_age = (when.timestamp() - frame.observed_s) / 86_400.0
    if hit_edge.size:
        np.fmin.at(age, hit_edge, report_age[hit_report])
    return Mines(mine_factor(age) if np.isfinite(age).any() else None, age)


def mine_warnings(graph: StreetGraph, mines: Mines, edges: npt.NDArray[np.int64]) -> list[Said]:
    """What the mine and UXO reports did to a route: streets closed, dearer ones it still takes."""
    out = []
    if mines.closed():
        n = mines.closed()
        out.append(
            Said(
                "mines_closed",
                {"streets": n, "days": 14},
                f"{n} streets closed by mine or UXO reports of the last 14 days (never taken)",
            )
        )
    on_route = edges[np.isfinite(mines.age_days[edges])]
    if on_route.size:
        names = sorted({graph.names[graph.name_id[e]] or f"#{e}" for e in on_route.tolist()})[:5]
        lo, hi = (round(float(d)) for d in (mines.age_days[on_route].min(), mines.age_days[on_route].max()))
        out.append(
            Said(
                "mines_on_route",
                {"streets": len(on_route), "min_days": lo, "max_days": hi, "names": names},
                f"this route takes {len(on_route)} streets with older mine or UXO reports ({lo}–{hi} days old: "
                f"{', '.join(names)}): check they were cleared",
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class RouteRequest:
    city: str
    origin: tuple[float, float]  # lon, lat
    destination: tuple[float, float]
    mode: Mode
    starts: list[datetime]  # departures tried (UTC), the first being the earliest
    grey_penalty: float | None = 10.0  # None: grey ground is closed
    alternatives: bool = False
    models: list[HazardModel] | None = None  # default: the newest stored model per set of kinds
    avoid: tuple[Avoid, ...] = ()  # areas this trip keeps out of or pays more to cross


@dataclass
class RouteAnswer:
    """The route of each departure, the best one, its alternatives and what it was planned on."""

    request: RouteRequest
    graph: StreetGraph
    snapped_m: tuple[float, float]
    routes: list[RoutePlan]
    best: int
    noted: list[Said]  # notes: how the answer was reached, what it could not use
    others: list[RoutePlan] = field(default_factory=list)
    said: list[Said] = field(default_factory=list)  # warnings: what the risk leaves out, the front near the route
    between: tuple[float, float] | None = None  # the risk's 90 % range from the counts its rates stand on
    usual: float | None = None  # the same route at the same hour at the usual level (no recent surge)
    counts: dict[str, int] = field(default_factory=dict)  # incidents near the route behind each threat's rate
    modes: list[Json] = field(default_factory=list)  # the same trip in every mode
    grey: list[Json] = field(default_factory=list)  # the grey or contested stretches, with since when
    zone: ZoneInfo = KYIV  # the city's clock, for what people read

    @property
    def warnings(self) -> list[str]:
        return [w.text for w in self.said]

    @property
    def notes(self) -> list[str]:
        return [n.text for n in self.noted]

    def plainly(self) -> Json:
        """The risk said plainly, as the CLI and the API give it: 1 in N, its range, against the usual
        level and the other modes, and the grey stretches."""
        r = self.route.risk
        return {
            "risk_text": risk_text(r),
            "risk_range": list(self.between) if self.between else None,
            "range_text": range_text(self.between),
            "range_basis": {
                "incidents_within_1km": self.counts,
                "method": "90 % Poisson range of the incident counts near the route that the rates stand on",
            }
            if self.between
            else None,
            "usual_risk": self.usual,
            "vs_usual": round(r / self.usual, 2) if r and self.usual else None,
            "modes": self.modes,
            "grey": self.grey,
            "warning_codes": [w.json() for w in self.said],
            "note_codes": [n.json() for n in self.noted],
        }

    @property
    def route(self) -> RoutePlan:
        return self.routes[self.best]

    @property
    def depart(self) -> datetime:
        return self.request.starts[self.best]

    def line(self) -> list[list[float]]:
        """The best route's shape: the points of its streets in order (lon, lat)."""
        return route_line(self.graph, self.route.edges)

    def riskiest(self) -> list[Json]:
        """The streets that carry most of the route's risk: share, threat and the time one enters each."""
        return [
            {
                "street": s.name or f"#{s.edge}",
                "share": round(s.share, 3),
                "threat": s.threat.value if s.threat else None,
                "entered": (self.depart + timedelta(minutes=s.minute)).astimezone(self.zone).isoformat(),
            }
            for s in self.route.riskiest
        ]


def route_line(graph: StreetGraph, edges: npt.NDArray[np.int64]) -> list[list[float]]:
    offsets = graph.shape_offset
    return [p for e in edges.tolist() for p in graph.shape_lonlat[offsets[e] : offsets[e + 1]].tolist()]


@dataclass
class Trip:
    """What a route or a reach is planned on: the city's graph cut at the trip's points, the hazard
    rates, the control map, mines and areas to avoid, and the planner built on them."""

    graph: StreetGraph
    nodes: list[int]
    snapped_m: list[float]
    found: RouteRates
    notes: list[Said]
    history: ControlHistory | None
    fusion: ControlFusion | None
    states: npt.NDArray[np.int8] | None
    mines: Mines
    factor: Floats | None
    hour0: datetime
    offsets: Floats
    planner: Planner
    zone: ZoneInfo


def prepare_trip(
    store: Store,
    city: str,
    points: Sequence[tuple[float, float]],
    mode: Mode,
    starts: Sequence[datetime],
    grey_penalty: float | None = 10.0,
    avoid: Sequence[Avoid] = (),
    models: Sequence[HazardModel] | None = None,
    hazard_states: dict[tuple[str, float], HazardState] | None = None,
) -> Trip:
    """The planner for a trip from ``points[0]`` (to the others), with every fresh hazard model and the
    fused control map (6 hours of forecast past the last departure: long walks cross hours).
    ``hazard_states``: see :func:`route_rates`."""
    from greyzone.routing.planner import Planner

    found_city = city_graph(store, city)
    profile = PROFILES[mode]
    # the trip's points onto the nearest street this mode can use (the street cut there), not the
    # nearest junction: a car's trip never starts on a footway next to its road
    usable = [c for c in RoadClass if profile.speed_kph.get(c, 0.0) > 0]
    graph, nodes, ends = found_city.graph.with_stops(list(points), usable)
    for i, on in enumerate(ends):
        param = ("from" if i == 0 else "to") if len(ends) <= 2 else f"points[{i}]"
        if not on.distance_m <= MAX_SNAP_M:
            raise InputError(
                param,
                f"the point is {on.distance_m / 1000:.1f} km from the nearest street of {city!r}: "
                "pick a point inside the city",
            )
    hour0 = starts[0].replace(minute=0, second=0, microsecond=0)
    hours = math.ceil((starts[-1] - hour0).total_seconds() / 3600) + 6
    found = route_rates(
        store, stored_models(store) if models is None else models, graph, profile, hour0, hours, hazard_states
    )
    notes = found.notes
    history, fusion, states = route_control(store, graph, starts[0], notes)
    mines = mine_factors(store, graph, starts[0])
    found.covered.add(Kind.MINE_UXO)  # counted by their reports, not by a model
    avoided, avoid_notes = avoid_factors(graph, avoid)
    notes += avoid_notes
    factor = mines.factor if avoided is None else avoided if mines.factor is None else mines.factor * avoided
    offsets = np.array([(t - hour0).total_seconds() for t in starts])
    planner = Planner(graph, profile, found.rates or None, states, grey_penalty, factor=factor)
    if found_city.city.timezone:
        zone = parse_zone(found_city.city.timezone)
    else:
        zone = ZoneInfo("UTC")
        text = f"city {city!r} has no time zone set: clock times are shown in UTC"
        notes.append(Said("no_timezone", {"city": city}, text))
    snapped = [on.distance_m for on in ends]
    return Trip(
        graph, nodes, snapped, found, notes, history, fusion, states, mines, factor, hour0, offsets, planner, zone
    )


def plan_route(store: Store, req: RouteRequest) -> RouteAnswer:
    """The least-exposure route for each departure with the stored hazard and control, the best of
    them, and its alternatives."""
    from greyzone.routing.planner import alternatives, best_departure

    trip = prepare_trip(
        store, req.city, [req.origin, req.destination], req.mode, req.starts, req.grey_penalty, req.avoid, req.models
    )
    graph, (origin, destination), (d0, d1) = trip.graph, trip.nodes, trip.snapped_m
    found, notes, planner, offsets, factor = trip.found, trip.notes, trip.planner, trip.offsets, trip.factor
    rates, covered, states, fusion, history = found.rates or None, found.covered, trip.states, trip.fusion, trip.history
    profile, hour0, mines = PROFILES[req.mode], trip.hour0, trip.mines
    best, routes = best_departure(planner, origin, destination, offsets)
    notes += [Said("approximate", {}, routes[best].note)] if routes[best].note else []
    others: list[RoutePlan] = []
    if req.alternatives and routes[best].reachable and rates:
        others = alternatives(
            graph,
            profile,
            origin,
            destination,
            rates,
            states,
            req.grey_penalty,
            depart_s=float(offsets[best]),
            factor=factor,
        )
    warnings = unmodelled_threats(store, profile, covered, hour0)
    if routes[best].reachable:
        warnings += route_warnings(store, graph, routes[best].edges, req.starts[best], fusion)
    warnings += mine_warnings(graph, mines, routes[best].edges)
    answer = RouteAnswer(req, graph, (d0, d1), routes, best, notes, others, warnings)
    answer.zone = trip.zone
    if routes[best].reachable and rates:
        edges, depart_s = routes[best].edges, float(offsets[best])
        exposure = planner.by_threat(edges, depart_s)
        counts = {
            k: _incidents_near(store, graph, edges, kinds, t0, req.starts[best])
            for k, (kinds, t0) in found.basis.items()
        }
        answer.between = risk_between(exposure, counts)
        answer.usual = risk(sum(planner.by_threat(edges, depart_s, found.usual).values()))
        answer.counts = {k.value: n for k, n in counts.items()}
        answer.modes = _other_modes(planner, req, origin, destination, rates, states, factor, depart_s)
    if routes[best].reachable and history is not None and fusion is not None:
        answer.grey = grey_stretches(history, graph, routes[best].edges, req.starts[best], fusion)
    return answer


MAX_REACH_STREETS = 20_000  # a reach's GeoJSON holds at most this many streets (the nearest in time first)


def plan_reach(
    store: Store,
    city: str,
    origin: tuple[float, float],
    mode: Mode,
    depart: datetime,
    minutes: float,
    max_risk: float,
    avoid: Sequence[Avoid] = (),
) -> Json:
    """The streets reachable from ``origin`` within ``minutes`` below ``max_risk``, leaving at ``depart``
    (``routing.reach``): GeoJSON lines with the minutes and the risk at each street's end, and notes."""
    if not 0 < minutes <= 240:
        raise InputError("minutes", f"expected 0 < minutes <= 240; got {minutes}")
    if not 0 < max_risk <= 1:
        raise InputError("max_risk", f"expected a probability 0 < max_risk <= 1; got {max_risk}")
    trip = prepare_trip(store, city, [origin], mode, [depart], avoid=avoid)
    graph, planner = trip.graph, trip.planner
    found = planner.reach(trip.nodes[0], float(trip.offsets[0]))
    notes = [n.json() for n in trip.notes]
    known = planner.known
    if not known:
        notes.append(
            {"code": "risk_unknown", "params": {}, "text": "no fresh hazard model: reach by time only, risk unknown"}
        )
    ok = found.reached(60.0 * minutes, max_risk if known else 1.0)
    source = graph.source()
    streets = np.flatnonzero(ok[source] & ok[graph.target] & (found.pred[graph.target] == np.arange(graph.n_edges)))
    streets = streets[np.argsort(found.seconds[graph.target[streets]], kind="stable")][:MAX_REACH_STREETS]
    features = []
    for e in streets.tolist():
        end = int(graph.target[e])
        line = np.round(graph.shape_lonlat[graph.shape_offset[e] : graph.shape_offset[e + 1]], 6).tolist()
        props: Json = {
            "minutes": round(float(found.seconds[end]) / 60.0, 1),
            "risk": float(-math.expm1(-found.exposure[end])) if known else None,
            "name": graph.names[graph.name_id[e]],
        }
        features.append(
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": line}, "properties": props}
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "reached_junctions": int(np.unique(graph.junction()[ok]).size),  # a turn copy is its junction
        "minutes": minutes,
        "max_risk": max_risk if known else None,
        "depart": depart.astimezone(trip.zone).isoformat(),
        "mode": mode.value,
        "snapped_m": round(trip.snapped_m[0], 1),
        "notes": notes,
        "assumptions": ASSUMPTIONS
        + " Reach: each junction by its least-cost way (the planner's cost), within the time and below the risk.",
    }


MAX_MATRIX_CELLS = 2_500  # 50 × 50
MAX_EXACT_CELLS = 400


def plan_matrix(
    store: Store,
    city: str,
    origins: Sequence[tuple[float, float]],
    destinations: Sequence[tuple[float, float]],
    mode: Mode,
    depart: datetime,
    exact: bool = False,
    avoid: Sequence[Avoid] = (),
) -> Json:
    """Minutes and risk from every origin to every destination (crews × pick-ups), leaving at ``depart``:
    each pair's least-cost way (``Planner.matrix``). The points are the caller's, used for this answer
    only: nothing of them is stored or logged."""
    if not origins or not destinations:
        raise InputError("origins", "give at least one origin and one destination")
    cells = len(origins) * len(destinations)
    if cells > MAX_MATRIX_CELLS:
        raise InputError("origins", f"at most {MAX_MATRIX_CELLS} origin–destination pairs; got {cells}")
    if exact and cells > MAX_EXACT_CELLS:
        raise InputError("exact", f"the exact matrix takes at most {MAX_EXACT_CELLS} pairs; got {cells}")
    trip = prepare_trip(store, city, [*origins, *destinations], mode, [depart], avoid=avoid)
    nodes = trip.nodes
    seconds, exposure = trip.planner.matrix(nodes[: len(origins)], nodes[len(origins) :], float(trip.offsets[0]), exact)
    known = trip.planner.known
    risk_of = -np.expm1(-exposure)
    minutes = [[round(float(x) / 60.0, 1) if math.isfinite(x) else None for x in row] for row in seconds]
    risks = [
        [float(r) if known and math.isfinite(s) else None for r, s in zip(rr, ss, strict=True)]
        for rr, ss in zip(risk_of, seconds, strict=True)
    ]
    notes = [n.json() for n in trip.notes]
    if not known:
        notes.append({"code": "risk_unknown", "params": {}, "text": "no fresh hazard model: risk unknown"})
    return {
        "mode": mode.value,
        "depart": depart.astimezone(trip.zone).isoformat(),
        "exact": exact,
        "minutes": minutes,
        "risk": risks,
        "snapped_m": [round(d, 1) for d in trip.snapped_m],
        "notes": notes,
        "assumptions": ASSUMPTIONS
        + (
            " Each pair as the route planner plans it."
            if exact
            else " Each pair by its least-cost way from one search"
            " per origin (each street charged the hour it is reached)."
        ),
    }


NEAR_ROUTE_M = 1000.0  # the incidents a route's local hazard rates stand on: those this close to it


def _incidents_near(
    store: Store, graph: StreetGraph, edges: npt.NDArray[np.int64], kinds: frozenset[Kind], t0_s: float, until: datetime
) -> int:
    """Incidents of ``kinds`` within NEAR_ROUTE_M of the route, from the model's data start to ``until``."""
    from greyzone.routing import corridors
    from greyzone.store.base import ReportQuery

    line = corridors.route_line(graph, edges)
    if line is None:
        return 0
    x0, y0, x1, y1 = line.bounds
    pad = 0.02  # ≈ 1.5–2 km: the box the distance is then checked in
    since = datetime.fromtimestamp(t0_s, UTC)
    frame = store.read_frame(
        ReportQuery(since=since, until=until, kinds=kinds, bbox=(x0 - pad, y0 - pad, x1 + pad, y1 + pad))
    )
    if len(frame) == 0:
        return 0
    metric = corridors.Metric(float(graph.lon[graph.source()[edges[0]]]), float(graph.lat[graph.source()[edges[0]]]))
    near = shapely.dwithin(
        metric(line), shapely.points(metric.points(np.column_stack([frame.lon, frame.lat]))), NEAR_ROUTE_M
    )
    return len(np.unique(frame.incident[near]))


def _other_modes(
    planned: Planner,
    req: RouteRequest,
    origin: int,
    destination: int,
    rates: dict[Kind, Floats],
    states: npt.NDArray[np.int8] | None,
    factor: Floats | None,
    depart_s: float,
) -> list[Json]:
    """The same trip at the same departure in every mode (``planned``: the request's own mode's
    planner): its own route's risk and minutes."""
    from greyzone.routing.planner import Planner

    rows: list[Json] = []
    for mode in Mode:
        planner = (
            planned
            if mode is req.mode
            else Planner(planned.graph, PROFILES[mode], rates, states, req.grey_penalty, factor=factor)
        )
        plan = planner.route(origin, destination, depart_s, top=0)
        rows.append(
            {
                "mode": mode.value,
                "reachable": plan.reachable,
                "risk": plan.risk,
                "risk_text": risk_text(plan.risk) if plan.reachable else plan.reason,
                "minutes": round(plan.seconds / 60, 1) if plan.reachable else None,
            }
        )
    return rows


GREY_LOOKBACK_DAYS = 28


def grey_stretches(
    control: ControlHistory, graph: StreetGraph, edges: npt.NDArray[np.int64], when: datetime, fusion: ControlFusion
) -> list[Json]:
    """Each grey or contested stretch of a route (consecutive such streets): where it starts (km),
    how long it is, its worst state and since when its streets have been grey or worse (day by day
    over GREY_LOOKBACK_DAYS days; ``since_is_lower_bound`` when longer)."""
    from greyzone.routing.exposure import CONTESTED, HELD, UNCONFIRMED

    cell_of_point, _ = fusion.grid.nearest(graph.shape_lonlat[:, 0], graph.shape_lonlat[:, 1])
    now = edge_states(graph, fusion.states(when.timestamp())[cell_of_point])[edges]
    grey = (now == CONTESTED) | (now == UNCONFIRMED)
    if not grey.any():
        return []
    starts_km = np.concatenate(([0.0], np.cumsum(graph.length_m[edges])[:-1])) / 1000.0
    runs: list[list[int]] = []
    for i in np.flatnonzero(grey).tolist():
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    first_grey = {tuple(r): 0 for r in runs}  # days back the stretch has been grey or worse without a break
    open_runs = set(first_grey)
    for back in range(1, GREY_LOOKBACK_DAYS + 1):
        t = when.timestamp() - back * 86_400
        states = edge_states(graph, control.at(t).states(t)[cell_of_point])[edges]
        for key in list(open_runs):
            if (states[list(key)] == HELD).all():
                open_runs.discard(key)
            else:
                first_grey[key] = back
        if not open_runs:
            break
    rows: list[Json] = []
    for stretch in runs:
        back = first_grey[tuple(stretch)]
        run = np.array(stretch)
        names = [graph.names[graph.name_id[e]] for e in edges[run].tolist()]
        rows.append(
            {
                "street": next((n for n in names if n), f"#{int(edges[run[0]])}"),
                "from_km": round(float(starts_km[run[0]]), 2),
                "km": round(float(graph.length_m[edges[run]].sum()) / 1000.0, 2),
                "state": "contested" if (now[run] == CONTESTED).any() else "unconfirmed",
                "since": day_text(when.timestamp() - back * 86_400),
                "since_is_lower_bound": tuple(stretch) in open_runs,
            }
        )
    return rows


THREAT_NAMES = {
    Kind.SHELLING: "shelling",
    Kind.GLIDE_BOMB: "glide bombs",
    Kind.MISSILE: "missiles",
    Kind.AIR_STRIKE: "air strikes",
    Kind.FPV_STRIKE: "FPV drones",
    Kind.DRONE_DROP: "drone drops",
    Kind.MINE_UXO: "mines and UXO",
    Kind.CLASH: "clashes",
}  # HARM_KINDS, as a route's warnings name them
RECENT_DAYS = 28  # a threat reported within this many days is one a route must account for


def unmodelled_threats(store: Store, profile: Profile, covered: set[Kind], when: datetime) -> list[Said]:
    """A warning for each threat this mode is vulnerable to that was reported in the last
    RECENT_DAYS days but has no fresh hazard model: the route's risk leaves it out."""
    from greyzone.store.base import ReportQuery

    missing = frozenset(THREAT_NAMES) - covered
    if not missing:
        return []
    frame = store.read_frame(ReportQuery(since=when - timedelta(days=RECENT_DAYS), until=when, kinds=missing))
    out = []
    for kind, name in THREAT_NAMES.items():
        if kind in covered or profile.vulnerability.get(kind, 1.0) <= 0:
            continue
        pick = np.array([k == kind.value for k in frame.kind], dtype=bool)
        incidents = len(np.unique(frame.incident[pick])) if pick.any() else 0
        if incidents:
            text = (
                f"{name}: no model — this risk leaves them out ({incidents} incidents in the last {RECENT_DAYS} days;"
                f" `greyzone hazard fit --each-kind` fits one)"
            )
            out.append(Said("no_model", {"threat": kind.value, "incidents": incidents, "days": RECENT_DAYS}, text))
    return out


def route_warnings(
    store: Store, graph: StreetGraph, edges: npt.NDArray[np.int64], when: datetime, fusion: ControlFusion | None
) -> list[Said]:
    """The same rules as the ways out, for one route at its departure (on the fused map the route was
    planned on): the other side's or grey ground within a warning threat's reach of it, strikes on
    it, grey ground it crosses."""
    from greyzone.routing import corridors
    from greyzone.routing.exposure import CONTESTED, UNCONFIRMED

    line = corridors.route_line(graph, edges)
    if line is None:
        return []
    if fusion is None:
        text = "who holds what is unknown (no control observations): no warning can be given about the front"
        return [Said("front_unknown", {}, text)]
    states = fusion.states(when.timestamp())
    metric = corridors.Metric(float(graph.lon[graph.source()[edges[0]]]), float(graph.lat[graph.source()[edges[0]]]))
    rule = corridors.STRIKES
    strikes = _road_strikes(store, when - timedelta(hours=rule.hours), when + timedelta(seconds=1))
    threats = map_threats(fusion, states, strikes.before(when.timestamp(), rule.hours), metric)
    other, grey, n_strikes, within, _ = corridors.assess(metric(line), threats)
    reach = {r.threat: r for r in corridors.REACHES}
    out = []
    for ground, label, near in (("other_side", "the other side's ground", other), ("grey", "grey ground", grey)):
        warned = [t for t in within if near is not None and near.km <= reach[t].km and reach[t].warns]
        if near is not None and warned:
            names = ", ".join(f"{t} ({reach[t].km:g} km)" for t in warned)
            params: Json = {
                "ground": ground,
                "km": round(near.km, 1),
                "at_km": round(near.at_km, 1),
                "reaches": [{"threat": t, "km": reach[t].km} for t in warned],
            }
            text = f"this route passes {near.km:.1f} km from {label} at km {near.at_km:.1f}: within reach of {names}"
            out.append(Said("near_ground", params, text))
    if n_strikes:
        text = (
            f"{n_strikes} FPV or drone strikes within {rule.within_m:.0f} m of this route in the last {rule.hours:g} h"
        )
        out.append(Said("road_strikes", {"strikes": n_strikes, "within_m": rule.within_m, "hours": rule.hours}, text))
    cell, _ = fusion.grid.nearest(graph.shape_lonlat[:, 0], graph.shape_lonlat[:, 1])
    street = edge_states(graph, states[cell])[edges]
    grey_m = float(graph.length_m[edges][(street == CONTESTED) | (street == UNCONFIRMED)].sum())
    if grey_m > 0:
        km = round(grey_m / 1000, 1)
        out.append(Said("crosses_grey", {"km": km}, f"this route crosses {km:.1f} km of grey or unconfirmed ground"))
    return out


# -------------------------------------------------------------------------------------------- ways out


ROAD_HUNTERS = frozenset({Kind.FPV_STRIKE, Kind.DRONE_DROP})  # the kinds that strike what moves on a road


def parse_reaches(texts: Sequence[str]) -> list[Reach]:
    """The stated reaches with ``THREAT=KM`` overrides (a new threat warns)."""
    from greyzone.routing.corridors import REACHES, Reach

    reaches = {r.threat.lower(): r for r in REACHES}
    for text in texts:
        name, _, km = text.partition("=")
        try:
            value = float(km)
        except ValueError:
            value = math.nan
        if not name.strip() or not 0 < value <= 200:
            known = ", ".join(r.threat for r in REACHES)
            raise InputError("reach", f"{text!r}: expected THREAT=KM with 0 < KM <= 200 (known threats: {known})")
        old = reaches.get(name.strip().lower())
        reaches[name.strip().lower()] = Reach(
            old.threat if old else name.strip(), value, old.warns if old else True, "given on the command line"
        )
    return list(reaches.values())


def _cells_shape(grid_cells: npt.NDArray[np.int64]) -> shapely.Geometry | None:
    """The dissolved area of some H3 cells (lon/lat), or None for none."""
    if grid_cells.size == 0:
        return None
    geometry: shapely.Geometry = shape(h3.cells_to_geo([h3.int_to_str(int(c)) for c in grid_cells]))
    return geometry


def map_threats(fusion: ControlFusion, states: npt.NDArray[np.int8], strikes: Floats, metric: Metric) -> Threats:
    """A day's threats from the fused map: the other side's ground and the grey ground that more
    than a lone report stands for (unconfirmed for want of any report is not grey ground; see
    ControlFusion.substantiated) and the road-hunting strikes (lon/lat points), in ``metric``'s metres."""
    from greyzone.routing.corridors import Threats

    cells = fusion.grid.cells
    other_cells, grey_cells = fusion.substantiated(states)
    other = _cells_shape(cells[other_cells])
    grey = _cells_shape(cells[grey_cells])
    return Threats(
        metric(other) if other is not None else None,
        metric(grey) if grey is not None else None,
        metric.points(strikes) if len(strikes) else np.zeros((0, 2)),
    )


@dataclass(frozen=True, slots=True)
class _Strikes:
    """The road-hunting incidents of a period: one point per incident, with its time."""

    t_s: Floats
    lonlat: Floats

    def before(self, t_s: float, hours: float) -> Floats:
        pick = (self.t_s <= t_s) & (self.t_s > t_s - hours * 3600)
        return np.asarray(self.lonlat[pick])


def _road_strikes(store: Store, since: datetime, until: datetime) -> _Strikes:
    from greyzone.store.base import ReportQuery

    frame = store.read_frame(ReportQuery(since=since, until=until, kinds=ROAD_HUNTERS))
    _, first = np.unique(frame.incident, return_index=True)  # an incident counts once, however many reports
    return _Strikes(frame.observed_s[first], np.column_stack([frame.lon[first], frame.lat[first]]))


def ways_out(
    store: Store,
    city: str,
    when: datetime,
    days: int,
    res: int,
    centre: tuple[float, float] | None = None,
    reaches: Sequence[Reach] | None = None,
) -> tuple[CityGraph, dict[str, WayOut]]:
    """Each way out of ``city`` day by day over the ``days`` days up to ``when``: status, the other
    side's and grey ground nearest its route, strikes on it."""
    from greyzone.routing.corridors import REACHES, STRIKES, Day, Metric, history

    found = city_graph(store, city)
    graph = found.graph
    if not found.city.gates:
        raise NotAvailableError(f"city {city!r} has no gates: import it with --gates")
    observations = observations_or_refuse(store, when)
    grid = control_grid(observations, res)
    control = ControlHistory(grid, observations)
    cell_of_point, _ = grid.nearest(graph.shape_lonlat[:, 0], graph.shape_lonlat[:, 1])
    x, y = centre or (float(np.median(graph.lon)), float(np.median(graph.lat)))
    start = graph.snap(x, y)[0]
    gates = [(name, graph.snap(lon, lat)[0]) for name, lon, lat in found.city.gates]
    metric = Metric(float(graph.lon[start]), float(graph.lat[start]))
    first = when - timedelta(days=days, hours=STRIKES.hours)
    strikes = _road_strikes(store, first, when + timedelta(seconds=1))
    daily = []
    for back in range(days, -1, -1):
        t = when.timestamp() - back * 86_400
        fusion = control.at(t)
        states = fusion.states(t)
        threats = map_threats(fusion, states, strikes.before(t, STRIKES.hours), metric)
        daily.append(Day(day_text(t), edge_states(graph, states[cell_of_point]), threats))
    return found, history(graph, graph.length_m, daily, start, gates, reaches=reaches or REACHES)


def _nearest_json(n: Nearest | None) -> Json | None:
    return None if n is None else {"km": round(n.km, 2), "at_km": round(n.at_km, 2)}


def way_out_row(way: WayOut, reaches: Sequence[Reach] | None = None, daily: bool = False) -> Json:
    """A way out as the CLI and the API give it: status, since when, why, the nearest threats."""
    from greyzone.routing.corridors import REACHES, Status

    _, now = way.days[-1]
    since = way.since
    row: Json = {
        "gate": way.gate,
        "status": now.status.value,
        "since": since,
        "since_is_lower_bound": len(way.changes) == 1,
        "reason": now.reason(since, reaches or REACHES),
        "other_side": _nearest_json(now.other),
        "grey": _nearest_json(now.grey),
        "strikes": now.strikes,
        "within_reach_of": list(now.within),
        "first_threatened": way.first(Status.THREATENED),
        "first_cut": way.first(Status.CUT),
    }
    if daily:
        row["days"] = [{"day": day, "status": c.status.value, **_distances(c)} for day, c in way.days]
    return row


def _distances(c: Corridor) -> Json:
    """How far the other side's and the grey ground are from a corridor's route (km), strikes on it."""
    return {
        "other_side_km": None if c.other is None else round(c.other.km, 2),
        "grey_km": None if c.grey is None else round(c.grey.km, 2),
        "strikes": c.strikes,
    }


def corridor_layer(store: Store, city: str, when: datetime, res: int, days: int = 7) -> Json:
    """Each way out at ``when`` as GeoJSON: the gate's point and the route it would take, with status,
    since when (over ``days`` days), the reason and the nearest threats' distances."""
    found, ways = ways_out(store, city, when, days, res)
    graph = found.graph
    features: list[Json] = []
    for gate, x, y in found.city.gates:
        way = ways[gate]
        c = way.days[-1][1]
        row = way_out_row(way)
        props: Json = {**{k: row[k] for k in ("gate", "status", "since", "reason")}, **_distances(c)}
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]}, "properties": props})
        if c.edges.size:
            line = {"type": "LineString", "coordinates": route_line(graph, c.edges)}
            features.append({"type": "Feature", "geometry": line, "properties": dict(props)})
    return {"type": "FeatureCollection", "features": features, "at": when.isoformat()}


def corridor_history(
    store: Store,
    city: str,
    when: datetime,
    days: int,
    res: int,
    centre: tuple[float, float] | None,
    reaches: Sequence[Reach] | None = None,
    daily: bool = False,
) -> list[Json]:
    """For each way out: its status at ``when``, since when (day by day over the last ``days`` days),
    why, and the nearest threats (with each day's when ``daily``)."""
    try:
        _, ways = ways_out(store, city, when, days, res, centre, reaches)
    except NotAvailableError as e:
        if "gates" in str(e):
            raise InputError("city", str(e)) from e
        raise
    return [way_out_row(w, reaches, daily) for w in ways.values()]
