"""Watching alert rules: what a rule's area looks like now, against what it looked like last time.

Each trigger but *incidents* watches a state, not a stream of reports:

- **hazard** — the chance of at least one incident (of the rule's kinds) in the area within the next
  ``hours`` hours, from the newest fitted models' forecast: *above* or *below* the rule's threshold, or
  *unknown* (no model, or its data stale: never *below* without fresh evidence);
- **corridor** — each way out (of the rule's gates, or all) of the city: open, threatened, risky, cut or
  *unknown* (no control evidence);
- **control** — each control-map cell touching the area: held, other side, contested, unconfirmed (the
  rule tells only of cells that turn to one of its ``states``, by default other side and contested);
- **service** — each utility of a district touching the area and each service point in it: working,
  out, closed, … or *unknown*; a rule of a role below analyst sees published points only, where the
  public is told they are;
- **evacuation** — each open evacuation request whose cell lies in the area (coordinators only): a new
  one is told with its district, people and urgency, never a name, a phone or a point;
- **curfew** — the city's curfew window.

A rule's first look tells of what is already alarming (hazard above or unknown, a way out not open) and
keeps the rest as its baseline; every later look tells of the changes. The worker keeps what a rule saw
and the alert its change makes in one transaction (:meth:`keep_watch`), keyed by the rule and its count
of changes: a worker killed in between sees the same change again and makes the same alert.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar, cast

import h3
import numpy as np
import numpy.typing as npt
import shapely

from greyzone.application.access import RANK
from greyzone.application.stores import AppStore
from greyzone.errors import InputError, NotAvailableError
from greyzone.model.grid import Floats, Grid, cell_polygons
from greyzone.settings import Settings
from greyzone.store.base import City, DeliveryRow, RuleRow, WatchRow

Json = dict[str, object]
T = TypeVar("T")
WATCH_S = 30.0  # a watching rule looks again after this many seconds
CONTROL_RES = 8
CONTROL_STATES = ("held", "other_side", "contested", "unconfirmed")

# the words of the states, for the Ukrainian part of a message
UK = {
    "above": "вище порогу", "below": "нижче порогу", "unknown": "невідомо", "open": "відкритий",
    "threatened": "під загрозою", "risky": "ризикований", "cut": "перерізаний", "held": "під контролем",
    "other_side": "інша сторона", "contested": "оспорюється", "unconfirmed": "не підтверджено",
    "working": "працює", "out": "не працює", "closed": "зачинено", "new": "новий",
    "none": "немає",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Seen:
    """What a rule sees now: each item's state, and a line on each item for people."""

    items: dict[str, str]
    details: dict[str, str] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)  # a number behind a state (hazard: the chance)


@dataclass(slots=True)
class Round:
    """What one round of the worker has computed already (a city's ways out, the control map, forecasts):
    rules that ask the same question share the answer."""

    store: AppStore
    settings: Settings
    now: datetime
    cache: dict[tuple[object, ...], object] = field(default_factory=dict)

    def get(self, key: tuple[object, ...], make: Callable[[], T]) -> T | Exception:
        """``make()`` once a round (what it raised when there is nothing to look at: read as unknown)."""
        if key not in self.cache:
            try:
                self.cache[key] = make()
            except (InputError, NotAvailableError, LookupError) as exc:
                self.cache[key] = exc
        return cast("T | Exception", self.cache[key])


# ----------------------------------------------------------------------------------------------- looks


