/*
 * test_p_decode.c - decode_frame()/decode_ip()/sctp_next_data() on packets
 * built byte by byte: every link type, VLAN stacks, IPv6 extension headers,
 * TCP/UDP/SCTP, every tunnel kind, the depth limits, and a truncation sweep
 * (every prefix of a valid frame must be refused, never over-read: the
 * prefix is copied to an exact-size heap buffer so ASan sees any over-read).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "decode.h"

/* ---- packet builder ---- */

struct bld {
	uint8_t d[4096];
	size_t n;
};

static void put8(struct bld *b, uint8_t v)
{
	assert_true(b->n < sizeof(b->d));
	b->d[b->n++] = v;
}

static void put16(struct bld *b, uint16_t v)
{
	put8(b, (uint8_t)(v >> 8));
	put8(b, (uint8_t)v);
}

static void put32(struct bld *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b, (uint16_t)v);
}

static void putn(struct bld *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->d));
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void set16(struct bld *b, size_t at, uint16_t v)
{
	b->d[at] = (uint8_t)(v >> 8);
	b->d[at + 1] = (uint8_t)v;
}

static const uint8_t SRC4[4] = { 10, 0, 0, 1 };
static const uint8_t DST4[4] = { 192, 168, 1, 2 };
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
static const char SIP[] = "INVITE sip:bob@example.com SIP/2.0\r\n";

static void eth(struct bld *b, uint16_t type)
{
	static const uint8_t mac[12] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
	putn(b, mac, 12);
	put16(b, type);
}

static void vlan(struct bld *b, uint16_t tpid_written_before, uint16_t vid, uint16_t next)
{
	(void)tpid_written_before;
	put16(b, (uint16_t)(0x2000 | vid)); /* PCP 1 + VID */
	put16(b, next);
}

/* IPv4 header; returns its offset for ip4_end(). */
static size_t ip4_begin(struct bld *b, uint8_t proto, uint16_t id, uint16_t fo)
{
	size_t at = b->n;
	put8(b, 0x45);
	put8(b, 0);
	put16(b, 0); /* total, set later */
	put16(b, id);
	put16(b, fo);
	put8(b, 64);
	put8(b, proto);
	put16(b, 0);
	putn(b, SRC4, 4);
	putn(b, DST4, 4);
	return at;
}

static void ip4_end(struct bld *b, size_t at)
{
	set16(b, at + 2, (uint16_t)(b->n - at));
}

static size_t ip6_begin(struct bld *b, uint8_t nh)
{
	size_t at = b->n;
	put32(b, 0x60000000);
	put16(b, 0);
	put8(b, nh);
	put8(b, 64);
	putn(b, SRC6, 16);
	putn(b, DST6, 16);
	return at;
}

static void ip6_end(struct bld *b, size_t at)
{
	set16(b, at + 4, (uint16_t)(b->n - at - 40));
}

static size_t udp_begin(struct bld *b, uint16_t sp, uint16_t dp)
{
	size_t at = b->n;
	put16(b, sp);
	put16(b, dp);
	put16(b, 0);
	put16(b, 0);
	return at;
}

static void udp_end(struct bld *b, size_t at)
{
	set16(b, at + 4, (uint16_t)(b->n - at));
}

/* UDP 5060 -> 5060 with the SIP text; returns the payload offset. */
static size_t udp_sip(struct bld *b)
{
	size_t u = udp_begin(b, 5060, 5061);
	size_t pl = b->n;
	putn(b, SIP, sizeof(SIP) - 1);
	udp_end(b, u);
	return pl;
}

/* Eth + IPv4 + UDP SIP; returns payload offset. */
static size_t eth_ip4_udp(struct bld *b)
{
	eth(b, 0x0800);
	size_t ip = ip4_begin(b, 17, 0x1234, 0x4000);
	size_t pl = udp_sip(b);
	ip4_end(b, ip);
	return pl;
}

static void check_v4(const struct pkt *k)
{
	static const uint8_t z[12];
	assert_int_equal(k->ipver, 4);
	assert_int_equal(k->src.family, 4);
	assert_memory_equal(k->src.b, SRC4, 4);
	assert_memory_equal(k->src.b + 4, z, 12);
	assert_int_equal(k->dst.family, 4);
	assert_memory_equal(k->dst.b, DST4, 4);
}

static void check_v6(const struct pkt *k)
{
	assert_int_equal(k->ipver, 6);
	assert_int_equal(k->src.family, 6);
	assert_memory_equal(k->src.b, SRC6, 16);
	assert_int_equal(k->dst.family, 6);
	assert_memory_equal(k->dst.b, DST6, 16);
}

static void check_sip_udp(const struct bld *b, const struct pkt *k, size_t pl)
{
	assert_int_equal(k->proto, 17);
	assert_false(k->is_frag);
	assert_int_equal(k->sport, 5060);
	assert_int_equal(k->dport, 5061);
	assert_ptr_equal(k->payload, b->d + pl);
	assert_int_equal(k->payload_len, sizeof(SIP) - 1);
	assert_memory_equal(k->payload, SIP, sizeof(SIP) - 1);
}

/* Every strict prefix of a valid frame is refused, and the full frame is
 * accepted; decoding runs on an exact-size heap copy. */
static void sweep(enum dec_link link, const struct bld *b)
{
	struct pkt k;
	for (size_t n = 0; n <= b->n; n++) {
		uint8_t *c = malloc(n ? n : 1);
		assert_non_null(c);
		memcpy(c, b->d, n);
		int rc = decode_frame(link, c, n, &k);
		if (n < b->n && rc >= 0) {
			fail_msg("prefix %zu of %zu accepted", n, b->n);
		}
		if (n == b->n)
			assert_int_equal(rc, DEC_OK);
		free(c);
	}
}

/* ---- tests ---- */

static void test_eth_ipv4_udp(void **st)
{
	(void)st;
	struct bld b = { .n = 0 };
	struct pkt k;
	size_t pl = eth_ip4_udp(&b);
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_OK);
	check_v4(&k);
	check_sip_udp(&b, &k, pl);
	assert_ptr_equal(k.l3, b.d + 14);
	assert_int_equal(k.l3_len, b.n - 14);
	assert_int_equal(k.vlan_count, 0);
	assert_int_equal(k.tunnels, 0);
	assert_int_equal(k.tcp_seq, 0);
	assert_int_equal(k.tcp_flags, 0);
	sweep(DEC_LINK_ETH, &b);
}

