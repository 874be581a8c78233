"""The frame every page shares (base.html): its links, made once per application.

A page's header links to a dozen places; `url_for` for each of them on every page costs more
than the rest of a small page's header. The links depend only on where the application is
mounted (the request's script root), so `links()` builds each one the first time a page asks
for it and keeps it, per application and script root. An endpoint the application lacks (a
blueprint not registered) raises on first use, as `url_for` would.
"""

from __future__ import annotations

from flask import Flask, current_app, request, url_for


class _Links(dict[str, str]):
    """The path of each endpoint (or ``static/<file>``) under one script root."""

    def __missing__(self, endpoint: str) -> str:
        if endpoint.startswith("static/"):
            value = url_for("static", filename=endpoint[len("static/") :])
        else:
            value = url_for(endpoint)
        self[endpoint] = value
        return value


def links() -> _Links:
    """The frame's links for this request: `L['pages.dashboard']`, `L['static/style.css']`."""
    by_root: dict[str, _Links] = current_app.extensions["frame_links"]
    root = request.script_root
    found = by_root.get(root)
    if found is None:
        found = by_root.setdefault(root, _Links())
    return found


def init_app(app: Flask) -> None:
    app.extensions["frame_links"] = {}
    app.jinja_env.globals.update(frame_links=links)
