#!/bin/bash
# Publishing a 10M-entry log as tiles from scratch (bench/RESULTS.md, docs/publication.md).
#
#   publish-bench.sh DIR [N]     (N defaults to 10,000,000)
#
# PUBLISH_BENCH_LOG makes the log (DIR/db, N small entries); then, on the same file system:
#   1. `custody-log publish DIR/out` (hash tiles only), wall-clock time, from an empty folder;
#   2. the peer: `cp -r` of the folder it made to DIR/cp followed by `sync -f` (the same
#      39,000-odd files written and made durable by coreutils), best of 3;
#   3. `custody-log publish` again (nothing to write: one fstatat per tile);
#   4. 1,000 more entries and a catch-up publish.
# Prints one line per figure.  CUSTODY_LOG and PUBLISH_BENCH_LOG name the programs.
set -eu
: "${CUSTODY_LOG:?}" "${PUBLISH_BENCH_LOG:?}"
dir=$1
n=${2:-10000000}

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

"$PUBLISH_BENCH_LOG" "$dir" "$n" >"$dir.vkey"
mv "$dir.vkey" "$dir/log.pub"
sync -f "$dir"

t0=$(now)
"$CUSTODY_LOG" --db "$dir/db" publish "$dir/out"
t1=$(now)
pub=$(secs "$t0" "$t1")
files=$(find "$dir/out/tile" -type f | wc -l)
bytes=$(du -sb "$dir/out/tile" | cut -f1)
echo "publish from scratch: $n entries, $files tiles, $bytes bytes in $pub s:" \
	"$(echo "$n / $pub" | bc) entries/s"

best=
for i in 1 2 3; do
	rm -rf "$dir/cp"
	sync -f "$dir"
	t0=$(now)
	cp -r "$dir/out" "$dir/cp"
	sync -f "$dir/cp"
	t1=$(now)
	t=$(secs "$t0" "$t1")
	if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
done
rm -rf "$dir/cp"
echo "peer: cp -r of the folder + sync -f, best of 3: $best s;" \
	"publish / cp = $(echo "scale=2; $pub / $best" | bc)"

t0=$(now)
"$CUSTODY_LOG" --db "$dir/db" publish "$dir/out"
t1=$(now)
echo "publish again (nothing to write): $(secs "$t0" "$t1") s"

for i in $(seq 1000); do echo "{\"i\":$((n + i)),\"more\":1}"; done >"$dir/more.jsonl"
t0=$(now)
while IFS= read -r e; do printf '%s' "$e" | "$CUSTODY_LOG" --db "$dir/db" append >/dev/null; done \
	<"$dir/more.jsonl"
"$CUSTODY_LOG" --db "$dir/db" checkpoint >/dev/null
t1=$(now)
"$CUSTODY_LOG" --db "$dir/db" publish "$dir/out"
t2=$(now)
echo "catch-up of 1,000 entries: $(secs "$t1" "$t2") s (appending them one by one: $(secs "$t0" "$t1") s)"
