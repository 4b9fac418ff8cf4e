/*
 * store.c - the recording store on LMDB: one environment, six named
 * databases (calls, callid, chunks, expiry, audit, meta), big-endian keys.
 *
 * Concept: LMDB gives us atomic, durable, copy-on-write transactions with
 * one writer and lock-free readers (also in other processes: the CLI).  We
 * keep its default sync behaviour (fsync/fdatasync on every commit; none of
 * the flags that skip or defer syncs, nor the write map), so a commit that
 * returned 0 survives kill -9 and power loss, and an interrupted write
 * transaction leaves no trace.  The environment is opened with MDB_NOTLS so
 * read transactions are not bound to a thread.
 *
 * Record values: a fixed, versioned big-endian header ("RVH1", 148 bytes,
 * docs/storage-format.md) followed by the sealed metadata (record.h); it is
 * written in place with MDB_RESERVE.  Record ids come from meta "next_id"
 * inside the write transaction, so they are monotonic and never reused,
 * even after deletes.
 *
 * MDB_MAP_FULL (from a put or from the commit) aborts the transaction and is
 * reported as STORE_E_MAP_FULL; store_grow() doubles the map up to map_max.
 *
 * Does NOT: encrypt (callers pass sealed bytes, crypto.h), interpret chunk
 * plaintext, or interpret audit entries (audit.c encodes and chains them;
 * the store only puts and walks the `audit` database).
 */
#include "store.h"
#include "bytes.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#define STORE_FORMAT_VERSION 1u
#define REC_HDR_MAGIC "RVH1"
#define REC_HDR_VERSION 1u
#define REC_HDR_LEN 148u

struct store {
	MDB_env *env;
	MDB_dbi calls, callid, chunks, expiry, audit, meta;
	uint64_t map_size; /* current */
	uint64_t map_max;
	bool grow, ro;
};

struct store_txn {
	struct store *s;
	MDB_txn *txn; /* NULL after MAP_FULL aborted it */
};

struct store_rtxn {
	struct store *s;
	MDB_txn *txn;
};

const char *store_strerror(int code)
{
	switch (code) {
	case STORE_OK:
		return "success";
	case STORE_E_LMDB:
		return "LMDB error";
	case STORE_E_MAP_FULL:
		return "store is full (map size reached; raise the map size or free space with retention)";
	case STORE_E_NOT_FOUND:
		return "not found";
	case STORE_E_CORRUPT:
		return "a stored value does not decode (corrupt store or unsupported format version)";
	case STORE_E_NOMEM:
		return "out of memory";
	case STORE_E_IO:
		return "store directory cannot be created or opened";
	case STORE_E_READONLY:
		return "store is open read-only";
	case STORE_E_EMPTY:
		return "the store holds nothing yet";
	case STORE_E_ARG:
		return "invalid argument to a store function";
	default:
		return "unknown store error";
	}
}

/* ---- byte order ---- */







/* ---- error mapping ---- */

static int map_rc(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_MAP_FULL:
		return STORE_E_MAP_FULL;
	case MDB_NOTFOUND:
		return STORE_E_NOT_FOUND;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_BAD_VALSIZE:
	case MDB_INCOMPATIBLE:
		return STORE_E_CORRUPT;
	case ENOMEM:
		return STORE_E_NOMEM;
	case EACCES:
		return STORE_E_READONLY;
	default:
		fprintf(stderr, "rtpvault: store: %s\n", mdb_strerror(rc));
		return STORE_E_LMDB;
	}
}

/* Every write goes through here: on MAP_FULL the transaction is aborted at
 * once (LMDB marks it failed anyway), so nothing of it can reach disk. */
static int wrc(struct store_txn *t, int rc)
{
	if (rc == MDB_MAP_FULL) {
		mdb_txn_abort(t->txn);
		t->txn = NULL;
	}
	return map_rc(rc);
}

/* ---- open / close ---- */

