/* fingerprint.c: one read of a media file for its SHA-256, one demux for its packets.
 *
 * DESIGN
 * Two threads, each reading the file once with pread() at its own offset, so neither disturbs
 * the other and the caller's file offset is never used:
 * - the caller's thread demuxes through libavformat on a custom AVIOContext (read and seek
 *   callbacks over pread(), AVSEEK_SIZE answered from the fstat() size).  Every packet
 *   av_read_frame() returns is hashed with SHA-256 and its hash fed into its stream's running
 *   SHA-256 (the per-stream digest of docs/log.md);
 * - a second thread hashes the bytes in file order.  libavformat seeks (an MP4 whose moov is at
 *   the end, index reads), so the file hash cannot be fed from the demuxer's reads.
 * The second read of each block usually comes from the page cache.  If the thread cannot be
 * created, the file is hashed on the caller's thread after the demux: slower, same result.
 *
 * Reproducible with stock FFmpeg: the demuxer is opened as ffprobe opens it (scan_all_pmts=1,
 * the file name as the probing hint, no AVFMT_FLAG_DISCARD_CORRUPT, no genpts, and the streams'
 * discard left at AVDISCARD_DEFAULT: AVDISCARD_NONE would make the AVI demuxer return the
 * zero-size chunks that ffprobe does not list), so `ffprobe -show_packets -show_data_hash
 * sha256` lists exactly the packets hashed here, discard-flagged ones (AAC priming) included.
 * (ffprobe would skip packets of a stream that appears only after the header; those are
 * hashed here.)
 *
 * Bounded: nothing is kept per packet but key-packet records (limits.max_key_packets); the
 * demuxer's buffers are libavformat's own (probesize 5 MB, a 64 KiB I/O buffer, the container's
 * index, which for MP4/MOV grows with the number of samples, not with the file's bytes).  The
 * time limit is checked by libav's interrupt callback, by our read and seek callbacks and
 * between packets (see out_of_time()); the packet limit between packets; the stream limit by
 * libavformat itself (AVFormatContext.max_streams).
 *
 * Damage: libavformat says little through return codes (a cut MP4 or AVI just ends), so
 * besides open and read errors we look at packets flagged corrupt (cut short by the end of the
 * file), at error messages the demuxer logs, at the probe score, at streams without codec
 * parameters, and at what each container's own structure promises: the samples an MP4 index
 * lists, the size a RIFF header (AVI, WAV) gives, whole transport packets with their sync
 * bytes in MPEG-TS (checked by the hash thread, which reads every byte anyway), and where the
 * container ends: the top-level MP4/MOV boxes and the Matroska Segment, walked from their
 * headers with a few pread()s, and the last run of TS packets; bytes after it are counted
 * (trailing_bytes).  A file must hold audio or video a camera records: a still picture (an
 * image demuxer's, an attached picture, one frame of a picture codec) is not video.  libav logs
 * through one process-wide callback; ours (installed once) hands each message to the
 * fingerprint running on the logging thread through a thread-local pointer, and drops the rest.
 *
 * SHA-256 is libcrypto's EVP (the CPU's SHA instructions); the implementation is fetched once
 * per process (OpenSSL 3 would otherwise look it up by name for every packet), each thread
 * keeps its own contexts, and libcrypto's per-thread error queue is drained where it failed.
 *
 * One file because the demux, the hash thread and the container checks share the private struct
 * demux and struct file_hash (the TS sync check runs in the hash thread, the end checks report
 * through damage()), and the libav log callback hands messages to that same demux; splitting
 * would move these structs into ingest-internal.h for no second user. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/opt.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "base/cleanup.h"
#include "base/err.h"
#include "ingest/fingerprint.h"
#include "ingest/ingest-internal.h"

/* Small enough that large video packets bypass it (avio_read() reads a request bigger than the
 * buffer straight into the packet), large enough that audio packets cost few syscalls. */
#define AVIO_BUF_SIZE (64 * 1024)
/* The whole-file hash reads in blocks that stay in L2 between pread() and SHA-256. */
#define HASH_BLOCK (256 * 1024)

static EVP_MD *sha256_md;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free)

/* ---- the whole-file hash ----------------------------------------------------------------- */

/* MPEG transport stream packet sizes: plain, M2TS (a 4-byte timecode before the sync byte),
 * and with 16 bytes of Reed-Solomon parity. */
static const unsigned ts_size[3] = { 188, 192, 204 };
static const unsigned ts_sync_at[3] = { 0, 4, 0 };

struct file_hash {
	int fd;
	uint64_t size;
	uint8_t digest[ING_HASH_LEN];
	int r;
	struct err_detail err;
	/* The transport stream demuxer skips to the next sync byte (0x47) without a word, so the
	 * bytes are checked here, where they pass anyway.  For each packet size: the offset of the
	 * first packet without its sync byte (UINT64_MAX: none), the end of the last whole packet
	 * of a run of three or more with theirs (0: none; one alone may be chance, 1 in 256, in
	 * bytes that are not a transport stream), the length of the current run, and the next
	 * sync position. */
	uint64_t ts_bad[3];
	uint64_t ts_end[3];
	uint64_t ts_run[3];
	uint64_t ts_next[3];
};

static void check_ts_sync(struct file_hash *h, const uint8_t *buf, uint64_t off, size_t n)
{
	for (int k = 0; k < 3; k++)
		for (; h->ts_next[k] < off + n; h->ts_next[k] += ts_size[k]) {
			uint64_t packet = h->ts_next[k] - ts_sync_at[k];

			if (buf[h->ts_next[k] - off] != 0x47) {
				if (h->ts_bad[k] == UINT64_MAX)
					h->ts_bad[k] = packet;
				h->ts_run[k] = 0;
			} else if (packet + ts_size[k] <= h->size && ++h->ts_run[k] >= 3) {
				h->ts_end[k] = packet + ts_size[k];
			}
		}
}

static int crypto_error(struct err_detail *e, const char *what)
{
	ERR_clear_error();
	return err_set(e, -EIO, "libcrypto failed %s", what);
}

static int hash_file(struct file_hash *h)
{
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	auto_free uint8_t *buf = malloc(HASH_BLOCK);
	uint64_t off = 0;

	for (int k = 0; k < 3; k++) {
		h->ts_bad[k] = UINT64_MAX;
		h->ts_end[k] = 0;
		h->ts_run[k] = 0;
		h->ts_next[k] = ts_sync_at[k];
	}
	if (!ctx || !buf)
		return err_set(&h->err, -ENOMEM, "out of memory for the file hash");
	if (!EVP_DigestInit_ex2(ctx, sha256_md, NULL))
		return crypto_error(&h->err, "to start SHA-256");
	while (off < h->size) {
		size_t want = h->size - off < HASH_BLOCK ? (size_t)(h->size - off) : HASH_BLOCK;
		ssize_t n = pread(h->fd, buf, want, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_set(&h->err, -EIO, "reading at offset %" PRIu64 ": %s", off,
				       strerror(errno));
		}
		if (n == 0)
			return err_set(&h->err, -EAGAIN,
				       "the file shrank to %" PRIu64 " bytes while being read "
				       "(still being written?)",
				       off);
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
			return crypto_error(&h->err, "while hashing");
		check_ts_sync(h, buf, off, (size_t)n);
		off += (uint64_t)n;
	}
	if (!EVP_DigestFinal_ex(ctx, h->digest, NULL))
		return crypto_error(&h->err, "to finish SHA-256");
	return 0;
}

