/* watch.c: finding settled files in the drop zones.  Loop thread only.
 *
 * DESIGN
 *
 * What it owns.  One inotify descriptor (polled by a uv_poll_t), three timers (the periodic full
 * rescan, the settle tick, and the scan step that runs a rescan a slice at a time), one record
 * per folder below each zone (struct wdir) and one per file seen there (struct wfile), both in
 * hash tables keyed by absolute path.  Folders also form a tree (parent, subfolders, files), so
 * that a folder that is deleted or moved away is forgotten in time proportional to what it held.
 *
 * Finding files.  Every zone folder and every folder below it gets an inotify watch for
 * close-write, moved-to, create, delete, moved-from, and delete-self/move-self.  A folder that
 * appears is watched at once and then scanned, because a docking station copying a camera's tree
 * creates files in it before the watch exists.  inotify is blind on network mounts and loses
 * events when its queue overflows, so every `rescan_interval` (and on IN_Q_OVERFLOW) every zone
 * is walked again.  The walk is incremental: each step of the scan timer reads at most
 * WATCH_SCAN_BATCH directory entries and yields, so a zone with 100,000 files does not freeze the
 * loop.  When a folder's scan ends, the records it did not see (and no event touched meanwhile)
 * are checked once more and dropped if they are gone: that is how files lost by an overflow are
 * forgotten.  Watches are a per-user kernel resource (fs.inotify.max_user_watches): a folder that
 * gets ENOSPC is logged once and left to the rescans, which try to watch it again.
 *
 * Settling.  A regular file with an ordinary name enters its zone's settling list, which is in
 * due order (due = the time its current size and mtime were first seen + the zone's settle), so
 * the settle tick only looks at the heads.  At its due time the file is stat'ed again: if size,
 * mtime or inode changed it goes back to the tail; if not, the writer check below decides.  The
 * tick runs only while something is due, no more often than a quarter of the shortest settle,
 * and stats at most WATCH_SETTLE_BATCH files per run.  Files that wait for something else (a
 * writer to close, a retry delay, the /proc rate limit) sit in an unordered `later` list.
 *
 * "No process has it open for writing".  The daemon runs as user custody with
 * ProtectProc=invisible, so it cannot read other users' /proc.  Best effort, in this order:
 *  1. A read lease: fcntl(F_SETLEASE, F_RDLCK) on an O_RDONLY|O_NONBLOCK descriptor fails with
 *     EAGAIN if anyone has the file open for writing.  It needs the daemon to own the file or to
 *     hold CAP_LEASE.  The lease is released at once (F_UNLCK).  A writer opening the file inside
 *     that window would break the lease, which sends the holder SIGIO, whose default action kills
 *     the process: F_SETSIG makes it SIGURG instead, which is ignored by default, and nothing of
 *     custody uses it.
 *  2. If the lease is refused (EACCES/EPERM: not the owner; EINVAL: leases off or unsupported by
 *     the filesystem), /proc/PID/fd of every process we can see is searched for the file's
 *     device and inode, and /proc/PID/fdinfo tells whether that descriptor was opened O_WRONLY or
 *     O_RDWR.  This is the expensive one: it runs only for files that are otherwise ready, checks
 *     up to WATCH_PROC_BATCH files in one pass, at most once per WATCH_PROC_INTERVAL_MS, and stops
 *     after WATCH_PROC_MAX_FDS descriptors.  Under ProtectProc=invisible it only sees custody's
 *     own processes, so it mostly matters when the daemon runs without that protection.
 *  3. Otherwise (a partial /proc scan, a network filesystem) the settle time is the only guard,
 *     which is why it is configurable per zone.
 * A file found open for writing is checked again one settle later.
 *
 * Names and types.  A file whose name starts with '.', or that lies in a folder whose name does,
 * or whose name ends in .part, .tmp, ~, .crdownload or .partial waits (it counts as waiting) until
 * it is renamed.  FIFOs, devices, sockets and symlinks are refused: logged once per path and
 * never offered.  Symlinks are never followed: entries are stat'ed with AT_SYMLINK_NOFOLLOW
 * relative to their folder, and folders are opened from the zone folder with openat2()
 * RESOLVE_NO_SYMLINKS, so a folder swapped for a symlink after it was scanned is not entered
 * either (kernels without openat2() fall back to openat() with O_NOFOLLOW on the last component).
 * A zone folder that is itself a symlink in the config is followed: the operator chose it.
 *
 * Offering.  A settled file is offered once (the callback runs from the settle tick, never from
 * inside another watch_*() call) and then left alone until watch_retry(), until its size, mtime
 * or inode change, or until it is gone or forgotten; a file that later appears at the same path
 * is a new arrival.  watch_retry() also holds back a file that left the zone and was put back
 * just before (the pipeline's staging, on failure), and one that is settling again.  The callback
 * may call any watch_*() function, watch_close() included.
 *
 * Zones.  A zone folder that is missing at watch_new(), or when watch_reload() adds its zone, is
 * an error (a typo must not leave a docking station unwatched).  One that disappears later
 * (deleted, moved away, unmounted, or not there at a rescan) is logged once as an error, its
 * records are dropped, and each rescan tries it again; when it is back it is watched and scanned.
 * watch_reload() matches zones by folder, so the records of the zones that stay are kept; zones
 * whose folders nest or coincide are refused, since a file would then belong to two zones.
 *
 * Bounds.  At most WATCH_MAX_FILES file records and WATCH_MAX_DIRS folder records; past that,
 * new entries are not tracked (logged once) and are found by a later rescan once there is room.
 * Each inotify read callback handles at most WATCH_EVENT_READS buffers and yields.
 *
 * One file because the scan, the inotify events, the settle tick and the zone reload all change
 * the same private records (struct watch, wzone, wdir, wfile, in the hash tables and lists
 * above, which serve only them), and the order of those changes is what this comment describes;
 * splitting would export them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <uv.h>

#include "base/cleanup.h"
#include "conf/conf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/macro.h"
#include "daemon/watch.h"

#define WATCH_MAX_FILES 1000000	 /* file records: settling, waiting, offered, refused */
#define WATCH_MAX_DIRS 100000	 /* folder records below all zones */
#define WATCH_SCAN_BATCH 1024	 /* directory entries read per scan step */
#define WATCH_SETTLE_BATCH 256	 /* files stat'ed per settle tick */
#define WATCH_PROC_BATCH 64	 /* files looked for in one /proc scan */
#define WATCH_PROC_MAX_FDS 65536 /* descriptors looked at in one /proc scan */
#define WATCH_PROC_INTERVAL_MS 1000
#define WATCH_EVENT_READS 4 /* inotify buffers read per poll callback */
#define WATCH_EVENT_BUF 65536
/* Where a timer callback stops at its budget, it re-arms itself this far ahead.  Not 0: libuv
 * 1.44's uv__run_timers() runs a timer re-armed with 0 again in the same pass (the loop time is
 * not updated in between), so the "slice" would never yield to I/O. */
#define WATCH_AGAIN_MS 1
#define WATCH_TICK_MIN_MS 10  /* settle tick spacing: a quarter of the shortest settle, */
#define WATCH_TICK_MAX_MS 500 /* within these bounds */

#define WATCH_MASK                                                                                 \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF |   \
	 IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)

/* Intrusive doubly linked list; an unlinked node points to itself, so unlinking is idempotent. */
struct wlist {
	struct wlist *prev, *next;
};

