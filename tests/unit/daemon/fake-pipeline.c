/* The fake pipeline of tests/unit/daemon/fake-pipeline.h, shared by test_server.c,
 * test_scrub.c and tests/fuzz/fuzz_request.c.  No cmocka here: callbacks may run on a loop
 * thread that is not the test's, and the fuzz target links it too, so what must not happen
 * abort()s. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "verify/entry.h"
#include "verify/tlog.h"
#include "tests/unit/daemon/fake-pipeline.h"

int fake_pipe_init(struct pipeline *p, struct tlog *log, uv_loop_t *loop)
{
	int r;

	*p = (struct pipeline){ .log = log };
	if (!loop)
		return 0;
	r = uv_idle_init(loop, &p->idle);
	if (r < 0)
		return r;
	p->idle.data = p;
	p->has_loop = true;
	return 0;
}

void fake_pipe_close(struct pipeline *p)
{
	if (p->has_loop && !uv_is_closing((uv_handle_t *)&p->idle))
		uv_close((uv_handle_t *)&p->idle, NULL);
}

void fake_pipe_done(struct pipeline *p)
{
	json_decref(p->last);
	p->last = NULL;
}

static void on_pipe_idle(uv_idle_t *h)
{
	struct pipeline *p = h->data;
	struct fake_pending q[FAKE_PIPE_QUEUE];
	size_t n = p->npending;

	/* A callback may append again: it goes to the next round. */
	memcpy(q, p->pending, n * sizeof(q[0]));
	p->npending = 0;
	uv_idle_stop(h);
	for (size_t i = 0; i < n; i++)
		q[i].cb(q[i].opaque, q[i].status, q[i].index, q[i].status < 0 ? &q[i].e : NULL);
}

/* The writer refuses an entry that does not canonicalise: with @p->strict, one is a bug of the
 * code under test. */
static int dump(struct pipeline *p, const json_t *entry, char **ret, size_t *ret_len,
		struct err_detail *reterr)
{
	int r = vfy_entry_dump(entry, ret, ret_len, reterr);

	if (r < 0 && p->strict) {
		char *text = json_dumps(entry, JSON_COMPACT | JSON_ENCODE_ANY);

		fprintf(stderr, "fake pipeline: an entry that does not canonicalise (%s): %s\n",
			reterr->msg, text ? text : "?");
		abort();
	}
	return r;
}

void pipe_append(struct pipeline *p, json_t *entry, pipe_append_cb cb, void *opaque)
{
	struct fake_pending pe = { .cb = cb, .opaque = opaque };
	char *out = NULL;
	size_t len;

	pe.status = dump(p, entry, &out, &len, &pe.e);
	if (pe.status == 0 && p->frozen) {
		pe.status = err_set(&pe.e, -EAGAIN, "frozen: appends are not committed");
	} else if (pe.status == 0 && (!p->fail || p->commit_anyway)) {
		struct iovec iov = { out, len };

		pe.status = tlog_append(p->log, &iov, 1, &pe.index, &pe.e);
		if (pe.status == 0) {
			p->appended++;
			json_decref(p->last);
			p->last = json_incref(entry);
			p->last_index = pe.index;
		}
	}
	if (pe.status == 0 && p->fail)
		pe.status = err_set(&pe.e, p->fail, "injected failure");
	if (!p->frozen)
		p->log_failing = pe.status < 0 ? pe.status : 0;
	free(out);
	json_decref(entry);
	if (!cb)
		return;
	if (p->sync || !p->has_loop) {
		cb(opaque, pe.status, pe.index, pe.status < 0 ? &pe.e : NULL);
		return;
	}
	if (p->npending == FAKE_PIPE_QUEUE)
		abort();
	p->pending[p->npending++] = pe;
	uv_idle_start(&p->idle, on_pipe_idle);
}

/* The writer commits the parts in one transaction; here each is appended in turn, which is
 * the same log. */
void pipe_append_all(struct pipeline *p, json_t *const *entries, size_t n, pipe_append_cb cb,
		     void *const *opaques)
{
	p->append_all++;
	for (size_t i = 0; i < n; i++)
		pipe_append(p, entries[i], cb, opaques ? opaques[i] : NULL);
}

void pipe_remote_duty(struct pipeline *p, uint64_t index, const char *device, const char *officer,
		      int64_t from_us, int64_t to_us, int64_t returned_us)
{
	(void)device, (void)officer, (void)from_us, (void)to_us, (void)returned_us;
	p->duties++;
	p->last_duty = index;
}

void pipe_purge(struct pipeline *p, uint64_t entry, const uint8_t sha256[32], const char *rel,
		json_t *purge_entry, pipe_purge_cb cb, void *opaque)
{
	struct err_detail e;
	char *out = NULL;
	size_t len;

	(void)entry, (void)sha256, (void)rel;
	if (purge_entry && dump(p, purge_entry, &out, &len, &e) == 0)
		free(out);
	json_decref(purge_entry);
	if (p->frozen)
		err_set(&e, -EAGAIN, "frozen: purges are not committed");
	else
		err_set(&e, -ENOSYS, "no purges in this test");
	cb(opaque, e.code, NULL, &e);
}

int pipe_log_failing(struct pipeline *p)
{
	return p->log_failing;
}

void pipe_stats(const struct pipeline *p, struct pipe_stats *ret)
{
	*ret = (struct pipe_stats){ .queued = 1, .in_flight = 2, .ingested = p->appended };
	snprintf(ret->last_error, sizeof(ret->last_error), "test error");
}
