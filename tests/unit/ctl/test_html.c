/* Unit tests of the records (ctl/record.c, ctl/html.c, ctl/pdf.c): the sample answers of
 * tests/data/review/ and tests/data/history/ are rendered into a fresh mkdtemp() folder and the
 * pages checked for what a reviewer relies on (docs/pages.md): the record (checkpoint, root,
 * key ID, who asked, when), a verdict that names every damaged file, only the case's own
 * annotations with a cross-reference for a shared clip, explanations on the rows they explain
 * and raw errors on a detail line, open items once each with the command apart, accesses
 * grouped per person and action, annotation fields in a fixed order, durations in d/h/min,
 * times in the display zone with their offset, Chinese labels under zh_CN, a chain of custody
 * with each event's proof; and that nothing from the data can become markup, the page is
 * well-formed, and the file is written atomically with mode 0640, as HTML and as PDF.  The
 * PDF's text and fonts are checked with poppler in tests/integration/pdf.sh. */
#include <errno.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/err.h"
#include "base/i18n.h"
#include "ctl/doc.h"
#include "ctl/html.h"
#include "ctl/page.h"
#include "ctl/record.h"
#include "ctl/show.h"
#include "ingest/tz.h"

#include "tests/unit/ctl/lsan-fonts.h"

static char tmpdir[] = "/tmp/test-html-XXXXXX";
static struct ing_tz *shanghai;
static struct ctl_page_ctx checked;

static void set_lang(const char *lang)
{
	unsetenv("LC_ALL");
	unsetenv("LC_MESSAGES");
	unsetenv("LANGUAGE");
	setenv("LANG", lang, 1);
	i18n_init();
}

static int setup(void **state)
{
	struct err_detail e = { 0 };

	(void)state;
	set_lang("C.UTF-8");
	if (show_zone_load("Asia/Shanghai", &shanghai, &e) < 0)
		return -1;
	checked = (struct ctl_page_ctx){ .tz = shanghai,
					 .checked = true,
					 .origin = "office.example/custody",
					 .size = 350,
					 .root = "q1x1rQKtl+iIg6EQZFx4d1Wg6c2VxW9eVZJgQ2AG1zY=",
					 .key_name = "office.example/custody",
					 .key_id = "1a2b3c4d",
					 .cosignatures = 2 };
	return mkdtemp(tmpdir) ? 0 : -1;
}

/* Each test starts in English, whatever the one before it left. */
static int english(void **state)
{
	(void)state;
	set_lang("C.UTF-8");
	return 0;
}

static int teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	char p[4096];

	(void)state;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(tmpdir);
	ing_tz_free(shanghai);
	/* cairo's and fontconfig's caches live until told otherwise: free them, so that what
	 * LeakSanitizer reports at exit is ours. */
	return 0;
}

static json_t *load(const char *name)
{
	char p[4096];
	json_error_t je;
	json_t *j;

	snprintf(p, sizeof(p), "%s/%s", TEST_DATA, name);
	j = json_load_file(p, 0, &je);
	if (!j)
		fail_msg("%s:%d: %s", p, je.line, je.text);
	return j;
}

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	if (ret_len)
		*ret_len = n;
	return buf;
}

/* Render @ans (a history when @history) to <tmpdir>/@name in @f and return the file. */
static char *render_as(const json_t *ans, const struct ctl_page_ctx *ctx, bool history,
		       enum ctl_page_format f, const char *name, size_t *ret_len)
{
	struct err_detail e = { 0 };
	char p[4096];
	struct stat st;
	int r;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	r = history ? ctl_history_page(ans, ctx, f, p, &e) : ctl_review_page(ans, ctx, f, p, &e);
	if (r < 0)
		fail_msg("rendering %s: %d %s", name, r, e.msg);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	return slurp(p, ret_len);
}

static char *render(const json_t *ans, const struct ctl_page_ctx *ctx, const char *name)
{
	return render_as(ans, ctx, false, CTL_PAGE_HTML, name, NULL);
}

/* The elements the page may hold, ours and the timelines' SVG: anything else came from data. */
static const char *const elements[] = {
	"html",	    "head",   "meta",	  "title",   "style",	 "body", "section", "div",
	"h1",	    "h2",     "h3",	  "p",	     "b",	 "code", "span",    "table",
	"colgroup", "col",    "thead",	  "tbody",   "tr",	 "th",	 "td",	    "figure",
	"svg",	    "defs",   "pattern",  "rect",    "line",	 "path", "circle",  "text",
	"g",	    "tspan",  "polyline", "polygon", "clipPath", "use",	 "desc",    "ellipse",
	"marker",   "symbol", NULL,
};

static bool known_element(const char *name, size_t len)
{
	for (const char *const *e = elements; *e; e++)
		if (strlen(*e) == len && !strncmp(*e, name, len))
			return true;
	return false;
}

