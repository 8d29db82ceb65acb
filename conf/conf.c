/* conf.c: the daemon's configuration (docs/config.md), read with inih.
 *
 * DESIGN
 * Every key lives in one table, cfg_keys[] (after Redis config.c static_configs[]): section,
 * name, type, default, bounds and the field it fills.  Defaults are written as they are in
 * custody.conf ("10s", "1MiB") and go through the same parser as the file's values, so the table
 * reads like the documentation and a default can't escape its own bounds.  Nothing else here
 * knows a key by name, except the checks across keys at the end (zones against each other, the
 * store, the state folder and the key files).
 *
 * The file is read by conf/inifile.c (line numbers on inih, shared with custody-witness), which
 * calls on_section_line() for each "[...]" line and on_key() for each "key = value" with its
 * line; only the first error is reported, and of inih's syntax error and ours, the lower line
 * wins.

 * Comments: a line starting with ';' or '#', and after a value " ;" (inih's inline comments,
 * on in Debian's build).  " #" after a value is not a comment to inih; we reject it rather than
 * take "/srv/dock # main" as a path.
 *
 * Messages go through gettext (docs/i18n.md): custodyd --check-config and custodyctl show them in
 * the administrator's language; custodyd itself never sets the locale, so its journal gets the
 * English text.  The table's hints are marked N_() and translated where they are shown.
 *
 * Reentrant: all state lives in struct load on the caller's stack, and inih's stack build keeps
 * none.  Never logs, so the caller decides who hears it: the first error goes to it as -E... plus
 * err_detail.
 *
 * One file because every part (the value parsers, the section and key handlers, the checks
 * across keys) works on the private cfg_keys[] table and struct load;
 * splitting would export both (the unit test #includes this file to walk the table). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/inifile.h"
#include "base/err.h"
#include "base/i18n.h"
#include "base/utf8.h"

#define MS_S UINT64_C(1000)
#define MS_M (60 * MS_S)
#define MS_H (60 * MS_M)
#define MS_D (24 * MS_H)
#define KIB UINT64_C(1024)
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)

#define NAME_MAX_BYTES 255 /* the log origin is a note key name: VFY_NAME_MAX in verify/note.h */
#define ZONE_NAME_MAX 64
#define SHOW_MAX 64 /* bytes of a value quoted in a message */
#define ZONEINFO "/usr/share/zoneinfo"

enum cfg_section {
	SEC_NONE, /* before the first [section] */
	SEC_LOG,
	SEC_STORE,
	SEC_ZONE,
	SEC_RULES,
	SEC_INGEST,
	SEC_SOCKET,
	SEC_RETENTION,
	SEC_PUBLISH,
	SEC_WITNESS,
	SEC_DISPLAY,
	SEC__MAX,
};

static const char *const section_names[SEC__MAX] = {
	[SEC_NONE] = "",	   [SEC_LOG] = "log",
	[SEC_STORE] = "store",	   [SEC_ZONE] = "zone",
	[SEC_RULES] = "rules",	   [SEC_INGEST] = "ingest",
	[SEC_SOCKET] = "socket",   [SEC_RETENTION] = "retention",
	[SEC_PUBLISH] = "publish", [SEC_WITNESS] = "witness",
	[SEC_DISPLAY] = "display",
};

/* The sections that come once per name, [zone NAME] and [witness NAME]: each fills an element
 * of its own array in struct cfg. */
static bool sec_named(enum cfg_section sec)
{
	return sec == SEC_ZONE || sec == SEC_WITNESS;
}

enum cfg_type {
	CFG_T_NAME, /* the log origin: a note key name (no spaces, no '+', UTF-8) */
	CFG_T_TEXT, /* one line of UTF-8 text without control characters */
	CFG_T_PATH, /* absolute, no '.' or '..' components; stored without '//' or a final '/' */
	CFG_T_DURATION, /* cfg_parse_duration(), stored in ms */
	CFG_T_UINT,	/* decimal */
	CFG_T_SIZE,	/* decimal bytes, or followed by KiB, MiB or GiB */
	CFG_T_KIND,	/* dock | upload */
	CFG_T_TZ,	/* UTC or the name of a TZif file under /usr/share/zoneinfo */
	CFG_T_GROUPS,	/* group names separated by commas; stored as "a,b" */
	CFG_T_BOOL,	/* yes | no, stored as a bool */
	CFG_T_URL,	/* http:// or https:// and a host, no white space or control character */
	CFG_T_VKEY,	/* the shape of a note verifier key NAME+KEYID+BASE64; custodyd parses it */
};

struct cfg_key {
	enum cfg_section section;
	const char *name;
	enum cfg_type type;
	size_t offset;	    /* of the field in struct cfg, or in struct cfg_zone / cfg_witness */
	size_t size;	    /* of that field */
	size_t line_offset; /* of an `unsigned` field that gets the line too; 0: none */
	const char *def;    /* the default, written as in custody.conf; NULL: none (or required) */
	uint64_t min, max;  /* bounds of DURATION (in ms), UINT and SIZE */
	bool required;
	const char *hint; /* for a required key: what it is, and an example */
};

#define KEY(sec, st, key, ty, field, ...)                                                          \
	{                                                                                          \
		.section = SEC_##sec, .name = key, .type = CFG_T_##ty,                             \
		.offset = offsetof(st, field), .size = sizeof(((st *)0)->field), __VA_ARGS__       \
	}
#define GKEY(sec, key, ty, field, ...) KEY(sec, struct cfg, key, ty, field, __VA_ARGS__)
#define ZKEY(key, ty, field, ...) KEY(ZONE, struct cfg_zone, key, ty, field, __VA_ARGS__)
#define WKEY(key, ty, field, ...) KEY(WITNESS, struct cfg_witness, key, ty, field, __VA_ARGS__)

/* The one table, so that each key's default and bounds are in one place.  conf/custody.conf
 * documents each of these with its default; the unit test checks that it does, and that each
 * default parses and is within its bounds. */
