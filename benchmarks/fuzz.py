"""The file adapters under a long fuzzing run: every format's seed mutated (one hostile value, or broken
structure), ingested, and checked (no exception but a whole-file IngestError; with the structure kept,
every record accounted for). Prints executions and findings per adapter.

    python benchmarks/fuzz.py [--executions N] [--seed S]     (N per adapter; default 20,000)

The harness is the tests' (``tests/fuzzing.py``, which ``tests/test_fuzz.py`` runs with a small budget).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fuzzing import run, seeds


def recorder(found: list[str]) -> Callable[[bool, str], None]:
    def check(ok: bool, what: str) -> None:
        if not ok:
            found.append(what)

    return check


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executions", type=int, default=20_000, help="per adapter")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    total_findings = 0
    print(f"{'adapter':<12} {'executions':>10} {'per s':>8} {'exceptions':>10} {'unaccounted':>11}")
    with tempfile.TemporaryDirectory(prefix="greyzone-fuzz-") as folder:
        for seed in seeds():
            exceptions: Counter[str] = Counter()
            unaccounted: list[str] = []
            t0 = time.perf_counter()
            check = recorder(unaccounted)
            for i in range(args.executions):
                try:
                    run(Path(folder), seed, rng, structural=i % 2 == 1, check=check)
                except Exception as exc:  # a finding: any exception that escapes the adapter
                    key = f"{type(exc).__name__} at {traceback.extract_tb(exc.__traceback__)[-1].name}"
                    exceptions[key] += 1
            seconds = time.perf_counter() - t0
            found = sum(exceptions.values()) + len(unaccounted)
            total_findings += found
            rate = args.executions / seconds
            raised = sum(exceptions.values())
            print(f"{seed.fmt.value:<12} {args.executions:>10,} {rate:>8,.0f} {raised:>10} {len(unaccounted):>11}")
            for key, n in exceptions.most_common(5):
                print(f"    {n} × {key}")
            for what in unaccounted[:3]:
                print(f"    unaccounted: {what[:200]}")
    print(f"findings: {total_findings}")
    sys.exit(1 if total_findings else 0)


if __name__ == "__main__":
    main()
