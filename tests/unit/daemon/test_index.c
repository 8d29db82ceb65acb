/* test_index.c: the rules' part of daemon/server/index.c: the clip table (fields, interned
 * strings, lookups, purge), annotations with every field the rules read (and hold), access
 * refs (by target index, by "sha256:HEX", by "entries", once per access, chained per clip, and
 * whether a copy-out handed the original over), the per-day access counters, and the rule of
 * a case bound by device and time (srv__case_span_binds()).  Entries are fed with
 * srv__index_entry(), as the scan does; no server is needed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/hex.h"
#include "base/hex.h"
#include "ingest/tz.h"
#include "ingest/rectime.h"
#include "rules/rules.h"
#include "daemon/server/internal.h"

#define SHA_A "aa00000000000000000000000000000000000000000000000000000000000001"
#define SHA_B "bb00000000000000000000000000000000000000000000000000000000000002"

static void feed(struct srv_index *x, uint64_t index, const char *json)
{
	assert_int_equal(srv__index_entry(x, index, json, strlen(json)), 0);
}

static void feed_all(struct srv_index *x)
{
	feed(
	    x, 0,
	    "{\"deadline\":\"2026-11-21T08:10:00Z\",\"device\":\"CAM1\",\"duration_us\":600000000,"
	    "\"ingested_at\":\"2026-11-20T09:00:00Z\",\"name\":\"a.mp4\",\"officer\":\"OFF7\","
	    "\"recorded_end\":\"2026-11-20T08:10:00Z\",\"recorded_start\":\"2026-11-20T08:00:00Z\","
	    "\"sha256\":\"" SHA_A "\",\"size\":1234,\"storage\":\"on_time\",\"type\":\"ingest\","
	    "\"v\":1,\"zone\":\"dock\"}");
	feed(x, 1,
	     "{\"at\":\"2026-11-20T10:00:00Z\",\"by\":\"alice(uid 1001)\",\"op\":\"verify\","
	     "\"target\":\"sha256:" SHA_A "\",\"allowed\":true,\"type\":\"access\",\"v\":1}");
	feed(x, 2,
	     "{\"device\":null,\"duration_us\":null,\"error\":\"moov atom not found\","
	     "\"ingested_at\":\"2026-11-20T11:00:00Z\",\"name\":\"b.mp4\",\"officer\":null,"
	     "\"recorded_end\":null,\"recorded_start\":null,\"sha256\":\"" SHA_B "\",\"size\":9,"
	     "\"storage\":\"unknown_time\",\"type\":\"damaged\",\"v\":1,\"zone\":\"dock\"}");
	/* The target and the list name clip 0: one ref.  Entry 1 is no clip: none. */
	feed(x, 3,
	     "{\"at\":\"2026-11-20T12:00:00Z\",\"by\":\"bob(uid 1002)\",\"entries\":[0,1,2],"
	     "\"op\":\"log\",\"target\":0,\"allowed\":true,\"type\":\"access\",\"v\":1}");
	feed(x, 4,
	     "{\"at\":\"2026-11-21T00:00:01Z\",\"by\":\"eve(uid 1003)\",\"op\":\"copy-out\","
	     "\"result\":\"refused\",\"target\":2,\"allowed\":false,\"type\":\"access\",\"v\":1}");
	feed(x, 5,
	     "{\"at\":\"2026-11-21T01:00:00Z\",\"by\":\"root(uid 0)\",\"op\":\"copy-out\","
	     "\"result\":\"copied\",\"target\":0,\"allowed\":true,\"type\":\"access\",\"v\":1}");
	feed(x, 6,
	     "{\"at\":\"2026-11-21T02:00:00Z\",\"by\":\"root(uid 0)\",\"device\":\"CAM1\","
	     "\"from\":\"2026-11-20T06:00:00Z\",\"kind\":\"remote_duty\",\"officer\":\"OFF7\","
	     "\"returned_at\":\"2026-11-20T20:00:00+08:00\",\"to\":\"2026-11-20T09:00:00Z\","
	     "\"type\":\"annotation\",\"v\":1}");
	feed(x, 7,
	     "{\"at\":\"2026-11-21T03:00:00Z\",\"by\":\"root(uid 0)\",\"entries\":[0,2],"
	     "\"kind\":\"hold\",\"reason\":\"litigation\",\"type\":\"annotation\",\"v\":1}");
	feed(x, 8,
	     "{\"at\":\"2026-11-21T04:00:00Z\",\"by\":\"root(uid 0)\",\"entry\":2,"
	     "\"explanation\":\"card pulled\",\"kind\":\"damage_report\",\"type\":\"annotation\","
	     "\"v\":1}");
	feed(x, 9,
	     "{\"approver\":\"ann(uid 1004)\",\"at\":\"2026-11-21T05:00:00Z\","
	     "\"by\":\"ann(uid 1004)\",\"entries\":[0],\"expires\":\"2026-12-01T00:00:00Z\","
	     "\"grantee\":\"eve\",\"kind\":\"approval\",\"purpose\":\"court\","
	     "\"type\":\"annotation\",\"v\":1}");
	feed(x, 10,
	     "{\"case\":\"C-1\",\"entries\":[0,2],\"kind\":\"case\",\"type\":\"annotation\","
	     "\"at\":\"2026-11-21T06:00:00Z\",\"by\":\"root(uid 0)\",\"v\":1}");
	feed(x, 11, "{\"at\":\"2026-11-22T00:00:00Z\",\"entry\":2,\"type\":\"purge\",\"v\":1}");
}

