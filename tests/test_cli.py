from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import svgtools
from greyzone.cli import app

runner = CliRunner()
HEADER = "kind,observed_at,lon,lat,location_precision_m,source,text\n"


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def test_ingest_json_summary_reingest_and_stats(tmp_path: Path) -> None:
    db = str(tmp_path / "g.db")
    data = tmp_path / "r.csv"
    data.write_text(
        HEADER + "shelling,2024-11-03T09:15:00Z,37.18,48.28,100,police,a\n"
        "shelling,2024-11-03T09:17:00Z,37.1803,48.2801,300,telegram,b\n"
        "shelling,2024-11-03T09:15:00,37.18,48.28,100,police,naive\n",
        encoding="utf-8",
    )
    code, out = run("init", "--db", db)
    assert code == 0 and "schema version 10" in out
    code, out = run("ingest", str(data), "--db", db, "--json", "--rejects", str(tmp_path / "rej.csv"))
    assert code == 0
    assert json.loads(out) == {"accepted": 2, "duplicates": 0, "rejected": 1, "incidents": 1}
    with (tmp_path / "rej.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["row"], r["field"]) for r in rows] == [("3", "observed_at")]
    code, out = run("ingest", str(data), "--db", db, "--json")
    assert json.loads(out) == {"accepted": 0, "duplicates": 2, "rejected": 1, "incidents": 0}
    code, out = run("stats", "--db", db, "--json")
    stats = json.loads(out)
    assert stats["reports"] == 2 and stats["incidents"] == 1 and stats["rejects"] == 2
    assert stats["by_kind"] == {"shelling": {"reports": 2, "incidents": 1}}
    code, out = run("stats", "--db", db)
    assert code == 0 and out.strip().splitlines()[-1].startswith("2 reports, 1 incidents, 2 batches, 2 rejects")


def test_exports_and_formula_safety(tmp_path: Path) -> None:
    db = str(tmp_path / "g.db")
    data = tmp_path / "r.csv"
    data.write_text(
        HEADER + 'shelling,2024-11-03T09:15:00Z,37.18,48.28,100,police,"=HYPERLINK(""http://x"")"\n'
        "glide_bomb,2024-11-04T10:00:00Z,37.25,48.30,100,police,b\n",
        encoding="utf-8",
    )
    run("ingest", str(data), "--db", db)
    code, out = run("reports", "--db", db, "--format", "csv")
    rows = list(csv.DictReader(out.splitlines()))
    assert code == 0 and len(rows) == 2
    assert rows[0]["text"].startswith("'=")  # a spreadsheet shows it, never runs it
    code, out = run("reports", "--db", db, "--format", "geojson", "--kind", "glide_bomb")
    features = json.loads(out)["features"]
    assert [f["properties"]["kind"] for f in features] == ["glide_bomb"]
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [37.25, 48.3]}
    code, out = run(
        "reports", "--db", db, "--format", "jsonl", "--since", "2024-11-04", "--bbox", "37.2,48.2,37.3,48.4"
    )
    assert [json.loads(line)["kind"] for line in out.splitlines()] == ["glide_bomb"]
    code, out = run("reports", "--db", db, "--until", "2024-11-04")
    assert len(list(csv.DictReader(out.splitlines()))) == 1


