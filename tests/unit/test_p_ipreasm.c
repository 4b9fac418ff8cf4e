/*
 * test_p_ipreasm.c - IPv4/IPv6 fragment reassembly: a UDP datagram is built
 * byte by byte, cut into fragment frames, each frame goes through
 * decode_frame() and ipreasm_feed(), and decode_ip() on the result must
 * give back the original UDP payload.  Orders: in order, reversed,
 * shuffled; plus overlaps, duplicates, oversize, 8-byte fragments,
 * misalignment, timeouts, eviction under both limits and a 100k-datagram
 * flood that must stay inside the limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"
#include "ipreasm.h"

static const uint8_t SRC4[4] = { 10, 1, 2, 3 };
static const uint8_t DST4[4] = { 10, 4, 5, 6 };
static const uint8_t SRC6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11 };
static const uint8_t DST6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22 };

static void w16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint8_t pat(size_t i, uint32_t seed)
{
	return (uint8_t)(i * 7 + seed + (i >> 8));
}

/* The fragmentable part of the test datagram: UDP header + payload. */
static size_t make_l4(uint8_t *p, size_t plen, uint32_t seed)
{
	w16(p, 5060);
	w16(p + 2, 5062);
	w16(p + 4, 8 + plen);
	w16(p + 6, 0);
	for (size_t i = 0; i < plen; i++)
		p[8 + i] = pat(i, seed);
	return 8 + plen;
}

/* IPv4 fragment frame carrying l4[off, off+len). */
static size_t frag4(uint8_t *f, uint16_t id, const uint8_t *l4, size_t off, size_t len, bool more)
{
	memset(f, 0, 20);
	f[0] = 0x45;
	w16(f + 2, 20 + len);
	w16(f + 4, id);
	w16(f + 6, (more ? 0x2000 : 0) | (off / 8));
	f[8] = 64;
	f[9] = 17;
	memcpy(f + 12, SRC4, 4);
	memcpy(f + 16, DST4, 4);
	memcpy(f + 20, l4 + off, len);
	return 20 + len;
}

/* IPv6 fragment frame: header, hop-by-hop (unfragmentable), Fragment. */
static size_t frag6(uint8_t *f, uint32_t id, const uint8_t *l4, size_t off, size_t len, bool more)
{
	memset(f, 0, 56);
	f[0] = 0x60;
	w16(f + 4, 8 + 8 + len);
	f[6] = 0; /* hop-by-hop */
	f[7] = 64;
	memcpy(f + 8, SRC6, 16);
	memcpy(f + 24, DST6, 16);
	f[40] = 44; /* HBH: next = Fragment */
	f[41] = 0;
	f[42] = 1;  /* PadN */
	f[43] = 4;
	f[48] = 17; /* Fragment: next = UDP */
	w16(f + 50, (off & 0xfff8) | (more ? 1 : 0));
	f[52] = (uint8_t)(id >> 24);
	f[53] = (uint8_t)(id >> 16);
	f[54] = (uint8_t)(id >> 8);
	f[55] = (uint8_t)id;
	memcpy(f + 56, l4 + off, len);
	return 56 + len;
}

static uint8_t frame[70000];

/* Builds fragment i of a datagram, decodes it and feeds it. */
static int feed(struct ipreasm *r, int ver, uint32_t id, const uint8_t *l4, size_t off, size_t len,
		bool more, uint64_t now, const uint8_t **out, size_t *out_len)
{
	struct pkt k;
	size_t n = ver == 4 ? frag4(frame, (uint16_t)id, l4, off, len, more)
			    : frag6(frame, id, l4, off, len, more);
	assert_int_equal(decode_frame(DEC_LINK_RAW, frame, n, &k), DEC_OK);
	assert_true(k.is_frag);
	assert_int_equal(k.frag.offset, off);
	assert_int_equal(k.frag.data_len, len);
	return ipreasm_feed(r, &k, now, out, out_len);
}

