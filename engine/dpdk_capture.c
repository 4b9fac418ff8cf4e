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
 * IP reassembly (rte_ip_frag), where bursts are received (the RX lcores,
 * or the main lcore when workers = 1): every queue has its own
 * rte_ip_frag_tbl, polled only by the lcore that owns the queue, and every
 * polling lcore one death row, freed once per burst (and earlier only when
 * a long burst could overflow it).  IPv4 and IPv6 fragments over Ethernet,
 * with up to two 802.1Q/802.1ad tags, go to the table (l2_len/l3_len set;
 * an IPv6 Fragment header must follow the fixed header); a completed
 * datagram takes the place of the fragment that completed it, with that
 * fragment's capture time (as parsers/ipreasm.c does), and its IPv4 header
 * checksum recomputed; incomplete ones stay in the table.  Everything else
 * passes unchanged to the engine, whose own reassembler handles it:
 * other link types (Linux SLL, raw IP ...), fragments inside tunnels,
 * IPv6 fragments behind other extension headers, truncated, oversize or
 * multi-segment fragments (counted as frag_passed), atomic fragments.
 * Expiry: a datagram whose first fragment arrived [limits] frag_timeout or
 * more before the current fragment is dropped (as the engine does).  The
 * clock is the TSC on live ports; on a finite replay it is the queue's
 * capture time in µs (the running maximum of its timestamps), so a replay
 * faster or slower than real time expires exactly what `capture -r`
 * would.  Table size: [limits] max_frag_datagrams per queue, capped so the
 * tables together hold at most a quarter of the pool (8 fragments per
 * datagram, RTE_LIBRTE_IP_FRAG_MAX_FRAG).  A queue's table is emptied
 * into the death row when the queue stops (end of a replay, SIGINT).
 * rte_ip_frag's limits (unlike the engine's reassembler): at most 8
 * fragments per datagram, a duplicated or overlapping fragment drops the
 * datagram, a full table drops the new fragment instead of the oldest
 * datagram, fragments of one datagram must arrive on one queue (RSS
 * hashes fragments by address).  All of these end in the death row.
 *
 * End of a replay: net_pcap without infinite_rx stops returning packets at
 * the end of its file.  A queue is at EOF when it has returned nothing for
 * 200 ms of polls (while the pool had free mbufs) after delivering at least
 * one packet, or for 1 s when it never delivered any.  The capture ends
 * when every queue is at EOF and every ring is drained.
 *
 * Accounting, exact once drained: received = processed + ring_full +
 * frag_absorbed (fragments merged into a datagram: k - 1 for k fragments)
 * + frag_freed (fragments freed by the death row) + frag_held (fragments in
 * the tables; 0 once every queue has stopped).  imissed / rx_nombuf /
 * ierrors come from rte_eth_stats_get().
 *
 * Does NOT: per-worker stream ownership (workers only receive and hand
 * over; decode, SIP, RTP and sealing run on the main lcore), rte_hash flow
 * tables, NIC hardware timestamps, or TX.
 */
/* rte_ip_frag_table_del_expired_entries() is still marked experimental */
#define ALLOW_EXPERIMENTAL_API 1

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
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
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
/* a reassembled frame: L2 (two VLAN tags) + IPv6 header + 65535 payload */
#define DP_SEG_MAX (65536u + 128u)
/* mbufs one rte_ip_frag call can put on a death row */
#define DP_DR_PER_CALL (RTE_LIBRTE_IP_FRAG_MAX_FRAG + 1u)

struct dq {
	uint16_t port, queue;
	bool offline;
	unsigned worker;
	uint64_t rx;          /* mbufs received (owner writes) */
	uint64_t ring_full;   /* mbufs freed on a full ring (owner writes) */
	uint64_t last_us;     /* last non-empty poll or start */
	bool got_any;
	int eof;
	/* IP reassembly (owner lcore only; counters written by the owner) */
	struct rte_ip_frag_tbl *tbl; /* NULL: no reassembly here (not Ethernet) */
	uint64_t clock_us;      /* replay: running maximum of the capture times */
	uint64_t frag_rx;       /* fragments handed to the table */
	uint64_t frag_done;     /* datagrams it completed */
	uint64_t frag_absorbed; /* fragments merged into them, k - 1 per datagram */
	uint64_t frag_freed;    /* fragments freed by the death row */
	uint64_t frag_held;     /* fragments in the table now */
	uint64_t frag_passed;   /* fragments left to the engine (see top comment) */
} __rte_cache_aligned;

