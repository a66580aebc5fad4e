"""Control fusion speed on the ±40 km box at city-block resolution (H3 res 9, ~61,000 cells).

- fold one observation into the running filter, against recomputing the map from all observations;
- the whole map's states;
- replay: the map as it stood at a past time, from the nearest checkpoint, against re-folding from the start.

Observations: 200 a day for 60 days, simulated against the real DeepStateMap snapshot of each day.

    python benchmarks/control.py [--days 60] [--res 9]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from shapely.geometry import box

from greyzone.control.evaluate import simulate_day, truth_states
from greyzone.control.fusion import DAY_S, ControlFusion, ControlHistory
from greyzone.ingest.deepstate import status_by_day
from greyzone.model.grid import Grid

BOX = box(36.6245, 47.9136, 37.7279, 48.6500)
SNAPSHOTS = (
    Path(__file__).resolve().parent.parent.parent
    / "shared/data/control/deepstate_status_pokrovsk40km_2024-01_2025-03.geojson"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--res", type=int, default=9)
    args = parser.parse_args()
    if not SNAPSHOTS.exists():
        sys.exit(f"needs the real snapshots at {SNAPSHOTS}")
    t0 = time.perf_counter()
    grid = Grid.from_polygon(BOX, args.res)
    print(f"grid: {len(grid):,} cells at H3 res {args.res} ({time.perf_counter() - t0:.1f} s to build)")
    days = list(status_by_day(SNAPSHOTS).items())[: args.days]
    start = datetime.fromisoformat(days[0][0]).replace(tzinfo=UTC).timestamp()
    rng = np.random.default_rng(0)
    observations = []
    for i, (_, d) in enumerate(days):
        truth = truth_states(grid, d.get("occupied"), d.get("unknown_status"))
        observations += simulate_day(grid, truth, start + i * DAY_S, 200, 0.1, rng)
    observations.sort(key=lambda o: o.t_s)
    fusion = ControlFusion(grid)
    folds = []
    for o in observations:
        t = time.perf_counter()
        fusion.fold(o)
        folds.append(time.perf_counter() - t)
    t = time.perf_counter()
    fusion.states()
    whole_map = time.perf_counter() - t
    history = ControlHistory(grid, observations)  # built once, as the filter runs
    middle = start + args.days / 2 * DAY_S
    t = time.perf_counter()
    history.at(middle)
    replay = time.perf_counter() - t
    t = time.perf_counter()
    ControlFusion.replay(grid, observations, middle)
    replay_from_start = time.perf_counter() - t
    t = time.perf_counter()
    ControlFusion.replay(grid, observations, observations[-1].t_s)
    recompute = time.perf_counter() - t
    print(f"{len(observations):,} observations over {args.days} days")
    print(f"{'':<40} {'greyzone':>12} {'recompute all':>14}")
    print(
        f"{'fold one observation (median / p99)':<40} {statistics.median(folds) * 1e3:>9.2f} ms "
        f"{recompute * 1e3:>11.0f} ms   p99 {sorted(folds)[int(0.99 * len(folds))] * 1e3:.2f} ms"
    )
    print(f"{'the whole map (states of every cell)':<40} {whole_map * 1e3:>9.1f} ms")
    print(f"{'replay to the middle of the period':<40} {replay * 1e3:>9.0f} ms {replay_from_start * 1e3:>11.0f} ms")
    c = history.checkpoints[0]
    size = c.nbytes
    print(f"(checkpoints every 4 days: {len(history.checkpoints)} of {size / 1e6:.1f} MB each)")


if __name__ == "__main__":
    main()
