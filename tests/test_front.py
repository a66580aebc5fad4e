"""Front-wide control and hazard on Dask: on a generated front of 10^5 reports, the control map in parts on
a 2-worker LocalCluster equals one process over the whole front, cell by cell, and the hazard model
fitted with its E-step in parts equals one process's fit (every parameter within 1e-6 relative); a
worker killed with SIGKILL mid-run changes neither (Dask runs its tasks again); the output file and
the model row are written whole or not at all."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest

from greyzone.application.front import (
    front_control,
    front_hazard,
    generate_front,
    single_control,
    split,
    write_front,
)
from greyzone.application.hazard import Bin
from greyzone.demo.front import line_km, signed_distance_km
from greyzone.model.enums import Kind
from greyzone.store.base import ReportQuery
from greyzone.store.sqlite import SqliteStore

AT = datetime(2024, 11, 28, tzinfo=UTC)
pytestmark = pytest.mark.slow
T = TypeVar("T")


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("front") / "front.db"
    with SqliteStore.open(db) as store:
        assert generate_front(store, 100_000, days=20) == 100_000
    return db


def test_the_generated_front(front: Path) -> None:
    assert 850 < line_km() < 1100
    with SqliteStore.open(front) as store:
        frame = store.read_frame(ReportQuery())
    d = signed_distance_km(frame.lon, frame.lat)
    shelling = np.array([k == "shelling" for k in frame.kind])
    assert 0.65 < shelling.mean() < 0.75
    near, far = np.abs(d[shelling]) < 10, (np.abs(d[shelling]) >= 10) & (np.abs(d[shelling]) < 20)
    assert near.sum() > 1.6 * far.sum()  # shelling falls off with the distance from the line


def test_the_cluster_equals_one_process_cell_by_cell(front: Path, tmp_path: Path) -> None:
    with SqliteStore.open(front) as store:
        parts = front_control(store, AT, 7, workers=2)
        one = single_control(store, AT, 7, parts.cells)
    assert parts.workers == 2 and parts.parts > 30
    where = np.searchsorted(parts.cells, one.cells)
    assert len(one.cells) > 0.8 * len(parts.cells)  # the cells both maps hold (one process: the front's box)
    assert np.array_equal(parts.states[where], one.states)  # identical, cell by cell
    assert set(parts.counts()) == {"held", "other_side", "contested", "unconfirmed"}
    out = tmp_path / "front.parquet"
    assert write_front(parts, out, AT) == len(parts.cells) and not out.with_name("front.parquet.partial").exists()


def killing_a_worker(job: Callable[[str], T], busy_polls: int = 1) -> tuple[T, list[int]]:
    """Run ``job`` (given a scheduler's address) on a 2-worker LocalCluster, killing one worker with SIGKILL
    once tasks have been seen running ``busy_polls`` times (10 ms apart); the job's answer and the pid killed."""
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40)
    killed: list[int] = []
    try:
        with Client(cluster) as client:
            pids = client.run(os.getpid)

            def kill_when_busy() -> None:
                seen = 0
                for _ in range(3000):
                    if any(client.processing().values()):
                        seen += 1
                        if seen == busy_polls:
                            pid = next(iter(pids.values()))
                            os.kill(pid, signal.SIGKILL)
                            killed.append(pid)
                            return
                    time.sleep(0.01)

            killer = threading.Thread(target=kill_when_busy)
            killer.start()
            answer = job(cluster.scheduler_address)
            killer.join()
    finally:
        cluster.close()
    return answer, killed


def test_a_worker_killed_mid_run_changes_nothing(front: Path) -> None:
    with SqliteStore.open(front) as store:
        from greyzone.application.control import observations_or_refuse

        assert len(split(observations_or_refuse(store, AT))) > 30
        quiet = front_control(store, AT, 7, workers=2)
        hurt, killed = killing_a_worker(lambda address: front_control(store, AT, 7, scheduler=address))
    assert killed, "no task was seen running"
    assert np.array_equal(hurt.cells, quiet.cells) and np.array_equal(hurt.states, quiet.states)


SHELLING = frozenset({Kind.SHELLING})
PARAMETERS = ("mu", "profile", "trend", "theta", "q")


def _close(a: dict[str, object], b: dict[str, object]) -> None:
    for name in PARAMETERS:
        x, y = np.asarray(a[name], dtype=float), np.asarray(b[name], dtype=float)
        assert x.shape == y.shape, name
        assert np.allclose(x, y, rtol=1e-6, atol=0.0), (name, float(np.max(np.abs(x - y) / np.abs(x))))


