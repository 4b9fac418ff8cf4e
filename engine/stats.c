/*
 * stats.c - `rtpvault stats` and the counters server of a running capture
 * (see stats.h for the threading rules).
 *
 * Text format (socket and Prometheus alike), one counter per line:
 *     rtpvault_<name>[{labels}] <value>
 * The Prometheus endpoint adds "# TYPE" lines; every value is a counter
 * except rtpvault_up / uptime / workers and the DPDK reassembly tables'
 * fill (frag_held, frag_table_datagrams), which are gauges.
 *
 * Does NOT: serve anything but the snapshot, speak HTTP beyond a minimal
 * GET (any path) with HTTP/1.0 and Connection: close.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "stats.h"

struct stats_server {
	pthread_mutex_t mu;
	char *text;   /* plain snapshot */
	char *prom;   /* with # TYPE lines */
	int ufd, pfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pthread_t uth, pth;
	bool uth_on, pth_on;
	atomic_int stop;
	/* closing wake[1] wakes both threads out of poll() at once (they would
	 * otherwise notice stop only at their poll timeout: up to 200 ms added
	 * to the end of every capture, most of `capture -r` on a short file) */
	int wake[2];
};

/* Waits for fd to be readable or the server to stop: true when readable. */
static bool wait_readable(struct stats_server *s, int fd)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = s->wake[0], .events = POLLIN } };
	if (poll(p, s->wake[0] >= 0 ? 2 : 1, 200) <= 0)
		return false;
	return (p[0].revents & POLLIN) && !atomic_load_explicit(&s->stop, memory_order_acquire);
}

int stats_socket_path(const struct rv_config *cfg, char *buf, size_t len)
{
	int n;
	if (cfg->stats_socket[0])
		n = snprintf(buf, len, "%s", cfg->stats_socket);
	else
		n = snprintf(buf, len, "%s/stats.sock", cfg->storage_path);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* A copy of the current snapshot (owned), never NULL-terminated-less. */
static char *snapshot(struct stats_server *s, bool prom)
{
	pthread_mutex_lock(&s->mu);
	const char *t = prom ? s->prom : s->text;
	char *r = strdup(t ? t : "rtpvault_up 1\n");
	pthread_mutex_unlock(&s->mu);
	return r;
}

static void *unix_thread(void *arg)
{
	struct stats_server *s = arg;
	while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
		if (!wait_readable(s, s->ufd))
			continue;
		int fd = accept(s->ufd, NULL, NULL);
		if (fd < 0)
			continue;
		char *t = snapshot(s, false);
		if (t)
			write_all(fd, t, strlen(t));
		free(t);
		close(fd);
	}
	return NULL;
}

static void *prom_thread(void *arg)
{
	struct stats_server *s = arg;
	while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
		if (!wait_readable(s, s->pfd))
			continue;
		int fd = accept(s->pfd, NULL, NULL);
		if (fd < 0)
			continue;
		/* read the request head (bounded, 1 s) */
		char req[2048];
		size_t got = 0;
		while (got < sizeof(req) - 1) {
			struct pollfd q = { .fd = fd, .events = POLLIN };
			if (poll(&q, 1, 1000) <= 0)
				break;
			ssize_t r = recv(fd, req + got, sizeof(req) - 1 - got, 0);
			if (r <= 0)
				break;
			got += (size_t)r;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
				break;
		}
		char *t = snapshot(s, true);
		if (t) {
			char hdr[200];
			int hn = snprintf(hdr, sizeof(hdr),
					  "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
					  "Content-Length: %zu\r\nConnection: close\r\n\r\n",
					  strlen(t));
			write_all(fd, hdr, (size_t)hn);
			write_all(fd, t, strlen(t));
		}
		free(t);
		close(fd);
	}
	return NULL;
}

static int open_unix(struct stats_server *s, const struct rv_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_un a;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	if (stats_socket_path(cfg, a.sun_path, sizeof(a.sun_path)) < 0) {
		snprintf(err, errlen, "[stats] socket: path too long for a unix socket (max %zu bytes)",
			 sizeof(a.sun_path) - 1);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "stats socket: %s", strerror(errno));
		return -1;
	}
	/* a socket file left by a crashed run is replaced; a live one is not */
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		snprintf(err, errlen, "stats socket %s: another capture is answering on it", a.sun_path);
		close(fd);
		return -1;
	}
	close(fd);
	struct stat st;
	if (lstat(a.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "stats socket %s: exists and is not a socket", a.sun_path);
			return -1;
		}
		unlink(a.sun_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "stats socket: %s", strerror(errno));
		return -1;
	}
	mode_t old = umask(0177); /* the socket is created 0600 */
	int rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (rc < 0 || chmod(a.sun_path, 0600) < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "stats socket %s: %s", a.sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	snprintf(s->path, sizeof(s->path), "%s", a.sun_path);
	s->ufd = fd;
	return 0;
}

static int open_prom(struct stats_server *s, int port, char *err, size_t errlen)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "prometheus: %s", strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "prometheus 127.0.0.1:%d: %s", port, strerror(errno));
		close(fd);
		return -1;
	}
	s->pfd = fd;
	return 0;
}

