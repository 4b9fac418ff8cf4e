/*
 * dpdk_capture.c - DPDK poll-mode capture backend (struct capture_ops).
 *
 * open(): validates [dpdk] before EAL starts, splits [dpdk] eal into argv
 * and runs rte_eal_init() once per process, creates one mbuf pool, and
 * configures every port of [dpdk] ports with min(workers, device maximum)
 * RX queues (RSS with a symmetric key when the device can hash and there is
 * more than one queue, so both directions of a flow land on one queue).
 *
 * Two modes:
 *  - workers = 1: the main lcore polls every queue itself (no rings).
 *  - workers = N > 1: N RX lcores (rte_eal_remote_launch) each poll their
 *    queues (queue q of every port goes to worker q % N) and hand mbufs over
 *    a single-producer/single-consumer rte_ring to the main lcore, which
 *    runs the single-threaded engine exactly as the libpcap path does.
 *    This is correct whatever queue a flow arrives on.  A full ring frees
 *    the mbufs and counts them per queue (ring_full); on a finite file
 *    replay the worker waits for room instead (a file has no line rate).
 *
 * Timestamps: a finite net_pcap replay (rx_pcap= without infinite_rx=1)
 * uses the file's own timestamps (net_pcap's RX timestamp offload, in µs),
 * and the per-queue streams are merged by timestamp on the main lcore, so
 * an offline replay gives the same result as `capture -r FILE`.  Every
 * other device is stamped with the wall clock in µs at reception (no NIC
 * timestamps), and the main loop ticks engine timers on idle polls.
 *
 * End of a replay: net_pcap without infinite_rx stops returning packets at
 * the end of its file.  A queue is at EOF when it has returned nothing for
 * 200 ms of polls (while the pool had free mbufs) after delivering at least
 * one packet, or for 1 s when it never delivered any.  The capture ends
 * when every queue is at EOF and every ring is drained.
 *
 * Accounting: received = processed + ring_full, exactly, once drained.
 * imissed / rx_nombuf / ierrors come from rte_eth_stats_get().
 *
 * Does NOT: per-worker stream ownership (workers only receive and hand
 * over; decode, SIP, RTP and sealing run on the main lcore), rte_hash flow
 * tables, rte_ip_frag (the engine's own reassembler runs on main), NIC
 * hardware timestamps, or TX.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "capture.h"
#include "stats.h"

/* util.h clashes with rte_common.h (container_of): local clocks */
static uint64_t util_mono_us_(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static uint64_t util_wall_us_(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

#define DP_MAX_ARGS 64
#define DP_MAX_PORTS 16
#define DP_MAX_QUEUES 256
#define DP_MAX_BURST 512
#define DP_EOF_US 200000u
#define DP_EOF_EMPTY_US 1000000u
#define DP_MERGE_WAIT_US 20000u

struct dq {
	uint16_t port, queue;
	bool offline;
	unsigned worker;
	uint64_t rx;          /* mbufs received (owner writes) */
	uint64_t ring_full;   /* mbufs freed on a full ring (owner writes) */
	uint64_t last_us;     /* last non-empty poll or start */
	bool got_any;
	int eof;
} __rte_cache_aligned;

enum mode { MODE_UNDECIDED = 0, MODE_PLAIN, MODE_PIPELINE };

struct dworker {
	struct capture *cap;
	unsigned idx;
	unsigned lcore;
	struct rte_ring *ring;
	unsigned nq;
	unsigned q[DP_MAX_QUEUES];
	int done;
	bool launched;
} __rte_cache_aligned;

/* main-lcore side buffer of one source (a queue or a worker ring) */
struct src {
	struct rte_mbuf *m[DP_MAX_BURST];
	unsigned n, pos;
	bool done;
	uint64_t wait_since;
};

struct capture {
	unsigned nports;
	uint16_t ports[DP_MAX_PORTS];
	bool port_started[DP_MAX_PORTS];
	struct rte_mempool *mp;
	unsigned nq;
	struct dq q[DP_MAX_QUEUES];
	unsigned nworkers; /* RX lcores; 0 = main polls directly */
	struct dworker w[RTE_MAX_LCORE];
	unsigned nsrc;
	struct src *src;
	bool offline;  /* every queue is a finite replay */
	unsigned burst;
	unsigned pool_guard; /* free mbufs a replay worker needs before polling */
	int ts_off;    /* our dynfield: µs timestamp */
	int rxts_off;  /* net_pcap's rx timestamp dynfield, -1 if none */
	uint64_t rxts_flag;
	int stop;      /* stop receiving (then drain) */
	int quit;      /* RX lcores return */
	int mode;      /* enum mode: what RX lcores do besides receiving */
	dpdk_work_fn work;
	dpdk_frame_fn frame;
	void *work_ctx;
	enum dec_link link;
	uint64_t processed, discarded;
	uint64_t last_ts;
	unsigned idle;
	uint8_t seg[65536];
};

static bool eal_started, eal_failed;

static const uint8_t sym_rss_key[40] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

/* Splits s into argv (whitespace; '...' and "..." quote).  Returns argc or
 * -1.  buf receives the strings. */
static int split_args(const char *s, char *buf, size_t buflen, char **argv, int max, char *err, size_t errlen)
{
	int argc = 0;
	size_t o = 0;
	const char *p = s;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (argc >= max) {
			snprintf(err, errlen, "[dpdk] eal: more than %d arguments", max);
			return -1;
		}
		argv[argc++] = buf + o;
		char quote = 0;
		while (*p && (quote || (*p != ' ' && *p != '\t'))) {
			if (!quote && (*p == '\'' || *p == '"')) {
				quote = *p++;
				continue;
			}
			if (quote && *p == quote) {
				quote = 0;
				p++;
				continue;
			}
			if (o + 2 >= buflen) {
				snprintf(err, errlen, "[dpdk] eal: too long");
				return -1;
			}
			buf[o++] = *p++;
		}
		if (quote) {
			snprintf(err, errlen, "[dpdk] eal: unterminated quote");
			return -1;
		}
		buf[o++] = '\0';
	}
	return argc;
}

/* Parses a size like 512 or 512M (MiB) as EAL's -m does. */
static long parse_mb(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || v <= 0)
		return -1;
	return v;
}