def test_the_hazard_fit_on_the_cluster_equals_one_process(front: Path) -> None:
    with SqliteStore.open(front) as store:
        one = front_hazard(store, SHELLING, 7, single=True)
        parts = front_hazard(store, SHELLING, 7, workers=2)
        newest = store.read_models("hazard")[0]
    assert one.model.record and parts.model.record
    assert parts.model.record.model_id == one.model.record.model_id + 1 == newest.model_id  # each fit kept once
    assert newest.state == json.dumps(parts.model.data)  # whole
    assert parts.summary["workers"] == 2 and int(str(parts.summary["parts"])) > 30
    assert parts.grid_cells == one.grid_cells > 10_000 and parts.summary["events"] == one.summary["events"] > 50_000
    assert parts.summary["iterations"] == one.summary["iterations"] > 3
    _close(one.model.data, parts.model.data)
    # the background it learnt follows the generator: more shelling near the line than 20 km off it
    state = parts.model.state()
    d = signed_distance_km(state.grid.lon, state.grid.lat)
    mu = np.asarray(state.params.mu)
    assert mu[np.abs(d) < 5].mean() > 3 * mu[(np.abs(d) > 20) & (np.abs(d) < 40)].mean()


def test_a_worker_killed_mid_fit_changes_nothing(front: Path) -> None:
    with SqliteStore.open(front) as store:
        quiet = front_hazard(store, SHELLING, 7, workers=2)
        # 40 polls seen busy: past the parts' build, the E-steps are running
        hurt, killed = killing_a_worker(lambda address: front_hazard(store, SHELLING, 7, scheduler=address), 40)
    assert killed, "no task was seen running"
    assert quiet.model.record and hurt.model.record
    assert hurt.model.record.model_id == quiet.model.record.model_id + 1  # kept once, after the retried parts
    assert hurt.summary["iterations"] == quiet.summary["iterations"]
    _close(quiet.model.data, hurt.model.data)


def test_real_ucdp_events_across_ukraine_fit_front_wide(shared_data: Path, tmp_path: Path) -> None:
    """The real front-wide data the project has, end to end: UCDP GED for all of Ukraine (2014–2022),
    ingested, fitted front-wide on the cluster (daily bins) and by one process: the same parameters."""
    from greyzone.ingest.runner import ingest_files

    with SqliteStore.open(tmp_path / "ucdp.db") as store:
        ingest_files([shared_data / "events/ucdp_ged_ukraine_2014-2022.csv"], store)
        every = frozenset(Kind(k) for k in {r.kind for r in store.read_reports(ReportQuery())})
        one = front_hazard(store, every, 6, Bin.DAY, single=True)
        parts = front_hazard(store, every, 6, Bin.DAY, workers=2)
    assert int(str(parts.summary["parts"])) > 50 and parts.grid_cells == one.grid_cells > 2_000
    assert one.summary["events"] == parts.summary["events"] > 1_000
    assert parts.summary["iterations"] == one.summary["iterations"]
    _close(one.model.data, parts.model.data)
    state = parts.model.state()
    assert float(np.ptp(state.grid.lon)) > 5  # the parts span the country's east, not one city's box
    assert 0 < float(str(parts.summary["branching_ratio"])) < 1  # fighting begets fighting, and stays finite


_running = {"now": 0, "most": 0}
_lock = threading.Lock()


def _a_part(part: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with _lock:
        _running["now"] += 1
        _running["most"] = max(_running["most"], _running["now"])
    time.sleep(0.05)
    with _lock:
        _running["now"] -= 1
    return np.array([part]), np.zeros(1, dtype=np.int8), np.zeros(1)


def test_the_parts_go_to_the_cluster_a_few_at_a_time() -> None:
    """However many parts the front has, at most ``in_flight`` of them (and their inputs) are on the
    cluster at once — here 2 on a worker of 4 threads that could run 4 —, and every part comes back."""
    from dask.distributed import Client, LocalCluster

    from greyzone.application.front import _in_waves

    cluster = LocalCluster(n_workers=1, threads_per_worker=4, processes=False, dashboard_address=None)
    try:
        with Client(cluster) as client:
            jobs = [(part, _a_part, (part,)) for part in range(12)]
            results = _in_waves(client, jobs, 7, 2)
    finally:
        cluster.close()
    assert sorted(int(r[0][0]) for r in results) == list(range(12))
    assert _running["most"] == 2
