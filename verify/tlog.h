#pragma once
/* The append-only Merkle log in LMDB.
 *
 * One LMDB environment (a directory) holds five databases:
 *   meta         origin, the verifier key, the signer key's path, the format version
 *   entries      leaf index (MDB_INTEGERKEY, dense from 0) -> the entry bytes, verbatim
 *   hashes       every complete subtree hash in completion order (merkle_stored_index()),
 *                packed TLOG_CHUNK to a record so that 4 records fill a 4 KiB page
 *   checkpoints  tree size -> the signed checkpoint note, every one ever signed
 *   keys         lookup keys (a file's SHA-256, a stream digest, a key packet's hash) -> the
 *                indexes of the entries that carry them, written in the entries' transaction
 * A root at any past size, an inclusion proof and a consistency proof read O(log n) hashes.
 *
 * Writers: one process at a time holds <dir>/custody.lock (a POSIX record lock, so a refused
 * writer can say which process holds it).  Within a process, writes are serialised by a
 * mutex: appends and signing belong to one writer thread, tlog_checkpoint_cosign() may come
 * from another; reads may come from any thread (the env is opened MDB_NOTLS).
 * Every commit is synchronous (no MDB_NOSYNC): an append that returned 0 survives a crash; a
 * crash during an append leaves the log at its previous size.  A full map is grown and the
 * append retried.  The map starts at 1 GiB, or at $CUSTODY_LMDB_MAPSIZE bytes (tests use a tiny
 * one to exercise the growth). */

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "verify/hash.h"
#include "verify/merkle.h"

struct err_detail;
struct vfy_signer;

struct tlog; /* opaque */

enum {
	TLOG_WRITE = 1 << 0, /* take the writer lock; without it appends and signing fail -EROFS */
};

/** Create a new log in @dir (created if missing; must not hold a log yet) for @origin, whose
 * checkpoints will be signed by the key in @key_path (stored as an absolute path) with
 * verifier key @vkey.  Signs nothing.  @return 0, -EEXIST (a log is already there), -EBUSY (a
 * writer holds it), -EINVAL, or an LMDB/system error. */
int tlog_create(const char *dir, const char *origin, const char *key_path, const char *vkey,
		struct err_detail *reterr);

/** Open the log in @dir.  With TLOG_WRITE takes the writer lock: -EBUSY when another process
 * holds it (the message names it).  -ENOENT when @dir holds no log.  Caller owns *@ret. */
int tlog_open(const char *dir, unsigned flags, struct tlog **ret, struct err_detail *reterr);

/** Close the log and release the lock.  NULL is fine; returns NULL. */
struct tlog *tlog_free(struct tlog *log);

/** Meta data, valid as long as @log: the origin, the verifier key string, the signer key path. */
const char *tlog_origin(const struct tlog *log);
const char *tlog_vkey(const struct tlog *log);
const char *tlog_key_path(const struct tlog *log);

/** Append @n entries (already canonical; not checked here) in one write transaction; their
 * indexes are *@ret_first … *@ret_first + n − 1.  Writer thread only.  @return 0, -EROFS (not
 * opened TLOG_WRITE), -E2BIG (an entry over VFY_ENTRY_MAX), or an LMDB/system error; on error
 * nothing was appended. */
int tlog_append(struct tlog *log, const struct iovec *entries, size_t n, uint64_t *ret_first,
		struct err_detail *reterr);

/* A lookup key for an entry of a batch: @entry is its position in the batch; @extra is kept
 * with the index (e.g. a stream number and a timestamp for a key packet). */
#define TLOG_KEY_EXTRA 16
enum tlog_key_kind {
	TLOG_KEY_FILE = 1,    /* SHA-256 of an original's bytes */
	TLOG_KEY_STREAM = 2,  /* a stream's packet digest (docs/log.md) */
	TLOG_KEY_PACKET = 3,  /* a key packet's SHA-256 */
	TLOG_KEY_PURGED = 4,  /* SHA-256 of an original whose entry a purge entry ended (carried by
			       * the purge entry; extra: the purged entry, see verify/keys.h) */
	TLOG_KEY_ARRIVAL = 5, /* one arrival of a file in a drop zone, so that an arrival taken
			       * again after a crash is known (verify/keys.h) */
};
struct tlog_key {
	uint32_t entry;
	uint8_t kind;
	uint8_t hash[VFY_HASH_LEN];
	uint8_t extra[TLOG_KEY_EXTRA];
};

/** tlog_append() that also records @nkeys lookup keys in the same transaction.  -EINVAL when a
 * key names an entry outside the batch. */
int tlog_append_keyed(struct tlog *log, const struct iovec *entries, size_t n,
		      const struct tlog_key *keys, size_t nkeys, uint64_t *ret_first,
		      struct err_detail *reterr);

struct tlog_hit {
	uint64_t index;
	uint8_t extra[TLOG_KEY_EXTRA];
};

/** The entries carrying lookup key (@kind, @hash), by increasing index, at most @max of them,
 * into @ret_hits; their count to @ret_n (0 when none).  Any thread. */
int tlog_lookup(struct tlog *log, uint8_t kind, const uint8_t hash[VFY_HASH_LEN],
		struct tlog_hit *ret_hits, size_t max, size_t *ret_n, struct err_detail *reterr);

