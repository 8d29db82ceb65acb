/* daemon/server/request.c: what every operation uses to read a request and the log's entries:
 * fields of a request, an entry's JSON, times (internal.h).  Pure functions; loop thread only
 * by convention, like the rest of the server. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "daemon/server/internal.h"
#include "ingest/rectime.h"

/* ---- request fields ---------------------------------------------------------------------- */

int srv__req_index(const json_t *req, const char *key, bool required, uint64_t *ret,
		   struct err_detail *reterr)
{
	const json_t *v = json_object_get(req, key);

	if (!v || json_is_null(v)) {
		if (required)
			return err_set(reterr, -EINVAL, "\"%s\" (an entry index) is required", key);
		return -ENOENT;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return err_set(reterr, -EINVAL, "\"%s\" must be a non-negative integer", key);
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

int srv__req_string(const json_t *req, const char *key, bool required, size_t max, const char **ret,
		    struct err_detail *reterr)
{
	const json_t *v = json_object_get(req, key);

	if (!v || json_is_null(v)) {
		if (required)
			return err_set(reterr, -EINVAL, "\"%s\" is required", key);
		return -ENOENT;
	}
	if (!json_is_string(v) || !json_string_length(v))
		return err_set(reterr, -EINVAL, "\"%s\" must be a non-empty string", key);
	if (json_string_length(v) > max)
		return err_set(reterr, -EINVAL, "\"%s\" is longer than %zu bytes", key, max);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return err_set(reterr, -EINVAL, "\"%s\" contains a NUL character", key);
	*ret = json_string_value(v);
	return 0;
}

json_t *srv__entry_json(const char *bytes, size_t len)
{
	json_t *o = json_loadb(bytes, len, 0, NULL);

	if (o && !json_is_object(o))
		o = (json_decref(o), NULL);
	return o;
}

json_t *srv__jtime(int64_t us)
{
	char text[ING_RFC3339_MAX];

	if (us == INT64_MIN || ing_format_utc(us, text) < 0)
		return json_null();
	return json_string(text);
}

/* The times requests and entries carry: RFC 3339 with a zone (a time without one would be
 * read in nobody knows which). */
int srv__parse_time(const char *s, int64_t *ret_us)
{
	struct ing_civil c;
	int32_t offset = 0;
	char zone;
	int64_t sec;

	if (ing_parse_datetime(s, &c, &zone, &offset) < 0 || zone == 'N')
		return -EINVAL;
	sec = ing_civil_to_epoch(c.year, c.month, c.day, c.hour, c.minute, c.second);
	if (zone == 'O')
		sec -= offset;
	*ret_us = sec * 1000000 + c.usec;
	return 0;
}
