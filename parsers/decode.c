/*
 * decode.c - link layer to transport layer (see decode.h for the contract).
 *
 * Layering, outermost first, each step checking its length before any
 * subtraction (Suricata decode-*.c style):
 *
 *   link      Ethernet II (802.3 length frames are "not IP"), 802.1Q / 802.1ad
 *             tags 0x8100 0x88a8 0x9100 (at most DEC_MAX_VLAN per Ethernet
 *             header), PPPoE session frames carrying IPv4/IPv6 (RFC 2516,
 *             seen on access links), Linux SLL (protocol at 14) and SLL2 (protocol at 0),
 *             raw IP, BSD NULL (AF in either byte order) and LOOP (AF in
 *             network order; AF_INET6 is 10, 24, 28 or 30 by OS).
 *   IPv4      RFC 791: version, IHL >= 5, total length >= IHL*4 and <= the
 *             captured bytes (else DEC_E_SNAPLEN); Ethernet padding beyond
 *             the total length is ignored.  Checksums are not verified.
 *   IPv6      RFC 8200: payload length within the captured bytes; extension
 *             headers 0 (first only), 43, 60, 44, 51 (RFC 4302 length rule),
 *             at most DEC_MAX_IPV6_EXT.  An atomic fragment (offset 0, M 0,
 *             RFC 6946) is decoded as an unfragmented packet.
 *   fragments returned with is_frag set and no L4 fields; tunnels inside a
 *             fragmented datagram are peeled when decode_ip() runs on the
 *             reassembled datagram.
 *   tunnels   IP-in-IP (proto 4 and 41), GRE version 0 (RFC 2784/2890, C K S
 *             optional words) carrying IPv4, IPv6, transparent Ethernet
 *             bridging 0x6558, ERSPAN type I (0x88BE, S bit clear, no
 *             header), type II (0x88BE, S bit set, 8-byte header, ver 1) and
 *             type III (0x22EB, 12-byte header, ver 2, +8 bytes when O is
 *             set); VXLAN (RFC 7348) on UDP destination port 4789.  At most
 *             DEC_MAX_TUNNEL encapsulations are removed.
 *   L4        UDP (RFC 768: 8 <= length <= IP payload; a shorter UDP length
 *             trims the payload), TCP (RFC 9293: data offset 5..15 inside the
 *             segment), SCTP (RFC 9260: 12-byte common header).
 *
 * Not done here: checksum verification, GRE routing (RFC 1701 R bit) and
 * versions other than 0, IPv6 jumbograms (payload length 0), IP options
 * interpretation, MPLS, PPPoE, 802.3 LLC/SNAP frames, SCTP I-DATA chunks.
 *
 * Hot path: no allocation; struct pkt is cleared once per call.
 */
#include "decode.h"

#define ETH_HLEN 14
#define SLL_HLEN 16
#define SLL2_HLEN 20
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define ETHERTYPE_PPPOE_SESS 0x8864
#define ETHERTYPE_TEB 0x6558
#define ETHERTYPE_ERSPAN2 0x88be
#define ETHERTYPE_ERSPAN3 0x22eb

#define IPPROTO_IPIP 4
#define IPPROTO_IPV6_IN_IP 41
#define IPPROTO_GRE 47
#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_AH 51
#define IP6_NONXT 59
#define IP6_DSTOPTS 60

#define VXLAN_PORT 4789

#define GRE_C 0x8000
#define GRE_R 0x4000
#define GRE_K 0x2000
#define GRE_S 0x1000
#define GRE_VER_MASK 0x0007

static int dec_ether(const uint8_t *p, size_t len, struct pkt *out);
static int dec_ip_any(const uint8_t *p, size_t len, struct pkt *out);
static int dec_ipv4(const uint8_t *p, size_t len, struct pkt *out);
static int dec_ipv6(const uint8_t *p, size_t len, struct pkt *out);

/* Counts one encapsulation; refuses more than DEC_MAX_TUNNEL.  This is
 * also what bounds the recursion depth of the decoder. */
static bool tunnel_enter(struct pkt *out)
{
	if (out->tunnels >= DEC_MAX_TUNNEL)
		return false;
	out->tunnels++;
	return true;
}

/* Resets the per-IP-layer fields before an inner IP header overwrites them. */
static void reset_l3(struct pkt *out)
{
	out->is_frag = false;
	memset(&out->frag, 0, sizeof(out->frag));
	out->sport = out->dport = 0;
	out->payload = NULL;
	out->payload_len = 0;
	out->tcp_seq = out->tcp_ack = 0;
	out->tcp_flags = 0;
}