static const struct cfg_key cfg_keys[] = {
	GKEY(LOG, "origin", NAME, origin, .required = true,
	     .hint = N_(
		 "the checkpoint origin line and key name, e.g. origin = office.example/custody")),
	GKEY(LOG, "key", PATH, key, .required = true,
	     .hint =
		 N_("the signer key file (custody-log keygen), e.g. key = /etc/custody/log.key")),
	GKEY(LOG, "verifier_key", PATH, verifier_key, .def = "/etc/custody/log.pub"),
	GKEY(LOG, "state", PATH, state, .def = "/var/lib/custody"),
	GKEY(LOG, "checkpoint_interval", DURATION, checkpoint_interval_ms, .def = "10s",
	     .min = MS_S, .max = MS_D),
	GKEY(LOG, "witness_quorum", UINT, witness_quorum, .def = "0", .min = 0,
	     .max = CFG_WITNESS_MAX),
	GKEY(LOG, "witness_timeout", DURATION, witness_timeout_ms, .def = "1h", .min = MS_M,
	     .max = 30 * MS_D),

	GKEY(STORE, "path", PATH, store_path, .def = "/var/lib/custody/store"),
	GKEY(STORE, "scrub_interval", DURATION, scrub_interval_ms, .def = "7d", .min = 0,
	     .max = 366 * MS_D),
	GKEY(STORE, "scrub_rate", SIZE, scrub_rate, .def = "100MiB", .min = MIB, .max = 64 * GIB),

	ZKEY("path", PATH, path, .required = true, .hint = N_("e.g. path = /srv/custody/dock")),
	ZKEY("kind", KIND, kind, .def = "dock"),
	ZKEY("settle", DURATION, settle_ms, .def = "5s", .min = 0, .max = MS_H),
	ZKEY("name_pattern", TEXT, name_pattern,
	     .line_offset = offsetof(struct cfg_zone, name_pattern_line)),
	ZKEY("device_clock", TZ, device_clock),
	ZKEY("retention", DURATION, retention_ms, .min = 0, .max = 100 * 366 * MS_D,
	     .line_offset = offsetof(struct cfg_zone, retention_line)),

	GKEY(RULES, "storage_deadline", DURATION, storage_deadline_ms, .def = "24h", .min = MS_H,
	     .max = 30 * MS_D),
	GKEY(RULES, "device_clock", TZ, device_clock, .def = "UTC"),
	GKEY(RULES, "split_tolerance", DURATION, split_tolerance_ms, .def = "3s", .min = 0,
	     .max = 10 * MS_M),
	GKEY(RULES, "clock_skew", DURATION, clock_skew_ms, .def = "10m", .min = 0, .max = MS_D),

	GKEY(INGEST, "workers", UINT, workers, .def = "2", .min = 1, .max = 16),
	GKEY(INGEST, "rescan_interval", DURATION, rescan_interval_ms, .def = "60s", .min = MS_S,
	     .max = MS_D),
	GKEY(INGEST, "probe_timeout", DURATION, probe_timeout_ms, .def = "10m", .min = MS_S,
	     .max = MS_D),
	GKEY(INGEST, "max_streams", UINT, max_streams, .def = "16", .min = 1, .max = 1024),
	GKEY(INGEST, "max_packets", UINT, max_packets, .def = "20000000", .min = 1,
	     .max = 1000000000),

	GKEY(SOCKET, "path", PATH, socket_path, .def = "/run/custody/custody.sock"),
	GKEY(SOCKET, "operators", GROUPS, operators, .def = "custody-ops"),
	GKEY(SOCKET, "reviewers", GROUPS, reviewers, .def = "custody-review"),
	GKEY(SOCKET, "auditors", GROUPS, auditors, .def = "custody-audit"),
	GKEY(SOCKET, "approvers", GROUPS, approvers, .def = "custody-approve"),
	GKEY(SOCKET, "max_clients", UINT, max_clients, .def = "256", .min = 1, .max = 4096),
	GKEY(SOCKET, "max_clients_per_user", UINT, max_clients_per_user, .def = "32", .min = 0,
	     .max = 4096),
	GKEY(SOCKET, "idle_timeout", DURATION, idle_timeout_ms, .def = "60s", .min = MS_S,
	     .max = MS_H),
	GKEY(SOCKET, "max_request_bytes", SIZE, max_request_bytes, .def = "1MiB", .min = KIB,
	     .max = 16 * MIB),

	GKEY(RETENTION, "default", DURATION, retention_default_ms, .def = "183d", .min = 0,
	     .max = 100 * 366 * MS_D),

	GKEY(PUBLISH, "path", PATH, publish_path),
	GKEY(PUBLISH, "entries", BOOL, publish_entries, .def = "no"),

	/* custodyctl's, not custodyd's: how reviews and histories show times (docs/i18n.md). */
	GKEY(DISPLAY, "timezone", TZ, display_timezone),

	WKEY("url", URL, url, .required = true,
	     .hint = N_("the witness's submission prefix, e.g. url = https://witness.example/w")),
	WKEY("key", VKEY, key, .required = true,
	     .hint = N_("the witness's cosignature/v1 verifier key (custody-witness keygen), e.g. "
			"key = witness.example+1a2b3c4d+BASE64")),
};

#define NKEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

_Static_assert(offsetof(struct cfg_zone, name_pattern_line) != 0, "0 means no line field");

/* Where each key of one section instance was set: its line, 0 when not set. */
struct key_lines {
	unsigned line[NKEYS];
};

/* One cfg_load() call. */
struct load {
	const char *file;
	unsigned lineno; /* of the line being read */
	struct cfg *cfg;

	enum cfg_section sec;		 /* the section the current line is in */
	size_t cur;			 /* when sec_named(sec): index of its element */
	unsigned section_line[SEC__MAX]; /* where each (unnamed) section began */
	struct key_lines global;	 /* keys of the unnamed sections */
	struct key_lines *zone_keys;	 /* per zone, parallel to cfg->zones */
	unsigned *zone_line;		 /* per zone: the line of its [zone NAME] */
	struct key_lines *witness_keys;	 /* per witness, parallel to cfg->witnesses */
	unsigned *witness_line;		 /* per witness: the line of its [witness NAME] */

	bool failed;
	struct err_detail err;
};

