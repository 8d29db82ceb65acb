#!/bin/bash
# Copy-out under Article 23: a real custodyd, users and groups made by the test.
# A reviewer without an approval is refused; with an approval naming them and the entry, the
# original's descriptor comes over the socket and the copy is byte-identical, 0600, and checked
# against the entry's SHA-256; an approval for someone else, for another entry, granted to
# oneself or expired does not count; an operator may always; an original changed behind the
# daemon's back is reported (exit 1) and its copy removed; every attempt is an access entry,
# with where the copy goes (host:absolute path) and, when given, what for.
set -eu
: "${CUSTODYD:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}"
. "$(dirname "$0")/../lib.sh"
need_root "needs root and setpriv to make users and run custodyctl as them"
need setpriv
chmod 0755 "$tmp"

# Other tests may be adding users at the same moment: add_user retries.
add_group ct-co-none ct-co-review ct-co-approve
mkuser() { # mkuser NAME GROUPS
	add_user "$1" ct-co-none "$2"
	mkdir -p "$tmp/out-$1"
	chown "$1" "$tmp/out-$1"
}
mkuser ct-co-rev ct-co-review
mkuser ct-co-rev2 ct-co-review
mkuser ct-co-boss ct-co-approve

mkdir -p "$tmp/dock" "$tmp/media" "$tmp/out-root"
daemon_conf <<EOF
[store]
path = $tmp/state/store

[zone dock]
path = $tmp/dock
settle = 1s

[rules]
device_clock = UTC

[ingest]
rescan_interval = 1s

[socket]
path = $tmp/custody.sock
reviewers = ct-co-review
approvers = ct-co-approve
EOF

daemon_start
U() { local u=$1; shift; as "$u" "$CUSTODYCTL" --socket "$sock" "$@"; }
chmod 0777 "$sock"
size_above() { [ "$(log_size)" -gt "$1" ]; }

for i in 0 1; do
	clip_opts= clip "$tmp/media/clip$i.mp4" 2 $((440 + 110 * i))
	cp "$tmp/media/clip$i.mp4" "$tmp/dock/clip$i.tmp"
	mv "$tmp/dock/clip$i.tmp" "$tmp/dock/clip$i.mp4"
	wait_for 15 size_above "$i" || true
done
[ "$(log_size)" = 2 ] ||
	{ bad "two clips gave a log of $(log_size) entries: $(tail -5 "$dlog")"; exit 1; }
# Which entry holds which clip (commit order is arrival order here, but do not rely on it).
e0=$(C log --type ingest --json | jget - '.entries[entry.name=clip0.mp4][].index')
e1=$((1 - e0))

# copy_out USER INDEX FILE: run it, keep stdout/stderr, return its exit status.
copy_out() {
	set +e
	U "$1" copy-out "$2" --to "$3" >"$tmp/co.out" 2>"$tmp/co.err"
	local code=$?
	set -e
	return $code
}
expect_refused() { # expect_refused WHAT USER INDEX [message pattern]
	local f="$tmp/out-$2/refused-$3" code=0
	copy_out "$2" "$3" "$f" || code=$?
	if [ $code = 1 ] && grep -q forbidden "$tmp/co.err" && [ ! -e "$f" ] &&
		{ [ -z "${4:-}" ] || grep -q "$4" "$tmp/co.err"; }; then
		ok "$1: refused ($(cut -c1-110 "$tmp/co.err"))"
	else
		bad "$1: exit $code, $(cat "$tmp/co.err" "$tmp/co.out"), file $(ls "$f" 2>&1)"
	fi
}
expect_copied() { # expect_copied WHAT USER INDEX MEDIA
	local f="$tmp/out-$2/copy-$3-$RANDOM.mp4" code=0
	copy_out "$2" "$3" "$f" || code=$?
	if [ $code = 0 ] && cmp -s "$f" "$4" && [ "$(stat -c '%a %U' "$f")" = "600 $2" ] &&
		grep -q "SHA-256 matches" "$tmp/co.out"; then
		ok "$1: byte-identical copy, mode 600, owned by $2, hash checked"
	else
		bad "$1: exit $code, $(cat "$tmp/co.err" "$tmp/co.out"), $(stat -c '%a %U' "$f" 2>&1)"
	fi
}

expect_refused "a reviewer without an approval" ct-co-rev "$e0" "needs the operator role or"

in_s() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }
approval=$(U ct-co-boss annotate approval --grantee ct-co-rev --entries "$e0" \
	--purpose "appeal hearing" --expires "$(in_s 3600)" --json | jget - .index)
