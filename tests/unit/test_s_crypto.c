/*
 * test_s_crypto.c - crypto.c: known-answer tests (NIST GCM, RFC 4231 HMAC,
 * RFC 5869-style HKDF recomputed independently, SHA-256 "abc"), DEK wrap
 * binding, tamper detection, and the key-file rules (O_EXCL, permissions,
 * symlinks, size), on real files in a temporary directory.
 */
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto.h"

static char tmpdir[512];

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	chmod(p, 0700);
	return remove(p);
}

static int setup(void **state)
{
	(void)state;
	/* under $RV_TMP (make test: build/test-tmp) or /tmp */
	const char *base = getenv("RV_TMP");

	snprintf(tmpdir, sizeof(tmpdir), "%s/rv-crypto-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void unhex(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void path_in(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
}

/* McGrew & Viega GCM spec, test case 16 (AES-256, 60-byte PT, 20-byte AAD). */
static void test_gcm_kat(void **state)
{
	uint8_t key[32], iv[12], pt[60], aad[20], ct[60], tag[16], out[76], back[60];

	(void)state;
	unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", key, 32);
	unhex("cafebabefacedbaddecaf888", iv, 12);
	unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	      pt, 60);
	unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad, 20);
	unhex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	      "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	      ct, 60);
	unhex("76fc6ece0f4e1768cddf8853bb2d551b", tag, 16);
	assert_int_equal(aead_seal(key, iv, aad, sizeof(aad), pt, sizeof(pt), out), 0);
	assert_memory_equal(out, ct, 60);
	assert_memory_equal(out + 60, tag, 16);
	assert_int_equal(aead_open(key, iv, aad, sizeof(aad), out, sizeof(out), back), 0);
	assert_memory_equal(back, pt, 60);
	/* tampered ciphertext, tag, AAD: CRYPTO_E_AUTH and the output wiped */
	out[5] ^= 1;
	assert_int_equal(aead_open(key, iv, aad, sizeof(aad), out, sizeof(out), back), CRYPTO_E_AUTH);
	for (size_t i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 0);
	out[5] ^= 1;
	out[70] ^= 0x80;
	assert_int_equal(aead_open(key, iv, aad, sizeof(aad), out, sizeof(out), back), CRYPTO_E_AUTH);
	out[70] ^= 0x80;
	aad[0] ^= 1;
	assert_int_equal(aead_open(key, iv, aad, sizeof(aad), out, sizeof(out), back), CRYPTO_E_AUTH);
	aad[0] ^= 1;
	assert_int_equal(aead_open(key, iv, aad, sizeof(aad), out, sizeof(out), back), 0);
	assert_int_equal(aead_open(key, iv, aad, sizeof(aad), out, RV_TAG_LEN - 1, back), CRYPTO_E_ARG);
}

/* Test case 13: all-zero key and IV, empty plaintext: only a tag. */
static void test_gcm_kat_empty(void **state)
{
	uint8_t key[32] = { 0 }, iv[12] = { 0 }, tag[16], out[16];

	(void)state;
	unhex("530f8afbc74536b9a963b4f1c4cb738b", tag, 16);
	assert_int_equal(aead_seal(key, iv, NULL, 0, NULL, 0, out), 0);
	assert_memory_equal(out, tag, 16);
	assert_int_equal(aead_open(key, iv, NULL, 0, out, 16, NULL), 0);
}

/* RFC 4231 cases 1 and 2.  HMAC zero-pads keys to the block size, so a
 * 20- or 4-byte key followed by zeros up to 32 bytes is the same key. */
static void test_hmac_rfc4231(void **state)
{
	struct rv_kek k;
	uint8_t out[RV_HMAC_LEN], want[32];

	(void)state;
	memset(&k, 0, sizeof(k));
	memset(k.index_key, 0x0b, 20);
	unhex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", want, 32);
	assert_int_equal(index_hmac(&k, "Hi There", 8, out), 0);
	assert_memory_equal(out, want, RV_HMAC_LEN);

	memset(&k, 0, sizeof(k));
	memcpy(k.index_key, "Jefe", 4);
	unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", want, 32);
	assert_int_equal(index_hmac(&k, "what do ya want for nothing?", 28, out), 0);
	assert_memory_equal(out, want, RV_HMAC_LEN);
}

