#!/bin/bash
# custody-log and custody-verify end to end: every command line, each error path
# with its own message and exit code, and tampering with every byte of a proof file.
set -eu
: "${CUSTODY_LOG:?}" "${CUSTODY_VERIFY:?}"
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
holder=
kill_holder() { [ -z "$holder" ] || kill "$holder"; }
at_exit kill_holder
cd "$tmp"

# expect CODE PATTERN CMD...: run CMD, want exit CODE and PATTERN (grep -E) on stderr.
expect() {
	local code=$1 pattern=$2 got
	shift 2
	set +e
	"$@" >out 2>err
	got=$?
	set -e
	if [ $got -ne "$code" ]; then
		bad "$* exited $got, wanted $code: $(cat err)"
	elif [ -n "$pattern" ] && ! grep -qE "$pattern" err; then
		bad "$* said '$(cat err)', wanted /$pattern/"
	else
		ok "$* -> $code ${pattern:+($(head -c 120 err))}"
	fi
}

L() { "$CUSTODY_LOG" --db "$tmp/db" "$@"; }

expect 0 "" "$CUSTODY_LOG" --help
expect 0 "" "$CUSTODY_VERIFY" --help
expect 2 "unknown command" "$CUSTODY_LOG" frobnicate

# keygen
vkey=$("$CUSTODY_LOG" keygen office.test/custody --out log.key)
[ "$(stat -c %a log.key)" = 600 ] && ok "keygen writes mode 0600" ||
	bad "key mode $(stat -c %a log.key)"
[[ $vkey == office.test/custody+*+* ]] && ok "keygen prints the verifier key" || bad "vkey '$vkey'"
expect 2 "never overwritten" "$CUSTODY_LOG" keygen office.test/custody --out log.key
expect 2 "name" "$CUSTODY_LOG" keygen "bad name" --out other.key

# init and the key file's mode and owner
cp log.key loose.key && chmod 644 loose.key
expect 2 "0600" L init --origin office.test/custody --key loose.key
expect 2 "no log database" "$CUSTODY_LOG" --db "$tmp/missing" show 0
expect 0 "" L init --origin office.test/custody --key log.key
expect 2 "already holds a log" L init --origin office.test/custody --key log.key
"$CUSTODY_LOG" keygen other.test/log --out other.key >/dev/null
expect 2 "must be equal" \
	"$CUSTODY_LOG" --db "$tmp/db2" init --origin office.test/custody --key other.key

# bad entries: each rejected with its own message, nothing appended
bad_entry() {
	local pattern=$1
	shift
	printf '%s' "$1" >entry.json
	expect 2 "$pattern" sh -c "'$CUSTODY_LOG' --db '$tmp/db' append <entry.json"
}
bad_entry "object" '[1,2]'
bad_entry "float" '{"v":1,"type":"x","n":1.5}'
bad_entry "uplicate" '{"v":1,"type":"x","type":"y"}'
bad_entry "\"v\"|'v'" '{"type":"x"}'
bad_entry "\"type\"|'type'" '{"v":1}'
bad_entry "UTF-8" "$(printf '{"v":1,"type":"\xff"}')"
bad_entry "JSON|json|expected|unexpected" '{"v":1,'
python3 -c 'print("{\"v\":1,\"type\":\"x\",\"big\":\"" + "a" * (1 << 20) + "\"}")' >big.json
expect 2 "limit|large|MiB|bytes" sh -c "'$CUSTODY_LOG' --db '$tmp/db' append <big.json"
# Every entry is at most 65,535 bytes (a tile bundle's uint16 length): 70 KB is refused clearly,
# whatever the input limit.
python3 -c 'print("{\"v\":1,\"type\":\"x\",\"big\":\"" + "a" * 70000 + "\"}")' >big.json
expect 2 "entry too large.*65535" sh -c "'$CUSTODY_LOG' --db '$tmp/db' append <big.json"

# good entries, canonicalised
for i in $(seq 0 9); do
	idx=$(printf '{ "v": 1, "type": "test", "i": %d, "sha256": "%s" }' $i \
		"$(printf 'clip %d' $i | sha256sum | cut -d' ' -f1)" | L append)
	[ "$idx" = "$i" ] || bad "append $i printed index '$idx'"
done
ok "10 entries appended with dense indexes"
sha3=$(printf 'clip 3' | sha256sum | cut -d' ' -f1)
[ "$(L show 3)" = "{\"i\":3,\"sha256\":\"$sha3\",\"type\":\"test\",\"v\":1}" ] \
	&& ok "show prints the canonical entry" || bad "show 3: $(L show 3)"
expect 1 "no entry 10" L show 10
expect 2 "not an entry index" L show 1x
expect 2 "unknown option '--frob'" L show 1 --frob
expect 2 "needs a value" L proof 1 --size

# checkpoints and proofs
expect 1 "no checkpoint|not covered" L proof 0
L checkpoint >cp10
expect 0 "" "$CUSTODY_VERIFY" checkpoint cp10 --key "$vkey"
grep -q "^size 10$" out && ok "checkpoint size 10" || bad "checkpoint: $(cat out)"
echo "$vkey" >log.pub
expect 0 "" "$CUSTODY_VERIFY" checkpoint cp10 --key log.pub
for i in 11 12 13 14 15; do printf '{"v":1,"type":"test","i":%d}' $i | L append >/dev/null; done
L checkpoint >cp15
L proof 4 >p4.tlog-proof
L proof 4 --size 10 >p4-10.tlog-proof
expect 0 "" "$CUSTODY_VERIFY" proof p4.tlog-proof --key "$vkey"
expect 0 "" "$CUSTODY_VERIFY" proof p4-10.tlog-proof --key "$vkey"
expect 1 "no checkpoint was signed at size 12" L proof 4 --size 12
expect 1 "not covered" L proof 12 --size 10
"$CUSTODY_VERIFY" proof p4.tlog-proof --key "$vkey" --json >j
[ "$(jget j .verified)" = true ] && [ "$(jget j .index)" = 4 ] && [ "$(jget j .size)" = 15 ] &&
	[ "$(jget j .entry.i)" = 4 ] \
	&& ok "--json proof result" || bad "--json: $(cat j)"

