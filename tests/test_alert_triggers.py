"""The watching alert rules (hazard, ways out, control, services, new evacuation requests, the curfew
window) delivered to a real HTTP receiver on loopback, each alert equal to what a direct computation of the
product says changed; CAP 1.2 messages valid against OASIS's schema (XSD)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from greyzone.application import board as boards
from greyzone.application import evacuation as evac
from greyzone.application.alerts import RuleIn, add_rule, cap_xml, work_once
from greyzone.application.control import fused_control
from greyzone.application.movement import way_out_row, ways_out
from greyzone.application.sitrep import set_curfew
from greyzone.application.watch import look_all
from greyzone.cli import app as cli
from greyzone.control.products import CODE_STATES
from greyzone.errors import InputError
from greyzone.ingest.build import BuildContext, build_batch
from greyzone.ingest.records import RawRecord
from greyzone.model.grid import cell_polygons
from greyzone.service.app import Limits, create_app
from greyzone.settings import Settings
from greyzone.store.base import User
from greyzone.store.sqlite import SqliteStore
from scenarios import demo_city
from test_alerts import Receiver, valid_cap

END = datetime(2024, 11, 7, 21, 0, tzinfo=UTC)  # the last evening of the week the fixture holds
ADMIN, COORD = User("ops", "admin"), User("cora", "coordinator")
CENTRE = (37.18, 48.283)
runner = CliRunner()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A week of the demo city, its clock and curfew set, shelling's hazard fitted, coordination loaded."""
    folder = tmp_path_factory.mktemp("watch")
    db = demo_city(folder, days=7)
    scenario = folder / "s"
    for args in (
        ["city", "import", str(scenario / "streets.geojson"), "--name", "demo", "--gates",
         str(scenario / "gates.geojson"), "--timezone", "Europe/Kyiv", "--curfew", "11:00-15:00"],
        ["hazard", "fit", "--kind", "shelling", "--res", "8"],
        ["demo-coordination", "--dir", str(scenario)],
    ):  # fmt: skip
        got = runner.invoke(cli, [*args, "--db", str(db)])
        assert got.exit_code == 0, got.output
    return db


@pytest.fixture
def db(city: Path, tmp_path: Path) -> Path:
    for suffix in ("", ".key", ".personal.key"):
        if Path(f"{city}{suffix}").exists():
            shutil.copy(f"{city}{suffix}", tmp_path / f"w.db{suffix}")
    return tmp_path / "w.db"


@pytest.fixture
def receiver() -> Any:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def rule(trigger: str, url: str, **more: Any) -> RuleIn:
    return RuleIn("demo", f"{trigger} rule", (), 1, float(more.pop("hours", 6)), url, trigger=trigger, **more)


def bodies(receiver: Receiver, path: str) -> list[dict[str, Any]]:
    return [json.loads(g["body"]) for g in receiver.got if g["path"] == path]


def test_a_way_out_changing_status_is_told_with_what_it_was(db: Path, receiver: Receiver) -> None:
    s = Settings(db_path=db)
    day_before, day = END - timedelta(days=1), END
    with SqliteStore.open(db) as store:
        made = add_rule(store, s, ADMIN, rule("corridor", f"{receiver.url}/ways"))
        work_once(store, s, now=day_before.timestamp())  # the first look: the ways out not open are told
        work_once(store, s, now=day_before.timestamp() + 10)  # looked at 10 s ago: not looked at again
        work_once(store, s, now=day.timestamp())
        before = {g: way_out_row(w)["status"] for g, w in ways_out(store, "demo", day_before, 0, 8)[1].items()}
        after = {g: way_out_row(w)["status"] for g, w in ways_out(store, "demo", day, 0, 8)[1].items()}
        kept = store.read_deliveries([made.rule_id])
    first, second = bodies(receiver, "/ways")
    assert {c["item"]: c["now"] for c in first["changes"]} == {g: v for g, v in before.items() if v != "open"}
    changed = {g: (before[g], after[g]) for g in after if before[g] != after[g]}
    assert changed and {c["item"]: (c["was"], c["now"]) for c in second["changes"]} == changed
    assert [d.alert_key for d in kept] == [f"{made.rule_id}:v1", f"{made.rule_id}:v2"]
    assert all(d.status == "delivered" for d in kept)
    assert "змін" in second["headline_uk"] and second["trigger"] == "corridor"


