#!/bin/bash
# custody-verify fingerprint against stock FFmpeg.  Makes a matrix of small files with
# Debian's ffmpeg: MP4 with moov at the end and with faststart, MOV, MKV, MPEG-TS, AVI, 3GP,
# fragmented MP4; H.264, H.265, MPEG-4 Part 2 and MJPEG video; AAC (with its priming packet),
# PCM and MP3 audio; a data track (QuickTime timecode); creation_time set and unset.  For each:
# the file hash equals sha256sum's, and every packet hash, key packet and stream digest equals
# what `ffprobe -show_packets -show_data_hash sha256` says (media/compare.py).  Then a truncated
# copy, a copy with a corrupted header and a zero-byte file of each: damaged (exit 1), file hash
# still right, and what was read is what ffprobe reads.  Then the recording time (creation_time
# in UTC and local-labelled-UTC with --device-clock, the name pattern, the mtime, a 1970
# creation_time, a time in the future), usage errors, and determinism (the same bytes on every
# run, also with runs in parallel).
set -eu
: "${CUSTODY_VERIFY:?}"
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
cd "$tmp"

fp() { "$CUSTODY_VERIFY" fingerprint "$@"; }
# streams FILE: each stream of the fingerprint in FILE as "TYPE CODEC N packets", comma-separated
streams() {
	paste -d' ' <(jget "$1" '.streams[].type') <(jget "$1" '.streams[].codec') \
		<(jget "$1" '.streams[].packets') | sed 's/$/ packets/' | paste -sd, | sed 's/,/, /g'
}
# packets FILE: how many packets the fingerprint in FILE read, in all its streams
packets() { { jget "$1" '.streams[].packets' || true; } | awk '{ n += $1 } END { print n + 0 }'; }

# Small clips: 2 s of 160x120 at 15 fps and 16 kHz audio, so the whole matrix takes seconds.
video=(-f lavfi -i testsrc2=size=160x120:rate=15:duration=2)
audio=(-f lavfi -i sine=frequency=440:sample_rate=16000:duration=2)
x264=(-c:v libx264 -preset ultrafast -g 10)
make() {
	local out=$1
	shift
	if ffmpeg -nostdin -v error -y "${video[@]}" "${audio[@]}" "$@" "$out"; then
		files+=("$out")
	else
		bad "ffmpeg could not make $out"
	fi
}

files=()
make end.mp4 "${x264[@]}" -c:a aac
make fast.mp4 "${x264[@]}" -bf 2 -c:a aac -movflags +faststart \
	-metadata creation_time=2024-05-01T08:00:00Z
make frag.mp4 "${x264[@]}" -c:a aac -movflags +frag_keyframe+empty_moov
make hevc.mov -c:v libx265 -preset ultrafast -x265-params log-level=error -g 10 -c:a pcm_s16le \
	-metadata creation_time=2024-05-01T08:00:00Z
make mjpeg.mov -c:v mjpeg -c:a aac
make timecode.mov "${x264[@]}" -c:a aac -timecode 01:00:00:00
make mpeg4.mkv -c:v mpeg4 -g 10 -c:a libmp3lame -metadata creation_time=2024-05-01T08:00:00Z
make hevc.mkv -c:v libx265 -preset ultrafast -x265-params log-level=error -g 10 -c:a aac
make h264.ts "${x264[@]}" -c:a aac
make hevc.ts -c:v libx265 -preset ultrafast -x265-params log-level=error -g 10 -c:a libmp3lame
make mjpeg.avi -c:v mjpeg -c:a pcm_s16le
make mpeg4.avi -c:v mpeg4 -g 10 -c:a libmp3lame
make clip.3gp "${x264[@]}" -c:a aac -ac 1
echo "made ${#files[@]} files"

# Every intact file: exit 0, the right size and file hash, and ffprobe's packets.
for f in "${files[@]}"; do
	if ! fp --json --key-packets --packets "$f" >"$f.json" 2>"$f.err"; then
		bad "$f: exit $?: $(cat "$f.err")"
		continue
	fi
	want=$(sha256sum "$f" | cut -d' ' -f1)
	got=$(jget "$f.json" .sha256)
	[ "$got" = "$want" ] || bad "$f: sha256 $got, sha256sum says $want"
	[ "$(jget "$f.json" .size)" = "$(stat -c %s "$f")" ] || bad "$f: size"
	[ "$(jget "$f.json" .type)" = ingest ] || bad "$f: not an ingest entry"
	if out=$(python3 "$here/media/compare.py" "$f" "$f.json"); then
		ok "$f: $(jget "$f.json" .container), $(streams "$f.json") match ffprobe"
	else
		bad "$out"
	fi
