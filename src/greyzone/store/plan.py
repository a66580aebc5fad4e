"""How a batch joins the log: which of its reports are new, and which incident each belongs to.

Shared by every backend, so that SQLite, PostgreSQL and the in-memory double link alike. Pure:
the backend fetches the candidates (stored reports that could be of the same incidents) and
applies the plan inside its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from greyzone.incidents import (
    MAX_LINK_SPAN_S,
    MAX_RADIUS_M,
    REGION_RADIUS_M,
    TIME_SLACK_S,
    LinkFrame,
    incident_components,
    link_pairs,
)
from greyzone.model.batch import ReportBatch
from greyzone.model.enums import INCIDENT_KINDS, Kind, TimePrecision

KIND_CODES = {k: i for i, k in enumerate(Kind)}
LINKABLE_CODES = np.array([k in INCIDENT_KINDS for k in Kind])
SPAN_S = {p: p.span.total_seconds() for p in TimePrecision}
LINKABLE_PRECISIONS = tuple(p for p in TimePrecision if SPAN_S[p] <= MAX_LINK_SPAN_S)
#: Kinds whose place is a region (the alert is for the whole oblast), not a point with an error.
REGION_KINDS = frozenset({Kind.AIR_RAID_ALERT})
RADIUS_CAP_M = np.array([REGION_RADIUS_M if k in REGION_KINDS else MAX_RADIUS_M for k in Kind])


def radius_cap_m(kind: Kind) -> float:
    """The largest location precision at which reports of ``kind`` still link."""
    return float(RADIUS_CAP_M[KIND_CODES[kind]])


@dataclass(frozen=True, slots=True)
class Candidates:
    """Stored reports that may share an incident with the batch (parallel arrays)."""

    seq: npt.NDArray[np.int64]
    incident_id: npt.NDArray[np.int64]
    kind: list[str]
    source: list[str]
    observed_s: npt.NDArray[np.float64]
    time_precision: list[str]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    location_precision_m: npt.NDArray[np.float64]

    @staticmethod
    def empty() -> Candidates:
        f, i = np.empty(0), np.empty(0, dtype=np.int64)
        return Candidates(i, i, [], [], f, [], f, f, f)

    @staticmethod
    def from_rows(rows: list[tuple[int, int, str, str, float, str, float, float, float]]) -> Candidates:
        if not rows:
            return Candidates.empty()
        seq, inc, kind, source, obs, prec, lon, lat, radius = zip(*rows, strict=True)
        return Candidates(
            np.array(seq, dtype=np.int64),
            np.array(inc, dtype=np.int64),
            list(kind),
            list(source),
            np.array(obs, dtype=float),
            list(prec),
            np.array(lon, dtype=float),
            np.array(lat, dtype=float),
            np.array(radius, dtype=float),
        )


@dataclass(frozen=True, slots=True)
class LinkPlan:
    """Incident of each new report, and stored incidents to fold into another."""

    incident_id: npt.NDArray[np.int64]
    merges: dict[int, int]  # old incident id -> surviving incident id
    incidents: int  # distinct incidents among the new reports


def candidate_windows(batch: ReportBatch) -> list[tuple[str, float, float]]:
    """(kind, lo, hi) time ranges of stored reports that may link with this batch's reports.

    The batch's linkable reports are grouped by kind and by runs of consecutive days, so that a
    time-ordered import asks only for the stored reports next to it.
    """
    cols = batch.cols
    out: list[tuple[str, float, float]] = []
    slack = MAX_LINK_SPAN_S + 2 * TIME_SLACK_S
    for kind in sorted({k for k in cols.kind if k in INCIDENT_KINDS}):
        idx = np.array([i for i, k in enumerate(cols.kind) if k is kind])
        days = np.unique(np.floor(cols.observed_s[idx] / 86400.0))
        breaks = np.flatnonzero(np.diff(days) > 2) + 1
        for run in np.split(days, breaks):
            out.append((kind.value, run[0] * 86400.0 - slack, (run[-1] + 1) * 86400.0 + slack))
    return out


def plan_links(batch: ReportBatch, seqs: npt.NDArray[np.int64], stored: Candidates) -> LinkPlan:
    """Link the batch's new reports (numbered ``seqs``) with each other and with ``stored``."""
    cols = batch.cols
    n_old, n_new = len(stored.seq), len(batch)
    sources = {s: i for i, s in enumerate(dict.fromkeys([*stored.source, *cols.source]))}
    kinds = [*stored.kind, *(str(k) for k in cols.kind)]
    kind = np.array([KIND_CODES[Kind(k)] for k in kinds], dtype=np.int64)
    precisions = [*stored.time_precision, *cols.time_precision]
    frame = LinkFrame(
        kind=kind,
        source=np.array([sources[s] for s in [*stored.source, *cols.source]], dtype=np.int64),
        start_s=np.concatenate([stored.observed_s, cols.observed_s]),
        span_s=np.array([SPAN_S[TimePrecision(str(p))] for p in precisions]),
        lon=np.concatenate([stored.lon, cols.lon]),
        lat=np.concatenate([stored.lat, cols.lat]),
        radius_m=np.concatenate([stored.location_precision_m, cols.location_precision_m]),
        linkable=LINKABLE_CODES[kind],
        max_radius_m=RADIUS_CAP_M[kind],
    )
    groups = np.concatenate([stored.incident_id, -1 - np.arange(n_new, dtype=np.int64)])
    labels = incident_components(frame, link_pairs(frame), groups)
    return _assign(labels, n_old, stored.incident_id, seqs)


def _assign(
    labels: npt.NDArray[np.int64], n_old: int, old_incident: npt.NDArray[np.int64], seqs: npt.NDArray[np.int64]
) -> LinkPlan:
    """Each component takes the smallest incident id in it (stored ones are older, so smaller)."""
    ids = np.concatenate([old_incident, seqs])
    order = np.argsort(labels, kind="stable")
    first = np.ones(len(labels), dtype=bool)
    first[1:] = labels[order][1:] != labels[order][:-1]
    group_min = np.minimum.reduceat(ids[order], np.flatnonzero(first)) if len(labels) else ids
    winner = np.empty(labels.max() + 1 if len(labels) else 0, dtype=np.int64)
    winner[labels[order][first]] = group_min
    merges = {int(o): int(w) for o, w in zip(old_incident, winner[labels[:n_old]], strict=True) if o != w}
    new_ids = winner[labels[n_old:]]
    return LinkPlan(new_ids, merges, len(np.unique(new_ids)))


__all__ = ["LINKABLE_PRECISIONS", "Candidates", "LinkPlan", "candidate_windows", "plan_links", "radius_cap_m"]
