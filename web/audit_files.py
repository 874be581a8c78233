"""The audit's documents as files to download: the latest signed tree head (`head.json`) and an
inclusion proof (`proof.json`), exactly in the form `scripts/verify_proof.py` reads, so an
overseer can check them with nothing but Python and the district's published public key."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, request

from web import reads
from web.auth import ledger, requires

bp = Blueprint("audit_files", __name__)


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12 or int(raw) < 1:
        abort(400)
    return int(raw)


def _download(document: dict[str, Any], filename: str) -> Response:
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2) + "\n", mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )  # fmt: skip


def latest_head() -> dict[str, Any] | None:
    """The newest signed tree head, or None if none is signed yet."""
    heads = reads.latest_heads(ledger(), 1)
    return heads[0] if heads else None


@bp.route("/audit/head.json")
@requires("auditor")
def head_json() -> Any:
    """The latest signed tree head: `verify_proof.py head head.json --public-key KEY`."""
    head = latest_head()
    if head is None:
        abort(404)
    return _download(head, "head.json")


@bp.route("/audit/proof.json")
@requires("auditor")
def proof_json() -> Any:
    """The inclusion proof of the event at `position` in the tree of the latest signed head
    (or of `tree_size`): `verify_proof.py inclusion proof.json --head head.json`."""
    position = _int_arg("position") or 1
    tree_size = _int_arg("tree_size")
    if tree_size is None:
        head = latest_head()
        if head is None:
            abort(404)
        tree_size = int(head["tree_size"])
    try:
        proof = reads.inclusion_proof(ledger(), position, tree_size)
    except reads.NotInLog:
        abort(404)
    return _download(proof, "proof.json")
