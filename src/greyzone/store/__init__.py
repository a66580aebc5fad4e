"""Storage behind one protocol: SQLite (embedded), an in-memory double; PostgreSQL later."""

from greyzone.store.base import BatchResult, ReportQuery, Store, StoreStats

__all__ = ["BatchResult", "ReportQuery", "Store", "StoreStats"]
