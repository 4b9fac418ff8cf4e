/*
 * inband.c - spandsp DTMF receiver wrapper (see inband.h).
 */
#include "inband.h"

#include <pthread.h>
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

/* G.711 byte -> linear sample and its square, per law (0 = mu-law, 1 = A-law),
 * built once from spandsp's own conversions: a table load per sample instead
 * of spandsp's bit twiddling, and quiet frames (the common case) only need
 * the squares.  Profiling showed the conversion was most of the engine's
 * time on G.711 streams (docs/performance.md, history). */
static int16_t lin_tab[2][256];
static uint32_t sq_tab[2][256];
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void tab_init(void)
{
	for (int b = 0; b < 256; b++) {
		lin_tab[0][b] = ulaw_to_linear((uint8_t)b);
		lin_tab[1][b] = alaw_to_linear((uint8_t)b);
		for (int l = 0; l < 2; l++)
			sq_tab[l][b] = (uint32_t)((int32_t)lin_tab[l][b] * lin_tab[l][b]);
	}
}

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
	pthread_once(&tab_once, tab_init);
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
	const int16_t *lin = lin_tab[alaw ? 1 : 0];
	const uint32_t *sq = sq_tab[alaw ? 1 : 0];
	while (n) {
		size_t k = n < 320 ? n : 320;
		uint64_t e0 = 0, e1 = 0;
		size_t i = 0;
		for (; i + 2 <= k; i += 2) {
			e0 += sq[g711[i]];
			e1 += sq[g711[i + 1]];
		}
		if (i < k)
			e0 += sq[g711[i]];
		bool quiet = e0 + e1 < (uint64_t)QUIET_MEAN_SQUARE * k;
		if (!(quiet && ib->quiet)) {
			for (i = 0; i < k; i++)
				amp[i] = lin[g711[i]];
			dtmf_rx(ib->rx, amp, (int)k);
		}
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
