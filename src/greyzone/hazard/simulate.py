"""Events drawn from known hazard parameters (pure; seeded): the test of the fit is to recover them."""

from __future__ import annotations

import numpy as np

from greyzone.hazard.events import Events, Ints, Window, aggregate
from greyzone.hazard.model import HawkesParams, Rings, _phase_trend_counts


def simulate(params: HawkesParams, rings: Rings, rng: np.random.Generator) -> Events:
    """Background counts per cell and bin, then generation after generation of triggered events."""
    window = params.window
    phase, week, _ = _phase_trend_counts(window, params.n_phase)
    rate = params.mu[:, None] * (params.profile[phase] * params.trend[week])[None, :]
    counts = rng.poisson(rate)
    cell, bins = np.nonzero(counts)
    reps = counts[cell, bins]
    generation_cell, generation_bin = np.repeat(cell, reps).astype(np.int64), np.repeat(bins, reps).astype(np.int64)
    all_cells, all_bins = [generation_cell], [generation_bin]
    by_ring = [_neighbours(rings, k, len(params.mu)) for k in range(rings.k_max + 1)]
    while generation_cell.size:
        next_cells, next_bins = [], []
        for k, (start, stop, dst) in enumerate(by_ring):
            children = rng.poisson(params.theta[k] * (stop - start)[generation_cell])
            parent = np.repeat(np.arange(generation_cell.size), children)
            if parent.size == 0:
                continue
            first, size = start[generation_cell[parent]], (stop - start)[generation_cell[parent]]
            child_cell = dst[first + (rng.random(parent.size) * size).astype(np.int64)]
            child_bin = generation_bin[parent] + rng.geometric(1 - params.q, parent.size)
            keep = child_bin < window.n_bins
            next_cells.append(child_cell[keep])
            next_bins.append(child_bin[keep])
        generation_cell = np.concatenate(next_cells) if next_cells else np.zeros(0, dtype=np.int64)
        generation_bin = np.concatenate(next_bins) if next_bins else np.zeros(0, dtype=np.int64)
        all_cells.append(generation_cell)
        all_bins.append(generation_bin)
    c, b = np.concatenate(all_cells), np.concatenate(all_bins)
    return aggregate(c, b, np.ones(c.size), window)


def _neighbours(rings: Rings, k: int, n: int) -> tuple[Ints, Ints, Ints]:
    src, dst = rings.pairs[k]
    order = np.argsort(src, kind="stable")
    start = np.searchsorted(src[order], np.arange(n), side="left")
    stop = np.searchsorted(src[order], np.arange(n), side="right")
    return start, stop, dst[order]


def params_for_test(
    n_cells: int, window: Window, alpha: float, q: float, ring_share: list[float], per_bin: float, n_phase: int = 24
) -> HawkesParams:
    """Parameters with a daytime-heavy hour profile and a background that grows west to east."""
    full = np.array([1.0] + [6.0 * k for k in range(1, len(ring_share))])
    theta = alpha * np.asarray(ring_share) / full
    mu = np.linspace(0.5, 1.5, n_cells)
    mu = mu / mu.sum() * per_bin
    hours = np.arange(n_phase)
    profile = 1 + 0.6 * np.sin((hours - 6) / 24 * 2 * np.pi) if n_phase > 1 else np.ones(1)
    weeks = int(np.ceil(window.n_bins * window.bin_s / (7 * 86_400)))
    return HawkesParams(mu, profile / profile.mean(), np.ones(weeks), theta, q, window, n_phase)