static void test_eth_padding_trimmed(void **st)
{
	(void)st;
	struct bld b = { .n = 0 };
	struct pkt k;
	eth(&b, 0x0800);
	size_t ip = ip4_begin(&b, 17, 1, 0);
	size_t u = udp_begin(&b, 1000, 2000);
	put16(&b, 0xabcd);
	udp_end(&b, u);
	ip4_end(&b, ip);
	while (b.n < 60)
		put8(&b, 0xee); /* Ethernet minimum-size padding */
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_OK);
	assert_int_equal(k.l3_len, 20 + 8 + 2);
	assert_int_equal(k.payload_len, 2);
	assert_int_equal(k.payload[0], 0xab);
	assert_int_equal(k.payload[1], 0xcd);
	assert_int_equal(k.sport, 1000);
	assert_int_equal(k.dport, 2000);
}

static void test_snaplen(void **st)
{
	(void)st;
	struct bld b = { .n = 0 };
	struct pkt k;
	eth_ip4_udp(&b);
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n - 1, &k), DEC_E_SNAPLEN);
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, 14 + 20, &k), DEC_E_SNAPLEN);
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, 14 + 19, &k), DEC_E_TRUNC_IPV4);
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, 13, &k), DEC_E_TRUNC_L2);

	struct bld c = { .n = 0 };
	size_t ip = ip6_begin(&c, 17);
	udp_sip(&c);
	ip6_end(&c, ip);
	assert_int_equal(decode_frame(DEC_LINK_RAW, c.d, c.n - 1, &k), DEC_E_SNAPLEN);
	assert_int_equal(decode_frame(DEC_LINK_RAW, c.d, 39, &k), DEC_E_TRUNC_IPV6);
}

static void test_vlan(void **st)
{
	(void)st;
	struct bld b = { .n = 0 };
	struct pkt k;
	eth(&b, 0x8100);
	vlan(&b, 0x8100, 100, 0x0800);
	size_t ip = ip4_begin(&b, 17, 1, 0);
	size_t pl = udp_sip(&b);
	ip4_end(&b, ip);
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_OK);
	assert_int_equal(k.vlan_count, 1);
	assert_int_equal(k.vlan[0], 100);
	check_v4(&k);
	check_sip_udp(&b, &k, pl);
	assert_ptr_equal(k.l3, b.d + 18);
	sweep(DEC_LINK_ETH, &b);
}

static void test_qinq(void **st)
{
	(void)st;
	static const uint16_t outer[] = { 0x88a8, 0x9100 };
	for (size_t i = 0; i < 2; i++) {
		struct bld b = { .n = 0 };
		struct pkt k;
		eth(&b, outer[i]);
		vlan(&b, outer[i], 7, 0x8100);
		vlan(&b, 0x8100, 4095, 0x86dd);
		size_t ip = ip6_begin(&b, 17);
		size_t pl = udp_sip(&b);
		ip6_end(&b, ip);
		assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_OK);
		assert_int_equal(k.vlan_count, 2);
		assert_int_equal(k.vlan[0], 7);
		assert_int_equal(k.vlan[1], 4095);
		check_v6(&k);
		check_sip_udp(&b, &k, pl);
		assert_int_equal(k.l3_len, b.n - 22);
		sweep(DEC_LINK_ETH, &b);
	}
}

static void test_vlan_depth(void **st)
{
	(void)st;
	struct bld b = { .n = 0 };
	struct pkt k;
	eth(&b, 0x8100);
	for (int i = 0; i < DEC_MAX_VLAN; i++)
		vlan(&b, 0x8100, (uint16_t)(i + 1), 0x8100);
	vlan(&b, 0x8100, 99, 0x0800);
	size_t ip = ip4_begin(&b, 17, 1, 0);
	udp_sip(&b);
	ip4_end(&b, ip);
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_E_VLAN_DEPTH);

	/* exactly DEC_MAX_VLAN tags is fine */
	struct bld c = { .n = 0 };
	eth(&c, 0x8100);
	for (int i = 0; i < DEC_MAX_VLAN - 1; i++)
		vlan(&c, 0x8100, (uint16_t)(i + 1), 0x8100);
	vlan(&c, 0x8100, 42, 0x0800);
	ip = ip4_begin(&c, 17, 1, 0);
	size_t pl = udp_sip(&c);
	ip4_end(&c, ip);
	assert_int_equal(decode_frame(DEC_LINK_ETH, c.d, c.n, &k), DEC_OK);
	assert_int_equal(k.vlan_count, DEC_MAX_VLAN);
	assert_int_equal(k.vlan[DEC_MAX_VLAN - 1], 42);
	check_sip_udp(&c, &k, pl);
}

static void test_not_ip(void **st)
{
	(void)st;
	struct bld b = { .n = 0 };
	struct pkt k;
	eth(&b, 0x0806); /* ARP */
	for (int i = 0; i < 28; i++)
		put8(&b, 0);
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_E_NOT_IP);
	set16(&b, 12, 46); /* 802.3 length field */
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_E_NOT_IP);
	assert_int_equal(decode_frame((enum dec_link)99, b.d, b.n, &k), DEC_E_BAD_LINK);
	assert_int_equal(decode_frame(DEC_LINK_ETH, NULL, 0, &k), DEC_E_TRUNC_L2);
}

static void test_pppoe(void **st)
{
	(void)st;
	struct pkt k;
	for (int v6 = 0; v6 <= 1; v6++) {
		struct bld b = { .n = 0 };
		eth(&b, 0x8864);
		put8(&b, 0x11);  /* ver 1 type 1 */
		put8(&b, 0);     /* session data */
		put16(&b, 0x1234);
		put16(&b, 0);    /* length (not relied on) */
		put16(&b, v6 ? 0x0057 : 0x0021);
		size_t ip = v6 ? ip6_begin(&b, 17) : ip4_begin(&b, 17, 1, 0);
		size_t pl = udp_sip(&b);
		if (v6)
			ip6_end(&b, ip);
		else
			ip4_end(&b, ip);
		assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_OK);
		if (v6)
			check_v6(&k);
		else
			check_v4(&k);
		check_sip_udp(&b, &k, pl);
		assert_ptr_equal(k.l3, b.d + 22);
		sweep(DEC_LINK_ETH, &b);
		set16(&b, 20, 0xc021); /* LCP */
		assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_E_NOT_IP);
	}
}

