/* custody-witness: a C2SP tlog-witness v1 witness for custody's log (docs/witness.md).
 *
 *   custody-witness keygen NAME --out KEYFILE    a cosignature/v1 key; prints the verifier key
 *   custody-witness --config FILE [--check-config]
 *
 * Language (docs/i18n.md): what a person runs and reads at a terminal (--help, keygen, usage
 * errors, --check-config) speaks the locale's language; serving does not set the locale, so
 * the journal and the HTTP answers (protocol text, and note errors quoted in them) stay
 * English whatever the service's environment.
 *
 * Threads: main() starts libmicrohttpd with its one internal polling thread
 * (MHD_USE_INTERNAL_POLLING_THREAD), which runs every request callback; main() itself only
 * waits in sigwait() for SIGTERM or SIGINT, then stops the server (MHD_stop_daemon() waits for
 * the thread, so a request in progress is answered, its state written) and exits 0.  Blocking
 * work (the state's fsync) runs on that one thread under witness.c's mutex: requests are rare
 * (a log asks after each checkpoint), and serialising them is what the protocol needs anyway.
 *
 * Limits against clients that are not logs: a body above WIT_REQUEST_MAX is refused with 413
 * as soon as its size is known; a request must arrive whole within REQUEST_SECONDS of its
 * first byte (a client that trickles its body is dropped); an idle connection
 * is closed after IDLE_SECONDS; at most CONNECTIONS_MAX connections, PER_IP_MAX from one
 * address. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "base/cleanup.h"
#include "base/err.h"
#include "base/file.h"
#include "base/i18n.h"
#include "base/log.h"
#include "verify/note.h"
#include "verify/witnessreq.h"
#include "witness/config.h"
#include "witness/witness.h"

#define GRP "http"
#define DEFAULT_CONFIG "/etc/custody-witness/custody-witness.conf"
#define REQUEST_SECONDS 20
#define IDLE_SECONDS 10
#define CONNECTIONS_MAX 64
#define PER_IP_MAX 8
#define TLS_FILE_MAX (64 * 1024)

static const char *arg_config = DEFAULT_CONFIG;
static const char *arg_out;
static bool arg_check;

struct server {
	struct witness *w;
	char *path; /* <prefix>/add-checkpoint */
};

/* One request's body as it arrives. */
struct upload {
	char *buf;
	size_t len;
	bool too_big; /* beyond WIT_REQUEST_MAX: the rest is read and dropped */
	struct timespec start;
};

static void help(void)
{
	/* Translators: custody-witness --help.  Keep the options and placeholders (FILE, NAME,
	 * KEYFILE) as they are. */
	printf(
	    _("Usage: custody-witness --config FILE [--check-config]\n"
	      "       custody-witness keygen NAME --out KEYFILE\n"
	      "A C2SP tlog-witness v1 witness: cosigns the checkpoints of the logs it is\n"
	      "configured for, once each is shown consistent with the last one it cosigned.\n"
	      "\n"
	      "  keygen NAME --out KEYFILE  write a new cosignature/v1 key (mode 0600) to KEYFILE\n"
	      "                             and print its verifier key\n"
	      "  --config FILE              the configuration (default %s)\n"
	      "  --check-config             check the configuration, the key and the state; exit\n"
	      "  --help                     this text\n"
	      "\n"
	      "Exit status: 0 success, 1 invalid configuration, 2 usage or system error.\n"),
	    DEFAULT_CONFIG);
}

static int usage_error(const char *msg)
{
	/* Translators: a usage error of custody-witness; %s says what is wrong. */
	fprintf(stderr, _("custody-witness: %s (see --help)\n"), msg);
	return 2;
}

