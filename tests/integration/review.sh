#!/bin/bash
# The rules end to end: a real custodyd on temporary folders, clips made by ffmpeg
# whose recording times the test sets (creation_time tags and file names), and:
#   - storage: on time; late; late then explained; remote duty declared before and after the
#     upload (on_time_remote); a declaration that does not cover the recording and one whose
#     return was more than 24 h before the upload (late); unknown time, open and explained; a
#     recording time in the future; a camera that writes its local time (Asia/Shanghai)
#     labelled UTC (device_clock);
#   - continuity: a camera split within split_tolerance (no gap), a gap explained by an
#     interruption, a gap unexplained;
#   - damage: a damaged file reported and one not;
#   - a case bound by device and time (annotate case --device --from --to), and one by entries;
#   - review of a complete case (exit 0, "complete") and of an incomplete one (a late clip, an
#     unexplained gap, a damaged file and an original altered in the store behind the daemon's
#     back, each named; exit 1), text, --json and --html;
#   - the review's record (the checkpoint, checked against the verifier key, or why not), the
#     verdict naming the damaged file reported, times in [display] timezone, the text in
#     Chinese under LANG=zh_CN.UTF-8;
#   - report figures against the scenario's known counts, with --json, --csv (--bom), --year,
#     --open;
#   - `cases` and `history` (each event's proof checked), once the daemon answers them;
#   - a case bound by device and time reviewed with the device's clips of that time stored
#     after the binding; a file name and a reason with escape sequences and newlines, printed
#     escaped by the text review, whose verdict stays the last line.
#
# A file whose time cannot be known at all does not happen with a real file system (every file
# has an mtime, and the daemon falls back on it), so the daemon runs with CUSTODY_PROBE set to
# a wrapper that, for names containing "notime", removes the recording time from the real
# probe's answer: the entry is then exactly the one an untimed file gets.
set -eu
: "${CUSTODYD:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}" "${CUSTODY_PROBE:?}"
. "$(dirname "$0")/../lib.sh"
need ffmpeg
here=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$tmp/dock" "$tmp/sh" "$tmp/media"
cat >"$tmp/probe" <<EOF
#!/bin/bash
set -o pipefail
case "\$*" in
*notime*)
	# This shell, not custodyd, is the probe's parent here: --parent-pid would name the
	# wrong process, and the probe would refuse (it dies with its parent).
	args=()
	while [ \$# -gt 0 ]; do
		if [ "\$1" = --parent-pid ]; then shift 2; continue; fi
		args+=("\$1")
		shift
	done
	"$CUSTODY_PROBE" "\${args[@]}" | python3 "$here/drop-time.py"
	;;
*)
	exec "$CUSTODY_PROBE" "\$@"
	;;
esac
EOF
chmod +x "$tmp/probe"
daemon_conf <<EOF
[store]
path = $tmp/state/store

[zone dock]
path = $tmp/dock
kind = dock
settle = 1s
name_pattern = {device}_{officer}_{start:%Y%m%d%H%M%S}_{seq}

[zone sh]
path = $tmp/sh
kind = dock
settle = 1s
name_pattern = {device}_{officer}_{start:%Y%m%d%H%M%S}_{seq}
device_clock = Asia/Shanghai

[rules]
device_clock = UTC
storage_deadline = 24h
split_tolerance = 3s
clock_skew = 10m

[ingest]
rescan_interval = 2s

[socket]
path = $tmp/custody.sock
EOF

