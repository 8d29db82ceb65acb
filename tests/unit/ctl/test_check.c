/* Unit tests of custodyctl's checks of an answer (ctl/check.c) against a real log made here
 * (verify/tlog.c, its own signer and proofs, independent of the checks): a history whose every
 * proof is right verifies; each way a daemon could lie is caught: a checkpoint signed by
 * another key or of another size, an event whose entry differs by one field from what its
 * proof proves, a proof of another entry or against another checkpoint, a missing proof for an
 * entry the checkpoint covers, an arrival that is not the clip, no key at all. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/err.h"
#include "ctl/check.h"
#include "verify/entry.h"
#include "verify/note.h"
#include "verify/tlog.h"

#define NENTRIES 6

static const char *const entry_text[NENTRIES] = {
	"{\"v\":1,\"type\":\"ingest\",\"name\":\"CAM1_王小明_1.mp4\",\"zone\":\"dock\","
	"\"storage\":\"late\",\"sha256\":\"aa\",\"size\":10,\"ingested_at\":\"2026-12-01T01:00:"
	"00Z\"}",
	"{\"v\":1,\"type\":\"ingest\",\"name\":\"CAM1_2.mp4\",\"zone\":\"dock\","
	"\"storage\":\"on_time\",\"sha256\":\"bb\",\"size\":11,\"ingested_at\":\"2026-12-01T01:01:"
	"00Z\"}",
	"{\"v\":1,\"type\":\"annotation\",\"kind\":\"late_storage\",\"entry\":0,"
	"\"reason\":\"码头故障\",\"by\":\"dave(uid 1004)\",\"at\":\"2026-12-01T02:00:00Z\"}",
	"{\"v\":1,\"type\":\"access\",\"op\":\"copy-out\",\"by\":\"bob(uid "
	"1002)\",\"allowed\":false,"
	"\"result\":\"refused\",\"target\":0,\"at\":\"2026-12-01T03:00:00Z\"}",
	"{\"v\":1,\"type\":\"access\",\"op\":\"review\",\"by\":\"alice(uid "
	"1001)\",\"allowed\":true,"
	"\"target\":\"K\",\"entries\":[0,1],\"at\":\"2026-12-01T04:00:00Z\"}",
	/* Logged after the checkpoint: no proof yet. */
	"{\"v\":1,\"type\":\"access\",\"op\":\"history\",\"by\":\"alice(uid "
	"1001)\",\"allowed\":true,"
	"\"target\":0,\"entries\":[0],\"at\":\"2026-12-01T05:00:00Z\"}",
};

static char dir[64];
static struct vfy_verifier key, other_key;
static char *checkpoint;	   /* of size NENTRIES - 1 */
static char *proofs[NENTRIES - 1]; /* against it */
static char *old_proof;		   /* of entry 0 against the checkpoint of size 1 */

static void assert_ok(int r, const struct err_detail *e)
{
	if (r < 0)
		fail_msg("%d: %s", r, e->msg);
}

