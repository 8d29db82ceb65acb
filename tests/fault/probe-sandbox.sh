#!/bin/bash
# custody-probe's sandbox (docs/SECURITY.md, probe/sandbox.c).  custody-probe-fault is the probe
# built with test hooks: a file named fault-probe-<what> makes it, inside its sandbox, do what a
# file that took over a demuxer could (probe.c fault_hook()).
#   1. The sandbox as the kernel sees it (limits, seccomp, no_new_privs, descriptors), and each
#      hook run straight: it ends the way it should (exit 3, SIGXCPU, SIGSEGV, SIGSYS, SIGABRT,
#      glibc's heap check; an open() fails with EACCES and the fingerprint goes on).
#   2. A matrix of containers, intact and damaged: the shipped probe's answer in its sandbox is
#      byte for byte the answer without the sandbox (and without --sha256, where the
#      fingerprint wants a thread and is refused one), and its fingerprint is custody-verify's.
#   3. A real custodyd running custody-probe-fault ingests one file per hook together with
#      normal files: each hook file is one `damaged` entry whose error names what stopped the
#      probe, the normal files are ordinary entries, nothing is lost, `status` answers all along.
#   4. The shipped probe holds no hook.
set -eu
. "$(dirname "$0")/lib.sh"
: "${CUSTODY_PROBE_FAULT:?}"
for p in strings sha256sum timeout nice renice; do
	command -v "$p" >/dev/null || { echo "SKIP: '$p' is not installed"; exit 77; }
done

hooks="alloc spin segv syscall fork abort heap open"
mkdir -p "$tmp/media"
clip "$tmp/media/one.mp4" 2 440
one_sha=$(sha256sum "$tmp/media/one.mp4" | cut -d' ' -f1)

# probe PROGRAM NAME FILE [VAR=VALUE...] : run PROGRAM on FILE as custodyd does (the answer into
# a pipe; --max-seconds $secs, --sha256 $sha when set), with the extra environment; the answer
# in $tmp/answer, stderr in $tmp/stderr, the exit status in $status (128 + N for signal N).
secs=3
probe() {
	local prog=$1 name=$2 file=$3
	shift 3
	set +e
	nice -n -10 env "$@" "$prog" --name "$name" --max-seconds "$secs" ${sha:+--sha256 "$sha"} \
		<"$file" 2>"$tmp/stderr" | cat >"$tmp/answer"
	status=${PIPESTATUS[0]}
	set -e
}

# ---- 1. the sandbox itself, and each hook run straight ----

# While the spin hook runs (its answer and stderr are pipes, as under systemd, and it
# inherits one descriptor too many): what /proc says about it.
mkfifo "$tmp/o" "$tmp/e"
cat "$tmp/o" >/dev/null &
cat "$tmp/e" >"$tmp/spin.err" &
nice -n -10 "$CUSTODY_PROBE_FAULT" --name fault-probe-spin.mp4 --max-seconds 3 \
	<"$tmp/media/one.mp4" >"$tmp/o" 2>"$tmp/e" 3</etc/hostname &
pid=$!
# Until it is in its sandbox (it spins there until its CPU limit).
for _ in $(seq 1 100); do
	grep -q '^Seccomp:[[:space:]]*2$' "/proc/$pid/status" 2>/dev/null && break
	sleep 0.05
done
limits=$(cat "/proc/$pid/limits" 2>/dev/null || true)
pstatus=$(cat "/proc/$pid/status" 2>/dev/null || true)
fds=$(ls "/proc/$pid/fd" 2>/dev/null | sort -n | tr '\n' ' ' || true)
set +e
wait $pid
spin_status=$?
set -e
lim() { echo "$limits" | awk -v n="$1" 'index($0, n) == 1 { print $(NF-2), $(NF-1) }'; }
for pair in "Max address space=536870912 536870912" "Max cpu time=3 4" "Max open files=3 3" \
	"Max file size=0 0" "Max core file size=0 0" "Max processes=0 0"; do
	got=$(lim "${pair%%=*}")
	[ "$got" = "${pair#*=}" ] && ok "probe limit: ${pair%%=*} $got" ||
		bad "probe limit ${pair%%=*}: '$got', wanted '${pair#*=}'"
