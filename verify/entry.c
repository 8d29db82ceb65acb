/* entry.c: the canonical form of log entries (docs/log.md).
 *
 * DESIGN
 * An entry's bytes are what the Merkle leaf hashes, so two writers (the daemon's ingest path
 * and custodyctl's annotations) must turn the same data into the same bytes.  jansson parses,
 * but its dumper cannot produce the canonical form: it escapes control characters with
 * uppercase hex (RFC 8785 wants lowercase) and JSON_SORT_KEYS sorts with strcmp(), which stops
 * at a NUL.  So parsing is jansson's and the writer below is ours: it walks the json_t once,
 * appending to one growing buffer.
 *
 * - Keys are sorted by their UTF-8 bytes (memcmp, a shorter prefix first), as docs/log.md says.
 *   This is not RFC 8785's order, which compares UTF-16 code units: the two differ only when
 *   sibling keys mix characters above U+FFFF with characters in U+E000..U+FFFF.  Each object's
 *   (key, length, value) triples go on one scratch stack shared by the whole walk and are
 *   sorted there with qsort(), so an object costs no allocation of its own; children push above
 *   their parent's slice, and the parent indexes its slice (the stack may move when it grows).
 * - Strings are escaped as RFC 8785 §3.2.2.2 does: '"' and '\\' with a backslash, \b \t \n \f
 *   \r by name, the other bytes below 0x20 as \u00xx with lowercase hex, everything else
 *   (including '/', DEL, U+2028 and all non-ASCII) as literal UTF-8.  A NUL inside a string
 *   is legal JSON (JSON_ALLOW_NUL) and is written \u0000, RFC 8785's answer; a NUL inside a
 *   key is refused, because jansson could not read such an entry back.
 * - Integers are json_int_t (64 bits) written in plain decimal, so "-0" becomes "0".  Any real
 *   is refused: floats have no canonical text that every verifier agrees on.
 * - The output buffer doubles, so appending is amortised O(1) and the whole walk is linear
 *   (plus the key sorts).  When the text came from vfy_entry_canonicalize(), the canonical
 *   form is never longer than the input (whitespace only shrinks, and each input escape is at
 *   least as long as its canonical form), so the buffer is sized from the input once and a
 *   typical ~300-byte entry costs one allocation for the output and one for the key stack.
 * - The walk recurses once per nesting level.  jansson's parser refuses input nested deeper
 *   than 2048 levels (its JSON_PARSER_MAX_DEPTH), and the writer enforces the same bound on
 *   trees built in code, which also stops a json_t that contains itself.  Each level costs
 *   one small frame (about 140 bytes at -O2, per -fstack-usage: scratch arrays and error paths
 *   live in the writer or in cold helpers, not in the recursive frame), so 2048 levels need
 *   under 300 KiB of stack: fine on a default 8 MiB thread, but a thread created with a
 *   custom stack for this code should get at least 512 KiB (more under ASan).
 *
 * Two limits: VFY_ENTRY_MAX bounds the canonical form (the tile bundles' uint16 length), and
 * VFY_ENTRY_INPUT_MAX the text handed to vfy_entry_canonicalize(), which may be pretty-printed
 * and so larger than what it becomes.  The output buffer never grows past VFY_ENTRY_MAX + 1.
 *
 * Errors: -EBADMSG for a rejected entry, -E2BIG for a size over either limit, -ENOMEM.  The
 * message says what is wrong and where: jansson's line and column for text that does not
 * parse, the key path ("streams[0].fps") for what the walk finds.
 *
 * Reentrant: no global state; any thread may call. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "verify/entry.h"
#include "base/err.h"
#include "base/i18n.h"
#include "base/utf8.h"

/* No CLEANUP_FUNC for json_t: jansson >= 2.9 ships json_decrefp() itself (json_auto_t). */

/* jansson's JSON_PARSER_MAX_DEPTH (not in its public header): anything it parses fits. */
#define ENTRY_DEPTH_MAX 2048

/* The canonical form is at most as long as the input text it came from (see DESIGN), so the
 * output buffer for parsed input starts at the input's size; trees built in code start here. */
#define ENTRY_BUF_INIT 512

