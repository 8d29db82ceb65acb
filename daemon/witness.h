#pragma once
/* Witnessing and publication (docs/witness.md, docs/publication.md): custodyd sends each new
 * checkpoint to every [witness NAME] over C2SP tlog-witness (libcurl, on this module's own
 * thread), attaches the cosignatures that verify against the configured keys to the stored
 * checkpoint, decides which checkpoint is served and published (the newest with
 * witness_quorum cosignatures; with a quorum of 0, the newest signed), and hands it to the
 * publisher thread, which writes [publish] path.
 *
 * Every witness is independent: its own request, error, back-off and retry; one that is down,
 * slow, answers garbage or sends 409 after 409 delays only its own cosignature, never ingest
 * or the other witnesses.  The writer thread only tells this module that it signed a
 * checkpoint (wit_signed()), which takes a mutex and wakes the thread.
 *
 * Threads: wit_start() and wit_stop() on the loop thread; wit_signed(), wit_served() and
 * wit_status() from any thread. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;
struct err_detail;
struct json_t;
struct witnessing;

/** Parse the witnesses' keys, open the published folder and start the threads, when the
 * configuration has witnesses or a [publish] path; otherwise *@ret is NULL and nothing runs
 * (wit_* accept NULL).  Reads the newest checkpoint and <state>/witnessed to know what is
 * served.  @return 0, -EINVAL (a witness key does not parse, or is not a cosignature/v1 key:
 * the message cites the config line), -ENOMEM, or a system error (the folder, a thread). */
int wit_start(struct daemon *d, struct witnessing **ret, struct err_detail *reterr);

/** Only check what wit_start() would parse (custodyd --check-config). */
int wit_check_config(const struct daemon *d, struct err_detail *reterr);

/** A checkpoint of @size was signed and stored.  Any thread; never blocks on the network. */
void wit_signed(struct witnessing *w, uint64_t size);

/** The size of the checkpoint served to clients and used for proofs by default: TLOG_NEWEST
 * when no quorum is needed, else the newest with witness_quorum cosignatures (0 while none
 * has).  Any thread. */
uint64_t wit_served(struct witnessing *w);

/** Does @note (a signed checkpoint of this log) carry witness_quorum valid cosignatures of the
 * configured witnesses?  True when no quorum is configured or @w is NULL.  Any thread. */
bool wit_has_quorum(struct witnessing *w, const char *note, size_t len);

/** {"quorum", "served", "published": {...}, "witnesses": [{name, url, cosigned_size,
 * cosigned_at, age_s, last_error, last_error_at, next_try_at}], "waiting_since", "alert"} for
 * status; null for NULL.  Any thread. */
struct json_t *wit_status(struct witnessing *w);

/** Stop the threads (requests in flight are abandoned; what was attached stays) and free.
 * NULL is fine.  Loop thread. */
void wit_stop(struct witnessing *w);
