/* test_fingerprint.c: ingest/fingerprint.c and describe.c on files muxed here with libavformat
 * (NUT, which stores packets verbatim), so every packet's bytes are known: the file hash, each
 * stream's digest (docs/log.md) recomputed independently, the key-packet records, the packet
 * callback, the limits (streams, packets, seconds, key-packet records), damaged files (zero
 * bytes, garbage, truncated, a still picture, bytes after the end of a Matroska or MP4/MOV
 * container, an MP4 box longer than the file), the entry fields, and the same result from
 * concurrent threads.
 * The ffmpeg-made matrix against ffprobe is tests/integration/fingerprint.sh. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <libavformat/avformat.h>
#include <openssl/evp.h>

#include "ingest/rectime.h"
#include "base/err.h"
#include "base/hex.h"
#include "ingest/fingerprint.h"

#define N_VIDEO 20
#define N_AUDIO 25
#define VIDEO_BYTES 256	 /* 16x16 gray */
#define AUDIO_BYTES 1600 /* 800 samples of 16-bit mono at 8 kHz: 0.1 s */

static char dir[] = "/tmp/custody-fp-XXXXXX";
static char media[64], media3[64];

static void fill(uint8_t *buf, size_t len, unsigned stream, unsigned i)
{
	for (size_t j = 0; j < len; j++)
		buf[j] = (uint8_t)(j * 31 + i * 7 + stream * 101);
}

static void sha256(const void *data, size_t len, uint8_t out[ING_HASH_LEN])
{
	assert_int_equal(EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL), 1);
}

/* Container tags the next mux_as() writes (NULL: none). */
static const char *mux_make, *mux_model;

/* A NUT file (or @format's): a 10 fps 16x16 gray rawvideo stream (N_VIDEO packets, every one
 * key) and @n_audio_streams pcm_s16le streams (N_AUDIO packets each). */
static void mux_as(const char *path, unsigned n_audio_streams, const char *format)
{
	AVFormatContext *oc = NULL;
	AVPacket *pkt = av_packet_alloc();
	AVStream *st[4];
	unsigned n = 1 + n_audio_streams;

	assert_non_null(pkt);
	assert_true(avformat_alloc_output_context2(&oc, NULL, format, path) >= 0);
	for (unsigned s = 0; s < n; s++) {
		AVCodecParameters *par;

		st[s] = avformat_new_stream(oc, NULL);
		assert_non_null(st[s]);
		par = st[s]->codecpar;
		if (s == 0) {
			par->codec_type = AVMEDIA_TYPE_VIDEO;
			par->codec_id = AV_CODEC_ID_RAWVIDEO;
			par->width = 16;
			par->height = 16;
			par->format = AV_PIX_FMT_GRAY8;
			/* Matroska stores raw video under its FourCC, which it does not guess. */
			if (!strcmp(format, "matroska"))
				par->codec_tag = MKTAG('Y', '8', '0', '0');
			st[s]->time_base = (AVRational){ 1, 10 };
		} else {
			par->codec_type = AVMEDIA_TYPE_AUDIO;
			par->codec_id = AV_CODEC_ID_PCM_S16LE;
			par->sample_rate = 8000;
			par->format = AV_SAMPLE_FMT_S16;
			av_channel_layout_default(&par->ch_layout, 1);
			st[s]->time_base = (AVRational){ 1, 8000 };
		}
	}
	if (mux_make)
		assert_true(av_dict_set(&oc->metadata, "make", mux_make, 0) >= 0);
	if (mux_model)
		assert_true(av_dict_set(&oc->metadata, "model", mux_model, 0) >= 0);
	assert_true(avio_open(&oc->pb, path, AVIO_FLAG_WRITE) >= 0);
	assert_true(avformat_write_header(oc, NULL) >= 0);
	for (unsigned i = 0; i < N_AUDIO; i++) {
		for (unsigned s = 0; s < n; s++) {
			bool video = s == 0;
			size_t len = video ? VIDEO_BYTES : AUDIO_BYTES;

			if (video && i >= N_VIDEO)
				continue;
			assert_int_equal(av_new_packet(pkt, (int)len), 0);
			fill(pkt->data, len, s, i);
			pkt->stream_index = (int)s;
			pkt->pts = pkt->dts =
			    av_rescale_q(video ? i : i * 800,
					 video ? (AVRational){ 1, 10 } : (AVRational){ 1, 8000 },
					 st[s]->time_base);
			pkt->duration =
			    av_rescale_q(video ? 1 : 800,
					 video ? (AVRational){ 1, 10 } : (AVRational){ 1, 8000 },
					 st[s]->time_base);
			pkt->flags = AV_PKT_FLAG_KEY;
			assert_true(av_interleaved_write_frame(oc, pkt) >= 0);
		}
	}
	assert_true(av_write_trailer(oc) >= 0);
	avio_closep(&oc->pb);
	avformat_free_context(oc);
	av_packet_free(&pkt);
}

