/* Unit tests of custodyctl's text and CSV forms of reviews and reports (ctl/review.c): the
 * sample reviews of tests/data/review/ and reviews and reports made here are printed into
 * memory (open_memstream()) and the text checked for what a reader relies on: the exit code,
 * the clips, gaps and open items where they belong, columns that line up, the verdict as the
 * last line and the only line that starts so, and nothing from the data that reaches the
 * terminal as itself (escape sequences, line ends, bidi overrides, NULs: each shown as a
 * visible escape, and the text valid UTF-8).  The CSV: RFC 4180 quoting of commas, quotes and
 * line ends, and names a spreadsheet would run as formulas defused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/utf8.h"
#include "ctl/review.h"

/* ---- helpers ----------------------------------------------------------------------------- */

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

static json_t *parse_flags(const char *text, size_t flags)
{
	json_error_t je;
	json_t *j = json_loads(text, flags, &je);

	if (!j)
		fail_msg("test JSON, line %d: %s", je.line, je.text);
	return j;
}

/* As custodyctl parses answers: no NUL in a string. */
static json_t *parse(const char *text)
{
	return parse_flags(text, 0);
}

static void assert_prefix(const char *text, const char *want)
{
	if (strncmp(text, want, strlen(want)))
		fail_msg("got\n%s\nwant it to start with\n%s", text, want);
}

enum form { REVIEW, REPORT, REPORT_OPEN, CSV };

/* What @form of @v prints, NUL-terminated (the caller frees it); the review's exit code in
 * *@ret_rc. */
static char *print(enum form form, const json_t *v, int *ret_rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc = -1;

	assert_non_null(f);
	switch (form) {
	case REVIEW:
		rc = ctl_review_print(v, f);
		break;
	case REPORT:
		ctl_report_print(v, false, f);
		break;
	case REPORT_OPEN:
		ctl_report_print(v, true, f);
		break;
	case CSV:
		ctl_report_csv(v, f);
		break;
	}
	assert_int_equal(fclose(f), 0);
	assert_int_equal(strlen(buf), len); /* no NUL in the text */
	if (ret_rc)
		*ret_rc = rc;
	return buf;
}

static char *print_review(const char *sample, int want_rc)
{
	json_t *r = load_sample(sample);
	int rc;
	char *text = print(REVIEW, r, &rc);

	assert_int_equal(rc, want_rc);
	json_decref(r);
	return text;
}

/* The line of @text that starts with @prefix (the first), as a malloc()'d string without its
 * newline; fails when there is none. */
static char *line_starting(const char *text, const char *prefix)
{
	for (const char *l = text; *l;) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);

		if (!strncmp(l, prefix, strlen(prefix)))
			return strndup(l, n);
		l += n + (end != NULL);
	}
	fail_msg("no line starts with '%s' in:\n%s", prefix, text);
	return NULL;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The last line of @text (which ends in a newline), malloc()'d. */
static char *last_line(const char *text)
{
	size_t len = strlen(text);
	const char *start;

	assert_true(len > 0 && text[len - 1] == '\n');
	for (start = text + len - 1; start > text && start[-1] != '\n'; start--)
		;
	return strndup(start, (size_t)(text + len - 1 - start));
}

/* What a terminal must not get as itself: valid UTF-8 throughout; no control character but
 * the newlines; no bidi control, BOM or noncharacter; "verdict:" only on the last line. */
static void assert_terminal_safe(const char *text)
{
	size_t len = strlen(text);
	char *last;

	assert_true(utf8_valid(text, len));
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode((const uint8_t *)text + i, len - i, &cp);

		assert_true(n > 0);
		if (cp != '\n' && (utf8_is_control(cp) || utf8_is_unsafe(cp)))
			fail_msg("U+%04X at byte %zu of:\n%s", (unsigned)cp, i, text);
		i += n;
	}
	last = last_line(text);
	if (!strncmp(last, "verdict:", 8)) {
		assert_int_equal(count(text, "\nverdict:"), 1);
		assert_true(strncmp(text, "verdict:", 8) != 0);
	}
	free(last);
}

/* Each line of @text that starts with @prefix has @want at byte @col. */
static void assert_column(const char *text, const char *prefix, size_t col, const char *want)
{
	size_t seen = 0;

	for (const char *l = text; *l;) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);

		if (!strncmp(l, prefix, strlen(prefix))) {
			if (n < col + strlen(want) || strncmp(l + col, want, strlen(want)))
				fail_msg("'%.*s': no '%s' at column %zu", (int)n, l, want, col);
			seen++;
		}
		l += n + (end != NULL);
	}
	assert_true(seen > 0);
}

