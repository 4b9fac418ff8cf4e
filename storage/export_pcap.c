/*
 * export_pcap.c - a decrypted recording as a classic pcap file.
 *
 * Format: libpcap classic (magic a1b2c3d4 in host order, version 2.4,
 * microsecond timestamps, LINKTYPE_ETHERNET).  Each stored RTP packet is
 * wrapped, byte for byte as captured, in synthetic headers rebuilt from its
 * stream's endpoints:
 *   Ethernet  fixed locally-administered MACs 02:00:00:00:00:01 (src) and
 *             02:00:00:00:00:02 (dst), type 0x0800 or 0x86DD
 *   IPv4      RFC 791: IHL 5, DF, TTL 64, id increasing per file, header
 *             checksum (RFC 1071)
 *   IPv6      RFC 8200: hop limit 64, flow label 0
 *   UDP       RFC 768: length, checksum over the pseudo-header (mandatory for
 *             IPv6, RFC 8200 8.1; a zero result is sent as ffff)
 * All streams are merged by capture time; ties keep stream order, then
 * packet order.  Pause markers are not packets and are skipped.
 *
 * Not done: the original link layer, VLAN tags, IP options or fragments are
 * not reproduced (storage never saw them); packets too long for one UDP
 * datagram are skipped with a warning; timestamps past 2106 are clamped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export.h"
#include "codec.h"
#include "store.h"

#define ETH_LEN 14
#define IP4_LEN 20
#define IP6_LEN 40
#define UDP_LEN 8
#define PCAP_SNAPLEN 262144u
#define LINKTYPE_ETHERNET 1u


static FILE *open_out(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0) {
		export_errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	f = fdopen(fd, "wb");
	if (!f) {
		export_errf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
	}
	return f;
}

struct ref {
	uint64_t ts;
	size_t s, i;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	if (x->i != y->i)
		return x->i < y->i ? -1 : 1;
	return 0;
}

/* RFC 1071 one's-complement sum, continued from sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return sum;
}

static uint16_t csum_fin(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32le_host(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4); /* pcap headers are in the writer's byte order */
}

/* Builds Ethernet+IP+UDP headers for one datagram in h; returns their length. */
static size_t build_headers(uint8_t *h, const struct rec_stream *d, const uint8_t *pl, size_t len, uint16_t ip_id)
{
	static const uint8_t mac_src[6] = { 0x02, 0, 0, 0, 0, 0x01 }, mac_dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	uint8_t *ip = h + ETH_LEN, *udp;
	size_t udp_len = UDP_LEN + len;
	uint32_t sum;
	uint8_t pseudo[40];
	uint16_t c;

	memcpy(h, mac_dst, 6);
	memcpy(h + 6, mac_src, 6);
	if (d->src_family == 4) {
		put16(h + 12, 0x0800);
		memset(ip, 0, IP4_LEN);
		ip[0] = 0x45;
		put16(ip + 2, (uint32_t)(IP4_LEN + udp_len));
		put16(ip + 4, ip_id);
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, d->src, 4);
		memcpy(ip + 16, d->dst, 4);
		put16(ip + 10, csum_fin(csum_add(0, ip, IP4_LEN)));
		udp = ip + IP4_LEN;
		memcpy(pseudo, d->src, 4);
		memcpy(pseudo + 4, d->dst, 4);
		pseudo[8] = 0;
		pseudo[9] = 17;
		put16(pseudo + 10, (uint32_t)udp_len);
		sum = csum_add(0, pseudo, 12);
	} else {
		put16(h + 12, 0x86dd);
		memset(ip, 0, IP6_LEN);
		ip[0] = 0x60;
		put16(ip + 4, (uint32_t)udp_len);
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, d->src, 16);
		memcpy(ip + 24, d->dst, 16);
		udp = ip + IP6_LEN;
		memcpy(pseudo, d->src, 16);
		memcpy(pseudo + 16, d->dst, 16);
		pseudo[32] = (uint8_t)(udp_len >> 24);
		pseudo[33] = (uint8_t)(udp_len >> 16);
		pseudo[34] = (uint8_t)(udp_len >> 8);
		pseudo[35] = (uint8_t)udp_len;
		pseudo[36] = pseudo[37] = pseudo[38] = 0;
		pseudo[39] = 17;
		sum = csum_add(0, pseudo, 40);
	}
	put16(udp, d->sport);
	put16(udp + 2, d->dport);
	put16(udp + 4, (uint32_t)udp_len);
	put16(udp + 6, 0);
	sum = csum_add(sum, udp, UDP_LEN);
	/* the payload may have odd length: it is the last part summed, so padding it is correct */
	sum = csum_add(sum, pl, len);
	c = csum_fin(sum);
	put16(udp + 6, c == 0 ? 0xffffu : c);
	return (size_t)(udp + UDP_LEN - h);
}

