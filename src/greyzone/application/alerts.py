"""Alert rules and their delivery by webhook: nothing lost, nothing sent to a host not allowed.

**Rules** — an area (a drawn polygon, a point and a radius, a district of the city, or a place the
gazetteer knows; the whole city for the ways out and the curfew), a trigger, and a webhook. A rule is its
owner's and sees what the owner's role may see. Triggers: *incidents* (at least ``n`` incidents of the
given kinds within ``hours`` hours: verifier and up, as reports arrive), and the watching triggers of
:mod:`greyzone.application.watch` — *hazard* (the chance of an incident in the area within ``hours``
hours above a threshold), *corridor* (a way out changes status), *control* (a cell of the area turns to
given states), *service* (a utility or a service point changes status), *evacuation* (a new request in
the area: coordinators only), *curfew* (the city's window changes).

**The outbox** is the batches table: each batch of reports is written with its row in one transaction.
The worker (:func:`work_once`, ``greyzone worker``) keeps a cursor on it (set at the newest batch when the
first rule is made: rules speak of the reports that come after them); for each new batch it evaluates
the rules on the batch's reports and keeps the alerts they make *and* moves the cursor in one
transaction (a worker killed before that commit evaluates the batch again and makes the same alerts:
each alert's key is its rule and its window, so a kept alert is never made twice).

**Coalescing**: one rule fires at most once per window of ``hours`` hours (its key), with the count of
incidents at the time; a flare-up of 40 reports is one alert, not 40.

**Delivery**: each alert's body is fixed when it is made (every retry sends the very same bytes), JSON
or an OASIS CAP 1.2 XML message, signed ``X-Greyzone-Signature: sha256=HMAC-SHA-256(secret, body)``,
with ``Idempotency-Key`` = the alert's key. A 2xx answer delivers it; 410 Gone disables the rule (audited);
anything else (an error status, a timeout, a closed connection) is retried with exponential backoff and
jitter, and after the last try the alert is dead (listed in the API). Targets: http(s) only, to hosts in
the allow-list (``GREYZONE_WEBHOOK_HOSTS``, loopback by default): no request to an arbitrary host.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import random
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, cast
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import numpy as np
import shapely

from greyzone.application.stores import AppStore
from greyzone.application.watch import WATCH_S, look_all
from greyzone.errors import InputError
from greyzone.model.enums import INCIDENT_KINDS
from greyzone.settings import Settings
from greyzone.store.base import (
    AuditEntry,
    DeliveryRow,
    ReportQuery,
    RuleRow,
    User,
)

Json = dict[str, object]
MAX_ATTEMPTS = 8
BACKOFF_S = 2.0
BACKOFF_CAP_S = 600.0
TIMEOUT_S = 5.0
SENDERS = 8  # webhooks sent at once
CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"


# ----------------------------------------------------------------------------------------------- rules


def allowed_hosts(settings: Settings) -> set[str]:
    return {h.strip().lower() for h in settings.webhook_hosts.split(",") if h.strip()}


def check_url(settings: Settings, url: str) -> str:
    """The webhook URL if it is http(s) to an allowed host (InputError naming the fix otherwise)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("url", f"expected an http(s) URL; got {url!r}")
    hosts = allowed_hosts(settings)
    if parts.hostname.lower() not in hosts and f"{parts.hostname.lower()}:{parts.port}" not in hosts:
        allowed = ", ".join(sorted(hosts)) or "none"
        said = f"host {parts.hostname!r} is not allowed for webhooks (allowed: {allowed}; GREYZONE_WEBHOOK_HOSTS)"
        raise InputError("url", said)
    return url.strip()


TRIGGERS = ("incidents", "hazard", "corridor", "control", "service", "evacuation", "curfew")
TRIGGER_ROLE = {"incidents": "verifier", "evacuation": "coordinator"}  # the others: any registered user
CITY_WIDE = ("corridor", "curfew")  # their area is the city's


def trigger_role(trigger: str) -> str:
    """The least role that may hold a rule of this trigger (it sees what that role may see)."""
    return TRIGGER_ROLE.get(trigger, "reporter")


