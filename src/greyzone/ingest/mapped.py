"""Helpers for adapters that translate another dataset's rows into greyzone's fields."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from greyzone.errors import Problem
from greyzone.ingest.records import RawRecord, Reject

Item = RawRecord | Reject
NAMESPACE = uuid.UUID("5b0f7d1e-9c1a-4d6e-8f3b-2a7c4e9d0b11")  # greyzone's namespace for stable ids


def stable_id(source: str, record_id: str) -> str:
    """The same id for the same record of the same dataset, whatever else changed in it."""
    return str(uuid.uuid5(NAMESPACE, f"{source}:{record_id}"))


def map_records(
    items: Iterator[Item], to_fields: Callable[[dict[str, Any]], dict[str, Any] | Problem]
) -> Iterator[Item]:
    """Translate each record's fields; a Problem becomes a reject of that row."""
    for item in items:
        if isinstance(item, Reject):
            yield item
            continue
        out = to_fields(item.fields)
        if isinstance(out, Problem):
            yield Reject(item.file, item.row, out.field, out.reason, str(item.fields.get(out.field, ""))[:120])
        else:
            yield RawRecord(item.file, item.row, out)


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
