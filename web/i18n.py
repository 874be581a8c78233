"""Languages and formats: Chinese by default, English on request; yuan and Shanghai time.

The chosen language is kept in a `lang` cookie set by `/lang/<code>` (a plain link, so it works
without a form). Amounts are integer fen and are shown as yuan with two decimals; instants are
stored in UTC and shown in Asia/Shanghai time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, g, redirect, request, url_for
from flask_babel import Babel, get_locale, get_translations
from flask_babel import gettext as _
from markupsafe import Markup, escape

from ledger.identifiers import TOWNS
from ledger.labels import VOCABULARIES
from ledger.money import format_wan, format_yuan
from ledger.shanghai import shanghai_time

__all__ = ["PILLARS", "is_english", "percent", "pick", "shanghai_time", "texts", "town_name", "wan",
           "yuan"]

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
    return "—" if amount_fen is None else format_yuan(int(amount_fen), symbol=True)


def wan(amount_fen: Any) -> str:
    """Fen as a short figure in 万元 (Chinese) or thousand yuan (English)."""
    if amount_fen is None:
        return "—"
    if is_english():
        return f"¥{int(amount_fen) / 100_000:,.1f}k"
    return format_wan(int(amount_fen)) + "元"


def percent(value: Any, digits: int = 1) -> str:
    """A ratio (0.25) as a percentage ("25.0%")."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.{digits}f}%"


def pick(zh: Any, en: Any) -> Any:
    """The Chinese or the English of a pair of texts, by the request's language."""
    return en if is_english() and en else zh


#: The policy's three pillars, in Chinese and English (from the one vocabulary, ledger.labels).
PILLARS = {code: tuple(found) for code, found in VOCABULARIES["pillar"].items()}


def town_name(code: str | None) -> str:
    """A town's name in the request's language ("—" for none, the code for an unknown one)."""
    town = TOWNS.get(code or "")
    return pick(town.name_zh, town.name_en) if town else (code or "—")


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


class _Texts(dict[str, Markup]):
    """Fixed texts of a page in one language, each translated (and escaped) once per process."""

    def __missing__(self, text: str) -> Markup:
        value = self[text] = escape(_(text))
        return value


_TEXTS: dict[str, _Texts] = {}


def texts() -> _Texts:
    """The fixed texts in this request's language: `T['Awards']` in a template instead of a
    gettext call for every label of every page (Jinja's gettext costs ~8 µs a call)."""
    locale = str(get_locale())
    found = _TEXTS.get(locale)
    if found is None:
        found = _TEXTS.setdefault(locale, _Texts())
    return found


def printed_at() -> str:
    """Now, in Beijing time: the date a printed page carries."""
    return shanghai_time(datetime.now(UTC))


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    Babel(app, locale_selector=select_locale)
    app.jinja_env.install_gettext_callables(template_gettext, template_ngettext, newstyle=True)
    app.register_blueprint(bp)
    app.jinja_env.filters.update(yuan=yuan, wan=wan, shanghai_time=shanghai_time, percent=percent)
    app.jinja_env.globals.update(pick=pick, is_english=is_english, get_locale=get_locale,
                                 printed_at=printed_at, texts=texts)  # fmt: skip
