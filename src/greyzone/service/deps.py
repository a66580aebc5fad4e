"""What every router shares, from one place: the gate (the store behind one lock, the rate limiter,
the layer cache), the caller and their role, the limits, the one error type and its shape."""

# no "from __future__ import annotations": FastAPI reads these annotations at run time

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import Response

from greyzone.application.access import RANK, user_of_token
from greyzone.application.reports import Json, PublicRule
from greyzone.application.stores import AppStore, open_store
from greyzone.service.guard import RateLimiter, retry_after
from greyzone.settings import Settings
from greyzone.store.base import AuditEntry, User

PUBLIC = User("public", "public")
JSON_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "GeoJSON", "content": {"application/json": {"schema": {"type": "object"}}}}
}


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 2_000_000
    per_minute: int = 1200  # per token (public: per client address)
    per_address: int = 2400  # per client address, before its token is looked at (floods of bogus tokens)
    denials_per_minute: int = 30  # failed authentications a minute per address; more are answered 429
    in_flight: int = 64  # requests handled at once; more are answered 503 at once
    max_batch: int = 5000
    public_delay_h: float = 24.0
    min_count: int = 5
    layer_ttl_s: float = 60.0
    clock: Callable[[], float] = time.time  # what "now" is for the public's delay (tests move it)

    @property
    def public(self) -> PublicRule:
        """What the public may see of incidents."""
        return PublicRule(self.public_delay_h, self.min_count)


