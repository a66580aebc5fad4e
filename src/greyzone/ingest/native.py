"""greyzone's own formats: CSV and JSON lines, one report per row, columns named as the fields.

Both readers stream (constant memory), report bad rows as rejects instead of stopping, and keep
row numbers a person can find: CSV rows count data rows (the header is row 0), JSON-lines rows
count lines. Bytes that are not UTF-8 reject the row they are in; a file cut short rejects its
last, incomplete row.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from greyzone.errors import IngestError
from greyzone.ingest.records import RawRecord, RecordBlock, Reject, decode_json

MAX_FIELD_BYTES = 1_000_000  # larger fields are a broken file, not a report; the validator caps text at 10k
csv.field_size_limit(MAX_FIELD_BYTES)

Item = RawRecord | Reject


_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, kept as lone surrogates


def read_csv(path: Path, *, progress: Any = None) -> Iterator[Item]:
    """Records (or rejects) of a CSV file with a header row of greyzone field names.

    Decoding is done by the io module (in C) with ``surrogateescape``: a byte that is not UTF-8
    becomes a lone surrogate, found by one regular-expression search in the rows that are not ASCII.
    """
    with (
        path.open("rb") as raw,
        io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh,
    ):
        reader = csv.reader(fh)
        header = _header(reader, path)
        yield from _csv_rows(reader, header, str(path), progress, raw)


def _header(reader: Any, path: Path) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise IngestError(f"{path}: the file is empty; expected a header row of field names") from None
    except csv.Error as exc:
        raise IngestError(f"{path}: the header row cannot be read as CSV: {exc}") from None
    except UnicodeError as exc:
        raise IngestError(f"{path}: the header row is not UTF-8: {exc}") from None
    if any(_UNDECODABLE.search(h) for h in header):
        raise IngestError(f"{path}: the header row is not UTF-8: save the file as UTF-8")
    return [h.strip().lower() for h in header]


def _csv_rows(
    reader: Any, header: list[str], name: str, progress: Any, raw: IO[bytes], *, as_lists: bool = False
) -> Iterator[Any]:
    row = 0
    width = len(header)
    undecodable = _UNDECODABLE.search
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            row += 1
            yield Reject(name, row, "(row)", f"cannot be read as CSV: {exc}")
            continue
        row += 1
        if progress is not None and row % 10_000 == 0:
            progress(raw.tell())
        if not values:
            continue
        if len(values) != width:
            what = "truncated row (file cut short?)" if len(values) < width else "more fields than the header"
            yield Reject(name, row, "(row)", f"{what}: expected {width} fields, got {len(values)}")
        elif not all(map(str.isascii, values)) and any(map(undecodable, values)):
            yield Reject(name, row, "(encoding)", "bytes that are not UTF-8: save the file as UTF-8")
        elif as_lists:
            yield row, values
        else:
            yield RawRecord(name, row, dict(zip(header, values, strict=True)))


def read_csv_blocks(path: Path, block_size: int, *, progress: Any = None) -> Iterator[RecordBlock | Reject]:
    """The records of :func:`read_csv`, by blocks of ``block_size`` rows stored by column.

    The transposition runs in C (``zip(*rows)``): no dictionary per row."""
    name = str(path)
    header: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    with (
        path.open("rb") as raw,
        io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh,
    ):
        reader = csv.reader(fh)
        header = _header(reader, path)
        for item in _csv_rows(reader, header, name, progress, raw, as_lists=True):
            if isinstance(item, Reject):
                yield item
                continue
            numbers.append(item[0])
            rows.append(item[1])
            if len(rows) >= block_size:
                yield _block(name, header, numbers, rows)
                rows, numbers = [], []
    if rows:
        yield _block(name, header, numbers, rows)


def _block(name: str, header: list[str], numbers: list[int], rows: list[list[str]]) -> RecordBlock:
    return RecordBlock(name, numbers, dict(zip(header, map(list, zip(*rows, strict=True)), strict=True)))


class _Lines:
    """Decode a binary file line by line, remembering which lines were not UTF-8 (JSON lines)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self.line = 0
        self.bad_lines: set[int] = set()
        self.bytes_read = 0

    def __iter__(self) -> Iterator[str]:
        first = True
        for raw in self._fh:
            self.line += 1
            self.bytes_read += len(raw)
            data = raw[3:] if first and raw.startswith(b"\xef\xbb\xbf") else raw
            first = False
            try:
                yield data.decode("utf-8")
            except UnicodeDecodeError:
                self.bad_lines.add(self.line)
                yield data.decode("utf-8", errors="replace")


def read_jsonl(path: Path, *, progress: Any = None) -> Iterator[Item]:
    """Records (or rejects) of a JSON-lines file: one JSON object per line."""
    name = str(path)
    with path.open("rb") as fh:
        lines = _Lines(fh)
        for text in lines:
            n = lines.line
            if progress is not None and n % 10_000 == 0:
                progress(lines.bytes_read)
            if not text.strip():
                continue
            if n in lines.bad_lines:
                yield Reject(name, n, "(encoding)", "bytes that are not UTF-8: save the file as UTF-8")
                continue
            yield _json_record(name, n, text)


def _json_record(name: str, n: int, text: str) -> Item:
    try:
        value = decode_json(text)
    except json.JSONDecodeError as exc:
        cut = " (file cut short?)" if not text.endswith("\n") else ""
        return Reject(name, n, "(line)", f"not JSON{cut}: {exc.msg} at column {exc.colno}")
    except RecursionError:
        return Reject(name, n, "(line)", "JSON nested too deeply to read")
    if not isinstance(value, dict):
        return Reject(name, n, "(line)", f"expected a JSON object per line; got {type(value).__name__}")
    return RawRecord(name, n, value)
