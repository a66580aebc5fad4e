"""The status board: what each utility and each service point is doing now, and its history.

Input is one row per status report, as columns: its time, the key it is about (a utility in a
district, or a service point), its status (an index into a list of statuses ordered from best to
worst), its source. Nothing is assumed between reports:

* **current**: for each key, each source's newest report counts. A key whose newest report is older
  than ``fresh_s`` is *unknown* (never *working*), with the time it was last heard of. The sources
  whose newest report lies within ``agree_s`` of the key's newest one speak for now; when they
  disagree the key is *conflicting* and every status is kept with its sources.
* **history**: a report's status holds until the key's next report, or for ``fresh_s`` at most
  (after that nothing is known; reports of one key at one moment that disagree count as the worst);
  hours *out* (the worst status) per key and day, and the outages as episodes (start, end, whether it
  still goes on).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
UNKNOWN, CONFLICTING = -1, -2


@dataclass(frozen=True, slots=True)
class StatusColumns:
    """Status reports as columns (any order)."""

    t_s: Floats
    key: Ints
    status: Ints  # 0 = best (working / open) … worst (out / closed)
    source: Ints

    def __len__(self) -> int:
        return len(self.t_s)


@dataclass(frozen=True, slots=True)
class Voice:
    """One status as the current sources give it."""

    status: int
    sources: int
    as_of_s: float


@dataclass(frozen=True, slots=True)
class Current:
    """A key's status now: ``status`` is a status index, UNKNOWN or CONFLICTING; ``voices`` every status
    the current sources give (one when they agree); ``as_of_s`` the newest report (NaN: never heard of)."""

    key: int
    status: int
    as_of_s: float
    sources: int  # sources that agree with the status (all current sources when conflicting)
    voices: tuple[Voice, ...]
    stale: bool


def current_status(
    cols: StatusColumns, keys: Ints, now_s: float, fresh_s: float, agree_s: float = 3 * 3600.0
) -> list[Current]:
    """The status of each of ``keys`` at ``now_s`` (reports after it are not yet known). Only the reports
    of the last ``fresh_s`` are sorted; older ones count only for when a key was last heard of."""
    row = rows_of(keys, cols.key)
    seen = (cols.t_s <= now_s) & (row >= 0)
    newest = np.full(len(keys), -np.inf)
    np.maximum.at(newest, row[seen], cols.t_s[seen])
    recent = seen & (cols.t_s >= now_s - fresh_s)
    t, r, status, source = cols.t_s[recent], row[recent], cols.status[recent], cols.source[recent]
    order = np.lexsort((t, source, r))
    t, r, status, source = t[order], r[order], status[order], source[order]
    last = np.ones(len(t), dtype=bool)  # the newest report of each (key, source)
    last[:-1] = (r[1:] != r[:-1]) | (source[1:] != source[:-1])
    t, r, status = t[last], r[last], status[last]
    bounds = np.searchsorted(r, np.arange(len(keys) + 1), side="left")
    out = []
    for i, k in enumerate(keys.tolist()):
        a, b = bounds[i], bounds[i + 1]
        if a == b:
            heard = float(newest[i])
            known = bool(np.isfinite(heard))
            out.append(Current(k, UNKNOWN, heard if known else float("nan"), 0, (), stale=known))
        else:
            out.append(_current(k, t[a:b], status[a:b], now_s, fresh_s, agree_s))
    return out


def rows_of(keys: Ints, key: Ints) -> Ints:
    """The index in ``keys`` of each ``key`` (-1 where it is not one of them)."""
    if len(keys) and keys[-1] - keys[0] == len(keys) - 1 and np.all(np.diff(keys) == 1):  # a run: arithmetic
        row = key - keys[0]
        return np.where((row >= 0) & (row < len(keys)), row, -1).astype(np.int64)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    at = np.clip(np.searchsorted(sorted_keys, key), 0, max(len(keys) - 1, 0))
    if not len(keys):
        return np.full(len(key), -1, dtype=np.int64)
    return np.where(sorted_keys[at] == key, order[at], -1).astype(np.int64)


def _current(key: int, t: Floats, status: Ints, now_s: float, fresh_s: float, agree_s: float) -> Current:
    if len(t) == 0:
        return Current(key, UNKNOWN, float("nan"), 0, (), stale=False)
    newest = float(t.max())
    if now_s - newest > fresh_s:
        return Current(key, UNKNOWN, newest, 0, (), stale=True)
    now = t >= max(newest - agree_s, now_s - fresh_s)
    values, counts = np.unique(status[now], return_counts=True)
    voices = tuple(
        Voice(int(v), int(c), float(t[now][status[now] == v].max())) for v, c in zip(values, counts, strict=True)
    )
    if len(voices) == 1:
        return Current(key, voices[0].status, newest, voices[0].sources, voices, stale=False)
    return Current(key, CONFLICTING, newest, int(counts.sum()), voices, stale=False)


@dataclass(frozen=True, slots=True)
class Outage:
    key: int
    start_s: float
    end_s: float
    ongoing: bool  # still out at the end of the history (the last report says out and is fresh)
    confirmed_end: bool  # a report said it works again (else: the reports went stale, the end is unknown)

    @property
    def hours(self) -> float:
        return (self.end_s - self.start_s) / 3600.0


@dataclass(frozen=True, slots=True)
class History:
    """Hours in the worst status per key (rows, in ``keys`` order) and day (columns, ``day_starts``),
    hours with no fresh report alike, and the outages as episodes."""

    keys: Ints
    day_starts: Floats  # n_days + 1 boundaries (unix s): the local midnights
    out_hours: Floats
    unknown_hours: Floats
    outages: list[Outage]


def status_history(
    cols: StatusColumns, keys: Ints, day_starts: Floats, worst: int, now_s: float, fresh_s: float
) -> History:
    """What each key's reports say hour by hour between ``day_starts[0]`` and ``day_starts[-1]``
    (or now, when sooner): a report holds until the key's next one or for ``fresh_s`` at most."""
    end_of = min(float(day_starts[-1]), now_s)
    near = (cols.t_s <= end_of) & (cols.t_s >= day_starts[0] - fresh_s)  # older reports hold no longer than that
    row_all = rows_of(keys, cols.key[near])
    seen = row_all >= 0
    t, key, status = cols.t_s[near][seen], cols.key[near][seen], cols.status[near][seen]
    order = np.lexsort((status, t, key))
    t, key, status = t[order], key[order], status[order]
    once = np.ones(len(t), dtype=bool)  # reports of one key at one moment: the worst stands for them
    once[:-1] = (key[1:] != key[:-1]) | (t[1:] != t[:-1])
    t, key, status = t[once], key[once], status[once]
    nxt = np.empty_like(t)
    nxt[:-1] = np.where(key[1:] == key[:-1], t[1:], np.inf)
    if len(t):
        nxt[-1] = np.inf
    end = np.minimum(np.minimum(nxt, t + fresh_s), end_of)
    row = rows_of(keys, key)
    n_days = len(day_starts) - 1
    out = _per_day(t, end, row, status == worst, day_starts, len(keys), n_days)
    known = _per_day(t, end, row, np.ones(len(t), dtype=bool), day_starts, len(keys), n_days)
    span = np.clip(np.minimum(day_starts[1:], end_of) - day_starts[:-1], 0.0, None) / 3600.0
    return History(
        keys, day_starts, out, np.clip(span[None, :] - known, 0.0, None), _outages(t, end, key, status, worst, end_of)
    )


