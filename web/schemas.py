"""The JSON API's schemas: query arguments and responses. Amounts are integer fen.

Command bodies are not here: they are `ledger.commands.SCHEMAS`, the same schemas the CLI and
the importer use, and the OpenAPI document refers to them directly.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, validate

from ledger.commands import MEASURE_CODES

Fen = fields.Integer  # amounts are integer fen in every response
#: The most records one API request (or CSV export) may ask for; the read side's own paging
#: rule (`projections.queries.paging`) allows up to PAGE_MAX, this is the HTTP bound under it.
REQUEST_MAX = 500


class Out(Schema):
    """A response object; fields not listed here may be added later."""

    class Meta:
        unknown = INCLUDE
        ordered = True


class QueryText(fields.String):
    """A text query argument: no control characters (NUL included, which PostgreSQL cannot
    compare), no unpaired surrogates. Anything else is refused with 422 `validation_error`."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if NOT_QUERY_TEXT.search(text):
            raise ValidationError("Must not contain control characters.")
        return text


NOT_QUERY_TEXT = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


class Args(Schema):
    """Query arguments; unknown ones are ignored."""

    class Meta:
        unknown = EXCLUDE


class ErrorSchema(Out):
    code = fields.String(required=True, metadata={"description": "Stable error code"})
    message = fields.String(required=True, metadata={"description": "English message"})
    message_zh = fields.String(required=True, metadata={"description": "Chinese message"})
    details = fields.Dict(metadata={"description": "What exactly was wrong, when known"})


class ReadArgs(Args):
    min_position = fields.Integer(
        validate=validate.Range(0, 2**53),
        metadata={"description": "Wait (briefly) until the views include this log position."},
    )
    as_of = QueryText(
        validate=[validate.Length(1, 40), validate.Regexp(r"\A[ -~]*\Z", error="Must be ASCII.")],
        metadata={
            "description": "Answer as the ledger knew it then: a log position or an ISO "
            "instant (replayed by the audit, so slower)."
        },
    )


class EnterpriseListArgs(ReadArgs):
    search = QueryText(validate=validate.Length(max=100), metadata={"description": "Name or credit code text"})
    town_code = QueryText(validate=validate.Length(max=9))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10**6))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, REQUEST_MAX))


class YearArgs(ReadArgs):
    fiscal_year = fields.Integer(validate=validate.Range(2000, 2100))


class MetricsArgs(YearArgs):
    measure = fields.String(validate=validate.OneOf(MEASURE_CODES))
    town_code = QueryText(validate=validate.Length(max=9))


class EventsArgs(Args):
    after = fields.Integer(load_default=0, validate=validate.Range(0, 2**53), metadata={"description": "Return events after this position"})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, REQUEST_MAX), metadata={"description": "At most 500"})


class TrailArgs(EventsArgs):
    uscc = QueryText(validate=validate.Length(max=18))
    award_reference = QueryText(validate=validate.Length(max=100))
    actor = QueryText(validate=validate.Length(max=100))
    measure = fields.String(validate=validate.OneOf(MEASURE_CODES))
    min_position = fields.Integer(validate=validate.Range(0, 2**53))


class ProofArgs(Args):
    tree_size = fields.Integer(validate=validate.Range(1, 2**53), metadata={"description": "Default: the whole log"})


class ConsistencyArgs(Args):
    first = fields.Integer(required=True, validate=validate.Range(1, 2**53))
    second = fields.Integer(validate=validate.Range(1, 2**53), metadata={"description": "Default: the whole log"})


class HeadsArgs(Args):
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 100))


# -- responses ---------------------------------------------------------------------------------


class StatusSchema(Out):
    views_position = fields.Integer(required=True)
    views_recorded_at = fields.String(allow_none=True)
    log_position = fields.Integer(required=True)
    lag = fields.Integer(required=True)


class _Amounts(Out):
    granted_fen = Fen(required=True)
    revoked_fen = Fen(required=True)
    paid_fen = Fen(required=True)
    pending_fen = Fen(required=True)
    reversed_fen = Fen(required=True)
    clawback_ordered_fen = Fen(required=True)
    clawback_recovered_fen = Fen(required=True)
    outstanding_fen = Fen(required=True)
    awards = fields.Integer(required=True)


class EnterpriseBalanceSchema(_Amounts):
    fiscal_year = fields.Integer(required=True)


class EnterpriseSchema(Out):
    uscc = fields.String(required=True)
    name = fields.String(required=True)
    town_code = fields.String(required=True)
    town_name_zh = fields.String()
    town_name_en = fields.String()
    industry = fields.String()
    balances = fields.List(fields.Nested(EnterpriseBalanceSchema), required=True)
    as_of = fields.String(allow_none=True)


class EnterpriseSummarySchema(Out):
    uscc = fields.String(required=True)
    name = fields.String(required=True)
    town_code = fields.String(required=True)
    industry = fields.String()
    awards = fields.Integer()
    granted_fen = Fen()
    paid_fen = Fen()
    outstanding_fen = Fen()


class EnterprisePageSchema(Out):
    enterprises = fields.List(fields.Nested(EnterpriseSummarySchema), required=True)
    offset = fields.Integer(required=True)
    limit = fields.Integer(required=True)