/* Well-formed as XML would have it, with only known elements and references. */
static void check_wellformed(const char *html)
{
	const char *stack[256];
	size_t stlen[256], depth = 0, svg_open = 0, svg_close = 0;
	const char *p = html;

	assert_int_equal(strncmp(p, "<!DOCTYPE html>\n", 16), 0);
	p += 16;
	while (*p) {
		if (*p == '&') {
			static const char *const refs[] = { "&amp;",  "&lt;",  "&gt;",
							    "&quot;", "&#39;", NULL };
			bool ok = false;

			for (const char *const *r = refs; *r; r++)
				ok = ok || !strncmp(p, *r, strlen(*r));
			if (!ok && !strncmp(p, "&#", 2)) {
				const char *q = p + 2 + (p[2] == 'x');

				ok = strspn(q, "0123456789abcdefABCDEF") > 0 &&
				     q[strspn(q, "0123456789abcdefABCDEF")] == ';';
			}
			if (!ok)
				fail_msg("stray '&' at: %.60s", p);
			p++;
			continue;
		}
		if (*p == '>')
			fail_msg("stray '>' in text at: %.60s", p);
		if (*p != '<') {
			p++;
			continue;
		}
		if (!strncmp(p, "<!", 2))
			fail_msg("comment or declaration in the page at: %.60s", p);
		if (p[1] == '/') {
			const char *n = p + 2;
			size_t len = strcspn(n, ">");

			if (depth == 0 || stlen[depth - 1] != len ||
			    strncmp(stack[depth - 1], n, len))
				fail_msg("</%.*s> closes <%.*s>", (int)len, n,
					 depth ? (int)stlen[depth - 1] : 0,
					 depth ? stack[depth - 1] : "");
			depth--;
			svg_close += len == 3 && !strncmp(n, "svg", 3);
			p = n + len + 1;
			continue;
		}
		{
			const char *n = p + 1, *end;
			size_t len =
			    strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789");
			size_t quotes = 0;

			if (!known_element(n, len))
				fail_msg("unexpected element <%.*s> at: %.80s", (int)len, n, p);
			end = strchr(n, '>');
			assert_non_null(end);
			for (const char *q = n; q < end; q++) {
				if (*q == '<')
					fail_msg("'<' inside a tag at: %.80s", p);
				quotes += *q == '"';
			}
			if (quotes % 2)
				fail_msg("odd quotes in tag: %.*s", (int)(end - p + 1), p);
			svg_open += len == 3 && !strncmp(n, "svg", 3);
			if (end[-1] != '/') {
				assert_true(depth < 256);
				stack[depth] = n;
				stlen[depth++] = len;
			}
			p = end + 1;
			/* The CSS holds no markup characters (the case id in it is escaped). */
			if (len == 5 && !strncmp(n, "style", 5)) {
				const char *s = strstr(p, "</style>");

				assert_non_null(s);
				for (const char *q = p; q < s; q++)
					if (*q == '<' || *q == '&')
						fail_msg("markup in the CSS at: %.60s", q);
				p = s;
			}
		}
	}
	if (depth)
		fail_msg("<%.*s> not closed", (int)stlen[depth - 1], stack[depth - 1]);
	assert_int_equal(svg_open, svg_close);
}

static void check_no_markup_from_data(const char *html)
{
	assert_null(strcasestr(html, "<script"));
	assert_null(strcasestr(html, "<img"));
	assert_null(strcasestr(html, "<svg onload"));
	assert_null(strcasestr(html, "<object"));
	assert_null(strstr(html, "<!--"));
	assert_null(strstr(html, "]]>"));
	/* Bidi override, escape, NEL, BOM, U+FFFE: replaced. */
	assert_null(strstr(html, "\xe2\x80\xae"));
	assert_null(strchr(html, 0x1b));
	assert_null(strstr(html, "\xc2\x85"));
	assert_null(strstr(html, "\xef\xbb\xbf"));
	assert_null(strstr(html, "\xef\xbf\xbe"));
}

