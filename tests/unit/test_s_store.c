/*
 * test_s_store.c - store.c and record.c on real LMDB files in a temporary
 * directory: records, Call-ID duplicates, chunk order, expiry order, record
 * ids across reopen and deletes, read-only opens, MAP_FULL with a tiny map
 * (with and without growing), corrupt values, file modes, nonce/AAD layout,
 * and the sealed metadata (roundtrip, binding, tamper, decode limits).
 * The kill -9 crash-consistency test is in test_s_crash.c.
 */
#include <fcntl.h>
#include <ftw.h>
#include <lmdb.h>
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

#include "crypto.h"
#include "record.h"
#include "store.h"

static char tmpdir[512];
static char dbdir[600];
static int dbn;

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

	snprintf(tmpdir, sizeof(tmpdir), "%s/rv-store-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh store directory name for each test (created by store_open). */
static const char *fresh_dir(void)
{
	snprintf(dbdir, sizeof(dbdir), "%s/db%d", tmpdir, ++dbn);
	return dbdir;
}

static struct store *open_store(const char *dir, uint64_t map, bool grow, uint64_t max, bool ro)
{
	struct store_opts o = { .path = dir, .map_size = map, .map_grow = grow, .map_max = max, .readonly = ro };
	struct store *s = NULL;

	assert_int_equal(store_open(&o, &s), 0);
	assert_non_null(s);
	return s;
}

static void fill_rec(struct store_rec *r, uint64_t id)
{
	memset(r, 0, sizeof(*r));
	r->record_id = id;
	r->invite_us = 1700000000000000ull + id;
	r->end_us = r->invite_us + 5000000;
	r->deadline_us = r->end_us + 86400000000ull;
	r->flags = REC_F_COMPLETE | REC_F_AUDIO;
	r->consent_state = 3;
	r->kek_id = 0xdeadbeef;
	r->meta_version = 7;
	for (int i = 0; i < RV_WRAPPED_LEN; i++)
		r->wrapped_dek[i] = (uint8_t)(i + id);
	memset(r->caller_hmac, 0xaa, RV_HMAC_LEN);
	memset(r->callee_hmac, 0xbb, RV_HMAC_LEN);
}

static void test_records(void **state)
{
	const char *dir = fresh_dir();
	struct store *s = open_store(dir, 1 << 20, false, 0, false);
	struct store_txn *t;
	struct store_rtxn *r;
	struct store_rec in, out;
	const uint8_t *sealed;
	size_t len;
	uint8_t blob[300];
	uint64_t id1, id2;
	char p[700];
	struct stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)i;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_new_record_id(t, &id1), 0);
	assert_int_equal(store_new_record_id(t, &id2), 0);
	assert_int_equal(id1, 1);
	assert_int_equal(id2, 2);
	fill_rec(&in, id1);
	assert_int_equal(store_put_record(t, &in, blob, sizeof(blob)), 0);
	fill_rec(&in, id2);
	assert_int_equal(store_put_record(t, &in, NULL, 0), 0);
	assert_int_equal(store_txn_commit(t), 0);

	assert_int_equal(store_read_begin(s, &r), 0);
	assert_int_equal(store_get_record(r, id1, &out, &sealed, &len), 0);
	fill_rec(&in, id1);
	assert_memory_equal(&in, &out, sizeof(in)); /* fill_rec memsets: padding equal too */
	assert_int_equal(len, sizeof(blob));
	assert_memory_equal(sealed, blob, len);
	assert_int_equal(store_get_record(r, id2, &out, &sealed, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(out.record_id, id2);
	assert_int_equal(store_get_record(r, 99, &out, &sealed, &len), STORE_E_NOT_FOUND);
	store_read_end(r);

	/* replace: a rewrite with a new meta_version */
	assert_int_equal(store_txn_begin(s, &t), 0);
	fill_rec(&in, id1);
	in.meta_version = 8;
	in.flags |= REC_F_TRUNCATED;
	assert_int_equal(store_put_record(t, &in, blob, 10), 0);
	assert_int_equal(store_txn_commit(t), 0);
	assert_int_equal(store_read_begin(s, &r), 0);
	assert_int_equal(store_get_record(r, id1, &out, &sealed, &len), 0);
	assert_int_equal(out.meta_version, 8);
	assert_int_equal(out.flags, REC_F_COMPLETE | REC_F_AUDIO | REC_F_TRUNCATED);
	assert_int_equal(len, 10);
	store_read_end(r);

	/* an aborted transaction leaves nothing */
	assert_int_equal(store_txn_begin(s, &t), 0);
	fill_rec(&in, 50);
	assert_int_equal(store_put_record(t, &in, blob, 5), 0);
	store_txn_abort(t);
	assert_int_equal(store_read_begin(s, &r), 0);
	assert_int_equal(store_get_record(r, 50, &out, &sealed, &len), STORE_E_NOT_FOUND);
	store_read_end(r);
	store_close(s);

	/* directory 0700, data file 0600 */
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

struct collect {
	uint64_t ids[64];
	uint16_t streams[64];
	uint32_t seqs[64];
	size_t lens[64];
	size_t n;
	size_t stop_at;
};

static int rec_cb(void *ctx, const struct store_rec *rec, const uint8_t *sealed, size_t len)
{
	struct collect *c = ctx;

	(void)sealed;
	c->ids[c->n] = rec->record_id;
	c->lens[c->n] = len;
	return ++c->n == c->stop_at;
}

static int chunk_cb(void *ctx, uint16_t stream, uint32_t seq, const uint8_t *ct, size_t len)
{
	struct collect *c = ctx;

	assert_int_equal(ct[0], (uint8_t)(stream * 31 + seq));
	c->streams[c->n] = stream;
	c->seqs[c->n] = seq;
	c->lens[c->n] = len;
	return ++c->n == c->stop_at;
}

static int exp_cb(void *ctx, uint64_t deadline, uint64_t id)
{
	struct collect *c = ctx;

	c->ids[c->n] = id;
	c->lens[c->n] = (size_t)deadline;
	return ++c->n == c->stop_at;
}

static void put_chunk(struct store_txn *t, uint64_t id, uint16_t stream, uint32_t seq, size_t len)
{
	static uint8_t buf[STORE_CHUNK_MAX];

	memset(buf, (uint8_t)(stream * 31 + seq), len);
	assert_int_equal(store_put_chunk(t, id, stream, seq, buf, len), 0);
}

static void test_index_chunks_expiry(void **state)
{
	struct store *s = open_store(fresh_dir(), 4 << 20, false, 0, false);
	struct store_txn *t;
	struct store_rtxn *r;
	struct store_rec rec;
	struct collect c;
	uint8_t h1[RV_HMAC_LEN], h2[RV_HMAC_LEN];
	uint64_t ids[8];
	size_t n;

	(void)state;
	memset(h1, 1, sizeof(h1));
	memset(h2, 2, sizeof(h2));
	assert_int_equal(store_txn_begin(s, &t), 0);
	for (uint64_t id = 1; id <= 3; id++) {
		fill_rec(&rec, id);
		assert_int_equal(store_put_record(t, &rec, (const uint8_t *)"x", 1), 0);
	}
	/* a Call-ID that repeats, inserted out of order, one pair twice */
	assert_int_equal(store_put_callid(t, h1, 300), 0);
	assert_int_equal(store_put_callid(t, h1, 2), 0);
	assert_int_equal(store_put_callid(t, h1, 256), 0);
	assert_int_equal(store_put_callid(t, h1, 2), 0);
	assert_int_equal(store_put_callid(t, h2, 1), 0);
	/* chunks out of order, across records: streams 1 and 0, seq > 255 */
	put_chunk(t, 2, 1, 0, 100);
	put_chunk(t, 2, 0, 256, STORE_CHUNK_MAX);
	put_chunk(t, 2, 0, 1, 200);
	put_chunk(t, 2, 0, 0, 300);
	put_chunk(t, 3, 0, 0, 50);
	put_chunk(t, 1, 0, 0, 60);
	put_chunk(t, 2, 1, 1, 101);
	/* expiry: deadline order beats id order; same deadline sorts by id */
	assert_int_equal(store_put_expiry(t, 5000, 3), 0);
	assert_int_equal(store_put_expiry(t, 1000, 9), 0);
	assert_int_equal(store_put_expiry(t, 0x100000000ull, 1), 0);
	assert_int_equal(store_put_expiry(t, 1000, 2), 0);
	assert_int_equal(store_txn_commit(t), 0);

	assert_int_equal(store_read_begin(s, &r), 0);
	assert_int_equal(store_find_callid(r, h1, ids, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[1], 256);
	assert_int_equal(ids[2], 300);
	assert_int_equal(store_find_callid(r, h1, ids, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_find_callid(r, h2, ids, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], 1);
	memset(h2, 3, sizeof(h2));
	assert_int_equal(store_find_callid(r, h2, ids, 8, &n), 0);
	assert_int_equal(n, 0);

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_each_chunk(r, 2, chunk_cb, &c), 0);
	assert_int_equal(c.n, 5);
	{
		static const uint16_t ws[] = { 0, 0, 0, 1, 1 };
		static const uint32_t wq[] = { 0, 1, 256, 0, 1 };
		static const size_t wl[] = { 300, 200, STORE_CHUNK_MAX, 100, 101 };

		for (int i = 0; i < 5; i++) {
			assert_int_equal(c.streams[i], ws[i]);
			assert_int_equal(c.seqs[i], wq[i]);
			assert_int_equal(c.lens[i], wl[i]);
		}
	}
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	assert_int_equal(store_each_chunk(r, 2, chunk_cb, &c), 0);
	assert_int_equal(c.n, 2);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_each_chunk(r, 4, chunk_cb, &c), 0);
	assert_int_equal(c.n, 0);

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_each_expiry(r, exp_cb, &c), 0);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.ids[0], 2);
	assert_int_equal(c.lens[0], 1000);
	assert_int_equal(c.ids[1], 9);
	assert_int_equal(c.ids[2], 3);
	assert_int_equal(c.ids[3], 1);
	assert_int_equal(c.lens[3], 0x100000000ull);

	memset(&c, 0, sizeof(c));
	assert_int_equal(store_each_record(r, rec_cb, &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.ids[0], 1);
	assert_int_equal(c.ids[2], 3);
	store_read_end(r);

	/* deletion: record and its chunks; callid and expiry entries */
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_del_record(t, 2), 0);
	assert_int_equal(store_del_record(t, 2), STORE_E_NOT_FOUND);
	assert_int_equal(store_del_callid(t, h1, 2), 0);
	assert_int_equal(store_del_callid(t, h1, 2), STORE_E_NOT_FOUND);
	assert_int_equal(store_del_expiry(t, 1000, 2), 0);
	assert_int_equal(store_del_expiry(t, 1000, 2), STORE_E_NOT_FOUND);
	assert_int_equal(store_txn_commit(t), 0);
	assert_int_equal(store_read_begin(s, &r), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_each_chunk(r, 2, chunk_cb, &c), 0);
	assert_int_equal(c.n, 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_each_chunk(r, 3, chunk_cb, &c), 0); /* neighbours untouched */
	assert_int_equal(c.n, 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_each_chunk(r, 1, chunk_cb, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(store_find_callid(r, h1, ids, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], 256);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_each_expiry(r, exp_cb, &c), 0);
	assert_int_equal(c.n, 3);
	store_read_end(r);
	store_close(s);
}

static void test_ids_across_reopen(void **state)
{
	const char *dir = fresh_dir();
	struct store *s = open_store(dir, 1 << 20, false, 0, false);
	struct store_txn *t;
	struct store_rec rec;
	uint64_t id, last = 0;

	(void)state;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(store_txn_begin(s, &t), 0);
		assert_int_equal(store_new_record_id(t, &id), 0);
		assert_true(id > last);
		last = id;
		fill_rec(&rec, id);
		assert_int_equal(store_put_record(t, &rec, NULL, 0), 0);
		assert_int_equal(store_txn_commit(t), 0);
	}
	/* delete the newest, then reopen: its id is not handed out again */
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_del_record(t, last), 0);
	assert_int_equal(store_txn_commit(t), 0);
	store_close(s);
	s = open_store(dir, 1 << 20, false, 0, false);
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_new_record_id(t, &id), 0);
	assert_int_equal(id, last + 1);
	store_txn_abort(t);
	/* an aborted id may come back (nothing was stored under it) */
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_new_record_id(t, &id), 0);
	assert_int_equal(id, last + 1);
	assert_int_equal(store_txn_commit(t), 0);
	store_close(s);
	s = open_store(dir, 1 << 20, false, 0, false);
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_new_record_id(t, &id), 0);
	assert_int_equal(id, last + 2);
	store_txn_abort(t);
	store_close(s);
}

