#!/bin/bash
# custodyd end to end: a real daemon on temporary folders, a real socket, real LMDB and media
# made by ffmpeg.  Clips copied in slowly into nested folders, as a docking station does, are
# ingested once each with the right entry and a byte-identical original; the same content
# dropped again makes no second entry; verify answers exact, remux, excerpt, altered and
# unknown; proofs from custodyctl verify with custody-verify; roles are enforced for users the
# test makes; SIGHUP and SIGTERM during ingest lose nothing.
set -eu
: "${CUSTODYD:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}" "${CUSTODY_VERIFY:?}"
tmp=$(mktemp -d)
daemon=
users=()
cleanup() {
	[ -z "$daemon" ] || kill -9 "$daemon" 2>/dev/null || true
	for u in "${users[@]}"; do userdel "$u" 2>/dev/null || true; done
	for g in ct-review ct-none; do groupdel "$g" 2>/dev/null || true; done
	umount "$tmp/upload" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

mkdir -p "$tmp/dock" "$tmp/upload" "$tmp/state" "$tmp/media"
# The upload zone on another filesystem, so that both the move and the copy path run.
cross_fs=no
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=64m tmpfs "$tmp/upload" 2>/dev/null; then
	cross_fs=yes
fi
"$CUSTODY_LOG" keygen test.custody/log --out "$tmp/log.key" >"$tmp/log.pub"
cat >"$tmp/custody.conf" <<EOF
[log]
origin = test.custody/log
key = $tmp/log.key
verifier_key = $tmp/log.pub
state = $tmp/state
checkpoint_interval = 1s

[store]
path = $tmp/state/store

[zone dock]
path = $tmp/dock
kind = dock
settle = 1s
name_pattern = {device}_{officer}_{start:%Y%m%d%H%M%S}_{seq}

[zone upload]
path = $tmp/upload
kind = upload
settle = 1s

[rules]
device_clock = UTC
storage_deadline = 24h

[ingest]
rescan_interval = 2s

[socket]
path = $tmp/custody.sock
reviewers = ct-review
EOF
groupadd -f ct-review 2>/dev/null || true
"$CUSTODYD" --check-config --config "$tmp/custody.conf" >/dev/null && ok "--check-config" \
	|| bad "--check-config rejected the test config"

start_daemon() {
	"$CUSTODYD" --config "$tmp/custody.conf" 2>>"$tmp/daemon.log" &
	daemon=$!
	for _ in $(seq 1 100); do
		[ -S "$tmp/custody.sock" ] && C status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	bad "custodyd did not come up: $(tail -5 "$tmp/daemon.log")"
	exit 1
}
C() { "$CUSTODYCTL" --socket "$tmp/custody.sock" --key "$tmp/log.pub" "$@"; }
size() { C status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])'; }
wait_empty() {
	for _ in $(seq 1 200); do
		if [ -z "$(find "$tmp/dock" "$tmp/upload" -type f 2>/dev/null)" ]; then
			return 0
		fi
		sleep 0.1
	done
	bad "zones not emptied: $(find "$tmp/dock" "$tmp/upload" -type f)"
}
wait_size() {
	for _ in $(seq 1 100); do
		[ "$(size)" -ge "$1" ] && return 0
		sleep 0.1
	done
	bad "log size stayed at $(size), wanted $1"
}

# Media: three clips of one camera, with a key frame every second so that cuts are possible.
clip() { # clip NAME SECONDS FREQ [creation_time [video source]]
	local meta=()
	[ -z "${4:-}" ] || meta=(-metadata "creation_time=$4")
	ffmpeg -v error -f lavfi -i "${5:-testsrc=size=160x120:rate=10}" -f lavfi -i "sine=frequency=$3" \
		-t "$2" -c:v libx264 -preset ultrafast -g 10 -c:a aac -shortest "${meta[@]}" \
		"$tmp/media/$1"
}
# Recorded two hours ago, so that storing it now is on time whatever today's date: the names
# carry that start as the dock's name pattern reads it.
t0=$(date -u -d '2 hours ago' +%s)
day=$(date -u -d "@$t0" +%Y-%m-%d)
clip1=CAM01_OFF7_$(date -u -d "@$t0" +%Y%m%d%H%M%S)_0001.mp4
clip2=CAM01_OFF7_$(date -u -d "@$((t0 + 6))" +%Y%m%d%H%M%S)_0002.mp4
start1=$(date -u -d "@$t0" +%Y-%m-%dT%H:%M:%SZ)
clip "$clip1" 6 440 "$start1"
clip "$clip2" 3 550
clip upload-1.mp4 2 660
# The same pictures as upload-1.mp4 (testsrc is deterministic) with other sound: altered.
clip dubbed.mp4 2 770
clip unrelated.mp4 2 770 "" "testsrc2=size=176x144:rate=12"
ffmpeg -v error -i "$tmp/media/$clip1" -c copy "$tmp/media/remux.mkv"
ffmpeg -v error -ss 2 -i "$tmp/media/$clip1" -t 2 -c copy \
	"$tmp/media/excerpt.mp4"
