"""Hypothesis strategies for greyzone's raw records and reports, and random street graphs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st

from greyzone.model.enums import Kind
from greyzone.routing.graph import Edges, StreetGraph

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


def random_graph(n: int, m: int, seed: int) -> tuple[StreetGraph, npt.NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = u != v
    u, v = u[keep], v[keep]
    lon, lat = 37 + rng.random(n) * 0.1, 48 + rng.random(n) * 0.1
    shapes = [np.array([[lon[a], lat[a]], [lon[b], lat[b]]]) for a, b in zip(u.tolist(), v.tolist(), strict=True)]
    edges = Edges(
        u.astype(np.int64),
        v.astype(np.int64),
        rng.uniform(10, 500, u.size),
        np.zeros(u.size, np.int8),
        rng.random(u.size) < 0.3,
        [""] * u.size,
        shapes,
    )
    g = StreetGraph.from_edges(lon, lat, edges)
    return g, rng.uniform(0, 100, g.n_edges) * (rng.random(g.n_edges) > 0.05)  # some free edges
