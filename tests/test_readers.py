from __future__ import annotations

import json
from pathlib import Path

import pytest

from greyzone.errors import IngestError
from greyzone.ingest.formats import Format, detect_format, read_items
from greyzone.ingest.records import RawRecord, Reject

HEADER = "kind,observed_at,lon,lat,source\n"
ROW = "shelling,2024-11-03T09:15:00Z,37.18,48.28,police\n"


def items(path: Path, fmt: Format = Format.AUTO) -> tuple[list[RawRecord], list[Reject]]:
    got = list(read_items(path, fmt))
    return [i for i in got if isinstance(i, RawRecord)], [i for i in got if isinstance(i, Reject)]


def test_csv_bad_encoding_rejects_only_that_row(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(
        (HEADER + ROW).encode() + b"shelling,2024-11-03T09:15:00Z,37.18,48.28,poli\xff\xfece\n" + ROW.encode()
    )
    records, rejects = items(path)
    assert [r.row for r in records] == [1, 3]
    assert [(r.row, r.field) for r in rejects] == [(2, "(encoding)")]
    assert "UTF-8" in rejects[0].reason


def test_csv_truncated_file_rejects_the_cut_row(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(HEADER + ROW + ROW + "shelling,2024-11-03T09:1", encoding="utf-8")
    records, rejects = items(path)
    assert len(records) == 2
    assert rejects[0].row == 3 and "truncated" in rejects[0].reason


def test_csv_unterminated_quote_and_oversize_field(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    huge = "x" * 2_000_000
    path.write_text(HEADER + ROW + f'shelling,2024-11-03T09:15:00Z,37.18,48.28,"{huge}"\n' + ROW, encoding="utf-8")
    records, rejects = items(path)
    assert len(records) >= 1 and rejects
    assert any("CSV" in r.reason for r in rejects)


def test_csv_with_bom_and_multiline_text(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "\ufeffkind,observed_at,lon,lat,source,text\n"
        'shelling,2024-11-03T09:15:00Z,37.18,48.28,police,"two\nlines"\n' + ROW.rstrip() + ",\n",
        encoding="utf-8",
    )
    records, rejects = items(path)
    assert not rejects
    assert records[0].fields["text"] == "two\nlines" and records[1].row == 2


def test_jsonl_bad_lines_are_rejected_by_line(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    good = json.dumps({"kind": "shelling"})
    path.write_text(f'{good}\n[1,2]\n\n{{"kind": \n{good}\n{{"kind": "shel', encoding="utf-8")
    records, rejects = items(path)
    assert [r.row for r in records] == [1, 5]
    assert [(r.row, r.field) for r in rejects] == [(2, "(line)"), (4, "(line)"), (6, "(line)")]
    assert "cut short" in rejects[-1].reason


def test_geojson_cut_short_keeps_whole_features(tmp_path: Path) -> None:
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [37.18, 48.28]},
        "properties": {"kind": "shelling", "observed_at": "2024-11-03T09:15:00Z", "source": "x"},
    }
    text = json.dumps({"type": "FeatureCollection", "features": [feature, feature, feature]})
    path = tmp_path / "r.geojson"
    path.write_text(text[: len(text) - 40], encoding="utf-8")
    records, rejects = items(path)
    assert len(records) == 2 and records[0].fields["lon"] == 37.18
    assert rejects[0].row == 3 and "cut short" in rejects[0].reason


def test_unknown_formats_are_named(tmp_path: Path) -> None:
    path = tmp_path / "weird.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(IngestError, match="fit no known format"):
        detect_format(path)
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(IngestError):
        list(read_items(empty, Format.CSV))
    not_geo = tmp_path / "x.geojson"
    not_geo.write_text('{"type": "Topology"}', encoding="utf-8")
    with pytest.raises(IngestError, match='no "features"'):
        list(read_items(not_geo, Format.GEOJSON))
