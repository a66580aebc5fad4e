"""Settlements named in a message, through their inflections, the two languages' spellings and Latin.

"у Покровську", "з Мирнограда", "під Білицьким", "в Покровске", "Доброполье", "Гродовка", "Pokrovs'k",
"Mirnograd" — each is reduced to a **skeleton**: the name's dictionary form (pymorphy3's Ukrainian and
Russian analysers give every candidate nominative of an inflected word), in the gazetteer's Latin fold
(``name_key``: apostrophes, transliteration, kh/h/g), its consonants kept and each run of vowels one
mark, a trailing vowel dropped. Ukrainian and Russian spell the same name with different vowels
(Добропілля / Доброполье, Гродівка / Гродовка, Курахове / Курахово, Білицьке / Белицкое) and the same
consonants: the skeleton is what they share, so no list of spellings is needed.

A word matches the places whose skeleton it has (two-word names — "Сухий Яр", "Старі Терни" — as
pairs). A name several settlements carry ("Іванівка", "Шевченко") is **ambiguous**: it is resolved only
by the area the message comes from (the nearest within ``CONTEXT_KM``, when the candidates have
coordinates) and otherwise left ambiguous with its candidates — never silently the first one. Pure.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

from greyzone.ingest.gazetteer import Place, name_key
from greyzone.text.morph import normal_forms

VOWELS = re.compile(r"[aeiouy]+")
TOKEN = re.compile(r"[^\W\d_]+(?:[-'’ʼ][^\W\d_]+)*", re.UNICODE)
CONTEXT_KM = 60.0
SETTLEMENTS = ("M", "T", "X", "C")  # city, urban-type, settlement, village (KATOTTG); GeoNames points too
STOP = {"pokrovskii", "pokrovskoi", "pokrovskomu", "doneck", "doneckii", "ukrain", "rosii"}  # raion/oblast adjectives


def skeleton(name: str) -> str:
    """A name's consonant skeleton in the Latin fold: the shared form of its Ukrainian and Russian spellings."""
    key = name_key(name)
    key = re.sub(r"(.)\1+", r"\1", key)  # doubled consonants (Добропілля / Доброполье)
    key = key.replace("j", "")
    key = VOWELS.sub("*", key)
    return key.rstrip("*")


@dataclass(frozen=True, slots=True)
class PlaceHit:
    """A settlement a message names: the words that name it, its name, where (when known), how sure."""

    words: str
    name: str
    lon: float | None
    lat: float | None
    precision_m: float
    ambiguous: bool
    candidates: tuple[str, ...] = ()
    why: str = ""
    confidence: float = 0.0


