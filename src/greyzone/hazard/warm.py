"""Compile the hazard fit's kernels once, at set-up, into numba's cache (``cache=True``), so that a
fresh install's first fit does not wait for the compiler.

    python -m greyzone.hazard.warm

Fits a day of simulated hourly events on a small grid, so that each compiled function (the E-step's
pair sums, the decayed sums) meets the argument types it meets in use. Pure but for numba's own cache
files.
"""

from __future__ import annotations

import time

import numpy as np
from shapely.geometry import box

from greyzone.hazard.events import Window
from greyzone.hazard.model import FitOptions, Rings, fit
from greyzone.hazard.simulate import params_for_test, simulate
from greyzone.model.grid import Grid


def warm() -> float:
    """One small fit; the seconds it took (the compile, the first time)."""
    started = time.perf_counter()
    grid = Grid.from_polygon(box(37.15, 48.25, 37.2, 48.3), 7)
    window = Window(0.0, 3600.0, 48)
    rings = Rings.of(grid, 2)
    truth = params_for_test(len(grid), window, alpha=0.4, q=0.7, ring_share=[0.5, 0.5, 0.0], per_bin=1.0)
    fit(simulate(truth, rings, np.random.default_rng(0)), grid, FitOptions(rings=2, max_iter=3), rings)
    return time.perf_counter() - started


if __name__ == "__main__":
    print(f"hazard fit compiled and cached in {warm():.1f} s")
