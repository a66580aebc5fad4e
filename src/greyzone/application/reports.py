"""Reports in (files, API batches), out (export), counted; incidents listed and as a map layer."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TextIO

import h3
import numpy as np

from greyzone.application.access import RANK
from greyzone.application.stores import AppStore
from greyzone.errors import RejectedReportsError
from greyzone.export import report_to_dict, write_csv, write_geojson, write_jsonl
from greyzone.ingest.build import BuildContext, build_batch
from greyzone.ingest.formats import Format
from greyzone.ingest.gazetteer import Gazetteer
from greyzone.ingest.records import RawRecord, Reject, write_rejects
from greyzone.ingest.runner import DEFAULT_BATCH_SIZE, IngestSummary, ingest_files
from greyzone.model.enums import Kind
from greyzone.model.report import Report
from greyzone.settings import Settings, reporter_key
from greyzone.store.base import BatchResult, ReportFrame, ReportQuery, Store, StoreStats, User

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ExportFormat",
    "Format",
    "IncidentWindow",
    "Json",
    "PublicRule",
    "Reject",
    "Submission",
    "build_context",
    "export_reports",
    "incident_cells",
    "incident_layer",
    "incident_points",
    "incident_rows",
    "incident_window",
    "incidents",
    "ingest_reports",
    "iso",
    "report_to_dict",
    "reports_of",
    "stats_to_dict",
    "submit_reports",
    "write_rejects",
]

#: A GeoJSON object or another JSON answer, as plain values.
Json = dict[str, object]


class ExportFormat(StrEnum):
    CSV = "csv"
    GEOJSON = "geojson"
    JSONL = "jsonl"


def build_context(settings: Settings, *, source: str | None = None, with_gazetteer: bool = True) -> BuildContext:
    """How records become reports here: the gazetteer, the reporter key, now, the default source."""
    gazetteer = Gazetteer.from_dir(settings.gazetteer_dir) if with_gazetteer and settings.gazetteer_dir else None
    return BuildContext(
        gazetteer=gazetteer, reporter_key=reporter_key(settings), now_s=time.time(), default_source=source
    )


def ingest_reports(
    store: Store,
    settings: Settings,
    files: Sequence[Path],
    *,
    fmt: Format = Format.AUTO,
    source: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_rejects: Callable[[list[Reject]], None] | None = None,
    on_batch: Callable[[Path, BatchResult, int], None] | None = None,
) -> IngestSummary:
    """Ingest files batch by batch (each lands whole or not at all); rejects go to ``on_rejects``."""
    ctx = build_context(settings, source=source)
    return ingest_files(files, store, fmt=fmt, ctx=ctx, batch_size=batch_size, on_rejects=on_rejects, on_batch=on_batch)


def export_reports(store: Store, query: ReportQuery, fmt: ExportFormat, stream: TextIO) -> int:
    """Write the reports of ``query`` to ``stream``; how many."""
    writer = {ExportFormat.CSV: write_csv, ExportFormat.GEOJSON: write_geojson, ExportFormat.JSONL: write_jsonl}[fmt]
    return writer(store.read_reports(query), stream)


def stats_to_dict(s: StoreStats) -> Json:
    return {
        "reports": s.reports,
        "incidents": s.incidents,
        "batches": s.batches,
        "rejects": s.rejects,
        "first_observed": s.first_observed.isoformat() if s.first_observed else None,
        "last_observed": s.last_observed.isoformat() if s.last_observed else None,
        "by_kind": {k: {"reports": n, "incidents": m} for k, (n, m) in s.by_kind.items()},
        "by_source": s.by_source,
    }


@dataclass(frozen=True, slots=True)
class Submission:
    """What one API submission stored: the reports' ids (new and already stored), and the batch."""

    ids: list[str]
    accepted: int
    duplicates: int
    batch_id: int

    def answer(self) -> Json:
        return {"ids": self.ids, "accepted": self.accepted, "duplicates": self.duplicates}


def submit_reports(store: Store, settings: Settings, user: User, records: Sequence[dict[str, object]]) -> Submission:
    """Validate every record; store all of them in one transaction, or none (RejectedReportsError lists why)."""
    ctx = build_context(settings, source=f"api:{user.name}", with_gazetteer=False)
    batch, rejects = build_batch([RawRecord("request", i + 1, r) for i, r in enumerate(records)], ctx)
    if rejects:
        raise RejectedReportsError(
            f"{len(rejects)} of {len(records)} reports are not valid; none was stored",
            [(r.row, r.field, r.reason) for r in rejects],
        )
    ids = [str(uuid.UUID(bytes=i)) for i in batch.ids]
    result = store.write_batch(batch, [], origin=f"api:{user.name}")
    return Submission(ids, result.accepted, result.duplicates, result.batch_id)


