#!/bin/bash
# soak: the soak for bench/RESULTS.md.  A real custodyd takes SMALL (10,000) small clips
# and LARGE (50) large ones while CLIENTS (64) connections verify without pause and the
# scrubber re-hashes the store again and again; RSS and descriptors are sampled every second.
#
#   CUSTODYD=… CUSTODYCTL=… CUSTODY_LOG=… CUSTODY_VERIFY=… DAEMON_VERIFY_LOAD=… \
#       bench/soak.sh [DIR]
#
# DIR (default ./soak.d) on a disk; it needs about LARGE x LARGE_MB x 2 MB free.  The clips:
# one small MP4 (1 s, 160x120, about 10 KB) and one large (LARGE_MB, default 100 MB, 1080p)
# made once with ffmpeg, each with an 8-character comment tag that the script rewrites in
# place ("00000001", …): every variant is a valid file with its own SHA-256, made without
# running ffmpeg 10,050 times.  They are moved into the zone (a rename, same file system) in
# batches of BATCH (100) every 0.1 s, a large one after every SMALL / LARGE small ones.
#
# At the end: every clip is in the log exactly once (by SHA-256 and by name), the zone is
# empty, every original's bytes equal its variant (the last scrub pass: checked = all, ok =
# all), and no entry is damaged.  RSS and the descriptor count over the run: first and last
# quarter compared.  Prints a Markdown section; exit 1 if a check fails, 2 on errors.
set -eu
: "${CUSTODYD:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}" "${CUSTODY_VERIFY:?}" "${DAEMON_VERIFY_LOAD:?}"
CUSTODYD=$(realpath "$CUSTODYD") CUSTODYCTL=$(realpath "$CUSTODYCTL")
CUSTODY_LOG=$(realpath "$CUSTODY_LOG") CUSTODY_VERIFY=$(realpath "$CUSTODY_VERIFY")
DAEMON_VERIFY_LOAD=$(realpath "$DAEMON_VERIFY_LOAD")
dir=$(realpath -m "${1:-soak.d}")
small=${SMALL:-10000}
large=${LARGE:-50}
large_mb=${LARGE_MB:-100}
clients=${CLIENTS:-64}
batch=${BATCH:-100}
mkdir -p "$dir"
cd "$dir"
say() { echo "soak: $*" >&2; }
daemon=
load=
cleanup() {
	[ -z "$load" ] || kill "$load" 2>/dev/null || true
	[ -z "$daemon" ] || kill -9 "$daemon" 2>/dev/null || true
}
trap cleanup EXIT

# ---- the clips ----
if [ ! -f small.mp4 ]; then
	ffmpeg -v error -y -f lavfi -i testsrc2=size=160x120:rate=10 -f lavfi -i sine=d=1 -t 1 \
		-c:v libx264 -preset ultrafast -c:a aac -metadata comment=XXXXXXXX small.mp4
fi
if [ ! -f large.mp4 ] || [ "$(stat -c %s large.mp4)" -lt $((large_mb * 1000000 * 9 / 10)) ]; then
	say "making large.mp4 (about $large_mb MB of 1080p, a minute or two)..."
	ffmpeg -v error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 -f lavfi -i sine \
		-t $((large_mb * 8 / 30)) -c:v libx264 -preset ultrafast -b:v 30M -c:a aac \
		-metadata comment=XXXXXXXX large.mp4
fi
rm -rf state zone src
mkdir -p state zone src/s src/l
say "writing $small + $large variants..."
python3 - "$small" "$large" <<'PY'
import sys
small, large = int(sys.argv[1]), int(sys.argv[2])
for name, n, out in (("small.mp4", small, "src/s/s"), ("large.mp4", large, "src/l/l")):
    data = open(name, "rb").read()
    at = data.index(b"XXXXXXXX")
    assert data.count(b"XXXXXXXX") == 1, name
    for i in range(n):
        tag = b"%08d" % (i + 1)
        with open("%s%06d.mp4" % (out, i + 1), "wb") as f:
            f.write(data[:at]); f.write(tag); f.write(data[at + 8:])
PY
[ -f log.key ] || "$CUSTODY_LOG" keygen soak.custody/log --out log.key >log.pub
cat >custody.conf <<EOF
[log]
origin = soak.custody/log
key = $dir/log.key
verifier_key = $dir/log.pub
state = $dir/state
checkpoint_interval = 1s

[store]
path = $dir/state/store
scrub_interval = 0
scrub_rate = 200MiB

[zone dock]
path = $dir/zone
settle = 0

