#pragma once
/* The Unix socket (docs/protocol.md): newline-delimited JSON, one request object per line, one
 * response per line.  The peer's uid and groups (SO_PEERCRED, SO_PEERGROUPS) decide its roles
 * (cfg [socket] operators/reviewers/auditors/approvers).  Limits: max_request_bytes per line,
 * max_clients connections, max_clients_per_user from one uid, idle_timeout.  Reads of
 * evidence are recorded as `access` entries.  Loop thread only: requests are short LMDB
 * reads; appends go through the pipeline. */

struct daemon;
struct err_detail;
struct server;

/** Bind and listen on cfg->socket_path (mode 0660; a stale socket file is replaced, a live one
 * — another custodyd answering — is an error).  @return 0 or -errno with the path in @reterr. */
int srv_new(struct daemon *d, struct server **ret, struct err_detail *reterr);

/** Stop accepting, close every client, unlink the socket; @done when every handle closed. */
void srv_close(struct server *s, void (*done)(void *opaque), void *opaque);
