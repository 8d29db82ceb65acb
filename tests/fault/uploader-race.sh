#!/bin/bash
# A hostile uploader against the ingest (docs/ingest.md), with the shipped modes: the
# daemon runs as its own unprivileged user (ct-custody), the upload zone is 3770
# ct-custody:ct-uploaders, and the uploader is another unprivileged user in that group.  Each
# race is made to happen in one order by custodyd-fault's pause ($CUSTODY_FAULT_PAUSE): the
# ingest waits at a fault point while the uploader acts, then goes on.
#
#  1. A folder swapped for a symlink into the store (and one into the log's folder) after the
#     daemon opened a file in it: the file named after a stored original's SHA-256, and one
#     named data.mdb.  Nothing outside the zone is removed; the file is logged.
#  2. A new version renamed over the name while the first is read: both are logged.
#  3. The file rewritten in place after it was copied, before its check: the copy is not
#     logged and not kept; the new content is.
#  4. The dock's move path: another file renamed over the name between the open and the move
#     into staging: both logged, each under its own bytes.
#  5. A new version renamed over the name at the moment of removal: it is put back, not
#     removed, and logged.
#  6. A name that is not UTF-8: logged, with its bytes in name_hex.
#  7. The same bytes dropped again: a `duplicate` entry naming the first.
#  8. Two hard links to one of the uploader's files: one ingest, one duplicate, however the
#     removal of the first moves the second's ctime.
#  9. The dock's file opened for writing by someone after the settle check, just before the
#     move into staging: its bytes are copied, not adopted, so writes through that descriptor
#     after the commit do not reach the stored original.
# 10. A non-UTF-8 name in a subfolder of the dock, staged, the daemon killed: after the restart
#     the staged file is logged under its exact name.
# 11. The dock on a bind mount of the store's file system (rename(2) across the two mounts
#     fails with EXDEV, as under systemd's ReadWritePaths=): copied, logged.
# 12. A still picture named .mp4 and a clip with 100 KiB appended: each logged `damaged`,
#     saying why.
# After all of them: every version of every file is stored intact under an entry naming it,
# the zones are empty, and the store holds no object without an entry.
set -eu
. "$(dirname "$0")/lib.sh"
for p in setpriv setfacl; do
	command -v $p >/dev/null || { echo "SKIP: '$p' is not installed (util-linux, acl)"; exit 77; }
done

for g in ct-custody ct-uploaders; do getent group $g >/dev/null || groupadd $g; done
getent passwd ct-custody >/dev/null || useradd -M -N -g ct-custody -s /usr/sbin/nologin ct-custody
getent passwd ct-up >/dev/null || useradd -M -N -g ct-uploaders -s /usr/sbin/nologin ct-up
U() { setpriv --reuid=ct-up --regid=ct-uploaders --clear-groups -- "$@"; } # the uploader
D() { setpriv --reuid=ct-custody --regid=ct-custody --clear-groups -- "$@"; } # the dock's writer

chmod 755 "$tmp"
dir=$tmp/d
store=$dir/state/store
upload=$dir/upload
dock=$dir/dock
mkdir -p "$dir/media" "$dir/gates"
write_conf "$dir" "$store" "$upload"
printf '\n[zone dock]\npath = %s\nkind = dock\nsettle = 1s\n' "$dock" >>"$dir/custody.conf"
mkdir -p "$dock"
chown ct-custody:ct-custody "$tmp/log.key" "$dir/state" "$dir/gates" "$dock"
chmod 600 "$tmp/log.key"
chmod 750 "$dir/state"
chmod 770 "$dock"
chown ct-custody:ct-uploaders "$upload"
chmod 3770 "$upload"
# The default ACLs systemd/tmpfiles.d ships: what an uploader makes below the zone stays
# writable by the daemon's user (it must move and remove what it ingested).
for z in "$upload" "$dock"; do
	setfacl -m default:user::rwx,default:group::---,default:other::---,default:mask::rwx \
		-m default:user:ct-custody:rwx "$z"
