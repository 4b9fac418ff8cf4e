/*
 * crypto.c - envelope encryption for recordings: the key-encryption key
 * file, per-call data keys, AES-256-GCM sealing and the HMAC index keys.
 *
 * Primitives (all OpenSSL 3 EVP / one-shot APIs, every return checked):
 *   - KEK file: 32 bytes from RAND_bytes, created O_EXCL with mode 0400 and
 *     fsync'ed (file and directory); loaded with O_NOFOLLOW and refused when
 *     it is not a regular file, has any group/other permission bit, or is
 *     not exactly 32 bytes (OpenSMTPD-style: loose key files are errors).
 *   - KEK id: first 4 bytes of SHA-256(KEK), big-endian.
 *   - index_key / audit_key: HKDF-SHA256 (RFC 5869) with IKM = KEK, empty
 *     salt, info "rtpvault index v1" / "rtpvault audit v1", L = 32.
 *   - DEK wrap: AES-256-GCM (NIST SP 800-38D) under the KEK, random 96-bit
 *     nonce, AAD = record id (BE64) || KEK id (BE32).
 *   - index_hmac: HMAC-SHA256 (RFC 2104) keyed with index_key, truncated to
 *     the first 16 bytes.
 *
 * Does NOT: choose chunk or metadata nonces (store.h builds them, unique per
 * data key by construction), rotate keys, or keep any global state.  Key
 * material on the stack is wiped with OPENSSL_cleanse before returning.
 */
#include "crypto.h"
#include "bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#define LABEL_INDEX "rtpvault index v1"
#define LABEL_AUDIT "rtpvault audit v1"

const char *crypto_strerror(int code)
{
	switch (code) {
	case CRYPTO_OK:
		return "success";
	case CRYPTO_E_KEYFILE_MISSING:
		return "key file does not exist (create it with `rtpvault keys init`)";
	case CRYPTO_E_KEYFILE_PERMS:
		return "key file is not a regular file or is readable by group or others "
		       "(must be a plain file, not a symlink; chmod 0400)";
	case CRYPTO_E_KEYFILE_SIZE:
		return "key file does not hold exactly 32 bytes (wrong or damaged file)";
	case CRYPTO_E_KEYFILE_IO:
		return "key file cannot be read or written (permissions of the file or its directory, disk)";
	case CRYPTO_E_KEYFILE_EXISTS:
		return "key file already exists: refusing to overwrite a key (recordings would become unreadable)";
	case CRYPTO_E_RANDOM:
		return "the system random number generator failed";
	case CRYPTO_E_EVP:
		return "an OpenSSL cryptographic operation failed";
	case CRYPTO_E_AUTH:
		return "authentication failed: data was tampered with, or the wrong key or record was used";
	case CRYPTO_E_ARG:
		return "invalid argument to a crypto function";
	case CRYPTO_E_NOMEM:
		return "out of memory";
	default:
		return "unknown crypto error";
	}
}

void secure_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}



/* ---- key file ---- */

/* mkdir -p of the directory part of path, new directories 0700. */
static int make_parent_dirs(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	char *slash;

	if (n == 0 || n >= sizeof(buf))
		return CRYPTO_E_ARG;
	memcpy(buf, path, n + 1);
	slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return 0; /* relative name in cwd, or a file in / */
	*slash = '\0';
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, 0700) != 0 && errno != EEXIST)
				return CRYPTO_E_KEYFILE_IO;
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

static void fsync_parent(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	char *slash;
	int fd;

	if (n >= sizeof(buf))
		return;
	memcpy(buf, path, n + 1);
	slash = strrchr(buf, '/');
	if (!slash)
		strcpy(buf, ".");
	else if (slash == buf)
		buf[1] = '\0';
	else
		*slash = '\0';
	fd = open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd); /* best effort: the file itself was fsync'ed */
		close(fd);
	}
}

