"""Asia/Shanghai time for people: instants are stored in UTC and shown in Beijing time.

China has kept UTC+8 without daylight saving since 1991, so without a tz database the zone is
that fixed offset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

try:
    from zoneinfo import ZoneInfo

    SHANGHAI: Any = ZoneInfo("Asia/Shanghai")
except Exception:  # no tz database
    SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

__all__ = ["SHANGHAI", "parse_instant", "shanghai_iso", "shanghai_time"]


def parse_instant(value: Any) -> datetime | None:
    """An ISO text ("Z" allowed) or a datetime as an aware datetime (naive is taken as UTC);
    None for None, "" or text that is not an ISO instant."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def shanghai_time(value: Any) -> str:
    """An instant in Asia/Shanghai time, to the second: "2025-04-01 18:02:03 (UTC+8)".

    "—" for no instant; text that is not an instant is shown as it is.
    """
    moment = parse_instant(value)
    if moment is None:
        return "—" if value in (None, "") else str(value)
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") + " (UTC+8)"


def shanghai_iso(instant: datetime) -> str:
    """An aware instant as ISO 8601 in Asia/Shanghai: ``2025-05-10T09:30:00.123456+08:00``."""
    return instant.astimezone(SHANGHAI).isoformat(timespec="microseconds")
