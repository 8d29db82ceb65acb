#!/bin/bash
# The scrubber end to end: a real custodyd on temporary folders ingests five
# clips made by ffmpeg; behind its back one original is changed (chmod u+w, one byte flipped)
# and another deleted.  `custodyctl scrub --now` starts a pass (a second --now is told one is
# running); the pass ends in one `scrub` entry (part 1 of 1) whose checked/ok/missing/altered
# name the right entries, each failure is an ALERT line (<1> with JOURNAL_STREAM set) naming
# the entry and the stored path, and `status` shows the alarms.  A user with no operator role is refused (as root
# only: it needs a second user).  At 1 MiB/s a pass takes seconds: kill -9 in the middle, and
# the restarted daemon resumes it and logs exactly one entry that counts each original once;
# SIGTERM in the middle of a pass exits at once and the pass resumes too; SIGHUP takes a new
# scrub_rate.
set -eu
: "${CUSTODYD:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}"
. "$(dirname "$0")/../lib.sh"
die() { bad "$*"; finish; }

mkdir -p "$tmp/dock" "$tmp/media"
write_config() { # write_config RATE
	daemon_conf <<EOF
[store]
path = $tmp/state/store
scrub_interval = 0
scrub_rate = $1

[zone dock]
path = $tmp/dock
kind = dock
settle = 1s

[rules]
device_clock = UTC

[ingest]
rescan_interval = 2s

[socket]
path = $tmp/custody.sock
reviewers = cs-review
EOF
}
write_config 1MiB
# Roles are resolved when the daemon starts: the reviewer exists before it (root only).
as_reviewer=
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	add_group cs-review cs-none
	add_user cs-reviewer cs-none cs-review
	as_reviewer=yes
fi
"$CUSTODYD" --check-config --config "$conf" >/dev/null || die "config rejected"

# JOURNAL_STREAM makes the daemon print journald's <N> priority prefixes.
start_daemon() { daemon_start JOURNAL_STREAM=8:4242; }
# A condition on `status --json`, which the tests compute: st 'python expression on s' prints
# it, st_true is true when it is True, as in wait_for SECONDS st_true 'expression'.
st() { C status --json | python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"; }
st_true() { [ "$(st "$1" 2>/dev/null)" = True ]; }
scrub_entries() { C log --type scrub --json; }

# Five clips of about 1.5 MB (lossless video, so that a pass at 1 MiB/s takes seconds).
for i in 1 2 3 4 5; do
	clip_src=testsrc2=size=640x360:rate=25 clip_opts="-qp 0" \
		clip "$tmp/media/clip$i.mp4" 3 $((200 + i * 110))
done

start_daemon
for i in 1 2 3 4 5; do cp "$tmp/media/clip$i.mp4" "$tmp/dock/"; done
wait_for 60 st_true 's["size"] >= 5 and s["pipeline"]["in_flight"] == 0' ||
	die "five clips not ingested"
[ -z "$(ls "$tmp/dock")" ] || die "the dock is not empty: $(ls "$tmp/dock")"
C log --type ingest --json >"$tmp/ingest.json"
# name index stored size, one line per clip
python3 - "$tmp/ingest.json" >"$tmp/clips" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1]))["entries"]:
    x = e["entry"]
    print(x["name"], e["index"], x["stored"], x["size"])
