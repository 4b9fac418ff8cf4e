/*
 * record.c - encoding and sealing of a call record's private metadata.
 *
 * Plaintext layout (record.h, offsets in docs/storage-format.md):
 *   "RVM1" | n_streams u16 BE | n_streams x 96-byte stream descriptor |
 *   json length u32 BE | JSON text (exactly to the end)
 * sealed with AES-256-GCM under the call's data key, nonce
 * store_meta_nonce(meta_version), AAD "RVR1" || record id BE64 ||
 * meta_version BE32.
 *
 * Decoding happens only after the tag verified, yet it is still checked like
 * untrusted input (a bug or an old format must not make us read out of
 * bounds): n_streams <= REC_MAX_STREAMS, every length inside the plaintext,
 * codec names NUL-terminated.
 *
 * Does NOT: build or parse the JSON, or store anything (store.h does).
 */
#include "record.h"

#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "bytes.h"

#define RVM_MAGIC "RVM1"
#define RVR_AAD_LEN 16







static void meta_aad(uint64_t record_id, uint32_t meta_version, uint8_t aad[RVR_AAD_LEN])
{
	memcpy(aad, "RVR1", 4);
	put_be64(aad + 4, record_id);
	put_be32(aad + 12, meta_version);
}

static void encode_stream(const struct rec_stream *st, uint8_t *p)
{
	size_t cl;

	memset(p, 0, REC_STREAM_DESC_LEN);
	p[0] = st->party;
	p[1] = st->audio_pt;
	p[2] = st->event_pt;
	p[3] = st->flags;
	put_be32(p + 4, st->rate);
	cl = strnlen(st->codec, sizeof(st->codec) - 1); /* always leaves a NUL */
	memcpy(p + 8, st->codec, cl);
	p[32] = st->src_family;
	memcpy(p + 33, st->src, 16);
	put_be16(p + 49, st->sport);
	p[51] = st->dst_family;
	memcpy(p + 52, st->dst, 16);
	put_be16(p + 68, st->dport);
	put_be32(p + 70, st->chunks);
	put_be64(p + 74, st->packets);
}

static int decode_stream(const uint8_t *p, struct rec_stream *st)
{
	if (memchr(p + 8, 0, 24) == NULL)
		return REC_E_DECODE;
	memset(st, 0, sizeof(*st));
	st->party = p[0];
	st->audio_pt = p[1];
	st->event_pt = p[2];
	st->flags = p[3];
	st->rate = get_be32(p + 4);
	memcpy(st->codec, p + 8, 24);
	st->src_family = p[32];
	memcpy(st->src, p + 33, 16);
	st->sport = get_be16(p + 49);
	st->dst_family = p[51];
	memcpy(st->dst, p + 52, 16);
	st->dport = get_be16(p + 68);
	st->chunks = get_be32(p + 70);
	st->packets = get_be64(p + 74);
	return 0;
}

int rec_meta_seal(const struct rv_dek *dek, uint64_t record_id, uint32_t meta_version, const struct rec_meta *m,
		  uint8_t **out, size_t *out_len)
{
	uint8_t nonce[RV_NONCE_LEN], aad[RVR_AAD_LEN];
	uint8_t *plain, *sealed, *p;
	size_t plen;
	int rc;

	if (!dek || !m || !out || !out_len || m->n_streams > REC_MAX_STREAMS || (m->json_len && !m->json) ||
	    m->json_len > UINT32_MAX - 4096)
		return CRYPTO_E_ARG;
	*out = NULL;
	*out_len = 0;
	plen = 4 + 2 + (size_t)m->n_streams * REC_STREAM_DESC_LEN + 4 + m->json_len;
	plain = malloc(plen);
	if (!plain)
		return CRYPTO_E_NOMEM;
	sealed = malloc(plen + RV_TAG_LEN);
	if (!sealed) {
		free(plain);
		return CRYPTO_E_NOMEM;
	}
	p = plain;
	memcpy(p, RVM_MAGIC, 4);
	put_be16(p + 4, m->n_streams);
	p += 6;
	for (unsigned i = 0; i < m->n_streams; i++, p += REC_STREAM_DESC_LEN)
		encode_stream(&m->streams[i], p);
	put_be32(p, (uint32_t)m->json_len);
	if (m->json_len)
		memcpy(p + 4, m->json, m->json_len);
	store_meta_nonce(meta_version, nonce);
	meta_aad(record_id, meta_version, aad);
	rc = aead_seal(dek->key, nonce, aad, sizeof(aad), plain, plen, sealed);
	secure_wipe(plain, plen);
	free(plain);
	if (rc) {
		free(sealed);
		return rc;
	}
	*out = sealed;
	*out_len = plen + RV_TAG_LEN;
	return 0;
}

static int decode_meta(const uint8_t *p, size_t len, struct rec_meta *m)
{
	size_t off, jl;
	uint16_t n;

	if (len < 4 + 2 + 4 || memcmp(p, RVM_MAGIC, 4) != 0)
		return REC_E_DECODE;
	n = get_be16(p + 4);
	if (n > REC_MAX_STREAMS)
		return REC_E_DECODE;
	off = 6;
	if ((size_t)n * REC_STREAM_DESC_LEN > len - off - 4)
		return REC_E_DECODE;
	m->n_streams = n;
	for (unsigned i = 0; i < n; i++, off += REC_STREAM_DESC_LEN)
		if (decode_stream(p + off, &m->streams[i]))
			return REC_E_DECODE;
	jl = get_be32(p + off);
	off += 4;
	if (jl != len - off) /* the JSON runs exactly to the end */
		return REC_E_DECODE;
	m->json = (const char *)p + off;
	m->json_len = jl;
	return 0;
}

int rec_meta_open(const struct rv_dek *dek, uint64_t record_id, uint32_t meta_version, const uint8_t *sealed,
		  size_t len, struct rec_meta *m, uint8_t **plain, size_t *plain_len)
{
	uint8_t nonce[RV_NONCE_LEN], aad[RVR_AAD_LEN];
	uint8_t *buf;
	size_t plen;
	int rc;

	if (!dek || !sealed || !m || !plain || !plain_len)
		return CRYPTO_E_ARG;
	*plain = NULL;
	*plain_len = 0;
	if (len < RV_TAG_LEN)
		return REC_E_DECODE;
	plen = len - RV_TAG_LEN;
	buf = malloc(plen + 1);
	if (!buf)
		return CRYPTO_E_NOMEM;
	store_meta_nonce(meta_version, nonce);
	meta_aad(record_id, meta_version, aad);
	rc = aead_open(dek->key, nonce, aad, sizeof(aad), sealed, len, buf);
	if (rc == 0) {
		buf[plen] = '\0';
		memset(m, 0, sizeof(*m));
		rc = decode_meta(buf, plen, m);
		if (rc)
			memset(m, 0, sizeof(*m));
	}
	if (rc) {
		secure_wipe(buf, plen + 1);
		free(buf);
		return rc;
	}
	*plain = buf;
	*plain_len = plen;
	return 0;
}
