"""The daily situation report of a city: figures, trends, control, ways out, the hours to move, services
and needs, and what is unknown — each with its period, its sources and its confidence.

The day is the city's local day (00:00–24:00, its time zone). Incidents are counted by incident (reports
of one incident linked at ingest), casualties too (per incident the highest count any report gave, never
a sum over reports). The **public** edition holds only public, aggregated figures: no incident points, no
evacuation requests, needs as city totals. Every edition says what it could not say and why.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
import shapely

from greyzone.application.stores import AppStore
from greyzone.errors import InputError, NotAvailableError
from greyzone.model.enums import COUNT_KINDS, INCIDENT_KINDS, Kind
from greyzone.settings import Settings
from greyzone.store.base import ReportQuery, Store

Json = dict[str, object]
DAY_S = 86_400.0
CITY_QUANTILE = 0.75  # without districts, the city is the disc holding this share of its junctions


WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Situation report",
        "public": "public edition",
        "full": "full edition",
        "period": "Period",
        "generated": "Generated",
        "incidents": "Incidents in the 24 hours",
        "kind": "Kind",
        "day": "This day",
        "mean7": "7-day mean",
        "mean28": "28-day mean",
        "killed": "Killed",
        "injured": "Injured",
        "sources": "Sources",
        "reports": "reports",
        "confidence": "Confidence",
        "control": "Control of the city",
        "state": "State",
        "share": "Share",
        "yesterday": "Change since yesterday",
        "week": "Change since a week ago",
        "ways": "Ways out",
        "way": "Way out",
        "status": "Status",
        "since": "Since",
        "why": "Why",
        "hours": "Hours to move tomorrow, inside the curfew window",
        "mode": "Mode",
        "best": "Best hour",
        "worst": "Worst hour",
        "risk": "risk",
        "utilities": "Utilities and services",
        "district": "District",
        "out_h": "Hours out",
        "services": "Service points",
        "needs": "Residents' needs",
        "category": "Need",
        "people": "People",
        "requests": "Evacuation requests",
        "unknown": "What is unknown or stale",
        "map_incidents": "Incidents of the day",
        "map_hazard": "Hazard tomorrow in the curfew window",
        "map_changes": "Cells whose control changed since yesterday",
        "not_available": "not available",
        "none": "none",
        "held": "held",
        "other_side": "other side",
        "contested": "contested",
        "unconfirmed": "unconfirmed",
        "no_incident_points": "incident points are left out of the public edition",
        "kyiv": "Kyiv time",
        "count": "Count",
        "foot": "on foot",
        "bicycle": "bicycle",
        "car": "car",
        "armoured": "armoured + EW",
        "trip": "trips from the centre to each way out, mean risk",
        "changed": "cells (H3 res 8) whose state changed since yesterday, of the city's",
    },
    "uk": {
        "title": "Зведення ситуації",
        "public": "публічне видання",
        "full": "повне видання",
        "period": "Період",
        "generated": "Складено",
        "incidents": "Інциденти за добу",
        "kind": "Вид",
        "day": "Ця доба",
        "mean7": "Середнє за 7 діб",
        "mean28": "Середнє за 28 діб",
        "killed": "Загинули",
        "injured": "Поранені",
        "sources": "Джерела",
        "reports": "повідомлень",
        "confidence": "Достовірність",
        "control": "Контроль міста",
        "state": "Стан",
        "share": "Частка",
        "yesterday": "Зміна за добу",
        "week": "Зміна за тиждень",
        "ways": "Шляхи виїзду",
        "way": "Шлях",
        "status": "Стан",
        "since": "Від",
        "why": "Чому",
        "hours": "Години для руху завтра в межах комендантського вікна",
        "mode": "Спосіб",
        "best": "Найкраща година",
        "worst": "Найгірша година",
        "risk": "ризик",
        "utilities": "Комунальні послуги й сервіси",
        "district": "Район",
        "out_h": "Годин без послуги",
        "services": "Пункти обслуговування",
        "needs": "Потреби мешканців",
        "category": "Потреба",
        "people": "Осіб",
        "requests": "Запити на евакуацію",
        "unknown": "Що невідомо або застаріло",
        "map_incidents": "Інциденти доби",
        "map_hazard": "Небезпека завтра в комендантське вікно",
        "map_changes": "Клітинки, де контроль змінився за добу",
        "not_available": "немає даних",
        "none": "немає",
        "held": "під контролем",
        "other_side": "інша сторона",
        "contested": "спірна",
        "unconfirmed": "не підтверджено",
        "no_incident_points": "точки інцидентів не входять до публічного видання",
        "kyiv": "за київським часом",
        "count": "Кількість",
        "foot": "пішки",
        "bicycle": "велосипед",
        "car": "авто",
        "armoured": "броня + РЕБ",
        "trip": "поїздки від центру до кожного шляху виїзду, середній ризик",
        "changed": "клітинок (H3 res 8), де стан змінився за добу, з усіх у місті",
    },
}
#: Values (kinds, states, needs, statuses) in Ukrainian; English writes them as they are, "_" as a space.
VALUES_UK = {
    "shelling": "обстріл", "glide_bomb": "КАБ", "missile": "ракета", "air_strike": "авіаудар",
    "fpv_strike": "удар FPV-дрона", "drone_drop": "скидання з дрона", "drone_sighting": "дрон помічено",
    "mine_uxo": "міни / ВНП", "clash": "бій", "infiltration_sighting": "проникнення", "casualties": "жертви",
    "food": "їжа", "drinking_water": "питна вода", "medicine": "ліки", "heating_fuel": "опалення / пальне",
    "hygiene": "гігієна", "evacuation": "евакуація", "medical_care": "медична допомога",
    "open": "відкрито", "threatened": "під загрозою", "risky": "ризиковано", "cut": "перерізано",
    "limited": "обмежено", "closed": "зачинено", "unknown": "невідомо", "conflicting": "суперечливо",
    "working": "працює", "intermittent": "з перебоями", "out": "немає", "power": "електрика", "water": "вода",
    "gas": "газ", "heating": "опалення", "mobile_network": "мобільний зв'язок", "new": "нові",
    "vetting": "перевірка", "approved": "схвалені", "rejected": "відхилені", "assigned": "призначені",
    "en_route": "в дорозі", "done": "виконані", "failed": "невдалі", "cancelled": "скасовані",
}  # fmt: skip


def value(text: object, lang: str) -> str:
    key = str(text)
    return VALUES_UK.get(key, key.replace("_", " ")) if lang == "uk" else key.replace("_", " ")


def risk_text(r: float | None, lang: str) -> str:
    """A risk as a percentage to two significant digits ("< 0,0001 %" when smaller; "—" when unknown)."""
    if r is None:
        return "—"
    if r < 1e-6:
        return "< " + number(0.0001, lang, 4) + " %"
    digits = max(0, 1 - math.floor(math.log10(100 * r)))
    return number(100 * r, lang, digits) + " %"


MONTHS_UK = (
    "січня",
    "лютого",
    "березня",
    "квітня",
    "травня",
    "червня",
    "липня",
    "серпня",
    "вересня",
    "жовтня",
    "листопада",
    "грудня",
)
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def number(x: float | None, lang: str, digits: int = 1) -> str:
    """A number as the language writes it: 1 234,5 in Ukrainian, 1,234.5 in English; "—" for none."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    text = f"{x:,.{digits}f}" if digits else f"{round(x):,}"
    return text.replace(",", "\u202f").replace(".", ",") if lang == "uk" else text


