/* test_conf.c: conf/conf.c: the shipped custody.conf loads and documents every key of
 * cfg_keys[] with the table's default; the example of docs/config.md loads; each kind of
 * mistake gives its code, the exact line and a "FILE:LINE: " message.  The .c is #included so
 * that the test can walk cfg_keys[], which is static.
 *
 * One file because it is the one test executable of conf/conf.c (meson runs each in its own
 * process), and its tests share load_text(), load_file() and expect_error_at(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.c"

#define DATA TEST_DATA "/conf/"
#define END ((const char *)NULL) /* ends expect_error_at()'s list (NULL may be a plain 0) */
#define SHIPPED TEST_DATA "/../../conf/custody.conf"

/* Write @text to a new temporary file; the caller unlink()s and free()s the path. */
static char *write_tmp(const char *text)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	FILE *f;
	int fd;

	assert_true(asprintf(&path, "%s/test-conf-XXXXXX", dir && *dir ? dir : "/tmp") > 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* Load @path and expect failure @code at @line, the message starting "PATH:LINE: " (or
 * "PATH: " for line 0) and holding each of the NULL-terminated substrings. */
static void expect_error_at(const char *path, int code, unsigned line, ...)
{
	struct err_detail e = { 0 };
	struct cfg *cfg = NULL;
	char prefix[PATH_MAX + 32];
	const char *want;
	va_list ap;

	assert_int_equal(cfg_load(path, &cfg, &e), code);
	assert_null(cfg);
	print_message("    %s\n", e.msg);
	assert_int_equal(e.code, code);
	assert_int_equal(e.line, line);
	if (line)
		snprintf(prefix, sizeof(prefix), "%s:%u: ", path, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", path);
	assert_memory_equal(e.msg, prefix, strlen(prefix));
	va_start(ap, line);
	while ((want = va_arg(ap, const char *)))
		if (!strstr(e.msg, want))
			fail_msg("'%s' not in '%s'", want, e.msg);
	va_end(ap);
}

#define expect_fixture(name, code, line, ...)                                                      \
	expect_error_at(DATA name, code, line, __VA_ARGS__, END)

#define expect_text(text, line, ...)                                                               \
	do {                                                                                       \
		char *p_ = write_tmp(text);                                                        \
		expect_error_at(p_, -EINVAL, line, __VA_ARGS__, END);                              \
		unlink(p_);                                                                        \
		free(p_);                                                                          \
	} while (0)

#define BASE                                                                                       \
	"[log]\n"                                                                                  \
	"origin = test.example/custody\n"                                                          \
	"key = /etc/custody/log.key\n"                                                             \
	"[zone dock]\n"                                                                            \
	"path = /srv/custody/dock\n"

static struct cfg *load_text(const char *text)
{
	struct err_detail e = { 0 };
	struct cfg *cfg = NULL;
	char *p = write_tmp(text);
	int r = cfg_load(p, &cfg, &e);

	if (r < 0)
		fail_msg("cfg_load: %d %s", r, e.msg);
	unlink(p);
	free(p);
	return cfg;
}

static struct cfg *load_file(const char *path)
{
	struct err_detail e = { 0 };
	struct cfg *cfg = NULL;
	int r = cfg_load(path, &cfg, &e);

	if (r < 0)
		fail_msg("cfg_load: %d %s", r, e.msg);
	assert_non_null(cfg);
	return cfg;
}

static void assert_str_or_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

/* Every field but cfg->file. */
static void assert_cfg_equal(const struct cfg *a, const struct cfg *b)
{
	assert_string_equal(a->origin, b->origin);
	assert_string_equal(a->key, b->key);
	assert_string_equal(a->verifier_key, b->verifier_key);
	assert_string_equal(a->state, b->state);
	assert_int_equal(a->checkpoint_interval_ms, b->checkpoint_interval_ms);
	assert_string_equal(a->store_path, b->store_path);
	assert_int_equal(a->nzones, b->nzones);
	for (size_t i = 0; i < a->nzones; i++) {
		const struct cfg_zone *za = &a->zones[i], *zb = &b->zones[i];

		assert_string_equal(za->name, zb->name);
		assert_string_equal(za->path, zb->path);
		assert_int_equal(za->kind, zb->kind);
		assert_int_equal(za->settle_ms, zb->settle_ms);
		assert_str_or_null(za->name_pattern, zb->name_pattern);
		assert_str_or_null(za->device_clock, zb->device_clock);
	}
	assert_int_equal(a->storage_deadline_ms, b->storage_deadline_ms);
	assert_string_equal(a->device_clock, b->device_clock);
	assert_int_equal(a->split_tolerance_ms, b->split_tolerance_ms);
	assert_int_equal(a->clock_skew_ms, b->clock_skew_ms);
	assert_int_equal(a->workers, b->workers);
	assert_int_equal(a->rescan_interval_ms, b->rescan_interval_ms);
	assert_int_equal(a->probe_timeout_ms, b->probe_timeout_ms);
	assert_int_equal(a->max_streams, b->max_streams);
	assert_int_equal(a->max_packets, b->max_packets);
	assert_string_equal(a->socket_path, b->socket_path);
	assert_string_equal(a->operators, b->operators);
	assert_string_equal(a->reviewers, b->reviewers);
	assert_string_equal(a->auditors, b->auditors);
	assert_string_equal(a->approvers, b->approvers);
	assert_int_equal(a->max_clients, b->max_clients);
	assert_int_equal(a->max_clients_per_user, b->max_clients_per_user);
	assert_int_equal(a->idle_timeout_ms, b->idle_timeout_ms);
	assert_int_equal(a->max_request_bytes, b->max_request_bytes);
	assert_int_equal(a->witness_quorum, b->witness_quorum);
	assert_int_equal(a->witness_timeout_ms, b->witness_timeout_ms);
	assert_str_or_null(a->publish_path, b->publish_path);
	assert_int_equal(a->publish_entries, b->publish_entries);
	assert_int_equal(a->nwitnesses, b->nwitnesses);
	for (size_t i = 0; i < a->nwitnesses; i++) {
		assert_string_equal(a->witnesses[i].name, b->witnesses[i].name);
		assert_string_equal(a->witnesses[i].url, b->witnesses[i].url);
		assert_string_equal(a->witnesses[i].key, b->witnesses[i].key);
	}
}

/* The defaults the header and custody.conf promise, as numbers. */
static void assert_documented_defaults(const struct cfg *cfg)
{
	assert_string_equal(cfg->verifier_key, "/etc/custody/log.pub");
	assert_string_equal(cfg->state, "/var/lib/custody");
	assert_int_equal(cfg->checkpoint_interval_ms, 10 * 1000);
	assert_string_equal(cfg->store_path, "/var/lib/custody/store");
	assert_int_equal(cfg->storage_deadline_ms, 24 * 3600 * 1000);
	assert_string_equal(cfg->device_clock, "UTC");
	assert_int_equal(cfg->split_tolerance_ms, 3 * 1000);
	assert_int_equal(cfg->clock_skew_ms, 10 * 60 * 1000);
	assert_int_equal(cfg->workers, 2);
	assert_int_equal(cfg->rescan_interval_ms, 60 * 1000);
	assert_int_equal(cfg->probe_timeout_ms, 10 * 60 * 1000);
	assert_int_equal(cfg->max_streams, 16);
	assert_int_equal(cfg->max_packets, 20000000);
	assert_string_equal(cfg->socket_path, "/run/custody/custody.sock");
	assert_string_equal(cfg->operators, "custody-ops");
	assert_string_equal(cfg->reviewers, "custody-review");
	assert_string_equal(cfg->auditors, "custody-audit");
	assert_string_equal(cfg->approvers, "custody-approve");
	assert_int_equal(cfg->max_clients, 256);
	assert_int_equal(cfg->max_clients_per_user, 32);
	assert_int_equal(cfg->idle_timeout_ms, 60 * 1000);
	assert_int_equal(cfg->max_request_bytes, 1024 * 1024);
}

static void test_shipped_conf_loads_with_documented_defaults(void **state)
{
	struct cfg *cfg = load_file(SHIPPED);

	(void)state;
	assert_string_equal(cfg->file, SHIPPED);
	assert_string_equal(cfg->origin, "office.example/custody");
	assert_string_equal(cfg->key, "/etc/custody/log.key");
	assert_documented_defaults(cfg);
	assert_int_equal(cfg->nzones, 2);
	assert_string_equal(cfg->zones[0].name, "dock");
	assert_string_equal(cfg->zones[0].path, "/srv/custody/dock");
	assert_int_equal(cfg->zones[0].kind, CFG_ZONE_DOCK);
	assert_int_equal(cfg->zones[0].settle_ms, 5000);
	assert_string_equal(cfg->zones[0].name_pattern,
			    "{device}_{officer}_{start:%Y%m%d%H%M%S}_{seq}");
	assert_true(cfg->zones[0].name_pattern_line > 0);
	assert_null(cfg->zones[0].device_clock);
	assert_string_equal(cfg->zones[1].name, "upload");
	assert_string_equal(cfg->zones[1].path, "/srv/custody/upload");
	assert_int_equal(cfg->zones[1].kind, CFG_ZONE_UPLOAD);
	assert_int_equal(cfg->zones[1].settle_ms, 5000);
	assert_null(cfg->zones[1].name_pattern);
	assert_int_equal(cfg->zones[1].name_pattern_line, 0);
	assert_null(cfg->zones[1].device_clock);
	assert_null(cfg_free(cfg));
}

/* Does the section header @hdr ("[log]", "[zone dock]") hold the keys of @sec? */
static bool section_is(const char *hdr, enum cfg_section sec)
{
	char want[32];

	if (sec == SEC_ZONE)
		return strncmp(hdr, "[zone ", 6) == 0;
	snprintf(want, sizeof(want), "[%s]", section_names[sec]);
	return strncmp(hdr, want, strlen(want)) == 0;
}

/* custody.conf lists every key of the table in its section: a key with a default as
 * "#key = DEFAULT" (the table's text, exactly); a required key set, its line saying
 * "required"; a key without default at least as "# key = ...".  The zone keys are also
 * described in the comment block before the first zone. */
static void test_shipped_conf_documents_every_key(void **state)
{
	char *text = read_all(SHIPPED);

	(void)state;
	for (size_t i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		char hdr[64] = "", want[128];
		bool found = false;
		char *save = NULL, *copy = strdup(text);

		assert_non_null(copy);
		for (char *line = strtok_r(copy, "\n", &save); line && !found;
		     line = strtok_r(NULL, "\n", &save)) {
			if (line[0] == '[') {
				snprintf(hdr, sizeof(hdr), "%s", line);
				continue;
			}
			if (!section_is(hdr, k->section))
				continue;
			if (k->def) {
				snprintf(want, sizeof(want), "#%s = ", k->name);
				found = strncmp(line, want, strlen(want)) == 0 &&
					strcmp(line + strlen(want), k->def) == 0;
			} else if (k->required) {
				snprintf(want, sizeof(want), "%s = ", k->name);
				found = strncmp(line, want, strlen(want)) == 0 &&
					strstr(line, "; required");
			} else {
				snprintf(want, sizeof(want), "%s = ", k->name);
				found = strncmp(line, want, strlen(want)) == 0 ||
					(strncmp(line, "# ", 2) == 0 &&
					 strncmp(line + 2, want, strlen(want)) == 0);
			}
		}
		free(copy);
		/* The shipped file configures no witness: its keys are described in the comment
		 * block before the commented-out example, as the zone keys are. */
		if (k->section == SEC_WITNESS) {
			snprintf(want, sizeof(want), "#   %s = ", k->name);
			found = strstr(text, want) != NULL;
		}
		if (!found)
			fail_msg("custody.conf does not document [%s] %s%s%s",
				 section_names[k->section], k->name, k->def ? " = " : "",
				 k->def ? k->def : "");
		if (k->section == SEC_ZONE) {
			snprintf(want, sizeof(want), "#   %s = ", k->name);
			if (!strstr(text, want))
				fail_msg("the zone comment block does not describe '%s'", k->name);
		}
	}
	free(text);
}

/* Uncomment every "#key = default" line: the result loads to exactly what the shipped file
 * loads to, so what custody.conf shows as a default is what cfg_load() uses. */
static void test_shipped_conf_uncommented_defaults_change_nothing(void **state)
{
	char *text = read_all(SHIPPED), *out = malloc(strlen(text) + 1), *save = NULL, *tmp;
	struct cfg *shipped, *explicit;
	size_t n = 0, uncommented = 0;

	(void)state;
	assert_non_null(out);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t name = strspn(line + (line[0] == '#'), "abcdefghijklmnopqrstuvwxyz_");

		if (line[0] == '#' && name > 0 && strncmp(line + 1 + name, " = ", 3) == 0) {
			line++;
			uncommented++;
		}
		n += (size_t)sprintf(out + n, "%s\n", line);
	}
	/* Every key with a default, the zone keys once per zone that leaves them unset. */
	assert_true(uncommented >= 20);
	tmp = write_tmp(out);
	shipped = load_file(SHIPPED);
	explicit = load_file(tmp);
	assert_cfg_equal(shipped, explicit);
	cfg_free(shipped);
	cfg_free(explicit);
	unlink(tmp);
	free(tmp);
	free(out);
	free(text);
}

static void test_spec_example_loads(void **state)
{
	struct cfg *cfg = load_file(DATA "spec-example.conf");

	(void)state;
	assert_string_equal(cfg->origin, "office.example/custody");
	assert_string_equal(cfg->key, "/etc/custody/log.key");
	assert_string_equal(cfg->device_clock, "Asia/Shanghai");
	assert_int_equal(cfg->nzones, 1);
	assert_string_equal(cfg->zones[0].name, "dock");
	assert_string_equal(cfg->zones[0].device_clock, "Asia/Shanghai");
	assert_int_equal(cfg->zones[0].name_pattern_line, 15);
	/* Inline " ;" comments are gone from the values. */
	assert_int_equal(cfg->zones[0].kind, CFG_ZONE_DOCK);
	assert_int_equal(cfg->zones[0].settle_ms, 5000);
	assert_int_equal(cfg->checkpoint_interval_ms, 10000);
	assert_int_equal(cfg->storage_deadline_ms, 24 * 3600 * 1000);
	assert_int_equal(cfg->split_tolerance_ms, 3000);
	assert_int_equal(cfg->clock_skew_ms, 600000);
	assert_string_equal(cfg->socket_path, "/run/custody/custody.sock");
	assert_string_equal(cfg->operators, "custody-ops");
	assert_string_equal(cfg->approvers, "custody-approve");
	cfg_free(cfg);
}

/* The table itself: unique keys, field sizes that fit the types, defaults within bounds
 * (finish() parses them; a minimal config exercises every one). */
static void test_table(void **state)
{
	struct cfg *cfg;

	(void)state;
	for (size_t i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];

		for (size_t j = 0; j < i; j++)
			assert_false(cfg_keys[j].section == k->section &&
				     strcmp(cfg_keys[j].name, k->name) == 0);
		assert_false(k->required && k->def);
		assert_true(!k->required || k->hint);
		switch (k->type) {
		case CFG_T_DURATION:
		case CFG_T_SIZE:
		case CFG_T_UINT:
			assert_true(k->size == sizeof(unsigned) || k->size == sizeof(uint64_t));
			assert_true(k->min <= k->max);
			if (k->size == sizeof(unsigned))
				assert_true(k->max <= UINT_MAX);
			break;
		case CFG_T_KIND:
			assert_int_equal(k->size, sizeof(enum cfg_zone_kind));
			break;
		case CFG_T_BOOL:
			assert_int_equal(k->size, sizeof(bool));
			break;
		default:
			assert_int_equal(k->size, sizeof(char *));
		}
	}
	cfg = load_text(BASE);
	assert_documented_defaults(cfg);
	assert_int_equal(cfg->zones[0].kind, CFG_ZONE_DOCK);
	assert_int_equal(cfg->zones[0].settle_ms, 5000);
	assert_null(cfg->zones[0].name_pattern);
	cfg_free(cfg);
	assert_null(cfg_free(NULL));
}

