"""Linking reports of one incident from different sources (pure computation, no I/O).

Two reports are of the same incident when all of these hold:

- the same kind, and the kind describes an incident (not a status: the caller marks ``linkable``);
- different sources (one source's two records are two incidents by that source's own account);
- their time windows overlap: a report with precision P covers ``[t, t + P)``, widened by
  ``TIME_SLACK_S`` on both sides for clock and reporting error; only precisions up to a day link;
- their places can be the same: great-circle distance ≤ r1 + r2, each r the report's location
  precision (at least ``MIN_RADIUS_M``); reports vaguer than their kind's cap never link (by default
  ``MAX_RADIUS_M``; reports whose place is a region, like an air-raid alert for an oblast, have a
  cap of ``REGION_RADIUS_M``: the region is where the alert is, not an uncertainty about it).

An incident holds at most one report per source (a source that reports one incident twice sends a
duplicate, which the id catches). Pairs are merged closest first (distance and time gap measured
against their tolerances), and a merge that would put two reports of one source into one incident
is refused: so a vague report cannot bridge two distinct attacks that happened close together.

Candidates come from k-d trees, so the work grows with the number of reports that are near in
space and time, not with the square of the batch: the common case (exact time, point good to
``FINE_RADIUS_M``) is one 4-D tree over (x, y, z, scaled time); every other report is looked up
by a ball query in 3-D trees, then every candidate is confirmed exactly.

Bounded work (``most``): a store links each *new* report against at most ``most`` nearest candidates
(in space and time, of its kind), found by a k-nearest query, so that n reports at one spot cost
O(n · most · log n), not n²/2 pairs — one request with thousands of reports at one place cannot
stall the service, nor make every later report near it slow. Where no report has more than
``most`` candidates (everywhere in real data) the pairs are exactly the unbounded ones (a property
test checks it). And an incident holds at most ``MAX_INCIDENT_REPORTS`` reports: a merge beyond
it is refused, so a flood at one spot becomes a few large incidents rather than one unbounded one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

TIME_SLACK_S = 1800.0
MIN_RADIUS_M = 50.0
MAX_RADIUS_M = 25_000.0
REGION_RADIUS_M = 200_000.0
MAX_LINK_SPAN_S = 86_400.0  # day precision is the coarsest that links
EARTH_RADIUS_M = 6_371_008.8
FINE_RADIUS_M = 250.0
MAX_CANDIDATES = 32  # the bound a store links with (see the docstring)
MAX_INCIDENT_REPORTS = 200
KIND_GAP_M = 1e9  # a kind's coordinate offset in the bounded search: other kinds are never near

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LinkFrame:
    """What linking needs of each report, as parallel arrays (one row per report)."""

    kind: Ints  # a code per kind; only equal codes link
    source: Ints  # a code per source; only different codes link
    start_s: Floats  # window start (epoch s)
    span_s: Floats  # window length (0 for an exact time)
    lon: Floats
    lat: Floats
    radius_m: Floats
    linkable: npt.NDArray[np.bool_]  # an incident kind (the caller knows the kinds)
    max_radius_m: Floats  # the cap of the report's kind (MAX_RADIUS_M, or REGION_RADIUS_M for regions)

    def __len__(self) -> int:
        return len(self.kind)


SPAN_CLASSES = (0.0, 3600.0, MAX_LINK_SPAN_S)
RADIUS_CLASSES = (FINE_RADIUS_M, MAX_RADIUS_M, REGION_RADIUS_M)


def link_pairs(
    frame: LinkFrame, fresh: npt.NDArray[np.bool_] | None = None, most: int | None = None
) -> npt.NDArray[np.int64]:
    """Unordered pairs (i, j), i < j, of reports of one incident, at least one of them ``fresh`` (all are
    by default); shape (m, 2). ``most``: each fresh report compared with at most that many nearest
    candidates (None: every pair)."""
    ok = frame.linkable & (frame.span_s <= MAX_LINK_SPAN_S) & (frame.radius_m <= frame.max_radius_m)
    asking = ok if fresh is None else ok & fresh
    if most is not None:
        pairs = _bounded_pairs(frame, ok, asking, most)
        return _confirm(frame, np.maximum(frame.radius_m, MIN_RADIUS_M), pairs) if pairs.size else pairs
    pairs = _all_pairs(frame, ok)
    return pairs if fresh is None else pairs[fresh[pairs[:, 0]] | fresh[pairs[:, 1]]]


@dataclass(frozen=True, slots=True)
class _Space:
    """Reports on the sphere (metres) and in time (seconds from the first), by class of span and radius."""

    radius: Floats
    xyz: Floats
    centre: Floats
    classes: list[Ints]


def _space(frame: LinkFrame, ok: npt.NDArray[np.bool_]) -> _Space:
    radius = np.maximum(frame.radius_m, MIN_RADIUS_M)
    xyz = _xyz(frame.lon, frame.lat)
    centre = frame.start_s + frame.span_s / 2
    centre = centre - (centre[ok].min() if ok.any() else 0.0)
    span_class = np.searchsorted(np.array(SPAN_CLASSES), frame.span_s)
    radius_class = np.searchsorted(np.array(RADIUS_CLASSES), radius)
    classes = [
        np.flatnonzero(ok & (span_class == s) & (radius_class == r))
        for s in range(len(SPAN_CLASSES))
        for r in range(len(RADIUS_CLASSES))
    ]
    return _Space(radius, xyz, centre, classes)


def _all_pairs(frame: LinkFrame, ok: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    sp = _space(frame, ok)
    radius, xyz, centre, classes = sp.radius, sp.xyz, sp.centre, sp.classes
    found = [_fast_pairs(xyz, centre, classes[0])]
    for members in classes:
        for queries in classes[1:]:  # every pair with a report outside the fast class, from its side
            found.append(_class_pairs(frame, xyz, centre, radius, queries, members))
    pairs = np.concatenate(found)
    return _confirm(frame, radius, pairs) if pairs.size else pairs


def _bounded_pairs(
    frame: LinkFrame, ok: npt.NDArray[np.bool_], asking: npt.NDArray[np.bool_], most: int
) -> npt.NDArray[np.int64]:
    """Candidate pairs (fresh report, one of its ``most`` nearest linkable reports) per class pair."""
    sp = _space(frame, ok)
    radius, xyz, centre, classes = sp.radius, sp.xyz, sp.centre, sp.classes
    found = [_same_spot_chain(frame, asking)]
    for i, members in enumerate(classes):
        for j, queries in enumerate(classes[i:], start=i):
            if members.size == 0 or queries.size == 0:
                continue
            max_d = float(radius[queries].max() + radius[members].max())
            max_dt = float((frame.span_s[queries].max() + frame.span_s[members].max()) / 2 + 2 * TIME_SLACK_S)
            v = max_d / max_dt  # metres per second: distance and time gap weigh alike
            reach = max_d * np.sqrt(2.0) * 1.0001
            directions = [(queries, members)] if i == j else [(queries, members), (members, queries)]
            for source, target in directions:  # within one class, one direction finds every pair
                found.append(_nearest(xyz, centre * v, frame.kind, source[asking[source]], target, reach, most))
    return np.concatenate(found)


def _same_spot_chain(frame: LinkFrame, asking: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Pairs of consecutive reports among those with the very same kind, time and place (ties a nearest
    query breaks arbitrarily: a flood of copies at one spot would all name the same few)."""
    idx = np.flatnonzero(asking)
    keys = (frame.radius_m[idx], frame.lat[idx], frame.lon[idx], frame.span_s[idx], frame.start_s[idx], frame.kind[idx])
    order = idx[np.lexsort(keys)]
    same = np.ones(max(order.size - 1, 0), dtype=bool)
    for column in (frame.kind, frame.start_s, frame.span_s, frame.lon, frame.lat, frame.radius_m):
        same &= column[order[1:]] == column[order[:-1]]
    return np.column_stack([order[:-1][same], order[1:][same]]).astype(np.int64)


