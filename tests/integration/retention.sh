#!/bin/bash
# Retention and purge on a real custodyd.  Zone "short" keeps clips for 2s,
# counted from the later of the recording end and the upload; zone "late" keeps them for 1d.
#   - A, B, C, E (recorded minutes ago, stored on time) in "short" are past their period a few
#     seconds after their upload: A and E are due, B is bound to a case and C is on hold, so
#     both are listed as kept and their purge is refused, as is a purge by a reviewer;
#   - D, recorded in 2020 but uploaded now to "late", is within its period (a late upload gets
#     its whole period from its upload), and its purge is refused;
#   - F, recorded in 2020 and uploaded now to "short", is past its period but stored late with
#     nothing explaining it: kept for its open item, its purge refused, until a late_storage
#     annotation explains it;
#   - the purge of A is logged and removes its original, which copy-out then reports as purged,
#     while verify and custody-verify still find its entry;
#   - A's bytes dropped again are a new arrival: a new ingest entry, the original back in the
#     store, with a retention period of its own; `purge A` asked again leaves them alone, and
#     the purge of the new entry removes them;
#   - a purge logged before a crash that kept the file is finished by asking again, without a
#     second entry.
set -eu
: "${CUSTODYD:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}" "${CUSTODY_VERIFY:?}"
. "$(dirname "$0")/../lib.sh"
need_root "needs root and setpriv to make users and run custodyctl as them"
need setpriv
chmod 0755 "$tmp"

# Other tests may be adding users at the same moment: add_user retries.
add_group ct-rt-none ct-rt-review
add_user ct-rt-rev ct-rt-none ct-rt-review

mkdir -p "$tmp/short" "$tmp/late" "$tmp/media"
daemon_conf <<EOF
[store]
path = $tmp/state/store

[zone short]
path = $tmp/short
settle = 1s
retention = 2s

[zone late]
path = $tmp/late
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

U() { local u=$1; shift; as "$u" "$CUSTODYCTL" --socket "$sock" "$@"; }
start_daemon() {
	daemon_start
	chmod 0777 "$sock"
}
stop_daemon() { daemon_stop || bad "custodyd exit status $daemon_code"; }
size_at_least() { [ "$(log_size)" -ge "$1" ]; }
npurges() { C log --type purge --json | grep -o '"type":"purge"' | wc -l; }
start_daemon

# A B C E: recorded minutes ago (stored on time); D and F: recorded in 2020 (stored late).
n=0
for c in A B C D E F; do
	when=$(date -u -d "-$((20 - n)) min" +%Y-%m-%dT%H:%M:%SZ)
	zone=short
	case $c in
	D) when=2020-03-04T08:00:00Z zone=late ;;
	F) when=2020-03-06T08:00:00Z ;;
	esac
	clip_opts= clip "$tmp/media/$c.mp4" 2 $((300 + 100 * n)) "" "$when"
	cp "$tmp/media/$c.mp4" "$tmp/$zone/$c.tmp" && mv "$tmp/$zone/$c.tmp" "$tmp/$zone/$c.mp4"
	n=$((n + 1))
	wait_for 15 size_at_least $n || true
done
[ "$(log_size)" = 6 ] || { bad "six clips gave $(log_size) entries: $(tail -5 "$dlog")"; exit 1; }
C log --type ingest --json >"$tmp/ingest.json"
# idx NAME, stored NAME: the index and the stored name of the ingest entry of NAME.mp4
idx() { jget "$tmp/ingest.json" ".entries[entry.name=$1.mp4][0].index" || true; }
stored() { jget "$tmp/ingest.json" ".entries[entry.name=$1.mp4][0].entry.stored" || true; }
A=$(idx A) B=$(idx B) Cc=$(idx C) D=$(idx D) E=$(idx E) F=$(idx F)

C annotate case --case C-2020-7 --entries "$B" >/dev/null && ok "clip B bound to a case"
U ct-rt-rev annotate hold --entries "$Cc" --reason "pending appeal" >/dev/null \
	&& ok "a reviewer puts clip C on hold" ||
	bad "hold refused: $(U ct-rt-rev annotate hold --entries "$Cc" --reason x 2>&1)"
sleep 3 # the 2s period of the clips in "short" is over

