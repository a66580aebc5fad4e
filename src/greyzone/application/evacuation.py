"""Evacuation requests: taken (often by proxy), de-duplicated, vetted against lures, matched to crews.

Personal data — the names and phones of the people and of who asks, the exact address and point,
how to reach them, medical notes — is sealed (:mod:`greyzone.application.sealed`) before it reaches
the store, opened only for the ``coordinator`` role (every opening audited: who, why, which
request) and purged ``settings.retention_days`` after the request is closed. In clear the store keeps
only counts, mobility, urgency, the district and the H3 res-8 cell (~0.7 km²), the suspicion and the
state. A crew's live position is never stored or shown: only its home base and its assignment's state.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import h3
import numpy as np
import numpy.typing as npt
from cryptography.fernet import MultiFernet

from greyzone.application.board import districts_of, is_yes, local_text
from greyzone.application.sealed import open_personal, seal, sealer
from greyzone.application.stores import AppStore
from greyzone.control.fusion import ControlHistory
from greyzone.coordination.dedup import Sought, first_duplicate
from greyzone.coordination.names import is_phone, latin_key, person_key, phone_key
from greyzone.coordination.vetting import Suspicion, VettingFacts, crew_problems, suspicion
from greyzone.errors import GazetteerError, InputError, NotAvailableError, RejectedReportsError
from greyzone.ingest.gazetteer import Gazetteer
from greyzone.model.coordination import (
    CLOSED_STATES,
    NEXT_STATES,
    Crew,
    Mobility,
    Relation,
    RequestState,
    Urgency,
    Vehicle,
)
from greyzone.model.enums import Kind
from greyzone.model.grid import Grid
from greyzone.settings import Settings, reporter_key
from greyzone.store.base import AskerRow, AuditEntry, EventRow, RequestRow, Store, User

Json = dict[str, object]
LURE_WINDOW_H = 2.0
LURE_SPOT_M = 300.0
DRONE_HOURS = 6.0
DRONE_NEAR_M = 1_000.0
STREET_NEAR_M = 2_000.0
SYSTEM = "system"
KYIV = ZoneInfo("Europe/Kyiv")
VEHICLE_MODES = {"foot": "foot", "car": "car", "armoured_ew": "armoured", "armoured_minibus": "armoured"}


def is_coordinator(user: User) -> bool:
    """Only the coordinator role reads personal data (not admins: they grant the role, audited)."""
    return user.role == "coordinator"


# ----------------------------------------------------------------------------------------------- intake


@dataclass(frozen=True, slots=True)
class EvacForm:
    """A request as taken (phone, form, API, CSV), validated."""

    city: str
    people: int
    mobility: Mobility
    lon: float
    lat: float
    precision_m: float
    asked_at: float
    relation: Relation
    children: int = 0
    pets: int = 0
    medical: bool = False
    urgency: Urgency = Urgency.ROUTINE
    settlement: str = ""
    street: str = ""
    address: str = ""
    names: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    contact: str = ""
    medical_note: str = ""
    asker_name: str = ""
    asker_phone: str = ""
    channel: str = "api"
    callback_confirmed: bool = False


def _list(value: object) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = value if isinstance(value, list | tuple) else str(value).split(";")
    return tuple(str(x).strip()[:200] for x in items if str(x).strip())


def _count(fields: dict[str, object], name: str, problems: list[tuple[str, str]], low: int = 0) -> int:
    value = fields.get(name)
    if value is None or value == "":
        if low:
            problems.append((name, f"expected a whole number from {low}; got nothing"))
        return low
    try:
        n = int(str(value))
    except ValueError:
        problems.append((name, f"expected a whole number; got {value!r}"))
        return low
    if not low <= n <= 1000:
        problems.append((name, f"expected {low} to 1000; got {n}"))
    return n


E = TypeVar("E", Mobility, Relation, Urgency)


def _choice(
    kind: type[E], fields: dict[str, object], name: str, default: E | None, problems: list[tuple[str, str]]
) -> E | None:
    value = str(fields.get(name) or "").strip().lower()
    if not value and default is not None:
        return default
    try:
        return kind(value)
    except ValueError:
        problems.append((name, f"expected one of {', '.join(m.value for m in kind)}; got {value!r}"))
        return None


def _when(value: object, problems: list[tuple[str, str]], now_s: float) -> float:
    if value is None or value == "":
        return now_s
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        problems.append(("asked_at", f"expected ISO 8601 with its offset; got {value!r}"))
        return now_s
    if t.tzinfo is None:
        problems.append(("asked_at", f"a time needs its offset (e.g. {t.isoformat()}+02:00); got {value!r}"))
        return now_s
    return t.timestamp()


#: Resolves a place (a name, or "lon,lat" to check) to (lon, lat, precision_m), or raises InputError.
Place = Callable[[str], tuple[float, float, float]]


def form_from(
    fields: dict[str, object],
    city: str,
    *,
    where: Place | None,
    inside: Place | None = None,
    now_s: float | None = None,
) -> EvacForm:
    """A validated form from loose fields, or RejectedReportsError listing every bad field (row 1).
    ``where`` resolves a place name (lon, lat, precision_m); ``inside`` checks a point is in the city."""
    problems: list[tuple[str, str]] = []
    now_s = time.time() if now_s is None else now_s
    people = _count(fields, "people", problems, low=1)
    mobility = _choice(Mobility, fields, "mobility", Mobility.WALKS, problems)
    relation = _choice(Relation, fields, "relation", Relation.SELF, problems)
    urgency = _choice(Urgency, fields, "urgency", Urgency.ROUTINE, problems)
    phones = _list(fields.get("phones"))
    asker_phone = str(fields.get("asker_phone") or "").strip()
    for name, value in [*(("phones", p) for p in phones), ("asker_phone", asker_phone)]:
        if value and not is_phone(value):
            problems.append((name, f"not a phone number (9 to 15 digits, + and spaces allowed): {value!r}"))
    lon, lat, precision = _location(fields, problems, where, inside)
    if problems:
        raise RejectedReportsError(
            f"the request is not valid ({len(problems)} problems); nothing was stored", [(1, f, r) for f, r in problems]
        )
    assert mobility is not None and relation is not None and urgency is not None
    return EvacForm(
        city, people, mobility, lon, lat, precision, _when(fields.get("asked_at"), problems, now_s), relation,
        _count(fields, "children", problems), _count(fields, "pets", problems), is_yes(fields.get("medical")), urgency,
        _text(fields, "settlement"), _text(fields, "street"), _text(fields, "address"), _list(fields.get("names")),
        phones, _text(fields, "contact"), _text(fields, "medical_note"), _text(fields, "asker_name"), asker_phone,
        _text(fields, "channel") or "api", is_yes(fields.get("callback_confirmed")),
    )  # fmt: skip


def _text(fields: dict[str, object], name: str) -> str:
    return str(fields.get(name) or "").strip()[:500]


def _location(
    fields: dict[str, object], problems: list[tuple[str, str]], where: Place | None, inside: Place | None
) -> tuple[float, float, float]:
    """The point: lon/lat given (with precision_m, default 50 m), or the settlement resolved by name."""
    lon, lat = fields.get("lon"), fields.get("lat")
    if lon not in (None, "") or lat not in (None, ""):
        try:
            x, y = float(str(lon)), float(str(lat))
            precision = float(str(fields.get("precision_m") or 50.0))
        except ValueError:
            problems.append(("lon", f"expected numbers for lon, lat and precision_m; got {lon!r}, {lat!r}"))
            return 0.0, 0.0, 0.0
        if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
            problems.append(("lon", f"not a point on Earth: ({lon}, {lat})"))
        elif not 0 < precision <= 50_000:
            problems.append(("precision_m", f"expected 1 to 50000 m; got {precision}"))
        elif inside is not None:
            try:
                inside(f"{x},{y}")
            except InputError as exc:
                problems.append(("lon", str(exc)))
        return x, y, precision
    place = str(fields.get("settlement") or fields.get("place") or "").strip()
    if not place:
        problems.append(("lon", "a request needs a place: lon and lat, or a settlement the gazetteer knows"))
        return 0.0, 0.0, 0.0
    if where is None:
        problems.append(
            ("settlement", f"no gazetteer to find {place!r} in: give lon and lat (or start with --gazetteer)")
        )
        return 0.0, 0.0, 0.0
    try:
        return where(place)
    except (GazetteerError, InputError) as exc:
        problems.append(("settlement", str(exc)))
        return 0.0, 0.0, 0.0


def gazetteer_place(settings: Settings, centre: tuple[float, float]) -> Place | None:
    """Resolve a settlement by name; of several with the name, the one within 40 km of the city (else ask)."""
    if settings.gazetteer_dir is None:
        return None
    gazetteer = Gazetteer.from_dir(settings.gazetteer_dir)

    def resolve(name: str) -> tuple[float, float, float]:
        try:
            return gazetteer.resolve(name)
        except GazetteerError as exc:
            near = [
                p
                for p in gazetteer.lookup(name)
                if p.lon is not None and p.lat is not None and _km(centre, (p.lon, p.lat)) <= 40.0
            ]
            names = {(p.name, round(p.lon or 0, 2), round(p.lat or 0, 2)) for p in near}
            if len(names) != 1:
                said = f"{exc} (near the city: {len(names)}; say which, or give lon and lat)"
                raise InputError("settlement", said) from None
            best = min(near, key=lambda p: p.precision_m)
            assert best.lon is not None and best.lat is not None
            return best.lon, best.lat, best.precision_m

    return resolve


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    kx = 111.32 * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * 111.32)


def city_check(store: Store, city: str) -> tuple[tuple[float, float], Place]:
    """The city's centre, and a check that a point "lon,lat" is within ~3 km of its streets."""
    from greyzone.application.movement import city_graph

    graph = city_graph(store, city).graph
    box = (float(graph.lon.min()), float(graph.lat.min()), float(graph.lon.max()), float(graph.lat.max()))
    centre = (float(np.median(graph.lon)), float(np.median(graph.lat)))

    def inside(text: str) -> tuple[float, float, float]:
        x, y = (float(v) for v in text.split(","))
        m = 0.03
        if not (box[0] - m <= x <= box[2] + m and box[1] - m <= y <= box[3] + m):
            raise InputError(
                "lon", f"({x:.5f}, {y:.5f}) is outside the city {city!r} (more than ~3 km from its streets)"
            )
        return x, y, 0.0

    return centre, inside


