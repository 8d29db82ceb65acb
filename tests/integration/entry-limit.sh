#!/bin/bash
# Every entry stays within the log's limit of 65,535 bytes (docs/log.md "The entry limit"), end
# to end through custodyd and its probe: a Matroska file made by ffmpeg with 30 streams (one
# video, 29 audio tones of different pitch) and a 1,000-byte `make` tag, with max_streams = 64,
# is logged as `ingest` listing 24 streams, "streams_unlisted": 6, the tag cut to 128 bytes and
# "tags_cut": true; the unlisted streams' digests are indexed all the same, so the 30 streams
# copied into another container verify as a remux (each found by its digest).  Then an annotation over the socket's bounds is
# refused with too_large and says what to do.
set -eu
: "${CUSTODYD:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}"
. "$(dirname "$0")/../lib.sh"
die() { bad "$*"; finish; }
command -v ffmpeg >/dev/null || skip "no ffmpeg"

mkdir -p "$tmp/dock" "$tmp/media"
daemon_conf <<EOF
[store]
path = $tmp/state/store
scrub_interval = 0

[zone dock]
path = $tmp/dock
kind = dock
settle = 1s

[rules]
device_clock = UTC

[ingest]
rescan_interval = 2s
max_streams = 64

[socket]
path = $tmp/custody.sock
EOF
"$CUSTODYD" --check-config --config "$conf" >/dev/null || die "config rejected"

# 30 streams: video, then 29 tones (300, 310, … Hz), so that every stream's digest differs.
args=(-v error -nostdin -f lavfi -i "testsrc=size=64x48:rate=5")
maps=(-map 0:v)
for i in $(seq 1 29); do
	args+=(-f lavfi -i "sine=frequency=$((290 + i * 10)):sample_rate=8000")
	maps+=(-map "$i:a")
done
make=$(python3 -c 'print("M" * 1000)')
ffmpeg "${args[@]}" "${maps[@]}" -t 1 -c:v ffv1 -c:a pcm_s16le -metadata "make=$make" \
	"$tmp/media/many.mkv" || die "ffmpeg could not make the 30-stream file"
# All 30 streams, packets copied, in another container: a remux.
ffmpeg -v error -nostdin -i "$tmp/media/many.mkv" -map 0 -c copy "$tmp/media/many.nut" ||
	die "ffmpeg could not remux the file"

daemon_start
st_true() {
	[ "$(C status --json | python3 -c "import json,sys; s=json.load(sys.stdin); print($1)")" = True ]
}
cp "$tmp/media/many.mkv" "$tmp/dock/"
wait_for 60 st_true 's["size"] >= 1 and s["pipeline"]["in_flight"] == 0' || die "not ingested"
C log --type ingest --json >"$tmp/ingest.json"
python3 - "$tmp/ingest.json" <<'PY' &&
import json, sys
entries = json.load(open(sys.argv[1]))["entries"]
assert len(entries) == 1, entries
x = entries[0]["entry"]
assert x["type"] == "ingest", x.get("error")
assert len(x["streams"]) == 24, len(x["streams"])
assert [s["index"] for s in x["streams"]] == list(range(24)), x["streams"]
assert x["streams_unlisted"] == 6, x
make = x["tags"]["make"]
assert make == "M" * 128, make
assert x["tags_cut"] is True, x
canon = json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
assert len(canon.encode()) <= 65535, len(canon)
PY
	ok "30 streams, a 1,000-byte tag: 24 streams listed, 6 counted, the tag cut to 128 bytes" ||
	bad "the ingest entry: $(head -c 600 "$tmp/ingest.json")"

sleep 1.5 # a checkpoint covers the entry
set +e
# --config: custodyctl reads files up to the daemon's max_streams, as the daemon did.
C --config "$conf" verify "$tmp/media/many.nut" >"$tmp/v.out" 2>&1
set -e
[ "$(head -1 "$tmp/v.out" | cut -d: -f1)" = remux ] &&
	ok "the 30 streams in NUT verify as a remux: the 6 unlisted streams are indexed" ||
	bad "verify of the remux: $(head -3 "$tmp/v.out")"

# An annotation over the socket's bounds: too_large, and what to do instead.
list=$(seq -s, 0 2000)
set +e
C annotate hold --entries "$list" --reason "too many" >"$tmp/a.out" 2>&1
code=$?
set -e
[ $code -ne 0 ] && grep -q "several annotations" "$tmp/a.out" &&
	ok "a hold of 2,001 entries is refused: $(head -c 160 "$tmp/a.out")" ||
	bad "a hold of 2,001 entries: exit $code, $(cat "$tmp/a.out")"
daemon_stop
finish