static void *hash_run(void *arg)
{
	struct file_hash *h = arg;

	h->r = hash_file(h);
	return NULL;
}

/* ---- the demux --------------------------------------------------------------------------- */

struct stream_state {
	EVP_MD_CTX *ctx; /* the running digest */
	size_t keys_cap;
	int64_t first_us; /* the earliest timestamp seen (for want of a container duration) */
	int64_t end_us;	  /* latest timestamp + duration seen */
};

struct demux {
	int fd;
	uint64_t size, pos;
	int io_err; /* a failed pread(): a system error, not damage */
	bool shrank;
	int64_t deadline_ns; /* CLOCK_MONOTONIC */
	bool timed_out;
	const struct ing_options *opts;
	struct ing_fingerprint *fp;
	EVP_MD_CTX *pkt_ctx;
	struct stream_state *ss; /* fp->n_streams of them */
	uint64_t keys_total;
	/* What the demuxer logged: the latest error (or warning, when no error yet), and how many
	 * errors.  libav builds some lines from several calls, so a line is gathered in @line
	 * until its newline. */
	unsigned n_errors;
	char first_error[200];
	char last_msg[200];
	char line[200];
	int line_level;
	unsigned ts_packet_size; /* an MPEG-TS file's, as its demuxer found it; 0: unknown */
	/* Where the reads had got to when the demuxer first logged an error, and when the damage
	 * recorded is libav's failure or logged error while reading packets (UINT64_MAX: not):
	 * past the end of a transport stream, that is the trailing bytes' doing, and they are
	 * named instead (check_ts_end()). */
	uint64_t first_error_at;
	uint64_t av_damage_at;
};

static __thread struct demux *tls_demux;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* libav's log callback (process-wide).  Keeps format-level messages (demuxer, probing, I/O) of
 * the fingerprint running on this thread; decoder and parser messages from
 * avformat_find_stream_info() are not about the container and are dropped. */
static void on_av_log(void *avcl, int level, const char *fmt, va_list vl)
{
	struct demux *d = tls_demux;
	const AVClass *cls;
	AVClassCategory cat;
	size_t len = strlen(d ? d->line : ""), n;

	if (!d || level > AV_LOG_WARNING || !avcl)
		return;
	cls = *(const AVClass **)avcl;
	if (!cls)
		return;
	cat = cls->get_category ? cls->get_category(avcl) : cls->category;
	/* An input AVFormatContext says "muxer" until probing has chosen its demuxer. */
	if (cat != AV_CLASS_CATEGORY_DEMUXER && cat != AV_CLASS_CATEGORY_MUXER &&
	    cat != AV_CLASS_CATEGORY_INPUT)
		return;
	if (len == 0) {
		int w = snprintf(d->line, sizeof(d->line),
				 "%s: ", cls->item_name ? cls->item_name(avcl) : "libav");

		len = w > 0 && (size_t)w < sizeof(d->line) ? (size_t)w : 0;
		d->line[len] = '\0';
		d->line_level = level;
	}
	vsnprintf(d->line + len, sizeof(d->line) - len, fmt, vl);
	n = strlen(d->line);
	if (n == 0 || (d->line[n - 1] != '\n' && n < sizeof(d->line) - 1))
		return; /* the rest of the line comes in the next call */
	while (n > 0 && (d->line[n - 1] == '\n' || d->line[n - 1] == ' '))
		d->line[--n] = '\0';
	if (d->line_level <= AV_LOG_ERROR) {
		if (d->n_errors++ == 0) {
			memcpy(d->first_error, d->line, n + 1);
			d->first_error_at = d->pos;
		}
		memcpy(d->last_msg, d->line, n + 1);
	} else if (d->n_errors == 0) {
		memcpy(d->last_msg, d->line, n + 1);
	}
	d->line[0] = '\0';
}

static void init_once_run(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	av_log_set_callback(on_av_log);
}

/* The time limit.  libav consults the interrupt callback only in avformat_find_stream_info()
 * and in its own protocols, which a custom AVIOContext bypasses, so the read and seek callbacks
 * and the packet loop check it too: a demuxer cannot spin without one of them. */
static bool out_of_time(struct demux *d)
{
	if (!d->timed_out && now_ns() > d->deadline_ns)
		d->timed_out = true;
	return d->timed_out;
}

static int on_read(void *opaque, uint8_t *buf, int len)
{
	struct demux *d = opaque;
	ssize_t n;

	if (out_of_time(d))
		return AVERROR_EXIT;
	if (d->pos >= d->size)
		return AVERROR_EOF;
	if ((uint64_t)len > d->size - d->pos)
		len = (int)(d->size - d->pos);
	do
		n = pread(d->fd, buf, (size_t)len, (off_t)d->pos);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		d->io_err = errno;
		return AVERROR(errno);
	}
	if (n == 0) {
		d->shrank = true;
		return AVERROR_EOF;
	}
	d->pos += (uint64_t)n;
	return (int)n;
}

/* Like lseek() on the file: a position past the end is allowed (reads there give EOF). */
static int64_t on_seek(void *opaque, int64_t offset, int whence)
{
	struct demux *d = opaque;
	int64_t base;

	if (out_of_time(d))
		return AVERROR_EXIT;
	switch (whence & ~AVSEEK_FORCE) {
	case AVSEEK_SIZE:
		return (int64_t)d->size;
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)d->pos;
		break;
	case SEEK_END:
		base = (int64_t)d->size;
		break;
	default:
		return AVERROR(EINVAL);
	}
	if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0)
		return AVERROR(EINVAL);
	d->pos = (uint64_t)(base + offset);
	return (int64_t)d->pos;
}

static int on_interrupt(void *opaque)
{
	return out_of_time(opaque);
}

/* A fingerprint describes this file's bytes only: no demuxer may open another file or URL. */
static int refuse_io_open(AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
			  AVDictionary **options)
{
	(void)pb;
	(void)flags;
	(void)options;
	av_log(s, AV_LOG_ERROR, "refused to open '%s': a fingerprint reads this file only\n", url);
	return AVERROR(EPERM);
}

