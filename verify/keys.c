/* keys.c: the extra bytes of the log's lookup keys, and the arrival key (verify/keys.h has the
 * layout).  Byte by byte, so the layout is little-endian on any host. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "verify/hash.h"
#include "verify/keys.h"

void vfy_key_extra_put(uint8_t extra[16], uint32_t stream, int64_t value, uint32_t ordinal)
{
	uint64_t v = (uint64_t)value;

	for (int i = 0; i < 4; i++)
		extra[i] = (uint8_t)(stream >> (8 * i));
	for (int i = 0; i < 8; i++)
		extra[4 + i] = (uint8_t)(v >> (8 * i));
	for (int i = 0; i < 4; i++)
		extra[12 + i] = (uint8_t)(ordinal >> (8 * i));
}

void vfy_key_extra_get(const uint8_t extra[16], uint32_t *ret_stream, int64_t *ret_value,
		       uint32_t *ret_ordinal)
{
	uint64_t v = 0;
	uint32_t s = 0, o = 0;

	for (int i = 3; i >= 0; i--)
		s = s << 8 | extra[i];
	for (int i = 7; i >= 0; i--)
		v = v << 8 | extra[4 + i];
	for (int i = 3; i >= 0; i--)
		o = o << 8 | extra[12 + i];
	if (ret_stream)
		*ret_stream = s;
	if (ret_value)
		*ret_value = (int64_t)v;
	if (ret_ordinal)
		*ret_ordinal = o;
}

int vfy_key_arrival(const struct json_t *arrival, uint8_t ret_key[32])
{
	char *text = json_dumps(arrival, JSON_COMPACT | JSON_SORT_KEYS);
	int r;

	if (!text)
		return -ENOMEM;
	r = vfy_sha256(text, strlen(text), ret_key);
	free(text);
	return r;
}
