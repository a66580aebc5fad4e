"""Alert rules (verifier and up: an incident rule tells of reports as they arrive, which only vetted roles
see), each the caller's own, and their dead letters."""

# no "from __future__ import annotations": FastAPI reads these annotations at run time

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from greyzone.application.alerts import RuleIn, add_rule, rule_view
from greyzone.service.deps import ApiError, GateDep, Verifier

router = APIRouter()
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]


class AlertIn(BaseModel):
    city: str = Field(max_length=200)
    name: str = Field("alert", max_length=200)
    kinds: list[str] = Field(min_length=1, max_length=20)
    at_least: int = Field(1, ge=1, le=10_000)
    hours: float = Field(1.0, gt=0, le=720, allow_inf_nan=False)
    url: str = Field(max_length=2000)
    secret: str = Field("", max_length=200)
    format: str = Field("json", pattern="^(json|cap)$")
    polygon: dict[str, Any] | None = Field(None, description="GeoJSON Polygon")
    point: tuple[Lon, Lat] | None = Field(None, description="[lon, lat]: the area is a disc around it")
    radius_m: float = Field(1000.0, gt=0, le=50_000, allow_inf_nan=False)


@router.post("/api/alerts", status_code=201, summary="Add an alert rule of yours (verifier); its secret shown once")
def new_alert(body: AlertIn, user: Verifier, gate: GateDep) -> dict[str, Any]:
    rule = RuleIn(body.city, body.name, tuple(body.kinds), body.at_least, body.hours, body.url, body.secret,
                  body.format, body.polygon, body.point, body.radius_m)  # fmt: skip
    with gate.locked() as s:
        row = add_rule(s, gate.settings, user, rule)
    return rule_view(row, with_secret=True)


@router.get("/api/alerts", summary="Your alert rules and their deliveries (verifier)")
def alerts(user: Verifier, gate: GateDep) -> dict[str, Any]:
    with gate.locked() as s:
        rules = s.read_rules(owner=user.name)
        deliveries = s.read_deliveries([r.rule_id for r in rules])
    counts: dict[str, dict[str, int]] = {}
    for d in deliveries:
        counts.setdefault(d.rule_id, {}).setdefault(d.status, 0)
        counts[d.rule_id][d.status] += 1
    return {"rules": [{**rule_view(r), "deliveries": counts.get(r.rule_id, {})} for r in rules]}


@router.get("/api/alerts/dead", summary="Alerts of yours whose retries are spent, or whose receiver is gone")
def dead_letters(user: Verifier, gate: GateDep) -> dict[str, Any]:
    with gate.locked() as s:
        ids = [r.rule_id for r in s.read_rules(owner=user.name)]
        found = [d for status in ("dead", "gone") for d in s.read_deliveries(ids, status)]
    rows = [{"alert": d.alert_key, "rule_id": d.rule_id, "attempts": d.attempts, "status": d.status,
             "last_error": d.last_error} for d in found]  # fmt: skip
    return {"dead": rows}


@router.delete("/api/alerts/{rule_id}", summary="Remove an alert rule of yours (verifier)")
def remove_alert(rule_id: str, user: Verifier, gate: GateDep) -> dict[str, Any]:
    with gate.locked() as s:
        if not s.remove_rule(rule_id, user.name):
            raise ApiError(404, "not_found", f"no rule {rule_id!r} of yours")
    return {"rule_id": rule_id, "removed": True}
