#!/bin/bash
# `custody-log publish` read by Go's golang.org/x/mod/sumdb/tlog (docs/publication.md), an
# implementation nobody here wrote.
#
# A log of 600 entries is published (hash tiles only); Go (tests/integration/go, `interop
# tiles`) opens the folder's checkpoint with note.Open, recomputes the root with
# tlog.TreeHash over tlog.TileHashReader, and reads every tile of the size through it.  A
# second run writes nothing.  The log grows to 1,400 entries and is published again with
# --entries while another process holds the writer lock (publishing only reads): Go checks the
# caught-up folder and every entry bundle against the level-0 tiles.  Copies of the folder with
# one bit of a full tile, of a partial tile, of an upper-level tile or of an entry flipped are
# rejected by Go.  A second log under the same key (another history) is refused in the same
# folder, and a folder holding a tile with other bytes is refused, naming the tile.
#
# meson passes CUSTODY_LOG.  Go and x/mod come from Debian (golang-go,
# golang-golang-x-mod-dev); the Go program is built offline as go-interop.sh builds it.
set -eu

: "${CUSTODY_LOG:?CUSTODY_LOG must name the custody-log program (meson test sets it)}"

. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
die() {
	bad "$*"
	finish
}

go_interop

origin=custody.example/publish
log=$tmp/log
out=$tmp/out
L() { "$CUSTODY_LOG" --db "$log" "$@"; }

"$CUSTODY_LOG" keygen "$origin" --out "$tmp/log.key" >"$tmp/log.pub" || die "keygen failed"
L init --origin "$origin" --key "$tmp/log.key" >/dev/null || die "init failed"
"$interop" records 1400 "$tmp/records.jsonl"

# append FROM TO: records FROM..TO-1 of records.jsonl
append() {
	sed -n "$(($1 + 1)),$2p" "$tmp/records.jsonl" | while IFS= read -r rec; do
		printf '%s\n' "$rec" | L append >/dev/null || exit 1
	done || die "custody-log append failed"
}

# go_check [entries]: the Go reader on $out
go_check() {
	if "$interop" tiles "$tmp/log.pub" "$out" "$@" >"$tmp/go.out" 2>&1; then
		ok "Go reads the folder: $(cat "$tmp/go.out")"
	else
		bad "Go rejects the published folder: $(cat "$tmp/go.out")"
	fi
}

# ---- 600 entries, hash tiles only -----------------------------------------------------------
append 0 600
L checkpoint >/dev/null || die "checkpoint failed"
[ ! -e "$out" ] || die "$out exists already"
L publish "$out" >"$tmp/pub.out" 2>&1 || die "publish failed: $(cat "$tmp/pub.out")"
# 600 = 2 full level-0 tiles and one of width 88; a level-1 tile of width 2.
if grep -q "published size 600 (the folder had 0): 4 tiles and 0 entry bundles written" \
	"$tmp/pub.out" && [ -f "$out/tile/0/000" ] && [ -f "$out/tile/0/001" ] &&
	[ -f "$out/tile/0/002.p/88" ] && [ -f "$out/tile/1/000.p/2" ] && [ ! -e "$out/tile/entries" ]; then
	ok "publish made the folder: $(cat "$tmp/pub.out")"
else
	bad "publish wrote: $(cat "$tmp/pub.out"); files: $(cd "$out" && find . -type f | sort | tr '\n' ' ')"
fi
cmp -s "$out/checkpoint" <(L checkpoint) || bad "the folder's checkpoint is not the newest"
go_check

L publish "$out" >"$tmp/pub.out" 2>&1 || die "publish again failed: $(cat "$tmp/pub.out")"
if grep -q "0 tiles and 0 entry bundles written, 4 already there; checkpoint unchanged" \
	"$tmp/pub.out"; then
	ok "a second publish writes nothing"
else
	bad "a second publish: $(cat "$tmp/pub.out")"
fi

# ---- 1,400 entries with --entries, under a writer -------------------------------------------
append 600 1400
L checkpoint >/dev/null || die "checkpoint failed"
python3 "$here/hold-lock.py" "$log" >"$tmp/lockout" &
holder=$!
at_exit kill $holder
while ! grep -q locked "$tmp/lockout" 2>/dev/null; do sleep 0.05; done
if L publish "$out" --entries >"$tmp/pub.out" 2>&1; then
	ok "publish runs while another process holds the writer lock: $(cat "$tmp/pub.out")"
else
	bad "publish under a writer failed: $(cat "$tmp/pub.out")"
fi
kill $holder
wait $holder 2>/dev/null || true
# 1,400 = 5 full level-0 tiles and one of width 120, a level-1 tile of width 5: new are
# 002, 003, 004, 005.p/120 and 000.p/5; the 6 bundles are all new.
grep -q "published size 1400 (the folder had 600): 5 tiles and 6 entry bundles written" \
	"$tmp/pub.out" || bad "catch-up wrote: $(cat "$tmp/pub.out")"
[ -f "$out/tile/0/002.p/88" ] || bad "the old partial tile 002.p/88 is gone"
go_check entries

# ---- tampering: Go must notice -----------------------------------------------------------------
# flip FILE OFFSET: one bit of a copy of the folder
flip() {
	rm -rf "$tmp/bad" && cp -R "$out" "$tmp/bad"
	python3 -c '
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
b[off] ^= 1
open(p, "wb").write(b)' "$tmp/bad/$1" "$2"
	if "$interop" tiles "$tmp/log.pub" "$tmp/bad" entries >"$tmp/go.out" 2>&1; then
		bad "Go accepts the folder with a bit of $1 (byte $2) flipped"
	else
		ok "Go rejects a bit of $1 flipped: $(tail -n 1 "$tmp/go.out")"
	fi
}
flip tile/0/001 100
flip tile/0/005.p/120 3839
flip tile/1/000.p/5 0
flip tile/entries/003 50

# ---- another history ---------------------------------------------------------------------------
"$CUSTODY_LOG" --db "$tmp/other" init --origin "$origin" --key "$tmp/log.key" >/dev/null ||
	die "init of the second log failed"
sed -n 1,700p "$tmp/records.jsonl" | sed 's/"custody"/"other"/' | while IFS= read -r rec; do
	printf '%s\n' "$rec" | "$CUSTODY_LOG" --db "$tmp/other" append >/dev/null || exit 1
done || die "append to the second log failed"
"$CUSTODY_LOG" --db "$tmp/other" checkpoint >/dev/null || die "checkpoint of the second log failed"
rc=0
"$CUSTODY_LOG" --db "$tmp/other" publish "$out" >"$tmp/pub.out" 2>&1 || rc=$?
if [ $rc -eq 2 ] && grep -q "different history" "$tmp/pub.out"; then
	ok "another history is refused in the folder (exit 2): $(cat "$tmp/pub.out")"
else
	bad "publishing another history: exit $rc: $(cat "$tmp/pub.out")"
fi
rm "$out/checkpoint"
rc=0
"$CUSTODY_LOG" --db "$tmp/other" publish "$out" >"$tmp/pub.out" 2>&1 || rc=$?
if [ $rc -eq 2 ] && grep -q "'tile/0/000' is already there with other bytes" "$tmp/pub.out"; then
	ok "without the checkpoint, the first tile that differs is named (exit 2)"
else
	bad "publishing another history over its tiles: exit $rc: $(cat "$tmp/pub.out")"
fi
[ ! -e "$out/checkpoint" ] || bad "a refused publish wrote a checkpoint"
L publish "$out" --entries >"$tmp/pub.out" 2>&1 || bad "publish after losing the checkpoint: $(cat "$tmp/pub.out")"
go_check entries

finish