static void test_clips(void **state)
{
	struct srv_index x;
	const struct srv_clip *c;
	uint8_t sha[32];

	(void)state;
	assert_int_equal(srv__index_init(&x), 0);
	feed_all(&x);
	assert_int_equal(x.nclips, 2);
	assert_null(srv__index_clip(&x, 1));
	assert_int_equal(srv__index_clip_pos(&x, 2), 1);
	assert_int_equal(srv__index_clip_pos(&x, 99), -1);
	c = srv__index_clip(&x, 0);
	assert_non_null(c);
	assert_string_equal(srv__index_str(&x, c->device), "CAM1");
	assert_string_equal(srv__index_str(&x, c->officer), "OFF7");
	assert_string_equal(srv__index_str(&x, c->zone), "dock");
	assert_int_equal(c->device, srv__index_str_find(&x, "CAM1"));
	assert_int_equal(srv__index_str_find(&x, "CAM9"), 0);
	assert_int_equal(c->start_us, ing_civil_to_epoch(2026, 11, 20, 8, 0, 0) * 1000000);
	assert_int_equal(c->end_us, ing_civil_to_epoch(2026, 11, 20, 8, 10, 0) * 1000000);
	assert_int_equal(c->duration_us, 600000000);
	assert_int_equal(c->deadline_us, ing_civil_to_epoch(2026, 11, 21, 8, 10, 0) * 1000000);
	assert_int_equal(c->size, 1234);
	assert_int_equal(c->storage, RULES_ON_TIME);
	assert_int_equal(hex_decode(SHA_A, sha, 32), 0);
	assert_memory_equal(c->sha256, sha, 32);
	assert_false(c->damaged || c->future || c->purged);
	c = srv__index_clip(&x, 2);
	assert_true(c->damaged);
	assert_true(c->purged); /* entry 11 */
	assert_int_equal(c->device, 0);
	assert_null(srv__index_str(&x, c->device));
	assert_int_equal(c->start_us, INT64_MIN);
	assert_int_equal(c->duration_us, INT64_MIN);
	assert_int_equal(c->storage, RULES_UNKNOWN_TIME);
	srv__index_done(&x);
}

static void test_notes(void **state)
{
	const struct srv_note *n;
	struct srv_index x;

	(void)state;
	assert_int_equal(srv__index_init(&x), 0);
	feed_all(&x);
	n = srv__index_note(&x, 6);
	assert_int_equal(n->kind, SRV_NOTE_REMOTE_DUTY);
	assert_int_equal(n->returned_us, ing_civil_to_epoch(2026, 11, 20, 12, 0, 0) * 1000000);
	assert_int_equal(n->at_us, ing_civil_to_epoch(2026, 11, 21, 2, 0, 0) * 1000000);
	assert_string_equal(n->by, "root(uid 0)");
	n = srv__index_note(&x, 7);
	assert_int_equal(n->kind, SRV_NOTE_HOLD);
	assert_int_equal(n->nentries, 2);
	assert_string_equal(n->reason, "litigation");
	n = srv__index_note(&x, 8);
	assert_string_equal(n->reason, "card pulled"); /* a damage report's explanation */
	n = srv__index_note(&x, 9);
	assert_string_equal(n->grantee, "eve");
	assert_string_equal(n->purpose, "court");
	assert_int_equal(n->expires_us, ing_civil_to_epoch(2026, 12, 1, 0, 0, 0) * 1000000);
	n = srv__index_note(&x, 10);
	assert_string_equal(n->case_id, "C-1");
	assert_null(n->grantee);
	assert_int_equal(n->expires_us, INT64_MIN);
	assert_true(srv__index_explained(&x, 2, SRV_NOTE_DAMAGE_REPORT));
	srv__index_done(&x);
}

