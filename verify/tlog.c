/* tlog.c: the append-only Merkle log over LMDB.
 *
 * DESIGN
 * The log stores three things per entry: the entry bytes (keyed by leaf index), the leaf hash,
 * and the hash of every complete subtree the entry completes.  Hashes are kept in completion
 * order (merkle_stored_index()), which is also append order, so every write is an MDB_APPEND
 * to the end of a B-tree and LMDB leaves its pages full.  Hashes are packed TLOG_CHUNK to a
 * record: four 1010-byte records (992 bytes of hashes plus LMDB's 18 bytes of node and key)
 * fill a 4 KiB page, which keeps the log near 66 bytes of hashes per entry instead of ~100 with
 * one record per hash.  The tail record is rewritten in place until it is full; it keeps its
 * size, so LMDB never moves it.
 *
 * Roots at past sizes and proofs read only stored subtree hashes: O(log n) lookups, the last
 * record looked up being cached for the run of neighbours a proof touches.
 *
 * Threads: the write path (tlog_append, tlog_checkpoint_sign) belongs to one thread, since LMDB
 * binds a write txn to its thread; the in-memory frontier (the right edge of the tree) is that
 * thread's.  Readers open their own short read txns (the env is MDB_NOTLS) from any thread.
 *
 * Processes: LMDB lets several processes write one after another, but the frontier cached here
 * would then go stale, and an offline tool writing under a running daemon is an operator's
 * mistake we want to catch with a clear message.  So writers hold a POSIX record lock on
 * <dir>/custody.lock for their lifetime; F_GETLK names the holder when it is refused.
 *
 * Durability: commits are synchronous (no MDB_NOSYNC / MDB_NOMETASYNC), so a returned append
 * survives a crash, and LMDB's copy-on-write pages mean a crash mid-append leaves the previous
 * commit intact.  MDB_MAP_FULL aborts the txn, doubles the map and retries the whole batch.
 *
 * One file because struct tlog is opaque and defined only here (as lmdb.h keeps MDB_env), and
 * every part (append, reads, lookups, checkpoints, proof files) works on its env, DBIs, lock
 * and frontier through the txn and error helpers above; splitting would export the struct and
 * the helpers. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <lmdb.h>

#include "base/cleanup.h"
#include "verify/entry.h"
#include "base/err.h"
#include "base/i18n.h"
#include "verify/merkle.h"
#include "verify/note.h"
#include "verify/proof.h"
#include "verify/tlog.h"

#define TLOG_CHUNK 31 /* hashes per record: 4 records of 31*32+18 bytes fill a 4 KiB page */
#define TLOG_CHUNK_BYTES (TLOG_CHUNK * VFY_HASH_LEN)
#define TLOG_FORMAT "custody-tlog/1"
#define TLOG_MAP_INITIAL ((size_t)1 << 30)
#define TLOG_FULL_BYTES (16u << 20) /* less room than this: a failed write is a full disk */

struct tlog {
	MDB_env *env;
	MDB_dbi meta, entries, hashes, checkpoints, keys;
	int lock_fd;
	unsigned flags;
	size_t mapsize;
	char *origin, *vkey, *key_path;
	char *dir;			 /* for statvfs() when a write fails */
	struct merkle_frontier frontier; /* writer only: the right edge at the committed size */
	bool map_full;			 /* the last write failed with MDB_MAP_FULL */
	/* Serialises this process's writes: appends and signing come from the daemon's writer
	 * thread, cosignatures from its witness thread (tlog_checkpoint_cosign()).  LMDB
	 * serialises write transactions too, but map_full, the map's growth and the frontier
	 * are ours. */
	pthread_mutex_t write_mtx;
};

/* Growing the map (mdb_env_set_mapsize) is allowed only while no transaction of this process
 * is open: other threads' readers would keep pointers into the old mapping, and the daemon
 * reads from its loop, its workers and the scrubber while the writer thread appends.  So
 * every transaction holds this lock shared from its begin to its end, and growing takes it
 * exclusively.  glibc's default rwlock prefers readers, so a thread that begins a second
 * read while holding one cannot deadlock against a waiting grow.  Process-wide: transactions
 * are short, and one lock for every log in a process is simpler than one per environment. */
static pthread_rwlock_t map_lock = PTHREAD_RWLOCK_INITIALIZER;

static void txn_abort(MDB_txn *txn)
{
	if (txn) {
		mdb_txn_abort(txn);
		pthread_rwlock_unlock(&map_lock);
	}
}

static int txn_commit(MDB_txn *txn)
{
	int rc = mdb_txn_commit(txn);

	pthread_rwlock_unlock(&map_lock);
	return rc;
}

static void mdb_txn_abortp(MDB_txn **txn)
{
	txn_abort(*txn);
}

/* Translate an LMDB result once, here, as Knot Resolver's cdb_lmdb.c does. */
static int lmdb_error(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_MAP_FULL:
		return -ENOSPC;
	case MDB_MAP_RESIZED:
		return -EAGAIN;
	case MDB_READERS_FULL:
		return -EBUSY;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_VERSION_MISMATCH:
		return -EBADMSG;
	default:
		return rc > 0 ? -rc : -EIO;
	}
}

/* Every LMDB failure goes through here; a full map is remembered so that the write paths can
 * tell it from a full disk (both are -ENOSPC to the caller, but only the first is cured by
 * growing the map). */
static int lmdb_fail_(struct tlog *log, struct err_detail *reterr, int rc, const char *what)
{
	struct statvfs sv;

	if (log && rc == MDB_MAP_FULL)
		log->map_full = true;
	/* LMDB reports a short write as EIO; on a filesystem that has (almost) no room left that
	 * is a full disk, which callers must tell apart from a failing one: they pause and retry
	 * rather than alarm about the hardware. */
	if (log && log->dir && (rc == EIO || rc == ENOSPC) && statvfs(log->dir, &sv) == 0 &&
	    (uint64_t)sv.f_bavail * sv.f_frsize < TLOG_FULL_BYTES)
		return err_set(reterr, -ENOSPC, _("LMDB %s: the filesystem of '%s' is full"), what,
			       log->dir);
	return err_set(reterr, lmdb_error(rc), _("LMDB %s: %s"), what, mdb_strerror(rc));
}

/* ---- the writer lock ---- */

