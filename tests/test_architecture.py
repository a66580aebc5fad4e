"""Dependency direction (STYLE.md): model imports nothing of ours but errors; the pure core
(incidents, hazard, control, routing) imports only model, errors and numeric/geometry libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "greyzone"
PURE = ["incidents.py", "hazard", "control", "routing", "coordination"]
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


FRAMEWORKS = {"typer", "click", "rich", "fastapi", "starlette", "uvicorn", "pydantic"}
BACKENDS = ("greyzone.store.sqlite", "greyzone.store.postgres", "greyzone.store.memory", "psycopg", "sqlite3")


def test_the_application_layer_imports_no_framework_and_no_edge() -> None:
    """The application layer may use the core, the store protocol and the ingest/export adapters; never a CLI or
    web framework, never an edge; only ``stores`` picks a store backend."""
    for path in files("application"):
        mods = imports_of(path)
        assert not {m.split(".")[0] for m in mods} & FRAMEWORKS, (path, mods)
        assert not {m for m in mods if m.startswith(("greyzone.cli", "greyzone.service"))}, path
        if path.name != "stores.py":
            assert not {m for m in mods if m.startswith(BACKENDS)}, path
    assert files("application"), "the application layer moved: update the test"


EDGE_MAY_IMPORT = (
    "greyzone.application",
    "greyzone.errors",
    "greyzone.settings",
    "greyzone.model",
    "greyzone.store.base",
)


@pytest.mark.parametrize(
    ("edge", "own"), [("cli", ("greyzone.cli", "greyzone.plotting")), ("service", ("greyzone.service",))]
)
def test_the_edges_call_only_the_application_layer(edge: str, own: tuple[str, ...]) -> None:
    """CLI and API: thin edges over the application layer; neither imports the other, nor a store backend or
    the pure core directly (the CLI also draws with ``plotting``)."""
    for path in files(edge):
        ours = {m for m in imports_of(path) if m.startswith("greyzone")}
        assert all(m.startswith(EDGE_MAY_IMPORT + own) for m in ours), (path, ours)
        assert not {m for m in imports_of(path) if m.startswith(BACKENDS)}, path


def test_no_function_of_the_application_layer_takes_or_gives_any() -> None:
    """Typed answers: no ``Any`` in a public signature of the application layer."""
    for path in files("application"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
                annotations = [a.annotation for a in [*node.args.args, *node.args.kwonlyargs] if a.annotation]
                text = " ".join(ast.unparse(a) for a in [*annotations, node.returns] if a is not None)
                assert "Any" not in text.split(), (path, node.name, text)
                assert "Any]" not in text and "Any," not in text and "[Any" not in text, (path, node.name, text)


def test_no_module_level_mutable_caches_in_the_service() -> None:
    """The app owns its resources (Gate): no module-level dict or list a request could fill."""
    for path in files("service"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.AnnAssign | ast.Assign) and isinstance(node.value, ast.Dict | ast.List):
                names = [ast.unparse(t) for t in (node.targets if isinstance(node, ast.Assign) else [node.target])]
                assert all(n.isupper() or n == "__all__" for n in names), (path, names)  # constants only
