/* daemon/server/scrub.c: the `scrub` operation (docs/protocol.md), the socket's handle on the
 * scrubber of daemon/scrub.c.  Loop thread only. */
#include <errno.h>

#include <jansson.h>

#include "base/err.h"
#include "daemon/daemon.h"
#include "daemon/scrub.h"
#include "daemon/server/internal.h"

/* {"now":true} starts a pass unless one is running; either way the answer carries the
 * scrubber's state.  Operators only (server.c); nothing here reads evidence, so it is not an
 * access entry, but who started a pass goes into the journal. */
int srv__op_scrub(struct srv_client *c, json_t *req, struct err_detail *reterr)
{
	struct daemon *d = c->s->d;
	const json_t *now = json_object_get(req, "now");
	struct err_detail e = { 0 };
	json_t *body;
	int r = -EALREADY;

	if (now && !json_is_boolean(now))
		return err_set(reterr, -EINVAL, "\"now\" must be true or false");
	if (!d->scrub)
		return err_set(reterr, -ESHUTDOWN, "the scrubber is not running");
	if (json_is_true(now)) {
		r = scrub_start(d->scrub, c->by, &e);
		if (r < 0 && r != -EALREADY)
			return err_set(reterr, r, "%s", e.msg);
	}
	body = json_pack("{s:b, s:o}", "started", r == 0, "scrub", scrub_status(d->scrub));
	if (body && r == -EALREADY && e.msg[0])
		json_object_set_new(body, "message", json_string(e.msg));
	if (!body)
		return err_set(reterr, -ENOMEM, "out of memory for the answer");
	srv__reply(c, body);
	return 0;
}