# Drop the files given (already in $tmp/media) into a zone and wait until each has an entry.
count() { C log --type "$1" --limit 1000 --json | jget - '.entries|length'; } # count TYPE
files() { echo $(($(count ingest) + $(count damaged))); }
dropped() { [ "$(files)" -ge "$1" ] && [ -z "$(find "$2" -type f)" ]; } # dropped N ZONE-DIR
drop() { # drop ZONE FILE...
	local zone=$1 want
	shift
	want=$(($(files) + $#))
	for f in "$@"; do cp -p "$tmp/media/$f" "$tmp/$zone/$f"; done
	wait_for 60 dropped "$want" "$tmp/$zone" && return 0
	bad "$* not ingested: $(tail -5 "$dlog")"
	finish
}
# The index of the entry of the original named NAME.
idx() {
	C log --limit 1000 --json | jget - ".entries[entry.name=$1][0].index" ||
		{ echo "no entry for $1" >&2; return 1; }
}
annotate() { C annotate "$@" | grep -o '[0-9]*$'; }
# Times: date prints them from offsets in seconds relative to now.
now=$(date +%s) # one "now" for the whole test, so that a name and its tag agree
t() { date -u -d "@$((now + $1))" +"${2:-%Y-%m-%dT%H:%M:%SZ}"; }
stamp() { t "$1" %Y%m%d%H%M%S; }

# Each clip gets its own tone, so that no two have the same bytes (the daemon logs a content
# once: a second arrival of the same bytes makes no entry).
tone=200
toned() { # toned NAME SECONDS [creation_time]
	tone=$((tone + 37))
	clip "$tmp/media/$1" "$2" $tone "" "${3:-}"
}
damaged() { # damaged NAME: an MP4 cut in half (its index, at the end, is gone)
	toned "full-$1" 3
	head -c $(( $(stat -c %s "$tmp/media/full-$1") / 2 )) "$tmp/media/full-$1" >"$tmp/media/$1"
	rm "$tmp/media/full-$1"
}

DAY=86400
# Recording times, as offsets from now (seconds).
T1=$(( -3 * 3600 ))        # CAM1's three clips
T2=$(( -4 * 3600 ))        # CAM10's two clips
OLD=$(( -3 * DAY ))        # late clips

# The complete case.
toned "CAM1_OFF1_$(stamp $T1)_0001.mp4" 6 "$(t $T1)"        # tag
toned "CAM1_OFF1_$(stamp $((T1 + 7)))_0002.mp4" 6               # file name; 1 s after: a split
toned "CAM1_OFF1_$(stamp $((T1 + 60)))_0003.mp4" 6              # after a gap, explained below
toned "CAM3_OFF3_$(stamp $OLD)_0001.mp4" 4                      # late, explained
toned "CAM4_OFF4_$(stamp $OLD)_0001.mp4" 4                      # remote duty declared before
toned "CAM5_OFF5_$(stamp $OLD)_0001.mp4" 4                      # remote duty declared after
# Asia/Shanghai wall clock (UTC+8) written as if it were UTC: 2 hours ago in UTC.
SH_LOCAL=$(t $(( -2 * 3600 + 8 * 3600 )))
toned "CAM2_OFF2_$(stamp $(( -2 * 3600 + 8 * 3600 )))_0001.mp4" 4 "$SH_LOCAL"
damaged "CAM7_OFF7_$(stamp -3600)_0001.mp4"                      # damaged, reported
toned "CAM8_OFF8_$(stamp -3600)_0001-notime.mp4" 3               # no time, explained
# The incomplete case.
toned "CAM9_OFF9_$(stamp $OLD)_0001.mp4" 4                      # late, unexplained
toned "CAM10_OFF10_$(stamp $T2)_0001.mp4" 4
toned "CAM10_OFF10_$(stamp $((T2 + 120)))_0002.mp4" 4           # gap, unexplained
damaged "CAM11_OFF11_$(stamp -3600)_0001.mp4"                    # damaged, not reported
toned "CAM12_OFF12_$(stamp -18000)_0001.mp4" 4                  # altered in the store later
# Storage rules that leave clips open (case C-RD).
toned "CAM13_OFF13_$(stamp $OLD)_0001.mp4" 4                    # declaration not covering it
toned "CAM14_OFF14_$(stamp $OLD)_0001.mp4" 4                    # returned > 24 h before upload
toned "CAM15_OFF15_$(stamp -3600)_0001-notime.mp4" 3            # no time, open
toned "CAM16_OFF16_$(stamp -7200)_0001.mp4" 3 "$(t $(( 30 * DAY )))" # a time in the future

daemon_start CUSTODY_PROBE="$tmp/probe"

# Remote duty for CAM4, declared before its clip arrives: the entry says on_time_remote.
rd_note=$(annotate remote_duty --device CAM4 --from "$(t $((OLD - 3600)))" \
	--to "$(t $((OLD + 3600)))" --returned-at "$(t -3600)")
drop dock $(cd "$tmp/media" && ls CAM*_0001*.mp4 CAM*_0002*.mp4 CAM*_0003*.mp4 | grep -v CAM2_)
drop sh "CAM2_OFF2_$(stamp $(( -2 * 3600 + 8 * 3600 )))_0001.mp4"
ok "18 clips ingested"

# Entry indexes by name.
declare -A E
for f in $(cd "$tmp/media" && ls CAM*.mp4); do E[${f%%_*}${f##*_}]=$(idx "$f"); done
ok1=${E[CAM10001.mp4]} ok2=${E[CAM10002.mp4]} ok3=${E[CAM10003.mp4]}
late_x=${E[CAM30001.mp4]} rd_before=${E[CAM40001.mp4]} rd_after=${E[CAM50001.mp4]}
sh=${E[CAM20001.mp4]} dmg_r=${E[CAM70001.mp4]} notime_x=${E[CAM80001-notime.mp4]}
late_o=${E[CAM90001.mp4]} gap1=${E[CAM100001.mp4]} gap2=${E[CAM100002.mp4]}
dmg_o=${E[CAM110001.mp4]} alt=${E[CAM120001.mp4]}
rd_nocover=${E[CAM130001.mp4]} rd_toolate=${E[CAM140001.mp4]}
notime_o=${E[CAM150001-notime.mp4]} future=${E[CAM160001.mp4]}

# What the daemon logged for the times the test set.
C log --limit 1000 --json >"$tmp/log.json"
python3 - "$tmp/log.json" "$ok1" "$ok2" "$sh" "$(t -7200)" "$future" "$notime_x" "$dmg_r" \
	"$late_o" "$rd_before" "$rd_note" <<'PY' &&
import json, sys
log, ok1, ok2, sh, sh_utc, future, notime, dmg, late, rd, rd_note = sys.argv[1:]
e = {str(x["index"]): x["entry"] for x in json.load(open(log))["entries"]}
assert e[ok1]["time_source"] == "tag" and e[ok1]["storage"] == "on_time", e[ok1]
assert e[ok2]["time_source"] == "filename", e[ok2]
assert e[sh]["time_source"] == "tag" and e[sh]["recorded_start"] == sh_utc, \
    (e[sh]["recorded_start"], sh_utc)
assert e[sh]["storage"] == "on_time"
assert e[future].get("time_in_future") is True and e[future]["storage"] == "unknown_time", e[future]
assert e[notime]["recorded_start"] is None and e[notime]["storage"] == "unknown_time", e[notime]
assert e[dmg]["type"] == "damaged", e[dmg]
assert e[late]["storage"] == "late", e[late]
assert e[rd]["storage"] == "on_time_remote" and e[rd]["remote_duty"] == int(rd_note), e[rd]
PY
	ok "logged times: tag, file name, local clock labelled UTC, future, none; storage as" \
		"logged" ||
	bad "logged entries"

# Explanations and declarations after the uploads.
late_note=$(annotate late_storage --entry "$late_x" \
	--reason "stored from the field after a 3-day operation")
annotate remote_duty --officer OFF5 --from "$(t $((OLD - 3600)))" --to "$(t $((OLD + 3600)))" \
	--returned-at "$(t -7200)" >/dev/null
annotate remote_duty --device CAM13 --from "$(t $((OLD + 60)))" --to "$(t $((OLD + 3600)))" \
	--returned-at "$(t -3600)" >/dev/null
annotate remote_duty --device CAM14 --from "$(t $((OLD - 3600)))" --to "$(t $((OLD + 3600)))" \
	--returned-at "$(t $(( -2 * DAY )))" >/dev/null
dmg_note=$(annotate damage_report --entry "$dmg_r" \
	--explanation "the camera's battery failed while writing")
annotate late_storage --entry "$notime_x" --reason "the camera's clock was reset" >/dev/null
gap_note=$(annotate interruption --device CAM1 --from "$(t $((T1 + 10)))" --to "$(t $((T1 + 60)))" \
	--reason "battery swap")
# A refusal (root is an operator, not an approver): recorded as an access entry.
C annotate approval --grantee nobody --entries "$ok1" --purpose x --expires "$(t 3600)" \
	>/dev/null 2>&1 && bad "approval by an operator allowed" || true

# Cases: CAM1 by device and time, the rest by entries.
set +e
C annotate case --case C-OK --device NOPE --from "$(t -7200)" --to "$(t 0)" >/dev/null 2>"$tmp/err"
code=$?
set -e
[ $code = 1 ] && grep -q "nothing to bind" "$tmp/err" &&
	ok "a case by device and time that matches no clip is refused" ||
	bad "case with no clips: exit $code $(cat "$tmp/err")"
case_dev=$(annotate case --case C-OK --device CAM1 --from "$(t $((T1 - 60)))" \
	--to "$(t $((T1 + 120)))")
C entry "$case_dev" --json >"$tmp/case.json"
[ "$(jget "$tmp/case.json" '.entry.entries[]' | sort -n)" = "$(printf '%s\n' "$ok1" "$ok2" "$ok3" |
	sort -n)" ] && [ "$(jget "$tmp/case.json" .entry.device)" = CAM1 ] &&
	ok "annotate case --device --from --to binds the device's clips in that time" ||
	bad "case by device: $(C entry "$case_dev" --json)"
annotate case --case C-OK --entries "$late_x,$rd_before,$rd_after,$sh,$dmg_r,$notime_x" >/dev/null
annotate case --case C-BAD --entries "$late_o,$gap1,$gap2,$dmg_o,$alt" >/dev/null
annotate case --case C-RD --entries "$rd_nocover,$rd_toolate,$notime_o,$future" >/dev/null

# An original altered in the store behind the daemon's back.
stored=$(C entry "$alt" --json | jget - .entry.stored)
chmod u+w "$tmp/state/store/$stored"
python3 "$here/flip-bytes.py" "$tmp/state/store/$stored" 1 1 1000

# ---- review: the complete case ----
set +e
C review C-OK >"$tmp/ok.txt" 2>&1
code=$?
set -e
# Complete, but the damaged file (reported) and the explained late clip are reservations the
# verdict names (docs/review-format.md).
complete="complete with reservations: 9 clips from 7 devices, every gap explained, every original unchanged since it was stored; "
verdict=$(tail -1 "$tmp/ok.txt")
if [ $code = 0 ] && [[ "$verdict" == "verdict: $complete"* ]] &&
	[[ "$verdict" == *"entry $dmg_r damaged (reported, entry $dmg_note)"* ]] &&
	[[ "$verdict" == *"entry $late_x stored late (explained, entry $late_note)"* ]] &&
	[[ "$verdict" == *"(interruption, entry $gap_note)"* ]]; then
	ok "review C-OK: exit 0, $verdict"
else
	bad "review C-OK: exit $code: $(cat "$tmp/ok.txt")"
fi
grep -q "gap of .* explained by entry $gap_note (battery swap)" "$tmp/ok.txt" \
	&& ok "the text shows the explained gap" || bad "no explained gap in: $(cat "$tmp/ok.txt")"
# The record: the served checkpoint, checked here against the verifier key.
size=$(sed -n "s/^record: log 'test.custody\/log', checkpoint of size \([0-9]*\), root hash [A-Za-z0-9+/]*=$/\1/p" "$tmp/ok.txt")
[ -n "$size" ] && [ "$size" -le "$(log_size)" ] &&
	grep -q "^        signed with verifier key test.custody/log (key ID [0-9a-f]\{8\}): checked ✓$" \
	"$tmp/ok.txt" && ok "the review names its record: checkpoint of size $size, checked" ||
	bad "record: $(head -5 "$tmp/ok.txt")"
"$CUSTODY_LOG" keygen test.custody/log --out "$tmp/other.key" >"$tmp/other.pub"
set +e
"$CUSTODYCTL" --socket "$sock" --key "$tmp/other.pub" review C-OK >"$tmp/ok-other.txt" 2>&1
code=$?
set -e
[ $code = 0 ] && grep -q "^record: checkpoint of size [0-9]*, NOT CHECKED: the checkpoint does not verify" \
	"$tmp/ok-other.txt" && ! grep -q "✓" "$tmp/ok-other.txt" &&
	ok "with another key the record says NOT CHECKED and why" ||
	bad "another key (exit $code): $(head -5 "$tmp/ok-other.txt")"
grep -q "^ *DAMAGED: \(damage report, entry $dmg_note .*: 'the camera's battery failed while writing'\|reported in entry $dmg_note\)$" \
	"$tmp/ok.txt" && ok "the damaged clip's row says its report" ||
	bad "damaged clip: $(grep -n -A6 "entry $dmg_r " "$tmp/ok.txt")"
# The office's zone from the config's [display] timezone, with the offset; the same verdict.
{ cat "$conf"; printf '\n[display]\ntimezone = Asia/Shanghai\n'; } >"$tmp/ctl.conf"
set +e
"$CUSTODYCTL" --config "$tmp/ctl.conf" --key "$tmp/log.pub" review C-OK >"$tmp/ok-sh.txt" 2>&1
code=$?
set -e
sh_start=$(TZ=Asia/Shanghai date -d "@$((now + T1))" '+%Y-%m-%d %H:%M:%S +08:00')
[ $code = 0 ] && grep -q "^  entry $ok1 *$sh_start to " "$tmp/ok-sh.txt" &&
	! grep -q '+00:00' "$tmp/ok-sh.txt" &&
	ok "[display] timezone = Asia/Shanghai: times shown with +08:00 ($sh_start)" ||
	bad "display zone (exit $code, want $sh_start): $(head -12 "$tmp/ok-sh.txt")"
# In Chinese: the labels and the verdict in the catalogue's words, the last line still the
# verdict, the exit code the same.
if locale -a 2>/dev/null | grep -qix 'zh_CN.utf-\?8'; then
	set +e
	LANG=zh_CN.UTF-8 LC_ALL= LANGUAGE= C review C-OK >"$tmp/ok-zh.txt" 2>&1
	code=$?
	set -e
	[ $code = 0 ] && head -1 "$tmp/ok-zh.txt" | grep -q '^案件 C-OK$' &&
		grep -q '^记录依据：日志“test.custody/log”' "$tmp/ok-zh.txt" &&
		tail -1 "$tmp/ok-zh.txt" | grep -q "^结论：完整，有保留意见：9 个片段 来自 7 台设备" &&
		tail -1 "$tmp/ok-zh.txt" | grep -q "条目 $dmg_r 损坏（已报告，条目 $dmg_note）" &&
		! grep -q 'verdict' "$tmp/ok-zh.txt" &&
		ok "LANG=zh_CN.UTF-8 custodyctl review: Chinese, $(tail -1 "$tmp/ok-zh.txt" | cut -c1-60)…" ||
		bad "Chinese review (exit $code): $(cat "$tmp/ok-zh.txt")"
else
	bad "the zh_CN.UTF-8 locale is not generated (scripts/deps run)"
fi
C review C-OK --json >"$tmp/ok.json" && ok "review --json exit 0" || bad "review C-OK --json failed"
python3 - "$tmp/ok.json" "$ok1" "$ok2" "$ok3" "$rd_before" "$rd_after" "$late_x" "$dmg_r" \
	"$notime_x" "$gap_note" "$case_dev" <<'PY' &&
import json, sys
r = json.load(open(sys.argv[1]))
ok1, ok2, ok3, rdb, rda, late, dmg, notime, gap, case = map(int, sys.argv[2:])
assert "ok" not in r and r["complete"] is True and r["open"] == [], r["open"]
assert r["case"] == "C-OK" and case in r["bound_by"]
clips = {c["index"]: (d["device"], c) for d in r["devices"] for c in d["clips"]}
assert len(clips) == 9
for i in clips: assert clips[i][1]["integrity"] == "ok", clips[i]
cam1 = [d for d in r["devices"] if d["device"] == "CAM1"][0]
assert [c["index"] for c in cam1["clips"]] == [ok1, ok2, ok3]
assert len(cam1["gaps"]) == 1, cam1["gaps"]          # the split is not a gap
g = cam1["gaps"][0]
assert g["after"] == ok2 and g["before"] == ok3, g
assert g["explained_by"] == gap and g["reason"] == "battery swap", g
for i, logged in ((rdb, "on_time_remote"), (rda, "late")):
    c = clips[i][1]
    assert c["storage"] == logged and c["storage_now"] == "on_time_remote" and c["explained_by"], c
c = clips[late][1]
assert c["storage"] == "late" and c["storage_now"] == "late" and c["explained_by"], c
c = clips[dmg][1]
assert c["damaged"] and c["type"] == "damaged" and isinstance(c["damage_report"], int), c
c = clips[notime][1]
assert c["storage"] == "unknown_time" and c["recorded_start"] is None and c["explained_by"], c
kinds = {a["kind"] for a in r["annotations"]}
assert {"case", "late_storage", "remote_duty", "damage_report", "interruption"} <= kinds, kinds
# The test's own `log` requests revealed the clips: they are accesses of them.
assert any(a["entry"] == ok1 and a["op"] == "log" and a["allowed"] for a in r["accesses"]), \
    r["accesses"]
assert r["accesses_total"] >= len(r["accesses"]) > 0
PY
	ok "review C-OK JSON: statuses, split, gap, explanations, accesses, annotations" ||
	bad "review C-OK JSON"
C review C-OK --html "$tmp/ok.html" >/dev/null 2>&1 &&
	head -c 200 "$tmp/ok.html" | grep -qi "<!doctype html" \
	&& ok "review --html writes the page" ||
	bad "review --html: $(head -c 200 "$tmp/ok.html" 2>&1)"

# ---- review: the incomplete case ----
set +e
C review C-BAD >"$tmp/bad.txt" 2>&1
code=$?
set -e
verdict=$(tail -1 "$tmp/bad.txt")
if [ $code = 1 ] && [[ "$verdict" == "verdict: INCOMPLETE: "* ]] &&
	[[ "$verdict" == *"1 late clip unexplained (entry $late_o)"* ]] &&
	[[ "$verdict" == *"1 unexplained gap (CAM10 "* ]] &&
	[[ "$verdict" == *"1 damaged file without a report (entry $dmg_o)"* ]] &&
	[[ "$verdict" == *"1 original altered (entry $alt)"* ]]; then
	ok "review C-BAD: exit 1, $verdict"
else
	bad "review C-BAD: exit $code: $(cat "$tmp/bad.txt")"
fi
set +e
C review C-BAD --json >"$tmp/bad.json"
code=$?
set -e
[ $code = 1 ] &&
	ok "review --json of an incomplete case exits 1" ||
	bad "review C-BAD --json: exit $code"
python3 - "$tmp/bad.json" "$late_o" "$gap1" "$gap2" "$dmg_o" "$alt" <<'PY' &&
import json, sys
r = json.load(open(sys.argv[1]))
late, gap1, gap2, dmg, alt = map(int, sys.argv[2:])
got = sorted((o["kind"], o["entry"]) for o in r["open"])
assert got == sorted([("late", late), ("gap", gap2), ("damaged", dmg), ("altered", alt)]), got
gap = [o for o in r["open"] if o["kind"] == "gap"][0]
assert gap["device"] == "CAM10" and "annotate interruption --device CAM10" in gap["action"], gap
clips = {c["index"]: c for d in r["devices"] for c in d["clips"]}
assert clips[alt]["integrity"] == "altered" and clips[gap1]["integrity"] == "ok"
cam10 = [d for d in r["devices"] if d["device"] == "CAM10"][0]
assert len(cam10["gaps"]) == 1 and cam10["gaps"][0]["explained_by"] is None
assert 110 <= cam10["gaps"][0]["seconds"] <= 120, cam10["gaps"]
PY
	ok "review C-BAD JSON: each open item named" ||
	bad "review C-BAD JSON: $(cat "$tmp/bad.json")"

# ---- review: storage rules that leave clips open ----
set +e
C review C-RD --json >"$tmp/rd.json"
code=$?
set -e
python3 - "$tmp/rd.json" "$rd_nocover" "$rd_toolate" "$notime_o" "$future" <<'PY' &&
import json, sys
r = json.load(open(sys.argv[1]))
nocover, toolate, notime, future = map(int, sys.argv[2:])
clips = {c["index"]: c for d in r["devices"] for c in d["clips"]}
for i in (nocover, toolate):
    assert clips[i]["storage_now"] == "late" and clips[i]["explained_by"] == [], clips[i]
got = sorted((o["kind"], o["entry"]) for o in r["open"])
assert got == sorted([("late", nocover), ("late", toolate), ("unknown_time", notime),
                     ("future_time", future)]), got
PY
	[ $code = 1 ] &&
	ok "review C-RD: a declaration not covering the recording, a return more than 24 h" \
		"before the upload, unknown and future time stay open" ||
	bad "review C-RD (exit $code): $(cat "$tmp/rd.json")"
set +e
C review NO-SUCH-CASE >/dev/null 2>"$tmp/err"
code=$?
set -e
[ $code = 1 ] &&
	grep -q "not_found" "$tmp/err" &&
	ok "review of an unknown case: not_found, exit 1" ||
	bad "unknown case: exit $code $(cat "$tmp/err")"
# Case ids are exact; a near one is suggested when the daemon offers suggestions.
set +e
C review c-ok >/dev/null 2>"$tmp/err"
code=$?
C review c-ok --json >"$tmp/err.json" 2>/dev/null
set -e
if [ "$(jget "$tmp/err.json" '.error.suggestions' 2>/dev/null)" != "" ] &&
	[ "$(jget "$tmp/err.json" '.error.suggestions' 2>/dev/null)" != null ]; then
	[ $code = 1 ] && grep -q '^custodyctl: did you mean: C-OK' "$tmp/err" &&
		ok "review c-ok: not_found, did you mean: C-OK" ||
		bad "suggestions (exit $code): $(cat "$tmp/err")"
else
	[ $code = 1 ] && ok "review c-ok: not_found (case ids are exact; this custodyd" \
		"suggests nothing yet)" || bad "review c-ok: exit $code"
fi

# ---- reports ----
sleep 1.5 # every access record committed and indexed
C report --from "$(t $(( -10 * DAY )))" --to "$(t $DAY)" --json >"$tmp/report.json"
C report --from "$(t $(( -10 * DAY )))" --to "$(t $DAY)" --csv >"$tmp/report.csv"
C log --type access --limit 1000 --json >"$tmp/access.json"
python3 - "$tmp/report.json" "$tmp/report.csv" "$tmp/access.json" "$ok1,$ok2,$ok3" <<'PY' &&
import csv, json, sys
r = json.load(open(sys.argv[1]))
t = r["totals"]
want = {"clips": 18, "on_time": 9, "on_time_remote": 2, "late_explained": 1, "late_open": 3,
        "unknown_time_explained": 1, "unknown_time_open": 2, "future_time": 1,
        "interruptions": 2, "interruptions_explained": 1, "damaged": 2, "damage_reported": 1,
        "copy_outs": 0}
for k, v in want.items():
    assert t[k] == v, (k, t[k], v)
acc = [a["entry"] for a in json.load(open(sys.argv[3]))["entries"]]
assert t["accesses"] == sum(1 for a in acc if a["allowed"]), (t["accesses"], len(acc))
assert t["refused"] == sum(1 for a in acc if not a["allowed"]) >= 1, t["refused"]
cam1 = set(map(int, sys.argv[4].split(",")))
# A row counts the accesses of its clips: an access naming three of them counts three.
named = sum(len(cam1 & set(a.get("entries", []) +
                           ([a["target"]] if isinstance(a["target"], int) else [])))
            for a in acc if a["allowed"])
dev = {d["device"]: d for d in r["devices"]}
assert len(dev) == 15 and dev["CAM1"]["clips"] == 3 and dev["CAM1"]["interruptions_explained"] == 1
assert dev["CAM1"]["accesses"] == named, (dev["CAM1"]["accesses"], named)
assert dev["CAM10"]["interruptions"] == 1 and dev["CAM10"]["interruptions_explained"] == 0
off = {o["officer"]: o for o in r["officers"]}
assert off["OFF4"]["on_time_remote"] == 1 and off["OFF9"]["late_open"] == 1
assert 60 <= t["seconds"] <= 80, t["seconds"]
rows = list(csv.DictReader(open(sys.argv[2])))
total = [x for x in rows if x["scope"] == "total"][0]
for k in want:
    assert int(total[k]) == t[k], (k, total[k])
assert total["from"] == r["from"] and total["to"] == r["to"]
devrows = {x["name"]: x for x in rows if x["scope"] == "device"}
assert set(devrows) == set(dev) and int(devrows["CAM10"]["interruptions"]) == 1
assert len([x for x in rows if x["scope"] == "officer"]) == len(off)
PY
	ok "report figures (--json and --csv) match the scenario" ||
	bad "report: $(cat "$tmp/report.json")"
C report --from "$(t $(( -10 * DAY )))" --to "$(t $DAY)" --csv --bom >"$tmp/report-bom.csv"
C report --from "$(t $(( -10 * DAY )))" --to "$(t $DAY)" --csv >"$tmp/report2.csv"
[ "$(head -c 3 "$tmp/report-bom.csv" | od -An -tx1 | tr -d ' ')" = efbbbf ] &&
	[ "$(tail -c +4 "$tmp/report-bom.csv")" = "$(cat "$tmp/report2.csv")" ] &&
	ok "report --csv --bom: a UTF-8 byte order mark, then the same CSV" ||
	bad "--bom: $(head -c 40 "$tmp/report-bom.csv" | od -c | head -3)"
set +e
C report --year 2026 --bom >/dev/null 2>&1
code=$?
set -e
[ $code = 2 ] && ok "--bom without --csv: usage error" || bad "--bom alone: exit $code"
year=$(date -u +%Y)
C report --year "$year" --json >"$tmp/year.json"
python3 - "$tmp/year.json" "$tmp/log.json" "$year" <<'PY' &&
import json, sys
r = json.load(open(sys.argv[1]))
y = sys.argv[3]
assert r["from"] == y + "-01-01T00:00:00Z" and r["to"] == str(int(y) + 1) + "-01-01T00:00:00Z", r
n = 0
for x in json.load(open(sys.argv[2]))["entries"]:
    e = x["entry"]
    if e["type"] not in ("ingest", "damaged"): continue
    when = e["ingested_at"] if e["recorded_start"] is None or e.get("time_in_future") \
        else e["recorded_start"]
    n += when.startswith(y)
assert r["totals"]["clips"] == n, (r["totals"]["clips"], n)
PY
	ok "report --year $year: 1 January to 1 January, clips counted by recording start" ||
	bad "report --year: $(head -c 600 "$tmp/year.json")"
set +e
C report --open >"$tmp/open.txt"
code=$?
C report --open --json >"$tmp/open.json"
set -e
python3 - "$tmp/open.json" "$late_o" "$rd_nocover" "$rd_toolate" "$notime_o" "$future" "$dmg_o" \
	"$gap2" <<'PY' &&
import json, sys
r = json.load(open(sys.argv[1]))
late, nocover, toolate, notime, future, dmg, gap = map(int, sys.argv[2:])
got = sorted((o["kind"], o["entry"]) for o in r["open"])
want = sorted([("late", late), ("late", nocover), ("late", toolate), ("unknown_time", notime),
               ("future_time", future), ("damaged", dmg), ("gap", gap)])
assert got == want and r["open_total"] == 7 and r["from"] is None and r["open_only"], (got, want)
PY
	[ $code = 1 ] &&
	grep -q "^open items: 7$" "$tmp/open.txt" &&
	ok "report --open: the 7 open items of the log, exit 1" ||
	bad "report --open (exit $code): $(cat "$tmp/open.txt")"
set +e
C report --from "$(t 0)" >/dev/null 2>&1; c1=$?
C report --year 1969 >/dev/null 2>&1; c2=$?
C report --from "$(t 0)" --to "$(t -10)" >/dev/null 2>&1; c3=$?
set -e
[ "$c1$c2$c3" = 222 ] && ok "report usage errors exit 2" || bad "report errors: $c1 $c2 $c3"

# Closing the open items closes the case.
annotate late_storage --entry "$late_o" --reason "late: the docking station was down" >/dev/null
annotate damage_report --entry "$dmg_o" --explanation "the card was pulled while writing" >/dev/null
annotate interruption --device CAM10 --from "$(t $((T2 + 4)))" --to "$(t $((T2 + 120)))" \
	--reason "arrest" >/dev/null
set +e
C review C-BAD --json >"$tmp/bad2.json"
code=$?
set -e
[ "$(jget "$tmp/bad2.json" '.open|length')" = 1 ] &&
	[ "$(jget "$tmp/bad2.json" '.open[0].kind')" = altered ] &&
	[ "$(jget "$tmp/bad2.json" '.open[0].entry')" = "$alt" ] && [ $code = 1 ] &&
	ok "after explanations only the altered original stays open" ||
	bad "after explanations: $(cat "$tmp/bad2.json")"

# ---- a case bound by device and time covers the clips of that time stored after the binding ----
# (retention keeps them as bound; the review must list them too).  And every string of the text
# review reaches the terminal escaped: a file name and a reason with an escape sequence and a
# newline that, printed raw, would clear the screen and forge a verdict line.
ingest_idx() { # ingest_idx NAME: as idx, among the originals only (the log is long by now)
	C log --type ingest --limit 1000 --json | jget - ".entries[entry.name=$1][0].index" ||
		{ echo "no entry for '$1'" >&2; return 1; }
}
T3=$(( -6 * 3600 ))
c17a="CAM17_OFF17_$(stamp $T3)_0001.mp4"
c17b="CAM17_OFF17_$(stamp $((T3 + 30)))_0002.mp4"   # stored after the binding, in its span
c17c="CAM17_OFF17_$(stamp $((T3 + 3600)))_0003.mp4" # stored after the binding, outside it
toned "$c17a" 6
toned "$c17b" 6
toned "$c17c" 6
esc=$'\e'
evil="${esc}[2J${esc}[1;32mforged"$'\n'"verdict: complete: 1 clip from 1 device${esc}[0m.mp4"
toned plain-evil.mp4 3
mv "$tmp/media/plain-evil.mp4" "$tmp/media/$evil"
drop dock "$c17a"
e17a=$(ingest_idx "$c17a")
case17=$(annotate case --case C-LATER --device CAM17 --from "$(t $((T3 - 60)))" \
	--to "$(t $((T3 + 600)))")
drop dock "$c17b" "$c17c" "$evil"
e17b=$(ingest_idx "$c17b")
e17c=$(ingest_idx "$c17c")
e_evil=$(ingest_idx "$evil")
annotate case --case C-LATER --entries "$e_evil" >/dev/null
annotate interruption --device CAM17 --from "$(t $((T3 + 6)))" --to "$(t $((T3 + 30)))" \
	--reason "${esc}[2Jbattery"$'\n'"verdict: complete: forged${esc}]0;title${esc}\\" >/dev/null
set +e
C review C-LATER --json >"$tmp/later.json"
code=$?
set -e
python3 - "$tmp/later.json" "$case17" "$e17a" "$e17b" "$e17c" "$e_evil" <<'PY' &&
import json, sys
r = json.load(open(sys.argv[1]))
case, a, b, c, evil = map(int, sys.argv[2:])
clips = sorted(c["index"] for d in r["devices"] for c in d["clips"])
assert clips == sorted([a, b, evil]), (clips, [a, b, evil], c)
assert case in r["bound_by"], r["bound_by"]
cam17 = [d for d in r["devices"] if d["device"] == "CAM17"][0]
assert len(cam17["gaps"]) == 1 and cam17["gaps"][0]["explained_by"], cam17["gaps"]
PY
	ok "review of a case bound by device and time lists the device's clips of that time" \
		"stored after the binding, not the others" ||
	bad "review C-LATER (exit $code): $(head -c 2000 "$tmp/later.json")"
[ "$(C entry "$case17" --json | jget - .entry.entries)" = "[$e17a]" ] &&
	ok "the case annotation itself still lists the clip there was" ||
	bad "case annotation: $(C entry "$case17" --json)"
set +e
C review C-LATER >"$tmp/later.txt" 2>&1
code=$?
set -e
if grep -q "$esc" "$tmp/later.txt"; then
	bad "the text review prints a raw ESC: $(cat -v "$tmp/later.txt")"
elif [ "$(grep -c '^verdict:' "$tmp/later.txt")" != 1 ] ||
	! tail -1 "$tmp/later.txt" | grep -q '^verdict: '; then
	bad "the verdict is not the last and only verdict line: $(cat -v "$tmp/later.txt")"
elif ! grep -qF '\x1b[2J\x1b[1;32mforged\x0averdict: complete: 1 clip' "$tmp/later.txt" ||
	! grep -qF '(\x1b[2Jbattery\x0averdict: complete: forged\x1b]0;title\x1b\)' \
		"$tmp/later.txt"; then
	bad "the name and the reason are not shown escaped: $(cat -v "$tmp/later.txt")"
else
	ok "review text: a file name and a reason with escape sequences and newlines are printed" \
		"escaped; the verdict stays the last line (exit $code)"
fi
C report --open >"$tmp/open2.txt" 2>&1 || true
grep -q "$esc" "$tmp/open2.txt" &&
	bad "report --open prints a raw ESC: $(cat -v "$tmp/open2.txt")" ||
	ok "report --open text has no raw ESC"

# ---- cases and history (docs/review-format.md), once this custodyd answers them ----
set +e
C cases >"$tmp/cases.txt" 2>"$tmp/cases.err"
code=$?
set -e
if grep -q "bad_request" "$tmp/cases.err"; then
	echo "note: this custodyd has no 'cases' op yet: $(cat "$tmp/cases.err")"
elif [ $code = 0 ] && head -1 "$tmp/cases.txt" | grep -q '^4 cases, as of ' &&
	grep -q '^  C-BAD  ' "$tmp/cases.txt" && grep -q '^  C-OK  ' "$tmp/cases.txt"; then
	ok "custodyctl cases lists the 4 cases"
else
	bad "cases (exit $code): $(cat "$tmp/cases.txt" "$tmp/cases.err")"
fi
set +e
C history "$dmg_r" >"$tmp/hist.txt" 2>"$tmp/hist.err"
code=$?
set -e
if grep -q "bad_request" "$tmp/hist.err" && ! grep -q "history" "$tmp/hist.txt"; then
	echo "note: this custodyd has no 'history' op yet: $(cat "$tmp/hist.err")"
else
	events=$(grep -c "^  entry [0-9]" "$tmp/hist.txt" || true)
	checked=$(grep -c "^ *proof checked ✓$" "$tmp/hist.txt" || true)
	pending=$(grep -c "^ *no proof yet: newer than the checkpoint$" "$tmp/hist.txt" || true)
	[ $code = 0 ] && [ "$events" -ge 3 ] && [ $((checked + pending)) = "$events" ] &&
		grep -q "^  entry $dmg_note .*damage report" "$tmp/hist.txt" &&
		tail -1 "$tmp/hist.txt" | grep -q "^proofs: $checked checked against the verifier key ✓" &&
		ok "custodyctl history $dmg_r: $events events, $checked proofs checked" ||
		bad "history (exit $code): $(cat "$tmp/hist.txt" "$tmp/hist.err")"
	set +e
	"$CUSTODYCTL" --socket "$sock" --key "$tmp/other.pub" history "$dmg_r" >"$tmp/hist2.txt" 2>&1
	code=$?
	set -e
	[ $code = 1 ] && grep -q "proof FAILED" "$tmp/hist2.txt" &&
		tail -1 "$tmp/hist2.txt" | grep -q "^proofs: NOT VERIFIED" &&
		ok "history against another key: every proof fails, exit 1" ||
		bad "history, another key (exit $code): $(cat "$tmp/hist2.txt")"
fi

daemon_stop || true
finish
