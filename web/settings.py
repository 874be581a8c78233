"""Settings of the web application, read from `LEDGER_*` environment variables.

- `LEDGER_DATABASE_URL`: the store (see `ledger.storage`);
- `LEDGER_READ_DATABASE_URL`: a PostgreSQL streaming replica (hot standby) of the store that
  the pages' and the API's reads go to, while commands go to `LEDGER_DATABASE_URL` (see
  `web.replica`); unset, everything reads the store itself;
- `LEDGER_SECRET_KEY`: signs session cookies; without it a random key is made per process,
  so sessions end when the server restarts;
- `LEDGER_SECURE_COOKIES=1`: send cookies only over HTTPS (set it behind TLS);
- `LEDGER_READ_TIMEOUT_S`: how long a read with `min_position` waits for the views (default 5);
- `LEDGER_SIGNIN_FREE_FAILURES`: failed sign-ins allowed before each further attempt is delayed
  (default 3);
- `LEDGER_CACHE_ENTRIES`: rendered bodies kept per process, per views position (default 5000;
  0 keeps none, see `web.cache`);
- `LEDGER_READS_AT_ONCE`: reads (GET requests) a server process runs at once, the others
  waiting their turn (default 2; 0 for no limit; commands are never held, see
  `web.read_slots`).
"""

from __future__ import annotations

import logging
import os
import secrets
from typing import Any

log = logging.getLogger(__name__)


def _float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        log.warning("%s is not a number; using %s", name, default)
        return default


def settings_from_env() -> dict[str, Any]:
    """The Flask configuration the `LEDGER_*` environment variables describe."""
    secret = os.environ.get("LEDGER_SECRET_KEY", "").strip()
    if not secret:
        secret = secrets.token_hex(32)
    return {
        "LEDGER_DATABASE_URL": os.environ.get("LEDGER_DATABASE_URL", "").strip(),
        "LEDGER_READ_DATABASE_URL": os.environ.get("LEDGER_READ_DATABASE_URL", "").strip(),
        "SECRET_KEY": secret,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("LEDGER_SECURE_COOKIES", "0") == "1",
        "SESSION_COOKIE_NAME": "ledger_session",
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "LEDGER_READ_TIMEOUT_S": _float("LEDGER_READ_TIMEOUT_S", 5.0),
        "LEDGER_SIGNIN_FREE_FAILURES": int(_float("LEDGER_SIGNIN_FREE_FAILURES", 3)),
        "LEDGER_CACHE_ENTRIES": max(0, int(_float("LEDGER_CACHE_ENTRIES", 5_000))),
        "LEDGER_READS_AT_ONCE": max(0, int(_float("LEDGER_READS_AT_ONCE", 2))),
        "LEDGER_COMMANDS_MAX": 1000,
        "LEDGER_PAGE_SIZE": 50,
        "LEDGER_EVENTS_LIMIT_MAX": 500,
        "WTF_CSRF_TIME_LIMIT": None,
    }
