"""The one intermediate record every source adapter produces, and the reject it may become."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

MAX_VALUE_CHARS_IN_REJECT = 120
MAX_INT_DIGITS = 300  # a JSON integer longer than this is read as a float (infinite), which the rules refuse


def _bounded_int(text: str) -> int | float:
    """A JSON integer; one of more than MAX_INT_DIGITS digits as a float (Python refuses to convert an
    integer of over 4,300 digits at all: one such number must not fail the whole file)."""
    return int(text) if len(text) <= MAX_INT_DIGITS else float(text)


#: The JSON decoder of every input (files and the API): numbers of any length decode.
JSON_DECODER = json.JSONDecoder(parse_int=_bounded_int)
#: What decoding a JSON text can raise besides a syntax error: nesting too deep for the parser.
JSON_FAILURES = (ValueError, RecursionError)


def decode_json(text: str) -> Any:
    """JSON text → value with :data:`JSON_DECODER`; raises ``json.JSONDecodeError`` (a ValueError) on a
    syntax error and RecursionError on nesting too deep."""
    return JSON_DECODER.decode(text)


class RawRecord(NamedTuple):
    """Fields of one report in greyzone's own schema, as a source gave them (strings or values).

    ``row`` is 1-based: the data row of a CSV (header excluded), the line of a JSON-lines file,
    or the feature of a GeoJSON file. Keys are greyzone's field names (see the README's schema);
    ``geometry`` may hold a GeoJSON geometry dict for an area report.
    """

    file: str
    row: int
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RecordBlock:
    """Many RawRecords of one file, stored by column: what a fast reader (CSV) gives the builder.

    ``columns`` maps greyzone field names to one value per row; ``rows`` are the rows' numbers.
    """

    file: str
    rows: list[int]
    columns: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.rows)

    @staticmethod
    def from_records(records: Sequence[RawRecord]) -> RecordBlock:
        names: dict[str, None] = {}
        for r in records:
            names.update(dict.fromkeys(r.fields))
        columns = {name: [r.fields.get(name) for r in records] for name in names}
        return RecordBlock(records[0].file if records else "", [r.row for r in records], columns)

    def part(self, start: int, stop: int) -> RecordBlock:
        """Rows ``start`` to ``stop`` (exclusive)."""
        columns = {name: values[start:stop] for name, values in self.columns.items()}
        return RecordBlock(self.file, self.rows[start:stop], columns)

    def column(self, name: str) -> list[Any]:
        found = self.columns.get(name)
        return found if found is not None else [None] * len(self.rows)

    def reject(self, i: int, field: str, reason: str) -> Reject:
        value = self.columns.get(field)
        return _reject(self.file, self.rows[i], field, reason, None if value is None else value[i])


@dataclass(frozen=True, slots=True)
class Reject:
    """A record that was not stored: where it was, which field, and why."""

    file: str
    row: int
    field: str
    reason: str
    value: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.field}: {self.reason}"


def _reject(file: str, row: int, field: str, reason: str, value: Any) -> Reject:
    shown = "" if value is None else str(value)
    if len(shown) > MAX_VALUE_CHARS_IN_REJECT:
        shown = shown[:MAX_VALUE_CHARS_IN_REJECT] + "…"
    return Reject(file, row, field, reason, shown)


def rejected_rows(rejects: Iterable[Reject]) -> int:
    """How many rows the rejects are of (a row may have several problems)."""
    return len({(r.file, r.row) for r in rejects})


REJECT_COLUMNS = ("file", "row", "field", "reason", "value")


def write_rejects(rejects: Iterable[Reject], path: Path) -> int:
    """Write rejects as CSV (file, row, field, reason, value); returns how many were written."""
    n = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(REJECT_COLUMNS)
        for r in rejects:
            writer.writerow((r.file, r.row, r.field, r.reason, _formula_safe(r.value)))
            n += 1
    return n


def _formula_safe(value: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; quote them with a leading '."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