done
echo "$pstatus" | grep -q '^Seccomp:[[:space:]]*2$' && ok "probe: seccomp filter mode" ||
	bad "probe: not in seccomp filter mode: $(echo "$pstatus" | grep -i seccomp)"
echo "$pstatus" | grep -q '^NoNewPrivs:[[:space:]]*1$' && ok "probe: no_new_privs" ||
	bad "probe: no_new_privs not set"
[ "$fds" = "0 1 2 " ] && ok "probe: descriptors 0 1 2 only (the inherited fd 3 closed)" ||
	bad "probe: descriptors '$fds'"
[ $spin_status = $((128 + 24)) ] && ok "spin: SIGXCPU at the CPU limit" ||
	bad "spin: exit status $spin_status, wanted 152 (SIGXCPU): $(cat "$tmp/spin.err")"

sha=$one_sha
for h in $hooks; do
	probe "$CUSTODY_PROBE_FAULT" "fault-probe-$h.mp4" "$tmp/media/one.mp4"
	err=$(head -c 300 "$tmp/stderr" | tr '\n' ' ')
	case $h in
	alloc) want=3 ;;
	spin) want=$((128 + 24)) ;;
	segv) want=$((128 + 11)) ;;
	syscall | fork) want=$((128 + 31)) ;;
	abort | heap) want=$((128 + 6)) ;;
	open) want=0 ;;
	esac
	if [ "$status" != $want ]; then
		bad "hook $h: exit status $status, wanted $want: $err"
		continue
	fi
	case $h in
	alloc)
		mib=$(grep -o 'after [0-9]* MiB' "$tmp/stderr" | grep -o '[0-9]*' || echo 0)
		[ "${mib:-0}" -gt 0 ] && [ "$mib" -lt 512 ] &&
			ok "alloc: exit 3, out of memory after $mib MiB (limit 512 MiB of address space)" ||
			bad "alloc: $err" ;;
	heap)
		grep -q "double free detected" "$tmp/stderr" &&
			ok "heap: SIGABRT, and glibc's message reached stderr" || bad "heap: $err" ;;
	open)
		if grep -q "open('/etc/passwd'): Permission denied" "$tmp/stderr" &&
			python3 -c 'import json,sys; json.load(open(sys.argv[1]))["entry"]["streams"][1]' \
				"$tmp/answer"; then
			ok "open: EACCES, and the fingerprint went on"
		else
			bad "open: $err"
		fi ;;
	*) ok "$h: exit status $status" ;;
	esac
done
probe "$CUSTODY_PROBE_FAULT" fault-probe-syscall.mp4 "$tmp/media/one.mp4" CUSTODY_PROBE_SANDBOX=off
[ "$status" = 2 ] && grep -q "instead of being killed" "$tmp/stderr" &&
	ok "syscall without the sandbox: socket() works (so the kill above is the filter's)" ||
	bad "syscall without the sandbox: exit $status: $(cat "$tmp/stderr")"

# ---- 2. the same answer, sandboxed or not, on every container ----

video=(-f lavfi -i testsrc2=size=160x120:rate=15:duration=2)
audio=(-f lavfi -i sine=frequency=440:sample_rate=16000:duration=2)
x264=(-c:v libx264 -preset ultrafast -g 10)
x265=(-c:v libx265 -preset ultrafast -x265-params log-level=error -g 10)
files=()
make() {
	local out=$tmp/media/$1
	shift
	ffmpeg -nostdin -v error -y "${video[@]}" "${audio[@]}" "$@" "$out" && files+=("$out") ||
		bad "ffmpeg could not make $out"
}
make end.mp4 "${x264[@]}" -c:a aac
make fast.mp4 "${x264[@]}" -bf 2 -c:a aac -movflags +faststart \
	-metadata creation_time=2024-05-01T08:00:00Z
