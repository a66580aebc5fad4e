from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greyzone.ingest.build import BuildContext, build_batch
from greyzone.ingest.gazetteer import Gazetteer, Place
from greyzone.ingest.records import RawRecord
from greyzone.model import Kind, Report, TimePrecision
from greyzone.model.report import content_id
from strategies import raw_fields

GOOD = {
    "kind": "shelling",
    "observed_at": "2024-11-03T09:15:00Z",
    "lon": "37.18",
    "lat": "48.283",
    "location_precision_m": "100",
    "source": "police",
}


def build(*rows: dict[str, Any], **ctx: Any) -> tuple[Any, list[Any]]:
    return build_batch([RawRecord("f.csv", i + 1, r) for i, r in enumerate(rows)], BuildContext(**ctx))


def reasons(rejects: list[Any]) -> dict[tuple[int, str], str]:
    return {(r.row, r.field): r.reason for r in rejects}


def test_each_kind_of_bad_input_is_rejected_with_file_row_field_and_reason() -> None:
    batch, rejects = build(
        GOOD,
        {**GOOD, "lon": "48.283", "lat": "37.18"},  # swapped
        {**GOOD, "lat": "91"},
        {**GOOD, "observed_at": "2024-11-03T09:15:00"},  # naive
        {**GOOD, "observed_at": ""},
        {**GOOD, "kind": "tank_parade"},
        {**GOOD, "credibility": "1.01"},
        {**GOOD, "text": "x" * 10_001},
        {**GOOD, "lon": "east"},
        {**GOOD, "id": "not-a-uuid"},
        now_s=datetime(2025, 1, 1, tzinfo=UTC).timestamp(),
    )
    assert len(batch) == 1
    got = reasons(rejects)
    assert "swapped" in got[(2, "lat")]
    assert "[-90, 90]" in got[(3, "lat")]
    assert "timezone-aware" in got[(4, "observed_at")]
    assert "required" in got[(5, "observed_at")]
    assert "tank_parade" in got[(6, "kind")] and "shelling" in got[(6, "kind")]
    assert "[0, 1]" in got[(7, "credibility")]
    assert "at most 10000 characters" in got[(8, "text")]
    assert "expected a number" in got[(9, "lon")]
    assert "UUID" in got[(10, "id")]
    assert all(r.file == "f.csv" for r in rejects)


def test_future_time_is_rejected_when_now_is_known() -> None:
    _, rejects = build(
        {**GOOD, "observed_at": "2030-01-01T00:00:00Z"}, now_s=datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    )
    assert "future" in rejects[0].reason


def test_aliases_defaults_and_date_only_times() -> None:
    batch, rejects = build({**GOOD, "kind": "Mortar", "observed_at": "2024-11-03", "location_precision_m": ""})
    assert not rejects
    c = batch.cols
    assert c.kind == [Kind.SHELLING] and c.subkind[0].value == "mortar"
    assert c.time_precision == [TimePrecision.DAY]
    assert c.observed_s[0] == datetime(2024, 11, 3, tzinfo=UTC).timestamp()
    assert c.location_precision_m[0] == 1000.0 and c.credibility[0] == 0.5


def test_client_uuid_is_kept_and_reporter_is_only_a_keyed_hash() -> None:
    rid = str(uuid.uuid4())
    batch, _ = build({**GOOD, "id": rid, "reporter": "Olena +380501234567"}, reporter_key=b"k" * 32)
    assert batch.ids[0] == uuid.UUID(rid).bytes
    digest = batch.reporter_hash[0]
    assert digest is not None and len(digest) == 16 and b"Olena" not in digest
    other, _ = build({**GOOD, "reporter": "Olena +380501234567"}, reporter_key=b"j" * 32)
    assert other.reporter_hash[0] != digest  # without the key, the hash links nothing
    no_key, _ = build({**GOOD, "reporter": "Olena"})
    assert no_key.reporter_hash[0] is None


def test_place_names_resolve_through_the_gazetteer() -> None:
    g = Gazetteer.from_places([("Покровськ", Place("Pokrovsk", 37.177, 48.277, 5000.0, "M", "test"))])
    batch, rejects = build(
        {**GOOD, "lon": "", "lat": "", "place": "Pokrovs'k", "location_precision_m": "100"}, gazetteer=g
    )
    assert not rejects
    assert batch.cols.lon[0] == 37.177 and batch.cols.location_precision_m[0] == 5000.0
    _, rejects = build({**GOOD, "lon": "", "lat": "", "place": "Atlantis"}, gazetteer=g)
    assert "not in the gazetteer" in rejects[0].reason


def test_area_reports_get_a_point_inside_and_a_radius() -> None:
    square = {
        "type": "Polygon",
        "coordinates": [[[37.0, 48.0], [37.2, 48.0], [37.2, 48.2], [37.0, 48.2], [37.0, 48.0]]],
    }
    batch, rejects = build(
        {
            "kind": "control_observation",
            "side": "other_side",
            "observed_at": "2024-11-03T09:15:00Z",
            "geometry": square,
            "source": "map",
        }
    )
    assert not rejects
    assert 37.0 < batch.cols.lon[0] < 37.2 and 48.0 < batch.cols.lat[0] < 48.2
    assert 10_000 < batch.cols.location_precision_m[0] < 20_000
    assert batch.cols.area_wkb[0] is not None
    _, rejects = build({**GOOD, "lon": None, "lat": None, "geometry": {"type": "Polygon", "coordinates": "nope"}})
    assert rejects[0].field == "geometry"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_fields(), min_size=1, max_size=12))
def test_builder_partitions_rows_and_agrees_with_report(rows: list[dict[str, Any]]) -> None:
    """Every row is either accepted or rejected with reasons; accepted rows are valid Reports with the same id."""
    batch, rejects = build(*rows)
    rejected_rows = {r.row for r in rejects}
    assert len(batch) + len(rejected_rows) == len(rows)
    assert all(r.field and r.reason for r in rejects)
    c = batch.cols
    for j in range(len(batch)):
        assert -90 <= c.lat[j] <= 90 and -180 <= c.lon[j] <= 180 and 0 <= c.credibility[j] <= 1
        r = Report(
            kind=c.kind[j],
            observed_at=datetime.fromtimestamp(c.observed_s[j], UTC),
            lon=float(c.lon[j]),
            lat=float(c.lat[j]),
            location_precision_m=float(c.location_precision_m[j]),
            source=c.source[j],
            time_precision=c.time_precision[j],
            credibility=float(c.credibility[j]),
            subkind=c.subkind[j],
            side=c.side[j],
            utility=c.utility[j],
            service=c.service[j],
            status=c.status[j],
            text=c.text[j],
            killed=None if np.isnan(c.killed[j]) else int(c.killed[j]),
            injured=None if np.isnan(c.injured[j]) else int(c.injured[j]),
            ended_at=None if np.isnan(c.ended_s[j]) else datetime.fromtimestamp(c.ended_s[j], UTC),
            reported_at=None if np.isnan(c.reported_s[j]) else datetime.fromtimestamp(c.reported_s[j], UTC),
        )
        assert content_id(r).bytes == batch.ids[j]


def test_json_booleans_and_non_finite_numbers_are_not_numbers() -> None:
    _, rejects = build(GOOD, {**GOOD, "lon": True}, {**GOOD, "credibility": "nan"}, {**GOOD, "lat": float("inf")})
    assert {(r.row, r.field) for r in rejects} == {(2, "lon"), (3, "credibility"), (4, "lat")}
