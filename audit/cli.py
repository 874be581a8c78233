"""``ledger audit …``: keys, tree heads, proofs, verification, replay, trails and checks.

Machine output (``--json``, ``--csv``) goes to standard output; progress and errors to standard
error. ``verify`` exits 0 when the log is intact, 1 when anything was altered and 2 when it
could not verify; the other commands exit 2 on an operational error (``click`` usage errors too).
"""

from __future__ import annotations

import contextlib
import json
import sys
from datetime import UTC, datetime
from typing import Any

import click

from ledger.cli_support import open_app
from ledger.labels import label
from ledger.schema import OwnerRequired
from ledger.tuning import cyclic_gc_paused


def _app() -> Any:
    return open_app(click.get_current_context())


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group("audit")
def audit() -> None:
    """Tamper-evident log: signed tree heads, proofs, verification, replay, trails, checks."""


@audit.command()
@click.option("--key", "key_file", metavar="PATH", help="Private key path (default LEDGER_SIGNING_KEY or var/).")
@click.option("--force", is_flag=True, help="Replace an existing key (old heads stay valid only under the old public key).")
def keygen(key_file: str | None, force: bool) -> None:
    """Write a new Ed25519 signing key and its public key (PATH.pub, 64 hex digits)."""
    from audit.keys import SigningKeyError, generate_key, public_key_path

    try:
        path = generate_key(key_file, force=force)
    except SigningKeyError as exc:
        _fail(str(exc))
    click.echo(f"private key: {path} (keep it outside the database; mode 0600)")
    click.echo(f"public key:  {public_key_path(path)} (give this to overseers)")


@audit.command()
@click.option("--key", "key_file", metavar="PATH", help="Private key path (default LEDGER_SIGNING_KEY).")
@click.option("--if-grown", is_flag=True, help="Sign only if the log grew since the latest head.")
@click.option("--json", "as_json", is_flag=True, help="Print the head as JSON.")
def sign(key_file: str | None, if_grown: bool, as_json: bool) -> None:
    """Index new events and record a signed tree head for the whole log."""
    from audit.heads import sign_tree_head
    from audit.keys import SigningKeyError

    try:
        head = sign_tree_head(_app(), key_path=key_file, only_if_grown=if_grown)
    except SigningKeyError as exc:
        _fail(str(exc))
    if as_json:
        _dump(head)
    elif head is None:
        click.echo("the latest tree head already covers the whole log; nothing signed")
    else:
        click.echo(f"tree head #{head['id']}: size {head['tree_size']} root {head['root_hash']}")


@audit.command()
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def heads(limit: int, as_json: bool) -> None:
    """List the latest signed tree heads, newest first."""
    from audit.heads import latest_heads
    from audit.witness_client import annotate_heads, witnessing_text

    app = _app()
    rows = annotate_heads(app, latest_heads(app, limit))
    if as_json:
        _dump(rows)
        return
    for head in rows:
        click.echo(f"#{head['id']:<5} size {head['tree_size']:<9} {head['root_hash']}  {head['timestamp']}"
                   f"{witnessing_text(head.get('witnessing'))}")  # fmt: skip


@audit.command()
@click.argument("position", type=click.IntRange(min=0))
@click.option("--tree-size", type=click.IntRange(min=1), help="Prove against this tree size (default: the latest head that includes it).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the only form; kept for symmetry).")
def proof(position: int, tree_size: int | None, as_json: bool) -> None:
    """Inclusion proof of the event at POSITION, as JSON for scripts/verify_proof.py."""
    from audit.log import LogError, update_log
    from audit.proofs import inclusion_proof

    app = _app()
    update_log(app)
    try:
        _dump(inclusion_proof(app, position, tree_size))
    except LogError as exc:
        _fail(str(exc))


@audit.command()
@click.argument("first", type=click.IntRange(min=0))
@click.argument("second", type=click.IntRange(min=0))
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the only form).")
def consistency(first: int, second: int, as_json: bool) -> None:
    """Consistency proof that the tree of SECOND events extends the tree of FIRST events."""
    from audit.log import LogError, update_log
    from audit.proofs import consistency_proof

    app = _app()
    update_log(app)
    try:
        _dump(consistency_proof(app, first, second))
    except LogError as exc:
        _fail(str(exc))


