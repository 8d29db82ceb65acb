#pragma once
/* Fingerprinting a media file (docs/log.md): the SHA-256 of its bytes, and through libavformat
 * every packet of every stream, hashed in demux order into one digest per stream, plus what the
 * file says about itself (container, duration, codecs, tags).  Damaged files are not errors:
 * they get a fingerprint that says damaged, with libavformat's words and what could be read.
 *
 * Synchronous and blocking: the daemon runs it on its worker threads, custody-verify on its
 * main thread.  No libuv, no logging (failures come back as -E… plus struct err_detail).
 *
 * libav's log: the first call installs a process-wide av_log callback that keeps the messages
 * a demuxer logs while a fingerprint runs on that thread (they end up in the damage report)
 * and drops every other libav message, so libav never writes to stderr behind the daemon's
 * back.  A program that wants libav's messages for its own use must not link this module. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err_detail;
struct json_t;
struct ing_recording;

#define ING_HASH_LEN 32

/* What a file says about itself is bounded in its entry, so that every `ingest` and `damaged`
 * entry stays within the log's entry limit (VFY_ENTRY_MAX, 65,535 bytes) by construction
 * (docs/log.md adds it up): a tag is cut to at most ING_TAG_MAX bytes (at a character
 * boundary; the fingerprint says tags_cut), and an entry lists at most ING_ENTRY_STREAMS_MAX
 * streams (the rest counted in "streams_unlisted"; every stream's digest is still indexed, and
 * the file's SHA-256 covers them all). */
#define ING_TAG_MAX 128
#define ING_ENTRY_STREAMS_MAX 24
#define ING_NOTS INT64_MIN /* a timestamp or duration that is not known */

/* Bounded work, whatever a file claims (docs/SECURITY.md): a file over any of these is
 * reported damaged, not demuxed on. */
struct ing_limits {
	unsigned max_streams; /* streams in the file; libavformat refuses to create more */
	uint64_t max_packets; /* packets of all streams together */
	unsigned max_seconds; /* wall-clock seconds of demuxing (0: stop at the first check) */
	/* Key-packet records kept per file (56 bytes each); beyond it they are only counted (in
	 * key_packets_dropped), and the file is fine. */
	uint32_t max_key_packets;
};

/* 16 streams, 20 million packets (a day of 30 fps video with 48 kHz AAC is about 6.7 million),
 * 900 seconds, 100,000 key-packet records (5.6 MB: a day at one key frame a second, or 55
 * minutes of all-intra video at 30 fps). */
#define ING_LIMITS_INIT                                                                            \
	{                                                                                          \
		.max_streams = 16, .max_packets = 20000000, .max_seconds = 900,                    \
		.max_key_packets = 100000                                                          \
	}
#define ING_LIMITS_DEFAULT ((struct ing_limits)ING_LIMITS_INIT)

/* A key packet of a video stream: what the daemon indexes to recognise excerpts (`verify`,
 * docs/protocol.md). */
struct ing_key_packet {
	uint8_t hash[ING_HASH_LEN]; /* SHA-256 of the packet's data */
	int64_t pts_us;		    /* presentation time in microseconds, or ING_NOTS */
	int64_t dts_us;		    /* decoding time in microseconds, or ING_NOTS */
	uint64_t ordinal;	    /* 0-based position among its stream's packets */
};

struct ing_stream {
	unsigned index;	     /* libavformat's stream index */
	const char *type;    /* "video", "audio", "data", "subtitle", "attachment", "unknown" */
	char codec[32];	     /* avcodec_get_name(), or the codec tag (e.g. "tmcd") when libav has
			      * no codec for it */
	char profile[48];    /* "" when none or unknown */
	int width, height;   /* video, else 0 */
	int sample_rate;     /* audio, else 0 */
	int channels;	     /* audio, else 0 */
	int64_t start_us;    /* as the container says, or ING_NOTS */
	int64_t duration_us; /* as the container says, or ING_NOTS */
	uint64_t packets;    /* every packet av_read_frame() returned for it */
	uint64_t keyframes;  /* those flagged AV_PKT_FLAG_KEY */
	uint64_t bytes;	     /* their data bytes */
	uint8_t digest[ING_HASH_LEN]; /* SHA-256 over the packets' 32-byte SHA-256s, demux order */
	struct ing_key_packet *keys;  /* video streams: the key packets, in demux order */
	size_t n_keys;
};

struct ing_fingerprint {
	uint64_t size;		      /* bytes hashed: the size when the fingerprint began */
	int64_t mtime_us;	      /* the file's mtime, microseconds since the Unix epoch */
	uint8_t sha256[ING_HASH_LEN]; /* of the file's bytes in file order */
	char *container;	      /* libavformat's demuxer name ("mov,mp4,m4a,3gp,3g2,mj2",
				       * "matroska,webm", "mpegts"…), NULL when none took it */
	int probe_score;	      /* libavformat's confidence, 0..100 */
	int64_t start_us;	      /* container start time, or ING_NOTS */
	int64_t duration_us;	      /* container duration, else the span of the packets read,
				       * or ING_NOTS */
	unsigned n_streams;
	struct ing_stream *streams;   /* n_streams entries, in libavformat's index order */
	uint64_t packets;	      /* all streams */
	uint64_t key_packets_dropped; /* key packets over limits.max_key_packets, not kept */
	/* Tags, NULL when absent; valid UTF-8 (invalid bytes become U+FFFD). */
	char *creation_time; /* as libavformat gives it, e.g. "2024-05-01T08:00:00.000000Z" */
	char *make, *model, *serial;
	char *location; /* ISO 6709, e.g. "+31.2304+121.4737/" */
	bool tags_cut;	/* a tag was longer than ING_TAG_MAX and was cut */
	/* Damage: the file could not be demuxed completely (what was read is above). */
	bool damaged;
	int damage_code; /* -EBADMSG (invalid data), -E2BIG (a limit), -ETIME (the time
			  * limit), -EOPNOTSUPP (no demuxer or codec), or another -E… */
	char error[512]; /* what went wrong, in libavformat's words where it had any */
	/* Bytes after the end of the container (MP4/MOV's last top-level box, Matroska's
	 * Segment, MPEG-TS's last whole packet), which no demuxer reads; 0 when none.  A file
	 * with any is damaged. */
	uint64_t trailing_bytes;
};