/* Checks the rebuilt datagram: header fields and the UDP payload. */
static void check_out(int ver, const uint8_t *o, size_t olen, const uint8_t *l4, size_t l4len)
{
	struct pkt k;
	assert_int_equal(decode_ip(o, olen, &k), DEC_OK);
	assert_false(k.is_frag);
	assert_int_equal(k.ipver, ver);
	assert_int_equal(k.proto, 17);
	assert_int_equal(k.sport, 5060);
	assert_int_equal(k.dport, 5062);
	assert_int_equal(k.payload_len, l4len - 8);
	assert_memory_equal(k.payload, l4 + 8, l4len - 8);
	if (ver == 4) {
		uint32_t s = 0;
		assert_int_equal(olen, 20 + l4len);
		assert_int_equal((o[2] << 8) | o[3], olen);
		assert_int_equal(o[6] & 0x3f, 0);
		assert_int_equal(o[7], 0);
		for (int i = 0; i < 20; i += 2)
			s += (uint32_t)((o[i] << 8) | o[i + 1]);
		while (s >> 16)
			s = (s & 0xffff) + (s >> 16);
		assert_int_equal(s, 0xffff); /* checksum verifies */
		assert_memory_equal(o + 12, SRC4, 4);
	} else {
		assert_int_equal(olen, 48 + l4len);
		assert_int_equal((o[4] << 8) | o[5], 8 + l4len);
		assert_int_equal(o[6], 0);
		assert_int_equal(o[40], 17); /* HBH next header fixed */
		assert_memory_equal(o + 8, SRC6, 16);
	}
}

static struct ipreasm *mk(uint32_t n, size_t bytes, uint64_t to)
{
	struct ipreasm_limits lim = { n, bytes, to };
	struct ipreasm *r = ipreasm_new(&lim);
	assert_non_null(r);
	return r;
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

enum order { IN_ORDER, REVERSED, SHUFFLED };

/* Cuts l4 into pieces of fsz bytes and feeds them in the given order. */
static void roundtrip(int ver, size_t plen, size_t fsz, enum order ord)
{
	static uint8_t l4[66000];
	size_t l4len = make_l4(l4, plen, (uint32_t)(plen + fsz));
	size_t n = (l4len + fsz - 1) / fsz;
	size_t *idx = malloc(n * sizeof(*idx));
	struct ipreasm *r = mk(100, 1 << 22, 0);
	const uint8_t *o = NULL;
	size_t olen = 0;

	assert_non_null(idx);
	for (size_t i = 0; i < n; i++)
		idx[i] = ord == REVERSED ? n - 1 - i : i;
	if (ord == SHUFFLED)
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = rnd() % (i + 1), t = idx[i];
			idx[i] = idx[j];
			idx[j] = t;
		}
	for (size_t i = 0; i < n; i++) {
		size_t off = idx[i] * fsz;
		size_t len = off + fsz > l4len ? l4len - off : fsz;
		int rc = feed(r, ver, 0x4242, l4, off, len, idx[i] != n - 1, 1000, &o, &olen);
		if (i + 1 < n) {
			assert_int_equal(rc, IPR_MORE);
			assert_int_equal(ipreasm_count(r), 1);
		} else {
			assert_int_equal(rc, IPR_DONE);
		}
	}
	check_out(ver, o, olen, l4, l4len);
	assert_int_equal(ipreasm_count(r), 0);
	assert_int_equal(ipreasm_bytes(r), 0);
	assert_int_equal(ipreasm_stats(r)->reassembled, 1);
	assert_int_equal(ipreasm_stats(r)->fragments, n);
	ipreasm_free(r);
	free(idx);
}

static void test_v4_orders(void **st)
{
	(void)st;
	roundtrip(4, 1000, 64, IN_ORDER);
	roundtrip(4, 1000, 64, REVERSED);
	roundtrip(4, 1000, 64, SHUFFLED);
	roundtrip(4, 3000, 1480, SHUFFLED);
	roundtrip(4, 65535 - 28, 1480, SHUFFLED); /* the largest IPv4 datagram */
}

static void test_v6_orders(void **st)
{
	(void)st;
	roundtrip(6, 1000, 64, IN_ORDER);
	roundtrip(6, 1000, 64, REVERSED);
	roundtrip(6, 1000, 64, SHUFFLED);
	roundtrip(6, 4000, 1232, SHUFFLED);
	roundtrip(6, 65535 - 8 - 8, 1232, SHUFFLED); /* payload exactly 65535 */
}

static void test_tiny(void **st)
{
	(void)st;
	roundtrip(4, 100, 8, SHUFFLED);
	roundtrip(6, 100, 8, REVERSED);
	roundtrip(4, 1, 8, IN_ORDER); /* 9 bytes: 8 + 1 */
}

