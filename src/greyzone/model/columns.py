"""Reports as columns, and the one set of validation rules, applied to many rows at once.

Ingest parses each source into typed columns (:class:`ReportColumns`); :func:`column_problems`
checks every rule on all rows with numpy, collecting every problem of every row. A single
:class:`~greyzone.model.report.Report` is validated by the same function on one row, so the rules
exist once. Missing numbers are ``nan``, missing everything else ``None``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from greyzone.errors import Problem
from greyzone.model.enums import (
    COUNT_KINDS,
    InfraStatus,
    Kind,
    Service,
    ServiceStatus,
    ShellingKind,
    Side,
    TimePrecision,
    Utility,
)

MAX_TEXT_CHARS = 10_000
MAX_NAME_CHARS = 200
MAX_PRECISION_M = 1_000_000.0
MAX_COUNT = 100_000
EARLIEST_S = 599_616_000.0  # 1989-01-01T00:00Z, UCDP's first year: nothing older is a report here
FUTURE_SLACK_S = 3600.0  # clocks drift; an hour ahead of "now" is tolerated, more is an error
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ReportColumns:
    """Typed report fields, one list or array per field, all of one length."""

    kind: list[Kind | None]
    observed_s: Floats  # epoch seconds UTC, already floored to the precision
    time_precision: list[TimePrecision | None]
    lon: Floats
    lat: Floats
    location_precision_m: Floats
    credibility: Floats
    source: list[str | None]
    reported_s: Floats
    ended_s: Floats
    killed: Floats
    injured: Floats
    subkind: list[ShellingKind | None]
    side: list[Side | None]
    utility: list[Utility | None]
    service: list[Service | None]
    status: list[InfraStatus | ServiceStatus | None]
    source_record_id: list[str | None]
    place: list[str | None]
    text: list[str | None]
    area_wkb: list[bytes | None]

    def __len__(self) -> int:
        return len(self.kind)

    def take(self, index: Sequence[int] | npt.NDArray[np.intp]) -> ReportColumns:
        """The rows at ``index``, in that order."""
        idx = np.asarray(index, dtype=np.intp)
        if is_identity(idx, len(self)):
            return self  # frozen: the identity selection is the columns themselves
        picked: dict[str, Any] = {}
        for f in fields(self):
            col = getattr(self, f.name)
            picked[f.name] = col[idx] if isinstance(col, np.ndarray) else [col[i] for i in idx]
        return ReportColumns(**picked)

    @staticmethod
    def concat(a: ReportColumns, b: ReportColumns) -> ReportColumns:
        """The rows of ``a`` then those of ``b``."""
        joined: dict[str, Any] = {}
        for f in fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            joined[f.name] = np.concatenate([x, y]) if isinstance(x, np.ndarray) else [*x, *y]
        return ReportColumns(**joined)


def is_identity(index: npt.NDArray[np.intp], n: int) -> bool:
    """Whether ``index`` selects all n rows in order (then a selection can be the thing itself)."""
    return len(index) == n and bool((index == np.arange(n)).all())


def column_problems(cols: ReportColumns, now_s: float | None = None) -> dict[int, list[Problem]]:
    """Every problem of every row, by row index; rows absent from the result are valid."""
    out: dict[int, list[Problem]] = {}

    def flag(mask: npt.NDArray[np.bool_], field: str, reason: Any) -> None:
        for i in np.flatnonzero(mask).tolist():
            text = reason(i) if callable(reason) else reason
            out.setdefault(i, []).append(Problem(field, text))

    _numeric_rules(cols, flag, now_s)
    _kind_rules(cols, out)
    _text_rules(cols, out)
    return out


def _numeric_rules(cols: ReportColumns, flag: Any, now_s: float | None) -> None:
    lon, lat, prec, cred = cols.lon, cols.lat, cols.location_precision_m, cols.credibility
    with np.errstate(invalid="ignore"):
        flag(
            ~(np.abs(lon) <= 180),
            "lon",
            lambda i: f"expected a longitude in [-180, 180]; got {lon[i]}",
        )
        bad_lat = ~(np.abs(lat) <= 90)
        flag(
            bad_lat,
            "lat",
            lambda i: f"expected a latitude in [-90, 90]; got {lat[i]}{_swap_hint(float(lon[i]), float(lat[i]))}",
        )
        flag(
            ~((prec > 0) & (prec <= MAX_PRECISION_M)),
            "location_precision_m",
            lambda i: f"expected metres in (0, {MAX_PRECISION_M:.0f}]; got {prec[i]}",
        )
        flag(
            ~((cred >= 0) & (cred <= 1)),
            "credibility",
            lambda i: f"expected a number in [0, 1]; got {cred[i]}",
        )
        obs = cols.observed_s
        flag(
            ~(obs >= EARLIEST_S),
            "observed_at",
            lambda i: f"expected a time after 1989-01-01; got {_iso(float(obs[i]))}",
        )
        if now_s is not None:
            flag(
                obs > now_s + FUTURE_SLACK_S,
                "observed_at",
                lambda i: f"expected a time not in the future; got {_iso(float(obs[i]))}",
            )
        flag(
            cols.ended_s < obs,
            "ended_at",
            lambda i: f"expected a time at or after observed_at; got {_iso(float(cols.ended_s[i]))}",
        )
        flag(
            cols.reported_s < obs - 3600,
            "reported_at",
            lambda i: f"expected a time after the event ({_iso(float(obs[i]))}); got {_iso(float(cols.reported_s[i]))}",
        )
        for name in ("killed", "injured"):
            v = getattr(cols, name)
            bad = ~np.isnan(v) & ~((v >= 0) & (v <= MAX_COUNT) & (v == np.floor(v)))
            flag(bad, name, lambda i, v=v: f"expected a whole number in [0, {MAX_COUNT}]; got {v[i]}")


def _swap_hint(lon: float, lat: float) -> str:
    return " (were lon and lat swapped?)" if abs(lat) <= 180 and abs(lon) <= 90 else ""


def _iso(t: float) -> str:
    if not np.isfinite(t):
        return "nothing"
    return str(np.datetime64(int(t), "s")) + "Z"


_STATUS_ENUM: dict[Kind, type[InfraStatus] | type[ServiceStatus]] = {
    Kind.INFRASTRUCTURE_STATUS: InfraStatus,
    Kind.SERVICE_STATUS: ServiceStatus,
}
_REQUIRED_BY_KIND = {
    "side": Kind.CONTROL_OBSERVATION,
    "utility": Kind.INFRASTRUCTURE_STATUS,
    "service": Kind.SERVICE_STATUS,
}


_PLAIN_KINDS = frozenset(Kind) - {
    Kind.CONTROL_OBSERVATION,
    Kind.INFRASTRUCTURE_STATUS,
    Kind.SERVICE_STATUS,
    Kind.CASUALTIES,
}


def _kind_rules(cols: ReportColumns, out: dict[int, list[Problem]]) -> None:
    no_killed, no_injured = np.isnan(cols.killed), np.isnan(cols.injured)
    extras = [a or b or c or d for a, b, c, d in zip(cols.side, cols.utility, cols.service, cols.status, strict=True)]
    counted = ~(no_killed & no_injured)
    plain = _PLAIN_KINDS
    for i, (kind, extra, sub) in enumerate(zip(cols.kind, extras, cols.subkind, strict=True)):
        if kind is None or (
            kind in plain and extra is None and (sub is None or kind is Kind.SHELLING) and not counted[i]
        ):
            continue
        problems = _row_kind_problems(cols, i, kind, bool(no_killed[i]), bool(no_injured[i]))
        if problems:
            out.setdefault(i, []).extend(problems)


def _row_kind_problems(cols: ReportColumns, i: int, kind: Kind, no_killed: bool, no_injured: bool) -> list[Problem]:
    problems = []
    for name, owner in _REQUIRED_BY_KIND.items():
        value = getattr(cols, name)[i]
        if kind is owner and value is None:
            problems.append(Problem(name, f"required for a {kind} report"))
        elif kind is not owner and value is not None:
            problems.append(Problem(name, f"does not belong to a {kind} report; got {value}"))
    if cols.subkind[i] is not None and kind is not Kind.SHELLING:
        problems.append(Problem("subkind", f"only shelling has a subkind; got {cols.subkind[i]} for {kind}"))
    problems.extend(_status_problems(kind, cols.status[i]))
    if kind not in COUNT_KINDS and not (no_killed and no_injured):
        problems.append(Problem("killed", f"casualty counts do not belong to a {kind} report"))
    if kind is Kind.CASUALTIES and no_killed and no_injured:
        problems.append(Problem("killed", "a casualties report needs killed or injured (counts only)"))
    return problems


def _status_problems(kind: Kind, status: InfraStatus | ServiceStatus | None) -> list[Problem]:
    expected = _STATUS_ENUM.get(kind)
    if expected is None:
        return [] if status is None else [Problem("status", f"does not belong to a {kind} report; got {status}")]
    if status is None:
        return [Problem("status", f"required for a {kind} report: one of {', '.join(expected)}")]
    if not isinstance(status, expected):
        return [Problem("status", f"expected one of {', '.join(expected)} for {kind}; got {status}")]
    return []


def _text_rules(cols: ReportColumns, out: dict[int, list[Problem]]) -> None:
    for i, source in enumerate(cols.source):
        if source is None or not source.strip():
            out.setdefault(i, []).append(Problem("source", "required: who or what reported this"))
    limits = (
        ("source", MAX_NAME_CHARS),
        ("source_record_id", MAX_NAME_CHARS),
        ("place", MAX_NAME_CHARS),
        ("text", MAX_TEXT_CHARS),
    )
    for name, limit in limits:
        values = getattr(cols, name)
        if not _is_unicode("".join(v for v in values if v is not None)):  # one C call in the common case
            for i, value in enumerate(values):
                if value is not None and not _is_unicode(value):
                    reason = "not valid Unicode text (a lone surrogate such as \\ud800)"
                    out.setdefault(i, []).append(Problem(name, reason))
        lengths = [len(v) for v in values if v is not None]
        if not lengths or max(lengths) <= limit:
            continue
        for i, value in enumerate(values):
            if value is not None and len(value) > limit:
                reason = f"expected at most {limit} characters; got {len(value)}"
                out.setdefault(i, []).append(Problem(name, reason))


def _is_unicode(text: str) -> bool:
    """Whether the text can be written as UTF-8 (JSON lets a lone surrogate through; no store takes one)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def content_keys(cols: ReportColumns) -> list[str]:
    """The canonical text of each row's content: what its content id hashes."""
    lon = [f"{x:.6f}" for x in cols.lon.tolist()]
    lat = [f"{x:.6f}" for x in cols.lat.tolist()]
    observed = [str(int(t)) for t in cols.observed_s.tolist()]
    tail = [_ints(cols.killed), _ints(cols.injured), _ints(cols.ended_s)]
    area = [a.hex() if a else "" for a in cols.area_wkb]
    rows = zip(
        cols.kind,
        cols.subkind,
        observed,
        cols.time_precision,
        lon,
        lat,
        area,
        cols.source,
        cols.source_record_id,
        cols.text,
        cols.side,
        cols.utility,
        cols.service,
        cols.status,
        *tail,
        strict=True,
    )
    return ["\x1f".join(["" if p is None else p for p in row]) for row in rows]