# retention_is WHAT DUE KEPT PURGED WITHIN: the listing's due and kept clips, and counts.
retention_is() {
	C retention --json >"$tmp/ret.json"
	python3 - "$tmp/ret.json" "$2" "$3" "$4" "$5" "$B" "$Cc" "$F" <<'PY' &&
import json, sys
r = json.load(open(sys.argv[1]))
due = sorted(c["index"] for c in r["due"])
kept = {c["index"]: c["kept_by"] for c in r["kept"]}
want_due = sorted(int(x) for x in sys.argv[2].split()) if sys.argv[2] else []
want_kept = sorted(int(x) for x in sys.argv[3].split()) if sys.argv[3] else []
B, C, F = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
assert due == want_due, (due, want_due)
assert sorted(kept) == want_kept, (sorted(kept), want_kept)
if B in kept:
    assert kept[B][0]["kind"] == "case" and kept[B][0]["case"] == "C-2020-7", kept[B]
if C in kept:
    assert kept[C][0]["kind"] == "hold" and kept[C][0]["reason"] == "pending appeal", kept[C]
if F in kept:
    assert kept[F] == [{"kind": "open", "item": "late", "close_with":
                        "custodyctl annotate late_storage --entry %d --reason TEXT" % F}], kept[F]
for c in r["due"] + r["kept"]:
    assert c["retention_s"] == 2 and c["retention_from"] == "zone", c
    # the period counts from the upload, not from the recording (F was recorded in 2020)
    assert c["due_at"] > c["ingested_at"] and c["due_at"][:4] != "2020", c
assert r["counts"]["within_period"] == int(sys.argv[5]), r["counts"]
assert r["counts"]["purged"] == int(sys.argv[4]), r["counts"]
PY
		ok "$1" || bad "$1: $(cat "$tmp/ret.json")"
}
retention_is "retention: A and E due; B kept (case), C kept (hold), F kept (open: late); D, \
uploaded late, within its period" "$A $E" "$B $Cc $F" 0 1
C retention >"$tmp/ret.txt" && grep -q "bound to case 'C-2020-7'" "$tmp/ret.txt" \
	&& grep -q "on hold" "$tmp/ret.txt" && grep -q "open item late" "$tmp/ret.txt" \
	&& ok "retention for people says why each is kept" \
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
refused "purge of an old recording uploaded late, within its period from the upload" \
	"within its retention period until $(date -u +%Y)" C purge "$D"
refused "purge of a clip with an open item (stored late, not explained)" \
	"open item (late).*annotate late_storage --entry $F" C purge "$F"
refused "purge by a reviewer" "needs one of: operator" U ct-rt-rev purge "$A"
for c in B C D F; do
	f=$(stored "$c")
	[ -f "$tmp/state/store/$f" ] || bad "the original of $c is gone after a refused purge"
done

# The purge of a free clip: logged, then the original removed.
fa=$(stored A)
if C purge "$A" --reason "retention period over" >"$tmp/p.out" 2>&1 &&
	[ ! -e "$tmp/state/store/$fa" ]; then
	ok "purge of A: $(cat "$tmp/p.out")"
else
	bad "purge of A: $(cat "$tmp/p.out"); $(ls -l "$tmp/state/store/$fa" 2>&1)"
fi
C log --type purge --json >"$tmp/purge.json"
python3 - "$tmp/purge.json" "$A" "$tmp/media/A.mp4" "$fa" <<'PY' &&
import hashlib, json, sys
es = [e["entry"] for e in json.load(open(sys.argv[1]))["entries"]]
assert len(es) == 1, es
e = es[0]
assert e["v"] == 1 and e["type"] == "purge" and e["entry"] == int(sys.argv[2]), e
assert e["sha256"] == hashlib.sha256(open(sys.argv[3], "rb").read()).hexdigest(), e
assert e["stored"] == sys.argv[4] and e["by"].startswith("root(uid 0)"), e
assert e["reason"] == "retention period over" and e["at"].endswith("Z"), e
assert e["removed"] is True and "kept_for" not in e, e
PY
	ok "the purge entry: entry, sha256, stored, by, at, reason, removed" ||
	bad "purge entry: $(cat "$tmp/purge.json")"
code=0; C purge "$A" >"$tmp/p.out" 2>"$tmp/p.err" || code=$?
[ $code = 1 ] && grep -q "already purged" "$tmp/p.err" &&
	ok "purge of A again: not_found, already purged" ||
	bad "purge again: exit $code, $(cat "$tmp/p.out" "$tmp/p.err")"
[ "$(npurges)" = 1 ] && ok "asking again made no second purge entry" || bad "a second purge entry"
code=0; C copy-out "$A" --to "$tmp/A-copy.mp4" >"$tmp/p.out" 2>"$tmp/p.err" || code=$?
[ $code = 1 ] && grep -q "was purged" "$tmp/p.err" &&
	ok "copy-out of a purged clip: $(cut -c1-90 "$tmp/p.err")" ||
	bad "copy-out purged: exit $code, $(cat "$tmp/p.err")"

# The log keeps the fingerprint: a copy kept elsewhere still verifies against its entry.
sleep 1.5
code=0; C verify "$tmp/media/A.mp4" >"$tmp/v.out" 2>&1 || code=$?
[ $code = 0 ] && head -1 "$tmp/v.out" | grep -q '^exact' && grep -q verified "$tmp/v.out" \
	&& ok "custodyctl verify of the purged clip: exact, verified" ||
	bad "verify: exit $code, $(cat "$tmp/v.out")"
C proof "$A" --out "$tmp/A.tlog-proof" >/dev/null 2>&1
"$CUSTODY_VERIFY" proof "$tmp/A.tlog-proof" --key "$tmp/log.pub" --media "$tmp/media/A.mp4" \
	>/dev/null && ok "custody-verify --media of the purged clip against its proof" ||
	bad "custody-verify of the purged clip"
retention_is "retention after the purge: A no longer listed" "$E" "$B $Cc $F" 1 1

