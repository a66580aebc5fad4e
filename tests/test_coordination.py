"""Coordination as its users meet it: the board, the residents' view, needs, evacuation requests
(de-duplicated, vetted, matched, sealed, purged, audited), through the application layer, the CLI and
the API, on the demo city (SQLite) and on PostgreSQL."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from greyzone.application import board as boards
from greyzone.application import evacuation as evac
from greyzone.application.control import control_map
from greyzone.application.sealed import rotate_key
from greyzone.application.stores import open_store
from greyzone.cli import app as cli
from greyzone.errors import InputError, RejectedReportsError
from greyzone.model.coordination import ServicePoint
from greyzone.service.app import Limits, create_app
from greyzone.settings import Settings
from greyzone.store.base import User
from scenarios import demo_city

runner = CliRunner()
END = datetime(2024, 11, 28, 12, 0, tzinfo=UTC)
COORD, REPORTER, ANALYST = User("cora", "coordinator"), User("rita", "reporter"), User("anna", "analyst")
ROLES = ("public", "reporter", "verifier", "analyst", "coordinator", "admin")


def run(*args: str) -> str:
    got = runner.invoke(cli, list(args))
    assert got.exit_code == 0, got.output
    return got.stdout


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo city (its clock and curfew set), its hazard fitted and its coordination demo loaded; a copy
    per test is made by ``db``."""
    folder = tmp_path_factory.mktemp("coord")
    db = demo_city(folder)
    scenario = folder / "s"
    streets, gates = str(scenario / "streets.geojson"), str(scenario / "gates.geojson")
    run("city", "import", streets, "--name", "demo", "--gates", gates, "--timezone", "Europe/Kyiv",
        "--curfew", "11:00-15:00", "--db", str(db))  # fmt: skip
    run("hazard", "fit", "--db", str(db), "--kind", "shelling", "--res", "8")
    said = run("demo-coordination", "--db", str(db), "--dir", str(scenario))
    assert "10 service points" in said and "4 crews" in said
    return db


@pytest.fixture
def db(city: Path, tmp_path: Path) -> Path:
    for suffix in ("", ".key", ".personal.key"):
        shutil.copy(f"{city}{suffix}", tmp_path / f"c.db{suffix}")
    return tmp_path / "c.db"


def take(store: Any, s: Settings, fields: dict[str, Any], user: User = REPORTER, key: str | None = None) -> evac.Taken:
    _, inside = evac.city_check(store, "demo")
    form = evac.form_from(
        {"asked_at": "2024-11-28T10:00:00+02:00", "people": 1, **fields}, "demo", where=None, inside=inside
    )
    return evac.take_request(store, s, user, form, idempotency_key=key)


def areas(store: Any) -> dict[str, shapely.Geometry]:
    return {a.state.value: a.geometry for a in control_map(store, END, 8).areas}


def junction_in(store: Any, state: str) -> shapely.Point:
    """A junction of the city's streets inside the ground of that state (the nearest to the centre)."""
    from greyzone.application.movement import city_graph

    g = city_graph(store, "demo").graph
    inside = shapely.contains_xy(areas(store)[state], g.lon, g.lat)
    centre = (float(g.lon.mean()), float(g.lat.mean()))
    best = min(np.flatnonzero(inside), key=lambda i: (g.lon[i] - centre[0]) ** 2 + (g.lat[i] - centre[1]) ** 2)
    return shapely.Point(float(g.lon[best]), float(g.lat[best]))


# ----------------------------------------------------------------------------------------------- board