cp "$tmp/media/$clip1" "$tmp/media/altered.mp4"
python3 -c '
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read())
for i in range(len(b) // 2, len(b) // 2 + 64): b[i] ^= 0x55
open(p, "wb").write(b)' "$tmp/media/altered.mp4"

start_daemon
[ "$(size)" = 0 ] && ok "fresh log" || bad "fresh log has size $(size)"

# A docking station copies a camera's folder tree slowly: the file grows over several settles.
mkdir -p "$tmp/dock/CAM01/$day"
slow_copy() {
	local src=$1 dst=$2 sz chunk
	sz=$(stat -c %s "$src")
	chunk=$(( (sz + 3) / 4 ))
	: >"$dst"
	for i in 0 1 2 3; do
		dd if="$src" of="$dst" bs="$chunk" skip="$i" seek="$i" count=1 conv=notrunc status=none
		sleep 0.6
	done
}
slow_copy "$tmp/media/$clip1" \
	"$tmp/dock/CAM01/$day/$clip1" &
copier=$!
cp "$tmp/media/$clip2" "$tmp/dock/CAM01/$day/.partial-copy"
cp "$tmp/media/upload-1.mp4" "$tmp/upload/upload-1.mp4"
wait $copier
mv "$tmp/dock/CAM01/$day/.partial-copy" \
	"$tmp/dock/CAM01/$day/$clip2"
# SIGHUP while files are in flight: nothing is lost.
kill -HUP "$daemon"
wait_empty
wait_size 3
[ "$(size)" = 3 ] && ok "three clips, three entries" || bad "size $(size) after three clips"

C log --json >"$tmp/log.json"
python3 - "$tmp" "CAM01/$day/$clip1" "CAM01/$day/$clip2" "$start1" <<'PY' && ok "entries: zone, name, hash, device, officer, time, storage, stored" || bad "entries wrong: $(cat "$tmp/log.json")"
import hashlib, json, os, sys
tmp, first, second, start = sys.argv[1:5]
reply = json.load(open(tmp + "/log.json"))
entries = {e["entry"]["name"] if "entry" in e else e["name"]: e.get("entry", e) for e in reply["entries"]}
want = {
    first: ("dock", "CAM01", "OFF7", "tag"),
    second: ("dock", "CAM01", "OFF7", "filename"),
    "upload-1.mp4": ("upload", None, None, "mtime"),
}
for name, (zone, device, officer, source) in want.items():
    e = entries[name]
    media = tmp + "/media/" + os.path.basename(name)
    data = open(media, "rb").read()
    assert e["type"] == "ingest", e
    assert e["zone"] == zone, e
    assert e["sha256"] == hashlib.sha256(data).hexdigest(), e
    assert e["size"] == len(data), e
    assert e["device"] == device and e["officer"] == officer, e
    assert e["time_source"] == source, (name, e["time_source"])
    assert e["storage"] in ("on_time", "late", "unknown_time"), e
    stored = open(tmp + "/state/store/" + e["stored"], "rb").read()
    assert stored == data, name
    mode = os.stat(tmp + "/state/store/" + e["stored"]).st_mode & 0o777
    assert mode == 0o440, oct(mode)
e = entries[first]
assert e["recorded_start"] == start, e["recorded_start"]
assert e["storage"] == "on_time", e["storage"]
PY
[ "$cross_fs" = yes ] && ok "the upload zone was on another filesystem (copy path)"

# The same content again, under another name: removed, its arrival recorded as a `duplicate`
# entry naming the first (docs/log.md), and no second ingest entry.
cp "$tmp/media/upload-1.mp4" "$tmp/dock/again.mp4"
wait_empty
wait_size 4
C log --json >"$tmp/log.json"
python3 - "$tmp/log.json" <<'PY' && ok "a duplicate arrival is a duplicate entry, not a second ingest" || bad "duplicate arrival: $(cat "$tmp/log.json")"
import json, sys
es = [(x["index"], x.get("entry", x)) for x in json.load(open(sys.argv[1]))["entries"]]
first = [i for i, e in es if e["type"] == "ingest" and e["name"] == "upload-1.mp4"]
dup = [e for i, e in es if e["type"] == "duplicate"]
assert len(first) == 1 and not [e for i, e in es if e["type"] == "ingest" and e["name"] == "again.mp4"]
assert len(dup) == 1, dup
d = dup[0]
assert d["name"] == "again.mp4" and d["zone"] == "dock" and d["of"] == first[0], d
assert d["sha256"] == dict(es)[first[0]]["sha256"] and d["size"] == dict(es)[first[0]]["size"], d
assert d["received_at"].endswith("Z"), d
PY

# verify: each answer made for real.
verify_is() {
	local file=$1 want=$2 got
	set +e
	C verify "$tmp/media/$file" >"$tmp/v.out" 2>&1
	set -e
	got=$(head -1 "$tmp/v.out" | cut -d: -f1)
	if [ "$got" = "$want" ]; then ok "verify $file: $want"; else bad "verify $file: '$(head -3 "$tmp/v.out")', wanted $want"; fi
}
sleep 1.5 # a checkpoint covers the entries
verify_is $clip1 exact
grep -q verified "$tmp/v.out" && ok "verify checked the proof" || bad "no 'verified': $(cat "$tmp/v.out")"
verify_is remux.mkv remux
verify_is excerpt.mp4 excerpt
verify_is altered.mp4 altered
verify_is dubbed.mp4 altered
verify_is unrelated.mp4 unknown

# Proofs taken away verify offline.
C proof 0 --out "$tmp/p0.tlog-proof" >/dev/null
"$CUSTODY_VERIFY" proof "$tmp/p0.tlog-proof" --key "$tmp/log.pub" \
	--media "$tmp/media/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"].split("/")[-1])' <(C entry 0 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps(d.get("entry", d)))'))" >/dev/null \
	&& ok "custodyctl proof verifies with custody-verify --media" || bad "proof 0 did not verify"

