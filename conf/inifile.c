/* inifile.c: INI files with line numbers, on inih (conf/inifile.h says why it reads lines itself).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "base/i18n.h"
#include "conf/inifile.h"

struct reader {
	const struct ini_handlers *h;
	void *ctx;
	FILE *f;
	char *buf; /* getline()'s */
	size_t bufsize;
	unsigned lineno;
	int io_errno;
	int failed; /* the first error's code, 0 while there is none */
	unsigned failed_line;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int fail(struct reader *rd, int code, unsigned line, const char *msg)
{
	rd->h->fail(rd->ctx, code, line, msg);
	rd->failed = code;
	rd->failed_line = line;
	return code;
}

/* A handler failed: its error is recorded already. */
static void handler_failed(struct reader *rd, int code)
{
	if (!rd->failed) {
		rd->failed = code;
		rd->failed_line = rd->lineno;
	}
}

/* inih's reader: one line per call. */
static char *read_line(char *str, int num, void *stream)
{
	struct reader *rd = stream;
	char *start;
	ssize_t n;
	size_t len;
	int r;

	if (rd->failed)
		return NULL;
	errno = 0;
	n = getline(&rd->buf, &rd->bufsize, rd->f);
	if (n < 0) {
		if (ferror(rd->f))
			rd->io_errno = errno ? errno : EIO;
		return NULL;
	}
	rd->lineno++;
	if (memchr(rd->buf, '\0', (size_t)n)) {
		fail(rd, -EINVAL, rd->lineno,
		     _("the line contains a NUL byte: is this a text file?"));
		return NULL;
	}
	start = rd->buf;
	if (rd->lineno == 1 && n >= 3 && memcmp(start, "\xef\xbb\xbf", 3) == 0)
		start += 3; /* a UTF-8 byte order mark */
	while (is_blank(*start))
		start++;
	len = strlen(start);
	while (len > 0 && is_blank(start[len - 1]))
		len--;
	/* inih reads at most num - 1 bytes and would take the rest as the next line. */
	if (num < 3 || len > (size_t)num - 3) {
		char msg[64];

		snprintf(msg, sizeof(msg), _("the line is longer than %d characters"), num - 3);
		fail(rd, -EINVAL, rd->lineno, msg);
		return NULL;
	}
	memcpy(str, start, len);
	str[len] = '\0';

	if (str[0] == '[') {
		/* As inih finds the end: ']', unless a " ;" comment comes first. */
		const char *p = str + 1, *end;
		bool was_space = false;

		while (*p && *p != ']' && !(was_space && *p == ';')) {
			was_space = is_blank(*p);
			p++;
		}
		if (*p != ']')
			return str; /* inih reports it */
		end = p + 1;
		while (is_blank(*end))
			end++;
		if (*end && *end != ';' && *end != '#') {
			fail(rd, -EINVAL, rd->lineno,
			     _("unexpected text after ']': a section line holds only [NAME]"));
			return NULL;
		}
		r = rd->h->section(rd->ctx, str + 1, (size_t)(p - (str + 1)), rd->lineno);
		if (r < 0) {
			handler_failed(rd, r);
			return NULL;
		}
	}
	return str;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct reader *rd = user;
	int r;

	(void)section; /* the section handler saw it, on its own line */
	if (rd->failed)
		return 1; /* inih takes 0 for an error of its own */
	r = rd->h->key(rd->ctx, name, value, rd->lineno);
	if (r < 0)
		handler_failed(rd, r);
	return 1;
}

/* inih stopped at @line: say what it did not like, rereading the file up to that line. */
static int syntax_error(struct reader *rd, unsigned line)
{
	unsigned i = 0;
	ssize_t n = 0;

	rewind(rd->f);
	while (i < line && (n = getline(&rd->buf, &rd->bufsize, rd->f)) >= 0)
		i++;
	if (i == line && n > 0) {
		const char *s = rd->buf + strspn(rd->buf, " \t\v\f\r\n\xef\xbb\xbf");

		if (s[0] == '[')
			return fail(rd, -EINVAL, line,
				    _("a section line needs its closing ']' (and no ' ;' comment "
				      "inside): [NAME]"));
	}
	return fail(
	    rd, -EINVAL, line,
	    _("syntax error: expected 'key = value', a [section] or a comment (';' or '#')"));
}

int ini_read(const char *path, const struct ini_handlers *h, void *ctx)
{
	struct reader rd = { .h = h, .ctx = ctx };
	char msg[256];
	struct stat st;
	int r;

	rd.f = fopen(path, "re");
	if (!rd.f) {
		r = -errno;
		/* strerror(), not strerrordesc_np(): the reason in the reader's language, like
		 * the rest of the message (English in custodyd, which never sets the locale).
		 * glibc's strerror() is thread-safe for every code it knows. */
		snprintf(msg, sizeof(msg), _("cannot open the configuration: %s"), strerror(-r));
		return fail(&rd, r, 0, msg);
	}
	if (fstat(fileno(rd.f), &st) < 0 || !S_ISREG(st.st_mode)) {
		r = fail(&rd, -EINVAL, 0, _("not a regular file"));
		goto out;
	}
	r = ini_parse_stream(read_line, &rd, on_key, &rd);
	if (rd.io_errno) {
		/* the read error is the real one */
		snprintf(msg, sizeof(msg), _("cannot read: %s"), strerror(rd.io_errno));
		r = fail(&rd, -EIO, 0, msg);
	} else if (r == -2) {
		r = fail(&rd, -ENOMEM, 0, _("out of memory"));
	} else if (r > 0 && (!rd.failed || (unsigned)r < rd.failed_line)) {
		/* inih's error comes first in the file: it replaces ours */
		r = syntax_error(&rd, (unsigned)r);
	} else {
		r = rd.failed;
	}
out:
	fclose(rd.f);
	free(rd.buf);
	return r;
}
