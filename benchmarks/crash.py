"""Crash safety: kill -9 at a random moment during a 10,000-report ingest, reopen, check.

Each trial starts a child process that ingests a 10,000-report CSV in batches of 500 and prints
"ack BATCH_ID TOTAL" after each commit. The parent kills it (SIGKILL) at a random moment, then
reopens the store and checks: PRAGMA integrity_check = ok; every acknowledged batch is present,
whole; no batch is present in part; the store takes new writes; and re-running the same ingest to
the end leaves exactly 10,000 reports (what a person does after a crash).

The peer is the row-at-a-time loop a user would otherwise write (csv.reader → INSERT → commit per
row, default SQLite settings), killed and re-run the same way: it survives the kill too (SQLite is
robust), but is left with a half-imported file and no record of where it stopped, and its re-run
stores the rows before the kill twice. Its trials are fewer (it is ~20x slower).

    python benchmarks/crash.py [--trials 100] [--peer-trials 20]
"""

from __future__ import annotations

import argparse
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPORTS = 10_000
BATCH = 500


def write_input(path: Path, n: int = REPORTS) -> Path:
    rng = random.Random(1)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("kind,observed_at,lon,lat,location_precision_m,source,text\n")
        for i in range(n):
            t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_730_000_000 + i * 60))
            fh.write(
                f"shelling,{t},{37.1 + rng.random() * 0.2:.6f},{48.2 + rng.random() * 0.15:.6f},100,bench,report {i}\n"
            )
    return path


def child(db: str, csv_path: str, batch: int) -> None:
    """Ingest, acknowledging each committed batch on stdout."""
    from greyzone.ingest.runner import ingest_files
    from greyzone.store.sqlite import SqliteStore

    store = SqliteStore.open(db)
    total = 0
    print("ready", flush=True)

    def on_batch(path: object, result: object, position: int) -> None:
        nonlocal total
        total += result.accepted  # type: ignore[attr-defined]
        print(f"ack {result.batch_id} {total}", flush=True)  # type: ignore[attr-defined]

    ingest_files([Path(csv_path)], store, batch_size=batch, on_batch=on_batch, parallel=False)
    print("done", flush=True)


def naive_child(db: str, csv_path: str) -> None:
    """The peer: one INSERT and one commit per row, no ids, no batches."""
    import csv

    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS reports (id INTEGER PRIMARY KEY, kind TEXT, observed_at TEXT, lon REAL,"
        " lat REAL, location_precision_m REAL, source TEXT, text TEXT)"
    )
    print("ready", flush=True)
    with Path(csv_path).open(newline="", encoding="utf-8") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=1):
            conn.execute(
                "INSERT INTO reports (kind, observed_at, lon, lat, location_precision_m, source, text)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                tuple(row.values()),
            )
            conn.commit()
            if n % BATCH == 0:
                print(f"ack {n // BATCH} {n}", flush=True)
    print("done", flush=True)


@dataclass
class Trial:
    ok: bool
    acked: int
    stored: int
    finished: bool
    why: str
    after_rerun: int = -1


def _command(db: Path, csv_path: Path, naive: bool) -> list[str]:
    return [sys.executable, __file__, "--naive" if naive else "--child", str(db), str(csv_path), str(BATCH)]


def trial(folder: Path, csv_path: Path, delay_s: float, *, naive: bool = False) -> Trial:
    db = folder / "crash.db"
    proc = subprocess.Popen(_command(db, csv_path, naive), stdout=subprocess.PIPE, text=True)
    acks: list[int] = []
    state = {"ready": threading.Event(), "done": False}

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("ready"):
                state["ready"].set()  # type: ignore[attr-defined]
            elif line.startswith("ack"):
                acks.append(int(line.split()[2]))
            elif line.startswith("done"):
                state["done"] = True

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    state["ready"].wait(30)  # type: ignore[attr-defined]
    time.sleep(delay_s)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    reader.join(5)
    if proc.stdout is not None:
        proc.stdout.close()
    acked = acks[-1] if acks else 0
    result = check_naive(db, acked, bool(state["done"])) if naive else check(db, acked, bool(state["done"]))
    subprocess.run(_command(db, csv_path, naive), check=True, capture_output=True)
    conn = sqlite3.connect(db)
    result.after_rerun = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
    conn.close()
    if result.after_rerun != REPORTS:
        result.ok = False
        result.why += f"; after re-running the ingest {result.after_rerun} reports are stored, not {REPORTS}"
    return result