static int open_dbis(struct store *s)
{
	static const struct {
		const char *name;
		size_t off;
		unsigned flags;
	} dbs[] = {
		{ "calls", offsetof(struct store, calls), 0 },
		{ "callid", offsetof(struct store, callid), MDB_DUPSORT | MDB_DUPFIXED },
		{ "chunks", offsetof(struct store, chunks), 0 },
		{ "expiry", offsetof(struct store, expiry), 0 },
		{ "audit", offsetof(struct store, audit), 0 },
		{ "meta", offsetof(struct store, meta), 0 },
	};
	MDB_txn *txn;
	uint8_t ver[4];
	MDB_val k = { 6, (void *)"format" }, v;
	int rc;

	rc = mdb_txn_begin(s->env, NULL, s->ro ? MDB_RDONLY : 0, &txn);
	if (rc)
		return map_rc(rc);
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		MDB_dbi *d = (MDB_dbi *)((char *)s + dbs[i].off);

		rc = mdb_dbi_open(txn, dbs[i].name, dbs[i].flags | (s->ro ? 0 : MDB_CREATE), d);
		if (rc) {
			mdb_txn_abort(txn);
			/* read-only open of an environment whose first writer
			 * never committed (e.g. killed at once): nothing stored */
			return rc == MDB_NOTFOUND ? STORE_E_EMPTY : map_rc(rc);
		}
	}
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == MDB_NOTFOUND && !s->ro) {
		put_be32(ver, STORE_FORMAT_VERSION);
		v.mv_size = 4;
		v.mv_data = ver;
		rc = mdb_put(txn, s->meta, &k, &v, 0);
	} else if (rc == 0 && (v.mv_size != 4 || get_be32(v.mv_data) != STORE_FORMAT_VERSION)) {
		mdb_txn_abort(txn);
		return STORE_E_CORRUPT;
	}
	if (rc) {
		mdb_txn_abort(txn);
		return rc == MDB_NOTFOUND ? STORE_E_CORRUPT : map_rc(rc);
	}
	/* commit also for a read txn: DBI handles opened in it then stay open */
	rc = mdb_txn_commit(txn);
	return map_rc(rc);
}

static void refresh_map_size(struct store *s)
{
	MDB_envinfo info;

	if (mdb_env_info(s->env, &info) == 0)
		s->map_size = info.me_mapsize;
}

