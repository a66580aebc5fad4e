"""The control map front-wide, in parts, on Dask: the same answer as one process, on several.

The front is cut into H3 cells of resolution ``PART_RES`` (4: about 1,770 km² each) that hold control
observations. A part's map is computed from the observations that can reach it: those whose point lies
in the part or in the ring of parts around it (``HALO_RINGS``: at least ~35 km beyond its edge, more
than the fusion's widest reach — three times its 4 km neighbourhood scale plus an observation's radius),
and every area observation that touches that ring; of those, a part folds the ones that reach one of
its cells (``ControlFusion.reaches``: the cells ``fold`` itself would look up — about two in five on the
generated front). Every influence of the fusion on a cell is local
(see ``control/fusion.py``): a part's cells come out as they do in one process over the whole front, and
the test checks it cell by cell. The parts run as Dask tasks (``dask.distributed``: a ``LocalCluster``
by default, or the scheduler at ``scheduler``); a worker that dies mid-task has its task run again
elsewhere (Dask retries), and nothing is written until every part is back.

The store is read once, by the caller, and each task gets its part's observations; or each task reads
its own part from the store (``in_tasks``). At most ``IN_FLIGHT`` parts per worker are on the cluster at a
time, so a worker's memory is that of a few parts however long the front.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

import h3
import numpy as np
import numpy.typing as npt
import shapely

from greyzone.application.hazard import Bin, FittedHazard, fit_on_grid, hazard_columns
from greyzone.application.reports import Json
from greyzone.application.stores import AppStore, is_file_store, reopened
from greyzone.control.fusion import ControlFusion, Observation
from greyzone.control.products import observations_from_reports
from greyzone.errors import NotAvailableError
from greyzone.hazard.events import Events
from greyzone.hazard.front import add_up, block_e_step, blocks_of, build_block, front_grid, joined_rings, part_inputs
from greyzone.hazard.model import FitOptions, HawkesParams, Point, Rings, Sums, fit_by
from greyzone.model.cells import BLOCK_RES, PARTITION_RES
from greyzone.model.enums import Kind
from greyzone.model.grid import Grid, cell_polygons
from greyzone.settings import Settings
from greyzone.store.base import ReportQuery

PART_RES = 4
HALO_RINGS = 1
IN_FLIGHT = 2  # parts on the cluster at a time, per worker: one running, one ready to start


@dataclass(frozen=True)
class FrontMap:
    """The control state of every cell of the front's parts: H3 cells, state codes, as-of (unix s)."""

    cells: npt.NDArray[np.int64]
    states: npt.NDArray[np.int8]
    as_of: npt.NDArray[np.float64]
    parts: int
    seconds: float
    workers: int

    def counts(self) -> dict[str, int]:
        from greyzone.control.products import CODE_STATES

        codes, n = np.unique(self.states, return_counts=True)
        return {CODE_STATES[int(c)].value: int(k) for c, k in zip(codes, n, strict=True)}


def _part_of(o: Observation) -> int | None:
    """The part of a point observation: the res-4 parent of its res-9 cell (the store's block cell, so
    that a task reading its parts' cells from the store reads the same observations)."""
    if o.area is not None or not np.isfinite(o.lon):
        return None
    return int(h3.api.basic_int.cell_to_parent(h3.api.basic_int.latlng_to_cell(o.lat, o.lon, BLOCK_RES), PART_RES))


def _shape(cells: Sequence[int]) -> shapely.Geometry:
    return shapely.union_all(cell_polygons(list(cells)))


def split(observations: Sequence[Observation]) -> dict[int, list[Observation]]:
    """Each part (an H3 res-4 cell holding a point observation) and the observations that reach it, in time order."""
    by_part: dict[int, list[int]] = {}
    areas: list[int] = []
    for i, o in enumerate(observations):
        part = _part_of(o)
        if part is None:
            areas.append(i)
        else:
            by_part.setdefault(part, []).append(i)
    out: dict[int, list[Observation]] = {}
    for part in by_part:
        ring = [int(c) for c in h3.api.basic_int.grid_disk(part, HALO_RINGS)]
        chosen = [i for c in ring for i in by_part.get(c, [])]
        if areas:
            reach = _shape(ring)
            chosen += [i for i in areas if observations[i].area is not None and reach.intersects(observations[i].area)]
        out[part] = [observations[i] for i in sorted(chosen)]
    return out


