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

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define RV_X86_ENERGY 1
#endif

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
/* The quiet-frame energy of n bytes: the sum of their squared linear
 * samples.  energy_fn is the fastest implementation this CPU has (see
 * "frame energy" below), chosen once with the tables. */
typedef uint64_t (*energy_fn_t)(const uint8_t *g711, size_t n, bool alaw);
static energy_fn_t energy_fn;
static energy_fn_t energy_best(void);
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
	energy_fn = energy_best();
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

/* ---- frame energy ----
 *
 * Every implementation returns exactly the sum of sq_tab[law][byte]
 * (integer arithmetic, nothing rounded), so the quiet decision, and with it
 * every digit, is the same whichever one runs; tests/unit/test_inband.c
 * compares each with the table loop on every byte value and odd lengths.
 * The vector versions decode G.711 as spandsp does, 16 or 32 samples at a
 * time: with m the byte's magnitude bits (mu-law ~b & 0x7f, A-law
 * (b ^ 0x55) & 0x7f), segment s = m >> 4 and mantissa q = m & 15,
 *   mu-law: |x| = (8q + 132) * (1 << s) - 132
 *   A-law:  |x| = (8q + 4 + (s ? 128 : 0)) * (s ? 1 << s : 2)
 * the two factors looked up by PSHUFB in 16-entry tables, the product a
 * 16-bit multiply (at most 252 * 128 = 32256), the squares summed pairwise
 * by PMADDWD (at most 2 * 32256^2 < 2^31).  The table loop was 43% of the
 * instructions of `analyze` on G.711 traffic (docs/performance.md). */

static uint64_t energy_table(const uint8_t *g711, size_t n, bool alaw)
{
	const uint32_t *sq = sq_tab[alaw ? 1 : 0];
	uint64_t e0 = 0, e1 = 0;
	size_t i = 0;
	for (; i + 2 <= n; i += 2) {
		e0 += sq[g711[i]];
		e1 += sq[g711[i + 1]];
	}
	if (i < n)
		e0 += sq[g711[i]];
	return e0 + e1;
}

#ifdef RV_X86_ENERGY
/* the 16-entry tables, by mantissa (Q8) or by segment (the others) */
#define X80 ((char)0x80)
#define LAW_TABLES(T)                                                                         \
	T(q8, 4, 12, 20, 28, 36, 44, 52, 60, 68, 76, 84, 92, 100, 108, 116, 124)           \
	T(mu_add, X80, X80, X80, X80, X80, X80, X80, X80, 0, 0, 0, 0, 0, 0, 0, 0)           \
	T(mu_mul, 1, 2, 4, 8, 16, 32, 64, X80, 0, 0, 0, 0, 0, 0, 0, 0)                      \
	T(a_add, 0, X80, X80, X80, X80, X80, X80, X80, 0, 0, 0, 0, 0, 0, 0, 0)              \
	T(a_mul, 2, 2, 4, 8, 16, 32, 64, X80, 0, 0, 0, 0, 0, 0, 0, 0)

__attribute__((target("ssse3"))) static uint64_t energy_ssse3(const uint8_t *g711, size_t n, bool alaw)
{
#define T(name, ...) const __m128i name = _mm_setr_epi8(__VA_ARGS__);
	LAW_TABLES(T)
#undef T
	const __m128i zero = _mm_setzero_si128(), x7f = _mm_set1_epi8(0x7f), x0f = _mm_set1_epi8(0x0f);
	const __m128i flip = _mm_set1_epi8(alaw ? 0x55 : (char)0xff);
	const __m128i add_t = alaw ? a_add : mu_add, mul_t = alaw ? a_mul : mu_mul;
	const __m128i bias = _mm_set1_epi16(alaw ? 0 : 132);
	__m128i acc = zero;
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(g711 + i));
		__m128i m = _mm_and_si128(_mm_xor_si128(b, flip), x7f);
		__m128i s = _mm_and_si128(_mm_srli_epi16(m, 4), x0f);
		__m128i base = _mm_add_epi8(_mm_shuffle_epi8(q8, _mm_and_si128(m, x0f)), _mm_shuffle_epi8(add_t, s));
		__m128i mul = _mm_shuffle_epi8(mul_t, s);
		__m128i lo = _mm_mullo_epi16(_mm_unpacklo_epi8(base, zero), _mm_unpacklo_epi8(mul, zero));
		__m128i hi = _mm_mullo_epi16(_mm_unpackhi_epi8(base, zero), _mm_unpackhi_epi8(mul, zero));
		lo = _mm_sub_epi16(lo, bias);
		hi = _mm_sub_epi16(hi, bias);
		/* two PMADDWD lanes of < 2^31 each: < 2^32 as unsigned */
		__m128i sum = _mm_add_epi32(_mm_madd_epi16(lo, lo), _mm_madd_epi16(hi, hi));
		acc = _mm_add_epi64(acc, _mm_unpacklo_epi32(sum, zero));
		acc = _mm_add_epi64(acc, _mm_unpackhi_epi32(sum, zero));
	}
	uint64_t r[2];
	_mm_storeu_si128((__m128i *)(void *)r, acc);
	return i < n ? r[0] + r[1] + energy_table(g711 + i, n - i, alaw) : r[0] + r[1];
}

