// A witness written here from C2SP tlog-witness v1 and tlog-cosignature alone, for custodyd's
// witness client (daemon/witness.c) to talk to, and witnesses that misbehave on purpose, so
// that a test can show that none of them stalls ingest (docs/witness.md).
//
//	interop witness-serve ADDR WSKEY LOGVKEY MODE
//	        listen on ADDR (host:port) and answer POST /add-checkpoint as MODE says:
//	          good      a correct witness: checks the log's signature, `old` against the
//	                    size it cosigned last (409 text/x.tlog.size otherwise) and the
//	                    consistency proof with x/mod's tlog.CheckTree, then cosigns with WSKEY
//	          slow      as good, but only after 60 s (longer than any client's patience)
//	          garbage   200 with bytes that are no signature line
//	          conflict  409 with a size one above whatever `old` said, every time
//	          wrongkey  200 with a correct cosignature by another key of the same name
//	        It prints one line per request on stdout ("MODE old=N size=M -> STATUS").
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type fakeWitness struct {
	mode   string
	skey   string
	logv   note.Verifier
	mu     sync.Mutex
	size   int64 // the size it cosigned last, 0: none
	root   tlog.Hash
	logOut *bufio.Writer
}

func (f *fakeWitness) say(format string, args ...interface{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprintf(f.logOut, format+"\n", args...)
	f.logOut.Flush()
}

// parseAddBody reads "old N", the proof lines, a blank line and the signed checkpoint.
func parseAddBody(body []byte) (old int64, proof tlog.TreeProof, cp []byte, err error) {
	i := bytes.Index(body, []byte("\n\n"))
	if i < 0 {
		return 0, nil, nil, fmt.Errorf("no blank line")
	}
	lines := strings.Split(string(body[:i]), "\n")
	if !strings.HasPrefix(lines[0], "old ") {
		return 0, nil, nil, fmt.Errorf("no old line")
	}
	if old, err = strconv.ParseInt(lines[0][4:], 10, 64); err != nil {
		return 0, nil, nil, err
	}
	for _, l := range lines[1:] {
		h, err := decodeHash(l)
		if err != nil {
			return 0, nil, nil, err
		}
		proof = append(proof, h)
	}
	return old, proof, body[i+2:], nil
}

func (f *fakeWitness) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	old, proof, msg, err := parseAddBody(body)
	if r.Method != http.MethodPost || r.URL.Path != "/add-checkpoint" || err != nil {
		f.say("%s malformed -> 400", f.mode)
		http.Error(w, "malformed", http.StatusBadRequest)
		return
	}
	n, err := note.Open(msg, note.VerifierList(f.logv))
	if err != nil {
		f.say("%s bad signature -> 403", f.mode)
		http.Error(w, "log signature", http.StatusForbidden)
		return
	}
	c, err := parseBody(n.Text)
	if err != nil {
		http.Error(w, "checkpoint", http.StatusBadRequest)
		return
	}
	size := c.size
	switch f.mode {
	case "garbage":
		f.say("%s old=%d size=%d -> 200 garbage", f.mode, old, size)
		w.Write([]byte("\xe2\x80\x94 nonsense !!!!\nmore nonsense\n"))
		return
	case "conflict":
		f.say("%s old=%d size=%d -> 409", f.mode, old, size)
		w.Header().Set("Content-Type", "text/x.tlog.size")
		w.WriteHeader(http.StatusConflict)
		fmt.Fprintf(w, "%d\n", old+1)
		return
	case "slow":
		time.Sleep(60 * time.Second)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if old != f.size {
		fmt.Fprintf(f.logOut, "%s old=%d size=%d -> 409 (has %d)\n", f.mode, old, size, f.size)
		f.logOut.Flush()
		w.Header().Set("Content-Type", "text/x.tlog.size")
		w.WriteHeader(http.StatusConflict)
		fmt.Fprintf(w, "%d\n", f.size)
		return
	}
	if size < old || (old > 0 && tlog.CheckTree(proof, size, c.root, old, f.root) != nil) ||
		(old == size && c.root != f.root && old > 0) {
		fmt.Fprintf(f.logOut, "%s old=%d size=%d -> 422\n", f.mode, old, size)
		f.logOut.Flush()
		http.Error(w, "inconsistent", http.StatusUnprocessableEntity)
		return
	}
	skey := f.skey
	if f.mode == "wrongkey" {
		// Same name, another key: the line parses but must not verify for the client.
		seed := make([]byte, 32)
		rand.Read(seed)
		name := strings.SplitN(strings.TrimPrefix(strings.TrimSpace(f.skey), "PRIVATE+KEY+"), "+", 2)[0]
		s := newCosigSigner(name, seed, uint64(time.Now().Unix()))
		signed, err := note.Sign(&note.Note{Text: n.Text}, s)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(f.logOut, "%s old=%d size=%d -> 200 (another key)\n", f.mode, old, size)
		f.logOut.Flush()
		w.Write(signed[len(n.Text)+1:])
		return
	}
	s, err := parseCosigSigner(skey, uint64(time.Now().Unix()))
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	signed, err := note.Sign(&note.Note{Text: n.Text}, s)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	f.size, f.root = size, c.root
	fmt.Fprintf(f.logOut, "%s old=%d size=%d -> 200\n", f.mode, old, size)
	f.logOut.Flush()
	w.Write(signed[len(n.Text)+1:]) // the cosignature line alone
}

func cmdWitnessServe(addr, skeyFile, logvkeyFile, mode string) int {
	logv, err := parseVerifier(strings.TrimSpace(string(readFile(logvkeyFile))))
	if err != nil {
		die(2, "%v", err)
	}
	f := &fakeWitness{mode: mode, skey: string(readFile(skeyFile)), logv: logv,
		logOut: bufio.NewWriter(os.Stdout)}
	switch mode {
	case "good", "slow", "garbage", "conflict", "wrongkey":
	default:
		die(2, "unknown mode %q", mode)
	}
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(f.serve)}
	if err := srv.ListenAndServe(); err != nil {
		die(2, "%v", err)
	}
	return 0
}

func fakeWitnessMain(a []string) bool {
	if a[0] != "witness-serve" {
		return false
	}
	if len(a) != 5 {
		die(2, "usage: interop witness-serve ADDR WSKEY LOGVKEY MODE")
	}
	os.Exit(cmdWitnessServe(a[1], a[2], a[3], a[4]))
	return true
}
