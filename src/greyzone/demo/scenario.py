"""A synthetic, seeded demo scenario of a Pokrovsk-like city under fire. SYNTHETIC: every source is
``synthetic:…`` and every text starts with ``[SYNTHETIC DEMO]``.

Facts taken from the real city: its centre (48.283 N, 37.18 E), its size (~21 km² built-up), the
directions of its roads out (Dobropillia N, Rodynske/Kostiantynivka NE, Myrnohrad E, Selydove S,
Mezhova W), the rhythm reported in 2024 (30–60 shelling attacks a day, clustered; FPV drones on the
roads in and out; glide bombs by day; failing power and water) and a front advancing from the
south-east. Everything else (streets, each report) is generated.

Shelling is a self-exciting (Hawkes) process: a background rate by place and hour, and each
attack triggering more nearby within the hour, so the hazard issue has real clustering to learn.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

CENTRE = (37.18, 48.283)  # lon, lat
CITY_RADIUS_M = 2_600.0
LABEL = "[SYNTHETIC DEMO]"
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(CENTRE[1]))
GATES = (  # name, bearing (degrees from north), length of the road out (m)
    ("Dobropillia road (N)", 345.0, 14_000.0),
    ("Rodynske road (NE)", 20.0, 12_000.0),
    ("Myrnohrad road (E)", 70.0, 11_000.0),
    ("Selydove road (S)", 160.0, 12_000.0),
    ("Mezhova road (W)", 265.0, 14_000.0),
)
FRONT_BEARING = 135.0
#: The demo's service points: (id, service, name, bearing, distance m, hours, published, public shelter).
SERVICE_POINTS = (
    ("sp-bread-1", "bread", "Хліб: магазин на Шахтарській", 300.0, 900.0, "11:00-14:00", True, False),
    ("sp-bread-2", "bread", "Хліб: волонтерський пункт", 330.0, 1_500.0, "12:00-15:00", True, False),
    ("sp-bread-3", "bread", "Хліб: пекарня (не публікується)", 280.0, 600.0, "11:00-13:00", False, False),
    ("sp-water-1", "water_point", "Вода: свердловина біля школи", 260.0, 1_200.0, "11:00-15:00", True, False),
    ("sp-water-2", "water_point", "Вода: цистерна", 340.0, 700.0, "11:30-14:30", True, False),
    ("sp-aid-1", "aid_point", "Гуманітарний пункт", 310.0, 1_100.0, "11:00-15:00", True, False),
    ("sp-shelter-1", "shelter", "Укриття у школі №2", 290.0, 1_000.0, "00:00-23:59", True, True),
    ("sp-shelter-2", "shelter", "Укриття (лише для екіпажів)", 250.0, 1_600.0, "00:00-23:59", False, False),
    ("sp-med-1", "medical_post", "Медичний пункт", 320.0, 1_300.0, "11:00-15:00", True, False),
    ("sp-pharm-1", "pharmacy", "Аптека", 270.0, 800.0, "11:00-13:00", True, False),
)  # the front comes from the south-east
SOURCES = ("synthetic:city-administration", "synthetic:police", "synthetic:volunteers", "synthetic:telegram")


@dataclass(frozen=True, slots=True)
class ScenarioFiles:
    folder: Path
    streets: Path
    gates: Path
    reports_csv: Path
    field_jsonl: Path
    control_geojson: Path
    messy_csv: Path

    def report_files(self) -> list[Path]:
        return [self.reports_csv, self.field_jsonl, self.control_geojson, self.messy_csv]


def offset(dx_m: float, dy_m: float) -> tuple[float, float]:
    return CENTRE[0] + dx_m / M_PER_DEG_LON, CENTRE[1] + dy_m / M_PER_DEG_LAT


def _polar(bearing: float, distance_m: float) -> tuple[float, float]:
    b = math.radians(bearing)
    return distance_m * math.sin(b), distance_m * math.cos(b)


class _Scenario:
    def __init__(self, seed: int, days: int, start: datetime) -> None:
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.days = days
        self.start = start
        self.rows: list[dict[str, Any]] = []
        self.field: list[dict[str, Any]] = []

    def front_distance_m(self, day: float) -> float:
        """Distance of the line of contact from the centre, along FRONT_BEARING: 16 km → 1.5 km (a
        fast advance, so that a month shows a road out go from open to threatened to cut)."""
        return 16_000.0 - 14_500.0 * min(day / max(self.days, 1), 1.0)

    def fire_distance_m(self, day: float) -> float:
        """Where the shelling concentrates (it reaches deep: tube artillery's 15-25 km): the front's
        edge of the city, 6 km → 1.5 km from the centre."""
        return 6_000.0 - 4_500.0 * min(day / max(self.days, 1), 1.0)

    def time(self, day: int, hour: float) -> datetime:
        return self.start + timedelta(days=day, hours=hour)

    def add(
        self, kind: str, t: datetime, xy: tuple[float, float], precision_m: float, source: str, text: str, **extra: Any
    ) -> dict[str, Any]:
        lon, lat = offset(*xy)
        row = {
            "kind": kind,
            "observed_at": t.isoformat(timespec="seconds"),
            "lon": round(lon, 6),
            "lat": round(lat, 6),
            "location_precision_m": precision_m,
            "source": source,
            "credibility": extra.pop("credibility", 0.7),
            "text": f"{LABEL} {text}",
            **extra,
        }
        self.rows.append(row)
        return row


def _shelling(s: _Scenario) -> None:
    """Hawkes process per day: ~22 background attacks, each with 0.6 expected aftershocks."""
    rng = s.rng
    hour_weights = np.array([3, 3, 2, 2, 3, 5, 6, 5, 4, 3, 3, 3, 3, 3, 3, 4, 5, 6, 6, 5, 4, 4, 3, 3], float)
    hour_weights /= hour_weights.sum()
    for day in range(s.days):
        front = s.fire_distance_m(day)
        queue = []
        for _ in range(rng.poisson(22)):
            hour = rng.choice(24, p=hour_weights) + rng.random()
            bearing = FRONT_BEARING + rng.normal(0, 50)
            dist = abs(rng.normal(front * 0.45, 1_300))
            queue.append((hour, _polar(bearing, dist), 0))
        while queue:
            hour, xy, generation = queue.pop()
            if hour >= 24:
                continue
            sub = (
                "mortar"
                if math.hypot(*xy) > front - 1_500 and rng.random() < 0.5
                else rng.choice(["artillery", "artillery", "mlrs"])
            )
            row = s.add(
                "shelling",
                s.time(day, hour),
                xy,
                float(rng.choice([50, 100, 250])),
                "synthetic:police",
                f"{sub} shelling reported",
                subkind=sub,
                credibility=0.8,
            )
            _maybe_echo(s, row, xy)
            for _ in range(rng.poisson(0.6) if generation < 3 else 0):
                child = (xy[0] + rng.normal(0, 300), xy[1] + rng.normal(0, 300))
                queue.append((hour + rng.exponential(0.4), child, generation + 1))


def _maybe_echo(s: _Scenario, row: dict[str, Any], xy: tuple[float, float]) -> None:
    """A quarter of incidents are reported again by another source, less precisely."""
    rng = s.rng
    if rng.random() >= 0.25:
        return
    t = datetime.fromisoformat(row["observed_at"]) + timedelta(minutes=float(rng.normal(0, 8)))
    lon, lat = offset(xy[0] + rng.normal(0, 120), xy[1] + rng.normal(0, 120))
    echo = {
        **row,
        "observed_at": t.isoformat(timespec="seconds"),
        "lon": round(lon, 6),
        "lat": round(lat, 6),
        "location_precision_m": 300.0,
        "source": "synthetic:telegram",
        "credibility": 0.5,
        "text": f"{LABEL} residents report: {row['text'].removeprefix(LABEL).strip()}",
    }
    s.field.append(echo)


def _roads(s: _Scenario) -> None:
    """FPV strikes and drone sightings on the roads out, worst on those facing the front."""
    rng = s.rng
    for day in range(s.days):
        for name, bearing, length in GATES:
            facing = max(math.cos(math.radians(bearing - FRONT_BEARING)), 0.0)
            for _ in range(rng.poisson(0.3 + 2.5 * facing * (0.5 + day / s.days))):
                xy = _polar(bearing + rng.normal(0, 2), rng.uniform(CITY_RADIUS_M, length))
                row = s.add(
                    "fpv_strike",
                    s.time(day, rng.uniform(6, 19)),
                    xy,
                    100.0,
                    "synthetic:volunteers",
                    f"FPV drone hit a vehicle on the {name}",
                )
                _maybe_echo(s, row, xy)
            for _ in range(rng.poisson(1.0 + 2 * facing)):
                xy = _polar(bearing + rng.normal(0, 3), rng.uniform(0, length))
                s.add(
                    "drone_sighting",
                    s.time(day, rng.uniform(5, 21)),
                    xy,
                    300.0,
                    "synthetic:volunteers",
                    f"drone seen over the {name}",
                    credibility=0.5,
                )


def _bombs_and_more(s: _Scenario) -> None:
    rng = s.rng
    for day in range(s.days):
        for _ in range(rng.poisson(1.5)):
            xy = _polar(FRONT_BEARING + rng.normal(0, 70), abs(rng.normal(1_500, 1_000)))
            row = s.add(
                "glide_bomb",
                s.time(day, rng.uniform(8, 17)),
                xy,
                100.0,
                "synthetic:police",
                "guided aerial bomb strike",
                credibility=0.9,
            )
            _maybe_echo(s, row, xy)
            if rng.random() < 0.5:
                s.add(
                    "casualties",
                    s.time(day, rng.uniform(17, 20)),
                    xy,
                    500.0,
                    "synthetic:city-administration",
                    "casualties after the strike (counts only)",
                    killed=int(rng.poisson(0.7)),
                    injured=int(rng.poisson(2.5)),
                    credibility=0.9,
                )
        if rng.random() < 0.3:
            xy = _polar(rng.uniform(0, 360), rng.uniform(500, 4_000))
            s.add("mine_uxo", s.time(day, rng.uniform(9, 14)), xy, 50.0, "synthetic:police", "unexploded submunition")
        for _ in range(rng.poisson(2)):
            xy = _polar(rng.uniform(0, 360), rng.uniform(0, CITY_RADIUS_M))
            s.add(
                "evacuation_request",
                s.time(day, rng.uniform(11, 15)),
                xy,
                500.0,
                "synthetic:volunteers",
                "evacuation requested by a relative (no personal data kept)",
                credibility=0.6,
            )


def _utilities(s: _Scenario) -> None:
    """Power fails first, then water; the mobile network degrades; the service points open and close."""
    rng = s.rng
    services = np.random.default_rng([s.seed, 14])  # their own stream (issue 14's service points)
    districts = [(b, 1_200.0) for b in range(0, 360, 60)] + [(0.0, 0.0)]
    for day in range(0, s.days, 2):
        frac = day / max(s.days, 1)
        for bearing, dist in districts:
            xy = _polar(bearing, dist)
            for utility, fail_at in (("power", 0.25), ("water", 0.5), ("heating", 0.35), ("mobile_network", 0.7)):
                status = "working" if frac < fail_at - 0.15 else "intermittent" if frac < fail_at else "out"
                if rng.random() < 0.2 and status == "out":
                    status = "intermittent"
                s.add(
                    "infrastructure_status",
                    s.time(day, 10.0),
                    xy,
                    800.0,
                    "synthetic:city-administration",
                    f"{utility} is {status} in this district",
                    utility=utility,
                    status=status,
                    credibility=0.9,
                )
        for _ in range(5):  # the draws the service reports once took: the rest of the scenario stays as it was
            rng.uniform(250, 340), rng.uniform(300, 1_800), rng.choice(["open", "open", "limited", "closed"])
        for _, service, _, bearing, distance, hours, _, _ in SERVICE_POINTS:  # the demo's service points
            status = services.choice(["open", "open", "open", "limited", "closed"])
            s.add(
                "service_status",
                s.time(day, 10.5),
                _polar(bearing, distance),
                20.0,
                "synthetic:city-administration",
                f"{service.replace('_', ' ')} point is {status} {hours}",
                service=service,
                status=status,
                credibility=0.9,
            )
    bread = SERVICE_POINTS[0]  # on the last morning two sources disagree about the first bread point
    for source, status in (("synthetic:city-administration", "open"), ("synthetic:volunteers", "closed")):
        s.add(
            "service_status",
            s.time(s.days - 1, 9.0),
            _polar(bread[3], bread[4]),
            20.0,
            source,
            f"bread point is {status}",
            service="bread",
            status=status,
            credibility=0.8,
        )


def _control_points(s: _Scenario) -> None:
    """Observers' reports of who holds a place, 10 % of them wrong, around the advancing front."""
    rng = s.rng
    for day in range(s.days):
        front = s.front_distance_m(day)
        for _ in range(12):
            bearing = FRONT_BEARING + rng.uniform(-70, 70)
            dist = rng.uniform(0, 9_000)
            side = _observed_side(rng, dist * math.cos(math.radians(bearing - FRONT_BEARING)), front)
            s.add(
                "control_observation",
                s.time(day, rng.uniform(6, 20)),
                _polar(bearing, dist),
                300.0,
                "synthetic:volunteers",
                f"observer says this place is {side}",
                side=side,
                credibility=0.6,
            )


def _observed_side(rng: np.random.Generator, along: float, front: float) -> str:
    """What an observer ``along`` metres towards the front says: the other side beyond the front's
    grey band (±700 m), held before it, unknown inside it; wrong one time in ten."""
    side = "other_side" if along > front + 700 else "held" if along < front - 700 else "unknown"
    if rng.random() < 0.1:
        side = {"other_side": "held", "held": "other_side", "unknown": "held"}[side]
    return side


def _control_on_roads(s: _Scenario) -> None:
    """Crews driving the roads out say who holds where they are (3 a road a day, 10 % wrong); their
    own random stream, so the rest of the scenario is drawn as before."""
    rng = np.random.default_rng((s.seed, 1))
    for day in range(s.days):
        front = s.front_distance_m(day)
        for name, bearing, length in GATES:
            for _ in range(3):
                dist = rng.uniform(CITY_RADIUS_M, length)
                side = _observed_side(rng, dist * math.cos(math.radians(bearing - FRONT_BEARING)), front)
                s.add(
                    "control_observation",
                    s.time(day, rng.uniform(6, 20)),
                    _polar(bearing + rng.normal(0, 1), dist),
                    300.0,
                    "synthetic:crews",
                    f"crew on the {name} says this place is {side}",
                    side=side,
                    credibility=0.6,
                )


def _control_areas(s: _Scenario) -> list[dict[str, Any]]:
    """A daily map-style polygon of the other side's ground and of the grey band before it."""
    features = []
    for day in range(s.days):
        front = s.front_distance_m(day)
        for side, near, far in (("other_side", front + 700, 20_000.0), ("unknown", front - 700, front + 700)):
            ring = _band(near, far)
            t = s.time(day, 21.0).isoformat(timespec="seconds")
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                    "properties": {
                        "kind": "control_observation",
                        "side": side,
                        "observed_at": t,
                        "source": "synthetic:map-analysts",
                        "credibility": 0.8,
                        "text": f"{LABEL} weekly control map: {side}",
                    },
                }
            )
    return features


