"""Tile paths, tile math and the tile client, on in-memory trees (no store needed)."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from audit.merkle import MerkleTree
from audit.merkle_cache import ListLeafHashes
from audit.tile_client import TileLog
from audit.tiles import (
    TileError,
    TileRef,
    TileTree,
    bundles_for_size,
    encode_bundle,
    encode_index,
    parse_tile_path,
    tiles_for_size,
)


def make_log(size: int) -> tuple[dict[str, bytes], bytes]:
    """Every resource of a log of ``size`` entries, by path, and its root."""
    entries = [b"entry %d" % i for i in range(size)]
    tree = TileTree(ListLeafHashes(hashlib.sha256(b"\x00" + e).digest() for e in entries))
    files = {t.path(): tree.tile_hashes(t) for t in tiles_for_size(size)}
    for b in bundles_for_size(size):
        files[b.path()] = encode_bundle(entries[b.start(): b.start() + b.width])
    return files, tree.root()


@pytest.fixture(scope="module")
def log_70000() -> tuple[dict[str, bytes], bytes]:
    return make_log(70_000)


def test_index_paths_follow_the_spec_example():
    assert encode_index(1234067) == "x001/x234/067"
    assert encode_index(0) == "000" and encode_index(1000) == "x001/000"
    assert parse_tile_path("tile/0/x001/x234/067") == TileRef(0, 1234067)
    assert parse_tile_path("tile/entries/x001/234.p/17") == TileRef(None, 1234, 17)
    assert TileRef(1, 1, 17).path() == "tile/1/001.p/17"


@pytest.mark.parametrize("bad", ["tile/0/1", "tile/0/0001", "tile/01/000", "tile/64/000",
                                 "tile/0/x000/001", "tile/0/000.p/0", "tile/0/000.p/256",
                                 "tile/0/000.p/07", "tile/0/x01/000", "tile/0/000/x001",
                                 "tile/0", "tiles/0/000", "tile/0/000.p"])  # fmt: skip
def test_non_canonical_tile_paths_are_refused(bad):
    with pytest.raises(TileError):
        parse_tile_path(bad)


def test_a_tree_of_70000_has_the_tiles_the_spec_lists():
    tiles = list(tiles_for_size(70_000))
    full = Counter(t.level for t in tiles if t.full)
    partial = {t.level: (t.index, t.width) for t in tiles if not t.full}
    assert full == {0: 273, 1: 1}
    assert partial == {0: (273, 112), 1: (1, 17), 2: (0, 1)}
    assert [(t.level, t.full, t.width) for t in tiles_for_size(256)] == [(0, True, 256), (1, False, 1)]


def test_tile_hashes_are_the_merkle_tree_hashes_of_their_ranges(log_70000):
    files, _root = log_70000
    leaves = [files[TileRef(0, n).path()] for n in range(273)]
    level0 = [h for data in leaves for h in (data[i:i + 32] for i in range(0, 8192, 32))]
    level1 = files["tile/1/000"]
    for i in (0, 1, 200, 255):
        expected = MerkleTree.from_leaf_hashes(level0[i * 256:(i + 1) * 256]).root()
        assert level1[i * 32:(i + 1) * 32] == expected
    assert files["tile/2/000.p/1"] == MerkleTree.from_leaf_hashes(level0[:65536]).root()


@pytest.mark.parametrize("size", [1, 255, 256, 257, 70_000])
def test_the_tile_client_verifies_every_entry_of_an_honest_log(size, log_70000):
    files, root = log_70000 if size == 70_000 else make_log(size)
    log = TileLog(files.__getitem__, size, root)
    for bundle in bundles_for_size(size):
        assert len(log.entries(bundle.index)) == bundle.width


@pytest.mark.parametrize("path", ["tile/0/000", "tile/0/273.p/112", "tile/1/000", "tile/1/001.p/17",
                                  "tile/2/000.p/1", "tile/entries/000", "tile/entries/273.p/112"])  # fmt: skip
def test_a_tile_or_bundle_disagreeing_with_the_checkpoint_is_rejected(path, log_70000):
    files, root = log_70000
    forged = dict(files)
    data = files[path]
    at = len(data) // 3
    forged[path] = data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]
    with pytest.raises(TileError):
        log = TileLog(forged.__getitem__, 70_000, root)
        for bundle in bundles_for_size(70_000):
            log.entries(bundle.index)


def test_a_checkpoint_the_tiles_do_not_support_is_rejected(log_70000):
    files, root = log_70000
    with pytest.raises(TileError):
        TileLog(files.__getitem__, 70_000, hashlib.sha256(root).digest())
    with pytest.raises((TileError, KeyError)):
        TileLog(files.__getitem__, 69_999, root)  # a size the log never checkpointed
