#!/bin/bash
# custody-probe dies with the custodyd that started it (probe/sandbox.c,
# sandbox_die_with_parent()).
#   1. custodyd is killed (kill -9) while its probe is busy on a file: custody-probe-fault's spin
#      hook, which would spin in its sandbox until its CPU limit, almost a minute here.  The
#      probe must be gone within two seconds.
#   2. A probe whose parent exits after the probe read its parent's pid but before it asked for
#      the death signal (custody-probe-fault waits there for $CUSTODY_PROBE_PDEATHSIG_DELAY_MS)
#      sees it and exits at once, without reading the file or answering.
#   3. The same wait with the parent alive: the probe answers as usual.
set -eu
. "$(dirname "$0")/lib.sh"
: "${CUSTODY_PROBE_FAULT:?}"

mkdir -p "$tmp/media"
clip "$tmp/media/one.mp4" 2 440

# gone PID : the process has exited (a zombie left to a reaper counts as exited).
gone() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null || true)
	[ -z "$state" ] || [ "$state" = Z ] || [ "$state" = X ]
}

# ---- 1. custodyd killed while its probe works ----
dir=$tmp/run
store=$dir/state/store
zone=$dir/zone
write_conf "$dir" "$store" "$zone"
# Long enough that neither custodyd's kill nor the probe's CPU limit ends the spin first.
sed -i 's/^rescan_interval = 2s$/&\nprobe_timeout = 60s/' "$dir/custody.conf"
grep -q '^probe_timeout = 60s$' "$dir/custody.conf" || bad "could not set probe_timeout"
start_daemon "$CUSTODYD" "$dir" CUSTODY_PROBE="$CUSTODY_PROBE_FAULT"
cp "$tmp/media/one.mp4" "$zone/fault-probe-spin.mp4"

# The probe, once in its sandbox (the spin hook runs there).
probe=
for _ in $(seq 1 300); do
	for p in $(pgrep -P "$daemon" 2>/dev/null || true); do
		if grep -q '^Seccomp:[[:space:]]*2$' "/proc/$p/status" 2>/dev/null &&
			tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q fault-probe-spin; then
			probe=$p
		fi
	done
	[ -n "$probe" ] && break
	sleep 0.1
done
if [ -z "$probe" ]; then
	bad "never saw the probe spinning on fault-probe-spin.mp4: $(tail -5 "$dlog")"
	finish
fi
sleep 0.5
gone "$probe" && bad "the probe $probe stopped spinning by itself before custodyd was killed"
kill -9 "$daemon"
wait "$daemon" 2>/dev/null || true
echo "custodyd $daemon killed while its probe $probe spun"
daemon=
for _ in $(seq 1 20); do
	gone "$probe" && break
	sleep 0.1
done
if gone "$probe"; then
	ok "the probe died with custodyd (within 2 s)"
else
	bad "the probe $probe outlived custodyd: $(tr '\0' ' ' <"/proc/$probe/cmdline" 2>/dev/null)"
	kill -9 "$probe" 2>/dev/null || true
fi

# ---- 2. the parent gone before the death signal was asked for ----
# The subshell starts the probe and exits once the probe says it is waiting.
(
	CUSTODY_PROBE_PDEATHSIG_DELAY_MS=1500 "$CUSTODY_PROBE_FAULT" --name one.mp4 \
		<"$tmp/media/one.mp4" >"$tmp/orphan.out" 2>"$tmp/orphan.err" &
	echo $! >"$tmp/orphan.pid"
	for _ in $(seq 1 200); do
		grep -q "waiting before asking for the death signal" "$tmp/orphan.err" && break
		sleep 0.05
	done
)
orphan=$(cat "$tmp/orphan.pid")
for _ in $(seq 1 50); do
	gone "$orphan" && break
	sleep 0.1
done
if ! gone "$orphan"; then
	bad "the orphaned probe $orphan still runs 5 s later"
	kill -9 "$orphan" 2>/dev/null || true
elif [ -s "$tmp/orphan.out" ]; then
	bad "the orphaned probe read the file and answered: $(head -c 200 "$tmp/orphan.out")"
elif ! grep -q "not reading the file: the process that started it (pid [0-9]*) has exited" \
	"$tmp/orphan.err"; then
	bad "the orphaned probe said: $(cat "$tmp/orphan.err")"
else
	ok "orphaned before its death signal was set: $(cat "$tmp/orphan.err")"
fi

# ---- 3. the same wait, the parent alive ----
set +e
CUSTODY_PROBE_PDEATHSIG_DELAY_MS=300 "$CUSTODY_PROBE_FAULT" --name one.mp4 \
	<"$tmp/media/one.mp4" 2>"$tmp/alive.err" | cat >"$tmp/alive.out"
status=${PIPESTATUS[0]}
set -e
if [ "$status" = 0 ] && python3 -c 'import json, sys
assert json.load(open(sys.argv[1]))["entry"]["type"] == "ingest"' "$tmp/alive.out"; then
	ok "with its parent alive the probe answers as usual"
else
	bad "with its parent alive: exit $status: $(cat "$tmp/alive.err")"
fi
finish
