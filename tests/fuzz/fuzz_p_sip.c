/*
 * fuzz_p_sip.c - libFuzzer target: sip_parse on one datagram, then every
 * helper that consumes its result (find_header, header_param, body_sdp ->
 * sdp_parse, info_dtmf, looks_like).  Spans must stay inside the input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "sdp.h"
#include "sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static void in_input(struct span s, const uint8_t *d, size_t n)
{
	if (s.len == 0)
		return;
	if (s.p < d || s.p + s.len > d + n || s.len > n)
		abort();
	/* touch both ends so ASan checks them */
	volatile uint8_t x = s.p[0];
	x = s.p[s.len - 1];
	(void)x;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct sip_msg m;
	static const char *const names[] = { "Call-ID", "From", "To", "Via", "Contact", "Content-Length",
					     "Content-Type", "Supported", "Subject", "Event", "Refer-To",
					     "i", "l", "x", "Max-Forwards", "CSeq", "" };
	static const char *const params[] = { "tag", "branch", "boundary", "received", "rport", "lr" };

	(void)sip_looks_like(d, n);
	int rc = sip_parse(d, n, &m);
	(void)sip_err_name(rc);
	if (rc != SIP_OK)
		return 0;
	(void)sip_method_name(m.method);
	(void)sip_method_name(m.cseq_method);
	in_input(m.method_str, d, n);
	in_input(m.ruri, d, n);
	in_input(m.reason, d, n);
	in_input(m.call_id, d, n);
	in_input(m.from, d, n);
	in_input(m.to, d, n);
	in_input(m.from_user, d, n);
	in_input(m.to_user, d, n);
	in_input(m.from_tag, d, n);
	in_input(m.to_tag, d, n);
	in_input(m.via_branch, d, n);
	in_input(m.contact, d, n);
	in_input(m.content_type, d, n);
	in_input(m.content_type_full, d, n);
	in_input(m.body, d, n);
	if (m.n_hdrs > SIP_MAX_HEADERS)
		abort();
	for (unsigned i = 0; i < m.n_hdrs; i++) {
		in_input(m.hdrs[i].name, d, n);
		in_input(m.hdrs[i].value, d, n);
		for (size_t k = 0; k < sizeof(params) / sizeof(params[0]); k++) {
			struct span pv;
			if (sip_header_param(m.hdrs[i].value, params[k], &pv))
				in_input(pv, d, n);
		}
	}
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		struct span v;
		if (sip_find_header(&m, names[k], &v))
			in_input(v, d, n);
	}
	struct span sdp;
	if (sip_body_sdp(&m, &sdp) == 1) {
		in_input(sdp, d, n);
		static struct sdp s;
		(void)sdp_parse(sdp.p, sdp.len, &s);
	}
	char digit;
	uint32_t dur;
	if (sip_info_dtmf(&m, &digit, &dur) == 1 && !((digit >= '0' && digit <= '9') || digit == '*' ||
						       digit == '#' || (digit >= 'A' && digit <= 'D')))
		abort();
	return 0;
}
