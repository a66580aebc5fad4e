"""The API (FastAPI): reports in, layers and routes out, each by role. ``create_app(settings)``.

Who sees what (MISSION.md: never publish exact positions of crews, shelters, gatherings or
reporters outside vetted roles):

* public (no token): incidents only as counts per H3 cell (res 8, ~0.7 km²) and hour, no cell with
  fewer than ``min_count`` reports, nothing newer than ``public_delay_h``, centres rounded to 0.001°
  (~100 m); the control map, the hazard forecast, cities and their gates, routes, health.
* reporter: submits reports and reads back its own.
* verifier, analyst: every report with its exact position; analysts export CSV.
* admin: users and the audit log.

Every authentication, denial, export and admin action goes to the audit log. Every error answer
has one shape: ``{"error": {"status", "code", "message", "details"}}``.
"""

# no "from __future__ import annotations": FastAPI reads these annotations, closures included, at run time

import io
import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import h3
import numpy as np
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from greyzone.errors import GreyzoneError
from greyzone.model.enums import Kind
from greyzone.service.guard import (
    RANK,
    BodyLimit,
    InFlightLimit,
    RateLimiter,
    error_body,
    new_token,
    retry_after,
    token_hash,
)
from greyzone.settings import Settings, reporter_key
from greyzone.store.base import AuditEntry, ReportQuery, User
from greyzone.store.sqlite import SqliteStore


def open_store(settings: Settings) -> Any:
    """The server store when a database URL is set (PostgreSQL), else the SQLite file."""
    if settings.database_url:
        from greyzone.store.postgres import PostgresStore

        return PostgresStore.open(settings.database_url)
    return SqliteStore.open(settings.db_path)


PUBLIC = User("public", "public")


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 2_000_000
    per_minute: int = 1200  # per token (public: per client address)
    in_flight: int = 64  # requests handled at once; more are answered 503 at once
    max_batch: int = 5000
    public_delay_h: float = 24.0
    min_count: int = 5


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.headers = status, code, message, details, headers


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: str = Field(pattern=r"^(reporter|verifier|analyst|admin)$")


class RouteIn(BaseModel):
    city: str
    origin: tuple[float, float] = Field(description="[lon, lat]")
    destination: tuple[float, float] = Field(description="[lon, lat]")
    mode: str = Field("foot", pattern=r"^(foot|bicycle|car|armoured)$")
    depart: datetime | None = Field(None, description="ISO 8601 (default now)")
    window_minutes: int = Field(0, ge=0, le=12 * 60, description="try departures every step over this long")
    step_minutes: int = Field(30, ge=5, le=240)


