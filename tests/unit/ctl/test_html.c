/* Unit tests of the review page (ctl/html.c): every sample review of tests/data/review/
 * is rendered into a fresh mkdtemp() folder and the page checked for what a reviewer relies on:
 * nothing from the data can become markup (no raw <script, only our own elements, every '&' a
 * known reference, quotes balanced in every tag), the page is well-formed (a tag stack, the
 * way an XML parser would check it), every clip's entry number appears, the verdict and each
 * kind of open item show, and the file is written atomically with mode 0640.  A generated
 * review of 10,000 clips checks that the timeline is aggregated and stays small. */
#include <errno.h>
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

#include "ctl/html.h"
#include "base/err.h"

static char tmpdir[] = "/tmp/test-html-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
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
	return 0;
}

static json_t *load_sample(const char *name)
{
	char p[4096];
	json_error_t je;
	json_t *j;

	snprintf(p, sizeof(p), "%s/review/%s", TEST_DATA, name);
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

/* Render @review to <tmpdir>/@name and return the page. */
static char *render(const json_t *review, const char *name, size_t *ret_len)
{
	struct err_detail e = { 0 };
	char p[4096];
	struct stat st;
	int r;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	r = ctl_review_html(review, p, &e);
	if (r < 0)
		fail_msg("ctl_review_html(%s): %d %s", name, r, e.msg);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	return slurp(p, ret_len);
}

/* The elements the page may hold: anything else came from the data. */
static const char *const elements[] = {
	"html",	 "head", "meta",   "title",  "style",	   "body", "header", "footer",	"section",
	"div",	 "h1",	 "h2",	   "h3",     "p",	   "q",	   "a",	     "b",	"strong",
	"small", "code", "span",   "br",     "ul",	   "li",   "table",  "thead",	"tbody",
	"tr",	 "th",	 "td",	   "figure", "figcaption", "svg",  "defs",   "pattern", "rect",
	"line",	 "path", "circle", "text",   "g",	   NULL,
};

static bool known_element(const char *name, size_t len)
{
	for (const char *const *e = elements; *e; e++)
		if (strlen(*e) == len && !strncmp(*e, name, len))
			return true;
	return false;
}

/* Well-formed as XML would have it, with only our elements and references. */
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
			size_t len = strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789");
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
				if (len == 2 && (!strncmp(n, "br", 2)))
					fail_msg("<br> not closed");
				assert_true(depth < 256);
				stack[depth] = n;
				stlen[depth++] = len;
			}
			p = end + 1;
			/* Our CSS holds no markup characters, but skip it as a parser would. */
			if (len == 5 && !strncmp(n, "style", 5)) {
				const char *s = strstr(p, "</style>");

				assert_non_null(s);
				for (const char *q = p; q < s; q++)
					assert_true(*q != '<' && *q != '&');
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
			char want[64];

			snprintf(want, sizeof(want),
				 "id=\"e%" JSON_INTEGER_FORMAT "\">%" JSON_INTEGER_FORMAT, idx,
				 idx);
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

static void test_complete(void **state)
{
	json_t *r = load_sample("complete.json");
	char *html = render(r, "complete.html", NULL);

	(void)state;
	check_wellformed(html);
	check_no_markup_from_data(html);
	check_every_clip(r, html);
	assert_non_null(strstr(html, "<title>Case review 2026-0142 as of 2026-12-02 10:15:00Z"));
	assert_non_null(strstr(html, "✔ COMPLETE"));
	assert_null(strstr(html, "INCOMPLETE"));
	assert_null(strstr(html, "Open items"));
	/* Two devices, each with its timeline; the legend is one more SVG. */
	assert_int_equal(count(html, "<svg "), 3);
	assert_non_null(strstr(html, "Device <q>CAM1</q>"));
	/* The explained gap with its reason, drawn and listed; the remote duty reclassification. */
	assert_non_null(strstr(html, "fill=\"url(#s1-gp1)\""));
	assert_non_null(strstr(html, "explained</span> by #12: Camera docked for a battery swap"));
	assert_non_null(strstr(html, "on_time_remote</span><br/><small>logged as late"));
	assert_non_null(strstr(html, "explained by #10"));
	/* Tick labels in UTC on the hour scale of the morning. */
	assert_non_null(strstr(html, ">09:00</text>"));
	assert_non_null(strstr(html, ">2026-11-28</text>"));
	/* The refused access. */
	assert_non_null(strstr(html, "<strong>REFUSED</strong>"));
	assert_non_null(strstr(html, "<b>late_storage</b> by dave(uid 1004)"));
	free(html);
	json_decref(r);
}

static void test_incomplete(void **state)
{
	json_t *r = load_sample("incomplete.json");
	char *html = render(r, "incomplete.html", NULL);
	static const char *const kinds[] = { "late",	"unknown_time", "future_time",
					     "gap",	"damaged",	"altered",
					     "missing", "purged",	NULL };

	(void)state;
	check_wellformed(html);
	check_no_markup_from_data(html);
	check_every_clip(r, html);
	assert_non_null(strstr(html, "✘ INCOMPLETE"));
	assert_non_null(strstr(html, "<h2>Open items (10)</h2>"));
	for (const char *const *k = kinds; *k; k++) {
		char want[64];

		snprintf(want, sizeof(want), "<span class=\"b k-open\">%s</span>", *k);
		if (!strstr(html, want))
			fail_msg("open item %s not listed", *k);
	}
	/* Each problem drawn with its own pattern: late, altered, missing, purged, open gaps, the
	 * damaged mark without a report, and the future clip in grey. */
	assert_non_null(strstr(html, "url(#s1-st5)"));
	assert_non_null(strstr(html, "url(#s1-ig5)"));
	assert_non_null(strstr(html, "url(#s1-ig4)"));
	assert_non_null(strstr(html, "url(#s1-ig3)"));
	assert_non_null(strstr(html, "url(#s1-gp2)"));
	assert_non_null(strstr(html, "url(#s1-gp1)"));
	assert_non_null(strstr(html, "url(#s2-st3)"));
	assert_non_null(strstr(html, "<strong>DAMAGED, no report</strong>"));
	assert_non_null(strstr(html, "damaged, report #29"));
	assert_non_null(strstr(html, "recorded after it was stored"));
	assert_non_null(
	    strstr(html, "altered</span><br/><small>the stored original now hashes to"));
	/* Days: the axis switches to date ticks, the unknown-time clip is listed apart. */
	assert_non_null(strstr(html, ">2026-11-29</text>"));
	assert_non_null(strstr(html, "<strong>Not on the timeline</strong> (recording time "
				     "unknown): <a href=\"#e25\">#25</a> <q>VID_0001.MP4</q>"));
	assert_non_null(strstr(html, "Clips with no device"));
	/* Annotations given as {"index","entry"}. */
	assert_non_null(strstr(html, "<b>#29 damage_report</b>"));
	assert_non_null(strstr(html, "entries: 20, 21, 22, 23, 24, 25, 26, 27"));
	free(html);
	json_decref(r);
}

static void test_hostile(void **state)
{
	json_t *r = load_sample("hostile.json");
	char *html = render(r, "hostile.html", NULL);

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
	/* Ill-typed fields render as dashes, the clip with no time is listed apart. */
	assert_non_null(strstr(html, "<a href=\"#e52\">#52</a>"));
	/* Overlapping clips 50 and 51 are on two rows. */
	assert_non_null(strstr(html, ">overlapping</text>"));
	free(html);
	json_decref(r);
}

static void test_empty(void **state)
{
	json_t *r = load_sample("empty.json");
	char *html = render(r, "empty.html", NULL);
	json_t *bare = json_object();
	char *html2;

	(void)state;
	check_wellformed(html);
	assert_non_null(strstr(html, "<strong>No clip is bound to this case.</strong>"));
	assert_non_null(strstr(html, "<span class=\"b k-open\">no_clips</span>"));
	assert_null(strstr(html, "<svg"));
	free(html);
	/* Not even the fields: still a page. */
	html2 = render(bare, "bare.html", NULL);
	check_wellformed(html2);
	assert_non_null(strstr(html2, "INCOMPLETE"));
	free(html2);
	json_decref(bare);
	json_decref(r);
}

static void test_one(void **state)
{
	json_t *r = load_sample("one.json");
	char *html = render(r, "one.html", NULL);

	(void)state;
	check_wellformed(html);
	check_every_clip(r, html);
	/* 38 s on a one-minute axis: ticks every 5 or 10 seconds, with seconds in the labels. */
	assert_non_null(strstr(html, ">17:15:10</text>"));
	assert_non_null(strstr(html, ">38 s</td>"));
	free(html);
	json_decref(r);
}

/* 10,000 clips of 3 minutes over about 3 weeks, a gap every 100 clips, some late, some
 * altered: the timeline is binned, the tables list everything. */
static void test_many(void **state)
{
	json_t *r =
	    json_pack("{s:s, s:s, s:b, s:s, s:[], s:[], s:[], s:[]}", "case", "BIG-1", "as_of",
		      "2027-01-10T00:00:00Z", "complete", 0, "verdict", "INCOMPLETE: many things",
		      "open", "bound_by", "accesses", "annotations");
	json_t *clips = json_array(), *gaps = json_array();
	int64_t t = 1795000000; /* 2026-11-17 */
	size_t len;
	char *html, *svg_end;

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
	html = render(r, "many.html", &len);
	check_wellformed(html);
	check_every_clip(r, html);
	assert_non_null(strstr(html, "<strong>Aggregated:</strong> 10000 clips and 100 gaps"));
	assert_non_null(strstr(html, "<h3>Clips (10000)</h3>"));
	assert_non_null(strstr(html, "<h3>Gaps (100)</h3>"));
	/* The device's SVG stays small: a few hundred shapes, not ten thousand. */
	svg_end = strstr(strstr(html, "id=\"device-0\""), "</svg>");
	assert_non_null(svg_end);
	*svg_end = 0;
	assert_true(count(strstr(html, "id=\"device-0\""), "<rect") < 1500);
	assert_true(len < 16 * 1024 * 1024);
	free(html);
	json_decref(r);
}

static void test_errors(void **state)
{
	json_t *r = load_sample("one.json");
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
	/* A path naming no file. */
	snprintf(p, sizeof(p), "%s/", tmpdir);
	assert_int_equal(ctl_review_html(r, p, &e), -EINVAL);
	/* A folder in the way of the rename. */
	snprintf(p, sizeof(p), "%s/adir", tmpdir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_true(ctl_review_html(r, p, &e) < 0);
	assert_int_equal(rmdir(p), 0);
	/* Not an object. */
	assert_int_equal(
	    ctl_review_html(json_array_get(json_object_get(r, "open"), 0), "x.html", &e), -EINVAL);
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
	assert_int_equal(ctl_review_html(r, p, &e), 0);
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
		cmocka_unit_test(test_complete), cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_hostile),	 cmocka_unit_test(test_empty),
		cmocka_unit_test(test_one),	 cmocka_unit_test(test_many),
		cmocka_unit_test(test_errors),
	};

	(void)argc;
	(void)argv;
	return cmocka_run_group_tests(tests, setup, teardown);
}