done
chmod 755 "$dir" "$dir/media"
chown ct-custody "$dir" # its socket is made there
# The daemon's user may not reach the build folder (a clone under /root): it runs copies.
mkdir -p "$dir/bin"
cp "$CUSTODYD_FAULT" "$dir/bin/custodyd-fault"
cp "$CUSTODY_PROBE" "$dir/bin/custody-probe"
chmod 755 "$dir/bin" "$dir/bin/"*
export CUSTODY_PROBE=$dir/bin/custody-probe
cat >"$dir/as-custody" <<EOF
#!/bin/sh
exec setpriv --reuid=ct-custody --regid=ct-custody --clear-groups -- "$dir/bin/custodyd-fault" "\$@"
EOF
chmod 755 "$dir/as-custody"

n=0
for f in victim a1 a2 b1 b2 c1 c2 d1 d2 e1 e2 g1 h1 w1 k1 x1; do
	n=$((n + 1))
	clip "$dir/media/$f.mp4" 2 $((200 + 37 * n))
done
chmod 644 "$dir/media/"*
sha() { sha256sum "$1" | cut -d' ' -f1; }

entries() { C log --limit 1000 --json; } # the whole log: it stays under 1000 entries
# logged NAME SHA : an ingest entry of these bytes under this name, its original intact
logged() {
	entries | python3 -c '
import json, sys, hashlib
name, sha, store = sys.argv[1:4]
for e in json.load(sys.stdin)["entries"]:
    e = e.get("entry", e)
    if e["type"] == "ingest" and e["name"] == name and e["sha256"] == sha:
        data = open(store + "/" + e["stored"], "rb").read()
        sys.exit(0 if hashlib.sha256(data).hexdigest() == sha else 2)
sys.exit(1)' "$1" "$2" "$store"
}
expect_logged() { # expect_logged NAME MEDIA OK-TEXT BAD-TEXT
	if wait_for 30 logged "$1" "$(sha "$2")"; then ok "$3"; else bad "$4"; fi
}
zone_empty() { [ -z "$(find "$upload" "$dock" -type f 2>/dev/null)" ]; }

# run_paused POINT : (re)start the daemon so that the first ingest to reach POINT waits there.
gate=
run_paused() {
	[ -z "$daemon" ] || stop_daemon
	gate=$dir/gates/$1
	rm -f "$gate" "$gate.reached"
	start_daemon "$dir/as-custody" "$dir" CUSTODY_FAULT="$1" CUSTODY_FAULT_PAUSE="$gate"
}
reached() { wait_for 30 test -e "$gate.reached" || { bad "the ingest never reached $1"; finish; }; }
release() { touch "$gate"; }

# 0. The victim: an original in the store, and the log.
start_daemon "$dir/as-custody" "$dir"
U cp "$dir/media/victim.mp4" "$upload/victim.mp4"
vsha=$(sha "$dir/media/victim.mp4")
wait_for 30 logged victim.mp4 "$vsha" && ok "the victim clip is logged" || bad "victim not logged"
victim=$store/objects/${vsha:0:2}/$vsha

# 1. The folder swapped for a symlink into the store, after the open.
run_paused zone-opened
U mkdir "$upload/sub"
U cp "$dir/media/a1.mp4" "$upload/sub/$vsha"
reached zone-opened
U mv "$upload/sub" "$upload/sub.away"
U ln -s "$store/objects/${vsha:0:2}" "$upload/sub"
release
expect_logged "sub/$vsha" "$dir/media/a1.mp4" "swap: the file is logged" \
	"swap: the file opened before the swap is not logged"
wait_for 30 test ! -e "$upload/sub.away/$vsha" || bad "swap: the ingested file stayed in its zone"
[ "$(sha "$victim")" = "$vsha" ] && ok "swap: the stored original is intact" ||
	bad "swap: the stored original $victim is gone or changed"
U rm "$upload/sub"
# The same against the log: a file named data.mdb, its folder swapped for the log's folder.
run_paused zone-opened
U mkdir "$upload/sub2"
U cp "$dir/media/a2.mp4" "$upload/sub2/data.mdb"
reached zone-opened
U mv "$upload/sub2" "$upload/sub2.away"
U ln -s "$dir/state/log" "$upload/sub2"
release
expect_logged sub2/data.mdb "$dir/media/a2.mp4" "swap: data.mdb is logged" \
	"swap: data.mdb is not logged"