static int lock_acquire(const char *dir, int *ret_fd, struct err_detail *reterr)
{
	char path[PATH_MAX], comm[64] = "?";
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	auto_close int fd = -1;

	snprintf(path, sizeof(path), "%s/custody.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return err_set(reterr, -errno, _("cannot open the lock file '%s': %s"), path,
			       strerror(errno));
	if (fcntl(fd, F_SETLK, &fl) == 0) {
		*ret_fd = TAKE_FD(fd);
		return 0;
	}
	if (errno != EAGAIN && errno != EACCES)
		return err_set(reterr, -errno, _("cannot lock '%s': %s"), path, strerror(errno));
	fl.l_type = F_WRLCK;
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
		char cpath[64];
		FILE *f;

		snprintf(cpath, sizeof(cpath), "/proc/%d/comm", (int)fl.l_pid);
		f = fopen(cpath, "re");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		return err_set(reterr, -EBUSY,
			       _("the log in '%s' is held for writing by process %d (%s); stop it "
				 "first, or use custodyctl while custodyd runs"),
			       dir, (int)fl.l_pid, comm);
	}
	return err_set(reterr, -EBUSY, _("the log in '%s' is held for writing by another process"),
		       dir);
}

/* ---- opening ---- */

/* $CUSTODY_LMDB_MAPSIZE (bytes) lets tests start with a tiny map, to prove it grows. */
static size_t initial_mapsize(void)
{
	const char *s = getenv("CUSTODY_LMDB_MAPSIZE");
	unsigned long long v;

	if (s && sscanf(s, "%llu", &v) == 1 && v >= 65536)
		return (size_t)v;
	return TLOG_MAP_INITIAL;
}

static int env_open(struct tlog *log, const char *dir, struct err_detail *reterr)
{
	MDB_envinfo info;
	int rc;

	rc = mdb_env_create(&log->env);
	if (rc)
		return lmdb_fail_(log, reterr, rc, "cannot create an environment");
	mdb_env_set_maxdbs(log->env, 5);
	mdb_env_set_mapsize(log->env, initial_mapsize());
	/* MDB_NOTLS: read txns are not tied to a thread, so the daemon can read from the loop and
	 * from workers alike.  No MDB_NOSYNC: every commit is durable. */
	rc = mdb_env_open(log->env, dir, MDB_NOTLS, 0640);
	if (rc)
		return err_set(reterr, lmdb_error(rc),
			       _("cannot open the log database in '%s': %s"), dir,
			       mdb_strerror(rc));
	/* Another process may have grown the map: LMDB adopts the larger size from the file. */
	mdb_env_info(log->env, &info);
	log->mapsize = info.me_mapsize;
	return 0;
}

static int txn_begin(struct tlog *log, unsigned flags, MDB_txn **ret, struct err_detail *reterr)
{
	int rc;

	pthread_rwlock_rdlock(&map_lock);
	rc = mdb_txn_begin(log->env, NULL, flags, ret);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map; adopt its size, with no txn of ours open. */
		pthread_rwlock_unlock(&map_lock);
		pthread_rwlock_wrlock(&map_lock);
		mdb_env_set_mapsize(log->env, 0);
		pthread_rwlock_unlock(&map_lock);
		pthread_rwlock_rdlock(&map_lock);
		rc = mdb_txn_begin(log->env, NULL, flags, ret);
	}
	if (rc) {
		pthread_rwlock_unlock(&map_lock);
		*ret = NULL;
		return lmdb_fail_(log, reterr, rc, "cannot begin a transaction");
	}
	return 0;
}

static int dbis_open(struct tlog *log, MDB_txn *txn, unsigned create, struct err_detail *reterr)
{
	int rc;

	rc = mdb_dbi_open(txn, "meta", create, &log->meta);
	if (!rc)
		rc = mdb_dbi_open(txn, "entries", create | MDB_INTEGERKEY, &log->entries);
	if (!rc)
		rc = mdb_dbi_open(txn, "hashes", create | MDB_INTEGERKEY, &log->hashes);
	if (!rc)
		rc = mdb_dbi_open(txn, "checkpoints", create | MDB_INTEGERKEY, &log->checkpoints);
	if (!rc)
		rc = mdb_dbi_open(txn, "keys", create | MDB_DUPSORT | MDB_DUPFIXED, &log->keys);
	if (rc == MDB_NOTFOUND)
		return err_set(reterr, -ENOENT, _("no log here (run custody-log init first)"));
	if (rc)
		return lmdb_fail_(log, reterr, rc, "cannot open the log's tables");
	return 0;
}

static int meta_get(struct tlog *log, MDB_txn *txn, const char *key, char **ret,
		    struct err_detail *reterr)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	int rc = mdb_get(txn, log->meta, &k, &v);

	if (rc == MDB_NOTFOUND)
		return err_set(reterr, -EBADMSG, _("the log's meta data has no '%s'"), key);
	if (rc)
		return lmdb_fail_(log, reterr, rc, "cannot read the log's meta data");
	*ret = strndup(v.mv_data, v.mv_size);
	return *ret ? 0 : err_set(reterr, -ENOMEM, _("out of memory"));
}

static int meta_put(struct tlog *log, MDB_txn *txn, const char *key, const char *value,
		    struct err_detail *reterr)
{
	MDB_val k = { strlen(key), (void *)key }, v = { strlen(value), (void *)value };
	int rc = mdb_put(txn, log->meta, &k, &v, 0);

	return rc ? lmdb_fail_(log, reterr, rc, "cannot write the log's meta data") : 0;
}

/* LMDB keeps keys only 2-byte aligned inside its pages: read integer keys with memcpy. */
static size_t key_value(const MDB_val *k)
{
	size_t v;

	memcpy(&v, k->mv_data, sizeof(v));
	return v;
}

static int size_get(struct tlog *log, MDB_txn *txn, uint64_t *ret, struct err_detail *reterr)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	/* The size is derived from the dense entry keys, never stored twice. */
	rc = mdb_cursor_open(txn, log->entries, &cur);
	if (rc)
		return lmdb_fail_(log, reterr, rc, "cannot open a cursor");
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND) {
		*ret = 0;
		return 0;
	}
	if (rc)
		return lmdb_fail_(log, reterr, rc, "cannot read the tree size");
	*ret = (uint64_t)key_value(&k) + 1;
	return 0;
}

struct hash_reader {
	struct tlog *log;
	MDB_txn *txn;
	uint64_t limit; /* stored hashes that exist at the size being read */
	size_t chunk;
	const uint8_t *data; /* the cached record, valid while txn lives */
};

static int hash_get(void *ctx, unsigned level, uint64_t index, uint8_t ret_hash[VFY_HASH_LEN],
		    struct err_detail *reterr)
{
	struct hash_reader *hr = ctx;
	uint64_t s = merkle_stored_index(level, index);
	size_t chunk = (size_t)(s / TLOG_CHUNK);

