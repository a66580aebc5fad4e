"""Districts, service points, the status board, the residents' view and residents' needs.

Who sees what: the board (every utility per district and every service point, published or not) is
for analysts and up; the residents' view (:func:`residents_view`) shows only *published* service
points at their *published* place, shelters only when published as public shelters, and never a
crowd, a queue or anything of a request or a person.
"""

from __future__ import annotations

import csv
import json
import math
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import h3
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape

from greyzone.application.stores import AppStore
from greyzone.coordination.board import CONFLICTING, UNKNOWN, Current, StatusColumns, current_status, status_history
from greyzone.errors import InputError, NotAvailableError
from greyzone.ingest.records import Reject
from greyzone.model.cells import parents_of
from greyzone.model.coordination import District, Need, NeedCategory, ServicePoint
from greyzone.model.enums import InfraStatus, Service, ServiceStatus, Utility
from greyzone.settings import Settings
from greyzone.store.base import CoordinationStore, Store, User

Json = dict[str, object]
Floats = npt.NDArray[np.float64]
UTILITY_STATES = [s.value for s in InfraStatus]  # best to worst
SERVICE_STATES = [s.value for s in ServiceStatus]
ITEMS = [u.value for u in Utility] + [s.value for s in Service]
MATCH_M = 200.0  # a service status report names the point of its service this near (when it names none)
HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


def _zone(store: Store, city: str) -> ZoneInfo:
    found = store.read_city(city)
    if found is None:
        known = ", ".join(store.city_names()) or "none"
        raise NotAvailableError(f"no city {city!r} in the store (known: {known}; `greyzone city import` adds one)")
    return ZoneInfo(found.timezone or "Europe/Kyiv")


def local_text(t_s: float, zone: ZoneInfo) -> str | None:
    """A time as people there read it: ISO 8601 with its offset, in the city's zone."""
    return None if not math.isfinite(t_s) else datetime.fromtimestamp(t_s, zone).isoformat(timespec="minutes")


# ----------------------------------------------------------------------------------------------- districts


@dataclass(frozen=True)
class Districts:
    """A city's named districts; a point in none of them falls in its H3 res-7 cell ("h3:…")."""

    names: list[str]
    shapes: list[shapely.Geometry]

    def of(self, lon: Floats, lat: Floats) -> list[str]:
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        out = np.full(len(lon), "", dtype=object)
        for name, geometry in zip(self.names, self.shapes, strict=True):
            inside = shapely.intersects_xy(geometry, lon, lat) & (out == "")  # a boundary belongs to the first
            out[inside] = name
        rest = np.flatnonzero(out == "")
        if len(rest):
            out[rest] = [f"h3:{h3.int_to_str(int(c))}" for c in _cells7(lon[rest], lat[rest])]
        return [str(x) for x in out]


def _cells7(lon: Floats, lat: Floats) -> npt.NDArray[np.uint64]:
    to_cell = h3.api.basic_int.latlng_to_cell
    cells = np.fromiter((to_cell(b, a, 9) for a, b in zip(lon.tolist(), lat.tolist(), strict=True)), dtype=np.uint64)
    return parents_of(cells, 7)


def districts_of(store: CoordinationStore, city: str) -> Districts:
    found = store.read_districts(city)
    return Districts([d.name for d in found], [shapely.from_geojson(d.geometry) for d in found])


def districts_geojson(store: CoordinationStore, city: str) -> Json:
    features = [
        {"type": "Feature", "geometry": json.loads(d.geometry), "properties": {"name": d.name}}
        for d in store.read_districts(city)
    ]
    return {"type": "FeatureCollection", "features": features}


