"""Files → store, batch by batch: read, validate, link, commit; rejects kept with their reasons.

Each batch is one transaction (reports, incident links and rejects together). A large file is
read and validated in a second process while this one links and writes, so both cores work; the
result is the same as reading in-process (the tests check both paths).
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import queue
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from greyzone.errors import GreyzoneError, IngestError
from greyzone.ingest.build import BuildContext, build_batch
from greyzone.ingest.formats import Format, detect_format, read_items
from greyzone.ingest.native import read_csv_blocks
from greyzone.ingest.records import RawRecord, RecordBlock, Reject
from greyzone.store.base import BatchResult, Store
from greyzone.store.rows import PreparedBatch, prepare

DEFAULT_BATCH_SIZE = 20_000
PARALLEL_MIN_BYTES = 4_000_000  # below this a second process costs more than it saves
Batch = tuple[PreparedBatch, list[Reject], int]  # batch, its rejects, bytes of the file read so far


@dataclass
class IngestSummary:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    incidents: int = 0
    batches: list[int] = field(default_factory=list)
    files: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "incidents": self.incidents,
        }


def batches_of(path: Path, fmt: Format, ctx: BuildContext, batch_size: int) -> Iterator[Batch]:
    """Validated batches of one file, in order (in this process)."""
    position = [0]

    def progress(n: int) -> None:
        position[0] = n

    if fmt is Format.AUTO:
        fmt = detect_format(path)
    if fmt is Format.CSV:  # greyzone's own CSV: read by column, no dictionary per row
        yield from _blocks(path, ctx, batch_size, progress, position)
        return
    records: list[RawRecord] = []
    rejects: list[Reject] = []
    for item in read_items(path, fmt, gazetteer=ctx.gazetteer, progress=progress):
        if isinstance(item, Reject):
            rejects.append(item)
            continue
        records.append(item)
        if len(records) >= batch_size:
            yield _build(records, rejects, ctx, position[0])
            records, rejects = [], []
    if records or rejects:
        yield _build(records, rejects, ctx, path.stat().st_size)


def _blocks(path: Path, ctx: BuildContext, batch_size: int, progress: Any, position: list[int]) -> Iterator[Batch]:
    rejects: list[Reject] = []
    for item in read_csv_blocks(path, batch_size, progress=progress):
        if isinstance(item, Reject):
            rejects.append(item)
            continue
        yield _build(item, rejects, ctx, position[0])
        rejects = []
    if rejects:
        yield _build([], rejects, ctx, path.stat().st_size)


def _build(records: list[RawRecord] | RecordBlock, rejects: list[Reject], ctx: BuildContext, position: int) -> Batch:
    batch, more = build_batch(records, ctx)
    return prepare(batch), sorted([*rejects, *more], key=lambda r: r.row), position


def _produce(path: Path, fmt: Format, ctx: BuildContext, batch_size: int, out: Any) -> None:
    """The second process: read and validate, hand batches over (at most a few in flight).

    It makes millions of short-lived, acyclic objects: reference counting frees them all, and the
    cyclic collector's passes over them would cost a fifth of the time, so it is off here."""
    gc.disable()
    try:
        for item in batches_of(path, fmt, ctx, batch_size):
            out.put(("batch", item))
        out.put(("done", None))
    except GreyzoneError as exc:
        out.put(("error", str(exc)))
    except Exception as exc:
        out.put(("error", f"{type(exc).__name__}: {exc}"))


def parallel_batches(path: Path, fmt: Format, ctx: BuildContext, batch_size: int) -> Iterator[Batch]:
    """The same batches as :func:`batches_of`, read and validated in a second process."""
    spawn = mp.get_context("spawn")
    channel = spawn.Queue(maxsize=2)
    worker = spawn.Process(target=_produce, args=(path, fmt, ctx, batch_size, channel), daemon=True)
    worker.start()
    try:
        while True:
            try:
                kind, payload = channel.get(timeout=5)
            except queue.Empty:
                if not worker.is_alive():
                    raise IngestError(f"{path}: the reading process stopped (exit code {worker.exitcode})") from None
                continue
            if kind == "done":
                return
            if kind == "error":
                raise IngestError(payload)
            yield payload
    finally:
        worker.join(timeout=1)
        if worker.is_alive():
            worker.kill()


def ingest_files(
    paths: Iterable[Path],
    store: Store,
    *,
    fmt: Format = Format.AUTO,
    ctx: BuildContext | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_rejects: Callable[[list[Reject]], None] | None = None,
    on_batch: Callable[[Path, BatchResult, int], None] | None = None,
    parallel: bool | None = None,
) -> IngestSummary:
    """Ingest each file; ``on_batch(path, result, bytes_read)`` after every commit."""
    ctx = ctx or BuildContext()
    summary = IngestSummary()
    with _collector_paused():
        for path in paths:
            _ingest_one(path, store, fmt, ctx, batch_size, parallel, summary, on_rejects, on_batch)
    summary.incidents = store.count_incidents(summary.batches)
    return summary


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while batches stream through (restored, and run, after)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect()


def _ingest_one(
    path: Path,
    store: Store,
    fmt: Format,
    ctx: BuildContext,
    batch_size: int,
    parallel: bool | None,
    summary: IngestSummary,
    on_rejects: Callable[[list[Reject]], None] | None,
    on_batch: Callable[[Path, BatchResult, int], None] | None,
) -> None:
    big = path.stat().st_size >= PARALLEL_MIN_BYTES if path.exists() else False
    source = parallel_batches if (big if parallel is None else parallel) else batches_of
    summary.files += 1
    for batch, rejects, position in source(path, fmt, ctx, batch_size):
        result = store.write_batch(batch, rejects, origin=str(path))
        summary.accepted += result.accepted
        summary.duplicates += result.duplicates
        summary.rejected += result.rejected
        summary.batches.append(result.batch_id)
        if on_rejects is not None and rejects:
            on_rejects(rejects)
        if on_batch is not None:
            on_batch(path, result, position)
