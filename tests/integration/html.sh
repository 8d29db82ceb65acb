#!/bin/bash
# custodyctl review/history --html (docs/pages.md): the page of each sample review in
# tests/data/review/, each history in tests/data/history/ and a generated 10,000-clip review,
# rendered by the test-only driver html-render (ctl/record.c, ctl/html.c), checked to be
# well-formed XML with no script from the data, then opened in headless Chromium (Debian's
# chromium): its DOM is dumped and compared, a screenshot taken and checked to be a real PNG
# that is not blank.  The record fixtures are screenshotted in English and Chinese and compared
# with the reviewed references in tests/data/pages/ (png-diff.py; HTML_UPDATE_REFERENCES=1
# writes new ones, to be looked at before they are committed), and printed to PDF, where every
# page must carry the case and "page x of y" from the CSS page margin boxes.  The pages, PNGs
# and PDFs stay in $HTML_OUT (the build folder) for a person to look at.  Exit 77 (skipped)
# without chromium.
set -eu
: "${HTML_RENDER:?}" "${TEST_DATA:?}" "${HTML_OUT:?}"
. "$(dirname "$0")/../lib.sh"
command -v chromium >/dev/null 2>&1 || skip "chromium is not installed (apt-get install chromium)"
need python3

rm -rf "$HTML_OUT"
mkdir -p "$HTML_OUT"

# Chromium wants a writable home and profile; keep both out of the way, one per run.
export HOME="$tmp/home"
mkdir -p "$HOME"
chrome() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$tmp/profile" --hide-scrollbars "$@" 2>>"$tmp/chromium.log"
}

# 10,000 clips of 3 minutes on one camera over three weeks, a gap every 100 clips (every third
# explained), every 997th clip late, a few damaged or altered: the timeline must aggregate.
python3 - "$tmp/many.json" <<'EOF'
import json, sys, datetime as dt
t = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
iso = lambda x: x.strftime("%Y-%m-%dT%H:%M:%SZ")
clips, gaps, opn = [], [], []
for i in range(10000):
    s, e = t, t + dt.timedelta(minutes=3)
    late = i % 997 == 0
    clips.append({"index": 1000 + i, "type": "ingest", "name": "CAMX_O42_%05d.mp4" % i,
                  "zone": "dock", "officer": "O42", "recorded_start": iso(s),
                  "recorded_end": iso(e), "time_source": "tag", "duration_us": 180000000,
                  "size": 70000000, "sha256": "%064x" % i, "ingested_at": iso(e),
                  "deadline": iso(e + dt.timedelta(days=1)),
                  "storage": "late" if late else "on_time",
                  "storage_now": "late" if late else "on_time", "explained_by": [],
                  "damaged": i % 1500 == 7,
                  "error": "packet flagged corrupt" if i % 1500 == 7 else None,
                  "damage_report": None, "integrity": "altered" if i % 2500 == 3 else "ok"})
    t = e
    if i % 100 == 99:
        g = {"from": iso(t), "to": iso(t + dt.timedelta(hours=2)), "seconds": 7200,
             "after": 1000 + i, "before": 1001 + i,
             "explained_by": 20000 + i if i % 300 == 99 else None,
             "reason": "shift change" if i % 300 == 99 else None}
        gaps.append(g)
        if g["explained_by"] is None:
            opn.append({"kind": "gap", "entry": None, "device": "CAMX", "from": g["from"],
                        "to": g["to"], "message": "CAMX recorded nothing for 2 h"})
        t += dt.timedelta(hours=2)
json.dump({"case": "2026-BIG", "as_of": "2026-12-31T00:00:00Z", "checkpoint_size": 20000,
           "complete": False, "verdict": "INCOMPLETE: %d unexplained gaps" % len(opn),
           "open": opn, "bound_by": [19999],
           "devices": [{"device": "CAMX", "clips": clips, "gaps": gaps}],
           "accesses": [], "annotations": []}, open(sys.argv[1], "w"))
EOF

# is_png_not_blank FILE: a PNG of 1400x2000 whose scanlines are not all alike (a blank page has
# one or two distinct lines; Chromium writes no filter that would hide a drawing).
png_check() {
	python3 - "$1" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, ihdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        ihdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
w, h, depth, ctype = ihdr[:4]
raw = zlib.decompress(idat)
bpp = {2: 3, 6: 4, 0: 1, 4: 2}[ctype] * depth // 8
stride = 1 + w * bpp
assert len(raw) == stride * h, "truncated image data"
rows = {raw[y * stride + 1:(y + 1) * stride] for y in range(h)}
print("%dx%d, %d distinct scanlines" % (w, h, len(rows)))
sys.exit(0 if (w, h) == (1400, 2000) and len(rows) > 50 else 1)
EOF
}

root=q1x1rQKtl+iIg6EQZFx4d1Wg6c2VxW9eVZJgQ2AG1zY=
checked=(--tz Asia/Shanghai --origin office.example/custody --size 350 --root "$root"
	--key-name office.example/custody --key-id 1a2b3c4d --cosignatures 2)

