"""Users and the audit log (admin)."""

# no "from __future__ import annotations": FastAPI reads these annotations at run time

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from greyzone.application.access import add_user, revoke_user, rotate_token
from greyzone.errors import StoreError
from greyzone.service.deps import Admin, ApiError, GateDep

router = APIRouter()


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: str = Field(pattern=r"^(reporter|verifier|analyst|coordinator|admin)$")


@router.post("/api/users", status_code=201, summary="Add a user (admin); the token is shown once")
def new_user(body: UserIn, user: Admin, gate: GateDep) -> dict[str, str]:
    try:
        with gate.locked() as s:
            added = add_user(s, body.name, body.role, actor=user.name)
    except StoreError as exc:
        gate.audit(user.name, "user.add", body.name, "refused")
        raise ApiError(409, "exists", str(exc)) from None
    return {"name": added.name, "role": added.role, "token": added.token}


@router.delete("/api/users/{name}", summary="Revoke a user (admin): their token stops working at once")
def delete_user(name: str, user: Admin, gate: GateDep) -> dict[str, str]:
    with gate.locked() as s:
        revoke_user(s, name, actor=user.name)
    return {"name": name, "revoked": "true"}


@router.post("/api/users/{name}/token", summary="A new token for a user (admin), shown once; the old one stops")
def new_token_for(name: str, user: Admin, gate: GateDep) -> dict[str, str]:
    with gate.locked() as s:
        rotated = rotate_token(s, name, actor=user.name)
    return {"name": rotated.name, "token": rotated.token}


@router.get("/api/audit", summary="The audit log, newest first (admin)")
def audit_log(user: Admin, gate: GateDep, limit: Annotated[int, Query(ge=1, le=10_000)] = 200) -> dict[str, Any]:
    with gate.locked() as s:
        entries = s.audit_log(limit)
    gate.audit(user.name, "audit.read", f"{len(entries)} entries", "ok")
    rows = [
        {
            "at": datetime.fromtimestamp(e.at, UTC).isoformat(),
            "actor": e.actor,
            "action": e.action,
            "object": e.object,
            "outcome": e.outcome,
        }
        for e in entries
    ]
    return {"entries": rows}
