#!/bin/bash
# Fault: kill -9 at random moments during a run of 100,000 appends in batches, ten times.
# After each kill the reopened log must be at a batch boundary, at least as large as the last
# commit the appender reported (a reported commit is durable), with the same root the appender
# reported for that size, and every entry's proof must verify; then the run resumes to 100,000.
set -eu
: "${CUSTODY_LOG:?}" "${TLOG_FAULT:?}"
TOTAL=100000
tmp=$(mktemp -d)
trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
pid=0
seed=${FAULT_SEED:-$RANDOM}
echo "seed $seed"
RANDOM=$seed

for run in $(seq 1 10); do
	batches=(100 250 1000 5000)
	batch=${batches[$((RANDOM % 4))]}
	db="$tmp/db$run"
	"$CUSTODY_LOG" keygen fault.test/log --out "$tmp/key$run" >/dev/null
	"$CUSTODY_LOG" --db "$db" init --origin fault.test/log --key "$tmp/key$run" >/dev/null
	out="$tmp/out$run"
	"$TLOG_FAULT" append "$db" $TOTAL $batch >"$out" &
	pid=$!
	# Kill after a random number of reported commits and a random fraction of the next one.
	commits=$((TOTAL / batch))
	want=$((1 + RANDOM % (commits - 1)))
	while [ "$(wc -l <"$out")" -lt "$want" ] && kill -0 $pid 2>/dev/null; do
		sleep 0.002
	done
	sleep "0.00$((RANDOM % 10))"
	kill -9 $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	last=$(tail -n 1 "$out" | cut -d' ' -f1)
	last=${last:-0}

	state=$("$TLOG_FAULT" check "$db")
	size=${state%% *}
	root=${state#* }
	if [ $((size % batch)) -ne 0 ] && [ "$size" -ne $TOTAL ]; then
		echo "run $run: size $size is not a multiple of the batch $batch" >&2
		exit 1
	fi
	if [ "$size" -lt "$last" ]; then
		echo "run $run: size $size is below the last reported commit $last" >&2
		exit 1
	fi
	reported=$(awk -v s="$size" '$1 == s { print $2 }' "$out")
	if [ -n "$reported" ] && [ "$reported" != "$root" ]; then
		echo "run $run: root at $size changed: $reported before, $root after" >&2
		exit 1
	fi
	# Resume to the full 100,000 and check again.
	"$TLOG_FAULT" append "$db" $TOTAL $batch >/dev/null
	state=$("$TLOG_FAULT" check "$db")
	[ "${state%% *}" -eq $TOTAL ] || { echo "run $run: resumed to ${state%% *}" >&2; exit 1; }
	echo "run $run: batch $batch, killed after $last reported, reopened at $size: ok"
	rm -rf "$db"
done
echo "10 kill -9 runs: ok"
