"""Query arguments of the indicator and report pages, checked: a bad value is answered 400
with a stable code (the `X-Error-Code` header, a `data-code` attribute on the page, `code` in
JSON) and a message in Chinese and English, and changes nothing."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request

from web.schemas import NOT_QUERY_TEXT


class BadQuery(Exception):
    """A query argument that is not acceptable: its stable code and bilingual message."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code, self.message_zh, self.message_en = code, message_zh, message_en


def int_arg(name: str, low: int, high: int, code: str, what_zh: str, what_en: str,
            default: int | None = None) -> int | None:  # fmt: skip
    """An integer argument within low..high, `default` when absent or empty."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise BadQuery(code, f"{what_zh}应为 {low} 至 {high} 的整数",
                       f"{what_en} must be a whole number from {low} to {high}")  # fmt: skip
    return int(raw)


def text_arg(name: str, max_length: int = 40) -> str:
    """A short text argument; control characters (NUL included) are refused."""
    text = request.args.get(name, "").strip()
    if len(text) > max_length or NOT_QUERY_TEXT.search(text):
        raise BadQuery("validation_error", f"参数 {name} 无效", f"the argument {name} is not valid")
    return text


def _answer(error: BadQuery) -> Any:
    headers = {"X-Error-Code": error.code}
    if request.path.endswith(".json"):
        body = {"code": error.code, "message": error.message_en, "message_zh": error.message_zh}
        return jsonify(body), 400, headers
    page = render_template("query_error.html", error=error)
    return page, 400, headers


def init_app(app: Flask) -> None:
    app.register_error_handler(BadQuery, _answer)
