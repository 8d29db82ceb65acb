/* namepattern.c: a zone's file-name pattern (docs/time.md).
 *
 * DESIGN
 * Name patterns are compiled once and matched by backtracking over at most three variable
 * fields; the start is a fixed-width run of digits, so matching is quadratic in the name length
 * at worst (names are at most 255 bytes).  Reentrant. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"
#include "ingest/ingest-internal.h"
#include "ingest/namepattern.h"

/* ---- name patterns ------------------------------------------------------------------------- */

enum tok_kind { TOK_LIT, TOK_DEVICE, TOK_OFFICER, TOK_SEQ, TOK_START };

struct tok {
	enum tok_kind kind;
	char *text; /* TOK_LIT: the text; TOK_START: the format with %F and %T expanded */
	size_t len;
};

struct ing_name_pattern {
	char *text;
	size_t n;
	struct tok *toks;
};

struct ing_name_pattern *ing_name_pattern_free(struct ing_name_pattern *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n; i++)
		free(p->toks[i].text);
	free(p->toks);
	free(p->text);
	free(p);
	return NULL;
}

const char *ing_name_pattern_text(const struct ing_name_pattern *p)
{
	return p->text;
}

static int add_tok(struct ing_name_pattern *p, enum tok_kind kind, const char *text, size_t len)
{
	struct tok *toks = realloc(p->toks, (p->n + 1) * sizeof(*toks));

	if (!toks)
		return -ENOMEM;
	p->toks = toks;
	toks[p->n] = (struct tok){ .kind = kind, .len = len };
	if (text) {
		toks[p->n].text = strndup(text, len);
		if (!toks[p->n].text)
			return -ENOMEM;
	}
	p->n++;
	return 0;
}

static const char *const field_names[] = {
	[TOK_DEVICE] = "device", [TOK_OFFICER] = "officer", [TOK_SEQ] = "seq", [TOK_START] = "start"
};

/* Check and expand {start:FORMAT} (@fmt, @len bytes, at column @col). */
static int compile_start(struct ing_name_pattern *p, const char *fmt, size_t len, unsigned col,
			 struct err_detail *reterr)
{
	char out[256];
	size_t o = 0;
	unsigned seen = 0; /* bit per conversion letter */
	const char *letters = "YymdHMSjf";

	for (size_t i = 0; i < len; i++) {
		const char *exp = NULL;
		char one[3] = { 0 };
		char c;

		if (fmt[i] != '%') {
			if (fmt[i] == '{' || fmt[i] == '}')
				return err_set_line(reterr, -EINVAL, col,
						    _("column %u: '%c' inside "
						      "{start:…}"),
						    col, fmt[i]);
			one[0] = fmt[i];
			exp = one;
		} else {
			const char *at;

			if (++i == len)
				return err_set_line(reterr, -EINVAL, col,
						    _("column %u: {start:…} ends "
						      "with a lone '%%'"),
						    col);
			c = fmt[i];
			if (c == 'F')
				exp = "%Y-%m-%d";
			else if (c == 'T')
				exp = "%H:%M:%S";
			else if (c == '%')
				exp = "%%";
			else if ((at = strchr(letters, c)) && c) {
				unsigned bit = 1u << (at - letters);

				if (seen & bit)
					return err_set_line(reterr, -EINVAL, col,
							    _("column %u: %%%c "
							      "appears twice in {start:…}"),
							    col, c);
				seen |= bit;
				one[0] = '%';
				one[1] = c;
				exp = one;
			} else {
				return err_set_line(
				    reterr, -EINVAL, col,
				    _("column %u: %%%c is not "
				      "supported in {start:…} (use %%Y %%y %%m %%d %%H "
				      "%%M %%S %%j %%f %%F %%T %%%%)"),
				    col, c);
			}
			/* %F and %T bring their own conversions: count them too. */
			for (const char *e = exp; c != '%' && *e; e++)
				if (*e == '%' && e[1] != c) {
					unsigned bit = 1u << (strchr(letters, e[1]) - letters);

					if (seen & bit)
						return err_set_line(reterr, -EINVAL, col,
								    _("column %u: "
								      "%%%c appears twice in "
								      "{start:…}"),
								    col, e[1]);
					seen |= bit;
				}
		}
		if (o + strlen(exp) >= sizeof(out))
			return err_set_line(reterr, -EINVAL, col,
					    _("column %u: {start:…} is too long"), col);
		memcpy(out + o, exp, strlen(exp));
		o += strlen(exp);
	}
#define SEEN(c) (seen & (1u << (strchr(letters, c) - letters)))
	if (!(SEEN('Y') || SEEN('y')) || !((SEEN('m') && SEEN('d')) || SEEN('j')))
		return err_set_line(reterr, -EINVAL, col,
				    _("column %u: {start:…} needs a date: %%Y "
				      "(or %%y) with %%m and %%d, or with %%j"),
				    col);
	if ((SEEN('Y') && SEEN('y')) || (SEEN('j') && (SEEN('m') || SEEN('d'))))
		return err_set_line(reterr, -EINVAL, col,
				    _("column %u: {start:…} gives the date "
				      "twice"),
				    col);
	if (!SEEN('H') || !SEEN('M'))
		return err_set_line(reterr, -EINVAL, col,
				    _("column %u: {start:…} needs the time of "
				      "day: at least %%H and %%M"),
				    col);
	if (SEEN('f') && !SEEN('S'))
		return err_set_line(reterr, -EINVAL, col,
				    _("column %u: %%f (microseconds) needs %%S"), col);
#undef SEEN
	return add_tok(p, TOK_START, out, o);
}

