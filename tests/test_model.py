from __future__ import annotations

from datetime import UTC, datetime, timedelta

import h3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from greyzone.errors import GreyzoneError, ReportError
from greyzone.model import Kind, Report, ShellingKind, Side, TimePrecision, lonlat_to_cells
from greyzone.model.cells import BLOCK_RES, CELL_RESOLUTIONS, cell_range, lonlats_to_cells
from greyzone.model.enums import InfraStatus, Utility, parse_enum

T0 = datetime(2024, 11, 3, 9, 15, tzinfo=UTC)


def report(**overrides: object) -> Report:
    fields: dict[str, object] = {
        "kind": Kind.SHELLING,
        "observed_at": T0,
        "lon": 37.18,
        "lat": 48.283,
        "location_precision_m": 100.0,
        "source": "police",
    }
    fields.update(overrides)
    return Report(**fields)  # type: ignore[arg-type]


def test_valid_report_gets_content_id_and_cells() -> None:
    r = report(subkind=ShellingKind.MORTAR)
    assert r.id is not None and r.id.version == 8
    assert r.id == report(subkind=ShellingKind.MORTAR).id  # same content, same id
    assert r.id != report(subkind=ShellingKind.MLRS).id
    assert h3.int_to_str(r.cells.block) == h3.latlng_to_cell(48.283, 37.18, BLOCK_RES)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ReportError) as info:
        report(lat=148.0, credibility=1.5, location_precision_m=-1.0, source=" ", side=Side.HELD)
    fields = {p.field for p in info.value.problems}
    assert fields == {"lat", "credibility", "location_precision_m", "source", "side"}
    assert isinstance(info.value, ValueError) and isinstance(info.value, GreyzoneError)
    assert "were lon and lat swapped" in str(info.value)


def test_naive_time_is_refused() -> None:
    with pytest.raises(ReportError, match="timezone-aware"):
        report(observed_at=datetime(2024, 11, 3, 9, 15))


def test_kind_specific_fields() -> None:
    with pytest.raises(ReportError, match="side: required"):
        report(kind=Kind.CONTROL_OBSERVATION)
    with pytest.raises(ReportError, match="status"):
        report(kind=Kind.INFRASTRUCTURE_STATUS, utility=Utility.POWER)
    ok = report(kind=Kind.INFRASTRUCTURE_STATUS, utility=Utility.POWER, status=InfraStatus.OUT)
    assert ok.status is InfraStatus.OUT
    with pytest.raises(ReportError, match="counts only"):
        report(kind=Kind.CASUALTIES)
    assert report(kind=Kind.CASUALTIES, killed=0, injured=3).injured == 3
    with pytest.raises(ReportError, match="casualty counts do not belong"):
        report(kind=Kind.SERVICE_STATUS, killed=1)


def test_precision_floors_time_and_defines_window() -> None:
    r = report(time_precision=TimePrecision.DAY)
    assert r.observed_at == datetime(2024, 11, 3, tzinfo=UTC)
    assert r.time_window() == (datetime(2024, 11, 3, tzinfo=UTC), datetime(2024, 11, 4, tzinfo=UTC))
    assert report(time_precision=TimePrecision.EXACT).time_window() == (T0, T0)


def test_ended_before_observed_is_refused() -> None:
    with pytest.raises(ReportError, match="ended_at"):
        report(ended_at=T0 - timedelta(minutes=1))


def test_parse_enum_lists_valid_values() -> None:
    problem = parse_enum(Side, "left", "side")
    assert not isinstance(problem, Side)
    assert "held, other_side, unknown" in problem.reason
    assert parse_enum(Side, " Held ", "side") is Side.HELD


@given(st.floats(-89.9, 89.9), st.floats(-179.9, 179.9))
def test_parent_cells_match_h3(lat: float, lon: float) -> None:
    cells = lonlat_to_cells(lon, lat)
    block = h3.latlng_to_cell(lat, lon, BLOCK_RES)
    for res, cell in zip(CELL_RESOLUTIONS, cells, strict=True):
        assert h3.int_to_str(cell) == h3.cell_to_parent(block, res)
    vectorised = lonlats_to_cells([lon], [lat])
    assert tuple(int(c) for c in vectorised[0]) == tuple(cells)
    lo, hi = cell_range(cells.district, BLOCK_RES)
    assert lo <= cells.block <= hi
    other = h3.str_to_int(h3.latlng_to_cell(-lat, lon + (90 if lon < 0 else -90), BLOCK_RES))
    assert not lo <= other <= hi


@given(st.text(alphabet="абвгґдеєжзиіїйклмнопрстуфхцчшщьюяАБВПКС'’ -", min_size=1, max_size=20))
def test_gazetteer_key_ignores_case_apostrophes_and_script(name: str) -> None:
    from greyzone.ingest.gazetteer import _TRANSLIT, name_key

    assert name_key(name) == name_key(name.upper()) == name_key(name.replace("'", "").replace("’", ""))
    latin = "".join(_TRANSLIT.get(ch, ch) for ch in name.lower())
    assert name_key(latin) == name_key(name)  # the transliterated spelling is the same place