make frag.mp4 "${x264[@]}" -c:a aac -movflags +frag_keyframe+empty_moov
make hevc.mov "${x265[@]}" -c:a pcm_s16le
make mjpeg.mov -c:v mjpeg -c:a aac
make timecode.mov "${x264[@]}" -c:a aac -timecode 01:00:00:00
make mpeg4.mkv -c:v mpeg4 -g 10 -c:a libmp3lame
make hevc.mkv "${x265[@]}" -c:a aac
make h264.ts "${x264[@]}" -c:a aac
make hevc.ts "${x265[@]}" -c:a libmp3lame
make mjpeg.avi -c:v mjpeg -c:a pcm_s16le
make mpeg4.avi -c:v mpeg4 -g 10 -c:a libmp3lame
make clip.3gp "${x264[@]}" -c:a aac -ac 1
for f in end.mp4 h264.ts mpeg4.avi hevc.mkv; do
	size=$(stat -c %s "$tmp/media/$f")
	head -c $((size * 3 / 5 + 7)) "$tmp/media/$f" >"$tmp/media/cut-$f"
	cp "$tmp/media/$f" "$tmp/media/hdr-$f"
	head -c 64 /dev/zero | tr '\0' '\377' | dd of="$tmp/media/hdr-$f" conv=notrunc status=none
	files+=("$tmp/media/cut-$f" "$tmp/media/hdr-$f")
done
printf 'not media\n' >"$tmp/media/notes.txt"
files+=("$tmp/media/notes.txt")

same=0
secs=60
for f in "${files[@]}"; do
	n=$(basename "$f")
	sha=$(sha256sum "$f" | cut -d' ' -f1)
	probe "$CUSTODY_PROBE_FAULT" "$n" "$f" CUSTODY_PROBE_SANDBOX=off
	cp "$tmp/answer" "$tmp/open.json"
	[ "$status" = 0 ] || { bad "$n: unsandboxed probe: exit $status: $(cat "$tmp/stderr")"; continue; }
	probe "$CUSTODY_PROBE" "$n" "$f"
	[ "$status" = 0 ] || { bad "$n: sandboxed probe: exit $status: $(cat "$tmp/stderr")"; continue; }
	cmp -s "$tmp/answer" "$tmp/open.json" || { bad "$n: the sandboxed answer differs"; continue; }
	# Without --sha256 the fingerprint hashes the file itself and asks for a thread to do it.
	sha=
	probe "$CUSTODY_PROBE" "$n" "$f"
	[ "$status" = 0 ] && cmp -s "$tmp/answer" "$tmp/open.json" ||
		{ bad "$n: sandboxed, without --sha256: exit $status, $(cat "$tmp/stderr")"; continue; }
	set +e
	"$CUSTODY_VERIFY" fingerprint --json "$f" >"$tmp/verify.json" 2>/dev/null
	set -e
	if out=$(python3 - "$tmp/answer" "$tmp/verify.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["entry"]
v = json.load(open(sys.argv[2]))
for k in ("type", "sha256", "size", "container", "duration_us", "streams"):
    if a.get(k) != v.get(k):
        sys.exit("%s: probe %r, custody-verify %r" % (k, a.get(k), v.get(k)))
print("%s, %s" % (a["type"], a["container"]))
PY
	); then
		same=$((same + 1))
		echo "  $n: $out"
	else
		bad "$n: $out"
	fi
done
[ $same = ${#files[@]} ] && ok "all $same files: the same answer in the sandbox and out of it," \
	"with and without --sha256, and custody-verify's fingerprint" ||
	bad "only $same of ${#files[@]} files gave the same answer"

# ---- 3. custodyd with custody-probe-fault: hook files beside normal ones ----

dir=$tmp/run
store=$dir/state/store
zone=$dir/zone
write_conf "$dir" "$store" "$zone"
# 3 s: the probe gets --max-seconds 2, so the spinning one reaches its CPU limit (2 s) a second
# before custodyd would kill it for its time, if it gets two thirds of a CPU.  On a busy machine
# it may not: every thread of the daemon (its probes start from the worker threads and inherit
# their policy) goes round-robin realtime for the test, so that a spinning probe has a CPU.
# Where that is not allowed they get a higher priority, and custodyd's kill for time may then
# come first, which is as right an outcome.
sed -i 's/^rescan_interval = 2s$/&\nprobe_timeout = 3s/' "$dir/custody.conf"
grep -q '^probe_timeout = 3s$' "$dir/custody.conf" || bad "could not set probe_timeout"
start_daemon "$CUSTODYD" "$dir" CUSTODY_PROBE="$CUSTODY_PROBE_FAULT"
realtime=0
if command -v chrt >/dev/null && chrt -a -r -p 1 "$daemon" >/dev/null 2>&1; then
	realtime=1
else
	for t in /proc/"$daemon"/task/*; do renice -n -10 -p "${t##*/}" >/dev/null || true; done
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); realtime daemon: $realtime"

