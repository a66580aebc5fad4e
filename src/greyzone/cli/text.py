"""``greyzone text parse|ingest|review``: free-text messages in Ukrainian, Russian and English."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from greyzone.application.reports import Reject, write_rejects
from greyzone.application.text import (
    Message,
    close_review,
    messages_from_text,
    parse_texts,
    review_view,
    take_texts,
)
from greyzone.cli.common import DbOption, JsonOption, UrlOption, app, cli_settings, out, parse_time, refusing, store_of
from greyzone.settings import Settings
from greyzone.store.base import User

text_app = typer.Typer(no_args_is_help=True, help="Free-text messages (uk, ru, en): parse, ingest, review.")
app.add_typer(text_app, name="text")
GazetteerOption = Annotated[Path | None, typer.Option("--gazetteer", help="Folder of gazetteer files (places).")]
CityOption = Annotated[str | None, typer.Option(help="The city the messages come from: resolves an ambiguous name.")]
ReceivedOption = Annotated[
    str | None,
    typer.Option("--received-at", help="When plain lines were received (ISO 8601 with offset; default now)."),
]


def _read(file: str, source: str, received: datetime) -> tuple[list[Message], list[Reject]]:
    raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    return messages_from_text(raw, file, source, received)


@text_app.command("parse")
def text_parse(
    file: Annotated[str, typer.Argument(help="One message a line, or JSON lines with text (- : stdin).")] = "-",
    city: CityOption = None,
    received_at: ReceivedOption = None,
    gazetteer: GazetteerOption = None,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """What each message reports: language, kind, place, time, killed/injured, … each with its confidence
    and the words that led to it."""
    settings = cli_settings(db, database_url, gazetteer)
    received = parse_time(received_at, "--received-at") or datetime.now(UTC)
    messages, rejects = _read(file, "cli", received)
    with store_of(db, database_url, create=True) as store, refusing(city="--city"):
        parsed = parse_texts(store, settings, messages, city)
    for m, p in zip(messages, parsed, strict=True):
        if as_json:
            out(json.dumps({"row": m.row, **p.as_json()}, ensure_ascii=False))
            continue
        if p.refused:
            out(f"{m.row}: refused — {p.refused}")
            continue
        for e in p.events:
            place = "no place" if e.place is None else f"{e.place.name}{' (ambiguous)' if e.place.ambiguous else ''}"
            counts = " ".join(f"{n} {c.value if c.value is not None else '?'}" for n, c in
                              (("killed", e.killed), ("injured", e.injured)) if c is not None)  # fmt: skip
            when = e.time.at.strftime("%Y-%m-%d %H:%M Kyiv") if e.time else "time not stated"
            sure = "confident" if not e.missing() else "review: " + "; ".join(e.missing())
            out(f"{m.row}: [{p.language.code}] {e.kind.value} ({e.kind.confidence:.2f}) · {place} · {when} {counts}"
                f" · {sure}")  # fmt: skip
    for r in rejects:
        out(f"{r.row}: rejected — {r.field}: {r.reason}")


def take_files(
    settings: Settings,
    files: list[Path],
    source: str,
    city: str | None,
    received_at: str | None,
    as_json: bool,
    db: Path | None,
    database_url: str | None,
    rejects_path: Path | None = None,
) -> None:
    received = parse_time(received_at, "--received-at") or datetime.now(UTC)
    totals = {"reports": 0, "duplicates": 0, "queued_for_review": 0, "rejected": 0}
    kept: list[Reject] = []
    with store_of(db, database_url, create=True) as store, refusing(city="--city"):
        for path in files:
            messages, rejects = messages_from_text(path.read_bytes(), str(path), source, received)
            done = take_texts(store, settings, User(source, "admin"), messages, str(path), city)
            kept += rejects + done.rejects
            totals["reports"] += done.reports
            totals["duplicates"] += done.duplicates
            totals["queued_for_review"] += done.queued
    totals["rejected"] = len(kept)
    if rejects_path is not None:
        write_rejects(kept, rejects_path)
    if as_json:
        out(json.dumps({**totals, "rejects": [{"file": r.file, "row": r.row, "field": r.field, "reason": r.reason}
                                              for r in kept]}, ensure_ascii=False))  # fmt: skip
        return
    for r in kept[:20]:
        out(f"rejected {r.file}:{r.row} {r.field}: {r.reason}")
    out(f"{totals['reports']} reports, {totals['queued_for_review']} messages queued for review, "
        f"{totals['rejected']} rejected, {totals['duplicates']} duplicates")  # fmt: skip


@text_app.command("ingest")
def text_ingest(
    files: Annotated[list[Path], typer.Argument(help="Files of messages.", exists=True, dir_okay=False)],
    source: Annotated[str, typer.Option(help="Source of messages that name none.")] = "text",
    city: CityOption = None,
    received_at: ReceivedOption = None,
    gazetteer: GazetteerOption = None,
    rejects: Annotated[Path | None, typer.Option("--rejects", help="Write every rejected line here (CSV).")] = None,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Confident parses become reports; the rest wait in the review queue; unreadable lines are rejects."""
    settings = cli_settings(db, database_url, gazetteer)
    take_files(settings, files, source, city, received_at, as_json, db, database_url, rejects)


