#!/bin/bash
# systemd/: the generated custodyd.service passes `systemd-analyze verify`, its sandbox rates
# 2.0 or better with `systemd-analyze security --offline`, and sysusers.d and tmpfiles.d apply
# cleanly to an empty root. As root, the modes they set are then tried for real with
# throw-away uids (setpriv): who may drop, read and delete files in a zone, and who may
# connect to a socket the daemon's uid binds in /run/custody. Nothing outside a temporary
# directory is touched: no users are added to this machine and no unit is installed.
#
# Environment (tests/integration/meson.build): SYSTEMD_UNIT, SYSUSERS_CONF, TMPFILES_CONF,
# and CUSTODYD, the built daemon, when there is one.
set -eu
: "${SYSTEMD_UNIT:?}" "${SYSUSERS_CONF:?}" "${TMPFILES_CONF:?}"
. "$(dirname "$0")/../lib.sh"
need systemd-analyze systemd-sysusers systemd-tmpfiles
server=0
# (server stays 0 unless started: `kill 0` would signal our whole process group)
kill_server() { [ $server = 0 ] || kill $server; }
at_exit kill_server
# check DESCRIPTION CMD...: CMD must succeed.
check() {
	local d=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then ok "$d"; else bad "$d: $(head -c 300 "$tmp/out")"; fi
}
# refuse DESCRIPTION CMD...: CMD must fail.
refuse() {
	local d=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		bad "$d: it was allowed"
	else
		ok "$d ($(head -c 100 "$tmp/out" | tr '\n' ' '))"
	fi
}

# --- The unit as generated: installed paths substituted, nothing left unsubstituted.
exec_start=$(sed -n 's/^ExecStart=//p' "$SYSTEMD_UNIT")
[[ $exec_start == /*/custodyd\ --config\ /*/custody/custody.conf ]] &&
	ok "ExecStart=$exec_start" || bad "ExecStart is '$exec_start'"
grep -n '@[a-z_]*@' "$SYSTEMD_UNIT" && bad "unsubstituted @…@ in the unit" || ok "no @…@ left"

# verify (like systemd itself when loading a unit) requires ExecStart's program to exist and be
# executable. The unit names the installed daemon, which a build tree does not have, so verify
# a copy whose ExecStart runs the built custodyd, or /bin/true until there is one; everything
# else, arguments included, is the generated unit byte for byte.
exec_bin=/bin/true
[ -n "${CUSTODYD:-}" ] && [ -x "$CUSTODYD" ] && exec_bin=$CUSTODYD
unit=$tmp/custodyd.service
sed "s|^ExecStart=[^ ]*|ExecStart=$exec_bin|" "$SYSTEMD_UNIT" >"$unit"
[ "$(diff "$SYSTEMD_UNIT" "$unit" | grep -c '^[<>]')" = 2 ] &&
	ok "the copy differs only in ExecStart ($exec_bin)" ||
	bad "the copy differs in more than ExecStart"
# --man=no: the unit has no Documentation= to look up. Warnings about the unit fail the test;
# warnings about other units on this machine are not ours and are only shown.
set +e
systemd-analyze verify --man=no "$unit" >"$tmp/verify" 2>&1
rc=$?
set -e
if [ $rc -ne 0 ] || grep -q 'custodyd\.service' "$tmp/verify"; then
	bad "systemd-analyze verify (exit $rc): $(cat "$tmp/verify")"
else
	ok "systemd-analyze verify$( [ -s "$tmp/verify" ] &&
		echo ", other units: $(head -c 200 "$tmp/verify")")"
fi

# --- Exposure. --threshold counts tenths: 20 is 2.0. Print the score and what still counts.
set +e
systemd-analyze security --offline=true --threshold=20 --no-pager "$unit" >"$tmp/security" 2>&1
rc=$?
set -e
score=$(sed -n 's/.*Overall exposure level for custodyd\.service: \([0-9.]*\).*/\1/p' \
	"$tmp/security")
grep '^✗' "$tmp/security" | sed 's/  */ /g; s/^/    /' || true
if [ -z "$score" ]; then
	bad "no exposure score: $(cat "$tmp/security")"
elif [ $rc -ne 0 ] || ! awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
	bad "exposure $score, above 2.0 (exit $rc)"
else
	ok "exposure level $score (at most 2.0)"
fi

# --- sysusers.d into an empty root.
root=$tmp/root
mkdir -p "$root/etc"
chmod 0755 "$tmp" "$root"   # the throw-away uids below must reach the zones
check "systemd-sysusers applies sysusers.d/custody.conf" \
	systemd-sysusers --root="$root" "$(realpath "$SYSUSERS_CONF")"
