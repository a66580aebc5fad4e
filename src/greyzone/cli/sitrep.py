"""``greyzone sitrep`` (the daily situation report) and ``greyzone city curfew`` (a city's curfew window)."""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from greyzone.application.sitrep import SITREP_MEDIA, make_sitrep, render, set_curfew
from greyzone.cli.common import DbOption, UrlOption, app, cli_settings, err, out, refusing, store_of
from greyzone.cli.movement import city_app
from greyzone.store.base import AuditEntry


@app.command("sitrep")
def sitrep_cmd(
    city: Annotated[str, typer.Option(help="The city (as imported).")],
    day: Annotated[str, typer.Option("--date", help="The local day (YYYY-MM-DD), not one still to come.")],
    lang: Annotated[str, typer.Option(help="uk or en.")] = "uk",
    fmt: Annotated[str, typer.Option("--format", help="html, pdf, md, json, csv (HXL) or geojson.")] = "html",
    public: Annotated[bool, typer.Option(help="The public edition: public, aggregated figures only.")] = False,
    table: Annotated[
        str, typer.Option(help="With --format csv: incidents, casualties, control, ways_out, needs.")
    ] = "incidents",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here (default: standard output).")
    ] = None,
    db: DbOption = None,
    database_url: UrlOption = None,
) -> None:
    """The daily situation report of a city, in Ukrainian or English."""
    if fmt not in SITREP_MEDIA:
        raise typer.BadParameter(f"expected one of {', '.join(SITREP_MEDIA)}; got {fmt!r}", param_hint="--format")
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise typer.BadParameter(f"expected YYYY-MM-DD; got {day!r}", param_hint="--date") from None
    settings = cli_settings(db, database_url)
    with store_of(db, database_url) as store, refusing(date="--date"):
        rep = make_sitrep(store, settings, city, when, lang, public=public)
        body = render(rep, fmt, table)
    if output is None:
        sys.stdout.buffer.write(body)
        return
    output.write_bytes(body)
    err.print(f"sitrep of {city} for {when.isoformat()} ({lang}, {'public' if public else 'full'}): {output}")


@city_app.command("curfew")
def city_curfew(
    name: Annotated[str, typer.Option("--city", help="The city.")],
    window: Annotated[
        str | None, typer.Option(help="HH:MM-HH:MM, the city's local time, when movement is allowed.")
    ] = None,
    clear: Annotated[bool, typer.Option(help="No curfew window any more.")] = False,
    db: DbOption = None,
    database_url: UrlOption = None,
) -> None:
    """Set a city's curfew window (the default window of routes and of the sitrep's hours)."""
    if (window is None) == (not clear):
        raise typer.BadParameter("give --window HH:MM-HH:MM or --clear", param_hint="--window")
    with store_of(db, database_url) as store, refusing():
        set_curfew(store, name, None if clear else window)
        store.audit(AuditEntry(time.time(), "cli", "city.curfew", name, window or "cleared"))
    out(f"city {name}: curfew window {window or 'cleared'}")
