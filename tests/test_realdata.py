"""Real data of the Pokrovsk area (../shared/data): every report file through its adapter, counted."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import box

from greyzone.errors import IngestError
from greyzone.ingest.build import BuildContext
from greyzone.ingest.formats import Format, detect_format
from greyzone.ingest.gazetteer import Gazetteer
from greyzone.ingest.records import Reject
from greyzone.ingest.runner import ingest_files
from greyzone.model import Kind, Side
from greyzone.store.base import ReportQuery
from greyzone.store.sqlite import SqliteStore

pytestmark = pytest.mark.realdata
BOX = (36.6245, 47.9136, 37.7279, 48.6500)

# file, its format, the number of records the data README states (CSV: data rows; GeoJSON: features).
# UCDP: the README's 3,693 counts physical lines; 168 headlines span two lines, so the CSV holds 3,525 records.
REPORT_FILES = [
    ("events/ucdp_ged_ukraine_2014-2022.csv", Format.UCDP, 3_525),
    ("alerts/official_alerts_donetska_2022-03-15_2024-04-22.csv", Format.ALERTS, 5_238),
    ("alerts/volunteer_alerts_donetska_2022-02-25_2024-10-10.csv", Format.ALERTS, 5_419),
    ("alerts/derived_oblast_alert_intervals_donetska_2024.csv", Format.ALERTS, 1_685),
    ("control/deepstate_status_pokrovsk40km_2024-01_2025-03.geojson", Format.DEEPSTATE, 910),
    ("control/deepstate_occupied_pokrovsk40km_daily_2024-07_2025-03.geojson", Format.DEEPSTATE, 263),
]
NOT_REPORTS = [  # tables of figures and reference lists: no report in them, and the reason is said
    "alerts/alert_regions_donetska_states_json.csv",
    "control/deepstate_status_metrics_2024-01_2025-03.csv",
    "control/deepstate_occupied_metrics_2024-07_2025-03.csv",
    "events/humanitarian_corridors_ukraine_2022.csv",
]


@pytest.fixture(scope="module")
def gazetteer(shared_data: Path) -> Gazetteer:
    return Gazetteer.from_dir(shared_data / "gazetteer")


def test_every_report_file_is_covered(shared_data: Path) -> None:
    names = {
        str(p.relative_to(shared_data)) for d in ("events", "alerts", "control") for p in (shared_data / d).iterdir()
    }
    assert names == {f for f, _, _ in REPORT_FILES} | set(NOT_REPORTS)


def csv_records(path: Path) -> int:
    csv.field_size_limit(10**7)
    with path.open(newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.DictReader(fh))


@pytest.mark.parametrize(("name", "fmt", "rows"), REPORT_FILES, ids=[Path(f).stem for f, _, _ in REPORT_FILES])
def test_real_file_lands_whole_and_reingest_adds_nothing(
    shared_data: Path, gazetteer: Gazetteer, tmp_path: Path, name: str, fmt: Format, rows: int
) -> None:
    path = shared_data / name
    assert detect_format(path) is fmt
    if path.suffix == ".csv":
        assert csv_records(path) == rows
    rejects: list[Reject] = []
    with SqliteStore.open(tmp_path / "r.db") as store:
        summary = ingest_files([path], store, ctx=BuildContext(gazetteer=gazetteer), on_rejects=rejects.extend)
        rejected_rows = {r.row for r in rejects}
        assert summary.accepted + len(rejected_rows) == rows
        assert all(r.field and r.reason for r in rejects)
        assert summary.accepted == rows  # every real record is readable
        again = ingest_files([path], store, ctx=BuildContext(gazetteer=gazetteer))
        assert (again.accepted, again.duplicates) == (0, rows)
        assert store.stats().reports == rows and store.integrity_check() == "ok"


@pytest.mark.parametrize("name", NOT_REPORTS)
def test_tables_that_are_not_reports_are_refused_with_their_columns(shared_data: Path, name: str) -> None:
    with pytest.raises(IngestError, match="fit no known format"):
        detect_format(shared_data / name)


def test_gazetteer_resolves_spellings_of_pokrovsk_to_one_place(gazetteer: Gazetteer) -> None:
    places = {gazetteer.resolve(n) for n in ("Покровськ", "Pokrovsk", "Pokrovs'k", "Покровск", "POKROVSK")}
    assert len(places) == 1
    lon, lat, precision = places.pop()
    assert abs(lon - 37.18) < 0.01 and abs(lat - 48.28) < 0.01 and precision == 5_000.0
    assert gazetteer.resolve("Myrnohrad") == gazetteer.resolve("Мирноград") == gazetteer.resolve("Mirnograd")
    with pytest.raises(LookupError, match="ambiguous"):
        gazetteer.resolve("Шевченко")  # two villages of that name, 18 km apart


def test_ucdp_precision_is_kept_not_sharpened(shared_data: Path, tmp_path: Path) -> None:
    with SqliteStore.open(tmp_path / "u.db") as store:
        ingest_files([shared_data / "events/ucdp_ged_ukraine_2014-2022.csv"], store)
        near = list(store.read_reports(ReportQuery(bbox=BOX)))
    assert near, "UCDP has events within 40 km of Pokrovsk"
    precisions = {r.location_precision_m for r in near}
    assert precisions <= {1_000.0, 25_000.0, 50_000.0, 150_000.0, 500_000.0}
    assert any(r.killed is not None and r.killed > 0 for r in near)


def test_official_and_volunteer_alerts_of_one_alert_are_one_incident(shared_data: Path, tmp_path: Path) -> None:
    files = [
        shared_data / "alerts/official_alerts_donetska_2022-03-15_2024-04-22.csv",
        shared_data / "alerts/volunteer_alerts_donetska_2022-02-25_2024-10-10.csv",
    ]
    with SqliteStore.open(tmp_path / "a.db") as store:
        summary = ingest_files(files, store)
        s = store.stats()
    assert s.reports == 5_238 + 5_419
    # the two feeds overlap in 2022-03 → 2024-04: thousands of oblast alerts are seen by both
    assert s.reports - s.incidents > 2_000
    assert summary.incidents == s.incidents


def test_deepstate_areas_match_the_published_metrics(shared_data: Path, tmp_path: Path) -> None:
    """The stored polygons' areas (UTM 37N, clipped to the box) equal the metrics file's, within 0.5 %."""
    with (shared_data / "control/deepstate_status_metrics_2024-01_2025-03.csv").open(encoding="utf-8") as fh:
        metrics = {r["snapshot_utc"]: r for r in csv.DictReader(fh)}
    utm = Transformer.from_crs("EPSG:4326", "EPSG:32637", always_xy=True)
    clip = box(*BOX)
    with SqliteStore.open(tmp_path / "d.db") as store:
        ingest_files([shared_data / "control/deepstate_status_pokrovsk40km_2024-01_2025-03.geojson"], store)
        reports = list(store.read_reports(ReportQuery(kinds=frozenset({Kind.CONTROL_OBSERVATION}))))
    assert len(reports) == 910
    checked = 0
    for r in reports[::37]:
        assert r.area_wkb is not None
        clipped = shapely.from_wkb(r.area_wkb).intersection(clip)
        km2 = (
            shapely.transform(
                clipped, lambda xy: __import__("numpy").column_stack(utm.transform(xy[:, 0], xy[:, 1]))
            ).area
            / 1e6
        )
        row = metrics[r.observed_at.strftime("%Y-%m-%dT%H:%M:%SZ")]
        expected = float(row["occupied_km2_in_box" if r.side is Side.OTHER_SIDE else "unknown_status_km2_in_box"])
        assert km2 == pytest.approx(expected, rel=0.005, abs=0.05)
        checked += 1
    assert checked >= 20


def test_alert_hromadas_resolve_through_the_gazetteer(gazetteer: Gazetteer) -> None:
    from greyzone.ingest.alerts import alert_fields

    row = {
        "oblast": "Donetska oblast",
        "raion": "Pokrovskyi raion",
        "hromada": "Pokrovska terytorialna hromada",
        "level": "hromada",
        "started_at": "2024-01-01 10:00:00+00:00",
        "finished_at": "2024-01-01 10:30:00+00:00",
    }
    fields = alert_fields(row, gazetteer.resolve)
    assert isinstance(fields, dict)
    assert fields["location_precision_m"] < 40_000  # the hromada, not its raion
    assert abs(fields["lon"] - 37.18) < 0.05


def test_alerts_alone_fit_no_model_and_say_why(shared_data: Path, tmp_path: Path) -> None:
    """Air-raid alerts cover a hromada, a raion or the oblast: no alert can be placed on the model's cells,
    so a fit on alerts alone is refused with the reason (it once 'fitted on 0 incidents'), front-wide too."""
    from typer.testing import CliRunner

    from greyzone.cli import app

    db = str(tmp_path / "alerts.db")
    with SqliteStore.open(db) as store:
        ingest_files([shared_data / "alerts/official_alerts_donetska_2022-03-15_2024-04-22.csv"], store)
    for front in ([], ["--front"]):
        said = CliRunner().invoke(app, ["hazard", "fit", "--db", db, "--kind", "air_raid_alert", "--res", "6", *front])
        assert said.exit_code == 2 and "nothing to fit" in " ".join(said.output.split()), said.output
        assert "background only" in " ".join(said.output.replace("│", " ").split())
    with SqliteStore.open(db) as store:
        assert store.read_models("hazard") == []  # nothing kept