class MeasureBalanceSchema(Out):
    fiscal_year = fields.Integer(required=True)
    appropriated_fen = Fen(required=True)
    adjusted_fen = Fen()
    committed_fen = Fen(required=True)
    released_fen = Fen()
    paid_fen = Fen(required=True)
    remaining_fen = Fen(required=True)
    utilisation = fields.Float(allow_none=True)
    awards = fields.Integer()


class ItemSchema(Out):
    code = fields.String(required=True)
    title_zh = fields.String()
    title_en = fields.String()
    kind = fields.String()
    max_fen = Fen(allow_none=True)
    counts_towards_cap = fields.Boolean()


class MeasureSchema(Out):
    code = fields.String(required=True)
    pillar = fields.String(required=True)
    title_zh = fields.String(required=True)
    title_en = fields.String(required=True)
    items = fields.List(fields.Nested(ItemSchema))
    balances = fields.List(fields.Nested(MeasureBalanceSchema), required=True)
    as_of = fields.String(allow_none=True)


class TownBalanceSchema(_Amounts):
    fiscal_year = fields.Integer(required=True)
    enterprises = fields.Integer()


class TownSchema(Out):
    code = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    balances = fields.List(fields.Nested(TownBalanceSchema), required=True)


class BreakdownSchema(Out):
    key = fields.String(required=True)
    recorded = fields.Integer(required=True)
    implemented = fields.Integer(required=True)
    conversion_rate = fields.Float(allow_none=True)


class MetricsSchema(Out):
    fiscal_year = fields.Integer(allow_none=True)
    measure = fields.String(allow_none=True)
    town_code = fields.String(allow_none=True)
    transfers_recorded = fields.Integer()
    transfers_implemented = fields.Integer()
    conversion_rate = fields.Float(allow_none=True)
    by_transferor_kind = fields.List(fields.Nested(BreakdownSchema))
    by_mode = fields.List(fields.Nested(BreakdownSchema))
    median_days_to_implementation = fields.Float(allow_none=True)
    revenue_reported_fen = Fen()
    contract_value_fen = Fen()
    transfer_subsidy_paid_fen = Fen()
    contract_value_per_subsidy_yuan = fields.Float(allow_none=True)
    financings = fields.Integer()
    financing_principal_fen = Fen()
    interest_subsidy_paid_fen = Fen()
    leverage = fields.Float(allow_none=True)
    financings_defaulted = fields.Integer()
    default_rate = fields.Float(allow_none=True)
    awards = fields.Integer()
    payable_fen = Fen()
    paid_fen = Fen()
    payment_rate = fields.Float(allow_none=True)
    awards_paid = fields.Integer()
    median_days_grant_to_first_payment = fields.Float(allow_none=True)
    clawback_ordered_fen = Fen()
    clawback_recovered_fen = Fen()
    clawback_rate = fields.Float(allow_none=True)
    budget_appropriated_fen = Fen(allow_none=True)
    budget_committed_fen = Fen(allow_none=True)
    budget_utilisation = fields.Float(allow_none=True)
    notes = fields.List(fields.String())


class TrailEntrySchema(Out):
    position = fields.Integer(required=True)
    recorded_at = fields.String(required=True)
    actor = fields.String(allow_none=True)
    aggregate_type = fields.String()
    aggregate_id = fields.String()
    event_type = fields.String(required=True)
    summary_en = fields.String()
    summary_zh = fields.String()
    uscc = fields.String(allow_none=True)
    award_reference = fields.String(allow_none=True)
    measure = fields.String(allow_none=True)
    doc_ref = fields.String(allow_none=True)


class EventsPageSchema(Out):
    events = fields.List(fields.Nested(TrailEntrySchema), required=True)
    next_after = fields.Integer(allow_none=True, metadata={"description": "Pass as `after` for the next page; null at the end"})
    log_position = fields.Integer(required=True)


class TreeHeadSchema(Out):
    tree_size = fields.Integer(required=True)
    root_hash = fields.String(required=True)
    timestamp = fields.Raw(required=True)
    signature = fields.String(required=True)


class HeadsSchema(Out):
    heads = fields.List(fields.Nested(TreeHeadSchema), required=True)


class InclusionProofSchema(Out):
    tree_size = fields.Integer(required=True)
    leaf_index = fields.Integer(required=True)
    leaf_hash = fields.String(required=True)
    audit_path = fields.List(fields.String(), required=True)
    root_hash = fields.String(required=True)


class ConsistencyProofSchema(Out):
    first_size = fields.Integer(required=True)
    second_size = fields.Integer(required=True)
    first_root = fields.String(required=True)
    second_root = fields.String(required=True)
    consistency_path = fields.List(fields.String(), required=True)


class CommandResultSchema(Out):
    index = fields.Integer(required=True, metadata={"description": "Position of the command in the request, from 0"})
    ok = fields.Boolean(required=True)
    type = fields.String(allow_none=True)
    key = fields.String(allow_none=True)
    status = fields.String(
        required=True, metadata={"description": "recorded, duplicate or rejected"}
    )
    position = fields.Integer(allow_none=True, metadata={"description": "Log position of what it recorded"})
    error = fields.Nested(ErrorSchema, allow_none=True)


class CommandsResultSchema(Out):
    results = fields.List(fields.Nested(CommandResultSchema), required=True)
    recorded = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    log_position = fields.Integer(required=True, metadata={"description": "Pass as min_position to read your writes"})
