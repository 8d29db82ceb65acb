#!/bin/bash
# `history` (docs/review-format.md) on a real custodyd, asked over the raw socket: two clips,
# one bound to a case and put on hold, copied out by an operator, refused to a reviewer without
# an approval, dropped a second time (a duplicate); the other's original deleted behind the
# daemon's back; a scrub pass.  The first clip's history lists each of those events in order,
# its original re-hashed "ok"; the second's says "missing" and names the pass that found it so.
# Every event's proof is checked by custody-verify and by Go's x/mod tlog (independent code)
# against the verifier key, and its `extra` is the event's entry; a proof with one hash changed
# is refused by both.  The history is itself an access entry; a non-clip and an entry beyond
# the log are refused.
set -eu
: "${CUSTODYD:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}" "${CUSTODY_VERIFY:?}"
. "$(dirname "$0")/../lib.sh"
need ffmpeg python3
need_root "needs root and setpriv to make a reviewer (a refused copy-out)"
need setpriv
chmod 0755 "$tmp"
go_interop

add_group ct-hi-none ct-hi-review
add_user ct-hi-rev ct-hi-none ct-hi-review
mkdir -p "$tmp/dock" "$tmp/media" "$tmp/out" "$tmp/out-rev" "$tmp/ev"
chown ct-hi-rev "$tmp/out-rev"
daemon_conf <<EOF
[store]
path = $tmp/state/store
scrub_interval = 0

[zone dock]
path = $tmp/dock
settle = 1s

[rules]
device_clock = UTC

[ingest]
rescan_interval = 1s

[socket]
path = $tmp/custody.sock
reviewers = ct-hi-review
EOF
daemon_start
chmod 0777 "$sock"