int store_open(const struct store_opts *o, struct store **out)
{
	struct store *s;
	struct stat st;
	int rc;

	if (!o || !out || !o->path || !*o->path)
		return STORE_E_ARG;
	*out = NULL;
	if (!o->readonly && mkdir(o->path, 0700) != 0 && errno != EEXIST)
		return STORE_E_IO;
	if (stat(o->path, &st) != 0 || !S_ISDIR(st.st_mode))
		return STORE_E_IO;
	s = calloc(1, sizeof(*s));
	if (!s)
		return STORE_E_NOMEM;
	s->ro = o->readonly;
	s->grow = o->map_grow;
	s->map_max = o->map_max > o->map_size ? o->map_max : o->map_size;
	rc = mdb_env_create(&s->env);
	if (rc) {
		free(s);
		return map_rc(rc);
	}
	rc = mdb_env_set_maxdbs(s->env, 8);
	if (rc == 0 && o->map_size)
		rc = mdb_env_set_mapsize(s->env, (size_t)o->map_size);
	if (rc == 0)
		rc = mdb_env_open(s->env, o->path, MDB_NOTLS | (s->ro ? MDB_RDONLY : 0), 0600);
	if (rc) {
		mdb_env_close(s->env);
		free(s);
		if (rc == ENOENT || rc == EACCES || rc == ENOTDIR)
			return STORE_E_IO;
		return map_rc(rc);
	}
	/* LMDB raises the map to the data size when the file holds more than
	 * map_size (after an earlier store_grow()).  Round that up to the size
	 * the doubling sequence would have reached, so a reopen leaves head
	 * room like the run that grew it. */
	refresh_map_size(s);
	if (!s->ro && o->map_size && s->map_size > o->map_size) {
		uint64_t want = o->map_size;

		while (want < s->map_size && want <= UINT64_MAX / 2)
			want *= 2;
		if (want > s->map_max)
			want = s->map_max > s->map_size ? s->map_max : s->map_size;
		if (want != s->map_size && mdb_env_set_mapsize(s->env, (size_t)want) == 0)
			refresh_map_size(s);
	}
	if (s->map_max < s->map_size)
		s->map_max = s->map_size;
	rc = open_dbis(s);
	if (rc) {
		mdb_env_close(s->env);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	mdb_env_close(s->env);
	free(s);
}

void store_usage(struct store *s, uint64_t *map_size, uint64_t *used)
{
	MDB_envinfo info;
	MDB_stat st;

	if (map_size)
		*map_size = 0;
	if (used)
		*used = 0;
	if (!s || mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0)
		return;
	if (map_size)
		*map_size = info.me_mapsize;
	if (used)
		*used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
}

int store_grow(struct store *s)
{
	uint64_t want;
	int rc;

	if (!s)
		return STORE_E_ARG;
	if (s->ro)
		return STORE_E_READONLY;
	refresh_map_size(s);
	if (!s->grow || s->map_size >= s->map_max)
		return STORE_E_MAP_FULL;
	want = s->map_size > s->map_max / 2 ? s->map_max : s->map_size * 2;
	rc = mdb_env_set_mapsize(s->env, (size_t)want);
	if (rc)
		return map_rc(rc);
	refresh_map_size(s);
	return 0;
}

/* ---- transactions ---- */

/* Another process grew the map beyond ours: adopt its size and retry once. */
static int begin(struct store *s, unsigned flags, MDB_txn **txn)
{
	int rc = mdb_txn_begin(s->env, NULL, flags, txn);

	if (rc == MDB_MAP_RESIZED) {
		rc = mdb_env_set_mapsize(s->env, 0);
		if (rc == 0)
			rc = mdb_txn_begin(s->env, NULL, flags, txn);
		refresh_map_size(s);
	}
	return map_rc(rc);
}

int store_txn_begin(struct store *s, struct store_txn **t)
{
	struct store_txn *x;
	int rc;

	if (!s || !t)
		return STORE_E_ARG;
	*t = NULL;
	if (s->ro)
		return STORE_E_READONLY;
	x = calloc(1, sizeof(*x));
	if (!x)
		return STORE_E_NOMEM;
	x->s = s;
	rc = begin(s, 0, &x->txn);
	if (rc) {
		free(x);
		return rc;
	}
	*t = x;
	return 0;
}

int store_txn_commit(struct store_txn *t)
{
	int rc;

	if (!t)
		return STORE_E_ARG;
	if (!t->txn) {
		free(t);
		return STORE_E_MAP_FULL;
	}
	rc = mdb_txn_commit(t->txn); /* frees the LMDB txn also on failure */
	free(t);
	return map_rc(rc);
}

void store_txn_abort(struct store_txn *t)
{
	if (!t)
		return;
	if (t->txn)
		mdb_txn_abort(t->txn);
	free(t);
}

int store_read_begin(struct store *s, struct store_rtxn **r)
{
	struct store_rtxn *x;
	int rc;

	if (!s || !r)
		return STORE_E_ARG;
	*r = NULL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return STORE_E_NOMEM;
	x->s = s;
	rc = begin(s, MDB_RDONLY, &x->txn);
	if (rc) {
		free(x);
		return rc;
	}
	*r = x;
	return 0;
}

void store_read_end(struct store_rtxn *r)
{
	if (!r)
		return;
	mdb_txn_abort(r->txn);
	free(r);
}

/* ---- writing ---- */

#define LIVE(t)                                    \
	do {                                       \
		if (!(t))                          \
			return STORE_E_ARG;        \
		if (!(t)->txn)                     \
			return STORE_E_MAP_FULL;   \
	} while (0)

int store_new_record_id(struct store_txn *t, uint64_t *id)
{
	MDB_val k = { 7, (void *)"next_id" }, v;
	MDB_cursor *c;
	uint64_t next = 1;
	uint8_t buf[8];
	int rc;

	LIVE(t);
	if (!id)
		return STORE_E_ARG;
	rc = mdb_get(t->txn, t->s->meta, &k, &v);
	if (rc == 0) {
		if (v.mv_size != 8)
			return STORE_E_CORRUPT;
		next = get_be64(v.mv_data);
	} else if (rc != MDB_NOTFOUND) {
		return wrc(t, rc);
	}
	/* Belt and braces: never below the highest record present. */
	rc = mdb_cursor_open(t->txn, t->s->calls, &c);
	if (rc)
		return wrc(t, rc);
	{
		MDB_val ck, cv;

		rc = mdb_cursor_get(c, &ck, &cv, MDB_LAST);
		mdb_cursor_close(c);
		if (rc == 0 && ck.mv_size == 8 && get_be64(ck.mv_data) >= next)
			next = get_be64(ck.mv_data) + 1;
		else if (rc != 0 && rc != MDB_NOTFOUND)
			return wrc(t, rc);
	}
	if (next == 0 || next == UINT64_MAX)
		return STORE_E_CORRUPT;
	put_be64(buf, next + 1);
	v.mv_size = 8;
	v.mv_data = buf;
	rc = mdb_put(t->txn, t->s->meta, &k, &v, 0);
	if (rc)
		return wrc(t, rc);
	*id = next;
	return 0;
}

static void encode_rec_hdr(const struct store_rec *r, uint32_t sealed_len, uint8_t *p)
{
	memcpy(p, REC_HDR_MAGIC, 4);
	p[4] = REC_HDR_VERSION;
	p[5] = r->consent_state;
	put_be16(p + 6, 0);
	put_be64(p + 8, r->record_id);
	put_be64(p + 16, r->invite_us);
	put_be64(p + 24, r->end_us);
	put_be64(p + 32, r->deadline_us);
	put_be32(p + 40, r->flags);
	put_be32(p + 44, r->kek_id);
	put_be32(p + 48, r->meta_version);
	memcpy(p + 52, r->wrapped_dek, RV_WRAPPED_LEN);
	memcpy(p + 112, r->caller_hmac, RV_HMAC_LEN);
	memcpy(p + 128, r->callee_hmac, RV_HMAC_LEN);
	put_be32(p + 144, sealed_len);
}

/* key: the LMDB key (8 bytes) the value was found under. */
static int decode_rec(const MDB_val *key, const MDB_val *val, struct store_rec *r, const uint8_t **sealed,
		      size_t *len)
{
	const uint8_t *p = val->mv_data;

	if (key->mv_size != 8 || val->mv_size < REC_HDR_LEN || memcmp(p, REC_HDR_MAGIC, 4) != 0 ||
	    p[4] != REC_HDR_VERSION || get_be32(p + 144) != val->mv_size - REC_HDR_LEN ||
	    get_be64(p + 8) != get_be64(key->mv_data))
		return STORE_E_CORRUPT;
	if (r) {
		memset(r, 0, sizeof(*r));
		r->consent_state = p[5];
		r->record_id = get_be64(p + 8);
		r->invite_us = get_be64(p + 16);
		r->end_us = get_be64(p + 24);
		r->deadline_us = get_be64(p + 32);
		r->flags = get_be32(p + 40);
		r->kek_id = get_be32(p + 44);
		r->meta_version = get_be32(p + 48);
		memcpy(r->wrapped_dek, p + 52, RV_WRAPPED_LEN);
		memcpy(r->caller_hmac, p + 112, RV_HMAC_LEN);
		memcpy(r->callee_hmac, p + 128, RV_HMAC_LEN);
	}
	if (sealed)
		*sealed = p + REC_HDR_LEN;
	if (len)
		*len = val->mv_size - REC_HDR_LEN;
	return 0;
}

int store_put_record(struct store_txn *t, const struct store_rec *r, const uint8_t *sealed, size_t len)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	LIVE(t);
	if (!r || (len && !sealed) || len > UINT32_MAX - REC_HDR_LEN)
		return STORE_E_ARG;
	put_be64(kb, r->record_id);
	v.mv_size = REC_HDR_LEN + len;
	v.mv_data = NULL;
	rc = mdb_put(t->txn, t->s->calls, &k, &v, MDB_RESERVE);
	if (rc)
		return wrc(t, rc);
	encode_rec_hdr(r, (uint32_t)len, v.mv_data);
	if (len)
		memcpy((uint8_t *)v.mv_data + REC_HDR_LEN, sealed, len);
	return 0;
}

