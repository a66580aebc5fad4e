"""A fuzzer for the file adapters: small valid seed files per format, mutated with hostile values and
broken structure, then ingested. Used by ``tests/test_fuzz.py`` (a small budget, with hypothesis) and
``benchmarks/fuzz.py`` (the long run). What must hold for any input: no exception escapes but a
whole-file ``IngestError`` naming the file; with the structure kept (one value replaced) every record
is accounted for — accepted + duplicates + rejected = the records of the file."""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from greyzone.errors import IngestError
from greyzone.ingest.formats import Format
from greyzone.ingest.records import Reject
from greyzone.ingest.runner import ingest_files
from greyzone.store.memory import MemoryStore

TESTS = Path(__file__).resolve().parent
SHARED = TESTS.parent.parent / "shared" / "data"

#: Values that broke an adapter or the builder once (issue 12), and their like.
HOSTILE_JSON = [
    "9" * 5000,  # an integer Python refuses to convert
    "1e999",
    "-1e999",
    "NaN",
    "Infinity",
    '"\\ud800"',  # a lone surrogate
    "[" * 3000 + "]" * 3000,  # deeper than the parser goes
    '{"type": "Hexagon", "coordinates": [1, 2]}',
    '{"type": "Polygon", "coordinates": [[[37, 48], [37, 48], [37, 48], [37, 48]]]}',  # all points equal
    '{"type": "Polygon", "coordinates": [[[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]]}',
    '{"type": "LineString", "coordinates": [[37, 48], [37.1, 48.1]]}',
    '{"type": "Polygon", "coordinates": [[[37, 48], [37.1, 48.1], [37.1, 48], [37, 48.1], [37, 48]]]}',  # a bow tie
    '{"type": "Point", "coordinates": [NaN, NaN]}',
    '{"type": "Point", "coordinates": [1e999, 48]}',
    "null",
    "true",
    "[]",
    "{}",
    '"' + "x" * 20_000 + '"',
    '"2024-11-03T09:15:00"',  # a time without an offset
    '"9999-12-31T23:59:59+00:00"',
    '"0001-01-01T00:00:00+00:00"',
]
HOSTILE_TEXT = [
    "9" * 5000,
    "1e999",
    "NaN",
    "-inf",
    "",
    "x" * 20_000,
    "=cmd|' /C calc'!A0",
    "2024-11-03T09:15:00",
    "9999-12-31",
    "0001-01-01",
    "0x1F",
    "１２３",  # full-width digits
    "\u202e\u0000",
    "Покровськ",
    '"',
    "\n",
]


@dataclass(frozen=True, slots=True)
class Seed:
    fmt: Format
    name: str  # file name (its suffix matters to format detection)
    text: str
    records: int  # records in the seed, as the adapter counts them
    expands: bool = False  # a record may become several reports (a "contested" settlement: one per side)


def _native_csv() -> str:
    rows = [
        "kind,observed_at,lon,lat,location_precision_m,source,text,killed",
        "shelling,2024-11-03T09:15:00Z,37.18,48.28,100,police,shelled,1",
        "fpv_strike,2024-11-03T10:00:00+02:00,37.2,48.3,50,crew,drone on the road,",
        "control_observation,2024-11-03,37.1,48.2,500,crew,held,",
    ]
    return "\n".join(rows) + "\n"


def _jsonl() -> str:
    base = {"kind": "shelling", "observed_at": "2024-11-03T09:15:00Z", "lon": 37.18, "lat": 48.28, "source": "police"}
    lines = [base, base | {"kind": "glide_bomb", "lon": 37.19}, base | {"text": "ok", "location_precision_m": 300}]
    return "".join(json.dumps(r) + "\n" for r in lines)


def _geojson(status: bool = False) -> str:
    square = [[[37.1, 48.2], [37.2, 48.2], [37.2, 48.3], [37.1, 48.3], [37.1, 48.2]]]
    if status:
        props = [{"snapshot_utc": "2024-11-03T21:00:00Z", "status": s} for s in ("occupied", "unknown_status")]
        geoms = [{"type": "Polygon", "coordinates": square}] * 2
    else:
        base = {"kind": "shelling", "observed_at": "2024-11-03T09:15:00Z", "source": "police"}
        props = [base, base | {"kind": "control_observation", "side": "other_side"}]
        geoms = [{"type": "Point", "coordinates": [37.18, 48.28]}, {"type": "Polygon", "coordinates": square}]
    features = [{"type": "Feature", "properties": p, "geometry": g} for p, g in zip(props, geoms, strict=True)]
    return json.dumps({"type": "FeatureCollection", "features": features}, indent=0)


def _head(path: Path, rows: int) -> str | None:
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as fh:
        return "".join(line for _, line in zip(range(rows + 1), fh, strict=False))


