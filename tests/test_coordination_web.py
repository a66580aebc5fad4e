"""The coordinator's board and the residents' page in a real browser (Debian's chromium, playwright-core)
against a real server on loopback: the request queue with its reasons, vet → approve → assign, and the
residents' page on a 360-px phone in Ukrainian showing the nearest open bread point. Screenshots are kept
under test-artefacts/coordination/."""

from __future__ import annotations

import json
import shutil
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from greyzone.cli import app as cli
from test_coordination import city  # noqa: F401 (the fixture: the demo city with its coordination demo)
from test_map import _free_port, _node, _serve, need_browser

ROOT = Path(__file__).resolve().parent.parent
ARTEFACTS = ROOT / "test-artefacts" / "coordination"
AT, DAY, HERE = "2024-11-28T12:00:00+02:00", "2024-11-28", (37.166, 48.290)
runner = CliRunner()


def call(url: str, path: str, token: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}{path}", data=data, method="POST" if data else "GET")  # noqa: S310
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 (loopback only)
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def seen(city: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # noqa: F811
    need_browser()
    folder = tmp_path_factory.mktemp("web")
    db = folder / "w.db"
    for suffix in ("", ".key", ".personal.key"):
        shutil.copy(f"{city}{suffix}", f"{db}{suffix}")
    tokens = {
        role: json.loads(
            runner.invoke(cli, ["user", "add", f"{role}-w", "--role", role, "--db", str(db), "--json"]).stdout
        )["token"]
        for role in ("reporter", "coordinator")
    }
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _serve(str(db), port, folder / "serve.log")
    try:
        for point, status in (("sp-bread-2", "open"), ("sp-bread-1", "closed")):  # sp-bread-1: three sources now
            body = {"status": status, "observed_at": "2024-11-28T11:30:00+02:00"}
            call(url, f"/api/services/{point}/status?city=demo", tokens["reporter"], body)
        messages = [
            {"text": "Обстріл Іванівки о 14:20, двоє поранених", "received_at": "2024-11-28T10:00:00+02:00"},
            {"text": "Вибухи в Покровську, є поранені", "received_at": "2024-11-28T10:05:00+02:00"},
        ]
        result_text = call(url, "/api/text", tokens["reporter"], {"messages": messages})
        shutil.rmtree(ARTEFACTS, ignore_errors=True)
        ARTEFACTS.mkdir(parents=True)
        result = _node(
            "coordination_check.mjs", url, str(ARTEFACTS), tokens["coordinator"], AT, DAY, f"{HERE[0]},{HERE[1]}"
        )
        query = f"city=demo&lon={HERE[0]}&lat={HERE[1]}&service=bread&at={urllib.parse.quote(AT)}"
        with urllib.request.urlopen(f"{url}/api/residents?{query}", timeout=60) as answer:  # noqa: S310 (loopback)
            result["api"] = json.loads(answer.read())
        result["queue"] = call(url, "/api/evac?city=demo&state=assigned", tokens["coordinator"])["requests"]
        result["rules"] = call(url, "/api/alerts", tokens["coordinator"])["rules"]
        result["text_taken"] = result_text
        result["reviewed"] = call(url, "/api/text/review?state=all", tokens["coordinator"])["reviews"]
        return result
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_pages_load_from_the_service_alone(seen: dict[str, Any]) -> None:
    assert seen["errors"] == [] and seen["offsite"] == []
    for name in (
        "board-status.png",
        "board-requests.png",
        "residents-360.png",
        "sitrep.png",
        "alerts.png",
        "review.png",
    ):
        assert (ARTEFACTS / name).stat().st_size > 10_000, name


def test_the_board_shows_each_request_with_its_reasons(seen: dict[str, Any]) -> None:
    cards = seen["cards"]
    assert len(cards) >= 20
    lure = [c for c in cards if any("new askers for one spot" in r for r in c["reasons"])]
    assert lure and all(c["level"] in ("medium", "high") for c in lure)
    assert any(r.startswith("approach through") for c in cards for r in c["reasons"])
    statuses = {row[2].split(":")[0] for row in seen["statusRows"]}
    assert {"conflicting", "unknown"} <= statuses and statuses & {"out", "intermittent"}


def test_approve_then_assign_a_crew_from_the_board(seen: dict[str, Any]) -> None:
    assert seen["picked"], "no low-suspicion request under vetting in the demo"
    assert seen["afterApprove"]["state"] == "approved"
    assert any(c["feasible"] for c in seen["crews"]) and any(not c["feasible"] and c["problems"] for c in seen["crews"])
    assert seen["assigned"]["request"] == seen["picked"] and seen["afterAssign"]["state"] == "assigned"
    stored = {r["request_id"]: r for r in seen["queue"]}
    assert stored[seen["picked"]]["crew_id"] == seen["assigned"]["crew"]  # the store agrees with the page


def test_the_residents_page_on_a_phone_in_ukrainian_shows_the_nearest_open_bread_point(seen: dict[str, Any]) -> None:
    page = seen["residents"]
    assert page["lang"] == "uk" and page["title"] == "Де хліб, вода, ліки сьогодні"
    assert page["scrollWidth"] <= 360  # nothing wider than the phone
    nearest_open = next(p for p in seen["api"]["points"] if p["open_now"])
    shown = {p["name"]: p for p in page["points"]}
    assert nearest_open["name"] in shown and "відчинено зараз" in shown[nearest_open["name"]]["status"]
    assert "за київським часом" in shown[nearest_open["name"]]["status"]
    assert all("не публікується" not in p["name"] for p in page["points"])  # the unpublished bakery is never shown
    words = {"open": "відчинено", "limited": "обмежено", "closed": "зачинено", "unknown": "невідомо"}
    for p in seen["api"]["points"]:  # each status as the API gives it, in Ukrainian
        assert f"· {words[p['status']]}" in shown[p["name"]]["status"], (p, shown[p["name"]])
    assert any(p["status"] == "unknown" for p in seen["api"]["points"])  # two sources disagree on one: unknown


def test_the_sitrep_page_shows_the_report_with_its_maps_drawn(seen: dict[str, Any]) -> None:
    page = seen["sitrep"]
    assert page["heading"] == "Зведення ситуації: demo, 27 листопада 2024" and page["edition"] == "full"
    assert {i["alt"] for i in page["images"]} == {"incidents", "changes", "hazard"}
    assert all(i["w"] > 300 and i["h"] > 200 for i in page["images"])  # decoded, drawn
    assert len(page["mapBytes"]) == 3 and all(n > 10_000 for n in page["mapBytes"])  # pixels on screen, not blank
    assert page["external"] == []


def test_a_rule_drawn_on_the_map_is_stored_with_its_area(seen: dict[str, Any]) -> None:
    import shapely
    from PIL import Image

    assert seen["drawn"] == 4 and seen["alertSaved"] and "shown once" in seen["alertSecret"]
    (rule,) = seen["rules"]
    assert rule["rule_id"] == seen["alertSaved"] and rule["name"] == "centre shelling"
    assert rule["rule"] == {"trigger": "incidents", "kinds": ["glide_bomb", "shelling"], "at_least": 2, "hours": 1.0}
    area = shapely.geometry.shape(rule["area"])
    assert area.geom_type == "Polygon" and area.is_valid and len(area.exterior.coords) == 5  # four corners, closed
    x0, y0, x1, y1 = area.bounds
    assert 36.9 < x0 < x1 < 37.5 and 48.1 < y0 < y1 < 48.5  # drawn over the demo city
    assert [r[0] for r in seen["alertRows"]] == ["centre shelling"]
    shown = ["Name", "Trigger", "Kinds", "At least", "Hours", "Webhook", "format"]
    assert seen["alertFields"] == shown  # the fields of an incidents rule only
    import numpy as np

    pixels = np.asarray(Image.open(ARTEFACTS / "alerts.png").convert("RGB")).astype(int)
    edge = int((np.abs(pixels - [21, 101, 192]).max(axis=2) < 30).sum())
    assert edge > 200  # the stored rule's area drawn on the map (its blue edge)


def test_a_verifier_works_the_review_queue_in_the_browser(seen: dict[str, Any]) -> None:
    assert seen["text_taken"]["queued_for_review"] == 2 and seen["text_taken"]["reports"] == 0  # no gazetteer here
    before = seen["reviewBefore"]
    assert [b["text"] for b in before] == [
        "Обстріл Іванівки о 14:20, двоє поранених",
        "Вибухи в Покровську, є поранені",
    ]
    assert seen["reviewAfter"] == []  # both closed
    states = {r["review_id"]: r["state"] for r in seen["reviewed"]}
    assert states == {before[0]["id"]: "rejected", before[1]["id"]: "corrected"}
