#!/bin/bash
# What makes a file damaged beyond what its demuxer says (ingest/fingerprint.c), on files made
# with Debian's ffmpeg and named as a camera's clips would be:
#   - still pictures (PNG, JPEG, BMP, GIF) and files of subtitles only, or of subtitles and an
#     attached picture: damaged, "no audio or video stream: ...", saying what they hold, with
#     the container ffprobe names and the packets ffprobe reads; audio with cover art is not;
#   - 100 KiB of zeros or of noise after an intact MP4 (moov at the end, faststart,
#     fragmented), MOV, 3GP, Matroska, MPEG-TS and M2TS, and a partial transport stream
#     packet: damaged, with the count in the error and in trailing_bytes, and what is read
#     still what ffprobe reads;
#   - an MP4 whose last box says it is longer than the file: cut short.
# The intact files themselves are tests/integration/fingerprint.sh's matrix.
set -eu
: "${CUSTODY_VERIFY:?}"
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
cd "$tmp"

fp() { "$CUSTODY_VERIFY" fingerprint "$@"; }

video=(-f lavfi -i testsrc2=size=160x120:rate=15:duration=2)
audio=(-f lavfi -i sine=frequency=440:sample_rate=16000:duration=2)
x264=(-c:v libx264 -preset ultrafast -g 10)
make() {
	local out=$1
	shift
	ffmpeg -nostdin -v error -y "${video[@]}" "${audio[@]}" "$@" "$out" ||
		bad "ffmpeg could not make $out"
}
make end.mp4 "${x264[@]}" -c:a aac
make fast.mp4 "${x264[@]}" -c:a aac -movflags +faststart
make frag.mp4 "${x264[@]}" -c:a aac -movflags +frag_keyframe+empty_moov
make clip.mov "${x264[@]}" -c:a pcm_s16le
make clip.3gp "${x264[@]}" -c:a aac -ac 1
make mpeg4.mkv -c:v mpeg4 -g 10 -c:a libmp3lame
make h264.ts "${x264[@]}" -c:a aac
make h264.m2ts "${x264[@]}" -c:a aac -f mpegts -mpegts_m2ts_mode 1
# They are intact: the end checks must not call them damaged.
for f in end.mp4 fast.mp4 frag.mp4 clip.mov clip.3gp mpeg4.mkv h264.ts h264.m2ts; do
	fp --json "$f" >"$f.json" 2>"$f.err" && [ "$(jget "$f.json" .type)" = ingest ] &&
		ok "$f: intact" || bad "$f: $(cat "$f.err")"
done

# Pictures and files without audio or video (each named as a camera's clip would be): damaged,
# saying what they hold instead, with the container ffprobe names; and the streams read are
# ffprobe's.  Audio with cover art is a recording.
pic=(-f lavfi -i testsrc2=size=160x120 -frames:v 1)
ffmpeg -nostdin -v error -y "${pic[@]}" still.png && cp still.png still-png.mp4
ffmpeg -nostdin -v error -y "${pic[@]}" still.jpg && cp still.jpg still-jpeg.mp4
ffmpeg -nostdin -v error -y "${pic[@]}" still.bmp && cp still.bmp still-bmp.mov
ffmpeg -nostdin -v error -y "${pic[@]}" still.gif && cp still.gif still-gif.mp4
printf '1\n00:00:00,000 --> 00:00:01,000\nhello\n' >subs.srt
ffmpeg -nostdin -v error -y -i subs.srt -c:s mov_text subs-only.mp4
ffmpeg -nostdin -v error -y -i subs.srt -attach still.png -metadata:s:t mimetype=image/png \
	-metadata:s:t filename=cover.png subs-cover.mkv
ffmpeg -nostdin -v error -y "${audio[@]}" -i still.png -map 0 -map 1 -c:a aac -c:v png \
	-disposition:v attached_pic audio-cover.mp4
