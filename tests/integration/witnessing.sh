#!/bin/bash
# custodyd with witnesses and a published folder (docs/witness.md, docs/publication.md),
# checked by code custody's authors did not write where it can be: Go's x/mod reads the
# published tiles and opens the cosigned checkpoint.
#
# Two good witnesses with a quorum of 2: custody-witness itself and a witness written in Go
# (tests/integration/go/fakewitness.go), and five that misbehave: one that is down, one that
# answers after 60 s, one that answers garbage, one that answers 409 after 409, one that
# cosigns with another key.  Clips dropped into a zone must be logged at once whatever the bad
# ones do; each bad one shows its own error in status; the checkpoint served and published
# carries both good cosignatures.  Then:
#   - Go reads the published tiles (x/mod TileHashReader) and accepts the checkpoint against
#     the log key and each witness's cosignature/v1 key;
#   - custody-verify proof … --witness W1 --witness W2 accepts custodyctl's proof, and refuses
#     it, naming the witness, once a cosignature line is taken out; --quorum 1 accepts that;
#   - custody-verify monitor passes twice as the log grows (--state), and reports a split view
#     when shown a folder published from a fork signed with the same key;
#   - a restart serves what was witnessed before; with one good witness stopped, ingest goes
#     on, the served checkpoint stays, an ALERT comes after witness_timeout (1 min), and the
#     witness's return brings the quorum back;
#   - with the log, the state and the store moved away, the published folder's checkpoint alone
#     keeps custodyd from starting a new log.
#
# meson passes CUSTODYD, CUSTODYCTL, CUSTODY_LOG, CUSTODY_VERIFY and CUSTODY_WITNESS.
set -eu

: "${CUSTODYD:?}" "${CUSTODYCTL:?}" "${CUSTODY_LOG:?}" "${CUSTODY_VERIFY:?}"
: "${CUSTODY_WITNESS:?CUSTODY_WITNESS must name the custody-witness program (meson test sets it)}"

. "$(dirname "$0")/../lib.sh"
die() {
	bad "$*"
	finish
}
need ffmpeg

go_interop
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
V() { "$CUSTODY_VERIFY" "$@"; }
W() { jget "$tmp/status" "$@"; }
status() { C status --json >"$tmp/status"; }

make_keys
# ---- the witnesses ------------------------------------------------------------------------
pids=()
at_exit_kill() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
at_exit at_exit_kill
declare -A port
for w in w1 w2 down slow garbage conflict wrongkey; do
	"$CUSTODY_WITNESS" keygen "$w.witness.example" --out "$tmp/$w.key" >"$tmp/$w.pub"
	port[$w]=$(free_port)
done

mkdir -m 0700 "$tmp/w1state"
cat >"$tmp/w1.conf" <<EOF
[witness]
listen = 127.0.0.1:${port[w1]}
prefix = /w1
key = $tmp/w1.key
state = $tmp/w1state

[log office]
origin = $log_origin
key = $(cat "$tmp/log.pub")
EOF
start_w1() {
	"$CUSTODY_WITNESS" --config "$tmp/w1.conf" 2>>"$tmp/w1.log" &
	w1pid=$!
	pids+=("$w1pid")
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/${port[w1]}" 2>/dev/null ||
		die "custody-witness does not listen: $(tail -n 5 "$tmp/w1.log")"
}
start_w1
for mode in good slow garbage conflict wrongkey; do
	w=$mode
	[ "$mode" = good ] && w=w2
	"$interop" witness-serve "127.0.0.1:${port[$w]}" "$tmp/$w.key" "$tmp/log.pub" "$mode" \
		>"$tmp/$w.log" 2>&1 &
	pids+=($!)
done
for w in w2 slow garbage conflict wrongkey; do
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/${port[$w]}" 2>/dev/null ||
		die "the Go witness '$w' does not listen: $(cat "$tmp/$w.log")"
done
ok "witnesses: custody-witness (w1), Go (w2), and down, slow, garbage, conflict, wrongkey"

