#!/bin/bash
# The review as a record (docs/review-format.md, docs/i18n.md), end to end against a real
# custodyd, in the scenario a legal reviewer met: clips on four devices of two cases that share
# one clip, a 590 s gap explained and one not, a clip stored late and explained, a truncated
# file reported damaged, an officer with a Chinese name, a clip whose name matches no pattern,
# a copy-out with its destination and purpose.  Checked:
#   - the review of one case never carries the other case's annotation; the shared clip names
#     the other case instead; the verdict names the damaged file;
#   - LANG=zh_CN.UTF-8 custodyctl review CASE --pdf: pdftotext finds the case id, the
#     checkpoint's root, Chinese labels and times at +08:00 ([display] timezone); pdffonts:
#     every font embedded; the HTML page says lang="zh-CN";
#   - custodyctl history N: the clip's copy-out (destination, purpose) and every entry's proof
#     checked; a wrong verifier key fails it;
#   - custodyctl cases; an unknown case id suggests the near one; a clip without a device is an
#     open item until a device annotation attributes it; report --csv --bom.
set -eu
: "${CUSTODYD:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}"
. "$(dirname "$0")/../lib.sh"
need ffmpeg
for p in pdftotext pdffonts; do
	command -v $p >/dev/null || { bad "$p is not installed (poppler-utils, scripts/deps test)"; finish; }
done
locale -a | grep -qi '^zh_CN\.utf-\?8$' ||
	{ bad "the zh_CN.UTF-8 locale is not generated (scripts/deps run)"; finish; }

mkdir -p "$tmp/dock" "$tmp/media"
daemon_conf <<EOF
[store]
path = $tmp/state/store

[zone dock]
path = $tmp/dock
kind = dock
settle = 1s
name_pattern = {device}_{officer}_{start:%Y%m%d%H%M%S}_{seq}

[rules]
storage_deadline = 24h
split_tolerance = 3s

[ingest]
rescan_interval = 2s

[socket]
path = $tmp/custody.sock

[display]
timezone = Asia/Shanghai
EOF

CA=2026-XZ-0042
CB='沪公(2026)行罚字第0042号'
now=$(date +%s)
t() { date -u -d "@$((now + $1))" +"${2:-%Y-%m-%dT%H:%M:%SZ}"; }
stamp() { t "$1" %Y%m%d%H%M%S; }
tone=300
toned() { tone=$((tone + 41)); clip "$tmp/media/$1" "$2" $tone; }
T=$(( -6 * 3600 ))
toned "CAM01_OFF1_$(stamp $T)_0001.mp4" 10
toned "CAM01_OFF1_$(stamp $((T + 600)))_0002.mp4" 10     # 590 s after the first: explained
toned "CAM01_OFF1_$(stamp $((T + 1200)))_0003.mp4" 10    # 590 s after the second: not
toned "CAM02_OFF2_$(stamp $(( -4 * 86400 )))_0001.mp4" 10 # stored late, explained
toned "CAM03_OFF3_$(stamp -7200)_full.mp4" 4
head -c $(( $(stat -c %s "$tmp/media/CAM03_OFF3_$(stamp -7200)_full.mp4") / 2 )) \
	"$tmp/media/CAM03_OFF3_$(stamp -7200)_full.mp4" >"$tmp/media/CAM03_OFF3_$(stamp -7200)_0001.mp4"
rm "$tmp/media/CAM03_OFF3_$(stamp -7200)_full.mp4"
toned "CAM05_张伟_$(stamp -3600)_0001.mp4" 10            # shared by both cases
toned "scene-footage.mp4" 5                               # matches no pattern: no device

