/* verify/custody-verify/fingerprint.c: `custody-verify fingerprint FILE`, a file's fingerprint
 * exactly as an `ingest` (or `damaged`) log entry would hold it (docs/log.md), with no daemon and
 * no database.
 *
 * DESIGN
 * The fields come from ing_entry_json(), the function the daemon uses, and --json prints them
 * through vfy_entry_dump(), the canonical writer the log uses, so the bytes are those of the
 * entry minus what only the daemon knows (zone, name, ingested_at, deadline, storage, stored).
 * The zone's settings that change the recording time can be given (--device-clock,
 * --name-pattern, --clock-skew); without them the camera clock is taken as UTC and no name
 * pattern applies.  "Now" for the future check is this machine's clock.
 *
 * --key-packets and --packets add what the entry leaves out: the key packets the daemon indexes,
 * and every packet's hash (kept in memory: this is the offline tool, not the daemon), so that
 * anyone can compare them with `ffprobe -show_packets -show_data_hash sha256`.
 *
 * Exit status: 0 intact, 1 damaged (everything that could be read is still printed), 2 usage or
 * system error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "ingest/tz.h"
#include "ingest/namepattern.h"
#include "ingest/rectime.h"
#include "verify/entry.h"
#include "base/err.h"
#include "base/hex.h"
#include "base/i18n.h"
#include "ingest/fingerprint.h"
#include "verify/custody-verify/fingerprint.h"

static void help(void)
{
	/* Translators: custody-verify fingerprint --help.  Keep the options, the placeholders
	 * and the pattern example as they are. */
	fputs(
	    _("Usage: custody-verify fingerprint FILE [OPTIONS]\n"
	      "Print FILE's fingerprint as custody's ingest log entry would hold it: size,\n"
	      "SHA-256, container, duration, recording time, and per stream the codec, packet\n"
	      "count and digest (SHA-256 over the SHA-256 of every packet: docs/log.md).\n"
	      "\n"
	      "Options:\n"
	      "  --json               one JSON object on stdout, in the entry's canonical form\n"
	      "  --device-clock TZ    the zone's device_clock: the time zone the cameras' clocks\n"
	      "                       keep (e.g. Asia/Shanghai); default UTC\n"
	      "  --name-pattern P     the zone's name_pattern, e.g.\n"
	      "                       '{device}_{officer}_{start:%Y%m%d%H%M%S}_{seq}'\n"
	      "  --clock-skew D       the allowed clock skew (s, m, h, d); default 10m\n"
	      "  --key-packets        add each video stream's key packets (hash, pts, dts)\n"
	      "  --packets            add every packet's SHA-256 (--json: per stream;\n"
	      "                       otherwise one line per packet)\n"
	      "  --help\n"
	      "Give --device-clock and --name-pattern as the zone's configuration has them to\n"
	      "get the recording time the daemon would record.\n"
	      "Exit status: 0 intact, 1 damaged (what could be read is still printed), 2 usage\n"
	      "or system error.\n"),
	    stdout);
}

__attribute__((format(printf, 1, 2))) static int usage(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, _("custody-verify fingerprint: %s (custody-verify fingerprint --help)\n"),
		msg);
	return 2;
}

static int parse_duration_us(const char *s, int64_t *ret)
{
	char *end;
	long long v;
	int64_t unit;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -EINVAL;
	switch (*end) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return -EINVAL;
	}
	if (end[1] || v > INT64_MAX / 1000000 / unit)
		return -EINVAL;
	*ret = (int64_t)v * unit * 1000000;
	return 0;
}

/* --packets: every packet's hash, per stream. */
struct packets {
	bool json;
	json_t **lists; /* per stream index */
	unsigned n;
	bool failed;
};