def part_map(
    part: int, observations: list[Observation], res: int, t_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One part's cells at ``res`` with their states and as-of (a Dask task: pure, picklable in and out)."""
    cells = np.array(sorted(h3.api.basic_int.cell_to_children(part, res)), dtype=np.int64)
    fusion = ControlFusion(Grid.from_cells(cells, res))
    fusion.fold_all(o for o in observations if fusion.reaches(o))  # those of the ring that reach the part
    return fusion.grid.cells, np.asarray(fusion.states(t_s), dtype=np.int8), np.asarray(fusion.as_of, dtype=np.float64)


def front_control(
    store: AppStore,
    when: datetime,
    res: int = 7,
    *,
    scheduler: str | None = None,
    workers: int = 2,
    in_tasks: bool | None = None,
) -> FrontMap:
    """The control map of every part of the front at ``when``, each part a Dask task.

    ``in_tasks`` (where a worker can open the same store: a PostgreSQL URL or an SQLite file): each task
    reads its part and the ring of parts around it from the store itself, by their H3 cells (an index
    range scan), and only the few area observations are read here and sent; otherwise every observation
    is read here and each task is sent its own. By default, in the tasks for a PostgreSQL store or a
    scheduler elsewhere (the caller would be the bottleneck), here for an SQLite file on a local cluster
    (one machine: reading once is cheaper than each part reading its ring, seven parts' worth)."""

    from greyzone.application.control import observations_or_refuse

    if in_tasks is None:
        in_tasks = scheduler is not None or not is_file_store(store)
    source = reopened(store) if in_tasks else None  # how a worker opens the same store
    t_s = when.timestamp()
    if source is None:
        parts = split(observations_or_refuse(store, when))
        jobs: list[tuple[int, Callable[..., Any], tuple[Any, ...]]] = [
            (part, part_map, (part, obs, res, t_s)) for part, obs in parts.items()
        ]
    else:
        control = frozenset({Kind.CONTROL_OBSERVATION})
        areas = observations_from_reports(store.read_reports(ReportQuery(until=when, kinds=control, areas=True)))
        points = store.read_frame(ReportQuery(until=when, kinds=control, areas=False))
        blocks = np.unique(points.h3_r9).tolist()
        found = sorted({int(h3.api.basic_int.cell_to_parent(int(c), PART_RES)) for c in blocks})
        jobs = [(part, part_from_store, (source, part, _touching(part, areas), res, when)) for part in found]
    if not jobs:
        raise NotAvailableError("no control observation with a point: no part of a front to map")
    start = time.perf_counter()
    with _dask_client(scheduler, workers) as client:
        n_workers = len(client.scheduler_info()["workers"])
        results = [r for r in _in_waves(client, jobs, res, IN_FLIGHT * max(n_workers, 1)) if len(r[0])]
    if not results:
        raise NotAvailableError("no control observation with a side: no part of a front to map")
    cells = np.concatenate([r[0] for r in results])
    order = np.argsort(cells)
    states, as_of = np.concatenate([r[1] for r in results]), np.concatenate([r[2] for r in results])
    return FrontMap(cells[order], states[order], as_of[order], len(results), time.perf_counter() - start, n_workers)


def _in_waves(
    client: Any, jobs: list[tuple[int, Callable[..., Any], tuple[Any, ...]]], res: int, in_flight: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Each job's result, at most ``in_flight`` jobs on the cluster at a time (a new one sent as one comes
    back, its result then released there): a worker holds the inputs of the parts it is running or next
    to run, not of the whole front (sent at once, every part's observations would wait on the workers)."""
    from dask.distributed import as_completed

    def _sent(job: tuple[int, Callable[..., Any], tuple[Any, ...]]) -> Any:
        part, task, args = job
        return client.submit(task, *args, key=f"control-{part:x}-{res}", retries=3, pure=False)

    waiting = iter(jobs)
    running = as_completed([_sent(job) for _, job in zip(range(in_flight), waiting, strict=False)])  # type: ignore[no-untyped-call]
    results = []
    for future in running:
        results.append(future.result())
        future.release()
        following = next(waiting, None)
        if following is not None:
            running.add(_sent(following))  # type: ignore[no-untyped-call]
    return results


@contextmanager
def _dask_client(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A client of the scheduler at ``scheduler``, or of a LocalCluster of ``workers`` processes (one
    thread each), closed after use."""
    from dask.distributed import Client, LocalCluster

    cluster = None
    if not scheduler:
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        )
    try:
        with Client(scheduler or cluster) as client:  # type: ignore[no-untyped-call]
            yield client
    finally:
        if cluster is not None:
            cluster.close()


def _touching(part: int, areas: list[Observation]) -> list[Observation]:
    """The area observations that touch the ring of parts around ``part``."""
    if not areas:
        return []
    reach = _shape([int(c) for c in h3.api.basic_int.grid_disk(part, HALO_RINGS)])
    return [o for o in areas if o.area is not None and reach.intersects(o.area)]


def part_from_store(
    source: Settings, part: int, areas: list[Observation], res: int, when: datetime
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A Dask task: read the point observations of ``part`` and its ring of parts from the store (by
    their res-5 cells), add ``areas``, and map the part (empty arrays: no observation with a side)."""
    from greyzone.application.stores import opened

    ring = h3.api.basic_int.grid_disk(part, HALO_RINGS)
    cells = tuple(int(c) for q in ring for c in h3.api.basic_int.cell_to_children(q, PARTITION_RES))
    query = ReportQuery(until=when, kinds=frozenset({Kind.CONTROL_OBSERVATION}), cells=cells, areas=False)
    with opened(source, create=False) as store:
        observations = observations_from_reports(store.read_reports(query)) + areas
    if not any(o.area is None for o in observations):
        empty = np.zeros(0)
        return empty.astype(np.int64), empty.astype(np.int8), empty
    return part_map(part, observations, res, when.timestamp())


def single_control(store: AppStore, when: datetime, res: int, cells: npt.NDArray[np.int64]) -> FrontMap:
    """The same cells' states from one process over the whole front (the peer, and the check)."""
    from greyzone.application.control import fused_control

    start = time.perf_counter()
    fusion = fused_control(store, when, res)
    states = np.asarray(fusion.states(when.timestamp()), dtype=np.int8)
    idx = np.array([fusion.grid.index.get(int(c), -1) for c in cells], dtype=np.intp)
    known = idx >= 0
    return FrontMap(cells[known], states[idx[known]], np.asarray(fusion.as_of)[idx[known]], 1,
                    time.perf_counter() - start, 1)  # fmt: skip


def front_hazard(
    store: AppStore,
    kinds: frozenset[Kind],
    res: int = 7,
    bin_: Bin = Bin.HOUR,
    *,
    scheduler: str | None = None,
    workers: int = 2,
    single: bool = False,
) -> FittedHazard:
    """The hazard model fitted over the whole front (``hazard.front``: its grid is every cell of the
    res-4 parts holding an incident), its E-step a Dask task per block of parts, and kept in the store;
    ``single``: the same fit by one process (the peer, and the check)."""
    columns = hazard_columns(store, kinds, None)
    if len(columns.lon) == 0:
        raise NotAvailableError("no stored incidents of those kinds: nothing to fit")
    grid = front_grid(columns.lon, columns.lat, res)
    start = time.perf_counter()
    if single:
        fitted = fit_on_grid(store, kinds, columns, grid, bin_, extra={"parts": 1, "workers": 1})
        return _timed(fitted, start)
    used: Json = {}  # filled by the fit, read when the summary is made

    def on_cluster(events: Events, vague: Events, grid: Grid, options: FitOptions) -> tuple[HawkesParams, Rings]:
        inputs = part_inputs(grid, events)
        with _dask_client(scheduler, workers) as client:
            n_workers = len(client.scheduler_info()["workers"])
            built = [client.submit(build_block, b, res, options.rings, retries=3, pure=False)
                     for b in blocks_of(inputs, 2 * max(n_workers, 1))]  # fmt: skip
            pieces = [client.submit(itemgetter(0), b, retries=3, pure=False) for b in built]
            rings = joined_rings(
                [r for b in client.gather([client.submit(itemgetter(1), b, pure=False) for b in built]) for r in b],
                len(grid),
            )

            def step(at: Point) -> Sums:
                tasks = [client.submit(block_e_step, p, at, retries=3, pure=False) for p in pieces]
                return add_up(client.gather(tasks))

            params = fit_by(step, events, grid, rings, options, vague=vague)
            used.update(parts=len(inputs), workers=n_workers)
        return params, rings

    fitted = fit_on_grid(store, kinds, columns, grid, bin_, on_cluster, extra=used)
    return _timed(fitted, start)


def _timed(fitted: FittedHazard, start: float) -> FittedHazard:
    from dataclasses import replace

    return replace(fitted, summary=fitted.summary | {"seconds": round(time.perf_counter() - start, 2)})


def generate_front(
    store: AppStore, reports: int, *, days: int = 30, seed: int = 11, batch: int = 50_000, on_batch: object = None
) -> int:
    """Generate the SYNTHETIC front's reports and store them (a batch at a time): how many were stored."""
    from itertools import islice

    from greyzone.demo.front import front_rows
    from greyzone.ingest.build import BuildContext, build_batch
    from greyzone.ingest.records import RawRecord

    rows = front_rows(reports, days=days, seed=seed)
    stored, row = 0, 0
    while chunk := list(islice(rows, batch)):
        made, rejects = build_batch([RawRecord("front", row + i + 1, r) for i, r in enumerate(chunk)], BuildContext())
        if rejects:
            raise ValueError(f"the generator made invalid reports: {rejects[:3]}")
        stored += store.write_batch(made, [], origin="demo:front").accepted
        row += len(chunk)
        if callable(on_batch):
            on_batch(row)
    return stored


def write_front(m: FrontMap, path: Path, when: datetime) -> int:
    """The cells as GeoParquet, written whole or not at all (a temporary file renamed into place)."""
    import pyarrow as pa

    from greyzone.application.parquet import write_geoparquet
    from greyzone.control.products import CODE_STATES

    shapes = cell_polygons(m.cells)
    columns = {
        "cell": pa.array([h3.int_to_str(int(c)) for c in m.cells]),
        "state": pa.array([CODE_STATES[int(s)].value for s in m.states]),
        "as_of": pa.array([datetime.fromtimestamp(t, UTC) if np.isfinite(t) and t > 0 else None for t in m.as_of],
                          type=pa.timestamp("us", tz="UTC")),
    }  # fmt: skip
    partial = path.with_name(path.name + ".partial")
    n = write_geoparquet(partial, columns, shapes, "control (front-wide)", when)
    partial.replace(path)
    return n


def front_line_km() -> float:
    """The generated front line's length (km)."""
    from greyzone.demo.front import line_km

    return line_km()