/* Translate a libav code once, here: the rest of custody sees only -errno. */
static int av_to_errno(int averr)
{
	switch (averr) {
	case AVERROR_INVALIDDATA:
	case AVERROR_BUG:
	case AVERROR_BUG2:
	case AVERROR_EOF:
		return -EBADMSG;
	case AVERROR_EXIT:
		return -ETIME;
	case AVERROR_PATCHWELCOME:
	case AVERROR_DEMUXER_NOT_FOUND:
	case AVERROR_DECODER_NOT_FOUND:
	case AVERROR_PROTOCOL_NOT_FOUND:
	case AVERROR_STREAM_NOT_FOUND:
	case AVERROR_OPTION_NOT_FOUND:
		return -EOPNOTSUPP;
	default:
		return averr < 0 && averr > -4096 ? averr : -EIO;
	}
}

/* Record the first reason the file is damaged; later ones add nothing. */
static void __attribute__((format(printf, 3, 0)))
vdamage_fp(struct ing_fingerprint *fp, int code, const char *fmt, va_list ap)
{
	if (fp->damaged)
		return;
	fp->damaged = true;
	fp->damage_code = code;
	vsnprintf(fp->error, sizeof(fp->error), fmt, ap);
}

static void __attribute__((format(printf, 3, 4)))
damage_fp(struct ing_fingerprint *fp, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdamage_fp(fp, code, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
damage(struct demux *d, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdamage_fp(d->fp, code, fmt, ap);
	va_end(ap);
}

/* A libav failure: "@what: <av_strerror text> (<what the demuxer logged>)". */
static void damage_av(struct demux *d, int averr, const char *what)
{
	char text[AV_ERROR_MAX_STRING_SIZE];

	if (d->timed_out) {
		damage(d, -ETIME, "%s: demuxing took longer than the limit of %u s", what,
		       d->opts->limits.max_seconds);
		return;
	}
	if (av_strerror(averr, text, sizeof(text)) < 0)
		snprintf(text, sizeof(text), "error %d", averr);
	if (d->last_msg[0])
		damage(d, av_to_errno(averr), "%s: %s (%s)", what, text, d->last_msg);
	else
		damage(d, av_to_errno(averr), "%s: %s", what, text);
}

/* libav's failures that are the system's (a read error, memory), not the file's.  One ENOMEM
 * is the file's: demuxers pass avformat_new_stream() refusing a stream over max_streams on as
 * ENOMEM, after it logged why. */
static bool system_failure(struct demux *d, int averr)
{
	if (d->io_err)
		return true;
	if (averr != AVERROR(ENOMEM))
		return false;
	if (strstr(d->last_msg, "max_streams")) {
		damage(d, -E2BIG, "it has more streams than the limit of %u",
		       d->opts->limits.max_streams);
		return false;
	}
	return true;
}

static int64_t to_us(int64_t ts, AVRational tb)
{
	if (ts == AV_NOPTS_VALUE || tb.den == 0)
		return ING_NOTS;
	return av_rescale_q(ts, tb, AV_TIME_BASE_Q);
}

/* Make room for the streams libavformat has now (some demuxers add streams while reading). */
static int grow_streams(struct demux *d, unsigned n)
{
	struct ing_fingerprint *fp = d->fp;
	struct ing_stream *streams;
	struct stream_state *ss;

	if (n <= fp->n_streams)
		return 0;
	streams = realloc(fp->streams, n * sizeof(*streams));
	if (!streams)
		return -ENOMEM;
	fp->streams = streams;
	ss = realloc(d->ss, n * sizeof(*ss));
	if (!ss)
		return -ENOMEM;
	d->ss = ss;
	for (unsigned i = fp->n_streams; i < n; i++) {
		memset(&streams[i], 0, sizeof(streams[i]));
		memset(&ss[i], 0, sizeof(ss[i]));
		streams[i].index = i;
		streams[i].type = "unknown";
		ss[i].first_us = ING_NOTS;
		ss[i].end_us = ING_NOTS;
		ss[i].ctx = EVP_MD_CTX_new();
		if (!ss[i].ctx || !EVP_DigestInit_ex2(ss[i].ctx, sha256_md, NULL)) {
			EVP_MD_CTX_free(ss[i].ctx);
			ERR_clear_error();
			fp->n_streams = i;
			return -ENOMEM;
		}
		fp->n_streams = i + 1;
	}
	return 0;
}

static int keep_key(struct demux *d, struct ing_stream *st, struct stream_state *ss,
		    const struct ing_key_packet *k)
{
	uint32_t max = d->opts->limits.max_key_packets;

	if (d->keys_total >= max) {
		d->fp->key_packets_dropped++;
		return 0;
	}
	if (st->n_keys == ss->keys_cap) {
		size_t cap = ss->keys_cap ? 2 * ss->keys_cap : 64;
		struct ing_key_packet *keys;

		if (cap > st->n_keys + (max - d->keys_total))
			cap = st->n_keys + (max - d->keys_total);
		keys = realloc(st->keys, cap * sizeof(*keys));
		if (!keys)
			return -ENOMEM;
		st->keys = keys;
		ss->keys_cap = cap;
	}
	st->keys[st->n_keys++] = *k;
	d->keys_total++;
	return 0;
}

static int on_packet(struct demux *d, AVFormatContext *fmt, const AVPacket *pkt)
{
	struct ing_fingerprint *fp = d->fp;
	unsigned si = (unsigned)pkt->stream_index;
	const AVStream *avs;
	struct ing_stream *st;
	struct stream_state *ss;
	struct ing_key_packet k;
	int64_t ts;
	int r;

	if (pkt->stream_index < 0 || si >= fmt->nb_streams)
		return 0; /* cannot happen: libavformat validates it */
	r = grow_streams(d, fmt->nb_streams);
	if (r < 0)
		return r;
	avs = fmt->streams[si];
	st = &fp->streams[si];
	ss = &d->ss[si];

	if (!EVP_DigestInit_ex2(d->pkt_ctx, sha256_md, NULL) ||
	    (pkt->size > 0 && !EVP_DigestUpdate(d->pkt_ctx, pkt->data, (size_t)pkt->size)) ||
	    !EVP_DigestFinal_ex(d->pkt_ctx, k.hash, NULL) ||
	    !EVP_DigestUpdate(ss->ctx, k.hash, ING_HASH_LEN)) {
		ERR_clear_error();
		return -EIO;
	}
	k.pts_us = to_us(pkt->pts, avs->time_base);
	k.dts_us = to_us(pkt->dts, avs->time_base);
	k.ordinal = st->packets++;
	st->bytes += (uint64_t)pkt->size;
	fp->packets++;

	ts = k.pts_us != ING_NOTS ? k.pts_us : k.dts_us;
	if (ts != ING_NOTS) {
		int64_t end = ts;

		if (pkt->duration > 0)
			end += to_us(pkt->duration, avs->time_base);
		if (ss->first_us == ING_NOTS || ts < ss->first_us)
			ss->first_us = ts;
		if (ss->end_us == ING_NOTS || end > ss->end_us)
			ss->end_us = end;
	}
	if (pkt->flags & AV_PKT_FLAG_KEY) {
		st->keyframes++;
		if (avs->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
			r = keep_key(d, st, ss, &k);
			if (r < 0)
				return r;
		}
	}
	if (pkt->flags & AV_PKT_FLAG_CORRUPT)
		damage(d, -EBADMSG,
		       "packet %" PRIu64 " of stream %u is incomplete or corrupt (flagged by the "
		       "demuxer%s%s)",
		       k.ordinal, si, d->last_msg[0] ? ": " : "", d->last_msg);
	if (d->opts->on_packet) {
		struct ing_packet_info info = {
			.stream = si,
			.ordinal = k.ordinal,
			.hash = k.hash,
			.pts_us = k.pts_us,
			.dts_us = k.dts_us,
			.key = pkt->flags & AV_PKT_FLAG_KEY,
			.discard = pkt->flags & AV_PKT_FLAG_DISCARD,
			.size = (size_t)pkt->size,
		};

		d->opts->on_packet(d->opts->opaque, &info);
	}
	return 0;
}

/* @s as valid UTF-8, cut to at most ING_TAG_MAX bytes at a character boundary (*@cut then
 * set), so that a tag cannot swell the entry (fingerprint.h). */
static char *dup_utf8(const char *s, bool *cut)
{
	size_t len = strlen(s), n = 0;
	char *out = malloc(3 * len + 1); /* each bad byte may become U+FFFD (3 bytes) */

	if (!out)
		return NULL;
	len = ing__utf8_sanitize(s, len, out);
	if (len <= ING_TAG_MAX)
		return out;
	/* Valid UTF-8 now: whole sequences up to the cap. */
	while (n < len) {
		size_t k = ing__utf8_seq((const unsigned char *)out + n, len - n);

		if (!k || n + k > ING_TAG_MAX)
			break;
		n += k;
	}
	out[n] = '\0';
	*cut = true;
	return out;
}

/* The first of @keys present in the container's or, failing that, a stream's metadata. */
static int get_tag(const AVFormatContext *fmt, const char *const *keys, char **ret, bool *cut)
{
	const AVDictionaryEntry *e = NULL;

	for (const char *const *k = keys; *k && !e; k++)
		e = av_dict_get(fmt->metadata, *k, NULL, 0);
	for (unsigned i = 0; i < fmt->nb_streams && !e; i++)
		for (const char *const *k = keys; *k && !e; k++)
			e = av_dict_get(fmt->streams[i]->metadata, *k, NULL, 0);
	if (!e || !e->value[0])
		return 0;
	*ret = dup_utf8(e->value, cut);
	return *ret ? 0 : -ENOMEM;
}

static int read_tags(struct ing_fingerprint *fp, const AVFormatContext *fmt)
{
	static const char *const creation[] = { "creation_time", NULL };
	static const char *const make[] = { "make", "com.apple.quicktime.make", NULL };
	static const char *const model[] = { "model", "com.apple.quicktime.model", NULL };
	static const char *const serial[] = { "serial", "serial_number", "serialnumber",
					      "com.apple.quicktime.serial", NULL };
	static const char *const location[] = { "location", "com.apple.quicktime.location.ISO6709",
						"location-eng", NULL };
	int r;

	if ((r = get_tag(fmt, creation, &fp->creation_time, &fp->tags_cut)) < 0 ||
	    (r = get_tag(fmt, make, &fp->make, &fp->tags_cut)) < 0 ||
	    (r = get_tag(fmt, model, &fp->model, &fp->tags_cut)) < 0 ||
	    (r = get_tag(fmt, serial, &fp->serial, &fp->tags_cut)) < 0 ||
	    (r = get_tag(fmt, location, &fp->location, &fp->tags_cut)) < 0)
		return r;
	return 0;
}

/* Demuxers of single pictures: the image2 family (one per format, "png_pipe", "jpeg_pipe"…,
 * chosen by content) and image2 itself (chosen by a picture's extension). */
static bool image_demuxer(const char *name)
{
	size_t n = strlen(name);

	return !strcmp(name, "image2") || !strcmp(name, "image2pipe") ||
	       (n > 5 && !strcmp(name + n - 5, "_pipe"));
}

/* A codec of pictures: libavcodec gives most of them an image/ MIME type; the rest are
 * listed.  MJPEG is one, and also a camera's video codec, so a picture codec alone does not
 * make a still (see still_kind()). */
static bool image_codec(enum AVCodecID id)
{
	static const enum AVCodecID more[] = {
		AV_CODEC_ID_JPEGLS, AV_CODEC_ID_PPM,	   AV_CODEC_ID_PGM,	AV_CODEC_ID_PGMYUV,
		AV_CODEC_ID_PBM,    AV_CODEC_ID_SGI,	   AV_CODEC_ID_SUNRAST, AV_CODEC_ID_DPX,
		AV_CODEC_ID_PICTOR, AV_CODEC_ID_ALIAS_PIX, AV_CODEC_ID_EXR,	AV_CODEC_ID_DDS,
		AV_CODEC_ID_PSD,
	};
	const AVCodecDescriptor *desc = avcodec_descriptor_get(id);

	for (const char *const *m = desc ? desc->mime_types : NULL; m && *m; m++)
		if (!strncmp(*m, "image/", 6))
			return true;
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		if (id == more[i])
			return true;
	return false;
}

/* Why a video stream is not video a camera recorded, or NULL when it is: a picture the
 * container attaches (cover art), the file is a picture (an image demuxer took it), one frame
 * of a picture codec, or text that libavformat renders as a picture (ANSI art, .txt files). */
static const char *still_kind(const AVFormatContext *fmt, const AVStream *avs,
			      const struct ing_stream *st)
{
	enum AVCodecID id = avs->codecpar->codec_id;

	if (avs->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)
		return NULL;
	if (avs->disposition & AV_DISPOSITION_ATTACHED_PIC)
		return "an attached picture";
	if (id == AV_CODEC_ID_ANSI || id == AV_CODEC_ID_BINTEXT || id == AV_CODEC_ID_XBIN ||
	    id == AV_CODEC_ID_IDF)
		return "text shown as a picture";
	if (image_demuxer(fmt->iformat->name))
		return "a still picture";
	/* A frame's own duration (GIF's delay, a container's default) does not make it video. */
	if (image_codec(id) && st->packets <= 1)
		return "a still picture";
	return NULL;
}

/* A file with streams but none of audio or video a camera writes: say what it holds instead,
 * e.g. "a still picture (png_pipe)" or "a subtitle stream (stream 0, ass)". */
static void damage_no_av(struct demux *d, const AVFormatContext *fmt, const char *const *still)
{
	const struct ing_fingerprint *fp = d->fp;
	char list[400];
	size_t len = 0;

	list[0] = '\0';
	for (unsigned i = 0; i < fp->n_streams && len < sizeof(list) - 1; i++) {
		const struct ing_stream *st = &fp->streams[i];
		char what[64];
		int w;

		if (still[i])
			snprintf(what, sizeof(what), "%s", still[i]);
		else
			snprintf(what, sizeof(what), "a%s %s stream", st->type[0] == 'a' ? "n" : "",
				 st->type);
		if (still[i] && image_demuxer(fmt->iformat->name))
			w = snprintf(list + len, sizeof(list) - len, "%s%s (%s)", len ? ", " : "",
				     what, fmt->iformat->name);
		else
			w = snprintf(list + len, sizeof(list) - len, "%s%s (stream %u, %s)",
				     len ? ", " : "", what, i, st->codec);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	damage(d, -EBADMSG, "no audio or video stream: %s", list);
}

/* What the file says about each stream, and the streams' digests. */
static int describe_streams(struct demux *d, const AVFormatContext *fmt)
{
	struct ing_fingerprint *fp = d->fp;
	const char **still;
	bool av = false;
	int r;

	r = grow_streams(d, fmt->nb_streams);
	if (r < 0)
		return r;
	still = calloc(fp->n_streams ? fp->n_streams : 1, sizeof(*still));
	if (!still)
		return -ENOMEM;
	for (unsigned i = 0; i < fp->n_streams; i++) {
		const AVStream *avs = fmt->streams[i];
		const AVCodecParameters *par = avs->codecpar;
		struct ing_stream *st = &fp->streams[i];
		const char *type = av_get_media_type_string(par->codec_type);
		const char *profile;

		st->type = type ? type : "unknown";
		if (par->codec_id != AV_CODEC_ID_NONE) {
			snprintf(st->codec, sizeof(st->codec), "%s",
				 avcodec_get_name(par->codec_id));
		} else if (par->codec_tag) {
			char tag[AV_FOURCC_MAX_STRING_SIZE];

			av_fourcc_make_string(tag, par->codec_tag);
			ing__utf8_sanitize(tag, strlen(tag) < 8 ? strlen(tag) : 8, st->codec);
		} else {
			snprintf(st->codec, sizeof(st->codec), "none");
		}
		profile = avcodec_profile_name(par->codec_id, par->profile);
		snprintf(st->profile, sizeof(st->profile), "%s", profile ? profile : "");
		st->start_us = to_us(avs->start_time, avs->time_base);
		st->duration_us = to_us(avs->duration, avs->time_base);
		if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
			st->width = par->width;
			st->height = par->height;
		} else if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
			st->sample_rate = par->sample_rate;
			st->channels = par->ch_layout.nb_channels;
		}
		if (!EVP_DigestFinal_ex(d->ss[i].ctx, st->digest, NULL)) {
			ERR_clear_error();
			free(still);
			return -EIO;
		}
		still[i] = still_kind(fmt, avs, st);
		if ((par->codec_type == AVMEDIA_TYPE_VIDEO && !still[i]) ||
		    par->codec_type == AVMEDIA_TYPE_AUDIO)
			av = true;
	}
	/* Said first: for a picture, what it lacks as video is beside the point. */
	if (fp->n_streams == 0)
		damage(d, -EBADMSG, "libavformat found no streams in it");
	else if (!av)
		damage_no_av(d, fmt, still);
	for (unsigned i = 0; i < fp->n_streams; i++) {
		const AVCodecParameters *par = fmt->streams[i]->codecpar;
		const struct ing_stream *st = &fp->streams[i];

		if ((par->codec_type != AVMEDIA_TYPE_VIDEO &&
		     par->codec_type != AVMEDIA_TYPE_AUDIO) ||
		    still[i])
			continue;
		if (par->codec_id == AV_CODEC_ID_NONE)
			damage(d, -EBADMSG,
			       "stream %u (%s): libavformat could not identify its codec", i,
			       st->type);
		else if (par->codec_type == AVMEDIA_TYPE_VIDEO && (!st->width || !st->height))
			damage(d, -EBADMSG,
			       "stream %u (%s %s): its codec parameters could not be read (no "
			       "picture size)",
			       i, st->type, st->codec);
		else if (par->codec_type == AVMEDIA_TYPE_AUDIO &&
			 (!st->sample_rate || !st->channels))
			damage(d, -EBADMSG,
			       "stream %u (%s %s): its codec parameters could not be read (no "
			       "sample rate or channels)",
			       i, st->type, st->codec);
	}
	free(still);
	/* An MP4/MOV index (moov) lists every sample, and the demuxer ends quietly when the file
	 * stops at a sample boundary: fewer packets than the index lists is a cut file. */
	if (!fp->damaged && !strncmp(fmt->iformat->name, "mov,", 4))
		for (unsigned i = 0; i < fp->n_streams; i++) {
			int listed = avformat_index_get_entries_count(fmt->streams[i]);

			if (listed > 0 && fp->streams[i].packets < (uint64_t)listed) {
				damage(d, -EBADMSG,
				       "stream %u: %" PRIu64 " of the %d packets its index "
				       "lists could be read: the file is cut short",
				       i, fp->streams[i].packets, listed);
				break;
			}
		}
	return 0;
}

/* ---- where the container ends ---------------------------------------------------------- */

/* Demuxers stop where the container says it ends and ignore what follows, so bytes appended to
 * a recording (another file's remains, a transfer that wrote too much, something hidden) would
 * pass unseen.  The container's top-level structure is walked here from its headers alone:
 * one small pread() per top-level element, never the data. */

/* @len bytes at @off, which the fstat() size says exist.  @return 0, or -1 with d->io_err or
 * d->shrank set (demux_run() reports those). */
static int read_at(struct demux *d, uint8_t *buf, size_t len, uint64_t off)
{
	ssize_t n;

	do
		n = pread(d->fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		d->io_err = errno;
		return -1;
	}
	if ((size_t)n < len) {
		d->shrank = true;
		return -1;
	}
	return 0;
}

static uint64_t be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* The bytes from @end to the end of the file belong to no part of the container. */
static void damage_trailing(struct demux *d, uint64_t end, const char *what)
{
	struct ing_fingerprint *fp = d->fp;

	fp->trailing_bytes = fp->size - end;
	damage(d, -EBADMSG,
	       "%" PRIu64 " bytes after the end of the container (%s ends at offset %" PRIu64
	       " of %" PRIu64 "): data appended to the recording, or left over",
	       fp->trailing_bytes, what, end, fp->size);
}

/* Box types are four printable characters (ISO/IEC 14496-12 4.2; QuickTime's © types occur
 * inside boxes only). */
static bool box_type_ok(const uint8_t *t)
{
	for (int i = 0; i < 4; i++)
		if (t[i] < 0x20 || t[i] > 0x7e)
			return false;
	return true;
}

/* The boxes ISO/IEC 14496-12 and QuickTime put at the top level: one of these running past
 * the end of the file is a cut file; anything else there is not a box at all. */
static bool box_top_level(const uint8_t *t)
{
	static const char types[][5] = { "ftyp", "styp", "moov", "mdat", "free", "skip", "wide",
					 "uuid", "moof", "mfra", "sidx", "ssix", "prft", "emsg",
					 "meta", "pdin", "udta", "pnot", "PICT", "meco" };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!memcmp(t, types[i], 4))
			return true;
	return false;
}