def import_districts(store: CoordinationStore, city: str, path: Path) -> tuple[int, list[Reject]]:
    """A city's districts from GeoJSON (polygons with a ``name``), replacing the old ones; the good ones
    land together, every bad feature is a reject with its reason."""
    try:
        features = json.loads(path.read_text(encoding="utf-8")).get("features", [])
    except (OSError, ValueError, AttributeError) as exc:
        raise InputError("file", f"{path}: not a GeoJSON FeatureCollection ({exc})") from None
    good, rejects = [], []
    for row, f in enumerate(features, start=1):
        name = str((f.get("properties") or {}).get("name") or "").strip()
        try:
            geometry = shape(f.get("geometry"))
        except (AttributeError, TypeError, ValueError, shapely.errors.GEOSException) as exc:
            rejects.append(Reject(str(path), row, "geometry", f"not a geometry: {exc}", ""))
            continue
        if not name:
            rejects.append(Reject(str(path), row, "name", "a district needs a name", ""))
        elif geometry.geom_type not in ("Polygon", "MultiPolygon") or not geometry.is_valid:
            rejects.append(
                Reject(str(path), row, "geometry", f"expected a valid polygon; got {geometry.geom_type}", "")
            )
        else:
            good.append(District(city, name, shapely.to_geojson(geometry)))
    store.write_districts(city, good)
    return len(good), rejects


# ----------------------------------------------------------------------------------------------- service points


def _bbox_check(store: Store, city: str, lon: float, lat: float, field: str = "lon") -> str | None:
    found = store.read_city(city)
    if found is None or not found.graph:
        return None
    from greyzone.routing.graph import StreetGraph

    g = StreetGraph.from_bytes(found.graph)
    margin = 0.02  # ~2 km around the city's streets
    if not (
        g.lon.min() - margin <= lon <= g.lon.max() + margin and g.lat.min() - margin <= lat <= g.lat.max() + margin
    ):
        return f"({lon:.5f}, {lat:.5f}) is outside the city {city!r} (more than ~2 km beyond its streets)"
    return None


def service_point_from(fields: dict[str, object], city: str, now_s: float) -> ServicePoint | list[tuple[str, str]]:
    """A service point from loose fields (CSV, GeoJSON properties, an API body), or its problems."""
    problems: list[tuple[str, str]] = []
    service = str(fields.get("service") or "").strip().lower()
    if service not in {s.value for s in Service}:
        problems.append(("service", f"expected one of {', '.join(s.value for s in Service)}; got {service!r}"))
    name = str(fields.get("name") or "").strip()
    if not name or len(name) > 200:
        problems.append(("name", "a service point needs a name (at most 200 characters)"))
    hours = str(fields.get("hours") or "").strip()
    if hours and not HOURS.match(hours):
        problems.append(("hours", f"expected HH:MM-HH:MM (24-hour, local time); got {hours!r}"))
    lon, lat = _float(fields.get("lon")), _float(fields.get("lat"))
    if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        problems.append(
            ("lon", f"expected a point (lon, lat in degrees); got {fields.get('lon')!r}, {fields.get('lat')!r}")
        )
    public = _float(fields.get("public_lon")), _float(fields.get("public_lat"))
    if (public[0] is None) != (public[1] is None):
        problems.append(("public_lon", "give both public_lon and public_lat, or neither"))
    if problems:
        return problems
    assert lon is not None and lat is not None
    point_id = str(fields.get("id") or fields.get("point_id") or "").strip() or f"sp-{uuid.uuid4().hex[:10]}"
    return ServicePoint(
        point_id[:64], city, service, name, lon, lat, hours, is_yes(fields.get("published")), public[0], public[1],
        is_yes(fields.get("public_shelter")), now_s,
    )  # fmt: skip


