"""The SYNTHETIC demo scenario (a Pokrovsk-like city): generated, ingested, drawn."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
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