_Static_assert(sizeof(json_int_t) <= sizeof(unsigned long long), "json_int_t wider than ull");

struct kv {
	const char *key;
	size_t len;
	json_t *val;
};

/* What the walk found wrong.  It is recorded where it is found and turned into a message at
 * the top, once the path to it is known. */
enum fault {
	FAULT_NONE,
	FAULT_REAL,	/* a float: w->real holds it */
	FAULT_UTF8_STR, /* a string value that is not UTF-8 (only trees built in code) */
	FAULT_UTF8_KEY, /* a key that is not UTF-8 (only trees built in code) */
	FAULT_NUL_KEY,	/* a key with a NUL (only trees built in code) */
	FAULT_DEPTH,	/* nested deeper than ENTRY_DEPTH_MAX (only trees built in code) */
	FAULT_TOO_BIG,	/* canonical form over VFY_ENTRY_MAX */
	FAULT_NOMEM,
};

struct writer {
	char *buf; /* the canonical text, NUL-terminated on success */
	size_t len, cap;
	struct kv *kv; /* keys of the objects being written, innermost slice last */
	size_t kv_len, kv_cap;
	bool trusted; /* parsed by jansson: UTF-8 checked, no NUL in keys, depth bounded */

	enum fault fault;
	double real;
	/* The key path of the fault, built right-aligned while unwinding, so that each level can
	 * put its component in front: path[path_at] is its first character. */
	char path[160];
	size_t path_at;
};

static const char *type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return _("an object");
	case JSON_ARRAY:
		return _("an array");
	case JSON_STRING:
		return _("a string");
	case JSON_INTEGER:
		return _("an integer");
	case JSON_REAL:
		return _("a float");
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/* ---- the fault's key path (cold: only runs after something was rejected) ---- */

static void path_reset(struct writer *w, const char *s)
{
	size_t n = strlen(s);

	w->path[sizeof(w->path) - 1] = '\0';
	w->path_at = sizeof(w->path) - 1 - n;
	memcpy(w->path + w->path_at, s, n);
}

static void path_prepend(struct writer *w, const char *s, size_t n)
{
	if (n > w->path_at) {
		/* Too long to show whole: drop the inner part and keep the outer keys, which
		 * are the ones a reader recognises. */
		path_reset(w, "...");
		if (n > w->path_at)
			return;
	}
	w->path_at -= n;
	memcpy(w->path + w->path_at, s, n);
}

/* Put the object key @key in front of the path: "key" at the top level, ".key" below.  The
 * key is shown in a message that may end up in a JSON reply, so it is cut to a sane length on
 * a character boundary, and control characters, quotes and (when the key is not UTF-8) bytes
 * above 0x7f are shown as '?'. */
static __attribute__((cold, noinline)) void path_key(struct writer *w, const char *key, size_t len,
						     bool top)
{
	char comp[52];
	size_t n = 0, i, max = sizeof(comp) - 5; /* room for '.', "..." */
	bool ascii_only = !utf8_valid(key, len);

	if (!top)
		comp[n++] = '.';
	if (len > max) {
		while (max > 0 && ((uint8_t)key[max] & 0xc0) == 0x80)
			max--; /* don't split a UTF-8 character */
	} else {
		max = len;
	}
	for (i = 0; i < max; i++) {
		uint8_t c = (uint8_t)key[i];

		comp[n++] = (c < 0x20 || c == 0x7f || c == '\'' || (c >= 0x80 && ascii_only))
				? '?'
				: (char)c;
	}
	if (max < len) {
		memcpy(comp + n, "...", 3);
		n += 3;
	}
	path_prepend(w, comp, n);
}

static __attribute__((cold, noinline)) void path_index(struct writer *w, size_t i)
{
	char comp[32];
	int n = snprintf(comp, sizeof(comp), "[%zu]", i);

	path_prepend(w, comp, (size_t)n);
}

static __attribute__((cold, noinline)) int fault(struct writer *w, enum fault f)
{
	w->fault = f;
	path_reset(w, "");
	switch (f) {
	case FAULT_TOO_BIG:
		return -E2BIG;
	case FAULT_NOMEM:
		return -ENOMEM;
	default:
		return -EBADMSG;
	}
}

