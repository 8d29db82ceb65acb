#!/bin/bash
# daemon-bench: the daemon's figures for bench/RESULTS.md: a real custodyd, end to end.
#
#   CUSTODYD=… CUSTODYCTL=… CUSTODY_LOG=… CUSTODY_VERIFY=… [DAEMON_VERIFY_LOAD=…] \
#       bench/daemon-bench.sh [DIR]
#
# As root (it mounts a file system and drops the page cache).  DIR (default ./bench-daemon.d)
# must be on a disk, not tmpfs; it needs about 22 GB free while it runs and keeps only the
# clip (0.5 GB) afterwards.  About 5 minutes, plus 2.5 minutes of ffmpeg the first time.
#
# 0. Makes, once, daemon-500m.mp4 in DIR: 1080p30 H.264 (x264 -preset fast at 60 Mb/s asked,
#    about 30 Mb/s got: testsrc2 compresses well) + AAC 128 kb/s, at least 500,000,000 bytes;
#    and CLIPS (20) variants of it, `ffmpeg -c copy -metadata comment="custody-bench N"`: the
#    same packets, a different file and SHA-256 each, so that dedup (by file hash) skips none.
#    An ext4 file system in a sparse 32 GiB image file in DIR, on a loop device with direct
#    I/O (so that its pages are not cached twice: it behaves like a second disk).
# 1. Peers: `dd if=/dev/zero bs=1M conv=fsync` of the clips' total size into the ext4 image and
#    the same dd fed with the clip's bytes (this VM's disk writes zeros faster, at times), just
#    before and just after ingest (b); `cp` of the clips into the image + `sha256sum` of the
#    copies + `sync`.
# 2. Ingest (a): zone and store (with the daemon's state) on DIR's file system: the move path,
#    the clips read from the disk; (a') the same with the clips in the page cache.
#    Ingest (b): zone on DIR's file system, store and state on the ext4 image: the copy path.
#    Each: fresh state, workers = 2 (the default), settle = 0; the page cache dropped (sync;
#    echo 3 > /proc/sys/vm/drop_caches) before (then, for (a'), the clips read once with cat);
#    the clips moved into the zone with one `mv` (a rename, instant); timed until the zone is
#    empty and the log holds CLIPS entries (daemon-ingest-wait.py polls the socket's status
#    every 20 ms).  Each run's originals are the next run's clips (moved, not rewritten).
# 3. verify, on the daemon of (b) once a checkpoint covers its entries: CLIENTS (64)
#    connections sending, closed-loop, the verify request of the clips (built from
#    `custody-verify fingerprint --json` of each stored original, as custodyctl sends it but
#    without key packets) for VERIFY_SECONDS (10) after 2 s of warm-up (daemon-verify-load.c);
#    then one client for 3 s, for the unloaded latency.  The client runs on the same 2 vCPUs.
#    Splits: the same load with `status`, `entry N` and `proof` by SHA-256 requests, 3 s each.
# 4. RSS (/proc/PID/status): idle 2 s after each start, and after a restart on (b)'s log once
#    the verify runs have filled it with access entries; while ingesting RSS_FILES (8) clips
#    dropped together with workers = 8, once as configured and once with UV_THREADPOOL_SIZE=12
#    (libuv's pool has 4 threads unless told otherwise, and each ingest holds one).
# Prints a Markdown section for bench/RESULTS.md.  Exit 1 when a target is missed, 2 on errors.
set -eu
: "${CUSTODYD:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}" "${CUSTODY_VERIFY:?}"
CUSTODYD=$(realpath "$CUSTODYD") CUSTODYCTL=$(realpath "$CUSTODYCTL")
CUSTODY_LOG=$(realpath "$CUSTODY_LOG") CUSTODY_VERIFY=$(realpath "$CUSTODY_VERIFY")
here=$(cd "$(dirname "$0")" && pwd)
dir=$(realpath -m "${1:-bench-daemon.d}")
clips=${CLIPS:-20}
clients=${CLIENTS:-64}
verify_s=${VERIFY_SECONDS:-10}
rss_files=${RSS_FILES:-8}
[ "$(id -u)" = 0 ] || { echo "daemon-bench: run as root (mount, drop_caches)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "daemon-bench: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
[ $((2 * rss_files)) -le "$clips" ] || { echo "daemon-bench: needs CLIPS >= 2 * RSS_FILES" >&2; exit 2; }
mkdir -p "$dir"
cd "$dir"
[ "$(stat -f -c %T .)" != tmpfs ] || { echo "daemon-bench: '$dir' is on tmpfs" >&2; exit 2; }
say() { echo "daemon-bench: $*" >&2; }

daemon=
loopdev=
cleanup() {
	[ -z "$daemon" ] || kill -9 "$daemon" 2>/dev/null || true
	daemon=
	if mountpoint -q mnt 2>/dev/null; then umount mnt; fi
	[ -z "$loopdev" ] || losetup -d "$loopdev" 2>/dev/null || true
	# A loop device left by an interrupted run, on this image.
	if [ -e store.img ]; then
		for l in $(losetup -j "$PWD/store.img" -O NAME -n 2>/dev/null); do
			losetup -d "$l" 2>/dev/null || true
		done
	fi
	rm -rf a a2 b store.img mnt
}
trap cleanup EXIT
cleanup
rm -rf res
mkdir -p res
cut -d' ' -f1-3 /proc/loadavg >res/load-start

load=${DAEMON_VERIFY_LOAD:-}
if [ -z "$load" ]; then
	cc -O2 -o daemon-verify-load "$here/daemon-verify-load.c"
	load=$PWD/daemon-verify-load
fi

# ---- 0. media and the second file system ----
if [ ! -s daemon-500m.mp4 ]; then
	secs=140
	while :; do
		say "making daemon-500m.mp4 ($secs s of 1080p, a few minutes)..."
		ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=$secs" \
			-f lavfi -i "sine=frequency=1000:sample_rate=48000:duration=$secs" \
			-c:v libx264 -preset fast -b:v 60M -maxrate 60M -bufsize 120M -g 30 \
			-c:a aac -b:a 128k daemon-500m.tmp.mp4
		[ "$(stat -c %s daemon-500m.tmp.mp4)" -ge 500000000 ] && break
		secs=$((secs * 5 / 4))
	done
	mv daemon-500m.tmp.mp4 daemon-500m.mp4
fi
variants() { # DEST-DIR FIRST LAST
	mkdir -p "$1"
	for i in $(seq "$2" "$3"); do
		ffmpeg -nostdin -v error -y -i daemon-500m.mp4 -map 0 -c copy \
			-metadata comment="custody-bench $i" "$1/clip-$(printf %02d "$i").mp4"
	done
}
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
now() { date +%s%N; }

truncate -s 32G store.img
mkfs.ext4 -q -F store.img
mkdir -p mnt
loopdev=$(losetup --find --show --direct-io=on store.img 2>/dev/null || losetup --find --show store.img)
mount "$loopdev" mnt
echo "$(cat "/sys/block/${loopdev#/dev/}/loop/dio" 2>/dev/null || echo ?)" >res/loop-dio

say "making $clips variants..."
variants a/src 1 "$clips"
clip_bytes=$(stat -c %s a/src/clip-01.mp4)
total_bytes=$(cat a/src/*.mp4 | wc -c)
total_mib=$(( (total_bytes + (1 << 20) - 1) >> 20 ))

# The disk's write rate, into the ext4 image: dd of zeros, as the issue asks, and the same dd fed
# with the clip's bytes (from the page cache, through a pipe that carries about 1 GB/s here),
# because this machine's virtual disk writes zeros faster, at times (0.4 to 2.6 GB/s seen,
# against 0.45 to 0.58 GB/s for media).  Run just before and just after ingest (b), so that
# the peer brackets the run it is compared with.
dd_peers() { # TAG
	say "dd: $total_mib MiB of zeros, then of the clip's bytes, into the ext4 image ($1)..."
	drop_caches
	t0=$(now)
	dd if=/dev/zero of=mnt/dd.bin bs=1M count="$total_mib" conv=fsync status=none
	t1=$(now)
	echo "{\"bytes\": $((total_mib << 20)), \"seconds\": $(( (t1 - t0) / 1000 ))e-6}" >"res/dd-$1.json"
	rm mnt/dd.bin
	fstrim mnt 2>/dev/null || true
	drop_caches
	cat daemon-500m.mp4 >/dev/null
	t0=$(now)
	for _ in $(seq "$clips"); do cat daemon-500m.mp4; done |
		dd of=mnt/dd.bin bs=1M iflag=fullblock conv=fsync status=none
	t1=$(now)
	echo "{\"bytes\": $(stat -c %s mnt/dd.bin), \"seconds\": $(( (t1 - t0) / 1000 ))e-6}" \
		>"res/dd-data-$1.json"
	rm mnt/dd.bin
	fstrim mnt 2>/dev/null || true
}

# ---- a daemon ----
keygen() { [ -s log.key ] || "$CUSTODY_LOG" keygen bench.custody/log --out log.key >log.pub; }
rm -f log.key log.pub
keygen
conf() { # RUN-DIR STATE ZONE WORKERS
	mkdir -p "$1" "$2" "$3"
	cat >"$1/custody.conf" <<EOF
[log]
origin = bench.custody/log
key = $dir/log.key
verifier_key = $dir/log.pub
state = $2
checkpoint_interval = 1s

[store]
path = $2/store

[zone dock]
path = $3
kind = dock
settle = 0

[rules]
device_clock = UTC

[ingest]
workers = $4

[socket]
path = $dir/$1/custody.sock
EOF
}
C() { "$CUSTODYCTL" --socket "$dir/$run/custody.sock" --key "$dir/log.pub" "$@"; }
start_daemon() { # RUN-DIR [ENV...]: sets $daemon and $run
	run=$1
	shift
	env "$@" "$CUSTODYD" --config "$dir/$run/custody.conf" 2>>"$dir/$run/daemon.log" &
	daemon=$!
	for _ in $(seq 1 100); do
		[ -S "$run/custody.sock" ] && C status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	say "custodyd did not come up: $(tail -5 "$run/daemon.log")"
	exit 2
}
stop_daemon() { # and keep its log in res/
	kill -TERM "$daemon"
	if ! wait "$daemon"; then
		say "custodyd exited with an error: $(tail -5 "$run/daemon.log")"
		exit 2
	fi
	daemon=
	cat "$run/daemon.log" >>"res/daemon-$(basename "$run").log"
	: >"$run/daemon.log"
}
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
idle_rss() { # OUT: VmRSS and VmHWM 2 s after the start
	sleep 2
	echo "{\"rss_kib\": $(kib "$daemon" VmRSS), \"hwm_kib\": $(kib "$daemon" VmHWM)}" >"$1"
}
status_field() { C status --json | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# The ingested entries are CLIPS distinct, undamaged originals; writes their stored paths.
check_log() { # RUN WANT
	C log --json --limit 1000 >"$1/log.json"
	python3 - "$1/log.json" "$2" >"$1/stored.txt" <<'EOF'
import json, sys
entries = [e["entry"] for e in json.load(open(sys.argv[1]))["entries"]]
ing = [e for e in entries if e["type"] in ("ingest", "damaged")]
want = int(sys.argv[2])
bad = [e["name"] for e in ing if e["type"] != "ingest"]
assert not bad, f"damaged: {bad}"
assert len(ing) == want and len({e["sha256"] for e in ing}) == want, f"{len(ing)} entries"
for i, e in sorted(((x["index"], x["entry"]) for x in json.load(open(sys.argv[1]))["entries"]
                   if x["entry"]["type"] == "ingest"), key=lambda ie: ie[1]["name"]):
    print(e["stored"], e["name"], e["sha256"], i)
EOF
}
ingest() { # RUN TAG WANT FILE...: drop, wait, write res/TAG.json and res/TAG-after.json
	local r=$1 tag=$2 want=$3
	shift 3
	python3 "$here/daemon-ingest-wait.py" "$dir/$r/custody.sock" "$dir/$r/zone" "$daemon" \
		"$want" "$@" >"res/$tag.json"
	echo "{\"rss_kib\": $(kib "$daemon" VmRSS), \"hwm_kib\": $(kib "$daemon" VmHWM)}" \
		>"res/$tag-after.json"
	check_log "$r" "$want"
}

# ---- 2a. store on the zone's file system ----
conf a "$dir/a/state" "$dir/a/zone" 2
say "ingest (a), the move path..."
drop_caches
start_daemon a
idle_rss res/a-idle.json
ingest a a "$clips" a/src/*.mp4
stop_daemon
# The originals become the next runs' clips: the same bytes, without writing 10 GB again (a
# fresh log has not seen them).
reuse() { # FROM-RUN-DIR TO-DIR
	mkdir -p "$2"
	while read -r stored name _; do
		mv "$1/state/store/$stored" "$2/$name"
		chmod 0644 "$2/$name"
	done <"$1/stored.txt"
}
reuse a a2/src
rm -rf a

# ---- 2a'. the same, the clips already in the page cache (as just after a docking station
# wrote them) ----
conf a2 "$dir/a2/state" "$dir/a2/zone" 2
say "ingest (a'), the move path from the page cache..."
drop_caches
start_daemon a2
idle_rss res/a2-idle.json
cat a2/src/*.mp4 >/dev/null
ingest a2 a2 "$clips" a2/src/*.mp4
stop_daemon
reuse a2 b/src
rm -rf a2

# ---- 1. the peer: cp + sha256sum + sync ----
say "peer: cp + sha256sum + sync..."
mkdir -p mnt/peer
drop_caches
t0=$(now)
cp b/src/*.mp4 mnt/peer/
t1=$(now)
(cd mnt/peer && sha256sum *.mp4) >res/peer.sums
t2=$(now)
sync
t3=$(now)
echo "{\"cp\": $(( (t1 - t0) / 1000 ))e-6, \"sha256sum\": $(( (t2 - t1) / 1000 ))e-6," \
	"\"sync\": $(( (t3 - t2) / 1000 ))e-6, \"seconds\": $(( (t3 - t0) / 1000 ))e-6}" >res/peer.json
rm -rf mnt/peer
fstrim mnt 2>/dev/null || true

# ---- 2b. store on the other file system ----
dd_peers before
conf b "$dir/mnt/b-state" "$dir/b/zone" 2
say "ingest (b), the copy path..."
drop_caches
start_daemon b
idle_rss res/b-idle.json
ingest b b "$clips" b/src/*.mp4
dd_peers after
# The daemon's hashes are sha256sum's.
awk '{ print $3 }' b/stored.txt | sort >res/daemon.sums
awk '{ print $1 }' res/peer.sums | sort | cmp -s - res/daemon.sums \
	|| { say "the daemon's SHA-256s differ from sha256sum's"; exit 2; }

# ---- 3. verify ----
say "verify: building the requests..."
for _ in $(seq 1 50); do
	[ "$(status_field '(d.get("checkpoint") or {}).get("size", 0)')" -ge "$clips" ] && break
	sleep 0.2
done
while read -r stored name _; do
	"$CUSTODY_VERIFY" fingerprint --json "mnt/b-state/store/$stored" |
		python3 -c '
import json, sys
fp = json.load(sys.stdin)
req = {k: fp[k] for k in ("sha256", "size", "duration_us", "container", "tags") if fp.get(k) is not None}
req["name"] = sys.argv[1].rsplit("/", 1)[-1]
req["streams"] = [{k: s[k] for k in ("index", "type", "codec", "packets", "digest")} for s in fp["streams"]]
print(json.dumps({"op": "verify", "fingerprint": req}, separators=(",", ":")))' "$name"
done <b/stored.txt >res/requests.jsonl
say "verify: $clients clients for $verify_s s..."
size0=$(status_field 'd["size"]')
busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
busy0=$(busy)
python3 "$here/daemon-threads.py" "$daemon" >res/threads0.json
/usr/bin/time -f '{"wall_s": %e, "user_s": %U, "sys_s": %S}' -o res/load-time.json \
	"$load" "$dir/b/custody.sock" res/requests.jsonl "$clients" "$verify_s" 2 >res/load.txt
python3 "$here/daemon-threads.py" "$daemon" >res/threads1.json
busy1=$(busy)
python3 "$here/daemon-threads.py" res/threads0.json res/threads1.json >res/load-threads.json
"$load" "$dir/b/custody.sock" res/requests.jsonl 1 3 1 >res/load1.txt
sleep 2 # the last access entries are committed
size1=$(status_field 'd["size"]')
echo "{\"size0\": $size0, \"size1\": $size1, \"rss_kib\": $(kib "$daemon" VmRSS)," \
	"\"hwm_kib\": $(kib "$daemon" VmHWM), \"anon_kib\": $(kib "$daemon" RssAnon)," \
	"\"file_kib\": $(kib "$daemon" RssFile), \"machine_busy_s\": $(( (busy1 - busy0) ))e0," \
	"\"clk_tck\": $(getconf CLK_TCK)}" >res/verify.json
# Splits: cheaper operations on the same socket, the same way, 3 s each.
say "verify: splits (status, entry, proof by hash)..."
echo '{"op":"status"}' >res/req-status.jsonl
awk '{ printf "{\"op\":\"entry\",\"index\":%s}\n", $4 }' b/stored.txt >res/req-entry.jsonl
awk '{ printf "{\"op\":\"proof\",\"sha256\":\"%s\"}\n", $3 }' b/stored.txt >res/req-proof.jsonl
for op in status entry proof; do
	EXPECT_RESULT= "$load" "$dir/b/custody.sock" "res/req-$op.jsonl" "$clients" 3 1 >"res/load-$op.txt"
done
# Idle again, after a restart on this log (now mostly access entries): the index scan at start
# reads every entry, and LMDB's pages are mapped, so VmRSS counts those it touched (RssFile).
stop_daemon
start_daemon b
for _ in $(seq 1 600); do
	[ "$(status_field 'd["index"]["caught_up"]')" = True ] && break
	sleep 0.1
done
sleep 2
echo "{\"size\": $(status_field 'd["size"]'), \"rss_kib\": $(kib "$daemon" VmRSS)," \
	"\"hwm_kib\": $(kib "$daemon" VmHWM), \"anon_kib\": $(kib "$daemon" RssAnon)," \
	"\"file_kib\": $(kib "$daemon" RssFile), \"db_bytes\": $(du -bc mnt/b-state/log | tail -1 | cut -f1)}" \
	>res/idle-biglog.json
stop_daemon

# ---- 4. RSS while ingesting 8 at once, on the image (the move path) ----
mkdir -p mnt/r1/src mnt/r2/src
i=0
while read -r stored name _; do
	i=$((i + 1))
	if [ $i -le "$rss_files" ]; then
		mv "mnt/b-state/store/$stored" "mnt/r1/src/$name"
	elif [ $i -le $((2 * rss_files)) ]; then
		mv "mnt/b-state/store/$stored" "mnt/r2/src/$name"
	fi
done <b/stored.txt
rm -rf mnt/b-state b
for r in r1 r2; do
	conf "mnt/$r" "$dir/mnt/$r/state" "$dir/mnt/$r/zone" 8
	say "RSS: $rss_files clips at once, workers = 8 ($r)..."
	drop_caches
	if [ $r = r1 ]; then start_daemon "mnt/$r"; else start_daemon "mnt/$r" UV_THREADPOOL_SIZE=12; fi
	idle_rss "res/$r-idle.json"
	ingest "mnt/$r" $r "$rss_files" "mnt/$r/src/"*.mp4
	stop_daemon
done
# CPU time of the work an ingest does, per clip, from the page cache: the store's SHA-256 (one
# pass, as `openssl dgst -sha256`) and the probe's fingerprint (custody-verify fingerprint runs
# the same ing_fingerprint_fd()).
cat daemon-500m.mp4 >/dev/null
for t in openssl fingerprint; do
	case $t in
	openssl) cmd=(openssl dgst -sha256 daemon-500m.mp4) ;;
	fingerprint) cmd=("$CUSTODY_VERIFY" fingerprint --json daemon-500m.mp4) ;;
	esac
	"${cmd[@]}" >/dev/null
	/usr/bin/time -f '{"wall_s": %e, "user_s": %U, "sys_s": %S}' -o "res/split-$t.json" "${cmd[@]}" >/dev/null
done
echo "{\"clip_bytes\": $clip_bytes, \"total_bytes\": $total_bytes, \"clips\": $clips," \
	"\"base_bytes\": $(stat -c %s daemon-500m.mp4), \"clients\": $clients, \"verify_s\": $verify_s, \"rss_files\": $rss_files," \
	"\"loop_dio\": \"$(cat res/loop-dio)\", \"loadavg_start\": \"$(cat res/load-start)\"," \
	"\"loadavg_end\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"custodyd\": \"$CUSTODYD\"}" >res/params.json

python3 "$here/daemon-bench-report.py" res
