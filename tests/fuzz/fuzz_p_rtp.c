/*
 * fuzz_p_rtp.c - rtp_parse() on raw bytes, then the RFC 8285 element walk
 * and the RFC 4733 event parse on whatever it accepted.
 */
#include <stdint.h>
#include <stdlib.h>

#include "rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct rtp_hdr h;
	struct rfc4733_event ev;
	volatile size_t sink = 0;
	int rc = rtp_parse(d, n, &h);

	sink += rtp_is_rtcp(d, n);
	sink += (size_t)rtp_err_name(rc)[0];
	if (rc != RTP_OK)
		return 0;
	if (h.hdr_len + h.payload_len > n || (h.payload_len && h.payload < d) ||
	    (h.payload_len && h.payload + h.payload_len > d + n) ||
	    (h.ext.len && (h.ext.p < d || h.ext.p + h.ext.len > d + n)))
		abort();
	/* touch every byte of the spans so ASan checks them */
	for (size_t i = 0; i < h.payload_len; i++)
		sink += h.payload[i];
	for (size_t i = 0; i < h.ext.len; i++)
		sink += h.ext.p[i];
	sink += (size_t)rtp_ext_count(&h);
	if (rfc4733_parse(h.payload, h.payload_len, &ev) == 0)
		sink += (size_t)rfc4733_digit(ev.event) + ev.duration;
	(void)sink;
	return 0;
}
