"""What the web reads beyond the views' queries: the log's events, the audit, and replays.

Everything over the view tables is `projections.queries` (the pages and the API call it and
render its records); this module holds only what is the web's own: refusing a `min_position`
or an `as_of` a read cannot answer, decoding one event of the log for its page, the audit's
tree heads and proofs, and the audit's independent replay of balances as of an earlier moment.
Each of them reads through `projections.queries.common.reader`: from the streaming replica
when `LEDGER_READ_DATABASE_URL` names one (`web.replica`), else from the store itself; only
the end of the log that `min_position` is checked against is always the primary's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledger.disclosure import public_fields
from ledger.shanghai import parse_instant
from projections import queries
from projections.queries import ViewsBehind
from projections.queries.common import ratio, reader

if TYPE_CHECKING:
    from ledger.application import SupportLedger

__all__ = ["BadReadRequest", "NotInLog", "ViewsBehind"]


class BadReadRequest(ValueError):
    """A read asked for something that cannot be answered (e.g. a position not yet recorded)."""

    def __init__(self, message_en: str, message_zh: str) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_zh = message_zh


def check_min_position(app: SupportLedger, min_position: int | None) -> None:
    """Refuse at once a `min_position` beyond the end of the log: waiting cannot help."""
    if min_position is None:
        return
    end = app.log_position()
    if min_position > end:
        raise BadReadRequest(
            f"min_position {min_position} is beyond the end of the log ({end})",
            f"min_position {min_position} 超出日志末尾（{end}）",
        )


# -- how current -------------------------------------------------------------------------------


def status(app: SupportLedger) -> dict[str, Any]:
    """The views' position, when that event was recorded, and the log's end position."""
    position = queries.views_position(app)
    return {
        "views_position": position.position,
        "views_recorded_at": position.recorded_at,
        "log_position": position.log_position,
        "lag": position.lag,
    }


# -- the event log -----------------------------------------------------------------------------


def event_at(app: SupportLedger, position: int) -> dict[str, Any] | None:
    """The stored event at a log position, decoded, with its trail entry; None if there is none."""
    if position < 1:
        return None
    notifications = reader(app).recorder.select_notifications(start=position, limit=1, stop=position)
    if not notifications or notifications[0].id != position:
        return None
    notification = notifications[0]
    event = reader(app).mapper.to_domain_event(notification)
    # Only the fields the event's type allows (an unknown type shows nothing but its type).
    fields = {
        k: _jsonable(v)
        for k, v in sorted(public_fields(notification.topic, vars(event)).items())
    }
    entries = queries.trail(app, after_position=position - 1, limit=1)
    entry = entries[0] if entries and entries[0].position == position else None
    return {
        "position": position,
        "topic": notification.topic,
        "originator_id": str(notification.originator_id),
        "originator_version": notification.originator_version,
        "recorded_at": _jsonable(getattr(event, "timestamp", None)),
        "fields": fields,
        "trail": entry,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# -- audit -------------------------------------------------------------------------------------


class NotInLog(LookupError):
    """A position or size the Merkle log does not hold (yet)."""


def merkle_size(app: SupportLedger) -> int:
    """How many events the Merkle log holds (it may trail the end of the event log)."""
    from audit.log import log_size

    return log_size(reader(app))


def latest_heads(app: SupportLedger, limit: int = 10) -> list[dict[str, Any]]:
    """The latest signed tree heads, newest first, each with its witnessing (cosignatures)."""
    from audit.heads import latest_heads as _latest_heads
    from audit.witness_client import annotate_heads

    return annotate_heads(app, list(_latest_heads(reader(app), limit)))


def last_verification(app: SupportLedger) -> dict[str, Any] | None:
    """The report of the last full verification of the log, or None if none ran yet."""
    from audit.verify import last_verification as _last_verification

    return _last_verification(reader(app))


def inclusion_proof(app: SupportLedger, position: int, tree_size: int | None = None) -> dict[str, Any]:
    """An RFC 6962 inclusion proof of the event at a log position (default: latest head)."""
    from audit.log import LogError
    from audit.proofs import inclusion_proof as _inclusion_proof

    try:
        return _inclusion_proof(reader(app), position, tree_size)
    except LogError as exc:
        raise NotInLog(str(exc)) from None


def consistency_proof(app: SupportLedger, first: int, second: int) -> dict[str, Any]:
    """An RFC 6962 consistency proof between tree sizes `first` and `second`."""
    from audit.log import LogError
    from audit.proofs import consistency_proof as _consistency_proof

    try:
        return _consistency_proof(reader(app), first, second)
    except LogError as exc:
        raise NotInLog(str(exc)) from None


# -- as of an earlier moment -------------------------------------------------------------------


def parse_as_of(text: str) -> tuple[int | None, datetime | None]:
    """`as_of` as a log position (digits) or an ISO instant (naive = UTC)."""
    text = text.strip()
    if text.isdigit():
        return int(text), None
    moment = parse_instant(text)
    if moment is None:
        raise BadReadRequest(
            f"as_of {text[:40]!r} is neither a log position nor an ISO instant",
            f"as_of {text[:40]!r} 既不是日志位置也不是 ISO 时间",
        )
    return None, moment


def _replay(app: SupportLedger, as_of: str) -> Any:
    """The audit's independent replay of the balances as of a position or an instant."""
    from audit.replay import replay

    position, moment = parse_as_of(as_of)
    if position is not None:
        check_min_position(app, position)
    return replay(reader(app), as_of=moment, position=position)


def check_as_of(app: SupportLedger, as_of: str) -> None:
    """Refuse `as_of` where a read cannot answer it (only balances are replayed)."""
    parse_as_of(as_of)
    raise BadReadRequest(
        "as_of is answered for enterprise and measure balances only",
        "as_of 仅适用于企业和措施余额",
    )


def enterprise_as_of(app: SupportLedger, uscc: str, as_of: str) -> dict[str, Any] | None:
    """An enterprise's balances by year as the ledger knew them at `as_of` (replayed)."""
    result = _replay(app, as_of)
    current = queries.enterprise(app, uscc)
    if current is None:
        return None
    rows = _replayed_rows(result, "enterprises")
    balances = [r for r in rows if r.get("uscc") == current.uscc]
    return {**current.to_dict(), "balances": balances, "as_of": as_of}


def measure_balances_as_of(app: SupportLedger, code: str, as_of: str,
                           fiscal_year: int | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """A measure's balances by year as the ledger knew them at `as_of` (replayed)."""
    result = _replay(app, as_of)
    out = []
    for row in _replayed_rows(result, "measures"):
        if row["measure"] != code or fiscal_year not in (None, row["fiscal_year"]):
            continue
        total_fen = row["appropriated_fen"] + row["adjusted_fen"]  # as the views state it
        net_committed_fen = row["committed_fen"] - row["released_fen"]
        utilisation = ratio(net_committed_fen, total_fen)
        out.append({**row, "appropriated_fen": total_fen, "utilisation": utilisation})
    return out


def _replayed_rows(result: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [dict(row) for row in result.get(name) or []]
