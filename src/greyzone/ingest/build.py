"""The one builder: raw records (from any adapter) → a validated ReportBatch plus rejects.

Parsing turns each field into its type (a problem per field that cannot be read); the model's
rules (:func:`greyzone.model.columns.column_problems`) then check all rows at once. A row with
any problem is rejected with every problem listed; the others form the batch.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

import numpy as np
import shapely
from shapely.geometry import shape

from greyzone.errors import GazetteerError, Problem
from greyzone.ingest.records import RawRecord, RecordBlock, Reject
from greyzone.model.batch import ReportBatch
from greyzone.model.cells import lonlats_to_cells
from greyzone.model.columns import ReportColumns, column_problems, content_keys, ids_from_content
from greyzone.model.enums import (
    InfraStatus,
    Kind,
    Service,
    ServiceStatus,
    ShellingKind,
    Side,
    TimePrecision,
    Utility,
    enum_problem,
)

#: Ukraine and its neighbourhood (lon_min, lat_min, lon_max, lat_max): a point outside it whose
#: swap falls inside is rejected as "lon and lat swapped".
UKRAINE_BBOX = (22.0, 44.0, 40.5, 52.5)
DEFAULT_CREDIBILITY = 0.5
DEFAULT_PRECISION_M = 1000.0  # a point without a stated precision is taken to be good to 1 km
METRES_PER_DEGREE = 111_320.0
AREA_TYPES = frozenset({"Polygon", "MultiPolygon"})
MIN_AREA_KM2 = 1e-6  # 1 m²: below it an "area" is a point or a line drawn as a polygon
MAX_AREA_KM2 = 60_000.0  # the largest oblast of Ukraine is ~33,000 km²


class PlaceResolver(Protocol):
    def resolve(self, name: str) -> tuple[float, float, float]:
        """(lon, lat, precision_m) of a place name; raises GazetteerError."""
        ...


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What the builder needs beyond the records (all optional)."""

    gazetteer: PlaceResolver | None = None
    reporter_key: bytes | None = None  # key of the reporter hash; no key, no reporter kept
    now_s: float | None = None  # reject times after now (+1 h); None: no future check
    default_source: str | None = None
    region: tuple[float, float, float, float] | None = UKRAINE_BBOX


_KIND_ALIASES = {s.value: (Kind.SHELLING, s) for s in ShellingKind}


def build_batch(records: Sequence[RawRecord] | RecordBlock, ctx: BuildContext) -> tuple[ReportBatch, list[Reject]]:
    """Validate ``records``; the batch holds the valid ones, in order, the rejects the rest.

    A record that makes the builder fail in a way no rule foresaw (a number too large to convert, a
    geometry the geometry library refuses) is rejected with the failure named, and never stops the
    others: the block is split in halves until each failing record stands alone (k bad records of n
    cost O(k log n) rebuilds; the common, clean block is built once)."""
    block = records if isinstance(records, RecordBlock) else RecordBlock.from_records(records)
    try:
        return _build_block(block, ctx)
    except Exception as exc:
        if len(block) == 0:
            raise
        if len(block) == 1:
            reason = f"unreadable record ({type(exc).__name__}: {str(exc)[:200]})"
            return _build_block(block.part(0, 0), ctx)[0], [block.reject(0, "(record)", reason)]
    half = len(block) // 2
    first, first_rejects = build_batch(block.part(0, half), ctx)
    second, second_rejects = build_batch(block.part(half, len(block)), ctx)
    return ReportBatch.concat(first, second), [*first_rejects, *second_rejects]


