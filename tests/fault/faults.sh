#!/bin/bash
# Faults of the environment, one per run: `faults.sh CASE` with CASE one of
#   lmdb-full      the log's LMDB map starts at 64 KiB ($CUSTODY_LMDB_MAPSIZE) and must double
#                  7 times (MDB_MAP_FULL: tlog.c grows it and retries the batch) while files are
#                  ingested, 300 annotations of 16 KiB are appended and clients read the log as
#                  fast as they can (the map is remapped under them): nothing fails, checkpoints
#                  follow;
#   state-full     the state folder (the log) on a 4 MiB tmpfs that fills up, the map starting
#                  at 64 KiB too, the store and the zones elsewhere (one zone on the store's
#                  filesystem: files moved into staging; one on a tmpfs: files copied): ingest
#                  pauses with an ALERT and status says so, every file stays in its zone or in
#                  staging, reads of evidence are refused (they could not be recorded) while
#                  status is answered, and it resumes by itself once there is room (the
#                  retry, every 30 s), with checkpoints signed again and reads answered;
#   zone-recreated a zone deleted and made again (empty, at once with a file, moved away and
#                  replaced by a folder that already holds files in subfolders): what is
#                  dropped in the new folder is ingested within a rescan;
#   clock-step     custodyd under libfaketime: the wall clock steps back an hour, forward two,
#                  and forward and back while a probe runs: each entry's ingested_at says what
#                  the daemon's clock said, storage follows, checkpoints are still signed
#                  every checkpoint_interval, no file is taken for damaged;
# The store full is store-full.sh and store-full-samefs.sh; an original changed or deleted in
# the store is tests/integration/scrub.sh.  After each: every file dropped is in the store once
# with its entry (custodyctl log --json while the daemon runs, then custody-log on the stopped
# daemon's log with a proof of each entry), or still in its zone, never neither, never twice.
set -eu
case=${1:?usage: faults.sh lmdb-full|state-full|zone-recreated|clock-step}
. "$(dirname "$0")/lib.sh"

# check_live STORE ZONE MEDIA... : with the daemon running, every entry through `custodyctl
# log --json` (paged): each MEDIA file has exactly one ingest entry whose original in STORE has
# its SHA-256 and is gone from ZONE; no file has two entries; nothing else was ingested.
check_live() {
	local store=$1 zone=$2 before="" out
	shift 2
	: >"$tmp/live.jsonl"
	while :; do
		C log --limit 1000 ${before:+--before "$before"} --json >"$tmp/page.json"
		python3 - "$tmp/page.json" >>"$tmp/live.jsonl" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1]))["entries"]:
    print(json.dumps(e))
PY
		before=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("next_before", "") if d.get("truncated") else "")' "$tmp/page.json")
		[ -n "$before" ] || break
	done
	python3 - "$tmp/live.jsonl" "$store" "$zone" "$@" <<'PY'
import collections, hashlib, json, os, sys
path, store, zone, media = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()
entries = [json.loads(l) for l in open(path) if l.strip()]
files = [e["entry"] for e in entries if e["entry"].get("type") in ("ingest", "damaged")]
per = collections.Counter(e["sha256"] for e in files)
in_zone = {sha(os.path.join(r, f)) for r, _, fs in os.walk(zone) for f in fs}
problems, want = [], set()
for m in media:
    d = sha(m)
    want.add(d)
    mine = [e for e in files if e["sha256"] == d]
    if len(mine) != 1:
        problems.append("%s: %d entries%s" % (os.path.basename(m), len(mine),
                        " (still in its zone)" if d in in_zone else ""))
        continue
    if d in in_zone:
        problems.append("%s: logged but still in its zone" % os.path.basename(m))
    try:
        stored = sha(os.path.join(store, mine[0]["stored"]))
    except OSError as e:
        stored = str(e)
    if stored != d:
        problems.append("%s: the original is %s" % (os.path.basename(m), stored))
dups = [d for d, n in per.items() if n > 1]
if dups:
    problems.append("content with more than one entry: %s" % dups)
extra = [e["name"] for e in files if e["sha256"] not in want]
if extra:
    problems.append("entries for files never dropped: %s" % extra)
print("%d entries, %d for files, %d files dropped" % (len(entries), len(files), len(media)), end="")
for p in problems:
    print("\n  " + p, end="")
