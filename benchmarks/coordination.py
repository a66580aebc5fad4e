"""Coordination figures, each beside its peer on the same input in the same run.

1. **The board**: 200 districts × 12 utilities and services, from 10^6 status reports over 90 days (five
   sources): the current status of every row (freshness 48 h, conflicts) and 7 days of outage hours per
   district. Peer: the same current status as one SQL query (window functions) in SQLite, in memory.
2. **De-duplication** of 10^4 evacuation requests with known duplicates (the same person asked for again
   in another script — Ukrainian, Russian, the official Ukrainian Latin transliteration (KMU 2010) or the
   passport Latin of Russian (ICAO) — with a typo now and then, the point moved within its precision, a
   shared phone sometimes): time, and precision/recall of the pairs found, beside exact-match
   de-duplication (the same name string at the same ~100 m). The generator's transliteration tables are
   its own (not greyzone's), and nothing in greyzone was tuned on it.

    python benchmarks/coordination.py [--reports 1000000] [--requests 10000] [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sqlite3
import sys
import time
from typing import Any

import numpy as np

from greyzone.coordination.board import StatusColumns, current_status, status_history
from greyzone.coordination.dedup import Sought, duplicate_groups

H = 3600.0
DAY = 24 * H
FRESH = 48 * H


def board_input(n: int, districts: int, items: int, rng: np.random.Generator) -> StatusColumns:
    keys = districts * items
    t = np.sort(rng.uniform(0, 90 * DAY, n))
    key = rng.integers(0, keys, n)
    status = rng.choice(3, n, p=[0.6, 0.25, 0.15])
    source = rng.integers(0, 5, n)
    return StatusColumns(t, key.astype(np.int64), status.astype(np.int64), source.astype(np.int64))


def our_board(c: StatusColumns, keys: int, now: float) -> tuple[list[Any], Any]:
    every = np.arange(keys, dtype=np.int64)
    current = current_status(c, every, now, FRESH)
    bounds = np.array([now - (7 - i) * DAY for i in range(8)])
    return current, status_history(c, every, bounds, 2, now, FRESH)


PEER_SQL = """
WITH newest AS (   -- each source's newest report per key, fresh
  SELECT key, source, status, t, ROW_NUMBER() OVER (PARTITION BY key, source ORDER BY t DESC) AS k
  FROM r WHERE t <= :now AND t > :now - :fresh
), heard AS (SELECT key, source, status, t FROM newest WHERE k = 1),
top AS (SELECT key, max(t) AS newest FROM heard GROUP BY key)
SELECT h.key, count(DISTINCT h.status) AS voices, max(h.status), min(h.status), count(*) AS sources, top.newest
FROM heard h JOIN top USING (key) WHERE h.t >= top.newest - :agree GROUP BY h.key
"""


def peer_board(c: StatusColumns, now: float) -> tuple[dict[int, tuple[int, int, int]], float, float]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE r (t REAL, key INTEGER, status INTEGER, source INTEGER)")
    db.executemany("INSERT INTO r VALUES (?, ?, ?, ?)", zip(c.t_s.tolist(), c.key.tolist(), c.status.tolist(),
                                                             c.source.tolist(), strict=True))  # fmt: skip
    db.execute("CREATE INDEX r_key ON r (key, source, t)")
    t0 = time.perf_counter()
    rows = db.execute(PEER_SQL, {"now": now, "fresh": FRESH, "agree": 3 * H}).fetchall()
    took = time.perf_counter() - t0
    return {int(k): (int(v), int(hi), int(n)) for k, v, hi, _, n, _ in rows}, took, 0.0


def board(n: int, rng: np.random.Generator) -> dict[str, Any]:
    districts, items = 200, 12
    c = board_input(n, districts, items, rng)
    now = 90 * DAY
    our_board(c, districts * items, now)  # warm up
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        current, history = our_board(c, districts * items, now)
        times.append(time.perf_counter() - t0)
    peer, peer_s, _ = peer_board(c, now)
    agree = sum(
        1
        for cur in current
        if (cur.key in peer) == (cur.status != -1)
        and (cur.key not in peer or (peer[cur.key][0] > 1) == (cur.status == -2))
    )
    ours = float(np.median(times))
    return {
        "reports": n, "rows": districts * items, "board_ms": round(ours * 1e3, 1),
        "peer_sqlite_window_ms": round(peer_s * 1e3, 1), "ratio": round(peer_s / ours, 1),
        "same_status_as_peer": f"{agree}/{len(current)}", "outages": len(history.outages),
    }  # fmt: skip


# ----------------------------------------------------------------------------------------------- de-duplication

UK_FIRST = ("Олександр", "Микола", "Петро", "Сергій", "Іван", "Василь", "Юрій", "Віктор", "Андрій", "Богдан",
            "Тарас", "Ганна", "Олена", "Тетяна", "Наталія", "Марія", "Людмила", "Катерина", "Надія", "Ірина",
            "Оксана", "Галина")  # fmt: skip
RU_OF = {"Олександр": "Александр", "Микола": "Николай", "Петро": "Пётр", "Сергій": "Сергей", "Іван": "Иван",
         "Василь": "Василий", "Юрій": "Юрий", "Віктор": "Виктор", "Андрій": "Андрей", "Богдан": "Богдан",
         "Тарас": "Тарас", "Ганна": "Анна", "Олена": "Елена", "Тетяна": "Татьяна", "Наталія": "Наталья",
         "Марія": "Мария", "Людмила": "Людмила", "Катерина": "Екатерина", "Надія": "Надежда", "Ірина": "Ирина",
         "Оксана": "Оксана", "Галина": "Галина"}  # fmt: skip
ROOTS = ("Петр", "Шевч", "Бонд", "Ткач", "Крав", "Мельн", "Савч", "Руд", "Лис", "Гонч", "Марч", "Литв",
         "Поліщ", "Сидор", "Мороз", "Коваль", "Кузьм", "Павл", "Гриц", "Оліх", "Зінч", "Дяч", "Бойч", "Остап",
         "Кирил")  # fmt: skip
ENDS = ("енко", "ук", "юк", "ар", "ович", "ишин", "ак", "ний", "ко", "ець")
KMU = {"а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh", "з": "z", "и": "y",
       "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s",
       "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu",
       "я": "ia", "'": ""}  # fmt: skip
KMU_FIRST = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
ICAO = {"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i", "й": "i",
        "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f",
        "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "ie", "ы": "y", "ь": "", "э": "e", "ю": "iu",
        "я": "ia", "і": "i"}  # fmt: skip
UK_TO_RU_LETTERS = {"і": "и", "ї": "и", "є": "е", "ґ": "г", "и": "ы"}


def _latin(word: str, table: dict[str, str], first: dict[str, str]) -> str:
    out = []
    for i, ch in enumerate(word.lower()):
        out.append((first if i == 0 else {}).get(ch, table.get(ch, ch)))
    return "".join(out).capitalize()


def _typo(word: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(1, max(2, len(word) - 1)))
    op = rng.integers(0, 3)
    if op == 0:
        return word[:i] + word[i + 1 :]
    if op == 1:
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1 : i + 2] + word[i : i + 1] + word[i + 2 :]


def _spelling(first: str, last: str, rng: np.random.Generator) -> str:
    """The same person as another proxy writes them."""
    how = rng.integers(0, 4)
    if how == 0:  # Russian
        name = f"{RU_OF[first]} {''.join(UK_TO_RU_LETTERS.get(c, c) for c in last)}"
    elif how == 1:  # KMU 2010
        name = f"{_latin(first, KMU, KMU_FIRST)} {_latin(last, KMU, KMU_FIRST)}"
    elif how == 2:  # the Russian form in passport Latin
        name = f"{_latin(RU_OF[first], ICAO, {})} {_latin(''.join(UK_TO_RU_LETTERS.get(c, c) for c in last), ICAO, {})}"
    else:  # Ukrainian again, surname first
        name = f"{last} {first}"
    if rng.random() < 0.25:
        words = name.split()
        k = int(rng.integers(0, len(words)))
        words[k] = _typo(words[k], rng)
        name = " ".join(words)
    return name


def requests(n: int, share_duplicates: float, rng: np.random.Generator) -> tuple[list[Sought], list[int]]:
    """n requests; ``share_duplicates`` of them ask again for someone asked for before. The person of each."""
    people: list[tuple[str, str, float, float, float, str]] = []
    items: list[Sought] = []
    person_of: list[int] = []
    for _ in range(n):
        if people and rng.random() < share_duplicates:
            p = int(rng.integers(0, len(people)))
            first, last, lon, lat, precision, phone = people[p]
            shift = rng.uniform(0, 0.8 * precision)
            angle = rng.uniform(0, 2 * np.pi)
            x = lon + shift * np.cos(angle) / 74_000.0
            y = lat + shift * np.sin(angle) / 111_320.0
            items.append(Sought((_spelling(first, last, rng),), (phone,) if rng.random() < 0.3 else (), x, y,
                                float(rng.choice([30.0, 100.0, 300.0]))))  # fmt: skip
        else:
            first = str(rng.choice(UK_FIRST))
            last = str(rng.choice(ROOTS)) + str(rng.choice(ENDS))
            lon, lat = 37.13 + rng.uniform(0, 0.1), 48.25 + rng.uniform(0, 0.07)  # ~7 × 8 km
            precision = float(rng.choice([30.0, 100.0, 300.0]))
            phone = f"+38067{rng.integers(1_000_000, 9_999_999)}"
            p = len(people)
            people.append((first, last, lon, lat, precision, phone))
            items.append(Sought((f"{first} {last}",), (phone,) if rng.random() < 0.5 else (), lon, lat, precision))
        person_of.append(p)
    return items, person_of


def exact_groups(items: list[Sought]) -> list[list[int]]:
    by: dict[tuple[str, float, float], list[int]] = {}
    for i, s in enumerate(items):
        by.setdefault((s.names[0].strip().lower(), round(s.lon, 3), round(s.lat, 3)), []).append(i)
    return [g for g in by.values() if len(g) > 1]


def pairs_of(groups: list[list[int]]) -> set[tuple[int, int]]:
    return {(a, b) for g in groups for a, b in itertools.combinations(sorted(g), 2)}


def scored(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> dict[str, float]:
    hit = len(found & truth)
    return {"precision": round(hit / len(found), 3) if found else 1.0, "recall": round(hit / len(truth), 3)}


def dedup(n: int, rng: np.random.Generator) -> dict[str, Any]:
    items, person = requests(n, 0.3, rng)
    truth_groups: dict[int, list[int]] = {}
    for i, p in enumerate(person):
        truth_groups.setdefault(p, []).append(i)
    truth = pairs_of([g for g in truth_groups.values() if len(g) > 1])
    t0 = time.perf_counter()
    ours = duplicate_groups(items)
    took = time.perf_counter() - t0
    t1 = time.perf_counter()
    exact = exact_groups(items)
    exact_s = time.perf_counter() - t1
    return {
        "requests": n, "true_duplicate_pairs": len(truth), "dedup_s": round(took, 2),
        "ours": scored(pairs_of(ours), truth), "exact_match": scored(pairs_of(exact), truth),
        "exact_match_s": round(exact_s, 3),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print("the board …", file=sys.stderr)
    b = board(args.reports, rng)
    print("de-duplication …", file=sys.stderr)
    d = dedup(args.requests, rng)
    if args.json:
        print(json.dumps({"board": b, "dedup": d}))
        return
    print(f"board: {b['rows']} rows from {b['reports']:,} status reports: {b['board_ms']} ms (target ≤ 200 ms); "
          f"peer, one SQL query with window functions in SQLite (in memory, indexed): {b['peer_sqlite_window_ms']} ms; "
          f"ratio {b['ratio']}×; the same status as the peer for {b['same_status_as_peer']} rows")  # fmt: skip
    print(f"de-duplication of {d['requests']:,} requests ({d['true_duplicate_pairs']:,} true duplicate pairs): "
          f"{d['dedup_s']} s (target ≤ 2 s); precision {d['ours']['precision']}, recall {d['ours']['recall']}; "
          f"exact match: precision {d['exact_match']['precision']}, recall {d['exact_match']['recall']} "
          f"({d['exact_match_s']} s)")  # fmt: skip


if __name__ == "__main__":
    main()