# ----------------------------------------------------------------------------------------------- storing


def asker_key(settings: Settings, phone: str, name: str) -> bytes:
    """A keyed hash of who asks (their phone, else their name): a returning asker, never who. An asker
    with neither gets a key of their own (always new)."""
    basis = phone_key(phone) or person_key(name)
    if not basis:
        return secrets.token_bytes(16)
    return hmac.new(reporter_key(settings), f"asker:{basis}".encode(), hashlib.sha256).digest()[:16]


def _personal(form: EvacForm) -> Json:
    return {
        "names": list(form.names), "phones": list(form.phones), "address": form.address, "street": form.street,
        "lon": form.lon, "lat": form.lat, "contact": form.contact, "medical_note": form.medical_note,
    }  # fmt: skip


def _details(form: EvacForm, askers: int) -> Json:
    return {
        "people": form.people, "mobility": form.mobility.value, "children": form.children, "pets": form.pets,
        "medical": form.medical, "urgency": form.urgency.value, "settlement": form.settlement, "askers": askers,
        "suspicion": 0.0, "level": "low", "reasons": [],
    }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Taken:
    request_id: str
    merged: bool  # the request was already there (asked for by another proxy): this asker was added
    replay: bool  # the same idempotency key again: nothing new stored
    suspicion: float
    reasons: list[str]

    def answer(self) -> Json:
        return asdict(self)