# ---- the daemon ---------------------------------------------------------------------------
mkdir -p "$tmp/dock"
{
	cat <<EOF
[store]
path = $tmp/store

[zone dock]
path = $tmp/dock
settle = 0

[socket]
path = $sock

[publish]
path = $tmp/public

EOF
	for w in w1 w2 down slow garbage conflict wrongkey; do
		url=http://127.0.0.1:${port[$w]}
		[ "$w" = w1 ] && url=$url/w1
		printf '[witness %s]\nurl = %s\nkey = %s\n\n' "$w" "$url" "$(cat "$tmp/$w.pub")"
	done
} | daemon_conf
sed -i 's/^checkpoint_interval = 1s$/checkpoint_interval = 1s\nwitness_quorum = 2\nwitness_timeout = 1m/' "$conf"
"$CUSTODYD" --check-config --config "$conf" >"$tmp/out" 2>&1 ||
	die "--check-config refuses the configuration: $(cat "$tmp/out")"
# A witness key that is a log's key, not a cosignature key, is refused at the config's line.
python3 -c 'import sys; t = open(sys.argv[1]).read(); print(t.replace("key = " + sys.argv[2], "key = " + sys.argv[3]), end="")' \
	"$conf" "$(cat "$tmp/w2.pub")" "$(cat "$tmp/log.pub")" >"$tmp/bad.conf"
if "$CUSTODYD" --check-config --config "$tmp/bad.conf" >"$tmp/out" 2>&1; then
	bad "--check-config accepts a note key as a witness's key"
else
	grep -q 'witness w2\] key is a note signing key' "$tmp/out" ||
		bad "the wrong witness key's error: $(cat "$tmp/out")"
fi
daemon_start

clip "$tmp/c1.mp4" 2 440
clip "$tmp/c2.mp4" 2 550
clip "$tmp/c3.mp4" 2 660
t0=$(date +%s)
cp "$tmp/c1.mp4" "$tmp/c2.mp4" "$tmp/c3.mp4" "$tmp/dock/"
wait_gone 30 "$tmp/dock" || die "the clips were not ingested: $(tail -5 "$dlog")"
took=$(($(date +%s) - t0))
size=$(log_size)
[ "$took" -le 20 ] && ok "3 clips logged in $took s while five witnesses misbehave" ||
	bad "3 clips took $took s to be logged"

# The served checkpoint reaches the log's size with both good cosignatures.
served_at_least() {
	status
	local s
	s=$(W .witnessing.served)
	[ "$s" != null ] && [ "$s" -ge "$1" ]
}
wait_for 30 served_at_least "$size" ||
	die "no checkpoint of size >= $size was witnessed: $(C status | grep -i witness)"
served=$(W .witnessing.served)
ok "served and published: size $served, cosigned by w1 and w2"
for i in $(seq 0 6); do
	name=$(W ".witnessing.witnesses[$i].name")
	err=$(W ".witnessing.witnesses[$i].last_error")
	case $name in
	w1 | w2)
		[ "$(W ".witnessing.witnesses[$i].cosigned_size")" -ge "$size" ] ||
			bad "$name has not cosigned size $size: $(W ".witnessing.witnesses[$i]")"
		;;
	down) case $err in *"cannot reach"*) ok "down: $err" ;; *) bad "down: '$err'" ;; esac ;;
	garbage) case $err in *"no cosignature by its key"*) ok "garbage: $err" ;;
		*) bad "garbage: '$err'" ;; esac ;;
	conflict) case $err in *409*) ok "conflict: $err" ;; *) bad "conflict: '$err'" ;; esac ;;
	wrongkey) case $err in *"no cosignature by its key"*) ok "wrongkey: $err" ;;
		*) bad "wrongkey: '$err'" ;; esac ;;
	slow) [ "$(W ".witnessing.witnesses[$i].cosigned_size")" = null ] ||
		bad "the slow witness cosigned already" ;;
	esac
done
C status >"$tmp/status.txt"
grep -q "^witness 'garbage': no cosignature yet; last error" "$tmp/status.txt" ||
	bad "status text does not show the garbage witness's error: $(grep witness "$tmp/status.txt")"
