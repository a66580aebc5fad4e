"""The SYNTHETIC demo's coordination side: districts, service points, crews, needs and ~30 evacuation
requests (a few of them lure-like, a few asked for by several proxies in other scripts).

Every name and phone here is invented (phones in the fictional 0xx-000 range); every text says
SYNTHETIC. The service points stand where the scenario's status reports are made (``SERVICE_POINTS``),
so the board has a history for each.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from greyzone.demo.scenario import LABEL, SERVICE_POINTS, offset, write_csv

DISTRICTS = (  # (name, bearing of its middle); the centre is a disc of CORE_M
    ("Північ / North", 0.0),
    ("Північний схід / North-east", 60.0),
    ("Південний схід / South-east", 120.0),
    ("Південь / South", 180.0),
    ("Південний захід / South-west", 240.0),
    ("Північний захід / North-west", 300.0),
)
CORE_M, OUTER_M = 700.0, 3_200.0
CREWS = (  # (id, name, vehicle, capacity, stretcher, wheelchair, base bearing, base distance m): on the road north
    ("crew-angels", "Білі янголи (бронемікроавтобус)", "armoured_minibus", 6, True, True, 345.0, 9_000.0),
    ("crew-ew", "Броньоване авто з РЕБ", "armoured_ew", 4, False, False, 345.0, 10_000.0),
    ("crew-car", "Волонтерське авто", "car", 4, False, True, 345.0, 8_000.0),
    ("crew-foot", "Пішохідна група", "foot", 3, False, False, 300.0, 1_000.0),
)
FIRST = ("Олександр", "Ганна", "Микола", "Олена", "Петро", "Тетяна", "Сергій", "Наталія", "Іван", "Марія",
         "Василь", "Людмила", "Юрій", "Катерина", "Віктор", "Надія")  # fmt: skip
LAST = ("Петренко", "Коваль", "Шевчук", "Бондар", "Ткаченко", "Кравченко", "Мельник", "Савченко", "Руденко",
        "Лисенко", "Гончаренко", "Марченко", "Литвиненко", "Поліщук", "Сидоренко", "Мороз")  # fmt: skip
#: One person's name as other proxies spell it: Russian, then two Latin transliterations.
SPELLINGS = {"Олександр Петренко": ("Александр Петренко", "Oleksandr Petrenko", "Aleksandr Petrenko")}


@dataclass(frozen=True, slots=True)
class CoordinationFiles:
    districts: Path
    services: Path
    crews: Path
    needs: Path
    requests: Path


def _polar(bearing: float, distance_m: float) -> tuple[float, float]:
    b = math.radians(bearing)
    return offset(distance_m * math.sin(b), distance_m * math.cos(b))


def _district_features() -> list[dict[str, Any]]:
    core = [_polar(a, CORE_M) for a in range(0, 361, 15)]
    features = [_feature("Центр / Centre", [core])]
    for name, middle in DISTRICTS:
        arc = np.linspace(middle - 30.0, middle + 30.0, 9)
        ring = [_polar(a, CORE_M) for a in arc] + [_polar(a, OUTER_M) for a in arc[::-1]]
        features.append(_feature(name, [[*ring, ring[0]]]))
    return features


def _feature(name: str, rings: list[list[tuple[float, float]]]) -> dict[str, Any]:
    coords = [[[round(x, 6), round(y, 6)] for x, y in ring] for ring in rings]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": coords}, "properties": {"name": name}}


def _phone(rng: np.random.Generator) -> str:
    return f"+38099000{rng.integers(1000, 9999)}"


def _requests(rng: np.random.Generator, end: datetime) -> list[dict[str, Any]]:
    """~30 requests over the last two days: ordinary ones in the north-west half (held or grey ground),
    one person asked for by four proxies in four spellings, and a lure: five new askers for one spot in
    the south-east (the other side's ground) within an hour."""
    rows: list[dict[str, Any]] = []
    for i in range(22):
        bearing, dist = rng.uniform(220, 400) % 360, rng.uniform(300, 2_400)
        lon, lat = _polar(bearing, dist)
        rows.append(_request(rng, end - timedelta(hours=float(rng.uniform(2, 46))), lon, lat,
                             f"{FIRST[i % 16]} {LAST[(i * 7) % 16]}", i))  # fmt: skip
    lon, lat = _polar(330.0, 1_700.0)
    for j, name in enumerate(("Олександр Петренко", *SPELLINGS["Олександр Петренко"])):
        row = _request(rng, end - timedelta(hours=30 - 3 * j), lon + 0.0002 * j, lat, name, 100 + j)
        row.update(mobility="bedridden", people=1, relation=("relative", "neighbour", "soldier", "relative")[j])
        rows.append(row)
    lon, lat = _polar(FRONT_SIDE_BEARING, 2_300.0)
    for k in range(5):
        row = _request(rng, end - timedelta(hours=5) + timedelta(minutes=12 * k), lon, lat,
                       f"{FIRST[(k * 5 + 3) % 16]} {LAST[(k * 3 + 1) % 16]}", 200 + k)  # fmt: skip
        row.update(relation="relative", urgency="critical", people=int(rng.integers(2, 6)), channel="phone")
        rows.append(row)
    return rows


FRONT_SIDE_BEARING = 135.0


def _request(rng: np.random.Generator, at: datetime, lon: float, lat: float, name: str, i: int) -> dict[str, Any]:
    mobility = str(rng.choice(["walks", "walks", "needs_help", "wheelchair", "bedridden"]))
    return {
        "asked_at": at.isoformat(timespec="minutes"), "people": int(rng.integers(1, 4)), "mobility": mobility,
        "lon": round(lon, 6), "lat": round(lat, 6), "precision_m": 30, "names": name,
        "phones": _phone(rng) if rng.random() < 0.5 else "",
        "relation": str(rng.choice(["self", "relative", "neighbour"])), "asker_name": f"{LABEL} asker {i}",
        "asker_phone": _phone(rng), "urgency": str(rng.choice(["routine", "urgent"])),
        "children": int(rng.integers(0, 2)), "pets": int(rng.integers(0, 2)), "medical": bool(rng.random() < 0.3),
        "callback_confirmed": bool(rng.random() < 0.4), "channel": str(rng.choice(["phone", "form", "radio"])),
        "contact": f"{LABEL} via neighbour", "idempotency_key": f"demo-{i}",
    }  # fmt: skip


def write_coordination(folder: Path, *, seed: int, end: datetime) -> CoordinationFiles:
    """Write the coordination files into ``folder`` (the same seed gives the same files)."""
    rng = np.random.default_rng(seed + 1)
    files = CoordinationFiles(*(folder / n for n in ("districts.geojson", "services.csv", "crews.csv", "needs.csv",
                                                      "evacuation-requests.csv")))  # fmt: skip
    collection = {"type": "FeatureCollection", "name": f"{LABEL} districts", "features": _district_features()}
    files.districts.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    services = []
    for pid, service, name, bearing, dist, hours, published, shelter in SERVICE_POINTS:
        lon, lat = _polar(bearing, dist)
        services.append({"id": pid, "service": service, "name": f"{name} {LABEL}", "lon": round(lon, 6),
                         "lat": round(lat, 6), "hours": hours, "published": published,
                         "public_shelter": shelter})  # fmt: skip
    write_csv(files.services, services)
    crews = []
    for cid, name, vehicle, capacity, stretcher, wheelchair, bearing, dist in CREWS:
        lon, lat = _polar(bearing, dist)
        crews.append({"crew_id": cid, "name": f"{name} {LABEL}", "vehicle": vehicle, "capacity": capacity,
                      "stretcher": stretcher, "wheelchair": wheelchair, "base_lon": round(lon, 6),
                      "base_lat": round(lat, 6)})  # fmt: skip
    write_csv(files.crews, crews)
    needs = []
    categories = ("food", "drinking_water", "medicine", "heating_fuel", "hygiene", "evacuation", "medical_care")
    for k in range(16):
        district = (DISTRICTS[k % 6][0], "Центр / Centre")[k % 2]
        needs.append({"district": district, "category": categories[k % 7], "people": int(rng.integers(3, 60)),
                      "at": (end - timedelta(days=float(rng.uniform(0, 10)))).isoformat(timespec="minutes"),
                      "met": bool(rng.random() < 0.3)})  # fmt: skip
    write_csv(files.needs, needs)
    write_csv(files.requests, _requests(rng, end))
    return files
