"""Coordination: the status board, service points, needs, evacuation requests and crews.

Who may do what: the public sees published service points only (``/api/residents``); a reporter
sends a service point's status, a need, an evacuation request (and gets a receipt, never whether
someone else asked for the same people); analysts read the board, the needs and the counts of
requests; coordinators handle requests and crews, and only the coordinator role reads personal data
(each reading audited). Long work runs on the worker thread's own store connection, so one
caller's request never holds the others.
"""

# no "from __future__ import annotations": FastAPI reads these annotations at run time

import hashlib
import hmac
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from greyzone.application import board as boards
from greyzone.application import evacuation as evac
from greyzone.application.reports import submit_reports
from greyzone.errors import RejectedReportsError
from greyzone.service.deps import Analyst, Anyone, ApiError, Coordinator, GateDep, Reporter, utc
from greyzone.settings import reporter_key
from greyzone.store.base import User

router = APIRouter()
City = Annotated[str, Query(max_length=200)]


def _rejected(exc: RejectedReportsError) -> ApiError:
    details = [{"row": row, "field": f, "reason": reason} for row, f, reason in exc.rejects]
    return ApiError(422, "invalid", str(exc), details)


def _when(t: datetime | None, name: str) -> datetime:
    return utc(t, name) or datetime.now(UTC)


@router.get("/api/residents", summary="The nearest published service points, open now or not, and the walk's risk")
def residents(
    user: Anyone,
    gate: GateDep,
    city: City,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    service: Annotated[str | None, Query(max_length=40)] = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    with gate.reading() as s:
        return boards.residents_view(s, gate.settings, city, lon, lat, _when(at, "at"), service)


@router.get("/api/board", summary="The status board: utilities per district, service points, outage hours (analyst)")
def board(
    user: Analyst,
    gate: GateDep,
    city: City,
    at: datetime | None = None,
    days: Annotated[int, Query(ge=1, le=90)] = 7,
) -> dict[str, Any]:
    with gate.reading() as s:
        return boards.status_board(s, gate.settings, city, _when(at, "at"), days)


@router.get("/api/districts", summary="A city's named districts as GeoJSON (analyst)")
def districts(user: Analyst, gate: GateDep, city: City) -> dict[str, Any]:
    with gate.locked() as s:
        return boards.districts_geojson(s, city)


class ServiceIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    service: str = Field(max_length=40)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    hours: str = Field("", max_length=11)
    published: bool = False
    public_lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    public_lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    public_shelter: bool = False
    id: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


@router.post("/api/services", status_code=201, summary="Add or replace service points (coordinator)")
def add_services(
    body: Annotated[list[ServiceIn], Field(max_length=5000)], city: City, user: Coordinator, gate: GateDep
) -> dict[str, Any]:
    with gate.locked() as s:
        good, rejects = boards.add_service_points(s, city, [b.model_dump() for b in body])
    rows = [{"row": r.row, "field": r.field, "reason": r.reason} for r in rejects]
    return {"added": [p.point_id for p in good], "rejected": rows}


@router.get("/api/services", summary="Every service point, published or not (analyst)")
def services(user: Analyst, gate: GateDep, city: City) -> dict[str, Any]:
    with gate.locked() as s:
        points = s.read_service_points(city)
    return {"points": [boards.point_row(p) for p in points]}


class PublishIn(BaseModel):
    published: bool = True
    public_lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    public_lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)


@router.post("/api/services/{point_id}/publish", summary="Show a service point to the public, or stop (coordinator)")
def publish(point_id: str, body: PublishIn, city: City, user: Coordinator, gate: GateDep) -> dict[str, Any]:
    where = (body.public_lon, body.public_lat) if body.public_lon is not None and body.public_lat is not None else None
    with gate.locked() as s:
        p = boards.publish_service_point(s, city, point_id, published=body.published, public_lonlat=where)
    return boards.point_row(p)


