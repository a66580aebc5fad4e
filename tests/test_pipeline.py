"""The two-process ingest stores exactly what the in-process one stores."""

from __future__ import annotations

from pathlib import Path

from greyzone.demo.scenario import write_scenario
from greyzone.ingest.build import BuildContext
from greyzone.ingest.formats import Format
from greyzone.ingest.runner import batches_of, ingest_files, parallel_batches
from greyzone.store.base import ReportQuery
from greyzone.store.sqlite import SqliteStore


def test_parallel_and_in_process_ingest_agree(tmp_path: Path) -> None:
    files = write_scenario(tmp_path / "s", seed=5, days=6)
    results = []
    for parallel in (False, True):
        with SqliteStore.open(tmp_path / f"{parallel}.db") as store:
            summary = ingest_files(files.report_files(), store, parallel=parallel, batch_size=300)
            reports = [
                (r.report_id, r.kind, store.incident_of(r.report_id.bytes)) for r in store.read_reports(ReportQuery())
            ]
            results.append((summary.as_dict(), reports))
    assert results[0] == results[1]
    assert len(results[0][1]) == results[0][0]["accepted"]


def test_parallel_batches_report_failures(tmp_path: Path) -> None:
    files = write_scenario(tmp_path / "s", seed=5, days=2)
    same = [len(b) for b, _, _ in batches_of(files.reports_csv, Format.CSV, BuildContext(), 100)]
    other = [len(b) for b, _, _ in parallel_batches(files.reports_csv, Format.CSV, BuildContext(), 100)]
    assert same == other and sum(same) > 100
