"""Reports as table rows, one column order for every SQL backend, and the prepared batch.

A :class:`PreparedBatch` is what a store writes: plain row tuples (strings, numbers, bytes) and
the arrays incident linking needs. Preparing is pure and can run in another process than the
writing (the ingest pipeline does so), so that the writer only inserts and links.

Kind-specific and optional fields travel as one JSON object (``attrs``): most reports have none
of them, and a column per field costs every insert.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from greyzone.model.batch import ReportBatch
from greyzone.model.cells import cells_of_block
from greyzone.model.columns import ReportColumns
from greyzone.model.enums import InfraStatus, Kind, Service, ServiceStatus, ShellingKind, Side, TimePrecision, Utility
from greyzone.model.report import Report, report_from_trusted
from greyzone.store.base import BatchLog, ModelRecord
from greyzone.store.plan import LinkInput, link_input

#: The columns a report is written with; the store adds ``seq`` (append order) and ``incident_id``.
ROW_COLUMNS = (
    "id",
    "kind",
    "subkind",
    "observed_at",
    "time_precision",
    "lon",
    "lat",
    "location_precision_m",
    "h3_r5",
    "h3_r9",
    "source",
    "credibility",
    "text",
    "attrs",
    "area_wkb",
    "reporter_hash",
)
TEXT_ATTRS = ("side", "utility", "service", "status", "place", "source_record_id")
NUMBER_ATTRS = {"killed": "killed", "injured": "injured", "reported_at": "reported_s", "ended_at": "ended_s"}
Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """Rows in ROW_COLUMNS order, their ids, and what linking needs of them."""

    rows: list[Row]
    ids: list[bytes]
    link: LinkInput

    def __len__(self) -> int:
        return len(self.rows)


def prepare(batch: ReportBatch) -> PreparedBatch:
    c = batch.cols
    rows = list(
        zip(
            batch.ids,
            _values(c.kind),
            _values(c.subkind),
            c.observed_s.astype(np.int64).tolist(),
            _values(c.time_precision),
            c.lon.tolist(),
            c.lat.tolist(),
            c.location_precision_m.tolist(),
            batch.cells[:, 0].tolist(),
            batch.cells[:, 2].tolist(),
            c.source,
            c.credibility.tolist(),
            c.text,
            attrs_of(c),
            c.area_wkb,
            batch.reporter_hash,
            strict=True,
        )
    )
    return PreparedBatch(rows, list(batch.ids), link_input(c))


def first_occurrences(ids: Sequence[bytes]) -> npt.NDArray[np.intp]:
    """Positions of the first occurrence of each id (a batch may repeat a report)."""
    seen: dict[bytes, int] = {}
    for i, x in enumerate(ids):
        seen.setdefault(x, i)
    return np.fromiter(seen.values(), dtype=np.intp, count=len(seen))


def _values(members: Sequence[Any]) -> list[str | None]:
    """Plain strings of enum members (binding an Enum to sqlite3 costs ~1 µs of attribute look-ups)."""
    as_text = str.__str__  # StrEnum's own __str__: C-level, no attribute look-ups
    if None not in members:
        return list(map(as_text, members))
    return [None if m is None else as_text(m) for m in members]


def attrs_of(c: ReportColumns) -> list[str | None]:
    """The JSON ``attrs`` of each row (None where a row has none)."""
    found: list[dict[str, Any] | None] = [None] * len(c)
    for name in TEXT_ATTRS:
        values = getattr(c, name)
        if values.count(None) == len(values):
            continue
        for i, v in enumerate(values):
            if v is not None:
                found[i] = {**(found[i] or {}), name: str(v)}
    for name, column in NUMBER_ATTRS.items():
        values = getattr(c, column)
        for i in np.flatnonzero(~np.isnan(values)).tolist():
            found[i] = {**(found[i] or {}), name: int(values[i])}
    return [None if a is None else json.dumps(a, ensure_ascii=False, separators=(",", ":")) for a in found]


def _time(t: int | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, UTC)


def _status(kind: Kind, value: str | None) -> InfraStatus | ServiceStatus | None:
    if value is None:
        return None
    return ServiceStatus(value) if kind is Kind.SERVICE_STATUS else InfraStatus(value)


def _opt(enum: Any, value: str | None) -> Any:
    return None if value is None else enum(value)


def report_from_row(row: Sequence[Any]) -> Report:
    """A Report from a row in ROW_COLUMNS order."""
    r = dict(zip(ROW_COLUMNS, row, strict=True))
    a: dict[str, Any] = json.loads(r["attrs"]) if r["attrs"] else {}
    kind = Kind(r["kind"])
    return report_from_trusted(
        cells_of_block(int(r["h3_r9"])),
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


#: The batches that added reports, in seq order (both SQL backends).
BATCH_LOG = (
    "SELECT origin, committed_at, first_seq, last_seq FROM batches WHERE last_seq >= first_seq ORDER BY first_seq"
)


def batch_log(rows: Sequence[Sequence[Any]]) -> BatchLog:
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
    origin, committed, first, last = columns
    return BatchLog(
        [str(o) for o in origin],
        np.array(committed, dtype=np.float64),
        np.array(first, dtype=np.int64),
        np.array(last, dtype=np.int64),
    )


#: A model row (both SQL backends; SQLite swaps the placeholders for ``?``).
MODEL_INSERT = (
    "INSERT INTO models (family, kinds, format, fitted_at, data_from, data_until, summary, state)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
#: The newest model of a family per set of kinds (ties: the later row), newest first.
NEWEST_MODELS = (
    "SELECT id, family, kinds, format, fitted_at, data_from, data_until, summary, state FROM models m"
    " WHERE family = %s AND NOT EXISTS (SELECT 1 FROM models n WHERE n.family = m.family AND n.kinds = m.kinds"
    " AND (n.fitted_at > m.fitted_at OR (n.fitted_at = m.fitted_at AND n.id > m.id)))"
    " ORDER BY fitted_at DESC, id DESC"
)


def model_row(m: ModelRecord) -> tuple[Any, ...]:
    return (m.family, ",".join(m.kinds), m.format, m.fitted_at, m.data_from, m.data_until, m.summary, m.state)


def model_from_row(row: Sequence[Any]) -> ModelRecord:
    model_id, family, kinds, fmt, fitted_at, data_from, data_until, summary, state = row
    return ModelRecord(
        family,
        tuple(kinds.split(",")) if kinds else (),
        fmt,
        float(fitted_at),
        float(data_from),
        float(data_until),
        summary,
        state,
        int(model_id),
    )
