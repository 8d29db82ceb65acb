#!/bin/bash
# Purges racing ingests and annotations, made to happen in one order by custodyd-fault's pause
# ($CUSTODY_FAULT_PAUSE, base/fault.h): the thread at the fault point waits for a file.
#
# 1. Ingest against purge (docs/rules.md), on the move path and the copy path.  Clip X is logged as
#    entry N and is past its period (retention 1s).  X's bytes are dropped again: that ingest
#    finds them already in the store (linked by N) and is paused at stored-before-commit,
#    between its store and its commit.  Meanwhile `purge N` commits and removes the original.
#    Released, the ingest must not commit an entry whose original is gone, nor remove the file
#    from its zone as a duplicate of N: it fails, is tried again from its zone or staging, and
#    stores the bytes anew under a new entry.  In the end X is in the store with that entry.
# 2. Annotation against purge.  A purge of N1 is paused on the writer thread before its
#    commit: a case or a hold naming N1 is refused (`unavailable`), and a case naming N2
#    queued behind it makes a purge of N2 wait (`unavailable`) until it is logged; then the
#    purge of N2 is refused because the case binds it.
set -eu
. "$(dirname "$0")/lib.sh"

mkdir -p "$tmp/media"
# Recorded now by this test's clock (tagged): stored on time, so nothing is open about them,
# also when the suites run with the clock set ahead (an mtime is always real time).
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
clip "$tmp/media/x.mp4" 2 660 "" "$now"
clip "$tmp/media/y1.mp4" 2 770 "" "$now"
clip "$tmp/media/y2.mp4" 2 880 "" "$now"
sha() { sha256sum "$1" | cut -d' ' -f1; }
xsha=$(sha "$tmp/media/x.mp4")

ingests_of() { # ingests_of SHA : how many ingest entries the running daemon logged for SHA
	C log --type ingest --json | python3 -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin)["entries"] if e["entry"]["sha256"] == sys.argv[1]))' "$1"
}
has_ingests() { [ "$(ingests_of "$1")" = "$2" ]; } # has_ingests SHA N
n_ingests() { [ "$(C log --type ingest --json | grep -o '"type":"ingest"' | wc -l)" = "$1" ]; }
index_of() { # index_of NAME : the index of the ingest entry of the file NAME
	C log --type ingest --json | python3 -c '
import json, sys
print([e["index"] for e in json.load(sys.stdin)["entries"] if e["entry"]["name"] == sys.argv[1]][0])' "$1"
}
retention_conf() { printf '\n[retention]\ndefault = 1s\n' >>"$1/custody.conf"; }

run=0
for path in move copy; do
	run=$((run + 1))
	dir=$tmp/run$run
	store=$dir/state/store
	zone=$dir/zone
	mkdir -p "$zone"
	[ $path = copy ] && mount_tmpfs "$zone" 64m
	write_conf "$dir" "$store" "$zone"
	retention_conf "$dir"
	gate=$dir/gate
	# The first ingest (X as N) passes the point; the second (X again) pauses there.
	start_daemon "$CUSTODYD_FAULT" "$dir" CUSTODY_FAULT=stored-before-commit \
		CUSTODY_FAULT_AFTER=2 CUSTODY_FAULT_PAUSE="$gate"
	cp "$tmp/media/x.mp4" "$zone/x.mp4"
	if ! wait_for 30 has_ingests "$xsha" 1; then
		bad "$path: X was not ingested: $(tail -5 "$dlog")"
		stop_daemon
		continue
	fi
	N=$(index_of x.mp4)
	rel=objects/${xsha:0:2}/$xsha
	sleep 1.5 # past its 1s period
	cp "$tmp/media/x.mp4" "$zone/x-again.mp4"
	if ! wait_for 30 test -e "$gate.reached"; then
		bad "$path: the second ingest of X never reached stored-before-commit"
		stop_daemon
		continue
	fi
	ok "$path: X logged as entry $N; X again stored (found in the store) and paused before its commit"
	if C purge "$N" >"$dir/purge.out" 2>&1 && [ ! -e "$store/$rel" ]; then
		ok "$path: purge of $N meanwhile: $(cat "$dir/purge.out")"
	else
		bad "$path: purge of $N: $(cat "$dir/purge.out"); $(ls -l "$store/$rel" 2>&1)"
	fi
	touch "$gate"
	# Released: the writer finds the original gone, the job fails and is retried (30 s).
	if wait_for 60 has_ingests "$xsha" 2 && wait_gone 10 "$zone" "$store/staging"; then
		ok "$path: X again logged as a new entry once retried, its zone emptied"
	else
		bad "$path: X again: $(ingests_of "$xsha") entries; left: $(find "$zone" "$store/staging" -type f)"
	fi
	grep -q "left the store (a purge removed it) before this arrival was logged" "$dlog" \
		&& ok "$path: the first try failed because the purge had removed the original" \
		|| bad "$path: no sign of the failed first try in the daemon's log"
	sleep 0.5
	stop_daemon
	dump_log "$dir"
	if out=$(python3 - "$dir/entries.jsonl" "$store" "$xsha" "$N" <<'PY'
import hashlib, json, os, sys
path, store, sha, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
entries = [json.loads(l) for l in open(path) if l.strip()]
ingests = [i for i, e in enumerate(entries) if e["type"] in ("ingest", "damaged") and e["sha256"] == sha]
purges = [e for e in entries if e["type"] == "purge"]
problems = []
if len(ingests) != 2 or ingests[0] != n:
    problems.append("ingest entries %s, wanted %d and one more" % (ingests, n))
if len(purges) != 1 or purges[0]["entry"] != n or purges[0]["removed"] is not True:
    problems.append("purge entries %s" % purges)
elif ingests and ingests[-1] < entries.index(purges[0]):
    problems.append("the new entry %d precedes the purge" % ingests[-1])
rel = entries[ingests[-1]]["stored"] if ingests else "?"
try:
    got = hashlib.sha256(open(os.path.join(store, rel), "rb").read()).hexdigest()
except OSError as err:
    got = str(err)
if got != sha:
    problems.append("the original %s of the new entry: %s" % (rel, got))
print("%d entries: ingest %s, purge of %d" % (len(entries), ingests, n))
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
PY
	); then
		ok "$path: $out; the original in the store"
	else
		bad "$path: $out"
	fi
	out=$(check_proofs "$dir") && ok "$path: every entry's proof verifies" || bad "$path: $out"
	left=$(store_leftovers "$store")
	[ -z "$left" ] || bad "$path: left in the store: $left"
	[ $path = move ] || umount "$zone"