static void test_overlap(void **st)
{
	(void)st;
	static uint8_t l4[2000];
	size_t l4len = make_l4(l4, 200, 1);
	const uint8_t *o;
	size_t olen;
	for (int ver = 4; ver <= 6; ver += 2) {
		struct ipreasm *r = mk(10, 1 << 20, 0);
		/* partial overlap */
		assert_int_equal(feed(r, ver, 1, l4, 0, 64, true, 0, &o, &olen), IPR_MORE);
		assert_int_equal(feed(r, ver, 1, l4, 56, 64, true, 0, &o, &olen), IPR_DROPPED);
		assert_int_equal(ipreasm_stats(r)->overlaps, 1);
		assert_int_equal(ipreasm_count(r), 0);
		assert_int_equal(ipreasm_bytes(r), 0);
		/* the rest of that datagram alone cannot complete it */
		assert_int_equal(feed(r, ver, 1, l4, 64, l4len - 64, false, 0, &o, &olen), IPR_MORE);
		assert_int_equal(ipreasm_count(r), 1);

		/* overlap with the following fragment (insertion before) */
		assert_int_equal(feed(r, ver, 2, l4, 64, 64, true, 0, &o, &olen), IPR_MORE);
		assert_int_equal(feed(r, ver, 2, l4, 0, 72, true, 0, &o, &olen), IPR_DROPPED);
		assert_int_equal(ipreasm_stats(r)->overlaps, 2);

		/* same range, different bytes */
		static uint8_t other[2000];
		memcpy(other, l4, sizeof(other));
		other[70] ^= 0xff;
		assert_int_equal(feed(r, ver, 3, l4, 64, 64, true, 0, &o, &olen), IPR_MORE);
		assert_int_equal(feed(r, ver, 3, other, 64, 64, true, 0, &o, &olen), IPR_DROPPED);
		assert_int_equal(ipreasm_stats(r)->overlaps, 3);

		/* a fragment inside another one */
		assert_int_equal(feed(r, ver, 4, l4, 0, 128, true, 0, &o, &olen), IPR_MORE);
		assert_int_equal(feed(r, ver, 4, l4, 64, 16, true, 0, &o, &olen), IPR_DROPPED);
		assert_int_equal(ipreasm_stats(r)->overlaps, 4);

		/* an exact duplicate is a retransmission: ignored, datagram completes */
		assert_int_equal(feed(r, ver, 5, l4, 0, 64, true, 0, &o, &olen), IPR_MORE);
		assert_int_equal(feed(r, ver, 5, l4, 0, 64, true, 0, &o, &olen), IPR_MORE);
		assert_int_equal(feed(r, ver, 5, l4, 64, l4len - 64, false, 0, &o, &olen), IPR_DONE);
		check_out(ver, o, olen, l4, l4len);
		assert_int_equal(ipreasm_stats(r)->overlaps, 4);

		/* two different "last" fragments */
		assert_int_equal(feed(r, ver, 6, l4, 64, 64, false, 0, &o, &olen), IPR_MORE);
		assert_int_equal(feed(r, ver, 6, l4, 128, 16, false, 0, &o, &olen), IPR_DROPPED);
		assert_int_equal(ipreasm_stats(r)->bad, 1);
		/* data beyond a known end */
		assert_int_equal(feed(r, ver, 7, l4, 64, 8, false, 0, &o, &olen), IPR_MORE);
		assert_int_equal(feed(r, ver, 7, l4, 128, 64, true, 0, &o, &olen), IPR_DROPPED);
		assert_int_equal(ipreasm_stats(r)->bad, 2);
		/* a last fragment ending before data already held */
		assert_int_equal(feed(r, ver, 8, l4, 128, 64, true, 0, &o, &olen), IPR_MORE);
		assert_int_equal(feed(r, ver, 8, l4, 64, 8, false, 0, &o, &olen), IPR_DROPPED);
		assert_int_equal(ipreasm_stats(r)->bad, 3);
		ipreasm_free(r);
	}
}

static void test_misaligned(void **st)
{
	(void)st;
	static uint8_t l4[200];
	make_l4(l4, 100, 2);
	const uint8_t *o;
	size_t olen;
	struct ipreasm *r = mk(10, 1 << 20, 0);
	/* a non-last fragment of 12 bytes */
	assert_int_equal(feed(r, 4, 1, l4, 0, 12, true, 0, &o, &olen), IPR_DROPPED);
	assert_int_equal(feed(r, 6, 1, l4, 0, 12, true, 0, &o, &olen), IPR_DROPPED);
	assert_int_equal(ipreasm_stats(r)->bad, 2);
	assert_int_equal(ipreasm_count(r), 0);

	/* zero-length fragment */
	struct pkt k;
	size_t n = frag4(frame, 9, l4, 8, 0, true);
	assert_int_equal(decode_frame(DEC_LINK_RAW, frame, n, &k), DEC_OK);
	assert_int_equal(ipreasm_feed(r, &k, 0, &o, &olen), IPR_DROPPED);
	assert_int_equal(ipreasm_stats(r)->bad, 3);
	/* not a fragment at all */
	k.is_frag = false;
	assert_int_equal(ipreasm_feed(r, &k, 0, &o, &olen), IPR_DROPPED);
	assert_int_equal(ipreasm_stats(r)->bad, 4);
	ipreasm_free(r);
}

