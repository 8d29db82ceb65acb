#!/bin/bash
# custodyd killed (kill -9, from inside: custodyd-fault's FAULT_POINT) at each instant where a
# crash could lose evidence, on both ingest paths:
#   store-before-fsync        the copy written (or the file moved into staging), not yet fsynced
#   stored-before-commit      the original linked in the store, its entry not yet committed
#   committed-before-removal  the entry committed, the file not yet out of its zone or staging
# The "move" path has the zone on the store's filesystem (rename into staging); the "copy" path
# has it on a tmpfs (copied and hashed in one pass).  After a restart without the fault, every
# dropped file must be in the store, byte-identical, with exactly one `ingest` entry, and
# nothing may be left in the zone, <store>/staging or <store>/tmp (docs/ingest.md).  A last run
# takes the copy path where the filesystem has no O_TMPFILE (an LD_PRELOAD shim says so), so
# that the copy is a named file in <store>/tmp when the daemon dies.
set -eu
. "$(dirname "$0")/lib.sh"

mkdir -p "$tmp/media"
media=()
for f in 330 440 550; do
	clip "$tmp/media/clip-$f.mp4" 2 $f
	media+=("$tmp/media/clip-$f.mp4")
done

run=0
for case in store-before-fsync:move store-before-fsync:copy stored-before-commit:move \
	stored-before-commit:copy committed-before-removal:move committed-before-removal:copy \
	store-before-fsync:copy-named; do
	point=${case%:*}
	path=${case#*:}
	preload=()
	[ $path = copy-named ] && preload=("LD_PRELOAD=$NO_TMPFILE")
	run=$((run + 1))
	dir=$tmp/run$run
	store=$dir/state/store
	zone=$dir/zone
	mkdir -p "$zone"
	if [ $path != move ]; then
		mount_tmpfs "$zone" 64m
	fi
	write_conf "$dir" "$store" "$zone"
	# The move path dies at the first hit, the copy path at the second, so that one
	# run also has a file that went all the way through before the kill.
	after=1
	[ $path = copy ] && after=2
	start_daemon "$CUSTODYD_FAULT" "$dir" "${preload[@]}" CUSTODY_FAULT=$point \
		CUSTODY_FAULT_AFTER=$after
	for m in "${media[@]}"; do cp "$m" "$zone/"; done
	wait_exit 30
	what="$point ($path path, hit $after)"
	if [ "$exit_code" != 137 ]; then
		bad "$what: the daemon did not die by SIGKILL (exit $exit_code)"
		continue
	fi
	# Right after the crash: every file somewhere, none logged twice.
	if out=$(check_crash "$dir" "$store" "$zone" "${media[@]}"); then
		ok "$what: killed; $out"
	else
		bad "$what: killed; $out"
	fi
	echo "  tmp holds $(find "$store/tmp" -mindepth 1 | wc -l), staging" \
		"$(find "$store/staging" -mindepth 1 | wc -l) names"

	start_daemon "$CUSTODYD_FAULT" "$dir" "${preload[@]}"
	if ! wait_gone 30 "$zone" "$store/staging"; then
		bad "$what: not ingested after the restart: $(find "$zone" "$store/staging" -type f)"
	fi
	# Let the writer's last batch reach the log, then stop cleanly.
	sleep 0.5
	stop_daemon
	if out=$(check_log "$dir" "$store" "${media[@]}"); then
		ok "$what: $out; each file once, byte-identical"
	else
		bad "$what: $out"
	fi
	left=$(store_leftovers "$store")
	if [ -z "$left" ]; then
		ok "$what: nothing left in staging or tmp"
	elif [ $path = copy-named ] && [ -z "$(echo "$left" | grep -v '^tmp/copy-')" ]; then
		# store_open() does not clear tmp/: the partial copy of a crash stays for good.
		known_bug "$what: the named temporary copy is never removed: $left"
	else
		bad "$what: left in the store: $left"
	fi
	[ -z "$(find "$zone" -mindepth 1)" ] || bad "$what: left in the zone: $(find "$zone" -mindepth 1)"
	[ $path = move ] || umount "$zone"
done
finish