def _ints(values: Floats) -> list[str]:
    if np.isnan(values).all():
        return [""] * len(values)
    return ["" if x != x else str(int(x)) for x in values.tolist()]


def uuid_from_content(key: str, observed_s: float) -> uuid.UUID:
    """A UUID (version 8) from the content: same content, same id.

    The first 48 bits are the observed time (epoch seconds), the rest a hash of the content key:
    ids of reports in time order are in id order, so the unique index on ids grows at its end
    (an import rewrites a few index pages per batch, not the whole index)."""
    return uuid.UUID(bytes=id_bytes_from_content(key, observed_s))


def ids_from_content(keys: list[str], observed_s: Floats) -> list[bytes]:
    """:func:`id_bytes_from_content` of many rows: one hash each, the rest with numpy at once."""
    n = len(keys)
    if n == 0:
        return []
    blake = hashlib.blake2b
    digests = np.frombuffer(b"".join([blake(k.encode(), digest_size=10).digest() for k in keys]), dtype=np.uint8)
    out = np.empty((n, 16), dtype=np.uint8)
    seconds = np.clip(observed_s, 0, (1 << 48) - 1).astype(">u8")
    out[:, :6] = seconds.view(np.uint8).reshape(n, 8)[:, 2:]
    out[:, 6:] = digests.reshape(n, 10)
    out[:, 6] = (out[:, 6] & 0x0F) | 0x80
    out[:, 8] = (out[:, 8] & 0x3F) | 0x80
    flat = out.tobytes()
    return [flat[i : i + 16] for i in range(0, 16 * n, 16)]


def id_bytes_from_content(key: str, observed_s: float) -> bytes:
    """The 16 bytes of :func:`uuid_from_content`."""
    seconds = min(max(int(observed_s), 0), (1 << 48) - 1)
    digest = bytearray(seconds.to_bytes(6, "big") + hashlib.blake2b(key.encode(), digest_size=10).digest())
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8: custom
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return bytes(digest)
