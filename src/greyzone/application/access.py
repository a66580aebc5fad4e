"""Users of the service: a role and a token each (only the token's SHA-256 is stored)."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from greyzone.errors import InputError
from greyzone.store.base import AccessStore, AuditEntry, User


class Role(StrEnum):
    PUBLIC = "public"
    REPORTER = "reporter"
    VERIFIER = "verifier"
    ANALYST = "analyst"
    COORDINATOR = "coordinator"  # evacuation requests, crews and the personal data they hold
    ADMIN = "admin"


#: Each role may do what the roles below it may.
RANK = {role.value: i for i, role in enumerate(Role)}
USER_ROLES = tuple(r.value for r in Role if r is not Role.PUBLIC)
NAME_PATTERN = r"[A-Za-z0-9_.@-]{1,64}"


@dataclass(frozen=True, slots=True)
class NewUser:
    name: str
    role: str
    token: str  # shown once; only its hash is kept


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def add_user(store: AccessStore, name: str, role: str, *, actor: str) -> NewUser:
    """Add a user with a new token (a taken name is a StoreError); the addition is audited."""
    if role not in USER_ROLES:
        raise InputError("role", f"expected {', '.join(USER_ROLES)}; got {role!r}")
    if not re.fullmatch(NAME_PATTERN, name):
        raise InputError("name", "use 1-64 letters, digits or _.@-")
    token = new_token()
    store.add_user(name, role, token_hash(token))
    store.audit(AuditEntry(time.time(), actor, "user.add", name, role))
    return NewUser(name, role, token)


def rotate_token(store: AccessStore, name: str, *, actor: str) -> NewUser:
    """A new token for a user (the old one stops working at once); audited."""
    token = new_token()
    if not store.set_token(name, token_hash(token)):
        raise InputError("name", f"no user {name!r}")
    store.audit(AuditEntry(time.time(), actor, "user.rotate", name, "ok"))
    found = store.user_of(token_hash(token))
    return NewUser(name, found.role if found else "?", token)


def revoke_user(store: AccessStore, name: str, *, actor: str) -> None:
    """Remove a user: their token stops working at once (what they sent stays, as their keyed name); audited."""
    if not store.set_token(name, None):
        raise InputError("name", f"no user {name!r}")
    store.audit(AuditEntry(time.time(), actor, "user.revoke", name, "ok"))


def user_of_token(store: AccessStore, token: str) -> User | None:
    return store.user_of(token_hash(token))
