"""How report values read as text (the HTML report, the web): yuan with two decimals,
percentages to one place, days, multiples; "—" for a value that does not exist."""

from __future__ import annotations

from typing import Any

from ledger.money import format_yuan


def cell_text(value: Any, kind: str) -> str:
    """A value of a report column as text, by the column's kind."""
    if value is None:
        return "—"
    if kind == "fen":
        return format_yuan(int(value))
    if kind == "ratio":
        return f"{float(value) * 100:.1f}%"
    if kind == "days":
        return f"{float(value):g}"
    if kind == "times":
        return f"{float(value):,.2f}"
    if kind == "int":
        return f"{int(value):,}"
    return str(value)


#: The unit each kind of column is in, shown beside its label (Chinese, English).
UNITS = {"fen": ("元", "yuan"), "ratio": ("%", "%"), "days": ("天", "days"), "times": ("倍", "×")}
