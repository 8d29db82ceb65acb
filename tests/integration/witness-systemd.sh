#!/bin/bash
# systemd/ for custody-witness (docs/witness.md): the generated unit passes
# `systemd-analyze verify`, its sandbox rates 2.0 or better with `systemd-analyze security
# --offline` (the witness has the network, custodyd does not), and its sysusers.d and tmpfiles.d
# entries apply to an empty root: a system user without login, its state folder 0700 its own.
# Nothing outside a temporary directory is touched.
#
# Environment (tests/integration/meson.build): WITNESS_UNIT, WITNESS_SYSUSERS, WITNESS_TMPFILES,
# CUSTODY_WITNESS (the built program).
set -eu
: "${WITNESS_UNIT:?}" "${WITNESS_SYSUSERS:?}" "${WITNESS_TMPFILES:?}" "${CUSTODY_WITNESS:?}"
. "$(dirname "$0")/../lib.sh"
need systemd-analyze systemd-sysusers systemd-tmpfiles

exec_start=$(sed -n 's/^ExecStart=//p' "$WITNESS_UNIT")
[[ $exec_start == /*/custody-witness\ --config\ /*/custody-witness/custody-witness.conf ]] &&
	ok "ExecStart=$exec_start" || bad "ExecStart is '$exec_start'"
grep -n '@[a-z_]*@' "$WITNESS_UNIT" && bad "unsubstituted @…@ in the unit" || ok "no @…@ left"

# verify needs the programs to exist: a copy runs the built one, the rest byte for byte.
unit=$tmp/custody-witness.service
sed "s|^\(ExecStart[A-Za-z]*\)=[^ ]*|\1=$CUSTODY_WITNESS|" "$WITNESS_UNIT" >"$unit"
[ "$(diff "$WITNESS_UNIT" "$unit" | grep -c '^[<>]')" = 4 ] &&
	ok "the copy differs only in ExecStartPre and ExecStart" ||
	bad "the copy differs in more than ExecStartPre and ExecStart"
set +e
systemd-analyze verify --man=no "$unit" >"$tmp/verify" 2>&1
rc=$?
systemd-analyze security --offline=true --threshold=20 --no-pager "$unit" >"$tmp/security" 2>&1
src=$?
set -e
if [ $rc -ne 0 ] || grep -q 'custody-witness\.service' "$tmp/verify"; then
	bad "systemd-analyze verify (exit $rc): $(cat "$tmp/verify")"
else
	ok "systemd-analyze verify"
fi
score=$(sed -n 's/.*Overall exposure level for custody-witness\.service: \([0-9.]*\).*/\1/p' \
	"$tmp/security")
grep '^✗' "$tmp/security" | sed 's/  */ /g; s/^/    /' || true
if [ -z "$score" ] || [ $src -ne 0 ] || ! awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
	bad "exposure '$score', above 2.0 or none (exit $src)"
else
	ok "exposure level $score (at most 2.0)"
fi

root=$tmp/root
mkdir -p "$root/etc"
systemd-sysusers --root="$root" "$(realpath "$WITNESS_SYSUSERS")" >"$tmp/out" 2>&1 ||
	bad "systemd-sysusers: $(cat "$tmp/out")"
line=$(grep '^custody-witness:' "$root/etc/passwd" || true)
uid=$(echo "$line" | cut -d: -f3)
[ "$(echo "$line" | cut -d: -f6,7)" = /var/lib/custody-witness:/usr/sbin/nologin ] &&
	[ -n "$uid" ] && [ "$uid" -lt 1000 ] &&
	ok "user custody-witness: system uid $uid, home /var/lib/custody-witness, no login" ||
	bad "user custody-witness: '$line'"
# systemd 252 resolves names with this machine's user database even with --root: a copy names
# the owner by our own uid, so that the modes can be checked without adding a user here.
sed "s/custody-witness custody-witness/$(id -u) $(id -g)/" "$WITNESS_TMPFILES" >"$tmp/tmpfiles.conf"
systemd-tmpfiles --root="$root" --create "$tmp/tmpfiles.conf" >"$tmp/out" 2>&1 ||
	bad "systemd-tmpfiles: $(cat "$tmp/out")"
[ "$(stat -c %a "$root/var/lib/custody-witness")" = 700 ] &&
	ok "/var/lib/custody-witness is 0700" || bad "/var/lib/custody-witness: $(stat -c %a "$root/var/lib/custody-witness" 2>&1)"
finish
