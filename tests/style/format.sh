#!/bin/sh
# Every .c and .h file as clang-format (the checked-in .clang-format) would write it, so that a
# reader sees one style and a change's diff shows only what it changes.  Run from meson with the
# source root as $1; without git (a tarball), every .c and .h under the tree is checked.
set -u
top=${1:?usage: format.sh SOURCE_ROOT}
cd "$top" || exit 2
command -v clang-format >/dev/null || { echo "SKIP: no clang-format (scripts/deps test)"; exit 77; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	files=$(git ls-files '*.c' '*.h')
else
	files=$(find . -name '*.[ch]' -not -path './build*' | sort)
fi
# shellcheck disable=SC2086
if ! clang-format --dry-run --Werror $files; then
	echo "FAIL: the files above differ from .clang-format; clang-format -i them" >&2
	exit 1
fi
echo "ok: $(echo "$files" | wc -l) files as .clang-format writes them"
