/* config.c: custody-witness's configuration (docs/witness.md), read as custodyd's is, with
 * line numbers on inih (conf/inifile.h), which stops at the first error.  The witness has few
 * keys, so they are matched by name here rather than through a table. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"
#include "conf/inifile.h"
#include "base/utf8.h"
#include "witness/config.h"

#define SHOW_MAX 64
#define LOGS_MAX 1024 /* a witness for more logs than this is not what this program is for */

enum section { SEC_NONE, SEC_WITNESS, SEC_LOG };

struct load {
	struct wit_config *cfg;
	unsigned lineno;
	enum section sec;
	bool seen_witness;
	unsigned seen[6]; /* [witness] keys given, by index of witness_keys[]: their line */
	unsigned log_seen[2];
	bool failed;
	struct err_detail err;
};

static const char *const witness_keys[] = { "listen", "prefix",	  "key",
					    "state",  "tls_cert", "tls_key" };

static int load_fail(struct load *ld, int code, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int load_fail(struct load *ld, int code, unsigned line, const char *fmt, ...)
{
	va_list ap;
	char msg[sizeof(ld->err.msg)];

	if (ld->failed)
		return ld->err.code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ld->failed = true;
	if (line)
		err_set_line(&ld->err, code, line, _("line %u: %s"), line, msg);
	else
		err_set(&ld->err, code, "%s", msg);
	return code;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int on_section(struct load *ld, const char *name, size_t len)
{
	char shown[SHOW_MAX + 4];

	if (len == 7 && memcmp(name, "witness", 7) == 0) {
		if (ld->seen_witness)
			return load_fail(ld, -EINVAL, ld->lineno, _("[witness] is given twice"));
		ld->seen_witness = true;
		ld->sec = SEC_WITNESS;
		return 0;
	}
	if (len > 4 && memcmp(name, "log ", 4) == 0) {
		struct wit_config *c = ld->cfg;
		struct wit_log_conf *logs, *l;
		const char *n = name + 4;
		size_t nlen = len - 4;

		while (nlen > 0 && is_blank(*n))
			n++, nlen--;
		if (nlen == 0 || memchr(n, ' ', nlen) || memchr(n, '\t', nlen))
			return load_fail(ld, -EINVAL, ld->lineno,
					 _("a log section is [log NAME], NAME one word"));
		for (size_t i = 0; i < c->nlogs; i++)
			if (strlen(c->logs[i].name) == nlen && !memcmp(c->logs[i].name, n, nlen))
				return load_fail(ld, -EINVAL, ld->lineno,
						 _("[log %s] is given twice (first on line %u)"),
						 c->logs[i].name, c->logs[i].line);
		if (c->nlogs == LOGS_MAX)
			return load_fail(ld, -EINVAL, ld->lineno, _("more than %d logs"), LOGS_MAX);
		logs = realloc(c->logs, (c->nlogs + 1) * sizeof(*logs));
		if (!logs)
			return load_fail(ld, -ENOMEM, 0, _("out of memory"));
		c->logs = logs;
		l = &c->logs[c->nlogs++];
		memset(l, 0, sizeof(*l));
		l->line = ld->lineno;
		l->name = strndup(n, nlen);
		if (!l->name)
			return load_fail(ld, -ENOMEM, 0, _("out of memory"));
		memset(ld->log_seen, 0, sizeof(ld->log_seen));
		ld->sec = SEC_LOG;
		return 0;
	}
	return load_fail(ld, -EINVAL, ld->lineno,
			 _("unknown section [%s]: a witness's configuration has [witness] and "
			   "[log NAME] sections"),
			 utf8_printable(name, len, shown, sizeof(shown)));
}

static int set_string(struct load *ld, char **field, const char *value)
{
	free(*field);
	*field = strdup(value);
	if (!*field)
		return load_fail(ld, -ENOMEM, 0, _("out of memory"));
	return 0;
}

static int on_key(struct load *ld, const char *name, const char *value)
{
	struct wit_config *c = ld->cfg;
	char shown[SHOW_MAX + 4];
	struct err_detail e;

	/* Errors are recorded in @ld; ini_key() tells the reader. */
	if (ld->failed)
		return 1;
	if (strstr(value, " #")) {
		load_fail(
		    ld, -EINVAL, ld->lineno,
		    _("'#' after a value is not a comment here; use ';' (with a space before)"));
		return 1;
	}
	if (ld->sec == SEC_NONE) {
		load_fail(ld, -EINVAL, ld->lineno, _("'%s' is outside any section"),
			  utf8_printable(name, strlen(name), shown, sizeof(shown)));
		return 1;
	}
	if (ld->sec == SEC_WITNESS) {
		char **fields[] = { &c->listen,	    &c->prefix,	  &c->key_path,
				    &c->state_path, &c->tls_cert, &c->tls_key };

		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			if (strcmp(name, witness_keys[i]) != 0)
				continue;
			if (ld->seen[i]) {
				load_fail(ld, -EINVAL, ld->lineno,
					  _("'%s' is given twice in [witness] (first on line %u)"),
					  name, ld->seen[i]);
				return 1;
			}
			ld->seen[i] = ld->lineno;
			set_string(ld, fields[i], value);
			return 1;
		}
		load_fail(ld, -EINVAL, ld->lineno,
			  _("unknown key '%s' in [witness]: it has listen, prefix, key, state, "
			    "tls_cert and tls_key"),
			  utf8_printable(name, strlen(name), shown, sizeof(shown)));
		return 1;
	}
	{
		struct wit_log_conf *l = &c->logs[c->nlogs - 1];
		int which = strcmp(name, "origin") == 0 ? 0 : strcmp(name, "key") == 0 ? 1 : -1;

		if (which < 0) {
			load_fail(ld, -EINVAL, ld->lineno,
				  _("unknown key '%s' in [log %s]: it has origin and key"),
				  utf8_printable(name, strlen(name), shown, sizeof(shown)),
				  l->name);
			return 1;
		}
		if (ld->log_seen[which]) {
			load_fail(ld, -EINVAL, ld->lineno,
				  _("'%s' is given twice in [log %s] (first on line %u)"), name,
				  l->name, ld->log_seen[which]);
			return 1;
		}
		ld->log_seen[which] = ld->lineno;
		if (which == 0) {
			if (!value[0] || strlen(value) > VFY_NAME_MAX ||
			    !utf8_valid(value, strlen(value)))
				load_fail(
				    ld, -EINVAL, ld->lineno,
				    _("the origin of [log %s] must be 1 to %d bytes of UTF-8"),
				    l->name, VFY_NAME_MAX);
			else
				set_string(ld, &l->origin, value);
			return 1;
		}
		if (vfy_verifier_parse(value, strlen(value), &l->key, &e) < 0)
			load_fail(ld, -EINVAL, ld->lineno, _("[log %s] key: %s"), l->name, e.msg);
		else if (l->key.alg != VFY_ALG_ED25519)
			load_fail(
			    ld, -EINVAL, ld->lineno,
			    _("[log %s] key is a cosignature/v1 (witness) key; a log signs its "
			      "checkpoints with an Ed25519 note key (algorithm 0x01)"),
			    l->name);
		return 1;
	}
}

/* conf/inifile.h's handlers. */
static int ini_section(void *user, const char *name, size_t len, unsigned line)
{
	struct load *ld = user;

	ld->lineno = line;
	return on_section(ld, name, len);
}

static int ini_key(void *user, const char *name, const char *value, unsigned line)
{
	struct load *ld = user;

	ld->lineno = line;
	on_key(ld, name, value);
	return ld->failed ? ld->err.code : 0;
}

/* The reader's error replaces what was recorded (it comes first in the file, or is why the
 * file could not be read). */
static void ini_fail(void *user, int code, unsigned line, const char *msg)
{
	struct load *ld = user;

	ld->failed = false;
	load_fail(ld, code, line, "%s", msg);
}

static int with_default(struct load *ld, char **field, const char *def)
{
	return *field ? 0 : set_string(ld, field, def);
}

/* Checks across keys, once the whole file is read. */
static int finish(struct load *ld)
{
	struct wit_config *c = ld->cfg;
	size_t plen;

	if (with_default(ld, &c->listen, "127.0.0.1:7380") < 0 ||
	    with_default(ld, &c->prefix, "") < 0 ||
	    with_default(ld, &c->key_path, "/etc/custody-witness/witness.key") < 0 ||
	    with_default(ld, &c->state_path, "/var/lib/custody-witness") < 0)
		return ld->err.code;
	plen = strlen(c->prefix);
	if (plen > 0 && (c->prefix[0] != '/' || c->prefix[plen - 1] == '/'))
		return load_fail(ld, -EINVAL, ld->seen[1],
				 _("prefix must be empty or a path starting with '/' and not "
				   "ending with one, as in /witness"));
	for (size_t i = 0; i < plen; i++)
		if ((unsigned char)c->prefix[i] <= ' ' || c->prefix[i] == '?' ||
		    c->prefix[i] == '#' || (unsigned char)c->prefix[i] >= 0x7f)
			return load_fail(ld, -EINVAL, ld->seen[1],
					 _("prefix may hold only printable ASCII, no space, '?' or "
					   "'#'"));
	if (c->key_path[0] != '/' || c->state_path[0] != '/')
		return load_fail(ld, -EINVAL, 0, _("key and state must be absolute paths"));
	if (!c->tls_cert != !c->tls_key)
		return load_fail(ld, -EINVAL, ld->seen[4] ? ld->seen[4] : ld->seen[5],
				 _("tls_cert and tls_key go together: give both or neither"));
	if (c->nlogs == 0)
		return load_fail(ld, -EINVAL, 0,
				 _("no [log NAME] section: a witness needs at least one log"));
	for (size_t i = 0; i < c->nlogs; i++) {
		struct wit_log_conf *l = &c->logs[i];

		if (!l->origin || !l->key.name[0])
			return load_fail(ld, -EINVAL, l->line, _("[log %s] needs origin and key"),
					 l->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->logs[j].origin, l->origin) == 0)
				return load_fail(ld, -EINVAL, l->line,
						 _("[log %s] has the origin of [log %s]"), l->name,
						 c->logs[j].name);
	}
	return 0;
}

