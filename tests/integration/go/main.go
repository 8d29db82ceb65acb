// Command interop checks custody's checkpoints and proof files with Go's golang.org/x/mod
// sumdb/note and sumdb/tlog, an implementation custody's authors did not write, and makes
// keys, trees and signed checkpoints with it for custody to check in turn (docs/log.md).
//
// It parses the files itself, following the published formats only: C2SP signed-note,
// tlog-checkpoint and tlog-proof@v1, and custody's consistency JSON.  Exit status: 0 when
// every check passed, 1 when one failed (each failure is printed), 2 on usage or I/O errors.
//
//	interop records N OUT                 write N canonical JSON entries, one a line
//	interop gen NAME N DIR                new Go key NAME; N records; their tree; a checkpoint
//	                                      signed by Go (see cmdGen)
//	interop checkpoints VKEYFILE RECORDS CP...
//	                                      open each checkpoint; its root must equal the Go
//	                                      tree hash of the first SIZE records
//	interop proofs VKEYFILE RECORDS FILE...
//	                                      verify tlog-proof files, and compare them with the
//	                                      records and Go's own proofs
//	interop consistencies VKEYFILE RECORDS FILE...
//	                                      the same for consistency files
//	interop verify-proof VKEYFILE FILE    verify one proof file, nothing else
//	interop verify-consistency VKEYFILE FILE
//	                                      verify one consistency file, nothing else
//	interop tamper-proof-hash IN OUT      flip one bit of a sibling hash
//	interop tamper-proof-entry IN OUT     change one character of the logged entry
//	interop tamper-consistency IN OUT     flip one bit of a consistency hash
//	interop resign SIGNER VKEYFILE NOTE OUT
//	                                      open NOTE, sign its text again with SIGNER
//	interop tiles VKEYFILE DIR [entries]  read a C2SP tlog-tiles folder (custody-log publish)
//	                                      with tlog.TileHashReader: see cmdTiles
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const proofHeader = "c2sp.org/tlog-proof@v1"

var b64 = base64.StdEncoding.Strict()

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func die(code int, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "interop: "+format+"\n", args...)
	os.Exit(code)
}

// ---- records and the Go tree -------------------------------------------------------------

// makeRecords returns n canonical JSON entries (keys sorted, no whitespace, integers only,
// ASCII strings), so custody stores exactly these bytes.  Their lengths vary.
func makeRecords(n int, src string) [][]byte {
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = []byte(fmt.Sprintf(`{"i":%d,"pad":"%s","src":"%s","type":"interop","v":1}`,
			i, strings.Repeat("a", 1+i%23), src))
	}
	return recs
}

func readRecords(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var recs [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		recs = append(recs, append([]byte(nil), sc.Bytes()...))
	}
	return recs, sc.Err()
}

// goTree is the tree of records as x/mod's tlog stores it: every stored hash in memory.
type goTree struct {
	n      int64
	stored []tlog.Hash
}

func (t *goTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(t.stored)) {
			return nil, fmt.Errorf("stored hash %d is not in the tree", x)
		}
		out[i] = t.stored[x]
	}
	return out, nil
}

func newGoTree(recs [][]byte) (*goTree, error) {
	t := &goTree{}
	for _, rec := range recs {
		hs, err := tlog.StoredHashes(t.n, rec, t)
		if err != nil {
			return nil, err
		}
		t.stored = append(t.stored, hs...)
		t.n++
	}
	return t, nil
}

// ---- checkpoints ---------------------------------------------------------------------------

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
	ext    []string
}

func hashString(h tlog.Hash) string { return b64.EncodeToString(h[:]) }

func decodeHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := b64.DecodeString(s)
	if err != nil {
		return h, fmt.Errorf("hash %q is not base64: %v", s, err)
	}
	if len(b) != len(h) {
		return h, fmt.Errorf("hash %q is %d bytes, not %d", s, len(b), len(h))
	}
	copy(h[:], b)
	return h, nil
}

func parseSize(s string) (int64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	return strconv.ParseInt(s, 10, 64)
}