/* MP4/MOV: a file is a sequence of top-level boxes, each with its size in its header (32 bits;
 * 1: a 64-bit size follows the type; 0: to the end of the file). */
static void check_mp4_end(struct demux *d)
{
	uint64_t size = d->fp->size, off = 0;

	for (uint64_t n = 1; off < size; n++) {
		uint8_t h[16];
		size_t have = size - off < sizeof(h) ? (size_t)(size - off) : sizeof(h);
		uint64_t len;

		/* A file of tiny boxes could take long: the demuxing time limit covers this too. */
		if (n % 4096 == 0 && out_of_time(d)) {
			damage(d, -ETIME,
			       "walking its top-level boxes took longer than the limit of "
			       "%u s",
			       d->opts->limits.max_seconds);
			return;
		}
		if (have < 8)
			break;
		if (read_at(d, h, have, off) < 0)
			return;
		if (!box_type_ok(h + 4))
			break;
		len = be(h, 4);
		if (len == 1)
			len = have == 16 ? be(h + 8, 8) : 0;
		else if (len == 0)
			len = size - off;
		if (len < (be(h, 4) == 1 ? 16u : 8u))
			break;
		if (len > size - off) {
			if (!box_top_level(h + 4))
				break;
			damage(d, -EBADMSG,
			       "its '%.4s' box at offset %" PRIu64 " is %" PRIu64 " bytes long, "
			       "%" PRIu64 " more than the file holds: the file is cut short",
			       (const char *)h + 4, off, len, len - (size - off));
			return;
		}
		off += len;
	}
	/* A file that is not boxes from its first byte is not one the demuxer read as such. */
	if (off > 0 && off < size)
		damage_trailing(d, off, "its last top-level MP4 box");
}