static int group_setup(void **state)
{
	struct vfy_signer *signer;
	struct tlog *log;
	struct err_detail e;
	char *skey, *vkey, *skey2, *vkey2, path[128];
	uint64_t first;
	size_t len;
	int signed_;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/custody-test-check.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_ok(vfy_keygen("office.example/custody", &skey, &vkey, &e), &e);
	assert_ok(vfy_keygen("office.example/custody", &skey2, &vkey2, &e), &e);
	assert_ok(vfy_verifier_parse(vkey, strlen(vkey), &key, &e), &e);
	assert_ok(vfy_verifier_parse(vkey2, strlen(vkey2), &other_key, &e), &e);
	snprintf(path, sizeof(path), "%s/log.key", dir);
	assert_ok(vfy_signer_write(path, skey, &e), &e);
	assert_ok(vfy_signer_parse(skey, strlen(skey), &signer, &e), &e);
	snprintf(path, sizeof(path), "%s/db", dir);
	{
		char key_path[128];

		snprintf(key_path, sizeof(key_path), "%s/log.key", dir);
		assert_ok(tlog_create(path, "office.example/custody", key_path, vkey, &e), &e);
	}
	assert_ok(tlog_open(path, TLOG_WRITE, &log, &e), &e);
	for (size_t i = 0; i < NENTRIES; i++) {
		char *canon;
		struct iovec iov;

		assert_ok(
		    vfy_entry_canonicalize(entry_text[i], strlen(entry_text[i]), &canon, &len, &e),
		    &e);
		iov = (struct iovec){ canon, len };
		assert_ok(tlog_append(log, &iov, 1, &first, &e), &e);
		free(canon);
		assert_int_equal(first, i);
		/* A checkpoint at size 1 (for old_proof) and at NENTRIES - 1. */
		if (i == 0 || i == NENTRIES - 2)
			assert_ok(tlog_checkpoint_sign(log, signer, &signed_, &e), &e);
	}
	assert_ok(tlog_checkpoint_get(log, NENTRIES - 1, &checkpoint, &len, NULL, &e), &e);
	for (size_t i = 0; i < NENTRIES - 1; i++)
		assert_ok(tlog_proof_file(log, i, NENTRIES - 1, &proofs[i], &len, &e), &e);
	assert_ok(tlog_proof_file(log, 0, 1, &old_proof, &len, &e), &e);
	tlog_free(log);
	vfy_signer_free(signer);
	vfy_secret_free(skey);
	vfy_secret_free(skey2);
	free(vkey);
	free(vkey2);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	free(checkpoint);
	free(old_proof);
	for (size_t i = 0; i < NENTRIES - 1; i++)
		free(proofs[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *const kinds[NENTRIES] = { "arrival", "arrival", "annotation",
					     "access",	"access",  "access" };

/* The history of entry 0 as an honest daemon answers it: events 0, 2, 3, 4, 5. */
static json_t *honest_history(void)
{
	static const size_t events[] = { 0, 2, 3, 4, 5 };
	json_t *h = json_pack("{s:i, s:s, s:s, s:i, s:s, s:o, s:s, s:[]}", "entry", 0, "as_of",
			      "2026-12-01T05:00:01Z", "requested_by", "alice(uid 1001)",
			      "checkpoint_size", NENTRIES - 1, "checkpoint", checkpoint, "clip",
			      json_loads(entry_text[0], 0, NULL), "storage_now", "late", "events");

	for (size_t k = 0; k < sizeof(events) / sizeof(events[0]); k++) {
		size_t i = events[k];

		json_array_append_new(
		    json_object_get(h, "events"),
		    json_pack("{s:i, s:s, s:s, s:o, s:o}", "index", (int)i, "kind", kinds[i], "at",
			      "2026-12-01T01:00:00Z", "entry", json_loads(entry_text[i], 0, NULL),
			      "proof", i < NENTRIES - 1 ? json_string(proofs[i]) : json_null()));
	}
	return h;
}

static json_t *event(json_t *h, size_t k)
{
	return json_array_get(json_object_get(h, "events"), k);
}

static const char *event_proof(json_t *h, size_t k)
{
	return json_string_value(json_object_get(json_object_get(event(h, k), "client"), "proof"));
}

static json_int_t client_count(json_t *h, const char *what)
{
	return json_integer_value(json_object_get(json_object_get(h, "client"), what));
}

static int check(json_t *h, const struct vfy_verifier *k, struct ctl_record *rec)
{
	ctl_check_checkpoint(h, k, k ? NULL : "no verifier key", k ? NULL : "没有验证公钥", NULL,
			     rec);
	return ctl_check_history(h, k, rec);
}

static void test_checkpoint(void **state)
{
	struct ctl_record rec;
	char root[64];
	json_t *h = honest_history();

	(void)state;
	ctl_check_checkpoint(h, &key, NULL, NULL, NULL, &rec);
	assert_true(rec.ctx.checked);
	assert_null(rec.ctx.why);
	assert_string_equal(rec.ctx.origin, "office.example/custody");
	assert_int_equal(rec.ctx.size, NENTRIES - 1);
	assert_string_equal(rec.ctx.key_name, "office.example/custody");
	snprintf(root, sizeof(root), "%08x", key.id);
	assert_string_equal(rec.ctx.key_id, root);
	/* The root is the note's third line, as it is printed on the record. */
	assert_non_null(strstr(checkpoint, rec.ctx.root));
	assert_int_equal(strlen(rec.ctx.root), 44);

	/* Signed by a key the reader does not trust. */
	ctl_check_checkpoint(h, &other_key, NULL, NULL, NULL, &rec);
	assert_false(rec.ctx.checked);
	assert_non_null(strstr(rec.why_en, "does not verify"));
	assert_null(rec.ctx.origin);

	/* The answer says another size than the note. */
	json_object_set_new(h, "checkpoint_size", json_integer(NENTRIES));
	ctl_check_checkpoint(h, &key, NULL, NULL, NULL, &rec);
	assert_false(rec.ctx.checked);
	assert_non_null(strstr(rec.why_en, "not the size the answer names"));

	/* No key; no checkpoint. */
	ctl_check_checkpoint(h, NULL, "no verifier key: give --key", "没有验证公钥", NULL, &rec);
	assert_false(rec.ctx.checked);
	assert_string_equal(rec.ctx.why, "没有验证公钥");
	assert_string_equal(rec.why_en, "no verifier key: give --key");
	json_object_set_new(h, "checkpoint", json_null());
	json_object_del(h, "checkpoint_size");
	ctl_check_checkpoint(h, &key, NULL, NULL, NULL, &rec);
	assert_false(rec.ctx.checked);
	assert_string_equal(rec.why_en, "no checkpoint has been signed yet");
	json_decref(h);
}

static void test_honest(void **state)
{
	struct ctl_record rec;
	json_t *h = honest_history();

	(void)state;
	assert_int_equal(check(h, &key, &rec), 0);
	for (size_t k = 0; k < 4; k++)
		assert_string_equal(event_proof(h, k), "verified");
	assert_string_equal(event_proof(h, 4), "pending");
	assert_int_equal(client_count(h, "verified"), 4);
	assert_int_equal(client_count(h, "pending"), 1);
	assert_int_equal(client_count(h, "failed"), 0);
	assert_true(json_is_true(json_object_get(json_object_get(h, "client"), "ok")));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(h, "client"), "checkpoint")),
	    "verified");
	json_decref(h);
}

