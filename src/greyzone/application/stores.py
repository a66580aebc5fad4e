"""Which store the settings name: the PostgreSQL server store when a database URL is set, else the SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, Self

from greyzone.errors import SettingsError
from greyzone.settings import Settings
from greyzone.store.base import AccessStore, CoordinationStore, Store

#: What a store raises when its file or server fails after it opened (a damaged or foreign file, a lost
#: connection): the edges say so in one line.
STORE_FAILURES: tuple[type[Exception], ...] = (sqlite3.DatabaseError,)


class AppStore(Store, AccessStore, CoordinationStore, Protocol):
    """What the application layer asks of a store: reports, cities, models, users and the audit log,
    and the coordination tables."""

    def schema_version(self) -> int: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


def open_store(settings: Settings, *, create: bool = True) -> AppStore:
    """Open (and migrate) the store; ``create=False`` refuses to make a new SQLite file."""
    if settings.database_url:
        try:
            from greyzone.store.postgres import PostgresStore
        except ImportError as exc:  # psycopg is a dependency; a broken install says what to do
            raise SettingsError(f"the PostgreSQL store needs psycopg 3 (pip install 'psycopg[binary]'): {exc}") from exc
        return PostgresStore.open(settings.database_url)
    from greyzone.store.sqlite import SqliteStore

    return SqliteStore.open(settings.db_path, create=create)


@contextmanager
def opened(settings: Settings, *, create: bool = True) -> Iterator[AppStore]:
    """The store, closed after use."""
    store = open_store(settings, create=create)
    try:
        yield store
    finally:
        store.close()


def store_name(settings: Settings) -> str:
    """Where the store is, for people (never the URL's password)."""
    return "PostgreSQL" if settings.database_url else str(settings.db_path)


def reopened(store: AppStore) -> Settings | None:
    """How another process (a Dask worker) opens the same store: its PostgreSQL URL or its SQLite file;
    None for a store in memory."""
    from greyzone.store.postgres import PostgresStore
    from greyzone.store.sqlite import SqliteStore

    if isinstance(store, PostgresStore):
        return Settings(database_url=store.url)
    if isinstance(store, SqliteStore) and store.path != ":memory:":
        return Settings(db_path=Path(store.path))
    return None


def is_file_store(store: AppStore) -> bool:
    """Whether the store is an SQLite file (one machine's) rather than a server."""
    from greyzone.store.sqlite import SqliteStore

    return isinstance(store, SqliteStore)
