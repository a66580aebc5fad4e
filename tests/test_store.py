from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import h3
import pytest

from greyzone.errors import SchemaError, StoreError
from greyzone.ingest.build import BuildContext, build_batch
from greyzone.ingest.records import RawRecord, Reject
from greyzone.model import Kind
from greyzone.store.base import ReportQuery, User
from greyzone.store.sqlite import SqliteStore

T0 = datetime(2024, 11, 3, 9, 0, tzinfo=UTC)


def row(
    minutes: float = 0, lon: float = 37.18, source: str = "police", kind: str = "shelling", **extra: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "observed_at": (T0 + timedelta(minutes=minutes)).isoformat(),
        "lon": lon,
        "lat": 48.28,
        "location_precision_m": 100,
        "source": source,
        **extra,
    }


def write(store: Any, *rows: dict[str, Any], rejects: tuple[Reject, ...] = ()) -> Any:
    batch, more = build_batch([RawRecord("t", i + 1, r) for i, r in enumerate(rows)], BuildContext())
    assert not more
    return store.write_batch(batch, list(rejects), origin="test")


def test_round_trip_and_queries(store: Any) -> None:
    result = write(
        store,
        row(0),
        row(60, lon=37.25, kind="glide_bomb"),
        row(120, kind="infrastructure_status", utility="power", status="out"),
    )
    assert (result.accepted, result.duplicates, result.incidents) == (3, 0, 3)
    got = list(store.read_reports(ReportQuery()))
    assert [r.kind for r in got] == [Kind.SHELLING, Kind.GLIDE_BOMB, Kind.INFRASTRUCTURE_STATUS]
    assert got[2].status is not None and got[2].status.value == "out" and got[2].utility is not None
    assert got[0].observed_at == T0 and got[0].source == "police"
    assert [r.kind for r in store.read_reports(ReportQuery(kinds=frozenset({Kind.GLIDE_BOMB})))] == [Kind.GLIDE_BOMB]
    assert len(list(store.read_reports(ReportQuery(since=T0 + timedelta(minutes=30))))) == 2
    assert len(list(store.read_reports(ReportQuery(until=T0 + timedelta(minutes=30))))) == 1
    assert len(list(store.read_reports(ReportQuery(bbox=(37.2, 48.0, 37.3, 48.5))))) == 1
    assert len(list(store.read_reports(ReportQuery(limit=2)))) == 2
    partition = h3.str_to_int(h3.latlng_to_cell(48.28, 37.25, 5))  # ~250 km²: all three
    assert len(list(store.read_reports(ReportQuery(cell=partition)))) == 3
    for res in (7, 9):  # the cell index answers any resolution from partition to block
        cell = h3.str_to_int(h3.latlng_to_cell(48.28, 37.25, res))
        assert [r.kind for r in store.read_reports(ReportQuery(cell=cell))] == [Kind.GLIDE_BOMB], res
    far = h3.str_to_int(h3.latlng_to_cell(48.28, 37.18, 9))
    assert [r.kind for r in store.read_reports(ReportQuery(cell=far))] == [Kind.SHELLING, Kind.INFRASTRUCTURE_STATUS]
    near = h3.str_to_int(h3.latlng_to_cell(48.28, 37.25, 9))
    either = list(store.read_reports(ReportQuery(cells=(near, far))))  # any of several cells, in time order
    assert [r.kind for r in either] == [Kind.SHELLING, Kind.GLIDE_BOMB, Kind.INFRASTRUCTURE_STATUS]
    assert [r.kind for r in store.read_reports(ReportQuery(cells=(near,)))] == [Kind.GLIDE_BOMB]
    assert len(list(store.read_reports(ReportQuery(areas=False)))) == 3
    assert list(store.read_reports(ReportQuery(areas=True))) == []


def test_sqlite_cell_queries_use_the_cell_index(tmp_path: Path) -> None:
    with SqliteStore.open(tmp_path / "i.db") as store:
        plan = store._conn.execute(
            "EXPLAIN QUERY PLAN SELECT seq FROM reports WHERE h3_r5 = ? AND h3_r9 BETWEEN ? AND ?", (1, 2, 3)
        ).fetchall()
    assert "reports_by_cell" in str(plan)


def test_reingest_is_idempotent(store: Any) -> None:
    write(store, row(0), row(5))
    again = write(store, row(0), row(5), row(0))
    assert (again.accepted, again.duplicates) == (0, 3)
    assert store.stats().reports == 2