/* Called on the fingerprinting thread for every packet, in demux order, after it is hashed.
 * For tests and the offline tool's --packets; the daemon passes NULL. */
struct ing_packet_info {
	unsigned stream;
	uint64_t ordinal;
	const uint8_t *hash;
	int64_t pts_us, dts_us;
	bool key, discard;
	size_t size;
};
typedef void (*ing_packet_cb)(void *opaque, const struct ing_packet_info *pkt);

struct ing_options {
	struct ing_limits limits;
	ing_packet_cb on_packet; /* may be NULL */
	void *opaque;
	/* When not NULL, the caller has hashed this file's bytes itself (the daemon does, while
	 * storing them): the whole-file hash is not computed again and fp->sha256 is this.  An
	 * MPEG-TS file is still read once more, for its sync bytes. */
	const uint8_t *known_sha256;
};

/** Fingerprint the regular file behind @fd.  Blocking; call from a worker thread (any number
 * may run at once, each on its own fd).  @fd stays the caller's (not closed, file offset not
 * used: all reads are pread()).  @name is the file's name, given to libavformat as a probing
 * hint as ffprobe does (the extension can decide a raw format) and used in messages; may be
 * NULL.  @opts may be NULL for ING_LIMITS_DEFAULT and no callback.
 *
 * The whole-file SHA-256 runs on a second thread while this one demuxes; each reads the file
 * once.  Nothing is kept per packet except key-packet records, so memory stays bounded for any
 * file size (libavformat's own buffers plus limits.max_key_packets records).  Demuxers may not
 * open other files or URLs (HLS, DASH, concat, QuickTime references): a fingerprint describes
 * this file's bytes only.
 *
 * A damaged file is a success: *@ret says damaged, with the reason, and the file hash is still
 * right.  Damaged means: libavformat refused the file or failed while reading packets (other
 * than at the end; reading stops there, as ffprobe's does), a packet was flagged corrupt (cut
 * short), the demuxer logged an error, the container was only guessed (probe score <= 25), no
 * audio or video stream (a still picture is none: a file an image demuxer took, such as
 * png_pipe or jpeg_pipe, an attached picture, one frame of a picture codec, text rendered as a
 * picture; nor are subtitle, data and attachment streams), an audio or video stream without
 * codec parameters, bytes after the end of the container (ret->trailing_bytes: past the last
 * top-level MP4/MOV box, past the Matroska Segment, after the last whole MPEG-TS packet), a
 * top-level MP4 box or Matroska Segment that runs past the end of the file, an MPEG-TS packet
 * that lacks its sync byte (the TS demuxer skips such bytes silently), or a limit was reached.
 * Damage that libavformat cannot see goes unnoticed: a TS packet whose payload alone is
 * corrupted, a file cut exactly at a packet boundary of a container without an index (TS).
 *
 * On success *@ret is the caller's, to release with ing_fingerprint_free().
 * @return 0; -EINVAL (@fd is not a regular file); -EIO (a read failed; text in @reterr);
 * -EAGAIN (the file changed size or mtime while being read: still being written, retry after
 * it settles); -ENOMEM. */
int ing_fingerprint_fd(int fd, const char *name, const struct ing_options *opts,
		       struct ing_fingerprint **ret, struct err_detail *reterr);

/** Release @fp and everything it holds.  NULL is fine.  @return NULL. */
struct ing_fingerprint *ing_fingerprint_free(struct ing_fingerprint *fp);

/** The fields of the log entry for @fp (docs/log.md): "v", "type" ("ingest", or "damaged" with
 * "error"), "size", "sha256", "container", "duration_us", "start_us", "streams" (each
 * {index, type, codec, packets, keyframes, digest} plus profile, width/height or
 * sample_rate/channels when known; the first ING_ENTRY_STREAMS_MAX, and "streams_unlisted": the
 * count of the rest when there are more), "tags" (those present of creation_time, make, model,
 * serial, location; "tags_cut": true when one was cut to ING_TAG_MAX), "trailing_bytes" when
 * not 0, and from @rec "recorded_start",
 * "recorded_end", "time_source", "device", "officer" (null when unknown) and
 * "time_in_future": true when flagged.  @rec may be NULL:
 * the recording fields are then null.  The daemon adds zone, name, ingested_at, deadline,
 * storage and stored.  Key packets are not in it (the daemon indexes them apart; an entry
 * must stay within VFY_ENTRY_MAX).  Integers and strings only, so vfy_entry_dump() accepts it.
 * Any thread.  *@ret is a new reference, the caller's.  @return 0, -ENOMEM. */
int ing_entry_json(const struct ing_fingerprint *fp, const struct ing_recording *rec,
		   struct json_t **ret, struct err_detail *reterr);

/** The key packets of @st as a JSON array of {ordinal, pts_us, dts_us, hash} (null for an
 * unknown time).  For the offline tool.  *@ret is the caller's.  @return 0, -ENOMEM. */
int ing_key_packets_json(const struct ing_stream *st, struct json_t **ret);