static void test_readonly(void **state)
{
	const char *dir = fresh_dir();
	struct store *s = open_store(dir, 1 << 20, false, 0, false);
	struct store *ro;
	struct store_txn *t;
	struct store_rtxn *r;
	struct store_rec rec;
	struct store_opts o = { .path = "/nonexistent/rv-store", .map_size = 1 << 20, .readonly = true };
	const uint8_t *sealed;
	size_t len;

	(void)state;
	assert_int_equal(store_txn_begin(s, &t), 0);
	fill_rec(&rec, 1);
	assert_int_equal(store_put_record(t, &rec, (const uint8_t *)"abc", 3), 0);
	assert_int_equal(store_txn_commit(t), 0);

	/* a reader next to the open writer (as the CLI next to the engine) */
	ro = open_store(dir, 0, false, 0, true);
	assert_int_equal(store_txn_begin(ro, &t), STORE_E_READONLY);
	assert_null(t);
	assert_int_equal(store_grow(ro), STORE_E_READONLY);
	assert_int_equal(store_read_begin(ro, &r), 0);
	assert_int_equal(store_get_record(r, 1, &rec, &sealed, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(sealed, "abc", 3);
	store_read_end(r);
	/* writes of the writer become visible to the reader's next txn */
	assert_int_equal(store_txn_begin(s, &t), 0);
	fill_rec(&rec, 2);
	assert_int_equal(store_put_record(t, &rec, NULL, 0), 0);
	assert_int_equal(store_txn_commit(t), 0);
	assert_int_equal(store_read_begin(ro, &r), 0);
	assert_int_equal(store_get_record(r, 2, &rec, &sealed, &len), 0);
	store_read_end(r);
	store_close(ro);
	store_close(s);

	ro = NULL;
	assert_int_equal(store_open(&o, &ro), STORE_E_IO);
	assert_null(ro);
	o.path = fresh_dir(); /* never created: read-only does not create it */
	assert_int_equal(store_open(&o, &ro), STORE_E_IO);
	assert_int_equal(access(o.path, F_OK), -1);
}

/* Fills the store with 2-page chunks until MAP_FULL; returns chunks committed. */
static int fill_until_full(struct store *s, uint64_t id, int seq0, int *committed)
{
	struct store_txn *t;
	struct store_rec rec;
	int rc = 0;

	*committed = 0;
	for (int i = seq0; i < seq0 + 10000; i++) {
		assert_int_equal(store_txn_begin(s, &t), 0);
		fill_rec(&rec, id);
		rc = store_put_record(t, &rec, (const uint8_t *)"meta", 4);
		if (rc == 0)
			rc = store_put_chunk(t, id, 0, (uint32_t)i, (const uint8_t[STORE_CHUNK_MAX]){ (uint8_t)(i * 31) },
					     STORE_CHUNK_MAX);
		if (rc) {
			/* the txn is dead: every further call says MAP_FULL */
			assert_int_equal(rc, STORE_E_MAP_FULL);
			assert_int_equal(store_put_expiry(t, 1, id), STORE_E_MAP_FULL);
			store_txn_abort(t);
			return rc;
		}
		rc = store_txn_commit(t);
		if (rc)
			return rc;
		++*committed;
	}
	return rc;
}

struct verify {
	int n;
};

static int verify_cb(void *ctx, uint16_t stream, uint32_t seq, const uint8_t *ct, size_t len)
{
	struct verify *v = ctx;

	assert_int_equal(stream, 0);
	assert_int_equal(seq, (uint32_t)v->n);
	assert_int_equal(len, STORE_CHUNK_MAX);
	assert_int_equal(ct[0], (uint8_t)(seq * 31));
	v->n++;
	return 0;
}

static void test_map_full(void **state)
{
	const char *dir = fresh_dir();
	struct store *s = open_store(dir, 64 << 10, false, 0, false);
	struct store_rtxn *r;
	struct verify v = { 0 };
	uint64_t map, used;
	int committed, rc;

	(void)state;
	rc = fill_until_full(s, 1, 0, &committed);
	assert_int_equal(rc, STORE_E_MAP_FULL);
	assert_true(committed > 0);
	assert_int_equal(store_grow(s), STORE_E_MAP_FULL); /* map_grow off */
	store_usage(s, &map, &used);
	assert_int_equal(map, 64 << 10);
	assert_true(used <= map);
	store_close(s);

	/* reopens and everything committed is there and intact */
	s = open_store(dir, 64 << 10, false, 0, false);
	assert_int_equal(store_read_begin(s, &r), 0);
	assert_int_equal(store_get_record(r, 1, NULL, NULL, NULL), 0);
	assert_int_equal(store_each_chunk(r, 1, verify_cb, &v), 0);
	assert_int_equal(v.n, committed);
	store_read_end(r);
	store_close(s);
}

static void test_map_grow(void **state)
{
	const char *dir = fresh_dir();
	struct store *s = open_store(dir, 64 << 10, true, 256 << 10, false);
	struct store_txn *t;
	struct store_rtxn *r;
	struct verify v = { 0 };
	uint64_t map, used;
	int committed, total = 0, grows = 0, rc;

	(void)state;
	for (;;) {
		rc = fill_until_full(s, 1, total, &committed);
		total += committed;
		assert_int_equal(rc, STORE_E_MAP_FULL);
		rc = store_grow(s);
		if (rc)
			break;
		grows++;
		store_usage(s, &map, NULL);
		assert_int_equal(map, (uint64_t)(64 << 10) << grows);
		/* the failed work now fits: one more chunk commits */
		assert_int_equal(store_txn_begin(s, &t), 0);
		assert_int_equal(store_put_chunk(t, 2, 0, (uint32_t)grows, (const uint8_t *)"retry", 5), 0);
		assert_int_equal(store_txn_commit(t), 0);
	}
	assert_int_equal(rc, STORE_E_MAP_FULL);
	assert_int_equal(grows, 2); /* 64 -> 128 -> 256 KiB = map_max */
	store_usage(s, &map, &used);
	assert_int_equal(map, 256 << 10);
	store_close(s);

	/* a reopen with the small configured size keeps the grown map */
	s = open_store(dir, 64 << 10, true, 256 << 10, false);
	store_usage(s, &map, &used);
	assert_int_equal(map, 256 << 10);
	assert_int_equal(store_read_begin(s, &r), 0);
	assert_int_equal(store_each_chunk(r, 1, verify_cb, &v), 0);
	assert_int_equal(v.n, total);
	store_read_end(r);
	store_close(s);
}

static void test_corrupt_value(void **state)
{
	const char *dir = fresh_dir();
	struct store *s = open_store(dir, 1 << 20, false, 0, false);
	struct store_rtxn *r;
	struct store_rec rec;
	const uint8_t *sealed;
	size_t len;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t k[8] = { 0, 0, 0, 0, 0, 0, 0, 5 }, bad[200];
	MDB_val key = { 8, k }, val = { sizeof(bad), bad };

	(void)state;
	store_close(s);
	/* write undecodable values with raw LMDB */
	memset(bad, 0, sizeof(bad));
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "calls", 0, &dbi), 0);
	memcpy(bad, "RVH2", 4); /* bad magic */
	assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
	k[7] = 6; /* good magic, too short */
	memcpy(bad, "RVH1", 4);
	bad[4] = 1;
	val.mv_size = 100;
	assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
	k[7] = 7; /* length field disagrees */
	val.mv_size = 200;
	bad[147] = 10;
	bad[15] = 7;
	assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
	k[7] = 8; /* right length, wrong id inside */
	bad[147] = 52;
	bad[15] = 9;
	assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
	k[7] = 9; /* good */
	bad[15] = 9;
	assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	s = open_store(dir, 1 << 20, false, 0, false);
	assert_int_equal(store_read_begin(s, &r), 0);
	assert_int_equal(store_get_record(r, 5, &rec, &sealed, &len), STORE_E_CORRUPT);
	assert_int_equal(store_get_record(r, 6, &rec, &sealed, &len), STORE_E_CORRUPT);
	assert_int_equal(store_get_record(r, 7, &rec, &sealed, &len), STORE_E_CORRUPT);
	assert_int_equal(store_get_record(r, 8, &rec, &sealed, &len), STORE_E_CORRUPT);
	assert_int_equal(store_get_record(r, 9, &rec, &sealed, &len), 0);
	assert_int_equal(len, 52);
	store_read_end(r);
	store_close(s);
}

