"""How exposed a trip is, by mode of travel, and where it may not go (pure).

Exposure of a street entered at hour h, for one mode:

    Σ over threats k of  rate_k(street, h) × effect_km2[k] × hours on the street × vulnerability[mode][k]

``rate_k`` is the hazard's expected events per km² per hour at the street (``HazardState.segment_rates``),
``effect_km2`` the area around one event within which someone in the open is likely hurt, and the
vulnerability what the mode's protection leaves of that (1: none). Trip risk = 1 − exp(−Σ exposure):
the probability of at least one harmful event if events are independent (Poisson) — an *assumption*,
as are the effect areas, speeds and vulnerabilities below, which are round numbers from open sources
on artillery fragments, glide bombs and FPV drones, not measurements. ``ASSUMPTIONS`` says so in
words for every answer that uses them.

Control: ground held by the other side is never entered (its streets close); grey ground (contested
or unconfirmed) costs ``grey_penalty`` times more, or closes too when asked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from greyzone.model.enums import Kind
from greyzone.routing.graph import RoadClass, StreetGraph

Floats = npt.NDArray[np.float64]
HELD, OTHER_SIDE, CONTESTED, UNCONFIRMED = 0, 1, 2, 3  # the control map's state codes


class Mode(StrEnum):
    FOOT = "foot"
    BICYCLE = "bicycle"
    CAR = "car"
    ARMOURED = "armoured"  # an armoured vehicle with electronic warfare against drones


#: km² around one event within which a person in the open is likely hurt (assumed).
EFFECT_KM2: dict[Kind, float] = {
    Kind.SHELLING: 0.003,
    Kind.GLIDE_BOMB: 0.02,
    Kind.MISSILE: 0.01,
    Kind.AIR_STRIKE: 0.01,
    Kind.FPV_STRIKE: 0.0005,
    Kind.DRONE_DROP: 0.0003,
    Kind.MINE_UXO: 0.00005,
    Kind.CLASH: 0.01,
}

_ROAD = {
    RoadClass.MOTORWAY: 70.0,
    RoadClass.TRUNK: 60.0,
    RoadClass.PRIMARY: 50.0,
    RoadClass.SECONDARY: 45.0,
    RoadClass.TERTIARY: 40.0,
    RoadClass.UNCLASSIFIED: 30.0,
    RoadClass.RESIDENTIAL: 25.0,
    RoadClass.SERVICE: 15.0,
    RoadClass.LIVING_STREET: 10.0,
    RoadClass.TRACK: 15.0,
    RoadClass.OTHER: 20.0,
}
_WALK: dict[RoadClass, float] = dict.fromkeys(set(RoadClass) - {RoadClass.MOTORWAY}, 4.5) | {
    RoadClass.STEPS: 2.0,
    RoadClass.TRACK: 4.0,
}
_CYCLE: dict[RoadClass, float] = dict.fromkeys(set(RoadClass) - {RoadClass.MOTORWAY, RoadClass.STEPS}, 14.0) | {
    RoadClass.PATH: 10.0,
    RoadClass.TRACK: 10.0,
    RoadClass.CYCLEWAY: 16.0,
}


@dataclass(frozen=True)
class Profile:
    mode: Mode
    speed_kph: Mapping[RoadClass, float]  # a class missing here is not usable in this mode
    vulnerability: Mapping[Kind, float]  # 0 … 1; a threat missing here counts fully


PROFILES: dict[Mode, Profile] = {
    Mode.FOOT: Profile(Mode.FOOT, _WALK, {Kind.FPV_STRIKE: 0.3, Kind.DRONE_DROP: 0.6}),
    Mode.BICYCLE: Profile(Mode.BICYCLE, _CYCLE, {Kind.FPV_STRIKE: 0.5, Kind.DRONE_DROP: 0.6}),
    Mode.CAR: Profile(
        Mode.CAR,
        _ROAD,
        {Kind.SHELLING: 0.8, Kind.GLIDE_BOMB: 0.9, Kind.MISSILE: 0.9, Kind.AIR_STRIKE: 0.9, Kind.DRONE_DROP: 0.8},
    ),
    Mode.ARMOURED: Profile(
        Mode.ARMOURED,
        {c: 0.8 * v for c, v in _ROAD.items()} | {RoadClass.TRACK: 25.0},
        {
            Kind.SHELLING: 0.15,
            Kind.GLIDE_BOMB: 0.4,
            Kind.MISSILE: 0.4,
            Kind.AIR_STRIKE: 0.4,
            Kind.FPV_STRIKE: 0.3,
            Kind.DRONE_DROP: 0.1,
            Kind.MINE_UXO: 0.4,
            Kind.CLASH: 0.3,
        },
    ),
}

ASSUMPTIONS = (
    "risk = 1 − exp(−exposure): harmful events independent (Poisson); exposure = hazard rate × effect area × time on "
    "the street × vulnerability; effect areas, speeds and vulnerabilities are assumed round numbers (routing/"
    "exposure.py), not measurements; the hazard is the model's forecast, with its own uncertainty."
)


def risk_text(risk: float | None) -> str:
    """A trip's risk said plainly: "about 1 in 210,000 (0.00047 %)"; "risk unknown" without a hazard."""
    if risk is None or not math.isfinite(risk):
        return "risk unknown (no fresh hazard model)"
    if risk <= 0:
        return "no harm forecast on this route (risk 0 in the models used)"
    percent = 100.0 * risk
    decimals = max(0, 1 - math.floor(math.log10(percent)))  # two significant figures
    if risk >= 0.5:
        return f"more likely than not ({percent:.0f} %)"
    n = 1.0 / risk
    one_in = round(n, 1 - math.floor(math.log10(n)))  # two significant figures
    return f"about 1 in {one_in:,.0f} ({percent:.{decimals}f} %)"