/* An EBML variable-length integer of at most @max bytes at @p (@have bytes there): its
 * length, or 0 when it is not one.  The value without its length marker goes into *@v;
 * *@unknown says that every value bit is set, which in a size means "unknown". */
static unsigned ebml_vint(const uint8_t *p, size_t have, unsigned max, uint64_t *v, bool *unknown)
{
	unsigned len = 1;
	uint8_t mark = 0x80;
	uint64_t all;

	if (have == 0 || p[0] == 0)
		return 0;
	while (!(p[0] & mark)) {
		mark >>= 1;
		len++;
	}
	if (len > max || len > have)
		return 0;
	*v = be(p, len) & ~((uint64_t)mark << 8 * (len - 1));
	all = ((uint64_t)1 << 7 * len) - 1;
	*unknown = *v == all;
	return len;
}

#define EBML_ID_SEGMENT 0x18538067u

/* Matroska/WebM: an EBML header and a Segment that holds everything else.  A Segment of
 * unknown size (a live recording never finished) extends to the end of the file. */
static void check_mkv_end(struct demux *d)
{
	uint64_t size = d->fp->size, off = 0;

	/* The EBML header and what little may precede the Segment (Void elements). */
	for (int n = 0; n < 16 && off < size; n++) {
		uint8_t h[12];
		size_t have = size - off < sizeof(h) ? (size_t)(size - off) : sizeof(h);
		unsigned id_len, size_len;
		uint64_t id, len;
		bool unknown;

		if (read_at(d, h, have, off) < 0)
			return;
		id_len = ebml_vint(h, have, 4, &id, &unknown);
		if (id_len == 0)
			return;
		id = be(h, id_len);
		size_len = ebml_vint(h + id_len, have - id_len, 8, &len, &unknown);
		if (size_len == 0)
			return;
		off += id_len + size_len;
		if (id == EBML_ID_SEGMENT) {
			if (unknown)
				return;
			if (len > size - off) {
				damage(d, -EBADMSG,
				       "its Matroska Segment at offset %" PRIu64 " is %" PRIu64
				       " bytes long, %" PRIu64 " more than the file holds: the "
				       "file is cut short",
				       off - id_len - size_len, len, len - (size - off));
				return;
			}
			if (off + len < size)
				damage_trailing(d, off + len, "its Matroska Segment");
			return;
		}
		/* Before the Segment: not for us to judge what the demuxer accepted. */
		if (unknown || len > size - off)
			return;
		off += len;
	}
}

