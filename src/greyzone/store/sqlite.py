"""The embedded store: SQLite (stdlib ``sqlite3``), WAL, ``synchronous=FULL``, versioned migrations.

One batch is one ``BEGIN IMMEDIATE … COMMIT`` transaction: its reports, their incident links and
its rejects land together or not at all. With WAL and ``synchronous=FULL`` a committed batch
survives a crash (kill -9, power loss) and an interrupted one leaves no trace.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from greyzone.errors import SchemaError, StoreError
from greyzone.ingest.records import Reject, rejected_rows
from greyzone.model.batch import ReportBatch
from greyzone.model.cells import BLOCK_RES, cell_filter, cell_range
from greyzone.model.enums import Kind
from greyzone.model.report import Report
from greyzone.store.base import (
    FRAME_COLUMNS,
    AuditEntry,
    BatchLog,
    BatchResult,
    City,
    ModelRecord,
    ReportFrame,
    ReportQuery,
    StoreStats,
    User,
    frame_from_rows,
)
from greyzone.store.coordination import CoordinationTables
from greyzone.store.plan import (
    LINKABLE_PRECISIONS,
    Candidates,
    LinkInput,
    candidate_windows,
    plan_links,
    radius_cap_m,
)
from greyzone.store.rows import (
    BATCH_LOG,
    MODEL_INSERT,
    NEWEST_MODELS,
    ROW_COLUMNS,
    PreparedBatch,
    batch_log,
    first_occurrences,
    model_from_row,
    model_row,
    prepare,
    report_from_row,
)

APPLICATION_ID = 0x67727A31  # "grz1": marks a database file as a greyzone store
PAGE_SIZE = 16384  # fewer, larger pages: cheaper random index inserts on a growing log
# Only a repeated id is skipped (a re-ingested report); any other violation is an error, never a silent skip.
# seq is left to SQLite: the next rowid is max + 1, so a batch's reports get a contiguous range.
_INSERT = (
    f"INSERT INTO reports ({', '.join(ROW_COLUMNS)}) VALUES ({', '.join('?' * len(ROW_COLUMNS))})"
    " ON CONFLICT (id) DO NOTHING"
)


def migrations(folder: str = "migrations") -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration in a folder of the package (SQLite's, or ``migrations_pg``)."""
    out = []
    for entry in sorted(resources.files("greyzone.store").joinpath(folder).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            version, _, name = entry.name.removesuffix(".sql").partition("_")
            out.append((int(version), name, entry.read_text(encoding="utf-8")))
    return out


class SqliteStore(CoordinationTables):
    """A greyzone store in one SQLite file. Open with :meth:`open`; close when done."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    def open(cls, path: str | Path, *, create: bool = True) -> SqliteStore:
        """Open (and create or migrate) the store at ``path``; ``:memory:`` for a throwaway one."""
        path = str(path)
        if not create and path != ":memory:" and not Path(path).exists():
            raise StoreError(f"no store at {path}: run 'greyzone init' (or pass --db to an existing one)")
        if path != ":memory:" and not Path(path).exists():
            _create_private(Path(path))
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            store = cls(conn, path)
            store._configure()
            store._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the store at {path}: {exc}") from exc
        return store

    def _configure(self) -> None:
        c = self._conn
        c.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # takes effect only when the file is created, next line
        c.execute("PRAGMA busy_timeout = 10000")
        mode = c.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() not in ("wal", "memory"):
            raise StoreError(f"the store at {self.path} cannot use WAL (got {mode}): is it on a network share?")
        c.execute("PRAGMA synchronous = FULL")
        c.execute("PRAGMA foreign_keys = ON")
        c.execute("PRAGMA cache_size = -65536")  # 64 MiB
        c.execute("PRAGMA wal_autocheckpoint = 10000")  # 40-160 MB of WAL between checkpoints: fewer rewrites
        c.execute("PRAGMA temp_store = MEMORY")

    def _migrate(self) -> None:
        c = self._conn
        app_id = c.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables):
            raise SchemaError(f"{self.path} is not a greyzone store (it has other tables); use another --db path")
        c.execute("BEGIN IMMEDIATE")
        try:
            c.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at INTEGER NOT NULL)"
            )
            done = {r[0] for r in c.execute("SELECT version FROM schema_migrations")}
            known = migrations()
            newest = max(v for v, _, _ in known)
            if done and max(done) > newest:
                raise SchemaError(
                    f"{self.path} has schema version {max(done)}, newer than this greyzone ({newest}): upgrade greyzone"
                )
            for version, name, sql in known:
                if version not in done:
                    _run_script(c, sql)
                    c.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, int(time.time())))
            c.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def schema_version(self) -> int:
        return int(self._conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0])

    def write_batch(self, batch: ReportBatch | PreparedBatch, rejects: Sequence[Reject], *, origin: str) -> BatchResult:
        prepared = batch if isinstance(batch, PreparedBatch) else prepare(batch)
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            result = self._write(prepared, rejects, origin)
            c.execute("COMMIT")
        except BaseException as exc:
            if c.in_transaction:  # SQLite has already rolled back after some failures (a full disk)
                c.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
                raise StoreError(
                    f"the disk holding {self.path} is full: this batch was not stored, and the store "
                    "is intact (every earlier batch whole); free some space and send it again"
                ) from exc
            raise
        return result

    def _write(self, batch: PreparedBatch, rejects: Sequence[Reject], origin: str) -> BatchResult:
        c = self._conn
        first = c.execute("SELECT coalesce(max(seq), 0) + 1 FROM reports").fetchone()[0]
        unique = first_occurrences(batch.ids)
        rows = batch.rows if len(unique) == len(batch) else [batch.rows[i] for i in unique]
        added = c.executemany(_INSERT, rows).rowcount
        if added == len(unique):  # no stored duplicates: every row went in, in order
            new_index = unique
        else:
            position = {batch.ids[i]: i for i in unique.tolist()}
            stored = c.execute("SELECT id FROM reports WHERE seq >= ? ORDER BY seq", (first,))
            new_index = np.array([position[bytes(r[0])] for r in stored], dtype=np.intp)
        seqs = np.arange(first, first + added, dtype=np.int64)
        incidents = self._link(batch.link.take(new_index), seqs, first) if added else 0
        batch_id = c.execute(
            "INSERT INTO batches (origin, committed_at, first_seq, last_seq, accepted, duplicates, rejected)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING batch_id",
            (origin, int(time.time()), first, first + added - 1, added, len(batch) - added, rejected_rows(rejects)),
        ).fetchone()[0]
        if rejects:
            c.executemany(
                "INSERT INTO rejects VALUES (?, ?, ?, ?, ?, ?)",
                [(batch_id, r.file, r.row, r.field, r.reason, r.value) for r in rejects],
            )
        return BatchResult(batch_id, added, len(batch) - added, rejected_rows(rejects), incidents)

    def _link(self, new: LinkInput, seqs: np.ndarray[Any, Any], first: int) -> int:
        plan = plan_links(new, seqs, self._candidates(new, first))
        c = self._conn
        moved = [(int(i), int(s)) for i, s in zip(plan.incident_id, seqs, strict=True) if i != s]
        c.executemany("UPDATE reports SET incident_id = ? WHERE seq = ?", moved)
        for old, winner in plan.merges.items():
            c.execute("UPDATE reports SET incident_id = ? WHERE incident_id = ? OR seq = ?", (winner, old, old))
        return plan.incidents

    def _candidates(self, new: LinkInput, first: int) -> Candidates:
        marks = ", ".join("?" * len(LINKABLE_PRECISIONS))
        sql = (
            f"SELECT {', '.join(FRAME_COLUMNS)} FROM reports WHERE kind = ? AND observed_at BETWEEN ? AND ?"
            f" AND seq < ? AND time_precision IN ({marks}) AND location_precision_m <= ?"
        )
        precisions = [str(p) for p in LINKABLE_PRECISIONS]
        rows: list[Any] = []
        for kind, lo, hi in candidate_windows(new):
            args = (kind, int(lo), int(hi), first, *precisions, radius_cap_m(Kind(kind)))
            rows.extend(self._conn.execute(sql, args))
        return Candidates.from_frame(frame_from_rows(rows))

    def read_reports(self, query: ReportQuery) -> Iterator[Report]:
        where, args = _where(query)
        sql = f"SELECT {', '.join(ROW_COLUMNS)} FROM reports {where} ORDER BY observed_at, seq"
        if query.limit is not None:
            sql += f" LIMIT {int(query.limit)}"
        for row in self._conn.execute(sql, args):
            yield report_from_row(row)

    def read_frame(self, query: ReportQuery) -> ReportFrame:
        where, args = _where(query)
        sql = f"SELECT {', '.join(FRAME_COLUMNS)} FROM reports {where} ORDER BY observed_at, seq"
        if query.limit is not None:
            sql += f" LIMIT {int(query.limit)}"
        return frame_from_rows(self._conn.execute(sql, args).fetchall())

    def incident_of(self, report_id: bytes) -> int | None:
        row = self._conn.execute("SELECT coalesce(incident_id, seq) FROM reports WHERE id = ?", (report_id,)).fetchone()
        return None if row is None else int(row[0])

    def count_incidents(self, batch_ids: Sequence[int]) -> int:
        if not batch_ids:
            return 0
        marks = ", ".join("?" * len(batch_ids))
        sql = (
            "SELECT count(DISTINCT coalesce(r.incident_id, r.seq)) FROM batches b JOIN reports r"
            f" ON r.seq BETWEEN b.first_seq AND b.last_seq WHERE b.batch_id IN ({marks})"
        )
        return int(self._conn.execute(sql, tuple(batch_ids)).fetchone()[0])

    def write_city(self, city: City) -> None:
        gates = json.dumps([{"name": n, "lon": x, "lat": y} for n, x, y in city.gates])
        when = int(city.imported_at or time.time())
        row = (city.name, city.source, when, city.nodes, city.edges, city.graph, gates, city.timezone, city.curfew)
        with self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO cities (name, source, imported_at, nodes, edges, graph, gates, timezone,"
                " curfew) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    def read_city(self, name: str) -> City | None:
        row = self._conn.execute(
            "SELECT name, source, graph, nodes, edges, gates, imported_at, timezone, curfew FROM cities WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            return None
        gates = tuple((g["name"], float(g["lon"]), float(g["lat"])) for g in json.loads(row[5]))
        return City(row[0], row[1], bytes(row[2]), row[3], row[4], gates, float(row[6]), row[7], row[8])

    def city_names(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT name FROM cities ORDER BY name")]

    def read_batches(self) -> BatchLog:
        return batch_log(self._conn.execute(BATCH_LOG).fetchall())

    def write_model(self, model: ModelRecord) -> int:
        with self._conn:
            cursor = self._conn.execute(MODEL_INSERT.replace("%s", "?"), model_row(model))
        return int(cursor.lastrowid or 0)

    def read_models(self, family: str) -> list[ModelRecord]:
        rows = self._conn.execute(NEWEST_MODELS.replace("%s", "?"), (family,)).fetchall()
        return [model_from_row(r) for r in rows]

    def add_user(self, name: str, role: str, token_sha256: bytes) -> None:
        try:
            with self._conn:
                self._conn.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?)", (name, role, token_sha256, int(time.time()))
                )
        except sqlite3.IntegrityError as exc:
            raise StoreError(
                f"cannot add user {name!r}: {exc}"
                " (names are unique; roles: reporter, verifier, analyst, coordinator, admin)"
            ) from exc

    def set_token(self, name: str, token_sha256: bytes | None) -> bool:
        with self._conn:
            if token_sha256 is None:
                cursor = self._conn.execute("DELETE FROM users WHERE name = ?", (name,))
            else:
                cursor = self._conn.execute("UPDATE users SET token_sha256 = ? WHERE name = ?", (token_sha256, name))
        return cursor.rowcount > 0

    def user_of(self, token_sha256: bytes) -> User | None:
        row = self._conn.execute("SELECT name, role FROM users WHERE token_sha256 = ?", (token_sha256,)).fetchone()
        return User(row[0], row[1]) if row else None

    def audit(self, entry: AuditEntry) -> None:
        self._conn.execute(
            "INSERT INTO audit (at, actor, action, object, outcome) VALUES (?, ?, ?, ?, ?)",
            (entry.at, entry.actor, entry.action, entry.object, entry.outcome),
        )

    def audit_log(self, limit: int = 1000) -> list[AuditEntry]:
        rows = self._conn.execute(
            "SELECT at, actor, action, object, outcome FROM audit ORDER BY seq DESC LIMIT ?", (limit,)
        )
        return [AuditEntry(*r) for r in rows]

    def remember(self, actor: str, key: str, answer: str, report_ids: Sequence[bytes]) -> str:
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            c.execute("INSERT OR IGNORE INTO idempotency VALUES (?, ?, ?, ?)", (actor, key, answer, int(time.time())))
            c.executemany("INSERT OR IGNORE INTO submitted VALUES (?, ?)", [(r, actor) for r in report_ids])
            kept = c.execute("SELECT answer FROM idempotency WHERE actor = ? AND key = ?", (actor, key)).fetchone()[0]
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return str(kept)

    def recall(self, actor: str, key: str) -> str | None:
        row = self._conn.execute("SELECT answer FROM idempotency WHERE actor = ? AND key = ?", (actor, key)).fetchone()
        return str(row[0]) if row else None

    def submitted_by(self, actor: str) -> set[bytes]:
        return {bytes(r[0]) for r in self._conn.execute("SELECT report_id FROM submitted WHERE actor = ?", (actor,))}

    def stats(self) -> StoreStats:
        c = self._conn
        reports, incidents, first, last = c.execute(
            "SELECT count(*), count(DISTINCT coalesce(incident_id, seq)), min(observed_at), max(observed_at)"
            " FROM reports"
        ).fetchone()
        by_kind = {
            k: (n, m)
            for k, n, m in c.execute(
                "SELECT kind, count(*), count(DISTINCT coalesce(incident_id, seq)) FROM reports"
                " GROUP BY kind ORDER BY kind"
            )
        }
        by_source = dict(c.execute("SELECT source, count(*) FROM reports GROUP BY source ORDER BY 2 DESC"))
        return StoreStats(
            reports=reports,
            incidents=incidents,
            batches=c.execute("SELECT count(*) FROM batches").fetchone()[0],
            rejects=c.execute("SELECT coalesce(sum(rejected), 0) FROM batches").fetchone()[0],
            first_observed=_time(first),
            last_observed=_time(last),
            by_kind=by_kind,
            by_source=by_source,
        )

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self._conn.execute(sql.replace("%s", "?"), tuple(args))

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql.replace("%s", "?"), rows)

    @contextmanager
    def _tx(self) -> Iterator[None]:
        c = self._conn
        c.execute("BEGIN IMMEDIATE")
        try:
            yield
            c.execute("COMMIT")
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise

    def integrity_check(self) -> str:
        return str(self._conn.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (0600): it holds exact positions and texts.
    SQLite gives its -wal and -shm files the same permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _run_script(c: sqlite3.Connection, sql: str) -> None:
    """Run a migration's statements one by one (executescript would commit our transaction)."""
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            c.execute(buffer)
            buffer = ""
    if buffer.strip() and not buffer.strip().startswith("--"):
        c.execute(buffer)


def _time(t: int | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, UTC)


def _where(q: ReportQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if q.since is not None:
        clauses.append("observed_at >= ?")
        args.append(int(q.since.timestamp()))
    if q.until is not None:
        clauses.append("observed_at < ?")
        args.append(int(q.until.timestamp()))
    if q.kinds:
        clauses.append(f"kind IN ({', '.join('?' * len(q.kinds))})")
        args.extend(sorted(k.value for k in q.kinds))
    if q.cell is not None:
        clauses.append("h3_r5 = ? AND h3_r9 BETWEEN ? AND ?")
        args.extend(cell_filter(q.cell))
    if q.cells:
        filters = [cell_filter(c) for c in q.cells]
        whole = [p for p, lo, hi in filters if (lo, hi) == cell_range(p, BLOCK_RES)]  # res-5 cells: their partition
        parts = [f for f in filters if (f[1], f[2]) != cell_range(f[0], BLOCK_RES)]
        terms = [f"h3_r5 IN ({', '.join('?' * len(whole))})"] if whole else []
        terms += ["(h3_r5 = ? AND h3_r9 BETWEEN ? AND ?)"] * len(parts)
        clauses.append("(" + " OR ".join(terms) + ")")
        args.extend(whole)
        for f in parts:
            args.extend(f)
    if q.areas is not None:
        clauses.append("area_wkb IS NOT NULL" if q.areas else "area_wkb IS NULL")
    if q.bbox is not None:
        clauses.append("lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?")
        x0, y0, x1, y1 = q.bbox
        args.extend((x0, x1, y0, y1))
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args
