"""Settlement-level control lists → control observations.

Two layouts:

- **Long** (one row per settlement and day): ``settlement`` (or ``place``), ``date`` (YYYY-MM-DD),
  ``status``, and optionally ``lon``/``lat``, ``radius_m``, ``source``, ``credibility``. A settlement
  without coordinates is placed by the gazetteer at ingest (``--gazetteer``).
- **Wide**, VIINA's control table (``control_latest_*.csv``): a row per settlement (``geonameid``,
  ``longitude``, ``latitude``, names) and one column per day ``ch_YYYYMMDD``. A settlement's status
  is emitted on its first day, on each change, and every ``RECONFIRM_DAYS`` days while unchanged, so
  the fused map sees the list confirm the status without a report per settlement per day.

Status ``UA``/``held`` → held; ``RU``/``other_side`` → other side; ``unknown`` → status not confirmed;
``CONTESTED``/``contested`` → two observations, one for each side, which the fusion reads as
*contested* (recent observations disagree). A settlement is a point with ``radius_m`` (default
1,500 m: the built-up extent of a village) at day precision (Kyiv day).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from greyzone.ingest.mapped import Item, each_record, stable_id
from greyzone.ingest.native import read_csv
from greyzone.ingest.records import RawRecord, Reject
from greyzone.model.enums import Kind, Side, TimePrecision

LONG_COLUMNS = frozenset({"settlement", "date", "status"})
WIDE_COLUMNS = frozenset({"geonameid", "longitude", "latitude"})
RECONFIRM_DAYS = 7
RADIUS_M = 1_500.0
KYIV = ZoneInfo("Europe/Kyiv")
_DAY_COLUMN = re.compile(r"^ch_(\d{8})$")
_STATUS = {
    "ua": (Side.HELD,),
    "held": (Side.HELD,),
    "ukr": (Side.HELD,),
    "ru": (Side.OTHER_SIDE,),
    "other_side": (Side.OTHER_SIDE,),
    "rus": (Side.OTHER_SIDE,),
    "contested": (Side.HELD, Side.OTHER_SIDE),
    "unknown": (Side.UNKNOWN,),
}


def is_wide(columns: set[str]) -> bool:
    return columns >= WIDE_COLUMNS and any(_DAY_COLUMN.match(c) for c in columns)


def read_settlements(path: Path, *, progress: Any = None) -> Iterator[Item]:
    """Control observations of a settlement list (long or wide layout, told apart by the header)."""
    rows = read_csv(path, progress=progress)
    first = next(rows, None)
    if first is None:
        return
    columns = set(first.fields) if isinstance(first, RawRecord) else set()
    reader = _wide if is_wide(columns) else _long
    yield from reader(itertools.chain([first], rows))


def _long(items: Iterator[Item]) -> Iterator[Item]:
    return each_record(items, _long_record)


def _long_record(item: RawRecord) -> Iterator[Item]:
    f = item.fields
    name = (f.get("settlement") or f.get("place") or "").strip()
    status = (f.get("status") or "").strip().lower()
    sides = _STATUS.get(status)
    if sides is None:
        yield Reject(item.file, item.row, "status", f"expected one of {', '.join(sorted(_STATUS))}", status)
        return
    try:
        day = datetime.strptime((f.get("date") or "").strip(), "%Y-%m-%d").replace(tzinfo=KYIV)
    except ValueError:
        yield Reject(item.file, item.row, "date", "expected YYYY-MM-DD", str(f.get("date")))
        return
    if not name and not (f.get("lon") and f.get("lat")):
        yield Reject(item.file, item.row, "settlement", "required: a settlement name, or lon and lat")
        return
    source = (f.get("source") or "settlement-list").strip()
    for side in sides:
        key = f"{name or f.get('lon')},{f.get('lat')}:{day:%Y-%m-%d}:{side.value}"
        yield RawRecord(
            item.file,
            item.row,
            {
                "id": stable_id(source, key),
                "lon": f.get("lon") or None,
                "lat": f.get("lat") or None,
                "location_precision_m": f.get("radius_m") or RADIUS_M,
                "place": name or None,
                **_observation(day, side, source, key, f.get("credibility") or 0.6),
            },
        )


def _wide(items: Iterator[Item]) -> Iterator[Item]:
    return each_record(items, _wide_record)


def _wide_record(item: RawRecord) -> Iterator[Item]:
    f = item.fields
    settlement = str(f.get("geonameid") or "").strip()
    name = str(f.get("name") or f.get("asciiname") or settlement).strip()
    last: tuple[str, datetime] | None = None
    for column in sorted(c for c in f if _DAY_COLUMN.match(c)):
        status = str(f.get(column) or "").strip().lower()
        if not status:
            continue
        sides = _STATUS.get(status)
        if sides is None:
            yield Reject(item.file, item.row, column, f"expected UA, RU or CONTESTED; got {status!r}", status)
            continue
        day = datetime.strptime(column[3:], "%Y%m%d").replace(tzinfo=KYIV)
        if last is not None and last[0] == status and (day - last[1]).days < RECONFIRM_DAYS:
            continue
        last = (status, day)
        for side in sides:
            key = f"{settlement}:{day:%Y%m%d}:{side.value}"
            yield RawRecord(
                item.file,
                item.row,
                {
                    "id": stable_id("viina-control", key),
                    "lon": f.get("longitude"),
                    "lat": f.get("latitude"),
                    "location_precision_m": RADIUS_M,
                    "place": name[:200] or None,
                    **_observation(day, side, "viina-control", key, 0.6),
                },
            )


def _observation(day: datetime, side: Side, source: str, key: str, credibility: Any) -> dict[str, Any]:
    return {
        "kind": Kind.CONTROL_OBSERVATION.value,
        "side": side.value,
        "observed_at": day,
        "time_precision": TimePrecision.DAY.value,
        "source": source,
        "source_record_id": key,
        "credibility": credibility,
    }
