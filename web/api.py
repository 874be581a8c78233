"""The JSON API under /api/v1, built with flask-smorest: the OpenAPI document at
/api/v1/openapi.json is generated from the schemas in `web.schemas` and, for commands, from
the ledger's own command schemas (`ledger.commands.SCHEMAS`).

Reads need a viewer (bearer token or signed-in session); the log and the audit need an
auditor; `POST /api/v1/commands` needs an officer's bearer token and is the only write. Every
error is JSON `{"code", "message", "message_zh"}` with a stable code.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_smorest import Api, Blueprint, abort
from werkzeug.exceptions import HTTPException

from ledger.commands import SCHEMAS, load_json
from ledger.errors import LedgerError
from ledger.group_commit import committer
from ledger.identifiers import TOWNS
from projections import queries
from web import reads
from web import schemas as s
from web.auth import csrf, current_user, ledger, requires
from web.cache import cached

log = logging.getLogger("web.api")
#: What a key in a path may be before it is looked up (the stores cannot compare NUL).
_PATH_KEY = re.compile(r"[!-~]+")

bp = Blueprint("api", __name__, url_prefix="/api/v1", description="Songjiang support ledger API")

#: HTTP status for each stable error code a command may be refused with (default 422).
STATUS_BY_CODE = {
    "forbidden": 403,
    "unknown_actor": 403,
    "reference_conflict": 409,
}
#: Stable codes for HTTP errors that are not the ledger's own.
HTTP_CODES = {
    400: ("bad_request", "请求无效"),
    401: ("unauthenticated", "需要登录或有效的访问令牌"),
    403: ("forbidden", "无权限"),
    404: ("not_found", "未找到"),
    405: ("method_not_allowed", "不允许此方法"),
    413: ("payload_too_large", "请求过大"),
    422: ("validation_error", "输入无效"),
    429: ("too_many_requests", "请求过多"),
    500: ("internal_error", "服务器内部错误"),
    503: ("views_behind", "视图尚未更新到所需位置"),
}


def error_body(code: str, message: str, message_zh: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "message_zh": message_zh}
    if details:
        body["details"] = details
    return body


class LedgerApi(Api):
    """flask-smorest's Api with the ledger's error JSON (and HTML error pages off the API)."""

    ERROR_SCHEMA = s.ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:  # type: ignore[override]
        status = error.code or 500
        if not (request.path == "/api" or request.path.startswith("/api/")):
            title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
            message = {
                401: _("Please sign in."),
                403: _("Your role does not allow this page."),
                404: _("There is no such page or record."),
            }.get(status, title)
            return render_template("error.html", code=status, title=title, message=message), status
        code, message_zh = HTTP_CODES.get(status, ("http_error", "请求失败"))
        data = getattr(error, "data", None) or {}
        # abort(..., code=, message_zh=) names a more specific stable code than the status's
        code = str(data.get("code") or code)
        message_zh = str(data.get("message_zh") or message_zh)
        details = data.get("messages") or data.get("errors")
        message = data.get("message") or error.description or HTTPStatus(status).phrase
        headers = dict(data.get("headers") or {})
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="ledger"'
        return error_body(code, str(message), message_zh, details), status, headers


def _views_timeout_s() -> float:
    return float(current_app.config["LEDGER_READ_TIMEOUT_S"])


def _read_args(args: dict[str, Any]) -> dict[str, Any]:
    """`min_position` checked against the log, with the configured wait."""
    reads.check_min_position(ledger(), args.get("min_position"))
    return {"min_position": args.get("min_position"), "timeout_s": _views_timeout_s()}


def _refuse_as_of(args: dict[str, Any]) -> None:
    if args.get("as_of"):
        reads.check_as_of(ledger(), args["as_of"])


# -- reads -------------------------------------------------------------------------------------


@bp.route("/status")
@requires("viewer")
@bp.response(200, s.StatusSchema)
def status() -> Any:
    """How current the views are: their position and the end of the log."""
    return reads.status(ledger())


@bp.route("/enterprises")
@requires("viewer")
@bp.arguments(s.EnterpriseListArgs, location="query")
@bp.response(200, s.EnterprisePageSchema)
def enterprise_list(args: dict[str, Any]) -> Any:
    """Enterprises by credit code, filtered by name or code text and town; paged."""
    page = queries.enterprises(
        ledger(), search=args.get("search") or None, town_code=args.get("town_code") or None,
        offset=args["offset"], limit=args["limit"], **_read_args(args),
    )  # fmt: skip
    return {"enterprises": page.items, "offset": args["offset"], "limit": args["limit"]}


@bp.route("/enterprises/<uscc>")
@requires("viewer")
@bp.arguments(s.ReadArgs, location="query")
@bp.response(200, s.EnterpriseSchema)
@bp.alt_response(404, schema=s.ErrorSchema)
def enterprise(args: dict[str, Any], uscc: str) -> Any:
    """An enterprise with its balances by fiscal year (amounts in fen)."""
    if not _PATH_KEY.fullmatch(uscc[:40]):  # a credit code is printable ASCII, no NUL
        abort(404, message=f"no enterprise has credit code {uscc[:40]!r}")
    if args.get("as_of"):
        found = reads.enterprise_as_of(ledger(), uscc[:40], args["as_of"])
    elif args.get("min_position") is None or queries.views_at(ledger()) >= args["min_position"]:
        # the views are where the caller needs them: the body may be one kept at this position
        key = uscc[:40].strip().upper()
        body = cached("api.enterprise", key, lambda: _enterprise_json(key))
        if body is None:
            abort(404, message=f"no enterprise has credit code {uscc[:40]!r}")
        return current_app.response_class(body, mimetype="application/json")
    else:
        found = queries.enterprise(ledger(), uscc[:40], **_read_args(args))
    if found is None:
        abort(404, message=f"no enterprise has credit code {uscc[:40]!r}")
    return found


def _enterprise_json(uscc: str) -> bytes | None:
    """The JSON body of an enterprise with its balances, as the response schema dumps it."""
    found = queries.enterprise(ledger(), uscc, timeout_s=_views_timeout_s())
    if found is None:
        return None
    return current_app.json.dumps(s.EnterpriseSchema().dump(found)).encode() + b"\n"


@bp.route("/measures/<code>")
@requires("viewer")
@bp.arguments(s.YearArgs, location="query")
@bp.response(200, s.MeasureSchema)
@bp.alt_response(404, schema=s.ErrorSchema)
def measure(args: dict[str, Any], code: str) -> Any:
    """A measure of the policy, its support items and its budget by fiscal year."""
    try:
        spec = ledger().catalogue.measure(code.upper())
    except KeyError:
        abort(404, message=f"no measure has code {code[:10]!r}")
    if args.get("as_of"):
        balances = reads.measure_balances_as_of(ledger(), spec.code, args["as_of"], args.get("fiscal_year"))
    else:
        balances = queries.measure_balances(
            ledger(), code=spec.code, fiscal_year=args.get("fiscal_year"), **_read_args(args)
        )
    return {
        "code": spec.code, "pillar": spec.pillar, "title_zh": spec.title_zh,
        "title_en": spec.title_en, "balances": balances, "as_of": args.get("as_of"),
        "items": [
            {"code": i.code, "title_zh": i.title_zh, "title_en": i.title_en, "kind": i.kind,
             "max_fen": i.max_fen, "counts_towards_cap": i.counts_towards_cap}
            for i in spec.items
        ],
    }  # fmt: skip


@bp.route("/towns/<code>")
@requires("viewer")
@bp.arguments(s.YearArgs, location="query")
@bp.response(200, s.TownSchema)
@bp.alt_response(404, schema=s.ErrorSchema)
def town(args: dict[str, Any], code: str) -> Any:
    """What the enterprises of a town received, by fiscal year."""
    found = TOWNS.get(code)
    if found is None:
        abort(404, message=f"{code[:12]!r} is not one of Songjiang's 17 town codes")
    _refuse_as_of(args)
    balances = queries.town_balances(
        ledger(), town_code=found.code, fiscal_year=args.get("fiscal_year"), **_read_args(args)
    )
    return {"code": found.code, "name_zh": found.name_zh, "name_en": found.name_en,
            "balances": balances}  # fmt: skip


@bp.route("/metrics")
@requires("viewer")
@bp.arguments(s.MetricsArgs, location="query")
@bp.response(200, s.MetricsSchema)
def metrics(args: dict[str, Any]) -> Any:
    """Conversion metrics for a fiscal year, measure and/or town."""
    _refuse_as_of(args)
    if args.get("town_code") and args["town_code"] not in TOWNS:
        abort(422, message="town_code is not one of Songjiang's 17 town codes",
              messages={"town_code": ["Unknown town."]})  # fmt: skip
    return queries.metrics(
        ledger(), fiscal_year=args.get("fiscal_year"), measure=args.get("measure"),
        town_code=args.get("town_code"), **_read_args(args),
    )  # fmt: skip


@bp.route("/trail")
@requires("viewer")
@bp.arguments(s.TrailArgs, location="query")
@bp.response(200, s.EventsPageSchema)
def trail(args: dict[str, Any]) -> Any:
    """The audit trail filtered by enterprise, award, actor or measure, in log order."""
    filters = {k: args[k] for k in ("uscc", "award_reference", "actor", "measure") if args.get(k)}
    page = queries.trail(
        ledger(), after_position=args["after"], limit=args["limit"], **filters,
        **_read_args(args),
    )  # fmt: skip
    return _events_body(page)


def _events_body(page: queries.Page[queries.TrailEntry]) -> dict[str, Any]:
    """A page of trail entries as the API answers it: `next_after` is set for a full page."""
    return {
        "events": page.items,
        "next_after": page[-1].position if len(page) == page.limit else None,
        "log_position": ledger().log_position(),
    }


@bp.route("/events")
@requires("auditor")
@bp.arguments(s.EventsArgs, location="query")
@bp.response(200, s.EventsPageSchema)
def events(args: dict[str, Any]) -> Any:
    """Every event of the log after a position, in log order, a page at a time (≤ 500)."""
    return _events_body(queries.trail(ledger(), after_position=args["after"], limit=args["limit"]))


# -- audit -------------------------------------------------------------------------------------


@bp.route("/audit/heads")
@requires("auditor")
@bp.arguments(s.HeadsArgs, location="query")
@bp.response(200, s.HeadsSchema)
def heads(args: dict[str, Any]) -> Any:
    """The latest signed tree heads, newest first."""
    return {"heads": reads.latest_heads(ledger(), args["limit"])}


@bp.route("/audit/proofs/<int:position>")
@requires("auditor")
@bp.arguments(s.ProofArgs, location="query")
@bp.response(200, s.InclusionProofSchema)
@bp.alt_response(404, schema=s.ErrorSchema)
def inclusion(args: dict[str, Any], position: int) -> Any:
    """An RFC 6962 inclusion proof of the event at a log position (default: in the whole log)."""
    end = reads.merkle_size(ledger())
    tree_size = args.get("tree_size")
    if not 1 <= position <= ledger().log_position():
        abort(404, message=f"no event at position {position}")
    if tree_size is not None and not 1 <= tree_size <= end:
        abort(422, message=f"tree_size must be between {position} and {end}",
              messages={"tree_size": ["Out of range."]})  # fmt: skip
    return reads.inclusion_proof(ledger(), position, tree_size)


@bp.route("/audit/consistency")
@requires("auditor")
@bp.arguments(s.ConsistencyArgs, location="query")
@bp.response(200, s.ConsistencyProofSchema)
def consistency(args: dict[str, Any]) -> Any:
    """An RFC 6962 consistency proof between two tree sizes."""
    end = reads.merkle_size(ledger())
    second = args.get("second") or end
    if not 1 <= args["first"] <= second <= end:
        abort(422, message=f"need 1 ≤ first ≤ second ≤ {end}",
              messages={"first": ["Out of range."]})  # fmt: skip
    return reads.consistency_proof(ledger(), args["first"], second)


# -- the one write -----------------------------------------------------------------------------


def _command_request_body(api: Api) -> dict[str, Any]:
    refs = []
    for name, schema in SCHEMAS.items():
        component = f"Command_{name}"
        api.spec.components.schema(component, schema=schema)
        body = api.spec.components.schemas[component]
        body["properties"]["type"] = {"type": "string", "enum": [name]}
        body["description"] = (schema.__doc__ or name).strip().splitlines()[0] + (
            f" Needs the role {schema.role}."
        )
        refs.append({"$ref": f"#/components/schemas/{component}"})
    one = {"oneOf": refs}
    many = {"type": "array", "items": one, "minItems": 1, "maxItems": 1000}
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"oneOf": [one, many]}
            }
        },
    }


@bp.route("/commands", methods=["POST"])
@requires("officer", token_only=True)
@bp.response(200, s.CommandsResultSchema)
@bp.alt_response(400, schema=s.ErrorSchema, description="Not a command object or a list of them")
@bp.alt_response(401, schema=s.ErrorSchema, description="No valid bearer token")
@bp.alt_response(403, schema=s.ErrorSchema, description="The role does not allow this command")
@bp.alt_response(409, schema=s.ErrorSchema, description="reference_conflict")
@bp.alt_response(413, schema=s.ErrorSchema, description="The body is too large")
@bp.alt_response(422, schema=s.ErrorSchema, description="The command was refused: see `code`")
def commands() -> Any:
    """Perform one command (an object) or many (a list, at most 1,000) as the token's user.

    One command: 200 with its result and log position, or 4xx with the error of the first rule
    it breaks. A list: each command is checked as if sent one by one; the accepted ones are
    recorded together and the answer is 200 with one result per command.
    """
    viewer = current_user()
    assert viewer is not None
    body = _json_body()
    single = isinstance(body, dict)
    if not single and not (isinstance(body, list) and body):
        abort(400, message="the body must be a JSON command object or a non-empty list of them")
    items = [body] if single else body
    if len(items) > current_app.config["LEDGER_COMMANDS_MAX"]:
        abort(413, message=f"at most {current_app.config['LEDGER_COMMANDS_MAX']} commands per request")
    # committed together with the commands of the requests arriving meanwhile (group commit)
    results, log_position = committer(ledger()).perform([(item, viewer.name) for item in items])
    out = []
    for index, result in enumerate(results):
        if isinstance(result, LedgerError):
            out.append({"index": index, "ok": False, "type": _type_of(items[index]), "key": None,
                        "status": "rejected", "position": None, "error": result.to_dict()})  # fmt: skip
        else:
            out.append({"index": index, "ok": True, **result.to_dict(), "error": None})
    rejected = sum(1 for r in out if not r["ok"])
    # the batch it was committed in is logged once (`ledger.group_commit`); each request only
    # when debugging (a line per request cost 5% of the server's interpreter time)
    log.debug("commands by %s: %d sent, %d rejected", viewer.name, len(out), rejected)
    if single and rejected:
        error = results[0]
        assert isinstance(error, LedgerError)
        return jsonify(error.to_dict()), STATUS_BY_CODE.get(error.code, 422)
    return {
        "results": out,
        "recorded": sum(1 for r in out if r["status"] == "recorded"),
        "duplicates": sum(1 for r in out if r["status"] == "duplicate"),
        "rejected": rejected,
        "log_position": log_position,
    }


def _type_of(item: Any) -> str | None:
    value = item.get("type") if isinstance(item, dict) else None
    return value if isinstance(value, str) and value in SCHEMAS else None


def _json_body() -> Any:
    """The request body as JSON values; 400 `validation_error` for a body that is not plain JSON
    (invalid UTF-8, bad syntax, numbers of thousands of digits, deep nesting), and 400
    `bad_request` for a body that is not JSON at all (another content type).

    Read here rather than with `request.get_json`, which lets deep nesting escape as a
    RecursionError (a 500) and reports every problem alike.
    """
    if not request.is_json:
        abort(400, message="the body must be JSON (Content-Type: application/json)")
    try:
        return load_json(request.get_data(cache=True), what="the body")
    except LedgerError as error:
        abort(400, message=error.message_en, code="validation_error", message_zh=error.message_zh)


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="Songjiang support ledger",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = LedgerApi(app, spec_kwargs={
        "info": {"description": "Balances, metrics, trails, the event log, tree heads and "
                 "proofs of the Songjiang support ledger; commands for officers. Amounts are "
                 "integer fen. Authenticate with `Authorization: Bearer TOKEN`."},
    })  # fmt: skip
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
    csrf.exempt(bp)
    api.register_blueprint(bp)
    commands_op = api.spec._paths["/api/v1/commands"]["post"]
    commands_op["requestBody"] = _command_request_body(api)

    @app.errorhandler(LedgerError)
    def _ledger_error(error: LedgerError) -> Any:
        return jsonify(error.to_dict()), STATUS_BY_CODE.get(error.code, 422)

    @app.errorhandler(reads.BadReadRequest)
    def _bad_read(error: reads.BadReadRequest) -> Any:
        return jsonify(error_body("validation_error", error.message_en, error.message_zh)), 422

    @app.errorhandler(queries.ViewsBehind)
    def _behind(error: queries.ViewsBehind) -> Any:
        body = error_body("views_behind", str(error), "视图尚未更新到所需位置，请稍后再试")
        return jsonify(body), 503, {"Retry-After": "1"}

    @app.errorhandler(reads.NotInLog)
    def _not_in_log(error: reads.NotInLog) -> Any:
        body = error_body("not_in_log", str(error), "默克尔日志中没有此位置（或尚未索引）")
        return jsonify(body), 404