static void describe_container(struct demux *d, const AVFormatContext *fmt)
{
	struct ing_fingerprint *fp = d->fp;

	fp->start_us = to_us(fmt->start_time, AV_TIME_BASE_Q);
	fp->duration_us = to_us(fmt->duration, AV_TIME_BASE_Q);
	if (fp->duration_us == ING_NOTS || fp->duration_us < 0) {
		/* No duration in the container (raw streams): the span of the packets read. */
		fp->duration_us = ING_NOTS;
		for (unsigned i = 0; i < fp->n_streams; i++) {
			const struct stream_state *ss = &d->ss[i];

			if (ss->first_us != ING_NOTS && ss->end_us != ING_NOTS &&
			    (fp->duration_us == ING_NOTS ||
			     ss->end_us - ss->first_us > fp->duration_us))
				fp->duration_us = ss->end_us - ss->first_us;
		}
	}
	/* AVI and WAV begin with a RIFF header that gives the size of the first RIFF chunk; the
	 * demuxers read on quietly to the end of a shorter file (AVI's index, at the end, is then
	 * simply missing). */
	if (!strcmp(fmt->iformat->name, "avi") || !strcmp(fmt->iformat->name, "wav")) {
		uint8_t h[8];

		if (pread(d->fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) && !memcmp(h, "RIFF", 4)) {
			uint64_t end = 8 + ((uint64_t)h[4] | (uint64_t)h[5] << 8 |
					    (uint64_t)h[6] << 16 | (uint64_t)h[7] << 24);

			if (end > fp->size)
				damage(d, -EBADMSG,
				       "the file is shorter than its RIFF header says "
				       "(%" PRIu64 " of %" PRIu64 " bytes): it is cut short",
				       fp->size, end);
		}
	}
	if (!strncmp(fmt->iformat->name, "mov,", 4))
		check_mp4_end(d);
	else if (!strcmp(fmt->iformat->name, "matroska,webm"))
		check_mkv_end(d);
	/* The transport stream's end is judged after the sync bytes are read (check_ts_end()),
	 * in the packet size its demuxer found: 188, 192 (M2TS) or 204 bytes. */
	if (!strcmp(fmt->iformat->name, "mpegts")) {
		int64_t size = 0;

		if (av_opt_get_int((void *)fmt, "ts_packetsize", AV_OPT_SEARCH_CHILDREN, &size) >=
			0 &&
		    (size == 188 || size == 192 || size == 204))
			d->ts_packet_size = (unsigned)size;
	}
}