/* Record the first error as "FILE:LINE: message" (or "FILE: message" for line 0). */
__attribute__((format(printf, 4, 5))) static int load_fail(struct load *ld, int code, unsigned line,
							   const char *fmt, ...)
{
	char msg[sizeof(ld->err.msg)];
	va_list ap;

	if (ld->failed)
		return ld->err.code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		err_set_line(&ld->err, code, line, "%s:%u: %s", ld->file, line, msg);
	else
		err_set(&ld->err, code, "%s: %s", ld->file, msg);
	ld->failed = true;
	return code;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* @return NULL when @s is UTF-8 without control characters, else what is wrong. */
static const char *text_problem(const char *s)
{
	size_t len = strlen(s), i = 0;

	while (i < len) {
		uint32_t c;
		size_t k = utf8_decode((const uint8_t *)s + i, len - i, &c);

		if (k == 0)
			return _("is not valid UTF-8");
		if (utf8_is_control(c))
			return _("contains a control character");
		i += k;
	}
	return NULL;
}

/* Copy a value for a message (no terminal escapes from a config file). */
static const char *show(const char *s, char *out, size_t outlen)
{
	return utf8_printable(s, strlen(s), out, outlen);
}

/* "10s", "5m", "24h", "2d", "1500ms" (never from a parse: bounds are whole seconds), "0". */
static const char *fmt_duration(uint64_t ms, char *buf, size_t len)
{
	static const struct {
		uint64_t ms;
		char unit;
	} units[] = { { MS_D, 'd' }, { MS_H, 'h' }, { MS_M, 'm' }, { MS_S, 's' } };

	if (ms == 0) {
		snprintf(buf, len, "0");
		return buf;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms % units[i].ms == 0) {
			snprintf(buf, len, "%" PRIu64 "%c", ms / units[i].ms, units[i].unit);
			return buf;
		}
	snprintf(buf, len, "%" PRIu64 "ms", ms);
	return buf;
}

static const char *fmt_size(uint64_t n, char *buf, size_t len)
{
	if (n >= GIB && n % GIB == 0)
		snprintf(buf, len, "%" PRIu64 "GiB", n / GIB);
	else if (n >= MIB && n % MIB == 0)
		snprintf(buf, len, "%" PRIu64 "MiB", n / MIB);
	else if (n >= KIB && n % KIB == 0)
		snprintf(buf, len, "%" PRIu64 "KiB", n / KIB);
	else
		snprintf(buf, len, "%" PRIu64, n);
	return buf;
}

static const char *fmt_value(enum cfg_type type, uint64_t v, char *buf, size_t len)
{
	if (type == CFG_T_DURATION)
		return fmt_duration(v, buf, len);
	if (type == CFG_T_SIZE)
		return fmt_size(v, buf, len);
	snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

/* Decimal digits into @ret.  @return the first byte after them, NULL when there are none or
 * they overflow (*@overflow set). */
static const char *parse_digits(const char *s, uint64_t *ret, bool *overflow)
{
	uint64_t n = 0;
	const char *p;

	*overflow = false;
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (n > (UINT64_MAX - d) / 10) {
			*overflow = true;
			return NULL;
		}
		n = n * 10 + d;
	}
	if (p == s)
		return NULL;
	*ret = n;
	return p;
}

int cfg_parse_duration(const char *s, uint64_t *ret_ms)
{
	uint64_t n, unit;
	bool overflow;
	const char *p;

	if (!s)
		return -EINVAL;
	p = parse_digits(s, &n, &overflow);
	if (!p)
		return -EINVAL;
	switch (*p) {
	case '\0':
		/* Only 0 needs no unit: "10" could mean seconds or minutes. */
		if (n != 0)
			return -EINVAL;
		*ret_ms = 0;
		return 0;
	case 's':
		unit = MS_S;
		break;
	case 'm':
		unit = MS_M;
		break;
	case 'h':
		unit = MS_H;
		break;
	case 'd':
		unit = MS_D;
		break;
	default:
		return -EINVAL;
	}
	if (p[1] != '\0' || n > UINT64_MAX / unit)
		return -EINVAL;
	*ret_ms = n * unit;
	return 0;
}

/* True when the bytes look like a duration that only overflowed ("99999999999999999999d"). */
static bool duration_too_large(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n > 0 && s[n] && strchr("smhd", s[n]) && s[n + 1] == '\0';
}

/* Bytes, or with a binary unit.  @return 0, -EINVAL (garbage), -ERANGE (overflow). */
static int parse_size(const char *s, uint64_t *ret)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = { { "", 1 }, { "KiB", KIB }, { "MiB", MIB }, { "GiB", GIB } };
	uint64_t n;
	bool overflow;
	const char *p = parse_digits(s, &n, &overflow);

	if (!p)
		return overflow ? -ERANGE : -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(p, units[i].suffix) == 0) {
			if (n > UINT64_MAX / units[i].mult)
				return -ERANGE;
			*ret = n * units[i].mult;
			return 0;
		}
	return -EINVAL;
}

/* A witness's submission prefix: custodyd appends "/add-checkpoint".  libcurl would take far
 * more (other schemes, user names), so only what a witness needs is let through. */
static const char *url_problem(const char *s)
{
	const char *host;
	size_t n;

	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return _("is not an http:// or https:// URL");
	n = strcspn(host, "/?#");
	if (n == 0)
		return _("has no host after the scheme");
	if (memchr(host, '@', n))
		return _("carries a user name ('@'): give the witness's address only");
	if (strpbrk(s, "?#"))
		return _("has a query or fragment ('?', '#'): give the submission prefix only");
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return _("contains white space, a control or a non-ASCII character: "
				 "percent-encode it");
	if (s[strlen(s) - 1] == '/')
		return _("ends in '/': give the prefix without it (add-checkpoint is appended)");
	return NULL;
}

/* NAME+KEYID+BASE64 with an 8-digit hex key ID: enough to catch a pasted file name or a
 * truncated key here, at the line that holds it; custodyd parses the key itself. */
