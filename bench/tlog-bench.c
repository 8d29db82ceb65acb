/* tlog-bench: the log's figures for bench/RESULTS.md.
 *
 *   tlog-bench DIR [MAX_LEAVES]
 *
 * 1. Append throughput of 300-byte entries in batches of 1, 100 and 10,000, each batch one
 *    durable commit, against the same puts into a bare LMDB table with the same flags and
 *    commits but no Merkle hashing (the storage floor: what LMDB alone costs), as a ratio.
 * 2. The same with canonicalisation (vfy_entry_canonicalize) of each entry first.
 * 3. Inclusion proof generation (tlog_inclusion: a read txn and O(log n) lookups) and
 *    verification (merkle_verify_inclusion) at 1M and 10M leaves, median and p99 over 10,000
 *    random indexes.
 * 4. LMDB bytes per entry beyond the entry bytes.
 * DIR should be on the disk the log would live on; it is emptied first. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "verify/entry.h"
#include "base/err.h"
#include "verify/merkle.h"
#include "verify/note.h"
#include "verify/tlog.h"

#define ENTRY_BYTES 300

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct err_detail *e)
{
	fprintf(stderr, "tlog-bench: %s: %s\n", what, e ? e->msg : strerror(errno));
	exit(2);
}

/* A 300-byte canonical entry shaped like an ingest entry. */
static size_t make_entry(uint64_t i, char *buf)
{
	int n =
	    snprintf(buf, ENTRY_BYTES + 1,
		     "{\"device\":\"cam-%03u\",\"ingested_at\":\"2026-11-28T07:00:00Z\","
		     "\"name\":\"CAM%03u_%08" PRIu64 ".MP4\",\"sha256\":\"%016" PRIx64 "%016" PRIx64
		     "%016" PRIx64 "%016" PRIx64 "\",\"size\":%" PRIu64 ",\"type\":\"ingest\","
		     "\"v\":1,\"zone\":\"dock\",\"x\":\"",
		     (unsigned)(i % 64), (unsigned)(i % 64), i,
		     (uint64_t)(i * 0x9e3779b97f4a7c15ULL), i, ~i, i ^ 0x5555, i * 4096 + 17);
	while (n < ENTRY_BYTES - 2)
		buf[n++] = 'x';
	buf[n++] = '"';
	buf[n++] = '}';
	buf[n] = '\0';
	return (size_t)n;
}

static void fresh_dir(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	if (system(cmd) != 0)
		die("cannot reset the bench directory", NULL);
}

static struct tlog *fresh_log(const char *dir, struct vfy_signer **ret_signer)
{
	struct err_detail e;
	char *skey, *vkey, keyfile[512], db[512];
	struct tlog *log;
	FILE *f;

	fresh_dir(dir);
	snprintf(keyfile, sizeof(keyfile), "%s/key", dir);
	snprintf(db, sizeof(db), "%s/db", dir);
	if (vfy_keygen("bench.example/log", &skey, &vkey, &e) < 0)
		die("keygen", &e);
	f = fopen(keyfile, "w");
	fprintf(f, "%s\n", skey);
	fclose(f);
	chmod(keyfile, 0600);
	if (ret_signer && vfy_signer_parse(skey, strlen(skey), ret_signer, &e) < 0)
		die("signer", &e);
	vfy_secret_free(skey);
	if (tlog_create(db, "bench.example/log", keyfile, vkey, &e) < 0 ||
	    tlog_open(db, TLOG_WRITE, &log, &e) < 0)
		die("open", &e);
	free(vkey);
	return log;
}

static double bench_tlog_append(const char *dir, uint64_t n, uint64_t batch, int canonicalize)
{
	struct tlog *log = fresh_log(dir, NULL);
	struct iovec *iov = calloc(batch, sizeof(*iov));
	char *bufs = malloc(batch * (ENTRY_BYTES + 1));
	char **canon = calloc(batch, sizeof(*canon));
	struct err_detail e;
	uint64_t first;
	double t0 = now();

	for (uint64_t done = 0; done < n; done += batch) {
		for (uint64_t i = 0; i < batch; i++) {
			char *b = bufs + i * (ENTRY_BYTES + 1);
			size_t len = make_entry(done + i, b);

			if (canonicalize) {
				if (vfy_entry_canonicalize(b, len, &canon[i], &len, &e) < 0)
					die("canonicalize", &e);
				b = canon[i];
			}
			iov[i] = (struct iovec){ b, len };
		}
		if (tlog_append(log, iov, batch, &first, &e) < 0)
			die("append", &e);
		if (canonicalize)
			for (uint64_t i = 0; i < batch; i++)
				free(canon[i]);
	}
	double rate = n / (now() - t0);

	tlog_free(log);
	free(iov);
	free(bufs);
	free(canon);
	return rate;
}