def _float(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        x = float(str(value))
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def is_yes(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "y", "так")


def add_service_points(
    store: AppStore, city: str, records: Sequence[dict[str, object]], *, origin: str = "request"
) -> tuple[list[ServicePoint], list[Reject]]:
    """Validate every record; the good ones land together (one transaction), each bad one is a reject
    naming its row, field and reason."""
    _zone(store, city)
    good, rejects = [], []
    now = time.time()
    for row, fields in enumerate(records, start=1):
        made = service_point_from(fields, city, now)
        if isinstance(made, ServicePoint):
            where = _bbox_check(store, city, made.lon, made.lat)
            if where is None:
                good.append(made)
                continue
            made = [("lon", where)]
        rejects += [Reject(origin, row, f, reason, str(fields.get(f, ""))[:200]) for f, reason in made]
    store.write_service_points(good)
    return good, rejects


def read_service_file(path: Path) -> list[dict[str, object]]:
    """Service points from CSV (a header naming the fields) or GeoJSON (points; fields as properties)."""
    try:
        if path.suffix.lower() in (".geojson", ".json"):
            features = json.loads(path.read_text(encoding="utf-8"))["features"]
            out = []
            for f in features:
                fields = dict(f.get("properties") or {})
                coords = (f.get("geometry") or {}).get("coordinates") or [None, None]
                fields.update(lon=coords[0], lat=coords[1])
                out.append(fields)
            return out
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return [dict(r) for r in csv.DictReader(fh)]
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise InputError("file", f"{path}: cannot read service points ({exc})") from None


def point_row(p: ServicePoint) -> Json:
    """A service point as coordinators and analysts see it (the door, and what the public is told)."""
    return {
        "point_id": p.point_id, "name": p.name, "service": p.service, "lon": p.lon, "lat": p.lat, "hours": p.hours,
        "published": p.published, "public_lon": p.public_lon, "public_lat": p.public_lat,
        "public_shelter": p.public_shelter,
    }  # fmt: skip


def publish_service_point(
    store: CoordinationStore, city: str, point_id: str, *, published: bool, public_lonlat: tuple[float, float] | None
) -> ServicePoint:
    found = {p.point_id: p for p in store.read_service_points(city)}.get(point_id)
    if found is None:
        raise InputError("point_id", f"no service point {point_id!r} in {city!r} (`greyzone service list` shows them)")
    where = public_lonlat or (found.public_lon, found.public_lat)
    changed = replace(found, published=published, public_lon=where[0], public_lat=where[1], updated_at=time.time())
    store.write_service_points([changed])
    return changed


def service_status_record(
    store: CoordinationStore, city: str, point_id: str, status: str, at: datetime
) -> dict[str, object]:
    """The report that says a service point's status (checked: the point exists, the status is one)."""
    found = {p.point_id: p for p in store.read_service_points(city)}.get(point_id)
    if found is None:
        raise InputError(
            "point_id", f"no service point {point_id!r} in {city!r}: add it first (`greyzone service add`)"
        )
    if status not in SERVICE_STATES:
        raise InputError("status", f"expected one of {', '.join(SERVICE_STATES)}; got {status!r}")
    return {
        "kind": "service_status", "observed_at": at.isoformat(), "lon": found.lon, "lat": found.lat,
        "location_precision_m": 10, "service": found.service, "status": status, "place": point_id,
    }  # fmt: skip


# ----------------------------------------------------------------------------------------------- the board


@dataclass(frozen=True)
class BoardKeys:
    """Which board row each status report speaks for, and what each row is."""

    key: npt.NDArray[np.int64]  # per report: the row (-1: none)
    rows: list[tuple[str, str, str, str]]  # per row: (district, category, item, point id)


def board_keys(
    status: Sequence[str], items: Sequence[str], utility: npt.NDArray[np.bool_], place: Sequence[str],
    lon: Floats, lat: Floats, points: Sequence[ServicePoint], districts: Districts,
) -> tuple[BoardKeys, npt.NDArray[np.int64]]:  # fmt: skip
    """Rows: each utility in each district (those reported on, and every named district), each service
    point; a service report that names no point goes to the point of its service within MATCH_M, else to
    its service in its district. The status index of each report (-1: not a status of its kind)."""
    report_district = districts.of(lon, lat)
    point_district = districts.of(np.array([p.lon for p in points]), np.array([p.lat for p in points]))
    rows: list[tuple[str, str, str, str]] = [
        (d, "service", p.service, p.point_id) for p, d in zip(points, point_district, strict=True)
    ]
    index = {(r[0], r[2], r[3]): i for i, r in enumerate(rows)}
    by_id = {p.point_id: i for i, p in enumerate(points)}
    for d in sorted({*districts.names, *(d for d, u in zip(report_district, utility, strict=True) if u)}):
        for u in Utility:
            index[(d, u.value, "")] = len(rows)
            rows.append((d, "utility", u.value, ""))
    nearest = _nearest_points(items, lon, lat, points)
    key = np.full(len(items), -1, dtype=np.int64)
    code = np.full(len(items), -1, dtype=np.int64)
    for i in range(len(items)):
        states = UTILITY_STATES if utility[i] else SERVICE_STATES
        code[i] = states.index(status[i]) if status[i] in states else -1
        if utility[i]:
            key[i] = index.get((report_district[i], items[i], ""), -1)
            continue
        p = by_id.get(place[i], nearest[i])
        if p >= 0 and points[p].service == items[i]:
            key[i] = index[(point_district[p], points[p].service, points[p].point_id)]
        else:
            k = (report_district[i], items[i], "")
            if k not in index:
                index[k] = len(rows)
                rows.append((report_district[i], "service", items[i], ""))
            key[i] = index[k]
    return BoardKeys(key, rows), code


def _nearest_points(items: Sequence[str], lon: Floats, lat: Floats, points: Sequence[ServicePoint]) -> list[int]:
    if not points or not len(lon):
        return [-1] * len(items)
    px, py = np.array([p.lon for p in points]), np.array([p.lat for p in points])
    kx = 111_320.0 * math.cos(math.radians(float(np.mean(py))))
    d = np.hypot((lon[:, None] - px[None, :]) * kx, (lat[:, None] - py[None, :]) * 111_320.0)
    same = np.array([[it == p.service for p in points] for it in items], dtype=bool)
    d = np.where(same, d, np.inf)
    best = d.argmin(axis=1)
    return [int(b) if d[i, b] <= MATCH_M else -1 for i, b in enumerate(best)]


def _status_word(c: Current, states: list[str]) -> str:
    return "unknown" if c.status == UNKNOWN else "conflicting" if c.status == CONFLICTING else states[c.status]


def status_board(store: AppStore, settings: Settings, city: str, now: datetime, days: int = 7) -> Json:
    """Each utility per district and each service point: status now, as of when, how many sources agree
    (conflicting: every status with its sources); outage hours per district per local day over ``days``
    days and the outages themselves. A status older than ``settings.status_fresh_h`` is *unknown*."""
    zone = _zone(store, city)
    fresh_s = settings.status_fresh_h * 3600.0
    now_s = now.timestamp()
    start = datetime.fromtimestamp(now_s, zone).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=days - 1
    )
    bounds = np.array([(start + timedelta(days=i)).timestamp() for i in range(days + 1)])
    rows = store.read_status(min(bounds[0], now_s) - fresh_s, now_s + 1)
    points = store.read_service_points(city)
    districts = districts_of(store, city)
    keys, codes = board_keys(rows.status, rows.item, rows.utility, rows.place, rows.lon, rows.lat, points, districts)
    ok = (keys.key >= 0) & (codes >= 0)
    sources = {s: i for i, s in enumerate(sorted(set(rows.source)))}
    source_code = np.array([sources[s] for s in rows.source], dtype=np.int64)
    cols = StatusColumns(rows.t_s[ok], keys.key[ok], codes[ok], source_code[ok])
    every = np.arange(len(keys.rows), dtype=np.int64)
    names = {p.point_id: p for p in points}
    table = []
    for c in current_status(cols, every, now_s, fresh_s):
        district, category, item, point_id = keys.rows[c.key]
        states = UTILITY_STATES if category == "utility" else SERVICE_STATES
        point = names.get(point_id)
        table.append({
            "district": district, "category": category, "item": item, "point_id": point_id or None,
            "name": point.name if point else None, "published": point.published if point else None,
            "status": _status_word(c, states), "as_of": local_text(c.as_of_s, zone), "stale": c.stale,
            "sources": c.sources,
            "voices": [{"status": states[v.status], "sources": v.sources, "as_of": local_text(v.as_of_s, zone)}
                       for v in c.voices],
        })  # fmt: skip
    utility_rows = np.array([i for i, r in enumerate(keys.rows) if r[1] == "utility"], dtype=np.int64)
    history = status_history(cols, utility_rows, bounds, 2, now_s, fresh_s)
    out_hours = [
        {"district": keys.rows[k][0], "utility": keys.rows[k][2], "out_h": [round(float(h), 1) for h in hours],
         "unknown_h": [round(float(h), 1) for h in unknown]}
        for k, hours, unknown in zip(utility_rows, history.out_hours, history.unknown_hours, strict=True)
        if hours.sum() > 0
    ]  # fmt: skip
    outages = [
        {"district": keys.rows[o.key][0], "utility": keys.rows[o.key][2], "start": local_text(o.start_s, zone),
         "end": None if o.ongoing else local_text(o.end_s, zone), "hours": round(o.hours, 1), "ongoing": o.ongoing,
         "end_confirmed": o.confirmed_end}
        for o in history.outages
    ]  # fmt: skip
    return {
        "city": city, "as_of": local_text(now_s, zone), "timezone": str(zone), "fresh_h": settings.status_fresh_h,
        "districts": sorted({r[0] for r in keys.rows}), "rows": table,
        "days": [datetime.fromtimestamp(b, zone).date().isoformat() for b in bounds[:-1]],
        "out_hours": out_hours, "outages": outages, "reports": int(ok.sum()),
        "rule": f"a status older than {settings.status_fresh_h:g} h is unknown, never working; sources whose newest "
        "report lies within 3 h of the newest speak for now, and when they disagree the status is conflicting",
    }  # fmt: skip