/* The refs of @clip's chain of @kind, oldest first, into @ret (their access indexes); checks
 * each names the clip and the chain's last.  @return their count. */
static size_t chain(const struct srv_index *x, uint64_t clip, unsigned kind, uint32_t *ret,
		    size_t max)
{
	const struct srv_clip *c = srv__index_clip(x, clip);
	const struct srv_access_ref *r = NULL;
	size_t n = 0;

	assert_non_null(c);
	for (uint32_t k = c->refs[kind].first; k; k = r->newer) {
		r = &x->access_refs[k - 1];
		assert_int_equal(r->clip, srv__index_clip_pos(x, clip));
		assert_true(n == 0 || r->access > ret[n - 1]);
		assert_true(n < max);
		ret[n++] = r->access;
		if (!r->newer)
			assert_int_equal(k, c->refs[kind].last);
	}
	if (!n)
		assert_int_equal(c->refs[kind].last, 0);
	return n;
}

static void test_accesses(void **state)
{
	const struct srv_access_ref *r;
	const struct srv_clip *c;
	struct srv_index x;
	uint32_t got[8];

	(void)state;
	assert_int_equal(srv__index_init(&x), 0);
	feed_all(&x);
	/* Clip 0: read by the verify by hash (1) and the log (3, once although named twice);
	 * copied out (5). */
	assert_int_equal(chain(&x, 0, SRV_REF_READ, got, 8), 2);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 3);
	assert_int_equal(chain(&x, 0, SRV_REF_COPIED, got, 8), 1);
	assert_int_equal(got[0], 5);
	assert_int_equal(chain(&x, 0, SRV_REF_REFUSED, got, 8), 0);
	c = srv__index_clip(&x, 0);
	assert_int_equal(c->accesses, 3);
	r = &x.access_refs[c->refs[SRV_REF_COPIED].last - 1];
	assert_string_equal(srv__index_str(&x, r->op), "copy-out");
	assert_string_equal(srv__index_str(&x, r->by), "root(uid 0)");
	assert_true(r->allowed);
	assert_true(r->copied); /* "result":"copied" */
	assert_int_equal(r->at_s, ing_civil_to_epoch(2026, 11, 21, 1, 0, 0));
	/* Clip 2: the log (3) and the refused copy-out (4). */
	assert_int_equal(chain(&x, 2, SRV_REF_READ, got, 8), 1);
	assert_int_equal(got[0], 3);
	assert_int_equal(chain(&x, 2, SRV_REF_REFUSED, got, 8), 1);
	assert_int_equal(got[0], 4);
	c = srv__index_clip(&x, 2);
	r = &x.access_refs[c->refs[SRV_REF_REFUSED].last - 1];
	assert_false(r->allowed);
	assert_false(r->copied); /* a refused copy-out */
	assert_int_equal(x.naccess_refs, 5);
	/* The report's tallies, per day and the clip's device and officer: CAM1/OFF7 on the
	 * 20th (1, 3) and the 21st (5, copied); the damaged clip's (no device, no officer): the
	 * 20th (3) and the 21st (4, refused). */
	assert_int_equal(x.ntallies, 4);
	assert_int_equal(x.tallies[0].day, ing_civil_to_epoch(2026, 11, 20, 0, 0, 0) / 86400);
	assert_int_equal(x.tallies[0].device, 0);
	assert_int_equal(x.tallies[0].accesses, 1);
	assert_string_equal(srv__index_str(&x, x.tallies[1].device), "CAM1");
	assert_string_equal(srv__index_str(&x, x.tallies[1].officer), "OFF7");
	assert_int_equal(x.tallies[1].accesses, 2);
	assert_int_equal(x.tallies[2].refused, 1);
	assert_int_equal(x.tallies[2].accesses, 0);
	assert_int_equal(x.tallies[3].accesses, 1);
	assert_int_equal(x.tallies[3].copy_outs, 1);
	/* Per day: the 20th two allowed; the 21st one refused, one allowed copy-out. */
	assert_int_equal(x.naccess_days, 2);
	assert_int_equal(x.access_days[0].day, ing_civil_to_epoch(2026, 11, 20, 0, 0, 0) / 86400);
	assert_int_equal(x.access_days[0].accesses, 2);
	assert_int_equal(x.access_days[0].refused, 0);
	assert_int_equal(x.access_days[1].accesses, 1);
	assert_int_equal(x.access_days[1].copy_outs, 1);
	assert_int_equal(x.access_days[1].refused, 1);
	/* A day out of order goes into its place. */
	feed(&x, 12,
	     "{\"at\":\"2026-11-19T23:00:00Z\",\"by\":\"x\",\"op\":\"entry\",\"target\":5,"
	     "\"allowed\":true,\"type\":\"access\",\"v\":1}");
	assert_int_equal(x.naccess_days, 3);
	assert_int_equal(x.access_days[0].day, ing_civil_to_epoch(2026, 11, 19, 0, 0, 0) / 86400);
	assert_int_equal(x.access_days[1].accesses, 2);
	/* An allowed copy-out that handed nothing over (the original was purged) is an access,
	 * not a copy: in the day's totals and in the tallies (they agree) and in the refs. */
	feed(&x, 13,
	     "{\"at\":\"2026-11-21T05:00:00Z\",\"by\":\"root(uid 0)\",\"op\":\"copy-out\","
	     "\"result\":\"purged\",\"target\":0,\"allowed\":true,\"type\":\"access\",\"v\":1}");
	assert_int_equal(x.access_days[2].accesses, 2);
	assert_int_equal(x.access_days[2].copy_outs, 1);
	assert_int_equal(x.tallies[3].accesses, 2);
	assert_int_equal(x.tallies[3].copy_outs, 1);
	assert_int_equal(chain(&x, 0, SRV_REF_READ, got, 8), 3);
	assert_int_equal(got[2], 13);
	/* Nor one whose client left before the descriptor was handed over, nor a copy-out
	 * "copied" but refused (a malformed entry: allowed is what counts first). */
	feed(&x, 14,
	     "{\"at\":\"2026-11-21T06:00:00Z\",\"by\":\"root(uid 0)\",\"op\":\"copy-out\","
	     "\"result\":\"abandoned\",\"target\":0,\"allowed\":true,\"type\":\"access\","
	     "\"v\":1}");
	feed(&x, 15,
	     "{\"at\":\"2026-11-21T07:00:00Z\",\"by\":\"eve(uid 1003)\",\"op\":\"copy-out\","
	     "\"result\":\"copied\",\"entries\":[0],\"allowed\":false,\"type\":\"access\","
	     "\"v\":1}");
	/* And "copied" only counts for a copy-out. */
	feed(&x, 16,
	     "{\"at\":\"2026-11-21T08:00:00Z\",\"by\":\"root(uid 0)\",\"op\":\"entry\","
	     "\"result\":\"copied\",\"target\":0,\"allowed\":true,\"type\":\"access\","
	     "\"v\":1}");
	assert_int_equal(chain(&x, 0, SRV_REF_COPIED, got, 8), 1);
	assert_int_equal(got[0], 5);
	assert_int_equal(chain(&x, 0, SRV_REF_READ, got, 8), 5);    /* 1, 3, 13, 14, 16 */
	assert_int_equal(chain(&x, 0, SRV_REF_REFUSED, got, 8), 1); /* 15 */
	assert_int_equal(x.access_days[2].copy_outs, 1);
	assert_int_equal(x.access_days[2].refused, 2);
	srv__index_done(&x);
}

