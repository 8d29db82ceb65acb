/* Unit tests of the LMDB log: appends in batches, roots and proofs at every past size against a
 * root recomputed from the stored entries, reopening, checkpoints, proof files, map growth,
 * the writer lock and the error paths.  Each test gets a fresh mkdtemp() directory. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "verify/entry.h"
#include "verify/merkle.h"
#include "verify/note.h"
#include "verify/proof.h"
#include "verify/tlog.h"

struct fixture {
	char dir[64];
	char db[96];
	char keyfile[96];
	char *vkey;
	struct vfy_signer *signer;
};

static void rm_rf(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct err_detail e;
	char *skey = NULL;
	FILE *f;

	strcpy(fx->dir, "/tmp/custody-tlog-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/db", fx->dir);
	snprintf(fx->keyfile, sizeof(fx->keyfile), "%s/log.key", fx->dir);
	assert_int_equal(vfy_keygen("test.example/log", &skey, &fx->vkey, &e), 0);
	assert_int_equal(vfy_signer_parse(skey, strlen(skey), &fx->signer, &e), 0);
	f = fopen(fx->keyfile, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", skey);
	fclose(f);
	chmod(fx->keyfile, 0600);
	vfy_secret_free(skey);
	assert_int_equal(tlog_create(fx->db, "test.example/log", fx->keyfile, fx->vkey, &e), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	rm_rf(fx->dir);
	vfy_signer_free(fx->signer);
	free(fx->vkey);
	free(fx);
	return 0;
}

static size_t make_entry(uint64_t i, char *buf, size_t cap)
{
	/* ~300 bytes, like an ingest entry; content depends on i so every leaf differs. */
	return (size_t)snprintf(
	    buf, cap,
	    "{\"device\":\"cam-%03llu\",\"name\":\"clip-%llu.mp4\",\"pad\":\"%0200llu\","
	    "\"sha256\":\"%064llx\",\"type\":\"test\",\"v\":1}",
	    (unsigned long long)(i % 997), (unsigned long long)i, (unsigned long long)i,
	    (unsigned long long)i * 2654435761ULL);
}

static void append_range(struct tlog *log, uint64_t from, uint64_t n)
{
	struct iovec *iov = calloc(n, sizeof(*iov));
	struct err_detail e;
	uint64_t first;

	for (uint64_t i = 0; i < n; i++) {
		iov[i].iov_base = malloc(400);
		iov[i].iov_len = make_entry(from + i, iov[i].iov_base, 400);
	}
	assert_int_equal(tlog_append(log, iov, n, &first, &e), 0);
	assert_int_equal(first, from);
	for (uint64_t i = 0; i < n; i++)
		free(iov[i].iov_base);
	free(iov);
}

/* The reference: roots recomputed from the stored entries with a fresh frontier, one per size. */
static uint8_t (*reference_roots(struct tlog *log, uint64_t size))[VFY_HASH_LEN]
{
	uint8_t(*roots)[VFY_HASH_LEN] = calloc(size + 1, VFY_HASH_LEN);
	struct merkle_frontier f = { 0 };
	uint8_t leaf[VFY_HASH_LEN], added[64][VFY_HASH_LEN];
	struct err_detail e;
	unsigned n;

	assert_int_equal(merkle_frontier_root(&f, roots[0]), 0);
	for (uint64_t i = 0; i < size; i++) {
		char *entry;
		size_t len;

		assert_int_equal(tlog_entry(log, i, &entry, &len, &e), 0);
		assert_int_equal(vfy_leaf_hash(entry, len, leaf), 0);
		free(entry);
		assert_int_equal(merkle_frontier_append(&f, leaf, added, &n), 0);
		assert_int_equal(merkle_frontier_root(&f, roots[i + 1]), 0);
	}
	return roots;
}