static void mux(const char *path, unsigned n_audio_streams)
{
	mux_as(path, n_audio_streams, "nut");
}

/* The digest docs/log.md defines, computed from the bytes we muxed. */
static void expected_digest(unsigned stream, uint8_t out[ING_HASH_LEN])
{
	unsigned n = stream == 0 ? N_VIDEO : N_AUDIO;
	size_t len = stream == 0 ? VIDEO_BYTES : AUDIO_BYTES;
	uint8_t *hashes = malloc((size_t)n * ING_HASH_LEN), buf[AUDIO_BYTES];

	assert_non_null(hashes);
	for (unsigned i = 0; i < n; i++) {
		fill(buf, len, stream, i);
		sha256(buf, len, hashes + (size_t)i * ING_HASH_LEN);
	}
	sha256(hashes, (size_t)n * ING_HASH_LEN, out);
	free(hashes);
}

static void file_sha256(const char *path, uint8_t out[ING_HASH_LEN])
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	sha256(buf, (size_t)len, out);
	free(buf);
}

static struct ing_fingerprint *run(const char *path, const struct ing_options *opts)
{
	struct ing_fingerprint *fp = NULL;
	struct err_detail e = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;

	assert_true(fd >= 0);
	r = ing_fingerprint_fd(fd, strrchr(path, '/') + 1, opts, &fp, &e);
	if (r < 0)
		fail_msg("%s: %d %s", path, r, e.msg);
	close(fd);
	return fp;
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(media, sizeof(media), "%s/clip.nut", dir);
	snprintf(media3, sizeof(media3), "%s/three.nut", dir);
	mux(media, 1);
	mux(media3, 2);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A tag longer than ING_TAG_MAX is cut at a character boundary, and the fingerprint and its
 * entry say so; a short one is kept whole. */
static void test_long_tag_is_cut(void **state)
{
	char path[96], make[602], *text;
	struct ing_fingerprint *fp;
	struct err_detail e;
	json_t *o = NULL;

	(void)state;
	for (size_t i = 0; i < 300; i++)
		memcpy(make + 2 * i, "\xc3\xa9", 2); /* é: 600 bytes */
	make[600] = '\0';
	snprintf(path, sizeof(path), "%s/tags.nut", dir);
	mux_make = make;
	mux_model = "Body Cam 3";
	mux(path, 1);
	mux_make = mux_model = NULL;
	fp = run(path, NULL);
	assert_non_null(fp->make);
	assert_int_equal(strlen(fp->make), ING_TAG_MAX); /* 64 whole characters */
	assert_memory_equal(fp->make, make, ING_TAG_MAX);
	assert_string_equal(fp->model, "Body Cam 3");
	assert_true(fp->tags_cut);
	assert_int_equal(ing_entry_json(fp, NULL, &o, &e), 0);
	assert_true(json_is_true(json_object_get(o, "tags_cut")));
	text = json_dumps(o, JSON_COMPACT);
	assert_non_null(text);
	free(text);
	json_decref(o);
	ing_fingerprint_free(fp);

	/* One ASCII byte first: the cap falls inside a character, which is left out whole. */
	memmove(make + 1, make, 601); /* the NUL too */
	make[0] = 'a';
	mux_make = make;
	mux(path, 1);
	fp = run(path, NULL);
	assert_int_equal(strlen(fp->make), ING_TAG_MAX - 1);
	assert_memory_equal(fp->make, make, ING_TAG_MAX - 1);
	assert_true(fp->tags_cut);
	ing_fingerprint_free(fp);

	/* Exactly the cap (64 characters of 2 bytes): kept whole, nothing cut. */
	make[ING_TAG_MAX + 1] = '\0';
	mux_make = make + 1;
	mux(path, 1);
	mux_make = NULL;
	fp = run(path, NULL);
	assert_string_equal(fp->make, make + 1);
	assert_false(fp->tags_cut);
	ing_fingerprint_free(fp);
}

static void test_intact(void **state)
{
	struct ing_fingerprint *fp = run(media, NULL);
	uint8_t want[ING_HASH_LEN];
	struct stat st;

	(void)state;
	assert_false(fp->damaged);
	assert_int_equal(stat(media, &st), 0);
	assert_int_equal(fp->size, (uint64_t)st.st_size);
	assert_int_equal(fp->mtime_us,
			 (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000);
	file_sha256(media, want);
	assert_memory_equal(fp->sha256, want, ING_HASH_LEN);
	assert_string_equal(fp->container, "nut");
	assert_int_equal(fp->n_streams, 2);
	assert_int_equal(fp->packets, N_VIDEO + N_AUDIO);

	assert_string_equal(fp->streams[0].type, "video");
	assert_string_equal(fp->streams[0].codec, "rawvideo");
	assert_int_equal(fp->streams[0].width, 16);
	assert_int_equal(fp->streams[0].height, 16);
	assert_int_equal(fp->streams[0].packets, N_VIDEO);
	assert_int_equal(fp->streams[0].keyframes, N_VIDEO);
	assert_int_equal(fp->streams[0].bytes, N_VIDEO * VIDEO_BYTES);
	expected_digest(0, want);
	assert_memory_equal(fp->streams[0].digest, want, ING_HASH_LEN);

	assert_string_equal(fp->streams[1].type, "audio");
	assert_string_equal(fp->streams[1].codec, "pcm_s16le");
	assert_int_equal(fp->streams[1].sample_rate, 8000);
	assert_int_equal(fp->streams[1].channels, 1);
	assert_int_equal(fp->streams[1].packets, N_AUDIO);
	expected_digest(1, want);
	assert_memory_equal(fp->streams[1].digest, want, ING_HASH_LEN);

	/* Key packets of the video stream only, with their hashes and times in µs. */
	assert_int_equal(fp->streams[0].n_keys, N_VIDEO);
	assert_int_equal(fp->streams[1].n_keys, 0);
	for (unsigned i = 0; i < N_VIDEO; i++) {
		const struct ing_key_packet *k = &fp->streams[0].keys[i];
		uint8_t buf[VIDEO_BYTES];

		assert_int_equal(k->ordinal, i);
		assert_int_equal(k->pts_us, (int64_t)i * 100000);
		assert_int_equal(k->dts_us, (int64_t)i * 100000);
		fill(buf, VIDEO_BYTES, 0, i);
		sha256(buf, VIDEO_BYTES, want);
		assert_memory_equal(k->hash, want, ING_HASH_LEN);
	}
	/* As libavformat estimates it from the NUT file: the last timestamps, 2.4 s here. */
	assert_in_range(fp->duration_us, 2000000, 2500000);
	assert_null(fp->creation_time);
	assert_null(ing_fingerprint_free(fp));
}

struct seen {
	unsigned calls;
	uint64_t next[4];
	bool in_order;
};

static void on_packet(void *opaque, const struct ing_packet_info *pkt)
{
	struct seen *s = opaque;
	uint8_t buf[AUDIO_BYTES], want[ING_HASH_LEN];
	size_t len = pkt->stream == 0 ? VIDEO_BYTES : AUDIO_BYTES;

	s->calls++;
	if (pkt->stream >= 4 || pkt->ordinal != s->next[pkt->stream]++ || pkt->size != len)
		s->in_order = false;
	fill(buf, len, pkt->stream, (unsigned)pkt->ordinal);
	sha256(buf, len, want);
	if (memcmp(want, pkt->hash, ING_HASH_LEN) || !pkt->key)
		s->in_order = false;
}

/* The daemon hashes the bytes while storing them and hands the hash over: the fingerprint is
 * the same, stream digests and all, with no second whole-file read. */
static void test_known_sha256(void **state)
{
	struct ing_fingerprint *a = run(media, NULL), *b;
	struct ing_options opts = { .limits = ING_LIMITS_INIT };
	uint8_t fake[ING_HASH_LEN];

	(void)state;
	opts.known_sha256 = a->sha256;
	b = run(media, &opts);
	assert_memory_equal(b->sha256, a->sha256, ING_HASH_LEN);
	assert_int_equal(b->n_streams, a->n_streams);
	for (unsigned i = 0; i < a->n_streams; i++) {
		assert_memory_equal(b->streams[i].digest, a->streams[i].digest, ING_HASH_LEN);
		assert_int_equal(b->streams[i].packets, a->streams[i].packets);
	}
	assert_int_equal(b->damaged, a->damaged);
	ing_fingerprint_free(b);
	/* What it is given is what it reports: the caller vouches for it (the file is not read
	 * again unless it is a transport stream, where a mismatch is -EAGAIN). */
	memset(fake, 0x5a, sizeof(fake));
	opts.known_sha256 = fake;
	b = run(media, &opts);
	assert_memory_equal(b->sha256, fake, ING_HASH_LEN);
	ing_fingerprint_free(b);
	ing_fingerprint_free(a);
}

static void test_packet_callback(void **state)
{
	struct seen s = { .in_order = true };
	struct ing_options opts = { .limits = ING_LIMITS_DEFAULT,
				    .on_packet = on_packet,
				    .opaque = &s };
	struct ing_fingerprint *fp = run(media, &opts);

	(void)state;
	assert_int_equal(s.calls, N_VIDEO + N_AUDIO);
	assert_true(s.in_order);
	ing_fingerprint_free(fp);
}

static void test_limits(void **state)
{
	struct ing_options opts = { .limits = ING_LIMITS_DEFAULT };
	struct ing_fingerprint *fp;
	uint8_t want[ING_HASH_LEN];

	(void)state;
	file_sha256(media, want);
	/* Packets: exactly the limit is fine, one more is damaged, and the count stops there. */
	opts.limits.max_packets = N_VIDEO + N_AUDIO;
	fp = run(media, &opts);
	assert_false(fp->damaged);
	ing_fingerprint_free(fp);
	opts.limits.max_packets = 10;
	fp = run(media, &opts);
	assert_true(fp->damaged);
	assert_int_equal(fp->damage_code, -E2BIG);
	assert_non_null(strstr(fp->error, "more than the limit of 10 packets"));
	assert_int_equal(fp->packets, 10);
	assert_memory_equal(fp->sha256, want, ING_HASH_LEN);
	ing_fingerprint_free(fp);

	/* Streams. */
	opts.limits = ING_LIMITS_DEFAULT;
	opts.limits.max_streams = 2;
	fp = run(media3, &opts);
	assert_true(fp->damaged);
	assert_int_equal(fp->damage_code, -E2BIG);
	assert_non_null(strstr(fp->error, "streams"));
	ing_fingerprint_free(fp);
	opts.limits.max_streams = 3;
	fp = run(media3, &opts);
	assert_false(fp->damaged);
	assert_int_equal(fp->n_streams, 3);
	ing_fingerprint_free(fp);

	/* Time: no time at all stops at the first check. */
	opts.limits = ING_LIMITS_DEFAULT;
	opts.limits.max_seconds = 0;
	fp = run(media, &opts);
	assert_true(fp->damaged);
	assert_int_equal(fp->damage_code, -ETIME);
	assert_non_null(strstr(fp->error, "longer than the limit of 0 s"));
	assert_memory_equal(fp->sha256, want, ING_HASH_LEN);
	ing_fingerprint_free(fp);

	/* Key-packet records: kept up to the limit, counted beyond; the file is fine. */
	opts.limits = ING_LIMITS_DEFAULT;
	opts.limits.max_key_packets = 5;
	fp = run(media, &opts);
	assert_false(fp->damaged);
	assert_int_equal(fp->streams[0].n_keys, 5);
	assert_int_equal(fp->streams[0].keyframes, N_VIDEO);
	assert_int_equal(fp->key_packets_dropped, N_VIDEO - 5);
	ing_fingerprint_free(fp);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void test_damaged(void **state)
{
	char path[96];
	uint8_t want[ING_HASH_LEN], *garbage;
	struct ing_fingerprint *fp;
	struct stat st;
	FILE *f;

	(void)state;
	/* Zero bytes. */
	snprintf(path, sizeof(path), "%s/empty.mp4", dir);
	write_file(path, "", 0);
	fp = run(path, NULL);
	assert_true(fp->damaged);
	assert_int_equal(fp->damage_code, -EBADMSG);
	assert_non_null(strstr(fp->error, "could not open it"));
	assert_int_equal(fp->size, 0);
	sha256("", 0, want);
	assert_memory_equal(fp->sha256, want, ING_HASH_LEN);
	assert_null(fp->container);
	assert_int_equal(fp->n_streams, 0);
	ing_fingerprint_free(fp);

	/* Garbage (seeded, so the test is the same every time). */
	garbage = malloc(100000);
	assert_non_null(garbage);
	srand(7);
	for (int i = 0; i < 100000; i++)
		garbage[i] = (uint8_t)(rand() >> 7);
	snprintf(path, sizeof(path), "%s/garbage.mkv", dir);
	write_file(path, garbage, 100000);
	fp = run(path, NULL);
	assert_true(fp->damaged);
	sha256(garbage, 100000, want);
	assert_memory_equal(fp->sha256, want, ING_HASH_LEN);
	ing_fingerprint_free(fp);
	free(garbage);

	/* Cut short in the middle of a packet: what was read is kept. */
	assert_int_equal(stat(media, &st), 0);
	snprintf(path, sizeof(path), "%s/cut.nut", dir);
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "head -c %lld '%s' > '%s'",
			 (long long)st.st_size * 2 / 3 + 5, media, path);
		assert_int_equal(system(cmd), 0);
	}
	fp = run(path, NULL);
	assert_true(fp->damaged);
	assert_true(fp->packets > 0 && fp->packets < N_VIDEO + N_AUDIO);
	file_sha256(path, want);
	assert_memory_equal(fp->sha256, want, ING_HASH_LEN);
	ing_fingerprint_free(fp);

	/* Not a regular file. */
	{
		struct ing_fingerprint *none = NULL;
		struct err_detail e;
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		assert_int_equal(ing_fingerprint_fd(fd, NULL, NULL, &none, &e), -EINVAL);
		assert_null(none);
		close(fd);
	}
	/* Text is not media. */
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	f = fopen(path, "w");
	fputs("Meeting notes\n", f);
	fclose(f);
	fp = run(path, NULL);
	assert_true(fp->damaged);
	ing_fingerprint_free(fp);
}

/* A picture is not a recording, whatever its name: a 2x2 gray PNG named as a clip. */
static void test_still(void **state)
{
	static const uint8_t png[] = {
		0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
		0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02,
		0x08, 0x00, 0x00, 0x00, 0x00, 0x57, 0xdd, 0x52, 0xf8, 0x00, 0x00, 0x00,
		0x0e, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x68, 0x68, 0x60, 0x68,
		0x68, 0x00, 0x00, 0x06, 0x06, 0x02, 0x01, 0x2c, 0xc1, 0x50, 0xd7, 0x00,
		0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
	};
	struct ing_fingerprint *fp;
	char path[96];
	json_t *o = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/still.mp4", dir);
	write_file(path, png, sizeof(png));
	fp = run(path, NULL);
	assert_true(fp->damaged);
	assert_int_equal(fp->damage_code, -EBADMSG);
	assert_string_equal(fp->container, "png_pipe");
	assert_string_equal(fp->error, "no audio or video stream: a still picture (png_pipe)");
	assert_int_equal(fp->n_streams, 1);
	assert_string_equal(fp->streams[0].codec, "png");
	assert_int_equal(fp->streams[0].packets, 1);
	assert_int_equal(ing_entry_json(fp, NULL, &o, NULL), 0);
	assert_string_equal(json_string_value(json_object_get(o, "type")), "damaged");
	assert_null(json_object_get(o, "trailing_bytes"));
	json_decref(o);
	ing_fingerprint_free(fp);
}

/* @src with @n bytes of @byte appended, as @dst. */
static void append_copy(const char *src, const char *dst, size_t n, int byte)
{
	char cmd[512];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, dst);
	assert_int_equal(system(cmd), 0);
	f = fopen(dst, "ab");
	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fputc(byte, f);
	fclose(f);
}