for g in still-png.mp4:png_pipe still-jpeg.mp4:jpeg_pipe still-bmp.mov:bmp_pipe \
	still-gif.mp4:gif subs-only.mp4: subs-cover.mkv:; do
	want=${g#*:}
	g=${g%%:*}
	set +e
	fp --json --key-packets --packets "$g" >"$g.json" 2>"$g.err"
	code=$?
	set -e
	err=$(jget "$g.json" .error 2>/dev/null || echo "no answer")
	probed=$(ffprobe -v error -show_entries format=format_name -of default=nw=1:nk=1 "$g")
	if [ $code -ne 1 ] || [ "$(jget "$g.json" .type)" != damaged ]; then
		bad "$g: exit $code, not damaged ($err)"
	elif [ "${err#no audio or video stream: }" = "$err" ]; then
		bad "$g: error '$err', wanted 'no audio or video stream: ...'"
	elif [ -n "$want" ] && [ "$err" != "no audio or video stream: a still picture ($want)" ] &&
		[ "$err" != "no audio or video stream: a still picture (stream 0, $want)" ]; then
		bad "$g: error '$err', wanted a still picture ($want)"
	elif [ "$(jget "$g.json" .container)" != "$probed" ]; then
		bad "$g: container $(jget "$g.json" .container), ffprobe says $probed"
	elif ! out=$(python3 "$here/media/compare.py" "$g" "$g.json"); then
		bad "$out"
	else
		ok "$g: damaged ($err), as ffprobe reads it"
	fi
done
if fp --json audio-cover.mp4 >audio-cover.json 2>audio-cover.err &&
	[ "$(jget audio-cover.json .type)" = ingest ]; then
	ok "audio-cover.mp4: audio with an attached picture is a recording"
else
	bad "audio-cover.mp4: $(cat audio-cover.err)"
fi

# Bytes after the end of the container: 100 KiB of zeros or of noise after an intact file, and
# a partial transport stream packet.  Damaged, with the count in the error and in
# trailing_bytes; what is read is still exactly what ffprobe reads (the demuxers ignore it).
noise() { # noise N SEED : N pseudo-random bytes, the same for the same SEED
	python3 -c 'import random, sys; random.seed(int(sys.argv[2]))
sys.stdout.buffer.write(bytes(random.getrandbits(8) for _ in range(int(sys.argv[1]))))' "$@"
}
for f in end.mp4 fast.mp4 frag.mp4 clip.mov clip.3gp mpeg4.mkv h264.ts h264.m2ts; do
	for kind in zeros noise part; do
		g=$kind-$f
		n=102400
		cp "$f" "$g"
		case $kind in
		zeros) head -c $n /dev/zero >>"$g" ;;
		noise) noise $n 7 >>"$g" ;;
		part)
			case $f in *.ts | *.m2ts) n=100 ;; *) continue ;; esac
			noise $n 8 >>"$g" ;;
		esac
		set +e
		fp --json --key-packets --packets "$g" >"$g.json" 2>"$g.err"
		code=$?
		set -e
		err=$(jget "$g.json" .error 2>/dev/null || echo "no answer")
		if [ $code -ne 1 ] || [ "$(jget "$g.json" .type)" != damaged ]; then
			bad "$g: exit $code, not damaged ($err)"
		elif [ "$(jget "$g.json" .trailing_bytes)" != $n ]; then
			bad "$g: trailing_bytes $(jget "$g.json" .trailing_bytes), wanted $n ($err)"
		elif [ "${err#*$n bytes}" = "$err" ] || { [ $kind != part ] &&
			[ "${err#$n bytes after the end of the container}" = "$err" ]; }; then
			bad "$g: error '$err' does not give the $n bytes"
		elif ! out=$(python3 "$here/media/compare.py" "$g" "$g.json" --partial); then
			bad "$out"
		else
			ok "$g: damaged, trailing_bytes $n ($(echo "$err" | cut -c1-70))"
		fi
	done
done
# A box that runs past the end of the file: an intact MP4 whose last box says it is longer.
cp end.mp4 long-box.mp4
python3 - long-box.mp4 <<'PY'
import struct, sys
f = open(sys.argv[1], "r+b")
data = f.read()
off = last = 0
while off < len(data):
    last = off
    off += struct.unpack(">I", data[off:off + 4])[0]
f.seek(last)
f.write(struct.pack(">I", len(data) - last + 1000))
PY
set +e
fp --json long-box.mp4 >long-box.json 2>/dev/null
code=$?
set -e
[ $code -eq 1 ] && jget long-box.json .error | grep -q "1000 more than the file holds" &&
	ok "long-box.mp4: damaged ($(jget long-box.json .error | cut -c1-80))" ||
	bad "long-box.mp4: exit $code: $(jget long-box.json .error)"

finish