print()
sys.exit(1 if problems else 0)
PY
}

# verdict NAME DIR STORE ZONE MEDIA... : check_live, then SIGTERM and check_log (lib.sh).
verdict() {
	local name=$1 dir=$2 store=$3 zone=$4 out
	shift 4
	if out=$(check_live "$store" "$zone" "$@"); then
		ok "$name, live: $out"
	else
		bad "$name, live: $out"
	fi
	stop_daemon
	if out=$(check_log "$dir" "$store" "$@"); then
		ok "$name, stopped: $out; each file once, byte-identical"
	else
		bad "$name, stopped: $out"
	fi
	local left
	left=$(store_leftovers "$store")
	[ -z "$left" ] && ok "$name: nothing left in staging or tmp" || bad "$name: left in the store: $left"
}

status_field() { # status_field PYEXPR : evaluate PYEXPR on the status reply `s`
	C status --json | python3 -c "import json,sys; s = json.load(sys.stdin); print($1)"
}
log_size() { status_field 's["size"]'; }

signed_up_to_size() { [ "$(status_field 's["checkpoint"]["size"] if s["checkpoint"] else -1')" = "$(log_size)" ]; }

mkdir -p "$tmp/media"

# ---------------------------------------------------------------------------------------------
lmdb_full() {
	local dir=$tmp/run store=$tmp/run/store zone=$tmp/run/zone media=() f reader mapsize pages
	for f in 300 400 500 600 700 800; do
		clip "$tmp/media/m-$f.mp4" 2 $f
		media+=("$tmp/media/m-$f.mp4")
	done
	write_conf "$dir" "$store" "$zone"
	start_daemon "$CUSTODYD" "$dir" CUSTODY_LMDB_MAPSIZE=65536

	# Readers: `log` scans (the loop thread inside LMDB most of the time), checkpoints and
	# status.  Each `log` is an access entry: 50 of them per reader keep the log (and the proof
	# check at the end) short.
	cat >"$tmp/reader.py" <<'PY'
import json, os, socket, sys, time
sock, stop = sys.argv[1], sys.argv[2]
n = errs = logs = 0
while not os.path.exists(stop):
    reqs = [b'{"op":"status"}\n', b'{"op":"checkpoint"}\n'] * 5
    if logs < 50:
        reqs.append(b'{"op":"log","limit":1000}\n')
        logs += 1
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        f = s.makefile("rb")
        for r in reqs:
            s.sendall(r)
            reply = json.loads(f.readline())
            n += 1
            # Before the first checkpoint: not_found.
            if reply.get("ok") is not True and reply["error"]["code"] != "not_found":
                errs += 1
        s.close()
    except (OSError, ValueError) as e:
        errs += 1
        time.sleep(0.05)
print("%d replies, %d errors" % (n, errs))
PY
	python3 "$tmp/reader.py" "$sock" "$tmp/stop-readers" >"$tmp/reader1.out" 2>&1 &
	reader=$!
	python3 "$tmp/reader.py" "$sock" "$tmp/stop-readers" >"$tmp/reader2.out" 2>&1 &
	reader="$reader $!"

	# Writes: the clips and 300 annotations of 16 KiB (about 5 MiB: the map doubles 7 times).
	for m in "${media[@]}"; do cp "$m" "$zone/"; done
	python3 - "$sock" <<'PY' || bad "annotations failed"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rb")
for i in range(300):
    s.sendall(json.dumps({"op": "annotate", "kind": "interruption", "device": "CAM%03d" % i,
                          "from": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:01:00Z",
                          "reason": ("%05d" % i) * 3200}).encode() + b"\n")
    r = json.loads(f.readline())
    if r.get("ok") is not True:
        print("annotation %d: %r" % (i, r))
        sys.exit(1)
PY
	wait_gone 60 "$zone" "$store/staging" && ok "the zone emptied while the map grew" \
		|| bad "still in the zone: $(find "$zone" -type f)"
	touch "$tmp/stop-readers"
	# shellcheck disable=SC2086
	wait $reader || true
	echo "readers: $(cat "$tmp/reader1.out") / $(cat "$tmp/reader2.out")"
	kill -0 "$daemon" 2>/dev/null && ok "custodyd survived the map growing under its readers" \
		|| { bad "custodyd died: $(tail -5 "$dlog")"; daemon=; finish; }
	grep -q 'errors' "$tmp/reader1.out" && ! grep -q ' [1-9][0-9]* errors' "$tmp/reader1.out" "$tmp/reader2.out" \
		&& ok "every read answered" || bad "readers saw errors"
	wait_for 5 signed_up_to_size && ok "a checkpoint covers all $(log_size) entries" \
		|| bad "checkpoint at $(status_field 's["checkpoint"]["size"]'), log at $(log_size)"
	mapsize=$(mdb_stat -e "$dir/state/log" | awk -F: 'tolower($1) ~ /map size/ {print $2+0}')
	pages=$(stat -c %s "$dir/state/log/data.mdb")
	[ "${mapsize:-0}" -ge $((4 << 20)) ] && ok "the map grew from 64 KiB to $((mapsize >> 10)) KiB (data.mdb $((pages >> 10)) KiB)" \
		|| bad "map size $mapsize after the growth"
	verdict "map growth" "$dir" "$store" "$zone" "${media[@]}"
}

