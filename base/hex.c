/* hex.c: bytes to lower-case hex and back.
 *
 * The decoder is the strict one the request parser always had: exactly two digits per byte
 * from 0-9a-f, nothing else.  Every hex string custody reads (a request's "sha256", a state
 * file, a staged file's meta, a key ID, a name's "name_hex" in docs/ingest.md) was written lower
 * case by hex_encode() or is specified as lower case, so refusing the rest loses nothing and
 * keeps one spelling per value. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "base/hex.h"

static const char digits[] = "0123456789abcdef";

void hex_encode(const void *bytes, size_t len, char *out)
{
	const uint8_t *b = bytes;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * len] = '\0';
}

static int digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int hex_decode_mem(const char *hex, size_t hex_len, void *ret, size_t len)
{
	uint8_t *out = ret;

	if (!hex || hex_len / 2 != len || hex_len % 2)
		return -EINVAL;
	/* Check everything first: @ret is written only on success. */
	for (size_t i = 0; i < hex_len; i++)
		if (digit(hex[i]) < 0)
			return -EINVAL;
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(digit(hex[2 * i]) << 4 | digit(hex[2 * i + 1]));
	return 0;
}

int hex_decode(const char *hex, void *ret, size_t len)
{
	/* strnlen: a string longer than expected is refused without reading all of it. */
	return hex_decode_mem(hex, hex ? strnlen(hex, 2 * len + 1) : 0, ret, len);
}