def _build_block(block: RecordBlock, ctx: BuildContext) -> tuple[ReportBatch, list[Reject]]:
    problems: dict[int, list[Problem]] = {}
    cols, extra = _parse_columns(block, ctx, problems)
    for i, found in column_problems(cols, ctx.now_s).items():
        problems.setdefault(i, []).extend(_new_problems(problems.get(i, []), found))
    rejects = [block.reject(i, p.field, p.reason) for i in sorted(problems) for p in _unique(problems[i])]
    keep = np.array([i for i in range(len(block)) if i not in problems], dtype=np.intp)
    cols = cols.take(keep)
    given = [extra["id"][i] for i in keep.tolist()]
    keys = content_keys(cols)
    ids = ids_from_content(keys, cols.observed_s)
    if not _all_none(given):
        ids = [g.bytes if g is not None else i for g, i in zip(given, ids, strict=True)]
    hashes = [_reporter_hash(extra["reporter"][i], ctx.reporter_key) for i in keep.tolist()]
    cells = lonlats_to_cells(cols.lon, cols.lat) if len(cols) else np.empty((0, 3), np.int64)
    return ReportBatch(cols, ids, cells, hashes), rejects


_LOCATION_FIELDS = frozenset({"lon", "lat", "location_precision_m", "place", "geometry"})


def _new_problems(parsed: list[Problem], checked: list[Problem]) -> list[Problem]:
    """The rule problems that are not echoes of a parse problem (an unreadable field is not also 'out of range')."""
    fields = {p.field for p in parsed}
    if fields & _LOCATION_FIELDS:
        fields |= _LOCATION_FIELDS
    return [p for p in checked if p.field not in fields]


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _reporter_hash(reporter: str | None, key: bytes | None) -> bytes | None:
    if not reporter or key is None:
        return None
    return hmac.new(key, reporter.strip().encode("utf-8", "surrogatepass"), hashlib.sha256).digest()[:16]


Problems = dict[int, list[Problem]]


def _parse_columns(block: RecordBlock, ctx: BuildContext, problems: Problems) -> tuple[ReportColumns, dict[str, Any]]:
    col = block.column
    kind, subkind = _kinds(col("kind"), col("subkind"), problems)
    observed, precision = _observed(col("observed_at"), col("time_precision"), problems)
    lon, lat, prec, place, area = _locations(ctx, problems, col)
    out = ReportColumns(
        kind=kind,
        observed_s=observed,
        time_precision=precision,
        lon=lon,
        lat=lat,
        location_precision_m=prec,
        credibility=_floats(col("credibility"), "credibility", problems, default=DEFAULT_CREDIBILITY),
        source=[s if s is not None else ctx.default_source for s in _texts(col("source"))],
        reported_s=_times(col("reported_at"), "reported_at", problems),
        ended_s=_times(col("ended_at"), "ended_at", problems),
        killed=_floats(col("killed"), "killed", problems),
        injured=_floats(col("injured"), "injured", problems),
        subkind=subkind,
        side=_enums(col("side"), Side, "side", problems),
        utility=_enums(col("utility"), Utility, "utility", problems),
        service=_enums(col("service"), Service, "service", problems),
        status=_statuses(col("status"), kind, problems),
        source_record_id=_texts(col("source_record_id")),
        place=place,
        text=_texts(col("text")),
        area_wkb=area,
    )
    extra = {"id": _ids(col("id"), problems), "reporter": _texts(col("reporter"))}
    assert len(out) == len(block)
    return out, extra


def _add(problems: Problems, i: int, field: str, reason: str) -> None:
    problems.setdefault(i, []).append(Problem(field, reason))


def _memo_parse(values: list[Any], parse: Any, field: str, problems: Problems) -> list[Any]:
    """Parse each value through a per-call memo (values repeat: kinds, sources, precisions)."""
    memo: dict[Any, Any] = {}
    out: list[Any] = []
    for i, v in enumerate(values):
        try:
            r = memo[v]
        except KeyError:
            r = memo[v] = parse(v)
        except TypeError:  # unhashable (a JSON list or object)
            r = Problem(field, f"expected text; got {type(v).__name__}")
        if isinstance(r, Problem):
            problems.setdefault(i, []).append(r)
            r = None
        out.append(r)
    return out


