/*
 * writer.c - the LMDB writer thread (see writer.h).
 */
#include "writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "crypto.h"

enum wop_kind { W_RECORD, W_CALLID, W_CHUNK, W_EXPIRY, W_AUDIT, W_RESERVE, W_SYNC };

struct wop {
	enum wop_kind kind;
	uint64_t record_id;
	uint64_t u64;
	uint32_t seq;
	uint16_t stream;
	struct store_rec rec;
	uint8_t hmac[RV_HMAC_LEN];
	uint8_t *buf;
	size_t len;
	/* W_RESERVE / W_SYNC: the producer waits on done */
	bool done;
	int rc;
};

struct writer {
	struct store *s;
	uint64_t interval_us;
	size_t batch;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv_put, cv_get, cv_done;
	struct wop **q;
	size_t cap, head, n;
	bool stop;
	bool full;
	bool grow;
	const struct rv_kek *audit_kek;
	uint32_t audit_uid;
	char audit_user[64];
	struct writer_stats st;
};

static void wop_free(struct wop *o)
{
	/* buffers here are ciphertext, sealed records or audit text: nothing
	 * secret to wipe (plaintext is wiped where it is sealed) */
	free(o->buf);
	free(o);
}

static int apply(struct writer *w, struct store_txn *t, struct wop *o)
{
	switch (o->kind) {
	case W_RECORD:
		return store_put_record(t, &o->rec, o->buf, o->len);
	case W_CALLID:
		return store_put_callid(t, o->hmac, o->record_id);
	case W_CHUNK:
		return store_put_chunk(t, o->record_id, o->stream, o->seq, o->buf, o->len);
	case W_EXPIRY:
		return store_put_expiry(t, o->u64, o->record_id);
	case W_AUDIT:
		return w->audit_kek ? audit_append(t, w->audit_kek, (struct audit_entry *)(void *)o->buf) : 0;
	case W_RESERVE: {
		uint64_t id = 0;
		for (uint64_t i = 0; i < o->u64; i++) {
			int rc = store_new_record_id(t, &id);
			if (rc)
				return rc;
			if (i == 0)
				o->record_id = id;
		}
		return 0;
	}
	case W_SYNC:
		return 0;
	}
	return 0;
}

/* Applies a batch in one transaction; retries after growing the map. */
static void run_batch(struct writer *w, struct wop **b, size_t n)
{
	int rc = STORE_E_MAP_FULL;
	/* Once anything was dropped nothing more is written: a later, smaller
	 * transaction could otherwise commit a record marked complete whose
	 * chunks were in a dropped one. */
	for (int attempt = 0; attempt < 40 && !w->full; attempt++) {
		struct store_txn *t = NULL;
		rc = store_txn_begin(w->s, &t);
		size_t i = 0;
		if (rc == 0) {
			for (; i < n; i++) {
				rc = apply(w, t, b[i]);
				if (rc)
					break;
			}
			if (rc == 0)
				rc = store_txn_commit(t);
			else
				store_txn_abort(t);
		}
		if (rc == STORE_E_MAP_FULL && w->grow && store_grow(w->s) == 0) {
			pthread_mutex_lock(&w->mu);
			w->st.map_grown++;
			pthread_mutex_unlock(&w->mu);
			fprintf(stderr, "rtpvault: store map full, grown\n");
			continue;
		}
		break;
	}
	pthread_mutex_lock(&w->mu);
	if (rc == 0) {
		w->st.commits++;
		w->st.items += n;
		for (size_t i = 0; i < n; i++)
			w->st.bytes += b[i]->len;
	} else if (rc == STORE_E_MAP_FULL) {
		if (!w->full)
			fprintf(stderr, "rtpvault: store is full (map_max reached or map_grow off): "
					"new recordings stop, calls in progress stay incomplete\n");
		w->full = true;
		w->st.map_full_drops += n;
	} else {
		fprintf(stderr, "rtpvault: store write failed: %s (%zu items dropped)\n", store_strerror(rc), n);
		w->st.errors += n;
	}
	pthread_mutex_unlock(&w->mu);
	/* data items are ours to free; a synchronous request belongs to its
	 * waiter, which may free it as soon as it is marked done */
	for (size_t i = 0; i < n; i++)
		if (b[i]->kind != W_RESERVE && b[i]->kind != W_SYNC) {
			wop_free(b[i]);
			b[i] = NULL;
		}
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < n; i++) {
		if (b[i]) {
			b[i]->rc = rc;
			b[i]->done = true;
		}
	}
	pthread_cond_broadcast(&w->cv_done);
	pthread_mutex_unlock(&w->mu);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct wop **b = calloc(w->batch, sizeof(*b));
	if (!b)
		return NULL;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		if (w->n < w->batch && !w->stop) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			uint64_t ns = (uint64_t)ts.tv_nsec + (w->interval_us % 1000000u) * 1000u;
			ts.tv_sec += (time_t)(w->interval_us / 1000000u + ns / 1000000000u);
			ts.tv_nsec = (long)(ns % 1000000000u);
			/* wake early for synchronous requests */
			while (w->n < w->batch && !w->stop) {
				bool urgent = false;
				for (size_t i = 0; i < w->n; i++) {
					enum wop_kind k = w->q[(w->head + i) % w->cap]->kind;
					urgent |= k == W_RESERVE || k == W_SYNC;
				}
				if (urgent)
					break;
				if (pthread_cond_timedwait(&w->cv_get, &w->mu, &ts) == ETIMEDOUT)
					break;
			}
		}
		size_t n = 0;
		while (n < w->batch && w->n) {
			b[n++] = w->q[w->head];
			w->head = (w->head + 1) % w->cap;
			w->n--;
		}
		bool stop = w->stop && w->n == 0 && n == 0;
		pthread_cond_broadcast(&w->cv_put);
		pthread_mutex_unlock(&w->mu);
		if (stop)
			break;
		if (n)
			run_batch(w, b, n);
	}
	free(b);
	return NULL;
}

