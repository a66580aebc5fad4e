"""Shared fixtures. Real data is read in place from ../shared/data (skipped, with the reason, where absent)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from greyzone.store.memory import MemoryStore
from greyzone.store.sqlite import SqliteStore
from greyzone.store.throwaway import server_bin, throwaway_cluster

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(f"real data not present at {SHARED_DATA} (it is in CI): these tests read it in place")
    return SHARED_DATA


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on loopback (Debian's server, which `make test` installs); its URL."""
    bindir = server_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL's server is not installed: `make test` installs it (Debian package postgresql)")
        pytest.skip("PostgreSQL's server is not installed (`make test` installs the Debian package postgresql)")
    with throwaway_cluster(bindir) as url:
        yield url


_databases = itertools.count()


@pytest.fixture
def postgres_url(postgres: str) -> str:
    """A new, empty database in the throwaway cluster."""
    import psycopg

    name = f"t{os.getpid()}_{next(_databases)}"
    with psycopg.connect(f"{postgres}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{postgres}/{name}"


@pytest.fixture(params=["sqlite", "memory", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Every Store implementation: the same tests must pass on each (PostgreSQL really started)."""
    if request.param == "postgres":
        from greyzone.store.postgres import PostgresStore

        s: Any = PostgresStore.open(request.getfixturevalue("postgres_url"))
    else:
        s = SqliteStore.open(tmp_path / "t.db") if request.param == "sqlite" else MemoryStore()
    yield s
    s.close()
