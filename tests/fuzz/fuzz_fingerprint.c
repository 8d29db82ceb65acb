/* libFuzzer target: the fingerprinter (ingest/fingerprint.c) on in-memory files.
 *
 * The input is written to a memfd (a regular file to fstat(), read with pread() as a stored
 * original is) and fingerprinted with small limits, so that no input stalls the fuzzer: 8
 * streams, 5,000 packets, 2 s of demuxing, 64 key-packet records.  libavformat itself is
 * Debian's, not instrumented: coverage guides through our wrapper (the AVIO callbacks, the
 * damage checks, the hash thread's TS sync check, tag handling), and the sanitizers watch our
 * side of every call.  The seeds (tests/fuzz/corpus/fingerprint/) are small clips that ffmpeg
 * made, one per container custody meets (tests/fuzz/make-seeds.sh).
 *
 * Checked beyond the sanitizers, from fingerprint.h: a memfd fingerprints (0: damage is not an
 * error; or -ENOMEM, see below); size is the input's; a damaged fingerprint has a code and a
 * reason; the entry built from it (ing_entry_json(), with a recording time from its tags)
 * canonicalises with vfy_entry_dump(), as the daemon needs every entry to. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "ingest/rectime.h"
#include "verify/entry.h"
#include "base/err.h"
#include "ingest/fingerprint.h"

static int fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ing_options opts = { .limits = { .max_streams = 8,
						.max_packets = 5000,
						.max_seconds = 2,
						.max_key_packets = 64 } };
	struct ing_fingerprint *fp = NULL;
	struct err_detail e = { 0 };
	struct ing_recording rec;
	json_t *entry = NULL;
	char *out = NULL;
	size_t len;
	int r;

	if (fd < 0) {
		fd = memfd_create("clip", MFD_CLOEXEC);
		if (fd < 0) {
			perror("fuzz_fingerprint: memfd_create");
			abort();
		}
	}
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
		perror("fuzz_fingerprint: write");
		abort();
	}
	r = ing_fingerprint_fd(fd, NULL, &opts, &fp, &e);
	/* -ENOMEM is documented, and a file can cause it: a 4 KB MP4 whose header asks for more
	 * than av_malloc() allows makes libavformat fail with ENOMEM (the first input of the
	 * corpus that does).  The daemon logs such a file as damaged ("the probe failed"). */
	if (r == -ENOMEM)
		return 0;
	if (r < 0) {
		fprintf(stderr, "fuzz_fingerprint: a memfd of %zu bytes fails: %d %s\n", size, r,
			e.msg);
		abort();
	}
	if (fp->size != size || (fp->damaged && (fp->damage_code >= 0 || !fp->error[0]))) {
		fprintf(stderr, "fuzz_fingerprint: size %llu of %zu, damaged %d code %d '%s'\n",
			(unsigned long long)fp->size, size, fp->damaged, fp->damage_code,
			fp->error);
		abort();
	}
	{
		struct ing_time_input ti = { .creation_time = fp->creation_time,
					     .duration_us = fp->duration_us,
					     .mtime_us = fp->mtime_us,
					     .name = "clip.mp4" };

		ing_recording_time(&ti, NULL, 1717200000000000, &rec);
	}
	r = ing_entry_json(fp, &rec, &entry, &e);
	if (r < 0) {
		fprintf(stderr, "fuzz_fingerprint: ing_entry_json: %s\n", e.msg);
		abort();
	}
	r = vfy_entry_dump(entry, &out, &len, &e);
	if (r < 0) {
		char *text = json_dumps(entry, JSON_COMPACT | JSON_ENSURE_ASCII);

		fprintf(stderr, "fuzz_fingerprint: its entry does not canonicalise: %s\n%s\n",
			e.msg, text ? text : "?");
		abort();
	}
	free(out);
	json_decref(entry);
	ing_fingerprint_free(fp);
	return 0;
}