	if (s >= hr->limit)
		return err_set(reterr, -EIO, _("internal: subtree (%u, %llu) is past the tree"),
			       level, (unsigned long long)index);
	if (!hr->data || hr->chunk != chunk) {
		MDB_val k = { sizeof(chunk), &chunk }, v;
		int rc = mdb_get(hr->txn, hr->log->hashes, &k, &v);

		if (rc == MDB_NOTFOUND || (!rc && v.mv_size != TLOG_CHUNK_BYTES))
			return err_set(reterr, -EBADMSG,
				       _("the log database is damaged: hash record %zu is %s"),
				       chunk, rc ? _("missing") : _("of the wrong size"));
		if (rc)
			return lmdb_fail_(hr->log, reterr, rc, "cannot read a hash");
		hr->chunk = chunk;
		hr->data = v.mv_data;
	}
	memcpy(ret_hash, hr->data + (s % TLOG_CHUNK) * VFY_HASH_LEN, VFY_HASH_LEN);
	return 0;
}

static void hash_reader_init(struct hash_reader *hr, struct tlog *log, MDB_txn *txn, uint64_t size)
{
	*hr = (struct hash_reader){ .log = log, .txn = txn, .limit = merkle_stored_count(size) };
}

static int frontier_reload(struct tlog *log, MDB_txn *txn, struct err_detail *reterr)
{
	struct hash_reader hr;
	uint64_t size;
	int r;

	r = size_get(log, txn, &size, reterr);
	if (r < 0)
		return r;
	hash_reader_init(&hr, log, txn, size);
	return merkle_frontier_load(size, hash_get, &hr, &log->frontier, reterr);
}

static int tlog_alloc(const char *dir, unsigned flags, struct tlog **ret, struct err_detail *reterr)
{
	struct tlog *log = calloc(1, sizeof(*log));
	int r;

	if (!log)
		return err_set(reterr, -ENOMEM, _("out of memory"));
	log->lock_fd = -1;
	log->flags = flags;
	pthread_mutex_init(&log->write_mtx, NULL);
	log->dir = strdup(dir);
	if (!log->dir) {
		free(log);
		return err_set(reterr, -ENOMEM, _("out of memory"));
	}
	if (flags & TLOG_WRITE) {
		r = lock_acquire(dir, &log->lock_fd, reterr);
		if (r < 0)
			goto fail;
	}
	r = env_open(log, dir, reterr);
	if (r < 0)
		goto fail;
	*ret = log;
	return 0;
fail:
	tlog_free(log);
	return r;
}

int tlog_create(const char *dir, const char *origin, const char *key_path, const char *vkey,
		struct err_detail *reterr)
{
	struct tlog *log = NULL;
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	struct vfy_verifier v;
	char abs_key[PATH_MAX];
	MDB_val k = { 6, (void *)"format" }, val;
	int r, rc;

	if (!*origin || strpbrk(origin, "\n\r\t"))
		return err_set(reterr, -EINVAL, _("the origin must be one non-empty line"));
	r = vfy_verifier_parse(vkey, strlen(vkey), &v, reterr);
	if (r < 0)
		return r;
	if (strcmp(v.name, origin) != 0)
		return err_set(reterr, -EINVAL,
			       _("the key is named '%s' but the origin is '%s'; verifiers check a "
				 "checkpoint's origin against its key name, so they must be equal "
				 "(custody-log keygen '%s' --out FILE)"),
			       v.name, origin, origin);
	if (!realpath(key_path, abs_key))
		return err_set(reterr, -errno, _("cannot resolve the key path '%s': %s"), key_path,
			       strerror(errno));
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return err_set(reterr, -errno, _("cannot create '%s': %s"), dir, strerror(errno));

	r = tlog_alloc(dir, TLOG_WRITE, &log, reterr);
	if (r < 0)
		return r;
	r = txn_begin(log, 0, &txn, reterr);
	if (r < 0)
		goto out;
	r = dbis_open(log, txn, MDB_CREATE, reterr);
	if (r < 0)
		goto out;
	rc = mdb_get(txn, log->meta, &k, &val);
	if (rc != MDB_NOTFOUND) {
		r = err_set(reterr, -EEXIST,
			    _("'%s' already holds a log; it is never re-initialised"), dir);
		goto out;
	}
	if ((r = meta_put(log, txn, "format", TLOG_FORMAT, reterr)) < 0 ||
	    (r = meta_put(log, txn, "origin", origin, reterr)) < 0 ||
	    (r = meta_put(log, txn, "vkey", vkey, reterr)) < 0 ||
	    (r = meta_put(log, txn, "key_path", abs_key, reterr)) < 0)
		goto out;
	rc = txn_commit(TAKE_PTR(txn));
	if (rc)
		r = lmdb_fail_(log, reterr, rc, "cannot commit the new log");
out:
	txn_abort(TAKE_PTR(txn)); /* before the env closes */
	tlog_free(log);
	return r;
}

int tlog_open(const char *dir, unsigned flags, struct tlog **ret, struct err_detail *reterr)
{
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	struct tlog *log = NULL;
	char *format = NULL;
	struct stat st;
	char path[PATH_MAX];
	int r, rc;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st) < 0)
		return err_set(reterr, -ENOENT,
			       _("no log database in '%s' (custody-log --db '%s' init "
				 "creates one)"),
			       dir, dir);
	r = tlog_alloc(dir, flags, &log, reterr);
	if (r < 0)
		return r;
	r = txn_begin(log, MDB_RDONLY, &txn, reterr);
	if (r < 0)
		goto fail;
	r = dbis_open(log, txn, 0, reterr);
	if (r < 0)
		goto fail;
	if ((r = meta_get(log, txn, "format", &format, reterr)) < 0)
		goto fail;
	if (strcmp(format, TLOG_FORMAT) != 0) {
		r = err_set(reterr, -EBADMSG,
			    _("'%s' holds a log of format '%s'; this custody reads "
			      "'%s'"),
			    dir, format, TLOG_FORMAT);
		goto fail;
	}
	if ((r = meta_get(log, txn, "origin", &log->origin, reterr)) < 0 ||
	    (r = meta_get(log, txn, "vkey", &log->vkey, reterr)) < 0 ||
	    (r = meta_get(log, txn, "key_path", &log->key_path, reterr)) < 0)
		goto fail;
	if (flags & TLOG_WRITE) {
		r = frontier_reload(log, txn, reterr);
		if (r < 0)
			goto fail;
	}
	/* Table handles opened in a txn survive only if it commits, even a read-only one. */
	rc = txn_commit(TAKE_PTR(txn));
	if (rc) {
		r = lmdb_fail_(log, reterr, rc, "cannot open the log's tables");
		goto fail;
	}
	free(format);
	*ret = log;
	return 0;
fail:
	free(format);
	txn_abort(TAKE_PTR(txn));
	tlog_free(log);
	return r;
}

struct tlog *tlog_free(struct tlog *log)
{
	if (!log)
		return NULL;
	if (log->env)
		mdb_env_close(log->env);
	if (log->lock_fd >= 0)
		close(log->lock_fd);
	free(log->origin);
	free(log->vkey);
	free(log->key_path);
	free(log->dir);
	pthread_mutex_destroy(&log->write_mtx);
	free(log);
	return NULL;
}

