/* test_publish.c: verify/publish.c and the bulk reads of verify/tlog.c it uses.
 *
 * Each published folder is checked as a monitor would check it, from its files alone: every
 * level-0 tile against the leaf hashes of the log's entries (hashed here from tlog_entry()),
 * every full tile folded into its entry in the level above (tiles_fold()), the root from the
 * partial tiles (tiles_root()) against the checkpoint's, every bundle against its tile, and no
 * file more than the size needs (Go's x/mod reads the same folders in
 * tests/integration/publish.sh).  Then: catch-up, re-runs that write nothing, an interrupted
 * run, deleted tiles, another history, a newer checkpoint, a busy folder, modes. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/file.h"
#include "verify/hash.h"
#include "verify/merkle.h"
#include "verify/note.h"
#include "verify/publish.h"
#include "verify/tiles.h"
#include "verify/tlog.h"

#define ORIGIN "test.example/publish"

struct fixture {
	char dir[64], db[96], db2[96], out[96], keyfile[96];
	char *vkey;
	struct vfy_signer *signer;
	int outfd;
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

	strcpy(fx->dir, "/tmp/custody-publish-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/db", fx->dir);
	snprintf(fx->db2, sizeof(fx->db2), "%s/db2", fx->dir);
	snprintf(fx->out, sizeof(fx->out), "%s/out", fx->dir);
	snprintf(fx->keyfile, sizeof(fx->keyfile), "%s/log.key", fx->dir);
	assert_int_equal(vfy_keygen(ORIGIN, &skey, &fx->vkey, &e), 0);
	assert_int_equal(vfy_signer_parse(skey, strlen(skey), &fx->signer, &e), 0);
	f = fopen(fx->keyfile, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", skey);
	fclose(f);
	chmod(fx->keyfile, 0600);
	vfy_secret_free(skey);
	assert_int_equal(tlog_create(fx->db, ORIGIN, fx->keyfile, fx->vkey, &e), 0);
	assert_int_equal(mkdir(fx->out, 0755), 0);
	fx->outfd = open(fx->out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fx->outfd >= 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	close(fx->outfd);
	rm_rf(fx->dir);
	vfy_signer_free(fx->signer);
	free(fx->vkey);
	free(fx);
	return 0;
}

/* Entries differ per @seed, so two logs of one key can hold different histories. */
static void append_n(struct tlog *log, uint64_t n, int seed)
{
	struct iovec *iov = calloc(n, sizeof(*iov));
	struct err_detail e;
	uint64_t first, size;

	assert_int_equal(tlog_size(log, &size, &e), 0);
	for (uint64_t i = 0; i < n; i++) {
		iov[i].iov_base = malloc(64);
		iov[i].iov_len = (size_t)snprintf(iov[i].iov_base, 64, "{\"i\":%llu,\"s\":%d}",
						  (unsigned long long)(size + i), seed);
	}
	assert_int_equal(tlog_append(log, iov, n, &first, &e), 0);
	for (uint64_t i = 0; i < n; i++)
		free(iov[i].iov_base);
	free(iov);
}

static char *sign(struct fixture *fx, struct tlog *log, size_t *ret_len)
{
	struct err_detail e;
	char *note;
	int signed_new;

	assert_int_equal(tlog_checkpoint_sign(log, fx->signer, &signed_new, &e), 0);
	assert_int_equal(tlog_checkpoint_get(log, TLOG_NEWEST, &note, ret_len, NULL, &e), 0);
	return note;
}

static int publish(struct fixture *fx, struct tlog *log, const char *note, size_t len,
		   unsigned flags, struct pub_stats *st, struct err_detail *e)
{
	int r = pub_publish(log, fx->outfd, note, len, flags, st, e);

	if (r < 0)
		print_message("pub_publish: %s\n", e->msg);
	return r;
}

/* ---- the monitor's check ---- */

static uint8_t *read_tile(int dirfd, const struct tile *t, size_t *ret_len)
{
	char path[TILE_PATH_MAX];
	struct err_detail e;
	char *data;

	tile_path(t, path);
	if (file_read_at(dirfd, path, O_NOFOLLOW, 1 << 26, &data, ret_len, &e) < 0)
		fail_msg("cannot read %s: %s", path, e.msg);
	return (uint8_t *)data;
}

static long nfiles;
static int count_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)path, (void)st, (void)ftw;
	if (type == FTW_F)
		nfiles++;
	return 0;
}