class Gate:
    """The store (one SQLite connection, one request at a time), the audit log and who may pass."""

    def __init__(self, settings: Settings, limits: Limits) -> None:
        self.settings, self.limits = settings, limits
        self.store: Any = open_store(settings)
        self.lock = threading.Lock()
        self.limiter = RateLimiter(limits.per_minute)
        self._cache: OrderedDict[tuple[Any, ...], tuple[float, bytes]] = OrderedDict()
        self._cache_lock = threading.Lock()

    def cached(self, key: tuple[Any, ...], make: Callable[[], dict[str, Any]], ttl_s: float = 60.0) -> Response:
        """A layer computed at most once a minute per question (layers may be a minute behind the store);
        the 256 most recent questions are kept."""
        now = time.monotonic()
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < ttl_s:
                self._cache.move_to_end(key)
                return _json(hit[1])
        value = json.dumps(make()).encode()  # kept serialised: a hit costs no encoding
        with self._cache_lock:
            self._cache[key] = (now, value)
            while len(self._cache) > 256:
                self._cache.popitem(last=False)
        return _json(value)

    @contextmanager
    def locked(self) -> Iterator[Any]:
        with self.lock:
            yield self.store

    def audit(self, actor: str, action: str, obj: str, outcome: str) -> None:
        with self.locked() as s:
            s.audit(AuditEntry(time.time(), actor, action, obj, outcome))

    def caller(self, request: Request, authorization: str | None) -> User:
        if authorization is None:
            user, client = PUBLIC, f"ip:{request.client.host if request.client else '?'}"
        else:
            scheme, _, token = authorization.partition(" ")
            with self.locked() as s:
                found = s.user_of(token_hash(token.strip())) if scheme.lower() == "bearer" else None
            if found is None:
                self.audit("unknown", "auth.denied", request.url.path, "401")
                raise ApiError(
                    401,
                    "unauthenticated",
                    "unknown or malformed token (send 'Authorization: Bearer TOKEN'; `greyzone user add` makes one)",
                )
            self.audit(found.name, "auth.ok", request.url.path, found.role)
            user, client = found, f"user:{found.name}"
        wait = self.limiter.take(client)
        if wait > 0:
            raise ApiError(
                429,
                "rate_limited",
                f"too many requests: {self.limits.per_minute} a minute",
                headers={"Retry-After": retry_after(wait)},
            )
        return user

    def need(self, role: str) -> Any:
        """A dependency: the caller, when their role is ``role`` or above."""

        def check(request: Request, authorization: Annotated[str | None, Header()] = None) -> User:
            user = self.caller(request, authorization)
            if RANK[user.role] < RANK[role]:
                self.audit(user.name, "denied", request.url.path, f"needs {role}")
                status = 401 if user.role == "public" else 403
                raise ApiError(
                    status,
                    "forbidden" if status == 403 else "unauthenticated",
                    f"this needs the role {role} or above (you are {user.role})",
                )
            return user

        return Depends(check)


def create_app(settings: Settings, limits: Limits | None = None) -> FastAPI:
    """The service over the store at ``settings.db_path`` (created when missing)."""
    gate = Gate(settings, limits or Limits())
    app = FastAPI(title="greyzone", version="0.1.0", summary="Situational awareness and safer movement (API)")
    app.add_middleware(BodyLimit, max_bytes=gate.limits.max_body_bytes)
    app.add_middleware(InFlightLimit, most=gate.limits.in_flight)
    _errors(app)
    _report_routes(app, gate)
    _layer_routes(app, gate)
    _admin_routes(app, gate)
    static = Path(__file__).parent / "static"
    app.mount("/map", StaticFiles(directory=static, html=True), name="map")

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/map/")

    app.state.gate = gate
    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.status, exc.code, exc.message, exc.details), exc.status, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]} for e in exc.errors()]
        return JSONResponse(error_body(422, "invalid", "the request is not valid", details), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(exc.status_code, "http", str(exc.detail)), exc.status_code)

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body(500, "internal", f"internal error: {type(exc).__name__}"), 500)