int export_pcap(const char *path, const struct export_stream *s, size_t n, char *err, size_t errlen)
{
	struct ref *refs = NULL;
	size_t total = 0, k, i, nr = 0, too_long = 0, clamped = 0;
	uint8_t gh[24], rh[16], hdr[ETH_LEN + IP6_LEN + UDP_LEN];
	uint16_t ip_id = 0;
	FILE *f;
	bool ok = true;

	export_errf(err, errlen, "%s", "");
	if (!path || (n && !s)) {
		export_errf(err, errlen, "export_pcap: bad arguments");
		return -1;
	}
	for (k = 0; k < n; k++) {
		const struct rec_stream *d = s[k].desc;

		if (s[k].n && !s[k].pkts) {
			export_errf(err, errlen, "stream %zu: no packets array", k);
			return -1;
		}
		if (!d || !((d->src_family == 4 && d->dst_family == 4) || (d->src_family == 6 && d->dst_family == 6))) {
			export_errf(err, errlen, "stream %zu: address families %u/%u are not both IPv4 or both IPv6", k,
			     d ? d->src_family : 0, d ? d->dst_family : 0);
			return -1;
		}
		if (s[k].n > SIZE_MAX / sizeof(*refs) - total) {
			export_errf(err, errlen, "too many packets");
			return -1;
		}
		total += s[k].n;
	}
	if (total) {
		refs = malloc(total * sizeof(*refs));
		if (!refs) {
			export_errf(err, errlen, "out of memory for %zu packets", total);
			return -1;
		}
	}
	for (k = 0; k < n; k++)
		for (i = 0; i < s[k].n; i++) {
			const struct export_pkt *p = &s[k].pkts[i];

			if (p->kind != CHUNK_RTP || (p->len && !p->data))
				continue;
			refs[nr].ts = p->ts_us;
			refs[nr].s = k;
			refs[nr].i = i;
			nr++;
		}
	if (nr > 1)
		qsort(refs, nr, sizeof(*refs), ref_cmp);

	f = open_out(path, err, errlen);
	if (!f) {
		free(refs);
		return -1;
	}
	put32le_host(gh, 0xa1b2c3d4u);
	{
		uint16_t vmaj = 2, vmin = 4;

		memcpy(gh + 4, &vmaj, 2);
		memcpy(gh + 6, &vmin, 2);
	}
	put32le_host(gh + 8, 0);   /* thiszone */
	put32le_host(gh + 12, 0);  /* sigfigs */
	put32le_host(gh + 16, PCAP_SNAPLEN);
	put32le_host(gh + 20, LINKTYPE_ETHERNET);
	if (fwrite(gh, 1, sizeof(gh), f) != sizeof(gh))
		ok = false;

	for (k = 0; ok && k < nr; k++) {
		const struct export_stream *st = &s[refs[k].s];
		const struct export_pkt *p = &st->pkts[refs[k].i];
		const struct rec_stream *d = st->desc;
		size_t hl, frame;
		uint64_t sec = p->ts_us / 1000000u;
		uint32_t usec = (uint32_t)(p->ts_us % 1000000u);

		/* IPv4 total length and the UDP length field are 16 bits */
		if (p->len > 0xffffu - UDP_LEN - (d->src_family == 4 ? IP4_LEN : 0)) {
			too_long++;
			continue;
		}
		hl = build_headers(hdr, d, p->data, p->len, ++ip_id);
		frame = hl + p->len;
		if (sec > UINT32_MAX) {
			sec = UINT32_MAX;
			usec = 999999;
			clamped++;
		}
		put32le_host(rh, (uint32_t)sec);
		put32le_host(rh + 4, usec);
		put32le_host(rh + 8, (uint32_t)frame);
		put32le_host(rh + 12, (uint32_t)frame);
		if (fwrite(rh, 1, sizeof(rh), f) != sizeof(rh) || fwrite(hdr, 1, hl, f) != hl ||
		    (p->len && fwrite(p->data, 1, p->len, f) != p->len))
			ok = false;
	}
	free(refs);
	if (fclose(f) != 0)
		ok = false;
	if (!ok) {
		export_errf(err, errlen, "%s: write failed: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	if (too_long || clamped)
		export_errf(err, errlen, "%zu packets too long for UDP skipped; %zu timestamps clamped", too_long, clamped);
	return 0;
}
