"""Cities (and their streets, the map's basemap) and route planning."""

# no "from __future__ import annotations": FastAPI reads these annotations at run time

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from greyzone.application.movement import (
    Mode,
    RouteRequest,
    city_graph,
    offline_profiles,
    parse_avoid,
    plan_matrix,
    plan_reach,
    plan_route,
    settlements_layer,
    streets_layer,
)
from greyzone.errors import InputError
from greyzone.service.deps import Analyst, Anyone, GateDep, utc

router = APIRouter()


Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]


class AvoidIn(BaseModel):
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon, MultiPolygon, or Point (with radius_m)")
    radius_m: float = Field(200.0, gt=0, le=20_000, allow_inf_nan=False)
    hard: bool = Field(True, description="true: never entered; false: crossing costs `penalty` times more")
    penalty: float = Field(10.0, ge=1, le=1000, allow_inf_nan=False)


class RouteIn(BaseModel):
    city: str = Field(max_length=200)
    origin: tuple[Lon, Lat] = Field(description="[lon, lat]")
    destination: tuple[Lon, Lat] = Field(description="[lon, lat]")
    mode: str = Field("foot", pattern=r"^(foot|bicycle|car|armoured)$")
    depart: datetime | None = Field(None, description="ISO 8601 (default now)")
    window_minutes: int = Field(0, ge=0, le=12 * 60, description="try departures every step over this long")
    step_minutes: int = Field(30, ge=5, le=240)
    avoid: list[AvoidIn] = Field(default_factory=list, max_length=20, description="areas this trip keeps out of")


@router.get("/api/cities", summary="The imported cities and their gates")
def cities(user: Anyone, gate: GateDep) -> dict[str, Any]:
    with gate.locked() as s:
        found = [s.read_city(n) for n in s.city_names()]
    rows = [
        {
            "name": c.name,
            "nodes": c.nodes,
            "edges": c.edges,
            "gates": [{"name": n, "lon": x, "lat": y} for n, x, y in c.gates],
            "timezone": c.timezone,
            "curfew": c.curfew,
        }
        for c in found
        if c is not None
    ]
    return {"cities": rows, "offline": offline_profiles()}


@router.get(
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
def streets(name: str, user: Anyone, gate: GateDep) -> Response:
    with gate.locked() as s:
        found = city_graph(s, name)
    key = ("streets", name, found.city.imported_at)
    body = gate.cached_bytes(key, lambda: json.dumps(streets_layer(found.graph)).encode(), float("inf"))  # by import
    return Response(body, media_type="application/geo+json")


@router.get(
    "/api/places",
    summary="Settlements inside a box, from the gazetteer the service was started with (the map's labels)",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {"schema": {"type": "object"}}}}},
)
def places(
    user: Anyone,
    gate: GateDep,
    bbox: str = Query(..., max_length=100, description="lon_min,lat_min,lon_max,lat_max"),
) -> Response:
    try:
        x0, y0, x1, y1 = (float(v) for v in bbox.split(","))
    except ValueError:
        raise InputError("bbox", "expected lon_min,lat_min,lon_max,lat_max") from None
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise InputError("bbox", "expected lon_min < lon_max and lat_min < lat_max, in degrees")
    box = (round(x0, 3), round(y0, 3), round(x1, 3), round(y1, 3))
    key = ("places", box)
    body = gate.cached_bytes(
        key, lambda: json.dumps(settlements_layer(gate.settings.gazetteer_dir, box)).encode(), float("inf")
    )
    return Response(body, media_type="application/geo+json")


class ReachIn(BaseModel):
    city: str = Field(max_length=200)
    origin: tuple[Lon, Lat] = Field(description="[lon, lat]")
    mode: str = Field("foot", pattern=r"^(foot|bicycle|car|armoured)$")
    depart: datetime | None = Field(None, description="ISO 8601 with an offset (default now)")
    minutes: float = Field(20.0, gt=0, le=240, allow_inf_nan=False)
    max_risk: float = Field(1e-4, gt=0, le=1, allow_inf_nan=False, description="a probability")
    avoid: list[AvoidIn] = Field(default_factory=list, max_length=20)


@router.post(
    "/api/reach",
    summary="The streets reachable from a point within some minutes below a risk (an isochrone), as GeoJSON",
)
def reach(body: ReachIn, user: Anyone, gate: GateDep) -> dict[str, Any]:
    depart = utc(body.depart, "depart") or datetime.now(UTC)
    areas = tuple(parse_avoid(a.geometry, a.radius_m, a.hard, a.penalty) for a in body.avoid)
    with gate.reading() as s:  # a search over the whole city: no one else waits on it
        return plan_reach(s, body.city, body.origin, Mode(body.mode), depart, body.minutes, body.max_risk, areas)


class MatrixIn(BaseModel):
    city: str = Field(max_length=200)
    origins: list[tuple[Lon, Lat]] = Field(min_length=1, max_length=50, description="[[lon, lat], …]")
    destinations: list[tuple[Lon, Lat]] = Field(min_length=1, max_length=50, description="[[lon, lat], …]")
    mode: str = Field("car", pattern=r"^(foot|bicycle|car|armoured)$")
    depart: datetime | None = Field(None, description="ISO 8601 with an offset (default now)")
    exact: bool = Field(False, description="each pair as the route planner plans it (at most 400 pairs)")


@router.post(
    "/api/matrix",
    summary="Minutes and risk from every origin to every destination (e.g. crews × pick-ups); analyst and up",
)
def matrix(body: MatrixIn, user: Analyst, gate: GateDep) -> dict[str, Any]:
    depart = utc(body.depart, "depart") or datetime.now(UTC)
    with gate.reading() as s:  # the points are used for this answer only: never stored or logged
        return plan_matrix(s, body.city, body.origins, body.destinations, Mode(body.mode), depart, body.exact)


@router.post("/api/route", summary="The least-exposure route, its risk, what carries it; the window's curve")
def route(body: RouteIn, user: Anyone, gate: GateDep) -> dict[str, Any]:
    depart = utc(body.depart, "depart") or datetime.now(UTC)
    starts = [depart + timedelta(minutes=m) for m in range(0, body.window_minutes + 1, body.step_minutes)]
    areas = tuple(parse_avoid(a.geometry, a.radius_m, a.hard, a.penalty) for a in body.avoid)
    request = RouteRequest(body.city, body.origin, body.destination, Mode(body.mode), starts, avoid=areas)
    with gate.reading() as s:  # up to a second of work: no one else waits on it
        a = plan_route(s, request)
    r = a.route
    return {
        "reachable": r.reachable,
        "reason": r.reason,
        "depart": a.depart.isoformat(),
        "length_m": round(r.length_m, 1) if r.reachable else None,
        "minutes": round(r.seconds / 60, 1) if r.reachable else None,
        "risk": r.risk,
        **a.plainly(),
        "riskiest": a.riskiest(),
        "curve": [{"depart": t.isoformat(), "risk": p.risk} for t, p in zip(starts, a.routes, strict=True)],
        "notes": a.notes,
        "warnings": a.warnings,
        "assumptions": r.assumptions,
        "geometry": {"type": "LineString", "coordinates": a.line()},
    }
