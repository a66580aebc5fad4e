"""Every static map and chart greyzone draws, on matplotlib (no pyplot: no global backend or figure
registry). Pure: each function returns the image (SVG text or PNG bytes); the caller writes it.

A map (:class:`MapPlot`) is drawn in kilometres east and north of its middle (an equirectangular
projection around it: lengths are true to well under 1 % over a city), so that a kilometre is the
same length across and up the page; it carries a title with its "as of", a legend entry for each
layer drawn, a scale bar and a north arrow. Its SVG keeps text as text and names each layer's
group (``id="streets"``, ``id="report-shelling"``, ``id="area-other_side"``, ``id="legend"``,
``id="scale-bar"``, ``id="north-arrow"``), so tests and people can find what was drawn.

Charts: a line chart (the control evaluation's daily scores, the observer sweep) and the hazard
backtest's reliability diagram. Labels come in; translating them is the caller's business.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import h3
import matplotlib as mpl
import numpy as np
import numpy.typing as npt
import shapely
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrow, Patch, PathPatch
from matplotlib.path import Path as MplPath

from greyzone.control.evaluate import DayScore
from greyzone.hazard.backtest import Backtest
from greyzone.model.enums import Kind, Side
from greyzone.model.grid import Grid
from greyzone.model.report import Report

Floats = npt.NDArray[np.float64]
BBox = tuple[float, float, float, float]
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON_EQUATOR = 111.320
STATE_COLOURS = {"held": "#3b8bd9", "other_side": "#7a0177", "contested": "#fd8d3c", "unconfirmed": "#8c8c8c"}
KIND_COLOURS = {
    Kind.SHELLING: "#d7301f",
    Kind.GLIDE_BOMB: "#7a0177",
    Kind.FPV_STRIKE: "#fd8d3c",
    Kind.DRONE_SIGHTING: "#fdd0a2",
    Kind.MINE_UXO: "#636363",
    Kind.CASUALTIES: "#000000",
    Kind.EVACUATION_REQUEST: "#2171b5",
    Kind.INFRASTRUCTURE_STATUS: "#41ab5d",
    Kind.SERVICE_STATUS: "#08519c",
    Kind.CONTROL_OBSERVATION: "#969696",
}
SIDE_COLOURS = {Side.OTHER_SIDE: "#cb181d", Side.UNKNOWN: "#969696", Side.HELD: "#2171b5"}
RAMP = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026")
NICE_KM = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0)


def scale_bar_km(width_km: float) -> float:
    """The scale bar's length: 1 km wherever a kilometre is between a twentieth and a third of the map's
    width, else the round length nearest a fifth of it."""
    if width_km / 20 <= 1.0 <= width_km / 3:
        return 1.0
    return min(NICE_KM, key=lambda k: abs(math.log(k / max(width_km / 5, 1e-9))))


@dataclass(frozen=True, slots=True)
class Projection:
    """Lon/lat → km east and north of (lon0, lat0)."""

    lon0: float
    lat0: float

    @property
    def km_per_deg_lon(self) -> float:
        return KM_PER_DEG_LON_EQUATOR * math.cos(math.radians(self.lat0))

    def xy(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Floats, Floats]:
        x = (np.asarray(lon, dtype=np.float64) - self.lon0) * self.km_per_deg_lon
        y = (np.asarray(lat, dtype=np.float64) - self.lat0) * KM_PER_DEG_LAT
        return x, y


def _render_svg(fig: Figure) -> str:
    out = io.StringIO()
    with mpl.rc_context(
        {"svg.fonttype": "none", "svg.hashsalt": "greyzone"}
    ):  # text stays text (searchable, translatable); ids are repeatable
        fig.savefig(out, format="svg")
    return out.getvalue()


def _render_png(fig: Figure, dpi: int = 110) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi)
    return out.getvalue()


class MapPlot:
    """A map of a lon/lat box: add layers, then :meth:`svg` or :meth:`png`."""

    def __init__(self, bounds: BBox, title: str, as_of: str | None = None, width_in: float = 9.0) -> None:
        x0, y0, x1, y1 = bounds
        self.projection = Projection((x0 + x1) / 2, (y0 + y1) / 2)
        (ax0, ax1), (ay0, ay1) = self.projection.xy([x0, x1], [y0, y1])
        self.width_km, height_km = float(ax1 - ax0), float(ay1 - ay0)
        height_in = min(max(width_in * height_km / max(self.width_km, 1e-9), 3.0), 2 * width_in)
        self.fig = Figure(figsize=(width_in, height_in + 1.6), dpi=100)
        self.ax: Axes = self.fig.add_axes((0.02, 1.4 / (height_in + 1.6), 0.96, height_in / (height_in + 1.6)))
        self.ax.set_xlim(float(ax0), float(ax1))
        self.ax.set_ylim(float(ay0), float(ay1))
        self.ax.set_aspect("equal", adjustable="box")
        self.ax.set_axis_off()
        heading = f"{title} (as of {as_of})" if as_of else title
        self.fig.suptitle(heading, x=0.02, y=0.995, ha="left", va="top", fontsize=11, fontweight="bold", wrap=True)
        self.fig.patch.set_facecolor("#fbfbf8")
        self._legend: list[Patch | PathCollection] = []

    # ------------------------------------------------------------------------------------- layers

    def streets(self, lines: Iterable[Floats], widths: Sequence[float] | None = None, colour: str = "#888888") -> None:
        """Street lines (each an N × 2 array of lon, lat), thin unless ``widths`` says otherwise."""
        segments = [np.column_stack(self.projection.xy(line[:, 0], line[:, 1])) for line in lines]
        collection = LineCollection(segments, colors=colour, linewidths=widths or 0.8, zorder=2, capstyle="round")
        collection.set_gid("streets")
        self.ax.add_collection(collection)

    def polygons(
        self,
        geometries: Iterable[shapely.Geometry],
        colour: str,
        label: str,
        gid: str,
        alpha: float = 0.25,
        dashed: bool = False,
    ) -> None:
        """(Multi)polygons (lon/lat, holes kept), filled, with a legend entry."""
        parts = [p for g in geometries for p in getattr(g, "geoms", [g]) if isinstance(p, shapely.Polygon)]
        if not parts:
            return
        path = MplPath.make_compound_path(*(self._ring_path(r) for p in parts for r in (p.exterior, *p.interiors)))
        patch = PathPatch(
            path,
            facecolor=colour,
            edgecolor=colour,
            alpha=alpha,
            lw=1.0,
            zorder=1,
            linestyle="--" if dashed else "-",
            label=label,
        )
        patch.set_gid(gid)
        self.ax.add_patch(patch)
        self._legend.append(Patch(facecolor=colour, edgecolor=colour, alpha=max(alpha, 0.4), label=label))

    def _ring_path(self, ring: shapely.LinearRing) -> MplPath:
        coords = np.asarray(ring.coords)
        x, y = self.projection.xy(coords[:, 0], coords[:, 1])
        return MplPath(np.column_stack([x, y]), closed=True)

    def hexagons(self, cells: Sequence[int], colours: Sequence[str], gid: str = "cells") -> None:
        """H3 cells (integers) filled with their colours (add legend entries with :meth:`key`)."""
        rings = []
        for cell in cells:
            boundary = np.array(h3.api.basic_int.cell_to_boundary(int(cell)))  # (lat, lon) pairs
            x, y = self.projection.xy(boundary[:, 1], boundary[:, 0])
            rings.append(np.column_stack([x, y]))
        collection = PolyCollection(rings, facecolors=list(colours), edgecolors="#ffffff", linewidths=0.3, zorder=1)
        collection.set_gid(gid)
        self.ax.add_collection(collection)

    def points(self, lon: Floats, lat: Floats, colour: str, label: str, gid: str, size: float = 9.0) -> None:
        """Points of one kind, with a legend entry."""
        x, y = self.projection.xy(lon, lat)
        drawn = self.ax.scatter(x, y, s=size, c=colour, alpha=0.75, linewidths=0, zorder=3, label=label)
        drawn.set_gid(gid)
        self._legend.append(drawn)

    def key(self, label: str, colour: str) -> None:
        """A legend entry of a colour (for hexagon classes)."""
        self._legend.append(Patch(facecolor=colour, edgecolor="#999999", label=label))

    # -------------------------------------------------------------------------------- furniture

    def _furniture(self) -> None:
        ax = self.ax
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        km = scale_bar_km(self.width_km)
        bx, by = x1 - (x1 - x0) * 0.04 - km, y0 + (y1 - y0) * 0.04
        (bar,) = ax.plot([bx, bx + km], [by, by], color="#000000", lw=3, solid_capstyle="butt", zorder=5)
        bar.set_gid("scale-bar")
        label = f"{km:g} km"
        ax.text(
            bx + km / 2,
            by + (y1 - y0) * 0.012,
            label,
            ha="center",
            va="bottom",
            fontsize=9,
            zorder=5,
            gid="scale-bar-label",
        )
        ax_, ay, length = x0 + (x1 - x0) * 0.04, y1 - (y1 - y0) * 0.14, (y1 - y0) * 0.07
        arrow = FancyArrow(
            ax_,
            ay,
            0,
            length,
            width=length * 0.12,
            head_width=length * 0.4,
            head_length=length * 0.35,
            length_includes_head=True,
            color="#000000",
            zorder=5,
        )
        arrow.set_gid("north-arrow")
        ax.add_patch(arrow)
        ax.text(ax_, ay + length * 1.08, "N", ha="center", va="bottom", fontsize=10, fontweight="bold", zorder=5)
        if self._legend:
            legend = self.fig.legend(
                handles=self._legend,
                loc="lower left",
                bbox_to_anchor=(0.02, 0.0),
                ncols=min(4, len(self._legend)),
                fontsize=8,
                frameon=False,
            )
            legend.set_gid("legend")

    def svg(self) -> str:
        self._furniture()
        return _render_svg(self.fig)

    def png(self, dpi: int = 110) -> bytes:
        self._furniture()
        return _render_png(self.fig, dpi)


def bounds_of(lon: Floats, lat: Floats, margin: float = 0.0) -> BBox:
    return (float(lon.min()) - margin, float(lat.min()) - margin, float(lon.max()) + margin, float(lat.max()) + margin)


# ------------------------------------------------------------------------------------------ the maps


def overview_map(streets: Sequence[tuple[Floats, bool]], reports: Iterable[Report], title: str) -> str:
    """The demo's one-page map: streets (major ones wider), the newest area of each side, the point
    reports coloured by kind with their counts in the legend (SVG)."""
    shapes = [line for line, _ in streets]
    every = np.concatenate(shapes) if shapes else np.zeros((1, 2))
    plot = MapPlot(bounds_of(every[:, 0], every[:, 1]), title)
    reports = list(reports)
    latest: dict[Side, Report] = {}
    for r in reports:
        if r.area_wkb is not None and r.side is not None:
            latest[r.side] = r  # reports come in time order: keep the newest area per side
    for side, r in latest.items():
        label = f"area: {side.value.replace('_', ' ')}"
        plot.polygons([shapely.from_wkb(r.area_wkb)], SIDE_COLOURS[side], label, f"area-{side.value}", 0.18, True)
    plot.streets(shapes, [2.5 if major else 0.8 for _, major in streets])
    points = [r for r in reports if r.area_wkb is None]
    for kind in sorted({r.kind for r in points}, key=lambda k: -sum(r.kind is k for r in points)):
        mine = [r for r in points if r.kind is kind]
        lon, lat = np.array([r.lon for r in mine]), np.array([r.lat for r in mine])
        label = f"{kind.value.replace('_', ' ')} {len(mine)}"
        plot.points(lon, lat, KIND_COLOURS.get(kind, "#444444"), label, f"report-{kind.value}")
    return plot.svg()


def control_map(
    areas: Sequence[tuple[str, shapely.Geometry]],
    title: str,
    as_of: str | None,
    streets: Sequence[Floats] = (),
    labels: dict[str, str] | None = None,
) -> str:
    """The fused control map: one filled area per state (held, other side, contested, unconfirmed)."""
    every = [shapely.bounds(g) for _, g in areas] or [(0.0, 0.0, 0.1, 0.1)]
    b = np.array(every)
    plot = MapPlot((b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()), title, as_of)
    for state, geometry in areas:
        label = (labels or {}).get(state, state.replace("_", " "))
        plot.polygons([geometry], STATE_COLOURS.get(state, "#444444"), label, f"state-{state}", 0.45)
    if streets:
        plot.streets(streets, colour="#555555")
    return plot.svg()


def forecast_map(grid: Grid, per_km2: Floats | None, title: str, as_of: str | None) -> str:
    """The grid's cells coloured by the forecast (events per km² over the horizon) in classes of equal
    cell counts, a legend entry per class; every cell grey and *unknown* when ``per_km2`` is None."""
    return forecast_plot(grid, per_km2, title, as_of).svg()


def forecast_plot(
    grid: Grid,
    per_km2: Floats | None,
    title: str,
    as_of: str | None,
    bounds: BBox | None = None,
    unknown: str = "unknown: the data behind the forecast is stale",
) -> MapPlot:
    """:func:`forecast_map`'s plot, to render as SVG or PNG (``bounds``: the box shown, default the grid's)."""
    lons, lats = grid.lon, grid.lat
    plot = MapPlot(bounds or bounds_of(lons, lats, 0.01), title, as_of)
    cells = [int(c) for c in grid.cells]
    if per_km2 is None:
        plot.hexagons(cells, ["#cccccc"] * len(cells))
        plot.key(unknown, "#cccccc")
        return plot
    edges = np.unique(np.quantile(per_km2, np.linspace(0, 1, len(RAMP) + 1)[1:-1]))
    classes = np.minimum(np.searchsorted(edges, per_km2, side="right"), len(RAMP) - 1)
    plot.hexagons(cells, [RAMP[int(c)] for c in classes])
    steps = [float(np.min(per_km2)), *edges.tolist(), float(np.max(per_km2))]
    for c in sorted(set(classes.tolist())):
        plot.key(f"{steps[c]:.3g}–{steps[min(c + 1, len(steps) - 1)]:.3g} per km²", RAMP[c])
    return plot


def incidents_png(
    streets: Sequence[Floats],
    points: dict[str, tuple[Floats, Floats]],
    bounds: BBox,
    title: str,
    as_of: str,
    labels: dict[str, str] | None = None,
) -> bytes:
    """A day's incidents over the city's streets, a colour and a legend entry (with its count) per kind."""
    plot = MapPlot(bounds, title, as_of, width_in=7.0)
    plot.streets(streets, colour="#999999")
    for kind, (lon, lat) in sorted(points.items(), key=lambda kv: -len(kv[1][0])):
        colour = KIND_COLOURS.get(Kind(kind), "#444444")
        label = (labels or {}).get(kind, kind.replace("_", " "))
        plot.points(lon, lat, colour, f"{label} {len(lon)}", f"incident-{kind}", size=18.0)
    return plot.png()


def changes_png(
    cells: Sequence[int], states: Sequence[str], streets: Sequence[Floats], bounds: BBox, title: str, as_of: str,
    labels: dict[str, str],
) -> bytes:  # fmt: skip
    """The cells whose control state changed, coloured by their new state."""
    plot = MapPlot(bounds, title, as_of, width_in=7.0)
    plot.streets(streets, colour="#aaaaaa")
    plot.hexagons(cells, [STATE_COLOURS.get(s, "#444444") for s in states], gid="changed")
    for state in sorted(set(states)):
        plot.key(labels.get(state, state), STATE_COLOURS.get(state, "#444444"))
    return plot.png()


# ----------------------------------------------------------------------------------------- the charts


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    values: Sequence[float]
    colour: str
    gid: str


def line_chart(
    x: Sequence[float],
    series: Sequence[Series],
    title: str,
    *,
    xlabel: str = "",
    ylabel: str = "",
    xticks: Sequence[tuple[float, str]] = (),
    ylim: tuple[float, float] | None = None,
    logx: bool = False,
    size: tuple[float, float] = (9.0, 3.6),
) -> str:
    """Lines over a shared x axis, each a named group of the SVG (``id`` = the series' gid)."""
    fig = Figure(figsize=size, dpi=100)
    ax = fig.subplots()
    for s in series:
        (line,) = ax.plot(list(x), list(s.values), color=s.colour, lw=1.5, label=s.label)
        line.set_gid(s.gid)
    if logx:
        ax.set_xscale("log")
    if xticks:
        ax.set_xticks([p for p, _ in xticks], [t for _, t in xticks])
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return _render_svg(fig)


def scores_chart(scores: Sequence[DayScore], title: str, dates: Sequence[str] | None = None) -> str:
    """The daily IoU of the fused map and of the naive baseline, the first of every other month marked."""
    days = list(range(len(scores)))
    ticks = [(i, d[:7]) for i, d in enumerate(dates or []) if d.endswith("-01") and int(d[5:7]) % 2 == 1]
    series = [
        Series("naive (7 nearest, 14 days)", [s.baseline_iou_other for s in scores], "#999999", "series-naive"),
        Series("fused", [s.iou_other for s in scores], "#c0392b", "series-fused"),
    ]
    return line_chart(days, series, title, ylabel="IoU", xticks=ticks, ylim=(0.0, 1.0))


def reassurance_chart(scores: Sequence[DayScore], title: str, dates: Sequence[str] | None = None) -> str:
    """The daily false-reassurance rate (share of the truth's other-side and grey ground called held) of the
    fused map and of the naive baseline."""
    days = list(range(len(scores)))
    ticks = [(i, d[:7]) for i, d in enumerate(dates or []) if d.endswith("-01") and int(d[5:7]) % 2 == 1]
    series = [
        Series("naive (7 nearest, 14 days)", [s.naive_false_reassurance for s in scores], "#999999", "series-naive"),
        Series("fused", [s.false_reassurance for s in scores], "#c0392b", "series-fused"),
    ]
    return line_chart(days, series, title, ylabel="share called held", xticks=ticks, ylim=(0.0, 1.0))


def sweep_chart(table: dict[tuple[int, float], float], title: str) -> str:
    """Mean IoU by observers per day (log scale), one line per share of wrong reports."""
    observers = sorted({k[0] for k in table})
    colours = ["#1a9850", "#fc8d59", "#d73027", "#4575b4"]
    series = [
        Series(f"{noise:.0%} wrong", [table[(n, noise)] for n in observers], colours[i % 4], f"series-noise-{noise:g}")
        for i, noise in enumerate(sorted({k[1] for k in table}))
    ]
    ticks = [(float(n), str(n)) for n in observers]
    return line_chart(
        observers,
        series,
        title,
        xlabel="observers per day",
        ylabel="IoU",
        xticks=ticks,
        ylim=(0.4, 1.0),
        logx=True,
        size=(6.0, 3.8),
    )


BACKTEST_COLOURS = {"model": "#c0392b", "historical": "#7f8c8d", "last_7_days": "#2980b9"}


def reliability_png(result: Backtest, title: str) -> bytes:
    """Forecast probability of occurrence against observed frequency, per model, with the ±0.05
    band around the diagonal and the number of cases per point; the scores in the legend."""
    fig = Figure(figsize=(7, 6), dpi=110)
    ax = fig.subplots()
    ax.fill_between([0, 1], [-0.05, 0.95], [0.05, 1.05], color="#eeeeee", label="diagonal ± 0.05")
    ax.plot([0, 1], [0, 1], color="#999999", lw=1)
    for name, score in result.scores.items():
        rows = score.reliability_table()
        s = score.summary()
        label = (
            f"{name}: log-lik/event {s['mean_loglik_per_event']:.3f}, Brier {s['brier']:.4f}, "
            f"hits@5% {s['hit_rate_5pct_area']:.2f}"
        )
        colour = BACKTEST_COLOURS.get(name)
        ax.plot([r.forecast for r in rows], [r.observed for r in rows], "o-", color=colour, label=label, ms=4)
        if name == "model":
            for r in rows:
                ax.annotate(
                    f"{r.cases:,}",
                    (r.forecast, r.observed),
                    fontsize=7,
                    xytext=(4, -10),
                    textcoords="offset points",
                    color=colour,
                )
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1),
        xlabel="forecast probability of at least one event (cell × bin)",
        ylabel="observed frequency",
        title=title,
    )
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _render_png(fig)
