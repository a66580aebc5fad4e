"""The server store: PostgreSQL (psycopg 3), the same protocol and behaviour as the SQLite store.

Selected by a database URL (``postgresql://…``; ``open_store``). One batch is one transaction; the
writer takes a lock on the report log for it (readers go on), so that several service workers on
one database write batches one at a time, each a contiguous range of ``seq`` as on SQLite, and
the incident links never race. Migrations (``migrations_pg/``) run under an advisory lock: two
workers starting together migrate once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import psycopg

from greyzone.errors import SchemaError, StoreError
from greyzone.ingest.records import Reject, rejected_rows
from greyzone.model.batch import ReportBatch
from greyzone.model.enums import Kind
from greyzone.model.report import Report
from greyzone.store.base import (
    FRAME_COLUMNS,
    GIS_LAYERS,
    AuditEntry,
    BatchLog,
    BatchResult,
    City,
    GisFeature,
    ModelRecord,
    ReportFrame,
    ReportQuery,
    StoreStats,
    User,
    frame_from_rows,
)
from greyzone.store.coordination import CoordinationTables
from greyzone.store.plan import LINKABLE_PRECISIONS, Candidates, LinkInput, candidate_windows, plan_links, radius_cap_m
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
from greyzone.store.sqlite import _time, _where, migrations

_MIGRATION_LOCK = 0x67727A31
_COPY = f"COPY reports (seq, {', '.join(ROW_COLUMNS)}) FROM STDIN"  # a batch's new reports in one stream


class PostgresStore(CoordinationTables):
    """A greyzone store in a PostgreSQL database. Open with :meth:`open`; close when done."""

    def __init__(self, conn: psycopg.Connection[Any], url: str) -> None:
        self._conn, self.url = conn, url

    @classmethod
    def open(cls, url: str) -> PostgresStore:
        try:
            conn = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"cannot reach the PostgreSQL store: {exc}".strip()) from exc
        store = cls(conn, url)
        store._migrate()
        return store

    def _migrate(self) -> None:
        with self._conn.transaction():
            c = self._conn
            c.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            c.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at BIGINT NOT NULL)"
            )
            done = {r[0] for r in c.execute("SELECT version FROM schema_migrations")}
            known = migrations("migrations_pg")
            newest = max(v for v, _, _ in known)
            if done and max(done) > newest:
                raise SchemaError(f"the database has schema version {max(done)}, newer than this greyzone ({newest})")
            for version, name, sql in known:
                if version not in done:
                    try:
                        c.execute(sql.encode())  # several statements: sent as one simple query
                    except psycopg.Error as exc:
                        hint = (
                            " (install PostGIS on the server: Debian's postgresql-postgis)"
                            if "postgis" in str(exc)
                            else ""
                        )
                        raise StoreError(
                            f"cannot migrate the store to version {version} ({name}): {exc}{hint}"
                        ) from exc
                    c.execute("INSERT INTO schema_migrations VALUES (%s, %s, %s)", (version, name, int(time.time())))

    def schema_version(self) -> int:
        return int(self._one("SELECT max(version) FROM schema_migrations")[0])

    def _one(self, sql: str, args: Sequence[Any] = ()) -> Any:
        row = self._conn.execute(sql, args).fetchone()
        assert row is not None
        return row

    def write_batch(self, batch: ReportBatch | PreparedBatch, rejects: Sequence[Reject], *, origin: str) -> BatchResult:
        prepared = batch if isinstance(batch, PreparedBatch) else prepare(batch)
        with self._conn.transaction():
            self._conn.execute("LOCK TABLE reports IN SHARE ROW EXCLUSIVE MODE")  # one writer at a time
            return self._write(prepared, rejects, origin)

    def _write(self, batch: PreparedBatch, rejects: Sequence[Reject], origin: str) -> BatchResult:
        c = self._conn
        first = int(self._one("SELECT coalesce(max(seq), 0) + 1 FROM reports")[0])
        unique = first_occurrences(batch.ids)
        ids = [batch.ids[i] for i in unique.tolist()]
        stored = {bytes(r[0]) for r in c.execute("SELECT id FROM reports WHERE id = ANY(%s)", (ids,))}
        new_index = np.array([i for i in unique.tolist() if batch.ids[i] not in stored], dtype=np.intp)
        added = len(new_index)
        with c.cursor() as cur, cur.copy(_COPY) as copy:
            for k, i in enumerate(new_index.tolist()):
                copy.write_row((first + k, *batch.rows[i]))
        seqs = np.arange(first, first + added, dtype=np.int64)
        incidents = self._link(batch.link.take(new_index), seqs, first) if added else 0
        batch_id = int(
            self._one(
                "INSERT INTO batches (origin, committed_at, first_seq, last_seq, accepted, duplicates, rejected)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING batch_id",
                (origin, int(time.time()), first, first + added - 1, added, len(batch) - added, rejected_rows(rejects)),
            )[0]
        )
        if rejects:
            with c.cursor() as cur:
                cur.executemany(
                    "INSERT INTO rejects VALUES (%s, %s, %s, %s, %s, %s)",
                    [(batch_id, r.file, r.row, r.field, r.reason, r.value) for r in rejects],
                )
        return BatchResult(batch_id, added, len(batch) - added, rejected_rows(rejects), incidents)

    def _link(self, new: LinkInput, seqs: np.ndarray[Any, Any], first: int) -> int:
        plan = plan_links(new, seqs, self._candidates(new, first))
        moved = [(int(i), int(s)) for i, s in zip(plan.incident_id, seqs, strict=True) if i != s]
        with self._conn.cursor() as cur:
            if moved:
                cur.executemany("UPDATE reports SET incident_id = %s WHERE seq = %s", moved)
            for old, winner in plan.merges.items():
                cur.execute(
                    "UPDATE reports SET incident_id = %s WHERE incident_id = %s OR seq = %s", (winner, old, old)
                )
        return plan.incidents

    def _candidates(self, new: LinkInput, first: int) -> Candidates:
        sql = (
            f"SELECT {', '.join(FRAME_COLUMNS)} FROM reports WHERE kind = %s AND observed_at BETWEEN %s AND %s"
            " AND seq < %s AND time_precision = ANY(%s) AND location_precision_m <= %s"
        )
        precisions = [str(p) for p in LINKABLE_PRECISIONS]
        rows: list[Any] = []
        for kind, lo, hi in candidate_windows(new):
            rows.extend(
                self._conn.execute(
                    sql, (kind, int(lo), int(hi), first, precisions, radius_cap_m(Kind(kind)))
                ).fetchall()
            )
        return Candidates.from_frame(frame_from_rows(rows))

    def _query(self, columns: Sequence[str], query: ReportQuery) -> tuple[str, list[Any]]:
        where, args = _where(query)
        sql = f"SELECT {', '.join(columns)} FROM reports {where.replace('?', '%s')} ORDER BY observed_at, seq"
        return sql + (f" LIMIT {int(query.limit)}" if query.limit is not None else ""), args

    def read_reports(self, query: ReportQuery) -> Iterator[Report]:
        sql, args = self._query(ROW_COLUMNS, query)
        for row in self._conn.execute(sql, args).fetchall():
            yield report_from_row(row)

    def read_frame(self, query: ReportQuery) -> ReportFrame:
        sql, args = self._query(FRAME_COLUMNS, query)
        return frame_from_rows(self._conn.execute(sql, args).fetchall())

    def incident_of(self, report_id: bytes) -> int | None:
        row = self._conn.execute(
            "SELECT coalesce(incident_id, seq) FROM reports WHERE id = %s", (report_id,)
        ).fetchone()
        return None if row is None else int(row[0])

    def count_incidents(self, batch_ids: Sequence[int]) -> int:
        if not batch_ids:
            return 0
        sql = (
            "SELECT count(DISTINCT coalesce(r.incident_id, r.seq)) FROM batches b JOIN reports r"
            " ON r.seq BETWEEN b.first_seq AND b.last_seq WHERE b.batch_id = ANY(%s)"
        )
        return int(self._one(sql, (list(batch_ids),))[0])

    def write_city(self, city: City) -> None:
        gates = json.dumps([{"name": n, "lon": x, "lat": y} for n, x, y in city.gates])
        self._conn.execute(
            "INSERT INTO cities (name, source, imported_at, nodes, edges, graph, gates, timezone, curfew) VALUES (%s,"
            " %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET source = EXCLUDED.source, imported_at ="
            " EXCLUDED.imported_at, nodes = EXCLUDED.nodes, edges = EXCLUDED.edges, graph = EXCLUDED.graph, gates ="
            " EXCLUDED.gates, timezone = EXCLUDED.timezone, curfew = EXCLUDED.curfew",
            (
                city.name,
                city.source,
                int(city.imported_at or time.time()),
                city.nodes,
                city.edges,
                city.graph,
                gates,
                city.timezone,
                city.curfew,
            ),
        )

    def read_city(self, name: str) -> City | None:
        row = self._conn.execute(
            "SELECT name, source, graph, nodes, edges, gates, imported_at, timezone, curfew FROM cities"
            " WHERE name = %s",
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
        return int(self._one(MODEL_INSERT + " RETURNING id", model_row(model))[0])

    def read_models(self, family: str) -> list[ModelRecord]:
        return [model_from_row(r) for r in self._conn.execute(NEWEST_MODELS, (family,)).fetchall()]

    def stats(self) -> StoreStats:
        c = self._conn
        reports, incidents, first, last = self._one(
            "SELECT count(*), count(DISTINCT coalesce(incident_id, seq)), min(observed_at), max(observed_at)"
            " FROM reports"
        )
        by_kind = {
            k: (n, m)
            for k, n, m in c.execute(
                "SELECT kind, count(*), count(DISTINCT coalesce(incident_id, seq)) FROM reports GROUP BY kind"
                " ORDER BY kind"
            )
        }
        by_source = dict(c.execute("SELECT source, count(*) FROM reports GROUP BY source ORDER BY 2 DESC").fetchall())
        return StoreStats(
            reports=reports,
            incidents=incidents,
            batches=self._one("SELECT count(*) FROM batches")[0],
            rejects=int(self._one("SELECT coalesce(sum(rejected), 0) FROM batches")[0]),
            first_observed=_time(first),
            last_observed=_time(last),
            by_kind=by_kind,
            by_source=by_source,
        )

    def add_user(self, name: str, role: str, token_sha256: bytes) -> None:
        try:
            self._conn.execute(
                "INSERT INTO users VALUES (%s, %s, %s, %s)", (name, role, token_sha256, int(time.time()))
            )
        except psycopg.errors.IntegrityError as exc:
            raise StoreError(f"cannot add user {name!r}: {exc}".strip()) from exc

    def set_token(self, name: str, token_sha256: bytes | None) -> bool:
        if token_sha256 is None:
            cursor = self._conn.execute("DELETE FROM users WHERE name = %s", (name,))
        else:
            cursor = self._conn.execute("UPDATE users SET token_sha256 = %s WHERE name = %s", (token_sha256, name))
        return cursor.rowcount > 0

    def user_of(self, token_sha256: bytes) -> User | None:
        row = self._conn.execute("SELECT name, role FROM users WHERE token_sha256 = %s", (token_sha256,)).fetchone()
        return User(row[0], row[1]) if row else None

    def audit(self, entry: AuditEntry) -> None:
        self._conn.execute(
            "INSERT INTO audit (at, actor, action, object, outcome) VALUES (%s, %s, %s, %s, %s)",
            (entry.at, entry.actor, entry.action, entry.object, entry.outcome),
        )

    def audit_log(self, limit: int = 1000) -> list[AuditEntry]:
        rows = self._conn.execute(
            "SELECT at, actor, action, object, outcome FROM audit ORDER BY seq DESC LIMIT %s", (limit,)
        )
        return [AuditEntry(*r) for r in rows]

    def remember(self, actor: str, key: str, answer: str, report_ids: Sequence[bytes]) -> str:
        with self._conn.transaction():
            c = self._conn
            c.execute(
                "INSERT INTO idempotency VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (actor, key, answer, int(time.time())),
            )
            if report_ids:
                with c.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO submitted VALUES (%s, %s) ON CONFLICT DO NOTHING", [(r, actor) for r in report_ids]
                    )
            return str(self._one("SELECT answer FROM idempotency WHERE actor = %s AND key = %s", (actor, key))[0])

    def recall(self, actor: str, key: str) -> str | None:
        row = self._conn.execute(
            "SELECT answer FROM idempotency WHERE actor = %s AND key = %s", (actor, key)
        ).fetchone()
        return str(row[0]) if row else None

    def submitted_by(self, actor: str) -> set[bytes]:
        return {bytes(r[0]) for r in self._conn.execute("SELECT report_id FROM submitted WHERE actor = %s", (actor,))}

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self._conn.execute(sql, tuple(args))

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self._conn.cursor() as cur:
                cur.executemany(sql, rows)

    def _tx(self) -> AbstractContextManager[Any]:
        return self._conn.transaction()

    def publish_layers(self, layers: Mapping[str, Sequence[GisFeature]], published_for: float) -> dict[str, int]:
        """Replace the published GIS layers named (``gis_control``, ``gis_control_cells``, ``gis_hazard``,
        ``gis_corridors``) with these features, all in one transaction: a GIS never sees half a layer."""
        counts = {}
        with self._conn.transaction():
            for table, features in layers.items():
                columns = GIS_LAYERS[table]
                self._conn.execute(f"DELETE FROM {table}")
                marks = ", ".join(["%s"] * len(columns))
                sql = (
                    f"INSERT INTO {table} ({', '.join(columns)}, published_for, geom)"
                    f" VALUES ({marks}, to_timestamp(%s), ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326))"
                )
                with self._conn.cursor() as cur:
                    cur.executemany(
                        sql, [(*(f.properties.get(c) for c in columns), published_for, f.geometry) for f in features]
                    )
                counts[table] = len(features)
        return counts

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
