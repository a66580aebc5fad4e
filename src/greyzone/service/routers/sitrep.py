"""The daily situation report and the curfew window."""

# no "from __future__ import annotations": FastAPI reads these annotations at run time

import time
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from greyzone.application.access import RANK
from greyzone.application.sitrep import SITREP_MEDIA, make_sitrep, render, set_curfew
from greyzone.service.deps import Admin, Anyone, GateDep
from greyzone.store.base import AuditEntry

router = APIRouter()


@router.get(
    "/api/sitrep",
    summary="The daily situation report (the public edition for the public and reporters; analysts: the full one)",
    responses={200: {"content": {m: {} for m in SITREP_MEDIA.values()}}},
    response_class=Response,
)
def sitrep(
    user: Anyone,
    gate: GateDep,
    city: Annotated[str, Query(max_length=200)],
    day: Annotated[date, Query(alias="date")],
    lang: Annotated[str, Query(pattern="^(uk|en)$")] = "uk",
    fmt: Annotated[str, Query(alias="format", pattern="^(html|pdf|md|json|csv|geojson)$")] = "html",
    edition: Annotated[str, Query(pattern="^(full|public)$")] = "full",
    table: Annotated[str, Query(pattern="^(incidents|casualties|control|ways_out|needs)$")] = "incidents",
) -> Response:
    public = edition == "public" or RANK[user.role] < RANK["analyst"]
    with gate.reading() as s:
        body = render(make_sitrep(s, gate.settings, city, day, lang, public=public), fmt, table)
    name = f"sitrep-{city}-{day.isoformat()}-{lang}.{fmt}"
    headers = {"Content-Disposition": f'inline; filename="{name}"', "X-Sitrep-Edition": "public" if public else "full"}
    return Response(body, media_type=SITREP_MEDIA[fmt], headers=headers)


class CurfewIn(BaseModel):
    window: str | None = Field(None, max_length=11, description="HH:MM-HH:MM local time; null: no curfew")


@router.put("/api/cities/{name}/curfew", summary="Set a city's curfew window (admin)")
def curfew(name: str, body: CurfewIn, user: Admin, gate: GateDep) -> dict[str, Any]:
    with gate.locked() as s:
        set_curfew(s, name, body.window)
        s.audit(AuditEntry(time.time(), user.name, "city.curfew", name, body.window or "cleared"))
    return {"city": name, "curfew": body.window}
