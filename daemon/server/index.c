/* daemon/server/index.c: what the server knows about the log without rescanning it.  Loop thread
 * only.
 *
 * DESIGN
 *
 * `verify` must say which annotations concern the original it found, and whether a clip that
 * matches nothing claims to be an original (its name, device and recording time); `status`
 * counts the open compliance items.  Scanning the log for that on every request would cost
 * O(log size) per query, and the log grows by an access entry per query.  So the server scans
 * the log once, in slices from the loop (server.c on_bg), follows its tail every second, and
 * keeps only what those questions need:
 *
 *   - every annotation (they are few: people write them), parsed into struct srv_note, sorted
 *     by index;
 *   - a hash multimap of 32-bit tags to 32-bit entry indexes for claim keys: an original's
 *     file name (without folders), its device + recorded_start, its creation_time + make +
 *     model + serial tags, and "entry N is named by annotation M".  8 bytes a slot at most half
 *     full: about 50 bytes per ingested original.  A tag match is only a candidate; callers
 *     confirm it against the entry (or the note), so a 32-bit collision costs one read, never
 *     a wrong answer.  The hash is SipHash-2-4 (libsodium crypto_shorthash) with a random
 *     per-process key, because file names are chosen by whoever drops files;
 *   - the ingest entries stored late or with an unknown time, and the damaged ones;
 *   - for the rules (docs/rules.md: review, report, retention, copy-out): every original as a
 *     struct srv_clip (136 bytes, and a 16-byte claim of its SHA-256; device, officer and zone
 *     interned once as 32-bit ids), the purge entries that removed one, and who accessed which
 *     clip: one 28-byte struct srv_access_ref per (access entry, clip it named by index, by
 *     "sha256:HEX" or in its "entries"), chained per clip and kind so that a review walks only
 *     its clips' accesses: the newest 64 reads and 16 refusals of each clip and every copy-out
 *     that handed it over (the soak's 64 verifying clients grew the daemon by 37 bytes per
 *     read while every ref was kept); the access entries per UTC day (allowed, copy-outs,
 *     refused) and the accesses that named a clip per day, device and officer, for reports;
 *     and every case id a case annotation names with the time of its newest review answered,
 *     for `cases`.  The log is mostly access entries (a verify appends one): what the index
 *     keeps of them is bounded by clips, days and cases, not by reads.  Access entries are
 *     parsed (jansson, about 5 µs each here), so the first pass over a log of millions of them
 *     takes seconds, in slices.
 *
 * Entries are filtered on their bytes before parsing: a canonical entry's top-level type is
 * the literal `"type":"ingest"` (or damaged, annotation), and a string value cannot contain
 * that sequence unescaped.  Nested objects could (an access record's target), so the parsed
 * top-level type is checked again.
 *
 * Limits: entries with an index of 2^32 or more are not indexed (counted in `skipped`), nor
 * access refs beyond 2^32 or strings beyond 2^32 - 1.  The server's own annotations are added
 * when their commit callback fires (so a `verify` right after an `annotate` sees it) and
 * skipped when the scan reaches them.
 *
 * One file because it is the only writer of struct srv_index (claims, interned strings, notes,
 * clips, access tallies), and its slot tables and string interning are helpers of that one
 * structure; the other files of daemon/server/ only read it through srv__index_*(). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>
#include <uv.h>

#include "base/err.h"
#include "base/hex.h"
#include "base/macro.h"
#include "ingest/rectime.h"
#include "ingest/tz.h"
#include "rules/rules.h"
#include "daemon/server/internal.h"
#include "verify/tlog.h"

#define SLOTS_MIN 1024

static const char *const note_kinds[] = {
	[SRV_NOTE_INTERRUPTION] = "interruption",
	[SRV_NOTE_LATE_STORAGE] = "late_storage",
	[SRV_NOTE_REMOTE_DUTY] = "remote_duty",
	[SRV_NOTE_DAMAGE_REPORT] = "damage_report",
	[SRV_NOTE_CASE] = "case",
	[SRV_NOTE_APPROVAL] = "approval",
	[SRV_NOTE_HOLD] = "hold",
	[SRV_NOTE_DEVICE] = "device",
};

int srv__index_init(struct srv_index *x)
{
	*x = (struct srv_index){ 0 };
	if (sodium_init() < 0)
		return -EIO;
	randombytes_buf(x->hkey, sizeof(x->hkey));
	return 0;
}

void srv__note_done(struct srv_note *n)
{
	free(n->entries);
	free(n->device);
	free(n->officer);
	free(n->case_id);
	free(n->grantee);
	free(n->purpose);
	free(n->reason);
	free(n->by);
	*n = (struct srv_note){ 0 };
}

void srv__index_done(struct srv_index *x)
{
	for (size_t i = 0; i < x->nnotes; i++)
		srv__note_done(&x->notes[i]);
	free(x->notes);
	free(x->slots);
	free(x->open_storage);
	free(x->open_storage_late);
	free(x->damaged);
	free(x->clips);
	free(x->access_refs);
	free(x->access_days);
	free(x->tallies);
	for (size_t i = 0; i < x->nstrs; i++)
		free(x->strs[i]);
	free(x->strs);
	free(x->str_slots);
	free(x->cases);
	srv__trail_done(&x->trail);
	*x = (struct srv_index){ 0 };
}

/* ---- the claim table --------------------------------------------------------------------- */