def test_control_turning_other_side_near_a_point_is_told_cell_by_cell(db: Path, receiver: Receiver) -> None:
    s = Settings(db_path=db)
    t1, t2 = END - timedelta(days=3), END
    with SqliteStore.open(db) as store:
        made = add_rule(
            store, s, ADMIN,
            rule("control", f"{receiver.url}/ground", point=CENTRE, radius_m=12000, states=("other_side", "contested",
                                                                                       "unconfirmed")),
        )  # fmt: skip
        work_once(store, s, now=t1.timestamp())  # the baseline: nothing told
        work_once(store, s, now=t2.timestamp())
        f1, f2 = fused_control(store, t1, 8), fused_control(store, t2, 8)
        s1, s2 = np.asarray(f1.states(t1.timestamp())), np.asarray(f2.states(t2.timestamp()))
    import h3
    import shapely

    area = shapely.from_geojson(made.area)
    idx = [i for i, c in enumerate(f2.grid.cells) if shapely.intersects(area, cell_polygons([int(c)])[0])]
    expected = {
        h3.int_to_str(int(f2.grid.cells[i])): CODE_STATES[int(s2[i])].value
        for i in idx
        if s1[f1.grid.index[int(f2.grid.cells[i])]] != s2[i] and CODE_STATES[int(s2[i])].value != "held"
    }
    told = bodies(receiver, "/ground")
    assert len(told) == 1 and expected  # the baseline told nothing; the change one alert
    assert {c["item"]: c["now"] for c in told[0]["changes"]} == expected


def test_hazard_above_the_threshold_unknown_when_stale_and_rising_with_a_flare_up(db: Path, receiver: Receiver) -> None:
    s = Settings(db_path=db)
    with SqliteStore.open(db) as store:
        add_rule(store, s, ADMIN, rule("hazard", f"{receiver.url}/low", point=CENTRE, radius_m=1000,
                                             threshold=0.001, hours=1))  # fmt: skip
        high = add_rule(store, s, ADMIN, rule("hazard", f"{receiver.url}/high", point=CENTRE, radius_m=1000,
                                              threshold=0.999, hours=1))  # fmt: skip
        work_once(store, s, now=END.timestamp())
        calm = _look(store, s, high, END)
        _write(store, [{"kind": "shelling", "observed_at": (END - timedelta(minutes=50 - i)).isoformat(),
                        "lon": CENTRE[0] + 0.004 * (i % 5), "lat": CENTRE[1], "location_precision_m": 50,
                        "source": f"s{i % 3}"} for i in range(40)])  # fmt: skip
        flare = _look(store, s, high, END)
        later = END + timedelta(days=30)  # a month with no report: the forecast is stale
        stale = add_rule(store, s, ADMIN, rule("hazard", f"{receiver.url}/stale", point=CENTRE, threshold=0.5))
        work_once(store, s, now=later.timestamp())
        kept = {w.rule_id: json.loads(w.state) for w in store.read_watch().values()}
    low_told = bodies(receiver, "/low")
    assert [b["changes"][0]["now"] for b in low_told] == ["above", "unknown"]
    assert low_told[0]["changes"][0]["value"] == pytest.approx(calm.values["level"], abs=1e-4)
    assert 0.001 <= calm.values["level"] < 0.999  # the demo's usual shelling: neither nothing nor certain
    assert flare.values["level"] > calm.values["level"]  # 40 strikes in the last hour raise the next hours'
    high_told = bodies(receiver, "/high")  # below at first (not told), then stale: told, it is not known now
    assert [(c["was"], c["now"]) for b in high_told for c in b["changes"]] == [("below", "unknown")]
    assert kept[high.rule_id] == {"level": "unknown"}
    stale_told = bodies(receiver, "/stale")
    assert [b["changes"][0]["now"] for b in stale_told] == ["unknown"]  # never "below" on stale data
    assert "stale" in stale_told[0]["changes"][0]["detail"] and kept[stale.rule_id] == {"level": "unknown"}


def _look(store: SqliteStore, s: Settings, r: Any, when: datetime) -> Any:
    import shapely

    from greyzone.application.watch import LOOKS, Round

    return LOOKS["hazard"](Round(store, s, when), r, json.loads(r.rule), shapely.from_geojson(r.area))