class ApiError(Exception):
    """An answer other than success: status, a code, a message for people, details (field, reason)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.headers = status, code, message, details, headers


class Gate:
    """The store (one connection, one request at a time), the audit log, who may pass, and the cache."""

    def __init__(self, settings: Settings, limits: Limits) -> None:
        self.settings, self.limits = settings, limits
        self.store: AppStore = open_store(settings)
        self.lock = threading.Lock()
        self.limiter = RateLimiter(limits.per_minute)
        self.addresses = RateLimiter(limits.per_address)
        self.denials = RateLimiter(limits.denials_per_minute)
        self._denied: dict[str, tuple[int, int]] = {}  # address -> (minute, denials not yet audited)
        self._denied_lock = threading.Lock()
        self._cache: OrderedDict[tuple[object, ...], tuple[float, bytes]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[AppStore] = []  # each thread's own connection, closed with the gate
        self._purged_at = 0.0  # when personal data past its retention was last purged (monotonic)
        self._purge_lock = threading.Lock()

    @contextmanager
    def locked(self) -> Iterator[AppStore]:
        with self.lock:
            yield self.store

    @contextmanager
    def reading(self) -> Iterator[AppStore]:
        """A store connection of this worker thread's own, for long read-only work (layers, routes): it
        takes no lock, so one caller's route never makes the others wait for the store (SQLite's WAL
        lets readers run beside the writer; PostgreSQL: a connection per thread, autocommit). Opened on
        the thread's first use and kept."""
        store = getattr(self._local, "store", None)
        if store is None:
            store = open_store(self.settings, create=False)
            self._local.store = store
            with self.lock:
                self._readers.append(store)
        yield store

    def close(self) -> None:
        """Close the store and every thread's reading connection (the service is shutting down)."""
        with self.lock:
            for store in [*self._readers, self.store]:
                store.close()
            self._readers.clear()

    def cached_bytes(self, key: tuple[object, ...], make: Callable[[], bytes], ttl_s: float) -> bytes:
        """``make()`` at most once per ``ttl_s`` per key; the 256 most recent keys are kept."""
        now = time.monotonic()
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < ttl_s:
                self._cache.move_to_end(key)
                return hit[1]
        value = make()
        with self._cache_lock:
            self._cache[key] = (now, value)
            while len(self._cache) > 256:
                self._cache.popitem(last=False)
        return value

    def cached(self, key: tuple[object, ...], make: Callable[[], Json]) -> Response:
        """A layer computed at most once per ``layer_ttl_s`` per question (layers may be that far behind
        the store), kept serialised: a hit costs no encoding."""
        return json_response(self.cached_bytes(key, lambda: json.dumps(make()).encode(), self.limits.layer_ttl_s))

    def purge_due(self, every_s: float = 3600.0) -> None:
        """Purge personal data past its retention at most once an hour, on the first coordination request
        after that (the schedule of a service that may sleep between requests)."""
        from greyzone.application.evacuation import purge_closed

        with self._purge_lock:
            if time.monotonic() - self._purged_at < every_s and self._purged_at:
                return
            self._purged_at = time.monotonic()
        with self.locked() as s:
            purge_closed(s, self.settings, datetime.now(UTC), actor="service")

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.limits.clock(), UTC)

    def layer(self, key: tuple[object, ...], answer: Callable[[AppStore], Json]) -> Response:
        """``answer(store)`` on this thread's read connection (no lock), cached as :meth:`cached` does."""

        def make() -> Json:
            with self.reading() as s:
                return answer(s)

        return self.cached(key, make)

    def audit(self, actor: str, action: str, obj: str, outcome: str) -> None:
        with self.locked() as s:
            s.audit(AuditEntry(time.time(), actor, action, obj, outcome))

    def caller(self, request: Request, authorization: str | None) -> User:
        """Who is asking. Every address is rate-limited before its token is even looked at, and failed
        authentications more tightly still; then each user (the public: each address) has its own limit."""
        address = f"ip:{request.client.host if request.client else '?'}"
        self._limit(self.addresses, address, self.limits.per_address)
        if authorization is None:
            user, client = PUBLIC, address
        else:
            scheme, _, token = authorization.partition(" ")
            with self.locked() as s:
                found = user_of_token(s, token.strip()) if scheme.lower() == "bearer" else None
            if found is None:
                self._denied_once(address, request.url.path)
                self._limit(self.denials, address, self.limits.denials_per_minute)
                raise ApiError(
                    401,
                    "unauthenticated",
                    "unknown or malformed token (send 'Authorization: Bearer TOKEN'; `greyzone user add` makes one)",
                )
            self.audit(found.name, "auth.ok", request.url.path, found.role)
            user, client = found, f"user:{found.name}"
        self._limit(self.limiter, client, self.limits.per_minute)
        return user

    def _limit(self, limiter: RateLimiter, client: str, per_minute: int) -> None:
        wait = limiter.take(client)
        if wait > 0:
            raise ApiError(
                429,
                "rate_limited",
                f"too many requests: {per_minute} a minute",
                headers={"Retry-After": retry_after(wait)},
            )

    def _denied_once(self, address: str, path: str) -> None:
        """Audit a failed authentication: the first of each minute per address as it comes, the rest of
        that minute as one entry with their count (a flood of bogus tokens cannot grow the log without end)."""
        minute = int(time.time() // 60)
        with self._denied_lock:
            seen, pending = self._denied.get(address, (minute, -1))
            if len(self._denied) > 10_000:
                self._denied.clear()
            if seen == minute and pending >= 0:
                self._denied[address] = (minute, pending + 1)
                return
            self._denied[address] = (minute, 0)
        if seen != minute and pending > 0:
            self.audit("unknown", "auth.denied", f"{pending} more from {address} in the minute before", "401")
        self.audit("unknown", "auth.denied", path, "401")


def gate_of(request: Request) -> Gate:
    gate: Gate = request.app.state.gate
    return gate


GateDep = Annotated[Gate, Depends(gate_of)]


def need(role: str) -> Callable[..., User]:
    """A dependency: the caller, when their role is ``role`` or above."""

    def check(request: Request, authorization: Annotated[str | None, Header()] = None) -> User:
        gate = gate_of(request)  # not a sub-dependency: one less to solve on every request
        user = gate.caller(request, authorization)
        if RANK[user.role] < RANK[role]:
            gate.audit(user.name, "denied", request.url.path, f"needs {role}")
            status = 401 if user.role == "public" else 403
            raise ApiError(
                status,
                "forbidden" if status == 403 else "unauthenticated",
                f"this needs the role {role} or above (you are {user.role})",
            )
        return user

    return check


Anyone = Annotated[User, Depends(need("public"))]
Reporter = Annotated[User, Depends(need("reporter"))]
Verifier = Annotated[User, Depends(need("verifier"))]
Analyst = Annotated[User, Depends(need("analyst"))]
Coordinator = Annotated[User, Depends(need("coordinator"))]
Admin = Annotated[User, Depends(need("admin"))]


def json_response(body: bytes | Json) -> Response:
    return Response(body if isinstance(body, bytes) else json.dumps(body).encode(), media_type="application/json")


EARLIEST, LATEST = datetime(1950, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)


def utc(t: datetime | None, name: str = "time") -> datetime | None:
    """A time from a request, with its offset (a time without one is refused, never guessed: the
    answer names the fix); one outside 1950–2200 is refused (no data is there, and date arithmetic
    near year 1 or 9999 overflows)."""
    if t is None:
        return None
    if t.tzinfo is None:
        reason = (
            f"a time needs its offset (add Z or +02:00, e.g. {t.isoformat()}+02:00 for Kyiv time); got {t.isoformat()}"
        )
        raise ApiError(422, "invalid", f"{name}: {reason}", [{"field": name, "reason": reason}])
    if not EARLIEST <= t <= LATEST:
        reason = f"expected a time between {EARLIEST.year} and {LATEST.year}; got {t.isoformat()}"
        raise ApiError(422, "invalid", f"{name}: {reason}", [{"field": name, "reason": reason}])
    return t


def now_minute() -> datetime:
    """Now, to the minute: the time of a layer asked for without one (its cache key: layers may be a
    minute behind, and a key with the microsecond would never be met again)."""
    return datetime.now(UTC).replace(second=0, microsecond=0)
