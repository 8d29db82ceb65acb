/* proof.c: the proof files auditors carry away (docs/log.md).
 *
 * A tlog-proof@v1 file is line-oriented text; it is parsed strictly (C2SP tlog-proof: exact
 * header, optional `extra`, `index` without leading zeros, one padded base64 hash a line, an
 * empty line, then the checkpoint verbatim), because a lenient parser would let two different
 * files prove the same thing and hide tampering.  The consistency file is JSON (jansson), with
 * duplicate keys rejected for the same reason.  Nothing here touches the database: this is
 * what custody-verify runs on an auditor's machine. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "base/err.h"
#include "base/i18n.h"
#include "verify/merkle.h"
#include "verify/proof.h"

#define PROOF_HEADER "c2sp.org/tlog-proof@v1"

/* jansson >= 2.14 provides json_decrefp() for _cleanup_. */

void vfy_tlog_proof_done(struct vfy_tlog_proof *p)
{
	free(p->extra);
	free(p->hashes);
	free(p->checkpoint);
	*p = (struct vfy_tlog_proof){ 0 };
}

int vfy_tlog_proof_format(const struct vfy_tlog_proof *p, char **ret, size_t *ret_len)
{
	size_t cap = sizeof(PROOF_HEADER) + 32 + p->checkpoint_len + 1 +
		     (p->extra ? 7 + vfy_b64_len(p->extra_len) : 0) +
		     p->nhashes * (vfy_b64_len(VFY_HASH_LEN) + 1);
	char *out = malloc(cap), *w = out;

	if (!out)
		return -ENOMEM;
	w += sprintf(w, "%s\n", PROOF_HEADER);
	if (p->extra) {
		w += sprintf(w, "extra ");
		w += vfy_b64_encode(p->extra, p->extra_len, w, (size_t)(out + cap - w));
		*w++ = '\n';
	}
	w += sprintf(w, "index %" PRIu64 "\n", p->index);
	for (size_t i = 0; i < p->nhashes; i++) {
		w += vfy_b64_encode(p->hashes[i], VFY_HASH_LEN, w, (size_t)(out + cap - w));
		*w++ = '\n';
	}
	*w++ = '\n';
	memcpy(w, p->checkpoint, p->checkpoint_len);
	w += p->checkpoint_len;
	*w = '\0';
	*ret = out;
	*ret_len = (size_t)(w - out);
	return 0;
}

/* A decimal without sign, leading zeros or overflow, as C2SP formats write sizes and indexes. */
static int parse_u64(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -EBADMSG;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EBADMSG;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret = v;
	return 0;
}

/* Next line of [*pos, end): sets @line and @len (without '\n'); false when no '\n' is left. */
static bool next_line(const char **pos, const char *end, const char **line, size_t *len)
{
	const char *nl = memchr(*pos, '\n', (size_t)(end - *pos));

	if (!nl)
		return false;
	*line = *pos;
	*len = (size_t)(nl - *pos);
	*pos = nl + 1;
	return true;
}

int vfy_tlog_proof_parse(const char *text, size_t len, struct vfy_tlog_proof *ret,
			 struct err_detail *reterr)
{
	struct vfy_tlog_proof p = { 0 };
	const char *pos = text, *end = text + len, *line;
	size_t llen;
	unsigned lineno = 1;
	int r;