/* Every clip's entry number, as the anchor of its table row. */
static void check_every_clip(const json_t *review, const char *html)
{
	const json_t *devs = json_object_get(review, "devices");
	size_t n = 0;

	for (size_t i = 0; i < json_array_size(devs); i++) {
		const json_t *clips = json_object_get(json_array_get(devs, i), "clips");

		for (size_t k = 0; k < json_array_size(clips); k++) {
			json_int_t idx =
			    json_integer_value(json_object_get(json_array_get(clips, k), "index"));
			char want[96];

			snprintf(want, sizeof(want),
				 "<td id=\"e%" JSON_INTEGER_FORMAT
				 "\"><div class=\"l\"><b>%" JSON_INTEGER_FORMAT "</b></div></td>",
				 idx, idx);
			if (!strstr(html, want))
				fail_msg("clip %" JSON_INTEGER_FORMAT " is not on the page", idx);
			n++;
		}
	}
	assert_true(n > 0);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The part of the page from @from to the first @to after it, as a new string. */
static char *between(const char *hay, const char *from, const char *to)
{
	const char *a = strstr(hay, from), *b;

	if (!a)
		fail_msg("'%s' is not on the page", from);
	b = strstr(a, to);
	if (!b)
		fail_msg("'%s' is not after '%s'", to, from);
	return strndup(a, (size_t)(b - a));
}

/* The table row (with its detail line) of clip @n. */
static char *row_of(const char *html, int n)
{
	char id[32];

	snprintf(id, sizeof(id), "id=\"e%d\"", n);
	return between(html, id, "</tbody>");
}

/* The strings of @want (NULL-terminated) appear in @hay in this order. */
static void check_order_v(const char *hay, const char *const *want)
{
	const char *at = hay;

	for (; *want; want++) {
		const char *p = strstr(at, *want);

		if (!p)
			fail_msg("'%s' is missing or out of order after: %.80s", *want, at);
		at = p + strlen(*want);
	}
}

#define check_order(hay, ...) check_order_v(hay, (const char *const[]){ __VA_ARGS__, NULL })

static void test_record(void **state)
{
	json_t *r = load("review/record.json");
	char *html = render(r, &checked, "record.html"), *part;

	(void)state;
	check_wellformed(html);
	check_no_markup_from_data(html);
	check_every_clip(r, html);
	assert_non_null(strstr(html, "lang=\"en\""));
	assert_non_null(strstr(html, "<title>Case review 2026-XZ-0042</title>"));
	/* The record: origin, checkpoint size and root, key ID, when it was made, who asked. */
	part = between(html, "id=\"record\"", "</table>");
	assert_non_null(strstr(part, "<code>office.example/custody</code>"));
	assert_non_null(strstr(part,
			       " size 350, root <code>q1x1rQKtl+iIg6EQZFx4d1Wg6c2VxW9eVZJgQ2AG1zY="
			       "</code>"));
	assert_non_null(strstr(part, "key ID <code>1a2b3c4d</code>"));
	assert_non_null(strstr(part, "2026-12-05 09:15:00 +08:00"));
	assert_non_null(strstr(part, "carol(uid 1003)"));
	assert_non_null(strstr(part, "Asia/Shanghai (UTC+08:00)"));
	assert_null(strstr(part, "NOT CHECKED"));
	free(part);
	/* The verdict names the damaged file and each reservation; no open item. */
	part = between(html, "id=\"verdict\"", "</section>");
	assert_non_null(strstr(part, "COMPLETE WITH RESERVATIONS"));
	assert_non_null(strstr(part, "<b>Entry 8 damaged: </b>CAM02_李娜_20261126T020000.mp4 "
				     "(reported, #21)"));
	assert_non_null(strstr(part, "<b>Entry 12: </b>stored late (explained, #19)"));
	/* Entry 8 is damaged: its bytes are what was stored, the recording is not whole. */
	assert_non_null(strstr(part, "8 clips from 4 devices; every gap explained; every original "
				     "unchanged since it was stored."));
	assert_null(strstr(part, "every original intact"));
	assert_null(strstr(part, "open"));
	free(part);
	assert_non_null(strstr(html, "Nothing is open."));
	/* The clip rows carry what explains them; the raw error on a small detail line. */
	part = row_of(html, 8);
	assert_non_null(strstr(part, "<b>Damage report (#21): </b>设备在录制时电量耗尽"));
	assert_non_null(strstr(part, "<div class=\"l s\">Error while reading the file: <code>"
				     "libavformat: moov atom not found"));
	assert_non_null(strstr(part, "<span class=\"b warn\">DAMAGED</span> reported (#21)"));
	assert_non_null(strstr(part, "length unknown"));
	free(part);
	part = row_of(html, 12);
	assert_non_null(strstr(part, "<span class=\"b warn\">LATE</span> explained"));
	assert_non_null(strstr(part, "Officer on a 3-day rural patrol without network"));
	free(part);
	part = row_of(html, 14);
	assert_non_null(strstr(part, "on time (remote duty)"));
	assert_non_null(strstr(part, "<b>Remote duty declared (#18): </b>CAM07 away from "
				     "2026-11-21 08:00:00 +08:00 to 2026-11-22 20:00:00 +08:00"));
	assert_non_null(strstr(part, "Logged at ingest as: LATE"));
	free(part);
	part = row_of(html, 15);
	assert_non_null(strstr(part, "<b>Device attributed (#24): </b>device CAM07. Spare camera"));
	free(part);
	/* The shared clip: a cross-reference, and never the other case's own annotation. */
	part = row_of(html, 9);
	assert_non_null(strstr(
	    part, "<span class=\"b note\">also bound to</span> case 沪公(2026)行罚字第0042号"));
	free(part);
	assert_int_equal(count(html, "沪公(2026)行罚字第0042号"), 1);
	assert_int_equal(count(html, "<b>case binding</b>"), 1);
	/* Gaps in days, hours and minutes, in the display zone. */
	assert_non_null(strstr(html, "<div class=\"l\">3 d 3 h 9 min</div>"));
	assert_non_null(strstr(html, "<div class=\"l\">9 min 50 s</div>"));
	assert_null(strstr(html, "270590"));
	assert_null(strstr(html, "T01:00:00Z"));
	assert_non_null(strstr(html, "2026-11-25 09:00:00 +08:00"));
	/* Accesses per person and action: one row for erin's 12 reads, copy-outs with where the
	 * copy went and what for. */
	assert_non_null(strstr(html, "40 accesses to these clips are logged; 30 are kept"));
	assert_int_equal(count(html, "erin(uid 1005)"), 1);
	check_order(html, "<div class=\"l\">erin(uid 1005)</div>", "read the entry", "allowed",
		    "<div class=\"l\">12</div>");
	check_order(html, "<div class=\"l\">carol(uid 1003)</div>", "<div class=\"l\">review</div>",
		    "<div class=\"l\">5</div>");
	check_order(html, "<div class=\"l\">mallory(uid 1010)</div>", "copy-out",
		    "<span class=\"b bad\">REFUSED</span>", "<div class=\"l\">3</div>");
	part = between(html, "<h3>Copy-outs</h3>", "</table>");
	assert_non_null(strstr(part, "/media/usb0/2026-XZ-0042/CAM02_李娜_20261126T020000.mp4"));
	assert_non_null(strstr(part, "提交法院：行政诉讼证据（第一审）"));
	assert_non_null(strstr(part, "approval #33"));
	assert_int_equal(count(part, "<tbody"), 5);
	free(part);
	/* Annotation fields in a human order, not the JSON's alphabetical one. */
	part = between(html, "id=\"annotations\"", "</table>");
	check_order(part, "<b>approval</b>", "<b>Entries: </b>", "<b>Granted to: </b>",
		    "<b>Purpose: </b>", "<b>Expires: </b>", "<b>Approved by: </b>");
	check_order(part, "<b>interruption</b>", "<b>Device: </b>", "<b>From: </b>", "<b>To: </b>",
		    "<b>Reason: </b>");
	check_order(part, "<b>remote duty</b>", "<b>Device: </b>", "<b>From: </b>", "<b>To: </b>",
		    "<b>Returned at: </b>");
	free(part);
	/* The form to fill in by hand. */
	check_order(html, "id=\"reviewer\"", "Reviewer&#39;s name", "Decision", "Notes",
		    "Signature", "Date", "<div class=\"line\"></div>");
	/* A4 portrait with the case id and page x of y in the page's margins. */
	assert_non_null(strstr(html, "@page{size:A4 portrait;"));
	assert_non_null(strstr(html, "@top-left{content:\"Case review · 2026-XZ-0042\""));
	assert_non_null(strstr(
	    html, "@bottom-right{content:\"page \" counter(page) \" of \" counter(pages) \"\""));
	assert_null(strstr(html, "break-before:page"));
	free(html);
	json_decref(r);
}

static void test_record_open(void **state)
{
	json_t *r = load("review/record-open.json");
	char *html = render(r, &checked, "record-open.html"), *part;

	(void)state;
	check_wellformed(html);
	check_every_clip(r, html);
	part = between(html, "id=\"verdict\"", "</section>");
	assert_non_null(strstr(part, "<b>INCOMPLETE</b>"));
	assert_non_null(strstr(part, "<b>2 gaps NOT explained</b>"));
	assert_non_null(strstr(part, "<b>Entry 53 damaged: </b>CAM03_O0777_20261201T083000.mp4"
				     "<b> (NO damage report)</b>"));
	assert_non_null(strstr(part, "5 items are open"));
	free(part);
	/* Open items: each once, in words, the command in its own column; a gap is a device and
	 * a span, never "entry #52". */
	part = between(html, "id=\"open\"", "</table>");
	assert_int_equal(count(part, "<tbody"), 5);
	assert_non_null(strstr(part,
			       "stored 2 d 2 h 49 min after its deadline of 2026-12-02 16:20:10 "
			       "+08:00; no explanation is recorded"));
	assert_non_null(strstr(part, "<td><div class=\"l\"><code>custodyctl annotate late_storage "
				     "--entry 52 --reason TEXT</code></div></td>"));
	assert_non_null(
	    strstr(part, "the device recorded nothing for 9 min 50 s; no interruption"));
	check_order(part, "<span class=\"b bad\">gap</span>", "<b>device CAM03</b>",
		    "2026-12-01 16:00:10 +08:00 to 2026-12-01 16:10:00 +08:00", "</tbody>");
	assert_null(strstr(part, "entry #"));
	assert_null(strstr(part, "CAM03 recorded nothing")); /* the daemon's English */
	assert_non_null(strstr(part, "its name matched no pattern of zone dock"));
	assert_int_equal(count(part, "custodyctl annotate"), 5);
	free(part);
	assert_non_null(strstr(html, "<h3>Clips without a device</h3>"));
	part = row_of(html, 53);
	assert_non_null(strstr(part, "<span class=\"b bad\">DAMAGED</span> no report"));
	free(part);
	free(html);
	json_decref(r);
}

static void test_unchecked(void **state)
{
	json_t *r = load("review/record.json");
	struct ctl_page_ctx why = { .tz = shanghai, .why = "no verifier key is configured" };
	char *html = render(r, NULL, "unchecked.html"), *part;

	(void)state;
	check_wellformed(html);
	part = between(html, "id=\"record\"", "</section>");
	assert_non_null(strstr(part, "<span class=\"b bad\">NOT CHECKED</span> the answer names a "
				     "checkpoint of size 350, which was not checked"));
	assert_non_null(strstr(part, "This page is not tied to a checked checkpoint."));
	assert_non_null(strstr(part, "UTC (UTC+00:00)"));
	assert_non_null(strstr(part, "checked against the verifier key: this page was made without "
				     "checking it"));
	assert_null(strstr(part, "q1x1rQKtl"));
	free(part);
	assert_non_null(strstr(html, "@bottom-left{content:\"checkpoint 350 NOT CHECKED\""));
	free(html);
	html = render(r, &why, "unchecked2.html");
	assert_non_null(strstr(html, "checked against the verifier key: no verifier key is "
				     "configured"));
	free(html);
	json_decref(r);
}

static void test_chinese(void **state)
{
	json_t *r = load("review/record.json"), *h = load("history/8.json");
	char *html, *part;

	(void)state;
	set_lang("zh_CN.UTF-8");
	html = render(r, &checked, "record-zh.html");
	check_wellformed(html);
	assert_non_null(strstr(html, "lang=\"zh-CN\""));
	assert_non_null(strstr(html, "<h1>案件审核 2026-XZ-0042</h1>"));
	assert_non_null(strstr(html, "<h2 id=\"verdict\">结论</h2>"));
	assert_non_null(strstr(html, "完整（附保留意见）"));
	assert_non_null(strstr(html, "<h2 id=\"reviewer\">审核人</h2>"));
	assert_non_null(strstr(html, "检查点"));
	assert_non_null(strstr(html, "验证公钥"));
	assert_non_null(strstr(
	    html, "8 个片段，来自 4 台设备；所有中断均有说明；所有原始文件自存储以来未被改动。"));
	part = row_of(html, 8);
	assert_non_null(strstr(part, "<b>损坏报告（#21）：</b>设备在录制时电量耗尽"));
	free(part);
	assert_non_null(strstr(html, "\"第 \" counter(page) \" 页，共 \" counter(pages) \" 页\""));
	/* The font stack names CJK fonts, so a server with only fonts-noto-cjk shows Chinese. */
	assert_non_null(strstr(html, "'Noto Sans CJK SC'"));
	free(html);
	html = render_as(h, &checked, true, CTL_PAGE_HTML, "history-zh.html", NULL);
	check_wellformed(html);
	assert_non_null(strstr(html, "<h1>条目 8 的保管链</h1>"));
	assert_non_null(strstr(html, "核查未通过"));
	free(html);
	set_lang("C.UTF-8");
	json_decref(r);
	json_decref(h);
}

static void test_history(void **state)
{
	json_t *h = load("history/8.json");
	char *html = render_as(h, &checked, true, CTL_PAGE_HTML, "history.html", NULL), *part;

	(void)state;
	check_wellformed(html);
	check_no_markup_from_data(html);
	assert_non_null(strstr(html, "<title>Chain of custody of entry 8</title>"));
	assert_non_null(strstr(html, "@top-left{content:\"Chain of custody · entry 8\""));
	part = between(html, "id=\"summary\"", "</section>");
	assert_non_null(strstr(part, "A PROOF DOES NOT CHECK"));
	assert_non_null(strstr(part, "10 events: the inclusion proof of 8 checked against the "
				     "verifier key, 1 did not check, 1 not checked."));
	assert_non_null(strstr(part, "18 accesses named this clip; 4 are listed below."));
	free(part);
	part = between(html, "id=\"arrival\"", "</table>");
	assert_non_null(strstr(part, "CAM02_李娜_20261126T020000.mp4"));
	assert_non_null(strstr(part, "2026-11-26 10:00:00 +08:00 to —"));
	assert_non_null(strstr(part, "2026-XZ-0042, 沪公(2026)行罚字第0042号"));
	assert_non_null(strstr(part, "on hold"));
	free(part);
	/* Every event in order, with whether its proof checked. */
	part = between(html, "id=\"events\"", "</table>");
	check_order(part, "id=\"e8\"", "arrival", "stored from zone dock as",
		    "<span class=\"b ok\">checked</span>", "id=\"e21\"", "damage report",
		    "id=\"e30\"", "case binding", "id=\"e33\"", "<b>approval</b>", "id=\"e40\"",
		    "<b>hold</b>", "id=\"e100\"", "carol(uid 1003)", "id=\"e117\"", "copy-out",
		    "under approval #33", "<b>Destination: </b>/media/usb0/",
		    "<b>Purpose: </b>提交法院", "<span class=\"b bad\">DOES NOT CHECK</span>",
		    "the proof does not lead to the checkpoint&#39;s root", "id=\"e119\"",
		    "<span class=\"b bad\">REFUSED</span>", "id=\"e140\"",
		    "the original was intact", "id=\"e352\"",
		    "<span class=\"b note\">not checked</span>", "newer than the checkpoint");
	assert_int_equal(count(part, "<tbody class=\"row bad\">"), 2);
	free(part);
	free(html);
	json_decref(h);
}

static void test_history_purged(void **state)
{
	json_t *h = load("history/27.json");
	char *html = render_as(h, &checked, true, CTL_PAGE_HTML, "history27.html", NULL), *part;

	(void)state;
	check_wellformed(html);
	part = between(html, "id=\"arrival\"", "</table>");
	assert_non_null(strstr(part, "<span class=\"b bad\">purged</span>"));
	assert_non_null(strstr(part, "bound to no case"));
	assert_non_null(strstr(part, "its name"));
	free(part);
	part = between(html, "id=\"events\"", "</table>");
	check_order(part, "id=\"e27\"", "arrival", "id=\"e28\"", "same bytes again",
		    "the same bytes arrived again in zone upload as <b>copy of CAM09.mp4</b>",
		    "id=\"e300\"", "<b>purge</b>", "<b>purged by olga(uid 1050)</b>",
		    "<b>Reason: </b>Retention period of one year is over.",
		    "<b>Retention: </b>365 d 0 h 0 min", "<b>Removed: </b>yes");
	free(part);
	free(html);
	json_decref(h);
}

static void test_hostile(void **state)
{
	json_t *r = load("review/hostile.json");
	char *html = render(r, &checked, "hostile.html");
	char *pdf;

	(void)state;
	check_wellformed(html);
	check_no_markup_from_data(html);
	check_every_clip(r, html);
	assert_non_null(
	    strstr(html, "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt; &amp; Co"));
	assert_non_null(strstr(html, "CAM&quot;&gt;&lt;svg onload=alert(1)&gt;"));
	assert_non_null(strstr(html, "&amp;amp; &amp;lt;b&amp;gt; fish &amp; chips"));
	assert_non_null(strstr(html, "O&#39;Brien &amp; Søn 警察 🚓 Zoë"));
	/* The bidi override and the terminal escape became U+FFFD. */
	assert_non_null(strstr(html, "\xef\xbf\xbdgpj.exe &lt;img"));
	assert_non_null(strstr(html, "\xef\xbf\xbd[31mred terminal"));
	free(html);
	/* A case id that would end the CSS string, the rule or the style element. */
	json_object_set_new(r, "case", json_string("x\"}</style><script>alert(1)</script>\\"));
	html = render(r, &checked, "hostile2.html");
	check_wellformed(html);
	check_no_markup_from_data(html);
	assert_non_null(
	    strstr(html, "@top-left{content:\"Case review · x\\22 \\7d \\3c /style\\3e "));
	free(html);
	pdf = render_as(r, &checked, false, CTL_PAGE_PDF, "hostile.pdf", NULL);
	assert_int_equal(strncmp(pdf, "%PDF-", 5), 0);
	free(pdf);
	json_decref(r);
}

static void test_legacy(void **state)
{
	static const char *const names[] = { "complete.json", "incomplete.json", "one.json", NULL };

	(void)state;
	/* Answers from before the record fields still render, with what they have. */
	for (const char *const *n = names; *n; n++) {
		char path[64];
		json_t *r;
		char *html;

		snprintf(path, sizeof(path), "review/%s", *n);
		r = load(path);
		html = render(r, &checked, *n);
		check_wellformed(html);
		check_no_markup_from_data(html);
		check_every_clip(r, html);
		free(html);
		json_decref(r);
	}
}

static void test_empty(void **state)
{
	json_t *r = load("review/empty.json");
	char *html = render(r, &checked, "empty.html");
	json_t *bare = json_object();
	char *html2;

	(void)state;
	check_wellformed(html);
	assert_non_null(strstr(html, "No clip is bound to this case."));
	assert_non_null(strstr(html, "<span class=\"b bad\">no clips</span>"));
	assert_null(strstr(html, "<svg"));
	free(html);
	/* Not even the fields: still a page, and a history too. */
	html2 = render(bare, NULL, "bare.html");
	check_wellformed(html2);
	assert_non_null(strstr(html2, "INCOMPLETE"));
	free(html2);
	html2 = render_as(bare, NULL, true, CTL_PAGE_HTML, "bare-history.html", NULL);
	check_wellformed(html2);
	assert_non_null(strstr(html2, "The answer lists no event."));
	free(html2);
	html2 = render_as(bare, NULL, true, CTL_PAGE_PDF, "bare-history.pdf", NULL);
	assert_int_equal(strncmp(html2, "%PDF-", 5), 0);
	free(html2);
	json_decref(bare);
	json_decref(r);
}

/* 10,000 clips of 3 minutes over about 3 weeks, a gap every 100 clips: the tables list
 * everything, and both files stay reasonable. */
static void test_many(void **state)
{
	json_t *r =
	    json_pack("{s:s, s:s, s:b, s:s, s:[], s:[], s:[], s:[]}", "case", "BIG-1", "as_of",
		      "2027-01-10T00:00:00Z", "complete", 0, "verdict", "INCOMPLETE: many things",
		      "open", "bound_by", "access_log", "annotations");
	json_t *clips = json_array(), *gaps = json_array();
	int64_t t = 1795000000; /* 2026-11-17 */
	size_t len;
	char *html, *pdf;
	time_t t0, t1;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		char s[32], e[32], name[64];
		time_t a = t, b = t + 180;
		struct tm tm;

		strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&a, &tm));
		strftime(e, sizeof(e), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&b, &tm));
		snprintf(name, sizeof(name), "CAMX_%05d.mp4", i);
		json_array_append_new(
		    clips,
		    json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:[], s:b, s:s}",
			      "index", 1000 + i, "type", "ingest", "name", name, "recorded_start",
			      s, "recorded_end", e, "time_source", "tag", "duration_us",
			      (json_int_t)180000000, "storage", i % 997 ? "on_time" : "late",
			      "storage_now", i % 997 ? "on_time" : "late", "explained_by",
			      "damaged", i % 1500 == 7, "integrity",
			      i % 2500 == 3 ? "altered" : "ok"));
		t += 180;
		if (i % 100 == 99) {
			char e2[32];

			t += 3600;
			b = t;
			strftime(e2, sizeof(e2), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&b, &tm));
			json_array_append_new(gaps, json_pack("{s:s, s:s, s:i, s:i, s:i, s:n, s:n}",
							      "from", e, "to", e2, "seconds", 3600,
							      "after", 1000 + i, "before", 1001 + i,
							      "explained_by", "reason"));
		}
	}
	json_object_set_new(
	    r, "devices",
	    json_pack("[{s:s, s:o, s:o}]", "device", "CAMX", "clips", clips, "gaps", gaps));
	html = render_as(r, &checked, false, CTL_PAGE_HTML, "many.html", &len);
	check_wellformed(html);
	check_every_clip(r, html);
	assert_non_null(strstr(html, "10000 clips, recorded from"));
	assert_non_null(strstr(html, "100 gaps<b>, 100 NOT explained</b>"));
	assert_true(len < 64 * 1024 * 1024);
	free(html);
	t0 = time(NULL);
	pdf = render_as(r, &checked, false, CTL_PAGE_PDF, "many.pdf", &len);
	t1 = time(NULL);
	assert_int_equal(strncmp(pdf, "%PDF-", 5), 0);
	print_message("10,000 clips: a PDF of %zu bytes in about %lld s\n", len,
		      (long long)(t1 - t0));
	free(pdf);
	json_decref(r);
}

