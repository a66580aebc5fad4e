"""The same people asked for by several proxies: which evacuation requests are one.

Two requests are one when they are about the same place **and** the same person:

* the same place: their points lie within the larger of their precisions (plus ``slack_m``) of each
  other, or their addresses (street and house, as keys) are equal;
* the same person: a name of one and a name of the other alike by ``min_similarity`` or more (keys of
  :mod:`greyzone.coordination.names`: Ukrainian, Russian and Latin spellings agree), or a phone
  number in common.

A request without a name or a phone is never merged (nothing says it is the same person). Pairs are
found by blocking: each request is filed in a grid of cells as coarse as its precision and under each
word of its names; only requests sharing a cell neighbourhood and a word's first letters (or a phone)
are compared, so 10^4 requests take well under a second.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from greyzone.coordination.names import latin_key, name_similarity, person_key, phone_key

M_PER_DEG = 111_320.0
BASE_CELL_M = 500.0


@dataclass(frozen=True, slots=True)
class Sought:
    """What de-duplication compares of a request: its people's names, phones, point and address."""

    names: tuple[str, ...]
    phones: tuple[str, ...]
    lon: float
    lat: float
    precision_m: float
    address: str = ""


@dataclass(frozen=True, slots=True)
class _Keys:
    names: tuple[str, ...]
    phones: frozenset[str]
    address: str
    x: float
    y: float
    reach_m: float


def keys_of(s: Sought) -> _Keys:
    x = s.lon * M_PER_DEG * math.cos(math.radians(s.lat))
    names = tuple(k for k in (person_key(n) for n in s.names) if k)
    phones = frozenset(k for k in (phone_key(p) for p in s.phones) if k)
    return _Keys(names, phones, latin_key(s.address), x, s.lat * M_PER_DEG, max(s.precision_m, 0.0))


def is_same(a: _Keys, b: _Keys, min_similarity: float = 85.0, slack_m: float = 100.0) -> bool:
    """Whether two requests are about the same person at the same place."""
    same_person = bool(a.phones & b.phones) or any(
        name_similarity(x, y) >= min_similarity for x in a.names for y in b.names
    )
    if not same_person:
        return False
    if a.address and a.address == b.address:
        return True
    return math.hypot(a.x - b.x, a.y - b.y) <= max(a.reach_m, b.reach_m) + slack_m


def duplicate_groups(items: Sequence[Sought], min_similarity: float = 85.0, slack_m: float = 100.0) -> list[list[int]]:
    """The requests that are one, as groups of indices (each in input order; singletons left out)."""
    keys = [keys_of(s) for s in items]
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in candidate_pairs(keys, slack_m):
        if root(i) != root(j) and is_same(keys[i], keys[j], min_similarity, slack_m):
            parent[max(root(i), root(j))] = min(root(i), root(j))
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        groups[root(i)].append(i)
    return [g for g in groups.values() if len(g) > 1]


def first_duplicate(
    new: Sought, stored: Sequence[Sought], min_similarity: float = 85.0, slack_m: float = 100.0
) -> int | None:
    """The first of ``stored`` that ``new`` is one with, or None."""
    key = keys_of(new)
    for i, s in enumerate(stored):
        if is_same(key, keys_of(s), min_similarity, slack_m):
            return i
    return None


def _level(reach_m: float, slack_m: float) -> int:
    return max(0, math.ceil(math.log((reach_m + slack_m) / BASE_CELL_M, 4))) if reach_m + slack_m > BASE_CELL_M else 0


def _blocks(k: _Keys) -> set[str]:
    words = {w[:3] for n in k.names for w in n.split() if len(w) >= 2}
    return words | {"p" + p for p in k.phones}


def candidate_pairs(keys: Sequence[_Keys], slack_m: float = 100.0) -> Iterable[tuple[int, int]]:
    """Pairs that may be one: near enough for the coarser precision of the two and sharing a word's first
    letters or a phone; or with equal addresses."""
    filed: dict[tuple[int, int, int, str], list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        level = _level(k.reach_m, slack_m)
        size = BASE_CELL_M * 4**level
        for block in _blocks(k):
            filed[(level, math.floor(k.x / size), math.floor(k.y / size), block)].append(i)
        if k.address:
            filed[(-1, 0, 0, k.address)].append(i)
    levels = sorted({key[0] for key in filed} - {-1})
    seen: set[tuple[int, int]] = set()
    for i, k in enumerate(keys):
        for j in _neighbours(filed, levels, k):
            pair = (min(i, j), max(i, j))
            if j != i and pair not in seen:
                seen.add(pair)
                yield pair


def _neighbours(filed: dict[tuple[int, int, int, str], list[int]], levels: list[int], k: _Keys) -> Iterator[int]:
    blocks = _blocks(k)
    for level in levels:
        size = BASE_CELL_M * 4**level
        cx, cy = math.floor(k.x / size), math.floor(k.y / size)
        for dx, dy, block in itertools.product((-1, 0, 1), (-1, 0, 1), blocks):
            yield from filed.get((level, cx + dx, cy + dy, block), ())
    if k.address:
        yield from filed.get((-1, 0, 0, k.address), ())
