"""The oversight report's charts (matplotlib, rendered off-screen to PNG).

matplotlib is imported inside the functions (the Agg canvas, no pyplot, no global state), so the
bot neither pays for it at start-up nor holds it in memory until a report is produced; the
figures are independent objects, so rendering in a worker thread is safe.
"""

from __future__ import annotations

import io
from typing import Any

from bot.monev_text import AGE_LABELS, WAITING_LABEL, duration, percent, period_title
from workflow.monev import OversightReport

GOOD, BAD, GREY, LIMIT, P90, MEDIAN = "#2e7d32", "#c62828", "#9e9e9e", "#000000", "#b0bec5", "#1565c0"
SHORT_MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def warm_up() -> None:
    """Import matplotlib ahead of a report (about 0.7 s the first time): called in a worker thread
    while the reader picks a period, so the chart does not wait for it."""
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.figure  # noqa: F401


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    # Fixed margins (below): an automatic layout would measure every label first, a third of the time.
    fig = Figure(figsize=(width, height), dpi=110)
    fig.set_facecolor("white")
    return fig


# Each chart's axes in its own picture (left, bottom, right, top as shares of the figure), and in the
# chat's picture of all three (left, bottom, width, height).
MARGINS = {"steps": (0.07, 0.15, 0.97, 0.90), "months": (0.09, 0.20, 0.92, 0.88), "ageing": (0.30, 0.10, 0.96, 0.86)}
DASHBOARD = {"steps": (0.07, 0.675, 0.90, 0.265), "months": (0.09, 0.375, 0.83, 0.215),
             "ageing": (0.30, 0.045, 0.66, 0.245)}


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    return buf.getvalue()


def _steps(ax: Any, r: OversightReport) -> None:
    """Median and 90th percentile of each step's working time, in working days, against its limit."""
    day = r.standard_day_seconds
    steps = [s for s in r.steps_a]
    labels = [s.code for s in steps]
    y = list(range(len(steps)))[::-1]
    med = [(s.dist.median or 0) / day for s in steps]
    p90 = [(s.dist.p90 or 0) / day for s in steps]
    lim = [s.limit_seconds / day for s in steps]
    colours = [GREY if s.assessment is None else GOOD if s.assessment.value == "good" else BAD for s in steps]
    ax.barh(y, p90, height=0.62, color=P90, label="Persentil ke-90")
    ax.barh(y, med, height=0.62, color=MEDIAN, label="Median")
    for yi, lv in zip(y, lim):
        ax.plot([lv, lv], [yi - 0.42, yi + 0.42], color=LIMIT, linewidth=2.4)
    ax.plot([], [], color=LIMIT, linewidth=2.4, label="Batas SOP")
    for i, s in enumerate(steps):
        note = f"{percent(s.dist.on_time_share)} tepat waktu ({s.dist.n}×)" if s.dist.n else "tidak ada"
        ax.text(max(p90[i], lim[i]) + 0.06, y[i], note, va="center", fontsize=8, color=colours[i],
                fontweight="bold" if s.assessment is not None else "normal")
    ax.set_yticks(y, labels)
    ax.set_xlabel(f"Waktu kerja (hari kerja; 1 hari kerja = {duration(day, day * 1000)})", fontsize=8)
    top = max(lim + p90 + [1.0]) * 1.5
    ax.set_xlim(0, top)
    ax.set_title("Waktu kerja per langkah SOP (prosedur A) terhadap batas waktu", fontsize=10, loc="left")
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    ax.grid(axis="x", color="#e0e0e0")
    ax.set_axisbelow(True)


def _months(ax: Any, r: OversightReport) -> None:
    """Share of passages on time per month (steps held by officials), against the threshold."""
    xs = list(range(len(r.months)))
    shares = [(m.share or 0) * 100 for m in r.months]
    colours = [GREY if m.share is None else GOOD if m.share >= r.threshold else BAD for m in r.months]
    ax.bar(xs, shares, color=colours, width=0.65)
    ax.axhline(r.threshold * 100, color=LIMIT, linestyle="--", linewidth=1.2)
    ax.text(1.0, r.threshold * 100, f" ambang\n {percent(r.threshold)}", transform=ax.get_yaxis_transform(),
            va="center", ha="left", fontsize=7)
    for x, m in zip(xs, r.months):
        v = (m.share or 0) * 100
        if m.n and v >= 15:  # inside the bar's top, clear of the threshold line
            ax.text(x, v - 2, percent(m.share), ha="center", va="top", fontsize=7, color="white", fontweight="bold")
        else:
            ax.text(x, v + 2, percent(m.share) if m.n else "–", ha="center", fontsize=7)
    ax.set_xticks(xs, [f"{SHORT_MONTHS[m.month.month - 1]}\n{m.month.year}" for m in r.months], fontsize=7)
    ax.set_ylim(0, 112)
    ax.set_ylabel("% tepat waktu", fontsize=8)
    ax.set_title("Ketepatan waktu per bulan (langkah yang dipegang pejabat)", fontsize=10, loc="left")
    ax.grid(axis="y", color="#e0e0e0")
    ax.set_axisbelow(True)


def _ageing(ax: Any, r: OversightReport) -> None:
    """Items open at the cutoff by how late they are."""
    labels = list(AGE_LABELS) + [WAITING_LABEL]
    counts = list(r.ageing) + [r.waiting_requester]
    colours = [GOOD] + [BAD] * (len(AGE_LABELS) - 1) + [GREY]
    y = list(range(len(labels)))[::-1]
    from matplotlib.ticker import MaxNLocator

    ax.barh(y, counts, color=colours, height=0.6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if not any(counts):
        ax.text(0.5, 0.5, "Tidak ada permohonan terbuka", transform=ax.transAxes, ha="center", va="center",
                fontsize=9, color="#555555")
        ax.set_xticks([])
    for yi, c in zip(y, counts):
        ax.text(c + max(counts + [1]) * 0.02, yi, str(c), va="center", fontsize=8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(0, max(counts + [1]) * 1.15)
    ax.set_title("Permohonan terbuka menurut keterlambatan", fontsize=10, loc="left")
    ax.grid(axis="x", color="#e0e0e0")
    ax.set_axisbelow(True)


DRAW = {"steps": _steps, "months": _months, "ageing": _ageing}
SIZES = {"steps": (7.2, 3.6), "months": (7.2, 3.0), "ageing": (7.2, 2.8)}


def render_charts(r: OversightReport) -> dict[str, bytes]:
    """The three charts as separate PNGs (for the PDF): ``steps``, ``months``, ``ageing``."""
    out = {}
    for name, draw in DRAW.items():
        fig = _figure(*SIZES[name])
        left, bottom, right, top = MARGINS[name]
        fig.subplots_adjust(left=left, bottom=bottom, right=right, top=top)
        draw(fig.subplots(), r)
        out[name] = _png(fig)
    return out


def render_dashboard(r: OversightReport) -> bytes:
    """The three charts in one picture for the chat (one photo, read on a phone)."""
    fig = _figure(7.2, 10.2)
    fig.suptitle(f"Rekapitulasi SOP — {period_title(r.period)}", fontsize=12, fontweight="bold", y=0.99)
    for name, draw in DRAW.items():
        draw(fig.add_axes(DASHBOARD[name]), r)
    return _png(fig)


__all__ = ["render_charts", "render_dashboard"]
