# What the shell tests share (sourced, not run, after `set -eu`):
#     . "$(dirname "$0")/../lib.sh"
# Sourcing it makes a temporary tree, $tmp (${TMPDIR:-/tmp}/custody-SCRIPT.XXXXXX), and traps
# the exit: a daemon still running is killed (kill -9), what at_exit registered runs (the last
# first), and $tmp is removed; SIGINT and SIGTERM (meson's timeout) exit the same way.
#
# The caller gets:
#   ok TEXT, bad TEXT     a check passed (stdout) or failed (stderr, counted in $fails)
#   finish                exit 1 saying how many failed, with the daemon log's tail when there
#                         is one; else "all checks passed" and exit 0
#   skip TEXT             exit 77, which meson reports as skipped
#   need PROGRAM...       skip unless each one is installed; need_root TEXT: skip unless root
#   at_exit CMD [ARG...]  run CMD at exit, before $tmp is removed (errors ignored)
#   retry CMD...          CMD, tried 11 times half a second apart (a locked /etc/passwd)
#   add_group G...; add_user NAME GROUP [GROUPS]
#                         made now (GROUP the primary group), deleted at exit
#   as USER CMD...        CMD as USER, with USER's groups (setpriv)
#   wait_for SECONDS CMD...   until CMD succeeds; status 1 if it never did
#   wait_gone SECONDS PATH... until no regular file is left under the PATHs; 1 if never
#   jget FILE|- PATH      one value of a JSON document: jget - .entries[0].entry.name
#   go_interop            builds tests/integration/go (the Go checker, on Debian's x/mod)
#                         offline into $interop; without Go or x/mod, or if the build fails,
#                         a failure saying what to install, and finish
#                         (tests/json-get.py says how a PATH reads)
#   clip FILE SECONDS FREQ [SIZE [CREATION_TIME]]
#                         a small H.264 + AAC clip: testsrc of SIZE (160x120) at 10 fps, a
#                         key frame a second, a FREQ Hz tone (which makes the bytes differ from
#                         clip to clip); $clip_src replaces the picture's source and $clip_opts
#                         the "-g 10" (both may be set for one call: clip_opts=... clip ...)
#   make_keys [ORIGIN]    $tmp/log.key and $tmp/log.pub for ORIGIN (test.custody/log)
#   conf_log [STATE]      prints a config's [log] section: those keys, STATE ($tmp/state) and
#                         a checkpoint a second
#   daemon_conf <TEXT     writes $conf: conf_log (keys made if there are none, $tmp/state made)
#                         and then TEXT, the other sections
#   daemon_start [VAR=VALUE...]
#                         starts $daemon_bin ($CUSTODYD) on $conf with VARs in its environment,
#                         stderr appended to $dlog, and waits for `custodyctl status` to answer
#                         on $sock; after 10 s, or if it dies, a failure and finish
#   daemon_stop           SIGTERM and wait: status 0 if it exited 0 (its status in $daemon_code)
#   daemon_kill           kill -9 and wait
#   C ARG...              custodyctl on $sock with the log's verifier key
#   log_size              the log's size, as `custodyctl status` gives it
# Variables: $daemon (the running daemon's pid, empty when none), $conf, $sock, $dlog (in
# $tmp: custody.conf, custody.sock, daemon.log) and $daemon_bin, which a caller may change
# before a start.  It reads CUSTODYD, CUSTODYCTL and CUSTODY_LOG when those helpers are used,
# and TMPDIR.

lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/custody-$(basename "$0" .sh).XXXXXX")
conf=$tmp/custody.conf
sock=$tmp/custody.sock
dlog=$tmp/daemon.log
daemon=
daemon_bin=
daemon_code=
log_origin=test.custody/log
fails=0
lib_at_exit=()

