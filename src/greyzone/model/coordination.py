"""The values of coordination: service points, needs, evacuation requests, the people asking, crews.

Personal data (names, phones, exact addresses and points, free notes) lives only in :class:`Personal`
and :class:`Asker`'s ``name``/``phone``: the store keeps them encrypted and the public never sees
them. Everything else here is what coordinators count and match on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Mobility(StrEnum):
    WALKS = "walks"
    NEEDS_HELP = "needs_help"
    WHEELCHAIR = "wheelchair"
    BEDRIDDEN = "bedridden"


class Relation(StrEnum):
    SELF = "self"
    RELATIVE = "relative"
    NEIGHBOUR = "neighbour"
    SOLDIER = "soldier"
    OFFICIAL = "official"


class Urgency(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    CRITICAL = "critical"


class RequestState(StrEnum):
    NEW = "new"
    VETTING = "vetting"
    APPROVED = "approved"
    REJECTED = "rejected"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


#: Where a request may go from each state (every change is audited with who and why).
NEXT_STATES: dict[RequestState, frozenset[RequestState]] = {
    RequestState.NEW: frozenset({RequestState.VETTING, RequestState.REJECTED, RequestState.CANCELLED}),
    RequestState.VETTING: frozenset({RequestState.APPROVED, RequestState.REJECTED, RequestState.CANCELLED}),
    RequestState.APPROVED: frozenset({RequestState.ASSIGNED, RequestState.CANCELLED, RequestState.VETTING}),
    RequestState.ASSIGNED: frozenset(
        {RequestState.EN_ROUTE, RequestState.APPROVED, RequestState.CANCELLED, RequestState.FAILED}
    ),
    RequestState.EN_ROUTE: frozenset({RequestState.DONE, RequestState.FAILED}),
    RequestState.REJECTED: frozenset({RequestState.VETTING}),
    RequestState.DONE: frozenset(),
    RequestState.FAILED: frozenset({RequestState.APPROVED}),
    RequestState.CANCELLED: frozenset(),
}
CLOSED_STATES = frozenset({RequestState.REJECTED, RequestState.DONE, RequestState.FAILED, RequestState.CANCELLED})


class Vehicle(StrEnum):
    FOOT = "foot"
    CAR = "car"
    ARMOURED_EW = "armoured_ew"
    ARMOURED_MINIBUS = "armoured_minibus"


class NeedCategory(StrEnum):
    FOOD = "food"
    DRINKING_WATER = "drinking_water"
    MEDICINE = "medicine"
    HEATING_FUEL = "heating_fuel"
    HYGIENE = "hygiene"
    EVACUATION = "evacuation"
    MEDICAL_CARE = "medical_care"


@dataclass(frozen=True, slots=True)
class District:
    """A named area of a city (its polygon as GeoJSON text)."""

    city: str
    name: str
    geometry: str


@dataclass(frozen=True, slots=True)
class ServicePoint:
    """A place with opening hours. ``public_lon/lat`` is where the public is told it is (a coordinator
    may publish a nearby corner rather than the door); only a ``published`` point is ever shown to the
    public, and a shelter only when also ``public_shelter``."""

    point_id: str
    city: str
    service: str  # a greyzone.model.enums.Service value
    name: str
    lon: float
    lat: float
    hours: str  # "HH:MM-HH:MM" local time, or "" when not known
    published: bool = False
    public_lon: float | None = None
    public_lat: float | None = None
    public_shelter: bool = False
    updated_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Need:
    """A need of residents in a district: a category and how many people, never who."""

    city: str
    district: str
    category: NeedCategory
    people: int
    recorded_at: float
    actor: str
    note: str = ""
    met_at: float | None = None
    need_id: int = 0


@dataclass(frozen=True, slots=True)
class Personal:
    """What identifies or locates the people to evacuate: encrypted at rest, coordinators only."""

    names: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    contact: str = ""  # how to reach them (a neighbour's phone, "ask at the water point at noon")
    medical_note: str = ""


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asked for the request (often a proxy). ``key`` is a keyed hash of the phone (or name):
    it tells a returning asker without keeping who they are in clear."""

    relation: Relation
    asked_at: float
    channel: str = "api"
    name: str = ""
    phone: str = ""
    callback_confirmed: bool = False
    key: bytes = b""


@dataclass(frozen=True, slots=True)
class EvacRequest:
    """An evacuation request: who (counts and needs), where (coarse in clear, exact in ``personal``),
    how urgent, who asked, and where it stands."""

    request_id: str
    city: str
    people: int
    mobility: Mobility
    created_at: float
    lon: float  # the point (exact: kept in the store only inside the encrypted personal data)
    lat: float
    precision_m: float
    district: str
    children: int = 0
    pets: int = 0
    medical: bool = False
    urgency: Urgency = Urgency.ROUTINE
    settlement: str = ""
    street: str = ""
    state: RequestState = RequestState.NEW
    personal: Personal = field(default_factory=Personal)
    askers: tuple[Asker, ...] = ()
    suspicion: float = 0.0
    reasons: tuple[str, ...] = ()
    crew_id: str = ""
    closed_at: float | None = None
    purged: bool = False


@dataclass(frozen=True, slots=True)
class Crew:
    """An evacuation or aid crew: what it drives and carries and its home base. Never a live position."""

    crew_id: str
    city: str
    name: str
    vehicle: Vehicle
    capacity: int
    stretcher: bool
    wheelchair: bool
    base_lon: float
    base_lat: float
    active: bool = True