static void test_other_l4(void **st)
{
	(void)st;
	struct bld b = { .n = 0 };
	struct pkt k;
	size_t ip = ip4_begin(&b, 1, 1, 0); /* ICMP */
	put32(&b, 0x08000000);
	put32(&b, 0);
	ip4_end(&b, ip);
	assert_int_equal(decode_frame(DEC_LINK_IPV4, b.d, b.n, &k), DEC_E_OTHER_L4);
	check_v4(&k);
	assert_int_equal(k.proto, 1);
	assert_ptr_equal(k.l3, b.d);
	assert_int_equal(k.l3_len, b.n);
}

static void test_sll(void **st)
{
	(void)st;
	struct bld b = { .n = 0 };
	struct pkt k;
	put16(&b, 0);    /* packet type */
	put16(&b, 1);    /* ARPHRD_ETHER */
	put16(&b, 6);    /* addr len */
	for (int i = 0; i < 8; i++)
		put8(&b, (uint8_t)i);
	put16(&b, 0x0800);
	size_t ip = ip4_begin(&b, 17, 1, 0);
	size_t pl = udp_sip(&b);
	ip4_end(&b, ip);
	assert_int_equal(decode_frame(DEC_LINK_SLL, b.d, b.n, &k), DEC_OK);
	check_v4(&k);
	check_sip_udp(&b, &k, pl);
	assert_ptr_equal(k.l3, b.d + 16);
	sweep(DEC_LINK_SLL, &b);
}

static void test_sll2(void **st)
{
	(void)st;
	struct bld b = { .n = 0 };
	struct pkt k;
	put16(&b, 0x86dd); /* protocol */
	put16(&b, 0);      /* reserved */
	put32(&b, 3);      /* ifindex */
	put16(&b, 1);      /* ARPHRD */
	put8(&b, 0);       /* packet type */
	put8(&b, 6);       /* addr len */
	for (int i = 0; i < 8; i++)
		put8(&b, (uint8_t)i);
	size_t ip = ip6_begin(&b, 17);
	size_t pl = udp_sip(&b);
	ip6_end(&b, ip);
	assert_int_equal(decode_frame(DEC_LINK_SLL2, b.d, b.n, &k), DEC_OK);
	check_v6(&k);
	check_sip_udp(&b, &k, pl);
	assert_ptr_equal(k.l3, b.d + 20);
	sweep(DEC_LINK_SLL2, &b);
}

static void null_frame(struct bld *b, const uint8_t af[4], bool v6)
{
	putn(b, af, 4);
	size_t ip = v6 ? ip6_begin(b, 17) : ip4_begin(b, 17, 1, 0);
	udp_sip(b);
	if (v6)
		ip6_end(b, ip);
	else
		ip4_end(b, ip);
}

static void test_null_loop(void **st)
{
	(void)st;
	static const struct {
		uint8_t af[4];
		bool v6;
	} ok_null[] = {
		{ { 2, 0, 0, 0 }, false },  { { 0, 0, 0, 2 }, false }, { { 24, 0, 0, 0 }, true },
		{ { 0, 0, 0, 28 }, true },  { { 30, 0, 0, 0 }, true }, { { 10, 0, 0, 0 }, true },
	};
	struct pkt k;
	for (size_t i = 0; i < sizeof(ok_null) / sizeof(ok_null[0]); i++) {
		struct bld b = { .n = 0 };
		null_frame(&b, ok_null[i].af, ok_null[i].v6);
		assert_int_equal(decode_frame(DEC_LINK_NULL, b.d, b.n, &k), DEC_OK);
		if (ok_null[i].v6)
			check_v6(&k);
		else
			check_v4(&k);
		check_sip_udp(&b, &k, b.n - (sizeof(SIP) - 1));
		assert_ptr_equal(k.l3, b.d + 4);
	}
	struct bld b = { .n = 0 };
	static const uint8_t lo_be[4] = { 0, 0, 0, 2 }, lo_le[4] = { 2, 0, 0, 0 }, lo6[4] = { 0, 0, 0, 30 };
	null_frame(&b, lo_be, false);
	assert_int_equal(decode_frame(DEC_LINK_LOOP, b.d, b.n, &k), DEC_OK);
	check_v4(&k);
	sweep(DEC_LINK_LOOP, &b);
	sweep(DEC_LINK_NULL, &b);
	b.n = 0;
	null_frame(&b, lo_le, false);
	assert_int_equal(decode_frame(DEC_LINK_LOOP, b.d, b.n, &k), DEC_E_NOT_IP);
	b.n = 0;
	null_frame(&b, lo6, true);
	assert_int_equal(decode_frame(DEC_LINK_LOOP, b.d, b.n, &k), DEC_OK);
	check_v6(&k);
	b.d[3] = 7;
	assert_int_equal(decode_frame(DEC_LINK_NULL, b.d, b.n, &k), DEC_E_NOT_IP);
}