def _hazard(r: Round, rule: RuleRow, spec: Json, area: shapely.Geometry) -> Seen:
    from greyzone.application.hazard import hazard_forecast, stored_models

    hours = int(spec.get("hours", 6))  # type: ignore[call-overload]
    threshold = float(spec["threshold"])  # type: ignore[arg-type]
    wanted = set(spec.get("kinds") or [])  # type: ignore[call-overload]
    models = r.get(("models",), lambda: stored_models(r.store))
    if isinstance(models, Exception) or not models:
        return Seen({"level": "unknown"}, {"level": "no fitted hazard model (`greyzone hazard fit`)"})
    assert isinstance(models, list)
    each = [m for m in models if len(m.kinds) == 1 and (not wanted or m.kinds[0].value in wanted)]
    chosen = each or [m for m in models if not wanted or wanted & {k.value for k in m.kinds}][:1]
    if not chosen:
        return Seen({"level": "unknown"}, {"level": f"no hazard model of {', '.join(sorted(wanted))}"})
    expected, stale = 0.0, []
    for m in chosen:
        forecast = r.get(("forecast", m.name, hours), partial(hazard_forecast, r.store, m, r.now, hours))
        if isinstance(forecast, Exception):
            stale.append(f"{m.name}: {forecast}")
            continue
        per_km2 = forecast.per_km2()
        if per_km2 is None:
            stale.append(m.name)
            continue
        grid = forecast.state.grid
        idx, share = cell_shares(grid, area)
        expected += float(np.sum(per_km2[idx] * grid.area_km2[idx] * share))
    chance = -math.expm1(-expected)
    said = f"{100 * chance:.0f} % chance of at least one incident in the area within {hours} h"
    if stale:
        return Seen({"level": "unknown"}, {"level": f"stale or no forecast ({'; '.join(stale)}); {said} without them"})
    level = "above" if chance >= threshold else "below"
    return Seen({"level": level}, {"level": f"{said} (threshold {100 * threshold:.0f} %)"}, {"level": chance})


def cell_shares(grid: Grid, area: shapely.Geometry) -> tuple[npt.NDArray[np.intp], Floats]:
    """The grid cells the area touches and the share of each cell's area inside it."""
    edge_m = h3.average_hexagon_edge_length(grid.res, unit="m")
    idx, _ = grid.near_area(area, edge_m)
    hexes = cell_polygons(grid.cells[idx])
    areas = shapely.area(hexes)
    share = np.divide(shapely.area(shapely.intersection(hexes, area)), areas, out=np.zeros(len(idx)), where=areas > 0)
    return idx, share


def _corridor(r: Round, rule: RuleRow, spec: Json, area: shapely.Geometry) -> Seen:
    from greyzone.application.movement import way_out_row, ways_out

    found = r.get(("ways", rule.city), lambda: ways_out(r.store, rule.city, r.now, 0, CONTROL_RES)[1])
    wanted = list(spec.get("gates") or [])  # type: ignore[call-overload]
    if isinstance(found, Exception):
        gates = wanted or [g for g, _, _ in _city(r, rule.city).gates]
        return Seen(dict.fromkeys(gates, "unknown"), dict.fromkeys(gates, f"no evidence: {found}"))
    assert isinstance(found, dict)
    rows = {g: way_out_row(w) for g, w in found.items() if not wanted or g in wanted}
    return Seen({g: str(row["status"]) for g, row in rows.items()}, {g: str(row["reason"]) for g, row in rows.items()})


def _control(r: Round, rule: RuleRow, spec: Json, area: shapely.Geometry) -> Seen:
    from greyzone.application.control import fused_control
    from greyzone.control.products import CODE_STATES

    def states() -> tuple[Grid, npt.NDArray[np.int8], Floats]:
        fusion = fused_control(r.store, r.now, CONTROL_RES)
        return fusion.grid, np.asarray(fusion.states(r.now.timestamp())), np.asarray(fusion.as_of, dtype=np.float64)

    found = r.get(("control", CONTROL_RES), states)
    if isinstance(found, Exception):
        return Seen({"control": "unknown"}, {"control": f"no control evidence: {found}"})
    grid, codes, as_of = found
    idx, share = cell_shares(grid, area)
    idx = idx[share > 0]
    items = {h3.int_to_str(int(grid.cells[i])): CODE_STATES[int(codes[i])].value for i in idx}
    details = {
        h3.int_to_str(int(grid.cells[i])): f"evidence as of {_iso(float(as_of[i]))}"
        for i in idx
        if math.isfinite(float(as_of[i]))
    }
    return Seen(items, details)


