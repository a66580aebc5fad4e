"""The web map in a real browser: Debian's chromium driven by playwright-core (npm) against a real server.

`web/tests/map_check.mjs` loads the map, toggles each layer, moves the time slider, plans a route,
sends a report, switches to Ukrainian and opens it on a 360-px phone; its screenshots are kept under
test-artefacts/map/. This test asserts on what it saw: the pixels where MapLibre drew each layer
change when the layer is switched off, and the place and values there are the API's."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import Point, shape
from typer.testing import CliRunner

from conftest import SHARED_DATA
from greyzone.cli import app as cli
from greyzone.store.base import ReportQuery
from greyzone.store.sqlite import SqliteStore
from scenarios import demo_city

ROOT = Path(__file__).resolve().parent.parent
ARTEFACTS = ROOT / "test-artefacts" / "map"
runner = CliRunner()
FROM, TO = (37.16, 48.29), (37.20, 48.26)


def need_browser() -> None:
    vendor = ROOT / "src/greyzone/service/static/vendor/maplibre-gl.js"
    missing = [
        what
        for what, there in (
            ("/usr/bin/chromium", Path("/usr/bin/chromium").exists()),
            ("node", shutil.which("node") is not None),
            ("web/node_modules", (ROOT / "web/node_modules/playwright-core").exists()),
            ("the bundled MapLibre", vendor.exists()),
        )
        if not there
    ]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"missing for the browser test: {', '.join(missing)} (`make test` installs them)")
        pytest.skip(f"missing for the browser test: {', '.join(missing)} (`make test` installs them)")


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 (loopback only)
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    need_browser()
    folder = tmp_path_factory.mktemp("map")
    db = str(demo_city(folder))
    runner.invoke(cli, ["hazard", "fit", "--db", db, "--kind", "shelling", "--res", "8"])
    added = [
        runner.invoke(cli, ["user", "add", name, "--role", role, "--db", db, "--json"])
        for name, role in (("crew", "reporter"), ("desk", "analyst"))
    ]
    tokens = [json.loads(a.stdout)["token"] for a in added]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    places = SHARED_DATA / "gazetteer"
    labels = ["--gazetteer", str(places)] if places.exists() else []  # settlement labels from the real gazetteer
    server = _serve(db, port, folder / "serve.log", *labels)
    try:
        shutil.rmtree(ARTEFACTS, ignore_errors=True)
        ARTEFACTS.mkdir(parents=True)
        ends = [",".join(map(str, p)) for p in (FROM, TO)]
        result = _node("map_check.mjs", url, str(ARTEFACTS), *tokens, *ends)
        result["db"], result["url"] = db, url
        at = urllib.parse.quote(result["layers"]["control"].get("at") or "")
        result["control_api"] = get(f"{url}/api/layers/control?at={at}")  # what the page was shown
        return result
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_page_loads_offline_with_its_own_streets(seen: dict[str, Any]) -> None:
    assert seen["errors"] == [] and seen["offsite"] == []  # nothing fetched from anywhere but the app
    assert seen["streets"] > 30  # the basemap's lines differ from the background
    assert (ARTEFACTS / "map.png").stat().st_size > 10_000


@pytest.mark.parametrize("layer", ["control", "hazard", "incidents", "corridors"])
def test_each_layer_draws_its_features_where_they_are(seen: dict[str, Any], layer: str) -> None:
    got = seen["layers"][layer]
    assert got["features"] > 0 and got.get("change", 0) > 30, got  # on ≠ off at a pixel where it is drawn
    assert (ARTEFACTS / f"layer-{layer}.png").exists()
    lon, lat = got["lonlat"]
    if layer == "hazard":  # the cell under that pixel is a forecast cell with that rate
        assert got["properties"]["rate"] > 0 and "events per km²" in got["legend"]
        assert "usual level ▲" in got["legend"] and got["usualMark"] == 1  # the area's usual level on the fixed scale
    if layer == "control":
        assert all(word in got["legend"] for word in ("held", "other side", "contested", "unconfirmed"))
    if layer == "incidents":
        assert got["properties"]["kind"] and "precision_m" in got["properties"]
    if layer == "corridors":
        assert got["properties"]["status"] in {"open", "threatened", "risky", "cut"}
        assert got["properties"]["reason"].startswith(got["properties"]["status"] + ": ")
        assert "threatened" in got["legend"] and got["properties"]["gate"] in got["legend"]  # each way out, why
        assert got["properties"]["reason"].split(": ", 1)[1] in got["legend"]
    assert 36.9 < lon < 37.45 and 48.1 < lat < 48.45  # the demo city and its roads out (14 km west to 36.99)


def test_labels_name_the_places_where_they_are(seen: dict[str, Any]) -> None:
    """Street names and gates from the city's own graph; settlements from the gazetteer, each drawn where
    the gazetteer puts it, its text drawn in pixels (they change when labels are hidden)."""
    labels = seen["labels"]
    streets = {label["text"] for label in labels if "street" in label["kind"]}
    gates = {label["text"] for label in labels if "gate" in label["kind"]}
    assert "Selydove road (S)" in streets and len(streets) > 10 and "Myrnohrad road (E)" in gates
    if not (SHARED_DATA / "gazetteer").exists():
        pytest.skip(f"settlement labels need the real gazetteer at {SHARED_DATA / 'gazetteer'}")
    from greyzone.ingest.gazetteer import Gazetteer

    gazetteer = Gazetteer.from_dir(SHARED_DATA / "gazetteer")
    places = [label for label in labels if "place" in label["kind"]]
    assert places and any(label["text"] == "Pokrovsk" for label in places)  # the English page: the Latin spelling
    assert len({label["text"] for label in places}) == len(places)  # one label per settlement, not one per spelling
    for label in places:
        known = gazetteer.lookup(label["text"])
        assert known, label["text"]  # a name the gazetteer holds
        if label["shown"]:  # drawn centred on its point
            assert (
                abs(label["x"] + label["w"] / 2 - label["px"]) < 2
                and abs(label["y"] + label["h"] / 2 - label["py"]) < 2
            )
    pixels = seen["labelPixels"]
    assert pixels["changed"] >= 3, pixels  # the text is drawn


def test_the_control_pixel_is_inside_the_apis_polygon_of_that_state(seen: dict[str, Any]) -> None:
    got = seen["layers"]["control"]
    state = got["properties"]["state"]
    inside = [
        f for f in seen["control_api"]["features"] if shape(f["geometry"]).buffer(1e-4).contains(Point(*got["lonlat"]))
    ]
    assert [f["properties"]["state"] for f in inside] == [state]
    assert shapely.is_valid(shape(inside[0]["geometry"]))


def test_a_click_on_a_cell_opens_its_state_and_as_of(seen: dict[str, Any]) -> None:
    popup = seen["popup"]
    state = {"held": "held", "other_side": "other side", "contested": "contested", "unconfirmed": "unconfirmed"}
    assert popup["text"].startswith(state[popup["state"]]) and "control as of 2024-11-" in popup["text"]
    assert "Kyiv time" in popup["text"]


def test_the_slider_replays_the_control_map(seen: dict[str, Any]) -> None:
    s = seen["slider"]
    assert s["changed"] and s["before"] != s["after"] and "2024-11-0" in s["after"]
    assert s["after"].endswith("Kyiv time") and "UTC" not in s["after"]  # one clock: the city's, labelled


def test_a_route_is_planned_from_taps_and_drawn(seen: dict[str, Any]) -> None:
    r = seen["route"]
    assert r["reachable"] and r["risk"] > 0 and r["curve"] == 9 and "risk" in r["text"]
    assert "about 1 in " in r["text"] and "Kyiv time" in r["text"] and "UTC" not in r["text"]
    red, _, blue = r["pixel"]
    assert blue > 200 and red < 80  # the route's blue line is where its geometry is
    assert abs(r["from"][0] - FROM[0]) < 0.01 and abs(r["to"][1] - TO[1]) < 0.01
    assert "where the risk is" in r["text"] and "shelling" in r["text"]


def test_an_area_tapped_to_avoid_is_kept_out_of(seen: dict[str, Any]) -> None:
    a = seen["avoid"]  # tapped on the first route's middle, 200 m around
    assert a["reachable"] and a["drawn"] == 1 and a["painted"]
    assert a["nearest_m"] > 150 and "areas to avoid" in a["notes"]


def test_where_one_can_get_is_drawn_within_its_bounds(seen: dict[str, Any]) -> None:
    r = seen["reach"]
    assert r["streets"] > 10 and r["painted"] and r["worst"] <= 15 and r["risk"] <= r["maxRisk"] == 1e-4
    assert r["text"] == f"{r['streets']} streets reached within 15 min below a risk of about 1 in 10,000"


def test_a_reporter_sends_a_report_that_is_stored(seen: dict[str, Any]) -> None:
    assert seen["report"].startswith("stored, id ")
    report_id = seen["report"].split()[-1]
    with SqliteStore.open(seen["db"]) as store:
        stored = [r for r in store.read_reports(ReportQuery()) if str(r.report_id) == report_id]
    assert len(stored) == 1 and stored[0].text == "browser test"
    assert stored[0].source.startswith("reporter-")  # a reporter's source is the reporter (keyed), not "web"


def test_ukrainian_and_a_phone(seen: dict[str, Any]) -> None:
    assert seen["ukrainian"] == "Шари" and seen["phone"]["label"] == "Шари"
    assert seen["englishLeft"] == []  # no string of the UI's English list on any tab, the route result included
    uk = seen["ukRoute"]
    assert "ризик: приблизно 1 з " in uk and "за Києвом" in uk and "about 1 in" not in uk
    assert "немає моделі — цей ризик їх не враховує" in uk  # the server's warnings, said from their codes
    assert seen["phone"]["width"] <= 360 and seen["phone"]["map"] > 200 and seen["phone"]["panel"] <= 360
    assert (ARTEFACTS / "phone.png").exists()
    route = seen["phone"]["route"]  # the result in view on the phone, the page itself not scrolled
    assert route["top"] >= 0 and route["bottom"] <= route["height"] and route["pageScroll"] == 0
    assert route["text"].startswith("ризик: приблизно 1 з ")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _node(script: str, *args: str) -> dict[str, Any]:
    """Run a browser check of web/tests/ and read the JSON it prints last."""
    done = subprocess.run(
        ["node", str(ROOT / "web/tests" / script), *args], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _serve(db: str, port: int, log: Path, *options: str) -> subprocess.Popen[bytes]:
    """``greyzone serve`` on the store, on loopback, once it answers."""
    cli_args = ["serve", "--db", db, "--port", str(port), *options]
    with log.open("ab") as out:  # the server writes to its own copy of the descriptor
        server = subprocess.Popen(
            [sys.executable, "-c", "from greyzone.cli import main; main()", *cli_args], stdout=out, stderr=out
        )
    for _ in range(150):
        try:
            get(f"http://127.0.0.1:{port}/api/health")
            return server
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server did not start")


def _phase(phase: str, url: str, profile: Path, token: str) -> dict[str, Any]:
    out = str(ARTEFACTS.parent / "offline")
    result = _node(
        "offline_check.mjs", phase, url, str(profile), out, token, *(",".join(map(str, p)) for p in (FROM, TO))
    )
    assert result["errors"] == [], result["errors"]
    return result


def test_in_the_field_without_a_network(tmp_path: Path) -> None:
    """The map reloads with the server gone and the browser offline, shows how old its data is, plans a
    route in the browser; a report typed offline is kept when the token is refused and sent exactly once
    when the network and a good token return."""
    need_browser()
    db = str(demo_city(tmp_path))
    runner.invoke(cli, ["hazard", "fit", "--db", db, "--kind", "shelling", "--res", "8"])
    crew = json.loads(runner.invoke(cli, ["user", "add", "crew", "--role", "reporter", "--db", db, "--json"]).stdout)
    port = _free_port()
    url, profile, log = f"http://127.0.0.1:{port}", tmp_path / "profile", tmp_path / "serve.log"
    (ARTEFACTS.parent / "offline").mkdir(parents=True, exist_ok=True)
    server = _serve(db, port, log)
    try:
        warm = _phase("warm", url, profile, crew["token"])
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert warm["controlled"] and warm["bundle"] is True
    off = _phase("offline", url, profile, crew["token"])  # nothing listens on the port now
    assert off["streets"] > 30 and off["banner"].startswith("no network — showing the data kept from")
    assert "Kyiv time" in off["banner"] and " old)" in off["banner"]
    assert off["control"] > 0 and off["cachedWithToken"] == []  # the kept control map; no token's answer cached
    route = off["route"]
    assert route["offline"] and route["reachable"] and route["points"] >= 2 and 0 < route["risk"] < 1
    assert "offline estimate, planned in this browser" in route["text"] and "leaves out: FPV drones" in route["text"]
    assert off["report"].startswith("kept on this device") and off["outbox"] == 1
    assert (ARTEFACTS.parent / "offline" / "offline-route.png").stat().st_size > 10_000
    with SqliteStore.open(db) as store:
        assert not [r for r in store.read_reports(ReportQuery()) if r.text == "typed offline"]
    assert runner.invoke(cli, ["user", "revoke", "crew", "--db", db]).exit_code == 0
    server = _serve(db, port, log)
    try:
        refused = _phase("online", url, profile, crew["token"])  # the queued report meets a revoked token
        assert refused["outbox"] == 1 and "token was refused" in refused["report"]  # kept, and the user told
        new = json.loads(
            runner.invoke(cli, ["user", "add", "crew2", "--role", "reporter", "--db", db, "--json"]).stdout
        )
        sent = _phase("online", url, profile, new["token"])
        again = _phase("online", url, profile, new["token"])  # a later visit sends nothing more
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert sent["outbox"] == 0 and sent["report"].startswith("stored, id") and again["posts"] == 0
    with SqliteStore.open(db) as store:
        stored = [r for r in store.read_reports(ReportQuery()) if r.text == "typed offline"]
    assert len(stored) == 1  # exactly once
    timings = sorted(off["timings"])
    (ARTEFACTS.parent / "offline" / "timings.json").write_text(json.dumps({"p50_ms": timings[len(timings) // 2]}))
