/*
 * codec.c - RTP header reader and audio decoders for the WAV exporter.
 *
 * See codec.h for the concept.  The RTP reader follows RFC 3550 section 5.1
 * (fixed header, CSRC list), 5.3.1 (header extension: 16-bit profile word,
 * 16-bit length in 32-bit words) and the padding rule (last octet counts the
 * padding octets including itself, must be >= 1 and fit the payload).
 * Codec payload formats: RFC 3551 section 4.5 (PCMU, PCMA, G722, G729 with
 * Annex B SID frames), RFC 7587 (Opus, clock 48000).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp/telephony.h>
#include <spandsp/logging.h>
#include <spandsp/g711.h>
#include <spandsp/g722.h>
#include <bcg729/decoder.h>
#include <opus.h>

#include "codec.h"

#include <stdarg.h>
#include <stdio.h>

int codec_rtp_read(const uint8_t *p, size_t len, struct codec_rtp *out)
{
	size_t off, end;
	unsigned cc;

	if (!p || len < 12)
		return -1;
	if ((p[0] >> 6) != 2)
		return -1;
	cc = p[0] & 0x0fu;
	out->marker = (p[1] & 0x80u) != 0;
	out->pt = p[1] & 0x7fu;
	out->seq = (uint16_t)((unsigned)p[2] << 8 | p[3]);
	out->ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	out->ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
	off = 12;
	if (len - off < (size_t)cc * 4u)
		return -1;
	off += (size_t)cc * 4u;
	if (p[0] & 0x10u) {
		size_t words;

		if (len - off < 4)
			return -1;
		words = (size_t)p[off + 2] << 8 | p[off + 3];
		off += 4;
		if (len - off < words * 4u)
			return -1;
		off += words * 4u;
	}
	end = len;
	if (p[0] & 0x20u) {
		size_t pad;

		if (end == off)
			return -1;
		pad = p[end - 1];
		if (pad == 0 || pad > end - off)
			return -1;
		end -= pad;
	}
	out->payload = p + off;
	out->payload_len = end - off;
	return 0;
}

static const struct {
	const char *name;
	int static_pt;
	uint32_t rate;
} codec_tab[CODEC_N_IDS] = {
	[CODEC_UNKNOWN] = { "unknown", -1, 8000 },
	[CODEC_PCMU] = { "PCMU", 0, 8000 },
	[CODEC_PCMA] = { "PCMA", 8, 8000 },
	[CODEC_G722] = { "G722", 9, 8000 },  /* RFC 3551 4.5.2: clock 8000 although sampled at 16 kHz */
	[CODEC_G729] = { "G729", 18, 8000 },
	[CODEC_OPUS] = { "opus", -1, 48000 },
};

static int ascii_casecmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned ca = (unsigned char)*a, cb = (unsigned char)*b;

		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return 1;
		if (ca == 0)
			return 0;
	}
}

enum codec_id codec_identify(const char *name, int pt)
{
	int i;

	if (name && name[0]) {
		for (i = 1; i < CODEC_N_IDS; i++)
			if (ascii_casecmp(name, codec_tab[i].name) == 0)
				return (enum codec_id)i;
		/* G.729 Annex A/B are decoded by the same decoder */
		if (ascii_casecmp(name, "G729a") == 0 || ascii_casecmp(name, "G729ab") == 0 ||
		    ascii_casecmp(name, "G729b") == 0)
			return CODEC_G729;
	}
	for (i = 1; i < CODEC_N_IDS; i++)
		if (pt >= 0 && codec_tab[i].static_pt == pt)
			return (enum codec_id)i;
	return CODEC_UNKNOWN;
}

const char *codec_name(enum codec_id id)
{
	return (id >= 0 && id < CODEC_N_IDS) ? codec_tab[id].name : "unknown";
}

uint32_t codec_default_rate(enum codec_id id)
{
	return (id >= 0 && id < CODEC_N_IDS) ? codec_tab[id].rate : 8000;
}

struct codec_dec {
	enum codec_id id;
	g722_decode_state_t *g722;
	bcg729DecoderChannelContextStruct *g729;
	OpusDecoder *opus;
};

static void dec_release(struct codec_dec *d)
{
	if (d->g722)
		g722_decode_free(d->g722);
	if (d->g729)
		closeBcg729DecoderChannel(d->g729);
	if (d->opus)
		opus_decoder_destroy(d->opus);
	d->g722 = NULL;
	d->g729 = NULL;
	d->opus = NULL;
}

static int dec_setup(struct codec_dec *d)
{
	int err = 0;

	switch (d->id) {
	case CODEC_G722:
		d->g722 = g722_decode_init(NULL, 64000, G722_SAMPLE_RATE_8000);
		return d->g722 ? 0 : -1;
	case CODEC_G729:
		d->g729 = initBcg729DecoderChannel();
		return d->g729 ? 0 : -1;
	case CODEC_OPUS:
		d->opus = opus_decoder_create(8000, 1, &err);
		return (d->opus && err == OPUS_OK) ? 0 : -1;
	default:
		return 0;
	}
}

struct codec_dec *codec_dec_new(enum codec_id id)
{
	struct codec_dec *d;

	if (id <= CODEC_UNKNOWN || id >= CODEC_N_IDS)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->id = id;
	if (dec_setup(d) < 0) {
		codec_dec_free(d);
		return NULL;
	}
	return d;
}

void codec_dec_free(struct codec_dec *d)
{
	if (!d)
		return;
	dec_release(d);
	free(d);
}

int codec_dec_reset(struct codec_dec *d)
{
	dec_release(d);
	return dec_setup(d);
}

#define G729_FRAME 10
#define G729_SID 2
#define G729_SAMPLES 80
#define OPUS_MAX_8K 960 /* 120 ms at 8 kHz, the longest Opus packet */

long codec_decode(struct codec_dec *d, const uint8_t *payload, size_t len, int16_t *out, size_t max)
{
	size_t i, n = 0;

	if (len == 0)
		return 0;
	switch (d->id) {
	case CODEC_PCMU:
		for (i = 0; i < len && i < max; i++)
			out[i] = ulaw_to_linear(payload[i]);
		return (long)i;
	case CODEC_PCMA:
		for (i = 0; i < len && i < max; i++)
			out[i] = alaw_to_linear(payload[i]);
		return (long)i;
	case CODEC_G722:
		/* 8 kHz output: one sample per code byte */
		if (len > max)
			len = max;
		if (len > INT32_MAX)
			return -1;
		return g722_decode(d->g722, out, payload, (int)len);
	case CODEC_G729:
		while (len - (n / G729_SAMPLES) * G729_FRAME >= G729_FRAME && max - n >= G729_SAMPLES) {
			bcg729Decoder(d->g729, payload + (n / G729_SAMPLES) * G729_FRAME, G729_FRAME, 0, 0, 0,
				      out + n);
			n += G729_SAMPLES;
		}
		if (len - (n / G729_SAMPLES) * G729_FRAME == G729_SID && max - n >= G729_SAMPLES) {
			bcg729Decoder(d->g729, payload + (n / G729_SAMPLES) * G729_FRAME, G729_SID, 0, 1, 0,
				      out + n);
			n += G729_SAMPLES;
		}
		return (long)n;
	case CODEC_OPUS: {
		int r;

		if (len > INT32_MAX || max < OPUS_MAX_8K)
			return -1;
		r = opus_decode(d->opus, payload, (opus_int32)len, out, OPUS_MAX_8K, 0);
		return r < 0 ? -1 : r;
	}
	default:
		return -1;
	}
}

void export_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
