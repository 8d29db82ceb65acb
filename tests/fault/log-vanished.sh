#!/bin/bash
# A log never disappears silently (docs/log.md).  custodyd ingests two clips (the published
# checkpoint <state>/checkpoint then has size 2) and is stopped; then, with its log
#   (a) moved away,
#   (b) put back as it was after the first clip (size 1),
#   (c) replaced by a log of the same origin and key with other entries (size 2, then 3),
#   (f) moved away together with the published checkpoint, the originals left in the store,
# it must exit non-zero within seconds with an ALERT (<1> under journald) saying what it
# found, leave the published checkpoint (and the log it was given) byte for byte as they were,
# and create nothing.  (d) The log restored, it starts and keeps both entries, also beside an
# older published checkpoint (size 1: a longer log is fine).  (g) The start-over step the ALERT
# gives, run as printed, moves the old state aside whole and lets it begin a new log.
# (e) A really empty state starts and creates its log.  `--check-config` creates nothing, not
# in an empty state nor where the log is missing.
set -eu
. "$(dirname "$0")/lib.sh"

mkdir -p "$tmp/media"
clip "$tmp/media/clip-330.mp4" 1 330
clip "$tmp/media/clip-440.mp4" 1 440
media=("$tmp/media/clip-330.mp4" "$tmp/media/clip-440.mp4")

dir=$tmp/a
state=$dir/state
store=$state/store
zone=$dir/zone
write_conf "$dir" "$store" "$zone"

# tree DIR : every name below DIR with its type, size and mtime, to see that nothing changed.
tree() { find "$1" -printf '%p %y %s %T@\n' 2>/dev/null | sort; }

# --check-config in an empty state and with no state folder at all: valid, nothing made.
before=$(tree "$dir")
if out=$("$CUSTODYD" --check-config --config "$dir/custody.conf" 2>&1) &&
	[ "$(tree "$dir")" = "$before" ]; then
	ok "--check-config in an empty state: '$out', nothing created"
else
	bad "--check-config in an empty state: '$out'; $(diff <(echo "$before") <(tree "$dir"))"
fi
rmdir "$state"
if out=$("$CUSTODYD" --check-config --config "$dir/custody.conf" 2>&1) && [ ! -e "$state" ]; then
	ok "--check-config with no state folder: '$out', nothing created"
else
	bad "--check-config with no state folder: '$out'; $(find "$dir")"
fi
mkdir "$state"

# checkpoint_size : the tree size of the published checkpoint (its second line).
checkpoint_size() { sed -n 2p "$state/checkpoint" 2>/dev/null; }
# ingest FILE N : drop FILE, wait until it is stored and the published checkpoint has size N.
ingest() {
	cp "$1" "$zone/"
	wait_gone 30 "$zone" "$store/staging" || bad "$(basename "$1") not ingested"
	for _ in $(seq 1 100); do
		[ "$(checkpoint_size)" = "$2" ] && return 0
		sleep 0.1
	done
	bad "the published checkpoint has size '$(checkpoint_size)', wanted $2"
}

start_daemon "$CUSTODYD" "$dir"
[ -f "$state/log/data.mdb" ] && ok "an empty state: the log was created" ||
	bad "an empty state: no log was created"
ingest "${media[0]}" 1
stop_daemon
mkdir "$tmp/size1"
cp -a "$state/log/data.mdb" "$tmp/size1/data.mdb"
cp -a "$state/checkpoint" "$tmp/size1/checkpoint"
start_daemon "$CUSTODYD" "$dir"
ingest "${media[1]}" 2
stop_daemon
cp -a "$state/log/data.mdb" "$tmp/data.mdb"
cp -a "$state/checkpoint" "$tmp/checkpoint"
ok "two clips ingested, the published checkpoint has size $(checkpoint_size)"

