"""Coordination: ``greyzone district``, ``service``, ``board``, ``needs``, ``evac`` and ``crew``.

Whoever runs the CLI holds the store and its key files, so it acts as a coordinator named ``cli``:
every opening of personal data is audited under that name.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from greyzone.application import board as boards
from greyzone.application import evacuation as evac
from greyzone.application.sealed import rotate_key
from greyzone.cli.common import DbOption, JsonOption, UrlOption, app, cli_settings, out, parse_time, refusing, store_of
from greyzone.errors import RejectedReportsError
from greyzone.settings import Settings
from greyzone.store.base import User

CLI_USER = User("cli", "coordinator")
CityOption = Annotated[str, typer.Option("--city", help="The city (as imported with `greyzone city import`).")]
AtOption = Annotated[str | None, typer.Option("--at", help="The time (ISO 8601; default now).")]
GazetteerOption = Annotated[Path | None, typer.Option(help="Gazetteer folder: settlements named instead of a point.")]

district_app = typer.Typer(no_args_is_help=True, help="A city's named districts (polygons).")
service_app = typer.Typer(no_args_is_help=True, help="Service points: bread, water, aid, shelters, medical posts …")
needs_app = typer.Typer(no_args_is_help=True, help="Residents' needs per district (counts of people only).")
evac_app = typer.Typer(no_args_is_help=True, help="Evacuation requests: taken, vetted, assigned, closed.")
crew_app = typer.Typer(no_args_is_help=True, help="Evacuation and aid crews (their base, never where they are).")
for sub, name in ((district_app, "district"), (service_app, "service"), (needs_app, "needs"), (evac_app, "evac"),
                  (crew_app, "crew")):  # fmt: skip
    app.add_typer(sub, name=name)


def _words(items: object, none: str = "no sign of a lure") -> str:
    return "; ".join(str(x) for x in items) if isinstance(items, list) and items else none


def _now(at: str | None) -> datetime:
    return parse_time(at, "--at") or datetime.now(UTC)


def _rejects(rejects: list[tuple[str, int, str, str]], as_json: bool) -> None:
    for file, row, field, reason in rejects:
        if not as_json:
            out(f"rejected {file}:{row} {field}: {reason}")


@district_app.command("import")
def district_import(
    path: Annotated[Path, typer.Argument(help="GeoJSON: polygons with a `name` property.")],
    city: CityOption,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replace a city's districts (points outside every district fall in their H3 res-7 cell)."""
    with store_of(db, database_url) as store, refusing():
        n, rejects = boards.import_districts(store, city, path)
    _rejects([(r.file, r.row, r.field, r.reason) for r in rejects], as_json)
    out(
        json.dumps({"districts": n, "rejected": len(rejects)}) if as_json else f"{n} districts, {len(rejects)} rejected"
    )


