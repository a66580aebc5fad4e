"""Two `greyzone serve` workers on one PostgreSQL database answer alike (both really started)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
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
    env = os.environ | {"GREYZONE_DATABASE_URL": postgres_url, "GREYZONE_DB": str(tmp_path / "shared.db")}
    ports = [free_port(), free_port()]
    logs = [(tmp_path / f"worker{i}.log").open("wb") for i in range(2)]
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
            for _ in range(100):
                try:
                    call(port, "/api/health")
                    break
                except OSError:
                    time.sleep(0.1)
        ids = set()
        for i in range(40):  # alternate between the workers; a retried key answers the same on either
            report = REPORT | {"observed_at": f"2024-11-27T{i % 24:02d}:{i:02d}:00Z", "lon": 37.1 + i * 1e-3}
            answer = call(ports[i % 2], "/api/reports", report, CREW)
            ids.add(answer["ids"][0])
        assert len(ids) == 40
        health = [call(p, "/api/health") for p in ports]
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
    finally:
        for w, log in zip(workers, logs, strict=True):
            w.terminate()
            w.wait(timeout=10)
            log.close()
