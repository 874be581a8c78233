// verify_tlog checks a songjiang-ledger log with the Go reference implementation of the formats
// (golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog), reading the C2SP tlog-tiles
// resources from a URL prefix (http://…/tlog) or from a directory written by `ledger audit publish`.
//
// It verifies the checkpoint's signature under the given verifier key, authenticates every tile
// it reads against the checkpoint (TileHashReader), reads every leaf hash and every entry bundle
// and checks that each entry hashes (RFC 6962) to its leaf, proves and checks inclusion
// (ProveRecord/CheckRecord) and consistency (ProveTree/CheckTree) for sample indexes and sizes,
// and, given an older checkpoint (-old FILE), its consistency with the current one.
//
// Build offline with Debian's sources:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o verify_tlog .
//
// Exit status 0: everything verified; 1: something did not (the reason on standard error).
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

type source struct{ base string }

func (s source) read(path string) ([]byte, error) {
	if strings.HasPrefix(s.base, "http://") || strings.HasPrefix(s.base, "https://") {
		resp, err := http.Get(strings.TrimSuffix(s.base, "/") + "/" + path)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return io.ReadAll(resp.Body)
	}
	return os.ReadFile(filepath.Join(s.base, filepath.FromSlash(path)))
}

// tilePath is the C2SP path of a tile: Go's sumdb path without its height element.
func tilePath(t tlog.Tile) string {
	return "tile/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", height))
}

// bundlePath is the C2SP path of the entry bundle beside the level-0 tile t.
func bundlePath(t tlog.Tile) string {
	return "tile/entries/" + strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/0/", height))
}

type tileReader struct{ src source }

func (r tileReader) Height() int { return height }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := r.src.read(tilePath(t))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (r tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

type checkpoint struct {
	origin string
	tree   tlog.Tree
}

func openCheckpoint(msg []byte, verifier note.Verifier) (checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return checkpoint{}, fmt.Errorf("checkpoint signature: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 {
		return checkpoint{}, fmt.Errorf("checkpoint has %d lines", len(lines))
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return checkpoint{}, fmt.Errorf("bad tree size %q", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return checkpoint{}, fmt.Errorf("bad root hash %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], raw)
	if lines[0] != verifier.Name() {
		return checkpoint{}, fmt.Errorf("origin %q is not the key's name %q", lines[0], verifier.Name())
	}
	return checkpoint{lines[0], tlog.Tree{N: size, Hash: root}}, nil
}

func decodeBundle(data []byte) ([][]byte, error) {
	var entries [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, fmt.Errorf("truncated bundle")
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			return nil, fmt.Errorf("truncated bundle")
		}
		entries = append(entries, data[2:2+n])
		data = data[2+n:]
	}
	return entries, nil
}

// checkEntries reads every bundle and compares each entry's record hash with its leaf hash.
func checkEntries(src source, tree tlog.Tree, thr tlog.HashReader) error {
	indexes := make([]int64, tree.N)
	for i := range indexes {
		indexes[i] = tlog.StoredHashIndex(0, int64(i))
	}
	leaves, err := thr.ReadHashes(indexes)
	if err != nil {
		return fmt.Errorf("leaf hashes: %v", err)
	}
	for start := int64(0); start < tree.N; start += 1 << height {
		w := tree.N - start
		if w > 1<<height {
			w = 1 << height
		}
		t := tlog.Tile{H: height, L: 0, N: start >> height, W: int(w)}
		data, err := src.read(bundlePath(t))
		if err != nil {
			return err
		}
		entries, err := decodeBundle(data)
		if err != nil {
			return fmt.Errorf("%s: %v", bundlePath(t), err)
		}
		if int64(len(entries)) != w {
			return fmt.Errorf("%s holds %d entries, want %d", bundlePath(t), len(entries), w)
		}
		for j, entry := range entries {
			if tlog.RecordHash(entry) != leaves[start+int64(j)] {
				return fmt.Errorf("entry %d does not hash to its leaf", start+int64(j))
			}
		}
	}
	return nil
}

func samples(n int64) []int64 {
	var out []int64
	seen := map[int64]bool{}
	for _, x := range []int64{0, 1, 2, 254, 255, 256, 257, 65535, 65536, n / 3, n / 2, n - 2, n - 1} {
		if x >= 0 && x < n && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func run() error {
	base := flag.String("base", "", "URL prefix (http://host/tlog) or directory of the log")
	vkey := flag.String("vkey", "", "the log's verifier key")
	old := flag.String("old", "", "an older checkpoint file that must be consistent with the current one")
	flag.Parse()
	verifier, err := note.NewVerifier(*vkey)
	if err != nil {
		return fmt.Errorf("vkey: %v", err)
	}
	src := source{*base}
	msg, err := src.read("checkpoint")
	if err != nil {
		return err
	}
	cp, err := openCheckpoint(msg, verifier)
	if err != nil {
		return err
	}
	tree := cp.tree
	thr := tlog.TileHashReader(tree, tileReader{src})
	if tree.N == 0 {
		fmt.Println("ok 0")
		return nil
	}
	if h, err := tlog.TreeHash(tree.N, thr); err != nil || h != tree.Hash {
		return fmt.Errorf("tree hash from tiles: %v", err)
	}
	if err := checkEntries(src, tree, thr); err != nil {
		return err
	}
	leafIdx := samples(tree.N)
	for _, i := range leafIdx {
		hashes, err := thr.ReadHashes([]int64{tlog.StoredHashIndex(0, i)})
		if err != nil {
			return err
		}
		p, err := tlog.ProveRecord(tree.N, i, thr)
		if err != nil {
			return fmt.Errorf("ProveRecord %d: %v", i, err)
		}
		if err := tlog.CheckRecord(p, tree.N, tree.Hash, i, hashes[0]); err != nil {
			return fmt.Errorf("CheckRecord %d: %v", i, err)
		}
	}
	for _, i := range leafIdx {
		m := i + 1
		h, err := tlog.TreeHash(m, thr)
		if err != nil {
			return err
		}
		p, err := tlog.ProveTree(tree.N, m, thr)
		if err != nil {
			return fmt.Errorf("ProveTree %d: %v", m, err)
		}
		if err := tlog.CheckTree(p, tree.N, tree.Hash, m, h); err != nil {
			return fmt.Errorf("CheckTree %d: %v", m, err)
		}
	}
	if *old != "" {
		data, err := os.ReadFile(*old)
		if err != nil {
			return err
		}
		prev, err := openCheckpoint(data, verifier)
		if err != nil {
			return fmt.Errorf("old %v", err)
		}
		if prev.tree.N > tree.N {
			return fmt.Errorf("the log shrank from %d to %d", prev.tree.N, tree.N)
		}
		if prev.tree.N > 0 {
			p, err := tlog.ProveTree(tree.N, prev.tree.N, thr)
			if err != nil {
				return err
			}
			if err := tlog.CheckTree(p, tree.N, tree.Hash, prev.tree.N, prev.tree.Hash); err != nil {
				return fmt.Errorf("old checkpoint inconsistent: %v", err)
			}
		}
	}
	fmt.Printf("ok %d %s\n", tree.N, bytes.TrimSpace([]byte(cp.origin)))
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "verify_tlog:", err)
		os.Exit(1)
	}
}
