"""The backtest's reliability diagram and scores as a PNG (pure: returns the image's bytes)."""

from __future__ import annotations

import io

from matplotlib.figure import Figure

from greyzone.hazard.backtest import Backtest

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
        label = (f"{name}: log-lik/event {s['mean_loglik_per_event']:.3f}, Brier {s['brier']:.4f}, "
                 f"hits@5% {s['hit_rate_5pct_area']:.2f}")  # fmt: skip
        ax.plot([r.forecast for r in rows], [r.observed for r in rows], "o-", color=COLOURS.get(name), label=label,
                ms=4)  # fmt: skip
        if name == "model":
            for r in rows:
                ax.annotate(f"{r.cases:,}", (r.forecast, r.observed), fontsize=7, xytext=(4, -10),
                            textcoords="offset points", color=COLOURS["model"])  # fmt: skip
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="forecast probability of at least one event (cell × bin)",
           ylabel="observed frequency", title=title)  # fmt: skip
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    out = io.BytesIO()
    fig.tight_layout()
    fig.savefig(out, format="png")
    return out.getvalue()
