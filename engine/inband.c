/*
 * inband.c - spandsp DTMF receiver wrapper (see inband.h).
 */
#include "inband.h"

#include <stdlib.h>

#include <spandsp/telephony.h>
#include <spandsp/logging.h>
#include <spandsp/queue.h>
#include <spandsp/g711.h>
#include <spandsp/tone_generate.h>
#include <spandsp/super_tone_rx.h>
#include <spandsp/dtmf.h>

/* Frames quieter than this cannot hold a DTMF tone spandsp would accept
 * (its default threshold is -26 dBm0 per tone; this is about -36 dBm0 for
 * the whole frame).  They are not run through the Goertzel filters, except
 * the first quiet frame after a loud one, so the detector still sees every
 * tone end and a repeated digit is reported again. */
#define QUIET_MEAN_SQUARE 60000

struct inband {
	dtmf_rx_state_t *rx;
	bool quiet;
	char *out;
	int n, max;
};

static void digits_cb(void *user, const char *digits, int len)
{
	struct inband *ib = user;
	for (int i = 0; i < len && ib->n < ib->max; i++)
		ib->out[ib->n++] = digits[i];
}

struct inband *inband_new(void)
{
	struct inband *ib = calloc(1, sizeof(*ib));
	if (!ib)
		return NULL;
	ib->rx = dtmf_rx_init(NULL, digits_cb, ib);
	if (!ib->rx) {
		free(ib);
		return NULL;
	}
	return ib;
}

int inband_feed(struct inband *ib, const uint8_t *g711, size_t n, bool alaw, char *digits, int max)
{
	int16_t amp[320];
	ib->out = digits;
	ib->n = 0;
	ib->max = max;
	while (n) {
		size_t k = n < 320 ? n : 320;
		uint64_t energy = 0;
		for (size_t i = 0; i < k; i++) {
			amp[i] = alaw ? alaw_to_linear(g711[i]) : ulaw_to_linear(g711[i]);
			energy += (uint64_t)((int32_t)amp[i] * amp[i]);
		}
		bool quiet = energy < (uint64_t)QUIET_MEAN_SQUARE * k;
		if (!(quiet && ib->quiet))
			dtmf_rx(ib->rx, amp, (int)k);
		ib->quiet = quiet;
		g711 += k;
		n -= k;
	}
	ib->out = NULL;
	return ib->n;
}

void inband_free(struct inband *ib)
{
	if (!ib)
		return;
	dtmf_rx_free(ib->rx);
	free(ib);
}