static void test_nonce_aad(void **state)
{
	uint8_t aad[STORE_CHUNK_AAD_LEN], n[RV_NONCE_LEN];
	static const uint8_t want_aad[] = { 'R', 'V', 'C', '1', 1, 2, 3, 4, 5, 6, 7, 8, 0xab, 0xcd,
					    0x11, 0x22, 0x33, 0x44, 1 };
	static const uint8_t want_cn[] = { 'C', 0xab, 0xcd, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 0 };
	static const uint8_t want_mn[] = { 'M', 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0 };

	(void)state;
	store_chunk_aad(0x0102030405060708ull, 0xabcd, 0x11223344, true, aad);
	assert_memory_equal(aad, want_aad, sizeof(want_aad));
	store_chunk_aad(0x0102030405060708ull, 0xabcd, 0x11223344, false, aad);
	assert_int_equal(aad[18], 0);
	store_chunk_nonce(0xabcd, 0x11223344, n);
	assert_memory_equal(n, want_cn, sizeof(want_cn));
	store_meta_nonce(0x102, n);
	assert_memory_equal(n, want_mn, sizeof(want_mn));
}

static void make_meta(struct rec_meta *m, int n_streams, const char *json)
{
	memset(m, 0, sizeof(*m));
	m->n_streams = (uint16_t)n_streams;
	for (int i = 0; i < n_streams; i++) {
		struct rec_stream *st = &m->streams[i];

		st->party = (uint8_t)(i & 1);
		st->audio_pt = (uint8_t)i;
		st->event_pt = 101;
		st->flags = 0x5a;
		st->rate = 8000u * (uint32_t)(i + 1);
		snprintf(st->codec, sizeof(st->codec), "codec-%d", i);
		st->src_family = 4;
		st->dst_family = 6;
		memset(st->src, 10 + i, 4);
		memset(st->dst, 0xfe, 16);
		st->sport = (uint16_t)(10000 + i);
		st->dport = 65535;
		st->chunks = 0x01020304u + (uint32_t)i;
		st->packets = 0x0102030405060708ull * (uint64_t)(i + 1);
	}
	m->json = json;
	m->json_len = strlen(json);
}

