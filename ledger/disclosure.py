"""What of an event may be shown: an allow-list of fields per event type.

Every place that shows an event's fields (the web's event page and API, the audit trail and its
CSV, replay output) passes them through :func:`public_fields`. Only the fields listed here for
the event's type are returned; an event type not listed shows nothing but its type. So a field
that should never be seen (the password and token hashes of stores made before they left the
log) stays hidden even if a future upcaster or a forged event brings it back.
"""

from __future__ import annotations

from typing import Any

from ledger.domain import (
    Award,
    Budget,
    CommandReceipt,
    Enterprise,
    Financing,
    Measure,
    PatentTransfer,
    User,
)
from ledger.domain.events import topic_of as _topic

#: Event class → the fields of that event type that may be shown.
ALLOWED_BY_CLASS: dict[type, tuple[str, ...]] = {
    Award.Granted: ("reference", "uscc", "measure", "item", "fiscal_year", "amount_fen",
                    "decision_ref", "granted_on", "basis", "financing_reference",
                    "counts_towards_cap", "actor"),
    Award.DisbursementRecorded: ("reference", "amount_fen", "voucher_no", "paid_on", "actor"),
    Award.DisbursementApproved: ("reference", "actor"),
    Award.DisbursementRejected: ("reference", "reason", "actor"),
    Award.DisbursementReversed: ("reference", "reason", "actor"),
    Award.Revoked: ("decision_ref", "reason", "revoked_fen", "actor"),
    Award.ClawbackOrdered: ("reference", "amount_fen", "decision_ref", "reason", "actor"),
    Award.ClawbackRecovered: ("reference", "clawback_reference", "amount_fen", "voucher_no",
                              "recovered_on", "actor"),
    Budget.Opened: ("measure", "fiscal_year", "actor"),
    Budget.Appropriated: ("reference", "amount_fen", "decision_ref", "actor"),
    Budget.Adjusted: ("reference", "delta_fen", "decision_ref", "reason", "actor"),
    Budget.Committed: ("award_reference", "amount_fen", "actor"),
    Budget.Released: ("award_reference", "amount_fen", "actor"),
    CommandReceipt.Accepted: ("command_type", "key", "content", "content_sha256", "actor"),
    Enterprise.Registered: ("uscc", "name", "town_code", "industry", "actor"),
    Enterprise.Updated: ("reference", "name", "town_code", "industry", "actor"),
    Enterprise.SupportCommitted: ("award_reference", "fiscal_year", "amount_fen", "cap_fen",
                                  "actor"),
    Enterprise.SupportReleased: ("award_reference", "fiscal_year", "amount_fen", "actor"),
    Financing.Registered: ("reference", "uscc", "instrument", "lender", "principal_fen",
                           "annual_rate_bp", "term_months", "collateral", "registered_on",
                           "actor"),
    Financing.Drawn: ("on", "amount_fen", "actor"),
    Financing.Repaid: ("on", "amount_fen", "actor"),
    Financing.Defaulted: ("on", "amount_fen", "actor"),
    Measure.Defined: ("code", "pillar", "title_zh", "title_en", "items", "actor"),
    Measure.ItemAdded: ("item", "actor"),
    Measure.ItemRetired: ("item_code", "actor"),
    PatentTransfer.Recorded: ("reference", "patent_no", "transferor_name", "transferor_kind",
                              "transferor_uscc", "uscc", "mode", "contract_value_fen",
                              "signed_on", "actor"),
    PatentTransfer.RecordalCompleted: ("on", "actor"),
    PatentTransfer.Implemented: ("on", "actor"),
    PatentTransfer.RevenueReported: ("on", "amount_fen", "actor"),
    PatentTransfer.PatentIntensiveProductRecognised: ("on", "actor"),
    PatentTransfer.Terminated: ("on", "actor"),
    # Users: facts only. Never a hash (legacy PasswordSet / TokenIssued v1 held one).
    User.Registered: ("name", "roles", "actor"),
    User.RoleGranted: ("role", "actor"),
    User.RoleRevoked: ("role", "actor"),
    User.TokenIssued: ("token_id", "expires_at", "actor"),
    User.TokenRevoked: ("token_id", "actor"),
    User.PasswordSet: ("actor",),
    User.PasswordChanged: ("actor",),
}  # fmt: skip

#: The same by stored topic (derived from the classes), for callers that hold a stored event.
ALLOWED: dict[str, tuple[str, ...]] = {_topic(c): f for c, f in ALLOWED_BY_CLASS.items()}


def topic_of(topic_or_event: Any) -> str:
    """The stored topic of a topic string, an event class or an event."""
    if isinstance(topic_or_event, str):
        return topic_or_event
    cls = topic_or_event if isinstance(topic_or_event, type) else type(topic_or_event)
    return _topic(cls)


def allowed_fields(topic_or_event: Any) -> tuple[str, ...]:
    """The names of the fields that may be shown for this event type (none if unknown): for
    an event class or an event, by class; for a stored topic, by topic."""
    if isinstance(topic_or_event, str):
        return ALLOWED.get(topic_or_event, ())
    cls = topic_or_event if isinstance(topic_or_event, type) else type(topic_or_event)
    return ALLOWED_BY_CLASS.get(cls, ())


def public_fields(topic_or_event_class: Any, state: dict[str, Any]) -> dict[str, Any]:
    """Only the fields of `state` allowed for this event type, in the allow-list's order."""
    allowed = allowed_fields(topic_or_event_class)
    return {name: state[name] for name in allowed if name in state}