struct writer *writer_start(struct store *s, const struct rv_config *cfg, char *err, size_t errlen)
{
	struct writer *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->s = s;
	w->interval_us = cfg->storage_commit_interval;
	w->batch = (size_t)cfg->storage_commit_batch;
	w->cap = (size_t)cfg->storage_writer_queue;
	w->grow = cfg->storage_map_grow;
	w->q = calloc(w->cap, sizeof(*w->q));
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv_put, NULL);
	pthread_cond_init(&w->cv_get, NULL);
	pthread_cond_init(&w->cv_done, NULL);
	if (!w->q || pthread_create(&w->th, NULL, writer_main, w) != 0) {
		snprintf(err, errlen, "cannot start the writer thread");
		free(w->q);
		free(w);
		return NULL;
	}
	return w;
}

static void enqueue(struct writer *w, struct wop *o)
{
	pthread_mutex_lock(&w->mu);
	if (w->n == w->cap)
		w->st.queue_waits++;
	while (w->n == w->cap)
		pthread_cond_wait(&w->cv_put, &w->mu);
	w->q[(w->head + w->n) % w->cap] = o;
	w->n++;
	if (w->n >= w->batch || o->kind == W_RESERVE || o->kind == W_SYNC)
		pthread_cond_signal(&w->cv_get);
	pthread_mutex_unlock(&w->mu);
}

static int wait_done(struct writer *w, struct wop *o)
{
	pthread_mutex_lock(&w->mu);
	while (!o->done)
		pthread_cond_wait(&w->cv_done, &w->mu);
	int rc = o->rc;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void writer_sync(struct writer *w)
{
	struct wop *o = calloc(1, sizeof(*o));
	if (!o)
		return;
	o->kind = W_SYNC;
	enqueue(w, o);
	wait_done(w, o);
	free(o);
}

int writer_reserve_ids(struct writer *w, uint32_t n, uint64_t *first)
{
	struct wop *o = calloc(1, sizeof(*o));
	if (!o)
		return STORE_E_NOMEM;
	o->kind = W_RESERVE;
	o->u64 = n;
	enqueue(w, o);
	int rc = wait_done(w, o);
	*first = o->record_id;
	free(o);
	return rc;
}

void writer_stop(struct writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv_get);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	free(w->q);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv_put);
	pthread_cond_destroy(&w->cv_get);
	pthread_cond_destroy(&w->cv_done);
	free(w);
}

bool writer_full(const struct writer *w)
{
	return __atomic_load_n(&w->full, __ATOMIC_RELAXED);
}

void writer_stats(struct writer *w, struct writer_stats *st)
{
	pthread_mutex_lock(&w->mu);
	*st = w->st;
	pthread_mutex_unlock(&w->mu);
}

static struct wop *wop_new(enum wop_kind k, uint64_t record_id)
{
	struct wop *o = calloc(1, sizeof(*o));
	if (o) {
		o->kind = k;
		o->record_id = record_id;
	}
	return o;
}

void writer_put_record(struct writer *w, const struct store_rec *r, uint8_t *sealed, size_t len)
{
	struct wop *o = wop_new(W_RECORD, r->record_id);
	if (!o) {
		free(sealed);
		return;
	}
	o->rec = *r;
	o->buf = sealed;
	o->len = len;
	enqueue(w, o);
}

void writer_put_callid(struct writer *w, const uint8_t hmac[RV_HMAC_LEN], uint64_t record_id)
{
	struct wop *o = wop_new(W_CALLID, record_id);
	if (!o)
		return;
	memcpy(o->hmac, hmac, RV_HMAC_LEN);
	enqueue(w, o);
}

void writer_put_chunk(struct writer *w, uint64_t record_id, uint16_t stream, uint32_t seq, uint8_t *ct, size_t len)
{
	struct wop *o = wop_new(W_CHUNK, record_id);
	if (!o) {
		free(ct);
		return;
	}
	o->stream = stream;
	o->seq = seq;
	o->buf = ct;
	o->len = len;
	enqueue(w, o);
}

void writer_put_expiry(struct writer *w, uint64_t deadline_us, uint64_t record_id)
{
	struct wop *o = wop_new(W_EXPIRY, record_id);
	if (!o)
		return;
	o->u64 = deadline_us;
	enqueue(w, o);
}

void writer_set_audit(struct writer *w, const struct rv_kek *kek, uint32_t uid, const char *user)
{
	w->audit_kek = kek;
	w->audit_uid = uid;
	snprintf(w->audit_user, sizeof(w->audit_user), "%s", user ? user : "");
}

void writer_put_audit(struct writer *w, const char *command, int result, const char *detail)
{
	if (!w->audit_kek)
		return;
	struct wop *o = wop_new(W_AUDIT, 0);
	struct audit_entry *e = calloc(1, sizeof(*e));
	if (!o || !e) {
		free(o);
		free(e);
		return;
	}
	e->uid = w->audit_uid;
	snprintf(e->user, sizeof(e->user), "%s", w->audit_user);
	snprintf(e->command, sizeof(e->command), "%s", command);
	e->result = (uint8_t)result;
	snprintf(e->detail, sizeof(e->detail), "%s", detail ? detail : "{}");
	o->buf = (uint8_t *)e;
	o->len = 0; /* not counted as stored value bytes */
	enqueue(w, o);
}
