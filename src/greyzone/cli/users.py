"""The service: ``greyzone user`` (a role and a token each) and ``greyzone serve``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from greyzone.application.access import add_user, revoke_user, rotate_token
from greyzone.application.stores import store_name
from greyzone.cli.common import DbOption, JsonOption, UrlOption, app, cli_settings, out, refusing, store_of

APP_FACTORY = "greyzone.service.app:app_from_env"  # started by name: the CLI does not import the service
user_app = typer.Typer(no_args_is_help=True, help="Users of the service: a role and a token each.")
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="A name (letters, digits, _.@-).")],
    role: Annotated[str, typer.Option(help="reporter, verifier, analyst or admin")],
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a user and print their token once (only its SHA-256 is stored)."""
    with store_of(db, database_url, create=True) as store, refusing(name="NAME", role="--role"):
        user = add_user(store, name, role, actor="cli")
    if as_json:
        out(json.dumps({"name": user.name, "role": user.role, "token": user.token}))
    else:
        out(f"{user.name} ({user.role}); token, shown only now: {user.token}")


@user_app.command("rotate")
def user_rotate(
    name: Annotated[str, typer.Argument(help="The user.")],
    db: DbOption = None,
    database_url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give a user a new token (printed once); the old one stops working at once."""
    with store_of(db, database_url) as store, refusing(name="NAME"):
        user = rotate_token(store, name, actor="cli")
    out(json.dumps({"name": user.name, "token": user.token}) if as_json else f"{user.name}: new token {user.token}")


@user_app.command("revoke")
def user_revoke(
    name: Annotated[str, typer.Argument(help="The user.")], db: DbOption = None, database_url: UrlOption = None
) -> None:
    """Remove a user: their token stops working at once."""
    with store_of(db, database_url) as store, refusing(name="NAME"):
        revoke_user(store, name, actor="cli")
    out(f"{name} revoked")


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    db: DbOption = None,
    database_url: UrlOption = None,
    rate: Annotated[int, typer.Option(min=1, help="Requests a minute per token (public: per address).")] = 1200,
    address_rate: Annotated[
        int, typer.Option(min=1, help="Requests a minute per client address, before its token is looked at.")
    ] = 2400,
    in_flight: Annotated[int, typer.Option(min=1, help="Requests at once; more are answered 503.")] = 64,
    proxy: Annotated[
        list[str] | None,
        typer.Option(help="A reverse proxy's address whose X-Forwarded-For is believed (repeat it); none by default."),
    ] = None,
    gazetteer: Annotated[
        Path | None, typer.Option(help="Folder of gazetteer files: settlement labels on the map (/api/places).")
    ] = None,
    worker: Annotated[
        bool, typer.Option(help="Run the alert worker in the service too (the demo's way; else `greyzone worker`).")
    ] = False,
) -> None:
    """Run the API and the web map (FastAPI + uvicorn; one worker — for several, run
    `uvicorn --factory greyzone.service.app:app_from_env --workers N` with the same GREYZONE_* settings)."""
    import os

    import uvicorn

    settings = cli_settings(db, database_url, gazetteer)
    limits = {"GREYZONE_RATE": rate, "GREYZONE_ADDRESS_RATE": address_rate, "GREYZONE_IN_FLIGHT": in_flight,
              "GREYZONE_WORKER": int(worker)}  # fmt: skip
    os.environ.update(settings.to_env() | {k: str(v) for k, v in limits.items()})
    out(f"greyzone on http://{host}:{port}/ (API docs at /docs), store {store_name(settings)}")
    trusted = ",".join(proxy or [])  # X-Forwarded-For from anyone else is ignored: it would dodge the limits
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        log_level="warning",
        backlog=1024,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )
