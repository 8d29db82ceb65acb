#!/bin/bash
# custody-witness over HTTP (docs/witness.md), driven by a client written in Go from the C2SP
# tlog-witness and tlog-cosignature specifications (tests/integration/go/witness.go), which
# also verifies every cosignature with x/mod's note.Open and its own cosignature/v1 verifier.
#
# A real log (custody-log init/append/checkpoint/consistency) at sizes 3, 7 and 10; a fork of
# it (a second database, same key and origin, other entries from index 5); another log the
# witness does not know.  The witness, started on a free port, must: cosign size 3 from old 0;
# answer a stale old size with 409, text/x.tlog.size and the size it has; refuse a flipped
# proof bit (422) and a flipped signature bit (403); cosign 3 -> 7 with custody-log's proof;
# refuse the fork at the same size (409, an ALERT, the fork's checkpoint kept) and grown with
# the fork's own proof (422); answer 404 for the unknown origin; survive oversized, garbage,
# wrong-method and slow requests and still cosign 7 -> 10, a cosignature that Go, reading the
# witness's key file, reproduces byte for byte; stop on SIGTERM with status 0, and, restarted,
# know it cosigned 10; serve HTTPS with tls_cert and tls_key (openssl makes the certificate).
#
# meson passes CUSTODY_LOG and CUSTODY_WITNESS.  Go builds offline, as in go-interop.sh.
set -eu

: "${CUSTODY_LOG:?CUSTODY_LOG must name the custody-log program (meson test sets it)}"
: "${CUSTODY_WITNESS:?CUSTODY_WITNESS must name the custody-witness program (meson test sets it)}"

. "$(dirname "$0")/../lib.sh"
die() {
	bad "$*"
	finish
}

go_interop

# ---- the logs ----------------------------------------------------------------------------
origin=test.custody/log
"$CUSTODY_LOG" keygen "$origin" --out "$tmp/log.key" >"$tmp/log.pub"
"$CUSTODY_LOG" keygen other.custody/log --out "$tmp/other.key" >"$tmp/other.pub"
L() { "$CUSTODY_LOG" --db "$tmp/$1" "${@:2}"; }
L a init --origin "$origin" --key "$tmp/log.key" >/dev/null
L b init --origin "$origin" --key "$tmp/log.key" >/dev/null
L c init --origin other.custody/log --key "$tmp/other.key" >/dev/null
for i in $(seq 0 9); do
	printf '{"i":%d,"log":"a","type":"interop","v":1}\n' "$i" | L a append >/dev/null
	if [ "$i" -lt 5 ]; then src=a; else src=b; fi
	printf '{"i":%d,"log":"%s","type":"interop","v":1}\n' "$i" "$src" | L b append >/dev/null
	case $((i + 1)) in 3 | 7 | 10)
		L a checkpoint >"$tmp/a$((i + 1))"
		L b checkpoint >"$tmp/b$((i + 1))"
		;;
	esac
done
echo '{"i":0,"type":"interop","v":1}' | L c append >/dev/null
L c checkpoint >"$tmp/c1"
L a consistency 3 7 >"$tmp/a3-7"
L a consistency 7 10 >"$tmp/a7-10"
L b consistency 7 10 >"$tmp/b7-10"
cmp -s "$tmp/a3" "$tmp/b3" || die "the fork should share size 3 with the log"
cmp -s "$tmp/a7" "$tmp/b7" && die "the fork should differ from the log at size 7"
ok "a log at sizes 3, 7, 10, its fork from entry 5 with the same key, and another log"

# ---- the witness -------------------------------------------------------------------------
"$CUSTODY_WITNESS" keygen witness.example/w1 --out "$tmp/w.key" >"$tmp/w.pub" ||
	die "custody-witness keygen failed"
[ "$(stat -c %a "$tmp/w.key")" = 600 ] || bad "the witness key is not mode 0600"
grep -q '^witness.example/w1+[0-9a-f]\{8\}+B' "$tmp/w.pub" ||
	bad "keygen printed no cosignature/v1 verifier key: $(cat "$tmp/w.pub")"
