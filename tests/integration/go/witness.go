// Cosignatures (C2SP tlog-cosignature, cosignature/v1) and the witness protocol (C2SP
// tlog-witness v1), written here from the specifications alone: golang.org/x/mod 0.7.0's note
// package knows only Ed25519 note keys (type 0x01), so cosigVerifier and cosigSigner plug
// cosignature/v1 into its note.Verifier and note.Signer interfaces, and note.Open and note.Sign
// do the rest.  docs/witness.md says what custody-witness does; witness.sh drives it with these.
//
//	interop cosig-vector                 print a fixed witness key, a checkpoint signed by a
//	                                     fixed log key, and Go's cosignature of it (for
//	                                     tests/unit/verify/test_cosig.c)
//	interop cosig-open LOGVKEY WVKEY NOTE
//	                                     open NOTE with the log key and the witness key (files);
//	                                     both must have signed; prints "cosigned SIZE TIME"
//	interop cosign WSKEY NOTE TIME OUT   append Go's cosignature at TIME to the signed NOTE
//	interop witness-add URL OLD PROOF CP LOGVKEY WVKEY [MODE]
//	                                     POST an add-checkpoint request: OLD, the hashes of the
//	                                     custody-consistency/1 file PROOF ("-": none), the
//	                                     signed checkpoint CP.  MODE "bad-proof" flips a bit of
//	                                     the first proof hash, "bad-sig" one of the log's
//	                                     signature.  Prints "status N", then for 409 "size N" and
//	                                     the Content-Type, for 200 "cosigned SIZE TIME" once Go
//	                                     verified the cosignature (exit 1 if it does not), then
//	                                     "line " and the witness's signature line
//	                                     With $WITNESS_CA, an https URL is trusted with that CA only.
//	interop witness-abuse URL            oversized, garbage, slow and wrong-method requests; the
//	                                     witness must answer each correctly and keep serving
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

const cosigAlg = 0x04

func cosigKeyHash(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', cosigAlg})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// cosigMessage is the signed message: the header line, the time line, the checkpoint body.
func cosigMessage(ts uint64, body []byte) []byte {
	return append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", ts)), body...)
}

type cosigVerifier struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
	last uint64 // timestamp of the last signature that verified
}

func (v *cosigVerifier) Name() string    { return v.name }
func (v *cosigVerifier) KeyHash() uint32 { return v.hash }
func (v *cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	ts := binary.BigEndian.Uint64(sig)
	if ts > 1<<63-1 {
		return false
	}
	if !ed25519.Verify(v.pub, cosigMessage(ts, msg), sig[8:]) {
		return false
	}
	v.last = ts
	return true
}

// parseCosigVerifier reads NAME+KEYID+BASE64(0x04 || pub).
func parseCosigVerifier(vkey string) (*cosigVerifier, error) {
	vkey = strings.TrimSpace(vkey)
	i := strings.Index(vkey, "+")
	if i < 0 || len(vkey) < i+10 || vkey[i+9] != '+' {
		return nil, fmt.Errorf("%q is not NAME+KEYID+BASE64", vkey)
	}
	name, id, data := vkey[:i], vkey[i+1:i+9], vkey[i+10:]
	key, err := b64.DecodeString(data)
	if err != nil || len(key) != 1+ed25519.PublicKeySize || key[0] != cosigAlg {
		return nil, fmt.Errorf("%q is not a cosignature/v1 Ed25519 key", vkey)
	}
	v := &cosigVerifier{name: name, pub: ed25519.PublicKey(key[1:])}
	v.hash = cosigKeyHash(name, v.pub)
	if fmt.Sprintf("%08x", v.hash) != id {
		return nil, fmt.Errorf("%q: key ID %s does not match, it is %08x", vkey, id, v.hash)
	}
	return v, nil
}

type cosigSigner struct {
	name string
	hash uint32
	priv ed25519.PrivateKey
	ts   uint64
}

func (s *cosigSigner) Name() string    { return s.name }
func (s *cosigSigner) KeyHash() uint32 { return s.hash }
func (s *cosigSigner) Sign(msg []byte) ([]byte, error) {
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], s.ts)
	return append(t[:], ed25519.Sign(s.priv, cosigMessage(s.ts, msg))...), nil
}

func newCosigSigner(name string, seed []byte, ts uint64) *cosigSigner {
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	return &cosigSigner{name: name, hash: cosigKeyHash(name, pub), priv: priv, ts: ts}
}