/* The argument string of the first --vdev named name ("net_pcap0,rx_pcap=..."),
 * or NULL. */
static const char *vdev_arg(char **argv, int argc, const char *name)
{
	size_t nl = strlen(name);
	for (int i = 1; i < argc; i++) {
		const char *a = NULL;
		if (strcmp(argv[i], "--vdev") == 0 && i + 1 < argc)
			a = argv[i + 1];
		else if (strncmp(argv[i], "--vdev=", 7) == 0)
			a = argv[i] + 7;
		if (a && strncmp(a, name, nl) == 0 && (a[nl] == ',' || a[nl] == '\0'))
			return a;
	}
	return NULL;
}

/* The link type of the rx_pcap= files of vdev name (libpcap reads the
 * header); DEC_LINK_ETH for anything else; 0 with a message on a problem. */
static enum dec_link vdev_link(char **argv, int argc, const char *name, char *err, size_t errlen)
{
	enum dec_link link = DEC_LINK_ETH;
	bool first = true;
	const char *a = vdev_arg(argv, argc, name);
	if (a) {
		for (const char *f = strstr(a, "rx_pcap="); f; f = strstr(f + 1, "rx_pcap=")) {
			char path[4096], eb[PCAP_ERRBUF_SIZE] = "";
			const char *v = f + 8, *end = strchr(v, ',');
			size_t l = end ? (size_t)(end - v) : strlen(v);
			if (l >= sizeof(path))
				l = sizeof(path) - 1;
			memcpy(path, v, l);
			path[l] = '\0';
			pcap_t *p = pcap_open_offline(path, eb);
			if (!p) {
				snprintf(err, errlen, "%s: rx_pcap=%s: %s", name, path, eb);
				return 0;
			}
			enum dec_link k = capture_map_dlt(pcap_datalink(p));
			int dlt = pcap_datalink(p);
			pcap_close(p);
			if (!k) {
				snprintf(err, errlen, "%s: rx_pcap=%s: unsupported link type %d", name, path, dlt);
				return 0;
			}
			if (!first && k != link) {
				snprintf(err, errlen, "%s: the rx_pcap= files have different link types", name);
				return 0;
			}
			link = k;
			first = false;
		}
	}
	return link;
}

/* Is the vdev named name a finite net_pcap file replay? */
static bool vdev_is_replay(char **argv, int argc, const char *name)
{
	const char *a = vdev_arg(argv, argc, name);
	return a && strncmp(name, "net_pcap", 8) == 0 && strstr(a, "rx_pcap=") && !strstr(a, "infinite_rx=1");
}

