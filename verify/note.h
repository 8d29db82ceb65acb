#pragma once
/* C2SP signed notes with Ed25519 (libsodium), the note key formats, C2SP tlog-checkpoint
 * bodies, and C2SP tlog-cosignature cosignature/v1 (docs/witness.md).
 *
 *   verifier key  NAME+KEYID+BASE64(ALG || pubkey)
 *   signer key    PRIVATE+KEY+NAME+KEYID+BASE64(ALG || seed)
 *   key ID        first 4 bytes (big-endian) of SHA-256(NAME || 0x0A || ALG || pubkey)
 *
 * ALG is 0x01 for an Ed25519 note key (a log's) and 0x04 for an Ed25519 cosignature/v1 key (a
 * witness's).  A cosignature line's signature is keyid(4) || timestamp (8, big-endian) ||
 * Ed25519(64) over "cosignature/v1\ntime TIMESTAMP\n" followed by the note text.
 *
 * Secret material (seeds, secret keys, signer key strings) lives only in sodium_malloc()'d
 * memory, is kept PROT_NOACCESS while not signing, and is wiped when freed.  All functions are
 * reentrant; a struct vfy_signer may be used from one thread at a time. */

#include <stddef.h>
#include <stdint.h>

#include "verify/hash.h"

struct err_detail;

#define VFY_NAME_MAX 255
#define VFY_NOTE_MAX (64 * 1024) /* notes larger than this are rejected */
#define VFY_NOTE_MAX_SIGS 100	 /* signature lines beyond this reject the note */

#define VFY_ALG_ED25519 0x01	     /* C2SP signed-note Ed25519 */
#define VFY_ALG_COSIG 0x04	     /* C2SP tlog-cosignature cosignature/v1 (Ed25519) */
#define VFY_COSIG_TIME_MAX INT64_MAX /* the largest timestamp a cosignature may carry */

struct vfy_verifier {
	char name[VFY_NAME_MAX + 1];
	uint32_t id;
	uint8_t alg; /* VFY_ALG_ED25519 or VFY_ALG_COSIG */
	uint8_t pub[32];
};

struct vfy_signer; /* opaque: name, key ID, secret key in sodium_malloc()'d memory */

/** Generate a new Ed25519 key named @name.  @ret_skey (signer key string, in sodium_malloc()'d
 * memory: release with vfy_secret_free()) and @ret_vkey (verifier key string, malloc()'d).
 * @return 0, -EINVAL (bad name: empty, spaces, '+', control characters, not UTF-8, longer than
 * VFY_NAME_MAX), -ENOMEM, -EIO (libsodium or libcrypto failed). */
int vfy_keygen(const char *name, char **ret_skey, char **ret_vkey, struct err_detail *reterr);

/** Like vfy_keygen(), for a witness: a cosignature/v1 key (algorithm 0x04), whose signer key
 * only vfy_cosign() uses. */
int vfy_cosig_keygen(const char *name, char **ret_skey, char **ret_vkey, struct err_detail *reterr);

/** Wipe and free a string from vfy_keygen() or other secret buffer; NULL is fine. */
void vfy_secret_free(char *secret);

/** Parse a signer key string of either algorithm (trailing newline or other ASCII white space
 * allowed).  On success
 * *@ret is a new signer (free with vfy_signer_free()); @skey is not kept and stays the caller's
 * to wipe.  Messages never quote the key's fields.  @return 0, -EINVAL (not a signer key, with
 * what is wrong), -EKEYREJECTED (key ID does not match name and key), -ENOMEM. */
int vfy_signer_parse(const char *skey, size_t len, struct vfy_signer **ret,
		     struct err_detail *reterr);

/** Write the signer key string @skey (either algorithm) to a new file @path, mode 0600, with a
 * newline, fsynced; an existing file is never replaced (a lost key orphans what it signed).
 * On failure nothing is left at @path.  Blocking.  @return 0, -EEXIST (a file is there: the
 * message says to choose another name), or open()'s or write()'s -errno, naming @path. */
int vfy_signer_write(const char *path, const char *skey, struct err_detail *reterr);

/** Load the signer key from @path.  The file must be a regular file of mode 0600 (no group or
 * other bits) owned by the effective user, else -EPERM saying so (also for a symbolic link: it
 * is opened with O_NOFOLLOW); -ENOENT/-EACCES when it cannot be read; then as
 * vfy_signer_parse(), with the path prefixed to the message.  The file's bytes are read into
 * sodium_malloc()'d memory and wiped.  Blocking (a small read). */
int vfy_signer_load(const char *path, struct vfy_signer **ret, struct err_detail *reterr);

/** Destroy (wipe) a signer; NULL is fine; returns NULL. */
struct vfy_signer *vfy_signer_free(struct vfy_signer *s);

/** The signer's name (owned by @s), its verifier key string (malloc()'d, caller frees; NULL
 * when out of memory) and its algorithm (VFY_ALG_ED25519 or VFY_ALG_COSIG). */
const char *vfy_signer_name(const struct vfy_signer *s);
char *vfy_signer_vkey(const struct vfy_signer *s);
uint8_t vfy_signer_alg(const struct vfy_signer *s);

/** Parse a verifier key string (surrounding whitespace allowed) of algorithm 0x01 or 0x04
 * (ret->alg says which).  @return 0, -EINVAL (not a verifier key, another algorithm byte, bad
 * base64, wrong length), -EKEYREJECTED (the key ID
 * does not match the name and key). */
int vfy_verifier_parse(const char *vkey, size_t len, struct vfy_verifier *ret,
		       struct err_detail *reterr);