enum mode { MODE_UNDECIDED = 0, MODE_PLAIN, MODE_PIPELINE };

struct dworker {
	struct capture *cap;
	unsigned idx;
	unsigned lcore;
	struct rte_ring *ring;
	unsigned nq;
	unsigned q[DP_MAX_QUEUES];
	struct rte_ip_frag_death_row *dr; /* this lcore's death row */
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
	unsigned ring_share; /* mbufs a replay worker may keep in its ring */
	unsigned mbufs;      /* size of the pool */
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
	struct rte_ip_frag_death_row *dr; /* the main lcore's (workers = 1) */
	uint32_t frag_entries;            /* datagrams per queue table, 0 = none */
	uint8_t seg[DP_SEG_MAX];
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

/* ---- IP reassembly with rte_ip_frag (see the top comment) ---- */

enum frag_kind {
	FRAG_NO = 0, /* not an IP fragment over Ethernet: the engine's business */
	FRAG_TABLE,  /* a fragment for the table (l2_len / l3_len set) */
	FRAG_PASS,   /* a fragment the table cannot take: left to the engine */
};

static uint16_t be16_(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* What m is for the reassembly table; for FRAG_TABLE *ip points at the IP
 * header and *v6 tells the version.  Reads only the first segment. */
static enum frag_kind frag_classify(struct rte_mbuf *m, uint8_t **ip, bool *v6)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t dl = m->data_len, pl = rte_pktmbuf_pkt_len(m), off = 14;
	if (dl < off)
		return FRAG_NO;
	uint16_t et = be16_(p + 12);
	for (unsigned tags = 0; et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ || et == 0x9100; tags++) {
		if (tags == 2 || dl < off + 4)
			return FRAG_NO;
		et = be16_(p + off + 2);
		off += 4;
	}
	const uint8_t *h = p + off;
	if (et == RTE_ETHER_TYPE_IPV4) {
		if (dl < off + 20 || h[0] >> 4 != 4)
			return FRAG_NO;
		uint32_t ihl = (h[0] & 15u) * 4u, tl = be16_(h + 2);
		uint16_t fo = be16_(h + 6);
		uint32_t ofs = (uint32_t)(fo & RTE_IPV4_HDR_OFFSET_MASK) * RTE_IPV4_HDR_OFFSET_UNITS;
		if (!(fo & RTE_IPV4_HDR_MF_FLAG) && ofs == 0)
			return FRAG_NO;
		/* malformed, cut short by the snap length, past 65535 bytes, or
		 * scattered: the engine's reassembler judges (and counts) it */
		if (ihl < 20 || tl <= ihl || off + tl > pl || ofs + tl > 65535u || m->nb_segs != 1 || dl < off + ihl)
			return FRAG_PASS;
		m->l2_len = off;
		m->l3_len = ihl;
		*ip = p + off;
		*v6 = false;
		return FRAG_TABLE;
	}
	if (et == RTE_ETHER_TYPE_IPV6) {
		if (dl < off + 40 || h[0] >> 4 != 6)
			return FRAG_NO;
		uint32_t plen = be16_(h + 4), at = off + 40;
		uint8_t nh = h[6];
		unsigned ext = 0;
		/* hop-by-hop, routing, destination options before a Fragment header */
		while (nh == 0 || nh == 43 || nh == 60) {
			if (++ext > 8 || dl < at + 8)
				return FRAG_NO;
			nh = p[at];
			at += (p[at + 1] + 1u) * 8u;
		}
		if (nh != IPPROTO_FRAGMENT || dl < at + 8)
			return FRAG_NO;
		uint16_t fo = be16_(p + at + 2);
		uint32_t ofs = fo & 0xfff8u;
		if (ofs == 0 && !(fo & 1u))
			return FRAG_NO; /* atomic fragment (RFC 6946): decoded as a whole */
		/* rte_ip_frag wants the Fragment header right after the fixed one */
		if (ext || plen <= 8 || off + 40 + plen > pl || ofs + plen - 8 > 65535u || m->nb_segs != 1)
			return FRAG_PASS;
		m->l2_len = off;
		m->l3_len = 40 + 8;
		*ip = p + off;
		*v6 = true;
		return FRAG_TABLE;
	}
	return FRAG_NO;
}

/* Fragments on dr->row[from..cnt): an entry is one fragment, or the chain
 * of those of a datagram abandoned while being joined (one per segment:
 * the table only takes single-segment fragments). */
static uint64_t dr_frags(const struct rte_ip_frag_death_row *dr, uint32_t from)
{
	uint64_t n = 0;
	for (uint32_t i = from; i < dr->cnt; i++)
		n += dr->row[i]->nb_segs;
	return n;
}

static void cnt_add(uint64_t *c, uint64_t v)
{
	if (v)
		__atomic_store_n(c, *c + v, __ATOMIC_RELAXED);
}

/* Drops q's expired datagrams into dr (not freed here); returns how many
 * fragments went. */
static uint64_t frag_expire(struct dq *q, struct rte_ip_frag_death_row *dr, uint64_t tms)
{
	uint32_t d0 = dr->cnt;
	rte_ip_frag_table_del_expired_entries(q->tbl, dr, tms);
	return dr_frags(dr, d0);
}

/* Passes the burst b[0..n) of q through q's table: returns how many frames
 * remain in b (in order; a completed datagram in the place of the fragment
 * that completed it, with its capture time).  dr (the polling lcore's
 * death row) is freed before returning. */
static unsigned frag_burst(struct capture *c, struct dq *q, struct rte_ip_frag_death_row *dr, struct rte_mbuf **b,
			   unsigned n)
{
	uint64_t rx = 0, done = 0, absorbed = 0, freed = 0, passed = 0, held = q->frag_held, tsc = 0;
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = b[i];
		uint64_t ts = *ts_field(c, m);
		if (q->offline && ts > q->clock_us)
			q->clock_us = ts; /* capture time, as the engine's reassembler sees it */
		uint8_t *ip;
		bool v6;
		enum frag_kind kind = frag_classify(m, &ip, &v6);
		if (kind != FRAG_TABLE) {
			passed += kind == FRAG_PASS;
			b[k++] = m;
			continue;
		}
		if (!q->offline && !tsc)
			tsc = rte_rdtsc();
		uint64_t tms = q->offline ? q->clock_us : tsc;
		uint32_t d0 = dr->cnt;
		struct rte_mbuf *r;
		if (v6)
			r = rte_ipv6_frag_reassemble_packet(q->tbl, dr, m, tms, (struct rte_ipv6_hdr *)(void *)ip,
							    (struct rte_ipv6_fragment_ext *)(void *)(ip + 40));
		else
			r = rte_ipv4_frag_reassemble_packet(q->tbl, dr, m, tms, (struct rte_ipv4_hdr *)(void *)ip);
		uint64_t gone = dr_frags(dr, d0);
		rx++;
		freed += gone;
		held = held + 1 - gone;
		if (r) {
			done++;
			absorbed += r->nb_segs - 1u;
			held -= r->nb_segs;
			*ts_field(c, r) = ts; /* the time of the fragment that completed it */
			if (!v6) {
				struct rte_ipv4_hdr *h = rte_pktmbuf_mtod_offset(r, struct rte_ipv4_hdr *, r->l2_len);
				h->hdr_checksum = 0; /* rte_ip_frag leaves it 0 */
				h->hdr_checksum = rte_ipv4_cksum(h);
			}
			b[k++] = r;
		}
		/* a burst longer than RTE_IP_FRAG_DEATH_ROW_LEN may fill the row */
		if (dr->cnt > RTE_IP_FRAG_DEATH_ROW_MBUF_LEN - DP_DR_PER_CALL)
			rte_ip_frag_free_death_row(dr, 0);
	}
	if (held) {
		uint64_t gone = frag_expire(q, dr, q->offline ? q->clock_us : (tsc ? tsc : rte_rdtsc()));
		freed += gone;
		held -= gone;
	}
	if (dr->cnt)
		rte_ip_frag_free_death_row(dr, 4);
	cnt_add(&q->frag_rx, rx);
	cnt_add(&q->frag_done, done);
	cnt_add(&q->frag_absorbed, absorbed);
	cnt_add(&q->frag_freed, freed);
	cnt_add(&q->frag_passed, passed);
	__atomic_store_n(&q->frag_held, held, __ATOMIC_RELAXED);
	return k;
}