def check_naive(db: Path, acked: int, finished: bool) -> Trial:
    conn = sqlite3.connect(db)
    integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    stored = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
    conn.close()
    ok = integrity == "ok" and stored >= acked
    return Trial(ok, acked, stored, finished, "" if ok else f"integrity {integrity}, {stored} stored, {acked} acked")


def check(db: Path, acked: int, finished: bool) -> Trial:
    from greyzone.store.sqlite import SqliteStore

    try:
        with SqliteStore.open(db) as store:
            integrity = store.integrity_check()
            conn = store._conn
            stored = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
            per_batch = conn.execute(
                "SELECT b.batch_id, b.accepted, (SELECT count(*) FROM reports r WHERE r.seq BETWEEN b.first_seq"
                " AND b.last_seq) FROM batches b"
            ).fetchall()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO batches VALUES (999999, 'probe', 0, 1, 0, 0, 0, 0)")
            conn.execute("ROLLBACK")
    except (sqlite3.DatabaseError, Exception) as exc:
        return Trial(False, acked, -1, finished, f"reopen failed: {exc}")
    problems = []
    if integrity != "ok":
        problems.append(f"integrity_check: {integrity}")
    if stored < acked:
        problems.append(f"{acked} acknowledged but {stored} stored")
    if any(accepted != BATCH or present != BATCH for _, accepted, present in per_batch):
        problems.append(f"a partial batch: {per_batch[:3]}")
    if stored != sum(present for _, _, present in per_batch):
        problems.append(f"{stored} reports but the batches account for {sum(p for _, _, p in per_batch)}")
    return Trial(not problems, acked, stored, finished, "; ".join(problems))


def run_trials(n: int, *, naive: bool = False, seed: int = 0) -> list[Trial]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = write_input(Path(tmp) / "input.csv")
        duration = calibrate(Path(tmp), csv_path, naive)
        out = []
        for i in range(n):
            folder = Path(tmp) / f"t{i}"
            folder.mkdir()
            out.append(trial(folder, csv_path, rng.uniform(0.0, duration * 1.1), naive=naive))
    return out


def calibrate(folder: Path, csv_path: Path, naive: bool) -> float:
    """How long a whole ingest takes after 'ready' (the kill moment is drawn within it)."""
    (folder / "cal").mkdir()
    start = time.perf_counter()
    subprocess.run(_command(folder / "cal" / "c.db", csv_path, naive), check=True, capture_output=True)
    return max(time.perf_counter() - start - 0.3, 0.2)


def summarise(name: str, trials: list[Trial]) -> str:
    good = sum(t.ok for t in trials)
    mid = sum(0 < t.acked < REPORTS and not t.finished for t in trials)
    lost = sum(max(t.acked - max(t.stored, 0), 0) for t in trials)
    exact = sum(t.after_rerun == REPORTS for t in trials)
    return f"{name:<36} {good:>4}/{len(trials):<4} {mid:>14} {lost:>10} {exact:>4}/{len(trials):<4}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--peer-trials", type=int, default=20)
    parser.add_argument("--child", nargs=3)
    parser.add_argument("--naive", nargs=3)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    if args.naive:
        naive_child(args.naive[0], args.naive[1])
        return
    greyzone = run_trials(args.trials)
    peer = run_trials(args.peer_trials, naive=True, seed=1)
    print(
        f"crash safety: kill -9 at a random moment during a {REPORTS:,}-report ingest ({BATCH} per batch),"
        " then re-run it"
    )
    print(
        f"{'ingest':<36} {'trials ok':>9} {'killed mid-way':>14} {'acked lost':>10} {'exactly 10,000 after re-run':>10}"
    )
    print(summarise("greyzone (batches, WAL, sync=FULL)", greyzone))
    print(summarise("peer: row-at-a-time INSERT+commit", peer))
    for t in greyzone:
        if not t.ok:
            print("FAILED:", t.why)
    sys.exit(0 if all(t.ok for t in greyzone) else 1)


if __name__ == "__main__":
    main()