def _nearest(
    xyz: Floats, scaled_t: Floats, kind: Ints, source: Ints, target: Ints, reach: float, most: int
) -> npt.NDArray[np.int64]:
    """(s, t): each report of ``source`` with its ``most`` nearest of ``target`` of its kind within ``reach``."""
    if source.size == 0 or target.size == 0:
        return np.empty((0, 2), dtype=np.int64)

    def points(idx: Ints) -> Floats:
        return np.column_stack([xyz[idx], scaled_t[idx], kind[idx] * KIND_GAP_M])

    tree, asked = cKDTree(points(target)), points(source)
    out = []
    rows, k = np.arange(source.size), min(4, target.size)  # most reports have a few candidates: ask for 4 first
    while rows.size:
        dist, near = tree.query(asked[rows], k=k, distance_upper_bound=reach)
        dist, near = dist.reshape(rows.size, k), near.reshape(rows.size, k)
        more = np.isfinite(dist[:, -1]) if k < min(most + 1, target.size) else np.zeros(rows.size, dtype=bool)
        done = ~more  # found all within reach (or the bound): their pairs are final
        hit = np.isfinite(dist[done])
        out.append(np.column_stack([np.repeat(source[rows[done]], k)[hit.ravel()], target[near[done][hit]]]))
        rows, k = rows[more], min(most + 1, target.size)  # + 1: a report may find itself
    return np.concatenate(out).astype(np.int64) if out else np.empty((0, 2), dtype=np.int64)


