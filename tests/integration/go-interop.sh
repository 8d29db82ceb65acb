#!/bin/bash
# Interoperability with Go's golang.org/x/mod/sumdb/{note,tlog}, an implementation nobody here
# wrote (a checkpoint that Go's note.Open accepts with the verifier key is the bar).
#
# 1. custody -> Go: a log grows in rounds to 300 entries with checkpoints signed at sizes 1, 2,
#    3, 7, 8, 37, 64, 129 and 300.  Go (tests/integration/go) opens every checkpoint with
#    note.Open and checks its root against tlog.TreeHash of the appended entries; parses every
#    tlog-proof file (every index at every signed size) and checks it with tlog.CheckRecord,
#    that its entry is the appended bytes and that it equals tlog.ProveRecord; checks the
#    consistency file of every pair of signed sizes with tlog.CheckTree and against
#    tlog.ProveTree.  custody-verify accepts the same files.  Proofs with one bit of a hash
#    flipped, with a changed entry, and consistency proofs with a hash flipped are rejected by
#    Go and by custody-verify (exit 1).  Go, signing with custody's signer key, makes the same
#    notes.
# 2. Go -> custody: Go makes a key with note.GenerateKey and signs a checkpoint for a tree it
#    built with tlog; custody-verify accepts it and prints its origin, size and root.
#    custody-log takes the Go signer key, logs the same records, and signs a checkpoint that is
#    byte-identical to Go's (same root, and Ed25519 is deterministic).
#
# meson passes CUSTODY_LOG, CUSTODY_VERIFY and TEST_DATA.  Go and x/mod come from Debian
# (golang-go, golang-golang-x-mod-dev); the Go program is built offline (see go/go.mod).
# This test does not skip: without Go it fails, saying what to install.
set -eu

: "${CUSTODY_LOG:?CUSTODY_LOG must name the custody-log program (meson test sets it)}"
: "${CUSTODY_VERIFY:?CUSTODY_VERIFY must name the custody-verify program (meson test sets it)}"

. "$(dirname "$0")/../lib.sh"
die() {
	bad "$*"
	finish
}
# show_diff EXPECTED GOT: what differed, both files in full when they are short
show_diff() { diff -u "$1" "$2" | head -n 40 | sed 's/^/     /' || true; }

# ---- build the Go program, offline -------------------------------------------------------
go_interop
ok "built the Go checker with $(go version | cut -d' ' -f3) and golang.org/x/mod from Debian"

# ---- 1. custody -> Go ----------------------------------------------------------------------
origin=custody.example/go-interop
sizes="1 2 3 7 8 37 64 129 300"
last=300
log=$tmp/log
mkdir "$tmp/cp" "$tmp/proof" "$tmp/cons" "$tmp/bad"

"$CUSTODY_LOG" keygen "$origin" --out "$tmp/log.key" >"$tmp/log.pub" ||
	die "custody-log keygen failed"
"$CUSTODY_LOG" --db "$log" init --origin "$origin" --key "$tmp/log.key" >/dev/null ||
	die "custody-log init failed"
"$interop" records $last "$tmp/records.jsonl"

n=0
while IFS= read -r rec; do
	idx=$(printf '%s\n' "$rec" | "$CUSTODY_LOG" --db "$log" append) ||
		die "custody-log append of entry $n failed: $rec"
	[ "$idx" = "$n" ] || die "custody-log append printed index '$idx', expected $n"
	n=$((n + 1))
	case " $sizes " in
	*" $n "*)
		"$CUSTODY_LOG" --db "$log" checkpoint >"$tmp/cp/$n" ||
			die "custody-log checkpoint at size $n failed"
		;;
	esac
done <"$tmp/records.jsonl"
ok "custody-log appended $n entries, checkpoints signed at sizes: $sizes"

# Every checkpoint: note.Open, origin = key name, root = Go's tlog.TreeHash.
cps=
for s in $sizes; do cps="$cps $tmp/cp/$s"; done
# shellcheck disable=SC2086
"$interop" checkpoints "$tmp/log.pub" "$tmp/records.jsonl" $cps ||
	bad "Go rejected custody's checkpoints (above)"

before=$fails
for s in $sizes; do
	if "$CUSTODY_VERIFY" checkpoint "$tmp/cp/$s" --key "$tmp/log.pub" >"$tmp/out" 2>&1 &&
		grep -qx "size $s" "$tmp/out"; then :; else
		bad "custody-verify checkpoint rejects custody's checkpoint at size $s:"
		sed 's/^/     /' "$tmp/out"
	fi
