from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from greyzone.incidents import (
    MAX_CANDIDATES,
    MAX_INCIDENT_REPORTS,
    TIME_SLACK_S,
    LinkFrame,
    haversine_m,
    incident_components,
    link_pairs,
)

SPANS = [0.0, 3600.0, 86400.0, 7 * 86400.0]
RADII = [10.0, 100.0, 300.0, 2000.0, 30000.0, 150_000.0, 250_000.0]


def frame(n: int, seed: int) -> LinkFrame:
    rng = np.random.default_rng(seed)
    return LinkFrame(
        kind=rng.integers(0, 2, n),
        source=rng.integers(0, 3, n),
        start_s=1.7e9 + rng.uniform(0, 3 * 86400, n),
        span_s=rng.choice(SPANS, n),
        lon=rng.uniform(37.1, 37.2, n),
        lat=rng.uniform(48.25, 48.3, n),
        radius_m=rng.choice(RADII, n),
        linkable=rng.random(n) < 0.9,
        max_radius_m=rng.choice([25_000.0, 200_000.0], n),
    )


def brute_force(f: LinkFrame) -> set[tuple[int, int]]:
    out = set()
    r = np.maximum(f.radius_m, 50.0)
    for i in range(len(f)):
        for j in range(i + 1, len(f)):
            if not (f.linkable[i] and f.linkable[j]) or f.kind[i] != f.kind[j] or f.source[i] == f.source[j]:
                continue
            if max(f.span_s[i], f.span_s[j]) > 86400:
                continue
            if f.radius_m[i] > f.max_radius_m[i] or f.radius_m[j] > f.max_radius_m[j]:
                continue
            if f.start_s[i] - TIME_SLACK_S > f.start_s[j] + f.span_s[j] + TIME_SLACK_S:
                continue
            if f.start_s[j] - TIME_SLACK_S > f.start_s[i] + f.span_s[i] + TIME_SLACK_S:
                continue
            if haversine_m(f.lon[i], f.lat[i], f.lon[j], f.lat[j]) <= r[i] + r[j]:
                out.add((i, j))
    return out


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 250), st.integers(0, 10_000))
def test_link_pairs_equal_brute_force(n: int, seed: int) -> None:
    f = frame(n, seed)
    assert set(map(tuple, link_pairs(f).tolist())) == brute_force(f)


def test_incident_never_holds_two_reports_of_one_source() -> None:
    # police reports two attacks 400 m apart; a vague telegram report sits between them
    f = LinkFrame(
        kind=np.zeros(3, np.int64),
        source=np.array([0, 0, 1]),
        start_s=np.full(3, 1.7e9),
        span_s=np.zeros(3),
        lon=np.array([37.180, 37.1854, 37.1827]),
        lat=np.full(3, 48.28),
        radius_m=np.array([50.0, 50.0, 300.0]),
        linkable=np.ones(3, bool),
        max_radius_m=np.full(3, 25_000.0),
    )
    pairs = link_pairs(f)
    assert len(pairs) == 2  # the vague report could be either attack
    labels = incident_components(f, pairs)
    assert labels[0] != labels[1]  # the two attacks stay two incidents
    assert labels[2] in (labels[0], labels[1])


def test_stored_groups_are_respected() -> None:
    f = frame(6, 1)
    labels = incident_components(f, np.empty((0, 2), np.int64), np.array([5, 5, 7, 7, 7, 9]))
    assert len(set(labels.tolist())) == 3 and labels[0] == labels[1] and labels[2] == labels[4]


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 200), st.integers(0, 10_000))
def test_incidents_are_linked_and_hold_one_report_per_source(n: int, seed: int) -> None:
    f = frame(n, seed)
    pairs = link_pairs(f)
    labels = incident_components(f, pairs)
    linked = {(int(a), int(b)) for a, b in pairs.tolist()}
    for label in set(labels.tolist()):
        members = np.flatnonzero(labels == label).tolist()
        sources = [int(f.source[i]) for i in members]
        assert len(sources) == len(set(sources))  # never two reports of one source
        if len(members) > 1:  # every member is linked to another member of its incident
            assert all(any((min(i, j), max(i, j)) in linked for j in members if j != i) for i in members)


def pair_set(pairs: np.ndarray) -> set[tuple[int, int]]:
    return set(map(tuple, pairs.tolist()))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 30), st.integers(0, 10_000), st.floats(0.0, 1.0))
def test_bounded_linking_equals_every_pair_where_no_report_has_more_candidates(n: int, seed: int, share: float) -> None:
    """With at most 30 reports no report has more than MAX_CANDIDATES (32) candidates: the bounded search
    finds exactly the pairs the unbounded one does that involve a fresh report."""
    f = frame(n, seed)
    fresh = np.random.default_rng(seed).random(n) < share
    exact = {(i, j) for i, j in brute_force(f) if fresh[i] or fresh[j]}
    assert pair_set(link_pairs(f, fresh, MAX_CANDIDATES)) == exact
    assert pair_set(link_pairs(f, fresh)) == exact  # the unbounded search, restricted to the fresh


@settings(max_examples=15, deadline=None)
@given(st.integers(50, 250), st.integers(0, 10_000))
def test_bounded_linking_never_invents_a_pair(n: int, seed: int) -> None:
    f = frame(n, seed)
    bounded = pair_set(link_pairs(f, None, 4))
    assert bounded <= brute_force(f)
    assert len(bounded) <= n * (10 * 4 + 1)  # each report asks each of the 9 classes (its own twice) for 4


def test_a_flood_at_one_spot_is_linked_in_bounded_incidents() -> None:
    """5,000 reports of one place and minute from 5,000 sources: linked quickly, into incidents of at most
    MAX_INCIDENT_REPORTS reports (not one unbounded incident, and not 5,000 single ones)."""
    n = 5000
    f = LinkFrame(
        kind=np.zeros(n, np.int64),
        source=np.arange(n),
        start_s=np.full(n, 1.7e9),
        span_s=np.zeros(n),
        lon=np.full(n, 37.18),
        lat=np.full(n, 48.283),
        radius_m=np.full(n, 100.0),
        linkable=np.ones(n, bool),
        max_radius_m=np.full(n, 25_000.0),
    )
    pairs = link_pairs(f, None, MAX_CANDIDATES)
    assert len(pairs) <= n * (2 * MAX_CANDIDATES + 1)  # bounded: n²/2 = 12.5 million without the bound
    sizes = np.bincount(np.unique(incident_components(f, pairs), return_inverse=True)[1])
    assert sizes.max() == MAX_INCIDENT_REPORTS and len(sizes) == n // MAX_INCIDENT_REPORTS
