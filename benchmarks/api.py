"""The API under load, from a second process on loopback, bounded in time; beside it the floor: the same
GeoJSON served as a static file by the same stack (uvicorn + Starlette, one worker).

Layer queries (public incidents, control, hazard of the demo scenario), with wrk (Debian's package;
`apt-get install wrk`) — a Python client cannot send more than ~300 requests/s on one core, so it
would measure itself: 16 connections (the steady load), then 4× and 16× as many. Prints requests/s,
p50/p99 latency, answers by status (a wrk Lua script counts them) and the server's memory (RSS)
before and after. Without wrk it falls back to an httpx open-loop client at ``--rate``.

    python benchmarks/api.py [--seconds 10] [--rate 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"  # load goes nowhere else


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_up(url: str) -> None:
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=2).read()  # noqa: S310 (loopback)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def _load(urls: list[str], rate: float, seconds: float) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    statuses: Counter[int | str] = Counter()
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:

        async def one(url: str) -> None:
            start = time.perf_counter()
            try:
                answer = await client.get(url)
                statuses[answer.status_code] += 1
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
            latencies.append(time.perf_counter() - start)

        tasks = []
        begin = time.perf_counter()
        n = int(rate * seconds)
        for i in range(n):
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(urls[i % len(urls)])))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - begin
    latencies.sort()
    ok = statuses.get(200, 0)
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
    return {
        "sent": n,
        "elapsed": elapsed,
        "ok_per_s": ok / elapsed,
        "statuses": dict(statuses),
        "p50_ms": 1e3 * p50,
        "p99_ms": 1e3 * p99,
    }


def _load_process(urls: list[str], rate: float, seconds: float, out: Any) -> None:
    out.put(asyncio.run(_load(urls, rate, seconds)))


def load(urls: list[str], rate: float, seconds: float) -> dict[str, Any]:
    """The load, from a second process (the server keeps its own core)."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_load_process, args=(urls, rate, seconds, queue))
    process.start()
    result: dict[str, Any] = queue.get(timeout=seconds * 10 + 120)
    process.join()
    return result


WRK_SCRIPT = """
local paths = {%s}
local i = 0
codes = {}
local threads = {}
setup = function(thread) table.insert(threads, thread) end
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
response = function(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end
done = function(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("codes")) do merged[code] = (merged[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(merged) do parts[#parts + 1] = string.format('"%%d": %%d', code, n) end
  io.write(string.format('{"p50_ms": %%.2f, "p99_ms": %%.2f, "requests": %%d, "seconds": %%.3f, "errors": %%d,'
    .. ' "statuses": {%%s}}\\n', latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests,
    summary.duration / 1e6, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, table.concat(parts, ", ")))
end
"""


def wrk(base: str, paths: list[str], connections: int, seconds: float, folder: Path) -> dict[str, Any]:
    """Closed-loop load with wrk (one thread: the server keeps the other core); statuses counted."""
    script = folder / "count.lua"
    script.write_text(WRK_SCRIPT % ", ".join(f'"{p}"' for p in paths))
    done = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "--timeout", "10s", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    )
    # wrk writes its counters from done(), after its own summary: only one thread, so one such line
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("{"))
    r = json.loads(line)
    statuses = {int(k): v for k, v in r["statuses"].items()}
    if r["errors"]:
        statuses[0] = r["errors"]  # 0: no answer (connect/read/timeout)
    return {
        "ok_per_s": statuses.get(200, 0) / r["seconds"],
        "p50_ms": r["p50_ms"],
        "p99_ms": r["p99_ms"],
        "statuses": statuses,
    }


