#!/bin/bash
# custodyctl review/history --pdf (docs/pages.md): the record fixtures of tests/data/review/ and
# tests/data/history/ rendered by the test-only driver html-render (ctl/record.c, ctl/pdf.c) in
# English and in Chinese, with times in Asia/Shanghai, and read back with poppler, which shares no
# code with cairo: pdftotext finds the case id (or entry) and "page x of y" on every page, the
# checkpoint root and key ID, the Chinese labels, times with +08:00 and no UTC "Z" time, every
# status word whole; pdffonts finds every font embedded; pdfinfo finds A4 portrait pages.  The
# same fixtures as HTML, printed by headless Chromium when it is installed, must hold the same
# texts (the names, explanations, destinations and purposes of the answer).  The PDFs stay in
# $PDF_OUT (the build folder) for a person to look at.
set -eu
: "${HTML_RENDER:?}" "${TEST_DATA:?}" "${PDF_OUT:?}"
. "$(dirname "$0")/../lib.sh"
need pdftotext pdffonts pdfinfo python3

rm -rf "$PDF_OUT"
mkdir -p "$PDF_OUT"
export HOME="$tmp/home"
mkdir -p "$HOME"

root=q1x1rQKtl+iIg6EQZFx4d1Wg6c2VxW9eVZJgQ2AG1zY=
checked=(--tz Asia/Shanghai --origin office.example/custody --size 350 --root "$root"
	--key-name office.example/custody --key-id 1a2b3c4d --cosignatures 2)

# render LANG NAME JSON [--history]: $PDF_OUT/NAME.pdf, NAME.txt (pdftotext -layout, pages
# split by form feeds) and NAME.raw (in drawing order: a cell's lines stay together).
render() {
	local lang=$1 name=$2 json=$3
	shift 3
	if ! LANG=$lang LC_ALL= "$HTML_RENDER" --pdf "$@" "${checked[@]}" "$json" \
		"$PDF_OUT/$name.pdf" 2>"$tmp/render.err"; then
		bad "$name: html-render failed: $(cat "$tmp/render.err")"
		return 1
	fi
	totext "$name"
}

totext() {
	pdftotext -layout "$PDF_OUT/$1.pdf" "$PDF_OUT/$1.txt"
	pdftotext -raw "$PDF_OUT/$1.pdf" "$PDF_OUT/$1.raw"
}

# pages NAME RUNNING PAGEFMT: every page of NAME.txt holds RUNNING and its own "page x of y"
# (PAGEFMT a printf format of the page and the count), and there are as many as pdfinfo says.
pages() {
	local name=$1 running=$2 fmt=$3 n
	n=$(pdfinfo "$PDF_OUT/$name.pdf" | awk '/^Pages:/ {print $2}')
	if python3 - "$PDF_OUT/$name.txt" "$running" "$fmt" "$n" <<'EOF'; then
import sys
text, running, fmt, n = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3], int(sys.argv[4])
pages = text.split("\f")
if pages and not pages[-1].strip():
    pages.pop()
assert len(pages) == n, "pdftotext found %d pages, pdfinfo %d" % (len(pages), n)
for i, p in enumerate(pages, 1):
    assert running in p, "page %d lacks %r" % (i, running)
    want = fmt.replace("%u", str(i), 1).replace("%u", str(n), 1)
    assert want in p, "page %d lacks %r" % (i, want)
EOF
		ok "$name: $n pages, each with '$running' and its page number"
	else
		bad "$name: pages"
	fi
	if pdfinfo "$PDF_OUT/$name.pdf" |
		awk '/^Page size:/ && /\(A4\)/ && $3 < $5 {a4 = 1} END {exit !a4}'; then
		ok "$name: A4 portrait"
	else
		bad "$name: $(pdfinfo "$PDF_OUT/$name.pdf" | grep '^Page size')"
	fi
	# Every font embedded: pdffonts' "emb" column (after the type, which may be two words).
	if pdffonts "$PDF_OUT/$name.pdf" | awk 'NR > 2 && $(NF-4) != "yes" {bad = 1} END {exit bad}' &&
		[ "$(pdffonts "$PDF_OUT/$name.pdf" | wc -l)" -gt 2 ]; then
		ok "$name: every font embedded ($(pdffonts "$PDF_OUT/$name.pdf" | awk 'NR > 2 {print $1}' | tr '\n' ' '))"
	else
		bad "$name: a font not embedded: $(pdffonts "$PDF_OUT/$name.pdf")"
	fi
}

# has NAME TEXT...: each TEXT in NAME.raw, spaces and line breaks aside (a long name wraps in
# its column).
has() {
	local name=$1
	shift
	if python3 - "$PDF_OUT/$name.raw" "$@" <<'EOF'; then
import sys
flat = "".join(open(sys.argv[1]).read().split())
missing = [t for t in sys.argv[2:] if "".join(t.split()) not in flat]
if missing:
    print("missing: %r" % missing, file=sys.stderr)
    sys.exit(1)
EOF
		ok "$name: holds $(printf '%s' "$*" | head -c 300)…"
	else
		bad "$name: lacks some of the texts"
	fi
}