// parseBody parses a C2SP tlog-checkpoint body: origin, size, root, extension lines.
func parseBody(text string) (checkpoint, error) {
	var c checkpoint
	if !strings.HasSuffix(text, "\n") {
		return c, errors.New("checkpoint body does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return c, fmt.Errorf("checkpoint body has %d lines, needs origin, size and root", len(lines))
	}
	c.origin = lines[0]
	if c.origin == "" {
		return c, errors.New("checkpoint origin is empty")
	}
	var err error
	if c.size, err = parseSize(lines[1]); err != nil {
		return c, fmt.Errorf("checkpoint size: %v", err)
	}
	if c.root, err = decodeHash(lines[2]); err != nil {
		return c, fmt.Errorf("checkpoint root: %v", err)
	}
	for _, l := range lines[3:] {
		if l == "" {
			return c, errors.New("checkpoint has an empty extension line")
		}
	}
	c.ext = lines[3:]
	return c, nil
}

func parseVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, usageError{fmt.Sprintf("verifier key %q: %v", vkey, err)}
	}
	return v, nil
}

// openCheckpoint checks the signed note with Go's note.Open and parses its text.  The origin
// must be the key's name: that is what C2SP verifiers check.
func openCheckpoint(msg []byte, v note.Verifier) (checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return checkpoint{}, fmt.Errorf("note.Open: %v", err)
	}
	c, err := parseBody(n.Text)
	if err != nil {
		return c, err
	}
	if c.origin != v.Name() {
		return c, fmt.Errorf("checkpoint origin %q is not the key name %q", c.origin, v.Name())
	}
	return c, nil
}

// ---- tlog-proof@v1 -------------------------------------------------------------------------

type proofFile struct {
	extra      []byte
	index      int64
	hashes     tlog.RecordProof
	checkpoint []byte
}

func parseProof(data []byte) (proofFile, error) {
	var p proofFile
	// The header lines are never empty, so the first empty line ends them; the checkpoint
	// that follows has an empty line of its own.
	i := bytes.Index(data, []byte("\n\n"))
	if i < 0 {
		return p, errors.New("no empty line between the proof and the checkpoint")
	}
	lines := strings.Split(string(data[:i]), "\n")
	p.checkpoint = data[i+2:]
	if lines[0] != proofHeader {
		return p, fmt.Errorf("first line is %q, not %q", lines[0], proofHeader)
	}
	lines = lines[1:]
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "extra ") {
		return p, errors.New("no 'extra' line: custody's proof files always carry the entry")
	}
	var err error
	if p.extra, err = b64.DecodeString(strings.TrimPrefix(lines[0], "extra ")); err != nil {
		return p, fmt.Errorf("extra: %v", err)
	}
	lines = lines[1:]
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "index ") {
		return p, errors.New("no 'index' line")
	}
	if p.index, err = parseSize(strings.TrimPrefix(lines[0], "index ")); err != nil {
		return p, fmt.Errorf("index: %v", err)
	}
	for _, l := range lines[1:] {
		h, err := decodeHash(l)
		if err != nil {
			return p, err
		}
		p.hashes = append(p.hashes, h)
	}
	return p, nil
}

func (p proofFile) format() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nextra %s\nindex %d\n", proofHeader, b64.EncodeToString(p.extra), p.index)
	for _, h := range p.hashes {
		fmt.Fprintf(&b, "%s\n", hashString(h))
	}
	b.WriteString("\n")
	b.Write(p.checkpoint)
	return b.Bytes()
}

// verifyProof is all a relying party does: signature, origin, inclusion of the entry bytes.
func verifyProof(data []byte, v note.Verifier) (proofFile, checkpoint, error) {
	p, err := parseProof(data)
	if err != nil {
		return p, checkpoint{}, fmt.Errorf("not a tlog-proof@v1 file: %v", err)
	}
	c, err := openCheckpoint(p.checkpoint, v)
	if err != nil {
		return p, c, err
	}
	if p.index >= c.size {
		return p, c, fmt.Errorf("index %d is not in a tree of size %d", p.index, c.size)
	}
	if err := tlog.CheckRecord(p.hashes, c.size, c.root, p.index, tlog.RecordHash(p.extra)); err != nil {
		return p, c, fmt.Errorf("tlog.CheckRecord(index %d, size %d): %v", p.index, c.size, err)
	}
	return p, c, nil
}

