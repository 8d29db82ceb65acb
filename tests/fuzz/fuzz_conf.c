/* libFuzzer target: the configuration parser, cfg_load() (conf/conf.c over inih).
 *
 * The input is the file: written to a memfd and loaded by its /proc/self/fd path, so no file
 * is left behind and cfg_load() reads it as it reads /etc/custody/custody.conf.  Checked
 * beyond the sanitizers: a failure fills reterr with the code it returned and a message; a
 * success gives what conf.h promises: origin and key set, at least one zone, every path
 * absolute and normalised (no "//", no final '/', no "." or ".." component), zone paths
 * distinct. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf/conf.h"
#include "base/err.h"

static int fd = -1;

static void check_path(const char *what, const char *p)
{
	size_t n;

	if (!p)
		return;
	n = strlen(p);
	if (p[0] != '/' || strstr(p, "//") || (n > 1 && p[n - 1] == '/') || strstr(p, "/./") ||
	    strstr(p, "/../") || (n >= 2 && !strcmp(p + n - 2, "/.")) ||
	    (n >= 3 && !strcmp(p + n - 3, "/.."))) {
		fprintf(stderr, "fuzz_conf: %s '%s' is not an absolute, normal path\n", what, p);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err_detail e = { 0 };
	struct cfg *cfg = NULL;
	char path[64];
	int r;

	if (fd < 0) {
		fd = memfd_create("custody.conf", MFD_CLOEXEC);
		if (fd < 0) {
			perror("fuzz_conf: memfd_create");
			abort();
		}
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size) {
		perror("fuzz_conf: write");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = cfg_load(path, &cfg, &e);
	if (r < 0) {
		if (e.code != r || !e.msg[0] || !memchr(e.msg, '\0', sizeof(e.msg)) || cfg) {
			fprintf(stderr, "fuzz_conf: error %d without its detail\n", r);
			abort();
		}
		return 0;
	}
	if (r != 0 || !cfg || !cfg->origin || !cfg->key || !cfg->nzones) {
		fprintf(stderr, "fuzz_conf: a loaded configuration without origin, key or zone\n");
		abort();
	}
	check_path("key", cfg->key);
	check_path("verifier_key", cfg->verifier_key);
	check_path("state", cfg->state);
	check_path("store path", cfg->store_path);
	check_path("socket path", cfg->socket_path);
	for (size_t i = 0; i < cfg->nzones; i++) {
		check_path("zone path", cfg->zones[i].path);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(cfg->zones[i].path, cfg->zones[j].path) ||
			    !strcmp(cfg->zones[i].name, cfg->zones[j].name)) {
				fprintf(stderr, "fuzz_conf: two zones share a path or a name\n");
				abort();
			}
	}
	cfg_free(cfg);
	return 0;
}
