"""Cities and movement: ``greyzone city``, ``corridors`` and ``route``."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, cast

import numpy as np
import typer

from greyzone.application.hazard import model_from_file
from greyzone.application.movement import (
    KYIV,
    Mode,
    RouteAnswer,
    RouteRequest,
    avoid_areas,
    city_graph,
    city_zone,
    corridor_history,
    import_city,
    kyiv_time,
    parse_reaches,
    plan_matrix,
    plan_reach,
    plan_route,
    risk_text,
    snap_point,
    window_departures,
    zone_label,
)
from greyzone.cli.common import (
    DbOption,
    JsonOption,
    UrlOption,
    app,
    out,
    parse_lonlat,
    parse_time,
    refusing,
    store_of,
)
from greyzone.errors import GreyzoneError, InputError

city_app = typer.Typer(no_args_is_help=True, help="A city's street network and its ways out (gates).")
app.add_typer(city_app, name="city")
CityOption = Annotated[str, typer.Option("--city", help="An imported city (`greyzone city import`).")]


@city_app.command("import")
def city_import(
    file: Annotated[Path, typer.Argument(help=".osm.pbf, .osm, .osm.bz2, .graphml (osmnx) or line .geojson")],
    name: Annotated[str, typer.Option(help="The city's name in the store.")],
    gates: Annotated[Path | None, typer.Option(help="Point GeoJSON of the ways out (property name).")] = None,
    timezone: Annotated[
        str, typer.Option(help="The city's clock, an IANA time zone (what people there read and type).")
    ] = "Europe/Kyiv",
    curfew: Annotated[
        str | None, typer.Option(help="HH:MM-HH:MM local time when movement is allowed (e.g. 11:00-15:00).")
    ] = None,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a street network (replacing a city of that name), its gates and its clock."""
    with store_of(db, database_url, create=True) as store, refusing():
        s = import_city(store, file, name, gates, timezone, curfew)
    if as_json:
        out(json.dumps(s))
        return
    out(
        f"city {name}: {s['nodes']:,} junctions, {s['edges']:,} directed streets, {s['km']:,} km,"
        f" {s.get('restricted_junctions', 0):,} junctions with turn restrictions,"
        f" {len(s['gates']):,} gates; clock {s['timezone']}"  # type: ignore[arg-type]
        + (f", curfew window {curfew}" if curfew else "")
        + f"; from {file}"
    )