// parseCosigSigner reads PRIVATE+KEY+NAME+KEYID+BASE64(0x04 || seed), the form of x/mod's note
// signer keys with the cosignature algorithm byte.
func parseCosigSigner(skey string, ts uint64) (*cosigSigner, error) {
	skey = strings.TrimSpace(skey)
	rest := strings.TrimPrefix(skey, "PRIVATE+KEY+")
	i := strings.Index(rest, "+")
	if rest == skey || i < 0 || len(rest) < i+10 {
		return nil, errors.New("not a PRIVATE+KEY+NAME+KEYID+BASE64 key")
	}
	key, err := b64.DecodeString(rest[i+10:])
	if err != nil || len(key) != 1+ed25519.SeedSize || key[0] != cosigAlg {
		return nil, errors.New("not a cosignature/v1 signer key")
	}
	s := newCosigSigner(rest[:i], key[1:], ts)
	if fmt.Sprintf("%08x", s.hash) != rest[i+1:i+9] {
		return nil, errors.New("signer key ID does not match")
	}
	return s, nil
}

func (s *cosigSigner) vkey() string {
	pub := s.priv.Public().(ed25519.PublicKey)
	return fmt.Sprintf("%s+%08x+%s", s.name, s.hash, b64.EncodeToString(append([]byte{cosigAlg}, pub...)))
}

// openCosigned opens a signed checkpoint that the log and the witness must both have signed.
func openCosigned(msg []byte, logv note.Verifier, w *cosigVerifier) (checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(logv, w))
	if err != nil {
		return checkpoint{}, fmt.Errorf("note.Open: %v", err)
	}
	var byLog, byWitness bool
	for _, s := range n.Sigs {
		byLog = byLog || (s.Name == logv.Name() && s.Hash == logv.KeyHash())
		byWitness = byWitness || (s.Name == w.name && s.Hash == w.hash)
	}
	if !byLog || !byWitness {
		return checkpoint{}, fmt.Errorf("signed by the log: %v, by the witness: %v", byLog, byWitness)
	}
	return parseBody(n.Text)
}

func cmdCosigVector() {
	seed := bytes.Repeat([]byte{0x5a}, 32)
	logSeed := bytes.Repeat([]byte{0xa5}, 32)
	s := newCosigSigner("witness.example/w1", seed, 1679315147)
	logSkey := "PRIVATE+KEY+example.com/log+" + fmt.Sprintf("%08x", logKeyHash("example.com/log", logSeed)) +
		"+" + b64.EncodeToString(append([]byte{1}, logSeed...))
	ls, err := note.NewSigner(logSkey)
	if err != nil {
		die(2, "%v", err)
	}
	body := "example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
	signed, err := note.Sign(&note.Note{Text: body}, ls)
	if err != nil {
		die(2, "%v", err)
	}
	cosigned, err := note.Sign(&note.Note{Text: body}, ls, s)
	if err != nil {
		die(2, "%v", err)
	}
	fmt.Printf("witness skey: PRIVATE+KEY+%s+%08x+%s\n", s.name, s.hash,
		b64.EncodeToString(append([]byte{cosigAlg}, seed...)))
	logPub := ed25519.NewKeyFromSeed(logSeed).Public().(ed25519.PublicKey)
	fmt.Printf("witness vkey: %s\nlog skey: %s\nlog vkey: example.com/log+%08x+%s\nsigned:\n%scosigned:\n%s",
		s.vkey(), logSkey, logKeyHash("example.com/log", logSeed),
		b64.EncodeToString(append([]byte{1}, logPub...)), signed, cosigned)
}

func logKeyHash(name string, seed []byte) uint32 {
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	h := sha256.Sum256(append(append([]byte(name+"\n"), 1), pub...))
	return binary.BigEndian.Uint32(h[:])
}

func cmdCosigOpen(logvkey, wvkey string, msg []byte) int {
	w, err := parseCosigVerifier(wvkey)
	if err != nil {
		die(2, "%v", err)
	}
	c, err := openCosigned(msg, mustVerifier(logvkey), w)
	if err != nil {
		fmt.Printf("rejected: %v\n", err)
		return 1
	}
	fmt.Printf("cosigned %d %d\n", c.size, w.last)
	return 0
}

func cmdCosign(skey string, msg []byte, ts uint64, out string) {
	s, err := parseCosigSigner(skey, ts)
	if err != nil {
		die(2, "%v", err)
	}
	// Split at the last blank line, as the signed-note format does; keep the log's lines.
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		die(2, "not a signed note")
	}
	body := msg[:i+1]
	sig, _ := s.Sign(body)
	var id [4]byte
	binary.BigEndian.PutUint32(id[:], s.hash)
	line := fmt.Sprintf("— %s %s\n", s.name, b64.EncodeToString(append(id[:], sig...)))
	writeFile(out, append(append([]byte{}, msg...), line...), 0o644)
}

