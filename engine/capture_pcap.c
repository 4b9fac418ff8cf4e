/*
 * capture_pcap.c - libpcap backend: offline pcap/pcapng files and live
 * interfaces.
 *
 * Live capture uses TPACKET_V3 (libpcap's default on Linux; immediate mode
 * would switch to V2 and drop under load), a large kernel buffer
 * ([capture] buffer_size), an optional BPF filter, and non-blocking reads
 * driven by poll() so SIGINT/SIGTERM are honoured within poll_timeout even
 * when no traffic arrives.  Timestamps are requested in microseconds.
 *
 * Offline, a classic pcap file (version 2.4, this host's byte order, no BPF
 * filter, a regular file) is read by a record loop over a read-only mapping
 * of the file instead of libpcap's two fread()s per packet: about 350
 * instructions per packet fewer, and no copy of the file through a buffer
 * (docs/performance.md).  It delivers what libpcap would: the same frames,
 * lengths and timestamps (a nanosecond file's fraction divided by 1000, as
 * PCAP_TSTAMP_PRECISION_MICRO does).  A record it does not take as it is
 * (caplen above the snapshot length, a header or data cut short by the end
 * of the file, a mapping error) hands the file to libpcap from that record
 * on (fseeko to it), so libpcap's handling of damaged files, and its
 * errors, stay exactly as they were.  (A file truncated while it is being
 * read ends the process with SIGBUS, the limit of a mapping, where libpcap
 * would report a truncated file.)
 */
#include "capture.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

struct capture {
	pcap_t *p;
	bool live;
	enum dec_link link;
	int fd;
	int poll_ms;
	uint64_t delivered;
	capture_cb cb;
	void *ctx;
	/* the offline record loop (fast): the file mapped from map_off, the
	 * next record at file offset pos */
	bool fast;
	bool nsec;
	bool seek_failed; /* libpcap cannot take over: an error */
	int ffd;
	uint32_t snap;
	const uint8_t *map;
	size_t map_len;
	off_t map_off, pos;
};

#define FAST_WINDOW ((size_t)4 << 20)
#define FAST_AHEAD 2048
#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du

/* Sets up the record loop when the file qualifies (see the top of the file);
 * otherwise leaves everything to libpcap.  Nothing is read through
 * libpcap's FILE, so its offset stays where libpcap left it. */
static void fast_setup(struct capture *c, const struct rv_config *cfg)
{
	FILE *fp = pcap_file(c->p);
	struct stat st;
	uint32_t magic;
	if (!fp || (cfg->capture_bpf_filter && cfg->capture_bpf_filter[0]) || pcap_is_swapped(c->p) ||
	    pcap_major_version(c->p) != 2 || pcap_minor_version(c->p) != 4 || pcap_snapshot(c->p) <= 0)
		return;
	int fd = fileno(fp);
	off_t at = ftello(fp);
	if (fd < 0 || at < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    pread(fd, &magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
	    (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS))
		return;
	c->fast = true;
	c->nsec = magic == PCAP_MAGIC_NS;
	c->ffd = fd;
	c->snap = (uint32_t)pcap_snapshot(c->p);
	c->pos = at;
}

static void fast_unmap(struct capture *c)
{
	if (c->map)
		munmap((void *)(uintptr_t)c->map, c->map_len);
	c->map = NULL;
	c->map_len = 0;
}

/* Hands the file to libpcap at the next record (the one at pos). */
static void fast_stop(struct capture *c)
{
	c->fast = false;
	fast_unmap(c);
	if (fseeko(pcap_file(c->p), c->pos, SEEK_SET) < 0)
		c->seek_failed = true;
}

/* Makes need bytes at pos readable through the mapping: 1 when they are,
 * 0 when the file ends before, -1 on an error.  The file is mapped in
 * windows of FAST_WINDOW (at least the record) from the page of pos, so
 * at most one window of it is mapped at a time (RSS stays small); the size
 * is taken again for each window, so bytes appended while the file is read
 * are seen, as libpcap would see them. */
static int fast_remap(struct capture *c, size_t need)
{
	struct stat st;
	if (fstat(c->ffd, &st) < 0)
		return -1;
	if (c->pos + (off_t)need > st.st_size)
		return 0;
	fast_unmap(c);
	off_t at = c->pos & ~(off_t)(sysconf(_SC_PAGESIZE) - 1);
	size_t len = (size_t)(c->pos - at) + need;
	if (len < FAST_WINDOW)
		len = FAST_WINDOW;
	if ((off_t)len > st.st_size - at)
		len = (size_t)(st.st_size - at);
	void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, c->ffd, at);
	if (m == MAP_FAILED)
		return -1;
	madvise(m, len, MADV_SEQUENTIAL);
	c->map = m;
	c->map_len = len;
	c->map_off = at;
	return 1;
}