/* Accesses that flood a few clips: each clip keeps its newest reads and refusals, in order,
 * and every copy-out, and counts them all; neither kind pushes out another; the refs let go
 * are compacted away; the tallies count every one. */
static void test_access_cap(void **state)
{
	enum { READS = 150000, REFUSALS = 1000 };
	static uint32_t got[SRV_CLIP_READS_MAX];
	uint64_t tallied = 0, i;
	struct srv_index x;
	size_t peak = 0;
	char json[256];

	(void)state;
	assert_int_equal(srv__index_init(&x), 0);
	feed_all(&x); /* 5 refs: clip 0 read by 1, 3, copied by 5; clip 2 read by 3, refused 4 */
	for (i = 100; i < 100 + READS; i++) {
		/* Clip 0 nine times in ten, clip 2 the tenth. */
		snprintf(json, sizeof(json),
			 "{\"at\":\"2026-11-2%dT10:00:00Z\",\"by\":\"alice\","
			 "\"op\":\"verify\",\"target\":%d,\"allowed\":true,\"type\":\"access\","
			 "\"v\":1}",
			 i < 100 + READS / 2 ? 2 : 3, i % 10 ? 0 : 2);
		feed(&x, i, json);
		peak = x.naccess_refs > peak ? x.naccess_refs : peak;
	}
	/* Then refusals of clip 0, which anyone can make: they push out refusals only. */
	for (; i < 100 + READS + REFUSALS; i++) {
		snprintf(json, sizeof(json),
			 "{\"at\":\"2026-11-24T10:00:00Z\",\"by\":\"mallory\","
			 "\"op\":\"entry\",\"target\":0,\"allowed\":false,\"type\":\"access\","
			 "\"v\":1}");
		feed(&x, i, json);
	}
	/* Compacted at least once: the array never held more than twice the refs kept, plus
	 * the 65,536 let go that wait for a compaction. */
	assert_true(peak <= 2 * (2 * SRV_CLIP_READS_MAX + 4) + 65536 + 1);
	assert_int_equal(x.naccess_refs - x.dead_refs,
			 2 * SRV_CLIP_READS_MAX + 1 + SRV_CLIP_REFUSED_MAX + 1);
	assert_int_equal(srv__index_clip(&x, 0)->accesses, 3 + READS - READS / 10 + REFUSALS);
	assert_int_equal(srv__index_clip(&x, 2)->accesses, 2 + READS / 10);
	/* The newest reads of each, ending with its last read. */
	assert_int_equal(chain(&x, 0, SRV_REF_READ, got, SRV_CLIP_READS_MAX), SRV_CLIP_READS_MAX);
	assert_int_equal(got[SRV_CLIP_READS_MAX - 1], 100 + READS - 1);
	assert_int_equal(chain(&x, 2, SRV_REF_READ, got, SRV_CLIP_READS_MAX), SRV_CLIP_READS_MAX);
	assert_int_equal(got[SRV_CLIP_READS_MAX - 1], 100 + READS - 10);
	/* The copy-out of clip 0 and the refusal of clip 2 from the start are still there. */
	assert_int_equal(chain(&x, 0, SRV_REF_COPIED, got, SRV_CLIP_READS_MAX), 1);
	assert_int_equal(got[0], 5);
	assert_int_equal(chain(&x, 2, SRV_REF_REFUSED, got, SRV_CLIP_READS_MAX), 1);
	assert_int_equal(got[0], 4);
	assert_int_equal(chain(&x, 0, SRV_REF_REFUSED, got, SRV_CLIP_READS_MAX),
			 SRV_CLIP_REFUSED_MAX);
	assert_int_equal(got[SRV_CLIP_REFUSED_MAX - 1], 100 + READS + REFUSALS - 1);
	for (size_t k = 0; k < x.ntallies; k++)
		tallied += x.tallies[k].accesses + x.tallies[k].refused;
	assert_int_equal(tallied, 5 + READS + REFUSALS);
	srv__index_done(&x);
}