def take_request(
    store: AppStore,
    settings: Settings,
    user: User,
    form: EvacForm,
    *,
    idempotency_key: str | None = None,
    around: Around | None = None,
) -> Taken:
    """Store a request, or add its asker to the open request about the same people (de-duplication),
    then vet it. The same idempotency key from the same user stores it once."""
    keys = sealer(settings)
    idem = (user.name, idempotency_key) if idempotency_key else None
    now = time.time()
    asker = AskerRow(
        "", 1, form.asked_at, form.relation.value, form.channel, form.callback_confirmed,
        asker_key(settings, form.asker_phone, form.asker_name),
        seal(keys, {"name": form.asker_name, "phone": form.asker_phone}),
    )  # fmt: skip
    kept = store.recall(user.name, f"evac:{idempotency_key}") if idempotency_key else None
    if kept is not None:
        return _taken(_must(store, json.loads(kept)["request_id"]), merged=False, replay=True)
    twin = _duplicate_of(store, keys, form)
    if twin is not None:
        merged = _merge(store, settings, keys, twin, form, asker, user, now, around)
        return _remembered(store, user, idempotency_key, merged)
    request_id = f"ev-{secrets.token_hex(6)}"
    district = districts_of(store, form.city).of(np.array([form.lon]), np.array([form.lat]))[0]
    row = RequestRow(
        request_id, form.city, form.asked_at, now, RequestState.NEW.value, district,
        h3.api.basic_int.latlng_to_cell(form.lat, form.lon, 8), form.precision_m, json.dumps(_details(form, 1)),
        seal(keys, _personal(form)),
    )  # fmt: skip
    event = EventRow(request_id, now, user.name, "", RequestState.NEW.value, f"taken by {form.channel}")
    stored = store.write_request(row, [replace(asker, request_id=request_id)], event, idem)
    if stored != request_id:  # the same key raced us: the first one stands
        return _taken(_must(store, stored), merged=False, replay=True)
    vetted = _vet(store, settings, _must(store, request_id), actor=user.name, around=around)
    taken = _taken(vetted, merged=False, replay=False)
    return _remembered(store, user, idempotency_key, taken)


def _remembered(store: AppStore, user: User, key: str | None, taken: Taken) -> Taken:
    """Keep the answer for a retry with the same key (a merged ask is not added twice)."""
    if key:
        store.remember(user.name, f"evac:{key}", json.dumps({"request_id": taken.request_id}), [])
    return taken


def _must(store: AppStore, request_id: str) -> RequestRow:
    found = store.read_request(request_id)
    if found is None:
        raise InputError("request_id", f"no evacuation request {request_id!r}")
    return found


def _taken(row: RequestRow, *, merged: bool, replay: bool) -> Taken:
    d = json.loads(row.details)
    return Taken(row.request_id, merged, replay, float(d.get("suspicion", 0.0)), list(d.get("reasons", [])))


def _sought(p: Json, precision_m: float) -> Sought:
    return Sought(
        tuple(p.get("names", [])),  # type: ignore[arg-type]
        tuple(p.get("phones", [])),  # type: ignore[arg-type]
        float(p.get("lon", 0.0)),  # type: ignore[arg-type]
        float(p.get("lat", 0.0)),  # type: ignore[arg-type]
        precision_m,
        " ".join(str(p.get(k, "")) for k in ("street", "address")).strip(),
    )


