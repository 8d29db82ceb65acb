/* publish-bench-log: the log that bench/publish-bench.sh publishes.
 *
 *   publish-bench-log DIR N
 *
 * Makes DIR/log.key and a log in DIR/db (emptied first) of N small canonical entries
 * ({"i":INDEX,"type":"b","v":1}), appended in batches of 100,000 (one durable commit each), and
 * signs a checkpoint at size N.  Prints the append rate. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/err.h"
#include "verify/note.h"
#include "verify/tlog.h"

#define BATCH 100000
#define ENTRY_MAX 48

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct err_detail *e)
{
	fprintf(stderr, "publish-bench-log: %s: %s\n", what, e ? e->msg : "failed");
	exit(2);
}

int main(int argc, char **argv)
{
	struct err_detail e;
	struct vfy_signer *signer;
	struct tlog *log;
	struct iovec *iov = calloc(BATCH, sizeof(*iov));
	char *bufs = malloc((size_t)BATCH * ENTRY_MAX), *skey, *vkey, keyfile[512], db[512],
	     cmd[1100];
	uint64_t n, first;
	int signed_new;
	FILE *f;
	double t0;

	if (argc != 3 || !iov || !bufs)
		die("usage: publish-bench-log DIR N", NULL);
	n = strtoull(argv[2], NULL, 10);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", argv[1], argv[1]);
	if (system(cmd) != 0)
		die("cannot reset the directory", NULL);
	snprintf(keyfile, sizeof(keyfile), "%s/log.key", argv[1]);
	snprintf(db, sizeof(db), "%s/db", argv[1]);
	if (vfy_keygen("bench.example/publish", &skey, &vkey, &e) < 0)
		die("keygen", &e);
	f = fopen(keyfile, "w");
	if (!f)
		die("cannot write the key", NULL);
	fprintf(f, "%s\n", skey);
	fclose(f);
	chmod(keyfile, 0600);
	if (vfy_signer_parse(skey, strlen(skey), &signer, &e) < 0)
		die("signer", &e);
	vfy_secret_free(skey);
	if (tlog_create(db, "bench.example/publish", keyfile, vkey, &e) < 0 ||
	    tlog_open(db, TLOG_WRITE, &log, &e) < 0)
		die("open", &e);
	printf("%s\n", vkey);
	free(vkey);
	t0 = now();
	for (uint64_t done = 0; done < n;) {
		uint64_t k = n - done < BATCH ? n - done : BATCH;

		for (uint64_t i = 0; i < k; i++) {
			char *b = bufs + i * ENTRY_MAX;
			int len = snprintf(b, ENTRY_MAX,
					   "{\"i\":%" PRIu64 ",\"type\":\"b\",\"v\":1}", done + i);

			iov[i] = (struct iovec){ b, (size_t)len };
		}
		if (tlog_append(log, iov, k, &first, &e) < 0)
			die("append", &e);
		done += k;
	}
	fprintf(stderr, "appended %" PRIu64 " entries at %.0f entries/s\n", n, n / (now() - t0));
	if (tlog_checkpoint_sign(log, signer, &signed_new, &e) < 0)
		die("checkpoint", &e);
	vfy_signer_free(signer);
	tlog_free(log);
	free(iov);
	free(bufs);
	return 0;
}
