# Shared by the custodyd fault tests (sourced, not run), beside what every shell test shares
# (tests/lib.sh: $tmp, ok/bad/finish, wait_for, wait_gone, clip, C, the daemon's start and
# stop): mounts, configs of several zones, the daemon started on a folder of its own, and the
# check that every dropped file is in the store, byte-identical, with exactly one entry
# (docs/ingest.md).
#
# The caller sets nothing.  Mounts need root: not root means SKIP (exit 77, which meson reports
# as skipped).
: "${CUSTODYD:?}" "${CUSTODYD_FAULT:?}" "${CUSTODY_PROBE:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}"
: "${CUSTODY_VERIFY:?}" "${NO_TMPFILE:?}"
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need_root "the fault tests mount tmpfs filesystems and need root"
need ffmpeg python3 pgrep mount umount
export CUSTODY_PROBE

# A check for a bug these tests found once (all fixed): it fails the run; with
# CUSTODY_FAULT_STRICT=0 it is only reported, for bisecting.
known_bug() {
	echo "KNOWN BUG: $*" >&2
	[ "${CUSTODY_FAULT_STRICT:-1}" = 0 ] || fails=$((fails + 1))
}
# mounts: what a script mounted (mount_tmpfs adds to it, and a script may too), unmounted at
# exit in the reverse order.
mounts=()
umount_all() {
	local i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount "${mounts[$i]}" 2>/dev/null || true; done
}
at_exit umount_all
mount_tmpfs() { # mount_tmpfs DIR SIZE
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2" tmpfs "$1" || skip "cannot mount a tmpfs"
	mounts+=("$1")
}

make_keys fault.test/log

# write_conf DIR STORE ZONE... : a config in DIR/custody.conf, state in DIR/state, the store at
# STORE, one upload zone per ZONE path (named z0, z1, …).  Short settle and rescan, so that a
# test takes seconds.
write_conf() {
	local dir=$1 store=$2 n=0 z
	shift 2
	mkdir -p "$dir/state"
	{
		conf_log "$dir/state"
		cat <<EOF
[store]
path = $store

[rules]
device_clock = UTC
storage_deadline = 24h

[ingest]
rescan_interval = 2s

[socket]
path = $dir/custody.sock
EOF
	} >"$dir/custody.conf"
	for z in "$@"; do
		mkdir -p "$z"
		printf '\n[zone z%d]\npath = %s\nkind = upload\nsettle = 1s\n' $n "$z" >>"$dir/custody.conf"
		n=$((n + 1))
	done
}

# start_daemon BINARY DIR [VAR=VALUE...] : tests/lib.sh's daemon_start of BINARY on
# DIR/custody.conf, its socket DIR/custody.sock, its stderr appended to DIR/daemon.log.
start_daemon() {
	daemon_bin=$1 conf=$2/custody.conf sock=$2/custody.sock dlog=$2/daemon.log
	shift 2
	daemon_start "$@"
}

# wait_exit SECONDS : wait for the daemon to exit by itself; sets $exit_code to its exit status
# (137 for SIGKILL), or to "running" when it was still up after SECONDS (and is killed).
wait_exit() {
	if ! wait_for "$1" eval '! kill -0 "$daemon" 2>/dev/null' &&
		kill -0 "$daemon" 2>/dev/null; then
		daemon_kill
		exit_code=running
		return
	fi
	exit_code=0
	wait "$daemon" 2>/dev/null || exit_code=$?
	daemon=
}

# stop_daemon : SIGTERM, and expect exit 0.
stop_daemon() { daemon_stop || bad "SIGTERM: exit $daemon_code: $(tail -5 "$dlog")"; }

# dump_log DIR : with the daemon stopped (or dead), every entry of DIR/state/log, one JSON
# object a line, into DIR/entries.jsonl (custody-log reads LMDB directly).
dump_log() {
	local dir=$1 i=0
	: >"$dir/entries.jsonl"
	while "$CUSTODY_LOG" --db "$dir/state/log" show $i >>"$dir/entries.jsonl" 2>/dev/null; do
		echo >>"$dir/entries.jsonl"
		i=$((i + 1))
	done
}

