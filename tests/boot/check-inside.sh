#!/bin/bash
# Runs inside the container tests/boot/nspawn.sh boots, as custody-boot-check.service (after
# multi-user.target), with systemd as PID 1 and custodyd started by it as the packaged unit.
# Every check appends "ok: ..." or "FAIL: ..." to $out/checks; the last line is "done"; the
# host reads the folder once the container has powered off (the unit's SuccessAction and
# FailureAction). Clips made on the host wait in /root/clips.
set -u
out=/var/lib/custody-boot
mkdir -p "$out"
: >"$out/checks"
ok() { echo "ok: $*" | tee -a "$out/checks"; }
bad() { echo "FAIL: $*" | tee -a "$out/checks"; }
note() { echo "note: $*" | tee -a "$out/checks"; }
export SYSTEMD_PAGER= SYSTEMD_COLORS=0 LC_ALL=C.UTF-8
conf=$(systemctl show -p ExecStart --value custodyd | sed -n 's/.*--config \([^ ;]*\).*/\1/p')
[ -n "$conf" ] || conf=/etc/custody/custody.conf
confdir=$(dirname "$conf")
sock=/run/custody/custody.sock
prop() { systemctl show -p "$1" --value custodyd; }
# A timestamp property in seconds since the epoch (systemctl prints "@SECONDS").
prop_s() { systemctl show --timestamp=unix -p "$1" --value custodyd | tr -d @; }
ctl() { custodyctl --config "$conf" "$@"; }
# as USER CMD...: CMD as USER with USER's groups from /etc/group (setpriv, util-linux).
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "$@"; }
# wait_for SECONDS CMD...: poll CMD every 0.2 s.
wait_for() {
	local n=$(($1 * 5)); shift
	while [ $n -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; n=$((n - 1)); done
	return 1
}
journal_custodyd() { journalctl -b -q -o cat -u custodyd.service; }

# --- The boot reached this point with custodyd started by systemd (Type=notify: active means
# READY=1 was received).
state=$(systemctl is-active custodyd)
if [ "$state" = active ]; then
	ok "custodyd.service is active after boot (enabled, started by systemd PID 1)"
else
	bad "custodyd.service is $state after boot: $(systemctl status --no-pager -l custodyd 2>&1 | tail -15)"
fi
boot_pid=$(prop MainPID)
active_us=$(prop ActiveEnterTimestampMonotonic)
note "systemd: $(systemctl --version | head -1); running: $(systemctl is-system-running)"
failed=$(systemctl list-units --failed --plain --no-legend | awk '{print $1}' | tr '\n' ' ')
[ -z "$failed" ] && ok "no failed units" || bad "failed units: $failed"

# --- sysusers.d: the user and the groups, as documented.
pw=$(getent passwd custody)
IFS=: read -r _ _ uid gid _ home shell <<<"$pw"
[ -n "$pw" ] && [ "$uid" -lt 1000 ] && [ "$home" = /var/lib/custody ] && [ "$shell" = /usr/sbin/nologin ] &&
	ok "user custody: system uid $uid, home $home, shell $shell" || bad "user custody: '$pw'"
[ "$(getent group custody | cut -d: -f3,4)" = "$gid:" ] && [ "$gid" = "$uid" ] &&
	ok "group custody ($gid), no members" || bad "group custody: '$(getent group custody)'"
for g in custody-clients custody-ops custody-review custody-audit custody-approve custody-upload; do
	getent group "$g" >/dev/null && ok "group $g ($(getent group "$g" | cut -d: -f3))" || bad "no group $g"
done

# --- tmpfiles.d: folders, owners and modes (/run/custody was made by this boot's
# systemd-tmpfiles-setup.service: /run is a fresh tmpfs).
expect() { # PATH MODE OWNER:GROUP
	local got
	got=$(stat -c '%a %U:%G' "$1" 2>&1)
	[ "$got" = "$2 $3" ] && ok "$1 $got" || bad "$1 is '$got', wanted $2 $3"
}
expect "$confdir" 755 root:root
expect "$confdir/log.key" 600 custody:custody
expect /var/lib/custody 750 custody:custody
expect /var/lib/custody/store 750 custody:custody
expect /run/custody 2750 custody:custody-clients
expect /srv/custody 755 root:root
expect /srv/custody/dock 3770 custody:custody-upload
expect /srv/custody/upload 3770 custody:custody-upload
for z in dock upload; do
	acl=$(getfacl -cp "/srv/custody/$z" 2>&1 | grep '^default:' | tr '\n' ' ')
	want="default:user::rwx default:user:custody:rwx default:group::--- default:mask::rwx default:other::--- "
	[ "$acl" = "$want" ] && ok "/srv/custody/$z default ACL: $acl" || bad "/srv/custody/$z default ACL '$acl', wanted '$want'"
done

# --- The unit as systemd loaded it: notify, watchdog, the status line, the socket.
[ "$(prop Type)" = notify ] && [ "$(prop NotifyAccess)" = main ] && ok "Type=notify, NotifyAccess=main" ||
	bad "Type=$(prop Type) NotifyAccess=$(prop NotifyAccess)"
[ "$(prop WatchdogUSec)" = 30s ] && ok "WatchdogUSec=30s" || bad "WatchdogUSec=$(prop WatchdogUSec)"
status_text=$(prop StatusText)
[ -n "$status_text" ] && ok "STATUS= reached systemd: StatusText='$status_text'" || bad "no StatusText"
systemctl status --no-pager custodyd >"$out/systemctl-status.txt" 2>&1
grep -q "Status: \"$status_text\"" "$out/systemctl-status.txt" && ok "systemctl status shows Status: \"$status_text\"" ||
	bad "systemctl status has no Status: line: $(head -12 "$out/systemctl-status.txt")"
[ "$(stat -c '%F %a %U:%G' "$sock" 2>&1)" = "socket 660 custody:custody-clients" ] &&
	ok "$sock: socket 660 custody:custody-clients" || bad "$sock: $(stat -c '%F %a %U:%G' "$sock" 2>&1)"
# How long the boot's start took until READY=1. Only a note: the daemon logs "ready:" just
# before READY=1, but when journald receives that line is not ordered with PID 1's state
# change; the checks of readiness follow below.
ready_us=$(journalctl -b -u custodyd -o json | jq -r 'select(.MESSAGE | test("ready: ")) | .__MONOTONIC_TIMESTAMP' | head -1)
start_us=$(prop ExecMainStartTimestampMonotonic)
if [ -n "$ready_us" ] && [ "$start_us" -lt "$active_us" ]; then
	note "start to active: $(( (active_us - start_us) / 1000 )) ms; journal received 'ready:' $(( (ready_us - start_us) / 1000 )) ms after start"
fi

# --- Users for the rest: a docking station's account, a reviewer, someone with no business here.
useradd -r -M -s /usr/sbin/nologin -G custody-upload dockstation
useradd -r -M -s /usr/sbin/nologin -G custody-clients,custody-review reviewer
useradd -r -M -s /usr/sbin/nologin outsider

# A client connects as soon as `systemctl start` returns (it waits for READY=1): the socket is
# bound and already 0660 by then. The socket is removed first, so a stale one cannot pass.
systemctl stop custodyd
rm -f "$sock"
systemctl start custodyd
rc=$?
if [ $rc = 0 ] && as reviewer custodyctl --config "$conf" status >"$out/status-at-ready.txt" 2>&1; then
	ok "a reviewer's custodyctl status works right after systemctl start returns (no retry)"
else
	bad "right after systemctl start (exit $rc): $(cat "$out/status-at-ready.txt")"
fi
# The same with --no-block, sampling: never active without the socket.
systemctl stop custodyd
rm -f "$sock"
systemctl start --no-block custodyd
samples=0 early=0 seen_activating=0
for _ in $(seq 300); do
	s=$(systemctl is-active custodyd)
	samples=$((samples + 1))
	[ "$s" = activating ] && seen_activating=$((seen_activating + 1))
	if [ "$s" = active ]; then
		[ -S "$sock" ] || early=1
		break
	fi
	sleep 0.02
done
[ "$s" = active ] && [ $early = 0 ] &&
	ok "Type=notify: active only once the socket exists ($samples samples, $seen_activating while activating)" ||
	bad "readiness: state $s, socket missing when active: $early"
main_pid=$(prop MainPID)
active_s=$(prop_s ActiveEnterTimestamp)

as outsider custodyctl --config "$conf" status >"$out/outsider.txt" 2>&1 &&
	bad "a user outside custody-clients reached the socket" ||
	ok "a user outside custody-clients cannot connect ($(head -1 "$out/outsider.txt"))"

# --- Ingest through the sandbox: the docking station copies a camera's folder tree with a
# strict umask, an officer uploads one file.
clips=(/root/clips/*)
dockclip=$(basename "${clips[0]}") topclip=$(basename "${clips[1]}") upclip=$(basename "${clips[2]}")
as dockstation sh -c "umask 077 && mkdir -p /srv/custody/dock/CAM01/DCIM" &&
	as dockstation sh -c "umask 077 && cat >'/srv/custody/dock/CAM01/DCIM/$dockclip'" <"${clips[0]}" &&
	as dockstation sh -c "umask 077 && cat >'/srv/custody/dock/$topclip'" <"${clips[1]}" &&
	as dockstation sh -c "umask 077 && cat >'/srv/custody/upload/$upclip'" <"${clips[2]}" &&
	ok "the docking station's account dropped 3 clips (one in a folder tree, one in upload)" ||
	bad "dropping the clips failed"
t0=$(date +%s.%N)
size() { ctl --json status | jq -r .size; }
zones_empty() { [ -z "$(find /srv/custody/dock /srv/custody/upload -type f)" ]; }
ingested() { [ "$(size)" -ge 3 ] && zones_empty; }
if wait_for 90 ingested; then
	ok "3 clips ingested and removed from the zones in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s (settle 5s)"
else
	bad "not ingested after 90 s: size $(size), left: $(find /srv/custody -type f | tr '\n' ' ')"
fi
ctl --json log >"$out/log.json"
ctl status >"$out/status.txt" 2>&1
types=$(jq -r '[.entries[] | (.entry // .) | .type] | sort | join(",")' "$out/log.json")
[ "$types" = ingest,ingest,ingest ] && ok "entries: $types (not damaged: the probe ran inside the sandbox)" ||
	bad "entries: '$types': $(jq -c '[.entries[] | (.entry // .) | {type, name, reason}]' "$out/log.json")"
for c in "${clips[@]}"; do
	h=$(sha256sum "$c" | cut -d' ' -f1)
	obj=$(find /var/lib/custody/store/objects -name "$h*" -type f | head -1)
	if [ -n "$obj" ] && cmp -s "$obj" "$c" && [ "$(stat -c '%a %U:%G' "$obj")" = "440 custody:custody" ]; then
		ok "$(basename "$c"): in the store byte for byte, 440 custody:custody"
	else
		bad "$(basename "$c"): store object '$obj' $(stat -c '%a %U:%G' "$obj" 2>&1)"
	fi
done
jq -e '[.entries[] | (.entry // .) | select(.zone == "dock" and .device == "CAM01")] | length == 2' "$out/log.json" >/dev/null &&
	ok "the dock zone's name pattern gave device CAM01 to both dock clips" ||
	bad "dock entries: $(jq -c '[.entries[] | (.entry // .) | {zone, name, device, officer}]' "$out/log.json")"
sleep 11 # checkpoint_interval (10 s): a checkpoint covers the entries
# The client fingerprints the file itself, so the reviewer gets a copy it can read.
install -m 644 "${clips[1]}" /var/tmp/verify.mp4
as reviewer custodyctl --config "$conf" verify /var/tmp/verify.mp4 >"$out/verify.txt" 2>&1
grep -q '^exact' "$out/verify.txt" && grep -q verified "$out/verify.txt" &&
	ok "a reviewer's custodyctl verify: exact, proof verified against $confdir/log.pub" ||
	bad "verify: $(head -5 "$out/verify.txt")"

# --- SIGHUP through systemctl reload: same process, still active, reloaded.
note "ExecReload as systemd parsed it: $(prop ExecReload | sed 's/ ; ignore_errors.*//')"
before=$(journal_custodyd | grep -c "reloaded '")
if systemctl reload custodyd; then ok "systemctl reload: exit 0"; else bad "systemctl reload failed"; fi
wait_for 10 sh -c "[ \$(journalctl -b -q -o cat -u custodyd | grep -c \"reloaded '\") -gt $before ]" &&
	ok "the daemon logged: $(journal_custodyd | grep "reloaded '" | tail -1)" || bad "no 'reloaded' line after reload"
wait_for 10 sh -c '[ "$(systemctl is-active custodyd)" = active ]'
[ "$(prop MainPID)" = "$main_pid" ] && [ "$(systemctl is-active custodyd)" = active ] &&
	ok "after reload: active, same MainPID $main_pid, StatusText='$(prop StatusText)'" ||
	bad "after reload: $(systemctl is-active custodyd), MainPID $(prop MainPID) (was $main_pid)"

# --- The watchdog (WatchdogSec=30s) must not fire in normal operation: stay until the
# service has run for 40 s, then it must be the same process, never restarted, pinged lately.
while [ $(( $(date +%s) - active_s )) -lt 40 ]; do sleep 1; done
wd_s=$(prop_s WatchdogTimestamp)
age=$(( $(date +%s) - ${wd_s:-0} ))
if [ "$(prop MainPID)" = "$main_pid" ] && [ "$(prop NRestarts)" = 0 ] && [ -n "$wd_s" ] && [ $age -le 16 ] &&
	! journalctl -b -q -u custodyd | grep -qi watchdog; then
	ok "watchdog: $(( $(date +%s) - active_s )) s active, NRestarts=0, last WATCHDOG=1 ${age} s ago, no timeout"
else
	bad "watchdog: MainPID $(prop MainPID) (was $main_pid), NRestarts=$(prop NRestarts), last ping '$wd_s' ${age} s ago, $(journalctl -b -q -u custodyd | grep -i watchdog)"
fi

# --- systemd-analyze security, online (the unit as PID 1 loaded it).
systemd-analyze security --no-pager custodyd.service >"$out/security.txt" 2>&1
score=$(sed -n 's/.*Overall exposure level for custodyd\.service: \([0-9.]*\).*/\1/p' "$out/security.txt")
[ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' &&
	ok "systemd-analyze security custodyd (online): $score" || bad "security: $(tail -3 "$out/security.txt")"

# --- Restart=on-failure: a crash (SIGKILL) brings it back after RestartSec=5s, and it recovers.
kill -KILL "$main_pid"
if wait_for 30 sh -c "[ \"\$(systemctl show -p NRestarts --value custodyd)\" = 1 ] && [ \"\$(systemctl is-active custodyd)\" = active ]"; then
	main_pid=$(prop MainPID)
	ctl status >/dev/null 2>&1 && ok "after SIGKILL: restarted by systemd (NRestarts=1, MainPID $main_pid), answering" ||
		bad "restarted but not answering"
else
	bad "not restarted after SIGKILL: $(systemctl is-active custodyd), NRestarts=$(prop NRestarts)"
fi

# --- systemctl stop: SIGTERM, exit 0, every entry under a signed checkpoint. Two reads of an
# entry (access entries) just before, so that the newest entries wait for the shutdown
# checkpoint unless checkpoint_interval happens to fall in between.
ctl entry 0 >/dev/null 2>&1
ctl entry 0 >/dev/null 2>&1
ctl --json status >"$out/status-before-stop.json" 2>&1
tree=$(jq -r .size "$out/status-before-stop.json")
cp_before=$(jq -r '.checkpoint.size // 0' "$out/status-before-stop.json")
systemctl stop custodyd
result=$(prop Result) code=$(prop ExecMainCode) status=$(prop ExecMainStatus)
[ "$result" = success ] && [ "$code" = 1 ] && [ "$status" = 0 ] &&
	ok "systemctl stop: Result=success, exited with status 0" ||
	bad "systemctl stop: Result=$result ExecMainCode=$code ExecMainStatus=$status"
journal_custodyd | tail -3 | grep -q stopped && ok "the daemon logged 'stopped'" || bad "no 'stopped': $(journal_custodyd | tail -3)"
cp_after=$(sed -n 2p /var/lib/custody/checkpoint)
custody-verify checkpoint /var/lib/custody/checkpoint --key "$confdir/log.pub" >"$out/cp-verify.txt" 2>&1 &&
	[ "$cp_after" = "$tree" ] &&
	ok "the published checkpoint verifies and covers all $tree entries (before stop the newest covered $cp_before)" ||
	bad "checkpoint after stop: size '$cp_after', tree $tree: $(cat "$out/cp-verify.txt")"

# --- What the daemon logged, and anything at warning or worse.
journalctl -b --no-pager -o short-monotonic -u custodyd >"$out/journal-custodyd.txt"
journalctl -b --no-pager -o short-monotonic >"$out/journal.txt"
journalctl -b -q --no-pager -p warning -u custodyd -o cat >"$out/warnings.txt"
while IFS= read -r l; do note "custodyd warning: $l"; done <"$out/warnings.txt"
echo done >>"$out/checks"
