/* ctl/check.c: custodyctl's own checks of what the daemon answers (docs/programs.md).
 *
 * The daemon is not trusted to say that its answer is in the log: the checkpoint it serves is
 * opened against the verifier key the reader holds, and each proof in a history must lead from
 * the entry shown to that checkpoint's root.  "The entry shown" is the event's JSON as
 * custodyctl parsed it, written again in the log's canonical form (verify/entry.h): the proof's
 * entry bytes must be exactly those, so that no field can be added, dropped or changed between
 * what was proven and what a reader sees.  Messages stay English: they go into the JSON that
 * --json prints; the text renderers translate the status words. */
#include "ctl/check.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"
#include "verify/entry.h"
#include "verify/hash.h"
#include "verify/proof.h"

/* Why the checkpoint is not checked: @fmt (an N_() string) in English and, through
 * gettext, in the reader's language. */
static void why(struct ctl_record *rec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void why(struct ctl_record *rec, const char *fmt, ...)
{
	va_list ap, aq;

	va_start(ap, fmt);
	va_copy(aq, ap);
	vsnprintf(rec->why_en, sizeof(rec->why_en), fmt, ap);
	vsnprintf(rec->why, sizeof(rec->why), _(fmt), aq);
	va_end(aq);
	va_end(ap);
}

void ctl_check_checkpoint(const json_t *answer, const struct vfy_verifier *key,
			  const char *nokey_en, const char *nokey, const struct ing_tz *tz,
			  struct ctl_record *ret)
{
	const char *text = json_string_value(json_object_get(answer, "checkpoint"));
	const json_t *size = json_object_get(answer, "checkpoint_size");
	struct vfy_checkpoint cp;
	struct err_detail e;
	unsigned nsigs = 0;

	memset(ret, 0, sizeof(*ret));
	ret->ctx.tz = tz;
	ret->ctx.why = ret->why;
	if (!text) {
		if (json_is_integer(size))
			why(ret, N_("the answer carries no checkpoint text"));
		else
			why(ret, N_("no checkpoint has been signed yet"));
		return;
	}
	if (!key) {
		snprintf(ret->why_en, sizeof(ret->why_en), "%s",
			 nokey_en ? nokey_en : "no verifier key");
		snprintf(ret->why, sizeof(ret->why), "%s", nokey ? nokey : _("no verifier key"));
		return;
	}
	if (vfy_checkpoint_open(text, strlen(text), NULL, key, 1, &cp, &nsigs, &e) < 0) {
		why(ret, N_("the checkpoint does not verify: %s"), e.msg);
		return;
	}
	if (!json_is_integer(size) || (uint64_t)json_integer_value(size) != cp.size) {
		why(ret, N_("the checkpoint is of size %" PRIu64 ", not the size the answer names"),
		    cp.size);
		return;
	}
	snprintf(ret->origin, sizeof(ret->origin), "%s", cp.origin);
	vfy_b64_encode(cp.root, VFY_HASH_LEN, ret->root, sizeof(ret->root));
	snprintf(ret->key_name, sizeof(ret->key_name), "%s", key->name);
	snprintf(ret->key_id, sizeof(ret->key_id), "%08" PRIx32, key->id);
	ret->ctx.checked = true;
	ret->ctx.why = NULL;
	ret->ctx.origin = ret->origin;
	ret->ctx.size = cp.size;
	ret->ctx.root = ret->root;
	ret->ctx.key_name = ret->key_name;
	ret->ctx.key_id = ret->key_id;
	/* Only the log's key was given: nothing else can have been checked. */
	ret->ctx.cosignatures = 0;
}

/* One event's proof: the status word and the message into @msg. */
static const char *check_event(const json_t *event, const struct vfy_verifier *key,
			       const struct ctl_record *rec, const json_t *history, char *msg,
			       size_t n)
{
	const char *proof = json_string_value(json_object_get(event, "proof"));
	const json_t *index = json_object_get(event, "index");
	const json_t *entry = json_object_get(event, "entry");
	struct vfy_tlog_proof p = { 0 };
	struct vfy_checkpoint cp;
	struct err_detail e;
	char *bytes = NULL;
	size_t len = 0;
	uint8_t root[VFY_HASH_LEN];
	const char *st = "failed";

	if (!json_is_integer(index) || json_integer_value(index) < 0) {
		snprintf(msg, n, "the event has no entry number");
		return st;
	}
	if (!proof && rec->ctx.checked && (uint64_t)json_integer_value(index) >= rec->ctx.size) {
		snprintf(msg, n,
			 "entry %" JSON_INTEGER_FORMAT
			 " is newer than the checkpoint of size %" PRIu64 ": no proof yet",
			 json_integer_value(index), rec->ctx.size);
		return "pending";
	}
	if (!key) {
		snprintf(msg, n, "not checked: %s",
			 rec->why_en[0] ? rec->why_en : "no verifier key");
		return "unchecked";
	}
	if (!proof) {
		snprintf(msg, n,
			 rec->ctx.checked ? "no proof, although the checkpoint covers the entry"
					  : "no proof, and no checkpoint that verified");
		return st;
	}
	if (vfy_tlog_proof_parse(proof, strlen(proof), &p, &e) < 0 ||
	    vfy_tlog_proof_verify(&p, key, &cp, &e) < 0) {
		snprintf(msg, n, "the proof does not verify: %s", e.msg);
		goto out;
	}
	if (p.index != (uint64_t)json_integer_value(index)) {
		snprintf(msg, n, "the proof is for entry %" PRIu64 ", not this one", p.index);
		goto out;
	}
	if (rec->ctx.checked) {
		if (vfy_b64_decode(rec->ctx.root, strlen(rec->ctx.root), root, sizeof(root)) !=
			VFY_HASH_LEN ||
		    cp.size != rec->ctx.size || memcmp(cp.root, root, VFY_HASH_LEN)) {
			snprintf(msg, n,
				 "the proof stands on another checkpoint (size %" PRIu64
				 ") than the answer's",
				 cp.size);
			goto out;
		}
	}
	if (!json_is_object(entry) || vfy_entry_dump(entry, &bytes, &len, &e) < 0) {
		snprintf(msg, n, "the entry shown is not a log entry");
		goto out;
	}
	if (len != p.extra_len || memcmp(bytes, p.extra, len)) {
		snprintf(msg, n, "the entry shown is not the entry the proof proves");
		goto out;
	}
	if (!strcmp(json_string_value(json_object_get(event, "kind")) ?: "", "arrival") &&
	    (!json_equal(entry, json_object_get(history, "clip")) ||
	     json_integer_value(index) != json_integer_value(json_object_get(history, "entry")))) {
		snprintf(msg, n, "the arrival is not the clip's own entry");
		goto out;
	}
	snprintf(msg, n,
		 "entry %" PRIu64 " is in the log '%s' under the checkpoint of size %" PRIu64,
		 p.index, cp.origin, cp.size);
	st = "verified";
out:
	free(bytes);
	vfy_tlog_proof_done(&p);
	return st;
}

int ctl_check_history(json_t *history, const struct vfy_verifier *key, const struct ctl_record *rec)
{
	const json_t *events = json_object_get(history, "events");
	size_t counts[4] = { 0 }, i;
	static const char *const words[] = { "verified", "failed", "pending", "unchecked" };
	const char *cpw;
	bool arrival = false;
	json_t *event, *client;
	char msg[512];

	json_array_foreach(events, i, event) {
		const char *st = check_event(event, key, rec, history, msg, sizeof(msg));

		for (size_t w = 0; w < 4; w++)
			if (!strcmp(st, words[w]))
				counts[w]++;
		if (!strcmp(json_string_value(json_object_get(event, "kind")) ?: "", "arrival") &&
		    json_equal(json_object_get(event, "index"), json_object_get(history, "entry")))
			arrival = true;
		if (!json_is_object(event) ||
		    json_object_set_new(event, "client",
					json_pack("{s:s, s:s}", "proof", st, "message", msg)) < 0)
			return -ENOMEM;
	}
	if (rec->ctx.checked)
		cpw = "verified";
	else if (!json_is_string(json_object_get(history, "checkpoint")))
		cpw = "none";
	else if (!key)
		cpw = "unchecked";
	else
		cpw = "failed";
	/* Without the clip's own entry among the events, nothing proven says which clip this
	 * is. */
	if (!arrival) {
		counts[1]++;
		snprintf(msg, sizeof(msg), "the clip's own entry is not among the events");
	} else {
		msg[0] = '\0';
	}
	client =
	    json_pack("{s:s, s:s?, s:I, s:I, s:I, s:I, s:b, s:s?}", "checkpoint", cpw, "message",
		      rec->ctx.checked ? NULL : rec->why_en, "verified", (json_int_t)counts[0],
		      "failed", (json_int_t)counts[1], "pending", (json_int_t)counts[2],
		      "unchecked", (json_int_t)counts[3], "ok",
		      rec->ctx.checked && !counts[1] && !counts[3], "problem", msg[0] ? msg : NULL);
	if (!client || json_object_set_new(history, "client", client) < 0)
		return -ENOMEM;
	return rec->ctx.checked && !counts[1] && !counts[3] ? 0 : 1;
}
