"""How exposed a trip is, by mode of travel and by how each threat harms, and where it may not go (pure).

Each threat harms in one of three ways (``HARM``), and its exposure per street entered at hour h is:

* **area** weapons (shelling, glide bombs, missiles, air strikes, clashes) — by presence in an effect
  area: ``rate(street, h) × EFFECT_KM2[k] × hours on the street × vulnerability[mode][k]``;
* **road hunters** (FPV strikes, drone drops) — by time spent on the streets where they strike: they
  strike what moves on a road, so the hazard's events per km² are spread over the road length there
  (``road_density``, km of street per km²), a vehicle on a road is hunted over the stretch a drone
  watches (``HUNT_KM``), and the mode's ``vulnerability`` says how much it is hunted and hurt (a
  moving car is the target; a pedestrian far less — small, hears the drone and takes cover; an
  armoured vehicle with EW less still):
  ``rate(street, h) / road_density(street) × HUNT_KM[k] × hours on the street × vulnerability[mode][k]``;
* **ground** threats (mines, UXO) — not by a rate at all: a street with a recent report on it is closed,
  and dearer by the report's age after that (``mine_factor``).

Trip risk = 1 − exp(−Σ exposure): the probability of at least one harmful event if events are
independent (Poisson). The numbers below are *assumptions*: ``SOURCES`` names where each comes from
(open sources on the effects of explosive weapons and on short-range drones; "assumed" where none
gives a number), and ``ASSUMPTIONS`` says so in words for every answer that uses them.

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


class Harm(StrEnum):
    """How a threat harms someone moving (module docstring)."""

    AREA = "area"
    ROAD = "road"
    GROUND = "ground"


HARM: dict[Kind, Harm] = {
    Kind.SHELLING: Harm.AREA,
    Kind.GLIDE_BOMB: Harm.AREA,
    Kind.MISSILE: Harm.AREA,
    Kind.AIR_STRIKE: Harm.AREA,
    Kind.CLASH: Harm.AREA,
    Kind.FPV_STRIKE: Harm.ROAD,
    Kind.DRONE_DROP: Harm.ROAD,
    Kind.MINE_UXO: Harm.GROUND,
}

#: km² around one event within which a person in the open is likely hurt (area weapons; assumed).
EFFECT_KM2: dict[Kind, float] = {
    Kind.SHELLING: 0.003,  # ≈ 30 m radius
    Kind.GLIDE_BOMB: 0.02,  # ≈ 80 m
    Kind.MISSILE: 0.01,
    Kind.AIR_STRIKE: 0.01,
    Kind.CLASH: 0.01,
}
#: km of road a drone watches and strikes along: a vehicle anywhere on it is what it hunts (assumed).
HUNT_KM: dict[Kind, float] = {Kind.FPV_STRIKE: 1.0, Kind.DRONE_DROP: 0.5}
MIN_ROAD_DENSITY = 0.5  # km of street per km²: below it (open fields) the road is taken as this dense
DENSITY_CELL_M = 500.0  # road density is counted in squares of this side, over each 3 × 3 block
MINE_CLOSED_DAYS = 14.0  # a street with a mine or UXO report this recent is closed
MINE_HALF_LIFE_DAYS = 30.0  # after that it costs 1 + MINE_EXTRA × 2^(−(age − closed)/half-life) times more
MINE_EXTRA = 9.0
MINE_NEAR_M = 30.0  # a report this close to a street is on it

SOURCES: dict[str, str] = {
    "effect areas": "order of magnitude of the lethal/injury radii of 152/155 mm HE shells (tens of metres) and "
    "of 250–500 kg bombs (~100 m) in open summaries of explosive-weapon effects (e.g. GICHD, 'Explosive "
    "Weapon Effects', 2017); the exact areas are assumed",
    "road hunters": "UN HRMMU, 'Deadly Drones: Civilians at Risk from Short-Range Drones in Frontline Areas of "
    "Ukraine' (June 2025) and its monthly updates (Jan 2025: short-range drones the first cause of civilian "
    "casualties, 'striking people in their cars, buses and on the streets'): drones hunt what moves on roads, "
    "cars most; the hunted stretch, the road densities and the vulnerabilities are assumed",
    "EW": "electronic warfare defeats most FPV drones aimed at a protected vehicle (open reporting; no "
    "measured rate used): armoured-with-EW vulnerability assumed 0.1",
    "mines": "a mine or UXO report closes the street until cleared or for 14 days; then dearer, halving "
    "every 30 days (assumed: no open data on how long such reports stay true)",
    "speeds": "assumed round numbers per road class and mode",
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
    Mode.FOOT: Profile(Mode.FOOT, _WALK, {Kind.FPV_STRIKE: 0.05, Kind.DRONE_DROP: 0.1}),
    Mode.BICYCLE: Profile(Mode.BICYCLE, _CYCLE, {Kind.FPV_STRIKE: 0.15, Kind.DRONE_DROP: 0.2}),
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
            Kind.FPV_STRIKE: 0.1,
            Kind.DRONE_DROP: 0.05,
            Kind.CLASH: 0.3,
        },
    ),
}

ASSUMPTIONS = (
    "risk = 1 − exp(−exposure): harmful events independent (Poisson); area weapons: hazard rate × effect area × "
    "time on the street × vulnerability; FPV drones and drone drops: the rate spread over the roads around the "
    "street (km of road per km²) × the stretch a drone hunts × time on the street × how much the mode is hunted; "
    "mines and UXO: a street with a report in the last 14 days is closed, dearer after; the numbers are assumed "
    "(routing/exposure.py SOURCES), not measurements; the hazard is the model's forecast, with its own uncertainty."
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


def count_range(n: int, level: float = 0.9) -> tuple[float, float]:
    """How far the true rate may lie from one estimated on ``n`` events, as factors of it: the
    central ``level`` interval of a Poisson mean given n counts (Garwood's exact interval), over n
    (for n = 0, over 1: the estimate stands on nothing, so up to ~3 times a single event's worth)."""
    from scipy.special import gammaincinv  # chi²(p, 2k) / 2 = the Gamma(k) quantile

    tail = (1 - level) / 2
    lo = float(gammaincinv(n, tail)) if n > 0 else 0.0
    hi = float(gammaincinv(n + 1, 1 - tail))
    return lo / max(n, 1), hi / max(n, 1)


def risk_between(by_threat: Mapping[Kind, float], counts: Mapping[Kind, int]) -> tuple[float, float]:
    """A trip's risk range: each threat's exposure scaled by the range of the rate its model estimated
    from ``counts[k]`` events near the route (``count_range``); the model's form taken as right."""
    lo = hi = 0.0
    for k, e in by_threat.items():
        f_lo, f_hi = count_range(counts.get(k, 0))
        lo, hi = lo + e * f_lo, hi + e * f_hi
    return risk(lo), risk(hi)


def range_text(between: tuple[float, float] | None) -> str:
    """ "between about 1 in 40,000 and 1 in 9,000" (the 90 % range of a risk)."""
    if between is None:
        return ""
    lo, hi = (risk_text(r).split(" (")[0].removeprefix("about ") for r in between)
    return f"likely between {lo} and {hi}" if lo != hi else ""


def edge_seconds(graph: StreetGraph, profile: Profile) -> Floats:
    """Seconds to travel each street in this mode (inf where the mode cannot go)."""
    speed = np.array([profile.speed_kph.get(RoadClass(c), 0.0) for c in range(len(RoadClass))])[graph.road_class]
    with np.errstate(divide="ignore"):
        return np.where(speed > 0, graph.length_m / (speed / 3.6), np.inf)


def edge_exposure(
    seconds: Floats, rates: Mapping[Kind, Floats], profile: Profile, density: Floats | None = None
) -> tuple[Floats, dict[Kind, Floats]]:
    """Exposure per street (summed over threats) and per threat, from each threat's rate per street
    (events per km² per hour) — or per street and hour (streets × hours): then exposure by hour too.
    ``density``: km of road per km² around each street (``road_density``), for the road hunters; ground
    threats have no rate here (``mine_factor`` closes their streets)."""
    hours = np.where(np.isfinite(seconds), seconds / 3600.0, 0.0)
    per_km2 = np.full(len(seconds), 1.0 / MIN_ROAD_DENSITY) if density is None else 1.0 / density
    per_kind = {}
    for k, r in rates.items():
        if HARM.get(k, Harm.AREA) is Harm.GROUND:
            continue
        weight = harm_area_km2(k, per_km2) * hours * profile.vulnerability.get(k, 1.0)
        per_kind[k] = r * (weight[:, None] if r.ndim == 2 else weight)
    total = np.sum(list(per_kind.values()), axis=0) if per_kind else np.zeros(len(seconds))
    return np.asarray(total, dtype=np.float64), per_kind


def road_density(graph: StreetGraph, cell_m: float = DENSITY_CELL_M) -> Floats:
    """Km of street per km² around each street: the street length (each two-way street once) in the
    3 × 3 block of ``cell_m`` squares around its middle, over the block's area; at least
    MIN_ROAD_DENSITY."""
    turns = graph.junction()  # a turn copy's streets are its junction's (counted once, from there)
    source, target = turns[graph.source()], turns[graph.target]
    reverse = np.isin(source * graph.n_nodes + target, target * graph.n_nodes + source)
    counted = np.where(reverse, 0.5, 1.0) * graph.length_m / 1000.0  # a two-way street is two edges
    counted[graph.is_copy_edge()] = 0.0
    lon = (graph.lon[source] + graph.lon[target]) / 2
    lat = (graph.lat[source] + graph.lat[target]) / 2
    if lon.size == 0:
        return np.zeros(0)
    scale = math.cos(math.radians(float(np.median(lat))))
    x = np.floor((lon - lon.min()) * 111_320.0 * scale / cell_m).astype(np.int64)
    y = np.floor((lat - lat.min()) * 110_540.0 / cell_m).astype(np.int64)
    from scipy.ndimage import convolve

    grid = np.zeros((int(x.max()) + 1, int(y.max()) + 1))
    np.add.at(grid, (x, y), counted)
    block = convolve(grid, np.ones((3, 3)), mode="constant")
    area_km2 = 9 * (cell_m / 1000.0) ** 2
    return np.asarray(np.maximum(block[x, y] / area_km2, MIN_ROAD_DENSITY), dtype=np.float64)


def harm_weight(kind: Kind, profile: Profile) -> float:
    """How much one event per km² per hour of ``kind`` weighs on an hour in this mode, at most (road
    hunters on the sparsest road): to take a model pooled over kinds as its most harmful one."""
    if HARM.get(kind, Harm.AREA) is Harm.GROUND:
        return 0.0
    return float(harm_area_km2(kind, 1.0 / MIN_ROAD_DENSITY)) * profile.vulnerability.get(kind, 1.0)


def harm_area_km2(kind: Kind, road_km2_per_km: Floats | float) -> Floats | float:
    """The km² one event of ``kind`` per km² reaches someone over: an area weapon's effect area; for a
    road hunter, the stretch it hunts over the road length per km² around the street (``1 / density``)."""
    if HARM.get(kind, Harm.AREA) is Harm.ROAD:
        return road_km2_per_km * HUNT_KM.get(kind, 1.0)
    return EFFECT_KM2.get(kind, 0.01)


def mine_factor(near_age_days: Floats) -> Floats:
    """The cost factor of a street from the age (days) of the newest mine/UXO report on it (nan: none):
    inf (closed) up to MINE_CLOSED_DAYS, then 1 + MINE_EXTRA halving every MINE_HALF_LIFE_DAYS."""
    age = np.asarray(near_age_days, dtype=np.float64)
    after = np.maximum(age - MINE_CLOSED_DAYS, 0.0)
    factor = 1.0 + MINE_EXTRA * np.exp2(-after / MINE_HALF_LIFE_DAYS)
    return np.where(np.isnan(age), 1.0, np.where(age < MINE_CLOSED_DAYS, np.inf, factor))


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