media=()
freq=300
for h in $hooks; do
	clip "$tmp/media/fault-probe-$h.mp4" 2 $freq
	freq=$((freq + 70))
	if [ $h = open ]; then
		media+=("$tmp/media/fault-probe-$h.mp4")
	else
		media+=("damaged:$tmp/media/fault-probe-$h.mp4")
	fi
done
mkdir -p "$tmp/normal"
for f in end.mp4 mpeg4.mkv h264.ts mjpeg.avi; do
	cp "$tmp/media/$f" "$tmp/normal/normal-$f"
	media+=("$tmp/normal/normal-$f")
done
cp "$tmp/media"/fault-probe-*.mp4 "$tmp/normal"/* "$zone/"

# While the probes misbehave the daemon answers status, asked every half second.
failed=0
checks=0
slowest=0
for _ in $(seq 1 300); do
	[ -z "$(find "$zone" "$store/staging" -type f 2>/dev/null)" ] && break
	t0=$(date +%s%N)
	timeout 5 "$CUSTODYCTL" --socket "$sock" --key "$tmp/log.pub" status >/dev/null 2>&1 ||
		failed=$((failed + 1))
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ $ms -le $slowest ] || slowest=$ms
	checks=$((checks + 1))
	sleep 0.5
done
wait_gone 30 "$zone" "$store/staging" ||
	bad "files left in the zone or staging: $(find "$zone" "$store/staging" -type f)"
[ $failed = 0 ] && ok "status answered all $checks times during the ingest (slowest $slowest ms)" ||
	bad "status failed $failed of $checks times"
C status >/dev/null && ok "the daemon answers status after the ingest" || bad "no status"
kill -0 "$daemon" 2>/dev/null && ok "the daemon survived its probes" || bad "the daemon died"
grep -q "test hook: open('/etc/passwd'): Permission denied" "$dlog" &&
	ok "the open hook's EACCES is in the daemon's log" || bad "no EACCES line in the log"
stop_daemon
if out=$(check_log "$dir" "$store" "${media[@]}"); then
	ok "$out: each hook file once as damaged (open: ingest), each normal file once as" \
		"ingest, originals intact"
else
	bad "$out"
fi
python3 - "$dir/entries.jsonl" $realtime <<'PY' && ok "each damaged entry names what stopped the probe" ||
	bad "damaged entries' reasons"
import json, sys
want = {
    "alloc": ["ran out of memory", "memory limit"],
    "spin": ["CPU limit"] if sys.argv[2] == "1" else [],
    "segv": ["crashed (signal 11"],
    "syscall": ["forbidden system call (sandbox)", "signal 31"],
    "fork": ["forbidden system call (sandbox)", "signal 31"],
    "abort": ["aborted (signal 6"],
    "heap": ["aborted (signal 6"],
}
seen = set()
for l in open(sys.argv[1]):
    e = json.loads(l) if l.strip() else {}
    name = e.get("name", "")
    if not name.startswith("fault-probe-"):
        continue
    hook = name[len("fault-probe-"):-len(".mp4")]
    if hook == "open":
        assert e["type"] == "ingest", (name, e["type"])
        continue
    print("  %s: %s" % (name, e["error"]))
    assert e["type"] == "damaged", (name, e["type"])
    for w in want[hook]:
        assert w in e["error"], (name, w, e["error"])
    if hook == "spin" and not want[hook]:
        assert "CPU limit" in e["error"] or "ran past" in e["error"], e["error"]
    seen.add(hook)
assert seen == set(want), seen
PY
left=$(store_leftovers "$store")
[ -z "$left" ] && ok "nothing left in staging or tmp" || bad "left in the store: $left"

# ---- 4. the shipped probe holds no hook ----

n=$(strings "$CUSTODY_PROBE" | grep -c -e fault-probe- -e CUSTODY_PROBE_SANDBOX || true)
[ "$n" = 0 ] && ok "the shipped custody-probe holds no test hook" ||
	bad "the shipped custody-probe holds $n test-hook strings"
n=$(strings "$CUSTODY_PROBE_FAULT" | grep -c -e fault-probe- -e CUSTODY_PROBE_SANDBOX || true)
[ "$n" -ge 2 ] && ok "custody-probe-fault has its hooks" || bad "custody-probe-fault has no hooks"
finish
