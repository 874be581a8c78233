"""Languages and formats: Chinese by default, English on request; yuan and Shanghai time.

The chosen language is kept in a `lang` cookie set by `/lang/<code>` (a plain link, so it works
without a form). Amounts are integer fen and are shown as yuan with two decimals; instants are
stored in UTC and shown in Asia/Shanghai time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, g, redirect, request, url_for
from flask_babel import Babel, get_locale, get_translations

from ledger.money import format_wan, format_yuan

SHANGHAI = ZoneInfo("Asia/Shanghai")
LANGUAGES = ("zh", "en")
LANG_COOKIE = "lang"

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The language of this request: the `lang` cookie, else Chinese."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LANGUAGES else "zh"


def is_english() -> bool:
    """Whether this request is answered in English (looked up once per request)."""
    if "is_english" not in g:
        g.is_english = str(get_locale()) == "en"
    return g.is_english


def yuan(amount_fen: Any) -> str:
    """Fen as yuan with two decimals and thousands separators: 123456 → "¥1,234.56"."""
    if amount_fen is None:
        return "—"
    amount_fen = int(amount_fen)
    return ("-¥" if amount_fen < 0 else "¥") + format_yuan(abs(amount_fen))


def wan(amount_fen: Any) -> str:
    """Fen as a short figure in 万元 (Chinese) or thousand yuan (English)."""
    if amount_fen is None:
        return "—"
    if is_english():
        return f"¥{int(amount_fen) / 100_000:,.1f}k"
    return format_wan(int(amount_fen)) + "元"


def parse_instant(value: Any) -> datetime | None:
    """An ISO text or datetime as an aware UTC datetime (naive values are taken as UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def shanghai_time(value: Any) -> str:
    """An instant in Asia/Shanghai time, to the second: "2025-04-01 18:02:03 (UTC+8)"."""
    moment = parse_instant(value)
    if moment is None:
        return "—" if value in (None, "") else str(value)
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") + " (UTC+8)"


def percent(value: Any, digits: int = 1) -> str:
    """A ratio (0.25) as a percentage ("25.0%")."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.{digits}f}%"


def pick(zh: Any, en: Any) -> Any:
    """The Chinese or the English of a pair of texts, by the request's language."""
    return en if is_english() and en else zh


@bp.route("/lang/<code>")
def switch_language(code: str) -> Any:
    """Remember the chosen language in a cookie and go back to the page it was chosen on."""
    target = request.args.get("next", "")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        target = url_for("pages.dashboard")
    response = redirect(target)
    if code in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, code, max_age=365 * 86400, httponly=True, samesite="Lax",
            secure=bool(request.is_secure),
        )  # fmt: skip
    return response


def _translations() -> Any:
    if "translations" not in g:
        g.translations = get_translations()
    return g.translations


def template_gettext(text: str) -> str:
    """gettext for templates with the catalogue looked up once per request (Jinja formats)."""
    return _translations().ugettext(text)


def template_ngettext(singular: str, plural: str, n: int) -> str:
    return _translations().ungettext(singular, plural, n)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    Babel(app, locale_selector=select_locale)
    app.jinja_env.install_gettext_callables(template_gettext, template_ngettext, newstyle=True)
    app.register_blueprint(bp)
    app.jinja_env.filters.update(yuan=yuan, wan=wan, shanghai_time=shanghai_time, percent=percent)
    app.jinja_env.globals.update(pick=pick, is_english=is_english, get_locale=get_locale)
