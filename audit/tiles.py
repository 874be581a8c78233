"""C2SP tlog-tiles: the Merkle tree as tiles of height 8, and the entries as bundles.

Resource paths (relative to the log's prefix)::

    tile/<L>/<N>[.p/<W>]        hashes: level L (0..63), index N, width W (1..255) if partial
    tile/entries/<N>[.p/<W>]    entry bundle: uint16 big-endian length-prefixed entries

``N`` is written in zero-padded groups of three digits, all but the last prefixed with ``x``
(1234067 → ``x001/x234/067``). Tile ``n`` at level ``l`` holds, for ``i`` in ``0..W-1``,
``MTH(D[(n·256+i)·256^l : (n·256+i+1)·256^l])``; at level 0 those are the leaf hashes. A full
tile is 256 hashes (8,192 bytes). For a tree of ``s`` leaves the partial tile at level ``l`` is
tile ``s // 256^(l+1)`` of width ``(s // 256^l) mod 256``; empty tiles do not exist.

Everything here is pure computation over an :class:`audit.merkle.MerkleTree` (any leaf source);
:mod:`audit.tlog_resources` serves it from the store.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from audit.merkle import HASH_SIZE, MerkleTree

#: Tile height: each tile covers 8 levels of the tree (256 hashes wide).
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
#: The highest tile level a path may name.
MAX_LEVEL = 63
#: Entries are length-prefixed by a uint16: each must be shorter than this.
MAX_ENTRY_BYTES = 1 << 16

_LEVEL = re.compile(r"0|[1-9][0-9]?")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")
_GROUP = re.compile(r"x[0-9]{3}")
_LAST = re.compile(r"[0-9]{3}")


class TileError(ValueError):
    """A tile path that is malformed, or a tile or bundle this tree does not hold."""


@dataclass(frozen=True)
class TileRef:
    """A tile: ``level`` (None for an entry bundle), ``index`` and ``width`` (256 when full)."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH

    def path(self) -> str:
        """The resource path, e.g. ``tile/1/x001/234.p/17`` or ``tile/entries/000``."""
        kind = "entries" if self.level is None else str(self.level)
        suffix = "" if self.full else f".p/{self.width}"
        return f"tile/{kind}/{encode_index(self.index)}{suffix}"

    def hash_level(self) -> int:
        """The tile's level in tile units (entry bundles sit at level 0)."""
        return self.level or 0

    def start(self) -> int:
        """The first leaf index the tile spans."""
        return self.index * TILE_WIDTH ** (self.hash_level() + 1)

    def needed_size(self) -> int:
        """The least tree size that holds every hash of this tile."""
        return (self.index * TILE_WIDTH + self.width) * TILE_WIDTH ** self.hash_level()


def encode_index(index: int) -> str:
    """A tile index as path elements: ``x001/x234/067`` for 1234067."""
    if index < 0:
        raise TileError("a tile index is not negative")
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def parse_tile_path(path: str) -> TileRef:
    """A tile or entry bundle path (``tile/…``), parsed strictly; anything else raises."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise TileError(f"not a tile path: {path[:100]!r}")
    kind, rest = parts[1], parts[2:]
    if kind == "entries":
        level = None
    elif _LEVEL.fullmatch(kind) and int(kind) <= MAX_LEVEL:
        level = int(kind)
    else:
        raise TileError(f"bad tile level in {path[:100]!r}")
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        if not _WIDTH.fullmatch(rest[-1]) or int(rest[-1]) >= TILE_WIDTH:
            raise TileError(f"bad partial tile width in {path[:100]!r}")
        width = int(rest[-1])
        rest = [*rest[:-2], rest[-2][:-2]]
    if not rest or len(rest) > 7 or not _LAST.fullmatch(rest[-1]):
        raise TileError(f"bad tile index in {path[:100]!r}")
    if any(not _GROUP.fullmatch(g) for g in rest[:-1]) or (len(rest) > 1 and rest[0] == "x000"):
        raise TileError(f"bad tile index in {path[:100]!r}")
    index = 0
    for group in rest:
        index = index * 1000 + int(group.lstrip("x"))
    return TileRef(level, index, width)


def tile_exists(tile: TileRef, tree_size: int) -> bool:
    """Whether a tree of ``tree_size`` leaves holds every hash of this (full or partial) tile."""
    return 0 < tile.width <= TILE_WIDTH and tile.needed_size() <= tree_size


def tiles_for_size(tree_size: int) -> Iterator[TileRef]:
    """Every hash tile of a tree of this size: full tiles and, where there is one, the partial
    tile at each level (level by level, lowest first; entry bundles not included)."""
    level = 0
    while tree_size >= TILE_WIDTH**level:
        hashes = tree_size // TILE_WIDTH**level  # hashes available at this level
        for n in range(hashes // TILE_WIDTH):
            yield TileRef(level, n)
        if hashes % TILE_WIDTH:
            yield TileRef(level, hashes // TILE_WIDTH, hashes % TILE_WIDTH)
        level += 1


def bundles_for_size(tree_size: int) -> Iterator[TileRef]:
    """Every entry bundle of a tree of this size (full ones, then the partial one if any)."""
    for tile in tiles_for_size(tree_size):
        if tile.level == 0:
            yield TileRef(None, tile.index, tile.width)
        else:
            return


class TileTree(MerkleTree):
    """A :class:`MerkleTree` that can give the hashes of tiles."""

    def tile_hashes(self, tile: TileRef) -> bytes:
        """The tile's hashes, concatenated (``width · 32`` bytes)."""
        if tile.level is None:
            raise TileError("an entry bundle holds entries, not hashes")
        if not tile_exists(tile, len(self)):
            raise TileError(f"{tile.path()} is beyond the tree of {len(self)} leaves")
        first = tile.index * TILE_WIDTH
        if tile.level == 0:
            hashes = self.leaves.leaf_range(first, first + tile.width)
        else:
            height = TILE_HEIGHT * tile.level
            hashes = [self._perfect(height, first + i) for i in range(tile.width)]
        data = b"".join(hashes)
        if len(data) != tile.width * HASH_SIZE:
            raise TileError(f"the leaf source returned too few hashes for {tile.path()}")
        return data


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    """Entries as a bundle: each as a big-endian uint16 length, then its bytes."""
    out = bytearray()
    for entry in entries:
        if len(entry) >= MAX_ENTRY_BYTES:
            raise TileError(f"an entry of {len(entry)} bytes does not fit a bundle")
        out += struct.pack(">H", len(entry))
        out += entry
    return bytes(out)


def decode_bundle(data: bytes) -> list[bytes]:
    """A bundle's entries; raises :class:`TileError` if it is truncated."""
    entries, offset = [], 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise TileError("truncated entry bundle")
        (size,) = struct.unpack_from(">H", data, offset)
        offset += 2
        if offset + size > len(data):
            raise TileError("truncated entry bundle")
        entries.append(bytes(data[offset:offset + size]))
        offset += size
    return entries