done
# What the matrix must contain, lest a codec silently go missing.
seen=$(for j in ./*.json; do jget "$j" '.streams[].codec' || true; done | sort -u)
missing=$(for c in h264 hevc mpeg4 mjpeg aac pcm_s16le mp3 tmcd; do
	grep -qx "$c" <<<"$seen" || echo "$c"
done)
[ -z "$missing" ] || echo "missing from the matrix: $missing" >&2
[ -z "$missing" ] &&
	ok "the matrix has H.264, H.265, MPEG-4 Part 2, MJPEG, AAC, PCM, MP3 and a data track" ||
	bad "the matrix lacks a codec"
# AAC priming: the first AAC packet of an MP4 is flagged discard, and it is counted.
fp --packets end.mp4 | grep -q 'packet stream 1 #0 .* discard' &&
	ok "AAC priming packet (discard-flagged) is hashed" || bad "no discard-flagged AAC packet"
# The same recording in another container has the same video digest.
[ "$(jget end.mp4.json '.streams[0].digest')" = "$(jget clip.3gp.json '.streams[0].digest')" ] &&
	ok "end.mp4 and clip.3gp: same H.264 packets, same digest" || bad "remux digests differ"

# Damaged copies of each: cut short (mid-packet), a corrupted header, zero bytes.
for f in "${files[@]}"; do
	size=$(stat -c %s "$f")
	head -c $((size * 3 / 5 + 7)) "$f" >"cut-$f"
	cp "$f" "hdr-$f"
	head -c 64 /dev/zero | tr '\0' '\377' | dd of="hdr-$f" conv=notrunc status=none
	: >"zero-$f"
	for g in "cut-$f" "hdr-$f" "zero-$f"; do
		set +e
		fp --json --key-packets --packets "$g" >"$g.json" 2>"$g.err"
		code=$?
		set -e
		want=$(sha256sum "$g" | cut -d' ' -f1)
		if [ $code -ne 1 ]; then
			bad "$g: exit $code, wanted 1"
		elif [ "$(jget "$g.json" .type)" != damaged ]; then
			bad "$g: not reported damaged"
		elif [ "$(jget "$g.json" .sha256)" != "$want" ]; then
			bad "$g: wrong file hash"
		elif ! grep -q "is damaged" "$g.err"; then
			bad "$g: no one-line message on stderr"
		elif ! out=$(python3 "$here/media/compare.py" "$g" "$g.json" --partial); then
			bad "$out"
		else
			ok "$g: damaged ($(jget "$g.json" .error | cut -c1-90)), $(packets "$g.json")" \
				"packets read as ffprobe reads them"
		fi
	done
done
# Cut exactly where a packet ends, so no packet is left incomplete: MP4's index, Matroska's
# segment size and AVI's RIFF size still say that the file is short.  (A transport stream cut
# at a packet boundary cannot be told from a shorter recording.)
for f in fast.mp4 frag.mp4 mpeg4.mkv mjpeg.avi; do
	ffprobe -v error -show_entries packet=pos,size -of json "$f" >"$f.probe"
	mid=$(($(jget "$f.probe" '.packets|length') / 2))
	end=$(($(jget "$f.probe" ".packets[$mid].pos") + $(jget "$f.probe" ".packets[$mid].size")))
	head -c "$end" "$f" >"exact-$f"
	set +e
	fp --json --key-packets --packets "exact-$f" >"exact-$f.json" 2>/dev/null
	code=$?
	set -e
	if [ $code -eq 1 ] &&
		out=$(python3 "$here/media/compare.py" "exact-$f" "exact-$f.json" --partial); then
		ok "exact-$f (cut at a packet's end):" \
			"damaged ($(jget "exact-$f.json" .error | cut -c1-80))"
	else
		bad "exact-$f: exit $code ${out:-}"
	fi
done

# Not media at all.
printf 'Minutes of the meeting\n' >notes.txt
head -c 65536 /dev/urandom >noise.mp4
for g in notes.txt noise.mp4; do
	set +e
	fp "$g" >/dev/null 2>"$g.err"
	code=$?
	set -e
	[ $code -eq 1 ] && ok "$g: damaged ($(head -c 100 "$g.err"))" || bad "$g: exit $code"
done

# Recording time.
check_time() { # FILE WANT_START WANT_SOURCE [OPTIONS...]
	local f=$1 start=$2 source=$3
	shift 3
	fp --json "$@" "$f" >t.json || true
	got="$(jget t.json .recorded_start) $(jget t.json .time_source)"
	[ "$got" = "$start $source" ] && ok "recorded time of $f $*: $got" ||
		bad "recorded time of $f $*: $got, wanted $start $source"
}
check_time fast.mp4 2024-05-01T08:00:00Z tag
[ "$(jget t.json .recorded_end)" = 2024-05-01T08:00:02Z ] &&
	ok "recorded_end = start + duration" ||
	bad "recorded_end $(jget t.json .recorded_end)"
check_time fast.mp4 2024-05-01T00:00:00Z tag --device-clock Asia/Shanghai
check_time mpeg4.mkv 2024-05-01T00:00:00Z tag --device-clock Asia/Shanghai
ffmpeg -nostdin -v error -y -i end.mp4 -c copy -metadata creation_time=1970-01-01T00:00:00Z \
	CAM7_OFF3_20240501083000_0001.mp4
cp CAM7_OFF3_20240501083000_0001.mp4 epoch.mp4
touch -d '2024-05-02 00:00:02 UTC' epoch.mp4
check_time epoch.mp4 2024-05-02T00:00:00Z mtime
check_time CAM7_OFF3_20240501083000_0001.mp4 2024-05-01T00:30:00Z filename \
	--device-clock Asia/Shanghai --name-pattern '{device}_{officer}_{start:%Y%m%d%H%M%S}_{seq}'
[ "$(jget t.json .device) $(jget t.json .officer)" = "CAM7 OFF3" ] &&
	ok "device and officer from the name" ||
	bad "device/officer $(jget t.json .device) $(jget t.json .officer)"
ffmpeg -nostdin -v error -y -i end.mp4 -c copy \
	-metadata creation_time="$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)" future.mp4
fp --json future.mp4 >t.json
[ "$(jget t.json .time_in_future)" = true ] && ok "a time in the future is flagged" ||
	bad "future time not flagged"
tif=$(jget end.mp4.json .time_in_future || true)
{ [ -z "$tif" ] || [ "$tif" = null ]; } && ok "a past time is not flagged" ||
	bad "past time flagged"
fp --device-clock Asia/Shanghai fast.mp4 |
	grep -q '^recorded: 2024-05-01T00:00:00Z to 2024-05-01T00:00:02Z (time source: tag)' &&
	ok "human output" || bad "human output: $(fp fast.mp4 | head -8)"

# Usage and system errors: exit 2, one line on stderr.
expect2() {
	set +e
	fp "$@" >/dev/null 2>err
	code=$?
	set -e
	if [ $code -eq 2 ] && [ "$(wc -l <err)" -eq 1 ]; then
		ok "fingerprint $* -> 2 ($(cat err))"
	else
		bad "fingerprint $* -> $code: $(cat err)"
	fi
}
expect2
expect2 missing.mp4
expect2 end.mp4 fast.mp4
expect2 --frobnicate end.mp4
expect2 --device-clock Mars/Base end.mp4
expect2 --name-pattern '{device}{officer}' end.mp4
expect2 --clock-skew soon end.mp4
expect2 .
"$CUSTODY_VERIFY" fingerprint --help | grep -q -- '--device-clock' &&
	ok "--help names the options" ||
	bad "--help"
"$CUSTODY_VERIFY" --help | grep -q 'fingerprint FILE' &&
	ok "custody-verify --help lists fingerprint" ||
	bad "custody-verify --help"

# Determinism: the same bytes on every run, sequential or in parallel.
for f in fast.mp4 h264.ts mpeg4.mkv timecode.mov cut-mjpeg.avi; do
	fp --json --key-packets "$f" >"det-$f.0" 2>/dev/null || true
	for i in 1 2 3 4; do
		fp --json --key-packets "$f" >"det-$f.$i" 2>/dev/null &
	done
	wait
	for i in 5 6; do fp --json --key-packets "$f" >"det-$f.$i" 2>/dev/null || true; done
	same=1
	for i in 1 2 3 4 5 6; do cmp -s "det-$f.0" "det-$f.$i" || same=0; done
	[ $same = 1 ] && ok "$f: identical fingerprint on 7 runs" ||
		bad "$f: fingerprints differ between runs"
done

finish
