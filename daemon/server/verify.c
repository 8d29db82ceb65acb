/* daemon/server/verify.c: `verify` (docs/protocol.md): is this clip one of ours?  Loop thread only.
 *
 * Request: {"op":"verify", "fingerprint":{
 *     "sha256":HEX, "size":N?, "name":"clip.mp4"?, "duration_us":N?, "container":"…"?,
 *     "tags":{"creation_time":…, "make":…, "model":…, "serial":…}?,
 *     "device":"…"?, "recorded_start":"RFC 3339"?,
 *     "streams":[{"index":N, "type":"video", "codec":"h264", "packets":N, "digest":HEX,
 *                 "keys":[{"hash":HEX, "pts_us":N|null, "ordinal":N}…], "keys_total":N?}…]}}
 * custodyctl computes it with ing_fingerprint_fd(); "keys" are the video key packets with
 * their ordinal among all packets of their stream (ing_key_packet).  A client that cannot fit
 * every key packet into max_request_bytes sends the first ones and says how many there are in
 * "keys_total"; the answer then says how many were checked.
 *
 * The answer, first that holds:
 *   exact    TLOG_KEY_FILE has the file's SHA-256: the first entry that logged those bytes.
 *   remux    one entry carries, by TLOG_KEY_STREAM, the digest and packet count of every audio
 *            and video stream of the clip, and the clip carries every audio and video stream
 *            that entry lists (and no more than it counts in "streams_unlisted" besides).  Data and
 * subtitle streams are ignored (containers add and drop them: mov writes tmcd, matroska does not).
 *   excerpt  every video stream's key packets are found (TLOG_KEY_PACKET) in one stream of one
 *            entry, each at the same distance in packets from the first as in the clip, and
 *            the clip's packets fit inside the original's stream from there (its packet count
 *            does not run past the original's end): the clip's video is one contiguous run of
 *            the original's packets, a stream-copy cut.  Reported with the original's stream
 *            and the time range (from the first matched key packet's pts to that plus the
 *            clip's duration, or to the last matched key packet's pts when the duration is
 *            unknown), relative to the original's start and, when the original has a
 *            recorded_start, as UTC times.
 *            LIMIT: only key packets are indexed, so the packets between them and the audio
 *            of an excerpt are not compared; the answer's note says so.  An audio stream as
 *            long as one of the original's must equal it (digest), else it is altered.  A run that
 * spans the original's whole stream is compared by its digest (a faithful one would have been a
 * remux).  Key packets beyond the ingest's max_key_packets were not indexed, so an excerpt from
 * past that point is unknown. altered  not one of the above, but the clip claims to be an original:
 * its video key packets all come from one original but not as one contiguous run (a cut inside it,
 * spliced), or not fitting its extent, or spanning its whole stream with other packets in between
 * ("claims":["key_packets"], "reason"); or the original's name (its last path component), or the
 * device and recorded_start the client gives, or the creation_time/make/model/serial tags match an
 * original's (from the server's index, daemon/server/index.c).  A name alone does not claim an
 * original whose creation_time tag differs from the clip's: cameras reuse names like VID_0001.MP4.
 * The answer names the claims and which of the clip's streams still equal the original's. unknown
 * nothing matches.
 *
 * With a match the answer carries the original's entry, its storage status (and the
 * late_storage annotations that explain it), the annotations that concern it
 * (srv__index_concerning(), at most SRV_NOTES_MAX) and an inclusion proof against the newest
 * signed checkpoint.  An entry newer than that checkpoint gets "proof":null and
 * "proof_status" saying to ask again after the next checkpoint; the client prints "verified"
 * only when it has checked a proof.
 *
 * Work per request is bounded by the request: two TLOG_KEY_PACKET lookups per key packet sent
 * (about 0.1 µs each), at most 64 hits looked at per key, and a few entry reads.  The answer
 * is recorded as an access entry (target "sha256:HEX", result, entries).
 *
 * One file because it is one operation: the request's fingerprint (struct vfp), the matchers
 * and the proof cache (struct srv_vcache) are used by nothing else. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "conf/conf.h"
#include "daemon/daemon.h"
#include "ingest/rectime.h"
#include "base/err.h"
#include "base/hex.h"
#include "base/macro.h"
#include "verify/hash.h"
#include "daemon/pipeline.h"
#include "daemon/server/internal.h"
#include "verify/keys.h"
#include "verify/tlog.h"

#define MAX_STREAMS 64
#define MAX_KEYS 200000 /* key packets per request, all streams */
#define MAX_HITS 64	/* hits looked at per lookup key */
#define MAX_CLAIMS 64

struct vkey {
	uint8_t hash[VFY_HASH_LEN];
	int64_t pts_us;
	uint64_t ordinal;
};

struct vstream {
	uint64_t index;
	const char *type;
	uint8_t digest[VFY_HASH_LEN];
	uint64_t packets;
	struct vkey *keys;
	size_t nkeys;
	uint64_t keys_total;
};

struct vfp {
	const char *sha_hex;
	uint8_t sha[VFY_HASH_LEN];
	const char *name;
	int64_t duration_us; /* INT64_MIN when unknown */
	const json_t *tags;
	const char *device;
	char start[ING_RFC3339_MAX]; /* recorded_start normalised, "" when not given */
	struct vstream *streams;
	size_t nstreams;
};

