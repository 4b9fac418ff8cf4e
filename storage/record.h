/*
 * record.h - the sealed part of a call record.
 *
 * Plaintext (before sealing with the call's data key):
 *   u32 BE magic "RVM1" | u16 BE n_streams | n_streams x stream descriptor |
 *   u32 BE json length | JSON text
 * Stream descriptor (fixed 96 bytes): party u8, audio_pt u8, event_pt u8
 * (255 = none), flags u8, clock rate u32 BE, codec name 24 bytes (NUL
 * padded), src family u8 + 16 address bytes, src port u16 BE, dst family u8 +
 * 16 bytes, dst port u16 BE, chunks u32 BE, packets kept u64 BE (remaining
 * 14 bytes zero, ignored when read).  The fields add up to 82 bytes, so the
 * descriptor is 96 bytes, not the 80 of the first draft of this header;
 * offsets are in docs/storage-format.md.
 *
 * Errors: rec_meta_seal/rec_meta_open return 0, a CRYPTO_E_* code, or
 * REC_E_DECODE (-1) when the authenticated plaintext does not decode.
 *
 * The JSON text is the call as `rtpvault calls --json` and `show --json`
 * print it (docs/storage-format.md): parties, times, consent evidence,
 * streams.  The descriptors are what export needs to rebuild packets and
 * audio without parsing JSON.
 *
 * Sealing: AES-256-GCM with the call's data key, nonce store_meta_nonce(
 * meta_version), AAD = "RVR1" || record id (BE64) || meta_version (BE32), so
 * metadata cannot be moved between records or rolled back to an older
 * version of the same record unnoticed by a reader that knows the version
 * from the (authenticated) header... the header itself is plaintext, so a
 * rollback of the whole value is detected only by the audit log.
 */
#ifndef RV_RECORD_H
#define RV_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define REC_MAX_STREAMS 64
#define REC_STREAM_DESC_LEN 96
#define REC_E_DECODE (-1) /* plaintext authenticated but does not decode */

struct rec_stream {
	uint8_t party;     /* 0 caller, 1 callee */
	uint8_t audio_pt;
	uint8_t event_pt;  /* 255 = none */
	uint8_t flags;
	uint32_t rate;
	char codec[24];    /* NUL-terminated */
	uint8_t src_family, dst_family; /* 4 or 6 */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t chunks;   /* number of chunks stored; the last carries the final flag */
	uint64_t packets;  /* RTP packets kept */
};

struct rec_meta {
	uint16_t n_streams;
	struct rec_stream streams[REC_MAX_STREAMS];
	const char *json;  /* borrowed: into the decoded plaintext, or the caller's text when encoding */
	size_t json_len;
};

/* Encodes and seals m for record (id, meta_version).  *out is owned by the
 * caller (free()). */
int rec_meta_seal(const struct rv_dek *dek, uint64_t record_id, uint32_t meta_version, const struct rec_meta *m,
		  uint8_t **out, size_t *out_len);
/* Opens and decodes.  *plain is owned by the caller (free(), after wiping);
 * m->json points into it (and is followed by a NUL byte in *plain, which is
 * not counted in json_len or *plain_len).  CRYPTO_E_AUTH when tampered,
 * REC_E_DECODE (-1, STORE_E_CORRUPT-like) when it does not decode; on any
 * error *plain is NULL. */
int rec_meta_open(const struct rv_dek *dek, uint64_t record_id, uint32_t meta_version, const uint8_t *sealed,
		  size_t len, struct rec_meta *m, uint8_t **plain, size_t *plain_len);

#endif