# check_crash DIR STORE ZONE MEDIA... : right after a crash, docs/ingest.md's promise: each MEDIA
# file is in ZONE, or in STORE/staging with its .meta, or in the store with an entry; never
# neither, and never two entries.  Prints where each one is.
check_crash() {
	dump_log "$1"
	python3 - "$@" <<'PY'
import hashlib, json, os, sys
dir, store, zone, media = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def sha(p):
    try:
        return hashlib.sha256(open(p, "rb").read()).hexdigest()
    except OSError:
        return None
in_zone = {sha(os.path.join(r, f)) for r, _, fs in os.walk(zone) for f in fs}
staging = store + "/staging"
in_staging = set()
for f in os.listdir(staging) if os.path.isdir(staging) else []:
    if not f.endswith(".meta") and os.path.exists(staging + "/" + f + ".meta"):
        in_staging.add(sha(staging + "/" + f))
entries = [json.loads(l) for l in open(dir + "/entries.jsonl") if l.strip()]
problems, where = [], []
for m in media:
    d = sha(m)
    logged = [e for e in entries if e.get("sha256") == d]
    places = []
    if d in in_zone: places.append("zone")
    if d in in_staging: places.append("staging")
    if logged and sha(store + "/" + logged[0]["stored"]) == d: places.append("logged")
    if len(logged) > 1:
        problems.append("%s: %d entries" % (os.path.basename(m), len(logged)))
    if not places:
        problems.append("%s: LOST (in no zone, not staged, not logged)" % os.path.basename(m))
    where.append("%s=%s" % (os.path.basename(m), "+".join(places) or "nowhere"))
print(" ".join(where))
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
PY
}

# check_log DIR STORE MEDIA... : with the daemon stopped, read every entry of DIR/state/log and
# check that each MEDIA file has exactly one entry (of type ingest unless MEDIA is given as
# TYPE:FILE), that its original at STORE/<stored> has its SHA-256, and that the log holds no
# other ingest/damaged entry.  Prints what it found.
check_log() {
	local dir=$1 store=$2
	shift 2
	dump_log "$dir"
	python3 - "$dir/entries.jsonl" "$store" "$@" <<'PY'
import hashlib, json, sys
path, store, media = sys.argv[1], sys.argv[2], sys.argv[3:]
entries = [json.loads(l) for l in open(path) if l.strip()]
files = [e for e in entries if e.get("type") in ("ingest", "damaged")]
problems = []
want = set()
for m in media:
    kind, _, f = m.rpartition(":")
    kind = kind or "ingest"
    digest = hashlib.sha256(open(f, "rb").read()).hexdigest()
    want.add(digest)
    mine = [e for e in files if e["sha256"] == digest]
    if len(mine) != 1:
        problems.append("%s: %d entries, wanted 1" % (f, len(mine)))
        continue
    e = mine[0]
    if e["type"] != kind:
        problems.append("%s: entry of type %s, wanted %s" % (f, e["type"], kind))
    try:
        stored = hashlib.sha256(open(store + "/" + e["stored"], "rb").read()).hexdigest()
    except OSError as err:
        stored = str(err)
    if stored != digest:
        problems.append("%s: the original at %s is %s" % (f, e["stored"], stored))
extra = [e["sha256"] for e in files if e["sha256"] not in want]
if extra:
    problems.append("entries for files never dropped: %s" % extra)
print("%d entries, %d for files" % (len(entries), len(files)), end="")
for p in problems:
    print("\n  " + p, end="")
sys.exit(1 if problems else 0)
PY
	check_proofs "$dir"
}

# check_proofs DIR : every entry of DIR/state/log has an inclusion proof that custody-verify
# accepts against the newest signed checkpoint (signed by the daemon at its clean stop).
check_proofs() {
	local dir=$1 n i
	n=$(grep -c . "$dir/entries.jsonl" || true)
	for ((i = 0; i < n; i++)); do
		if ! "$CUSTODY_LOG" --db "$dir/state/log" proof $i >"$dir/p.tlog-proof" 2>"$dir/p.err" ||
			! "$CUSTODY_VERIFY" proof "$dir/p.tlog-proof" --key "$tmp/log.pub" \
				>/dev/null 2>>"$dir/p.err"; then
			echo "; entry $i has no valid proof: $(cat "$dir/p.err")"
			return 1
		fi
	done
	echo "; $n proofs verify"
}

# store_leftovers STORE : names left in the store's staging/ and tmp/ (should be none).
store_leftovers() {
	find "$1/staging" "$1/tmp" -mindepth 1 2>/dev/null | sed "s|^$1/||"
}