static void vfp_done(struct vfp *fp)
{
	for (size_t i = 0; i < fp->nstreams; i++)
		free(fp->streams[i].keys);
	free(fp->streams);
}

static bool av(const char *type)
{
	return type && (!strcmp(type, "video") || !strcmp(type, "audio"));
}

static int parse_fingerprint(const json_t *j, struct vfp *fp, struct err_detail *reterr)
{
	const json_t *streams = json_object_get(j, "streams"), *st, *v;
	size_t i, total = 0;
	int64_t start;
	int r;

	*fp = (struct vfp){ .duration_us = INT64_MIN };
	if (!json_is_object(j))
		return err_set(reterr, -EINVAL,
			       "\"fingerprint\" (an object: sha256, streams…) is "
			       "required");
	r = srv__req_string(j, "sha256", true, 64, &fp->sha_hex, reterr);
	if (r < 0 || hex_decode(fp->sha_hex, fp->sha, 32) < 0)
		return err_set(reterr, -EINVAL,
			       "fingerprint \"sha256\" must be 64 lowercase hex "
			       "digits");
	r = srv__req_string(j, "name", false, 4096, &fp->name, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	r = srv__req_string(j, "device", false, 256, &fp->device, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	v = json_object_get(j, "recorded_start");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || srv__parse_time(json_string_value(v), &start) < 0 ||
		    ing_format_utc(start, fp->start) < 0)
			return err_set(reterr, -EINVAL,
				       "fingerprint \"recorded_start\" must be an "
				       "RFC 3339 time with a zone");
	}
	v = json_object_get(j, "duration_us");
	if (json_is_integer(v) && json_integer_value(v) > 0)
		fp->duration_us = json_integer_value(v);
	fp->tags = json_object_get(j, "tags");
	if (streams && !json_is_null(streams) && !json_is_array(streams))
		return err_set(reterr, -EINVAL, "fingerprint \"streams\" must be a list");
	if (json_array_size(streams) > MAX_STREAMS)
		return err_set(reterr, -EINVAL, "more than %d streams", MAX_STREAMS);
	fp->streams = calloc(json_array_size(streams) + 1, sizeof(*fp->streams));
	if (!fp->streams)
		return err_set(reterr, -ENOMEM, "out of memory");
	json_array_foreach(streams, i, st) {
		struct vstream *s = &fp->streams[fp->nstreams++];
		const json_t *keys = json_object_get(st, "keys"), *k;
		const char *digest;
		uint64_t n;
		size_t ki;

		if (srv__req_index(st, "index", true, &s->index, reterr) < 0 ||
		    srv__req_index(st, "packets", true, &s->packets, reterr) < 0 ||
		    srv__req_string(st, "digest", true, 64, &digest, reterr) < 0 ||
		    hex_decode(digest, s->digest, 32) < 0 ||
		    srv__req_string(st, "type", true, 32, &s->type, reterr) < 0)
			return err_set(reterr, -EINVAL,
				       "fingerprint streams[%zu] needs index, type, "
				       "packets and digest (64 lowercase hex digits)",
				       i);
		if (keys && !json_is_null(keys) && !json_is_array(keys))
			return err_set(reterr, -EINVAL, "streams[%zu].keys must be a list", i);
		s->nkeys = json_array_size(keys);
		total += s->nkeys;
		if (total > MAX_KEYS)
			return err_set(reterr, -EINVAL, "more than %d key packets", MAX_KEYS);
		s->keys = calloc(s->nkeys + 1, sizeof(*s->keys));
		if (!s->keys)
			return err_set(reterr, -ENOMEM, "out of memory");
		json_array_foreach(keys, ki, k) {
			const json_t *pts = json_object_get(k, "pts_us");
			const char *hash;

			if (srv__req_string(k, "hash", true, 64, &hash, reterr) < 0 ||
			    hex_decode(hash, s->keys[ki].hash, 32) < 0 ||
			    srv__req_index(k, "ordinal", true, &s->keys[ki].ordinal, reterr) < 0 ||
			    (pts && !json_is_null(pts) && !json_is_integer(pts)))
				return err_set(
				    reterr, -EINVAL,
				    "streams[%zu].keys[%zu] needs hash (64 "
				    "lowercase hex digits), ordinal and pts_us (or null)",
				    i, ki);
			s->keys[ki].pts_us =
			    json_is_integer(pts) ? json_integer_value(pts) : INT64_MIN;
			if (ki && s->keys[ki].ordinal <= s->keys[ki - 1].ordinal)
				return err_set(reterr, -EINVAL,
					       "streams[%zu].keys: ordinals must "
					       "increase",
					       i);
		}
		s->keys_total = s->nkeys;
		if (srv__req_index(st, "keys_total", false, &n, NULL) == 0 && n > s->nkeys)
			s->keys_total = n;
	}
	return 0;
}

/* ---- matching ---------------------------------------------------------------------------- */

static int read_json(struct tlog *log, uint64_t index, json_t **ret, struct err_detail *reterr)
{
	char *bytes;
	size_t len;
	int r;

	r = tlog_entry(log, index, &bytes, &len, reterr);
	if (r < 0)
		return r;
	*ret = srv__entry_json(bytes, len);
	free(bytes);
	if (!*ret)
		return err_set(reterr, -EIO, "entry %" PRIu64 " in the log does not parse", index);
	return 0;
}

