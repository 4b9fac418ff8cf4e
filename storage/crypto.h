/*
 * crypto.h - envelope encryption for recordings (OpenSSL EVP only).
 *
 * A key-encryption key (KEK, 32 random bytes) lives in a key file outside the
 * store, created by `rtpvault keys init` with mode 0400; a file that is
 * group- or world-accessible, not a regular file, or not exactly 32 bytes is
 * refused.  Each call gets a fresh random 256-bit data key (DEK), wrapped with
 * the KEK by AES-256-GCM (the wrapped form binds the record id and KEK id as
 * AAD, so a wrapped key cannot be moved to another record).  Audio chunks and
 * call metadata are sealed with the DEK by AES-256-GCM; the caller supplies
 * a nonce that is unique per DEK by construction and AAD that binds the
 * ciphertext to its place (record, stream, chunk index, final flag).
 *
 * Derived keys (HKDF-SHA256 from the KEK, distinct labels) key the HMAC
 * indexes of phone numbers and Call-IDs, so nothing personal is stored in
 * plaintext even as an index key.
 *
 * Every EVP return value is checked; every function returns 0 or a negative
 * code (crypto_strerror()).  Key material is wiped with OPENSSL_cleanse
 * before it is freed.  Not thread-safe per object; use one per thread.
 */
#ifndef RV_CRYPTO_H
#define RV_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define RV_KEY_LEN 32
#define RV_NONCE_LEN 12
#define RV_TAG_LEN 16
#define RV_WRAPPED_LEN (RV_NONCE_LEN + RV_KEY_LEN + RV_TAG_LEN) /* 60 */
#define RV_HMAC_LEN 16  /* truncated HMAC-SHA256 for index keys */

enum crypto_err {
	CRYPTO_OK = 0,
	CRYPTO_E_KEYFILE_MISSING = -1,
	CRYPTO_E_KEYFILE_PERMS = -2,   /* group/world bits set or not a regular file */
	CRYPTO_E_KEYFILE_SIZE = -3,
	CRYPTO_E_KEYFILE_IO = -4,
	CRYPTO_E_KEYFILE_EXISTS = -5,
	CRYPTO_E_RANDOM = -6,
	CRYPTO_E_EVP = -7,             /* an OpenSSL call failed */
	CRYPTO_E_AUTH = -8,            /* authentication tag mismatch: tampered or wrong key */
	CRYPTO_E_ARG = -9,
	CRYPTO_E_NOMEM = -10,          /* (added) allocation failed (record.h sealing) */
};

const char *crypto_strerror(int code);

/* The key-encryption key and what is derived from it. */
struct rv_kek {
	uint8_t key[RV_KEY_LEN];
	uint32_t id;                 /* first 4 bytes of SHA-256(key): names the key in records */
	uint8_t index_key[RV_KEY_LEN]; /* HKDF(key, "rtpvault index v1") */
	uint8_t audit_key[RV_KEY_LEN]; /* HKDF(key, "rtpvault audit v1") */
};

/* Creates path with 32 random bytes, mode 0400, O_EXCL (never overwrites). */
int kek_create(const char *path);
/* Loads and checks path (permissions, size).  kek is caller-allocated. */
int kek_load(const char *path, struct rv_kek *kek);
void kek_wipe(struct rv_kek *kek);

/* A per-call data key. */
struct rv_dek {
	uint8_t key[RV_KEY_LEN];
};

int dek_generate(struct rv_dek *dek);
void dek_wipe(struct rv_dek *dek);
/* wrapped = nonce || ciphertext || tag, AAD = record_id (BE64) || kek id (BE32). */
int dek_wrap(const struct rv_kek *kek, const struct rv_dek *dek, uint64_t record_id,
	     uint8_t wrapped[RV_WRAPPED_LEN]);
int dek_unwrap(const struct rv_kek *kek, const uint8_t wrapped[RV_WRAPPED_LEN], uint64_t record_id,
	       struct rv_dek *dek);

/* AES-256-GCM.  out must hold len + RV_TAG_LEN bytes (ciphertext || tag). */
int aead_seal(const uint8_t key[RV_KEY_LEN], const uint8_t nonce[RV_NONCE_LEN], const uint8_t *aad,
	      size_t aad_len, const uint8_t *in, size_t len, uint8_t *out);
/* A reusable AES-256-GCM sealing context: the cipher is fetched and set up
 * once, each seal only re-keys it (the recorder seals a chunk every few
 * dozen packets; a fresh context each time costs more than the AES).  The
 * output is identical to aead_seal's.  Not thread-safe: one per thread. */
struct aead;
struct aead *aead_new(void);
void aead_free(struct aead *a);
int aead_seal_ctx(struct aead *a, const uint8_t key[RV_KEY_LEN], const uint8_t nonce[RV_NONCE_LEN],
		  const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out);

/* in is ciphertext || tag (len includes the tag); out holds len - RV_TAG_LEN
 * bytes.  CRYPTO_E_AUTH when the tag does not verify: out is then wiped. */
int aead_open(const uint8_t key[RV_KEY_LEN], const uint8_t nonce[RV_NONCE_LEN], const uint8_t *aad,
	      size_t aad_len, const uint8_t *in, size_t len, uint8_t *out);

/* Truncated HMAC-SHA256(index_key, data) for index keys. */
int index_hmac(const struct rv_kek *kek, const void *data, size_t len, uint8_t out[RV_HMAC_LEN]);
/* SHA-256 of a file's bytes, as 64 hex characters + NUL. */
int sha256_hex(const void *data, size_t len, char out[65]);

/* Wipes n bytes (OPENSSL_cleanse). */
void secure_wipe(void *p, size_t n);

#endif