def show(name: str, r: dict[str, Any], before: float | None = None, after: float | None = None) -> None:
    memory = f"; server RSS {before:.0f} → {after:.0f} MB" if before is not None and after is not None else ""
    print(
        f"  {name:<46} {r['ok_per_s']:7.0f} ok/s  p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
        f"answers {r['statuses']}{memory}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="greyzone-api-bench-"))
    db = folder / "d.db"
    greyzone = [sys.executable, "-c", "from greyzone.cli import main; main()"]

    def run(*args: str) -> None:
        subprocess.run([*greyzone, *args], stdout=subprocess.DEVNULL, check=True)

    run("demo", "--db", str(db), "--dir", str(folder / "s"), "--json")
    scenario = folder / "s"
    run(
        "city",
        "import",
        str(scenario / "streets.geojson"),
        "--name",
        "demo",
        "--gates",
        str(scenario / "gates.geojson"),
        "--db",
        str(db),
    )
    run("hazard", "fit", "--db", str(db), "--kind", "shelling", "--res", "8")
    verifier = json.loads(
        subprocess.run(
            [*greyzone, "user", "add", "bench", "--role", "verifier", "--db", str(db), "--json"],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    )["token"]
    port, static_port = free_port(), free_port()
    server = subprocess.Popen(
        [
            *greyzone,
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
            "--rate",
            "100000000",
            "--address-rate",
            "100000000",
            "--in-flight",
            "64",
        ],
        stdout=subprocess.DEVNULL,
    )
    base = f"http://{LOOPBACK}:{port}"
    paths = [
        "/api/layers/incidents?since=2024-11-20T00:00:00Z&until=2024-11-28T00:00:00Z",
        "/api/layers/control?at=2024-11-28T12:00:00Z",
        "/api/layers/hazard?start=2024-11-28T23:00:00Z&hours=6",
    ]
    wait_up(f"{base}/api/health")
    files = folder / "static"
    files.mkdir()
    for i, p in enumerate(paths):  # the floor: the same answers as files
        (files / f"layer{i}.json").write_bytes(urllib.request.urlopen(base + p, timeout=60).read())  # noqa: S310
    floor_app = (
        "import sys, uvicorn; from starlette.applications import Starlette; from starlette.routing import "
        "Mount; from starlette.staticfiles import StaticFiles; app = Starlette(routes=[Mount('/', "
        f"StaticFiles(directory=sys.argv[1]))]); uvicorn.run(app, host='{LOOPBACK}', port={static_port}, "
        "log_level='warning')"
    )
    static = subprocess.Popen([sys.executable, "-c", floor_app, str(files)], stdout=subprocess.DEVNULL)
    try:
        wait_up(f"http://{LOOPBACK}:{static_port}/layer0.json")
        sizes = [len(json.loads((files / f"layer{i}.json").read_text())["features"]) for i in range(len(paths))]
        print(
            f"layer queries ({', '.join(f'{n} features' for n in sizes)}), one worker, load from a second process, "
            f"{args.seconds:.0f} s each"
        )
        ours_urls = [base + p for p in paths]
        floor_base = f"http://{LOOPBACK}:{static_port}"
        floor_paths = [f"/layer{i}.json" for i in range(len(paths))]
        for p in ours_urls:  # fill the layer cache, as a running service has it
            urllib.request.urlopen(p, timeout=120).read()  # noqa: S310
        if shutil.which("wrk"):
            runs = [(16, "steady"), (64, "4× the connections"), (256, "16× the connections")]
            for connections, label in runs:
                before = rss_mb(server.pid)
                ours = wrk(base, paths, connections, args.seconds, folder)
                show(f"greyzone, {connections} connections ({label})", ours, before, rss_mb(server.pid))
                if connections == 16:
                    floor = wrk(floor_base, floor_paths, connections, args.seconds, folder)
                    show("static files, 16 connections (the floor)", floor)
                    print(
                        f"  ratio greyzone / static at p50: {ours['p50_ms'] / floor['p50_ms']:.1f}×, "
                        f"throughput {ours['ok_per_s'] / max(floor['ok_per_s'], 1e-9):.2f}"
                    )
                else:
                    errors = {k: v for k, v in ours["statuses"].items() if k not in (200, 429, 503)}
                    print(
                        f"  {ours['statuses'].get(503, 0)} shed with 503, {ours['statuses'].get(429, 0)} 429, "
                        f"other answers: {errors or 'none'}"
                    )
        else:
            print("wrk not found (apt-get install wrk): an httpx client instead, open loop")
            before = rss_mb(server.pid)
            ours = load(ours_urls, args.rate, args.seconds)
            show(f"greyzone at {args.rate:.0f}/s", ours, before, rss_mb(server.pid))
            floor = load([floor_base + p for p in floor_paths], args.rate, args.seconds)
            show(f"static files at {args.rate:.0f}/s (the floor)", floor)
        worst_case(base, verifier, server.pid)
    finally:
        for p in (server, static):
            p.terminate()
            p.wait(timeout=10)
        os.system(f"rm -rf {folder}")  # noqa: S605 (our own temp folder)


FLOOD = 5000  # the largest batch one request may hold


def flood_reports(n: int, minute: int = 0) -> list[dict[str, Any]]:
    """n reports of one place and minute, each from its own source: the worst case for incident linking."""
    spot = {"kind": "shelling", "lon": 37.25, "lat": 48.31, "location_precision_m": 50}
    return [spot | {"observed_at": f"2024-11-20T10:{minute:02d}:00Z", "source": f"src-{i}"} for i in range(n)]


def worst_case(base: str, token: str, pid: int) -> None:
    """A maximal batch at one spot while /api/health is asked every 20 ms; then the same linking in process
    against the unbounded linker (every pair: the peer) on the same flood."""
    import threading

    body = json.dumps(flood_reports(FLOOD)).encode()
    done: dict[str, float] = {}
    peak = [rss_mb(pid)]

    def send() -> None:
        started = time.perf_counter()
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{base}/api/reports",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=300).read()  # noqa: S310
        done["seconds"] = time.perf_counter() - started

    sender = threading.Thread(target=send)
    sender.start()
    waits = []
    while sender.is_alive():
        t0 = time.perf_counter()
        urllib.request.urlopen(f"{base}/api/health", timeout=30).read()  # noqa: S310
        waits.append((time.perf_counter() - t0) * 1000)
        peak.append(rss_mb(pid))
        time.sleep(0.02)
    sender.join()
    waits.sort()
    p99 = waits[min(len(waits) - 1, int(0.99 * len(waits)))] if waits else float("nan")
    print(f"worst-case request: {FLOOD:,} reports at one spot from {FLOOD:,} sources, one POST")
    print(
        f"  greyzone  stored and linked in {done['seconds']:.2f} s; /api/health meanwhile: {len(waits)} answers, "
        f"p50 {waits[len(waits) // 2]:.1f} ms, p99 {p99:.1f} ms, max {waits[-1]:.1f} ms; server RSS peak "
        f"{max(peak):.0f} MB"
    )
    linking_peer()


def linking_peer() -> None:
    """The bounded linker against every pair (the linker before the bound) on floods of 1,000–3,000."""
    import numpy as np

    from greyzone.incidents import MAX_CANDIDATES, LinkFrame, incident_components, link_pairs

    for n in (1000, 3000):
        f = LinkFrame(
            kind=np.zeros(n, np.int64),
            source=np.arange(n),
            start_s=np.full(n, 1.7e9),
            span_s=np.zeros(n),
            lon=np.full(n, 37.25),
            lat=np.full(n, 48.31),
            radius_m=np.full(n, 50.0),
            linkable=np.ones(n, bool),
            max_radius_m=np.full(n, 25_000.0),
        )
        timings = {}
        for name, most in (("bounded", MAX_CANDIDATES), ("every pair", None)):
            t0 = time.perf_counter()
            pairs = link_pairs(f, None, most)
            incidents = len(set(incident_components(f, pairs).tolist()))
            timings[name] = (time.perf_counter() - t0, len(pairs), incidents)
        (tb, pb, ib), (tp, pp, ip) = timings["bounded"], timings["every pair"]
        print(
            f"  linking {n:,} at one spot in process: bounded {tb:.2f} s ({pb:,} pairs, {ib} incidents); every "
            f"pair (the peer) {tp:.2f} s ({pp:,} pairs, {ip} incidents) → {tp / tb:.0f}×"
        )


if __name__ == "__main__":
    main()