# ----------------------------------------------------------------------------------------------- residents


PUBLIC_WORDS = {
    "uk": {"open": "відчинено", "limited": "обмежено", "closed": "зачинено", "unknown": "невідомо"},
    "en": {"open": "open", "limited": "limited", "closed": "closed", "unknown": "unknown"},
}


def public_points(points: Sequence[ServicePoint], service: str | None) -> list[ServicePoint]:
    """What the public may see: published points only, shelters only when published as public shelters."""
    return [
        p
        for p in points
        if p.published
        and (service is None or p.service == service)
        and (p.service != Service.SHELTER.value or p.public_shelter)
    ]


def open_by_hours(hours: str, at: datetime, zone: ZoneInfo) -> bool | None:
    """Whether local ``hours`` (HH:MM-HH:MM) cover ``at``; None when no hours are known."""
    if not HOURS.match(hours):
        return None
    a, b = hours.split("-")
    clock = at.astimezone(zone).strftime("%H:%M")
    return a <= clock < b if a < b else clock >= a or clock < b


def residents_view(
    store: AppStore, settings: Settings, city: str, lon: float, lat: float, now: datetime,
    service: str | None = None, most: int = 3, hours_ahead: int = 3,
) -> Json:  # fmt: skip
    """The nearest published service points to a point, open now or not (its hours and its reported
    status), and the walking route's risk leaving now and at each of the next hours."""
    if service is not None and service not in {s.value for s in Service}:
        raise InputError("service", f"expected one of {', '.join(s.value for s in Service)}; got {service!r}")
    zone = _zone(store, city)
    far = _bbox_check(store, city, lon, lat)
    if far is not None:
        raise InputError("lon", far)
    shown = public_points(store.read_service_points(city), service)
    if not shown:
        return {"city": city, "as_of": local_text(now.timestamp(), zone), "points": [], "notes": ["no published point"]}
    px = np.array([p.public_lon if p.public_lon is not None else p.lon for p in shown])
    py = np.array([p.public_lat if p.public_lat is not None else p.lat for p in shown])
    kx = 111_320.0 * math.cos(math.radians(lat))
    dist = np.hypot((px - lon) * kx, (py - lat) * 111_320.0)
    order = np.argsort(dist, kind="stable")[:most]
    board = {r["point_id"]: r for r in status_board(store, settings, city, now, days=1)["rows"]}  # type: ignore[attr-defined]
    walks = _walks(store, city, (lon, lat), [(float(px[i]), float(py[i])) for i in order], now, hours_ahead)
    points = []
    for j, i in enumerate(order):
        p = shown[int(i)]
        status = str(board.get(p.point_id, {}).get("status", "unknown"))
        status = status if status in SERVICE_STATES else "unknown"
        by_hours = open_by_hours(p.hours, now, zone)
        points.append({
            "point_id": p.point_id, "name": p.name, "service": p.service, "lon": round(float(px[i]), 5),
            "lat": round(float(py[i]), 5), "hours": p.hours or None, "distance_m": round(float(dist[i])),
            "status": status, "status_as_of": board.get(p.point_id, {}).get("as_of") if status != "unknown" else None,
            "open_now": None if by_hours is None or status == "unknown" else bool(by_hours and status != "closed"),
            "within_hours": by_hours, "walk": walks[j],
        })  # fmt: skip
    return {
        "city": city, "as_of": local_text(now.timestamp(), zone), "timezone": str(zone), "points": points,
        "words": PUBLIC_WORDS,
        "notes": ["only points the city's coordinators have published, at the place they published; no crowd or "
                  "queue is ever shown", "risk: the walking route's chance of harm from the hazard model"],
    }  # fmt: skip