static void test_append_batches_and_proofs(void **state)
{
	struct fixture *fx = *state;
	static const uint64_t batches[] = { 1, 1, 7, 100, 31, 1, 62, 500, 3, 1000 };
	struct tlog *log;
	struct err_detail e;
	uint8_t proof[MERKLE_MAX_PROOF][VFY_HASH_LEN], root[VFY_HASH_LEN], leaf[VFY_HASH_LEN];
	uint8_t(*roots)[VFY_HASH_LEN];
	uint64_t size = 0, got;
	size_t n;

	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &log, &e), 0);
	for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
		append_range(log, size, batches[b]);
		size += batches[b];
		/* Reopen halfway, so the frontier is reloaded from the store. */
		if (b == 4) {
			tlog_free(log);
			assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &log, &e), 0);
		}
	}
	assert_int_equal(tlog_size(log, &got, &e), 0);
	assert_int_equal(got, size);

	/* Entries verbatim. */
	for (uint64_t i = 0; i < size; i += 97) {
		char want[400], *entry;
		size_t len, wlen = make_entry(i, want, sizeof(want));

		assert_int_equal(tlog_entry(log, i, &entry, &len, &e), 0);
		assert_int_equal(len, wlen);
		assert_memory_equal(entry, want, len);
		free(entry);
	}
	assert_int_equal(tlog_entry(log, size, &(char *){ NULL }, &n, &e), -ENOENT);

	roots = reference_roots(log, size);
	for (uint64_t s = 0; s <= size; s++) {
		assert_int_equal(tlog_root(log, s, root, &e), 0);
		assert_memory_equal(root, roots[s], VFY_HASH_LEN);
	}
	assert_int_equal(tlog_root(log, size + 1, root, &e), -ERANGE);

	/* Inclusion at a spread of sizes, every index at a few of them. */
	for (uint64_t s = 1; s <= size; s += (s < 70 ? 1 : 37)) {
		for (uint64_t i = 0; i < s; i += (s < 70 ? 1 : 13)) {
			assert_int_equal(tlog_inclusion(log, i, s, proof, &n, &e), 0);
			assert_int_equal(tlog_leaf_hash(log, i, leaf, &e), 0);
			assert_int_equal(
			    merkle_verify_inclusion(
				i, s, leaf, (const uint8_t(*)[VFY_HASH_LEN])proof, n, roots[s], &e),
			    0);
		}
	}
	for (uint64_t o = 1; o <= size; o += 41)
		for (uint64_t s = o; s <= size; s += 59) {
			assert_int_equal(tlog_consistency(log, o, s, proof, &n, &e), 0);
			assert_int_equal(
			    merkle_verify_consistency(o, s, roots[o], roots[s],
						      (const uint8_t(*)[VFY_HASH_LEN])proof, n, &e),
			    0);
		}
	assert_int_equal(tlog_inclusion(log, 5, 5, proof, &n, &e), -ERANGE);
	assert_int_equal(tlog_consistency(log, 0, 5, proof, &n, &e), -ERANGE);
	assert_int_equal(tlog_consistency(log, 6, 5, proof, &n, &e), -ERANGE);
	free(roots);
	tlog_free(log);
}

