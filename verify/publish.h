#pragma once
/* Publishing the log as C2SP tlog-tiles static files (c2sp.org/tlog-tiles) into a folder that
 * a plain web server can serve: `checkpoint`, `tile/<L>/<N>[.p/<W>]` and, on request,
 * `tile/entries/<N>[.p/<W>]` (docs/publication.md).
 *
 * Durability: a file at its final name is complete and on disk before the `checkpoint` that
 * needs it is; `checkpoint` is replaced last, atomically.  Tiles are written in batches to
 * temporary names in the folder's `.publish-tmp/`, the batch is made durable with one
 * syncfs(), then renamed into place without replacing anything; the renames are made durable
 * with syncfs() before the checkpoint is written.  `.publish-tmp/` is emptied at each start,
 * so an interrupted run leaves nothing a later one trips on; it is not for serving.
 *
 * Threads: pub_publish() blocks for as long as it writes (fsync, syncfs, LMDB reads): call it
 * from a worker thread or a program's main thread, never from an event loop.  It only reads
 * @log (any thread may, while another writes it).  One publisher per folder at a time: it
 * holds flock(LOCK_EX) on @dirfd while it runs, and a second one, through another open of the
 * folder, gets -EBUSY (flock() belongs to the open file description: two threads passing the
 * same @dirfd are not kept apart, so a process runs one call per folder at a time). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err_detail;
struct tlog;

enum {
	PUB_ENTRIES = 1 << 0, /* also write entry bundles (tile/entries/...), disclosing entries */
};

/* What a run did, for the operator. */
struct pub_stats {
	uint64_t old_size; /* the size of the folder's checkpoint found at the start, 0: none */
	uint64_t size;	   /* the size published */
	uint64_t tiles;	   /* hash tiles written */
	uint64_t bundles;  /* entry bundles written */
	uint64_t present;  /* tiles and bundles already in place (a new one found there had the
			    * bytes the log says) */
	bool checkpoint;   /* `checkpoint` was replaced (false: it held @note already) */
};

/** Bring the folder open at @dirfd up to the signed checkpoint @note (@len bytes; a signed
 * note that @log's key signed for its origin; other signature lines are kept and ignored).
 * @log must hold that size with the same root.  Writes every full and partial tile of that
 * size, at every level, that is not in the folder (with PUB_ENTRIES also the entry bundles),
 * then `checkpoint`.  Catches up from any state the folder can be in: empty, emptied, an older
 * checkpoint of this log (its tiles are checked to be there, any missing one is written again),
 * an interrupted run.  Files and folders it makes are 0644 and 0755 whatever the umask; every
 * tile is public, entry bundles only with PUB_ENTRIES.  @ret_stats (may be NULL) says what it
 * did.
 * @return 0; -EKEYREJECTED / -EBADMSG (@note is not a checkpoint signed by @log's key);
 * -ESTALE (@note's origin or root is not @log's, or the folder holds another log's checkpoint
 * or a different history: an existing tile with other bytes, a checkpoint whose root the log
 * does not have at its size); -ERANGE (@log is shorter than @note's size); -EEXIST (the folder
 * holds a newer checkpoint than @note); -EBUSY (another publisher holds the folder); -E2BIG
 * (PUB_ENTRIES, and an entry over 65,535 bytes, which a bundle cannot hold); or a system or
 * LMDB error.  @reterr names the file at fault. */
int pub_publish(struct tlog *log, int dirfd, const char *note, size_t len, unsigned flags,
		struct pub_stats *ret_stats, struct err_detail *reterr);
