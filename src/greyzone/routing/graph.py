"""A city's street network as a compact directed graph (pure; no I/O).

Nodes are street junctions and dead ends (lon, lat); an edge is the street between two of them, with
its length, road class, name and the points of its shape. The graph is stored by source node in
CSR form (``indptr``, ``target``): the edges leaving node i are ``indptr[i]:indptr[i + 1]``. A
two-way street is two edges, a one-way street one. ``to_bytes``/``from_bytes`` give the whole graph
as one compressed NumPy archive, which the store keeps with the city.

Snapping a point to the network finds its nearest node with a k-d tree and says how far it is; a
trip's ends are snapped *onto the street* instead (``snap_onto``: the nearest point of any street's
shape, with how far along the street it lies) and the graph is split there (``with_stops``: a virtual
junction at the point, the street — both directions of a two-way one — cut in two), so a pick-up in
the middle of a long street starts there, not at the nearest junction.
"""

from __future__ import annotations

import io
import math
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
M_PER_DEG = 111_320.0


class RoadClass(IntEnum):
    """OpenStreetMap ``highway`` values, grouped (``*_link`` counts as its road)."""

    MOTORWAY = 0
    TRUNK = 1
    PRIMARY = 2
    SECONDARY = 3
    TERTIARY = 4
    UNCLASSIFIED = 5
    RESIDENTIAL = 6
    SERVICE = 7
    LIVING_STREET = 8
    TRACK = 9
    PATH = 10  # path, footway, pedestrian, bridleway, corridor
    CYCLEWAY = 11
    STEPS = 12
    OTHER = 13

    @staticmethod
    def of(highway: str | None) -> RoadClass:
        value = (highway or "").strip().lower().removesuffix("_link")
        aliases = {"footway": "path", "pedestrian": "path", "bridleway": "path", "corridor": "path", "road": "other"}
        value = aliases.get(value, value)
        return RoadClass.__members__.get(value.upper(), RoadClass.OTHER)


#: ``highway`` values that are not ways anyone moves along (planned, closed, areas of other use).
NOT_ROADS = frozenset(
    {
        "proposed",
        "construction",
        "abandoned",
        "platform",
        "raceway",
        "bus_stop",
        "elevator",
        "rest_area",
        "services",
        "razed",
        "disused",
    }
)


@dataclass(frozen=True)
class Edges:
    """Undirected or one-way streets between nodes, before the graph is built."""

    source: Ints
    target: Ints
    length_m: Floats
    road_class: npt.NDArray[np.int8]
    oneway: npt.NDArray[np.bool_]
    name: list[str]
    shape: list[Floats]  # per edge: (k, 2) lon/lat points from source to target


@dataclass(frozen=True, slots=True)
class OnStreet:
    """Where a point meets the street network: the street, the share of its length from its source
    to the point, the point on the street, and how far the given point was from it."""

    edge: int
    fraction: float
    lon: float
    lat: float
    distance_m: float
    segment: int  # the point lies between shape points ``segment`` and ``segment + 1`` of the street