static void test_checkpoints_and_proof_files(void **state)
{
	struct fixture *fx = *state;
	struct tlog *log;
	struct err_detail e;
	struct vfy_verifier key;
	struct vfy_checkpoint cp, old;
	struct vfy_tlog_proof p;
	struct vfy_consistency c;
	char *note, *text;
	size_t len;
	uint64_t size;
	int signed_new;

	assert_int_equal(vfy_verifier_parse(fx->vkey, strlen(fx->vkey), &key, &e), 0);
	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &log, &e), 0);
	assert_int_equal(tlog_checkpoint_get(log, TLOG_NEWEST, &note, &len, &size, &e), -ENOENT);

	append_range(log, 0, 10);
	assert_int_equal(tlog_checkpoint_sign(log, fx->signer, &signed_new, &e), 0);
	assert_int_equal(signed_new, 1);
	assert_int_equal(tlog_checkpoint_sign(log, fx->signer, &signed_new, &e), 0);
	assert_int_equal(signed_new, 0);
	append_range(log, 10, 25);
	assert_int_equal(tlog_checkpoint_sign(log, fx->signer, &signed_new, &e), 0);
	assert_int_equal(signed_new, 1);

	assert_int_equal(tlog_checkpoint_get(log, TLOG_NEWEST, &note, &len, &size, &e), 0);
	assert_int_equal(size, 35);
	assert_int_equal(vfy_checkpoint_open(note, len, NULL, &key, 1, &cp, NULL, &e), 0);
	assert_int_equal(cp.size, 35);
	assert_string_equal(cp.origin, "test.example/log");
	free(note);
	assert_int_equal(tlog_checkpoint_get(log, 20, &note, &len, &size, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "10 and 35"));

	/* Proof files against the newest and an older checkpoint verify offline. */
	for (uint64_t i = 0; i < 35; i++) {
		assert_int_equal(tlog_proof_file(log, i, TLOG_NEWEST, &text, &len, &e), 0);
		assert_int_equal(vfy_tlog_proof_parse(text, len, &p, &e), 0);
		assert_int_equal(vfy_tlog_proof_verify(&p, &key, &cp, &e), 0);
		assert_int_equal(cp.size, 35);
		vfy_tlog_proof_done(&p);
		free(text);
	}
	assert_int_equal(tlog_proof_file(log, 3, 10, &text, &len, &e), 0);
	assert_int_equal(vfy_tlog_proof_parse(text, len, &p, &e), 0);
	assert_int_equal(vfy_tlog_proof_verify(&p, &key, &cp, &e), 0);
	assert_int_equal(cp.size, 10);
	vfy_tlog_proof_done(&p);
	free(text);
	assert_int_equal(tlog_proof_file(log, 12, 10, &text, &len, &e), -ERANGE);
	append_range(log, 35, 1);
	assert_int_equal(tlog_proof_file(log, 35, TLOG_NEWEST, &text, &len, &e), -ERANGE);
	assert_non_null(strstr(e.msg, "custody-log checkpoint"));

	assert_int_equal(tlog_consistency_file(log, 10, 35, &text, &len, &e), 0);
	assert_int_equal(vfy_consistency_parse(text, len, &c, &e), 0);
	assert_int_equal(vfy_consistency_verify(&c, &key, &old, &cp, &e), 0);
	assert_int_equal(old.size, 10);
	assert_int_equal(cp.size, 35);
	vfy_consistency_done(&c);
	free(text);
	assert_int_equal(tlog_consistency_file(log, 10, 36, &text, &len, &e), -ENOENT);
	tlog_free(log);
}

/* The signature line of @note (its last line), malloc()'d. */
static char *last_line(const char *note)
{
	size_t len = strlen(note);
	const char *p = note + len - 1;

	while (p > note && p[-1] != '\n')
		p--;
	return strdup(p);
}

/* Cosignatures are attached to a stored checkpoint: its text and the log's signature stay,
 * the lines after may be added or replaced, and proofs then carry them. */