def _service(r: Round, rule: RuleRow, spec: Json, area: shapely.Geometry) -> Seen:
    from greyzone.application.board import districts_of, status_board

    board = r.get(("board", rule.city), lambda: status_board(r.store, r.settings, rule.city, r.now, days=1))
    if isinstance(board, Exception):
        return Seen({"board": "unknown"}, {"board": str(board)})
    rows = cast(list[dict[str, Any]], board["rows"])
    wanted = set(spec.get("items") or [])  # type: ignore[call-overload]
    sees_all = RANK[rule.role] >= RANK["analyst"]
    points = {p.point_id: p for p in r.store.read_service_points(rule.city)}
    districts = districts_of(r.store, rule.city)
    touched = {n for n, g in zip(districts.names, districts.shapes, strict=True) if g.intersects(area)}
    items, details = {}, {}
    for row in rows:
        if wanted and row["item"] not in wanted:
            continue
        if row["point_id"]:
            p = points.get(row["point_id"])
            if p is None or not (sees_all or p.published):
                continue
            lon, lat = (p.lon, p.lat) if sees_all else (p.public_lon or p.lon, p.public_lat or p.lat)
            if not area.intersects(shapely.Point(lon, lat)):
                continue
            key = f"{row['item']}: {p.name}"
        elif row["district"] in touched:
            key = f"{row['item']}: {row['district']}"
        else:
            continue
        items[key] = str(row["status"])
        details[key] = f"as of {row['as_of']}, {row['sources']} source(s)" if row["as_of"] else "no fresh report"
    return Seen(items, details)


def _evacuation(r: Round, rule: RuleRow, spec: Json, area: shapely.Geometry) -> Seen:
    if RANK[rule.role] < RANK["coordinator"]:
        return Seen({})  # the owner may no longer see requests
    items, details = {}, {}
    for q in r.store.read_requests(rule.city):
        if q.closed_at is not None or q.purged_at is not None:
            continue
        lat, lon = h3.api.basic_int.cell_to_latlng(int(q.cell))
        if not area.intersects(shapely.Point(lon, lat)):
            continue
        d = json.loads(q.details)
        items[q.request_id] = "new"
        details[q.request_id] = f"{q.district or 'district unknown'}: {d.get('people')} people, {d.get('urgency')}"
    return Seen(items, details)


def _curfew(r: Round, rule: RuleRow, spec: Json, area: shapely.Geometry) -> Seen:
    found = _city(r, rule.city)
    zone = found.timezone or "local time"
    said = f"movement allowed {found.curfew or '(none set)'} {zone}"
    return Seen({"curfew": found.curfew or "none"}, {"curfew": said})


def _city(r: Round, name: str) -> City:
    city = r.get(("city", name), lambda: r.store.read_city(name))
    if city is None or isinstance(city, Exception):
        raise NotAvailableError(f"no city {name!r}")
    return city


LOOKS: dict[str, Callable[[Round, RuleRow, Json, shapely.Geometry], Seen]] = {
    "hazard": _hazard, "corridor": _corridor, "control": _control, "service": _service,
    "evacuation": _evacuation, "curfew": _curfew,
}  # fmt: skip


# ----------------------------------------------------------------------------------------------- changes


def changes(trigger: str, spec: Json, before: dict[str, str] | None, now: Seen) -> list[Json]:
    """What a rule tells of: on its first look what is alarming already, then every change it watches."""
    if before is None:
        if trigger == "hazard":
            picked = [k for k, v in now.items.items() if v in ("above", "unknown")]
        elif trigger == "corridor":
            picked = [k for k, v in now.items.items() if v != "open"]
        else:
            picked = []
        return [_change(k, None, now) for k in picked]
    if trigger == "evacuation":
        return [_change(k, None, now) for k in now.items if k not in before]
    told = [k for k, v in now.items.items() if before.get(k) != v]
    if trigger == "control":
        to = set(spec.get("states") or ("other_side", "contested"))  # type: ignore[call-overload]
        told = [k for k in told if now.items[k] in to]
    gone = [k for k in before if k not in now.items and trigger in ("corridor", "service")]
    return [_change(k, before.get(k), now) for k in told] + [
        {"item": k, "was": before[k], "now": "gone", "detail": "no longer there"} for k in gone
    ]


