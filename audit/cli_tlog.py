"""``ledger audit vkey | publish | receipt``: the log in the C2SP formats.

* ``vkey`` prints the log's verifier key (signed-note format), what overseers, witnesses and
  monitors are configured with;
* ``publish DIR`` writes the checkpoint, tiles and entry bundles (tlog-tiles) for a static
  server, the same bytes ``ledger serve`` answers under ``/tlog/``;
* ``receipt REFERENCE`` (or ``--position N``) writes tlog-proofs that ``scripts/verify_proof.py
  receipt`` checks offline.

Errors are in Chinese and English with a stable code, exit status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ledger.cli_support import open_app


def _fail(code: str, message: str) -> None:
    click.echo(f"error [{code}]: {message}", err=True)
    sys.exit(2)


@click.command()
@click.option("--origin", metavar="NAME", help="The log's origin (default LEDGER_LOG_ORIGIN, else ledger.songjiang.gov.cn/qsip-2025).")
@click.option("--key", "key_file", metavar="PATH", help="Private key path (default LEDGER_SIGNING_KEY); its .pub is read if present.")
def vkey(origin: str | None, key_file: str | None) -> None:
    """Print the log's verifier key: <origin>+<key id hex>+<base64(0x01 ‖ public key)>.

    Give it to overseers, witnesses and monitors; scripts/verify_proof.py receipt --vkey and
    Go's golang.org/x/mod/sumdb/note read it.
    """
    from audit.checkpoint import log_origin
    from audit.checkpoint_log import log_verifier
    from audit.keys import (
        SigningKeyError,
        key_path,
        load_private_key,
        load_public_key_hex,
        public_key_hex,
        public_key_path,
    )
    from audit.note import NoteError

    try:
        pub = public_key_path(key_file)
        if pub.exists():
            public_hex = load_public_key_hex(pub)
        else:
            public_hex = public_key_hex(load_private_key(key_path(key_file)).public_key())
        click.echo(log_verifier(bytes.fromhex(public_hex), origin or log_origin()).vkey())
    except (SigningKeyError, OSError) as exc:
        _fail("signing_key", f"签名密钥不可用 / {exc}")
    except NoteError as exc:
        _fail(exc.code, f"日志名称无效 / {exc}")


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def publish(directory: Path, as_json: bool) -> None:
    """Write the checkpoint, tiles and entry bundles under DIRECTORY (for a static server).

    Serve DIRECTORY as the log's prefix: DIRECTORY/checkpoint, DIRECTORY/tile/0/000, …
    Full tiles already written are kept (they never change); the checkpoint is written last.
    Give checkpoint and partial tiles (*.p/*) a short cache lifetime, the rest a long one.
    """
    from audit.keys import SigningKeyError
    from audit.tiles import TileError
    from audit.tlog_resources import publish as write_all

    def progress(done: int, total: int) -> None:
        click.echo(f"publish: {done}/{total} tiles", err=True)

    try:
        counts = write_all(open_app(click.get_current_context()), directory, progress)
    except SigningKeyError as exc:
        _fail("no_checkpoint", f"尚无检查点 / {exc}")
    except (TileError, OSError) as exc:
        _fail("publish_failed", f"发布失败 / {exc}")
    if as_json:
        click.echo(json.dumps(counts))
    else:
        click.echo(
            f"已发布 / published: 树大小 tree size {counts['tree_size']}, "
            f"写入 written {counts['written']}, 未变 unchanged {counts['skipped']} → {directory}"
        )


@click.command()
@click.argument("reference", required=False)
@click.option("--position", type=click.IntRange(min=1), help="The event at this log position instead of a reference.")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("."), show_default=True, help="Directory for the .tlog-proof files (a file name ending in .tlog-proof with --position).")
@click.option("--json", "as_json", is_flag=True, help="Print the receipts (position, index, proof text) as JSON instead of writing files.")
def receipt(reference: str | None, position: int | None, out: Path, as_json: bool) -> None:
    """Write C2SP tlog-proofs (.tlog-proof) for the events about REFERENCE, or --position N.

    REFERENCE is a payment, award, clawback or other reference (every event whose reference
    fields name it). Each proof holds the event's entry (in `extra`), its index, the inclusion
    proof and the latest checkpoint with its cosignatures. Check one offline with
    `python3 scripts/verify_proof.py receipt FILE --vkey "$(ledger audit vkey)"`.
    """
    from audit.receipts import ReceiptError, receipt_for, receipt_json, receipts_for

    if (reference is None) == (position is None):
        _fail("usage", "请给出 REFERENCE 或 --position 之一 / give a REFERENCE or --position, not both")
    app = open_app(click.get_current_context())
    try:
        found = [receipt_for(app, position)] if position else receipts_for(app, str(reference))
    except ReceiptError as exc:
        _fail(exc.code, str(exc))
    if as_json:
        click.echo(json.dumps([receipt_json(r) for r in found], ensure_ascii=False, indent=2))
        return
    _write(found, out, reference or f"position-{position}")


def _write(found: list[Any], out: Path, stem: str) -> None:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)
    single = len(found) == 1 and out.suffix == ".tlog-proof"
    for item in found:
        target = out if single else out / item.filename(safe)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(item.text, encoding="utf-8")
        click.echo(f"回执 receipt: position {item.position}, index {item.leaf_index} → {target}")


def register(group: click.Group) -> None:
    """Add these commands to the ``ledger audit`` group."""
    for command in (vkey, publish, receipt):
        group.add_command(command)
