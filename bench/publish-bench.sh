#!/bin/bash
# Publishing a 10M-entry log as tiles from scratch (bench/RESULTS.md, docs/publication.md).
#
#   publish-bench.sh DIR [N]     (N defaults to 10,000,000)
#
# PUBLISH_BENCH_LOG makes the log (DIR/db, N small entries); then, on the same file system:
#   1. `custody-log publish DIR/outI` (hash tiles only), wall-clock time, into a new folder;
#   2. the peer: `cp -r` of the folder it made to DIR/cpI followed by `sync -f` (the same
#      39,000-odd files written and made durable by coreutils);
#      1 and 2 alternate three times, and each side's median is reported;
#   3. `custody-log publish` again (nothing to write: one fstatat per tile);
#   4. 1,000 more entries and a catch-up publish.
# Prints one line per figure.  CUSTODY_LOG and PUBLISH_BENCH_LOG name the programs.
set -eu
: "${CUSTODY_LOG:?}" "${PUBLISH_BENCH_LOG:?}"
dir=$1
n=${2:-10000000}

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

# ext4 passes over inodes freed in the last 30 s or so when it allocates new ones (its
# recently_deleted()), which made runs right after a deletion of the last run's 39,000 files
# two to three times slower: so nothing is deleted between the timed runs, and a leftover
# DIR is removed a minute before.
if [ -e "$dir" ]; then
	rm -rf "$dir"
	sleep 60
fi
"$PUBLISH_BENCH_LOG" "$dir" "$n" >"$dir.vkey"
mv "$dir.vkey" "$dir/log.pub"
sync -f "$dir"

# Three rounds, each a publish into a new folder and a cp -r of the first one: the machine is
# shared, so each side gets the median of three, taken in alternation.
pubs='' cps=''
for i in 1 2 3; do
	sync -f "$dir"
	t0=$(now)
	"$CUSTODY_LOG" --db "$dir/db" publish "$dir/out$i" >/dev/null
	t1=$(now)
	pubs="$pubs $(secs "$t0" "$t1")"
	sync -f "$dir"
	t0=$(now)
	cp -r "$dir/out1" "$dir/cp$i"
	sync -f "$dir/cp$i"
	t1=$(now)
	cps="$cps $(secs "$t0" "$t1")"
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
# shellcheck disable=SC2086
pub=$(median $pubs) cp=$(median $cps)
files=$(find "$dir/out1/tile" -type f | wc -l)
bytes=$(du -sb "$dir/out1/tile" | cut -f1)
echo "publish from scratch: $n entries, $files tiles, $bytes bytes; runs:$pubs s;" \
	"median $pub s: $(echo "$n / $pub" | bc) entries/s"
echo "peer: cp -r of the folder + sync -f; runs:$cps s; median $cp s;" \
	"publish / cp = $(echo "scale=2; $pub / $cp" | bc)"
mv "$dir/out1" "$dir/out"

t0=$(now)
"$CUSTODY_LOG" --db "$dir/db" publish "$dir/out"
t1=$(now)
echo "publish again (nothing to write): $(secs "$t0" "$t1") s"

for i in $(seq 1000); do echo "{\"i\":$((n + i)),\"type\":\"bench\",\"v\":1}"; done >"$dir/more.jsonl"
t0=$(now)
while IFS= read -r e; do printf '%s' "$e" | "$CUSTODY_LOG" --db "$dir/db" append >/dev/null; done \
	<"$dir/more.jsonl"
"$CUSTODY_LOG" --db "$dir/db" checkpoint >/dev/null
t1=$(now)
"$CUSTODY_LOG" --db "$dir/db" publish "$dir/out"
t2=$(now)
rm -rf "$dir/cp1" "$dir/cp2" "$dir/cp3" "$dir/out2" "$dir/out3"
echo "catch-up of 1,000 entries: $(secs "$t1" "$t2") s (appending them one by one: $(secs "$t0" "$t1") s)"
