"""Crawl every page a person can reach by GET and read its visible text, for the localisation
tests (tests/web/test_labels_crawl.py) and the browser's layout test.

Pages come from two places, so pages added later are met without changing this file: every GET
rule of the Flask url_map (arguments filled from the store: credit codes, measure codes, event
positions, references, years) and every same-site link on every page visited. A rule whose
arguments this file cannot fill is still reached through the links to it.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from ledger.domain.events import AGGREGATE_OF
from ledger.labels import VOCABULARIES

#: Not pages: the JSON API, static files, the language switch (a redirect), sign-out (POST).
SKIP_PREFIXES = ("/api", "/static", "/lang/", "/signout")
#: Text that people see verbatim as a document or an identifier: commands, hashes, JSON proofs.
VERBATIM_TAGS = frozenset(("code", "pre", "script", "style", "desc"))  # SVG <desc> is not drawn
#: Attributes whose value is shown (tooltips, labels of images and regions, placeholders).
SHOWN_ATTRIBUTES = ("title", "alt", "aria-label", "placeholder")
VOID_TAGS = frozenset(("br", "hr", "img", "input", "meta", "link", "wbr", "source", "col"))
ZH_OPEN, ZH_CLOSE = "\u2063", "\u2064"  # invisible markers around text marked lang="zh"
EN_OPEN, EN_CLOSE = "\u2061", "\u2062"  # and around text marked lang="en"
#: Pages that are bilingual documents by design (each label 中文 English, for print and file).
BILINGUAL_PREFIXES = ("/reports/",)


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._verbatim = 0
        self._langs: list[tuple[str, str]] = []  # open elements with a lang (innermost last)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VERBATIM_TAGS:
            self._verbatim += 1
        found = dict(attrs)
        lang = str(found.get("lang") or "")[:2]
        if tag not in VOID_TAGS and tag != "html" and lang in ("zh", "en"):
            self._langs.append((tag, lang))
        elif self._langs and tag == self._langs[-1][0]:
            self._langs.append(self._langs[-1])  # the same tag nested: count it
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        self.parts.extend(str(found[a]) for a in SHOWN_ATTRIBUTES if found.get(a))
        # a button's value is shown; an <option>'s value is not (its text is)
        if tag == "input" and found.get("type") in ("submit", "button"):
            self.parts.append(str(found.get("value") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in VERBATIM_TAGS and self._verbatim:
            self._verbatim -= 1
        if self._langs and tag == self._langs[-1][0]:
            self._langs.pop()

    def handle_data(self, data: str) -> None:
        if not self._verbatim and data.strip():
            # text the page marks as Chinese on purpose (the Chinese half of a bilingual
            # message) is kept between markers, so the English check can leave it out
            text = data.strip()
            lang = self._langs[-1][1] if self._langs else ""
            if lang == "zh":
                text = f"{ZH_OPEN}{text}{ZH_CLOSE}"
            elif lang == "en":
                text = f"{EN_OPEN}{text}{EN_CLOSE}"
            self.parts.append(text)


def visible_text(html: str) -> tuple[str, list[str]]:
    """The text a person sees on a page (one line per text node) and the page's links."""
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts), parser.links


@dataclass
class Crawl:
    """The pages one signed-in client reached: path → visible text; and every endpoint met."""

    texts: dict[str, str] = field(default_factory=dict)
    endpoints: set[str] = field(default_factory=set)
    statuses: dict[str, int] = field(default_factory=dict)


def rule_paths(app: Flask, samples: dict[str, list[Any]]) -> list[str]:
    """A path for every GET page rule: as it is, or with each argument filled from `samples`
    (one path per sample value of its first argument, the others given their first sample)."""
    paths = []
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.rule.startswith(SKIP_PREFIXES):
                continue
            names = sorted(rule.arguments)
            if any(not samples.get(n) for n in names):
                continue  # reached through links, if any page links to it
            first = names[0] if names else None
            for value in samples[first] if first else [None]:
                values = {n: samples[n][0] for n in names}
                if first:
                    values[first] = value
                paths.append(adapter.build(rule.endpoint, values))
    return paths


