"""Reading what an SVG of ours shows: its named groups, the points, lines and text inside them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def parse(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 (our own output, in tests)


def group(root: ET.Element, gid: str) -> ET.Element | None:
    """The element with that id (matplotlib gives each artist with a gid a <g id=...>)."""
    return next((e for e in root.iter() if e.get("id") == gid), None)


def ids(root: ET.Element, prefix: str) -> list[str]:
    return [str(e.get("id")) for e in root.iter() if str(e.get("id", "")).startswith(prefix)]


def marks(element: ET.Element) -> list[tuple[float, float]]:
    """The (x, y) of every marker drawn in a group (<use> elements)."""
    return [(float(u.get("x", "nan")), float(u.get("y", "nan"))) for u in element.iter(f"{SVG}use")]


def path_points(element: ET.Element) -> list[list[tuple[float, float]]]:
    """The points of every path in a group, one list per path."""
    out = []
    for p in element.iter(f"{SVG}path"):
        values = [float(v) for v in NUMBER.findall(p.get("d", ""))]
        out.append(list(zip(values[0::2], values[1::2], strict=False)))
    return out


def texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()).strip() for t in element.iter(f"{SVG}text")]


def size(root: ET.Element) -> tuple[float, float]:
    """Width and height in points."""
    _, _, w, h = (float(v) for v in root.get("viewBox", "0 0 0 0").split())
    return w, h