/* The entry of these bytes: the first one still in force.  The same bytes are logged again
 * only after a purge removed the first original (retention), so a purged entry is named only
 * when no later one exists. */
static int match_exact(const struct srv_index *x, struct tlog *log, const struct vfp *fp,
		       uint64_t *ret, struct err_detail *reterr)
{
	struct tlog_hit hits[16];
	size_t n;
	int r;

	r = tlog_lookup(log, TLOG_KEY_FILE, fp->sha, hits, ELEMENTSOF(hits), &n, reterr);
	if (r < 0)
		return r;
	if (!n)
		return 0;
	*ret = hits[0].index;
	for (size_t i = 0; i < n; i++) {
		const struct srv_clip *c = srv__index_clip(x, hits[i].index);

		if (c && !c->purged) {
			*ret = hits[i].index;
			break;
		}
	}
	return 1;
}

/* The original's stream whose digest is @hex, or -1. */
static long entry_stream_with(const json_t *entry, const char *hex)
{
	const json_t *st;
	size_t i;

	json_array_foreach(json_object_get(entry, "streams"), i, st) {
		const char *d = json_string_value(json_object_get(st, "digest"));

		if (d && !strcmp(d, hex))
			return (long)json_integer_value(json_object_get(st, "index"));
	}
	return -1;
}

static int match_remux(struct tlog *log, const struct vfp *fp, uint64_t *ret, json_t **ret_detail,
		       struct err_detail *reterr)
{
	uint64_t cand[MAX_HITS];
	size_t ncand = 0, nav = 0;
	int r;

	for (size_t i = 0; i < fp->nstreams; i++) {
		const struct vstream *s = &fp->streams[i];
		struct tlog_hit hits[MAX_HITS];
		size_t n, kept = 0;

		if (!av(s->type))
			continue;
		r = tlog_lookup(log, TLOG_KEY_STREAM, s->digest, hits, MAX_HITS, &n, reterr);
		if (r < 0)
			return r;
		if (nav++ == 0) {
			for (size_t h = 0; h < n; h++) {
				uint32_t stream, ord;
				int64_t packets;

				vfy_key_extra_get(hits[h].extra, &stream, &packets, &ord);
				if ((uint64_t)packets == s->packets &&
				    (!ncand || cand[ncand - 1] != hits[h].index))
					cand[ncand++] = hits[h].index;
			}
			continue;
		}
		for (size_t c = 0; c < ncand; c++) {
			bool found = false;

			for (size_t h = 0; h < n && !found; h++) {
				uint32_t stream, ord;
				int64_t packets;

				vfy_key_extra_get(hits[h].extra, &stream, &packets, &ord);
				found = hits[h].index == cand[c] && (uint64_t)packets == s->packets;
			}
			if (found)
				cand[kept++] = cand[c];
		}
		ncand = kept;
	}
	/* Every audio/video stream of the clip is in the candidate; now the other way round,
	 * and each of the clip's streams must map to a stream of its own. */
	for (size_t c = 0; c < ncand; c++) {
		json_t *entry, *map = json_array(), *st;
		size_t i, orig_av = 0, covered = 0;
		json_int_t unlisted;
		bool ok = true;

		r = read_json(log, cand[c], &entry, reterr);
		if (r < 0) {
			json_decref(map);
			return r;
		}
		json_array_foreach(json_object_get(entry, "streams"), i, st) {
			const char *d = json_string_value(json_object_get(st, "digest"));

			if (!av(json_string_value(json_object_get(st, "type"))))
				continue;
			orig_av++;
			for (size_t k = 0; d && k < fp->nstreams; k++) {
				char hex[2 * VFY_HASH_LEN + 1];

				hex_encode(fp->streams[k].digest, VFY_HASH_LEN, hex);
				if (av(fp->streams[k].type) && !strcmp(hex, d)) {
					covered++;
					break;
				}
			}
		}
		for (size_t k = 0; k < fp->nstreams && ok; k++) {
			char hex[2 * VFY_HASH_LEN + 1];

			if (!av(fp->streams[k].type))
				continue;
			hex_encode(fp->streams[k].digest, VFY_HASH_LEN, hex);
			json_array_append_new(
			    map, json_pack("{s:I, s:I}", "stream", (json_int_t)fp->streams[k].index,
					   "original_stream",
					   (json_int_t)entry_stream_with(entry, hex)));
		}
		/* Streams past those an entry lists (docs/log.md) are only counted there; the
		 * clip's were each found in this entry by their indexed digests above, so they
		 * may stand for them (LIMIT: which of the unlisted are audio or video is not
		 * known, so a clip lacking some of them still passes). */
		unlisted = json_integer_value(json_object_get(entry, "streams_unlisted"));
		json_decref(entry);
		ok = orig_av && covered == orig_av &&
		     (nav == orig_av ||
		      (unlisted > 0 && nav > orig_av && nav - orig_av <= (size_t)unlisted));
		if (ok) {
			*ret = cand[c];
			*ret_detail = json_pack("{s:o}", "streams", map);
			return 1;
		}
		json_decref(map);
	}
	return 0;
}

struct chain {
	uint64_t entry;
	uint32_t stream;
	uint32_t base; /* original ordinal − clip ordinal, modulo 2^32 */
	bool strict;   /* every key at the same distance: one contiguous run */
	bool mono;     /* every key found in order, with gaps */
	bool started;
	uint32_t last;
	int64_t first_pts, last_pts;
};

