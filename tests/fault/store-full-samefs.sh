#!/bin/bash
# A full disk in the default layout: the log's state, the store and the zone on one small
# filesystem (a 16 MiB tmpfs), so files are moved into staging and the log (LMDB) is as short of
# room as the store.  Three ways the disk can be full for a file:
#   C: the daemon crashed with C in staging (custodyd-fault, stored-before-commit) and restarts
#      on a full disk: the log cannot commit C's entry;
#   B: two pages left: B is staged and stored, but the log's commit gets a short write;
#   A: not a byte left: A's staging note cannot be written.
# Ingest must pause with an ALERT (README "How an ingest goes"), the files stay in their zone
# (or, for C, in staging), and once room is made all three must be ingested by themselves,
# once each, with proofs that verify (docs/ingest.md).
set -eu
. "$(dirname "$0")/lib.sh"

mkdir -p "$tmp/media"
for f in 330 440 550; do
	clip "$tmp/media/full-$f.mp4" 2 $f 320x240
done
a=$tmp/media/full-330.mp4
b=$tmp/media/full-440.mp4
c=$tmp/media/full-550.mp4

dir=$tmp/run
fs=$dir/fs
mount_tmpfs "$fs" 16m
mkdir -p "$fs/state"
ln -s fs/state "$dir/state"
store=$dir/state/store
zone=$fs/zone
write_conf "$dir" "$store" "$zone"
status() { C status --json | python3 -c 'import json,sys; p = json.load(sys.stdin)["pipeline"]; print(p["store_full"], p["failed"], p["ingested"], p["last_error"])'; }

# C: crash with C stored and staged but not logged.
start_daemon "$CUSTODYD_FAULT" "$dir" CUSTODY_FAULT=stored-before-commit
cp "$c" "$zone/c.mp4"
wait_exit 30
[ "$exit_code" = 137 ] || bad "C: custodyd-fault did not die at stored-before-commit ($exit_code)"
[ -z "$(find "$zone" -type f)" ] && [ -n "$(find "$store/staging" -type f ! -name '*.meta')" ] \
	&& ok "C: killed with c.mp4 in staging" || bad "C: not in staging: $(find "$fs" -type f)"

# A and B wait in the zone under hidden names (taking up their room already), then the
# filesystem is filled: the last two pages by a filler of their own.
cp "$a" "$zone/.a"
cp "$b" "$zone/.b"
head -c 8192 /dev/zero >"$fs/pages"
head -c "$(df -B1 --output=avail "$fs" | tail -1)" /dev/zero >"$fs/filler" 2>/dev/null || true
echo "free on the filesystem: $(df -B1 --output=avail "$fs" | tail -1) bytes"

# C: the restart resumes C from staging; the full disk refuses the log's commit.
start_daemon "$CUSTODYD" "$dir" JOURNAL_STREAM=0:0
for _ in $(seq 1 100); do
	[ "$(status | cut -d' ' -f2)" = 0 ] || break
	sleep 0.1
done
st=$(status)
echo "C: store_full, failed, ingested, last_error = $st"
grep '^<1>\[store\].*disk is full' "$dlog" && ok "C: ALERT" || bad "C: no <1> 'disk is full' line: $(tail -3 "$dlog")"
[ "${st%% *}" = True ] && ok "C: status shows store_full" || bad "C: status: $st"
[ -n "$(find "$store/staging" -type f ! -name '*.meta')" ] && ok "C: stays in staging" \
	|| bad "C: not in staging: $(find "$fs" -path "$fs/filler" -prune -o -type f -print)"
grep -q "/staging/.* stays in its zone and is retried" <(grep "disk is full" "$dlog") && known_bug \
	"C: the ALERT says the staged file 'stays in its zone and is retried'; it is in staging," \
	"and is not retried (see below)"

# B: two pages: the staging note fits, the log's commit does not (a short write).
rm "$fs/pages"
lines=$(wc -l <"$dlog")
mv "$zone/.b" "$zone/b.mp4"
for _ in $(seq 1 100); do
	[ "$(status | cut -d' ' -f2)" = 1 ] || break
	sleep 0.1
