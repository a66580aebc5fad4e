"""Reports in and out: ``init``, ``ingest``, ``reports``, ``stats``, ``demo``."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from greyzone.application.demo import load_coordination, make_demo
from greyzone.application.movement import KYIV
from greyzone.application.reports import (
    DEFAULT_BATCH_SIZE,
    ExportFormat,
    Format,
    Reject,
    export_reports,
    ingest_reports,
    stats_to_dict,
    write_rejects,
)
from greyzone.application.stores import store_name
from greyzone.cli.common import (
    DbOption,
    JsonOption,
    TimeHelp,
    UrlOption,
    app,
    byte_progress,
    cli_settings,
    count_progress,
    err,
    out,
    parse_bbox,
    parse_time,
    print_stats,
    refusing,
    store_of,
)
from greyzone.model.enums import Kind
from greyzone.settings import reporter_key
from greyzone.store.base import BatchResult, ReportQuery, StoreStats


@app.command()
def init(db: DbOption = None, database_url: UrlOption = None) -> None:
    """Create (or migrate) the store and its reporter key."""
    settings = cli_settings(db, database_url)
    with store_of(db, database_url, create=True) as store:
        version = store.schema_version()
    reporter_key(settings)
    out(f"store ready: {store_name(settings)} (schema version {version}); reporter key: {settings.key_path}")


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Files to ingest.", exists=True, dir_okay=False)],
    db: DbOption = None,
    fmt: Annotated[Format, typer.Option("--format", help="The files' format; auto recognises it.")] = Format.AUTO,
    rejects: Annotated[Path | None, typer.Option("--rejects", help="Write every rejected row here (CSV).")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Source for rows that name none.")] = None,
    gazetteer: Annotated[
        Path | None, typer.Option("--gazetteer", help="Folder of gazetteer files for place names.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Reports per transaction.")] = DEFAULT_BATCH_SIZE,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest report files; each batch lands whole or not at all, rejects are reported with reasons.
    ``--format text``: free-text messages, parsed (see `greyzone text ingest`)."""
    settings = cli_settings(db, database_url, gazetteer)
    if fmt is Format.TEXT:
        from greyzone.cli.text import take_files

        take_files(settings, files, source or "text", None, None, as_json, db, database_url, rejects)
        return
    kept: list[Reject] = []
    with store_of(db, database_url, create=True) as store, byte_progress(as_json) as progress:
        task = progress.add_task("ingest", total=sum(f.stat().st_size for f in files))
        done_before: dict[Path, int] = {}

        def on_batch(path: Path, _: BatchResult, position: int) -> None:
            progress.update(task, advance=position - done_before.get(path, 0), description=path.name)
            done_before[path] = position

        s = ingest_reports(
            store,
            settings,
            files,
            fmt=fmt,
            source=source,
            batch_size=batch_size,
            on_rejects=kept.extend,
            on_batch=on_batch,
        )
    if rejects is not None:
        write_rejects(kept, rejects)
    if as_json:
        out(json.dumps(s.as_dict()))
        return
    for r in kept[:10]:
        err.print(f"[yellow]rejected[/] {r}", highlight=False, soft_wrap=True)
    if len(kept) > 10:
        where = f" (all in {rejects})" if rejects else " (use --rejects PATH)"
        err.print(f"… and {len(kept) - 10} more rejects{where}")
    out(
        f"ingested {len(files)} file(s): {s.accepted} accepted, {s.duplicates} duplicates, {s.rejected} rejected,"
        f" {s.incidents} incidents"
    )


@app.command()
def reports(
    db: DbOption = None,
    since: Annotated[str | None, typer.Option(help=f"From this time ({TimeHelp}).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (exclusive).")] = None,
    kind: Annotated[list[Kind] | None, typer.Option(help="Only these kinds (repeat for several).")] = None,
    bbox: Annotated[str | None, typer.Option(help="LON_MIN,LAT_MIN,LON_MAX,LAT_MAX")] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv, geojson or jsonl")] = ExportFormat.CSV,
    limit: Annotated[int | None, typer.Option(min=1)] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of standard output.")
    ] = None,
    database_url: UrlOption = None,
) -> None:
    """Export stored reports (ordered by time)."""
    query = ReportQuery(
        since=parse_time(since, "--since"),
        until=parse_time(until, "--until"),
        kinds=frozenset(kind or ()),
        bbox=parse_bbox(bbox),
        limit=limit,
    )
    with store_of(db, database_url) as store:
        if output is None:
            n = export_reports(store, query, fmt, sys.stdout)
        else:
            with output.open("w", encoding="utf-8", newline="") as stream:
                n = export_reports(store, query, fmt, stream)
    err.print(f"exported {n} reports as {fmt.value}" + (f" to {output}" if output else ""))


