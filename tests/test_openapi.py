"""schemathesis against the service's own OpenAPI: no 5xx, and answers that match the schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a test dependency (make test)")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
)
from typer.testing import CliRunner  # noqa: E402

from conftest import SHARED_DATA  # noqa: E402
from greyzone.cli import app as cli  # noqa: E402
from greyzone.service.app import Limits, create_app  # noqa: E402
from greyzone.settings import Settings  # noqa: E402
from scenarios import demo_city  # noqa: E402


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("openapi")
    db = demo_city(folder, days=3)
    runner = CliRunner()
    tokens = {}
    for role in ("reporter", "verifier", "analyst", "coordinator", "admin"):
        added = runner.invoke(cli, ["user", "add", f"the-{role}", "--role", role, "--db", str(db), "--json"])
        tokens[role] = json.loads(added.stdout)["token"]
    places = SHARED_DATA / "gazetteer"  # /api/places answers from it (without it: not available, 404)
    settings = Settings(db_path=Path(db), gazetteer_dir=places if places.exists() else None)
    app = create_app(settings, Limits(per_minute=10**9, per_address=10**9))
    return schemathesis.openapi.from_asgi("/openapi.json", app), tokens


def test_the_api_keeps_to_its_schema_and_never_fails(api_schema: Any) -> None:
    """Every operation, with requests drawn from its own schema (15 each, as the public and as each role):
    below 500, a success matches the schema, an error has the one error shape."""
    schema, tokens = api_schema
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 52  # every endpoint of the API
    for operation in operations:

        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = case.call()  # as the public
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:300]}"
            for role, token in tokens.items():  # the admin last: every door open
                response = case.call(headers={"Authorization": f"Bearer {token}"})
                where = f"{case.method} {case.formatted_path} as {role}"
                assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
                if response.status_code < 400:
                    case.validate_response(response, checks=[response_schema_conformance, content_type_conformance])
                else:
                    body = response.json()
                    assert set(body) == {"error"} and body["error"]["status"] == response.status_code, where

        check()