static void test_raw(void **st)
{
	(void)st;
	struct pkt k;
	struct bld b = { .n = 0 };
	size_t ip = ip4_begin(&b, 17, 1, 0);
	size_t pl = udp_sip(&b);
	ip4_end(&b, ip);
	assert_int_equal(decode_frame(DEC_LINK_RAW, b.d, b.n, &k), DEC_OK);
	check_v4(&k);
	check_sip_udp(&b, &k, pl);
	assert_int_equal(decode_frame(DEC_LINK_IPV4, b.d, b.n, &k), DEC_OK);
	check_sip_udp(&b, &k, pl);
	assert_int_equal(decode_ip(b.d, b.n, &k), DEC_OK);
	check_sip_udp(&b, &k, pl);
	assert_int_equal(decode_frame(DEC_LINK_IPV6, b.d, b.n, &k), DEC_E_BAD_IPV6);
	sweep(DEC_LINK_RAW, &b);
	sweep(DEC_LINK_IPV4, &b);

	struct bld c = { .n = 0 };
	ip = ip6_begin(&c, 17);
	pl = udp_sip(&c);
	ip6_end(&c, ip);
	assert_int_equal(decode_frame(DEC_LINK_RAW, c.d, c.n, &k), DEC_OK);
	check_v6(&k);
	check_sip_udp(&c, &k, pl);
	assert_ptr_equal(k.l3, c.d);
	assert_int_equal(k.l3_len, c.n);
	assert_int_equal(decode_frame(DEC_LINK_IPV6, c.d, c.n, &k), DEC_OK);
	check_sip_udp(&c, &k, pl);
	assert_int_equal(decode_frame(DEC_LINK_IPV4, c.d, c.n, &k), DEC_E_BAD_IPV4);
	sweep(DEC_LINK_RAW, &c);
	sweep(DEC_LINK_IPV6, &c);
	c.d[0] = 0x50;
	assert_int_equal(decode_frame(DEC_LINK_RAW, c.d, c.n, &k), DEC_E_NOT_IP);
}

static void test_bad_ipv4(void **st)
{
	(void)st;
	struct pkt k;
	struct bld b = { .n = 0 };
	size_t ip = ip4_begin(&b, 17, 1, 0);
	udp_sip(&b);
	ip4_end(&b, ip);
	b.d[0] = 0x44; /* IHL 4 */
	assert_int_equal(decode_ip(b.d, b.n, &k), DEC_E_BAD_IPV4);
	b.d[0] = 0x4f; /* IHL 15 = 60 bytes, fits, but UDP then misparsed; total ok */
	set16(&b, 2, 40);
	assert_int_equal(decode_ip(b.d, b.n, &k), DEC_E_BAD_IPV4); /* total < IHL*4 */
	b.d[0] = 0x45;
	set16(&b, 2, 19);
	assert_int_equal(decode_ip(b.d, b.n, &k), DEC_E_BAD_IPV4);
	set16(&b, 2, 0); /* TSO-style zero total length */
	assert_int_equal(decode_ip(b.d, b.n, &k), DEC_E_BAD_IPV4);
}

static void test_udp_lengths(void **st)
{
	(void)st;
	struct pkt k;
	struct bld b = { .n = 0 };
	size_t ip = ip4_begin(&b, 17, 1, 0);
	size_t u = udp_begin(&b, 1, 2);
	udp_end(&b, u); /* zero-length payload */
	ip4_end(&b, ip);
	assert_int_equal(decode_ip(b.d, b.n, &k), DEC_OK);
	assert_int_equal(k.payload_len, 0);
	assert_ptr_equal(k.payload, b.d + 28);

	/* UDP length shorter than the IP payload: UDP length wins */
	b.n = 0;
	ip = ip4_begin(&b, 17, 1, 0);
	u = udp_begin(&b, 1, 2);
	putn(&b, "abcdef", 6);
	set16(&b, u + 4, 8 + 3);
	ip4_end(&b, ip);
	assert_int_equal(decode_ip(b.d, b.n, &k), DEC_OK);
	assert_int_equal(k.payload_len, 3);
	assert_memory_equal(k.payload, "abc", 3);

	set16(&b, u + 4, 8 + 7); /* longer than the IP payload */
	assert_int_equal(decode_ip(b.d, b.n, &k), DEC_E_BAD_UDP_LEN);
	set16(&b, u + 4, 7);
	assert_int_equal(decode_ip(b.d, b.n, &k), DEC_E_BAD_UDP_LEN);

	/* IP payload shorter than a UDP header */
	b.n = 0;
	ip = ip4_begin(&b, 17, 1, 0);
	put32(&b, 0);
	ip4_end(&b, ip);
	assert_int_equal(decode_ip(b.d, b.n, &k), DEC_E_TRUNC_UDP);
}

static void test_ipv6_ext(void **st)
{
	(void)st;
	struct pkt k;
	struct bld b = { .n = 0 };
	eth(&b, 0x86dd);
	size_t ip = ip6_begin(&b, 0);
	/* hop-by-hop, 8 bytes: next 60, len 0, PadN */
	put8(&b, 60);
	put8(&b, 0);
	put8(&b, 1);
	put8(&b, 4);
	put32(&b, 0);
	/* destination options, 16 bytes: next UDP, len 1 */
	put8(&b, 17);
	put8(&b, 1);
	put8(&b, 1);
	put8(&b, 12);
	for (int i = 0; i < 12; i++)
		put8(&b, 0);
	size_t pl = udp_sip(&b);
	ip6_end(&b, ip);
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_OK);
	check_v6(&k);
	check_sip_udp(&b, &k, pl);
	assert_int_equal(k.l3_len, b.n - 14);
	sweep(DEC_LINK_ETH, &b);

	/* hop-by-hop not first */
	b.d[14 + 6] = 60;
	b.d[14 + 40] = 0;
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_E_BAD_IPV6_EXT);

	/* ext header longer than the payload */
	b.d[14 + 6] = 0;
	b.d[14 + 40] = 60;
	b.d[14 + 49] = 200;
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_E_BAD_IPV6_EXT);

	/* too many extension headers */
	struct bld c = { .n = 0 };
	ip = ip6_begin(&c, 60);
	for (int i = 0; i <= DEC_MAX_IPV6_EXT; i++) {
		put8(&c, i == DEC_MAX_IPV6_EXT ? 17 : 60);
		put8(&c, 0);
		put16(&c, 0x0104);
		put32(&c, 0);
	}
	udp_sip(&c);
	ip6_end(&c, ip);
	assert_int_equal(decode_ip(c.d, c.n, &k), DEC_E_BAD_IPV6_EXT);

	/* payload length 0: jumbogram not supported; 59 = nothing to decode */
	struct bld d = { .n = 0 };
	ip6_begin(&d, 0);
	assert_int_equal(decode_ip(d.d, d.n, &k), DEC_E_BAD_IPV6);
	d.d[6] = 59;
	assert_int_equal(decode_ip(d.d, d.n, &k), DEC_E_OTHER_L4);

	/* AH (RFC 4302 length in 4-byte units minus 2) then UDP */
	struct bld e = { .n = 0 };
	ip = ip6_begin(&e, 51);
	put8(&e, 17);
	put8(&e, 4); /* (4+2)*4 = 24 bytes */
	for (int i = 0; i < 22; i++)
		put8(&e, 0);
	pl = udp_sip(&e);
	ip6_end(&e, ip);
	assert_int_equal(decode_ip(e.d, e.n, &k), DEC_OK);
	check_sip_udp(&e, &k, pl);
}