static void free_demux_state(struct demux *d)
{
	for (unsigned i = 0; d->ss && i < d->fp->n_streams; i++)
		EVP_MD_CTX_free(d->ss[i].ctx);
	free(d->ss);
	d->ss = NULL;
	EVP_MD_CTX_free(d->pkt_ctx);
	d->pkt_ctx = NULL;
}

/* The demux proper.  @return 0 (damage is recorded in d->fp), or a system error. */
static int demux_run(struct demux *d, const char *name, struct err_detail *reterr)
{
	struct ing_fingerprint *fp = d->fp;
	const struct ing_limits *lim = &d->opts->limits;
	AVFormatContext *fmt = NULL;
	AVIOContext *pb = NULL;
	AVDictionary *opts = NULL;
	AVPacket *pkt = NULL;
	uint8_t *buf = NULL;
	int r = 0, ar;

	d->pkt_ctx = EVP_MD_CTX_new();
	fmt = avformat_alloc_context();
	buf = av_malloc(AVIO_BUF_SIZE);
	pkt = av_packet_alloc();
	if (!d->pkt_ctx || !fmt || !buf || !pkt) {
		r = err_set(reterr, -ENOMEM, "out of memory for the demuxer");
		goto out;
	}
	pb = avio_alloc_context(buf, AVIO_BUF_SIZE, 0, d, on_read, NULL, on_seek);
	if (!pb) {
		r = err_set(reterr, -ENOMEM, "out of memory for the demuxer's I/O");
		goto out;
	}
	buf = NULL; /* pb owns it now (and may replace it) */
	pb->seekable = AVIO_SEEKABLE_NORMAL;
	fmt->pb = pb;
	fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	fmt->interrupt_callback.callback = on_interrupt;
	fmt->interrupt_callback.opaque = d;
	fmt->io_open = refuse_io_open;
	fmt->max_streams = (int)lim->max_streams;
	/* As ffprobe does: find every program's streams in a transport stream. */
	if (av_dict_set(&opts, "scan_all_pmts", "1", 0) < 0) {
		r = err_set(reterr, -ENOMEM, "out of memory for the demuxer's options");
		goto out;
	}

	tls_demux = d;
	ar = avformat_open_input(&fmt, name ? name : "", NULL, &opts);
	if (ar < 0) {
		/* libavformat freed fmt (and left our pb to us). */
		if (system_failure(d, ar))
			goto sys_error;
		damage_av(d, ar, "libavformat could not open it");
		goto out;
	}
	fp->container = strdup(fmt->iformat->name);
	fp->probe_score = fmt->probe_score;
	if (!fp->container) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	if (fmt->probe_score <= AVPROBE_SCORE_RETRY)
		damage(d, -EBADMSG,
		       "libavformat could only guess that it is '%s' (probe score %d "
		       "of 100): not a media file, or its header is damaged",
		       fp->container, fmt->probe_score);

	ar = avformat_find_stream_info(fmt, NULL);
	if (ar < 0) {
		if (system_failure(d, ar))
			goto sys_error;
		damage_av(d, ar, "libavformat could not read the streams' parameters");
		if (d->timed_out)
			goto finish;
	}
	if (fmt->nb_streams > lim->max_streams) {
		damage(d, -E2BIG, "it has %u streams, more than the limit of %u", fmt->nb_streams,
		       lim->max_streams);
		goto finish;
	}
	r = grow_streams(d, fmt->nb_streams);
	if (r < 0)
		goto out_nomem;

	for (;;) {
		ar = av_read_frame(fmt, pkt);
		if (ar == AVERROR_EOF)
			break;
		if (ar < 0) {
			if (system_failure(d, ar))
				goto sys_error;
			/* ffprobe stops at the first error too, so what it lists is what we read.
			 */
			if (!fp->damaged)
				d->av_damage_at = d->pos;
			damage_av(d, ar,
				  fp->packets ? "libavformat failed while reading packets"
					      : "libavformat could not read a packet");
			break;
		}
		if (out_of_time(d)) {
			av_packet_unref(pkt);
			break;
		}
		if (fp->packets >= lim->max_packets) {
			av_packet_unref(pkt);
			damage(d, -E2BIG, "it has more than the limit of %" PRIu64 " packets",
			       lim->max_packets);
			break;
		}
		r = on_packet(d, fmt, pkt);
		av_packet_unref(pkt);
		if (r < 0)
			goto out_nomem;
	}
	if (d->io_err)
		goto sys_error;
finish:
	/* However libav passed the interruption on (an error, or an end of file). */
	if (d->timed_out)
		damage(d, -ETIME, "demuxing took longer than the limit of %u s",
		       d->opts->limits.max_seconds);
	if (d->shrank) {
		r = err_set(reterr, -EAGAIN,
			    "the file shrank while being read (still being written?)");
		goto out;
	}
	r = describe_streams(d, fmt);
	if (r < 0)
		goto out_nomem;
	describe_container(d, fmt);
	if (d->io_err)
		goto sys_error;
	if (d->shrank) {
		r = err_set(reterr, -EAGAIN,
			    "the file shrank while being read (still being written?)");
		goto out;
	}
	r = read_tags(fp, fmt);
	if (r < 0)
		goto out_nomem;
	/* A demuxer that logged an error has met something it did not expect, even when it went
	 * on (a damaged box it skipped, a PES packet of the wrong size). */
	if (d->n_errors && !fp->damaged)
		d->av_damage_at = d->first_error_at;
	if (d->n_errors)
		damage(d, -EBADMSG, "the demuxer reported %u error%s, the first: %s", d->n_errors,
		       d->n_errors == 1 ? "" : "s", d->first_error);
	goto out;

sys_error:
	if (d->io_err)
		r = err_set(reterr, -EIO, "reading the file: %s", strerror(d->io_err));
	else
		r = err_set(reterr, -ENOMEM, "out of memory while demuxing");
	goto out;
out_nomem:
	r = err_set(reterr, r == -EIO ? -EIO : -ENOMEM,
		    r == -EIO ? "libcrypto failed while hashing packets" : "out of memory");
out:
	tls_demux = NULL;
	av_dict_free(&opts);
	av_packet_free(&pkt);
	avformat_close_input(&fmt);
	if (pb) {
		av_freep(&pb->buffer);
		avio_context_free(&pb);
	}
	av_free(buf);
	return r;
}

/* ---- the whole ------------------------------------------------------------------------- */