done
sleep 0.5
st=$(status)
echo "B: store_full, failed, ingested, last_error = $st"
msg=$(tail -n +$((lines + 1)) "$dlog" | grep "b\.mp4" || true)
[ "$(echo "$st" | cut -d' ' -f3)" = 0 ] || bad "B: committed on a full disk? $st"
# Already linked into the store when the commit failed: it stays in staging (putting it back
# would leave a second link to the original in the zone) and is retried from there.
[ ! -e "$zone/b.mp4" ] && [ -n "$(find "$store/staging" -type f ! -name '*.meta')" ] \
	&& ok "B: linked into the store, kept in staging for the retry" \
	|| bad "B: b.mp4 not in staging: $(find "$fs" -path "$fs/filler" -prune -o -type f -print)"
# The ALERT came with C; a failure for want of room is not logged again while paused.
if [ -n "$msg" ]; then
	known_bug "B: the log's commit failed on the full disk but is not taken for a full disk" \
		"(LMDB reports a short write as EIO): $msg"
fi
if [ -f "$zone/b.mp4" ] && [ "$(stat -c %h "$zone/b.mp4")" != 1 ]; then
	known_bug "B: the file put back in its zone is still hard-linked to its original in the" \
		"store: mode $(stat -c %a "$zone/b.mp4"), $(stat -c %h "$zone/b.mp4") links"
fi

# A: not a byte left.
lines=$(wc -l <"$dlog")
mv "$zone/.a" "$zone/a.mp4"
for _ in $(seq 1 100); do
	[ "$(status | cut -d' ' -f2)" = 2 ] || break
	sleep 0.1
done
sleep 0.5
st=$(status)
echo "A: store_full, failed, ingested, last_error = $st"
[ "${st%% *}" = True ] && ok "A: status shows store_full" || bad "A: status: $st"
[ -f "$zone/a.mp4" ] && ok "A: the file stays in its zone" || bad "A: a.mp4 left its zone"
msg=$(tail -n +$((lines + 1)) "$dlog" | grep "'a.mp4' stays in staging as" || true)
[ -z "$msg" ] || known_bug "A: the daemon says 'a.mp4' stays in staging (naming a file that" \
	"was never made) when it never left its zone: $msg"

# Room again: the retry, 30 s after each failure, must take every file by itself.
rm "$fs/filler"
t0=$(date +%s)
if wait_gone 45 "$zone" && wait_gone 45 "$store/staging"; then
	ok "A, B and C: ingest resumed by itself $(($(date +%s) - t0)) s after the room was made"
else
	bad "still waiting 45 s after the room was made: $(find "$zone" "$store/staging" -type f)"
fi
sleep 0.5
st=$(status)
echo "status: store_full, failed, ingested, last_error = $st"
[ "${st%% *}" = False ] && ok "status no longer shows store_full" || bad "status: $st"
if [ -n "$(find "$store/staging" -type f ! -name '*.meta')" ]; then
	known_bug "C: a file resumed from staging whose ingest fails is retried only at the next" \
		"start, not every 30 s: still in staging $(($(date +%s) - t0)) s after the room was" \
		"made, while A and B, which failed after it, went through"
fi
stop_daemon
left=$(cd "$store/staging" && for m in *.meta; do [ ! -e "$m" ] || [ -e "${m%.meta}" ] || echo "$m"; done)
[ -z "$left" ] || known_bug "the staging notes of failed attempts (their files are gone) stay" \
	"until the next start:" $left

# The next start takes what staging holds and clears stale notes.
start_daemon "$CUSTODYD" "$dir"
wait_gone 30 "$store/staging" || bad "staging not emptied after a restart: $(store_leftovers "$store")"
sleep 0.5
stop_daemon
if out=$(check_log "$dir" "$store" "$a" "$b" "$c"); then
	ok "$out; each file once, byte-identical"
else
	bad "$out"
fi
left=$(store_leftovers "$store")
[ -z "$left" ] && ok "after a restart nothing is left in staging or tmp" || bad "left in the store: $left"
finish
