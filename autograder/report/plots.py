"""The report's plots: matplotlib figures (Agg, no display) rendered to self-contained SVG data URIs.

Each function takes the plain data of ``stats`` and returns ``data:image/svg+xml;base64,...``,
for an ``<img src>``: the page needs no network, and an SVG shown through ``<img>`` cannot run
script, so no text in a figure can reach the page's DOM.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # before pyplot: never a display, safe in workers and CI

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from autograder.report.stats import AssignmentScores, CohortCurves, Durations, MistakeCount  # noqa: E402
from autograder.untrusted import plot_label  # noqa: E402

_STYLE = {
    "svg.fonttype": "path",  # glyphs as paths: the SVG needs no fonts, looks the same everywhere
    "svg.hashsalt": "dlgrade",  # stable ids, so the same data gives the same file
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_BAR = "#4C72B0"
_ACCENT = "#C44E52"


def _data_uri(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _count_axis(axes) -> None:
    """Counts of submissions are whole numbers: no 2.5 on the axis."""
    axes.yaxis.get_major_locator().set_params(integer=True)


def _bins(maximum: float) -> np.ndarray:
    """Twenty equal bins from 0 to ``maximum`` (or 1 when the maximum is 0)."""
    return np.linspace(0.0, maximum if maximum > 0 else 1.0, 21)


def total_histogram(percents: list[float]) -> str:
    """Histogram of total scores, as percentages of each submission's maximum."""
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(figsize=(6.0, 2.6))
        axes.hist(percents, bins=_bins(100.0), color=_BAR, edgecolor="white")
        axes.set_xlabel("total score (% of the maximum)")
        axes.set_ylabel("submissions")
        _count_axis(axes)
        axes.set_xlim(0, 100)
        return _data_uri(figure)


def assignments_boxplot(rows: list[AssignmentScores]) -> str:
    """One box per assignment: its scores as percentages of its maximum, with every point drawn."""
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(figsize=(7.0, 2.8))
        data = [[100.0 * s / r.max_score if r.max_score else 0.0 for s in r.scores] for r in rows]
        positions = np.arange(1, len(rows) + 1)
        axes.boxplot(data, positions=positions, widths=0.5, showfliers=False)
        jitter = np.random.default_rng(0)  # fixed: the same data draws the same picture
        for position, values in zip(positions, data):
            axes.scatter(position + jitter.uniform(-0.15, 0.15, len(values)), values, s=8, alpha=0.5, color=_BAR)
        axes.set_xticks(positions, [f"{r.assignment}\n(n={len(r.scores)})" for r in rows])
        axes.set_ylabel("score (%)")
        axes.set_ylim(-3, 103)
        return _data_uri(figure)


def assignment_panel(row: AssignmentScores) -> str:
    """One assignment: a histogram of its scores, and a box per exercise (percent of its points)."""
    exercises = list(row.exercises)
    height = max(2.6, 0.32 * len(exercises) + 0.8)
    with plt.rc_context(_STYLE):
        figure, (left, right) = plt.subplots(1, 2, figsize=(9.0, height), width_ratios=(1, 1.4))
        left.hist(row.scores, bins=_bins(row.max_score), color=_BAR, edgecolor="white")
        left.set_xlim(0, row.max_score or 1)
        left.set_xlabel(f"score (of {row.max_score:g})")
        left.set_ylabel("submissions")
        _count_axis(left)
        labels = [e.split(".", 1)[-1] for e in exercises]
        right.boxplot([row.exercises[e] for e in exercises], orientation="horizontal", widths=0.6,
                      showmeans=True, meanprops={"marker": "D", "markersize": 4,
                                                 "markerfacecolor": _ACCENT, "markeredgecolor": _ACCENT})
        right.set_yticks(np.arange(1, len(exercises) + 1), labels)
        right.invert_yaxis()  # the exercises top to bottom, in the rubric's order
        right.set_xlim(-3, 103)
        right.set_xlabel("exercise score (% of its points; diamond: mean)")
        figure.tight_layout()
        return _data_uri(figure)


def mistakes_bar(mistakes: list[MistakeCount]) -> str:
    """Horizontal bars: how many submissions made each named mistake, most common on top."""
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(figsize=(7.0, 0.32 * len(mistakes) + 0.9))
        positions = np.arange(len(mistakes))
        axes.barh(positions, [m.submissions for m in mistakes], color=_ACCENT)
        axes.set_yticks(positions, [m.mistake for m in mistakes])
        axes.invert_yaxis()
        axes.set_xlabel("submissions with this mistake")
        axes.xaxis.get_major_locator().set_params(integer=True)
        return _data_uri(figure)


def durations_histogram(durations: Durations) -> str:
    """Histogram of grading time per submission, with the median and the 95th percentile marked."""
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(figsize=(6.0, 2.6))
        axes.hist(durations.seconds, bins=20, color=_BAR, edgecolor="white")
        axes.axvline(durations.p50, color="black", linestyle="--", label=f"p50 {durations.p50:.2f} s")
        axes.axvline(durations.p95, color=_ACCENT, linestyle="--", label=f"p95 {durations.p95:.2f} s")
        axes.set_xlabel("grading time per submission (s)")
        axes.set_ylabel("submissions")
        _count_axis(axes)
        axes.legend(frameon=False)
        return _data_uri(figure)


def cohort_curves(row: CohortCurves) -> str:
    """One panel per series of a training check: the reference's band (grey), the middle half of the
    students' runs (shaded) and their median (line), per epoch."""
    count = max(len(row.series), 1)
    with plt.rc_context(_STYLE):
        figure, panels = plt.subplots(1, count, figsize=(4.2 * count, 2.8), squeeze=False)
        for axes, series in zip(panels[0], row.series):
            if series.band is not None:
                axes.fill_between(range(1, len(series.band.low) + 1), series.band.low, series.band.high,
                                  color="#999999", alpha=0.3, linewidth=0, label="reference band")
            epochs = range(1, len(series.median) + 1)
            axes.fill_between(epochs, series.q1, series.q3, color=_BAR, alpha=0.3, linewidth=0,
                              label="students: middle half")
            axes.plot(epochs, series.median, color=_BAR, linewidth=1.6, label="students: median")
            axes.set_title(plot_label(series.name), loc="left")
            axes.set_xlabel("epoch")
            axes.set_ylabel("loss")
            axes.xaxis.get_major_locator().set_params(integer=True)
            axes.legend(frameon=False, fontsize=7)
        figure.tight_layout()
        return _data_uri(figure)