def _report_routes(app: FastAPI, gate: Gate) -> None:
    anyone, reporter, analyst = gate.need("public"), gate.need("reporter"), gate.need("analyst")
    limits, locked = gate.limits, gate.locked

    @app.get("/api/health", summary="Liveness and what the store holds")
    def health() -> dict[str, Any]:
        with locked() as s:
            stats = s.stats()
            return {
                "status": "ok",
                "schema": s.schema_version(),
                "reports": stats.reports,
                "cities": s.city_names(),
                "first": stats.first_observed.isoformat() if stats.first_observed else None,
                "last": stats.last_observed.isoformat() if stats.last_observed else None,
            }

    @app.get("/api/whoami", summary="The caller's name and role")
    def whoami(user: Annotated[User, anyone]) -> dict[str, str]:
        return {"name": user.name, "role": user.role}

    @app.post("/api/reports", status_code=201, summary="Submit one report or a batch (all or nothing)")
    async def submit(
        request: Request,
        user: Annotated[User, reporter],
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> JSONResponse:
        if idempotency_key:
            with locked() as s:
                kept = s.recall(user.name, idempotency_key)
            if kept is not None:
                return JSONResponse(json.loads(kept), 201, {"Idempotent-Replay": "true"})
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ApiError(400, "not_json", f"the body is not JSON: {exc}") from None
        records = body.get("reports") if isinstance(body, dict) and "reports" in body else body
        records = [records] if isinstance(records, dict) else records
        if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
            raise ApiError(422, "invalid", 'expected a report object, a list of them, or {"reports": [...]}')
        if len(records) > limits.max_batch:
            raise ApiError(413, "too_large", f"at most {limits.max_batch} reports a request; send the rest next")
        answer, batch_id = _store_reports(gate.settings, locked, user, records)
        with locked() as s:  # every answer is kept, under its key or its batch; the reports as the user's
            text = s.remember(
                user.name,
                idempotency_key or f"batch:{batch_id}",
                json.dumps(answer),
                [uuid.UUID(i).bytes for i in answer["ids"]],
            )
        return JSONResponse(json.loads(text), 201)

    @app.get("/api/reports", summary="Reports: a reporter's own, or all (verifier and above)")
    def list_reports(
        user: Annotated[User, reporter],
        since: datetime | None = None,
        until: datetime | None = None,
        kind: Kind | None = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> dict[str, Any]:
        from greyzone.export import report_to_dict

        query = ReportQuery(
            since=_utc(since),
            until=_utc(until),
            kinds=frozenset({kind}) if kind else frozenset(),
            limit=None if user.role == "reporter" else limit,
        )
        with locked() as s:
            own = s.submitted_by(user.name) if user.role == "reporter" else None
            reports = [r for r in s.read_reports(query) if own is None or r.report_id.bytes in own][:limit]
        return {"reports": [report_to_dict(r) for r in reports], "count": len(reports)}

    @app.get("/api/incidents", summary="Incidents (verifier and above): each with its reports, span and place")
    def incidents(
        user: Annotated[User, gate.need("verifier")],
        since: datetime | None = None,
        until: datetime | None = None,
        kind: Kind | None = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> dict[str, Any]:
        query = ReportQuery(since=_utc(since), until=_utc(until), kinds=frozenset({kind}) if kind else frozenset())
        with locked() as s:
            frame = s.read_frame(query)
        return {"incidents": _incidents(frame)[:limit]}

    @app.get(
        "/api/export.csv",
        summary="Every report as CSV (analyst; formula-safe cells)",
        response_class=Response,
        responses={200: {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}},
    )
    def export_csv(
        user: Annotated[User, analyst], since: datetime | None = None, until: datetime | None = None
    ) -> Response:
        from greyzone.export import write_csv

        stream = io.StringIO()
        with locked() as s:
            n = write_csv(s.read_reports(ReportQuery(since=_utc(since), until=_utc(until))), stream)
        gate.audit(user.name, "export.csv", f"{n} reports", "ok")
        return Response(
            stream.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": "attachment; filename=greyzone-reports.csv"},
        )


def _layer_routes(app: FastAPI, gate: Gate) -> None:
    anyone, limits, locked, settings = gate.need("public"), gate.limits, gate.locked, gate.settings

    @app.get(
        "/api/layers/incidents",
        summary="Incidents as GeoJSON: counts per cell and hour (public), or points",
        response_class=Response,
        responses=JSON_DOC,
    )
    def incidents_layer(
        user: Annotated[User, anyone],
        since: datetime | None = None,
        until: datetime | None = None,
        kind: Kind | None = None,
    ) -> Response:
        full = RANK[user.role] >= RANK["verifier"]
        end = _utc(until) or datetime.now(UTC)
        if not full:
            end = min(end, datetime.now(UTC) - timedelta(hours=limits.public_delay_h))
        start = _utc(since) or end - timedelta(days=7)
        query = ReportQuery(since=start, until=end, kinds=frozenset({kind}) if kind else frozenset())
        if full:
            with locked() as s:
                return _json(_points(s.read_frame(query)))

        def public() -> dict[str, Any]:
            with locked() as s:
                frame = s.read_frame(query)
            return _cells(frame, limits.min_count) | {"delayed_h": limits.public_delay_h, "until": end.isoformat()}

        return gate.cached(
            ("incidents", start.isoformat(), end.replace(second=0, microsecond=0).isoformat(), kind), public
        )

    @app.get(
        "/api/layers/control",
        summary="The fused control map as GeoJSON polygons, with its as-of",
        response_class=Response,
        responses=JSON_DOC,
    )
    def control_layer(
        user: Annotated[User, anyone], at: datetime | None = None, res: Annotated[int, Query(ge=5, le=9)] = 8
    ) -> Response:
        when = _utc(at) or datetime.now(UTC)
        return gate.cached(("control", when.isoformat(), res), lambda: _control(locked, when, res))

    @app.get(
        "/api/layers/hazard",
        summary="The hazard forecast by cell and hour as GeoJSON",
        response_class=Response,
        responses=JSON_DOC,
    )
    def hazard_layer(
        user: Annotated[User, anyone], start: datetime | None = None, hours: Annotated[int, Query(ge=1, le=48)] = 6
    ) -> Response:
        when = _utc(start) or datetime.now(UTC)
        return gate.cached(("hazard", when.isoformat(), hours), lambda: _hazard(settings, locked, when, hours))

    @app.get("/api/cities", summary="The imported cities and their gates")
    def cities(user: Annotated[User, anyone]) -> dict[str, Any]:
        with locked() as s:
            found = [s.read_city(n) for n in s.city_names()]
        return {
            "cities": [
                {
                    "name": c.name,
                    "nodes": c.nodes,
                    "edges": c.edges,
                    "gates": [{"name": n, "lon": x, "lat": y} for n, x, y in c.gates],
                }
                for c in found
                if c is not None
            ]
        }

    @app.get(
        "/api/cities/{name}/streets",
        summary="A city's streets as GeoJSON lines (the map's basemap)",
        response_class=Response,
        responses={
            200: {
                "description": "GeoJSON FeatureCollection",
                "content": {"application/geo+json": {"schema": {"type": "object"}}},
            }
        },
    )
    def streets(name: str, user: Annotated[User, anyone]) -> Response:
        return Response(_streets(locked, name), media_type="application/geo+json")

    @app.get(
        "/api/layers/corridors",
        summary="Each way out of a city: open, risky or cut, with its route",
        response_class=Response,
        responses=JSON_DOC,
    )
    def corridors_layer(
        user: Annotated[User, anyone], city: str, at: datetime | None = None, res: Annotated[int, Query(ge=6, le=9)] = 8
    ) -> Response:
        when = _utc(at) or datetime.now(UTC)
        return gate.cached(("corridors", city, when.isoformat(), res), lambda: _corridors(locked, city, when, res))

    @app.post("/api/route", summary="The least-exposure route, its risk, what carries it; the window's curve")
    def route(body: RouteIn, user: Annotated[User, anyone]) -> dict[str, Any]:
        return _route(settings, locked, body)


def _admin_routes(app: FastAPI, gate: Gate) -> None:
    admin = gate.need("admin")

    @app.post("/api/users", status_code=201, summary="Add a user (admin); the token is shown once")
    def add_user(body: UserIn, user: Annotated[User, admin]) -> dict[str, str]:
        token = new_token()
        try:
            with gate.locked() as s:
                s.add_user(body.name, body.role, token_hash(token))
        except GreyzoneError as exc:
            gate.audit(user.name, "user.add", body.name, "refused")
            raise ApiError(409, "exists", str(exc)) from None
        gate.audit(user.name, "user.add", body.name, body.role)
        return {"name": body.name, "role": body.role, "token": token}

    @app.get("/api/audit", summary="The audit log, newest first (admin)")
    def audit_log(user: Annotated[User, admin], limit: Annotated[int, Query(ge=1, le=10_000)] = 200) -> dict[str, Any]:
        with gate.locked() as s:
            entries = s.audit_log(limit)
        gate.audit(user.name, "audit.read", f"{len(entries)} entries", "ok")
        return {
            "entries": [
                {
                    "at": datetime.fromtimestamp(e.at, UTC).isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "object": e.object,
                    "outcome": e.outcome,
                }
                for e in entries
            ]
        }


JSON_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "GeoJSON", "content": {"application/json": {"schema": {"type": "object"}}}}
}


def _json(body: bytes | dict[str, Any]) -> Response:
    return Response(body if isinstance(body, bytes) else json.dumps(body).encode(), media_type="application/json")


def _utc(t: datetime | None) -> datetime | None:
    return None if t is None else t.replace(tzinfo=UTC) if t.tzinfo is None else t


def _store_reports(
    settings: Settings, locked: Any, user: User, records: list[dict[str, Any]]
) -> tuple[dict[str, Any], int]:
    """Validate every record; store all of them in one transaction, or none with every reason."""
    from greyzone.ingest.build import BuildContext, build_batch
    from greyzone.ingest.records import RawRecord
    from greyzone.store.rows import prepare

    ctx = BuildContext(reporter_key=reporter_key(settings), now_s=time.time(), default_source=f"api:{user.name}")
    batch, rejects = build_batch([RawRecord("request", i + 1, r) for i, r in enumerate(records)], ctx)
    if rejects:
        details = [{"row": r.row, "field": r.field, "reason": r.reason} for r in rejects]
        raise ApiError(
            422, "invalid_reports", f"{len(rejects)} of {len(records)} reports are not valid; none was stored", details
        )
    prepared = prepare(batch)
    ids = [str(uuid.UUID(bytes=i)) for i in batch.ids]
    with locked() as s:
        result = s.write_batch(prepared, [], origin=f"api:{user.name}")
    return {"ids": ids, "accepted": result.accepted, "duplicates": result.duplicates}, result.batch_id


def _incidents(frame: Any) -> list[dict[str, Any]]:
    """One row per incident: its kind, first and last report, how many reports and sources, where."""
    if not len(frame):
        return []
    order = np.argsort(frame.incident, kind="stable")
    ids, starts = np.unique(frame.incident[order], return_index=True)
    out = []
    for k, (incident, a) in enumerate(zip(ids.tolist(), starts.tolist(), strict=True)):
        rows = order[a : starts[k + 1] if k + 1 < len(starts) else len(order)]
        best = rows[np.argmin(frame.location_precision_m[rows])]  # the most precise report places it
        out.append(
            {
                "incident": incident,
                "kind": frame.kind[int(rows[0])],
                "reports": len(rows),
                "sources": len({frame.source[int(r)] for r in rows}),
                "first": datetime.fromtimestamp(float(frame.observed_s[rows].min()), UTC).isoformat(),
                "last": datetime.fromtimestamp(float(frame.observed_s[rows].max()), UTC).isoformat(),
                "lon": float(frame.lon[best]),
                "lat": float(frame.lat[best]),
                "precision_m": float(frame.location_precision_m[best]),
            }
        )
    return sorted(out, key=lambda r: r["first"])


def _points(frame: Any) -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
            "properties": {
                "kind": k,
                "observed_at": datetime.fromtimestamp(float(t), UTC).isoformat(),
                "incident": int(i),
                "precision_m": float(p),
            },
        }
        for x, y, k, t, i, p in zip(
            frame.lon, frame.lat, frame.kind, frame.observed_s, frame.incident, frame.location_precision_m, strict=True
        )
    ]
    return {"type": "FeatureCollection", "features": features, "aggregated": False}


