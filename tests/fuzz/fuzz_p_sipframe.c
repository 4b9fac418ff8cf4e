/*
 * fuzz_p_sipframe.c - libFuzzer target: the input is a TCP byte stream.
 * sip_frame is called in a loop as tcpreasm would (consume messages or
 * skipped bytes), and each framed message goes through sip_parse.  Also
 * checks that feeding the stream in two pieces frames the first message
 * the same way (need-more must never turn into a different answer).
 */
#include <stdint.h>
#include <stdlib.h>

#include "sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct sip_msg m;
	size_t off = 0;
	/* every step consumes >= 1 byte or stops, so at most n + 1 steps */
	for (size_t steps = 0; steps <= n && off < n; steps++) {
		size_t ml = 0, sk = 0;
		int rc = sip_frame(d + off, n - off, &ml, &sk);
		if (rc == 0)
			break;
		if (rc == 1) {
			if (ml == 0 || ml > n - off || ml > SIP_MAX_MSG)
				abort();
			(void)sip_parse(d + off, ml, &m);
			off += ml;
		} else if (rc == -1) {
			if (sk == 0 || sk > n - off)
				abort();
			off += sk;
		} else if (rc == -2) {
			/* framing lost: the stream is abandoned (tcpreasm stops here) */
			if (sk == 0 || sk > n - off)
				abort();
			break;
		} else {
			abort();
		}
	}
	/* prefix consistency: a complete message at a prefix stays the same */
	if (n > 1) {
		size_t ml1 = 0, sk1 = 0, ml2 = 0, sk2 = 0;
		size_t half = n / 2;
		int r1 = sip_frame(d, half, &ml1, &sk1);
		int r2 = sip_frame(d, n, &ml2, &sk2);
		if (r1 == 1 && (r2 != 1 || ml1 != ml2))
			abort();
	}
	return 0;
}