static void test_fragments(void **st)
{
	(void)st;
	struct pkt k;
	struct bld b = { .n = 0 };
	size_t ip = ip4_begin(&b, 17, 0xbeef, 0x2000 | 3); /* MF, offset 24 */
	putn(&b, "0123456789abcdef", 16);
	ip4_end(&b, ip);
	assert_int_equal(decode_ip(b.d, b.n, &k), DEC_OK);
	check_v4(&k);
	assert_true(k.is_frag);
	assert_int_equal(k.proto, 17);
	assert_int_equal(k.frag.id, 0xbeef);
	assert_int_equal(k.frag.offset, 24);
	assert_true(k.frag.more);
	assert_int_equal(k.frag.next_proto, 17);
	assert_ptr_equal(k.frag.hdr, b.d);
	assert_int_equal(k.frag.hdr_len, 20);
	assert_ptr_equal(k.frag.data, b.d + 20);
	assert_int_equal(k.frag.data_len, 16);
	assert_int_equal(k.sport, 0);
	assert_null(k.payload);

	/* last fragment: MF clear, offset != 0 */
	set16(&b, 6, 5);
	assert_int_equal(decode_ip(b.d, b.n, &k), DEC_OK);
	assert_true(k.is_frag);
	assert_false(k.frag.more);
	assert_int_equal(k.frag.offset, 40);

	/* IPv6: hop-by-hop, fragment header, data */
	struct bld c = { .n = 0 };
	ip = ip6_begin(&c, 0);
	put8(&c, 44);
	put8(&c, 0);
	put16(&c, 0x0104);
	put32(&c, 0);
	put8(&c, 17);   /* fragment: next header */
	put8(&c, 0);
	put16(&c, (uint16_t)((1000 & 0xfff8) | 1));
	put32(&c, 0xdeadbeef);
	putn(&c, "0123456789abcdef", 16);
	ip6_end(&c, ip);
	assert_int_equal(decode_ip(c.d, c.n, &k), DEC_OK);
	check_v6(&k);
	assert_true(k.is_frag);
	assert_int_equal(k.proto, 17);
	assert_int_equal(k.frag.id, 0xdeadbeef);
	assert_int_equal(k.frag.offset, 1000 & 0xfff8);
	assert_true(k.frag.more);
	assert_int_equal(k.frag.next_proto, 17);
	assert_ptr_equal(k.frag.hdr, c.d);
	assert_int_equal(k.frag.hdr_len, 48);
	assert_ptr_equal(k.frag.data, c.d + 56);
	assert_int_equal(k.frag.data_len, 16);

	/* atomic fragment decodes as a whole packet */
	struct bld d = { .n = 0 };
	ip = ip6_begin(&d, 44);
	put8(&d, 17);
	put8(&d, 0);
	put16(&d, 0);
	put32(&d, 77);
	size_t pl = udp_sip(&d);
	ip6_end(&d, ip);
	assert_int_equal(decode_ip(d.d, d.n, &k), DEC_OK);
	assert_false(k.is_frag);
	check_sip_udp(&d, &k, pl);
}

static void test_tcp(void **st)
{
	(void)st;
	struct pkt k;
	struct bld b = { .n = 0 };
	eth(&b, 0x0800);
	size_t ip = ip4_begin(&b, 6, 1, 0);
	put16(&b, 5060);
	put16(&b, 40000);
	put32(&b, 0x11223344);
	put32(&b, 0x55667788);
	put8(&b, 0x80); /* data offset 8 = 32 bytes */
	put8(&b, 0x18); /* PSH ACK */
	put16(&b, 65535);
	put32(&b, 0);
	for (int i = 0; i < 12; i++)
		put8(&b, 1); /* NOP options */
	size_t pl = b.n;
	putn(&b, SIP, sizeof(SIP) - 1);
	ip4_end(&b, ip);
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_OK);
	check_v4(&k);
	assert_int_equal(k.proto, 6);
	assert_int_equal(k.sport, 5060);
	assert_int_equal(k.dport, 40000);
	assert_int_equal(k.tcp_seq, 0x11223344);
	assert_int_equal(k.tcp_ack, 0x55667788);
	assert_int_equal(k.tcp_flags, 0x18);
	assert_ptr_equal(k.payload, b.d + pl);
	assert_int_equal(k.payload_len, sizeof(SIP) - 1);
	sweep(DEC_LINK_ETH, &b);

	b.d[14 + 20 + 12] = 0x40; /* data offset 4 */
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_E_BAD_TCP);
	b.d[14 + 20 + 12] = 0xf0; /* 60 bytes > segment of 32 */
	set16(&b, 14 + 2, 20 + 32);
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_E_BAD_TCP);
}

static void sctp_data(struct bld *b, uint8_t flags, uint32_t tsn, const char *msg, uint32_t ppid)
{
	size_t n = strlen(msg);
	put8(b, 0);
	put8(b, flags);
	put16(b, (uint16_t)(16 + n));
	put32(b, tsn);
	put16(b, 0);
	put16(b, (uint16_t)tsn);
	put32(b, ppid);
	putn(b, msg, n);
	while (n++ % 4)
		put8(b, 0); /* pad the chunk to a multiple of 4 */
}

