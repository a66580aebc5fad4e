"""The SYNTHETIC demo scenario (a Pokrovsk-like city): generated, ingested, drawn."""

from __future__ import annotations

import csv
import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from greyzone.application.stores import opened
from greyzone.demo.scenario import ScenarioFiles, write_scenario
from greyzone.ingest.build import BuildContext
from greyzone.ingest.records import Reject, write_rejects
from greyzone.ingest.runner import IngestSummary, ingest_files
from greyzone.settings import Settings, reporter_key
from greyzone.store.base import ReportQuery, StoreStats


@dataclass(frozen=True)
class Demo:
    files: ScenarioFiles
    summary: IngestSummary
    stats: StoreStats
    picture: Path
    rejects: list[Reject]
    rejects_file: Path


def street_shapes(path: Path) -> list[tuple[npt.NDArray[np.float64], bool]]:
    """The lines of a street GeoJSON, each with whether it is a major road (primary)."""
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return [
        (np.asarray(f["geometry"]["coordinates"], dtype=np.float64)[:, :2], f["properties"].get("highway") == "primary")
        for f in features
    ]


def make_demo(settings: Settings, folder: Path, *, seed: int, days: int) -> Demo:
    """Generate the scenario into ``folder``, ingest it into a new SQLite store at ``settings.db_path``
    and draw its overview map (``folder/overview.svg``)."""
    from greyzone.plotting import overview_map  # matplotlib: imported when a picture is drawn

    db = settings.db_path
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    files = write_scenario(folder, seed=seed, days=days)
    kept: list[Reject] = []
    with opened(dataclasses.replace(settings, database_url=None)) as store:  # the demo is the embedded store
        summary = ingest_files(
            files.report_files(), store, ctx=BuildContext(reporter_key=reporter_key(settings)), on_rejects=kept.extend
        )
        stats = store.stats()
        title = (
            f"SYNTHETIC DEMO: a Pokrovsk-like city, {days} days, {stats.reports} reports ({stats.incidents} incidents)"
        )
        picture = folder / "overview.svg"
        picture.write_text(
            overview_map(street_shapes(files.streets), store.read_reports(ReportQuery()), title), "utf-8"
        )
    rejects_file = folder / "rejects.csv"
    write_rejects(kept, rejects_file)
    return Demo(files, summary, stats, picture, kept, rejects_file)


@dataclass(frozen=True)
class CoordinationDemo:
    districts: int
    services: int
    crews: int
    needs: int
    requests: int
    merged: int
    flagged: int  # requests whose suspicion is medium or high


def load_coordination(settings: Settings, folder: Path, city: str, *, seed: int, end: datetime) -> CoordinationDemo:
    """Write the demo's coordination files into ``folder`` and load them into the store (whose city ``city``
    is imported): districts, service points, crews, needs and evacuation requests (taken one by one:
    de-duplicated and vetted as any would be)."""
    from greyzone.application import board, evacuation
    from greyzone.demo.coordination import write_coordination
    from greyzone.store.base import User

    files = write_coordination(folder, seed=seed, end=end)
    user = User("demo", "coordinator")
    with opened(settings) as store:
        districts, _ = board.import_districts(store, city, files.districts)
        points, _ = board.add_service_points(store, city, board.read_service_file(files.services))
        crews = [evacuation.add_crew(store, user, evacuation.crew_from(row, city)) for row in _rows(files.crews)]
        needs = 0
        for row in _rows(files.needs):
            at = datetime.fromisoformat(str(row["at"]))
            district, category, people = str(row["district"]), str(row["category"]), int(str(row["people"]))
            need = board.record_need(store, user, city, district, category, people, at)
            if row["met"] == "True":
                board.meet_need(store, need.need_id, at + timedelta(hours=20))
            needs += 1
        _, inside = evacuation.city_check(store, city)
        around = evacuation.Around()
        taken = []
        for row in _rows(files.requests):
            form = evacuation.form_from(row, city, where=None, inside=inside)
            key = str(row.get("idempotency_key") or "") or None
            taken.append(evacuation.take_request(store, settings, user, form, idempotency_key=key, around=around))
        ids = list(dict.fromkeys(t.request_id for t in taken))
        views = [evacuation.vet_request(store, settings, user, r) for r in ids]  # all under vetting, scored anew
        calm = [v for v in views if v["level"] == "low"]
        for v in calm[:3]:
            evacuation.move_request(store, user, str(v["request_id"]), "approved", "called back: confirmed (demo)")
    flagged = len({str(v["request_id"]) for v in views if v["level"] != "low"})
    merged = sum(t.merged for t in taken)
    return CoordinationDemo(districts, len(points), len(crews), needs, len(taken) - merged, merged, flagged)


def _rows(path: Path) -> list[dict[str, object]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [dict(r) for r in csv.DictReader(fh)]