static void test_parse_duration(void **state)
{
	static const struct {
		const char *s;
		uint64_t ms;
	} good[] = {
		{ "0", 0 },
		{ "0s", 0 },
		{ "10s", 10000 },
		{ "5m", 300000 },
		{ "24h", 86400000 },
		{ "2d", 172800000 },
		{ "007s", 7000 },
		{ "213503982334d", UINT64_C(213503982334) * 86400000 }, /* the largest whole days */
	};
	static const char *const bad[] = {
		"",
		"s",
		"10",
		"-5s",
		"+5s",
		" 5s",
		"5s ",
		"5 s",
		"5S",
		"5ms",
		"1h30m",
		"1.5h",
		"5sec",
		"0x10s",
		"5m5",
		"213503982335d",
		"99999999999999999999s",
		"18446744073709551616",
	};
	uint64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = 1;
		assert_int_equal(cfg_parse_duration(good[i].s, &ms), 0);
		assert_int_equal(ms, good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 12345;
		if (cfg_parse_duration(bad[i], &ms) != -EINVAL)
			fail_msg("'%s' parsed", bad[i]);
		assert_int_equal(ms, 12345);
	}
	assert_int_equal(cfg_parse_duration(NULL, &ms), -EINVAL);
}

static void test_unknown_section(void **state)
{
	(void)state;
	expect_fixture("bad-unknown-section.conf", -EINVAL, 8,
		       DATA "bad-unknown-section.conf:8: ", "unknown section [logging]");
	/* A section without keys reaches no inih handler; the reader still sees it. */
	expect_fixture("bad-unknown-empty-section.conf", -EINVAL, 8, "unknown section [zones]");
	expect_text("origin = x\n" BASE, 1, "'origin' is outside any section");
	expect_text(BASE "[zone]\npath = /srv/x\n", 6, "[zone] needs a name");
	expect_text(BASE "[zonex]\n", 6, "unknown section [zonex]");
	expect_text(BASE "[rules] extra\n", 6, "unexpected text after ']'");
	expect_text(BASE "[log]\n", 6, "[log] is repeated (first at line 1)");
	expect_text(BASE "[Log]\n", 6, "unknown section [Log]");
}

