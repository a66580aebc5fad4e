"""Personal data sealed at rest: Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``), with the
keys in a file outside the database (mode 0600, newest key first, one a line), like the reporter key.

Every opening of a sealed value is audited (who, why, which request) by :func:`open_personal`;
rotation (:func:`rotate_key`) puts a new key first, re-seals every value under it in one transaction
and only then drops the old keys from the file, so a crash midway leaves every value readable.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from greyzone.application.stores import AppStore
from greyzone.errors import SettingsError, StoreError
from greyzone.settings import Settings
from greyzone.store.base import AuditEntry

Json = dict[str, object]


def _read_keys(path: Path) -> list[bytes]:
    keys = [line.strip().encode() for line in path.read_text(encoding="ascii").splitlines() if line.strip()]
    if not keys:
        raise SettingsError(f"{path}: the personal-data key file is empty; restore it from its backup")
    return keys


def _write_keys(path: Path, keys: list[bytes]) -> None:
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write("".join(k.decode() + "\n" for k in keys))
        fh.flush()
        os.fsync(fh.fileno())
    temporary.replace(path)


def sealer(settings: Settings, *, create: bool = True) -> MultiFernet:
    """The keys that seal personal data (the file made once, mode 0600, when missing and ``create``)."""
    path = settings.sealing_key_path
    if not path.exists():
        if not create:
            raise SettingsError(f"{path}: no personal-data key; it is made when the first request is stored")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return sealer(settings, create=False)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(Fernet.generate_key().decode() + "\n")
    try:
        return MultiFernet([Fernet(k) for k in _read_keys(path)])
    except ValueError as exc:
        raise SettingsError(f"{path}: not a personal-data key file ({exc})") from exc


def seal(keys: MultiFernet, value: Json) -> bytes:
    return keys.encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True).encode())


def open_personal(store: AppStore, keys: MultiFernet, token: bytes | None, *, actor: str, why: str, what: str) -> Json:
    """The personal data sealed in ``token``, the reading audited ({} once purged)."""
    if token is None:
        return {}
    store.audit(AuditEntry(time.time(), actor, "personal.read", what, why))
    try:
        value: Json = json.loads(keys.decrypt(token))
    except InvalidToken as exc:
        raise StoreError(f"{what}: personal data cannot be opened with the key file (was it replaced?)") from exc
    return value


def rotate_key(store: AppStore, settings: Settings, *, actor: str) -> int:
    """A new key for personal data; every sealed value re-sealed under it; the old keys dropped. The count."""
    path = settings.sealing_key_path
    old = _read_keys(path) if path.exists() else []
    new = Fernet.generate_key()
    _write_keys(path, [new, *old])  # both readable while the values move
    keys = MultiFernet([Fernet(k) for k in [new, *old]])
    values = [(t, r, s, keys.rotate(v)) for t, r, s, v in store.sealed_fields()]
    store.reseal(values)
    _write_keys(path, [new])
    store.audit(AuditEntry(time.time(), actor, "personal.rotate_key", f"{len(values)} values", "ok"))
    return len(values)