hasnt() {
	local name=$1 re=$2
	if grep -qE "$re" "$PDF_OUT/$name.txt"; then
		bad "$name: shows /$re/: $(grep -E "$re" "$PDF_OUT/$name.txt" | head -n 2)"
	else
		ok "$name: no /$re/"
	fi
}

review=$TEST_DATA/review/record.json
open=$TEST_DATA/review/record-open.json
history=$TEST_DATA/history/8.json

if render C.UTF-8 record-en "$review"; then
	pages record-en "Case review · 2026-XZ-0042" "page %u of %u"
	has record-en "$root" "1a2b3c4d" "office.example/custody" "carol(uid 1003)" \
		"2026-12-05 09:15:00 +08:00" "COMPLETE WITH RESERVATIONS" \
		"Entry 8 damaged: CAM02_李娜_20261126T020000.mp4 (reported, #21)" \
		"also bound to case 沪公(2026)行罚字第0042号" "3 d 3 h 9 min" "Reviewer's name" \
		"Signature"
	hasnt record-en '[0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z|270590|UTC\+00:00'
	# A status word is never split across lines ("DAMAG ED").
	has record-en "DAMAGED reported (#21)" "LATE explained" "original intact"
	hasnt record-en 'DAMAG$|^ *ED '
fi
if render zh_CN.UTF-8 record-zh "$review"; then
	pages record-zh "案件审核 · 2026-XZ-0042" "第 %u 页，共 %u 页"
	has record-zh "$root" "1a2b3c4d" "结论" "完整（附保留意见）" "检查点" "根哈希" "验证公钥" \
		"审核人姓名" "签名" "日期" "条目 8 损坏：CAM02_李娜_20261126T020000.mp4（已报告，#21）" \
		"亦绑定于 案件 沪公(2026)行罚字第0042号" "2026-11-25 09:00:00 +08:00"
	hasnt record-zh '[0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z|Verdict|Reviewer'
fi
if render C.UTF-8 open-en "$open"; then
	pages open-en "Case review · 2026-XZ-0043" "page %u of %u"
	has open-en "INCOMPLETE" "Entry 53 damaged: CAM03_O0777_20261201T083000.mp4 (NO damage report)" \
		"custodyctl annotate late_storage --entry 52 --reason TEXT" "9 min 50 s"
fi
if render C.UTF-8 history-en "$history" --history; then
	pages history-en "Chain of custody · entry 8" "page %u of %u"
	has history-en "$root" "A PROOF DOES NOT CHECK" "DOES NOT CHECK" \
		"/media/usb0/2026-XZ-0042/CAM02_李娜_20261126T020000.mp4" "newer than the checkpoint"
fi
if render zh_CN.UTF-8 history-zh "$history" --history; then
	pages history-zh "保管链 · 条目 8" "第 %u 页，共 %u 页"
	has history-zh "条目 8 的保管链" "核查未通过" "晚于检查点" "2026-12-05 09:16:00 +08:00"
fi

# The same content as the HTML page: what the answer says (names, explanations, copy-outs'
# destinations and purposes, annotations' reasons) in the PDF and in Chromium's printout of
# the HTML page.
python3 - "$review" >"$tmp/needles" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
out = set()
for d in r["devices"]:
    for c in d["clips"]:
        out.add(c["name"])
        for x in c.get("explanations", []):
            if x.get("text"):
                out.add(x["text"])
for a in r["access_log"]:
    for k in ("destination", "purpose"):
        if a.get(k):
            out.add(a[k])
for e in r["annotations"]:
    if e.get("case") not in (None, r["case"]):
        continue
    for k in ("reason", "explanation", "purpose"):
        if e.get(k):
            out.add(e[k])
for t in sorted(out):
    print(t)
EOF
mapfile -t needles <"$tmp/needles"
[ -f "$PDF_OUT/record-en.txt" ] && has record-en "${needles[@]}"
if command -v chromium >/dev/null 2>&1; then
	if LANG=C.UTF-8 "$HTML_RENDER" "${checked[@]}" "$review" "$PDF_OUT/record-en.html" &&
		timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
			--disable-background-networking --disable-component-update --disable-sync \
			--user-data-dir="$tmp/profile" --no-pdf-header-footer \
			--print-to-pdf="$PDF_OUT/record-en-chromium.pdf" \
			"file://$PDF_OUT/record-en.html" >/dev/null 2>>"$tmp/chromium.log"; then
		totext record-en-chromium
		has record-en-chromium "${needles[@]}"
		# The printed HTML page carries the same running header and page numbers.
		pages record-en-chromium "Case review · 2026-XZ-0042" "page %u of %u"
	else
		bad "chromium could not print the page: $(tail -n 3 "$tmp/chromium.log")"
	fi
else
	echo "chromium is not installed: the HTML printout is not compared"
fi

echo "PDFs: $PDF_OUT"
finish