/* Find the runs of one original stream that hold all of @s's key packets. */
static int chain_stream(struct tlog *log, const struct vstream *s, struct chain *ret,
			struct err_detail *reterr)
{
	struct tlog_hit hits[MAX_HITS];
	struct chain cand[MAX_HITS];
	size_t ncand = 0, anchor = 0, best = SIZE_MAX, n;
	int r;

	/* Anchor on the rarest key packet: a black frame may occur in many originals. */
	for (size_t i = 0; i < s->nkeys; i++) {
		r = tlog_lookup(log, TLOG_KEY_PACKET, s->keys[i].hash, hits, MAX_HITS, &n, reterr);
		if (r < 0)
			return r;
		if (!n)
			return 0;
		if (n < best) {
			best = n;
			anchor = i;
		}
	}
	r = tlog_lookup(log, TLOG_KEY_PACKET, s->keys[anchor].hash, hits, MAX_HITS, &n, reterr);
	if (r < 0)
		return r;
	for (size_t h = 0; h < n; h++) {
		uint32_t stream, ord;
		int64_t pts;
		uint32_t base;
		bool dup = false;

		vfy_key_extra_get(hits[h].extra, &stream, &pts, &ord);
		base = ord - (uint32_t)s->keys[anchor].ordinal;
		for (size_t c = 0; c < ncand && !dup; c++)
			dup = cand[c].entry == hits[h].index && cand[c].stream == stream &&
			      cand[c].base == base;
		if (!dup)
			cand[ncand++] = (struct chain){ .entry = hits[h].index,
							.stream = stream,
							.base = base,
							.strict = true,
							.mono = true,
							.first_pts = INT64_MIN,
							.last_pts = INT64_MIN };
	}
	for (size_t i = 0; i < s->nkeys; i++) {
		bool alive = false;

		r = tlog_lookup(log, TLOG_KEY_PACKET, s->keys[i].hash, hits, MAX_HITS, &n, reterr);
		if (r < 0)
			return r;
		for (size_t c = 0; c < ncand; c++) {
			struct chain *ch = &cand[c];
			uint32_t mono_ord = UINT32_MAX;
			int64_t strict_pts = INT64_MIN, mono_pts = INT64_MIN;
			bool strict_ok = false;

			if (!ch->strict && !ch->mono)
				continue;
			for (size_t h = 0; h < n; h++) {
				uint32_t stream, ord;
				int64_t pts;

				vfy_key_extra_get(hits[h].extra, &stream, &pts, &ord);
				if (hits[h].index != ch->entry || stream != ch->stream)
					continue;
				if ((uint32_t)(ord - (uint32_t)s->keys[i].ordinal) == ch->base) {
					strict_ok = true;
					strict_pts = pts;
				}
				if ((!ch->started || ord > ch->last) && ord < mono_ord) {
					mono_ord = ord;
					mono_pts = pts;
				}
			}
			ch->strict = ch->strict && strict_ok;
			if (mono_ord == UINT32_MAX) {
				ch->mono = false;
			} else {
				ch->last = mono_ord;
				ch->started = true;
			}
			if (ch->strict) {
				if (i == 0)
					ch->first_pts = strict_pts;
				ch->last_pts = strict_pts;
			} else if (ch->mono) {
				if (i == 0)
					ch->first_pts = mono_pts;
				ch->last_pts = mono_pts;
			}
			alive = alive || ch->strict || ch->mono;
		}
		if (!alive)
			return 0;
	}
	for (size_t c = 0; c < ncand; c++)
		if (cand[c].strict) {
			*ret = cand[c];
			return 1;
		}
	for (size_t c = 0; c < ncand; c++)
		if (cand[c].mono) {
			*ret = cand[c];
			return 1;
		}
	return 0;
}

static json_t *jtime_or_null(int64_t us)
{
	char text[ING_RFC3339_MAX];

	if (us == INT64_MIN || ing_format_utc(us, text) < 0)
		return json_null();
	return json_string(text);
}

static int64_t entry_time(const json_t *entry, const char *key)
{
	int64_t us;

	if (!json_is_string(json_object_get(entry, key)) ||
	    srv__parse_time(json_string_value(json_object_get(entry, key)), &us) < 0)
		return INT64_MIN;
	return us;
}

/* The original's stream @index in @entry: its packet count and digest (hex), or false. */
static bool entry_stream(const json_t *entry, uint64_t index, uint64_t *ret_packets,
			 const char **ret_digest)
{
	const json_t *st;
	size_t i;

	json_array_foreach(json_object_get(entry, "streams"), i, st) {
		if (!json_is_integer(json_object_get(st, "index")) ||
		    (uint64_t)json_integer_value(json_object_get(st, "index")) != index)
			continue;
		*ret_packets = (uint64_t)json_integer_value(json_object_get(st, "packets"));
		*ret_digest = json_string_value(json_object_get(st, "digest"));
		return true;
	}
	return false;
}

/* 1 excerpt, 2 altered (the key packets are the original's, the rest does not fit), 0 no. */
static int match_excerpt(struct tlog *log, const struct vfp *fp, uint64_t *ret, json_t **ret_detail,
			 struct err_detail *reterr)
{
	struct chain chains[MAX_STREAMS], first;
	const struct vstream *vs[MAX_STREAMS];
	size_t nvideo = 0, checked = 0;
	uint64_t total = 0;
	const char *problem = NULL;
	json_t *entry;
	int64_t start_us = 0, from_us, to_us, rec_start;
	int r;