def day_text(d: date, lang: str) -> str:
    return (
        f"{d.day} {MONTHS_UK[d.month - 1]} {d.year}" if lang == "uk" else f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}"
    )


def clock_text(t_s: float, zone: ZoneInfo, lang: str) -> str:
    t = datetime.fromtimestamp(t_s, zone)
    return f"{day_text(t.date(), lang)}, {t:%H:%M}"


@dataclass
class Sitrep:
    """The report's figures (``data``, JSON) and its pictures (PNG, by name)."""

    city: str
    day: date
    lang: str
    public: bool
    zone: ZoneInfo
    data: Json = field(default_factory=dict)
    pictures: dict[str, bytes] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    area: shapely.Geometry | None = None

    def word(self, key: str) -> str:
        return WORDS[self.lang].get(key, key)


@dataclass(frozen=True)
class CityArea:
    polygon: shapely.Geometry
    bbox: tuple[float, float, float, float]
    streets: list[np.ndarray]
    centre: tuple[float, float]


def city_area(store: AppStore, city: str) -> CityArea:
    """The city as an area: its districts, or the disc of the junctions nearest its centre."""
    from greyzone.application.movement import city_graph

    g = city_graph(store, city).graph
    centre = (float(np.median(g.lon)), float(np.median(g.lat)))
    found = store.read_districts(city)
    if found:
        polygon = shapely.union_all([shapely.from_geojson(d.geometry) for d in found])
    else:
        kx = 111_320.0 * math.cos(math.radians(centre[1]))
        d = np.hypot((g.lon - centre[0]) * kx, (g.lat - centre[1]) * 111_320.0)
        r = float(np.quantile(d, CITY_QUANTILE))
        polygon = shapely.Point(centre).buffer(r / 111_320.0).intersection(shapely.box(-180, -90, 180, 90))
        polygon = shapely.affinity.scale(polygon, xfact=111_320.0 / kx, yfact=1.0)
    x0, y0, x1, y1 = polygon.bounds
    offsets = g.shape_offset
    streets = [g.shape_lonlat[offsets[e] : offsets[e + 1]] for e in range(g.n_edges)]
    return CityArea(polygon, (x0, y0, x1, y1), streets, centre)


