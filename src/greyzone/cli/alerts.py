"""``greyzone alert add|list|test|remove`` (alert rules) and ``greyzone worker`` (their delivery)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Annotated

import typer

from greyzone.application.alerts import RuleIn, add_rule, deliver, post, rule_view, work_once
from greyzone.application.watch import WATCH_S
from greyzone.cli.common import (
    DbOption,
    JsonOption,
    UrlOption,
    app,
    cli_settings,
    out,
    parse_lonlat,
    refusing,
    store_of,
)
from greyzone.store.base import DeliveryRow, User

alert_app = typer.Typer(no_args_is_help=True, help="Alert rules: an area, a trigger, a webhook.")
app.add_typer(alert_app, name="alert")


@alert_app.command("add")
def alert_add(
    city: Annotated[str, typer.Option(help="The city.")],
    url: Annotated[str, typer.Option(help="The webhook (http(s), an allowed host: GREYZONE_WEBHOOK_HOSTS).")],
    trigger: Annotated[
        str, typer.Option(help="incidents, hazard, corridor, control, service, evacuation or curfew.")
    ] = "incidents",
    kinds: Annotated[str, typer.Option(help="Incident kinds, comma-separated (shelling,fpv_strike,…).")] = "",
    at_least: Annotated[int, typer.Option("--at-least", help="incidents: the incidents it takes.")] = 1,
    hours: Annotated[float, typer.Option(help="incidents: … within this many hours; hazard: the horizon.")] = 1.0,
    threshold: Annotated[
        float | None, typer.Option(help="hazard: the chance (0-1) of an incident in the area that alerts.")
    ] = None,
    gates: Annotated[str, typer.Option(help="corridor: these ways out, comma-separated (default all).")] = "",
    states: Annotated[
        str, typer.Option(help="control: the states a cell turning to alerts (default other_side,contested).")
    ] = "",
    items: Annotated[str, typer.Option(help="service: these utilities or services (default all).")] = "",
    point: Annotated[str | None, typer.Option(help="LON,LAT: the area is a disc around it.")] = None,
    radius_m: Annotated[float, typer.Option(help="The disc's radius.")] = 1000.0,
    polygon: Annotated[str | None, typer.Option(help="Or a GeoJSON Polygon (its text).")] = None,
    district: Annotated[str | None, typer.Option(help="Or a district of the city.")] = None,
    place: Annotated[str | None, typer.Option(help="Or a place the gazetteer knows.")] = None,
    name: Annotated[str, typer.Option(help="What to call it.")] = "alert",
    fmt: Annotated[str, typer.Option("--format", help="json or cap (CAP 1.2 XML).")] = "json",
    secret: Annotated[str, typer.Option(help="Signs each delivery (default: made, shown once).")] = "",
    owner: Annotated[str, typer.Option(help="Whose rule it is.")] = "cli",
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add an alert rule: an area, a trigger (at least N incidents of these kinds within H hours, the
    hazard above a chance, a way out's status, control, a service's status, new evacuation requests, the
    curfew window) → the webhook."""
    settings = cli_settings(db, database_url)
    try:
        shape = json.loads(polygon) if polygon else None
    except ValueError:
        raise typer.BadParameter("expected a GeoJSON Polygon", param_hint="--polygon") from None
    rule = RuleIn(city, name, _listed(kinds), at_least, hours, url, secret, fmt, shape,
                  parse_lonlat(point, "--point") if point else None, radius_m, trigger, district, place, threshold,
                  _listed(gates), _listed(states), _listed(items))  # fmt: skip
    with store_of(db, database_url) as store, refusing(polygon="--polygon", radius_m="--radius-m"):
        row = add_rule(store, settings, User(owner, "admin"), rule)
    view = rule_view(row, with_secret=True)
    out(json.dumps(view) if as_json else f"{row.rule_id}: {row.name} → {row.url} (secret, shown once: {row.secret})")


def _listed(text: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in text.split(",") if k.strip())


@alert_app.command("list")
def alert_list(db: DbOption = None, database_url: UrlOption = None) -> None:
    """Every rule, with its deliveries' states."""
    with store_of(db, database_url) as store:
        rules = store.read_rules()
        for r in rules:
            states = [d.status for d in store.read_deliveries([r.rule_id])]
            counts = {s: states.count(s) for s in sorted(set(states))}
            out(json.dumps({**rule_view(r), "deliveries": counts}))


@alert_app.command("test")
def alert_test(rule_id: Annotated[str, typer.Argument()], db: DbOption = None, database_url: UrlOption = None) -> None:
    """Send a test alert to the rule's webhook now (signed as any other)."""
    settings = cli_settings(db, database_url)
    with store_of(db, database_url) as store:
        rule = next((r for r in store.read_rules() if r.rule_id == rule_id), None)
        if rule is None:
            raise typer.BadParameter(f"no rule {rule_id!r}", param_hint="RULE_ID")
        now = time.time()
        sent = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
        body = json.dumps({"alert": f"test:{rule_id}:{int(now)}", "rule_id": rule_id, "rule": rule.name, "test": True,
                           "trigger": json.loads(rule.rule)["trigger"], "sent": sent, "area": json.loads(rule.area),
                           "headline": f"{rule.name}: a test", "headline_uk": f"{rule.name}: перевірка"})  # fmt: skip
        test = DeliveryRow(f"test:{rule_id}:{int(now)}", rule_id, body, now, 0, now, "pending", "")
        cursor = store.alert_cursor()
        store.advance_alerts(store.newest_batch() if cursor is None else cursor, [test])
        done = deliver(store, settings, rule, test, post, now)
    out(f"{rule_id}: {done.status}{' — ' + done.last_error if done.last_error else ''}")


@alert_app.command("remove")
def alert_remove(
    rule_id: Annotated[str, typer.Argument()],
    owner: Annotated[str, typer.Option(help="Whose rule it is.")] = "cli",
    db: DbOption = None,
    database_url: UrlOption = None,
) -> None:
    """Remove a rule (its pending deliveries with it)."""
    with store_of(db, database_url) as store:
        if not store.remove_rule(rule_id, owner):
            raise typer.BadParameter(f"no rule {rule_id!r} of {owner!r}", param_hint="RULE_ID")
    out(f"{rule_id} removed")


@app.command("worker")
def worker(
    once: Annotated[bool, typer.Option(help="One round, then stop.")] = False,
    interval: Annotated[float, typer.Option(min=0.05, help="Seconds between rounds.")] = 1.0,
    watch_s: Annotated[
        float, typer.Option(min=0.0, help="A watching rule (hazard, ways out, …) is looked at every so many seconds.")
    ] = WATCH_S,
    db: DbOption = None,
    database_url: UrlOption = None,
) -> None:
    """Evaluate the alert rules as reports arrive and deliver the alerts (runs until stopped)."""
    settings = cli_settings(db, database_url)
    with store_of(db, database_url) as store:
        while True:
            batches, tried = work_once(store, settings, watch_s=watch_s)
            if once:
                out(f"{batches} batches evaluated, {tried} deliveries tried")
                return
            if not batches and not tried:
                time.sleep(interval)