[socket]
path = $dir/custody.sock
EOF
C() { "$CUSTODYCTL" --socket "$dir/custody.sock" --key "$dir/log.pub" "$@"; }
status() { C status --json; }
"$CUSTODYD" --config "$dir/custody.conf" 2>daemon.log &
daemon=$!
for _ in $(seq 1 100); do [ -S custody.sock ] && C status >/dev/null 2>&1 && break; sleep 0.1; done

# Seeds for the verify load: the first 20 small clips, logged before the soak starts.
mv src/s/s0000{01..20}.mp4 zone/
for _ in $(seq 1 300); do
	[ "$(status | python3 -c 'import json,sys; d=json.load(sys.stdin); print((d.get("checkpoint") or {}).get("size",0))')" -ge 20 ] && break
	sleep 0.2
done
for f in state/store/objects/*/*; do
	"$CUSTODY_VERIFY" fingerprint --json "$f" | python3 -c '
import json, sys
fp = json.load(sys.stdin)
req = {k: fp[k] for k in ("sha256", "size", "duration_us", "container", "tags") if fp.get(k) is not None}
req["streams"] = [{k: s[k] for k in ("index", "type", "codec", "packets", "digest")} for s in fp["streams"]]
print(json.dumps({"op": "verify", "fingerprint": req}, separators=(",", ":")))'
done >requests.jsonl

now_s() { awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { printf "%.2f", n - s }'; }
scrub_state() { C scrub --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["scrub"]["state"])' || echo unknown; }
sample() { # one line: seconds rss_kib anon_kib fds
	local t=$1
	echo "$t $(awk '/^VmRSS/ {print $2}' /proc/$daemon/status) $(awk '/^RssAnon/ {print $2}' /proc/$daemon/status) $(ls /proc/$daemon/fd | wc -l)"
}
start=$(date +%s.%N)
sample 0 >samples.txt
# The load in 10 s rounds (one line each), until the file 'stop' appears.
rm -f stop load.txt
( while [ ! -e stop ]; do
	"$DAEMON_VERIFY_LOAD" "$dir/custody.sock" requests.jsonl "$clients" 10 1 >>load.txt 2>&1 || break
  done ) &
load=$!
C scrub --now >/dev/null || true
scrubs=1

# Drop the clips; sample; start a new scrub pass whenever the last one ended.
every=$(( small / (large > 0 ? large : 1) ))
n=0 l=0
ls src/s >small.list
while read -r f; do
	mv "src/s/$f" zone/
	n=$((n + 1))
	if [ "$large" -gt 0 ] && [ $((n % every)) -eq 0 ] && [ $l -lt "$large" ]; then
		l=$((l + 1))
		mv "src/l/l$(printf %06d $l).mp4" zone/
	fi
	if [ $((n % batch)) -eq 0 ]; then
		sleep 0.1
		sample "$(now_s)" >>samples.txt
		if [ "$(scrub_state)" != running ]; then
			C scrub --now >/dev/null 2>&1 && scrubs=$((scrubs + 1)) || true
		fi
	fi
done <small.list
for f in src/l/*; do [ -e "$f" ] && mv "$f" zone/; done
total=$((small + large))
say "waiting for the last ingests..."
for _ in $(seq 1 3600); do
	s=$(status)
	left=$(ls zone | wc -l)
	logged=$(echo "$s" | python3 -c 'import json,sys; print(json.load(sys.stdin)["index"]["originals"])')
	[ "$left" -eq 0 ] && [ "$logged" -ge "$total" ] && break
	sample "$(now_s)" >>samples.txt
	sleep 1
done
ingest_s=$(now_s)
touch stop
wait "$load" 2>/dev/null || true
load=
# One last full scrub pass, after the verify load, with nothing else running.
for _ in $(seq 1 600); do [ "$(scrub_state)" = running ] || break; sleep 1; done
C scrub --now >/dev/null || true
sleep 2
for _ in $(seq 1 3600); do [ "$(scrub_state)" = running ] || break; sleep 1; done
sleep 2
sample "$(now_s)" >>samples.txt

# ---- checks, from the log over the socket ----
rc=0
python3 - "$dir/custody.sock" "$total" samples.txt load.txt "$ingest_s" "$scrubs" <<'PY' >report.md || rc=$?
import json, socket, sys
sock, total, samples, loadf, ingest_s, scrubs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5]), int(sys.argv[6])
s = socket.socket(socket.AF_UNIX); s.connect(sock); f = s.makefile("rwb")
def rpc(o):
    f.write((json.dumps(o) + "\n").encode()); f.flush()
    return json.loads(f.readline())
entries = []
for typ in ("ingest", "damaged", "scrub"):
    before = None
    while True:
        req = {"op": "log", "limit": 1000, "type": typ}
        if before is not None: req["before"] = before
        r = rpc(req)
        assert r["ok"], r
        entries += r["entries"]
        before = r.get("next_before")
        if before in (None, 0): break
types = {}
for e in entries: types[e["entry"]["type"]] = types.get(e["entry"]["type"], 0) + 1
ing = [e["entry"] for e in entries if e["entry"]["type"] in ("ingest", "damaged")]
shas = [e["sha256"] for e in ing]; names = [e["name"] for e in ing]
scr = [e["entry"] for e in entries if e["entry"]["type"] == "scrub"]
last = max(scr, key=lambda e: e["at"]) if scr else None
fails = []
rows = [l.split() for l in open(samples) if l.strip()]
rss = [(float(a), int(b), int(c), int(d)) for a, b, c, d in rows]
q = max(1, len(rss) // 4)
first, lastq = rss[:q], rss[-q:]
def mx(xs, i): return max(x[i] for x in xs)
rounds = [dict(kv.split("=") for kv in l.split()) for l in open(loadf) if l.startswith("requests=")]
reqs = sum(int(r["requests"]) for r in rounds); secs = sum(float(r["seconds"]) for r in rounds)
errs = sum(int(r["errors"]) + int(r["unexpected"]) for r in rounds)
load = "%d rounds of 10 s: %d answers, %.0f q/s on average, p99 per round %s ms, errors and unexpected answers %d" % (
    len(rounds), reqs, reqs / secs if secs else 0, "–".join(
        "%.1f" % (v / 1000) for v in (min(int(r["p99_us"]) for r in rounds), max(int(r["p99_us"]) for r in rounds))) if rounds else "-", errs)
if errs: fails.append("verify errors")
if len(ing) != total: fails.append("%d ingest entries for %d clips" % (len(ing), total))
if len(set(shas)) != len(shas): fails.append("duplicate SHA-256 entries")
if len(set(names)) != len(names): fails.append("a name logged twice")
if any(e["type"] == "damaged" for e in ing): fails.append("damaged entries")
if not last or last["checked"] != total or last["ok"] != total or last["missing"] or last["altered"]:
    fails.append("last scrub pass: %s" % ({k: last[k] for k in ("checked", "ok", "missing", "altered")} if last else None))
print("- Clips: %d (ingest entries %d, distinct SHA-256 %d, distinct names %d, damaged %d); log: %s." % (
    total, len(ing), len(set(shas)), len(set(names)), sum(e["type"] == "damaged" for e in ing),
    ", ".join("%s %d" % kv for kv in sorted(types.items()))))
print("- Ingest of all of them while the load and the scrubber ran: %.1f s (%.0f clips/s)." % (ingest_s, total / ingest_s))
print("- Verify load (64 connections, closed-loop, for the whole ingest): %s." % load)
print("- Scrub passes started: %d; the last (after the load): checked %s, ok %s, missing %s, altered %s." % (
    scrubs, last and last["checked"], last and last["ok"], last and last["missing"], last and last["altered"]))
print("- Daemon VmRSS: start %.1f MiB; max in the first quarter %.1f MiB, in the last quarter %.1f MiB; at the end %.1f MiB (RssAnon %.1f MiB)." % (
    rss[0][1] / 1024, mx(first, 1) / 1024, mx(lastq, 1) / 1024, rss[-1][1] / 1024, rss[-1][2] / 1024))
print("- RssAnon: max in the first quarter %.1f MiB, in the last quarter %.1f MiB." % (mx(first, 2) / 1024, mx(lastq, 2) / 1024))
# Flat: over the second half of the load (warm-up done: caches full, clip table grown), the
# daemon's own memory may move by less than 16 MiB, whatever number of reads it answered.
half = [r for r in rss[len(rss) // 2:-1]] or rss
lo_anon, hi_anon = min(r[2] for r in half), max(r[2] for r in half)
print("- RssAnon over the second half (%.0f s to %.0f s): %.1f to %.1f MiB." % (
    half[0][0], half[-1][0], lo_anon / 1024, hi_anon / 1024))
if hi_anon - lo_anon > 16 * 1024: fails.append("RssAnon grew by %.1f MiB over the second half" % ((hi_anon - lo_anon) / 1024))
print("- Descriptors: start %d; max in the first quarter %d, in the last quarter %d; at the end %d." % (
    rss[0][3], mx(first, 3), mx(lastq, 3), rss[-1][3]))
print("- Checks: %s." % ("all passed" if not fails else "FAILED: " + "; ".join(fails)))
sys.exit(1 if fails else 0)
PY
kill -TERM "$daemon"; wait "$daemon" || rc=2
daemon=
cat report.md
exit $rc