int store_put_callid(struct store_txn *t, const uint8_t hmac[RV_HMAC_LEN], uint64_t record_id)
{
	uint8_t vb[8];
	MDB_val k = { RV_HMAC_LEN, (void *)hmac }, v = { 8, vb };
	int rc;

	LIVE(t);
	if (!hmac)
		return STORE_E_ARG;
	put_be64(vb, record_id);
	rc = mdb_put(t->txn, t->s->callid, &k, &v, MDB_NODUPDATA);
	if (rc == MDB_KEYEXIST)
		return 0; /* the pair is already there: idempotent */
	return wrc(t, rc);
}

static void chunk_key(uint64_t record_id, uint16_t stream, uint32_t seq, uint8_t key[STORE_CHUNK_KEY_LEN])
{
	put_be64(key, record_id);
	put_be16(key + 8, stream);
	put_be32(key + 10, seq);
}

int store_put_chunk(struct store_txn *t, uint64_t record_id, uint16_t stream, uint32_t seq, const uint8_t *ct,
		    size_t len)
{
	uint8_t kb[STORE_CHUNK_KEY_LEN];
	MDB_val k = { sizeof(kb), kb }, v = { len, (void *)ct };

	LIVE(t);
	if (!ct || len == 0 || len > UINT32_MAX)
		return STORE_E_ARG;
	chunk_key(record_id, stream, seq, kb);
	return wrc(t, mdb_put(t->txn, t->s->chunks, &k, &v, 0));
}

