/*
 * test_inband.c - the in-band DTMF detector (engine/inband.c) keeps only the
 * fields of spandsp's receiver that change; it must behave exactly like a
 * receiver of spandsp's own.  The reference here is the detector as it was
 * before that change: one dtmf_rx_init'ed receiver per stream, the same
 * G.711 conversion and quiet-frame skip.  Both are fed the same G.711
 * audio (tones of every digit at several levels and twists, noise,
 * silence, speech-like mixtures, odd packet sizes, both laws, several
 * streams interleaved) and must return the same digits from every feed and
 * be in the same receiver state after it (inband_export), field by field.
 */
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <spandsp/telephony.h>
#include <spandsp/logging.h>
#include <spandsp/queue.h>
#include <spandsp/bit_operations.h>
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

#include "inband.h"

/* ---- the reference: engine/inband.c before the state was made compact ---- */

#define QUIET_MEAN_SQUARE 60000

struct ref {
	dtmf_rx_state_t *rx;
	bool quiet;
	char *out;
	int n, max;
};

static void ref_cb(void *user, const char *digits, int len)
{
	struct ref *r = user;
	for (int i = 0; i < len && r->n < r->max; i++)
		r->out[r->n++] = digits[i];
}

static int ref_feed(struct ref *r, const uint8_t *g711, size_t n, bool alaw, char *digits, int max)
{
	int16_t amp[320];
	r->out = digits;
	r->n = 0;
	r->max = max;
	while (n) {
		size_t k = n < 320 ? n : 320;
		uint64_t e = 0;
		for (size_t i = 0; i < k; i++) {
			int32_t s = alaw ? alaw_to_linear(g711[i]) : ulaw_to_linear(g711[i]);
			e += (uint64_t)(s * s);
		}
		bool quiet = e < (uint64_t)QUIET_MEAN_SQUARE * k;
		if (!(quiet && r->quiet)) {
			for (size_t i = 0; i < k; i++)
				amp[i] = alaw ? alaw_to_linear(g711[i]) : ulaw_to_linear(g711[i]);
			dtmf_rx(r->rx, amp, (int)k);
		}
		r->quiet = quiet;
		g711 += k;
		n -= k;
	}
	return r->n;
}

/* ---- audio ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static double urand(void)
{
	return (double)(rnd() & 0xffffff) / (double)0x1000000;
}

static const double row_hz[4] = { 697, 770, 852, 941 };
static const double col_hz[4] = { 1209, 1336, 1477, 1633 };

/* Appends ms of one kind of signal at 8 kHz to buf (linear samples). */
static size_t segment(int16_t *buf, size_t at, size_t cap, int kind, double ms)
{
	size_t n = (size_t)(ms * 8.0);
	if (n > cap - at)
		n = cap - at;
	int d = (int)(rnd() % 16);
	double lo = row_hz[d >> 2], hi = col_hz[d & 3];
	/* tone levels: from loud to below spandsp's threshold, with twist */
	double a = 16000.0 * pow(10.0, -(double)(rnd() % 40) / 20.0);
	double b = a * pow(10.0, ((double)(rnd() % 13) - 6.0) / 20.0);
	double ph1 = urand() * 6.283, ph2 = urand() * 6.283;
	double noise = kind == 3 ? 8000.0 * urand() : 300.0 * urand();
	for (size_t i = 0; i < n; i++) {
		double t = (double)i / 8000.0, v = 0;
		switch (kind) {
		case 0: /* silence */
			v = 0;
			break;
		case 1: /* a digit, with a little noise */
		case 2:
			v = a * sin(6.2832 * lo * t + ph1) + b * sin(6.2832 * hi * t + ph2) + noise * (urand() - 0.5);
			break;
		case 3: /* loud noise */
			v = noise * (urand() - 0.5) * 2;
			break;
		default: /* speech-like: a few drifting partials */
			v = 3000 * sin(6.2832 * (180 + 40 * sin(t * 7)) * t) + 1500 * sin(6.2832 * 900 * t + ph1) +
			    800 * sin(6.2832 * 2300 * t) + noise * (urand() - 0.5);
			break;
		}
		if (v > 32767)
			v = 32767;
		if (v < -32768)
			v = -32768;
		buf[at + i] = (int16_t)v;
	}
	return at + n;
}

static size_t make_audio(int16_t *buf, size_t cap)
{
	size_t at = 0;
	while (at < cap) {
		int kind = (int)(rnd() % 6);
		double ms = kind == 1 || kind == 2 ? 25 + rnd() % 150 : 5 + rnd() % 200;
		at = segment(buf, at, cap, kind, ms);
	}
	return at;
}

/* ---- comparison ---- */

/* The receiver state after a feed, minus what legitimately differs: the
 * callback and its data (each side has its own) and the digit buffer,
 * which is only scratch for the callback. */
static void normalise(dtmf_rx_state_t *s)
{
	s->digits_callback = NULL;
	s->digits_callback_data = NULL;
	memset(s->digits, 0, sizeof(s->digits));
}

#define STREAMS 6
#define SECONDS_PER_STREAM 8

