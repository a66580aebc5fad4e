"""A one-page SVG map of the demo scenario: streets, control areas, reports by kind, a legend.

Plain SVG (no plotting library): it opens in any browser, offline. Labelled SYNTHETIC.
"""

from __future__ import annotations

import html
import json
import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import shapely

from greyzone.model.enums import Kind, Side
from greyzone.model.report import Report

SIZE = 900
MARGIN = 40
COLOURS = {
    Kind.SHELLING: "#d7301f",
    Kind.GLIDE_BOMB: "#7a0177",
    Kind.FPV_STRIKE: "#fd8d3c",
    Kind.DRONE_SIGHTING: "#fdd0a2",
    Kind.MINE_UXO: "#636363",
    Kind.CASUALTIES: "#000000",
    Kind.EVACUATION_REQUEST: "#2171b5",
    Kind.INFRASTRUCTURE_STATUS: "#41ab5d",
    Kind.SERVICE_STATUS: "#08519c",
    Kind.CONTROL_OBSERVATION: "#969696",
}
AREA_FILL = {Side.OTHER_SIDE: "#cb181d", Side.UNKNOWN: "#969696", Side.HELD: "#2171b5"}


class _Frame:
    """Lon/lat → SVG pixels (equirectangular around the middle: metres are true at this scale)."""

    def __init__(self, bounds: tuple[float, float, float, float]) -> None:
        x0, y0, x1, y1 = bounds
        self.x0, self.y1 = x0, y1
        self.k = math.cos(math.radians((y0 + y1) / 2))
        self.scale = (SIZE - 2 * MARGIN) / max((x1 - x0) * self.k, y1 - y0)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return MARGIN + (lon - self.x0) * self.k * self.scale, MARGIN + (self.y1 - lat) * self.scale

    def path(self, coords: Iterable[Any]) -> str:
        return " ".join(
            f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(self.xy(c[0], c[1]) for c in coords)
        )


def overview_svg(streets: Path, reports: Iterable[Report], title: str) -> str:
    """The SVG text: streets from a line GeoJSON, then areas, then report points by kind."""
    lines = json.loads(streets.read_text(encoding="utf-8"))["features"]
    reports = list(reports)
    coords = [c for f in lines for c in f["geometry"]["coordinates"]]
    lons, lats = [c[0] for c in coords], [c[1] for c in coords]
    frame = _Frame((min(lons), min(lats), max(lons), max(lats)))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE + 80}" '
        f'viewBox="0 0 {SIZE} {SIZE + 80}" font-family="sans-serif">',
        f'<rect width="{SIZE}" height="{SIZE + 80}" fill="#fbfbf8"/>',
        f'<clipPath id="map"><rect width="{SIZE}" height="{SIZE}"/></clipPath>',
        '<g clip-path="url(#map)">',
    ]
    parts += _areas(frame, reports)
    for f in lines:
        width = 2.5 if f["properties"].get("highway") == "primary" else 0.8
        parts.append(
            f'<path d="{frame.path(f["geometry"]["coordinates"])}" stroke="#888" stroke-width="{width}" fill="none"/>'
        )
    parts += _points(frame, reports)
    parts.append("</g>")
    parts += _legend(reports, title, frame)
    parts.append("</svg>")
    return "\n".join(parts)


def _areas(frame: _Frame, reports: list[Report]) -> list[str]:
    out = []
    latest: dict[Side, Report] = {}
    for r in reports:
        if r.area_wkb is not None and r.side is not None:
            latest[r.side] = r  # reports come in time order: keep the newest area per side
    for side, r in latest.items():
        geom = shapely.from_wkb(r.area_wkb)
        for poly in getattr(geom, "geoms", [geom]):
            out.append(
                f'<path d="{frame.path(poly.exterior.coords)} Z" fill="{AREA_FILL[side]}" fill-opacity="0.18" '
                f'stroke="{AREA_FILL[side]}" stroke-dasharray="4 3"/>'
            )
    return out


def _points(frame: _Frame, reports: list[Report]) -> list[str]:
    out = []
    for r in reports:
        if r.area_wkb is not None:
            continue
        x, y = frame.xy(r.lon, r.lat)
        colour = COLOURS.get(r.kind, "#444")
        out.append(
            f'<circle class="report {r.kind.value}" cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{colour}" '
            'fill-opacity="0.75"/>'
        )
    return out


def _legend(reports: list[Report], title: str, frame: _Frame) -> list[str]:
    counts = Counter(r.kind for r in reports if r.area_wkb is None)
    out = [f'<text x="{MARGIN}" y="{SIZE + 22}" font-size="16" font-weight="bold">{html.escape(title)}</text>']
    x, y = float(MARGIN), SIZE + 40
    for kind, n in counts.most_common():
        label = f"{kind.value.replace('_', ' ')} {n}"
        width = 22 + 6.2 * len(label)
        if x + width > SIZE - MARGIN:
            x, y = float(MARGIN), y + 16
        out.append(f'<circle cx="{x + 5:.0f}" cy="{y}" r="5" fill="{COLOURS.get(kind, "#444")}"/>')
        out.append(f'<text x="{x + 14:.0f}" y="{y + 4}" font-size="11">{html.escape(label)}</text>')
        x += width
    km = frame.scale / (111.32 * 1.0)  # pixels per km (north–south)
    out.append(f'<path d="M{SIZE - MARGIN - km:.1f},{SIZE - 15} h{km:.1f}" stroke="#000" stroke-width="3"/>')
    out.append(f'<text x="{SIZE - MARGIN - km:.1f}" y="{SIZE - 20}" font-size="11">1 km</text>')
    return out