/* Dispatches on an Ethernet-style protocol number (Ethernet, SLL, SLL2),
 * peeling VLAN tags first. */
static int dec_ethertype(uint16_t type, const uint8_t *p, size_t len, struct pkt *out)
{
	struct cursor c;
	unsigned tags = 0;

	cur_init(&c, p, len);
	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
		uint16_t tci;
		if (tags >= DEC_MAX_VLAN)
			return DEC_E_VLAN_DEPTH;
		if (!cur_be16(&c, &tci) || !cur_be16(&c, &type))
			return DEC_E_TRUNC_L2;
		tags++;
		/* inner Ethernet layers (tunnels) record tags while room is left */
		if (out->vlan_count < DEC_MAX_VLAN)
			out->vlan[out->vlan_count++] = (uint16_t)(tci & 0x0fff);
	}
	if (type == ETHERTYPE_IPV4)
		return dec_ipv4(cur_ptr(&c), cur_left(&c), out);
	if (type == ETHERTYPE_IPV6)
		return dec_ipv6(cur_ptr(&c), cur_left(&c), out);
	if (type == ETHERTYPE_PPPOE_SESS) {
		/* RFC 2516 session stage: ver/type 0x11, code 0, session, length,
		 * then the PPP protocol (RFC 1661; 0x0021 IPv4, 0x0057 IPv6) */
		const uint8_t *h;
		if (!cur_take(&c, 8, &h))
			return DEC_E_TRUNC_L2;
		if (h[0] != 0x11 || h[1] != 0)
			return DEC_E_NOT_IP;
		if (rd_be16(h + 6) == 0x0021)
			return dec_ipv4(cur_ptr(&c), cur_left(&c), out);
		if (rd_be16(h + 6) == 0x0057)
			return dec_ipv6(cur_ptr(&c), cur_left(&c), out);
	}
	return DEC_E_NOT_IP; /* ARP, LLDP, 802.3 length field (< 0x600), ... */
}

static int dec_ether(const uint8_t *p, size_t len, struct pkt *out)
{
	if (len < ETH_HLEN)
		return DEC_E_TRUNC_L2;
	return dec_ethertype(rd_be16(p + 12), p + ETH_HLEN, len - ETH_HLEN, out);
}

/* BSD address families meaning IPv6: Linux 10, NetBSD/OpenBSD 24,
 * FreeBSD/DragonFly 28, Darwin 30. */
static int af_kind(uint32_t af)
{
	if (af == 2)
		return 4;
	if (af == 10 || af == 24 || af == 28 || af == 30)
		return 6;
	return 0;
}

static int dec_null(const uint8_t *p, size_t len, bool network_order_only, struct pkt *out)
{
	uint32_t be, le;
	int kind;

	if (len < 4)
		return DEC_E_TRUNC_L2;
	be = rd_be32(p);
	le = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
	kind = af_kind(be);
	if (!kind && !network_order_only)
		kind = af_kind(le);
	if (kind == 4)
		return dec_ipv4(p + 4, len - 4, out);
	if (kind == 6)
		return dec_ipv6(p + 4, len - 4, out);
	return DEC_E_NOT_IP;
}

/* ---- tunnels ---- */

/* ERSPAN II/III header checks; returns the header length or a negative code. */
static int erspan_hlen(uint16_t type, bool gre_seq, const uint8_t *p, size_t len)
{
	if (type == ETHERTYPE_ERSPAN2) {
		if (!gre_seq)
			return 0; /* type I: Ethernet follows GRE directly */
		if (len < 8 || (p[0] >> 4) != 1)
			return DEC_E_BAD_ERSPAN;
		return 8;
	}
	/* type III: Ver(4) VLAN(12) | COS BSO T SessionID | Timestamp |
	 * SGT(16) P FT(5) HwID(6) D Gra(2) O */
	if (len < 12 || (p[0] >> 4) != 2)
		return DEC_E_BAD_ERSPAN;
	if (p[11] & 0x01) {
		if (len < 20)
			return DEC_E_BAD_ERSPAN;
		return 20;
	}
	return 12;
}

