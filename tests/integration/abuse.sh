#!/bin/bash
# Socket abuse: a real custodyd, users and groups the test makes, and clients
# that misbehave on purpose:
#   flood     500 connections at once from a user with no role: at most max_clients_per_user
#             (32, the default) are taken, each of the rest is told "busy" and closed at once;
#             the ones taken are cut off with "timeout" after idle_timeout (2 s here); then 500
#             at once from ten such users: more than one user's 32 but at most max_clients (256)
#             minus the operators' reserve (a sixteenth) are taken, the rest told "busy";
#   slow      20 clients sending one byte a second: each is cut off with "timeout" after
#             idle_timeout, whatever it trickles, and nobody else waits for them;
#   garbage   a 100 MiB line (too_large at max_request_bytes, connection closed, the daemon
#             reads little more than 1 MiB of it), invalid UTF-8, overlong and surrogate
#             encodings, JSON nested 10,000 deep, a NUL, not JSON: each gets bad_request and the
#             connection still answers the next request; junk keys in a `log` request (a real,
#             1 MiB of padding) do not keep the read out of the log;
#   no role   a user in no role group: forbidden, closed, and recorded as an access entry, also
#             when what it names is 900 KB long (its target is then null);
#   mid-reply clients that ask for a 4 MiB `log` reply and close after a few bytes or none;
#   no read   a client that never reads its replies is closed at SRV_MAX_PENDING_OUT.
# Meanwhile a monitor (root, an operator) runs `custodyctl status` back to back, then the same
# request on a socket of its own, and samples the daemon's /proc/PID/status (VmRSS, RssAnon)
# and /proc/PID/fd.  Asserted:
#   - every status answers, the daemon's answer (connect, request, reply) within 2 s each time:
#     a loop held by the abuse would stall for longer or time out.  How fast it answers is a
#     figure, not a test (a loaded CI machine is slow for reasons that say nothing of the
#     daemon): the medians and the slowest are printed, custodyctl's own start included
#     (custodyctl links libavformat, about 140 shared libraries);
#   - descriptors: at most baseline + max_clients + 16 during the abuse (one per connection
#     the daemon holds; one told "busy" is closed at once; nothing else grows), and back to the
#     baseline (+1: a status connection being closed) once the clients are gone;
#   - RssAnon: at most baseline + 64 MiB during the abuse (256 clients' 64 KiB read buffers are
#     16 MiB, a refused line's buffer 1 MiB + 64 KiB, a non-reader's queue 8 MiB, a 4 MiB `log`
#     reply built three times over 12 MiB: about 37 MiB, plus per-thread malloc arenas), which
#     also shows the 100 MiB line was never buffered; and at most baseline + 16 MiB afterwards
#     (glibc keeps some freed memory in its arenas; a leak of a buffer per client would show);
#   - the daemon never dies, and stops with exit 0 on SIGTERM.
set -eu
: "${CUSTODYD:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}"
. "$(dirname "$0")/../lib.sh"
need_root "needs root, setpriv and python3 (users made by the test)"
need setpriv python3
here=$(cd "$(dirname "$0")" && pwd)
chmod 0755 "$tmp"

# Other tests may be adding users at the same moment: add_user retries.
add_group ct-ab-none ct-ab-review
add_user ct-ab-nobody ct-ab-none
add_user ct-ab-rev ct-ab-none ct-ab-review
add_user ct-ab-slow ct-ab-none ct-ab-review
for i in 0 1 2 3 4 5 6 7 8 9; do add_user ct-ab-f$i ct-ab-none; done

mkdir -p "$tmp/dock"
idle_s=2
daemon_conf <<EOF
[store]
path = $tmp/state/store

[zone dock]
path = $tmp/dock
settle = 1s

[rules]
device_clock = UTC

[socket]
path = $tmp/custody.sock
reviewers = ct-ab-review
idle_timeout = ${idle_s}s
EOF

daemon_start
chmod 0777 "$sock"
alive() { kill -0 "$daemon" 2>/dev/null; }

# The clients, one program with a subcommand per abuse.  Each prints ok:/FAIL: lines.
cp "$here/abuse-clients.py" "$tmp/abuse.py"
chmod 0755 "$tmp/abuse.py"
export SOCK="$sock" IDLE_S=$idle_s
# run USER CMD...: the client as USER (root: as is); its FAIL lines count here.
run() {
	local u=$1 out
	shift
	if [ "$u" = root ]; then
		out=$(python3 "$tmp/abuse.py" "$@" 2>&1) || true
	else
		out=$(as "$u" env SOCK="$SOCK" IDLE_S="$IDLE_S" python3 "$tmp/abuse.py" "$@" 2>&1) || true
	fi
	echo "$out"
	fails=$((fails + $(grep -c '^FAIL' <<<"$out" || true)))
	grep -q '^ok:\|^FAIL' <<<"$out" || bad "'$*' as $u checked nothing: $(tail -3 <<<"$out")"
	alive || { bad "custodyd died during '$*': $(tail -5 "$dlog")"; exit 1; }
}
phase() { echo "$1" >"$tmp/phase"; }

