"""An in-memory Store double for unit tests: the same protocol and linking, no database."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from greyzone.ingest.records import Reject
from greyzone.model.batch import ReportBatch
from greyzone.model.enums import Kind
from greyzone.model.report import Report
from greyzone.store.base import BatchResult, ReportQuery, StoreStats
from greyzone.store.plan import LINKABLE_PRECISIONS, Candidates, candidate_windows, plan_links, radius_cap_m
from greyzone.store.rows import CANDIDATE_COLUMNS, COLUMNS, report_from_row, rows_from_batch

_COL = {name: i for i, name in enumerate(COLUMNS)}


class MemoryStore:
    """Rows in a list, ids in a dict. Atomic per batch: the batch is built aside, then swapped in."""

    def __init__(self) -> None:
        self._rows: list[list[Any]] = []
        self._by_id: dict[bytes, int] = {}
        self._batches = 0
        self._rejects: list[Reject] = []

    def write_batch(self, batch: ReportBatch, rejects: Sequence[Reject], *, origin: str) -> BatchResult:
        batch_id = self._batches + 1
        first = len(self._rows) + 1
        fresh: list[int] = []
        seen: set[bytes] = set()
        for i, rid in enumerate(batch.ids):
            if rid not in self._by_id and rid not in seen:
                seen.add(rid)
                fresh.append(i)
        seqs = np.arange(first, first + len(fresh), dtype=np.int64)
        new = batch.take(np.array(fresh, dtype=np.intp))
        plan = plan_links(new, seqs, self._candidates(new)) if fresh else None
        incident_ids = plan.incident_id.tolist() if plan else []
        rows = [list(r) for r in rows_from_batch(batch, fresh, seqs.tolist(), incident_ids, batch_id)]
        if plan:
            inc = _COL["incident_id"]
            for row in self._rows:
                row[inc] = plan.merges.get(row[inc], row[inc])
        for row in rows:
            self._by_id[row[_COL["id"]]] = len(self._rows)
            self._rows.append(row)
        self._batches = batch_id
        self._rejects.extend(rejects)
        return BatchResult(batch_id, len(fresh), len(batch) - len(fresh), len(rejects), plan.incidents if plan else 0)

    def _candidates(self, batch: ReportBatch) -> Candidates:
        picked = []
        windows = candidate_windows(batch)
        for row in self._rows:
            r = dict(zip(COLUMNS, row, strict=True))
            if r["time_precision"] not in LINKABLE_PRECISIONS or r["location_precision_m"] > radius_cap_m(
                Kind(r["kind"])
            ):
                continue
            if any(r["kind"] == k and lo <= r["observed_at"] <= hi for k, lo, hi in windows):
                picked.append(tuple(r[c] for c in CANDIDATE_COLUMNS))
        return Candidates.from_rows(picked)

    def read_reports(self, query: ReportQuery) -> Iterator[Report]:
        rows = sorted((r for r in self._rows if _matches(r, query)), key=lambda r: (r[_COL["observed_at"]], r[0]))
        for row in rows[: query.limit]:
            yield report_from_row(row)

    def incident_of(self, report_id: bytes) -> int | None:
        i = self._by_id.get(report_id)
        return None if i is None else int(self._rows[i][_COL["incident_id"]])

    def count_incidents(self, batch_ids: Sequence[int]) -> int:
        wanted = set(batch_ids)
        return len({r[_COL["incident_id"]] for r in self._rows if r[_COL["batch_id"]] in wanted})

    def stats(self) -> StoreStats:
        kinds: dict[str, tuple[int, set[int]]] = {}
        sources: dict[str, int] = {}
        for row in self._rows:
            n, incs = kinds.setdefault(row[_COL["kind"]], (0, set()))
            incs.add(row[_COL["incident_id"]])
            kinds[row[_COL["kind"]]] = (n + 1, incs)
            sources[row[_COL["source"]]] = sources.get(row[_COL["source"]], 0) + 1
        times = [row[_COL["observed_at"]] for row in self._rows]
        return StoreStats(
            reports=len(self._rows),
            incidents=len({row[_COL["incident_id"]] for row in self._rows}),
            batches=self._batches,
            rejects=len(self._rejects),
            first_observed=datetime.fromtimestamp(min(times), UTC) if times else None,
            last_observed=datetime.fromtimestamp(max(times), UTC) if times else None,
            by_kind={k: (n, len(i)) for k, (n, i) in sorted(kinds.items())},
            by_source=dict(sorted(sources.items(), key=lambda kv: -kv[1])),
        )

    def close(self) -> None:
        self._rows.clear()


def _matches(row: list[Any], q: ReportQuery) -> bool:
    t = row[_COL["observed_at"]]
    if q.since is not None and t < int(q.since.timestamp()):
        return False
    if q.until is not None and t >= int(q.until.timestamp()):
        return False
    if q.kinds and row[_COL["kind"]] not in {k.value for k in q.kinds}:
        return False
    if q.bbox is not None:
        x0, y0, x1, y1 = q.bbox
        return bool(x0 <= row[_COL["lon"]] <= x1 and y0 <= row[_COL["lat"]] <= y1)
    return True