int wit_config_load(const char *path, struct wit_config **ret, struct err_detail *reterr)
{
	static const struct ini_handlers handlers = { ini_section, ini_key, ini_fail };
	struct load ld = { 0 };
	int r;

	ld.cfg = calloc(1, sizeof(*ld.cfg));
	if (!ld.cfg)
		return err_set(reterr, -ENOMEM, _("out of memory"));
	r = ini_read(path, &handlers, &ld);
	if (r == 0)
		r = finish(&ld);
	if (r < 0) {
		wit_config_free(ld.cfg);
		if (reterr)
			*reterr = ld.err;
		return r;
	}
	*ret = ld.cfg;
	return 0;
}

struct wit_config *wit_config_free(struct wit_config *c)
{
	if (!c)
		return NULL;
	free(c->listen);
	free(c->prefix);
	free(c->key_path);
	free(c->state_path);
	free(c->tls_cert);
	free(c->tls_key);
	for (size_t i = 0; i < c->nlogs; i++) {
		free(c->logs[i].name);
		free(c->logs[i].origin);
	}
	free(c->logs);
	free(c);
	return NULL;
}

const struct wit_log_conf *wit_config_log(const struct wit_config *c, const char *origin,
					  size_t len)
{
	for (size_t i = 0; i < c->nlogs; i++)
		if (strlen(c->logs[i].origin) == len && memcmp(c->logs[i].origin, origin, len) == 0)
			return &c->logs[i];
	return NULL;
}