def _walks(
    store: Store, city: str, origin: tuple[float, float], targets: list[tuple[float, float]], now: datetime, hours: int
) -> list[list[Json]]:
    """Minutes and risk of walking to each target, leaving now and at each of the next ``hours`` hours."""
    from greyzone.application.movement import plan_matrix
    from greyzone.routing.exposure import Mode

    walks: list[list[Json]] = [[] for _ in targets]
    if not targets:
        return walks
    for h in range(hours + 1):
        depart = now + timedelta(hours=h)
        try:
            answer = plan_matrix(store, city, [origin], targets, Mode.FOOT, depart)
        except InputError as exc:
            return [[{"depart": depart.isoformat(timespec="minutes"), "error": str(exc)}] for _ in targets]
        for j in range(len(targets)):
            minutes = answer["minutes"][0][j]  # type: ignore[index]
            risk = answer["risk"][0][j]  # type: ignore[index]
            walks[j].append({"depart": answer["depart"], "minutes": minutes, "risk": risk})
    return walks


# ----------------------------------------------------------------------------------------------- needs


def record_need(
    store: AppStore, user: User, city: str, district: str, category: str, people: int, at: datetime
) -> Need:
    """A need of ``people`` residents of a district (counts only, never who)."""
    _zone(store, city)
    if category not in {c.value for c in NeedCategory}:
        raise InputError("category", f"expected one of {', '.join(c.value for c in NeedCategory)}; got {category!r}")
    if not 0 < people <= 100_000:
        raise InputError("people", f"expected a count of people from 1 to 100000; got {people}")
    known = set(districts_of(store, city).names)
    if known and district not in known and not district.startswith("h3:"):
        raise InputError("district", f"no district {district!r} in {city!r} (known: {', '.join(sorted(known))})")
    need = Need(city, district.strip()[:100], NeedCategory(category), people, at.timestamp(), user.name)
    return replace(need, need_id=store.write_need(need))


