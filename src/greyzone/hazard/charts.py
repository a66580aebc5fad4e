"""Pictures of the hazard (pure: they return the image, the caller writes it): the backtest's
reliability diagram (PNG) and the forecast map (SVG)."""

from __future__ import annotations

import io
import math

import h3
import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure

from greyzone.hazard.backtest import Backtest
from greyzone.model.grid import Grid

Floats = npt.NDArray[np.float64]

COLOURS = {"model": "#c0392b", "historical": "#7f8c8d", "last_7_days": "#2980b9"}


def reliability_png(result: Backtest, title: str) -> bytes:
    """Forecast probability of occurrence against observed frequency, per model, with the ±0.05
    band around the diagonal and the number of cases per point; the scores in the legend."""
    fig = Figure(figsize=(7, 6), dpi=110)  # no pyplot: no global backend or figure registry
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
        ax.plot(
            [r.forecast for r in rows], [r.observed for r in rows], "o-", color=COLOURS.get(name), label=label, ms=4
        )
        if name == "model":
            for r in rows:
                ax.annotate(
                    f"{r.cases:,}",
                    (r.forecast, r.observed),
                    fontsize=7,
                    xytext=(4, -10),
                    textcoords="offset points",
                    color=COLOURS["model"],
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
    out = io.BytesIO()
    fig.tight_layout()
    fig.savefig(out, format="png")
    return out.getvalue()


_RAMP = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026")


def forecast_svg(grid: Grid, per_km2: Floats | None, title: str, width: int = 720) -> str:
    """A map of the grid's cells coloured by the forecast (events per km² over the horizon), with a
    legend; every cell grey and marked *unknown* when ``per_km2`` is None (stale data)."""
    boundaries = [h3.api.basic_int.cell_to_boundary(int(c)) for c in grid.cells]
    lons = np.array([p[1] for b in boundaries for p in b])
    lats = np.array([p[0] for b in boundaries for p in b])
    k = math.cos(math.radians(float(lats.mean())))
    scale = (width - 40) / max((lons.max() - lons.min()) * k, 1e-9)
    height = int((lats.max() - lats.min()) * scale) + 110

    def xy(lat: float, lon: float) -> str:
        return f"{20 + (lon - lons.min()) * k * scale:.1f},{70 + (lats.max() - lat) * scale:.1f}"

    if per_km2 is None:
        fills, edges = ["#cccccc"] * len(grid), []
    else:
        edges = np.unique(np.quantile(per_km2, np.linspace(0, 1, len(_RAMP) + 1)[1:-1])).tolist()
        fills = [_RAMP[min(int(np.searchsorted(edges, v, side="right")), len(_RAMP) - 1)] for v in per_km2]
    cells = "".join(
        f'<polygon points="{" ".join(xy(a, o) for a, o in b)}" fill="{f}" stroke="#fff" stroke-width="0.3"/>'
        for b, f in zip(boundaries, fills, strict=True)
    )
    legend = (
        "unknown: the data behind the forecast is stale"
        if per_km2 is None
        else f"events per km² expected: {float(np.min(per_km2)):.3g} (palest) to {float(np.max(per_km2)):.3g} "
        "(darkest), in classes of equal cell counts"
    )
    swatches = "".join(
        f'<rect x="{20 + 22 * i}" y="38" width="20" height="10" fill="{c}"/>' for i, c in enumerate(_RAMP)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">'
        f'<rect width="100%" height="100%" fill="#fff"/><text x="20" y="22" font-size="14">{title}</text>'
        f'{swatches if per_km2 is not None else ""}<text x="{200 if per_km2 is not None else 20}" y="47" '
        f'font-size="10">{legend}</text>{cells}</svg>'
    )