static int dec_gre(const uint8_t *p, size_t len, struct pkt *out)
{
	uint16_t flags, type;
	size_t hlen = 4;
	int eh;

	if (len < 4)
		return DEC_E_BAD_GRE;
	flags = rd_be16(p);
	type = rd_be16(p + 2);
	if ((flags & GRE_VER_MASK) != 0 || (flags & GRE_R))
		return DEC_E_BAD_GRE;
	if (flags & GRE_C)
		hlen += 4;
	if (flags & GRE_K)
		hlen += 4;
	if (flags & GRE_S)
		hlen += 4;
	if (len < hlen)
		return DEC_E_BAD_GRE;
	p += hlen;
	len -= hlen;

	switch (type) {
	case ETHERTYPE_IPV4:
	case ETHERTYPE_IPV6:
		if (!tunnel_enter(out))
			return DEC_E_TUNNEL_DEPTH;
		return type == ETHERTYPE_IPV4 ? dec_ipv4(p, len, out) : dec_ipv6(p, len, out);
	case ETHERTYPE_TEB:
		if (!tunnel_enter(out))
			return DEC_E_TUNNEL_DEPTH;
		return dec_ether(p, len, out);
	case ETHERTYPE_ERSPAN2:
	case ETHERTYPE_ERSPAN3:
		eh = erspan_hlen(type, (flags & GRE_S) != 0, p, len);
		if (eh < 0)
			return eh;
		if (!tunnel_enter(out))
			return DEC_E_TUNNEL_DEPTH;
		return dec_ether(p + eh, len - (size_t)eh, out);
	default:
		return DEC_E_NOT_IP;
	}
}

static int dec_vxlan(const uint8_t *p, size_t len, struct pkt *out)
{
	/* RFC 7348: flags(8, I = 0x08) reserved(24) VNI(24) reserved(8) */
	if (len < 8 || !(p[0] & 0x08))
		return DEC_E_BAD_VXLAN;
	if (!tunnel_enter(out))
		return DEC_E_TUNNEL_DEPTH;
	return dec_ether(p + 8, len - 8, out);
}

/* ---- L4 ---- */

static int dec_udp(const uint8_t *p, size_t len, struct pkt *out)
{
	uint16_t ulen;

	if (len < 8)
		return DEC_E_TRUNC_UDP;
	ulen = rd_be16(p + 4);
	if (ulen < 8 || ulen > len)
		return DEC_E_BAD_UDP_LEN;
	out->sport = rd_be16(p);
	out->dport = rd_be16(p + 2);
	out->payload = p + 8;
	out->payload_len = (size_t)ulen - 8;
	if (out->dport == VXLAN_PORT)
		return dec_vxlan(out->payload, out->payload_len, out);
	return DEC_OK;
}

static int dec_tcp(const uint8_t *p, size_t len, struct pkt *out)
{
	size_t doff;

	if (len < 20)
		return DEC_E_TRUNC_TCP;
	doff = (size_t)(p[12] >> 4) * 4;
	if (doff < 20 || doff > len)
		return DEC_E_BAD_TCP;
	out->sport = rd_be16(p);
	out->dport = rd_be16(p + 2);
	out->tcp_seq = rd_be32(p + 4);
	out->tcp_ack = rd_be32(p + 8);
	out->tcp_flags = p[13];
	out->payload = p + doff;
	out->payload_len = len - doff;
	return DEC_OK;
}

static int dec_sctp(const uint8_t *p, size_t len, struct pkt *out)
{
	if (len < 12)
		return DEC_E_TRUNC_SCTP;
	out->sport = rd_be16(p);
	out->dport = rd_be16(p + 2);
	out->payload = p + 12;
	out->payload_len = len - 12;
	return DEC_OK;
}

/* p/len: the IP payload (already bounded by the IP length). */
static int dec_l4(uint8_t proto, const uint8_t *p, size_t len, struct pkt *out)
{
	switch (proto) {
	case DEC_IPPROTO_UDP:
		return dec_udp(p, len, out);
	case DEC_IPPROTO_TCP:
		return dec_tcp(p, len, out);
	case DEC_IPPROTO_SCTP:
		return dec_sctp(p, len, out);
	case IPPROTO_IPIP:
		if (!tunnel_enter(out))
			return DEC_E_TUNNEL_DEPTH;
		return dec_ipv4(p, len, out);
	case IPPROTO_IPV6_IN_IP:
		if (!tunnel_enter(out))
			return DEC_E_TUNNEL_DEPTH;
		return dec_ipv6(p, len, out);
	case IPPROTO_GRE:
		return dec_gre(p, len, out);
	default:
		return DEC_E_OTHER_L4;
	}
}

/* ---- IP ---- */