at_exit() { lib_at_exit+=("$(printf '%q ' "$@")"); }
lib_cleanup() {
	local i
	if [ -n "$daemon" ]; then
		kill -9 "$daemon" 2>/dev/null || true
		wait "$daemon" 2>/dev/null || true
	fi
	for ((i = ${#lib_at_exit[@]} - 1; i >= 0; i--)); do
		eval "${lib_at_exit[$i]}" >/dev/null 2>&1 || true
	done
	rm -rf "$tmp"
}
trap lib_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ok() { echo "ok: $*"; }
bad() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}
finish() {
	if [ "$fails" -ne 0 ]; then
		echo "$fails checks failed" >&2
		if [ -s "$dlog" ]; then
			echo "the daemon's log ($dlog), its end:" >&2
			tail -40 "$dlog" >&2
		fi
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
skip() {
	echo "SKIP: $*"
	exit 77
}
need() {
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || skip "'$p' is not installed"
	done
}
need_root() { [ "$(id -u)" = 0 ] || skip "$*"; }

retry() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		"$@" && return 0
		sleep 0.5
	done
	"$@"
}
add_group() {
	local g
	for g in "$@"; do
		retry groupadd -f "$g"
		at_exit groupdel "$g"
	done
}
add_user() { # add_user NAME GROUP [GROUPS]
	userdel "$1" 2>/dev/null || true
	at_exit userdel "$1"
	retry useradd -M -N -g "$2" ${3:+-G "$3"} "$1"
}
as() {
	local u=$1
	shift
	setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups "$@"
}

wait_for() {
	local secs=$1
	shift
	for _ in $(seq 1 $((secs * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
wait_gone() {
	local secs=$1
	shift
	for _ in $(seq 1 $((secs * 10))); do
		[ -z "$(find "$@" -type f 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}

# The interpreter python3 names, looked up once: through a version manager's shim (pyenv) each
# start costs a second more on a busy machine, and jget runs often.
lib_python=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || echo python3)
jget() { "$lib_python" "$lib_dir/json-get.py" "$@"; }

go_interop() {
	local xmod=/usr/share/gocode/src/golang.org/x/mod
	if ! command -v go >/dev/null 2>&1; then
		bad "go is not installed: apt-get install golang-go (scripts/deps test does)"
		finish
	fi
	if [ ! -d "$xmod/sumdb/note" ] || [ ! -d "$xmod/sumdb/tlog" ]; then
		bad "$xmod/sumdb is missing: apt-get install golang-golang-x-mod-dev"
		finish
	fi
	# A copy, so that the build writes nothing into the source tree.
	cp -R "$lib_dir/integration/go" "$tmp/gosrc"
	if ! (cd "$tmp/gosrc" &&
		env GOENV=off GOPROXY=off GOSUMDB=off GOFLAGS=-mod=mod GOWORK=off GO111MODULE=on \
			GOTOOLCHAIN=local CGO_ENABLED=0 GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath" \
			go build -o "$tmp/interop" .) >"$tmp/gobuild.log" 2>&1; then
		sed 's/^/     /' "$tmp/gobuild.log"
		bad "building the Go program failed (offline, with x/mod from $xmod)"
		finish
	fi
	interop=$tmp/interop
}

# Without CREATION_TIME a clip's recording time is its mtime, which the kernel sets from the
# real clock even under libfaketime.
clip() {
	local meta=()
	[ -z "${5:-}" ] || meta=(-metadata "creation_time=$5")
	# shellcheck disable=SC2086 # $clip_opts is a list of options
	ffmpeg -v error -nostdin -f lavfi -i "${clip_src:-testsrc=size=${4:-160x120}:rate=10}" \
		-f lavfi -i "sine=frequency=$3" -t "$2" -c:v libx264 -preset ultrafast \
		${clip_opts--g 10} -c:a aac -shortest "${meta[@]}" "$1"
}

make_keys() {
	log_origin=${1:-test.custody/log}
	"$CUSTODY_LOG" keygen "$log_origin" --out "$tmp/log.key" >"$tmp/log.pub"
}
conf_log() {
	cat <<EOF
[log]
origin = $log_origin
key = $tmp/log.key
verifier_key = $tmp/log.pub
state = ${1:-$tmp/state}
checkpoint_interval = 1s

EOF
}
daemon_conf() {
	[ -e "$tmp/log.key" ] || make_keys
	mkdir -p "$tmp/state"
	{
		conf_log
		cat
	} >"$conf"
}

daemon_start() {
	env "$@" "${daemon_bin:-$CUSTODYD}" --config "$conf" 2>>"$dlog" &
	daemon=$!
	for _ in $(seq 1 100); do
		[ -S "$sock" ] && C status >/dev/null 2>&1 && return 0
		kill -0 "$daemon" 2>/dev/null || break
		sleep 0.1
	done
	bad "custodyd did not come up on $sock: $(tail -5 "$dlog")"
	finish
}
daemon_stop() {
	daemon_code=0
	kill -TERM "$daemon"
	wait "$daemon" || daemon_code=$?
	daemon=
	[ "$daemon_code" = 0 ]
}
daemon_kill() {
	kill -9 "$daemon" 2>/dev/null || true
	wait "$daemon" 2>/dev/null || true
	daemon=
}
C() { "$CUSTODYCTL" --socket "$sock" --key "$tmp/log.pub" "$@"; }
log_size() { C status --json | jget - .size; }