@dataclass
class PlaceIndex:
    """The gazetteer's settlements by skeleton, each under its Ukrainian name where the gazetteer has one
    (a name held by several places is several entries)."""

    by_skeleton: dict[str, list[tuple[str, Place]]] = field(default_factory=dict)

    @classmethod
    def of(cls, named: list[tuple[str, Place]]) -> PlaceIndex:
        index = cls()
        ukrainian = {id(p): n for n, p in named if any("CYRILLIC" in unicodedata.name(ch, "") for ch in n[:2])}
        for name, p in named:
            if p.category not in SETTLEMENTS and p.source != "geonames":
                continue
            shown = ukrainian.get(id(p), p.name)
            key = skeleton(name)
            if len(key) < 4 or any(q is p for _, q in index.by_skeleton.get(key, [])):
                continue
            index.by_skeleton.setdefault(key, []).append((shown, p))
        return index

    def find(self, text: str, near: tuple[float, float] | None = None) -> list[PlaceHit]:
        """The settlements the text names, in the order it names them (each once)."""
        tokens = [(m.group(0), m.start()) for m in TOKEN.finditer(text)]
        hits: list[PlaceHit] = []
        named: set[str] = set()
        i = 0
        while i < len(tokens):
            word = tokens[i][0]
            if i + 1 < len(tokens) and tokens[i + 1][1] - (tokens[i][1] + len(word)) <= 1:  # a two-word name
                pair = self._match(f"{word} {tokens[i + 1][0]}", two=True)
                if pair:
                    hit = self._resolve(f"{word} {tokens[i + 1][0]}", pair, near)
                    if hit.name not in named:
                        hits.append(hit)
                        named.add(hit.name)
                    i += 2
                    continue
            if word[:1].isupper() or word.isupper():
                found = self._match(word)
                if found and _common_opener(text, tokens[i][1], word, found):
                    found = []
                if found:
                    hit = self._resolve(word, found, near)
                    if hit.name not in named:
                        hits.append(hit)
                        named.add(hit.name)
            i += 1
        return hits

    def _match(self, words: str, two: bool = False) -> list[tuple[str, Place]]:
        parts = words.split(" ")
        if two:
            heads = [normal_forms(parts[0].lower())[:4] or (parts[0].lower(),), normal_forms(parts[1].lower())[:4]]
            if not parts[1][:1].isupper():
                return []
            forms = {f"{a} {b}" for a in (parts[0].lower(), *heads[0]) for b in (parts[1].lower(), *heads[1])}
        else:
            forms = {words.lower(), *normal_forms(words.lower())}
        found: list[tuple[str, Place]] = []
        for form in forms:
            key = skeleton(form)
            if len(key) >= 4 and key not in STOP:
                for entry in self.by_skeleton.get(key, []):
                    if all(entry[1] is not q for _, q in found):
                        found.append(entry)
        return found

    def _resolve(self, words: str, found: list[tuple[str, Place]], near: tuple[float, float] | None) -> PlaceHit:
        forms = {_plain(words), *(_plain(f) for f in normal_forms(words.lower()))}
        groups = _groups(found)
        exact = [g for g in groups if any(_plain(n) in forms or _plain(p.name) in forms for n, p in g)]
        if exact and len(exact) < len(groups):  # the very spelling beats a spelling that only sounds alike
            groups = exact
            found = [e for g in groups for e in g]
        names = sorted({n for n, _ in found})
        cities = [g for g in groups if any(p.category == "M" for _, p in g)]
        if len(groups) > 1 and len(cities) == 1:  # a city beside villages of its name: the city is meant
            name, best = cities[0][0][0], _located(cities[0])
            return PlaceHit(words, name, best.lon, best.lat, best.precision_m, False, tuple(names),
                            f"{words!r} → {name}, the city ({len(groups) - 1} smaller places share the name)", 0.6)  # fmt: skip
        located = [g for g in groups if any(p.lon is not None for _, p in g)]
        if len(groups) == 1:
            name = groups[0][0][0]
            best = min((p for _, p in groups[0]), key=lambda p: (p.lon is None, p.precision_m))
            return PlaceHit(words, name, best.lon, best.lat, best.precision_m, False, tuple(names),
                            f"{words!r} → {name}", 0.9 if best.lon is not None else 0.7)  # fmt: skip
        if near is not None and len(located) == len(groups):
            close = [g for g in located if _km(_located(g), near) <= CONTEXT_KM]
            if len(close) == 1:
                name, p = close[0][0][0], _located(close[0])
                return PlaceHit(words, name, p.lon, p.lat, p.precision_m, False, tuple(names),
                                f"{words!r} → {name}, the only one within {CONTEXT_KM:g} km of the message's area",
                                0.75)  # fmt: skip
        label = " / ".join(names)
        candidates = tuple(f"{g[0][0]} ({_where(_located(g) if any(p.lon is not None for _, p in g) else g[0][1])})"
                           for g in groups)  # fmt: skip
        return PlaceHit(words, label, None, None, 0.0, True, candidates, f"{words!r} names {len(groups)} places", 0.3)


def _located(group: list[tuple[str, Place]]) -> Place:
    return next((p for _, p in group if p.lon is not None), group[0][1])


def _groups(found: list[tuple[str, Place]]) -> list[list[tuple[str, Place]]]:
    """Entries of one place together: the same name within 5 km, or the one settlement of that name in the
    registry (KATOTTG) with the points other sources give it."""
    registry: dict[str, int] = {}
    for name, p in found:
        if p.source == "katottg":
            registry[_plain(name)] = registry.get(_plain(name), 0) + 1
    groups: list[list[tuple[str, Place]]] = []
    for name, p in sorted(found, key=lambda e: (e[1].source != "katottg", e[1].lon is None)):
        for g in groups:
            gname, q = g[0]
            same = _plain(gname) == _plain(name)
            near = p.lon is not None and q.lon is not None and _km(q, (p.lon, p.lat)) <= 5.0  # type: ignore[arg-type]
            if same and (
                near
                or (registry.get(_plain(name), 0) <= 1 and (p.lon is None or q.lon is None or p.source != q.source))
            ):
                g.append((name, p))
                break
        else:
            groups.append([(name, p)])
    return groups


def _km(p: Place, at: tuple[float, float]) -> float:
    assert p.lon is not None and p.lat is not None
    dx = math.radians(at[0] - p.lon) * math.cos(math.radians(p.lat))
    return 6371.0 * math.hypot(dx, math.radians(at[1] - p.lat))