def reports_of(store: AppStore, user: User, query: ReportQuery, limit: int) -> list[Report]:
    """The reports a user may read: a reporter's own, or every one (verifier and above)."""
    if RANK[user.role] >= RANK["verifier"]:
        return list(store.read_reports(ReportQuery(query.since, query.until, query.kinds, limit=limit)))
    own = store.submitted_by(user.name)
    return [r for r in store.read_reports(query) if r.report_id.bytes in own][:limit]


def iso(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, UTC).isoformat()


def incident_rows(frame: ReportFrame) -> list[Json]:
    """One row per incident: its kind, first and last report, how many reports and sources, where."""
    if not len(frame):
        return []
    order = np.argsort(frame.incident, kind="stable")
    ids, starts = np.unique(frame.incident[order], return_index=True)
    ends = [*starts[1:].tolist(), len(order)]
    out: list[Json] = []
    for incident, a, b in zip(ids.tolist(), starts.tolist(), ends, strict=True):
        rows = order[a:b]
        best = rows[np.argmin(frame.location_precision_m[rows])]  # the most precise report places it
        out.append(
            {
                "incident": incident,
                "kind": frame.kind[int(rows[0])],
                "reports": len(rows),
                "sources": len({frame.source[int(r)] for r in rows}),
                "first": iso(float(frame.observed_s[rows].min())),
                "last": iso(float(frame.observed_s[rows].max())),
                "lon": float(frame.lon[best]),
                "lat": float(frame.lat[best]),
                "precision_m": float(frame.location_precision_m[best]),
            }
        )
    return sorted(out, key=lambda r: str(r["first"]))


def incidents(store: Store, query: ReportQuery, limit: int) -> list[Json]:
    return incident_rows(store.read_frame(query))[:limit]


@dataclass(frozen=True, slots=True)
class PublicRule:
    """What the public may see of incidents: counts per H3 cell and hour, never under ``min_count``
    reports, nothing newer than ``delay_h``."""

    delay_h: float = 24.0
    min_count: int = 5
    res: int = 8


@dataclass(frozen=True, slots=True)
class IncidentWindow:
    start: datetime
    end: datetime
    full: bool  # exact points (verifier and above), or the public's aggregate


def incident_window(
    role: str, since: datetime | None, until: datetime | None, rule: PublicRule, now: datetime
) -> IncidentWindow:
    """The time span of the incident layer for a role (the public's ends ``delay_h`` ago; 7 days by default)."""
    full = RANK[role] >= RANK["verifier"]
    end = until or now
    if not full:
        end = min(end, now - timedelta(hours=rule.delay_h))
    return IncidentWindow(since or end - timedelta(days=7), end, full)


def incident_points(frame: ReportFrame) -> Json:
    """Every report as a point (verifier and above)."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
            "properties": {"kind": k, "observed_at": iso(float(t)), "incident": int(i), "precision_m": float(p)},
        }
        for x, y, k, t, i, p in zip(
            frame.lon, frame.lat, frame.kind, frame.observed_s, frame.incident, frame.location_precision_m, strict=True
        )
    ]
    return {"type": "FeatureCollection", "features": features, "aggregated": False}


def incident_cells(frame: ReportFrame, rule: PublicRule) -> Json:
    """Counts per H3 cell and hour; cell-hours under ``rule.min_count`` reports are left out; corners to 0.001°."""
    if not len(frame):
        return {"type": "FeatureCollection", "features": [], "aggregated": True}
    cells = np.array([h3.api.basic_int.cell_to_parent(int(c), rule.res) for c in frame.h3_r9.tolist()], dtype=np.int64)
    hours = (frame.observed_s // 3600).astype(np.int64)
    keys, counts = np.unique(np.stack([cells, hours], axis=1), axis=0, return_counts=True)
    features = []
    for (cell, hour), n in zip(keys.tolist(), counts.tolist(), strict=True):
        if n < rule.min_count:
            continue
        lat, lon = h3.cell_to_latlng(h3.int_to_str(cell))
        ring = [[round(x, 3), round(y, 3)] for y, x in h3.cell_to_boundary(h3.int_to_str(cell))]
        props = {
            "cell": h3.int_to_str(cell),
            "hour": iso(hour * 3600),
            "reports": n,
            "centre": [round(lon, 3), round(lat, 3)],
        }
        geometry = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features, "aggregated": True}


def incident_layer(store: Store, window: IncidentWindow, kind: Kind | None, rule: PublicRule) -> Json:
    """The incident layer of a window: points for the vetted, the public's aggregate for the rest."""
    query = ReportQuery(since=window.start, until=window.end, kinds=frozenset({kind}) if kind else frozenset())
    frame = store.read_frame(query)
    if window.full:
        return incident_points(frame)
    return incident_cells(frame, rule) | {"delayed_h": rule.delay_h, "until": window.end.isoformat()}