daemon_start
cp "$tmp/media/"*.mp4 "$tmp/dock/"
logged() { [ "$(C log --limit 100 --json | jget - '.entries|length')" -ge 7 ] && [ -z "$(find "$tmp/dock" -type f)" ]; }
wait_for 90 logged || { bad "7 clips not logged: $(tail -5 "$dlog")"; finish; }
idx() { C log --limit 100 --json | jget - ".entries[entry.name=$1][0].index"; }
c1=$(idx "CAM01_OFF1_$(stamp $T)_0001.mp4"); c2=$(idx "CAM01_OFF1_$(stamp $((T + 600)))_0002.mp4")
c3=$(idx "CAM01_OFF1_$(stamp $((T + 1200)))_0003.mp4")
late=$(idx "CAM02_OFF2_$(stamp $(( -4 * 86400 )))_0001.mp4")
dmg=$(idx "CAM03_OFF3_$(stamp -7200)_0001.mp4"); shared=$(idx "CAM05_张伟_$(stamp -3600)_0001.mp4")
nodev=$(idx scene-footage.mp4)
annotate() { C annotate "$@" | grep -o '[0-9]*$'; }
gap_note=$(annotate interruption --device CAM01 --from "$(t $((T + 10)))" --to "$(t $((T + 600)))" \
	--reason "更换电池 battery swap")
late_note=$(annotate late_storage --entry "$late" --reason "外勤三天后入库 stored after a 3-day field operation")
dmg_note=$(annotate damage_report --entry "$dmg" --explanation "记录仪电池耗尽 the camera's battery failed")
annotate case --case "$CA" --entries "$c1,$c2,$c3,$late,$dmg,$shared,$nodev" >/dev/null
cb_note=$(annotate case --case "$CB" --entries "$shared")
C copy-out "$shared" --to "$tmp/copy.mp4" --purpose "移送法院 transfer to the court" >/dev/null ||
	bad "copy-out failed"
sleep 3 # a checkpoint a second: the served one then covers every entry above

# ---- the review's content (JSON: English, UTC) ----
set +e
C review "$CA" --json >"$tmp/a.json"
code=$?
set -e
[ $code = 1 ] && ok "review $CA --json: exit 1 (an unexplained gap, a clip without device)" ||
	bad "review $CA --json: exit $code"
python3 - "$tmp/a.json" "$CB" "$shared" "$dmg" "$dmg_note" "$late" "$late_note" "$nodev" <<'PY' &&
import json, sys
r = json.load(open(sys.argv[1]))
cb, shared, dmg, dmg_note, late, late_note, nodev = sys.argv[2], *map(int, sys.argv[3:9])
for a in r["annotations"]:
    assert not (a.get("kind") == "case" and a.get("case") == cb), ("other case's annotation", a)
clips = {c["index"]: c for d in r["devices"] for c in d["clips"]}
assert clips[shared].get("other_cases") == [cb], clips[shared]
assert str(dmg) in r["verdict"] and "damaged" in r["verdict"], r["verdict"]
ex = {e["kind"]: e for e in clips[dmg]["explanations"]}
assert ex["damage_report"]["index"] == dmg_note and "battery" in ex["damage_report"]["text"], ex
ex = {e["kind"]: e for e in clips[late]["explanations"]}
assert ex["late_storage"]["index"] == late_note and "3-day" in ex["late_storage"]["text"], ex
kinds = sorted(o["kind"] for o in r["open"])
assert kinds == ["gap", "no_device"], kinds
for o in r["open"]:
    assert "custodyctl" not in o["message"] and o["action"], o
res = {(x["kind"], x.get("entry")) for x in r["reservations"]}
assert ("damaged", dmg) in res and ("late", late) in res, res
assert r["checkpoint"] and r["requested_by"], (r.get("checkpoint"), r.get("requested_by"))
assert [a for a in r["access_log"] if a["op"] == "copy-out" and "court" in (a.get("purpose") or "")
        and (a.get("destination") or "").endswith("copy.mp4")], r["access_log"]
PY
	ok "review JSON: own annotations only, other_cases, damaged in the verdict, explanations, open items in words, record fields, copy-out purpose" ||
	bad "review JSON content"

