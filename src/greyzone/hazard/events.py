"""Reports become events on the hazard model's grid of H3 cells and time bins (pure; no I/O).

A report is a point with a location precision and a time with a precision. The model counts events
per cell and bin, so each report is spread over what it may mean:

- **in space**, over the cells whose centres lie within its precision radius (at least its own
  cell). A located incident is *one* event somewhere in that disc: it is split, each cell taking
  its share of the disc (cells of the disc outside the grid take theirs away). An air-raid alert is
  in force over its whole region: it *covers* every cell of the disc with weight 1 (``covers``).
- **in time**, over the bins its time window overlaps, in proportion (a day-precision report on an
  hourly grid is 1/24 in each hour of its day).

Weights of the same cell and bin add up; the result is sorted by cell, then bin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from greyzone.model.grid import Grid

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
KM_PER_DEG = 111.32


@dataclass(frozen=True)
class Window:
    """The model's time axis: ``n_bins`` bins of ``bin_s`` seconds from ``t0_s``."""

    t0_s: float
    bin_s: float
    n_bins: int

    @property
    def end_s(self) -> float:
        return self.t0_s + self.n_bins * self.bin_s

    def bin_of(self, t_s: Floats | float) -> Ints:
        return np.floor((np.asarray(t_s, dtype=np.float64) - self.t0_s) / self.bin_s).astype(np.int64)

    @property
    def n_phase(self) -> int:
        """The hours of the day the background's daily profile has: 24 for hourly bins, else 1."""
        return 24 if self.bin_s == 3600.0 else 1

    def phases(self, bins: Ints, n_phase: int) -> Ints:
        """Hour-of-day index (UTC) of each bin when bins are hours; 0 when coarser."""
        if n_phase == 1:
            return np.zeros(len(bins), dtype=np.int64)
        hours = np.floor((self.t0_s + bins * self.bin_s) / 3600.0).astype(np.int64)
        return np.asarray(hours % n_phase, dtype=np.int64)


@dataclass(frozen=True)
class Events:
    """Event weight per (cell, bin), sorted by cell then bin; ``n`` may be fractional."""

    cell: Ints
    bin: Ints
    n: Floats
    window: Window

    @property
    def total(self) -> float:
        return float(self.n.sum())

    def __len__(self) -> int:
        return len(self.cell)

    def first(self, n_bins: int) -> Events:
        """The events of the first ``n_bins`` bins, on a window that ends there."""
        keep = self.bin < n_bins
        window = Window(self.window.t0_s, self.window.bin_s, n_bins)
        return Events(self.cell[keep], self.bin[keep], self.n[keep], window)

    def between(self, lo: int, hi: int) -> Events:
        """The events of bins ``lo`` ≤ bin < ``hi`` (same window)."""
        keep = (self.bin >= lo) & (self.bin < hi)
        return Events(self.cell[keep], self.bin[keep], self.n[keep], self.window)


def projector(grid: Grid) -> tuple[float, cKDTree]:
    """(cos of the grid's mean latitude, a k-d tree of its centres in km) for fast spreading."""
    k = math.cos(math.radians(float(grid.lat.mean())))
    return k, cKDTree(np.column_stack([grid.lon * k * KM_PER_DEG, grid.lat * KM_PER_DEG]))


def to_events(
    grid: Grid,
    window: Window,
    lon: Floats,
    lat: Floats,
    precision_m: Floats,
    t_s: Floats,
    span_s: Floats,
    covers: npt.NDArray[np.bool_] | None = None,
) -> Events:
    """Spread reports (arrays of equal length) over the grid and the window's bins."""
    n = len(lon)
    covers = np.zeros(n, dtype=bool) if covers is None else covers
    k, tree = projector(grid)
    xy = np.column_stack([np.asarray(lon) * k * KM_PER_DEG, np.asarray(lat) * KM_PER_DEG])
    cell_km = float(np.sqrt(grid.area_km2.mean()))
    radius_km = np.maximum(np.asarray(precision_m, dtype=np.float64) / 1000.0, 0.0)
    distance, nearest = tree.query(xy)
    inside = distance <= cell_km  # the report's own cell is on the grid
    cells: list[Ints] = []
    weights: list[Floats] = []
    owners: list[Ints] = []
    small = radius_km <= cell_km / 2
    point = np.flatnonzero(small & inside)
    cells.append(nearest[point].astype(np.int64))
    weights.append(np.ones(point.size))
    owners.append(point.astype(np.int64))
    wide = np.flatnonzero(~small)
    if wide.size:
        found = tree.query_ball_point(xy[wide], radius_km[wide])
        disc_cells = np.pi * radius_km[wide] ** 2 / grid.area_km2.mean()
        for i, hits, disc in zip(wide, found, disc_cells, strict=True):
            if not hits and not inside[i]:
                continue
            where = hits or [int(nearest[i])]
            share = 1.0 if covers[i] else 1.0 / max(len(where), disc)
            cells.append(np.asarray(where, dtype=np.int64))
            weights.append(np.full(len(where), share))
            owners.append(np.full(len(where), i, dtype=np.int64))
    cell = np.concatenate(cells)
    weight = np.concatenate(weights)
    owner = np.concatenate(owners)
    return _over_time(
        cell, weight, owner, np.asarray(t_s, dtype=np.float64), np.asarray(span_s, dtype=np.float64), window
    )


def _over_time(cell: Ints, weight: Floats, owner: Ints, t_s: Floats, span_s: Floats, window: Window) -> Events:
    first = window.bin_of(t_s[owner])
    last = window.bin_of(t_s[owner] + np.maximum(span_s[owner], 1.0) - 1e-3)
    count = last - first + 1
    reps = np.maximum(count, 1)
    cell = np.repeat(cell, reps)
    w = np.repeat(weight / reps, reps)
    offsets = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
    bins = np.repeat(first, reps) + offsets
    keep = (bins >= 0) & (bins < window.n_bins)
    return aggregate(cell[keep], bins[keep], w[keep], window)


def aggregate(cell: Ints, bins: Ints, n: Floats, window: Window) -> Events:
    """Sum the weights of equal (cell, bin) pairs; sorted by cell, then bin."""
    if cell.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Events(empty, empty.copy(), np.zeros(0), window)
    key = cell.astype(np.int64) * window.n_bins + bins
    unique, inverse = np.unique(key, return_inverse=True)
    total = np.asarray(np.bincount(inverse, weights=n), dtype=np.float64)
    return Events(unique // window.n_bins, unique % window.n_bins, total, window)