int kek_create(const char *path)
{
	uint8_t key[RV_KEY_LEN];
	size_t off = 0;
	int fd, rc;

	if (!path || !*path)
		return CRYPTO_E_ARG;
	rc = make_parent_dirs(path);
	if (rc)
		return rc;
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0400);
	if (fd < 0)
		return errno == EEXIST ? CRYPTO_E_KEYFILE_EXISTS : CRYPTO_E_KEYFILE_IO;
	if (RAND_bytes(key, sizeof(key)) != 1) {
		rc = CRYPTO_E_RANDOM;
		goto fail;
	}
	while (off < sizeof(key)) {
		ssize_t w = write(fd, key + off, sizeof(key) - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = CRYPTO_E_KEYFILE_IO;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		rc = CRYPTO_E_KEYFILE_IO;
		goto fail;
	}
	secure_wipe(key, sizeof(key));
	if (close(fd) != 0) {
		unlink(path);
		return CRYPTO_E_KEYFILE_IO;
	}
	fsync_parent(path);
	return 0;
fail:
	secure_wipe(key, sizeof(key));
	close(fd);
	unlink(path); /* we created it (O_EXCL): never leave a short key behind */
	return rc;
}

static int hkdf_sha256(const uint8_t ikm[RV_KEY_LEN], const char *label, uint8_t out[RV_KEY_LEN])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t outlen = RV_KEY_LEN;
	int rc = CRYPTO_E_EVP;

	if (!ctx)
		return CRYPTO_E_EVP;
	if (EVP_PKEY_derive_init(ctx) <= 0)
		goto out;
	if (EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) <= 0)
		goto out;
	if (EVP_PKEY_CTX_set1_hkdf_key(ctx, ikm, RV_KEY_LEN) <= 0)
		goto out;
	if (EVP_PKEY_CTX_add1_hkdf_info(ctx, (const unsigned char *)label, (int)strlen(label)) <= 0)
		goto out;
	if (EVP_PKEY_derive(ctx, out, &outlen) <= 0 || outlen != RV_KEY_LEN)
		goto out;
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	if (rc)
		secure_wipe(out, RV_KEY_LEN);
	return rc;
}

int kek_load(const char *path, struct rv_kek *kek)
{
	struct stat st;
	uint8_t md[32];
	size_t off = 0;
	int fd, rc;

	if (!path || !kek)
		return CRYPTO_E_ARG;
	memset(kek, 0, sizeof(*kek));
	/* O_NONBLOCK: a FIFO planted at the path must not hang us before fstat. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return CRYPTO_E_KEYFILE_MISSING;
		if (errno == ELOOP)
			return CRYPTO_E_KEYFILE_PERMS; /* a symlink */
		return CRYPTO_E_KEYFILE_IO;
	}
	if (fstat(fd, &st) != 0) {
		rc = CRYPTO_E_KEYFILE_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		rc = CRYPTO_E_KEYFILE_PERMS;
		goto out;
	}
	if (st.st_size != RV_KEY_LEN) {
		rc = CRYPTO_E_KEYFILE_SIZE;
		goto out;
	}
	while (off < RV_KEY_LEN) {
		ssize_t r = read(fd, kek->key + off, RV_KEY_LEN - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = CRYPTO_E_KEYFILE_IO;
			goto out;
		}
		if (r == 0) {
			rc = CRYPTO_E_KEYFILE_SIZE; /* shrank under us */
			goto out;
		}
		off += (size_t)r;
	}
	if (EVP_Digest(kek->key, RV_KEY_LEN, md, NULL, EVP_sha256(), NULL) != 1) {
		rc = CRYPTO_E_EVP;
		goto out;
	}
	kek->id = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
	rc = hkdf_sha256(kek->key, LABEL_INDEX, kek->index_key);
	if (rc == 0)
		rc = hkdf_sha256(kek->key, LABEL_AUDIT, kek->audit_key);
