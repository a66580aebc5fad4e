"""What stands between a request and the data: tokens, roles, rate limits, body size (pure + ASGI).

Tokens are 32 random bytes (URL-safe text); the store keeps only their SHA-256 (a token has the
entropy of a key, so a slow password hash adds nothing). Roles are ordered: public < reporter <
verifier < analyst < admin, and each endpoint names the least role it needs.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from greyzone.application.access import RANK, new_token, token_hash

__all__ = ["RANK", "BodyLimit", "InFlightLimit", "RateLimiter", "error_body", "new_token", "retry_after", "token_hash"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def error_body(status: int, code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    """The one shape of every error answer."""
    return {"error": {"status": status, "code": code, "message": message, "details": details or []}}


class RateLimiter:
    """A token bucket per client: ``per_minute`` requests a minute, bursts up to the same number."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.capacity, self.clock = per_minute / 60.0, float(per_minute), clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when the request may go; else the seconds to wait before the next one may."""
        now = self.clock()
        with self._lock:
            level, then = self._buckets.get(client, (self.capacity, now))
            level = min(self.capacity, level + (now - then) * self.rate)
            if level >= 1.0:
                self._buckets[client] = (level - 1.0, now)
                return 0.0
            self._buckets[client] = (level, now)
            if len(self._buckets) > 100_000:  # bounded memory: forget the oldest clients
                for key in sorted(self._buckets, key=lambda k: self._buckets[k][1])[:50_000]:
                    del self._buckets[key]
            return (1.0 - level) / self.rate


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` is answered 413 (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(send, self.max_bytes)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLargeError
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLargeError:
            if not started:
                await _too_large(send, self.max_bytes)


class _TooLargeError(Exception):
    pass


async def _too_large(send: Send, max_bytes: int) -> None:
    body = json.dumps(error_body(413, "too_large", f"the request body is over {max_bytes} bytes")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class InFlightLimit:
    """ASGI middleware: at most ``most`` requests at once; the next are answered 503 with Retry-After at
    once (shedding load keeps memory and latency bounded instead of queueing without end)."""

    def __init__(self, app: ASGIApp, most: int) -> None:
        self.app, self.most, self.now = app, most, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.now >= self.most and scope.get("path") != "/api/health":
            body = json.dumps(error_body(503, "busy", "the service is at capacity: retry shortly")).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"retry-after", b"1"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        self.now += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