/* A transport stream is a sequence of fixed-size packets, and its demuxer ends silently at a
 * partial one and skips bytes without a sync byte: judged from the sync bytes the hash pass
 * saw, in the packet size the demuxer found (@psize, 0 when it did not say).  Without a run of
 * packets in any size, only a size that fits none of them, or a packet lacking its sync byte
 * in all three, is damage.
 * @av_damage_at: see struct demux. */
static void check_ts_end(struct ing_fingerprint *fp, const struct file_hash *h, unsigned psize,
			 uint64_t av_damage_at)
{
	int k = psize == 192 ? 1 : psize == 204 ? 2 : 0;
	uint64_t end, tail;

	/* The demuxer re-guesses the size when it loses sync (in bytes appended, say), and may
	 * end on a wrong one: then the size whose packets run furthest into the file is it. */
	if (psize == 0 || h->ts_end[k] == 0) {
		for (int i = 0; i < 3; i++)
			if (h->ts_end[i] > h->ts_end[k])
				k = i;
		psize = ts_size[k];
	}
	end = h->ts_end[k];
	if (end == 0) {
		if (fp->size % 188 && fp->size % 192 && fp->size % 204)
			damage_fp(
			    fp, -EBADMSG,
			    "the file ends inside a transport stream packet (its size, %" PRIu64
			    ", is not a multiple of 188, 192 or 204 bytes): it is cut short",
			    fp->size);
		if (h->ts_bad[0] != UINT64_MAX && h->ts_bad[1] != UINT64_MAX &&
		    h->ts_bad[2] != UINT64_MAX)
			damage_fp(fp, -EBADMSG,
				  "the transport stream packet at offset %" PRIu64 " has no sync "
				  "byte: the file is corrupted there (the demuxer skips such bytes "
				  "without a word)",
				  h->ts_bad[0]);
		return;
	}
	tail = fp->size - end;
	fp->trailing_bytes = tail;
	/* The demuxer choked on them (no sync byte in its resync window): say why. */
	if (tail >= psize && av_damage_at != UINT64_MAX && av_damage_at > end)
		fp->damaged = false;
	if (h->ts_bad[k] < end)
		damage_fp(fp, -EBADMSG,
			  "the transport stream packet at offset %" PRIu64 " has no sync byte: the "
			  "file is corrupted there (the demuxer skips such bytes without a word)",
			  h->ts_bad[k]);
	else if (tail > 0 && tail < psize)
		damage_fp(fp, -EBADMSG,
			  "the file ends %" PRIu64 " bytes into a %u-byte transport stream packet "
			  "(%" PRIu64 " bytes after the last whole one): it is cut short, or bytes "
			  "were appended",
			  tail, psize, tail);
	else if (tail > 0)
		damage_fp(
		    fp, -EBADMSG,
		    "%" PRIu64 " bytes after the end of the container (its last %u-byte "
		    "transport stream packet ends at offset %" PRIu64 " of %" PRIu64 "; what "
		    "follows is not transport stream packets): data appended to the recording, "
		    "or left over",
		    tail, psize, end, fp->size);
}

int ing_fingerprint_fd(int fd, const char *name, const struct ing_options *opts,
		       struct ing_fingerprint **ret, struct err_detail *reterr)
{
	static const struct ing_options defaults = { .limits = ING_LIMITS_INIT };
	struct ing_fingerprint *fp = NULL;
	struct file_hash h = { .fd = fd };
	struct demux d = { .fd = fd, .first_error_at = UINT64_MAX, .av_damage_at = UINT64_MAX };
	struct stat st, st2;
	pthread_t thread;
	bool threaded;
	int r;

	h.r = 0;

	if (!opts)
		opts = &defaults;
	pthread_once(&init_once, init_once_run);
	if (!sha256_md)
		return err_set(reterr, -EIO, "libcrypto has no SHA-256");
	if (fstat(fd, &st) < 0)
		return err_set(reterr, -errno, "fstat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(reterr, -EINVAL, "not a regular file");
	fp = calloc(1, sizeof(*fp));
	if (!fp)
		return err_set(reterr, -ENOMEM, "out of memory");
	fp->size = (uint64_t)st.st_size;
	fp->mtime_us = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
	fp->start_us = ING_NOTS;
	fp->duration_us = ING_NOTS;
	h.size = fp->size;
	d.size = fp->size;
	d.opts = opts;
	d.fp = fp;
	d.deadline_ns = now_ns() + (int64_t)opts->limits.max_seconds * 1000000000;

	/* Readahead for both readers; a hint only, so its failure does not matter. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (opts->known_sha256) {
		/* The bytes were hashed by the caller: only a transport stream needs the second
		 * read, for the sync bytes its demuxer skips without a word. */
		r = demux_run(&d, name, reterr);
		free_demux_state(&d);
		if (r < 0)
			goto fail;
		if (fp->container && !strcmp(fp->container, "mpegts")) {
			h.r = hash_file(&h);
			if (h.r == 0 && memcmp(h.digest, opts->known_sha256, ING_HASH_LEN) != 0)
				h.r = err_set(&h.err, -EAGAIN,
					      "the file's bytes are not the ones the "
					      "caller hashed: it changed while being read");
		}
		memcpy(h.digest, opts->known_sha256, ING_HASH_LEN);
	} else {
		threaded = pthread_create(&thread, NULL, hash_run, &h) == 0;
		r = demux_run(&d, name, reterr);
		if (threaded)
			pthread_join(thread, NULL);
		else
			h.r = hash_file(&h);
		free_demux_state(&d);
		if (r < 0)
			goto fail;
	}
	if (h.r < 0) {
		r = h.r;
		if (reterr)
			*reterr = h.err;
		goto fail;
	}
	memcpy(fp->sha256, h.digest, ING_HASH_LEN);
	if (fp->container && !strcmp(fp->container, "mpegts"))
		check_ts_end(fp, &h, d.ts_packet_size, d.av_damage_at);
	/* Both reads saw the bytes of one moment only if nothing changed meanwhile. */
	if (fstat(fd, &st2) < 0) {
		r = err_set(reterr, -errno, "fstat: %s", strerror(errno));
		goto fail;
	}
	if (st2.st_size != st.st_size || st2.st_mtim.tv_sec != st.st_mtim.tv_sec ||
	    st2.st_mtim.tv_nsec != st.st_mtim.tv_nsec) {
		r = err_set(reterr, -EAGAIN,
			    "the file changed while being read (size or mtime): "
			    "still being written?");
		goto fail;
	}
	*ret = fp;
	return 0;
fail:
	ing_fingerprint_free(fp);
	return r;
}

struct ing_fingerprint *ing_fingerprint_free(struct ing_fingerprint *fp)
{
	if (!fp)
		return NULL;
	for (unsigned i = 0; i < fp->n_streams; i++)
		free(fp->streams[i].keys);
	free(fp->streams);
	free(fp->container);
	free(fp->creation_time);
	free(fp->make);
	free(fp->model);
	free(fp->serial);
	free(fp->location);
	free(fp);
	return NULL;
}