wait_for 30 test ! -e "$upload/sub2.away/data.mdb" || bad "swap: data.mdb stayed in its zone"
[ -s "$dir/state/log/data.mdb" ] && ok "swap: the log's data.mdb is still there" ||
	bad "swap: the log's data.mdb was removed"
U rm "$upload/sub2"
U rmdir "$upload/sub.away" "$upload/sub2.away"

# 2. A new version renamed over the name while the first is read.
run_paused zone-opened
U cp "$dir/media/b1.mp4" "$upload/clip.mp4"
reached zone-opened
U cp "$dir/media/b2.mp4" "$upload/.clip.tmp"
U mv "$upload/.clip.tmp" "$upload/clip.mp4"
release
expect_logged clip.mp4 "$dir/media/b1.mp4" "rename-over: the first version is logged" \
	"rename-over: the first version is not logged"
expect_logged clip.mp4 "$dir/media/b2.mp4" "rename-over: the second version is logged" \
	"rename-over: the second version is lost"

# 3. Rewritten in place after the copy, before its check.
run_paused copied-before-check
U cp "$dir/media/c1.mp4" "$upload/r.ts"
reached copied-before-check
U sh -c "cat '$dir/media/c2.mp4' >'$upload/r.ts'"
release
expect_logged r.ts "$dir/media/c2.mp4" "rewrite: the new content is logged" \
	"rewrite: the new content is not logged"
c1=$(sha "$dir/media/c1.mp4")
[ ! -e "$store/objects/${c1:0:2}/$c1" ] && ! logged r.ts "$c1" &&
	ok "rewrite: the copy of the old content was neither stored nor logged" ||
	bad "rewrite: a copy that changed while it was read was stored or logged"

# 4. The dock's move path: the name given to another file between the open and the move.
run_paused opened-before-stage
D cp "$dir/media/d1.mp4" "$dock/m.mp4"
reached opened-before-stage
D cp "$dir/media/d2.mp4" "$dock/.m.tmp"
D mv "$dock/.m.tmp" "$dock/m.mp4"
release
expect_logged m.mp4 "$dir/media/d1.mp4" "move path: the file opened is logged" \
	"move path: the file opened before the swap is lost"
expect_logged m.mp4 "$dir/media/d2.mp4" "move path: the file swapped in is logged" \
	"move path: the file swapped in is lost"

# 5. A new version renamed over the name at the moment of its removal.
run_paused zone-before-removal
U cp "$dir/media/e1.mp4" "$upload/x.mp4"
reached zone-before-removal
U cp "$dir/media/e2.mp4" "$upload/.x.tmp"
U mv "$upload/.x.tmp" "$upload/x.mp4"
release
expect_logged x.mp4 "$dir/media/e1.mp4" "removal: the first version is logged" \
	"removal: the first version is not logged"
expect_logged x.mp4 "$dir/media/e2.mp4" "removal: the version renamed over it was kept and logged" \
	"removal: the version renamed over the name at its removal is lost"

# 6. A name that is not UTF-8, and 7. a duplicate arrival.
stop_daemon
start_daemon "$dir/as-custody" "$dir"
U cp "$dir/media/g1.mp4" "$upload/$(printf 'cam\xe9ra.mp4')"
U cp "$dir/media/victim.mp4" "$upload/again.mp4"
U cp "$dir/media/a1.mp4" "$upload/$(printf 'esc\033[2Jred.mp4')"
wait_for 30 zone_empty || bad "the zones did not empty: $(find "$upload" "$dock" -type f)"
# custodyctl log shows a name as text, never as the escape sequence an uploader put in it.
C log --limit 1000 >"$dir/log.txt"
if grep -q $'\033' "$dir/log.txt"; then
	bad "custodyctl log printed an escape sequence from a file name"