[ -n "$approval" ] && ok "an approver grants ct-co-rev entry $e0 (annotation $approval)"
expect_copied "the grantee, under the approval" ct-co-rev "$e0" "$tmp/media/clip0.mp4"
expect_refused "the grantee, for an entry the approval does not name" ct-co-rev "$e1"
expect_refused "another reviewer, not the grantee" ct-co-rev2 "$e0"
code=0
touch "$tmp/out-ct-co-rev/taken"
copy_out ct-co-rev "$e0" "$tmp/out-ct-co-rev/taken" || code=$?
[ $code = 2 ] && grep -q "never overwrites" "$tmp/co.err" && [ ! -s "$tmp/out-ct-co-rev/taken" ] \
	&& ok "an existing file is not overwritten" ||
	bad "overwrite: exit $code, $(cat "$tmp/co.err")"

# An approver granting themselves is not a leader's approval.
U ct-co-boss annotate approval --grantee ct-co-boss --entries "$e1" --purpose mine \
	--expires "$(in_s 3600)" >/dev/null
expect_refused "an approval granted to oneself" ct-co-boss "$e1" "themselves"

# A short approval: good now, refused once it has expired.
short=$(U ct-co-boss annotate approval --grantee ct-co-rev2 --entries "$e1" --purpose brief \
	--expires "$(in_s 4)" --json | jget - .index)
expect_copied "a short approval, before it expires" ct-co-rev2 "$e1" "$tmp/media/clip1.mp4"
sleep 5
expect_refused "the same approval, expired" ct-co-rev2 "$e1" "expired"

# Operators need no approval (root is an operator).  What for and where to are on record.
f="$tmp/out-root/op.mp4"
if C copy-out "$e1" --to "$f" --purpose "for the court" >"$tmp/co.out" 2>&1 &&
	cmp -s "$f" "$tmp/media/clip1.mp4"; then
	ok "an operator copies without an approval"
else
	bad "operator copy-out: $(cat "$tmp/co.out")"
fi
C copy-out 99 --to "$tmp/out-root/none" >/dev/null 2>"$tmp/co.err" &&
	bad "copy-out of a missing entry" ||
	{ grep -q not_found "$tmp/co.err" && ok "no such entry: not_found" || bad "$(cat "$tmp/co.err")"; }

# An original changed behind the daemon's back: the copy does not match its entry.
stored=$(C entry "$e0" --json | jget - .entry.stored)
chmod u+w "$tmp/state/store/$stored"
printf 'X' | dd of="$tmp/state/store/$stored" bs=1 seek=100 conv=notrunc status=none
set +e
C copy-out "$e0" --to "$tmp/out-root/bad.mp4" >"$tmp/co.out" 2>"$tmp/co.err"
code=$?
set -e
[ $code = 1 ] && grep -q "does not match its entry" "$tmp/co.err" &&
	[ ! -e "$tmp/out-root/bad.mp4" ] \
	&& ok "a changed original: exit 1, reported, copy removed" \
	|| bad "changed original: exit $code, $(cat "$tmp/co.err"), $(ls "$tmp/out-root")"

# Every attempt is on record.
sleep 0.5
C log --type access --json --limit 1000 >"$tmp/access.json"
python3 - "$tmp/access.json" "$e0" "$e1" "$approval" "$short" "$(hostname)" "$f" <<'PY' &&
import json, os, sys
path, e0, e1, approval, short = sys.argv[1], *map(int, sys.argv[2:6])
host, op_file = sys.argv[6:8]
acc = [e["entry"] for e in json.load(open(path))["entries"] if e["entry"]["op"] == "copy-out"]
acc.sort(key=lambda a: a["at"])
def who(a): return a["by"].split("(")[0]
want = [  # (user, target, allowed, approval, result)
    ("ct-co-rev", e0, False, None, "refused"),
    ("ct-co-rev", e0, True, approval, "copied"),
    ("ct-co-rev", e1, False, None, "refused"),
    ("ct-co-rev2", e0, False, None, "refused"),
    ("ct-co-boss", e1, False, None, "refused"),
    ("ct-co-rev2", e1, True, short, "copied"),
    ("ct-co-rev2", e1, False, None, "refused"),
    ("root", e1, True, None, "copied"),
    ("root", 99, True, None, "not_found"),
    ("root", e0, True, None, "copied"),
]
got = [(who(a), a["target"], a["allowed"], a.get("approval"), a["result"]) for a in acc]
if got != want:
    print("got ", got, "\nwant", want, file=sys.stderr)
    sys.exit(1)
for a in acc:
    if a["allowed"] and a["result"] == "copied":
        assert a["entries"] == [a["target"]], a
        assert a["authority"] == ("operator" if a["approval"] is None else "approval"), a
    # custodyctl says where the copy goes: this host and the file's absolute path.
    assert a["destination"].startswith(host + ":/"), a
op = [a for a in acc if who(a) == "root" and a["target"] == e1][0]
assert op["destination"] == host + ":" + os.path.realpath(op_file), op
assert op["purpose"] == "for the court", op
assert "purpose" not in acc[0], acc[0]
PY
	ok "access entries: each refusal and each copy, with its approval" || bad "access entries wrong"

daemon_stop || bad "custodyd exit status $daemon_code"
finish
