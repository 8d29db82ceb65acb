#pragma once
/* Drop-zone watching: inotify on every zone and every folder below it (close-write, moved-to,
 * create, delete, and new subfolders as a docking station copies a camera's tree), plus a full
 * rescan every `rescan_interval`, so that a file is found even where inotify is blind (network
 * mounts, a queue overflow).  A file is offered once it is a regular file, its size and mtime
 * have not changed for the zone's `settle`, and no process has it open for writing (as far as
 * the daemon can see: see watch.c).  Hidden and temporary names ('.*', '*.part', '*~',
 * '*.tmp', '*.crdownload') wait; FIFOs, devices, sockets and symlinks are refused once and
 * logged.  Loop thread only. */

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct cfg;
struct err_detail;
struct watch;

/** A settled file: @zone is the index of its zone in the cfg given to watch_new()/watch_reload(),
 * @path absolute, @relname its path relative to the zone folder (what the entry's `name` holds).
 * The strings live until the callback returns.  The file is offered again after
 * watch_retry() or when it changes; never again after watch_forget(). */
typedef void (*watch_ready_cb)(void *opaque, size_t zone, const char *path, const char *relname);

/** Start watching every zone of @cfg (the cfg must outlive the watch or the next reload).  A zone
 * folder that does not exist is an error named in @reterr, and the daemon does not start: an
 * operator's typo must not silently leave a docking station unwatched.
 * @return 0, or -errno with the zone named in @reterr. */
int watch_new(uv_loop_t *loop, const struct cfg *cfg, watch_ready_cb cb, void *opaque,
	      struct watch **ret, struct err_detail *reterr);

/** Switch to the zones of @cfg (SIGHUP).  Files already offered stay the caller's business.
 * On error the old zones stay watched. */
int watch_reload(struct watch *w, const struct cfg *cfg, struct err_detail *reterr);

/** The file at @path left its zone (ingested and removed): forget it. */
void watch_forget(struct watch *w, const char *path);

/** Ingesting @path failed for now (e.g. the store is full): offer it again after @delay_ms. */
void watch_retry(struct watch *w, const char *path, uint64_t delay_ms);

/** Files seen in zone @zone that are not yet offered (settling, temporary names). */
size_t watch_waiting(const struct watch *w, size_t zone);

/** Run a full rescan now (tests, and after a reload). */
void watch_rescan(struct watch *w);

/** Stop watching and free, closing the libuv handles; @done runs when all are closed. */
void watch_close(struct watch *w, void (*done)(void *opaque), void *opaque);