static const char *vkey_problem(const char *s)
{
	const char *plus1 = strchr(s, '+'), *plus2 = plus1 ? strchr(plus1 + 1, '+') : NULL;

	if (!plus1 || !plus2 || plus1 == s)
		return _("is not a verifier key NAME+KEYID+BASE64 (custody-witness keygen prints "
			 "one)");
	if (plus2 - plus1 != 9 || strspn(plus1 + 1, "0123456789abcdef") != 8)
		return _("has no 8-digit key ID between its first two '+'");
	if (strlen(plus2 + 1) < 4 ||
	    strspn(plus2 + 1,
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
		strlen(plus2 + 1))
		return _("does not end in a base64 key");
	return NULL;
}

/* Check @in and normalise it into a malloc()'d *@ret: one '/' between components, none at the
 * end.  '.' and '..' are refused rather than resolved: the paths need not exist yet, and a
 * lexical ".." would make the overlap checks below lie about symlinked parents anyway.
 * @return 0, -EINVAL (*@why says what is wrong), -ENOMEM. */
static int path_normalize(const char *in, char **ret, const char **why)
{
	size_t len = strlen(in), n = 0;
	const char *p = in;
	char *out;

	if (in[0] != '/') {
		*why = _("must be an absolute path (starting with '/')");
		return -EINVAL;
	}
	if (len >= PATH_MAX) {
		*why = _("is longer than PATH_MAX");
		return -EINVAL;
	}
	*why = text_problem(in);
	if (*why)
		return -EINVAL;
	out = malloc(len + 2);
	if (!out)
		return -ENOMEM;
	while (*p) {
		size_t k;

		while (*p == '/')
			p++;
		k = strcspn(p, "/");
		if (k == 0)
			break;
		if ((k == 1 && p[0] == '.') || (k == 2 && p[0] == '.' && p[1] == '.')) {
			free(out);
			*why = _("must not contain '.' or '..' components");
			return -EINVAL;
		}
		out[n++] = '/';
		memcpy(out + n, p, k);
		n += k;
		p += k;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	*ret = out;
	return 0;
}

/* Is normalised @a equal to or below normalised @b? */
static bool path_within(const char *a, const char *b)
{
	size_t n = strlen(b);

	if (strcmp(b, "/") == 0)
		return true;
	return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

/* The origin is also the signer's key name, so it follows verify/note.c's rule for key names
 * (C2SP signed notes): custody-log would refuse it later, with less context. */
static const char *name_problem(const char *s)
{
	size_t len = strlen(s), i = 0;

	if (len > NAME_MAX_BYTES)
		return _("is longer than 255 bytes");
	while (i < len) {
		uint32_t c;
		size_t k = utf8_decode((const uint8_t *)s + i, len - i, &c);

		if (k == 0)
			return _("is not valid UTF-8");
		if (c == '+')
			return _("contains a plus sign ('+'), which separates the fields of a note "
				 "key");
		if (utf8_is_space(c))
			return _("contains white space, which a note key name may not");
		if (utf8_is_control(c))
			return _("contains a control character");
		i += k;
	}
	return NULL;
}

/* The zone database glibc reads; TZDIR overrides it there, so it does here. */
static const char *zoneinfo_dir(void)
{
	const char *dir = secure_getenv("TZDIR");

	return dir && dir[0] == '/' ? dir : ZONEINFO;
}

/* "UTC", or a relative name of a TZif file in the zone database ("Asia/Shanghai").
 * @return NULL when it is one, else what is wrong (in @buf when it needs the folder). */
static const char *tz_problem(const char *name, char *buf, size_t len)
{
	const char *dir = zoneinfo_dir(), *p;
	char path[PATH_MAX], magic[4];
	struct stat st;
	ssize_t n;
	int fd;

	if (strcmp(name, "UTC") == 0)
		return NULL;
	if (name[0] == '/')
		return _("is a path: write a time zone name such as Asia/Shanghai or UTC");
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-.") !=
	    strlen(name))
		return _("is not a time zone name: write one such as Asia/Shanghai or UTC");
	for (p = name; *p; p += strcspn(p, "/"), p += *p == '/') {
		size_t k = strcspn(p, "/");

		if (k == 0 || (k == 1 && p[0] == '.') || (k == 2 && p[0] == '.' && p[1] == '.'))
			return _("is not a time zone name ('..', '.' and empty components are not "
				 "allowed): write one such as Asia/Shanghai or UTC");
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return _("is too long");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(buf, len,
			 "is not a known time zone: no such file under %.96s (write UTC or a "
			 "name such as Asia/Shanghai)",
			 dir);
		return buf;
	}
	/* Only TZif files are zones: zone.tab, iso3166.tab and folders live there too. */
	n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, magic, sizeof(magic)) : -1;
	close(fd);
	if (n != (ssize_t)sizeof(magic) || memcmp(magic, "TZif", 4) != 0) {
		snprintf(buf, len,
			 "is not a known time zone: it names no time zone file under %.96s (write "
			 "UTC or a name such as Asia/Shanghai)",
			 dir);
		return buf;
	}
	return NULL;
}

/* "custody-ops, other" -> "custody-ops,other".  @return 0, -EINVAL (*@why), -ENOMEM. */
static int groups_normalize(const char *in, char **ret, const char **why)
{
	char *out = malloc(strlen(in) + 1);
	const char *p = in;
	size_t n = 0;

	if (!out)
		return -ENOMEM;
	for (;;) {
		size_t k;

		while (is_blank(*p))
			p++;
		k = strcspn(p, ",");
		while (k > 0 && is_blank(p[k - 1]))
			k--;
		if (k == 0) {
			*why = _("has an empty group name: separate group names with commas");
			goto err;
		}
		if (memchr(p, ':', k)) {
			*why = _("has a group name with ':', which no group name may hold");
			goto err;
		}
		if (n)
			out[n++] = ',';
		memcpy(out + n, p, k);
		n += k;
		p += k;
		while (is_blank(*p))
			p++;
		if (*p != ',')
			break;
		p++;
	}
	out[n] = '\0';
	*why = text_problem(out);
	if (*why)
		goto err;
	*ret = out;
	return 0;
err:
	free(out);
	return -EINVAL;
}

/* "[log] checkpoint_interval", "[zone dock] settle". */
static const char *key_label(const struct cfg_key *k, const char *zone, char *buf, size_t len)
{
	if (sec_named(k->section))
		snprintf(buf, len, "[%s %s] %s", section_names[k->section], zone, k->name);
	else
		snprintf(buf, len, "[%s] %s", section_names[k->section], k->name);
	return buf;
}

static void set_string(void *base, const struct cfg_key *k, char *s)
{
	char **slot = (char **)(void *)((char *)base + k->offset);

	free(*slot);
	*slot = s;
}

static void set_uint(void *base, const struct cfg_key *k, uint64_t v)
{
	char *p = (char *)base + k->offset;

	if (k->size == sizeof(unsigned)) {
		unsigned u = (unsigned)v; /* the table keeps max within range (test_table) */

		memcpy(p, &u, sizeof(u));
	} else {
		memcpy(p, &v, sizeof(v));
	}
}

/* Parse @value for key @k into @base (struct cfg or struct cfg_zone).  @line is 0 for a
 * default.  @return 0 or the recorded error. */
static int set_value(struct load *ld, const struct cfg_key *k, void *base, const char *zone,
		     const char *value, unsigned line)
{
	char label[96], shown[SHOW_MAX + 4], lo[32], hi[32], tzbuf[256];
	const char *why = NULL, *hash;
	uint64_t v = 0;
	char *s = NULL;
	size_t len = strlen(value);
	int r;

	key_label(k, zone, label, sizeof(label));
	show(value, shown, sizeof(shown));
	if (len == 0)
		return load_fail(ld, -EINVAL, line,
				 k->required
				     ? _("%s has no value (it is required)")
				     : _("%s has no value; remove the line to use the default"),
				 label);
	if (len >= 2 && (value[0] == '"' || value[0] == '\'') && value[len - 1] == value[0])
		return load_fail(ld, -EINVAL, line, _("%s = %s: write the value without quotes"),
				 label, shown);
	for (hash = strchr(value, '#'); hash && !(hash > value && is_blank(hash[-1]));)
		hash = strchr(hash + 1, '#');
	if (hash)
		return load_fail(
		    ld, -EINVAL, line,
		    _("%s = '%s': ' #' does not start a comment after a value, ' ;' does"), label,
		    shown);

	switch (k->type) {
	case CFG_T_NAME:
		why = name_problem(value);
		break;
	case CFG_T_TEXT:
		why = text_problem(value);
		break;
	case CFG_T_PATH:
		r = path_normalize(value, &s, &why);
		if (r == -ENOMEM)
			return load_fail(ld, r, line, _("out of memory"));
		break;
	case CFG_T_GROUPS:
		r = groups_normalize(value, &s, &why);
		if (r == -ENOMEM)
			return load_fail(ld, r, line, _("out of memory"));
		break;
	case CFG_T_TZ:
		why = tz_problem(value, tzbuf, sizeof(tzbuf));
		break;
	case CFG_T_BOOL:
		if (strcmp(value, "yes") == 0)
			v = 1;
		else if (strcmp(value, "no") != 0)
			why = _("is neither yes nor no");
		break;
	case CFG_T_URL:
		why = url_problem(value);
		break;
	case CFG_T_VKEY:
		why = vkey_problem(value);
		break;
	case CFG_T_KIND:
		if (strcmp(value, "dock") == 0)
			v = CFG_ZONE_DOCK;
		else if (strcmp(value, "upload") == 0)
			v = CFG_ZONE_UPLOAD;
		else
			why = _("is not a zone kind: write dock or upload");
		break;
	case CFG_T_DURATION:
		if (cfg_parse_duration(value, &v) < 0) {
			if (!duration_too_large(value))
				return load_fail(
				    ld, -EINVAL, line,
				    _("%s = '%s' is not a duration: write a number and a "
				      "unit s, m, h or d (e.g. 10s)"),
				    label, shown);
			v = UINT64_MAX; /* above every bound: out of range below */
		}
		break;
	case CFG_T_UINT:
	case CFG_T_SIZE:
		if (k->type == CFG_T_UINT && strspn(value, "0123456789") != len)
			return load_fail(ld, -EINVAL, line, _("%s = '%s' is not a whole number"),
					 label, shown);
		r = parse_size(value, &v); /* digits alone are a size without a unit */
		if (r == -EINVAL)
			return load_fail(
			    ld, -EINVAL, line,
			    _("%s = '%s' is not a size: write a number of bytes, optionally "
			      "followed by KiB, MiB or GiB (e.g. 1MiB)"),
			    label, shown);
		if (r == -ERANGE)
			v = UINT64_MAX; /* above every bound: out of range below */
		break;
	}
	if (why) {
		free(s);
		return load_fail(ld, -EINVAL, line, "%s = '%s' %s", label, shown, why);
	}

	switch (k->type) {
	case CFG_T_DURATION:
	case CFG_T_UINT:
	case CFG_T_SIZE:
		if (v < k->min || v > k->max)
			return load_fail(ld, -EINVAL, line, _("%s = %s is out of range: %s to %s"),
					 label, shown, fmt_value(k->type, k->min, lo, sizeof(lo)),
					 fmt_value(k->type, k->max, hi, sizeof(hi)));
		set_uint(base, k, v);
		break;
	case CFG_T_KIND: {
		enum cfg_zone_kind kind = (enum cfg_zone_kind)v;

		memcpy((char *)base + k->offset, &kind, sizeof(kind));
		break;
	}
	case CFG_T_BOOL: {
		bool b = v != 0;

		memcpy((char *)base + k->offset, &b, sizeof(b));
		break;
	}
	case CFG_T_PATH:
	case CFG_T_GROUPS:
		set_string(base, k, s);
		break;
	case CFG_T_NAME:
	case CFG_T_TEXT:
	case CFG_T_TZ:
	case CFG_T_URL:
	case CFG_T_VKEY:
		s = strdup(value);
		if (!s)
			return load_fail(ld, -ENOMEM, line, _("out of memory"));
		set_string(base, k, s);
		break;
	}
	if (k->line_offset)
		memcpy((char *)base + k->line_offset, &line, sizeof(line));
	return 0;
}

/* The element @i of named section @sec: its struct, name, key lines and section line. */
static void *named_elem(const struct load *ld, enum cfg_section sec, size_t i)
{
	return sec == SEC_ZONE ? (void *)&ld->cfg->zones[i] : (void *)&ld->cfg->witnesses[i];
}

static const char *named_name(const struct load *ld, enum cfg_section sec, size_t i)
{
	return sec == SEC_ZONE ? ld->cfg->zones[i].name : ld->cfg->witnesses[i].name;
}

static size_t named_count(const struct load *ld, enum cfg_section sec)
{
	return sec == SEC_ZONE ? ld->cfg->nzones : ld->cfg->nwitnesses;
}

static struct key_lines *named_keys(const struct load *ld, enum cfg_section sec, size_t i)
{
	return sec == SEC_ZONE ? &ld->zone_keys[i] : &ld->witness_keys[i];
}

static unsigned named_line(const struct load *ld, enum cfg_section sec, size_t i)
{
	return sec == SEC_ZONE ? ld->zone_line[i] : ld->witness_line[i];
}

/* Grow the arrays of @sec by one element, zeroed.  @return 0 or -ENOMEM. */
static int named_grow(struct load *ld, enum cfg_section sec, size_t n)
{
	struct cfg *cfg = ld->cfg;
	struct key_lines **keys = sec == SEC_ZONE ? &ld->zone_keys : &ld->witness_keys;
	unsigned **lines = sec == SEC_ZONE ? &ld->zone_line : &ld->witness_line;
	size_t esize = sec == SEC_ZONE ? sizeof(*cfg->zones) : sizeof(*cfg->witnesses);
	void **elems = sec == SEC_ZONE ? (void **)&cfg->zones : (void **)&cfg->witnesses;
	void *e = realloc(*elems, (n + 1) * esize);
	struct key_lines *k;
	unsigned *l;

	if (e)
		*elems = e;
	k = realloc(*keys, (n + 1) * sizeof(**keys));
	if (k)
		*keys = k;
	l = realloc(*lines, (n + 1) * sizeof(**lines));
	if (l)
		*lines = l;
	if (!e || !k || !l)
		return -ENOMEM;
	memset((char *)e + n * esize, 0, esize);
	memset(&k[n], 0, sizeof(k[n]));
	l[n] = ld->lineno;
	return 0;
}

/* [zone NAME] or [witness NAME]: a new element named @name (@len bytes, not terminated). */
static int add_named(struct load *ld, enum cfg_section sec, const char *name, size_t len)
{
	const char *word = section_names[sec];
	char shown[SHOW_MAX + 4];
	char *dup = strndup(name, len);
	const char *why;
	size_t n = named_count(ld, sec);

	if (!dup)
		return load_fail(ld, -ENOMEM, ld->lineno, _("out of memory"));
	show(dup, shown, sizeof(shown));
	why = text_problem(dup);
	if (!why && len > ZONE_NAME_MAX)
		why = _("is longer than 64 bytes");
	if (why) {
		free(dup);
		return load_fail(ld, -EINVAL, ld->lineno, _("%s name '%s' %s"), word, shown, why);
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(named_name(ld, sec, i), dup) == 0) {
			free(dup);
			return load_fail(
			    ld, -EINVAL, ld->lineno,
			    _("[%s %s] is already defined at line %u: give each %s its "
			      "own name"),
			    word, shown, named_line(ld, sec, i), word);
		}
	if (sec == SEC_WITNESS && n >= CFG_WITNESS_MAX) {
		free(dup);
		return load_fail(ld, -EINVAL, ld->lineno, _("more than %d [witness] sections"),
				 CFG_WITNESS_MAX);
	}
	if (named_grow(ld, sec, n) < 0) {
		free(dup);
		return load_fail(ld, -ENOMEM, ld->lineno, _("out of memory"));
	}
	if (sec == SEC_ZONE) {
		ld->cfg->zones[n].name = dup;
		ld->cfg->nzones = n + 1;
	} else {
		ld->cfg->witnesses[n].name = dup;
		ld->cfg->witnesses[n].line = ld->lineno;
		ld->cfg->nwitnesses = n + 1;
	}
	ld->cur = n;
	ld->sec = sec;
	return 0;
}

/* A "[...]" line: @name (not terminated) is what stands between the brackets. */
static int on_section(struct load *ld, const char *name, size_t len)
{
	char shown[SHOW_MAX + 4], copy[SHOW_MAX + 1];

	for (int s = SEC_LOG; s < SEC__MAX; s++) {
		if (sec_named((enum cfg_section)s) || strlen(section_names[s]) != len ||
		    memcmp(name, section_names[s], len) != 0)
			continue;
		if (ld->section_line[s])
			return load_fail(
			    ld, -EINVAL, ld->lineno,
			    _("[%s] is repeated (first at line %u): keep its keys in one "
			      "section"),
			    section_names[s], ld->section_line[s]);
		ld->section_line[s] = ld->lineno;
		ld->sec = (enum cfg_section)s;
		return 0;
	}
	for (int s = SEC_LOG; s < SEC__MAX; s++) {
		const char *word = section_names[s];
		size_t w = strlen(word), i = w;

		if (!sec_named((enum cfg_section)s) || len < w || memcmp(name, word, w) != 0 ||
		    (len > w && !is_blank(name[w])))
			continue;
		while (i < len && is_blank(name[i]))
			i++;
		while (len > i && is_blank(name[len - 1]))
			len--;
		if (i == len)
			return load_fail(ld, -EINVAL, ld->lineno,
					 _("[%s] needs a name: [%s NAME], e.g. [%s %s]"), word,
					 word, word, s == SEC_ZONE ? "dock" : "court");
		return add_named(ld, (enum cfg_section)s, name + i, len - i);
	}
	snprintf(copy, sizeof(copy), "%.*s", (int)(len < SHOW_MAX ? len : SHOW_MAX), name);
	return load_fail(
	    ld, -EINVAL, ld->lineno,
	    _("unknown section [%s]: the sections are [log], [store], [zone NAME], [rules], "
	      "[ingest], [socket], [retention], [publish], [witness NAME] and [display]"),
	    show(copy, shown, sizeof(shown)));
}

/* "NAME = VALUE" at @line: conf/inifile.h's key handler. */
static int on_key(void *user, const char *name, const char *value, unsigned line)
{
	struct load *ld = user;
	char shown[SHOW_MAX + 4], known[192];
	struct key_lines *lines;
	const char *zone = NULL;
	void *base = ld->cfg;
	size_t n = 0;

	ld->lineno = line;
	if (ld->failed)
		return ld->err.code;
	show(name, shown, sizeof(shown));
	if (ld->sec == SEC_NONE) {
		load_fail(
		    ld, -EINVAL, ld->lineno,
		    _("'%s' is outside any section: put it under [log], [store], [zone NAME], "
		      "[rules], [ingest], [socket], [retention], [publish], [witness NAME] or "
		      "[display]"),
		    shown);
		return ld->err.code;
	}
	if (sec_named(ld->sec)) {
		base = named_elem(ld, ld->sec, ld->cur);
		zone = named_name(ld, ld->sec, ld->cur);
		lines = named_keys(ld, ld->sec, ld->cur);
	} else {
		lines = &ld->global;
	}
	known[0] = '\0';
	for (size_t i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		char label[96];

		if (k->section != ld->sec)
			continue;
		if (strcmp(k->name, name) != 0) {
			if (n < sizeof(known))
				n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s",
						      n ? ", " : "", k->name);
			continue;
		}
		if (lines->line[i]) {
			load_fail(ld, -EINVAL, ld->lineno,
				  _("%s is already set at line %u: set each key once"),
				  key_label(k, zone, label, sizeof(label)), lines->line[i]);
			return ld->err.code;
		}
		lines->line[i] = ld->lineno;
		return set_value(ld, k, base, zone, value, ld->lineno);
	}
	if (sec_named(ld->sec))
		load_fail(ld, -EINVAL, ld->lineno,
			  _("unknown key '%s' in [%s %s]: the keys are %s"), shown,
			  section_names[ld->sec], zone, known);
	else
		load_fail(ld, -EINVAL, ld->lineno, _("unknown key '%s' in [%s]: the keys are %s"),
			  shown, section_names[ld->sec], known);
	return ld->err.code;
}