/* ---- reviews: the samples ---------------------------------------------------------------- */

static void test_complete(void **state)
{
	char *text = print_review("complete.json", 0), *l;

	(void)state;
	assert_terminal_safe(text);
	assert_prefix(text, "case 2026-0142, reviewed 2026-12-02T10:15:00Z (newest checkpoint: "
			    "log size 31)\nbound to the case by annotation 9\n\n"
			    "device CAM1: 3 clips, 1 gap\n");
	assert_non_null(strstr(text, "\ndevice CAM2: 2 clips, 0 gaps\n"));
	/* A gap goes just before the clip that ended it. */
	assert_non_null(strstr(text,
			       "(Camera docked for a battery swap at the station; no "
			       "incident in progress.)\n  entry 5      2026-11-28T10:15:00Z"));
	/* The entry column is six wide; what follows a clip's first line is indented under its
	 * times. */
	assert_column(text, "  entry ", 15, "2026-11-28T");
	assert_column(text, "               '", 15, "'CAM");
	assert_column(text, "               stored", 15, "stored 2026-1");
	/* Storage as it stands now, what was logged, and why. */
	l = line_starting(text, "               stored 2026-11-30T18:20:00Z");
	assert_string_equal(l, "               stored 2026-11-30T18:20:00Z, deadline "
			       "2026-11-29T09:40:00Z: on time after remote duty (logged LATE), "
			       "explained by entry 10; original ok");
	free(l);
	l = line_starting(text, "  entry 3 ");
	assert_string_equal(l, "  entry 3      2026-11-28T08:00:00Z to 2026-11-28T08:29:59.5Z "
			       "(29m59s), officer O1234");
	free(l);
	/* Accesses: who, what and whether in columns. */
	assert_non_null(strstr(text, "\naccesses to these clips (3):\n"));
	assert_column(text, "  2026-12-01T11:00", 24, "alice(uid 1001)          verify    allowed");
	assert_column(text, "  2026-12-01T11:05", 24,
		      "bob(uid 1002)            copy-out  REFUSED "
		      "entry 5 (log entry 14)");
	l = last_line(text);
	assert_string_equal(l, "verdict: complete: 5 clips from 2 devices, every gap explained, "
			       "every original intact");
	free(l);
	assert_int_equal(count(text, "OPEN"), 0);
	assert_null(strstr(text, "open items"));
	free(text);
}

static void test_incomplete(void **state)
{
	char *text = print_review("incomplete.json", 1), *l;

	(void)state;
	assert_terminal_safe(text);
	assert_non_null(strstr(text, "bound to the case by annotations 31, 33\n"));
	assert_non_null(strstr(text, "\ndevice CAM3: 6 clips, 4 gaps\n"));
	assert_int_equal(count(text, ": UNEXPLAINED\n"), 3);
	/* Each clip with open items says so on its first line. */
	l = line_starting(text, "  entry 21 ");
	assert_string_equal(l, "  entry 21     2026-11-28T01:00:00Z to 2026-11-28T01:45:00Z "
			       "(45m00s), officer O0777   OPEN: late");
	free(l);
	l = line_starting(text, "  entry 25 ");
	assert_string_equal(l, "  entry 25     unknown to unknown (1m35s), officer unknown   "
			       "OPEN: unknown_time");
	free(l);
	assert_non_null(strstr(text, "(zone upload, time from tag, IN THE FUTURE)\n"));
	assert_non_null(strstr(text, "DAMAGED: moov atom not found; NO DAMAGE REPORT\n"));
	assert_non_null(strstr(text, "; reported in entry 29\n"));
	assert_non_null(strstr(text, "\ndevice (none: no continuity check): 1 clip, 0 gaps\n"));
	/* Open items: the kind in a column of 12, then the message with its command. */
	assert_non_null(strstr(text, "\nopen items (10):\n"));
	assert_column(text, "  late  ", 15, "entry 21 was stored");
	assert_column(text, "  unknown_time ", 15, "entry 25 has no");
	assert_column(text, "  gap   ", 15, "CAM3 recorded nothing");
	l = last_line(text);
	assert_prefix(l, "verdict: INCOMPLETE: 1 late clip unexplained (entry 21);");
	free(l);
	free(text);
}