@dataclass(frozen=True)
class StreetGraph:
    lon: Floats
    lat: Floats
    indptr: Ints
    target: Ints
    length_m: Floats
    road_class: npt.NDArray[np.int8]
    name_id: Ints  # index into ``names``
    names: list[str]
    shape_offset: Ints  # edge e's shape is shape_lonlat[shape_offset[e]:shape_offset[e + 1]]
    shape_lonlat: Floats
    twin: Ints | None = None  # per node, the junction it is a copy of (``routing.turns``); None: no copies
    _tree: list[cKDTree] = field(default_factory=list, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        return len(self.lon)

    @property
    def n_edges(self) -> int:
        return len(self.target)

    def source(self) -> Ints:
        """The source node of every edge (CSR expanded)."""
        return np.repeat(np.arange(self.n_nodes, dtype=np.int64), np.diff(self.indptr))

    def junction(self) -> Ints:
        """Per node, the junction it stands for: itself, or the junction a turn copy was made of."""
        return np.arange(self.n_nodes, dtype=np.int64) if self.twin is None else self.twin

    def is_copy_edge(self) -> npt.NDArray[np.bool_]:
        """Per edge, whether it leaves a turn copy (the same street as an edge of the junction itself)."""
        source = self.source()
        return np.zeros(self.n_edges, dtype=bool) if self.twin is None else self.twin[source] != source

    @staticmethod
    def from_edges(lon: Floats, lat: Floats, edges: Edges) -> StreetGraph:
        """The directed graph: each street one way, or both unless it is one-way."""
        two_way = ~edges.oneway
        src = np.concatenate([edges.source, edges.target[two_way]])
        dst = np.concatenate([edges.target, edges.source[two_way]])
        back = np.flatnonzero(two_way)
        which = np.concatenate([np.arange(len(edges.source)), back])
        reverse = np.concatenate([np.zeros(len(edges.source), dtype=bool), np.ones(back.size, dtype=bool)])
        order = np.lexsort((dst, src))
        src, dst, which, reverse = src[order], dst[order], which[order], reverse[order]
        names = sorted(set(edges.name))
        name_index = {n: i for i, n in enumerate(names)}
        shapes = [
            edges.shape[w][::-1] if r else edges.shape[w] for w, r in zip(which.tolist(), reverse.tolist(), strict=True)
        ]
        sizes = np.array([len(s) for s in shapes], dtype=np.int64)
        return StreetGraph(
            np.asarray(lon, dtype=np.float64),
            np.asarray(lat, dtype=np.float64),
            np.searchsorted(src, np.arange(len(lon) + 1)).astype(np.int64),
            dst.astype(np.int64),
            edges.length_m[which],
            edges.road_class[which],
            np.array([name_index[edges.name[w]] for w in which.tolist()], dtype=np.int64),
            names,
            np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
            np.concatenate(shapes) if shapes else np.zeros((0, 2)),
        )

    def snap(self, lon: float, lat: float) -> tuple[int, float]:
        """(nearest junction, its distance in metres) of a point; never a turn copy (a copy stands at
        its junction's place but keeps only some of its streets)."""
        real = np.flatnonzero(self.junction() == np.arange(self.n_nodes))
        if not self._tree:
            self._tree.append(cKDTree(np.column_stack([self.lon[real] * self._k, self.lat[real]])))
        distance, node = self._tree[0].query([lon * self._k, lat])
        return int(real[node]), float(distance) * M_PER_DEG

    @property
    def _k(self) -> float:
        return math.cos(math.radians(float(self.lat.mean()))) if self.n_nodes else 1.0

    def snap_onto(self, lon: float, lat: float, classes: Collection[int] | None = None) -> OnStreet:
        """The nearest point of any street's shape to (lon, lat) — of a street of ``classes`` (road
        classes: those a mode can use) where given and there is one: the street, how far along it (as a
        share of its length), the point, and how far it is (metres)."""
        k = self._k
        xy = self.shape_lonlat * np.array([k * M_PER_DEG, M_PER_DEG])
        q = np.array([lon * k * M_PER_DEG, lat * M_PER_DEG])
        last = np.zeros(len(xy), dtype=bool)
        last[self.shape_offset[1:] - 1] = True  # a shape's last point starts no segment
        if self.twin is not None:  # a turn copy's streets are the junction's own: snap onto those
            last |= np.repeat(self.is_copy_edge(), np.diff(self.shape_offset))
        if classes is not None:
            other = np.repeat(~np.isin(self.road_class, list(classes)), np.diff(self.shape_offset))
            last |= other if not (last | other).all() else False
        start = np.flatnonzero(~last)
        a, b = xy[start], xy[start + 1]
        ab = b - a
        seg2 = np.einsum("ij,ij->i", ab, ab)
        t = np.clip(np.einsum("ij,ij->i", q - a, ab) / np.where(seg2 > 0, seg2, 1.0), 0.0, 1.0)
        near = a + t[:, None] * ab
        d2 = np.einsum("ij,ij->i", near - q, near - q)
        best = int(np.argmin(d2))
        i = int(start[best])
        edge = int(np.searchsorted(self.shape_offset, i, side="right") - 1)
        lo, hi = int(self.shape_offset[edge]), int(self.shape_offset[edge + 1])
        pieces = np.sqrt(np.einsum("ij,ij->i", np.diff(xy[lo:hi], axis=0), np.diff(xy[lo:hi], axis=0)))
        total = float(pieces.sum())
        along = float(pieces[: i - lo].sum() + t[best] * math.sqrt(seg2[best]))
        point = self.shape_lonlat[i] + t[best] * (self.shape_lonlat[i + 1] - self.shape_lonlat[i])
        fraction = along / total if total > 0 else 0.0
        return OnStreet(edge, fraction, float(point[0]), float(point[1]), math.sqrt(float(d2[best])), i - lo)

    def with_stops(
        self, points: list[tuple[float, float]], classes: Collection[int] | None = None
    ) -> tuple[StreetGraph, list[int], list[OnStreet]]:
        """The graph split at each point's nearest point of a street (of ``classes`` where given:
        ``snap_onto``; a point within 1 m of a junction takes the junction), the node of each point, and
        where each was snapped."""
        graph, nodes, snaps = self, [], []
        for lon, lat in points:
            on = graph.snap_onto(lon, lat, classes)
            graph, node = graph.split_at(on)
            nodes.append(node)
            snaps.append(on)
        return graph, nodes, snaps

    def split_at(self, on: OnStreet, near_m: float = 1.0) -> tuple[StreetGraph, int]:
        """The graph with a junction at ``on`` (its street, and the same street the other way if it is
        two-way, cut there), and that junction; an end within ``near_m`` of a junction is the junction."""
        e, source, target = on.edge, self.source(), self.target
        length = float(self.length_m[e])
        turns = self.junction()
        if on.fraction * length < near_m or (1.0 - on.fraction) * length < near_m:
            end = int(source[e]) if on.fraction * length < 1.0 else int(target[e])
            if (turns == turns[end]).sum() == 1:
                return self, end
            # a junction with turn restrictions (its copies): a way may reach it only by a turn it
            # bans, so the stop stands on the street 1 m from it (half the street if shorter)
            return self.split_at(self._into(on, min(1.0, length / 2) / length if length > 0 else 0.5), near_m=0.0)
        shape = self.shape_lonlat[self.shape_offset[e] : self.shape_offset[e + 1]]
        u, v = int(source[e]), int(target[e])
        ahead, back = (
            self._same_street(e, turns[u], turns[v], shape),
            self._same_street(e, turns[v], turns[u], shape[::-1]),
        )
        o = self.n_nodes
        point = np.array([[on.lon, on.lat]])
        head = np.concatenate([shape[: on.segment + 1], point])  # u → o
        tail = np.concatenate([point, shape[on.segment + 1 :]])  # o → v
        along, rest = on.fraction * length, (1.0 - on.fraction) * length
        # every edge of the street (a turn copy's too) now ends at o; one edge goes on from o each way
        new = [(int(source[r]), o, along, head) for r in ahead] + [(o, int(target[ahead[0]]), rest, tail)]
        if back:
            new += [(int(source[r]), o, rest, tail[::-1]) for r in back]
            new += [(o, int(target[back[0]]), along, head[::-1])]
        drop = {*ahead, *back}
        keep = np.array([i for i in range(self.n_edges) if i not in drop], dtype=np.int64)
        src = np.concatenate([source[keep], [n[0] for n in new]]).astype(np.int64)
        dst = np.concatenate([target[keep], [n[1] for n in new]]).astype(np.int64)
        length_m = np.concatenate([self.length_m[keep], [n[2] for n in new]])
        road_class = np.concatenate([self.road_class[keep], np.full(len(new), self.road_class[e])]).astype(np.int8)
        name_id = np.concatenate([self.name_id[keep], np.full(len(new), self.name_id[e])]).astype(np.int64)
        starts, sizes = self.shape_offset[keep], np.diff(self.shape_offset)[keep]
        gather = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes) + np.arange(int(sizes.sum()))
        shapes = [self.shape_lonlat[gather], *(n[3] for n in new)]
        all_sizes = np.concatenate([sizes, [len(n[3]) for n in new]]).astype(np.int64)
        order = np.argsort(src, kind="stable")
        flat = np.concatenate(shapes)
        offsets = np.concatenate([[0], np.cumsum(all_sizes)]).astype(np.int64)
        sizes_sorted = all_sizes[order]
        pick = np.repeat(offsets[:-1][order] - np.concatenate([[0], np.cumsum(sizes_sorted)[:-1]]), sizes_sorted)
        pick = pick + np.arange(int(sizes_sorted.sum()))
        n_nodes = self.n_nodes + 1
        graph = StreetGraph(
            np.append(self.lon, on.lon),
            np.append(self.lat, on.lat),
            np.searchsorted(src[order], np.arange(n_nodes + 1)).astype(np.int64),
            dst[order],
            length_m[order],
            road_class[order],
            name_id[order],
            self.names,
            np.concatenate([[0], np.cumsum(sizes_sorted)]).astype(np.int64),
            flat[pick],
            None if self.twin is None else np.append(self.twin, o),
        )
        return graph, o

    def _same_street(self, e: int, a: int, b: int, shape: Floats) -> list[int]:
        """The edges from junction ``a`` to junction ``b`` (their turn copies included) along ``shape``:
        ``e`` first when it is one of them."""
        turns = self.junction()
        found = [
            r
            for x in np.flatnonzero(turns == a).tolist()
            for r in range(int(self.indptr[x]), int(self.indptr[x + 1]))
            if turns[self.target[r]] == b
            and self.shape_offset[r + 1] - self.shape_offset[r] == len(shape)
            and np.allclose(self.shape_lonlat[self.shape_offset[r] : self.shape_offset[r + 1]], shape)
        ]
        return sorted(found, key=lambda r: r != e)

    def _into(self, on: OnStreet, share: float) -> OnStreet:
        """``on`` moved to ``share`` of its street's length from the nearer end."""
        e = on.edge
        shape = self.shape_lonlat[self.shape_offset[e] : self.shape_offset[e + 1]]
        fraction = share if on.fraction < 0.5 else 1.0 - share
        steps = np.hypot(*(np.diff(shape, axis=0) * [math.cos(math.radians(float(shape[0, 1]))), 1.0]).T)
        along = np.concatenate([[0.0], np.cumsum(steps)]) / max(float(steps.sum()), 1e-12)
        segment = min(int(np.searchsorted(along, fraction, side="right")) - 1, len(shape) - 2)
        t = (fraction - along[segment]) / max(along[segment + 1] - along[segment], 1e-12)
        point = shape[segment] + t * (shape[segment + 1] - shape[segment])
        return OnStreet(e, fraction, float(point[0]), float(point[1]), on.distance_m, segment)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        twin: dict[str, Ints] = {} if self.twin is None else {"twin": self.twin}
        np.savez_compressed(
            out,
            lon=self.lon,
            lat=self.lat,
            indptr=self.indptr,
            target=self.target,
            length_m=self.length_m,
            road_class=self.road_class,
            name_id=self.name_id,
            names=np.array(self.names, dtype=np.str_),
            shape_offset=self.shape_offset,
            shape_lonlat=self.shape_lonlat,
            **twin,  # type: ignore[arg-type]
        )
        return out.getvalue()

    @staticmethod
    def from_bytes(data: bytes) -> StreetGraph:
        z = np.load(io.BytesIO(data), allow_pickle=False)
        return StreetGraph(
            z["lon"],
            z["lat"],
            z["indptr"],
            z["target"],
            z["length_m"],
            z["road_class"],
            z["name_id"],
            [str(n) for n in z["names"]],
            z["shape_offset"],
            z["shape_lonlat"],
            z["twin"] if "twin" in z.files else None,
        )