static uint32_t claim_tag(const struct srv_index *x, unsigned kind, const void *key, size_t len)
{
	uint8_t k[crypto_shorthash_KEYBYTES], h[crypto_shorthash_BYTES];
	uint32_t tag;

	memcpy(k, x->hkey, sizeof(k));
	k[0] ^= (uint8_t)kind; /* one key per kind: a name never matches a device's key */
	crypto_shorthash(h, key, len, k);
	memcpy(&tag, h, sizeof(tag));
	return tag ? tag : 1;
}

static void slot_put(struct srv_slot *slots, size_t nslots, uint32_t tag, uint32_t value,
		     size_t *used)
{
	size_t mask = nslots - 1, i = tag & mask;

	for (; slots[i].tag; i = (i + 1) & mask)
		if (slots[i].tag == tag && slots[i].value == value)
			return;
	slots[i] = (struct srv_slot){ tag, value };
	(*used)++;
}

static int claim_put(struct srv_index *x, unsigned kind, const void *key, size_t len,
		     uint64_t value)
{
	uint32_t tag = claim_tag(x, kind, key, len);

	if (value >= UINT32_MAX) {
		x->skipped++;
		return 0;
	}
	if ((x->used + 1) * 2 > x->nslots) {
		size_t n = x->nslots ? x->nslots * 2 : SLOTS_MIN, used = 0;
		struct srv_slot *slots = calloc(n, sizeof(*slots));

		if (!slots)
			return -ENOMEM;
		for (size_t i = 0; i < x->nslots; i++)
			if (x->slots[i].tag)
				slot_put(slots, n, x->slots[i].tag, x->slots[i].value, &used);
		free(x->slots);
		x->slots = slots;
		x->nslots = n;
		x->used = used;
	}
	slot_put(x->slots, x->nslots, tag, (uint32_t)value, &x->used);
	return 0;
}

size_t srv__index_claims(const struct srv_index *x, unsigned kind, const void *key, size_t len,
			 uint64_t *ret, size_t max)
{
	uint32_t tag;
	size_t n = 0, mask;

	if (!x->nslots)
		return 0;
	tag = claim_tag(x, kind, key, len);
	mask = x->nslots - 1;
	for (size_t i = tag & mask; x->slots[i].tag && n < max; i = (i + 1) & mask)
		if (x->slots[i].tag == tag)
			ret[n++] = x->slots[i].value;
	return n;
}

/* ---- growing arrays ---------------------------------------------------------------------- */

int srv__grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n;
	void *q;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap * 2 : 64;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* ---- interned strings ------------------------------------------------------------------- */

/* Devices, officers, zones, users and ops repeat across thousands of entries: each is stored
 * once and named by a 32-bit id.  The hash is keyed like the claims: device names come from
 * file names, which whoever drops files chooses. */
static size_t str_hash(const struct srv_index *x, const char *s)
{
	uint8_t h[crypto_shorthash_BYTES];
	size_t v;

	crypto_shorthash(h, (const unsigned char *)s, strlen(s), x->hkey);
	memcpy(&v, h, sizeof(v));
	return v;
}

uint32_t srv__index_str_find(const struct srv_index *x, const char *s)
{
	size_t mask, i;

	if (!s || !x->nstr_slots)
		return 0;
	mask = x->nstr_slots - 1;
	for (i = str_hash(x, s) & mask; x->str_slots[i]; i = (i + 1) & mask)
		if (!strcmp(x->strs[x->str_slots[i] - 1], s))
			return x->str_slots[i];
	return 0;
}

const char *srv__index_str(const struct srv_index *x, uint32_t id)
{
	return id && id <= x->nstrs ? x->strs[id - 1] : NULL;
}

/* The id of @s, interning it.  NULL or "" is 0.  @return 0 also when out of memory (*@err). */
static uint32_t str_intern(struct srv_index *x, const char *s, int *err)
{
	uint32_t id = srv__index_str_find(x, s);
	size_t mask, i;
	char *copy;

	if (id || !s || !*s)
		return id;
	if (x->nstrs >= UINT32_MAX - 1) {
		x->skipped++;
		return 0;
	}
	if ((x->nstrs + 1) * 2 > x->nstr_slots) {
		size_t n = x->nstr_slots ? x->nstr_slots * 2 : 256;
		uint32_t *slots = calloc(n, sizeof(*slots));

		if (!slots) {
			*err = -ENOMEM;
			return 0;
		}
		for (size_t k = 0; k < x->nstrs; k++) {
			for (i = str_hash(x, x->strs[k]) & (n - 1); slots[i]; i = (i + 1) & (n - 1))
				;
			slots[i] = (uint32_t)(k + 1);
		}
		free(x->str_slots);
		x->str_slots = slots;
		x->nstr_slots = n;
	}
	if (srv__grow((void **)&x->strs, &x->capstrs, x->nstrs + 1, sizeof(*x->strs)) < 0 ||
	    !(copy = strdup(s))) {
		*err = -ENOMEM;
		return 0;
	}
	x->strs[x->nstrs++] = copy;
	mask = x->nstr_slots - 1;
	for (i = str_hash(x, s) & mask; x->str_slots[i]; i = (i + 1) & mask)
		;
	x->str_slots[i] = (uint32_t)x->nstrs;
	return (uint32_t)x->nstrs;
}

