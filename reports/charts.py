"""Bar charts drawn on the server as SVG geometry for ``reports/_chart.html``.

Each series has its own fill pattern (solid, hatched, dotted) besides its colour and every
bar carries its value as text, so a chart reads in black and white and on paper; the page
puts the same figures in a table beside it for screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

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
        return gettext("%(title)s; the table beside the chart lists every value.") % {
            "title": self.title
        }

    @property
    def svg(self) -> SafeString:
        """The chart as inline SVG (every text escaped); drawn here rather than by a
        template loop, which cost the dashboard more than all its figures' queries."""
        cid = escape(self.chart_id)
        out = [
            f'<svg role="img" aria-labelledby="{cid}-title {cid}-desc" '
            f'viewBox="0 0 {self.width} {self.height:.0f}" class="report-svg">',
            f'<title id="{cid}-title">{escape(self.title)}</title>',
            f'<desc id="{cid}-desc">{escape(self.description)}</desc>',
            "<defs>",
        ]
        for i, kind, colour in self.patterns:
            out.append(
                f'<pattern id="{cid}-p{i}" width="6" height="6" patternUnits="userSpaceOnUse">'
            )
            if kind == "solid":
                out.append(f'<rect width="6" height="6" fill="{colour}"/>')
            elif kind == "hatch":
                out.append(
                    '<rect width="6" height="6" fill="#fff"/><path d="M0,6 L6,0 M-1,1 L1,-1 '
                    f'M5,7 L7,5" stroke="{colour}" stroke-width="2"/>'
                )
            else:
                out.append(
                    '<rect width="6" height="6" fill="#fff"/>'
                    f'<circle cx="3" cy="3" r="1.6" fill="{colour}"/>'
                )
            out.append("</pattern>")
        out.append("</defs>")
        out.append(
            f'<line x1="4" x2="{self.width - 4}" y1="{self.baseline:g}" y2="{self.baseline:g}" '
            'stroke="#1b1f24"/>'
        )
        for bar in self.bars:
            out.append(
                f'<rect x="{bar.x:.1f}" y="{bar.y:.1f}" width="{bar.width:.1f}" '
                f'height="{bar.height:.1f}" fill="url(#{cid}-p{bar.series})" stroke="#1b1f24" '
                'stroke-width="0.6"/>'
                f'<text x="{bar.cx:.1f}" y="{bar.y:.1f}" dy="-3" font-size="9" '
                f'text-anchor="middle" fill="#1b1f24">{escape(bar.label)}</text>'
            )
        for x, text in self.groups:
            out.append(
                f'<text x="{x:.1f}" y="{self.baseline + 14:g}" font-size="11" '
                f'text-anchor="middle" fill="#1b1f24">{escape(text)}</text>'
            )
        out.append(f'<g transform="translate(8 {self.baseline + 26:g})">')
        for i, name in self.legend:
            out.append(
                f'<g transform="translate({i * 200} 0)"><rect width="14" height="14" '
                f'fill="url(#{cid}-p{i})" stroke="#1b1f24" stroke-width="0.6"/>'
                f'<text x="20" y="11" font-size="12" fill="#1b1f24">{escape(name)}</text></g>'
            )
        out.append("</g></svg>")
        return mark_safe("".join(out))  # noqa: S308 - every text above is escaped


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


# (seconds in the unit, its name) from the largest; a duration shows its two largest units.
_DURATION_UNITS = ((86400, "d"), (3600, "h"), (60, "min"), (1, "s"))


def duration(seconds: float | None) -> str:
    """A duration as people read it beside a target: its two largest units ("1 min 23 s",
    "6 h 5 min", "45 s"), rounded up at the smaller one, so a figure over its target never
    reads as the target ("1 min" against a median of 83 s read "1m"). A dash for no value."""
    if seconds is None:
        return "–"
    rest = max(0, math.ceil(seconds))
    if rest == 0:
        return "0 s"
    big = next(i for i, (size, _) in enumerate(_DURATION_UNITS) if rest >= size)
    units = _DURATION_UNITS[big : big + 2]
    small = units[-1][0]
    rest = math.ceil(rest / small) * small  # rounded up at the smaller unit shown
    parts = []
    for size, name in units:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count} {name}")
    return " ".join(parts)


def number(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"