@audit.command()
@click.option("--public-key", "public_keys", multiple=True, metavar="FILE", help="Trust this public key (repeatable; default: LEDGER_SIGNING_KEY's .pub).")
@click.option("--against", "against_files", multiple=True, metavar="FILE", help="A head kept outside the store (the JSON `ledger audit heads --json` prints: one object, or a list); exit 1 unless the store still contains it. Repeatable.")
@click.option("--ignore-head", "ignore_heads", multiple=True, type=click.IntRange(min=1), metavar="ID", help="Leave out a stored head row already reported as junk (repeatable).")
@click.option("--no-record", is_flag=True, help="Do not store the result for the web view.")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
def verify(
    public_keys: tuple[str, ...],
    against_files: tuple[str, ...],
    ignore_heads: tuple[int, ...],
    no_record: bool,
    as_json: bool,
) -> None:
    """Recompute every leaf and check every signed head. Exit 0 intact, 1 tampered, 2 error.

    With --against FILE, also check that the store still contains a head kept outside it: at
    least its tree_size events, hashing to its root, and its row among the stored heads. That
    detects truncation, rollback and wipes, which verification alone cannot tell from a
    smaller log.
    """
    from audit import verify as v
    from audit.keys import load_public_key_hex

    started_at = datetime.now(UTC).isoformat()
    app = None
    try:
        kept = [head for path in against_files for head in v.load_kept_heads(path)]
        app = _app()
        keys = {load_public_key_hex(p) for p in public_keys} or None

        def progress(done: int, total: int) -> None:
            click.echo(f"verify: {done}/{total} 个事件 events", err=True)

        def snapshot_progress(done: int, total: int) -> None:
            click.echo(f"verify: {done}/{total} 个回放快照 replay snapshots", err=True)

        with cyclic_gc_paused():  # this process does nothing else meanwhile (ledger.tuning)
            report = v.verify(
                app, public_keys=keys, progress=progress, against=kept,
                ignore_heads=set(ignore_heads), snapshot_progress=snapshot_progress,
            )  # fmt: skip
    except (v.VerificationError, OSError, ValueError) as exc:
        if app is not None and not no_record:
            with contextlib.suppress(Exception):  # the original error is the one to report
                v.record_error(app, started_at, exc)
        _fail(str(exc), v.OPERATIONAL_ERROR)
    except OwnerRequired:
        raise  # the `ledger` group reports it (zh and en, exit 2): run `ledger init` as owner
    except Exception as exc:  # a database that cannot be read is an operational error
        _fail(f"{type(exc).__name__}: {exc}", v.OPERATIONAL_ERROR)
    if not no_record:
        v.record(app, report)
    if as_json:
        _dump(report.to_dict())
    else:
        result = label("verification_result", "intact" if report.intact else "tampered")
        click.echo(f"{result.zh} / {report.summary()}")
        for finding in report.findings:
            click.echo(f"  [{finding.kind}] {label('finding_kind', finding.kind).zh}: {finding.message}")
    sys.exit(report.exit_code)


@audit.command()
@click.option("--as-of", "as_of", metavar="INSTANT", help="ISO instant; naive times are Asia/Shanghai.")
@click.option("--position", type=click.IntRange(min=0), help="Replay up to this log position.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (amounts in fen).")
def replay(as_of: str | None, position: int | None, as_json: bool) -> None:
    """Balances per enterprise and measure as the ledger knew them then, from the events."""
    from audit.replay import replay as do_replay

    if as_of is not None and position is not None:
        raise click.UsageError("give --as-of or --position, not both")
    instant = _shanghai_instant(as_of) if as_of is not None else None
    result = do_replay(_app(), as_of=instant, position=position)
    if as_json:
        _dump(result)
        return
    from ledger.money import format_yuan

    click.echo(f"as of position {result['position']} ({result['events']} money events)")
    for row in result["measures"]:
        click.echo(
            f"{row['measure']} {row['fiscal_year']}: appropriated "
            f"{format_yuan(row['appropriated_fen'] + row['adjusted_fen'])}, committed "
            f"{format_yuan(row['committed_fen'] - row['released_fen'])}, paid "
            f"{format_yuan(row['paid_fen'])}, remaining {format_yuan(row['remaining_fen'])}"
        )
    click.echo(f"{len(result['enterprises'])} enterprise-year balances (use --json for them)")


