"""Front-wide: ingest, the hazard fit and the control map, one process against a Dask LocalCluster, as
the generated front grows.

For each size, the SYNTHETIC front (`greyzone demo --front`, 920 km, 30 % control observations, the rest
shelling falling off with the distance from the line, over 30 days):

- **ingest**: stored in a fresh SQLite file, and in a fresh PostgreSQL database of a throwaway cluster on
  loopback (the store's COPY of each batch's rows), reports a second; beside it the peer, the same
  prepared rows of the first batch inserted row by row (``executemany`` of an INSERT: the store before
  COPY), in the same run;
- **hazard fit** (shelling, res 7, hourly): the front-wide EM with its E-step in parts on the cluster
  against one process's fit on the same grid, the parameters compared: equal when every parameter is
  within 1e-6 of its vector's largest value (the largest difference relative to each value itself is
  printed too);
- **control map** (res 7): the parts on the cluster against one process over the whole front, cell by
  cell — the caller reading the store once and sending each part its observations, and each task
  reading its own part and ring from the store (timed too; the same cells);
- the workers' peak memory (resident, each worker process's own most: ``VmHWM``, see ``peak_mb``).

    python benchmarks/front.py [--reports 100000] [--sizes 100000,1000000] [--workers 2] [--json] [--no-pg]
    python benchmarks/front.py --reports 10000000 --ingest-only    # the ingest alone
    python benchmarks/front.py --reports 10000000 --control-only   # the SQLite ingest and the control map

``--reports N --json`` runs one size and prints one object: reports, single_s, cluster_s, workers, equal
(single_s / cluster_s: the hazard fit and the control map together; equal: both equal), and the parts'
figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from greyzone.application.front import front_control, front_hazard, generate_front, single_control
from greyzone.model.enums import Kind
from greyzone.store.sqlite import SqliteStore

AT = datetime(2024, 11, 28, tzinfo=UTC)


def peak_mb() -> float:
    """This process's own peak resident memory: the kernel's high-water mark of its address space
    (``VmHWM``). Not ``getrusage``'s ``ru_maxrss``: a Dask worker is started by fork and exec from the
    caller, and ``ru_maxrss`` keeps the caller's size at that fork (a worker started after the 10^7
    ingest "peaked" at the caller's 2.8 GB before it held anything)."""
    with contextlib.suppress(OSError), Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # not Linux: the nearest there is


def pg_ingest(reports: int) -> dict[str, Any]:
    """The front into a fresh PostgreSQL database (COPY), and the row-by-row INSERT peer on one batch."""
    import psycopg

    from greyzone.demo.front import front_rows
    from greyzone.ingest.build import BuildContext, build_batch
    from greyzone.ingest.records import RawRecord
    from greyzone.store.postgres import PostgresStore
    from greyzone.store.rows import ROW_COLUMNS, prepare
    from greyzone.store.throwaway import server_bin, throwaway_cluster

    bindir = server_bin()
    if bindir is None:
        print("PostgreSQL's server is not installed: no PostgreSQL ingest figure (`make test` installs it)")
        return {}
    with throwaway_cluster(bindir) as url:
        with psycopg.connect(url + "/postgres", autocommit=True) as c:
            c.execute("CREATE DATABASE copy_in")
            c.execute("CREATE DATABASE rows_in")
        with PostgresStore.open(url + "/copy_in") as store:
            start = time.perf_counter()
            generate_front(store, reports, days=30)
            copy_s = time.perf_counter() - start
        rows = [RawRecord("front", i + 1, r) for i, r in enumerate(front_rows(min(reports, 50_000), days=30))]
        made, _ = build_batch(rows, BuildContext())
        prepared = prepare(made)
        insert = (f"INSERT INTO reports (seq, {', '.join(ROW_COLUMNS)}) "
                  f"VALUES ({', '.join(['%s'] * (len(ROW_COLUMNS) + 1))})")  # fmt: skip
        copy = f"COPY reports (seq, {', '.join(ROW_COLUMNS)}) FROM STDIN"
        with PostgresStore.open(url + "/rows_in"):
            pass  # the schema
        timings = {}
        for name in ("rows", "copy"):
            with psycopg.connect(url + "/rows_in") as c, c.cursor() as cur:
                cur.execute("TRUNCATE reports CASCADE")
                start = time.perf_counter()
                if name == "rows":
                    cur.executemany(insert, [(k + 1, *r) for k, r in enumerate(prepared.rows)])
                else:
                    with cur.copy(copy) as stream:
                        for k, r in enumerate(prepared.rows):
                            stream.write_row((k + 1, *r))
                c.commit()
                timings[name] = time.perf_counter() - start
    n = len(prepared.rows)
    return {
        "pg_ingest_reports_per_s": round(reports / copy_s),
        "pg_copy_rows_per_s": round(n / timings["copy"]),
        "pg_insert_rows_per_s": round(n / timings["rows"]),
    }