def make_sitrep(
    store: AppStore,
    settings: Settings,
    city: str,
    day: date,
    lang: str = "uk",
    *,
    public: bool = False,
    now: datetime | None = None,
) -> Sitrep:
    """The situation report of ``city`` for the local ``day`` (not a day that has not begun)."""
    from greyzone.application.movement import city_graph, city_zone

    if lang not in WORDS:
        raise InputError("lang", f"expected uk or en; got {lang!r}")
    found = city_graph(store, city).city
    zone = city_zone(found)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    now = now or datetime.now(UTC)
    if start > now:
        raise InputError(
            "date", f"{day.isoformat()} has not begun in {city} ({zone}): a sitrep is of a past or present day"
        )
    end = start + timedelta(days=1)
    area = city_area(store, city)
    rep = Sitrep(city, day, lang, public, zone, area=area.polygon)
    rep.data = {
        "city": city,
        "date": day.isoformat(),
        "lang": lang,
        "edition": "public" if public else "full",
        "timezone": str(zone),
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "generated": now.astimezone(zone).isoformat(timespec="minutes"),
        "curfew": found.curfew,
    }
    for name, section in (
        ("incidents", _incidents),
        ("control", _control),
        ("ways_out", _ways),
        ("hours", _hours),
        ("services", _services),
        ("needs", _needs),
        ("requests", _requests),
    ):
        try:
            rep.data[name] = section(store, settings, rep, area, start, end)
        except NotAvailableError as exc:
            rep.data[name] = None
            rep.unknown.append(f"{name.replace('_', ' ')}: {rep.word('not_available')} ({exc})")
    rep.data["unknown"] = rep.unknown
    return rep


# ----------------------------------------------------------------------------------------------- sections


def incident_counts(store: AppStore, area: CityArea, since: datetime, until: datetime) -> dict[str, int]:
    """Incidents per kind (an incident counts once, by the kind of its first report) in the city's box."""
    frame = store.read_frame(
        ReportQuery(since=since, until=until, kinds=INCIDENT_KINDS - {Kind.AIR_RAID_ALERT}, bbox=area.bbox)
    )
    _, first = np.unique(frame.incident, return_index=True)
    return dict(Counter(frame.kind[i] for i in first.tolist()))


