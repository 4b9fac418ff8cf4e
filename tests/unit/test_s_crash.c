/*
 * test_s_crash.c - crash consistency of the store under kill -9.
 *
 * A child process writes complete records in a loop: begin; new record id;
 * record header with a wrapped data key and sealed metadata; three sealed
 * chunks (the last one 2 overflow pages and carrying the final flag);
 * commit; and only AFTER the commit returned it reports the id on a pipe.
 * The parent SIGKILLs it at a random moment, reopens the store and checks
 * that every reported id is fully present and authenticates (record, key,
 * metadata, all chunks), and that every record present at all is whole:
 * nothing reported is lost and nothing half-written is visible.  Repeated
 * 20 times on the same store, so recovery after a kill is itself tested.
 * (kill -9 tests process crashes; power loss relies on LMDB's fsync at
 * commit, which we never disable.)
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto.h"
#include "record.h"
#include "store.h"

#define ROUNDS 20
#define CHUNKS_PER_REC 3

static char tmpdir[512], dbdir[600], keypath[600];

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	(void)state;
	/* under $RV_TMP (make test: build/test-tmp) or /tmp */
	const char *base = getenv("RV_TMP");

	snprintf(tmpdir, sizeof(tmpdir), "%s/rv-crash-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(dbdir, sizeof(dbdir), "%s/db", tmpdir);
	snprintf(keypath, sizeof(keypath), "%s/kek", tmpdir);
	return kek_create(keypath);
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static size_t chunk_len(uint32_t seq)
{
	return seq == CHUNKS_PER_REC - 1 ? STORE_CHUNK_PLAIN_MAX : 100 + seq * 700;
}

static uint8_t chunk_byte(uint64_t id, uint32_t seq, size_t i)
{
	return (uint8_t)(id * 13 + seq * 7 + i);
}

/* One whole record in one transaction.  0 or a negative code. */
static int write_record(struct store *s, const struct rv_kek *kek, uint64_t *out_id)
{
	static uint8_t plain[STORE_CHUNK_PLAIN_MAX], ct[STORE_CHUNK_MAX];
	struct store_txn *t;
	struct store_rec rec;
	struct rv_dek dek;
	struct rec_meta m;
	uint8_t *sealed = NULL, nonce[RV_NONCE_LEN], aad[STORE_CHUNK_AAD_LEN];
	size_t slen;
	char json[64];
	uint64_t id;
	int rc;

	rc = store_txn_begin(s, &t);
	if (rc)
		return rc;
	rc = store_new_record_id(t, &id);
	if (rc)
		goto fail;
	memset(&rec, 0, sizeof(rec));
	rec.record_id = id;
	rec.kek_id = kek->id;
	rec.meta_version = 1;
	rec.flags = REC_F_COMPLETE | REC_F_AUDIO;
	if (dek_generate(&dek) || dek_wrap(kek, &dek, id, rec.wrapped_dek)) {
		rc = -100;
		goto fail;
	}
	memset(&m, 0, sizeof(m));
	m.n_streams = 1;
	m.streams[0].chunks = CHUNKS_PER_REC;
	snprintf(m.streams[0].codec, sizeof(m.streams[0].codec), "PCMA");
	m.json_len = (size_t)snprintf(json, sizeof(json), "{\"id\":%llu}", (unsigned long long)id);
	m.json = json;
	rc = rec_meta_seal(&dek, id, rec.meta_version, &m, &sealed, &slen);
	if (rc == 0)
		rc = store_put_record(t, &rec, sealed, slen);
	free(sealed);
	for (uint32_t seq = 0; rc == 0 && seq < CHUNKS_PER_REC; seq++) {
		size_t n = chunk_len(seq);

		for (size_t i = 0; i < n; i++)
			plain[i] = chunk_byte(id, seq, i);
		store_chunk_nonce(0, seq, nonce);
		store_chunk_aad(id, 0, seq, seq == CHUNKS_PER_REC - 1, aad);
		rc = aead_seal(dek.key, nonce, aad, sizeof(aad), plain, n, ct);
		if (rc == 0)
			rc = store_put_chunk(t, id, 0, seq, ct, n + RV_TAG_LEN);
	}
	dek_wipe(&dek);
	if (rc)
		goto fail;
	rc = store_txn_commit(t);
	if (rc == 0)
		*out_id = id;
	return rc;
fail:
	store_txn_abort(t);
	return rc;
}

static void child(int wfd)
{
	struct store_opts o = { .path = dbdir, .map_size = 64u << 20 };
	struct store *s;
	struct rv_kek kek;
	uint64_t id;

	if (kek_load(keypath, &kek) || store_open(&o, &s))
		_exit(3);
	for (;;) {
		if (write_record(s, &kek, &id))
			_exit(4);
		/* reported only once the commit has returned */
		if (write(wfd, &id, sizeof(id)) != (ssize_t)sizeof(id))
			_exit(5);
	}
}

struct vctx {
	const struct rv_kek *kek;
	struct store_rtxn *r;
	uint64_t id;
	struct rv_dek dek;
	uint32_t next_seq;
	int n_records;
};

static int chunk_cb(void *ctx, uint16_t stream, uint32_t seq, const uint8_t *ct, size_t len)
{
	static uint8_t plain[STORE_CHUNK_MAX];
	struct vctx *v = ctx;
	uint8_t nonce[RV_NONCE_LEN], aad[STORE_CHUNK_AAD_LEN];
	size_t n = chunk_len(seq);

	assert_int_equal(stream, 0);
	assert_int_equal(seq, v->next_seq);
	assert_int_equal(len, n + RV_TAG_LEN);
	store_chunk_nonce(stream, seq, nonce);
	store_chunk_aad(v->id, stream, seq, seq == CHUNKS_PER_REC - 1, aad);
	assert_int_equal(aead_open(v->dek.key, nonce, aad, sizeof(aad), ct, len, plain), 0);
	for (size_t i = 0; i < n; i++)
		if (plain[i] != chunk_byte(v->id, seq, i))
			fail_msg("record %llu chunk %u byte %zu differs", (unsigned long long)v->id, seq, i);
	v->next_seq++;
	return 0;
}

static void verify_record(struct vctx *v, const struct store_rec *rec, const uint8_t *sealed, size_t len)
{
	struct rec_meta m;
	uint8_t *plain;
	size_t plen;
	char want[64];

	v->id = rec->record_id;
	assert_int_equal(rec->kek_id, v->kek->id);
	assert_int_equal(rec->flags, REC_F_COMPLETE | REC_F_AUDIO);
	assert_int_equal(dek_unwrap(v->kek, rec->wrapped_dek, rec->record_id, &v->dek), 0);
	assert_int_equal(rec_meta_open(&v->dek, rec->record_id, rec->meta_version, sealed, len, &m, &plain, &plen), 0);
	snprintf(want, sizeof(want), "{\"id\":%llu}", (unsigned long long)rec->record_id);
	assert_int_equal(m.json_len, strlen(want));
	assert_memory_equal(m.json, want, m.json_len);
	assert_int_equal(m.streams[0].chunks, CHUNKS_PER_REC);
	free(plain);
	v->next_seq = 0;
	assert_int_equal(store_each_chunk(v->r, rec->record_id, chunk_cb, v), 0);
	assert_int_equal(v->next_seq, CHUNKS_PER_REC);
	dek_wipe(&v->dek);
	v->n_records++;
}

static int each_cb(void *ctx, const struct store_rec *rec, const uint8_t *sealed, size_t len)
{
	verify_record(ctx, rec, sealed, len);
	return 0;
}

static void test_kill9(void **state)
{
	struct rv_kek kek;
	uint64_t total_reported = 0, max_reported = 0;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();

	(void)state;
	print_message("crash test seed %u\n", seed);
	srand(seed);
	assert_int_equal(kek_load(keypath, &kek), 0);
	for (int round = 0; round < ROUNDS; round++) {
		struct store_opts o = { .path = dbdir, .map_size = 64u << 20 };
		struct store *s;
		struct store_rtxn *r;
		struct store_rec rec;
		const uint8_t *sealed;
		size_t len;
		struct vctx v;
		int pfd[2], status;
		uint64_t id;
		ssize_t n;
		pid_t pid;
		unsigned reported = 0;

		assert_int_equal(pipe(pfd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			child(pfd[1]);
		}
		close(pfd[1]);
		/* random moment: 0..60 ms, often inside a commit's fsync */
		usleep((useconds_t)(rand() % 60000));
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGKILL);

		assert_int_equal(store_open(&o, &s), 0);
		assert_int_equal(store_read_begin(s, &r), 0);
		memset(&v, 0, sizeof(v));
		v.kek = &kek;
		v.r = r;
		while ((n = read(pfd[0], &id, sizeof(id))) == (ssize_t)sizeof(id)) {
			assert_int_equal(store_get_record(r, id, &rec, &sealed, &len), 0);
			verify_record(&v, &rec, sealed, len);
			assert_true(id > max_reported); /* monotonic across crashes */
			max_reported = id;
			reported++;
		}
		assert_int_equal(n, 0);
		close(pfd[0]);
		/* everything present is whole, reported or not */
		memset(&v, 0, sizeof(v));
		v.kek = &kek;
		v.r = r;
		assert_int_equal(store_each_record(r, each_cb, &v), 0);
		assert_true((uint64_t)v.n_records >= total_reported + reported);
		total_reported += reported;
		store_read_end(r);
		store_close(s);
	}
	print_message("%llu records reported committed over %d kills, all present\n",
		      (unsigned long long)total_reported, ROUNDS);
	assert_true(total_reported > 0);
	kek_wipe(&kek);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill9),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
