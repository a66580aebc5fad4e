"""Reports in (files, API batches), out (export), counted; incidents listed and as a map layer."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
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
import numpy.typing as npt

from greyzone.application.access import RANK
from greyzone.application.stores import AppStore
from greyzone.errors import ConflictError, RejectedReportsError
from greyzone.export import report_to_dict, write_csv, write_geojson, write_jsonl
from greyzone.ingest.build import BuildContext, build_batch
from greyzone.ingest.formats import Format
from greyzone.ingest.gazetteer import Gazetteer
from greyzone.ingest.records import RawRecord, Reject, decode_json, write_rejects
from greyzone.ingest.runner import DEFAULT_BATCH_SIZE, IngestSummary, ingest_files
from greyzone.model.enums import Kind
from greyzone.model.report import Report
from greyzone.settings import Settings, reporter_key
from greyzone.store.base import BatchLog, BatchResult, ReportFrame, ReportQuery, Store, StoreStats, User

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "VERIFIER_FIELDS",
    "ExportFormat",
    "Format",
    "IncidentWindow",
    "Json",
    "PublicRule",
    "Reject",
    "Submission",
    "actor_key",
    "build_context",
    "counted",
    "decode_json",
    "export_reports",
    "incident_cells",
    "incident_layer",
    "incident_points",
    "incident_rows",
    "incident_window",
    "incidents",
    "ingest_reports",
    "is_vetted_origin",
    "iso",
    "public_rows",
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
    """What one API submission answered: the stored reports' ids (new and already stored), and whether
    this answer is the one kept for a retry with the same Idempotency-Key."""

    ids: list[str]
    accepted: int
    duplicates: int
    replay: bool = False

    def answer(self) -> Json:
        return {"ids": self.ids, "accepted": self.accepted, "duplicates": self.duplicates}


def actor_key(settings: Settings, user: User) -> str:
    """The name a user's submissions are kept under (who submitted what, kept answers, their reports'
    source): a keyed hash of the user name, never the name itself (analysts export sources)."""
    digest = hmac.new(reporter_key(settings), f"user:{user.name}".encode(), hashlib.sha256).hexdigest()
    return f"reporter-{digest[:16]}"


#: Fields only a verifier (or above) may set on a report sent through the API.
VERIFIER_FIELDS = ("credibility",)


def _own_records(records: Sequence[dict[str, object]], source: str, vetted: bool) -> list[RawRecord]:
    """The records as their sender may send them: a reporter's source is the reporter, whatever it claims."""
    out = []
    for i, r in enumerate(records):
        fields = dict(r) if vetted else {**r, "source": source}
        out.append(RawRecord("request", i + 1, fields))
    return out


def submit_reports(
    store: AppStore,
    settings: Settings,
    user: User,
    records: Sequence[dict[str, object]],
    *,
    idempotency_key: str | None = None,
    body_sha256: str = "",
) -> Submission:
    """Validate every record; store all of them in one transaction, or none (RejectedReportsError lists
    why). The rules for what a caller may set (MISSION: a reporter may be an adversary):

    * a reporter's reports carry the reporter's keyed name as source, whatever the record says, and may
      not set their credibility (a verifier's call); verifiers and above send source and credibility;
    * a reporter's report ids are the reporter's own (the id sent is hashed with the reporter's key), so a
      duplicate can only be the reporter's own earlier report: another user's report is never named,
      confirmed or made readable;
    * a retry with the same Idempotency-Key and the same body answers the first answer (``replay``); the
      same key with another body is refused (ConflictError), never silently dropped.
    """
    actor = actor_key(settings, user)
    kept = store.recall(actor, idempotency_key) if idempotency_key else None
    if kept is not None:
        first = json.loads(kept)
        if first.get("body_sha256", body_sha256) != body_sha256:
            raise ConflictError("this Idempotency-Key was used with another body: send a new key for new reports")
        answer = first.get("answer", first)
        return Submission(answer["ids"], answer["accepted"], answer["duplicates"], replay=True)
    vetted = RANK[user.role] >= RANK["verifier"]
    rows = _own_records(records, actor, vetted)
    ctx = build_context(settings, source=actor, with_gazetteer=False)
    batch, rejects = build_batch(rows, ctx)
    if not vetted:
        rejects += [
            Reject("request", row.row, name, "set by a verifier, not by the reporter: leave it out")
            for row in rows
            for name in VERIFIER_FIELDS
            if row.fields.get(name) is not None
        ]
    if rejects:
        bad = len({r.row for r in rejects})
        raise RejectedReportsError(
            f"{bad} of {len(records)} reports are not valid; none was stored",
            sorted((r.row, r.field, r.reason) for r in rejects),
        )
    if not vetted:
        batch = dataclasses.replace(batch, ids=[_own_id(actor, i) for i in batch.ids])
    result = store.write_batch(batch, [], origin=f"api:{user.role}:{actor}")
    done = Submission([str(uuid.UUID(bytes=i)) for i in batch.ids], result.accepted, result.duplicates)
    kept_text = json.dumps({"answer": done.answer(), "body_sha256": body_sha256})
    text = store.remember(actor, idempotency_key or f"batch:{result.batch_id}", kept_text, batch.ids)
    first = json.loads(text).get("answer", done.answer())  # a concurrent retry may have kept its answer first
    return Submission(first["ids"], first["accepted"], first["duplicates"])