elif grep -q 'esc\\x1b\[2Jred.mp4' "$dir/log.txt" &&
	grep -q "again.mp4': the bytes of entry" "$dir/log.txt"; then
	ok "custodyctl log: the escape in a name shown as \\x1b; the duplicate arrival named"
else
	bad "custodyctl log: $(grep -a -e esc -e again "$dir/log.txt")"
fi
entries | python3 -c '
import json, sys
g1, vsha = sys.argv[1:3]
es = [(x["index"], x.get("entry", x)) for x in json.load(sys.stdin)["entries"]]
odd = [e for i, e in es if e.get("sha256") == g1]
assert len(odd) == 1 and odd[0]["type"] == "ingest", odd
assert odd[0]["name"] == "cam\ufffdra.mp4", odd[0]["name"]
assert bytes.fromhex(odd[0]["name_hex"]) == b"cam\xe9ra.mp4", odd[0]
first = [i for i, e in es if e["type"] == "ingest" and e["sha256"] == vsha]
# (A folder renamed in scenario 1 may have made duplicates of other bytes: its files were
# found again under their new names, which is what happened.)
dups = [e for i, e in es if e["type"] == "duplicate" and e["sha256"] == vsha]
assert len(first) == 1, first
assert len(dups) == 1 and dups[0]["name"] == "again.mp4" and dups[0]["of"] == first[0] \
    and dups[0]["sha256"] == vsha and dups[0]["zone"] == "z0" and "received_at" in dups[0], dups
' "$(sha "$dir/media/g1.mp4")" "$vsha" &&
	ok "a non-UTF-8 name is logged with name_hex; a duplicate arrival is a duplicate entry" ||
	bad "the odd name or the duplicate arrival is not recorded as it should be"

# 8. Two hard links to one file of the uploader's.
U cp "$dir/media/h1.mp4" "$upload/.h1"
U ln "$upload/.h1" "$upload/.h2"
U mv "$upload/.h1" "$upload/link-a.mp4"
U mv "$upload/.h2" "$upload/link-b.mp4"
wait_for 30 zone_empty || bad "hard links: the zone did not empty: $(find "$upload" -type f)"
sleep 2
entries | python3 -c '
import json, sys
sha = sys.argv[1]
es = [x.get("entry", x) for x in json.load(sys.stdin)["entries"]]
mine = sorted((e["type"], e["name"]) for e in es if e.get("sha256") == sha)
assert [t for t, _ in mine] == ["duplicate", "ingest"], mine
' "$(sha "$dir/media/h1.mp4")" && ok "hard links: one ingest and one duplicate entry" ||
	bad "hard links: not exactly one ingest and one duplicate entry"

# 9. A writer opens the dock's file just before its move into staging, and writes after the
# commit.
run_paused opened-before-stage
D cp "$dir/media/w1.mp4" "$dock/w.mp4"
reached opened-before-stage
D sh -c "exec 3>>'$dock/w.mp4'; sleep 8; head -c 4096 /dev/urandom >&3" &
writer=$!
sleep 0.5
release
wsha=$(sha "$dir/media/w1.mp4")
wait_for 30 logged w.mp4 "$wsha" && ok "held open for writing: logged as it was read" ||
	bad "held open for writing: not logged"
wait "$writer" || true
sleep 0.5
[ "$(sha "$store/objects/${wsha:0:2}/$wsha")" = "$wsha" ] &&
	ok "held open for writing: a later write through that descriptor does not reach the original" ||
	bad "held open for writing: the stored original was changed after it was logged"
if find "$store/staging" -type f | grep -q .; then
	bad "held open for writing: staging is not empty"
fi

# 10. A non-UTF-8 name in a subfolder of the dock, staged, then the daemon killed.
stop_daemon
odd=$(printf 'cam\xe9ra2.mp4')
D mkdir -p "$dock/sub"
start_daemon "$dir/as-custody" "$dir" CUSTODY_FAULT=staged-hashed
D cp "$dir/media/k1.mp4" "$dock/sub/$odd"
wait_for 30 eval '! kill -0 "$daemon" 2>/dev/null' || bad "the daemon was not killed when staged"
wait "$daemon" 2>/dev/null || true
daemon=
find "$store/staging" -name '*.meta' | grep -q . && ok "killed with a file staged" ||
	bad "nothing was staged when the daemon was killed"
