"""The daily situation report: its figures equal direct queries of the store, the PDF opens and holds the
Ukrainian headings, the HTML fetches nothing, the public edition leaves out what the public may not see,
the HXL tables, the curfew window; on the demo city and on real data (UCDP, the Pokrovsk footprint)."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from greyzone.application.sitrep import make_sitrep, render, to_hxl_csv, to_markdown
from greyzone.application.stores import open_store
from greyzone.cli import app as cli
from greyzone.errors import InputError
from greyzone.service.app import Limits, create_app
from greyzone.settings import Settings
from test_coordination import city, tokens_for  # noqa: F401 (the fixture: the demo city with its coordination)

runner = CliRunner()
DAY = date(2024, 11, 27)


@pytest.fixture(scope="module")
def made(city: Path) -> dict[str, Any]:  # noqa: F811
    s = Settings(db_path=city)
    with open_store(s) as store:
        full = make_sitrep(store, s, "demo", DAY, "uk")
        public = make_sitrep(store, s, "demo", DAY, "en", public=True)
        bbox = store.read_city("demo")
    return {"full": full, "public": public, "settings": s, "city": bbox}


def direct_counts(db: Path, rep: Any) -> dict[str, int]:
    """Incidents per kind in the report's day and box, straight from the reports table."""
    start = datetime.fromisoformat(rep.data["period"]["from"]).timestamp()
    end = datetime.fromisoformat(rep.data["period"]["to"]).timestamp()
    x0, y0, x1, y1 = rep.area.bounds
    sql = (
        "SELECT kind, count(*) FROM (SELECT coalesce(incident_id, seq) AS i, min(seq), kind FROM reports"
        " WHERE observed_at >= ? AND observed_at < ? AND lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?"
        " AND kind NOT IN ('control_observation', 'infrastructure_status', 'service_status', 'evacuation_request',"
        " 'air_raid_alert') GROUP BY i) GROUP BY kind"
    )
    with sqlite3.connect(db) as conn:
        return dict(conn.execute(sql, (start, end, x0, x1, y0, y1)).fetchall())


def test_the_incident_figures_equal_direct_queries_of_the_store(city: Path, made: dict[str, Any]) -> None:  # noqa: F811
    rep = made["full"]
    table = {r["kind"]: r["day"] for r in rep.data["incidents"]["rows"] if r["day"]}
    assert table == direct_counts(city, rep) and sum(table.values()) > 20
    with sqlite3.connect(city) as conn:  # casualties: per incident the highest count, summed over incidents
        start = datetime.fromisoformat(rep.data["period"]["from"]).timestamp()
        end = datetime.fromisoformat(rep.data["period"]["to"]).timestamp()
        x0, y0, x1, y1 = rep.area.bounds
        rows = conn.execute(
            "SELECT coalesce(incident_id, seq), max(json_extract(attrs, '$.killed')) FROM reports"
            " WHERE observed_at >= ? AND observed_at < ? AND lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?"
            " AND json_extract(attrs, '$.killed') IS NOT NULL AND kind NOT IN ('drone_sighting', 'air_raid_alert')"
            " GROUP BY 1",
            (start, end, x0, x1, y0, y1),
        ).fetchall()
    assert rep.data["incidents"]["killed"] == sum(k for _, k in rows)


def test_the_pdf_opens_and_holds_the_ukrainian_headings(made: dict[str, Any], tmp_path: Path) -> None:
    if not shutil.which("pdftoppm"):
        pytest.fail("pdftoppm is missing: `make test` installs poppler-utils")
    pdf = tmp_path / "s.pdf"
    pdf.write_bytes(render(made["full"], "pdf"))
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 2 and all(p.stat().st_size > 2_000 for p in pages)
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    for heading in ("Зведення ситуації", "Інциденти за добу", "Контроль міста", "Шляхи виїзду", "Потреби мешканців"):
        assert heading in text, heading
    assert "27 листопада 2024" in text and "за київським часом" in text


def test_the_html_is_one_file_that_fetches_nothing(made: dict[str, Any]) -> None:
    page = render(made["full"], "html").decode()
    assert not re.findall(r"(?:src|href)\s*=\s*[\"']?(?!data:)[a-z]+://", page)
    assert not re.findall(r"https?://", page)
    assert page.count("data:image/png;base64,") == 3  # incidents, control changes, tomorrow's hazard
    assert '<html lang="uk">' in page


def test_numbers_and_dates_follow_the_language(made: dict[str, Any]) -> None:
    uk, en = to_markdown(made["full"]), to_markdown(made["public"])
    assert "27 листопада 2024" in uk and "27 November 2024" in en
    assert re.search(r"\| \d+,\d \|", uk) and not re.search(r"\| \d+\.\d \|", uk)  # decimal commas
    assert re.search(r"\| \d+\.\d \|", en)


def test_the_public_edition_holds_only_public_aggregates(made: dict[str, Any]) -> None:
    public, full = made["public"], made["full"]
    assert "incidents" not in public.pictures and "incidents" in full.pictures  # no incident points
    assert public.data["requests"] is None and full.data["requests"]["rows"]
    assert "by_district" not in public.data["needs"] and "by_district" in full.data["needs"]
    text = json.dumps(public.data, ensure_ascii=False)
    assert "[SYNTHETIC DEMO] asker" not in text and "personal" not in text


def test_hxl_tables(made: dict[str, Any]) -> None:
    rows = to_hxl_csv(made["full"], "incidents").splitlines()
    assert rows[0].startswith("date,city,event_type") and rows[1].startswith("#date,#adm3+name,#event+type")
    assert len(rows) - 2 == len(made["full"].data["incidents"]["rows"])
    casualties = to_hxl_csv(made["full"], "casualties").splitlines()
    assert "#affected+killed" in casualties[1] and casualties[2].split(",")[2] == str(
        made["full"].data["incidents"]["killed"]
    )
    with pytest.raises(InputError):
        to_hxl_csv(made["full"], "secrets")


