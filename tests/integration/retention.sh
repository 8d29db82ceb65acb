#!/bin/bash
# Retention and purge (issue 5 item 8) on a real custodyd: clips recorded in 2020 in a zone
# that keeps clips for 1d are past their period and listed; one bound to a case and one on
# hold are listed as kept and their purge is refused, as is a purge by a reviewer and one of a
# clip still within its period; the purge of a free clip is logged and removes its original,
# which copy-out then reports as purged, while verify and custody-verify still find its entry;
# a purge logged before a crash that kept the file is finished by asking again, without a
# second entry.
set -eu
: "${CUSTODYD:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}" "${CUSTODY_VERIFY:?}"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "SKIP: needs root and setpriv to make users and run custodyctl as them"
	exit 77
fi
tmp=$(mktemp -d)
chmod 0755 "$tmp"
daemon=
users=()
groups=(ct-rt-none ct-rt-review)
cleanup() {
	[ -z "$daemon" ] || kill -9 "$daemon" 2>/dev/null || true
	for u in "${users[@]}"; do userdel "$u" 2>/dev/null || true; done
	for g in "${groups[@]}"; do groupdel "$g" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# Other tests may be adding users at the same moment: /etc/passwd is then locked for a while.
retry() { for _ in 1 2 3 4 5 6 7 8 9 10; do "$@" && return 0; sleep 0.5; done; "$@"; }
for g in "${groups[@]}"; do retry groupadd -f "$g"; done
userdel ct-rt-rev 2>/dev/null || true
users+=(ct-rt-rev)
retry useradd -M -N -g ct-rt-none -G ct-rt-review ct-rt-rev
as() { local u=$1; shift; setpriv --reuid "$u" --regid ct-rt-none --init-groups "$@"; }

mkdir -p "$tmp/old" "$tmp/state" "$tmp/media"
"$CUSTODY_LOG" keygen test.custody/log --out "$tmp/log.key" >"$tmp/log.pub"
cat >"$tmp/custody.conf" <<EOF
[log]
origin = test.custody/log
key = $tmp/log.key
verifier_key = $tmp/log.pub
state = $tmp/state
checkpoint_interval = 1s

[store]
path = $tmp/state/store

[zone old]
path = $tmp/old
settle = 1s
retention = 1d

[rules]
device_clock = UTC

[ingest]
rescan_interval = 1s

[socket]
path = $tmp/custody.sock
reviewers = ct-rt-review

[retention]
default = 183d
EOF

C() { "$CUSTODYCTL" --socket "$tmp/custody.sock" --key "$tmp/log.pub" "$@"; }
U() { local u=$1; shift; as "$u" "$CUSTODYCTL" --socket "$tmp/custody.sock" "$@"; }
start_daemon() {
	"$CUSTODYD" --config "$tmp/custody.conf" 2>>"$tmp/daemon.log" &
	daemon=$!
	for _ in $(seq 1 100); do
		[ -S "$tmp/custody.sock" ] && C status >/dev/null 2>&1 && break
		sleep 0.1
	done
	chmod 0777 "$tmp/custody.sock"
}
stop_daemon() {
	kill -TERM "$daemon"
	wait "$daemon" || bad "custodyd exit status $?"
	daemon=
}
size() { C status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])'; }
start_daemon

# A, B, C, E recorded in 2020 (past a 1d period); D with no recording time: its mtime (now)
# is taken as its end, so it is within the period.
n=0
for c in A B C D E; do
	meta=()
	[ $c = D ] || meta=(-metadata "creation_time=2020-03-0$((n + 1))T08:00:00Z")
	ffmpeg -v error -f lavfi -i "testsrc=size=160x120:rate=10" -f lavfi -i "sine=frequency=$((300 + 100 * n))" \
		-t 2 -c:v libx264 -preset ultrafast -c:a aac -shortest "${meta[@]}" "$tmp/media/$c.mp4"
	cp "$tmp/media/$c.mp4" "$tmp/old/$c.tmp" && mv "$tmp/old/$c.tmp" "$tmp/old/$c.mp4"
	n=$((n + 1))
	for _ in $(seq 1 150); do [ "$(size)" -ge $n ] && break; sleep 0.1; done