def _where(p: Place) -> str:
    return f"{p.lat:.3f}, {p.lon:.3f}" if p.lon is not None and p.lat is not None else f"{p.source} {p.category}"


def _plain(name: str) -> str:
    """A name as written, lower case, its apostrophes one."""
    return re.sub(r"['’ʼ`]", "'", name.strip().lower())


def _common_opener(text: str, start: int, word: str, found: list[tuple[str, Place]]) -> bool:
    """Whether a capitalised word is only the first word of a sentence that sounds like a place: a common
    word of the dictionaries ("Світло в …" is not the village Світле), not spelled as the place is, and not
    set off as a headline's place is ("Прогрес: …")."""
    before = text[:start].rstrip()
    if before and before[-1] not in ".!?…\n":
        return False
    after = text[start + len(word) :].lstrip()[:1]
    if after in (":", "—", "–", "-", ",", "(", ""):
        return False
    lower = word.lower()
    from greyzone.text.morph import normal_forms as forms_of

    spelled = {_plain(word), *(_plain(f) for f in forms_of(lower))}
    if any(_plain(n) in spelled for n, _ in found):
        return False
    from greyzone.text.morph import known, proper_noun

    return (known("uk", lower) or known("ru", lower)) and not proper_noun(lower)


# ----------------------------------------------------------------------------------------------- streets

STREET_WORDS = re.compile(
    r"\b(вулиц[яіеюі]|вул|провулок|провулку|пров|проспект[уі]?|просп|площ[аіе]|бульвар[уі]?|бульв|шосе|улиц[аеуы]|ул|"
    r"переул(?:ок|ке)|пер|проспекте|street|st|avenue|ave|road|rd|lane|square)\b\.?",
    re.IGNORECASE | re.UNICODE,
)


STREET_TOKEN = re.compile(r"[\w'’ʼ-]+", re.UNICODE)


STREET_KINDS = (
    ("lane", ("провул", "пров", "переул", "пер", "lane")),
    ("avenue", ("проспект", "просп", "avenue", "ave")),
    ("square", ("площ", "square")),
    ("boulevard", ("бульв", "boulevard")),
    ("highway", ("шосе", "шоссе", "highway")),
    ("street", ("вул", "ул", "street", "st", "road", "rd")),
)


def street_kind(word: str) -> str:
    lower = word.lower().rstrip(".")
    return next((kind for kind, stems in STREET_KINDS if any(lower.startswith(s) for s in stems)), "street")


@dataclass(frozen=True, slots=True)
class Street:
    name: str
    lon: float
    lat: float
    half_length_m: float


@dataclass
class StreetIndex:
    """A city's named streets by the skeleton of their name without its kind (вулиця, проспект, street …)."""

    by_skeleton: dict[str, list[Street]] = field(default_factory=dict)

    @classmethod
    def of(cls, streets: list[Street]) -> StreetIndex:
        index = cls()
        for s in streets:
            marker = STREET_WORDS.search(s.name)
            kind = street_kind(marker.group(0)) if marker else "street"
            key = skeleton(STREET_WORDS.sub(" ", s.name).strip())
            if len(key) >= 3 or any(ch.isdigit() for ch in key):
                index.by_skeleton.setdefault(f"{kind}:{key}", []).append(s)
                index.by_skeleton.setdefault(key, []).append(s)
        return index

    def find(self, text: str) -> PlaceHit | None:
        """The street a message names after a street word ("на вулиці Шкільній", "ул. Шмидта", "Street 12"),
        when one street of the city has that name."""
        for marker in STREET_WORDS.finditer(text):
            after = STREET_TOKEN.findall(text[marker.end() : marker.end() + 60])[:3]
            for n in (2, 1):
                if len(after) < n:
                    continue
                words = " ".join(after[:n])
                forms = {words.lower()} | (set(normal_forms(after[0].lower())) if n == 1 else set())
                kind = street_kind(marker.group(0))
                found = {id(s): s for f in forms for s in self.by_skeleton.get(f"{kind}:{skeleton(f)}", [])}
                if (
                    not found
                ):  # a kind the message gets wrong ("вулиця" for a lane): the name alone, when one street has it
                    found = {id(s): s for f in forms for s in self.by_skeleton.get(skeleton(f), [])}
                if len(found) == 1:
                    s = next(iter(found.values()))
                    return PlaceHit(f"{marker.group(0)} {words}", s.name, s.lon, s.lat, max(100.0, s.half_length_m),
                                    False, (s.name,), f"the street {s.name!r}", 0.8)  # fmt: skip
        return None
