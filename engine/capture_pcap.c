/*
 * capture_pcap.c - libpcap backend: offline pcap/pcapng files and live
 * interfaces.
 *
 * Live capture uses TPACKET_V3 (libpcap's default on Linux; immediate mode
 * would switch to V2 and drop under load), a large kernel buffer
 * ([capture] buffer_size), an optional BPF filter, and non-blocking reads
 * driven by poll() so SIGINT/SIGTERM are honoured within poll_timeout even
 * when no traffic arrives.  Timestamps are requested in microseconds.
 */
#include "capture.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};

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
	int n = pcap_dispatch(c->p, max, handler, (u_char *)c);
	if (n == PCAP_ERROR_BREAK)
		return 0;
	if (n < 0)
		return CAP_ERROR;
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
