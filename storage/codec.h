/*
 * codec.h - what the WAV exporter needs to turn stored RTP into audio: a
 * bounds-checked RTP header reader and a small decoder abstraction.
 *
 * Storage may not include parsers/ (it knows nothing of packets beyond what
 * export needs), so this is its own minimal RTP reader (RFC 3550 section
 * 5.1): version 2, CSRC list, header extension (5.3.1) and padding are all
 * length-checked before they are skipped; anything running past the packet
 * is rejected.  It does not validate payload types or profiles.
 *
 * Decoders (all produce 16-bit linear PCM at 8000 Hz, mono):
 *   PCMU / PCMA   spandsp g711 tables, one sample per byte
 *   G.722         spandsp, 64 kbit/s, 8 kHz output option (one sample per byte)
 *   G.729         bcg729, 10-byte frames of 80 samples; a trailing 2-byte
 *                 frame is a SID (comfort noise, Annex B)
 *   Opus          libopus decoder created at 8 kHz mono (stereo downmixed)
 * A decoder is identified by codec name (case-insensitive) or, failing that,
 * by static payload type (RFC 3551: 0, 8, 9, 18).  Not done: packet loss
 * concealment, Opus FEC, comfort noise for RFC 3389 CN packets (silence).
 */
#ifndef RV_CODEC_H
#define RV_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- RTP header reader ---- */
struct codec_rtp {
	uint8_t pt;
	bool marker;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	const uint8_t *payload; /* into the input, padding removed */
	size_t payload_len;
};

/* 0, or -1 when the bytes are not a well-formed RTP v2 packet.  Borrows p. */
int codec_rtp_read(const uint8_t *p, size_t len, struct codec_rtp *out);

/* ---- decoders ---- */
enum codec_id {
	CODEC_UNKNOWN = 0,
	CODEC_PCMU,
	CODEC_PCMA,
	CODEC_G722,
	CODEC_G729,
	CODEC_OPUS,
	CODEC_N_IDS
};

/* Most samples (8 kHz) one packet may yield; more are cut off. */
#define CODEC_MAX_SAMPLES 65536u

/* By name (case-insensitive; "" or unknown names fall back to pt when pt is
 * a static payload type). */
enum codec_id codec_identify(const char *name, int pt);
const char *codec_name(enum codec_id id);
/* RTP clock rate the codec uses when the description has none. */
uint32_t codec_default_rate(enum codec_id id);

struct codec_dec;
/* Returns owned (codec_dec_free), NULL for CODEC_UNKNOWN or out of memory. */
struct codec_dec *codec_dec_new(enum codec_id id);
void codec_dec_free(struct codec_dec *d);
/* Back to the initial state (a new synchronisation source). */
int codec_dec_reset(struct codec_dec *d);
/* Decodes one RTP payload into out (room for max samples, 8 kHz mono).
 * Returns the number of samples written, or -1 when the payload does not
 * decode (the caller treats it as lost). */
long codec_decode(struct codec_dec *d, const uint8_t *payload, size_t len, int16_t *out, size_t max);

/* Writes a message to err (may be NULL or errlen 0), for the export writers. */
void export_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