/* Faults about one value carry the path to it; the others are about the whole entry. */
static bool fault_has_path(const struct writer *w)
{
	return w->fault == FAULT_REAL || w->fault == FAULT_UTF8_STR || w->fault == FAULT_UTF8_KEY ||
	       w->fault == FAULT_NUL_KEY;
}

/* ---- the output buffer ---- */

static __attribute__((noinline)) int grow(struct writer *w, size_t n)
{
	size_t cap;
	char *buf;

	/* w->len <= VFY_ENTRY_MAX always holds; the cap keeps room for the final NUL. */
	if (n > VFY_ENTRY_MAX - w->len)
		return fault(w, FAULT_TOO_BIG);
	cap = w->cap ? w->cap : ENTRY_BUF_INIT;
	while (cap < w->len + n + 1)
		cap *= 2;
	if (cap > VFY_ENTRY_MAX + 1)
		cap = VFY_ENTRY_MAX + 1;
	buf = realloc(w->buf, cap);
	if (!buf)
		return fault(w, FAULT_NOMEM);
	w->buf = buf;
	w->cap = cap;
	return 0;
}

static inline int append(struct writer *w, const void *s, size_t n)
{
	if (w->cap - w->len <= n) {
		int r = grow(w, n);

		if (r < 0)
			return r;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	return 0;
}

static inline int append_c(struct writer *w, char c)
{
	return append(w, &c, 1);
}

/* How RFC 8785 escapes each byte: 0 = as is, 'u' = \u00xx, else a backslash and this. */
/* clang-format off */
static const char escape[256] = {
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	['"'] = '"', ['\\'] = '\\',
};
/* clang-format on */

static int write_string(struct writer *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run;
	char seq[6] = { '\\', 0, '0', '0', 0, 0 };
	uint8_t c;
	int r;

	if ((r = append_c(w, '"')) < 0)
		return r;
	while (i < n) {
		/* Copy the longest run that needs no escape in one go. */
		for (run = i; run < n && !escape[(uint8_t)s[run]]; run++)
			;
		if (run > i && (r = append(w, s + i, run - i)) < 0)
			return r;
		if (run == n)
			break;
		c = (uint8_t)s[run];
		seq[1] = escape[c];
		seq[4] = hex[c >> 4];
		seq[5] = hex[c & 0xf];
		if ((r = append(w, seq, seq[1] == 'u' ? 6 : 2)) < 0)
			return r;
		i = run + 1;
	}
	return append_c(w, '"');
}

static int write_int(struct writer *w, json_int_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	/* Negate in unsigned arithmetic, so that INT64_MIN has a magnitude too. */
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return append(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

size_t vfy_entry_string_size(const char *s, size_t len)
{
	size_t n = 2;

	for (size_t i = 0; i < len; i++) {
		char c = escape[(uint8_t)s[i]];

		n += !c ? 1 : c == 'u' ? 6 : 2;
	}
	return n;
}

/* ---- the walk ---- */

static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int r = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);

	if (r)
		return r;
	return (x->len > y->len) - (x->len < y->len);
}

static int kv_reserve(struct writer *w, size_t n)
{
	size_t cap;
	struct kv *kv;

	if (w->kv_cap - w->kv_len >= n)
		return 0;
	cap = w->kv_cap ? w->kv_cap : 32;
	while (cap - w->kv_len < n)
		cap *= 2;
	kv = realloc(w->kv, cap * sizeof(*kv));
	if (!kv)
		return fault(w, FAULT_NOMEM);
	w->kv = kv;
	w->kv_cap = cap;
	return 0;
}

static int write_value(struct writer *w, json_t *j, unsigned depth);

static int write_object(struct writer *w, json_t *obj, unsigned depth)
{
	size_t base = w->kv_len, n = json_object_size(obj), i;
	void *it;
	int r;

	if ((r = kv_reserve(w, n)) < 0)
		return r;
	for (it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
		struct kv *kv = &w->kv[w->kv_len++];

		kv->key = json_object_iter_key(it);
		kv->len = json_object_iter_key_len(it);
		kv->val = json_object_iter_value(it);
		/* json_object_setn_nocheck() lets code build what jansson would never parse. */
		if (!w->trusted &&
		    (memchr(kv->key, '\0', kv->len) || !utf8_valid(kv->key, kv->len))) {
			r = fault(w,
				  memchr(kv->key, '\0', kv->len) ? FAULT_NUL_KEY : FAULT_UTF8_KEY);
			path_key(w, kv->key, kv->len, depth == 1);
			goto out;
		}
	}
	qsort(w->kv + base, n, sizeof(*w->kv), kv_cmp);

	if ((r = append_c(w, '{')) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		/* Index, don't hold a pointer: children may move the key stack. */
		if ((i && (r = append_c(w, ',')) < 0) ||
		    (r = write_string(w, w->kv[base + i].key, w->kv[base + i].len)) < 0 ||
		    (r = append_c(w, ':')) < 0)
			goto out;
		if ((r = write_value(w, w->kv[base + i].val, depth + 1)) < 0) {
			if (fault_has_path(w))
				path_key(w, w->kv[base + i].key, w->kv[base + i].len, depth == 1);
			goto out;
		}
	}
	r = append_c(w, '}');
out:
	w->kv_len = base;
	return r;
}

static int write_array(struct writer *w, json_t *arr, unsigned depth)
{
	size_t n = json_array_size(arr), i;
	int r;

	if ((r = append_c(w, '[')) < 0)
		return r;
	for (i = 0; i < n; i++) {
		if (i && (r = append_c(w, ',')) < 0)
			return r;
		if ((r = write_value(w, json_array_get(arr, i), depth + 1)) < 0) {
			if (fault_has_path(w))
				path_index(w, i);
			return r;
		}
	}
	return append_c(w, ']');
}

/* @depth counts the containers open around @j, @j included if it is one: the entry itself is
 * at depth 1, as in jansson's parser. */
static int write_value(struct writer *w, json_t *j, unsigned depth)
{
	const char *s;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
		if (depth > ENTRY_DEPTH_MAX)
			return fault(w, FAULT_DEPTH);
		return json_is_object(j) ? write_object(w, j, depth) : write_array(w, j, depth);
	case JSON_STRING:
		s = json_string_value(j);
		if (!w->trusted && !utf8_valid(s, json_string_length(j)))
			return fault(w, FAULT_UTF8_STR);
		return write_string(w, s, json_string_length(j));
	case JSON_INTEGER:
		return write_int(w, json_integer_value(j));
	case JSON_REAL:
		w->real = json_real_value(j);
		return fault(w, FAULT_REAL);
	case JSON_TRUE:
		return append(w, "true", 4);
	case JSON_FALSE:
		return append(w, "false", 5);
	case JSON_NULL:
		return append(w, "null", 4);
	}
	return fault(w, FAULT_NONE); /* not reached: json_typeof() has no other values */
}

