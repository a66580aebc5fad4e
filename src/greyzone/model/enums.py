"""The closed vocabularies of greyzone: report kinds, precisions, sides, utilities, services.

Every enum lists its valid values in the error a bad value raises (see :func:`parse_enum`).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import TypeVar

from greyzone.errors import Problem


class Kind(StrEnum):
    """What a report is about (MISSION.md §1)."""

    SHELLING = "shelling"  # artillery / mortar / MLRS, see ShellingKind
    GLIDE_BOMB = "glide_bomb"
    MISSILE = "missile"
    AIR_STRIKE = "air_strike"
    FPV_STRIKE = "fpv_strike"
    DRONE_DROP = "drone_drop"
    DRONE_SIGHTING = "drone_sighting"
    MINE_UXO = "mine_uxo"
    CLASH = "clash"
    INFILTRATION_SIGHTING = "infiltration_sighting"
    CONTROL_OBSERVATION = "control_observation"
    INFRASTRUCTURE_STATUS = "infrastructure_status"
    SERVICE_STATUS = "service_status"
    CASUALTIES = "casualties"
    EVACUATION_REQUEST = "evacuation_request"
    AIR_RAID_ALERT = "air_raid_alert"


#: Kinds whose reports describe one incident at one time and place, so that reports of it from
#: different sources are linked into one incident. Status kinds describe a state, not an incident.
INCIDENT_KINDS: frozenset[Kind] = frozenset(
    {
        Kind.SHELLING,
        Kind.GLIDE_BOMB,
        Kind.MISSILE,
        Kind.AIR_STRIKE,
        Kind.FPV_STRIKE,
        Kind.DRONE_DROP,
        Kind.DRONE_SIGHTING,
        Kind.MINE_UXO,
        Kind.CLASH,
        Kind.INFILTRATION_SIGHTING,
        Kind.CASUALTIES,
        Kind.AIR_RAID_ALERT,
    }
)

#: Kinds that harm people moving through a place: what a route's risk must count (hazard models of
#: other incident kinds, such as drone sightings, say where danger is near, not what it does).
HARM_KINDS: frozenset[Kind] = INCIDENT_KINDS - {
    Kind.DRONE_SIGHTING,
    Kind.INFILTRATION_SIGHTING,
    Kind.CASUALTIES,
    Kind.AIR_RAID_ALERT,
}

#: Kinds that may carry casualty counts (counts only, never who).
COUNT_KINDS: frozenset[Kind] = INCIDENT_KINDS - {Kind.DRONE_SIGHTING, Kind.AIR_RAID_ALERT}


class ShellingKind(StrEnum):
    ARTILLERY = "artillery"
    MORTAR = "mortar"
    MLRS = "mlrs"


class Side(StrEnum):
    """Who an observer says holds a place. ``unknown`` is an explicit 'status not confirmed'."""

    HELD = "held"
    OTHER_SIDE = "other_side"
    UNKNOWN = "unknown"


class Utility(StrEnum):
    POWER = "power"
    WATER = "water"
    GAS = "gas"
    HEATING = "heating"
    MOBILE_NETWORK = "mobile_network"


class InfraStatus(StrEnum):
    WORKING = "working"
    INTERMITTENT = "intermittent"
    OUT = "out"


class Service(StrEnum):
    SHOP = "shop"
    BREAD = "bread"
    WATER_POINT = "water_point"
    AID_POINT = "aid_point"
    SHELTER = "shelter"
    MEDICAL_POST = "medical_post"
    PHARMACY = "pharmacy"


class ServiceStatus(StrEnum):
    OPEN = "open"
    LIMITED = "limited"
    CLOSED = "closed"


class TimePrecision(StrEnum):
    """How precisely a report's time is known.

    A report with precision P says: it happened in ``[observed_at, observed_at + P.span)``.
    For ``exact`` the span is zero. ``hour`` and ``day`` times are floored to the UTC hour/day.
    """

    EXACT = "exact"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"  # coarser than a month (UCDP date_prec 5); kept rather than dropped

    @property
    def span(self) -> timedelta:
        return _SPANS[self]


_SPANS = {
    TimePrecision.EXACT: timedelta(0),
    TimePrecision.HOUR: timedelta(hours=1),
    TimePrecision.DAY: timedelta(days=1),
    TimePrecision.WEEK: timedelta(days=7),
    TimePrecision.MONTH: timedelta(days=31),
    TimePrecision.YEAR: timedelta(days=366),
}

#: Seconds of each precision's span, by value (a TimePrecision looks up the same as its value).
SPAN_S: dict[str, float] = {p.value: s.total_seconds() for p, s in _SPANS.items()}

E = TypeVar("E", bound=StrEnum)


def enum_problem(enum: type[StrEnum], value: object, field: str) -> Problem:
    valid = ", ".join(m.value for m in enum)
    return Problem(field, f"expected one of {valid}; got {value!r}")


def parse_enum(enum: type[E], value: object, field: str) -> E | Problem:
    """The member of ``enum`` named by ``value`` (case and surrounding space ignored), or a Problem."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        try:
            return enum(value.strip().lower())
        except ValueError:
            pass
    return enum_problem(enum, value, field)