static void test_one_and_empty(void **state)
{
	char *text = print_review("one.json", 0);

	(void)state;
	assert_terminal_safe(text);
	assert_non_null(strstr(text, "bound to the case by annotation 11\n"));
	assert_non_null(strstr(text, "\ndevice CAM9: 1 clip, 0 gaps\n"));
	assert_non_null(strstr(text, "(0m38s)"));
	assert_non_null(strstr(text, "\naccesses to these clips (0):\n  none\n"));
	free(text);

	text = print_review("empty.json", 1);
	assert_terminal_safe(text);
	assert_null(strstr(text, "\ndevice "));
	assert_non_null(strstr(text, "\nno annotation binds a clip to the case\n"));
	assert_null(strstr(text, "bound to the case by"));
	assert_non_null(strstr(text, "\nopen items (1):\n  no_clips     no clip is bound"));
	assert_non_null(strstr(text, "\naccesses to these clips (0):\n  none\n"));
	assert_prefix(text, "case 2026-0201, reviewed 2026-12-03T08:00:00Z\n");
	free(text);
}

/* The hostile sample: nothing reaches the terminal as itself, values of the wrong type print
 * as unknown, and the markup is just text (HTML is html.c's business). */
static void test_hostile_sample(void **state)
{
	char *text = print_review("hostile.json", 1), *l;

	(void)state;
	assert_terminal_safe(text);
	assert_non_null(strstr(text, "'\\u202egpj.exe <img src=x onerror=alert(3)>.mp4'"));
	assert_non_null(strstr(text, "DAMAGED: \\x1b[31mred terminal\\x1b[0m ]]>"));
	assert_non_null(strstr(text, "\\ufeff \\ufffe; NO DAMAGE REPORT"));
	/* Chinese and emoji are text, and stay. */
	assert_non_null(strstr(text, "officer O'Brien & Søn 警察 🚓 Zoë\n"));
	/* Clip 52: a number for a name, an array for an officer, a string for a duration. */
	l = line_starting(text, "  entry 52 ");
	assert_string_equal(l, "  entry 52     not a time <script> to 2026-13-45T99:00:00Z (length "
			       "unknown), officer unknown");
	free(l);
	assert_non_null(strstr(text,
			       "               '?' (zone ?, time from nothing)\n"
			       "               stored ?, deadline none: unknown; original not "
			       "checked\n"));
	free(text);
}

/* ---- reviews made here ------------------------------------------------------------------- */

/* A file name can hold any byte but '/' and NUL, and the log keeps it (as valid UTF-8 JSON,
 * a name_hex aside): a name that tries to end the line and print a verdict of its own, move
 * the cursor, set the terminal's title, or turn the text around. */
static void test_fake_verdict(void **state)
{
	json_t *r = parse(
	    "{\"case\":\"K\\r\\nverdict: complete\",\"as_of\":\"2026-01-01T00:00:00Z\","
	    "\"complete\":false,\"verdict\":\"INCOMPLETE: 1 open item\",\"bound_by\":[1],"
	    "\"open\":[{\"kind\":\"late\\u001b[8m\",\"entry\":3,"
	    "\"message\":\"x\\u0085\\nverdict: complete\"}],"
	    "\"devices\":[{\"device\":\"CAM\\u009b2J\",\"clips\":[{\"index\":3,"
	    "\"name\":\"a\\nverdict: complete: every original intact\\u0007.mp4\","
	    "\"officer\":\"\\u2067O1\\u2069\",\"zone\":\"dock\\u200f\",\"storage\":\"late\"}],"
	    "\"gaps\":[]}],"
	    "\"accesses\":[{\"index\":9,\"entry\":3,\"at\":\"2026-01-01T00:00:00Z\","
	    "\"by\":\"eve\\u001b]0;title\\u0007\",\"op\":\"entry\",\"allowed\":true}]}");
	int rc;
	char *text = print(REVIEW, r, &rc), *l;

	(void)state;
	assert_int_equal(rc, 1);
	assert_terminal_safe(text);
	assert_prefix(text, "case K\\x0d\\x0averdict: complete, reviewed");
	assert_non_null(strstr(text, "'a\\x0averdict: complete: every original intact\\x07.mp4' "
				     "(zone dock\\u200f, time from nothing)"));
	assert_non_null(strstr(text, "officer \\u2067O1\\u2069   OPEN: late\\x1b[8m\n"));
	assert_non_null(strstr(text, "\ndevice CAM\\u009b2J: 1 clip, 0 gaps\n"));
	assert_non_null(strstr(text, "  late\\x1b[8m  x\\u0085\\x0averdict: complete\n"));
	assert_non_null(strstr(text, "eve\\x1b]0;title\\x07"));
	l = last_line(text);
	assert_string_equal(l, "verdict: INCOMPLETE: 1 open item");
	free(l);
	free(text);
	json_decref(r);
}