const char *tlog_origin(const struct tlog *log)
{
	return log->origin;
}

const char *tlog_vkey(const struct tlog *log)
{
	return log->vkey;
}

const char *tlog_key_path(const struct tlog *log)
{
	return log->key_path;
}

/* ---- appending ---- */

static int chunk_put(struct tlog *log, MDB_txn *txn, size_t chunk, const uint8_t *data, bool append,
		     struct err_detail *reterr)
{
	MDB_val k = { sizeof(chunk), &chunk }, v = { TLOG_CHUNK_BYTES, (void *)data };
	int rc = mdb_put(txn, log->hashes, &k, &v, append ? MDB_APPEND : 0);

	return rc ? lmdb_fail_(log, reterr, rc, "cannot store hashes") : 0;
}

/* One attempt at appending the batch; the caller retries after growing a full map. */
/* A secondary key's record: key kind || hash, value big-endian index || extra, so that the
 * duplicates of one hash sort by entry index. */
static int key_put(struct tlog *log, MDB_txn *txn, const struct tlog_key *k, uint64_t index,
		   struct err_detail *reterr)
{
	uint8_t kbuf[1 + VFY_HASH_LEN], vbuf[8 + TLOG_KEY_EXTRA];
	MDB_val kv = { sizeof(kbuf), kbuf }, vv = { sizeof(vbuf), vbuf };
	int rc;

	kbuf[0] = k->kind;
	memcpy(kbuf + 1, k->hash, VFY_HASH_LEN);
	for (int i = 0; i < 8; i++)
		vbuf[i] = (uint8_t)(index >> (56 - 8 * i));
	memcpy(vbuf + 8, k->extra, TLOG_KEY_EXTRA);
	rc = mdb_put(txn, log->keys, &kv, &vv, MDB_NODUPDATA);
	if (rc == MDB_KEYEXIST)
		return 0;
	return rc ? lmdb_fail_(log, reterr, rc, "cannot store a lookup key") : 0;
}

static int append_txn(struct tlog *log, const struct iovec *entries, size_t n,
		      const struct tlog_key *keys, size_t nkeys, struct merkle_frontier *f,
		      struct err_detail *reterr)
{
	uint64_t first = f->size;

	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	uint8_t chunk[TLOG_CHUNK_BYTES], leaf[VFY_HASH_LEN], added[64][VFY_HASH_LEN];
	uint64_t stored = merkle_stored_count(f->size);
	size_t cur = (size_t)(stored / TLOG_CHUNK);
	bool cur_exists = stored % TLOG_CHUNK != 0;
	int r, rc;

	r = txn_begin(log, 0, &txn, reterr);
	if (r < 0)
		return r;
	memset(chunk, 0, sizeof(chunk));
	if (cur_exists) {
		MDB_val k = { sizeof(cur), &cur }, v;

		rc = mdb_get(txn, log->hashes, &k, &v);
		if (rc || v.mv_size != TLOG_CHUNK_BYTES)
			return rc ? lmdb_fail_(log, reterr, rc, "cannot read the last hash record")
				  : err_set(reterr, -EBADMSG,
					    _("the log database is damaged: the "
					      "last hash record is of the wrong size"));
		memcpy(chunk, v.mv_data, TLOG_CHUNK_BYTES);
	}
	for (size_t i = 0; i < n; i++) {
		size_t index = (size_t)f->size;
		MDB_val k = { sizeof(index), &index };
		MDB_val v = { entries[i].iov_len, entries[i].iov_base };
		unsigned nadded;

		rc = mdb_put(txn, log->entries, &k, &v, MDB_APPEND);
		if (rc)
			return lmdb_fail_(log, reterr, rc, "cannot store an entry");
		r = vfy_leaf_hash(entries[i].iov_base, entries[i].iov_len, leaf);
		if (r < 0)
			return err_set(reterr, r, _("libcrypto failed to hash an entry"));
		r = merkle_frontier_append(f, leaf, added, &nadded);
		if (r < 0)
			return err_set(reterr, r, _("libcrypto failed to hash a node"));
		for (unsigned j = 0; j < nadded; j++) {
			memcpy(chunk + (stored % TLOG_CHUNK) * VFY_HASH_LEN, added[j],
			       VFY_HASH_LEN);
			stored++;
			if (stored % TLOG_CHUNK == 0) {
				r = chunk_put(log, txn, cur, chunk, !cur_exists, reterr);
				if (r < 0)
					return r;
				cur++;
				cur_exists = false;
				memset(chunk, 0, sizeof(chunk));
			}
		}
	}
	if (stored % TLOG_CHUNK != 0) {
		r = chunk_put(log, txn, cur, chunk, !cur_exists, reterr);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < nkeys; i++) {
		r = key_put(log, txn, &keys[i], first + keys[i].entry, reterr);
		if (r < 0)
			return r;
	}
	rc = txn_commit(TAKE_PTR(txn));
	if (rc)
		return lmdb_fail_(log, reterr, rc, "cannot commit the appended entries");
	return 0;
}

static int map_grow(struct tlog *log, struct err_detail *reterr)
{
	size_t want = log->mapsize * 2;
	int rc;

	if (want < log->mapsize)
		return err_set(reterr, -ENOSPC, _("the log's map cannot grow past %zu bytes"),
			       log->mapsize);
	pthread_rwlock_wrlock(&map_lock);
	rc = mdb_env_set_mapsize(log->env, want);
	pthread_rwlock_unlock(&map_lock);
	if (rc)
		return err_set(reterr, lmdb_error(rc),
			       _("cannot grow the log's map to %zu bytes: %s"), want,
			       mdb_strerror(rc));
	log->mapsize = want;
	return 0;
}

/* Run @fn (one write transaction) under the write mutex.  On MDB_MAP_FULL its txn is aborted,
 * so with no txn open the map may grow, and @fn runs again from the start: it must leave
 * nothing changed when it fails.  A full disk is also -ENOSPC but growing cannot cure it, so
 * it is returned. */
static int write_txn(struct tlog *log, int (*fn)(struct tlog *log, void *ctx, struct err_detail *),
		     void *ctx, struct err_detail *reterr)
{
	int r;

	pthread_mutex_lock(&log->write_mtx);
	for (;;) {
		log->map_full = false;
		r = fn(log, ctx, reterr);
		if (r >= 0 || !log->map_full)
			break;
		r = map_grow(log, reterr);
		if (r < 0)
			break;
	}
	pthread_mutex_unlock(&log->write_mtx);
	return r;
}

struct append_args {
	const struct iovec *entries;
	size_t n;
	const struct tlog_key *keys;
	size_t nkeys;
	uint64_t first;
};