/* The folder serves exactly the tree of the checkpoint in it, which @log holds. */
static void check_folder(struct fixture *fx, struct tlog *log, bool entries)
{
	struct err_detail e;
	struct vfy_verifier key;
	struct vfy_checkpoint cp;
	uint8_t part[8][TILE_WIDTH][VFY_HASH_LEN], root[VFY_HASH_LEN];
	const uint8_t(*parts[8])[VFY_HASH_LEN] = { 0 };
	uint8_t(*above)[VFY_HASH_LEN] = NULL; /* the level-(L+1) hashes folded from level L */
	uint64_t nabove = 0;
	long want_files = 0;
	char *note, tiledir[128];
	size_t len;

	assert_int_equal(vfy_verifier_parse(fx->vkey, strlen(fx->vkey), &key, &e), 0);
	assert_int_equal(file_read_at(fx->outfd, "checkpoint", 0, VFY_NOTE_MAX, &note, &len, &e),
			 0);
	assert_int_equal(vfy_checkpoint_open(note, len, ORIGIN, &key, 1, &cp, NULL, &e), 0);
	free(note);

	for (unsigned l = 0; l < tiles_levels(cp.size); l++) {
		uint64_t full = tiles_full(cp.size, l);
		unsigned w = tiles_partial(cp.size, l);
		uint8_t(*level)[VFY_HASH_LEN] = malloc((full + 1) * TILE_WIDTH * VFY_HASH_LEN);

		for (uint64_t n = 0; n <= full; n++) {
			struct tile t = { (int)l, n, n < full ? TILE_WIDTH : w };
			uint8_t *data;
			size_t dlen;

			if (!t.width)
				break;
			data = read_tile(fx->outfd, &t, &dlen);
			assert_int_equal(dlen, t.width * VFY_HASH_LEN);
			memcpy(level[n * TILE_WIDTH], data, dlen);
			want_files++;
			if (entries && l == 0) {
				struct tile b = { TILE_ENTRIES, n, t.width };
				uint8_t *bundle = read_tile(fx->outfd, &b, &dlen);

				assert_int_equal(tiles_bundle_check(bundle, dlen,
								    (const uint8_t(*)[32])data,
								    t.width, &e),
						 0);
				free(bundle);
				want_files++;
			}
			free(data);
		}
		if (l == 0) {
			/* Level 0 against the entries, hashed here. */
			for (uint64_t i = 0; i < cp.size; i++) {
				uint8_t leaf[VFY_HASH_LEN];
				char *entry;
				size_t elen;

				assert_int_equal(tlog_entry(log, i, &entry, &elen, &e), 0);
				assert_int_equal(vfy_leaf_hash(entry, elen, leaf), 0);
				free(entry);
				assert_memory_equal(level[i], leaf, VFY_HASH_LEN);
			}
		} else {
			/* The full tiles below fold into this level's hashes. */
			assert_true(nabove == (cp.size >> (8 * l)));
			assert_memory_equal(level, above, nabove * VFY_HASH_LEN);
		}
		if (w) {
			memcpy(part[l], level[full * TILE_WIDTH], w * VFY_HASH_LEN);
			parts[l] = (const uint8_t(*)[VFY_HASH_LEN])part[l];
		}
		free(above);
		above = malloc((full + 1) * VFY_HASH_LEN);
		assert_int_equal(tiles_fold((const uint8_t(*)[VFY_HASH_LEN])level, full, above), 0);
		nabove = full;
		free(level);
	}
	free(above);
	assert_int_equal(tiles_root(cp.size, parts, root), 0);
	assert_memory_equal(root, cp.root, VFY_HASH_LEN);

	/* Nothing more than the tiles of this size, and of the sizes published before (which
	 * the caller adds through nfiles' baseline): counted by the caller. */
	snprintf(tiledir, sizeof(tiledir), "%s/tile", fx->out);
	nfiles = 0;
	if (cp.size)
		assert_int_equal(nftw(tiledir, count_file, 16, FTW_PHYS), 0);
	assert_true(nfiles >= want_files);
}

static long count_tiles(struct fixture *fx)
{
	char tiledir[128];

	snprintf(tiledir, sizeof(tiledir), "%s/tile", fx->out);
	nfiles = 0;
	if (nftw(tiledir, count_file, 16, FTW_PHYS) < 0)
		return 0;
	return nfiles;
}

