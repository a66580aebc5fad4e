"""The one Store protocol every backend implements, and the values it takes and gives."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from greyzone.ingest.records import Reject
from greyzone.model.batch import ReportBatch
from greyzone.model.coordination import Crew, District, Need, ServicePoint
from greyzone.model.enums import SPAN_S, Kind
from greyzone.model.report import Report

if TYPE_CHECKING:
    from greyzone.store.rows import PreparedBatch


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """Which reports to read; every criterion is optional. Results are ordered by time."""

    since: datetime | None = None
    until: datetime | None = None  # exclusive
    kinds: frozenset[Kind] = frozenset()
    bbox: tuple[float, float, float, float] | None = None  # lon_min, lat_min, lon_max, lat_max
    cell: int | None = None  # an H3 cell (integer) of resolution 5 to 9: the reports inside it
    limit: int | None = None
    cells: tuple[int, ...] = ()  # H3 cells of resolution 5 to 9: the reports inside any of them
    areas: bool | None = None  # True: only reports with an area; False: only those without


@dataclass(frozen=True, slots=True)
class ReportFrame:
    """Reports as columns, for computations over many (hazard fits, control fusion): no object per row.

    One row per report, ordered by time. ``incident`` is the incident's id (count distinct values
    to count incidents); ``span_s`` is the time precision's span (0 when exact).
    """

    seq: npt.NDArray[np.int64]
    incident: npt.NDArray[np.int64]
    kind: list[str]
    source: list[str]
    observed_s: npt.NDArray[np.float64]
    span_s: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    location_precision_m: npt.NDArray[np.float64]
    credibility: npt.NDArray[np.float64]
    h3_r9: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.seq)


FRAME_COLUMNS = (
    "seq",
    "coalesce(incident_id, seq)",
    "kind",
    "source",
    "observed_at",
    "time_precision",
    "lon",
    "lat",
    "location_precision_m",
    "credibility",
    "h3_r9",
)


def frame_from_rows(rows: list[tuple[Any, ...]]) -> ReportFrame:
    """A ReportFrame from rows in FRAME_COLUMNS order."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(FRAME_COLUMNS)
    seq, incident, kind, source, observed, precision, lon, lat, radius, credibility, cell = columns
    return ReportFrame(
        np.array(seq, dtype=np.int64),
        np.array(incident, dtype=np.int64),
        list(kind),
        list(source),
        np.array(observed, dtype=np.float64),
        np.array([SPAN_S[p] for p in precision], dtype=np.float64),
        np.array(lon, dtype=np.float64),
        np.array(lat, dtype=np.float64),
        np.array(radius, dtype=np.float64),
        np.array(credibility, dtype=np.float64),
        np.array(cell, dtype=np.int64),
    )


@dataclass(frozen=True, slots=True)
class StatusRows:
    """Infrastructure and service status reports as columns: time, the utility or service, its status,
    the source, the place or record id it names (a service point's id), the point, and whether it is
    about a utility (else a service)."""

    t_s: npt.NDArray[np.float64]
    item: list[str]
    status: list[str]
    source: list[str]
    place: list[str]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    utility: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.t_s)


@dataclass(frozen=True, slots=True)
class RequestRow:
    """An evacuation request as stored: ``details`` JSON in clear (no personal data), ``personal`` sealed."""

    request_id: str
    city: str
    created_at: float
    updated_at: float
    state: str
    district: str
    cell: int
    precision_m: float
    details: str
    personal: bytes | None
    crew_id: str | None = None
    closed_at: float | None = None
    purged_at: float | None = None


@dataclass(frozen=True, slots=True)
class AskerRow:
    request_id: str
    seq: int
    asked_at: float
    relation: str
    channel: str
    callback_confirmed: bool
    asker_key: bytes
    personal: bytes | None


@dataclass(frozen=True, slots=True)
class EventRow:
    request_id: str
    at: float
    actor: str
    from_state: str
    to_state: str
    reason: str


@dataclass(frozen=True, slots=True)
class RuleRow:
    """An alert rule as stored: ``area`` GeoJSON, ``rule`` its trigger as JSON."""

    rule_id: str
    owner: str
    role: str
    city: str
    name: str
    area: str
    rule: str
    url: str
    secret: str
    format: str
    active: bool = True
    disabled: str = ""
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """A message waiting for (or given) a verifier's word: ``parse`` JSON of its event."""

    review_id: str
    received_at: float
    source: str
    text: str
    parse: str
    state: str  # pending, accepted, corrected, rejected
    reviewer: str | None = None
    reviewed_at: float | None = None
    note: str = ""


# the GIS layers the PostgreSQL store publishes (PostGIS tables; migration 009) and their columns
GIS_LAYERS: dict[str, tuple[str, ...]] = {
    "gis_control": ("state", "area_km2", "as_of"),
    "gis_control_cells": ("cell", "state", "as_of"),
    "gis_hazard": ("cell", "status", "peak_events_per_km2_h", "mean_events_per_km2_h", "first", "hours", "as_of"),
    "gis_corridors": ("city", "gate", "status", "since", "reason", "other_side_km", "grey_km", "strikes"),
}


