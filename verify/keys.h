#pragma once
/* The lookup keys custodyd records with its entries (tlog_append_keyed()), in one place for the
 * pipeline that writes them, the server's `verify`, `proof` and purge that read them, and the
 * tests.  Integers in a key's extra are little-endian.
 *   TLOG_KEY_FILE    the file's SHA-256; extra unused (zero)
 *   TLOG_KEY_STREAM  each stream's digest; extra[0..3] stream index, extra[4..11] packet count
 *   TLOG_KEY_PACKET  each video key packet's SHA-256; extra[0..3] stream index, extra[4..11]
 *                    pts in microseconds (INT64_MIN when unknown), extra[12..15] the packet's
 *                    ordinal in its stream (low 32 bits)
 *   TLOG_KEY_ARRIVAL one arrival (with each ingest, damaged and duplicate entry):
 *                    vfy_key_arrival() of its staging name, or of its zone, name, device,
 *                    inode, size, mtime and SHA-256 for a copied file; extra unused.  A file
 *                    taken again after a crash whose arrival is logged makes no new entry.
 * and with each purge entry (pipe_purge()):
 *   TLOG_KEY_PURGED  the purged original's SHA-256; extra[4..11] the purged entry's index
 *                    (vfy_key_extra_put(extra, 0, index, 0)).  An entry carrying
 *                    TLOG_KEY_FILE is in force unless a TLOG_KEY_PURGED of the same hash
 *                    names it: the writer's duplicate check counts only those in force.
 * Pure functions, any thread. */

#include <stdint.h>

struct json_t;

/** Write @stream, @value and @ordinal into a key's @extra (TLOG_KEY_EXTRA bytes), laid out as
 * above.  Never fails. */
void vfy_key_extra_put(uint8_t extra[16], uint32_t stream, int64_t value, uint32_t ordinal);

/** Read back what vfy_key_extra_put() wrote; each of @ret_stream, @ret_value and @ret_ordinal
 * may be NULL.  Never fails. */
void vfy_key_extra_get(const uint8_t extra[16], uint32_t *ret_stream, int64_t *ret_value,
		       uint32_t *ret_ordinal);

/** The TLOG_KEY_ARRIVAL of the arrival that @arrival (a JSON object; stays the caller's)
 * describes: the SHA-256 of its compact JSON text with sorted keys, so that one description
 * gives one key whatever order it was built in.
 * @return 0; -ENOMEM; -EIO (libcrypto).  @ret_key is written only on success. */
int vfy_key_arrival(const struct json_t *arrival, uint8_t ret_key[32]);