static void test_meta_roundtrip(void **state)
{
	struct rv_dek dek, dek2;
	struct rec_meta in, out;
	uint8_t *sealed, *plain;
	size_t slen, plen;
	const char *json = "{\"caller\":\"+4930123\",\"callee\":\"+4940456\"}";

	(void)state;
	assert_int_equal(dek_generate(&dek), 0);
	assert_int_equal(dek_generate(&dek2), 0);
	for (int ns = 0; ns <= REC_MAX_STREAMS; ns += 16) {
		make_meta(&in, ns, ns ? json : "");
		assert_int_equal(rec_meta_seal(&dek, 77, 3, &in, &sealed, &slen), 0);
		assert_int_equal(slen, 4 + 2 + (size_t)ns * REC_STREAM_DESC_LEN + 4 + in.json_len + RV_TAG_LEN);
		assert_null(memmem(sealed, slen, "+4930123", 8)); /* nothing personal in clear */
		assert_int_equal(rec_meta_open(&dek, 77, 3, sealed, slen, &out, &plain, &plen), 0);
		assert_int_equal(out.n_streams, ns);
		assert_memory_equal(out.streams, in.streams, sizeof(struct rec_stream) * (size_t)ns);
		assert_int_equal(out.json_len, in.json_len);
		assert_memory_equal(out.json, in.json, in.json_len);
		assert_int_equal(out.json[out.json_len], '\0');
		assert_int_equal(plen, slen - RV_TAG_LEN);
		secure_wipe(plain, plen);
		free(plain);

		/* bound to record id, version, key; every byte authenticated */
		assert_int_equal(rec_meta_open(&dek, 78, 3, sealed, slen, &out, &plain, &plen), CRYPTO_E_AUTH);
		assert_null(plain);
		assert_int_equal(rec_meta_open(&dek, 77, 2, sealed, slen, &out, &plain, &plen), CRYPTO_E_AUTH);
		assert_int_equal(rec_meta_open(&dek2, 77, 3, sealed, slen, &out, &plain, &plen), CRYPTO_E_AUTH);
		sealed[slen / 2] ^= 4;
		assert_int_equal(rec_meta_open(&dek, 77, 3, sealed, slen, &out, &plain, &plen), CRYPTO_E_AUTH);
		sealed[slen / 2] ^= 4;
		assert_int_equal(rec_meta_open(&dek, 77, 3, sealed, slen - 1, &out, &plain, &plen), CRYPTO_E_AUTH);
		assert_int_equal(rec_meta_open(&dek, 77, 3, sealed, 5, &out, &plain, &plen), REC_E_DECODE);
		free(sealed);
	}
	/* too many streams refused on encode */
	make_meta(&in, 1, json);
	in.n_streams = REC_MAX_STREAMS + 1;
	assert_int_equal(rec_meta_seal(&dek, 1, 1, &in, &sealed, &slen), CRYPTO_E_ARG);
	/* a 23-character codec name survives, a longer one is cut to 23 */
	make_meta(&in, 1, json);
	memset(in.streams[0].codec, 'x', 23);
	in.streams[0].codec[23] = '\0';
	assert_int_equal(rec_meta_seal(&dek, 1, 1, &in, &sealed, &slen), 0);
	assert_int_equal(rec_meta_open(&dek, 1, 1, sealed, slen, &out, &plain, &plen), 0);
	assert_string_equal(out.streams[0].codec, in.streams[0].codec);
	free(plain);
	free(sealed);
	dek_wipe(&dek);
	dek_wipe(&dek2);
}