class StatusIn(BaseModel):
    status: str = Field(max_length=20)
    observed_at: datetime | None = None


@router.post("/api/services/{point_id}/status", status_code=201, summary="A service point's status (reporter)")
def service_status(point_id: str, body: StatusIn, city: City, user: Reporter, gate: GateDep) -> dict[str, Any]:
    with gate.locked() as s:
        record = boards.service_status_record(s, city, point_id, body.status, _when(body.observed_at, "observed_at"))
        try:
            done = submit_reports(s, gate.settings, user, [record])
        except RejectedReportsError as exc:
            raise _rejected(exc) from None
    return done.answer()


class NeedIn(BaseModel):
    district: str = Field(min_length=1, max_length=100)
    category: str = Field(max_length=40)
    people: int = Field(ge=1, le=100_000)
    recorded_at: datetime | None = None


@router.post("/api/needs", status_code=201, summary="Residents' need in a district: counts only (reporter)")
def add_need(body: NeedIn, city: City, user: Reporter, gate: GateDep) -> dict[str, Any]:
    with gate.locked() as s:
        need = boards.record_need(
            s, user, city, body.district, body.category, body.people, _when(body.recorded_at, "recorded_at")
        )
    return {"need_id": need.need_id}


@router.post("/api/needs/{need_id}/met", summary="A need is met (coordinator)")
def need_met(
    need_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="the need's number")], user: Coordinator, gate: GateDep
) -> dict[str, Any]:
    with gate.locked() as s:
        boards.meet_need(s, need_id, datetime.now(UTC))
    return {"need_id": need_id, "met": True}


@router.get("/api/needs", summary="Unmet needs per district, since when, day by day (analyst)")
def needs(user: Analyst, gate: GateDep, city: City, at: datetime | None = None) -> dict[str, Any]:
    with gate.reading() as s:
        return boards.needs_summary(s, city, _when(at, "at"))


class EvacIn(BaseModel):
    """An evacuation request as taken (fields as in `greyzone evac add`); names and phones as lists."""

    people: int = Field(1, ge=1, le=1000)
    mobility: str = Field("walks", max_length=20)
    lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    precision_m: float = Field(50.0, gt=0, le=50_000, allow_inf_nan=False)
    settlement: str = Field("", max_length=200)
    address: str = Field("", max_length=500)
    street: str = Field("", max_length=200)
    names: list[str] = Field(default_factory=list, max_length=50)
    phones: list[str] = Field(default_factory=list, max_length=20)
    contact: str = Field("", max_length=500)
    medical_note: str = Field("", max_length=500)
    children: int = Field(0, ge=0, le=1000)
    pets: int = Field(0, ge=0, le=1000)
    medical: bool = False
    urgency: str = Field("routine", max_length=20)
    relation: str = Field("self", max_length=20)
    asker_name: str = Field("", max_length=200)
    asker_phone: str = Field("", max_length=40)
    channel: str = Field("api", max_length=20)
    callback_confirmed: bool = False
    asked_at: datetime | None = None


def _receipt(gate: GateDep, user: User, request_id: str) -> str:
    return hmac.new(reporter_key(gate.settings), f"{user.name}:{request_id}".encode(), hashlib.sha256).hexdigest()[:16]


