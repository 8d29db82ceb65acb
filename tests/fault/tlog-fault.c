/* tlog-fault: the fault suite's driver for the log.
 *
 *   tlog-fault append DB TOTAL BATCH   append entries in batches of BATCH until the log holds
 *                                      TOTAL; after each commit print "SIZE ROOTHEX" (flushed),
 *                                      so that the test knows what was durable when it kills us
 *   tlog-fault check DB                reopen, print "SIZE ROOTHEX", sign a checkpoint with the
 *                                      log's key and verify the proof file of every entry
 *                                      offline; exit 1 on the first failure
 *
 * Entry i is a fixed function of i, so that the checker can also confirm every entry's bytes. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hex.h"
#include "verify/hash.h"
#include "verify/merkle.h"
#include "verify/note.h"
#include "verify/proof.h"
#include "verify/tlog.h"

static size_t make_entry(uint64_t i, char *buf, size_t cap)
{
	return (size_t)snprintf(buf, cap,
				"{\"i\":%" PRIu64 ",\"pad\":\"%0240" PRIu64 "\","
				"\"type\":\"fault\",\"v\":1}",
				i, i * 7919);
}

static int print_state(struct tlog *log)
{
	struct err_detail e;
	uint8_t root[VFY_HASH_LEN];
	char hex[2 * VFY_HASH_LEN + 1];
	uint64_t size;

	if (tlog_size(log, &size, &e) < 0 || tlog_root(log, size, root, &e) < 0) {
		fprintf(stderr, "tlog-fault: %s\n", e.msg);
		return -1;
	}
	hex_encode(root, VFY_HASH_LEN, hex);
	printf("%" PRIu64 " %s\n", size, hex);
	fflush(stdout);
	return 0;
}

static int do_append(const char *db, uint64_t total, uint64_t batch)
{
	struct err_detail e;
	struct tlog *log;
	struct iovec *iov = calloc(batch, sizeof(*iov));
	char *bufs = malloc(batch * 400);
	uint64_t size, first;

	if (!iov || !bufs || tlog_open(db, TLOG_WRITE, &log, &e) < 0) {
		fprintf(stderr, "tlog-fault: %s\n", e.msg);
		return 2;
	}
	if (tlog_size(log, &size, &e) < 0)
		return 2;
	while (size < total) {
		uint64_t n = total - size < batch ? total - size : batch;

		for (uint64_t i = 0; i < n; i++) {
			iov[i].iov_base = bufs + i * 400;
			iov[i].iov_len = make_entry(size + i, iov[i].iov_base, 400);
		}
		if (tlog_append(log, iov, n, &first, &e) < 0) {
			fprintf(stderr, "tlog-fault: append: %s\n", e.msg);
			return 2;
		}
		size += n;
		if (print_state(log) < 0)
			return 2;
	}
	tlog_free(log);
	free(iov);
	free(bufs);
	return 0;
}

static int check_proof_file(struct tlog *log, const struct vfy_verifier *key, uint64_t i,
			    uint64_t size)
{
	struct vfy_tlog_proof p;
	struct vfy_checkpoint cp;
	struct err_detail e;
	char *text;
	size_t len;

	if (tlog_proof_file(log, i, TLOG_NEWEST, &text, &len, &e) < 0 ||
	    vfy_tlog_proof_parse(text, len, &p, &e) < 0 ||
	    vfy_tlog_proof_verify(&p, key, &cp, &e) < 0) {
		fprintf(stderr, "tlog-fault: proof file of entry %" PRIu64 ": %s\n", i, e.msg);
		return -1;
	}
	vfy_tlog_proof_done(&p);
	free(text);
	return cp.size == size ? 0 : -1;
}

static int do_check(const char *db)
{
	struct err_detail e;
	struct tlog *log;
	struct vfy_signer *signer;
	struct vfy_verifier key;
	uint64_t size;
	int signed_new;

	if (tlog_open(db, TLOG_WRITE, &log, &e) < 0 || print_state(log) < 0 ||
	    tlog_size(log, &size, &e) < 0 || vfy_signer_load(tlog_key_path(log), &signer, &e) < 0 ||
	    tlog_checkpoint_sign(log, signer, &signed_new, &e) < 0 ||
	    vfy_verifier_parse(tlog_vkey(log), strlen(tlog_vkey(log)), &key, &e) < 0) {
		fprintf(stderr, "tlog-fault: check: %s\n", e.msg);
		return 1;
	}
	vfy_signer_free(signer);
	/* Every entry's inclusion path is checked against the signed root; every 997th also as a
	 * complete proof file, signature included (an Ed25519 check per entry would dominate). */
	{
		char *note;
		size_t nlen;
		struct vfy_checkpoint signed_cp;

		if (tlog_checkpoint_get(log, TLOG_NEWEST, &note, &nlen, NULL, &e) < 0 ||
		    vfy_checkpoint_open(note, nlen, NULL, &key, 1, &signed_cp, NULL, &e) < 0) {
			fprintf(stderr, "tlog-fault: checkpoint: %s\n", e.msg);
			return 1;
		}
		free(note);
		if (signed_cp.size != size) {
			fprintf(stderr, "tlog-fault: the checkpoint is not at the log's size\n");
			return 1;
		}
		for (uint64_t i = 0; i < size; i++) {
			uint8_t proof[MERKLE_MAX_PROOF][VFY_HASH_LEN], leaf[VFY_HASH_LEN];
			char want[400], *entry;
			size_t n, len, wlen = make_entry(i, want, sizeof(want));

			if (tlog_entry(log, i, &entry, &len, &e) < 0 ||
			    tlog_inclusion(log, i, size, proof, &n, &e) < 0) {
				fprintf(stderr, "tlog-fault: entry %" PRIu64 ": %s\n", i, e.msg);
				return 1;
			}
			if (len != wlen || memcmp(entry, want, wlen) != 0) {
				fprintf(stderr,
					"tlog-fault: entry %" PRIu64 " is not what was appended\n",
					i);
				return 1;
			}
			vfy_leaf_hash(entry, len, leaf);
			free(entry);
			if (merkle_verify_inclusion(i, size, leaf,
						    (const uint8_t(*)[VFY_HASH_LEN])proof, n,
						    signed_cp.root, &e) < 0) {
				fprintf(stderr, "tlog-fault: entry %" PRIu64 ": %s\n", i, e.msg);
				return 1;
			}
			if (i % 997 == 0 && check_proof_file(log, &key, i, size) < 0)
				return 1;
		}
	}
	tlog_free(log);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "append") == 0)
		return do_append(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "check") == 0)
		return do_check(argv[2]);
	fprintf(stderr, "usage: tlog-fault append DB TOTAL BATCH | check DB\n");
	return 2;
}
