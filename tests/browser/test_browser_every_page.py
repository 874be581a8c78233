"""Every page in real Chromium at a phone's, a laptop's and a large screen's width: no sideways
page scroll (tables scroll inside their own box), names never squeezed to a character or two a
line, a print layout without navigation and with the print date; and the audit page's
head.json and proof.json, downloaded with a click, accepted by scripts/verify_proof.py as they
are (issue 10, item 4)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIDTHS = (390, 1366, 1920)
#: Not pages: the API, static files, the language switch, downloads.
SKIP = ("/api", "/static", "/lang/", "/signout", "/exports", "/audit/", "/downloads/", "/tlog/")
#: Links to files (downloads), not pages.
FILE_ENDINGS = (".json", ".csv", ".xlsx", ".tlog-proof")
#: Pages of one kind (same path with its numbers and codes taken out) looked at per width.
PER_KIND = 1
#: The narrowest a name cell may be, in characters of its font (4 fit a line of a Chinese name).
NAME_MIN_CHARS = 4


def _sign_in(page: Any, server: str, name: str = "aud") -> None:
    page.goto(server + "/signin")
    page.fill("#name", name)
    page.fill("#password", "browser pass")  # as the server fixture sets it
    page.click("form.signin button[type=submit]")
    page.wait_for_url(server + "/")


def _kind(path: str) -> str:
    return re.sub(r"/[^/]*\d[^/]*", "/·", urlsplit(path).path)


def _pages(page: Any, server: str) -> list[str]:
    """Every page reachable by links from the dashboard (a couple of each kind)."""
    queue, seen, per_kind, found = deque(["/"]), set(), {}, []
    while queue and len(found) < 60:
        path = queue.popleft()
        kind = _kind(path)
        if path in seen or per_kind.get(kind, 0) >= PER_KIND:
            continue
        seen.add(path)
        per_kind[kind] = per_kind.get(kind, 0) + 1
        response = page.goto(server + path)
        if response is None or response.status >= 400:
            continue
        found.append(path)
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            target = urlsplit(href)
            if (target.netloc or not target.path.startswith("/") or target.path.startswith(SKIP)
                    or target.path.endswith(FILE_ENDINGS)):
                continue
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return found


_MEASURE = """() => ({
  scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
  names: [...document.querySelectorAll('th.name, td.name')].map(e => {
    const size = parseFloat(getComputedStyle(e).fontSize);
    return {text: e.innerText.slice(0, 30), chars: e.clientWidth / size};
  }),
  squeezed: [...document.querySelectorAll('main th, main td')].flatMap(e => {
    const style = getComputedStyle(e), text = e.innerText.replace(/\\s+/g, '');
    const range = document.createRange();
    range.selectNodeContents(e);  // the text's own height, not the row's
    const lines = Math.round(range.getBoundingClientRect().height / parseFloat(style.lineHeight));
    return text.length >= 4 && lines >= 2 && text.length / lines <= 2.5 ? [text.slice(0, 30)] : [];
  }),
})"""


def test_every_page_fits_390_1366_and_1920_px_without_sideways_scroll(
    server: str, browser: Any, shoot: Any
) -> None:
    (ROOT / "test-artifacts" / "every-page").mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    _sign_in(page, server)
    paths = _pages(page, server)
    assert {"/", "/enterprises", "/measures", "/transfers", "/financing", "/audit"} <= set(paths)
    assert any(p.startswith("/events/") for p in paths) and len(paths) >= 8, paths
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for path in paths:
            page.goto(server + path)
            found = page.evaluate(_MEASURE)
            if found["scroll"] > found["inner"]:
                problems.append(f"{width}px {path}: page is {found['scroll']}px wide")
            for name in found["names"]:
                if name["chars"] < NAME_MIN_CHARS:
                    problems.append(f"{width}px {path}: name {name['text']!r} squeezed to "
                                    f"{name['chars']:.1f} characters a line")  # fmt: skip
            problems += [f"{width}px {path}: cell {t!r} wraps a character or two a line"
                         for t in found["squeezed"]]
            slug = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "dashboard"
            shoot(page, f"every-page/{width}-{slug}")
    context.close()
    assert not problems, "\n".join(problems)


def test_printing_hides_the_navigation_and_shows_the_print_date(server: str, page: Any) -> None:
    _sign_in(page, server)
    page.goto(server + "/")
    assert page.locator("#printed-at").is_hidden()
    page.emulate_media(media="print")
    assert page.locator("header.top nav").is_hidden()
    assert page.locator("form").first.is_hidden()
    printed = page.locator("#printed-at")
    assert printed.is_visible() and "打印" in printed.inner_text()
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", printed.inner_text())
    pdf = page.pdf(format="A4")  # page numbers come from the sheet's @page margin box
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def _signing_key_pub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The public key beside the key the server fixture signed its head with."""
    keys = sorted(tmp_path_factory.getbasetemp().glob("browser*/signing-key.pem.pub"),
                  key=lambda p: p.stat().st_mtime)  # fmt: skip
    assert keys, "the server fixture's signing key is not where tests/browser/conftest.py puts it"
    return keys[-1]


def _verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "verify_proof.py"), *args],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def test_head_and_proof_downloaded_from_the_audit_page_verify_with_the_script(
    server: str, browser: Any, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    context = browser.new_context(accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    _sign_in(page, server)
    page.goto(server + "/audit")
    assert "签名树头" in page.locator(".explain").inner_text()
    assert "包含证明" in page.locator(".explain").inner_text()
    files = {}
    for name in ("head.json", "proof.json"):
        with page.expect_download() as download:
            page.click(f".downloads a:has-text('{name}')")
        files[name] = tmp_path / name
        download.value.save_as(files[name])
    head, proof = str(files["head.json"]), str(files["proof.json"])
    key = str(_signing_key_pub(tmp_path_factory))
    checked = _verify("head", head, "--public-key", key)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    checked = _verify("inclusion", proof, "--head", head, "--public-key", key)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # A proof of another event, asked for on the page, downloads and verifies the same way.
    page.fill("#position", "7")
    page.click("form.search button[type=submit]")
    with page.expect_download() as download:
        page.click("a:has-text('proof.json') >> nth=-1")
    download.value.save_as(tmp_path / "proof-7.json")
    checked = _verify("inclusion", str(tmp_path / "proof-7.json"), "--head", head)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # …and a tampered copy does not.
    (tmp_path / "bad.json").write_text(files["proof.json"].read_text().replace('"leaf_index": 0',
                                                                              '"leaf_index": 1'))
    assert _verify("inclusion", str(tmp_path / "bad.json"), "--head", head).returncode == 1
    context.close()


def test_the_english_audit_page_explains_heads_and_proofs_too(server: str, page: Any) -> None:
    _sign_in(page, server)
    page.goto(server + "/lang/en?next=/audit")
    text = page.locator(".explain").inner_text()
    assert "signed tree head" in text and "inclusion proof" in text
    assert not re.search(r"[\u4e00-\u9fff]", text)
