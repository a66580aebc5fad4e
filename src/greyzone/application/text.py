"""Free-text intake: messages in, parses out; confident parses become reports, the rest wait in the review
queue for a verifier, whose corrections are kept as labelled examples (the classifier learns from them at
its next training, and the same text parsed again takes the verifier's word).

Places are read with the gazetteer of the settings (none configured: no place is resolved, and every
event goes to review saying so); an ambiguous name is resolved by the city the messages come from
(``city``: its streets' middle) or left ambiguous.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from greyzone.application.stores import AppStore
from greyzone.errors import InputError
from greyzone.ingest.records import Reject
from greyzone.settings import Settings
from greyzone.store.base import ReviewRow, User
from greyzone.text.classify import NONE, Example, KindModel, examples, split_of, train
from greyzone.text.parse import Event, Parsed, parse_batch
from greyzone.text.places import PlaceIndex, Street, StreetIndex

Json = dict[str, Any]
MAX_MESSAGES = 10_000


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    received_at: datetime
    source: str
    row: int = 0  # the line (or record) it came from


@cache
def _places(folder: str | None) -> PlaceIndex:
    if folder is None:
        return PlaceIndex()
    from greyzone.ingest.gazetteer import Gazetteer

    return PlaceIndex.of(Gazetteer.from_dir(Path(folder)).named)


def places_of(settings: Settings) -> PlaceIndex:
    return _places(str(settings.gazetteer_dir) if settings.gazetteer_dir else None)


_models: dict[int, KindModel] = {}


def model_of(store: AppStore) -> KindModel:
    """The classifier: the data's train split and every label verifiers gave (retrained when they gave more)."""
    labels = store.read_labels()
    key = hash(tuple(sorted(labels)))
    if key not in _models:
        rows = [e for e in examples() if split_of(e.text) == "train"]
        rows += [Example(text, json.loads(label)) for text, label in labels.values()]
        _models.clear()
        _models[key] = train(rows)
    return _models[key]


def city_centre(store: AppStore, city: str | None) -> tuple[float, float] | None:
    if not city:
        return None
    from greyzone.application.movement import city_graph

    graph = city_graph(store, city).graph
    return float(np.median(graph.lon)), float(np.median(graph.lat))


_streets: dict[tuple[str, float], StreetIndex] = {}


def streets_of(store: AppStore, city: str) -> StreetIndex:
    """The city's named streets: each name at the middle of its streets, half their extent its precision."""
    from greyzone.application.movement import city_graph

    found = city_graph(store, city)
    key = (city, found.city.imported_at)
    if key not in _streets:
        graph = found.graph
        streets = []
        for name_id, name in enumerate(graph.names):
            if not name:
                continue
            edges = np.flatnonzero(graph.name_id == name_id)
            if not edges.size:
                continue
            points = np.concatenate(
                [graph.shape_lonlat[graph.shape_offset[e] : graph.shape_offset[e + 1]] for e in edges]
            )
            lon, lat = points.mean(axis=0)
            kx = np.cos(np.radians(lat)) * 111_320.0
            half = float(np.hypot((points[:, 0] - lon) * kx, (points[:, 1] - lat) * 111_320.0).max())
            streets.append(Street(name, float(lon), float(lat), half))
        _streets[key] = StreetIndex.of(streets)
    return _streets[key]


def parse_texts(
    store: AppStore, settings: Settings, messages: Sequence[Message], city: str | None = None
) -> list[Parsed]:
    """Each message parsed (a text a verifier has labelled: the verifier's kind and place)."""
    if len(messages) > MAX_MESSAGES:
        raise InputError("messages", f"at most {MAX_MESSAGES:,} messages at once; got {len(messages):,}")
    model, places, near = model_of(store), places_of(settings), city_centre(store, city)
    streets = streets_of(store, city) if city else None
    labels = store.read_labels()
    out = []
    for m, parsed in zip(messages, parse_batch([(m.text, m.received_at) for m in messages], model, places, near),
                         strict=True):  # fmt: skip
        if streets is not None and near is not None:
            for event in parsed.events:
                _onto_street(event, streets, near)
        label = labels.get(hashlib.sha256(m.text.encode()).hexdigest())
        if label is not None and parsed.events:
            _apply_label(parsed.events[0], json.loads(label[1]))
        out.append(parsed)
    return out


STREET_REACH_KM = 20.0  # a settlement this close to the city's middle may be the city itself


def _onto_street(event: Event, streets: StreetIndex, centre: tuple[float, float]) -> None:
    """A street of the city the message names, when the settlement it names (if any) is the city."""
    hit = streets.find(event.text)
    if hit is None:
        return
    place = event.place
    if place is not None and place.lon is not None and place.lat is not None:
        dx = (place.lon - centre[0]) * 111.32 * np.cos(np.radians(centre[1]))
        if float(np.hypot(dx, (place.lat - centre[1]) * 111.32)) > STREET_REACH_KM:
            return  # another settlement's street of the same name: not this city's
    event.place = hit