# ---------------------------------------------------------------------------------------------
state_full() {
	local dir=$tmp/run store=$tmp/run/store z0=$tmp/run/zone z1=$tmp/run/zfs/zone st media=() f
	for f in 330 440 550 660; do
		clip "$tmp/media/s-$f.mp4" 2 $f
		media+=("$tmp/media/s-$f.mp4")
	done
	# The log on a small filesystem of its own; the store and z0 on /tmp (files moved into
	# staging), z1 on another tmpfs (files copied).
	mount_tmpfs "$dir/state" 4m
	mount_tmpfs "$dir/zfs" 32m
	write_conf "$dir" "$store" "$z0" "$z1"
	start_daemon "$CUSTODYD" "$dir" JOURNAL_STREAM=0:0 CUSTODY_LMDB_MAPSIZE=65536
	cp "${media[0]}" "$z0/"
	logged() { [ "$(log_size)" -ge "$1" ]; }
	wait_for 20 logged 1 && wait_gone 5 "$z0" "$store/staging" && ok "a first file goes through" \
		|| bad "the first file stayed: $(tail -3 "$dlog")"

	# Fill the state filesystem to the last byte.
	head -c "$(df -B1 --output=avail "$dir/state" | tail -1)" /dev/zero >"$dir/state/filler" 2>/dev/null || true
	echo "state filesystem: $(df -B1 --output=avail "$dir/state" | tail -1) bytes free"
	cp "${media[1]}" "$z0/"
	cp "${media[2]}" "$z1/"
	local alert=
	for _ in $(seq 1 150); do
		alert=$(grep -m1 '^<1>\[store\].*disk is full' "$dlog" || true)
		[ -n "$alert" ] && break
		sleep 0.1
	done
	[ -n "$alert" ] && ok "ALERT: $alert" || bad "no <1> 'disk is full' line: $(tail -5 "$dlog")"
	sleep 3
	st=$(status_field 's["pipeline"]["store_full"], s["pipeline"]["failed"], s["size"]')
	echo "status: store_full, failed, size = $st"
	[ "${st%% *}" = True ] && ok "status shows the pause (store_full)" || bad "status: $st"
	# Nothing lost: each file in its zone, in staging, or logged (lib.sh's check_crash reads
	# the log with custody-log, which never blocks the daemon).
	if out=$(check_crash "$dir" "$store" "$z0" "${media[@]:0:2}") && out2=$(check_crash "$dir" "$store" "$z1" "${media[2]}"); then
		ok "while full: $out $out2"
	else
		bad "while full: $out ${out2:-}"
	fi
	# Reads of evidence are refused while the log cannot record them: the first may still be
	# answered (its own access entry is the append that finds the file system full), none
	# after it.  status is answered throughout.
	C entry 0 >/dev/null 2>&1 || true
	sleep 1
	if out=$(C entry 0 2>&1); then
		bad "entry 0 answered on a full state filesystem, its access unrecorded: $out"
	elif grep -q 'cannot be written' <<<"$out"; then
		ok "a read on a full state filesystem is refused: $(tail -1 <<<"$out")"
	else
		bad "entry 0 on a full state filesystem: $out"
	fi
	C status >/dev/null && ok "status is answered on a full state filesystem" \
		|| bad "status refused on a full state filesystem"
	# The copy of the file from z1 could not be logged: the store keeps no object without an
	# entry (it is copied again at the next try).
	f=$(sha256sum "${media[2]}" | cut -d' ' -f1)
	[ ! -e "$store/objects/${f:0:2}/$f" ] && ok "no unlogged copy is kept in the store" \
		|| bad "the store keeps a copy of ${media[2]} that no entry names"
	kill -0 "$daemon" 2>/dev/null || { bad "custodyd died: $(tail -5 "$dlog")"; daemon=; finish; }

	# Room again: the retry (every 30 s) takes every file by itself, and one dropped now too.
	rm "$dir/state/filler"
	cp "${media[3]}" "$z1/"
	t0=$(date +%s)
	if wait_gone 45 "$z0" "$z1" && wait_gone 45 "$store/staging"; then
		ok "ingest resumed by itself $(($(date +%s) - t0)) s after the room was made"
	else
		bad "still waiting 45 s after the room was made: $(find "$z0" "$z1" "$store/staging" -type f)"
	fi
	grep -q 'ingest resumed' "$dlog" && ok "the daemon says ingest resumed" || bad "no 'ingest resumed' line"
	wait_for 5 signed_up_to_size && ok "checkpoints are signed again ($(log_size) entries)" \
		|| bad "checkpoint at $(status_field 's["checkpoint"]["size"]'), log at $(log_size)"
	[ "$(status_field 's["pipeline"]["store_full"]')" = False ] && ok "status no longer shows the pause" \
		|| bad "status still shows store_full"
	# The appends since found the log writable again: reads are answered (after at most one
	# more refusal, whose entry is such an append).
	C entry 0 >/dev/null 2>&1 || true
	C entry 0 >/dev/null && ok "reads are answered again once the log can record them" \
		|| bad "entry 0 still refused after the room was made"
	verdict "state full" "$dir" "$store" "$z0" "${media[@]}"
}

