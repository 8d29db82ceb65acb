/* describe.c: a fingerprint as the fields of its log entry ("ingest" and "damaged" in docs/log.md).
 *
 * DESIGN
 * The daemon's writer thread and custody-verify both print entries from this one function, so
 * the offline tool shows exactly what an entry holds.  It builds a jansson tree; the canonical
 * bytes are verify/entry.c's business (vfy_entry_dump()).  Only integers and strings go in:
 * canonical entries refuse floats.  Every string is valid UTF-8, because jansson refuses
 * anything else and tags come from files of unknown origin: fingerprint.c cleans them with
 * ing__utf8_sanitize() below.  Pure functions on their arguments: any thread. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "ingest/rectime.h"
#include "base/err.h"
#include "base/hex.h"
#include "ingest/fingerprint.h"
#include "ingest/ingest-internal.h"

size_t ing__utf8_seq(const unsigned char *s, size_t len)
{
	unsigned c = s[0];
	size_t n;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t ing__utf8_sanitize(const char *in, size_t len, char *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	for (size_t i = 0; i < len && s[i];) {
		size_t n = ing__utf8_seq(s + i, len - i);

		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return o;
}

/* Builders that remember a failure, so that a tree is built in straight lines and checked once:
 * json_object_set_new() takes (and on failure drops) the value, NULL included. */
struct builder {
	bool failed;
};

static void put(struct builder *b, json_t *obj, const char *key, json_t *value)
{
	if (!obj) {
		json_decref(value);
		b->failed = true;
	} else if (json_object_set_new(obj, key, value) < 0) {
		b->failed = true;
	}
}

static void append(struct builder *b, json_t *array, json_t *value)
{
	if (!array) {
		json_decref(value);
		b->failed = true;
	} else if (json_array_append_new(array, value) < 0) {
		b->failed = true;
	}
}

static json_t *int_or_null(int64_t v)
{
	return v == ING_NOTS ? json_null() : json_integer((json_int_t)v);
}

static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static json_t *hex(const uint8_t hash[ING_HASH_LEN])
{
	char text[2 * ING_HASH_LEN + 1];

	hex_encode(hash, ING_HASH_LEN, text);
	return json_string(text);
}

static json_t *utc_or_null(int64_t us)
{
	char text[ING_RFC3339_MAX];

	if (ing_format_utc(us, text) < 0)
		return json_null();
	return json_string(text);
}

static json_t *stream_json(struct builder *b, const struct ing_stream *st)
{
	json_t *o = json_object();

	put(b, o, "index", json_integer(st->index));
	put(b, o, "type", json_string(st->type));
	put(b, o, "codec", json_string(st->codec));
	put(b, o, "packets", json_integer((json_int_t)st->packets));
	put(b, o, "keyframes", json_integer((json_int_t)st->keyframes));
	put(b, o, "digest", hex(st->digest));
	if (st->profile[0])
		put(b, o, "profile", json_string(st->profile));
	if (!strcmp(st->type, "video")) {
		put(b, o, "width", json_integer(st->width));
		put(b, o, "height", json_integer(st->height));
	} else if (!strcmp(st->type, "audio")) {
		put(b, o, "sample_rate", json_integer(st->sample_rate));
		put(b, o, "channels", json_integer(st->channels));
	}
	return o;
}

int ing_entry_json(const struct ing_fingerprint *fp, const struct ing_recording *rec, json_t **ret,
		   struct err_detail *reterr)
{
	struct builder b = { 0 };
	json_t *o = json_object();
	json_t *streams = json_array();
	json_t *tags = json_object();

	put(&b, o, "v", json_integer(1));
	put(&b, o, "type", json_string(fp->damaged ? "damaged" : "ingest"));
	put(&b, o, "size", json_integer((json_int_t)fp->size));
	put(&b, o, "sha256", hex(fp->sha256));
	put(&b, o, "container", str_or_null(fp->container));
	put(&b, o, "duration_us", int_or_null(fp->duration_us));
	put(&b, o, "start_us", int_or_null(fp->start_us));
	for (unsigned i = 0; i < fp->n_streams && i < ING_ENTRY_STREAMS_MAX; i++)
		append(&b, streams, stream_json(&b, &fp->streams[i]));
	put(&b, o, "streams", streams);
	/* The rest are indexed (their digests) and covered by sha256, not listed: an entry
	 * has room for ING_ENTRY_STREAMS_MAX (docs/log.md). */
	if (fp->n_streams > ING_ENTRY_STREAMS_MAX)
		put(&b, o, "streams_unlisted",
		    json_integer((json_int_t)(fp->n_streams - ING_ENTRY_STREAMS_MAX)));
	if (fp->creation_time)
		put(&b, tags, "creation_time", json_string(fp->creation_time));
	if (fp->make)
		put(&b, tags, "make", json_string(fp->make));
	if (fp->model)
		put(&b, tags, "model", json_string(fp->model));
	if (fp->serial)
		put(&b, tags, "serial", json_string(fp->serial));
	if (fp->location)
		put(&b, tags, "location", json_string(fp->location));
	put(&b, o, "tags", tags);
	if (fp->tags_cut)
		put(&b, o, "tags_cut", json_true());
	if (rec && rec->source != ING_TIME_NONE) {
		put(&b, o, "recorded_start", utc_or_null(rec->start_us));
		put(&b, o, "recorded_end", utc_or_null(rec->end_us));
		put(&b, o, "time_source", json_string(ing_time_source_name(rec->source)));
		if (rec->future)
			put(&b, o, "time_in_future", json_true());
	} else {
		put(&b, o, "recorded_start", json_null());
		put(&b, o, "recorded_end", json_null());
		put(&b, o, "time_source", json_null());
	}
	put(&b, o, "device", str_or_null(rec ? rec->device : NULL));
	put(&b, o, "officer", str_or_null(rec ? rec->officer : NULL));
	if (fp->damaged) {
		char msg[3 * sizeof(fp->error) + 1];

		/* libav's messages quote bytes of the file; keep the entry valid UTF-8. */
		ing__utf8_sanitize(fp->error, strlen(fp->error), msg);
		put(&b, o, "error", json_string(msg));
	}
	/* The count is in the error too, in words; the field is for tools and reviews. */
	if (fp->trailing_bytes)
		put(&b, o, "trailing_bytes", json_integer((json_int_t)fp->trailing_bytes));
	if (b.failed) {
		json_decref(o);
		return err_set(reterr, -ENOMEM, "out of memory for the entry");
	}
	*ret = o;
	return 0;
}

int ing_key_packets_json(const struct ing_stream *st, json_t **ret)
{
	struct builder b = { 0 };
	json_t *a = json_array();

	for (size_t i = 0; i < st->n_keys; i++) {
		const struct ing_key_packet *k = &st->keys[i];
		json_t *o = json_object();

		put(&b, o, "ordinal", json_integer((json_int_t)k->ordinal));
		put(&b, o, "pts_us", int_or_null(k->pts_us));
		put(&b, o, "dts_us", int_or_null(k->dts_us));
		put(&b, o, "hash", hex(k->hash));
		append(&b, a, o);
	}
	if (b.failed) {
		json_decref(a);
		return -ENOMEM;
	}
	*ret = a;
	return 0;
}