static int validate(const struct rv_config *cfg, char **argv, int argc, unsigned *ports, unsigned *nports, char *err,
		    size_t errlen)
{
	if (cfg->dpdk_ports.count == 0) {
		snprintf(err, errlen, "[dpdk] ports: no port given");
		return -1;
	}
	if (cfg->dpdk_ports.count > DP_MAX_PORTS) {
		snprintf(err, errlen, "[dpdk] ports: at most %d ports", DP_MAX_PORTS);
		return -1;
	}
	for (size_t i = 0; i < cfg->dpdk_ports.count; i++) {
		char *end;
		const char *s = cfg->dpdk_ports.items[i];
		errno = 0;
		long v = strtol(s, &end, 10);
		if (errno || end == s || *end || v < 0 || v >= RTE_MAX_ETHPORTS) {
			snprintf(err, errlen, "[dpdk] ports: \"%s\" is not a port id (0..%d)", s, RTE_MAX_ETHPORTS - 1);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (ports[j] == (unsigned)v) {
				snprintf(err, errlen, "[dpdk] ports: port %ld listed twice", v);
				return -1;
			}
		ports[i] = (unsigned)v;
	}
	*nports = (unsigned)cfg->dpdk_ports.count;
	if (cfg->dpdk_workers < 1 || cfg->dpdk_workers > 64) {
		snprintf(err, errlen, "[dpdk] workers: %" PRId64 " is out of 1..64", cfg->dpdk_workers);
		return -1;
	}
	if (cfg->dpdk_burst > DP_MAX_BURST || cfg->dpdk_burst < 1) {
		snprintf(err, errlen, "[dpdk] burst: %" PRId64 " is out of 1..%d", cfg->dpdk_burst, DP_MAX_BURST);
		return -1;
	}
	bool nohuge = false;
	long mem_mb = -1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-huge") == 0)
			nohuge = true;
		else if (strcmp(argv[i], "-m") == 0) {
			if (i + 1 >= argc || (mem_mb = parse_mb(argv[i + 1])) < 0) {
				snprintf(err, errlen, "[dpdk] eal: -m needs a size in MiB");
				return -1;
			}
		} else if (strcmp(argv[i], "--in-memory") == 0 && nohuge) {
			snprintf(err, errlen, "[dpdk] eal: --in-memory cannot be combined with --no-huge");
			return -1;
		}
	}
	if (nohuge) {
		/* under --no-huge every mbuf takes a 4 KiB page, plus rings and descriptors */
		uint64_t need = (uint64_t)cfg->dpdk_mbufs * 8192u / (1024u * 1024u) + 32u;
		if (mem_mb < 0) {
			snprintf(err, errlen, "[dpdk] eal: --no-huge needs -m (at least %" PRIu64 " for %" PRId64 " mbufs)",
				 need, cfg->dpdk_mbufs);
			return -1;
		}
		if ((uint64_t)mem_mb < need) {
			snprintf(err, errlen,
				 "[dpdk] eal: -m %ld is too small for %" PRId64 " mbufs under --no-huge (needs -m %" PRIu64
				 " or fewer [dpdk] mbufs)",
				 mem_mb, cfg->dpdk_mbufs, need);
			return -1;
		}
	}
	return 0;
}

static int eal_start(int argc, char **argv, char *err, size_t errlen)
{
	if (eal_failed) {
		snprintf(err, errlen, "DPDK EAL failed earlier in this process");
		return -1;
	}
	if (eal_started) {
		snprintf(err, errlen, "DPDK EAL can be started only once per process");
		return -1;
	}
	rte_openlog_stream(stderr);
	/* rte_eal_init permutes argv; give it a copy */
	char *av[DP_MAX_ARGS + 2];
	for (int i = 0; i < argc; i++)
		av[i] = argv[i];
	av[argc] = NULL;
	int rc = rte_eal_init(argc, av);
	if (rc < 0) {
		eal_failed = true;
		snprintf(err, errlen, "DPDK EAL did not start: %s (check [dpdk] eal; see docs/dpdk.md)",
			 rte_strerror(rte_errno));
		return -1;
	}
	eal_started = true;
	return 0;
}

static uint64_t *ts_field(const struct capture *c, struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, c->ts_off, uint64_t *);
}

static void stamp(const struct capture *c, const struct dq *q, struct rte_mbuf **b, unsigned n)
{
	uint64_t now = 0;
	for (unsigned i = 0; i < n; i++) {
		if (q->offline && c->rxts_off >= 0 && (b[i]->ol_flags & c->rxts_flag)) {
			*ts_field(c, b[i]) = *RTE_MBUF_DYNFIELD(b[i], c->rxts_off, uint64_t *);
			continue;
		}
		if (!now)
			now = util_wall_us_();
		*ts_field(c, b[i]) = now;
	}
}

/* An empty poll on q at mono time now: EOF rule (see the top comment). */
static void empty_poll(struct capture *c, struct dq *q, uint64_t now)
{
	if (!q->offline)
		return;
	if (rte_mempool_avail_count(c->mp) < c->burst) {
		q->last_us = now; /* starved of mbufs: not evidence of EOF */
		return;
	}
	if (now - q->last_us > (q->got_any ? DP_EOF_US : DP_EOF_EMPTY_US))
		__atomic_store_n(&q->eof, 1, __ATOMIC_RELEASE);
}

/* Polls one queue into b; returns the count (already stamped). */
static unsigned poll_queue(struct capture *c, struct dq *q, struct rte_mbuf **b, unsigned max)
{
	uint16_t n = rte_eth_rx_burst(q->port, q->queue, b, (uint16_t)max);
	uint64_t now = util_mono_us_();
	if (n == 0) {
		empty_poll(c, q, now);
		return 0;
	}
	stamp(c, q, b, n);
	__atomic_store_n(&q->rx, q->rx + n, __ATOMIC_RELAXED);
	q->last_us = now;
	q->got_any = true;
	return n;
}

/* RX of one worker's queues into its ring to the main lcore; returns true
 * when anything arrived.  *all_eof: every queue of the worker ended. */
