"""GeoJSON FeatureCollections: a Point feature is a report at a place, a (Multi)Polygon a report
about an area. Properties are greyzone field names.

Features are decoded one by one from the ``features`` array, so a file cut short still yields
every whole feature before the cut, and rejects the broken one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from greyzone.errors import IngestError
from greyzone.ingest.mapped import unreadable
from greyzone.ingest.records import JSON_DECODER, RawRecord, Reject

Item = RawRecord | Reject
_FEATURES = re.compile(r'"features"\s*:\s*\[')
_NEXT_FEATURE = re.compile(r'[,\[]\s*\{\s*"type"\s*:\s*"Feature"\s*[,}]')


def iter_features(path: Path) -> Iterator[tuple[int, dict[str, Any] | Reject]]:
    """(feature number, feature or reject) for each element of the ``features`` array."""
    name = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"{name}: not UTF-8 at byte {exc.start}: save the file as UTF-8") from None
    match = _FEATURES.search(text)
    if match is None:
        raise IngestError(f'{name}: not a GeoJSON FeatureCollection (no "features" array)')
    pos, n = match.end(), 0
    while True:
        pos = _skip(text, pos)
        if pos >= len(text):
            yield n + 1, Reject(name, n + 1, "(feature)", "file cut short inside the features array")
            return
        if text[pos] == "]":
            return
        n += 1
        try:
            feature, pos = JSON_DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            yield n, Reject(name, n, "(feature)", f"not JSON (file cut short?): {exc.msg}")
            return
        except RecursionError:
            yield n, Reject(name, n, "(feature)", "JSON nested too deeply to read")
            resync = _NEXT_FEATURE.search(text, pos + 1)
            if resync is None:
                return
            pos = resync.start() + 1  # at the next feature's opening brace
            continue
        yield n, feature if isinstance(feature, dict) else Reject(name, n, "(feature)", "expected a JSON object")


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n,":
        pos += 1
    return pos


def read_geojson(path: Path, *, progress: Any = None) -> Iterator[Item]:
    """Records of a FeatureCollection in greyzone's schema (properties = fields)."""
    return features_to_records(path, _native_fields)


def features_to_records(path: Path, to_fields: Callable[[dict[str, Any]], dict[str, Any]]) -> Iterator[Item]:
    """Each feature as a record of ``to_fields(properties + geometry)``; a feature that is not one, or whose
    translation fails, is that feature's reject."""
    name = str(path)
    for n, feature in iter_features(path):
        if isinstance(feature, Reject):
            yield feature
            continue
        geometry = feature.get("geometry")
        props = feature.get("properties") or {}
        if not isinstance(geometry, dict) or not isinstance(props, dict):
            yield Reject(name, n, "geometry", "expected a Feature with a geometry object and properties")
            continue
        try:
            yield RawRecord(name, n, to_fields({**props, "geometry": geometry}))
        except Exception as exc:
            yield Reject(name, n, "(record)", unreadable(exc))


def _native_fields(props: dict[str, Any]) -> dict[str, Any]:
    geometry = props["geometry"]
    if geometry.get("type") == "Point":
        coords = geometry.get("coordinates") or [None, None]
        props = {**props, "lon": coords[0] if len(coords) > 0 else None, "lat": coords[1] if len(coords) > 1 else None}
        props.pop("geometry")
    return props


def read_lines(path: Path) -> Any:
    """The (Multi)LineString features of a FeatureCollection as one MultiLineString (lon/lat), e.g.
    roads; any other feature is an error naming it."""
    import shapely
    from shapely.geometry import shape

    lines = []
    for n, feature in iter_features(path):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") not in ("LineString", "MultiLineString"):
            raise IngestError(f"{path}:{n}: geometry: expected a LineString or MultiLineString feature")
        lines.extend(shapely.get_parts(shape(geometry)))
    return shapely.multilinestrings(lines)
