"""Free-text messages: parsed (reporter and up), taken in (confident parses become the caller's reports,
under the reports' own rules of who may set what; the rest wait for review), and the review queue
(verifier and up)."""

# no "from __future__ import annotations": FastAPI reads these annotations at run time

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field

from greyzone.application.text import Message, close_review, parse_texts, review_view, take_texts
from greyzone.service.deps import GateDep, Reporter, Verifier

router = APIRouter()


class MessageIn(BaseModel):
    text: str = Field(max_length=50_000, description="the message (over 5,000 characters it is refused with why)")
    received_at: AwareDatetime | None = Field(None, description="when it was received (ISO 8601 with its offset)")
    source: str | None = Field(
        None, max_length=200, description="who posted it (verifiers and up; a reporter's is theirs)"
    )


class MessagesIn(BaseModel):
    messages: list[MessageIn] = Field(min_length=1, max_length=500)
    city: str | None = Field(None, max_length=200, description="where they come from: resolves ambiguous names")


def _messages(body: MessagesIn, source: str) -> list[Message]:
    now = datetime.now(UTC)
    return [Message(m.text, m.received_at or now, m.source or source, i + 1) for i, m in enumerate(body.messages)]


@router.post("/api/text/parse", summary="What each message reports, field by field, with confidences (reporter)")
def parse(body: MessagesIn, user: Reporter, gate: GateDep) -> dict[str, Any]:
    with gate.reading() as s:
        parsed = parse_texts(s, gate.settings, _messages(body, user.name), body.city)
    return {"parsed": [p.as_json() for p in parsed]}


@router.post("/api/text", status_code=201, summary="Take messages in: confident parses become reports, the rest wait")
def take(body: MessagesIn, user: Reporter, gate: GateDep) -> dict[str, Any]:
    with gate.locked() as s:
        done = take_texts(s, gate.settings, user, _messages(body, user.name), "request", body.city)
    return done.answer()


@router.get("/api/text/review", summary="The messages waiting for a verifier's word (verifier)")
def queue(
    user: Verifier,
    gate: GateDep,
    state: Annotated[str, Query(pattern="^(pending|accepted|corrected|rejected|all)$")] = "pending",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    with gate.locked() as s:
        rows = s.read_reviews(None if state == "all" else state, limit)
    return {"reviews": [review_view(r) for r in rows]}


class ReviewIn(BaseModel):
    action: str = Field(pattern="^(accept|correct|reject)$")
    kind: str | None = Field(None, max_length=40)
    place: str | None = Field(None, max_length=200)
    lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    precision_m: float | None = Field(None, ge=1, le=200_000, allow_inf_nan=False)
    killed: int | None = Field(None, ge=0, le=100_000)
    injured: int | None = Field(None, ge=0, le=100_000)


@router.post("/api/text/review/{review_id}", summary="Accept, correct or reject a queued message (verifier)")
def review(review_id: str, body: ReviewIn, user: Verifier, gate: GateDep) -> dict[str, Any]:
    correction = body.model_dump(exclude={"action"}) if body.action == "correct" else None
    with gate.locked() as s:
        return close_review(s, gate.settings, user, review_id, body.action, correction)
