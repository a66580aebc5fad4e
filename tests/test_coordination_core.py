"""The pure core of coordination: the board's current status and history, names across scripts,
de-duplication, the suspicion score and crew feasibility."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greyzone.coordination.board import CONFLICTING, UNKNOWN, StatusColumns, current_status, status_history
from greyzone.coordination.dedup import Sought, duplicate_groups
from greyzone.coordination.names import is_phone, name_similarity, person_key, phone_key
from greyzone.coordination.vetting import VettingFacts, crew_problems, suspicion
from greyzone.model.coordination import Crew, Mobility, Vehicle

H = 3600.0
FRESH = 48 * H


def cols(rows: list[tuple[float, int, int, int]]) -> StatusColumns:
    t, key, status, source = (np.array(c) for c in zip(*rows, strict=True))
    return StatusColumns(t.astype(float), key.astype(np.int64), status.astype(np.int64), source.astype(np.int64))


def test_a_status_older_than_the_freshness_is_unknown_never_working() -> None:
    c = cols([(0.0, 1, 0, 0)])  # key 1 said working at hour 0
    now_fresh, now_stale = (
        current_status(c, np.array([1]), 47 * H, FRESH),
        current_status(c, np.array([1]), 49 * H, FRESH),
    )
    assert now_fresh[0].status == 0 and now_fresh[0].sources == 1
    assert now_stale[0].status == UNKNOWN and now_stale[0].stale and now_stale[0].as_of_s == 0.0
    never = current_status(c, np.array([2]), 1 * H, FRESH)[0]
    assert never.status == UNKNOWN and not never.stale and np.isnan(never.as_of_s)


def test_sources_that_disagree_now_make_it_conflicting_with_both_kept() -> None:
    c = cols([(10 * H, 1, 0, 0), (11 * H, 1, 2, 1), (11 * H, 2, 0, 0), (12 * H, 2, 0, 1)])
    one, two = current_status(c, np.array([1, 2]), 12 * H, FRESH)
    assert one.status == CONFLICTING and one.sources == 2
    assert sorted((v.status, v.sources) for v in one.voices) == [(0, 1), (2, 1)]
    assert two.status == 0 and two.sources == 2  # two sources agree
    later = current_status(cols([(0.0, 1, 2, 1), (10 * H, 1, 0, 0)]), np.array([1]), 11 * H, FRESH)[0]
    assert later.status == 0 and later.sources == 1  # an older report of another source is superseded


def test_outage_hours_per_day_come_from_the_reports() -> None:
    # out at 06:00 on day 0, working at 18:00, out again at 12:00 on day 1 (still out at the end)
    c = cols([(6 * H, 1, 2, 0), (18 * H, 1, 0, 0), (36 * H, 1, 2, 0)])
    h = status_history(c, np.array([1]), np.array([0.0, 24 * H, 48 * H]), 2, 48 * H, FRESH)
    assert h.out_hours.tolist() == [[12.0, 12.0]]
    assert h.unknown_hours.tolist() == [[6.0, 0.0]]  # nothing was known before the first report
    assert [(o.start_s / H, o.end_s / H, o.ongoing, o.confirmed_end) for o in h.outages] == [
        (6.0, 18.0, False, True),
        (36.0, 48.0, True, False),
    ]


def test_a_status_holds_for_the_freshness_at_most() -> None:
    c = cols([(0.0, 1, 2, 0)])  # out, then silence for four days
    h = status_history(c, np.array([1]), np.array([i * 24 * H for i in range(5)]), 2, 96 * H, FRESH)
    assert h.out_hours.tolist() == [[24.0, 24.0, 0.0, 0.0]]
    assert h.unknown_hours.tolist() == [[0.0, 0.0, 24.0, 24.0]]
    assert not h.outages[0].ongoing and not h.outages[0].confirmed_end


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 95), st.integers(0, 2)), min_size=1, max_size=30))
def test_hours_out_and_known_never_exceed_the_day(reports: list[tuple[int, int]]) -> None:
    c = cols([(float(t) * H, 1, s, 0) for t, s in reports])
    h = status_history(c, np.array([1]), np.array([i * 24 * H for i in range(5)]), 2, 96 * H, FRESH)
    assert np.all(h.out_hours >= 0) and np.all(h.out_hours + h.unknown_hours <= 24.0 + 1e-9)
    assert sum(o.hours for o in h.outages) == pytest.approx(h.out_hours.sum())


SPELLINGS = [
    "Олександр Петренко",
    "Александр Петренко",
    "Oleksandr Petrenko",
    "Aleksandr Petrenko",
    "Петренко Олександр Іванович",
]


def test_one_name_in_ukrainian_russian_and_latin_letters_is_one_key() -> None:
    assert len({person_key(n) for n in SPELLINGS}) == 1
    assert person_key("Микола Шевчук") == person_key("Николай Шевчук") == person_key("Mykola Shevchuk")
    assert name_similarity(person_key("Sergey Gritsenko"), person_key("Сергій Гриценко")) >= 90
    assert name_similarity(person_key("Олександр Петренко"), person_key("Олександр Петрук")) < 85  # another person
    assert name_similarity(person_key("Петренко"), person_key("Олександр Петренко")) <= 80  # a surname alone


def test_phones() -> None:
    assert phone_key("+380 67 123-45-67") == phone_key("067 123 45 67") == "671234567"
    assert is_phone("+380671234567") and is_phone("(067) 123 45 67")
    assert not is_phone("call me") and not is_phone("12345") and not is_phone("+38067123456789012")


def test_three_proxies_in_three_scripts_are_one_request_and_others_stay_apart() -> None:
    p = (37.18, 48.28)
    items = [
        Sought(("Олександр Петренко",), (), *p, 30.0),
        Sought(("Aleksandr Petrenko",), (), p[0] + 0.0003, p[1], 30.0),  # ~22 m away
        Sought(("Александр Петренко",), (), p[0], p[1] + 0.0002, 50.0),
        Sought(("Олександр Петренко",), (), p[0] + 0.05, p[1], 30.0),  # the same name, 3.7 km away: another man
        Sought(("Ганна Коваль",), (), *p, 30.0),  # another person at the same address
        Sought((), (), *p, 30.0),  # no name, no phone: never merged
        Sought(("О. Петренко",), ("+380671234567",), p[0], p[1] + 0.001, 200.0),
        Sought(("Petrenko",), ("0671234567",), p[0], p[1] + 0.001, 200.0),  # the same phone
    ]
    groups = duplicate_groups(items)
    assert sorted(map(sorted, groups)) == [[0, 1, 2], [6, 7]]


def test_a_coarse_place_meets_a_point_within_its_precision() -> None:
    town = Sought(("Ганна Ковальчук",), (), 37.18, 48.28, 3_000.0)  # "somewhere in the village"
    house = Sought(("Hanna Kovalchuk",), (), 37.20, 48.29, 20.0)  # 1.8 km from its middle
    far = Sought(("Hanna Kovalchuk",), (), 37.30, 48.29, 20.0)  # 8.9 km
    assert duplicate_groups([town, house, far]) == [[0, 1]]


def test_other_side_ground_scores_higher_than_held_with_the_reason() -> None:
    held, other = (
        suspicion(VettingFacts(control="held")),
        suspicion(VettingFacts(control="other_side", control_since="14 Nov")),
    )
    assert other.score > held.score
    assert "in ground held by the other side since 14 Nov" in other.explained()
    assert held.score == pytest.approx(0.15)  # only: a new asker, not called back


def test_a_lure_pattern_is_flagged_and_signs_combine_below_one() -> None:
    lure = suspicion(
        VettingFacts(control="unconfirmed", new_askers_near=5, window_h=1, cut_ways=(("Myrnohrad road", "22 Nov"),))
    )
    assert "5 new askers for one spot in 1 h" in lure.explained()
    assert "approach through Myrnohrad road (cut since 22 Nov)" in lure.explained()
    assert lure.level == "high" and lure.score < 1.0
    calm = suspicion(VettingFacts(control="held", callback_confirmed=True))
    assert calm.score == 0.0 and calm.explained() == "no sign of a lure found"
    everything = suspicion(
        VettingFacts("other_side", "", (("a", "b"), ("c", "d")), 9, 9, False, 9, 1, "x", False, "y", 30.0, 9, 6)
    )
    assert 0.9 < everything.score < 1.0
    assert "the stated street is not found in y" in everything.explained()  # the street itself is not said


def crew(vehicle: Vehicle, capacity: int = 4, stretcher: bool = False, wheelchair: bool = False) -> Crew:
    return Crew("c", "demo", "c", vehicle, capacity, stretcher, wheelchair, 37.1, 48.3)


def test_crew_feasibility() -> None:
    assert crew_problems(crew(Vehicle.CAR), 2, Mobility.BEDRIDDEN, "held") == ["a bedridden person needs a stretcher"]
    assert crew_problems(crew(Vehicle.ARMOURED_MINIBUS, 6, stretcher=True), 2, Mobility.BEDRIDDEN, "held") == []
    assert crew_problems(crew(Vehicle.CAR, 3), 5, Mobility.WALKS, "held") == ["room for 3, 5 to carry"]
    assert crew_problems(crew(Vehicle.CAR), 1, Mobility.WALKS, "contested") == [
        "the pick-up is in contested ground: armoured vehicles only"
    ]
    assert crew_problems(crew(Vehicle.FOOT), 1, Mobility.NEEDS_HELP, "held") == [
        "a crew on foot can only lead people who walk"
    ]
    assert crew_problems(crew(Vehicle.ARMOURED_EW, stretcher=True), 1, Mobility.WALKS, "other_side") == [
        "the pick-up is in ground held by the other side: no crew is sent"
    ]
    assert crew_problems(crew(Vehicle.CAR, wheelchair=True), 1, Mobility.WHEELCHAIR, "held") == []


def test_the_coordination_benchmark_in_small() -> None:
    """benchmarks/coordination.py on a budget: the board agrees with its SQL peer row for row, and
    de-duplication across scripts finds far more of the known duplicates than exact matching, rarely wrong."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "coordination.py"
    spec = importlib.util.spec_from_file_location("coordination_benchmark", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rng = np.random.default_rng(11)
    board = bench.board(20_000, rng)
    assert board["same_status_as_peer"] == "2400/2400"
    d = bench.dedup(1_000, rng)
    assert d["ours"]["precision"] >= 0.9 and d["ours"]["recall"] >= 0.85
    assert d["exact_match"]["recall"] < 0.2 < d["ours"]["recall"]
