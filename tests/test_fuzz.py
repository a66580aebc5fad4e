"""Every file adapter under mutation (a small budget here; `benchmarks/fuzz.py` runs the long one): no
exception escapes but a whole-file error naming the file, and every record is accounted for."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzing import Seed, run, seeds

SEEDS = {s.fmt.value: s for s in seeds()}


def check(ok: bool, what: str) -> None:
    assert ok, what


@pytest.mark.parametrize("fmt", sorted(SEEDS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_an_adapter_survives_any_mutation_and_accounts_for_every_record(fmt: str, seed: int, structural: bool) -> None:
    item: Seed = SEEDS[fmt]
    with tempfile.TemporaryDirectory() as folder:
        run(Path(folder), item, random.Random(seed), structural, check)


def test_every_format_has_a_seed(shared_data: Path) -> None:
    assert {"csv", "jsonl", "geojson", "deepstate", "acled", "viina", "settlements", "ucdp", "alerts"} <= set(SEEDS)