def differences(a: dict[str, Any], b: dict[str, Any]) -> tuple[float, float]:
    """The largest difference of a fitted parameter relative to (1) the parameter itself, (2) the largest
    value of its vector (μ over the cells, θ over the rings, …): a near-zero θ of a far ring, which
    the data barely determine, moves by a larger share of itself than the vector's scale."""
    own, scale = 0.0, 0.0
    for k in ("mu", "profile", "trend", "theta", "q"):
        x, y = np.asarray(a[k], dtype=float), np.asarray(b[k], dtype=float)
        d = np.abs(x - y)
        own = max(own, float(np.max(d / np.maximum(np.abs(x), 1e-300))))
        scale = max(scale, float(np.max(d) / max(float(np.max(np.abs(x))), 1e-300)))
    return own, scale


def ingest_only(reports: int, pg: bool, sqlite: bool = True) -> dict[str, Any]:
    """The ingest alone (a size whose fits would not fit the time at hand): SQLite, then PostgreSQL."""
    out: dict[str, Any] = {"reports": reports}
    if sqlite:
        folder = Path(tempfile.mkdtemp(prefix="greyzone-front-"))
        with SqliteStore.open(folder / "front.db") as store:
            start = time.perf_counter()
            generate_front(store, reports, days=30)
            ingest_s = time.perf_counter() - start
        out |= {"ingest_reports_per_s": round(reports / ingest_s),
                "sqlite_mb": round(sum(f.stat().st_size for f in folder.iterdir()) / 1e6)}  # fmt: skip
        shutil.rmtree(folder)
    return out | (pg_ingest(reports) if pg else {}) | {"peak_mb": round(peak_mb())}


def control_only(reports: int, workers: int, res: int) -> dict[str, Any]:
    """The ingest into SQLite and the control map alone, one process against the cluster (the caller reading
    the store): a size whose hazard fits would not fit the time at hand."""
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
                parts = front_control(store, AT, res, scheduler=cluster.scheduler_address, in_tasks=False)
                worker_mb = max(client.run(peak_mb).values())
        finally:
            cluster.close()
        one = single_control(store, AT, res, parts.cells)
    shutil.rmtree(folder)
    where = np.searchsorted(parts.cells, one.cells)
    equal = bool(np.array_equal(parts.states[where], one.states))
    return {"reports": reports, "ingest_reports_per_s": round(reports / ingest_s),
            "control_single_s": round(one.seconds, 2), "control_cluster_s": round(parts.seconds, 2),
            "workers": parts.workers, "control_equal": equal, "parts": parts.parts, "cells": len(parts.cells),
            "worker_peak_mb": round(worker_mb), "single_peak_mb": round(peak_mb())}  # fmt: skip


def said(what: str, seconds: float, unit: str = "s") -> None:
    """A phase's time (or a figure in ``unit``) on stderr as it ends (a long size's figures survive a stop)."""
    print(f"  {datetime.now(UTC):%H:%M:%S} {what}: {seconds:,.1f} {unit}", file=sys.stderr, flush=True)