def _cells(frame: Any, min_count: int) -> dict[str, Any]:
    """Counts per H3 res-8 cell and hour; cells under ``min_count`` reports in that hour are left out."""
    if not len(frame):
        return {"type": "FeatureCollection", "features": [], "aggregated": True}
    cells = np.array([h3.api.basic_int.cell_to_parent(int(c), 8) for c in frame.h3_r9.tolist()], dtype=np.int64)
    hours = (frame.observed_s // 3600).astype(np.int64)
    keys, counts = np.unique(np.stack([cells, hours], axis=1), axis=0, return_counts=True)
    features = []
    for (cell, hour), n in zip(keys.tolist(), counts.tolist(), strict=True):
        if n < min_count:
            continue
        lat, lon = h3.cell_to_latlng(h3.int_to_str(cell))
        ring = [[round(x, 3), round(y, 3)] for y, x in h3.cell_to_boundary(h3.int_to_str(cell))]
        props = {
            "cell": h3.int_to_str(cell),
            "hour": datetime.fromtimestamp(hour * 3600, UTC).isoformat(),
            "reports": n,
            "centre": [round(lon, 3), round(lat, 3)],
        }
        features.append(
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}, "properties": props}
        )
    return {"type": "FeatureCollection", "features": features, "aggregated": True}