static void test_unknown_key(void **state)
{
	(void)state;
	expect_fixture("bad-unknown-key.conf", -EINVAL, 3, "unknown key 'colour' in [log]",
		       "origin, key, verifier_key, state, checkpoint_interval");
	expect_text(BASE "settel = 5s\n", 6, "unknown key 'settel' in [zone dock]");
	expect_text(BASE "[socket]\nmax_client = 3\n", 7, "unknown key 'max_client' in [socket]");
}

static void test_duplicate_key(void **state)
{
	(void)state;
	expect_fixture("bad-duplicate-key.conf", -EINVAL, 9,
		       "[zone dock] settle is already set at line 7");
	expect_text(BASE "[rules]\nclock_skew = 1m\n\nclock_skew = 1m\n", 9,
		    "[rules] clock_skew is already set at line 7");
	/* The same key in two zones is fine. */
	cfg_free(load_text(BASE "settle = 1s\n[zone up]\npath = /srv/up\nsettle = 2s\n"));
}

static void test_bad_duration(void **state)
{
	(void)state;
	expect_fixture("bad-duration.conf", -EINVAL, 5,
		       "[log] checkpoint_interval = '10' is not a duration", "a unit s, m, h or d");
	expect_text(BASE "settle = -5s\n", 6, "settle = '-5s' is not a duration");
	expect_text(BASE "settle = 5 s\n", 6, "settle = '5 s' is not a duration");
	expect_text(BASE "settle = 1h30m\n", 6, "is not a duration");
	expect_text(BASE "settle = 99999999999999999999d\n", 6,
		    "settle = 99999999999999999999d is out of range: 0 to 1h");
}

