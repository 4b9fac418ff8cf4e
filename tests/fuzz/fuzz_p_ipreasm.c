/*
 * fuzz_p_ipreasm.c - fragment reassembly under attacker-chosen fragment
 * streams (overlaps, duplicates, holes, oversize, floods, time jumps).
 *
 * Input: byte 0 picks the limits (bits 0-1: max_datagrams 1/4/16/256,
 * bits 2-3: max_bytes 2K/16K/128K/1M, bit 4: timeout 0 = off), then
 * records of [2-byte big-endian length][1-byte time step in 10 ms units]
 * [raw IPv4/IPv6 frame] (a length past the end takes what is left).
 * Each frame goes through decode_frame(DEC_LINK_RAW); fragments are fed;
 * a rebuilt datagram is decoded again with decode_ip().  The limits are
 * checked after every call.  One instance per input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "ipreasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static volatile uint8_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const uint32_t dg[4] = { 1, 4, 16, 256 };
	static const size_t by[4] = { 2048, 16384, 131072, 1 << 20 };
	struct ipreasm_limits lim;
	struct ipreasm *r;
	size_t off = 1;
	uint64_t now = 1000000;

	if (n < 1)
		return 0;
	lim.max_datagrams = dg[d[0] & 3];
	lim.max_bytes = by[(d[0] >> 2) & 3];
	lim.timeout_us = (d[0] & 0x10) ? 0 : 2000000;
	r = ipreasm_new(&lim);
	if (!r)
		return 0;
	while (off < n) {
		size_t flen = 0;
		uint8_t step = 0;
		if (n - off >= 3) {
			flen = rd_be16(d + off);
			step = d[off + 2];
			off += 3;
		} else {
			off = n;
		}
		if (flen > n - off)
			flen = n - off;
		now += (uint64_t)step * 10000;
		uint8_t *f = malloc(flen ? flen : 1);
		if (!f)
			break;
		memcpy(f, d + off, flen);
		off += flen;

		struct pkt k;
		if (decode_frame(DEC_LINK_RAW, f, flen, &k) == DEC_OK && k.is_frag) {
			const uint8_t *o = NULL;
			size_t olen = 0;
			int rc = ipreasm_feed(r, &k, now, &o, &olen);
			if (rc == IPR_DONE) {
				struct pkt k2;
				if (!o || olen > 65535 + 1024)
					__builtin_trap();
				for (size_t i = 0; i < olen; i++)
					sink ^= o[i];
				(void)decode_ip(o, olen, &k2);
			} else if (rc != IPR_MORE && rc != IPR_DROPPED) {
				__builtin_trap();
			}
		}
		if (step == 0xff)
			ipreasm_expire(r, now);
		if (ipreasm_bytes(r) > lim.max_bytes || ipreasm_count(r) > lim.max_datagrams)
			__builtin_trap();
		free(f);
	}
	ipreasm_free(r);
	return 0;
}
