"""Hypothesis strategies for greyzone's raw records and reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from greyzone.model.enums import Kind

KINDS = [k.value for k in Kind]

good_times = st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))
any_text = st.one_of(st.none(), st.text(max_size=30))
numbers = st.one_of(
    st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-1000, 1000), st.text(max_size=8)
)


@st.composite
def raw_fields(draw: Any) -> dict[str, Any]:
    """Raw report fields: mostly plausible, often wrong in one or more ways."""
    kind = draw(st.one_of(st.sampled_from(KINDS), st.sampled_from(["artillery", "mortar", "bogus", ""])))
    t = draw(good_times)
    when = draw(
        st.one_of(
            st.just(t.isoformat()),
            st.just(t.replace(tzinfo=None).isoformat()),
            st.just(t.date().isoformat()),
            st.text(max_size=10),
        )
    )
    fields: dict[str, Any] = {
        "kind": kind,
        "observed_at": when,
        "lon": draw(st.one_of(st.floats(-200, 200), st.floats(36.0, 38.0), numbers)),
        "lat": draw(st.one_of(st.floats(-100, 100), st.floats(47.5, 48.8), numbers)),
        "location_precision_m": draw(st.one_of(st.none(), st.floats(-10, 2e6), st.sampled_from([50, 100, 1000]))),
        "source": draw(st.one_of(st.sampled_from(["a", "b", "police"]), st.just(""), st.none())),
        "credibility": draw(st.one_of(st.none(), st.floats(-0.5, 1.5))),
        "text": draw(any_text),
    }
    extras = {
        "side": st.sampled_from(["held", "other_side", "unknown", "left"]),
        "utility": st.sampled_from(["power", "water", "sewage"]),
        "service": st.sampled_from(["bread", "shelter", "casino"]),
        "status": st.sampled_from(["working", "out", "open", "closed", "meh"]),
        "killed": st.one_of(st.integers(-2, 5), st.floats(0, 3)),
        "subkind": st.sampled_from(["artillery", "mlrs", "catapult"]),
        "ended_at": st.just((t + timedelta(hours=1)).isoformat()),
        "reported_at": st.just((t - timedelta(days=1)).isoformat()),
    }
    for name, strategy in extras.items():
        if draw(st.booleans()):
            fields[name] = draw(strategy)
    return fields
