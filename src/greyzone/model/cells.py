"""H3 cells at the resolutions the rest of greyzone uses, computed once per report.

- ``PARTITION_RES`` (5, ~250 km²): the unit front-wide work is partitioned by.
- ``DISTRICT_RES`` (7, ~5 km²): a town district; settlement-level reports are meaningful here.
- ``BLOCK_RES`` (9, ~0.1 km², 174 m edge): a city block; hazard and control work at this grain.

H3 integer ids of one resolution under one parent form a contiguous integer range, so an index
on the block cell answers queries for any coarser cell as a range scan (:func:`cell_range`).
"""

from __future__ import annotations

from typing import NamedTuple

import h3
import numpy as np
import numpy.typing as npt

PARTITION_RES = 5
DISTRICT_RES = 7
BLOCK_RES = 9
CELL_RESOLUTIONS = (PARTITION_RES, DISTRICT_RES, BLOCK_RES)

_RES_SHIFT = 52
_RES_MASK = np.uint64(0xF) << np.uint64(_RES_SHIFT)
_DIGIT_BITS = 3
_MAX_RES = 15
_latlng_to_cell = h3.api.basic_int.latlng_to_cell


class Cells(NamedTuple):
    """The H3 cells (as integers) of one point at each resolution of CELL_RESOLUTIONS."""

    partition: int
    district: int
    block: int


def lonlat_to_cells(lon: float, lat: float) -> Cells:
    return cells_of_block(_latlng_to_cell(lat, lon, BLOCK_RES))


def cells_of_block(block: int) -> Cells:
    """All resolutions' cells of a block cell (its parents are exact bit arithmetic)."""
    return Cells(_parent(block, PARTITION_RES), _parent(block, DISTRICT_RES), block)


def _parent(cell: int, res: int) -> int:
    """The parent of ``cell`` at ``res`` by bit arithmetic (exactly h3's cellToParent)."""
    cell_res = (cell >> _RES_SHIFT) & 0xF
    unused = (1 << (_DIGIT_BITS * (_MAX_RES - res))) - 1
    return ((cell & ~(0xF << _RES_SHIFT)) | (res << _RES_SHIFT) | unused) if res < cell_res else cell


def lonlats_to_cells(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Block cells of many points, shape (n, 3) in CELL_RESOLUTIONS order (int64)."""
    lon_list = np.asarray(lon, dtype=float).tolist()
    lat_list = np.asarray(lat, dtype=float).tolist()
    to_cell = h3.api.basic_int.latlng_to_cell
    block = np.fromiter(
        (to_cell(b, a, BLOCK_RES) for a, b in zip(lon_list, lat_list, strict=True)),
        dtype=np.uint64,
        count=len(lon_list),
    )
    out = np.empty((block.size, 3), dtype=np.int64)
    for j, res in enumerate(CELL_RESOLUTIONS):
        out[:, j] = parents_of(block, res).view(np.int64)
    return out


def parents_of(cells: npt.NDArray[np.uint64], res: int) -> npt.NDArray[np.uint64]:
    """Vectorised cellToParent for cells all finer than or at ``res``."""
    unused = np.uint64((1 << (_DIGIT_BITS * (_MAX_RES - res))) - 1)
    return (cells & ~_RES_MASK) | (np.uint64(res) << np.uint64(_RES_SHIFT)) | unused


def cell_range(cell: int, res: int) -> tuple[int, int]:
    """The inclusive integer range of all descendants of ``cell`` at resolution ``res``."""
    parent_res = h3.get_resolution(h3.int_to_str(cell))
    if res < parent_res:
        msg = f"res must be at least the cell's resolution {parent_res}; got {res}"
        raise ValueError(msg)
    base = (cell & ~(0xF << _RES_SHIFT)) | (res << _RES_SHIFT)
    free_bits = _DIGIT_BITS * (res - parent_res)
    low_shift = _DIGIT_BITS * (_MAX_RES - res)
    digits_mask = ((1 << free_bits) - 1) << low_shift
    low = base & ~digits_mask
    high = low | (((1 << free_bits) - 1) << low_shift)
    return low, high


def cell_filter(cell: int) -> tuple[int, int, int]:
    """(partition cell, lowest block cell, highest block cell) of the reports inside ``cell``."""
    res = h3.get_resolution(h3.int_to_str(cell))
    if not PARTITION_RES <= res <= BLOCK_RES:
        msg = f"expected a cell of resolution {PARTITION_RES} to {BLOCK_RES}; got resolution {res}"
        raise ValueError(msg)
    lo, hi = cell_range(cell, BLOCK_RES)
    return _parent(cell, PARTITION_RES), lo, hi