/* ---- the checks and the entry points ---- */

/* "v" and "type" are what make an object an entry (docs/log.md). */
static int check_header(const json_t *obj, struct err_detail *reterr)
{
	const json_t *v = json_object_get(obj, "v");
	const json_t *type = json_object_get(obj, "type");

	if (!v)
		return err_set(reterr, -EBADMSG, _("missing \"v\": every entry has \"v\":1"));
	if (json_is_integer(v) && json_integer_value(v) != 1)
		return err_set(reterr, -EBADMSG,
			       "\"v\" must be the integer 1, not %" JSON_INTEGER_FORMAT
			       ": this entry format is unknown",
			       json_integer_value(v));
	if (!json_is_integer(v))
		return err_set(reterr, -EBADMSG, _("\"v\" must be the integer 1, not %s"),
			       type_name(v));
	if (!type)
		return err_set(reterr, -EBADMSG,
			       _("missing \"type\": every entry has a non-empty string \"type\""));
	if (!json_is_string(type))
		return err_set(reterr, -EBADMSG, _("\"type\" must be a non-empty string, not %s"),
			       type_name(type));
	if (json_string_length(type) == 0)
		return err_set(reterr, -EBADMSG,
			       _("\"type\" must be a non-empty string, not the empty string"));
	return 0;
}

