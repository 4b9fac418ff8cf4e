/*
 * fuzz_p_decode.c - decode_frame(), sctp_next_data() and, for fragments,
 * ipreasm + decode_ip() on the rebuilt datagram.
 *
 * Input: byte 0 selects the link type ((b % 9): 0 = invalid link, 1..8 =
 * enum dec_link), then frames, each as a 2-byte big-endian length and the
 * frame bytes (a length past the end takes what is left).  Every frame is
 * copied to an exact-size heap buffer so ASan sees any over-read, and every
 * output span is checked to lie inside the frame.  One ipreasm instance
 * lives for one input only, so inputs are independent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "ipreasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static volatile uint8_t sink;

static void inside(const uint8_t *base, size_t len, const uint8_t *p, size_t plen)
{
	if (!p) {
		if (plen)
			__builtin_trap();
		return;
	}
	if (p < base || p > base + len || plen > (size_t)(base + len - p))
		__builtin_trap();
	for (size_t i = 0; i < plen; i++)
		sink ^= p[i];
}

static void use_pkt(int rc, const struct pkt *k, const uint8_t *base, size_t len)
{
	if (rc > 0 || rc <= -DEC_E__COUNT || !dec_err_name(rc))
		__builtin_trap();
	if (rc != DEC_OK)
		return;
	inside(base, len, k->l3, k->l3_len);
	if (k->is_frag) {
		inside(base, len, k->frag.hdr, k->frag.hdr_len);
		inside(base, len, k->frag.data, k->frag.data_len);
		return;
	}
	inside(base, len, k->payload, k->payload_len);
	if (k->vlan_count > DEC_MAX_VLAN || k->tunnels > DEC_MAX_TUNNEL)
		__builtin_trap();
	if (k->proto == DEC_IPPROTO_SCTP) {
		size_t off = 0;
		struct span s;
		uint32_t ppid;
		unsigned skipped = 0;
		for (int i = 0; i < 100000; i++) {
			int r = sctp_next_data(k->payload, k->payload_len, &off, &s, &ppid, &skipped);
			if (r != 1)
				break;
			inside(k->payload, k->payload_len, s.p, s.len);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct ipreasm_limits lim = { 16, 256 * 1024, 1000000 };
	struct ipreasm *r;
	size_t off = 1;
	uint64_t now = 0;

	if (n < 1)
		return 0;
	enum dec_link link = (enum dec_link)(d[0] % 9);
	r = ipreasm_new(&lim);
	if (!r)
		return 0;
	while (off < n) {
		size_t flen;
		if (n - off < 2) {
			flen = n - off;
		} else {
			flen = rd_be16(d + off);
			off += 2;
			if (flen > n - off)
				flen = n - off;
		}
		uint8_t *f = malloc(flen ? flen : 1);
		if (!f)
			break;
		memcpy(f, d + off, flen);
		off += flen;

		struct pkt k;
		int rc = decode_frame(link, f, flen, &k);
		use_pkt(rc, &k, f, flen);
		if (rc == DEC_OK && k.is_frag) {
			const uint8_t *o = NULL;
			size_t olen = 0;
			if (ipreasm_feed(r, &k, now, &o, &olen) == IPR_DONE) {
				struct pkt k2;
				if (olen > 65535 + 1024)
					__builtin_trap();
				int rc2 = decode_ip(o, olen, &k2);
				use_pkt(rc2, &k2, o, olen);
			}
		}
		if (ipreasm_bytes(r) > lim.max_bytes || ipreasm_count(r) > lim.max_datagrams)
			__builtin_trap();
		now += 100000;
		free(f);
	}
	ipreasm_free(r);
	return 0;
}