def _duplicate_of(store: AppStore, keys: MultiFernet, form: EvacForm) -> RequestRow | None:
    """The open request about the same people at the same place, if any (each one's sealed data opened
    for the comparison, audited as the system's)."""
    open_states = [s.value for s in RequestState if s not in CLOSED_STATES]
    candidates = store.read_requests(form.city, open_states)
    if not candidates:
        return None
    opened = [
        _sought(
            open_personal(store, keys, r.personal, actor=SYSTEM, why="deduplicate", what=r.request_id), r.precision_m
        )
        for r in candidates
    ]
    new = _sought(_personal(form), form.precision_m)
    i = first_duplicate(new, opened)
    return None if i is None else candidates[i]


def _merge(
    store: AppStore, settings: Settings, keys: MultiFernet, twin: RequestRow, form: EvacForm, asker: AskerRow,
    user: User, now: float, around: Around | None,
) -> Taken:  # fmt: skip
    """Another proxy's ask for the same people: keep every asker; the request carries the most people,
    the hardest mobility and the highest urgency any of them stated; names and phones are joined."""
    p = open_personal(store, keys, twin.personal, actor=SYSTEM, why="merge a duplicate", what=twin.request_id)
    p["names"] = sorted({*p.get("names", []), *form.names})  # type: ignore[misc]
    p["phones"] = sorted({*p.get("phones", []), *form.phones})  # type: ignore[misc]
    d = json.loads(twin.details)
    mobilities, urgencies = list(Mobility), list(Urgency)
    d["people"] = max(int(d["people"]), form.people)
    d["mobility"] = max(Mobility(d["mobility"]), form.mobility, key=mobilities.index).value
    d["urgency"] = max(Urgency(d["urgency"]), form.urgency, key=urgencies.index).value
    d["children"], d["pets"] = max(d["children"], form.children), max(d["pets"], form.pets)
    d["medical"] = bool(d["medical"] or form.medical)
    d["askers"] = int(d.get("askers", 1)) + 1
    event = EventRow(twin.request_id, now, user.name, twin.state, twin.state, f"another asker ({form.relation.value})")
    store.add_askers(twin.request_id, [replace(asker, request_id=twin.request_id)], json.dumps(d), seal(keys, p), event)
    vetted = _vet(store, settings, _must(store, twin.request_id), actor=user.name, around=around)
    return _taken(vetted, merged=True, replay=False)


# ----------------------------------------------------------------------------------------------- vetting


def vetting_facts(
    store: AppStore,
    settings: Settings,
    row: RequestRow,
    point: tuple[float, float],
    at_s: float,
    around: Around | None = None,
) -> VettingFacts:
    """What is known around a request at ``at_s``: the ground, the ways out, the askers, the details, drones."""
    askers = store.read_askers([row.request_id])
    seen_before = store.asker_keys_before([a.asker_key for a in askers], min(a.asked_at for a in askers))
    new = [a for a in askers if a.asker_key not in seen_before]
    ground, since, cut = _ground((around or Around()).of(store, row.city, at_s), point)
    p = open_personal(
        store, sealer(settings), row.personal, actor=SYSTEM, why="vet (street check)", what=row.request_id
    )
    details = json.loads(row.details)
    street = str(p.get("street") or "")
    return VettingFacts(
        control=ground, control_since=since, cut_ways=tuple(cut), askers=len(askers), new_askers=len(new),
        callback_confirmed=any(a.callback_confirmed for a in askers),
        new_askers_near=_new_askers_near(store, settings, row, point), window_h=LURE_WINDOW_H,
        street=street, street_found=_street_found(store, row.city, street, point) if street else None,
        settlement=str(details.get("settlement") or ""),
        settlement_km=_settlement_km(settings, str(details.get("settlement") or ""), point),
        drone_strikes=_drone_strikes(store, row.city, point, at_s), drone_hours=DRONE_HOURS,
    )  # fmt: skip


@dataclass
class Surroundings:
    """A city's control map day by day (the 28 days before a time) and its ways out that are cut then:
    computed once and shared by the requests of an import taken close in time (:class:`Around`)."""

    grid: Grid | None  # the control grid (None: no control observations)
    history: ControlHistory | None
    days: list[float]  # the time itself, then a day back each
    centre: tuple[float, float]
    cut: list[tuple[str, float, float, str]]  # (way out, gate lon, gate lat, cut since)
    _states: dict[int, npt.NDArray[np.int8]] = field(default_factory=dict)

    def states(self, back: int) -> npt.NDArray[np.int8]:
        """Each cell's state code ``back`` days before the time (computed when first asked)."""
        if back not in self._states:
            assert self.history is not None
            t = self.days[back]
            self._states[back] = np.asarray(self.history.at(t).states(t))
        return self._states[back]


