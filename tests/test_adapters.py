from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from greyzone.ingest.build import BuildContext, build_batch
from greyzone.ingest.formats import Format, detect_format, read_items
from greyzone.ingest.keywords import kind_from_text
from greyzone.ingest.records import RawRecord, Reject
from greyzone.model import Kind, ShellingKind, Side

DATA = Path(__file__).parent / "data"


def load(name: str) -> tuple[list[RawRecord], list[Reject], object]:
    items = list(read_items(DATA / name, Format.AUTO))
    records = [i for i in items if isinstance(i, RawRecord)]
    rejects = [i for i in items if isinstance(i, Reject)]
    batch, more = build_batch(records, BuildContext())
    return records, rejects + more, batch


def test_acled_kinds_sides_and_rejects() -> None:
    assert detect_format(DATA / "acled_sample.csv") is Format.ACLED
    records, rejects, batch = load("acled_sample.csv")
    c = batch.cols  # type: ignore[attr-defined]
    assert c.kind == [Kind.SHELLING, Kind.FPV_STRIKE, Kind.GLIDE_BOMB, Kind.CONTROL_OBSERVATION]
    assert c.subkind[0] is ShellingKind.MORTAR
    assert c.side[3] is Side.OTHER_SIDE
    assert c.killed[1] == 1 and list(c.location_precision_m) == [2_000.0, 2_000.0, 2_000.0, 15_000.0]
    assert c.observed_s[2] == datetime(2024, 11, 4, tzinfo=UTC).timestamp()
    assert {(r.row, r.field) for r in rejects} == {(5, "sub_event_type"), (6, "event_date")}
    again, _, _ = load("acled_sample.csv")
    assert [r.fields["id"] for r in again] == [r.fields["id"] for r in records]  # stable ids


def test_viina_kinds_sides_times_and_rejects() -> None:
    assert detect_format(DATA / "viina_sample.csv") is Format.VIINA
    _, rejects, batch = load("viina_sample.csv")
    c = batch.cols  # type: ignore[attr-defined]
    assert c.kind == [Kind.SHELLING, Kind.GLIDE_BOMB, Kind.CONTROL_OBSERVATION]
    assert c.subkind[0] is ShellingKind.MORTAR
    assert c.side[2] is Side.OTHER_SIDE
    assert c.source[0] == "viina:ukrinform"
    assert c.observed_s[0] == datetime(2024, 11, 3, tzinfo=UTC).timestamp()  # day precision, Kyiv day
    assert [(r.row, r.field) for r in rejects] == [(4, "t_mil")]


def test_keywords_in_three_languages() -> None:
    assert kind_from_text("Russian forces shelled the town with MLRS Grad") == (Kind.SHELLING, ShellingKind.MLRS)
    assert kind_from_text("Окупанти скинули вибухівку з дрона") == (Kind.DRONE_DROP, None)
    assert kind_from_text("Удар управляемой авиабомбой по городу") == (Kind.GLIDE_BOMB, None)
    assert kind_from_text("FPV-дрон атакував автомобіль") == (Kind.FPV_STRIKE, None)
    assert kind_from_text("Ракетний удар по Покровську") == (Kind.MISSILE, None)
    assert kind_from_text("The mayor opened a school") is None


def test_viina_control_table_emits_changes_and_weekly_reconfirmations() -> None:
    assert detect_format(DATA / "viina_control_sample.csv") is Format.SETTLEMENTS
    _, rejects, batch = load("viina_control_sample.csv")
    c = batch.cols  # type: ignore[attr-defined]
    assert set(c.kind) == {Kind.CONTROL_OBSERVATION}
    by_place: dict[str, list[tuple[int, Side]]] = {}
    for place, t, side in zip(c.place, c.observed_s, c.side, strict=True):
        by_place.setdefault(place, []).append((datetime.fromtimestamp(t, UTC).day, side))
    assert [d for d, _ in by_place["Hryshyne"]] == [31, 7, 14]  # Nov 1, 8, 15 Kyiv days (UTC: the evening before)
    selydove = by_place["Selydove"]
    assert selydove[0] == (31, Side.HELD) and (5, Side.HELD) in selydove and (5, Side.OTHER_SIDE) in selydove
    assert selydove[-2:] == [(10, Side.OTHER_SIDE), (17, Side.OTHER_SIDE)]  # changed on the 11th, again a week on
    assert [(r.row, r.field, r.reason[:8]) for r in rejects] == [(3, "ch_20241106", "expected")]
    assert set(c.location_precision_m) == {1_500.0}


def test_settlement_list_sides_radius_and_rejects() -> None:
    assert detect_format(DATA / "settlement_list_sample.csv") is Format.SETTLEMENTS
    _, rejects, batch = load("settlement_list_sample.csv")
    c = batch.cols  # type: ignore[attr-defined]
    got = sorted(zip(c.place, c.side, c.location_precision_m, strict=True))
    assert got == [
        ("Hryshyne", Side.HELD, 1_200.0),
        ("Myrnohrad", Side.HELD, 2_500.0),
        ("Myrnohrad", Side.OTHER_SIDE, 2_500.0),
        ("Selydove", Side.OTHER_SIDE, 1_500.0),
    ]
    assert set(c.source) == {"crew-list"}
    assert sorted((r.row, r.field) for r in rejects) == [(4, "place"), (5, "status"), (6, "date")]