/* A live queue that received nothing: its datagrams still time out. */
static void frag_idle(struct dq *q, struct rte_ip_frag_death_row *dr)
{
	if (!q->tbl || q->offline || !q->frag_held)
		return;
	uint64_t gone = frag_expire(q, dr, rte_rdtsc());
	if (dr->cnt)
		rte_ip_frag_free_death_row(dr, 4);
	cnt_add(&q->frag_freed, gone);
	__atomic_store_n(&q->frag_held, q->frag_held - gone, __ATOMIC_RELAXED);
}

/* q stopped (end of its replay, or stop): every datagram still incomplete
 * goes to the death row, so frag_held ends at 0. */
static void frag_flush(struct dq *q, struct rte_ip_frag_death_row *dr)
{
	if (!q->tbl)
		return;
	for (;;) {
		uint64_t gone = frag_expire(q, dr, UINT64_MAX); /* as many as the row has room for */
		if (dr->cnt)
			rte_ip_frag_free_death_row(dr, 4);
		if (!gone)
			break;
		cnt_add(&q->frag_freed, gone);
		__atomic_store_n(&q->frag_held, q->frag_held - gone, __ATOMIC_RELAXED);
	}
}

/* Polls one queue into b; returns the count (stamped, and through the
 * queue's reassembly table with the polling lcore's death row dr). */