# ask JSON: one request on the raw socket, the reply line on stdout.
ask() {
	python3 - "$sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(1 << 20)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode())
PY
}
st_true() { C status --json | python3 -c "import json,sys; s=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
idle() { st_true 's["pipeline"]["in_flight"] == 0 and s["pipeline"]["queued"] == 0'; }

for i in 0 1; do
	clip "$tmp/media/clip$i.mp4" 2 $((440 + 110 * i))
	cp "$tmp/media/clip$i.mp4" "$tmp/dock/clip$i.tmp"
	mv "$tmp/dock/clip$i.tmp" "$tmp/dock/clip$i.mp4"
	wait_for 30 st_true "s['size'] > $i" || { bad "clip$i not ingested: $(tail -5 "$dlog")"; finish; }
done
C log --type ingest --json >"$tmp/ingest.json"
e0=$(jget "$tmp/ingest.json" '.entries[entry.name=clip0.mp4][].index')
e1=$(jget "$tmp/ingest.json" '.entries[entry.name=clip1.mp4][].index')
stored1=$(jget "$tmp/ingest.json" '.entries[entry.name=clip1.mp4][].entry.stored')

case_note=$(C annotate case --case H-1 --entries "$e0" | grep -o '[0-9]*$')
hold_note=$(C annotate hold --entries "$e0" --reason "an appeal is pending" | grep -o '[0-9]*$')
C copy-out "$e0" --to "$tmp/out/c0.mp4" >/dev/null || bad "operator copy-out failed"
if as ct-hi-rev "$CUSTODYCTL" --socket "$sock" copy-out "$e0" --to "$tmp/out-rev/c0.mp4" \
	>/dev/null 2>"$tmp/refused.err"; then
	bad "a reviewer without an approval copied"
elif ! grep -q forbidden "$tmp/refused.err"; then
	bad "refusal: $(cat "$tmp/refused.err")"
fi
# The same bytes again: a duplicate of e0.
size=$(C status --json | jget - .size)
cp "$tmp/media/clip0.mp4" "$tmp/dock/again.tmp"
mv "$tmp/dock/again.tmp" "$tmp/dock/again.mp4"
wait_for 30 st_true "s['size'] > $size and s['pipeline']['duplicates'] >= 1" ||
	bad "no duplicate logged: $(tail -5 "$dlog")"
# clip1's original goes missing; a pass finds it so.
chmod u+w "$tmp/state/store/$stored1" 2>/dev/null || true
rm -f "$tmp/state/store/$stored1"
C scrub --now >/dev/null || bad "scrub --now"
wait_for 60 st_true 's["scrub"]["last"] is not None and s["scrub"]["state"] == "idle"' ||
	bad "the scrub pass did not finish"
wait_for 20 idle || true
# A checkpoint covering everything so far (checkpoint_interval = 1s).
size=$(C status --json | jget - .size)
wait_for 20 st_true "s['checkpoint'] is not None and s['checkpoint']['size'] >= $size" ||
	bad "no checkpoint covers $size entries"

ask "{\"op\":\"history\",\"entry\":$e0,\"id\":\"h0\"}" >"$tmp/h0.json"
ask "{\"op\":\"history\",\"entry\":$e1}" >"$tmp/h1.json"

# The events, each proof to a file with its entry beside it.
python3 - "$tmp/h0.json" "$tmp/h1.json" "$e0" "$e1" "$case_note" "$hold_note" "$tmp/ev" \
	<<'PY' && ok "history answers: events in order, kinds, integrity, cases, hold" ||
import base64, json, sys
h0, h1 = (json.load(open(p)) for p in sys.argv[1:3])
e0, e1, case_note, hold_note = map(int, sys.argv[3:7])
out = sys.argv[7]
for h in (h0, h1):
    assert h["ok"] is True, h
    idx = [e["index"] for e in h["events"]]
    assert idx == sorted(set(idx)), idx
    assert h["checkpoint_size"] and h["checkpoint"].startswith("test.custody/log\n"), h
    assert h["events_truncated"] is False and "(uid " in h["requested_by"], h
assert h0["id"] == "h0" and h0["entry"] == e0 and h0["clip"]["name"] == "clip0.mp4", h0
assert h0["integrity"] == "ok" and h0["held"] is True and h0["purged"] is False, h0
assert h0["cases"] == ["H-1"] and h0["storage_now"], h0
ev = h0["events"]
kinds = [(e["kind"], e.get("result")) for e in ev]
assert ev[0]["index"] == e0 and kinds[0] == ("arrival", None), kinds
notes = [e["index"] for e in ev if e["kind"] == "annotation"]
assert notes == [case_note, hold_note], (notes, case_note, hold_note)
acc = [e["entry"] for e in ev if e["kind"] == "access"]
assert any(a["op"] == "copy-out" and a["result"] == "copied" and a["allowed"] for a in acc), acc
assert any(a["op"] == "copy-out" and not a["allowed"] for a in acc), acc
assert h0["accesses_total"] >= len(acc) >= 2, (h0["accesses_total"], acc)
dup = [e for e in ev if e["kind"] == "duplicate"]
assert len(dup) == 1 and dup[0]["entry"]["of"] == e0 and dup[0]["entry"]["name"] == "again.mp4", dup
assert ("scrub", "ok") in kinds and not any(k == "purge" for k, _ in kinds), kinds
assert h1["integrity"] == "missing" and h1["integrity_error"] == "not in the store", h1
k1 = [(e["kind"], e.get("result")) for e in h1["events"]]
assert ("scrub", "missing") in k1 and ("scrub", "ok") not in k1, k1
n = 0
for h, tag in ((h0, "a"), (h1, "b")):
    for e in h["events"]:
        if e["index"] >= h["checkpoint_size"]:
            assert e["proof"] is None, e
            continue
        lines = e["proof"].split("\n")
        assert lines[0] == "c2sp.org/tlog-proof@v1" and lines[2] == "index %d" % e["index"], lines[:3]
        extra = base64.b64decode(lines[1].split(" ", 1)[1])
        assert json.loads(extra) == e["entry"], (extra, e["entry"])
        open("%s/%s%d.proof" % (out, tag, e["index"]), "w").write(e["proof"])
        n += 1
assert n >= 8, n
PY
	bad "history answers: $(head -c 2000 "$tmp/h0.json")"

n=0
for f in "$tmp"/ev/*.proof; do
	"$CUSTODY_VERIFY" proof "$f" --key "$tmp/log.pub" >/dev/null 2>"$tmp/v.err" ||
		bad "custody-verify rejects $(basename "$f"): $(cat "$tmp/v.err")"
	"$interop" verify-proof "$tmp/log.pub" "$f" >"$tmp/go.out" ||
		bad "Go rejects $(basename "$f"): $(cat "$tmp/go.out")"
	n=$((n + 1))
done
ok "custody-verify and Go's x/mod tlog accept all $n proofs of the two histories"

# One hash of a proof changed: both refuse it.
f=$(ls "$tmp"/ev/a*.proof | head -1)
python3 - "$f" "$tmp/bad.proof" <<'PY'
import base64, sys
lines = open(sys.argv[1]).read().split("\n")
h = bytearray(base64.b64decode(lines[3]))
h[0] ^= 1
lines[3] = base64.b64encode(bytes(h)).decode()
open(sys.argv[2], "w").write("\n".join(lines))
PY
if ! "$CUSTODY_VERIFY" proof "$tmp/bad.proof" --key "$tmp/log.pub" >/dev/null 2>&1 &&
	! "$interop" verify-proof "$tmp/log.pub" "$tmp/bad.proof" >/dev/null; then
	ok "a history proof with one hash changed is refused by both"
else
	bad "a tampered history proof was accepted"
fi

# The history is on record; what is not a clip's is refused.
C log --type access --json --limit 20 >"$tmp/acc.json"
python3 - "$tmp/acc.json" "$e0" "$e1" <<'PY' && ok "each history is an access entry naming its clip" ||
import json, sys
e0, e1 = map(int, sys.argv[2:])
h = [e["entry"] for e in json.load(open(sys.argv[1]))["entries"] if e["entry"]["op"] == "history"]
got = sorted((a["target"], a.get("entries"), a["allowed"]) for a in h)
assert got == sorted([(e0, [e0], True), (e1, [e1], True)]), got
PY
	bad "history access entries: $(cat "$tmp/acc.json" | head -c 1500)"
ask "{\"op\":\"history\",\"entry\":$case_note}" | jget - .error.code | grep -qx bad_request &&
	ok "an annotation's history: bad_request" || bad "an annotation's history was not refused"
ask '{"op":"history","entry":999999}' | jget - .error.code | grep -qx not_found &&
	ok "an entry beyond the log: not_found" || bad "history beyond the log was not not_found"

daemon_stop || bad "custodyd exit status $daemon_code"
finish