	if (len > VFY_PROOF_MAX)
		return err_set(reterr, -E2BIG, _("the proof file is %zu bytes; the limit is %d"),
			       len, VFY_PROOF_MAX);
	if (!next_line(&pos, end, &line, &llen) || llen != strlen(PROOF_HEADER) ||
	    memcmp(line, PROOF_HEADER, llen) != 0)
		return err_set_line(reterr, -EBADMSG, 1,
				    _("not a tlog-proof file: line 1 must be '%s'"), PROOF_HEADER);
	if (!next_line(&pos, end, &line, &llen))
		goto truncated;
	lineno++;
	if (llen >= 6 && memcmp(line, "extra ", 6) == 0) {
		p.extra = malloc(llen / 4 * 3 + 1);
		if (!p.extra)
			return err_set(reterr, -ENOMEM, _("out of memory"));
		r = vfy_b64_decode(line + 6, llen - 6, p.extra, llen / 4 * 3 + 1);
		if (r < 0) {
			r = err_set_line(reterr, -EBADMSG, lineno,
					 _("line %u: the extra data is not "
					   "padded standard base64"),
					 lineno);
			goto fail;
		}
		p.extra_len = (size_t)r;
		if (!next_line(&pos, end, &line, &llen))
			goto truncated;
		lineno++;
	}
	if (llen < 6 || memcmp(line, "index ", 6) != 0 ||
	    parse_u64(line + 6, llen - 6, &p.index) < 0) {
		r = err_set_line(reterr, -EBADMSG, lineno,
				 _("line %u: expected 'index N' (a decimal "
				   "without leading zeros)"),
				 lineno);
		goto fail;
	}
	for (;;) {
		uint8_t(*grown)[VFY_HASH_LEN];
		uint8_t hash[VFY_HASH_LEN + 3];

		if (!next_line(&pos, end, &line, &llen))
			goto truncated;
		lineno++;
		if (llen == 0)
			break;
		if (p.nhashes == MERKLE_MAX_PROOF) {
			r = err_set_line(reterr, -EBADMSG, lineno,
					 _("line %u: more than %d proof hashes"), lineno,
					 MERKLE_MAX_PROOF);
			goto fail;
		}
		if (vfy_b64_decode(line, llen, hash, sizeof(hash)) != VFY_HASH_LEN) {
			r = err_set_line(reterr, -EBADMSG, lineno,
					 _("line %u: a proof hash must be the "
					   "padded base64 of 32 bytes"),
					 lineno);
			goto fail;
		}
		grown = realloc(p.hashes, (p.nhashes + 1) * sizeof(*p.hashes));
		if (!grown) {
			r = err_set(reterr, -ENOMEM, _("out of memory"));
			goto fail;
		}
		p.hashes = grown;
		memcpy(p.hashes[p.nhashes++], hash, VFY_HASH_LEN);
	}
	if (pos == end) {
		r = err_set_line(reterr, -EBADMSG, lineno + 1,
				 _("the checkpoint is missing after the "
				   "empty line"));
		goto fail;
	}
	/* The checkpoint is kept as a C string with its length beside it: a NUL byte would cut
	 * the string short of the length (a signed note is text and never holds one). */
	if (memchr(pos, '\0', (size_t)(end - pos))) {
		r = err_set_line(reterr, -EBADMSG, lineno + 1,
				 _("the checkpoint after line %u "
				   "contains a NUL byte"),
				 lineno);
		goto fail;
	}
	p.checkpoint_len = (size_t)(end - pos);
	p.checkpoint = strndup(pos, p.checkpoint_len);
	if (!p.checkpoint) {
		r = err_set(reterr, -ENOMEM, _("out of memory"));
		goto fail;
	}
	*ret = p;
	return 0;
truncated:
	r = err_set_line(reterr, -EBADMSG, lineno,
			 _("the proof ends after line %u, before the "
			   "empty line and the checkpoint"),
			 lineno);
fail:
	vfy_tlog_proof_done(&p);
	return r;
}

int vfy_tlog_proof_verify(const struct vfy_tlog_proof *p, const struct vfy_verifier *key,
			  struct vfy_checkpoint *ret_cp, struct err_detail *reterr)
{
	struct vfy_checkpoint cp;
	uint8_t leaf[VFY_HASH_LEN];
	struct err_detail why;
	int r;

	r = vfy_checkpoint_open(p->checkpoint, p->checkpoint_len, NULL, key, 1, &cp, NULL, reterr);
	if (r < 0) {
		err_prefix(reterr, _("checkpoint"));
		return r;
	}
	if (!p->extra)
		return err_set(reterr, -EBADMSG,
			       _("the proof has no 'extra' line: a custody proof "
				 "carries the entry it proves"));
	r = vfy_leaf_hash(p->extra, p->extra_len, leaf);
	if (r < 0)
		return err_set(reterr, r, _("libcrypto failed to hash the entry"));
	r = merkle_verify_inclusion(p->index, cp.size, leaf,
				    (const uint8_t(*)[VFY_HASH_LEN])p->hashes, p->nhashes, cp.root,
				    &why);
	if (r < 0)
		return err_set(reterr, -EPROTO,
			       _("inclusion: the entry at index %" PRIu64 " does not "
				 "lead to the signed root of size %" PRIu64
				 " (the entry, the index or a "
				 "proof hash was altered): %s"),
			       p->index, cp.size, why.msg);
	if (ret_cp)
		*ret_cp = cp;
	return 0;
}

void vfy_consistency_done(struct vfy_consistency *c)
{
	free(c->origin);
	free(c->old_checkpoint);
	free(c->checkpoint);
	free(c->hashes);
	*c = (struct vfy_consistency){ 0 };
}

int vfy_consistency_format(const struct vfy_consistency *c, char **ret, size_t *ret_len)
{
	_cleanup_(json_decrefp) json_t *obj = NULL;
	json_t *arr = json_array();
	char b64[64];
	char *text;

	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < c->nhashes; i++) {
		vfy_b64_encode(c->hashes[i], VFY_HASH_LEN, b64, sizeof(b64));
		if (json_array_append_new(arr, json_string(b64)) < 0) {
			json_decref(arr);
			return -ENOMEM;
		}
	}
	obj = json_pack("{s:s, s:s, s:s, s:s, s:o}", "format", "custody-consistency/1", "origin",
			c->origin, "old_checkpoint", c->old_checkpoint, "checkpoint", c->checkpoint,
			"consistency", arr);
	if (!obj)
		return -ENOMEM;
	text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		return -ENOMEM;
	*ret_len = strlen(text);
	/* One line, newline-terminated, like every file a custody program prints. */
	*ret = realloc(text, *ret_len + 2);
	if (!*ret) {
		free(text);
		return -ENOMEM;
	}
	(*ret)[(*ret_len)++] = '\n';
	(*ret)[*ret_len] = '\0';
	return 0;
}

