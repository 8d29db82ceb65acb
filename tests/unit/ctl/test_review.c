/* Unit tests of custodyctl's text and CSV forms (ctl/review.c): the sample reviews of
 * tests/data/review/, the record-shaped review, history and case list of tests/data/ctl/ (the
 * fields of docs/review-format.md), and answers made here, printed into memory
 * (open_memstream()) and checked for what a reader relies on: the exit code; the record (the
 * checkpoint as custodyctl checked it); every clip with what explains it on its row and the raw
 * error on a detail line; open items once each, in words, with the closing command on the line
 * below; reservations; annotation fields in a fixed order; accesses grouped per person and
 * action with counts that say what is listed; the verdict composed from the fields, naming
 * every damaged file, as the last line and the only one so labelled; times in the display zone
 * (Asia/Shanghai, +08:00) and durations in days, hours and minutes; columns aligned by display
 * width under Chinese names; Chinese words under zh_CN.UTF-8 (the build's own catalogue); and
 * nothing from the data reaching the terminal as itself.  The CSV: RFC 4180 quoting, formulas
 * defused, a byte order mark when asked, English whatever the locale. */
#include <libintl.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/err.h"
#include "base/utf8.h"
#include "ctl/review.h"
#include "ctl/show.h"
#include "ingest/tz.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static struct ing_tz *shanghai;

