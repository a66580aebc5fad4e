"""kill -9 during an ingest: the store reopens intact with every acknowledged batch (10 trials;
benchmarks/crash.py runs 100 and the row-at-a-time peer)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "crash.py"


@pytest.fixture(scope="module")
def crash() -> object:
    spec = importlib.util.spec_from_file_location("crash_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["crash_bench"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_ten_kills_leave_whole_batches_and_a_clean_store(crash: object) -> None:
    trials = crash.run_trials(10, seed=42)  # type: ignore[attr-defined]
    failures = [t.why for t in trials if not t.ok]
    assert not failures
    assert all(t.stored >= t.acked and t.stored % 500 == 0 for t in trials)
    assert all(t.after_rerun == 10_000 for t in trials)
