"""Front-wide control maps: one process against a Dask LocalCluster, on the generated front, as it grows.

For each size: the SYNTHETIC front (`greyzone demo --front`, 920 km, 30 % control observations, the rest
shelling falling off with the distance from the line) stored in a fresh SQLite file (reports a second);
the control map at H3 res 7 of every part of the front by one process over the whole front (the peer:
``fused_control``) and by the parts on a LocalCluster (``--workers``, one thread each), both timed in the
same run, the cells compared one by one; the workers' peak memory.

    python benchmarks/front.py [--reports 100000] [--sizes 100000,1000000] [--workers 2] [--json]

``--reports N --json`` runs one size and prints one object: reports, single_s, cluster_s, workers, equal.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from greyzone.application.front import front_control, generate_front, single_control
from greyzone.store.sqlite import SqliteStore

AT = datetime(2024, 11, 28, tzinfo=UTC)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def one_size(reports: int, workers: int, res: int) -> dict[str, Any]:
    from dask.distributed import Client, LocalCluster

    folder = Path(tempfile.mkdtemp(prefix="greyzone-front-"))
    with SqliteStore.open(folder / "front.db") as store:
        start = time.perf_counter()
        generate_front(store, reports, days=30)
        ingest_s = time.perf_counter() - start
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=40)  # fmt: skip
        try:
            with Client(cluster) as client:
                parts = front_control(store, AT, res, scheduler=cluster.scheduler_address)
                worker_mb = max(client.run(peak_mb).values())
        finally:
            cluster.close()
        one = single_control(store, AT, res, parts.cells)
    where = np.searchsorted(parts.cells, one.cells)
    return {
        "reports": reports, "ingest_reports_per_s": round(reports / ingest_s), "single_s": round(one.seconds, 2),
        "cluster_s": round(parts.seconds, 2), "workers": parts.workers, "parts": parts.parts,
        "cells": len(parts.cells), "cells_compared": len(one.cells),
        "equal": bool(np.array_equal(parts.states[where], one.states)),
        "speedup": round(one.seconds / parts.seconds, 2), "worker_peak_mb": round(worker_mb),
        "single_peak_mb": round(peak_mb()),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=None, help="one size")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--res", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [args.reports] if args.reports else [int(s) for s in args.sizes.split(",")]
    rows = [one_size(n, args.workers, args.res) for n in sizes]
    if args.json:
        print(json.dumps(rows[0] if args.reports else rows))
        return
    print(f"{'reports':>10} {'ingest/s':>9} {'one process':>12} {'cluster':>9} {'workers':>8} {'speed-up':>9} "
          f"{'per worker':>11} {'equal':>6} {'worker MB':>10}")  # fmt: skip
    for r in rows:
        print(f"{r['reports']:>10,} {r['ingest_reports_per_s']:>9,} {r['single_s']:>11.1f}s {r['cluster_s']:>8.1f}s "
              f"{r['workers']:>8} {r['speedup']:>8.2f}× {r['speedup'] / r['workers']:>10.2f}× {r['equal']!s:>6} "
              f"{r['worker_peak_mb']:>10,}")  # fmt: skip


if __name__ == "__main__":
    main()
