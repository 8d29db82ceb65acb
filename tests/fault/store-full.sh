#!/bin/bash
# The store's filesystem fills up (README "How an ingest goes"; docs/ingest.md): the store on an
# 8 MiB tmpfs that a filler file has nearly filled, the zone on another filesystem (so each file
# is copied), the log's state on a third place.  Files bigger than the room left must make the
# daemon pause ingest with an ALERT line (priority <1> under journald) and show store_full in
# `status`, and stay in their zone; once the filler is deleted, ingest must resume by itself
# (the retry, every 30 s) and every file get exactly one entry.
set -eu
. "$(dirname "$0")/lib.sh"

mkdir -p "$tmp/media"
# Raw video with PCM sound: about 1.7 MB each, more than the room left; the tones differ.
media=()
for f in 330 440 550; do
	ffmpeg -v error -nostdin -f lavfi -i testsrc=size=256x192:rate=10 -f lavfi \
		-i "sine=frequency=$f" -t 2 -c:v rawvideo -pix_fmt yuv420p -c:a pcm_s16le \
		-f matroska "$tmp/media/full-$f.mkv"
	media+=("$tmp/media/full-$f.mkv")
done

dir=$tmp/run
sfs=$dir/storefs
store=$sfs/store
zone=$dir/zone
mount_tmpfs "$sfs" 8m
write_conf "$dir" "$store" "$zone"
# Leave about 1 MiB free.
head -c $((7 * 1024 * 1024)) /dev/zero >"$sfs/filler"
echo "store filesystem: $(df -k --output=avail "$sfs" | tail -1) KiB free; each file $(stat -c %s "${media[0]}") bytes"

# JOURNAL_STREAM makes the daemon prefix each line with its priority, as under journald.
start_daemon "$CUSTODYD" "$dir" JOURNAL_STREAM=0:0
for m in "${media[@]}"; do cp "$m" "$zone/"; done

alert=
for _ in $(seq 1 150); do
	alert=$(grep -m1 '^<1>\[store\].*disk is full' "$dlog" || true)
	[ -n "$alert" ] && break
	sleep 0.1
done
[ -n "$alert" ] && ok "ALERT: $alert" || bad "no <1> 'disk is full' line: $(tail -5 "$dlog")"
sleep 3 # every file has had its first try
full=$(C status --json | python3 -c 'import json,sys; p = json.load(sys.stdin)["pipeline"]; print(p["store_full"], p["failed"])')
echo "status: store_full, failed = $full"
[ "${full% *}" = True ] && ok "status shows store_full" || bad "status: store_full is ${full% *}"
n=$(find "$zone" -type f | wc -l)
[ "$n" = 3 ] && ok "the three files stay in their zone" || bad "$n files in the zone, wanted 3"
left=$(store_leftovers "$store")
[ -z "$left" ] && ok "no partial copy left in the store's tmp" || bad "left in the store: $left"
[ -z "$(find "$store/objects" -type f)" ] || bad "an original was stored in a full store?"

# Make room; the daemon must notice by itself, at its next retry (30 s after each failure).
rm "$sfs/filler"
t0=$(date +%s)
if wait_gone 45 "$zone"; then
	ok "ingest resumed by itself $(($(date +%s) - t0)) s after the room was made"
else
	bad "the zone still holds $(find "$zone" -type f | wc -l) files 45 s after the room was made"
fi
grep -q 'ingest resumed' "$dlog" && ok "the daemon says ingest resumed" \
	|| bad "no 'ingest resumed' line"
sleep 0.5
full=$(C status --json | python3 -c 'import json,sys; p = json.load(sys.stdin)["pipeline"]; print(p["store_full"], p["failed"])')
echo "status: store_full, failed = $full"
[ "${full% *}" = False ] && ok "status no longer shows store_full" || bad "status: store_full still ${full% *}"
stop_daemon
if out=$(check_log "$dir" "$store" "${media[@]}"); then
	ok "$out; each file once, byte-identical"
else
	bad "$out"
fi
left=$(store_leftovers "$store")
[ -z "$left" ] && ok "nothing left in staging or tmp" || bad "left in the store: $left"
finish