static void test_out_of_range(void **state)
{
	(void)state;
	expect_fixture("bad-range.conf", -EINVAL, 10,
		       "[ingest] workers = 17 is out of range: 1 to 16");
	expect_text(BASE "[ingest]\nworkers = 0\n", 7, "workers = 0 is out of range: 1 to 16");
	expect_text(BASE "[ingest]\nworkers = two\n", 7, "workers = 'two' is not a whole number");
	expect_text(BASE "[ingest]\nmax_packets = 1000000001\n", 7,
		    "out of range: 1 to 1000000000");
	expect_text(BASE "[ingest]\nmax_streams = 99999999999999999999999\n", 7,
		    "max_streams = 99999999999999999999999 is out of range: 1 to 1024");
	expect_text("[log]\norigin = o\nkey = /k\ncheckpoint_interval = 0\n[zone a]\npath = /a\n",
		    4, "[log] checkpoint_interval = 0 is out of range: 1s to 1d");
	expect_text(BASE "settle = 61m\n", 6, "[zone dock] settle = 61m is out of range: 0 to 1h");
	expect_text(BASE "[rules]\nstorage_deadline = 31d\n", 7, "out of range: 1h to 30d");
	expect_text(BASE "[rules]\nsplit_tolerance = 11m\n", 7, "out of range: 0 to 10m");
	expect_text(BASE "[rules]\nclock_skew = 2d\n", 7, "out of range: 0 to 1d");
	expect_text(BASE "[ingest]\nrescan_interval = 0s\n", 7, "out of range: 1s to 1d");
	expect_text(BASE "[ingest]\nprobe_timeout = 25h\n", 7, "out of range: 1s to 1d");
	expect_text(BASE "[socket]\nidle_timeout = 2h\n", 7, "out of range: 1s to 1h");
	expect_text(BASE "[socket]\nmax_clients = 4097\n", 7, "out of range: 1 to 4096");
	expect_text(BASE "[socket]\nmax_request_bytes = 17MiB\n", 7,
		    "max_request_bytes = 17MiB is out of range: 1KiB to 16MiB");
	expect_text(BASE "[socket]\nmax_request_bytes = 1023\n", 7, "out of range: 1KiB to 16MiB");
	expect_text(BASE "[socket]\nmax_request_bytes = 1MB\n", 7, "'1MB' is not a size");
}

