"""Street networks from files → one StreetGraph: OpenStreetMap ``.osm.pbf`` / ``.osm`` / ``.osm.bz2``
(read with pyosmium), GraphML as osmnx writes it (read with networkx), and line GeoJSON (properties
``highway``, ``name``, ``oneway``). Every reader yields the same ways; one builder splits them into
streets (``routing.graph.split_ways``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from greyzone.errors import IngestError
from greyzone.routing.graph import NOT_ROADS, StreetGraph, split_ways
from greyzone.routing.turns import TurnRule, banned_turns, with_turns

Way = tuple[list[int], Any, str | None, bool, str]
ONEWAY_YES = frozenset({"yes", "true", "1", "-1"})


def read_street_graph(path: Path, turns: bool = True) -> StreetGraph:
    """The street graph of ``path``, by its extension, with the OSM file's turn restrictions (unless
    ``turns`` is False; ``routing.turns``); IngestError naming the problem otherwise."""
    name = path.name.lower()
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    rules: list[TurnRule] = []
    if name.endswith((".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz")):
        ways, rules = _osm_ways(path)
    elif name.endswith(".graphml"):
        return _graphml(path)
    elif name.endswith((".geojson", ".json")):
        ways = _geojson_ways(path)
    else:
        raise IngestError(f"{path}: expected .osm.pbf, .osm, .osm.bz2, .graphml or .geojson")
    if not ways:
        raise IngestError(f"{path}: no streets (no ways tagged highway=*) in it")
    graph = StreetGraph.from_edges(*split_ways(ways))
    return with_turns(graph, banned_turns(graph, rules)[0]) if rules and turns else graph


def _oneway(value: Any) -> tuple[bool, bool]:
    """(one-way, reversed) from an OSM ``oneway`` value."""
    text = str(value).strip().lower() if value is not None else ""
    return text in ONEWAY_YES, text == "-1"


def _osm_ways(path: Path) -> tuple[list[Way], list[TurnRule]]:
    """The ways tagged highway=*, and the turn restrictions whose via is a node of them."""
    import osmium

    ways: list[Way] = []
    points: dict[int, list[tuple[int, tuple[float, float]]]] = {}  # each street way's located nodes
    relations: list[tuple[str, int, int, int]] = []  # kind, from way, via node, to way

    class Handler(osmium.SimpleHandler):
        def way(self, w: Any) -> None:
            highway = w.tags.get("highway")
            if highway is None or highway in NOT_ROADS or w.tags.get("area") == "yes" or len(w.nodes) < 2:
                return
            one, backwards = _oneway(w.tags.get("oneway"))
            name = w.tags.get("name") or ""
            points[w.id] = [(n.ref, (n.lon, n.lat)) for n in w.nodes if n.location.valid()]
            for ids, located in _located_runs(w.nodes):  # a way cut by the extract's edge keeps its inside runs
                ways.append(
                    (ids[::-1], located[::-1], highway, one, name) if backwards else (ids, located, highway, one, name)
                )

        def relation(self, r: Any) -> None:
            if r.tags.get("type") != "restriction":
                return
            kind = r.tags.get("restriction") or r.tags.get("restriction:motorcar") or ""
            role = {(m.role, m.type): m.ref for m in r.members}
            if ("from", "w") in role and ("via", "n") in role and ("to", "w") in role:
                relations.append((kind, role[("from", "w")], role[("via", "n")], role[("to", "w")]))

    try:
        Handler().apply_file(str(path), locations=True)
    except RuntimeError as exc:
        raise IngestError(f"{path}: not a readable OpenStreetMap file: {exc}") from None
    return ways, [rule for r in relations if (rule := _turn_rule(r, points)) is not None]


def _turn_rule(
    relation: tuple[str, int, int, int], points: dict[int, list[tuple[int, tuple[float, float]]]]
) -> TurnRule | None:
    """A restriction as the junction and the points next to it on its from and to ways (None when a
    way is not a street of the extract or does not pass the via node)."""
    kind, from_way, via, to_way = relation

    def beside(way: int) -> tuple[tuple[float, float] | None, list[tuple[float, float]]]:
        nodes = points.get(way, [])
        at = [i for i, (ref, _) in enumerate(nodes) if ref == via]
        near = [nodes[j][1] for i in at for j in (i - 1, i + 1) if 0 <= j < len(nodes)]
        return (nodes[at[0]][1] if at else None), near

    here, before = beside(from_way)
    _, after = beside(to_way)
    if here is None or not before or not after:
        return None
    return TurnRule(kind, here, tuple(before), tuple(after))


def _located_runs(nodes: Any) -> list[tuple[list[int], Any]]:
    """The runs of a way's nodes that have a location (≥ 2 nodes each)."""
    runs: list[tuple[list[int], list[tuple[float, float]]]] = [([], [])]
    for n in nodes:
        if n.location.valid():
            runs[-1][0].append(n.ref)
            runs[-1][1].append((n.lon, n.lat))
        elif runs[-1][0]:
            runs.append(([], []))
    return [(ids, np.array(points)) for ids, points in runs if len(ids) >= 2]