def crawl(client: Any, app: Flask, seeds: Iterable[str], *, per_endpoint: int | None = None,
          limit: int = 2000) -> Crawl:  # fmt: skip
    """Visit `seeds` and every same-site page linked from a page visited (at most
    `per_endpoint` pages of one endpoint, `limit` in all); 4xx pages are kept too (error pages
    are read like any other)."""
    adapter = app.url_map.bind("localhost")
    found = Crawl()
    per: dict[str, int] = {}
    queue = deque(seeds)
    seen: set[str] = set()
    while queue and len(found.texts) < limit:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        parts = urlsplit(path)
        try:
            endpoint, _args = adapter.match(parts.path, method="GET")
        except Exception:
            endpoint = "<none>"
        if per_endpoint is not None and per.get(endpoint, 0) >= per_endpoint:
            continue
        per[endpoint] = per.get(endpoint, 0) + 1
        response = client.get(path)
        found.statuses[path] = response.status_code
        if response.mimetype != "text/html":
            continue
        found.endpoints.add(endpoint)
        text, links = visible_text(response.get_data(as_text=True))
        found.texts[path] = text
        for link in links:
            target = urlsplit(link)
            if target.scheme or target.netloc or not target.path.startswith("/"):
                continue
            if target.path.startswith(SKIP_PREFIXES):
                continue
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return found


# -- what must not be seen ---------------------------------------------------------------------

_SNAKE = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-])")
_CAMEL = re.compile(r"(?<![\w./-])[A-Z][a-z]+(?:[A-Z][a-z0-9]+)+(?![\w-])")
_DOTTED = re.compile(r"(?<![\w./-])[A-Z][a-zA-Z]+\.[A-Z][a-zA-Z]+(?![\w-])")
_LITERALS = re.compile(
    r"(?<![\w-])(?:True|False|None|null)(?![\w-])|\{'|\['|': |未知（|unknown \("
)  # Python values, dicts, lists; a code the labels do not know (ledger.labels says "未知（code）")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
#: Identifiers people do see as they are: hashes, UUIDs.
_IDENTIFIERS = re.compile(r"\b[0-9a-f]{16,}\b|\b[0-9a-f]{8}-[0-9a-f-]{27}\b")

#: Single-word codes of the vocabularies and the names of event classes and aggregates: in
#: Chinese text any of them is a raw code ("pending", "university", "Granted", "Award").
CODE_WORDS = frozenset(
    {code for vocabulary in VOCABULARIES.values() for code in vocabulary if "_" not in code}
    | {cls.__name__ for cls in AGGREGATE_OF} | {a.__name__ for a in AGGREGATE_OF.values()}
)


def _context(text: str, start: int, end: int) -> str:
    return text[max(0, start - 30):end + 30].replace("\n", " ⏎ ")


def raw_codes(text: str, identifiers: Iterable[str]) -> list[tuple[str, str]]:
    """(token, context) of every raw code in a Chinese page's text, after taking out the
    genuine identifiers people see (user names, references, credit codes, patent numbers)."""
    # English marked lang="en" on purpose (the English half of a bilingual text) is read as
    # English: words such as "approved" there are words, not codes
    text = re.sub(f"{EN_OPEN}.*?{EN_CLOSE}", "·", text, flags=re.S)
    text = text.replace(ZH_OPEN, "").replace(ZH_CLOSE, "")
    for identifier in sorted(identifiers, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(identifier)}(?![\w-])", "·", text)
    text = _IDENTIFIERS.sub("·", text)
    matches = [m for p in (_DOTTED, _SNAKE, _CAMEL, _LITERALS) for m in p.finditer(text)]
    matches += [m for m in _WORD.finditer(text) if m.group(0) in CODE_WORDS]
    found: dict[int, tuple[str, str]] = {}
    covered: set[int] = set()  # one report per token, however many patterns match it
    for m in matches:
        if m.start() not in covered:
            covered.update(range(m.start(), m.end()))
            found[m.start()] = (m.group(0), _context(text, m.start(), m.end()))
    return [found[start] for start in sorted(found)]


def untranslated(text: str, proper_names: Iterable[str]) -> list[tuple[str, str]]:
    """(Chinese text, context) left in an English page's text, after taking out the proper
    names and texts people recorded in Chinese (enterprise names, reasons, decision numbers,
    the policy's title) and the link to the Chinese version."""
    text = re.sub(f"{ZH_OPEN}.*?{ZH_CLOSE}", "·", text, flags=re.S)
    text = text.replace(EN_OPEN, "").replace(EN_CLOSE, "")
    for name in sorted(proper_names, key=len, reverse=True):
        text = text.replace(name, "·")
    return [(m.group(0), _context(text, m.start(), m.end())) for m in _HAN.finditer(text)]


Finder = Callable[[str], list[tuple[str, str]]]


def problems(crawl_: Crawl, finder: Finder, who: str) -> list[str]:
    """One line per offending token, naming the page, who looked and what was found."""
    lines = []
    for path, text in sorted(crawl_.texts.items()):
        if who.startswith("en/") and path.startswith(BILINGUAL_PREFIXES):
            continue
        for token, context in finder(text):
            lines.append(f"{who} {path}: {token!r} in «{context}»")
    return lines