static int cmd_keygen(const char *name)
{
	struct err_detail e;
	char *skey = NULL, *vkey = NULL;
	int r;

	if (!arg_out)
		return usage_error(_("keygen needs --out KEYFILE"));
	r = vfy_cosig_keygen(name, &skey, &vkey, &e);
	if (r < 0) {
		fprintf(stderr, "custody-witness: %s\n", e.msg);
		return 2;
	}
	/* A witness key is never overwritten: logs and clients trust this one. */
	if (vfy_signer_write(arg_out, skey, &e) < 0) {
		fprintf(stderr, "custody-witness: %s\n", e.msg);
		r = 2;
		goto out;
	}
	printf("%s\n", vkey);
	r = 0;
out:
	vfy_secret_free(skey);
	free(vkey);
	return r;
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *type,
			      char *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result r;

	resp = MHD_create_response_from_buffer(
	    len, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	if (type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "POST");
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	char *body = strdup(msg);

	return answer(conn, status, "text/plain; charset=utf-8", body, body ? strlen(body) : 0);
}

static double seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* libmicrohttpd calls this first with the headers, then with each piece of the body, then once
 * with none; a response queued before the body is complete ends the request there. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct server *srv = cls;
	struct upload *up = *con_cls;
	struct wit_reply rep;

	(void)version;
	if (!up) {
		const char *cl;

		if (strcmp(url, srv->path) != 0)
			return answer_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
					   "add-checkpoint takes POST\n");
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > WIT_REQUEST_MAX)
			return answer_text(conn, MHD_HTTP_CONTENT_TOO_LARGE,
					   "the request body is too large\n");
		up = calloc(1, sizeof(*up));
		if (!up)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &up->start);
		*con_cls = up;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		char *grown;

		*upload_data_size = 0;
		/* libmicrohttpd 0.9.75 takes no response in the middle of a body: a slow client
		 * is cut off (MHD_NO closes the connection), and a large body that announced no
		 * Content-Length is read, dropped and answered 413 at its end. */
		if (seconds_since(&up->start) > REQUEST_SECONDS) {
			log_notice(GRP, "a request body took over %d s: connection closed",
				   REQUEST_SECONDS);
			return MHD_NO;
		}
		if (up->too_big || up->len + n > WIT_REQUEST_MAX) {
			up->too_big = true;
			free(up->buf);
			up->buf = NULL;
			up->len = 0;
			return MHD_YES;
		}
		grown = realloc(up->buf, up->len + n + 1);
		if (!grown)
			return MHD_NO;
		up->buf = grown;
		memcpy(up->buf + up->len, upload_data, n);
		up->len += n;
		return MHD_YES;
	}
	if (up->too_big)
		return answer_text(conn, MHD_HTTP_CONTENT_TOO_LARGE,
				   "the request body is too large\n");
	witness_add_checkpoint(srv->w, up->buf ? up->buf : "", up->len, &rep);
	if (!rep.body)
		return answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL, 0);
	return answer(conn, rep.status, rep.content_type, rep.body, rep.body_len);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct upload *up = *con_cls;

	(void)cls, (void)conn, (void)toe;
	if (up) {
		free(up->buf);
		free(up);
		*con_cls = NULL;
	}
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_notice(GRP, "libmicrohttpd: %s", msg);
}

/* "HOST:PORT" or "[V6]:PORT" into an address. */
static int resolve(const char *listen, struct addrinfo **ret, struct err_detail *reterr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	char host[256];
	const char *colon = strrchr(listen, ':'), *h = listen;
	size_t hlen;
	int r;

	if (!colon || colon == listen || !colon[1])
		return err_set(reterr, -EINVAL, "listen = '%s' is not HOST:PORT", listen);
	hlen = (size_t)(colon - listen);
	if (h[0] == '[' && colon[-1] == ']')
		h++, hlen -= 2;
	if (hlen >= sizeof(host))
		return err_set(reterr, -EINVAL, "listen = '%s': the host is too long", listen);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	r = getaddrinfo(host, colon + 1, &hints, ret);
	if (r != 0)
		return err_set(reterr, -EINVAL, "listen = '%s': %s", listen, gai_strerror(r));
	return 0;
}