def test_errors_are_one_line_and_non_zero(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "greyzone"
    missing = subprocess.run(
        [exe, "stats", "--db", str(tmp_path / "none.db")], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 1
    assert (
        missing.stderr.strip()
        == f"error: no store at {tmp_path / 'none.db'}: run 'greyzone init' (or pass --db to an existing one)"
    )
    weird = tmp_path / "weird.csv"
    weird.write_text("a,b\n1,2\n", encoding="utf-8")
    bad = subprocess.run(
        [exe, "ingest", str(weird), "--db", str(tmp_path / "g.db")], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1 and "fit no known format" in bad.stderr and "Traceback" not in bad.stderr
    usage = subprocess.run(
        [exe, "reports", "--bbox", "1,2", "--db", str(tmp_path / "g.db")], capture_output=True, text=True, check=False
    )
    assert usage.returncode == 2 and "LON_MIN" in usage.stderr


def test_demo_json(tmp_path: Path) -> None:
    code, out = run(
        "demo", "--db", str(tmp_path / "d.db"), "--dir", str(tmp_path / "scenario"), "--days", "5", "--json"
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["synthetic"] is True
    assert summary["ingest"]["rejected"] == 7  # the messy file's seven rows, each with its reasons
    assert summary["ingest"]["incidents"] < summary["ingest"]["accepted"]
    assert (tmp_path / "scenario" / "rejects.csv").exists()


def test_control_map_and_share_on_the_demo(tmp_path: Path, shared_data: Path) -> None:
    db = str(tmp_path / "d.db")
    run("demo", "--db", db, "--dir", str(tmp_path / "s"), "--days", "28", "--json")
    geo = tmp_path / "control.geojson"
    code, out = run("control", "map", "--db", db, "--at", "2024-11-28", "--geojson", str(geo), "--json")
    assert code == 0
    states = {s["state"]: s for s in json.loads(out)["states"]}
    assert states["other_side"]["area_km2"] > 0 and states["held"]["area_km2"] > 0
    features = json.loads(geo.read_text(encoding="utf-8"))["features"]
    assert {f["properties"]["state"] for f in features} == set(states)
    early = run(
        "control",
        "share",
        "--db",
        db,
        "--place",
        "Pokrovsk",
        "--gazetteer",
        str(shared_data / "gazetteer"),
        "--at",
        "2024-11-08",
        "--json",
    )
    late = run(
        "control",
        "share",
        "--db",
        db,
        "--place",
        "Покровськ",
        "--gazetteer",
        str(shared_data / "gazetteer"),
        "--at",
        "2024-11-28",
        "--json",
    )
    before, after = json.loads(early[1])["shares"], json.loads(late[1])["shares"]
    assert before["held"] > 0.9  # the synthetic front starts 6 km away
    assert after["other_side"] + after["contested"] > before["other_side"] + before["contested"]  # and comes closer
    assert abs(sum(after.values()) - 1) < 1e-9


def test_control_evaluate_on_the_real_snapshots(tmp_path: Path, shared_data: Path) -> None:
    truth = shared_data / "control" / "deepstate_status_pokrovsk40km_2024-01_2025-03.geojson"
    plot = tmp_path / "scores.svg"
    code, out = run(
        "control",
        "evaluate",
        "--truth",
        str(truth),
        "--res",
        "6",
        "--obs-per-day",
        "100",
        "--bbox",
        "36.6245,47.9136,37.7279,48.65",
        "--plot",
        str(plot),
        "--json",
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["days"] == 456 and summary["res"] == 6  # 434 snapshots; a day without one keeps the last map
    assert summary["glitch_days"] == ["2024-01-24"]  # occupied 298.6 → 228.0 → 298.6 km² (metrics CSV)
    assert summary["fused_iou_mean"] > 0.8 and summary["naive_iou_mean"] > 0.7
    chart = svgtools.parse(plot.read_text(encoding="utf-8"))
    assert svgtools.ids(chart, "series-") == ["series-naive", "series-fused"]  # one line each, 456 days long
    assert all(len(svgtools.path_points(svgtools.group(chart, g))[0]) > 100 for g in ("series-naive", "series-fused"))


def test_control_history_of_a_place_and_a_cell(tmp_path: Path, shared_data: Path) -> None:
    import h3

    db = str(tmp_path / "d.db")
    run("demo", "--db", db, "--dir", str(tmp_path / "s"), "--days", "21", "--json")
    code, out = run(
        "control", "history", "--db", db, "--place", "Pokrovsk", "--gazetteer", str(shared_data / "gazetteer"), "--json"
    )
    rows = json.loads(out)
    assert code == 0 and len(rows) >= 20
    assert all(abs(sum(v for k, v in r.items() if k != "day") - 1) < 0.01 for r in rows)
    assert rows[-1]["held"] < rows[0]["held"] + 1e-9  # the front only comes closer
    cell = h3.latlng_to_cell(48.283, 37.18, 8)
    code, out = run("control", "history", "--db", db, "--cell", cell, "--json")
    timeline = json.loads(out)
    assert code == 0 and timeline and timeline[0]["state"] in {"held", "unconfirmed"}
    code, _ = run("control", "history", "--db", db, "--cell", "nonsense")
    assert code == 2


def test_a_settlement_list_placed_by_the_gazetteer_feeds_the_control_map(tmp_path: Path, shared_data: Path) -> None:
    db = str(tmp_path / "s.db")
    data = tmp_path / "list.csv"
    data.write_text(
        "settlement,date,status\nSelydove,2024-11-20,other_side\nМирноград,2024-11-20,contested\n"
        "Hryshyne,2024-11-20,held\nШевченко,2024-11-20,held\n",
        encoding="utf-8",
    )
    code, out = run("ingest", str(data), "--db", db, "--gazetteer", str(shared_data / "gazetteer"), "--json")
    summary = json.loads(out)
    assert code == 0 and summary["accepted"] == 4 and summary["rejected"] == 1  # Шевченко: two villages
    code, out = run("control", "map", "--db", db, "--at", "2024-11-21", "--res", "7", "--json")
    states = {s["state"]: s["area_km2"] for s in json.loads(out)["states"]}
    assert code == 0 and states["other_side"] > 0 and states["held"] > 0 and states["contested"] > 0


def test_hazard_errors_are_one_clear_line(tmp_path: Path) -> None:
    db = str(tmp_path / "e.db")
    run("init", "--db", db)
    result = runner.invoke(app, ["hazard", "fit", "--db", db])
    assert result.exit_code == 2 and "no stored reports" in result.output
    result = runner.invoke(app, ["hazard", "at", "--db", db, "--lonlat", "37.18,48.28"])
    assert result.exit_code == 2 and "hazard fit" in result.output  # says what to run first
    result = runner.invoke(app, ["hazard", "at", "--db", db, "--lonlat", "37.18"])
    assert result.exit_code == 2 and "LON,LAT" in result.output


def test_models_live_in_the_store_and_export_to_a_file_that_answers_the_same(tmp_path: Path) -> None:
    db = str(tmp_path / "m.db")
    run("demo", "--db", db, "--dir", str(tmp_path / "s"), "--days", "10", "--json")
    code, out = run("hazard", "fit", "--db", db, "--kind", "shelling", "--res", "7", "--json")
    assert code == 0 and json.loads(out)["model"] == "hazard model #1 (shelling)"
    code, _ = run("hazard", "fit", "--db", db, "--kind", "fpv_strike", "--res", "7", "--json")
    assert code == 0 and not list(tmp_path.glob("*.hazard.json"))  # kept in the store, not beside it
    exported = tmp_path / "shelling.json"
    code, out = run("hazard", "export", str(exported), "--db", db, "--kind", "shelling")
    assert code == 0 and "#1" in out
    data = json.loads(exported.read_text(encoding="utf-8"))
    assert data["kinds"] == ["shelling"] and data["fit"]["model_id"] == 1 and data["fit"]["summary"]["events"] > 0
    at = ["hazard", "at", "--db", db, "--lonlat", "37.18,48.28", "--time", "2024-11-10T12:00Z", "--json"]
    newest, stored, from_file = (
        json.loads(run(*at, *more)[1]) for more in ([], ["--kind", "shelling"], ["--model", str(exported)])
    )
    assert newest["model"] == "hazard model #2 (fpv_strike)" and stored["model"] == "hazard model #1 (shelling)"
    assert from_file["model"] == str(exported)  # each answer names the model it came from
    assert {k: v for k, v in from_file.items() if k != "model"} == {k: v for k, v in stored.items() if k != "model"}
    assert stored["status"] == "ok" and stored["events_per_km2_h"] > 0 and stored != newest
    said = run(*at[:-1], "--kind", "shelling")[1]  # for people: Kyiv time, 24-hour, labelled
    assert "on 2024-11-10 14:00 Kyiv time" in said and "as of 20" in said and "+00:00" not in said
    assert stored["as_of"].endswith("+00:00")  # the JSON keeps ISO 8601 with its offset
    code, _ = run("hazard", "export", str(tmp_path / "x.json"), "--db", db, "--kind", "glide_bomb")
    assert code == 2  # no model of that kind: a usage error that says so


def test_control_map_draws_a_legend_entry_for_each_state_it_reports(tmp_path: Path) -> None:
    db = str(tmp_path / "c.db")
    run("demo", "--db", db, "--dir", str(tmp_path / "s"), "--days", "10", "--json")
    picture = tmp_path / "control.svg"
    code, out = run("control", "map", "--db", db, "--at", "2024-11-10", "--svg", str(picture), "--json")
    states = [s["state"] for s in json.loads(out)["states"]]
    root = svgtools.parse(picture.read_text(encoding="utf-8"))
    assert code == 0 and len(states) >= 2
    assert svgtools.texts(svgtools.group(root, "legend")) == [s.replace("_", " ") for s in states]
    assert svgtools.ids(root, "state-") == [f"state-{s}" for s in states]
    assert svgtools.texts(svgtools.group(root, "scale-bar-label"))[0].endswith(" km")


def test_control_evaluate_near_the_city_on_the_daily_file(tmp_path: Path, shared_data: Path) -> None:
    """Issue 19, evaluation: the daily occupied file is a truth too, and scoring near the centre reports the
    false-reassurance rate of the fused and the naive map, with the days the centre was called held wrongly."""
    daily = shared_data / "control" / "deepstate_occupied_pokrovsk40km_daily_2024-07_2025-03.geojson"
    plot = tmp_path / "near.svg"
    args = ["control", "evaluate", "--truth", str(daily), "--res", "6", "--obs-per-day", "100", "--json"]
    code, out = run(
        *args,
        "--bbox",
        "36.6245,47.9136,37.7279,48.65",
        "--near",
        "37.18,48.283",
        "--radius-km",
        "15",
        "--plot",
        str(plot),
    )
    assert code == 0, out
    s = json.loads(out)
    assert s["days"] >= 263 and 0 < s["scored_cells"] < s["cells"]
    assert 0.0 <= s["false_reassurance_mean"] <= 1.0 and 0.0 <= s["naive_false_reassurance_mean"] <= 1.0
    assert all(d >= "2024-07-08" for d in s["centre_misled_days"])
    chart = svgtools.parse(plot.with_name("near-reassurance.svg").read_text(encoding="utf-8"))
    assert svgtools.ids(chart, "series-") == ["series-naive", "series-fused"]
