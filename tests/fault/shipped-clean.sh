#!/bin/bash
# The fault-injection switch is compiled only into the test daemon: the shipped custodyd holds
# neither the variable's name nor the points', custodyd-fault holds both.
set -eu
: "${CUSTODYD:?}" "${CUSTODYD_FAULT:?}"
n=$(strings "$CUSTODYD" | grep -c -e CUSTODY_FAULT -e store-before-fsync \
	-e stored-before-commit -e committed-before-removal || true)
[ "$n" = 0 ] || { echo "FAIL: the shipped custodyd holds $n fault-injection strings" >&2; exit 1; }
echo "ok: the shipped custodyd holds no fault code"
n=$(strings "$CUSTODYD_FAULT" | grep -c -e CUSTODY_FAULT -e store-before-fsync \
	-e stored-before-commit -e committed-before-removal || true)
[ "$n" -ge 4 ] || { echo "FAIL: custodyd-fault holds only $n fault-injection strings" >&2; exit 1; }
echo "ok: custodyd-fault has its injection points"
