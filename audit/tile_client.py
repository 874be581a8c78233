"""Reading a tiled log without trusting its server: every tile authenticated against a checkpoint.

:class:`TileLog` takes a ``fetch(path) -> bytes`` (HTTP, files, anything) and a checkpoint
already verified (its size and root). On creation it fetches the partial tiles at the right edge
of the tree and checks that they hash to the checkpoint's root; a full tile is checked against
its hash in the tile above (itself checked the same way, up to the edge). So any tile, or any
entry bundle (each entry must hash, RFC 6962, to its leaf), that disagrees with the checkpoint
raises :class:`audit.tiles.TileError` — what a monitor needs (see ``audit/monitor.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from audit.merkle_hash import EMPTY_ROOT, HASH_SIZE, node_hash, perfect_root
from audit.tiles import TILE_WIDTH, TileError, TileRef, decode_bundle


class TileLog:
    """The tiles and entries of one checkpointed tree, each checked before it is returned."""

    def __init__(self, fetch: Callable[[str], bytes], tree_size: int, root_hash: bytes) -> None:
        self._fetch = fetch
        self.tree_size = tree_size
        self.root_hash = root_hash
        self._checked: dict[tuple[int, int], list[bytes]] = {}
        if self._edge_root() != root_hash:
            raise TileError("the tiles disagree with the checkpoint's root hash")

    def _width(self, level: int, index: int) -> int:
        hashes = self.tree_size // TILE_WIDTH**level
        if index < hashes // TILE_WIDTH:
            return TILE_WIDTH
        width = hashes % TILE_WIDTH if index == hashes // TILE_WIDTH else 0
        if not width:
            raise TileError(f"tile {level}/{index} is beyond the tree of {self.tree_size}")
        return width

    def _read(self, level: int, index: int) -> list[bytes]:
        width = self._width(level, index)
        data = self._fetch(TileRef(level, index, width).path())
        if len(data) != width * HASH_SIZE:
            raise TileError(f"tile {level}/{index} has {len(data)} bytes, not {width * HASH_SIZE}")
        return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]

    def _edge_root(self) -> bytes:
        """The root from the partial tiles of every level (authenticating them if it matches)."""
        if self.tree_size == 0:
            return EMPTY_ROOT
        pieces: list[bytes] = []  # perfect subtrees, left to right
        level = 0
        while self.tree_size >= TILE_WIDTH**level:
            level += 1
        for lv in range(level - 1, -1, -1):
            width = (self.tree_size // TILE_WIDTH**lv) % TILE_WIDTH
            if not width:
                continue
            index = self.tree_size // TILE_WIDTH ** (lv + 1)
            hashes = self._read(lv, index)
            self._checked[(lv, index)] = hashes
            start = 0
            for bit in range(TILE_WIDTH.bit_length() - 1, -1, -1):
                if width & (1 << bit):
                    pieces.append(perfect_root(hashes[start : start + (1 << bit)]))
                    start += 1 << bit
        root = pieces[-1]
        for piece in reversed(pieces[:-1]):
            root = node_hash(piece, root)
        return root

    def tile(self, level: int, index: int) -> list[bytes]:
        """The hashes of a tile (full, or the partial one at the edge), checked."""
        found = self._checked.get((level, index))
        if found is not None:
            return found
        hashes = self._read(level, index)
        if len(hashes) != TILE_WIDTH:
            raise TileError(f"tile {level}/{index} is not the partial tile of the checkpoint")
        parent = self.tile(level + 1, index // TILE_WIDTH)
        if perfect_root(hashes) != parent[index % TILE_WIDTH]:
            raise TileError(f"tile {level}/{index} disagrees with the checkpoint")
        self._checked[(level, index)] = hashes
        return hashes

    def leaf_hash(self, index: int) -> bytes:
        if not 0 <= index < self.tree_size:
            raise TileError(f"leaf {index} is outside the tree of {self.tree_size}")
        return self.tile(0, index // TILE_WIDTH)[index % TILE_WIDTH]

    def entries(self, index: int) -> list[bytes]:
        """The entries of bundle ``index``, each checked against its leaf hash."""
        leaves = self.tile(0, index)
        bundle = decode_bundle(self._fetch(TileRef(None, index, len(leaves)).path()))
        if len(bundle) != len(leaves):
            raise TileError(f"bundle {index} holds {len(bundle)} entries, not {len(leaves)}")
        for i, (entry, leaf) in enumerate(zip(bundle, leaves, strict=True)):
            if hashlib.sha256(b"\x00" + entry).digest() != leaf:
                raise TileError(f"entry {index * TILE_WIDTH + i} does not hash to its leaf")
        return bundle