	for (size_t i = 0; i < fp->nstreams; i++) {
		const struct vstream *s = &fp->streams[i];

		if (!s->type || strcmp(s->type, "video") || !s->nkeys)
			continue;
		r = chain_stream(log, s, &chains[nvideo], reterr);
		if (r <= 0)
			return r;
		if (nvideo && chains[nvideo].entry != chains[0].entry)
			return 0;
		vs[nvideo++] = s;
		checked += s->nkeys;
		total += s->keys_total;
	}
	if (!nvideo)
		return 0;
	first = chains[0];
	r = read_json(log, first.entry, &entry, reterr);
	if (r < 0)
		return r;
	/* Only key packets are indexed, so what lies between them is judged by its extent: a
	 * stream-copy cut is a run inside the original's stream, and a run that spans the whole
	 * stream is the stream itself, whose digest the entry holds. */
	for (size_t k = 0; k < nvideo && !problem; k++) {
		const struct chain *ch = &chains[k];
		const char *digest = NULL;
		char hex[2 * VFY_HASH_LEN + 1];
		uint64_t packets = 0;

		if (!ch->strict) {
			problem =
			    "the key packets come from this original, but not as one contiguous "
			    "run: something was cut out of it or moved";
			continue;
		}
		if (!entry_stream(entry, ch->stream, &packets, &digest))
			continue;
		hex_encode(vs[k]->digest, VFY_HASH_LEN, hex);
		if ((uint64_t)ch->base + vs[k]->packets > packets)
			problem =
			    "the key packets are the original's, but the clip has more packets "
			    "than the original has from that point on";
		else if (ch->base == 0 && vs[k]->packets == packets && digest &&
			 strcmp(hex, digest))
			problem = "the clip spans the original's whole video stream and its key "
				  "packets are the original's, but its other packets differ";
	}
	/* The audio is not indexed packet by packet, but an audio stream as long as one of the
	 * original's must then be that stream, digest and all: the original's pictures with
	 * other sound are not a cut of it. */
	for (size_t i = 0; i < fp->nstreams && !problem; i++) {
		const struct vstream *a = &fp->streams[i];
		json_t *streams = json_object_get(entry, "streams"), *st;
		char hex[2 * VFY_HASH_LEN + 1];
		bool same_length = false, same = false;
		size_t j;

		if (!a->type || strcmp(a->type, "audio"))
			continue;
		hex_encode(a->digest, VFY_HASH_LEN, hex);
		json_array_foreach(streams, j, st) {
			const char *type = json_string_value(json_object_get(st, "type"));
			const char *digest = json_string_value(json_object_get(st, "digest"));

			if (!type || strcmp(type, "audio") ||
			    (uint64_t)json_integer_value(json_object_get(st, "packets")) !=
				a->packets)
				continue;
			same_length = true;
			same = same || (digest && !strcmp(digest, hex));
		}
		if (same_length && !same)
			problem = "the video is the original's, but an audio stream as long as the "
				  "original's has other packets: the sound was replaced or edited";
	}
	if (json_is_integer(json_object_get(entry, "start_us")))
		start_us = json_integer_value(json_object_get(entry, "start_us"));
	rec_start = entry_time(entry, "recorded_start");
	json_decref(entry);
	from_us = first.first_pts == INT64_MIN ? INT64_MIN : first.first_pts - start_us;
	if (from_us != INT64_MIN && fp->duration_us != INT64_MIN)
		to_us = from_us + fp->duration_us;
	else
		to_us = first.last_pts == INT64_MIN ? INT64_MIN : first.last_pts - start_us;
	*ret = first.entry;
	*ret_detail = json_pack(
	    "{s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:b, s:s}", "original_stream",
	    (json_int_t)first.stream, "from_us",
	    from_us == INT64_MIN ? json_null() : json_integer(from_us), "to_us",
	    to_us == INT64_MIN ? json_null() : json_integer(to_us), "from",
	    jtime_or_null(rec_start == INT64_MIN || from_us == INT64_MIN ? INT64_MIN
									 : rec_start + from_us),
	    "to",
	    jtime_or_null(rec_start == INT64_MIN || to_us == INT64_MIN ? INT64_MIN
								       : rec_start + to_us),
	    "keys_checked", (json_int_t)checked, "keys_total", (json_int_t)total, "contiguous",
	    !problem, "note",
	    problem ? problem
		    : "checked: the video key packets, in order and at the original's distances; "
		      "not checked: the packets between them and the audio (only key packets are "
		      "indexed)");
	return problem ? 2 : 1;
}

struct claim {
	uint64_t index;
	unsigned mask; /* 1 << SRV_CLAIM_* */
};

static void claim_add(struct claim *c, size_t *n, uint64_t index, unsigned bit)
{
	for (size_t i = 0; i < *n; i++)
		if (c[i].index == index) {
			c[i].mask |= bit;
			return;
		}
	if (*n < MAX_CLAIMS)
		c[(*n)++] = (struct claim){ index, bit };
}

static int match_claims(struct server *s, const struct vfp *fp, uint64_t *ret, json_t **ret_detail,
			struct err_detail *reterr)
{
	struct claim cl[MAX_CLAIMS];
	uint64_t vals[MAX_CLAIMS];
	size_t ncl = 0, n, best = SIZE_MAX, keylen;
	unsigned best_bits = 0;
	char key[1024], fp_tags[1024];
	size_t fp_tags_len = srv__tags_key(fp->tags, fp_tags, sizeof(fp_tags));
	const char *base = fp->name ? srv__basename(fp->name) : NULL;