static void test_sctp(void **st)
{
	(void)st;
	struct pkt k;
	struct bld b = { .n = 0 };
	eth(&b, 0x0800);
	size_t ip = ip4_begin(&b, 132, 1, 0);
	put16(&b, 5060);
	put16(&b, 5061);
	put32(&b, 0xcafe);
	put32(&b, 0);
	size_t chunks = b.n;
	/* SACK chunk (type 3), 16 bytes, ignored */
	put8(&b, 3);
	put8(&b, 0);
	put16(&b, 16);
	for (int i = 0; i < 12; i++)
		put8(&b, 0);
	sctp_data(&b, 0x03, 1, "INVITE sip:a@b SIP/2.0\r\n", 0);
	sctp_data(&b, 0x02, 2, "partial", 0); /* B only: fragmented, skipped */
	sctp_data(&b, 0x03, 3, "SIP/2.0 200 OK\r\n!", 5);
	ip4_end(&b, ip);
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_OK);
	check_v4(&k);
	assert_int_equal(k.proto, 132);
	assert_int_equal(k.sport, 5060);
	assert_int_equal(k.dport, 5061);
	assert_ptr_equal(k.payload, b.d + chunks);
	assert_int_equal(k.payload_len, b.n - chunks);
	sweep(DEC_LINK_ETH, &b);

	size_t off = 0;
	struct span s;
	uint32_t ppid = 99;
	unsigned skipped = 0;
	assert_int_equal(sctp_next_data(k.payload, k.payload_len, &off, &s, &ppid, &skipped), 1);
	assert_int_equal(s.len, strlen("INVITE sip:a@b SIP/2.0\r\n"));
	assert_memory_equal(s.p, "INVITE sip:a@b SIP/2.0\r\n", s.len);
	assert_int_equal(ppid, 0);
	assert_int_equal(sctp_next_data(k.payload, k.payload_len, &off, &s, &ppid, &skipped), 1);
	assert_int_equal(s.len, 17);
	assert_memory_equal(s.p, "SIP/2.0 200 OK\r\n!", 17);
	assert_int_equal(ppid, 5);
	assert_int_equal(skipped, 1);
	assert_int_equal(sctp_next_data(k.payload, k.payload_len, &off, &s, &ppid, &skipped), 0);
	assert_int_equal(off, k.payload_len);

	/* malformed: chunk length past the packet, shorter than header */
	uint8_t bad[20];
	memcpy(bad, k.payload + 16, sizeof(bad));
	bad[2] = 0;
	bad[3] = 200;
	off = 0;
	assert_int_equal(sctp_next_data(bad, sizeof(bad), &off, &s, NULL, NULL), -1);
	bad[3] = 2;
	off = 0;
	assert_int_equal(sctp_next_data(bad, sizeof(bad), &off, &s, NULL, NULL), -1);
	bad[3] = 12; /* DATA shorter than its 16-byte header */
	off = 0;
	assert_int_equal(sctp_next_data(bad, sizeof(bad), &off, &s, NULL, NULL), -1);
	off = 0;
	assert_int_equal(sctp_next_data(bad, 3, &off, &s, NULL, NULL), -1);
	off = 0;
	assert_int_equal(sctp_next_data(bad, 0, &off, &s, NULL, NULL), 0);

	/* SCTP header truncated by IP length */
	struct bld c = { .n = 0 };
	ip = ip4_begin(&c, 132, 1, 0);
	put32(&c, 0);
	put32(&c, 0);
	ip4_end(&c, ip);
	assert_int_equal(decode_ip(c.d, c.n, &k), DEC_E_TRUNC_SCTP);
}

/* outer Eth + IPv4 + GRE header with given flags/proto and optional words */
static size_t gre_outer(struct bld *b, uint16_t flags, uint16_t proto)
{
	eth(b, 0x0800);
	size_t ip = ip4_begin(b, 47, 9, 0);
	b->d[ip + 12] = 172; /* outer addresses differ from inner */
	put16(b, flags);
	put16(b, proto);
	if (flags & 0x8000)
		put32(b, 0); /* checksum + reserved */
	if (flags & 0x2000)
		put32(b, 0x01020304); /* key */
	if (flags & 0x1000)
		put32(b, 77); /* sequence */
	return ip;
}

static void inner_eth_ip4_udp(struct bld *b, size_t *pl)
{
	eth(b, 0x8100);
	vlan(b, 0x8100, 33, 0x0800);
	size_t ip = ip4_begin(b, 17, 2, 0);
	*pl = udp_sip(b);
	ip4_end(b, ip);
}

static void test_gre(void **st)
{
	(void)st;
	static const uint16_t fl[] = { 0, 0x2000, 0x1000, 0xb000 };
	struct pkt k;
	for (size_t i = 0; i < 4; i++) {
		struct bld b = { .n = 0 };
		size_t oip = gre_outer(&b, fl[i], 0x0800);
		size_t ip = ip4_begin(&b, 17, 2, 0);
		size_t pl = udp_sip(&b);
		ip4_end(&b, ip);
		ip4_end(&b, oip);
		assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_OK);
		check_v4(&k); /* inner addresses */
		check_sip_udp(&b, &k, pl);
		assert_int_equal(k.tunnels, 1);
		assert_ptr_equal(k.l3, b.d + ip);
		assert_int_equal(k.l3_len, b.n - ip);
		sweep(DEC_LINK_ETH, &b);
	}
	/* GRE carrying IPv6 */
	struct bld c = { .n = 0 };
	size_t oip = gre_outer(&c, 0, 0x86dd);
	size_t ip = ip6_begin(&c, 17);
	size_t pl = udp_sip(&c);
	ip6_end(&c, ip);
	ip4_end(&c, oip);
	assert_int_equal(decode_frame(DEC_LINK_ETH, c.d, c.n, &k), DEC_OK);
	check_v6(&k);
	check_sip_udp(&c, &k, pl);
	assert_int_equal(k.tunnels, 1);

	/* version 1 (PPTP) and routing bit are refused */
	c.d[14 + 20 + 1] = 1;
	assert_int_equal(decode_frame(DEC_LINK_ETH, c.d, c.n, &k), DEC_E_BAD_GRE);
	c.d[14 + 20 + 1] = 0;
	c.d[14 + 20] = 0x40;
	assert_int_equal(decode_frame(DEC_LINK_ETH, c.d, c.n, &k), DEC_E_BAD_GRE);
	c.d[14 + 20] = 0;
	set16(&c, 14 + 20 + 2, 0x880b); /* PPP: not IP */
	assert_int_equal(decode_frame(DEC_LINK_ETH, c.d, c.n, &k), DEC_E_NOT_IP);
}