if "$CUSTODY_WITNESS" keygen witness.example/w1 --out "$tmp/w.key" >/dev/null 2>&1; then
	bad "keygen overwrote a key file"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -m 0700 "$tmp/state"
cat >"$tmp/witness.conf" <<EOF
[witness]
listen = 127.0.0.1:$port
prefix = /w
key = $tmp/w.key
state = $tmp/state

[log office]
origin = $origin
key = $(cat "$tmp/log.pub")
EOF
"$CUSTODY_WITNESS" --config "$tmp/witness.conf" --check-config >"$tmp/out" 2>&1 ||
	die "--check-config refuses a valid configuration: $(cat "$tmp/out")"
printf 'colour = red\n' >>"$tmp/witness.conf"
if "$CUSTODY_WITNESS" --config "$tmp/witness.conf" --check-config >"$tmp/out" 2>&1; then
	bad "--check-config accepts an unknown key"
fi
grep -q 'line 10' "$tmp/out" || bad "the unknown key's error does not name line 10: $(cat "$tmp/out")"
sed -i '$d' "$tmp/witness.conf"

wpid=
wlog=$tmp/witness.log
wconf=$tmp/witness.conf
start_witness() {
	"$CUSTODY_WITNESS" --config "$wconf" 2>>"$wlog" &
	wpid=$!
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null ||
		die "the witness does not listen on port $port: $(tail -n 5 "$wlog")"
}
stop_witness() {
	kill -TERM "$wpid"
	local code=0
	wait "$wpid" || code=$?
	wpid=
	return $code
}
kill_witness() { [ -z "$wpid" ] || kill -9 "$wpid"; }
at_exit kill_witness
start_witness
ok "custody-witness listens on 127.0.0.1:$port"

url=http://127.0.0.1:$port/w
# add OLD PROOF CHECKPOINT [MODE] EXPECTED...: every EXPECTED line must be in the answer.
add() {
	local old=$1 proof=$2 cp=$3 mode=$4 what=$5
	shift 5
	if ! "$interop" witness-add "$url" "$old" "$proof" "$cp" "$tmp/log.pub" "$tmp/w.pub" $mode \
		>"$tmp/ans" 2>&1; then
		bad "$what: $(tr '\n' ' ' <"$tmp/ans")"
		return
	fi
	for want in "$@"; do
		if ! grep -q "^$want" "$tmp/ans"; then
			bad "$what: no '$want' in: $(tr '\n' ' ' <"$tmp/ans")"
			return
		fi
	done
	ok "$what: $(tr '\n' ' ' <"$tmp/ans")"
}

add 0 - "$tmp/a3" "" "first contact, old 0, size 3" "status 200" "cosigned 3 "
add 0 - "$tmp/a7" "" "old 0 again" "status 409" "size 3" "content-type text/x.tlog.size"
add 3 "$tmp/a3-7" "$tmp/a7" bad-proof "a flipped proof bit" "status 422"
add 3 "$tmp/a3-7" "$tmp/a7" bad-sig "a flipped signature bit" "status 403"
add 3 "$tmp/a3-7" "$tmp/a7" "" "growth 3 -> 7 with custody-log's proof" "status 200" "cosigned 7 "
add 3 "$tmp/a3-7" "$tmp/a7" "" "the same request again (stale old size)" "status 409" "size 7"
add 7 - "$tmp/b7" "" "the fork at size 7 (a split view)" "status 409" "size 7"
grep -q 'SPLIT VIEW' "$wlog" || bad "no SPLIT VIEW alert in the witness's log"
ls "$tmp/state" | grep -q '\.split-7-' || bad "the fork's checkpoint was not kept as evidence"
add 7 "$tmp/b7-10" "$tmp/b10" "" "the fork grown with its own proof" "status 422"
if "$interop" witness-add "$url" 0 - "$tmp/c1" "$tmp/other.pub" "$tmp/w.pub" >"$tmp/ans" 2>&1 &&
	grep -q '^status 404' "$tmp/ans"; then
	ok "an unknown origin: 404"