/** Committed tree size. */
int tlog_size(struct tlog *log, uint64_t *ret_size, struct err_detail *reterr);

/** A copy of entry @index (malloc()'d, NUL-terminated).  -ENOENT when index >= size. */
int tlog_entry(struct tlog *log, uint64_t index, char **ret, size_t *ret_len,
	       struct err_detail *reterr);

/** The leaf hash of entry @index.  -ENOENT when index >= size. */
int tlog_leaf_hash(struct tlog *log, uint64_t index, uint8_t ret_hash[VFY_HASH_LEN],
		   struct err_detail *reterr);

/** Root at @size (<= committed size, else -ERANGE). */
int tlog_root(struct tlog *log, uint64_t size, uint8_t ret_root[VFY_HASH_LEN],
	      struct err_detail *reterr);

/** Inclusion proof of @index at @size (MERKLE_MAX_PROOF entries in @ret_proof).  -ERANGE when
 * index >= size or size > committed size. */
int tlog_inclusion(struct tlog *log, uint64_t index, uint64_t size,
		   uint8_t ret_proof[][VFY_HASH_LEN], size_t *ret_n, struct err_detail *reterr);

/** Consistency proof from @old to @new leaves.  -ERANGE unless 0 < old <= new <= size. */
int tlog_consistency(struct tlog *log, uint64_t old, uint64_t new,
		     uint8_t ret_proof[][VFY_HASH_LEN], size_t *ret_n, struct err_detail *reterr);

/** Sign a checkpoint for the committed size with @signer if the log grew since the newest
 * signed one (or none was signed yet), and store it.  *@ret_signed is 1 when a new one was
 * signed, 0 when the newest still covers the log.  The signer's verifier key must be the
 * log's (-EKEYREJECTED otherwise).  Writer thread only. */
int tlog_checkpoint_sign(struct tlog *log, struct vfy_signer *signer, int *ret_signed,
			 struct err_detail *reterr);

/** Replace the stored checkpoint of @size by @note, the same checkpoint with cosignatures
 * (docs/witness.md): @note must begin with the stored note's text and the log's signature
 * line, byte for byte, and open with the log's key; the lines after (cosignatures, checked by
 * the caller against the witnesses' keys) replace those stored.  Any thread.  @return 0,
 * -EROFS, -ENOENT (no checkpoint of @size), -EINVAL (not that checkpoint), -EBADMSG /
 * -EKEYREJECTED (@note does not open), or an LMDB error. */
int tlog_checkpoint_cosign(struct tlog *log, uint64_t size, const char *note, size_t len,
			   struct err_detail *reterr);

/** The signed checkpoint for exactly @size, or with @size == TLOG_NEWEST the newest one.
 * @ret_note malloc()'d and NUL-terminated; @ret_size (if not NULL) its tree size.
 * -ENOENT when none was signed at that size (the message names the nearest signed sizes). */
#define TLOG_NEWEST UINT64_MAX
int tlog_checkpoint_get(struct tlog *log, uint64_t size, char **ret_note, size_t *ret_len,
			uint64_t *ret_size, struct err_detail *reterr);

/** A tlog-proof@v1 file for entry @index against the signed checkpoint of @size (TLOG_NEWEST:
 * the newest).  -ERANGE when the checkpoint does not cover @index. */
int tlog_proof_file(struct tlog *log, uint64_t index, uint64_t size, char **ret, size_t *ret_len,
		    struct err_detail *reterr);

/** A custody-consistency/1 file between the signed checkpoints of @old and @new. */
int tlog_consistency_file(struct tlog *log, uint64_t old, uint64_t new, char **ret, size_t *ret_len,
			  struct err_detail *reterr);

/* Bulk reads, for publishing the log as tiles (verify/publish.h).  Each call is one read txn
 * whose cursor walks forward, so a run of neighbours costs one record read per TLOG_CHUNK
 * hashes rather than one B-tree descent per hash.  Any thread; they only read. */

/** Stored hashes [@first, @first + @n) in completion order (merkle_stored_index()) into @ret.
 * -ERANGE when the range reaches past merkle_stored_count() of the committed size;
 * -EBADMSG when a record is missing or damaged. */
int tlog_hashes(struct tlog *log, uint64_t first, size_t n, uint8_t ret[][VFY_HASH_LEN],
		struct err_detail *reterr);

/** Hashes of the complete subtrees (@level, @first) … (@level, @first + @n − 1) into @ret:
 * with level 0, leaf hashes; with level 8L, the hashes of a level-L tile.  -ERANGE unless all
 * of them are complete at the committed size; -EINVAL when @level >= 64. */
int tlog_nodes(struct tlog *log, unsigned level, uint64_t first, size_t n,
	       uint8_t ret[][VFY_HASH_LEN], struct err_detail *reterr);

/** Called with entry @index's bytes (@data, @len: valid only during the call, inside the
 * read txn; not NUL-terminated).  A negative return stops the walk and is returned. */
typedef int (*tlog_entry_fn)(void *ctx, uint64_t index, const void *data, size_t len,
			     struct err_detail *reterr);

/** Call @fn for entries @first … @first + @n − 1 in order, from one snapshot.  -ERANGE when
 * they reach past the committed size. */
int tlog_entries_each(struct tlog *log, uint64_t first, size_t n, tlog_entry_fn fn, void *ctx,
		      struct err_detail *reterr);
