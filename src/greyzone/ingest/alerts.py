"""Air-raid alert interval CSVs (official and volunteer feeds) → air_raid_alert reports.

An alert covers a region, not a point: its location is the region's centre (raion and oblast
centres built in; hromadas from the gazetteer, else their raion) with the region's size as the
precision, and its place is the region's name. ``ended_at`` is the alert's end; a volunteer
alert whose end was never seen (``naive``) has no end rather than an invented one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from greyzone.errors import GazetteerError, Problem
from greyzone.ingest.gazetteer import OBLAST, OBLAST_PRECISION_M, RAION_PRECISION_M, RAIONS_OF_DONETSK_OBLAST, name_key
from greyzone.ingest.mapped import Item, map_records, stable_id
from greyzone.ingest.native import read_csv
from greyzone.model.enums import Kind

OFFICIAL_COLUMNS = frozenset({"oblast", "raion", "hromada", "level", "started_at", "finished_at"})
VOLUNTEER_COLUMNS = frozenset({"region", "started_at", "finished_at", "naive"})
MERGED_COLUMNS = frozenset({"region", "started_at", "finished_at", "n_subalerts"})
_HROMADA_NOISE = re.compile(r"^m\.\s*\S+\s+ta\s+|\s*terytorialna hromada$", re.IGNORECASE)
_RAIONS = {name_key(en): (lon, lat) for _, en, lon, lat in RAIONS_OF_DONETSK_OBLAST}
Resolver = Callable[[str], tuple[float, float, float]]


def read_alerts(path: Path, *, progress: Any = None, gazetteer: Any = None) -> Iterator[Item]:
    """Alerts of any of the three layouts (chosen by the header)."""
    items = read_csv(path, progress=progress)
    resolve = gazetteer.resolve if gazetteer is not None else None
    return map_records(items, lambda row: alert_fields(row, resolve))


def alert_fields(row: dict[str, Any], resolve: Resolver | None) -> dict[str, Any] | Problem:
    if "level" in row:
        return _official(row, resolve)
    naive = str(row.get("naive", "")).strip().lower() == "true"
    source = "alerts:official-merged" if "n_subalerts" in row else "alerts:volunteer"
    return _alert(
        row,
        source,
        row.get("region") or OBLAST[1],
        "oblast",
        (OBLAST[2], OBLAST[3], OBLAST_PRECISION_M),
        ended=not naive,
    )


def _official(row: dict[str, Any], resolve: Resolver | None) -> dict[str, Any] | Problem:
    level = (row.get("level") or "").strip().lower()
    raion = (row.get("raion") or "").strip()
    if level == "oblast":
        return _alert(
            row, "alerts:official", row.get("oblast") or OBLAST[1], level, (OBLAST[2], OBLAST[3], OBLAST_PRECISION_M)
        )
    centre = _RAIONS.get(name_key(raion))
    if centre is None:
        return Problem("raion", f"not a raion of Donetsk oblast: {raion!r}")
    where = (centre[0], centre[1], RAION_PRECISION_M)
    if level == "raion":
        return _alert(row, "alerts:official", raion, level, where)
    if level != "hromada":
        return Problem("level", f"expected oblast, raion or hromada; got {row.get('level')!r}")
    hromada = (row.get("hromada") or "").strip()
    return _alert(row, "alerts:official", hromada, level, _hromada_centre(hromada, resolve) or where)


def _hromada_centre(hromada: str, resolve: Resolver | None) -> tuple[float, float, float] | None:
    if resolve is None:
        return None
    name = _HROMADA_NOISE.sub("", hromada).strip()
    try:
        return resolve(name)
    except GazetteerError:
        return None


def _alert(
    row: dict[str, Any], source: str, place: str, level: str, where: tuple[float, float, float], *, ended: bool = True
) -> dict[str, Any]:
    started = (row.get("started_at") or "").strip()
    lon, lat, precision = where
    return {
        "id": stable_id(source, f"{level}:{place}:{started}"),
        "kind": Kind.AIR_RAID_ALERT.value,
        "observed_at": started,
        "time_precision": "exact",
        "ended_at": row.get("finished_at") if ended else None,
        "lon": lon,
        "lat": lat,
        "location_precision_m": precision,
        "place": place.strip()[:200],
        "source": source,
        "credibility": 0.95 if source.startswith("alerts:official") else 0.7,
        "text": None if ended else "end of alert not observed",
    }