	if (base && *base) {
		n = srv__index_claims(&s->idx, SRV_CLAIM_NAME, base, strlen(base), vals,
				      MAX_CLAIMS);
		for (size_t i = 0; i < n; i++)
			claim_add(cl, &ncl, vals[i], 1u << SRV_CLAIM_NAME);
	}
	if (fp->device && fp->start[0] &&
	    strlen(fp->device) + strlen(fp->start) + 2 <= sizeof(key)) {
		keylen = (size_t)snprintf(key, sizeof(key), "%s%c%s", fp->device, 0, fp->start);
		n = srv__index_claims(&s->idx, SRV_CLAIM_DEVTIME, key, keylen, vals, MAX_CLAIMS);
		for (size_t i = 0; i < n; i++)
			claim_add(cl, &ncl, vals[i], 1u << SRV_CLAIM_DEVTIME);
	}
	if (fp_tags_len) {
		n = srv__index_claims(&s->idx, SRV_CLAIM_TAGS, fp_tags, fp_tags_len, vals,
				      MAX_CLAIMS);
		for (size_t i = 0; i < n; i++)
			claim_add(cl, &ncl, vals[i], 1u << SRV_CLAIM_TAGS);
	}
	/* Confirm each candidate against its entry: tags share only 32 hash bits. */
	for (size_t i = 0; i < ncl; i++) {
		json_t *entry;
		const char *name, *type, *dev, *st;
		unsigned bits = 0;
		char etags[1024];
		size_t etags_len;
		int r = read_json(s->d->log, cl[i].index, &entry, reterr);

		if (r < 0)
			return r;
		type = json_string_value(json_object_get(entry, "type"));
		name = json_string_value(json_object_get(entry, "name"));
		dev = json_string_value(json_object_get(entry, "device"));
		st = json_string_value(json_object_get(entry, "recorded_start"));
		etags_len = srv__tags_key(json_object_get(entry, "tags"), etags, sizeof(etags));
		if (type && (!strcmp(type, "ingest") || !strcmp(type, "damaged"))) {
			if ((cl[i].mask & (1u << SRV_CLAIM_NAME)) && name &&
			    !strcmp(srv__basename(name), base))
				bits |= 1u << SRV_CLAIM_NAME;
			if ((cl[i].mask & (1u << SRV_CLAIM_DEVTIME)) && dev && st &&
			    !strcmp(dev, fp->device) && !strcmp(st, fp->start))
				bits |= 1u << SRV_CLAIM_DEVTIME;
			if ((cl[i].mask & (1u << SRV_CLAIM_TAGS)) && etags_len == fp_tags_len &&
			    !memcmp(etags, fp_tags, fp_tags_len))
				bits |= 1u << SRV_CLAIM_TAGS;
			/* A shared name alone is no claim when both say they were made at
			 * different times. */
			if (bits == (1u << SRV_CLAIM_NAME) && etags_len && fp_tags_len &&
			    strcmp(etags, fp_tags) != 0)
				bits = 0;
		}
		json_decref(entry);
		if (__builtin_popcount(bits) > __builtin_popcount(best_bits)) {
			best = i;
			best_bits = bits;
		}
	}
	if (best == SIZE_MAX)
		return 0;
	*ret = cl[best].index;
	*ret_detail = json_array();
	if (best_bits & (1u << SRV_CLAIM_NAME))
		json_array_append_new(*ret_detail, json_string("name"));
	if (best_bits & (1u << SRV_CLAIM_DEVTIME))
		json_array_append_new(*ret_detail, json_string("device_and_time"));
	if (best_bits & (1u << SRV_CLAIM_TAGS))
		json_array_append_new(*ret_detail, json_string("tags"));
	return 1;
}

/* Which of the clip's streams still equal the claimed original's. */
static json_t *stream_comparison(const struct vfp *fp, const json_t *entry)
{
	json_t *out = json_array();

	for (size_t k = 0; k < fp->nstreams; k++) {
		char hex[2 * VFY_HASH_LEN + 1];
		long orig;

		hex_encode(fp->streams[k].digest, VFY_HASH_LEN, hex);
		orig = entry_stream_with(entry, hex);
		json_array_append_new(out, json_pack("{s:I, s:s, s:b, s:o}", "stream",
						     (json_int_t)fp->streams[k].index, "type",
						     fp->streams[k].type, "same", orig >= 0,
						     "original_stream",
						     orig >= 0 ? json_integer(orig) : json_null()));
	}
	return out;
}

/* ---- the answer -------------------------------------------------------------------------- */

/* Append `,"key":` and the bytes of entry @index to @tail.  @ret_json (if not NULL) gets it
 * parsed. */
/* ---- the cache --------------------------------------------------------------------------
 *
 * A verify of a known clip spends most of its loop time on data that never changes: parsing
 * the original's entry (entries are immutable) and building the inclusion proof against the
 * newest checkpoint (the proof of entry i at size n is the same text until the next
 * checkpoint).  Both are kept here, direct-mapped by entry index: a reviewer checking the
 * same clips again, or many clients checking one clip, pay for them once per checkpoint.  A
 * miss costs what it cost before plus a copy.  Bounded: VCACHE_SLOTS entries of at most
 * VCACHE_ENTRY_MAX bytes (with their parsed form, about 5 times that) and VCACHE_SLOTS proofs
 * (about 1.5 KiB each): at most about 50 MiB, in practice a few MiB (ingest entries of 1 to 4
 * KiB). */

