"""The pages answer malformed query text (NUL, lone surrogates, control characters, huge or
non-numeric numbers) with a page or a 4xx, never a 5xx — on both stores (PostgreSQL refuses NUL
in text, so a NUL that reached a query would fail there)."""

from __future__ import annotations

from typing import Any

import pytest

#: Pages and the query arguments they read from people's input.
PAGE_QUERIES = (
    ("/", ("year", "lang")),
    ("/enterprises", ("q", "town", "page")),
    ("/enterprises/91310117MA1J3ABC0X", ("before", "awards")),
    ("/measures", ("year",)),
    ("/measures/M01", ("year",)),
    ("/transfers", ("page",)),
    ("/financing", ("page",)),
    ("/audit", ("position", "tree_size")),
    ("/exports/trail.csv", ("uscc", "measure", "actor", "after", "limit")),
)
#: Values as they arrive on the wire, percent-encoded: NUL, a lone surrogate's UTF-8 form (invalid
#: UTF-8), other invalid UTF-8, an escape sequence, 5,000 digits, a negative, full-width digits,
#: a right-to-left override, a literal "%00".
MALFORMED_VALUES = ("%00", "a%00b", "%ED%A0%80", "%FF%FE", "%1B%5B31m", "9" * 5000, "-1",
                    "%EF%BC%91%EF%BC%92", "%E2%80%AE", "%2500")  # fmt: skip


@pytest.mark.parametrize(("path", "names"), PAGE_QUERIES)
def test_malformed_query_text_never_gets_a_5xx(as_user: Any, path: str, names: tuple[str, ...]) -> None:
    auditor = as_user("aud")
    for name in names:
        for value in MALFORMED_VALUES:
            response = auditor.get(f"{path}?{name}={value}")
            assert response.status_code < 500, (path, name, repr(value), response.status_code)
            assert "Traceback" not in response.get_data(as_text=True)