static void test_sha256_hex(void **state)
{
	char hex[65];

	(void)state;
	assert_int_equal(sha256_hex("abc", 3, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(sha256_hex(NULL, 0, hex), 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* HKDF-SHA256 recomputed from RFC 5869 sec. 2.2/2.3 with plain HMAC:
 * PRK = HMAC(0^32, IKM); OKM = T(1) = HMAC(PRK, info || 0x01). */
static void hkdf_ref(const uint8_t ikm[32], const char *info, uint8_t okm[32])
{
	uint8_t zero[32] = { 0 }, prk[32], msg[64];
	unsigned int l = 0;
	size_t il = strlen(info);

	assert_non_null(HMAC(EVP_sha256(), zero, 32, ikm, 32, prk, &l));
	memcpy(msg, info, il);
	msg[il] = 1;
	assert_non_null(HMAC(EVP_sha256(), prk, 32, msg, il + 1, okm, &l));
}

static void test_kek_create_load(void **state)
{
	char p[700], hex[65];
	struct rv_kek k, k2;
	struct stat st;
	uint8_t want[32];
	uint32_t id;

	(void)state;
	path_in(p, sizeof(p), "keys/sub/kek"); /* parent directories created 0700 */
	assert_int_equal(kek_create(p), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0400);
	assert_int_equal(st.st_size, 32);
	path_in(p, sizeof(p), "keys/sub");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	path_in(p, sizeof(p), "keys/sub/kek");
	assert_int_equal(kek_create(p), CRYPTO_E_KEYFILE_EXISTS);
	assert_int_equal(kek_load(p, &k), 0);
	assert_int_equal(kek_load(p, &k2), 0); /* the refused create left the key alone */
	assert_memory_equal(k.key, k2.key, 32);
	assert_int_equal(sha256_hex(k.key, 32, hex), 0);
	assert_int_equal(sscanf(hex, "%8x", &id), 1);
	assert_int_equal(k.id, id);
	hkdf_ref(k.key, "rtpvault index v1", want);
	assert_memory_equal(k.index_key, want, 32);
	hkdf_ref(k.key, "rtpvault audit v1", want);
	assert_memory_equal(k.audit_key, want, 32);
	assert_memory_not_equal(k.index_key, k.audit_key, 32);
	kek_wipe(&k);
	for (size_t i = 0; i < 32; i++)
		assert_int_equal(k.key[i], 0);
	kek_wipe(&k2);
}

static void write_file(const char *p, size_t n, mode_t mode)
{
	uint8_t buf[64] = { 1, 2, 3 };
	int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
	assert_int_equal(chmod(p, mode), 0);
}

static void test_kek_load_refuses(void **state)
{
	static const mode_t bad[] = { 0440, 0404, 0644, 0410, 0401, 0600 | 020 };
	char p[700], l[700];
	struct rv_kek k;

	(void)state;
	path_in(p, sizeof(p), "k1");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(p, 32, bad[i]);
		assert_int_equal(kek_load(p, &k), CRYPTO_E_KEYFILE_PERMS);
	}
	write_file(p, 32, 0600); /* owner-only is fine */
	assert_int_equal(kek_load(p, &k), 0);
	write_file(p, 31, 0400);
	assert_int_equal(kek_load(p, &k), CRYPTO_E_KEYFILE_SIZE);
	write_file(p, 33, 0400);
	assert_int_equal(kek_load(p, &k), CRYPTO_E_KEYFILE_SIZE);
	write_file(p, 0, 0400);
	assert_int_equal(kek_load(p, &k), CRYPTO_E_KEYFILE_SIZE);
	write_file(p, 32, 0400);
	path_in(l, sizeof(l), "link");
	assert_int_equal(symlink(p, l), 0);
	assert_int_equal(kek_load(l, &k), CRYPTO_E_KEYFILE_PERMS);
	path_in(l, sizeof(l), "missing");
	assert_int_equal(kek_load(l, &k), CRYPTO_E_KEYFILE_MISSING);
	path_in(l, sizeof(l), "dir");
	assert_int_equal(mkdir(l, 0700), 0);
	assert_int_equal(kek_load(l, &k), CRYPTO_E_KEYFILE_PERMS);
	path_in(l, sizeof(l), "fifo");
	assert_int_equal(mkfifo(l, 0600), 0);
	assert_int_equal(kek_load(l, &k), CRYPTO_E_KEYFILE_PERMS);
	/* kek_create never follows a symlink to create or overwrite */
	path_in(l, sizeof(l), "link");
	assert_int_equal(kek_create(l), CRYPTO_E_KEYFILE_EXISTS);
	kek_wipe(&k);
	assert_string_equal(crypto_strerror(CRYPTO_E_KEYFILE_PERMS),
			    "key file is not a regular file or is readable by group or others "
			    "(must be a plain file, not a symlink; chmod 0400)");
}

static void load_new_kek(const char *name, struct rv_kek *k)
{
	char p[700];

	path_in(p, sizeof(p), name);
	assert_int_equal(kek_create(p), 0);
	assert_int_equal(kek_load(p, k), 0);
}

static void test_dek_wrap(void **state)
{
	struct rv_kek k, k2;
	struct rv_dek d, d2;
	uint8_t w[RV_WRAPPED_LEN], w2[RV_WRAPPED_LEN];

	(void)state;
	load_new_kek("wk1", &k);
	load_new_kek("wk2", &k2);
	assert_int_equal(dek_generate(&d), 0);
	assert_int_equal(dek_wrap(&k, &d, 42, w), 0);
	assert_int_equal(dek_unwrap(&k, w, 42, &d2), 0);
	assert_memory_equal(d.key, d2.key, RV_KEY_LEN);
	/* a fresh random nonce each time */
	assert_int_equal(dek_wrap(&k, &d, 42, w2), 0);
	assert_memory_not_equal(w, w2, RV_NONCE_LEN);
	/* wrong record id, wrong KEK, same key bytes under another KEK id */
	assert_int_equal(dek_unwrap(&k, w, 43, &d2), CRYPTO_E_AUTH);
	assert_int_equal(dek_unwrap(&k2, w, 42, &d2), CRYPTO_E_AUTH);
	memcpy(k2.key, k.key, RV_KEY_LEN);
	k2.id = k.id ^ 1;
	assert_int_equal(dek_unwrap(&k2, w, 42, &d2), CRYPTO_E_AUTH);
	for (size_t i = 0; i < RV_KEY_LEN; i++)
		assert_int_equal(d2.key[i], 0);
	/* every single flipped byte of the wrapped key is detected */
	for (size_t i = 0; i < RV_WRAPPED_LEN; i++) {
		w[i] ^= 0x40;
		assert_int_equal(dek_unwrap(&k, w, 42, &d2), CRYPTO_E_AUTH);
		w[i] ^= 0x40;
	}
	assert_int_equal(dek_unwrap(&k, w, 42, &d2), 0);
	dek_wipe(&d);
	dek_wipe(&d2);
	kek_wipe(&k);
	kek_wipe(&k2);
}

static void test_seal_roundtrip_sizes(void **state)
{
	static uint8_t in[9000], out[9000 + RV_TAG_LEN], back[9000];
	uint8_t key[32], nonce[12] = { 'C' };
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 1000, 8160, 9000 };

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7);
	memset(key, 0x33, sizeof(key));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];

		assert_int_equal(aead_seal(key, nonce, (const uint8_t *)"aad", 3, in, n, out), 0);
		assert_int_equal(aead_open(key, nonce, (const uint8_t *)"aad", 3, out, n + RV_TAG_LEN, back), 0);
		if (n)
			assert_memory_equal(in, back, n);
		/* in-place open */
		assert_int_equal(aead_open(key, nonce, (const uint8_t *)"aad", 3, out, n + RV_TAG_LEN, out), 0);
		if (n)
			assert_memory_equal(in, out, n);
	}
	assert_string_equal(crypto_strerror(CRYPTO_E_AUTH),
			    "authentication failed: data was tampered with, or the wrong key or record was used");
}