samples=("$TEST_DATA"/review/*.json "$tmp/many.json" "$TEST_DATA"/history/*.json)
for src in "${samples[@]}"; do
	name=$(basename "$src" .json)
	kind=()
	case $src in
	*/history/*) name=history-$name kind=(--history) ;;
	esac
	page="$HTML_OUT/$name.html"
	png="$HTML_OUT/$name.png"
	if ! "$HTML_RENDER" "${kind[@]}" "${checked[@]}" "$src" "$page"; then
		bad "$name: html-render failed"
		continue
	fi
	[ "$(stat -c %a "$page")" = 640 ] && ok "$name: page mode 0640" ||
		bad "$name: page mode $(stat -c %a "$page")"
	if command -v xmllint >/dev/null 2>&1; then
		xmllint --noout --nonet "$page" 2>"$tmp/xmllint" && ok "$name: well-formed XML" ||
			bad "$name: not well-formed: $(head -c 300 "$tmp/xmllint")"
	fi
	if grep -qi '<script' "$page"; then
		bad "$name: a <script in the page"
	fi
	if grep -qiE '(src|href)="(https?:|//|file:)' "$page"; then
		bad "$name: the page loads something from elsewhere"
	fi

	# What Chromium parsed: as many SVGs as written, no script element, the verdict there.
	if chrome --dump-dom "file://$page" >"$tmp/$name.dom"; then
		want=$(grep -o '<svg ' "$page" | wc -l)
		got=$(grep -o '<svg ' "$tmp/$name.dom" | wc -l)
		[ "$want" = "$got" ] && ok "$name: Chromium parsed $got SVGs" ||
			bad "$name: Chromium parsed $got SVGs of $want"
		grep -qi '<script' "$tmp/$name.dom" && bad "$name: Chromium sees a script element"
		grep -q 'id="record"' "$tmp/$name.dom" || bad "$name: no record in the DOM"
	else
		bad "$name: chromium --dump-dom failed: $(tail -n 3 "$tmp/chromium.log")"
	fi

	if ! chrome --screenshot="$png" --window-size=1400,2000 "file://$page" >/dev/null; then
		bad "$name: chromium --screenshot failed: $(tail -n 3 "$tmp/chromium.log")"
		continue
	fi
	size=$(stat -c %s "$png" 2>/dev/null || echo 0)
	if [ "$size" -lt 20000 ]; then
		bad "$name: screenshot of $size bytes"
	elif out=$(png_check "$png"); then
		ok "$name: screenshot $png ($size bytes, $out)"
	else
		bad "$name: screenshot blank or malformed: $out"
	fi
done

# The reviewed references: the record fixtures in both languages, at a fixed window, against
# tests/data/pages/ (the review's top only, above the timelines, which ctl/timeline.c draws and
# its own tests check).
refs=$TEST_DATA/pages
for lang in en zh; do
	case $lang in
	en) LC=C.UTF-8 fmt="page %u of %u" ;;
	zh) LC=zh_CN.UTF-8 fmt="第 %u 页，共 %u 页" ;;
	esac
	for what in record history; do
		case $what in
		record) src=$TEST_DATA/review/record.json kind=() rows=950 running="2026-XZ-0042" ;;
		history) src=$TEST_DATA/history/8.json kind=(--history) rows=1600 running="8" ;;
		esac
		name=$what-$lang
		page=$HTML_OUT/$name.html
		if ! LANG=$LC LC_ALL= "$HTML_RENDER" "${kind[@]}" "${checked[@]}" "$src" "$page"; then
			bad "$name: html-render failed"
			continue
		fi
		if ! chrome --screenshot="$HTML_OUT/$name.png" --window-size=840,1600 \
			"file://$page" >/dev/null; then
			bad "$name: chromium --screenshot failed: $(tail -n 3 "$tmp/chromium.log")"
			continue
		fi
		if [ "${HTML_UPDATE_REFERENCES:-}" = 1 ]; then
			python3 "$(dirname "$0")/png-diff.py" "$HTML_OUT/$name.png" "$refs/$name.png" \
				--update --height "$rows"
		elif out=$(python3 "$(dirname "$0")/png-diff.py" "$HTML_OUT/$name.png" \
			"$refs/$name.png" --diff "$HTML_OUT/$name-diff.png"); then
			ok "$name: as the reference: $out"
		else
			bad "$name: not as the reference tests/data/pages/$name.png: $out"
		fi
		# Printed: the running header and the page numbers on every page.
		if ! command -v pdftotext >/dev/null 2>&1; then
			echo "pdftotext is not installed: the printout is not read back"
		elif chrome --print-to-pdf="$HTML_OUT/$name.pdf" --no-pdf-header-footer \
			"file://$page" >/dev/null; then
			pdftotext -layout "$HTML_OUT/$name.pdf" "$HTML_OUT/$name.txt"
			if out=$(python3 - "$HTML_OUT/$name.txt" "$running" "$fmt" <<'EOF'
import sys
text, running, fmt = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
pages = [p for p in text.split("\f") if p.strip()]
n = len(pages)
for i, p in enumerate(pages, 1):
    want = fmt.replace("%u", str(i), 1).replace("%u", str(n), 1)
    assert running in p and want in p, "page %d lacks %r or %r" % (i, running, want)
print("%d pages" % n)
EOF
			); then
				ok "$name: printed, $out, each with its number and the $what's id"
			else
				bad "$name: printed pages: $out"
			fi
		else
			bad "$name: print to PDF failed: $(tail -n 3 "$tmp/chromium.log")"
		fi
	done
done

echo "pages and screenshots: $HTML_OUT"
finish