id_of() { awk -F: -v n="$2" '$1 == n { print $3 }' "$root/etc/$1"; }
[ "$(awk -F: '$1 == "custody" { print $6 ":" $7 }' "$root/etc/passwd")" = \
	/var/lib/custody:/usr/sbin/nologin ] &&
	ok "user custody: home /var/lib/custody, no login" ||
	bad "user custody: $(grep ^custody: "$root/etc/passwd")"
u_custody=$(id_of passwd custody)
[ -n "$u_custody" ] && [ "$u_custody" -lt 1000 ] && ok "custody is a system user ($u_custody)" ||
	bad "custody uid '$u_custody'"
for g in custody custody-clients custody-ops custody-review custody-audit custody-approve \
	custody-upload; do
	[ -n "$(id_of group $g)" ] && ok "group $g" || bad "no group $g"
done
[ "$(id_of group custody)" = "$u_custody" ] && ok "group custody has the user's id" ||
	bad "group custody's id differs"
[ -z "$(awk -F: '$1 == "custody" { print $4 }' "$root/etc/group")" ] &&
	ok "group custody has no members" ||
	bad "group custody has members"

# --- tmpfiles.d into the same root. systemd 252 resolves names with this machine's user
# database even with --root, and custody is not a user here, so a copy names them by number:
# the temporary root's ids when we are root, else our own (then owners are not checked).
if [ "$(id -u)" = 0 ]; then
	map() { if [ "$1" = root ]; then echo 0; else id_of "$2" "$1"; fi; }
else
	map() { if [ "$2" = passwd ]; then id -u; else id -g; fi; }
fi
tmpfiles=$tmp/tmpfiles.conf
sp='([[:space:]]+)' field='([^[:space:]]+)'
while IFS= read -r line; do
	# type, path, mode, user, group and the rest, with the blanks between them
	if [[ $line =~ ^([a-zA-Z+!-]+)$sp$field$sp$field$sp$field$sp$field(.*)$ ]]; then
		m=("${BASH_REMATCH[@]}")
		user=${m[7]} group=${m[9]} rest=${m[10]}
		[ "$user" != - ] && user=$(map "$user" passwd)
		[ "$group" != - ] && group=$(map "$group" group)
		[ -z "$user" ] || [ -z "$group" ] && bad "tmpfiles.d names an unknown user or group: $line"
		# user:NAME: entries of an ACL argument
		while [[ $rest =~ (user|group):([a-z][a-z0-9-]*): ]]; do
			rest=${rest/"${BASH_REMATCH[0]}"/${BASH_REMATCH[1]}:$(map "${BASH_REMATCH[2]}" \
				"$([ "${BASH_REMATCH[1]}" = user ] && echo passwd || echo group)"):}
		done
		line="${m[1]}${m[2]}${m[3]}${m[4]}${m[5]}${m[6]}$user${m[8]}$group$rest"
	fi
	printf '%s\n' "$line"
done <"$TMPFILES_CONF" >"$tmpfiles"
# A signer key made by root, as `custody-log keygen` leaves it, to be handed to the daemon.
confdir=$(sed -n 's/^z *\(.*\)\/log\.key .*/\1/p' "$TMPFILES_CONF")
mkdir -p "$root$confdir"
(umask 077 && echo key >"$root$confdir/log.key")
set +e
systemd-tmpfiles --root="$root" --create "$tmpfiles" >"$tmp/tmpfiles.out" 2>&1
rc=$?
set -e
[ $rc -eq 0 ] && [ ! -s "$tmp/tmpfiles.out" ] &&
	ok "systemd-tmpfiles applies tmpfiles.d/custody.conf" ||
	bad "systemd-tmpfiles (exit $rc): $(cat "$tmp/tmpfiles.out")"

# expect_dir PATH MODE USER GROUP: PATH's mode as `stat -c %a`, and its owners by name.
# Owners only as root: otherwise everything was made ours.
expect_dir() {
	local want=$2 got names=
	if [ "$(id -u)" = 0 ]; then
		want="$2 $(map "$3" passwd):$(map "$4" group)" names=" ($3:$4)"
		got=$(stat -c '%a %u:%g' "$root$1")
	else
		got=$(stat -c %a "$root$1")
	fi
	[ "$got" = "$want" ] && ok "$1 $got$names" || bad "$1 is $got, wanted $want$names"
}
expect_dir "$confdir" 755 root root
expect_dir "$confdir/log.key" 600 custody custody
expect_dir /var/lib/custody 750 custody custody
expect_dir /var/lib/custody/store 750 custody custody
expect_dir /run/custody 2750 custody custody-clients
expect_dir /srv/custody 755 root root
expect_dir /srv/custody/dock 3770 custody custody-upload
expect_dir /srv/custody/upload 3770 custody custody-upload