static size_t mcount(const char *hay, size_t len, const char *needle)
{
	size_t n = 0, k = strlen(needle);

	for (const char *p = hay; (p = memmem(p, len - (size_t)(p - hay), needle, k)); p += k)
		n++;
	return n;
}

static void test_pdf(void **state)
{
	json_t *r = load("review/record.json");
	size_t len;
	char *pdf = render_as(r, &checked, false, CTL_PAGE_PDF, "record.pdf", &len);

	(void)state;
	/* The bytes hold NULs: memmem, not strstr. */
	assert_int_equal(strncmp(pdf, "%PDF-1.", 7), 0);
	assert_non_null(memmem(pdf + len - 8, 8, "%%EOF", 5));
	/* A4 portrait pages, the fonts embedded (their files are in the PDF). */
	assert_true(mcount(pdf, len, "/MediaBox [ 0 0 595.275591 841.889764 ]") >= 3);
	assert_true(mcount(pdf, len, "/FontFile3") + mcount(pdf, len, "/FontFile2") >= 2);
	assert_true(mcount(pdf, len, "/Type /Page\n") + mcount(pdf, len, "/Type /Page ") >= 3);
	free(pdf);
	json_decref(r);
}

/* Where a value sits: in @obj under @key, or in @arr at @i. */
struct slot {
	json_t *obj, *arr;
	const char *key;
	size_t i;
};

