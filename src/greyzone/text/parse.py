"""A message in, what it reports out: language, kind, place, time, casualties, and the rest — each field
with a confidence and the words that led to it. Pure: the gazetteer and the model are given.

A message may report two events ("Обстріл Покровська, а також удар FPV по авто в Мирнограді"; a repost
of two posts joined by ";"): it is cut at those joints, and when two parts or more each report something
at a place of their own, each is an event. Otherwise the whole message is one.

A parse is **confident** when the language is ours, the kind is not *none* and its probability at least
``CONFIDENT``, and the place is one settlement with coordinates: such a parse may become a report by
itself; any other goes to the review queue with what it lacks said.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from greyzone.text.classify import (
    INFRA_STATUS,
    NONE,
    SERVICE_STATUS,
    SERVICES,
    SIDES,
    SUBKINDS,
    UTILITIES,
    KindModel,
    first_of,
)
from greyzone.text.counts import Count, casualties, evacuees
from greyzone.text.lang import Language, detect
from greyzone.text.places import PlaceHit, PlaceIndex
from greyzone.text.when import StatedTime, stated_time

MAX_CHARS = 5_000  # a message longer than this is not a message (a pasted document): refused
CONFIDENT = 0.6
JOINTS = re.compile(r";|\s+(?:а також|також|а также|также|and also|also)\s+|\n+", re.IGNORECASE)
Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Field:
    value: Any
    confidence: float
    words: str = ""


@dataclass
class Event:
    kind: Field
    place: PlaceHit | None
    time: StatedTime | None
    killed: Count | None = None
    injured: Count | None = None
    details: dict[str, Field] = field(default_factory=dict)
    text: str = ""

    def missing(self) -> list[str]:
        """What keeps the event from being a report by itself."""
        out = []
        if self.kind.value == NONE:
            out.append("it reports nothing the schema knows (kind: none)")
        elif self.kind.confidence < CONFIDENT:
            out.append(f"the kind is unsure ({self.kind.value}, {self.kind.confidence:.2f} < {CONFIDENT})")
        if self.place is None:
            out.append("no place the gazetteer knows")
        elif self.place.ambiguous:
            out.append(f"the place is ambiguous: {', '.join(self.place.candidates)}")
        elif self.place.lon is None:
            out.append(f"{self.place.name} has no coordinates in the gazetteer")
        return out

    def as_json(self) -> Json:
        place = (
            None
            if self.place is None
            else {k: v for k, v in asdict(self.place).items() if k != "words"} | {"words": self.place.words}
        )
        return {
            "kind": asdict(self.kind),
            "place": place,
            "time": None if self.time is None else {"at": self.time.at.isoformat(), "precision": self.time.precision,
                                                   "words": self.time.words, "span_h": self.time.span_h},
            "killed": None if self.killed is None else asdict(self.killed),
            "injured": None if self.injured is None else asdict(self.injured),
            **{name: asdict(f) for name, f in self.details.items()},
            "text": self.text,
            "confident": not self.missing(),
            "missing": self.missing(),
        }  # fmt: skip


@dataclass
class Parsed:
    text: str
    language: Language
    events: list[Event]
    refused: str = ""  # why the message is not parsed at all (empty, too long, another language, binary)

    def as_json(self) -> Json:
        return {
            "text": self.text[:500],
            "language": asdict(self.language),
            "refused": self.refused or None,
            "events": [e.as_json() for e in self.events],
        }


def refusal(text: str, language: Language) -> str:
    """Why a message cannot be parsed at all ('' when it can)."""
    if not text.strip():
        return "empty message"
    if len(text) > MAX_CHARS:
        return f"{len(text):,} characters: longer than a message ({MAX_CHARS:,}); split it"
    if "\x00" in text or sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t") > 2:
        return "binary data, not text"
    if not language.code:
        return "no words (emoji, digits or punctuation only)"
    if not language.supported:
        return f"language {language.code!r} ({language.why}): only Ukrainian, Russian and English are read"
    return ""


def parse_message(
    text: str, received_at: datetime, model: KindModel, places: PlaceIndex, near: tuple[float, float] | None = None
) -> Parsed:
    """Everything the message states, each with how sure and which words said it."""
    return parse_batch([(text, received_at)], model, places, near)[0]


def parse_batch(
    messages: Sequence[tuple[str, datetime]],
    model: KindModel,
    places: PlaceIndex,
    near: tuple[float, float] | None = None,
) -> list[Parsed]:
    """Many messages at once: the model asked once for all of them (and their parts)."""
    languages, parts_of = [], []
    for text, _ in messages:
        language = detect(text) if text.strip() and len(text) <= MAX_CHARS else Language("", 0.0, "")
        languages.append(language)
        parts = [] if refusal(text, language) else [p.strip(" ,.—–-") for p in JOINTS.split(text) if p.strip(" ,.—–-")]
        parts_of.append(parts if len(parts) > 1 else [])
    asked = [text for (text, _), lang in zip(messages, languages, strict=True) if not refusal(text, lang)]
    asked += [part for parts in parts_of for part in parts]
    answers = dict(zip(asked, model.predict(asked), strict=True)) if asked else {}
    out = []
    for (text, received_at), language, parts in zip(messages, languages, parts_of, strict=True):
        why = refusal(text, language)
        if why:
            out.append(Parsed(text, language, [], why))
            continue
        events: list[Event] = []
        for part in parts:
            kind, p, words = answers[part]
            found = places.find(part, near)
            if kind != NONE and found:
                events.append(_event(part, Field(kind, p, ", ".join(words)), found[0], received_at))
        if len(events) < 2:
            kind, p, words = answers[text]
            found = places.find(text, near)
            events = [_event(text, Field(kind, p, ", ".join(words)), found[0] if found else None, received_at)]
        out.append(Parsed(text, language, events))
    return out


STATUS_DETAILS = {  # kind → (the detail's name, its words, its statuses' words)
    "infrastructure_status": ("utility", UTILITIES, INFRA_STATUS),
    "service_status": ("service", SERVICES, SERVICE_STATUS),
}


def _event(text: str, kind: Field, place: PlaceHit | None, received_at: datetime) -> Event:
    killed, injured = casualties(text)
    event = Event(kind, place, stated_time(text, received_at), killed, injured, text=text)
    k = kind.value
    if k == "shelling":
        sub, stem = first_of(text, SUBKINDS)
        if sub:
            event.details["subkind"] = Field(sub, 0.8, stem)
    if k == "control_observation":
        side, stem = first_of(text, SIDES)
        event.details["side"] = Field(side or "unknown", 0.8 if side else 0.3, stem)
    if k in STATUS_DETAILS:
        name, table, statuses = STATUS_DETAILS[k]
        value, stem = first_of(text, table)
        status, status_stem = first_of(text, statuses)
        if value:
            event.details[name] = Field(value, 0.8, stem)
        if status:
            event.details["status"] = Field(status, 0.7, status_stem)
    if k == "evacuation_request":
        people, proxy, words = evacuees(text)
        event.details["people"] = Field(people, 0.8 if people else 0.0, words)
        event.details["proxy"] = Field(proxy, 0.7 if proxy is not None else 0.0, "")
    return event