/* Bytes after the container's end are counted and make the file damaged; what the demuxer
 * reads is unchanged.  In Matroska (after the Segment) and MP4/MOV (after the last top-level
 * box, including fewer bytes than a box header), with zeros and with other bytes. */
static void test_trailing(void **state)
{
	static const struct {
		const char *format, *name;
		size_t n;
		int byte;
	} cases[] = {
		{ "matroska", "t.mkv", 102400, 0 }, { "matroska", "t.mkv", 102400, 0xab },
		{ "mov", "t.mov", 102400, 0 },	    { "mov", "t.mov", 102400, 0xab },
		{ "mov", "t.mov", 5, 0 },	    { "matroska", "t.mkv", 1, 0xec },
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char intact[96], path[112], want[64];
		struct ing_fingerprint *a, *b;
		json_t *o = NULL;

		snprintf(intact, sizeof(intact), "%s/%s", dir, cases[c].name);
		snprintf(path, sizeof(path), "%s/trailing-%s", dir, cases[c].name);
		mux_as(intact, 1, cases[c].format);
		a = run(intact, NULL);
		if (a->damaged)
			fail_msg("%s: %s", cases[c].name, a->error);
		assert_int_equal(a->trailing_bytes, 0);
		append_copy(intact, path, cases[c].n, cases[c].byte);
		b = run(path, NULL);
		assert_true(b->damaged);
		assert_int_equal(b->damage_code, -EBADMSG);
		assert_int_equal(b->trailing_bytes, cases[c].n);
		snprintf(want, sizeof(want), "%zu bytes after the end of the container (",
			 cases[c].n);
		if (strncmp(b->error, want, strlen(want)) != 0)
			fail_msg("%s + %zu: '%s'", cases[c].name, cases[c].n, b->error);
		assert_int_equal(b->packets, a->packets);
		for (unsigned i = 0; i < a->n_streams; i++)
			assert_memory_equal(b->streams[i].digest, a->streams[i].digest,
					    ING_HASH_LEN);
		assert_int_equal(ing_entry_json(b, NULL, &o, NULL), 0);
		assert_string_equal(json_string_value(json_object_get(o, "type")), "damaged");
		assert_int_equal(json_integer_value(json_object_get(o, "trailing_bytes")),
				 (json_int_t)cases[c].n);
		json_decref(o);
		ing_fingerprint_free(b);
		ing_fingerprint_free(a);
	}
}