def test_a_service_closing_in_a_district_is_told(db: Path, receiver: Receiver) -> None:
    s = Settings(db_path=db)
    with SqliteStore.open(db) as store:
        points = {p.point_id: p for p in store.read_service_points("demo")}
        water = points["sp-water-1"]
        district = boards.districts_of(store, "demo").of(np.array([water.lon]), np.array([water.lat]))[0]
        made = add_rule(store, s, ADMIN, rule("service", f"{receiver.url}/svc", district=district,
                                              items=("water_point",)))  # fmt: skip
        status = boards.service_status_record
        _write(store, [status(store, "demo", "sp-water-1", "open", END - timedelta(hours=1)) | {"source": "cora"}])
        work_once(store, s, now=END.timestamp())
        _write(store, [status(store, "demo", "sp-water-1", "closed", END) | {"source": "cora"}])
        work_once(store, s, now=END.timestamp() + 60)
        board = boards.status_board(store, s, "demo", END + timedelta(minutes=1), days=1)
    row = next(r for r in board["rows"] if r["point_id"] == "sp-water-1")
    told = bodies(receiver, "/svc")
    assert len(told) == 1 and made.rule_id == told[0]["rule_id"]
    assert (
        told[0]["changes"]
        == [
            {
                "item": f"water_point: {water.name}",
                "was": "open",
                "now": row["status"],
                "detail": told[0]["changes"][0]["detail"],
            }
        ]
        and row["status"] == "closed"
    )


def test_a_new_evacuation_request_is_told_to_coordinators_without_who_or_where(db: Path, receiver: Receiver) -> None:
    s = Settings(db_path=db)
    with SqliteStore.open(db) as store:
        with pytest.raises(PermissionError):
            add_rule(store, s, User("vera", "verifier"), rule("evacuation", f"{receiver.url}/x", point=CENTRE))
        add_rule(store, s, COORD, rule("evacuation", f"{receiver.url}/evac", point=CENTRE, radius_m=8000))
        work_once(store, s, now=END.timestamp())  # the requests there already are the baseline
        _, inside = evac.city_check(store, "demo")
        form = evac.form_from(
            {"names": "Олена Петренко", "phones": "+380501112233", "lon": CENTRE[0] + 0.002, "lat": CENTRE[1],
             "people": 3, "mobility": "wheelchair", "urgency": "urgent", "address": "вул. Шкільна 4"},
            "demo", where=None, inside=inside,
        )  # fmt: skip
        taken = evac.take_request(store, s, COORD, form)
        work_once(store, s, now=END.timestamp() + 60)
        row = store.read_request(taken.request_id)
    told = bodies(receiver, "/evac")
    assert len(told) == 1 and [c["item"] for c in told[0]["changes"]] == [taken.request_id]
    raw = next(g["body"] for g in receiver.got if g["path"] == "/evac").decode()
    assert "3 people" in raw and "urgent" in raw and row is not None and row.district in raw
    for secret in ("Олена", "Петренко", "380501112233", "Шкільна", f"{CENTRE[0] + 0.002}"):
        assert secret not in raw  # no name, phone, address or point leaves in an alert


def test_a_curfew_change_is_told_and_a_worker_killed_before_keeping_makes_the_same_alert(
    db: Path, receiver: Receiver
) -> None:
    s = Settings(db_path=db)
    with SqliteStore.open(db) as store:
        made = add_rule(store, s, ADMIN, rule("curfew", f"{receiver.url}/curfew", format="cap"))
        work_once(store, s, now=END.timestamp())
        set_curfew(store, "demo", "12:00-16:00")
        rules = [made]
        one = look_all(store, s, rules, END.timestamp() + 60)  # a worker that dies before it keeps this …
        two = look_all(store, s, rules, END.timestamp() + 61)  # … and the next one's look
        work_once(store, s, now=END.timestamp() + 62)
    assert one[1][0].alert_key == two[1][0].alert_key == f"{made.rule_id}:v1"
    assert json.loads(one[1][0].body)["changes"] == json.loads(two[1][0].body)["changes"]
    assert json.loads(one[1][0].body)["changes"][0] | {"detail": ""} == {
        "item": "curfew",
        "was": "11:00-15:00",
        "now": "12:00-16:00",
        "detail": "",
    }
    (sent,) = [g for g in receiver.got if g["path"] == "/curfew"]
    assert sent["headers"]["Content-Type"] == "application/cap+xml" and b"12:00-16:00" in sent["body"]
    valid_cap(sent["body"])


