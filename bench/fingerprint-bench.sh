#!/bin/bash
# fingerprint-bench: the fingerprinting figures for bench/RESULTS.md.
#
#   CUSTODY_VERIFY=build/verify/custody-verify/custody-verify bench/fingerprint-bench.sh [DIR]
#
# 1. Makes, once, in DIR (default ./bench-fingerprint.d; about 7 GB, two minutes of ffmpeg):
#    - fp-1g.mp4: 1080p30 H.264 (x264 -preset ultrafast at constant QP 4: a high bitrate, so
#      1 GiB takes few minutes of video and of encoding) + 48 kHz AAC at 128 kb/s, >= 1 GiB;
#    - fp-1g-16m.mp4: the same at 16 Mb/s, a body camera's bitrate (more, smaller packets
#      per byte: what ffprobe's per-packet cost depends on), >= 1 GiB;
#    - fp-4g.mp4: fp-1g.mp4 four times over, joined with ffmpeg's concat demuxer (-c copy).
# 2. For each 1 GiB clip, read into the page cache: custody-verify fingerprint, `ffprobe -v error
#    -show_packets -show_data_hash sha256`, sha256sum and `openssl dgst -sha256`, in the same
#    run, best of $RUNS (default 3) after a warm-up run each, as GB/s (10^9 bytes per second of
#    wall-clock time) and ratios.
# 3. Peak RSS (/usr/bin/time -v, "Maximum resident set size") of custody-verify fingerprint for
#    fp-1g.mp4 and fp-4g.mp4.
# Prints a Markdown section for bench/RESULTS.md.  Exit 1 when a target is missed on fp-1g.mp4
# (1.3 GB/s; 3.4x ffprobe, 2.5x sha256sum, 0.8x openssl; 64 MiB), 2 on errors.
set -eu
: "${CUSTODY_VERIFY:?set CUSTODY_VERIFY to the built custody-verify}"
dir=${1:-bench-fingerprint.d}
runs=${RUNS:-3}
mkdir -p "$dir"
cd "$dir"
[ -x /usr/bin/time ] || { echo "fingerprint-bench: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

make_clip() { # OUT SECONDS VIDEO-OPTIONS...: encode until OUT holds at least 1 GiB
	local out=$1 secs=$2
	shift 2
	[ -s "$out" ] && return
	echo "fingerprint-bench: making $out..." >&2
	while :; do
		ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=$secs" \
			-f lavfi -i "sine=frequency=1000:sample_rate=48000:duration=$secs" \
			-c:v libx264 -preset ultrafast "$@" -g 30 -c:a aac -b:a 128k "$out.tmp.mp4"
		[ "$(stat -c %s "$out.tmp.mp4")" -ge $((1 << 30)) ] && break
		secs=$((secs * 5 / 4))
	done
	mv "$out.tmp.mp4" "$out"
}
make_clip fp-1g.mp4 260 -qp 4
make_clip fp-1g-16m.mp4 560 -b:v 16M -maxrate 16M -bufsize 32M
if [ ! -s fp-4g.mp4 ]; then
	echo "fingerprint-bench: making fp-4g.mp4..." >&2
	printf "file '%s'\n" "$PWD/fp-1g.mp4" "$PWD/fp-1g.mp4" "$PWD/fp-1g.mp4" "$PWD/fp-1g.mp4" >list.txt
	ffmpeg -nostdin -v error -y -f concat -safe 0 -i list.txt -c copy fp-4g.tmp.mp4
	mv fp-4g.tmp.mp4 fp-4g.mp4
fi

# Best wall-clock nanoseconds of $runs runs of CMD (after one warm-up run), output discarded.
best() {
	local best="" t0 t1 t
	"$@" >/dev/null 2>&1 || true
	for _ in $(seq "$runs"); do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || { echo "fingerprint-bench: '$*' failed" >&2; exit 2; }
		t1=$(date +%s%N)
		t=$((t1 - t0))
		if [ -z "$best" ] || [ $t -lt "$best" ]; then best=$t; fi
	done
	echo "$best"
}

# clip size t_fingerprint t_ffprobe t_sha256sum t_openssl packets, one line per clip
for clip in fp-1g.mp4 fp-1g-16m.mp4; do
	cat "$clip" >/dev/null
	echo "$clip $(stat -c %s "$clip") $(best "$CUSTODY_VERIFY" fingerprint --json "$clip")" \
		"$(best ffprobe -v error -show_packets -show_data_hash sha256 "$clip")" \
		"$(best sha256sum "$clip") $(best openssl dgst -sha256 "$clip")" \
		"$("$CUSTODY_VERIFY" fingerprint --json "$clip" |
			python3 -c 'import json,sys; print(sum(s["packets"] for s in json.load(sys.stdin)["streams"]))')"
