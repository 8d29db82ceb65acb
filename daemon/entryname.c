/* entryname.c: an entry's `name`, recorded so that a name that is not UTF-8 is both readable
 * and exact (entryname.h, docs/ingest.md "Names").  Pure functions on their arguments. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "base/hex.h"
#include "base/utf8.h"
#include "daemon/entryname.h"

int entryname_put(const char *name, json_t *o)
{
	size_t len = strlen(name);
	auto_free char *shown = NULL, *hex = NULL;

	if (utf8_valid(name, len))
		return json_object_set_new(o, "name", json_string(name)) < 0 ? -ENOMEM : 0;
	shown = utf8_replace_invalid(name, len);
	hex = malloc(2 * len + 1);
	if (!shown || !hex)
		return -ENOMEM;
	hex_encode(name, len, hex);
	if (json_object_set_new(o, "name", json_string(shown)) < 0 ||
	    json_object_set_new(o, "name_hex", json_string(hex)) < 0)
		return -ENOMEM;
	return 0;
}

char *entryname_get(const json_t *o)
{
	const char *hex = json_string_value(json_object_get(o, "name_hex"));
	const char *name = json_string_value(json_object_get(o, "name"));
	size_t len = hex ? strlen(hex) : 0;
	char *raw;

	if (!hex)
		return name ? strdup(name) : NULL;
	if (len % 2 || !(raw = malloc(len / 2 + 1)))
		return NULL;
	/* A relative path: '/' separates its folders; NUL ends a C string. */
	if (hex_decode_mem(hex, len, raw, len / 2) < 0 || memchr(raw, '\0', len / 2)) {
		free(raw);
		return NULL;
	}
	raw[len / 2] = '\0';
	return raw;
}