/* One try: from the frontier the log has, which only a success moves on. */
static int append_try(struct tlog *log, void *ctx, struct err_detail *reterr)
{
	struct append_args *a = ctx;
	struct merkle_frontier f = log->frontier;
	int r;

	if (a->n == 0) {
		a->first = f.size;
		return 0;
	}
	r = append_txn(log, a->entries, a->n, a->keys, a->nkeys, &f, reterr);
	if (r == 0) {
		a->first = log->frontier.size;
		log->frontier = f;
	}
	return r;
}

int tlog_append(struct tlog *log, const struct iovec *entries, size_t n, uint64_t *ret_first,
		struct err_detail *reterr)
{
	return tlog_append_keyed(log, entries, n, NULL, 0, ret_first, reterr);
}

int tlog_append_keyed(struct tlog *log, const struct iovec *entries, size_t n,
		      const struct tlog_key *keys, size_t nkeys, uint64_t *ret_first,
		      struct err_detail *reterr)
{
	struct append_args a = { entries, n, keys, nkeys, 0 };
	int r;

	if (!(log->flags & TLOG_WRITE))
		return err_set(reterr, -EROFS, _("the log was opened read-only"));
	for (size_t i = 0; i < n; i++)
		if (entries[i].iov_len > VFY_ENTRY_MAX)
			return err_set(reterr, -E2BIG,
				       _("entry %zu of the batch is %zu bytes; the limit "
					 "is %d"),
				       i, entries[i].iov_len, VFY_ENTRY_MAX);
	for (size_t i = 0; i < nkeys; i++)
		if (keys[i].entry >= n)
			return err_set(reterr, -EINVAL,
				       _("lookup key %zu names entry %u of a batch of %zu"), i,
				       keys[i].entry, n);
	r = write_txn(log, append_try, &a, reterr);
	if (r == 0)
		*ret_first = a.first;
	return r;
}

/* ---- reading ---- */

int tlog_size(struct tlog *log, uint64_t *ret_size, struct err_detail *reterr)
{
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	int r = txn_begin(log, MDB_RDONLY, &txn, reterr);

	return r < 0 ? r : size_get(log, txn, ret_size, reterr);
}

int tlog_entry(struct tlog *log, uint64_t index, char **ret, size_t *ret_len,
	       struct err_detail *reterr)
{
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	size_t key = (size_t)index;
	MDB_val k = { sizeof(key), &key }, v;
	char *copy;
	int r, rc;

	r = txn_begin(log, MDB_RDONLY, &txn, reterr);
	if (r < 0)
		return r;
	rc = mdb_get(txn, log->entries, &k, &v);
	if (rc == MDB_NOTFOUND)
		return err_set(reterr, -ENOENT, _("there is no entry %llu in the log"),
			       (unsigned long long)index);
	if (rc)
		return lmdb_fail_(log, reterr, rc, "cannot read an entry");
	copy = malloc(v.mv_size + 1);
	if (!copy)
		return err_set(reterr, -ENOMEM, _("out of memory"));
	memcpy(copy, v.mv_data, v.mv_size);
	copy[v.mv_size] = '\0';
	*ret = copy;
	*ret_len = v.mv_size;
	return 0;
}

/* Open a read txn and check @need <= committed size; fills @hr for that size. */
static int read_begin(struct tlog *log, uint64_t need, MDB_txn **txn, struct hash_reader *hr,
		      uint64_t *ret_size, struct err_detail *reterr)
{
	uint64_t size;
	int r;

	r = txn_begin(log, MDB_RDONLY, txn, reterr);
	if (r < 0)
		return r;
	r = size_get(log, *txn, &size, reterr);
	if (r < 0)
		return r;
	if (need > size)
		return err_set(reterr, -ERANGE,
			       _("the log has %llu entries; size %llu is beyond it"),
			       (unsigned long long)size, (unsigned long long)need);
	hash_reader_init(hr, log, *txn, size);
	if (ret_size)
		*ret_size = size;
	return 0;
}

int tlog_leaf_hash(struct tlog *log, uint64_t index, uint8_t ret_hash[VFY_HASH_LEN],
		   struct err_detail *reterr)
{
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	struct hash_reader hr;
	uint64_t size;
	int r;

	r = read_begin(log, 0, &txn, &hr, &size, reterr);
	if (r < 0)
		return r;
	if (index >= size)
		return err_set(reterr, -ENOENT, _("there is no entry %llu in the log"),
			       (unsigned long long)index);
	return hash_get(&hr, 0, index, ret_hash, reterr);
}

int tlog_root(struct tlog *log, uint64_t size, uint8_t ret_root[VFY_HASH_LEN],
	      struct err_detail *reterr)
{
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	struct hash_reader hr;
	int r;

	r = read_begin(log, size, &txn, &hr, NULL, reterr);
	if (r < 0)
		return r;
	return merkle_root(size, hash_get, &hr, ret_root, reterr);
}

int tlog_inclusion(struct tlog *log, uint64_t index, uint64_t size,
		   uint8_t ret_proof[][VFY_HASH_LEN], size_t *ret_n, struct err_detail *reterr)
{
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	struct hash_reader hr;
	int r;

	if (index >= size)
		return err_set(reterr, -ERANGE, _("entry %llu is not in a tree of %llu entries"),
			       (unsigned long long)index, (unsigned long long)size);
	r = read_begin(log, size, &txn, &hr, NULL, reterr);
	if (r < 0)
		return r;
	return merkle_inclusion_proof(index, size, hash_get, &hr, ret_proof, ret_n, reterr);
}

int tlog_consistency(struct tlog *log, uint64_t old, uint64_t new,
		     uint8_t ret_proof[][VFY_HASH_LEN], size_t *ret_n, struct err_detail *reterr)
{
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	struct hash_reader hr;
	int r;

	if (old == 0 || old > new)
		return err_set(reterr, -ERANGE,
			       _("a consistency proof needs 0 < OLD <= NEW (got %llu "
				 "and %llu)"),
			       (unsigned long long)old, (unsigned long long)new);
	r = read_begin(log, new, &txn, &hr, NULL, reterr);
	if (r < 0)
		return r;
	return merkle_consistency_proof(old, new, hash_get, &hr, ret_proof, ret_n, reterr);
}

int tlog_lookup(struct tlog *log, uint8_t kind, const uint8_t hash[VFY_HASH_LEN],
		struct tlog_hit *ret_hits, size_t max, size_t *ret_n, struct err_detail *reterr)
{
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	uint8_t kbuf[1 + VFY_HASH_LEN];
	MDB_val k = { sizeof(kbuf), kbuf }, v;
	MDB_cursor *cur;
	size_t n = 0;
	int r, rc;

