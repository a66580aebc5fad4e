"""A throwaway PostgreSQL cluster on loopback, for the tests and the benchmarks (Debian's server, which
`make test` installs): started in a temporary folder with fsync off, stopped and removed after."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def server_bin() -> Path | None:
    """The newest installed PostgreSQL server's bin folder, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@contextmanager
def throwaway_cluster(bindir: Path) -> Iterator[str]:
    """Start a cluster (user greyzone, trust on loopback); its URL while it runs."""
    folder = Path(tempfile.mkdtemp(prefix="greyzone-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(folder, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = folder / "data"
    initdb = [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "greyzone", "--no-sync", "-E", "UTF8"]
    subprocess.run([*as_postgres, *initdb], check=True, capture_output=True)  # noqa: S603 (our fixed argv: the installed server)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    start = [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"]
    subprocess.run([*as_postgres, *start], check=True, capture_output=True)  # noqa: S603 (our fixed argv: the installed server)
    try:
        yield f"postgresql://greyzone@127.0.0.1:{port}"
    finally:
        stop = [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
        subprocess.run([*as_postgres, *stop], check=False, capture_output=True)  # noqa: S603
        shutil.rmtree(folder, ignore_errors=True)