// ---- consistency files ---------------------------------------------------------------------

type consistencyFile struct {
	Format        string   `json:"format"`
	Origin        string   `json:"origin"`
	OldCheckpoint string   `json:"old_checkpoint"`
	Checkpoint    string   `json:"checkpoint"`
	Consistency   []string `json:"consistency"`
}

func verifyConsistency(data []byte, v note.Verifier) (oldc, newc checkpoint, proof tlog.TreeProof, err error) {
	var f consistencyFile
	if err = json.Unmarshal(data, &f); err != nil {
		return oldc, newc, nil, fmt.Errorf("not JSON: %v", err)
	}
	if f.Format != "custody-consistency/1" {
		return oldc, newc, nil, fmt.Errorf("format is %q", f.Format)
	}
	if oldc, err = openCheckpoint([]byte(f.OldCheckpoint), v); err != nil {
		return oldc, newc, nil, fmt.Errorf("old checkpoint: %v", err)
	}
	if newc, err = openCheckpoint([]byte(f.Checkpoint), v); err != nil {
		return oldc, newc, nil, fmt.Errorf("checkpoint: %v", err)
	}
	if f.Origin != oldc.origin || f.Origin != newc.origin {
		return oldc, newc, nil, fmt.Errorf("origin %q differs from the checkpoints' %q, %q",
			f.Origin, oldc.origin, newc.origin)
	}
	for _, s := range f.Consistency {
		h, err := decodeHash(s)
		if err != nil {
			return oldc, newc, nil, err
		}
		proof = append(proof, h)
	}
	if oldc.size < 1 || oldc.size > newc.size {
		return oldc, newc, proof, fmt.Errorf("sizes %d -> %d cannot be proved", oldc.size, newc.size)
	}
	if err = tlog.CheckTree(proof, newc.size, newc.root, oldc.size, oldc.root); err != nil {
		return oldc, newc, proof, fmt.Errorf("tlog.CheckTree(%d -> %d): %v", oldc.size, newc.size, err)
	}
	return oldc, newc, proof, nil
}

// ---- commands ------------------------------------------------------------------------------

func readFile(path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		die(2, "%v", err)
	}
	return data
}

func writeFile(path string, data []byte, mode os.FileMode) {
	if err := os.WriteFile(path, data, mode); err != nil {
		die(2, "%v", err)
	}
}

func mustVerifier(vkey string) note.Verifier {
	v, err := parseVerifier(vkey)
	if err != nil {
		die(2, "%v", err)
	}
	return v
}

func mustTree(path string) ([][]byte, *goTree) {
	recs, err := readRecords(path)
	if err != nil {
		die(2, "records: %v", err)
	}
	t, err := newGoTree(recs)
	if err != nil {
		die(2, "building the Go tree: %v", err)
	}
	return recs, t
}

func treeHash(t *goTree, size int64) (tlog.Hash, error) {
	if size > t.n {
		return tlog.Hash{}, fmt.Errorf("size %d is more than the %d records appended", size, t.n)
	}
	return tlog.TreeHash(size, t)
}

