/* daemon-verify-load: closed-loop load on custodyd's socket for bench/daemon-bench.sh.
 *
 *   daemon-verify-load SOCKET REQUESTS-FILE [CLIENTS [SECONDS [WARMUP-SECONDS]]]
 *
 * Opens CLIENTS (default 64) connections to the Unix socket SOCKET; each sends one request line
 * from REQUESTS-FILE (one JSON request per line; connection i starts at line i mod n and walks
 * the file round-robin), waits for the whole reply line, and sends the next one at once.
 * Replies during the first WARMUP-SECONDS (default 2) are not counted; then, for SECONDS
 * (default 10), every reply's latency (from the request's first byte written to the reply's
 * newline read, CLOCK_MONOTONIC) is recorded.  One thread and epoll, so that the client takes
 * as little of the machine's CPU from the daemon as it can.
 *
 * Prints one line: requests=N seconds=S qps=Q p50_us= p90_us= p99_us= p999_us= max_us=
 * errors=N (replies without "ok":true) unexpected=N (ok replies whose "result" is not
 * $EXPECT_RESULT, default "exact"; set it empty for other ops) replies_total=N (warm-up and
 * measured: each is one access entry in the log).  Exit 0, or 2 on a usage or system error (a
 * connection closed by the daemon is one). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct conn {
	int fd;
	size_t next;	 /* next request line */
	const char *out; /* request being written */
	size_t out_len, out_off;
	char *in; /* reply being read */
	size_t in_len, in_cap;
	uint64_t sent_ns; /* first byte of the request written */
};

static char **lines;
static size_t *line_len, nlines;
static uint64_t *lat;
static size_t nlat, cap_lat;
static const char *expect;
static uint64_t replies_total; /* every reply, warm-up and all */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "daemon-verify-load: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void load_requests(const char *path)
{
	FILE *f = fopen(path, "r");
	char *l = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t n;

	if (!f)
		die(path);
	while ((n = getline(&l, &cap, f)) > 0) {
		if (nlines == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			lines = realloc(lines, alloc * sizeof(*lines));
			line_len = realloc(line_len, alloc * sizeof(*line_len));
			if (!lines || !line_len)
				die("realloc");
		}
		lines[nlines] = malloc((size_t)n + 1);
		if (!lines[nlines])
			die("malloc");
		memcpy(lines[nlines], l, (size_t)n);
		if (l[n - 1] != '\n')
			lines[nlines][n++] = '\n'; /* the last line may lack its newline */
		line_len[nlines++] = (size_t)n;
	}
	free(l);
	fclose(f);
	if (!nlines) {
		fprintf(stderr, "daemon-verify-load: '%s' holds no request\n", path);
		exit(2);
	}
}

/* Write what remains of the current request; 0 when all of it is out, 1 when it would block. */
static int flush_out(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n < 0)
			die("write");
		c->out_off += (size_t)n;
	}
	return 0;
}