static void test_bad_kind(void **state)
{
	(void)state;
	expect_fixture("bad-kind.conf", -EINVAL, 7,
		       "[zone dock] kind = 'docking' is not a zone kind: write dock or upload");
	expect_text(BASE "kind = Dock\n", 6, "is not a zone kind");
}

static void test_missing_required(void **state)
{
	(void)state;
	expect_fixture("bad-missing-origin.conf", -EINVAL, 0, "[log] origin is required",
		       "office.example/custody");
	expect_text("[log]\norigin = o\n[zone a]\npath = /a\n", 0, "[log] key is required");
	/* A zone without its path: the zone's own line. */
	expect_fixture("bad-missing-zone-path.conf", -EINVAL, 8,
		       "[zone upload] has no path, which is required");
	expect_text(BASE "[zone empty]\n", 6, "[zone empty] has no path");
	expect_fixture("bad-no-zone.conf", -EINVAL, 0, "no drop zone");
	expect_text(BASE "[rules]\ndevice_clock =\n", 7, "[rules] device_clock has no value");
	expect_text("[log]\norigin = ; to be decided\nkey = /k\n[zone a]\npath = /a\n", 2,
		    "[log] origin has no value (it is required)");
}

static void test_relative_path(void **state)
{
	(void)state;
	expect_fixture("bad-relative-path.conf", -EINVAL, 6,
		       "[store] path = 'var/lib/custody/store' must be an absolute path");
	expect_text("[log]\norigin = o\nkey = log.key\n[zone a]\npath = /a\n", 3,
		    "[log] key = 'log.key' must be an absolute path");
	expect_text(BASE "[zone up]\npath = /srv/custody/../up\n", 7,
		    "must not contain '.' or '..' components");
	expect_text(BASE "[zone up]\npath = ~/up\n", 7, "must be an absolute path");
}

static void test_overlapping_zones(void **state)
{
	(void)state;
	/* Two places: the later line, and both lines in the message. */
	expect_fixture("bad-nested-zones.conf", -EINVAL, 9,
		       "[zone upload] path '/srv/custody/upload' (line 9) is inside [zone dock] "
		       "path '/srv/custody' (line 6)",
		       "drop zones must not overlap");
	expect_fixture("bad-same-zone-path.conf", -EINVAL, 10,
		       "[zone dock] path (line 6) and [zone upload] path (line 10) are the same "
		       "path '/srv/custody/dock'");
	expect_fixture("bad-duplicate-zone.conf", -EINVAL, 8,
		       "[zone dock] is already defined at line 5");
	expect_text(BASE "[zone all]\npath = /\n", 7,
		    "[zone dock] path '/srv/custody/dock' (line 5) "
		    "is inside [zone all] path '/' (line 7)");
	/* A common prefix is not nesting. */
	cfg_free(load_text(BASE "[zone dock2]\npath = /srv/custody/dock2\n"));
}