def test_the_board_says_conflicting_unknown_and_outage_hours(db: Path) -> None:
    s = Settings(db_path=db)
    with open_store(s) as store:
        now = boards.status_board(store, s, "demo", END)
        later = boards.status_board(store, s, "demo", END + timedelta(days=3))
    rows = {(r["district"], r["item"], r["point_id"]): r for r in now["rows"]}
    bread = next(r for r in now["rows"] if r["point_id"] == "sp-bread-1")
    assert bread["status"] == "conflicting" and {v["status"] for v in bread["voices"]} == {"open", "closed"}
    assert bread["district"] == "Північний захід / North-west"
    power = rows[("Центр / Centre", "power", None)]
    assert power["status"] in ("out", "intermittent") and power["sources"] >= 1 and power["as_of"].endswith("+02:00")
    assert rows[("Центр / Centre", "gas", None)]["status"] == "unknown"  # never reported
    assert {r["status"] for r in later["rows"]} == {"unknown"}  # three days of silence: nothing is "working"
    assert all(r["stale"] for r in later["rows"] if r["as_of"])
    centre_power = next(o for o in now["out_hours"] if o["district"] == "Центр / Centre" and o["utility"] == "power")
    assert len(centre_power["out_h"]) == 7 and all(0 <= h <= 24 for h in centre_power["out_h"])
    assert sum(centre_power["out_h"]) > 24  # the power is out in the scenario's last weeks
    assert any(o["utility"] == "power" and o["ongoing"] for o in now["outages"])


def test_a_service_status_for_no_such_point_is_refused(db: Path) -> None:
    s = Settings(db_path=db)
    with open_store(s) as store:
        with pytest.raises(InputError, match="no service point 'sp-nope'") as caught:
            boards.service_status_record(store, "demo", "sp-nope", "open", END)
        assert caught.value.param == "point_id"
        record = boards.service_status_record(store, "demo", "sp-water-1", "closed", END)
        assert record["service"] == "water_point" and record["place"] == "sp-water-1"


def test_service_points_from_a_file_land_whole_and_each_bad_row_is_reported(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text(
        "id,name,service,lon,lat,hours\n"
        "ok-1,Bread,bread,37.17,48.29,11:00-14:00\n"
        "bad-1,Bread,bakery,37.17,48.29,11:00-14:00\n"
        "bad-2,Water,water_point,37.17,48.29,11-14\n"
        "bad-3,Far,aid_point,30.5,50.4,\n",
        encoding="utf-8",
    )
    out = runner.invoke(cli, ["service", "import", str(path), "--city", "demo", "--db", str(db)])
    assert out.exit_code == 0, out.output
    assert "1 service points added, 3 rejected" in out.stdout
    assert f"rejected {path}:2 service:" in out.stdout and f"rejected {path}:3 hours:" in out.stdout
    assert f"rejected {path}:4 lon:" in out.stdout and "outside the city" in out.stdout
    with open_store(Settings(db_path=db)) as store:
        assert "ok-1" in {p.point_id for p in store.read_service_points("demo")}


def test_needs_summary_counts_what_is_unmet_and_since_when(db: Path) -> None:
    s = Settings(db_path=db)
    with open_store(s) as store:
        need = boards.record_need(
            store, REPORTER, "demo", "Південь / South", "drinking_water", 40, END - timedelta(days=2)
        )
        before = boards.needs_summary(store, "demo", END)
        boards.meet_need(store, need.need_id, END - timedelta(hours=12))
        after = boards.needs_summary(store, "demo", END)
        with pytest.raises(InputError, match="no district"):
            boards.record_need(store, REPORTER, "demo", "Atlantis", "food", 3, END)
    row = next(r for r in before["rows"] if r["district"] == "Південь / South" and r["category"] == "drinking_water")
    row_after = next(
        r for r in after["rows"] if r["district"] == "Південь / South" and r["category"] == "drinking_water"
    )
    assert row_after["unmet_people"] == row["unmet_people"] - 40
    assert row["daily_unmet_people"][-2] - row_after["daily_unmet_people"][-2] == 0  # unmet all of the 27th
    assert row["daily_unmet_people"][-1] - row_after["daily_unmet_people"][-1] == 40  # met at 02:00 on the 28th


# ----------------------------------------------------------------------------------------------- residents


def test_the_residents_view_shows_the_nearest_published_bread_point(db: Path) -> None:
    s = Settings(db_path=db)
    with open_store(s) as store:
        answer = boards.residents_view(store, s, "demo", 37.17, 48.29, END, "bread", hours_ahead=1)
    names = [p["name"] for p in answer["points"]]
    assert names and all("не публікується" not in n for n in names)  # the unpublished bakery is never shown
    assert [p["distance_m"] for p in answer["points"]] == sorted(p["distance_m"] for p in answer["points"])
    first = answer["points"][0]
    assert first["hours"] and len(first["walk"]) == 2 and first["walk"][0]["minutes"] > 0
    with open_store(s) as store, pytest.raises(InputError, match="outside the city") as far:
        boards.residents_view(store, s, "demo", 30.52, 50.45, END, "bread")  # Kyiv: not a resident's point
    assert far.value.param == "lon"
    assert first["walk"][0]["risk"] is not None and 0 <= first["walk"][0]["risk"] < 1


words = st.text(alphabet="абвгдежзийклмнопрстуфхцчшщыэюяabcdefghijklmnopqrstuvwxyz", min_size=6, max_size=12)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(words, st.sampled_from(["bread", "water_point", "shelter", "pharmacy"]), st.booleans(),
                          st.booleans()), min_size=1, max_size=6), words)  # fmt: skip