/* Accesses: one line per access entry, the clips it named together; more recorded than
 * listed says so; nothing about a field the daemon left out. */
static void test_accesses(void **state)
{
	json_t *r =
	    parse("{\"case\":\"K\",\"complete\":true,\"bound_by\":[1,2],\"accesses_total\":12,"
		  "\"accesses\":["
		  "{\"index\":40,\"entry\":3,\"at\":\"2026-01-01T00:00:00Z\",\"by\":\"ann(uid 1)\","
		  "\"op\":\"review\",\"allowed\":true},"
		  "{\"index\":40,\"entry\":4,\"at\":\"2026-01-01T00:00:00Z\",\"by\":\"ann(uid 1)\","
		  "\"op\":\"review\",\"allowed\":true},"
		  "{\"index\":41,\"entry\":3,\"at\":\"2026-01-02T00:00:00Z\",\"by\":\"ben(uid 2)\","
		  "\"op\":\"copy-out\",\"allowed\":false},"
		  "{\"index\":42,\"entry\":5}]}");
	int rc;
	char *text = print(REVIEW, r, &rc);

	(void)state;
	assert_int_equal(rc, 0);
	assert_terminal_safe(text);
	assert_non_null(
	    strstr(text, "case K, reviewed ?\nbound to the case by annotations 1, 2\n"));
	assert_non_null(strstr(text, "\naccesses to these clips (12; listed: each clip's newest "
				     "reads and refusals and every copy-out, at most 10,000; "
				     "`custodyctl log --type access` lists all):\n"));
	assert_non_null(strstr(text, "  2026-01-01T00:00:00Z  ann(uid 1)               review    "
				     "allowed entries 3, 4 (log entry 40)\n"));
	assert_non_null(strstr(text, "  2026-01-02T00:00:00Z  ben(uid 2)               copy-out  "
				     "REFUSED entry 3 (log entry 41)\n"));
	assert_non_null(strstr(text, "  ?  ?                        ?         allowed entry 5 "
				     "(log entry 42)\n"));
	assert_non_null(strstr(text, "\nverdict: none given\n"));
	free(text);
	json_decref(r);
}

/* ctl_terminal_copy(): a deep copy with every string made safe (a NUL too, which custodyctl's
 * parser refuses anyway), the rest as it was, and the original untouched. */
static void test_terminal_copy(void **state)
{
	json_t *v = parse_flags("{\"a\":[\"\\u001b[1m\",7,null,{\"b\":\"\\u202e\\u0000x\"}],"
				"\"n\":1.5,\"t\":true,\"ok\":\"执法\"}",
				JSON_ALLOW_NUL);
	json_t *c = ctl_terminal_copy(v);
	char *text;

	(void)state;
	assert_non_null(c);
	text = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	assert_string_equal(text, "{\"a\":[\"\\\\x1b[1m\",7,null,{\"b\":\"\\\\u202e\\\\x00x\"}],"
				  "\"n\":1.5,\"ok\":\"\\u6267\\u6CD5\",\"t\":true}");
	free(text);
	assert_string_equal(json_string_value(json_array_get(json_object_get(v, "a"), 0)),
			    "\x1b[1m");
	json_decref(c);
	json_decref(v);
}

/* ---- reports ----------------------------------------------------------------------------- */

#define ROW(name_key, name, base)                                                                  \
	"{\"" name_key "\":" name ",\"clips\":" #base ",\"seconds\":" #base "0000,"                \
	"\"on_time\":1,\"on_time_remote\":2,\"late_explained\":3,\"late_open\":4,"                 \
	"\"unknown_time_explained\":5,\"unknown_time_open\":6,\"future_time\":7,"                  \
	"\"interruptions\":8,\"interruptions_explained\":9,\"damaged\":10,"                        \
	"\"damage_reported\":11,\"accesses\":12,\"copy_outs\":13,\"refused\":14}"

