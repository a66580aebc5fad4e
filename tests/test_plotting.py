"""The one plotting module: what each map and chart shows (legend entries, scale, layers, series)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

import svgtools
from greyzone.model.grid import Grid
from greyzone.plotting import KM_PER_DEG_LAT, MapPlot, control_map, forecast_map, scale_bar_km

LON0, LAT0 = 37.18, 48.283


def square(lon: float, lat: float, d: float = 0.01) -> shapely.Polygon:
    return shapely.box(lon, lat, lon + d, lat + d)


def test_a_legend_entry_for_each_state_drawn_and_none_for_the_others() -> None:
    areas = [
        ("held", square(LON0, LAT0)),
        ("other_side", square(LON0 + 0.02, LAT0)),
        ("unconfirmed", square(LON0, LAT0 + 0.02)),
    ]
    root = svgtools.parse(control_map(areas, "Control", "2024-11-28T12:00+00:00"))
    legend = svgtools.texts(svgtools.group(root, "legend"))
    assert legend == ["held", "other side", "unconfirmed"]  # contested was not drawn: no entry
    assert svgtools.ids(root, "state-") == ["state-held", "state-other_side", "state-unconfirmed"]
    assert any("as of 2024-11-28T12:00" in t for t in svgtools.texts(root))  # the title carries its "as of"
    labelled = control_map(areas[:1], "Контроль", None, labels={"held": "наша"})
    assert svgtools.texts(svgtools.group(svgtools.parse(labelled), "legend")) == ["наша"]  # labels come in translated


@pytest.mark.parametrize("width_km", [4.0, 12.0])
def test_the_scale_bar_is_as_long_as_a_kilometre_on_the_map(width_km: float) -> None:
    """A street exactly 1 km long east-west and the scale bar (1 km) come out the same length in the SVG."""
    km_lon = 1.0 / (111.32 * np.cos(np.radians(LAT0)))
    half = width_km / 2 * km_lon
    plot = MapPlot((LON0 - half, LAT0 - 0.02, LON0 + half, LAT0 + 0.02), "Scale")
    plot.streets([np.array([[LON0, LAT0], [LON0 + km_lon, LAT0]])])
    root = svgtools.parse(plot.svg())
    (street,) = svgtools.path_points(svgtools.group(root, "streets"))
    (bar,) = svgtools.path_points(svgtools.group(root, "scale-bar"))
    street_px = abs(street[1][0] - street[0][0])
    bar_px = abs(bar[1][0] - bar[0][0])
    assert street_px > 20 and bar_px == pytest.approx(street_px, rel=0.01)
    assert svgtools.texts(svgtools.group(root, "scale-bar-label")) == ["1 km"]
    assert svgtools.group(root, "north-arrow") is not None


def test_a_kilometre_up_the_map_is_as_long_as_one_across() -> None:
    km_lon = 1.0 / (111.32 * np.cos(np.radians(LAT0)))
    plot = MapPlot((LON0 - 0.05, LAT0 - 0.03, LON0 + 0.05, LAT0 + 0.03), "Aspect")
    plot.streets(
        [np.array([[LON0, LAT0], [LON0 + km_lon, LAT0]]), np.array([[LON0, LAT0], [LON0, LAT0 + 1 / KM_PER_DEG_LAT]])]
    )
    across, up = svgtools.path_points(svgtools.group(svgtools.parse(plot.svg()), "streets"))
    assert abs(up[1][1] - up[0][1]) == pytest.approx(abs(across[1][0] - across[0][0]), rel=0.01)


def test_scale_bar_lengths_are_round() -> None:
    assert scale_bar_km(10.0) == 1.0 and scale_bar_km(80.0) == 20.0 and scale_bar_km(0.8) == 0.2


def test_the_forecast_map_has_a_class_per_colour_or_says_unknown() -> None:
    grid = Grid.from_polygon(shapely.box(LON0 - 0.03, LAT0 - 0.03, LON0 + 0.03, LAT0 + 0.03), 8)
    rates = np.linspace(0.0, 1.0, len(grid))
    root = svgtools.parse(forecast_map(grid, rates, "Forecast", "2024-11-28T23:00"))
    legend = svgtools.texts(svgtools.group(root, "legend"))
    assert len(legend) == 8 and all("per km²" in t for t in legend)  # eight classes of equal cell counts
    cells = svgtools.path_points(svgtools.group(root, "cells"))
    assert len(cells) == len(grid)
    unknown = svgtools.parse(forecast_map(grid, None, "Forecast", "2024-11-28T23:00"))
    assert svgtools.texts(svgtools.group(unknown, "legend")) == ["unknown: the data behind the forecast is stale"]
