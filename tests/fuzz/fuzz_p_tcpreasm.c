/*
 * fuzz_p_tcpreasm.c - feeds a stream of synthetic TCP segments into a
 * tcpreasm with small limits.  Input: repeated records of
 *   1 byte  control: bits 0-4 TCP flags (FIN SYN RST PSH ACK),
 *           0x20 reverse direction, 0x40 second client port,
 *           0x80 run tcpreasm_expire() after the segment
 *   4 bytes sequence number (big endian)
 *   2 bytes payload length (big endian, clipped to what is left)
 *   payload
 * Each payload is copied to an exact-size heap buffer so ASan sees
 * over-reads.  Delivered messages must lie inside sane bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcpreasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

#define FZ_MAX_BUF 512

/* "MSG ... Len: N\n\n" + N bytes */
static int fz_frame(const uint8_t *p, size_t len, size_t *msg_len, size_t *skip)
{
	size_t m = len < 4 ? len : 4;
	if (memcmp(p, "MSG ", m) != 0) {
		*skip = 1;
		return -1;
	}
	long e = span_find(span_make(p, len), "\n\n", 2);
	if (e < 0)
		return len < 128 ? 0 : (*skip = 1, -1);
	long l = span_find(span_make(p, (size_t)e), "Len: ", 5);
	uint64_t body;
	if (l < 0 || span_to_u64(span_make(p + l + 5, (size_t)(e - l - 5)), 100000, &body) != 0) {
		*skip = 1;
		return -1;
	}
	if ((size_t)e + 2 + body > len)
		return 0;
	*msg_len = (size_t)e + 2 + (size_t)body;
	return 1;
}

static void fz_msg(void *ctx, const struct tcp_msg *m)
{
	size_t *sum = ctx;
	if (m->len > FZ_MAX_BUF || (m->len && !m->msg))
		abort();
	for (size_t i = 0; i < m->len; i++)
		*sum += m->msg[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct tcpreasm_limits lim = { 3, FZ_MAX_BUF, 4, 5000 };
	size_t sum = 0, off = 0;
	uint64_t ts = 0;
	struct tcpreasm *t = tcpreasm_new(&lim, fz_frame, fz_msg, &sum);
	const uint8_t a[4] = { 192, 0, 2, 1 }, b[4] = { 192, 0, 2, 2 };

	if (!t)
		return 0;
	while (n - off >= 7) {
		uint8_t ctl = d[off];
		struct pkt p;
		size_t len = rd_be16(d + off + 5);
		uint8_t *copy;

		memset(&p, 0, sizeof(p));
		p.ipver = 4;
		p.proto = DEC_IPPROTO_TCP;
		p.tcp_seq = rd_be32(d + off + 1);
		p.tcp_flags = ctl & 0x1f;
		off += 7;
		if (len > n - off)
			len = n - off;
		copy = malloc(len ? len : 1);
		if (!copy)
			break;
		memcpy(copy, d + off, len);
		off += len;
		uint16_t cport = (ctl & 0x40) ? 40001 : 40000;
		if (ctl & 0x20) {
			ip_addr_set4(&p.src, b);
			ip_addr_set4(&p.dst, a);
			p.sport = 5060;
			p.dport = cport;
		} else {
			ip_addr_set4(&p.src, a);
			ip_addr_set4(&p.dst, b);
			p.sport = cport;
			p.dport = 5060;
		}
		p.payload = copy;
		p.payload_len = len;
		ts += 1000;
		sum += tcpreasm_tracks(t, &p);
		tcpreasm_feed(t, &p, ts);
		free(copy);
		if (ctl & 0x80)
			tcpreasm_expire(t, ts);
		if (tcpreasm_conns(t) > lim.max_conns ||
		    tcpreasm_bytes(t) > (size_t)lim.max_conns * 3u * FZ_MAX_BUF)
			abort();
	}
	tcpreasm_free(t);
	return 0;
}
