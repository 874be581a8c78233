"""Charts drawn on the server as SVG (pygal), with no script and nothing fetched from elsewhere.

Each chart comes with the same numbers in an accessible table beside it on the page, so the
SVG is decoration for those who can see it and the table is the record.

The pages' Content-Security-Policy allows no inline style, so the SVG carries none: pygal's
per-chart `<style>` (the same rules for every chart, under a random `#chart-…` id) is taken out
and kept, under the chart class `.pygal-chart`, in `static/charts.css`; the one `style`
attribute pygal writes (its hidden tooltip) is dropped and hidden by that sheet too. After a
change of `_STYLE` or of pygal, write the sheet again: `python -m web.charts > web/static/charts.css`
(a test compares the two).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import pygal
from flask_babel import gettext as _
from markupsafe import Markup
from pygal.style import Style

#: pygal's inline script (its tooltip configuration): of no use without its JavaScript.
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)
#: pygal's inline stylesheet and style attributes (moved to static/charts.css).
_STYLE_ELEMENT = re.compile(r"<style\b[^>]*>(.*?)</style>", re.DOTALL)
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="[^"]*"')
_CHART_ID = re.compile(r"#chart-[0-9a-f-]+")
#: The series the static sheet has colours for (pygal darkens the palette for more than six).
SHEET_SERIES = 12

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
    chart.config.no_data_text = _("No data")
    chart.config.value_formatter = _figure
    return chart


def _figure(value: float | None) -> str:
    """A chart's value as its table shows it: two decimals at most, thousands separated."""
    return "—" if value is None else f"{value:,.2f}".removesuffix(".00")


def _svg(chart: pygal.Graph, label: str) -> Markup:
    svg = _STYLE_ATTRIBUTE.sub("", _STYLE_ELEMENT.sub("", _SCRIPT.sub("", chart.render(is_unicode=True))))
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


def stylesheet() -> str:
    """The rules pygal writes into every chart, for all charts at once: static/charts.css."""
    sheets = set()
    series = [(str(i), [1.0, 2.0]) for i in range(SHEET_SERIES)]
    for chart in (pygal.Bar(), pygal.HorizontalBar(), pygal.Line(), pygal.Pie(inner_radius=0.45)):
        chart = _config(chart, "")
        chart.x_labels = ["a", "b"]
        for name, values in series:
            chart.add(name, values)
        found = _STYLE_ELEMENT.search(chart.render(is_unicode=True))
        if found is None:
            raise RuntimeError("pygal wrote no stylesheet")
        sheets.add(html.unescape(_CHART_ID.sub(".pygal-chart", found.group(1))))
    header = "/* pygal's chart rules (web.charts.stylesheet); regenerate, do not edit. */\n"
    return header + "\n".join(sorted(sheets)) + "\n.pygal-chart .tooltip{opacity:0}\n"


if __name__ == "__main__":
    print(stylesheet(), end="")
