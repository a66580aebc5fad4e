"""The API (FastAPI): reports in, layers and routes out, each by role. ``create_app(settings)``.

Who sees what (MISSION.md: never publish exact positions of crews, shelters, gatherings or
reporters outside vetted roles):

* public (no token): incidents only as counts per H3 cell (res 8, ~0.7 km²) and hour, no cell with
  fewer than ``min_count`` reports, nothing newer than ``public_delay_h``, centres rounded to 0.001°
  (~100 m); the control map, the hazard forecast, cities and their gates, routes, health.
* reporter: submits reports and reads back its own.
* verifier, analyst: every report with its exact position; analysts export CSV.
* coordinator: evacuation requests and crews; only this role reads personal data (audited).
* admin: users and the audit log.

Every authentication, denial, export and admin action goes to the audit log. Every error answer
has one shape: ``{"error": {"status", "code", "message", "details"}}``. The routers (one per area,
``service/routers/``) call the application layer only; what they share comes from ``service/deps``.
"""

# no "from __future__ import annotations": FastAPI reads these annotations at run time

import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from greyzone.application.alerts import run_worker
from greyzone.application.watch import WATCH_S
from greyzone.errors import InputError, NotAvailableError
from greyzone.service.deps import ApiError, Gate, Limits
from greyzone.service.guard import BodyLimit, InFlightLimit, error_body
from greyzone.service.routers import admin, alerts, coordination, layers, movement, reports, sitrep, text
from greyzone.settings import Settings

__all__ = ["Limits", "app_from_env", "create_app"]


def create_app(settings: Settings, limits: Limits | None = None, worker_watch_s: float | None = None) -> FastAPI:
    """The service over the store the settings name (created when missing). With ``worker_watch_s`` the
    alert worker runs in a thread of the service while it is up (the demo's way: one process), its
    watching rules looked at every ``worker_watch_s`` seconds; otherwise run ``greyzone worker`` apart."""
    gate = Gate(settings, limits or Limits())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if worker_watch_s is None:
            try:
                yield
            finally:
                gate.close()
            return
        stop = threading.Event()
        thread = threading.Thread(
            target=run_worker, args=(settings, stop, 0.5, worker_watch_s), name="greyzone-worker", daemon=True
        )
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=30)
            gate.close()

    app = FastAPI(
        lifespan=lifespan,
        title="greyzone",
        version="0.1.0",
        summary="Situational awareness and safer movement (API)",
        docs_url=None,  # FastAPI's own pages load Swagger UI from a CDN: served from the package instead
        redoc_url=None,
    )
    app.add_middleware(BodyLimit, max_bytes=gate.limits.max_body_bytes)
    app.add_middleware(InFlightLimit, most=gate.limits.in_flight)
    add_error_handlers(app)
    for area in (reports, layers, movement, coordination, sitrep, alerts, text, admin):
        app.include_router(area.router)
    app.mount("/map", StaticFiles(directory=Path(__file__).parent / "static", html=True), name="map")

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/map/")

    @app.get("/sw.js", include_in_schema=False)
    def service_worker() -> FileResponse:
        """The map's service worker, at the root so that its scope covers the API it caches for offline use."""
        headers = {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"}
        return FileResponse(Path(__file__).parent / "static" / "sw.js", media_type="text/javascript", headers=headers)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI from the npm package bundled with the map (works offline)."""
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="greyzone API",
            swagger_js_url="/map/vendor/swagger-ui-bundle.js",
            swagger_css_url="/map/vendor/swagger-ui.css",
            swagger_favicon_url="/map/vendor/favicon-32x32.png",
        )

    app.state.gate = gate
    return app


def _answer(status: int, code: str, message: str, details: list[Any] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, code, message, details), status)


def add_error_handlers(app: FastAPI) -> None:
    """Every error, ours or the framework's, in the one shape; the application's errors translated once."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.status, exc.code, exc.message, exc.details), exc.status, exc.headers)

    @app.exception_handler(NotAvailableError)
    async def _not_available(_: Request, exc: NotAvailableError) -> JSONResponse:
        return _answer(404, "not_available", str(exc))

    @app.exception_handler(InputError)
    async def _bad_input(_: Request, exc: InputError) -> JSONResponse:
        return _answer(422, "invalid", str(exc), [{"field": exc.param, "reason": str(exc)}])

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]} for e in exc.errors()]
        return _answer(422, "invalid", "the request is not valid", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _answer(exc.status_code, "http", str(exc.detail))

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        return _answer(500, "internal", f"internal error: {type(exc).__name__}")


def app_from_env() -> FastAPI:
    """The service as ``uvicorn --factory greyzone.service.app:app_from_env`` starts it (``greyzone serve``
    does): settings from GREYZONE_DB / GREYZONE_DATABASE_URL / …, limits from GREYZONE_RATE (requests a
    minute per caller), GREYZONE_ADDRESS_RATE (requests a minute per client address, before its token is
    looked at) and GREYZONE_IN_FLIGHT (requests at once); GREYZONE_WORKER=1 runs the alert worker in it."""
    env = os.environ
    limits = Limits(
        per_minute=int(env.get("GREYZONE_RATE", "1200")),
        per_address=int(env.get("GREYZONE_ADDRESS_RATE", "2400")),
        in_flight=int(env.get("GREYZONE_IN_FLIGHT", "64")),
    )
    return create_app(Settings.from_env(), limits, WATCH_S if env.get("GREYZONE_WORKER") == "1" else None)