def one_size(reports: int, workers: int, res: int, pg: bool, tasks_read: bool = True) -> dict[str, Any]:
    from dask.distributed import Client, LocalCluster

    folder = Path(tempfile.mkdtemp(prefix="greyzone-front-"))
    shelling = frozenset({Kind.SHELLING})
    with SqliteStore.open(folder / "front.db") as store:
        start = time.perf_counter()
        generate_front(store, reports, days=30)
        ingest_s = time.perf_counter() - start
        said(f"{reports:,} reports stored in SQLite", ingest_s)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=40)  # fmt: skip
        try:
            with Client(cluster) as client:
                fitted = front_hazard(store, shelling, res, scheduler=cluster.scheduler_address)
                said("hazard fit, cluster", float(fitted.summary["seconds"]))
                hazard_mb = max(client.run(peak_mb).values())
                said("a worker's peak memory after the hazard fit", hazard_mb, "MB")
                parts = front_control(store, AT, res, scheduler=cluster.scheduler_address, in_tasks=False)
                said("control map, cluster", parts.seconds)
                in_tasks = (
                    front_control(store, AT, res, scheduler=cluster.scheduler_address, in_tasks=True)
                    if tasks_read else parts
                )  # fmt: skip
                if tasks_read:
                    said("control map, cluster, tasks reading the store", in_tasks.seconds)
                worker_mb = max(client.run(peak_mb).values())
                said("a worker's peak memory after the control map", worker_mb, "MB")
        finally:
            cluster.close()
        one = single_control(store, AT, res, parts.cells)
        said("control map, one process", one.seconds)
        fitted_one = front_hazard(store, shelling, res, single=True)
        said("hazard fit, one process", float(fitted_one.summary["seconds"]))
    shutil.rmtree(folder)
    where = np.searchsorted(parts.cells, one.cells)
    hazard_single, hazard_cluster = float(fitted_one.summary["seconds"]), float(fitted.summary["seconds"])
    control_equal = bool(np.array_equal(parts.states[where], one.states)) and bool(
        np.array_equal(in_tasks.cells, parts.cells) and np.array_equal(in_tasks.states, parts.states)
    )
    own, scale = differences(fitted_one.model.data, fitted.model.data)
    hazard_equal = scale <= 1e-6
    single_s, cluster_s = hazard_single + one.seconds, hazard_cluster + parts.seconds
    return {
        "reports": reports, "single_s": round(single_s, 2), "cluster_s": round(cluster_s, 2),
        "workers": parts.workers, "equal": control_equal and hazard_equal,
        "ingest_reports_per_s": round(reports / ingest_s), **(pg_ingest(reports) if pg else {}),
        "hazard_single_s": round(hazard_single, 2), "hazard_cluster_s": round(hazard_cluster, 2),
        "hazard_equal": hazard_equal, "hazard_rel_diff_of_scale": scale, "hazard_rel_diff_elementwise": own,
        "hazard_iterations": fitted.summary["iterations"], "hazard_iterations_single": fitted_one.summary["iterations"],
        "hazard_events": fitted.summary["events"], "hazard_cells": fitted.grid_cells,
        "hazard_parts": fitted.summary["parts"],
        "control_single_s": round(one.seconds, 2), "control_cluster_s": round(parts.seconds, 2),
        "control_cluster_read_in_tasks_s": round(in_tasks.seconds, 2) if tasks_read else None,
        "control_equal": control_equal, "parts": parts.parts, "cells": len(parts.cells),
        "cells_compared": len(one.cells), "speedup": round(single_s / cluster_s, 2),
        "worker_peak_mb": round(worker_mb), "worker_peak_hazard_mb": round(hazard_mb),
        "single_peak_mb": round(peak_mb()),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=None, help="one size")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--res", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-pg", action="store_true", help="leave out the PostgreSQL ingest")
    parser.add_argument("--ingest-only", action="store_true", help="the ingest alone, as JSON")
    parser.add_argument("--control-only", action="store_true", help="the SQLite ingest and the control map, as JSON")
    parser.add_argument("--no-sqlite", action="store_true", help="--ingest-only: PostgreSQL alone")
    parser.add_argument("--no-tasks-read", action="store_true", help="leave out the control map read by the tasks")
    args = parser.parse_args()
    sizes = [args.reports] if args.reports else [int(s) for s in args.sizes.split(",")]
    if args.ingest_only or args.control_only:
        alone = [
            ingest_only(n, not args.no_pg, not args.no_sqlite)
            if args.ingest_only
            else control_only(n, args.workers, args.res)
            for n in sizes
        ]
        print(json.dumps(alone))
        return
    rows = [one_size(n, args.workers, args.res, not args.no_pg, not args.no_tasks_read) for n in sizes]
    if args.json:
        print(json.dumps(rows[0] if args.reports else rows))
        return
    print(f"{'reports':>10} {'SQLite/s':>9} {'PG COPY/s':>10} {'rows/s: COPY':>13} {'INSERT':>8}")
    for r in rows:
        print(f"{r['reports']:>10,} {r['ingest_reports_per_s']:>9,} {r.get('pg_ingest_reports_per_s', 0):>10,} "
              f"{r.get('pg_copy_rows_per_s', 0):>13,} {r.get('pg_insert_rows_per_s', 0):>8,}")  # fmt: skip
    print(f"\n{'reports':>10} {'what':>8} {'one process':>12} {'cluster':>9} {'workers':>8} {'speed-up':>9} "
          f"{'per worker':>11} {'equal':>6} {'worker MB':>10}")  # fmt: skip
    for r in rows:
        for what in ("hazard", "control"):
            one, many = r[f"{what}_single_s"], r[f"{what}_cluster_s"]
            ratio = one / many
            print(f"{r['reports']:>10,} {what:>8} {one:>11.1f}s {many:>8.1f}s {r['workers']:>8} {ratio:>8.2f}× "
                  f"{ratio / r['workers']:>10.2f}× {r[f'{what}_equal']!s:>6} {r['worker_peak_mb']:>10,}")  # fmt: skip
        print(f"{'':>10} hazard: {r['hazard_iterations']} EM iterations (one process {r['hazard_iterations_single']}),"
              f" largest difference {r['hazard_rel_diff_of_scale']:.1e} of its vector's largest value,"
              f" {r['hazard_rel_diff_elementwise']:.1e} of its own")  # fmt: skip
        if r["control_cluster_read_in_tasks_s"] is not None:
            print(f"{'':>10} control: the cluster's tasks each reading their ring of parts from the store:"
                  f" {r['control_cluster_read_in_tasks_s']:.1f} s"
                  " (above: the caller reads once and sends each its own)")  # fmt: skip


if __name__ == "__main__":
    main()