static void test_oversize(void **st)
{
	(void)st;
	static uint8_t l4[70000];
	memset(l4, 0x5a, sizeof(l4));
	const uint8_t *o;
	size_t olen;
	struct ipreasm *r = mk(10, 1 << 22, 0);
	/* v4: 20 + 65528 + 16 > 65535 */
	assert_int_equal(feed(r, 4, 1, l4, 65528, 16, false, 0, &o, &olen), IPR_DROPPED);
	assert_int_equal(ipreasm_stats(r)->oversize, 1);
	/* v4: datagram in progress dropped when a later fragment overflows */
	assert_int_equal(feed(r, 4, 2, l4, 0, 1480, true, 0, &o, &olen), IPR_MORE);
	assert_int_equal(feed(r, 4, 2, l4, 65512, 8, true, 0, &o, &olen), IPR_DROPPED);
	assert_int_equal(ipreasm_stats(r)->oversize, 2);
	assert_int_equal(ipreasm_count(r), 0);
	/* v4: exactly 65535 total is fine as the last fragment */
	assert_int_equal(feed(r, 4, 3, l4, 65512, 3, false, 0, &o, &olen), IPR_MORE);
	/* v6: unfragmentable 8 + 65528 + 8 > 65535 */
	assert_int_equal(feed(r, 6, 1, l4, 65528, 8, false, 0, &o, &olen), IPR_DROPPED);
	assert_int_equal(ipreasm_stats(r)->oversize, 3);
	assert_int_equal(feed(r, 6, 2, l4, 65520, 7, false, 0, &o, &olen), IPR_MORE);
	ipreasm_free(r);
}

static void test_timeout(void **st)
{
	(void)st;
	static uint8_t l4[300];
	size_t l4len = make_l4(l4, 200, 3);
	const uint8_t *o;
	size_t olen;
	struct ipreasm *r = mk(10, 1 << 20, 1000000);
	assert_int_equal(feed(r, 4, 1, l4, 0, 64, true, 5000000, &o, &olen), IPR_MORE);
	assert_int_equal(feed(r, 6, 2, l4, 0, 64, true, 5500000, &o, &olen), IPR_MORE);
	ipreasm_expire(r, 5999999);
	assert_int_equal(ipreasm_count(r), 2);
	ipreasm_expire(r, 4000000); /* time going backwards expires nothing */
	assert_int_equal(ipreasm_count(r), 2);
	ipreasm_expire(r, 6000000);
	assert_int_equal(ipreasm_count(r), 1);
	assert_int_equal(ipreasm_stats(r)->timeouts, 1);
	/* the rest of datagram 1 now starts a new, incomplete datagram */
	assert_int_equal(feed(r, 4, 1, l4, 64, l4len - 64, false, 6000001, &o, &olen), IPR_MORE);
	/* lazy expiry in feed: datagram 2 (t=5.5 s) dies at t=6.5 s */
	assert_int_equal(feed(r, 4, 3, l4, 0, 64, true, 6500000, &o, &olen), IPR_MORE);
	assert_int_equal(ipreasm_stats(r)->timeouts, 2);
	assert_int_equal(ipreasm_count(r), 2);
	/* a datagram finishing just before its timeout completes */
	assert_int_equal(feed(r, 4, 3, l4, 64, l4len - 64, false, 7499999, &o, &olen), IPR_DONE);
	check_out(4, o, olen, l4, l4len);
	ipreasm_free(r);
}