def _xyz(lon: Floats, lat: Floats) -> Floats:
    """Points on a sphere of the Earth's radius, in metres: chords ≈ arcs at these distances."""
    la, lo = np.radians(lat), np.radians(lon)
    cos_la = np.cos(la)
    return np.column_stack([cos_la * np.cos(lo), cos_la * np.sin(lo), np.sin(la)]) * EARTH_RADIUS_M


def _fast_pairs(xyz: Floats, centre: Floats, idx: Ints) -> npt.NDArray[np.int64]:
    """Exact-time, fine-point reports among themselves: one 4-D ball of fixed radius."""
    if idx.size < 2:
        return np.empty((0, 2), dtype=np.int64)
    v = 2 * FINE_RADIUS_M / (2 * TIME_SLACK_S)
    points = np.column_stack([xyz[idx], centre[idx] * v])
    reach = 2 * FINE_RADIUS_M * np.sqrt(2.0) * 1.0001
    local = np.asarray(cKDTree(points).query_pairs(reach, output_type="ndarray"), dtype=np.int64)
    return idx[local]


def _class_pairs(
    frame: LinkFrame, xyz: Floats, centre: Floats, radius: Floats, queries: Ints, members: Ints
) -> npt.NDArray[np.int64]:
    """(query, member) candidates between two classes: a 4-D ball wide enough for the widest pair."""
    if members.size == 0 or queries.size == 0:
        return np.empty((0, 2), dtype=np.int64)
    max_d = float(radius[queries].max() + radius[members].max())
    max_dt = float((frame.span_s[queries].max() + frame.span_s[members].max()) / 2 + 2 * TIME_SLACK_S)
    v = max_d / max_dt  # metres per second: distance and time gap weigh alike in the ball
    member_tree = cKDTree(np.column_stack([xyz[members], centre[members] * v]))
    query_tree = cKDTree(np.column_stack([xyz[queries], centre[queries] * v]))
    found = query_tree.sparse_distance_matrix(member_tree, max_d * np.sqrt(2.0) * 1.0001, output_type="ndarray")
    return np.column_stack([queries[found["i"]], members[found["j"]]]).astype(np.int64)


