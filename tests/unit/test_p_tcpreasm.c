/*
 * test_p_tcpreasm.c - TCP reassembly tests with a toy framer ("MSG Len: N"
 * header block ended by "\n\n", then N body bytes): ordering,
 * retransmissions, holes, wraparound, limits, teardown, and WebSocket
 * (synthetic masked/fragmented frames and the real heplify capture).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tcpreasm.h"

/* ---- toy framer ---- */

static int toy_frame(const uint8_t *p, size_t len, size_t *msg_len, size_t *skip)
{
	static const char magic[] = "MSG ";
	size_t m = len < 4 ? len : 4;
	if (memcmp(p, magic, m) != 0) {
		/* skip to the next 'M' */
		size_t i = 1;
		while (i < len && p[i] != 'M')
			i++;
		*skip = i;
		return -1;
	}
	long e = span_find(span_make(p, len), "\n\n", 2);
	if (e < 0)
		return len < 64 ? 0 : (*skip = 1, -1);
	long l = span_find(span_make(p, (size_t)e), "Len: ", 5);
	uint64_t body;
	if (l < 0 || span_to_u64(span_make(p + l + 5, (size_t)(e - l - 5)), 1u << 20, &body) != 0) {
		*skip = 1;
		return -1;
	}
	size_t total = (size_t)e + 2 + (size_t)body;
	if (total > len)
		return 0;
	*msg_len = total;
	return 1;
}

/* ---- collector ---- */

#define MAXM 64
struct got {
	int n;
	char msg[MAXM][2048];
	size_t len[MAXM];
	bool ws[MAXM];
	uint64_t ts[MAXM];
	uint16_t sport[MAXM], dport[MAXM];
	uint8_t src4[MAXM];
};

static void collect(void *ctx, const struct tcp_msg *m)
{
	struct got *g = ctx;
	if (g->n >= MAXM)
		return;
	size_t l = m->len < 2047 ? m->len : 2047;
	memcpy(g->msg[g->n], m->msg, l);
	g->msg[g->n][l] = 0;
	g->len[g->n] = m->len;
	g->ws[g->n] = m->websocket;
	g->ts[g->n] = m->ts_us;
	g->sport[g->n] = m->sport;
	g->dport[g->n] = m->dport;
	g->src4[g->n] = m->src.b[3];
	g->n++;
}

static struct pkt mk(uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport, uint32_t seq, uint8_t flags,
		     const void *data, size_t len)
{
	struct pkt p;
	uint8_t a[4] = { 10, 0, 0, src }, b[4] = { 10, 0, 0, dst };
	memset(&p, 0, sizeof(p));
	p.ipver = 4;
	p.proto = DEC_IPPROTO_TCP;
	ip_addr_set4(&p.src, a);
	ip_addr_set4(&p.dst, b);
	p.sport = sport;
	p.dport = dport;
	p.tcp_seq = seq;
	p.tcp_flags = flags;
	p.payload = data;
	p.payload_len = len;
	return p;
}

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_ACK 0x10

/* feed a client->server segment (10.0.0.1:1000 -> 10.0.0.2:5060) */
static void fc(struct tcpreasm *t, uint32_t seq, uint8_t fl, const void *d, size_t n, uint64_t ts)
{
	struct pkt p = mk(1, 1000, 2, 5060, seq, fl, d, n);
	tcpreasm_feed(t, &p, ts);
}

static struct tcpreasm_limits lim_default(void)
{
	struct tcpreasm_limits l = { 16, 4096, 8, 60000000 };
	return l;
}

static struct got *G;