/* Hash tiles of a size: full and partial, every level. */
static uint64_t ntiles(uint64_t size)
{
	uint64_t n = 0;

	for (unsigned l = 0; l < tiles_levels(size); l++)
		n += tiles_full(size, l) + (tiles_partial(size, l) != 0);
	return n;
}

/* ---- tests ---- */

static void test_bulk_reads(void **state)
{
	struct fixture *fx = *state;
	struct tlog *log;
	struct err_detail e;
	uint8_t(*all)[VFY_HASH_LEN], (*got)[VFY_HASH_LEN], h[VFY_HASH_LEN];
	uint64_t count = merkle_stored_count(1000);

	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &log, &e), 0);
	append_n(log, 1000, 0);
	all = malloc(count * VFY_HASH_LEN);
	got = malloc(count * VFY_HASH_LEN);
	assert_int_equal(tlog_hashes(log, 0, count, all, &e), 0);
	/* Every stored hash is the node merkle_stored_index() says; every run of nodes. */
	for (unsigned level = 0; level < 10; level++) {
		uint64_t nodes = 1000 >> level;

		assert_int_equal(tlog_nodes(log, level, 0, nodes, got, &e), 0);
		for (uint64_t k = 0; k < nodes; k++)
			assert_memory_equal(got[k], all[merkle_stored_index(level, k)],
					    VFY_HASH_LEN);
		assert_int_equal(tlog_nodes(log, level, 0, nodes + 1, got, &e), -ERANGE);
	}
	for (uint64_t i = 0; i < 1000; i++) {
		assert_int_equal(tlog_leaf_hash(log, i, h, &e), 0);
		assert_memory_equal(h, all[merkle_stored_index(0, i)], VFY_HASH_LEN);
	}
	/* Ranges not starting on a record. */
	assert_int_equal(tlog_hashes(log, 45, 100, got, &e), 0);
	assert_memory_equal(got, all[45], 100 * VFY_HASH_LEN);
	assert_int_equal(tlog_hashes(log, count, 0, got, &e), 0);
	assert_int_equal(tlog_hashes(log, count - 1, 2, got, &e), -ERANGE);
	assert_int_equal(tlog_hashes(log, count + 1, 0, got, &e), -ERANGE);
	assert_int_equal(tlog_nodes(log, 64, 0, 1, got, &e), -EINVAL);
	assert_int_equal(tlog_nodes(log, 3, 125, 0, got, &e), 0);
	assert_int_equal(tlog_nodes(log, 3, 126, 0, got, &e), -ERANGE);
	free(all);
	free(got);
	tlog_free(log);
}

static int each_cb(void *ctx, uint64_t index, const void *data, size_t len,
		   struct err_detail *reterr)
{
	uint64_t *next = ctx;
	char want[64];

	(void)reterr;
	snprintf(want, sizeof(want), "{\"i\":%llu,\"s\":0}", (unsigned long long)index);
	assert_true(index == *next);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(data, want, len);
	(*next)++;
	return index == 150 ? -EINTR : 0;
}

static void test_entries_each(void **state)
{
	struct fixture *fx = *state;
	struct tlog *log;
	struct err_detail e;
	uint64_t next = 7;

	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &log, &e), 0);
	append_n(log, 200, 0);
	assert_int_equal(tlog_entries_each(log, 7, 100, each_cb, &next, &e), 0);
	assert_true(next == 107);
	assert_int_equal(tlog_entries_each(log, 107, 90, each_cb, &next, &e), -EINTR);
	assert_true(next == 151);
	assert_int_equal(tlog_entries_each(log, 150, 51, each_cb, &next, &e), -ERANGE);
	tlog_free(log);
}

