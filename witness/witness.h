#pragma once
/* The witness itself (docs/witness.md): its key, what it last cosigned for each log, and the
 * C2SP tlog-witness v1 add-checkpoint decision, apart from HTTP so that it can be driven and
 * tested without a server.
 *
 * State: for each configured log, the newest checkpoint it cosigned, as the log signed it, in
 * STATE/<hex SHA-256 of the origin>.checkpoint, replaced atomically (temp, fsync, rename, fsync
 * of the folder) before the cosignature is returned.  STATE/lock is flock()ed while a witness
 * is open, so two witnesses never share a state.
 *
 * Threads: witness_add_checkpoint() may be called from any thread, concurrently; one mutex
 * makes the check of the old size, the write of the state and the cosignature one step, as the
 * protocol requires.  It blocks (fsync) while it holds the mutex.  witness_open() and
 * witness_free() by one thread, with no call in progress. */

#include <stdbool.h>
#include <stddef.h>

struct err_detail;
struct wit_config;
struct witness;

/** One HTTP answer.  @body is malloc()'d (the caller frees it), @content_type static. */
struct wit_reply {
	unsigned status;
	const char *content_type;
	char *body;
	size_t body_len;
};

/** Load the witness key (@cfg->key_path: a cosignature/v1 signer key, mode 0600, ours) and the
 * state of each log from @cfg->state_path, each checkpoint checked again against its log's
 * key.  With @lock, the state folder is locked for this process (-EBUSY when another holds it);
 * without, nothing is written (for --check-config).  @cfg must outlive *@ret.
 * @return 0, -ENOENT, -EACCES, -EPERM (key file mode or owner), -EINVAL (a key that is not a
 * cosignature/v1 key, a state file that does not verify), -EBUSY, -ENOMEM, -EIO. */
int witness_open(const struct wit_config *cfg, bool lock, struct witness **ret,
		 struct err_detail *reterr);

/** Destroy; NULL is fine; returns NULL. */
struct witness *witness_free(struct witness *w);

/** The witness's verifier key string (owned by @w). */
const char *witness_vkey(const struct witness *w);

/** Decide one add-checkpoint request of @len bytes at @body and fill @ret: 200 with the
 * cosignature line; 400 (malformed, old size above the checkpoint's), 403 (no valid signature
 * by the log's key), 404 (unknown origin), 409 with the stored size (text/x.tlog.size) when the
 * old size is not it, or when the size is the same and the root is not (a split view: ALERT),
 * 422 (the consistency proof does not verify), 500 (the state could not be written, out of
 * memory).  Logs what it decides.  Never fails: *@ret is always filled, and a NULL body means
 * out of memory (answer 500 with no body). */
void witness_add_checkpoint(struct witness *w, const char *body, size_t len, struct wit_reply *ret);