static inline int fast_fill(struct capture *c, size_t need)
{
	if (c->map && c->pos - c->map_off + (off_t)need <= (off_t)c->map_len)
		return 1;
	return fast_remap(c, need);
}

/* Delivers up to max records; stops the loop (fast_stop) at one libpcap
 * must read.  Returns the number delivered. */
static int fast_next(struct capture *c, int max)
{
	int n = 0;
	while (n < max) {
		int r = fast_fill(c, 16);
		if (r == 0) {
			struct stat st;
			if (fstat(c->ffd, &st) == 0 && st.st_size == c->pos)
				return n; /* the end, between records */
		}
		if (r <= 0) {
			fast_stop(c);
			return n;
		}
		uint32_t h[4]; /* ts_sec, ts_usec (or nsec), caplen, len, host order */
		memcpy(h, c->map + (c->pos - c->map_off), sizeof(h));
		if (h[2] > c->snap || fast_fill(c, 16 + (size_t)h[2]) <= 0) {
			fast_stop(c);
			return n;
		}
		/* as libpcap: struct pcap_timeval holds 32-bit signed fields */
		long sec = (int32_t)h[0], frac = (int32_t)h[1];
		if (c->nsec)
			frac /= 1000;
		uint64_t ts = (uint64_t)sec * 1000000u + (uint64_t)frac;
		size_t at = (size_t)(c->pos - c->map_off);
		const uint8_t *data = c->map + at + 16;
		/* The next header's address is only known from this one's length, so
		 * walking the records is a chain of cache misses; asking for the
		 * bytes FAST_AHEAD further on (as many as this record has) keeps
		 * the file streaming into the cache ahead of the loop and of the
		 * engine reading the payloads: about half the walk's time. */
		for (size_t a = at + FAST_AHEAD, e = a + 16 + h[2]; a < e && a < c->map_len; a += 64)
			__builtin_prefetch(c->map + a);
		c->pos += 16 + (off_t)h[2];
		c->delivered++;
		c->cb(c->ctx, ts, data, h[2], h[3]);
		n++;
	}
	return n;
}

enum dec_link capture_map_dlt(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB: return DEC_LINK_ETH;
	case DLT_LINUX_SLL: return DEC_LINK_SLL;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2: return DEC_LINK_SLL2;
#endif
	case DLT_RAW: return DEC_LINK_RAW;
#ifdef DLT_IPV4
	case DLT_IPV4: return DEC_LINK_IPV4;
#endif
#ifdef DLT_IPV6
	case DLT_IPV6: return DEC_LINK_IPV6;
#endif
	case DLT_NULL: return DEC_LINK_NULL;
#ifdef DLT_LOOP
	case DLT_LOOP: return DEC_LINK_LOOP;
#endif
	default:
		if (dlt == 101) /* LINKTYPE_RAW as some writers leave it */
			return DEC_LINK_RAW;
		return 0;
	}
}

static int set_filter(struct capture *c, const char *expr, char *err, size_t errlen)
{
	struct bpf_program prog;
	if (!expr || !expr[0])
		return 0;
	if (pcap_compile(c->p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "bpf_filter \"%s\": %s", expr, pcap_geterr(c->p));
		return -1;
	}
	int rc = pcap_setfilter(c->p, &prog);
	pcap_freecode(&prog);
	if (rc < 0) {
		snprintf(err, errlen, "bpf_filter: %s", pcap_geterr(c->p));
		return -1;
	}
	return 0;
}