static void send_next(struct conn *c, int ep)
{
	struct epoll_event ev = { .data.ptr = c };

	c->out = lines[c->next];
	c->out_len = line_len[c->next];
	c->out_off = 0;
	c->next = (c->next + 1) % nlines;
	c->sent_ns = now_ns();
	ev.events = EPOLLIN | (flush_out(c) ? EPOLLOUT : 0);
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		die("epoll_ctl");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	size_t i = (size_t)(p / 100.0 * (double)nlat);

	if (i >= nlat)
		i = nlat - 1;
	return (double)lat[i] / 1000.0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int clients, ep;
	double seconds, warmup;
	uint64_t t0, t_start, t_end, errors = 0, unexpected = 0;
	char want[64];
	struct conn *cs;

	if (argc < 3 || argc > 6) {
		fprintf(stderr, "usage: daemon-verify-load SOCKET REQUESTS-FILE [CLIENTS [SECONDS "
				"[WARMUP-SECONDS]]]\n");
		return 2;
	}
	clients = argc > 3 ? atoi(argv[3]) : 64;
	seconds = argc > 4 ? atof(argv[4]) : 10;
	warmup = argc > 5 ? atof(argv[5]) : 2;
	expect = getenv("EXPECT_RESULT") ? getenv("EXPECT_RESULT") : "exact";
	snprintf(want, sizeof(want), "\"result\":\"%s\"", expect);
	if (clients < 1 || seconds <= 0 || warmup < 0 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "daemon-verify-load: bad arguments\n");
		return 2;
	}
	load_requests(argv[2]);
	strcpy(sa.sun_path, argv[1]);
	ep = epoll_create1(EPOLL_CLOEXEC);
	cs = calloc((size_t)clients, sizeof(*cs));
	if (ep < 0 || !cs)
		die("setup");
	for (int i = 0; i < clients; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &cs[i] };

		cs[i].fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (cs[i].fd < 0 || connect(cs[i].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("connect");
		if (fcntl(cs[i].fd, F_SETFL, O_NONBLOCK) < 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) < 0)
			die("socket setup");
		cs[i].next = (size_t)i % nlines;
		cs[i].in_cap = 65536;
		cs[i].in = malloc(cs[i].in_cap);
		if (!cs[i].in)
			die("malloc");
	}
	t0 = now_ns();
	t_start = t0 + (uint64_t)(warmup * 1e9);
	t_end = t_start + (uint64_t)(seconds * 1e9);
	for (int i = 0; i < clients; i++)
		send_next(&cs[i], ep);
	for (;;) {
		struct epoll_event evs[64];
		uint64_t t;
		int n = epoll_wait(ep, evs, 64, 1000);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait");
		t = now_ns();
		if (t >= t_end)
			break;
		for (int k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;
			char *nl;

			if ((evs[k].events & EPOLLOUT) && !flush_out(c)) {
				struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

				if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
					die("epoll_ctl");
			}
			if (!(evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				continue;
			for (;;) {
				ssize_t r;

				if (c->in_cap - c->in_len < 4096) {
					c->in_cap *= 2;
					c->in = realloc(c->in, c->in_cap);
					if (!c->in)
						die("realloc");
				}
				r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
				if (r < 0 && errno == EAGAIN)
					break;
				if (r < 0)
					die("read");
				if (r == 0) {
					fprintf(stderr,
						"daemon-verify-load: the daemon closed a "
						"connection: %.*s\n",
						(int)(c->in_len > 300 ? 300 : c->in_len), c->in);
					return 2;
				}
				c->in_len += (size_t)r;
			}
			nl = memchr(c->in, '\n', c->in_len);
			if (!nl)
				continue;
			/* One request in flight per connection, so one reply line at most. */
			t = now_ns();
			replies_total++;
			*nl = '\0';
			if (c->sent_ns >= t_start && t <= t_end) {
				if (!strstr(c->in, "\"ok\":true")) {
					if (errors++ == 0)
						fprintf(stderr,
							"daemon-verify-load: first error: "
							"%.300s\n",
							c->in);
				} else if (*expect && !strstr(c->in, want)) {
					if (unexpected++ == 0)
						fprintf(stderr,
							"daemon-verify-load: first unexpected "
							"reply: %.300s\n",
							c->in);
				}
				if (nlat == cap_lat) {
					cap_lat = cap_lat ? cap_lat * 2 : 1 << 20;
					lat = realloc(lat, cap_lat * sizeof(*lat));
					if (!lat)
						die("realloc");
				}
				lat[nlat++] = t - c->sent_ns;
			}
			c->in_len = 0;
			send_next(c, ep);
		}
	}
	if (!nlat) {
		fprintf(stderr, "daemon-verify-load: no reply in the measured window\n");
		return 2;
	}
	qsort(lat, nlat, sizeof(*lat), cmp_u64);
	printf("requests=%zu seconds=%.3f qps=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f "
	       "p999_us=%.0f max_us=%.0f errors=%llu unexpected=%llu replies_total=%llu\n",
	       nlat, seconds, (double)nlat / seconds, pct(50), pct(90), pct(99), pct(99.9),
	       (double)lat[nlat - 1] / 1000.0, (unsigned long long)errors,
	       (unsigned long long)unexpected, (unsigned long long)replies_total);
	return 0;
}
