"""Reports in and out: health, whoami, submissions, the caller's reports, incidents, the CSV export."""

# no "from __future__ import annotations": FastAPI reads these annotations at run time

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from greyzone.application.access import RANK
from greyzone.application.reports import (
    ExportFormat,
    decode_json,
    export_reports,
    incidents,
    report_to_dict,
    reports_of,
    submit_reports,
)
from greyzone.errors import ConflictError, RejectedReportsError
from greyzone.model.enums import Kind
from greyzone.service.deps import Analyst, Anyone, ApiError, GateDep, Reporter, Verifier, utc
from greyzone.store.base import ReportQuery

router = APIRouter()


def _kinds(kind: Kind | None) -> frozenset[Kind]:
    return frozenset({kind}) if kind else frozenset()


@router.get("/api/health", summary="Liveness (and, for verifiers and above, what the store holds)")
def health(user: Anyone, gate: GateDep) -> dict[str, Any]:
    """The public learns only that the service is up: nothing about the data (how many reports, how new),
    which would tell when and how much was reported. It never waits for the store."""
    if RANK[user.role] < RANK["verifier"]:
        return {"status": "ok"}
    with gate.locked() as s:
        stats = s.stats()
        return {
            "status": "ok",
            "schema": s.schema_version(),
            "reports": stats.reports,
            "cities": s.city_names(),
            "first": stats.first_observed.isoformat() if stats.first_observed else None,
            "last": stats.last_observed.isoformat() if stats.last_observed else None,
        }


@router.get("/api/span", summary="The days the store has reports for, and its cities (what the map's slider spans)")
def span(user: Anyone, gate: GateDep) -> dict[str, Any]:
    """Whole UTC days only (the first day's start, the day after the last): which days have data, not when
    within them, nor how much."""
    with gate.locked() as s:
        stats, cities = s.stats(), s.city_names()
    first = stats.first_observed.replace(hour=0, minute=0, second=0, microsecond=0) if stats.first_observed else None
    last = stats.last_observed.replace(hour=0, minute=0, second=0, microsecond=0) if stats.last_observed else None
    return {
        "first": first.isoformat() if first else None,
        "last": (last + timedelta(days=1)).isoformat() if last else None,
        "cities": cities,
    }


@router.get("/api/whoami", summary="The caller's name and role")
def whoami(user: Anyone) -> dict[str, str]:
    return {"name": user.name, "role": user.role}


def _records(raw: bytes, most: int) -> list[dict[str, object]]:
    """The reports of a body: one object, a list of them, or {"reports": [...]}."""
    try:
        body = decode_json(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "not_json", f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "not_json", "the body's JSON is nested too deeply to read") from None
    records = body.get("reports") if isinstance(body, dict) and "reports" in body else body
    records = [records] if isinstance(records, dict) else records
    if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
        raise ApiError(422, "invalid", 'expected a report object, a list of them, or {"reports": [...]}')
    if len(records) > most:
        raise ApiError(413, "too_large", f"at most {most} reports a request; send the rest next")
    return records


@router.post("/api/reports", status_code=201, summary="Submit one report or a batch (all or nothing)")
async def submit(
    request: Request,
    user: Reporter,
    gate: GateDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    raw = await request.body()

    def store_them() -> JSONResponse:  # validation, linking and the write leave the event loop
        records = _records(raw, gate.limits.max_batch)
        digest = hashlib.sha256(raw).hexdigest()
        try:
            with gate.locked() as s:
                done = submit_reports(
                    s, gate.settings, user, records, idempotency_key=idempotency_key, body_sha256=digest
                )
        except RejectedReportsError as exc:
            details = [{"row": row, "field": f, "reason": reason} for row, f, reason in exc.rejects]
            raise ApiError(422, "invalid_reports", str(exc), details) from None
        except ConflictError as exc:
            raise ApiError(409, "idempotency_conflict", str(exc)) from None
        headers = {"Idempotent-Replay": "true"} if done.replay else None
        return JSONResponse(done.answer(), 201, headers)

    return await run_in_threadpool(store_them)


@dataclass(frozen=True)
class Listing:
    """Which reports a list asks for, and how many at most."""

    query: ReportQuery
    limit: int


def listing(
    since: datetime | None = None,
    until: datetime | None = None,
    kind: Kind | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Listing:
    return Listing(ReportQuery(since=utc(since), until=utc(until), kinds=_kinds(kind)), limit)


ListingDep = Annotated[Listing, Depends(listing)]


@router.get("/api/reports", summary="Reports: a reporter's own, or all (verifier and above)")
def list_reports(user: Reporter, gate: GateDep, asked: ListingDep) -> dict[str, Any]:
    with gate.locked() as s:
        found = reports_of(s, gate.settings, user, asked.query, asked.limit)
    return {"reports": [report_to_dict(r) for r in found], "count": len(found)}


@router.get("/api/incidents", summary="Incidents (verifier and above): each with its reports, span and place")
def incident_list(user: Verifier, gate: GateDep, asked: ListingDep) -> dict[str, Any]:
    with gate.locked() as s:
        return {"incidents": incidents(s, asked.query, asked.limit)}


@router.get(
    "/api/export.csv",
    summary="Every report as CSV (analyst; formula-safe cells)",
    response_class=Response,
    responses={200: {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export_csv(user: Analyst, gate: GateDep, since: datetime | None = None, until: datetime | None = None) -> Response:
    stream = io.StringIO()
    with gate.locked() as s:
        n = export_reports(s, ReportQuery(since=utc(since), until=utc(until)), ExportFormat.CSV, stream)
    gate.audit(user.name, "export.csv", f"{n} reports", "ok")
    headers = {"Content-Disposition": "attachment; filename=greyzone-reports.csv"}
    return Response(stream.getvalue(), media_type="text/csv", headers=headers)