	kbuf[0] = kind;
	memcpy(kbuf + 1, hash, VFY_HASH_LEN);
	r = txn_begin(log, MDB_RDONLY, &txn, reterr);
	if (r < 0)
		return r;
	rc = mdb_cursor_open(txn, log->keys, &cur);
	if (rc)
		return lmdb_fail_(log, reterr, rc, "cannot open a cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0 && n < max;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
		const uint8_t *p = v.mv_data;

		ret_hits[n].index = 0;
		for (int i = 0; i < 8; i++)
			ret_hits[n].index = ret_hits[n].index << 8 | p[i];
		memcpy(ret_hits[n].extra, p + 8, TLOG_KEY_EXTRA);
		n++;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return lmdb_fail_(log, reterr, rc, "cannot read a lookup key");
	*ret_n = n;
	return 0;
}

/* ---- checkpoints ---- */

static int checkpoint_lookup(struct tlog *log, MDB_txn *txn, uint64_t size, char **ret_note,
			     size_t *ret_len, uint64_t *ret_size, struct err_detail *reterr)
{
	MDB_cursor *cur;
	size_t key = (size_t)size;
	MDB_val k = { sizeof(key), &key }, v;
	int rc;

	rc = mdb_cursor_open(txn, log->checkpoints, &cur);
	if (rc)
		return lmdb_fail_(log, reterr, rc, "cannot open a cursor");
	if (size == TLOG_NEWEST)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	else
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc == MDB_NOTFOUND) {
		char near[96] = "";

		if (size != TLOG_NEWEST) {
			MDB_val k2 = { sizeof(key), &key }, v2;
			unsigned long long below = 0, above = 0;
			bool has_below = false, has_above = false;

			if (!mdb_cursor_get(cur, &k2, &v2, MDB_SET_RANGE)) {
				above = key_value(&k2);
				has_above = true;
				if (!mdb_cursor_get(cur, &k2, &v2, MDB_PREV)) {
					below = key_value(&k2);
					has_below = true;
				}
			} else if (!mdb_cursor_get(cur, &k2, &v2, MDB_LAST)) {
				below = key_value(&k2);
				has_below = true;
			}
			if (has_below && has_above)
				snprintf(near, sizeof(near), _("; the nearest are %llu and %llu"),
					 below, above);
			else if (has_below || has_above)
				snprintf(near, sizeof(near), _("; the nearest is %llu"),
					 has_below ? below : above);
		}
		mdb_cursor_close(cur);
		if (size == TLOG_NEWEST)
			return err_set(reterr, -ENOENT,
				       _("no checkpoint has been signed yet "
					 "(custody-log checkpoint signs one)"));
		return err_set(reterr, -ENOENT, _("no checkpoint was signed at size %llu%s"),
			       (unsigned long long)size, near);
	}
	if (rc) {
		mdb_cursor_close(cur);
		return lmdb_fail_(log, reterr, rc, "cannot read a checkpoint");
	}
	if (ret_size)
		*ret_size = key_value(&k);
	if (ret_note) {
		*ret_note = strndup(v.mv_data, v.mv_size);
		if (!*ret_note) {
			mdb_cursor_close(cur);
			return err_set(reterr, -ENOMEM, _("out of memory"));
		}
		if (ret_len)
			*ret_len = v.mv_size;
	}
	mdb_cursor_close(cur);
	return 0;
}

int tlog_checkpoint_get(struct tlog *log, uint64_t size, char **ret_note, size_t *ret_len,
			uint64_t *ret_size, struct err_detail *reterr)
{
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	int r = txn_begin(log, MDB_RDONLY, &txn, reterr);

	return r < 0 ? r : checkpoint_lookup(log, txn, size, ret_note, ret_len, ret_size, reterr);
}

static int checkpoint_txn(struct tlog *log, struct vfy_signer *signer, int *ret_signed,
			  struct err_detail *reterr)
{
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	auto_free char *body = NULL;
	auto_free char *note = NULL;
	struct hash_reader hr;
	uint8_t root[VFY_HASH_LEN];
	uint64_t size, newest;
	size_t key;
	MDB_val k = { sizeof(key), &key }, v;
	int r, rc;

	r = txn_begin(log, 0, &txn, reterr);
	if (r < 0)
		return r;
	r = size_get(log, txn, &size, reterr);
	if (r < 0)
		return r;
	r = checkpoint_lookup(log, txn, TLOG_NEWEST, NULL, NULL, &newest, NULL);
	if (r == 0 && newest == size) {
		*ret_signed = 0;
		return 0;
	}
	hash_reader_init(&hr, log, txn, size);
	r = merkle_root(size, hash_get, &hr, root, reterr);
	if (r < 0)
		return r;
	r = vfy_checkpoint_format(log->origin, size, root, &body, reterr);
	if (r < 0)
		return r;
	r = vfy_note_sign(body, strlen(body), signer, &note, reterr);
	if (r < 0)
		return r;
	key = (size_t)size;
	v = (MDB_val){ strlen(note), note };
	rc = mdb_put(txn, log->checkpoints, &k, &v, MDB_APPEND);
	if (rc)
		return lmdb_fail_(log, reterr, rc, "cannot store the checkpoint");
	rc = txn_commit(TAKE_PTR(txn));
	if (rc)
		return lmdb_fail_(log, reterr, rc, "cannot commit the checkpoint");
	*ret_signed = 1;
	return 0;
}

struct sign_args {
	struct vfy_signer *signer;
	int *ret_signed;
};

static int sign_try(struct tlog *log, void *ctx, struct err_detail *reterr)
{
	struct sign_args *a = ctx;

	return checkpoint_txn(log, a->signer, a->ret_signed, reterr);
}

int tlog_checkpoint_sign(struct tlog *log, struct vfy_signer *signer, int *ret_signed,
			 struct err_detail *reterr)
{
	struct sign_args a = { signer, ret_signed };
	auto_free char *vkey = NULL;

	if (!(log->flags & TLOG_WRITE))
		return err_set(reterr, -EROFS, _("the log was opened read-only"));
	vkey = vfy_signer_vkey(signer);
	if (!vkey)
		return err_set(reterr, -ENOMEM, _("out of memory"));
	if (strcmp(vkey, log->vkey) != 0)
		return err_set(reterr, -EKEYREJECTED, _("this key (%s) is not the log's key (%s)"),
			       vkey, log->vkey);
	return write_txn(log, sign_try, &a, reterr);
}

static int cosign_txn(struct tlog *log, uint64_t size, const char *note, size_t len,
		      struct err_detail *reterr)
{
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	auto_free char *old = NULL;
	const char *sigs, *end;
	size_t old_len, key = (size_t)size;
	MDB_val k = { sizeof(key), &key }, v = { len, (void *)note };
	int r, rc;