# Roles: a user in the reviewers' group may read; a user with no role may not.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	groupadd -f ct-none
	useradd -M -N -g ct-none -G ct-review ct-reviewer 2>/dev/null && users+=(ct-reviewer)
	useradd -M -N -g ct-none ct-nobody 2>/dev/null && users+=(ct-nobody)
	chmod 0777 "$tmp/custody.sock"
	chmod 0755 "$tmp"
	as() { local u=$1; shift; setpriv --reuid "$u" --regid ct-none --init-groups "$@"; }
	if as ct-reviewer "$CUSTODYCTL" --socket "$tmp/custody.sock" entry 0 >/dev/null 2>&1; then
		ok "a reviewer reads an entry"
	else
		bad "reviewer refused"
	fi
	set +e
	as ct-nobody "$CUSTODYCTL" --socket "$tmp/custody.sock" entry 0 >/dev/null 2>"$tmp/no.err"
	code=$?
	set -e
	if [ $code = 1 ] && grep -qi forbidden "$tmp/no.err"; then
		ok "a user with no role is forbidden"
	else
		bad "no-role user: exit $code, $(cat "$tmp/no.err")"
	fi
	C log --type access --json | grep -q '"allowed":false' && ok "the refusal is an access entry" \
		|| bad "no access entry for the refusal"
fi

# SIGTERM during ingest: the file in flight is finished or stays in its zone; exit 0.
clip late.mp4 2 880
cp "$tmp/media/late.mp4" "$tmp/dock/late.mp4"
sleep 1.2
kill -TERM "$daemon"
set +e
wait "$daemon"
code=$?
set -e
daemon=
[ $code = 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $code: $(tail -5 "$tmp/daemon.log")"
"$CUSTODY_VERIFY" checkpoint "$tmp/state/checkpoint" --key "$tmp/log.pub" >"$tmp/cp.out" \
	&& ok "the published checkpoint verifies" || bad "published checkpoint"
start_daemon
wait_empty
entries=$(C log --type ingest --json | grep -o '"name":"late.mp4"' | wc -l)
[ "$entries" = 1 ] && ok "the file in flight at SIGTERM is logged exactly once" \
	|| bad "late.mp4 logged $entries times"
kill -TERM "$daemon"
wait "$daemon" || true
daemon=

if [ $fails -ne 0 ]; then
	echo "$fails checks failed; daemon log:" >&2
	tail -30 "$tmp/daemon.log" >&2
	exit 1
fi
echo "all checks passed"
