#!/bin/sh
# The Chinese catalogue speaks for every program whole (docs/i18n.md): every string marked for
# translation in the sources po/POTFILES lists is in po/zh_CN.po, translated and not fuzzy, and msgfmt
# --check accepts the catalogue.  The strings are extracted here from the sources themselves
# (the keywords of po/meson.build), so a string marked and never merged into the catalogue
# fails too, not only one left empty.  Run from meson with the source root as $1.
set -u
top=${1:?usage: po.sh SOURCE_ROOT}
cd "$top" || exit 2
for t in xgettext msgmerge msgattrib msgfmt; do
	command -v $t >/dev/null || { echo "SKIP: no $t (scripts/deps: gettext)"; exit 77; }
done
# Every source po/POTFILES names, and a few that must be among them.
sources=$(grep -v '^#' po/POTFILES)
must="base/i18n.c ctl/custodyctl.c ctl/review.c ctl/show.c ctl/check.c ctl/timeline.c"
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
fails=0
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

for f in $must; do
	grep -qx "$f" po/POTFILES || bad "$f is not in po/POTFILES"
done
msgfmt --check -o /dev/null po/zh_CN.po || bad "msgfmt --check rejects po/zh_CN.po"
# shellcheck disable=SC2086
xgettext --language=C --keyword=_ --keyword=N_ --keyword=NG_:1,2 --from-code=UTF-8 \
	--add-comments=Translators: -o "$tmp/custodyctl.pot" $sources || exit 2
# Exact msgids only: a string reworded since it was translated must be translated again.
msgmerge --quiet --no-fuzzy-matching -o "$tmp/zh_CN.po" po/zh_CN.po "$tmp/custodyctl.pot" || exit 2
msgattrib --untranslated --no-obsolete "$tmp/zh_CN.po" | grep -v '^"' | grep '^msgid "..*"$\|^msgid ""$' |
	grep -v '^msgid ""$' >"$tmp/untranslated"
msgattrib --only-fuzzy --no-obsolete "$tmp/zh_CN.po" | grep '^msgid "..*"$' >"$tmp/fuzzy"
stats=$(msgfmt --check --statistics -o /dev/null "$tmp/zh_CN.po" 2>&1) || bad "msgfmt --check: $stats"
case $stats in
*fuzzy* | *untranslated*)
	bad "po/zh_CN.po: $stats"
	sed 's/^/  untranslated: /' "$tmp/untranslated" >&2
	sed 's/^/  fuzzy: /' "$tmp/fuzzy" >&2
	;;
esac
[ $fails -eq 0 ] || exit 1
echo "ok: po/zh_CN.po translates every string of po/POTFILES' sources: $stats"