int store_put_expiry(struct store_txn *t, uint64_t deadline_us, uint64_t record_id)
{
	uint8_t kb[16];
	MDB_val k = { 16, kb }, v = { 0, (void *)"" };

	LIVE(t);
	put_be64(kb, deadline_us);
	put_be64(kb + 8, record_id);
	return wrc(t, mdb_put(t->txn, t->s->expiry, &k, &v, 0));
}

int store_del_record(struct store_txn *t, uint64_t record_id)
{
	uint8_t kb[8], ck[STORE_CHUNK_KEY_LEN];
	MDB_val k = { 8, kb }, key, val;
	MDB_cursor *c;
	int rc;

	LIVE(t);
	put_be64(kb, record_id);
	rc = mdb_del(t->txn, t->s->calls, &k, NULL);
	if (rc)
		return wrc(t, rc);
	rc = mdb_cursor_open(t->txn, t->s->chunks, &c);
	if (rc)
		return wrc(t, rc);
	chunk_key(record_id, 0, 0, ck);
	key.mv_size = sizeof(ck);
	key.mv_data = ck;
	rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
	while (rc == 0 && key.mv_size >= 8 && get_be64(key.mv_data) == record_id) {
		rc = mdb_cursor_del(c, 0);
		if (rc)
			break;
		/* re-seek rather than trust the cursor position after a delete */
		key.mv_size = sizeof(ck);
		key.mv_data = ck;
		rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return wrc(t, rc);
	return 0;
}

int store_del_callid(struct store_txn *t, const uint8_t hmac[RV_HMAC_LEN], uint64_t record_id)
{
	uint8_t vb[8];
	MDB_val k = { RV_HMAC_LEN, (void *)hmac }, v = { 8, vb };

	LIVE(t);
	if (!hmac)
		return STORE_E_ARG;
	put_be64(vb, record_id);
	return wrc(t, mdb_del(t->txn, t->s->callid, &k, &v));
}

int store_del_expiry(struct store_txn *t, uint64_t deadline_us, uint64_t record_id)
{
	uint8_t kb[16];
	MDB_val k = { 16, kb };

	LIVE(t);
	put_be64(kb, deadline_us);
	put_be64(kb + 8, record_id);
	return wrc(t, mdb_del(t->txn, t->s->expiry, &k, NULL));
}

/* ---- reading ---- */

int store_get_record(struct store_rtxn *r, uint64_t id, struct store_rec *rec, const uint8_t **sealed,
		     size_t *len)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	if (!r)
		return STORE_E_ARG;
	put_be64(kb, id);
	rc = mdb_get(r->txn, r->s->calls, &k, &v);
	if (rc)
		return map_rc(rc);
	return decode_rec(&k, &v, rec, sealed, len);
}