# A log of large entries, so that a `log` reply is several MiB.
run root fill 260

phase baseline
python3 "$tmp/abuse.py" monitor "$daemon" "$CUSTODYCTL" "$tmp/stop" "$tmp/phase" "$tmp/samples" &
monitor=$!
sleep 2

phase flood
# One user: max_clients_per_user, 32 by default.
run ct-ab-nobody flood 500 32 1
# Ten users, 50 connections each: the operators' reserve is max_clients / 16 of the 256 places
# (daemon/server/server.c), so at most 240 are taken in all, and more than one user's 32.
floods=()
for i in 0 1 2 3 4 5 6 7 8 9; do
	as ct-ab-f$i env SOCK="$SOCK" IDLE_S="$IDLE_S" python3 "$tmp/abuse.py" flood 50 32 0 \
		>"$tmp/flood.$i" 2>&1 &
	floods+=($!)
done
wait "${floods[@]}" || true
cat "$tmp"/flood.[0-9]
fails=$((fails + $(cat "$tmp"/flood.[0-9] | grep -c '^FAIL' || true)))
taken=0
for n in $(sed -n 's/^taken=//p' "$tmp"/flood.[0-9]); do taken=$((taken + n)); done
if [ "$taken" -gt 32 ] && [ "$taken" -le 240 ]; then
	ok "flood by ten users: $taken connections taken in all (33..240 wanted)"
else
	bad "flood by ten users: $taken connections taken in all; wanted 33..240"
fi
alive || { bad "custodyd died during the flood by ten users: $(tail -5 "$dlog")"; exit 1; }
phase slow
# In the background, beside the abuses below: the slow clients hold up nobody (a user of their
# own: they hold 20 of max_clients_per_user's 32 for a while).
as ct-ab-slow env SOCK="$SOCK" IDLE_S="$IDLE_S" python3 "$tmp/abuse.py" slow 20 \
	>"$tmp/slow.out" 2>&1 &
slowpid=$!
phase garbage
run ct-ab-rev big-line
run ct-ab-rev garbage
tag=junk-$$-$RANDOM
run ct-ab-rev junk-keys "$tag"
phase no-role
run ct-ab-nobody no-role
phase mid-reply
run ct-ab-rev mid-reply 20
phase no-read
run ct-ab-rev no-read
wait $slowpid || true
cat "$tmp/slow.out"
fails=$((fails + $(grep -c '^FAIL' "$tmp/slow.out" || true)))
grep -q '^ok:\|^FAIL' "$tmp/slow.out" || bad "the slow clients checked nothing"
phase after
at_most_one_client() { [ "$(C status --json | jget - .server.clients)" -le 1 ]; }
wait_for 5 at_most_one_client || true
sleep 2
touch "$tmp/stop"
wait $monitor || true
alive && ok "custodyd is still running" || bad "custodyd died"

python3 "$here/abuse-samples.py" "$tmp/samples" >"$tmp/verdict" || true
cat "$tmp/verdict"
fails=$((fails + $(grep -c '^FAIL' "$tmp/verdict" || true)))

# The refusal of the user with no role is an access entry naming its uid.
nobody_uid=$(id -u ct-ab-nobody)
C log --type access --limit 1000 --json >"$tmp/access.json"
if python3 - "$tmp/access.json" "$nobody_uid" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
uid = int(sys.argv[2])
hits = [e["entry"] for e in d["entries"] if e["entry"].get("uid") == uid]
refused = [e for e in hits if e.get("allowed") is False]
print("  access entries of uid %d: %s"
      % (uid, [(e["op"], e["allowed"], str(e["target"])[:20]) for e in hits]))
sys.exit(0 if len(refused) == 3 else 1)
PY
	ok "the 3 refusals of the user with no role are access entries"
else
	bad "not 3 access entries with allowed:false for uid $nobody_uid:" \
		"$(grep -m3 'cannot append' "$dlog" | cut -c1-200)"
fi
# Junk beside the filters does not keep a read out of the log.
n=$(python3 - "$tmp/access.json" "$tag" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(sum(1 for e in d["entries"] if e["entry"].get("op") == "log" and
          str(e["entry"].get("target", {}).get("device", "")).startswith(sys.argv[2])))
PY
)
[ "$n" = 2 ] && ok "both log requests with junk keys are recorded as access entries" \
	|| bad "$n of the 2 log requests with junk keys are recorded:" \
		"$(grep -m3 'cannot append' "$dlog" | cut -c1-300)"

daemon_stop && ok "SIGTERM after the abuse: exit 0" || bad "SIGTERM: exit $daemon_code"
finish
