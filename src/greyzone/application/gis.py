"""Layers a GIS opens directly: the products published into the PostgreSQL store's PostGIS tables.

``publish`` computes the control map (dissolved by state, as the API gives it, and cell by cell), the
hazard forecast (each cell's peak and mean rate over the next hours, or *unknown* when its data is stale)
and each city's ways out (status, since when, why; its route), for one moment, and replaces the
published layers with them in one transaction. Reports, districts and service points need no publishing:
they are views over the store's own tables (migration 009). A product with nothing to be made from yet
(no control observations, no fitted model, no city with gates) is published empty, and said so.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

import h3
import numpy as np
import shapely

from greyzone.application.stores import AppStore
from greyzone.errors import InputError, NotAvailableError
from greyzone.model.grid import cell_polygons
from greyzone.store.base import GisFeature, GisStore

Json = dict[str, Any]


def _features(collection: Json) -> list[GisFeature]:
    return [GisFeature(dict(f["properties"]), json.dumps(f["geometry"])) for f in collection["features"]]


def control_layers(store: AppStore, when: datetime, res: int) -> tuple[list[GisFeature], list[GisFeature]]:
    """The control map dissolved by state (the API's layer) and cell by cell."""
    from greyzone.application.control import as_of_text, control_map, fused_control
    from greyzone.control.products import CODE_STATES

    dissolved = _features(control_map(store, when, res).to_geojson())
    fusion = fused_control(store, when, res)
    states = np.asarray(fusion.states(when.timestamp()))
    cells = []
    for i, cell in enumerate(fusion.grid.cells):
        geometry = shapely.to_geojson(cell_polygons([int(cell)])[0])
        props = {"cell": h3.int_to_str(int(cell)), "state": CODE_STATES[int(states[i])].value,
                 "as_of": as_of_text(float(fusion.as_of[i]))}  # fmt: skip
        cells.append(GisFeature(props, geometry))
    return dissolved, cells


def hazard_layer(store: AppStore, when: datetime, hours: int) -> list[GisFeature]:
    """Each cell of the newest model's forecast: its peak and mean rate over ``hours`` hours (events per km²
    per hour), or unknown (no rate) when the model's data is stale."""
    from greyzone.application.hazard import hazard_forecast, newest_model

    collection = hazard_forecast(store, newest_model(store), when, hours).to_geojson()
    out = []
    for f in cast(list[Json], collection["features"]):
        p = f["properties"]
        rates = cast(list[float] | None, p["events_per_km2_h"])
        props = {"cell": p["cell"], "status": p["status"], "first": p["first"], "hours": hours, "as_of": p["as_of"],
                 "peak_events_per_km2_h": max(rates) if rates else None,
                 "mean_events_per_km2_h": float(np.mean(rates)) if rates else None}  # fmt: skip
        out.append(GisFeature(props, json.dumps(f["geometry"])))
    return out


def corridor_features(store: AppStore, when: datetime, res: int) -> list[GisFeature]:
    """Each way out of each city with gates: its gate (a point) and its route (a line), with its status."""
    from greyzone.application.movement import corridor_layer

    out = []
    for city in store.city_names():
        found = store.read_city(city)
        if found is None or not found.gates:
            continue
        for f in _features(corridor_layer(store, city, when, res)):
            out.append(GisFeature({"city": city, **f.properties}, f.geometry))
    return out


def publish(store: AppStore, when: datetime, res: int = 8, hours: int = 6) -> tuple[dict[str, int], list[str]]:
    """Publish the products at ``when`` into the PostGIS layers: (features per layer, what was empty and why)."""
    if not isinstance(store, GisStore):
        raise InputError("database_url", "GIS layers need the PostgreSQL store (with PostGIS): --database-url")
    layers: dict[str, list[GisFeature]] = {}
    empty: list[str] = []
    try:
        layers["gis_control"], layers["gis_control_cells"] = control_layers(store, when, res)
    except NotAvailableError as exc:
        layers["gis_control"], layers["gis_control_cells"] = [], []
        empty.append(f"control: {exc}")
    try:
        layers["gis_hazard"] = hazard_layer(store, when, hours)
    except (NotAvailableError, InputError) as exc:
        layers["gis_hazard"] = []
        empty.append(f"hazard: {exc}")
    try:
        layers["gis_corridors"] = corridor_features(store, when, res)
    except NotAvailableError as exc:
        layers["gis_corridors"] = []
        empty.append(f"ways out: {exc}")
    return store.publish_layers(layers, when.timestamp()), empty