# refused WHAT PATTERN [FILE...] : custodyd must exit non-zero within 10 seconds with an ALERT
# line matching PATTERN and the line saying what to do, the published checkpoint and each
# FILE unchanged, and no log made where there was none.
refused() {
	local what=$1 pattern=$2 code=0 t0 ms f
	shift 2
	local had_log=no
	[ -e "$state/log/data.mdb" ] && had_log=yes
	for f in "$@"; do cp -a "$f" "$f.before"; done
	rm -f "$tmp/checkpoint.expected"
	[ ! -e "$state/checkpoint" ] || cp -a "$state/checkpoint" "$tmp/checkpoint.expected"
	t0=$(date +%s%N)
	JOURNAL_STREAM=0:0 timeout 20 "$CUSTODYD" --config "$dir/custody.conf" \
		>"$dir/refused.out" 2>"$dir/refused.err" || code=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	cat "$dir/refused.err" >>"$dir/daemon.log"
	if [ $code = 0 ] || [ $code = 124 ]; then
		bad "$what: custodyd did not refuse (exit $code): $(tail -3 "$dir/refused.err")"
	elif [ $ms -gt 10000 ]; then
		bad "$what: custodyd took $ms ms to refuse"
	else
		ok "$what: exit $code after $ms ms"
	fi
	if grep -q "^<1>\[log\] refusing to start: $pattern" "$dir/refused.err"; then
		ok "$what: ALERT: $(grep -m1 '^<1>\[log\] refusing' "$dir/refused.err")"
	else
		bad "$what: no <1> ALERT matching '$pattern': $(cat "$dir/refused.err")"
	fi
	if grep -q "^<1>\[log\] to go on, .*restore '$state/log' " "$dir/refused.err" &&
		grep -q "^<1>\[log\] or, only to begin a new, .*: mkdir '" "$dir/refused.err"; then
		ok "$what: ALERT: $(grep -m1 '^<1>\[log\] to go on' "$dir/refused.err")"
		ok "$what: ALERT: $(grep -m1 '^<1>\[log\] or, only' "$dir/refused.err")"
	else
		bad "$what: no ALERT saying what to do: $(cat "$dir/refused.err")"
	fi
	if [ -e "$tmp/checkpoint.expected" ]; then
		cmp -s "$state/checkpoint" "$tmp/checkpoint.expected" &&
			ok "$what: the published checkpoint is unchanged" ||
			bad "$what: the published checkpoint changed: $(cat "$state/checkpoint")"
	else
		[ ! -e "$state/checkpoint" ] && ok "$what: no checkpoint was published" ||
			bad "$what: a checkpoint was published: $(cat "$state/checkpoint")"
	fi
	for f in "$@"; do
		cmp -s "$f" "$f.before" && ok "$what: $(basename "$f") is unchanged" ||
			bad "$what: $(basename "$f") changed"
		rm -f "$f.before"
	done
	[ $had_log = yes ] || [ ! -e "$state/log/data.mdb" ] ||
		bad "$what: a log was created"
	[ ! -S "$dir/custody.sock" ] || bad "$what: the socket was bound"
}

# (a) The log moved away.
mv "$state/log/data.mdb" "$tmp/moved.mdb"
refused "(a) log moved away" "the log in '$state/log' is missing, but a published \
checkpoint of size 2 is in '$state/checkpoint' and 2 originals in the store '$store'"
before=$(tree "$dir")
"$CUSTODYD" --check-config --config "$dir/custody.conf" >/dev/null 2>&1 ||
	bad "--check-config with the log missing: not valid"
[ "$(tree "$dir")" = "$before" ] && ok "--check-config with the log missing: nothing created" ||
	bad "--check-config with the log missing: $(diff <(echo "$before") <(tree "$dir"))"

# (b) The log as it was after the first clip.
cp "$tmp/size1/data.mdb" "$state/log/data.mdb"
refused "(b) log of size 1" "the log in '$state/log' has size 1, but custodyd published a \
checkpoint of size 2 .*: the log lost entry 1$" \
	"$state/log/data.mdb"

# (c) Another log of the same origin and key: two other entries, then a third.
other=$tmp/other
"$CUSTODY_LOG" --db "$other" init --origin fault.test/log --key "$tmp/log.key" >/dev/null
for i in 1 2; do
	echo "{\"v\":1,\"type\":\"note\",\"text\":\"not the log $i\"}" |
		"$CUSTODY_LOG" --db "$other" append >/dev/null
done
"$CUSTODY_LOG" --db "$other" checkpoint --key "$tmp/log.key" >/dev/null
cp "$other/data.mdb" "$state/log/data.mdb"
refused "(c) another log of size 2" \
	"the log in '$state/log' (size 2) has another root at size 2 than the checkpoint" \
	"$state/log/data.mdb"
echo '{"v":1,"type":"note","text":"not the log 3"}' | "$CUSTODY_LOG" --db "$other" append >/dev/null
cp "$other/data.mdb" "$state/log/data.mdb"
refused "(c) another log of size 3" \
	"the log in '$state/log' (size 3) has another root at size 2 than the checkpoint" \
	"$state/log/data.mdb"