static unsigned poll_queue(struct capture *c, struct dq *q, struct rte_ip_frag_death_row *dr, struct rte_mbuf **b,
			   unsigned max)
{
	uint16_t n = rte_eth_rx_burst(q->port, q->queue, b, (uint16_t)max);
	uint64_t now = util_mono_us_();
	if (n == 0) {
		empty_poll(c, q, now);
		frag_idle(q, dr);
		return 0;
	}
	stamp(c, q, b, n);
	__atomic_store_n(&q->rx, q->rx + n, __ATOMIC_RELAXED);
	q->last_us = now;
	q->got_any = true;
	return q->tbl ? frag_burst(c, q, dr, b, n) : n;
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
		/* a replay keeps its share of the pool: the merge on the main lcore
		 * must never have to overtake a lagging queue for want of mbufs held
		 * in the other queues' rings */
		if (q->offline && rte_ring_count(w->ring) + c->burst > c->ring_share) {
			q->last_us = util_mono_us_();
			continue;
		}
		unsigned n = poll_queue(c, q, w->dr, b, c->burst);
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
				for (unsigned i = 0; i < w->nq; i++)
					frag_flush(&c->q[w->q[i]], w->dr);
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

/* One reassembly table per queue, one death row per polling lcore; only
 * on Ethernet (the layout frag_classify() reads).  See the top comment. */
static int frag_setup(struct capture *c, const struct rv_config *cfg, char *err, size_t errlen)
{
	if (c->link != DEC_LINK_ETH || c->nq == 0)
		return 0;
	/* held fragments may take at most a quarter of the pool, whatever the
	 * traffic: 8 per datagram (the most rte_ip_frag joins) */
	uint64_t ent = (uint64_t)cfg->limits_max_frag_datagrams;
	uint64_t cap = (uint64_t)cfg->dpdk_mbufs / 4u / ((uint64_t)c->nq * RTE_LIBRTE_IP_FRAG_MAX_FRAG);
	if (ent > cap)
		ent = cap;
	if (ent < 1)
		ent = 1;
	c->frag_entries = (uint32_t)ent;
	/* two candidate buckets of 8 per key: 4 slots per datagram keep
	 * collisions (a fragment dropped although there is room) rare */
	uint32_t per_bucket = 8, buckets = (uint32_t)((ent + 3) / 4);
	uint64_t hz = rte_get_tsc_hz();
	for (unsigned i = 0; i < c->nq; i++) {
		struct dq *q = &c->q[i];
		/* expired when now - first > max_cycles; the engine's rule is >= */
		uint64_t cycles = q->offline ? cfg->limits_frag_timeout - 1u
					     : (uint64_t)((double)cfg->limits_frag_timeout * (double)hz / 1e6);
		int sock = rte_eth_dev_socket_id(q->port);
		/* rte_ip_frag logs every table it allocates at INFO (as USER1) */
		int lv = rte_log_get_level(RTE_LOGTYPE_USER1);
		if (lv > (int)RTE_LOG_WARNING)
			rte_log_set_level(RTE_LOGTYPE_USER1, RTE_LOG_WARNING);
		q->tbl = rte_ip_frag_table_create(buckets, per_bucket, (uint32_t)ent, cycles,
						  sock < 0 ? SOCKET_ID_ANY : sock);
		if (lv > (int)RTE_LOG_WARNING)
			rte_log_set_level(RTE_LOGTYPE_USER1, (uint32_t)lv);
		if (!q->tbl) {
			snprintf(err, errlen,
				 "port %u queue %u: cannot create an IP reassembly table of %" PRIu64
				 " datagrams (raise -m or lower [limits] max_frag_datagrams)",
				 q->port, q->queue, ent);
			return -1;
		}
	}
	if (c->nworkers == 0) {
		c->dr = rte_zmalloc("rv_frag_dr", sizeof(*c->dr), RTE_CACHE_LINE_SIZE);
		if (!c->dr)
			goto nomem;
	}
	for (unsigned i = 0; i < c->nworkers; i++) {
		struct dworker *w = &c->w[i];
		w->dr = rte_zmalloc_socket("rv_frag_dr", sizeof(*w->dr), RTE_CACHE_LINE_SIZE,
					   (int)rte_lcore_to_socket_id(w->lcore));
		if (!w->dr)
			goto nomem;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of DPDK memory for the IP reassembly death rows (raise -m)");
	return -1;
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
		/* half of what is left for the RX rings; the rest for the pipeline's
		 * worker rings (zero-copy datagrams), the IP fragment tables and caches */
		c->mbufs = (unsigned)cfg->dpdk_mbufs;
		c->ring_share = c->mbufs > c->pool_guard ? (c->mbufs - c->pool_guard) / (2 * c->nworkers) : 0;
		if (c->ring_share < 2 * c->burst)
			c->ring_share = 2 * c->burst;
		/* live ports: every ring full at once must still leave the RX
		 * queues buffers, else the NIC drops (counted as rx_nombuf) */
		if (!c->offline && 2 * (uint64_t)c->nworkers * (uint64_t)cfg->dpdk_ring_size + c->pool_guard >
					   (uint64_t)cfg->dpdk_mbufs)
			fprintf(stderr,
				"rtpvault: dpdk: [dpdk] mbufs = %" PRId64 " is small for %u RX rings and %u worker rings of %" PRId64
				": under overload the pool runs dry before the rings fill (rx_nombuf instead of ring_full_drops)\n",
				cfg->dpdk_mbufs, c->nworkers, c->nworkers, cfg->dpdk_ring_size);
	} else {
		c->nsrc = c->nq;
	}
	if (frag_setup(c, cfg, err, errlen) < 0) {
		dpdk_close_(c);
		return -1;
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
			frag_flush(q, c->dr);
			return false;
		}
		s->n = poll_queue(c, q, c->dr, s->m, c->burst);
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
	uint32_t len = rte_pktmbuf_pkt_len(m), wire = len;
	const uint8_t *p;
	void *owner = m; /* what a pipeline worker may keep: not our copy in seg */
	if (m->nb_segs == 1) {
		p = rte_pktmbuf_mtod(m, const uint8_t *);
		if (len > m->data_len)
			len = m->data_len;
	} else {
		/* a jumbo frame, or a datagram rte_ip_frag joined: up to L2 +
		 * 40 + 65535 bytes, which seg holds (longer: cut, wire length kept) */
		if (len > sizeof(c->seg))
			len = sizeof(c->seg);
		p = rte_pktmbuf_read(m, 0, len, c->seg);
		if (!p)
			return false;
		owner = NULL;
	}
	if (c->frame)
		return c->frame(c->work_ctx, ts, p, len, wire, owner);
	cb(ctx, ts, p, len, wire);
	return false;
}

/* May the merge overtake a lagging source?  Only when the mbufs the merge
 * itself holds (the RX rings and our source buffers) leave the pool too few
 * for that source to receive: mbufs held elsewhere (pipeline worker rings,
 * fragment tables, lcore caches) come back without our help. */
static bool merge_starves(struct capture *c)
{
	if (rte_mempool_avail_count(c->mp) >= c->pool_guard)
		return false;
	uint64_t held = 0;
	for (unsigned i = 0; i < c->nworkers; i++)
		held += rte_ring_count(c->w[i].ring);
	for (unsigned i = 0; i < c->nsrc; i++)
		held += c->src[i].n - c->src[i].pos;
	return held + c->pool_guard > c->mbufs;
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
				if (now - b->wait_since < DP_MERGE_WAIT_US || !merge_starves(c))
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

static uint64_t ld_(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

void dpdk_capture_totals(struct capture *c, struct dpdk_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < c->nq; i++) {
		const struct dq *q = &c->q[i];
		t->received += ld_(&q->rx);
		t->ring_full += ld_(&q->ring_full);
		t->frag_reassembled += ld_(&q->frag_done);
		t->frag_absorbed += ld_(&q->frag_absorbed);
		t->frag_freed += ld_(&q->frag_freed);
		t->frag_held += ld_(&q->frag_held);
	}
	t->processed = c->processed;
}

static void dpdk_stats_(struct capture *c, struct capture_stats *st)
{
	struct dpdk_totals t;
	memset(st, 0, sizeof(*st));
	dpdk_capture_totals(c, &t);
	st->received = t.received;
	st->dropped = t.ring_full;
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
	/* per-queue counters, grouped by name (one # TYPE line each) */
	static const struct {
		const char *name;
		size_t off;
	} qc[] = {
		{ "dpdk_queue_received", offsetof(struct dq, rx) },
		{ "dpdk_queue_ring_full_drops", offsetof(struct dq, ring_full) },
		{ "dpdk_queue_frag_received", offsetof(struct dq, frag_rx) },
		{ "dpdk_queue_frag_reassembled", offsetof(struct dq, frag_done) },
		{ "dpdk_queue_frag_absorbed", offsetof(struct dq, frag_absorbed) },
		{ "dpdk_queue_frag_freed", offsetof(struct dq, frag_freed) },
		{ "dpdk_queue_frag_held", offsetof(struct dq, frag_held) },
		{ "dpdk_queue_frag_passed", offsetof(struct dq, frag_passed) },
	};
	size_t n = 0;
	char lb[48];
	struct dpdk_totals t;
	dpdk_capture_totals(c, &t);
	kv_put(kv, &n, max, "dpdk_received", "", t.received);
	kv_put(kv, &n, max, "dpdk_processed", "", t.processed);
	kv_put(kv, &n, max, "dpdk_ring_full_drops", "", t.ring_full);
	kv_put(kv, &n, max, "dpdk_frag_reassembled", "", t.frag_reassembled);
	kv_put(kv, &n, max, "dpdk_frag_absorbed", "", t.frag_absorbed);
	kv_put(kv, &n, max, "dpdk_frag_freed", "", t.frag_freed);
	kv_put(kv, &n, max, "dpdk_frag_held", "", t.frag_held);
	kv_put(kv, &n, max, "dpdk_frag_table_datagrams", "", c->frag_entries);
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
	for (size_t k = 0; k < sizeof(qc) / sizeof(qc[0]); k++) {
		for (unsigned i = 0; i < c->nq; i++) {
			snprintf(lb, sizeof(lb), "port=\"%u\",queue=\"%u\"", c->q[i].port, c->q[i].queue);
			kv_put(kv, &n, max, qc[k].name, lb, ld_((const uint64_t *)(const void *)((const char *)&c->q[i] + qc[k].off)));
		}
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
	for (unsigned i = 0; i < c->nq; i++) {
		if (!c->q[i].tbl)
			continue;
		c->discarded += c->q[i].frag_held; /* fragments of datagrams never completed */
		rte_ip_frag_table_destroy(c->q[i].tbl);
		c->q[i].tbl = NULL;
	}
	for (unsigned i = 0; i < c->nworkers; i++)
		rte_free(c->w[i].dr);
	rte_free(c->dr);
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
