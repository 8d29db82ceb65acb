/* custody-probe: fingerprints one file for custodyd, in a process of its own.
 *
 * FFmpeg's demuxers parse hostile bytes; a crash or a hang in one must cost one file, not the
 * daemon.  So custodyd spawns this program per file with the file open read-only on fd 0 and a
 * pipe on fd 1, and reads one JSON object back:
 *
 *   {"entry": {the ingest/damaged fields of ing_entry_json(), recording time included},
 *    "keys": [[stream, "hex sha256", pts_us|null, ordinal], …],   video key packets
 *    "recorded_end_us": N|null, "future": bool}
 *
 * The daemon adds the fields only it knows (zone, name, ingested_at, deadline, storage,
 * stored).  Exit 0 when a fingerprint was made (damaged files included), 2 on a usage or
 * system error, with one line on stderr.  custodyd kills it when it runs past probe_timeout.
 * Not for people: `custody-verify fingerprint` is the offline tool. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "deadline.h"
#include "err.h"
#include "fingerprint.h"

static const char *arg_name;
static const char *arg_device_clock;
static const char *arg_name_pattern;
static int64_t arg_clock_skew_us = 600LL * 1000000;
static struct ing_limits arg_limits = ING_LIMITS_INIT;

static int parse_sha256(const char *hex, uint8_t out[ING_HASH_LEN])
{
	if (strlen(hex) != 2 * ING_HASH_LEN || strspn(hex, "0123456789abcdef") != 2 * ING_HASH_LEN)
		return -EINVAL;
	for (int i = 0; i < ING_HASH_LEN; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int fail(const char *what, const struct err_detail *e)
{
	fprintf(stderr, "custody-probe: %s: %s\n", what, e->msg);
	return 2;
}

static json_t *keys_json(const struct ing_fingerprint *fp)
{
	json_t *arr = json_array();

	for (unsigned s = 0; arr && s < fp->n_streams; s++) {
		const struct ing_stream *st = &fp->streams[s];

		for (size_t k = 0; k < st->n_keys; k++) {
			char hex[2 * ING_HASH_LEN + 1];
			json_t *pts;

			ing_hex(st->keys[k].hash, hex);
			pts = st->keys[k].pts_us == ING_NOTS ? json_null()
							      : json_integer(st->keys[k].pts_us);
			if (json_array_append_new(arr, json_pack("[I, s, o, I]", (json_int_t)st->index,
								 hex, pts,
								 (json_int_t)st->keys[k].ordinal)) < 0) {
				json_decref(arr);
				return NULL;
			}
		}
	}
	return arr;
}

int main(int argc, char **argv)
{
	enum { OPT_NAME = 256, OPT_CLOCK, OPT_PATTERN, OPT_SKEW, OPT_STREAMS, OPT_PACKETS, OPT_SECONDS,
	       OPT_SHA256 };
	static const struct option opts[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "device-clock", required_argument, NULL, OPT_CLOCK },
		{ "name-pattern", required_argument, NULL, OPT_PATTERN },
		{ "clock-skew-us", required_argument, NULL, OPT_SKEW },
		{ "max-streams", required_argument, NULL, OPT_STREAMS },
		{ "max-packets", required_argument, NULL, OPT_PACKETS },
		{ "max-seconds", required_argument, NULL, OPT_SECONDS },
		{ "sha256", required_argument, NULL, OPT_SHA256 },
		{ 0 },
	};
	struct ing_tz *tz = NULL;
	struct ing_name_pattern *pattern = NULL;
	struct ing_fingerprint *fp = NULL;
	struct ing_options options = { 0 };
	uint8_t known[ING_HASH_LEN];
	struct ing_time_rules rules = { 0 };
	struct ing_time_input in = { 0 };
	struct ing_recording rec;
	struct err_detail e;
	json_t *entry = NULL, *out;
	const char *base;
	char *text;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_NAME: arg_name = optarg; break;
		case OPT_CLOCK: arg_device_clock = optarg; break;
		case OPT_PATTERN: arg_name_pattern = optarg; break;
		case OPT_SKEW: arg_clock_skew_us = strtoll(optarg, NULL, 10); break;
		case OPT_STREAMS: arg_limits.max_streams = (unsigned)strtoul(optarg, NULL, 10); break;
		case OPT_PACKETS: arg_limits.max_packets = strtoull(optarg, NULL, 10); break;
		case OPT_SECONDS: arg_limits.max_seconds = (unsigned)strtoul(optarg, NULL, 10); break;
		case OPT_SHA256:
			/* custodyd hashed the bytes while storing them: no second whole-file hash. */
			if (parse_sha256(optarg, known) < 0) {
				fprintf(stderr, "custody-probe: --sha256 needs 64 hex digits\n");
				return 2;
			}
			options.known_sha256 = known;
			break;
		default:
			fprintf(stderr, "custody-probe: usage: custody-probe [--name NAME] "
					"[--device-clock TZ] [--name-pattern P] < FILE\n");
			return 2;
		}
	}
	if (arg_device_clock && (r = ing_tz_load(arg_device_clock, &tz, &e)) < 0)
		return fail("device_clock", &e);
	if (arg_name_pattern && (r = ing_name_pattern_parse(arg_name_pattern, &pattern, &e)) < 0)
		return fail("name_pattern", &e);

	options.limits = arg_limits; /* --max-* may come after --sha256 */
	r = ing_fingerprint_fd(STDIN_FILENO, arg_name, &options, &fp, &e);
	if (r < 0)
		return fail("fingerprint", &e);

	base = arg_name ? strrchr(arg_name, '/') : NULL;
	base = base ? base + 1 : arg_name;
	rules = (struct ing_time_rules){ .device_clock = tz, .name_pattern = pattern,
					 .clock_skew_us = arg_clock_skew_us };
	in = (struct ing_time_input){ .creation_time = fp->creation_time,
				      .duration_us = fp->duration_us,
				      .mtime_us = fp->mtime_us,
				      .name = base };
	{
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		ing_recording_time(&in, &rules, (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000,
				   &rec);
	}
	r = ing_entry_json(fp, &rec, &entry, &e);
	if (r < 0)
		return fail("entry", &e);
	out = json_pack("{s:o, s:o*, s:o, s:b}", "entry", entry, "keys", keys_json(fp),
			"recorded_end_us",
			rec.source == ING_TIME_NONE ? json_null() : json_integer(rec.end_us),
			"future", rec.future);
	text = out ? json_dumps(out, JSON_COMPACT) : NULL;
	if (!text) {
		fprintf(stderr, "custody-probe: out of memory\n");
		return 2;
	}
	if (fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) == EOF) {
		fprintf(stderr, "custody-probe: cannot write the result: %s\n", strerror(errno));
		return 2;
	}
	free(text);
	json_decref(out);
	ing_fingerprint_free(fp);
	ing_name_pattern_free(pattern);
	ing_tz_free(tz);
	return 0;
}