@service_app.command("add")
def service_add(
    name: Annotated[str, typer.Argument(help="What people call it.")],
    service: Annotated[str, typer.Option(help="shop, bread, water_point, aid_point, shelter, medical_post, pharmacy")],
    at_point: Annotated[str, typer.Option("--point", help="LON,LAT of the door.")],
    city: CityOption,
    hours: Annotated[str, typer.Option(help="Opening hours HH:MM-HH:MM, local time.")] = "",
    publish: Annotated[bool, typer.Option(help="Show it to the public (at --public-point, default the door).")] = False,
    public_point: Annotated[str | None, typer.Option(help="LON,LAT the public is told.")] = None,
    public_shelter: Annotated[bool, typer.Option(help="A shelter open to the public.")] = False,
    point_id: Annotated[str | None, typer.Option("--id", help="Its id (default: made).")] = None,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add (or replace, with --id) a service point."""
    lon, _, lat = at_point.partition(",")
    fields: dict[str, object] = {"name": name, "service": service, "lon": lon, "lat": lat, "hours": hours,
                                 "published": publish, "public_shelter": public_shelter, "id": point_id}  # fmt: skip
    if public_point:
        fields["public_lon"], _, fields["public_lat"] = public_point.partition(",")
    with store_of(db, database_url) as store, refusing():
        good, rejects = boards.add_service_points(store, city, [fields], origin="--point")
    if rejects:
        raise typer.BadParameter(
            "; ".join(f"{r.field}: {r.reason}" for r in rejects), param_hint=f"--{rejects[0].field}"
        )
    p = good[0]
    out(json.dumps({"point_id": p.point_id}) if as_json else f"{p.point_id}: {p.name} ({p.service})")


@service_app.command("import")
def service_import(
    path: Annotated[Path, typer.Argument(help="CSV (id,name,service,lon,lat,hours,published,…) or GeoJSON points.")],
    city: CityOption,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add service points from a file: the good ones together, every bad row reported."""
    with store_of(db, database_url) as store, refusing():
        good, rejects = boards.add_service_points(store, city, boards.read_service_file(path), origin=str(path))
    _rejects([(r.file, r.row, r.field, r.reason) for r in rejects], as_json)
    summary = {"added": len(good), "rejected": len(rejects)}
    out(json.dumps(summary) if as_json else f"{len(good)} service points added, {len(rejects)} rejected")


@service_app.command("list")
def service_list(city: CityOption, db: DbOption = None, database_url: UrlOption = None) -> None:
    """Every service point of the city (published or not)."""
    with store_of(db, database_url) as store:
        points = store.read_service_points(city)
    for p in points:
        shown = "published" if p.published else "not published"
        out(f"{p.point_id}\t{p.service}\t{p.name}\t{p.hours or '-'}\t{shown}")


@service_app.command("publish")
def service_publish(
    point_id: Annotated[str, typer.Argument()],
    city: CityOption,
    unpublish: Annotated[bool, typer.Option(help="Take it off the public view.")] = False,
    public_point: Annotated[str | None, typer.Option(help="LON,LAT the public is told.")] = None,
    db: DbOption = None,
    database_url: UrlOption = None,
) -> None:
    """Show a service point to the public (or stop showing it)."""
    where = None
    if public_point:
        x, _, y = public_point.partition(",")
        where = (float(x), float(y))
    with store_of(db, database_url) as store, refusing(point_id="POINT_ID"):
        p = boards.publish_service_point(store, city, point_id, published=not unpublish, public_lonlat=where)
    out(f"{p.point_id}: {'published' if p.published else 'not published'}")


@app.command("board")
def board_cmd(
    city: CityOption,
    at: AtOption = None,
    days: Annotated[int, typer.Option(min=1, max=90, help="Days of outage history.")] = 7,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """The status board: each utility per district, each service point; outage hours per day."""
    settings = cli_settings(db, database_url)
    with store_of(db, database_url) as store, refusing():
        answer = boards.status_board(store, settings, city, _now(at), days)
    if as_json:
        out(json.dumps(answer, ensure_ascii=False))
        return
    for r in answer["rows"]:  # type: ignore[attr-defined]
        what = r["name"] or r["item"]
        voices = ", ".join(f"{v['status']}×{v['sources']}" for v in r["voices"]) if r["status"] == "conflicting" else ""
        out(
            f"{r['district']}\t{r['category']}\t{what}\t{r['status']}\t{r['as_of'] or '-'}\t{r['sources']} src {voices}"
        )
    out(f"board of {city} as of {answer['as_of']} ({answer['timezone']}): {len(answer['rows'])} rows")  # type: ignore[arg-type]


@needs_app.command("add")
def needs_add(
    district: Annotated[str, typer.Argument()],
    category: Annotated[
        str, typer.Argument(help="food, drinking_water, medicine, heating_fuel, hygiene, evacuation, medical_care")
    ],
    people: Annotated[int, typer.Argument(help="How many people need it.")],
    city: CityOption,
    at: AtOption = None,
    db: DbOption = None,
    database_url: UrlOption = None,
) -> None:
    """Record a need (counts only, never who)."""
    with store_of(db, database_url) as store, refusing(district="DISTRICT", category="CATEGORY", people="PEOPLE"):
        need = boards.record_need(store, CLI_USER, city, district, category, people, _now(at))
    out(f"need {need.need_id}: {people} people, {category}, {district}")


@needs_app.command("met")
def needs_met(need_id: Annotated[int, typer.Argument()], at: AtOption = None, db: DbOption = None,
              database_url: UrlOption = None) -> None:  # fmt: skip
    """Mark a need as met."""
    with store_of(db, database_url) as store, refusing(need_id="NEED_ID"):
        boards.meet_need(store, need_id, _now(at))
    out(f"need {need_id} met")


@needs_app.command("summary")
def needs_summary(city: CityOption, at: AtOption = None, db: DbOption = None, database_url: UrlOption = None,
                  as_json: JsonOption = False) -> None:  # fmt: skip
    """What is unmet per district, since when, and day by day."""
    with store_of(db, database_url) as store, refusing():
        answer = boards.needs_summary(store, city, _now(at))
    if as_json:
        out(json.dumps(answer, ensure_ascii=False))
        return
    for r in answer["rows"]:  # type: ignore[attr-defined]
        out(f"{r['district']}\t{r['category']}\t{r['unmet_people']} people unmet since {r['unmet_since'] or '-'}")


def _settings(db: Path | None, database_url: str | None, gazetteer: Path | None) -> Settings:
    s = cli_settings(db, database_url)
    return Settings(
        **{**{f: getattr(s, f) for f in s.__dataclass_fields__}, "gazetteer_dir": gazetteer or s.gazetteer_dir}
    )


def _take(settings: Settings, city: str, rows: list[dict[str, object]], origin: str, as_json: bool) -> None:
    taken, bad = [], 0
    around = evac.Around()
    with store_of(settings.db_path if not settings.database_url else None, settings.database_url) as store, refusing():
        centre, inside = evac.city_check(store, city)
        where = evac.gazetteer_place(settings, centre)
        for i, fields in enumerate(rows, start=1):
            try:
                form = evac.form_from(fields, city, where=where, inside=inside)
            except RejectedReportsError as exc:
                bad += 1
                for _, field, reason in exc.rejects:
                    out(f"rejected {origin}:{i} {field}: {reason}")
                continue
            key = str(fields.get("idempotency_key") or "") or None
            taken.append(
                evac.take_request(store, settings, CLI_USER, form, idempotency_key=key, around=around).answer()
            )
    if as_json:
        out(json.dumps({"taken": taken, "rejected": bad}, ensure_ascii=False))
        return
    for t in taken:
        how = "merged into" if t["merged"] else "already" if t["replay"] else "new"
        out(f"{how} {t['request_id']}: suspicion {t['suspicion']:.2f} — {_words(t['reasons'])}")
    out(f"{len(taken)} requests taken, {bad} rejected")


@evac_app.command("add")
def evac_add(
    city: CityOption,
    people: Annotated[int, typer.Option(min=1)] = 1,
    mobility: Annotated[str, typer.Option(help="walks, needs_help, wheelchair, bedridden")] = "walks",
    at_point: Annotated[str | None, typer.Option("--point", help="LON,LAT of the pick-up.")] = None,
    precision_m: Annotated[float, typer.Option(help="How precisely the point is known (m).")] = 50.0,
    settlement: Annotated[
        str | None, typer.Option(help="The settlement (resolved by the gazetteer without --point).")
    ] = None,
    address: Annotated[str, typer.Option(help="Street and house.")] = "",
    street: Annotated[str, typer.Option(help="The street alone (checked against the city's streets).")] = "",
    names: Annotated[str, typer.Option(help="Names of the people, ';'-separated.")] = "",
    phones: Annotated[str, typer.Option(help="Their phones, ';'-separated.")] = "",
    relation: Annotated[str, typer.Option(help="Who asks: self, relative, neighbour, soldier, official")] = "self",
    asker_name: Annotated[str, typer.Option()] = "",
    asker_phone: Annotated[str, typer.Option()] = "",
    urgency: Annotated[str, typer.Option(help="routine, urgent, critical")] = "routine",
    children: Annotated[int, typer.Option(min=0)] = 0,
    pets: Annotated[int, typer.Option(min=0)] = 0,
    medical: Annotated[bool, typer.Option(help="Medical needs.")] = False,
    callback_confirmed: Annotated[bool, typer.Option(help="The asker was called back and confirmed.")] = False,
    channel: Annotated[str, typer.Option(help="phone, form, api, csv, radio …")] = "phone",
    at: AtOption = None,
    idempotency_key: Annotated[str | None, typer.Option(help="The same key stores the request once.")] = None,
    gazetteer: GazetteerOption = None,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take an evacuation request (merged with an open one about the same people), and vet it."""
    lon, _, lat = (at_point or "").partition(",")
    fields: dict[str, object] = {
        "people": people, "mobility": mobility, "lon": lon, "lat": lat, "precision_m": precision_m,
        "settlement": settlement, "address": address, "street": street, "names": names, "phones": phones,
        "relation": relation, "asker_name": asker_name, "asker_phone": asker_phone, "urgency": urgency,
        "children": children, "pets": pets, "medical": medical, "callback_confirmed": callback_confirmed,
        "channel": channel, "asked_at": _now(at).isoformat(), "idempotency_key": idempotency_key,
    }  # fmt: skip
    _take(_settings(db, database_url, gazetteer), city, [fields], "--point", as_json)


@evac_app.command("import")
def evac_import(
    path: Annotated[Path, typer.Argument(help="CSV with the fields of `evac add` as columns (names ';'-separated).")],
    city: CityOption,
    gazetteer: GazetteerOption = None,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take requests from a CSV: each row on its own (a bad row is reported and skipped)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows: list[dict[str, object]] = [dict(r) for r in csv.DictReader(fh)]
    _take(_settings(db, database_url, gazetteer), city, rows, str(path), as_json)


@evac_app.command("list")
def evac_list(
    city: CityOption,
    state: Annotated[list[str] | None, typer.Option(help="Only these states (repeat).")] = None,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """The queue: most urgent, then most suspicious first (personal data shown: audited)."""
    settings = cli_settings(db, database_url)
    with store_of(db, database_url) as store, refusing():
        rows = evac.list_requests(store, settings, CLI_USER, city, state or [])
    if as_json:
        out(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        out(
            f"{r['request_id']}\t{r['state']}\t{r['urgency']}\t{r['people']} ({r['mobility']})\t"
            f"suspicion {r['suspicion']:.2f} {r['level']}\t{_words(r['reasons'])}"
        )


@evac_app.command("show")
def evac_show(
    request_id: Annotated[str, typer.Argument()], db: DbOption = None, database_url: UrlOption = None
) -> None:
    """One request with its askers and its history (personal data shown: audited)."""
    settings = cli_settings(db, database_url)
    with store_of(db, database_url) as store, refusing(request_id="REQUEST_ID"):
        out(json.dumps(evac.show_request(store, settings, CLI_USER, request_id), ensure_ascii=False, indent=1))


@evac_app.command("vet")
def evac_vet(
    request_id: Annotated[str, typer.Argument()],
    decide: Annotated[str | None, typer.Option(help="approved or rejected (after looking at the reasons).")] = None,
    reason: Annotated[str, typer.Option(help="Why (needed to reject).")] = "",
    at: AtOption = None,
    gazetteer: GazetteerOption = None,
    db: DbOption = None,
    database_url: UrlOption = None,
) -> None:
    """Score a request again and put it under vetting; with --decide, approve or reject it."""
    settings = _settings(db, database_url, gazetteer)
    with store_of(db, database_url) as store, refusing(request_id="REQUEST_ID", state="--decide"):
        view = evac.vet_request(store, settings, CLI_USER, request_id, parse_time(at, "--at"))
        out(f"{request_id}: suspicion {view['suspicion']:.2f} ({view['level']}): {_words(view['reasons'])}")
        if decide:
            moved = evac.move_request(store, CLI_USER, request_id, decide, reason)
            out(f"{request_id}: {moved['from']} → {moved['to']}")


@evac_app.command("match")
def evac_match(
    request_id: Annotated[str, typer.Argument()],
    day: Annotated[str, typer.Option(help="The day (YYYY-MM-DD, local).")],
    window: Annotated[str | None, typer.Option(help="HH:MM-HH:MM (default: the city's curfew window).")] = None,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """The crews that can answer a request, safest route first; the others with why not."""
    settings = cli_settings(db, database_url)
    with store_of(db, database_url) as store, refusing(request_id="REQUEST_ID"):
        options = evac.match_crews(store, settings, CLI_USER, request_id, date.fromisoformat(day), window)
    if as_json:
        out(json.dumps(options, ensure_ascii=False))
        return
    for o in options:
        r = o["route"] if isinstance(o["route"], dict) else {}
        said = f"depart {r.get('depart')}, {r.get('minutes')} min, risk {r.get('risk')}" if o["feasible"] else ""
        said = said or _words(o["problems"])
        out(f"{o['crew_id']}\t{o['name']}\t{o['vehicle']}\t{said}")


@evac_app.command("assign")
def evac_assign(
    request_id: Annotated[str, typer.Argument()],
    crew: Annotated[str, typer.Option("--crew", help="The crew's id.")],
    day: Annotated[str, typer.Option(help="The day (YYYY-MM-DD, local).")],
    db: DbOption = None,
    database_url: UrlOption = None,
) -> None:
    """Assign an approved request to a crew that can answer it."""
    settings = cli_settings(db, database_url)
    with store_of(db, database_url) as store, refusing(request_id="REQUEST_ID", crew_id="--crew"):
        evac.assign_crew(store, settings, CLI_USER, request_id, crew, date.fromisoformat(day))
    out(f"{request_id}: assigned to {crew}")


@evac_app.command("state")
def evac_state(
    request_id: Annotated[str, typer.Argument()],
    to: Annotated[str, typer.Argument(help="en_route, done, failed, cancelled, approved, vetting …")],
    reason: Annotated[str, typer.Option()] = "",
    db: DbOption = None,
    database_url: UrlOption = None,
) -> None:
    """Move a request on (done, failed and cancelled close it)."""
    with store_of(db, database_url) as store, refusing(request_id="REQUEST_ID", state="TO"):
        moved = evac.move_request(store, CLI_USER, request_id, to, reason)
    out(f"{request_id}: {moved['from']} → {moved['to']}")


@evac_app.command("close")
def evac_close(
    request_id: Annotated[str, typer.Argument()],
    outcome: Annotated[str, typer.Option(help="done, failed or cancelled")] = "done",
    reason: Annotated[str, typer.Option()] = "",
    db: DbOption = None,
    database_url: UrlOption = None,
) -> None:
    """Close a request (its personal data is purged after the retention)."""
    if outcome not in ("done", "failed", "cancelled"):
        raise typer.BadParameter("expected done, failed or cancelled", param_hint="--outcome")
    evac_state(request_id, outcome, reason, db, database_url)


@evac_app.command("purge")
def evac_purge(at: AtOption = None, db: DbOption = None, database_url: UrlOption = None) -> None:
    """Drop the personal data of requests closed longer ago than the retention (GREYZONE_RETENTION_DAYS)."""
    settings = cli_settings(db, database_url)
    with store_of(db, database_url) as store:
        purged = evac.purge_closed(store, settings, _now(at), actor="cli")
    out(f"{len(purged)} requests purged of personal data (retention {settings.retention_days:g} days)")


@evac_app.command("rotate-key")
def evac_rotate_key(db: DbOption = None, database_url: UrlOption = None) -> None:
    """A new key for personal data: every sealed value re-encrypted under it, the old key dropped."""
    settings = cli_settings(db, database_url)
    with store_of(db, database_url) as store:
        n = rotate_key(store, settings, actor="cli")
    out(f"{n} values re-sealed under a new key ({settings.sealing_key_path})")


@crew_app.command("add")
def crew_add(
    name: Annotated[str, typer.Argument()],
    vehicle: Annotated[str, typer.Option(help="foot, car, armoured_ew, armoured_minibus")],
    capacity: Annotated[int, typer.Option(min=1)],
    base: Annotated[str, typer.Option(help="LON,LAT of its home base.")],
    city: CityOption,
    stretcher: Annotated[bool, typer.Option(help="Can carry a stretcher.")] = False,
    wheelchair: Annotated[bool, typer.Option(help="Has room for a wheelchair.")] = False,
    crew_id: Annotated[str | None, typer.Option("--id")] = None,
    db: DbOption = None,
    database_url: UrlOption = None,
) -> None:
    """Add (or replace, with --id) a crew."""
    x, _, y = base.partition(",")
    fields: dict[str, object] = {"name": name, "vehicle": vehicle, "capacity": capacity, "base_lon": x, "base_lat": y,
                                 "stretcher": stretcher, "wheelchair": wheelchair, "crew_id": crew_id}  # fmt: skip
    with store_of(db, database_url) as store, refusing():
        crew = evac.add_crew(store, CLI_USER, evac.crew_from(fields, city))
    out(f"{crew.crew_id}: {crew.name} ({crew.vehicle.value}, {crew.capacity} seats)")


@crew_app.command("list")
def crew_list(city: CityOption, db: DbOption = None, database_url: UrlOption = None) -> None:
    """The crews: vehicle, room, base (never a live position)."""
    with store_of(db, database_url) as store:
        for c in store.read_crews(city):
            out(json.dumps(evac.crew_row(c)))