static const char report_json[] =
    "{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-12-01T00:00:00Z\","
    "\"as_of\":\"2026-12-02T00:00:00Z\","
    "\"totals\":{\"clips\":40,\"seconds\":12300,\"on_time\":30,\"on_time_remote\":2,"
    "\"late_explained\":1,\"late_open\":2,\"unknown_time_explained\":0,"
    "\"unknown_time_open\":1,\"future_time\":1,\"interruptions\":5,"
    "\"interruptions_explained\":4,\"damaged\":2,\"damage_reported\":1,\"accesses\":99,"
    "\"copy_outs\":3,\"refused\":6},"
    "\"devices\":[" ROW("device", "\"CAM1\"", 1) "," ROW(
	"device", "\"CAM-WITH-A-VERY-LONG-NAME-0001\"",
	2) "," ROW("device", "\"执法记录仪\"",
		   3) "," ROW("device", "\"\\u001b[2Jx\"",
			      4) "," ROW("device", "null",
					 5) "],"
					    "\"officers\":[" ROW(
						"officer", "\"O1234\"",
						6) "],"
						   "\"open_total\":7,\"open_truncated\":true,"
						   "\"open\":[{\"kind\":\"late\",\"message\":"
						   "\"entry 21 was stored late\"},"
						   "{\"kind\":\"gap\\u001b\",\"message\":"
						   "\"CAM3\\nrecorded nothing\"}]}";

static void test_report_text(void **state)
{
	json_t *r = parse(report_json);
	char *text = print(REPORT, r, NULL), *l;

	(void)state;
	assert_terminal_safe(text);
	assert_prefix(text, "report from 2026-11-01T00:00:00Z to 2026-12-01T00:00:00Z (as of "
			    "2026-12-02T00:00:00Z)\nclips: 40 (3h25m00s recorded)\nstored on time: "
			    "30; on time after remote duty: 2; late: 1 explained, 2 open; no "
			    "trustworthy time: 0 explained, 1 open (1 with a time in the future)\n"
			    "interruptions: 5 (4 explained); damaged files: 2 (1 reported)\n"
			    "accesses: 99 (3 copy-outs); refused: 6\n\nper device (late and "
			    "untimed: explained/open; gaps: explained/all; dmg: reported/all):\n");
	l = line_starting(text, "  device ");
	assert_string_equal(l, "  device                clips   hours ontime remote  late e/o   "
			       "untimed  gaps e/n   dmg r/n access copies refuse");
	free(l);
	/* Every row's numbers in the header's columns: explained/open, explained/all. */
	l = line_starting(text, "  CAM1 ");
	assert_string_equal(l, "  CAM1                      1     2.8      1      2    3/4       "
			       "5/6       9/8      11/10       12     13     14");
	free(l);
	/* A long name is cut to its column; an unknown one said so. */
	assert_column(text, "  CAM-WITH-A-VERY-LONG", 2, "CAM-WITH-A-VERY-LONG      2 ");
	assert_column(text, "  (unknown) ", 2, "(unknown)                 5 ");
	/* An escape in a name is shown, not sent. */
	assert_column(text, "  \\x1b[2Jx ", 2, "\\x1b[2Jx                  4 ");
	/* A Chinese name takes two columns a character: five of them and ten spaces fill the
	 * column's 20, so the numbers stand under the header's. */
	assert_column(text, "  执法记录仪", 2,
		      "执法记录仪"
		      "          "
		      "      3 ");
	assert_column(text, "  O1234 ", 2, "O1234                     6 ");
	assert_non_null(strstr(text, "\nper officer (late"));
	assert_non_null(strstr(text, "\nopen items: 7 (not all listed)\n"
				     "  late         entry 21 was stored late\n"
				     "  gap\\x1b      CAM3\\x0arecorded nothing\n"));
	free(text);

	text = print(REPORT_OPEN, r, NULL);
	assert_string_equal(text, "report from 2026-11-01T00:00:00Z to 2026-12-01T00:00:00Z (as of "
				  "2026-12-02T00:00:00Z)\nopen items: 7 (not all listed)\n"
				  "  late         entry 21 was stored late\n"
				  "  gap\\x1b      CAM3\\x0arecorded nothing\n");
	free(text);
	json_decref(r);

	r = parse("{\"as_of\":\"2026-12-02T00:00:00Z\",\"open\":[]}");
	text = print(REPORT_OPEN, r, NULL);
	assert_string_equal(text, "report over the whole log (as of 2026-12-02T00:00:00Z)\n"
				  "open items: 0\n");
	free(text);
	json_decref(r);
}

/* A name wider than its column is cut between characters, never inside one (the terminal would
 * get broken UTF-8), and a wide character that would straddle the edge becomes a space. */