static int pcap_open_(struct capture **out, const struct rv_config *cfg, const char *source, bool live, char *err,
		      size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct capture *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->live = live;
	c->fd = -1;
	c->poll_ms = (int)(cfg->capture_poll_timeout / 1000u);
	if (c->poll_ms < 1)
		c->poll_ms = 1;
	if (!live) {
		c->p = pcap_open_offline_with_tstamp_precision(source, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
		if (!c->p) {
			snprintf(err, errlen, "%s: %s", source, ebuf);
			free(c);
			return -1;
		}
	} else {
		c->p = pcap_create(source, ebuf);
		if (!c->p) {
			snprintf(err, errlen, "%s: %s", source, ebuf);
			free(c);
			return -1;
		}
		pcap_set_snaplen(c->p, (int)cfg->capture_snaplen);
		pcap_set_promisc(c->p, 1);
		pcap_set_buffer_size(c->p, (int)(cfg->capture_buffer_size > 0x7fffffff ? 0x7fffffff
											 : cfg->capture_buffer_size));
		pcap_set_timeout(c->p, c->poll_ms);
		pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_MICRO);
		int rc = pcap_activate(c->p);
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", source, pcap_geterr(c->p));
			pcap_close(c->p);
			free(c);
			return -1;
		}
		if (pcap_setnonblock(c->p, 1, ebuf) < 0) {
			snprintf(err, errlen, "%s: %s", source, ebuf);
			pcap_close(c->p);
			free(c);
			return -1;
		}
		c->fd = pcap_get_selectable_fd(c->p);
	}
	if (set_filter(c, cfg->capture_bpf_filter, err, errlen) < 0) {
		pcap_close(c->p);
		free(c);
		return -1;
	}
	if (!live)
		fast_setup(c, cfg);
	c->link = capture_map_dlt(pcap_datalink(c->p));
	if (!c->link) {
		snprintf(err, errlen, "%s: unsupported link type %s (%d)", source,
			 pcap_datalink_val_to_name(pcap_datalink(c->p)) ? pcap_datalink_val_to_name(pcap_datalink(c->p))
									 : "?",
			 pcap_datalink(c->p));
		pcap_close(c->p);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

static void handler(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture *c = (struct capture *)(void *)user;
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
	c->delivered++;
	c->cb(c->ctx, ts, bytes, h->caplen, h->len);
}

static int pcap_next_(struct capture *c, capture_cb cb, void *ctx, int max)
{
	c->cb = cb;
	c->ctx = ctx;
	if (c->live) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		if (c->fd >= 0) {
			int pr = poll(&pfd, 1, c->poll_ms);
			if (pr < 0 && errno != EINTR)
				return CAP_ERROR;
			if (pr <= 0)
				return 0;
		}
	}
	int done = 0;
	if (c->fast) {
		done = fast_next(c, max);
		if (c->fast || done == max)
			return done ? done : CAP_EOF;
	}
	if (c->seek_failed)
		return CAP_ERROR;
	/* libpcap, or the rest of this batch after the record loop stopped
	 * (a libpcap error discards the batch's count, as pcap_dispatch does) */
	int n = pcap_dispatch(c->p, max - done, handler, (u_char *)c);
	if (n == PCAP_ERROR_BREAK)
		return done;
	if (n < 0)
		return CAP_ERROR;
	n += done;
	if (n == 0 && !c->live)
		return CAP_EOF;
	return n;
}

static enum dec_link pcap_link_(const struct capture *c)
{
	return c->link;
}

static void pcap_stats_(struct capture *c, struct capture_stats *st)
{
	struct pcap_stat ps;
	memset(st, 0, sizeof(*st));
	st->received = c->delivered;
	if (c->live && pcap_stats(c->p, &ps) == 0) {
		st->dropped = ps.ps_drop;
		st->if_dropped = ps.ps_ifdrop;
	}
}

static void pcap_close_(struct capture *c)
{
	if (!c)
		return;
	fast_unmap(c);
	pcap_close(c->p);
	free(c);
}

const struct capture_ops capture_pcap_ops = {
	.name = "pcap",
	.open = pcap_open_,
	.next = pcap_next_,
	.link = pcap_link_,
	.stats = pcap_stats_,
	.close = pcap_close_,
};

const struct capture_ops *capture_find(const char *name, char *err, size_t errlen)
{
	if (strcmp(name, "pcap") == 0)
		return &capture_pcap_ops;
	if (strcmp(name, "dpdk") == 0) {
#if RV_HAVE_DPDK
		extern const struct capture_ops capture_dpdk_ops; /* engine/dpdk_capture.c, see stats.h */
		return &capture_dpdk_ops;
#else
		snprintf(err, errlen, "this build has no DPDK support (rebuild with DPDK=1 and libdpdk-dev installed)");
#endif
		return NULL;
	}
	snprintf(err, errlen, "unknown capture backend \"%s\" (known: pcap, dpdk)", name);
	return NULL;
}