/* The reusable context seals exactly like aead_seal, also after re-keying. */
static void test_aead_ctx_matches(void **state)
{
	(void)state;
	struct aead *a = aead_new();
	assert_non_null(a);
	uint8_t key[RV_KEY_LEN], nonce[RV_NONCE_LEN], aad[19], in[1000], o1[1000 + RV_TAG_LEN], o2[1000 + RV_TAG_LEN];
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(key); i++)
			key[i] = (uint8_t)(i * 7 + round);
		for (size_t i = 0; i < sizeof(nonce); i++)
			nonce[i] = (uint8_t)(i + 3 * round);
		for (size_t i = 0; i < sizeof(aad); i++)
			aad[i] = (uint8_t)(i ^ round);
		for (size_t i = 0; i < sizeof(in); i++)
			in[i] = (uint8_t)(i * 13 + round);
		size_t len = 100 + (size_t)round * 300;
		assert_int_equal(aead_seal(key, nonce, aad, sizeof(aad), in, len, o1), 0);
		assert_int_equal(aead_seal_ctx(a, key, nonce, aad, sizeof(aad), in, len, o2), 0);
		assert_memory_equal(o1, o2, len + RV_TAG_LEN);
		uint8_t back[1000];
		assert_int_equal(aead_open(key, nonce, aad, sizeof(aad), o2, len + RV_TAG_LEN, back), 0);
		assert_memory_equal(back, in, len);
	}
	assert_int_equal(aead_seal_ctx(NULL, key, nonce, aad, sizeof(aad), in, 10, o2), CRYPTO_E_ARG);
	aead_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aead_ctx_matches),
		cmocka_unit_test(test_gcm_kat),
		cmocka_unit_test(test_gcm_kat_empty),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_sha256_hex),
		cmocka_unit_test(test_kek_create_load),
		cmocka_unit_test(test_kek_load_refuses),
		cmocka_unit_test(test_dek_wrap),
		cmocka_unit_test(test_seal_roundtrip_sizes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