/* ---- notes ------------------------------------------------------------------------------- */

static int64_t time_or_unknown(const json_t *v)
{
	int64_t us;

	if (!json_is_string(v) || srv__parse_time(json_string_value(v), &us) < 0)
		return INT64_MIN;
	return us;
}

/* A string field of an annotation into *@ret (NULL when absent or empty).  @return 0, -ENOMEM. */
static int note_str(const json_t *entry, const char *key, char **ret)
{
	const json_t *v = json_object_get(entry, key);

	*ret = NULL;
	if (!json_is_string(v) || !json_string_length(v))
		return 0;
	*ret = strdup(json_string_value(v));
	return *ret ? 0 : -ENOMEM;
}

int srv__note_parse(const json_t *entry, struct srv_note *ret)
{
	const char *type = json_string_value(json_object_get(entry, "type"));
	const char *kind = json_string_value(json_object_get(entry, "kind"));
	struct srv_note n = { 0 };
	const json_t *list, *v;
	size_t i;
	int r = 0;

	if (!type || strcmp(type, "annotation") || !kind)
		return -EBADMSG;
	for (unsigned k = 1; k < sizeof(note_kinds) / sizeof(note_kinds[0]); k++)
		if (!strcmp(kind, note_kinds[k]))
			n.kind = (uint8_t)k;
	if (!n.kind)
		return -EBADMSG;
	list = json_object_get(entry, "entries");
	v = json_object_get(entry, "entry");
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		n.entries = malloc(sizeof(*n.entries));
		if (!n.entries)
			return -ENOMEM;
		n.entries[n.nentries++] = (uint64_t)json_integer_value(v);
	} else if (json_is_array(list) && json_array_size(list)) {
		n.entries = malloc(json_array_size(list) * sizeof(*n.entries));
		if (!n.entries)
			return -ENOMEM;
		json_array_foreach(list, i, v) {
			uint64_t idx;
			bool seen = false;

			if (!json_is_integer(v) || json_integer_value(v) < 0)
				continue;
			idx = (uint64_t)json_integer_value(v);
			for (uint32_t j = 0; j < n.nentries && !seen; j++)
				seen = n.entries[j] == idx;
			if (!seen)
				n.entries[n.nentries++] = idx;
		}
	}
	n.from_us = time_or_unknown(json_object_get(entry, "from"));
	n.to_us = time_or_unknown(json_object_get(entry, "to"));
	n.at_us = time_or_unknown(json_object_get(entry, "at"));
	n.expires_us = time_or_unknown(json_object_get(entry, "expires"));
	n.returned_us = time_or_unknown(json_object_get(entry, "returned_at"));
	if (r == 0)
		r = note_str(entry, "device", &n.device);
	if (r == 0)
		r = note_str(entry, "officer", &n.officer);
	if (r == 0)
		r = note_str(entry, "case", &n.case_id);
	if (r == 0)
		r = note_str(entry, "grantee", &n.grantee);
	if (r == 0)
		r = note_str(entry, "purpose", &n.purpose);
	if (r == 0)
		r = note_str(entry, n.kind == SRV_NOTE_DAMAGE_REPORT ? "explanation" : "reason",
			     &n.reason);
	if (r == 0)
		r = note_str(entry, "by", &n.by);
	if (r < 0) {
		srv__note_done(&n);
		return r;
	}
	*ret = n;
	return 0;
}

/* ---- cases and their reviews ----------------------------------------------------------- */

static size_t case_pos(const struct srv_index *x, uint32_t id)
{
	return LOWER_BOUND(x->ncases, mid, x->cases[mid].id < id);
}

/* A case annotation names @case_id: remember it, so that its reviews are noticed. */
static int case_seen(struct srv_index *x, const char *case_id)
{
	int r = 0;
	uint32_t id = str_intern(x, case_id, &r);
	size_t pos;

	if (r < 0 || !id)
		return r;
	pos = case_pos(x, id);
	if (pos < x->ncases && x->cases[pos].id == id)
		return 0;
	if (srv__grow((void **)&x->cases, &x->capcases, x->ncases + 1, sizeof(*x->cases)) < 0)
		return -ENOMEM;
	memmove(&x->cases[pos + 1], &x->cases[pos], (x->ncases - pos) * sizeof(*x->cases));
	x->cases[pos] = (struct srv_case_seen){ .id = id, .reviewed_us = INT64_MIN };
	x->ncases++;
	return 0;
}

/* A review of @case_id was answered at @at_us.  Reviews of an id no case annotation names
 * (not_found, also recorded) are not kept: anyone with the socket can ask for any id. */
static void case_reviewed(struct srv_index *x, const char *case_id, int64_t at_us)
{
	uint32_t id = srv__index_str_find(x, case_id);
	size_t pos = id ? case_pos(x, id) : x->ncases;

	if (pos < x->ncases && x->cases[pos].id == id && at_us > x->cases[pos].reviewed_us)
		x->cases[pos].reviewed_us = at_us;
}

int64_t srv__index_last_review(const struct srv_index *x, const char *case_id)
{
	uint32_t id = srv__index_str_find(x, case_id);
	size_t pos = id ? case_pos(x, id) : x->ncases;

	return pos < x->ncases && x->cases[pos].id == id ? x->cases[pos].reviewed_us : INT64_MIN;
}