def _incidents(
    store: AppStore, settings: Settings, rep: Sitrep, area: CityArea, start: datetime, end: datetime
) -> Json:
    from greyzone.plotting import incidents_png

    today = incident_counts(store, area, start, end)
    week = incident_counts(store, area, start - timedelta(days=7), start)
    month = incident_counts(store, area, start - timedelta(days=28), start)
    query = ReportQuery(since=start, until=end, kinds=INCIDENT_KINDS - {Kind.AIR_RAID_ALERT}, bbox=area.bbox)
    frame = store.read_frame(query)
    reports = list(store.read_reports(query))
    killed: dict[int, int] = {}
    injured: dict[int, int] = {}
    for incident, r in zip(frame.incident.tolist(), reports, strict=True):
        if r.kind in COUNT_KINDS:  # per incident the highest count a report gave, never a sum over reports
            if r.killed is not None:
                killed[incident] = max(killed.get(incident, 0), r.killed)
            if r.injured is not None:
                injured[incident] = max(injured.get(incident, 0), r.injured)
    kinds = sorted(set(today) | set(week) | set(month), key=lambda k: -today.get(k, 0))
    rows = [
        {
            "kind": k,
            "day": today.get(k, 0),
            "mean7": round(week.get(k, 0) / 7, 2),
            "mean28": round(month.get(k, 0) / 28, 2),
        }
        for k in kinds
    ]
    sources = Counter(frame.source)
    linked = Counter(frame.incident.tolist())
    if not rep.public and len(frame):
        points: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        _, first = np.unique(frame.incident, return_index=True)
        for i in first.tolist():
            lon, lat = points.get(frame.kind[i], (np.empty(0), np.empty(0)))
            points[frame.kind[i]] = (np.append(lon, frame.lon[i]), np.append(lat, frame.lat[i]))
        title = f"{rep.word('map_incidents')}: {rep.city}, {day_text(rep.day, rep.lang)}"
        labels = {k: value(k, rep.lang) for k in points}
        as_of = f"{clock_text(end.timestamp(), rep.zone, rep.lang)} {rep.word('kyiv')}"
        rep.pictures["incidents"] = incidents_png(area.streets, points, area.bbox, title, as_of, labels)
    elif rep.public:
        rep.unknown.append(rep.word("no_incident_points"))
    return {
        "rows": rows,
        "incidents": sum(today.values()),
        "killed": sum(killed.values()),
        "injured": sum(injured.values()),
        "casualty_incidents": len(set(killed) | set(injured)),
        "reports": len(frame),
        "sources": len(sources),
        "multi_source_incidents": sum(1 for n in linked.values() if n > 1),
        "confidence": "high" if len(sources) >= 3 else "medium" if len(sources) == 2 else "low" if sources else "none",
    }


def _control(store: AppStore, settings: Settings, rep: Sitrep, area: CityArea, start: datetime, end: datetime) -> Json:
    from greyzone.application.control import control_grid, observations_or_refuse
    from greyzone.control.fusion import ControlHistory
    from greyzone.control.products import CODE_STATES, place_shares
    from greyzone.plotting import changes_png

    t = min(end, datetime.now(UTC)).timestamp()
    observations = observations_or_refuse(store, datetime.fromtimestamp(t, UTC))
    grid = control_grid(observations, 8)
    history = ControlHistory(grid, observations)
    shares, states = {}, {}
    for name, when in (("now", t), ("yesterday", t - DAY_S), ("week", t - 7 * DAY_S)):
        fusion = history.at(when)
        states[name] = np.asarray(fusion.states(when))
        shares[name] = place_shares(fusion, states[name], area.polygon)
        if name == "now":
            inside = grid.inside(area.polygon)
            as_of = float(fusion.as_of[inside].min()) if len(inside) else math.nan
    rows = [
        {
            "state": s,
            "share": round(shares["now"].get(s, 0.0), 4),
            "change_day": round(shares["now"].get(s, 0.0) - shares["yesterday"].get(s, 0.0), 4),
            "change_week": round(shares["now"].get(s, 0.0) - shares["week"].get(s, 0.0), 4),
        }
        for s in ("held", "other_side", "contested", "unconfirmed")
    ]
    inside = grid.inside(area.polygon)
    changed = inside[states["now"][inside] != states["yesterday"][inside]]
    cells = [int(c) for c in grid.cells[changed]]
    new_states = [CODE_STATES[int(states["now"][i])].value for i in changed]
    labels = {s: rep.word(s) for s in ("held", "other_side", "contested", "unconfirmed")}
    title = f"{rep.word('map_changes')}: {len(cells)}"
    as_of_text = f"{clock_text(t, rep.zone, rep.lang)} {rep.word('kyiv')}"
    rep.pictures["changes"] = changes_png(cells, new_states, area.streets, area.bbox, title, as_of_text, labels)
    if math.isfinite(as_of) and t - as_of > 3 * DAY_S:
        rep.unknown.append(
            f"control: the oldest evidence inside the city is from {clock_text(as_of, rep.zone, rep.lang)}"
        )
    return {"rows": rows, "changed_cells": len(cells), "cells": len(inside), "observations": len(observations)}


def _ways(store: AppStore, settings: Settings, rep: Sitrep, area: CityArea, start: datetime, end: datetime) -> Json:
    from greyzone.application.movement import way_out_row, ways_out

    _, ways = ways_out(store, rep.city, min(end, datetime.now(UTC)), 7, 8)
    rows = [way_out_row(w) for w in ways.values()]
    return {"rows": [{k: r[k] for k in ("gate", "status", "since", "reason", "since_is_lower_bound")} for r in rows]}


MODES = ("foot", "bicycle", "car", "armoured")