struct stats_server *stats_server_start(const struct rv_config *cfg, char *err, size_t errlen)
{
	struct stats_server *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	s->ufd = s->pfd = -1;
	if (pipe2(s->wake, O_CLOEXEC) < 0)
		s->wake[0] = s->wake[1] = -1; /* the threads then stop at their poll timeout */
	if (open_unix(s, cfg, err, errlen) < 0)
		goto fail;
	if (cfg->stats_prometheus_port > 0 && open_prom(s, (int)cfg->stats_prometheus_port, err, errlen) < 0)
		goto fail;
	if (pthread_create(&s->uth, NULL, unix_thread, s) != 0) {
		snprintf(err, errlen, "cannot start the stats thread");
		goto fail;
	}
	s->uth_on = true;
	if (s->pfd >= 0) {
		if (pthread_create(&s->pth, NULL, prom_thread, s) != 0) {
			snprintf(err, errlen, "cannot start the prometheus thread");
			goto fail;
		}
		s->pth_on = true;
	}
	return s;
fail:
	stats_server_stop(s);
	return NULL;
}

void stats_server_stop(struct stats_server *s)
{
	if (!s)
		return;
	atomic_store_explicit(&s->stop, 1, memory_order_release);
	if (s->wake[1] >= 0)
		close(s->wake[1]); /* POLLHUP on wake[0] */
	if (s->uth_on)
		pthread_join(s->uth, NULL);
	if (s->pth_on)
		pthread_join(s->pth, NULL);
	if (s->ufd >= 0) {
		close(s->ufd);
		unlink(s->path);
	}
	if (s->pfd >= 0)
		close(s->pfd);
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	pthread_mutex_destroy(&s->mu);
	free(s->text);
	free(s->prom);
	free(s);
}

static void sanitize(char *n)
{
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') || *n == '_'))
			*n = '_';
}

/* Backend values that go up and down (everything else only counts up). */
static bool kv_gauge(const char *name)
{
	static const char *const g[] = { "dpdk_workers", "dpdk_frag_held", "dpdk_queue_frag_held",
					 "dpdk_frag_table_datagrams" };
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++)
		if (strcmp(name, g[i]) == 0)
			return true;
	return false;
}

static void line(FILE *t, FILE *p, const char *name, const char *labels, uint64_t v, const char *type)
{
	char n[128];
	snprintf(n, sizeof(n), "rtpvault_%s", name);
	sanitize(n);
	fprintf(t, "%s%s%s%s %" PRIu64 "\n", n, labels[0] ? "{" : "", labels, labels[0] ? "}" : "", v);
	if (type)
		fprintf(p, "# TYPE %s %s\n", n, type);
	fprintf(p, "%s%s%s%s %" PRIu64 "\n", n, labels[0] ? "{" : "", labels, labels[0] ? "}" : "", v);
}

void stats_publish(struct stats_server *s, const char *backend, const struct capture_stats *cs,
		   const struct stats_kv *kv, size_t nkv, const struct rv_counters *ec, uint64_t uptime_us)
{
	if (!s)
		return;
	char *tb = NULL, *pb = NULL;
	size_t tl = 0, pl = 0;
	FILE *t = open_memstream(&tb, &tl);
	FILE *p = open_memstream(&pb, &pl);
	if (!t || !p) {
		if (t)
			fclose(t);
		if (p)
			fclose(p);
		free(tb);
		free(pb);
		return;
	}
	char lb[64];
	snprintf(lb, sizeof(lb), "backend=\"%s\"", backend);
	line(t, p, "up", lb, 1, "gauge");
	line(t, p, "uptime_seconds", "", uptime_us / 1000000u, "gauge");
	line(t, p, "capture_received", "", cs->received, "counter");
	line(t, p, "capture_dropped", "", cs->dropped, "counter");
	line(t, p, "capture_if_dropped", "", cs->if_dropped, "counter");
	const char *prev = "";
	for (size_t i = 0; i < nkv; i++) {
		bool first = strcmp(prev, kv[i].name) != 0;
		line(t, p, kv[i].name, kv[i].labels, kv[i].v, first ? (kv_gauge(kv[i].name) ? "gauge" : "counter") : NULL);
		prev = kv[i].name;
	}
	/* engine counters: reuse counters_print ("name value" lines, all of them) */
	char *eb = NULL;
	size_t el = 0;
	FILE *e = open_memstream(&eb, &el);
	if (e) {
		counters_print(ec, e, 1);
		fclose(e);
		for (char *save = NULL, *ln = strtok_r(eb, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
			char name[100];
			uint64_t v;
			while (*ln == ' ')
				ln++;
			if (sscanf(ln, "%99s %" SCNu64, name, &v) != 2)
				continue;
			char full[112];
			snprintf(full, sizeof(full), "engine_%s", name);
			line(t, p, full, "", v, "counter");
		}
		free(eb);
	}
	fclose(t);
	fclose(p);
	pthread_mutex_lock(&s->mu);
	free(s->text);
	free(s->prom);
	s->text = tb;
	s->prom = pb;
	pthread_mutex_unlock(&s->mu);
}

int cmd_stats(int argc, char **argv)
{
	const char *conf = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else {
			fprintf(stderr, "usage: rtpvault stats [-c CONF]\n");
			return 2;
		}
	}
	struct rv_config *cfg = cli_load_config(conf);
	if (!cfg)
		return 1;
	struct sockaddr_un a;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	if (stats_socket_path(cfg, a.sun_path, sizeof(a.sun_path)) < 0) {
		fprintf(stderr, "rtpvault stats: [stats] socket path too long\n");
		config_free(cfg);
		return 1;
	}
	config_free(cfg);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "rtpvault stats: no running capture answers on %s: %s\n", a.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	char buf[8192];
	size_t total = 0;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 5000) <= 0)
			break;
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		fwrite(buf, 1, (size_t)r, stdout);
		total += (size_t)r;
	}
	close(fd);
	if (!total) {
		fprintf(stderr, "rtpvault stats: empty answer from %s\n", a.sun_path);
		return 1;
	}
	return 0;
}