static void run(bool alaw_mix, unsigned seed)
{
	rng ^= seed * 0x2545f4914f6cdd1dULL;
	size_t cap = 8000 * SECONDS_PER_STREAM;
	int16_t *lin[STREAMS];
	uint8_t *g[STREAMS];
	bool alaw[STREAMS];
	struct inband *ib[STREAMS];
	struct ref rf[STREAMS];
	size_t pos[STREAMS];
	for (int s = 0; s < STREAMS; s++) {
		lin[s] = malloc(cap * sizeof(int16_t));
		g[s] = malloc(cap);
		assert_non_null(lin[s]);
		assert_non_null(g[s]);
		make_audio(lin[s], cap);
		alaw[s] = alaw_mix ? (s & 1) : false;
		for (size_t i = 0; i < cap; i++)
			g[s][i] = alaw[s] ? linear_to_alaw(lin[s][i]) : linear_to_ulaw(lin[s][i]);
		ib[s] = inband_new();
		assert_non_null(ib[s]);
		memset(&rf[s], 0, sizeof(rf[s]));
		rf[s].rx = dtmf_rx_init(NULL, ref_cb, &rf[s]);
		assert_non_null(rf[s].rx);
		pos[s] = 0;
	}
	static const size_t sizes[] = { 160, 160, 160, 320, 320, 80, 240, 400, 480, 1, 7, 641, 0 };
	unsigned digits_total = 0, feeds = 0;
	bool left = true;
	while (left) {
		left = false;
		for (int s = 0; s < STREAMS; s++) {
			if (pos[s] >= cap)
				continue;
			left = true;
			size_t n = sizes[rnd() % (sizeof(sizes) / sizeof(sizes[0]))];
			if (n > cap - pos[s])
				n = cap - pos[s];
			char d1[8], d2[8];
			int max = (int)(rnd() % 3 == 0 ? 1 + rnd() % 2 : 8);
			int n1 = inband_feed(ib[s], g[s] + pos[s], n, alaw[s], d1, max);
			int n2 = ref_feed(&rf[s], g[s] + pos[s], n, alaw[s], d2, max);
			assert_int_equal(n1, n2);
			assert_memory_equal(d1, d2, (size_t)n1);
			digits_total += (unsigned)n1;
			feeds++;
			dtmf_rx_state_t mine, theirs;
			assert_int_equal(inband_export(ib[s], &mine, sizeof(mine)), 0);
			memcpy(&theirs, rf[s].rx, sizeof(theirs));
			normalise(&mine);
			normalise(&theirs);
			if (memcmp(&mine, &theirs, sizeof(mine)) != 0)
				fail_msg("stream %d: receiver state differs after feed %u (at %zu, %zu bytes)", s, feeds,
					 pos[s], n);
			pos[s] += n;
		}
	}
	/* the audio must have exercised the detector, not just silence */
	assert_true(digits_total >= 40);
	for (int s = 0; s < STREAMS; s++) {
		inband_free(ib[s]);
		dtmf_rx_free(rf[s].rx);
		free(lin[s]);
		free(g[s]);
	}
}

static void test_same_as_spandsp_ulaw(void **state)
{
	(void)state;
	run(false, 1);
}

static void test_same_as_spandsp_mixed_laws(void **state)
{
	(void)state;
	run(true, 2);
	run(true, 3);
}

static void test_export_size_checked(void **state)
{
	(void)state;
	struct inband *ib = inband_new();
	assert_non_null(ib);
	dtmf_rx_state_t st;
	assert_int_equal(inband_export(ib, &st, sizeof(st) - 1), -1);
	assert_int_equal(inband_export(ib, &st, sizeof(st)), 0);
	/* a new detector is a freshly initialised spandsp receiver */
	dtmf_rx_state_t *fresh = dtmf_rx_init(NULL, NULL, NULL);
	assert_non_null(fresh);
	normalise(&st);
	normalise(fresh);
	assert_memory_equal(&st, fresh, sizeof(st));
	dtmf_rx_free(fresh);
	inband_free(ib);
	inband_free(NULL);
}

/* Every energy implementation equals the sum of squares of spandsp's own
 * conversion: each byte value alone, and random bytes at every length up
 * to 700 (the vector loops' tails) and from odd offsets. */
static void test_energy_implementations(void **state)
{
	(void)state;
	uint8_t buf[720];
	int ran = 0;
	for (int impl = 0; impl < inband_energy_impls(); impl++) {
		uint64_t e;
		if (inband_energy(impl, buf, 0, false, &e) < 0)
			continue; /* this CPU cannot run it */
		ran++;
		assert_int_equal(e, 0);
		for (int law = 0; law < 2; law++) {
			for (int b = 0; b < 256; b++) {
				int32_t x = law ? alaw_to_linear((uint8_t)b) : ulaw_to_linear((uint8_t)b);
				memset(buf, b, 40);
				assert_int_equal(inband_energy(impl, buf, 40, law, &e), 0);
				if (e != 40 * (uint64_t)(x * x))
					fail_msg("impl %d law %d byte 0x%02x: %llu, want %llu", impl, law, b,
						 (unsigned long long)e, (unsigned long long)(40 * (uint64_t)(x * x)));
			}
			for (size_t n = 0; n <= 700; n++) {
				size_t off = rnd() % 16;
				uint64_t want = 0;
				for (size_t i = 0; i < n; i++) {
					buf[off + i] = (uint8_t)rnd();
					int32_t x = law ? alaw_to_linear(buf[off + i]) : ulaw_to_linear(buf[off + i]);
					want += (uint64_t)(x * x);
				}
				assert_int_equal(inband_energy(impl, buf + off, n, law, &e), 0);
				if (e != want)
					fail_msg("impl %d law %d %zu bytes at +%zu: %llu, want %llu", impl, law, n, off,
						 (unsigned long long)e, (unsigned long long)want);
			}
		}
	}
	assert_true(ran >= 1);
	uint64_t e;
	assert_int_equal(inband_energy(inband_energy_impls(), buf, 1, false, &e), -1);
	assert_int_equal(inband_energy(-1, buf, 1, false, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_spandsp_ulaw),
		cmocka_unit_test(test_same_as_spandsp_mixed_laws),
		cmocka_unit_test(test_export_size_checked),
		cmocka_unit_test(test_energy_implementations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
