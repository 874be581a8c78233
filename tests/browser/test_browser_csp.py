"""The strict Content-Security-Policy breaks nothing: in real Chromium the dashboard draws its
four charts with their colours from static/charts.css, and the console reports no violation."""

from __future__ import annotations

from typing import Any

from web import CONTENT_SECURITY_POLICY


def test_the_dashboard_renders_its_charts_with_no_csp_violation(
    server: str, page: Any, shoot: Any
) -> None:
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    missing: list[str] = []  # what the pages load, not found (the browser's own favicon aside)
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400
            and not r.url.endswith("/favicon.ico") else None)  # fmt: skip
    response = page.goto(server + "/signin")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    page.fill("#name", "aud")
    page.fill("#password", "browser pass")  # as the server fixture sets it
    page.click("form.signin button[type=submit]")
    page.wait_for_url(server + "/")
    page.wait_for_load_state("load")
    charts = page.locator("figure.chart svg.pygal-chart")
    assert charts.count() == 4
    for i in range(4):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["height"] > 100 and box["width"] > 200
    # The chart rules apply: the first series is drawn in the palette's first colour (#1d4ed8)
    # and the background is transparent, not pygal's unstyled black.
    fill = page.evaluate(
        "() => getComputedStyle(document.querySelector('figure.chart svg .color-0 .reactive, "
        "figure.chart svg .color-0 rect, figure.chart svg .color-0 path')).fill"
    )
    assert fill == "rgb(29, 78, 216)", fill
    background = page.evaluate(
        "() => getComputedStyle(document.querySelector('figure.chart svg .graph > .background')).fill"
    )
    assert background in ("transparent", "rgba(0, 0, 0, 0)"), background
    violations = [m for m in console if "Content Security Policy" in m or "Refused to" in m]
    assert violations == [], violations
    errors = [m for m in console if m.startswith(("error", "pageerror"))
              and "Failed to load resource" not in m]  # fmt: skip
    assert errors == [] and missing == [], (errors, missing)
    shoot(page, "06-dashboard-under-csp")