def _kinds(raw: list[Any], raw_sub: list[Any], problems: Problems) -> tuple[list[Any], list[Any]]:
    def parse(v: Any) -> Any:
        key = _text(v)
        if key is None:
            return Problem("kind", f"required: one of {', '.join(Kind)}")
        key = key.lower().replace("-", "_").replace(" ", "_")
        if key in _KIND_ALIASES:
            return _KIND_ALIASES[key]
        try:
            return (Kind(key), None)
        except ValueError:
            return enum_problem(Kind, v, "kind")

    pairs = _memo_parse(raw, parse, "kind", problems)
    subs = _enums(raw_sub, ShellingKind, "subkind", problems)
    kinds = [p[0] if p else None for p in pairs]
    subkinds = [s if s is not None else (p[1] if p else None) for p, s in zip(pairs, subs, strict=True)]
    return kinds, subkinds


def _enums(raw: list[Any], enum: Any, field: str, problems: Problems) -> list[Any]:
    if _all_none(raw):
        return raw

    def parse(v: Any) -> Any:
        key = _text(v)
        if key is None:
            return None
        try:
            return enum(key.lower())
        except ValueError:
            return enum_problem(enum, v, field)

    return _memo_parse(raw, parse, field, problems)


def _statuses(raw: list[Any], kinds: list[Kind | None], problems: Problems) -> list[Any]:
    if _all_blank(raw):
        return [None] * len(raw)
    infra = _enums(raw, InfraStatus, "status", {})
    service = _enums(raw, ServiceStatus, "status", {})
    out: list[Any] = []
    for i, (v, k) in enumerate(zip(raw, kinds, strict=True)):
        parsed = service[i] if k is Kind.SERVICE_STATUS else infra[i]
        if parsed is None and _text(v) is not None:
            valid = ServiceStatus if k is Kind.SERVICE_STATUS else InfraStatus
            _add(problems, i, "status", f"expected one of {', '.join(valid)}; got {v!r}")
        out.append(parsed)
    return out


_UTC_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]00:?00)")


def _utc_seconds(raw: list[Any]) -> Any:
    """Epoch seconds of a column of ISO times all in UTC (Z or +00:00), parsed at once; None if not so."""
    if not raw or not all(isinstance(v, str) and _UTC_TIME.fullmatch(v) for v in raw):
        return None
    naive = [v[:-1] if v[-1] == "Z" else v[:-6] if v[-3] == ":" else v[:-5] for v in raw]
    try:
        return np.array(naive, dtype="datetime64[us]").astype(np.int64) / 1e6
    except ValueError:  # an impossible date (2024-02-30): the per-value path names it
        return None


def _observed(raw: list[Any], raw_precision: list[Any], problems: Problems) -> tuple[Any, list[Any]]:
    fast = _utc_seconds(raw)
    observed = fast if fast is not None else np.full(len(raw), math.nan)
    date_only = [False] * len(raw)
    for i, v in enumerate(raw if fast is None else ()):
        if _is_blank(v):
            _add(problems, i, "observed_at", "required: when it happened, e.g. 2024-11-03T09:15:00Z")
            continue
        t, is_date = _time(v)
        if isinstance(t, Problem):
            problems.setdefault(i, []).append(Problem("observed_at", t.reason))
        else:
            observed[i], date_only[i] = t, is_date
    given = _enums(raw_precision, TimePrecision, "time_precision", problems)
    precision = [
        g if g is not None else (TimePrecision.DAY if d else TimePrecision.EXACT)
        for g, d in zip(given, date_only, strict=True)
    ]
    for i, p in enumerate(precision):
        if p is TimePrecision.HOUR:
            observed[i] -= observed[i] % 3600
        elif p is TimePrecision.DAY:
            observed[i] -= observed[i] % 86400
    return observed, precision


def _times(raw: list[Any], field: str, problems: Problems) -> Any:
    out = np.full(len(raw), math.nan)
    if _all_blank(raw):
        return out
    for i, v in enumerate(raw):
        if _is_blank(v):
            continue
        t, _ = _time(v)
        if isinstance(t, Problem):
            problems.setdefault(i, []).append(Problem(field, t.reason))
        else:
            out[i] = t
    return out