@app.command()
def stats(db: DbOption = None, database_url: UrlOption = None, as_json: JsonOption = False) -> None:
    """What the store holds: reports and incidents by kind, sources, time span."""
    with store_of(db, database_url) as store:
        s = store.stats()
    if as_json:
        out(json.dumps(stats_to_dict(s)))
        return
    print_stats(s)
    out(f"{s.reports} reports, {s.incidents} incidents, {s.batches} batches, {s.rejects} rejects ({span(s)})")


def span(s: StoreStats) -> str:
    if s.first_observed is None or s.last_observed is None:
        return "empty"
    first, last = s.first_observed.astimezone(KYIV), s.last_observed.astimezone(KYIV)
    return f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} Kyiv time"


@app.command("demo-coordination")
def demo_coordination(
    db: Annotated[Path, typer.Option("--db", help="The demo store (its city imported).")] = Path("greyzone-demo.db"),
    folder: Annotated[Path, typer.Option("--dir", help="Where the files are written.")] = Path("demo-scenario"),
    city: Annotated[str, typer.Option(help="The demo's city.")] = "demo",
    seed: Annotated[int, typer.Option(help="Same seed, same files.")] = 7,
    end: Annotated[str, typer.Option(help="The demo's last moment (ISO 8601).")] = "2024-11-28T12:00+02:00",
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """The SYNTHETIC demo's coordination side: districts, service points, crews, needs, evacuation requests."""
    when = parse_time(end, "--end")
    assert when is not None
    with refusing():
        d = load_coordination(cli_settings(db, database_url), folder, city, seed=seed, end=when)
    if as_json:
        out(json.dumps(dataclasses.asdict(d)))
        return
    out(
        f"coordination demo: {d.districts} districts, {d.services} service points, {d.crews} crews, {d.needs} needs,"
        f" {d.requests} evacuation requests ({d.merged} asks merged into them, {d.flagged} flagged for vetting)"
    )


@app.command()
def demo(
    db: Annotated[Path, typer.Option("--db", help="The demo store (created anew).")] = Path("greyzone-demo.db"),
    folder: Annotated[Path, typer.Option("--dir", help="Where the scenario's files are written.")] = Path(
        "demo-scenario"
    ),
    seed: Annotated[int, typer.Option(help="Same seed, same scenario.")] = 7,
    days: Annotated[int, typer.Option(min=1, max=365)] = 28,
    front: Annotated[
        bool, typer.Option(help="Instead: a SYNTHETIC front of ~1,000 km (--reports of them), for front-wide runs.")
    ] = False,
    reports: Annotated[int, typer.Option(min=1, max=100_000_000, help="--front: how many reports.")] = 100_000,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Generate the SYNTHETIC demo scenario (a Pokrovsk-like city), ingest it, show what is stored."""
    if front:
        from greyzone.application.front import front_line_km, generate_front

        with store_of(db, database_url, create=True) as store, count_progress() as progress:
            task = progress.add_task("front", total=reports)
            stored = generate_front(store, reports, days=days, seed=seed,
                                    on_batch=lambda n: progress.update(task, completed=n))  # fmt: skip
        said = {"reports": stored, "line_km": round(front_line_km()), "days": days, "synthetic": True}
        out(json.dumps(said) if as_json else f"SYNTHETIC front: {stored:,} reports along {said['line_km']:,} km")
        return
    d = make_demo(cli_settings(db), folder, seed=seed, days=days)
    if as_json:
        answer = {
            "ingest": d.summary.as_dict(),
            "store": stats_to_dict(d.stats),
            "map": str(d.picture),
            "synthetic": True,
        }
        out(json.dumps(answer))
        return
    err.print(
        "[bold red]SYNTHETIC DEMO DATA[/] — generated, not real reports. Streets and gates for routing: "
        f"{d.files.streets}, {d.files.gates}"
    )
    for r in d.rejects:
        err.print(f"[yellow]rejected on purpose[/] {r}", highlight=False, soft_wrap=True)
    print_stats(d.stats)
    out(
        f"demo: {d.summary.accepted} reports accepted ({d.summary.incidents} incidents), {d.summary.rejected} rejects"
        f" (see {d.rejects_file}), store {db}, map {d.picture}"
    )