@dataclass(frozen=True, slots=True)
class GisFeature:
    """A feature of a published layer: its columns and its geometry (GeoJSON text, lon/lat)."""

    properties: dict[str, object]
    geometry: str


@runtime_checkable
class GisStore(Protocol):
    """A store that publishes layers a GIS opens directly (the PostgreSQL store with PostGIS)."""

    def publish_layers(self, layers: Mapping[str, Sequence[GisFeature]], published_for: float) -> dict[str, int]: ...


@dataclass(frozen=True, slots=True)
class WatchRow:
    """What a watching alert rule last saw: ``state`` JSON (item → state), ``version`` its changes told."""

    rule_id: str
    state: str
    version: int
    checked_at: float


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """One alert on its way: its body is fixed when made, so every retry sends the same."""

    alert_key: str
    rule_id: str
    body: str
    created_at: float
    attempts: int
    next_at: float
    status: str  # pending, delivered, dead (retries spent), gone (the receiver answered 410)
    last_error: str
    delivered_at: float | None = None


@dataclass(frozen=True, slots=True)
class City:
    """A city's street network (``StreetGraph.to_bytes``) and its named gates (ways out)."""

    name: str
    source: str
    graph: bytes
    nodes: int
    edges: int
    gates: tuple[tuple[str, float, float], ...] = ()  # (name, lon, lat)
    imported_at: float = 0.0
    timezone: str | None = None  # IANA name (Europe/Kyiv); None: not set (departures are refused)
    curfew: str | None = None  # HH:MM-HH:MM local time: when movement is allowed


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """A fitted model kept in the store: its family (``hazard``), the report kinds it was fitted on,
    its state's format (and version), when it was fitted, the span of the data it learnt from, the
    fit's figures (JSON) and its state (JSON). ``model_id`` is set by the store."""

    family: str
    kinds: tuple[str, ...]
    format: str
    fitted_at: float
    data_from: float
    data_until: float
    summary: str
    state: str
    model_id: int = 0


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What one committed batch did. ``incidents``: distinct incidents its new reports belong to."""

    batch_id: int
    accepted: int
    duplicates: int
    rejected: int
    incidents: int


@dataclass(frozen=True, slots=True)
class BatchLog:
    """Where and when the stored reports came in: per batch, its origin (a file, or ``api:ROLE:ACTOR``),
    when it was committed (unix s, UTC) and its reports' seq range, as parallel arrays ordered by seq."""

    origin: list[str]
    committed_s: npt.NDArray[np.float64]
    first_seq: npt.NDArray[np.int64]
    last_seq: npt.NDArray[np.int64]

    def of(self, seq: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
        """The batch (index into these arrays) each report seq came in with."""
        return np.asarray(np.searchsorted(self.first_seq, seq, side="right") - 1, dtype=np.intp)


@dataclass(frozen=True, slots=True)
class StoreStats:
    reports: int
    incidents: int
    batches: int
    rejects: int  # rejected rows
    first_observed: datetime | None
    last_observed: datetime | None
    by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (reports, incidents)
    by_source: dict[str, int] = field(default_factory=dict)


class Store(Protocol):
    """Where reports live. A write is atomic: the whole batch and its rejects, or nothing."""

    def write_batch(self, batch: ReportBatch | PreparedBatch, rejects: Sequence[Reject], *, origin: str) -> BatchResult:
        """Store a validated batch (duplicates of stored reports are skipped), linking incidents.

        A ReportBatch is prepared (:func:`greyzone.store.rows.prepare`) first; a PreparedBatch is
        written as it is (the ingest pipeline prepares in its reading process)."""
        ...

    def read_reports(self, query: ReportQuery) -> Iterator[Report]: ...

    def read_frame(self, query: ReportQuery) -> ReportFrame:
        """The reports of ``query`` as columns (what model fits read), ordered by time."""
        ...

    def incident_of(self, report_id: bytes) -> int | None:
        """The incident a stored report belongs to (None when no such report)."""
        ...

    def count_incidents(self, batch_ids: Sequence[int]) -> int:
        """Distinct incidents that the reports of these batches belong to."""
        ...

    def stats(self) -> StoreStats: ...

    def write_city(self, city: City) -> None:
        """Store a city (replacing one of the same name), in one transaction."""
        ...

    def read_city(self, name: str) -> City | None:
        """The city of that name, or None."""
        ...

    def city_names(self) -> list[str]: ...

    def read_batches(self) -> BatchLog:
        """Every batch that added reports, by seq."""
        ...

    def write_model(self, model: ModelRecord) -> int:
        """Keep a fitted model (a new row: earlier fits stay); its id."""
        ...

    def read_models(self, family: str) -> list[ModelRecord]:
        """The newest model of the family for each set of kinds, newest first."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str  # reporter, verifier, analyst, coordinator, admin


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: float  # unix seconds, UTC
    actor: str
    action: str
    object: str
    outcome: str


class AccessStore(Protocol):
    """Users (hashed tokens), the audit log, idempotent answers and who submitted what."""

    def add_user(self, name: str, role: str, token_sha256: bytes) -> None:
        """Add a user; an existing name is an error (StoreError)."""

    def user_of(self, token_sha256: bytes) -> User | None: ...

    def set_token(self, name: str, token_sha256: bytes | None) -> bool:
        """Give a user a new token (rotate), or none (revoke: the user is removed); False when no such user."""
        ...

    def audit(self, entry: AuditEntry) -> None: ...

    def audit_log(self, limit: int = 1000) -> list[AuditEntry]:
        """The newest entries first."""

    def remember(self, actor: str, key: str, answer: str, report_ids: Sequence[bytes]) -> str:
        """Keep ``answer`` for (actor, key) and the reports as the actor's; the answer kept first wins
        and is returned (a concurrent retry gets the original)."""

    def recall(self, actor: str, key: str) -> str | None: ...

    def submitted_by(self, actor: str) -> set[bytes]: ...


class CoordinationStore(Protocol):
    """Districts, service points, needs, evacuation requests (sealed personal data only), crews, and the
    status reports the board reads. Each write is one transaction. (``store/coordination.py``.)"""

    def write_districts(self, city: str, districts: Sequence[District]) -> None: ...
    def read_districts(self, city: str) -> list[District]: ...
    def write_service_points(self, points: Sequence[ServicePoint]) -> None: ...
    def read_service_points(self, city: str) -> list[ServicePoint]: ...
    def write_need(self, need: Need) -> int: ...
    def meet_need(self, need_id: int, at: float) -> bool: ...
    def read_needs(self, city: str) -> list[Need]: ...
    def write_request(
        self, row: RequestRow, askers: Sequence[AskerRow], event: EventRow, idem: tuple[str, str] | None = None
    ) -> str: ...
    def add_askers(
        self, request_id: str, askers: Sequence[AskerRow], details: str, personal: bytes | None, event: EventRow
    ) -> None: ...
    def read_requests(self, city: str | None = None, states: Sequence[str] = ()) -> list[RequestRow]: ...
    def read_request(self, request_id: str) -> RequestRow | None: ...
    def read_askers(self, request_ids: Sequence[str]) -> list[AskerRow]: ...
    def asker_keys_before(self, keys: Sequence[bytes], before_s: float) -> set[bytes]: ...
    def move_request(
        self, event: EventRow, *, crew_id: str | None = None, details: str | None = None, closed_at: float | None = None
    ) -> bool: ...
    def read_events(self, request_id: str) -> list[EventRow]: ...
    def purge_requests(self, closed_before_s: float, at: float) -> list[str]: ...
    def sealed_fields(self) -> Iterator[tuple[str, str, int, bytes]]: ...
    def reseal(self, values: Sequence[tuple[str, str, int, bytes]]) -> None: ...
    def write_crew(self, crew: Crew) -> None: ...
    def read_crews(self, city: str) -> list[Crew]: ...
    def read_status(self, since_s: float, until_s: float) -> StatusRows: ...
    def write_rule(self, row: RuleRow) -> None: ...
    def read_rules(self, owner: str | None = None, active_only: bool = False) -> list[RuleRow]: ...
    def disable_rule(self, rule_id: str, why: str) -> bool: ...
    def change_rule(self, rule_id: str, owner: str, *, name: str, url: str, active: bool) -> bool: ...
    def remove_rule(self, rule_id: str, owner: str) -> bool: ...
    def batches_after(self, batch_id: int, most: int = 100) -> list[tuple[int, int, int]]: ...
    def read_seq_range(self, first: int, last: int) -> ReportFrame: ...
    def alert_cursor(self) -> int | None: ...
    def newest_batch(self) -> int: ...
    def advance_alerts(self, batch_id: int, deliveries: Sequence[DeliveryRow]) -> None: ...
    def existing_alerts(self, keys: Sequence[str]) -> set[str]: ...
    def due_deliveries(self, now: float, most: int = 100) -> list[DeliveryRow]: ...
    def read_deliveries(self, rule_ids: Sequence[str], status: str | None = None) -> list[DeliveryRow]: ...
    def update_deliveries(self, done: Sequence[DeliveryRow]) -> None: ...
    def read_watch(self) -> dict[str, WatchRow]: ...
    def add_reviews(self, rows: Sequence[ReviewRow]) -> None: ...
    def read_reviews(self, state: str | None = "pending", limit: int = 100) -> list[ReviewRow]: ...
    def close_review(
        self, review_id: str, state: str, reviewer: str, note: str, label: tuple[str, str] | None
    ) -> bool: ...
    def read_labels(self) -> dict[str, tuple[str, str]]: ...
    def keep_watch(self, seen: Sequence[WatchRow], deliveries: Sequence[DeliveryRow]) -> None: ...
