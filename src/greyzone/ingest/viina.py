"""VIINA event files (``events_*.csv``, its documented columns) → reports.

VIINA classifies news reports by event type (``t_*``) and actor (``a_*``), as binary ``*_b``
columns or probabilities ``*_pred``. The first type greyzone tracks, in the order below, sets the
kind; the text's words refine it (mortar, MLRS, glide bomb, FPV). A report of territorial control
becomes a control observation whose side is the initiating actor's. Reports with none of these
types (sanctions, cyber, arrests, human-interest stories) are rejected with that reason.
The time is the report's (Kyiv local, made UTC) at day precision: news trails the event.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from greyzone.errors import Problem
from greyzone.ingest.keywords import kind_from_text
from greyzone.ingest.mapped import Item, map_records, stable_id
from greyzone.ingest.native import read_csv
from greyzone.model.enums import Kind, Side, TimePrecision

SOURCE = "viina"
COLUMNS = frozenset({"event_id", "date", "longitude", "latitude", "geo_precision"})
KYIV = ZoneInfo("Europe/Kyiv")
GEO_PRECISION_M = {
    "street": 200.0,
    "address": 200.0,
    "city": 5_000.0,
    "locality": 5_000.0,
    "ppl": 5_000.0,
    "adm3": 15_000.0,
    "adm2": 30_000.0,
    "adm1": 100_000.0,
}
_TYPES: tuple[tuple[str, Kind, set[Kind]], ...] = (
    ("t_airstrike", Kind.AIR_STRIKE, {Kind.GLIDE_BOMB, Kind.FPV_STRIKE, Kind.DRONE_DROP, Kind.MISSILE}),
    ("t_artillery", Kind.SHELLING, {Kind.SHELLING, Kind.MISSILE}),
    ("t_ied", Kind.MINE_UXO, set()),
    ("t_control", Kind.CONTROL_OBSERVATION, set()),
    ("t_occupy", Kind.CONTROL_OBSERVATION, set()),
    ("t_firefight", Kind.CLASH, set()),
    ("t_armor", Kind.CLASH, set()),
    ("t_raid", Kind.CLASH, {Kind.INFILTRATION_SIGHTING}),
)


def read_viina(path: Path, *, progress: Any = None) -> Iterator[Item]:
    return map_records(read_csv(path, progress=progress), viina_fields)


def _flag(row: dict[str, Any], name: str) -> bool:
    binary = row.get(f"{name}_b")
    if binary not in (None, ""):
        return str(binary).strip() in ("1", "1.0", "true", "True")
    try:
        return float(row.get(f"{name}_pred") or 0.0) >= 0.5
    except ValueError:
        return False


def _kind(row: dict[str, Any], text: str) -> tuple[Kind, Any, Side | None] | Problem:
    for column, kind, refinements in _TYPES:
        if not _flag(row, column):
            continue
        if kind is Kind.CONTROL_OBSERVATION:
            side = Side.OTHER_SIDE if _flag(row, "a_rus") else Side.HELD if _flag(row, "a_ukr") else Side.UNKNOWN
            return kind, None, side
        refined = kind_from_text(text)
        if refined and (refined[0] in refinements or refined[0] is kind):
            return refined[0], refined[1], None
        return kind, None, None
    return Problem("t_mil", "no event type greyzone tracks (artillery, air strike, IED, control, clash)")


def viina_fields(row: dict[str, Any]) -> dict[str, Any] | Problem:
    date, clock = (row.get("date") or "").strip(), (row.get("time") or "00:00").strip() or "00:00"
    try:
        local = datetime.strptime(f"{date} {clock}", "%Y%m%d %H:%M").replace(tzinfo=KYIV)
    except ValueError:
        return Problem("date", f"expected YYYYMMDD (and time HH:MM); got {date!r} {clock!r}")
    text = (row.get("text") or "").strip()
    found = _kind(row, text)
    if isinstance(found, Problem):
        return found
    kind, subkind, side = found
    precision = GEO_PRECISION_M.get((row.get("geo_precision") or "").strip().lower(), 10_000.0)
    return {
        "id": stable_id(SOURCE, (row.get("event_id") or "").strip()),
        "kind": kind.value,
        "subkind": subkind.value if subkind else None,
        "side": side.value if side else None,
        "observed_at": local,
        "time_precision": TimePrecision.DAY.value,
        "lon": row.get("longitude"),
        "lat": row.get("latitude"),
        "location_precision_m": precision,
        "place": (row.get("address") or "").strip()[:200] or None,
        "source": f"{SOURCE}:{(row.get('source') or 'unknown').strip()}",
        "source_record_id": row.get("event_id"),
        "credibility": 0.5,
        "text": text[:10_000] or None,
    }
