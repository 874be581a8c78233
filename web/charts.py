"""Charts drawn on the server as SVG (pygal), with no script and nothing fetched from elsewhere.

Each chart comes with the same numbers in an accessible table beside it on the page, so the
SVG is decoration for those who can see it and the table is the record.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pygal
from markupsafe import Markup
from pygal.style import Style

#: pygal's inline script (its tooltip configuration): of no use without its JavaScript.
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)

_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#9aa5b1",
    colors=("#1d4ed8", "#059669", "#d97706", "#b91c1c", "#7c3aed", "#0e7490"),
    font_family="'Noto Sans CJK SC', 'Noto Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    title_font_size=14,
)


def _config(chart: pygal.Graph, title: str) -> pygal.Graph:
    chart.config.js = []  # no script from a CDN: the chart is plain SVG
    chart.config.disable_xml_declaration = True
    chart.config.explicit_size = False
    chart.config.width = 720
    chart.config.height = 320
    chart.config.title = title
    chart.config.legend_at_bottom = True
    chart.config.print_values = False
    chart.config.style = _STYLE
    return chart


def _svg(chart: pygal.Graph, label: str) -> Markup:
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(label)}" ', 1)
    return Markup(svg)  # pygal escapes the texts it draws


def bars(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
         horizontal: bool = False) -> Markup:  # fmt: skip
    """A grouped bar chart: one group per label, one bar per series."""
    chart = _config(pygal.HorizontalBar() if horizontal else pygal.Bar(), title)
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, [round(v, 2) for v in values])
    return _svg(chart, title)


def line(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]]) -> Markup:
    """A line chart over ordered labels (e.g. months)."""
    chart = _config(pygal.Line(), title)
    chart.x_labels = list(labels)
    chart.config.fill = True
    for name, values in series:
        chart.add(name, [round(v, 2) for v in values])
    return _svg(chart, title)


def pie(title: str, parts: Sequence[tuple[str, float]]) -> Markup:
    """A donut chart of parts of a whole."""
    chart = _config(pygal.Pie(inner_radius=0.45), title)
    for name, value in parts:
        chart.add(name, round(value, 2))
    return _svg(chart, title)