def _apply_label(event: Event, label: Json) -> None:
    from greyzone.text.parse import Field
    from greyzone.text.places import PlaceHit

    event.kind = Field(label["kind"], 1.0, "a verifier's correction of this text")
    if label.get("lon") is not None and label.get("lat") is not None:
        lon, lat, precision = float(label["lon"]), float(label["lat"]), float(label.get("precision_m") or 1000.0)
        event.place = PlaceHit("", str(label.get("place") or ""), lon, lat, precision, False, (), "verifier", 1.0)


def record_of(event: Event, message: Message) -> dict[str, object]:
    """The report record (ingest's fields) of a confident event."""
    assert event.place is not None and event.place.lon is not None
    when = event.time.at if event.time else message.received_at
    precision = event.time.precision if event.time else "day"
    record: dict[str, object] = {
        "kind": event.kind.value, "observed_at": when.isoformat(), "time_precision": precision,
        "lon": event.place.lon, "lat": event.place.lat, "location_precision_m": event.place.precision_m,
        "source": message.source, "text": message.text[:2000],
    }  # fmt: skip
    for name in ("killed", "injured"):
        count = getattr(event, name)
        if count is not None and count.value is not None:
            record[name] = count.value
    for name, f in event.details.items():
        if name in ("subkind", "side", "utility", "service", "status") and f.value is not None:
            record[name] = f.value
    return record


@dataclass(frozen=True)
class Intake:
    reports: int
    duplicates: int
    queued: int
    rejects: list[Reject]

    def answer(self) -> Json:
        rejected = [{"file": r.file, "row": r.row, "field": r.field, "reason": r.reason} for r in self.rejects]
        return {"reports": self.reports, "duplicates": self.duplicates, "queued_for_review": self.queued,
                "rejected": rejected}  # fmt: skip


def take_texts(
    store: AppStore, settings: Settings, user: User, messages: Sequence[Message], file: str, city: str | None = None
) -> Intake:
    """Confident events become reports (one batch: all or none; through the reports' own rules of who may
    set what), the rest go to the review queue; a message not parsed at all is a reject with its reason.
    Nothing is dropped: a message with two events gives two."""
    from greyzone.application.reports import submit_reports

    parsed = parse_texts(store, settings, messages, city)
    records: list[dict[str, object]] = []
    reviews: list[ReviewRow] = []
    rejects: list[Reject] = []
    for m, p in zip(messages, parsed, strict=True):
        if p.refused:
            rejects.append(Reject(file, m.row, "text", p.refused))
            continue
        for event in p.events:
            if not event.missing():
                records.append(record_of(event, m))
            else:
                digest = hashlib.sha256(f"{m.source}\n{m.received_at.isoformat()}\n{event.text}".encode()).hexdigest()
                reviews.append(ReviewRow(f"rv-{digest[:16]}", m.received_at.timestamp(), m.source, m.text,
                                         json.dumps(event.as_json(), ensure_ascii=False), "pending", None, None,
                                         "; ".join(event.missing())))  # fmt: skip
    accepted = duplicates = 0
    if records:
        done = submit_reports(store, settings, user, records)
        accepted, duplicates = done.accepted, done.duplicates
    if reviews:
        store.add_reviews(reviews)
    return Intake(accepted, duplicates, len(reviews), rejects)


def review_view(r: ReviewRow) -> Json:
    return {"review_id": r.review_id, "received_at": datetime.fromtimestamp(r.received_at, UTC).isoformat(),
            "source": r.source, "text": r.text, "parse": json.loads(r.parse), "state": r.state, "why": r.note,
            "reviewer": r.reviewer}  # fmt: skip


def close_review(
    store: AppStore, settings: Settings, user: User, review_id: str, action: str, correction: Json | None = None
) -> Json:
    """A verifier's word on a queued message: *accept* (the parse is right and complete: it becomes a
    report), *correct* (the verifier's kind and place — a report when it has a place with coordinates —
    kept as a label), *reject* (it reports nothing; kept as a *none* label)."""
    from greyzone.application.reports import submit_reports

    found = next((r for r in store.read_reviews(None, 100_000) if r.review_id == review_id), None)
    if found is None or found.state != "pending":
        raise InputError("review_id", f"no pending review {review_id!r}")
    parse = json.loads(found.parse)
    message = Message(found.text, datetime.fromtimestamp(found.received_at, UTC), found.source)
    label: Json
    if action == "reject":
        label = {"kind": NONE}
        record = None
    elif action == "accept":
        if parse["missing"]:
            raise InputError("action", f"the parse is not complete ({'; '.join(parse['missing'])}): correct it")
        label = {"kind": parse["kind"]["value"]}
        record = _record_from_parse(parse, message)
    elif action == "correct":
        label = _checked(correction or {})
        record = _record_from_label(label, message) if label.get("lon") is not None else None
    else:
        raise InputError("action", f"expected accept, correct or reject; got {action!r}")
    report = None
    if record is not None:
        done = submit_reports(store, settings, user, [record])
        report = done.ids[0] if done.ids else None
    state = {"accept": "accepted", "correct": "corrected", "reject": "rejected"}[action]
    if not store.close_review(review_id, state, user.name, action, (found.text, json.dumps(label, ensure_ascii=False))):
        raise InputError("review_id", f"review {review_id!r} was closed meanwhile")
    return {"review_id": review_id, "state": state, "report": report, "label": label}