def _time(value: Any) -> tuple[float | Problem, bool]:
    """Epoch seconds of an ISO 8601 time (naive is an error) or of a date (a UTC day)."""
    if isinstance(value, datetime):
        t = value
    elif isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp(), True
    else:
        text = str(value).strip()
        try:
            t = datetime.fromisoformat(text)
        except ValueError:
            return Problem("", f"expected an ISO 8601 time such as 2024-11-03T09:15:00Z; got {text!r}"), False
        if len(text) == 10:  # YYYY-MM-DD: a day, in UTC
            return t.replace(tzinfo=UTC).timestamp(), True
    if t.tzinfo is None or t.utcoffset() is None:
        return Problem("", f"expected a timezone-aware time (add Z or +02:00); got naive {value!r}"), False
    return t.timestamp(), False


def _floats(raw: list[Any], field: str, problems: Problems, default: float = math.nan) -> Any:
    """Numbers of a column; blanks become ``default``; unreadable values are problems."""
    if _all_blank(raw):
        return np.full(len(raw), default)
    try:
        out = np.array(raw, dtype=np.float64)
        if not np.isnan(out).any() and bool not in map(type, raw):  # JSON true is not 1.0 (checked in C)
            return out
    except (TypeError, ValueError):
        pass
    out = np.full(len(raw), default)
    for i, v in enumerate(raw):
        if _is_blank(v):
            continue
        x = _number(v, field, problems, i)
        out[i] = x
    return out


def _ids(raw: list[Any], problems: Problems) -> list[uuid.UUID | None]:
    if _all_none(raw):
        return raw

    def parse(v: Any) -> Any:
        text = _text(v)
        if text is None:
            return None
        try:
            return uuid.UUID(text)
        except ValueError:
            return Problem("id", f"expected a UUID such as 1b4e28ba-2fa1-11d2-883f-0016d3cca427; got {v!r}")

    return _memo_parse(raw, parse, "id", problems)


def _texts(raw: list[Any]) -> list[str | None]:
    if _all_none(raw):
        return raw
    return [_text(v) for v in raw]


def _locations(ctx: BuildContext, problems: Problems, col: Any) -> tuple[Any, ...]:
    geometry = col("geometry")
    n = len(geometry)
    lon = _floats(col("lon"), "lon", problems)
    lat = _floats(col("lat"), "lat", problems)
    prec = _floats(col("location_precision_m"), "location_precision_m", problems)
    place = _texts(col("place"))
    area: list[bytes | None] = [None] * n
    has_point = ~(np.isnan(lon) & np.isnan(lat))
    prec[has_point & np.isnan(prec)] = DEFAULT_PRECISION_M
    if ctx.region is not None:
        x0, y0, x1, y1 = ctx.region
        with np.errstate(invalid="ignore"):
            outside = has_point & ~((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1))
        for i in np.flatnonzero(outside).tolist():
            _check_swap(float(lon[i]), float(lat[i]), ctx, problems, i)
    for i in np.flatnonzero(~has_point).tolist():
        where = _locate_without_point(geometry[i], place[i], ctx)
        if isinstance(where, Problem):
            problems.setdefault(i, []).append(where)
            continue
        lon[i], lat[i], found_prec, area[i] = where
        prec[i] = found_prec if np.isnan(prec[i]) else max(prec[i], found_prec)
    return lon, lat, prec, place, area


def _locate_without_point(
    geometry: Any, place: str | None, ctx: BuildContext
) -> tuple[float, float, float, bytes | None] | Problem:
    if geometry is not None:
        return _parse_area(geometry)
    if place is not None:
        return _resolve_place(place, ctx)
    return Problem("lon", "required: lon and lat, a place name, or an area geometry")


def _check_swap(lon: float, lat: float, ctx: BuildContext, problems: Problems, i: int) -> None:
    if ctx.region is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return
    x0, y0, x1, y1 = ctx.region
    inside = x0 <= lon <= x1 and y0 <= lat <= y1
    if not inside and x0 <= lat <= x1 and y0 <= lon <= y1:
        _add(problems, i, "lat", f"lon {lon}, lat {lat} lies outside the region but its swap inside: swapped?")