def path_length_m(points: Floats) -> float:
    """Length of a lon/lat polyline in metres (local equirectangular: city scale)."""
    if len(points) < 2:
        return 0.0
    k = np.cos(np.radians(points[:, 1].mean()))
    d = np.diff(points, axis=0) * [k, 1.0]
    return float(np.hypot(d[:, 0], d[:, 1]).sum() * M_PER_DEG)


def split_ways(ways: list[tuple[list[int], Floats, str | None, bool, str]]) -> tuple[Floats, Floats, Edges]:
    """Streets from ways — (node ids, their lon/lat, highway, one-way, name) — split at every node
    that two ways share or that ends a way: those are the graph's nodes."""
    count: dict[int, int] = {}
    for ids, _, _, _, _ in ways:
        for i in ids:
            count[i] = count.get(i, 0) + 1
        for end in (ids[0], ids[-1]):
            count[end] = count.get(end, 0) + 2  # an end is always a node
    index: dict[int, int] = {}
    lons: list[float] = []
    lats: list[float] = []
    src, dst, lengths, classes, oneway, names, shapes = [], [], [], [], [], [], []
    for ids, points, highway, one, name in ways:
        start = 0
        for j in range(1, len(ids)):
            if count[ids[j]] < 2 and j < len(ids) - 1:
                continue
            for node, p in ((ids[start], points[start]), (ids[j], points[j])):
                if node not in index:
                    index[node] = len(lons)
                    lons.append(float(p[0]))
                    lats.append(float(p[1]))
            piece = points[start : j + 1]
            if ids[start] != ids[j] or len(piece) > 2:
                src.append(index[ids[start]])
                dst.append(index[ids[j]])
                lengths.append(path_length_m(piece))
                classes.append(int(RoadClass.of(highway)))
                oneway.append(one)
                names.append(name)
                shapes.append(piece)
            start = j
    edges = Edges(
        np.array(src, dtype=np.int64),
        np.array(dst, dtype=np.int64),
        np.array(lengths),
        np.array(classes, dtype=np.int8),
        np.array(oneway, dtype=bool),
        names,
        shapes,
    )
    return np.array(lons), np.array(lats), edges
