/* utf8.c: one strict UTF-8 decoder for the whole project (the config, signed notes and log
 * entries all refuse what Go's decoder refuses, so that our checks and Go's agree). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"

size_t utf8_decode(const uint8_t *s, size_t len, uint32_t *ret_cp)
{
	uint32_t c, min;
	size_t n;

	if (len == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*ret_cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, c &= 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0; /* a continuation byte, an overlong lead (c0, c1) or f5..ff */
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*ret_cp = c;
	return n;
}

bool utf8_valid(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t c;
		size_t k;

		/* ASCII runs are the common case in entries: skip them without decoding. */
		if ((uint8_t)s[i] < 0x80) {
			i++;
			continue;
		}
		k = utf8_decode((const uint8_t *)s + i, len - i, &c);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

bool utf8_is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c < 0xa0);
}

bool utf8_is_unsafe(uint32_t c)
{
	return (utf8_is_control(c) && c != '\t' && c != '\n') || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f || c == 0x061c ||
	       c == 0xfeff || (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe;
}

char *utf8_for_terminal(const char *s, size_t len)
{
	char *out = len <= (SIZE_MAX - 1) / 4 ? malloc(4 * len + 1) : NULL;
	size_t i = 0, n = 0;

	if (!out)
		return NULL;
	while (i < len) {
		uint32_t c;
		size_t k = utf8_decode((const uint8_t *)s + i, len - i, &c);

		if (k == 0 || c < 0x80) {
			/* One byte: ASCII, or not UTF-8 at all. */
			uint8_t b = (uint8_t)s[i];

			if (k && !utf8_is_control(c))
				out[n++] = (char)b;
			else
				n += (size_t)sprintf(out + n, "\\x%02x", b);
			i++;
			continue;
		}
		if (utf8_is_control(c) || utf8_is_unsafe(c)) {
			n += (size_t)sprintf(out + n, c > 0xffff ? "\\U%08x" : "\\u%04x",
					     (unsigned)c);
		} else {
			memcpy(out + n, s + i, k);
			n += k;
		}
		i += k;
	}
	out[n] = '\0';
	return out;
}

bool utf8_is_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	       c == 0x205f || c == 0x3000;
}

const char *utf8_printable(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i = 0, n = 0;

	while (i < len && n + 4 < outlen) {
		uint32_t c;
		size_t k = utf8_decode((const uint8_t *)s + i, len - i, &c);

		if (k == 0 || utf8_is_control(c)) {
			out[n++] = '?';
			i += k ? k : 1;
			continue;
		}
		if (n + k + 4 > outlen)
			break;
		memcpy(out + n, s + i, k);
		n += k;
		i += k;
	}
	if (i < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

char *utf8_replace_invalid(const char *s, size_t len)
{
	char *out = len <= (SIZE_MAX - 1) / 3 ? malloc(3 * len + 1) : NULL;
	size_t i = 0, n = 0;

	if (!out)
		return NULL;
	while (i < len) {
		uint32_t c;
		size_t k = utf8_decode((const uint8_t *)s + i, len - i, &c);

		if (k == 0 || c == 0) {
			memcpy(out + n, "\xef\xbf\xbd", 3); /* U+FFFD */
			n += 3;
			i++;
			continue;
		}
		memcpy(out + n, s + i, k);
		n += k;
		i += k;
	}
	out[n] = '\0';
	return out;
}

unsigned utf8_width(uint32_t c)
{
	/* Unicode's East Asian Width W and F ranges that names and places use, and the combining
	 * diacritics; what a terminal shows for rarer characters varies anyway. */
	static const uint32_t wide[][2] = {
		{ 0x1100, 0x115f },   { 0x2e80, 0x303e },   { 0x3041, 0x33ff },
		{ 0x3400, 0x4dbf },   { 0x4e00, 0x9fff },   { 0xa000, 0xa4cf },
		{ 0xac00, 0xd7a3 },   { 0xf900, 0xfaff },   { 0xfe30, 0xfe4f },
		{ 0xff00, 0xff60 },   { 0xffe0, 0xffe6 },   { 0x1f300, 0x1f64f },
		{ 0x1f900, 0x1f9ff }, { 0x20000, 0x2fffd }, { 0x30000, 0x3fffd },
	};

	if ((c >= 0x300 && c <= 0x36f) || c == 0x200b)
		return 0;
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (c >= wide[i][0] && c <= wide[i][1])
			return 2;
	return 1;
}

const char *utf8_fit(const char *s, unsigned cols, char *out, size_t outlen)
{
	size_t len = strlen(s), i = 0, o = 0;
	unsigned used = 0;

	while (i < len && used < cols && o + 5 < outlen) {
		uint32_t cp;
		size_t n = utf8_decode((const uint8_t *)s + i, len - i, &cp);
		unsigned w = n ? utf8_width(cp) : 1;

		if (used + w > cols)
			break;
		if (n) {
			memcpy(out + o, s + i, n);
			o += n;
		} else {
			out[o++] = '?';
			n = 1;
		}
		i += n;
		used += w;
	}
	while (used < cols && o + 1 < outlen) {
		out[o++] = ' ';
		used++;
	}
	out[o] = '\0';
	return out;
}