done

# 2. Annotations against a purge paused before its commit.
run=$((run + 1))
dir=$tmp/run$run
store=$dir/state/store
zone=$dir/zone
write_conf "$dir" "$store" "$zone"
retention_conf "$dir"
gate=$dir/gate
start_daemon "$CUSTODYD_FAULT" "$dir" CUSTODY_FAULT=purge-before-commit CUSTODY_FAULT_PAUSE="$gate"
cp "$tmp/media/y1.mp4" "$tmp/media/y2.mp4" "$zone/"
wait_for 30 n_ingests 2 \
	|| bad "y1 and y2 were not ingested: $(tail -5 "$dlog")"
N1=$(index_of y1.mp4)
N2=$(index_of y2.mp4)
f1=objects/$(sha "$tmp/media/y1.mp4" | cut -c1-2)/$(sha "$tmp/media/y1.mp4")
f2=objects/$(sha "$tmp/media/y2.mp4" | cut -c1-2)/$(sha "$tmp/media/y2.mp4")
sleep 1.5 # past their 1s period
C purge "$N1" >"$dir/purge1.out" 2>&1 &
purge1=$!
wait_for 30 test -e "$gate.reached" || bad "the purge of $N1 never reached purge-before-commit"
unavailable() { # unavailable WHAT PATTERN custodyctl-args...
	local what=$1 pattern=$2 code=0
	shift 2
	"$@" >"$dir/a.out" 2>"$dir/a.err" || code=$?
	if [ $code != 0 ] && grep -q "unavailable" "$dir/a.err" && grep -q "$pattern" "$dir/a.err"; then
		ok "$what: unavailable: $(cat "$dir/a.err")"
	else
		bad "$what: exit $code, $(cat "$dir/a.out" "$dir/a.err")"
	fi
}
unavailable "a case naming $N1 while its purge is in flight" "entry $N1 is being purged" \
	C annotate case --case K-1 --entries "$N1"
unavailable "a hold naming $N1 while its purge is in flight" "entry $N1 is being purged" \
	C annotate hold --entries "$N1" --reason "keep it"
# A case naming N2, queued to the writer behind the paused purge: a purge of N2 must wait.
C annotate case --case K-2 --entries "$N2" >"$dir/case2.out" 2>&1 &
case2=$!
sleep 1 # the annotation reaches the daemon and is handed to the (paused) writer
unavailable "a purge of $N2 while a case is being recorded" "a case or hold annotation is being recorded" \
	C purge "$N2"
touch "$gate"
wait "$purge1" && grep -q "purged entry $N1" "$dir/purge1.out" && [ ! -e "$store/$f1" ] \
	&& ok "the purge of $N1, released: $(cat "$dir/purge1.out")" \
	|| bad "the purge of $N1: $(cat "$dir/purge1.out")"
wait "$case2" && ok "the case naming $N2, released: entry $(cat "$dir/case2.out")" \
	|| bad "the case naming $N2: $(cat "$dir/case2.out")"
code=0
C purge "$N2" >"$dir/p.out" 2>"$dir/p.err" || code=$?
[ $code = 1 ] && grep -q "bound to case 'K-2'" "$dir/p.err" && [ -f "$store/$f2" ] \
	&& ok "the purge of $N2, asked again: refused, bound to case K-2; its original stays" \
	|| bad "the purge of $N2 after the case: exit $code, $(cat "$dir/p.out" "$dir/p.err")"
C log --type purge --json >"$dir/purges.json"
[ "$(grep -o '"type":"purge"' "$dir/purges.json" | wc -l)" = 1 ] \
	&& ok "one purge entry (of $N1)" || bad "purge entries: $(cat "$dir/purges.json")"
stop_daemon
finish
