"""Place names → a point with a stated precision, in Ukrainian, Russian and Latin spellings.

Loads the formats of ``../shared/data/gazetteer/`` (KATOTTG register, KSE hromada centres,
GeoNames postal places) plus the raions of Donetsk oblast (facts: their administrative centres).
Names are matched on a spelling-insensitive key: Cyrillic is transliterated (KMU 2010),
apostrophes and soft signs dropped, and the letters that Ukrainian, Russian and English spellings
disagree on are folded (и/ы/i/y → i, г/h/g → g), so that "Покровськ", "Покровск", "Pokrovsk" and
"Pokrovs'k" are one key. A name that fits places far apart is refused as ambiguous, never guessed.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from greyzone.errors import GazetteerError

_TRANSLIT = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "h",
    "ґ": "g",
    "д": "d",
    "е": "e",
    "є": "ie",
    "ж": "zh",
    "з": "z",
    "и": "y",
    "і": "i",
    "ї": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ь": "",
    "ю": "iu",
    "я": "ia",
    "ё": "e",
    "ы": "y",
    "э": "e",
    "ъ": "",
}
_APOSTROPHES = re.compile(r"['’ʼ`ʹ\u02bc]")
_NOT_LETTERS = re.compile(r"[^a-z0-9]+")
# Digraphs are protected before h → g, so that "sh", "ch", "zh" survive the fold.
_FOLDS = (
    ("shch", "Q"),
    ("sh", "S"),
    ("ch", "C"),
    ("zh", "Z"),
    ("kh", "h"),
    ("ie", "e"),
    ("iu", "u"),
    ("ia", "a"),
    ("yi", "i"),
    ("y", "i"),
    ("h", "g"),
)
_NOISE = re.compile(r"\b(m|misto|mto|city|town|smt|selo|village|s|hromada|terytorialna|raion|oblast)\b")
MERGE_DISTANCE_M = 5_000.0  # entries of one name closer than this are one place
PRECISION_BY_CATEGORY = {"M": 5_000.0, "T": 3_000.0, "X": 2_000.0, "C": 2_000.0, "H": 15_000.0, "P": 40_000.0}
GEONAMES_PRECISION_M = 10_000.0  # GeoNames postal points are rough (Pokrovsk is ~7.8 km off)


def name_key(name: str) -> str:
    """The spelling-insensitive key of a place name."""
    text = _APOSTROPHES.sub("", name.strip().lower())
    text = "".join(_TRANSLIT.get(ch, ch) for ch in text)
    text = _NOISE.sub(" ", _NOT_LETTERS.sub(" ", text))
    text = text.replace(" ", "")
    for a, b in _FOLDS:
        text = text.replace(a, b)
    return text


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    lon: float | None
    lat: float | None
    precision_m: float
    category: str
    source: str


RAIONS_OF_DONETSK_OBLAST = (  # (Ukrainian, English, lon, lat of the administrative centre)
    ("Бахмутський район", "Bakhmutskyi raion", 38.0003, 48.5953),
    ("Волноваський район", "Volnovaskyi raion", 37.4966, 47.6011),
    ("Горлівський район", "Horlivskyi raion", 38.0925, 48.3336),
    ("Донецький район", "Donetskyi raion", 37.8028, 48.0159),
    ("Кальміуський район", "Kalmiuskyi raion", 38.0667, 47.6667),
    ("Краматорський район", "Kramatorskyi raion", 37.5848, 48.7389),
    ("Маріупольський район", "Mariupolskyi raion", 37.5434, 47.0971),
    ("Покровський район", "Pokrovskyi raion", 37.1772, 48.2771),
)
RAION_PRECISION_M = 40_000.0
OBLAST = ("Донецька область", "Donetska oblast", 37.80, 48.00)  # the oblast's middle, roughly
OBLAST_PRECISION_M = 150_000.0


class Gazetteer:
    """Places by name key. Build with :meth:`from_dir` (the shared data's files) or :meth:`from_places`."""

    def __init__(self, places: Iterable[tuple[str, Place]]) -> None:
        self._by_key: dict[str, list[Place]] = {}
        self.named: list[tuple[str, Place]] = []  # every (name, place) as loaded: a place under each of its names
        for name, place in places:
            self.named.append((name, place))
            key = name_key(name)
            if key:
                self._by_key.setdefault(key, []).append(place)

    @classmethod
    def from_places(cls, places: Iterable[tuple[str, Place]]) -> Gazetteer:
        return cls(places)

    @classmethod
    def from_dir(cls, folder: Path) -> Gazetteer:
        """Load every known gazetteer file in ``folder`` (missing files are skipped)."""
        places: list[tuple[str, Place]] = list(_admin_places())
        loaders = (
            ("katottg_pokrovskyi_raion.csv", _katottg),
            ("hromadas_pokrovskyi_raion_kse.csv", _kse),
            ("geonames_postal_codes_donetska_pokrovsk_area.csv", _geonames),
        )
        found = False
        for filename, loader in loaders:
            path = folder / filename
            if path.exists():
                found = True
                with path.open(newline="", encoding="utf-8-sig") as fh:
                    places.extend(loader(csv.DictReader(fh)))
        if not found:
            raise GazetteerError(f"no gazetteer files in {folder}: expected {', '.join(f for f, _ in loaders)}")
        return cls(places)

    def __len__(self) -> int:
        return len(self._by_key)

    def places(self) -> list[Place]:
        """Every place once (a place known under several names is kept under its own)."""
        seen: dict[tuple[str, float | None, float | None], Place] = {}
        for found in self._by_key.values():
            for place in found:
                seen.setdefault((place.name, place.lon, place.lat), place)
        return list(seen.values())

    def lookup(self, name: str) -> list[Place]:
        return list(self._by_key.get(name_key(name), []))

    def resolve(self, name: str) -> tuple[float, float, float]:
        """(lon, lat, precision_m) of the one place ``name`` means; GazetteerError otherwise."""
        found = [p for p in self.lookup(name) if p.lon is not None and p.lat is not None]
        if not found:
            known = "is known but has no coordinates" if self.lookup(name) else "is not in the gazetteer"
            raise GazetteerError(f"place {name!r} {known}: give lon and lat")
        clusters = _clusters(found)
        if len(clusters) > 1:
            where = "; ".join(f"{c[0].name} ({c[0].lat:.3f}, {c[0].lon:.3f})" for c in clusters[:5])
            raise GazetteerError(f"place {name!r} is ambiguous: {len(clusters)} places ({where}): give lon and lat")
        best = min(clusters[0], key=lambda p: p.precision_m)
        assert best.lon is not None and best.lat is not None
        return best.lon, best.lat, best.precision_m


def _clusters(places: list[Place]) -> list[list[Place]]:
    clusters: list[list[Place]] = []
    for p in sorted(places, key=lambda p: p.precision_m):
        for c in clusters:
            if _distance_m(c[0], p) <= max(MERGE_DISTANCE_M, c[0].precision_m, p.precision_m):
                c.append(p)
                break
        else:
            clusters.append([p])
    return clusters


def _distance_m(a: Place, b: Place) -> float:
    assert a.lon is not None and a.lat is not None and b.lon is not None and b.lat is not None
    dx = math.radians(b.lon - a.lon) * math.cos(math.radians((a.lat + b.lat) / 2))
    dy = math.radians(b.lat - a.lat)
    return 6_371_000.0 * math.hypot(dx, dy)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _admin_places() -> Iterable[tuple[str, Place]]:
    for uk, en, lon, lat in RAIONS_OF_DONETSK_OBLAST:
        place = Place(en, lon, lat, RAION_PRECISION_M, "raion", "builtin")
        yield uk, place
        yield en, place
    uk, en, lon, lat = OBLAST
    oblast = Place(en, lon, lat, OBLAST_PRECISION_M, "oblast", "builtin")
    yield uk, oblast
    yield en, oblast


def _katottg(rows: Iterable[dict[str, str]]) -> Iterable[tuple[str, Place]]:
    for r in rows:
        category = r.get("category", "")
        if category not in PRECISION_BY_CATEGORY or category == "P":
            continue
        place = Place(
            r["name_en_kmu2010"],
            _float(r.get("lon")),
            _float(r.get("lat")),
            PRECISION_BY_CATEGORY[category],
            category,
            "katottg",
        )
        yield r["name_uk"], place
        yield r["name_en_kmu2010"], place


def _kse(rows: Iterable[dict[str, str]]) -> Iterable[tuple[str, Place]]:
    for r in rows:
        lon, lat = _float(r.get("lon_center")), _float(r.get("lat_center"))
        area = _float(r.get("square")) or 300.0
        hromada = Place(r["hromada_name"], lon, lat, max(math.sqrt(area) * 1000 / 2, 5_000.0), "H", "kse")
        yield r["hromada_name"], hromada
        yield r["hromada_center"], Place(r["hromada_center"], lon, lat, PRECISION_BY_CATEGORY["M"], "M", "kse")


def _geonames(rows: Iterable[dict[str, str]]) -> Iterable[tuple[str, Place]]:
    for r in rows:
        name = r["place_name"]
        yield (
            name,
            Place(name, _float(r.get("longitude")), _float(r.get("latitude")), GEONAMES_PRECISION_M, "P", "geonames"),
        )