# ---- the PDF in Chinese, in the office's zone ----
root=$(C checkpoint | sed -n 3p)
set +e
# With the config, as a reviewer on the office server runs it: its [display] timezone.
LANG=zh_CN.UTF-8 LC_ALL= C --config "$conf" review "$CA" --pdf "$tmp/r.pdf" >"$tmp/zh.txt" 2>&1
code=$?
set -e
[ $code = 1 ] && [ -s "$tmp/r.pdf" ] || bad "review --pdf: exit $code, $(head -3 "$tmp/zh.txt")"
pdftotext -layout "$tmp/r.pdf" "$tmp/r.txt"
grep -qF "$CA" "$tmp/r.txt" && ok "the PDF names the case" || bad "no case id in the PDF"
# The page names the checkpoint the daemon served when it was made (every review is an access
# entry, so the log grows between two reviews): the root of the size the page gives.
size=$(grep -o "大小 [0-9]*" "$tmp/r.txt" | head -1 | grep -o "[0-9]*$")
root=$(C checkpoint --size "$size" | sed -n 3p)
tr -d ' \n' <"$tmp/r.txt" | grep -qF "$root" && ok "the PDF carries the checkpoint root $root" ||
	bad "root $root not in the PDF"
grep -q "案件" "$tmp/r.txt" && grep -q "结论" "$tmp/r.txt" && ok "Chinese labels in the PDF" ||
	bad "no Chinese labels: $(head -20 "$tmp/r.txt")"
# Times shown are at +08:00; only the closing commands (custodyctl's arguments) are UTC.
# (a command's time is followed by its next option or ends its wrapped line).
grep -oE "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z.{0,3}" "$tmp/r.txt" | grep -vE "Z( --.*)?$" >"$tmp/utc.txt" || true
grep -q "+08:00" "$tmp/r.txt" && ! [ -s "$tmp/utc.txt" ] &&
	ok "times at +08:00, none in UTC" ||
	bad "times not in Asia/Shanghai: $(head -5 "$tmp/utc.txt") $(grep -o "+0[0-9]:00" "$tmp/r.txt" | sort | uniq -c)"
grep -q "第 *1 *页" "$tmp/r.txt" && ok "page numbers" || bad "no page x of y"
pdffonts "$tmp/r.pdf" | awk 'NR > 2 && $(NF-4) != "yes" { bad = 1 } END { exit bad }' &&
	ok "every font embedded: $(pdffonts "$tmp/r.pdf" | awk 'NR > 2 { print $1 }' | tr '\n' ' ')" ||
	bad "a font is not embedded: $(pdffonts "$tmp/r.pdf")"
LANG=zh_CN.UTF-8 C review "$CA" --html "$tmp/r.html" >/dev/null 2>&1 || true
grep -q '<html[^>]* lang="zh-CN"' "$tmp/r.html" && ok "HTML lang=zh-CN" || bad "HTML lang: $(grep -o '<html[^>]*>' "$tmp/r.html")"
grep -q "结论\|审核" "$tmp/zh.txt" && ok "Chinese text review" || bad "text review not Chinese: $(tail -3 "$tmp/zh.txt")"

# ---- one clip's chain of custody ----
C history "$shared" >"$tmp/h.txt" && ok "history $shared: exit 0" || bad "history: $(tail -3 "$tmp/h.txt")"
grep -q "copy-out" "$tmp/h.txt" && grep -q "transfer to the court" "$tmp/h.txt" &&
	grep -q "copy.mp4" "$tmp/h.txt" && ok "history lists the copy-out with purpose and destination" ||
	bad "history: $(cat "$tmp/h.txt")"
# Every event's proof checks, but for accesses newer than the served checkpoint (the reviews
# above name this clip too, and a checkpoint comes a second later): no proof yet, said so.
C history "$shared" --json >"$tmp/h.json"
python3 - "$tmp/h.json" <<'PY' &&
import json, sys
h = json.load(open(sys.argv[1]))
c, ev = h["client"], h["events"]
assert c["ok"] and c["failed"] == 0 and c["unchecked"] == 0, c
assert c["verified"] >= 4 and c["verified"] + c["pending"] == len(ev), (c, len(ev))
for e in ev:
    want = "pending" if e["proof"] is None else "verified"
    assert e["client"]["proof"] == want, e
