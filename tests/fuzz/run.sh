#!/bin/sh
# Run the libFuzzer targets of a -Dfuzz=true build (tests/fuzz/README.md).
#
#   tests/fuzz/run.sh BUILD fuzz TARGET|all SECONDS [--keep]
#       fuzz each target for SECONDS, one after the other, one process at a time.  New inputs
#       go to a temporary directory (with --keep: into tests/fuzz/corpus/TARGET), crashes to
#       BUILD/tests/fuzz/artifacts/.  Exit 1 if a target crashed.
#   tests/fuzz/run.sh BUILD cmin TARGET|all
#       minimise tests/fuzz/corpus/TARGET in place (libFuzzer -merge=1, by edge coverage);
#       the seeds (seed-*) and the inputs that once crashed a target (regress-*) are kept.
#   tests/fuzz/run.sh BUILD replay TARGET|all
#       run each corpus file once (what `meson test --suite fuzz` does).
#
# Per-target options: the longest input tried (-max_len) and the dictionary tests/fuzz/dict/.
# Environment: FUZZ_ARGS adds libFuzzer options (e.g. FUZZ_ARGS=-print_final_stats=1).
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: run.sh BUILD fuzz|cmin|replay TARGET|all [SECONDS]}" && pwd)
cmd=${2:?usage: run.sh BUILD fuzz|cmin|replay TARGET|all [SECONDS]}
what=${3:?usage: run.sh BUILD fuzz|cmin|replay TARGET|all [SECONDS]}
targets="request conf entry note proof tiles pattern fingerprint witness witness-answer"
[ "$what" = all ] || targets=$what

max_len() {
	case $1 in
	request) echo 8192 ;;     # past [socket] max_request_bytes (2048 in the harness)
	pattern) echo 1024 ;;
	fingerprint) echo 65536 ;; # the seeds are < 50 KB
	*) echo 16384 ;;
	esac
}

# Leaks are findings; UBSan stops at the first report (the build has -fno-sanitize-recover).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
art="$build/tests/fuzz/artifacts"
mkdir -p "$art"
for t in $targets; do
	exe="$build/tests/fuzz/fuzz-$t"
	corpus="$here/corpus/$t"
	if [ ! -x "$exe" ]; then
		echo "run.sh: $exe is missing: meson setup with -Dfuzz=true and build it" >&2
		exit 2
	fi
	mkdir -p "$corpus"
	common="-max_len=$(max_len "$t") -dict=$here/dict/$t.dict -timeout=25 -rss_limit_mb=2048"
	asan=$ASAN_OPTIONS
	if [ "$t" = fingerprint ]; then
		# libavformat allocates what a crafted header asks for (hundreds of MB for a 3 KB
		# MP4, freed when the demux fails) and every fingerprint starts a hash thread; ASan
		# keeps much of that resident, so the RSS climbs past 2 GB within minutes while the
		# live heap stays under 100 MB (the same loop without ASan stays flat at 35 MB).
		asan="$ASAN_OPTIONS:quarantine_size_mb=64:allocator_release_to_os_interval_ms=500"
		common="${common%-rss_limit_mb=2048}-rss_limit_mb=4096"
	fi
	case $cmd in
	fuzz)
		secs=${4:?usage: run.sh BUILD fuzz TARGET SECONDS [--keep]}
		if [ "${5:-}" = --keep ]; then
			dirs="$corpus"
		else
			new=$(mktemp -d "/tmp/custody-fuzz-$t-XXXXXX")
			dirs="$new $corpus"
		fi
		echo "== fuzz-$t for ${secs}s" >&2
		# shellcheck disable=SC2086
		ASAN_OPTIONS=$asan "$exe" $common -max_total_time="$secs" -print_final_stats=1 \
			-artifact_prefix="$art/$t-" ${FUZZ_ARGS:-} $dirs || status=1
		[ -n "${new:-}" ] && rm -rf "$new"
		new=
		;;
	cmin)
		min=$(mktemp -d "/tmp/custody-cmin-$t-XXXXXX")
		# shellcheck disable=SC2086
		# Edges only (-use_counters=0): keeping every hit-count variant as well would keep
		# four times the files for one more edge in 2,000 (fuzz-request: 915 -> 218).
		if ASAN_OPTIONS=$asan "$exe" $common -merge=1 -use_counters=0 ${FUZZ_ARGS:-} \
			"$min" "$corpus"; then
			# The seeds (seed-*, make-seeds.sh) and the inputs that once crashed a
			# target (regress-*) stay, under their names.
			keep=$(mktemp -d "/tmp/custody-cmin-keep-XXXXXX")
			for f in "$corpus"/seed-* "$corpus"/regress-*; do
				[ -e "$f" ] || continue
				cp "$f" "$keep"/
				rm -f "$min/$(sha1sum "$f" | cut -c1-40)"
			done
			rm -f "$corpus"/*
			cp "$min"/* "$keep"/* "$corpus"/ 2>/dev/null
			rm -rf "$keep"
			echo "== fuzz-$t: $(ls "$corpus" | wc -l) inputs kept" >&2
		else
			status=1
		fi
		rm -rf "$min"
		;;
	replay)
		# shellcheck disable=SC2086
		ASAN_OPTIONS=$asan "$exe" $common -runs=0 ${FUZZ_ARGS:-} "$corpus" || status=1
		;;
	*)
		echo "run.sh: unknown command '$cmd'" >&2
		exit 2
		;;
	esac
done
exit $status