static size_t note_pos(const struct srv_index *x, uint64_t index)
{
	return LOWER_BOUND(x->nnotes, mid, x->notes[mid].index < index);
}

const struct srv_note *srv__index_note(const struct srv_index *x, uint64_t index)
{
	size_t i = note_pos(x, index);

	return i < x->nnotes && x->notes[i].index == index ? &x->notes[i] : NULL;
}

int srv__index_add_note(struct srv_index *x, uint64_t index, struct srv_note *n)
{
	size_t pos = note_pos(x, index);

	if (pos < x->nnotes && x->notes[pos].index == index) {
		srv__note_done(n);
		return 0;
	}
	if (srv__grow((void **)&x->notes, &x->capnotes, x->nnotes + 1, sizeof(*x->notes)) < 0 ||
	    (n->kind == SRV_NOTE_CASE && n->case_id && case_seen(x, n->case_id) < 0)) {
		srv__note_done(n);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n->nentries; i++)
		if (claim_put(x, SRV_CLAIM_NOTE, &n->entries[i], sizeof(n->entries[i]), index) <
		    0) {
			srv__note_done(n);
			return -ENOMEM;
		}
	memmove(&x->notes[pos + 1], &x->notes[pos], (x->nnotes - pos) * sizeof(*x->notes));
	x->notes[pos] = *n;
	x->notes[pos].index = index;
	x->nnotes++;
	*n = (struct srv_note){ 0 };
	return 0;
}

static bool note_names(const struct srv_note *n, uint64_t entry)
{
	for (uint32_t i = 0; i < n->nentries; i++)
		if (n->entries[i] == entry)
			return true;
	return false;
}

static bool same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static int cmp_note_ptr(const void *a, const void *b)
{
	const struct srv_note *x = *(const struct srv_note *const *)a;
	const struct srv_note *y = *(const struct srv_note *const *)b;

	return x->index < y->index ? -1 : x->index > y->index;
}

size_t srv__index_concerning(const struct srv_index *x, uint64_t entry_index, const char *device,
			     const char *officer, int64_t start_us, int64_t end_us,
			     int64_t margin_us, const struct srv_note **ret, size_t max)
{
	uint64_t cand[256];
	size_t n = 0, nc;

	nc = srv__index_claims(x, SRV_CLAIM_NOTE, &entry_index, sizeof(entry_index), cand, 256);
	for (size_t i = 0; i < nc && n < max; i++) {
		const struct srv_note *note = srv__index_note(x, cand[i]);

		if (note && note_names(note, entry_index))
			ret[n++] = note;
	}
	/* Interruptions and remote duty name a device or an officer and a time span.  They are
	 * few, so a pass over the notes is fine. */
	for (size_t i = 0; i < x->nnotes && n < max; i++) {
		const struct srv_note *note = &x->notes[i];

		if (note->kind != SRV_NOTE_INTERRUPTION && note->kind != SRV_NOTE_REMOTE_DUTY)
			continue;
		if (!same(note->device, device) && !same(note->officer, officer))
			continue;
		if (start_us == INT64_MIN || note->from_us == INT64_MIN || note->to_us == INT64_MIN)
			continue;
		if (end_us == INT64_MIN)
			end_us = start_us;
		if (note->from_us <= end_us + margin_us && note->to_us >= start_us - margin_us)
			ret[n++] = note;
	}
	qsort(ret, n, sizeof(*ret), cmp_note_ptr);
	return n;
}

/* ---- ingest entries ---------------------------------------------------------------------- */

const char *srv__basename(const char *name)
{
	const char *slash = strrchr(name, '/');

	return slash ? slash + 1 : name;
}

size_t srv__tags_key(const json_t *tags, char *buf, size_t cap)
{
	static const char *const keys[] = { "creation_time", "make", "model", "serial" };
	size_t o = 0;

	if (!json_is_string(json_object_get(tags, "creation_time")))
		return 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = json_string_value(json_object_get(tags, keys[i]));
		size_t n = v ? strlen(v) : 0;

		if (o + n + 1 > cap)
			return 0;
		memcpy(buf + o, v ? v : "", n);
		o += n;
		buf[o++] = '\0';
	}
	return o;
}

ssize_t srv__index_clip_pos(const struct srv_index *x, uint64_t index)
{
	size_t lo = LOWER_BOUND(x->nclips, mid, x->clips[mid].index < index);

	return lo < x->nclips && x->clips[lo].index == index ? (ssize_t)lo : -1;
}

const struct srv_clip *srv__index_clip(const struct srv_index *x, uint64_t index)
{
	ssize_t pos = srv__index_clip_pos(x, index);

	return pos < 0 ? NULL : &x->clips[pos];
}

static int64_t int_or_unknown(const json_t *v)
{
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : INT64_MIN;
}

