/*
 * fuzz_p_sdp.c - libFuzzer target: sdp_parse on one body, then the lookup
 * helpers on every media.  Spans must stay inside the input and counts
 * inside the arrays.
 */
#include <stdint.h>
#include <stdlib.h>

#include "sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static void in_input(struct span s, const uint8_t *d, size_t n)
{
	if (s.len == 0)
		return;
	if (s.p < d || s.p + s.len > d + n || s.len > n)
		abort();
	volatile uint8_t x = s.p[0];
	x = s.p[s.len - 1];
	(void)x;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct sdp s;
	int rc = sdp_parse(d, n, &s);
	(void)sdp_err_name(rc);
	if (s.n_media > SDP_MAX_MEDIA)
		abort();
	for (unsigned i = 0; i < s.n_media; i++) {
		const struct sdp_media *m = &s.m[i];
		if (m->n_pt > SDP_MAX_FMT || m->n_rtpmap > SDP_MAX_FMT)
			abort();
		in_input(m->media, d, n);
		in_input(m->proto, d, n);
		for (unsigned k = 0; k < m->n_pt; k++) {
			if (m->pt[k] > 127)
				abort();
			uint32_t rate;
			const struct sdp_rtpmap *r = sdp_find_rtpmap(m, m->pt[k]);
			if (r)
				in_input(r->encoding, d, n);
			else
				(void)sdp_static_pt(m->pt[k], &rate);
		}
		for (unsigned k = 0; k < m->n_rtpmap; k++)
			in_input(m->rtpmap[k].encoding, d, n);
	}
	return 0;
}
