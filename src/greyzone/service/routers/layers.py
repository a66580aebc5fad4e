"""Map layers as GeoJSON: incidents (by role), the fused control map, the hazard forecast, ways out."""

# no "from __future__ import annotations": FastAPI reads these annotations at run time

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from greyzone.application.control import control_map
from greyzone.application.hazard import hazard_forecast, newest_model
from greyzone.application.movement import corridor_layer
from greyzone.application.reports import incident_layer, incident_window
from greyzone.model.enums import Kind
from greyzone.service.deps import JSON_DOC, Anyone, GateDep, json_response, now_minute, utc

router = APIRouter()


@router.get(
    "/api/layers/incidents",
    summary="Incidents as GeoJSON: counts per cell and hour (public), or points",
    response_class=Response,
    responses=JSON_DOC,
)
def incidents_layer(
    user: Anyone, gate: GateDep, since: datetime | None = None, until: datetime | None = None, kind: Kind | None = None
) -> Response:
    rule = gate.limits.public
    window = incident_window(user.role, utc(since, "since"), utc(until, "until"), rule, gate.now())

    if window.full:
        with gate.locked() as s:
            return json_response(incident_layer(s, window, kind, rule))
    key = ("incidents", window.start.isoformat(), window.end.replace(second=0, microsecond=0).isoformat(), kind)
    return gate.layer(key, lambda s: incident_layer(s, window, kind, rule))


@router.get(
    "/api/layers/control",
    summary="The fused control map as GeoJSON polygons, with its as-of",
    response_class=Response,
    responses=JSON_DOC,
)
def control_layer(
    user: Anyone, gate: GateDep, at: datetime | None = None, res: Annotated[int, Query(ge=5, le=9)] = 8
) -> Response:
    when = utc(at, "at") or now_minute()

    return gate.layer(("control", when.isoformat(), res), lambda s: control_map(s, when, res).to_geojson())


@router.get(
    "/api/layers/hazard",
    summary="The hazard forecast by cell and hour as GeoJSON",
    response_class=Response,
    responses=JSON_DOC,
)
def hazard_layer(
    user: Anyone, gate: GateDep, start: datetime | None = None, hours: Annotated[int, Query(ge=1, le=48)] = 6
) -> Response:
    when = utc(start, "start") or now_minute()

    return gate.layer(
        ("hazard", when.isoformat(), hours), lambda s: hazard_forecast(s, newest_model(s), when, hours).to_geojson()
    )


@router.get(
    "/api/layers/corridors",
    summary="Each way out of a city: open, threatened, risky or cut, since when, why, with its route",
    response_class=Response,
    responses=JSON_DOC,
)
def corridors_layer(
    user: Anyone, gate: GateDep, city: str, at: datetime | None = None, res: Annotated[int, Query(ge=6, le=9)] = 8
) -> Response:
    when = utc(at, "at") or now_minute()

    return gate.layer(("corridors", city, when.isoformat(), res), lambda s: corridor_layer(s, city, when, res))
