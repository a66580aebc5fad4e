"""Reports as table rows, one column order for every SQL backend.

Kind-specific and optional fields travel as one JSON object (``attrs``): most reports have none
of them, and a column per field costs every insert.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from greyzone.model.batch import ReportBatch
from greyzone.model.cells import Cells
from greyzone.model.columns import ReportColumns
from greyzone.model.enums import InfraStatus, Kind, Service, ServiceStatus, ShellingKind, Side, TimePrecision, Utility
from greyzone.model.report import Report, report_from_trusted

COLUMNS = (
    "seq",
    "id",
    "kind",
    "subkind",
    "observed_at",
    "time_precision",
    "lon",
    "lat",
    "location_precision_m",
    "h3_r5",
    "h3_r7",
    "h3_r9",
    "source",
    "credibility",
    "text",
    "attrs",
    "area_wkb",
    "reporter_hash",
    "incident_id",
    "batch_id",
)
CANDIDATE_COLUMNS = (
    "seq",
    "incident_id",
    "kind",
    "source",
    "observed_at",
    "time_precision",
    "lon",
    "lat",
    "location_precision_m",
)
TEXT_ATTRS = ("side", "utility", "service", "status", "place", "source_record_id")
NUMBER_ATTRS = {"killed": "killed", "injured": "injured", "reported_at": "reported_s", "ended_at": "ended_s"}


def attrs_of(c: ReportColumns) -> list[str | None]:
    """The JSON ``attrs`` of each row (None where a row has none)."""
    n = len(c)
    found: list[dict[str, Any] | None] = [None] * n
    for name in TEXT_ATTRS:
        for i, v in enumerate(getattr(c, name)):
            if v is not None:
                found[i] = found[i] or {}
                found[i][name] = str(v)  # type: ignore[index]
    for name, column in NUMBER_ATTRS.items():
        values = getattr(c, column)
        for i in np.flatnonzero(~np.isnan(values)).tolist():
            found[i] = found[i] or {}
            found[i][name] = int(values[i])  # type: ignore[index]
    return [None if a is None else json.dumps(a, ensure_ascii=False, separators=(",", ":")) for a in found]


def rows_from_batch(
    batch: ReportBatch, index: Sequence[int], seqs: Sequence[int], incident_ids: Sequence[int], batch_id: int
) -> list[tuple[Any, ...]]:
    """Table rows (COLUMNS order) for the batch rows at ``index``."""
    at = np.asarray(index, dtype=np.intp)
    c = batch.cols.take(at)
    cells = batch.cells[at]
    return list(
        zip(
            seqs,
            [batch.ids[i] for i in at],
            [k.value for k in c.kind if k],
            [s.value if s else None for s in c.subkind],
            [int(t) for t in c.observed_s.tolist()],
            [p.value for p in c.time_precision if p],
            c.lon.tolist(),
            c.lat.tolist(),
            c.location_precision_m.tolist(),
            cells[:, 0].tolist(),
            cells[:, 1].tolist(),
            cells[:, 2].tolist(),
            c.source,
            c.credibility.tolist(),
            c.text,
            attrs_of(c),
            c.area_wkb,
            [batch.reporter_hash[i] for i in at],
            incident_ids,
            [batch_id] * len(at),
            strict=True,
        )
    )


def _time(t: int | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, UTC)


def _status(kind: Kind, value: str | None) -> InfraStatus | ServiceStatus | None:
    if value is None:
        return None
    return ServiceStatus(value) if kind is Kind.SERVICE_STATUS else InfraStatus(value)


def _opt(enum: Any, value: str | None) -> Any:
    return None if value is None else enum(value)


def report_from_row(row: Sequence[Any]) -> Report:
    """A Report from a row in COLUMNS order."""
    r = dict(zip(COLUMNS, row, strict=True))
    a: dict[str, Any] = json.loads(r["attrs"]) if r["attrs"] else {}
    kind = Kind(r["kind"])
    return report_from_trusted(
        Cells(int(r["h3_r5"]), int(r["h3_r7"]), int(r["h3_r9"])),
        kind=kind,
        observed_at=_time(r["observed_at"]),
        lon=r["lon"],
        lat=r["lat"],
        location_precision_m=r["location_precision_m"],
        source=r["source"],
        time_precision=TimePrecision(r["time_precision"]),
        credibility=r["credibility"],
        id=uuid.UUID(bytes=bytes(r["id"])),
        subkind=_opt(ShellingKind, r["subkind"]),
        area_wkb=None if r["area_wkb"] is None else bytes(r["area_wkb"]),
        place=a.get("place"),
        source_record_id=a.get("source_record_id"),
        text=r["text"],
        reported_at=_time(a.get("reported_at")),
        ended_at=_time(a.get("ended_at")),
        reporter_hash=None if r["reporter_hash"] is None else bytes(r["reporter_hash"]),
        side=_opt(Side, a.get("side")),
        utility=_opt(Utility, a.get("utility")),
        service=_opt(Service, a.get("service")),
        status=_status(kind, a.get("status")),
        killed=a.get("killed"),
        injured=a.get("injured"),
    )