def test_no_field_of_a_non_public_record_appears_in_a_public_answer(
    city: Path, tmp_path_factory: pytest.TempPathFactory, points: list[tuple[str, str, bool, bool]], secret: str
) -> None:
    folder = tmp_path_factory.mktemp("pub")
    for suffix in ("", ".key", ".personal.key"):
        shutil.copy(f"{city}{suffix}", folder / f"c.db{suffix}")
    s = Settings(db_path=folder / "c.db")
    with open_store(s) as store:
        made = [
            ServicePoint(f"id-{name}-{i}", "demo", service, f"name-{name}", 37.17 + 0.001 * i, 48.29, "11:00-15:00",
                         published, None, None, shelter)
            for i, (name, service, published, shelter) in enumerate(points)
        ]  # fmt: skip
        store.write_service_points(made)
        take(store, s, {"lon": 37.171, "lat": 48.291, "names": f"Secret{secret} Петренко", "asker_phone": "0991234567"})
        answer = json.dumps(
            [boards.residents_view(store, s, "demo", 37.17, 48.29, END, kind, most=50, hours_ahead=0)
             for kind in (None, "shelter")], ensure_ascii=False,
        )  # fmt: skip
        hidden = [
            p
            for p in store.read_service_points("demo")
            if p not in boards.public_points(store.read_service_points("demo"), None)
        ]
    assert f"Secret{secret}" not in answer and "0991234567" not in answer and "Петренко" not in answer
    for p in hidden:
        assert p.point_id not in answer and p.name not in answer, p
    for p in made:
        if p.published and (p.service != "shelter" or p.public_shelter):
            assert p.point_id in answer
    for banned in ("queue", "crowd", "people"):
        assert f'"{banned}' not in answer


# ----------------------------------------------------------------------------------------------- evacuation


def test_the_same_person_asked_for_by_three_proxies_is_one_request_with_three_askers(db: Path) -> None:
    s = Settings(db_path=db)
    with open_store(s) as store:
        asks = [("Ірина Величко", "relative", "0671110001"), ("Ирина Величко", "soldier", "0501110002"),
                ("Iryna Velychko", "neighbour", "0931110003")]  # fmt: skip
        taken = [
            take(store, s, {"lon": 37.15 + 0.0002 * i, "lat": 48.30, "names": n, "relation": r, "asker_phone": p})
            for i, (n, r, p) in enumerate(asks)
        ]
        assert len({t.request_id for t in taken}) == 1 and [t.merged for t in taken] == [False, True, True]
        shown = evac.show_request(store, s, COORD, taken[0].request_id)
        other = take(store, s, {"lon": 37.15, "lat": 48.30, "names": "Ганна Величко", "asker_phone": "0671110001"})
    assert [a["relation"] for a in shown["asked_by"]] == ["relative", "soldier", "neighbour"]
    assert shown["askers"] == 3 and set(shown["personal"]["names"]) == {n for n, _, _ in asks}
    assert other.request_id != taken[0].request_id  # another person at the same address