/* A "[...]" line at @line: conf/inifile.h's section handler. */
static int on_section_line(void *user, const char *name, size_t len, unsigned line)
{
	struct load *ld = user;

	ld->lineno = line;
	return on_section(ld, name, len);
}

/* The reader's error replaces what was recorded: it comes first in the file, or it is why the
 * file could not be read. */
static void on_read_error(void *user, int code, unsigned line, const char *msg)
{
	struct load *ld = user;

	ld->failed = false;
	if (code == -ENOENT && line == 0)
		load_fail(ld, code, line, _("%s (give the file with --config FILE)"), msg);
	else
		load_fail(ld, code, line, "%s", msg);
}

static const char *line_text(unsigned line, char *buf, size_t len)
{
	if (line)
		snprintf(buf, len, _("line %u"), line);
	else
		snprintf(buf, len, "%s", _("default"));
	return buf;
}

/* One path that must not overlap another. */
struct place {
	char label[96];
	const char *path;
	unsigned line;
};

/* @a lies within @b: report at the later line of the two, naming both. */
static int overlap(struct load *ld, const struct place *a, const struct place *b, const char *what)
{
	char la[32], lb[32], sa[SHOW_MAX + 4], sb[SHOW_MAX + 4];

	show(a->path, sa, sizeof(sa));
	show(b->path, sb, sizeof(sb));
	if (strcmp(a->path, b->path) == 0)
		return load_fail(ld, -EINVAL, a->line > b->line ? a->line : b->line,
				 _("%s (%s) and %s (%s) are the same path '%s': %s"), b->label,
				 line_text(b->line, lb, sizeof(lb)), a->label,
				 line_text(a->line, la, sizeof(la)), sa, what);
	return load_fail(ld, -EINVAL, a->line > b->line ? a->line : b->line,
			 _("%s '%s' (%s) is inside %s '%s' (%s): %s"), a->label, sa,
			 line_text(a->line, la, sizeof(la)), b->label, sb,
			 line_text(b->line, lb, sizeof(lb)), what);
}