PY
	ok "history: $(jget "$tmp/h.json" .client.verified) proofs checked, $(jget "$tmp/h.json" .client.pending) newer than the checkpoint" ||
	bad "history: $(jget "$tmp/h.json" .client)"
[ "$(grep -c "✓" "$tmp/h.txt" || true)" -ge 4 ] && ok "the text marks the checked proofs" ||
	bad "history text: $(head -40 "$tmp/h.txt")"
custody-log() { "$CUSTODY_LOG" "$@"; }
custody-log keygen other.example/log --out "$tmp/other.key" >"$tmp/other.pub"
set +e
"$CUSTODYCTL" --socket "$sock" --key "$tmp/other.pub" history "$shared" >"$tmp/hbad.txt" 2>&1
code=$?
set -e
[ $code = 1 ] && ok "history against another key: exit 1" || bad "history with a wrong key: exit $code"
# --json stays English in any locale: custodyctl's own findings (client) included.
set +e
LANG=zh_CN.UTF-8 "$CUSTODYCTL" --socket "$sock" --key "$tmp/other.pub" history "$shared" --json \
	>"$tmp/hbad.json" 2>"$tmp/hbad.err"
set -e
python3 - "$tmp/hbad.json" <<'PY' && ! grep -qP '[\x{4e00}-\x{9fff}]' "$tmp/hbad.err" &&
import json, re, sys
h = json.load(open(sys.argv[1]))
texts = [json.dumps(h["client"], ensure_ascii=False)] + \
    [json.dumps(e.get("client"), ensure_ascii=False) for e in h["events"]]
assert h["client"]["ok"] is False, h["client"]
cjk = [t for t in texts if re.search("[\u4e00-\u9fff]", t)]
assert not cjk, cjk[:3]
PY
	ok "history --json under zh_CN: custodyctl's findings and stderr in English" ||
	bad "history --json speaks Chinese: $(head -c 600 "$tmp/hbad.json") $(cat "$tmp/hbad.err")"
LANG=zh_CN.UTF-8 C history "$shared" --pdf "$tmp/h.pdf" >/dev/null && pdftotext "$tmp/h.pdf" - | grep -q "移送法院" &&
	ok "history --pdf" || bad "history --pdf"

# ---- cases, near matches, a clip without device, CSV ----
C cases >"$tmp/cases.txt" && grep -qF "$CA" "$tmp/cases.txt" && grep -qF "$CB" "$tmp/cases.txt" &&
	ok "cases lists both" || bad "cases: $(cat "$tmp/cases.txt")"
set +e
C review 2026-xz-0042 >"$tmp/nf.txt" 2>&1
code=$?
set -e
[ $code = 1 ] && grep -qF "$CA" "$tmp/nf.txt" && ok "an unknown case suggests $CA" ||
	bad "near match: exit $code $(cat "$tmp/nf.txt")"
annotate device --entry "$nodev" --device CAM04 --reason "由办案民警确认 confirmed by the officer" >/dev/null
set +e
C review "$CA" --json >"$tmp/a2.json"
set -e
python3 - "$tmp/a2.json" "$nodev" <<'PY' &&
import json, sys
r = json.load(open(sys.argv[1])); nodev = int(sys.argv[2])
assert [o for o in r["open"] if o["kind"] == "no_device"] == [], r["open"]
assert ("no_device", nodev) in {(x["kind"], x.get("entry")) for x in r["reservations"]}, r["reservations"]
cam4 = [d for d in r["devices"] if d["device"] == "CAM04"]
assert cam4 and cam4[0]["clips"][0]["device_from"] == "annotation", r["devices"]
PY
	ok "a device annotation closes no_device and places the clip" || bad "device annotation"
C report --year "$(date -u +%Y)" --csv --bom >"$tmp/r.csv"
[ "$(head -c 3 "$tmp/r.csv" | od -An -tx1 | tr -d ' ')" = efbbbf ] && ok "report --csv --bom" ||
	bad "no BOM: $(head -c 16 "$tmp/r.csv" | od -c | head -2)"
finish
