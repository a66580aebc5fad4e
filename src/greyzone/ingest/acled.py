"""ACLED-format CSV (its documented columns) → reports.

Kind: by ``sub_event_type``, refined by the notes' words (a drone strike noted as FPV is an FPV
strike; a shelling noted as mortar fire is mortar). Territory changes become control
observations, the side read from the actor who took it. Event types greyzone does not track
(protests, riots, strategic developments without a place change) are rejected with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from greyzone.errors import Problem
from greyzone.ingest.keywords import kind_from_text
from greyzone.ingest.mapped import Item, map_records, parse_datetime, stable_id
from greyzone.ingest.native import read_csv
from greyzone.model.enums import Kind, ShellingKind, Side, TimePrecision

SOURCE = "acled"
COLUMNS = frozenset({"event_id_cnty", "event_date", "sub_event_type", "latitude", "longitude", "geo_precision"})
GEO_PRECISION_M = {"1": 2_000.0, "2": 15_000.0, "3": 50_000.0}  # town / near a town / region
TIME_PRECISION = {"1": TimePrecision.DAY, "2": TimePrecision.WEEK, "3": TimePrecision.MONTH}
DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d-%B-%Y", "%d %b %Y", "%d-%b-%Y")
_BY_SUB_EVENT: dict[str, tuple[Kind, ShellingKind | None]] = {
    "shelling/artillery/missile attack": (Kind.SHELLING, ShellingKind.ARTILLERY),
    "air/drone strike": (Kind.AIR_STRIKE, None),
    "armed clash": (Kind.CLASH, None),
    "remote explosive/landmine/ied": (Kind.MINE_UXO, None),
    "attack": (Kind.CLASH, None),
    "grenade": (Kind.CLASH, None),
}
_REFINES = {
    "shelling/artillery/missile attack": {Kind.MISSILE, Kind.SHELLING, Kind.GLIDE_BOMB},
    "air/drone strike": {Kind.GLIDE_BOMB, Kind.FPV_STRIKE, Kind.DRONE_DROP, Kind.MISSILE, Kind.AIR_STRIKE},
}
_TERRITORY = {"non-state actor overtakes territory", "government regains territory"}


def read_acled(path: Path, *, progress: Any = None) -> Iterator[Item]:
    return map_records(read_csv(path, progress=progress), acled_fields)


def _kind(sub: str, notes: str, actor: str) -> tuple[Kind, ShellingKind | None, Side | None] | Problem:
    if sub in _TERRITORY:
        side = Side.HELD if "ukrain" in actor else Side.OTHER_SIDE if "russia" in actor else Side.UNKNOWN
        return Kind.CONTROL_OBSERVATION, None, side
    base = _BY_SUB_EVENT.get(sub)
    if base is None:
        return Problem("sub_event_type", f"not an event kind greyzone tracks: {sub!r}")
    refined = kind_from_text(notes)
    if refined and refined[0] in _REFINES.get(sub, set()):
        return refined[0], refined[1], None
    return base[0], base[1], None


def acled_fields(row: dict[str, Any]) -> dict[str, Any] | Problem:
    day = parse_datetime(row.get("event_date", ""), DATE_FORMATS, "event_date")
    if isinstance(day, Problem):
        return day
    sub = (row.get("sub_event_type") or "").strip().lower()
    notes = (row.get("notes") or "").strip()
    found = _kind(sub, notes, (row.get("actor1") or "").lower())
    if isinstance(found, Problem):
        return found
    kind, subkind, side = found
    precision = GEO_PRECISION_M.get((row.get("geo_precision") or "").strip())
    if precision is None:
        return Problem("geo_precision", f"expected 1, 2 or 3; got {row.get('geo_precision')!r}")
    counts = kind not in (Kind.CONTROL_OBSERVATION,)
    return {
        "id": stable_id(SOURCE, (row.get("event_id_cnty") or "").strip()),
        "kind": kind.value,
        "subkind": subkind.value if subkind else None,
        "side": side.value if side else None,
        "observed_at": day,
        "time_precision": TIME_PRECISION.get((row.get("time_precision") or "1").strip(), TimePrecision.DAY).value,
        "lon": row.get("longitude"),
        "lat": row.get("latitude"),
        "location_precision_m": precision,
        "place": (row.get("location") or "").strip()[:200] or None,
        "source": SOURCE,
        "source_record_id": row.get("event_id_cnty"),
        "credibility": 0.7,
        "text": notes[:10_000] or None,
        "killed": row.get("fatalities") if counts else None,
    }
