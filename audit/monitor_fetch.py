"""What :mod:`audit.monitor` reads from a tiled log: resources over HTTP, and tree hashes from tiles.

:class:`Fetcher` GETs ``<prefix>/<path>`` with a bounded timeout, accepting gzip, and keeps what
it fetched for the run. :class:`TileReader` computes, from the hash tiles of a tree of a given
size (fetched as the checkpoint of that size requires them, partial tiles included), the hash
of any complete subtree and the root of the tree at any smaller size — so a monitor can check
a new checkpoint against the tiles, and an older one against the same tiles (consistency).
"""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request

from audit.merkle_hash import EMPTY_ROOT, HASH_SIZE, node_hash
from audit.tiles import TILE_HEIGHT, TILE_WIDTH, TileError, TileRef

#: How long one request may take.
TIMEOUT_S = 30
#: The largest resource read (a full entry bundle of 256 entries of up to 64 KiB, gzip aside).
MAX_RESOURCE_BYTES = 256 * 65_538


class FetchError(Exception):
    """A resource that could not be fetched (network, HTTP status): monitoring cannot go on."""


class Fetcher:
    """GETs resources under a log's URL prefix."""

    def __init__(self, prefix: str, timeout_s: float = TIMEOUT_S) -> None:
        self.prefix = prefix.rstrip("/")
        self.timeout_s = timeout_s
        self._tiles: dict[TileRef, bytes] = {}
        self.requests = 0

    def get(self, path: str) -> bytes:
        request = urllib.request.Request(
            f"{self.prefix}/{path}", headers={"Accept-Encoding": "gzip, identity"}
        )
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                data = response.read(MAX_RESOURCE_BYTES + 1)
                encoding = response.headers.get("Content-Encoding", "")
        except urllib.error.HTTPError as exc:
            raise FetchError(f"日志返回 HTTP {exc.code} / the log answered HTTP {exc.code} "
                             f"for {path}") from None  # fmt: skip
        except (OSError, ValueError) as exc:
            raise FetchError(f"无法连接日志 / cannot fetch {self.prefix}/{path}: {exc}") from None
        if encoding == "gzip":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as exc:
                raise FetchError(f"bad gzip data for {path}: {exc}") from None
        if len(data) > MAX_RESOURCE_BYTES:
            raise FetchError(f"{path} is larger than {MAX_RESOURCE_BYTES} bytes")
        return data

    def tile(self, tile: TileRef) -> bytes:
        if tile not in self._tiles:
            self._tiles[tile] = self.get(tile.path())
        return self._tiles[tile]


class TileReader:
    """Tree hashes of the tree of ``size`` leaves, computed from its hash tiles."""

    def __init__(self, fetcher: Fetcher, size: int) -> None:
        self.fetcher = fetcher
        self.size = size

    def tile_hashes(self, level: int, index: int) -> list[bytes]:
        """The hashes of tile ``index`` at tile level ``level`` of this tree (full or partial)."""
        span = TILE_WIDTH ** (level + 1)
        if (index + 1) * span <= self.size:
            width = TILE_WIDTH
        else:
            width = (self.size // TILE_WIDTH**level) % TILE_WIDTH
        if width == 0 or index * span >= self.size:
            raise TileError(f"the tree of {self.size} has no tile {level}/{index}")
        data = self.fetcher.tile(TileRef(level, index, width))
        if len(data) != width * HASH_SIZE:
            raise TileError(f"tile {level}/{index} has {len(data)} bytes, not {width * HASH_SIZE}")
        return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]

    def level0(self, index: int, width: int) -> list[bytes]:
        """The leaf hashes of level-0 tile ``index`` (which must be ``width`` wide)."""
        hashes = self.tile_hashes(0, index)
        if len(hashes) != width:
            raise TileError(f"tile 0/{index} has {len(hashes)} hashes, not {width}")
        return hashes

    def subtree(self, height: int, index: int) -> bytes:
        """The hash of the complete subtree of ``2**height`` leaves, the ``index``-th of them."""
        level, rest = divmod(height, TILE_HEIGHT)
        first = index << rest  # among the hashes of tile level `level`
        hashes = self.tile_hashes(level, first // TILE_WIDTH)
        nodes = hashes[first % TILE_WIDTH : first % TILE_WIDTH + (1 << rest)]
        if len(nodes) != 1 << rest:
            raise TileError(f"the tiles lack the subtree {height}/{index}")
        while len(nodes) > 1:
            nodes = [node_hash(nodes[i], nodes[i + 1]) for i in range(0, len(nodes), 2)]
        return nodes[0]

    def root(self, size: int) -> bytes:
        """The root of the first ``size`` leaves (at most this tree's size)."""
        if not 0 <= size <= self.size:
            raise TileError(f"no root of {size} leaves in a tree of {self.size}")
        if size == 0:
            return EMPTY_ROOT
        subtrees, offset = [], 0
        for height in range(size.bit_length() - 1, -1, -1):
            if size & (1 << height):
                subtrees.append(self.subtree(height, offset >> height))
                offset += 1 << height
        root = subtrees[-1]
        for left in reversed(subtrees[:-1]):
            root = node_hash(left, root)
        return root