static int add_clip(struct srv_index *x, uint64_t index, const json_t *o, bool damaged)
{
	const char *sha = json_string_value(json_object_get(o, "sha256"));
	const json_t *size = json_object_get(o, "size");
	struct srv_clip c = {
		.index = index,
		.start_us = time_or_unknown(json_object_get(o, "recorded_start")),
		.end_us = time_or_unknown(json_object_get(o, "recorded_end")),
		.duration_us = int_or_unknown(json_object_get(o, "duration_us")),
		.ingested_us = time_or_unknown(json_object_get(o, "ingested_at")),
		.deadline_us = time_or_unknown(json_object_get(o, "deadline")),
		.size = json_is_integer(size) && json_integer_value(size) > 0
			    ? (uint64_t)json_integer_value(size)
			    : 0,
		.storage =
		    (uint8_t)rules_storage_parse(json_string_value(json_object_get(o, "storage"))),
		.damaged = damaged,
		.future = json_is_true(json_object_get(o, "time_in_future")),
	};
	int r = 0;

	/* Entries arrive in index order, except annotations added ahead of the scan: a clip
	 * never is, so appending keeps the table sorted. */
	if (x->nclips && x->clips[x->nclips - 1].index >= index)
		return 0;
	c.device = str_intern(x, json_string_value(json_object_get(o, "device")), &r);
	c.officer = str_intern(x, json_string_value(json_object_get(o, "officer")), &r);
	c.zone = str_intern(x, json_string_value(json_object_get(o, "zone")), &r);
	if (r < 0)
		return r;
	if (sha && hex_decode(sha, c.sha256, 32) == 0)
		r = claim_put(x, SRV_CLAIM_SHA, c.sha256, sizeof(c.sha256), index);
	if (r < 0)
		return r;
	if (srv__grow((void **)&x->clips, &x->capclips, x->nclips + 1, sizeof(*x->clips)) < 0)
		return -ENOMEM;
	x->clips[x->nclips++] = c;
	return 0;
}

static int index_ingest(struct srv_index *x, uint64_t index, const json_t *o, bool damaged)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *device = json_string_value(json_object_get(o, "device"));
	const char *start = json_string_value(json_object_get(o, "recorded_start"));
	const char *storage = json_string_value(json_object_get(o, "storage"));
	char key[1024];
	size_t n;
	int r = 0;

	x->ingests++;
	if (name && *srv__basename(name))
		r = claim_put(x, SRV_CLAIM_NAME, srv__basename(name), strlen(srv__basename(name)),
			      index);
	if (r == 0 && device && start && strlen(device) + strlen(start) + 2 <= sizeof(key)) {
		n = (size_t)snprintf(key, sizeof(key), "%s%c%s", device, 0, start);
		r = claim_put(x, SRV_CLAIM_DEVTIME, key, n, index);
	}
	if (r == 0 && (n = srv__tags_key(json_object_get(o, "tags"), key, sizeof(key))))
		r = claim_put(x, SRV_CLAIM_TAGS, key, n, index);
	if (r == 0)
		r = add_clip(x, index, o, damaged);
	if (r < 0)
		return r;
	if (storage && (!strcmp(storage, "late") || !strcmp(storage, "unknown_time"))) {
		if (srv__grow((void **)&x->open_storage, &x->capopen, x->nopen + 1,
			      sizeof(*x->open_storage)) < 0)
			return -ENOMEM;
		/* Same capacity for the flags: grow them alongside. */
		uint8_t *late = realloc(x->open_storage_late, x->capopen);

		if (!late)
			return -ENOMEM;
		x->open_storage_late = late;
		x->open_storage[x->nopen] = index;
		x->open_storage_late[x->nopen++] = !strcmp(storage, "late");
	}
	if (damaged) {
		if (srv__grow((void **)&x->damaged, &x->capdamaged, x->ndamaged + 1,
			      sizeof(*x->damaged)) < 0)
			return -ENOMEM;
		x->damaged[x->ndamaged++] = index;
	}
	return 0;
}

/* ---- access and purge entries ------------------------------------------------------------ */

static int count_day(struct srv_index *x, int32_t day, bool allowed, bool copy_out)
{
	size_t lo, n = x->naccess_days;
	struct srv_access_day *d;

	/* Nearly always today, the last one. */
	if (n && x->access_days[n - 1].day == day) {
		lo = n - 1;
	} else {
		lo = LOWER_BOUND(n, mid, x->access_days[mid].day < day);
		if (lo == x->naccess_days || x->access_days[lo].day != day) {
			if (srv__grow((void **)&x->access_days, &x->capaccess_days,
				      x->naccess_days + 1, sizeof(*x->access_days)) < 0)
				return -ENOMEM;
			memmove(&x->access_days[lo + 1], &x->access_days[lo],
				(x->naccess_days - lo) * sizeof(*x->access_days));
			x->access_days[lo] = (struct srv_access_day){ .day = day };
			x->naccess_days++;
		}
	}
	d = &x->access_days[lo];
	if (!allowed) {
		d->refused++;
	} else {
		d->accesses++;
		if (copy_out)
			d->copy_outs++;
	}
	return 0;
}

struct access_info {
	uint32_t index, at_s, by, op;
	int32_t day; /* UTC, of "at" */
	bool allowed;
	bool copied; /* a copy-out that handed the original over ("result":"copied") */
};

static int cmp_tally_key(const struct srv_access_tally *t, int32_t day, uint32_t device,
			 uint32_t officer)
{
	if (t->day != day)
		return t->day < day ? -1 : 1;
	if (t->device != device)
		return t->device < device ? -1 : 1;
	return t->officer < officer ? -1 : t->officer > officer;
}

