"""The report: one observation of one thing, at a place and time, each with its precision.

A :class:`Report` is frozen and validated on construction: every problem is collected and raised
at once as :class:`~greyzone.errors.ReportError`. Its id is the client's UUID, or a UUID made from
a hash of its content, so the same report ingested twice has the same id. Reporter identity is
never kept: at most a keyed hash (``reporter_hash``) that only the key's holder can link.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from greyzone.errors import Problem, ReportError
from greyzone.model.cells import Cells, lonlat_to_cells
from greyzone.model.columns import ReportColumns, column_problems, content_keys, uuid_from_content
from greyzone.model.enums import (
    InfraStatus,
    Kind,
    Service,
    ServiceStatus,
    ShellingKind,
    Side,
    TimePrecision,
    Utility,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """One report. Coordinates are (lon, lat) WGS84; times are aware UTC."""

    kind: Kind
    observed_at: datetime
    lon: float
    lat: float
    location_precision_m: float
    source: str
    time_precision: TimePrecision = TimePrecision.EXACT
    credibility: float = 0.5
    id: uuid.UUID | None = None
    subkind: ShellingKind | None = None
    area_wkb: bytes | None = None  # the reported area, for reports of an area (WKB, lon/lat)
    place: str | None = None  # the place name the location was resolved from, if any
    source_record_id: str | None = None
    text: str | None = None
    reported_at: datetime | None = None
    ended_at: datetime | None = None
    reporter_hash: bytes | None = None
    side: Side | None = None
    utility: Utility | None = None
    service: Service | None = None
    status: InfraStatus | ServiceStatus | None = None
    killed: int | None = None
    injured: int | None = None
    cells: Cells = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = _type_problems(self)
        if not problems:
            cols = report_to_columns(self)
            problems = column_problems(cols).get(0, [])
        if problems:
            raise ReportError(problems)
        setter = object.__setattr__
        setter(self, "observed_at", floor_time(self.observed_at, self.time_precision))
        setter(self, "cells", lonlat_to_cells(self.lon, self.lat))
        if self.id is None:
            cols = report_to_columns(self)
            setter(self, "id", uuid_from_content(content_keys(cols)[0], float(cols.observed_s[0])))

    @property
    def report_id(self) -> uuid.UUID:
        assert self.id is not None  # set in __post_init__
        return self.id

    def time_window(self) -> tuple[datetime, datetime]:
        """The interval the report says the event happened in (zero-length when exact)."""
        return self.observed_at, self.observed_at + self.time_precision.span


def floor_time(t: datetime, precision: TimePrecision) -> datetime:
    t = t.astimezone(UTC)
    if precision is TimePrecision.HOUR:
        return t.replace(minute=0, second=0, microsecond=0)
    if precision is TimePrecision.DAY:
        return t.replace(hour=0, minute=0, second=0, microsecond=0)
    return t


def content_id(report: Report) -> uuid.UUID:
    """The id a report gets from its content alone (what an id-less report is given)."""
    cols = report_to_columns(report)
    return uuid_from_content(content_keys(cols)[0], float(cols.observed_s[0]))


def _seconds(t: datetime | None) -> float:
    return float("nan") if t is None else t.timestamp()


def _count(n: int | None) -> float:
    return float("nan") if n is None else float(n)


def report_to_columns(r: Report) -> ReportColumns:
    """One report as a one-row ReportColumns (what the store and validation work on)."""
    observed = floor_time(r.observed_at, r.time_precision)
    return ReportColumns(
        kind=[r.kind],
        observed_s=np.array([observed.timestamp()]),
        time_precision=[r.time_precision],
        lon=np.array([float(r.lon)]),
        lat=np.array([float(r.lat)]),
        location_precision_m=np.array([float(r.location_precision_m)]),
        credibility=np.array([float(r.credibility)]),
        source=[r.source],
        reported_s=np.array([_seconds(r.reported_at)]),
        ended_s=np.array([_seconds(r.ended_at)]),
        killed=np.array([_count(r.killed)]),
        injured=np.array([_count(r.injured)]),
        subkind=[r.subkind],
        side=[r.side],
        utility=[r.utility],
        service=[r.service],
        status=[r.status],
        source_record_id=[r.source_record_id],
        place=[r.place],
        text=[r.text],
        area_wkb=[r.area_wkb],
    )


_TYPES: dict[str, Any] = {
    "kind": Kind,
    "time_precision": TimePrecision,
    "subkind": (ShellingKind, type(None)),
    "side": (Side, type(None)),
    "utility": (Utility, type(None)),
    "service": (Service, type(None)),
    "status": (InfraStatus, ServiceStatus, type(None)),
    "lon": (int, float),
    "lat": (int, float),
    "location_precision_m": (int, float),
    "credibility": (int, float),
    "killed": (int, type(None)),
    "injured": (int, type(None)),
    "source": str,
    "source_record_id": (str, type(None)),
    "place": (str, type(None)),
    "text": (str, type(None)),
    "area_wkb": (bytes, type(None)),
}


def _type_problems(r: Report) -> list[Problem]:
    problems = []
    for name, expected in _TYPES.items():
        value = getattr(r, name)
        if not isinstance(value, expected) or isinstance(value, bool):
            problems.append(Problem(name, f"expected {_type_name(expected)}; got {value!r}"))
    for name in ("observed_at", "reported_at", "ended_at"):
        value = getattr(r, name)
        if value is None and name != "observed_at":
            continue
        if not isinstance(value, datetime):
            problems.append(Problem(name, f"expected a datetime; got {value!r}"))
        elif value.tzinfo is None or value.utcoffset() is None:
            problems.append(Problem(name, f"expected a timezone-aware time (UTC); got naive {value}"))
    return problems


def _type_name(expected: Any) -> str:
    types = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join("None" if t is type(None) else t.__name__ for t in types)


def report_from_trusted(cells: Cells, **values: Any) -> Report:
    """A Report from values a store validated on the way in (no second validation)."""
    report = object.__new__(Report)
    for name, value in values.items():
        object.__setattr__(report, name, value)
    object.__setattr__(report, "cells", cells)
    return report