@audit.command()
@click.option("--every", type=click.IntRange(min=1), help="Leaves between snapshots (default LEDGER_REPLAY_SNAPSHOT_EVERY, else 50000).")
@click.option("--json", "as_json", is_flag=True, help="Print the new snapshots as JSON.")
def snapshot(every: int | None, as_json: bool) -> None:
    """Store the signed replay snapshots that are due (what the worker does when it signs)."""
    from dataclasses import asdict

    from audit.keys import SigningKeyError
    from audit.replay_snapshots import take_snapshots

    try:
        made = take_snapshots(_app(), every=every)
    except SigningKeyError as exc:
        _fail(str(exc))
    if as_json:
        _dump([asdict(s) for s in made])
        return
    for s in made:
        click.echo(f"replay snapshot at size {s.tree_size} (position {s.position}): {s.events} money events")
    if not made:
        click.echo("no replay snapshot due")


@audit.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def reconcile(as_json: bool) -> None:
    """Compare a replay at the views' position with the views; list every difference (exit 1)."""
    from audit.replay import reconcile as do_reconcile

    try:
        result = do_reconcile(_app())
    except RuntimeError as exc:
        _fail(str(exc))
    if as_json:
        _dump(result)
    else:
        click.echo(f"views at position {result['position']}: "
                   f"{len(result['differences'])} difference(s)")  # fmt: skip
        for d in result["differences"]:
            key = " ".join(f"{k}={v}" for k, v in d["key"].items())
            click.echo(f"  {d['view']} {key} {d['column']}: replay {d['replay']} views {d['views']}")
    sys.exit(1 if result["differences"] else 0)


@audit.command()
@click.option("--enterprise", "uscc", metavar="USCC")
@click.option("--award", "award_reference", metavar="REF")
@click.option("--actor", metavar="NAME")
@click.option("--measure", metavar="CODE")
@click.option("--from", "from_at", metavar="INSTANT", help="From (inclusive); ISO date or time, Asia/Shanghai unless it says otherwise.")
@click.option("--to", "to_at", metavar="INSTANT", help="To (exclusive); as --from.")
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
def trail(
    uscc: str | None,
    award_reference: str | None,
    actor: str | None,
    measure: str | None,
    from_at: str | None,
    to_at: str | None,
    limit: int,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Every event about an enterprise, award, actor or measure, with times in Asia/Shanghai."""
    from audit.trail import TRAIL_COLUMNS
    from audit.trail import trail as do_trail

    if not any((uscc, award_reference, actor, measure)):
        raise click.UsageError("name one of --enterprise, --award, --actor or --measure")
    rows = do_trail(
        _app(), uscc=uscc, award_reference=award_reference, actor=actor, measure=measure,
        from_at=_shanghai_instant(from_at) if from_at else None,
        to_at=_shanghai_instant(to_at) if to_at else None, limit=limit,
    )  # fmt: skip
    if as_json:
        _dump(rows)
    elif as_csv:
        from ledger.csvsafe import SafeDictWriter

        writer = SafeDictWriter(sys.stdout, fieldnames=TRAIL_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        for r in rows:
            ref = f" [{r['doc_ref']}]" if r["doc_ref"] else ""
            click.echo(f"{r['position']:>8} {r['recorded_at'][:19]} {r['actor'] or '-':<12} "
                       f"{r['aggregate']}.{r['summary']}{ref}")  # fmt: skip


@audit.command()
@click.option("--pending-days", type=click.IntRange(min=0), help="Days a payment may wait (default LEDGER_PENDING_DAYS_MAX or 30).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def checks(pending_days: int | None, as_json: bool) -> None:
    """Run every registered audit check; exit 1 if any finds something."""
    from audit.checks import CHECKS, run_checks

    results = run_checks(_app(), pending_days=pending_days)
    if as_json:
        _dump(results)
    else:
        for name, findings in results.items():
            click.echo(f"{name} ({CHECKS[name][0]}): {len(findings)} finding(s)")
            for finding in findings:
                click.echo(f"  at {finding['position']}: {finding['message']}")
    sys.exit(1 if any(results.values()) else 0)


def _shanghai_instant(text: str) -> datetime:
    """An ISO date or instant from the command line; without an offset it is Asia/Shanghai."""
    from ledger.shanghai import SHANGHAI

    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO date or time") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=SHANGHAI)


from audit.cli_tlog import register as _register_tlog  # noqa: E402  (vkey, publish, receipt)

_register_tlog(audit)

commands = [audit]

# The witnesses of the log and the monitor (audit/cli_witness.py, audit/monitor.py).
from audit.cli_witness import monitor as _monitor  # noqa: E402
from audit.cli_witness import witnesses as _witnesses  # noqa: E402

audit.add_command(_witnesses)
audit.add_command(_monitor)
