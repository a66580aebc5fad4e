"""The greyzone command line: thin; every command reads its options, asks the application layer,
and prints the answer, ending with a one-line summary (or JSON with ``--json``).

One module per command group; the options and parsers they share (store, time, bounding box,
LON,LAT, city) are in ``common``.
"""

from greyzone.cli import alerts, control, coordination, gis, hazard, movement, reports, sitrep, text, users
from greyzone.cli.common import app, main

__all__ = [
    "alerts", "app", "control", "coordination", "gis", "hazard", "main", "movement", "reports", "sitrep", "text",
    "users",
]  # fmt: skip