# ---------------------------------------------------------------------------------------------
zone_recreated() {
	local dir=$tmp/run store=$tmp/run/store zone=$tmp/run/zone media=() f t0 n=0
	for f in 310 420 530 640 750 860; do
		clip "$tmp/media/z-$f.mp4" 1 $f
		media+=("$tmp/media/z-$f.mp4")
	done
	write_conf "$dir" "$store" "$zone"
	start_daemon "$CUSTODYD" "$dir"
	# ingested_within WHAT SECONDS : the zone and staging empty within SECONDS (a rescan is
	# 2 s, the settle 1 s: 5 s is a rescan and a settle with room to spare).  Staging too: a
	# file leaves the zone for staging before it is probed and logged, and check_live below
	# counts the entries (CI once looked while two files were still in staging).
	ingested_within() {
		if wait_gone "$2" "$zone" "$store/staging"; then
			ok "$1: ingested in $(($(date +%s) - t0)) s"
		else
			bad "$1: still in the zone after $2 s: $(find "$zone" -type f)"
		fi
	}
	t0=$(date +%s)
	cp "${media[0]}" "$zone/"
	ingested_within "before anything" 10

	# Deleted while the daemon runs, made again a moment later (the daemon has seen it go).
	rm -rf "$zone"
	sleep 0.5
	mkdir "$zone"
	t0=$(date +%s)
	cp "${media[1]}" "$zone/"
	ingested_within "deleted, made again" 6

	# Deleted and made again at once, a file in it before the daemon can look.
	rm -rf "$zone" && mkdir "$zone" && cp "${media[2]}" "$zone/"
	t0=$(date +%s)
	ingested_within "deleted and made again at once" 6

	# Gone for several rescans (logged as gone), then back.
	rm -rf "$zone"
	sleep 5
	grep -q "zone.*$zone" "$dlog" && ok "the missing zone is logged: $(grep -m1 "zone.*$zone" "$dlog" | cut -c1-160)" \
		|| bad "nothing logged about the missing zone"
	mkdir "$zone"
	t0=$(date +%s)
	cp "${media[3]}" "$zone/"
	ingested_within "gone for two rescans, then back" 6

	# Moved away and replaced by a folder that already holds files, in subfolders.
	mkdir -p "$dir/new/CAM01/2026-11-28"
	cp "${media[4]}" "$dir/new/CAM01/2026-11-28/"
	cp "${media[5]}" "$dir/new/"
	mv "$zone" "$dir/old"
	mv "$dir/new" "$zone"
	t0=$(date +%s)
	ingested_within "moved away, replaced by a full folder" 6
	n=$(find "$dir/old" -type f | wc -l)
	[ "$n" = 0 ] || bad "the old folder holds $n files"
	kill -0 "$daemon" 2>/dev/null || { bad "custodyd died: $(tail -5 "$dlog")"; daemon=; finish; }
	verdict "zone recreated" "$dir" "$store" "$zone" "${media[@]}"
}