def _own_id(actor: str, report_id: bytes) -> bytes:
    """A report id in the submitter's own namespace."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"greyzone:{actor}:{uuid.UUID(bytes=report_id)}").bytes


def reports_of(store: AppStore, settings: Settings, user: User, query: ReportQuery, limit: int) -> list[Report]:
    """The reports a user may read: a reporter's own, or every one (verifier and above)."""
    if RANK[user.role] >= RANK["verifier"]:
        return list(store.read_reports(ReportQuery(query.since, query.until, query.kinds, limit=limit)))
    own = store.submitted_by(actor_key(settings, user))
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
    """What the public may see of incidents (the README states it):

    * only *vetted* reports count: those ingested from files by an operator, and those sent through the
      API by a verifier or above — a reporter's own API reports never reach the public's counts, so no
      reporter can push a cell over the threshold and learn the rest by subtraction;
    * only reports both observed and *received* more than ``delay_h`` ago: a back-dated report waits
      its full delay too;
    * counts per H3 cell (``res``) and hour, the window snapped to whole hours (a window slid by minutes
      cannot show when inside an hour the reports fell);
    * in each cell-hour, a kind with at least ``min_count`` reports is counted by itself; the other kinds
      are pooled as one, counted only when the pool reaches ``min_count``; a cell-hour's count is the sum
      of what is counted, so no number below ``min_count`` is shown or follows by subtraction (asked for
      one kind, the layer shows that kind's counted part only).
    """

    delay_h: float = 24.0
    min_count: int = 5
    res: int = 8


def is_vetted_origin(origin: str) -> bool:
    """A batch whose reports count for the public: a file an operator ingested, or an API submission
    by a verifier or above (``api:ROLE:ACTOR``; an older ``api:NAME`` origin is not vetted)."""
    if not origin.startswith("api:"):
        return True
    role = origin.split(":")[1] if origin.count(":") >= 2 else ""
    return role in RANK and RANK[role] >= RANK["verifier"]


@dataclass(frozen=True, slots=True)
class IncidentWindow:
    start: datetime
    end: datetime
    full: bool  # exact points (verifier and above), or the public's aggregate
    now: datetime


def _hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def incident_window(
    role: str, since: datetime | None, until: datetime | None, rule: PublicRule, now: datetime
) -> IncidentWindow:
    """The time span of the incident layer for a role: 7 days by default; the public's ends ``delay_h``
    ago, and both its ends are snapped to whole hours."""
    full = RANK[role] >= RANK["verifier"]
    end = until or now
    if full:
        return IncidentWindow(since or end - timedelta(days=7), end, full, now)
    end = _hour(min(end, now - timedelta(hours=rule.delay_h)))
    start = _hour(since) if since is not None else end - timedelta(days=7)
    return IncidentWindow(min(start, end), end, full, now)


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


def public_rows(frame: ReportFrame, batches: BatchLog, rule: PublicRule, now: datetime) -> npt.NDArray[np.intp]:
    """The rows of ``frame`` the public may count: vetted, and received ``delay_h`` ago or earlier."""
    if not len(frame) or not len(batches.first_seq):
        return np.zeros(0, dtype=np.intp)
    which = batches.of(frame.seq)
    vetted = np.array([is_vetted_origin(o) for o in batches.origin], dtype=bool)[which]
    received = batches.committed_s[which] <= now.timestamp() - rule.delay_h * 3600
    return np.flatnonzero(vetted & received)


def counted(kinds: list[str], min_count: int) -> dict[str, int]:
    """One cell-hour's counts: each kind with at least ``min_count`` reports, and the others pooled as
    ``other`` when the pool reaches it (nothing smaller is counted)."""
    by_kind: dict[str, int] = {}
    for k in kinds:
        by_kind[k] = by_kind.get(k, 0) + 1
    shown = {k: n for k, n in by_kind.items() if n >= min_count}
    pool = sum(n for k, n in by_kind.items() if n < min_count)
    return shown | ({"other": pool} if pool >= min_count else {})


def incident_cells(frame: ReportFrame, rows: npt.NDArray[np.intp], rule: PublicRule, kind: Kind | None) -> Json:
    """Counts per H3 cell and hour of ``rows`` by :class:`PublicRule`; corners rounded to 0.001°."""
    if not rows.size:
        return {"type": "FeatureCollection", "features": [], "aggregated": True}
    r9 = frame.h3_r9[rows].tolist()
    cells = np.array([h3.api.basic_int.cell_to_parent(int(c), rule.res) for c in r9], dtype=np.int64)
    hours = (frame.observed_s[rows] // 3600).astype(np.int64)
    groups: dict[tuple[int, int], list[str]] = {}
    for cell, hour, i in zip(cells.tolist(), hours.tolist(), rows.tolist(), strict=True):
        groups.setdefault((cell, hour), []).append(frame.kind[i])
    features = []
    for (cell, hour), kinds in sorted(groups.items()):
        parts = counted(kinds, rule.min_count)
        n = parts.get(kind.value, 0) if kind is not None else sum(parts.values())
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
    """The incident layer of a window: points for the vetted roles, the public's aggregate for the rest."""
    if window.full:
        query = ReportQuery(since=window.start, until=window.end, kinds=frozenset({kind}) if kind else frozenset())
        return incident_points(store.read_frame(query))
    frame = store.read_frame(ReportQuery(since=window.start, until=window.end))  # every kind: kinds pool
    rows = public_rows(frame, store.read_batches(), rule, window.now)
    return incident_cells(frame, rows, rule, kind) | {"delayed_h": rule.delay_h, "until": window.end.isoformat()}
