/*
 * test_s_audit.c - audit.c and the store's audit functions on real LMDB files:
 * append assigns 1, 2, 3 ...; an intact chain verifies; a changed byte, a
 * deleted entry (middle, first), swapped entries and a truncated tail (with
 * an anchor) are each reported with the first bad sequence number; another
 * key cannot extend the chain; audit_each/audit_head read back what was
 * written.  Tampering is done with store_put_audit and raw LMDB deletes.
 */
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

#include "audit.h"
#include "crypto.h"
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
	const char *base = getenv("RV_TMP");
	snprintf(tmpdir, sizeof(tmpdir), "%s/rv-audit-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static struct store *fresh(void)
{
	snprintf(dbdir, sizeof(dbdir), "%s/db%d", tmpdir, ++dbn);
	struct store_opts o = { .path = dbdir, .map_size = 1 << 22 };
	struct store *s = NULL;
	assert_int_equal(store_open(&o, &s), 0);
	return s;
}

static void make_kek(struct rv_kek *k, uint8_t b)
{
	memset(k, 0, sizeof(*k));
	memset(k->key, b, sizeof(k->key));
	memset(k->audit_key, b ^ 0x5a, sizeof(k->audit_key));
	k->id = b;
}

static uint64_t append(struct store *s, const struct rv_kek *k, const char *cmd)
{
	struct store_txn *t;
	struct audit_entry e;
	memset(&e, 0, sizeof(e));
	e.uid = 1000;
	snprintf(e.user, sizeof(e.user), "alice");
	snprintf(e.command, sizeof(e.command), "%s", cmd);
	snprintf(e.purpose, sizeof(e.purpose), "review");
	snprintf(e.detail, sizeof(e.detail), "{\"call_id\":\"x\"}");
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(audit_append(t, k, &e), 0);
	assert_int_equal(store_txn_commit(t), 0);
	return e.seq;
}

static int verify(struct store *s, const struct rv_kek *k, const char *anchor, uint64_t *bad)
{
	struct store_rtxn *r;
	char msg[256];
	assert_int_equal(store_read_begin(s, &r), 0);
	int rc = audit_verify(r, k, bad, anchor, msg, sizeof(msg));
	store_read_end(r);
	return rc;
}

/* raw value of entry seq (copied) */
static size_t get_raw(struct store *s, uint64_t seq, uint8_t *buf, size_t cap)
{
	struct store_txn *t;
	const uint8_t *v;
	size_t n;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_get_audit(t, seq, &v, &n), 0);
	assert_true(n <= cap);
	memcpy(buf, v, n);
	store_txn_abort(t);
	return n;
}

static void put_raw(struct store *s, uint64_t seq, const uint8_t *buf, size_t n)
{
	struct store_txn *t;
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(store_put_audit(t, seq, buf, n), 0);
	assert_int_equal(store_txn_commit(t), 0);
}

static void del_raw(const char *dir, uint64_t seq)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t kb[8];
	for (int i = 7; i >= 0; i--, seq >>= 8)
		kb[i] = (uint8_t)seq;
	MDB_val k = { 8, kb };
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "audit", 0, &dbi), 0);
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static struct store *six(struct rv_kek *k)
{
	struct store *s = fresh();
	make_kek(k, 7);
	for (uint64_t i = 1; i <= 6; i++)
		assert_int_equal(append(s, k, "show"), i);
	return s;
}

static void test_intact(void **state)
{
	(void)state;
	struct rv_kek k;
	struct store *s = six(&k);
	uint64_t bad = 99;
	assert_int_equal(verify(s, &k, NULL, &bad), 0);
	assert_int_equal(bad, 0);
	struct store_rtxn *r;
	char head[96];
	assert_int_equal(store_read_begin(s, &r), 0);
	assert_int_equal(audit_head(r, head, sizeof(head)), 0);
	store_read_end(r);
	assert_int_equal(strncmp(head, "6:", 2), 0);
	assert_int_equal(verify(s, &k, head, &bad), 0);
	store_close(s);
}

