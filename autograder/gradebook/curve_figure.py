"""A student's training curves drawn against the reference's band: one SVG and one PNG per training check.

Input: the cleaned curves of one test (:class:`~autograder.judge.learning_curves.RunCurves`: finite,
bounded, names without control characters) and the check's name. Epochs on x (1-based), loss on y;
each series a line with the reference's band (low..high per epoch) shaded in the same colour; a
dotted line at the epoch of the lowest validation loss; a legend; the check's name as the title.

Text is written as SVG ``<text>`` (``svg.fonttype = "none"``), which matplotlib XML-escapes; names
reach matplotlib with ``$`` escaped, so a name is never parsed as mathtext (a ``$\\frac{`` would raise)
and every name is drawn as written. The series and bands carry ids (``series-<i>``, ``band-<i>``,
1-based) so a reader of the file can find them.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # before pyplot: never a display, safe in workers and CI

import matplotlib.pyplot as plt  # noqa: E402

from autograder.judge.learning_curves import RunCurves, RunReading  # noqa: E402
from autograder.untrusted import plot_label  # noqa: E402

_STYLE = {
    "svg.fonttype": "none",  # text stays text: searchable, readable by a screen reader, escaped by matplotlib
    "svg.hashsalt": "dlgrade",  # stable ids: the same curves give the same file
    "path.simplify": False,  # every epoch drawn as a vertex: the figure is the data, at most 1000 points a line
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C")
TITLE_CHARS = 100


@dataclass(frozen=True)
class Drawing:
    """The same figure as SVG (UTF-8 XML) and PNG bytes."""

    svg: bytes
    png: bytes


def draw_run(title: str, run: RunCurves, reading: RunReading) -> Drawing:
    """The curves of one run as an SVG and a PNG (about 6.4 x 3.6 inches).

    matplotlib's warnings (a glyph its font lacks: the SVG keeps the text, a browser draws it) are
    silenced: a batch's console is not the place for them."""
    with plt.rc_context(_STYLE), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        figure, axes = plt.subplots(figsize=(6.4, 3.6))
        try:
            for index, curve in enumerate(run.curves, start=1):
                colour = _COLOURS[(index - 1) % len(_COLOURS)]
                if curve.band is not None:
                    epochs = range(1, len(curve.band.low) + 1)
                    shade = axes.fill_between(epochs, curve.band.low, curve.band.high, color=colour, alpha=0.2,
                                              linewidth=0, label=plot_label(f"reference band ({curve.name})"))
                    shade.set_gid(f"band-{index}")
                if curve.values:
                    (line,) = axes.plot(range(1, curve.epochs + 1), curve.values, color=colour, linewidth=1.6,
                                        marker="o" if curve.epochs <= 30 else None, markersize=3,
                                        label=plot_label(f"your {curve.name}"))
                    line.set_gid(f"series-{index}")
            if reading.best_epoch is not None:
                marker = axes.axvline(reading.best_epoch, color="black", linestyle=":", linewidth=1,
                                      label=f"lowest validation loss (epoch {reading.best_epoch})")
                marker.set_gid("best-epoch")
            axes.set_xlabel("epoch")
            axes.set_ylabel("loss")
            axes.set_title(plot_label(title[:TITLE_CHARS]), loc="left")
            axes.xaxis.get_major_locator().set_params(integer=True)
            if axes.get_legend_handles_labels()[0]:
                axes.legend(frameon=False, fontsize=8)
            figure.tight_layout()
            svg, png = io.BytesIO(), io.BytesIO()
            figure.savefig(svg, format="svg", metadata={"Date": None})
            figure.savefig(png, format="png", dpi=100, metadata={"Software": None})
        finally:
            plt.close(figure)
    return Drawing(svg.getvalue(), png.getvalue())
