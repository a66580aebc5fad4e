"""Hazard model speed: fit at 10^4, 10^5, 10^6 incidents; one report folded in; exposure for 10^5
street segments × 24 hours. The peer is the naive excitation sum — every earlier event against every
later one, O(N²) — on the same events and parameters: it is timed on a sample of events and scaled
to all of them (its full run at 10^5 would take hours), and its values are checked against ours.

    python benchmarks/hazard.py [--sizes 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from shapely.geometry import box

from greyzone.hazard.events import Events, Window
from greyzone.hazard.forecast import HazardState
from greyzone.hazard.model import FitOptions, Rings, _Structure, fit
from greyzone.hazard.simulate import params_for_test, simulate
from greyzone.model.grid import Grid

REGION = box(37.0, 48.15, 37.4, 48.45)  # Pokrovsk and the roads out, ~30 km x 33 km
ALPHA, Q, SHARE = 0.5, 0.8, [0.4, 0.3, 0.2, 0.1]


def naive_sums(events: Events, rings: Rings, q: float, sample: np.ndarray, n_cells: int) -> np.ndarray:
    """Σ over every earlier event in rings 0..K of each sampled event: the pairwise way, O(N) each."""
    lookup = np.full((n_cells, n_cells), -1, dtype=np.int8)  # ring of (cell, other cell), -1: too far
    for k, (src, dst) in enumerate(rings.pairs):
        lookup[src, dst] = k
    cell, bins, n = events.cell, events.bin, events.n
    out = np.zeros((rings.k_max + 1, sample.size))
    for i, e in enumerate(sample):
        ring = lookup[cell[e], cell].astype(np.int64)
        earlier = (bins < bins[e]) & (ring >= 0)
        np.add.at(out[:, i], ring[earlier], n[earlier] * q ** (bins[e] - bins[earlier] - 1).astype(np.float64))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--res", type=int, default=8)
    args = parser.parse_args()
    grid = Grid.from_polygon(REGION, args.res)
    rings = Rings.of(grid, len(SHARE) - 1)
    window = Window(0.0, 3600.0, 24 * 365)
    print(
        f"grid: {len(grid):,} cells at H3 res {args.res}; one year of hourly bins; rings 0-{rings.k_max}; "
        f"true branching ratio {ALPHA}, mean delay {1 / (1 - Q):.0f} h"
    )
    print(
        f"{'incidents':>10} {'fit':>9} {'iters':>6} {'α (true 0.5)':>13} {'one pass':>9} {'naive pass':>12} "
        f"{'ratio':>8} {'max rel diff':>13}"
    )
    state = None
    for size in (int(s) for s in args.sizes.split(",")):
        per_bin = size * (1 - ALPHA) / window.n_bins
        truth = params_for_test(len(grid), window, ALPHA, Q, SHARE, per_bin)
        events = simulate(truth, rings, np.random.default_rng(size))
        t = time.perf_counter()
        fitted = fit(events, grid, FitOptions(rings=rings.k_max), rings)
        fit_s = time.perf_counter() - t
        structure = _Structure(events, rings, len(grid))
        t = time.perf_counter()
        ours, _ = structure.sums(Q)
        pass_s = time.perf_counter() - t
        sample = np.random.default_rng(1).choice(len(events), min(200, len(events)), replace=False)
        t = time.perf_counter()
        theirs = naive_sums(events, rings, Q, sample, len(grid))
        naive_s = (time.perf_counter() - t) * len(events) / sample.size
        diff = np.abs(ours[:, sample] - theirs).max() / max(np.abs(theirs).max(), 1e-300)
        alpha = f"{fitted.alpha:>6.3f} ± {fitted.se['alpha']:.3f}"
        print(
            f"{events.total:>10,.0f} {fit_s:>8.1f}s {fitted.iterations:>6} {alpha}"
            f" {pass_s * 1e3:>7.0f}ms {naive_s:>11.1f}s {naive_s / pass_s:>7.0f}× {diff:>13.1e}"
        )
        state = HazardState.after(fitted, grid, rings, events, window.end_s)
    assert state is not None
    rng = np.random.default_rng(7)
    folds = []
    for _ in range(1000):
        cell = rng.integers(0, len(grid), 1)
        t = time.perf_counter()
        state.fold(cell, np.array([state.now_bin + 1]), np.ones(1), window.end_s)
        folds.append(time.perf_counter() - t)
    segments = rng.integers(0, len(grid), 100_000)
    t = time.perf_counter()
    rates = state.segment_rates(segments, state.now_bin + 1, 24)
    exposure_s = time.perf_counter() - t
    print(
        f"fold one report: median {np.median(folds) * 1e3:.3f} ms, p99 {np.percentile(folds, 99) * 1e3:.3f} ms "
        f"(a refit: {fit_s:.1f} s)"
    )
    print(
        f"exposure rates for {segments.size:,} segments × 24 hours: {exposure_s * 1e3:.0f} ms "
        f"(shape {rates.shape}, all finite: {bool(np.isfinite(rates).all())})"
    )


if __name__ == "__main__":
    main()
