"""A SYNTHETIC front for the front-wide runs and their benchmarks (pure; numpy).

A front line of about 1,000 km drawn through the real oblasts of the east and south (Kharkiv region to
the Dnipro), each side's ground on its own side of it and a grey band along it; over ``days`` days,
control observations by observers spread within ``reach_km`` of the line (each right with its
reliability, a few wrong), and shelling whose density falls off with the distance from the line
(``exp(-d / decay_km)``, more on the held side where the people are). A share of the reports are
control observations, the rest shelling. Every report is marked ``[SYNTHETIC FRONT]`` in its source.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np

# (lon, lat): roughly the 2024 line, from the Sumy border north of Kharkiv down to the Dnipro's mouth
LINE = np.array([
    (35.45, 50.55), (36.20, 50.40), (36.90, 50.45), (37.55, 50.35), (37.95, 49.70), (38.05, 49.20),
    (38.10, 48.75), (37.85, 48.45), (37.50, 48.15), (37.20, 47.95), (36.70, 47.75), (36.10, 47.60),
    (35.50, 47.45), (34.80, 47.40), (34.10, 47.30), (33.40, 46.85), (32.80, 46.55), (32.20, 46.62),
    (31.55, 46.55),
])  # fmt: skip
KM_PER_DEG = 111.32
SOURCE = "[SYNTHETIC FRONT]"


def _local(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = math.cos(math.radians(48.5))
    return lon * KM_PER_DEG * k, lat * KM_PER_DEG


def line_km() -> float:
    x, y = _local(LINE[:, 0], LINE[:, 1])
    return float(np.hypot(np.diff(x), np.diff(y)).sum())


def signed_distance_km(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Distance from the line (km): negative on the held (west/north) side, positive on the other."""
    px, py = _local(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    ax, ay = _local(LINE[:-1, 0], LINE[:-1, 1])
    bx, by = _local(LINE[1:, 0], LINE[1:, 1])
    dx, dy = bx - ax, by - ay
    t = np.clip(((px[:, None] - ax) * dx + (py[:, None] - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    cx, cy = ax + t * dx, ay + t * dy
    d = np.hypot(px[:, None] - cx, py[:, None] - cy)
    nearest = np.argmin(d, axis=1)
    rows = np.arange(len(px))
    cross = dx[nearest] * (py - ay[nearest]) - dy[nearest] * (px - ax[nearest])
    out: np.ndarray = np.where(cross > 0, -1.0, 1.0) * d[rows, nearest]
    return out


def _along(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Points on the line, uniform along it, with the line's unit normal there (towards the other side)."""
    x, y = _local(LINE[:, 0], LINE[:, 1])
    seg = np.hypot(np.diff(x), np.diff(y))
    which = rng.choice(len(seg), size=n, p=seg / seg.sum())
    t = rng.random(n)
    lon = LINE[which, 0] + t * (LINE[which + 1, 0] - LINE[which, 0])
    lat = LINE[which, 1] + t * (LINE[which + 1, 1] - LINE[which, 1])
    nx, ny = (np.diff(y) / seg)[which], (-np.diff(x) / seg)[which]  # the right-hand normal of the line's direction
    return lon, lat, nx, ny


def front_rows(
    reports: int, *, days: int = 30, seed: int = 11, control_share: float = 0.3, reach_km: float = 40.0,
    decay_km: float = 10.0, grey_km: float = 2.0, end: datetime = datetime(2024, 11, 28, tzinfo=UTC),
) -> Iterator[dict[str, object]]:  # fmt: skip
    """The reports of the generated front, as ingest records, in batches of time order within each kind."""
    rng = np.random.default_rng(seed)
    start = end - timedelta(days=days)
    n_control = int(reports * control_share)
    k = math.cos(math.radians(48.5))
    lon, lat, nx, ny = _along(rng, n_control)
    offset = rng.uniform(-reach_km, reach_km, n_control)
    lon, lat = lon + offset * nx / (KM_PER_DEG * k), lat + offset * ny / KM_PER_DEG
    d = signed_distance_km(lon, lat)
    truth = np.where(np.abs(d) <= grey_km, "unknown", np.where(d < 0, "held", "other_side"))
    reliability = rng.uniform(0.75, 0.95, n_control)
    wrong = rng.random(n_control) > reliability
    flipped = np.where(truth == "held", "other_side", "held")
    said = np.where(wrong & (truth != "unknown"), flipped, truth)
    times = start.timestamp() + np.sort(rng.uniform(0, days * 86_400.0, n_control))
    for i in range(n_control):
        yield {
            "kind": "control_observation", "observed_at": datetime.fromtimestamp(times[i], UTC).isoformat(),
            "lon": round(float(lon[i]), 6), "lat": round(float(lat[i]), 6), "location_precision_m": 300,
            "side": str(said[i]), "credibility": round(float(reliability[i]), 3),
            "source": f"observer {i % 500} {SOURCE}",
        }  # fmt: skip
    n_shelling = reports - n_control
    lon, lat, nx, ny = _along(rng, n_shelling)
    offset = rng.exponential(decay_km, n_shelling) * np.where(rng.random(n_shelling) < 0.7, -1.0, 1.0)
    lon, lat = lon + offset * nx / (KM_PER_DEG * k), lat + offset * ny / KM_PER_DEG
    times = start.timestamp() + np.sort(rng.uniform(0, days * 86_400.0, n_shelling))
    for i in range(n_shelling):
        yield {
            "kind": "shelling", "observed_at": datetime.fromtimestamp(times[i], UTC).isoformat(),
            "lon": round(float(lon[i]), 6), "lat": round(float(lat[i]), 6), "location_precision_m": 500,
            "source": f"admin {i % 40} {SOURCE}",
        }  # fmt: skip
