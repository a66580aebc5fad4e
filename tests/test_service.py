"""The API: every endpoint × every role, the one error shape, retry safety, limits, the audit log."""

from __future__ import annotations

import csv
import io
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from greyzone.cli import app as cli
from greyzone.service.app import Limits, create_app
from greyzone.settings import Settings
from greyzone.store.sqlite import SqliteStore
from scenarios import demo_city

runner = CliRunner()
ROLES = ("public", "reporter", "verifier", "analyst", "coordinator", "admin")
REPORT = {
    "kind": "shelling",
    "observed_at": "2024-11-27T09:15:00Z",
    "lon": 37.18,
    "lat": 48.283,
    "location_precision_m": 100,
    "source": "police",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo scenario with its city, and one user per role (tokens from `greyzone user add`)."""
    folder = tmp_path_factory.mktemp("svc")
    db = str(demo_city(folder))  # 28 days to 2024-11-28
    tokens: dict[str, str | None] = {"public": None}
    for role in ROLES[1:]:
        out = runner.invoke(cli, ["user", "add", f"{role}1", "--role", role, "--db", db, "--json"])
        assert out.exit_code == 0, out.output
        tokens[role] = json.loads(out.stdout)["token"]
    return {"db": Path(db), "tokens": tokens}


def client(demo: dict[str, Any], **limits: Any) -> TestClient:
    return TestClient(create_app(Settings(db_path=demo["db"]), Limits(**limits)))


def headers(token: str | None, **more: str) -> dict[str, str]:
    return ({"Authorization": f"Bearer {token}"} if token else {}) | more


def assert_error(response: Any, status: int) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == status and set(body) == {"error"}, (response.status_code, body)
    assert body["error"]["status"] == status and body["error"]["code"] and body["error"]["message"]
    return dict(body["error"])


WINDOW = "since=2024-11-20T00:00:00Z&until=2024-12-01T00:00:00Z"
ENDPOINTS: list[tuple[str, str, Any, str]] = [  # method, path, JSON body, least role
    ("GET", "/api/health", None, "public"),
    ("GET", "/api/span", None, "public"),
    ("GET", "/api/whoami", None, "public"),
    ("POST", "/api/reports", REPORT, "reporter"),
    ("GET", "/api/reports", None, "reporter"),
    ("GET", "/api/incidents", None, "verifier"),
    ("GET", "/api/export.csv", None, "analyst"),
    ("GET", f"/api/layers/incidents?{WINDOW}", None, "public"),
    ("GET", "/api/layers/control?at=2024-11-28T12:00:00Z", None, "public"),
    ("GET", "/api/cities", None, "public"),
    (
        "POST",
        "/api/route",
        {
            "city": "demo",
            "origin": [37.16, 48.29],
            "destination": [37.20, 48.26],
            "mode": "car",
            "depart": "2024-11-28T10:00:00Z",
        },
        "public",
    ),
    ("POST", "/api/users", {"name": "x", "role": "reporter"}, "admin"),
    ("GET", "/api/audit", None, "admin"),
]


def test_every_endpoint_for_every_role(demo: dict[str, Any]) -> None:
    api = client(demo)
    rank = {r: i for i, r in enumerate(ROLES)}
    for method, path, payload, least in ENDPOINTS:
        for role in ROLES:
            body = {"name": f"new-{role}", "role": "reporter"} if path == "/api/users" else payload
            got = api.request(method, path, json=body, headers=headers(demo["tokens"][role]))
            if rank[role] >= rank[least]:
                assert got.status_code in (200, 201), (method, path, role, got.status_code, got.text[:300])
            else:
                assert_error(got, 401 if role == "public" else 403)
    who = api.get("/api/whoami", headers=headers(demo["tokens"]["verifier"])).json()
    assert who == {"name": "verifier1", "role": "verifier"}
    assert_error(api.get("/api/whoami", headers=headers("not-a-token")), 401)


def test_the_public_sees_counts_of_five_or_more_rounded_and_delayed(demo: dict[str, Any]) -> None:
    """Vetted reports (a verifier's), seen a day and more after they were received (the clock moved on)."""
    api = client(demo, clock=lambda: time.time() + 25 * 3600)
    crowd = [
        REPORT | {"observed_at": f"2024-11-26T14:{m:02d}:00Z", "lon": 37.2001 + m * 1e-5, "source": f"s{m}"}
        for m in range(6)
    ]  # six reports in one cell and hour: shown, as a count
    few = [REPORT | {"observed_at": f"2024-11-26T15:{m:02d}:00Z", "lon": 37.3001, "source": f"t{m}"} for m in range(4)]
    assert api.post("/api/reports", json=crowd + few, headers=headers(demo["tokens"]["verifier"])).status_code == 201
    public = api.get(f"/api/layers/incidents?{WINDOW}").json()
    full = api.get(f"/api/layers/incidents?{WINDOW}", headers=headers(demo["tokens"]["analyst"])).json()
    assert public["aggregated"] and not full["aggregated"] and public["delayed_h"] == 24
    assert full["features"] and all(f["geometry"]["type"] == "Point" for f in full["features"])
    assert public["features"] and all(f["properties"]["reports"] >= 5 for f in public["features"])
    shown = {(f["properties"]["hour"], f["properties"]["reports"]) for f in public["features"]}
    assert ("2024-11-26T14:00:00+00:00", 6) in shown
    assert not any(hour == "2024-11-26T15:00:00+00:00" for hour, _ in shown)  # four is too few to show
    for f in public["features"]:
        for x, y in [*f["geometry"]["coordinates"][0], f["properties"]["centre"]]:
            assert round(x, 3) == x and round(y, 3) == y
        assert set(f["properties"]) == {"cell", "hour", "reports", "centre"}  # nothing about reporters
    assert sum(f["properties"]["reports"] for f in public["features"]) < len(full["features"])  # small cells left out
    recent = api.get("/api/layers/incidents").json()  # the newest day is withheld from the public
    assert recent["until"] < api.get("/api/layers/incidents", headers=headers(demo["tokens"]["analyst"])).json().get(
        "until", "9999"
    )


def test_reporters_see_their_own_reports_and_bad_ones_are_refused_whole(demo: dict[str, Any]) -> None:
    api = client(demo)
    mine = {**REPORT, "observed_at": "2024-11-27T10:00:00Z", "text": '=HYPERLINK("http://x")'}
    stored = api.post("/api/reports", json=mine, headers=headers(demo["tokens"]["reporter"]))
    assert stored.status_code == 201 and stored.json()["accepted"] == 1
    own = api.get("/api/reports", headers=headers(demo["tokens"]["reporter"])).json()
    assert stored.json()["ids"][0] in {r["id"] for r in own["reports"]}
    everyone = api.get("/api/reports?limit=10000", headers=headers(demo["tokens"]["analyst"])).json()
    assert everyone["count"] > own["count"] >= 1
    analyst = headers(demo["tokens"]["analyst"])
    before = api.get("/api/health", headers=analyst).json()["reports"]
    bad = [REPORT | {"observed_at": "2024-11-27T11:00:00Z"}, REPORT | {"lat": 95}, REPORT | {"kind": "rumour"}]
    refused = assert_error(
        api.post("/api/reports", json={"reports": bad}, headers=headers(demo["tokens"]["reporter"])), 422
    )
    assert {(d["row"], d["field"]) for d in refused["details"]} == {(2, "lat"), (3, "kind")}
    assert api.get("/api/health", headers=analyst).json()["reports"] == before  # none of the three stored
    listed = api.get("/api/incidents?limit=10000", headers=headers(demo["tokens"]["verifier"])).json()["incidents"]
    assert listed and sum(i["reports"] for i in listed) == everyone["count"]  # every report in one incident
    assert any(i["reports"] > 1 and i["sources"] > 1 for i in listed)  # the demo's reports of one event merge
    exported = api.get("/api/export.csv", headers=headers(demo["tokens"]["analyst"]))
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert any(r["text"] == '\'=HYPERLINK("http://x")' for r in rows)  # a spreadsheet will not run it
    assert not any(r["text"].startswith(("=", "+", "-", "@")) for r in rows)


def test_retried_submissions_are_stored_once(demo: dict[str, Any], tmp_path: Path) -> None:
    """1,000 submissions; 30 % of the answers are lost and the client retries with the same key."""
    db = tmp_path / "retry.db"
    token = json.loads(
        runner.invoke(cli, ["user", "add", "crew", "--role", "reporter", "--db", str(db), "--json"]).stdout
    )["token"]
    api = TestClient(create_app(Settings(db_path=db), Limits(per_minute=100_000)))
    rng = random.Random(7)
    answers = {}
    for i in range(1000):
        report = REPORT | {
            "observed_at": f"2024-11-{1 + i % 27:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
            "lon": 37.1 + i * 1e-4,
        }
        key = f"crew-{i}"
        first = api.post("/api/reports", json=report, headers=headers(token, **{"Idempotency-Key": key}))
        while rng.random() < 0.3:  # the answer was lost: send again
            again = api.post("/api/reports", json=report, headers=headers(token, **{"Idempotency-Key": key}))
            assert again.json()["ids"] == first.json()["ids"] and again.headers.get("Idempotent-Replay") == "true"
        answers[key] = first.json()["ids"][0]
    assert len(set(answers.values())) == 1000
    with SqliteStore.open(db) as store:
        assert store.stats().reports == 1000


def test_limits_answer_413_and_429_with_retry_after(demo: dict[str, Any]) -> None:
    api = client(demo, max_body_bytes=1000, per_minute=5)
    token = demo["tokens"]["reporter"]
    big = assert_error(api.post("/api/reports", content=b"[" + b" " * 5000 + b"]", headers=headers(token)), 413)
    assert "1000 bytes" in big["message"]
    answers = [api.get("/api/whoami", headers=headers(demo["tokens"]["analyst"])) for _ in range(8)]
    assert [a.status_code for a in answers[:5]] == [200] * 5
    limited = answers[-1]
    assert_error(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1


def test_the_audit_log_records_authentication_denials_exports_and_admin_actions(demo: dict[str, Any]) -> None:
    api = client(demo)
    api.get("/api/export.csv", headers=headers(demo["tokens"]["reporter"]))  # denied
    api.get("/api/export.csv", headers=headers(demo["tokens"]["analyst"]))
    api.get("/api/whoami", headers=headers("forged"))
    api.post("/api/users", json={"name": "medic7", "role": "reporter"}, headers=headers(demo["tokens"]["admin"]))
    entries = api.get("/api/audit?limit=10000", headers=headers(demo["tokens"]["admin"])).json()["entries"]
    seen = {(e["actor"], e["action"]) for e in entries}
    assert {
        ("reporter1", "denied"),
        ("analyst1", "export.csv"),
        ("unknown", "auth.denied"),
        ("admin1", "user.add"),
        ("analyst1", "auth.ok"),
    } <= seen
    assert all(e["at"].endswith("+00:00") for e in entries)
    again = {"name": "medic7", "role": "reporter"}
    assert_error(api.post("/api/users", json=again, headers=headers(demo["tokens"]["admin"])), 409)


def test_layers_and_routes_say_what_is_not_available(demo: dict[str, Any]) -> None:
    api = client(demo)
    hazard = assert_error(api.get("/api/layers/hazard"), 404)
    assert hazard["code"] == "not_available" and "hazard fit" in hazard["message"]
    control = api.get("/api/layers/control?at=2024-11-28T12:00:00Z").json()
    assert {f["properties"]["state"] for f in control["features"]} >= {"held", "other_side"}
    assert_error(api.get("/api/layers/control?at=2000-01-01T00:00:00Z"), 404)
    route = api.post(
        "/api/route",
        json={
            "city": "demo",
            "origin": [37.16, 48.29],
            "destination": [37.20, 48.26],
            "mode": "car",
            "depart": "2024-11-28T10:00:00Z",
            "window_minutes": 120,
            "step_minutes": 30,
        },
    ).json()
    assert route["reachable"] and route["minutes"] > 0 and len(route["curve"]) == 5
    assert route["geometry"]["type"] == "LineString" and len(route["geometry"]["coordinates"]) > 2
    assert any("hazard" in n for n in route["notes"])  # no model: the risk is unknown, and it says so
    assert_error(api.post("/api/route", json={"city": "atlantis", "origin": [0, 0], "destination": [1, 1]}), 404)
    assert_error(
        api.post("/api/route", json={"city": "demo", "origin": [30.5, 50.4], "destination": [37.2, 48.26]}), 422
    )
    invalid = assert_error(api.post("/api/route", json={"city": "demo", "mode": "tank"}), 422)
    assert {d["field"] for d in invalid["details"]} >= {"body.origin", "body.mode"}


def test_over_capacity_is_answered_503_never_500(demo: dict[str, Any]) -> None:
    api = client(demo, in_flight=0)  # no room at all: every request but health is shed
    busy = api.get("/api/layers/incidents")
    assert_error(busy, 503)
    assert busy.headers["Retry-After"] == "1"
    assert api.get("/api/health").status_code == 200


NAIVE = "2024-11-28T12:00:00"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/api/reports?since={NAIVE}", None),
        ("GET", f"/api/reports?until={NAIVE}", None),
        ("GET", f"/api/incidents?since={NAIVE}", None),
        ("GET", f"/api/export.csv?since={NAIVE}", None),
        ("GET", f"/api/layers/incidents?since={NAIVE}", None),
        ("GET", f"/api/layers/control?at={NAIVE}", None),
        ("GET", f"/api/layers/hazard?start={NAIVE}", None),
        ("GET", f"/api/layers/corridors?city=demo&at={NAIVE}", None),
        (
            "POST",
            "/api/route",
            {"city": "demo", "origin": [37.16, 48.29], "destination": [37.2, 48.27], "depart": NAIVE},
        ),
    ],
)
def test_every_time_without_an_offset_is_refused_naming_the_fix(
    demo: dict[str, Any], method: str, path: str, body: dict[str, Any] | None
) -> None:
    api = client(demo)
    token = demo["tokens"]["admin"]
    answer = api.request(method, path, json=body, headers=headers(token))
    error = assert_error(answer, 422)
    assert "needs its offset" in error["message"] and "+02:00" in error["message"]
    with_offset = api.request(
        method,
        path.replace(NAIVE, NAIVE + "%2B02:00"),
        headers=headers(token),
        json=({**body, "depart": NAIVE + "+02:00"} if body else None),
    )
    assert with_offset.status_code in (200, 404), with_offset.text  # accepted (404: a layer with nothing yet)


def test_the_api_docs_are_served_from_the_package_not_a_cdn(demo: dict[str, Any]) -> None:
    import re

    api = client(demo)
    page = api.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text.lower()
    assert not re.findall(r"https?://(?!127\.0\.0\.1|localhost)[^\"' ]+\.(?:js|css)", page.text)  # nothing off-site
    for asset in re.findall(r"/map/vendor/[\w.-]+", page.text):
        got = api.get(asset)
        assert got.status_code == 200 and len(got.content) > 500, asset  # the bundle, its CSS, the icon
    assert api.get("/redoc").status_code == 404  # FastAPI's CDN page is gone
    assert api.get("/openapi.json").json()["info"]["title"] == "greyzone"


def test_a_route_or_a_layer_never_holds_the_store_for_the_others(
    demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Routes and layers (up to a second of work each) read on their thread's own connection: the one
    store lock that writes and short reads share is free all the while (a caller asking for routes in a
    loop cannot stall the others), and a report stored meanwhile is seen by the next route."""
    from greyzone.service.routers import layers as layers_router
    from greyzone.service.routers import movement as movement_router

    app = create_app(Settings(db_path=demo["db"]), Limits())
    gate = app.state.gate
    seen: list[bool] = []

    def watching(real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            seen.append(gate.lock.locked())
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(movement_router, "plan_route", watching(movement_router.plan_route))
    monkeypatch.setattr(layers_router, "control_map", watching(layers_router.control_map))
    api = TestClient(app)
    trip = {"city": "demo", "origin": [37.16, 48.29], "destination": [37.20, 48.26], "depart": "2024-11-28T10:00:00Z"}
    assert api.post("/api/route", json=trip).status_code == 200
    assert api.get("/api/layers/control?at=2024-11-28T12:00:00Z").status_code == 200
    assert seen == [False, False]  # neither held the lock
    mined = {
        "kind": "mine_uxo",
        "observed_at": "2024-11-28T09:00:00Z",
        "lon": 37.181,
        "lat": 48.2805,
        "location_precision_m": 10,
        "source": "test",
    }
    stored = api.post("/api/reports", json=mined, headers=headers(demo["tokens"]["verifier"]))
    assert stored.status_code in (200, 201), stored.text
    again = api.post("/api/route", json=trip).json()  # the reading connection sees what was just written
    assert any(w["code"] in ("mines_closed", "mines_on_route") for w in again["warning_codes"])