grep -q "^published in '$tmp/public': size $served" "$tmp/status.txt" ||
	bad "status text does not show the publication: $(grep publish "$tmp/status.txt")"

# ---- independent checks of what is published ---------------------------------------------
wait_for 10 grep -q "^$served\$" "$tmp/public/checkpoint" ||
	die "the published checkpoint is not of size $served: $(cat "$tmp/public/checkpoint")"
"$interop" tiles "$tmp/log.pub" "$tmp/public" >"$tmp/go.out" 2>&1 &&
	ok "Go's TileHashReader reads the published tiles: $(tail -1 "$tmp/go.out")" ||
	bad "Go refuses the published tiles: $(cat "$tmp/go.out")"
for w in w1 w2; do
	"$interop" cosig-open "$tmp/log.pub" "$tmp/$w.pub" "$tmp/public/checkpoint" >"$tmp/go.out" 2>&1 &&
		ok "Go opens the published checkpoint with the log's and $w's keys: $(cat "$tmp/go.out")" ||
		bad "Go does not find $w's cosignature: $(cat "$tmp/go.out")"
done

C proof 0 --out "$tmp/p0.tlog-proof" >/dev/null
V proof "$tmp/p0.tlog-proof" --key "$tmp/log.pub" --witness "$tmp/w1.pub" \
	--witness "$tmp/w2.pub" >"$tmp/out" 2>&1 &&
	ok "custody-verify accepts the proof with both witnesses: $(grep witnesses "$tmp/out")" ||
	bad "custody-verify refuses the proof: $(cat "$tmp/out")"
grep -v "^— w2.witness.example " "$tmp/p0.tlog-proof" >"$tmp/p0-no-w2.tlog-proof"
if V proof "$tmp/p0-no-w2.tlog-proof" --key "$tmp/log.pub" --witness "$tmp/w1.pub" \
	--witness "$tmp/w2.pub" >"$tmp/out" 2>&1; then
	bad "custody-verify accepts a proof without w2's cosignature"
else
	grep -q 'not verified (witnesses).*missing: w2.witness.example' "$tmp/out" &&
		ok "without w2's line: $(cat "$tmp/out")" || bad "the refusal: $(cat "$tmp/out")"
fi
V proof "$tmp/p0-no-w2.tlog-proof" --key "$tmp/log.pub" --witness "$tmp/w1.pub" \
	--witness "$tmp/w2.pub" --quorum 1 >/dev/null 2>&1 ||
	bad "--quorum 1 refuses a proof that w1 cosigned"
V checkpoint "$tmp/public/checkpoint" --key "$tmp/log.pub" --witness "$tmp/w1.pub" \
	--witness "$tmp/w2.pub" --witness "$tmp/slow.pub" --quorum 2 >/dev/null 2>&1 ||
	bad "custody-verify checkpoint refuses 2 of 3 with --quorum 2"

V monitor "$tmp/public" --key "$tmp/log.pub" --witness "$tmp/w1.pub" --witness "$tmp/w2.pub" \
	--state "$tmp/monitor.state" >"$tmp/out" 2>&1 &&
	ok "monitor: $(head -1 "$tmp/out")" || bad "monitor refuses the publication: $(cat "$tmp/out")"

# ---- a restart serves what was witnessed ------------------------------------------------
daemon_stop || bad "custodyd did not stop cleanly"
daemon_start JOURNAL_STREAM=0:0 # messages with their syslog priority, as journald gets them
status
[ "$(W .witnessing.served)" -ge "$served" ] ||
	bad "after a restart the served size is $(W .witnessing.served), not $served"
# The witnesses follow a restart, not a reload, and a reload says so.
sed -i 's/^witness_timeout = 1m$/witness_timeout = 2m/' "$conf"
kill -HUP "$daemon"
wait_for 10 grep -q 'witness_timeout changed: they take effect at the next start' "$dlog" &&
	ok "a reload that changes the witnesses' settings says they wait for a restart" ||
	bad "no warning when a reload changes witness_timeout"