static void wl_init(struct wlist *l)
{
	l->prev = l->next = l;
}

static bool wl_empty(const struct wlist *l)
{
	return l->next == l;
}

static void wl_del(struct wlist *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	wl_init(n);
}

static void wl_add_tail(struct wlist *head, struct wlist *n)
{
	wl_del(n);
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static void wl_add_head(struct wlist *head, struct wlist *n)
{
	wl_del(n);
	n->next = head->next;
	n->prev = head;
	head->next->prev = n;
	head->next = n;
}

/* Chained hash table of intrusive nodes; the caller compares keys. */
struct hnode {
	struct hnode *next;
	uint64_t hash;
};

struct htab {
	struct hnode **b;
	size_t nb; /* a power of two */
	size_t n;
};

static int ht_init(struct htab *t)
{
	t->nb = 64;
	t->n = 0;
	t->b = calloc(t->nb, sizeof(*t->b));
	return t->b ? 0 : -ENOMEM;
}

static void ht_grow(struct htab *t)
{
	size_t nb = t->nb * 2, i;
	struct hnode **b = calloc(nb, sizeof(*b));

	if (!b)
		return; /* longer chains, still correct */
	for (i = 0; i < t->nb; i++) {
		struct hnode *n = t->b[i], *next;

		for (; n; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	free(t->b);
	t->b = b;
	t->nb = nb;
}

static void ht_insert(struct htab *t, struct hnode *n)
{
	struct hnode **slot;

	if (t->n >= t->nb)
		ht_grow(t);
	slot = &t->b[n->hash & (t->nb - 1)];
	n->next = *slot;
	*slot = n;
	t->n++;
}

static void ht_remove(struct htab *t, struct hnode *n)
{
	struct hnode **p = &t->b[n->hash & (t->nb - 1)];

	while (*p && *p != n)
		p = &(*p)->next;
	if (*p) {
		*p = n->next;
		t->n--;
	}
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

enum wstate {
	WS_NONE,     /* just made, or being dropped */
	WS_SETTLING, /* in zone->settling, in due order */
	WS_LATER,    /* in w->later: checked again at not_before (writer, retry, /proc limit) */
	WS_READY,    /* in w->ready: offered before this settle tick ends */
	WS_TEMP,     /* hidden or temporary name: waits for a rename */
	WS_OFFERED,  /* handed to the callback: left alone until it changes or is retried */
	WS_REFUSED,  /* not a regular file: logged once, never offered */
};

struct wzone;
struct wdir;

struct wfile {
	struct hnode hpath; /* in w->files */
	struct wlist dnode; /* in dir->files */
	struct wlist lnode; /* in zone->settling, w->later or w->ready, by state */
	struct wdir *dir;
	enum wstate state;
	mode_t type; /* S_IFMT bits of the last stat */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uint64_t since;	     /* loop ms when this size, mtime and inode were first seen */
	uint64_t not_before; /* loop ms, in WS_LATER */
	uint32_t mark;	     /* the folder scan that saw it last (see scan_finish()) */
	const char *name;    /* in path: the last component */
	const char *rel;     /* in path: below the zone folder */
	char path[];	     /* absolute */
};

struct wdir {
	struct hnode hpath; /* in w->dirs */
	struct hnode hwd;   /* in w->wds while wd >= 0 */
	struct wlist snode; /* in parent->subdirs */
	struct wlist qnode; /* in w->scanq */
	struct wlist files;
	struct wlist subdirs;
	struct wzone *zone;
	struct wdir *parent; /* NULL for the zone folder */
	int wd;		     /* -1: no inotify watch (none left, or lost): rescans only */
	bool hidden;	     /* this folder or one above it (below the zone) starts with '.' */
	bool warned;	     /* a failure to watch or read it was logged */
	dev_t dev;
	ino_t ino;
	uint32_t mark;	 /* the scan that last started on this folder */
	uint32_t seen;	 /* the parent's mark when the parent last saw it */
	const char *rel; /* "" for the zone folder */
	char path[];
};

struct wzone {
	size_t index; /* in the cfg given to watch_new()/watch_reload() */
	char *name;
	char *path;    /* without trailing '/' (except "/") */
	size_t relofs; /* where a relname starts in the path of something below */
	uint64_t settle_ms;
	struct wdir *root; /* NULL while lost */
	struct wlist settling;
	size_t waiting;
	bool lost; /* lost and logged: log again only after it was back */
};

struct wcand {
	struct wfile *f;
	dev_t dev;
	ino_t ino;
	bool busy;
};

struct watch {
	uv_loop_t *loop;
	watch_ready_cb cb;
	void *opaque;
	int ifd;
	uv_poll_t poll;
	uv_timer_t rescan_timer;
	uv_timer_t settle_timer;
	uv_timer_t step_timer;
	struct wzone **zones;
	size_t nzones;
	uint64_t rescan_ms;
	uint64_t tick_ms;
	struct htab files, dirs, wds;
	struct wlist later, ready, scanq;
	struct wdir *scan_dir; /* the folder whose stream is open */
	DIR *scan_stream;
	uint32_t mark_seq;
	uint64_t settle_at;   /* when settle_timer fires; UINT64_MAX when it does not */
	uint64_t settle_last; /* when it last ran */
	uint64_t proc_last;   /* when /proc was last searched; 0: never */
	struct wdir *cache_d; /* one open folder, for a batch of events or checks on it */
	int cache_fd;
	bool files_full, dirs_full, watches_full, proc_partial_logged;
	bool closing;
	unsigned closes;
	void (*done)(void *opaque);
	void *done_opaque;
};

static void dir_remove(struct watch *w, struct wdir *d);
static void settle_schedule(struct watch *w, uint64_t at);
static void step_start(struct watch *w);

/* ---- paths and opening ---- */

/* "@dir/@name" into @buf (PATH_MAX); false when it does not fit. */
static bool path_join(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name);

	return n > 0 && n < PATH_MAX;
}

static bool is_dot(const char *name)
{
	return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

/* Hidden and temporary names wait for a rename: '.*', '*.part', '*.tmp', '*~', '*.crdownload',
 * '*.partial' (the usual names of copies and downloads in progress). */
static bool name_waits(const char *name)
{
	static const char *const suffixes[] = { ".part", ".tmp", "~", ".crdownload", ".partial" };
	size_t i;

	if (name[0] == '.')
		return true;
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (has_suffix(name, suffixes[i]))
			return true;
	return false;
}

/* Open the zone folder, O_RDONLY|O_DIRECTORY, checking that it is still the one we watch.  No
 * descriptor of it is kept between callbacks: while one is open, deleting the folder sends no
 * IN_DELETE_SELF (the kernel sends it when the last reference to the dentry goes). */
static int zone_root_open(const struct wzone *z)
{
	struct stat st;
	int fd = open(z->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (z->root &&
	    (fstat(fd, &st) < 0 || st.st_dev != z->root->dev || st.st_ino != z->root->ino)) {
		close(fd);
		errno = ESTALE; /* replaced: the next rescan starts over on the new one */
		return -1;
	}
	return fd;
}

/* Open @rel below the zone folder ("" is the folder itself, then always O_RDONLY) without
 * following any symlink on the way. */
static int zone_openat(const struct wzone *z, const char *rel, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH,
	};
	int rfd, err;
	long fd;

	rfd = zone_root_open(z);
	if (rfd < 0 || !*rel)
		return rfd;
	fd = syscall(SYS_openat2, rfd, rel, &how, sizeof(how));
	/* Kernels before 5.6 have no openat2(); a seccomp filter may refuse it with EPERM. */
	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		fd = openat(rfd, rel, flags | O_CLOEXEC | O_NOFOLLOW);
	err = errno;
	close(rfd);
	errno = err;
	return (int)fd;
}

static void dir_cache_drop(struct watch *w)
{
	if (w->cache_d) {
		close(w->cache_fd);
		w->cache_d = NULL;
		w->cache_fd = -1;
	}
}

/* A descriptor of folder @d to use as dirfd (not to be closed by the caller), or -errno. */
static int dir_fd(struct watch *w, struct wdir *d)
{
	int fd;

	if (w->cache_d == d)
		return w->cache_fd;
	dir_cache_drop(w);
	fd = zone_openat(d->zone, d->rel, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return -errno;
	w->cache_d = d;
	w->cache_fd = fd;
	return fd;
}

static const char *type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO:
		return "a FIFO";
	case S_IFLNK:
		return "a symlink";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	default:
		return "not a regular file";
	}
}

/* ---- files ---- */

static bool state_waits(enum wstate s)
{
	return s == WS_SETTLING || s == WS_LATER || s == WS_READY || s == WS_TEMP;
}

static uint64_t file_due(const struct wfile *f)
{
	if (f->state == WS_LATER)
		return f->not_before;
	return f->since + f->dir->zone->settle_ms;
}

/* Every state change goes through here: it keeps the zone's waiting count and the lists right. */
static void file_set_state(struct watch *w, struct wfile *f, enum wstate s)
{
	struct wzone *z = f->dir->zone;

	if (state_waits(f->state))
		z->waiting--;
	if (state_waits(s))
		z->waiting++;
	f->state = s;
	wl_del(&f->lnode);
	switch (s) {
	case WS_SETTLING:
		wl_add_tail(&z->settling, &f->lnode);
		settle_schedule(w, file_due(f));
		break;
	case WS_LATER:
		wl_add_tail(&w->later, &f->lnode);
		settle_schedule(w, f->not_before);
		break;
	case WS_READY:
		wl_add_tail(&w->ready, &f->lnode);
		break;
	default:
		break;
	}
}

static void file_later(struct watch *w, struct wfile *f, uint64_t at)
{
	f->not_before = at;
	file_set_state(w, f, WS_LATER);
}

static struct wfile *file_find(const struct watch *w, const char *path)
{
	uint64_t h = hash_str(path);
	struct hnode *n;

	for (n = w->files.b[h & (w->files.nb - 1)]; n; n = n->next) {
		struct wfile *f = container_of(n, struct wfile, hpath);

		if (n->hash == h && !strcmp(f->path, path))
			return f;
	}
	return NULL;
}

static struct wfile *file_new(struct watch *w, struct wdir *d, const char *path)
{
	size_t len = strlen(path);
	struct wfile *f;

	if (w->files.n >= WATCH_MAX_FILES) {
		if (!w->files_full)
			log_warning(
			    "watch",
			    "tracking %d files, the most it keeps: '%s' and others wait for a "
			    "later rescan, ignoring",
			    WATCH_MAX_FILES, path);
		w->files_full = true;
		return NULL;
	}
	f = calloc(1, sizeof(*f) + len + 1);
	if (!f) {
		log_warning("watch", "out of memory tracking '%s', ignoring", path);
		return NULL;
	}
	memcpy(f->path, path, len + 1);
	f->name = strrchr(f->path, '/') + 1;
	f->rel = f->path + d->zone->relofs;
	f->dir = d;
	f->state = WS_NONE;
	wl_init(&f->lnode);
	wl_init(&f->dnode);
	wl_add_tail(&d->files, &f->dnode);
	f->hpath.hash = hash_str(f->path);
	ht_insert(&w->files, &f->hpath);
	return f;
}

static void file_drop(struct watch *w, struct wfile *f)
{
	file_set_state(w, f, WS_NONE);
	wl_del(&f->dnode);
	ht_remove(&w->files, &f->hpath);
	free(f);
	if (w->files.n < WATCH_MAX_FILES * 9 / 10)
		w->files_full = false;
}

static bool file_changed(const struct wfile *f, const struct stat *st)
{
	return f->dev != st->st_dev || f->ino != st->st_ino || f->size != st->st_size ||
	       f->mtime.tv_sec != st->st_mtim.tv_sec || f->mtime.tv_nsec != st->st_mtim.tv_nsec ||
	       f->type != (st->st_mode & S_IFMT);
}

static void file_update(struct wfile *f, const struct stat *st)
{
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->size = st->st_size;
	f->mtime = st->st_mtim;
	f->type = st->st_mode & S_IFMT;
}

static void file_refuse(struct watch *w, struct wfile *f, const struct stat *st)
{
	if (f->state != WS_REFUSED || f->type != (st->st_mode & S_IFMT))
		log_warning("watch", "zone '%s': '%s' is %s, refusing it", f->dir->zone->name,
			    f->path, type_name(st->st_mode));
	file_update(f, st);
	file_set_state(w, f, WS_REFUSED);
}

/* A regular file (or something in its place) seen at @f by an event, a scan or a check. */
static void file_seen(struct watch *w, struct wfile *f, const struct stat *st)
{
	if (!S_ISREG(st->st_mode)) {
		file_refuse(w, f, st);
		return;
	}
	if (f->state != WS_NONE && f->state != WS_REFUSED && !file_changed(f, st))
		return; /* settling on, waiting on, or offered and unchanged */
	file_update(f, st);
	f->since = uv_now(w->loop);
	file_set_state(w, f, f->dir->hidden || name_waits(f->name) ? WS_TEMP : WS_SETTLING);
}

/* ---- folders ---- */

static struct wdir *dir_find(const struct watch *w, const char *path)
{
	uint64_t h = hash_str(path);
	struct hnode *n;

	for (n = w->dirs.b[h & (w->dirs.nb - 1)]; n; n = n->next) {
		struct wdir *d = container_of(n, struct wdir, hpath);

		if (n->hash == h && !strcmp(d->path, path))
			return d;
	}
	return NULL;
}

static struct wdir *wd_find(const struct watch *w, int wd)
{
	struct hnode *n;

	for (n = w->wds.b[(uint64_t)wd & (w->wds.nb - 1)]; n; n = n->next) {
		struct wdir *d = container_of(n, struct wdir, hwd);

		if (d->wd == wd)
			return d;
	}
	return NULL;
}

/* A folder record for @path below @parent (NULL: the zone folder itself). */
static struct wdir *dir_new(struct watch *w, struct wzone *z, struct wdir *parent, const char *path,
			    const struct stat *st)
{
	size_t len = strlen(path);
	struct wdir *d;

	if (w->dirs.n >= WATCH_MAX_DIRS) {
		if (!w->dirs_full)
			log_warning("watch",
				    "zone '%s': tracking %d folders, the most it keeps: '%s' and "
				    "others are not watched, ignoring",
				    z->name, WATCH_MAX_DIRS, path);
		w->dirs_full = true;
		return NULL;
	}
	d = calloc(1, sizeof(*d) + len + 1);
	if (!d) {
		log_warning("watch", "zone '%s': out of memory tracking '%s', ignoring", z->name,
			    path);
		return NULL;
	}
	memcpy(d->path, path, len + 1);
	d->rel = parent ? d->path + z->relofs : d->path + len;
	d->zone = z;
	d->parent = parent;
	d->wd = -1;
	d->dev = st->st_dev;
	d->ino = st->st_ino;
	wl_init(&d->files);
	wl_init(&d->subdirs);
	wl_init(&d->qnode);
	wl_init(&d->snode);
	if (parent) {
		wl_add_tail(&parent->subdirs, &d->snode);
		d->hidden = parent->hidden || strrchr(d->path, '/')[1] == '.';
		d->seen = parent->mark;
	}
	d->hpath.hash = hash_str(d->path);
	ht_insert(&w->dirs, &d->hpath);
	return d;
}

static void dir_unwatch(struct watch *w, struct wdir *d)
{
	if (d->wd < 0)
		return;
	/* After delete-self the kernel has removed the watch already: EINVAL, which is fine. */
	if (!w->closing)
		(void)inotify_rm_watch(w->ifd, d->wd);
	ht_remove(&w->wds, &d->hwd);
	d->wd = -1;
}

/* Watch folder @d, open as @fd.  Failure leaves it to the rescans. */
static void dir_watch(struct watch *w, struct wdir *d, int fd)
{
	char proc[64];
	struct wdir *other;
	int wd;

	/* Through /proc/self/fd the watch lands on the very folder we opened safely, not on
	 * whatever the path names by now. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	wd = inotify_add_watch(w->ifd, proc, WATCH_MASK);
	if (wd < 0 && errno == ENOENT && access("/proc/self/fd", F_OK) < 0)
		wd = inotify_add_watch(w->ifd, d->path, WATCH_MASK | IN_DONT_FOLLOW);
	if (wd < 0) {
		if (errno == ENOSPC) {
			if (!w->watches_full)
				log_warning(
				    "watch",
				    "zone '%s': no inotify watch left for '%s' (raise "
				    "fs.inotify.max_user_watches), relying on rescans for it",
				    d->zone->name, d->path);
			w->watches_full = true;
		} else if (!d->warned) {
			log_warning("watch", "zone '%s': cannot watch '%s': %s, relying on rescans",
				    d->zone->name, d->path, strerror(errno));
			d->warned = true;
		}
		return;
	}
	w->watches_full = false;
	other = wd_find(w, wd);
	if (other == d)
		return;
	if (other) {
		/* The same folder reached by two paths (a bind mount): the first keeps it. */
		log_debug("watch", "'%s' is '%s' again, left to rescans", d->path, other->path);
		return;
	}
	d->wd = wd;
	d->hwd.hash = (uint64_t)wd;
	ht_insert(&w->wds, &d->hwd);
}

static void dir_enqueue(struct watch *w, struct wdir *d, bool urgent)
{
	if (w->scan_dir == d && !urgent)
		return; /* being read now */
	if (urgent)
		wl_add_head(&w->scanq, &d->qnode);
	else if (wl_empty(&d->qnode))
		wl_add_tail(&w->scanq, &d->qnode);
	step_start(w);
}

/* Forget @d and everything below it. */
static void dir_remove(struct watch *w, struct wdir *d)
{
	while (!wl_empty(&d->subdirs))
		dir_remove(w, container_of(d->subdirs.next, struct wdir, snode));
	while (!wl_empty(&d->files))
		file_drop(w, container_of(d->files.next, struct wfile, dnode));
	dir_unwatch(w, d);
	wl_del(&d->qnode);
	if (w->scan_dir == d) {
		closedir(w->scan_stream);
		w->scan_stream = NULL;
		w->scan_dir = NULL;
	}
	if (w->cache_d == d)
		dir_cache_drop(w);
	wl_del(&d->snode);
	ht_remove(&w->dirs, &d->hpath);
	if (d->zone->root == d)
		d->zone->root = NULL;
	free(d);
	if (w->dirs.n < WATCH_MAX_DIRS * 9 / 10)
		w->dirs_full = false;
}

/* A folder @name seen in @parent (open as @pfd): track, watch and scan it.  @urgent: it came
 * from an event, so files may be landing in it right now. */
static void subdir_seen(struct watch *w, struct wdir *parent, int pfd, const char *name,
			const char *path, const struct stat *st, bool urgent)
{
	struct wdir *c = dir_find(w, path);
	int fd;

	if (c && (c->dev != st->st_dev || c->ino != st->st_ino)) {
		dir_remove(w, c); /* replaced by another folder */
		c = NULL;
	}
	if (!c) {
		c = dir_new(w, parent->zone, parent, path, st);
		if (!c)
			return;
		urgent = true;
	}
	c->seen = parent->mark;
	if (c->wd < 0) {
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			dir_watch(w, c, fd);
			close(fd);
		}
	}
	dir_enqueue(w, c, urgent);
}

/* Whatever is at @name in folder @d (open as @dfd), as fstatat() found it. */
static void entry_seen(struct watch *w, struct wdir *d, int dfd, const char *name,
		       const struct stat *st, bool urgent)
{
	char path[PATH_MAX];
	struct wfile *f;
	struct wdir *c;

	if (!path_join(path, d->path, name)) {
		if (!d->warned)
			log_warning("watch", "zone '%s': a name in '%s' is too long, ignoring",
				    d->zone->name, d->path);
		d->warned = true;
		return;
	}
	f = file_find(w, path);
	if (S_ISDIR(st->st_mode)) {
		if (f)
			file_drop(w, f);
		subdir_seen(w, d, dfd, name, path, st, urgent);
		return;
	}
	c = dir_find(w, path);
	if (c)
		dir_remove(w, c);
	if (!f) {
		f = file_new(w, d, path);
		if (!f)
			return;
	}
	f->mark = d->mark;
	file_seen(w, f, st);
}

/* ---- zones ---- */

static void zone_detach(struct watch *w, struct wzone *z)
{
	if (z->root)
		dir_remove(w, z->root);
}

/* The zone folder is gone or unreadable: log once, forget it, retry at each rescan. */
static void zone_lost(struct watch *w, struct wzone *z, const char *why)
{
	if (!z->lost)
		log_error(
		    "watch",
		    "zone '%s': folder '%s' %s; files dropped there are not taken until it is "
		    "back (checked at each rescan)",
		    z->name, z->path, why);
	z->lost = true;
	zone_detach(w, z);
}

/* Start on the zone folder open as @fd (closed here). */
static void zone_attach(struct watch *w, struct wzone *z, int fd, const struct stat *st)
{
	z->root = dir_new(w, z, NULL, z->path, st);
	if (z->root) {
		dir_watch(w, z->root, fd);
		dir_enqueue(w, z->root, false);
	}
	close(fd);
}

static int zone_open(const char *path, struct stat *ret_st)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, ret_st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* At each rescan: is the zone folder still the one we watch?  Bring back a lost one. */
static void zone_check(struct watch *w, struct wzone *z)
{
	struct stat st;
	int fd = zone_open(z->path, &st);

	if (fd < 0) {
		char why[128];

		if (fd == -ENOENT)
			snprintf(why, sizeof(why), "does not exist");
		else if (fd == -ENOTDIR)
			snprintf(why, sizeof(why), "is not a folder");
		else
			snprintf(why, sizeof(why), "cannot be opened (%s)", strerror(-fd));
		zone_lost(w, z, why);
		return;
	}
	if (z->root && z->root->dev == st.st_dev && z->root->ino == st.st_ino) {
		close(fd);
		dir_enqueue(w, z->root, false);
		return;
	}
	if (z->root)
		log_warning("watch", "zone '%s': folder '%s' was replaced, watching the new one",
			    z->name, z->path);
	else if (z->lost)
		log_info("watch", "zone '%s': folder '%s' is back, watching it again", z->name,
			 z->path);
	z->lost = false;
	zone_detach(w, z);
	zone_attach(w, z, fd, &st);
}

static struct wzone *zone_free(struct watch *w, struct wzone *z)
{
	if (!z)
		return NULL;
	zone_detach(w, z);
	free(z->name);
	free(z->path);
	free(z);
	return NULL;
}

/* A zone for @cz, not attached yet. */
static int zone_alloc(const struct cfg_zone *cz, size_t index, struct wzone **ret,
		      struct err_detail *reterr)
{
	const char *name = cz->name ? cz->name : "?";
	struct wzone *z;
	size_t len;

	if (!cz->path || cz->path[0] != '/')
		return err_set(reterr, -EINVAL, "zone '%s': folder '%s' is not an absolute path",
			       name, cz->path ? cz->path : "");
	z = calloc(1, sizeof(*z));
	if (!z)
		return err_set(reterr, -ENOMEM, "zone '%s': out of memory", name);
	z->name = strdup(name);
	z->path = strdup(cz->path);
	if (!z->name || !z->path) {
		zone_free(NULL, z);
		return err_set(reterr, -ENOMEM, "zone '%s': out of memory", name);
	}
	len = strlen(z->path);
	while (len > 1 && z->path[len - 1] == '/')
		z->path[--len] = '\0';
	z->relofs = len == 1 ? 1 : len + 1;
	z->index = index;
	z->settle_ms = cz->settle_ms;
	wl_init(&z->settling);
	*ret = z;
	return 0;
}

static int zone_open_error(const struct wzone *z, int r, struct err_detail *reterr)
{
	if (r == -ENOENT)
		return err_set(reterr, r, "zone '%s': folder '%s' does not exist", z->name,
			       z->path);
	if (r == -ENOTDIR)
		return err_set(reterr, r, "zone '%s': '%s' is not a folder", z->name, z->path);
	return err_set(reterr, r, "zone '%s': cannot open folder '%s': %s", z->name, z->path,
		       strerror(-r));
}

static bool path_inside(const char *outer, const char *inner)
{
	size_t lo = strlen(outer);

	if (!strcmp(outer, "/"))
		return true;
	return !strncmp(outer, inner, lo) && inner[lo] == '/';
}

/* What watch_new() and watch_reload() build before they change anything. */
struct zprep {
	struct wzone *z; /* fresh */
	int fd;		 /* its folder, or -1 when a kept zone's folder is missing now */
	struct stat st;
	long reuse; /* index of the old zone with the same folder, or -1 */
};

static struct zprep *zprep_free(struct zprep *p, size_t n)
{
	size_t i;

	for (i = 0; p && i < n; i++) {
		if (p[i].fd >= 0)
			close(p[i].fd);
		zone_free(NULL, p[i].z);
	}
	free(p);
	return NULL;
}

/* Two zones must not share or nest folders: a file would belong to both. */
static int zones_check(const struct zprep *p, size_t n, struct err_detail *reterr)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			const struct wzone *a = p[i].z, *b = p[j].z;

			if (i == j)
				continue;
			if (j > i &&
			    (!strcmp(a->path, b->path) ||
			     (p[i].fd >= 0 && p[j].fd >= 0 && p[i].st.st_dev == p[j].st.st_dev &&
			      p[i].st.st_ino == p[j].st.st_ino)))
				return err_set(reterr, -EINVAL,
					       "zones '%s' and '%s' share folder '%s'", a->name,
					       b->name, b->path);
			if (path_inside(a->path, b->path))
				return err_set(reterr, -EINVAL,
					       "zone '%s': folder '%s' is inside zone '%s' ('%s')",
					       b->name, b->path, a->name, a->path);
		}
	return 0;
}