static void test_checkpoint_cosign(void **state)
{
	struct fixture *fx = *state;
	struct tlog *log, *ro;
	struct err_detail e;
	struct vfy_verifier keys[2];
	struct vfy_signer *wit;
	struct vfy_checkpoint cp;
	char *wskey, *wvkey, *note, *wnote, *line, *cosigned, *bad, *text;
	size_t len, tlen;
	unsigned nsigs;
	int signed_new;

	assert_int_equal(vfy_keygen("witness.example", &wskey, &wvkey, &e), 0);
	assert_int_equal(vfy_signer_parse(wskey, strlen(wskey), &wit, &e), 0);
	assert_int_equal(vfy_verifier_parse(fx->vkey, strlen(fx->vkey), &keys[0], &e), 0);
	assert_int_equal(vfy_verifier_parse(wvkey, strlen(wvkey), &keys[1], &e), 0);
	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &log, &e), 0);
	append_range(log, 0, 10);
	assert_int_equal(tlog_checkpoint_sign(log, fx->signer, &signed_new, &e), 0);
	assert_int_equal(tlog_checkpoint_get(log, 10, &note, &len, NULL, &e), 0);

	/* A second signature on the same text, as a witness's would be. */
	assert_int_equal(vfy_note_open(note, len, keys, 1, &tlen, NULL, &e), 0);
	text = strndup(note, tlen);
	assert_int_equal(vfy_note_sign(text, tlen, wit, &wnote, &e), 0);
	line = last_line(wnote);
	assert_true(asprintf(&cosigned, "%s%s", note, line) > 0);
	assert_int_equal(tlog_checkpoint_cosign(log, 10, cosigned, strlen(cosigned), &e), 0);
	free(note);
	assert_int_equal(tlog_checkpoint_get(log, TLOG_NEWEST, &note, &len, NULL, &e), 0);
	assert_string_equal(note, cosigned);
	assert_int_equal(vfy_checkpoint_open(note, len, NULL, keys, 2, &cp, &nsigs, &e), 0);
	assert_int_equal(nsigs, 2);
	free(note);
	assert_int_equal(tlog_proof_file(log, 3, 10, &note, &len, &e), 0);
	assert_non_null(strstr(note, line));
	free(note);

	/* Not the checkpoint the log signed: another text, or the log's line missing. */
	bad = strdup(cosigned);
	bad[strlen("test.example/log\n")] = '9';
	assert_int_equal(tlog_checkpoint_cosign(log, 10, bad, strlen(bad), &e), -EKEYREJECTED);
	free(bad);
	assert_true(asprintf(&bad, "%s\n%s", text, line) > 0);
	assert_int_equal(tlog_checkpoint_cosign(log, 10, bad, strlen(bad), &e), -EKEYREJECTED);
	free(bad);
	assert_true(asprintf(&bad, "%s\n%s%s", text, line, cosigned + tlen + 1) > 0);
	assert_int_equal(tlog_checkpoint_cosign(log, 10, bad, strlen(bad), &e), -EINVAL);
	assert_non_null(strstr(e.msg, "does not begin with the checkpoint the log signed"));
	free(bad);
	assert_int_equal(tlog_checkpoint_cosign(log, 11, cosigned, strlen(cosigned), &e), -ENOENT);

	/* A read-only handle cannot attach anything. */
	assert_int_equal(tlog_open(fx->db, 0, &ro, &e), 0);
	assert_int_equal(tlog_checkpoint_cosign(ro, 10, cosigned, strlen(cosigned), &e), -EROFS);
	tlog_free(ro);

	free(text);
	free(wnote);
	free(line);
	free(cosigned);
	vfy_secret_free(wskey);
	free(wvkey);
	vfy_signer_free(wit);
	tlog_free(log);
}

static void test_wrong_signer_rejected(void **state)
{
	struct fixture *fx = *state;
	struct vfy_signer *other;
	struct tlog *log;
	struct err_detail e;
	char *skey, *vkey;
	int signed_new;

	assert_int_equal(vfy_keygen("test.example/log", &skey, &vkey, &e), 0);
	assert_int_equal(vfy_signer_parse(skey, strlen(skey), &other, &e), 0);
	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &log, &e), 0);
	assert_int_equal(tlog_checkpoint_sign(log, other, &signed_new, &e), -EKEYREJECTED);
	assert_non_null(strstr(e.msg, "not the log's key"));
	tlog_free(log);
	vfy_signer_free(other);
	vfy_secret_free(skey);
	free(vkey);
}

static void test_create_errors(void **state)
{
	struct fixture *fx = *state;
	struct err_detail e;
	struct tlog *log;
	char other[128];

	assert_int_equal(tlog_create(fx->db, "test.example/log", fx->keyfile, fx->vkey, &e),
			 -EEXIST);
	snprintf(other, sizeof(other), "%s/db2", fx->dir);
	assert_int_equal(tlog_create(other, "another/origin", fx->keyfile, fx->vkey, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "must be equal"));
	snprintf(other, sizeof(other), "%s/missing", fx->dir);
	assert_int_equal(tlog_open(other, 0, &log, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "init"));
}

static void test_readonly_cannot_write(void **state)
{
	struct fixture *fx = *state;
	struct err_detail e;
	struct tlog *log;
	struct iovec iov = { "{\"type\":\"x\",\"v\":1}", 18 };
	uint64_t first;
	int signed_new;

	assert_int_equal(tlog_open(fx->db, 0, &log, &e), 0);
	assert_int_equal(tlog_append(log, &iov, 1, &first, &e), -EROFS);
	assert_int_equal(tlog_checkpoint_sign(log, fx->signer, &signed_new, &e), -EROFS);
	tlog_free(log);
}