static int dec_ipv4(const uint8_t *p, size_t len, struct pkt *out)
{
	size_t ihl, total;
	uint16_t fo;

	if (len < 20)
		return DEC_E_TRUNC_IPV4;
	if ((p[0] >> 4) != 4)
		return DEC_E_BAD_IPV4;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < 20)
		return DEC_E_BAD_IPV4;
	if (ihl > len)
		return DEC_E_TRUNC_IPV4;
	total = rd_be16(p + 2);
	if (total < ihl)
		return DEC_E_BAD_IPV4;
	if (total > len)
		return DEC_E_SNAPLEN;

	reset_l3(out);
	out->ipver = 4;
	out->proto = p[9];
	ip_addr_set4(&out->src, p + 12);
	ip_addr_set4(&out->dst, p + 16);
	out->l3 = p;
	out->l3_len = total; /* trailing Ethernet padding dropped here */

	fo = rd_be16(p + 6);
	if ((fo & 0x2000) || (fo & 0x1fff)) {
		out->is_frag = true;
		out->frag.id = rd_be16(p + 4);
		out->frag.offset = (uint32_t)(fo & 0x1fff) * 8;
		out->frag.more = (fo & 0x2000) != 0;
		out->frag.next_proto = p[9];
		out->frag.hdr = p;
		out->frag.hdr_len = ihl;
		out->frag.data = p + ihl;
		out->frag.data_len = total - ihl;
		return DEC_OK;
	}
	return dec_l4(p[9], p + ihl, total - ihl, out);
}

static int dec_ipv6(const uint8_t *p, size_t len, struct pkt *out)
{
	size_t total, off = 40;
	uint8_t nh;

	if (len < 40)
		return DEC_E_TRUNC_IPV6;
	if ((p[0] >> 4) != 6)
		return DEC_E_BAD_IPV6;
	total = 40 + (size_t)rd_be16(p + 4);
	if (total > len)
		return DEC_E_SNAPLEN;

	reset_l3(out);
	out->ipver = 6;
	nh = p[6];
	out->proto = nh;
	ip_addr_set6(&out->src, p + 8);
	ip_addr_set6(&out->dst, p + 24);
	out->l3 = p;
	out->l3_len = total;
	if (total == 40)
		return nh == IP6_NONXT ? DEC_E_OTHER_L4 : DEC_E_BAD_IPV6; /* jumbogram or empty */

	for (unsigned i = 0;; i++) {
		size_t elen;
		bool is_ext = nh == IP6_HOPOPTS || nh == IP6_ROUTING || nh == IP6_DSTOPTS ||
			      nh == IP6_FRAGMENT || nh == IP6_AH;
		if (!is_ext)
			break;
		if (i >= DEC_MAX_IPV6_EXT)
			return DEC_E_BAD_IPV6_EXT;
		if (nh == IP6_HOPOPTS && off != 40)
			return DEC_E_BAD_IPV6_EXT; /* RFC 8200 4.1: only right after the header */
		if (total - off < 8)
			return DEC_E_BAD_IPV6_EXT;
		if (nh == IP6_FRAGMENT) {
			uint16_t ofl = rd_be16(p + off + 2);
			uint8_t fnext = p[off];
			if ((ofl & 0xfff8) == 0 && !(ofl & 1)) {
				/* atomic fragment: nothing to reassemble */
				nh = fnext;
				off += 8;
				continue;
			}
			out->proto = fnext;
			out->is_frag = true;
			out->frag.id = rd_be32(p + off + 4);
			out->frag.offset = ofl & 0xfff8;
			out->frag.more = (ofl & 1) != 0;
			out->frag.next_proto = fnext;
			out->frag.hdr = p;
			out->frag.hdr_len = off;
			out->frag.data = p + off + 8;
			out->frag.data_len = total - off - 8;
			return DEC_OK;
		}
		if (nh == IP6_AH)
			elen = ((size_t)p[off + 1] + 2) * 4;
		else
			elen = ((size_t)p[off + 1] + 1) * 8;
		if (elen > total - off)
			return DEC_E_BAD_IPV6_EXT;
		nh = p[off];
		off += elen;
	}
	out->proto = nh;
	return dec_l4(nh, p + off, total - off, out);
}

static int dec_ip_any(const uint8_t *p, size_t len, struct pkt *out)
{
	if (len < 1)
		return DEC_E_TRUNC_IPV4;
	switch (p[0] >> 4) {
	case 4:
		return dec_ipv4(p, len, out);
	case 6:
		return dec_ipv6(p, len, out);
	default:
		return DEC_E_NOT_IP;
	}
}