def seeds() -> list[Seed]:
    """One seed per format (formats whose sample lives in ../shared/data only where it is present)."""
    out = [
        Seed(Format.CSV, "reports.csv", _native_csv(), 3),
        Seed(Format.JSONL, "reports.jsonl", _jsonl(), 3),
        Seed(Format.GEOJSON, "reports.geojson", _geojson(), 2),
        Seed(Format.DEEPSTATE, "status.geojson", _geojson(status=True), 2),
    ]
    for fmt, name in ((Format.ACLED, "acled_sample.csv"), (Format.VIINA, "viina_sample.csv")):
        text = (TESTS / "data" / name).read_text(encoding="utf-8")
        out.append(Seed(fmt, name, text, len(list(csv.reader(io.StringIO(text)))) - 1))
    text = (TESTS / "data" / "settlement_list_sample.csv").read_text(encoding="utf-8")
    out.append(Seed(Format.SETTLEMENTS, "settlements.csv", text, len(text.splitlines()) - 1, expands=True))
    for fmt, rel in (
        (Format.UCDP, "events/ucdp_ged_ukraine_2014-2022.csv"),
        (Format.ALERTS, "alerts/official_alerts_donetska_2022-03-15_2024-04-22.csv"),
    ):
        head = _head(SHARED / rel, 6)
        if head is not None:
            out.append(Seed(fmt, Path(rel).name, head, 6))
    return out


def replace_value(seed: Seed, rng: random.Random) -> str:
    """The seed with one value replaced by a hostile one, its structure kept (same records)."""
    if seed.fmt in (Format.JSONL,):
        lines = seed.text.splitlines(keepends=True)
        i = rng.randrange(len(lines))
        record = json.loads(lines[i])
        key = rng.choice([*record, "geometry", "id", "credibility", "reporter"])
        lines[i] = _with_raw(record, key, rng.choice(HOSTILE_JSON)) + "\n"
        return "".join(lines)
    if seed.fmt in (Format.GEOJSON, Format.DEEPSTATE):
        data = json.loads(seed.text)
        i = rng.randrange(len(data["features"]))
        feature = data["features"][i]
        raw = rng.choice(HOSTILE_JSON)
        if rng.random() < 0.4:
            feature["geometry"] = "@@RAW@@"
        else:
            feature["properties"][rng.choice([*feature["properties"], "observed_at", "lon"])] = "@@RAW@@"
        return json.dumps(data).replace('"@@RAW@@"', raw)
    rows = list(csv.reader(io.StringIO(seed.text)))
    i = rng.randrange(1, len(rows))
    j = rng.randrange(len(rows[i]))
    rows[i][j] = rng.choice(HOSTILE_TEXT).replace("\n", " ")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _with_raw(record: dict[str, object], key: str, raw: str) -> str:
    record = dict(record)
    record[key] = "@@RAW@@"
    return json.dumps(record).replace('"@@RAW@@"', raw)


def break_structure(seed: Seed, rng: random.Random) -> bytes:
    """The seed cut short, with bytes flipped, lines doubled or garbage added: anything may happen to it."""
    data = bytearray(seed.text.encode("utf-8"))
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(4)
        if op == 0 and data:
            del data[rng.randrange(len(data)) :]
        elif op == 1 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 2:
            pos = rng.randrange(len(data) + 1)
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 12)))
        else:
            lines = bytes(data).split(b"\n")
            k = rng.randrange(len(lines))
            lines.insert(k, lines[k])
            data = bytearray(b"\n".join(lines))
    return bytes(data)


@dataclass(frozen=True, slots=True)
class Outcome:
    accepted: int
    duplicates: int
    rejected_records: int
    whole_file_error: str | None


def ingest_bytes(folder: Path, seed: Seed, data: bytes) -> Outcome:
    """Ingest one input as its format; any exception but a whole-file IngestError propagates (a finding)."""
    path = folder / seed.name
    path.write_bytes(data)
    rejects: list[Reject] = []
    try:
        summary = ingest_files([path], MemoryStore(), fmt=seed.fmt, on_rejects=rejects.extend, parallel=False)
    except IngestError as exc:
        return Outcome(0, 0, 0, str(exc))
    rows = {r.row for r in rejects}
    return Outcome(summary.accepted, summary.duplicates, len(rows), None)


def run(folder: Path, seed: Seed, rng: random.Random, structural: bool, check: Callable[[bool, str], None]) -> None:
    """One execution: mutate, ingest, check what must hold."""
    if structural:
        ingest_bytes(folder, seed, break_structure(seed, rng))
        return
    text = replace_value(seed, rng)
    got = ingest_bytes(folder, seed, text.encode("utf-8", "surrogatepass"))
    counted = got.accepted + got.duplicates + got.rejected_records
    whole = counted >= seed.records if seed.expands else counted == seed.records
    check(got.whole_file_error is None and whole, f"{seed.fmt}: {got} of {seed.records}: {text[:300]!r}")
