/*
 * counters.c - names and output of the engine's counters (see counters.h).
 */
#include "counters.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

static const char *const names[] = {
#define RV_C_NAME(name, doc) #name,
	RV_COUNTERS(RV_C_NAME)
#undef RV_C_NAME
};

typedef const char *(*err_name_fn)(int);

struct err_group {
	const char *prefix;
	size_t off;
	int n;
	err_name_fn name;
	int first; /* lowest code worth a counter (1 skips the OK slot) */
};

static const char *dec_name_wrap(int c) { return dec_err_name(c); }
static const char *sip_name_wrap(int c) { return sip_err_name(c); }
static const char *sdp_name_wrap(int c) { return sdp_err_name(c); }
static const char *rtp_name_wrap(int c) { return rtp_err_name(c); }
static const char *rtcp_name_wrap(int c) { return rtcp_err_name(c); }

static const struct err_group groups[] = {
	{ "decode_", offsetof(struct rv_counters, dec), DEC_E__COUNT, dec_name_wrap, 1 },
	{ "sip_", offsetof(struct rv_counters, sip), SIP_E__COUNT, sip_name_wrap, 1 },
	{ "sdp_", offsetof(struct rv_counters, sdp), SDP_E__COUNT, sdp_name_wrap, 1 },
	{ "rtp_", offsetof(struct rv_counters, rtp), RTP_E__COUNT, rtp_name_wrap, 1 },
	{ "rtcp_", offsetof(struct rv_counters, rtcp), RTCP_E__COUNT, rtcp_name_wrap, 1 },
};

static void each(const struct rv_counters *c, void (*fn)(void *, const char *, const char *, uint64_t), void *ctx)
{
	for (int i = 0; i < C__COUNT; i++)
		fn(ctx, "", names[i], c->c[i]);
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		const uint64_t *arr = (const uint64_t *)(const void *)((const char *)c + groups[g].off);
		for (int k = groups[g].first; k < groups[g].n; k++)
			fn(ctx, groups[g].prefix, groups[g].name(-k), arr[k]);
	}
}

static void put_json(void *ctx, const char *prefix, const char *name, uint64_t v)
{
	char key[96];
	snprintf(key, sizeof(key), "%s%s", prefix, name);
	json_u64(ctx, key, v);
}

void counters_json(const struct rv_counters *c, struct json *j)
{
	each(c, put_json, j);
}

struct print_ctx {
	FILE *f;
	int all;
};

static void put_line(void *ctx, const char *prefix, const char *name, uint64_t v)
{
	struct print_ctx *p = ctx;
	if (v || p->all)
		fprintf(p->f, "  %s%-40s %" PRIu64 "\n", prefix, name, v);
}

void counters_print(const struct rv_counters *c, FILE *f, int all)
{
	struct print_ctx p = { f, all };
	each(c, put_line, &p);
}