static bool worker_rx(struct dworker *w, struct rte_mbuf **b, bool *all_eof)
{
	struct capture *c = w->cap;
	bool any = false;
	*all_eof = true;
	for (unsigned i = 0; i < w->nq; i++) {
		struct dq *q = &c->q[w->q[i]];
		if (__atomic_load_n(&q->eof, __ATOMIC_RELAXED))
			continue;
		*all_eof = false;
		/* net_pcap loses the packet it read when it cannot get an mbuf
		 * (rx_nombuf): a replay only polls while the pool has room */
		if (q->offline && rte_mempool_avail_count(c->mp) < c->pool_guard) {
			q->last_us = util_mono_us_();
			continue;
		}
		unsigned n = poll_queue(c, q, b, c->burst);
		if (!n)
			continue;
		any = true;
		unsigned k = rte_ring_sp_enqueue_burst(w->ring, (void **)b, n, NULL);
		/* a finite replay waits for room; live traffic is dropped and counted.
		 * A pipeline worker keeps doing its share of the work meanwhile (call
		 * control may be waiting for room in this worker's ring). */
		while (k < n && q->offline && !__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
			if (__atomic_load_n(&c->mode, __ATOMIC_ACQUIRE) != MODE_PIPELINE || c->work(c->work_ctx, w->idx) == 0)
				rte_pause();
			k += rte_ring_sp_enqueue_burst(w->ring, (void **)(b + k), n - k, NULL);
		}
		if (k < n) {
			rte_pktmbuf_free_bulk(b + k, n - k);
			__atomic_store_n(&q->ring_full, q->ring_full + (n - k), __ATOMIC_RELAXED);
		}
	}
	return any;
}

/* An RX lcore: polls its queues into its ring until they end or stop is
 * requested; in a pipeline it also runs its worker's share of the engine
 * until the pipeline has finished (or quit is set). */
static int worker_main(void *arg)
{
	struct dworker *w = arg;
	struct capture *c = w->cap;
	struct rte_mbuf *b[DP_MAX_BURST];
	unsigned idle = 0;
	bool rx_done = false;
	while (!__atomic_load_n(&c->quit, __ATOMIC_ACQUIRE)) {
		bool any = false;
		if (!rx_done) {
			bool all_eof;
			any = worker_rx(w, b, &all_eof);
			if (all_eof || __atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
				rx_done = true;
				__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
			}
		}
		int mode = __atomic_load_n(&c->mode, __ATOMIC_ACQUIRE);
		if (mode == MODE_PIPELINE) {
			int r = c->work(c->work_ctx, w->idx);
			if (r < 0)
				break;
			any |= r > 0;
		} else if (rx_done && mode == MODE_PLAIN) {
			break;
		}
		if (any)
			idle = 0;
		else if (++idle > 1024)
			usleep(20); /* be kind to shared CPUs when nothing arrives */
	}
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return 0;
}

static int setup_port(struct capture *c, uint16_t port, unsigned want_q, bool offline, const struct rv_config *cfg,
		      char *err, size_t errlen)
{
	struct rte_eth_dev_info di;
	if (!rte_eth_dev_is_valid_port(port)) {
		snprintf(err, errlen, "[dpdk] ports: port %u does not exist (%u port%s found; check --vdev/PCI in [dpdk] eal)",
			 port, rte_eth_dev_count_avail(), rte_eth_dev_count_avail() == 1 ? "" : "s");
		return -1;
	}
	int rc = rte_eth_dev_info_get(port, &di);
	if (rc) {
		snprintf(err, errlen, "port %u: cannot read device info: %s", port, rte_strerror(-rc));
		return -1;
	}
	unsigned nq = want_q;
	if (offline)
		nq = di.max_rx_queues; /* net_pcap: one queue per rx_pcap= file, read them all */
	if (nq > di.max_rx_queues)
		nq = di.max_rx_queues;
	if (nq < 1) {
		snprintf(err, errlen, "port %u (%s): no RX queue", port, di.driver_name);
		return -1;
	}
	if (c->nq + nq > DP_MAX_QUEUES) {
		snprintf(err, errlen, "too many RX queues (max %d)", DP_MAX_QUEUES);
		return -1;
	}
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (nq > 1 && di.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = (uint8_t *)(uintptr_t)sym_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(sym_rss_key);
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP) & di.flow_type_rss_offloads;
	}
	if (offline && (di.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP))
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	uint16_t ntx = di.max_tx_queues > 0 ? 1 : 0;
	rc = rte_eth_dev_configure(port, (uint16_t)nq, ntx, &conf);
	if (rc) {
		snprintf(err, errlen, "port %u (%s): configure with %u RX queue%s failed: %s", port, di.driver_name, nq,
			 nq == 1 ? "" : "s", rte_strerror(-rc));
		return -1;
	}
	uint16_t nrx = (uint16_t)cfg->dpdk_rx_desc, ntxd = 512;
	rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntxd);
	int sock = rte_eth_dev_socket_id(port);
	if (sock < 0)
		sock = (int)rte_socket_id();
	for (unsigned q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(port, (uint16_t)q, nrx, (unsigned)sock, NULL, c->mp);
		if (rc) {
			snprintf(err, errlen, "port %u: RX queue %u setup failed: %s", port, q, rte_strerror(-rc));
			return -1;
		}
		struct dq *d = &c->q[c->nq++];
		d->port = port;
		d->queue = (uint16_t)q;
		d->offline = offline;
	}
	if (ntx) {
		rc = rte_eth_tx_queue_setup(port, 0, ntxd, (unsigned)sock, NULL);
		if (rc) {
			snprintf(err, errlen, "port %u: TX queue setup failed: %s", port, rte_strerror(-rc));
			return -1;
		}
	}
	rc = rte_eth_dev_start(port);
	if (rc) {
		snprintf(err, errlen, "port %u (%s): start failed: %s", port, di.driver_name, rte_strerror(-rc));
		return -1;
	}
	c->port_started[c->nports - 1] = true;
	rte_eth_promiscuous_enable(port); /* not every PMD can; SPAN ports need it */
	rte_eth_stats_reset(port);
	return 0;
}