static void test_flip_each(void **state)
{
	(void)state;
	for (uint64_t victim = 1; victim <= 6; victim++) {
		struct rv_kek k;
		struct store *s = six(&k);
		uint8_t buf[2048];
		size_t n = get_raw(s, victim, buf, sizeof(buf));
		buf[(victim * 13) % n] ^= 0x04;
		put_raw(s, victim, buf, n);
		uint64_t bad = 0;
		assert_int_not_equal(verify(s, &k, NULL, &bad), 0);
		assert_int_equal(bad, victim);
		store_close(s);
	}
}

static void test_delete_and_swap(void **state)
{
	(void)state;
	struct rv_kek k;
	uint64_t bad = 0;
	struct store *s = six(&k);
	store_close(s);
	del_raw(dbdir, 3);
	struct store_opts o = { .path = dbdir, .map_size = 1 << 22 };
	assert_int_equal(store_open(&o, &s), 0);
	assert_int_not_equal(verify(s, &k, NULL, &bad), 0);
	assert_int_equal(bad, 3);
	store_close(s);

	s = six(&k);
	uint8_t a[2048], b[2048];
	size_t na = get_raw(s, 4, a, sizeof(a)), nb = get_raw(s, 5, b, sizeof(b));
	put_raw(s, 4, b, nb);
	put_raw(s, 5, a, na);
	assert_int_not_equal(verify(s, &k, NULL, &bad), 0);
	assert_int_equal(bad, 4);
	store_close(s);
}

static void test_truncated_tail_needs_anchor(void **state)
{
	(void)state;
	struct rv_kek k;
	uint64_t bad = 0;
	struct store *s = six(&k);
	struct store_rtxn *r;
	char head[96];
	assert_int_equal(store_read_begin(s, &r), 0);
	assert_int_equal(audit_head(r, head, sizeof(head)), 0);
	store_read_end(r);
	store_close(s);
	del_raw(dbdir, 6);
	del_raw(dbdir, 5);
	struct store_opts o = { .path = dbdir, .map_size = 1 << 22 };
	assert_int_equal(store_open(&o, &s), 0);
	assert_int_equal(verify(s, &k, NULL, &bad), 0); /* consistent without the anchor */
	assert_int_not_equal(verify(s, &k, head, &bad), 0);
	assert_int_equal(bad, 5);
	assert_int_not_equal(verify(s, &k, "3:zz", &bad), 0); /* malformed anchor */
	store_close(s);
}

static void test_other_key_cannot_extend(void **state)
{
	(void)state;
	struct rv_kek k, other;
	struct store *s = six(&k);
	make_kek(&other, 9);
	struct store_txn *t;
	struct audit_entry e;
	memset(&e, 0, sizeof(e));
	snprintf(e.command, sizeof(e.command), "show");
	assert_int_equal(store_txn_begin(s, &t), 0);
	assert_int_equal(audit_append(t, &other, &e), STORE_E_CORRUPT);
	store_txn_abort(t);
	uint64_t bad = 0;
	assert_int_not_equal(verify(s, &other, NULL, &bad), 0);
	assert_int_equal(bad, 1);
	assert_int_equal(verify(s, &k, NULL, &bad), 0);
	store_close(s);
}

static int count_cb(void *ctx, const struct audit_entry *e)
{
	unsigned *n = ctx;
	assert_string_equal(e->user, "alice");
	assert_string_equal(e->purpose, "review");
	assert_int_equal(e->uid, 1000);
	assert_int_equal(e->seq, *n + 3);
	(*n)++;
	return 0;
}

static void test_each_from(void **state)
{
	(void)state;
	struct rv_kek k;
	struct store *s = six(&k);
	struct store_rtxn *r;
	unsigned n = 0;
	assert_int_equal(store_read_begin(s, &r), 0);
	assert_int_equal(audit_each(r, 3, count_cb, &n), 0);
	store_read_end(r);
	assert_int_equal(n, 4);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intact),
		cmocka_unit_test(test_flip_each),
		cmocka_unit_test(test_delete_and_swap),
		cmocka_unit_test(test_truncated_tail_needs_anchor),
		cmocka_unit_test(test_other_key_cannot_extend),
		cmocka_unit_test(test_each_from),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
