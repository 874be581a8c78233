"""The finance office's work surface: the approval queue (待审批) and the form that records a
payment against an award.

Approvers see the payments waiting for approval and approve or reject one or many at once (a
reason is required to reject). Officers see the same queue without the decision buttons, and a
form to record a payment with the award's payable amount shown. Viewers and auditors see
neither (403). Every decision and every payment goes through the ledger's command path — the
same `execute_many` call the JSON API makes, so the same rules and error codes
(`self_approval`, `invalid_state`, `forbidden`, …) — and the page reports each item's
outcome. Forms carry the CSRF token (Flask-WTF's CSRFProtect guards every POST of the pages).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from ledger.errors import LedgerError
from ledger.money import MoneyError, parse_yuan
from projections.queries import ViewsBehind
from projections.queries import queue as q
from web.auth import current_user, ledger, requires
from web.i18n import is_english, pick
from web.schemas import NOT_QUERY_TEXT

bp = Blueprint("queue", __name__)

#: Payments on one page of the queue.
QUEUE_PAGE_SIZE = 50
#: Most payments one decision may name (the queue shows at most a page; a crafted form no more).
DECISION_MAX = 200
REASON_MAX = 500
#: The longest reference the ledger takes (ledger.command_fields.Reference).
REFERENCE_MAX = 100


def is_reference(text: str) -> bool:
    """Whether a form's text may be a reference: 1–100 characters, no control character (the
    ledger checks the rest, and answers `validation_error` or `unknown_*`)."""
    return 0 < len(text) <= REFERENCE_MAX and not NOT_QUERY_TEXT.search(text)


@dataclass(frozen=True)
class Outcome:
    """What became of one payment of a decision, for the page (texts in both languages)."""

    reference: str
    ok: bool
    text: str  # what happened, in the page's language
    code: str | None = None
    message_zh: str | None = None
    message_en: str | None = None


def item_title(measure: str, item: str) -> str:
    """A measure's code and its support item's title in the page's language."""
    try:
        spec = ledger().catalogue.item(measure, item)
    except KeyError:  # an item the catalogue no longer has: show its measure only
        return measure
    return f"{measure} · {pick(spec.title_zh, spec.title_en)}"


def _queue_page(notice: str | None = None, outcomes: list[Outcome] | None = None,
                approved: list[str] | None = None, wait_for: int | None = None,
                status: int = 200) -> Any:  # fmt: skip
    """The queue, after the views reach `wait_for` (a decision's log position) if they can."""
    app = ledger()
    page_no = request.args.get("page", "1")
    page_no = int(page_no) if page_no.isdigit() and 0 < int(page_no) <= 10_000 else 1
    behind = False
    timeout_s = float(current_app.config.get("LEDGER_READ_TIMEOUT_S", 5))
    try:
        items = q.pending(app, offset=(page_no - 1) * QUEUE_PAGE_SIZE, limit=QUEUE_PAGE_SIZE,
                          min_position=wait_for, timeout_s=timeout_s)  # fmt: skip
    except ViewsBehind:
        behind = True
        items = q.pending(app, offset=(page_no - 1) * QUEUE_PAGE_SIZE, limit=QUEUE_PAGE_SIZE)
    viewer = current_user()
    return render_template(
        "queue.html", items=items, totals=q.pending_totals(app), page=page_no,
        has_next=items.has_more, outcomes=outcomes or [], notice=notice, behind=behind,
        item_title=item_title, approved=approved or [], me=viewer.name if viewer else "",
        age=age_text,
    ), status  # fmt: skip


@bp.route("/queue")
@requires("officer")
def queue() -> Any:
    """Payments waiting for approval, the longest waiting first (approvers may decide them)."""
    return _queue_page()


def _references() -> list[str]:
    refs = []
    for raw in request.form.getlist("ref")[: DECISION_MAX + 1]:
        ref = raw.strip()
        if not is_reference(ref):
            abort(400)
        if ref not in refs:
            refs.append(ref)
    return refs


def _refused(message_zh: str, message_en: str) -> Any:
    """The queue again with why nothing was done (422)."""
    return _queue_page(notice=f"{message_zh} / {message_en}", status=422)