static void place_global(struct place *p, const struct load *ld, const char *section,
			 const char *key, const char *path)
{
	snprintf(p->label, sizeof(p->label), "[%s] %s", section, key);
	p->path = path;
	p->line = 0;
	for (size_t i = 0; i < NKEYS; i++)
		if (!sec_named(cfg_keys[i].section) &&
		    strcmp(section_names[cfg_keys[i].section], section) == 0 &&
		    strcmp(cfg_keys[i].name, key) == 0)
			p->line = ld->global.line[i];
}

/* Drop zones are emptied by the daemon: nothing else may live in one, and a zone may not lie
 * in the store or the state folder (the daemon would ingest its own files).  This is lexical;
 * custodyd checks the real paths (symlinks) when it starts. */
static int check_places(struct load *ld)
{
	const struct cfg *cfg = ld->cfg;
	struct place store = { 0 }, state = { 0 }, files[3] = { 0 }, zi = { 0 }, zj = { 0 },
		     pub = { 0 };
	size_t path_key = 0;

	for (size_t i = 0; i < NKEYS; i++)
		if (cfg_keys[i].section == SEC_ZONE && strcmp(cfg_keys[i].name, "path") == 0)
			path_key = i;
	place_global(&store, ld, "store", "path", cfg->store_path);
	place_global(&state, ld, "log", "state", cfg->state);
	place_global(&files[0], ld, "log", "key", cfg->key);
	place_global(&files[1], ld, "log", "verifier_key", cfg->verifier_key);
	place_global(&files[2], ld, "socket", "path", cfg->socket_path);
	place_global(&pub, ld, "publish", "path", cfg->publish_path);

	/* The published folder is served to anyone: the store's originals and the log's own
	 * database must not be reachable through it, nor may it lie in the store. */
	if (pub.path) {
		if (path_within(pub.path, store.path))
			return overlap(ld, &pub, &store,
				       _("the published folder must lie outside the store"));
		if (path_within(store.path, pub.path))
			return overlap(
			    ld, &store, &pub,
			    _("the store must not be published: it holds the originals"));
		if (path_within(state.path, pub.path))
			return overlap(
			    ld, &state, &pub,
			    _("the state folder must not be published: it holds the log's "
			      "database"));
	}

	for (size_t i = 0; i < cfg->nzones; i++) {
		snprintf(zi.label, sizeof(zi.label), "[zone %s] path", cfg->zones[i].name);
		zi.path = cfg->zones[i].path;
		zi.line = ld->zone_keys[i].line[path_key];
		for (size_t j = 0; j < i; j++) {
			snprintf(zj.label, sizeof(zj.label), "[zone %s] path", cfg->zones[j].name);
			zj.path = cfg->zones[j].path;
			zj.line = ld->zone_keys[j].line[path_key];
			if (path_within(zi.path, zj.path))
				return overlap(ld, &zi, &zj, _("drop zones must not overlap"));
			if (path_within(zj.path, zi.path))
				return overlap(ld, &zj, &zi, _("drop zones must not overlap"));
		}
		if (path_within(zi.path, store.path))
			return overlap(ld, &zi, &store,
				       _("a drop zone must lie outside the store"));
		if (path_within(store.path, zi.path))
			return overlap(ld, &store, &zi,
				       _("the store must lie outside every drop zone"));
		if (path_within(zi.path, state.path))
			return overlap(ld, &zi, &state,
				       _("a drop zone must lie outside the state folder"));
		if (path_within(state.path, zi.path))
			return overlap(ld, &state, &zi,
				       _("the state folder must lie outside every drop zone"));
		if (pub.path && path_within(pub.path, zi.path))
			return overlap(ld, &pub, &zi,
				       _("the daemon would take the published files as evidence"));
		if (pub.path && path_within(zi.path, pub.path))
			return overlap(ld, &zi, &pub, _("a drop zone must not be published"));
		for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++)
			if (path_within(files[f].path, zi.path))
				return overlap(
				    ld, &files[f], &zi,
				    _("the daemon would take it as evidence and remove it"));
	}
	return 0;
}