static void test_zone_inside_store(void **state)
{
	(void)state;
	expect_fixture("bad-zone-in-store.conf", -EINVAL, 9,
		       "[zone dock] path '/srv/custody/dock' (line 9) is inside [store] path "
		       "'/srv/custody' (line 6)",
		       "a drop zone must lie outside the store");
	/* The store's default lies in a zone: only the zone has a line. */
	expect_fixture("bad-store-in-zone.conf", -EINVAL, 6,
		       "[store] path '/var/lib/custody/store' (default) is inside [zone dock] path "
		       "'/var/lib' (line 6)");
	expect_text(BASE "[zone up]\npath = /var/lib/custody/upload\n", 7,
		    "[zone up] path '/var/lib/custody/upload' (line 7) is inside [log] state "
		    "'/var/lib/custody' (default)");
	expect_text(BASE "[zone st]\npath = /var/lib/custody\n", 7,
		    "[store] path '/var/lib/custody/store' (default) is inside [zone st] path "
		    "'/var/lib/custody' (line 7)");
	expect_text("[log]\norigin = o\nkey = /k\nstate = /srv/a/\n[zone a]\npath = /srv/a\n", 6,
		    "[log] state (line 4) and [zone a] path (line 6) are the same path '/srv/a'");
	expect_fixture("bad-key-in-zone.conf", -EINVAL, 6,
		       "[log] key '/srv/custody/dock/log.key' (line 3) is inside [zone dock] path "
		       "'/srv/custody/dock' (line 6)",
		       "take it as evidence");
	expect_text(BASE "[socket]\npath = /srv/custody/dock/s.sock\n", 7,
		    "[socket] path '/srv/custody/dock/s.sock' (line 7) is inside [zone dock]");
}

static void test_bad_device_clock(void **state)
{
	(void)state;
	expect_fixture("bad-device-clock.conf", -EINVAL, 9,
		       "[rules] device_clock = 'Asia/Shangai' is not a known time zone",
		       "/usr/share/zoneinfo");
	expect_fixture("bad-device-clock-dotdot.conf", -EINVAL, 7,
		       "[zone dock] device_clock = '../../../etc/passwd'", "'..'");
	expect_text(BASE "device_clock = /etc/localtime\n", 6, "is a path");
	expect_text(BASE "device_clock = Asia\n", 6, "is not a known time zone");
	if (access("/usr/share/zoneinfo/zone.tab", F_OK) == 0)
		expect_text(BASE "device_clock = zone.tab\n", 6, "is not a known time zone");
	expect_text(BASE "device_clock = Asia/Shang hai\n", 6, "is not a time zone name");
	expect_text(BASE "device_clock = utc\n", 6, "device_clock = 'utc'");
}

static void test_syntax_error(void **state)
{
	(void)state;
	/* inih's own errors: its line number. */
	expect_fixture("bad-syntax.conf", -EINVAL, 7, "syntax error: expected 'key = value'");
	expect_fixture("bad-syntax-section.conf", -EINVAL, 8, "needs its closing ']'");
	/* inih's error comes first in the file, ours later: inih's is reported. */
	expect_text("[log]\njunk\ncolour = red\n", 2, "syntax error");
	/* Ours first. */
	expect_text("[log]\ncolour = red\njunk\n", 2, "unknown key 'colour'");
	expect_text(BASE "[rules ; x]\n", 6, "needs its closing ']'");
}

static void test_missing_file(void **state)
{
	struct cfg *cfg = NULL;

	(void)state;
	expect_error_at(DATA "does-not-exist.conf", -ENOENT, 0, "cannot open", END);
	expect_error_at(DATA, -EINVAL, 0, "not a regular file", END);
	/* reterr may be NULL. */
	assert_int_equal(cfg_load(DATA "does-not-exist.conf", &cfg, NULL), -ENOENT);
	assert_int_equal(cfg_load(DATA "bad-kind.conf", &cfg, NULL), -EINVAL);
	assert_null(cfg);
}

/* Lines: inline comments, indentation, quotes, '#' after a value, CRLF, BOM, long lines. */
static void test_lines(void **state)
{
	struct cfg *cfg;
	char *longline;

	(void)state;
	/* Debian's inih continues an indented line as the previous value; we strip indentation
	 * first, so indented keys are plain keys. */
	cfg = load_text("\xef\xbb\xbf[log]\r\n  origin = o   ; comment\r\n\tkey = /k\r\n"
			"[zone a]\n  path = /a\n    kind = upload\n\n  settle = 0\n");
	assert_string_equal(cfg->origin, "o");
	assert_string_equal(cfg->key, "/k");
	assert_int_equal(cfg->zones[0].kind, CFG_ZONE_UPLOAD);
	assert_int_equal(cfg->zones[0].settle_ms, 0);
	cfg_free(cfg);
	/* ';' without a space before it is part of the value. */
	expect_text(BASE "settle = 5s;x\n", 6, "settle = '5s;x' is not a duration");
	expect_text(BASE "path2 = /x # comment\n", 6, "unknown key 'path2'");
	expect_text(BASE "name_pattern = {device} # cameras\n", 6,
		    "' #' does not start a comment after a value, ' ;' does");
	expect_text(BASE "name_pattern = \"{device}\"\n", 6, "write the value without quotes");
	longline = malloc(512);
	assert_non_null(longline);
	snprintf(longline, 512, BASE "name_pattern = %0300d\n", 0);
	expect_text(longline, 6, "the line is longer than 197 characters");
	free(longline);
	/* 197 characters fit. */
	longline = malloc(512);
	assert_non_null(longline);
	snprintf(longline, 512, BASE "name_pattern = %0182d\n", 7);
	cfg = load_text(longline);
	assert_int_equal(strlen(cfg->zones[0].name_pattern), 182);
	assert_int_equal(cfg->zones[0].name_pattern_line, 6);
	cfg_free(cfg);
	free(longline);
}

