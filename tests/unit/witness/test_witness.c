/* test_witness.c: custody-witness without HTTP: its configuration (witness/config.c) and every
 * answer of the add-checkpoint decision (witness/witness.c), with a real log key, real trees
 * (leaves hashed here), cosignatures checked with vfy_checkpoint_open(), and the state kept
 * across a reopen.  tests/integration/witness.sh drives the same over HTTP with a Go client. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "verify/hash.h"
#include "verify/merkle.h"
#include "verify/note.h"
#include "verify/witnessreq.h"
#include "witness/config.h"
#include "witness/witness.h"

#define ORIGIN "test.example/log"

static char dir[] = "/tmp/custody-test-witness.XXXXXX";
static char conf_path[256], state_path[256], wkey_path[256];
static struct vfy_signer *log_signer, *other_signer;
static struct vfy_verifier keys[2]; /* the log's, the witness's */
static char *log_vkey;

/* A tree whose leaf i is "leaf i" (or "fork i" from @fork on). */
struct tree {
	uint64_t fork;
};

static int tree_get(void *ctx, unsigned level, uint64_t index, uint8_t ret[VFY_HASH_LEN],
		    struct err_detail *reterr)
{
	const struct tree *t = ctx;
	uint8_t l[VFY_HASH_LEN], r[VFY_HASH_LEN];
	char buf[32];

	if (level == 0) {
		int n = snprintf(buf, sizeof(buf), "%s %llu", index >= t->fork ? "fork" : "leaf",
				 (unsigned long long)index);

		return vfy_leaf_hash(buf, (size_t)n, ret);
	}
	if (tree_get(ctx, level - 1, 2 * index, l, reterr) < 0 ||
	    tree_get(ctx, level - 1, 2 * index + 1, r, reterr) < 0)
		return -EIO;
	return vfy_node_hash(l, r, ret);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* The log's signed checkpoint of the first @size leaves of @t (malloc()'d). */
static char *checkpoint(const struct tree *t, uint64_t size, struct vfy_signer *s)
{
	uint8_t root[VFY_HASH_LEN];
	struct err_detail e;
	char *body, *note;

	assert_int_equal(merkle_root(size, tree_get, (void *)t, root, &e), 0);
	assert_int_equal(vfy_checkpoint_format(ORIGIN, size, root, &body, &e), 0);
	assert_int_equal(vfy_note_sign(body, strlen(body), s, &note, &e), 0);
	free(body);
	return note;
}

/* POST-free add-checkpoint: the body from @old, a proof from @old to @size of @t (none when
 * @old is 0 or equal), and the log's checkpoint @cp. */
static void add(struct witness *w, uint64_t old, const struct tree *t, uint64_t size,
		const char *cp, bool flip, struct wit_reply *ret)
{
	uint8_t proof[MERKLE_MAX_PROOF][VFY_HASH_LEN];
	struct err_detail e;
	size_t n = 0, len;
	char *body;

	if (old > 0 && old < size)
		assert_int_equal(
		    merkle_consistency_proof(old, size, tree_get, (void *)t, proof, &n, &e), 0);
	if (flip)
		proof[0][3] ^= 0x10;
	assert_int_equal(wit_request_format(old, proof, n, cp, strlen(cp), &body, &len, &e), 0);
	witness_add_checkpoint(w, body, len, ret);
	free(body);
}

static void expect(const struct wit_reply *r, unsigned status, const char *body_has)
{
	if (r->status != status)
		fail_msg("status %u, want %u: %.*s", r->status, status, (int)r->body_len,
			 r->body ? r->body : "");
	assert_non_null(r->body);
	if (body_has && !strstr(r->body, body_has))
		fail_msg("body '%s' lacks '%s'", r->body, body_has);
}

