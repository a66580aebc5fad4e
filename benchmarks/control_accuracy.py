"""Control fusion against the real DeepStateMap snapshots (2024-01 → 2025-03), beside the naive map.

Truth: each day's snapshot (occupied → other side, unknown status → grey, the rest held) on an H3
grid over the ±40 km box. Simulated observers report every day (`--obs-per-day`, wrong side with
`--noise`, 200 m location error); the fused map and the naive baseline (majority of the 7 nearest
observations of the last 14 days) are scored by IoU of the other side's ground, by month.

    python benchmarks/control_accuracy.py [--res 7] [--obs-per-day 200] [--noise 0.1] [--truth FILE]
        [--near 37.18,48.283 --radius-km 8]

``--truth`` takes either real format of ``../shared/data/control/`` (status snapshots, or the daily
occupied areas, which have no grey class); ``--near`` scores only the cells within the radius of a
point (where people move) and prints the false-reassurance rate: the share of the truth's other-side
and grey ground each map calls held.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import box

from greyzone.control.evaluate import cells_near, evaluate, fill_days, road_cells, truth_states
from greyzone.ingest.deepstate import status_by_day
from greyzone.ingest.geojson import read_lines
from greyzone.model.grid import Grid

BOX = box(36.6245, 47.9136, 37.7279, 48.6500)
DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "control"
SNAPSHOTS = DATA / "deepstate_status_pokrovsk40km_2024-01_2025-03.geojson"
ROADS = DATA.parent / "osm" / "backbone_roads_pokrovsk40km.geojson"


def truths(grid: Grid, path: Path = SNAPSHOTS) -> tuple[list[str], list[np.ndarray]]:
    days = status_by_day(path)
    maps = [truth_states(grid, d.get("occupied"), d.get("unknown_status")) for d in days.values()]
    return fill_days(list(days), maps)


def ways_out_figures(snapshots: Path = SNAPSHOTS) -> None:
    """Each way out of Pokrovsk along the backbone road under the real maps: the first day it is
    threatened (within the stated reach), risky (grey ground on it) and cut, and the warning it gave."""
    from greyzone.ingest.osm import read_street_graph
    from greyzone.routing.corridors import REACHES, Metric, Status, area_days, history, street_lines
    from greyzone.routing.shortest import Router

    g = read_street_graph(ROADS)
    days = status_by_day(snapshots)
    centre = g.snap(37.176, 48.2694)[0]
    gates = [("west (Pavlohrad)", g.snap(36.6245, 48.4063)[0]), ("east (Donetsk)", g.snap(37.7279, 48.0903)[0])]
    lines, metric = street_lines(g), Metric(37.176, 48.2694)
    # the road east as far as each 5 km: the way to the towns along it, which the front reached in turn
    east = shapely.line_merge(shapely.union_all(lines[Router(g, g.length_m).path(centre, gates[1][1]).edges]))
    east_m = metric(east)
    start_m = metric(shapely.Point(float(g.lon[centre]), float(g.lat[centre])))
    if east_m.project(start_m) > east_m.length / 2:
        east_m = east_m.reverse()
    for km in range(5, int(east_m.length / 1000), 5):
        x, y = east_m.interpolate(km * 1000).coords[0]
        lon, lat = metric.inverse(x, y)
        gates.append((f"east, to km {km}", g.snap(lon, lat)[0]))
    daily = area_days(g, ((day, d.get("occupied"), d.get("unknown_status")) for day, d in days.items()), metric)
    ways = history(g, g.length_m, daily, centre, gates)
    reaches = ", ".join(f"{r.threat} {r.km:g} km{'' if r.warns else ' (said only)'}" for r in REACHES)
    first, last = next(iter(days)), next(reversed(days))
    print(f"ways out along the backbone road, DeepStateMap {first} .. {last}; reaches: {reaches}")
    for name, way in ways.items():
        t, r, c = way.first(Status.THREATENED), way.first(Status.RISKY), way.first(Status.CUT)
        since_start = way.days[0][1].status
        if c is not None and way.days[0][0] == c:
            print(f"  {name:<18} {since_start.value} on the first day already: no warning can be shown")
            continue
        span = (date.fromisoformat(c) - date.fromisoformat(t)).days if t and c else None
        left = (date.fromisoformat(last) - date.fromisoformat(t)).days if t else None
        closest = min(
            (n.km for _, cd in way.days for n in (cd.other, cd.grey) if n is not None and cd.status is not Status.CUT),
            default=float("nan"),
        )
        print(
            f"  {name:<18} threatened {t or 'never'}, risky {r or 'never'}, cut {c or f'not by {last}'}; "
            + ("at least " if t == first else "")
            + (f"{span} days between threatened and cut" if span is not None else f"threatened for {left} days so far")
            + f"; nearest the other side or grey came: {closest:.1f} km"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--res", type=int, default=7)
    parser.add_argument("--obs-per-day", type=int, default=200)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--road-share", type=float, default=0.0, help="share of observers on the backbone road")
    parser.add_argument("--truth", type=Path, default=SNAPSHOTS, help="status snapshots or daily occupied areas")
    parser.add_argument("--near", help="LON,LAT: score only the cells within --radius-km of it")
    parser.add_argument("--radius-km", type=float, default=8.0)
    parser.add_argument("--seeds", type=int, default=3, help="observer draws averaged (the near-city scores vary)")
    parser.add_argument("--ways-out-only", action="store_true", help="only the ways out's figures")
    args = parser.parse_args()
    if not args.truth.exists() or not SNAPSHOTS.exists():
        sys.exit(f"needs the real maps at {args.truth} and {SNAPSHOTS}")
    ways_out_figures()
    if args.ways_out_only:
        return
    grid = Grid.from_polygon(BOX, args.res)
    days, truth = truths(grid, args.truth)
    scored = centre = None
    if args.near:
        lon, lat = (float(v) for v in args.near.split(","))
        scored = cells_near(grid, lon, lat, args.radius_km)
        centre = int(grid.nearest(np.array([lon]), np.array([lat]))[0][0])
    start = datetime.fromisoformat(days[0]).replace(tzinfo=UTC).timestamp()
    on_roads = road_cells(grid, read_lines(ROADS)) if args.road_share > 0 else None
    runs = [
        evaluate(
            grid,
            truth,
            start,
            args.obs_per_day,
            args.noise,
            seed=seed,
            road_cells=on_roads,
            road_share=args.road_share,
            scored=scored,
            centre=centre,
        )
        for seed in range(args.seeds)
    ]
    result = runs[0]
    scores, f = result.scores, result.summary()
    where = (
        f"; scored within {args.radius_km:g} km of {args.near} ({len(scored):,} cells)" if scored is not None else ""
    )
    print(
        f"control fusion vs naive map ({args.truth.name}): {len(days)} days, H3 res {args.res} ({len(grid):,} cells), "
        f"{args.obs_per_day} observers/day ({args.road_share:.0%} on the backbone road), {args.noise:.0%} wrong side"
        f"{where}"
    )
    print(
        f"false reassurance (the truth's other-side + grey ground called held): fused {f['false_reassurance_mean']:.1%}"
        f", naive {f['naive_false_reassurance_mean']:.1%}; days the centre is called held wrongly: "
        f"{len(f['centre_misled_days'])}"
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
    print(f"over {args.seeds} observer draws (seeds 0-{args.seeds - 1}); per draw in brackets:")
    keys = (
        ("false_reassurance_mean_with_unsafe", "naive_false_reassurance_mean_with_unsafe", "days_with_unsafe", True),
        ("fused_iou_mean_with_other", "naive_iou_mean_with_other", "days_with_other", False),
        ("fused_iou_mean", "naive_iou_mean", "days_scored", False),
    )
    labels = (
        "false reassurance, days with other-side or grey ground",
        "IoU (other side), days with other-side ground",
        "IoU (other side), all days after warm-up",
    )
    summaries = [r.summary() for r in runs]
    for (fused, naive, n, pct), label in zip(keys, labels, strict=True):
        a, b = np.array([x[fused] for x in summaries]), np.array([x[naive] for x in summaries])
        fmt = (lambda v: f"{v:.1%}") if pct else (lambda v: f"{v:.3f}")
        print(
            f"  {label} ({summaries[0][n]} days): fused {fmt(a.mean())} [{', '.join(map(fmt, a))}]  naive"
            f" {fmt(b.mean())} [{', '.join(map(fmt, b))}]"
            f"  fused better by {b.mean() - a.mean() if pct else a.mean() - b.mean():+.3f}"
        )
    caution = np.array([x["caution_mean"] for x in summaries])
    print(
        f"  the price: truly held ground not shown held {caution.mean():.1%} [{', '.join(f'{c:.1%}' for c in caution)}]"
    )
    months: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for s, day in zip(scores, days, strict=True):
        months[day[:7]].append((s.iou_other, s.baseline_iou_other, s.false_reassurance, s.naive_false_reassurance))
    for month, values in sorted(months.items()):
        a = np.array(values)
        print(
            f"  {month}  IoU fused {a[:, 0].mean():.3f}  naive {a[:, 1].mean():.3f}   false reassurance fused "
            f"{a[:, 2].mean():.1%}  naive {a[:, 3].mean():.1%}"
        )


if __name__ == "__main__":
    main()
