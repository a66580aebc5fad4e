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
    MAX_CANDIDATES,
    MAX_LINK_SPAN_S,
    MAX_RADIUS_M,
    REGION_RADIUS_M,
    TIME_SLACK_S,
    LinkFrame,
    incident_components,
    link_pairs,
)
from greyzone.model.columns import ReportColumns, is_identity
from greyzone.model.enums import INCIDENT_KINDS, SPAN_S, Kind, TimePrecision
from greyzone.store.base import ReportFrame

KINDS = list(Kind)
KIND_CODES = {k.value: i for i, k in enumerate(Kind)}  # str keys: a Kind and its value hash alike
LINKABLE_CODES = np.array([k in INCIDENT_KINDS for k in Kind])
LINKABLE_PRECISIONS = tuple(p for p in TimePrecision if SPAN_S[p] <= MAX_LINK_SPAN_S)
#: Kinds whose place is a region (the alert is for the whole oblast), not a point with an error.
REGION_KINDS = frozenset({Kind.AIR_RAID_ALERT})
RADIUS_CAP_M = np.array([REGION_RADIUS_M if k in REGION_KINDS else MAX_RADIUS_M for k in Kind])


def radius_cap_m(kind: Kind) -> float:
    """The largest location precision at which reports of ``kind`` still link."""
    return float(RADIUS_CAP_M[KIND_CODES[kind.value]])


@dataclass(frozen=True, slots=True)
class LinkInput:
    """What linking needs of reports, as parallel arrays (one row per report)."""

    kind: npt.NDArray[np.int64]  # KIND_CODES
    source: list[str]
    start_s: npt.NDArray[np.float64]
    span_s: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    radius_m: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.kind)

    def take(self, index: npt.NDArray[np.intp]) -> LinkInput:
        if is_identity(index, len(self)):
            return self
        return LinkInput(
            self.kind[index],
            [self.source[i] for i in index],
            self.start_s[index],
            self.span_s[index],
            self.lon[index],
            self.lat[index],
            self.radius_m[index],
        )

    @staticmethod
    def concat(a: LinkInput, b: LinkInput) -> LinkInput:
        return LinkInput(
            np.concatenate([a.kind, b.kind]),
            [*a.source, *b.source],
            np.concatenate([a.start_s, b.start_s]),
            np.concatenate([a.span_s, b.span_s]),
            np.concatenate([a.lon, b.lon]),
            np.concatenate([a.lat, b.lat]),
            np.concatenate([a.radius_m, b.radius_m]),
        )


def link_input(cols: ReportColumns) -> LinkInput:
    codes = KIND_CODES
    return LinkInput(
        np.array([codes[k] for k in cols.kind], dtype=np.int64),  # type: ignore[index]
        [str(s) for s in cols.source],
        cols.observed_s.astype(np.float64),
        np.array([SPAN_S[p] for p in cols.time_precision]),  # type: ignore[index]
        cols.lon,
        cols.lat,
        cols.location_precision_m,
    )


@dataclass(frozen=True, slots=True)
class Candidates:
    """Stored reports that may share an incident with the batch."""

    seq: npt.NDArray[np.int64]
    incident_id: npt.NDArray[np.int64]
    link: LinkInput

    @staticmethod
    def from_frame(frame: ReportFrame) -> Candidates:
        """The linking view of stored reports read as a frame."""
        link = LinkInput(
            np.array([KIND_CODES[k] for k in frame.kind], dtype=np.int64),
            frame.source,
            frame.observed_s,
            frame.span_s,
            frame.lon,
            frame.lat,
            frame.location_precision_m,
        )
        return Candidates(frame.seq, frame.incident, link)


@dataclass(frozen=True, slots=True)
class LinkPlan:
    """Incident of each new report, and stored incidents to fold into another."""

    incident_id: npt.NDArray[np.int64]
    merges: dict[int, int]  # old incident id -> surviving incident id
    incidents: int  # distinct incidents among the new reports


def candidate_windows(new: LinkInput) -> list[tuple[str, float, float]]:
    """(kind, lo, hi) time ranges of stored reports that may link with these new reports.

    The linkable reports are grouped by kind and by runs of consecutive days, so that a
    time-ordered import asks only for the stored reports next to it.
    """
    out: list[tuple[str, float, float]] = []
    slack = MAX_LINK_SPAN_S + 2 * TIME_SLACK_S
    for code in np.unique(new.kind[LINKABLE_CODES[new.kind]]).tolist():
        days = np.unique(np.floor(new.start_s[new.kind == code] / 86400.0))
        breaks = np.flatnonzero(np.diff(days) > 2) + 1
        for run in np.split(days, breaks):
            out.append((KINDS[code].value, run[0] * 86400.0 - slack, (run[-1] + 1) * 86400.0 + slack))
    return out


def plan_links(new: LinkInput, seqs: npt.NDArray[np.int64], stored: Candidates) -> LinkPlan:
    """Link the new reports (numbered ``seqs``) with each other and with ``stored``."""
    n_old, n_new = len(stored.seq), len(new)
    both = LinkInput.concat(stored.link, new)
    sources = {s: i for i, s in enumerate(dict.fromkeys(both.source))}
    frame = LinkFrame(
        kind=both.kind,
        source=np.array([sources[s] for s in both.source], dtype=np.int64),
        start_s=both.start_s,
        span_s=both.span_s,
        lon=both.lon,
        lat=both.lat,
        radius_m=both.radius_m,
        linkable=LINKABLE_CODES[both.kind],
        max_radius_m=RADIUS_CAP_M[both.kind],
    )
    groups = np.concatenate([stored.incident_id, -1 - np.arange(n_new, dtype=np.int64)])
    fresh = np.arange(n_old + n_new) >= n_old  # only pairs with a new report can change anything
    labels = incident_components(frame, link_pairs(frame, fresh, MAX_CANDIDATES), groups)
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


__all__ = [
    "LINKABLE_PRECISIONS",
    "Candidates",
    "LinkInput",
    "LinkPlan",
    "candidate_windows",
    "link_input",
    "plan_links",
    "radius_cap_m",
]