static void test_publish_and_catch_up(void **state)
{
	struct fixture *fx = *state;
	struct tlog *log;
	struct err_detail e;
	struct pub_stats st;
	struct stat sb;
	char *note1, *note2, *note3;
	size_t len1, len2, len3;
	mode_t old_umask;

	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &log, &e), 0);
	/* The empty tree: only a checkpoint. */
	note1 = sign(fx, log, &len1);
	assert_int_equal(publish(fx, log, note1, len1, 0, &st, &e), 0);
	assert_true(st.size == 0 && st.tiles == 0 && st.checkpoint);
	free(note1);

	/* 70,000: the spec's example; umask 077 must not make the files private. */
	append_n(log, 70000, 0);
	note1 = sign(fx, log, &len1);
	old_umask = umask(077);
	assert_int_equal(publish(fx, log, note1, len1, 0, &st, &e), 0);
	umask(old_umask);
	assert_true(st.old_size == 0 && st.size == 70000);
	assert_true(st.tiles == 273 + 1 + 1 + 1 + 1 && st.bundles == 0 && st.present == 0);
	assert_true(st.checkpoint);
	check_folder(fx, log, false);
	assert_int_equal(count_tiles(fx), (long)ntiles(70000));
	assert_int_equal(fstatat(fx->outfd, "tile/0/000", &sb, 0), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);
	assert_int_equal(fstatat(fx->outfd, "tile/0/273.p", &sb, 0), 0);
	assert_int_equal(sb.st_mode & 07777, 0755);
	assert_int_equal(fstatat(fx->outfd, "checkpoint", &sb, 0), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);

	/* Again: nothing to write. */
	assert_int_equal(publish(fx, log, note1, len1, 0, &st, &e), 0);
	assert_true(st.old_size == 70000 && st.tiles == 0 && st.present == ntiles(70000));
	assert_false(st.checkpoint);

	/* Catch up: 70,000 -> 70,300.  New: level-0 full 273 and partial 274.p/44, level-1
	 * partial 001.p/18, level-2 000.p/1 is unchanged. */
	append_n(log, 300, 0);
	note2 = sign(fx, log, &len2);
	assert_int_equal(publish(fx, log, note2, len2, 0, &st, &e), 0);
	assert_true(st.old_size == 70000 && st.size == 70300);
	assert_true(st.tiles == 3);
	check_folder(fx, log, false);
	/* The old partial tiles stay, for readers of the old checkpoint. */
	assert_int_equal(fstatat(fx->outfd, "tile/0/273.p/112", &sb, 0), 0);

	/* An older checkpoint than the folder's is refused. */
	assert_int_equal(publish(fx, log, note1, len1, 0, &st, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "newer"));

	/* With the entries: every bundle is written, the tiles are there already. */
	assert_int_equal(publish(fx, log, note2, len2, PUB_ENTRIES, &st, &e), 0);
	assert_true(st.tiles == 0 && st.bundles == 275 && !st.checkpoint);
	check_folder(fx, log, true);

	/* Deleted tiles under an up-to-date checkpoint are written again. */
	assert_int_equal(unlinkat(fx->outfd, "tile/0/005", 0), 0);
	assert_int_equal(unlinkat(fx->outfd, "tile/entries/006", 0), 0);
	append_n(log, 1000, 0);
	note3 = sign(fx, log, &len3);
	assert_int_equal(publish(fx, log, note3, len3, PUB_ENTRIES, &st, &e), 0);
	/* 71,300: level 0 full 274..277 and 278.p/132 and the deleted 005; level 1 001.p/22;
	 * bundles 274..277, 278.p/132 and the deleted 006. */
	assert_true(st.tiles == 5 + 1 + 1);
	assert_true(st.bundles == 5 + 1);
	check_folder(fx, log, true);

	free(note1);
	free(note2);
	free(note3);
	tlog_free(log);
}

static void test_interrupted(void **state)
{
	struct fixture *fx = *state;
	struct tlog *log;
	struct err_detail e;
	struct pub_stats st;
	char *note1, *note2;
	size_t len1, len2;
	uint8_t hashes[TILE_WIDTH][VFY_HASH_LEN];
	int fd;

	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &log, &e), 0);
	append_n(log, 1000, 0);
	note1 = sign(fx, log, &len1);
	assert_int_equal(publish(fx, log, note1, len1, 0, &st, &e), 0);
	append_n(log, 600, 0);
	note2 = sign(fx, log, &len2);

	/* A run that died: leftovers in .publish-tmp/, one new tile renamed into place, the
	 * checkpoint still the old one. */
	fd = openat(fx->outfd, ".publish-tmp/t0", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "junk", 4), 4);
	close(fd);
	fd = openat(fx->outfd, ".publish-tmp/checkpoint", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(tlog_nodes(log, 0, 4 * 256, 256, hashes, &e), 0);
	fd = openat(fx->outfd, "tile/0/004", O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, hashes, sizeof(hashes)), (ssize_t)sizeof(hashes));
	close(fd);

	assert_int_equal(publish(fx, log, note2, len2, 0, &st, &e), 0);
	/* 1,600: level 0 full 003..005 (004 was there), 006.p/64; level 1 000.p/6. */
	assert_true(st.tiles == 2 + 1 + 1);
	assert_true(st.present == 3 + 1);
	check_folder(fx, log, false);
	assert_int_equal(faccessat(fx->outfd, ".publish-tmp/t0", F_OK, 0), -1);

	free(note1);
	free(note2);
	tlog_free(log);
}