class Around:
    """Surroundings by (city, 6-hour span), kept for one batch of requests (never across calls of the
    service): the requests of an import taken within the same six hours are vetted on the control map and
    ways out of the first one's time."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, int], Surroundings] = {}

    def of(self, store: AppStore, city: str, t_s: float) -> Surroundings:
        key = (city, int(t_s // 21_600))
        if key not in self._seen:
            self._seen[key] = _surroundings(store, city, t_s)
        return self._seen[key]


def _surroundings(store: AppStore, city: str, t_s: float) -> Surroundings:
    from greyzone.application.control import control_grid, observations_or_refuse
    from greyzone.application.movement import city_graph

    g = city_graph(store, city).graph
    centre = (float(np.median(g.lon)), float(np.median(g.lat)))
    when = datetime.fromtimestamp(t_s, UTC)
    try:
        observations = observations_or_refuse(store, when)
    except NotAvailableError:
        return Surroundings(None, None, [], centre, [])
    grid = control_grid(observations, 8)
    days = [t_s - back * 86_400.0 for back in range(29)]
    return Surroundings(grid, ControlHistory(grid, observations), days, centre, _cut_ways(store, city, when))


def _ground(around: Surroundings, point: tuple[float, float]) -> tuple[str, str, list[tuple[str, str]]]:
    """The control state at the point (and since which day), and the cut ways out its approach needs:
    those whose gate lies ahead of the point seen from the city's centre (within 30°, the point nearer the
    gate than the centre is)."""
    from greyzone.control.products import CODE_STATES

    cut = [
        (name, since)
        for name, lon, lat, since in around.cut
        if _angle(around.centre, point, (lon, lat)) <= 30.0 and _km(point, (lon, lat)) < _km(around.centre, (lon, lat))
    ]
    if around.grid is None:
        return "unknown", "", cut
    cell, distance = around.grid.nearest(np.array([point[0]]), np.array([point[1]]))
    if distance[0] > 2_000.0:
        return "unknown", "", cut
    state, since = "", around.days[0]
    for back, t in enumerate(around.days):  # the days back over which it was the same
        s = CODE_STATES[int(around.states(back)[cell[0]])].value
        if state and s != state:
            break
        state, since = s, t
    return state, _day(since), cut


def _day(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, KYIV).strftime("%d %b %Y")


def _cut_ways(store: AppStore, city: str, when: datetime) -> list[tuple[str, float, float, str]]:
    """The ways out of the city that are cut at ``when``, with their gates and since which day."""
    from greyzone.application.movement import ways_out
    from greyzone.routing.corridors import Status

    found = store.read_city(city)
    if found is None or not found.gates:
        return []
    try:
        _, ways = ways_out(store, city, when, 1, 8)
    except (NotAvailableError, InputError):
        return []
    out = []
    for name, lon, lat in found.gates:
        way = ways.get(name)
        if way is not None and way.days[-1][1].status is Status.CUT:
            out.append((name, lon, lat, _day(datetime.fromisoformat(way.since).replace(tzinfo=KYIV).timestamp())))
    return out


def _angle(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    kx = math.cos(math.radians(o[1]))
    ax, ay, bx, by = (a[0] - o[0]) * kx, a[1] - o[1], (b[0] - o[0]) * kx, b[1] - o[1]
    na, nb = math.hypot(ax, ay), math.hypot(bx, by)
    if na == 0 or nb == 0:
        return 180.0
    return math.degrees(math.acos(max(-1.0, min(1.0, (ax * bx + ay * by) / (na * nb)))))


def _new_askers_near(store: AppStore, settings: Settings, row: RequestRow, point: tuple[float, float]) -> int:
    """Distinct new askers (no ask before theirs) for requests within LURE_SPOT_M of this one's point, asking
    within LURE_WINDOW_H hours either side of this request's newest ask, this one's askers included. The
    neighbours' points are opened for the comparison (audited as the system's)."""
    ring = set(h3.api.basic_int.grid_disk(row.cell, 1))
    keys = sealer(settings)
    near = [row.request_id]
    for r in store.read_requests(row.city):
        if r.cell in ring and r.request_id != row.request_id and r.personal is not None:
            p = open_personal(store, keys, r.personal, actor=SYSTEM, why="vet (same spot)", what=r.request_id)
            if _km(point, (float(p.get("lon", 0.0)), float(p.get("lat", 0.0)))) * 1000.0 <= LURE_SPOT_M:  # type: ignore[arg-type]
                near.append(r.request_id)
    askers = store.read_askers(near)
    t_ref = max(a.asked_at for a in askers if a.request_id == row.request_id)
    window_s = LURE_WINDOW_H * 3600
    found = {
        a.asker_key
        for a in askers
        if abs(a.asked_at - t_ref) <= window_s and not store.asker_keys_before([a.asker_key], a.asked_at)
    }
    return len(found)


def _street_found(store: AppStore, city: str, street: str, point: tuple[float, float]) -> bool | None:
    """Whether a street of that name (any script) runs within STREET_NEAR_M of the point; None without names."""
    from greyzone.application.movement import city_graph
    from greyzone.coordination.names import name_similarity

    g = city_graph(store, city).graph
    if not any(g.names):
        return None
    kx = 111_320.0 * math.cos(math.radians(point[1]))
    near = np.hypot((g.lon - point[0]) * kx, (g.lat - point[1]) * 111_320.0) <= STREET_NEAR_M
    ids = np.unique(g.name_id[near[g.source()]])
    wanted = _street_key(street)
    return any(name_similarity(wanted, _street_key(g.names[i])) >= 85.0 for i in ids.tolist() if g.names[i])


STREET_WORDS = {"vulitsia", "vul", "ulitsa", "ul", "street", "st", "prospekt", "prosp", "provulok", "pereulok", "lane"}


def _street_key(name: str) -> str:
    words = [w for w in latin_key(name).split() if w not in STREET_WORDS and not w.isdigit()]
    return " ".join(words) or latin_key(name)


def _settlement_km(settings: Settings, settlement: str, point: tuple[float, float]) -> float | None:
    if not settlement or settings.gazetteer_dir is None:
        return None
    try:
        lon, lat, _ = Gazetteer.from_dir(settings.gazetteer_dir).resolve(settlement)
    except GazetteerError:
        return None
    return _km(point, (lon, lat))


def _drone_strikes(store: AppStore, city: str, point: tuple[float, float], t_s: float) -> int:
    """FPV strikes and drone drops (incidents, not reports) within DRONE_NEAR_M of the straight way from the
    city's centre to the point in the last DRONE_HOURS hours."""
    import shapely

    from greyzone.application.movement import city_graph
    from greyzone.store.base import ReportQuery

    g = city_graph(store, city).graph
    centre = (float(np.median(g.lon)), float(np.median(g.lat)))
    until = datetime.fromtimestamp(t_s, UTC)
    frame = store.read_frame(
        ReportQuery(
            since=until - timedelta(hours=DRONE_HOURS), until=until, kinds=frozenset({Kind.FPV_STRIKE, Kind.DRONE_DROP})
        )
    )
    if not len(frame):
        return 0
    kx = 111_320.0 * math.cos(math.radians(point[1]))
    line = shapely.LineString([(centre[0] * kx, centre[1] * 111_320.0), (point[0] * kx, point[1] * 111_320.0)])
    d = shapely.distance(line, shapely.points(frame.lon * kx, frame.lat * 111_320.0))
    return len(np.unique(frame.incident[d <= DRONE_NEAR_M]))


