#!/bin/bash
# The packaged service under a real systemd: boots a minimal Debian 12 in systemd-nspawn with
# systemd as PID 1, installs this build into it (`meson install --destdir`), follows the
# README's "Installing as a service" steps inside, and lets check-inside.sh (a oneshot unit
# after multi-user.target) check custodyd as systemd runs it: readiness, STATUS=, the socket,
# ingest through the sandbox, reload, the watchdog, a crash and restart, stop, sysusers.d and
# tmpfiles.d, and `systemd-analyze security`. The container powers off when the checks end;
# this script then reads their results from its file system.
#
# Needs root, debootstrap, systemd-nspawn (systemd-container), zstd, ffmpeg and the Debian mirror
# (only when the root file system is not cached yet); otherwise exit 77 (skipped).
#
# Environment (tests/boot/meson.build): BUILD_ROOT (a build configured with --prefix /usr, so
# the unit's paths are the installed ones), SOURCE_ROOT. Optional: CUSTODY_BOOT_CACHE (where the
# root file system tarball is kept; /var/cache/custody-boot), CUSTODY_BOOT_TMP (where the
# container's root is unpacked; /var/tmp), CUSTODY_BOOT_MIRROR (http://deb.debian.org/debian),
# CUSTODY_BOOT_KEEP=1 (leave the unpacked root for inspection). Results, the journal and the
# security report are copied to $BUILD_ROOT/tests/boot/boot-out/.
set -eu
: "${BUILD_ROOT:?}" "${SOURCE_ROOT:?}"
here=$(cd "$(dirname "$0")" && pwd)
cache=${CUSTODY_BOOT_CACHE:-/var/cache/custody-boot}
mirror=${CUSTODY_BOOT_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
outdir=$BUILD_ROOT/tests/boot/boot-out
t_start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t_start )) s"; }
say() { echo "boot: $* ($(elapsed))"; }

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for p in debootstrap systemd-nspawn zstd ffmpeg meson readelf; do
	command -v $p >/dev/null || { echo "SKIP: no $p (apt-get install debootstrap systemd-container zstd ffmpeg)"; exit 77; }
done
prefix=$(meson introspect --buildoptions "$BUILD_ROOT" | python3 -c \
	'import json, sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}["prefix"])')
if [ "$prefix" != /usr ]; then
	echo "SKIP: $BUILD_ROOT has prefix $prefix; the boot test installs into /usr (meson setup --prefix /usr)"
	exit 77
fi