sed -i 's/^witness_timeout = 2m$/witness_timeout = 1m/' "$conf"
kill -HUP "$daemon"

# ---- one good witness stops: ingest goes on, the served checkpoint waits, then an ALERT ---
kill -TERM "$w1pid"
wait "$w1pid" || true
old_served=$(W .witnessing.served)
clip "$tmp/c4.mp4" 2 770
cp "$tmp/c4.mp4" "$tmp/dock/"
wait_gone 30 "$tmp/dock" || die "with w1 down, the clip was not ingested"
ok "with w1 down, the clip is logged (size $(log_size))"
sleep 3
status
[ "$(W .witnessing.served)" = "$old_served" ] ||
	bad "the served checkpoint moved without w1: $(W .witnessing.served)"
wait_for 90 grep -q 'has waited more than 1 min' "$dlog" &&
	ok "ALERT: $(grep -m1 'has waited more than' "$dlog")" ||
	bad "no ALERT after witness_timeout"
grep -q '^<1>\[witness\] the checkpoint of size .* has waited more than' "$dlog" ||
	bad "the ALERT is not at priority 1: $(grep 'has waited' "$dlog")"
start_w1
size=$(log_size)
wait_for 60 served_at_least "$size" && ok "w1 is back: size $(W .witnessing.served) served" ||
	bad "the quorum did not come back: $(C status | grep -i witness)"

# ---- the monitor follows the growth, and catches a split view -----------------------------
V monitor "$tmp/public" --key "$tmp/log.pub" --state "$tmp/monitor.state" >"$tmp/out" 2>&1 &&
	grep -q 'consistent: it extends the checkpoint of size' "$tmp/out" &&
	ok "monitor, second pass: $(tail -1 "$tmp/out")" || bad "monitor, second pass: $(cat "$tmp/out")"
# A fork: another history under the log's own key, as a root with the key could sign.
"$CUSTODY_LOG" --db "$tmp/fork" init --origin "$log_origin" --key "$tmp/log.key" >/dev/null
for i in $(seq 1 "$((size + 3))"); do
	printf '{"fork":%d,"type":"forged","v":1}\n' "$i" | "$CUSTODY_LOG" --db "$tmp/fork" append >/dev/null
done
"$CUSTODY_LOG" --db "$tmp/fork" checkpoint >/dev/null
"$CUSTODY_LOG" --db "$tmp/fork" publish "$tmp/forkpub" >/dev/null
if V monitor "$tmp/forkpub" --key "$tmp/log.pub" --state "$tmp/monitor.state" >"$tmp/out" 2>&1; then
	bad "monitor accepts a fork of the log"
else
	grep -q 'not verified (consistency): split view' "$tmp/out" &&
		ok "the fork: $(cat "$tmp/out")" || bad "the fork's refusal: $(cat "$tmp/out")"
fi
if V monitor "$tmp/forkpub" --key "$tmp/log.pub" --witness "$tmp/w1.pub" >"$tmp/out" 2>&1; then
	bad "monitor accepts the fork's checkpoint, which no witness cosigned"
else
	grep -q 'not verified (witnesses)' "$tmp/out" || bad "the fork without cosignature: $(cat "$tmp/out")"
fi

daemon_stop || bad "custodyd did not stop cleanly"

# ---- a published folder counts as published: the log gone with the state and the store, the
# folder's checkpoint alone stops custodyd from starting a new log.
mkdir "$tmp/aside"
mv "$tmp/state/log" "$tmp/state/checkpoint" "$tmp/state/witnessed" "$tmp/store" "$tmp/aside/"
if "$CUSTODYD" --config "$conf" >"$tmp/out" 2>&1; then
	bad "custodyd started a new log beside a published folder"
else
	grep -q "is missing, but a published checkpoint of size [0-9]* is in '$tmp/public/checkpoint'" \
		"$tmp/out" && ok "the published folder alone stops a new log: $(grep -m1 'is missing' "$tmp/out")" ||
		bad "the refusal does not name the published folder: $(cat "$tmp/out")"
fi
[ ! -e "$tmp/state/log" ] || bad "a log was created"
finish