start_daemon "$dir/as-custody" "$dir"
wait_for 30 zone_empty || true
wait_for 30 eval '[ -z "$(find "$store/staging" -type f)" ]' || bad "staging did not empty"
entries | python3 -c '
import json, sys
sha = sys.argv[1]
es = [x.get("entry", x) for x in json.load(sys.stdin)["entries"]]
mine = [e for e in es if e.get("sha256") == sha]
assert len(mine) == 1 and mine[0]["type"] == "ingest", mine
assert bytes.fromhex(mine[0]["name_hex"]) == b"sub/cam\xe9ra2.mp4", mine[0]
' "$(sha "$dir/media/k1.mp4")" &&
	ok "an odd name staged before a crash is logged under its exact name after the restart" ||
	bad "the staged file with an odd name is not logged after the restart"

# 11. The dock on a second mount of the store's file system.
stop_daemon
mkdir -p "$dir/dock-real"
chown ct-custody:ct-custody "$dir/dock-real"
mount --bind "$dir/dock-real" "$dock" || { echo "SKIP: cannot bind-mount"; finish; }
mounts+=("$dock")
start_daemon "$dir/as-custody" "$dir"
D cp "$dir/media/x1.mp4" "$dock/bound.mp4"
wait_for 30 logged bound.mp4 "$(sha "$dir/media/x1.mp4")" && wait_for 10 zone_empty &&
	ok "across two mounts of one file system: copied and logged" ||
	bad "across two mounts of one file system: not logged: $(tail -3 "$dlog")"

# 12. A still picture named .mp4, and a clip with bytes appended.
ffmpeg -v error -nostdin -f lavfi -i testsrc=size=160x120 -frames:v 1 -f image2 -c:v png \
	"$dir/media/still.mp4"
cp "$dir/media/x1.mp4" "$dir/media/tail.mp4"
head -c 102400 /dev/urandom >>"$dir/media/tail.mp4"
chmod 644 "$dir/media/still.mp4" "$dir/media/tail.mp4"
U cp "$dir/media/still.mp4" "$dir/media/tail.mp4" "$upload/"
wait_for 30 zone_empty || bad "the still and the appended clip stayed in the zone"
wait_for 10 eval 'entries | grep -q tail.mp4' || true
entries | python3 -c '
import json, sys
still, tail = sys.argv[1:3]
es = {e["sha256"]: e for e in (x.get("entry", x) for x in json.load(sys.stdin)["entries"])
      if "sha256" in e}
s, t = es[still], es[tail]
assert s["type"] == "damaged" and "no audio or video stream" in s["error"], s
assert t["type"] == "damaged" and t["trailing_bytes"] == 102400, t
assert "102400 bytes after the end of the container" in t["error"], t
' "$(sha "$dir/media/still.mp4")" "$(sha "$dir/media/tail.mp4")" &&
	ok "a still picture and a clip with 100 KiB appended are logged damaged, saying why" ||
	bad "the still picture or the appended clip is not logged as damaged"

# The store holds no object without an entry, and every entry's original is intact.
entries | python3 -c '
import hashlib, json, os, sys
store = sys.argv[1]
es = [x.get("entry", x) for x in json.load(sys.stdin)["entries"]]
named = {e["stored"] for e in es if e["type"] in ("ingest", "damaged")}
objs = {os.path.relpath(os.path.join(r, f), store)
        for r, _, fs in os.walk(store + "/objects") for f in fs}
assert objs == named, ("unlogged", objs - named, "missing", named - objs)
for e in es:
    if e["type"] in ("ingest", "damaged"):
        data = open(store + "/" + e["stored"], "rb").read()
        assert hashlib.sha256(data).hexdigest() == e["sha256"], e
' "$store" && ok "every object in the store has its entry, and each original is intact" ||
	bad "the store and the log disagree"
stop_daemon
finish