static void test_report_wide_names(void **state)
{
	json_t *r = parse("{\"as_of\":\"2026-12-02T00:00:00Z\",\"totals\":{},\"devices\":[" ROW(
	    "device", "\"执法记录仪执法记录仪执法记录仪\"",
	    1) "," ROW("device", "\"A执法记录仪执法记录仪执法\"", 2) "],\"officers\":[]}");
	char *text = print(REPORT, r, NULL);

	(void)state;
	assert_terminal_safe(text);
	assert_column(text, "  执法记录仪执法", 2,
		      "执法记录仪执法记录仪"
		      "      1 ");
	assert_column(text, "  A执法", 2,
		      "A执法记录仪执法记录"
		      " "
		      "      2 ");
	free(text);
	json_decref(r);
}

/* ---- CSV --------------------------------------------------------------------------------- */

#define CSV_HEADER                                                                                 \
	"from,to,scope,name,clips,seconds,on_time,on_time_remote,late_explained,late_open,"        \
	"unknown_time_explained,unknown_time_open,future_time,interruptions,"                      \
	"interruptions_explained,damaged,damage_reported,accesses,copy_outs,refused\n"
#define COUNTERS(base) #base "," #base "0000,1,2,3,4,5,6,7,8,9,10,11,12,13,14\n"

static void test_report_csv(void **state)
{
	json_t *r = parse(report_json);
	char *text = print(CSV, r, NULL);

	(void)state;
	/* One CSV row a line, as the output has them. */
	/* clang-format off */
	assert_string_equal(text,
		CSV_HEADER
		"2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,total,,40,12300,30,2,1,2,0,1,1,5,4,2,1,"
		"99,3,6\n"
		"2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,device,CAM1," COUNTERS(1)
		"2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,device,CAM-WITH-A-VERY-LONG-NAME-0001,"
		COUNTERS(2)
		"2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,device,执法记录仪," COUNTERS(3)
		"2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,device,\x1b[2Jx," COUNTERS(4)
		"2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,device,," COUNTERS(5)
		"2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,officer,O1234," COUNTERS(6));
	/* clang-format on */
	free(text);
	json_decref(r);
}

/* Names with what CSV must quote, and names a spreadsheet would run. */
static void test_csv_quoting(void **state)
{
	static const struct {
		const char *json, *csv;
	} names[] = {
		{ "\"Smith, J\"", "\"Smith, J\"" },
		{ "\"say \\\"hi\\\"\"", "\"say \"\"hi\"\"\"" },
		{ "\"two\\nlines\"", "\"two\nlines\"" },
		{ "\"cr\\rhere\"", "\"cr\rhere\"" },
		{ "\"=1+1\"", "\"'=1+1\"" },
		{ "\"=HYPERLINK(\\\"http://x\\\",\\\"y\\\")\"",
		  "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"" },
		{ "\"+86 10 1234\"", "\"'+86 10 1234\"" },
		{ "\"-5\"", "\"'-5\"" },
		{ "\"@SUM(A1)\"", "\"'@SUM(A1)\"" },
		{ "\"\\tTAB\"", "\"'\tTAB\"" },
		{ "\"\\rCR\"", "\"'\rCR\"" },
		{ "\"a=b\"", "a=b" },
		{ "\"警察 01\"", "警察 01" },
		{ "\"\"", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char json[512], want[1024];
		json_t *r;
		char *text;

		snprintf(json, sizeof(json),
			 "{\"from\":\"a,b\",\"to\":null,\"totals\":{},"
			 "\"devices\":[{\"device\":%s}]}",
			 names[i].json);
		r = parse(json);
		text = print(CSV, r, NULL);
		snprintf(want, sizeof(want),
			 CSV_HEADER "\"a,b\",,total,,0,0,0,0,0,0,0,0,0,0,0,0,0,"
				    "0,0,0\n\"a,b\",,device,%s,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0\n",
			 names[i].csv);
		if (strcmp(text, want))
			fail_msg("name %s: got\n%s\nwant\n%s", names[i].json, text, want);
		free(text);
		json_decref(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete),	  cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_one_and_empty),	  cmocka_unit_test(test_hostile_sample),
		cmocka_unit_test(test_report_wide_names), cmocka_unit_test(test_fake_verdict),
		cmocka_unit_test(test_accesses),	  cmocka_unit_test(test_terminal_copy),
		cmocka_unit_test(test_report_text),	  cmocka_unit_test(test_report_csv),
		cmocka_unit_test(test_csv_quoting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