def _vet(
    store: AppStore,
    settings: Settings,
    row: RequestRow,
    *,
    actor: str,
    at_s: float | None = None,
    around: Around | None = None,
) -> RequestRow:
    """Score the request on what was known at ``at_s`` (default: when it was asked) and keep the score and
    its reasons in its details (state unchanged)."""
    p = open_personal(store, sealer(settings), row.personal, actor=SYSTEM, why="vet", what=row.request_id)
    point = (float(p.get("lon", 0.0)), float(p.get("lat", 0.0)))  # type: ignore[arg-type]
    facts = vetting_facts(store, settings, row, point, row.created_at if at_s is None else at_s, around)
    found = suspicion(facts)
    d = json.loads(row.details)
    d.update(_scored(found), ground=facts.control, ground_since=facts.control_since)
    event = EventRow(row.request_id, time.time(), actor, row.state, row.state, f"vetted: {found.score:.2f}")
    store.move_request(event, details=json.dumps(d), closed_at=row.closed_at)
    return _must(store, row.request_id)


def _scored(s: Suspicion) -> Json:
    return {
        "suspicion": s.score,
        "level": s.level,
        "reasons": [r.text for r in s.reasons],
        "codes": [r.code for r in s.reasons],
    }


def vet_request(store: AppStore, settings: Settings, user: User, request_id: str, at: datetime | None = None) -> Json:
    """Score a request again (on what is known at ``at``; default: when it was asked) and put it under
    vetting (from new); the score explains itself."""
    at_s = None if at is None else at.timestamp()
    row = _vet(store, settings, _must(store, request_id), actor=user.name, at_s=at_s)
    if row.state == RequestState.NEW.value:
        move_request(store, user, request_id, RequestState.VETTING.value, "vetting")
        row = _must(store, request_id)
    return request_view(store, settings, user, row)


# ----------------------------------------------------------------------------------------------- reading


def request_view(store: AppStore, settings: Settings, user: User, row: RequestRow, *, full: bool = False) -> Json:
    """A request as ``user`` may see it: coordinators with its personal data (the opening audited), and with
    ``full`` its askers and its history; anyone else only counts, the district and the suspicion."""
    d = json.loads(row.details)
    view: Json = {
        "request_id": row.request_id, "city": row.city, "state": row.state, "district": row.district,
        "created_at": local_text(row.created_at, KYIV), "updated_at": local_text(row.updated_at, KYIV),
        "precision_m": row.precision_m, "crew_id": row.crew_id, "purged": row.purged_at is not None,
        **{k: d.get(k) for k in ("people", "mobility", "children", "pets", "medical", "urgency", "settlement",
                                 "askers", "suspicion", "level", "reasons", "ground", "ground_since")},
    }  # fmt: skip
    if not is_coordinator(user):
        return view
    keys = sealer(settings)
    view["personal"] = open_personal(store, keys, row.personal, actor=user.name, why="read", what=row.request_id)
    if full:
        view["asked_by"] = [
            {"relation": a.relation, "channel": a.channel, "asked_at": local_text(a.asked_at, KYIV),
             "callback_confirmed": a.callback_confirmed,
             **open_personal(store, keys, a.personal, actor=user.name, why="read asker",
                             what=f"{a.request_id}#{a.seq}")}
            for a in store.read_askers([row.request_id])
        ]  # fmt: skip
        view["history"] = [
            {"at": local_text(e.at, KYIV), "actor": e.actor, "from": e.from_state, "to": e.to_state, "reason": e.reason}
            for e in store.read_events(row.request_id)
        ]
    return view