/* Count @a, which named a clip of @device and @officer, in the report's tallies. */
static int tally(struct srv_index *x, const struct access_info *a, uint32_t device,
		 uint32_t officer)
{
	struct srv_access_tally *t;
	size_t lo;

	if (x->tally_hint < x->ntallies &&
	    !cmp_tally_key(&x->tallies[x->tally_hint], a->day, device, officer)) {
		lo = x->tally_hint;
	} else {
		lo = LOWER_BOUND(x->ntallies, mid,
				 cmp_tally_key(&x->tallies[mid], a->day, device, officer) < 0);
		if (lo == x->ntallies || cmp_tally_key(&x->tallies[lo], a->day, device, officer)) {
			/* Mostly today's, near the end: the move is short. */
			if (srv__grow((void **)&x->tallies, &x->captallies, x->ntallies + 1,
				      sizeof(*x->tallies)) < 0)
				return -ENOMEM;
			memmove(&x->tallies[lo + 1], &x->tallies[lo],
				(x->ntallies - lo) * sizeof(*x->tallies));
			x->tallies[lo] = (struct srv_access_tally){ .day = a->day,
								    .device = device,
								    .officer = officer };
			x->ntallies++;
		}
	}
	x->tally_hint = lo;
	t = &x->tallies[lo];
	if (!a->allowed) {
		t->refused++;
	} else {
		t->accesses++;
		if (a->copied)
			t->copy_outs++;
	}
	return 0;
}

static enum srv_ref_kind ref_kind(bool allowed, bool copied)
{
	return !allowed ? SRV_REF_REFUSED : copied ? SRV_REF_COPIED : SRV_REF_READ;
}

/* Drop the dead refs, keeping the live ones in log order, and chain them again: they are
 * mostly dead when reads flood a few clips, so this is rare and its cost is repaid.  Only the
 * clips that live refs name are touched (a dead ref is in no chain, so a clip without live
 * refs has empty chains already): not the whole clip table. */
static void compact_refs(struct srv_index *x)
{
	size_t n = 0;

	for (size_t i = 0; i < x->naccess_refs; i++) {
		const struct srv_access_ref *r = &x->access_refs[i];

		if (r->clip != UINT32_MAX)
			memset(x->clips[r->clip].refs, 0, sizeof(x->clips[r->clip].refs));
	}
	for (size_t i = 0; i < x->naccess_refs; i++) {
		struct srv_access_ref *r = &x->access_refs[i];
		unsigned kind;
		struct srv_clip *c;

		if (r->clip == UINT32_MAX)
			continue;
		x->access_refs[n] = *r;
		r = &x->access_refs[n++];
		c = &x->clips[r->clip];
		kind = ref_kind(r->allowed, r->copied);
		r->newer = 0;
		if (c->refs[kind].last)
			x->access_refs[c->refs[kind].last - 1].newer = (uint32_t)n;
		else
			c->refs[kind].first = (uint32_t)n;
		c->refs[kind].last = (uint32_t)n;
	}
	x->naccess_refs = n;
	x->dead_refs = 0;
}

/* Index that access @a named the clip of entry @entry.  All or nothing, so that an entry
 * indexed again after a failure (srv__index_step() does not pass it) is not counted twice:
 * the check below then finds the ref already there. */
static int access_ref(struct srv_index *x, const struct access_info *a, uint64_t entry)
{
	static const unsigned cap[SRV_REF_COPIED] = { SRV_CLIP_READS_MAX, SRV_CLIP_REFUSED_MAX };
	ssize_t pos = srv__index_clip_pos(x, entry);
	enum srv_ref_kind kind = ref_kind(a->allowed, a->copied);
	struct srv_clip *c;
	int r;

	if (pos < 0)
		return 0;
	c = &x->clips[pos];
	/* The target and the "entries" list often name the same clip: once per access. */
	if (c->refs[kind].last && x->access_refs[c->refs[kind].last - 1].access == a->index)
		return 0;
	if (x->dead_refs > 65536 && x->dead_refs > x->naccess_refs / 2)
		compact_refs(x);
	if (x->naccess_refs >= UINT32_MAX - 1) {
		x->skipped++;
		return 0;
	}
	if (srv__grow((void **)&x->access_refs, &x->capaccess_refs, x->naccess_refs + 1,
		      sizeof(*x->access_refs)) < 0)
		return -ENOMEM;
	r = tally(x, a, c->device, c->officer);
	if (r < 0)
		return r;
	/* Nothing fails from here on. */
	if (c->accesses < UINT32_MAX)
		c->accesses++;
	if (kind != SRV_REF_COPIED && c->kept[kind] == cap[kind]) {
		struct srv_access_ref *oldest = &x->access_refs[c->refs[kind].first - 1];

		c->refs[kind].first = oldest->newer;
		oldest->clip = UINT32_MAX;
		x->dead_refs++;
	} else if (kind != SRV_REF_COPIED) {
		c->kept[kind]++;
	}
	x->access_refs[x->naccess_refs++] = (struct srv_access_ref){
		.access = a->index,
		.clip = (uint32_t)pos,
		.at_s = a->at_s,
		.by = a->by,
		.op = a->op,
		.allowed = a->allowed,
		.copied = a->copied,
	};
	if (c->refs[kind].first)
		x->access_refs[c->refs[kind].last - 1].newer = (uint32_t)x->naccess_refs;
	else
		c->refs[kind].first = (uint32_t)x->naccess_refs;
	c->refs[kind].last = (uint32_t)x->naccess_refs;
	return 0;
}