	r = txn_begin(log, 0, &txn, reterr);
	if (r < 0)
		return r;
	r = checkpoint_lookup(log, txn, size, &old, &old_len, NULL, reterr);
	if (r < 0)
		return r;
	/* The text and the log's own signature line (the first, written by checkpoint_txn())
	 * stay as they were signed; only the lines after it may change. */
	sigs = vfy_note_sig_lines(old, old_len);
	end = sigs ? memchr(sigs, '\n', old_len - (size_t)(sigs - old)) : NULL;
	if (!end)
		return err_set(reterr, -EBADMSG,
			       _("the stored checkpoint of size %llu is malformed"),
			       (unsigned long long)size);
	if (len < (size_t)(end + 1 - old) || memcmp(note, old, (size_t)(end + 1 - old)) != 0)
		return err_set(reterr, -EINVAL,
			       _("the cosigned checkpoint of size %llu does not begin with the "
				 "checkpoint the log signed"),
			       (unsigned long long)size);
	if (len == old_len && memcmp(note, old, len) == 0)
		return 0;
	rc = mdb_put(txn, log->checkpoints, &k, &v, 0);
	if (rc)
		return lmdb_fail_(log, reterr, rc, "cannot store the cosigned checkpoint");
	rc = txn_commit(TAKE_PTR(txn));
	if (rc)
		return lmdb_fail_(log, reterr, rc, "cannot commit the cosigned checkpoint");
	return 0;
}

struct cosign_args {
	uint64_t size;
	const char *note;
	size_t len;
};

static int cosign_try(struct tlog *log, void *ctx, struct err_detail *reterr)
{
	struct cosign_args *a = ctx;

	return cosign_txn(log, a->size, a->note, a->len, reterr);
}

int tlog_checkpoint_cosign(struct tlog *log, uint64_t size, const char *note, size_t len,
			   struct err_detail *reterr)
{
	struct cosign_args a = { size, note, len };
	struct vfy_verifier key;
	int r;

	if (!(log->flags & TLOG_WRITE))
		return err_set(reterr, -EROFS, _("the log was opened read-only"));
	r = vfy_verifier_parse(log->vkey, strlen(log->vkey), &key, reterr);
	if (r < 0)
		return r;
	r = vfy_note_open(note, len, &key, 1, NULL, NULL, reterr);
	if (r < 0) {
		err_prefix(reterr, _("the cosigned checkpoint of size %llu"),
			   (unsigned long long)size);
		return r;
	}
	return write_txn(log, cosign_try, &a, reterr);
}

/* ---- proof files ---- */

static int checkpoint_root_check(const char *note, size_t len, uint64_t size,
				 const uint8_t root[VFY_HASH_LEN], struct err_detail *reterr)
{
	struct vfy_checkpoint cp;
	const char *sigs = vfy_note_sig_lines(note, len);
	int r;

	/* The stored note is ours; still, a proof against a checkpoint whose root is not the
	 * tree's would be useless to an auditor, so check before handing it out. */
	if (!sigs)
		return err_set(reterr, -EBADMSG,
			       _("the stored checkpoint of size %llu is malformed"),
			       (unsigned long long)size);
	r = vfy_checkpoint_parse(note, (size_t)(sigs - 1 - note), &cp, reterr);
	if (r < 0)
		return r;
	if (cp.size != size || memcmp(cp.root, root, VFY_HASH_LEN) != 0)
		return err_set(reterr, -EBADMSG,
			       _("the log database is inconsistent: the checkpoint "
				 "of size %llu does not match the stored tree"),
			       (unsigned long long)size);
	return 0;
}

int tlog_proof_file(struct tlog *log, uint64_t index, uint64_t size, char **ret, size_t *ret_len,
		    struct err_detail *reterr)
{
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	struct vfy_tlog_proof p = { .index = index };
	uint8_t proof[MERKLE_MAX_PROOF][VFY_HASH_LEN], root[VFY_HASH_LEN];
	struct hash_reader hr;
	uint64_t cp_size;
	size_t key = (size_t)index, n;
	MDB_val k = { sizeof(key), &key }, v;
	int r, rc;

	/* One read txn for the checkpoint, the entry and the path: they agree by construction. */
	r = read_begin(log, 0, &txn, &hr, NULL, reterr);
	if (r < 0)
		return r;
	r = checkpoint_lookup(log, txn, size, &p.checkpoint, &p.checkpoint_len, &cp_size, reterr);
	if (r < 0)
		goto out;
	if (index >= cp_size) {
		r = err_set(reterr, -ERANGE,
			    _("entry %llu is not covered by the signed checkpoint of "
			      "size %llu; sign a newer one (custody-log checkpoint)"),
			    (unsigned long long)index, (unsigned long long)cp_size);
		goto out;
	}
	hash_reader_init(&hr, log, txn, cp_size);
	r = merkle_root(cp_size, hash_get, &hr, root, reterr);
	if (r < 0)
		goto out;
	r = checkpoint_root_check(p.checkpoint, p.checkpoint_len, cp_size, root, reterr);
	if (r < 0)
		goto out;
	r = merkle_inclusion_proof(index, cp_size, hash_get, &hr, proof, &n, reterr);
	if (r < 0)
		goto out;
	rc = mdb_get(txn, log->entries, &k, &v);
	if (rc) {
		r = lmdb_fail_(log, reterr, rc, "cannot read the entry");
		goto out;
	}
	p.extra = v.mv_data; /* borrowed from the txn, which outlives the formatting */
	p.extra_len = v.mv_size;
	p.hashes = proof;
	p.nhashes = n;
	r = vfy_tlog_proof_format(&p, ret, ret_len);
	if (r < 0)
		err_set(reterr, r, _("out of memory"));
out:
	free(p.checkpoint);
	return r;
}

int tlog_consistency_file(struct tlog *log, uint64_t old, uint64_t new, char **ret, size_t *ret_len,
			  struct err_detail *reterr)
{
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	uint8_t proof[MERKLE_MAX_PROOF][VFY_HASH_LEN];
	struct vfy_consistency c = { .origin = log->origin };
	struct hash_reader hr;
	size_t n;
	int r;

	if (old == 0 || old > new)
		return err_set(reterr, -ERANGE,
			       _("a consistency proof needs 0 < OLD <= NEW (got %llu "
				 "and %llu)"),
			       (unsigned long long)old, (unsigned long long)new);
	r = read_begin(log, new, &txn, &hr, NULL, reterr);
	if (r < 0)
		return r;
	r = checkpoint_lookup(log, txn, old, &c.old_checkpoint, NULL, NULL, reterr);
	if (r < 0)
		goto out;
	r = checkpoint_lookup(log, txn, new, &c.checkpoint, NULL, NULL, reterr);
	if (r < 0)
		goto out;
	r = merkle_consistency_proof(old, new, hash_get, &hr, proof, &n, reterr);
	if (r < 0)
		goto out;
	c.hashes = proof;
	c.nhashes = n;
	r = vfy_consistency_format(&c, ret, ret_len);
	if (r < 0)
		err_set(reterr, r, _("out of memory"));
out:
	free(c.old_checkpoint);
	free(c.checkpoint);
	return r;
}