def test_a_day_still_to_come_is_refused(made: dict[str, Any], city: Path) -> None:  # noqa: F811
    with open_store(made["settings"]) as store, pytest.raises(InputError, match="has not begun"):
        make_sitrep(store, made["settings"], "demo", date(2100, 1, 1), now=datetime(2024, 12, 1, tzinfo=UTC))


def test_the_api_gives_the_public_the_public_edition_and_admins_set_the_curfew(city: Path, tmp_path: Path) -> None:  # noqa: F811
    db = tmp_path / "a.db"
    for suffix in ("", ".key", ".personal.key"):
        shutil.copy(f"{city}{suffix}", f"{db}{suffix}")
    tokens = tokens_for(db)
    api = TestClient(create_app(Settings(db_path=db), Limits(per_minute=10**6, per_address=10**6)))
    public = api.get("/api/sitrep?city=demo&date=2024-11-27&format=json&edition=full")
    analyst = api.get("/api/sitrep?city=demo&date=2024-11-27&format=md&lang=en",
                      headers={"Authorization": f"Bearer {tokens['analyst']}"})  # fmt: skip
    assert public.status_code == 200 and public.headers["X-Sitrep-Edition"] == "public"
    assert public.json()["edition"] == "public" and public.json()["requests"] is None
    assert analyst.status_code == 200 and analyst.headers["X-Sitrep-Edition"] == "full"
    assert "# Situation report: demo, 27 November 2024" in analyst.text
    future = api.get("/api/sitrep?city=demo&date=2099-01-01")
    assert future.status_code == 422 and "has not begun" in future.json()["error"]["message"]
    body = {"window": "10:00-16:00"}
    for role, status in (("coordinator", 403), ("admin", 200)):
        got = api.put("/api/cities/demo/curfew", json=body, headers={"Authorization": f"Bearer {tokens[role]}"})
        assert got.status_code == status, got.text
    assert next(c for c in api.get("/api/cities").json()["cities"] if c["name"] == "demo")["curfew"] == "10:00-16:00"
    bad = api.put(
        "/api/cities/demo/curfew",
        json={"window": "25:00-26:00"},
        headers={"Authorization": f"Bearer {tokens['admin']}"},
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "window"
    hours = api.get("/api/sitrep?city=demo&date=2024-11-27&format=json").json()["hours"]
    assert hours["window"] == "10:00-16:00" and hours["departures"][0] == "10:00"  # the new window, used at once


@pytest.mark.realdata
def test_a_sitrep_on_real_data(shared_data: Path, tmp_path: Path) -> None:
    """UCDP events around Pokrovsk, the city's real footprint (OSM urban areas) as its one district and the
    backbone road as its streets: the busiest day of 2022 in the report equals a direct query."""
    db = tmp_path / "r.db"
    roads = shared_data / "osm" / "backbone_roads_pokrovsk40km.geojson"
    urban = json.loads((shared_data / "osm" / "urban_areas_pokrovsk40km.geojson").read_text(encoding="utf-8"))
    footprint = next(f for f in urban["features"] if f["properties"].get("contains_pokrovsk_centre"))
    footprint["properties"]["name"] = "Покровськ"
    districts = tmp_path / "d.geojson"
    districts.write_text(json.dumps({"type": "FeatureCollection", "features": [footprint]}), encoding="utf-8")
    for args in (
        ["city", "import", str(roads), "--name", "pokrovsk", "--timezone", "Europe/Kyiv", "--curfew", "11:00-15:00"],
        ["district", "import", str(districts), "--city", "pokrovsk"],
        ["ingest", str(shared_data / "events" / "ucdp_ged_ukraine_2014-2022.csv")],
    ):
        done = runner.invoke(cli, [*args, "--db", str(db)])
        assert done.exit_code == 0, done.output
    s = Settings(db_path=db)
    with sqlite3.connect(db) as conn:
        x0, y0, x1, y1 = 37.0, 48.2, 37.3, 48.35
        busiest = conn.execute(
            "SELECT date(observed_at, 'unixepoch', '+2 hours'), count(*) FROM reports WHERE lon BETWEEN ? AND ?"
            " AND lat BETWEEN ? AND ? GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
            (x0, x1, y0, y1),
        ).fetchone()
    day = date.fromisoformat(busiest[0])
    with open_store(s) as store:
        rep = make_sitrep(store, s, "pokrovsk", day, "uk")
    table = {r["kind"]: r["day"] for r in rep.data["incidents"]["rows"] if r["day"]}
    assert table == direct_counts(db, rep) and table
    assert rep.data["control"] is None and any(u.startswith("control:") for u in rep.unknown)  # no observations: said
    assert "Покровськ" not in json.dumps(rep.data["needs"], ensure_ascii=False) or rep.data["needs"]["rows"] == []


def test_a_day_before_any_data_says_what_it_cannot_say(made: dict[str, Any]) -> None:
    with open_store(made["settings"]) as store:
        rep = make_sitrep(store, made["settings"], "demo", date(2001, 5, 1), "en")
    assert rep.data["incidents"]["incidents"] == 0 and rep.data["control"] is None
    assert any(u.startswith("control:") for u in rep.unknown) and any(u.startswith("hazard:") for u in rep.unknown)
    assert all(r["best"] is None for r in rep.data["hours"]["rows"])  # no risk shown as calm: unknown
    assert "What is unknown or stale" in to_markdown(rep)
