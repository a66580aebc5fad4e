"""Ingest throughput: a generated 1,000,000-report CSV into SQLite, validation and H3 included.

greyzone: `ingest_files` (columnar validation, incident linking, batches of 20,000 per
transaction, a second process reading and validating while this one writes). The peer, on the
same file in the same run: the row-at-a-time loop a user would otherwise write — csv.DictReader →
a validated `Report` per row (the same rules, H3 included) → one INSERT per row, in one
transaction (measured on the first 50,000 rows: it is linear, and slow).

Peak memory is the largest resident set of each process (the writer and the reader).

    python benchmarks/ingest.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import csv
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from greyzone.ingest.runner import DEFAULT_BATCH_SIZE

KINDS = np.array(
    ["shelling", "shelling", "shelling", "fpv_strike", "glide_bomb", "drone_sighting", "mine_uxo", "clash"]
)
SOURCES = np.array(["police", "volunteers", "telegram", "city-administration"])
PEER_ROWS = 50_000


def generate(path: Path, rows: int, seed: int = 3, chunk: int = 100_000) -> None:
    """Time-ordered reports over a year in the ±40 km box, 10 % re-reported by another source.

    Written in chunks of consecutive time, so that generating uses little memory."""
    rng = np.random.default_rng(seed)
    year = 365 * 86_400
    with path.open("w", encoding="utf-8") as fh:
        fh.write("kind,observed_at,lon,lat,location_precision_m,source,credibility,text\n")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            t0 = 1_704_067_200 + year * start // rows
            t = np.sort(rng.uniform(t0, t0 + year * n // rows, n)).astype(np.int64)
            lon, lat = rng.uniform(36.63, 37.72, n), rng.uniform(47.92, 48.64, n)
            kind = KINDS[rng.integers(0, len(KINDS), n)]
            source = SOURCES[rng.integers(0, 2, n)]
            echo = rng.random(n) < 0.1  # another source reports the same incident two minutes later
            t = np.where(echo, np.roll(t, 1) + 120, t)
            lon, lat = np.where(echo, np.roll(lon, 1) + 0.0005, lon), np.where(echo, np.roll(lat, 1), lat)
            kind, source = np.where(echo, np.roll(kind, 1), kind), np.where(echo, "telegram", source)
            precision = rng.choice(np.array(["50", "100", "250", "1000"]), n)
            times = np.datetime_as_string(t.astype("datetime64[s]"), unit="s")
            fh.writelines(
                f"{k},{tm}Z,{x:.6f},{y:.6f},{p},{s},0.6,report {start + i}\n"
                for i, (k, tm, x, y, p, s) in enumerate(zip(kind, times, lon, lat, precision, source, strict=True))
            )


def run_greyzone(csv_path: Path, db: Path, batch_size: int) -> tuple[int, float, list[float]]:
    from greyzone.ingest.runner import ingest_files
    from greyzone.store.sqlite import SqliteStore

    rates: list[float] = []
    last = [time.perf_counter(), 0]
    total = [0]

    def on_batch(path: Path, result: object, position: int) -> None:
        total[0] += result.accepted  # type: ignore[attr-defined]
        now = time.perf_counter()
        if total[0] - last[1] >= 100_000:
            rates.append((total[0] - last[1]) / (now - last[0]))
            last[:] = [now, total[0]]

    start = time.perf_counter()
    with SqliteStore.open(db) as store:
        summary = ingest_files([csv_path], store, on_batch=on_batch, parallel=True, batch_size=batch_size)
    elapsed = time.perf_counter() - start
    return summary.accepted, elapsed, rates


def run_peer(csv_path: Path, db: Path, rows: int) -> tuple[int, float]:
    """The naive loop: one validated Report and one INSERT per row (one transaction)."""
    from greyzone.model import Kind, Report, TimePrecision

    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE reports (id BLOB PRIMARY KEY, kind TEXT, observed_at TEXT, lon REAL, lat REAL,"
        " location_precision_m REAL, h3_r5 INTEGER, h3_r7 INTEGER, h3_r9 INTEGER, source TEXT,"
        " credibility REAL, text TEXT)"
    )
    for name, cols in (("t", "observed_at"), ("k", "kind, observed_at"), ("c", "h3_r9")):
        conn.execute(f"CREATE INDEX {name} ON reports ({cols})")
    start = time.perf_counter()
    n = 0
    with csv_path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            r = Report(
                kind=Kind(row["kind"]),
                observed_at=datetime.fromisoformat(row["observed_at"]),
                time_precision=TimePrecision.EXACT,
                lon=float(row["lon"]),
                lat=float(row["lat"]),
                location_precision_m=float(row["location_precision_m"]),
                source=row["source"],
                credibility=float(row["credibility"]),
                text=row["text"],
            )
            conn.execute(
                "INSERT OR IGNORE INTO reports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    r.report_id.bytes,
                    r.kind.value,
                    r.observed_at.isoformat(),
                    r.lon,
                    r.lat,
                    r.location_precision_m,
                    *r.cells,
                    r.source,
                    r.credibility,
                    r.text,
                ),
            )
            n += 1
            if n >= rows:
                break
    conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return n, elapsed


def peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="reuse/keep the generated CSV here")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.rows)
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = args.keep or Path(tmp) / "reports.csv"
        if not csv_path.exists():  # in a child process, so that its memory is not counted as ours
            t = time.perf_counter()
            subprocess.run(
                [sys.executable, __file__, "--rows", str(args.rows), "--generate", str(csv_path)], check=True
            )
            print(
                f"generated {args.rows:,} reports ({csv_path.stat().st_size / 1e6:.0f} MB)"
                f" in {time.perf_counter() - t:.1f} s"
            )
        base_mb = peak_mb(resource.RUSAGE_SELF)
        accepted, elapsed, rates = run_greyzone(csv_path, Path(tmp) / "greyzone.db", args.batch_size)
        writer_mb, reader_mb = peak_mb(resource.RUSAGE_SELF), peak_mb(resource.RUSAGE_CHILDREN)  # children: the reader
        peer_n, peer_s = run_peer(csv_path, Path(tmp) / "peer.db", min(PEER_ROWS, args.rows))
    ours, theirs = accepted / elapsed, peer_n / peer_s
    print(f"\ningest of {args.rows:,} reports into SQLite (validation, H3 and incident linking included)")
    print(f"{'':<44} {'reports/s':>10} {'seconds':>9}")
    print(f"{f'greyzone ingest_files (batches of {args.batch_size:,})':<44} {ours:>10,.0f} {elapsed:>9.1f}")
    print(f"{'peer: row-at-a-time Report + INSERT':<44} {theirs:>10,.0f} {peer_s:>9.1f}   (first {peer_n:,} rows)")
    print(f"ratio: {ours / theirs:.1f}x")
    if rates:
        print(f"sustained: slowest 100,000-report stretch {min(rates):,.0f} reports/s, fastest {max(rates):,.0f}")
        print("by stretch (thousand reports/s):", " ".join(f"{r / 1000:.0f}" for r in rates))
    print(
        f"peak memory: writer {writer_mb:.0f} MB (of which {base_mb:.0f} MB before ingest), reader {reader_mb:.0f} MB"
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