/* ---- public ---- */

int decode_frame(enum dec_link link, const uint8_t *p, size_t len, struct pkt *out)
{
	memset(out, 0, sizeof(*out));
	if (!p && len)
		return DEC_E_TRUNC_L2;
	switch (link) {
	case DEC_LINK_ETH:
		return dec_ether(p, len, out);
	case DEC_LINK_SLL:
		if (len < SLL_HLEN)
			return DEC_E_TRUNC_L2;
		return dec_ethertype(rd_be16(p + 14), p + SLL_HLEN, len - SLL_HLEN, out);
	case DEC_LINK_SLL2:
		if (len < SLL2_HLEN)
			return DEC_E_TRUNC_L2;
		return dec_ethertype(rd_be16(p), p + SLL2_HLEN, len - SLL2_HLEN, out);
	case DEC_LINK_RAW:
		return dec_ip_any(p, len, out);
	case DEC_LINK_IPV4:
		return dec_ipv4(p, len, out);
	case DEC_LINK_IPV6:
		return dec_ipv6(p, len, out);
	case DEC_LINK_NULL:
		return dec_null(p, len, false, out);
	case DEC_LINK_LOOP:
		return dec_null(p, len, true, out);
	default:
		return DEC_E_BAD_LINK;
	}
}

int decode_ip(const uint8_t *p, size_t len, struct pkt *out)
{
	memset(out, 0, sizeof(*out));
	if (!p && len)
		return DEC_E_TRUNC_IPV4;
	return dec_ip_any(p, len, out);
}

const char *dec_err_name(int code)
{
	static const char *const names[] = {
		"ok",          "not_ip",        "other_l4",     "trunc_l2",   "vlan_depth",
		"trunc_ipv4",  "bad_ipv4",      "trunc_ipv6",   "bad_ipv6_ext", "trunc_udp",
		"bad_udp_len", "trunc_tcp",     "bad_tcp",      "trunc_sctp", "tunnel_depth",
		"bad_gre",     "bad_erspan",    "bad_vxlan",    "snaplen",    "bad_link",
		"bad_ipv6",
	};
	if (code > 0 || -code >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown";
	return names[-code];
}

int sctp_next_data(const uint8_t *chunks, size_t len, size_t *off, struct span *data,
		   uint32_t *ppid, unsigned *skipped)
{
	/* Each chunk advances *off by at least 4 bytes, so the loop is bounded
	 * by len / 4 iterations. */
	while (*off < len) {
		size_t o = *off, clen, next;
		uint8_t type, flags;

		if (len - o < 4)
			return -1;
		type = chunks[o];
		flags = chunks[o + 1];
		clen = rd_be16(chunks + o + 2);
		if (clen < 4 || clen > len - o)
			return -1;
		next = o + ((clen + 3) & ~(size_t)3);
		if (next > len)
			next = len; /* tolerate a missing pad after the last chunk */
		if (type == 0) {
			if (clen < 16)
				return -1;
			*off = next;
			if ((flags & 0x03) == 0x03) {
				*data = span_make(chunks + o + 16, clen - 16);
				if (ppid)
					*ppid = rd_be32(chunks + o + 12);
				return 1;
			}
			if (skipped)
				(*skipped)++;
			continue;
		}
		*off = next;
	}
	return 0;
}

int sctp_next_chunk(const uint8_t *chunks, size_t len, size_t *off, struct sctp_data *out)
{
	/* every chunk advances *off by at least 4 bytes: bounded by len / 4 */
	while (*off < len) {
		size_t o = *off, clen, next;
		if (len - o < 4)
			return -1;
		uint8_t type = chunks[o];
		clen = rd_be16(chunks + o + 2);
		if (clen < 4 || clen > len - o)
			return -1;
		next = o + ((clen + 3) & ~(size_t)3);
		if (next > len)
			next = len;
		*off = next;
		if (type != 0)
			continue;
		if (clen < 16)
			return -1;
		out->flags = chunks[o + 1];
		out->tsn = rd_be32(chunks + o + 4);
		out->stream = rd_be16(chunks + o + 8);
		out->ssn = rd_be16(chunks + o + 10);
		out->ppid = rd_be32(chunks + o + 12);
		out->data = span_make(chunks + o + 16, clen - 16);
		return 1;
	}
	return 0;
}
