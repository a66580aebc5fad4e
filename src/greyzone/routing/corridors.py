"""The ways out of a city: for each gate, the least-cost route from the centre and whether it is
*open* (on held ground only), *risky* (only through grey ground: contested or unconfirmed) or *cut*
(only through the other side's ground, or no road at all), with since-when over a history (pure).

A street's control state comes from areas (the other side's, the grey ones) by exact line–polygon
intersection: a street that a polygon touches anywhere is in that state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import shapely

from greyzone.routing.exposure import CONTESTED, HELD, OTHER_SIDE, with_control
from greyzone.routing.graph import StreetGraph
from greyzone.routing.shortest import Router

Floats = npt.NDArray[np.float64]


class Status(StrEnum):
    OPEN = "open"
    RISKY = "risky"
    CUT = "cut"


@dataclass(frozen=True, slots=True)
class Corridor:
    gate: str
    status: Status
    cost: float  # of the route it would take (nan when cut)
    edges: npt.NDArray[np.int64]


def street_lines(graph: StreetGraph) -> npt.NDArray[np.object_]:
    """Each street's shape as a shapely LineString (lon/lat)."""
    parts = np.repeat(np.arange(graph.n_edges), np.diff(graph.shape_offset))
    return np.asarray(shapely.linestrings(graph.shape_lonlat, indices=parts), dtype=object)


def street_states(
    lines: npt.NDArray[np.object_], other: shapely.Geometry | None, grey: shapely.Geometry | None
) -> npt.NDArray[np.int8]:
    """Control state per street: other side if the other side's area touches it, grey (contested) if a
    grey area does, else held."""
    states = np.full(len(lines), HELD, dtype=np.int8)
    if grey is not None and not grey.is_empty:
        states[shapely.intersects(lines, grey)] = CONTESTED
    if other is not None and not other.is_empty:
        states[shapely.intersects(lines, other)] = OTHER_SIDE
    return states


def corridors(
    graph: StreetGraph,
    cost: Floats,
    states: npt.NDArray[np.int8],
    centre: int,
    gates: Sequence[tuple[str, int]],
    grey_penalty: float = 10.0,
) -> list[Corridor]:
    """The status of each gate's way out from ``centre`` (node) under these street states."""
    held_only = Router(graph, with_control(cost, states, None))
    through_grey = Router(graph, with_control(cost, states, grey_penalty))
    out = []
    for name, node in gates:
        path = held_only.path(centre, node)
        if path.reachable:
            out.append(Corridor(name, Status.OPEN, path.cost, path.edges))
            continue
        path = through_grey.path(centre, node)
        if path.reachable:
            out.append(Corridor(name, Status.RISKY, float(cost[path.edges].sum()), path.edges))
        else:
            out.append(Corridor(name, Status.CUT, float("nan"), path.edges))
    return out


def history(
    graph: StreetGraph,
    cost: Floats,
    days: Iterable[tuple[str, npt.NDArray[np.int8]]],
    centre: int,
    gates: Sequence[tuple[str, int]],
) -> dict[str, list[tuple[str, Status]]]:
    """For each gate, the days its status changed (the first day included) and the new status."""
    changes: dict[str, list[tuple[str, Status]]] = {name: [] for name, _ in gates}
    for day, states in days:
        for corridor in corridors(graph, cost, states, centre, gates):
            log = changes[corridor.gate]
            if not log or log[-1][1] is not corridor.status:
                log.append((day, corridor.status))
    return changes
