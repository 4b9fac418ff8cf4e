/*
 * inband.c - spandsp DTMF receiver wrapper (see inband.h).
 *
 * Memory: spandsp's dtmf_rx_state_t is 432 bytes (x86-64, spandsp 0.0.6),
 * most of it constant after dtmf_rx_init (callbacks, thresholds, the
 * Goertzel coefficients, logging) or only used without a digits callback
 * (the 129-byte digit buffer).  A stream keeps only the fields dtmf_rx()
 * changes (struct inband, 80 bytes); each feed that reaches the Goertzel
 * filters copies a template made once by dtmf_rx_init to the stack, puts
 * the stream's fields into it, runs dtmf_rx and takes them back.  spandsp
 * sees exactly the state a receiver of its own would have had, so the
 * digits are the same.  tests/unit/test_inband.c checks this against a
 * plain spandsp receiver, field by field (inband_export), so a spandsp
 * version that changed other fields would fail there.
 */
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include "inband.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp/telephony.h>
#include <spandsp/logging.h>
#include <spandsp/queue.h>
#include <spandsp/g711.h>
#include <spandsp/complex.h>
#include <spandsp/tone_detect.h>
#include <spandsp/tone_generate.h>
#include <spandsp/super_tone_rx.h>
#include <spandsp/dtmf.h>
#include <spandsp/private/logging.h>
#include <spandsp/private/queue.h>
#include <spandsp/private/tone_generate.h>
#include <spandsp/private/dtmf.h>

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
/* A receiver as dtmf_rx_init leaves it: the constant fields of every one. */
static dtmf_rx_state_t rx_template;
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

#if defined(SPANDSP_USE_FIXED_POINT)
typedef int16_t gz_t;
typedef int32_t energy_t;
#else
typedef float gz_t;
typedef float energy_t;
#endif

/* The fields of dtmf_rx_state_t that dtmf_rx() writes when a digits
 * callback is set and the dial-tone filter is off (as here): the Goertzel
 * accumulators, the block's energy and sample count, the hit history, the
 * tone duration.  (current_digits is back to 0 whenever dtmf_rx returns
 * with a callback, and the digit buffer is only scratch for the callback.) */
struct inband {
	gz_t v2[8], v3[8]; /* row_out[0..3], col_out[0..3] */
	energy_t energy;
	int current_sample;
	int duration;
	uint8_t last_hit, in_digit;
	bool quiet;        /* the previous frame was quiet */
};

_Static_assert(sizeof(((dtmf_rx_state_t *)0)->row_out[0].v2) == sizeof(gz_t), "spandsp Goertzel state type");
_Static_assert(sizeof(((dtmf_rx_state_t *)0)->energy) == sizeof(energy_t), "spandsp energy type");
_Static_assert(sizeof(((dtmf_rx_state_t *)0)->last_hit) == 1 && sizeof(((dtmf_rx_state_t *)0)->in_digit) == 1,
	       "spandsp hit types");

/* Where the digits callback writes during one inband_feed. */
struct out {
	char *digits;
	int n, max;
};

static void digits_cb(void *user, const char *digits, int len)
{
	struct out *o = user;
	for (int i = 0; i < len && o->n < o->max; i++)
		o->digits[o->n++] = digits[i];
}

static void tab_init(void)
{
	for (int b = 0; b < 256; b++) {
		lin_tab[0][b] = ulaw_to_linear((uint8_t)b);
		lin_tab[1][b] = alaw_to_linear((uint8_t)b);
		for (int l = 0; l < 2; l++)
			sq_tab[l][b] = (uint32_t)((int32_t)lin_tab[l][b] * lin_tab[l][b]);
	}
	dtmf_rx_init(&rx_template, digits_cb, NULL);
}

static void state_load(dtmf_rx_state_t *rx, const struct inband *ib)
{
	memcpy(rx, &rx_template, sizeof(*rx));
	for (int i = 0; i < 4; i++) {
		rx->row_out[i].v2 = ib->v2[i];
		rx->row_out[i].v3 = ib->v3[i];
		rx->col_out[i].v2 = ib->v2[4 + i];
		rx->col_out[i].v3 = ib->v3[4 + i];
	}
	rx->energy = ib->energy;
	rx->current_sample = ib->current_sample;
	rx->duration = ib->duration;
	rx->last_hit = ib->last_hit;
	rx->in_digit = ib->in_digit;
}

static void state_save(struct inband *ib, const dtmf_rx_state_t *rx)
{
	for (int i = 0; i < 4; i++) {
		ib->v2[i] = rx->row_out[i].v2;
		ib->v3[i] = rx->row_out[i].v3;
		ib->v2[4 + i] = rx->col_out[i].v2;
		ib->v3[4 + i] = rx->col_out[i].v3;
	}
	ib->energy = rx->energy;
	ib->current_sample = rx->current_sample;
	ib->duration = rx->duration;
	ib->last_hit = rx->last_hit;
	ib->in_digit = rx->in_digit;
}

struct inband *inband_new(void)
{
	pthread_once(&tab_once, tab_init);
	struct inband *ib = calloc(1, sizeof(*ib));
	if (!ib)
		return NULL;
	state_save(ib, &rx_template);
	return ib;
}

int inband_feed(struct inband *ib, const uint8_t *g711, size_t n, bool alaw, char *digits, int max)
{
	int16_t amp[320];
	dtmf_rx_state_t rx;
	bool loaded = false;
	struct out o = { digits, 0, max };
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
			if (!loaded) {
				state_load(&rx, ib);
				rx.digits_callback_data = &o;
				loaded = true;
			}
			for (i = 0; i < k; i++)
				amp[i] = lin[g711[i]];
			dtmf_rx(&rx, amp, (int)k);
		}
		ib->quiet = quiet;
		g711 += k;
		n -= k;
	}
	if (loaded)
		state_save(ib, &rx);
	return o.n;
}

int inband_export(const struct inband *ib, void *state, size_t size)
{
	if (size != sizeof(dtmf_rx_state_t))
		return -1;
	state_load(state, ib);
	return 0;
}

void inband_free(struct inband *ib)
{
	free(ib);
}