@city_app.command("snap")
def city_snap(
    name: Annotated[str, typer.Option()],
    lonlat: Annotated[str, typer.Option(help="LON,LAT")],
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Where a point meets the streets (a trip from there starts on that street) and the nearest junction."""
    lon, lat = parse_lonlat(lonlat, "--lonlat")
    with store_of(db, database_url) as store, refusing(missing="--name"):
        row = snap_point(store, name, lon, lat)
    on = cast(dict[str, Any], row["street"])
    text = (
        f"on {on['name'] or 'an unnamed street'} {on['distance_m']:.0f} m away, {on['along_m']:.0f} m along its"
        f" {on['length_m']:.0f} m, at {on['lon']:.6f},{on['lat']:.6f}; nearest junction {row['node']},"
        f" {row['distance_m']:.0f} m away"
    )
    out(json.dumps(row) if as_json else text)


@city_app.command("fetch")
def city_fetch(
    place: Annotated[str, typer.Argument(help='A place name, e.g. "Pokrovsk, Ukraine".')],
    name: Annotated[str, typer.Option(help="The city's name in the store.")],
    db: DbOption = None,
) -> None:
    """Download a city's streets from OpenStreetMap (Overpass, through osmnx) and import them."""
    try:
        import osmnx  # type: ignore[import-not-found]
    except ImportError:
        raise GreyzoneError(
            f"city fetch {place!r} needs the network and osmnx (pip install osmnx); offline, export "
            "the area as .osm.pbf and use `greyzone city import`"
        ) from None
    try:
        g = osmnx.graph_from_place(place, network_type="all", simplify=True)
    except Exception as exc:
        raise GreyzoneError(f"city fetch {place!r} failed (is the network reachable?): {exc}") from None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "city.graphml"
        osmnx.save_graphml(g, path)
        city_import(path, name, None, db=db)


@app.command("corridors")
def corridors_cmd(
    city: CityOption,
    at: Annotated[str | None, typer.Option(help="When (ISO 8601 with an offset; default now).")] = None,
    centre: Annotated[
        str | None, typer.Option(help="LON,LAT the routes start from (default: the city's middle).")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=800, help="How far back to look for since-when.")] = 14,
    res: Annotated[int, typer.Option(min=6, max=9, help="H3 resolution of the control map.")] = 8,
    reach: Annotated[
        list[str] | None,
        typer.Option(help="THREAT=KM: a threat's reach past the other side's ground (repeatable; see README)."),
    ] = None,
    daily: Annotated[bool, typer.Option(help="With --json: each day's status and distances.")] = False,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """For each way out of the city: open, threatened (the other side's or grey ground within reach of
    the road, or strikes on it), risky (only through grey ground) or cut; since when, and why."""
    when = parse_time(at, "--at") or datetime.now(UTC)
    start = parse_lonlat(centre, "--centre") if centre is not None else None
    with store_of(db, database_url) as store, refusing(missing="--city"):
        reaches = parse_reaches(reach or [])
        rows = corridor_history(store, city, when, days, res, start, reaches, daily)
    if as_json:
        out(json.dumps({"city": city, "at": when.isoformat(), "corridors": rows}))
        return
    for r in rows:
        since = f"since {'at least ' if r['since_is_lower_bound'] else ''}{r['since']}"
        out(f"{r['gate']:<28} {r['status']:<10} {since}")
        out(f"{'':<28} {r['reason']}")
    local = when.astimezone(KYIV)
    out(
        f"{len(rows)} ways out of {city} on {local:%Y-%m-%d %H:%M} Kyiv time, from the fused control map (res {res});"
        " reaches: " + ", ".join(f"{r.threat} {r.km:g} km{'' if r.warns else ' (said, not warned)'}" for r in reaches)
    )


def mode_and_day(mode: str, date: str | None) -> tuple[Mode, dt.date]:
    """The --mode and --date of a trip (today by default), or a usage error naming the option."""
    if mode not in {m.value for m in Mode}:
        raise typer.BadParameter(
            f"expected one of {', '.join(m.value for m in Mode)}; got {mode!r}", param_hint="--mode"
        )
    try:
        return Mode(mode), datetime.fromisoformat(date).date() if date else datetime.now(UTC).date()
    except ValueError:
        raise typer.BadParameter(f"expected --date YYYY-MM-DD; got {date!r}", param_hint="--date") from None


@app.command("route")
def route_cmd(
    city: CityOption,
    from_: Annotated[str, typer.Option("--from", help="LON,LAT")],
    to: Annotated[str, typer.Option(help="LON,LAT")],
    mode: Annotated[str, typer.Option(help="foot, bicycle, car or armoured")] = "foot",
    depart: Annotated[str, typer.Option(help="HH:MM, the city's local time (24-hour)")] = "12:00",
    window: Annotated[
        str | None,
        typer.Option(
            help="HH:MM-HH:MM (city time; across midnight when it ends earlier) or 'curfew' (the city's window):"
            " the best departure in it, and the curve"
        ),
    ] = None,
    step: Annotated[int, typer.Option(min=5, max=240, help="Minutes between departures tried in --window.")] = 30,
    alternatives: Annotated[bool, typer.Option(help="Also list up to 5 risk-vs-time alternatives.")] = False,
    date: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today)")] = None,
    hazard: Annotated[
        list[Path] | None, typer.Option(help="Exported hazard model file(s); default: the newest in the store")
    ] = None,
    grey: Annotated[str, typer.Option(help="'penalty' (10× dearer) or 'forbid'")] = "penalty",
    avoid: Annotated[
        list[Path] | None,
        typer.Option(
            help="GeoJSON of areas to keep out of (Polygons; Points with a radius_m property, default 200);"
            " a feature with hard=false is only dearer (penalty, default 10×). Repeat it."
        ),
    ] = None,
    avoid_point: Annotated[
        list[str] | None, typer.Option(help="LON,LAT[,RADIUS_M] to keep out of (default 200 m). Repeat it.")
    ] = None,
    geojson: Annotated[Path | None, typer.Option(help="Write the route here.")] = None,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """The least-exposure route between two points for a mode of travel, its risk and what carries it."""
    travel, day = mode_and_day(mode, date)
    origin, destination = parse_lonlat(from_, "--from"), parse_lonlat(to, "--to")
    with refusing(missing="--hazard"):
        models = [model_from_file(p) for p in hazard] if hazard else None
    with store_of(db, database_url) as store, refusing(missing="--city"):
        found = city_graph(store, city).city
        zone = city_zone(found)
        if window == "curfew":
            if not found.curfew:
                raise InputError("window", f"city {city!r} has no curfew window set: give --window HH:MM-HH:MM")
            window = found.curfew
        starts = window_departures(day, window, step, zone) if window else [kyiv_time(day, depart, zone=zone)]
        areas = avoid_areas(avoid or [], avoid_point or [])
        request = RouteRequest(
            city,
            origin,
            destination,
            travel,
            starts,
            None if grey == "forbid" else 10.0,
            alternatives,
            models,
            tuple(areas),
        )
        answer = plan_route(store, request)
    row = route_row(answer, bool(window))
    if geojson is not None and answer.route.reachable:
        line = {"type": "LineString", "coordinates": answer.line()}
        feature = {"type": "Feature", "properties": {k: v for k, v in row.items() if k != "riskiest"}, "geometry": line}
        geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    if as_json:
        out(json.dumps(row))
    else:
        print_route(answer, bool(window))


@app.command("reach")
def reach_cmd(
    city: CityOption,
    from_: Annotated[str, typer.Option("--from", help="LON,LAT")],
    mode: Annotated[str, typer.Option(help="foot, bicycle, car or armoured")] = "foot",
    depart: Annotated[str, typer.Option(help="HH:MM, the city's local time (24-hour)")] = "12:00",
    date: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today)")] = None,
    minutes: Annotated[float, typer.Option(help="How long the trip may take.")] = 20.0,
    max_risk: Annotated[
        str, typer.Option(help="The most risk a trip may carry: a probability (0.0001) or '1/10000'.")
    ] = "1/10000",
    avoid_point: Annotated[list[str] | None, typer.Option(help="LON,LAT[,RADIUS_M] to keep out of.")] = None,
    geojson: Annotated[Path | None, typer.Option(help="Write the streets reached here.")] = None,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Where one can get from a point within MINUTES below a risk (an "isochrone"), leaving at DEPART."""
    travel, day = mode_and_day(mode, date)
    top, _, bottom = max_risk.partition("/")
    try:
        risk_cap = float(top) / float(bottom) if bottom else float(top)
    except (ValueError, ZeroDivisionError):
        raise typer.BadParameter(f"expected 0.0001 or 1/10000; got {max_risk!r}", param_hint="--max-risk") from None
    origin = parse_lonlat(from_, "--from")
    with store_of(db, database_url) as store, refusing(missing="--city"):
        zone = city_zone(city_graph(store, city).city)
        when = kyiv_time(day, depart, zone=zone)
        layer = plan_reach(store, city, origin, travel, when, minutes, risk_cap, avoid_areas([], avoid_point or []))
    if geojson is not None:
        geojson.write_text(json.dumps(layer), encoding="utf-8")
    streets = cast(list[Any], layer["features"])
    notes = cast(list[dict[str, Any]], layer["notes"])
    summary = {k: v for k, v in layer.items() if k not in ("type", "features")} | {"streets": len(streets)}
    if as_json:
        out(json.dumps(summary))
        return
    out(
        f"{mode} from {origin[0]},{origin[1]} leaving {str(layer['depart'])[11:16]} ({zone_label(zone)}): "
        f"{layer['reached_junctions']:,} junctions and {len(streets):,} streets within {minutes:g} min"
        + (f" below {risk_text(risk_cap)}" if layer["max_risk"] is not None else " (risk unknown)")
        + "".join(f"\nnote: {n['text']}" for n in notes)
    )


@app.command("matrix")
def matrix_cmd(
    city: CityOption,
    from_: Annotated[list[str], typer.Option("--from", help="LON,LAT of an origin (repeat it).")],
    to: Annotated[list[str], typer.Option(help="LON,LAT of a destination (repeat it).")],
    mode: Annotated[str, typer.Option(help="foot, bicycle, car or armoured")] = "car",
    depart: Annotated[str, typer.Option(help="HH:MM, the city's local time (24-hour)")] = "12:00",
    date: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today)")] = None,
    exact: Annotated[bool, typer.Option(help="Each pair as `route` plans it (at most 400 pairs).")] = False,
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Minutes and risk from every origin to every destination (e.g. crews × pick-ups) in one call."""
    travel, day = mode_and_day(mode, date)
    origins = [parse_lonlat(v, "--from") for v in from_]
    destinations = [parse_lonlat(v, "--to") for v in to]
    with store_of(db, database_url) as store, refusing(missing="--city"):
        zone = city_zone(city_graph(store, city).city)
        when = kyiv_time(day, depart, zone=zone)
        table = plan_matrix(store, city, origins, destinations, travel, when, exact)
    if as_json:
        out(json.dumps(table))
        return
    minutes, risks = cast(list[list[Any]], table["minutes"]), cast(list[list[Any]], table["risk"])
    out(f"{mode}, leaving {when.astimezone(zone):%H:%M} ({zone_label(zone)}): minutes, risk (row: from; column: to)")
    for i, (row, rrow) in enumerate(zip(minutes, risks, strict=True)):
        cells = [
            "no way" if m is None else f"{m:g} min, {risk_text(r).split(' (')[0] if r is not None else 'risk unknown'}"
            for m, r in zip(row, rrow, strict=True)
        ]
        out(f"  from {from_[i]}: " + " | ".join(cells))


def route_row(a: RouteAnswer, windowed: bool) -> dict[str, object]:
    r = a.route
    curve = [
        {"depart": t.isoformat(), "risk": p.risk, "minutes": round(p.seconds / 60, 1)}
        for t, p in zip(a.request.starts, a.routes, strict=True)
    ]
    others = [
        {"km": round(o.length_m / 1000, 3), "minutes": round(o.seconds / 60, 1), "risk": o.risk} for o in a.others
    ]
    return {
        "reachable": r.reachable,
        "reason": r.reason,
        "mode": a.request.mode.value,
        "depart": a.depart.isoformat(),
        "length_m": round(r.length_m, 1),
        "minutes": round(r.seconds / 60, 1),
        "exposure": r.exposure,
        "risk": r.risk,
        **a.plainly(),
        "snapped_m": [round(d, 1) for d in a.snapped_m],
        "riskiest": a.riskiest(),
        "notes": a.notes,
        "warnings": a.warnings,
        "assumptions": r.assumptions,
        "curve": curve if windowed else None,
        "alternatives": others,
    }


def print_route(a: RouteAnswer, windowed: bool) -> None:
    result, when = a.route, a.depart
    if not result.reachable:
        out(f"no route: {result.reason}")
        return
    said = risk_text(result.risk)
    top = "; ".join(
        f"{s.name or f'#{s.edge}'} {s.share:.0%} ({s.threat.value if s.threat else '?'}, "
        f"{(when + timedelta(minutes=s.minute)).astimezone(a.zone):%H:%M})"
        for s in result.riskiest
    )
    lead = f"{'best departure' if windowed else 'departure'} {when.astimezone(a.zone):%H:%M} ({zone_label(a.zone)}) — "
    plain = a.plainly()
    spread = f", {plain['range_text']}" if plain["range_text"] else ""
    usual = f"; {plain['vs_usual']:g}× the usual level at this hour" if plain["vs_usual"] else ""
    modes = "; ".join(f"{m['mode']}: {m['risk_text']}" for m in a.modes)
    grey = "".join(
        f"\nGREY: {g['street']} from km {g['from_km']:g}, {g['km']:g} km {g['state']} since "
        f"{'before ' if g['since_is_lower_bound'] else ''}{g['since']}"
        for g in a.grey
    )
    out(
        f"{lead}{a.request.mode.value}: {result.length_m / 1000:.2f} km, {result.seconds / 60:.0f} min, "
        + (said if result.risk is None else f"risk {said}")
        + spread
        + usual
        + (f"; riskiest: {top}" if top else "")
        + (f"\nthe same trip by each mode: {modes}" if modes else "")
        + grey
        + "".join(f"\nWARNING: {w}" for w in a.warnings)
        + "".join(f"\nnote: {n}" for n in a.notes)
    )
    for r in a.others:
        out(f"  alternative: {r.length_m / 1000:.2f} km, {r.seconds / 60:.0f} min, risk {r.risk or 0.0:.3%}")
    if not windowed:
        return
    peak = max((p.risk or 0.0) for p in a.routes) or 1.0
    for t, p in zip(a.request.starts, a.routes, strict=True):
        level = "unknown" if p.risk is None else f"{p.risk:.3%}"
        bar = "█" * int(np.round(40 * (p.risk or 0.0) / peak))
        out(f"  {t.astimezone(a.zone):%H:%M}  {level:>8}  {bar}")