# A's bytes dropped again: a new arrival, logged anew, the original stored again.
before=$(log_size)
cp "$tmp/media/A.mp4" "$tmp/short/A-again.tmp" &&
	mv "$tmp/short/A-again.tmp" "$tmp/short/A-again.mp4"
again_logged() {
	[ -z "$(ls "$tmp/short")" ] &&
		[ "$(C log --type ingest --json | grep -c '"name":"A-again.mp4"')" -ge 1 ]
}
wait_for 15 again_logged || true
C log --type ingest --json >"$tmp/ingest.json"
A2=$(idx A-again)
if [ -n "$A2" ] && [ "$A2" -gt "$A" ] && [ "$(stored A-again)" = "$fa" ] &&
	[ -f "$tmp/state/store/$fa" ] && [ -z "$(ls "$tmp/short")" ] &&
	cmp -s "$tmp/state/store/$fa" "$tmp/media/A.mp4"; then
	ok "A's bytes dropped after its purge: new ingest entry $A2 (size $before ->" \
		"$(log_size)), the original back in the store"
else
	bad "A dropped again: entry '${A2}', zone: $(ls "$tmp/short");" \
		"store: $(ls -l "$tmp/state/store/$fa" 2>&1); $(tail -5 "$dlog")"
fi
refused "purge of A asked again, now that entry $A2 holds its bytes" \
	"entry $A2 records the same bytes" C purge "$A"
[ -f "$tmp/state/store/$fa" ] && [ "$(npurges)" = 1 ] \
	&& ok "the new arrival's original stays, and no purge entry was added" \
	|| bad "after purge A again: $(ls -l "$tmp/state/store/$fa" 2>&1), $(npurges) purge entries"
# verify names the entry in force, not the purged one.
sleep 2 # a checkpoint covering entry A2
code=0; C verify --json "$tmp/media/A.mp4" >"$tmp/v2.json" 2>"$tmp/v2.err" || code=$?
[ "$(jget "$tmp/v2.json" .result)" = exact ] && [ "$(jget "$tmp/v2.json" .index)" = "$A2" ] &&
	ok "verify of A's bytes now names entry $A2, not the purged $A" ||
	bad "verify after the re-arrival: exit $code, $(cat "$tmp/v2.json" "$tmp/v2.err")"
sleep 3
C retention --json >"$tmp/ret.json"
python3 - "$tmp/ret.json" "$A2" <<'PY' &&
import datetime, json, sys
r = json.load(open(sys.argv[1]))
c = [c for c in r["due"] if c["index"] == int(sys.argv[2])]
assert len(c) == 1, r["due"]
t = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S%z") if "." not in s else \
    datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z")
assert (t(c[0]["due_at"]) - t(c[0]["ingested_at"])).total_seconds() == 2, c
PY
	ok "the new entry has a retention period of its own, from its upload" ||
	bad "retention of the new entry: $(cat "$tmp/ret.json")"
if C purge "$A2" >"$tmp/p.out" 2>&1 && [ ! -e "$tmp/state/store/$fa" ] &&
	[ "$(npurges)" = 2 ]; then
	ok "purge of the new entry $A2 removes the original: $(cat "$tmp/p.out")"
else
	bad "purge of $A2: $(cat "$tmp/p.out"); $(ls -l "$tmp/state/store/$fa" 2>&1)"
fi

# F's late storage explained: nothing open, so it may be purged.
C annotate late_storage --entry "$F" --reason "camera handed in late" >/dev/null \
	&& ok "F's late storage explained" || bad "late_storage on F refused"
ff=$(stored F)
if C purge "$F" >"$tmp/p.out" 2>&1 && [ ! -e "$tmp/state/store/$ff" ]; then
	ok "purge of F once explained: $(cat "$tmp/p.out")"
else
	bad "purge of F after the explanation: $(cat "$tmp/p.out")"
fi

# A purge logged by a daemon that died before removing the file: the entry is in the log
# (written here offline, as the writer would have), the file still in the store.
fe=$(stored E)
stop_daemon
printf '{"v":1,"type":"purge","entry":%d,"sha256":"%s","stored":"%s","by":"root(uid 0)",%s}\n' \
	"$E" "$(basename "$fe")" "$fe" '"at":"2026-01-01T00:00:00Z","reason":null,"removed":true' |
	"$CUSTODY_LOG" --db "$tmp/state/log" append >/dev/null || bad "custody-log append of a purge"
start_daemon
[ -f "$tmp/state/store/$fe" ] && ok "E: purge logged, original still in the store (the crash)"
retention_is "retention: E counts as purged" "" "$B $Cc" 4 1
if C purge "$E" >"$tmp/p.out" 2>&1 && grep -q "purged before" "$tmp/p.out" &&
	[ ! -e "$tmp/state/store/$fe" ]; then
	ok "purge of E asked again finishes the removal: $(cat "$tmp/p.out")"
else
	bad "finishing E: $(cat "$tmp/p.out"); $(ls -l "$tmp/state/store/$fe" 2>&1)"
fi
[ "$(npurges)" = 4 ] && ok "finishing made no new purge entry" ||
	bad "purge entries: $(C log --type purge --json)"

stop_daemon
finish
