"""Shared set-ups that tests build the way a user would, through the CLI."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from greyzone.cli import app


def demo_city(folder: Path, days: int = 28) -> Path:
    """The SYNTHETIC demo scenario in ``folder/d.db`` (``days`` days to 2024-11-28), its streets and gates
    imported as the city ``demo``; the store's path."""
    runner, db, scenario = CliRunner(), folder / "d.db", folder / "s"
    made = runner.invoke(app, ["demo", "--db", str(db), "--dir", str(scenario), "--days", str(days), "--json"])
    assert made.exit_code == 0, made.output
    streets, gates = str(scenario / "streets.geojson"), str(scenario / "gates.geojson")
    city = runner.invoke(app, ["city", "import", streets, "--name", "demo", "--gates", gates, "--db", str(db)])
    assert city.exit_code == 0, city.output
    return db