static void dpdk_close_(struct capture *c);

static int dpdk_open_(struct capture **out, const struct rv_config *cfg, const char *source, bool live, char *err,
		      size_t errlen)
{
	(void)source; /* the devices come from [dpdk] eal / ports */
	(void)live;
	char buf[RV_CONFIG_VALUE_MAX + 16];
	char *argv[DP_MAX_ARGS + 1];
	argv[0] = (char *)"rtpvault";
	int n = split_args(cfg->dpdk_eal, buf, sizeof(buf), argv + 1, DP_MAX_ARGS - 1, err, errlen);
	if (n < 0)
		return -1;
	int argc = n + 1;
	unsigned ports[DP_MAX_PORTS], nports = 0;
	if (validate(cfg, argv, argc, ports, &nports, err, errlen) < 0)
		return -1;
	if (eal_start(argc, argv, err, errlen) < 0)
		return -1;

	struct capture *c = rte_zmalloc("rtpvault_capture", sizeof(*c), RTE_CACHE_LINE_SIZE);
	if (!c) {
		snprintf(err, errlen, "out of DPDK memory for the capture state (raise -m)");
		return -1;
	}
	c->burst = (unsigned)cfg->dpdk_burst;
	c->rxts_off = -1;
	unsigned workers = (unsigned)cfg->dpdk_workers;
	if (workers > 1 && rte_lcore_count() < workers + 1) {
		snprintf(err, errlen,
			 "[dpdk] workers = %u needs %u lcores (main + %u RX) but EAL has %u: give e.g. --lcores "
			 "'0@0,1-%u@(0-%ld)' in [dpdk] eal",
			 workers, workers + 1, workers, rte_lcore_count(), workers, sysconf(_SC_NPROCESSORS_ONLN) - 1);
		dpdk_close_(c);
		return -1;
	}
	static const struct rte_mbuf_dynfield tsdesc = {
		.name = "rtpvault_dynfield_rx_us",
		.size = sizeof(uint64_t),
		.align = __alignof__(uint64_t),
	};
	c->ts_off = rte_mbuf_dynfield_register(&tsdesc);
	if (c->ts_off < 0) {
		snprintf(err, errlen, "cannot register the mbuf timestamp field: %s", rte_strerror(rte_errno));
		dpdk_close_(c);
		return -1;
	}
	/* net_af_packet reassembles IP fragments in the kernel (its fanout uses
	 * PACKET_FANOUT_FLAG_DEFRAG): a datagram larger than a frame would be cut
	 * short.  Bigger mbufs let it run with framesz=4096. */
	uint16_t room = RTE_MBUF_DEFAULT_BUF_SIZE;
	for (size_t i = 0; i < nports; i++) {
		struct rte_eth_dev_info di;
		if (rte_eth_dev_is_valid_port((uint16_t)ports[i]) && rte_eth_dev_info_get((uint16_t)ports[i], &di) == 0 &&
		    di.driver_name && strcmp(di.driver_name, "net_af_packet") == 0)
			room = RTE_PKTMBUF_HEADROOM + 4096;
	}
	c->mp = rte_pktmbuf_pool_create("rtpvault_rx", (unsigned)cfg->dpdk_mbufs, 256, 0, room, (int)rte_socket_id());
	if (!c->mp) {
		snprintf(err, errlen, "cannot create a pool of %" PRId64 " mbufs: %s (raise -m or lower [dpdk] mbufs)",
			 cfg->dpdk_mbufs, rte_strerror(rte_errno));
		dpdk_close_(c);
		return -1;
	}
	c->offline = true;
	for (unsigned i = 0; i < nports; i++) {
		char name[RTE_ETH_NAME_MAX_LEN] = "";
		uint16_t port = (uint16_t)ports[i];
		if (rte_eth_dev_is_valid_port(port))
			rte_eth_dev_get_name_by_port(port, name);
		bool replay = vdev_is_replay(argv, argc, name);
		enum dec_link lk = vdev_link(argv, argc, name, err, errlen);
		if (!lk || (i > 0 && lk != c->link)) {
			if (lk)
				snprintf(err, errlen, "[dpdk] ports: ports with different link types");
			dpdk_close_(c);
			return -1;
		}
		c->link = lk;
		if (!replay)
			c->offline = false;
		c->ports[c->nports++] = port;
		if (setup_port(c, port, workers, replay, cfg, err, errlen) < 0) {
			dpdk_close_(c);
			return -1;
		}
	}
	if (rte_mbuf_dyn_rx_timestamp_register(&c->rxts_off, &c->rxts_flag) < 0)
		c->rxts_off = -1;
	uint64_t now = util_mono_us_();
	for (unsigned i = 0; i < c->nq; i++)
		c->q[i].last_us = now;
	if (workers > 1) {
		unsigned lc, wi = 0;
		RTE_LCORE_FOREACH_WORKER(lc)
		{
			if (wi >= workers)
				break;
			struct dworker *w = &c->w[wi];
			w->cap = c;
			w->idx = wi;
			w->lcore = lc;
			char rn[RTE_RING_NAMESIZE];
			snprintf(rn, sizeof(rn), "rv_rx%u", wi);
			w->ring = rte_ring_create(rn, (unsigned)cfg->dpdk_ring_size, rte_socket_id(),
						  RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
			if (!w->ring) {
				snprintf(err, errlen, "cannot create ring %s of %" PRId64 ": %s", rn, cfg->dpdk_ring_size,
					 rte_strerror(rte_errno));
				c->nworkers = wi;
				dpdk_close_(c);
				return -1;
			}
			wi++;
		}
		c->nworkers = wi;
		for (unsigned i = 0; i < c->nq; i++) {
			struct dworker *w = &c->w[c->q[i].queue % c->nworkers];
			c->q[i].worker = (unsigned)(w - c->w);
			w->q[w->nq++] = i;
		}
		c->nsrc = c->nworkers;
		/* bursts in flight plus what the other lcores' mempool caches may hold */
		c->pool_guard = 2 * c->burst * c->nworkers + 512 * (c->nworkers + 1);
		if ((uint64_t)c->nworkers * (uint64_t)cfg->dpdk_ring_size + c->pool_guard + c->nsrc * DP_MAX_BURST >
		    (uint64_t)cfg->dpdk_mbufs)
			fprintf(stderr,
				"rtpvault: dpdk: [dpdk] mbufs = %" PRId64 " is small for %u rings of %" PRId64
				": replays will wait for buffers and may be merged out of time order\n",
				cfg->dpdk_mbufs, c->nworkers, cfg->dpdk_ring_size);
	} else {
		c->nsrc = c->nq;
	}
	c->src = calloc(c->nsrc, sizeof(*c->src));
	if (!c->src) {
		snprintf(err, errlen, "out of memory");
		dpdk_close_(c);
		return -1;
	}
	for (unsigned i = 0; i < c->nworkers; i++) {
		struct dworker *w = &c->w[i];
		/* launched even without a queue: in a pipeline it is a worker */
		int rc = rte_eal_remote_launch(worker_main, w, w->lcore);
		if (rc) {
			snprintf(err, errlen, "cannot launch RX lcore %u: %s", w->lcore, rte_strerror(-rc));
			dpdk_close_(c);
			return -1;
		}
		w->launched = true;
	}
	*out = c;
	return 0;
}

/* Refills source i; returns true when it has packets. */
static bool refill(struct capture *c, unsigned i)
{
	struct src *s = &c->src[i];
	if (s->pos < s->n)
		return true;
	if (s->done)
		return false;
	s->n = s->pos = 0;
	if (c->nworkers) {
		struct dworker *w = &c->w[i];
		int wdone = __atomic_load_n(&w->done, __ATOMIC_ACQUIRE);
		s->n = rte_ring_sc_dequeue_burst(w->ring, (void **)s->m, DP_MAX_BURST, NULL);
		if (!s->n && wdone)
			s->done = true;
	} else {
		struct dq *q = &c->q[i];
		if (__atomic_load_n(&c->stop, __ATOMIC_RELAXED) || q->eof) {
			s->done = true;
			return false;
		}
		s->n = poll_queue(c, q, s->m, c->burst);
	}
	return s->n > 0;
}

/* Hands m to the engine; true when a pipeline worker took it (it frees it). */
static bool deliver(struct capture *c, struct rte_mbuf *m, capture_cb cb, void *ctx)
{
	uint64_t ts = *ts_field(c, m);
	if (ts < c->last_ts && !c->offline)
		ts = c->last_ts; /* reception stamps of different lcores: keep time monotonic */
	c->last_ts = ts;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const uint8_t *p;
	if (m->nb_segs == 1) {
		p = rte_pktmbuf_mtod(m, const uint8_t *);
		if (len > m->data_len)
			len = m->data_len;
	} else {
		if (len > sizeof(c->seg))
			len = sizeof(c->seg);
		p = rte_pktmbuf_read(m, 0, len, c->seg);
		if (!p)
			return false;
		if (c->frame) {
			c->frame(c->work_ctx, ts, p, len, len, NULL); /* p is our copy: no owner to pass */
			return false;
		}
	}
	if (c->frame)
		return c->frame(c->work_ctx, ts, p, len, len, m);
	cb(ctx, ts, p, len, len);
	return false;
}

static int dpdk_next_(struct capture *c, capture_cb cb, void *ctx, int max)
{
	struct rte_mbuf *fr[DP_MAX_BURST];
	unsigned nfr = 0, delivered = 0;
	if (max > DP_MAX_BURST)
		max = DP_MAX_BURST;
	if (__atomic_load_n(&c->mode, __ATOMIC_RELAXED) == MODE_UNDECIDED)
		__atomic_store_n(&c->mode, MODE_PLAIN, __ATOMIC_RELEASE);
	bool all_done = true;
	for (unsigned i = 0; i < c->nsrc; i++) {
		refill(c, i);
		if (!c->src[i].done || c->src[i].pos < c->src[i].n)
			all_done = false;
	}
	if (all_done)
		return CAP_EOF;
	if (c->offline && c->nsrc > 1) {
		/* merge the sources by capture time: wait for a lagging source (bounded) */
		while ((int)delivered < max) {
			int best = -1;
			bool waiting = false;
			for (unsigned i = 0; i < c->nsrc; i++) {
				struct src *s = &c->src[i];
				if (!refill(c, i)) {
					if (!s->done)
						waiting = true;
					continue;
				}
				if (best < 0 || *ts_field(c, s->m[s->pos]) < *ts_field(c, c->src[best].m[c->src[best].pos]))
					best = (int)i;
			}
			if (best < 0)
				break;
			if (waiting) {
				/* a source is still producing: do not overtake it, unless the
				 * others' rings hold so many mbufs that it cannot receive */
				struct src *b = &c->src[best];
				uint64_t now = util_mono_us_();
				if (!b->wait_since)
					b->wait_since = now;
				if (now - b->wait_since < DP_MERGE_WAIT_US ||
				    rte_mempool_avail_count(c->mp) >= c->pool_guard)
					break;
			} else {
				c->src[best].wait_since = 0;
			}
			struct src *s = &c->src[best];
			struct rte_mbuf *m = s->m[s->pos++];
			if (!deliver(c, m, cb, ctx))
				fr[nfr++] = m;
			delivered++;
		}
	} else {
		for (unsigned i = 0; i < c->nsrc && (int)delivered < max; i++) {
			struct src *s = &c->src[i];
			while (s->pos < s->n && (int)delivered < max) {
				struct rte_mbuf *m = s->m[s->pos++];
				if (!deliver(c, m, cb, ctx))
					fr[nfr++] = m;
				delivered++;
			}
		}
	}
	if (nfr)
		rte_pktmbuf_free_bulk(fr, nfr);
	c->processed += delivered;
	if (!delivered) {
		if (++c->idle > 64)
			usleep(20);
	} else {
		c->idle = 0;
	}
	return (int)delivered;
}

static enum dec_link dpdk_link_(const struct capture *c)
{
	return c->link;
}

void dpdk_capture_totals(struct capture *c, uint64_t *received, uint64_t *processed, uint64_t *ring_full)
{
	uint64_t rx = 0, rf = 0;
	for (unsigned i = 0; i < c->nq; i++) {
		rx += __atomic_load_n(&c->q[i].rx, __ATOMIC_RELAXED);
		rf += __atomic_load_n(&c->q[i].ring_full, __ATOMIC_RELAXED);
	}
	*received = rx;
	*processed = c->processed;
	*ring_full = rf;
}

static void dpdk_stats_(struct capture *c, struct capture_stats *st)
{
	uint64_t rx, pr, rf;
	memset(st, 0, sizeof(*st));
	dpdk_capture_totals(c, &rx, &pr, &rf);
	st->received = rx;
	st->dropped = rf;
	for (unsigned i = 0; i < c->nports; i++) {
		struct rte_eth_stats es;
		if (rte_eth_stats_get(c->ports[i], &es) == 0) {
			st->dropped += es.imissed + es.rx_nombuf;
			st->if_dropped += es.ierrors;
		}
	}
}

static void kv_put(struct stats_kv *kv, size_t *n, size_t max, const char *name, const char *labels, uint64_t v)
{
	if (*n >= max)
		return;
	snprintf(kv[*n].name, sizeof(kv[*n].name), "%s", name);
	snprintf(kv[*n].labels, sizeof(kv[*n].labels), "%s", labels);
	kv[*n].v = v;
	(*n)++;
}

size_t dpdk_capture_detail(struct capture *c, struct stats_kv *kv, size_t max)
{
	size_t n = 0;
	char lb[48];
	uint64_t rx, pr, rf;
	dpdk_capture_totals(c, &rx, &pr, &rf);
	kv_put(kv, &n, max, "dpdk_received", "", rx);
	kv_put(kv, &n, max, "dpdk_processed", "", pr);
	kv_put(kv, &n, max, "dpdk_ring_full_drops", "", rf);
	kv_put(kv, &n, max, "dpdk_workers", "", c->nworkers);
	for (unsigned i = 0; i < c->nports; i++) {
		struct rte_eth_stats es;
		snprintf(lb, sizeof(lb), "port=\"%u\"", c->ports[i]);
		if (rte_eth_stats_get(c->ports[i], &es) == 0) {
			kv_put(kv, &n, max, "dpdk_port_ipackets", lb, es.ipackets);
			kv_put(kv, &n, max, "dpdk_port_imissed", lb, es.imissed);
			kv_put(kv, &n, max, "dpdk_port_rx_nombuf", lb, es.rx_nombuf);
			kv_put(kv, &n, max, "dpdk_port_ierrors", lb, es.ierrors);
			uint64_t qe = 0;
			for (unsigned k = 0; k < RTE_ETHDEV_QUEUE_STAT_CNTRS; k++)
				qe += es.q_errors[k];
			kv_put(kv, &n, max, "dpdk_port_q_errors", lb, qe);
		}
	}
	for (unsigned i = 0; i < c->nq; i++) {
		snprintf(lb, sizeof(lb), "port=\"%u\",queue=\"%u\"", c->q[i].port, c->q[i].queue);
		kv_put(kv, &n, max, "dpdk_queue_received", lb, __atomic_load_n(&c->q[i].rx, __ATOMIC_RELAXED));
		kv_put(kv, &n, max, "dpdk_queue_ring_full_drops", lb,
		       __atomic_load_n(&c->q[i].ring_full, __ATOMIC_RELAXED));
	}
	return n;
}

bool dpdk_capture_live(const struct capture *c)
{
	return !c->offline;
}

void dpdk_capture_request_stop(struct capture *c)
{
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
}

unsigned dpdk_capture_workers(const struct capture *c)
{
	return c->nworkers;
}

void dpdk_capture_attach(struct capture *c, dpdk_work_fn work, dpdk_frame_fn frame, void *ctx)
{
	c->work = work;
	c->frame = frame;
	c->work_ctx = ctx;
	__atomic_store_n(&c->mode, MODE_PIPELINE, __ATOMIC_RELEASE);
}

void dpdk_capture_join(struct capture *c)
{
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&c->quit, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < c->nworkers; i++) {
		if (c->w[i].launched)
			rte_eal_wait_lcore(c->w[i].lcore);
		c->w[i].launched = false;
	}
}

