"""Control fusion against the real DeepStateMap snapshots (2024-01 → 2025-03), beside the naive map.

Truth: each day's snapshot (occupied → other side, unknown status → grey, the rest held) on an H3
grid over the ±40 km box. Simulated observers report every day (`--obs-per-day`, wrong side with
`--noise`, 200 m location error); the fused map and the naive baseline (majority of the 7 nearest
observations of the last 14 days) are scored by IoU of the other side's ground, by month.

    python benchmarks/control_accuracy.py [--res 7] [--obs-per-day 200] [--noise 0.1]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from shapely.geometry import box

from greyzone.control.evaluate import evaluate, fill_days, road_cells, truth_states
from greyzone.ingest.deepstate import status_by_day
from greyzone.ingest.geojson import read_lines
from greyzone.model.grid import Grid

BOX = box(36.6245, 47.9136, 37.7279, 48.6500)
DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "control"
SNAPSHOTS = DATA / "deepstate_status_pokrovsk40km_2024-01_2025-03.geojson"
ROADS = DATA.parent / "osm" / "backbone_roads_pokrovsk40km.geojson"


def truths(grid: Grid) -> tuple[list[str], list[np.ndarray]]:
    days = status_by_day(SNAPSHOTS)
    maps = [truth_states(grid, d.get("occupied"), d.get("unknown_status")) for d in days.values()]
    return fill_days(list(days), maps)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--res", type=int, default=7)
    parser.add_argument("--obs-per-day", type=int, default=200)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--road-share", type=float, default=0.0, help="share of observers on the backbone road")
    args = parser.parse_args()
    if not SNAPSHOTS.exists():
        sys.exit(f"needs the real snapshots at {SNAPSHOTS}")
    grid = Grid.from_polygon(BOX, args.res)
    days, truth = truths(grid)
    start = datetime.fromisoformat(days[0]).replace(tzinfo=UTC).timestamp()
    on_roads = road_cells(grid, read_lines(ROADS)) if args.road_share > 0 else None
    result = evaluate(grid, truth, start, args.obs_per_day, args.noise, road_cells=on_roads, road_share=args.road_share)
    scores, f = result.scores, result.summary()
    print(
        f"control fusion vs naive map: {len(days)} days, H3 res {args.res} ({len(grid):,} cells), "
        f"{args.obs_per_day} observers/day ({args.road_share:.0%} on the backbone road), {args.noise:.0%} wrong side"
    )
    print(
        f"IoU of other side after 7 days: fused mean {f['fused_iou_mean']:.3f} min {f['fused_iou_min']:.3f}; "
        f"naive mean {f['naive_iou_mean']:.3f} min {f['naive_iou_min']:.3f}"
    )
    glitches = [days[d] for d in f["glitch_days"]]
    print(
        f"the truth's one-day glitches: {', '.join(glitches) or 'none'}; fused min without them "
        f"{f['fused_iou_min_without_glitches']:.3f}; days below 0.80: "
        f"{', '.join(days[s.day] for s in scores[7:] if s.iou_other < 0.8) or 'none'}"
    )
    worse = [days[s.day] for s in scores[7:] if s.iou_other <= s.baseline_iou_other]
    print(f"days the naive map is as good or better: {len(worse)}" + (f" ({', '.join(worse[:12])}…)" if worse else ""))
    print(
        f"fused better than naive on {f['fused_better_share']:.0%} of days; median lag {f['median_lag_days']:.0f}"
        f" days; grey IoU (contested + unconfirmed vs unknown status) {f['grey_iou_mean']:.3f}"
    )
    months: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for s, day in zip(scores, days, strict=True):
        months[day[:7]].append((s.iou_other, s.baseline_iou_other))
    for month, values in sorted(months.items()):
        a = np.array(values)
        print(f"  {month}  fused {a[:, 0].mean():.3f}  naive {a[:, 1].mean():.3f}")


if __name__ == "__main__":
    main()
