"""Which adapter reads a file: named by the user, or recognised from its extension and header."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

from greyzone.errors import IngestError
from greyzone.ingest import acled, alerts, settlements, ucdp, viina
from greyzone.ingest.deepstate import read_deepstate
from greyzone.ingest.geojson import read_geojson
from greyzone.ingest.native import read_csv, read_jsonl
from greyzone.ingest.records import RawRecord, Reject

Item = RawRecord | Reject
SNIFF_BYTES = 65_536


class Format(StrEnum):
    AUTO = "auto"
    CSV = "csv"
    JSONL = "jsonl"
    GEOJSON = "geojson"
    UCDP = "ucdp"
    ACLED = "acled"
    VIINA = "viina"
    DEEPSTATE = "deepstate"
    ALERTS = "alerts"
    SETTLEMENTS = "settlements"
    TEXT = "text"  # free-text messages: parsed (greyzone.text), not read as records; the CLI hands them on


_CSV_SIGNATURES = (
    (ucdp.COLUMNS, Format.UCDP),
    (acled.COLUMNS, Format.ACLED),
    (viina.COLUMNS, Format.VIINA),
    (alerts.OFFICIAL_COLUMNS, Format.ALERTS),
    (alerts.VOLUNTEER_COLUMNS, Format.ALERTS),
    (alerts.MERGED_COLUMNS, Format.ALERTS),
    (frozenset({"kind", "observed_at"}), Format.CSV),
    (settlements.LONG_COLUMNS, Format.SETTLEMENTS),
    (frozenset({"place", "date", "status"}), Format.SETTLEMENTS),
)


def detect_format(path: Path) -> Format:
    """The format of ``path`` from its extension and first bytes; IngestError when unknown."""
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES).decode("utf-8", errors="replace").lstrip("\ufeff")
    if suffix in (".jsonl", ".ndjson"):
        return Format.JSONL
    if suffix in (".geojson", ".json") or head.lstrip().startswith("{"):
        if '"snapshot_utc"' in head or '"occupied_km2_in_box"' in head:
            return Format.DEEPSTATE
        if '"features"' in head or '"FeatureCollection"' in head:
            return Format.GEOJSON
        return Format.JSONL
    return _csv_format(path, head)


def _csv_format(path: Path, head: str) -> Format:
    try:
        header = next(csv.reader([head.splitlines()[0] if head else ""]))
    except (StopIteration, csv.Error, IndexError):
        raise IngestError(f"{path}: not CSV, JSON lines or GeoJSON: name the format with --format") from None
    columns = {h.strip().lower() for h in header}
    for signature, fmt in _CSV_SIGNATURES:
        if signature <= columns:
            return fmt
    if settlements.is_wide(columns):
        return Format.SETTLEMENTS
    shown = ", ".join(sorted(columns)[:12])
    raise IngestError(
        f"{path}: a CSV whose columns ({shown}) fit no known format; greyzone's own CSV needs at least"
        f" kind and observed_at (see the README), or name the format with --format"
    )


def read_items(path: Path, fmt: Format, *, gazetteer: Any = None, progress: Any = None) -> Iterator[Item]:
    """Records and rejects of ``path`` read as ``fmt`` (AUTO: detected)."""
    if fmt is Format.AUTO:
        fmt = detect_format(path)
    if fmt is Format.ALERTS:
        return alerts.read_alerts(path, progress=progress, gazetteer=gazetteer)
    readers = {
        Format.CSV: read_csv,
        Format.JSONL: read_jsonl,
        Format.GEOJSON: read_geojson,
        Format.UCDP: ucdp.read_ucdp,
        Format.ACLED: acled.read_acled,
        Format.VIINA: viina.read_viina,
        Format.DEEPSTATE: read_deepstate,
        Format.SETTLEMENTS: settlements.read_settlements,
    }
    if fmt is Format.TEXT:
        raise IngestError(f"{path}: free-text messages are parsed, not read as records: `greyzone text ingest`")
    return readers[fmt](path, progress=progress)
