"""The dashboard's charts: SVG drawn on the server, readable without colour, text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from reports import charts
from reports.templatetags.reports_format import rate

SVG = "{http://www.w3.org/2000/svg}"


def _chart() -> charts.Chart:
    return charts.bar_chart(
        chart_id="chart-x",
        title="Kept <on time> & missed",
        groups=["05 Oct", "12 Oct"],
        series=[("Kept", [0.5, None]), ("Missed", [0.25, 1.0])],
        label=charts.percent,
        top=1.0,
    )


def test_the_svg_is_well_formed_with_a_pattern_and_a_label_per_bar():
    root = ET.fromstring(str(_chart().svg).replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))
    assert root.find(f"{SVG}title").text == "Kept <on time> & missed"
    assert len(root.findall(f"{SVG}defs/{SVG}pattern")) == 2
    bars = [r for r in root.findall(f"{SVG}rect")]
    assert [b.get("fill") for b in bars] == [
        "url(#chart-x-p0)",
        "url(#chart-x-p1)",
        "url(#chart-x-p0)",
        "url(#chart-x-p1)",
    ]
    labels = [t.text for t in root.findall(f"{SVG}text")]
    # every bar carries its value (a missing one a dash), then the week under each group
    assert labels == ["50%", "25%", "–", "100%", "05 Oct", "12 Oct"]
    # a missing value is no bar; a full one reaches the top of the plot
    assert bars[2].get("height") == "0.0"
    assert bars[3].get("y") == f"{charts.PLOT_TOP:.1f}"


def test_text_is_escaped():
    svg = str(_chart().svg)
    assert "Kept &lt;on time&gt; &amp; missed" in svg
    assert "<on time>" not in svg


def test_rate_filter():
    assert rate(None) == "–"
    assert rate(0.667) == "67%"
    assert rate(1) == "100%"