def list_requests(store: AppStore, settings: Settings, user: User, city: str, states: Sequence[str] = ()) -> list[Json]:
    """The request queue, most suspicious first within each urgency (coordinators see personal data)."""
    bad = [s for s in states if s not in {x.value for x in RequestState}]
    if bad:
        raise InputError("state", f"expected one of {', '.join(s.value for s in RequestState)}; got {bad[0]!r}")
    rows = store.read_requests(city, list(states))
    order = list(Urgency)[::-1]
    views = [request_view(store, settings, user, r) for r in rows]
    return sorted(views, key=lambda v: (order.index(Urgency(str(v["urgency"]))), -float(v["suspicion"] or 0)))  # type: ignore[arg-type]


def show_request(store: AppStore, settings: Settings, user: User, request_id: str) -> Json:
    return request_view(store, settings, user, _must(store, request_id), full=True)


def request_counts(store: AppStore, city: str) -> Json:
    """Aggregates for analysts and the public sitrep: requests and people by district and state."""
    rows = store.read_requests(city)
    table: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        d = json.loads(r.details)
        cell = table.setdefault((r.district, r.state), [0, 0, 0])
        cell[0] += 1
        cell[1] += int(d.get("people", 0))
        cell[2] += int(d.get("mobility") in ("bedridden", "wheelchair"))
    return {
        "city": city,
        "rows": [
            {"district": k[0], "state": k[1], "requests": v[0], "people": v[1], "lying_or_wheelchair": v[2]}
            for k, v in sorted(table.items())
        ],
    }


# ----------------------------------------------------------------------------------------------- states


def move_request(
    store: AppStore, user: User, request_id: str, to_state: str, reason: str, *, crew_id: str | None = None
) -> Json:
    """Move a request to its next state (the allowed moves: ``NEXT_STATES``), audited with who and why. A
    rejection needs a reason."""
    row = _must(store, request_id)
    try:
        target = RequestState(to_state)
    except ValueError:
        raise InputError(
            "state", f"expected one of {', '.join(s.value for s in RequestState)}; got {to_state!r}"
        ) from None
    current = RequestState(row.state)
    if target not in NEXT_STATES[current]:
        allowed = ", ".join(sorted(s.value for s in NEXT_STATES[current])) or "none (it is closed)"
        raise InputError("state", f"a request {current.value} cannot become {target.value} (it may become: {allowed})")
    if target is RequestState.REJECTED and not reason.strip():
        raise InputError("reason", "say why the request is rejected")
    closed = time.time() if target in CLOSED_STATES else None
    event = EventRow(request_id, time.time(), user.name, current.value, target.value, reason.strip()[:500])
    if not store.move_request(event, crew_id=crew_id, closed_at=closed):
        raise InputError("state", f"the request changed meanwhile (now {_must(store, request_id).state}); look again")
    store.audit(AuditEntry(time.time(), user.name, "evac.state", request_id, f"{current.value}->{target.value}"))
    return {"request_id": request_id, "from": current.value, "to": target.value, "reason": event.reason}


# ----------------------------------------------------------------------------------------------- crews


def crew_from(fields: dict[str, object], city: str) -> Crew:
    problems: list[tuple[str, str]] = []
    vehicle = str(fields.get("vehicle") or "").strip().lower()
    if vehicle not in {v.value for v in Vehicle}:
        problems.append(("vehicle", f"expected one of {', '.join(v.value for v in Vehicle)}; got {vehicle!r}"))
    capacity = _count(fields, "capacity", problems, low=1)
    name = _text(fields, "name")
    if not name:
        problems.append(("name", "a crew needs a name"))
    try:
        lon, lat = float(str(fields.get("base_lon"))), float(str(fields.get("base_lat")))
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError
    except ValueError:
        problems.append(("base_lon", "expected the home base as base_lon and base_lat (degrees)"))
        lon = lat = 0.0
    if problems:
        raise RejectedReportsError("the crew is not valid; nothing was stored", [(1, f, r) for f, r in problems])
    crew_id = _text(fields, "crew_id") or f"crew-{secrets.token_hex(4)}"
    return Crew(
        crew_id[:64], city, name, Vehicle(vehicle), capacity, is_yes(fields.get("stretcher")),
        is_yes(fields.get("wheelchair")), lon, lat,
        str(fields.get("active", "true")).lower() not in ("0", "false", "no"),
    )  # fmt: skip


def add_crew(store: AppStore, user: User, crew: Crew) -> Crew:
    from greyzone.application.movement import city_graph

    city_graph(store, crew.city)
    store.write_crew(crew)
    store.audit(AuditEntry(time.time(), user.name, "crew.add", crew.crew_id, crew.vehicle.value))
    return crew


