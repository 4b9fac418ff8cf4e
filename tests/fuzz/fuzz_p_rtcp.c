/*
 * fuzz_p_rtcp.c - rtcp_parse() (compound walk) on raw bytes.
 */
#include <stdint.h>
#include <stdlib.h>

#include "rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct rtcp_info info;
	volatile size_t sink = 0;
	int rc = rtcp_parse(d, n, &info);

	sink += (size_t)rtcp_err_name(rc)[0];
	if (rc == RTCP_OK && (info.packets == 0 || info.packets > n / 4))
		abort();
	(void)sink;
	return 0;
}