static void test_gre_teb_erspan(void **st)
{
	(void)st;
	struct pkt k;
	enum { TEB, ERSPAN1, ERSPAN2, ERSPAN3, ERSPAN3_O };
	for (int kind = TEB; kind <= ERSPAN3_O; kind++) {
		struct bld b = { .n = 0 };
		size_t oip;
		switch (kind) {
		case TEB:
			oip = gre_outer(&b, 0x2000, 0x6558);
			break;
		case ERSPAN1:
			oip = gre_outer(&b, 0, 0x88be);
			break;
		case ERSPAN2:
			oip = gre_outer(&b, 0x1000, 0x88be);
			put16(&b, 0x1000 | 5); /* ver 1, VLAN 5 */
			put16(&b, 0x0042);     /* COS/En/T/session */
			put32(&b, 0);          /* reserved + index */
			break;
		default:
			oip = gre_outer(&b, 0x1000, 0x22eb);
			put16(&b, 0x2000);     /* ver 2 */
			put16(&b, 0x0042);
			put32(&b, 0x12345678); /* timestamp */
			put16(&b, 0);          /* SGT */
			put16(&b, kind == ERSPAN3_O ? 1 : 0);
			if (kind == ERSPAN3_O) {
				put32(&b, 0xaaaaaaaa);
				put32(&b, 0xbbbbbbbb);
			}
			break;
		}
		size_t pl;
		size_t inner = b.n;
		inner_eth_ip4_udp(&b, &pl);
		ip4_end(&b, oip);
		assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_OK);
		check_v4(&k);
		check_sip_udp(&b, &k, pl);
		assert_int_equal(k.tunnels, 1);
		assert_int_equal(k.vlan_count, 1);
		assert_int_equal(k.vlan[0], 33);
		assert_ptr_equal(k.l3, b.d + inner + 18);
		sweep(DEC_LINK_ETH, &b);
		if (kind == ERSPAN2 || kind >= ERSPAN3) {
			size_t verat = oip + 20 + 8;
			b.d[verat] = 0x30; /* wrong version */
			assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_E_BAD_ERSPAN);
		}
	}
}

static void test_ipip(void **st)
{
	(void)st;
	struct pkt k;
	/* IPv4 in IPv4 (4), raw link */
	struct bld b = { .n = 0 };
	size_t oip = ip4_begin(&b, 4, 1, 0);
	b.d[12] = 1;
	size_t ip = ip4_begin(&b, 17, 2, 0);
	size_t pl = udp_sip(&b);
	ip4_end(&b, ip);
	ip4_end(&b, oip);
	assert_int_equal(decode_frame(DEC_LINK_RAW, b.d, b.n, &k), DEC_OK);
	check_v4(&k);
	check_sip_udp(&b, &k, pl);
	assert_int_equal(k.tunnels, 1);
	assert_ptr_equal(k.l3, b.d + 20);
	sweep(DEC_LINK_RAW, &b);

	/* IPv6 in IPv4 (41) */
	struct bld c = { .n = 0 };
	oip = ip4_begin(&c, 41, 1, 0);
	ip = ip6_begin(&c, 17);
	pl = udp_sip(&c);
	ip6_end(&c, ip);
	ip4_end(&c, oip);
	assert_int_equal(decode_frame(DEC_LINK_RAW, c.d, c.n, &k), DEC_OK);
	check_v6(&k);
	check_sip_udp(&c, &k, pl);
	assert_int_equal(k.tunnels, 1);
	sweep(DEC_LINK_RAW, &c);

	/* IPv4 in IPv6 (4) */
	struct bld d = { .n = 0 };
	oip = ip6_begin(&d, 4);
	ip = ip4_begin(&d, 17, 2, 0);
	pl = udp_sip(&d);
	ip4_end(&d, ip);
	ip6_end(&d, oip);
	assert_int_equal(decode_frame(DEC_LINK_RAW, d.d, d.n, &k), DEC_OK);
	check_v4(&k);
	check_sip_udp(&d, &k, pl);
	assert_int_equal(k.tunnels, 1);
}

static void test_vxlan(void **st)
{
	(void)st;
	struct pkt k;
	struct bld b = { .n = 0 };
	eth(&b, 0x0800);
	size_t oip = ip4_begin(&b, 17, 1, 0);
	size_t u = udp_begin(&b, 55555, 4789);
	put32(&b, 0x08000000);
	put32(&b, 0x00123400); /* VNI 0x1234 */
	size_t pl, inner = b.n;
	inner_eth_ip4_udp(&b, &pl);
	udp_end(&b, u);
	ip4_end(&b, oip);
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_OK);
	check_v4(&k);
	check_sip_udp(&b, &k, pl);
	assert_int_equal(k.tunnels, 1);
	assert_int_equal(k.vlan_count, 1);
	assert_ptr_equal(k.l3, b.d + inner + 18);
	sweep(DEC_LINK_ETH, &b);
	b.d[u + 8] = 0; /* I flag clear */
	assert_int_equal(decode_frame(DEC_LINK_ETH, b.d, b.n, &k), DEC_E_BAD_VXLAN);
}

/* n nested IPv4-in-IPv4 encapsulations around a UDP packet */
static int nested(int n, struct pkt *k)
{
	struct bld b = { .n = 0 };
	size_t at[16];
	for (int i = 0; i < n; i++)
		at[i] = ip4_begin(&b, 4, (uint16_t)i, 0);
	size_t ip = ip4_begin(&b, 17, 99, 0);
	udp_sip(&b);
	ip4_end(&b, ip);
	for (int i = n - 1; i >= 0; i--)
		ip4_end(&b, at[i]);
	return decode_frame(DEC_LINK_RAW, b.d, b.n, k);
}