done >times.txt

rss() { # peak RSS in KiB of custody-verify fingerprint FILE
	/usr/bin/time -v "$CUSTODY_VERIFY" fingerprint --json "$1" 2>&1 >/dev/null |
		awk -F': ' '/Maximum resident set size/ { print $2 }'
}
cat fp-4g.mp4 >/dev/null
rss1=$(rss fp-1g.mp4)
rss4=$(rss fp-4g.mp4)
type4=$("$CUSTODY_VERIFY" fingerprint --json fp-4g.mp4 | python3 -c 'import json,sys; print(json.load(sys.stdin)["type"])')

python3 - "$rss1" "$rss4" "$type4" "$runs" "$(stat -c %s fp-4g.mp4)" <<'EOF'
import datetime, os, sys
rss1, rss4, type4, runs, size4 = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))) / 2**20
ok = lambda c: "yes" if c else "**no**"
print(f"""## Fingerprinting: custody-verify fingerprint against ffprobe, sha256sum, openssl

- Date: {datetime.date.today()}. Machine: {os.cpu_count()} vCPUs ({cpu}), {mem:.0f} GiB RAM, Linux {os.uname().release}, Debian 12.
- Command: `CUSTODY_VERIFY=build/verify/custody-verify/custody-verify bench/fingerprint-bench.sh DIR` (also
  `meson test -C build --benchmark --suite bench`). All reads from the page cache; best of {runs}
  runs after a warm-up; GB/s = 10^9 bytes per second of wall-clock time, process start included.
- Clips (made by the script, MP4 with moov at the end): `fp-1g.mp4` 1080p30 H.264 (x264
  ultrafast, QP 4, about 35 Mb/s) + AAC 128 kb/s; `fp-1g-16m.mp4` the same at 16 Mb/s.
""")
miss = False
for line in open("times.txt"):
    clip, size, t_fp, t_probe, t_sum, t_ssl, packets = line.split()
    size, t_fp, t_probe, t_sum, t_ssl = int(size), int(t_fp), int(t_probe), int(t_sum), int(t_ssl)
    gbs = lambda t: size / (t / 1e9) / 1e9
    fp, probe, s256, ssl = gbs(t_fp), gbs(t_probe), gbs(t_sum), gbs(t_ssl)
    print(f"""`{clip}`: {size:,} bytes, {int(packets):,} packets.

| command (same run) | time | throughput | custody-verify fingerprint is |
|---|---|---|---|
| `custody-verify fingerprint --json` | {t_fp/1e9:.3f} s | {fp:.2f} GB/s (target ≥ 1.3: {ok(fp >= 1.3)}) | |
| `ffprobe -v error -show_packets -show_data_hash sha256` | {t_probe/1e9:.3f} s | {probe:.2f} GB/s | {fp/probe:.2f} × (target ≥ 3.4 ×: {ok(fp/probe >= 3.4)}) |
| `sha256sum` | {t_sum/1e9:.3f} s | {s256:.2f} GB/s | {fp/s256:.2f} × (target ≥ 2.5 ×: {ok(fp/s256 >= 2.5)}) |
| `openssl dgst -sha256` | {t_ssl/1e9:.3f} s | {ssl:.2f} GB/s | {fp/ssl:.2f} × (target ≥ 0.8 ×: {ok(fp/ssl >= 0.8)}) |
""")
    if clip == "fp-1g.mp4":
        miss = fp < 1.3 or fp / probe < 3.4 or fp / s256 < 2.5 or fp / ssl < 0.8
print(f"""Peak RSS (`/usr/bin/time -v`, maximum resident set size) of `custody-verify fingerprint
--json`: {rss1/1024:.1f} MiB for `fp-1g.mp4`, {rss4/1024:.1f} MiB for `fp-4g.mp4` ({size4:,} bytes, the
1 GiB clip four times over; reported `{type4}`). Target ≤ 64 MiB whatever the size: {ok(max(rss1, rss4) <= 64 * 1024)}.""")
sys.exit(1 if miss or max(rss1, rss4) > 64 * 1024 else 0)
EOF