static void slots(json_t *v, struct slot *out, size_t *n, size_t max)
{
	const char *key;
	json_t *x;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, x) {
			if (*n < max)
				out[(*n)++] = (struct slot){ .obj = v, .key = key };
			slots(x, out, n, max);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			if (*n < max)
				out[(*n)++] = (struct slot){ .arr = v, .i = i };
			slots(x, out, n, max);
		}
	}
}

/* Any answer renders, whatever shape its fields take: every value of the fixtures (every
 * @stride-th of the large one) replaced in turn by null, a number, a string, a list, an object
 * and true, each rendered as HTML (and now and then as PDF) without failing. */
static void shapes(const char *name, bool history, size_t stride)
{
	json_t *r = load(name);
	struct slot *sl = calloc(4096, sizeof(*sl));
	size_t n = 0, renders = 0;
	FILE *null = fopen("/dev/null", "w");

	assert_non_null(sl);
	assert_non_null(null);
	slots(r, sl, &n, 4096);
	for (size_t k = 0; k < n; k += stride) {
		json_t *was = json_incref(sl[k].obj ? json_object_get(sl[k].obj, sl[k].key)
						    : json_array_get(sl[k].arr, sl[k].i));

		for (int alt = 0; alt < 6; alt++) {
			json_t *v = alt == 0   ? json_null()
				    : alt == 1 ? json_integer(-7)
				    : alt == 2 ? json_string("<x>\xe2\x80\xae")
				    : alt == 3 ? json_pack("[i,s,n]", 3, "y")
				    : alt == 4 ? json_pack("{s:i}", "index", 1)
					       : json_true();
			struct err_detail e = { 0 };
			struct ctl_doc *d = NULL;
			int rr;

			if (sl[k].obj)
				json_object_set_new(sl[k].obj, sl[k].key, v);
			else
				json_array_set_new(sl[k].arr, sl[k].i, v);
			rr = history ? ctl_history_doc(r, &checked, &d)
				     : ctl_review_doc(r, &checked, &d);
			if (rr < 0)
				fail_msg("%s: value %zu as shape %d: %d", name, k, alt, rr);
			if (ctl_html_write(d, null, &e) < 0)
				fail_msg("%s: value %zu as shape %d: %s", name, k, alt, e.msg);
			ctl_doc_free(d);
			if (renders++ % 97 == 0) {
				char p[4096];

				snprintf(p, sizeof(p), "%s/shape.pdf", tmpdir);
				rr = history ? ctl_history_page(r, &checked, CTL_PAGE_PDF, p, &e)
					     : ctl_review_page(r, &checked, CTL_PAGE_PDF, p, &e);
				if (rr < 0)
					fail_msg("%s: value %zu as shape %d: PDF %s", name, k, alt,
						 e.msg);
			}
		}
		if (sl[k].obj)
			json_object_set_new(sl[k].obj, sl[k].key, was);
		else
			json_array_set_new(sl[k].arr, sl[k].i, was);
	}
	print_message("%s: %zu values, %zu renders\n", name, n, renders);
	fclose(null);
	free(sl);
	json_decref(r);
}

