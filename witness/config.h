#pragma once
/* custody-witness's configuration (docs/witness.md), read with inih:
 *
 *   [witness]  listen, prefix, key, state, tls_cert, tls_key
 *   [log NAME] origin, key          (one section per witnessed log, at least one)
 *
 * Unknown sections and keys, a key given twice, a section given twice and two logs of one
 * origin are errors naming the line.  Reentrant; no logging: errors come back as -E... plus
 * err_detail. */

#include <stddef.h>

#include "verify/note.h"

struct err_detail;

struct wit_log_conf {
	char *name;		 /* the section's NAME */
	char *origin;		 /* the checkpoints' origin line */
	struct vfy_verifier key; /* the log's Ed25519 note key (0x01) */
	unsigned line;		 /* of the section, for messages */
};

struct wit_config {
	char *listen;	/* "HOST:PORT", "[V6]:PORT" */
	char *prefix;	/* "" or "/a/b": POST <prefix>/add-checkpoint */
	char *key_path; /* the witness's cosignature/v1 signer key file */
	char *state_path;
	char *tls_cert; /* both NULL, or both set: PEM files */
	char *tls_key;
	struct wit_log_conf *logs;
	size_t nlogs;
};

/** Load and check @path.  Nothing is opened but the file itself (the key and the state are
 * the program's to open).  @return 0 with *@ret (free with wit_config_free()), -ENOENT/-EACCES
 * (cannot open), -EINVAL (what is wrong; reterr->line when about a line), -ENOMEM, -EIO. */
int wit_config_load(const char *path, struct wit_config **ret, struct err_detail *reterr);

/** Free a configuration; NULL is fine; returns NULL. */
struct wit_config *wit_config_free(struct wit_config *c);

/** The log of origin @origin (@len bytes), or NULL. */
const struct wit_log_conf *wit_config_log(const struct wit_config *c, const char *origin,
					  size_t len);