static int setup(void **state)
{
	G = calloc(1, sizeof(*G));
	*state = G;
	return G ? 0 : -1;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static const char M1[] = "MSG a\nLen: 5\n\nhello";
static const char M2[] = "MSG b\nLen: 3\n\nabc";
static const char M3[] = "MSG c\nLen: 0\n\n";

static void test_in_order(void **state)
{
	struct got *g = *state;
	struct tcpreasm_limits l = lim_default();
	struct tcpreasm *t = tcpreasm_new(&l, toy_frame, collect, g);
	assert_non_null(t);
	fc(t, 100, F_SYN, NULL, 0, 1);
	fc(t, 101, F_ACK, M1, strlen(M1), 2);
	fc(t, 101 + (uint32_t)strlen(M1), F_ACK, M2, strlen(M2), 3);
	assert_int_equal(g->n, 2);
	assert_string_equal(g->msg[0], M1);
	assert_string_equal(g->msg[1], M2);
	assert_int_equal(g->ts[0], 2);
	assert_int_equal(g->ts[1], 3);
	assert_int_equal(g->sport[0], 1000);
	assert_int_equal(g->dport[0], 5060);
	assert_int_equal(g->src4[0], 1);
	assert_false(g->ws[0]);
	assert_int_equal(tcpreasm_stats(t)->messages, 2);
	assert_int_equal(tcpreasm_stats(t)->segments, 3);
	assert_int_equal(tcpreasm_conns(t), 1);
	tcpreasm_free(t);
}

static void test_many_segments_and_many_messages(void **state)
{
	struct got *g = *state;
	struct tcpreasm_limits l = lim_default();
	struct tcpreasm *t = tcpreasm_new(&l, toy_frame, collect, g);
	char all[256];
	int n = snprintf(all, sizeof(all), "%s%s%s%s", M1, M2, M3, M1);
	/* one byte per segment, mid-stream start (no SYN) */
	for (int i = 0; i < n; i++)
		fc(t, 5000u + (uint32_t)i, F_ACK, all + i, 1, (uint64_t)i);
	assert_int_equal(g->n, 4);
	assert_string_equal(g->msg[0], M1);
	assert_string_equal(g->msg[2], M3);
	assert_int_equal(g->ts[0], strlen(M1) - 1);
	/* all four in one segment */
	g->n = 0;
	fc(t, 5000u + (uint32_t)n, F_ACK, all, (size_t)n, 99);
	assert_int_equal(g->n, 4);
	assert_string_equal(g->msg[1], M2);
	assert_string_equal(g->msg[3], M1);
	assert_int_equal(tcpreasm_stats(t)->resyncs, 0);
	tcpreasm_free(t);
}

static void test_retransmissions(void **state)
{
	struct got *g = *state;
	struct tcpreasm_limits l = lim_default();
	struct tcpreasm *t = tcpreasm_new(&l, toy_frame, collect, g);
	char all[128];
	int n = snprintf(all, sizeof(all), "%s%s", M1, M2);
	fc(t, 1, F_SYN, NULL, 0, 0);
	fc(t, 2, F_ACK, all, 10, 1);
	fc(t, 2, F_ACK, all, 10, 2); /* exact */
	fc(t, 2 + 5, F_ACK, all + 5, 10, 3); /* partial overlap: 5 old, 5 new */
	fc(t, 2 + 15, F_ACK, all + 15, (size_t)n - 15, 4);
	fc(t, 2, F_ACK, all, (size_t)n, 5); /* whole stream again */
	assert_int_equal(g->n, 2);
	assert_string_equal(g->msg[0], M1);
	assert_string_equal(g->msg[1], M2);
	assert_int_equal(tcpreasm_stats(t)->retransmissions, 3);
	/* SYN retransmission does not reset the stream */
	fc(t, 1, F_SYN, NULL, 0, 6);
	fc(t, 2 + (uint32_t)n, F_ACK, M3, strlen(M3), 7);
	assert_int_equal(g->n, 3);
	assert_string_equal(g->msg[2], M3);
	tcpreasm_free(t);
}

static void test_out_of_order(void **state)
{
	struct got *g = *state;
	struct tcpreasm_limits l = lim_default();
	struct tcpreasm *t = tcpreasm_new(&l, toy_frame, collect, g);
	char all[128];
	int n = snprintf(all, sizeof(all), "%s%s", M1, M2);
	fc(t, 1000, F_ACK, all, 4, 1); /* defines the start */
	fc(t, 1012, F_ACK, all + 12, (size_t)n - 12, 2);
	fc(t, 1008, F_ACK, all + 8, 4, 3);
	fc(t, 1008, F_ACK, all + 8, 4, 3); /* duplicate while queued */
	assert_int_equal(g->n, 0);
	assert_true(tcpreasm_bytes(t) > 0);
	fc(t, 1004, F_ACK, all + 4, 6, 4); /* overlaps the queued one */
	assert_int_equal(g->n, 2);
	assert_string_equal(g->msg[0], M1);
	assert_string_equal(g->msg[1], M2);
	assert_int_equal(g->ts[1], 4);
	assert_int_equal(tcpreasm_stats(t)->out_of_order, 2);
	assert_int_equal(tcpreasm_stats(t)->gaps_skipped, 0);
	tcpreasm_free(t);
}

static void test_gap_skip(void **state)
{
	struct got *g = *state;
	struct tcpreasm_limits l = lim_default();
	l.max_ooo_segs = 2;
	struct tcpreasm *t = tcpreasm_new(&l, toy_frame, collect, g);
	size_t a = strlen(M1), b = strlen(M2), c = strlen(M3);
	uint32_t s = 7;
	fc(t, s, F_ACK, "MSG x\nLen: 50\n\n", 15, 1); /* partial message, then a hole */
	s += 15 + 10;                                  /* 10 bytes lost */
	fc(t, s, F_ACK, M1, a, 2);
	fc(t, s + (uint32_t)a, F_ACK, M2, b, 3);
	assert_int_equal(g->n, 0);
	fc(t, s + (uint32_t)(a + b), F_ACK, M3, c, 4); /* queue full: give up the hole */
	assert_int_equal(tcpreasm_stats(t)->gaps_skipped, 1);
	assert_int_equal(g->n, 3);
	assert_string_equal(g->msg[0], M1);
	assert_string_equal(g->msg[1], M2);
	assert_string_equal(g->msg[2], M3);
	/* no queue at all: every hole is skipped at once */
	tcpreasm_free(t);
	g->n = 0;
	l.max_ooo_segs = 0;
	t = tcpreasm_new(&l, toy_frame, collect, g);
	fc(t, 1, F_ACK, M1, 3, 1);
	fc(t, 100, F_ACK, M2, b, 2);
	assert_int_equal(g->n, 1);
	assert_string_equal(g->msg[0], M2);
	assert_int_equal(tcpreasm_stats(t)->gaps_skipped, 1);
	tcpreasm_free(t);
}

static void test_wraparound(void **state)
{
	struct got *g = *state;
	struct tcpreasm_limits l = lim_default();
	struct tcpreasm *t = tcpreasm_new(&l, toy_frame, collect, g);
	char all[128];
	int n = snprintf(all, sizeof(all), "%s%s", M1, M2);
	uint32_t isn = 0xFFFFFFF5u; /* data starts at ...F6, wraps after 10 bytes */
	fc(t, isn, F_SYN, NULL, 0, 0);
	fc(t, isn + 1 + 20, F_ACK, all + 20, (size_t)n - 20, 1); /* after the wrap, queued */
	fc(t, isn + 1, F_ACK, all, 8, 2);                        /* before the wrap */
	fc(t, isn + 1 + 4, F_ACK, all + 4, 16, 3);               /* crosses 2^32, overlaps */
	assert_int_equal(g->n, 2);
	assert_string_equal(g->msg[0], M1);
	assert_string_equal(g->msg[1], M2);
	assert_int_equal(tcpreasm_stats(t)->gaps_skipped, 0);
	assert_int_equal(tcpreasm_stats(t)->retransmissions, 1);
	tcpreasm_free(t);
}

static void test_overflow(void **state)
{
	struct got *g = *state;
	struct tcpreasm_limits l = lim_default();
	l.max_buf = 64;
	struct tcpreasm *t = tcpreasm_new(&l, toy_frame, collect, g);
	char big[300];
	/* a header claiming a body that can never fit */
	int n = snprintf(big, sizeof(big), "MSG big\nLen: 1000\n\n");
	memset(big + n, 'x', sizeof(big) - (size_t)n);
	fc(t, 1, F_ACK, big, sizeof(big), 1);
	assert_true(tcpreasm_stats(t)->overflows >= 1);
	assert_true(tcpreasm_bytes(t) <= 64);
	fc(t, 1 + sizeof(big), F_ACK, M1, strlen(M1), 2);
	assert_int_equal(g->n, 1);
	assert_string_equal(g->msg[0], M1);
	/* a message that exactly fits is still delivered */
	char fit[65];
	int h = snprintf(fit, sizeof(fit), "MSG f\nLen: 49\n\n");
	assert_int_equal(h, 15);
	memset(fit + h, 'y', 49);
	fc(t, 1 + sizeof(big) + (uint32_t)strlen(M1), F_ACK, fit, 64, 3);
	assert_int_equal(g->n, 2);
	assert_int_equal(g->len[1], 64);
	tcpreasm_free(t);
}

static void test_eviction_bounded(void **state)
{
	struct got *g = *state;
	struct tcpreasm_limits l = { 4, 256, 4, 0 };
	struct tcpreasm *t = tcpreasm_new(&l, toy_frame, collect, g);
	uint8_t junk[200];
	memset(junk, 'M', sizeof(junk));
	for (int i = 0; i < 100; i++) {
		struct pkt p = mk((uint8_t)i, (uint16_t)(2000 + i), 2, 5060, 1, F_ACK, "MSG partial\nLe", 14);
		tcpreasm_feed(t, &p, (uint64_t)i);
		/* and an out-of-order tail */
		p = mk((uint8_t)i, (uint16_t)(2000 + i), 2, 5060, 500, F_ACK, junk, sizeof(junk));
		tcpreasm_feed(t, &p, (uint64_t)i);
		assert_true(tcpreasm_conns(t) <= 4);
		assert_true(tcpreasm_bytes(t) <= 4u * 3u * 256u);
	}
	assert_int_equal(tcpreasm_stats(t)->evicted, 96);
	assert_int_equal(tcpreasm_conns(t), 4);
	/* idle_us 0: expiry disabled */
	tcpreasm_expire(t, 1u << 30);
	assert_int_equal(tcpreasm_conns(t), 4);
	tcpreasm_free(t);
}

static void test_expire(void **state)
{
	struct got *g = *state;
	struct tcpreasm_limits l = { 16, 1024, 4, 1000 };
	struct tcpreasm *t = tcpreasm_new(&l, toy_frame, collect, g);
	struct pkt p = mk(1, 1, 2, 2, 1, F_ACK, "MSG", 3);
	tcpreasm_feed(t, &p, 100);
	p = mk(3, 1, 2, 2, 1, F_ACK, "MSG", 3);
	tcpreasm_feed(t, &p, 900);
	assert_int_equal(tcpreasm_conns(t), 2);
	tcpreasm_expire(t, 1099);
	assert_int_equal(tcpreasm_conns(t), 2);
	tcpreasm_expire(t, 1100);
	assert_int_equal(tcpreasm_conns(t), 1);
	assert_int_equal(tcpreasm_stats(t)->expired, 1);
	tcpreasm_expire(t, 5000);
	assert_int_equal(tcpreasm_conns(t), 0);
	assert_int_equal(tcpreasm_bytes(t), 0);
	tcpreasm_free(t);
}

static void test_fin_rst(void **state)
{
	struct got *g = *state;
	struct tcpreasm_limits l = lim_default();
	struct tcpreasm *t = tcpreasm_new(&l, toy_frame, collect, g);
	size_t a = strlen(M1);
	/* data with FIN: delivered, then freed */
	fc(t, 1, F_ACK | F_FIN, M1, a, 1);
	assert_int_equal(g->n, 1);
	assert_int_equal(tcpreasm_conns(t), 0);
	/* FIN with queued data behind a hole: queued messages are drained */
	fc(t, 1, F_ACK, "MSG z", 5, 2);
	fc(t, 100, F_ACK | F_FIN, M2, strlen(M2), 3);
	assert_int_equal(g->n, 2);
	assert_string_equal(g->msg[1], M2);
	assert_int_equal(tcpreasm_conns(t), 0);
	assert_int_equal(tcpreasm_bytes(t), 0);
	/* RST from the server frees both directions */
	fc(t, 1, F_ACK, "MSG", 3, 4);
	struct pkt p = mk(2, 5060, 1, 1000, 1, F_ACK, "MSG", 3);
	tcpreasm_feed(t, &p, 5);
	assert_int_equal(tcpreasm_conns(t), 2);
	assert_true(tcpreasm_tracks(t, &p));
	struct pkt other = mk(3, 5060, 1, 1000, 1, F_ACK, NULL, 0);
	assert_false(tcpreasm_tracks(t, &other));
	p = mk(2, 5060, 1, 1000, 4, F_RST, " a\nLen: 1\n\nz", 13); /* completes a message */
	tcpreasm_feed(t, &p, 6);
	assert_int_equal(g->n, 3);
	assert_string_equal(g->msg[2], "MSG a\nLen: 1\n\nz");
	assert_int_equal(g->ts[2], 6);
	assert_int_equal(tcpreasm_conns(t), 0);
	assert_int_equal(tcpreasm_bytes(t), 0);
	/* a bare ACK does not create state */
	fc(t, 1, F_ACK, NULL, 0, 7);
	assert_int_equal(tcpreasm_conns(t), 0);
	tcpreasm_free(t);
	/* bad arguments */
	assert_null(tcpreasm_new(&l, NULL, collect, g));
	l.max_conns = 0;
	assert_null(tcpreasm_new(&l, toy_frame, collect, g));
}

/* ---- WebSocket ---- */

static size_t ws_frame(uint8_t *out, bool fin, uint8_t op, bool mask, const void *pl, size_t n)
{
	static const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };
	size_t h = 0;
	out[h++] = (uint8_t)((fin ? 0x80 : 0) | op);
	if (n < 126) {
		out[h++] = (uint8_t)((mask ? 0x80 : 0) | n);
	} else {
		out[h++] = (uint8_t)((mask ? 0x80 : 0) | 126);
		out[h++] = (uint8_t)(n >> 8);
		out[h++] = (uint8_t)n;
	}
	if (mask) {
		memcpy(out + h, key, 4);
		h += 4;
	}
	for (size_t i = 0; i < n; i++)
		out[h + i] = (uint8_t)(((const uint8_t *)pl)[i] ^ (mask ? key[i & 3] : 0));
	return h + n;
}