/* The rule of a case bound by device and time (srv__case_span_binds()): the device's clips
 * with a trustworthy time whose recording overlaps the span, ends included. */
static void test_case_span(void **state)
{
	const int64_t h = 3600 * INT64_C(1000000);
	const int64_t t0 = ing_civil_to_epoch(2026, 11, 20, 8, 0, 0) * 1000000;
	struct srv_clip c = { .device = 7, .start_us = t0, .end_us = t0 + h };

	(void)state;
	assert_true(srv__case_span_binds(&c, 7, t0 - h, t0));		   /* touches its start */
	assert_true(srv__case_span_binds(&c, 7, t0 + h, t0 + 2 * h));	   /* touches its end */
	assert_true(srv__case_span_binds(&c, 7, t0 + 1, t0 + 2));	   /* inside */
	assert_true(srv__case_span_binds(&c, 7, t0 - h, t0 + 2 * h));	   /* around */
	assert_false(srv__case_span_binds(&c, 7, t0 - h, t0 - 1));	   /* before */
	assert_false(srv__case_span_binds(&c, 7, t0 + h + 1, t0 + 2 * h)); /* after */
	assert_false(srv__case_span_binds(&c, 8, t0, t0 + h));		   /* another device */
	assert_false(srv__case_span_binds(&c, 0, t0, t0 + h));		   /* no such device */
	c.end_us = INT64_MIN; /* the end unknown: the start stands for it */
	assert_true(srv__case_span_binds(&c, 7, t0, t0));
	assert_false(srv__case_span_binds(&c, 7, t0 + 1, t0 + h));
	c.end_us = t0 + h;
	c.future = true; /* a time in the future is not trustworthy */
	assert_false(srv__case_span_binds(&c, 7, t0, t0 + h));
	c.future = false;
	c.start_us = INT64_MIN; /* no time at all: bind it by its entry */
	assert_false(srv__case_span_binds(&c, 7, INT64_MIN + 1, INT64_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clips),	  cmocka_unit_test(test_notes),
		cmocka_unit_test(test_accesses),  cmocka_unit_test(test_access_cap),
		cmocka_unit_test(test_case_span),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