def test_a_request_in_the_other_sides_ground_scores_higher_than_in_held_ground(db: Path) -> None:
    s = Settings(db_path=db)
    with open_store(s) as store:
        found = areas(store)
        held, other = junction_in(store, "held"), found["other_side"].representative_point()
        fields = {"callback_confirmed": True, "asker_phone": "0671230000"}
        a = take(store, s, {**fields, "lon": held.x, "lat": held.y, "names": "Тарас Бондар"})
        b = take(
            store, s, {**fields, "lon": other.x, "lat": other.y, "names": "Остап Бондар", "asker_phone": "0671230001"}
        )
    assert b.suspicion > a.suspicion
    assert any(r.startswith("in ground held by the other side since") for r in b.reasons), b.reasons
    assert not any("other side" in r for r in a.reasons), a.reasons


def test_a_lure_five_new_askers_at_one_spot_in_an_hour_is_flagged(db: Path) -> None:
    s = Settings(db_path=db)
    names = ["Богдан Рибак", "Зоя Ткач", "Левко Гнатюк", "Уляна Орлик", "Ярема Сич"]
    with open_store(s) as store:
        taken = [
            take(store, s, {"lon": 37.160 + 0.0004 * i, "lat": 48.300, "names": n, "asker_phone": f"06655500{i}0",
                            "asked_at": f"2024-11-28T10:{12 * i:02d}:00+02:00", "relation": "relative"})
            for i, n in enumerate(names)
        ]  # fmt: skip
        last = evac.vet_request(store, s, COORD, taken[0].request_id)
        calm = take(store, s, {"lon": 37.165, "lat": 48.33, "names": "Марта Лис", "asker_phone": "0667770000"})
    assert "5 new askers for one spot in 2 h" in last["reasons"], last["reasons"]
    assert last["state"] == "vetting" and last["suspicion"] > calm.suspicion
    assert not any("new askers for one spot" in r for r in calm.reasons)


def test_crew_matching_refuses_a_car_for_a_bedridden_person(db: Path) -> None:
    s = Settings(db_path=db)
    with open_store(s) as store:
        held = junction_in(store, "held")
        t = take(store, s, {"lon": held.x, "lat": held.y, "names": "Фрося Лежко", "mobility": "bedridden",
                            "callback_confirmed": True, "asker_phone": "0671239999"})  # fmt: skip
        options = evac.match_crews(store, s, COORD, t.request_id, date(2024, 11, 28))
        evac.move_request(store, COORD, t.request_id, "vetting", "")
        evac.move_request(store, COORD, t.request_id, "approved", "called back")
        with pytest.raises(InputError, match="a bedridden person needs a stretcher"):
            evac.assign_crew(store, s, COORD, t.request_id, "crew-car", date(2024, 11, 28))
        done = evac.assign_crew(store, s, COORD, t.request_id, "crew-angels", date(2024, 11, 28))
    by_id = {o["crew_id"]: o for o in options}
    assert not by_id["crew-car"]["feasible"] and "a bedridden person needs a stretcher" in by_id["crew-car"]["problems"]
    assert not by_id["crew-foot"]["feasible"]
    assert options[0]["crew_id"] == "crew-angels" and options[0]["feasible"]
    route = options[0]["route"]
    assert route["depart"].startswith("2024-11-28T1") and route["depart"].endswith("+02:00") and route["minutes"] > 0
    assert "11:00" <= route["depart"][11:16] <= "15:00"  # inside the curfew window
    assert done["to"] == "assigned"