def _geojson_ways(path: Path) -> list[Way]:
    """Line features; lines that cross are split where they cross (a drawn network has no shared
    junction nodes, so every crossing is taken as a junction — bridges drawn in GeoJSON are not)."""
    import shapely
    from shapely.geometry import shape

    from greyzone.ingest.geojson import iter_features

    lines, attrs = [], []
    for n, feature in iter_features(path):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") not in ("LineString", "MultiLineString"):
            raise IngestError(f"{path}:{n}: geometry: expected a LineString or MultiLineString street")
        props = feature.get("properties") or {}  # type: ignore[union-attr]
        one, backwards = _oneway(props.get("oneway"))
        for part in shapely.get_parts(shape(geometry)):
            lines.append(shapely.reverse(part) if backwards else part)
            attrs.append((props.get("highway"), one, str(props.get("name") or "")))
    if not lines:
        return []
    pieces = shapely.get_parts(shapely.node(shapely.multilinestrings(lines)))
    tree = shapely.STRtree(lines)
    owner_piece, owner_line = tree.query(
        shapely.line_interpolate_point(pieces, 0.5, normalized=True), predicate="dwithin", distance=1e-9
    )
    owner = np.full(len(pieces), -1)
    owner[owner_piece[::-1]] = owner_line[::-1]  # the first line that holds each piece's midpoint
    ids: dict[tuple[float, float], int] = {}
    ways: list[Way] = []
    for piece, line in zip(pieces, owner.tolist(), strict=True):
        if line < 0:
            continue
        points = np.asarray(piece.coords, dtype=np.float64)[:, :2]
        original = np.asarray(lines[line].coords)[:, :2]
        if len(original) > 1 and _runs_backwards(points, original):
            points = points[::-1]  # noding keeps no direction: restore the line's own (one-way streets)
        node_ids = [ids.setdefault((round(x, 7), round(y, 7)), len(ids)) for x, y in points.tolist()]
        highway, one, name = attrs[line]
        ways.append((node_ids, points, highway, one, name))
    return ways


def _runs_backwards(piece: Any, line: Any) -> bool:
    import shapely
    from shapely.geometry import LineString, Point

    whole = LineString(line)
    a = shapely.line_locate_point(whole, Point(piece[0]))
    b = shapely.line_locate_point(whole, Point(piece[-1]))
    return bool(b < a)


def _graphml(path: Path) -> StreetGraph:
    """osmnx's GraphML: nodes with x, y; edges with length, highway, oneway, name, geometry (WKT)."""
    import networkx as nx
    import shapely

    from greyzone.routing.graph import Edges, RoadClass, path_length_m

    try:
        g = nx.read_graphml(path)
    except Exception as exc:
        raise IngestError(f"{path}: not a readable GraphML file: {exc}") from None
    nodes = {n: i for i, n in enumerate(g.nodes)}
    try:
        lon = np.array([float(g.nodes[n]["x"]) for n in g.nodes])
        lat = np.array([float(g.nodes[n]["y"]) for n in g.nodes])
    except KeyError:
        raise IngestError(f"{path}: GraphML nodes need x and y (lon, lat), as osmnx writes them") from None
    src, dst, length, classes, names, shapes = [], [], [], [], [], []
    for u, v, data in g.edges(data=True):
        src.append(nodes[u])
        dst.append(nodes[v])
        geometry = data.get("geometry")
        shape = (
            np.array(shapely.from_wkt(geometry).coords)[:, :2]
            if geometry
            else np.array([[lon[nodes[u]], lat[nodes[u]]], [lon[nodes[v]], lat[nodes[v]]]])
        )
        length.append(float(data.get("length") or path_length_m(shape)))
        highway = str(data.get("highway") or "").strip("[]'\" ").split("'")[0]
        classes.append(int(RoadClass.of(highway)))
        names.append(str(data.get("name") or ""))
        shapes.append(shape)
    # osmnx stores each direction as its own edge: every edge here is one-way
    edges = Edges(
        np.array(src, dtype=np.int64),
        np.array(dst, dtype=np.int64),
        np.array(length),
        np.array(classes, dtype=np.int8),
        np.ones(len(src), dtype=bool),
        names,
        shapes,
    )
    return StreetGraph.from_edges(lon, lat, edges)


def graph_summary(graph: StreetGraph) -> dict[str, Any]:
    """Counts and extent, for people."""
    copies = graph.junction() != np.arange(graph.n_nodes)
    return {
        "nodes": graph.n_nodes - int(copies.sum()),
        "edges": int((~graph.is_copy_edge()).sum()),
        "restricted_junctions": len(set(graph.junction()[copies].tolist())),  # turn restrictions (routing.turns)
        "turn_copies": int(copies.sum()),
        "km": round(float(graph.length_m[~graph.is_copy_edge()].sum()) / 1000, 2),
        "bbox": [round(float(v), 5) for v in (graph.lon.min(), graph.lat.min(), graph.lon.max(), graph.lat.max())],
    }