def _checked(c: Json) -> Json:
    from greyzone.model.enums import Kind

    kinds = {k.value for k in Kind} | {NONE}
    if c.get("kind") not in kinds:
        raise InputError("kind", f"expected one of {', '.join(sorted(kinds))}; got {c.get('kind')!r}")
    out: Json = {"kind": c["kind"]}
    for name in ("place", "subkind", "side", "utility", "service", "status"):
        if c.get(name) is not None:
            out[name] = str(c[name])[:200]
    for name, low, high in (("lon", -180.0, 180.0), ("lat", -90.0, 90.0), ("precision_m", 1.0, 200_000.0)):
        if c.get(name) is not None:
            value = c[name]
            if not isinstance(value, int | float) or not low <= value <= high:
                raise InputError(name, f"expected a number from {low:g} to {high:g}; got {value!r}")
            out[name] = float(value)
    for name in ("killed", "injured"):
        if c.get(name) is not None:
            if not isinstance(c[name], int) or c[name] < 0:
                raise InputError(name, f"expected a whole number ≥ 0; got {c[name]!r}")
            out[name] = c[name]
    if (out.get("lon") is None) != (out.get("lat") is None):
        raise InputError("lon", "give both lon and lat, or neither")
    return out


def _record_from_parse(parse: Json, m: Message) -> dict[str, object]:
    when = parse["time"]["at"] if parse["time"] else m.received_at.isoformat()
    record: dict[str, object] = {
        "kind": parse["kind"]["value"], "observed_at": when,
        "time_precision": parse["time"]["precision"] if parse["time"] else "day",
        "lon": parse["place"]["lon"], "lat": parse["place"]["lat"],
        "location_precision_m": parse["place"]["precision_m"], "source": m.source, "text": m.text[:2000],
    }  # fmt: skip
    for name in ("killed", "injured"):
        if parse.get(name) and parse[name]["value"] is not None:
            record[name] = parse[name]["value"]
    return record


def _record_from_label(label: Json, m: Message) -> dict[str, object] | None:
    if label["kind"] == NONE:
        return None
    record: dict[str, object] = {
        "kind": label["kind"], "observed_at": m.received_at.isoformat(), "time_precision": "day",
        "lon": label["lon"], "lat": label["lat"], "location_precision_m": label.get("precision_m", 1000.0),
        "source": m.source, "text": m.text[:2000],
    }  # fmt: skip
    for name in ("killed", "injured", "subkind", "side", "utility", "service", "status"):
        if label.get(name) is not None:
            record[name] = label[name]
    return record


def read_messages(path: Path, source: str, received_at: datetime) -> tuple[list[Message], list[Reject]]:
    """Messages of a file: one a line, or JSON lines with ``text`` (and ``received_at`` with its offset,
    ``source``). A line that is not text, or whose time has no offset, is a reject with its reason."""
    raw = path.read_bytes()
    return messages_from_text(raw, str(path), source, received_at)


def messages_from_text(raw: bytes, file: str, source: str, received_at: datetime) -> tuple[list[Message], list[Reject]]:
    messages: list[Message] = []
    rejects: list[Reject] = []
    for row, line_bytes in enumerate(raw.split(b"\n"), start=1):
        try:
            line = line_bytes.decode("utf-8").strip()
        except UnicodeDecodeError:
            rejects.append(Reject(file, row, "text", "not UTF-8 text (binary data?)"))
            continue
        if not line:
            continue
        if line.startswith("{"):
            try:
                item = json.loads(line)
            except ValueError:
                rejects.append(Reject(file, row, "text", "a line starting with { is not valid JSON"))
                continue
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                rejects.append(Reject(file, row, "text", "a JSON line needs a text field (a string)"))
                continue
            when = received_at
            if item.get("received_at") is not None:
                try:
                    when = datetime.fromisoformat(str(item["received_at"]))
                except ValueError:
                    rejects.append(Reject(file, row, "received_at", f"not an ISO 8601 time: {item['received_at']!r}"))
                    continue
                if when.tzinfo is None:
                    rejects.append(Reject(file, row, "received_at", "a time without its offset (+02:00): not guessed"))
                    continue
            messages.append(Message(item["text"], when, str(item.get("source") or source)[:200], row))
        else:
            messages.append(Message(line, received_at, source, row))
    return messages, rejects


def new_source() -> str:
    return f"text-{uuid.uuid4().hex[:8]}"