out:
	secure_wipe(md, sizeof(md));
	close(fd);
	if (rc)
		kek_wipe(kek);
	return rc;
}

void kek_wipe(struct rv_kek *kek)
{
	if (kek)
		secure_wipe(kek, sizeof(*kek));
}

/* ---- data keys ---- */

int dek_generate(struct rv_dek *dek)
{
	if (!dek)
		return CRYPTO_E_ARG;
	if (RAND_bytes(dek->key, RV_KEY_LEN) != 1) {
		secure_wipe(dek, sizeof(*dek));
		return CRYPTO_E_RANDOM;
	}
	return 0;
}

void dek_wipe(struct rv_dek *dek)
{
	if (dek)
		secure_wipe(dek, sizeof(*dek));
}

static void wrap_aad(uint64_t record_id, uint32_t kek_id, uint8_t aad[12])
{
	put_be64(aad, record_id);
	put_be32(aad + 8, kek_id);
}

int dek_wrap(const struct rv_kek *kek, const struct rv_dek *dek, uint64_t record_id,
	     uint8_t wrapped[RV_WRAPPED_LEN])
{
	uint8_t aad[12];
	int rc;

	if (!kek || !dek || !wrapped)
		return CRYPTO_E_ARG;
	if (RAND_bytes(wrapped, RV_NONCE_LEN) != 1)
		return CRYPTO_E_RANDOM;
	wrap_aad(record_id, kek->id, aad);
	rc = aead_seal(kek->key, wrapped, aad, sizeof(aad), dek->key, RV_KEY_LEN, wrapped + RV_NONCE_LEN);
	if (rc)
		secure_wipe(wrapped, RV_WRAPPED_LEN);
	return rc;
}

int dek_unwrap(const struct rv_kek *kek, const uint8_t wrapped[RV_WRAPPED_LEN], uint64_t record_id,
	       struct rv_dek *dek)
{
	uint8_t aad[12];
	int rc;

	if (!kek || !dek || !wrapped)
		return CRYPTO_E_ARG;
	wrap_aad(record_id, kek->id, aad);
	rc = aead_open(kek->key, wrapped, aad, sizeof(aad), wrapped + RV_NONCE_LEN, RV_KEY_LEN + RV_TAG_LEN,
		       dek->key);
	if (rc)
		secure_wipe(dek, sizeof(*dek));
	return rc;
}

/* ---- AES-256-GCM ---- */

static int gcm_init(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *key, const uint8_t *nonce)
{
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1)
		return CRYPTO_E_EVP;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, RV_NONCE_LEN, NULL) != 1)
		return CRYPTO_E_EVP;
	if (EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
		return CRYPTO_E_EVP;
	return 0;
}

/* Keys ctx (already set up for AES-256-GCM with a 12-byte IV) and seals. */
static int seal_in(EVP_CIPHER_CTX *ctx, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		   const uint8_t *in, size_t len, uint8_t *out)
{
	int outl = 0, fin = 0;
	if (EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, 1) != 1)
		return CRYPTO_E_EVP;
	if (aad_len && EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
		return CRYPTO_E_EVP;
	outl = 0;
	if (len && EVP_EncryptUpdate(ctx, out, &outl, in, (int)len) != 1)
		return CRYPTO_E_EVP;
	if (EVP_EncryptFinal_ex(ctx, out + outl, &fin) != 1)
		return CRYPTO_E_EVP;
	if ((size_t)outl + (size_t)fin != len)
		return CRYPTO_E_EVP;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, RV_TAG_LEN, out + len) != 1)
		return CRYPTO_E_EVP;
	return 0;
}

static int seal_args_ok(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
			const uint8_t *in, size_t len, const uint8_t *out)
{
	return key && nonce && out && !(aad_len && !aad) && !(len && !in) && aad_len <= INT_MAX &&
	       len <= (size_t)INT_MAX - RV_TAG_LEN;
}