static void test_oversized_entry(void **state)
{
	struct fixture *fx = *state;
	struct err_detail e;
	struct tlog *log;
	struct iovec iov[2];
	uint64_t first, size;

	iov[0] = (struct iovec){ "{\"type\":\"x\",\"v\":1}", 18 };
	iov[1].iov_len = VFY_ENTRY_MAX + 1;
	iov[1].iov_base = calloc(1, iov[1].iov_len);
	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &log, &e), 0);
	assert_int_equal(tlog_append(log, iov, 2, &first, &e), -E2BIG);
	assert_int_equal(tlog_size(log, &size, &e), 0);
	assert_int_equal(size, 0); /* nothing of the batch went in */
	assert_non_null(strstr(e.msg, "65535"));
	/* Exactly the limit, that of a tile bundle's uint16 length, goes in. */
	iov[1].iov_len = VFY_ENTRY_MAX;
	assert_int_equal(tlog_append(log, iov, 2, &first, &e), 0);
	assert_int_equal(tlog_size(log, &size, &e), 0);
	assert_int_equal(size, 2);
	tlog_free(log);
	free(iov[1].iov_base);
}

static void test_map_grows(void **state)
{
	struct fixture *fx = *state;
	struct err_detail e;
	struct tlog *log;
	uint8_t root[VFY_HASH_LEN];
	uint8_t(*roots)[VFY_HASH_LEN];
	uint64_t size;
	struct stat st;
	char path[160];

	/* A 256 KiB map holds a few hundred entries; 20,000 need it to grow several times. */
	setenv("CUSTODY_LMDB_MAPSIZE", "262144", 1);
	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &log, &e), 0);
	for (uint64_t i = 0; i < 20000; i += 2000)
		append_range(log, i, 2000);
	assert_int_equal(tlog_size(log, &size, &e), 0);
	assert_int_equal(size, 20000);
	tlog_free(log);
	unsetenv("CUSTODY_LMDB_MAPSIZE");
	snprintf(path, sizeof(path), "%s/data.mdb", fx->db);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 262144);

	assert_int_equal(tlog_open(fx->db, 0, &log, &e), 0);
	roots = reference_roots(log, 20000);
	assert_int_equal(tlog_root(log, 20000, root, &e), 0);
	assert_memory_equal(root, roots[20000], VFY_HASH_LEN);
	assert_int_equal(tlog_root(log, 12345, root, &e), 0);
	assert_memory_equal(root, roots[12345], VFY_HASH_LEN);
	free(roots);
	tlog_free(log);
}

/* Readers on other threads while the writer grows the map: custodyd reads from its loop, its
 * workers and the scrubber while its writer thread appends.  Growing remaps the database, so a
 * read that overlapped it used a stale mapping (the soak's segfault in liblmdb). */
struct reader {
	struct tlog *log;
	_Atomic bool *stop;
	uint64_t reads, errors;
};

static void *read_loop(void *arg)
{
	struct reader *rd = arg;
	char expect[400];

	while (!*rd->stop) {
		struct err_detail e;
		uint64_t size, i;
		char *bytes;
		size_t len;

		if (tlog_size(rd->log, &size, &e) < 0 || size == 0)
			continue;
		i = (rd->reads * 7919) % size;
		if (tlog_entry(rd->log, i, &bytes, &len, &e) < 0) {
			rd->errors++;
			continue;
		}
		if (len != make_entry(i, expect, sizeof(expect)) || memcmp(bytes, expect, len))
			rd->errors++;
		free(bytes);
		rd->reads++;
	}
	return NULL;
}