@router.post("/api/evac", status_code=201, summary="Take an evacuation request (reporter; coordinators see more)")
def take(
    body: EvacIn,
    city: City,
    user: Reporter,
    gate: GateDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    gate.purge_due()
    fields = body.model_dump()
    fields["asked_at"] = _when(body.asked_at, "asked_at").isoformat()
    with gate.reading() as s:
        try:
            centre, inside = evac.city_check(s, city)
            form = evac.form_from(fields, city, where=evac.gazetteer_place(gate.settings, centre), inside=inside)
        except RejectedReportsError as exc:
            raise _rejected(exc) from None
        taken = evac.take_request(s, gate.settings, user, form, idempotency_key=idempotency_key)
    headers = {"Idempotent-Replay": "true"} if taken.replay else None
    if evac.is_coordinator(user):
        return JSONResponse(taken.answer(), 201, headers)
    return JSONResponse({"received": True, "receipt": _receipt(gate, user, taken.request_id)}, 201, headers)


@router.get("/api/evac", summary="The request queue (coordinator; personal data for the coordinator role only)")
def queue(
    user: Coordinator,
    gate: GateDep,
    city: City,
    state: Annotated[list[str] | None, Query(max_length=10)] = None,
) -> dict[str, Any]:
    gate.purge_due()
    with gate.reading() as s:
        return {"requests": evac.list_requests(s, gate.settings, user, city, state or [])}


@router.get("/api/evac/summary", summary="Requests and people by district and state (analyst)")
def evac_summary(user: Analyst, gate: GateDep, city: City) -> dict[str, Any]:
    with gate.reading() as s:
        return evac.request_counts(s, city)


@router.get("/api/evac/{request_id}", summary="One request, its askers and its history (coordinator)")
def show(request_id: str, user: Coordinator, gate: GateDep) -> dict[str, Any]:
    with gate.reading() as s:
        return evac.show_request(s, gate.settings, user, request_id)


@router.post("/api/evac/{request_id}/vet", summary="Score a request again; it goes under vetting (coordinator)")
def vet(request_id: str, user: Coordinator, gate: GateDep, at: datetime | None = None) -> dict[str, Any]:
    with gate.reading() as s:
        return evac.vet_request(s, gate.settings, user, request_id, utc(at, "at"))


class StateIn(BaseModel):
    to: str = Field(max_length=20)
    reason: str = Field("", max_length=500)


@router.post("/api/evac/{request_id}/state", summary="Move a request on: approve, reject, close … (coordinator)")
def move(request_id: str, body: StateIn, user: Coordinator, gate: GateDep) -> dict[str, Any]:
    with gate.locked() as s:
        return evac.move_request(s, user, request_id, body.to, body.reason)


@router.get("/api/evac/{request_id}/crews", summary="Crews that can answer, safest route first (coordinator)")
def crews_for(
    request_id: str,
    user: Coordinator,
    gate: GateDep,
    day: date,
    window: Annotated[str | None, Query(max_length=11)] = None,
) -> dict[str, Any]:
    with gate.reading() as s:
        return {"crews": evac.match_crews(s, gate.settings, user, request_id, day, window)}


class AssignIn(BaseModel):
    crew_id: str = Field(max_length=64)
    day: date


@router.post("/api/evac/{request_id}/assign", summary="Assign an approved request to a crew (coordinator)")
def assign(request_id: str, body: AssignIn, user: Coordinator, gate: GateDep) -> dict[str, Any]:
    with gate.reading() as s:
        return evac.assign_crew(s, gate.settings, user, request_id, body.crew_id, body.day)


class CrewIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    vehicle: str = Field(max_length=20)
    capacity: int = Field(ge=1, le=100)
    base_lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    base_lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    stretcher: bool = False
    wheelchair: bool = False
    active: bool = True
    crew_id: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


@router.post("/api/crews", status_code=201, summary="Add or replace a crew (coordinator)")
def add_crew(body: CrewIn, city: City, user: Coordinator, gate: GateDep) -> dict[str, Any]:
    try:
        crew = evac.crew_from(body.model_dump(), city)
    except RejectedReportsError as exc:
        raise _rejected(exc) from None
    with gate.locked() as s:
        evac.add_crew(s, user, crew)
    return evac.crew_row(crew)


@router.get("/api/crews", summary="The crews: vehicle, room, home base — never a live position (coordinator)")
def crews(user: Coordinator, gate: GateDep, city: City) -> dict[str, Any]:
    with gate.locked() as s:
        return {"crews": [evac.crew_row(c) for c in s.read_crews(city)]}
