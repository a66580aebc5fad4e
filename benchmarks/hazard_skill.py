"""Forecast skill on real data: the model against the historical (cell × hour of day) and last-7-days
baselines, rolling one-day-ahead, on the UCDP GED events and the official air-raid alerts of
``../shared/data``. Ingests both into a temporary store, then runs ``greyzone hazard backtest``.

    python benchmarks/hazard_skill.py [--out DIR]   (reliability diagrams: DIR/*.png)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from typer.testing import CliRunner

from greyzone.cli import app

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
RUNS = {
    "UCDP GED events, all Ukraine, H3 res 5, day bins, 180 days from 2014-11-01": [
        "--train-until",
        "2014-11-01",
        "--test-days",
        "180",
        "--res",
        "5",
        "--bin",
        "day",
    ],
    "UCDP GED events, all Ukraine, H3 res 5, day bins, 365 days from 2015-03-01": [
        "--train-until",
        "2015-03-01",
        "--test-days",
        "365",
        "--res",
        "5",
        "--bin",
        "day",
    ],
    "official air-raid alerts over the Pokrovsk box, H3 res 5, hour bins, 120 days from 2023-10-01": [
        "--kind",
        "air_raid_alert",
        "--train-until",
        "2023-10-01",
        "--test-days",
        "120",
        "--res",
        "5",
        "--bin",
        "hour",
        "--bbox",
        "36.6245,47.9136,37.7279,48.65",
    ],
    "official air-raid alerts over the Pokrovsk box, H3 res 5, hour bins, 200 days from 2022-06-01": [
        "--kind",
        "air_raid_alert",
        "--train-until",
        "2022-06-01",
        "--test-days",
        "200",
        "--res",
        "5",
        "--bin",
        "hour",
        "--bbox",
        "36.6245,47.9136,37.7279,48.65",
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path())
    args = parser.parse_args()
    files = [
        DATA / "events" / "ucdp_ged_ukraine_2014-2022.csv",
        DATA / "alerts" / "official_alerts_donetska_2022-03-15_2024-04-22.csv",
    ]
    if not all(f.exists() for f in files):
        sys.exit(f"needs the real data in {DATA}")
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "skill.db")
        result = runner.invoke(app, ["ingest", *map(str, files), "--db", db])
        assert result.exit_code == 0, result.output
        print(f"{'':<4}{'forecast':<12} {'log-lik/event':>14} {'Brier':>9} {'hits@5%':>8}   reliability (≥100 cases)")
        for i, (title, options) in enumerate(RUNS.items()):
            plot = args.out / f"hazard-skill-{i + 1}.png"
            out = runner.invoke(app, ["hazard", "backtest", "--db", db, *options, "--plot", str(plot), "--json"])
            assert out.exit_code == 0, out.output
            r = json.loads(out.stdout)
            judged = [row for row in r["reliability"] if row["within_0_05"] is not None]
            worst = max((abs(row["forecast"] - row["observed"]) for row in judged), default=float("nan"))
            print(f"{i + 1}. {title}: {r['test_events']:,.0f} events, {r['cells']} cells  ({plot})")
            for name in ("model", "historical", "last_7_days"):
                s = r[name]
                note = (
                    f"   {sum(row['within_0_05'] for row in judged)}/{len(judged)} bins within ±0.05, worst {worst:.3f}"
                    if name == "model"
                    else ""
                )
                print(
                    f"{'':<4}{name:<12} {s['mean_loglik_per_event']:>14.4f} {s['brier']:>9.5f} "
                    f"{s['hit_rate_5pct_area']:>8.3f}{note}"
                )


if __name__ == "__main__":
    main()