int ing_name_pattern_parse(const char *text, struct ing_name_pattern **ret,
			   struct err_detail *reterr)
{
	struct ing_name_pattern *p = calloc(1, sizeof(*p));
	char lit[256];
	size_t n = 0;
	unsigned used = 0;
	enum tok_kind prev = TOK_LIT;
	int r = 0;

	if (!p || !(p->text = strdup(text))) {
		ing_name_pattern_free(p);
		return err_set(reterr, -ENOMEM, _("out of memory"));
	}
	if (!text[0]) {
		r = err_set(reterr, -EINVAL, _("the name pattern is empty"));
		goto fail;
	}
	for (const char *s = text; *s;) {
		unsigned col = (unsigned)(s - text) + 1;

		if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
			if (n + 1 >= sizeof(lit))
				goto too_long;
			lit[n++] = s[0];
			s += 2;
			continue;
		}
		if (*s == '}') {
			r = err_set_line(reterr, -EINVAL, col,
					 _("column %u: '}' without '{' (write "
					   "'}}' for a literal brace)"),
					 col);
			goto fail;
		}
		if (*s != '{') {
			if (n + 1 >= sizeof(lit))
				goto too_long;
			if (*s == '/') {
				r = err_set_line(reterr, -EINVAL, col,
						 _("column %u: '/' cannot be "
						   "part of a file name"),
						 col);
				goto fail;
			}
			lit[n++] = *s++;
			continue;
		}
		{
			const char *end = strchr(s, '}');
			const char *name = s + 1;
			size_t name_len;
			enum tok_kind kind;

			if (!end) {
				r = err_set_line(reterr, -EINVAL, col,
						 _("column %u: '{' is not closed "
						   "by '}'"),
						 col);
				goto fail;
			}
			name_len = (size_t)(end - name);
			if (name_len == 6 && !memcmp(name, "device", 6))
				kind = TOK_DEVICE;
			else if (name_len == 7 && !memcmp(name, "officer", 7))
				kind = TOK_OFFICER;
			else if (name_len == 3 && !memcmp(name, "seq", 3))
				kind = TOK_SEQ;
			else if (name_len >= 6 && !memcmp(name, "start:", 6))
				kind = TOK_START;
			else if (name_len == 5 && !memcmp(name, "start", 5)) {
				r = err_set_line(reterr, -EINVAL, col,
						 _("column %u: {start} needs its "
						   "format, e.g. {start:%%Y%%m%%d%%H%%M%%S}"),
						 col);
				goto fail;
			} else {
				r = err_set_line(reterr, -EINVAL, col,
						 _("column %u: unknown field "
						   "'{%.*s}' (known: {device}, {officer}, {seq}, "
						   "{start:FORMAT})"),
						 col, (int)(name_len < 40 ? name_len : 40), name);
				goto fail;
			}
			if (used & (1u << kind)) {
				r = err_set_line(reterr, -EINVAL, col,
						 _("column %u: {%s} appears twice"), col,
						 field_names[kind]);
				goto fail;
			}
			used |= 1u << kind;
			if (n) {
				r = add_tok(p, TOK_LIT, lit, n);
				if (r < 0)
					goto nomem;
				n = 0;
				prev = TOK_LIT;
			}
			if (kind != TOK_START && prev != TOK_LIT && prev != TOK_START) {
				r = err_set_line(
				    reterr, -EINVAL, col,
				    _("column %u: {%s} follows {%s} "
				      "with nothing between them, so they could not be "
				      "told apart: put literal text between"),
				    col, field_names[kind], field_names[prev]);
				goto fail;
			}
			if (kind == TOK_START) {
				r = compile_start(p, name + 6, name_len - 6, col, reterr);
				if (r == -ENOMEM)
					goto nomem;
				if (r < 0)
					goto fail;
			} else {
				r = add_tok(p, kind, NULL, 0);
				if (r < 0)
					goto nomem;
			}
			prev = kind;
			s = end + 1;
		}
	}
	if (n && (r = add_tok(p, TOK_LIT, lit, n)) < 0)
		goto nomem;
	*ret = p;
	return 0;
too_long:
	r = err_set(reterr, -EINVAL, _("the name pattern's literal text is longer than %zu bytes"),
		    sizeof(lit) - 1);
	goto fail;