def test_personal_data_is_ciphertext_in_the_sqlite_file_and_purged_after_retention(db: Path) -> None:
    s = Settings(db_path=db, retention_days=30)
    with open_store(s) as store:
        fields = {"names": "Євдокія Шпилька", "phones": "+380671357911", "address": "вул. Соборна 7",
                  "asker_name": "Кирило Шпилька", "asker_phone": "0501357911"}  # fmt: skip
        t = take(store, s, {"lon": 37.16, "lat": 48.31, **fields})
        evac.move_request(store, COORD, t.request_id, "cancelled", "moved out by herself")
        counts = evac.request_counts(store, "demo")
    raw = b"".join(Path(f"{db}{x}").read_bytes() for x in ("", "-wal") if Path(f"{db}{x}").exists())
    for secret in ("Шпилька", "Shpylka", "671357911", "Соборна", "Кирило"):
        assert secret.encode() not in raw, secret
    row = (
        sqlite3.connect(db)
        .execute("SELECT personal FROM evac_requests WHERE request_id = ?", (t.request_id,))
        .fetchone()
    )
    assert row[0][:1] == b"g"  # a Fernet token (base64 of version byte 0x80)
    with open_store(s) as store:
        assert evac.purge_closed(store, s, datetime.now(UTC), actor="test") == []  # not yet: closed today
        purged = evac.purge_closed(store, s, datetime.now(UTC) + timedelta(days=31), actor="test")
        shown = evac.show_request(store, s, COORD, t.request_id)
        after = evac.request_counts(store, "demo")
    assert purged == [t.request_id] and shown["personal"] == {} and shown["purged"]
    assert all(a.get("phone") is None for a in shown["asked_by"])
    assert after == counts  # the aggregates stay


def test_every_reading_of_personal_data_is_audited_and_only_coordinators_read_it(db: Path) -> None:
    s = Settings(db_path=db)
    with open_store(s) as store:
        t = take(store, s, {"lon": 37.16, "lat": 48.31, "names": "Марко Вовк", "asker_phone": "0509998877"})
        before = len(store.audit_log(100_000))
        seen = evac.show_request(store, s, COORD, t.request_id)
        log = store.audit_log(100_000)[: len(store.audit_log(100_000)) - before]
        redacted = evac.show_request(store, s, User("root", "admin"), t.request_id)
        listed = evac.list_requests(store, s, ANALYST, "demo")
    reads = [e for e in log if e.action == "personal.read" and e.actor == "cora"]
    assert {e.object for e in reads} >= {t.request_id, f"{t.request_id}#1"}
    assert seen["personal"]["names"] == ["Марко Вовк"]
    assert "personal" not in redacted and "asked_by" not in redacted
    assert all("personal" not in r for r in listed)
    assert "Вовк" not in json.dumps(redacted, ensure_ascii=False) + json.dumps(listed, ensure_ascii=False)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"names": "X Y"}, "lon"),  # no location at all
        ({"lon": 30.52, "lat": 50.45}, "lon"),  # Kyiv: outside the city
        ({"lon": 37.16, "lat": 48.31, "mobility": "flies"}, "mobility"),
        ({"lon": 37.16, "lat": 48.31, "asker_phone": "call me maybe"}, "asker_phone"),
        ({"lon": 37.16, "lat": 48.31, "people": "0"}, "people"),
        ({"settlement": "Нівідеград"}, "settlement"),  # no gazetteer here to resolve it
    ],
)
def test_bad_requests_name_the_field_and_store_nothing(db: Path, fields: dict[str, Any], field: str) -> None:
    s = Settings(db_path=db)
    with open_store(s) as store:
        before = len(store.read_requests("demo"))
        with pytest.raises(RejectedReportsError) as caught:
            take(store, s, fields)
        assert field in [f for _, f, _ in caught.value.rejects], caught.value.rejects
        assert len(store.read_requests("demo")) == before


def test_an_ambiguous_place_asks_which(shared_data: Path) -> None:
    place = evac.gazetteer_place(Settings(gazetteer_dir=shared_data / "gazetteer"), (37.18, 48.28))
    assert place is not None
    lon, lat, precision = place("Покровськ")
    assert abs(lon - 37.18) < 0.1 and abs(lat - 48.28) < 0.1 and precision > 0
    with pytest.raises(InputError, match=r"say which|not in the gazetteer"):
        place("Шевченко")  # two villages of that name, both near the city


