"""UCDP Georeferenced Event Dataset (GED) CSV → reports.

Kind: from the headline's words (``keywords``), else by UCDP's type of violence (state-based and
non-state → clash; one-sided → casualties). Deaths (``best``) become ``killed``. UCDP's precision
codes are kept as precisions, never sharpened: ``where_prec`` → metres, ``date_prec`` → a span.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from greyzone.errors import Problem
from greyzone.ingest.keywords import kind_from_text
from greyzone.ingest.mapped import Item, map_records, parse_datetime, stable_id
from greyzone.ingest.native import read_csv
from greyzone.model.enums import Kind, TimePrecision

SOURCE = "ucdp-ged"
COLUMNS = frozenset({"id", "date_start", "date_prec", "where_prec", "latitude", "longitude", "type_of_violence"})
# where_prec: 1 exact place, 2 within 25 km, 3 second-order admin (raion), 4 first-order admin
# (oblast), 5 between admin units / linear feature, 6 country, 7 waters or airspace.
WHERE_PREC_M = {
    "1": 1_000.0,
    "2": 25_000.0,
    "3": 50_000.0,
    "4": 150_000.0,
    "5": 50_000.0,
    "6": 500_000.0,
    "7": 500_000.0,
}
# date_prec: 1 day, 2 two to six days, 3 a week, 4 a month, 5 more than a month.
DATE_PREC = {
    "1": TimePrecision.DAY,
    "2": TimePrecision.WEEK,
    "3": TimePrecision.WEEK,
    "4": TimePrecision.MONTH,
    "5": TimePrecision.YEAR,
}
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y")
VIOLENCE_KIND = {"1": Kind.CLASH, "2": Kind.CLASH, "3": Kind.CASUALTIES}


def read_ucdp(path: Path, *, progress: Any = None) -> Iterator[Item]:
    return map_records(read_csv(path, progress=progress), ucdp_fields)


def ucdp_fields(row: dict[str, Any]) -> dict[str, Any] | Problem:
    start = parse_datetime(row.get("date_start", ""), DATE_FORMATS, "date_start")
    if isinstance(start, Problem):
        return start
    precision = DATE_PREC.get(row.get("date_prec", "").strip())
    if precision is None:
        return Problem("date_prec", f"expected a UCDP date_prec 1-5; got {row.get('date_prec')!r}")
    where = WHERE_PREC_M.get(row.get("where_prec", "").strip())
    if where is None:
        return Problem("where_prec", f"expected a UCDP where_prec 1-7; got {row.get('where_prec')!r}")
    headline = (row.get("source_headline") or "").strip()
    match = kind_from_text(headline)
    kind, subkind = match if match else (VIOLENCE_KIND.get(row.get("type_of_violence", "").strip()), None)
    if kind is None:
        return Problem("type_of_violence", f"expected 1, 2 or 3; got {row.get('type_of_violence')!r}")
    clear = row.get("event_clarity", "1").strip() == "1"
    return {
        "id": stable_id(SOURCE, row.get("id", "").strip()),
        "kind": kind.value,
        "subkind": subkind.value if subkind else None,
        "observed_at": start,
        "time_precision": precision.value,
        "lon": row.get("longitude"),
        "lat": row.get("latitude"),
        "location_precision_m": where,
        "place": (row.get("where_coordinates") or "").strip()[:200] or None,
        "source": SOURCE,
        "source_record_id": row.get("id"),
        "credibility": 0.8 if clear else 0.6,
        "text": headline[:10_000] or None,
        "killed": row.get("best") if kind is not Kind.DRONE_SIGHTING else None,
    }