def _band(near: float, far: float) -> list[list[float]]:
    """A polygon between two arcs across the front's direction (half-planes clipped to 20 km)."""
    width = 20_000.0
    b = math.radians(FRONT_BEARING)
    ux, uy = math.sin(b), math.cos(b)  # towards the front
    vx, vy = -uy, ux  # along the front
    corners = [(near, -width), (near, width), (far, width), (far, -width), (near, -width)]
    return [[round(c, 6) for c in offset(a * ux + w * vx, a * uy + w * vy)] for a, w in corners]


def _streets(rng: np.random.Generator) -> list[dict[str, Any]]:
    """A jittered grid of streets inside the city and the roads out to the gates."""
    features = []
    step = 250.0
    n = int(CITY_RADIUS_M // step)
    angle = math.radians(12)
    for axis in (0, 1):
        for i in range(-n, n + 1):
            half = math.sqrt(max(CITY_RADIUS_M**2 - (i * step) ** 2, 0.0))
            pts = []
            for j in np.linspace(-half, half, max(int(2 * half // step), 1) + 1):
                a, b = (i * step + rng.normal(0, 12), j) if axis == 0 else (j, i * step + rng.normal(0, 12))
                x, y = a * math.cos(angle) - b * math.sin(angle), a * math.sin(angle) + b * math.cos(angle)
                pts.append([round(v, 6) for v in offset(x, y)])
            if len(pts) >= 2:
                cls = "secondary" if i % 4 == 0 else "residential"
                name = f"{'Street' if axis == 0 else 'Lane'} {i + n + 1}"
                features.append(_line(pts, cls, name))
    for name, bearing, length in GATES:  # each road ends at its gate (its other points wander a degree or so)
        jitter = [rng.normal(0, 1) for _ in range(25)]  # drawn as before: the rest of the scenario is unchanged
        pts = [
            [round(v, 6) for v in offset(*_polar(bearing + (j if d < length else 0.0), d))]
            for j, d in zip(jitter, np.linspace(0, length, 25), strict=True)
        ]
        features.append(_line(pts, "primary", name))
    return features


def _line(pts: list[list[float]], highway: str, name: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": pts},
        "properties": {"highway": highway, "name": name, "oneway": False},
    }


MESSY_ROWS = (  # deliberately broken rows: the demo shows how each is reported
    {
        "kind": "shelling",
        "observed_at": "2024-11-03T09:15:00",
        "lon": "37.18",
        "lat": "48.28",
        "source": "synthetic:messy",
    },
    {
        "kind": "shelling",
        "observed_at": "2024-11-03T09:15:00Z",
        "lon": "48.28",
        "lat": "37.18",
        "source": "synthetic:messy",
    },
    {
        "kind": "shelling",
        "observed_at": "2024-11-03T09:15:00Z",
        "lon": "37.18",
        "lat": "148.28",
        "source": "synthetic:messy",
    },
    {
        "kind": "tank_parade",
        "observed_at": "2024-11-03T09:15:00Z",
        "lon": "37.18",
        "lat": "48.28",
        "source": "synthetic:messy",
    },
    {"kind": "shelling", "observed_at": "yesterday", "lon": "37.18", "lat": "48.28", "source": "synthetic:messy"},
    {
        "kind": "shelling",
        "observed_at": "2024-11-03T09:15:00Z",
        "lon": "37.18",
        "lat": "48.28",
        "source": "synthetic:messy",
        "credibility": "1.7",
    },
    {
        "kind": "infrastructure_status",
        "observed_at": "2024-11-03T09:15:00Z",
        "lon": "37.18",
        "lat": "48.28",
        "source": "synthetic:messy",
        "utility": "power",
        "status": "closed",
    },
)


def write_scenario(folder: Path, *, seed: int = 7, days: int = 28, start: datetime | None = None) -> ScenarioFiles:
    """Generate the scenario into ``folder`` (created); the same seed gives the same files."""
    folder.mkdir(parents=True, exist_ok=True)
    s = _Scenario(seed, days, start or datetime(2024, 11, 1, tzinfo=UTC))
    for step in (_shelling, _roads, _bombs_and_more, _utilities, _control_points, _control_on_roads):
        step(s)
    files = ScenarioFiles(
        folder,
        folder / "streets.geojson",
        folder / "gates.geojson",
        folder / "reports.csv",
        folder / "field-reports.jsonl",
        folder / "control-areas.geojson",
        folder / "messy.csv",
    )
    _write_geojson(files.streets, _streets(s.rng))
    _write_geojson(files.gates, [_gate(name, bearing, length) for name, bearing, length in GATES])
    _write_geojson(files.control_geojson, _control_areas(s))
    write_csv(files.reports_csv, sorted(s.rows, key=lambda r: r["observed_at"]))
    with files.field_jsonl.open("w", encoding="utf-8") as fh:
        for row in sorted(s.field, key=lambda r: r["observed_at"]):
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    write_csv(files.messy_csv, [dict(r) for r in MESSY_ROWS])
    return files


def _gate(name: str, bearing: float, length: float) -> dict[str, Any]:
    lon, lat = offset(*_polar(bearing, length))
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": {"name": name, "synthetic": True},
    }


def _write_geojson(path: Path, features: list[dict[str, Any]]) -> None:
    collection = {"type": "FeatureCollection", "name": f"{LABEL} {path.stem}", "features": features}
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
