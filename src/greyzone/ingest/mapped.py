"""Helpers for adapters that translate another dataset's rows into greyzone's fields."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from greyzone.errors import Problem
from greyzone.ingest.records import RawRecord, Reject

Item = RawRecord | Reject
NAMESPACE = uuid.UUID("5b0f7d1e-9c1a-4d6e-8f3b-2a7c4e9d0b11")  # greyzone's namespace for stable ids


def stable_id(source: str, record_id: str) -> str:
    """The same id for the same record of the same dataset, whatever else changed in it."""
    return str(uuid.uuid5(NAMESPACE, f"{source}:{record_id}"))


def unreadable(exc: BaseException) -> str:
    """The reason of a record that failed in a way its adapter did not foresee."""
    return f"unreadable record ({type(exc).__name__}: {str(exc)[:200]})"


def each_record(items: Iterator[Item], to_items: Callable[[RawRecord], Iterable[Item]]) -> Iterator[Item]:
    """The items each record becomes (rejects pass through). A record whose translation fails in a way the
    adapter did not foresee becomes one reject naming the failure: never the end of the file."""
    for item in items:
        if isinstance(item, Reject):
            yield item
            continue
        try:
            out = list(to_items(item))
        except Exception as exc:
            yield Reject(item.file, item.row, "(record)", unreadable(exc))
            continue
        yield from out


def map_records(
    items: Iterator[Item], to_fields: Callable[[dict[str, Any]], dict[str, Any] | Problem]
) -> Iterator[Item]:
    """Translate each record's fields; a Problem becomes a reject of that row."""

    def one(item: RawRecord) -> list[Item]:
        out = to_fields(item.fields)
        if isinstance(out, Problem):
            return [Reject(item.file, item.row, out.field, out.reason, str(item.fields.get(out.field, ""))[:120])]
        return [RawRecord(item.file, item.row, out)]

    return each_record(items, one)


def parse_datetime(value: str, formats: tuple[str, ...], field: str) -> datetime | Problem:
    """A UTC time from the first of ``formats`` that fits (naive values are taken as UTC)."""
    text = (value or "").strip()
    for fmt in formats:
        try:
            t = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return Problem(field, f"expected a date like {datetime(2024, 5, 3, tzinfo=UTC).strftime(formats[0])}; got {text!r}")
