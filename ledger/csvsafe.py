"""CSV that a spreadsheet cannot run: every CSV the product writes goes through here.

A spreadsheet treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some
programs, a tab or a carriage return) as a formula, so a name or a reason typed by anyone could
become ``=HYPERLINK(...)`` in an auditor's export ("CSV injection"). Following the OWASP advice,
such a *text* cell is written with a leading ``'``, which spreadsheets show as text.

The choice for numbers: values that are Python numbers (``int``, ``float``, ``Decimal``, not
``bool``) are written as they are, so a negative amount ``-10000`` stays a number a spreadsheet
can sum; a number cannot be a formula. Text is judged by its first character whatever it says,
so the text ``"-100.00"`` is written ``'-100.00`` (a spreadsheet still shows it, as text). Every
writer therefore passes amounts as numbers and names, reasons and summaries as text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

#: The first characters that make a spreadsheet cell a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` as it may go into a CSV cell: text that starts like a formula gets a ``'``."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    if value is None:
        return value
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row (column → value) with every cell made safe."""
    return {key: safe_cell(value) for key, value in row.items()}


class SafeDictWriter(csv.DictWriter):  # type: ignore[type-arg]
    """`csv.DictWriter` whose rows are made safe with `safe_cell` (the header is ours)."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow(safe_row(rowdict))

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)