static void test_values(void **state)
{
	struct cfg *cfg;

	(void)state;
	cfg = load_text("[log]\norigin = office/custody\nkey = //etc///custody/log.key/\n"
			"[store]\npath = /store/\n"
			"[zone Front desk]\npath = /srv/front/\nsettle = 2m\n"
			"[rules]\ndevice_clock = Asia/Shanghai\n"
			"[socket]\noperators = ops ,  night-ops,x\nmax_request_bytes = 4096\n"
			"[ingest]\nmax_packets = 1000000000\n");
	assert_string_equal(cfg->key, "/etc/custody/log.key");
	assert_string_equal(cfg->store_path, "/store");
	assert_string_equal(cfg->zones[0].name, "Front desk");
	assert_string_equal(cfg->zones[0].path, "/srv/front");
	assert_int_equal(cfg->zones[0].settle_ms, 120000);
	assert_string_equal(cfg->operators, "ops,night-ops,x");
	assert_int_equal(cfg->max_request_bytes, 4096);
	assert_int_equal(cfg->max_packets, 1000000000);
	cfg_free(cfg);
	expect_text(BASE "[socket]\noperators = ops,,x\n", 7, "has an empty group name");
	expect_text(BASE "[socket]\nreviewers = a:b\n", 7, "':'");
	expect_text("[log]\norigin = office custody\nkey = /k\n[zone a]\npath = /a\n", 2,
		    "[log] origin = 'office custody' contains white space");
	expect_text("[log]\norigin = a+b\nkey = /k\n[zone a]\npath = /a\n", 2, "plus sign");
	expect_text(BASE "[zone \x1b[31m]\npath = /x\n", 6, "zone name '?[31m' contains a control");
}

/* [socket] max_clients_per_user: a count, 0 for none, at most max_clients.  Left unset, the
 * default 32 gives way to a smaller max_clients (files from before the key still load); set,
 * a larger value is an error at the later of the two lines, naming both. */
static void test_max_clients_per_user(void **state)
{
	struct cfg *cfg;

	(void)state;
	cfg = load_text(BASE "[socket]\nmax_clients_per_user = 3\n");
	assert_int_equal(cfg->max_clients_per_user, 3);
	assert_int_equal(cfg->max_clients, 256);
	cfg_free(cfg);
	cfg = load_text(BASE "[socket]\nmax_clients_per_user = 0\n");
	assert_int_equal(cfg->max_clients_per_user, 0);
	cfg_free(cfg);
	cfg = load_text(BASE "[socket]\nmax_clients_per_user = 16\nmax_clients = 16\n");
	assert_int_equal(cfg->max_clients_per_user, 16);
	assert_int_equal(cfg->max_clients, 16);
	cfg_free(cfg);
	cfg = load_text(BASE "[socket]\nmax_clients = 8\n");
	assert_int_equal(cfg->max_clients_per_user, 8);
	cfg_free(cfg);

	expect_text(BASE "[socket]\nmax_clients = 16\nmax_clients_per_user = 17\n", 8,
		    "[socket] max_clients_per_user = 17 (line 8) is more than [socket] "
		    "max_clients = 16 (line 7): lower it to at most 16 (0: no per-user limit)");
	expect_text(BASE "[socket]\nmax_clients_per_user = 17\n\nmax_clients = 16\n", 9,
		    "max_clients_per_user = 17 (line 7) is more than [socket] max_clients = 16 "
		    "(line 9)");
	expect_text(BASE "[socket]\nmax_clients_per_user = 257\n", 7,
		    "max_clients_per_user = 257 (line 7) is more than [socket] max_clients = 256 "
		    "(default)");
	expect_text(BASE "[socket]\nmax_clients_per_user = 4097\n", 7,
		    "[socket] max_clients_per_user = 4097 is out of range: 0 to 4096");
	expect_text(BASE "[socket]\nmax_clients_per_user = -1\n", 7,
		    "max_clients_per_user = '-1' is not a whole number");
}

#define WKEY1 "court.example+01020304+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
#define WKEY2 "office2.example+a1b2c3d4+BCIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="

/* [publish] and [witness NAME]: defaults (nothing published, no witness needed), values, and
 * what is refused at its line. */
