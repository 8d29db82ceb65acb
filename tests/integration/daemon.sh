#!/bin/bash
# custodyd end to end: a real daemon on temporary folders, a real socket, real LMDB and media
# made by ffmpeg.  Clips copied in slowly into nested folders, as a docking station does, are
# ingested once each with the right entry and a byte-identical original; the same content
# dropped again makes no second entry; verify answers exact, remux, excerpt, altered and
# unknown; proofs from custodyctl verify with custody-verify; roles are enforced for users the
# test makes; SIGHUP and SIGTERM during ingest lose nothing.
set -eu
: "${CUSTODYD:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}" "${CUSTODY_VERIFY:?}"
. "$(dirname "$0")/../lib.sh"

mkdir -p "$tmp/dock" "$tmp/upload" "$tmp/media"
# The upload zone on another filesystem, so that both the move and the copy path run.
cross_fs=no
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=64m tmpfs "$tmp/upload" 2>/dev/null; then
	cross_fs=yes
	at_exit umount "$tmp/upload"
fi
daemon_conf <<EOF
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
if groupadd -f ct-review 2>/dev/null; then at_exit groupdel ct-review; fi
"$CUSTODYD" --check-config --config "$conf" >/dev/null && ok "--check-config" \
	|| bad "--check-config rejected the test config"

# The zones empty and nothing in flight: a file on the store's filesystem leaves its zone for
# staging before its entry is committed (docs/ingest.md), so an empty zone alone is not enough.
pipeline_idle() {
	C status --json >"$tmp/idle.json" 2>/dev/null &&
		[ "$(jget "$tmp/idle.json" .pipeline.in_flight)" = 0 ] &&
		[ "$(jget "$tmp/idle.json" .pipeline.queued)" = 0 ]
}
wait_empty() {
	wait_gone 20 "$tmp/dock" "$tmp/upload" ||
		bad "zones not emptied: $(find "$tmp/dock" "$tmp/upload" -type f)"
	wait_for 20 pipeline_idle || bad "the pipeline stayed busy: $(cat "$tmp/idle.json")"
}
size_at_least() { [ "$(log_size)" -ge "$1" ]; }
wait_size() { wait_for 10 size_at_least "$1" || bad "log size stayed at $(log_size), wanted $1"; }

# Media: three clips of one camera, with a key frame every second (clip's -g 10) so that cuts
# are possible.
media() { clip "$tmp/media/$1" "${@:2}"; } # media NAME SECONDS FREQ [SIZE [CREATION_TIME]]
# Recorded two hours ago, so that storing it now is on time whatever today's date: the names
# carry that start as the dock's name pattern reads it.
t0=$(date -u -d '2 hours ago' +%s)
day=$(date -u -d "@$t0" +%Y-%m-%d)
clip1=CAM01_OFF7_$(date -u -d "@$t0" +%Y%m%d%H%M%S)_0001.mp4
clip2=CAM01_OFF7_$(date -u -d "@$((t0 + 6))" +%Y%m%d%H%M%S)_0002.mp4
start1=$(date -u -d "@$t0" +%Y-%m-%dT%H:%M:%SZ)
media "$clip1" 6 440 "" "$start1"
media "$clip2" 3 550
media upload-1.mp4 2 660
# The same pictures as upload-1.mp4 (testsrc is deterministic) with other sound: altered.
media dubbed.mp4 2 770
clip_src=testsrc2=size=176x144:rate=12 media unrelated.mp4 2 770
ffmpeg -v error -i "$tmp/media/$clip1" -c copy "$tmp/media/remux.mkv"
ffmpeg -v error -ss 2 -i "$tmp/media/$clip1" -t 2 -c copy \
	"$tmp/media/excerpt.mp4"
cp "$tmp/media/$clip1" "$tmp/media/altered.mp4"
python3 "$(dirname "$0")/flip-bytes.py" "$tmp/media/altered.mp4" 64 0x55

daemon_start
[ "$(log_size)" = 0 ] && ok "fresh log" || bad "fresh log has size $(log_size)"

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
[ "$(log_size)" = 3 ] && ok "three clips, three entries" || bad "size $(log_size) after three clips"