done
[ "$(size)" = 5 ] || { bad "five clips gave $(size) entries: $(tail -5 "$tmp/daemon.log")"; exit 1; }
C log --type ingest --json >"$tmp/ingest.json"
idx() { python3 -c '
import json,sys
for e in json.load(open(sys.argv[1]))["entries"]:
    if e["entry"]["name"] == sys.argv[2] + ".mp4": print(e["index"])' "$tmp/ingest.json" "$1"; }
stored() { python3 -c '
import json,sys
for e in json.load(open(sys.argv[1]))["entries"]:
    if e["entry"]["name"] == sys.argv[2] + ".mp4": print(e["entry"]["stored"])' "$tmp/ingest.json" "$1"; }
A=$(idx A) B=$(idx B) Cc=$(idx C) D=$(idx D) E=$(idx E)

C annotate case --case C-2020-7 --entries "$B" >/dev/null && ok "clip B bound to a case"
U ct-rt-rev annotate hold --entries "$Cc" --reason "pending appeal" >/dev/null \
	&& ok "a reviewer puts clip C on hold" || bad "hold refused: $(U ct-rt-rev annotate hold --entries "$Cc" --reason x 2>&1)"

# retention lists them: due A and E, kept B (case) and C (hold), D within its period.
retention_is() { # retention_is WHAT DUE KEPT PURGED
	C retention --json >"$tmp/ret.json"
	if python3 - "$tmp/ret.json" "$2" "$3" "$4" "$B" "$Cc" <<'PY'; then ok "$1"; else bad "$1: $(cat "$tmp/ret.json")"; fi
import json, sys
r = json.load(open(sys.argv[1]))
due = sorted(c["index"] for c in r["due"])
kept = {c["index"]: c["kept_by"] for c in r["kept"]}
want_due = sorted(int(x) for x in sys.argv[2].split()) if sys.argv[2] else []
want_kept = sorted(int(x) for x in sys.argv[3].split()) if sys.argv[3] else []
B, C = int(sys.argv[5]), int(sys.argv[6])
assert due == want_due, (due, want_due)
assert sorted(kept) == want_kept, (sorted(kept), want_kept)
if B in kept:
    assert kept[B][0]["kind"] == "case" and kept[B][0]["case"] == "C-2020-7", kept[B]
if C in kept:
    assert kept[C][0]["kind"] == "hold" and kept[C][0]["reason"] == "pending appeal", kept[C]
for c in r["due"] + r["kept"]:
    assert c["retention_s"] == 86400 and c["retention_from"] == "zone", c
    assert c["due_at"].startswith("2020-03-0"), c
assert r["counts"]["within_period"] == 1, r["counts"]
assert r["counts"]["purged"] == int(sys.argv[4]), r["counts"]
PY
}
retention_is "retention: A and E due, B kept (case), C kept (hold), D within its period" \
	"$A $E" "$B $Cc" 0
C retention >"$tmp/ret.txt" && grep -q "bound to case 'C-2020-7'" "$tmp/ret.txt" \
	&& grep -q "on hold" "$tmp/ret.txt" && ok "retention for people says why each is kept" \
	|| bad "retention text: $(cat "$tmp/ret.txt")"

refused() { # refused WHAT PATTERN custodyctl-args...
	local what=$1 pattern=$2 code=0
	shift 2
	"$@" >"$tmp/p.out" 2>"$tmp/p.err" || code=$?
	if [ $code = 1 ] && grep -q forbidden "$tmp/p.err" && grep -q "$pattern" "$tmp/p.err"; then
		ok "$what: refused"
	else
		bad "$what: exit $code, $(cat "$tmp/p.out" "$tmp/p.err")"
	fi
}
refused "purge of a clip bound to a case" "bound to case 'C-2020-7'" C purge "$B"
refused "purge of a clip on hold" "on hold" C purge "$Cc"
refused "purge of a clip within its period" "within its retention period" C purge "$D"
refused "purge by a reviewer" "needs one of: operator" U ct-rt-rev purge "$A"
for c in B C D; do
	f=$(stored "$c")
	[ -f "$tmp/state/store/$f" ] || bad "the original of $c is gone after a refused purge"
done

# The purge of a free clip: logged, then the original removed.
fa=$(stored A)
if C purge "$A" --reason "retention period over" >"$tmp/p.out" 2>&1 && [ ! -e "$tmp/state/store/$fa" ]; then
	ok "purge of A: $(cat "$tmp/p.out")"
else
	bad "purge of A: $(cat "$tmp/p.out"); $(ls -l "$tmp/state/store/$fa" 2>&1)"
fi
C log --type purge --json >"$tmp/purge.json"
python3 - "$tmp/purge.json" "$A" "$tmp/media/A.mp4" "$fa" <<'PY' && ok "the purge entry: entry, sha256, stored, by, at, reason" || bad "purge entry: $(cat "$tmp/purge.json")"
import hashlib, json, sys
es = [e["entry"] for e in json.load(open(sys.argv[1]))["entries"]]
assert len(es) == 1, es
e = es[0]
assert e["v"] == 1 and e["type"] == "purge" and e["entry"] == int(sys.argv[2]), e
assert e["sha256"] == hashlib.sha256(open(sys.argv[3], "rb").read()).hexdigest(), e
assert e["stored"] == sys.argv[4] and e["by"].startswith("root(uid 0)"), e
assert e["reason"] == "retention period over" and e["at"].endswith("Z"), e
PY
code=0; C purge "$A" >"$tmp/p.out" 2>"$tmp/p.err" || code=$?
[ $code = 1 ] && grep -q "already purged" "$tmp/p.err" && ok "purge of A again: not_found, already purged" \
	|| bad "purge again: exit $code, $(cat "$tmp/p.out" "$tmp/p.err")"
[ "$(C log --type purge --json | grep -o '"type":"purge"' | wc -l)" = 1 ] \
	&& ok "asking again made no second purge entry" || bad "a second purge entry"
code=0; C copy-out "$A" --to "$tmp/A-copy.mp4" >"$tmp/p.out" 2>"$tmp/p.err" || code=$?
[ $code = 1 ] && grep -q "was purged" "$tmp/p.err" && ok "copy-out of a purged clip: $(cut -c1-90 "$tmp/p.err")" \
	|| bad "copy-out purged: exit $code, $(cat "$tmp/p.err")"

# The log keeps the fingerprint: a copy kept elsewhere still verifies against its entry.
sleep 1.5
code=0; C verify "$tmp/media/A.mp4" >"$tmp/v.out" 2>&1 || code=$?
[ $code = 0 ] && head -1 "$tmp/v.out" | grep -q '^exact' && grep -q verified "$tmp/v.out" \
	&& ok "custodyctl verify of the purged clip: exact, verified" || bad "verify: exit $code, $(cat "$tmp/v.out")"
C proof "$A" --out "$tmp/A.tlog-proof" >/dev/null 2>&1
"$CUSTODY_VERIFY" proof "$tmp/A.tlog-proof" --key "$tmp/log.pub" --media "$tmp/media/A.mp4" >/dev/null \
	&& ok "custody-verify --media of the purged clip against its proof" || bad "custody-verify of the purged clip"
retention_is "retention after the purge: A no longer listed" "$E" "$B $Cc" 1

# A purge logged by a daemon that died before removing the file: the entry is in the log
# (written here offline, as the writer would have), the file still in the store.
fe=$(stored E)
stop_daemon
python3 -c '
import json, sys
print(json.dumps({"v": 1, "type": "purge", "entry": int(sys.argv[1]), "sha256": sys.argv[2],
                  "stored": sys.argv[3], "by": "root(uid 0)", "at": "2026-01-01T00:00:00Z",
                  "reason": None}))' "$E" "$(basename "$fe")" "$fe" |
	"$CUSTODY_LOG" --db "$tmp/state/log" append >/dev/null || bad "custody-log append of a purge"
start_daemon
[ -f "$tmp/state/store/$fe" ] && ok "E: purge logged, original still in the store (the crash)"
retention_is "retention: E counts as purged" "" "$B $Cc" 2
if C purge "$E" >"$tmp/p.out" 2>&1 && grep -q "purged before" "$tmp/p.out" && [ ! -e "$tmp/state/store/$fe" ]; then
	ok "purge of E asked again finishes the removal: $(cat "$tmp/p.out")"
else
	bad "finishing E: $(cat "$tmp/p.out"); $(ls -l "$tmp/state/store/$fe" 2>&1)"
fi
[ "$(C log --type purge --json | grep -o '"type":"purge"' | wc -l)" = 2 ] \
	&& ok "finishing made no new purge entry" || bad "purge entries: $(C log --type purge --json)"

stop_daemon
if [ $fails -ne 0 ]; then
	echo "$fails checks failed; daemon log:" >&2
	tail -30 "$tmp/daemon.log" >&2
	exit 1
fi
echo "all checks passed"