# ---------------------------------------------------------------------------------------------
clock_step() {
	local dir=$tmp/run store=$tmp/run/store zone=$tmp/run/zone media=() f lib
	lib=$(find /usr/lib /usr/lib64 -name libfaketimeMT.so.1 2>/dev/null | head -1)
	if [ -z "$lib" ]; then
		echo "SKIP: libfaketime is not installed (Debian package faketime; scripts/deps)"
		exit 77
	fi
	for f in 320 430 540 650 760 870; do
		clip "$tmp/media/c-$f.mp4" 1 $f
		media+=("$tmp/media/c-$f.mp4")
	done
	write_conf "$dir" "$store" "$zone"
	# The probe, wrapped: while $dir/hold exists it says so and waits, so that the clock can
	# step while a probe runs.  It gets the daemon's offset as it is when the probe starts, in
	# FAKETIME, which libfaketime reads once at load: a timestamp file read at each clock read
	# would be a system call its sandbox may forbid.
	cat >"$dir/probe" <<EOF
#!/bin/sh
if [ -e "$dir/hold" ]; then
	touch "$dir/probing"
	while [ -e "$dir/hold" ]; do sleep 0.1; done
fi
FAKETIME=\$(cat "$dir/offset")
export FAKETIME
unset FAKETIME_TIMESTAMP_FILE FAKETIME_NO_CACHE
exec "$CUSTODY_PROBE" "\$@"
EOF
	chmod +x "$dir/probe"
	# The daemon's wall clock (and its probe's) is real time plus the offset in $dir/offset;
	# the monotonic clock is left alone, as a real clock step leaves it.  Files keep the
	# times they were written with (NO_FAKE_STAT).
	# Run as a whole under libfaketime itself (the suites are also run a year ahead), this
	# test's own clock is ahead of real time by $base: the daemon's offset adds it, and its
	# inherited FAKETIME goes, which would take precedence over the offset file.
	local base
	base=$(($(date +%s) - $(env -u LD_PRELOAD -u FAKETIME date +%s)))
	[ "${base#-}" -gt 2 ] || base=0
	echo "$(printf '%+d' "$base")" >"$dir/offset"
	step() { # step SECONDS : the daemon's clock is now this test's time + SECONDS
		echo "$(printf '%+d' "$(($1 + base))")" >"$dir/offset"
		offset=$1
		sleep 0.3
	}
	offset=0
	start_daemon "$CUSTODYD" "$dir" -u FAKETIME LD_PRELOAD="$lib" FAKETIME_TIMESTAMP_FILE="$dir/offset" \
		FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 NO_FAKE_STAT=1 \
		CUSTODY_PROBE="$dir/probe"
	# seen N FIELD : a field of media N's entry (ingest or damaged), or "none"
	seen() {
		C log --limit 1000 --json | python3 -c '
import json, sys
name, field = sys.argv[1], sys.argv[2]
for e in json.load(sys.stdin)["entries"]:
    if e["entry"].get("type") in ("ingest", "damaged") and e["entry"]["name"] == name:
        print(e["entry"].get(field)); break
else:
    print("none")' "$(basename "${media[$1]}")" "$2"
	}
	# settled N : media N has its entry and has left the zone and staging
	settled() {
		if wait_for 30 eval '[ "$(seen '"$1"' type)" != none ]' && wait_gone 10 "$zone" "$store/staging"; then
			return 0
		fi
		bad "$(basename "${media[$1]}") not logged: $(tail -3 "$dlog")"
	}
	# drop N [MTIME_OFFSET] : copy media N into the zone, its mtime real time + MTIME_OFFSET
	# (a file written on the stepped clock); wait until it is logged.
	drop() {
		local m=${media[$1]}
		cp "$m" "$zone/.tmp-$1"
		touch -d "@$(($(date +%s) + ${2:-0}))" "$zone/.tmp-$1"
		mv "$zone/.tmp-$1" "$zone/$(basename "$m")"
		settled "$1"
	}
	# saw N WHAT [OFFSET] : media N's entry says ingested_at = real time + OFFSET (the offset
	# when it was stored; default: now), within 30 s
	saw() {
		local at real off=${3:-$offset}
		at=$(seen "$1" ingested_at)
		real=$(date +%s)
		if [ "$at" != none ] && [ $(($(date -d "$at" +%s) - real - off)) -le 5 ] &&
			[ $(($(date -d "$at" +%s) - real - off)) -ge -30 ]; then
			ok "$2: ingested_at $at (real time $(printf '%+d' "$off") s), storage $(seen "$1" storage)"
		else
			bad "$2: ingested_at $at, real time $(date -u +%FT%TZ), offset $off s"
		fi
	}
	checkpoints_follow() {
		if wait_for 5 signed_up_to_size; then
			ok "$1: a checkpoint is signed for all $(log_size) entries"
		else
			bad "$1: checkpoint at $(status_field 's["checkpoint"]["size"]'), log at $(log_size)"
		fi
	}
	uptime_sane() {
		local up
		up=$(status_field 's["uptime_s"]')
		[ "$up" -ge 0 ] && [ "$up" -lt 600 ] && ok "$1: uptime_s $up" || bad "$1: uptime_s $up"
	}

	drop 0
	saw 0 "no step"
	checkpoints_follow "no step"

	step -3600
	drop 1 -3600
	saw 1 "an hour back"
	[ "$(seen 1 storage)" = on_time ] || bad "an hour back: storage $(seen 1 storage)"
	checkpoints_follow "an hour back"
	uptime_sane "an hour back"
	# A file written before the step: its end is an hour in the daemon's future.
	drop 2 0
	[ "$(seen 2 time_in_future)" = True ] && [ "$(seen 2 storage)" = unknown_time ] \
		&& ok "an hour back, a file from before the step: time_in_future, storage unknown_time" \
		|| bad "an hour back, a file from before: time_in_future $(seen 2 time_in_future), storage $(seen 2 storage)"

	step 7200
	drop 3 7200
	saw 3 "two hours forward"
	checkpoints_follow "two hours forward"
	uptime_sane "two hours forward"

	# Forward past probe_timeout (10 min) while a probe runs: the probe is not killed.
	touch "$dir/hold"
	rm -f "$dir/probing"
	cp "${media[4]}" "$zone/"
	wait_for 20 test -e "$dir/probing" || bad "the probe did not start"
	step $((7200 + 3600))
	sleep 1
	rm "$dir/hold"
	settled 4
	[ "$(seen 4 type)" = ingest ] && ok "a step forward during the probe: the file is an ingest entry, not damaged" \
		|| bad "a step forward during the probe: the file is $(seen 4 type): $(seen 4 error)"
	saw 4 "an hour forward during its probe (stored before the step)" 7200
	checkpoints_follow "a step forward during a probe"

	# Back to real time while a probe runs.
	touch "$dir/hold"
	rm -f "$dir/probing"
	cp "${media[5]}" "$zone/"
	wait_for 20 test -e "$dir/probing" || bad "the probe did not start"
	step 0
	rm "$dir/hold"
	settled 5
	saw 5 "three hours back during its probe (stored before the step)" 10800
	checkpoints_follow "three hours back during a probe"
	kill -0 "$daemon" 2>/dev/null || { bad "custodyd died: $(tail -5 "$dlog")"; daemon=; finish; }
	verdict "clock steps" "$dir" "$store" "$zone" "${media[@]}"
	"$CUSTODY_VERIFY" checkpoint "$dir/state/checkpoint" --key "$tmp/log.pub" >/dev/null \
		&& ok "the published checkpoint verifies" || bad "the published checkpoint does not verify"
}

case $case in
lmdb-full) lmdb_full ;;
state-full) state_full ;;
zone-recreated) zone_recreated ;;
clock-step) clock_step ;;
*) echo "unknown case '$case'" >&2; exit 2 ;;
esac
finish