static int read_pem(const char *path, char **ret, struct err_detail *reterr)
{
	size_t len;

	return file_read_at(AT_FDCWD, path, O_NONBLOCK, TLS_FILE_MAX, ret, &len, reterr);
}

static int run(void)
{
	struct wit_config *cfg = NULL;
	struct server srv = { 0 };
	struct MHD_Daemon *d = NULL;
	struct addrinfo *ai = NULL;
	char *cert = NULL, *key = NULL;
	struct err_detail e;
	/* MHD_USE_AUTO: epoll or poll, not select() and its FD_SETSIZE. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	sigset_t sigs;
	int r, sig = 0;

	r = wit_config_load(arg_config, &cfg, &e);
	if (r < 0) {
		fprintf(stderr, "custody-witness: %s: %s\n", arg_config, e.msg);
		return r == -EINVAL ? 1 : 2;
	}
	r = witness_open(cfg, !arg_check, &srv.w, &e);
	if (r < 0) {
		fprintf(stderr, "custody-witness: %s\n", e.msg);
		r = r == -EINVAL || r == -EPERM ? 1 : 2;
		goto out;
	}
	r = resolve(cfg->listen, &ai, &e);
	if (r == 0 && cfg->tls_cert) {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS))
			r = err_set(&e, -EINVAL, "%s",
				    _("this libmicrohttpd has no TLS: leave tls_cert and tls_key "
				      "out and put the witness behind a TLS reverse proxy"));
		else if ((r = read_pem(cfg->tls_cert, &cert, &e)) < 0 ||
			 (r = read_pem(cfg->tls_key, &key, &e)) < 0)
			err_prefix(&e, "tls_cert/tls_key");
	}
	if (r < 0) {
		fprintf(stderr, "custody-witness: %s\n", e.msg);
		r = 1;
		goto out;
	}
	if (arg_check) {
		printf(NG_("configuration valid: %zu log, witness key %s\n",
			   "configuration valid: %zu logs, witness key %s\n", cfg->nlogs),
		       cfg->nlogs, witness_vkey(srv.w));
		r = 0;
		goto out;
	}
	if (asprintf(&srv.path, "%s/add-checkpoint", cfg->prefix) < 0) {
		srv.path = NULL;
		r = 2;
		goto out;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cert)
		flags |= MHD_USE_TLS;
	/* Block the stop signals before MHD makes its thread, so that only sigwait() sees them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, &srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)CONNECTIONS_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_MAX,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_SECONDS, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, NULL, cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
	if (!d) {
		log_error(GRP, "cannot serve on %s (address in use, or not ours?)", cfg->listen);
		r = 2;
		goto out;
	}
	log_info(GRP, "witness %s serving POST %s on %s%s for %zu log%s", witness_vkey(srv.w),
		 srv.path, cfg->listen, cert ? " (TLS)" : "", cfg->nlogs,
		 cfg->nlogs == 1 ? "" : "s");
	while (sigwait(&sigs, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
		;
	log_info(GRP, "stopping on signal %d", sig);
	MHD_stop_daemon(d);
	r = 0;
out:
	if (ai)
		freeaddrinfo(ai);
	free(srv.path);
	free(cert);
	if (key)
		explicit_bzero(key, strlen(key));
	free(key);
	witness_free(srv.w);
	wit_config_free(cfg);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	log_init("custody-witness");
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			arg_config = optarg;
			break;
		case 'C':
			arg_check = true;
			break;
		case 'o':
			arg_out = optarg;
			break;
		case 'h':
			i18n_init();
			help();
			return 0;
		default:
			return 2;
		}
	}
	/* Only what ends here, at a terminal, is translated; serving is not (see the top). */
	if (optind < argc || arg_out || arg_check)
		i18n_init();
	if (optind < argc) {
		if (strcmp(argv[optind], "keygen") == 0 && argc - optind == 2)
			return cmd_keygen(argv[optind + 1]);
		return usage_error(_("unknown command or wrong arguments"));
	}
	if (arg_out)
		return usage_error(_("--out goes with keygen"));
	return run();
}
