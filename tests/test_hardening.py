"""The service against a hostile reporter and a careless client (issue 12's findings, one test each)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from greyzone.cli import app as cli
from greyzone.service.app import Limits, create_app
from greyzone.settings import Settings

runner = CliRunner()
CELL_SPOT = {"lon": 37.25, "lat": 48.31, "location_precision_m": 50}  # a quiet corner of the demo city
AGED = 25 * 3600  # the public's clock, moved past the 24-hour delay


def report(minute: int, source: str, kind: str = "shelling", **more: Any) -> dict[str, Any]:
    return {"kind": kind, "observed_at": f"2024-11-20T10:{minute:02d}:00Z", **CELL_SPOT, "source": source} | more


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("hard")
    db = folder / "h.db"
    runner.invoke(cli, ["demo", "--db", str(db), "--dir", str(folder / "s"), "--days", "3", "--json"])
    tokens = {}
    for name, role in (("alice", "reporter"), ("bob", "reporter"), ("vera", "verifier"), ("ana", "analyst")):
        out = runner.invoke(cli, ["user", "add", name, "--role", role, "--db", str(db), "--json"])
        tokens[name] = json.loads(out.stdout)["token"]
    return {"db": db, "tokens": tokens}


def api(site: dict[str, Any], aged: bool = False) -> TestClient:
    clock = (lambda: time.time() + AGED) if aged else time.time
    limits = Limits(per_minute=100_000, clock=clock, layer_ttl_s=0.0)  # every question answered afresh
    return TestClient(create_app(Settings(db_path=site["db"]), limits))


def bearer(site: dict[str, Any], name: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {site['tokens'][name]}"} | more


def public_count(client: TestClient, hour: str = "2024-11-20T10:00:00+00:00", query: str = "") -> int | None:
    layer = client.get(f"/api/layers/incidents?since=2024-11-20T00:00:00Z&until=2024-11-21T00:00:00Z{query}").json()
    found = [f["properties"]["reports"] for f in layer["features"] if f["properties"]["hour"] == hour]
    return found[0] if found else None


def test_a_differencing_reporter_learns_nothing_of_the_hidden_counts(site: dict[str, Any]) -> None:
    """Finding 2: three vetted reports hide in a cell-hour; a reporter adds four back-dated ones to push it
    over five and subtract. Reporters' reports never count for the public, so nothing shows; the vetted
    count shows once it reaches five, and only it; sliding the window by minutes changes nothing."""
    aged = api(site, aged=True)
    vetted = [report(m, f"v{m}") for m in range(3)]
    assert aged.post("/api/reports", json=vetted, headers=bearer(site, "vera")).status_code == 201
    assert public_count(aged) is None  # three: too few to show
    attack = [report(10 + m, f"a{m}") for m in range(4)]
    assert aged.post("/api/reports", json=attack, headers=bearer(site, "alice")).status_code == 201
    assert public_count(aged) is None  # the reporter's four do not count: 3 stays hidden
    more = [report(20 + m, f"w{m}") for m in range(2)]
    aged.post("/api/reports", json=more, headers=bearer(site, "vera"))
    assert public_count(aged) == 5  # exactly the vetted five, never 9
    assert public_count(api(site)) is None  # received just now: the public waits a day after receipt too
    slid = [public_count(aged, query=f"&since=2024-11-20T10:{m:02d}:00Z") for m in (0, 7, 21, 59)]
    assert slid == [5, 5, 5, 5]  # windows are whole hours: no minute inside the hour is revealed
    fpv = [report(30 + m, f"f{m}", "fpv_strike") for m in range(2)]
    aged.post("/api/reports", json=fpv, headers=bearer(site, "vera"))
    assert public_count(aged) == 5  # two FPV strikes are too few to count, by themselves or in the total
    assert public_count(aged, query="&kind=fpv_strike") is None and public_count(aged, query="&kind=shelling") == 5
    assert api(site).get("/api/health").json() == {"status": "ok"}  # nothing about the data to the public
    assert "reports" in api(site).get("/api/health", headers=bearer(site, "ana")).json()


def test_a_duplicate_id_never_grants_access_to_another_users_report(site: dict[str, Any]) -> None:
    """Finding 3: bob sends a report with the id of alice's; the answer does not reveal hers, and bob
    cannot read it."""
    client = api(site)
    mine = report(40, "x", id="6f0b9a2e-6c1e-4a53-9d9b-0c9e1f0a0001", text="alice's exact note")
    first = client.post("/api/reports", json=mine, headers=bearer(site, "alice")).json()
    again = client.post("/api/reports", json=mine, headers=bearer(site, "alice")).json()
    assert first["accepted"] == 1 and again == {"ids": first["ids"], "accepted": 0, "duplicates": 1}  # her own retry
    borrowed = client.post("/api/reports", json=mine | {"text": "bob"}, headers=bearer(site, "bob")).json()
    assert borrowed["accepted"] == 1 and borrowed["duplicates"] == 0 and borrowed["ids"] != first["ids"]
    seen = client.get("/api/reports?limit=10000", headers=bearer(site, "bob")).json()["reports"]
    assert first["ids"][0] not in {r["id"] for r in seen} and "alice's exact note" not in json.dumps(seen)


def test_reporters_cannot_set_source_or_credibility_and_are_not_named(site: dict[str, Any]) -> None:
    """Finding 4: the source is the reporter's (a keyed name, not the user name); credibility is the
    verifier's; analysts' exports never show a user name."""
    client = api(site)
    claimed = report(45, "synthetic:police", text="claims to be police")
    refused = client.post("/api/reports", json=claimed | {"credibility": 1.0}, headers=bearer(site, "alice"))
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "credibility"
    assert client.post("/api/reports", json=claimed, headers=bearer(site, "alice")).status_code == 201
    as_verifier = report(46, "police", credibility=0.9, text="vera's")
    assert client.post("/api/reports", json=as_verifier, headers=bearer(site, "vera")).status_code == 201
    rows = client.get("/api/export.csv", headers=bearer(site, "ana")).text
    line = next(r for r in rows.splitlines() if "claims to be police" in r)
    sources = {row["source"] for row in csv.DictReader(io.StringIO(rows))}
    assert "synthetic:police" not in line and ",reporter-" in line
    assert not any(name in source for source in sources for name in ("alice", "bob"))  # no user is named
    assert next(r for r in rows.splitlines() if "vera's" in r).count("police") == 1  # a verifier's source stands


def test_an_idempotency_key_reused_with_another_body_is_refused(site: dict[str, Any]) -> None:
    """Finding 8: the same key with a different body is a 409, never a silent 'replay' that drops it."""
    client = api(site)
    key = {"Idempotency-Key": "k-reused-1"}
    assert client.post("/api/reports", json=report(50, "x"), headers=bearer(site, "alice", **key)).status_code == 201
    replay = client.post("/api/reports", json=report(50, "x"), headers=bearer(site, "alice", **key))
    assert replay.status_code == 201 and replay.headers["Idempotent-Replay"] == "true"
    other = client.post("/api/reports", json=report(51, "x"), headers=bearer(site, "alice", **key))
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_conflict"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/reports", "[" * 100_000 + "]" * 100_000),  # nested past the parser's depth
        (
            "POST",
            "/api/reports",
            '{"kind": "shelling", "observed_at": "2024-11-20T10:00:00Z", "lon": '
            + "9" * 5000
            + ', "lat": 48.3, "source": "x"}',
        ),
        (
            "POST",
            "/api/reports",
            '{"kind": "shelling", "observed_at": "2024-11-20T10:00:00Z", "lon": 37.2, "lat": 48.3,'
            ' "source": "x", "text": "\\ud800"}',
        ),
        ("GET", "/api/layers/incidents?until=0001-01-01T00:00:00Z", None),
        ("GET", "/api/layers/hazard?start=0001-01-01T00:00:00Z", None),
        ("POST", "/api/route", '{"city": "demo", "origin": [NaN, NaN], "destination": [37.2, 48.26]}'),
        ("POST", "/api/route", '{"city": "demo", "origin": [Infinity, 48.2], "destination": [37.2, 48.26]}'),
        (
            "POST",
            "/api/route",
            '{"city": "demo", "origin": [37.16, 48.29], "destination": [37.2, 48.26],'
            ' "depart": "9999-12-31T23:00:00Z", "window_minutes": 600}',
        ),
    ],
)
def test_no_input_reaches_a_500(site: dict[str, Any], method: str, path: str, body: str | None) -> None:
    """Finding 6: each of these was a 500; each is now a 4xx in the one error shape."""
    got = api(site).request(
        method, path, content=body, headers=bearer(site, "alice", **{"Content-Type": "application/json"})
    )
    error = got.json()["error"]
    assert 400 <= got.status_code < 500 and error["status"] == got.status_code and error["message"], got.text[:300]


def test_bogus_tokens_are_limited_by_address_and_their_audit_is_aggregated(site: dict[str, Any]) -> None:
    """Finding 5: a flood of bogus tokens is rate-limited before authentication and writes a bounded log."""
    client = TestClient(create_app(Settings(db_path=site["db"]), Limits(denials_per_minute=20)))
    codes = [client.get("/api/whoami", headers={"Authorization": f"Bearer bogus-{i}"}).status_code for i in range(300)]
    assert codes[:20] == [401] * 20 and set(codes[25:]) == {429}  # limited by address after 20 failures
    admin_token = json.loads(
        runner.invoke(cli, ["user", "add", "root1", "--role", "admin", "--db", str(site["db"]), "--json"]).stdout
    )["token"]
    entries = client.get("/api/audit?limit=10000", headers={"Authorization": f"Bearer {admin_token}"}).json()
    denied = [e for e in entries["entries"] if e["action"] == "auth.denied"]
    assert 1 <= len(denied) <= 5  # one per address and minute, not 300


def test_layers_asked_without_a_time_are_computed_once_a_minute(site: dict[str, Any]) -> None:
    """Finding 5: without ``at`` the cache key is the minute, so repeated questions hit the cache."""
    client = api(site)
    gate = client.app.state.gate  # type: ignore[attr-defined]
    for _ in range(20):
        assert client.get("/api/layers/control").status_code in (200, 404)
    keys = [k for k in gate._cache if k[0] == "control"]
    assert len(keys) <= 2  # one key per minute (two if the minute turned during the loop)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_request_stalls_health_while_a_maximal_batch_is_linked(tmp_path: Path) -> None:
    """Finding 1: 5,000 reports at one spot from 5,000 sources (the largest batch allowed) are linked in
    bounded time, off the event loop: /api/health answers within a second all the while."""
    db = tmp_path / "flood.db"
    token = json.loads(
        runner.invoke(cli, ["user", "add", "v", "--role", "verifier", "--db", str(db), "--json"]).stdout
    )["token"]
    port = free_port()
    env = os.environ | {"GREYZONE_DB": str(db)}
    server = subprocess.Popen(
        [sys.executable, "-c", "from greyzone.cli import main; main()", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/api/health", timeout=2).read()  # noqa: S310 (loopback)
                break
            except OSError:
                time.sleep(0.1)
        flood = json.dumps([report(0, f"src-{i}") for i in range(5000)]).encode()
        done: dict[str, Any] = {}

        def send() -> None:
            started = time.perf_counter()
            request = urllib.request.Request(  # noqa: S310 (http on loopback)
                f"{base}/api/reports",
                data=flood,
                method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 (loopback)
                done["answer"] = json.loads(answer.read())
            done["seconds"] = time.perf_counter() - started

        sender = threading.Thread(target=send)
        sender.start()
        waits = []
        while sender.is_alive():
            t0 = time.perf_counter()
            urllib.request.urlopen(f"{base}/api/health", timeout=10).read()  # noqa: S310 (loopback)
            waits.append(time.perf_counter() - t0)
            time.sleep(0.02)
        sender.join()
        assert done["answer"]["accepted"] == 5000 and done["seconds"] < 30
        assert waits and max(waits) < 1.0, (max(waits), len(waits))
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_tokens_can_be_rotated_and_users_revoked(site: dict[str, Any]) -> None:
    """Finding 8: `greyzone user rotate|revoke`: the old token stops working at once."""
    db = ["--db", str(site["db"])]
    old = json.loads(runner.invoke(cli, ["user", "add", "carol", "--role", "reporter", *db, "--json"]).stdout)["token"]
    client = api(site)
    assert client.get("/api/whoami", headers={"Authorization": f"Bearer {old}"}).status_code == 200
    new = json.loads(runner.invoke(cli, ["user", "rotate", "carol", *db, "--json"]).stdout)["token"]
    assert client.get("/api/whoami", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert client.get("/api/whoami", headers={"Authorization": f"Bearer {new}"}).json()["name"] == "carol"
    assert runner.invoke(cli, ["user", "revoke", "carol", *db]).exit_code == 0
    assert client.get("/api/whoami", headers={"Authorization": f"Bearer {new}"}).status_code == 401
    assert runner.invoke(cli, ["user", "revoke", "carol", *db]).exit_code == 2  # no such user: said so
