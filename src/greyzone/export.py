"""Reports out: CSV (formula-safe), JSON lines, GeoJSON — for the CLI's `reports` and the API's export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from greyzone.model.report import Report

EXPORT_FIELDS = (
    "id",
    "kind",
    "subkind",
    "observed_at",
    "time_precision",
    "lon",
    "lat",
    "location_precision_m",
    "place",
    "source",
    "source_record_id",
    "credibility",
    "text",
    "reported_at",
    "ended_at",
    "side",
    "utility",
    "service",
    "status",
    "killed",
    "injured",
    "h3_r9",
)


def report_to_dict(r: Report) -> dict[str, Any]:
    """A report as plain JSON-able values (no reporter hash: it never leaves the store)."""
    out: dict[str, Any] = {}
    for name in EXPORT_FIELDS:
        value = r.cells.block if name == "h3_r9" else getattr(r, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else str(value) if name == "id" else value
    if r.area_wkb is not None:
        import shapely

        out["area"] = json.loads(shapely.to_geojson(shapely.from_wkb(r.area_wkb)))
    return out


def write_csv(items: Iterator[Report], stream: io.TextIOBase | Any) -> int:
    """CSV export; cells that a spreadsheet would run as formulas are quoted with a leading '."""
    writer = csv.writer(stream)
    writer.writerow(EXPORT_FIELDS)
    n = 0
    for r in items:
        d = report_to_dict(r)
        writer.writerow([_cell(d[f]) for f in EXPORT_FIELDS])
        n += 1
    return n


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def write_jsonl(items: Iterator[Report], stream: Any) -> int:
    n = 0
    for r in items:
        stream.write(json.dumps(report_to_dict(r), ensure_ascii=False) + "\n")
        n += 1
    return n


def write_geojson(items: Iterator[Report], stream: Any) -> int:
    stream.write('{"type":"FeatureCollection","features":[\n')
    n = 0
    for r in items:
        props = report_to_dict(r)
        area = props.pop("area", None)
        geometry = area or {"type": "Point", "coordinates": [r.lon, r.lat]}
        stream.write(
            ("," if n else "")
            + json.dumps({"type": "Feature", "geometry": geometry, "properties": props}, ensure_ascii=False)
            + "\n"
        )
        n += 1
    stream.write("]}\n")
    return n