static void on_packet(void *opaque, const struct ing_packet_info *pkt)
{
	struct packets *p = opaque;
	char hex[2 * ING_HASH_LEN + 1];

	hex_encode(pkt->hash, ING_HASH_LEN, hex);
	if (!p->json) {
		/* A listing to compare with ffprobe's, like the entry itself: not translated
		 * (docs/i18n.md). */
		printf("packet stream %u #%" PRIu64 " %s %zu bytes%s%s\n", pkt->stream,
		       pkt->ordinal, hex, pkt->size, pkt->key ? " key" : "",
		       pkt->discard ? " discard" : "");
		return;
	}
	if (pkt->stream >= p->n) {
		json_t **lists = realloc(p->lists, (pkt->stream + 1) * sizeof(*lists));

		if (!lists) {
			p->failed = true;
			return;
		}
		for (unsigned i = p->n; i <= pkt->stream; i++)
			lists[i] = json_array();
		p->lists = lists;
		p->n = pkt->stream + 1;
	}
	if (!p->lists[pkt->stream] ||
	    json_array_append_new(p->lists[pkt->stream], json_string(hex)))
		p->failed = true;
}

static void packets_done(struct packets *p)
{
	for (unsigned i = 0; i < p->n; i++)
		json_decref(p->lists[i]);
	free(p->lists);
}

static const char *ts_text(int64_t us, char out[24])
{
	if (us == ING_NOTS)
		return "unknown";
	snprintf(out, 24, "%" PRId64, us);
	return out;
}

static void print_us(const char *label, int64_t us)
{
	if (us == ING_NOTS)
		printf(_("%s: unknown\n"), label);
	else
		printf(_("%s: %s%" PRId64 ".%06" PRId64 " s\n"), label, us < 0 ? "-" : "",
		       (us < 0 ? -us : us) / 1000000, (us < 0 ? -us : us) % 1000000);
}

static void print_human(const char *path, const struct ing_fingerprint *fp,
			const struct ing_recording *rec)
{
	char hex[2 * ING_HASH_LEN + 1], t1[ING_RFC3339_MAX], t2[ING_RFC3339_MAX];

	/* Translators: custody-verify fingerprint's text output, one "label: value" a line;
	 * times are UTC (RFC 3339), tag and source names stay as the file has them. */
	hex_encode(fp->sha256, ING_HASH_LEN, hex);
	printf(_("file: %s\n"), path);
	printf(_("size: %" PRIu64 " bytes\n"), fp->size);
	printf("sha256: %s\n", hex);
	if (fp->container)
		printf(_("container: %s (probe score %d)\n"), fp->container, fp->probe_score);
	else
		printf(_("container: none recognised\n"));
	print_us(_("duration"), fp->duration_us);
	if (rec->source == ING_TIME_NONE || ing_format_utc(rec->start_us, t1) < 0 ||
	    ing_format_utc(rec->end_us, t2) < 0)
		printf(_("recorded: unknown\n"));
	else if (rec->future)
		printf(_("recorded: %s to %s (time source: %s) IN THE FUTURE beyond the allowed "
			 "clock skew\n"),
		       t1, t2, ing_time_source_name(rec->source));
	else
		printf(_("recorded: %s to %s (time source: %s)\n"), t1, t2,
		       ing_time_source_name(rec->source));
	printf(_("device: %s\n"), rec->device[0] ? rec->device : _("unknown"));
	printf(_("officer: %s\n"), rec->officer[0] ? rec->officer : _("unknown"));
	if (fp->creation_time)
		printf(_("tag %s: %s\n"), "creation_time", fp->creation_time);
	if (fp->make)
		printf(_("tag %s: %s\n"), "make", fp->make);
	if (fp->model)
		printf(_("tag %s: %s\n"), "model", fp->model);
	if (fp->serial)
		printf(_("tag %s: %s\n"), "serial", fp->serial);
	if (fp->location)
		printf(_("tag %s: %s\n"), "location", fp->location);
	for (unsigned i = 0; i < fp->n_streams; i++) {
		const struct ing_stream *st = &fp->streams[i];

		hex_encode(st->digest, ING_HASH_LEN, hex);
		/* Translators: "stream 0: video h264 (High) 160x120, 40 packets, 4 key, digest
		 * HEX"; the type, codec and profile are FFmpeg's names. */
		printf(_("stream %u: %s %s"), st->index, st->type, st->codec);
		if (st->profile[0])
			printf(" (%s)", st->profile);
		if (!strcmp(st->type, "video"))
			printf(" %dx%d", st->width, st->height);
		else if (!strcmp(st->type, "audio"))
			printf(_(" %d Hz %d ch"), st->sample_rate, st->channels);
		printf(_(", %" PRIu64 " packets, %" PRIu64 " key, digest %s\n"), st->packets,
		       st->keyframes, hex);
	}
	printf(_("packets: %" PRIu64 "\n"), fp->packets);
	if (fp->damaged)
		printf(_("damaged: %s\n"), fp->error);
}