static json_t *load(const char *dir, const char *name)
{
	char p[4096];
	json_error_t je;
	json_t *j;

	snprintf(p, sizeof(p), "%s/%s/%s", TEST_DATA, dir, name);
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

static void assert_has(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("no '%s' in:\n%s", want, text);
}

static void assert_lacks(const char *text, const char *unwanted)
{
	if (strstr(text, unwanted))
		fail_msg("'%s' in:\n%s", unwanted, text);
}

enum form { REVIEW, HISTORY, CASES, REPORT, REPORT_OPEN, CSV, CSV_BOM };

/* What @form of @v prints with @ctx (or its zone), NUL-terminated (the caller frees it); the
 * exit code of a review or history in *@ret_rc. */
static char *print_ctx(enum form form, const json_t *v, const struct ctl_page_ctx *ctx, int *ret_rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const struct ing_tz *tz = ctx ? ctx->tz : NULL;
	int rc = -1;

	assert_non_null(f);
	switch (form) {
	case REVIEW:
		rc = ctl_review_print(v, ctx, f);
		break;
	case HISTORY:
		rc = ctl_history_print(v, ctx, f);
		break;
	case CASES:
		ctl_cases_print(v, tz, f);
		break;
	case REPORT:
		ctl_report_print(v, false, tz, f);
		break;
	case REPORT_OPEN:
		ctl_report_print(v, true, tz, f);
		break;
	case CSV:
		ctl_report_csv(v, false, f);
		break;
	case CSV_BOM:
		ctl_report_csv(v, true, f);
		break;
	}
	assert_int_equal(fclose(f), 0);
	assert_int_equal(strlen(buf), len); /* no NUL in the text */
	if (ret_rc)
		*ret_rc = rc;
	return buf;
}

static char *print(enum form form, const json_t *v, int *ret_rc)
{
	return print_ctx(form, v, NULL, ret_rc);
}

static char *print_review(const char *sample, int want_rc)
{
	json_t *r = load("review", sample);
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

/* The line after the one that starts with @prefix, malloc()'d. */
static char *line_after(const char *text, const char *prefix)
{
	char *l = line_starting(text, prefix);
	const char *at = strstr(text, l), *next = strchr(at, '\n');

	free(l);
	assert_non_null(next);
	next++;
	return strndup(next, strcspn(next, "\n"));
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
 * the newlines; no bidi control, BOM or noncharacter; @label (the verdict's) only on the last
 * line. */
static void assert_terminal_safe_label(const char *text, const char *label)
{
	size_t len = strlen(text);
	char nl_label[64], *last;

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
	snprintf(nl_label, sizeof(nl_label), "\n%s", label);
	if (!strncmp(last, label, strlen(label))) {
		assert_int_equal(count(text, nl_label), 1);
		assert_true(strncmp(text, label, strlen(label)) != 0);
	}
	free(last);
}

static void assert_terminal_safe(const char *text)
{
	assert_terminal_safe_label(text, "verdict:");
}

/* The display columns of the first @n bytes of @s. */
static unsigned columns(const char *s, size_t n)
{
	unsigned w = 0;

	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = utf8_decode((const uint8_t *)s + i, n - i, &cp);

		assert_true(k > 0);
		w += utf8_width(cp);
		i += k;
	}
	return w;
}

/* The display column at which @needle starts in the line of @text starting with @prefix. */
static unsigned column_of(const char *text, const char *prefix, const char *needle)
{
	char *l = line_starting(text, prefix);
	const char *at = strstr(l, needle);
	unsigned c;

	if (!at)
		fail_msg("no '%s' in '%s'", needle, l);
	c = columns(l, (size_t)(at - l));
	free(l);
	return c;
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

/* The language of the messages: English (C.UTF-8) or Chinese, from the build's catalogue
 * (build/po/locale, beside this test's folder).  @return false when the system lacks the
 * locale (then the test is skipped: scripts/deps generates it). */
static bool speak(const char *locale)
{
	static char dir[4096];
	ssize_t n;

	if (!dir[0]) {
		n = readlink("/proc/self/exe", dir, sizeof(dir) - 32);
		assert_true(n > 0);
		dir[n] = '\0';
		*strrchr(dir, '/') = '\0'; /* build/tests */
		*strrchr(dir, '/') = '\0'; /* build */
		strcat(dir, "/po/locale");
	}
	unsetenv("LANGUAGE");
	if (!setlocale(LC_ALL, locale))
		return false;
	bindtextdomain("custody", dir);
	bind_textdomain_codeset("custody", "UTF-8");
	textdomain("custody");
	return true;
}

static int teardown_english(void **state)
{
	(void)state;
	speak("C.UTF-8");
	return 0;
}

/* What custodyctl knows of the record in these tests: checked, shown in Shanghai time. */
static struct ctl_page_ctx checked_ctx(void)
{
	return (struct ctl_page_ctx){ .tz = shanghai,
				      .checked = true,
				      .origin = "office.example/custody",
				      .size = 40,
				      .root = "Q2hlY2twb2ludCByb290IGhhc2ggaGVyZS4uLi4uLi4=",
				      .key_name = "office.example/custody",
				      .key_id = "1a2b3c4d" };
}

/* ---- reviews: the samples ---------------------------------------------------------------- */

static void test_complete(void **state)
{
	char *text = print_review("complete.json", 0), *l;

	(void)state;
	assert_terminal_safe(text);
	/* Nothing checked (no ctx): said so; times in UTC with their offset. */
	assert_prefix(text, "case 2026-0142\nreviewed 2026-12-02 10:15:00 +00:00\n"
			    "record: checkpoint of size 31, NOT CHECKED: custodyctl did not check "
			    "it\nbound to the case by annotation 9\n\n"
			    "device CAM1: 3 clips, 1 gap\n");
	assert_has(text, "\ndevice CAM2: 2 clips, 0 gaps\n");
	/* A gap goes just before the clip that ended it, its length in hours and minutes. */
	assert_has(text,
		   "  -- gap of 1 h 27 min from 2026-11-28 08:47:12 +00:00 to 2026-11-28 "
		   "10:15:00 +00:00: explained by entry 12 (Camera docked for a battery swap "
		   "at the station; no incident in progress.)\n  entry 5  2026-11-28 10:15:00");
	assert_lacks(text, "5268 s");
	/* The entry column is as wide as the widest "entry N"; the detail lines stand under the
	 * times. */
	assert_column(text, "  entry 3 ", 11, "2026-11-28 ");
	assert_column(text, "  entry 7  2", 11, "2026-11-28 ");
	assert_column(text, "           '", 11, "'CAM");
	assert_column(text, "           stored", 11, "stored 2026-1");
	/* Storage as it stands now, what was logged, and why (an older daemon: numbers). */
	l = line_starting(text, "           stored 2026-11-30 18:20:00");
	assert_string_equal(l,
			    "           stored 2026-11-30 18:20:00 +00:00, deadline "
			    "2026-11-29 09:40:00 +00:00: on time after remote duty (logged LATE); "
			    "original intact");
	free(l);
	l = line_after(text, "           stored 2026-11-30 18:20:00");
	assert_string_equal(l, "           explained by entry 10");
	free(l);
	l = line_starting(text, "  entry 3 ");
	assert_string_equal(l, "  entry 3  2026-11-28 08:00:00 +00:00 to 2026-11-28 08:29:59 "
			       "+00:00 (29 min 59 s), officer O1234");
	free(l);
	/* Accesses (from an older daemon's per-clip list): per person and action, counted. */
	assert_has(text, "\naccesses to these clips (3):\n");
	assert_has(text,
		   "  alice(uid 1001)  verify    1 time, 2026-12-01 11:00:00 +00:00; entry 3\n");
	assert_has(text, "  bob(uid 1002)    copy-out  1 time, 1 REFUSED, 2026-12-01 11:05:00 "
			 "+00:00; entry 5\n");
	assert_has(text, "copy-outs (1):\n  2026-12-01 11:05:00 +00:00  bob(uid 1002): entry 5: "
			 "REFUSED\n");
	/* Annotations in the human order: what, when, why, who. */
	assert_has(text, "  remote duty: device CAM2; from 2026-11-27 06:00:00 +00:00; to "
			 "2026-11-30 12:00:00 +00:00; returned 2026-11-30 16:00:00 +00:00; by "
			 "dave(uid 1004); at 2026-11-30 17:00:00 +00:00\n");
	/* No reservations field (an older daemon): derived from the clips and gaps; the verdict
	 * says them. */
	assert_has(text, "\nreservations (3):\n");
	assert_has(text,
		   "  entry 7 (CAM2): on time only by a remote-duty declaration (entry 10)\n");
	l = last_line(text);
	assert_string_equal(l, "verdict: complete with reservations: 5 clips from 2 devices, every "
			       "gap explained, every original intact; gap on CAM1 from 2026-11-28 "
			       "08:47:12 +00:00 to 2026-11-28 10:15:00 +00:00 (interruption, entry "
			       "12); entry 7 on time only by a remote-duty declaration (entry 10); "
			       "entry 8 stored late (explained, entry 11)");
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
	assert_has(text, "bound to the case by annotations 31, 33\n");
	assert_has(text, "\ndevice CAM3: 6 clips, 4 gaps\n");
	assert_int_equal(count(text, ": UNEXPLAINED\n"), 3);
	/* Each clip with open items says so on its first line, in words. */
	l = line_starting(text, "  entry 21 ");
	assert_string_equal(l, "  entry 21  2026-11-28 01:00:00 +00:00 to 2026-11-28 01:45:00 "
			       "+00:00 (45 min 0 s), officer O0777   OPEN: stored late");
	free(l);
	l = line_starting(text, "  entry 25 ");
	assert_string_equal(l, "  entry 25  unknown to unknown (1 min 35 s), officer unknown   "
			       "OPEN: no trustworthy time");
	free(l);
	assert_has(text, "(zone upload, time from the file's creation tag, IN THE FUTURE)\n");
	/* A damaged clip: its status on the row, the raw error on a detail line under it. */
	assert_has(text, "            DAMAGED: NO DAMAGE REPORT\n"
			 "            detail: moov atom not found\n");
	assert_has(text,
		   "            DAMAGED: reported in entry 29\n"
		   "            detail: RIFF size says 120000000 bytes, the file has 90000000\n");
	assert_has(text, "\nno device (no continuity check): 1 clip, 0 gaps\n");
	/* Open items once each in words; an older daemon's message (with its command) on the
	 * line below. */
	assert_has(text, "\nopen items (10):\n");
	assert_has(text, "  entry 21 (CAM3): stored 2 d 13 h 15 min after its deadline; not "
			 "explained\n      the daemon says: entry 21 was stored");
	assert_has(text, "  CAM3 recorded nothing for 1 d 11 h 30 min, from 2026-11-28 02:30:00 "
			 "+00:00 to 2026-11-29 14:00:00 +00:00; not explained\n");
	assert_has(text, "  entry 22 (CAM3): the stored original no longer matches its entry");
	l = last_line(text);
	assert_prefix(l, "verdict: INCOMPLETE: 1 late clip unexplained (entry 21); 1 clip without "
			 "a trustworthy time unexplained (entry 25); 1 clip with a recording time "
			 "in the future unexplained (entry 26); 3 unexplained gaps (CAM3 from ");
	/* The damaged file reported is named too, after the open items. */
	assert_has(l, "; 1 damaged file without a report (entry 23); 1 original altered (entry "
		      "22); 1 original missing or unreadable (entry 24); 1 original purged (entry "
		      "27); reservations: ");
	assert_has(l, "entry 28 damaged (reported, entry 29)");
	free(l);
	free(text);
}

static void test_one_and_empty(void **state)
{
	char *text = print_review("one.json", 0), *l;

	(void)state;
	assert_terminal_safe(text);
	assert_has(text, "bound to the case by annotation 11\n");
	assert_has(text, "\ndevice CAM9: 1 clip, 0 gaps\n");
	assert_has(text, "(38 s)");
	assert_has(text, "\naccesses to these clips (0):\n  none\n");
	l = last_line(text);
	assert_string_equal(l, "verdict: complete: 1 clip from 1 device, no gaps, every original "
			       "intact");
	free(l);
	free(text);

	text = print_review("empty.json", 1);
	assert_terminal_safe(text);
	assert_null(strstr(text, "\ndevice "));
	assert_has(text, "\nno annotation binds a clip to the case\n");
	assert_null(strstr(text, "bound to the case by"));
	assert_has(text, "\nopen items (1):\n  the case binds no clips\n");
	assert_has(text, "\naccesses to these clips (0):\n  none\n");
	assert_prefix(text, "case 2026-0201\nreviewed 2026-12-03 08:00:00 +00:00\n");
	l = last_line(text);
	assert_string_equal(l, "verdict: INCOMPLETE: the case binds no clips");
	free(l);
	free(text);
}

/* The hostile sample: nothing reaches the terminal as itself, values of the wrong type print
 * as unknown, and the markup is just text (HTML is html.c's business). */
static void test_hostile_sample(void **state)
{
	char *text = print_review("hostile.json", 1), *l;

	(void)state;
	assert_terminal_safe(text);
	assert_has(text, "'\\u202egpj.exe <img src=x onerror=alert(3)>.mp4'");
	assert_has(text, "detail: \\x1b[31mred terminal\\x1b[0m ]]>");
	assert_has(text, "\\ufeff \\ufffe\n");
	/* Chinese and emoji are text, and stay. */
	assert_has(text, "officer O'Brien & Søn 警察 🚓 Zoë\n");
	/* Clip 52: a number for a name, an array for an officer, a string for a duration. */
	l = line_starting(text, "  entry 52 ");
	assert_string_equal(l, "  entry 52  not a time <script> to 2026-13-45T99:00:00Z (length "
			       "unknown), officer unknown");
	free(l);
	assert_has(text, "            '?' (zone ?, time from nothing)\n"
			 "            stored unknown, deadline none: unknown; original not "
			 "checked\n");
	/* An open item of a kind this custodyctl does not know: the daemon's words, once. */
	assert_int_equal(count(text, "fish & chips"), 1);
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
	assert_prefix(text, "case K\\x0d\\x0averdict: complete\n");
	assert_has(text, "'a\\x0averdict: complete: every original intact\\x07.mp4' "
			 "(zone dock\\u200f, time from nothing)");
	assert_has(text, "officer \\u2067O1\\u2069   OPEN: late\\x1b[8m\n");
	assert_has(text, "\ndevice CAM\\u009b2J: 1 clip, 0 gaps\n");
	assert_has(text, "  entry 3 (CAM\\u009b2J): x\\u0085\\x0averdict: complete\n");
	assert_has(text, "eve\\x1b]0;title\\x07");
	l = last_line(text);
	assert_string_equal(l, "verdict: INCOMPLETE: ");
	free(l);
	free(text);
	json_decref(r);
}

/* The record-shaped review (every field of docs/review-format.md), checked, in Shanghai time. */
static void test_record(void **state)
{
	json_t *r = load("ctl", "review-record.json");
	struct ctl_page_ctx ctx = checked_ctx();
	int rc;
	char *text = print_ctx(REVIEW, r, &ctx, &rc), *l;

	(void)state;
	assert_int_equal(rc, 1);
	assert_terminal_safe(text);
	/* Who asked, when (in the office's zone), and the record it rests on. */
	assert_prefix(text,
		      "case 2026-XZ-0042\n"
		      "reviewed 2026-12-02 10:15:00 +08:00, at the request of alice(uid 1001)\n"
		      "record: log 'office.example/custody', checkpoint of size 40, root hash "
		      "Q2hlY2twb2ludCByb290IGhhc2ggaGVyZS4uLi4uLi4=\n"
		      "        signed with verifier key office.example/custody (key ID 1a2b3c4d): "
		      "checked ✓\n"
		      "bound to the case by annotations 9, 22\n");
	/* The damaged clip: the report's own text on its row, the raw error on a detail line,
	 * the other case as a cross-reference. */
	assert_has(text,
		   "  entry 8   2026-11-28 09:20:00 +08:00 to unknown (length unknown), "
		   "officer 王小明\n"
		   "            'CAM02_王小明_20261128T092000.mp4' (zone dock, time from the file "
		   "name)\n"
		   "            stored 2026-11-28 15:00:00 +08:00, deadline none: on time; "
		   "original intact\n"
		   "            DAMAGED: damage report, entry 21 (carol(uid 1003), 2026-11-29 "
		   "09:00:00 +08:00): '电池在录制时耗尽'\n"
		   "            also bound to case 沪公(2026)行罚字第0042号\n"
		   "            detail: moov atom not found\n");
	/* The late clip: the reason itself, not "explained by #19". */
	assert_has(text, "            explained in entry 19 (dave(uid 1004), 2026-12-01 09:30:00 "
			 "+08:00): 'Docking station at the north post was out of order.'\n");
	/* Durations: a 590 s gap and one of three days. */
	assert_has(text, "  -- gap of 9 min 50 s from 2026-11-28 10:05:00 +08:00 to 2026-11-28 "
			 "10:14:50 +08:00: explained by entry 20 (换电池)\n");
	assert_has(text, "  -- gap of 3 d 3 h 10 min from 2026-11-28 19:00:00 +08:00 to "
			 "2026-12-01 22:10:00 +08:00: UNEXPLAINED\n");
	assert_lacks(text, "270600");
	/* Open items: once each, in words, the command on its own line. */
	assert_has(text,
		   "\nopen items (3):\n"
		   "  entry 25 (CAM05): stored 3 d 2 h 0 min after its deadline; not "
		   "explained\n"
		   "      to close: custodyctl annotate late_storage --entry 25 --reason TEXT\n"
		   "  entry 30: its name matches no pattern of its zone: no device, so no "
		   "continuity check\n"
		   "      to close: custodyctl annotate device --entry 30 --device D --reason "
		   "TEXT\n"
		   "  CAM05 recorded nothing for 3 d 3 h 10 min, from 2026-11-28 19:00:00 "
		   "+08:00 to 2026-12-01 22:10:00 +08:00; not explained\n"
		   "      to close: custodyctl annotate interruption --device CAM05");
	/* Entry 25: on its row, its open item, the command that closes it, the verdict. */
	assert_int_equal(count(text, "entry 25") - count(text, "--entry 25"), 3);
	assert_lacks(text, "entry #");
	assert_has(text, "\nreservations (3):\n"
			 "  entry 8 (CAM02): damaged (reported, entry 21)\n"
			 "  entry 12 (CAM02): stored late (explained, entry 19)\n"
			 "  gap on CAM02 from 2026-11-28 10:05:00 +08:00 to 2026-11-28 10:14:50 "
			 "+08:00 (interruption, entry 20)\n");
	/* Annotation fields in the human order, whatever order the entry has them in; a field
	 * this custodyctl does not know comes last, by name. */
	assert_has(text, "  remote duty: officer 李娜; from 2026-11-27 08:00:00 +08:00; to "
			 "2026-11-30 12:00:00 +08:00; returned 2026-11-30 16:00:00 +08:00; reason "
			 "'山区巡逻'; by dave(uid 1004); at 2026-11-30 17:00:00 +08:00\n");
	assert_has(text, "  late storage explained: entry 12; reason 'Docking station at the north "
			 "post was out of order.'; by dave(uid 1004); at 2026-12-01 09:30:00 "
			 "+08:00; to_be_ignored_field 7\n");
	/* Accesses: 5 recorded, 4 listed, and the text says so; grouped per person and action;
	 * the copy-out with where it went and what for. */
	assert_has(text, "\naccesses to these clips (5; the 4 listed are the newest of each kind, "
			 "`custodyctl log --type access` lists the other 1):\n");
	assert_has(text, "  alice(uid 1001)  review    2 times, 2026-11-30 09:00:00 +08:00 to "
			 "2026-12-01 09:00:00 +08:00; entries 8, 12, 13, 25, 26, 30\n");
	assert_has(text,
		   "  2026-12-01 11:00:00 +08:00  张伟(uid 1005): entry 12; to "
		   "'/mnt/usb/案件0042/CAM02.mp4'; purpose '提交法院'; under approval entry 35; "
		   "copied\n");
	/* The person column by display width: 张伟 takes four columns. */
	assert_int_equal(column_of(text, "  alice(uid 1001)", "review"),
			 column_of(text, "  张伟(uid 1005)", "copy-out"));
	assert_int_equal(column_of(text, "  bob(uid 1002)", "copy-out"),
			 column_of(text, "  张伟(uid 1005)", "copy-out"));
	/* The verdict, last: the open items, then every reservation, the damaged file first. */
	l = last_line(text);
	assert_string_equal(l,
			    "verdict: INCOMPLETE: 1 late clip unexplained (entry 25); 1 "
			    "unexplained gap (CAM05 from 2026-11-28 19:00:00 +08:00 to 2026-12-01 "
			    "22:10:00 +08:00); 1 clip without a device (entry 30); reservations: "
			    "entry 8 damaged (reported, entry 21); entry 12 stored late "
			    "(explained, entry 19); gap on CAM02 from 2026-11-28 10:05:00 +08:00 "
			    "to 2026-11-28 10:14:50 +08:00 (interruption, entry 20)");
	free(l);
	free(text);

	/* Not checked: the record says why, and the review is otherwise the same. */
	ctx = (struct ctl_page_ctx){ .tz = shanghai, .why = "no verifier key: give --key VKEY" };
	text = print_ctx(REVIEW, r, &ctx, &rc);
	assert_int_equal(rc, 1);
	assert_has(text, "\nrecord: checkpoint of size 40, NOT CHECKED: no verifier key: give "
			 "--key VKEY\n");
	assert_lacks(text, "✓");
	free(text);
	json_decref(r);
}

/* The same review in Chinese: labels, verdict and durations in the catalogue's words, times
 * still with their offset, columns aligned by display width. */
static void test_record_chinese(void **state)
{
	json_t *r = load("ctl", "review-record.json");
	struct ctl_page_ctx ctx = checked_ctx();
	char *text, *l;
	int rc;

	(void)state;
	if (!speak("zh_CN.UTF-8"))
		skip();
	text = print_ctx(REVIEW, r, &ctx, &rc);
	assert_int_equal(rc, 1);
	assert_terminal_safe_label(text, "结论：");
	assert_prefix(text, "案件 2026-XZ-0042\n审核时间 2026-12-02 10:15:00 +08:00，申请人 "
			    "alice(uid 1001)\n记录依据：日志“office.example/custody”，检查点大小 "
			    "40，根哈希 ");
	assert_has(text, "（密钥标识 1a2b3c4d）：已核验 ✓\n");
	assert_has(text, "\n设备 CAM02：3 个片段，1 处中断\n");
	assert_has(text, "  -- 中断 3 天 3 小时 10 分，自 2026-11-28 19:00:00 +08:00 至 2026-12-01 "
			 "22:10:00 +08:00：无说明\n");
	assert_has(text, "损坏：损坏报告，条目 21（carol(uid 1003)，2026-11-29 09:00:00 "
			 "+08:00）：“电池在录制时耗尽”\n");
	assert_has(text, "同时关联案件 沪公(2026)行罚字第0042号\n");
	assert_has(text, "\n待处理事项（3 项）：\n");
	assert_has(text, "      处理方法：custodyctl annotate late_storage --entry 25 --reason "
			 "TEXT\n");
	assert_has(text, "\n保留意见（3 条）：\n");
	assert_has(text, "  外勤：警员 李娜；自 2026-11-27 08:00:00 +08:00；至 ");
	/* The detail lines stand under the times: "条目 12" is seven columns wide. */
	assert_int_equal(column_of(text, "  条目 12 ", "2026-11-28"),
			 column_of(text, "           “CAM02_王小明_20261128T094001", "“"));
	assert_int_equal(column_of(text, "  alice(uid 1001)", "审核"),
			 column_of(text, "  张伟(uid 1005)", "导出"));
	assert_lacks(text, "verdict");
	assert_lacks(text, " min");
	l = last_line(text);
	assert_prefix(l,
		      "结论：不完整：1 个逾期片段无说明（条目 25）；1 处中断无说明（CAM05 自 "
		      "2026-11-28 19:00:00 +08:00 至 2026-12-01 22:10:00 +08:00）；1 个片段无设备"
		      "（条目 30）；保留意见：条目 8 损坏（已报告，条目 21）");
	free(l);
	free(text);
	json_decref(r);
}

/* The verdict names every damaged file, reported or not, and says "with reservations" when a
 * case is complete but for them. */
static void test_verdict(void **state)
{
	json_t *r = parse(
	    "{\"case\":\"K\",\"complete\":true,\"open\":[],\"devices\":[{\"device\":\"CAM1\","
	    "\"clips\":[{\"index\":3,\"damaged\":true,\"damage_report\":9,\"integrity\":\"ok\","
	    "\"storage_now\":\"on_time\"},{\"index\":4,\"integrity\":\"ok\","
	    "\"storage_now\":\"unknown_time\",\"explained_by\":[12]},{\"index\":5,"
	    "\"integrity\":\"ok\",\"time_in_future\":true,\"storage_now\":\"unknown_time\","
	    "\"explained_by\":[13]}],\"gaps\":[]},{\"device\":null,\"clips\":[{\"index\":6,"
	    "\"integrity\":null,\"storage_now\":\"on_time\",\"device_from\":\"annotation\"}],"
	    "\"gaps\":[]}]}");
	char *v = ctl_review_verdict(r, NULL);

	(void)state;
	assert_string_equal(v,
			    "complete with reservations: 4 clips from 1 device and some without "
			    "a device, no gaps, originals not re-hashed; entry 3 damaged "
			    "(reported, entry 9); entry 4 without a trustworthy time (explained, "
			    "entry 12); entry 5 with a recording time in the future (explained, "
			    "entry 13); entry 6 device from an annotation");
	free(v);
	json_decref(r);

	/* An unreported damaged file is open (once, not also a reservation); many more
	 * reservations than the verdict lists say how many. */
	r = parse("{\"complete\":false,\"open\":[{\"kind\":\"damaged\",\"entry\":3}],"
		  "\"reservations\":[{\"kind\":\"damaged\",\"entry\":3,\"explained_by\":null},"
		  "{\"kind\":\"damaged\",\"entry\":4,\"explained_by\":7}],"
		  "\"devices\":[{\"device\":\"C\",\"clips\":[{\"index\":3},{\"index\":4}]}]}");
	v = ctl_review_verdict(r, NULL);
	assert_string_equal(v, "INCOMPLETE: 1 damaged file without a report (entry 3); "
			       "reservations: entry 4 damaged (reported, entry 7)");
	free(v);
	json_decref(r);

	r = parse("{\"complete\":true,\"open\":[],\"reservations\":[]}");
	for (int i = 0; i < 14; i++)
		json_array_append_new(json_object_get(r, "reservations"),
				      json_pack("{s:s, s:i, s:i}", "kind", "late", "entry", i,
						"explained_by", 100 + i));
	json_array_append_new(
	    json_object_get(r, "reservations"),
	    json_pack("{s:s, s:i, s:n}", "kind", "damaged", "entry", 50, "explained_by"));
	v = ctl_review_verdict(r, NULL);
	assert_int_equal(count(v, "stored late"), 10);
	assert_has(v, "entry 50 damaged (not reported)");
	assert_has(v, "; and 4 more reservations");
	free(v);
	json_decref(r);
}

/* "accesses to these clips (N)" counts actions and says when fewer are listed. */
static void test_accesses(void **state)
{
	json_t *r = parse(
	    "{\"case\":\"K\",\"complete\":true,\"access_log_total\":2,\"access_log\":["
	    "{\"index\":40,\"by\":\"ann(uid 1)\",\"op\":\"review\",\"at\":\"2026-01-01T00:00:00Z\","
	    "\"allowed\":true,\"entries\":[4,3]},"
	    "{\"index\":41,\"by\":\"ann(uid 1)\",\"op\":\"review\",\"at\":\"2026-01-02T00:00:00Z\","
	    "\"allowed\":true,\"entries\":[5,3]}]}");
	int rc;
	char *text = print(REVIEW, r, &rc);

	(void)state;
	assert_int_equal(rc, 0);
	assert_has(text, "\naccesses to these clips (2):\n  ann(uid 1)  review  2 times, "
			 "2026-01-01 00:00:00 +00:00 to 2026-01-02 00:00:00 +00:00; entries 3, 4, "
			 "5\n\n");
	free(text);
	json_decref(r);

	/* An older daemon: one item per (access, clip); more recorded than listed. */
	r = parse("{\"case\":\"K\",\"complete\":true,\"accesses_total\":12,\"accesses\":["
		  "{\"index\":40,\"entry\":3,\"at\":\"2026-01-01T00:00:00Z\",\"by\":\"ann(uid 1)\","
		  "\"op\":\"review\",\"allowed\":true},"
		  "{\"index\":40,\"entry\":4,\"at\":\"2026-01-01T00:00:00Z\",\"by\":\"ann(uid 1)\","
		  "\"op\":\"review\",\"allowed\":true},"
		  "{\"index\":41,\"entry\":3,\"at\":\"2026-01-02T00:00:00Z\",\"by\":\"ben(uid 2)\","
		  "\"op\":\"copy-out\",\"allowed\":false},"
		  "{\"index\":42,\"entry\":5}]}");
	text = print(REVIEW, r, &rc);
	assert_int_equal(rc, 0);
	assert_terminal_safe(text);
	assert_has(text,
		   "\naccesses to these clips (3):\n  (more exist: 12 reads of a clip in all; "
		   "`custodyctl log --type access` lists them)\n");
	assert_has(text, "  ann(uid 1)  review    1 time, 2026-01-01 00:00:00 +00:00; entries 3, "
			 "4\n");
	assert_has(text, "  ben(uid 2)  copy-out  1 time, 1 REFUSED, 2026-01-02 00:00:00 +00:00; "
			 "entry 3\n");
	assert_has(text, "  ?           ?         1 time; entry 5\n");
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

/* ---- history ----------------------------------------------------------------------------- */

static void test_history(void **state)
{
	json_t *h = load("ctl", "history.json");
	struct ctl_page_ctx ctx = checked_ctx();
	int rc;
	char *text = print_ctx(HISTORY, h, &ctx, &rc), *l;

	(void)state;
	assert_int_equal(rc, 1); /* one proof failed */
	assert_terminal_safe(text);
	assert_prefix(text, "chain of custody of entry 12\n"
			    "as of 2026-12-02 10:15:00 +08:00, at the request of 张伟(uid 1005)\n"
			    "record: log 'office.example/custody', checkpoint of size 40");
	/* The arrival: zone, name, times, storage. */
	assert_has(text,
		   "clip: 'CAM02_王小明_20261128T094001.mp4', zone dock, device CAM02, "
		   "officer 王小明\n"
		   "  recorded 2026-11-28 09:40:01 +08:00 to 2026-11-28 10:05:00 +08:00 (24 "
		   "min 59 s), time from the file's creation tag\n"
		   "  stored 2026-12-01 09:00:00 +08:00, deadline 2026-11-29 10:05:00 +08:00: "
		   "LATE\n");
	assert_has(text, "  bound to cases 2026-XZ-0042, 沪公(2026)行罚字第0042号; on hold\n");
	/* Every event in order, each with its proof's verdict. */
	assert_has(text,
		   "\nevents (6):\n  entry 12  2026-12-01 09:00:00 +08:00  arrival: "
		   "'CAM02_王小明_20261128T094001.mp4' in zone dock, stored LATE\n"
		   "            proof checked ✓\n"
		   "  entry 19  2026-12-01 09:30:00 +08:00  late storage explained: entry 12; "
		   "reason 'Docking station down'; by dave(uid 1004); at 2026-12-01 09:30:00 "
		   "+08:00\n            proof checked ✓\n"
		   "  entry 34  2026-12-01 10:00:00 +08:00  copy-out by bob(uid 1002): "
		   "REFUSED, result refused\n"
		   "            proof FAILED: the entry shown is not the entry the proof "
		   "proves\n");
	assert_has(text, "copy-out by 张伟(uid 1005): allowed, result copied; to "
			 "'/mnt/usb/CAM02.mp4'; purpose '提交法院'; under approval entry 35\n");
	assert_has(text, "  entry 38  2026-12-01 13:00:00 +08:00  scrub: the original was "
			 "ALTERED\n");
	assert_has(text, "            no proof yet: newer than the checkpoint\n");
	assert_int_equal(count(text, "proof checked ✓"), 4);
	l = last_line(text);
	assert_string_equal(l, "proofs: NOT VERIFIED: 4 checked, 1 failed, 0 not checked");
	free(l);
	free(text);

	/* Everything checked: exit 0, and the last line says so. */
	json_object_set_new(json_object_get(h, "client"), "ok", json_true());
	json_object_set_new(json_object_get(h, "client"), "failed", json_integer(0));
	text = print_ctx(HISTORY, h, &ctx, &rc);
	assert_int_equal(rc, 0);
	l = last_line(text);
	assert_string_equal(l, "proofs: 4 checked against the verifier key ✓; 1 newer than the "
			       "checkpoint");
	free(l);
	free(text);

	/* Not checked at all (no "client"): never passes. */
	json_object_del(h, "client");
	text = print_ctx(HISTORY, h, &ctx, &rc);
	assert_int_equal(rc, 1);
	l = last_line(text);
	assert_string_equal(l, "proofs: NOT CHECKED");
	free(l);
	free(text);

	if (!speak("zh_CN.UTF-8"))
		skip();
	text = print_ctx(HISTORY, h, &ctx, &rc);
	assert_prefix(text, "条目 12 的保管链\n查询时间 2026-12-02 10:15:00 +08:00，申请人 "
			    "张伟(uid 1005)\n");
	assert_has(text, "导出，由 张伟(uid 1005)：准许，结果 已导出；导出至“/mnt/usb/CAM02.mp4”；"
			 "用途“提交法院”；依据审批条目 35\n");
	assert_has(text, "巡检：原始文件已被改动\n");
	free(text);
	json_decref(h);
}

/* ---- cases ------------------------------------------------------------------------------- */

static void test_cases(void **state)
{
	json_t *c = load("ctl", "cases.json");
	struct ctl_page_ctx ctx = { .tz = shanghai };
	char *text = print_ctx(CASES, c, &ctx, NULL), *l;
	unsigned right;

	(void)state;
	assert_terminal_safe(text);
	assert_prefix(text, "3 cases, as of 2026-12-02 10:15:00 +08:00:\n  case  ");
	l = line_starting(text, "  2026-XZ-0042");
	assert_has(l, "  7  CAM02, CAM05, CAM07 and 1 more  2026-11-26 09:00 to 2026-12-01 22:20 "
		      "+08:00  ");
	assert_has(l, "3  2026-12-01 09:00:00 +08:00");
	free(l);
	/* The clips column ends at the same display column under a Chinese case id. */
	right = column_of(text, "  2026-XZ-0042", "7  CAM02") + 1;
	assert_int_equal(column_of(text, "  沪公", "1  CAM02") + 1, right);
	assert_int_equal(column_of(text, "  K ", "0  ") + 1, right);
	assert_int_equal(column_of(text, "  case ", "clips") + 5, right);
	assert_int_equal(column_of(text, "  2026-XZ-0042", "2026-11-26"),
			 column_of(text, "  沪公", "2026-11-28"));
	assert_has(text, "  K  ");
	assert_has(text, "unknown");
	assert_has(text, "never\n");
	free(text);

	if (!speak("zh_CN.UTF-8"))
		skip();
	text = print_ctx(CASES, c, &ctx, NULL);
	assert_prefix(text, "截至 2026-12-02 10:15:00 +08:00，共 3 个案件：\n  案件  ");
	right = column_of(text, "  2026-XZ-0042", "7  CAM02") + 1;
	assert_int_equal(column_of(text, "  沪公", "1  CAM02") + 1, right);
	assert_int_equal(column_of(text, "  案件 ", "片段") + 4, right);
	assert_int_equal(column_of(text, "  案件 ", "待处理事项") + 10,
			 column_of(text, "  2026-XZ-0042", "3  2026-12-01 09:00") + 1);
	free(text);
	json_decref(c);

	c = parse("{\"as_of\":\"2026-12-02T00:00:00Z\",\"cases\":[]}");
	speak("C.UTF-8");
	text = print(CASES, c, NULL);
	assert_has(text, "0 cases, as of 2026-12-02 00:00:00 +00:00:\n");
	assert_has(text, "no case is bound yet");
	free(text);
	json_decref(c);
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
    "\"totals\":{\"clips\":40,\"seconds\":273590,\"on_time\":30,\"on_time_remote\":2,"
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
						   "\"open\":[{\"kind\":\"late\",\"entry\":21,"
						   "\"device\":\"CAM3\",\"message\":"
						   "\"entry 21 was stored late\"},"
						   "{\"kind\":\"gap\\u001b\",\"message\":"
						   "\"CAM3\\nrecorded nothing\"}]}";

static void test_report_text(void **state)
{
	json_t *r = parse(report_json);
	struct ctl_page_ctx ctx = { .tz = shanghai };
	char *text = print_ctx(REPORT, r, &ctx, NULL), *l;

	(void)state;
	assert_terminal_safe(text);
	assert_prefix(text,
		      "report from 2026-11-01 08:00:00 +08:00 to 2026-12-01 08:00:00 +08:00 "
		      "(as of 2026-12-02 08:00:00 +08:00)\nclips: 40 (3 d 3 h 59 min "
		      "recorded)\nstored on time: 30; on time after remote duty: 2; late: 1 "
		      "explained, 2 open; no trustworthy time: 0 explained, 1 open (1 with a "
		      "time in the future)\ninterruptions: 5 (4 explained); damaged files: 2 (1 "
		      "reported)\naccesses: 99 (3 copy-outs); refused: 6\n\nper device (late and "
		      "untimed: explained/open; gaps: explained/all; dmg: reported/all):\n");
	l = line_starting(text, "  device ");
	assert_string_equal(l, "  device                clips   hours ontime remote  late e/o   "
			       "untimed  gaps e/n   dmg r/n access copies refuse");
	free(l);
	/* Every row's numbers in the header's columns: explained/open, explained/all. */
	l = line_starting(text, "  CAM1 ");
	assert_string_equal(l,
			    "  CAM1                      1     2.8      1      2       3/4       "
			    "5/6       9/8     11/10     12     13     14");
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
	assert_has(text, "\nper officer (late");
	/* Open items in words; one the daemon only described keeps its words, escaped. */
	assert_has(text, "\nopen items: 7 (not all listed)\n"
			 "  entry 21 (CAM3): stored late; not explained\n"
			 "      the daemon says: entry 21 was stored late\n"
			 "  CAM3\\x0arecorded nothing\n");
	free(text);

	text = print(REPORT_OPEN, r, NULL);
	assert_prefix(text, "report from 2026-11-01 00:00:00 +00:00 to 2026-12-01 00:00:00 +00:00 "
			    "(as of 2026-12-02 00:00:00 +00:00)\nopen items: 7 (not all listed)\n");
	free(text);
	json_decref(r);

	r = parse("{\"as_of\":\"2026-12-02T00:00:00Z\",\"open\":[]}");
	text = print(REPORT_OPEN, r, NULL);
	assert_string_equal(text, "report over the whole log (as of 2026-12-02 00:00:00 +00:00)\n"
				  "open items: 0\n");
	free(text);
	json_decref(r);
}

/* The report's table under Chinese headers and names: every number of a row under its
 * header, by display width. */
static void test_report_chinese(void **state)
{
	json_t *r = parse(report_json);
	char *text;

	(void)state;
	if (!speak("zh_CN.UTF-8"))
		skip();
	text = print(REPORT, r, NULL);
	assert_prefix(text,
		      "统计报告，2026-11-01 00:00:00 +00:00 至 2026-12-01 00:00:00 +00:00（截至 "
		      "2026-12-02 00:00:00 +00:00）\n片段：40 个（录像共 3 天 3 小时 59 分）\n");
	/* Right-aligned columns: each header ends where its numbers end. */
	assert_int_equal(column_of(text, "  设备 ", "片段") + 4,
			 column_of(text, "  执法记录仪", "3 ") + 1);
	assert_int_equal(column_of(text, "  设备 ", "拒绝") + 4,
			 column_of(text, "  执法记录仪", "14") + 2);
	assert_int_equal(column_of(text, "  CAM1 ", "14") + 2,
			 column_of(text, "  执法记录仪", "14") + 2);
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

/* clang-format off */
#define REPORT_CSV                                                                                 \
	CSV_HEADER                                                                                 \
	"2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,total,,40,273590,30,2,1,2,0,1,1,5,4,2,1,"       \
	"99,3,6\n"                                                                                 \
	"2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,device,CAM1," COUNTERS(1)                       \
	"2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,device,CAM-WITH-A-VERY-LONG-NAME-0001,"         \
	COUNTERS(2)                                                                                \
	"2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,device,执法记录仪," COUNTERS(3)                 \
	"2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,device,\x1b[2Jx," COUNTERS(4)                   \
	"2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,device,," COUNTERS(5)                           \
	"2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,officer,O1234," COUNTERS(6)
/* clang-format on */

static void test_report_csv(void **state)
{
	json_t *r = parse(report_json);
	char *text = print(CSV, r, NULL);

	(void)state;
	/* One CSV row a line, as the output has them; UTC and English. */
	assert_string_equal(text, REPORT_CSV);
	free(text);
	/* --bom: the UTF-8 byte order mark first, then the same bytes. */
	text = print(CSV_BOM, r, NULL);
	assert_memory_equal(text, "\xef\xbb\xbf", 3);
	assert_string_equal(text + 3, REPORT_CSV);
	free(text);
	/* The CSV is for programs: the same whatever the reader's language. */
	if (speak("zh_CN.UTF-8")) {
		text = print(CSV, r, NULL);
		assert_string_equal(text, REPORT_CSV);
		free(text);
	}
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

static int group_setup(void **state)
{
	struct err_detail e;

	(void)state;
	if (show_zone_load("Asia/Shanghai", &shanghai, &e) < 0)
		fail_msg("Asia/Shanghai: %s", e.msg);
	speak("C.UTF-8");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	shanghai = ing_tz_free(shanghai);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_one_and_empty),
		cmocka_unit_test(test_hostile_sample),
		cmocka_unit_test(test_fake_verdict),
		cmocka_unit_test(test_record),
		cmocka_unit_test_teardown(test_record_chinese, teardown_english),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_accesses),
		cmocka_unit_test(test_terminal_copy),
		cmocka_unit_test_teardown(test_history, teardown_english),
		cmocka_unit_test_teardown(test_cases, teardown_english),
		cmocka_unit_test(test_report_text),
		cmocka_unit_test_teardown(test_report_chinese, teardown_english),
		cmocka_unit_test(test_report_wide_names),
		cmocka_unit_test_teardown(test_report_csv, teardown_english),
		cmocka_unit_test(test_csv_quoting),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