def _parse_area(geometry: Any) -> tuple[float, float, float, bytes | None] | Problem:
    """A report's place as a geometry. The rules: a Point is a place; a Polygon or MultiPolygon is an area
    (a line, or a polygon of no area — all its points on one spot or one line — is refused: it says
    nothing about where); a self-intersecting area is repaired (``make_valid``, its polygons kept); an
    area over ``MAX_AREA_KM2`` (larger than any oblast: a whole-world box) is refused."""
    geom = _geometry(geometry)
    if isinstance(geom, Problem) or geom.geom_type == "Point":
        return geom if isinstance(geom, Problem) else (geom.x, geom.y, DEFAULT_PRECISION_M, None)
    area = _area(geom)
    if isinstance(area, Problem):
        return area
    point = area.representative_point()
    return point.x, point.y, max(_radius_m(area, point), 1.0), shapely.to_wkb(area)


def _geometry(geometry: Any) -> Any:
    """A shapely geometry of lon/lat coordinates, or the Problem with it."""
    try:
        geom = geometry if isinstance(geometry, shapely.Geometry) else shape(geometry)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, shapely.errors.ShapelyError) as exc:
        return Problem("geometry", f"expected a GeoJSON geometry; {exc}")
    if geom.is_empty:
        return Problem("geometry", "expected a non-empty geometry; got an empty one")
    x0, y0, x1, y1 = geom.bounds
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        return Problem("geometry", f"coordinates outside lon/lat ranges: bounds {geom.bounds}")
    return geom


def _area(geom: Any) -> Any:
    """The area the rules of :func:`_parse_area` accept (repaired when it crosses itself), or the Problem."""
    if geom.geom_type not in AREA_TYPES:
        return Problem("geometry", f"expected a Point, Polygon or MultiPolygon; got {geom.geom_type}")
    if not geom.is_valid:
        parts = shapely.get_parts(shapely.make_valid(geom))
        geom = shapely.unary_union([p for p in parts if p.geom_type in AREA_TYPES])
    km2 = _area_km2(geom)
    if not km2 > MIN_AREA_KM2:
        return Problem("geometry", "expected an area; got a polygon of no area (its points on one spot or line)")
    if km2 > MAX_AREA_KM2:
        return Problem("geometry", f"expected an area of at most {MAX_AREA_KM2:,.0f} km²; got {km2:,.0f} km²")
    return geom


def _area_km2(geom: Any) -> float:
    """The area in km², near enough for its rules (degrees scaled at the area's middle latitude)."""
    middle = (geom.bounds[1] + geom.bounds[3]) / 2
    return float(geom.area) * (METRES_PER_DEGREE / 1000) ** 2 * math.cos(math.radians(middle))


def _radius_m(geom: Any, point: Any) -> float:
    """Distance (m) from the point to the farthest corner of the area's bounding box."""
    x0, y0, x1, y1 = geom.bounds
    scale_x = METRES_PER_DEGREE * math.cos(math.radians(point.y))
    dx = max(abs(point.x - x0), abs(x1 - point.x)) * scale_x
    dy = max(abs(point.y - y0), abs(y1 - point.y)) * METRES_PER_DEGREE
    return min(math.hypot(dx, dy), 1_000_000.0)


def _resolve_place(place: str, ctx: BuildContext) -> tuple[float, float, float, bytes | None] | Problem:
    if ctx.gazetteer is None:
        return Problem("place", f"no gazetteer loaded to resolve {place!r}: give lon and lat")
    try:
        lon, lat, precision = ctx.gazetteer.resolve(place)
    except GazetteerError as exc:
        return Problem("place", str(exc))
    return lon, lat, precision, None


def _all_none(values: list[Any]) -> bool:
    return values.count(None) == len(values)  # list.count runs in C: no per-row Python


def _all_blank(values: list[Any]) -> bool:
    return values.count(None) + values.count("") == len(values)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any, field: str, problems: Problems, i: int) -> float:
    if isinstance(value, bool):
        _add(problems, i, field, f"expected a number; got {value!r}")
        return math.nan
    try:
        x = float(value)
    except (TypeError, ValueError):
        _add(problems, i, field, f"expected a number; got {value!r}")
        return math.nan
    if not math.isfinite(x):
        _add(problems, i, field, f"expected a finite number; got {value!r}")
    return x
