"""Vetting an evacuation request against lures, and which crews can answer it.

Fake evacuation requests were used to lure volunteers (Pokrovsk, November 2025). Each request gets a
**suspicion score** in [0, 1] with the reasons behind it, for a person to weigh: nothing here
dispatches or rejects anything. Each sign adds its weight (``WEIGHTS``) and the signs combine as
independent chances, ``1 − Π(1 − w)``, so no pile of weak signs passes 1 and one strong sign
counts in full:

========================  ======  ============================================================
sign                      weight  when
========================  ======  ============================================================
other_side                0.50    the point lies in ground held by the other side (control map)
contested                 0.30    … in contested ground
unconfirmed               0.20    … in grey ground where nothing recent confirms who holds it
cut_approach              0.25    the approach from the city needs a way out that is cut (each)
new_unverified_asker      0.15    every asker is new (no earlier request) and no call-back confirmed
lure_pattern              0.10    per new asker beyond the first for one spot in a short time (≤ 0.40)
street_not_found          0.15    the stated street does not exist near the point
far_from_settlement       0.15    the point lies far from the settlement the asker named
drones_on_approach        0.05    per FPV strike or drone drop near the approach lately (≤ 0.20)
========================  ======  ============================================================

Crews: a request is answered only by a crew that can carry its people (capacity, a stretcher for a
bedridden person, room for a wheelchair), on foot only people who walk, and into grey or contested
ground only an armoured vehicle. Ground held by the other side is answered by no crew.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from greyzone.model.coordination import Crew, Mobility, Vehicle

WEIGHTS = {
    "other_side": 0.50,
    "contested": 0.30,
    "unconfirmed": 0.20,
    "cut_approach": 0.25,
    "new_unverified_asker": 0.15,
    "lure_pattern": 0.10,
    "street_not_found": 0.15,
    "far_from_settlement": 0.15,
    "drones_on_approach": 0.05,
}
LURE_CAP, DRONE_CAP = 0.40, 0.20
FAR_KM = 5.0
ARMOURED = frozenset({Vehicle.ARMOURED_EW, Vehicle.ARMOURED_MINIBUS})


@dataclass(frozen=True, slots=True)
class VettingFacts:
    """What is known around a request (gathered by the application layer; dates already as text)."""

    control: str = "unknown"  # held, other_side, contested, unconfirmed, unknown (no control map)
    control_since: str = ""
    cut_ways: tuple[tuple[str, str], ...] = ()  # (way out, cut since) the approach needs
    askers: int = 1
    new_askers: int = 1  # askers with no earlier request
    callback_confirmed: bool = False
    new_askers_near: int = 1  # distinct new askers for requests at this spot within the window (this one's too)
    window_h: float = 2.0
    street: str = ""
    street_found: bool | None = None  # None: no street stated, or no street network to check against
    settlement: str = ""
    settlement_km: float | None = None  # from the stated settlement's centre to the point
    drone_strikes: int = 0
    drone_hours: float = 6.0


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    weight: float
    text: str


@dataclass(frozen=True, slots=True)
class Suspicion:
    score: float
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    @property
    def level(self) -> str:
        return "high" if self.score >= 0.5 else "medium" if self.score >= 0.25 else "low"

    def explained(self) -> str:
        return "; ".join(r.text for r in self.reasons) or "no sign of a lure found"


def suspicion(f: VettingFacts) -> Suspicion:
    """The score and its reasons, strongest first."""
    reasons = [*_ground(f), *_askers(f), *_details(f)]
    if f.drone_strikes:
        w = min(DRONE_CAP, WEIGHTS["drones_on_approach"] * f.drone_strikes)
        reasons.append(
            Reason(
                "drones_on_approach", w, f"{f.drone_strikes} FPV/drone strikes near the approach in {f.drone_hours:g} h"
            )
        )
    keep = 1.0
    for r in reasons:
        keep *= 1.0 - r.weight
    return Suspicion(round(1.0 - keep, 3), tuple(sorted(reasons, key=lambda r: -r.weight)))


def _ground(f: VettingFacts) -> list[Reason]:
    since = f" since {f.control_since}" if f.control_since else ""
    said = {
        "other_side": "in ground held by the other side",
        "contested": "in contested ground",
        "unconfirmed": "in grey ground (no recent sign of who holds it)",
    }
    out = [Reason(f.control, WEIGHTS[f.control], said[f.control] + since)] if f.control in said else []
    out += [
        Reason("cut_approach", WEIGHTS["cut_approach"], f"approach through {w} (cut since {s})") for w, s in f.cut_ways
    ]
    return out


def _askers(f: VettingFacts) -> list[Reason]:
    out = []
    if f.askers and f.new_askers == f.askers and not f.callback_confirmed:
        who = "the asker is" if f.askers == 1 else f"all {f.askers} askers are"
        out.append(Reason("new_unverified_asker", WEIGHTS["new_unverified_asker"], f"{who} new and not called back"))
    if f.new_askers_near >= 3:
        w = min(LURE_CAP, WEIGHTS["lure_pattern"] * (f.new_askers_near - 1))
        out.append(Reason("lure_pattern", w, f"{f.new_askers_near} new askers for one spot in {f.window_h:g} h"))
    return out


def _details(f: VettingFacts) -> list[Reason]:
    out = []
    if f.street and f.street_found is False:
        where = f" in {f.settlement}" if f.settlement else " near the point"  # the street is not said: an address
        out.append(Reason("street_not_found", WEIGHTS["street_not_found"], f"the stated street is not found{where}"))
    if f.settlement_km is not None and f.settlement_km > FAR_KM:
        text = f"the point is {f.settlement_km:.0f} km from {f.settlement or 'the stated settlement'}"
        out.append(Reason("far_from_settlement", WEIGHTS["far_from_settlement"], text))
    return out


def crew_problems(crew: Crew, people: int, mobility: Mobility, ground: str) -> list[str]:
    """Why ``crew`` cannot answer a request (none: it can)."""
    problems = []
    if not crew.active:
        problems.append("the crew is not active")
    if ground == "other_side":
        problems.append("the pick-up is in ground held by the other side: no crew is sent")
    elif ground in ("contested", "unconfirmed") and crew.vehicle not in ARMOURED:
        problems.append(f"the pick-up is in {ground} ground: armoured vehicles only")
    if crew.capacity < people:
        problems.append(f"room for {crew.capacity}, {people} to carry")
    if mobility is Mobility.BEDRIDDEN and not crew.stretcher:
        problems.append("a bedridden person needs a stretcher")
    if mobility is Mobility.WHEELCHAIR and not (crew.wheelchair or crew.stretcher):
        problems.append("no room for a wheelchair")
    if crew.vehicle is Vehicle.FOOT and mobility is not Mobility.WALKS:
        problems.append("a crew on foot can only lead people who walk")
    return problems