def needs_summary(store: AppStore, city: str, now: datetime, days: int = 14) -> Json:
    """Per district and category: people with an unmet need now, since when, needs met lately; and
    the people with unmet needs at the end of each of the last ``days`` local days."""
    zone = _zone(store, city)
    needs = store.read_needs(city)
    end = datetime.fromtimestamp(now.timestamp(), zone).replace(hour=0, minute=0, second=0, microsecond=0)
    ends = [(end - timedelta(days=days - 1 - i)).timestamp() + 86_400 for i in range(days)]
    groups: dict[tuple[str, str], list[Need]] = {}
    for n in needs:
        groups.setdefault((n.district, n.category.value), []).append(n)
    rows = []
    for (district, category), found in sorted(groups.items()):
        open_ = [n for n in found if n.met_at is None and n.recorded_at <= now.timestamp()]
        rows.append({
            "district": district, "category": category, "unmet_people": sum(n.people for n in open_),
            "unmet_needs": len(open_),
            "unmet_since": local_text(min((n.recorded_at for n in open_), default=math.nan), zone),
            "met_people": sum(n.people for n in found if n.met_at is not None),
            "daily_unmet_people": [
                sum(n.people for n in found if n.recorded_at < e and (n.met_at is None or n.met_at >= e))
                for e in ends
            ],
        })  # fmt: skip
    days_text = [datetime.fromtimestamp(e - 86_400, zone).date().isoformat() for e in ends]
    return {"city": city, "as_of": local_text(now.timestamp(), zone), "days": days_text, "rows": rows}


def meet_need(store: CoordinationStore, need_id: int, at: datetime) -> None:
    if not store.meet_need(need_id, at.timestamp()):
        raise InputError("need_id", f"no unmet need {need_id}")