@dataclass(frozen=True, slots=True)
class RuleIn:
    city: str
    name: str
    kinds: tuple[str, ...]
    at_least: int
    hours: float
    url: str
    secret: str = ""
    format: str = "json"
    polygon: Json | None = None  # GeoJSON Polygon
    point: tuple[float, float] | None = None  # or a point and a radius
    radius_m: float = 1000.0
    trigger: str = "incidents"
    district: str | None = None  # or a district of the city
    place: str | None = None  # or a place the gazetteer knows
    threshold: float | None = None  # hazard: the chance (0-1) of an incident in the area within `hours`
    gates: tuple[str, ...] = ()  # corridor: these ways out (all when empty)
    states: tuple[str, ...] = ()  # control: the states a cell turning to is told of
    items: tuple[str, ...] = ()  # service: these utilities or services (all when empty)


def area_of(rule: RuleIn, store: AppStore | None = None, settings: Settings | None = None) -> shapely.Geometry:
    """The rule's area: its polygon (valid, not empty), a disc around its point, its district's shape or
    the disc of its place."""
    if rule.district is not None and store is not None:
        found = [d for d in store.read_districts(rule.city) if d.name == rule.district.strip()]
        if not found:
            known = ", ".join(d.name for d in store.read_districts(rule.city)) or "none"
            raise InputError("district", f"no district {rule.district!r} in {rule.city} (known: {known})")
        return shapely.from_geojson(found[0].geometry)
    if rule.place is not None and settings is not None:
        from greyzone.application.control import place_disc
        from greyzone.errors import GazetteerError

        if settings.gazetteer_dir is None:
            raise InputError("place", "no gazetteer configured (GREYZONE_GAZETTEER): draw the area instead")
        try:
            return place_disc(settings.gazetteer_dir, rule.place)
        except GazetteerError as exc:
            raise InputError("place", str(exc)) from None
    if rule.polygon is not None:
        try:
            area = shapely.geometry.shape(rule.polygon)
        except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException) as exc:
            raise InputError("polygon", f"not a GeoJSON polygon: {exc}") from None
        if area.geom_type not in ("Polygon", "MultiPolygon") or area.is_empty:
            raise InputError("polygon", f"expected a non-empty Polygon; got {area.geom_type}")
        if not area.is_valid:
            raise InputError("polygon", "the polygon crosses itself: draw it again")
        return area
    if rule.point is None:
        raise InputError("polygon", "give an area: a polygon, or a point and radius_m")
    lon, lat = rule.point
    if not (0 < rule.radius_m <= 50_000):
        raise InputError("radius_m", f"expected 1 to 50000 m; got {rule.radius_m}")
    kx = math.cos(math.radians(lat))
    disc = shapely.Point(0, 0).buffer(rule.radius_m / 111_320.0, 32)
    return shapely.affinity.translate(shapely.affinity.scale(disc, xfact=1 / kx, yfact=1.0, origin=(0, 0)), lon, lat)