nomem:
	r = err_set(reterr, -ENOMEM, _("out of memory"));
fail:
	ing_name_pattern_free(p);
	return r;
}

int ing__digits(const char *s, size_t avail, int n, int *ret)
{
	int v = 0;

	if ((size_t)n > avail)
		return -1;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

/* Read the start at @s (@avail bytes) with the expanded @fmt.  @return bytes used, or -1. */
static int read_start(const char *fmt, const char *s, size_t avail, struct ing_civil *c)
{
	int year = -1, yy = -1, month = 1, day = 1, yday = -1, v;
	size_t o = 0;

	memset(c, 0, sizeof(*c));
	for (const char *f = fmt; *f; f++) {
		int width;
		int *dst;

		if (*f != '%' || f[1] == '%') {
			if (o >= avail || s[o] != *f)
				return -1;
			o++;
			if (*f == '%')
				f++;
			continue;
		}
		switch (*++f) {
		case 'Y':
			width = 4, dst = &year;
			break;
		case 'y':
			width = 2, dst = &yy;
			break;
		case 'm':
			width = 2, dst = &month;
			break;
		case 'd':
			width = 2, dst = &day;
			break;
		case 'H':
			width = 2, dst = &c->hour;
			break;
		case 'M':
			width = 2, dst = &c->minute;
			break;
		case 'S':
			width = 2, dst = &c->second;
			break;
		case 'j':
			width = 3, dst = &yday;
			break;
		case 'f':
			width = 6, dst = &c->usec;
			break;
		default:
			return -1;
		}
		if (ing__digits(s + o, avail - o, width, &v) < 0)
			return -1;
		*dst = v;
		o += (size_t)width;
	}
	c->year = year >= 0 ? year : 2000 + yy;
	if (yday >= 0) {
		int64_t y, jan1 = ing_days_from_civil(c->year, 1, 1);

		if (yday < 1 || yday > ing_days_from_civil(c->year + 1, 1, 1) - jan1)
			return -1;
		ing_civil_from_days(jan1 + yday - 1, &y, &month, &day);
	}
	c->month = month;
	c->day = day;
	return ing_civil_valid(c) ? (int)o : -1;
}

/* A field's text must be UTF-8 without control characters (it ends up in log entries and on
 * terminals): C0, DEL and C1 (U+0080..U+009F, c2 80..c2 9f; U+009B is a CSI to some
 * terminals).  The C1 check was missing until tests/fuzz/fuzz_pattern.c found it. */
static bool field_ok(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	if (len == 0 || len >= ING_NAME_FIELD_MAX)
		return false;
	for (size_t i = 0; i < len;) {
		size_t n = ing__utf8_seq(u + i, len - i);

		if (n == 0 || u[i] < 0x20 || u[i] == 0x7f || u[i] == '/' ||
		    (n == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0))
			return false;
		i += n;
	}
	return true;
}

static bool match_from(const struct ing_name_pattern *p, size_t ti, const char *s, size_t len,
		       struct ing_name_fields *f)
{
	const struct tok *t;

	if (ti == p->n)
		return len == 0;
	t = &p->toks[ti];
	switch (t->kind) {
	case TOK_LIT:
		return len >= t->len && !memcmp(s, t->text, t->len) &&
		       match_from(p, ti + 1, s + t->len, len - t->len, f);
	case TOK_START: {
		int used = read_start(t->text, s, len, &f->start);

		if (used < 0)
			return false;
		f->has_start = true;
		return match_from(p, ti + 1, s + used, len - (size_t)used, f);
	}
	default: {
		char *dst = t->kind == TOK_DEVICE    ? f->device
			    : t->kind == TOK_OFFICER ? f->officer
						     : f->seq;

		/* The shortest text that lets the rest match. */
		for (size_t n = 1; n <= len && n < ING_NAME_FIELD_MAX; n++) {
			if (!match_from(p, ti + 1, s + n, len - n, f))
				continue;
			if (!field_ok(s, n))
				return false;
			memcpy(dst, s, n);
			dst[n] = '\0';
			return true;
		}
		return false;
	}
	}
}

int ing_name_pattern_match(const struct ing_name_pattern *p, const char *name,
			   struct ing_name_fields *ret)
{
	struct ing_name_fields f;
	const char *dot = strrchr(name, '.');
	size_t len = strlen(name);

	if (len > 255)
		return -ENOENT;
	/* Without the extension first: a pattern ending in {seq} would swallow it. */
	if (dot && dot != name) {
		memset(&f, 0, sizeof(f));
		if (match_from(p, 0, name, (size_t)(dot - name), &f)) {
			*ret = f;
			return 0;
		}
	}
	memset(&f, 0, sizeof(f));
	if (match_from(p, 0, name, len, &f)) {
		*ret = f;
		return 0;
	}
	return -ENOENT;
}