/* One field changed, added or dropped in an event's entry: the proof no longer covers it. */
static void test_entry_changed(void **state)
{
	struct ctl_record rec;
	json_t *h = honest_history();

	(void)state;
	json_object_set_new(json_object_get(event(h, 1), "entry"), "reason",
			    json_string("码头故障 "));
	json_object_set_new(json_object_get(event(h, 2), "entry"), "allowed", json_true());
	json_object_del(json_object_get(event(h, 3), "entry"), "entries");
	assert_int_equal(check(h, &key, &rec), 1);
	assert_string_equal(event_proof(h, 0), "verified");
	for (size_t k = 1; k < 4; k++) {
		assert_string_equal(event_proof(h, k), "failed");
		assert_string_equal(json_string_value(json_object_get(
					json_object_get(event(h, k), "client"), "message")),
				    "the entry shown is not the entry the proof proves");
	}
	assert_int_equal(client_count(h, "failed"), 3);
	assert_false(json_is_true(json_object_get(json_object_get(h, "client"), "ok")));
	json_decref(h);
}

static void test_wrong_proofs(void **state)
{
	struct ctl_record rec;
	json_t *h = honest_history();
	char *bad;

	(void)state;
	/* Event 1 (entry 2) carries the proof of entry 3. */
	json_object_set_new(event(h, 1), "proof", json_string(proofs[3]));
	/* The arrival's proof against an older checkpoint than the answer's. */
	json_object_set_new(event(h, 0), "proof", json_string(old_proof));
	/* Entry 3's proof with one hash byte changed. */
	bad = strdup(proofs[3]);
	bad[strlen("c2sp.org/tlog-proof@v1\nextra ") + 3] ^= 1;
	json_object_set_new(event(h, 2), "proof", json_string(bad));
	free(bad);
	/* Entry 4 covered by the checkpoint, and no proof. */
	json_object_set_new(event(h, 3), "proof", json_null());
	assert_int_equal(check(h, &key, &rec), 1);
	assert_string_equal(event_proof(h, 0), "failed");
	assert_non_null(strstr(
	    json_string_value(json_object_get(json_object_get(event(h, 0), "client"), "message")),
	    "another checkpoint"));
	assert_string_equal(event_proof(h, 1), "failed");
	assert_non_null(strstr(
	    json_string_value(json_object_get(json_object_get(event(h, 1), "client"), "message")),
	    "is for entry 3"));
	assert_string_equal(event_proof(h, 2), "failed");
	assert_string_equal(event_proof(h, 3), "failed");
	assert_non_null(strstr(
	    json_string_value(json_object_get(json_object_get(event(h, 3), "client"), "message")),
	    "no proof"));
	assert_string_equal(event_proof(h, 4), "pending");
	json_decref(h);
}

/* The arrival event must be the clip's own entry, and must be there. */
static void test_arrival(void **state)
{
	struct ctl_record rec;
	json_t *h = honest_history();

	(void)state;
	/* The answer's clip is another clip than the one proven. */
	json_object_set_new(h, "clip", json_loads(entry_text[1], 0, NULL));
	assert_int_equal(check(h, &key, &rec), 1);
	assert_string_equal(event_proof(h, 0), "failed");
	json_decref(h);

	h = honest_history();
	json_array_remove(json_object_get(h, "events"), 0);
	assert_int_equal(check(h, &key, &rec), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(h, "client"), "problem")),
	    "the clip's own entry is not among the events");
	json_decref(h);
}

/* Without a key nothing is verified, and the history does not pass as checked. */
static void test_no_key(void **state)
{
	struct ctl_record rec;
	json_t *h = honest_history();

	(void)state;
	assert_int_equal(check(h, NULL, &rec), 1);
	for (size_t k = 0; k < 5; k++)
		assert_string_equal(event_proof(h, k), "unchecked");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(h, "client"), "checkpoint")),
	    "unchecked");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(h, "client"), "message")),
	    "no verifier key");
	json_decref(h);

	/* A key that did not sign the log: every proof fails, and so does the checkpoint. */
	h = honest_history();
	assert_int_equal(check(h, &other_key, &rec), 1);
	assert_string_equal(event_proof(h, 0), "failed");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(h, "client"), "checkpoint")),
	    "failed");
	json_decref(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checkpoint),    cmocka_unit_test(test_honest),
		cmocka_unit_test(test_entry_changed), cmocka_unit_test(test_wrong_proofs),
		cmocka_unit_test(test_arrival),	      cmocka_unit_test(test_no_key),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
