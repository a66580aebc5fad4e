"""An in-memory Store double for unit tests: the same protocol and linking, no database."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from greyzone.errors import StoreError
from greyzone.ingest.records import Reject, rejected_rows
from greyzone.model.batch import ReportBatch
from greyzone.model.cells import cell_filter
from greyzone.model.enums import Kind
from greyzone.model.report import Report
from greyzone.store.base import (
    AuditEntry,
    BatchLog,
    BatchResult,
    City,
    ModelRecord,
    ReportFrame,
    ReportQuery,
    StoreStats,
    User,
    frame_from_rows,
)
from greyzone.store.plan import LINKABLE_PRECISIONS, Candidates, candidate_windows, plan_links, radius_cap_m
from greyzone.store.rows import ROW_COLUMNS, PreparedBatch, batch_log, first_occurrences, prepare, report_from_row

_COL = {name: i for i, name in enumerate(ROW_COLUMNS)}
_FRAME_NAMES = (
    "kind",
    "source",
    "observed_at",
    "time_precision",
    "lon",
    "lat",
    "location_precision_m",
    "credibility",
    "h3_r9",
)  # FRAME_COLUMNS after seq and incident


class MemoryStore:
    """Rows in a list (index = seq - 1), incidents in a dict. A batch is planned aside, then applied."""

    def __init__(self) -> None:
        self._rows: list[tuple[Any, ...]] = []
        self._incident: dict[int, int] = {}  # seq -> incident, for reports that joined another's
        self._by_id: dict[bytes, int] = {}
        self._cities: dict[str, City] = {}
        self._models: list[ModelRecord] = []
        self._batches: list[tuple[int, int]] = []  # (first_seq, last_seq)
        self._origins: list[tuple[str, float]] = []  # (origin, committed_at) of each batch
        self._rejects: list[Reject] = []
        self._rejected_rows = 0
        self._users: dict[str, tuple[bytes, str]] = {}  # name -> (token hash, role)
        self._audit: list[AuditEntry] = []
        self._answers: dict[tuple[str, str], str] = {}
        self._submitted: dict[str, set[bytes]] = {}

    def write_batch(self, batch: ReportBatch | PreparedBatch, rejects: Sequence[Reject], *, origin: str) -> BatchResult:
        prepared = batch if isinstance(batch, PreparedBatch) else prepare(batch)
        first = len(self._rows) + 1
        fresh = np.array(
            [i for i in first_occurrences(prepared.ids).tolist() if prepared.ids[i] not in self._by_id], dtype=np.intp
        )
        seqs = np.arange(first, first + len(fresh), dtype=np.int64)
        new = prepared.link.take(fresh)
        plan = plan_links(new, seqs, self._candidates(new, first)) if len(fresh) else None
        for i, seq in zip(fresh.tolist(), seqs.tolist(), strict=True):
            self._by_id[prepared.ids[i]] = seq
            self._rows.append(prepared.rows[i])
        if plan is not None:
            for seq, inc in zip(seqs.tolist(), plan.incident_id.tolist(), strict=True):
                if inc != seq:
                    self._incident[seq] = inc
            self._merge(plan.merges)
        self._batches.append((first, first + len(fresh) - 1))
        self._origins.append((origin, float(int(time.time()))))
        self._rejects.extend(rejects)
        self._rejected_rows += rejected_rows(rejects)
        return BatchResult(
            len(self._batches),
            len(fresh),
            len(prepared) - len(fresh),
            rejected_rows(rejects),
            plan.incidents if plan else 0,
        )

    def _merge(self, merges: dict[int, int]) -> None:
        for seq in range(1, len(self._rows) + 1):
            inc = self.incident_at(seq)
            if inc in merges:
                self._incident[seq] = merges[inc]

    def incident_at(self, seq: int) -> int:
        return self._incident.get(seq, seq)

    def _frame_row(self, seq: int, row: tuple[Any, ...]) -> tuple[Any, ...]:
        """A row in FRAME_COLUMNS order."""
        return (seq, self.incident_at(seq), *(row[_COL[n]] for n in _FRAME_NAMES))

    def _candidates(self, new: Any, first: int) -> Candidates:
        picked = []
        windows = candidate_windows(new)
        for seq, row in enumerate(self._rows, start=1):
            kind, t, precision = row[_COL["kind"]], row[_COL["observed_at"]], row[_COL["time_precision"]]
            if precision not in LINKABLE_PRECISIONS or row[_COL["location_precision_m"]] > radius_cap_m(Kind(kind)):
                continue
            if any(kind == k and lo <= t <= hi for k, lo, hi in windows):
                picked.append(self._frame_row(seq, row))
        return Candidates.from_frame(frame_from_rows(picked))

    def read_reports(self, query: ReportQuery) -> Iterator[Report]:
        rows = sorted(
            ((r[_COL["observed_at"]], seq, r) for seq, r in enumerate(self._rows, 1) if _matches(r, query)),
            key=lambda t: (t[0], t[1]),
        )
        for _, _, row in rows[: query.limit]:
            yield report_from_row(row)

    def read_frame(self, query: ReportQuery) -> ReportFrame:
        picked = sorted(
            ((r[_COL["observed_at"]], seq, r) for seq, r in enumerate(self._rows, 1) if _matches(r, query)),
            key=lambda t: (t[0], t[1]),
        )[: query.limit]
        return frame_from_rows([self._frame_row(seq, r) for _, seq, r in picked])

    def incident_of(self, report_id: bytes) -> int | None:
        seq = self._by_id.get(report_id)
        return None if seq is None else self.incident_at(seq)

    def count_incidents(self, batch_ids: Sequence[int]) -> int:
        seqs = (s for b in batch_ids for s in range(self._batches[b - 1][0], self._batches[b - 1][1] + 1))
        return len({self.incident_at(s) for s in seqs})

    def stats(self) -> StoreStats:
        kinds: dict[str, tuple[int, set[int]]] = {}
        sources: dict[str, int] = {}
        for seq, row in enumerate(self._rows, start=1):
            n, incs = kinds.get(row[_COL["kind"]], (0, set()))
            incs.add(self.incident_at(seq))
            kinds[row[_COL["kind"]]] = (n + 1, incs)
            sources[row[_COL["source"]]] = sources.get(row[_COL["source"]], 0) + 1
        times = [row[_COL["observed_at"]] for row in self._rows]
        return StoreStats(
            reports=len(self._rows),
            incidents=len({self.incident_at(s) for s in range(1, len(self._rows) + 1)}),
            batches=len(self._batches),
            rejects=self._rejected_rows,
            first_observed=datetime.fromtimestamp(min(times), UTC) if times else None,
            last_observed=datetime.fromtimestamp(max(times), UTC) if times else None,
            by_kind={k: (n, len(i)) for k, (n, i) in sorted(kinds.items())},
            by_source=dict(sorted(sources.items(), key=lambda kv: -kv[1])),
        )

    def write_city(self, city: City) -> None:
        self._cities[city.name] = city

    def read_city(self, name: str) -> City | None:
        return self._cities.get(name)

    def city_names(self) -> list[str]:
        return sorted(self._cities)

    def read_batches(self) -> BatchLog:
        rows = [(o, t, a, b) for (a, b), (o, t) in zip(self._batches, self._origins, strict=True) if b >= a]
        return batch_log(rows)

    def write_model(self, model: ModelRecord) -> int:
        self._models.append(replace(model, model_id=len(self._models) + 1))
        return len(self._models)

    def read_models(self, family: str) -> list[ModelRecord]:
        newest: dict[tuple[str, ...], ModelRecord] = {}
        for m in self._models:
            if m.family == family and (m.kinds not in newest or m.fitted_at >= newest[m.kinds].fitted_at):
                newest[m.kinds] = m
        return sorted(newest.values(), key=lambda m: (-m.fitted_at, -m.model_id))

    def add_user(self, name: str, role: str, token_sha256: bytes) -> None:
        if name in self._users or any(t == token_sha256 for t, _ in self._users.values()):
            raise StoreError(f"cannot add user {name!r}: the name or token exists")
        if role not in ("reporter", "verifier", "analyst", "coordinator", "admin"):
            raise StoreError(f"cannot add user {name!r}: unknown role {role!r}")
        self._users[name] = (token_sha256, role)

    def set_token(self, name: str, token_sha256: bytes | None) -> bool:
        if name not in self._users:
            return False
        if token_sha256 is None:
            del self._users[name]
        else:
            self._users[name] = (token_sha256, self._users[name][1])
        return True

    def user_of(self, token_sha256: bytes) -> User | None:
        return next((User(n, r) for n, (t, r) in self._users.items() if t == token_sha256), None)

    def audit(self, entry: AuditEntry) -> None:
        self._audit.append(entry)

    def audit_log(self, limit: int = 1000) -> list[AuditEntry]:
        return self._audit[::-1][:limit]

    def remember(self, actor: str, key: str, answer: str, report_ids: Sequence[bytes]) -> str:
        self._submitted.setdefault(actor, set()).update(report_ids)
        return self._answers.setdefault((actor, key), answer)

    def recall(self, actor: str, key: str) -> str | None:
        return self._answers.get((actor, key))

    def submitted_by(self, actor: str) -> set[bytes]:
        return set(self._submitted.get(actor, set()))

    def close(self) -> None:
        self._rows.clear()


def _matches(row: tuple[Any, ...], q: ReportQuery) -> bool:
    t = row[_COL["observed_at"]]
    checks = (
        q.since is None or t >= int(q.since.timestamp()),
        q.until is None or t < int(q.until.timestamp()),
        not q.kinds or row[_COL["kind"]] in {k.value for k in q.kinds},
        q.cell is None or _in_cell(row, q.cell),
        not q.cells or any(_in_cell(row, c) for c in q.cells),
        q.areas is None or (row[_COL["area_wkb"]] is not None) == q.areas,
        q.bbox is None or (q.bbox[0] <= row[_COL["lon"]] <= q.bbox[2] and q.bbox[1] <= row[_COL["lat"]] <= q.bbox[3]),
    )
    return all(checks)


def _in_cell(row: tuple[Any, ...], cell: int) -> bool:
    partition, lo, hi = cell_filter(cell)
    return bool(row[_COL["h3_r5"]] == partition and lo <= row[_COL["h3_r9"]] <= hi)
