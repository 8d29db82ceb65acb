#!/bin/sh
# Make the seed corpora of tests/fuzz/corpus/<target>/ (committed; run this again only to
# start over): from tests/data, conf/, a throw-away log signed with the public test key "Log"
# of tests/data/tlog/note-scenarios.json (made with the custody-log of BUILD), and small clips
# from ffmpeg, each named seed-*.  The fuzzers add what they find; `tests/fuzz/run.sh cmin`
# keeps the corpora small (and every seed-* and regress-* file).
#   usage: tests/fuzz/make-seeds.sh BUILD_DIR     (a build with custody-log, e.g. build-fuzz)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: make-seeds.sh BUILD_DIR}" && pwd)
corpus="$top/tests/fuzz/corpus"
tmp=$(mktemp -d /tmp/custody-seeds-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for t in request conf entry note proof tiles pattern fingerprint; do
	mkdir -p "$corpus/$t"
done

# Seeds are named seed-NAME (NAME: the file's, or its content's hash), so that `run.sh cmin`
# keeps them beside what the fuzzers added (named by their SHA-1).
seed() { # seed TARGET FILE [NAME]
	cp "$2" "$corpus/$1/seed-${3:-$(sha1sum "$2" | cut -c1-16)}"
}

# ---- conf: the shipped file and every fixture of tests/unit/conf ----------------------------
for f in "$top/conf/custody.conf" "$top"/tests/data/conf/*.conf; do
	seed conf "$f" "$(basename "$f")"
done

# ---- pattern: "PATTERN\nNAME", and date-times ------------------------------------------------
while IFS='|' read -r pat name; do
	printf '%s\n%s' "$pat" "$name" >"$tmp/p"
	seed pattern "$tmp/p"
done <<'EOF'
{device}_{officer}_{start:%Y%m%d%H%M%S}_{seq}|CAM01_OFF7_20240501080000_0001.mp4
{device}_{officer}_{start:%Y%m%d%H%M%S}_{seq}|CAM9_O5555_20261231235960_12.MOV
{{{device}}}-{start:%F %T.%f}-{seq}|{CAM2}-2024-02-29 23:59:59.123456-7.mkv
{officer}@{start:%y%j%H%M}~{device}|O1@24366 2359~AXON-3.ts
{device}-{start:%Y-%m-%dT%H:%M:%S}|Cam 😀-2024-03-31T02:30:00.avi
{start:%d.%m.%Y_%H%M}%%_{seq}|01.05.2024_0800%_3.mp4
{device}_{start:%Y%m%d}_{start:%H}|x
EOF
for s in "2024-05-01T08:00:00Z" "2024-05-01 08:00:00.000000Z" "2024-05-01T08:00:00+05:30" \
	"2024-05-01T08:00:00.5-0800" "1904-01-01T00:00:00" "2024-12-31T23:59:60Z"; do
	printf '%s' "$s" >"$tmp/p"
	seed pattern "$tmp/p"
done

# ---- entry: entries of every type the daemon writes -------------------------------------------
python3 - "$tmp/entries" <<'EOF'
import json, os, sys
out = sys.argv[1]
os.makedirs(out)
sha = "9c" * 32
entries = [
    {"v": 1, "type": "ingest", "name": "CAM01/CAM01_OFF7_20240501080000_0001.mp4",
     "zone": "dock", "device": "CAM01", "officer": "OFF7", "storage": "late",
     "deadline": "2024-05-02T08:01:40Z", "recorded_start": "2024-05-01T08:00:00Z",
     "recorded_end": "2024-05-01T08:01:40Z", "ingested_at": "2024-05-02T09:00:00Z",
     "sha256": sha, "size": 1000, "start_us": 0, "duration_us": 100000000,
     "container": "mov,mp4,m4a,3gp,3g2,mj2", "time_source": "tag", "stored": "objects/9c/" + sha,
     "time_in_future": False,
     "tags": {"creation_time": "2024-05-01T08:00:00.000000Z", "make": "Acme", "model": "B1",
              "location": "+31.2304+121.4737/"},
     "streams": [{"index": 0, "type": "video", "codec": "h264", "profile": "High",
                  "width": 1920, "height": 1080, "packets": 100, "keyframes": 10,
                  "digest": sha},
                 {"index": 1, "type": "audio", "codec": "aac", "sample_rate": 48000,
                  "channels": 2, "packets": 200, "keyframes": 200, "digest": sha}]},
    {"v": 1, "type": "damaged", "name": "up/c.mp4", "zone": "upload", "device": None,
     "officer": None, "error": "moov atom not found: Invalid data found when processing input",
     "sha256": sha, "size": 7, "streams": []},
    {"v": 1, "type": "annotation", "kind": "interruption", "device": "CAM01",
     "from": "2024-05-01T08:30:00Z", "to": "2024-05-01T08:40:00Z",
     "reason": "battery \"ran out\"\n\ttab \\ back", "by": "alice(uid 1001)",
     "at": "2024-05-02T10:00:00Z"},
    {"v": 1, "type": "annotation", "kind": "case", "case": "2024-0001", "entries": [0, 1, 2],
     "by": "bob(uid 1002)", "at": "2024-05-02T10:00:00Z"},
    {"v": 1, "type": "annotation", "kind": "approval", "grantee": "carol", "entries": [0],
     "purpose": "court", "expires": "2030-01-01T00:00:00Z", "approver": "dave(uid 1004)",
     "by": "dave(uid 1004)", "at": "2024-05-02T10:00:00Z"},
    {"v": 1, "type": "access", "by": "alice(uid 1001)", "uid": 1001, "op": "entry",
     "target": 3, "at": "2024-05-02T10:00:00.25Z", "allowed": True, "entries": [3]},
    {"v": 1, "type": "access", "by": "eve(uid 666)", "uid": 666, "op": "verify",
     "target": "sha256:" + sha, "at": "2024-05-02T10:00:00Z", "allowed": False},
    {"v": 1, "type": "scrub", "checked": 3, "ok": 2, "missing": [1], "altered": [],
     "at": "2024-05-03T00:00:00Z"},
    {"v": 1, "type": "purge", "entry": 1, "sha256": sha, "stored": "objects/9c/" + sha,
     "by": "root(uid 0)", "at": "2025-01-01T00:00:00Z", "reason": None},
    {"v": 1, "type": "x", "nul": "a\u0000b", "ctl": "\u001f\u007f\u2028", "u": "é😀",
     "n": -9223372036854775808, "m": 9223372036854775807, "z": -0, "e": {}, "a": [[], {}]},
]
for i, e in enumerate(entries):
    with open(os.path.join(out, "%02d.json" % i), "w") as f:
        json.dump(e, f, ensure_ascii=(i % 2 == 0), indent=(1 if i % 3 == 0 else None))
EOF
for f in "$tmp"/entries/*.json; do
	seed entry "$f" "$(basename "$f")"
done

# ---- request: one connection each: a roles byte (bits: operator, reviewer, auditor,
# approver), then request lines --------------------------------------------------------------
python3 - "$tmp/requests" <<'EOF'
import hashlib, json, os, sys
out = sys.argv[1]
os.makedirs(out)
# The originals of fuzz_request.c's log: hashes of "TAG/1000" (file), "TAG/1001" (video
# stream), "TAG/0".."TAG/3" (key packets 0, 10, 20, 30 at 0, 1, 2, 3 s).
def h(s):
    return hashlib.sha256(s.encode()).hexdigest()
def fp(tag, name, keys_of=None):
    k = keys_of or tag
    return {"sha256": h(tag + "/1000"), "size": 1000, "name": name, "device": "CAM01",
            "recorded_start": "2024-05-01T08:00:00Z", "duration_us": 40000000,
            "tags": {"creation_time": "2024-05-01T08:00:00Z", "make": "Acme"},
            "streams": [{"index": 0, "type": "video", "digest": h(k + "/1001"), "packets": 40,
                         "keys": [{"hash": h("%s/%d" % (k, i)), "ordinal": 10 * i,
                                   "pts_us": 1000000 * i} for i in range(4)]}]}
sha = h("A/1000")
reqs = [
    (0xf, ['{"op":"status","id":1}']),
    (0x2, ['{"op":"entry","index":0,"id":"a"}', '{"op":"entry","index":99}']),
    (0x4, ['{"op":"proof","index":1}', '{"op":"proof","index":0,"size":4}',
           '{"op":"proof","sha256":"%s"}' % sha]),
    (0x4, ['{"op":"consistency","old":3}', '{"op":"consistency","old":3,"new":4}',
           '{"op":"checkpoint"}', '{"op":"checkpoint","size":3}']),
    (0x2, ['{"op":"log"}', '{"op":"log","since":"2024-05-01T00:00:00Z","limit":2}',
           '{"op":"log","zone":"dock","device":"CAM01","type":"ingest","before":5}',
           '{"op":"log","since":2,"officer":"OFF7"}']),
    (0x1, ['{"op":"annotate","kind":"interruption","device":"CAM02","from":"2024-05-01T08:00:00Z","to":"2024-05-01T09:00:00+01:00","reason":"r"}',
           '{"op":"annotate","kind":"late_storage","entry":0,"reason":"x"}',
           '{"op":"annotate","kind":"remote_duty","device":"CAM01","from":"2024-05-01T00:00:00Z","to":"2024-05-01T01:00:00Z","returned_at":"2024-05-01T02:00:00Z"}',
           '{"op":"annotate","kind":"damage_report","entry":2,"explanation":"e"}',
           '{"op":"annotate","kind":"case","case":"c","device":"CAM01","from":"2024-05-01T00:00:00Z","to":"2024-05-02T00:00:00Z"}',
           '{"op":"annotate","kind":"hold","entries":[0,1],"reason":"r"}']),
    (0x8, ['{"op":"annotate","kind":"approval","grantee":"bob","entries":[0,1],"purpose":"p","expires":"2031-01-01T00:00:00Z"}']),
    (0x2, ['{"op":"verify","fingerprint":%s}' % json.dumps(fp("A", "CAM01/CAM01_OFF7_20240501080000_0001.mp4")),
           '{"op":"verify","fingerprint":%s}' % json.dumps(fp("Z", "CAM01_OFF7_20240501080010_0001.mp4", keys_of="A")),
           '{"op":"verify","fingerprint":%s}' % json.dumps(fp("B", "other.mp4"))]),
    (0x2, ['{"op":"review","case":"2024-0001"}', '{"op":"review","case":"2024-0002"}']),
    (0x4, ['{"op":"report","from":"2024-05-01T00:00:00Z","to":"2024-06-01T00:00:00Z"}',
           '{"op":"report","year":2024}', '{"op":"report","open":true}']),
    (0x1, ['{"op":"scrub"}', '{"op":"scrub","now":true}']),
    (0x1, ['{"op":"copy-out","index":0}', '{"op":"retention"}', '{"op":"retention","limit":1}',
           '{"op":"purge","index":1,"reason":"expired"}']),
    (0x0, ['{"op":"status"}']),
    (0x2, ['{"op":"entry","index":0}\r', '', '  \t', '[1,2]', '{"op":"entry","op":"x"}',
           '{"op":"nope"}', '{"id":[1]}', '{"op":1}', '{' * 70 + '}' * 70,
           '"\xff"', '{"op":"entry","index":"0"}']),
    (0xf, ['{"op":"status"}', '{"op":"log","limit":1}']),
]
for i, (roles, lines) in enumerate(reqs):
    with open(os.path.join(out, "%02d" % i), "wb") as f:
        f.write(bytes([roles]) + "\n".join(lines).encode("utf-8", "surrogateescape") + b"\n")
# a last line without its newline, and an oversize line
with open(os.path.join(out, "nonl"), "wb") as f:
    f.write(b'\x02{"op":"checkpoint"}\n{"op":"status"}')
with open(os.path.join(out, "big"), "wb") as f:
    f.write(b'\x02{"op":"entry","index":0,"pad":"' + b"x" * 2100 + b'"}\n')
EOF
for f in "$tmp"/requests/*; do
	seed request "$f" "$(basename "$f")"
done

# ---- note and proof: the tlog vectors, and a log signed with the key "Log" ------------------
python3 - "$top/tests/data/tlog" "$tmp/notes" "$tmp/proofs" <<'EOF'
import json, os, sys
src, notes, proofs = sys.argv[1:4]
os.makedirs(notes)
os.makedirs(proofs)
n = 0
def put(d, s):
    global n
    n += 1
    with open(os.path.join(d, "%03d" % n), "wb") as f:
        f.write(s.encode("utf-8", "surrogateescape"))
sn = json.load(open(os.path.join(src, "signed-notes.json")))
for note in sn["notes"]:
    for k in ("signed", "text", "body", "skey"):
        if isinstance(note.get(k), str):
            put(notes, note[k])
    for k in note.get("vkeys", []):
        put(notes, k)
sc = json.load(open(os.path.join(src, "note-scenarios.json")))
put(notes, sc["body"])
for k in sc["keys"].values():
    put(notes, k["vkey"])
    put(notes, k["skey"])
for e in json.load(open(os.path.join(src, "tlog-proof-errors.json")))["errors"]:
    put(proofs, e["proof"])
EOF
for f in "$tmp"/notes/*; do
	seed note "$f" "vector-$(basename "$f")"
done
for f in "$tmp"/proofs/*; do
	seed proof "$f" "vector-$(basename "$f")"
done

log="$build/verify/custody-log/custody-log"
printf '%s\n' "PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ" >"$tmp/log.key"
chmod 600 "$tmp/log.key"
"$log" --db "$tmp/db" init --origin Log --key "$tmp/log.key" >/dev/null
for i in 0 1 2 3 4 5 6; do
	printf '{"v":1,"type":"scrub","checked":%d,"ok":%d,"at":"2024-05-0%dT00:00:00Z"}' \
		"$i" "$i" "$((i + 1))" | "$log" --db "$tmp/db" append >/dev/null
	case $i in 0 | 2 | 6) "$log" --db "$tmp/db" checkpoint >"$tmp/cp$i" ;; esac
done
for i in 0 2 6; do
	seed note "$tmp/cp$i" "checkpoint-$((i + 1))"
done
"$log" --db "$tmp/db" proof 0 --size 1 >"$tmp/x" && seed proof "$tmp/x" proof-0-1
"$log" --db "$tmp/db" proof 1 --size 3 >"$tmp/x" && seed proof "$tmp/x" proof-1-3
"$log" --db "$tmp/db" proof 4 >"$tmp/x" && seed proof "$tmp/x" proof-4-7
"$log" --db "$tmp/db" proof 6 >"$tmp/x" && seed proof "$tmp/x" proof-6-7
"$log" --db "$tmp/db" consistency 1 7 >"$tmp/x" && seed proof "$tmp/x" consistency-1-7
"$log" --db "$tmp/db" consistency 3 7 >"$tmp/x" && seed proof "$tmp/x" consistency-3-7

# ---- tiles: paths of the spec's forms, and the log above published with its entries ---------
for p in tile/0/x001/x234/067 tile/0/273.p/112 tile/63/000 \
	tile/entries/x018/x446/x744/x073/x709/x551/615.p/255; do
	printf '%s' "$p" >"$tmp/x" && seed tiles "$tmp/x" "path-$(echo "$p" | tr / _)"
done
"$log" --db "$tmp/db" publish "$tmp/pub" --entries >/dev/null
seed tiles "$tmp/pub/tile/entries/000.p/7" bundle-7
"$log" --db "$tmp/db" consistency 1 3 >"$tmp/x" && seed proof "$tmp/x" consistency-1-3

# ---- fingerprint: one small clip per container (each well under 50 KB) ----------------------
ff() { ffmpeg -nostdin -loglevel error -y "$@"; }
src="-f lavfi -i testsrc=size=32x24:rate=5:duration=1 -f lavfi -i sine=frequency=440:sample_rate=8000:duration=1"
meta="-metadata creation_time=2024-05-01T08:00:00Z"
# shellcheck disable=SC2086
{
	ff $src $meta -c:v libx264 -preset ultrafast -g 2 -c:a aac -b:a 8k -movflags +faststart \
		-metadata make=Acme -metadata model=B1 "$tmp/a.mp4"
	ff $src $meta -c:v mjpeg -q:v 20 -c:a pcm_s16le -f mov "$tmp/b.mov"
	ff $src $meta -c:v libx264 -preset ultrafast -c:a libopus -b:a 8k "$tmp/c.mkv"
	ff $src -c:v mpeg2video -b:v 20k -c:a mp2 -b:a 32k -f mpegts "$tmp/d.ts"
	ff $src -c:v mjpeg -q:v 20 -c:a pcm_u8 "$tmp/e.avi"
	ff $src -c:v libx264 -preset ultrafast -c:a aac -b:a 8k -frag_duration 200000 \
		-movflags +frag_keyframe+empty_moov "$tmp/f.mp4"
}
for f in "$tmp"/a.mp4 "$tmp"/b.mov "$tmp"/c.mkv "$tmp"/d.ts "$tmp"/e.avi "$tmp"/f.mp4; do
	if [ "$(stat -c %s "$f")" -ge 50000 ]; then
		echo "make-seeds: $f is $(stat -c %s "$f") bytes, over 50 KB" >&2
		exit 1
	fi
	seed fingerprint "$f" "$(basename "$f")"
done
echo "make-seeds: $(find "$corpus" -type f -name 'seed-*' | wc -l) seeds in $corpus" >&2
