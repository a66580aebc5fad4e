"""The daily situation report of a city over a store of 10^6 reports (a year of the ±40 km box, as
`benchmarks/ingest.py` generates it), the demo city's streets and districts, a hazard model fitted.

Printed: the time to make the report and write it as HTML, as PDF (WeasyPrint), and beside it the peer:
the report's incident table by direct SQL queries of the store (the day, the 7 and 28 days before, by
kind, an incident counted once) — the part of the report a hand-written query would give — and whether
the two agree.

    python benchmarks/sitrep.py [--reports 1000000] [--date 2024-11-27] [--keep DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sqlite3
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from greyzone.application.sitrep import make_sitrep, render
from greyzone.application.stores import open_store
from greyzone.cli import app as cli
from greyzone.settings import Settings

HERE = Path(__file__).resolve().parent


def _ingest_benchmark() -> Any:
    spec = importlib.util.spec_from_file_location("ingest_benchmark", HERE / "ingest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(args: list[str]) -> None:
    done = CliRunner().invoke(cli, args)
    if done.exit_code != 0:
        sys.exit(f"greyzone {' '.join(args)}: {done.output}")


def peer(db: Path, rep: Any) -> tuple[dict[str, int], float]:
    """The incident table by direct SQL, and how long it took."""
    start = datetime.fromisoformat(rep.data["period"]["from"])
    x0, y0, x1, y1 = rep.area.bounds
    sql = (
        "SELECT kind, count(*) FROM (SELECT coalesce(incident_id, seq) AS i, kind, min(seq) FROM reports"
        " WHERE observed_at >= ? AND observed_at < ? AND lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?"
        " AND kind NOT IN ('control_observation', 'infrastructure_status', 'service_status',"
        " 'evacuation_request', 'air_raid_alert') GROUP BY i) GROUP BY kind"
    )
    t0 = time.perf_counter()
    with sqlite3.connect(db) as conn:
        day = dict(conn.execute(sql, (start.timestamp(), (start + timedelta(days=1)).timestamp(), x0, x1, y0, y1)))
        for back in (7, 28):
            conn.execute(
                sql, ((start - timedelta(days=back)).timestamp(), start.timestamp(), x0, x1, y0, y1)
            ).fetchall()
    return day, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--date", default="2024-11-27")
    parser.add_argument("--keep", type=Path, default=None, help="keep the store here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="greyzone-sitrep-"))
    folder.mkdir(parents=True, exist_ok=True)
    db, scenario = folder / "s.db", folder / "scenario"
    if not db.exists():
        print(f"generating and ingesting {args.reports:,} reports …", file=sys.stderr)
        csv_path = folder / "reports.csv"
        _ingest_benchmark().generate(csv_path, args.reports)
        run(["ingest", str(csv_path), "--db", str(db)])
        run(["demo", "--db", str(folder / "demo.db"), "--dir", str(scenario), "--json"])
        streets, gates = str(scenario / "streets.geojson"), str(scenario / "gates.geojson")
        clock = ["--timezone", "Europe/Kyiv", "--curfew", "11:00-15:00"]
        run(["city", "import", streets, "--name", "demo", "--gates", gates, *clock, "--db", str(db)])
        run(["demo-coordination", "--db", str(db), "--dir", str(scenario)])
        run(["hazard", "fit", "--db", str(db), "--kind", "shelling", "--res", "7"])
    s = Settings(db_path=db)
    day = date.fromisoformat(args.date)
    with open_store(s) as store:
        reports = store.stats().reports
        t0 = time.perf_counter()
        rep = make_sitrep(store, s, "demo", day, "uk")
        html = render(rep, "html")
        html_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        pdf = render(make_sitrep(store, s, "demo", day, "uk"), "pdf")
        pdf_s = time.perf_counter() - t1
    table = {r["kind"]: r["day"] for r in rep.data["incidents"]["rows"] if r["day"]}  # type: ignore[index,union-attr]
    direct, peer_s = peer(db, rep)
    figures = {
        "reports": reports, "html_s": round(html_s, 2), "pdf_s": round(pdf_s, 2), "html_bytes": len(html),
        "pdf_bytes": len(pdf), "peer_sql_incident_table_s": round(peer_s, 3), "same_incident_table": table == direct,
    }  # fmt: skip
    if args.json:
        print(json.dumps(figures))
        return
    print(f"sitrep of a city over {reports:,} stored reports: HTML {html_s:.2f} s (target ≤ 10 s, {len(html):,} B), "
          f"PDF {pdf_s:.2f} s (target ≤ 30 s, {len(pdf):,} bytes); the peer, the incident table alone by direct SQL: "
          f"{peer_s:.3f} s; the same table: {table == direct}")  # fmt: skip


if __name__ == "__main__":
    main()