/* Check and open the zones of @cfg, matching them by folder with @old (which is not changed).
 * A folder that is missing is an error, except for a zone kept from @old: it is lost and
 * logged already, and must not block the reload of the others. */
static int zones_prepare(const struct cfg *cfg, struct wzone *const *old, size_t nold,
			 struct zprep **ret, struct err_detail *reterr)
{
	size_t n = cfg->nzones, i, j;
	struct zprep *p = calloc(n ? n : 1, sizeof(*p));
	int r;

	if (!p)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		p[i].fd = -1;
		p[i].reuse = -1;
	}
	for (i = 0; i < n; i++) {
		r = zone_alloc(&cfg->zones[i], i, &p[i].z, reterr);
		if (r < 0)
			goto fail;
		for (j = 0; j < nold; j++)
			if (old[j] && !strcmp(old[j]->path, p[i].z->path))
				p[i].reuse = (long)j;
		r = zone_open(p[i].z->path, &p[i].st);
		if (r < 0 && p[i].reuse >= 0)
			continue;
		if (r < 0) {
			zone_open_error(p[i].z, r, reterr);
			goto fail;
		}
		p[i].fd = r;
	}
	r = zones_check(p, n, reterr);
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;

fail:
	zprep_free(p, n);
	return r;
}

static void tick_compute(struct watch *w)
{
	uint64_t min = UINT64_MAX;
	size_t i;

	for (i = 0; i < w->nzones; i++)
		if (w->zones[i]->settle_ms < min)
			min = w->zones[i]->settle_ms;
	min = min == UINT64_MAX ? WATCH_TICK_MAX_MS : min / 4;
	if (min < WATCH_TICK_MIN_MS)
		min = WATCH_TICK_MIN_MS;
	if (min > WATCH_TICK_MAX_MS)
		min = WATCH_TICK_MAX_MS;
	w->tick_ms = min;
}