/* A top-level MP4 box that says it is longer than the file: cut short, not trailing bytes. */
static void test_box_past_end(void **state)
{
	char path[96];
	uint8_t h[8];
	uint64_t off = 0, last = 0, len;
	struct stat st;
	struct ing_fingerprint *fp;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/long-box.mov", dir);
	mux_as(path, 1, "mov");
	assert_int_equal(stat(path, &st), 0);
	f = fopen(path, "r+b");
	assert_non_null(f);
	while (off < (uint64_t)st.st_size) {
		assert_int_equal(fseek(f, (long)off, SEEK_SET), 0);
		assert_int_equal(fread(h, 1, 8, f), 8);
		len = (uint64_t)h[0] << 24 | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 8 | h[3];
		assert_true(len >= 8);
		last = off;
		off += len;
	}
	len = (uint64_t)st.st_size - last + 1000;
	h[0] = (uint8_t)(len >> 24);
	h[1] = (uint8_t)(len >> 16);
	h[2] = (uint8_t)(len >> 8);
	h[3] = (uint8_t)len;
	assert_int_equal(fseek(f, (long)last, SEEK_SET), 0);
	assert_int_equal(fwrite(h, 1, 4, f), 4);
	fclose(f);
	fp = run(path, NULL);
	assert_true(fp->damaged);
	if (!strstr(fp->error, "1000 more than the file holds: the file is cut short"))
		fail_msg("%s", fp->error);
	assert_int_equal(fp->trailing_bytes, 0);
	ing_fingerprint_free(fp);
}

