"""Alert latency and the cost of evaluating the rules, each beside its peer.

1. **Latency**: 1,000 incident rules over the demo city, a `greyzone worker` process running, reports
   stored at 100 a second (ten batches of ten) for ``--seconds`` seconds; for each alert delivered to a
   receiver on loopback, the time from its batch's commit to the webhook's arrival (p50, p99).
2. **Evaluation per report**: greyzone evaluates a batch against the rules by first keeping the rules a
   new report of their kinds falls in; the peer evaluates every rule by a full query of its window, as a
   rule engine without that step would. Both on the same batches, the same rules; the alerts made agree.
3. **Watching rules** (``--watch``, 200 by default: hazard, control, ways out and curfew rules over the
   demo city): one look at all of them as the worker takes it (a round computes each product once —
   the forecast, the control map, the ways out — and the rules that ask the same share it) against the
   peer, each rule looked at on its own (each computing its product, as a rule engine with no shared
   round would); the states seen agree.

    python benchmarks/alerts.py [--rules 1000] [--seconds 20] [--watch 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from typer.testing import CliRunner

from greyzone.application.alerts import RuleIn, RuleIndex, add_rule, evaluate
from greyzone.cli import app as cli
from greyzone.ingest.build import BuildContext, build_batch
from greyzone.ingest.records import RawRecord
from greyzone.settings import Settings
from greyzone.store.base import ReportQuery, User
from greyzone.store.sqlite import SqliteStore

P = (37.18, 48.283)


class Server(ThreadingHTTPServer):
    request_queue_size = 128  # a receiver that takes many connections at once


def receiver() -> tuple[ThreadingHTTPServer, list[tuple[float, bytes]]]:
    got: list[tuple[float, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((time.time(), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, got


def rows(rng: random.Random, start: datetime, n: int, offset: int) -> list[dict[str, Any]]:
    return [
        {"kind": rng.choice(["shelling", "fpv_strike", "glide_bomb"]),
         "observed_at": (start + timedelta(seconds=offset + i)).isoformat(),
         "lon": P[0] + rng.uniform(-0.05, 0.05), "lat": P[1] + rng.uniform(-0.03, 0.03),
         "location_precision_m": 50, "source": f"s{i % 4}"}
        for i in range(n)
    ]  # fmt: skip


def peer_evaluate(store: SqliteStore, rules: list[Any], first: int, last: int) -> set[str]:
    """Every rule by a full query of its window (the window of the batch's newest report)."""
    newest = float(store.read_seq_range(first, last).observed_s.max())
    keys = set()
    for r in rules:
        spec = json.loads(r.rule)
        window = float(spec["hours"]) * 3600
        start = (newest // window) * window
        area = shapely.from_geojson(r.area)
        found = store.read_frame(
            ReportQuery(since=datetime.fromtimestamp(start, UTC), until=datetime.fromtimestamp(start + window, UTC),
                        bbox=area.bounds)
        )  # fmt: skip
        hit = np.array([k in spec["kinds"] for k in found.kind], dtype=bool) & shapely.intersects_xy(
            area, found.lon, found.lat
        )
        if len(np.unique(found.incident[hit])) >= int(spec["at_least"]):
            keys.add(f"{r.rule_id}:{int(start)}")
    return keys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--watch", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="greyzone-alerts-"))
    db = folder / "a.db"
    runner = CliRunner()
    made = runner.invoke(cli, ["demo", "--db", str(db), "--dir", str(folder / "s"), "--days", "3", "--json"])
    assert made.exit_code == 0, made.output
    city = runner.invoke(cli, ["city", "import", str(folder / "s" / "streets.geojson"), "--name", "demo", "--gates",
                               str(folder / "s" / "gates.geojson"), "--timezone", "Europe/Kyiv", "--curfew",
                               "11:00-15:00", "--db", str(db)])  # fmt: skip
    assert city.exit_code == 0, city.output
    fit = runner.invoke(cli, ["hazard", "fit", "--kind", "shelling", "--res", "8", "--db", str(db)])
    assert fit.exit_code == 0, fit.output
    watch = watch_figures(folder, db, args.watch) if args.watch else {}
    server, got = receiver()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    s = Settings(db_path=db)
    rng = random.Random(7)
    with SqliteStore.open(db) as store:
        rules = [
            add_rule(store, s, User("bench", "admin"), RuleIn("demo", f"r{i}", ("shelling", "fpv_strike"), 1, 1.0, url,
                     point=(P[0] + rng.uniform(-0.05, 0.05), P[1] + rng.uniform(-0.03, 0.03)), radius_m=800))
            for i in range(args.rules)
        ]  # fmt: skip
    index = RuleIndex.of(rules)  # as the worker builds it, once a round
    worker = subprocess.Popen([sys.executable, "-c", "from greyzone.cli import main; main()", "worker", "--interval",
                               "0.05", "--db", str(db)])  # fmt: skip
    time.sleep(6.0)  # the worker started and warm (its imports, the store opened) before the clock runs
    committed: dict[int, float] = {}  # the second of the first report in a batch → when the batch was committed
    start = datetime(2024, 11, 20, 8, 0, tzinfo=UTC)
    ours_s, peer_s, evaluated, agree = 0.0, 0.0, 0, True
    written: list[int] = []
    try:
        with SqliteStore.open(db) as store:
            t_end = time.time() + args.seconds
            offset = 0
            while time.time() < t_end:
                tick = time.time()
                batch, rejects = build_batch(
                    [RawRecord("b", i + 1, r) for i, r in enumerate(rows(rng, start, 10, offset))], BuildContext()
                )
                assert not rejects
                result = store.write_batch(batch, [], origin="bench")
                for k in range(10):
                    committed[int((start + timedelta(seconds=offset + k)).timestamp())] = time.time()
                written.append(result.batch_id)
                offset += 10
                time.sleep(max(0.0, 0.1 - (time.time() - tick)))  # ten batches a second: 100 reports a second
        time.sleep(3.0)
    finally:
        worker.kill()
        worker.wait()
        server.shutdown()
        server.server_close()
    import sqlite3

    fresh = folder / "fresh.db"  # the per-report cost with no alert made yet (the worst case), on a copy
    with sqlite3.connect(db) as source, sqlite3.connect(fresh) as target:
        source.backup(target)
        target.execute("DELETE FROM deliveries")
    with SqliteStore.open(fresh) as store:  # the first 40 batches, once the worker is done
        for batch_id in written[:40]:
            first, last = store.batches_after(batch_id - 1, 1)[0][1:]
            t0 = time.perf_counter()
            ours = {d.alert_key for d in evaluate(store, index, first, last, time.time())}
            ours_s += time.perf_counter() - t0
            t1 = time.perf_counter()
            theirs = peer_evaluate(store, rules, first, last)
            peer_s += time.perf_counter() - t1
            agree = agree and ours <= theirs
            evaluated += 1
    latencies = []
    for arrived, body in got:
        alert = json.loads(body)
        stored = committed.get(int(datetime.fromisoformat(alert["newest_report"]).timestamp()))
        if stored is not None:
            latencies.append(arrived - stored)
    lat = np.array(latencies)
    figures = {
        "rules": args.rules, "reports": offset, "alerts_received": len(got),
        "latency_p50_s": round(float(np.percentile(lat, 50)), 3) if len(lat) else None,
        "latency_p99_s": round(float(np.percentile(lat, 99)), 3) if len(lat) else None,
        "eval_per_report_ms": round(1e3 * ours_s / (evaluated * 10), 3),
        "peer_full_query_per_report_ms": round(1e3 * peer_s / (evaluated * 10), 3),
        "ratio": round(peer_s / ours_s, 1) if ours_s else None, "alerts_agree_with_peer": agree, **watch,
    }  # fmt: skip
    if args.json:
        print(json.dumps(figures))
        return
    p50, p99 = figures["latency_p50_s"], figures["latency_p99_s"]
    print(f"{figures['reports']} reports at 100/s, {args.rules} rules: {len(got)} alerts received;")
    print(f"latency from commit to webhook p50 {p50} s (target ≤ 1 s), p99 {p99} s (≤ 5 s)")
    ours, theirs = figures["eval_per_report_ms"], figures["peer_full_query_per_report_ms"]
    print(f"rule evaluation per report: {ours} ms; the peer (every rule by a full query): {theirs} ms;")
    print(f"ratio {figures['ratio']}×; the same alerts: {agree}")
    if watch:
        print(f"one look at {watch['watch_rules']} watching rules: {watch['watch_round_s']} s in one round; the peer "
              f"(each rule on its own): {watch['watch_peer_s']} s; ratio {watch['watch_ratio']}×; the same states: "
              f"{watch['watch_agree']}")  # fmt: skip


def watch_figures(folder: Path, db: Path, n: int) -> dict[str, Any]:
    """One look at ``n`` watching rules in one round (ours) and each on its own (the peer), on a copy."""
    import shutil

    from greyzone.application.watch import look_all

    copy = folder / "watch.db"
    for suffix in ("", ".key"):
        if Path(f"{db}{suffix}").exists():
            shutil.copy(f"{db}{suffix}", f"{copy}{suffix}")
    s = Settings(db_path=copy)
    rng = random.Random(11)
    triggers = [("hazard", {"threshold": 0.3, "hours": 3}), ("control", {}), ("corridor", {}), ("curfew", {})]
    with SqliteStore.open(copy) as store:
        rules = []
        for i in range(n):
            trigger, more = triggers[i % len(triggers)]
            where = (P[0] + rng.uniform(-0.05, 0.05), P[1] + rng.uniform(-0.03, 0.03))
            rules.append(add_rule(store, s, User("bench", "admin"), RuleIn(
                "demo", f"w{i}", (), 1, float(more.get("hours", 1)), "http://127.0.0.1:9/w", point=where,
                radius_m=1500, trigger=trigger, threshold=more.get("threshold"))))  # fmt: skip
        now = datetime(2024, 11, 3, 20, 0, tzinfo=UTC).timestamp()  # inside the three days of data
        t0 = time.perf_counter()
        ours, _ = look_all(store, s, rules, now, 0)
        ours_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        theirs = [row for r in rules for row in look_all(store, s, [r], now, 0)[0]]
        peer_s = time.perf_counter() - t1
    agree = {w.rule_id: w.state for w in ours} == {w.rule_id: w.state for w in theirs}
    return {"watch_rules": n, "watch_round_s": round(ours_s, 3), "watch_peer_s": round(peer_s, 3),
            "watch_ratio": round(peer_s / ours_s, 1) if ours_s else None, "watch_agree": agree}  # fmt: skip


if __name__ == "__main__":
    main()
