"""The hazard model fitted front-wide, in parts: the same EM, its expectation step summed over parts
(pure; h3 and numpy — the caller runs the parts where it likes, Dask in ``application.front``).

The grid of a front is every cell, at the model's resolution, of the H3 cells of resolution
``PART_RES`` (4: about 1,770 km²) that hold an incident: each such cell is a *part*. The EM's
expectation step is a sum over events (``model.e_step``), and what one event's term needs is local:
the earlier events in the cells of its K rings (the excitation) and how many of those cells are on
the grid. A part therefore owns its cells' events and keeps beside them a *halo*: the grid's cells
within K rings of its own (all in the ring of parts around it, K rings at resolution ≥ 5 being far
narrower than a part) with their events. Its sums over its own events are then those one process
makes over the same events, the parts' sums add up to the whole's, and the M-step — μ, the hour
profile, the weekly trend, θ and q, shared by every part — is the one of ``model.fit_by``. A part
also gives its own cells' ring pairs, from which the whole grid's rings are put together without
walking every cell of the front a second time.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from dataclasses import dataclass

import h3
import numpy as np
import numpy.typing as npt

from greyzone.hazard.events import Events
from greyzone.hazard.model import Piece, Point, Rings, Sums, e_step
from greyzone.model.grid import Grid

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
PART_RES = 4


def front_grid(lon: Floats, lat: Floats, res: int) -> Grid:
    """The front's grid: every cell at ``res`` of the parts (res-4 cells) holding one of these points."""
    if res <= PART_RES:
        raise ValueError(f"res: the model's cells must be finer than the parts' (res > {PART_RES})")
    to_cell = h3.api.basic_int.latlng_to_cell
    points = np.unique(np.round(np.column_stack([lon, lat]), 6), axis=0)
    parts = {h3.api.basic_int.cell_to_parent(to_cell(y, x, res), PART_RES) for x, y in points.tolist()}
    cells = [c for p in sorted(parts) for c in h3.api.basic_int.cell_to_children(p, res)]
    return Grid.from_cells(np.array(cells, dtype=np.int64), res)


@dataclass(frozen=True)
class PartInput:
    """What one part is built from (picklable): its cells and those of the parts around it (global
    grid indices, sorted), their H3 ids, and the events in them (cells as positions in ``cells``)."""

    part: int
    own: Ints  # positions in ``cells`` of the part's own cells
    cells: Ints  # global grid indices
    ids: Ints  # H3 ids of ``cells``
    events: Events


def part_inputs(grid: Grid, events: Events) -> list[PartInput]:
    """Each part's input: its own cells and the candidates for its halo (the cells of the parts in
    ring 1 around it), with their events."""
    parent = np.array([h3.api.basic_int.cell_to_parent(int(c), PART_RES) for c in grid.cells], dtype=np.int64)
    by_part: dict[int, list[int]] = {}
    for i, p in enumerate(parent.tolist()):
        by_part.setdefault(p, []).append(i)
    event_order = np.argsort(events.cell, kind="stable")  # events are sorted by cell already; kept general
    starts = np.searchsorted(events.cell[event_order], np.arange(len(grid) + 1))
    out = []
    for p in sorted(by_part):
        around = [q for q in h3.api.basic_int.grid_disk(p, 1) if q in by_part]
        cells = np.sort(np.concatenate([np.asarray(by_part[q], dtype=np.int64) for q in around]))
        own = np.flatnonzero(np.isin(cells, np.asarray(by_part[p], dtype=np.int64)))
        rows = np.concatenate([event_order[starts[c] : starts[c + 1]] for c in cells.tolist()])
        rows = np.sort(rows)
        local = np.searchsorted(cells, events.cell[rows])
        sub = Events(local.astype(np.int64), events.bin[rows], events.n[rows], events.window)
        out.append(PartInput(p, own.astype(np.int64), cells, grid.cells[cells], sub))
    return out


@dataclass(frozen=True)
class PartRings:
    """A part's own cells' ring pairs and on-grid ring sizes, in global grid indices."""

    pairs: list[tuple[Ints, Ints]]
    cells: Ints
    on_grid: Floats  # (K + 1, own cells)


def build_part(data: PartInput, res: int, k_max: int) -> tuple[Piece, PartRings]:
    """A part's piece of the E-step (its own events, with the halo they need) and its rings."""
    own_ids = data.ids[data.own]
    keep = set(own_ids.tolist())
    candidates = set(data.ids.tolist())
    for c in own_ids.tolist():
        keep.update(n for n in h3.api.basic_int.grid_disk(c, k_max) if n in candidates)
    chosen = np.flatnonzero(np.isin(data.ids, np.array(sorted(keep), dtype=np.int64)))
    grid = Grid.from_cells(data.ids[chosen], res)  # the same order: ids rise with the global index
    local_of = np.full(len(data.ids), -1, dtype=np.int64)
    local_of[chosen] = np.arange(chosen.size)
    ev = data.events
    rows = np.flatnonzero(local_of[ev.cell] >= 0)
    events = Events(local_of[ev.cell[rows]], ev.bin[rows], ev.n[rows], ev.window)
    rings = Rings.of(grid, k_max)
    own_local = local_of[data.own]
    own_mask = np.zeros(len(grid), dtype=bool)
    own_mask[own_local] = True
    to_global = data.cells[chosen]
    piece = Piece.of(events, rings, np.flatnonzero(own_mask[events.cell]), to_global)
    pairs = []
    for src, dst in rings.pairs:
        mine = own_mask[src]
        pairs.append((to_global[src[mine]], to_global[dst[mine]]))
    return piece, PartRings(pairs, to_global[own_local], rings.on_grid[:, own_local])


def joined_rings(parts: Sequence[PartRings], n_cells: int) -> Rings:
    """The whole grid's rings from its parts' (each cell owned by one part)."""
    k_max = len(parts[0].pairs) - 1
    pairs = [
        (np.concatenate([p.pairs[k][0] for p in parts]), np.concatenate([p.pairs[k][1] for p in parts]))
        for k in range(k_max + 1)
    ]
    on_grid = np.zeros((k_max + 1, n_cells))
    for p in parts:
        on_grid[:, p.cells] = p.on_grid
    return Rings(pairs, on_grid, np.array([1.0] + [6.0 * k for k in range(1, k_max + 1)]))


def block_e_step(pieces: Sequence[Piece], at: Point) -> Sums:
    """The E-step's sums over several parts' pieces (one task's share)."""
    return add_up([e_step(piece, at) for piece in pieces])


def add_up(sums: Sequence[Sums]) -> Sums:
    """The sums of several pieces (or tasks) as one."""
    return functools.reduce(operator.add, sums)


def build_block(inputs: Sequence[PartInput], res: int, k_max: int) -> tuple[list[Piece], list[PartRings]]:
    """Several parts built in one task: their pieces and rings."""
    built = [build_part(d, res, k_max) for d in inputs]
    return [b[0] for b in built], [b[1] for b in built]


def blocks_of(inputs: Sequence[PartInput], n_blocks: int) -> list[list[PartInput]]:
    """The parts in ``n_blocks`` groups of about equal events (the largest first, each to the lightest)."""
    n_blocks = max(1, min(n_blocks, len(inputs)))
    load = np.zeros(n_blocks)
    out: list[list[PartInput]] = [[] for _ in range(n_blocks)]
    for d in sorted(inputs, key=lambda d: -len(d.events)):
        b = int(np.argmin(load))
        out[b].append(d)
        load[b] += len(d.events) + 1
    return [sorted(b, key=lambda d: d.part) for b in out if b]