void dpdk_capture_release(void *mbuf)
{
	rte_pktmbuf_free(mbuf);
}

static void dpdk_close_(struct capture *c)
{
	if (!c)
		return;
	dpdk_capture_join(c);
	/* whatever was received and not handed to the engine (an error path) */
	for (unsigned i = 0; c->src && i < c->nsrc; i++) {
		struct src *s = &c->src[i];
		if (s->pos < s->n) {
			c->discarded += s->n - s->pos;
			rte_pktmbuf_free_bulk(s->m + s->pos, s->n - s->pos);
		}
	}
	for (unsigned i = 0; i < c->nworkers; i++) {
		void *m;
		while (c->w[i].ring && rte_ring_sc_dequeue(c->w[i].ring, &m) == 0) {
			c->discarded++;
			rte_pktmbuf_free(m);
		}
		rte_ring_free(c->w[i].ring);
	}
	if (c->discarded)
		fprintf(stderr, "rtpvault: dpdk: %" PRIu64 " received frames discarded at close\n", c->discarded);
	for (unsigned i = 0; i < c->nports; i++) {
		if (!c->port_started[i])
			continue;
		int rc = rte_eth_dev_stop(c->ports[i]);
		if (rc)
			fprintf(stderr, "rtpvault: dpdk: port %u stop: %s\n", c->ports[i], rte_strerror(-rc));
		rte_eth_dev_close(c->ports[i]);
	}
	free(c->src);
	rte_mempool_free(c->mp);
	rte_free(c);
	/* the runtime dir (/var/run/dpdk/<prefix>) stays behind after cleanup;
	 * remove it when empty (--no-shconf) so runs leave nothing */
	char rdir[4096];
	snprintf(rdir, sizeof(rdir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (rdir[0]) {
		/* telemetry unlinks its sockets only at exit */
		static const char *const tel[] = { "dpdk_telemetry.v2", "dpdk_telemetry" };
		for (size_t i = 0; i < sizeof(tel) / sizeof(tel[0]); i++) {
			char f[4200];
			snprintf(f, sizeof(f), "%s/%s", rdir, tel[i]);
			unlink(f);
		}
		rmdir(rdir); /* fails, harmlessly, when shared config files remain */
	}
}

const struct capture_ops capture_dpdk_ops = {
	.name = "dpdk",
	.open = dpdk_open_,
	.next = dpdk_next_,
	.link = dpdk_link_,
	.stats = dpdk_stats_,
	.close = dpdk_close_,
};
