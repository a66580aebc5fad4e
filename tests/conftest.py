"""Shared fixtures. Real data is read in place from ../shared/data (skipped, with the reason, where absent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from greyzone.store.memory import MemoryStore
from greyzone.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(f"real data not present at {SHARED_DATA} (it is in CI): these tests read it in place")
    return SHARED_DATA


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteStore | MemoryStore]:
    """Every Store implementation: the same tests must pass on each."""
    s: SqliteStore | MemoryStore = SqliteStore.open(tmp_path / "t.db") if request.param == "sqlite" else MemoryStore()
    yield s
    s.close()