PY
[ "$(wc -l <"$tmp/clips")" = 5 ] || die "not five ingest entries: $(cat "$tmp/clips")"
col() { awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$tmp/clips"; } # col NAME FIELD
alt_idx=$(col clip2.mp4 2); alt_path=$tmp/state/store/$(col clip2.mp4 3)
mis_idx=$(col clip4.mp4 2); mis_path=$tmp/state/store/$(col clip4.mp4 3)
total=0
for i in 1 2 3 5; do total=$((total + $(col clip$i.mp4 4))); done

st 's["scrub"]["state"]' | grep -qx idle && st 's["scrub"]["last"]' | grep -qx None \
	&& ok "scrub idle, no pass yet, none scheduled (scrub_interval = 0)" \
	|| bad "scrub state at start: $(st 's["scrub"]')"
C scrub >"$tmp/scrub0.out" && grep -q "^last scrub: none yet" "$tmp/scrub0.out" \
	&& ok "custodyctl scrub: exit 0 without alarms" ||
	bad "custodyctl scrub at start: $(cat "$tmp/scrub0.out")"

# Behind the daemon's back: one byte of clip2's original flipped, clip4's original deleted.
chmod u+w "$alt_path"
python3 "$(dirname "$0")/flip-bytes.py" "$alt_path" 1 0x40 1000
rm -f "$mis_path"

C scrub --now >"$tmp/now.out" && grep -q "started a pass" "$tmp/now.out" \
	&& ok "scrub --now starts a pass" || bad "scrub --now: $(cat "$tmp/now.out")"
C scrub --now >"$tmp/now2.out" && grep -q "not started: a pass is running" "$tmp/now2.out" \
	&& ok "a second scrub --now says a pass is running" || bad "second --now: $(cat "$tmp/now2.out")"
wait_for 5 st_true 's["scrub"]["state"] == "running"' || bad "no running pass: $(st 's["scrub"]')"
C scrub >"$tmp/scrub.out" || true
grep -q "^scrub: running since" "$tmp/scrub.out" \
	&& ok "custodyctl scrub shows the running pass" || bad "custodyctl scrub: $(cat "$tmp/scrub.out")"
wait_for 60 st_true 's["scrub"]["last"] is not None and s["scrub"]["state"] == "idle"' \
	|| die "the pass did not finish: $(st 's["scrub"]')"

scrub_entries >"$tmp/scrub1.json"
python3 - "$tmp/scrub1.json" "$alt_idx" "$mis_idx" "$total" <<'PY' &&
import json, sys
entries = json.load(open(sys.argv[1]))["entries"]
alt, mis, total = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
assert len(entries) == 1, entries
e = entries[0]["entry"]
assert e["v"] == 1 and e["type"] == "scrub", e
assert e["checked"] == 5 and e["ok"] == 3, e
assert e["missing"] == [mis] and e["altered"] == [alt], e
# Few findings: the whole pass in one entry, its only part (docs/log.md).
assert e["part"] == 1 and e["parts"] == 1, e
# Every existing original read in full (the altered one too: same size); the missing one not.
assert e["bytes"] == total, (e["bytes"], total)
assert e["started_at"] <= e["at"], e
PY
	ok "one scrub entry: checked 5, ok 3, missing [$mis_idx], altered [$alt_idx], bytes $total" ||
	bad "scrub entry wrong: $(cat "$tmp/scrub1.json")"
grep -q "^<1>\[scrub\] entry $alt_idx: the original '$alt_path' is ALTERED: its SHA-256 is" \
	"$dlog" \
	&& ok "an ALERT (<1>) line names the altered original's entry and path" \
	|| bad "no ALERT for the altered original: $(grep scrub "$dlog")"
grep -q "^<1>\[scrub\] entry $mis_idx: the original '$mis_path' is MISSING" "$dlog" \
	&& ok "an ALERT (<1>) line names the missing original's entry and path" \
	|| bad "no ALERT for the missing original: $(grep scrub "$dlog")"
[ "$(grep -c '^<1>\[scrub\]' "$dlog")" = 2 ] && ok "exactly two scrub ALERTs" \
	|| bad "scrub ALERT lines: $(grep '^<1>\[scrub\]' "$dlog")"
st_true 's["scrub"]["alarms"]["missing"] == ['"$mis_idx"'] and
	s["scrub"]["alarms"]["altered"] == ['"$alt_idx"'] and s["scrub"]["alarms"]["count"] == 2' \
	&& ok "status --json: the open alarms" || bad "status alarms: $(st 's["scrub"]')"
C status >"$tmp/status.out"
sed 's/^/  | /' "$tmp/status.out"
grep -q "^SCRUB ALARM: .* MISSING entry $mis_idx; ALTERED entry $alt_idx; 2 in all" \
	"$tmp/status.out" \
	&& grep -q "^last scrub: .*5 originals checked, 3 ok, 1 missing, 1 altered" "$tmp/status.out" \
	&& ok "custodyctl status prints the last pass and the alarms" \
	|| bad "status output: $(cat "$tmp/status.out")"
set +e
C scrub >"$tmp/scrub.out"
code=$?
set -e
[ $code = 1 ] && grep -q "^SCRUB ALARM" "$tmp/scrub.out" \
	&& ok "custodyctl scrub exits 1 while alarms are open" \
	|| bad "custodyctl scrub with alarms: exit $code, $(cat "$tmp/scrub.out")"

# Roles: the `scrub` op is for operators.  The test's own uid is the daemon's, an operator; a
# second user is needed, so this part runs as root only.
if [ -n "$as_reviewer" ]; then
	chmod 0777 "$sock"
	chmod 0755 "$tmp"
	set +e
	as cs-reviewer "$CUSTODYCTL" --socket "$sock" scrub --now >"$tmp/rev.out" 2>"$tmp/rev.err"
	code=$?
	set -e
	[ $code = 1 ] && grep -q "forbidden" "$tmp/rev.err" \
		&& ok "a reviewer's scrub --now is forbidden (exit 1)" \
		|| bad "reviewer scrub --now: exit $code, $(cat "$tmp/rev.out" "$tmp/rev.err")"
	as cs-reviewer "$CUSTODYCTL" --socket "$sock" scrub >"$tmp/rev.out" 2>&1 || true
	grep -q "^scrub: idle" "$tmp/rev.out" \
		&& ok "a reviewer may see the scrubber's state" || bad "reviewer scrub: $(cat "$tmp/rev.out")"
	C log --type access --json | jget - '.entries[entry.op=scrub][entry.allowed=false][0]' \
		>/dev/null && ok "the refusal is an access entry" || bad "no access entry for the refused scrub"
	[ "$(st 's["scrub"]["state"]')" = idle ] && ok "the refused request started nothing" \
		|| bad "a pass started after the refusal"
else
	echo "skip: the non-operator check needs root (a second user)"
fi

# kill -9 in the middle of a pass: the restart resumes it, each original counted once.
C scrub --now >/dev/null
wait_for 30 st_true 's["scrub"]["pass"] is not None and 2 <= s["scrub"]["pass"]["checked"] <= 3' \
	|| die "no pass in progress to kill: $(st 's["scrub"]')"
# Status shows an original checked a moment before scrub.json has it (the save fsyncs).
sleep 0.3
daemon_kill
python3 - "$tmp/state/scrub.json" >"$tmp/killed" <<'PY' ||
import json, sys
s = json.load(open(sys.argv[1]))
assert s["phase"] == "running", s
p = s["pass"]
assert 1 <= p["checked"] < 5, p
print(p["started_us"], p["checked"], p["next"])
PY
	die "scrub.json after kill -9: $(cat "$tmp/state/scrub.json")"
ok "kill -9 mid-pass: scrub.json holds the pass at $(cut -d' ' -f2 "$tmp/killed") of 5 originals"
start_daemon
first=$(jget "$tmp/scrub1.json" '.entries[0].index')
wait_for 60 st_true 's["scrub"]["state"] == "idle" and s["scrub"]["last"] is not None and
	s["scrub"]["last"]["entry"] > '"$first" \
	|| die "the resumed pass did not finish: $(st 's["scrub"]')"
grep -q "^<5>\[scrub\] resuming the pass started at" "$dlog" \
	&& ok "the restarted daemon resumes the pass" || bad "no 'resuming' line"
scrub_entries >"$tmp/scrub2.json"
python3 - "$tmp/scrub2.json" "$alt_idx" "$mis_idx" "$total" <<'PY' &&
import json, sys
entries = json.load(open(sys.argv[1]))["entries"]
alt, mis, total = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
assert len(entries) == 2, [e["entry"] for e in entries]
e = max(entries, key=lambda e: e["index"])["entry"]
assert e["checked"] == 5 and e["ok"] == 3, e
assert e["missing"] == [mis] and e["altered"] == [alt], e
assert e["bytes"] == total, (e["bytes"], total)
PY
	ok "the resumed pass: one new entry, checked 5 (each once), bytes $total" ||
	bad "after the resume: $(cat "$tmp/scrub2.json")"

# SIGHUP: a new rate is taken.
write_config 2MiB
kill -HUP "$daemon"
wait_for 10 st_true 's["scrub"]["rate"] == 2 << 20' && ok "SIGHUP: scrub_rate 2MiB taken" \
	|| bad "rate after SIGHUP: $(st 's["scrub"]["rate"]')"
write_config 1MiB
kill -HUP "$daemon"
wait_for 10 st_true 's["scrub"]["rate"] == 1 << 20' || bad "rate not back to 1MiB"

# SIGTERM in the middle of a pass: the daemon does not wait for it, and the pass resumes.
C scrub --now >/dev/null
wait_for 30 st_true 's["scrub"]["pass"] is not None and s["scrub"]["pass"]["checked"] >= 1' \
	|| die "no pass in progress: $(st 's["scrub"]')"
t0=$(date +%s%N)
code=0
daemon_stop || code=$daemon_code
ms=$((($(date +%s%N) - t0) / 1000000))
[ $code = 0 ] && [ $ms -lt 3000 ] && ok "SIGTERM mid-pass: exit 0 after $ms ms" \
	|| bad "SIGTERM mid-pass: exit $code after $ms ms"
[ "$(jget "$tmp/state/scrub.json" .phase)" = running ] &&
	[ "$(jget "$tmp/state/scrub.json" .pass.checked)" -lt 5 ] && ok "the pass's progress is saved" ||
	bad "scrub.json: $(cat "$tmp/state/scrub.json")"
start_daemon
newest=$(jget "$tmp/scrub2.json" '.entries[].index' | sort -n | tail -1)
wait_for 60 st_true 's["scrub"]["state"] == "idle" and s["scrub"]["last"]["checked"] == 5 and
	s["scrub"]["last"]["entry"] > '"$newest" \
	|| die "the pass did not finish after SIGTERM: $(st 's["scrub"]')"
[ "$(scrub_entries | jget - '.entries|length')" = 3 ] \
	&& ok "three passes, three scrub entries" || bad "scrub entries: $(scrub_entries)"
daemon_stop || bad "the last SIGTERM: exit $daemon_code"
finish