# --media: byte-identical or not
printf 'clip 4' >clip4 && printf 'clip 5' >clip5
expect 0 "" "$CUSTODY_VERIFY" proof p4.tlog-proof --key "$vkey" --media clip4
expect 1 "media.*neither byte-identical" \
	"$CUSTODY_VERIFY" proof p4.tlog-proof --key "$vkey" --media clip5
expect 2 "cannot read" \
	"$CUSTODY_VERIFY" proof p4.tlog-proof --key "$vkey" --media nonexistent

# --media with a real clip: its entry is the fingerprint; a remux has the same packets.
ffmpeg -v error -f lavfi -i testsrc=size=160x120:rate=10 -f lavfi -i sine=frequency=440 \
	-t 1 -c:v mpeg4 -c:a aac -shortest real.mp4
ffmpeg -v error -i real.mp4 -c copy real.mkv
ffmpeg -v error -f lavfi -i testsrc=size=160x120:rate=10 -t 1 -c:v mpeg4 other.mp4
"$CUSTODY_VERIFY" fingerprint real.mp4 --json >real.json
ridx=$(L append <real.json)
L checkpoint >/dev/null
L proof "$ridx" >real.tlog-proof
expect 0 "" "$CUSTODY_VERIFY" proof real.tlog-proof --key "$vkey" --media real.mp4
grep -q "byte-identical" out && ok "--media exact" || bad "--media exact: $(cat out)"
expect 0 "" "$CUSTODY_VERIFY" proof real.tlog-proof --key "$vkey" --media real.mkv
grep -q "remux" out && ok "--media remux" || bad "--media remux: $(cat out)"
expect 1 "not verified \(media\).*neither byte-identical" \
	"$CUSTODY_VERIFY" proof real.tlog-proof --key "$vkey" --media other.mp4

# consistency
L consistency 10 15 >c.json
expect 0 "" "$CUSTODY_VERIFY" consistency c.json --key "$vkey"
expect 1 "no checkpoint was signed at size 11" L consistency 11 15
sed 's/"consistency":\["./"consistency":["A/' c.json >c-bad.json
cmp -s c.json c-bad.json && sed 's/"consistency":\["./"consistency":["B/' c.json >c-bad.json
expect 1 "not verified \((consistency|format)\)" \
	"$CUSTODY_VERIFY" consistency c-bad.json --key "$vkey"

# wrong key, bad key, bad and missing proof files
other_vkey=$("$CUSTODY_LOG" keygen office.test/custody --out third.key)
expect 1 "not verified \(signature\)" \
	"$CUSTODY_VERIFY" proof p4.tlog-proof --key "$other_vkey"
expect 2 "key is unusable" "$CUSTODY_VERIFY" proof p4.tlog-proof --key "not-a-key"
echo garbage >garbage.tlog-proof
expect 1 "not verified \(format\)" "$CUSTODY_VERIFY" proof garbage.tlog-proof --key "$vkey"
expect 2 "cannot read" "$CUSTODY_VERIFY" proof missing.tlog-proof --key "$vkey"
expect 1 "not verified \(format\)" "$CUSTODY_VERIFY" consistency garbage.tlog-proof --key "$vkey"

# Tampering with named parts, then every byte of the file.
tamper() { # tamper WHAT PATTERN: tamper-proof.py WHAT, and custody-verify names PATTERN
	python3 "$here/tamper-proof.py" "$1" p4.tlog-proof t.tlog-proof
	expect 1 "$2" "$CUSTODY_VERIFY" proof t.tlog-proof --key "$vkey"
}
# The entry: change the logged JSON and re-encode it, so the file stays well-formed.
tamper entry "not verified \(inclusion\)"
tamper hash "not verified \(inclusion\)"
tamper index "not verified \(inclusion\)"
tamper root "not verified \(signature\)"
tamper signature "not verified \(signature\)"
tamper origin "not verified \((signature|origin)\)"

size=$(stat -c %s p4.tlog-proof)
flipped=0
mkdir flips
python3 "$here/tamper-proof.py" flip p4.tlog-proof flips
for pos in $(seq 0 $((size - 1))); do
	set +e
	"$CUSTODY_VERIFY" proof "flips/$pos.tlog-proof" --key "$vkey" >/dev/null 2>err
	code=$?
	set -e
	if [ $code -ne 1 ] || ! grep -qE "not verified \((format|signature|origin|inclusion)\)" err; then
		bad "flipping byte $pos gave exit $code: $(cat err)"
	fi
	flipped=$((flipped + 1))
done
ok "each of $flipped single-bit flips of the proof file: exit 1, part named"

# The writer lock names its holder; readers are not blocked.
python3 "$here/hold-lock.py" "$tmp/db" >lockout &
holder=$!
while ! grep -q locked lockout 2>/dev/null; do sleep 0.05; done
printf '{"v":1,"type":"x"}' >e.json
expect 2 "held for writing by process $holder \(python3\)" \
	sh -c "'$CUSTODY_LOG' --db '$tmp/db' append <e.json"
expect 2 "held for writing by process $holder" L checkpoint
expect 0 "" L show 0
kill $holder
wait $holder 2>/dev/null || true
holder=
expect 0 "" sh -c "'$CUSTODY_LOG' --db '$tmp/db' append <e.json"

finish
