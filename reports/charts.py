"""Bar charts drawn on the server as SVG geometry for ``reports/_chart.html``.

Each series has its own fill pattern (solid, hatched, dotted) besides its colour and every
bar carries its value as text, so a chart reads in black and white and on paper; the page
puts the same figures in a table beside it for screen readers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH, PLOT_TOP, PLOT_HEIGHT, LEFT = 640, 16, 180, 8
PATTERNS = ("solid", "hatch", "dots")
COLOURS = ("#0b4f8a", "#8a5300", "#a4161a")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    series: int

    @property
    def cx(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    groups: list[tuple[float, str]]  # (centre x, label)
    bars: list[Bar]
    legend: list[tuple[int, str]]
    baseline: float
    height: float
    width: int = WIDTH

    @property
    def patterns(self) -> list[tuple[int, str, str]]:
        return [(i, PATTERNS[i % 3], COLOURS[i % 3]) for i in range(len(self.legend))]

    @property
    def description(self) -> str:
        return f"{self.title}; the table beside the chart lists every value."


def bar_chart(
    *,
    chart_id: str,
    title: str,
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    label: Callable[[float | None], str],
    top: float | None = None,
) -> Chart:
    """Bars grouped by ``groups`` (e.g. weeks), one per series; a missing value is no bar
    and a dash. ``top`` fixes the scale (1.0 for rates)."""
    values = [v for _, vs in series for v in vs if v is not None]
    scale = top if top is not None else max(values, default=0) or 1
    slot = (WIDTH - 2 * LEFT) / max(len(groups), 1)
    bar_w = (slot - 8) / max(len(series), 1)
    baseline = PLOT_TOP + PLOT_HEIGHT
    bars = []
    for g in range(len(groups)):
        for s, (_name, vs) in enumerate(series):
            value = vs[g]
            h = 0.0 if value is None else PLOT_HEIGHT * min(value / scale, 1)
            x = LEFT + g * slot + 4 + s * bar_w
            bars.append(
                Bar(x=x, y=baseline - h, width=bar_w - 1, height=h, label=label(value), series=s)
            )
    return Chart(
        chart_id=chart_id,
        title=title,
        groups=[(LEFT + (g + 0.5) * slot, text) for g, text in enumerate(groups)],
        bars=bars,
        legend=[(i, name) for i, (name, _) in enumerate(series)],
        baseline=baseline,
        height=baseline + 48,
    )


def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


def minutes(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds / 60:.0f}m" if seconds < 5940 else f"{seconds / 3600:.1f}h"


def number(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"