def _hours(store: AppStore, settings: Settings, rep: Sitrep, area: CityArea, start: datetime, end: datetime) -> Json:
    """Tomorrow's curfew window hour by hour: the mean risk of trips from the centre to each way out, per mode."""
    from greyzone.application.hazard import hazard_forecast, stored_models
    from greyzone.application.movement import city_graph, prepare_trip, window_departures
    from greyzone.hazard.forecast import HazardState
    from greyzone.plotting import forecast_plot
    from greyzone.routing.exposure import Mode

    found = city_graph(store, rep.city).city
    if not found.curfew:
        raise NotAvailableError(f"city {rep.city!r} has no curfew window (`greyzone city curfew`)")
    if not found.gates:
        raise NotAvailableError(f"city {rep.city!r} has no ways out (import it with --gates)")
    tomorrow = rep.day + timedelta(days=1)
    starts = window_departures(tomorrow, found.curfew, 60, rep.zone)
    gates = [(lon, lat) for _, lon, lat in found.gates]
    rows: list[Json] = []
    states: dict[tuple[str, float], HazardState] = {}  # each model's state, read once for the four modes
    for mode in MODES:
        trip = prepare_trip(store, rep.city, [area.centre, *gates], Mode(mode), starts, hazard_states=states)
        risks: list[float | None] = []
        for offset in trip.offsets:
            seconds, exposure = trip.planner.matrix(trip.nodes[:1], trip.nodes[1:], float(offset), False)
            reached = np.isfinite(seconds[0])
            has_risk = trip.planner.known and bool(reached.any())
            risks.append(float(np.mean(-np.expm1(-exposure[0][reached]))) if has_risk else None)
        known = [(r, s) for r, s in zip(risks, starts, strict=True) if r is not None]
        if not known:
            rows.append({"mode": mode, "best": None, "worst": None, "risks": risks})
            continue
        best, worst = min(known, key=lambda x: x[0]), max(known, key=lambda x: x[0])
        rows.append(
            {
                "mode": mode,
                "best": best[1].astimezone(rep.zone).strftime("%H:%M"),
                "best_risk": best[0],
                "worst": worst[1].astimezone(rep.zone).strftime("%H:%M"),
                "worst_risk": worst[0],
                "risks": risks,
            }
        )
    if all(r["best"] is None for r in rows):
        rep.unknown.append("hours to move: no fresh hazard model, the risk is unknown")
    models = [m for m in stored_models(store) if Kind.SHELLING in m.kinds] or stored_models(store)
    if models:
        window_h = max(1, int((starts[-1] - starts[0]).total_seconds() // 3600))
        try:
            forecast = hazard_forecast(store, models[0], starts[0], window_h)
        except InputError as exc:  # a day before the model's data: no map, and said why
            rep.unknown.append(f"hazard: {exc}")
            return _hours_answer(found.curfew, tomorrow, rows, starts, rep.zone)
        if not forecast.fresh:
            rep.unknown.append(f"hazard: {models[0].name} is stale ({forecast.age_h:.0f} h old data): shown as unknown")
        title = f"{rep.word('map_hazard')} ({found.curfew}, {day_text(tomorrow, rep.lang)})"
        plot = forecast_plot(forecast.state.grid, forecast.per_km2(), title, forecast.as_of, area.bbox)
        plot.streets(area.streets, colour="#777777")
        rep.pictures["hazard"] = plot.png()
    else:
        rep.unknown.append("hazard: no fitted model (`greyzone hazard fit`)")
    return _hours_answer(found.curfew, tomorrow, rows, starts, rep.zone)


def _hours_answer(window: str, day: date, rows: list[Json], starts: list[datetime], zone: ZoneInfo) -> Json:
    departures = [s.astimezone(zone).strftime("%H:%M") for s in starts]
    return {"window": window, "day": day.isoformat(), "rows": rows, "departures": departures}


def _services(store: AppStore, settings: Settings, rep: Sitrep, area: CityArea, start: datetime, end: datetime) -> Json:
    from greyzone.application.board import status_board

    board = status_board(store, settings, rep.city, min(end - timedelta(seconds=1), datetime.now(UTC)), days=1)
    hours = cast(list[dict[str, Any]], board["out_hours"])
    rows = cast(list[dict[str, Any]], board["rows"])
    out_rows = [{"district": o["district"], "utility": o["utility"], "out_h": o["out_h"][-1]} for o in hours]
    shown = [r for r in rows if r["category"] == "service" and (not rep.public or r["published"])]
    services = Counter(str(r["status"]) for r in shown)
    unknown = sum(1 for r in rows if r["status"] == "unknown")
    if unknown:
        fresh = f"{settings.status_fresh_h:g} h"
        rep.unknown.append(f"utilities and services: {unknown} of {len(rows)} rows unknown (no report within {fresh})")
    return {"outage_hours": out_rows, "service_points": dict(services), "unknown_rows": unknown}


def _needs(store: AppStore, settings: Settings, rep: Sitrep, area: CityArea, start: datetime, end: datetime) -> Json:
    from greyzone.application.board import needs_summary

    summary = needs_summary(store, rep.city, min(end - timedelta(seconds=1), datetime.now(UTC)), days=1)
    found = cast(list[dict[str, Any]], summary["rows"])
    by_category: Counter[str] = Counter()
    for r in found:
        by_category[str(r["category"])] += int(r["unmet_people"])
    rows = [{"category": c, "unmet_people": n} for c, n in by_category.most_common()]
    if rep.public:
        return {"rows": rows}
    return {"rows": rows, "by_district": [r for r in found if r["unmet_people"]]}


def _requests(
    store: AppStore, settings: Settings, rep: Sitrep, area: CityArea, start: datetime, end: datetime
) -> Json | None:
    if rep.public:
        return None  # where people wait to be evacuated is not for the public
    states: Counter[str] = Counter()
    people: Counter[str] = Counter()
    for r in store.read_requests(rep.city):
        states[r.state] += 1
        people[r.state] += int(json.loads(r.details).get("people", 0))
    return {"rows": [{"state": s, "requests": n, "people": people[s]} for s, n in sorted(states.items())]}


# ----------------------------------------------------------------------------------------------- renderers


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


@dataclass(frozen=True)
class Table:
    key: str  # the section
    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""
    picture: str = ""  # the picture drawn after it


def _pct(x: float, lang: str, sign: bool = False) -> str:
    text = number(100 * x, lang, 1) + " %"
    return ("+" if sign and x > 0 else "") + text


def tables(rep: Sitrep) -> list[Table]:
    """The report's tables, in the language's words and numbers (HTML and Markdown both lay these out)."""
    w, lang, d = rep.word, rep.lang, rep.data
    out = []
    inc = d.get("incidents")
    if isinstance(inc, dict):
        rows = [
            [value(k, lang), number(r["day"], lang, 0), number(r["mean7"], lang), number(r["mean28"], lang)]
            for r in inc["rows"]
            for k in [str(r["kind"])]
        ]
        note = (
            f"{w('killed')}: {number(inc['killed'], lang, 0)}, {w('injured')}: {number(inc['injured'], lang, 0)} "
            f"({number(inc['casualty_incidents'], lang, 0)} incidents); {w('sources')}: {inc['sources']}, "
            f"{number(inc['reports'], lang, 0)} {w('reports')}; {w('confidence')}: {inc['confidence']}"
        )
        out.append(
            Table("incidents", w("incidents"), [w("kind"), w("day"), w("mean7"), w("mean28")], rows, note, "incidents")
        )
    ctl = d.get("control")
    if isinstance(ctl, dict):
        rows = [
            [
                w(str(r["state"])),
                _pct(r["share"], lang),
                _pct(r["change_day"], lang, True),
                _pct(r["change_week"], lang, True),
            ]
            for r in ctl["rows"]
        ]
        out.append(
            Table(
                "control",
                w("control"),
                [w("state"), w("share"), w("yesterday"), w("week")],
                rows,
                f"{w('changed')}: {ctl['changed_cells']} / {ctl['cells']}",
                "changes",
            )
        )
    ways = d.get("ways_out")
    if isinstance(ways, dict):
        rows = [
            [
                str(r["gate"]),
                value(r["status"], lang),
                str(r["since"]) + (" ≤" if r["since_is_lower_bound"] else ""),
                str(r["reason"]),
            ]
            for r in ways["rows"]
        ]
        out.append(Table("ways_out", w("ways"), [w("way"), w("status"), w("since"), w("why")], rows))
    hrs = d.get("hours")
    if isinstance(hrs, dict):
        rows = [
            [
                w(str(r["mode"])),
                f"{r['best'] or '—'} ({w('risk')} {risk_text(r.get('best_risk'), lang)})",
                f"{r['worst'] or '—'} ({w('risk')} {risk_text(r.get('worst_risk'), lang)})",
            ]
            for r in hrs["rows"]
        ]
        out.append(
            Table(
                "hours",
                f"{w('hours')} ({hrs['window']}, {w('kyiv')})",
                [w("mode"), w("best"), w("worst")],
                rows,
                w("trip"),
                "hazard",
            )
        )
    svc = d.get("services")
    if isinstance(svc, dict):
        rows = [[str(r["district"]), value(r["utility"], lang), number(r["out_h"], lang)] for r in svc["outage_hours"]]
        note = f"{w('services')}: " + ", ".join(
            f"{value(k, lang)} {v}" for k, v in sorted(svc["service_points"].items())
        )
        out.append(Table("services", w("utilities"), [w("district"), w("kind"), w("out_h")], rows, note))
    nds = d.get("needs")
    if isinstance(nds, dict):
        rows = [[value(r["category"], lang), number(r["unmet_people"], lang, 0)] for r in nds["rows"]]
        out.append(Table("needs", w("needs"), [w("category"), w("people")], rows))
    req = d.get("requests")
    if isinstance(req, dict):
        rows = [
            [value(r["state"], lang), number(r["requests"], lang, 0), number(r["people"], lang, 0)] for r in req["rows"]
        ]
        out.append(Table("requests", w("requests"), [w("state"), w("count"), w("people")], rows))
    return out


STYLE = """body{font-family:"DejaVu Sans",sans-serif;font-size:10pt;color:#222;max-width:60em;margin:1em auto;
padding:0 1em}
h1{font-size:16pt;margin:.2em 0}h2{font-size:12pt;margin:1.2em 0 .3em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;margin:.3em 0}td,th{border:1px solid #ccc;padding:2px 5px;text-align:left}
th{background:#eee}.note{color:#555;font-size:9pt}img{max-width:100%;max-height:125mm;margin:.4em 0}
.unknown li{color:#8d3b00}
@page{size:A4;margin:14mm}"""


def to_html(rep: Sitrep) -> str:
    """One self-contained HTML file: its pictures inline, nothing fetched from anywhere."""
    w, lang, d = rep.word, rep.lang, rep.data
    period = d["period"]
    assert isinstance(period, dict)
    head = (
        f"<h1>{html.escape(w('title'))}: {html.escape(rep.city)}, {day_text(rep.day, lang)}</h1>"
        f"<p class=note>{w('public') if rep.public else w('full')} · {w('period')}: "
        f"{clock_text(datetime.fromisoformat(period['from']).timestamp(), rep.zone, lang)} – "
        f"{clock_text(datetime.fromisoformat(period['to']).timestamp(), rep.zone, lang)} ({w('kyiv')}) · "
        f"{w('generated')}: {clock_text(datetime.fromisoformat(str(d['generated'])).timestamp(), rep.zone, lang)}</p>"
    )
    parts = [
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(w("title"))} '
        f"{html.escape(rep.city)} {rep.day.isoformat()}</title><style>{STYLE}</style></head><body>",
        head,
    ]
    shown = set()
    for t in tables(rep):
        parts.append(
            f"<h2>{html.escape(t.title)}</h2><table><tr>{''.join(f'<th>{html.escape(c)}</th>' for c in t.columns)}</tr>"
        )
        body = t.rows or [[w("none")] + [""] * (len(t.columns) - 1)]
        parts += [f"<tr>{''.join(f'<td>{html.escape(c)}</td>' for c in row)}</tr>" for row in body]
        parts.append("</table>")
        if t.note:
            parts.append(f"<p class=note>{html.escape(t.note)}</p>")
        if t.picture in rep.pictures:
            parts.append(_img(rep.pictures[t.picture], t.picture))
            shown.add(t.picture)
    parts += [_img(png, name) for name, png in rep.pictures.items() if name not in shown]
    parts.append(f"<h2>{html.escape(w('unknown'))}</h2><ul class=unknown>")
    parts += [f"<li>{html.escape(u)}</li>" for u in rep.unknown] or [f"<li>{w('none')}</li>"]
    parts.append("</ul></body></html>")
    return "".join(parts)


def to_markdown(rep: Sitrep) -> str:
    """For messengers: the tables, no pictures (they are in the HTML and PDF editions)."""
    w = rep.word
    lines = [
        f"# {w('title')}: {rep.city}, {day_text(rep.day, rep.lang)}",
        f"_{w('public') if rep.public else w('full')}, {w('kyiv')}_",
        "",
    ]
    for t in tables(rep):
        lines += [f"## {t.title}", "", "| " + " | ".join(t.columns) + " |", "|" + "---|" * len(t.columns)]
        lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in t.rows] or [f"| {w('none')} |"]
        lines += (["", f"_{t.note}_"] if t.note else []) + [""]
    lines += [f"## {w('unknown')}", ""] + [f"- {u}" for u in rep.unknown or [w("none")]]
    return "\n".join(lines) + "\n"