C log --json >"$tmp/log.json"
python3 - "$tmp" "CAM01/$day/$clip1" "CAM01/$day/$clip2" "$start1" <<'PY' &&
import hashlib, json, os, sys
tmp, first, second, start = sys.argv[1:5]
reply = json.load(open(tmp + "/log.json"))
entries = {e["entry"]["name"] if "entry" in e else e["name"]: e.get("entry", e)
           for e in reply["entries"]}
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
	ok "entries: zone, name, hash, device, officer, time, storage, stored" ||
	bad "entries wrong: $(cat "$tmp/log.json")"
[ "$cross_fs" = yes ] && ok "the upload zone was on another filesystem (copy path)"

# The same content again, under another name: removed, its arrival recorded as a `duplicate`
# entry naming the first (docs/ingest.md), and no second ingest entry.
cp "$tmp/media/upload-1.mp4" "$tmp/dock/again.mp4"
wait_empty
wait_size 4
C log --json >"$tmp/log.json"
python3 - "$tmp/log.json" <<'PY' &&
import json, sys
es = [(x["index"], x.get("entry", x)) for x in json.load(open(sys.argv[1]))["entries"]]
first = [i for i, e in es if e["type"] == "ingest" and e["name"] == "upload-1.mp4"]
dup = [e for i, e in es if e["type"] == "duplicate"]
assert len(first) == 1
assert not [e for i, e in es if e["type"] == "ingest" and e["name"] == "again.mp4"]
assert len(dup) == 1, dup
d = dup[0]
assert d["name"] == "again.mp4" and d["zone"] == "dock" and d["of"] == first[0], d
assert d["sha256"] == dict(es)[first[0]]["sha256"] and d["size"] == dict(es)[first[0]]["size"], d
assert d["received_at"].endswith("Z"), d
PY
	ok "a duplicate arrival is a duplicate entry, not a second ingest" ||
	bad "duplicate arrival: $(cat "$tmp/log.json")"

# verify: each answer made for real.
verify_is() {
	local file=$1 want=$2 got
	set +e
	C verify "$tmp/media/$file" >"$tmp/v.out" 2>&1
	set -e
	got=$(head -1 "$tmp/v.out" | cut -d: -f1)
	if [ "$got" = "$want" ]; then
		ok "verify $file: $want"
	else
		bad "verify $file: '$(head -3 "$tmp/v.out")', wanted $want"
	fi
}
sleep 1.5 # a checkpoint covers the entries
verify_is $clip1 exact
grep -q verified "$tmp/v.out" && ok "verify checked the proof" ||
	bad "no 'verified': $(cat "$tmp/v.out")"
verify_is remux.mkv remux
verify_is excerpt.mp4 excerpt
verify_is altered.mp4 altered
verify_is dubbed.mp4 altered
verify_is unrelated.mp4 unknown

# Proofs taken away verify offline.
C proof 0 --out "$tmp/p0.tlog-proof" >/dev/null
name0=$(C entry 0 --json | jget - .entry.name)
"$CUSTODY_VERIFY" proof "$tmp/p0.tlog-proof" --key "$tmp/log.pub" \
	--media "$tmp/media/${name0##*/}" >/dev/null \
	&& ok "custodyctl proof verifies with custody-verify --media" || bad "proof 0 did not verify"

# Roles: a user in the reviewers' group may read; a user with no role may not.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	add_group ct-none
	add_user ct-reviewer ct-none ct-review
	add_user ct-nobody ct-none
	chmod 0777 "$sock"
	chmod 0755 "$tmp"
	if as ct-reviewer "$CUSTODYCTL" --socket "$sock" entry 0 >/dev/null 2>&1; then
		ok "a reviewer reads an entry"
	else
		bad "reviewer refused"
	fi
	set +e
	as ct-nobody "$CUSTODYCTL" --socket "$sock" entry 0 >/dev/null 2>"$tmp/no.err"
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
media late.mp4 2 880
cp "$tmp/media/late.mp4" "$tmp/dock/late.mp4"
sleep 1.2
daemon_stop && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $daemon_code: $(tail -5 "$dlog")"
"$CUSTODY_VERIFY" checkpoint "$tmp/state/checkpoint" --key "$tmp/log.pub" >"$tmp/cp.out" \
	&& ok "the published checkpoint verifies" || bad "published checkpoint"
daemon_start
wait_empty
entries=$(C log --type ingest --json | grep -o '"name":"late.mp4"' | wc -l)
[ "$entries" = 1 ] && ok "the file in flight at SIGTERM is logged exactly once" \
	|| bad "late.mp4 logged $entries times"
daemon_stop || true
finish