int aead_seal(const uint8_t key[RV_KEY_LEN], const uint8_t nonce[RV_NONCE_LEN], const uint8_t *aad,
	      size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
	if (!seal_args_ok(key, nonce, aad, aad_len, in, len, out))
		return CRYPTO_E_ARG;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return CRYPTO_E_EVP;
	int rc = gcm_init(ctx, 1, key, nonce);
	if (rc == 0)
		rc = seal_in(ctx, key, nonce, aad, aad_len, in, len, out);
	EVP_CIPHER_CTX_free(ctx); /* frees and cleanses the key schedule */
	if (rc)
		secure_wipe(out, len + RV_TAG_LEN);
	return rc;
}

struct aead {
	EVP_CIPHER_CTX *ctx;
};

struct aead *aead_new(void)
{
	struct aead *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->ctx = EVP_CIPHER_CTX_new();
	if (!a->ctx || EVP_CipherInit_ex(a->ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, 1) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_GCM_SET_IVLEN, RV_NONCE_LEN, NULL) != 1) {
		aead_free(a);
		return NULL;
	}
	return a;
}

void aead_free(struct aead *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->ctx); /* cleanses the last key schedule */
	free(a);
}

int aead_seal_ctx(struct aead *a, const uint8_t key[RV_KEY_LEN], const uint8_t nonce[RV_NONCE_LEN],
		  const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
	if (!a || !seal_args_ok(key, nonce, aad, aad_len, in, len, out))
		return CRYPTO_E_ARG;
	int rc = seal_in(a->ctx, key, nonce, aad, aad_len, in, len, out);
	if (rc)
		secure_wipe(out, len + RV_TAG_LEN);
	return rc;
}

int aead_open(const uint8_t key[RV_KEY_LEN], const uint8_t nonce[RV_NONCE_LEN], const uint8_t *aad,
	      size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t tag[RV_TAG_LEN];
	size_t clen;
	int outl = 0, fin = 0, rc = CRYPTO_E_EVP;

	if (!key || !nonce || !in || (aad_len && !aad) || len < RV_TAG_LEN || aad_len > INT_MAX ||
	    len > INT_MAX)
		return CRYPTO_E_ARG;
	clen = len - RV_TAG_LEN;
	if (clen && !out)
		return CRYPTO_E_ARG;
	memcpy(tag, in + clen, RV_TAG_LEN); /* in may equal out */
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return CRYPTO_E_EVP;
	if (gcm_init(ctx, 0, key, nonce))
		goto out;
	if (aad_len && EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
		goto out;
	outl = 0;
	if (clen && EVP_DecryptUpdate(ctx, out, &outl, in, (int)clen) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, RV_TAG_LEN, tag) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(ctx, clen ? out + outl : NULL, &fin) != 1) {
		rc = CRYPTO_E_AUTH;
		goto out;
	}
	if ((size_t)outl + (size_t)fin != clen)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (rc && clen)
		secure_wipe(out, clen);
	return rc;
}

/* ---- hashes ---- */

int index_hmac(const struct rv_kek *kek, const void *data, size_t len, uint8_t out[RV_HMAC_LEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const uint8_t empty[1];

	if (!kek || !out || (len && !data))
		return CRYPTO_E_ARG;
	if (!HMAC(EVP_sha256(), kek->index_key, RV_KEY_LEN, len ? data : empty, len, md, &mdlen) ||
	    mdlen != 32) {
		secure_wipe(md, sizeof(md));
		return CRYPTO_E_EVP;
	}
	memcpy(out, md, RV_HMAC_LEN);
	secure_wipe(md, sizeof(md));
	return 0;
}

int sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	static const uint8_t empty[1];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!out || (len && !data))
		return CRYPTO_E_ARG;
	if (EVP_Digest(len ? data : empty, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return CRYPTO_E_EVP;
	for (unsigned int i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}