/* [socket] max_clients_per_user is at most max_clients: a larger one would limit nothing and
 * read as if it did.  Left unset, its default gives way to a smaller max_clients, so that a
 * file written before the key existed still loads. */
static int check_limits(struct load *ld)
{
	struct cfg *cfg = ld->cfg;
	struct place per_user = { 0 }, all = { 0 };
	char lp[32], la[32];

	if (cfg->max_clients_per_user <= cfg->max_clients)
		return 0;
	place_global(&per_user, ld, "socket", "max_clients_per_user", NULL);
	place_global(&all, ld, "socket", "max_clients", NULL);
	if (!per_user.line) {
		cfg->max_clients_per_user = cfg->max_clients;
		return 0;
	}
	return load_fail(ld, -EINVAL, per_user.line > all.line ? per_user.line : all.line,
			 _("%s = %u (%s) is more than %s = %u (%s): lower it to at most %u "
			   "(0: no per-user limit)"),
			 per_user.label, cfg->max_clients_per_user,
			 line_text(per_user.line, lp, sizeof(lp)), all.label, cfg->max_clients,
			 line_text(all.line, la, sizeof(la)), cfg->max_clients);
}

/* A quorum needs that many witnesses, and a witness listed twice (one key in two sections)
 * would count twice towards it. */
