"""Two `greyzone serve` workers on one PostgreSQL database answer alike (both really started)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from greyzone.service.guard import token_hash
from greyzone.store.postgres import PostgresStore

CREW, ANALYST = "crew-" + "t" * 40, "analyst-" + "t" * 40  # test tokens of a throwaway database
REPORT = {
    "kind": "shelling",
    "observed_at": "2024-11-27T09:15:00Z",
    "lon": 37.18,
    "lat": 48.283,
    "location_precision_m": 100,
    "source": "police",
}


def call(port: int, path: str, body: Any = None, token: str | None = None) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method="POST" if body is not None else "GET",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (http on loopback only)
        return json.loads(answer.read())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_workers_on_one_postgres_answer_alike(postgres_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from greyzone.cli import app as cli
    from greyzone.ingest.osm import read_street_graph
    from greyzone.store.base import City

    CliRunner().invoke(cli, ["demo", "--db", str(tmp_path / "demo.db"), "--dir", str(tmp_path / "s"), "--days", "2"])
    graph = read_street_graph(tmp_path / "s" / "streets.geojson")
    with PostgresStore.open(postgres_url) as store:
        store.add_user("crew", "reporter", token_hash(CREW))
        store.add_user("analyst", "analyst", token_hash(ANALYST))
        store.write_city(City("demo", "streets.geojson", graph.to_bytes(), graph.n_nodes, graph.n_edges))
    with serving(postgres_url, tmp_path) as ports:
        ids = set()
        for i in range(40):  # alternate between the workers; a retried key answers the same on either
            report = REPORT | {"observed_at": f"2024-11-27T{i % 24:02d}:{i:02d}:00Z", "lon": 37.1 + i * 1e-3}
            answer = call(ports[i % 2], "/api/reports", report, CREW)
            ids.add(answer["ids"][0])
        assert len(ids) == 40
        health = [call(p, "/api/health", token=ANALYST) for p in ports]
        assert health[0] == health[1] and health[0]["reports"] == 40
        seen = [call(p, "/api/reports?limit=100", token=ANALYST) for p in ports]
        assert seen[0] == seen[1] and {r["id"] for r in seen[0]["reports"]} == ids
        own = call(ports[1], "/api/reports", token=CREW)  # submitted through both, listed by either
        assert {r["id"] for r in own["reports"]} == ids
        routes = [
            call(
                p,
                "/api/route",
                {
                    "city": "demo",
                    "origin": [37.16, 48.29],
                    "destination": [37.20, 48.26],
                    "mode": "car",
                    "depart": "2024-11-28T10:00:00Z",
                },
            )
            for p in ports
        ]
        assert routes[0] == routes[1] and routes[0]["reachable"] and routes[0]["risk"] is None  # no model: unknown


@contextmanager
def serving(database_url: str, tmp_path: Path, n: int = 2) -> Iterator[list[int]]:
    """``n`` `greyzone serve` workers on one PostgreSQL database (no SQLite file beside them); their ports."""
    env = os.environ | {"GREYZONE_DATABASE_URL": database_url, "GREYZONE_DB": str(tmp_path / "shared.db")}
    ports = [free_port() for _ in range(n)]
    logs = [(tmp_path / f"worker{i}.log").open("wb") for i in range(n)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", "from greyzone.cli import main; main()", "serve", "--port", str(p)],
            env=env,
            stdout=log,
            stderr=log,
        )
        for p, log in zip(ports, logs, strict=True)
    ]
    try:
        for port in ports:
            for _ in range(200):
                try:
                    call(port, "/api/health")
                    break
                except OSError:
                    time.sleep(0.1)
        yield ports
    finally:
        for w, log in zip(workers, logs, strict=True):
            w.terminate()
            w.wait(timeout=10)
            log.close()


def test_a_model_fitted_on_postgres_serves_every_worker(postgres_url: str, tmp_path: Path) -> None:
    """`hazard fit --database-url`: the model is a row of the shared database; two workers answer the same
    hazard layer and the same route risk from it, and no model file is written anywhere."""
    from typer.testing import CliRunner

    from greyzone.cli import app as cli
    from greyzone.demo.scenario import write_scenario

    runner = CliRunner()
    files = write_scenario(tmp_path / "s", days=28)
    folder = files.folder
    url = ["--database-url", postgres_url]
    reports = [str(f) for f in files.report_files()]
    ingested = runner.invoke(cli, ["ingest", *reports, *url, "--json"])
    assert ingested.exit_code == 0, ingested.output
    assert json.loads(ingested.stdout)["accepted"] > 2_000
    streets = [str(folder / "streets.geojson"), "--name", "demo", "--gates", str(folder / "gates.geojson")]
    assert runner.invoke(cli, ["city", "import", *streets, *url]).exit_code == 0
    fitted = runner.invoke(cli, ["hazard", "fit", *url, "--kind", "shelling", "--res", "8", "--json"])
    assert fitted.exit_code == 0, fitted.output
    assert "#1" in json.loads(fitted.stdout)["model"]
    assert not list(tmp_path.rglob("*.hazard.json"))  # the store is the source of truth
    with PostgresStore.open(postgres_url) as store:
        (row,) = store.read_models("hazard")
        assert row.kinds == ("shelling",) and row.data_until > row.data_from and json.loads(row.summary)["events"] > 0
    with serving(postgres_url, tmp_path) as ports:
        layers = [call(p, "/api/layers/hazard?start=2024-11-28T23:00:00Z&hours=6") for p in ports]
        assert layers[0] == layers[1] and layers[0]["status"] == "ok" and len(layers[0]["features"]) > 100
        trip = {
            "city": "demo",
            "origin": [37.16, 48.29],
            "destination": [37.20, 48.26],
            "mode": "foot",
            "depart": "2024-11-28T10:00:00Z",
        }
        routes = [call(p, "/api/route", trip) for p in ports]
        assert routes[0] == routes[1] and routes[0]["reachable"] and 0 < routes[0]["risk"] < 1
        assert routes[0]["notes"] == []  # a fresh model and control: nothing left out