# --- The design, tried for real. Needs root (setpriv to other uids) and perl (perl-base, in
# every Debian) for the socket.
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! command -v perl >/dev/null; then
	echo "SKIP: the access checks need root, setpriv and perl"
else
	g_upload=$(id_of group custody-upload) g_clients=$(id_of group custody-clients)
	g_review=$(id_of group custody-review)
	# Throw-away uids, not in any passwd: nothing on this machine is changed.
	as_ids() { local u=$1 g=$2; shift 2; setpriv --reuid="$u" --regid="$g" --clear-groups -- "$@"; }
	as_daemon() { as_ids "$u_custody" "$u_custody" "$@"; }
	officer_a() { as_ids 61001 "$g_upload" "$@"; }
	officer_b() { as_ids 61002 "$g_upload" "$@"; }
	outsider() { as_ids 61003 61003 "$@"; }
	dock=$root/srv/custody/dock

	# A docking station copies a camera's folder tree, with a strict umask.
	check "an uploader drops a folder tree into the dock zone" \
		officer_a sh -c "umask 077 && mkdir -p '$dock/cam1/DCIM' && echo clip >'$dock/cam1/DCIM/a.mp4'"
	check "and a file at the top" officer_a sh -c "echo clip >'$dock/a2.mp4'"
	refuse "another uploader cannot read them" officer_b cat "$dock/cam1/DCIM/a.mp4" "$dock/a2.mp4"
	refuse "nor delete or rename them (sticky zone)" officer_b sh -c \
		"rm -f '$dock/a2.mp4' || mv '$dock/a2.mp4' '$dock/z.mp4' || rm -rf '$dock/cam1'"
	check "an uploader drops a file of its own" officer_b sh -c "echo clip >'$dock/b.mp4'"
	refuse "someone outside custody-upload cannot drop" outsider sh -c "echo x >'$dock/x.mp4'"
	refuse "nor list the zone" outsider ls "$dock"
	check "the daemon reads the nested file" as_daemon cat "$dock/cam1/DCIM/a.mp4"
	check "the daemon removes it and its folders once stored" \
		as_daemon sh -c "rm '$dock/cam1/DCIM/a.mp4' && rmdir '$dock/cam1/DCIM' '$dock/cam1'"
	check "the daemon removes top-level files of any uploader" \
		as_daemon rm "$dock/a2.mp4" "$dock/b.mp4"
	refuse "the daemon cannot write the configuration directory" as_daemon touch "$root$confdir/x"
	check "the daemon reads its key" as_daemon cat "$root$confdir/log.key"

	# The socket: the daemon's uid binds it with UMask=0027 and chmods it 0660, as custodyd does.
	sock=$root/run/custody/custody.sock
	as_daemon perl -MIO::Socket::UNIX -e 'umask 027;
		my $s = IO::Socket::UNIX->new(Local => $ARGV[0], Listen => 5) or die "bind: $!\n";
		chmod 0660, $ARGV[0] or die "chmod: $!\n"; print "bound\n"; $| = 1; sleep 60' "$sock" \
		>"$tmp/server" 2>&1 &
	server=$!
	for _ in $(seq 50); do grep -q bound "$tmp/server" && break; sleep 0.1; done
	[ "$(stat -c '%a %g' "$sock" 2>/dev/null)" = "660 $g_clients" ] &&
		ok "the socket is 0660 with group custody-clients, without chown" ||
		bad "socket: $(stat -c '%a %U:%G' "$sock" 2>&1) $(cat "$tmp/server")"
	connect='IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect: $!\n"'
	check "a member of custody-clients connects" \
		setpriv --reuid=61004 --regid=61004 --groups="$g_clients,$g_review" -- \
		perl -MIO::Socket::UNIX -e "$connect" "$sock"
	refuse "a role group alone does not connect" \
		setpriv --reuid=61005 --regid=61005 --groups="$g_review" -- \
		perl -MIO::Socket::UNIX -e "$connect" "$sock"
	refuse "an outsider does not connect" outsider perl -MIO::Socket::UNIX -e "$connect" "$sock"
fi

finish