def _change(item: str, was: str | None, now: Seen) -> Json:
    change: Json = {"item": item, "was": was, "now": now.items[item], "detail": now.details.get(item, "")}
    if item in now.values:
        change["value"] = round(now.values[item], 4)
    return change


def look_all(
    store: AppStore, settings: Settings, rules: list[RuleRow], now_s: float, watch_s: float = WATCH_S
) -> tuple[list[WatchRow], list[DeliveryRow]]:
    """One look of each watching rule due (not looked at within ``watch_s``): what each saw, and the
    alerts their changes make."""
    seen = store.read_watch()
    due = [r for r in rules if r.rule_id not in seen or now_s - seen[r.rule_id].checked_at >= watch_s]
    if not due:
        return [], []
    r = Round(store, settings, datetime.fromtimestamp(now_s, UTC))
    rows, out = [], []
    for rule in due:
        spec = json.loads(rule.rule)
        trigger = str(spec["trigger"])
        before = seen.get(rule.rule_id)
        area = shapely.from_geojson(rule.area)
        try:
            now = LOOKS[trigger](r, rule, spec, area)
        except (InputError, NotAvailableError, LookupError) as exc:
            now = Seen({"rule": "unknown"}, {"rule": str(exc)})
        told = changes(trigger, spec, None if before is None else json.loads(before.state), now)
        version = (before.version if before else 0) + (1 if told else 0)
        rows.append(WatchRow(rule.rule_id, json.dumps(now.items, sort_keys=True), version, now_s))
        if told:
            key = f"{rule.rule_id}:v{version}"
            out.append(DeliveryRow(key, rule.rule_id, watch_body(rule, trigger, told, now_s, key), now_s, 0, now_s,
                                   "pending", ""))  # fmt: skip
    return rows, out


WHAT = {
    "hazard": ("hazard forecast", "прогноз небезпеки"), "corridor": ("ways out", "шляхи виїзду"),
    "control": ("control of the ground", "контроль території"), "service": ("utilities and services",
    "комунальні послуги та служби"), "evacuation": ("new evacuation requests", "нові запити на евакуацію"),
    "curfew": ("curfew window", "вікно руху (комендантська година)"),
}  # fmt: skip


def watch_body(rule: RuleRow, trigger: str, told: list[Json], now_s: float, key: str) -> str:
    """The alert of a watching rule's changes (JSON, fixed when made), with its lines in English and
    Ukrainian."""
    en, uk = WHAT[trigger]
    lines = [f"{c['item']}: {c['was'] or '—'} → {c['now']}" + (f" ({c['detail']})" if c["detail"] else "")
             for c in told]  # fmt: skip
    lines_uk = [f"{c['item']}: {UK.get(str(c['was']), c['was'] or '—')} → {UK.get(str(c['now']), c['now'])}"
                for c in told]  # fmt: skip
    payload = {
        "alert": key, "rule_id": rule.rule_id, "rule": rule.name, "city": rule.city, "trigger": trigger,
        "changes": told, "sent": _iso(now_s), "as_of": _iso(now_s),
        "headline": f"{rule.name}: {en}: {len(told)} change(s)", "description": "; ".join(lines),
        "headline_uk": f"{rule.name}: {uk}: змін — {len(told)}", "description_uk": "; ".join(lines_uk),
        "area": json.loads(rule.area),
    }  # fmt: skip
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


def _iso(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, UTC).isoformat(timespec="seconds")
