"""What every command shares: the root app, the store options, the parsers of times, boxes and
points, output, progress bars, and the one translation of application errors into usage errors."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from greyzone.application.movement import KYIV
from greyzone.application.stores import STORE_FAILURES, AppStore, opened
from greyzone.errors import GreyzoneError, InputError, NotAvailableError
from greyzone.settings import Settings
from greyzone.store.base import StoreStats

app = typer.Typer(add_completion=False, no_args_is_help=True, help="greyzone: reports in, stored safely, out again.")
err = Console(stderr=True)

DbOption = Annotated[
    Path | None, typer.Option("--db", help="The store (SQLite file). Default ./greyzone.db or $GREYZONE_DB.")
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="postgresql://… (or $GREYZONE_DATABASE_URL): the server store instead of the SQLite file; --db wins "
        "over the environment's URL.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary instead.")]
TimeHelp = "ISO 8601 (2024-11-28T12:00+02:00); a time without an offset is Kyiv time, a date 00:00 Kyiv time"


def cli_settings(db: Path | None, database_url: str | None = None, gazetteer: Path | None = None) -> Settings:
    """Settings from the environment and the flags: ``--database-url``, else ``--db``, else the environment."""
    settings = Settings.from_env(db_path=db, gazetteer_dir=gazetteer)
    if database_url:
        return replace(settings, database_url=database_url)
    return replace(settings, database_url=None) if db is not None else settings


@contextmanager
def store_of(db: Path | None, database_url: str | None = None, *, create: bool = False) -> Iterator[AppStore]:
    """The store the flags name (an existing SQLite file unless ``create``)."""
    with opened(cli_settings(db, database_url), create=create) as store:
        yield store


@contextmanager
def refusing(missing: str | None = None, **hints: str) -> Iterator[None]:
    """The application's InputError becomes a usage error (exit 2) naming its option (``--PARAM``, or the
    hint given for it); NotAvailableError one on ``missing`` (nothing to answer from yet: what to run first)."""
    try:
        yield
    except InputError as exc:
        raise typer.BadParameter(str(exc), param_hint=hints.get(exc.param, f"--{exc.param}")) from None
    except NotAvailableError as exc:
        raise typer.BadParameter(str(exc), param_hint=missing) from None


def out(line: str) -> None:
    sys.stdout.write(line + "\n")


def parse_time(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 time or date (none given: None). One without an offset is the city's local time
    (Kyiv), and the command says so on stderr with the offset it took (never a silent guess)."""
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected an ISO 8601 time or date such as 2024-11-03; got {value!r}", param_hint=name
        ) from None
    if t.tzinfo is not None:
        return t
    local = t.replace(tzinfo=KYIV)
    err.print(f"{name} {value} taken as Kyiv time: {local.isoformat()} (give an offset, e.g. Z, to say otherwise)")
    return local


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """LON_MIN,LAT_MIN,LON_MAX,LAT_MAX (none given: None)."""
    if value is None:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in value.split(","))
    except ValueError:
        raise typer.BadParameter(
            f"expected LON_MIN,LAT_MIN,LON_MAX,LAT_MAX; got {value!r}", param_hint="--bbox"
        ) from None
    if not (x0 < x1 and y0 < y1):
        raise typer.BadParameter("expected LON_MIN < LON_MAX and LAT_MIN < LAT_MAX", param_hint="--bbox")
    return x0, y0, x1, y1


def parse_lonlat(value: str, name: str) -> tuple[float, float]:
    """LON,LAT in WGS84 degrees."""
    try:
        lon, lat = (float(v) for v in value.split(","))
    except ValueError:
        raise typer.BadParameter(f"expected LON,LAT; got {value!r}", param_hint=name) from None
    return lon, lat


def byte_progress(quiet: bool) -> Progress:
    """A progress bar over bytes read (on a terminal only)."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=err, disable=quiet or not err.is_terminal, transient=True)


def count_progress() -> Progress:
    """A progress bar over steps (on a terminal only)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    return Progress(*columns, console=err, disable=not err.is_terminal, transient=True)


def print_stats(s: StoreStats) -> None:
    console = Console()
    table = Table(title="reports by kind", title_justify="left")
    for column, justify in (("kind", "left"), ("reports", "right"), ("incidents", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for k, (n, m) in s.by_kind.items():
        table.add_row(k, str(n), str(m))
    console.print(table)
    sources = Table(title="reports by source", title_justify="left")
    sources.add_column("source")
    sources.add_column("reports", justify="right")
    for name, n in list(s.by_source.items())[:15]:
        sources.add_row(name, str(n))
    console.print(sources)


def main() -> None:
    """Entry point: our errors become one clear line and exit 1; usage errors exit 2 (typer's)."""
    try:
        app()
    except GreyzoneError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except STORE_FAILURES as exc:  # a damaged or foreign store file, met after it opened
        err.print(
            f"[bold red]error:[/] the store failed: {exc} (is --db a greyzone store of this version?)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)


def kyiv_text(when: datetime | str) -> str:
    """A time as people in the city read it: 24-hour Kyiv time, labelled (an ISO 8601 text with its
    offset, or a datetime with its zone)."""
    moment = datetime.fromisoformat(when) if isinstance(when, str) else when
    return f"{moment.astimezone(KYIV):%Y-%m-%d %H:%M} Kyiv time"
