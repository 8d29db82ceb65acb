#!/bin/bash
# What publication and witnessing add to ingest's CPU (bench/RESULTS.md, docs/witness.md).
#
#   CUSTODYD=… CUSTODYCTL=… CUSTODY_LOG=… CUSTODY_WITNESS=… bench/witness-bench.sh [DIR]
#
# Makes, once, CLIPS (40) clips in DIR: 10 s of 1080p30 H.264 + AAC (x264 ultrafast), each a
# `-c copy` variant of the first with its own comment, so that no two have one SHA-256.  Then
# ROUNDS (5) rounds, each two runs in alternation on fresh state (the clips copied beside the zone
# and moved into it at once):
#   plain     custodyd ingesting the clips (moved into its zone together), no [publish], no
#             witness;
#   witnessed the same with [publish] path and two witnesses (two custody-witness processes on
#             this machine) at witness_quorum = 2.
# checkpoint_interval = 1s in both, the most checkpoints (and so witness requests and
# publications) ingest can cause.  A run ends once the log holds every clip and, when
# witnessed, the published checkpoint covers them all; custodyd is then stopped, and its CPU
# time (user + system, with its probe children, from GNU time) is the figure, and, read from
# /proc/PID/task just before, the CPU of its `witness` and `publisher` threads, which is what
# witnessing and publishing add, measured apart from the noise between runs.  The witnesses'
# CPU is not counted: they run elsewhere.  Prints each run, the medians' ratio and the
# threads' share.
set -eu
: "${CUSTODYD:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}" "${CUSTODY_WITNESS:?}"
dir=$(realpath -m "${1:-bench-witness.d}")
clips=${CLIPS:-40}
rounds=${ROUNDS:-5}
mkdir -p "$dir"
cd "$dir"

if [ ! -e clips/c$((clips - 1)).mp4 ]; then
	rm -rf clips
	mkdir clips
	ffmpeg -v error -nostdin -f lavfi -i testsrc2=size=1920x1080:rate=30 -f lavfi \
		-i sine=frequency=440 -t 10 -c:v libx264 -preset ultrafast -c:a aac -shortest \
		clips/base.mp4
	for i in $(seq 0 $((clips - 1))); do
		ffmpeg -v error -nostdin -i clips/base.mp4 -c copy -metadata "comment=bench $i" \
			clips/c$i.mp4
	done
	rm clips/base.mp4