def _fused(locked: Any, when: datetime, res: int) -> Any:
    from greyzone.errors import NotAvailableError
    from greyzone.products import fused_control

    try:
        with locked() as s:
            return fused_control(s, when, res)
    except NotAvailableError as exc:
        raise ApiError(404, "not_available", str(exc)) from None


def _control(locked: Any, when: datetime, res: int) -> dict[str, Any]:
    import shapely

    from greyzone.control.products import state_areas

    fusion = _fused(locked, when, res)
    features = []
    for a in state_areas(fusion, fusion.states(when.timestamp())):
        as_of = datetime.fromtimestamp(a.as_of_s, UTC).isoformat() if a.as_of_s > -1e300 else None
        props = {"state": a.state.value, "area_km2": round(a.area_km2, 2), "as_of": as_of}
        features.append(
            {"type": "Feature", "geometry": json.loads(shapely.to_geojson(a.geometry)), "properties": props}
        )
    return {"type": "FeatureCollection", "features": features, "at": when.isoformat()}


def _graph(locked: Any, name: str) -> Any:
    from greyzone.routing.graph import StreetGraph

    with locked() as s:
        city = s.read_city(name)
    if city is None:
        raise ApiError(404, "no_city", f"no city {name!r}: `greyzone city import` adds one")
    return city, StreetGraph.from_bytes(city.graph)