def test_the_same_idempotency_key_stores_a_request_once(db: Path) -> None:
    s = Settings(db_path=db)
    with open_store(s) as store:
        fields = {"lon": 37.16, "lat": 48.31, "names": "Олесь Гук", "asker_phone": "0671112299"}
        first = take(store, s, fields, key="k-1")
        again = take(store, s, fields, key="k-1")
        askers = store.read_askers([first.request_id])
    assert again.request_id == first.request_id and again.replay and len(askers) == 1


# ----------------------------------------------------------------------------------------------- the API


def tokens_for(db: Path) -> dict[str, str | None]:
    tokens: dict[str, str | None] = {"public": None}
    for role in ROLES[1:]:
        tokens[role] = json.loads(run("user", "add", f"{role}1", "--role", role, "--db", str(db), "--json"))["token"]
    return tokens


def test_roles_by_endpoint(db: Path) -> None:
    tokens = tokens_for(db)
    api = TestClient(create_app(Settings(db_path=db), Limits(per_minute=10**6, per_address=10**6)))
    with open_store(Settings(db_path=db)) as store:
        request_id = store.read_requests("demo")[0].request_id
    at = "2024-11-28T12:00:00%2B02:00"
    status = {"status": "open", "observed_at": "2024-11-28T09:00:00Z"}
    need = {"district": "Південь / South", "category": "food", "people": 5}
    ask = {"lon": 37.16, "lat": 48.31, "names": ["Lev Tsap"], "asked_at": "2024-11-28T09:00:00Z"}
    point = [{"name": "n", "service": "bread", "lon": 37.17, "lat": 48.29}]
    matrix = [  # method, path, body, least role
        ("GET", f"/api/residents?city=demo&lon=37.17&lat=48.29&service=bread&at={at}", None, "public"),
        ("POST", "/api/services/sp-water-1/status?city=demo", status, "reporter"),
        ("POST", "/api/needs?city=demo", need, "reporter"),
        ("POST", "/api/evac?city=demo", ask, "reporter"),
        ("GET", f"/api/board?city=demo&at={at}", None, "analyst"),
        ("GET", "/api/needs?city=demo", None, "analyst"),
        ("GET", "/api/services?city=demo", None, "analyst"),
        ("GET", "/api/evac/summary?city=demo", None, "analyst"),
        ("GET", "/api/evac?city=demo", None, "coordinator"),
        ("GET", f"/api/evac/{request_id}", None, "coordinator"),
        ("GET", f"/api/evac/{request_id}/crews?day=2024-11-28", None, "coordinator"),
        ("GET", "/api/crews?city=demo", None, "coordinator"),
        ("POST", "/api/services?city=demo", point, "coordinator"),
    ]  # fmt: skip
    rank = {r: i for i, r in enumerate(ROLES)}
    for method, path, body, least in matrix:
        for role in ROLES:
            token = tokens[role]
            got = api.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"} if token else {})
            allowed = rank[role] >= rank[least]
            assert (got.status_code in (200, 201)) == allowed, (method, path, role, got.status_code, got.text[:300])
            if not allowed:
                assert got.status_code == (401 if role == "public" else 403)
    coordinator = api.get(
        f"/api/evac/{request_id}", headers={"Authorization": f"Bearer {tokens['coordinator']}"}
    ).json()
    admin = api.get(f"/api/evac/{request_id}", headers={"Authorization": f"Bearer {tokens['admin']}"}).json()
    assert "personal" in coordinator and "personal" not in admin  # the admin grants the role, not the data