/* The peer: the same entries put into a bare LMDB table, same commit pattern, no hashing. */
static double bench_lmdb_append(const char *dir, uint64_t n, uint64_t batch)
{
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;
	char buf[ENTRY_BYTES + 1];
	double t0;

	fresh_dir(dir);
	mdb_env_create(&env);
	mdb_env_set_maxdbs(env, 1);
	mdb_env_set_mapsize(env, (size_t)8 << 30);
	if (mdb_env_open(env, dir, MDB_NOTLS, 0640) || mdb_txn_begin(env, NULL, 0, &txn) ||
	    mdb_dbi_open(txn, "entries", MDB_CREATE | MDB_INTEGERKEY, &dbi) || mdb_txn_commit(txn))
		die("lmdb open", NULL);
	t0 = now();
	for (uint64_t done = 0; done < n; done += batch) {
		mdb_txn_begin(env, NULL, 0, &txn);
		for (uint64_t i = 0; i < batch; i++) {
			size_t key = done + i;
			MDB_val k = { sizeof(key), &key }, v = { make_entry(key, buf), buf };

			if (mdb_put(txn, dbi, &k, &v, MDB_APPEND))
				die("lmdb put", NULL);
		}
		if (mdb_txn_commit(txn))
			die("lmdb commit", NULL);
	}
	double rate = n / (now() - t0);

	mdb_env_close(env);
	return rate;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void bench_proofs(struct tlog *log, uint64_t size)
{
	enum { SAMPLES = 10000 };
	static double gen[SAMPLES], ver[SAMPLES];
	uint8_t proof[MERKLE_MAX_PROOF][VFY_HASH_LEN], root[VFY_HASH_LEN], leaf[VFY_HASH_LEN];
	struct err_detail e;
	size_t n;

	if (tlog_root(log, size, root, &e) < 0)
		die("root", &e);
	srand(42);
	for (int s = 0; s < SAMPLES; s++) {
		uint64_t i = (((uint64_t)rand() << 31) ^ (uint64_t)rand()) % size;
		double t0, t1, t2;

		if (tlog_leaf_hash(log, i, leaf, &e) < 0)
			die("leaf", &e);
		t0 = now();
		if (tlog_inclusion(log, i, size, proof, &n, &e) < 0)
			die("inclusion", &e);
		t1 = now();
		if (merkle_verify_inclusion(i, size, leaf, (const uint8_t(*)[VFY_HASH_LEN])proof, n,
					    root, &e) < 0)
			die("verify", &e);
		t2 = now();
		gen[s] = (t1 - t0) * 1e6;
		ver[s] = (t2 - t1) * 1e6;
	}
	qsort(gen, SAMPLES, sizeof(double), cmp_double);
	qsort(ver, SAMPLES, sizeof(double), cmp_double);
	printf("inclusion proof at %" PRIu64 " leaves (%zu hashes): generate median %.2f us p99 "
	       "%.2f us; verify median %.2f us p99 %.2f us\n",
	       size, n, gen[SAMPLES / 2], gen[SAMPLES * 99 / 100], ver[SAMPLES / 2],
	       ver[SAMPLES * 99 / 100]);
}

static void bench_size(const char *dir, uint64_t max)
{
	struct tlog *log = fresh_log(dir, NULL);
	enum { BATCH = 10000 };
	static struct iovec iov[BATCH];
	static char bufs[BATCH][ENTRY_BYTES + 1];
	struct err_detail e;
	uint64_t first, done = 0, entry_bytes = 0;
	uint64_t marks[] = { 1000000, 10000000 };
	char path[600];
	struct stat st;
	MDB_env *env;
	MDB_envinfo info;
	MDB_stat mst;
	double t0 = now();

	for (int m = 0; m < 2 && marks[m] <= max; m++) {
		while (done < marks[m]) {
			for (int i = 0; i < BATCH; i++) {
				iov[i] = (struct iovec){ bufs[i], make_entry(done + i, bufs[i]) };
				entry_bytes += iov[i].iov_len;
			}
			if (tlog_append(log, iov, BATCH, &first, &e) < 0)
				die("append", &e);
			done += BATCH;
		}
		printf("built %" PRIu64 " leaves in %.1f s\n", done, now() - t0);
		bench_proofs(log, done);
		/* Bytes the database uses: LMDB's last used page, times the page size. */
		snprintf(path, sizeof(path), "%s/db", dir);
		mdb_env_create(&env);
		mdb_env_set_maxdbs(env, 4);
		mdb_env_open(env, path, MDB_RDONLY | MDB_NOTLS, 0);
		mdb_env_info(env, &info);
		mdb_env_stat(env, &mst);
		mdb_env_close(env);
		snprintf(path, sizeof(path), "%s/db/data.mdb", dir);
		stat(path, &st);
		printf("storage at %" PRIu64 " leaves: %.1f bytes/entry beyond the %.1f-byte entry "
		       "(used pages %zu x %u)\n",
		       done, ((double)(info.me_last_pgno + 1) * mst.ms_psize - entry_bytes) / done,
		       (double)entry_bytes / done, info.me_last_pgno + 1, mst.ms_psize);
	}
	tlog_free(log);
}

int main(int argc, char **argv)
{
	static const uint64_t batches[][2] = { { 1, 2000 }, { 100, 200000 }, { 10000, 1000000 } };
	const char *dir;
	uint64_t max = 10000000;

	if (argc < 2) {
		fprintf(stderr, "usage: tlog-bench DIR [MAX_LEAVES]\n");
		return 2;
	}
	dir = argv[1];
	if (argc > 2)
		max = strtoull(argv[2], NULL, 10);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int b = 0; b < 3; b++) {
		uint64_t batch = batches[b][0], n = batches[b][1];
		double ours = bench_tlog_append(dir, n, batch, 0);
		double canon = bench_tlog_append(dir, n, batch, 1);
		double peer = bench_lmdb_append(dir, n, batch);

		printf("append batch %" PRIu64 " (%" PRIu64 " entries of %d bytes): tlog %.0f/s, "
		       "canonicalise+tlog %.0f/s, bare LMDB %.0f/s, ratio tlog/LMDB %.2f\n",
		       batch, n, ENTRY_BYTES, ours, canon, peer, ours / peer);
	}
	bench_size(dir, max);
	fresh_dir(dir);
	return 0;
}