_STREETS: dict[tuple[str, float], bytes] = {}


def _streets(locked: Any, name: str) -> bytes:
    """The streets as GeoJSON (one feature per street and direction pair; coordinates to ~1 m)."""
    city, graph = _graph(locked, name)
    key = (name, city.imported_at)
    if key not in _STREETS:
        source, target = graph.source(), graph.target
        keep = source < target  # one of the two directions of a two-way street
        keep |= ~np.isin(source * graph.n_nodes + target, target * graph.n_nodes + source)  # one-way streets
        features = []
        for e in np.flatnonzero(keep).tolist():
            line = np.round(graph.shape_lonlat[graph.shape_offset[e] : graph.shape_offset[e + 1]], 5).tolist()
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": line},
                    "properties": {"class": int(graph.road_class[e]), "name": graph.names[graph.name_id[e]]},
                }
            )
        _STREETS[key] = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    return _STREETS[key]


def _corridors(locked: Any, name: str, when: datetime, res: int) -> dict[str, Any]:

    from greyzone.routing.corridors import corridors
    from greyzone.routing.exposure import edge_states

    city, graph = _graph(locked, name)
    if not city.gates:
        raise ApiError(404, "not_available", f"city {name!r} has no gates: import it with --gates")
    fusion = _fused(locked, when, res)
    cell, _ = fusion.grid.nearest(graph.shape_lonlat[:, 0], graph.shape_lonlat[:, 1])
    states = edge_states(graph, fusion.states(when.timestamp())[cell])
    centre = graph.snap(float(np.median(graph.lon)), float(np.median(graph.lat)))[0]
    found = corridors(graph, graph.length_m, states, centre, [(n, graph.snap(x, y)[0]) for n, x, y in city.gates])
    features = []
    for c, (gate, x, y) in zip(found, city.gates, strict=True):
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [x, y]},
                "properties": {"gate": gate, "status": c.status.value},
            }
        )
        if c.edges.size:
            line = [
                p
                for e in c.edges.tolist()
                for p in graph.shape_lonlat[graph.shape_offset[e] : graph.shape_offset[e + 1]].tolist()
            ]
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": line},
                    "properties": {"gate": gate, "status": c.status.value},
                }
            )
    return {"type": "FeatureCollection", "features": features, "at": when.isoformat()}