static void test_shapes(void **state)
{
	(void)state;
	shapes("review/record-open.json", false, 1);
	shapes("history/8.json", true, 1);
	shapes("review/record.json", false, 7);
}

static void test_errors(void **state)
{
	json_t *r = load("review/one.json");
	struct err_detail e = { 0 };
	char p[4096];
	DIR *d;
	struct dirent *de;
	size_t n = 0;

	(void)state;
	/* A folder that does not exist. */
	snprintf(p, sizeof(p), "%s/no/such/page.html", tmpdir);
	assert_int_equal(ctl_review_html(r, p, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "page.html"));
	assert_int_equal(ctl_review_page(r, &checked, CTL_PAGE_PDF, p, &e), -ENOENT);
	/* A path naming no file. */
	snprintf(p, sizeof(p), "%s/", tmpdir);
	assert_int_equal(ctl_review_html(r, p, &e), -EINVAL);
	/* A folder in the way of the rename. */
	snprintf(p, sizeof(p), "%s/adir", tmpdir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_true(ctl_review_html(r, p, &e) < 0);
	assert_true(ctl_history_page(r, &checked, CTL_PAGE_PDF, p, &e) < 0);
	assert_int_equal(rmdir(p), 0);
	/* Not an object; an unknown format. */
	assert_int_equal(
	    ctl_review_html(json_array_get(json_object_get(r, "open"), 0), "x.html", &e), -EINVAL);
	{
		json_t *a = json_array();

		assert_int_equal(ctl_history_page(a, NULL, CTL_PAGE_HTML, "x.html", &e), -EINVAL);
		json_decref(a);
	}
	assert_int_equal(ctl_review_page(r, NULL, (enum ctl_page_format)7, "x.html", &e), -EINVAL);
	/* An unwritable folder (root writes anyway). */
	if (geteuid() != 0) {
		snprintf(p, sizeof(p), "%s/ro", tmpdir);
		assert_int_equal(mkdir(p, 0500), 0);
		strcat(p, "/page.html");
		assert_int_equal(ctl_review_html(r, p, &e), -EACCES);
		*strrchr(p, '/') = 0;
		rmdir(p);
	}
	/* Replacing a page leaves no temporary file behind. */
	snprintf(p, sizeof(p), "%s/again.html", tmpdir);
	assert_int_equal(ctl_review_html(r, p, &e), 0);
	assert_int_equal(ctl_review_page(r, &checked, CTL_PAGE_PDF, p, &e), 0);
	d = opendir(tmpdir);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	assert_int_equal(n, 0);
	json_decref(r);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_record, english),
		cmocka_unit_test_setup(test_record_open, english),
		cmocka_unit_test_setup(test_unchecked, english),
		cmocka_unit_test_setup(test_chinese, english),
		cmocka_unit_test_setup(test_history, english),
		cmocka_unit_test_setup(test_history_purged, english),
		cmocka_unit_test_setup(test_hostile, english),
		cmocka_unit_test_setup(test_legacy, english),
		cmocka_unit_test_setup(test_empty, english),
		cmocka_unit_test_setup(test_many, english),
		cmocka_unit_test_setup(test_pdf, english),
		cmocka_unit_test_setup(test_shapes, english),
		cmocka_unit_test_setup(test_errors, english),
	};

	(void)argc;
	(void)argv;
	return cmocka_run_group_tests(tests, setup, teardown);
}