static void test_tunnel_depth(void **st)
{
	(void)st;
	struct pkt k;
	assert_int_equal(nested(DEC_MAX_TUNNEL, &k), DEC_OK);
	assert_int_equal(k.tunnels, DEC_MAX_TUNNEL);
	assert_int_equal(k.sport, 5060);
	assert_int_equal(nested(DEC_MAX_TUNNEL + 1, &k), DEC_E_TUNNEL_DEPTH);
	assert_int_equal(nested(12, &k), DEC_E_TUNNEL_DEPTH);

	/* mixed: VXLAN inside GRE inside IP-in-IP, ... five levels */
	struct bld b = { .n = 0 };
	size_t o1 = ip4_begin(&b, 4, 1, 0);                 /* 1: ipip */
	size_t o2 = ip4_begin(&b, 47, 2, 0);                /* 2: gre */
	put16(&b, 0);
	put16(&b, 0x6558);
	eth(&b, 0x0800);
	size_t o3 = ip4_begin(&b, 17, 3, 0);                /* 3: vxlan */
	size_t u = udp_begin(&b, 1, 4789);
	put32(&b, 0x08000000);
	put32(&b, 0);
	eth(&b, 0x86dd);
	size_t o4 = ip6_begin(&b, 41);                      /* 4: 6in6 */
	size_t o5 = ip6_begin(&b, 4);                       /* 5: 4in6 */
	size_t ip = ip4_begin(&b, 17, 4, 0);
	udp_sip(&b);
	ip4_end(&b, ip);
	ip6_end(&b, o5);
	ip6_end(&b, o4);
	udp_end(&b, u);
	ip4_end(&b, o3);
	ip4_end(&b, o2);
	ip4_end(&b, o1);
	assert_int_equal(decode_frame(DEC_LINK_RAW, b.d, b.n, &k), DEC_E_TUNNEL_DEPTH);
	/* without the outermost level it fits */
	assert_int_equal(decode_frame(DEC_LINK_RAW, b.d + 20, b.n - 20, &k), DEC_OK);
	assert_int_equal(k.tunnels, 4);
	check_v4(&k);
	assert_int_equal(k.payload_len, sizeof(SIP) - 1);
	assert_memory_equal(k.payload, SIP, sizeof(SIP) - 1);
}

static void test_frag_outer_tunnel(void **st)
{
	(void)st;
	/* a fragmented outer IP is returned as a fragment, tunnel not peeled */
	struct pkt k;
	struct bld b = { .n = 0 };
	size_t oip = ip4_begin(&b, 4, 1, 0x2000);
	size_t ip = ip4_begin(&b, 17, 2, 0);
	udp_sip(&b);
	ip4_end(&b, ip);
	ip4_end(&b, oip);
	assert_int_equal(decode_frame(DEC_LINK_RAW, b.d, b.n, &k), DEC_OK);
	assert_true(k.is_frag);
	assert_int_equal(k.tunnels, 0);
	assert_int_equal(k.frag.next_proto, 4);
}

/* ip_addr_format writes IPv4 itself: the same text as inet_ntop and
 * "%s:%u", cut to the buffer as snprintf does. */
static void test_addr_format_v4(void **st)
{
	(void)st;
	uint32_t x = 2463534242u;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		uint8_t b4[4] = { (uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16), (uint8_t)(x >> 24) };
		if (i % 4 == 1)
			b4[i % 3] = 0;
		if (i % 7 == 2)
			b4[(i / 7) % 4] = (uint8_t)(i % 2 ? 9 : 100);
		uint16_t port = (uint16_t)(i % 5 == 0 ? 0 : (i % 5 == 1 ? 65535 : x >> 11));
		struct ip_addr a;
		ip_addr_set4(&a, b4);
		char t[INET_ADDRSTRLEN], want[64], got[64];
		assert_non_null(inet_ntop(AF_INET, b4, t, sizeof(t)));
		for (int wp = 0; wp < 2; wp++) {
			int wl = wp ? snprintf(want, sizeof(want), "%s:%u", t, port) : snprintf(want, sizeof(want), "%s", t);
			size_t n = i % 3 == 0 ? (size_t)(i % 25) : sizeof(got);
			memset(got, 'x', sizeof(got));
			size_t r = ip_addr_format(&a, port, wp, got, n);
			if (n == 0) {
				assert_int_equal(r, 0);
				assert_int_equal(got[0], 'x');
				continue;
			}
			size_t wl2 = (size_t)wl < n ? (size_t)wl : n - 1;
			assert_int_equal(r, wl2);
			assert_memory_equal(got, want, wl2);
			assert_int_equal(got[wl2], '\0');
		}
	}
}

static void test_err_names(void **st)
{
	(void)st;
	for (int c = 0; c > -DEC_E__COUNT; c--) {
		const char *n = dec_err_name(c);
		assert_non_null(n);
		assert_string_not_equal(n, "unknown");
		for (const char *q = n; *q; q++)
			assert_true((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_');
		for (int d = 0; d > c; d--)
			assert_string_not_equal(n, dec_err_name(d));
	}
	assert_string_equal(dec_err_name(DEC_E_TRUNC_IPV4), "trunc_ipv4");
	assert_string_equal(dec_err_name(DEC_E_SNAPLEN), "snaplen");
	assert_string_equal(dec_err_name(-DEC_E__COUNT), "unknown");
	assert_string_equal(dec_err_name(1), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eth_ipv4_udp),
		cmocka_unit_test(test_addr_format_v4),
		cmocka_unit_test(test_eth_padding_trimmed),
		cmocka_unit_test(test_snaplen),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_qinq),
		cmocka_unit_test(test_vlan_depth),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_other_l4),
		cmocka_unit_test(test_pppoe),
		cmocka_unit_test(test_sll),
		cmocka_unit_test(test_sll2),
		cmocka_unit_test(test_null_loop),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_bad_ipv4),
		cmocka_unit_test(test_udp_lengths),
		cmocka_unit_test(test_ipv6_ext),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_sctp),
		cmocka_unit_test(test_gre),
		cmocka_unit_test(test_gre_teb_erspan),
		cmocka_unit_test(test_ipip),
		cmocka_unit_test(test_vxlan),
		cmocka_unit_test(test_tunnel_depth),
		cmocka_unit_test(test_frag_outer_tunnel),
		cmocka_unit_test(test_err_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