static int index_access(struct srv_index *x, uint64_t index, const json_t *o)
{
	const char *op = json_string_value(json_object_get(o, "op"));
	const json_t *target = json_object_get(o, "target");
	const json_t *list = json_object_get(o, "entries"), *v;
	int64_t at = time_or_unknown(json_object_get(o, "at"));
	struct access_info a = {
		.index = (uint32_t)index,
		.allowed = !json_is_false(json_object_get(o, "allowed")),
	};
	int r = 0;
	size_t i;

	if (at == INT64_MIN || index >= UINT32_MAX) {
		x->skipped++;
		return 0;
	}
	/* A copy-out counts when the original was handed over ("result":"copied"), not when
	 * it was allowed but not there (purged, missing) or the client went away: in the
	 * day's totals and in each ref, for the per-device and per-officer rows. */
	a.copied = a.allowed && op && !strcmp(op, "copy-out") &&
		   !strcmp(json_string_value(json_object_get(o, "result")) ?: "", "copied");
	a.day = (int32_t)(at >= 0 ? at / 86400000000LL : -((-at + 86399999999LL) / 86400000000LL));
	a.at_s = at < 0 ? 0 : at / 1000000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(at / 1000000);
	a.by = str_intern(x, json_string_value(json_object_get(o, "by")), &r);
	a.op = str_intern(x, op, &r);
	if (r < 0)
		return r;
	if (json_is_integer(target) && json_integer_value(target) >= 0) {
		r = access_ref(x, &a, (uint64_t)json_integer_value(target));
	} else if (json_is_string(target) && !strncmp(json_string_value(target), "sha256:", 7)) {
		uint8_t sha[32];
		uint64_t cand[8];
		size_t n = 0;

		if (hex_decode(json_string_value(target) + 7, sha, 32) == 0)
			n = srv__index_claims(x, SRV_CLAIM_SHA, sha, sizeof(sha), cand, 8);
		for (size_t k = 0; k < n && r == 0; k++) {
			const struct srv_clip *c = srv__index_clip(x, cand[k]);

			if (c && !memcmp(c->sha256, sha, sizeof(sha)))
				r = access_ref(x, &a, cand[k]);
		}
	}
	json_array_foreach(list, i, v) {
		if (r < 0)
			break;
		if (json_is_integer(v) && json_integer_value(v) >= 0)
			r = access_ref(x, &a, (uint64_t)json_integer_value(v));
	}
	/* A review answered (an abandoned one has a "result"): for `cases`' last_review.  Done
	 * again when the entry is indexed again after a failure: it only keeps the newest. */
	if (r == 0 && a.allowed && op && !strcmp(op, "review") && json_is_string(target) &&
	    !json_object_get(o, "result"))
		case_reviewed(x, json_string_value(target), at);
	/* Last: an entry indexed again after a failure finds its refs there already (one per
	 * clip), and its day is counted once. */
	return r < 0 ? r : count_day(x, a.day, a.allowed, a.copied);
}

int srv__index_own_access(struct srv_index *x, uint64_t index, const json_t *entry)
{
	int r;

	/* Only when the scan stands exactly there: everything before is indexed (the clips it
	 * names among them), and the scan will not read it again.  Otherwise the scan reads it
	 * from the log as any other entry. */
	if (index != x->scanned || !x->caught_up)
		return 0;
	r = index_access(x, index, entry);
	/* On failure the scan reads it from the log again: indexing an access is idempotent
	 * (access_ref() finds its refs there, the day is counted last). */
	if (r == 0)
		x->scanned++;
	return r;
}

static void index_purge(struct srv_index *x, const json_t *o)
{
	const json_t *v = json_object_get(o, "entry");
	ssize_t pos;

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return;
	pos = srv__index_clip_pos(x, (uint64_t)json_integer_value(v));
	if (pos >= 0)
		x->clips[pos].purged = true;
}

int srv__index_entry(struct srv_index *x, uint64_t index, const char *bytes, size_t len)
{
	json_t *o;
	const char *type;
	int r = 0;

	if (!memmem(bytes, len, "\"type\":\"ingest\"", 15) &&
	    !memmem(bytes, len, "\"type\":\"damaged\"", 16) &&
	    !memmem(bytes, len, "\"type\":\"annotation\"", 19) &&
	    !memmem(bytes, len, "\"type\":\"access\"", 15) &&
	    !memmem(bytes, len, "\"type\":\"purge\"", 14) &&
	    !memmem(bytes, len, "\"type\":\"duplicate\"", 18) &&
	    !memmem(bytes, len, "\"type\":\"scrub\"", 14))
		return 0;
	o = json_loadb(bytes, len, 0, NULL);
	type = json_string_value(json_object_get(o, "type"));
	if (!type) {
		x->skipped++;
	} else if (!strcmp(type, "ingest") || !strcmp(type, "damaged")) {
		r = index_ingest(x, index, o, !strcmp(type, "damaged"));
	} else if (!strcmp(type, "access")) {
		r = index_access(x, index, o);
	} else if (!strcmp(type, "purge")) {
		index_purge(x, o);
		r = srv__trail_entry(x, index, type, o);
	} else if (!strcmp(type, "duplicate") || !strcmp(type, "scrub")) {
		r = srv__trail_entry(x, index, type, o);
	} else if (!strcmp(type, "annotation")) {
		struct srv_note n;

		r = srv__note_parse(o, &n);
		if (r == 0)
			r = srv__index_add_note(x, index, &n);
		else if (r == -EBADMSG)
			r = 0, x->skipped++;
	}
	json_decref(o);
	return r;
}