fi
bytes=$(cat clips/c*.mp4 | wc -c)

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# run NAME witnessed(0|1): prints "USER+SYS SECONDS" of custodyd for one ingest of the clips.
run() {
	local name=$1 witnessed=$2 r=$dir/run-$1 ports=() wp
	rm -rf "$r"
	mkdir -p "$r/zone" "$r/state"
	"$CUSTODY_LOG" keygen bench.custody/log --out "$r/log.key" >"$r/log.pub"
	{
		printf '[log]\norigin = bench.custody/log\nkey = %s\nverifier_key = %s\n' \
			"$r/log.key" "$r/log.pub"
		printf 'state = %s\ncheckpoint_interval = 1s\n' "$r/state"
		[ "$witnessed" = 0 ] || printf 'witness_quorum = 2\n'
		printf '\n[store]\npath = %s/store\n\n[zone dock]\npath = %s/zone\nsettle = 0\n\n' \
			"$r" "$r"
		printf '[socket]\npath = %s/s.sock\n\n' "$r"
		if [ "$witnessed" = 1 ]; then
			printf '[publish]\npath = %s/public\n\n' "$r"
			for w in 1 2; do
				wp=$(free_port)
				ports+=("$wp")
				"$CUSTODY_WITNESS" keygen "w$w.bench" --out "$r/w$w.key" >"$r/w$w.pub"
				mkdir -m 0700 "$r/w$w"
				printf '[witness]\nlisten = 127.0.0.1:%s\nkey = %s\nstate = %s\n\n[log b]\n' \
					"$wp" "$r/w$w.key" "$r/w$w" >"$r/w$w.conf"
				printf 'origin = bench.custody/log\nkey = %s\n' "$(cat "$r/log.pub")" \
					>>"$r/w$w.conf"
				"$CUSTODY_WITNESS" --config "$r/w$w.conf" >"$r/w$w.out" 2>"$r/w$w.log" &
				pids+=($!)
				printf '[witness w%s]\nurl = http://127.0.0.1:%s\nkey = %s\n\n' "$w" "$wp" \
					"$(cat "$r/w$w.pub")"
			done
		fi
	} >"$r/custody.conf"
	# Its output to files: this runs inside $(...), which would wait for any process that
	# holds the substitution's pipe.
	/usr/bin/time -f '%U %S' -o "$r/time" "$CUSTODYD" --config "$r/custody.conf" \
		>"$r/daemon.out" 2>"$r/daemon.log" &
	local tpid=$!
	local C=("$CUSTODYCTL" --socket "$r/s.sock" --key "$r/log.pub")
	for _ in $(seq 1 100); do "${C[@]}" status >/dev/null 2>&1 && break; sleep 0.1; done
	local t0 t1
	mkdir "$r/drop"
	cp clips/c*.mp4 "$r/drop/"
	sync -f "$r/drop"
	t0=$(date +%s.%N)
	mv "$r"/drop/c*.mp4 "$r/zone/"
	# Every clip logged, and (witnessed) the published checkpoint covering them.
	while :; do
		"${C[@]}" status --json >"$r/status" 2>/dev/null || true
		python3 - "$r/status" "$clips" "$witnessed" "$r/public/checkpoint" <<'PY' && break
import json, sys
s = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
if s["size"] < n or s["pipeline"]["queued"] or s["pipeline"]["in_flight"]:
    sys.exit(1)
if sys.argv[3] == "1":
    try:
        size = int(open(sys.argv[4]).read().split("\n")[1])
    except (OSError, IndexError, ValueError):
        sys.exit(1)
    if size < s["size"]:
        sys.exit(1)
PY
		sleep 0.05
	done
	t1=$(date +%s.%N)
	# The witness and publisher threads' own CPU, before custodyd exits: what witnessing and
	# publishing cost, measured apart from the noise between runs.
	local dpid threads=0
	dpid=$(pgrep -P "$tpid")
	for t in /proc/"$dpid"/task/*; do
		case $(cat "$t/comm") in witness | publisher)
			threads=$((threads + $(awk '{print $14 + $15}' "$t/stat"))) ;;
		esac
	done
	kill -TERM "$dpid"
	wait "$tpid" || true
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	pids=()
	read -r u s <"$r/time"
	echo "$(echo "$u + $s" | bc) $(echo "$t1 - $t0" | bc) $(echo "scale=2; $threads / $(getconf CLK_TCK)" | bc)"
}

plain='' witnessed='' pw='' ww='' share=''
for i in $(seq 1 "$rounds"); do
	set -- $(run plain$i 0)
	plain="$plain $1" pw="$pw $1/$2"
	set -- $(run witnessed$i 1)
	witnessed="$witnessed $1" ww="$ww $1/$2"
	share="$share $(echo "scale=4; $3 / ($1 - $3)" | bc)"
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$(((rounds + 1) / 2))p"; }
# shellcheck disable=SC2086
p=$(median $plain) w=$(median $witnessed)
echo "ingest of $clips clips ($bytes bytes), CPU s / wall s per run:"
echo "  plain:$pw; median CPU $p s"
echo "  witnessed + published:$ww; median CPU $w s"
echo "  witnessed / plain = $(echo "scale=3; $w / $p" | bc)"
# shellcheck disable=SC2086
echo "  the witness and publisher threads' CPU / the rest of the witnessed run's:$share;" \
	"median $(median $share)"
