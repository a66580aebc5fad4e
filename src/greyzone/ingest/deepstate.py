"""DeepStateMap-style status polygons → control observations over an area.

Two layouts are read: per-snapshot status features (``snapshot_utc``, ``status`` = ``occupied`` or
``unknown_status``) and one occupied polygon per day (``date``; the daily pipeline downloaded at
03:00 UTC). ``occupied`` → side ``other_side``; ``unknown_status`` (DeepStateMap's grey zone,
"status not confirmed") → side ``unknown``. The two layouts are two sources: two observers of
one truth.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from greyzone.errors import Problem
from greyzone.ingest.geojson import features_to_records
from greyzone.ingest.mapped import Item, map_records, stable_id
from greyzone.model.enums import Kind, Side

SOURCE = "deepstatemap"
DAILY_SOURCE = "deepstatemap-daily"
DAILY_HOUR = timedelta(hours=3)
STATUS_SIDE = {"occupied": Side.OTHER_SIDE, "unknown_status": Side.UNKNOWN}
CREDIBILITY = 0.8


def read_deepstate(path: Path, *, progress: Any = None) -> Iterator[Item]:
    return map_records(features_to_records(path, lambda props: props), deepstate_fields)


def deepstate_fields(props: dict[str, Any]) -> dict[str, Any] | Problem:
    if "snapshot_utc" in props:
        return _snapshot(props)
    if "date" in props:
        return _daily(props)
    return Problem("snapshot_utc", "expected a DeepStateMap feature with snapshot_utc and status, or a daily date")


def _snapshot(props: dict[str, Any]) -> dict[str, Any] | Problem:
    status = str(props.get("status", "")).strip().lower()
    side = STATUS_SIDE.get(status)
    if side is None:
        return Problem("status", f"expected occupied or unknown_status; got {props.get('status')!r}")
    when = str(props["snapshot_utc"])
    return _fields(props, SOURCE, side, when, f"{when}:{status}", f"DeepStateMap {status} area")


def _daily(props: dict[str, Any]) -> dict[str, Any] | Problem:
    try:
        day = datetime.fromisoformat(str(props["date"])).replace(tzinfo=UTC)
    except ValueError:
        return Problem("date", f"expected an ISO date; got {props.get('date')!r}")
    when = (day.replace(hour=0, minute=0, second=0) + DAILY_HOUR).isoformat()
    return _fields(props, DAILY_SOURCE, Side.OTHER_SIDE, when, when, "DeepStateMap occupied area (daily download)")


def _fields(props: dict[str, Any], source: str, side: Side, when: str, record: str, text: str) -> dict[str, Any]:
    return {
        "id": stable_id(source, record),
        "kind": Kind.CONTROL_OBSERVATION.value,
        "side": side.value,
        "observed_at": when.replace("Z", "+00:00"),
        "time_precision": "exact",
        "geometry": props["geometry"],
        "source": source,
        "source_record_id": record,
        "credibility": CREDIBILITY,
        "text": text,
    }


def status_by_day(path: Path) -> dict[str, dict[str, Any]]:
    """{day: {"occupied": geometry, "unknown_status": geometry}} of a map's published states, for scoring
    fused maps against it: a per-snapshot status file (``snapshot_utc``, ``status``; the last snapshot of
    each day), or a daily occupied-area file (``date``; its features are the occupied area, and it has no
    grey class: a day of it has "occupied" only)."""
    from shapely.geometry import shape

    from greyzone.ingest.geojson import iter_features

    days: dict[str, dict[str, Any]] = {}
    for _, feature in iter_features(path):
        props = (feature.get("properties") if isinstance(feature, dict) else None) or {}
        if not isinstance(feature, dict) or not isinstance(feature.get("geometry"), dict):
            continue
        if "snapshot_utc" in props and "status" in props:
            days.setdefault(str(props["snapshot_utc"])[:10], {})[str(props["status"])] = shape(feature["geometry"])
        elif "date" in props and "status" not in props:
            days.setdefault(str(props["date"])[:10], {})["occupied"] = shape(feature["geometry"])
    return dict(sorted(days.items()))