static int add_extras(json_t *obj, const struct ing_fingerprint *fp, bool keys,
		      const struct packets *p)
{
	json_t *streams = json_object_get(obj, "streams");

	for (unsigned i = 0; i < fp->n_streams; i++) {
		json_t *st = json_array_get(streams, i);

		if (keys && !strcmp(fp->streams[i].type, "video")) {
			json_t *k;

			if (ing_key_packets_json(&fp->streams[i], &k) < 0 ||
			    json_object_set_new(st, "key_packets", k) < 0)
				return -ENOMEM;
		}
		if (p->json &&
		    json_object_set_new(st, "packet_hashes",
					i < p->n && p->lists[i] ? json_incref(p->lists[i])
								: json_array()) < 0)
			return -ENOMEM;
	}
	if (keys && fp->key_packets_dropped &&
	    json_object_set_new(obj, "key_packets_dropped",
				json_integer((json_int_t)fp->key_packets_dropped)) < 0)
		return -ENOMEM;
	return 0;
}

int vfy_cmd_fingerprint(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_CLOCK, OPT_PATTERN, OPT_SKEW, OPT_KEYS, OPT_PACKETS };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "device-clock", required_argument, NULL, OPT_CLOCK },
		{ "name-pattern", required_argument, NULL, OPT_PATTERN },
		{ "clock-skew", required_argument, NULL, OPT_SKEW },
		{ "key-packets", no_argument, NULL, OPT_KEYS },
		{ "packets", no_argument, NULL, OPT_PACKETS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *arg_clock = NULL, *arg_pattern = NULL, *path, *name;
	bool arg_json = false, arg_keys = false, arg_packets = false;
	struct ing_tz *clock = NULL;
	struct ing_name_pattern *pattern = NULL;
	struct ing_fingerprint *fp = NULL;
	struct ing_options fopts = { .limits = ING_LIMITS_INIT };
	struct ing_time_rules rules = { .clock_skew_us = 600 * 1000000LL };
	struct ing_recording rec;
	struct packets packets = { 0 };
	struct err_detail e = { 0 };
	struct timespec now;
	auto_close int fd = -1;
	json_t *obj = NULL;
	int c, r, status = 2;

	opterr = 0; /* our own one-line message instead of getopt's */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			arg_json = true;
			break;
		case OPT_CLOCK:
			arg_clock = optarg;
			break;
		case OPT_PATTERN:
			arg_pattern = optarg;
			break;
		case OPT_SKEW:
			if (parse_duration_us(optarg, &rules.clock_skew_us) < 0)
				return usage(_("--clock-skew '%s' is not a duration like 10m"),
					     optarg);
			break;
		case OPT_KEYS:
			arg_keys = true;
			break;
		case OPT_PACKETS:
			arg_packets = true;
			break;
		case 'h':
			help();
			return 0;
		case ':':
			return usage(_("option '%s' needs a value"), argv[optind - 1]);
		default:
			return usage(_("unknown option '%s'"), argv[optind - 1]);
		}
	}
	/* --json is for programs: messages in English in every locale (docs/i18n.md). */
	if (arg_json)
		setlocale(LC_MESSAGES, "C");
	if (argc - optind != 1)
		return usage("%s", _("expected one media file"));
	path = argv[optind];
	name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	if (ing_tz_load(arg_clock, &clock, &e) < 0) {
		fprintf(stderr, "custody-verify fingerprint: --device-clock: %s\n", e.msg);
		return 2;
	}
	rules.device_clock = clock;
	if (arg_pattern) {
		if (ing_name_pattern_parse(arg_pattern, &pattern, &e) < 0) {
			fprintf(stderr, "custody-verify fingerprint: --name-pattern '%s': %s\n",
				arg_pattern, e.msg);
			goto out;
		}
		rules.name_pattern = pattern;
	}

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		fprintf(stderr, _("custody-verify fingerprint: cannot read '%s': %s\n"), path,
			strerror(errno));
		goto out;
	}
	if (arg_packets) {
		packets.json = arg_json;
		fopts.on_packet = on_packet;
		fopts.opaque = &packets;
	}
	r = ing_fingerprint_fd(fd, name, &fopts, &fp, &e);
	if (r < 0) {
		fprintf(stderr, "custody-verify fingerprint: '%s': %s\n", path,
			r == -EINVAL ? _("not a regular file") : e.msg);
		goto out;
	}
	if (packets.failed) {
		fprintf(stderr, _("custody-verify fingerprint: out of memory for --packets\n"));
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	ing_recording_time(&(struct ing_time_input){ .creation_time = fp->creation_time,
						     .duration_us = fp->duration_us,
						     .mtime_us = fp->mtime_us,
						     .name = name },
			   &rules, (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000, &rec);

	if (arg_json) {
		auto_free char *text = NULL;
		size_t len;

		if (ing_entry_json(fp, &rec, &obj, &e) < 0 ||
		    add_extras(obj, fp, arg_keys, &packets) < 0) {
			fprintf(stderr, _("custody-verify fingerprint: out of memory\n"));
			goto out;
		}
		/* With --packets (or --keys) the object can pass the entry limit (VFY_ENTRY_MAX);
		 * it is not an entry then, and jansson's sorted compact form is just as readable.
		 */
		if (vfy_entry_dump(obj, &text, &len, &e) == 0) {
			puts(text);
		} else if (e.code == -E2BIG) {
			char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);

			if (!s) {
				fprintf(stderr, _("custody-verify fingerprint: out of memory\n"));
				goto out;
			}
			puts(s);
			free(s);
		} else {
			fprintf(stderr, "custody-verify fingerprint: %s\n", e.msg);
			goto out;
		}
	} else {
		print_human(path, fp, &rec);
		if (arg_keys) {
			for (unsigned i = 0; i < fp->n_streams; i++)
				for (size_t k = 0; k < fp->streams[i].n_keys; k++) {
					const struct ing_key_packet *kp = &fp->streams[i].keys[k];
					char hex[2 * ING_HASH_LEN + 1], pts[24], dts[24];

					hex_encode(kp->hash, ING_HASH_LEN, hex);
					printf("key packet stream %u #%" PRIu64
					       " pts_us %s dts_us %s %s\n",
					       i, kp->ordinal, ts_text(kp->pts_us, pts),
					       ts_text(kp->dts_us, dts), hex);
				}
		}
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, _("custody-verify fingerprint: writing the output: %s\n"),
			strerror(errno));
		goto out;
	}
	if (fp->damaged) {
		fprintf(stderr, _("custody-verify fingerprint: '%s' is damaged: %s\n"), path,
			fp->error);
		status = 1;
	} else {
		status = 0;
	}
out:
	json_decref(obj);
	packets_done(&packets);
	ing_fingerprint_free(fp);
	ing_name_pattern_free(pattern);
	ing_tz_free(clock);
	return status;
}
