/* test_file.c: base/file.c on real files in a fresh folder: whole-file reads with their cap,
 * the kinds of file refused, pipes, and the atomic replacement. */
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
#include "base/file.h"

struct fx {
	char dir[64];
	int dfd;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/custody-test-file.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fx->dfd = open(fx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fx->dfd >= 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	close(fx->dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static void put(const struct fx *fx, const char *name, const void *data, size_t len)
{
	int fd = openat(fx->dfd, name, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(file_write_full(fd, data, len), 0);
	close(fd);
}

static void test_read_at(void **state)
{
	struct fx *fx = *state;
	struct err_detail e;
	char *buf = NULL, big[10000];
	size_t len = 99;

	put(fx, "a", "hello", 5);
	assert_int_equal(file_read_at(fx->dfd, "a", O_NONBLOCK, 5, &buf, &len, &e), 0);
	assert_int_equal(len, 5);
	assert_string_equal(buf, "hello");
	free(buf);
	buf = NULL;
	assert_int_equal(file_read_at(fx->dfd, "a", 0, 4, &buf, &len, &e), -EFBIG);
	assert_non_null(strstr(e.msg, "too large"));
	assert_null(buf);

	put(fx, "empty", "", 0);
	assert_int_equal(file_read_at(fx->dfd, "empty", 0, 0, &buf, NULL, &e), 0);
	assert_string_equal(buf, "");
	free(buf);

	/* Larger than the first allocation: the buffer grows. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	put(fx, "big", big, sizeof(big));
	assert_int_equal(file_read_at(fx->dfd, "big", 0, sizeof(big), &buf, &len, &e), 0);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(buf, big, sizeof(big));
	assert_int_equal(buf[len], '\0');
	free(buf);
}

static void test_read_refused(void **state)
{
	struct fx *fx = *state;
	struct err_detail e;
	char *buf = NULL;

	assert_int_equal(file_read_at(fx->dfd, "none", 0, 10, &buf, NULL, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "'none'"));
	assert_int_equal(mkdirat(fx->dfd, "d", 0700), 0);
	assert_int_equal(file_read_at(fx->dfd, "d", 0, 10, &buf, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not a regular file"));
	/* A FIFO opened O_NONBLOCK does not wait for a writer, and is refused. */
	assert_int_equal(mkfifoat(fx->dfd, "fifo", 0600), 0);
	assert_int_equal(file_read_at(fx->dfd, "fifo", O_NONBLOCK, 10, &buf, NULL, &e), -EINVAL);
	put(fx, "target", "x", 1);
	assert_int_equal(symlinkat("target", fx->dfd, "link"), 0);
	assert_int_equal(file_read_at(fx->dfd, "link", O_NOFOLLOW, 10, &buf, NULL, &e), -ELOOP);
	assert_null(buf);
}

static void test_read_fd_pipe(void **state)
{
	struct err_detail e;
	char *buf = NULL, data[6000];
	size_t len;
	int p[2];

	(void)state;
	memset(data, 'p', sizeof(data));
	assert_int_equal(pipe(p), 0);
	assert_int_equal(file_write_full(p[1], data, sizeof(data)), 0);
	close(p[1]);
	assert_int_equal(file_read_fd(p[0], sizeof(data), &buf, &len, &e), 0);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(buf, data, sizeof(data));
	free(buf);
	close(p[0]);

	buf = NULL;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(file_write_full(p[1], data, sizeof(data)), 0);
	close(p[1]);
	assert_int_equal(file_read_fd(p[0], sizeof(data) - 1, &buf, &len, &e), -EFBIG);
	assert_null(buf);
	close(p[0]);
}

static void test_read_full(void **state)
{
	struct fx *fx = *state;
	char buf[16];
	int fd;

	put(fx, "a", "0123456789", 10);
	fd = openat(fx->dfd, "a", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(file_read_full(fd, buf, 4), 4);
	assert_memory_equal(buf, "0123", 4);
	assert_int_equal(file_read_full(fd, buf, sizeof(buf)), 6);
	assert_int_equal(file_read_full(fd, buf, sizeof(buf)), 0);
	close(fd);
	assert_int_equal(file_read_full(-1, buf, 1), -EBADF);
}

static void test_write_atomic(void **state)
{
	struct fx *fx = *state;
	struct err_detail e;
	char path[128], *buf;
	struct stat st;
	mode_t old = umask(022);

	snprintf(path, sizeof(path), "%s/state.json", fx->dir);
	assert_int_equal(file_write_atomic(AT_FDCWD, path, "{\"v\":1}", 7, 0640, &e), 0);
	assert_int_equal(file_read_at(fx->dfd, "state.json", 0, 100, &buf, NULL, &e), 0);
	assert_string_equal(buf, "{\"v\":1}");
	free(buf);
	assert_int_equal(fstatat(fx->dfd, "state.json", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* Replaced whole, and no temp file left. */
	assert_int_equal(file_write_atomic(fx->dfd, "state.json", "2", 1, 0640, &e), 0);
	assert_int_equal(file_read_at(fx->dfd, "state.json", 0, 100, &buf, NULL, &e), 0);
	assert_string_equal(buf, "2");
	free(buf);
	assert_int_equal(faccessat(fx->dfd, "state.json.tmp", F_OK, 0), -1);
	assert_int_equal(errno, ENOENT);
	/* The temp name is never followed as a link: what it points to is left alone. */
	put(fx, "victim", "keep", 4);
	assert_int_equal(symlinkat("victim", fx->dfd, "x.tmp"), 0);
	assert_int_equal(file_write_atomic(fx->dfd, "x", "new", 3, 0600, &e), -ELOOP);
	assert_int_equal(file_read_at(fx->dfd, "victim", 0, 100, &buf, NULL, &e), 0);
	assert_string_equal(buf, "keep");
	free(buf);
	/* No folder: nothing written, and the message names the file. */
	snprintf(path, sizeof(path), "%s/missing/x", fx->dir);
	assert_int_equal(file_write_atomic(AT_FDCWD, path, "1", 1, 0600, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "missing/x"));
	umask(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_at, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_refused, setup, teardown),
		cmocka_unit_test(test_read_fd_pipe),
		cmocka_unit_test_setup_teardown(test_read_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
