"""`GET /api/v1/awards` and `GET /api/v1/disbursements`: the lists the pages show, with the same
filters (checked by `projections.queries.list_filters`, the pages' own parser), sorts, counts
and totals of the whole filtered set, a page at a time. Amounts are integer fen; a bad filter
is 422 `invalid_filter` naming the field.

Registered on the API of `web.api` (the same OpenAPI document, errors and bearer tokens).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_smorest import Blueprint, abort
from marshmallow import fields, validate

from projections.queries import awards, disbursements
from projections.queries.list_filters import (
    FILTER_NAMES,
    LIST_FILTERS,
    STATUSES,
    BadFilter,
    parse_filter,
)
from web import reads
from web import schemas as s
from web.auth import csrf, ledger, requires

bp = Blueprint("api_lists", __name__, url_prefix="/api/v1",
               description="Awards and disbursements, filtered")  # fmt: skip

_TEXT = {
    "measure": "Measure code M01..M13", "item": "Support item code",
    "town": "Town code (the enterprise's current town)", "fiscal_year": "Fiscal year",
    "status": "Payment status: " + ", ".join(STATUSES) + " (awards: with a payment in it)",
    "decision_ref": "Decision number (文号), any part", "voucher_no": "Voucher number, any part",
    "date_from": "From this date (YYYY-MM-DD, inclusive): grant date or payment date",
    "date_to": "To this date (inclusive)", "uscc": "Credit code or its start",
    "award": "Award reference",
}  # fmt: skip


def _args_schema(name: str, sorts: dict[str, str]) -> type[s.Args]:
    """Query arguments: every filter as text (checked by `parse_filter`), sort, order, paging."""
    declared: dict[str, Any] = {
        f: fields.String(metadata={"description": _TEXT[f]}) for f in FILTER_NAMES if f in LIST_FILTERS
    }
    declared["sort"] = fields.String(metadata={"description": "Sort by: " + ", ".join(sorts)})
    declared["order"] = fields.String(metadata={"description": "asc (default) or desc"})
    declared["offset"] = fields.Integer(load_default=0, validate=validate.Range(0, 10**6))
    declared["limit"] = fields.Integer(load_default=50, validate=validate.Range(1, s.REQUEST_MAX))
    declared["min_position"] = fields.Integer(validate=validate.Range(0, 2**53))
    return type(name, (s.Args,), declared)


AwardListArgs = _args_schema("AwardListArgs", awards.AWARD_SORTS)
DisbursementListArgs = _args_schema("DisbursementListArgs", disbursements.DISBURSEMENT_SORTS)


class AwardListRowSchema(s.Out):
    reference = fields.String(required=True)
    uscc = fields.String(required=True)
    enterprise_name = fields.String(required=True)
    town_code = fields.String()
    town_name_zh = fields.String()
    measure = fields.String(required=True)
    item = fields.String(required=True)
    fiscal_year = fields.Integer(required=True)
    decision_ref = fields.String()
    granted_on = fields.String()
    revoked = fields.Boolean()
    granted_fen = s.Fen(required=True)
    revoked_fen = s.Fen()
    paid_fen = s.Fen(required=True)
    pending_fen = s.Fen()
    reversed_fen = s.Fen()
    clawback_ordered_fen = s.Fen()
    clawback_recovered_fen = s.Fen()
    outstanding_fen = s.Fen()
    first_paid_on = fields.String(allow_none=True)


class AwardTotalsSchema(s.Out):
    count = fields.Integer(required=True)
    granted_fen = s.Fen(required=True)
    paid_fen = s.Fen(required=True)
    pending_fen = s.Fen()
    outstanding_fen = s.Fen()


class AwardListSchema(s.Out):
    awards = fields.List(fields.Nested(AwardListRowSchema), required=True)
    totals = fields.Nested(AwardTotalsSchema, required=True)
    offset = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    next_offset = fields.Integer(allow_none=True)


class DisbursementListRowSchema(s.Out):
    reference = fields.String(required=True)
    award_reference = fields.String(required=True)
    amount_fen = s.Fen(required=True)
    paid_on = fields.String(required=True)
    voucher_no = fields.String()
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    uscc = fields.String(required=True)
    enterprise_name = fields.String(required=True)
    town_code = fields.String()
    town_name_zh = fields.String()
    measure = fields.String()
    item = fields.String()
    fiscal_year = fields.Integer()
    decision_ref = fields.String()


class DisbursementTotalsSchema(s.Out):
    count = fields.Integer(required=True)
    amount_fen = s.Fen(required=True)
    pending_fen = s.Fen()
    approved_fen = s.Fen()
    rejected_fen = s.Fen()
    reversed_fen = s.Fen()


class DisbursementListSchema(s.Out):
    disbursements = fields.List(fields.Nested(DisbursementListRowSchema), required=True)
    totals = fields.Nested(DisbursementTotalsSchema, required=True)
    offset = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    next_offset = fields.Integer(allow_none=True)


def _chosen(args: dict[str, Any], sorts: dict[str, str]) -> Any:
    try:
        return parse_filter(args, sorts)
    except BadFilter as error:
        abort(422, message=error.message_en, code=error.code, message_zh=error.message_zh,
              messages={error.field: [error.message_en]})  # fmt: skip


def _wait(args: dict[str, Any]) -> dict[str, Any]:
    reads.check_min_position(ledger(), args.get("min_position"))
    return {"min_position": args.get("min_position"),
            "timeout_s": float(current_app.config["LEDGER_READ_TIMEOUT_S"])}  # fmt: skip


@bp.route("/awards")
@requires("viewer")
@bp.arguments(AwardListArgs, location="query")
@bp.response(200, AwardListSchema)
@bp.alt_response(422, schema=s.ErrorSchema, description="invalid_filter: a filter value not allowed")
def award_list(args: dict[str, Any]) -> Any:
    """Awards with their enterprise's name, filtered and sorted, with the filtered set's totals."""
    chosen = _chosen(args, awards.AWARD_SORTS)
    wait = _wait(args)
    page = awards.award_list(ledger(), chosen, args["offset"], args["limit"], **wait)
    totals = awards.award_totals(ledger(), chosen)
    return {"awards": page.items, "totals": totals, "offset": page.offset, "limit": page.limit,
            "next_offset": page.next_offset}  # fmt: skip


@bp.route("/disbursements")
@requires("viewer")
@bp.arguments(DisbursementListArgs, location="query")
@bp.response(200, DisbursementListSchema)
@bp.alt_response(422, schema=s.ErrorSchema, description="invalid_filter: a filter value not allowed")
def disbursement_list(args: dict[str, Any]) -> Any:
    """Payments with their award and enterprise, filtered and sorted, with the set's totals."""
    chosen = _chosen(args, disbursements.DISBURSEMENT_SORTS)
    wait = _wait(args)
    page = disbursements.disbursement_list(ledger(), chosen, args["offset"], args["limit"], **wait)
    totals = disbursements.disbursement_totals(ledger(), chosen)
    return {"disbursements": page.items, "totals": totals, "offset": page.offset,
            "limit": page.limit, "next_offset": page.next_offset}  # fmt: skip


def init_app(app: Flask) -> None:
    """Register on the application's API (after `web.api.init_app`)."""
    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    csrf.exempt(bp)
    api.register_blueprint(bp)