static const char UPG_REQ[] = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
			      "Sec-WebSocket-Protocol: sip\r\n\r\n";
static const char UPG_RESP[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";

static void test_websocket(void **state)
{
	struct got *g = *state;
	struct tcpreasm_limits l = lim_default();
	struct tcpreasm *t = tcpreasm_new(&l, toy_frame, collect, g);
	uint8_t buf[2048];
	size_t n = 0;
	const char *inv = "INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: 1\r\n\r\n";
	char longmsg[300];
	memset(longmsg, 'L', sizeof(longmsg));

	/* handshake, request split in two */
	uint32_t cs = 1, ss = 1;
	fc(t, cs, F_ACK, UPG_REQ, 10, 1);
	fc(t, cs + 10, F_ACK, UPG_REQ + 10, strlen(UPG_REQ) - 10, 2);
	cs += (uint32_t)strlen(UPG_REQ);
	struct pkt p = mk(2, 5060, 1, 1000, ss, F_ACK, UPG_RESP, strlen(UPG_RESP));
	assert_true(tcpreasm_tracks(t, &p)); /* reverse of a tracked direction */
	tcpreasm_feed(t, &p, 3);
	ss += (uint32_t)strlen(UPG_RESP);
	assert_int_equal(g->n, 0);

	/* masked text frame, ping, fragmented binary (16-bit length) */
	n += ws_frame(buf + n, true, 1, true, inv, strlen(inv));
	n += ws_frame(buf + n, true, 9, true, "pi", 2);
	n += ws_frame(buf + n, false, 2, true, longmsg, 200);
	n += ws_frame(buf + n, true, 10, true, "", 0); /* control between fragments */
	n += ws_frame(buf + n, false, 0, true, longmsg + 200, 50);
	n += ws_frame(buf + n, true, 0, true, longmsg + 250, 50);
	/* split everywhere: 7-byte segments */
	for (size_t off = 0; off < n; off += 7) {
		size_t k = n - off < 7 ? n - off : 7;
		fc(t, cs + (uint32_t)off, F_ACK, buf + off, k, 10 + off);
	}
	cs += (uint32_t)n;
	assert_int_equal(g->n, 2);
	assert_string_equal(g->msg[0], inv);
	assert_true(g->ws[0]);
	assert_int_equal(g->len[1], 300);
	assert_memory_equal(g->msg[1], longmsg, 300);
	assert_true(g->ws[1]);
	assert_int_equal(tcpreasm_stats(t)->ws_frames, 6);
	assert_int_equal(tcpreasm_stats(t)->ws_bad, 0);

	/* server side: unmasked frame */
	n = ws_frame(buf, true, 1, false, "SIP/2.0 200 OK\r\n\r\n", 18);
	p = mk(2, 5060, 1, 1000, ss, F_ACK, buf, n);
	tcpreasm_feed(t, &p, 50);
	ss += (uint32_t)n;
	assert_int_equal(g->n, 3);
	assert_string_equal(g->msg[2], "SIP/2.0 200 OK\r\n\r\n");
	assert_int_equal(g->sport[2], 5060);

	/* A14: 64-bit length beyond max_buf, then a good frame */
	uint8_t bad[10] = { 0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	fc(t, cs, F_ACK, bad, sizeof(bad), 60);
	cs += sizeof(bad);
	assert_int_equal(tcpreasm_stats(t)->ws_bad, 1);
	n = ws_frame(buf, true, 1, true, "again", 5);
	fc(t, cs, F_ACK, buf, n, 61);
	cs += (uint32_t)n;
	assert_int_equal(g->n, 4);
	assert_string_equal(g->msg[3], "again");
	/* reserved opcode and continuation of nothing */
	uint8_t rsv[2] = { 0x83, 0x00 };
	fc(t, cs, F_ACK, rsv, 2, 62);
	cs += 2;
	n = ws_frame(buf, true, 0, true, "orphan", 6);
	fc(t, cs, F_ACK, buf, n, 63);
	cs += (uint32_t)n;
	assert_int_equal(tcpreasm_stats(t)->ws_bad, 3);
	assert_int_equal(g->n, 4);
	/* fragmented message exceeding max_buf is dropped, next one survives */
	static uint8_t huge[5000];
	memset(huge, 'H', sizeof(huge));
	for (int i = 0; i < 3; i++) {
		n = ws_frame(buf, false, (uint8_t)(i == 0 ? 1 : 0), true, huge, 1800);
		fc(t, cs, F_ACK, buf, n, 64);
		cs += (uint32_t)n;
	}
	n = ws_frame(buf, true, 0, true, huge, 10);
	fc(t, cs, F_ACK, buf, n, 65);
	cs += (uint32_t)n;
	assert_int_equal(g->n, 4);
	assert_int_equal(tcpreasm_stats(t)->ws_bad, 4);
	n = ws_frame(buf, true, 1, true, "ok", 2);
	fc(t, cs, F_ACK, buf, n, 66);
	cs += (uint32_t)n;
	assert_int_equal(g->n, 5);
	assert_string_equal(g->msg[4], "ok");
	/* permessage-deflate (RSV1) message and its continuation: skipped */
	n = ws_frame(buf, false, 1, true, "zzz", 3);
	buf[0] |= 0x40;
	n += ws_frame(buf + n, true, 0, true, "yyy", 3);
	fc(t, cs, F_ACK, buf, n, 67);
	cs += (uint32_t)n;
	assert_int_equal(g->n, 5);
	assert_int_equal(tcpreasm_stats(t)->ws_bad, 5);
	/* a new message while one is unfinished abandons the first */
	n = ws_frame(buf, false, 1, true, "first", 5);
	n += ws_frame(buf + n, true, 1, true, "second", 6);
	fc(t, cs, F_ACK, buf, n, 68);
	assert_int_equal(g->n, 6);
	assert_string_equal(g->msg[5], "second");
	assert_int_equal(tcpreasm_stats(t)->ws_bad, 6);
	tcpreasm_free(t);
}

static void test_websocket_variants(void **state)
{
	struct got *g = *state;
	struct tcpreasm_limits l = lim_default();
	struct tcpreasm *t = tcpreasm_new(&l, toy_frame, collect, g);
	uint8_t buf[256];
	size_t n;

	/* 101 seen before the request finished; then the client's frames */
	fc(t, 1, F_ACK, UPG_REQ, 20, 1);
	struct pkt p = mk(2, 5060, 1, 1000, 1, F_ACK, UPG_RESP, strlen(UPG_RESP));
	tcpreasm_feed(t, &p, 2);
	n = ws_frame(buf, true, 1, true, "hi", 2);
	memmove(buf + strlen(UPG_REQ) - 20, buf, n);
	memcpy(buf, UPG_REQ + 20, strlen(UPG_REQ) - 20);
	fc(t, 21, F_ACK, buf, strlen(UPG_REQ) - 20 + n, 3);
	assert_int_equal(g->n, 1);
	assert_string_equal(g->msg[0], "hi");
	tcpreasm_free(t);

	/* rejected upgrade: the client's next bytes go to the framer */
	g->n = 0;
	t = tcpreasm_new(&l, toy_frame, collect, g);
	fc(t, 1, F_ACK, UPG_REQ, strlen(UPG_REQ), 1);
	fc(t, 1 + (uint32_t)strlen(UPG_REQ), F_ACK, M1, strlen(M1), 2);
	assert_int_equal(g->n, 0);
	const char *nope = "HTTP/1.1 400 Bad\r\n\r\n";
	p = mk(2, 5060, 1, 1000, 1, F_ACK, nope, strlen(nope));
	tcpreasm_feed(t, &p, 3);
	assert_int_equal(g->n, 1);
	assert_string_equal(g->msg[0], M1);
	assert_false(g->ws[0]);
	tcpreasm_free(t);

	/* answer never captured: a masked frame header settles it */
	g->n = 0;
	t = tcpreasm_new(&l, toy_frame, collect, g);
	fc(t, 1, F_ACK, UPG_REQ, strlen(UPG_REQ), 1);
	n = ws_frame(buf, true, 1, true, "solo", 4);
	fc(t, 1 + (uint32_t)strlen(UPG_REQ), F_ACK, buf, n, 2);
	assert_int_equal(g->n, 1);
	assert_string_equal(g->msg[0], "solo");
	assert_true(g->ws[0]);
	tcpreasm_free(t);

	/* an upgrade request whose header block never ends goes to the framer */
	g->n = 0;
	t = tcpreasm_new(&l, toy_frame, collect, g);
	static char longreq[9000];
	memset(longreq, 'h', sizeof(longreq));
	static const char lr[] = "GET / HTTP/1.1\r\nUpgrade: websocket\r\nX: ";
	memcpy(longreq, lr, sizeof(lr) - 1);
	fc(t, 1, F_ACK, longreq, sizeof(longreq), 1);
	fc(t, 1 + sizeof(longreq), F_ACK, M1, strlen(M1), 2);
	assert_int_equal(g->n, 1);
	assert_string_equal(g->msg[0], M1);
	assert_false(g->ws[0]);
	tcpreasm_free(t);

	/* a GET without Upgrade is left to the framer (which skips it) */
	g->n = 0;
	t = tcpreasm_new(&l, toy_frame, collect, g);
	const char *get = "GET / HTTP/1.1\r\nHost: y\r\n\r\n";
	fc(t, 1, F_ACK, get, strlen(get), 1);
	fc(t, 1 + (uint32_t)strlen(get), F_ACK, M2, strlen(M2), 2);
	assert_int_equal(g->n, 1);
	assert_string_equal(g->msg[0], M2);
	assert_true(tcpreasm_stats(t)->resyncs >= 1);
	tcpreasm_free(t);
}

/* ---- real captures (tshark truth in /work/shared/testdata/pcaps) ---- */

static uint32_t rd_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

#define MAXSEG 128
static uint8_t pcap_file[1 << 17];
static struct pkt segs[MAXSEG];
static uint64_t seg_ts[MAXSEG];

/* Ethernet/IPv4/TCP segments of a classic pcap; -1 when the file is missing.
 * Payloads borrow pcap_file. */
static int load_tcp(const char *path, int *frames)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t flen = fread(pcap_file, 1, sizeof(pcap_file), f);
	fclose(f);
	assert_true(flen > 24 && flen < sizeof(pcap_file));
	size_t off = 24;
	int n = 0;
	*frames = 0;
	while (off + 16 <= flen) {
		const uint8_t *r = pcap_file + off;
		size_t cap = rd_le32(r + 8);
		uint64_t ts = (uint64_t)rd_le32(r) * 1000000u + rd_le32(r + 4);
		off += 16;
		assert_true(cap <= flen - off);
		const uint8_t *e = pcap_file + off;
		off += cap;
		(*frames)++;
		if (cap < 14 + 20 || e[12] != 0x08 || e[13] != 0x00)
			continue;
		const uint8_t *ip = e + 14;
		size_t ihl = (size_t)(ip[0] & 0x0f) * 4, tot = rd_be16(ip + 2);
		if (ip[9] != 6 || tot > cap - 14 || tot < ihl + 20)
			continue;
		const uint8_t *tcp = ip + ihl;
		size_t thl = (size_t)(tcp[12] >> 4) * 4;
		assert_true(n < MAXSEG);
		struct pkt *p = &segs[n];
		memset(p, 0, sizeof(*p));
		p->ipver = 4;
		p->proto = 6;
		ip_addr_set4(&p->src, ip + 12);
		ip_addr_set4(&p->dst, ip + 16);
		p->sport = rd_be16(tcp);
		p->dport = rd_be16(tcp + 2);
		p->tcp_seq = rd_be32(tcp + 4);
		p->tcp_flags = tcp[13];
		p->payload = tcp + thl;
		p->payload_len = tot - ihl - thl;
		seg_ts[n++] = ts;
	}
	return n;
}

/* A minimal SIP framer for the tests (sip.c is not a dependency): a start
 * line beginning with an upper-case letter, headers to CRLFCRLF, then
 * Content-Length (or "l") bytes. */
static int mini_sip_frame(const uint8_t *p, size_t len, size_t *msg_len, size_t *skip)
{
	if (!(p[0] >= 'A' && p[0] <= 'Z')) {
		*skip = 1;
		return -1;
	}
	long e = span_find(span_make(p, len), "\r\n\r\n", 4);
	if (e < 0)
		return len < 8192 ? 0 : (*skip = 1, -1);
	uint64_t cl = 0;
	size_t i = 0, hl = (size_t)e + 2;
	while (i < hl) {
		long le = span_find(span_make(p + i, hl - i), "\r\n", 2);
		struct span line = span_make(p + i, (size_t)le);
		if (span_starts_ci(line, "content-length:"))
			span_to_u64(span_make(line.p + 15, line.len - 15), 1u << 20, &cl);
		else if (span_starts_ci(line, "l:"))
			span_to_u64(span_make(line.p + 2, line.len - 2), 1u << 20, &cl);
		i += (size_t)le + 2;
	}
	if ((size_t)e + 4 + cl > len)
		return 0;
	*msg_len = (size_t)e + 4 + (size_t)cl;
	return 1;
}

static void test_sip_tcp_pcap(void **state)
{
	struct got *g = *state;
	int frames, n = load_tcp("/work/shared/testdata/pcaps/heplify_sip_ipv4_tcp.pcap", &frames);
	if (n < 0)
		skip();
	static const size_t sizes[7] = { 788, 447, 499, 752, 536 };
	struct tcpreasm_limits l = { 64, 65536, 16, 60000000 };

	/* as captured */
	struct tcpreasm *t = tcpreasm_new(&l, mini_sip_frame, collect, g);
	for (int i = 0; i < n; i++)
		tcpreasm_feed(t, &segs[i], seg_ts[i]);
	assert_int_equal(g->n, 7); /* tshark sip,stat: 7 messages */
	for (int i = 0; i < 5; i++)
		assert_int_equal(g->len[i], sizes[i]);
	assert_memory_equal(g->msg[0], "INVITE sip:201@10.33.6.101", 26);
	assert_int_equal(tcpreasm_stats(t)->resyncs, 0);
	tcpreasm_free(t);

	/* every data segment cut in three, fed 2,1,1,3,2 (reordered and
	 * duplicated): the same messages come out */
	struct got *g2 = calloc(1, sizeof(*g2));
	assert_non_null(g2);
	t = tcpreasm_new(&l, mini_sip_frame, collect, g2);
	for (int i = 0; i < n; i++) {
		struct pkt p = segs[i];
		size_t len = p.payload_len, a = len / 3, b = 2 * len / 3;
		if (len < 3) {
			tcpreasm_feed(t, &p, seg_ts[i]);
			continue;
		}
		const uint8_t *d = segs[i].payload;
		uint32_t s0 = segs[i].tcp_seq;
		struct { size_t from, to; } order[5] = { { a, b }, { 0, a }, { 0, a }, { b, len }, { a, b } };
		for (int k = 0; k < 5; k++) {
			p.payload = d + order[k].from;
			p.payload_len = order[k].to - order[k].from;
			p.tcp_seq = s0 + (uint32_t)order[k].from;
			p.tcp_flags = segs[i].tcp_flags & (uint8_t)~0x01; /* FIN only last */
			if (k == 3)
				p.tcp_flags = segs[i].tcp_flags;
			tcpreasm_feed(t, &p, seg_ts[i]);
		}
	}
	assert_int_equal(g2->n, 7);
	for (int i = 0; i < 7; i++) {
		assert_int_equal(g2->len[i], g->len[i]);
		assert_memory_equal(g2->msg[i], g->msg[i], g->len[i] < 2047 ? g->len[i] : 2047);
	}
	assert_true(tcpreasm_stats(t)->retransmissions > 0);
	assert_true(tcpreasm_stats(t)->out_of_order > 0);
	assert_int_equal(tcpreasm_stats(t)->gaps_skipped, 0);
	tcpreasm_free(t);
	free(g2);
}

/* SIP over WebSocket: 11 frames (5 masked from the client), 2 INVITE Call-IDs */
static void test_websocket_pcap(void **state)
{
	struct got *g = *state;
	int frames, n = load_tcp("/work/shared/testdata/pcaps/heplify_sip_tcp_websocket.pcap", &frames);
	if (n < 0)
		skip();
	assert_int_equal(frames, 61);
	struct tcpreasm_limits l = { 64, 65536, 16, 60000000 };
	struct tcpreasm *t = tcpreasm_new(&l, mini_sip_frame, collect, g);
	for (int i = 0; i < n; i++)
		tcpreasm_feed(t, &segs[i], seg_ts[i]);
	assert_int_equal(g->n, 11);
	int invites = 0;
	for (int i = 0; i < g->n; i++) {
		assert_true(g->ws[i]);
		if (strncmp(g->msg[i], "INVITE sip:", 11) == 0)
			invites++;
	}
	assert_int_equal(invites, 2);
	assert_true(strstr(g->msg[0], "kovfhoptshgn59q712sr") != NULL);
	assert_int_equal(tcpreasm_stats(t)->ws_frames, 11);
	assert_int_equal(tcpreasm_stats(t)->ws_bad, 0);
	assert_int_equal(tcpreasm_stats(t)->gaps_skipped, 0);
	assert_int_equal(tcpreasm_stats(t)->resyncs, 0);
	tcpreasm_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_segments_and_many_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_skip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wraparound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fin_rst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_websocket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_websocket_variants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sip_tcp_pcap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_websocket_pcap, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