@pytest.mark.parametrize("trigger", ["incidents", "hazard", "corridor", "control", "service", "evacuation", "curfew"])
def test_every_triggers_cap_message_is_valid_cap_1_2(trigger: str) -> None:
    area = {"type": "Polygon", "coordinates": [[[37.1, 48.2], [37.3, 48.2], [37.3, 48.4], [37.1, 48.2]]]}
    alert = {
        "alert": f"rule-1:{trigger}", "rule": "Центр", "trigger": trigger, "sent": "2024-11-28T12:00:00+00:00",
        "headline": "a & b < c", "headline_uk": "зміни", "description": "x", "area": area,
    }  # fmt: skip
    valid_cap(cap_xml(alert))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"trigger": "weather"}, "trigger"),
        ({"trigger": "hazard", "threshold": 1.5}, "threshold"),
        ({"trigger": "hazard", "threshold": None}, "threshold"),
        ({"trigger": "corridor", "gates": ("Nowhere road",)}, "gates"),
        ({"trigger": "control", "states": ("friendly",)}, "states"),
        ({"trigger": "service", "items": ("casino",)}, "items"),
        ({"trigger": "control", "district": "Atlantis"}, "district"),
        ({"trigger": "control", "place": "Pokrovsk"}, "place"),  # no gazetteer configured here
    ],
)
def test_bad_watching_rules_are_refused_and_nothing_stored(db: Path, change: dict[str, Any], field: str) -> None:
    s = Settings(db_path=db)
    base: dict[str, Any] = {"city": "demo", "name": "x", "kinds": (), "at_least": 1, "hours": 6.0,
                            "url": "http://127.0.0.1:9/h", "point": CENTRE}  # fmt: skip
    with SqliteStore.open(db) as store:
        with pytest.raises(InputError) as caught:
            add_rule(store, s, ADMIN, RuleIn(**{**base, **change}))
        assert caught.value.param == field and store.read_rules() == []


def test_the_api_lets_a_reporter_watch_public_products_only(db: Path, receiver: Receiver) -> None:
    tokens = {
        role: json.loads(
            runner.invoke(cli, ["user", "add", f"{role}-w", "--role", role, "--db", str(db), "--json"]).stdout
        )["token"]
        for role in ("reporter", "coordinator")
    }
    auth = {role: {"Authorization": f"Bearer {t}"} for role, t in tokens.items()}
    api = TestClient(create_app(Settings(db_path=db), Limits(per_minute=10**6, per_address=10**6)))
    ways = {"city": "demo", "trigger": "corridor", "url": f"{receiver.url}/api"}
    made = api.post("/api/alerts", json=ways, headers=auth["reporter"])
    assert made.status_code == 201 and made.json()["rule"] == {"trigger": "corridor", "gates": []}
    evac_rule = {"city": "demo", "trigger": "evacuation", "url": f"{receiver.url}/api", "point": list(CENTRE)}
    assert api.post("/api/alerts", json=evac_rule, headers=auth["reporter"]).status_code == 403
    assert api.post("/api/alerts", json=evac_rule, headers=auth["coordinator"]).status_code == 201
    incidents = {"city": "demo", "kinds": ["shelling"], "url": f"{receiver.url}/api", "point": list(CENTRE)}
    assert api.post("/api/alerts", json=incidents, headers=auth["reporter"]).status_code == 403
    bad = api.post("/api/alerts", json={**ways, "trigger": "hazard", "threshold": "high"}, headers=auth["reporter"])
    assert bad.status_code == 422
    assert [r["rule"]["trigger"] for r in api.get("/api/alerts", headers=auth["reporter"]).json()["rules"]] == [
        "corridor"
    ]


def _write(store: SqliteStore, rows: list[dict[str, Any]]) -> None:
    batch, rejects = build_batch([RawRecord("t", i + 1, r) for i, r in enumerate(rows)], BuildContext())
    assert not rejects
    store.write_batch(batch, [], origin="test")


def test_the_service_runs_the_worker_and_a_curfew_set_by_an_admin_reaches_a_subscriber(
    db: Path, receiver: Receiver
) -> None:
    import time

    tokens = {
        role: json.loads(
            runner.invoke(cli, ["user", "add", f"{role}-l", "--role", role, "--db", str(db), "--json"]).stdout
        )["token"]
        for role in ("reporter", "admin")
    }
    auth = {role: {"Authorization": f"Bearer {t}"} for role, t in tokens.items()}
    s = Settings(db_path=db)
    with TestClient(create_app(s, Limits(per_minute=10**6, per_address=10**6), worker_watch_s=0.2)) as api:
        made = api.post("/api/alerts", json={"city": "demo", "trigger": "curfew", "url": f"{receiver.url}/live"},
                        headers=auth["reporter"])  # fmt: skip
        assert made.status_code == 201
        with SqliteStore.open(db) as store:
            for _ in range(200):  # the worker's first look: the window as it is now
                if made.json()["rule_id"] in store.read_watch():
                    break
                time.sleep(0.05)
        put = api.put("/api/cities/demo/curfew", json={"window": "10:00-14:00"}, headers=auth["admin"])
        assert put.status_code == 200
        for _ in range(300):
            if bodies(receiver, "/live"):
                break
            time.sleep(0.05)
    (told,) = bodies(receiver, "/live")
    assert [(c["was"], c["now"]) for c in told["changes"]] == [("11:00-15:00", "10:00-14:00")]