else
	bad "an unknown origin: $(tr '\n' ' ' <"$tmp/ans")"
fi

# ---- attackers without the log's key ------------------------------------------------------
if "$interop" witness-abuse "$url" >"$tmp/abuse" 2>&1; then
	ok "oversized, garbage, wrong-method, wrong-path and slow requests:"
else
	bad "abusive requests:"
fi
sed 's/^/     /' "$tmp/abuse"
kill -0 "$wpid" 2>/dev/null || die "the witness died: $(tail -n 5 "$wlog")"
add 7 "$tmp/a7-10" "$tmp/a10" "" "still serving: growth 7 -> 10" "status 200" "cosigned 10 "
# Go, reading the witness's key file, makes the same cosignature at the same time: the key file
# and the signed message are the specification's, byte for byte.
t=$(sed -n 's/^cosigned 10 //p' "$tmp/ans")
sed -n 's/^line //p' "$tmp/ans" >"$tmp/wline"
"$interop" cosign "$tmp/w.key" "$tmp/a10" "$t" "$tmp/a10.go"
if [ -s "$tmp/wline" ] && [ "$(tail -n 1 "$tmp/a10.go")" = "$(cat "$tmp/wline")" ]; then
	ok "Go's cosignature with the witness's key file is the witness's, byte for byte"
else
	bad "Go's cosignature differs: $(tail -n 1 "$tmp/a10.go") vs $(cat "$tmp/wline")"
fi
"$interop" cosig-open "$tmp/log.pub" "$tmp/w.pub" "$tmp/a10.go" >"$tmp/out" 2>&1 &&
	grep -q "^cosigned 10 $t\$" "$tmp/out" ||
	bad "Go does not open its own cosigned checkpoint: $(cat "$tmp/out")"

# ---- restart -------------------------------------------------------------------------------
if stop_witness; then ok "SIGTERM: the witness exits 0"; else bad "SIGTERM: exit status $?"; fi
state=$tmp/state/$(printf '%s' "$origin" | sha256sum | cut -c1-64).checkpoint
cmp -s "$state" "$tmp/a10" || bad "the state file is not the checkpoint of size 10"
start_witness
add 0 - "$tmp/a10" "" "restarted: the state is kept" "status 409" "size 10"
add 10 - "$tmp/a10" "" "restarted: size 10 again" "status 200" "cosigned 10 "
stop_witness || bad "the second SIGTERM: exit status $?"

# ---- TLS ------------------------------------------------------------------------------------
if ! command -v openssl >/dev/null 2>&1; then
	bad "openssl is not installed (apt-get install openssl): TLS not tested"
else
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$tmp/tls.key" -out "$tmp/tls.crt" >/dev/null 2>&1 ||
		die "openssl could not make a certificate"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	sed -e "s/^listen = .*/listen = 127.0.0.1:$port/" -e "/^state = /a tls_cert = $tmp/tls.crt\ntls_key = $tmp/tls.key" \
		"$tmp/witness.conf" >"$tmp/tls.conf"
	wconf=$tmp/tls.conf
	start_witness
	url=https://127.0.0.1:$port/w
	WITNESS_CA=$tmp/tls.crt add 10 - "$tmp/a10" "" "over TLS (tls_cert, tls_key)" "status 200" "cosigned 10 "
	if "$interop" witness-add "http://127.0.0.1:$port/w" 10 - "$tmp/a10" "$tmp/log.pub" \
		"$tmp/w.pub" >/dev/null 2>&1; then
		bad "the TLS witness answered plain HTTP"
	fi
	stop_witness || bad "SIGTERM of the TLS witness: exit status $?"
fi
if grep -E 'libmicrohttpd:' "$wlog" | grep -v -E 'timed out|closed|reset|too large|Too large' |
	grep -q .; then
	echo "     libmicrohttpd said:"
	grep 'libmicrohttpd:' "$wlog" | sed 's/^/     /' | head -n 10
fi
finish
