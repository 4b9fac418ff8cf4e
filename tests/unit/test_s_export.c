/*
 * test_s_export.c - export writers: WAV placement checked sample for sample
 * against an independent G.711 decode by sox (gap, SSRC change, duplicate,
 * pause, telephone events, seq/ts wrap, overlapping streams); G.722, G.729
 * and Opus round trips through the libraries' encoders (length and a
 * dominant 1 kHz tone); pcap read back by tshark (order, seq, SSRC, ports,
 * payload bytes, times, checksums, IPv6); hostile inputs (bad RTP headers,
 * absurd timestamps and clock rates, empty input) and the RTP header reader
 * at every truncation length.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <spandsp/telephony.h>
#include <spandsp/logging.h>
#include <spandsp/g722.h>
#include <bcg729/encoder.h>
#include <opus.h>

#include "codec.h"
#include "export.h"
#include "record.h"
#include "store.h"

#define MAXP 512
#define T0 1700000000000000ull /* capture time base, µs */

struct sbuf {
	struct rec_stream desc;
	struct export_pkt pk[MAXP];
	uint8_t *mem[MAXP];
	size_t n;
};

static char tdir[64];

static int setup_dir(void **state)
{
	(void)state;
	strcpy(tdir, "/tmp/rv_export_XXXXXX");
	return mkdtemp(tdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void tpath(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tdir, name);
}

static struct sbuf *sb_new(uint8_t party, uint8_t pt, uint8_t event_pt, uint32_t rate, const char *codec)
{
	struct sbuf *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	b->desc.party = party;
	b->desc.audio_pt = pt;
	b->desc.event_pt = event_pt;
	b->desc.rate = rate;
	snprintf(b->desc.codec, sizeof(b->desc.codec), "%s", codec);
	b->desc.src_family = b->desc.dst_family = 4;
	b->desc.src[0] = 10;
	b->desc.src[3] = 1;
	b->desc.dst[0] = 10;
	b->desc.dst[3] = 2;
	b->desc.sport = 40000;
	b->desc.dport = 40002;
	return b;
}

static void sb_free(struct sbuf *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		free(b->mem[i]);
	free(b);
}

/* Copies d into an exactly sized allocation so ASan sees any overread. */
static void sb_add(struct sbuf *b, uint64_t ts_us, uint8_t kind, const uint8_t *d, size_t len)
{
	assert_true(b->n < MAXP);
	b->mem[b->n] = malloc(len ? len : 1);
	assert_non_null(b->mem[b->n]);
	if (len)
		memcpy(b->mem[b->n], d, len);
	b->pk[b->n].ts_us = ts_us;
	b->pk[b->n].kind = kind;
	b->pk[b->n].data = b->mem[b->n];
	b->pk[b->n].len = len;
	b->n++;
}

static size_t mk_rtp(uint8_t *o, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc, const uint8_t *pl,
		     size_t plen)
{
	o[0] = 0x80;
	o[1] = pt;
	o[2] = (uint8_t)(seq >> 8);
	o[3] = (uint8_t)seq;
	o[4] = (uint8_t)(ts >> 24);
	o[5] = (uint8_t)(ts >> 16);
	o[6] = (uint8_t)(ts >> 8);
	o[7] = (uint8_t)ts;
	o[8] = (uint8_t)(ssrc >> 24);
	o[9] = (uint8_t)(ssrc >> 16);
	o[10] = (uint8_t)(ssrc >> 8);
	o[11] = (uint8_t)ssrc;
	memcpy(o + 12, pl, plen);
	return 12 + plen;
}

static void sb_rtp(struct sbuf *b, uint64_t ts_us, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
		   const uint8_t *pl, size_t plen)
{
	uint8_t pkt[2048];

	assert_true(plen <= sizeof(pkt) - 12);
	sb_add(b, ts_us, CHUNK_RTP, pkt, mk_rtp(pkt, pt, seq, ts, ssrc, pl, plen));
}

static struct export_stream es(const struct sbuf *b)
{
	struct export_stream s = { &b->desc, b->pk, b->n };

	return s;
}

static uint32_t lcg = 12345;
static uint8_t rnd8(void)
{
	lcg = lcg * 1103515245u + 12345u;
	return (uint8_t)(lcg >> 16);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long sz;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(sz > 0 ? (size_t)sz : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	*len = (size_t)sz;
	return buf;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Checks the header and returns the channels (malloc'd) and frame count. */
static void read_wav(const char *path, int16_t **l, int16_t **r, size_t *frames)
{
	size_t len, i, n;
	uint8_t *w = read_file(path, &len);

	assert_non_null(w);
	assert_true(len >= 44);
	assert_memory_equal(w, "RIFF", 4);
	assert_int_equal(rd32(w + 4), len - 8);
	assert_memory_equal(w + 8, "WAVEfmt ", 8);
	assert_int_equal(rd32(w + 16), 16);
	assert_int_equal(rd16(w + 20), 1);
	assert_int_equal(rd16(w + 22), 2);
	assert_int_equal(rd32(w + 24), 8000);
	assert_int_equal(rd32(w + 28), 32000);
	assert_int_equal(rd16(w + 32), 4);
	assert_int_equal(rd16(w + 34), 16);
	assert_memory_equal(w + 36, "data", 4);
	assert_int_equal(rd32(w + 40), len - 44);
	assert_int_equal((len - 44) % 4, 0);
	n = (len - 44) / 4;
	*l = calloc(n + 1, sizeof(int16_t));
	*r = calloc(n + 1, sizeof(int16_t));
	assert_non_null(*l);
	assert_non_null(*r);
	for (i = 0; i < n; i++) {
		(*l)[i] = (int16_t)rd16(w + 44 + 4 * i);
		(*r)[i] = (int16_t)rd16(w + 46 + 4 * i);
	}
	*frames = n;
	free(w);
}

static bool have_tool(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* Independent G.711 decode: sox -t ul|al. */
static int16_t *sox_decode(const char *type, const uint8_t *bytes, size_t n)
{
	char in[128], out[128], cmd[512];
	FILE *f;
	uint8_t *raw;
	size_t len, i;
	int16_t *pcm;

	tpath(in, sizeof(in), "sox_in.raw");
	tpath(out, sizeof(out), "sox_out.raw");
	f = fopen(in, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, n, f), n);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "sox -t %s -r 8000 -c 1 '%s' -t raw -e signed -b 16 -L '%s'", type, in, out);
	assert_int_equal(system(cmd), 0);
	raw = read_file(out, &len);
	assert_non_null(raw);
	assert_int_equal(len, 2 * n);
	pcm = malloc(n * sizeof(int16_t) + 1);
	assert_non_null(pcm);
	for (i = 0; i < n; i++)
		pcm[i] = (int16_t)rd16(raw + 2 * i);
	free(raw);
	return pcm;
}

/* What a channel must contain: packets (payload, position) in processing order. */
struct expect {
	uint8_t pl[64][160];
	size_t pos[64];
	size_t n;
};

static void ex_add(struct expect *e, const uint8_t *pl, size_t pos)
{
	assert_true(e->n < 64);
	memcpy(e->pl[e->n], pl, 160);
	e->pos[e->n] = pos;
	e->n++;
}

static size_t ex_end(const struct expect *e)
{
	size_t i, end = 0;

	for (i = 0; i < e->n; i++)
		if (e->pos[i] + 160 > end)
			end = e->pos[i] + 160;
	return end;
}

static void check_channel(const char *what, const char *type, const struct expect *e, const int16_t *got,
			  size_t frames)
{
	int16_t *dec = sox_decode(type, &e->pl[0][0], e->n * 160);
	int16_t *want = calloc(frames + 1, sizeof(int16_t));
	size_t i;

	assert_non_null(want);
	for (i = 0; i < e->n; i++) {
		assert_true(e->pos[i] + 160 <= frames);
		memcpy(want + e->pos[i], dec + 160 * i, 160 * sizeof(int16_t));
	}
	for (i = 0; i < frames; i++)
		if (want[i] != got[i]) {
			print_error("%s channel differs at sample %zu: want %d got %d\n", what, i, want[i], got[i]);
			fail();
		}
	free(dec);
	free(want);
}

/* (1) G.711 placement, sample for sample against sox. */
static void test_wav_g711_placement(void **state)
{
	struct sbuf *a = sb_new(0, 0, 101, 8000, "PCMU");
	struct sbuf *b1 = sb_new(1, 8, 255, 8000, "PCMA");
	struct sbuf *b2 = sb_new(1, 8, 255, 8000, "pcma");
	struct expect *el = calloc(1, sizeof(*el)), *er = calloc(1, sizeof(*er));
	struct export_stream st[3];
	uint8_t pl[160], dup5[160], p5[160], ev[4] = { 0, 0, 0, 0xa0 };
	char path[128], err[256];
	int16_t *l, *r;
	size_t frames, i;
	const uint16_t seq0 = 65533;       /* wraps after 3 packets */
	const uint32_t ts0 = 0xfffffd00u;  /* wraps after 4.8 packets */

	(void)state;
	if (!have_tool("sox")) {
		print_message("sox not installed: skipping\n");
		skip();
	}
	assert_non_null(el);
	assert_non_null(er);

	/* caller, SSRC 1: packets 0..11, 3 lost, 5 duplicated (different bytes:
	 * first copy wins), an event in the gap, 8 inside a pause, 9 not stored */
	for (i = 0; i < 12; i++) {
		uint64_t cap = T0 + i * 20000 + i * 37; /* jitter: placement follows RTP time */

		if (i == 3) {
			sb_rtp(a, cap, 101, (uint16_t)(seq0 + 3), ts0 + 3 * 160, 0x11111111, ev, sizeof(ev));
			continue;
		}
		if (i == 9)
			continue;
		if (i == 8)
			sb_add(a, cap - 5, CHUNK_PAUSE_START, NULL, 0);
		if (i == 10)
			sb_add(a, cap - 5, CHUNK_PAUSE_END, NULL, 0);
		for (size_t j = 0; j < 160; j++)
			pl[j] = rnd8();
		sb_rtp(a, cap, 0, (uint16_t)(seq0 + i), ts0 + (uint32_t)i * 160, 0x11111111, pl, 160);
		if (i == 5)
			memcpy(p5, pl, 160);
		if (i == 6) {
			for (size_t j = 0; j < 160; j++)
				dup5[j] = rnd8();
			sb_rtp(a, cap + 100, 0, (uint16_t)(seq0 + 5), ts0 + 5 * 160, 0x11111111, dup5, 160);
		}
		if (i != 8)
			ex_add(el, pl, i * 160);
	}
	(void)p5;
	/* SSRC 2: anchored at its first capture time, 307 ms -> sample 2456 */
	for (i = 0; i < 3; i++) {
		for (size_t j = 0; j < 160; j++)
			pl[j] = rnd8();
		sb_rtp(a, T0 + 307000 + i * 20000, 0, (uint16_t)(1000 + i), 123456789u + (uint32_t)i * 160, 0x22222222,
		       pl, 160);
		ex_add(el, pl, 2456 + i * 160);
	}
	/* SSRC 3 at 364.5 ms -> sample 2916: overlaps the previous 20 samples, later wins */
	for (i = 0; i < 3; i++) {
		for (size_t j = 0; j < 160; j++)
			pl[j] = rnd8();
		sb_rtp(a, T0 + 364500 + i * 20000, 0, (uint16_t)(7 + i), 999u + (uint32_t)i * 160, 0x33333333, pl,
		       160);
		ex_add(el, pl, 2916 + i * 160);
	}

	/* callee: stream b1 starts at 40 ms (sample 320), 6 packets, ts wraps */
	for (i = 0; i < 6; i++) {
		for (size_t j = 0; j < 160; j++)
			pl[j] = rnd8();
		sb_rtp(b1, T0 + 40000 + i * 20000, 8, (uint16_t)(10 + i), 0xfffffe00u + (uint32_t)i * 160,
		       0x44444444, pl, 160);
		ex_add(er, pl, 320 + i * 160);
	}
	/* b2 (moved media) starts at 150 ms (sample 1200): overlaps b1's last 80
	 * samples and, being later by first packet, overwrites them although it
	 * comes first in the array */
	for (i = 0; i < 4; i++) {
		for (size_t j = 0; j < 160; j++)
			pl[j] = rnd8();
		sb_rtp(b2, T0 + 150000 + i * 20000, 8, (uint16_t)(500 + i), 42u + (uint32_t)i * 160, 0x55555555, pl,
		       160);
		ex_add(er, pl, 1200 + i * 160);
	}

	st[0] = es(b2);
	st[1] = es(a);
	st[2] = es(b1);
	tpath(path, sizeof(path), "g711.wav");
	assert_int_equal(export_wav(path, st, 3, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	read_wav(path, &l, &r, &frames);
	assert_int_equal(frames, ex_end(el) > ex_end(er) ? ex_end(el) : ex_end(er));
	assert_int_equal(frames, 2916 + 480);
	check_channel("left", "ul", el, l, frames);
	check_channel("right", "al", er, r, frames);
	/* the gap, the pause and the unstored packet are silence */
	for (i = 3 * 160; i < 4 * 160; i++)
		assert_int_equal(l[i], 0);
	for (i = 8 * 160; i < 10 * 160; i++)
		assert_int_equal(l[i], 0);
	{
		struct stat sb;

		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
	}
	free(l);
	free(r);
	free(el);
	free(er);
	sb_free(a);
	sb_free(b1);
	sb_free(b2);
}

/* ---- (2) codec round trips ---- */
static double goertzel(const int16_t *x, size_t n, double f)
{
	double w = 2.0 * M_PI * f / 8000.0, c = 2.0 * cos(w), s1 = 0, s2 = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double s0 = x[i] + c * s1 - s2;

		s2 = s1;
		s1 = s0;
	}
	return s1 * s1 + s2 * s2 - c * s1 * s2;
}

static void sine(int16_t *x, size_t n, size_t start)
{
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = (int16_t)lrint(8000.0 * sin(2.0 * M_PI * 1000.0 * (double)(start + i) / 8000.0));
}

#define NPK 50

static void check_tone(const char *path, size_t want_frames, bool left)
{
	int16_t *l, *r, *x;
	size_t frames, i;
	double p1k, rms = 0;
	static const double others[] = { 300, 500, 1500, 2000, 2500, 3000, 3500 };

	read_wav(path, &l, &r, &frames);
	assert_int_equal(frames, want_frames);
	x = left ? l : r;
	/* skip the decoders' start-up */
	for (i = 1600; i < frames; i++)
		rms += (double)x[i] * x[i];
	rms = sqrt(rms / (double)(frames - 1600));
	print_message("%s: rms %.0f\n", path, rms);
	assert_true(rms > 1000.0);
	p1k = goertzel(x + 1600, frames - 1600, 1000.0);
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		double po = goertzel(x + 1600, frames - 1600, others[i]);

		if (!(p1k > 100.0 * po)) {
			print_error("%s: 1 kHz power %g not dominant over %g Hz (%g)\n", path, p1k, others[i], po);
			fail();
		}
	}
	/* the other channel is silent */
	for (i = 0; i < frames; i++)
		assert_int_equal((left ? r : l)[i], 0);
	free(l);
	free(r);
}

static void test_wav_g722(void **state)
{
	struct sbuf *a = sb_new(0, 9, 255, 8000, "G722");
	g722_encode_state_t *enc = g722_encode_init(NULL, 64000, G722_SAMPLE_RATE_8000);
	int16_t pcm[160];
	uint8_t out[400];
	struct export_stream st;
	char path[128], err[256];
	size_t i;

	(void)state;
	assert_non_null(enc);
	for (i = 0; i < NPK; i++) {
		int n;

		sine(pcm, 160, i * 160);
		n = g722_encode(enc, out, pcm, 160);
		assert_int_equal(n, 160);
		sb_rtp(a, T0 + i * 20000, 9, (uint16_t)(100 + i), 7777u + (uint32_t)i * 160, 0xabcdef01, out,
		       (size_t)n);
	}
	g722_encode_free(enc);
	st = es(a);
	tpath(path, sizeof(path), "g722.wav");
	assert_int_equal(export_wav(path, &st, 1, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	check_tone(path, NPK * 160, true);
	sb_free(a);
}

static void test_wav_g729(void **state)
{
	/* callee side, name empty: identified by static payload type 18 */
	struct sbuf *a = sb_new(1, 18, 101, 8000, "");
	bcg729EncoderChannelContextStruct *enc = initBcg729EncoderChannel(0);
	int16_t pcm[80];
	uint8_t out[20], len;
	struct export_stream st;
	char path[128], err[256];
	size_t i;

	(void)state;
	assert_non_null(enc);
	for (i = 0; i < NPK; i++) {
		sine(pcm, 80, i * 160);
		bcg729Encoder(enc, pcm, out, &len);
		assert_int_equal(len, 10);
		sine(pcm, 80, i * 160 + 80);
		bcg729Encoder(enc, pcm, out + 10, &len);
		assert_int_equal(len, 10);
		sb_rtp(a, T0 + i * 20000, 18, (uint16_t)(65500 + i), 1u + (uint32_t)i * 160, 0x1234, out, 20);
	}
	closeBcg729EncoderChannel(enc);
	st = es(a);
	tpath(path, sizeof(path), "g729.wav");
	assert_int_equal(export_wav(path, &st, 1, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	check_tone(path, NPK * 160, false);
	sb_free(a);
}

static void test_wav_opus(void **state)
{
	struct sbuf *a = sb_new(0, 111, 101, 48000, "OPUS");
	int e = 0;
	OpusEncoder *enc = opus_encoder_create(8000, 1, OPUS_APPLICATION_VOIP, &e);
	int16_t pcm[160];
	uint8_t out[400];
	struct export_stream st;
	char path[128], err[256];
	size_t i;

	(void)state;
	assert_int_equal(e, OPUS_OK);
	assert_non_null(enc);
	for (i = 0; i < NPK; i++) {
		opus_int32 n;

		sine(pcm, 160, i * 160);
		n = opus_encode(enc, pcm, 160, out, (opus_int32)sizeof(out));
		assert_true(n > 0);
		sb_rtp(a, T0 + i * 20000, 111, (uint16_t)(3 + i), 0xfffff000u + (uint32_t)i * 960, 0x99, out,
		       (size_t)n);
	}
	opus_encoder_destroy(enc);
	st = es(a);
	tpath(path, sizeof(path), "opus.wav");
	assert_int_equal(export_wav(path, &st, 1, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	check_tone(path, NPK * 160, true);
	sb_free(a);
}

static void test_wav_unknown_codec(void **state)
{
	struct sbuf *a = sb_new(0, 0, 255, 8000, "PCMU");
	struct sbuf *b = sb_new(1, 97, 255, 16000, "SILK"), *x;
	struct export_stream st[3];
	uint8_t pl[160];
	char path[128], err[256];
	int16_t *l, *r;
	size_t frames, i;

	(void)state;
	memset(pl, 0x00, sizeof(pl)); /* loud µ-law */
	for (i = 0; i < 5; i++) {
		sb_rtp(a, T0 + i * 20000, 0, (uint16_t)i, (uint32_t)i * 160, 1, pl, 160);
		sb_rtp(b, T0 + i * 20000, 97, (uint16_t)i, (uint32_t)i * 320, 2, pl, 60);
	}
	/* a packet of another, static, payload type in the known stream: PCMA */
	memset(pl, 0xd5, sizeof(pl));
	sb_rtp(a, T0 + 100000, 8, 5, 800, 1, pl, 160);
	/* a party that is neither caller nor callee: ignored, with a warning */
	x = sb_new(2, 0, 255, 8000, "PCMU");
	sb_rtp(x, T0 - 1000000, 0, 1, 1, 3, pl, 160);
	st[0] = es(a);
	st[1] = es(b);
	st[2] = es(x);
	tpath(path, sizeof(path), "unknown.wav");
	assert_int_equal(export_wav(path, st, 3, err, sizeof(err)), 0);
	print_message("warnings: %s\n", err);
	assert_non_null(strstr(err, "unknown codec"));
	assert_non_null(strstr(err, "SILK"));
	assert_non_null(strstr(err, "party"));
	read_wav(path, &l, &r, &frames);
	assert_int_equal(frames, 960);
	for (i = 0; i < frames; i++)
		assert_int_equal(r[i], 0);
	assert_int_equal(l[0], -32124);
	assert_int_equal(l[800], 8); /* A-law 0xd5 */
	free(l);
	free(r);
	sb_free(a);
	sb_free(b);
	sb_free(x);
}

/* ---- (3) pcap through tshark ---- */
struct pexp {
	uint64_t ts;
	uint16_t seq;
	uint32_t ssrc;
	uint16_t sport, dport;
	uint8_t pl[200];
	size_t plen;
	bool v6;
};

static void hex(char *o, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(o + 2 * i, "%02x", p[i]);
	o[2 * n] = 0;
}

static void test_pcap_tshark(void **state)
{
	struct sbuf *a = sb_new(0, 0, 255, 8000, "PCMU");
	struct sbuf *b = sb_new(1, 8, 255, 8000, "PCMA");
	struct export_stream st[2];
	struct pexp want[16];
	size_t nw = 0, i, k;
	char path[128], err[256], cmd[1024], line[4096];
	FILE *f;

	(void)state;
	b->desc.src_family = b->desc.dst_family = 6;
	memset(b->desc.src, 0, 16);
	memset(b->desc.dst, 0, 16);
	b->desc.src[0] = 0x20;
	b->desc.src[1] = 0x01;
	b->desc.src[2] = 0x0d;
	b->desc.src[3] = 0xb8;
	b->desc.src[15] = 1;
	memcpy(b->desc.dst, b->desc.src, 16);
	b->desc.dst[15] = 2;
	b->desc.sport = 40010;
	b->desc.dport = 40012;
	/* v4: 5 packets at 0, 20, .., 80 ms (odd payload length: checksum of an odd tail);
	 * v6: 3 packets at 10, 40 (tie with v4: v4 first), 70 ms; pause markers between */
	for (i = 0; i < 5; i++) {
		struct pexp *w = &want[nw++];

		w->ts = T0 + i * 20000;
		w->seq = (uint16_t)(65534 + i);
		w->ssrc = 0x01020304;
		w->sport = 40000;
		w->dport = 40002;
		w->plen = 161;
		w->v6 = false;
		for (k = 0; k < w->plen; k++)
			w->pl[k] = rnd8();
		if (i == 2)
			sb_add(a, w->ts - 1, CHUNK_PAUSE_START, NULL, 0);
		if (i == 3)
			sb_add(a, w->ts - 1, CHUNK_PAUSE_END, NULL, 0);
		sb_rtp(a, w->ts, 0, w->seq, (uint32_t)i * 160, w->ssrc, w->pl, w->plen);
	}
	for (i = 0; i < 3; i++) {
		struct pexp *w = &want[nw++];

		w->ts = T0 + 10000 + i * 30000;
		w->seq = (uint16_t)(100 + i);
		w->ssrc = 0xfedcba98;
		w->sport = 40010;
		w->dport = 40012;
		w->plen = 160;
		w->v6 = true;
		for (k = 0; k < w->plen; k++)
			w->pl[k] = rnd8();
		sb_rtp(b, w->ts, 8, w->seq, (uint32_t)i * 160, w->ssrc, w->pl, w->plen);
	}
	/* expected order: by time, ties by stream order */
	{
		static const size_t order[] = { 0, 5, 1, 2, 6, 3, 7, 4 };
		struct pexp tmp[16];

		for (i = 0; i < nw; i++)
			tmp[i] = want[order[i]];
		memcpy(want, tmp, sizeof(tmp[0]) * nw);
	}
	st[0] = es(a);
	st[1] = es(b);
	tpath(path, sizeof(path), "out.pcap");
	assert_int_equal(export_pcap(path, st, 2, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	if (!have_tool("tshark")) {
		print_message("tshark not installed: skipping the read-back\n");
		sb_free(a);
		sb_free(b);
		skip();
	}
	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE "
		 "-d udp.port==40000,rtp -d udp.port==40010,rtp -T fields -E separator=';' "
		 "-e frame.time_epoch -e rtp.seq -e rtp.ssrc -e udp.srcport -e udp.dstport -e rtp.payload "
		 "-e ip.checksum.status -e udp.checksum.status -e ip.ttl -e ip.flags.df -e ip.src -e ipv6.dst "
		 "-e ip.id 2>/dev/null",
		 path);
	f = popen(cmd, "r");
	assert_non_null(f);
	i = 0;
	while (fgets(line, sizeof(line), f)) {
		char w[1024], ph[512];
		const struct pexp *e = &want[i];

		assert_true(i < nw);
		line[strcspn(line, "\n")] = 0;
		hex(ph, e->pl, e->plen);
		if (!e->v6)
			snprintf(w, sizeof(w), "%llu.%06llu000;%u;0x%08x;%u;%u;%s;1;1;64;1;10.0.0.1;;0x%04zx",
				 (unsigned long long)(e->ts / 1000000), (unsigned long long)(e->ts % 1000000),
				 e->seq, e->ssrc, e->sport, e->dport, ph, i + 1);
		else
			snprintf(w, sizeof(w), "%llu.%06llu000;%u;0x%08x;%u;%u;%s;;1;;;;2001:db8::2;",
				 (unsigned long long)(e->ts / 1000000), (unsigned long long)(e->ts % 1000000),
				 e->seq, e->ssrc, e->sport, e->dport, ph);
		print_message("%s\n", line);
		assert_string_equal(line, w);
		i++;
	}
	assert_int_equal(pclose(f), 0);
	assert_int_equal(i, nw);
	sb_free(a);
	sb_free(b);
}

/* ---- (4) hostile inputs ---- */
static void test_hostile(void **state)
{
	struct sbuf *a = sb_new(0, 0, 255, 0, "PCMU");           /* clock rate 0: default */
	struct sbuf *b = sb_new(1, 8, 255, 4000000000u, "PCMA"); /* absurd rate: default */
	struct sbuf *c = sb_new(0, 111, 255, 48000, "opus");
	struct export_stream st[3];
	uint8_t pl[300], pkt[400];
	char path[128], err[512];
	int16_t *l, *r;
	size_t frames, i;

	(void)state;
	memset(pl, 0x00, sizeof(pl));
	sb_rtp(a, T0, 0, 1, 1000, 7, pl, 160);
	sb_add(a, T0 + 1, CHUNK_RTP, pkt, 0);       /* zero length */
	sb_add(a, T0 + 2, CHUNK_RTP, pl, 5);        /* shorter than a header */
	sb_add(a, T0 + 3, 77, pl, 3);               /* unknown kind */
	mk_rtp(pkt, 0, 2, 1160, 7, pl, 20);
	pkt[0] = 0x8f;                               /* CC 15 runs past the packet */
	sb_add(a, T0 + 4, CHUNK_RTP, pkt, 32);
	mk_rtp(pkt, 0, 3, 1320, 7, pl, 20);
	pkt[0] = 0x90;                               /* extension of 0xffff words */
	pkt[12] = 0xbe;
	pkt[13] = 0xde;
	pkt[14] = 0xff;
	pkt[15] = 0xff;
	sb_add(a, T0 + 5, CHUNK_RTP, pkt, 32);
	mk_rtp(pkt, 0, 4, 1480, 7, pl, 20);
	pkt[0] = 0xa0;                               /* padding count 255 > payload */
	pkt[31] = 255;
	sb_add(a, T0 + 6, CHUNK_RTP, pkt, 32);
	mk_rtp(pkt, 0, 5, 1640, 7, pl, 20);
	pkt[0] = 0xa0;                               /* padding count 0 */
	pkt[31] = 0;
	sb_add(a, T0 + 7, CHUNK_RTP, pkt, 32);
	mk_rtp(pkt, 0, 6, 1800, 7, pl, 20);
	pkt[0] = 0x40;                               /* version 1 */
	sb_add(a, T0 + 8, CHUNK_RTP, pkt, 32);
	/* a timestamp jump of 2^31 ticks (74 hours at 8 kHz): beyond the cap */
	sb_rtp(a, T0 + 20000, 0, 7, 1000u + 0x80000000u, 7, pl, 160);
	/* back to normal: the next packet is placed again */
	sb_rtp(a, T0 + 40000, 0, 8, 1320, 7, pl, 160);
	/* well-formed CSRC + extension + padding: only the payload is audio */
	{
		uint8_t q[12 + 4 + 8 + 160 + 4];

		mk_rtp(q, 0, 9, 1480, 7, pl, 0);
		q[0] = 0x80 | 0x20 | 0x10 | 1;
		memset(q + 12, 0x80, 4);             /* CSRC */
		q[16] = 0xbe;
		q[17] = 0xde;
		q[18] = 0;
		q[19] = 1;
		memset(q + 20, 0x80, 4);             /* one extension word */
		memset(q + 24, 0x00, 160);           /* payload */
		memset(q + 184, 0x80, 3);
		q[187] = 4;                          /* 4 bytes of padding */
		sb_add(a, T0 + 60000, CHUNK_RTP, q, sizeof(q));
	}
	/* capture times far in the future and at the end of time */
	sb_rtp(b, T0 + 1000000ull * 3600 * 24 * 365, 8, 1, 0, 9, pl, 160);
	sb_rtp(b, UINT64_MAX, 8, 2, 160, 10, pl, 160);
	/* an opus packet that does not decode (code 3 without its frame count) */
	sb_rtp(c, T0 + 60000, 111, 1, 0, 11, (const uint8_t *)"\x03", 1);
	st[0] = es(a);
	st[1] = es(b);
	st[2] = es(c);
	tpath(path, sizeof(path), "hostile.wav");
	assert_int_equal(export_wav(path, st, 3, err, sizeof(err)), 0);
	print_message("warnings: %s\n", err);
	assert_non_null(strstr(err, "malformed RTP"));
	assert_non_null(strstr(err, "cap"));
	assert_non_null(strstr(err, "1 packets did not decode"));
	read_wav(path, &l, &r, &frames);
	/* packet 1 at 0, the one after the jump at 320 (ts 1320), the padded one at 480 */
	assert_int_equal(frames, 640);
	for (i = 0; i < frames; i++)
		assert_int_equal(l[i], (i < 160 || i >= 320) ? -32124 : 0);
	for (i = 0; i < frames; i++)
		assert_int_equal(r[i], 0);
	free(l);
	free(r);

	/* the pcap keeps every stored packet, malformed or not, and clamps time */
	tpath(path, sizeof(path), "hostile.pcap");
	assert_int_equal(export_pcap(path, st, 3, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "clamped"));
	if (have_tool("tshark")) {
		char cmd[512], line[256];
		FILE *f;
		size_t n = 0;

		snprintf(cmd, sizeof(cmd), "tshark -r '%s' -T fields -e frame.len 2>/dev/null", path);
		f = popen(cmd, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f))
			n++;
		assert_int_equal(pclose(f), 0);
		assert_int_equal(n, 14);
	}
	sb_free(a);
	sb_free(b);
	sb_free(c);
}

static void test_too_long_and_families(void **state)
{
	struct sbuf *a = sb_new(0, 0, 255, 8000, "PCMU");
	struct export_stream st;
	uint8_t *big = calloc(1, 70000);
	char path[128], err[256];
	size_t len;
	uint8_t *f;

	(void)state;
	assert_non_null(big);
	big[0] = 0x80;
	sb_add(a, T0, CHUNK_RTP, big, 65508); /* one more than fits IPv4 */
	sb_add(a, T0 + 1, CHUNK_RTP, big, 65507);
	st = es(a);
	tpath(path, sizeof(path), "big.pcap");
	assert_int_equal(export_pcap(path, &st, 1, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "1 packets too long"));
	f = read_file(path, &len);
	assert_non_null(f);
	assert_int_equal(len, 24 + 16 + 14 + 20 + 8 + 65507);
	free(f);
	/* the WAV writer cuts a packet to CODEC_MAX_SAMPLES and warns nothing for it */
	tpath(path, sizeof(path), "big.wav");
	assert_int_equal(export_wav(path, &st, 1, err, sizeof(err)), 0);

	/* mixed families: an error, no file left */
	a->desc.dst_family = 6;
	tpath(path, sizeof(path), "mixed.pcap");
	assert_int_equal(export_pcap(path, &st, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "families"));
	assert_int_equal(access(path, F_OK), -1);
	/* an unwritable path */
	assert_int_equal(export_wav("/nonexistent-dir/x.wav", &st, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent-dir/x.wav"));
	/* NULL err is allowed with errlen 0 */
	assert_int_equal(export_wav("/nonexistent-dir/x.wav", &st, 1, NULL, 0), -1);
	free(big);
	sb_free(a);
}

static void test_empty(void **state)
{
	char path[128], err[64];
	uint8_t *f;
	size_t len;
	int16_t *l, *r;
	size_t frames;

	(void)state;
	tpath(path, sizeof(path), "empty.wav");
	assert_int_equal(export_wav(path, NULL, 0, err, sizeof(err)), 0);
	read_wav(path, &l, &r, &frames);
	assert_int_equal(frames, 0);
	free(l);
	free(r);
	tpath(path, sizeof(path), "empty.pcap");
	assert_int_equal(export_pcap(path, NULL, 0, err, sizeof(err)), 0);
	f = read_file(path, &len);
	assert_non_null(f);
	assert_int_equal(len, 24);
	assert_int_equal(rd32(f), 0xa1b2c3d4u);
	assert_int_equal(rd16(f + 4), 2);
	assert_int_equal(rd16(f + 6), 4);
	assert_int_equal(rd32(f + 20), 1);
	free(f);
	if (have_tool("tshark")) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "tshark -r '%s' >/dev/null 2>&1", path);
		assert_int_equal(system(cmd), 0);
	}
}

/* The RTP reader at every truncation length never reads past the end, and
 * a full packet with CSRCs, extension and padding yields the right payload. */
static void test_rtp_reader(void **state)
{
	uint8_t full[12 + 8 + 8 + 5 + 3];
	struct codec_rtp r;
	size_t n;

	(void)state;
	memset(full, 0, sizeof(full));
	full[0] = 0x80 | 0x20 | 0x10 | 2;
	full[1] = 0x80 | 96;
	full[2] = 0xab;
	full[3] = 0xcd;
	full[7] = 9;
	full[11] = 5;
	full[20] = 0xbe;
	full[21] = 0xde;
	full[23] = 1; /* one word of extension */
	memcpy(full + 28, "hello", 5);
	full[35] = 3; /* 3 bytes of padding */
	assert_int_equal(codec_rtp_read(full, sizeof(full), &r), 0);
	assert_true(r.marker);
	assert_int_equal(r.pt, 96);
	assert_int_equal(r.seq, 0xabcd);
	assert_int_equal(r.ts, 9);
	assert_int_equal(r.ssrc, 5);
	assert_int_equal(r.payload_len, 5);
	assert_memory_equal(r.payload, "hello", 5);
	for (n = 0; n < sizeof(full); n++) {
		uint8_t *cut = malloc(n ? n : 1);

		assert_non_null(cut);
		memcpy(cut, full, n);
		if (codec_rtp_read(cut, n, &r) == 0) {
			assert_true(r.payload >= cut);
			assert_true(r.payload + r.payload_len <= cut + n);
		}
		free(cut);
	}
	assert_int_equal(codec_rtp_read(NULL, 0, &r), -1);
	assert_int_equal(codec_identify("pcmu", 96), CODEC_PCMU);
	assert_int_equal(codec_identify("G729a", 96), CODEC_G729);
	assert_int_equal(codec_identify("", 9), CODEC_G722);
	assert_int_equal(codec_identify("speex", 97), CODEC_UNKNOWN);
	assert_int_equal(codec_identify(NULL, 18), CODEC_G729);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtp_reader),
		cmocka_unit_test(test_wav_g711_placement),
		cmocka_unit_test(test_wav_g722),
		cmocka_unit_test(test_wav_g729),
		cmocka_unit_test(test_wav_opus),
		cmocka_unit_test(test_wav_unknown_codec),
		cmocka_unit_test(test_pcap_tshark),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_too_long_and_families),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