/* The packet callback appends to the file while it is read: a file still being written. */
static void on_packet_grow(void *opaque, const struct ing_packet_info *pkt)
{
	const char *path = opaque;
	FILE *f;

	if (pkt->ordinal != 0 || pkt->stream != 0)
		return;
	f = fopen(path, "ab");
	assert_non_null(f);
	fputc('x', f);
	fclose(f);
}

static void test_changed_while_read(void **state)
{
	char path[96], cmd[256];
	struct ing_options opts = { .limits = ING_LIMITS_DEFAULT, .on_packet = on_packet_grow };
	struct ing_fingerprint *fp = NULL;
	struct err_detail e = { 0 };
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/growing.nut", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", media, path);
	assert_int_equal(system(cmd), 0);
	opts.opaque = path;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ing_fingerprint_fd(fd, "growing.nut", &opts, &fp, &e), -EAGAIN);
	assert_null(fp);
	assert_non_null(strstr(e.msg, "changed while being read"));
	close(fd);
}

static void test_entry_json(void **state)
{
	struct ing_fingerprint *fp = run(media, NULL);
	struct ing_recording rec = { .source = ING_TIME_FILENAME,
				     .start_us = 1714521600LL * 1000000,
				     .end_us = 1714521600LL * 1000000 + 2500000 };
	char hex[2 * ING_HASH_LEN + 1];
	json_t *o = NULL, *s;
	struct err_detail e;

	(void)state;
	strcpy(rec.device, "CAM01");
	assert_int_equal(ing_entry_json(fp, &rec, &o, &e), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "v")), 1);
	assert_string_equal(json_string_value(json_object_get(o, "type")), "ingest");
	assert_int_equal(json_integer_value(json_object_get(o, "size")), (json_int_t)fp->size);
	hex_encode(fp->sha256, ING_HASH_LEN, hex);
	assert_string_equal(json_string_value(json_object_get(o, "sha256")), hex);
	assert_string_equal(json_string_value(json_object_get(o, "container")), "nut");
	assert_int_equal(json_integer_value(json_object_get(o, "duration_us")), fp->duration_us);
	assert_string_equal(json_string_value(json_object_get(o, "recorded_start")),
			    "2024-05-01T00:00:00Z");
	assert_string_equal(json_string_value(json_object_get(o, "recorded_end")),
			    "2024-05-01T00:00:02.5Z");
	assert_string_equal(json_string_value(json_object_get(o, "time_source")), "filename");
	assert_string_equal(json_string_value(json_object_get(o, "device")), "CAM01");
	assert_true(json_is_null(json_object_get(o, "officer")));
	assert_null(json_object_get(o, "error"));
	assert_null(json_object_get(o, "time_in_future"));
	s = json_array_get(json_object_get(o, "streams"), 0);
	assert_int_equal(json_integer_value(json_object_get(s, "index")), 0);
	assert_string_equal(json_string_value(json_object_get(s, "type")), "video");
	assert_string_equal(json_string_value(json_object_get(s, "codec")), "rawvideo");
	assert_int_equal(json_integer_value(json_object_get(s, "packets")), N_VIDEO);
	assert_int_equal(json_integer_value(json_object_get(s, "keyframes")), N_VIDEO);
	hex_encode(fp->streams[0].digest, ING_HASH_LEN, hex);
	assert_string_equal(json_string_value(json_object_get(s, "digest")), hex);
	assert_int_equal(json_integer_value(json_object_get(s, "width")), 16);
	json_decref(o);

	/* Without a recording time, and damaged. */
	fp->damaged = true;
	strcpy(fp->error, "bad \xff byte");
	assert_int_equal(ing_entry_json(fp, NULL, &o, &e), 0);
	assert_string_equal(json_string_value(json_object_get(o, "type")), "damaged");
	assert_string_equal(json_string_value(json_object_get(o, "error")),
			    "bad \xef\xbf\xbd byte");
	assert_true(json_is_null(json_object_get(o, "recorded_start")));
	assert_true(json_is_null(json_object_get(o, "time_source")));
	assert_true(json_is_null(json_object_get(o, "device")));
	json_decref(o);

	assert_int_equal(ing_key_packets_json(&fp->streams[0], &o), 0);
	assert_int_equal(json_array_size(o), N_VIDEO);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(o, 3), "pts_us")),
			 300000);
	json_decref(o);
	ing_fingerprint_free(fp);
}

static char *dump(const char *path)
{
	struct ing_fingerprint *fp = run(path, NULL);
	json_t *o = NULL;
	char *s;

	assert_int_equal(ing_entry_json(fp, NULL, &o, NULL), 0);
	s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	ing_fingerprint_free(fp);
	return s;
}

static void *thread_run(void *arg)
{
	return dump(arg);
}

/* Same bytes every time, from any number of threads at once (run under the sanitizers). */
static void test_concurrent(void **state)
{
	char *want = dump(media);
	pthread_t t[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_run, media), 0);
	for (int i = 0; i < 4; i++) {
		void *got;

		assert_int_equal(pthread_join(t[i], &got), 0);
		assert_string_equal(got, want);
		free(got);
	}
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intact),	     cmocka_unit_test(test_long_tag_is_cut),
		cmocka_unit_test(test_known_sha256), cmocka_unit_test(test_packet_callback),
		cmocka_unit_test(test_limits),	     cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_still),	     cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_box_past_end), cmocka_unit_test(test_changed_while_read),
		cmocka_unit_test(test_entry_json),   cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