@bp.route("/queue/decisions", methods=["POST"])
@requires("officer")
def decide() -> Any:
    """Approve or reject the selected payments; report each one's outcome."""
    decision = request.form.get("decision", "")
    if decision not in ("approve", "reject"):
        abort(400)
    refs = _references()
    if not refs:
        return _refused("请至少选择一笔付款。", "Select at least one payment.")
    if len(refs) > DECISION_MAX:
        return _refused(f"一次最多处理 {DECISION_MAX} 笔付款。",
                        f"At most {DECISION_MAX} payments at once.")  # fmt: skip
    reason = request.form.get("reason", "").strip()
    if NOT_QUERY_TEXT.search(reason) or len(reason) > REASON_MAX:
        return _refused(f"驳回理由不能含控制字符，且不超过 {REASON_MAX} 个字。",
                        f"The reason may hold no control characters and at most {REASON_MAX} characters.")  # fmt: skip
    if decision == "reject" and not reason:
        return _refused("驳回必须填写理由（validation_error），未作任何处理。",
                        "A reason is required to reject (validation_error); nothing was done.")  # fmt: skip
    viewer = current_user()
    assert viewer is not None
    if decision == "approve":
        commands = [{"type": "approve_disbursement", "reference": ref} for ref in refs]
    else:
        commands = [{"type": "reject_disbursement", "reference": ref, "reason": reason} for ref in refs]
    results = ledger().execute_many([(command, viewer.name) for command in commands])
    done_text = _("Approved") if decision == "approve" else _("Rejected")
    outcomes = []
    for ref, result in zip(refs, results, strict=True):
        if isinstance(result, LedgerError):
            outcomes.append(Outcome(ref, False, _("Refused"), result.code, result.message_zh,
                                    result.message_en))  # fmt: skip
        elif result.status == "duplicate":
            outcomes.append(Outcome(ref, True, _("Already done before (recorded once)")))
        else:
            outcomes.append(Outcome(ref, True, done_text))
    current_app.logger.info("queue decision by %s: %s %d payment(s), %d refused", viewer.name,
                            decision, len(refs), sum(not o.ok for o in outcomes))  # fmt: skip
    approved = [o.reference for o in outcomes if o.ok] if decision == "approve" else []
    return _queue_page(outcomes=outcomes, approved=approved, wait_for=ledger().log_position())


def age_text(age_s: int | None) -> str:
    """How long a payment has waited, in the page's language: "2天3小时" / "2 d 3 h"."""
    if age_s is None:
        return "—"
    days, rest = divmod(int(age_s), 86_400)
    hours, minutes = rest // 3_600, rest % 3_600 // 60
    if is_english():
        return f"{days} d {hours} h" if days else f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return f"{days}天{hours}小时" if days else f"{hours}小时{minutes}分钟" if hours else f"{minutes}分钟"


# -- recording a payment -------------------------------------------------------------------


def _form_value(name: str, max_length: int = 100) -> str:
    text = request.form.get(name, "").strip()[:max_length]
    if NOT_QUERY_TEXT.search(text):
        abort(400)
    return text


def _payment_form(award_reference: str, values: dict[str, str], error: Any = None,
                  status: int = 200) -> Any:  # fmt: skip
    award = q.payable_award(ledger(), award_reference) if award_reference else None
    return render_template(
        "disbursement_form.html", award_reference=award_reference, award=award, values=values,
        error=error, item_title=item_title,
    ), status  # fmt: skip


@bp.route("/disbursements/new", methods=["GET"])
@requires("officer")
def new_disbursement() -> Any:
    """The form that records a payment against an award (the award's payable amount shown)."""
    award_reference = request.args.get("award", "").strip()
    if award_reference and not is_reference(award_reference):
        abort(400)
    return _payment_form(award_reference, {})


@bp.route("/disbursements/new", methods=["POST"])
@requires("officer")
def record_disbursement() -> Any:
    """Record a payment through the ledger; it then waits in the queue for an approver."""
    values = {name: _form_value(name) for name in
              ("reference", "award_reference", "amount_yuan", "voucher_no", "paid_on")}  # fmt: skip
    try:
        amount_fen = parse_yuan(values["amount_yuan"])
    except MoneyError as exc:
        error = {"code": "validation_error", "message_zh": exc.message_zh, "message_en": exc.message_en}
        return _payment_form(values["award_reference"], values, error, 422)
    command = {"type": "record_disbursement", "reference": values["reference"],
               "award_reference": values["award_reference"], "amount_fen": amount_fen,
               "voucher_no": values["voucher_no"], "paid_on": values["paid_on"]}  # fmt: skip
    viewer = current_user()
    assert viewer is not None
    (result,) = ledger().execute_many([(command, viewer.name)])
    if isinstance(result, LedgerError):
        award = values["award_reference"] if is_reference(values["award_reference"]) else ""
        error = {"code": result.code, "message_zh": result.message_zh, "message_en": result.message_en}
        return _payment_form(award, values, error, 422)
    if result.status == "duplicate":
        flash(_("This payment was recorded before; nothing new was recorded."), "info")
    else:
        flash(_("Payment %(ref)s recorded; it waits for an approver.", ref=values["reference"]), "info")
    return redirect(url_for("queue.new_disbursement", award=values["award_reference"]))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