def edge_seconds(graph: StreetGraph, profile: Profile) -> Floats:
    """Seconds to travel each street in this mode (inf where the mode cannot go)."""
    speed = np.array([profile.speed_kph.get(RoadClass(c), 0.0) for c in range(len(RoadClass))])[graph.road_class]
    with np.errstate(divide="ignore"):
        return np.where(speed > 0, graph.length_m / (speed / 3.6), np.inf)


def edge_exposure(seconds: Floats, rates: Mapping[Kind, Floats], profile: Profile) -> tuple[Floats, dict[Kind, Floats]]:
    """Exposure per street (summed over threats) and per threat, from each threat's rate per street
    (events per km² per hour) — or per street and hour (streets × hours): then exposure by hour too."""
    hours = np.where(np.isfinite(seconds), seconds / 3600.0, 0.0)
    per_kind = {
        k: r * EFFECT_KM2.get(k, 0.01) * (hours[:, None] if r.ndim == 2 else hours) * profile.vulnerability.get(k, 1.0)
        for k, r in rates.items()
    }
    total = np.sum(list(per_kind.values()), axis=0) if per_kind else np.zeros(len(seconds))
    return np.asarray(total, dtype=np.float64), per_kind


def risk(exposure: float) -> float:
    """P(at least one harmful event) for a total exposure."""
    return -math.expm1(-max(exposure, 0.0))


def edge_states(graph: StreetGraph, state_of_points: npt.NDArray[np.integer]) -> npt.NDArray[np.int8]:
    """The worst control state along each street, from the states of its shape points (in
    ``graph.shape_lonlat`` order): other side if any point is, else grey if any is, else held."""
    severity = np.array([0, 3, 2, 1], dtype=np.int8)  # by state code: held < unconfirmed < contested < other side
    worst = np.maximum.reduceat(severity[np.asarray(state_of_points, dtype=np.int64)], graph.shape_offset[:-1])
    state_of_severity = np.array([HELD, UNCONFIRMED, CONTESTED, OTHER_SIDE], dtype=np.int8)
    return np.asarray(state_of_severity[worst], dtype=np.int8)


def with_control(cost: Floats, states: npt.NDArray[np.int8], grey_penalty: float | None = 10.0) -> Floats:
    """Costs with the other side's streets closed (inf) and grey streets ``grey_penalty`` times dearer
    (closed too when ``grey_penalty`` is None)."""
    out = np.array(cost, dtype=np.float64)
    out[states == OTHER_SIDE] = np.inf
    grey = (states == CONTESTED) | (states == UNCONFIRMED)
    out[grey] = np.inf if grey_penalty is None else out[grey] * grey_penalty
    return out
