"""The speedup lab's display carries its latest figure as a PNG beside the live widget.

JupyterLab shows the widget; a page built from the stored notebook (the course website) has no kernel and no
widget state, so there the PNG is all a reader can see.
"""

from __future__ import annotations

import base64

from IPython.core.formatters import DisplayFormatter

from mplessons.widgets import speedup_lab

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def displayed(obj: object) -> dict:
    """The bundle that ``display(obj)`` sends to the front end (IPython's own formatter, as in a kernel)."""
    data, _metadata = DisplayFormatter().format(obj)
    return data


def test_before_a_run_the_display_is_the_widget_alone():
    lab = speedup_lab(sizes=[2_000, 20_000], tasks=2, backend="thread")
    bundle = displayed(lab)
    assert WIDGET_VIEW in bundle and bundle[WIDGET_VIEW]["model_id"] == lab.model_id
    assert "image/png" not in bundle, "no run yet, so there is no figure to show"


def test_after_each_run_the_display_carries_the_latest_figure_as_png():
    lab = speedup_lab(sizes=[2_000, 20_000], tasks=2, backend="thread")
    assert lab.run_once() is not None, lab.last_error
    first = displayed(lab)
    assert WIDGET_VIEW in first, "JupyterLab must still get the live widget"
    png = base64.b64decode(first["image/png"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000
    assert first["image/png"] == lab.output.outputs[0]["data"]["image/png"], "the figure the widget shows"

    lab.workers.value = 1
    assert lab.run_once() is not None, lab.last_error
    second = displayed(lab)
    assert second["image/png"] == lab.output.outputs[0]["data"]["image/png"] != first["image/png"], (
        "the display must carry the latest figure, not the first")