def test_same_incident_from_two_sources_counts_once_across_batches(store: Any) -> None:
    first = write(store, row(0, source="police"), row(300, source="police"))
    second = write(store, row(4, lon=37.1805, source="telegram"), row(200, source="telegram"))
    assert first.incidents == 2 and second.incidents == 2
    s = store.stats()
    assert (s.reports, s.incidents) == (4, 3)
    assert s.by_kind["shelling"] == (4, 3)
    ids = [r.report_id.bytes for r in store.read_reports(ReportQuery())]
    assert store.incident_of(ids[0]) == store.incident_of(ids[1])  # police 09:00 and telegram 09:04
    assert store.count_incidents([1, 2]) == 3


def test_a_bridge_report_merges_stored_incidents(store: Any) -> None:
    write(store, row(0, source="police"))
    write(store, row(1, lon=37.1802, source="volunteers", kind="shelling"))
    assert store.stats().incidents == 1
    write(store, row(0, lon=37.1801, source="telegram"))
    assert store.stats().incidents == 1
    assert store.incident_of(b"\x00" * 16) is None


def test_a_failed_batch_leaves_nothing(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    write(store, row(0))
    module = type(store).__module__

    def boom(*args: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(f"{module}.plan_links", boom)
    with pytest.raises(RuntimeError):
        write(store, row(10), row(20), rejects=(Reject("t", 9, "kind", "bad"),))
    s = store.stats()
    assert (s.reports, s.batches, s.rejects) == (1, 1, 0)


def test_rejects_are_kept_with_their_batch(store: Any) -> None:
    write(store, row(0), rejects=(Reject("t", 2, "lat", "out of range", "91"),))
    assert store.stats().rejects == 1


def test_sqlite_log_is_append_only(tmp_path: Path) -> None:
    with SqliteStore.open(tmp_path / "a.db") as store:
        write(store, row(0))
        conn = store._conn
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE reports SET kind = 'missile'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM reports")
        conn.execute("UPDATE reports SET incident_id = incident_id")  # the incident link may move
        assert store.integrity_check() == "ok"


def test_sqlite_pragmas_and_migrations(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    with SqliteStore.open(path) as store:
        conn = store._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert store.schema_version() == 10
        write(store, row(0))
    conn = sqlite3.connect(path)  # make it a store of before the cities table (version 1)
    conn.execute("DROP TABLE cities")
    conn.execute("DELETE FROM schema_migrations WHERE version = 2")
    conn.commit()
    conn.close()
    with SqliteStore.open(path) as store:  # reopening migrates what is missing and keeps the data
        assert store.stats().reports == 1 and store.schema_version() == 10 and store.city_names() == []
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_migrations VALUES (99, 'future', 0)")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaError, match="newer than this greyzone"):
        SqliteStore.open(path)


def test_sqlite_refuses_foreign_databases_and_missing_files(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaError, match="not a greyzone store"):
        SqliteStore.open(other)
    with pytest.raises(StoreError, match="greyzone init"):
        SqliteStore.open(tmp_path / "missing.db", create=False)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="cannot open"):
        SqliteStore.open(junk)


def test_frames_give_the_same_reports_as_columns(store: Any) -> None:
    write(
        store,
        row(0, source="police"),
        row(3, lon=37.1803, source="telegram"),
        row(60, kind="glide_bomb"),
        row(90, kind="mortar", time_precision="hour"),
    )
    frame = store.read_frame(ReportQuery())
    reports = list(store.read_reports(ReportQuery()))
    assert len(frame) == len(reports) == 4
    assert frame.kind == [r.kind.value for r in reports]
    assert frame.observed_s.tolist() == [r.observed_at.timestamp() for r in reports]
    assert frame.lon.tolist() == [r.lon for r in reports]
    assert frame.h3_r9.tolist() == [r.cells.block for r in reports]
    assert frame.span_s.tolist() == [0.0, 0.0, 0.0, 3600.0]
    assert len(set(frame.incident.tolist())) == store.stats().incidents == 3
    only = store.read_frame(ReportQuery(kinds=frozenset({Kind.GLIDE_BOMB})))
    assert only.kind == ["glide_bomb"] and len(store.read_frame(ReportQuery(limit=2))) == 2
    empty = store.read_frame(ReportQuery(since=T0 + timedelta(days=9)))
    assert len(empty) == 0 and empty.lon.dtype == float


def test_users_audit_and_kept_answers(store: Any) -> None:
    from greyzone.errors import StoreError
    from greyzone.store.base import AuditEntry

    store.add_user("medic", "reporter", b"h" * 32)
    assert store.user_of(b"h" * 32).name == "medic" and store.user_of(b"x" * 32) is None
    with pytest.raises(StoreError):
        store.add_user("medic", "analyst", b"y" * 32)  # names are unique
    for i in range(3):
        store.audit(AuditEntry(1000.0 + i, "medic", "auth.ok", "/api/whoami", "reporter"))
    assert [e.at for e in store.audit_log(2)] == [1002.0, 1001.0]  # newest first
    first = store.remember("medic", "k1", '{"ids": ["a"]}', [b"r" * 16])
    again = store.remember("medic", "k1", '{"ids": ["b"]}', [b"s" * 16])
    assert first == again == '{"ids": ["a"]}' and store.recall("medic", "k1") == first  # the first answer wins
    assert store.recall("crew", "k1") is None and store.submitted_by("medic") == {b"r" * 16, b"s" * 16}


def test_fitted_models_are_kept_and_the_newest_per_kinds_read(store: Any) -> None:
    from greyzone.store.base import ModelRecord

    def model(kinds: tuple[str, ...], fitted_at: float, state: str) -> ModelRecord:
        return ModelRecord("hazard", kinds, "greyzone-hazard/1", fitted_at, 1.0e9, 1.1e9, '{"events": 3}', state)

    assert store.read_models("hazard") == []
    first = store.write_model(model(("shelling",), 100.0, '{"v": 1}'))
    second = store.write_model(model(("shelling",), 200.0, '{"v": 2}'))
    drones = store.write_model(model(("drone_drop", "fpv_strike"), 150.0, '{"v": 3}'))
    assert len({first, second, drones}) == 3
    newest = store.read_models("hazard")
    assert [(m.kinds, m.state, m.model_id) for m in newest] == [
        (("shelling",), '{"v": 2}', second),
        (("drone_drop", "fpv_strike"), '{"v": 3}', drones),
    ]  # newest first, one per set of kinds; the earlier fit stays stored but is not read
    assert newest[0].data_from == 1.0e9 and newest[0].summary == '{"events": 3}' and newest[0].fitted_at == 200.0
    assert store.read_models("other") == []


def test_tokens_rotate_and_users_are_revoked(store: Any) -> None:
    store.add_user("medic", "reporter", b"a" * 32)
    assert store.set_token("medic", b"b" * 32) and store.user_of(b"a" * 32) is None
    assert store.user_of(b"b" * 32).name == "medic"
    assert store.set_token("medic", None) and store.user_of(b"b" * 32) is None
    assert not store.set_token("medic", b"c" * 32) and not store.set_token("nobody", None)


def test_sqlite_files_are_private_and_a_full_disk_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3
    import stat

    from greyzone.errors import StoreError
    from greyzone.ingest.build import BuildContext, build_batch
    from greyzone.ingest.records import RawRecord

    path = tmp_path / "private.db"
    batch, _ = build_batch(
        [
            RawRecord(
                "t",
                1,
                {
                    "kind": "shelling",
                    "observed_at": "2024-11-03T09:15:00Z",
                    "lon": 37.18,
                    "lat": 48.28,
                    "source": "police",
                },
            )
        ],
        BuildContext(),
    )
    with SqliteStore.open(path) as s:
        s.write_batch(batch, [], origin="t")
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
        assert modes == {"private.db": 0o600, "private.db-wal": 0o600, "private.db-shm": 0o600}

        def full(*_: Any) -> Any:
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(SqliteStore, "_write", full)
        with pytest.raises(StoreError, match="is full: this batch was not stored, and the store is intact"):
            s.write_batch(batch, [], origin="t")
        assert s.stats().reports == 1 and s.integrity_check() == "ok"


def test_a_version_5_store_gains_the_coordination_and_alert_tables_and_keeps_its_users(tmp_path: Path) -> None:
    """Migration 006 rebuilds the users table (a new role in its CHECK): every user and token stays."""
    from greyzone.store.sqlite import migrations

    path = tmp_path / "v5.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER)")
    for version, name, sql in migrations()[:5]:
        conn.executescript(sql)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (version, name))
    conn.execute("INSERT INTO users VALUES ('ana', 'analyst', ?, 0)", (b"x" * 32,))
    conn.execute("PRAGMA application_id = 1735555633")
    conn.commit()
    conn.close()
    with SqliteStore.open(path) as store:
        assert store.schema_version() == 10
        assert store.user_of(b"x" * 32) == User("ana", "analyst")
        store.add_user("cora", "coordinator", b"y" * 32)
        assert store.user_of(b"y" * 32) == User("cora", "coordinator")
        assert store.read_requests() == [] and store.read_crews("demo") == [] and store.read_rules() == []