__attribute__((target("avx2"))) static uint64_t energy_avx2(const uint8_t *g711, size_t n, bool alaw)
{
#define T(name, ...) const __m256i name = _mm256_broadcastsi128_si256(_mm_setr_epi8(__VA_ARGS__));
	LAW_TABLES(T)
#undef T
	const __m256i zero = _mm256_setzero_si256(), x7f = _mm256_set1_epi8(0x7f), x0f = _mm256_set1_epi8(0x0f);
	const __m256i flip = _mm256_set1_epi8(alaw ? 0x55 : (char)0xff);
	const __m256i add_t = alaw ? a_add : mu_add, mul_t = alaw ? a_mul : mu_mul;
	const __m256i bias = _mm256_set1_epi16(alaw ? 0 : 132);
	__m256i acc = zero;
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(g711 + i));
		__m256i m = _mm256_and_si256(_mm256_xor_si256(b, flip), x7f);
		__m256i s = _mm256_and_si256(_mm256_srli_epi16(m, 4), x0f);
		__m256i base = _mm256_add_epi8(_mm256_shuffle_epi8(q8, _mm256_and_si256(m, x0f)),
					       _mm256_shuffle_epi8(add_t, s));
		__m256i mul = _mm256_shuffle_epi8(mul_t, s);
		__m256i lo = _mm256_mullo_epi16(_mm256_unpacklo_epi8(base, zero), _mm256_unpacklo_epi8(mul, zero));
		__m256i hi = _mm256_mullo_epi16(_mm256_unpackhi_epi8(base, zero), _mm256_unpackhi_epi8(mul, zero));
		lo = _mm256_sub_epi16(lo, bias);
		hi = _mm256_sub_epi16(hi, bias);
		__m256i sum = _mm256_add_epi32(_mm256_madd_epi16(lo, lo), _mm256_madd_epi16(hi, hi));
		acc = _mm256_add_epi64(acc, _mm256_unpacklo_epi32(sum, zero));
		acc = _mm256_add_epi64(acc, _mm256_unpackhi_epi32(sum, zero));
	}
	uint64_t r[4];
	_mm256_storeu_si256((__m256i *)(void *)r, acc);
	/* gcc 12 emits no VZEROUPPER for this target("avx2") function: without
	 * it every SSE instruction after it (the rest of the program is not
	 * VEX-encoded) paid for the dirty upper halves, and analyze got slower
	 * than with the table loop despite 30% fewer instructions */
	_mm256_zeroupper();
	uint64_t e = r[0] + r[1] + r[2] + r[3];
	return i < n ? e + energy_ssse3(g711 + i, n - i, alaw) : e;
}
#undef LAW_TABLES
#undef X80
#endif

/* slowest first */
static const energy_fn_t energy_impl[] = {
	energy_table,
#ifdef RV_X86_ENERGY
	energy_ssse3,
	energy_avx2,
#endif
};
#define N_ENERGY_IMPL (int)(sizeof(energy_impl) / sizeof(energy_impl[0]))

static bool energy_supported(int k)
{
#ifdef RV_X86_ENERGY
	__builtin_cpu_init();
	if (energy_impl[k] == energy_ssse3)
		return __builtin_cpu_supports("ssse3");
	if (energy_impl[k] == energy_avx2)
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("ssse3");
#endif
	return k == 0;
}

static energy_fn_t energy_best(void)
{
	energy_fn_t f = energy_table;
	for (int k = 1; k < N_ENERGY_IMPL; k++)
		if (energy_supported(k))
			f = energy_impl[k];
	return f;
}

int inband_energy_impls(void)
{
	return N_ENERGY_IMPL;
}

int inband_energy(int impl, const uint8_t *g711, size_t n, bool alaw, uint64_t *out)
{
	pthread_once(&tab_once, tab_init);
	if (impl < 0 || impl >= N_ENERGY_IMPL || !energy_supported(impl))
		return -1;
	*out = energy_impl[impl](g711, n, alaw);
	return 0;
}

int inband_feed(struct inband *ib, const uint8_t *g711, size_t n, bool alaw, char *digits, int max)
{
	int16_t amp[320];
	dtmf_rx_state_t rx;
	bool loaded = false;
	struct out o = { digits, 0, max };
	const int16_t *lin = lin_tab[alaw ? 1 : 0];
	while (n) {
		size_t k = n < 320 ? n : 320;
		bool quiet = energy_fn(g711, k, alaw) < (uint64_t)QUIET_MEAN_SQUARE * k;
		if (!(quiet && ib->quiet)) {
			if (!loaded) {
				state_load(&rx, ib);
				rx.digits_callback_data = &o;
				loaded = true;
			}
			for (size_t i = 0; i < k; i++)
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
