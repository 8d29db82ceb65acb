#!/bin/bash
# custody-probe killed (kill -9) while it reads a large file: the daemon must log that file
# exactly once as `damaged`, with an error saying the probe crashed on signal 9, keep its
# original in the store, and go on ingesting the next file normally (docs/ingest.md, README "How an
# ingest goes" step 3).  Runs the shipped custodyd: no injection point is needed.
set -eu
. "$(dirname "$0")/lib.sh"

mkdir -p "$tmp/media"
# A few hundred MB of real media, made fast: 20 s of raw video, then the same packets looped
# by the muxer (no encoding), so that the probe runs for about a second.
ffmpeg -v error -nostdin -f lavfi -i testsrc=size=320x240:rate=25 -t 20 -c:v rawvideo \
	-pix_fmt yuv420p -f matroska "$tmp/media/seed.mkv"
ffmpeg -v error -nostdin -stream_loop 11 -i "$tmp/media/seed.mkv" -c copy -f matroska \
	"$tmp/media/big.mkv"
rm "$tmp/media/seed.mkv"
clip "$tmp/media/next.mp4" 2 440
size=$(stat -c %s "$tmp/media/big.mkv")
echo "big.mkv: $size bytes"

dir=$tmp/run
store=$dir/state/store
zone=$dir/zone
write_conf "$dir" "$store" "$zone"
start_daemon "$CUSTODYD" "$dir"
cp "$tmp/media/big.mkv" "$zone/"

# Catch the probe while it runs: a child of the daemon named custody-probe.  Kill it only once
# it has read part of the file (its read count), so that it dies mid-file and not at exec.
probe=
for _ in $(seq 1 3000); do
	probe=$(pgrep -P "$daemon" -x custody-probe || true)
	if [ -n "$probe" ]; then
		rchar=$(awk '/^rchar/ { print $2 }' "/proc/$probe/io" 2>/dev/null || echo 0)
		if [ "${rchar:-0}" -gt 1048576 ]; then
			kill -9 "$probe" && break
		fi
	fi
	probe=
	sleep 0.01
done
if [ -z "$probe" ]; then
	bad "never saw custody-probe running on big.mkv: $(tail -5 "$dlog")"
	finish
fi
echo "killed custody-probe $probe after it had read $rchar bytes (the file is $size)"

wait_gone 60 "$zone" "$store/staging" || bad "big.mkv not out of the zone: $(find "$zone" "$store/staging" -type f)"
grep -q "is damaged" "$dlog" && ok "the daemon reports the damaged file" \
	|| bad "no 'is damaged' line: $(tail -5 "$dlog")"
kill -0 "$daemon" 2>/dev/null && ok "the daemon survived its probe's death" || bad "the daemon died"

cp "$tmp/media/next.mp4" "$zone/"
wait_gone 30 "$zone" "$store/staging" || bad "next.mp4 not ingested: $(find "$zone" -type f)"
sleep 0.5
stop_daemon
if out=$(check_log "$dir" "$store" "damaged:$tmp/media/big.mkv" "$tmp/media/next.mp4"); then
	ok "$out: big.mkv once as damaged, next.mp4 once as ingest, both originals byte-identical"
else
	bad "$out"
fi
python3 - "$dir/entries.jsonl" <<'PY' && ok "the damaged entry says why" || bad "the damaged entry's error"
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l) if l.strip() else {}
    if e.get("type") == "damaged":
        print("error:", e["error"])
        assert "crashed" in e["error"] and "signal 9" in e["error"], e["error"]
        assert e["name"] == "big.mkv", e["name"]
PY
left=$(store_leftovers "$store")
[ -z "$left" ] && ok "nothing left in staging or tmp" || bad "left in the store: $left"
finish