# (d) The log restored: it starts, with both entries; then beside the older checkpoint.
cp -a "$tmp/moved.mdb" "$state/log/data.mdb"
start_daemon "$CUSTODYD" "$dir"
ok "(d) the log restored: custodyd started"
stop_daemon
if out=$(check_log "$dir" "$store" "${media[@]}"); then
	ok "(d) $out; both clips once"
else
	bad "(d) $out"
fi
[ "$(checkpoint_size)" = 2 ] && ok "(d) the published checkpoint still has size 2" ||
	bad "(d) the published checkpoint has size '$(checkpoint_size)'"
cp "$tmp/size1/checkpoint" "$state/checkpoint"
start_daemon "$CUSTODYD" "$dir"
ok "(d) a log longer than the published checkpoint (2 > 1): custodyd started"
stop_daemon
cp "$tmp/checkpoint" "$state/checkpoint"

# (f) The log and the published checkpoint gone, the originals still in the store.
mv "$state/log/data.mdb" "$tmp/moved.mdb"
mv "$state/checkpoint" "$tmp/moved.checkpoint"
refused "(f) log and checkpoint moved away" \
	"the log in '$state/log' is missing, but there are 2 originals in the store '$store'"
mv "$tmp/moved.checkpoint" "$state/checkpoint"

# (g) The start-over step of the ALERT, as printed: the old state aside whole, a new log.
refused "(g) log moved away" "the log in '$state/log' is missing"
step=$(sed -n "s/^<1>\[log\] or, only to begin .*, then start custodyd: //p" "$dir/refused.err")
if [ -n "$step" ] && bash -c "$step"; then
	ok "(g) ran the start-over step: $step"
else
	bad "(g) the start-over step failed or is missing: '$step'"
fi
aside=$(ls -d "$state".old-* 2>/dev/null | head -1)
if [ -n "$aside" ] && cmp -s "$aside/checkpoint" "$tmp/checkpoint" &&
	[ "$(find "$aside/objects" -type f | wc -l)" = 2 ]; then
	ok "(g) '$aside' holds the published checkpoint and both originals"
else
	bad "(g) the old state is not whole in '$aside': $(find "$state".old-* 2>&1)"
fi
start_daemon "$CUSTODYD" "$dir"
ok "(g) after the start-over step custodyd started"
stop_daemon
dump_log "$dir"
[ "$(grep -c '"type":"ingest"' "$dir/entries.jsonl")" = 0 ] && ok "(g) the new log is new" ||
	bad "(g) the new log holds ingest entries"

# (e) A really empty state beside them: it starts and creates its log.
write_conf "$tmp/e" "$tmp/e/state/store" "$tmp/e/zone"
start_daemon "$CUSTODYD" "$tmp/e"
stop_daemon
[ -f "$tmp/e/state/log/data.mdb" ] && [ "$(sed -n 2p "$tmp/e/state/checkpoint")" = 0 ] &&
	ok "(e) an empty state: custodyd started, created its log and published size 0" ||
	bad "(e) an empty state: $(find "$tmp/e/state")"

# (h) While it runs, the published checkpoint is never replaced by a smaller tree: one that
# claims more than the log holds (put there behind the daemon's back) stays, with an ALERT.
printf 'fault.test/log\n999999\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n' >"$tmp/big.checkpoint"
start_daemon "$CUSTODYD" "$tmp/e" JOURNAL_STREAM=0:0
cp "$tmp/big.checkpoint" "$tmp/e/state/checkpoint"
clip "$tmp/e/zone/h.mp4" 1 990
for _ in $(seq 1 100); do
	grep -q 'has size 999999, larger than the log' "$tmp/e/daemon.log" && break
	sleep 0.1
done
cmp -s "$tmp/big.checkpoint" "$tmp/e/state/checkpoint" &&
	grep -q '^<1>.*published checkpoint .* has size 999999, larger than the log' "$tmp/e/daemon.log" &&
	ok "(h) a published checkpoint larger than the log is not overwritten, with an ALERT" ||
	bad "(h) the larger published checkpoint was overwritten, or no ALERT: $(tail -3 "$tmp/e/daemon.log")"
kill -9 "$daemon"
wait "$daemon" 2>/dev/null || true
daemon=

finish