/** Sign @text (@len bytes; valid UTF-8, no control characters but '\n', ending in '\n') with
 * @s.  @ret_note gets the signed note, malloc()'d and NUL-terminated: text, "\n", then
 * "— NAME BASE64(keyid || sig)\n".  @return 0, -EINVAL (text not a valid note text, or the signed
 * note would exceed VFY_NOTE_MAX, or @s is a cosignature key), -ENOMEM, -EIO (the key's memory
 * could not be unlocked). */
int vfy_note_sign(const char *text, size_t len, struct vfy_signer *s, char **ret_note,
		  struct err_detail *reterr);

/** Where the signature lines of the signed note @note (@len bytes) begin: just after its last
 * blank line, where Go's note.Open splits it, or NULL when it has none.  The text is
 * [@note, result − 1).  Syntax only: nothing is parsed or verified.  Reentrant. */
const char *vfy_note_sig_lines(const char *note, size_t len);

/** Open a signed note against trusted @keys (@nkeys of them).  A key of algorithm 0x04 checks
 * its lines as cosignature/v1 signatures of the note text, accepted whatever their timestamp
 * (vfy_cosig_time() tells it).  Signatures from unknown keys (name and ID not both matching)
 * are ignored; a known key's signature that fails rejects the
 * note; at least one known signature must verify.  A key that signs twice counts once (every
 * one of its signature lines must verify).  The whole note is checked for syntax before any
 * signature, so a malformed note is -EBADMSG whatever the keys.
 * On success @ret_text_len (if not NULL) is the length of the note text (including its final
 * newline; the text starts at @note) and @ret_verified (if not NULL) has bit i set for each
 * keys[i] that verified (only keys[0..63] have a bit; later keys are still checked).
 * @return 0, -EBADMSG (malformed note: says where, reterr->line is the note line),
 * -EKEYREJECTED (a known key's signature does not verify, or no known key signed: says which),
 * -EINVAL (@nkeys is 0). */
int vfy_note_open(const char *note, size_t len, const struct vfy_verifier *keys, size_t nkeys,
		  size_t *ret_text_len, uint64_t *ret_verified, struct err_detail *reterr);

struct vfy_checkpoint {
	char origin[VFY_NAME_MAX + 1];
	uint64_t size;
	uint8_t root[VFY_HASH_LEN];
};

/** Format a checkpoint body "ORIGIN\nSIZE\nBASE64(ROOT)\n" (malloc()'d).  @return 0, -EINVAL
 * (empty origin, one longer than VFY_NAME_MAX, not UTF-8, or with a newline or control
 * character), -ENOMEM. */
int vfy_checkpoint_format(const char *origin, uint64_t size, const uint8_t root[VFY_HASH_LEN],
			  char **ret_body, struct err_detail *reterr);

/** Parse a checkpoint body (the note text): valid UTF-8 ending in a newline, at least three
 * lines, a non-empty origin of at most VFY_NAME_MAX bytes, a decimal size without leading
 * zeros that fits in 64 bits, a canonical base64 32-byte root, non-empty extension lines
 * (which are not returned).  @return 0 or -EBADMSG saying which line is wrong (also in
 * reterr->line). */
int vfy_checkpoint_parse(const char *text, size_t len, struct vfy_checkpoint *ret,
			 struct err_detail *reterr);

/** Open a signed checkpoint: keys[0] is the log's key (algorithm 0x01) and must have signed it;
 * keys[1..] are other trusted keys (witnesses, usually of algorithm 0x04) whose signatures are
 * checked when present.  The origin line
 * must equal @origin (when NULL: keys[0].name).  @ret (if not NULL) gets the checkpoint;
 * @ret_nsigs (if not NULL) counts the distinct trusted keys whose signatures verified.
 * Checked in this order: note syntax, signatures, the log key's signature, body, origin.
 * @return 0, -EBADMSG (malformed), -EKEYREJECTED (signature), -ESTALE (the origin is not the
 * expected one), -EINVAL (@nkeys is 0, or keys[0] is a cosignature key). */
int vfy_checkpoint_open(const char *note, size_t len, const char *origin,
			const struct vfy_verifier *keys, size_t nkeys, struct vfy_checkpoint *ret,
			unsigned *ret_nsigs, struct err_detail *reterr);

/** Cosign the checkpoint body @text (@len bytes, the note text ending in a newline; it must
 * parse as vfy_checkpoint_parse() says) with the cosignature/v1 key @s at @timestamp (seconds
 * since the Epoch, at most VFY_COSIG_TIME_MAX).  @ret_line gets one signature line,
 * "— NAME BASE64(keyid || timestamp || sig)\n", malloc()'d and NUL-terminated, to append to
 * the signed checkpoint.  @return 0, -EINVAL (@s is not a cosignature key, the timestamp is too
 * large, the text is not a checkpoint, or the note would exceed VFY_NOTE_MAX), -ENOMEM, -EIO
 * (the key's memory could not be unlocked). */
int vfy_cosign(struct vfy_signer *s, const char *text, size_t len, uint64_t timestamp,
	       char **ret_line, struct err_detail *reterr);

/** The timestamp of witness @w's cosignature on the signed note @note: every line of @w must
 * verify, and the largest timestamp is returned in *@ret_time.  @return 0, -EBADMSG
 * (malformed note), -ENOENT (no line of @w), -EKEYREJECTED (a line of @w does not verify),
 * -EINVAL (@w is not a cosignature key). */
int vfy_cosig_time(const char *note, size_t len, const struct vfy_verifier *w, uint64_t *ret_time,
		   struct err_detail *reterr);