int store_each_record(struct store_rtxn *r,
		      int (*cb)(void *ctx, const struct store_rec *rec, const uint8_t *sealed, size_t len),
		      void *ctx)
{
	MDB_cursor *c;
	MDB_val k, v;
	struct store_rec rec;
	const uint8_t *sealed;
	size_t len;
	int rc;

	if (!r || !cb)
		return STORE_E_ARG;
	rc = mdb_cursor_open(r->txn, r->s->calls, &c);
	if (rc)
		return map_rc(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		int d = decode_rec(&k, &v, &rec, &sealed, &len);

		if (d) {
			mdb_cursor_close(c);
			return d;
		}
		if (cb(ctx, &rec, sealed, len))
			break;
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : map_rc(rc);
}

int store_find_callid(struct store_rtxn *r, const uint8_t hmac[RV_HMAC_LEN], uint64_t *ids, size_t max,
		      size_t *n)
{
	MDB_cursor *c;
	MDB_val k = { RV_HMAC_LEN, (void *)hmac }, v;
	size_t got = 0;
	int rc;

	if (!r || !hmac || !n || (max && !ids))
		return STORE_E_ARG;
	*n = 0;
	rc = mdb_cursor_open(r->txn, r->s->callid, &c);
	if (rc)
		return map_rc(rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (rc == 0 && got < max) {
		if (v.mv_size != 8) {
			mdb_cursor_close(c);
			return STORE_E_CORRUPT;
		}
		ids[got++] = get_be64(v.mv_data);
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	*n = got;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : map_rc(rc);
}

int store_each_chunk(struct store_rtxn *r, uint64_t record_id,
		     int (*cb)(void *ctx, uint16_t stream, uint32_t seq, const uint8_t *ct, size_t len),
		     void *ctx)
{
	uint8_t kb[STORE_CHUNK_KEY_LEN];
	MDB_cursor *c;
	MDB_val k = { sizeof(kb), kb }, v;
	int rc;

	if (!r || !cb)
		return STORE_E_ARG;
	chunk_key(record_id, 0, 0, kb);
	rc = mdb_cursor_open(r->txn, r->s->chunks, &c);
	if (rc)
		return map_rc(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *p = k.mv_data;

		if (k.mv_size < 8 || get_be64(p) != record_id)
			break;
		if (k.mv_size != STORE_CHUNK_KEY_LEN) {
			mdb_cursor_close(c);
			return STORE_E_CORRUPT;
		}
		if (cb(ctx, get_be16(p + 8), get_be32(p + 10), v.mv_data, v.mv_size))
			break;
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : map_rc(rc);
}

int store_each_expiry(struct store_rtxn *r, int (*cb)(void *ctx, uint64_t deadline_us, uint64_t record_id),
		      void *ctx)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (!r || !cb)
		return STORE_E_ARG;
	rc = mdb_cursor_open(r->txn, r->s->expiry, &c);
	if (rc)
		return map_rc(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 16) {
			mdb_cursor_close(c);
			return STORE_E_CORRUPT;
		}
		if (cb(ctx, get_be64(k.mv_data), get_be64((const uint8_t *)k.mv_data + 8)))
			break;
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : map_rc(rc);
}

/* ---- audit (values are opaque here: audit.c encodes them) ---- */

int store_put_audit(struct store_txn *t, uint64_t seq, const uint8_t *val, size_t len)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v = { len, (void *)val };

	LIVE(t);
	if (!val || !len)
		return STORE_E_ARG;
	put_be64(kb, seq);
	return wrc(t, mdb_put(t->txn, t->s->audit, &k, &v, 0));
}

int store_last_audit(struct store_txn *t, uint64_t *seq, const uint8_t **val, size_t *len)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	LIVE(t);
	*seq = 0;
	*val = NULL;
	*len = 0;
	rc = mdb_cursor_open(t->txn, t->s->audit, &c);
	if (rc)
		return map_rc(rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return map_rc(rc);
	if (k.mv_size != 8)
		return STORE_E_CORRUPT;
	*seq = get_be64(k.mv_data);
	*val = v.mv_data;
	*len = v.mv_size;
	return 0;
}

int store_get_audit(struct store_txn *t, uint64_t seq, const uint8_t **val, size_t *len)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	LIVE(t);
	put_be64(kb, seq);
	rc = mdb_get(t->txn, t->s->audit, &k, &v);
	if (rc == MDB_NOTFOUND)
		return STORE_E_NOT_FOUND;
	if (rc)
		return map_rc(rc);
	*val = v.mv_data;
	*len = v.mv_size;
	return 0;
}

int store_each_audit(struct store_rtxn *r, uint64_t from,
		     int (*cb)(void *ctx, uint64_t seq, size_t key_len, const uint8_t *val, size_t len), void *ctx)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t kb[8];
	int rc;

	if (!r || !cb)
		return STORE_E_ARG;
	rc = mdb_cursor_open(r->txn, r->s->audit, &c);
	if (rc)
		return map_rc(rc);
	put_be64(kb, from);
	k.mv_size = 8;
	k.mv_data = kb;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint64_t seq = k.mv_size == 8 ? get_be64(k.mv_data) : 0;

		if (cb(ctx, seq, k.mv_size, v.mv_data, v.mv_size))
			break;
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : map_rc(rc);
}

/* ---- nonces and AAD ---- */

void store_chunk_aad(uint64_t record_id, uint16_t stream, uint32_t seq, bool final, uint8_t aad[STORE_CHUNK_AAD_LEN])
{
	memcpy(aad, "RVC1", 4);
	chunk_key(record_id, stream, seq, aad + 4);
	aad[4 + STORE_CHUNK_KEY_LEN] = final ? 1 : 0;
}

void store_chunk_nonce(uint16_t stream, uint32_t seq, uint8_t nonce[RV_NONCE_LEN])
{
	memset(nonce, 0, RV_NONCE_LEN);
	nonce[0] = 'C';
	put_be16(nonce + 1, stream);
	put_be32(nonce + 3, seq);
}

void store_meta_nonce(uint32_t meta_version, uint8_t nonce[RV_NONCE_LEN])
{
	memset(nonce, 0, RV_NONCE_LEN);
	nonce[0] = 'M';
	put_be32(nonce + 1, meta_version);
}