int srv__index_step(struct srv_index *x, struct tlog *log, uint64_t deadline_ns,
		    struct err_detail *reterr)
{
	uint64_t size;
	unsigned n = 0;
	int r;

	r = tlog_size(log, &size, reterr);
	if (r < 0)
		return r;
	while (x->scanned < size) {
		char *bytes;
		size_t len;

		r = tlog_entry(log, x->scanned, &bytes, &len, reterr);
		if (r < 0)
			return r;
		r = srv__index_entry(x, x->scanned, bytes, len);
		free(bytes);
		if (r < 0)
			return err_set(reterr, r, "out of memory for the index of the log");
		x->scanned++;
		if ((++n & 63) == 0 && uv_hrtime() >= deadline_ns)
			break;
	}
	if (x->scanned < size)
		return 1;
	x->caught_up = true;
	return 0;
}

static bool explained(const struct srv_index *x, uint64_t entry, uint8_t kind)
{
	uint64_t cand[64];
	size_t n = srv__index_claims(x, SRV_CLAIM_NOTE, &entry, sizeof(entry), cand, 64);

	for (size_t i = 0; i < n; i++) {
		const struct srv_note *note = srv__index_note(x, cand[i]);

		if (note && note->kind == kind && note_names(note, entry))
			return true;
	}
	return false;
}

/* The remote_duty declarations of the index as a rules book (NULL when there are none, or
 * when out of memory: then late clips are counted as logged).  @ret_notes is the caller's to
 * free with the book. */
static struct rules_book *duty_book(const struct srv_index *x, int64_t storage_deadline_us,
				    struct rules_note **ret_notes)
{
	struct rules_params params = { .storage_deadline_us = storage_deadline_us };
	struct rules_note *notes = NULL;
	struct rules_book *book = NULL;
	size_t n = 0;

	*ret_notes = NULL;
	for (size_t i = 0; i < x->nnotes; i++) {
		const struct srv_note *note = &x->notes[i];

		if (note->kind != SRV_NOTE_REMOTE_DUTY)
			continue;
		if (!notes && !(notes = malloc(x->nnotes * sizeof(*notes))))
			return NULL;
		notes[n++] = (struct rules_note){
			.index = note->index,
			.kind = RULES_REMOTE_DUTY,
			.device = note->device,
			.officer = note->officer,
			.from_us = note->from_us,
			.to_us = note->to_us,
			.returned_us = note->returned_us,
			.at_us = note->at_us,
		};
	}
	if (n && rules_book_new(&params, notes, n, &book) < 0)
		book = NULL;
	if (!book)
		free(notes);
	else
		*ret_notes = notes;
	return book;
}

/* Whether a remote_duty declaration of @book reclassifies the late clip @entry as
 * on_time_remote, as rules_clip_status() decides it (so that `status` and `report --open`
 * agree). */
static bool remote_duty_reclassifies(const struct srv_index *x, const struct rules_book *book,
				     uint64_t entry)
{
	const struct srv_clip *c = srv__index_clip(x, entry);
	struct rules_status st;
	struct rules_clip rc;

	if (!c || !book)
		return false;
	rc = (struct rules_clip){
		.index = c->index,
		.device = srv__index_str(x, c->device),
		.officer = srv__index_str(x, c->officer),
		.start_us = c->start_us,
		.end_us = c->end_us,
		.duration_us = c->duration_us,
		.ingested_us = c->ingested_us,
		.deadline_us = c->deadline_us,
		.storage = c->storage,
		.damaged = c->damaged,
		.future = c->future,
	};
	rules_clip_status(book, &rc, &st);
	return st.storage_now == RULES_ON_TIME_REMOTE;
}

void srv__index_open(const struct srv_index *x, int64_t storage_deadline_us, uint64_t *ret_late,
		     uint64_t *ret_unknown, uint64_t *ret_damaged)
{
	uint64_t late = 0, unknown = 0, damaged = 0;
	struct rules_note *duties = NULL;
	struct rules_book *book = NULL;
	bool built = false;

	for (size_t i = 0; i < x->nopen; i++) {
		if (explained(x, x->open_storage[i], SRV_NOTE_LATE_STORAGE))
			continue;
		if (!x->open_storage_late[i]) {
			unknown++;
			continue;
		}
		if (!built) { /* only when a late clip is still open: usually none is */
			book = duty_book(x, storage_deadline_us, &duties);
			built = true;
		}
		if (!remote_duty_reclassifies(x, book, x->open_storage[i]))
			late++;
	}
	rules_book_free(book);
	free(duties);
	for (size_t i = 0; i < x->ndamaged; i++)
		if (!explained(x, x->damaged[i], SRV_NOTE_DAMAGE_REPORT))
			damaged++;
	*ret_late = late;
	*ret_unknown = unknown;
	*ret_damaged = damaged;
}

bool srv__index_explained(const struct srv_index *x, uint64_t entry, uint8_t kind)
{
	return explained(x, entry, kind);
}