review_app = typer.Typer(no_args_is_help=True, help="The review queue: messages not sure enough to be reports.")
text_app.add_typer(review_app, name="review")


@review_app.command("list")
def review_list(
    state: Annotated[str, typer.Option(help="pending, accepted, corrected, rejected or all.")] = "pending",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    db: DbOption = None,
    database_url: UrlOption = None,
) -> None:
    """The queued messages, oldest first, each with its parse and why it waits."""
    with store_of(db, database_url) as store:
        for r in store.read_reviews(None if state == "all" else state, limit):
            out(json.dumps(review_view(r), ensure_ascii=False))


def _close(review_id: str, action: str, correction: dict[str, object] | None, reviewer: str, db: Path | None,
           database_url: str | None, gazetteer: Path | None = None) -> None:  # fmt: skip
    settings = cli_settings(db, database_url, gazetteer)
    with store_of(db, database_url) as store, refusing():
        done = close_review(store, settings, User(reviewer, "verifier"), review_id, action, correction)
    out(json.dumps(done, ensure_ascii=False))


ReviewerOption = Annotated[str, typer.Option(help="Who reviews (kept with the label).")]


@review_app.command("accept")
def review_accept(review_id: str, reviewer: ReviewerOption = "cli", db: DbOption = None,
                  database_url: UrlOption = None) -> None:  # fmt: skip
    """The parse is right and complete: it becomes a report."""
    _close(review_id, "accept", None, reviewer, db, database_url)


@review_app.command("reject")
def review_reject(review_id: str, reviewer: ReviewerOption = "cli", db: DbOption = None,
                  database_url: UrlOption = None) -> None:  # fmt: skip
    """It reports nothing: kept as a *none* example."""
    _close(review_id, "reject", None, reviewer, db, database_url)


@review_app.command("correct")
def review_correct(
    review_id: str,
    kind: Annotated[str, typer.Option(help="The kind it reports (or none).")],
    place: Annotated[str | None, typer.Option(help="The place's name.")] = None,
    lon: Annotated[float | None, typer.Option()] = None,
    lat: Annotated[float | None, typer.Option()] = None,
    killed: Annotated[int | None, typer.Option(min=0)] = None,
    injured: Annotated[int | None, typer.Option(min=0)] = None,
    reviewer: ReviewerOption = "cli",
    db: DbOption = None,
    database_url: UrlOption = None,
) -> None:
    """The verifier's kind and place (a report when it has lon and lat); kept as a labelled example."""
    correction: dict[str, object] = {"kind": kind, "place": place, "lon": lon, "lat": lat, "killed": killed,
                                     "injured": injured}  # fmt: skip
    _close(review_id, "correct", correction, reviewer, db, database_url)