def crew_row(c: Crew) -> Json:
    """A crew as shown: what it drives and carries, and its home base (never where it is now)."""
    return {
        "crew_id": c.crew_id, "name": c.name, "vehicle": c.vehicle.value, "capacity": c.capacity,
        "stretcher": c.stretcher, "wheelchair": c.wheelchair, "base": [c.base_lon, c.base_lat], "active": c.active,
    }  # fmt: skip


@dataclass(frozen=True, slots=True)
class CrewOption:
    crew: Crew
    problems: list[str]
    route: Json | None = None

    def json(self) -> Json:
        return {**crew_row(self.crew), "feasible": not self.problems, "problems": self.problems, "route": self.route}


def match_crews(
    store: AppStore, settings: Settings, user: User, request_id: str, day: date, window: str | None = None
) -> list[Json]:
    """Every crew of the request's city: the feasible ones first, ranked by the risk of their route from
    base to the pick-up at its best departure inside the window (the city's curfew window by default),
    each with the route explained; the others with why not."""
    from greyzone.application.movement import RouteRequest, city_graph, city_zone, plan_route, window_departures
    from greyzone.routing.exposure import Mode

    row = _must(store, request_id)
    if row.personal is None:
        raise InputError("request_id", f"request {request_id} was purged: its pick-up point is gone")
    d = json.loads(row.details)
    p = open_personal(store, sealer(settings), row.personal, actor=user.name, why="match crews", what=request_id)
    pickup = (float(p["lon"]), float(p["lat"]))  # type: ignore[arg-type]
    city = city_graph(store, row.city).city
    zone = city_zone(city)
    span = window or city.curfew
    if not span:
        raise InputError("window", f"city {row.city!r} has no curfew window: give one (HH:MM-HH:MM)")
    starts = window_departures(day, span, 30, zone)
    options = []
    for crew in store.read_crews(row.city):
        problems = crew_problems(crew, int(d["people"]), Mobility(d["mobility"]), str(d.get("ground") or "unknown"))
        if problems:
            options.append(CrewOption(crew, problems))
            continue
        mode = Mode(VEHICLE_MODES[crew.vehicle.value])
        try:
            answer = plan_route(store, RouteRequest(row.city, (crew.base_lon, crew.base_lat), pickup, mode, starts))
        except InputError as exc:
            options.append(CrewOption(crew, [str(exc)]))
            continue
        best = answer.route
        if not best.reachable:
            options.append(CrewOption(crew, [f"no way from its base: {best.reason}"]))
            continue
        options.append(CrewOption(crew, [], {
            "mode": mode.value, "depart": answer.depart.astimezone(zone).isoformat(timespec="minutes"),
            "minutes": round(best.seconds / 60.0, 1), "km": round(best.length_m / 1000.0, 2), "risk": best.risk,
            "riskiest": answer.riskiest(), "warnings": answer.warnings, "assumptions": best.assumptions,
            "line": [[round(x, 5), round(y, 5)] for x, y in answer.line()],
        }))  # fmt: skip
    options.sort(key=_rank)
    store.audit(AuditEntry(time.time(), user.name, "evac.match", request_id, f"{len(options)} crews"))
    return [o.json() for o in options]


def _rank(o: CrewOption) -> tuple[int, float, float]:
    if o.problems or o.route is None:
        return (2, 0.0, 0.0)
    risk = o.route.get("risk")
    minutes = float(o.route.get("minutes") or 0.0)  # type: ignore[arg-type]
    return (0, float(risk), minutes) if isinstance(risk, float) else (1, 0.0, minutes)


def assign_crew(store: AppStore, settings: Settings, user: User, request_id: str, crew_id: str, day: date) -> Json:
    """Assign an approved request to a crew that can answer it (else InputError with why not)."""
    row = _must(store, request_id)
    if row.state != RequestState.APPROVED.value:
        raise InputError("state", f"only an approved request is assigned; this one is {row.state}")
    options = {o["crew_id"]: o for o in match_crews(store, settings, user, request_id, day)}
    chosen = options.get(crew_id)
    if chosen is None:
        raise InputError("crew_id", f"no crew {crew_id!r} in {row.city!r}")
    if not chosen["feasible"]:
        raise InputError("crew_id", f"crew {crew_id} cannot answer this request: {'; '.join(chosen['problems'])}")  # type: ignore[arg-type]
    moved = move_request(store, user, request_id, RequestState.ASSIGNED.value, f"crew {crew_id}", crew_id=crew_id)
    return {**moved, "crew": chosen}


# ----------------------------------------------------------------------------------------------- retention


def purge_closed(store: AppStore, settings: Settings, now: datetime, *, actor: str) -> list[str]:
    """Drop the personal data of requests closed more than ``settings.retention_days`` ago; counts stay."""
    cutoff = now.timestamp() - settings.retention_days * 86_400.0
    purged = store.purge_requests(cutoff, now.timestamp())
    store.audit(AuditEntry(time.time(), actor, "personal.purge", f"{len(purged)} requests", "ok"))
    return purged