func sameProof(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func hashesString(hs []tlog.Hash) string {
	s := make([]string, len(hs))
	for i, h := range hs {
		s[i] = hashString(h)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// cmdGen makes a Go key NAME, n records and their tree, and writes to DIR: signer.key (mode
// 0600), verifier.key, records.jsonl, body (the tlog-checkpoint body) and checkpoint (the body
// signed by Go).  It prints origin, size and root as `custody-verify checkpoint` does.
func cmdGen(name string, n int, dir string) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		die(2, "note.GenerateKey: %v", err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		die(2, "note.NewSigner: %v", err)
	}
	recs := makeRecords(n, "go")
	t, err := newGoTree(recs)
	if err != nil {
		die(2, "%v", err)
	}
	root, err := tlog.TreeHash(int64(n), t)
	if err != nil {
		die(2, "tlog.TreeHash: %v", err)
	}
	body := fmt.Sprintf("%s\n%d\n%s\n", name, n, hashString(root))
	msg, err := note.Sign(&note.Note{Text: body}, signer)
	if err != nil {
		die(2, "note.Sign: %v", err)
	}
	writeFile(dir+"/signer.key", []byte(skey+"\n"), 0o600)
	writeFile(dir+"/verifier.key", []byte(vkey+"\n"), 0o644)
	writeFile(dir+"/records.jsonl", append(bytes.Join(recs, []byte("\n")), '\n'), 0o644)
	writeFile(dir+"/body", []byte(body), 0o644)
	writeFile(dir+"/checkpoint", msg, 0o644)
	fmt.Printf("origin %s\nsize %d\nroot %s\n", name, n, hashString(root))
}

func cmdCheckpoints(vkey, records string, files []string) int {
	v := mustVerifier(vkey)
	_, t := mustTree(records)
	failed := 0
	for _, f := range files {
		c, err := openCheckpoint(readFile(f), v)
		if err == nil {
			var root tlog.Hash
			if root, err = treeHash(t, c.size); err == nil && root != c.root {
				err = fmt.Errorf("root %s, but Go's tlog.TreeHash of the first %d records is %s",
					hashString(c.root), c.size, hashString(root))
			}
		}
		if err != nil {
			fmt.Printf("FAIL %s: %v\n", f, err)
			failed++
			continue
		}
		fmt.Printf("ok   checkpoint size %d root %s: note.Open accepts it, root = Go tlog.TreeHash\n",
			c.size, hashString(c.root))
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func cmdProofs(vkey, records string, files []string) int {
	v := mustVerifier(vkey)
	recs, t := mustTree(records)
	failed, sizes := 0, map[int64]int{}
	for _, f := range files {
		data := readFile(f)
		p, c, err := verifyProof(data, v)
		if err == nil && !bytes.Equal(p.extra, recs[p.index]) {
			err = fmt.Errorf("entry %d is %q, but %q was appended", p.index, p.extra, recs[p.index])
		}
		if err == nil {
			var root tlog.Hash
			if root, err = treeHash(t, c.size); err == nil && root != c.root {
				err = fmt.Errorf("checkpoint root %s is not Go's tlog.TreeHash %s",
					hashString(c.root), hashString(root))
			}
		}
		if err == nil {
			var want tlog.RecordProof
			if want, err = tlog.ProveRecord(c.size, p.index, t); err == nil && !sameProof(want, p.hashes) {
				err = fmt.Errorf("proof %s differs from Go's tlog.ProveRecord %s",
					hashesString(p.hashes), hashesString(want))
			}
		}
		if err == nil && !bytes.Equal(p.format(), data) {
			err = fmt.Errorf("not in the tlog-proof@v1 layout: file %q, expected %q", data, p.format())
		}
		if err != nil {
			fmt.Printf("FAIL %s: %v\n", f, err)
			failed++
			continue
		}
		sizes[c.size]++
	}
	var order []int64
	for size := range sizes {
		order = append(order, size)
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	for _, size := range order {
		n := sizes[size]
		fmt.Printf("ok   %d inclusion proofs at size %d: note.Open, tlog.CheckRecord, = tlog.ProveRecord, entry = appended bytes\n", n, size)
	}
	if failed > 0 {
		fmt.Printf("FAIL %d of %d proof files\n", failed, len(files))
		return 1
	}
	return 0
}

func cmdConsistencies(vkey, records string, files []string) int {
	v := mustVerifier(vkey)
	_, t := mustTree(records)
	failed, ok := 0, 0
	for _, f := range files {
		oldc, newc, proof, err := verifyConsistency(readFile(f), v)
		if err == nil {
			for _, c := range []checkpoint{oldc, newc} {
				var root tlog.Hash
				if root, err = treeHash(t, c.size); err == nil && root != c.root {
					err = fmt.Errorf("root at size %d is %s, Go's tlog.TreeHash is %s",
						c.size, hashString(c.root), hashString(root))
				}
				if err != nil {
					break
				}
			}
		}
		if err == nil {
			var want tlog.TreeProof
			if want, err = tlog.ProveTree(newc.size, oldc.size, t); err == nil && !sameProof(want, proof) {
				err = fmt.Errorf("proof %d -> %d is %s, Go's tlog.ProveTree gives %s", oldc.size,
					newc.size, hashesString(proof), hashesString(want))
			}
		}
		if err != nil {
			fmt.Printf("FAIL %s: %v\n", f, err)
			failed++
			continue
		}
		ok++
	}
	fmt.Printf("ok   %d consistency proofs: note.Open both, tlog.CheckTree, = tlog.ProveTree\n", ok)
	if failed > 0 {
		fmt.Printf("FAIL %d of %d consistency files\n", failed, len(files))
		return 1
	}
	return 0
}

func cmdTamperProof(in, out string, entry bool) {
	p, err := parseProof(readFile(in))
	if err != nil {
		die(2, "%s: %v", in, err)
	}
	if entry {
		// Keep it a canonical entry: one letter of "pad" changes, so only the hash tells.
		i := bytes.Index(p.extra, []byte(`"pad":"a`))
		if i < 0 {
			die(2, "%s: the entry has no \"pad\" to change", in)
		}
		p.extra[i+len(`"pad":"`)] = 'b'
	} else {
		if len(p.hashes) == 0 {
			die(2, "%s: the proof has no hashes to tamper with", in)
		}
		p.hashes[len(p.hashes)/2][0] ^= 0x01
	}
	writeFile(out, p.format(), 0o644)
}

func cmdTamperConsistency(in, out string) {
	var f consistencyFile
	if err := json.Unmarshal(readFile(in), &f); err != nil {
		die(2, "%s: %v", in, err)
	}
	if len(f.Consistency) == 0 {
		die(2, "%s: the proof has no hashes to tamper with", in)
	}
	h, err := decodeHash(f.Consistency[0])
	if err != nil {
		die(2, "%s: %v", in, err)
	}
	h[31] ^= 0x80
	f.Consistency[0] = hashString(h)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&f); err != nil {
		die(2, "%v", err)
	}
	writeFile(out, b.Bytes(), 0o644)
}

func cmdResign(skey, vkey, in, out string) {
	signer, err := note.NewSigner(strings.TrimSpace(string(readFile(skey))))
	if err != nil {
		die(2, "signer key: %v", err)
	}
	n, err := note.Open(readFile(in), note.VerifierList(mustVerifier(vkey)))
	if err != nil {
		fmt.Printf("FAIL %s: note.Open: %v\n", in, err)
		os.Exit(1)
	}
	msg, err := note.Sign(&note.Note{Text: n.Text}, signer)
	if err != nil {
		die(2, "note.Sign: %v", err)
	}
	writeFile(out, msg, 0o644)
}

// ---- C2SP tlog-tiles folders ----------------------------------------------------------------

// dirTiles reads tiles from a published folder.  x/mod names them tile/8/L/N[.p/W] (and its
// record tiles tile/8/data/N); C2SP drops the height, tile/L/N[.p/W], and calls the entry
// bundles tile/entries/N.
type dirTiles struct {
	dir   string
	reads int
}

func c2spPath(t tlog.Tile) string {
	p := strings.TrimPrefix(t.Path(), "tile/8/")
	if strings.HasPrefix(p, "data/") {
		p = "entries/" + strings.TrimPrefix(p, "data/")
	}
	return "tile/" + p
}

func (d *dirTiles) Height() int { return 8 }

func (d *dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := os.ReadFile(d.dir + "/" + c2spPath(t))
		if err != nil {
			return nil, err
		}
		if len(b) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("%s is %d bytes, not %d", c2spPath(t), len(b), t.W*tlog.HashSize)
		}
		data[i] = b
		d.reads++
	}
	return data, nil
}

func (d *dirTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// memHashes holds every stored hash that a folder's tiles determine: the tiles' own hashes
// and the nodes above them inside each tile (tlog.NodeHash).  A full tile's top node is also
// an entry of the tile above, so a tile that disagrees with its parent makes two different
// hashes for one index.
type memHashes map[int64]tlog.Hash

func (m memHashes) put(level int, n int64, h tlog.Hash, from string) error {
	k := tlog.StoredHashIndex(level, n)
	if old, ok := m[k]; ok && old != h {
		return fmt.Errorf("%s: node (%d, %d) is not the one the tile above holds", from, level, n)
	}
	m[k] = h
	return nil
}

func (m memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := m[x]
		if !ok {
			return nil, fmt.Errorf("stored hash %d is in no tile", x)
		}
		out[i] = h
	}
	return out, nil
}

// addTile puts tile t's hashes and the nodes they complete into m.
func (m memHashes) addTile(t tlog.Tile, data []byte) error {
	from := c2spPath(t)
	base := 8 * t.L
	for i := 0; i < t.W; i++ {
		var h tlog.Hash
		copy(h[:], data[i*32:])
		if err := m.put(base, t.N*256+int64(i), h, from); err != nil {
			return err
		}
	}
	for j := 1; j <= 8; j++ {
		for k := int64(0); k < int64(t.W>>j); k++ {
			n := t.N*int64(256>>j) + k
			l, _ := m.ReadHashes([]int64{tlog.StoredHashIndex(base+j-1, 2*n)})
			r, _ := m.ReadHashes([]int64{tlog.StoredHashIndex(base+j-1, 2*n+1)})
			if err := m.put(base+j, n, tlog.NodeHash(l[0], r[0]), from); err != nil {
				return err
			}
		}
	}
	return nil
}

// cmdTiles checks a published folder twice over, for every tile of the checkpoint's size (the
// full ones and the last of each level's partial tiles that tlog.NewTiles lists):
//   - as a monitor: every hash the tiles determine goes into memHashes, where a tile that
//     disagrees with its parent collides; tlog.TreeHash over them must be the root of the
//     checkpoint, opened with note.Open;
//   - as a client: tlog.TreeHash and every tile's hashes through tlog.TileHashReader, and each
//     file must equal what it returns.  (x/mod 0.7.0's TileHashReader leaves some fetched
//     tiles unauthenticated when the tree's subtrees share tiles, so it alone would not
//     notice every tampered tile: the first check does.)
//
// With "entries", each bundle's entries must hash (tlog.RecordHash) to the level-0 tile's
// hashes.
func cmdTiles(vkey, dir string, entries bool) int {
	c, err := openCheckpoint(readFile(dir+"/checkpoint"), mustVerifier(vkey))
	if err != nil {
		fmt.Printf("checkpoint: %v\n", err)
		return 1
	}
	mem := memHashes{}
	for _, t := range tlog.NewTiles(8, 0, c.size) {
		if t.W != 256 && int64(t.W) != (c.size>>(8*t.L))%256 {
			continue
		}
		data, err := os.ReadFile(dir + "/" + c2spPath(t))
		if err == nil && len(data) != t.W*32 {
			err = fmt.Errorf("%s is %d bytes, not %d", c2spPath(t), len(data), t.W*32)
		}
		if err == nil {
			err = mem.addTile(t, data)
		}
		if err != nil {
			fmt.Printf("%v\n", err)
			return 1
		}
	}
	if root, err := tlog.TreeHash(c.size, mem); err != nil || root != c.root {
		fmt.Printf("the tiles' tree hash at size %d is not the checkpoint's root (%v)\n", c.size, err)
		return 1
	}
	tr := &dirTiles{dir: dir}
	thr := tlog.TileHashReader(tlog.Tree{N: c.size, Hash: c.root}, tr)
	root, err := tlog.TreeHash(c.size, thr)
	if err != nil {
		fmt.Printf("tlog.TreeHash at size %d: %v\n", c.size, err)
		return 1
	}
	if root != c.root {
		fmt.Printf("tlog.TreeHash at size %d is %s, the checkpoint says %s\n", c.size,
			hashString(root), hashString(c.root))
		return 1
	}
	ntiles, nbundles := 0, 0
	for _, t := range tlog.NewTiles(8, 0, c.size) {
		if t.W != 256 && int64(t.W) != (c.size>>(8*t.L))%256 {
			continue // an intermediate partial tile, not one of this size
		}
		idx := make([]int64, t.W)
		for i := range idx {
			idx[i] = tlog.StoredHashIndex(8*t.L, t.N*256+int64(i))
		}
		hs, err := thr.ReadHashes(idx)
		if err != nil {
			fmt.Printf("%s: %v\n", c2spPath(t), err)
			return 1
		}
		data, err := os.ReadFile(dir + "/" + c2spPath(t))
		if err != nil {
			fmt.Printf("%v\n", err)
			return 1
		}
		for i, h := range hs {
			if !bytes.Equal(data[i*32:(i+1)*32], h[:]) {
				fmt.Printf("%s: hash %d is not the tree's\n", c2spPath(t), i)
				return 1
			}
		}
		ntiles++
		if !entries || t.L != 0 {
			continue
		}
		bt := t
		bt.L = -1
		b, err := os.ReadFile(dir + "/" + c2spPath(bt))
		if err != nil {
			fmt.Printf("%v\n", err)
			return 1
		}
		k := 0
		for len(b) > 0 {
			if len(b) < 2 || len(b) < 2+int(b[0])<<8+int(b[1]) {
				fmt.Printf("%s: entry %d is cut off\n", c2spPath(bt), k)
				return 1
			}
			n := int(b[0])<<8 + int(b[1])
			if k >= len(hs) || tlog.RecordHash(b[2:2+n]) != hs[k] {
				fmt.Printf("%s: entry %d does not hash to the tile's record hash\n", c2spPath(bt), k)
				return 1
			}
			b = b[2+n:]
			k++
		}
		if k != t.W {
			fmt.Printf("%s: %d entries, the tile has %d\n", c2spPath(bt), k, t.W)
			return 1
		}
		nbundles++
	}
	fmt.Printf("size %d: root = tlog.TreeHash; %d tiles and %d entry bundles check out (%d tile reads)\n",
		c.size, ntiles, nbundles, tr.reads)
	return 0
}

func main() {
	a := os.Args[1:]
	need := func(n int, more bool) {
		if len(a) < n+1 || (!more && len(a) != n+1) {
			die(2, "wrong arguments for %q (see the comment at the top of main.go)", a[0])
		}
	}
	if len(a) == 0 {
		die(2, "no command")
	}
	switch a[0] {
	case "records":
		need(2, false)
		n, err := strconv.Atoi(a[1])
		if err != nil {
			die(2, "%v", err)
		}
		recs := makeRecords(n, "custody")
		writeFile(a[2], append(bytes.Join(recs, []byte("\n")), '\n'), 0o644)
	case "gen":
		need(3, false)
		n, err := strconv.Atoi(a[2])
		if err != nil || n < 1 {
			die(2, "bad record count %q", a[2])
		}
		cmdGen(a[1], n, a[3])
	case "checkpoints":
		need(3, true)
		os.Exit(cmdCheckpoints(string(readFile(a[1])), a[2], a[3:]))
	case "proofs":
		need(3, true)
		os.Exit(cmdProofs(string(readFile(a[1])), a[2], a[3:]))
	case "consistencies":
		need(3, true)
		os.Exit(cmdConsistencies(string(readFile(a[1])), a[2], a[3:]))
	case "verify-proof":
		need(2, false)
		if _, c, err := verifyProof(readFile(a[2]), mustVerifier(string(readFile(a[1])))); err != nil {
			fmt.Printf("rejected: %v\n", err)
			os.Exit(1)
		} else {
			fmt.Printf("accepted at size %d\n", c.size)
		}
	case "verify-consistency":
		need(2, false)
		if o, n, _, err := verifyConsistency(readFile(a[2]), mustVerifier(string(readFile(a[1])))); err != nil {
			fmt.Printf("rejected: %v\n", err)
			os.Exit(1)
		} else {
			fmt.Printf("accepted %d -> %d\n", o.size, n.size)
		}
	case "tamper-proof-hash", "tamper-proof-entry":
		need(2, false)
		cmdTamperProof(a[1], a[2], a[0] == "tamper-proof-entry")
	case "tamper-consistency":
		need(2, false)
		cmdTamperConsistency(a[1], a[2])
	case "resign":
		need(4, false)
		cmdResign(a[1], string(readFile(a[2])), a[3], a[4])
	case "tiles":
		need(2, true)
		if len(a) > 4 || (len(a) == 4 && a[3] != "entries") {
			die(2, "tiles VKEYFILE DIR [entries]")
		}
		os.Exit(cmdTiles(string(readFile(a[1])), a[2], len(a) == 4))
	default:
		if !witnessMain(a) && !fakeWitnessMain(a) { // witness.go, fakewitness.go
			die(2, "unknown command %q", a[0])
		}
	}
}