static void test_map_grows_under_readers(void **state)
{
	struct fixture *fx = *state;
	_Atomic bool stop = false;
	struct reader rd[3];
	pthread_t t[3];
	struct err_detail e;
	struct tlog *log;

	setenv("CUSTODY_LMDB_MAPSIZE", "262144", 1);
	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &log, &e), 0);
	unsetenv("CUSTODY_LMDB_MAPSIZE");
	append_range(log, 0, 100);
	for (int k = 0; k < 3; k++) {
		rd[k] = (struct reader){ .log = log, .stop = &stop };
		assert_int_equal(pthread_create(&t[k], NULL, read_loop, &rd[k]), 0);
	}
	/* 256 KiB to 16 MiB: six grows, each while the readers run. */
	for (uint64_t i = 100; i < 40000; i += 100)
		append_range(log, i, 100);
	stop = true;
	for (int k = 0; k < 3; k++) {
		assert_int_equal(pthread_join(t[k], NULL), 0);
		assert_int_equal(rd[k].errors, 0);
		assert_true(rd[k].reads > 0);
	}
	tlog_free(log);
}

static void test_writer_lock_names_holder(void **state)
{
	struct fixture *fx = *state;
	struct err_detail e;
	struct tlog *log;
	int ready[2], status;
	char c, pid[32];
	pid_t child;

	assert_int_equal(pipe(ready), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		/* The child opens its own environment after the fork, as LMDB requires. */
		if (tlog_open(fx->db, TLOG_WRITE, &log, &e) < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &log, &e), -EBUSY);
	snprintf(pid, sizeof(pid), "process %d", (int)child);
	assert_non_null(strstr(e.msg, pid));
	/* Readers are not locked out. */
	assert_int_equal(tlog_open(fx->db, 0, &log, &e), 0);
	tlog_free(log);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	close(ready[0]);
	/* A killed holder's lock is gone with it. */
	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &log, &e), 0);
	tlog_free(log);
}

static void test_lookup_keys(void **state)
{
	struct fixture *fx = *state;
	struct err_detail e;
	struct tlog *log;
	struct iovec iov[3] = { { "{\"a\":1,\"type\":\"x\",\"v\":1}", 24 },
				{ "{\"a\":2,\"type\":\"x\",\"v\":1}", 24 },
				{ "{\"a\":3,\"type\":\"x\",\"v\":1}", 24 } };
	struct tlog_key keys[4] = { 0 };
	struct tlog_hit hits[4];
	uint8_t other[VFY_HASH_LEN] = { 9 };
	uint64_t first;
	size_t n;

	for (int i = 0; i < 4; i++) {
		keys[i].kind = TLOG_KEY_FILE;
		memset(keys[i].hash, 0xa0 + (i == 3 ? 0 : i), VFY_HASH_LEN);
		keys[i].entry = (uint32_t)(i == 3 ? 2 : i);
		keys[i].extra[0] = (uint8_t)i;
	}
	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &log, &e), 0);
	append_range(log, 0, 5);
	assert_int_equal(tlog_append_keyed(log, iov, 3, keys, 4, &first, &e), 0);
	assert_int_equal(first, 5);
	/* Two entries share the first hash: both come back, by index. */
	assert_int_equal(tlog_lookup(log, TLOG_KEY_FILE, keys[0].hash, hits, 4, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(hits[0].index, 5);
	assert_int_equal(hits[0].extra[0], 0);
	assert_int_equal(hits[1].index, 7);
	assert_int_equal(hits[1].extra[0], 3);
	assert_int_equal(tlog_lookup(log, TLOG_KEY_FILE, keys[1].hash, hits, 4, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(hits[0].index, 6);
	/* Another kind with the same hash is another key. */
	assert_int_equal(tlog_lookup(log, TLOG_KEY_STREAM, keys[1].hash, hits, 4, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(tlog_lookup(log, TLOG_KEY_FILE, other, hits, 4, &n, &e), 0);
	assert_int_equal(n, 0);
	/* A key outside the batch is refused and nothing is appended. */
	keys[0].entry = 3;
	assert_int_equal(tlog_append_keyed(log, iov, 3, keys, 1, &first, &e), -EINVAL);
	assert_int_equal(tlog_size(log, &first, &e), 0);
	assert_int_equal(first, 8);
	tlog_free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_batches_and_proofs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoints_and_proof_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_cosign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_signer_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_cannot_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_grows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_grows_under_readers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_lock_names_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_keys, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