def incident_components(
    frame: LinkFrame, pairs: npt.NDArray[np.int64], groups: Ints | None = None, most: int = MAX_INCIDENT_REPORTS
) -> Ints:
    """A label per report: the incident it belongs to (reports of one incident share one label).

    ``groups`` gives reports already known to be one incident the same number (stored reports);
    every other report starts alone. Pairs merge closest first, one report per source per incident,
    at most ``most`` reports per incident. Only the groups that some pair touches are looked at: the
    rest keep their label as they are.
    """
    n = len(frame)
    start = np.arange(n) if groups is None else groups
    _, label = np.unique(start, return_inverse=True)
    label = label.astype(np.int64)
    if pairs.size == 0:
        return label
    touched = np.unique(label[pairs.ravel()])
    members = np.flatnonzero(np.isin(label, touched))
    sources: dict[int, set[int]] = {}
    for g, s in zip(label[members].tolist(), frame.source[members].tolist(), strict=True):
        sources.setdefault(g, set()).add(s)
    parent = {g: g for g in touched.tolist()}

    def find(g: int) -> int:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    groups_of, counts = np.unique(label[members], return_counts=True)
    size = dict(zip(groups_of.tolist(), counts.tolist(), strict=True))
    for a, b in label[pairs[np.argsort(_closeness(frame, pairs), kind="stable")]].tolist():
        ra, rb = find(a), find(b)
        if ra == rb or size[ra] + size[rb] > most or sources[ra] & sources[rb]:
            continue
        parent[rb] = ra
        sources[ra] |= sources[rb]
        size[ra] += size[rb]
    root = {g: find(g) for g in parent}
    label[members] = [root[g] for g in label[members].tolist()]
    return label


def _closeness(frame: LinkFrame, pairs: npt.NDArray[np.int64]) -> Floats:
    """How close a pair is against its tolerances (0 = same place and time; 2 = at both limits)."""
    if pairs.size == 0:
        return np.empty(0)
    a, b = pairs[:, 0], pairs[:, 1]
    radius = np.maximum(frame.radius_m, MIN_RADIUS_M)
    d = haversine_m(frame.lon[a], frame.lat[a], frame.lon[b], frame.lat[b]) / (radius[a] + radius[b])
    centre = frame.start_s + frame.span_s / 2
    dt = np.abs(centre[a] - centre[b]) / ((frame.span_s[a] + frame.span_s[b]) / 2 + 2 * TIME_SLACK_S)
    return np.asarray(d + dt, dtype=np.float64)


def _confirm(frame: LinkFrame, radius: Floats, pairs: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    a, b = pairs[:, 0], pairs[:, 1]
    keep = (a != b) & (frame.kind[a] == frame.kind[b]) & (frame.source[a] != frame.source[b])
    a, b = a[keep], b[keep]
    s0a = frame.start_s[a] - TIME_SLACK_S
    s0b = frame.start_s[b] - TIME_SLACK_S
    e_a = frame.start_s[a] + frame.span_s[a] + TIME_SLACK_S
    e_b = frame.start_s[b] + frame.span_s[b] + TIME_SLACK_S
    keep = (s0a <= e_b) & (s0b <= e_a)
    keep &= haversine_m(frame.lon[a], frame.lat[a], frame.lon[b], frame.lat[b]) <= radius[a] + radius[b]
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    if not lo.size:
        return np.empty((0, 2), dtype=np.int64)
    code = np.unique(lo * np.int64(len(frame)) + hi)  # one integer per pair: a 1-D sort, ordered as (lo, hi)
    return np.column_stack([code // len(frame), code % len(frame)]).astype(np.int64)


def haversine_m(lon1: Floats, lat1: Floats, lon2: Floats, lat2: Floats) -> Floats:
    """Great-circle distance in metres (arrays broadcast)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))), dtype=np.float64)