/* ---- bulk reads, for publishing tiles (docs/publication.md) ---- */

/* A cursor over the hash records that remembers the record it stands on: a run of lookups
 * that moves forward (a tile's leaves, a range of stored hashes) reads each record once, the
 * next one with MDB_NEXT instead of a descent from the root. */
struct chunk_cursor {
	struct tlog *log;
	MDB_cursor *cur;
	size_t chunk;
	const uint8_t *data; /* valid while the txn lives */
};

static int chunk_at(struct chunk_cursor *cc, size_t chunk, struct err_detail *reterr)
{
	MDB_val k = { sizeof(chunk), &chunk }, v;
	int rc;

	if (cc->data && cc->chunk == chunk)
		return 0;
	if (cc->data && cc->chunk + 1 == chunk)
		rc = mdb_cursor_get(cc->cur, &k, &v, MDB_NEXT);
	else
		rc = mdb_cursor_get(cc->cur, &k, &v, MDB_SET_KEY);
	if (rc == MDB_NOTFOUND || (!rc && (v.mv_size != TLOG_CHUNK_BYTES ||
					   k.mv_size != sizeof(chunk) || key_value(&k) != chunk)))
		return err_set(reterr, -EBADMSG,
			       _("the log database is damaged: hash record %zu is %s"), chunk,
			       rc ? _("missing") : _("of the wrong size or out of place"));
	if (rc)
		return lmdb_fail_(cc->log, reterr, rc, "cannot read a hash");
	cc->chunk = chunk;
	cc->data = v.mv_data;
	return 0;
}

/* A read-only txn does not free its cursors: each is closed before the txn ends (declared
 * after it, so that its cleanup runs first). */
static void mdb_cursor_closep(MDB_cursor **cur)
{
	if (*cur)
		mdb_cursor_close(*cur);
}

/* A read txn at the committed size, and a cursor on @dbi. */
static int bulk_begin(struct tlog *log, MDB_txn **txn, MDB_dbi dbi, MDB_cursor **cur,
		      uint64_t *ret_size, struct err_detail *reterr)
{
	int r, rc;

	r = txn_begin(log, MDB_RDONLY, txn, reterr);
	if (r < 0)
		return r;
	r = size_get(log, *txn, ret_size, reterr);
	if (r < 0)
		return r;
	rc = mdb_cursor_open(*txn, dbi, cur);
	return rc ? lmdb_fail_(log, reterr, rc, "cannot open a cursor") : 0;
}

int tlog_hashes(struct tlog *log, uint64_t first, size_t n, uint8_t ret[][VFY_HASH_LEN],
		struct err_detail *reterr)
{
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	_cleanup_(mdb_cursor_closep) MDB_cursor *cur = NULL;
	struct chunk_cursor cc = { .log = log };
	uint64_t size, limit;
	size_t i = 0;
	int r;

	r = bulk_begin(log, &txn, log->hashes, &cur, &size, reterr);
	if (r < 0)
		return r;
	cc.cur = cur;
	limit = merkle_stored_count(size);
	if (first > limit || n > limit - first)
		return err_set(
		    reterr, -ERANGE,
		    _("stored hashes %llu..%llu are beyond the %llu of a tree of %llu entries"),
		    (unsigned long long)first, (unsigned long long)(first + n),
		    (unsigned long long)limit, (unsigned long long)size);
	while (i < n) {
		uint64_t s = first + i;
		size_t off = (size_t)(s % TLOG_CHUNK), take = TLOG_CHUNK - off;

		r = chunk_at(&cc, (size_t)(s / TLOG_CHUNK), reterr);
		if (r < 0)
			return r;
		if (take > n - i)
			take = n - i;
		memcpy(ret[i], cc.data + off * VFY_HASH_LEN, take * VFY_HASH_LEN);
		i += take;
	}
	return 0;
}

int tlog_nodes(struct tlog *log, unsigned level, uint64_t first, size_t n,
	       uint8_t ret[][VFY_HASH_LEN], struct err_detail *reterr)
{
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	_cleanup_(mdb_cursor_closep) MDB_cursor *cur = NULL;
	struct chunk_cursor cc = { .log = log };
	uint64_t size, complete;
	int r;

	if (level >= 64)
		return err_set(reterr, -EINVAL, _("no tree has nodes at level %u"), level);
	r = bulk_begin(log, &txn, log->hashes, &cur, &size, reterr);
	if (r < 0)
		return r;
	cc.cur = cur;
	complete = size >> level;
	if (first > complete || n > complete - first)
		return err_set(reterr, -ERANGE,
			       _("nodes %llu..%llu of level %u are not complete in a tree of %llu "
				 "entries"),
			       (unsigned long long)first, (unsigned long long)(first + n), level,
			       (unsigned long long)size);
	for (size_t i = 0; i < n; i++) {
		uint64_t s = merkle_stored_index(level, first + i);

		r = chunk_at(&cc, (size_t)(s / TLOG_CHUNK), reterr);
		if (r < 0)
			return r;
		memcpy(ret[i], cc.data + (s % TLOG_CHUNK) * VFY_HASH_LEN, VFY_HASH_LEN);
	}
	return 0;
}

int tlog_entries_each(struct tlog *log, uint64_t first, size_t n, tlog_entry_fn fn, void *ctx,
		      struct err_detail *reterr)
{
	_cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
	_cleanup_(mdb_cursor_closep) MDB_cursor *cur = NULL;
	uint64_t size;
	size_t key = (size_t)first;
	MDB_val k = { sizeof(key), &key }, v;
	int r, rc;

	r = bulk_begin(log, &txn, log->entries, &cur, &size, reterr);
	if (r < 0)
		return r;
	if (first > size || n > size - first)
		return err_set(reterr, -ERANGE, _("entries %llu..%llu are beyond the log's %llu"),
			       (unsigned long long)first, (unsigned long long)(first + n),
			       (unsigned long long)size);
	for (size_t i = 0; i < n; i++) {
		rc = mdb_cursor_get(cur, &k, &v, i ? MDB_NEXT : MDB_SET_KEY);
		if (rc == MDB_NOTFOUND || (!rc && key_value(&k) != first + i))
			return err_set(reterr, -EBADMSG,
				       _("the log database is damaged: entry %llu is missing"),
				       (unsigned long long)(first + i));
		if (rc)
			return lmdb_fail_(log, reterr, rc, "cannot read an entry");
		r = fn(ctx, first + i, v.mv_data, v.mv_size, reterr);
		if (r < 0)
			return r;
	}
	return 0;
}