static void expect_cosigned(struct wit_reply *r, const char *cp, uint64_t size)
{
	struct vfy_checkpoint c;
	struct err_detail e;
	unsigned nsigs = 0;
	uint64_t t = 0;
	char *note;

	expect(r, 200, "\xe2\x80\x94 witness.example/w ");
	assert_string_equal(r->content_type, "text/plain; charset=utf-8");
	assert_int_equal(asprintf(&note, "%s%s", cp, r->body) > 0, 1);
	if (vfy_checkpoint_open(note, strlen(note), NULL, keys, 2, &c, &nsigs, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(nsigs, 2);
	assert_int_equal(c.size, size);
	assert_int_equal(vfy_cosig_time(note, strlen(note), &keys[1], &t, &e), 0);
	assert_true(t > 1700000000);
	free(note);
	free(r->body);
}

static void expect_conflict(struct wit_reply *r, const char *size_line)
{
	expect(r, 409, NULL);
	assert_string_equal(r->content_type, "text/x.tlog.size");
	assert_int_equal(r->body_len, strlen(size_line));
	assert_string_equal(r->body, size_line);
	free(r->body);
}

static int setup(void **state)
{
	struct err_detail e;
	char *skey, *wskey, *wvkey, text[2048];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(conf_path, sizeof(conf_path), "%s/w.conf", dir);
	snprintf(state_path, sizeof(state_path), "%s/state", dir);
	snprintf(wkey_path, sizeof(wkey_path), "%s/w.key", dir);
	assert_int_equal(mkdir(state_path, 0700), 0);
	assert_int_equal(vfy_keygen(ORIGIN, &skey, &log_vkey, &e), 0);
	assert_int_equal(vfy_signer_parse(skey, strlen(skey), &log_signer, &e), 0);
	assert_int_equal(vfy_verifier_parse(log_vkey, strlen(log_vkey), &keys[0], &e), 0);
	vfy_secret_free(skey);
	assert_int_equal(vfy_keygen(ORIGIN, &skey, &wvkey, &e), 0); /* another key, same name */
	assert_int_equal(vfy_signer_parse(skey, strlen(skey), &other_signer, &e), 0);
	vfy_secret_free(skey);
	free(wvkey);
	assert_int_equal(vfy_cosig_keygen("witness.example/w", &wskey, &wvkey, &e), 0);
	assert_int_equal(vfy_verifier_parse(wvkey, strlen(wvkey), &keys[1], &e), 0);
	write_file(wkey_path, wskey, 0600);
	vfy_secret_free(wskey);
	free(wvkey);
	snprintf(text, sizeof(text),
		 "[witness]\nlisten = 127.0.0.1:0\nprefix = /w\nkey = %s\nstate = %s\n\n"
		 "[log office] ; comment\norigin = " ORIGIN "\nkey = %s\n\n"
		 "[log other]\norigin = other.example/log\nkey = %s\n",
		 wkey_path, state_path, log_vkey,
		 "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
	write_file(conf_path, text, 0644);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	log_signer = vfy_signer_free(log_signer);
	other_signer = vfy_signer_free(other_signer);
	free(log_vkey);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void test_config(void **state)
{
	struct wit_config *c = NULL;
	struct err_detail e;
	char path[300];
	static const struct {
		const char *text;
		unsigned line;
		const char *has;
	} bad[] = {
		{ "[witness]\nport = 1\n", 2, "unknown key" },
		{ "[witness]\nlisten = a:1\nlisten = b:2\n", 3, "twice" },
		{ "[witnesses]\n", 1, "unknown section" },
		{ "[witness]\n", 0, "no [log NAME]" },
		{ "[log a]\norigin = x\n", 1, "needs origin and key" },
		{ "[log a]\norigin = x\nkey = "
		  "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
		  "LDE4izWy10TW\ncolour = red\n",
		  4, "unknown key" },
		{ "[log a]\norigin = x\nkey = nope\n", 3, "key" },
		{ "[log a]\norigin = x\nkey = "
		  "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
		  "LDE4izWy10TW\n[log b]\norigin = x\nkey = PeterNeumann+c74f20a3+"
		  "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",
		  4, "origin of [log a]" },
		{ "[log a]\n[log a]\n", 2, "twice" },
		{ "[witness]\nprefix = w/\n[log a]\norigin = x\nkey = PeterNeumann+c74f20a3+"
		  "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",
		  2, "prefix" },
		{ "[witness]\ntls_cert = /x\n[log a]\norigin = x\nkey = PeterNeumann+c74f20a3+"
		  "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",
		  2, "tls_key" },
		{ "listen = x\n", 1, "outside" },
		{ "[witness]\nlisten = 1:2 # no\n", 2, "'#'" },
		{ "[witness] x\n", 1, "after ']'" },
		{ "[witness]\njunk\n", 2, "key = value" },
	};

	(void)state;
	if (wit_config_load(conf_path, &c, &e) != 0)
		fail_msg("%s", e.msg);
	assert_string_equal(c->prefix, "/w");
	assert_int_equal(c->nlogs, 2);
	assert_string_equal(c->logs[0].name, "office");
	assert_non_null(wit_config_log(c, ORIGIN, strlen(ORIGIN)));
	assert_null(wit_config_log(c, "nope", 4));
	c = wit_config_free(c);

	snprintf(path, sizeof(path), "%s/bad.conf", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i].text, 0644);
		e.line = 99;
		if (wit_config_load(path, &c, &e) != -EINVAL)
			fail_msg("case %zu accepted", i);
		if (e.line != bad[i].line || !strstr(e.msg, bad[i].has))
			fail_msg("case %zu: line %u '%s', want line %u and '%s'", i, e.line, e.msg,
				 bad[i].line, bad[i].has);
		assert_null(c);
	}
	/* A witness key as a log key. */
	{
		char text[512], *sk, *vk;

		assert_int_equal(vfy_cosig_keygen("x", &sk, &vk, &e), 0);
		snprintf(text, sizeof(text), "[log a]\norigin = x\nkey = %s\n", vk);
		write_file(path, text, 0644);
		assert_int_equal(wit_config_load(path, &c, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "cosignature"));
		vfy_secret_free(sk);
		free(vk);
	}
}

static void test_protocol(void **state)
{
	struct tree main_tree = { .fork = UINT64_MAX }, fork_tree = { .fork = 5 };
	struct wit_config *c = NULL;
	struct witness *w = NULL, *w2 = NULL;
	struct wit_reply r;
	struct err_detail e;
	char *cp4, *cp8, *cp8fork, *cp6, *cp12fork, *cp8other, *cp12;
	char evidence[400];

	(void)state;
	assert_int_equal(wit_config_load(conf_path, &c, &e), 0);
	assert_int_equal(witness_open(c, true, &w, &e), 0);
	/* The state folder is this witness's alone. */
	assert_int_equal(witness_open(c, true, &w2, &e), -EBUSY);

	cp4 = checkpoint(&main_tree, 4, log_signer);
	cp6 = checkpoint(&main_tree, 6, log_signer);
	cp8 = checkpoint(&main_tree, 8, log_signer);
	cp12 = checkpoint(&main_tree, 12, log_signer);
	cp8fork = checkpoint(&fork_tree, 8, log_signer);
	cp12fork = checkpoint(&fork_tree, 12, log_signer);
	cp8other = checkpoint(&main_tree, 8, other_signer);

	/* First contact: old 0. */
	add(w, 0, &main_tree, 4, cp4, false, &r);
	expect_cosigned(&r, cp4, 4);
	/* A stale old size: 409 with the size it has. */
	add(w, 0, &main_tree, 8, cp8, false, &r);
	expect_conflict(&r, "4\n");
	add(w, 6, &main_tree, 8, cp8, false, &r);
	expect_conflict(&r, "4\n");
	/* A bad proof: 422, nothing stored. */
	add(w, 4, &main_tree, 8, cp8, true, &r);
	expect(&r, 422, "consistency");
	free(r.body);
	/* No proof at all from a non-zero size: 422 too. */
	{
		char *body;
		size_t len;

		assert_int_equal(wit_request_format(4, NULL, 0, cp8, strlen(cp8), &body, &len, &e),
				 0);
		witness_add_checkpoint(w, body, len, &r);
		free(body);
		expect(&r, 422, NULL);
		free(r.body);
	}
	/* Growth with its proof. */
	add(w, 4, &main_tree, 8, cp8, false, &r);
	expect_cosigned(&r, cp8, 8);
	/* Smaller than the state: old above its size is 400, old equal to it 409. */
	add(w, 8, &main_tree, 6, cp6, false, &r);
	expect(&r, 400, "old size");
	free(r.body);
	add(w, 6, &main_tree, 6, cp6, false, &r);
	expect_conflict(&r, "8\n");
	/* The same checkpoint again: cosigned again. */
	add(w, 8, &main_tree, 8, cp8, false, &r);
	expect_cosigned(&r, cp8, 8);
	/* A fork signed with the log's key: same size, other root -> 409, evidence kept... */
	add(w, 8, &fork_tree, 8, cp8fork, false, &r);
	expect_conflict(&r, "8\n");
	/* ...and growth to the fork with the fork's own proof does not verify from our root. */
	add(w, 8, &fork_tree, 12, cp12fork, false, &r);
	expect(&r, 422, NULL);
	free(r.body);
	/* Another key of the log's name: 403.  An unknown origin: 404.  Garbage: 400. */
	add(w, 8, &main_tree, 8, cp8other, false, &r);
	expect(&r, 403, NULL);
	free(r.body);
	{
		char *foreign = strdup(cp8);

		foreign[0] = 'X';
		add(w, 8, &main_tree, 8, foreign, false, &r);
		expect(&r, 404, NULL);
		free(r.body);
		free(foreign);
	}
	witness_add_checkpoint(w, "old 1\n\nnot a note", 17, &r);
	expect(&r, 400, NULL);
	free(r.body);
	witness_add_checkpoint(w, "", 0, &r);
	expect(&r, 400, NULL);
	free(r.body);

	/* Restart: the state is what was last cosigned. */
	w = witness_free(w);
	assert_int_equal(witness_open(c, true, &w, &e), 0);
	add(w, 0, &main_tree, 12, cp12, false, &r);
	expect_conflict(&r, "8\n");
	add(w, 8, &main_tree, 12, cp12, false, &r);
	expect_cosigned(&r, cp12, 12);
	w = witness_free(w);

	/* The split view's evidence is there, signed by the log. */
	{
		char cmd[600];

		snprintf(evidence, sizeof(evidence), "ls '%s' | grep -q '\\.split-8-'", state_path);
		assert_int_equal(system(evidence), 0);
		/* A state file changed by hand stops the witness. */
		snprintf(cmd, sizeof(cmd),
			 "f=$(ls '%s'/*.checkpoint | head -n 1) && sed -i '2s/12/13/' \"$f\"",
			 state_path);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(witness_open(c, false, &w, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "does not verify"));
	}
	free(cp4);
	free(cp6);
	free(cp8);
	free(cp12);
	free(cp8fork);
	free(cp12fork);
	free(cp8other);
	wit_config_free(c);
}

static void test_key_checks(void **state)
{
	struct wit_config *c = NULL;
	struct witness *w = NULL;
	struct err_detail e;
	char *sk, *vk;

	(void)state;
	assert_int_equal(wit_config_load(conf_path, &c, &e), 0);
	/* A group-readable key is refused; so is a log (0x01) key. */
	assert_int_equal(chmod(wkey_path, 0640), 0);
	assert_int_equal(witness_open(c, false, &w, &e), -EPERM);
	assert_int_equal(vfy_keygen("not-a-witness", &sk, &vk, &e), 0);
	free(c->key_path);
	assert_int_equal(asprintf(&c->key_path, "%s/note.key", dir) > 0, 1);
	write_file(c->key_path, sk, 0600);
	assert_int_equal(witness_open(c, false, &w, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "cosignature/v1"));
	assert_null(w);
	vfy_secret_free(sk);
	free(vk);
	wit_config_free(c);
}

/* The shipped example loads as it is (keys valid, defaults as docs/witness.md says). */
static void test_shipped_config(void **state)
{
	struct wit_config *c = NULL;
	struct err_detail e;

	(void)state;
	if (wit_config_load(TEST_DATA "/../../conf/custody-witness.conf", &c, &e) != 0)
		fail_msg("conf/custody-witness.conf: %s", e.msg);
	assert_string_equal(c->listen, "127.0.0.1:7380");
	assert_string_equal(c->prefix, "");
	assert_string_equal(c->key_path, "/etc/custody-witness/witness.key");
	assert_string_equal(c->state_path, "/var/lib/custody-witness");
	assert_null(c->tls_cert);
	assert_int_equal(c->nlogs, 1);
	assert_int_equal(c->logs[0].key.alg, VFY_ALG_ED25519);
	wit_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_shipped_config),
		cmocka_unit_test(test_protocol),
		cmocka_unit_test(test_key_checks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
