"""One error root for greyzone; each error is also the builtin it behaves like.

The tree::

    GreyzoneError
    ├── ReportError(ValueError)        a report's fields are invalid (all problems listed at once)
    ├── GazetteerError(LookupError)    a place name is unknown or ambiguous
    ├── IngestError(ValueError)        a whole file cannot be read (unknown format, not text, ...)
    ├── StoreError(RuntimeError)       the store cannot be opened, migrated or written
    │   └── SchemaError                the database was written by a newer greyzone, or is not ours
    ├── SettingsError(ValueError)      a setting is missing or malformed
    ├── InputError(ValueError)         one input of a question is wrong (names the input: CLI option, API field)
    ├── ConflictError(ValueError)      a request contradicts an earlier one (an idempotency key reused)
    │   └── RejectedReportsError       reports sent at once were not valid (every reject listed; none stored)
    └── NotAvailableError(LookupError) a product has nothing to be made from yet (no model, no observations)

Callers catch ``GreyzoneError`` at the edge (CLI, API) and turn it into one clear line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class GreyzoneError(Exception):
    """Root of every error greyzone raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one field: what was expected, what was got."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class ReportError(GreyzoneError, ValueError):
    """A report failed validation; ``problems`` lists every field that is wrong."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class GazetteerError(GreyzoneError, LookupError):
    """A place name could not be resolved to one point."""


class IngestError(GreyzoneError, ValueError):
    """A whole input file could not be read."""


class StoreError(GreyzoneError, RuntimeError):
    """The store cannot be opened, migrated or written."""


class SchemaError(StoreError):
    """The database is not a greyzone store, or was written by a newer version."""


class SettingsError(GreyzoneError, ValueError):
    """A setting is missing or malformed."""


class InputError(GreyzoneError, ValueError):
    """One input of a question is wrong. ``param`` names it as the application layer knows it
    (``from``, ``window``, ``cell``): the CLI shows it as ``--from``, the API as a field."""

    def __init__(self, param: str, message: str) -> None:
        self.param = param
        super().__init__(message)


class RejectedReportsError(InputError):
    """Reports sent together failed validation; ``rejects`` holds (row, field, reason) for each, and none was
    stored (a request lands whole or not at all)."""

    def __init__(self, message: str, rejects: Sequence[tuple[int, str, str]]) -> None:
        self.rejects = tuple(rejects)
        super().__init__("reports", message)


class ConflictError(GreyzoneError, ValueError):
    """A request contradicts an earlier one (an Idempotency-Key sent again with another body)."""


class NotAvailableError(GreyzoneError, LookupError):
    """A product has nothing to be made from yet (no hazard model fitted, no observations stored)."""
