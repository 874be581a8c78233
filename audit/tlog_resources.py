"""The log's tlog-tiles resources read from the store: checkpoint, tiles and entry bundles.

Everything is served for the size of the latest checkpoint the log's key signed (rows that
key did not sign are passed over), so a client sees only what a checkpoint covers; a tile or
bundle beyond that size does not exist (:func:`read_resource` returns None, the web answers 404).
An entry is exactly the bytes whose RFC 6962 leaf hash is in the tree:
:func:`ledger.leaves.event_bytes` of the stored event.

:func:`publish` writes the same files under a directory for a static server: ``checkpoint``,
every full tile and bundle (skipped when already written: they never change) and the partial
ones of the checkpoint's size, each written to a temporary file and renamed into place.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.checkpoint_log import StoredCheckpoint, latest_checkpoint, published_note
from audit.db import LEAVES, as_bytes, audit_db
from audit.keys import SigningKeyError, trusted_public_keys
from audit.log import MIN_CACHED_LEVEL, StoredLeafHashes, StoredNodeCache
from audit.tiles import (
    TileError,
    TileRef,
    TileTree,
    bundles_for_size,
    encode_bundle,
    parse_tile_path,
    tile_exists,
    tiles_for_size,
)
from ledger.leaves import event_bytes

if TYPE_CHECKING:
    from ledger.application import SupportLedger

CHECKPOINT_PATH = "checkpoint"


@dataclass(frozen=True)
class Resource:
    """A resource's bytes and whether it never changes (full tiles and bundles)."""

    data: bytes
    immutable: bool
    content_type: str = "application/octet-stream"


def log_public_key() -> bytes | None:
    """The log's public key (the configured one), or None when no key is configured."""
    try:
        keys = trusted_public_keys()
    except (SigningKeyError, OSError, ValueError):
        return None
    return bytes.fromhex(sorted(keys)[0]) if keys else None


def current_checkpoint(db: Any, cur: Any) -> StoredCheckpoint | None:
    """The latest checkpoint the configured log key signed, or None."""
    public_key = log_public_key()
    return None if public_key is None else latest_checkpoint(db, cur, public_key)


def tile_tree(db: Any, cur: Any, size: int) -> TileTree:
    """A tile tree over the stored leaves (at most ``size`` of them) and node cache."""
    return TileTree(
        StoredLeafHashes(db, cur, size), StoredNodeCache(db, cur), min_cached_level=MIN_CACHED_LEVEL
    )


def entries(db: Any, cur: Any, start: int, end: int) -> list[bytes]:
    """The entries (canonical event bytes) of leaves ``[start, end)``, in leaf order."""
    cur.execute(
        db.sql(
            "SELECT l.leaf_index, e.{pos}, e.originator_id, e.originator_version, e.topic, "
            f"e.state FROM {{t}}{LEAVES} l JOIN {{events}} e ON e.{{pos}} = l.position "
            "WHERE l.leaf_index >= ? AND l.leaf_index < ? ORDER BY l.leaf_index"
        ),
        (start, end),
    )
    rows = cur.fetchall()
    if [row[0] for row in rows] != list(range(start, end)):
        raise TileError(f"the store lacks events of leaves {start}..{end - 1}")
    return [event_bytes(p, oid, v, topic, as_bytes(state)) for _, p, oid, v, topic, state in rows]


def tile_resource(db: Any, cur: Any, tile: TileRef, size: int) -> Resource | None:
    """A tile or bundle of the tree of ``size`` leaves, or None if that tree does not hold it."""
    if not tile_exists(tile, size):
        return None
    if tile.level is None:
        start = tile.start()
        data = encode_bundle(entries(db, cur, start, start + tile.width))
    else:
        data = tile_tree(db, cur, size).tile_hashes(tile)
    return Resource(data, tile.full)


def read_resource(app: SupportLedger, path: str) -> Resource | None:
    """The resource at a path under the log's prefix (``checkpoint`` or ``tile/…``), or None.

    A malformed tile path raises :class:`audit.tiles.TileError`.
    """
    tile = None if path == CHECKPOINT_PATH else parse_tile_path(path)
    db = audit_db(app)
    with db.read() as cur:
        stored = current_checkpoint(db, cur)
        if stored is None:
            return None
        if tile is None:
            note = published_note(app, stored).encode()
            return Resource(note, False, "text/plain; charset=utf-8")
        return tile_resource(db, cur, tile, stored.checkpoint.tree_size)


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def publish(
    app: SupportLedger, directory: str | os.PathLike[str],
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write the checkpoint, tiles and bundles under ``directory``; return counts.

    The checkpoint is written last, so a reader never sees one whose tiles are missing.
    """
    root = Path(directory)
    db = audit_db(app)
    written = skipped = 0
    with db.read() as cur:
        stored = current_checkpoint(db, cur)
        if stored is None:
            raise SigningKeyError("no checkpoint signed by the log's key: run `ledger audit sign`")
        size = stored.checkpoint.tree_size
        todo = [*tiles_for_size(size), *bundles_for_size(size)]
        for done, tile in enumerate(todo, 1):
            target = root / tile.path()
            if tile.full and target.exists():
                skipped += 1
            else:
                resource = tile_resource(db, cur, tile, size)
                assert resource is not None  # every tile listed for the size exists
                _write(target, resource.data)
                written += 1
            if progress is not None and (done % 256 == 0 or done == len(todo)):
                progress(done, len(todo))
        _write(root / CHECKPOINT_PATH, published_note(app, stored).encode())
    return {"tree_size": size, "written": written, "skipped": skipped}