def test_a_reporter_gets_a_receipt_not_the_request(db: Path) -> None:
    tokens = tokens_for(db)
    api = TestClient(create_app(Settings(db_path=db), Limits(per_minute=10**6, per_address=10**6)))
    body = {"lon": 37.16, "lat": 48.31, "names": ["Олександр Петренко"], "asked_at": "2024-11-28T09:00:00Z"}
    rep = {"Authorization": f"Bearer {tokens['reporter']}", "Idempotency-Key": "x1"}
    first = api.post("/api/evac?city=demo", json=body, headers=rep)
    again = api.post("/api/evac?city=demo", json=body, headers=rep)
    assert first.status_code == 201 and set(first.json()) == {"received", "receipt"}
    assert again.json() == first.json() and again.headers.get("Idempotent-Replay") == "true"
    bad = api.post(
        "/api/evac?city=demo", json={"names": ["x"]}, headers={"Authorization": f"Bearer {tokens['reporter']}"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "lon"
    naive = api.post("/api/evac?city=demo", json={**body, "asked_at": "2024-11-28T09:00:00"},
                     headers={"Authorization": f"Bearer {tokens['reporter']}"})  # fmt: skip
    assert naive.status_code == 422 and "offset" in naive.json()["error"]["message"]


def test_postgres_keeps_personal_data_as_ciphertext(postgres_url: str, city: Path, tmp_path: Path) -> None:
    import psycopg

    with sqlite3.connect(city) as src:
        graph_row = src.execute(
            "SELECT name, source, graph, nodes, edges, gates, imported_at, timezone, curfew FROM cities"
        ).fetchone()
    s = Settings(db_path=tmp_path / "pg", database_url=postgres_url)
    with open_store(s) as store:
        from greyzone.store.base import City

        gates = tuple((g["name"], g["lon"], g["lat"]) for g in json.loads(graph_row[5]))
        store.write_city(City(graph_row[0], graph_row[1], bytes(graph_row[2]), graph_row[3], graph_row[4], gates,
                              graph_row[6], graph_row[7], graph_row[8]))  # fmt: skip
        asks = ["Олександр Петренко", "Aleksandr Petrenko", "Александр Петренко"]
        taken = [
            take(store, s, {"lon": 37.16, "lat": 48.31, "names": n, "asker_phone": f"067000111{i}"})
            for i, n in enumerate(asks)
        ]
        shown = evac.show_request(store, s, COORD, taken[0].request_id)
        assert len({t.request_id for t in taken}) == 1 and len(shown["asked_by"]) == 3
        assert rotate_key(store, s, actor="test") == 4  # the request and its three askers
        assert evac.show_request(store, s, COORD, taken[0].request_id)["personal"] == shown["personal"]
    with psycopg.connect(postgres_url) as conn:
        raw = b"".join(
            bytes(r[0])
            for r in conn.execute("SELECT personal FROM evac_requests UNION ALL SELECT personal FROM evac_askers")
        )
        text = "".join(str(r) for r in conn.execute("SELECT * FROM evac_requests").fetchall())
    assert raw and b"Petrenko" not in raw and "Петренко".encode() not in raw and b"0670001110" not in raw
    assert "Петренко" not in text and "Petrenko" not in text


def test_the_service_purges_closed_requests_on_its_own(db: Path) -> None:
    tokens = tokens_for(db)
    s = Settings(db_path=db, retention_days=0)  # purged as soon as closed
    coordinator = {"Authorization": f"Bearer {tokens['coordinator']}"}
    with open_store(s) as store:
        t = take(store, s, {"lon": 37.16, "lat": 48.31, "names": "Ліна Костенко", "asker_phone": "0673334455"})
        evac.move_request(store, COORD, t.request_id, "cancelled", "left with neighbours")
    api = TestClient(create_app(s, Limits(per_minute=10**6, per_address=10**6)))
    assert api.get("/api/evac?city=demo", headers=coordinator).status_code == 200  # the first call purges
    shown = api.get(f"/api/evac/{t.request_id}", headers=coordinator).json()
    assert shown["purged"] and shown["personal"] == {} and shown["people"] == 1
    with open_store(s) as store:
        assert any(e.action == "personal.purge" and e.actor == "service" for e in store.audit_log(50))
