"""Settings: built from the environment and flags at the edge, then passed in; never read at import."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from greyzone.errors import SettingsError

DEFAULT_DB = Path("greyzone.db")
KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class Settings:
    db_path: Path = DEFAULT_DB
    gazetteer_dir: Path | None = None
    reporter_key_path: Path | None = None  # default: the database path + ".key"
    database_url: str | None = None  # postgresql://…: the server store instead of the SQLite file (the service)
    personal_key_path: Path | None = None  # default: the database path + ".personal.key"
    status_fresh_h: float = 48.0  # a utility's or service's status older than this is unknown
    retention_days: float = 30.0  # personal data of a closed evacuation request is purged after this
    webhook_hosts: str = "127.0.0.1,localhost"  # the hosts alerts may be delivered to (comma-separated)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """GREYZONE_DB, GREYZONE_GAZETTEER, GREYZONE_REPORTER_KEY_FILE, GREYZONE_DATABASE_URL,
        GREYZONE_PERSONAL_KEY_FILE, GREYZONE_STATUS_FRESH_H, GREYZONE_RETENTION_DAYS, GREYZONE_WEBHOOK_HOSTS;
        explicit overrides win."""
        env = os.environ if env is None else env
        values: dict[str, object] = {
            "db_path": Path(env.get("GREYZONE_DB", str(DEFAULT_DB))),
            "gazetteer_dir": Path(env["GREYZONE_GAZETTEER"]) if env.get("GREYZONE_GAZETTEER") else None,
            "reporter_key_path": Path(env["GREYZONE_REPORTER_KEY_FILE"])
            if env.get("GREYZONE_REPORTER_KEY_FILE")
            else None,
            "database_url": env.get("GREYZONE_DATABASE_URL") or None,
            "personal_key_path": Path(env["GREYZONE_PERSONAL_KEY_FILE"])
            if env.get("GREYZONE_PERSONAL_KEY_FILE")
            else None,
        }
        for name, field in (
            ("GREYZONE_STATUS_FRESH_H", "status_fresh_h"),
            ("GREYZONE_RETENTION_DAYS", "retention_days"),
        ):
            if env.get(name):
                try:
                    values[field] = float(env[name])
                except ValueError:
                    raise SettingsError(f"{name}: expected a number; got {env[name]!r}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The environment :meth:`from_env` reads back to these settings (for a server started by name)."""
        env = {"GREYZONE_DB": str(self.db_path), "GREYZONE_DATABASE_URL": self.database_url or ""}
        env["GREYZONE_GAZETTEER"] = str(self.gazetteer_dir) if self.gazetteer_dir else ""
        env["GREYZONE_REPORTER_KEY_FILE"] = str(self.reporter_key_path) if self.reporter_key_path else ""
        env["GREYZONE_PERSONAL_KEY_FILE"] = str(self.personal_key_path) if self.personal_key_path else ""
        env["GREYZONE_STATUS_FRESH_H"] = str(self.status_fresh_h)
        env["GREYZONE_RETENTION_DAYS"] = str(self.retention_days)
        env["GREYZONE_WEBHOOK_HOSTS"] = self.webhook_hosts
        return env

    @property
    def key_path(self) -> Path:
        return self.reporter_key_path or self.db_path.with_name(self.db_path.name + ".key")

    @property
    def sealing_key_path(self) -> Path:
        """The key file that encrypts personal data (Fernet keys, newest first, one a line)."""
        return self.personal_key_path or self.db_path.with_name(self.db_path.name + ".personal.key")


def reporter_key(settings: Settings, *, create: bool = True) -> bytes:
    """The secret key of reporter hashes, kept outside the database (created once, mode 0600)."""
    path = settings.key_path
    if path.exists():
        key = path.read_bytes()
        if len(key) < 16:
            raise SettingsError(
                f"{path}: the reporter key is too short ({len(key)} bytes); delete it to make a new one"
            )
        return key
    if not create:
        raise SettingsError(f"{path}: no reporter key; run 'greyzone init'")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it a moment ago: use theirs
        return reporter_key(settings, create=False)
    key = secrets.token_bytes(KEY_BYTES)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key
