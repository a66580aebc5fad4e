"""Frozen, validated value types. Imports nothing of greyzone but ``errors``."""

from greyzone.model.cells import CELL_RESOLUTIONS, Cells, lonlat_to_cells
from greyzone.model.enums import (
    INCIDENT_KINDS,
    InfraStatus,
    Kind,
    Service,
    ServiceStatus,
    ShellingKind,
    Side,
    TimePrecision,
    Utility,
)
from greyzone.model.report import Report, content_id

__all__ = [
    "CELL_RESOLUTIONS",
    "INCIDENT_KINDS",
    "Cells",
    "InfraStatus",
    "Kind",
    "Report",
    "Service",
    "ServiceStatus",
    "ShellingKind",
    "Side",
    "TimePrecision",
    "Utility",
    "content_id",
    "lonlat_to_cells",
]