static void test_publish_and_witnesses(void **state)
{
	struct cfg *cfg;

	(void)state;
	cfg = load_text(BASE);
	assert_null(cfg->publish_path);
	assert_false(cfg->publish_entries);
	assert_int_equal(cfg->nwitnesses, 0);
	assert_int_equal(cfg->witness_quorum, 0);
	assert_int_equal(cfg->witness_timeout_ms, 3600000);
	cfg_free(cfg);

	cfg = load_text("[log]\norigin = o.example/c\nkey = /k\nwitness_quorum = 2\n"
			"witness_timeout = 30m\n[zone dock]\npath = /srv/dock\n"
			"[publish]\npath = /srv/public//\nentries = yes\n"
			"[witness court]\nurl = https://w.court.example:8443/custody\nkey = " WKEY1
			"\n[witness office2]\nurl = http://10.0.0.7:7380\nkey = " WKEY2 "\n");
	assert_string_equal(cfg->publish_path, "/srv/public");
	assert_true(cfg->publish_entries);
	assert_int_equal(cfg->witness_quorum, 2);
	assert_int_equal(cfg->witness_timeout_ms, 30 * 60000);
	assert_int_equal(cfg->nwitnesses, 2);
	assert_string_equal(cfg->witnesses[0].name, "court");
	assert_string_equal(cfg->witnesses[0].url, "https://w.court.example:8443/custody");
	assert_string_equal(cfg->witnesses[0].key, WKEY1);
	assert_int_equal(cfg->witnesses[0].line, 11);
	assert_string_equal(cfg->witnesses[1].name, "office2");
	assert_string_equal(cfg->witnesses[1].url, "http://10.0.0.7:7380");
	cfg_free(cfg);

	expect_text(BASE "[publish]\nentries = maybe\n", 7,
		    "entries = 'maybe' is neither yes nor no");
	expect_text(BASE "[publish]\npath = /var/lib/custody/store/pub\n", 7,
		    "the published folder must lie outside the store");
	expect_text(BASE "[publish]\npath = /var/lib\n", 7, "the store must not be published");
	expect_text(BASE "[store]\npath = /srv/store\n[publish]\npath = /var/lib\n", 9,
		    "the state folder must not be published");
	expect_text(BASE "[publish]\npath = /srv/custody/dock/pub\n", 7,
		    "would take the published files as evidence");
	expect_text(BASE "[publish]\npath = /srv\n", 7, "must not be published");
	expect_text(BASE "[witness]\n", 6, "[witness] needs a name");
	expect_text(BASE "[witness w]\nkey = " WKEY1 "\n", 6, "[witness w] has no url");
	expect_text(BASE "[witness w]\nurl = http://w\n", 6, "[witness w] has no key");
	expect_text(BASE "[witness w]\nurl = ftp://w\n", 7, "is not an http:// or https:// URL");
	expect_text(BASE "[witness w]\nurl = https://u@w/x\n", 7, "carries a user name");
	expect_text(BASE "[witness w]\nurl = https://w/x/\n", 7, "ends in '/'");
	expect_text(BASE "[witness w]\nurl = https://w/x?y\n", 7, "has a query");
	expect_text(BASE "[witness w]\nurl = https://\n", 7, "has no host");
	expect_text(BASE "[witness w]\nkey = /etc/custody/w.pub\n", 7, "is not a verifier key");
	expect_text(BASE "[witness w]\nkey = w+0102+AQID\n", 7, "no 8-digit key ID");
	expect_text(BASE "[witness w]\nkey = w+01020304+A!\n", 7, "does not end in a base64 key");
	expect_text(BASE "[witness w]\nurl = http://a\nkey = " WKEY1 "\n[witness w]\n", 9,
		    "[witness w] is already defined at line 6");
	expect_text(BASE "[witness a]\nurl = http://a\nkey = " WKEY1
			 "\n[witness b]\nurl = http://b\nkey = " WKEY1 "\n",
		    11, "[witness b] key is the key of [witness a] (line 8)");
	expect_text("[log]\norigin = o\nkey = /k\nwitness_quorum = 2\n[zone d]\npath = /d\n"
		    "[witness a]\nurl = http://a\nkey = " WKEY1 "\n",
		    4,
		    "witness_quorum = 2 needs that many witnesses, but 1 [witness NAME] section "
		    "is configured");
	expect_text(BASE "[log]\n", 6, "[log] is repeated");
	expect_text(BASE "[witness w]\nurl = http://a\nkey = " WKEY1 "\nsettle = 5s\n", 9,
		    "unknown key 'settle' in [witness w]: the keys are url, key");
}

/* A struct cfg is independent of the file: loading twice gives two equal configs. */
static void test_reload(void **state)
{
	struct cfg *a = load_file(SHIPPED), *b = load_file(SHIPPED);

	(void)state;
	assert_ptr_not_equal(a, b);
	assert_cfg_equal(a, b);
	cfg_free(a);
	cfg_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_conf_loads_with_documented_defaults),
		cmocka_unit_test(test_shipped_conf_documents_every_key),
		cmocka_unit_test(test_shipped_conf_uncommented_defaults_change_nothing),
		cmocka_unit_test(test_spec_example_loads),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_bad_duration),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_bad_kind),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_relative_path),
		cmocka_unit_test(test_overlapping_zones),
		cmocka_unit_test(test_zone_inside_store),
		cmocka_unit_test(test_bad_device_clock),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_max_clients_per_user),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_publish_and_witnesses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