# --- The root file system: Debian 12 minbase, systemd, and the libraries the installed programs
# need (their DT_NEEDED, found on this machine with dpkg -S), cached as a tarball whose name
# carries a hash of the package list.
bins=(daemon/custodyd daemon/custody-probe ctl/custodyctl verify/custody-log/custody-log verify/custody-verify/custody-verify)
paths=
for b in "${bins[@]}"; do
	[ -x "$BUILD_ROOT/$b" ] || { echo "FAIL: $BUILD_ROOT/$b not built" >&2; exit 1; }
	for so in $(readelf -d "$BUILD_ROOT/$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		path=$(ldd "$BUILD_ROOT/$b" | awk -v l="$so" '$1 == l { print $3 }')
		[ -z "$path" ] || paths="$paths $(readlink -f "$path")"
	done
done
paths=$(echo $paths | tr ' ' '\n' | sort -u)
# One dpkg -S for all (each call reads every package's file list). usrmerge: dpkg may know a
# library under /lib or under /usr/lib, so look for its name and keep the matching directory.
pairs=$(dpkg -S $(for p in $paths; do echo "*/$(basename "$p")"; done) 2>/dev/null | grep -v ':i386' |
	while IFS= read -r line; do
		f=${line#*: }
		for p in $paths; do
			[ "${p#/usr}" = "${f#/usr}" ] && echo "${line%%:*} $p"
		done
	done)
for p in $paths; do
	grep -q " $p\$" <<<"$pairs" || { echo "FAIL: no Debian package holds $p" >&2; exit 1; }
done
libs=$(cut -d' ' -f1 <<<"$pairs" | sort -u)
packages=$(echo systemd systemd-sysv dbus acl jq $libs | tr ' ' '\n' | grep -v '^libc6$' | sort -u | tr '\n' ',' | sed 's/,$//')
key=$(echo "v1 $suite $mirror $packages" | sha256sum | cut -c1-12)
tarball=$cache/debian-$suite-$key.tar.zst
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$tarball" ]; then
	say "building the root file system (debootstrap $suite: $packages)"
	build=$(mktemp -d "$cache/build.XXXXXX")
	if ! debootstrap --variant=minbase --include="$packages" "$suite" "$build/root" "$mirror" \
		>"$build/debootstrap.log" 2>&1; then
		tail -20 "$build/debootstrap.log" >&2
		rm -rf "$build"
		echo "FAIL: debootstrap (is $mirror reachable?)" >&2
		exit 1
	fi
	# Never booted: no machine-id, so every boot is a first boot with a fresh one.
	: >"$build/root/etc/machine-id"
	rm -rf "$build/root/var/cache/apt/archives/"*.deb
	tar --numeric-owner --xattrs --acls -C "$build/root" -c . | zstd -q -T0 -3 -o "$build/root.tar.zst"
	mv "$build/root.tar.zst" "$tarball"
	rm -rf "$build"
	say "cached $tarball ($(du -h "$tarball" | cut -f1))"
fi
exec 9>&-

# --- Unpack, install this build, set it up as the README says.
work=$(mktemp -d "${CUSTODY_BOOT_TMP:-/var/tmp}/custody-boot.XXXXXX")
root=$work/root
machine=custody-boot-$$
nspawn_pid=
cleanup() {
	[ -z "$nspawn_pid" ] || kill "$nspawn_pid" 2>/dev/null || true
	rm -rf "/run/systemd/nspawn/propagate/$machine" 2>/dev/null || true
	if [ "${CUSTODY_BOOT_KEEP:-}" = 1 ]; then echo "boot: kept $root"; else rm -rf "$work"; say "removed $work"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT # meson test's timeout: clean up too
mkdir "$root"
zstd -q -d -c "$tarball" | tar --numeric-owner --xattrs --acls -C "$root" -x
say "unpacked the root file system"
# --register=no --keep-unit: no machined and no systemd on the host to ask for a scope (PID 1
# here need not be systemd). --private-network: the container needs none, and with its own
# network namespace it keeps CAP_NET_ADMIN, so PrivateNetwork= can bring up the service's
# loopback. CAP_IPC_LOCK: without it nspawn's seccomp filter refuses mlock() outright, which
# a real host allows up to LimitMEMLOCK, and libgcrypt (loaded through libavformat and libssh)
# logs "Warning: using insecure memory!" in every process.
nspawn=(systemd-nspawn --quiet --register=no --keep-unit --machine="$machine" -D "$root"
	--private-network --capability=CAP_IPC_LOCK)
# Can this machine run a container at all? If not, say why and skip: that is the machine, not
# custody. Everything after this fails the test instead.
if ! "${nspawn[@]}" --pipe /bin/true </dev/null >"$work/preflight.log" 2>&1; then
	echo "SKIP: systemd-nspawn cannot run a container here: $(grep -v 'propagate' "$work/preflight.log" | tail -3)"
	exit 77
fi
DESTDIR= meson install -C "$BUILD_ROOT" --no-rebuild --quiet --destdir "$root" >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log" >&2; echo "FAIL: meson install" >&2; exit 1; }
unit=$root/usr/lib/systemd/system/custodyd.service
[ -f "$unit" ] || { echo "FAIL: meson install put no custodyd.service in /usr/lib/systemd/system" >&2; exit 1; }

# Clips made here (the container has no ffmpeg), named as a camera names them. check-inside.sh
# takes them in glob order: the first into the dock's folder tree, the second at the top of
# the dock, the third into upload.
mkdir -p "$root/root/clips"
n=0
for name in CAM01_OFF7_20261128070000_0001.mp4 CAM01_OFF7_20261128070006_0002.mp4 upload-1.mp4; do
	n=$((n + 1))
	ffmpeg -v error -f lavfi -i testsrc=size=160x120:rate=10 -f lavfi -i "sine=frequency=$((330 + 110 * n))" \
		-t 2 -c:v libx264 -preset ultrafast -g 10 -c:a aac -shortest "$root/root/clips/$name"
done

mkdir -p "$root/usr/local/libexec"
install -m 755 "$here/check-inside.sh" "$root/usr/local/libexec/custody-boot-check"
cat >"$root/etc/systemd/system/custody-boot-check.service" <<'EOF'
[Unit]
Description=custody boot test: custodyd as systemd runs it
After=multi-user.target custodyd.service
# The container powers off when the checks end, whatever their result.
SuccessAction=poweroff
FailureAction=poweroff

[Service]
Type=oneshot
ExecStart=/usr/local/libexec/custody-boot-check
TimeoutStartSec=10min

[Install]
WantedBy=multi-user.target
EOF

# README, "Installing as a service", after `ninja install`, in the container without booting it.
"${nspawn[@]}" --pipe /bin/sh -ec '
	systemd-sysusers
	mkdir -p /etc/custody
	custody-log keygen office.example/custody --out /etc/custody/log.key > /etc/custody/log.pub
	systemd-tmpfiles --create custody.conf
	custodyd --check-config --config /etc/custody/custody.conf
	systemctl enable custodyd custody-boot-check
' </dev/null >"$work/setup.log" 2>&1 || { cat "$work/setup.log" >&2; echo "FAIL: the README's install steps" >&2; exit 1; }
# (nspawn complains that it may not remove its propagation folder from a /run that is not a
# tmpfs, as on this kind of host; cleanup() does.)
grep -v 'nspawn/propagate' "$work/setup.log" | sed 's/^/boot: setup: /'

say "installed; booting"

# --- Boot. systemd is PID 1 of the container; the checks power it off.
t_boot=$(date +%s)
timeout -k 30 600 "${nspawn[@]}" --boot --console=pipe </dev/null >"$work/console.log" 2>&1 &
nspawn_pid=$!
set +e
wait $nspawn_pid
rc=$?
set -e
nspawn_pid=
say "the container exited with $rc after $(( $(date +%s) - t_boot )) s"

rm -rf "$outdir"
mkdir -p "$outdir"
cp -a "$root/var/lib/custody-boot/." "$outdir/" 2>/dev/null || true
cp "$work/console.log" "$work/setup.log" "$outdir/"
if [ ! -s "$outdir/checks" ]; then
	echo "FAIL: no results from inside the container (nspawn exit $rc); its console:" >&2
	tail -40 "$work/console.log" >&2
	exit 1
fi
cat "$outdir/checks"
fails=$(grep -c '^FAIL' "$outdir/checks" || true)
if ! grep -qx done "$outdir/checks"; then
	echo "FAIL: the checks did not finish (nspawn exit $rc); the container's journal ends:" >&2
	journalctl -D "$root/var/log/journal" --no-pager -o short-monotonic 2>&1 | tail -30 >&2
	fails=$((fails + 1))
fi
[ $rc = 0 ] || { echo "FAIL: systemd-nspawn exited with $rc" >&2; fails=$((fails + 1)); }
say "results in $outdir"
[ "$fails" = 0 ] && echo "all boot checks passed" || echo "$fails boot checks failed" >&2
exit $((fails > 0))
