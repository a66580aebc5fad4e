"""Front-wide control on Dask: a generated front of 10^5 reports mapped in parts on a 2-worker LocalCluster
equals one process over the whole front, cell by cell; a worker killed with SIGKILL mid-run changes
nothing (Dask runs its tasks again), and the output file is written whole or not at all."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from greyzone.application.front import front_control, generate_front, single_control, split, write_front
from greyzone.demo.front import line_km, signed_distance_km
from greyzone.store.base import ReportQuery
from greyzone.store.sqlite import SqliteStore

AT = datetime(2024, 11, 28, tzinfo=UTC)
pytestmark = pytest.mark.slow


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


def test_a_worker_killed_mid_run_changes_nothing(front: Path) -> None:
    from dask.distributed import Client, LocalCluster

    with SqliteStore.open(front) as store:
        from greyzone.application.control import observations_or_refuse

        assert len(split(observations_or_refuse(store, AT))) > 30
        quiet = front_control(store, AT, 7, workers=2)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40)
    killed: list[int] = []
    try:
        with Client(cluster) as client:
            pids = client.run(os.getpid)

            def kill_when_busy() -> None:
                for _ in range(600):
                    if any(client.processing().values()):
                        pid = next(iter(pids.values()))
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                        return
                    time.sleep(0.01)

            killer = threading.Thread(target=kill_when_busy)
            killer.start()
            with SqliteStore.open(front) as store:
                hurt = front_control(store, AT, 7, scheduler=cluster.scheduler_address)
            killer.join()
    finally:
        cluster.close()
    assert killed, "no task was seen running"
    assert np.array_equal(hurt.cells, quiet.cells) and np.array_equal(hurt.states, quiet.states)
