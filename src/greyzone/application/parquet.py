"""GeoParquet out, for analysts' notebooks: reports, incidents, control cells and the hazard grid.

Each layer is one Parquet file (pyarrow) with its geometry as WKB in a ``geometry`` column and the
GeoParquet 1.0 ``geo`` metadata (no ``crs``: OGC:CRS84, longitude/latitude on WGS 84), so that
``geopandas.read_parquet``, GDAL and DuckDB read it as a layer. Every file says what it is and for when in
its ``greyzone`` metadata (the layer, the moment it is *as of*, when it was written); the control and
hazard rows carry each cell's own as-of as well. A layer with nothing to be made from (no control
observations, no fitted model) is not written, and the answer says why.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h3
import numpy as np
import shapely

from greyzone.application.stores import AppStore
from greyzone.errors import InputError, NotAvailableError
from greyzone.store.base import GisFeature, ReportQuery

Json = dict[str, Any]


def write_geoparquet(path: Path, columns: Json, geometry: list[shapely.Geometry], layer: str, as_of: datetime) -> int:
    """One GeoParquet file: the columns, the geometry as WKB, the ``geo`` and ``greyzone`` metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    shapes = np.asarray(geometry, dtype=object)
    types = sorted({g.geom_type for g in shapes}) if len(shapes) else []
    bounds = shapely.total_bounds(shapes).tolist() if len(shapes) else []
    table = pa.table({**columns, "geometry": pa.array(shapely.to_wkb(shapes).tolist(), type=pa.binary())})
    geo = {"version": "1.0.0", "primary_column": "geometry",
           "columns": {"geometry": {"encoding": "WKB", "geometry_types": types, "bbox": bounds}}}  # fmt: skip
    about = {"layer": layer, "as_of": as_of.isoformat(), "written_at": datetime.now(UTC).isoformat(timespec="seconds")}
    metadata = {
        **(table.schema.metadata or {}),
        b"geo": json.dumps(geo).encode(),
        b"greyzone": json.dumps(about).encode(),
    }
    pq.write_table(table.replace_schema_metadata(metadata), path, compression="zstd")
    return int(table.num_rows)


def _times(seconds: np.ndarray) -> Any:
    import pyarrow as pa

    return pa.array((np.asarray(seconds) * 1e6).astype("int64"), type=pa.timestamp("us", tz="UTC"))


def _cells(features: list[GisFeature], names: tuple[str, ...]) -> tuple[Json, list[shapely.Geometry]]:
    import pyarrow as pa

    columns: Json = {}
    for name in names:
        values = [f.properties.get(name) for f in features]
        if name in ("as_of", "first"):
            columns[name] = pa.array([None if v is None else datetime.fromisoformat(str(v)) for v in values],
                                     type=pa.timestamp("us", tz="UTC"))  # fmt: skip
        else:
            columns[name] = pa.array(values)
    return columns, [shapely.from_geojson(f.geometry) for f in features]


def export_parquet(
    store: AppStore, folder: Path, when: datetime, res: int = 8, hours: int = 6
) -> tuple[dict[str, int], list[str]]:
    """Write reports, incidents, control cells and the hazard grid (as of ``when``) as GeoParquet into
    ``folder``: (rows per file, what was not written and why)."""
    import pyarrow as pa

    from greyzone.application.gis import control_layers, hazard_layer

    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    skipped: list[str] = []
    frame = store.read_frame(ReportQuery(until=when))
    points = shapely.points(frame.lon, frame.lat)
    reports = {
        "seq": pa.array(frame.seq), "incident": pa.array(frame.incident), "kind": pa.array(frame.kind),
        "source": pa.array(frame.source), "observed_at": _times(frame.observed_s),
        "time_span_s": pa.array(frame.span_s), "location_precision_m": pa.array(frame.location_precision_m),
        "credibility": pa.array(frame.credibility),
        "h3_r9": pa.array([h3.int_to_str(int(c)) for c in frame.h3_r9], type=pa.string()),
    }  # fmt: skip
    written["reports.parquet"] = write_geoparquet(folder / "reports.parquet", reports, list(points), "reports", when)
    ids, inverse, counts = np.unique(frame.incident, return_inverse=True, return_counts=True)
    first = np.full(len(ids), np.inf)
    last = np.full(len(ids), -np.inf)
    np.minimum.at(first, inverse, frame.observed_s)
    np.maximum.at(last, inverse, frame.observed_s)
    lon = np.bincount(inverse, frame.lon, len(ids)) / np.maximum(counts, 1)
    lat = np.bincount(inverse, frame.lat, len(ids)) / np.maximum(counts, 1)
    kinds: list[set[str]] = [set() for _ in ids]
    sources: list[set[str]] = [set() for _ in ids]
    for i, kind, source in zip(inverse.tolist(), frame.kind, frame.source, strict=True):
        kinds[i].add(kind)
        sources[i].add(source)
    incidents = {
        "incident": pa.array(ids), "first_observed": _times(first), "last_observed": _times(last),
        "kinds": pa.array([",".join(sorted(k)) for k in kinds]), "reports": pa.array(counts),
        "sources": pa.array([len(s) for s in sources]),
    }  # fmt: skip
    centres = list(shapely.points(lon, lat)) if len(ids) else []
    written["incidents.parquet"] = write_geoparquet(folder / "incidents.parquet", incidents, centres, "incidents", when)
    try:
        _, cells = control_layers(store, when, res)
        columns, shapes = _cells(cells, ("cell", "state", "as_of"))
        written["control_cells.parquet"] = write_geoparquet(
            folder / "control_cells.parquet", columns, shapes, "control", when
        )
    except NotAvailableError as exc:
        skipped.append(f"control_cells.parquet: {exc}")
    try:
        grid = hazard_layer(store, when, hours)
        names = ("cell", "status", "peak_events_per_km2_h", "mean_events_per_km2_h", "first", "hours", "as_of")
        columns, shapes = _cells(grid, names)
        written["hazard.parquet"] = write_geoparquet(folder / "hazard.parquet", columns, shapes, "hazard", when)
    except (NotAvailableError, InputError) as exc:
        skipped.append(f"hazard.parquet: {exc}")
    return written, skipped