/* Plaintexts that authenticate but do not decode: sealed by hand. */
static void seal_raw(const struct rv_dek *dek, const uint8_t *p, size_t n, uint8_t *out)
{
	uint8_t nonce[RV_NONCE_LEN], aad[16] = { 'R', 'V', 'R', '1', 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1 };

	store_meta_nonce(1, nonce);
	assert_int_equal(aead_seal(dek->key, nonce, aad, sizeof(aad), p, n, out), 0);
}

static void test_meta_decode_limits(void **state)
{
	static uint8_t p[8192], s[8192 + RV_TAG_LEN];
	struct rv_dek dek;
	struct rec_meta m;
	uint8_t *plain;
	size_t plen;

	(void)state;
	assert_int_equal(dek_generate(&dek), 0);
	memset(p, 0, sizeof(p));
	/* well-formed: 0 streams, json "{}" */
	memcpy(p, "RVM1\0\0\0\0\0\2{}", 12);
	seal_raw(&dek, p, 12, s);
	assert_int_equal(rec_meta_open(&dek, 1, 1, s, 12 + RV_TAG_LEN, &m, &plain, &plen), 0);
	assert_int_equal(m.json_len, 2);
	free(plain);
	/* json length one past the end, one short of the end */
	p[9] = 3;
	seal_raw(&dek, p, 12, s);
	assert_int_equal(rec_meta_open(&dek, 1, 1, s, 12 + RV_TAG_LEN, &m, &plain, &plen), REC_E_DECODE);
	assert_null(plain);
	p[9] = 1;
	seal_raw(&dek, p, 12, s);
	assert_int_equal(rec_meta_open(&dek, 1, 1, s, 12 + RV_TAG_LEN, &m, &plain, &plen), REC_E_DECODE);
	/* huge json length (wrap-around attempt) */
	p[6] = 0xff;
	p[7] = 0xff;
	p[8] = 0xff;
	p[9] = 0xff;
	seal_raw(&dek, p, 12, s);
	assert_int_equal(rec_meta_open(&dek, 1, 1, s, 12 + RV_TAG_LEN, &m, &plain, &plen), REC_E_DECODE);
	/* bad magic */
	memcpy(p, "RVM2\0\0\0\0\0\2{}", 12);
	seal_raw(&dek, p, 12, s);
	assert_int_equal(rec_meta_open(&dek, 1, 1, s, 12 + RV_TAG_LEN, &m, &plain, &plen), REC_E_DECODE);
	/* n_streams 65, and 2 streams claimed with only one present */
	memcpy(p, "RVM1\0\x41", 6);
	seal_raw(&dek, p, sizeof(p), s);
	assert_int_equal(rec_meta_open(&dek, 1, 1, s, sizeof(s), &m, &plain, &plen), REC_E_DECODE);
	memcpy(p, "RVM1\0\x02", 6);
	seal_raw(&dek, p, 6 + REC_STREAM_DESC_LEN + 4, s);
	assert_int_equal(rec_meta_open(&dek, 1, 1, s, 6 + REC_STREAM_DESC_LEN + 4 + RV_TAG_LEN, &m, &plain, &plen),
			 REC_E_DECODE);
	/* 1 stream whose codec has no NUL */
	memset(p, 0, sizeof(p));
	memcpy(p, "RVM1\0\x01", 6);
	memset(p + 6 + 8, 'a', 24);
	seal_raw(&dek, p, 6 + REC_STREAM_DESC_LEN + 4, s);
	assert_int_equal(rec_meta_open(&dek, 1, 1, s, 6 + REC_STREAM_DESC_LEN + 4 + RV_TAG_LEN, &m, &plain, &plen),
			 REC_E_DECODE);
	p[6 + 8 + 23] = 0;
	seal_raw(&dek, p, 6 + REC_STREAM_DESC_LEN + 4, s);
	assert_int_equal(rec_meta_open(&dek, 1, 1, s, 6 + REC_STREAM_DESC_LEN + 4 + RV_TAG_LEN, &m, &plain, &plen),
			 0);
	free(plain);
	/* every truncation of a valid plaintext fails cleanly */
	make_meta(&m, 2, "{\"a\":1}");
	{
		uint8_t *sealed;
		size_t slen;

		assert_int_equal(rec_meta_seal(&dek, 1, 1, &m, &sealed, &slen), 0);
		assert_int_equal(rec_meta_open(&dek, 1, 1, sealed, slen, &m, &plain, &plen), 0);
		memcpy(p, plain, plen);
		free(plain);
		for (size_t n = 0; n < plen; n++) {
			size_t pl2;

			seal_raw(&dek, p, n, s);
			assert_int_equal(rec_meta_open(&dek, 1, 1, s, n + RV_TAG_LEN, &m, &plain, &pl2), REC_E_DECODE);
			assert_null(plain);
		}
		free(sealed);
	}
	dek_wipe(&dek);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_index_chunks_expiry),
		cmocka_unit_test(test_ids_across_reopen),
		cmocka_unit_test(test_readonly),
		cmocka_unit_test(test_map_full),
		cmocka_unit_test(test_map_grow),
		cmocka_unit_test(test_corrupt_value),
		cmocka_unit_test(test_nonce_aad),
		cmocka_unit_test(test_meta_roundtrip),
		cmocka_unit_test(test_meta_decode_limits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