/* ---- the writer check ---- */

/* 1: someone has the file behind @fd open for writing, 0: nobody, -errno: the lease cannot tell. */
static int writer_lease(int fd)
{
	int r;

	/* A writer opening the file while we hold the lease breaks it, and the kernel signals the
	 * holder: SIGIO by default, which would kill the daemon.  SIGURG is ignored by default. */
	if (fcntl(fd, F_SETSIG, SIGURG) < 0)
		return -errno;
	if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
		(void)fcntl(fd, F_SETLEASE, F_UNLCK);
		return 0;
	}
	r = errno;
	return r == EAGAIN ? 1 : -r;
}

static bool fd_writable(const char *pid, const char *fd)
{
	char path[2 * NAME_MAX + 32], buf[512], *s;
	unsigned long flags;
	ssize_t n;
	int ifd;

	snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", pid, fd);
	ifd = open(path, O_RDONLY | O_CLOEXEC);
	if (ifd < 0)
		return false;
	n = read(ifd, buf, sizeof(buf) - 1);
	close(ifd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	s = strstr(buf, "flags:");
	if (!s)
		return false;
	flags = strtoul(s + strlen("flags:"), NULL, 8);
	return (flags & O_ACCMODE) != O_RDONLY;
}

/* Search the descriptors of every process we can see for the files of @c, marking those open
 * for writing as busy.  @return 0, -E2BIG when it stopped at WATCH_PROC_MAX_FDS (the rest is
 * unknown), or -errno when /proc cannot be read. */
static int proc_scan(struct wcand *c, size_t n)
{
	struct dirent *pe, *fe;
	size_t fds = 0, i;
	DIR *proc;
	int r = 0;

	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while (!r && (pe = readdir(proc))) {
		char path[NAME_MAX + 16];
		DIR *fdd;

		if (pe->d_name[0] < '1' || pe->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", pe->d_name);
		fdd = opendir(path); /* EACCES for others' processes, ENOENT once exited */
		if (!fdd)
			continue;
		while ((fe = readdir(fdd))) {
			struct stat st;

			if (fe->d_name[0] == '.')
				continue;
			if (++fds > WATCH_PROC_MAX_FDS) {
				r = -E2BIG;
				break;
			}
			/* Following the magic link stats the open file itself. */
			if (fstatat(dirfd(fdd), fe->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
				continue;
			for (i = 0; i < n; i++)
				if (!c[i].busy && c[i].dev == st.st_dev && c[i].ino == st.st_ino &&
				    fd_writable(pe->d_name, fe->d_name))
					c[i].busy = true;
		}
		closedir(fdd);
	}
	closedir(proc);
	return r;
}

/* ---- the settle tick ---- */

static void on_settle(uv_timer_t *t);

/* Make sure the settle tick runs by @at, but not sooner than a tick after the last one. */
static void settle_schedule(struct watch *w, uint64_t at)
{
	uint64_t now;

	if (w->closing)
		return;
	if (at < w->settle_last + w->tick_ms)
		at = w->settle_last + w->tick_ms;
	if (at >= w->settle_at)
		return;
	now = uv_now(w->loop);
	w->settle_at = at;
	uv_timer_start(&w->settle_timer, on_settle, at > now ? at - now : 0, 0);
}

/* One settling or later file is due: stat it, and ready it if unchanged and not being written. */
static void file_check(struct watch *w, struct wfile *f, uint64_t now, struct wcand *cands,
		       size_t *ncands)
{
	uint64_t settle = f->dir->zone->settle_ms;
	uint64_t recheck = settle > w->tick_ms ? settle : w->tick_ms;
	struct stat st, fst;
	int dfd, fd, r;

	dfd = dir_fd(w, f->dir);
	if (dfd < 0) {
		/* Its folder went away; the events or the next rescan forget it. */
		file_later(w, f, now + recheck);
		return;
	}
	if (fstatat(dfd, f->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			file_drop(w, f);
		else
			file_later(w, f, now + recheck);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		file_refuse(w, f, &st);
		return;
	}
	if (file_changed(f, &st)) {
		file_update(f, &st);
		f->since = now;
		file_set_state(w, f, WS_SETTLING);
		return;
	}
	if (now < f->since + settle) {
		file_set_state(w, f, WS_SETTLING); /* a retry that came before its settle time */
		return;
	}
	fd = openat(dfd, f->name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			file_drop(w, f);
		else
			file_later(w, f, now + recheck);
		return;
	}
	if (fstat(fd, &fst) < 0 || fst.st_dev != f->dev || fst.st_ino != f->ino) {
		close(fd); /* replaced between the two calls: settle the new one */
		file_later(w, f, now);
		return;
	}
	r = writer_lease(fd);
	close(fd);
	if (r == 0) {
		file_set_state(w, f, WS_READY);
	} else if (r > 0) {
		file_later(w, f, now + recheck);
	} else if (r == -EACCES || r == -EPERM || r == -EINVAL) {
		/* Not ours (no CAP_LEASE), or no leases here: look in /proc, rate-limited. */
		if (*ncands < WATCH_PROC_BATCH &&
		    (!w->proc_last || now >= w->proc_last + WATCH_PROC_INTERVAL_MS)) {
			cands[*ncands] = (struct wcand){ f, f->dev, f->ino, false };
			(*ncands)++;
			file_later(w, f, UINT64_MAX); /* decided after the /proc scan */
		} else {
			file_later(w, f,
				   w->proc_last + WATCH_PROC_INTERVAL_MS > now + w->tick_ms
				       ? w->proc_last + WATCH_PROC_INTERVAL_MS
				       : now + w->tick_ms);
		}
	} else {
		file_set_state(w, f, WS_READY); /* only the settle time can tell */
	}
}

static void proc_decide(struct watch *w, struct wcand *cands, size_t n, uint64_t now)
{
	size_t i;
	int r;

	r = proc_scan(cands, n);
	w->proc_last = now ? now : 1;
	if (r < 0 && !w->proc_partial_logged) {
		log_info(
		    "watch",
		    "cannot search every open file in /proc (%s): files not owned by custody are "
		    "taken on their settle time alone",
		    r == -E2BIG ? "too many descriptors" : strerror(-r));
		w->proc_partial_logged = true;
	}
	for (i = 0; i < n; i++) {
		struct wfile *f = cands[i].f;

		if (cands[i].busy)
			file_later(w, f,
				   now + (f->dir->zone->settle_ms > w->tick_ms
					      ? f->dir->zone->settle_ms
					      : w->tick_ms));
		else
			file_set_state(w, f, WS_READY);
	}
}

/* Hand the ready files to the callback.  Each is copied out first: the callback may forget,
 * retry, reload or close. */
static void offer_ready(struct watch *w)
{
	char path[PATH_MAX], rel[PATH_MAX];

	while (!w->closing && !wl_empty(&w->ready)) {
		struct wfile *f = container_of(w->ready.next, struct wfile, lnode);
		size_t zone = f->dir->zone->index;

		file_set_state(w, f, WS_OFFERED);
		snprintf(path, sizeof(path), "%s", f->path);
		snprintf(rel, sizeof(rel), "%s", f->rel);
		w->cb(w->opaque, zone, path, rel);
	}
}

static void on_settle(uv_timer_t *t)
{
	struct watch *w = t->data;
	uint64_t now = uv_now(w->loop), next = UINT64_MAX;
	struct wcand cands[WATCH_PROC_BATCH];
	unsigned budget = WATCH_SETTLE_BATCH;
	size_t ncands = 0, i;
	struct wlist *n, *nn, *end;

	w->settle_at = UINT64_MAX;
	w->settle_last = now;
	for (i = 0; i < w->nzones; i++) {
		struct wzone *z = w->zones[i];

		while (budget && !wl_empty(&z->settling)) {
			struct wfile *f = container_of(z->settling.next, struct wfile, lnode);

			if (file_due(f) > now)
				break;
			budget--;
			file_check(w, f, now, cands, &ncands);
		}
	}
	/* The later list is unordered: walk it once, up to what was its tail, since checked
	 * files that must wait go to the tail again. */
	end = w->later.prev;
	for (n = w->later.next; budget && n != &w->later; n = nn) {
		struct wfile *f = container_of(n, struct wfile, lnode);
		bool last = n == end;

		nn = n->next;
		if (f->not_before <= now) {
			budget--;
			file_check(w, f, now, cands, &ncands);
		}
		if (last)
			break;
	}
	if (ncands)
		proc_decide(w, cands, ncands, now);
	dir_cache_drop(w);
	offer_ready(w);
	if (w->closing)
		return;

	if (!budget) {
		/* More is due: go on after the loop has polled once (see WATCH_AGAIN_MS). */
		w->settle_at = now + WATCH_AGAIN_MS;
		uv_timer_start(&w->settle_timer, on_settle, WATCH_AGAIN_MS, 0);
		return;
	}
	for (i = 0; i < w->nzones; i++)
		if (!wl_empty(&w->zones[i]->settling)) {
			uint64_t due =
			    file_due(container_of(w->zones[i]->settling.next, struct wfile, lnode));

			next = due < next ? due : next;
		}
	for (n = w->later.next; n != &w->later; n = n->next) {
		const struct wfile *f = container_of(n, struct wfile, lnode);

		next = f->not_before < next ? f->not_before : next;
	}
	if (next != UINT64_MAX)
		settle_schedule(w, next);
}

/* ---- scanning ---- */

/* Start reading folder @d.  @return false when it cannot be read now. */
static bool scan_open(struct watch *w, struct wdir *d)
{
	struct stat st;
	int fd;

	fd = zone_openat(d->zone, d->rel, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		if (errno == ESTALE)
			return false; /* the zone folder was replaced: see zone_check() */
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
			if (d->parent)
				dir_remove(w, d); /* gone, or a symlink now */
			else
				zone_lost(w, d->zone, "does not exist");
			return false;
		}
		if (!d->warned)
			log_warning("watch", "zone '%s': cannot read folder '%s': %s, ignoring",
				    d->zone->name, d->path, strerror(errno));
		d->warned = true;
		return false;
	}
	if (fstat(fd, &st) == 0 && (st.st_dev != d->dev || st.st_ino != d->ino)) {
		/* Replaced behind our back (no events here): watch the new one. */
		dir_unwatch(w, d);
		d->dev = st.st_dev;
		d->ino = st.st_ino;
	}
	if (d->wd < 0)
		dir_watch(w, d, fd);
	w->scan_stream = fdopendir(fd);
	if (!w->scan_stream) {
		close(fd);
		return false;
	}
	w->scan_dir = d;
	if (++w->mark_seq == 0)
		w->mark_seq = 1;
	d->mark = w->mark_seq;
	return true;
}

/* The folder has been read to its end: what it held before and neither the scan nor an event
 * has seen since the scan started may be gone (an overflow lost its delete event). */
static void scan_finish(struct watch *w, bool complete)
{
	struct wdir *d = w->scan_dir;
	int dfd = dirfd(w->scan_stream);
	struct wlist *n, *nn;
	struct stat st;

	if (complete) {
		for (n = d->files.next; n != &d->files; n = nn) {
			struct wfile *f = container_of(n, struct wfile, dnode);

			nn = n->next;
			if (f->mark == d->mark)
				continue;
			if (fstatat(dfd, f->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno == ENOENT)
					file_drop(w, f);
			} else if (!S_ISDIR(st.st_mode)) {
				f->mark = d->mark;
				file_seen(w, f, &st);
			}
		}
		for (n = d->subdirs.next; n != &d->subdirs; n = nn) {
			struct wdir *c = container_of(n, struct wdir, snode);

			nn = n->next;
			if (c->seen == d->mark)
				continue;
			if (fstatat(dfd, strrchr(c->path, '/') + 1, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
			    errno == ENOENT)
				dir_remove(w, c);
		}
	}
	closedir(w->scan_stream);
	w->scan_stream = NULL;
	w->scan_dir = NULL;
}

static void on_step(uv_timer_t *t)
{
	struct watch *w = t->data;
	unsigned budget = WATCH_SCAN_BATCH;

	while (budget && !w->closing) {
		struct dirent *ent;
		struct stat st;
		struct wdir *d;

		if (!w->scan_stream) {
			if (wl_empty(&w->scanq))
				break;
			d = container_of(w->scanq.next, struct wdir, qnode);
			wl_del(&d->qnode);
			budget--;
			scan_open(w, d);
			continue;
		}
		d = w->scan_dir;
		errno = 0;
		ent = readdir(w->scan_stream);
		if (!ent) {
			scan_finish(w, errno == 0);
			continue;
		}
		budget--;
		if (is_dot(ent->d_name))
			continue;
		if (fstatat(dirfd(w->scan_stream), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone since readdir(); if we knew it, the sweep drops it */
		entry_seen(w, d, dirfd(w->scan_stream), ent->d_name, &st, false);
	}
	dir_cache_drop(w);
	if (!w->closing && (w->scan_stream || !wl_empty(&w->scanq)))
		uv_timer_start(&w->step_timer, on_step, WATCH_AGAIN_MS, 0);
}

static void step_start(struct watch *w)
{
	if (!w->closing && !uv_is_active((uv_handle_t *)&w->step_timer))
		uv_timer_start(&w->step_timer, on_step, 0, 0);
}

static void on_rescan(uv_timer_t *t)
{
	watch_rescan(t->data);
}

/* ---- inotify ---- */

/* Is folder @d still at its path?  A move-self for a folder that was moved away and back, or
 * whose parent's moved-from/moved-to were handled first, must not forget it. */
static bool dir_in_place(struct watch *w, struct wdir *d)
{
	struct stat st;
	int pfd = dir_fd(w, d->parent);

	return pfd >= 0 && fstatat(pfd, strrchr(d->path, '/') + 1, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       st.st_dev == d->dev && st.st_ino == d->ino;
}

static void on_event(struct watch *w, const struct inotify_event *ev)
{
	char path[PATH_MAX];
	struct wdir *d, *c;
	struct wfile *f;
	struct stat st;
	int dfd;

	if (ev->mask & IN_Q_OVERFLOW) {
		log_warning("watch", "inotify queue overflowed, rescanning every zone");
		watch_rescan(w);
		return;
	}
	d = wd_find(w, ev->wd);
	if (!d)
		return; /* a watch we removed; its IN_IGNORED */
	if (ev->mask & IN_IGNORED) {
		ht_remove(&w->wds, &d->hwd);
		d->wd = -1;
		return;
	}
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
		if (!d->parent)
			zone_lost(w, d->zone,
				  ev->mask & IN_DELETE_SELF ? "was deleted"
				  : ev->mask & IN_MOVE_SELF ? "was moved away"
							    : "was unmounted");
		else if (!(ev->mask & IN_MOVE_SELF) || !dir_in_place(w, d))
			dir_remove(w, d); /* the rescan finds it if it is still in the zone */
		return;
	}
	if (!ev->len || !path_join(path, d->path, ev->name))
		return;
	if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
		c = dir_find(w, path);
		if (c)
			dir_remove(w, c);
		f = file_find(w, path);
		if (f)
			file_drop(w, f);
		return;
	}
	dfd = dir_fd(w, d);
	if (dfd < 0 || fstatat(dfd, ev->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return; /* gone again: its delete event follows */
	entry_seen(w, d, dfd, ev->name, &st, true);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct watch *w = h->data;
	char buf[WATCH_EVENT_BUF] __attribute__((aligned(__alignof__(struct inotify_event))));
	int i;

	(void)events;
	if (status < 0) {
		log_error("watch", "inotify: %s, relying on rescans", uv_strerror(status));
		uv_poll_stop(h);
		return;
	}
	for (i = 0; i < WATCH_EVENT_READS && !w->closing; i++) {
		ssize_t n = read(w->ifd, buf, sizeof(buf));
		const char *p;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN)
				log_error("watch", "reading inotify events: %s", strerror(errno));
			break;
		}
		for (p = buf; p < buf + n && !w->closing;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			on_event(w, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
	dir_cache_drop(w);
}

/* ---- the API ---- */

static void on_closed(uv_handle_t *h)
{
	struct watch *w = h->data;
	void (*done)(void *) = w->done;
	void *opaque = w->done_opaque;

	if (--w->closes)
		return;
	if (w->ifd >= 0)
		close(w->ifd);
	free(w->files.b);
	free(w->dirs.b);
	free(w->wds.b);
	free(w->zones);
	free(w);
	if (done)
		done(opaque);
}

/* Switch to the prepared zones (@zs has room for @n).  Nothing here fails.  The old zones that
 * are not kept go first, so that their watches are gone before the new zones add theirs. */
static void zones_commit(struct watch *w, struct zprep *p, struct wzone **zs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct wzone *o;

		if (p[i].reuse < 0) {
			zs[i] = TAKE_PTR(p[i].z);
			continue;
		}
		/* Kept: its records stay; it takes the new name, index and settle time.  The next
		 * rescan checks that its folder is still the same one. */
		o = w->zones[p[i].reuse];
		w->zones[p[i].reuse] = NULL;
		free(o->name);
		o->name = p[i].z->name;
		p[i].z->name = NULL;
		o->index = i;
		o->settle_ms = p[i].z->settle_ms;
		zs[i] = o;
	}
	for (i = 0; i < w->nzones; i++)
		zone_free(w, w->zones[i]);
	free(w->zones);
	w->zones = zs;
	w->nzones = n;
	for (i = 0; i < n; i++)
		if (p[i].reuse < 0) {
			zone_attach(w, zs[i], p[i].fd, &p[i].st);
			p[i].fd = -1;
		}
	zprep_free(p, n);
	tick_compute(w);
}

int watch_new(uv_loop_t *loop, const struct cfg *cfg, watch_ready_cb cb, void *opaque,
	      struct watch **ret, struct err_detail *reterr)
{
	struct wzone **zs = NULL;
	struct zprep *p = NULL;
	struct watch *w;
	int r;

	w = calloc(1, sizeof(*w));
	if (!w)
		return err_set(reterr, -ENOMEM, "out of memory");
	w->loop = loop;
	w->cb = cb;
	w->opaque = opaque;
	w->ifd = -1;
	w->cache_fd = -1;
	w->settle_at = UINT64_MAX;
	wl_init(&w->later);
	wl_init(&w->ready);
	wl_init(&w->scanq);
	w->closing = true; /* no timer starts until the handles exist */
	if (ht_init(&w->files) < 0 || ht_init(&w->dirs) < 0 || ht_init(&w->wds) < 0) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	r = zones_prepare(cfg, NULL, 0, &p, reterr);
	if (r < 0)
		goto fail;
	zs = calloc(cfg->nzones ? cfg->nzones : 1, sizeof(*zs));
	if (!zs) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0) {
		r = err_set(reterr, -errno, "inotify: %s", strerror(errno));
		goto fail;
	}
	r = uv_poll_init(loop, &w->poll, w->ifd);
	if (r < 0) {
		r = err_set(reterr, r, "inotify: %s", uv_strerror(r));
		goto fail;
	}
	w->poll.data = w;
	uv_timer_init(loop, &w->rescan_timer);
	uv_timer_init(loop, &w->settle_timer);
	uv_timer_init(loop, &w->step_timer);
	w->rescan_timer.data = w->settle_timer.data = w->step_timer.data = w;
	r = uv_poll_start(&w->poll, UV_READABLE, on_poll);
	if (r < 0) {
		/* The handles exist: the memory goes in their close callbacks. */
		err_set(reterr, r, "inotify: %s", uv_strerror(r));
		zprep_free(p, cfg->nzones);
		free(zs);
		watch_close(w, NULL, NULL);
		return r;
	}
	w->closing = false;
	zones_commit(w, p, zs, cfg->nzones);
	w->rescan_ms = cfg->rescan_interval_ms;
	if (w->rescan_ms)
		uv_timer_start(&w->rescan_timer, on_rescan, w->rescan_ms, w->rescan_ms);
	*ret = w;
	return 0;

fail:
	if (w->ifd >= 0)
		close(w->ifd);
	zprep_free(p, cfg->nzones);
	free(zs);
	free(w->files.b);
	free(w->dirs.b);
	free(w->wds.b);
	free(w);
	return r;
}

int watch_reload(struct watch *w, const struct cfg *cfg, struct err_detail *reterr)
{
	struct wzone **zs;
	struct zprep *p = NULL;
	int r;

	r = zones_prepare(cfg, w->zones, w->nzones, &p, reterr);
	if (r < 0)
		return r;
	zs = calloc(cfg->nzones ? cfg->nzones : 1, sizeof(*zs));
	if (!zs) {
		zprep_free(p, cfg->nzones);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	zones_commit(w, p, zs, cfg->nzones);
	w->rescan_ms = cfg->rescan_interval_ms;
	uv_timer_stop(&w->rescan_timer);
	if (w->rescan_ms)
		uv_timer_start(&w->rescan_timer, on_rescan, w->rescan_ms, w->rescan_ms);
	/* Settle times may have changed: let the tick work out when it is next due. */
	w->settle_at = UINT64_MAX;
	uv_timer_stop(&w->settle_timer);
	settle_schedule(w, uv_now(w->loop));
	watch_rescan(w);
	return 0;
}

void watch_forget(struct watch *w, const char *path)
{
	struct wfile *f = file_find(w, path);

	if (f)
		file_drop(w, f);
}

/* The record for @path, made now if its folder is known and a regular file is there. */
static struct wfile *file_lookup_now(struct watch *w, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct wfile *f = file_find(w, path);
	struct stat st;
	struct wdir *d;
	int dfd;

	if (f || !slash || (size_t)(slash - path) >= sizeof(dir))
		return f;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	d = dir_find(w, slash == path ? "/" : dir);
	if (!d)
		return NULL;
	dfd = dir_fd(w, d);
	if (dfd >= 0 && fstatat(dfd, slash + 1, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode))
		f = file_new(w, d, path);
	if (f) {
		f->mark = d->mark;
		file_seen(w, f, &st);
	}
	dir_cache_drop(w);
	return f;
}

void watch_retry(struct watch *w, const char *path, uint64_t delay_ms)
{
	/* A file the pipeline had moved into staging and has just put back is not known any more
	 * (its moved-from event dropped it) or is settling again (its moved-to event came first):
	 * either way the delay holds. */
	struct wfile *f = file_lookup_now(w, path);

	if (!f || (f->state != WS_OFFERED && f->state != WS_LATER && f->state != WS_SETTLING))
		return; /* gone, or waiting for a rename: nothing to retry */
	file_later(w, f, uv_now(w->loop) + delay_ms);
}

size_t watch_waiting(const struct watch *w, size_t zone)
{
	return zone < w->nzones ? w->zones[zone]->waiting : 0;
}

void watch_rescan(struct watch *w)
{
	size_t i;

	if (w->closing)
		return;
	for (i = 0; i < w->nzones; i++)
		zone_check(w, w->zones[i]);
	step_start(w);
}

void watch_close(struct watch *w, void (*done)(void *opaque), void *opaque)
{
	size_t i;

	w->closing = true;
	w->done = done;
	w->done_opaque = opaque;
	/* Closing the inotify descriptor drops every watch at once: no inotify_rm_watch() each. */
	for (i = 0; i < w->nzones; i++)
		w->zones[i] = zone_free(w, w->zones[i]);
	w->nzones = 0;
	if (w->scan_stream) {
		closedir(w->scan_stream);
		w->scan_stream = NULL;
		w->scan_dir = NULL;
	}
	dir_cache_drop(w);
	w->closes = 4;
	uv_close((uv_handle_t *)&w->poll, on_closed);
	uv_close((uv_handle_t *)&w->rescan_timer, on_closed);
	uv_close((uv_handle_t *)&w->settle_timer, on_closed);
	uv_close((uv_handle_t *)&w->step_timer, on_closed);
}
