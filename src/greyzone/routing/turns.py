"""Turn restrictions on a street graph (pure; no I/O).

OpenStreetMap's restriction relations (``type=restriction``) ban a turn at a junction: ``no_left_turn``,
``no_right_turn``, ``no_straight_on``, ``no_u_turn``, ``no_entry`` and ``no_exit`` ban the turn from the
``from`` way onto the ``to`` way at the ``via`` node; ``only_left_turn``, ``only_right_turn`` and
``only_straight_on`` ban every other turn from the ``from`` way. They reach this module as
:class:`TurnRule` (where the turn comes from and goes to, as the points next to the junction on each
way), which :func:`banned_turns` places on the graph's edges.

:func:`with_turns` then splits each junction that has a banned turn, the way edge-based routing does
for the junctions that need it and no others: every street that enters the junction with a banned turn
gets its own copy of the junction (the same place, ``StreetGraph.twin``), whose streets out are the
junction's own less the banned ones (copies of them: the same street, shape and length), and the street
is redirected to its copy. Every search (static, time-dependent, reach, matrix) then keeps the bans
without a change, a restricted turn is never taken, and a junction without restrictions costs nothing.
A stop is never put on a copy (``StreetGraph.snap_onto``, ``split_at``).

Restrictions whose ``via`` is a way, not a node, are not applied; :func:`banned_turns` says why each
rule it could not place was skipped. The bans hold for every mode (OSM's are for vehicles; a pedestrian
told to go round a block walks a few metres more).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from greyzone.routing.graph import StreetGraph

Point = tuple[float, float]
KINDS = frozenset(
    {
        "no_left_turn",
        "no_right_turn",
        "no_straight_on",
        "no_u_turn",
        "no_entry",
        "no_exit",
        "only_left_turn",
        "only_right_turn",
        "only_straight_on",
    }
)


@dataclass(frozen=True, slots=True)
class TurnRule:
    """One restriction: its kind, the junction (lon, lat), and the points next to the junction on the
    ``from`` way (where one comes from) and on the ``to`` way (where one goes)."""

    kind: str
    via: Point
    before: tuple[Point, ...]
    after: tuple[Point, ...]


def banned_turns(graph: StreetGraph, rules: Iterable[TurnRule]) -> tuple[list[tuple[int, int]], list[str]]:
    """The banned (street in, street out) pairs of directed edges, and a reason for each rule that
    could not be placed on the graph."""
    at = {(float(x), float(y)): i for i, (x, y) in enumerate(zip(graph.lon, graph.lat, strict=True))}
    order = np.argsort(graph.target, kind="stable")
    first = np.searchsorted(graph.target[order], np.arange(graph.n_nodes + 1))
    banned: list[tuple[int, int]] = []
    skipped: list[str] = []
    for rule in rules:
        v = at.get(rule.via)
        if rule.kind not in KINDS:
            skipped.append(f"{rule.kind!r} at {rule.via}: not a turn restriction this planner knows")
            continue
        if v is None:
            skipped.append(f"{rule.kind} at {rule.via}: the via node is not a junction of the streets")
            continue
        ins = [int(e) for e in order[first[v] : first[v + 1]] if _point(graph, int(e), -2) in rule.before]
        outs = list(range(int(graph.indptr[v]), int(graph.indptr[v + 1])))
        to = [o for o in outs if _point(graph, o, 1) in rule.after]
        if not ins or not to:
            skipped.append(f"{rule.kind} at {rule.via}: its from or to way does not meet the junction")
            continue
        ban = [o for o in outs if o not in to] if rule.kind.startswith("only_") else to
        banned += [(e, o) for e in ins for o in ban]
    return sorted(set(banned)), skipped


def _point(graph: StreetGraph, edge: int, k: int) -> Point:
    """Point ``k`` of an edge's shape (−2: the one before its end; 1: the one after its start)."""
    x, y = graph.shape_lonlat[graph.shape_offset[edge + 1] + k if k < 0 else graph.shape_offset[edge] + k]
    return float(x), float(y)


def with_turns(graph: StreetGraph, banned: Sequence[tuple[int, int]]) -> StreetGraph:
    """The graph with each street that enters a junction with a banned turn redirected to its own copy
    of the junction, from which only the allowed streets leave (module docstring)."""
    if not banned:
        return graph
    by_in: dict[int, set[int]] = {}
    for e, o in banned:
        by_in.setdefault(int(e), set()).add(int(o))
    source, target = graph.source(), graph.target.copy()
    twin = graph.junction().tolist()
    copies: list[int] = []  # for each new edge, the edge it copies
    new_source: list[int] = []
    for e, ban in sorted(by_in.items()):
        v, c = int(graph.target[e]), len(twin)
        twin.append(int(twin[v]))
        keep = [o for o in range(int(graph.indptr[v]), int(graph.indptr[v + 1])) if o not in ban]
        copies += keep
        new_source += [c] * len(keep)
        target[e] = c
    copied = np.array(copies, dtype=np.int64)
    src = np.concatenate([source, np.array(new_source, dtype=np.int64)])
    dst = np.concatenate([target, target[copied]])  # a copy goes where its street now goes
    which = np.concatenate([np.arange(graph.n_edges), copied])
    return _rebuilt(graph, np.array(twin, dtype=np.int64), src, dst, which)


def _rebuilt(
    graph: StreetGraph, twin: npt.NDArray[np.int64], src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64],
    which: npt.NDArray[np.int64],
) -> StreetGraph:  # fmt: skip
    """The graph of the directed edges src → dst, each with the length, class, name and shape of edge
    ``which`` of ``graph``; nodes past the graph's are copies of the junction ``twin`` names."""
    order = np.lexsort((dst, src))
    src, dst, which = src[order], dst[order], which[order]
    sizes = np.diff(graph.shape_offset)[which]
    gather = np.repeat(graph.shape_offset[:-1][which] - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    return StreetGraph(
        graph.lon[twin],
        graph.lat[twin],
        np.searchsorted(src, np.arange(len(twin) + 1)).astype(np.int64),
        dst.astype(np.int64),
        graph.length_m[which],
        graph.road_class[which],
        graph.name_id[which],
        graph.names,
        np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        graph.shape_lonlat[gather + np.arange(int(sizes.sum()))],
        twin,
    )