def add_rule(store: AppStore, settings: Settings, user: User, rule: RuleIn) -> RuleRow:
    """A new rule of the user's (checked: role, city, trigger, numbers, area, URL); audited."""
    from greyzone.application.access import RANK
    from greyzone.application.movement import city_graph

    if rule.trigger not in TRIGGERS:
        raise InputError("trigger", f"expected one of {', '.join(TRIGGERS)}; got {rule.trigger!r}")
    if RANK[user.role] < RANK[trigger_role(rule.trigger)]:
        raise PermissionError(f"a {rule.trigger} rule needs the role {trigger_role(rule.trigger)} or above")
    city = city_graph(store, rule.city)
    spec = _spec(rule, [g for g, _, _ in city.city.gates])
    if rule.format not in ("json", "cap"):
        raise InputError("format", f"expected json or cap; got {rule.format!r}")
    if rule.trigger in CITY_WIDE:
        lon, lat = city.graph.lon, city.graph.lat
        area = shapely.box(float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    else:
        area = area_of(rule, store, settings)
    row = RuleRow(
        f"rule-{secrets.token_hex(5)}", user.name, user.role, rule.city, rule.name.strip()[:200] or "alert",
        shapely.to_geojson(area), json.dumps(spec), check_url(settings, rule.url),
        rule.secret or secrets.token_urlsafe(24), rule.format, True, "", time.time(),
    )  # fmt: skip
    if store.alert_cursor() is None:  # the first rule: alerts are of the reports that come from now on
        store.advance_alerts(store.newest_batch(), [])
    store.write_rule(row)
    store.audit(AuditEntry(time.time(), user.name, "alert.add", row.rule_id, rule.url))
    return row


def _hours(rule: RuleIn, most: float) -> float:
    if not (isinstance(rule.hours, int | float) and math.isfinite(rule.hours) and 0 < rule.hours <= most):
        raise InputError("hours", f"expected a number of hours from 0 to {most:g}; got {rule.hours!r}")
    return float(rule.hours)


def _kinds(rule: RuleIn, required: bool) -> list[str]:
    known = {k.value for k in INCIDENT_KINDS}
    bad = [k for k in rule.kinds if k not in known]
    if (required and not rule.kinds) or bad:
        raise InputError(
            "kinds", f"expected incident kinds ({', '.join(sorted(known))}); got {', '.join(bad) or 'none'}"
        )
    return sorted(rule.kinds)


def _spec(rule: RuleIn, gates: list[str]) -> Json:
    """The trigger as stored, each of its numbers and names checked."""
    t = rule.trigger
    if t == "incidents":
        if not (isinstance(rule.at_least, int) and 1 <= rule.at_least <= 10_000):
            raise InputError("at_least", f"expected a whole number from 1 to 10000; got {rule.at_least!r}")
        return {"trigger": t, "kinds": _kinds(rule, True), "at_least": rule.at_least, "hours": _hours(rule, 24 * 30)}
    if t == "hazard":
        chance = rule.threshold
        if not (isinstance(chance, int | float) and math.isfinite(chance) and 0 < chance < 1):
            raise InputError("threshold", f"expected a chance between 0 and 1 (0.2 = 20 %); got {chance!r}")
        return {"trigger": t, "kinds": _kinds(rule, False), "threshold": float(chance), "hours": int(_hours(rule, 48))}
    if t == "corridor":
        unknown = [g for g in rule.gates if g not in gates]
        if unknown:
            raise InputError("gates", f"no way out {', '.join(unknown)} in {rule.city} (known: {', '.join(gates)})")
        if not gates:
            raise InputError("city", f"city {rule.city!r} has no ways out (import it with --gates)")
        return {"trigger": t, "gates": sorted(rule.gates)}
    if t == "control":
        from greyzone.application.watch import CONTROL_STATES

        bad = [s for s in rule.states if s not in CONTROL_STATES]
        if bad:
            raise InputError("states", f"expected {', '.join(CONTROL_STATES)}; got {', '.join(bad)}")
        return {"trigger": t, "states": sorted(rule.states or ("other_side", "contested"))}
    if t == "service":
        from greyzone.model.enums import Service, Utility

        known = {u.value for u in Utility} | {v.value for v in Service}
        bad = [i for i in rule.items if i not in known]
        if bad:
            raise InputError("items", f"expected utilities or services ({', '.join(sorted(known))}); got {bad}")
        return {"trigger": t, "items": sorted(rule.items)}
    return {"trigger": t}


def change_rule(
    store: AppStore,
    settings: Settings,
    user: User,
    rule_id: str,
    *,
    name: str | None = None,
    url: str | None = None,
    active: bool | None = None,
) -> RuleRow | None:
    """A rule of the user's changed (its URL checked again; started again after a 410 or stopped); audited.
    None when the user has no such rule."""
    found = next((r for r in store.read_rules(owner=user.name) if r.rule_id == rule_id), None)
    if found is None:
        return None
    new_url = found.url if url is None else check_url(settings, url)
    new_name = found.name if name is None else (name.strip()[:200] or found.name)
    on = found.active if active is None else active
    store.change_rule(rule_id, user.name, name=new_name, url=new_url, active=on)
    said = f"name={new_name!r} url={new_url} active={on}"
    store.audit(AuditEntry(time.time(), user.name, "alert.change", rule_id, said))
    return next(r for r in store.read_rules(owner=user.name) if r.rule_id == rule_id)


def rule_view(r: RuleRow, *, with_secret: bool = False) -> Json:
    view: Json = {"rule_id": r.rule_id, "name": r.name, "city": r.city, "area": json.loads(r.area),
                  "rule": json.loads(r.rule), "url": r.url, "format": r.format, "active": r.active,
                  "disabled": r.disabled}  # fmt: skip
    if with_secret:
        view["secret"] = r.secret
    return view


# ----------------------------------------------------------------------------------------------- evaluation


def _window(rule: Json) -> float:
    return float(rule["hours"]) * 3600.0  # type: ignore[arg-type]


@dataclass(frozen=True)
class RuleIndex:
    """The active rules with their areas parsed and an R-tree over them (built once a round)."""

    rules: list[RuleRow]
    specs: list[Json]
    areas: list[shapely.Geometry]
    tree: shapely.STRtree

    @classmethod
    def of(cls, rules: list[RuleRow]) -> RuleIndex:
        areas = [shapely.from_geojson(r.area) for r in rules]
        return cls(rules, [json.loads(r.rule) for r in rules], areas, shapely.STRtree(areas))


def evaluate(store: AppStore, index: RuleIndex, first: int, last: int, now: float) -> list[DeliveryRow]:
    """The alerts the reports with seq in [first, last] make: for each rule one of them of its kinds falls
    in (the R-tree first) and that has not fired in that window yet, the incidents of its kinds in its area
    within its window before the newest of them — the rules of one window counted from one read."""
    frame = store.read_seq_range(first, last)
    if not len(frame) or not index.rules:
        return []
    points, hit_rules = index.tree.query(shapely.points(frame.lon, frame.lat), predicate="intersects")
    order = np.argsort(hit_rules, kind="stable")
    rules_hit, starts = np.unique(hit_rules[order], return_index=True)
    candidates: dict[str, tuple[int, float, float, float]] = {}  # key → (rule, window start, length, newest)
    for i, inside in zip(rules_hit.tolist(), np.split(points[order], starts[1:]), strict=True):
        kinds = set(cast(list[str], index.specs[i]["kinds"]))
        mine = [int(p) for p in inside if frame.kind[p] in kinds]
        if mine:
            newest = float(frame.observed_s[mine].max())
            window = _window(index.specs[i])
            start = math.floor(newest / window) * window
            candidates[f"{index.rules[i].rule_id}:{int(start)}"] = (i, start, window, newest)
    fired = store.existing_alerts(list(candidates))  # a rule fires once a window: those are done
    groups: dict[tuple[float, float], list[tuple[int, float]]] = {}
    for key, (i, start, window, newest) in candidates.items():
        if key not in fired:
            groups.setdefault((start, window), []).append((i, newest))
    out = []
    for (start, window), members in groups.items():
        box = shapely.union_all([shapely.box(*index.areas[i].bounds) for i, _ in members]).bounds
        found = store.read_frame(ReportQuery(
            since=datetime.fromtimestamp(start, UTC), until=datetime.fromtimestamp(start + window, UTC),
            kinds=INCIDENT_KINDS, bbox=box,
        ))  # fmt: skip
        kind_of = np.array(found.kind, dtype=object)
        for i, newest in members:
            r, spec, area = index.rules[i], index.specs[i], index.areas[i]
            hit = np.isin(kind_of, list(spec["kinds"])) & shapely.intersects_xy(area, found.lon, found.lat)  # type: ignore[call-overload]
            incidents = len(np.unique(found.incident[hit]))
            if incidents < int(spec["at_least"]):  # type: ignore[call-overload]
                continue
            key = f"{r.rule_id}:{int(start)}"
            out.append(DeliveryRow(key, r.rule_id, _body(r, spec, incidents, start, window, newest, key), now, 0, now,
                                   "pending", ""))  # fmt: skip
    return out


def _body(r: RuleRow, spec: Json, incidents: int, start: float, window: float, newest: float, key: str) -> str:
    payload = {
        "alert": key, "rule_id": r.rule_id, "rule": r.name, "city": r.city, "trigger": "incidents",
        "kinds": spec["kinds"], "incidents": incidents, "at_least": spec["at_least"],
        "window": {"from": _iso(start), "to": _iso(start + window)}, "newest_report": _iso(newest),
        "sent": _iso(newest), "area": json.loads(r.area),
        "headline": f"{incidents} incidents ({', '.join(spec['kinds'])}) in {r.name}",  # type: ignore[arg-type]
        "description": f"{incidents} incidents between {_iso(start)} and {_iso(start + window)} (UTC)",
        "headline_uk": f"{r.name}: інцидентів — {incidents}",
        "description_uk": f"{incidents} інцидентів між {_iso(start)} і {_iso(start + window)} (UTC)",
    }  # fmt: skip
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


def _iso(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, UTC).isoformat(timespec="seconds")


def work_once(
    store: AppStore,
    settings: Settings,
    *,
    now: float | None = None,
    send: Sender | None = None,
    most: int = 500,
    watch_s: float = WATCH_S,
) -> tuple[int, int]:
    """One round of the worker: the new batches' alerts made (each batch's in one transaction with the
    cursor), the watching rules due looked at (what they saw kept with their alerts in one transaction),
    then the due deliveries tried. (batches evaluated, deliveries tried)."""
    now = time.time() if now is None else now
    cursor = store.alert_cursor()
    batches = [] if cursor is None else store.batches_after(cursor, most)
    active = store.read_rules(active_only=True)
    incident_rules = [r for r in active if json.loads(r.rule)["trigger"] == "incidents"]
    index = RuleIndex.of(incident_rules) if batches else RuleIndex.of([])
    for batch_id, first, last in batches:
        store.advance_alerts(batch_id, evaluate(store, index, first, last, now))
    watching = [r for r in active if json.loads(r.rule)["trigger"] != "incidents"]
    if watching:
        seen, made = look_all(store, settings, watching, now, watch_s)
        if seen:
            store.keep_watch(seen, made)
    due = store.due_deliveries(now, most)
    by_id = {r.rule_id: r for r in store.read_rules()}
    pairs = [(by_id[d.rule_id], d) for d in due if d.rule_id in by_id]
    with ThreadPoolExecutor(max_workers=SENDERS) as pool:  # the requests at once; the store's updates in turn
        answers = list(pool.map(lambda p: attempt(settings, p[0], p[1], send or post), pairs))
    store.update_deliveries(
        [record(store, rule, d, s, e, now) for (rule, d), (s, e) in zip(pairs, answers, strict=True)]
    )
    return len(batches), len(due)


def run_worker(settings: Settings, stop: threading.Event, interval: float = 1.0, watch_s: float = WATCH_S) -> None:
    """The worker's loop on its own store until ``stop`` is set (the service runs it in a thread for the
    demo): a round that fails is logged and the next one tries again (what it had not kept is done again)."""
    from greyzone.application.stores import opened

    log = logging.getLogger("greyzone.worker")
    with opened(settings) as store:
        while not stop.is_set():
            try:
                batches, tried = work_once(store, settings, watch_s=watch_s)
            except Exception:  # a thread that died silently would stop every alert: say it, go on
                log.exception("alert worker round failed; trying again")
                batches = tried = 0
            if not batches and not tried:
                stop.wait(interval)


# ----------------------------------------------------------------------------------------------- delivery


class Sender(Protocol):
    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int: ...


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and the status (an error status is returned, not raised); OSError for no answer."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (checked URL)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload_of(rule: RuleRow, d: DeliveryRow) -> tuple[bytes, str]:
    """The bytes sent and their media type: the stored JSON, or the CAP 1.2 message made from it."""
    if rule.format == "cap":
        return cap_xml(json.loads(d.body)), "application/cap+xml"
    return d.body.encode(), "application/json"


def deliver(
    store: AppStore, settings: Settings, rule: RuleRow, d: DeliveryRow, send: Callable[..., int], now: float
) -> DeliveryRow:
    """One try: delivered on 2xx, the rule disabled on 410, else retried later (dead after the last try)."""
    status, error = attempt(settings, rule, d, send)
    done = record(store, rule, d, status, error, now)
    store.update_deliveries([done])
    return done


def attempt(settings: Settings, rule: RuleRow, d: DeliveryRow, send: Callable[..., int]) -> tuple[int, str]:
    """Send an alert once: the receiver's status (0: no answer) and the error."""
    body, media = payload_of(rule, d)
    signed = signature(rule.secret, body)
    headers = {"Content-Type": media, "Idempotency-Key": d.alert_key, "X-Greyzone-Signature": signed}
    try:
        check_url(settings, rule.url)
        return send(rule.url, body, headers), ""
    except (OSError, InputError) as exc:
        return 0, f"{type(exc).__name__}: {exc}"[:300]


def record(store: AppStore, rule: RuleRow, d: DeliveryRow, status: int, error: str, now: float) -> DeliveryRow:
    """What a try's answer makes of the delivery (the caller keeps it; a 410 disables the rule at once)."""
    attempts = d.attempts + 1
    if 200 <= status < 300:
        done = DeliveryRow(d.alert_key, d.rule_id, d.body, d.created_at, attempts, now, "delivered", "", now)
    elif status == 410:
        store.disable_rule(rule.rule_id, "the receiver answered 410 Gone")
        store.audit(AuditEntry(time.time(), "worker", "alert.disabled", rule.rule_id, "410 Gone"))
        done = DeliveryRow(d.alert_key, d.rule_id, d.body, d.created_at, attempts, now, "gone", "410 Gone")
    else:
        wait = min(BACKOFF_CAP_S, BACKOFF_S * 2 ** (attempts - 1)) * (0.5 + random.random())  # jitter
        status_text = "dead" if attempts >= MAX_ATTEMPTS else "pending"
        done = DeliveryRow(d.alert_key, d.rule_id, d.body, d.created_at, attempts, now + wait, status_text,
                           error or f"HTTP {status}")  # fmt: skip
    return done


CAP_LOOK = {  # trigger → (category, urgency, severity, certainty)
    "incidents": ("Safety", "Immediate", "Severe", "Observed"),
    "hazard": ("Safety", "Expected", "Severe", "Possible"),
    "corridor": ("Transport", "Immediate", "Severe", "Observed"),
    "control": ("Security", "Expected", "Severe", "Likely"),
    "service": ("Infra", "Expected", "Moderate", "Observed"),
    "evacuation": ("Rescue", "Immediate", "Unknown", "Observed"),
    "curfew": ("Security", "Expected", "Moderate", "Observed"),
}


def cap_xml(alert: Json) -> bytes:
    """An OASIS CAP 1.2 message of an alert (identifier = the alert's key), with an English and a
    Ukrainian part, its area as a polygon (lat,lon pairs)."""
    ET.register_namespace("", CAP_NS)
    root = ET.Element(f"{{{CAP_NS}}}alert")

    def add(parent: ET.Element, tag: str, text: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
        element.text = text
        return element

    sent = str(alert.get("sent") or alert.get("newest_report") or _iso(time.time()))
    head = (
        ("identifier", str(alert["alert"])), ("sender", "greyzone"), ("sent", sent),
        ("status", "Actual"), ("msgType", "Alert"), ("scope", "Public"),
    )  # fmt: skip
    for tag, text in head:
        add(root, tag, text)
    trigger = str(alert.get("trigger") or "incidents")
    category, urgency, severity, certainty = CAP_LOOK.get(trigger, CAP_LOOK["incidents"])
    shape = shapely.geometry.shape(alert["area"])
    ring = (shape.geoms[0] if hasattr(shape, "geoms") else shape).exterior.coords
    for lang, suffix in (("en", ""), ("uk", "_uk")):
        info = ET.SubElement(root, f"{{{CAP_NS}}}info")
        headline = str(alert.get("headline" + suffix) or alert.get("headline") or alert["rule"])
        for tag, text in (
            ("language", lang), ("category", category), ("event", trigger), ("urgency", urgency),
            ("severity", severity), ("certainty", certainty), ("senderName", "greyzone"), ("headline", headline[:160]),
            ("description", str(alert.get("description" + suffix) or headline)),
        ):  # fmt: skip
            add(info, tag, text)
        area = ET.SubElement(info, f"{{{CAP_NS}}}area")
        add(area, "areaDesc", str(alert["rule"]))
        add(area, "polygon", " ".join(f"{lat:.5f},{lon:.5f}" for lon, lat in ring))
    message: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return message
