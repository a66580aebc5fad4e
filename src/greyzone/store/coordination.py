"""Coordination tables (migration 006), one SQL for SQLite and PostgreSQL.

Both stores mix in :class:`CoordinationTables` and give it three things: ``_exec`` (one statement,
``%s`` placeholders), ``_many`` and ``_tx`` (a transaction). Personal data arrives here already
encrypted (bytes) and leaves as it is: the store never sees a name or a phone in clear.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from greyzone.model.coordination import Crew, District, Need, NeedCategory, ServicePoint, Vehicle
from greyzone.store.base import (
    FRAME_COLUMNS,
    AskerRow,
    DeliveryRow,
    EventRow,
    ReportFrame,
    RequestRow,
    ReviewRow,
    RuleRow,
    StatusRows,
    WatchRow,
    frame_from_rows,
)

_POINT = "point_id, city, service, name, lon, lat, hours, published, public_lon, public_lat, public_shelter, updated_at"
_NEED = "city, district, category, people, recorded_at, actor, note, met_at, need_id"
_REQUEST = (
    "request_id, city, created_at, updated_at, state, district, cell, precision_m, details, personal, crew_id,"
    " closed_at, purged_at"
)
_ASKER = "request_id, seq, asked_at, relation, channel, callback_confirmed, asker_key, personal"
_CREW = "crew_id, city, name, vehicle, capacity, stretcher, wheelchair, base_lon, base_lat, active"
_RULE = "rule_id, owner, role, city, name, area, rule, url, secret, format, active, disabled, created_at"
_DELIVERY = "alert_key, rule_id, body, created_at, attempts, next_at, status, last_error, delivered_at"


def _request(r: Sequence[Any]) -> RequestRow:
    personal = None if r[9] is None else bytes(r[9])
    return RequestRow(r[0], r[1], r[2], r[3], r[4], r[5], int(r[6]), r[7], r[8], personal, r[10], r[11], r[12])


def _asker(r: Sequence[Any]) -> AskerRow:
    personal = None if r[7] is None else bytes(r[7])
    return AskerRow(r[0], int(r[1]), r[2], r[3], r[4], bool(r[5]), bytes(r[6]), personal)


class CoordinationTables:
    """The coordination half of a store (see the module docstring)."""

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    def _tx(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    # districts
    def write_districts(self, city: str, districts: Sequence[District]) -> None:
        """Replace the city's districts, in one transaction."""
        with self._tx():
            self._exec("DELETE FROM districts WHERE city = %s", (city,))
            self._many("INSERT INTO districts VALUES (%s, %s, %s)", [(d.city, d.name, d.geometry) for d in districts])

    def read_districts(self, city: str) -> list[District]:
        rows = self._exec("SELECT city, name, geometry FROM districts WHERE city = %s ORDER BY name", (city,))
        return [District(*r) for r in rows]

    # service points
    def write_service_points(self, points: Sequence[ServicePoint]) -> None:
        """Add or replace service points (by id), all or none."""
        marks = ", ".join(["%s"] * 12)
        update = ", ".join(f"{c} = excluded.{c}" for c in _POINT.split(", ")[1:])
        with self._tx():
            self._many(
                f"INSERT INTO service_points ({_POINT}) VALUES ({marks}) ON CONFLICT (point_id) DO UPDATE SET {update}",
                [
                    (p.point_id, p.city, p.service, p.name, p.lon, p.lat, p.hours, int(p.published), p.public_lon,
                     p.public_lat, int(p.public_shelter), p.updated_at)
                    for p in points
                ],
            )  # fmt: skip

    def read_service_points(self, city: str) -> list[ServicePoint]:
        rows = self._exec(f"SELECT {_POINT} FROM service_points WHERE city = %s ORDER BY point_id", (city,))
        return [
            ServicePoint(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8], r[9], bool(r[10]), r[11])
            for r in rows
        ]

    # needs
    def write_need(self, need: Need) -> int:
        row = self._exec(
            f"INSERT INTO needs ({_NEED.removesuffix(', need_id')}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING need_id",
            (need.city, need.district, need.category.value, need.people, need.recorded_at, need.actor, need.note,
             need.met_at),
        ).fetchone()  # fmt: skip
        return int(row[0])

    def meet_need(self, need_id: int, at: float) -> bool:
        cursor = self._exec("UPDATE needs SET met_at = %s WHERE need_id = %s AND met_at IS NULL", (at, need_id))
        return bool(cursor.rowcount > 0)

    def read_needs(self, city: str) -> list[Need]:
        rows = self._exec(f"SELECT {_NEED} FROM needs WHERE city = %s ORDER BY recorded_at, need_id", (city,))
        return [Need(r[0], r[1], NeedCategory(r[2]), r[3], r[4], r[5], r[6], r[7], int(r[8])) for r in rows]

    # evacuation requests
    def write_request(
        self, row: RequestRow, askers: Sequence[AskerRow], event: EventRow, idem: tuple[str, str] | None = None
    ) -> str:
        """Store a new request with its askers and first event, all or none. With an idempotency key
        (actor, key) already used, nothing is stored and the first request's id is returned."""
        with self._tx():
            if idem is not None:
                found = self._exec(
                    "SELECT request_id FROM evac_requests WHERE idem_actor = %s AND idem_key = %s", idem
                ).fetchone()
                if found is not None:
                    return str(found[0])
            self._exec(
                f"INSERT INTO evac_requests ({_REQUEST}, idem_actor, idem_key) VALUES ({', '.join(['%s'] * 15)})",
                (row.request_id, row.city, row.created_at, row.updated_at, row.state, row.district, row.cell,
                 row.precision_m, row.details, row.personal, row.crew_id, row.closed_at, row.purged_at,
                 *(idem or (None, None))),
            )  # fmt: skip
            self._insert_askers(askers)
            self._insert_event(event)
        return row.request_id

    def _insert_askers(self, askers: Sequence[AskerRow]) -> None:
        self._many(
            f"INSERT INTO evac_askers ({_ASKER}) VALUES ({', '.join(['%s'] * 8)})",
            [(a.request_id, a.seq, a.asked_at, a.relation, a.channel, int(a.callback_confirmed), a.asker_key,
              a.personal) for a in askers],
        )  # fmt: skip

    def _insert_event(self, e: EventRow) -> None:
        self._exec(
            "INSERT INTO evac_events (request_id, at, actor, from_state, to_state, reason)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (e.request_id, e.at, e.actor, e.from_state, e.to_state, e.reason),
        )

    def add_askers(
        self, request_id: str, askers: Sequence[AskerRow], details: str, personal: bytes | None, event: EventRow
    ) -> None:
        """A duplicate's askers joined to the request (its details and sealed data updated), all or none."""
        with self._tx():
            first = int(
                self._exec("SELECT coalesce(max(seq), 0) + 1 FROM evac_askers WHERE request_id = %s", (request_id,))
                .fetchone()[0]
            )  # fmt: skip
            renumbered = [AskerRow(request_id, first + i, *_asker_tail(a)) for i, a in enumerate(askers)]
            self._insert_askers(renumbered)
            self._exec(
                "UPDATE evac_requests SET details = %s, personal = %s, updated_at = %s WHERE request_id = %s",
                (details, personal, event.at, request_id),
            )
            self._insert_event(event)

    def read_requests(self, city: str | None = None, states: Sequence[str] = ()) -> list[RequestRow]:
        clauses, args = [], []
        if city is not None:
            clauses.append("city = %s")
            args.append(city)
        if states:
            clauses.append(f"state IN ({', '.join(['%s'] * len(states))})")
            args.extend(states)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._exec(f"SELECT {_REQUEST} FROM evac_requests {where} ORDER BY created_at, request_id", args)
        return [_request(r) for r in rows]

    def read_request(self, request_id: str) -> RequestRow | None:
        row = self._exec(f"SELECT {_REQUEST} FROM evac_requests WHERE request_id = %s", (request_id,)).fetchone()
        return None if row is None else _request(row)

    def read_askers(self, request_ids: Sequence[str]) -> list[AskerRow]:
        if not request_ids:
            return []
        marks = ", ".join(["%s"] * len(request_ids))
        rows = self._exec(
            f"SELECT {_ASKER} FROM evac_askers WHERE request_id IN ({marks}) ORDER BY request_id, seq", request_ids
        )
        return [_asker(r) for r in rows]

    def asker_keys_before(self, keys: Sequence[bytes], before_s: float) -> set[bytes]:
        """Which of these asker keys asked for something before ``before_s``."""
        if not keys:
            return set()
        marks = ", ".join(["%s"] * len(keys))
        rows = self._exec(
            f"SELECT DISTINCT asker_key FROM evac_askers WHERE asker_key IN ({marks}) AND asked_at < %s",
            (*keys, before_s),
        )
        return {bytes(r[0]) for r in rows}

    def move_request(
        self, event: EventRow, *, crew_id: str | None = None, details: str | None = None, closed_at: float | None = None
    ) -> bool:
        """Change a request's state if it is still in ``event.from_state`` (False: it moved meanwhile), with
        the event, all or none."""
        with self._tx():
            cursor = self._exec(
                "UPDATE evac_requests SET state = %s, updated_at = %s, crew_id = coalesce(%s, crew_id),"
                " details = coalesce(%s, details), closed_at = %s WHERE request_id = %s AND state = %s",
                (event.to_state, event.at, crew_id, details, closed_at, event.request_id, event.from_state),
            )
            if cursor.rowcount != 1:
                return False
            self._insert_event(event)
        return True

    def read_events(self, request_id: str) -> list[EventRow]:
        rows = self._exec(
            "SELECT request_id, at, actor, from_state, to_state, reason FROM evac_events WHERE request_id = %s"
            " ORDER BY seq",
            (request_id,),
        )
        return [EventRow(*r) for r in rows]

    def purge_requests(self, closed_before_s: float, at: float) -> list[str]:
        """Drop the personal data of requests closed before ``closed_before_s`` (counts stay); their ids."""
        with self._tx():
            ids = [
                str(r[0])
                for r in self._exec(
                    "SELECT request_id FROM evac_requests WHERE closed_at < %s AND purged_at IS NULL",
                    (closed_before_s,),
                )
            ]
            if ids:
                marks = ", ".join(["%s"] * len(ids))
                self._exec(
                    f"UPDATE evac_requests SET personal = NULL, purged_at = %s WHERE request_id IN ({marks})",
                    (at, *ids),
                )
                self._exec(f"UPDATE evac_askers SET personal = NULL WHERE request_id IN ({marks})", ids)
        return ids

    def sealed_fields(self) -> Iterator[tuple[str, str, int, bytes]]:
        """Every sealed value: (table, request_id, asker seq or 0, ciphertext)."""
        for r in self._exec("SELECT request_id, personal FROM evac_requests WHERE personal IS NOT NULL").fetchall():
            yield "evac_requests", str(r[0]), 0, bytes(r[1])
        for r in self._exec("SELECT request_id, seq, personal FROM evac_askers WHERE personal IS NOT NULL").fetchall():
            yield "evac_askers", str(r[0]), int(r[1]), bytes(r[2])

    def reseal(self, values: Sequence[tuple[str, str, int, bytes]]) -> None:
        """Write re-encrypted values back (key rotation), all or none."""
        with self._tx():
            self._many(
                "UPDATE evac_requests SET personal = %s WHERE request_id = %s",
                [(v, r) for t, r, _, v in values if t == "evac_requests"],
            )
            self._many(
                "UPDATE evac_askers SET personal = %s WHERE request_id = %s AND seq = %s",
                [(v, r, s) for t, r, s, v in values if t == "evac_askers"],
            )

    # crews
    def write_crew(self, crew: Crew) -> None:
        update = ", ".join(f"{c} = excluded.{c}" for c in _CREW.split(", ")[1:])
        self._exec(
            f"INSERT INTO crews ({_CREW}) VALUES ({', '.join(['%s'] * 10)})"
            f" ON CONFLICT (crew_id) DO UPDATE SET {update}",
            (crew.crew_id, crew.city, crew.name, crew.vehicle.value, crew.capacity, int(crew.stretcher),
             int(crew.wheelchair), crew.base_lon, crew.base_lat, int(crew.active)),
        )  # fmt: skip

    def read_crews(self, city: str) -> list[Crew]:
        rows = self._exec(f"SELECT {_CREW} FROM crews WHERE city = %s ORDER BY crew_id", (city,))
        return [
            Crew(r[0], r[1], r[2], Vehicle(r[3]), r[4], bool(r[5]), bool(r[6]), r[7], r[8], bool(r[9])) for r in rows
        ]

    # alerts
    def write_rule(self, row: RuleRow) -> None:
        self._exec(
            f"INSERT INTO alert_rules ({_RULE}) VALUES ({', '.join(['%s'] * 13)})",
            (row.rule_id, row.owner, row.role, row.city, row.name, row.area, row.rule, row.url, row.secret,
             row.format, int(row.active), row.disabled, row.created_at),
        )  # fmt: skip

    def read_rules(self, owner: str | None = None, active_only: bool = False) -> list[RuleRow]:
        clauses, args = [], []
        if owner is not None:
            clauses.append("owner = %s")
            args.append(owner)
        if active_only:
            clauses.append("active = 1")
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._exec(f"SELECT {_RULE} FROM alert_rules {where} ORDER BY created_at, rule_id", args)
        return [
            RuleRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], bool(r[10]), r[11], r[12]) for r in rows
        ]

    def disable_rule(self, rule_id: str, why: str) -> bool:
        cursor = self._exec("UPDATE alert_rules SET active = 0, disabled = %s WHERE rule_id = %s", (why, rule_id))
        return bool(cursor.rowcount > 0)

    def change_rule(self, rule_id: str, owner: str, *, name: str, url: str, active: bool) -> bool:
        """A rule of the owner's renamed, sent elsewhere, stopped or started again (its reason cleared)."""
        cursor = self._exec(
            "UPDATE alert_rules SET name = %s, url = %s, active = %s, disabled = '' WHERE rule_id = %s AND owner = %s",
            (name, url, int(active), rule_id, owner),
        )
        return bool(cursor.rowcount > 0)

    def remove_rule(self, rule_id: str, owner: str) -> bool:
        with self._tx():
            cursor = self._exec("DELETE FROM alert_rules WHERE rule_id = %s AND owner = %s", (rule_id, owner))
            if cursor.rowcount:
                self._exec("DELETE FROM deliveries WHERE rule_id = %s AND status = 'pending'", (rule_id,))
                self._exec("DELETE FROM alert_watch WHERE rule_id = %s", (rule_id,))
        return bool(cursor.rowcount > 0)

    def batches_after(self, batch_id: int, most: int = 100) -> list[tuple[int, int, int]]:
        """(batch, first seq, last seq) of the batches after ``batch_id`` that added reports, oldest first."""
        rows = self._exec(
            "SELECT batch_id, first_seq, last_seq FROM batches WHERE batch_id > %s AND accepted > 0"
            " ORDER BY batch_id LIMIT %s",
            (batch_id, most),
        )
        return [(int(a), int(b), int(c)) for a, b, c in rows]

    def read_seq_range(self, first: int, last: int) -> ReportFrame:
        """The reports with seq in [first, last], as columns."""
        rows = self._exec(
            f"SELECT {', '.join(FRAME_COLUMNS)} FROM reports WHERE seq BETWEEN %s AND %s ORDER BY seq", (first, last)
        ).fetchall()
        return frame_from_rows(rows)

    def alert_cursor(self) -> int | None:
        """The newest batch the rules were evaluated on (None: never set)."""
        row = self._exec("SELECT batch_id FROM alert_cursor WHERE name = 'worker'").fetchone()
        return None if row is None else int(row[0])

    def newest_batch(self) -> int:
        return int(self._exec("SELECT coalesce(max(batch_id), 0) FROM batches").fetchone()[0])

    def advance_alerts(self, batch_id: int, deliveries: Sequence[DeliveryRow]) -> None:
        """Keep the alerts a batch made (an alert already kept stays as it is) and move the cursor past it,
        in one transaction: a worker killed before the commit evaluates the batch again, and makes the same."""
        with self._tx():
            self._keep_deliveries(deliveries)
            self._exec("DELETE FROM alert_cursor WHERE name = 'worker'")
            self._exec("INSERT INTO alert_cursor VALUES ('worker', %s)", (batch_id,))

    def _keep_deliveries(self, deliveries: Sequence[DeliveryRow]) -> None:
        self._many(
            "INSERT INTO deliveries (alert_key, rule_id, body, created_at, attempts, next_at, status, last_error,"
            " delivered_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (alert_key) DO NOTHING",
            [(d.alert_key, d.rule_id, d.body, d.created_at, d.attempts, d.next_at, d.status, d.last_error,
              d.delivered_at) for d in deliveries],
        )  # fmt: skip

    def read_watch(self) -> dict[str, WatchRow]:
        """What each watching rule last saw."""
        rows = self._exec("SELECT rule_id, state, version, checked_at FROM alert_watch")
        return {str(r[0]): WatchRow(str(r[0]), str(r[1]), int(r[2]), float(r[3])) for r in rows}

    def keep_watch(self, seen: Sequence[WatchRow], deliveries: Sequence[DeliveryRow]) -> None:
        """What the watching rules saw now and the alerts their changes made, in one transaction."""
        with self._tx():
            self._keep_deliveries(deliveries)
            self._many(
                "INSERT INTO alert_watch (rule_id, state, version, checked_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (rule_id) DO UPDATE SET state = excluded.state, version = excluded.version,"
                " checked_at = excluded.checked_at",
                [(w.rule_id, w.state, w.version, w.checked_at) for w in seen],
            )

    def existing_alerts(self, keys: Sequence[str]) -> set[str]:
        """Which of these alert keys are kept already."""
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            marks = ", ".join(["%s"] * len(part))
            found |= {
                str(r[0]) for r in self._exec(f"SELECT alert_key FROM deliveries WHERE alert_key IN ({marks})", part)
            }
        return found

    def due_deliveries(self, now: float, most: int = 100) -> list[DeliveryRow]:
        rows = self._exec(
            f"SELECT {_DELIVERY} FROM deliveries WHERE status = 'pending' AND next_at <= %s ORDER BY next_at LIMIT %s",
            (now, most),
        )
        return [DeliveryRow(*r) for r in rows]

    def read_deliveries(self, rule_ids: Sequence[str], status: str | None = None) -> list[DeliveryRow]:
        if not rule_ids:
            return []
        marks = ", ".join(["%s"] * len(rule_ids))
        extra, args = ("AND status = %s", [*rule_ids, status]) if status else ("", list(rule_ids))
        rows = self._exec(
            f"SELECT {_DELIVERY} FROM deliveries WHERE rule_id IN ({marks}) {extra} ORDER BY created_at", args
        )
        return [DeliveryRow(*r) for r in rows]

    def update_deliveries(self, done: Sequence[DeliveryRow]) -> None:
        """The tries' outcomes, in one transaction."""
        if not done:
            return
        with self._tx():
            self._many(
                "UPDATE deliveries SET attempts = %s, next_at = %s, status = %s, last_error = %s, delivered_at = %s"
                " WHERE alert_key = %s",
                [(d.attempts, d.next_at, d.status, d.last_error, d.delivered_at, d.alert_key) for d in done],
            )

    # free-text intake: the review queue and the labels verifiers give
    def add_reviews(self, rows: Sequence[ReviewRow]) -> None:
        with self._tx():
            self._many(
                "INSERT INTO text_review (review_id, received_at, source, text, parse, state, reviewer, reviewed_at,"
                " note) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (review_id) DO NOTHING",
                [(r.review_id, r.received_at, r.source, r.text, r.parse, r.state, r.reviewer, r.reviewed_at, r.note)
                 for r in rows],
            )  # fmt: skip

    def read_reviews(self, state: str | None = "pending", limit: int = 100) -> list[ReviewRow]:
        where, args = ("WHERE state = %s", [state]) if state else ("", [])
        rows = self._exec(
            "SELECT review_id, received_at, source, text, parse, state, reviewer, reviewed_at, note FROM text_review"
            f" {where} ORDER BY received_at, review_id LIMIT %s",
            [*args, limit],
        )
        return [ReviewRow(*r) for r in rows]

    def close_review(self, review_id: str, state: str, reviewer: str, note: str, label: tuple[str, str] | None) -> bool:
        """A pending review closed (accepted, corrected or rejected) and, with a label, the label kept — in one
        transaction. False when it is not pending (closed already, or no such review)."""
        with self._tx():
            cursor = self._exec(
                "UPDATE text_review SET state = %s, reviewer = %s, reviewed_at = %s, note = %s"
                " WHERE review_id = %s AND state = 'pending'",
                (state, reviewer, time.time(), note, review_id),
            )
            if cursor.rowcount != 1:
                return False
            if label is not None:
                text, labelled = label
                digest = hashlib.sha256(text.encode()).hexdigest()
                self._exec("DELETE FROM text_labels WHERE text_hash = %s", (digest,))
                self._exec(
                    "INSERT INTO text_labels (text_hash, text, label, labelled_by, labelled_at)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (digest, text, labelled, reviewer, time.time()),
                )
        return True

    def read_labels(self) -> dict[str, tuple[str, str]]:
        """Every label verifiers gave: text hash → (text, label JSON)."""
        return {str(r[0]): (str(r[1]), str(r[2])) for r in self._exec("SELECT text_hash, text, label FROM text_labels")}

    # status reports (the board's input)
    def read_status(self, since_s: float, until_s: float) -> StatusRows:
        """Infrastructure and service status reports observed in [since_s, until_s), as columns."""
        rows = self._exec(
            "SELECT observed_at, kind, source, attrs, lon, lat, h3_r9 FROM reports WHERE kind IN (%s, %s)"
            " AND observed_at >= %s AND observed_at < %s ORDER BY observed_at, seq",
            ("infrastructure_status", "service_status", int(since_s), int(until_s)),
        ).fetchall()
        attrs = [json.loads(r[3]) if r[3] else {} for r in rows]
        return StatusRows(
            t_s=np.array([r[0] for r in rows], dtype=np.float64),
            item=[a.get("utility") or a.get("service") or "" for a in attrs],
            status=[a.get("status") or "" for a in attrs],
            source=[r[2] for r in rows],
            place=[a.get("place") or a.get("source_record_id") or "" for a in attrs],
            lon=np.array([r[4] for r in rows], dtype=np.float64),
            lat=np.array([r[5] for r in rows], dtype=np.float64),
            utility=np.array([r[1] == "infrastructure_status" for r in rows], dtype=bool),
        )


def _asker_tail(a: AskerRow) -> tuple[Any, ...]:
    return (a.asked_at, a.relation, a.channel, a.callback_confirmed, a.asker_key, a.personal)