static int check_witnesses(struct load *ld)
{
	const struct cfg *cfg = ld->cfg;
	struct place quorum = { 0 };
	size_t key_key = 0;

	for (size_t i = 0; i < NKEYS; i++)
		if (cfg_keys[i].section == SEC_WITNESS && strcmp(cfg_keys[i].name, "key") == 0)
			key_key = i;
	for (size_t i = 0; i < cfg->nwitnesses; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(cfg->witnesses[i].key, cfg->witnesses[j].key) == 0)
				return load_fail(
				    ld, -EINVAL, ld->witness_keys[i].line[key_key],
				    _("[witness %s] key is the key of [witness %s] (line %u): one "
				      "witness would count twice towards witness_quorum"),
				    cfg->witnesses[i].name, cfg->witnesses[j].name,
				    ld->witness_keys[j].line[key_key]);
	if (cfg->witness_quorum <= cfg->nwitnesses)
		return 0;
	place_global(&quorum, ld, "log", "witness_quorum", NULL);
	return load_fail(ld, -EINVAL, quorum.line,
			 NG_("[log] witness_quorum = %u needs that many witnesses, but %zu "
			     "[witness NAME] section is configured",
			     "[log] witness_quorum = %u needs that many witnesses, but %zu "
			     "[witness NAME] sections are configured",
			     cfg->nwitnesses),
			 cfg->witness_quorum, cfg->nwitnesses);
}

/* After the file: defaults, required keys, the limits, at least one zone, then the places. */
static int finish(struct load *ld)
{
	struct cfg *cfg = ld->cfg;
	char label[96];
	int r;

	for (size_t i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];

		if (sec_named(k->section)) {
			for (size_t z = 0; z < named_count(ld, k->section); z++) {
				const char *name = named_name(ld, k->section, z);

				if (named_keys(ld, k->section, z)->line[i])
					continue;
				if (k->required)
					return load_fail(
					    ld, -EINVAL, named_line(ld, k->section, z),
					    _("[%s %s] has no %s, which is required (%s)"),
					    section_names[k->section], name, k->name, _(k->hint));
				if (k->def) {
					r = set_value(ld, k, named_elem(ld, k->section, z), name,
						      k->def, 0);
					if (r < 0)
						return r;
				}
			}
			continue;
		}
		if (ld->global.line[i])
			continue;
		if (k->required)
			return load_fail(ld, -EINVAL, 0, _("%s is required: %s"),
					 key_label(k, NULL, label, sizeof(label)), _(k->hint));
		if (k->def) {
			r = set_value(ld, k, cfg, NULL, k->def, 0);
			if (r < 0)
				return r;
		}
	}
	r = check_limits(ld);
	if (r < 0)
		return r;
	r = check_witnesses(ld);
	if (r < 0)
		return r;
	if (cfg->nzones == 0)
		return load_fail(
		    ld, -EINVAL, 0,
		    _("no drop zone: add at least one [zone NAME] section with a path"));
	return check_places(ld);
}

struct cfg *cfg_free(struct cfg *cfg)
{
	if (!cfg)
		return NULL;
	for (size_t i = 0; i < cfg->nzones; i++) {
		free(cfg->zones[i].name);
		free(cfg->zones[i].path);
		free(cfg->zones[i].name_pattern);
		free(cfg->zones[i].device_clock);
	}
	free(cfg->zones);
	for (size_t i = 0; i < cfg->nwitnesses; i++) {
		free(cfg->witnesses[i].name);
		free(cfg->witnesses[i].url);
		free(cfg->witnesses[i].key);
	}
	free(cfg->witnesses);
	free(cfg->publish_path);
	free(cfg->display_timezone);
	free(cfg->file);
	free(cfg->origin);
	free(cfg->key);
	free(cfg->verifier_key);
	free(cfg->state);
	free(cfg->store_path);
	free(cfg->device_clock);
	free(cfg->socket_path);
	free(cfg->operators);
	free(cfg->reviewers);
	free(cfg->auditors);
	free(cfg->approvers);
	free(cfg);
	return NULL;
}

int cfg_load(const char *path, struct cfg **ret, struct err_detail *reterr)
{
	static const struct ini_handlers handlers = { on_section_line, on_key, on_read_error };
	struct load ld = { .file = path };
	int r;

	ld.cfg = calloc(1, sizeof(*ld.cfg));
	if (!ld.cfg)
		return err_set(reterr, -ENOMEM, _("%s: out of memory"), path);
	ld.cfg->file = strdup(path);
	if (!ld.cfg->file) {
		r = load_fail(&ld, -ENOMEM, 0, _("out of memory"));
		goto out;
	}
	r = ini_read(path, &handlers, &ld);
	if (r == 0)
		r = finish(&ld);
out:
	free(ld.zone_keys);
	free(ld.zone_line);
	free(ld.witness_keys);
	free(ld.witness_line);
	if (r < 0) {
		cfg_free(ld.cfg);
		if (reterr)
			*reterr = ld.err;
		return r;
	}
	*ret = ld.cfg;
	return 0;
}