static int json_field_string(json_t *obj, const char *key, char **ret, struct err_detail *reterr)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return err_set(reterr, -EBADMSG, _("the consistency file needs a string '%s'"),
			       key);
	*ret = strndup(json_string_value(v), json_string_length(v));
	return *ret ? 0 : err_set(reterr, -ENOMEM, _("out of memory"));
}

int vfy_consistency_parse(const char *text, size_t len, struct vfy_consistency *ret,
			  struct err_detail *reterr)
{
	_cleanup_(json_decrefp) json_t *obj = NULL;
	struct vfy_consistency c = { 0 };
	json_error_t jerr;
	json_t *arr, *fmt;
	size_t i;
	int r;

	if (len > VFY_PROOF_MAX)
		return err_set(reterr, -E2BIG,
			       _("the consistency file is %zu bytes; the limit is %d"), len,
			       VFY_PROOF_MAX);
	obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj)
		return err_set_line(reterr, -EBADMSG, (unsigned)jerr.line,
				    _("not a consistency file: "
				      "line %d column %d: %s"),
				    jerr.line, jerr.column, jerr.text);
	if (!json_is_object(obj))
		return err_set(reterr, -EBADMSG, _("not a consistency file: not a JSON object"));
	fmt = json_object_get(obj, "format");
	if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "custody-consistency/1") != 0)
		return err_set(reterr, -EBADMSG,
			       _("not a consistency file: 'format' must be "
				 "\"custody-consistency/1\""));
	if ((r = json_field_string(obj, "origin", &c.origin, reterr)) < 0 ||
	    (r = json_field_string(obj, "old_checkpoint", &c.old_checkpoint, reterr)) < 0 ||
	    (r = json_field_string(obj, "checkpoint", &c.checkpoint, reterr)) < 0)
		goto fail;
	arr = json_object_get(obj, "consistency");
	if (!json_is_array(arr) || json_array_size(arr) > MERKLE_MAX_PROOF) {
		r = err_set(reterr, -EBADMSG,
			    _("'consistency' must be an array of at most %d hashes"),
			    MERKLE_MAX_PROOF);
		goto fail;
	}
	c.nhashes = json_array_size(arr);
	c.hashes = calloc(c.nhashes ? c.nhashes : 1, VFY_HASH_LEN);
	if (!c.hashes) {
		r = err_set(reterr, -ENOMEM, _("out of memory"));
		goto fail;
	}
	for (i = 0; i < c.nhashes; i++) {
		json_t *h = json_array_get(arr, i);
		uint8_t buf[VFY_HASH_LEN + 3];

		if (!json_is_string(h) ||
		    vfy_b64_decode(json_string_value(h), json_string_length(h), buf, sizeof(buf)) !=
			VFY_HASH_LEN) {
			r = err_set(reterr, -EBADMSG,
				    _("consistency hash %zu is not the padded base64 "
				      "of 32 bytes"),
				    i + 1);
			goto fail;
		}
		memcpy(c.hashes[i], buf, VFY_HASH_LEN);
	}
	*ret = c;
	return 0;
fail:
	vfy_consistency_done(&c);
	return r;
}

int vfy_consistency_verify(const struct vfy_consistency *c, const struct vfy_verifier *key,
			   struct vfy_checkpoint *ret_old, struct vfy_checkpoint *ret_new,
			   struct err_detail *reterr)
{
	struct vfy_checkpoint old, new;
	struct err_detail why;
	int r;

	if (strcmp(c->origin, key->name) != 0)
		return err_set(reterr, -ESTALE, _("origin: the file is for '%s', the key is '%s'"),
			       c->origin, key->name);
	r = vfy_checkpoint_open(c->old_checkpoint, strlen(c->old_checkpoint), c->origin, key, 1,
				&old, NULL, reterr);
	if (r < 0) {
		err_prefix(reterr, _("old checkpoint"));
		return r;
	}
	r = vfy_checkpoint_open(c->checkpoint, strlen(c->checkpoint), c->origin, key, 1, &new, NULL,
				reterr);
	if (r < 0) {
		err_prefix(reterr, _("new checkpoint"));
		return r;
	}
	r = merkle_verify_consistency(old.size, new.size, old.root, new.root,
				      (const uint8_t(*)[VFY_HASH_LEN])c->hashes, c->nhashes, &why);
	if (r < 0)
		return err_set(reterr, -EPROTO,
			       _("consistency: the tree of size %" PRIu64 " is not "
				 "shown to be a prefix of the tree of size %" PRIu64 ": %s"),
			       old.size, new.size, why.msg);
	if (ret_old)
		*ret_old = old;
	if (ret_new)
		*ret_new = new;
	return 0;
}
