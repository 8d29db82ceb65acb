#!/bin/bash
# A custody-verify monitor pass over the tiles of a 1M-entry log (bench/RESULTS.md,
# docs/publication.md).
#
#   monitor-bench.sh DIR [N]     (N defaults to 1,000,000)
#
# PUBLISH_BENCH_LOG makes the log (DIR/db, N small entries) and custody-log publishes it (hash
# tiles only, DIR/out).  Then three rounds, alternating, each side's median reported:
#   1. `custody-verify monitor DIR/out --key … --state DIR/state`: every tile read and checked
#      against the root, and the tree at the state's size checked against the saved root (the
#      first round saves it, so rounds 2 and 3 also do the consistency check);
#   2. the peer: Go's x/mod reading the same folder (tests/integration/go, `interop tiles`:
#      tlog.TreeHash over tlog.TileHashReader, then every hash the tiles determine), the
#      independent implementation the tests check against.
# Wall-clock seconds and peak RSS (GNU time).  CUSTODY_LOG, CUSTODY_VERIFY, PUBLISH_BENCH_LOG
# name the programs; Go builds offline as the tests build it.
set -eu
: "${CUSTODY_LOG:?}" "${CUSTODY_VERIFY:?}" "${PUBLISH_BENCH_LOG:?}"
dir=$1
n=${2:-1000000}
here=$(cd "$(dirname "$0")" && pwd)

rm -rf "$dir"
"$PUBLISH_BENCH_LOG" "$dir" "$n" >"$dir.vkey"
mv "$dir.vkey" "$dir/log.pub"
"$CUSTODY_LOG" --db "$dir/db" publish "$dir/out" >/dev/null
cp -R "$here/../tests/integration/go" "$dir/src"
(cd "$dir/src" &&
	env GOENV=off GOPROXY=off GOSUMDB=off GOFLAGS=-mod=mod GOWORK=off GO111MODULE=on \
		GOTOOLCHAIN=local CGO_ENABLED=0 GOCACHE="$dir/gocache" GOPATH="$dir/gopath" \
		go build -o "$dir/interop" .)

# run OUT CMD...: CMD's wall-clock seconds and peak RSS in KiB, "S KIB", into OUT's last line.
run() {
	local out=$1
	shift
	/usr/bin/time -f '%e %M' -o "$out.time" "$@" >"$out" 2>&1 || {
		echo "failed: $* ($(tail -2 "$out"))" >&2
		exit 1
	}
	cat "$out.time"
}
mons='' gos='' mrss='' grss=''
for i in 1 2 3; do
	set -- $(run "$dir/mon$i" "$CUSTODY_VERIFY" monitor "$dir/out" --key "$dir/log.pub" \
		--state "$dir/state")
	mons="$mons $1" mrss="$mrss $2"
	set -- $(run "$dir/go$i" "$dir/interop" tiles "$dir/log.pub" "$dir/out")
	gos="$gos $1" grss="$grss $2"
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
# shellcheck disable=SC2086
mon=$(median $mons) go=$(median $gos)
echo "monitor: $n entries, $(grep -o '[0-9]* tiles' "$dir/mon1"); runs:$mons s; median $mon s;" \
	"peak RSS$mrss KiB"
echo "peer: Go x/mod interop tiles; runs:$gos s; median $go s; peak RSS$grss KiB;" \
	"monitor / Go = $(echo "scale=3; $mon / $go" | bc)"
grep -q '^consistent: it extends the checkpoint of size' "$dir/mon2" ||
	echo "note: the second pass did not report the consistency check: $(cat "$dir/mon2")" >&2
