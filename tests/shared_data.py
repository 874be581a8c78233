"""Test data kept outside the project, in ``../shared`` beside the checkout — and the one rule
for when it is missing.

The rule: missing shared test data is a **failure** in CI and a skip (with the reason)
elsewhere. "In CI" means ``LEDGER_TEST_REQUIRE_SHARED=1`` (``.ci/run`` sets it, beside
``LEDGER_TEST_REQUIRE_POSTGRES`` and ``LEDGER_TEST_REQUIRE_BROWSER``) or ``CI`` set to anything
but ``""``, ``0`` or ``false`` (as CI services set it), so a CI job that does not go through
``.ci/run`` cannot pass with the data absent either. ``LEDGER_TEST_SHARED_DIR`` points at
another copy of the folder (the rule's own test points it at a missing one).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REQUIRE_ENV = "LEDGER_TEST_REQUIRE_SHARED"
DIR_ENV = "LEDGER_TEST_SHARED_DIR"


def shared_dir() -> Path:
    """The shared test data folder: LEDGER_TEST_SHARED_DIR, else ``../shared`` beside the
    checkout."""
    configured = os.environ.get(DIR_ENV, "").strip()
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared"


def shared_required() -> bool:
    """Whether missing shared data fails the run (in CI) rather than skipping."""
    ci = os.environ.get("CI", "").strip().lower()
    return os.environ.get(REQUIRE_ENV) == "1" or ci not in ("", "0", "false")


def shared_missing(reason: str) -> None:
    """Fail (in CI) or skip (elsewhere) a test whose shared data is absent; never returns."""
    if shared_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1 or CI is set: shared test data is required)")
    pytest.skip(reason)