#define VCACHE_SLOTS 1024
/* An ingest entry is 1 to 4 KiB; a case annotation naming 10,000 entries is 100 KiB and
 * parses to far more: such entries are read each time instead. */
#define VCACHE_ENTRY_MAX (8 * 1024)

struct vcache_entry {
	uint64_t index1; /* index + 1; 0: empty */
	json_t *json;
	char *bytes;
	size_t len;
};

struct vcache_proof {
	uint64_t index1, size;
	char *quoted; /* the tlog-proof text as a JSON string, quotes included */
	size_t len;
};

struct srv_vcache {
	struct vcache_entry entry[VCACHE_SLOTS];
	struct vcache_proof proof[VCACHE_SLOTS];
};

void srv__vcache_free(struct srv_vcache *vc)
{
	if (!vc)
		return;
	for (size_t i = 0; i < VCACHE_SLOTS; i++) {
		json_decref(vc->entry[i].json);
		free(vc->entry[i].bytes);
		free(vc->proof[i].quoted);
	}
	free(vc);
}

static struct srv_vcache *vcache(struct server *s)
{
	if (!s->vcache)
		s->vcache = calloc(1, sizeof(*s->vcache)); /* NULL: every lookup misses */
	return s->vcache;
}

/* The entry at @index: its bytes spliced into @tail under @key and, if @ret_json, parsed (a
 * new reference, not to be modified: it may be shared). */
static int splice_entry(struct server *s, uint64_t index, const char *key, struct srv_text *tail,
			json_t **ret_json, struct err_detail *reterr)
{
	struct srv_vcache *vc = vcache(s);
	struct vcache_entry *slot = vc ? &vc->entry[index % VCACHE_SLOTS] : NULL;
	char *bytes;
	size_t len;
	json_t *o = NULL;
	int r;

	if (slot && slot->index1 == index + 1) {
		if (ret_json && !slot->json) {
			slot->json = srv__entry_json(slot->bytes, slot->len);
			if (!slot->json)
				return err_set(reterr, -EIO,
					       "entry %" PRIu64 " in the log does "
					       "not parse",
					       index);
		}
		if (ret_json)
			*ret_json = json_incref(slot->json);
		srv__text_addf(tail, ",\"%s\":", key);
		srv__text_add(tail, slot->bytes, slot->len);
		return 0;
	}
	r = tlog_entry(s->d->log, index, &bytes, &len, reterr);
	if (r < 0)
		return r;
	/* Annotations are spliced, not read: parse only what the caller needs. */
	if (ret_json) {
		o = srv__entry_json(bytes, len);
		if (!o) {
			free(bytes);
			return err_set(reterr, -EIO, "entry %" PRIu64 " in the log does not parse",
				       index);
		}
		*ret_json = json_incref(o);
	}
	srv__text_addf(tail, ",\"%s\":", key);
	srv__text_add(tail, bytes, len);
	if (slot && len <= VCACHE_ENTRY_MAX) {
		json_decref(slot->json);
		free(slot->bytes);
		*slot = (struct vcache_entry){ index + 1, o, bytes, len };
	} else {
		json_decref(o);
		free(bytes);
	}
	return 0;
}

/* The inclusion proof of @index against the checkpoint srv__proof_size() chooses, as a quoted JSON
 * string into
 * @tail under "proof", its size into *@ret_size.  Errors as srv__proof(). */
static int splice_proof(struct server *s, uint64_t index, struct srv_text *tail, uint64_t *ret_size,
			struct err_detail *reterr)
{
	struct srv_vcache *vc = vcache(s);
	struct vcache_proof *slot = vc ? &vc->proof[index % VCACHE_SLOTS] : NULL;
	uint64_t cp_size, size;
	char *text, *quoted;
	json_t *str;
	size_t len;
	bool witnessed;
	int r;

	r = srv__proof_size(s, index, &cp_size, &witnessed, reterr);
	if (r < 0)
		return r;
	if (slot && slot->index1 == index + 1 && slot->size == cp_size) {
		srv__text_add(tail, ",\"proof\":", 9);
		srv__text_add(tail, slot->quoted, slot->len);
		*ret_size = cp_size;
		return 0;
	}
	r = srv__proof(s, index, cp_size, &text, &size, reterr);
	if (r < 0)
		return r;
	str = json_string(text);
	free(text);
	quoted = str ? json_dumps(str, JSON_ENCODE_ANY) : NULL;
	json_decref(str);
	if (!quoted)
		return err_set(reterr, -ENOMEM, "out of memory for a proof");
	len = strlen(quoted);
	srv__text_add(tail, ",\"proof\":", 9);
	srv__text_add(tail, quoted, len);
	*ret_size = size;
	if (slot) {
		free(slot->quoted);
		*slot = (struct vcache_proof){ index + 1, size, quoted, len };
	} else {
		free(quoted);
	}
	return 0;
}

