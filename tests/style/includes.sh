#!/bin/sh
# Includes name their folder from the root ("verify/tlog.h"), so a reader knows where a header
# lives, and the libraries depend one way: base/ includes nothing of ours, the libraries
# (conf, ingest, rules, verify) never include a program's header (daemon/, probe/, ctl/).
set -u
top=${1:?usage: includes.sh SOURCE_ROOT}
cd "$top" || exit 2
fails=0
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
files=$(find . -name '*.[ch]' -not -path './build*' | sed 's|^\./||' | sort)
for f in $files; do
	grep -n '^#include "' "$f" | while IFS= read -r line; do
		inc=${line#*\"}
		inc=${inc%%\"*}
		case $inc in
		*/*) ;;
		*) echo "$f:${line%%:*}: \"$inc\" does not name its folder" ;;
		esac
		[ -f "$inc" ] || echo "$f:${line%%:*}: \"$inc\" is not a file of the tree"
		case $f in
		base/*) case $inc in base/*) ;; *) echo "$f: base/ includes $inc" ;; esac ;;
		verify/*/*) ;;
		conf/* | ingest/* | rules/* | verify/*)
			case $inc in
			daemon/* | probe/* | ctl/* | verify/custody-*)
				echo "$f: a library includes a program's $inc" ;;
			esac ;;
		esac
	done
done >"${TMPDIR:-/tmp}/custody-includes.$$"
if [ -s "${TMPDIR:-/tmp}/custody-includes.$$" ]; then
	while IFS= read -r l; do bad "$l"; done <"${TMPDIR:-/tmp}/custody-includes.$$"
fi
rm -f "${TMPDIR:-/tmp}/custody-includes.$$"
[ $fails -eq 0 ] || exit 1
echo "ok: $(echo "$files" | wc -l) files name their includes' folders; libraries include no program"