def _per_day(
    start: Floats, end: Floats, row: Ints, on: npt.NDArray[np.bool_], bounds: Floats, n_rows: int, n_days: int
) -> Floats:
    """Hours of the intervals [start, end) where ``on``, per row and day."""
    hours = np.zeros((n_rows, n_days))
    start, end, row = start[on], end[on], row[on]
    first = np.searchsorted(bounds, start, side="right") - 1
    last = np.searchsorted(bounds, end, side="left") - 1
    for step in range(int((last - first).max(initial=-1)) + 1):
        day = first + step
        ok = (day >= 0) & (day < n_days) & (day <= last)
        d = day[ok]
        overlap = np.minimum(end[ok], bounds[d + 1]) - np.maximum(start[ok], bounds[d])
        np.add.at(hours, (row[ok], d), np.clip(overlap, 0.0, None) / 3600.0)
    return hours


def _outages(t: Floats, end: Floats, key: Ints, status: Ints, worst: int, end_of: float) -> list[Outage]:
    """Runs of reports saying *out*, joined while each holds until the next (no silence between); the
    reports are sorted by key, then time."""
    out = status == worst
    same_prev = np.zeros(len(t), dtype=bool)
    same_prev[1:] = key[1:] == key[:-1]
    prev_end = np.concatenate([[-np.inf], end[:-1]])
    joins = same_prev & np.concatenate([[False], out[:-1]]) & (t <= prev_end)  # continues the run before it
    first = np.flatnonzero(out & ~joins)
    continues_next = np.concatenate([joins[1:] & out[1:], [False]])
    last = np.flatnonzero(out & ~continues_next)
    nxt = np.minimum(last + 1, max(len(t) - 1, 0))
    ended = (last + 1 < len(t)) & (key[nxt] == key[last]) & ~out[nxt] & (t[nxt] <= end[last])
    return [
        Outage(int(key[i]), float(t[i]), float(end[j]), ongoing=bool(end[j] >= end_of), confirmed_end=bool(e))
        for i, j, e in zip(first.tolist(), last.tolist(), ended.tolist(), strict=True)
    ]