def to_pdf(rep: Sitrep) -> bytes:
    """The HTML edition laid out by WeasyPrint (fonts: DejaVu, which covers Cyrillic)."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    pdf: bytes = HTML(string=to_html(rep)).write_pdf()
    return pdf


#: HXL hashtags (Humanitarian Exchange Language) of each exported table's columns.
HXL = {
    "incidents": (
        ["date", "city", "event_type", "incidents", "mean_7d", "mean_28d"],
        ["#date", "#adm3+name", "#event+type", "#event+num", "#event+num+avg7", "#event+num+avg28"],
    ),
    "casualties": (
        ["date", "city", "killed", "injured", "incidents_with_casualties"],
        ["#date", "#adm3+name", "#affected+killed", "#affected+injured", "#event+num"],
    ),
    "control": (["date", "city", "state", "share"], ["#date", "#adm3+name", "#status+control", "#indicator+pct"]),
    "ways_out": (
        ["date", "city", "way_out", "status", "since"],
        ["#date", "#adm3+name", "#access+name", "#access+status", "#date+start"],
    ),
    "needs": (["date", "city", "need", "people"], ["#date", "#adm3+name", "#sector", "#inneed+ind"]),
}


def to_hxl_csv(rep: Sitrep, table: str) -> str:
    """A table of the report as CSV with an HXL hashtag row under the header."""
    if table not in HXL:
        raise InputError("table", f"expected one of {', '.join(HXL)}; got {table!r}")
    header, tags = HXL[table]
    day, city, d = rep.day.isoformat(), rep.city, rep.data
    rows: list[list[object]] = []
    section = d.get("incidents" if table == "casualties" else table)
    if isinstance(section, dict):
        if table == "incidents":
            rows = [[day, city, r["kind"], r["day"], r["mean7"], r["mean28"]] for r in section["rows"]]
        elif table == "casualties":
            rows = [[day, city, section["killed"], section["injured"], section["casualty_incidents"]]]
        elif table == "control":
            rows = [[day, city, r["state"], r["share"]] for r in section["rows"]]
        elif table == "ways_out":
            rows = [[day, city, r["gate"], r["status"], r["since"]] for r in section["rows"]]
        else:
            rows = [[day, city, r["category"], r["unmet_people"]] for r in section["rows"]]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows([header, tags, *rows])
    return out.getvalue()


def to_geojson(rep: Sitrep) -> Json:
    """The report's figures as a FeatureCollection: the city's area, with every figure as its properties."""
    feature = {"type": "Feature", "geometry": json.loads(shapely.to_geojson(rep.area)), "properties": rep.data}
    return {"type": "FeatureCollection", "features": [feature]}


#: What a sitrep is written as, and each format's media type.
SITREP_MEDIA = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
}


def render(rep: Sitrep, fmt: str, table: str = "incidents") -> bytes:
    """The report in one format: html, md, json, pdf, csv (an HXL table) or geojson."""
    if fmt == "html":
        return to_html(rep).encode()
    if fmt == "md":
        return to_markdown(rep).encode()
    if fmt == "json":
        return json.dumps(rep.data, ensure_ascii=False).encode()
    if fmt == "pdf":
        return to_pdf(rep)
    if fmt == "csv":
        return to_hxl_csv(rep, table).encode()
    if fmt == "geojson":
        return json.dumps(to_geojson(rep), ensure_ascii=False).encode()
    raise InputError("format", f"expected one of {', '.join(SITREP_MEDIA)}; got {fmt!r}")


def set_curfew(store: Store, city: str, window: str | None) -> str | None:
    """Set (or, with None, clear) a city's curfew window HH:MM-HH:MM, its local time; the window kept."""
    import dataclasses
    import re

    from greyzone.application.movement import city_graph

    found = city_graph(store, city).city
    if window is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", window.strip()):
        raise InputError("window", f"expected HH:MM-HH:MM (24-hour, {found.timezone or 'local'} time); got {window!r}")
    store.write_city(dataclasses.replace(found, curfew=window.strip() if window else None))
    return window