/* A float's value for a message: the shortest of %.15g..%.17g that reads back as the same
 * double (29.97, not 29.969999999999999), always with a fraction or exponent so that 1.0 does
 * not read as the integer 1. */
static void format_real(char *out, size_t size, double d)
{
	int prec;

	for (prec = 15; prec < 17; prec++) {
		snprintf(out, size, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			break;
	}
	if (prec == 17)
		snprintf(out, size, "%.17g", d);
	if (!strpbrk(out, ".eEni")) /* not already 1.5, 1e+300, nan or inf */
		strncat(out, ".0", size - strlen(out) - 1);
}

static __attribute__((cold, noinline)) int walk_error(struct writer *w, int r,
						      struct err_detail *reterr)
{
	const char *path = w->path + w->path_at;
	char real[40];

	switch (w->fault) {
	case FAULT_REAL:
		format_real(real, sizeof(real), w->real);
		return err_set(reterr, r,
			       _("floats are not allowed: key '%s' is %s (write an integer)"), path,
			       real);
	case FAULT_UTF8_STR:
		return err_set(reterr, r, _("not valid UTF-8: the string at key '%s'"), path);
	case FAULT_UTF8_KEY:
		return err_set(reterr, r, _("not valid UTF-8: key '%s'"), path);
	case FAULT_NUL_KEY:
		return err_set(reterr, r, _("keys may not contain NUL (\\u0000): key '%s'"), path);
	case FAULT_DEPTH:
		return err_set(reterr, r, _("nested deeper than %d levels of objects and arrays"),
			       ENTRY_DEPTH_MAX);
	case FAULT_TOO_BIG:
		return err_set(reterr, r,
			       _("canonical form is over the limit of %d bytes (an entry of the "
				 "log is at most that long)"),
			       VFY_ENTRY_MAX);
	case FAULT_NOMEM:
		return err_set(reterr, r, _("out of memory writing the canonical form"));
	case FAULT_NONE:
		break;
	}
	return err_set(reterr, r, _("internal error writing the canonical form"));
}

/* Checks @obj and writes it; @size_hint is the first size of the output buffer. */
static int dump_entry(const json_t *obj, bool trusted, size_t size_hint, char **ret_out,
		      size_t *ret_len, struct err_detail *reterr)
{
	struct writer w = { .trusted = trusted };
	int r;

	if (!json_is_object(obj))
		return err_set(reterr, -EBADMSG, _("an entry must be a JSON object, not %s"),
			       type_name(obj));
	if ((r = check_header(obj, reterr)) < 0)
		return r;

	if (size_hint > VFY_ENTRY_MAX + 1)
		size_hint = VFY_ENTRY_MAX + 1;
	w.buf = malloc(size_hint);
	if (!w.buf) {
		r = fault(&w, FAULT_NOMEM);
		goto fail;
	}
	w.cap = size_hint;
	/* jansson's iterators take a non-const json_t; the walk only reads. */
	if ((r = write_value(&w, (json_t *)obj, 1)) < 0)
		goto fail;
	free(w.kv);

	w.buf[w.len] = '\0';
	if (w.cap > 2 * (w.len + 1)) {
		/* Pretty-printed input left much of the buffer unused; failing to shrink is fine.
		 */
		char *shrunk = realloc(w.buf, w.len + 1);

		if (shrunk)
			w.buf = shrunk;
	}
	*ret_out = w.buf;
	*ret_len = w.len;
	return 0;

fail:
	free(w.kv);
	free(w.buf);
	return walk_error(&w, r, reterr);
}

/* The text after jansson's " near '", without the closing quote: the token at fault. */
static const char *near_token(const char *text, char *out, size_t size)
{
	const char *p = strstr(text, " near '");
	size_t n;

	if (!p)
		return NULL;
	p += strlen(" near '");
	n = strlen(p);
	if (n > 0 && p[n - 1] == '\'')
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

/* The length of jansson's message without its " near '…'" tail. */
static size_t strcspn_near(const char *text)
{
	const char *p = strstr(text, " near '");

	return p ? (size_t)(p - text) : strlen(text);
}

/* Turns jansson's error into ours: one message per kind of problem, with jansson's position. */
static int parse_error(const json_error_t *e, struct err_detail *reterr)
{
	unsigned line = e->line > 0 ? (unsigned)e->line : 0;
	char token[JSON_ERROR_TEXT_LENGTH];
	const char *tok = near_token(e->text, token, sizeof(token));

	switch (json_error_code(e)) {
	case json_error_out_of_memory:
		return err_set(reterr, -ENOMEM, _("out of memory parsing the entry"));
	case json_error_invalid_utf8:
		/* jansson's "near" names the token before the bad byte, which misleads: cut it. */
		return err_set_line(
		    reterr, -EBADMSG, line,
		    _("not valid UTF-8 at line %d, column %d (byte offset %d): %.*s"), e->line,
		    e->column, e->position, (int)strcspn_near(e->text), e->text);
	case json_error_duplicate_key:
		return err_set_line(reterr, -EBADMSG, line,
				    _("duplicate key %s at line %d, column %d"),
				    tok ? tok : "(unknown)", e->line, e->column);
	case json_error_numeric_overflow:
		if (strstr(e->text, "real"))
			return err_set_line(
			    reterr, -EBADMSG, line,
			    _("floats are not allowed: %s at line %d, column %d (and "
			      "it is out of range)"),
			    tok ? tok : "number", e->line, e->column);
		return err_set_line(
		    reterr, -EBADMSG, line,
		    _("integer out of range at line %d, column %d: %s (integers must "
		      "fit in 64 bits: -9223372036854775808 to 9223372036854775807)"),
		    e->line, e->column, tok ? tok : e->text);
	case json_error_null_byte_in_key:
		return err_set_line(
		    reterr, -EBADMSG, line,
		    _("keys may not contain NUL (\\u0000): key %s at line %d, column %d"),
		    tok ? tok : "(unknown)", e->line, e->column);
	case json_error_stack_overflow:
		return err_set_line(
		    reterr, -EBADMSG, line,
		    _("nested deeper than %d levels of objects and arrays at line %d, "
		      "column %d"),
		    ENTRY_DEPTH_MAX, e->line, e->column);
	case json_error_end_of_input_expected:
		return err_set_line(reterr, -EBADMSG, line,
				    _("trailing data after the JSON object at line %d, column %d"),
				    e->line, e->column);
	default:
		return err_set_line(reterr, -EBADMSG, line,
				    _("not valid JSON at line %d, column %d: %s"), e->line,
				    e->column, e->text);
	}
}

int vfy_entry_canonicalize(const char *in, size_t len, char **ret_out, size_t *ret_len,
			   struct err_detail *reterr)
{
	_cleanup_(json_decrefp) json_t *root = NULL;
	json_error_t jerr;
	const char *nul;

	/* Before parsing: a client must not make us build a tree for 100 MB of text. */
	if (len > VFY_ENTRY_INPUT_MAX)
		return err_set(reterr, -E2BIG,
			       _("entry text is %zu bytes, over the limit of %d bytes for input "
				 "(and its canonical form may be at most %d bytes)"),
			       len, VFY_ENTRY_INPUT_MAX, VFY_ENTRY_MAX);
	if (len == 0)
		return err_set(reterr, -EBADMSG, _("entry is empty: expected a JSON object"));
	/* jansson would report a raw NUL as "end of file expected", which helps nobody. */
	nul = memchr(in, '\0', len);
	if (nul)
		return err_set(reterr, -EBADMSG,
			       _("NUL byte at byte offset %zu: an entry is text (inside a string, "
				 "write NUL as \\u0000)"),
			       (size_t)(nul - in));

	/* JSON_DECODE_ANY so that a top-level array or string gets our message, which names
	 * it, rather than jansson's "'[' or '{' expected". */
	root =
	    json_loadb(in, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
	if (!root)
		return parse_error(&jerr, reterr);
	return dump_entry(root, true, len + 1, ret_out, ret_len, reterr);
}

int vfy_entry_dump(const struct json_t *obj, char **ret_out, size_t *ret_len,
		   struct err_detail *reterr)
{
	if (!obj)
		return err_set(reterr, -EINVAL, _("no entry to write (NULL)"));
	return dump_entry(obj, false, ENTRY_BUF_INIT, ret_out, ret_len, reterr);
}