// ---- the witness protocol ---------------------------------------------------------------

func proofHashes(path string) []string {
	if path == "-" {
		return nil
	}
	var f struct {
		Consistency []string `json:"consistency"`
	}
	if err := json.Unmarshal(readFile(path), &f); err != nil {
		die(2, "%s: %v", path, err)
	}
	return f.Consistency
}

func flipB64(s string) string {
	b, err := b64.DecodeString(s)
	if err != nil {
		die(2, "%v", err)
	}
	b[len(b)/2] ^= 1
	return b64.EncodeToString(b)
}

func addCheckpointBody(old int64, proof []string, cp []byte) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "old %d\n", old)
	for _, h := range proof {
		buf.WriteString(h + "\n")
	}
	buf.WriteString("\n")
	buf.Write(cp)
	return buf.Bytes()
}

func cmdWitnessAdd(u string, old int64, proofPath string, cpPath, logvkey, wvkey, mode string) int {
	proof := proofHashes(proofPath)
	cp := readFile(cpPath)
	switch mode {
	case "":
	case "bad-proof":
		if len(proof) == 0 {
			die(2, "bad-proof needs a proof")
		}
		proof[0] = flipB64(proof[0])
	case "bad-sig":
		// The log's signature is the first signature line: flip a bit of it.
		i := bytes.LastIndex(cp, []byte("\n\n"))
		lines := strings.Split(string(cp[i+2:]), "\n")
		f := strings.Fields(lines[0])
		lines[0] = f[0] + " " + f[1] + " " + flipB64(f[2])
		cp = append(append([]byte{}, cp[:i+2]...), strings.Join(lines, "\n")...)
	default:
		die(2, "unknown mode %q", mode)
	}
	client := http.DefaultClient
	if ca := os.Getenv("WITNESS_CA"); ca != "" {
		// An https URL: trust only this certificate authority (a test's self-signed one).
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(readFile(ca)) {
			die(2, "%s: no certificate", ca)
		}
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	resp, err := client.Post(u+"/add-checkpoint", "text/plain", bytes.NewReader(addCheckpointBody(old, proof, cp)))
	if err != nil {
		die(2, "%v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		die(2, "%v", err)
	}
	fmt.Printf("status %d\n", resp.StatusCode)
	switch resp.StatusCode {
	case http.StatusConflict:
		fmt.Printf("size %s\ncontent-type %s\n", strings.TrimSuffix(string(body), "\n"),
			resp.Header.Get("Content-Type"))
		if _, err := parseSize(strings.TrimSuffix(string(body), "\n")); err != nil || !bytes.HasSuffix(body, []byte("\n")) {
			fmt.Printf("409 body %q is not a size and a newline\n", body)
			return 1
		}
	case http.StatusOK:
		w, err := parseCosigVerifier(wvkey)
		if err != nil {
			die(2, "%v", err)
		}
		if !bytes.HasPrefix(body, []byte("— ")) || !bytes.HasSuffix(body, []byte("\n")) {
			fmt.Printf("200 body %q is not signature lines\n", body)
			return 1
		}
		c, err := openCosigned(append(append([]byte{}, cp...), body...), mustVerifier(logvkey), w)
		if err != nil {
			fmt.Printf("the cosignature does not verify: %v\n", err)
			return 1
		}
		if d := time.Since(time.Unix(int64(w.last), 0)); d < -time.Minute || d > time.Hour {
			fmt.Printf("the cosignature's time %d is off by %v\n", w.last, d)
			return 1
		}
		fmt.Printf("cosigned %d %d\nline %s", c.size, w.last, body)
	default:
		fmt.Printf("body %q\n", strings.TrimSpace(string(body)))
	}
	return 0
}

// rawRequest sends @req on a new connection and returns the status code of the answer (0 when
// the witness closed the connection without one).
func rawRequest(addr string, parts [][]byte, pause time.Duration) (int, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	for i, p := range parts {
		if i > 0 {
			time.Sleep(pause)
		}
		if _, err := c.Write(p); err != nil {
			break // the witness may close early; what it answered is what counts
		}
	}
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	line, err := io.ReadAll(io.LimitReader(c, 64))
	if len(line) == 0 {
		return 0, nil
	}
	f := strings.Fields(string(line))
	if len(f) < 2 {
		return 0, fmt.Errorf("answer %q", line)
	}
	code, err := strconv.Atoi(f[1])
	return code, err
}

func cmdWitnessAbuse(u string) int {
	pu, err := url.Parse(u)
	if err != nil {
		die(2, "%v", err)
	}
	addr, path := pu.Host, pu.Path+"/add-checkpoint"
	fails := 0
	check := func(what string, got int, err error, want ...int) {
		for _, w := range want {
			if err == nil && got == w {
				fmt.Printf("ok %s: %d\n", what, got)
				return
			}
		}
		fmt.Printf("FAIL %s: got %d (%v), want one of %v\n", what, got, err, want)
		fails++
	}
	post := func(body []byte) []byte {
		return []byte(fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", path, addr, len(body)))
	}
	// Oversized: a body far above any valid request is refused, not buffered.
	big := bytes.Repeat([]byte("A"), 1<<20)
	code, err := rawRequest(addr, [][]byte{post(big), big}, 0)
	check("1 MiB body", code, err, http.StatusRequestEntityTooLarge)
	// The same without a Content-Length: read, dropped, answered at its end.
	chunk := []byte(fmt.Sprintf("%x\r\n%s\r\n", 64<<10, bytes.Repeat([]byte("B"), 64<<10)))
	parts := [][]byte{[]byte(fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", path, addr))}
	for i := 0; i < 16; i++ {
		parts = append(parts, chunk)
	}
	code, err = rawRequest(addr, append(parts, []byte("0\r\n\r\n")), 0)
	check("1 MiB chunked body", code, err, http.StatusRequestEntityTooLarge)
	// Garbage, a wrong method, a wrong path, chunked garbage.
	code, err = rawRequest(addr, [][]byte{append(post([]byte("\x00\xffgarbage\n")), "\x00\xffgarbage\n"...)}, 0)
	check("garbage body", code, err, http.StatusBadRequest)
	code, err = rawRequest(addr, [][]byte{[]byte(fmt.Sprintf("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path))}, 0)
	check("GET", code, err, http.StatusMethodNotAllowed)
	code, err = rawRequest(addr, [][]byte{[]byte("POST /nothing/here HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")}, 0)
	check("unknown path", code, err, http.StatusNotFound)
	code, err = rawRequest(addr, [][]byte{[]byte("this is not HTTP\r\n\r\n")}, 0)
	check("not HTTP", code, err, http.StatusBadRequest, 0)
	// Slow: a client that announces a body and trickles it must not hold the witness; others
	// are served meanwhile, and the slow one is cut off.
	slowDone := make(chan error, 1)
	start := time.Now()
	go func() {
		body := []byte("old 0\n\nexample\n")
		parts := [][]byte{post(make([]byte, len(body)+200)), body}
		for i := 0; i < 200; i++ {
			parts = append(parts, []byte("x"))
		}
		_, err := rawRequest(addr, parts, 500*time.Millisecond)
		slowDone <- err
	}()
	time.Sleep(time.Second)
	code, err = rawRequest(addr, [][]byte{append(post([]byte("junk")), "junk"...)}, 0)
	check("a request while a slow client trickles", code, err, http.StatusBadRequest)
	<-slowDone
	if d := time.Since(start); d > 60*time.Second {
		fmt.Printf("FAIL the slow client was held for %v\n", d)
		fails++
	} else {
		fmt.Printf("ok the slow client was cut off after %v\n", d.Round(time.Second))
	}
	if fails > 0 {
		return 1
	}
	return 0
}

func witnessMain(a []string) bool {
	need := func(n int, more bool) {
		if len(a) < n+1 || (!more && len(a) != n+1) {
			die(2, "wrong arguments for %q (see the comment at the top of witness.go)", a[0])
		}
	}
	switch a[0] {
	case "cosig-vector":
		cmdCosigVector()
	case "cosig-open":
		need(3, false)
		os.Exit(cmdCosigOpen(string(readFile(a[1])), string(readFile(a[2])), readFile(a[3])))
	case "cosign":
		need(4, false)
		ts, err := strconv.ParseUint(a[3], 10, 64)
		if err != nil {
			die(2, "%v", err)
		}
		cmdCosign(string(readFile(a[1])), readFile(a[2]), ts, a[4])
	case "witness-add":
		need(6, true)
		old, err := strconv.ParseInt(a[2], 10, 64)
		if err != nil {
			die(2, "%v", err)
		}
		mode := ""
		if len(a) > 7 {
			mode = a[7]
		}
		os.Exit(cmdWitnessAdd(a[1], old, a[3], a[4], string(readFile(a[5])), string(readFile(a[6])), mode))
	case "witness-abuse":
		need(1, false)
		os.Exit(cmdWitnessAbuse(a[1]))
	default:
		return false
	}
	return true
}
