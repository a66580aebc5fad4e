from __future__ import annotations

import json
from pathlib import Path

import pytest

from greyzone.demo.scenario import LABEL, write_scenario
from greyzone.ingest.runner import ingest_files
from greyzone.store.sqlite import SqliteStore


def test_same_seed_same_files_and_everything_is_labelled(tmp_path: Path) -> None:
    a = write_scenario(tmp_path / "a", seed=3, days=4)
    b = write_scenario(tmp_path / "b", seed=3, days=4)
    for fa, fb in zip(a.report_files(), b.report_files(), strict=True):
        assert fa.read_bytes() == fb.read_bytes()
    for line in a.field_jsonl.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert row["source"].startswith("synthetic:") and row["text"].startswith(LABEL)
    assert "synthetic:" in a.reports_csv.read_text(encoding="utf-8").splitlines()[1]
    streets = json.loads(a.streets.read_text(encoding="utf-8"))
    assert len(streets["features"]) > 30 and LABEL in streets["name"]
    assert len(json.loads(a.gates.read_text(encoding="utf-8"))["features"]) == 5


def test_demo_has_the_rhythm_of_the_city(tmp_path: Path) -> None:
    files = write_scenario(tmp_path / "s", seed=7, days=14)
    with SqliteStore.open(tmp_path / "d.db") as store:
        summary = ingest_files(files.report_files(), store)
        s = store.stats()
    shelling_reports, shelling_incidents = s.by_kind["shelling"]
    per_day = shelling_incidents / 14
    assert 30 <= per_day <= 60, per_day  # 30-60 shelling attacks a day
    assert shelling_reports > shelling_incidents  # re-reported by a second source, counted once
    for kind in ("fpv_strike", "glide_bomb", "infrastructure_status", "control_observation", "service_status"):
        assert s.by_kind[kind][0] > 0, kind
    assert summary.rejected == 7


def test_overview_map_draws_every_point_report(tmp_path: Path) -> None:
    import svgtools
    from greyzone.application.demo import street_shapes
    from greyzone.plotting import overview_map
    from greyzone.store.base import ReportQuery

    files = write_scenario(tmp_path / "s", seed=2, days=3)
    with SqliteStore.open(tmp_path / "d.db") as store:
        ingest_files(files.report_files(), store)
        reports = list(store.read_reports(ReportQuery()))
    svg = overview_map(street_shapes(files.streets), reports, "SYNTHETIC DEMO test")
    root = svgtools.parse(svg)
    points = [r for r in reports if r.area_wkb is None]
    drawn = {
        gid.removeprefix("report-"): svgtools.marks(svgtools.group(root, gid)) for gid in svgtools.ids(root, "report-")
    }
    assert sum(len(v) for v in drawn.values()) == len(points)
    assert {k: len(v) for k, v in drawn.items()} == {
        k.value: sum(r.kind is k for r in points) for k in {r.kind for r in points}
    }
    width, height = svgtools.size(root)
    assert all(0 <= x <= width and 0 <= y <= height for v in drawn.values() for x, y in v)  # the city fits the frame
    assert "SYNTHETIC DEMO" in svg and len(svgtools.ids(root, "area-")) >= 2  # other side and grey areas


@pytest.mark.parametrize("days", [1, 10])
def test_the_demo_citys_gates_lie_on_its_roads_whatever_its_length(tmp_path: Path, days: int) -> None:
    from scenarios import demo_city

    db = demo_city(tmp_path, days=days)  # imports the streets with the gates: a gate off every road is refused
    assert db.exists()
