"""Dependency direction (STYLE.md): model imports nothing of ours but errors; the pure core
(incidents, hazard, control, routing) imports only model, errors and numeric/geometry libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "greyzone"
PURE = ["incidents.py", "hazard", "control", "routing"]
IO_LIBRARIES = {
    "sqlite3",
    "psycopg",
    "fastapi",
    "starlette",
    "uvicorn",
    "requests",
    "httpx",
    "typer",
    "click",
    "rich",
    "duckdb",
    "os",
    "subprocess",
    "socket",
    "urllib",
    "shutil",
    "pathlib",
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def files(entry: str) -> list[Path]:
    path = SRC / entry
    return [path] if path.is_file() else sorted(path.rglob("*.py")) if path.exists() else []


def test_model_imports_nothing_of_ours_but_errors() -> None:
    for path in files("model"):
        ours = {m for m in imports_of(path) if m.startswith("greyzone")}
        assert ours <= {"greyzone.errors"} | {m for m in ours if m.startswith("greyzone.model")}, path


@pytest.mark.parametrize("entry", PURE)
def test_pure_core_has_no_io(entry: str) -> None:
    for path in files(entry):
        mods = imports_of(path)
        ours = {m for m in mods if m.startswith("greyzone")}
        assert all(
            m.startswith(("greyzone.model", "greyzone.errors", f"greyzone.{entry.removesuffix('.py')}")) for m in ours
        ), (path, ours)
        assert not {m.split(".")[0] for m in mods} & IO_LIBRARIES, (path, mods)


def test_the_check_sees_the_core() -> None:
    assert files("incidents.py"), "the pure linker moved: update PURE"


def test_store_and_ingest_never_import_the_edges() -> None:
    for entry in ("store", "ingest", "model", "incidents.py"):
        for path in files(entry):
            assert not {m for m in imports_of(path) if m.startswith(("greyzone.cli", "greyzone.api"))}, path
