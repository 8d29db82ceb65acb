/* daemon/server/trail.c: what a clip's history (daemon/server/history.c) needs from the log that
 * the rest of the index (daemon/server/index.c) does not keep: the `duplicate` entries and the
 * `scrub` passes.  Loop thread only: fed by the index's scan (srv__index_entry()), in index
 * order, like everything in struct srv_index.
 *
 * DESIGN
 *
 * A history names every arrival of the clip's bytes and what the scrubber found of it, and must
 * not read the log from the start to do so: no lookup key leads from a clip to its duplicates
 * (a `duplicate` entry carries only the TLOG_KEY_ARRIVAL of its own arrival) or to the scrub
 * passes that checked it.  So the scan keeps:
 *
 *   - every duplicate entry's index and "of": 8 bytes per arrival of bytes already logged (an
 *     arrival that was not one costs the index a 136-byte struct srv_clip).  A history finds its
 *     clip's in one pass over them, about a millisecond per million on the loop;
 *   - every scrub entry of a pass that found an original missing or altered: its pass
 *     (started_at, parts), log_size and the smallest and largest index it lists (struct
 *     srv_scrub_part).  Findings are alarms, so these are few; a history reads only the parts
 *     whose range holds its clip;
 *   - of the passes that found nothing wrong, only those a later one does not supersede.  Such a
 *     pass found intact every original below its log_size that had not been purged, so a later
 *     clean pass says the same of every clip and more, unless a purge came between them: the
 *     clip it purged was last found intact by the older pass.  A clean pass therefore replaces
 *     the previous kept one when no purge entry was indexed since, and the kept ones number at
 *     most the purges between passes plus one, however often the scrubber runs.
 *
 * Entries at index 2^32 or beyond are not kept (counted in x->skipped), as elsewhere in the
 * index. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/server/internal.h"

void srv__trail_done(struct srv_trail *t)
{
	free(t->dups);
	free(t->failed);
	free(t->clean);
	*t = (struct srv_trail){ 0 };
}

static int trail_dup(struct srv_trail *t, uint64_t index, const json_t *o)
{
	const json_t *of = json_object_get(o, "of");

	if (!json_is_integer(of) || json_integer_value(of) < 0 ||
	    json_integer_value(of) >= UINT32_MAX)
		return 0;
	if (t->ndups && t->dups[t->ndups - 1].index >= index)
		return 0;
	if (srv__grow((void **)&t->dups, &t->capdups, t->ndups + 1, sizeof(*t->dups)) < 0)
		return -ENOMEM;
	t->dups[t->ndups++] = (struct srv_dup){ (uint32_t)index, (uint32_t)json_integer_value(of) };
	return 0;
}

static uint64_t u64_or(const json_t *v, uint64_t dflt)
{
	return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v)
								: dflt;
}

/* The range of the indexes @list holds into *@lo, *@hi (widened). */
static void widen(const json_t *list, uint64_t *lo, uint64_t *hi)
{
	const json_t *v;
	size_t i;

	json_array_foreach(list, i, v) {
		uint64_t n = u64_or(v, UINT64_MAX);

		if (n == UINT64_MAX)
			continue;
		if (n < *lo)
			*lo = n;
		if (n > *hi)
			*hi = n;
	}
}

static int trail_scrub(struct srv_trail *t, uint64_t index, const json_t *o)
{
	const char *started = json_string_value(json_object_get(o, "started_at"));
	struct srv_scrub_part p = {
		.index = index,
		.started_us = INT64_MIN,
		.log_size = u64_or(json_object_get(o, "log_size"), 0),
		.lo = UINT64_MAX,
		.hi = 0,
		.part = (uint32_t)u64_or(json_object_get(o, "part"), 1),
		.parts = (uint32_t)u64_or(json_object_get(o, "parts"), 1),
		.purges_before = t->purges,
		.unlisted = u64_or(json_object_get(o, "missing_unlisted"), 0) ||
			    u64_or(json_object_get(o, "altered_unlisted"), 0),
	};
	struct srv_scrub_part *last;

	if (started && srv__parse_time(started, &p.started_us) < 0)
		p.started_us = INT64_MIN;
	widen(json_object_get(o, "missing"), &p.lo, &p.hi);
	widen(json_object_get(o, "altered"), &p.lo, &p.hi);
	if ((t->nfailed && t->failed[t->nfailed - 1].index >= index) ||
	    (t->nclean && t->clean[t->nclean - 1].index >= index))
		return 0;
	if (p.lo <= p.hi || p.unlisted || p.parts > 1) {
		if (srv__grow((void **)&t->failed, &t->capfailed, t->nfailed + 1,
			      sizeof(*t->failed)) < 0)
			return -ENOMEM;
		t->failed[t->nfailed++] = p;
		return 0;
	}
	last = t->nclean ? &t->clean[t->nclean - 1] : NULL;
	if (last && last->purges_before == t->purges) {
		*last = p; /* nothing was purged since: the older pass says nothing more */
		return 0;
	}
	if (srv__grow((void **)&t->clean, &t->capclean, t->nclean + 1, sizeof(*t->clean)) < 0)
		return -ENOMEM;
	t->clean[t->nclean++] = p;
	return 0;
}

int srv__trail_entry(struct srv_index *x, uint64_t index, const char *type, const json_t *o)
{
	struct srv_trail *t = &x->trail;

	if (index >= UINT32_MAX) {
		x->skipped++;
		return 0;
	}
	if (!strcmp(type, "duplicate"))
		return trail_dup(t, index, o);
	if (!strcmp(type, "scrub"))
		return trail_scrub(t, index, o);
	if (!strcmp(type, "purge") && t->purges < UINT32_MAX)
		t->purges++;
	return 0;
}

size_t srv__trail_dups(const struct srv_trail *t, uint64_t entry, uint64_t *ret, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < t->ndups; i++)
		if (t->dups[i].of == entry) {
			if (n < max)
				ret[n] = t->dups[i].index;
			n++;
		}
	return n;
}
