"""A region's H3 cells at one resolution, with centres and areas, for the per-cell fits (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import h3
import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Grid:
    """The H3 cells of a region at one resolution, with their centres (lon, lat) and areas."""

    res: int
    cells: npt.NDArray[np.int64]  # sorted
    lon: Floats
    lat: Floats
    area_km2: Floats
    index: dict[int, int] = field(repr=False)

    @staticmethod
    def from_polygon(polygon: shapely.Geometry, res: int) -> Grid:
        cells = sorted(h3.api.basic_int.geo_to_cells(polygon.__geo_interface__, res))
        centres = [h3.api.basic_int.cell_to_latlng(c) for c in cells]
        return Grid(
            res,
            np.array(cells, dtype=np.int64),
            np.array([c[1] for c in centres]),
            np.array([c[0] for c in centres]),
            np.array([h3.api.basic_int.cell_area(c, unit="km^2") for c in cells]),
            {c: i for i, c in enumerate(cells)},
        )

    @staticmethod
    def from_cells(cells: npt.NDArray[np.int64], res: int) -> Grid:
        """The grid of the given H3 cells (integers, all of resolution ``res``)."""
        ordered = sorted(int(c) for c in cells)
        centres = [h3.api.basic_int.cell_to_latlng(c) for c in ordered]
        return Grid(
            res,
            np.array(ordered, dtype=np.int64),
            np.array([c[1] for c in centres]),
            np.array([c[0] for c in centres]),
            np.array([h3.api.basic_int.cell_area(c, unit="km^2") for c in ordered]),
            {c: i for i, c in enumerate(ordered)},
        )

    def __len__(self) -> int:
        return len(self.cells)

    def near(self, lon: float, lat: float, reach_m: float) -> tuple[npt.NDArray[np.intp], Floats]:
        """Grid indices of the cells within ``reach_m`` of a point, and their distances (m)."""
        centre, k = self._disk(lon, lat, reach_m)
        found = [self.index[c] for c in h3.api.basic_int.grid_disk(centre, k) if c in self.index]
        idx = np.array(found, dtype=np.intp)
        return idx, _distance_m(lon, lat, self.lon[idx], self.lat[idx])

    def touched(self, lon: float, lat: float, reach_m: float, seen: dict[tuple[int, int], bool]) -> bool:
        """Whether ``near`` would find any cell of this grid (``seen``: the answers so far, by the
        point's cell and the rings searched: points of one cell share them)."""
        centre, k = self._disk(lon, lat, reach_m)
        answer = seen.get((centre, k))
        if answer is None:
            answer = seen[(centre, k)] = any(c in self.index for c in h3.api.basic_int.grid_disk(centre, k))
        return answer

    def _disk(self, lon: float, lat: float, reach_m: float) -> tuple[int, int]:
        """The point's cell and the rings around it that ``near`` searches (and ``touched`` checks)."""
        centre = h3.api.basic_int.latlng_to_cell(lat, lon, self.res)
        return centre, max(1, math.ceil(reach_m / (h3.average_hexagon_edge_length(self.res, unit="m") * 1.5)))

    @cached_property
    def _lon_scale(self) -> float:
        """Metres per degree of longitude over metres per degree of latitude, at the grid's middle."""
        return math.cos(math.radians(float(self.lat.mean()))) if len(self.lat) else 1.0

    @cached_property
    def _tree(self) -> tuple[float, cKDTree]:
        k = self._lon_scale
        return k, cKDTree(np.column_stack([self.lon * k, self.lat]))

    def nearest(self, lon: Floats, lat: Floats) -> tuple[npt.NDArray[np.intp], Floats]:
        """For many points: the index of the cell whose centre is nearest, and its distance (m)."""
        k, tree = self._tree
        distance, idx = tree.query(np.column_stack([np.asarray(lon) * k, np.asarray(lat)]))
        return np.asarray(idx, dtype=np.intp), np.asarray(distance, dtype=np.float64) * 111_320.0

    def inside(self, area: shapely.Geometry) -> npt.NDArray[np.intp]:
        """Grid indices of the cells whose centres lie inside ``area``."""
        box = self._in_box(area.bounds, 0.0)
        hit = shapely.contains_xy(area, self.lon[box], self.lat[box])
        return np.asarray(box[hit], dtype=np.intp)

    def near_area(self, area: shapely.Geometry, reach_m: float) -> tuple[npt.NDArray[np.intp], Floats]:
        """Grid indices of the cells whose centres lie within ``reach_m`` of ``area``, and their
        distances to it (m; 0 inside)."""
        box = self._in_box(area.bounds, reach_m)
        if box.size == 0:
            return box, np.zeros(0)
        k = self._lon_scale
        scaled = shapely.transform(area, lambda xy: xy * [k, 1.0])  # metres alike along both axes
        d = shapely.distance(scaled, shapely.points(self.lon[box] * k, self.lat[box])) * 111_320.0
        keep = d <= reach_m
        return np.asarray(box[keep], dtype=np.intp), np.asarray(d[keep], dtype=np.float64)

    def _in_box(self, bounds: tuple[float, float, float, float], pad_m: float) -> npt.NDArray[np.intp]:
        """The cells whose centres lie in a lon/lat box widened by ``pad_m``."""
        x0, y0, x1, y1 = bounds
        pad_lat = pad_m / 111_320.0
        pad_lon = pad_lat / self._lon_scale
        return np.asarray(
            np.flatnonzero(
                (self.lon >= x0 - pad_lon)
                & (self.lon <= x1 + pad_lon)
                & (self.lat >= y0 - pad_lat)
                & (self.lat <= y1 + pad_lat)
            ),
            dtype=np.intp,
        )


def _distance_m(lon: float, lat: float, lons: Floats, lats: Floats) -> Floats:
    k = math.cos(math.radians(lat))
    return np.asarray(np.hypot((lons - lon) * k, lats - lat) * 111_320.0, dtype=np.float64)


def cell_polygons(cells: npt.NDArray[np.int64] | list[int]) -> list[shapely.Geometry]:
    """Each H3 cell as a (lon, lat) polygon."""
    return [shapely.Polygon([(lon, lat) for lat, lon in h3.api.basic_int.cell_to_boundary(int(c))]) for c in cells]
