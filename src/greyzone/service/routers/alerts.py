"""Alert rules, each the caller's own, and their dead letters. Any registered user may watch the public
products (hazard, ways out, control, services, the curfew window); an incident rule tells of reports as
they arrive, which only verifiers and up see; new evacuation requests are for coordinators."""

# no "from __future__ import annotations": FastAPI reads these annotations at run time

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from greyzone.application.access import RANK
from greyzone.application.alerts import RuleIn, add_rule, change_rule, rule_view, trigger_role
from greyzone.service.deps import ApiError, GateDep, Reporter

router = APIRouter()
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]


Word = Annotated[str, Field(max_length=100)]


class AlertIn(BaseModel):
    city: str = Field(max_length=200)
    name: str = Field("alert", max_length=200)
    trigger: str = Field("incidents", pattern="^(incidents|hazard|corridor|control|service|evacuation|curfew)$")
    kinds: list[Word] = Field([], max_length=20, description="incidents (required), hazard: incident kinds")
    at_least: int = Field(1, ge=1, le=10_000)
    hours: float = Field(1.0, gt=0, le=720, allow_inf_nan=False)
    url: str = Field(max_length=2000)
    secret: str = Field("", max_length=200)
    format: str = Field("json", pattern="^(json|cap)$")
    polygon: dict[str, Any] | None = Field(None, description="GeoJSON Polygon")
    point: tuple[Lon, Lat] | None = Field(None, description="[lon, lat]: the area is a disc around it")
    radius_m: float = Field(1000.0, gt=0, le=50_000, allow_inf_nan=False)
    district: str | None = Field(None, max_length=200, description="or a district of the city")
    place: str | None = Field(None, max_length=200, description="or a place the gazetteer knows")
    threshold: float | None = Field(None, gt=0, lt=1, allow_inf_nan=False, description="hazard: a chance, 0-1")
    gates: list[Word] = Field([], max_length=50, description="corridor: these ways out (all when empty)")
    states: list[Word] = Field([], max_length=4, description="control: states a cell turning to is told of")
    items: list[Word] = Field([], max_length=30, description="service: these utilities or services")


@router.post("/api/alerts", status_code=201, summary="Add an alert rule of yours; its secret shown once")
def new_alert(body: AlertIn, user: Reporter, gate: GateDep) -> dict[str, Any]:
    needed = trigger_role(body.trigger)
    if RANK[user.role] < RANK[needed]:
        gate.audit(user.name, "denied", "/api/alerts", f"{body.trigger} needs {needed}")
        said = f"a {body.trigger} rule needs the role {needed} or above (you are {user.role})"
        raise ApiError(403, "forbidden", said)
    rule = RuleIn(body.city, body.name, tuple(body.kinds), body.at_least, body.hours, body.url, body.secret,
                  body.format, body.polygon, body.point, body.radius_m, body.trigger, body.district, body.place,
                  body.threshold, tuple(body.gates), tuple(body.states), tuple(body.items))  # fmt: skip
    with gate.locked() as s:
        row = add_rule(s, gate.settings, user, rule)
    return rule_view(row, with_secret=True)


@router.get("/api/alerts", summary="Your alert rules and their deliveries")
def alerts(user: Reporter, gate: GateDep) -> dict[str, Any]:
    with gate.locked() as s:
        rules = s.read_rules(owner=user.name)
        deliveries = s.read_deliveries([r.rule_id for r in rules])
    counts: dict[str, dict[str, int]] = {}
    for d in deliveries:
        counts.setdefault(d.rule_id, {}).setdefault(d.status, 0)
        counts[d.rule_id][d.status] += 1
    return {"rules": [{**rule_view(r), "deliveries": counts.get(r.rule_id, {})} for r in rules]}


@router.get("/api/alerts/dead", summary="Alerts of yours whose retries are spent, or whose receiver is gone")
def dead_letters(user: Reporter, gate: GateDep) -> dict[str, Any]:
    with gate.locked() as s:
        ids = [r.rule_id for r in s.read_rules(owner=user.name)]
        found = [d for status in ("dead", "gone") for d in s.read_deliveries(ids, status)]
    rows = [{"alert": d.alert_key, "rule_id": d.rule_id, "attempts": d.attempts, "status": d.status,
             "last_error": d.last_error} for d in found]  # fmt: skip
    return {"dead": rows}


class AlertChange(BaseModel):
    name: str | None = Field(None, max_length=200)
    url: str | None = Field(None, max_length=2000)
    active: bool | None = Field(None, description="false stops it; true starts it again (after a 410, say)")


@router.patch("/api/alerts/{rule_id}", summary="Rename a rule of yours, send it elsewhere, stop or start it")
def change_alert(rule_id: str, body: AlertChange, user: Reporter, gate: GateDep) -> dict[str, Any]:
    with gate.locked() as s:
        row = change_rule(s, gate.settings, user, rule_id, name=body.name, url=body.url, active=body.active)
    if row is None:
        raise ApiError(404, "not_found", f"no rule {rule_id!r} of yours")
    return rule_view(row)


@router.delete("/api/alerts/{rule_id}", summary="Remove an alert rule of yours")
def remove_alert(rule_id: str, user: Reporter, gate: GateDep) -> dict[str, Any]:
    with gate.locked() as s:
        if not s.remove_rule(rule_id, user.name):
            raise ApiError(404, "not_found", f"no rule {rule_id!r} of yours")
    return {"rule_id": rule_id, "removed": True}
