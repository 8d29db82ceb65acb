/* Unit tests of drop-zone files through descriptors (daemon/zonefile.c, docs/ingest.md): a
 * folder that is a symlink is never entered, a name that left the zone is not followed, a
 * removal removes only the very file read, unchanged, and leaves no folder of its own behind,
 * a replaced file is put back, and the sweep after a crash gives back what a removal had
 * moved aside. */
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

#include "base/err.h"
#include "daemon/zonefile.h"

static char zone[64];

static int setup(void **state)
{
	(void)state;
	strcpy(zone, "/tmp/custody-zone-XXXXXX");
	assert_non_null(mkdtemp(zone));
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", zone);
	return system(cmd);
}

/* @rel in the zone; four at a time, for calls that take two. */
static const char *at(const char *rel)
{
	static char paths[4][256];
	static unsigned next;
	char *p = paths[next++ % 4];

	snprintf(p, sizeof(paths[0]), "%s/%s", zone, rel);
	return p;
}

static void write_file(const char *rel, const char *text)
{
	FILE *f = fopen(at(rel), "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_file(const char *rel)
{
	static char buf[256];
	FILE *f = fopen(at(rel), "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Nothing of the daemon's own is left in the zone folder. */
static void assert_no_removing_dirs(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -q '^.custody-removing'", zone);
	assert_int_not_equal(system(cmd), 0);
}

static void test_open_refuses_symlinks(void **state)
{
	struct zfile zf;
	struct err_detail e;
	int r;

	(void)state;
	assert_int_equal(mkdir(at("real"), 0755), 0);
	write_file("real/clip.mp4", "bytes");
	assert_int_equal(symlink("real", at("link")), 0);
	/* ELOOP, or ENOTDIR where O_DIRECTORY meets the symlink first: refused either way. */
	r = zfile_open(zone, "link/clip.mp4", &zf, &e);
	assert_true(r == -ELOOP || r == -ENOTDIR);
	assert_int_equal(zf.fd, -1);
	assert_int_equal(symlink("real/clip.mp4", at("file-link.mp4")), 0);
	assert_int_equal(zfile_open(zone, "file-link.mp4", &zf, &e), -ELOOP);
	assert_int_equal(zfile_open(zone, "../x", &zf, &e) < 0, 1);
	assert_int_equal(zfile_open(zone, "real/clip.mp4", &zf, &e), 0);
	assert_true(zf.fd >= 0 && zf.dirfd >= 0);
	assert_string_equal(zf.base, "clip.mp4");
	assert_string_equal(zf.dir, "real");
	zfile_close(&zf);
	zfile_close(&zf); /* idempotent */
}

/* The folder swapped for a symlink after the open: the removal acts on the folder that was
 * opened, never on where the symlink points. */
static void test_remove_after_folder_swap(void **state)
{
	struct zfile zf;
	struct err_detail e;
	char victim[128];

	(void)state;
	assert_int_equal(mkdir(at("sub"), 0755), 0);
	assert_int_equal(mkdir(at("outside"), 0755), 0);
	write_file("sub/data.mdb", "uploaded");
	write_file("outside/data.mdb", "precious");
	assert_int_equal(zfile_open(zone, "sub/data.mdb", &zf, &e), 0);
	assert_int_equal(rename(at("sub"), at("sub.away")), 0);
	snprintf(victim, sizeof(victim), "%s/outside", zone);
	assert_int_equal(symlink(victim, at("sub")), 0);
	/* sub.away is no longer "sub" in the zone: nothing is removed anywhere. */
	assert_int_equal(zfile_remove(&zf, zone, &zf.st, &e), -ESTALE);
	assert_string_equal(read_file("outside/data.mdb"), "precious");
	assert_string_equal(read_file("sub.away/data.mdb"), "uploaded");
	zfile_close(&zf);
	assert_no_removing_dirs();
}

static void test_remove_unchanged(void **state)
{
	struct zfile zf;
	struct err_detail e;

	(void)state;
	write_file("clip.mp4", "bytes");
	assert_int_equal(zfile_open(zone, "clip.mp4", &zf, &e), 0);
	assert_int_equal(zfile_check_unchanged(&zf, &e), 0);
	assert_int_equal(zfile_remove(&zf, zone, &zf.st, &e), 0);
	assert_null(read_file("clip.mp4"));
	assert_no_removing_dirs();
	zfile_close(&zf);
}

static void test_remove_changed_or_replaced(void **state)
{
	struct zfile zf;
	struct err_detail e;

	(void)state;
	/* Rewritten in place after the read: left alone. */
	write_file("a.mp4", "first");
	assert_int_equal(zfile_open(zone, "a.mp4", &zf, &e), 0);
	usleep(10000);
	write_file("a.mp4", "second, longer");
	assert_int_equal(zfile_check_unchanged(&zf, &e), -ESTALE);
	assert_int_equal(zfile_remove(&zf, zone, &zf.st, &e), -ESTALE);
	assert_string_equal(read_file("a.mp4"), "second, longer");
	zfile_close(&zf);
	/* Another file renamed over the name after the read: left alone. */
	write_file("b.mp4", "first");
	assert_int_equal(zfile_open(zone, "b.mp4", &zf, &e), 0);
	write_file("b.new", "replacement");
	assert_int_equal(rename(at("b.new"), at("b.mp4")), 0);
	assert_int_equal(zfile_remove(&zf, zone, &zf.st, &e), -ESTALE);
	assert_string_equal(read_file("b.mp4"), "replacement");
	zfile_close(&zf);
	/* Gone: -ENOENT, nothing else happens. */
	write_file("c.mp4", "x");
	assert_int_equal(zfile_open(zone, "c.mp4", &zf, &e), 0);
	assert_int_equal(unlink(at("c.mp4")), 0);
	assert_int_equal(zfile_remove(&zf, zone, &zf.st, &e), -ENOENT);
	zfile_close(&zf);
	assert_no_removing_dirs();
}

/* A crash left a file in a removal's own folder: the sweep gives it back under its name, and
 * beside a newer file of that name rather than over it; an uploader's look-alike folder
 * (not mode 0700 of the daemon's user) is left alone. */
static void test_sweep(void **state)
{
	struct err_detail e;
	unsigned n = 9;

	(void)state;
	assert_int_equal(mkdir(at(".custody-removing-0123456789abcdef"), 0700), 0);
	write_file(".custody-removing-0123456789abcdef/left.mp4", "aside");
	write_file(".custody-removing-0123456789abcdef/taken.mp4", "older");
	write_file("taken.mp4", "newer");
	assert_int_equal(mkdir(at(".custody-removing-fake"), 0777), 0);
	assert_int_equal(chmod(at(".custody-removing-fake"), 0777), 0);
	write_file(".custody-removing-fake/other.mp4", "theirs");
	assert_int_equal(zfile_sweep(zone, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(read_file("left.mp4"), "aside");
	assert_string_equal(read_file("taken.mp4"), "newer");
	assert_string_equal(read_file("taken.mp4.custody-returned-1"), "older");
	assert_null(read_file(".custody-removing-0123456789abcdef/left.mp4"));
	assert_string_equal(read_file(".custody-removing-fake/other.mp4"), "theirs");
	assert_null(read_file("other.mp4"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_refuses_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_after_folder_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_changed_or_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