def _model_file(settings: Settings) -> Path:
    """The fitted hazard model: beside the SQLite path (GREYZONE_DB) on every backend."""
    return Path(str(settings.db_path) + ".hazard.json")


def _hazard(settings: Settings, locked: Any, when: datetime, hours: int) -> dict[str, Any]:
    import math

    from greyzone.products import forecast_geojson, hazard_state

    path = _model_file(settings)
    if not path.exists():
        raise ApiError(404, "not_available", "no hazard model yet: `greyzone hazard fit` makes one")
    with locked() as s:
        state = hazard_state(s, path, when)
    fresh, age_h = state.freshness(when.timestamp())
    w = state.params.window
    first = max(int(w.bin_of(when.timestamp())), state.now_bin + 1)
    background, triggered = state.expected(first, max(1, math.ceil(hours * 3600 / w.bin_s)))
    rate = (background + triggered) / (state.grid.area_km2[:, None] * w.bin_s / 3600)
    as_of = datetime.fromtimestamp(state.as_of_s, UTC).isoformat()
    out = forecast_geojson(state, rate if fresh else None, as_of, w, first)
    return out | {"status": "ok" if fresh else "unknown", "as_of": as_of, "data_age_h": round(age_h, 2)}


def _route(settings: Settings, locked: Any, body: RouteIn) -> dict[str, Any]:
    from greyzone.products import plan_departures, riskiest_rows, route_line
    from greyzone.routing.exposure import PROFILES, Mode
    from greyzone.routing.graph import StreetGraph

    with locked() as s:
        city = s.read_city(body.city)
    if city is None:
        raise ApiError(404, "no_city", f"no city {body.city!r}: `greyzone city import` adds one")
    graph = StreetGraph.from_bytes(city.graph)
    (origin, d0), (destination, d1) = graph.snap(*body.origin), graph.snap(*body.destination)
    if max(d0, d1) > 1000:
        raise ApiError(422, "outside", "a point is over 1 km from the nearest street of the city")
    depart = _utc(body.depart) or datetime.now(UTC)
    starts = [depart + timedelta(minutes=m) for m in range(0, body.window_minutes + 1, body.step_minutes)]
    with locked() as s:
        plans = plan_departures(
            s, [_model_file(settings)], graph, PROFILES[Mode(body.mode)], origin, destination, starts
        )
    result, when = plans.routes[plans.best], starts[plans.best]
    return {
        "reachable": result.reachable,
        "reason": result.reason,
        "depart": when.isoformat(),
        "length_m": round(result.length_m, 1) if result.reachable else None,
        "minutes": round(result.seconds / 60, 1) if result.reachable else None,
        "risk": result.risk,
        "riskiest": riskiest_rows(result, when),
        "curve": [{"depart": t.isoformat(), "risk": r.risk} for t, r in zip(starts, plans.routes, strict=True)],
        "notes": plans.notes,
        "assumptions": result.assumptions,
        "geometry": {"type": "LineString", "coordinates": route_line(graph, result.edges)},
    }


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000, limits: Limits | None = None) -> None:
    """Run the service with uvicorn (one worker; run more behind a proxy)."""
    import uvicorn

    uvicorn.run(create_app(settings, limits), host=host, port=port, log_level="warning", backlog=1024)
