/* Unit tests of the store of originals: copy-and-hash, never overwriting, read-only originals
 * with their mtime, staging with its meta, the staging scan after a "crash", and names that
 * cannot escape the store. */
#include <errno.h>
#include <fcntl.h>
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
#include <openssl/sha.h>

#include "base/err.h"
#include "ingest/store.h"

static char dir[64], root[96];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/custody-store-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(root, sizeof(root), "%s/store", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
	return system(cmd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_put_copies_hashes_and_never_overwrites(void **state)
{
	struct store *st;
	struct err_detail e;
	uint8_t sha[32], want[32];
	char rel[STORE_REL_MAX], rel2[STORE_REL_MAX], src[128], path[256], buf[64];
	struct timespec times[2] = { { 1000000000, 0 }, { 1500000000, 0 } };
	struct stat sb;
	uint64_t size;
	bool existed;
	int fd, ofd;

	(void)state;
	assert_int_equal(store_open(root, &st, &e), 0);
	snprintf(src, sizeof(src), "%s/clip.mp4", dir);
	write_file(src, "not really a clip");
	assert_int_equal(utimensat(AT_FDCWD, src, times, 0), 0);
	fd = open(src, O_RDONLY);
	assert_int_equal(store_put_fd(st, fd, NULL, sha, &size, rel, &existed, &e), 0);
	SHA256((const unsigned char *)"not really a clip", 17, want);
	assert_memory_equal(sha, want, 32);
	assert_int_equal(size, 17);
	assert_false(existed);
	assert_int_equal(strncmp(rel, "objects/", 8), 0);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0440);
	assert_int_equal(sb.st_mtim.tv_sec, 1500000000);
	/* The same bytes again: nothing new, nothing overwritten. */
	assert_int_equal(store_put_fd(st, fd, NULL, sha, &size, rel2, &existed, &e), 0);
	assert_true(existed);
	assert_string_equal(rel, rel2);
	close(fd);
	assert_int_equal(store_open_original(st, rel, &ofd, &e), 0);
	assert_int_equal(read(ofd, buf, sizeof(buf)), 17);
	close(ofd);
	/* Names that are not originals' are refused, whatever they point at. */
	assert_int_equal(store_open_original(st, "../store/tmp", &ofd, &e), -EINVAL);
	assert_int_equal(store_open_original(st, "objects/../../etc/passwd", &ofd, &e), -EINVAL);
	store_free(st);
}

static int count_cb(void *opaque, const char *staged, const char *meta, size_t len)
{
	int *n = opaque;

	assert_non_null(strstr(staged, "/staging/"));
	assert_non_null(strstr(meta, "zone"));
	assert_true(len > 0);
	(*n)++;
	return 0;
}

static void test_stage_adopt_unstage(void **state)
{
	struct store *st;
	struct err_detail e;
	uint8_t sha[32];
	char staged[512], rel[STORE_REL_MAX], src[128], meta_path[600], path[256];
	struct stat sb;
	bool existed;
	int n = 0, dfd;

	(void)state;
	assert_int_equal(store_open(root, &st, &e), 0);
	snprintf(src, sizeof(src), "%s/zone-file.mp4", dir);
	write_file(src, "staged bytes");
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_int_equal(fstatat(dfd, "zone-file.mp4", &sb, 0), 0);
	assert_int_equal(store_stage_at(st, dfd, "zone-file.mp4", &sb, "{\"zone\":\"dock\"}", 15,
					staged, sizeof(staged), &e),
			 0);
	close(dfd);
	assert_int_equal(access(src, F_OK), -1); /* it left the zone */
	assert_int_equal(access(staged, F_OK), 0);
	snprintf(meta_path, sizeof(meta_path), "%s.meta", staged);
	assert_int_equal(access(meta_path, F_OK), 0);
	/* After a "crash" the scan finds it with its meta. */
	assert_int_equal(store_staging_scan(st, count_cb, &n, &e), 0);
	assert_int_equal(n, 1);
	SHA256((const unsigned char *)"staged bytes", 12, sha);
	assert_int_equal(store_adopt(st, staged, sha, rel, &existed, &e), 0);
	assert_false(existed);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(store_unstage(st, staged, &e), 0);
	assert_int_equal(access(staged, F_OK), -1);
	assert_int_equal(access(meta_path, F_OK), -1);
	assert_int_equal(access(path, F_OK), 0); /* the original stays */
	/* A meta whose file is gone is cleaned up by the scan. */
	write_file(meta_path, "{\"zone\":\"dock\"}");
	n = 0;
	assert_int_equal(store_staging_scan(st, count_cb, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(access(meta_path, F_OK), -1);
	store_free(st);
}

static void test_stage_missing_file(void **state)
{
	struct store *st;
	struct err_detail e;
	char staged[512], src[128];
	struct stat sb = { 0 };
	int n = 0, dfd;

	(void)state;
	assert_int_equal(store_open(root, &st, &e), 0);
	snprintf(src, sizeof(src), "%s/gone.mp4", dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(
	    store_stage_at(st, dfd, "gone.mp4", &sb, "{}", 2, staged, sizeof(staged), &e), -ENOENT);
	close(dfd);
	assert_non_null(strstr(e.msg, "gone.mp4"));
	/* Nothing is left behind in staging. */
	assert_int_equal(store_staging_scan(st, count_cb, &n, &e), 0);
	assert_int_equal(n, 0);
	store_free(st);
}

static const char *rel_of(const uint8_t sha[32], char rel[STORE_REL_MAX])
{
	int n = snprintf(rel, STORE_REL_MAX, "objects/%02x/", sha[0]);

	for (int i = 0; i < 32; i++)
		n += snprintf(rel + n, STORE_REL_MAX - (size_t)n, "%02x", sha[i]);
	return rel;
}

/* A name given to another file between the caller's open and the move into staging: the other
 * file goes back under its name, nothing is staged, and -ESTALE says so. */
static void test_stage_swapped(void **state)
{
	struct store *st;
	struct err_detail e;
	char staged[512], src[128], back[128];
	struct stat first, now;
	int n = 0, dfd;

	(void)state;
	assert_int_equal(store_open(root, &st, &e), 0);
	snprintf(src, sizeof(src), "%s/swap.mp4", dir);
	write_file(src, "first version");
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(fstatat(dfd, "swap.mp4", &first, 0), 0);
	/* The uploader renames another file over the name (a new inode). */
	snprintf(back, sizeof(back), "%s/swap.new", dir);
	write_file(back, "second version");
	assert_int_equal(rename(back, src), 0);
	assert_int_equal(
	    store_stage_at(st, dfd, "swap.mp4", &first, "{}", 2, staged, sizeof(staged), &e),
	    -ESTALE);
	assert_string_equal(staged, "");
	assert_int_equal(fstatat(dfd, "swap.mp4", &now, 0), 0);
	assert_true(now.st_ino != first.st_ino); /* the second version is back in the zone */
	assert_int_equal(store_staging_scan(st, count_cb, &n, &e), 0);
	assert_int_equal(n, 0);
	unlinkat(dfd, "swap.mp4", 0);
	close(dfd);
	store_free(st);
}

/* A copy of a file that changed while it was read is not stored: -ESTALE, nothing linked. */
static void test_put_changed(void **state)
{
	struct store *st;
	struct err_detail e;
	char rel[STORE_REL_MAX], src[128];
	uint8_t sha[32];
	struct stat before;
	uint64_t size;
	bool existed;
	int fd;

	(void)state;
	assert_int_equal(store_open(root, &st, &e), 0);
	snprintf(src, sizeof(src), "%s/rewritten.mp4", dir);
	write_file(src, "before the rewrite");
	fd = open(src, O_RDONLY);
	assert_int_equal(fstat(fd, &before), 0);
	/* Rewritten in place after the caller's fstat (a truncation and a write: new ctime). */
	usleep(10000);
	write_file(src, "after");
	assert_int_equal(store_put_fd(st, fd, &before, sha, &size, rel, &existed, &e), -ESTALE);
	assert_non_null(strstr(e.msg, "changed while it was read"));
	/* Neither version, nor any torn mix of them, is in the store. */
	SHA256((const unsigned char *)"after", 5, sha);
	assert_int_equal(store_has_original(st, rel_of(sha, rel), &e), -ENOENT);
	SHA256((const unsigned char *)"before the rewrite", 18, sha);
	assert_int_equal(store_has_original(st, rel_of(sha, rel), &e), -ENOENT);
	/* Unchanged since its fstat: stored. */
	assert_int_equal(fstat(fd, &before), 0);
	assert_int_equal(store_put_fd(st, fd, &before, sha, &size, rel, &existed, &e), 0);
	assert_int_equal(size, 5);
	close(fd);
	unlink(src);
	store_free(st);
}

/* Removing an original (purge): only the content name of the given bytes, nothing that merely
 * looks like one; then it is gone, and gone again is -ENOENT. */
static void test_remove_original(void **state)
{
	struct store *st;
	struct err_detail e;
	uint8_t sha[32], other[32];
	char rel[STORE_REL_MAX], src[128], bad[STORE_REL_MAX];
	uint64_t size;
	bool existed;
	int fd;

	(void)state;
	assert_int_equal(store_open(root, &st, &e), 0);
	snprintf(src, sizeof(src), "%s/purged.mp4", dir);
	write_file(src, "bytes to purge");
	fd = open(src, O_RDONLY);
	assert_int_equal(store_put_fd(st, fd, NULL, sha, &size, rel, &existed, &e), 0);
	close(fd);
	assert_int_equal(store_has_original(st, rel, &e), 0);
	/* Another hash's name, the folder not matching the name, upper case, a '/' in the folder
	 * part: all refused, the original untouched. */
	memcpy(other, sha, 32);
	other[31] ^= 1;
	assert_int_equal(store_remove_original(st, rel, other, &e), -EINVAL);
	snprintf(bad, sizeof(bad), "%s", rel);
	bad[8] = bad[8] == '0' ? '1' : '0';
	assert_int_equal(store_remove_original(st, bad, sha, &e), -EINVAL);
	assert_int_equal(store_has_original(st, bad, &e), -EINVAL);
	snprintf(bad, sizeof(bad), "%s", rel);
	bad[20] = 'A';
	assert_int_equal(store_has_original(st, bad, &e), -EINVAL);
	snprintf(bad, sizeof(bad), "objects/%c//%s", rel[8], rel + 11);
	assert_int_equal(strlen(bad), strlen(rel));
	assert_int_equal(store_has_original(st, bad, &e), -EINVAL);
	assert_int_equal(store_has_original(st, rel, &e), 0);
	/* The right name and hash: removed, then already gone. */
	assert_int_equal(store_remove_original(st, rel, sha, &e), 0);
	assert_int_equal(store_has_original(st, rel, &e), -ENOENT);
	assert_int_equal(store_remove_original(st, rel, sha, &e), -ENOENT);
	store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_copies_hashes_and_never_overwrites, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stage_adopt_unstage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stage_swapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stage_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_original, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