done
[ $fails -eq "$before" ] &&
	ok "custody-verify checkpoint accepts the checkpoints at every signed size"

# Inclusion proofs: every index at every signed size (the newest without --size).
for s in $sizes; do
	i=0
	while [ $i -lt "$s" ]; do
		if [ "$s" = $last ]; then
			"$CUSTODY_LOG" --db "$log" proof $i >"$tmp/proof/$s.$i"
		else
			"$CUSTODY_LOG" --db "$log" proof $i --size "$s" >"$tmp/proof/$s.$i"
		fi || die "custody-log proof $i --size $s failed"
		i=$((i + 1))
	done
done
"$interop" proofs "$tmp/log.pub" "$tmp/records.jsonl" "$tmp"/proof/* ||
	bad "Go rejected custody's inclusion proofs (above)"

# The proof at the newest size embeds the newest checkpoint, verbatim.
sed '1,/^$/d' "$tmp/proof/$last.0" >"$tmp/embedded"
if cmp -s "$tmp/embedded" "$tmp/cp/$last"; then
	ok "the proof file embeds the newest checkpoint verbatim"
else
	bad "the checkpoint in 'custody-log proof 0' is not the one 'custody-log checkpoint' printed:"
	show_diff "$tmp/cp/$last" "$tmp/embedded"
fi

# Consistency between every pair of signed sizes.
for a in $sizes; do
	for b in $sizes; do
		[ "$a" -lt "$b" ] || continue
		"$CUSTODY_LOG" --db "$log" consistency "$a" "$b" >"$tmp/cons/$a-$b" ||
			die "custody-log consistency $a $b failed"
	done
done
"$interop" consistencies "$tmp/log.pub" "$tmp/records.jsonl" "$tmp"/cons/* ||
	bad "Go rejected custody's consistency proofs (above)"

# custody-verify accepts the same files.
nv=0 before=$fails
for f in "$tmp"/proof/*; do
	if ! "$CUSTODY_VERIFY" proof "$f" --key "$tmp/log.pub" >"$tmp/out" 2>&1; then
		bad "custody-verify proof rejects $(basename "$f") (size.index):"
		sed 's/^/     /' "$tmp/out"
	fi
	nv=$((nv + 1))
done
for f in "$tmp"/cons/*; do
	if ! "$CUSTODY_VERIFY" consistency "$f" --key "$(cat "$tmp/log.pub")" >"$tmp/out" 2>&1; then
		bad "custody-verify consistency rejects $(basename "$f") (old-new):"
		sed 's/^/     /' "$tmp/out"
	fi
	nv=$((nv + 1))
done
[ $fails -eq "$before" ] &&
	ok "custody-verify accepts all $nv proof and consistency files"

# Tampered copies, made by Go: both verifiers must reject them.
"$interop" tamper-proof-hash "$tmp/proof/$last.150" "$tmp/bad/hash-300.150"
"$interop" tamper-proof-hash "$tmp/proof/37.36" "$tmp/bad/hash-37.36"
"$interop" tamper-proof-entry "$tmp/proof/$last.7" "$tmp/bad/entry-300.7"
"$interop" tamper-proof-entry "$tmp/proof/129.0" "$tmp/bad/entry-129.0"
"$interop" tamper-consistency "$tmp/cons/37-300" "$tmp/bad/cons-37-300"
"$interop" tamper-consistency "$tmp/cons/7-8" "$tmp/bad/cons-7-8"
for f in "$tmp"/bad/*; do
	name=$(basename "$f")
	case $name in cons-*) kind=consistency ;; *) kind=proof ;; esac
	if "$interop" verify-$kind "$tmp/log.pub" "$f" >"$tmp/out"; then
		bad "Go accepts the tampered $kind $name"
	else
		ok "Go rejects the tampered $kind $name: $(cat "$tmp/out")"
	fi
	rc=0
	"$CUSTODY_VERIFY" $kind "$f" --key "$tmp/log.pub" >"$tmp/out" 2>&1 || rc=$?
	if [ $rc -eq 1 ]; then
		ok "custody-verify $kind rejects $name (exit 1)"
	else
		bad "custody-verify $kind on the tampered $name: exit $rc, expected 1:"
		sed 's/^/     /' "$tmp/out"
	fi
done

# Go, signing with custody's own signer key, makes exactly custody's note.
for s in 1 $last; do
	if "$interop" resign "$tmp/log.key" "$tmp/log.pub" "$tmp/cp/$s" "$tmp/resigned" &&
		cmp -s "$tmp/cp/$s" "$tmp/resigned"; then
		ok "Go's note.Sign with custody's signer key reproduces the checkpoint at size $s"
	else
		bad "Go's note.Sign with custody's signer key makes another note at size $s:"
		[ -f "$tmp/resigned" ] && show_diff "$tmp/cp/$s" "$tmp/resigned"
	fi
done

# ---- 2. Go -> custody ----------------------------------------------------------------------
gorigin=go.example/interop-$$
gn=45
mkdir "$tmp/go" && "$interop" gen "$gorigin" $gn "$tmp/go" >"$tmp/go/expected"
govkey=$(cat "$tmp/go/verifier.key")

if "$CUSTODY_VERIFY" checkpoint "$tmp/go/checkpoint" --key "$govkey" >"$tmp/out" 2>&1 &&
	cmp -s "$tmp/go/expected" "$tmp/out"; then
	ok "custody-verify accepts Go's checkpoint: $(tr '\n' ' ' <"$tmp/out")"
else
	bad "custody-verify checkpoint on Go's note (expected, then got):"
	show_diff "$tmp/go/expected" "$tmp/out"
fi

sed "2s/^$gn\$/$((gn + 1))/" "$tmp/go/checkpoint" >"$tmp/bad/go-checkpoint"
rc=0
"$CUSTODY_VERIFY" checkpoint "$tmp/bad/go-checkpoint" --key "$govkey" >"$tmp/out" 2>&1 || rc=$?
if [ $rc -eq 1 ]; then
	ok "custody-verify rejects Go's checkpoint with its size changed (exit 1)"
else
	bad "custody-verify checkpoint on Go's note with its size changed: exit $rc, expected 1:"
	sed 's/^/     /' "$tmp/out"
fi

chmod 600 "$tmp/go/signer.key"
if "$CUSTODY_LOG" --db "$tmp/golog" init --origin "$gorigin" --key "$tmp/go/signer.key" \
	>"$tmp/out" 2>&1; then
	ok "custody-log init takes the signer key made by Go's note.GenerateKey"
	if grep -qF "$govkey" "$tmp/out"; then
		ok "custody-log derives Go's verifier key from Go's signer key"
	else
		bad "custody-log init derives another verifier key from Go's signer key: Go's is $govkey:"
		sed 's/^/     /' "$tmp/out"
	fi
else
	sed 's/^/     /' "$tmp/out"
	die "custody-log init rejects the signer key made by Go"
fi

n=0
while IFS= read -r rec; do
	idx=$(printf '%s\n' "$rec" | "$CUSTODY_LOG" --db "$tmp/golog" append) ||
		die "custody-log append of Go's record $n failed: $rec"
	[ "$idx" = "$n" ] || die "custody-log append printed index '$idx', expected $n"
	n=$((n + 1))
done <"$tmp/go/records.jsonl"
"$CUSTODY_LOG" --db "$tmp/golog" checkpoint >"$tmp/go/custody-checkpoint" ||
	die "custody-log checkpoint with Go's key failed"

"$CUSTODY_VERIFY" checkpoint "$tmp/go/custody-checkpoint" --key "$govkey" >"$tmp/out" 2>&1 || true
if cmp -s "$tmp/go/expected" "$tmp/out"; then
	ok "custody's root for Go's $gn records = Go's tlog.TreeHash"
else
	bad "custody's checkpoint for Go's $gn records (Go's tree, then custody's):"
	show_diff "$tmp/go/expected" "$tmp/out"
fi
"$interop" checkpoints "$tmp/go/verifier.key" "$tmp/go/records.jsonl" \
	"$tmp/go/custody-checkpoint" ||
	bad "Go rejects the checkpoint custody signed with Go's key (above)"
if cmp -s "$tmp/go/checkpoint" "$tmp/go/custody-checkpoint"; then
	ok "custody's checkpoint is byte-identical to the one Go signed over its own tree"
else
	bad "custody's checkpoint differs from Go's (Go's, then custody's):"
	show_diff "$tmp/go/checkpoint" "$tmp/go/custody-checkpoint"
fi

finish