static void test_evict_count(void **st)
{
	(void)st;
	static uint8_t l4[300];
	size_t l4len = make_l4(l4, 200, 4);
	const uint8_t *o;
	size_t olen;
	struct ipreasm *r = mk(4, 1 << 20, 0);
	for (uint32_t id = 1; id <= 5; id++)
		assert_int_equal(feed(r, 4, id, l4, 0, 64, true, id, &o, &olen), IPR_MORE);
	assert_int_equal(ipreasm_count(r), 4);
	assert_int_equal(ipreasm_stats(r)->evicted, 1);
	/* id 1 (the oldest) was evicted: its last fragment does not complete it */
	assert_int_equal(feed(r, 4, 1, l4, 64, l4len - 64, false, 10, &o, &olen), IPR_MORE);
	assert_int_equal(ipreasm_stats(r)->evicted, 2); /* id 2 made room */
	/* id 3 is still there */
	assert_int_equal(feed(r, 4, 3, l4, 64, l4len - 64, false, 11, &o, &olen), IPR_DONE);
	check_out(4, o, olen, l4, l4len);
	assert_int_equal(ipreasm_count(r), 3);
	ipreasm_free(r);
}

static void test_evict_bytes(void **st)
{
	(void)st;
	static uint8_t l4[4000];
	size_t l4len = make_l4(l4, 3000, 5);
	const uint8_t *o;
	size_t olen;
	const size_t max = 3000;
	struct ipreasm *r = mk(100, max, 0);
	for (uint32_t id = 1; id <= 10; id++) {
		assert_int_equal(feed(r, 6, id, l4, 0, 1024, true, id, &o, &olen), IPR_MORE);
		assert_true(ipreasm_bytes(r) <= max);
	}
	assert_int_equal(ipreasm_count(r), 2);
	assert_int_equal(ipreasm_stats(r)->evicted, 8);
	/* a datagram that needs more than the whole budget evicts others, then
	 * is dropped itself */
	assert_int_equal(feed(r, 6, 10, l4, 1024, 1024, true, 11, &o, &olen), IPR_MORE);
	assert_true(ipreasm_bytes(r) <= max);
	assert_int_equal(feed(r, 6, 10, l4, 2048, l4len - 2048, false, 12, &o, &olen), IPR_DROPPED);
	assert_true(ipreasm_bytes(r) <= max);
	assert_int_equal(ipreasm_count(r), 0);
	ipreasm_free(r);
}

static void test_flood(void **st)
{
	(void)st;
	static uint8_t l4[200];
	make_l4(l4, 100, 6);
	const uint8_t *o;
	size_t olen;
	const size_t max_bytes = 64 * 1024;
	const uint32_t max_dg = 1000;
	struct ipreasm *r = mk(max_dg, max_bytes, 30000000);
	for (uint32_t i = 0; i < 100000; i++) {
		int ver = (i & 1) ? 6 : 4;
		size_t off = (i % 3) * 64;
		assert_int_equal(feed(r, ver, i, l4, off, 64, true, i, &o, &olen), IPR_MORE);
		assert_true(ipreasm_bytes(r) <= max_bytes);
		assert_true(ipreasm_count(r) <= max_dg);
	}
	assert_true(ipreasm_count(r) > 100);
	assert_true(ipreasm_stats(r)->evicted >= 100000 - max_dg);
	ipreasm_expire(r, UINT64_MAX);
	assert_int_equal(ipreasm_count(r), 0);
	assert_int_equal(ipreasm_bytes(r), 0);
	ipreasm_free(r);
}

static void test_interleaved(void **st)
{
	(void)st;
	/* two datagrams with the same id but different versions/protocols
	 * interleaved: the key keeps them apart */
	static uint8_t a[600], b[600];
	size_t la = make_l4(a, 500, 7), lb = make_l4(b, 500, 8);
	const uint8_t *o;
	size_t olen;
	struct ipreasm *r = mk(10, 1 << 20, 0);
	assert_int_equal(feed(r, 4, 77, a, 256, la - 256, false, 0, &o, &olen), IPR_MORE);
	assert_int_equal(feed(r, 6, 77, b, 256, lb - 256, false, 0, &o, &olen), IPR_MORE);
	assert_int_equal(ipreasm_count(r), 2);
	assert_int_equal(feed(r, 6, 77, b, 0, 256, true, 0, &o, &olen), IPR_DONE);
	check_out(6, o, olen, b, lb);
	assert_int_equal(feed(r, 4, 77, a, 0, 256, true, 0, &o, &olen), IPR_DONE);
	check_out(4, o, olen, a, la);
	ipreasm_free(r);
	ipreasm_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_orders),   cmocka_unit_test(test_v6_orders),
		cmocka_unit_test(test_tiny),        cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_misaligned),  cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_timeout),     cmocka_unit_test(test_evict_count),
		cmocka_unit_test(test_evict_bytes), cmocka_unit_test(test_flood),
		cmocka_unit_test(test_interleaved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