static void test_other_history(void **state)
{
	struct fixture *fx = *state;
	struct tlog *log, *log2;
	struct err_detail e;
	struct pub_stats st;
	char *note, *note2, *note_big;
	size_t len, len2, len_big;
	int fd;

	/* Two logs under one key and origin, with different entries. */
	assert_int_equal(tlog_create(fx->db2, ORIGIN, fx->keyfile, fx->vkey, &e), 0);
	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &log, &e), 0);
	assert_int_equal(tlog_open(fx->db2, TLOG_WRITE, &log2, &e), 0);
	append_n(log, 600, 0);
	append_n(log2, 500, 1);
	note = sign(fx, log, &len);
	note2 = sign(fx, log2, &len2);
	append_n(log2, 500, 1);
	note_big = sign(fx, log2, &len_big);

	/* The other log's checkpoint: its root is not this log's, or its size is beyond. */
	assert_int_equal(publish(fx, log, note2, len2, 0, &st, &e), -ESTALE);
	assert_int_equal(publish(fx, log, note_big, len_big, 0, &st, &e), -ERANGE);

	/* A folder of the other history. */
	assert_int_equal(publish(fx, log2, note2, len2, 0, &st, &e), 0);
	assert_int_equal(publish(fx, log, note, len, 0, &st, &e), -ESTALE);
	assert_non_null(strstr(e.msg, "different history"));

	/* Its checkpoint gone, its tiles stay: the first one that differs is named. */
	assert_int_equal(unlinkat(fx->outfd, "checkpoint", 0), 0);
	assert_int_equal(publish(fx, log, note, len, 0, &st, &e), -ESTALE);
	assert_non_null(strstr(e.msg, "'tile/0/000'"));
	assert_non_null(strstr(e.msg, "different history"));

	/* A tile of the right size and other bytes, under no checkpoint that needs it. */
	rm_rf(fx->out);
	assert_int_equal(mkdir(fx->out, 0755), 0);
	close(fx->outfd);
	fx->outfd = open(fx->out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(mkdirat(fx->outfd, "tile", 0755), 0);
	assert_int_equal(mkdirat(fx->outfd, "tile/0", 0755), 0);
	fd = openat(fx->outfd, "tile/0/001", O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 8192), 0);
	close(fd);
	assert_int_equal(publish(fx, log, note, len, 0, &st, &e), -ESTALE);
	assert_non_null(strstr(e.msg, "'tile/0/001'"));
	assert_int_equal(faccessat(fx->outfd, "checkpoint", F_OK, 0), -1);

	/* A checkpoint signed by another key. */
	assert_int_equal(unlinkat(fx->outfd, "tile/0/001", 0), 0);
	{
		char *skey, *vkey, *other;
		struct vfy_signer *s;
		const char *text_end = strstr(note, "\n\n");

		assert_int_equal(vfy_keygen(ORIGIN, &skey, &vkey, &e), 0);
		assert_int_equal(vfy_signer_parse(skey, strlen(skey), &s, &e), 0);
		char *text = strndup(note, (size_t)(text_end - note) + 1);
		assert_int_equal(vfy_note_sign(text, strlen(text), s, &other, &e), 0);
		assert_int_equal(publish(fx, log, other, strlen(other), 0, &st, &e), -EKEYREJECTED);
		assert_int_equal(
		    file_write_atomic(fx->outfd, "checkpoint", other, strlen(other), 0644, &e), 0);
		assert_int_equal(publish(fx, log, note, len, 0, &st, &e), -ESTALE);
		free(text);
		free(other);
		free(vkey);
		vfy_secret_free(skey);
		vfy_signer_free(s);
	}

	/* A second publisher on the folder waits for none: -EBUSY. */
	assert_int_equal(unlinkat(fx->outfd, "checkpoint", 0), 0);
	fd = open(fx->out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(publish(fx, log, note, len, 0, &st, &e), -EBUSY);
	close(fd);
	assert_int_equal(publish(fx, log, note, len, 0, &st, &e), 0);
	check_folder(fx, log, false);

	free(note);
	free(note2);
	free(note_big);
	tlog_free(log);
	tlog_free(log2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bulk_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entries_each, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_and_catch_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_history, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