static int describe_match(struct server *s, uint64_t index, json_t *body, struct srv_text *tail,
			  json_t **ret_entry, struct err_detail *reterr)
{
	const struct srv_note *notes[SRV_NOTES_MAX];
	json_t *entry, *explained;
	const char *storage;
	uint64_t proof_size = 0;
	struct err_detail pe;
	size_t n;
	int r;

	r = splice_entry(s, index, "entry", tail, &entry, reterr);
	if (r < 0)
		return r;
	n = srv__index_concerning(
	    &s->idx, index, json_string_value(json_object_get(entry, "device")),
	    json_string_value(json_object_get(entry, "officer")),
	    entry_time(entry, "recorded_start"), entry_time(entry, "recorded_end"),
	    (int64_t)s->d->cfg->split_tolerance_ms * 1000, notes, SRV_NOTES_MAX);
	explained = json_array();
	srv__text_add(tail, ",\"annotations\":[", 16);
	for (size_t i = 0; i < n; i++) {
		struct srv_text one = { 0 };

		srv__text_addf(&one, "%s{\"index\":%" PRIu64, i ? "," : "", notes[i]->index);
		if (splice_entry(s, notes[i]->index, "entry", &one, NULL, &pe) == 0) {
			srv__text_add(tail, one.p, one.len);
			srv__text_add(tail, "}", 1);
		}
		srv__text_done(&one);
		if (notes[i]->kind == SRV_NOTE_LATE_STORAGE)
			json_array_append_new(explained, json_integer((json_int_t)notes[i]->index));
	}
	srv__text_add(tail, "]", 1);
	storage = json_string_value(json_object_get(entry, "storage"));
	json_object_set_new(body, "index", json_integer((json_int_t)index));
	json_object_set_new(
	    body, "storage",
	    json_pack("{s:o, s:O*, s:o}", "status", storage ? json_string(storage) : json_null(),
		      "deadline", json_object_get(entry, "deadline"), "explained_by", explained));
	r = splice_proof(s, index, tail, &proof_size, &pe);
	if (r == 0) {
		json_object_set_new(body, "proof_size", json_integer((json_int_t)proof_size));
		json_object_set_new(body, "proof_status", json_string("ok"));
	} else if (r == -EAGAIN) {
		json_object_set_new(body, "proof", json_null());
		json_object_set_new(body, "proof_status", json_string(pe.msg));
	} else {
		json_decref(entry);
		*reterr = pe;
		return r;
	}
	*ret_entry = entry;
	return 0;
}

int srv__op_verify(struct srv_client *c, json_t *req, struct err_detail *reterr)
{
	struct server *s = c->s;
	struct tlog *log = s->d->log;
	const char *result = "unknown", *detail_key = NULL;
	json_t *body, *detail = NULL, *entry = NULL;
	uint64_t index = 0;
	bool by_keys = false;
	struct srv_text tail = { 0 };
	struct vfp fp;
	int r;

	r = parse_fingerprint(json_object_get(req, "fingerprint"), &fp, reterr);
	if (r < 0)
		goto out;
	srv__index_catch_up(s);
	r = match_exact(&s->idx, log, &fp, &index, reterr);
	if (r > 0) {
		result = "exact";
	} else if (r == 0 && (r = match_remux(log, &fp, &index, &detail, reterr)) > 0) {
		result = "remux";
		detail_key = "remux";
	} else if (r == 0 && (r = match_excerpt(log, &fp, &index, &detail, reterr)) > 0) {
		result = r == 1 ? "excerpt" : "altered";
		detail_key = "excerpt";
		by_keys = r == 2;
	} else if (r == 0 && (r = match_claims(s, &fp, &index, &detail, reterr)) > 0) {
		result = "altered";
		detail_key = "claims";
	}
	if (r < 0)
		goto out;
	body = json_pack("{s:s}", "result", result);
	if (!body) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	if (detail_key)
		json_object_set_new(body, detail_key, TAKE_PTR(detail));
	if (r > 0) {
		r = describe_match(s, index, body, &tail, &entry, reterr);
		if (r < 0) {
			json_decref(body);
			goto out;
		}
		if (!strcmp(result, "altered")) {
			json_t *alt = json_pack("{s:o}", "streams", stream_comparison(&fp, entry));

			if (by_keys) {
				json_object_set_new(alt, "claims", json_pack("[s]", "key_packets"));
				json_object_set(
				    alt, "reason",
				    json_object_get(json_object_get(body, "excerpt"), "note"));
			} else
				json_object_set(alt, "claims", json_object_get(body, "claims"));
			json_object_set_new(body, "altered", alt);
		}
		json_decref(entry);
	} else {
		json_object_set_new(
		    body, "message",
		    json_string("no ingested original matches: checked the file's "
				"SHA-256, its stream digests, its video key packets and "
				"its name, device, time and tags"));
	}
	/* Claims and annotations come from the index, which may still be on its first pass. */
	json_object_set_new(body, "index_caught_up", json_boolean(s->idx.caught_up));
	srv__access(c, "verify", json_sprintf("sha256:%s", fp.sha_hex),
		    !strcmp(result, "unknown")
			? json_pack("{s:s}", "result", result)
			: json_pack("{s:s, s:[I]}", "result", result, "entries", (json_int_t)index),
		    true);
	srv__reply_tail(c, body, &tail);
	r = 0;
	if (!s->idx.caught_up)
		srv__bg_kick(s);
out:
	srv__text_done(&tail);
	json_decref(detail);
	vfp_done(&fp);
	return r;
}
