"""The time a message states, relative to when it was received, in the city's clock (Europe/Kyiv).

"о 14:20" / "в 16:40" / "at 05:40" is that minute (exact) of the day it names, or else of the day it was
received — the day before when that minute is later than the message; "вчора" / "вчера" / "yesterday"
and "позавчора" shift the day; a part of the day ("вранці", "утром", "this morning", "вдень", "ввечері",
"вночі", "ночью", "overnight", "last night") is its hours' start with the precision of an hour-long
window (its hours kept for people; the report's precision is the day). Nothing stated:
None (the report then takes the time it was received, and says so). Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

KYIV = ZoneInfo("Europe/Kyiv")
CLOCK = re.compile(r"(?<![\d-])([01]?\d|2[0-3])[:.]([0-5]\d)(?![\d])")
YESTERDAY = ("вчора", "вчера", "yesterday", "учора")
BEFORE_YESTERDAY = ("позавчора", "позавчера", "day before yesterday")
TODAY = ("сьогодні", "сегодня", "today", "this morning", "this evening", "tonight")
PARTS = (  # (words, start hour, hours long)
    (("вночі", "ночью", "overnight", "at night", "last night", "this night", "цієї ночі", "этой ночью", "за ніч",
      "за ночь", "нічн", "ночн", "минулої ночі", "прошлой ночью"), 0, 6),
    (("вранці", "зранку", "утром", "с утра", "з ранку", "this morning", "in the morning", "morning"), 6, 6),
    (("вдень", "днем", "днём", "удень", "in the afternoon", "this afternoon", "afternoon"), 12, 6),
    (("ввечері", "увечері", "вечером", "this evening", "in the evening", "evening", "tonight"), 18, 6),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class StatedTime:
    at: datetime  # aware, Europe/Kyiv
    precision: str  # exact, hour, day (TimePrecision values)
    words: str
    span_h: float  # how long the stated window is (0: a minute)


def stated_time(text: str, received_at: datetime) -> StatedTime | None:
    """The time the message states (None when it states none)."""
    lower = text.lower()
    received = received_at.astimezone(KYIV)
    day = received.date()
    day_words = ""
    if any(w in lower for w in BEFORE_YESTERDAY):
        day, day_words = day - timedelta(days=2), next(w for w in BEFORE_YESTERDAY if w in lower)
    elif any(w in lower for w in YESTERDAY):
        day, day_words = day - timedelta(days=1), next(w for w in YESTERDAY if w in lower)
    elif any(w in lower for w in TODAY):
        day_words = next(w for w in TODAY if w in lower)
    clock = CLOCK.search(text)
    if clock:
        hour, minute = int(clock.group(1)), int(clock.group(2))
        at = datetime.combine(day, time(hour, minute), KYIV)
        if not day_words and at > received + timedelta(minutes=5):  # a time later than the message: the day before
            at -= timedelta(days=1)
        return StatedTime(at, "exact", " ".join(w for w in (day_words, clock.group(0)) if w), 0.0)
    for words, start, hours in PARTS:
        found = next((w for w in words if w in lower), None)
        if found is None:
            continue
        at = datetime.combine(day, time(start), KYIV)
        if at > received:  # "ввечері" said in the morning: the evening before
            at -= timedelta(days=1)
        said = found if not day_words or day_words in found else f"{day_words} {found}"
        return StatedTime(at, "day", said, float(hours))  # a part of a day: the report says which day
    if day_words:
        return StatedTime(datetime.combine(day, time(0), KYIV), "day", day_words, 24.0)
    return None
