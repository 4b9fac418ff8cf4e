/*
 * pipeline.c - call control and workers over rings (see pipeline.h).
 */
#include "pipeline.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if RV_HAVE_DPDK

#include <sched.h>
#include <unistd.h>

#include "ring.h"

enum unit_kind { U_SIP = 1, U_MEDIA, U_TICK, U_FINISH };

/* One hand-off, copied by value through the ring. */
struct unit {
	uint8_t kind;
	uint8_t copied;     /* data is our malloc'd copy: the worker frees it */
	uint16_t sport, dport;
	uint32_t len;
	uint64_t ts;
	uint64_t hk_seq;    /* call control's housekeeping round before this unit */
	uint64_t hk_ts;     /* ... and its capture time */
	const uint8_t *data;
	void *owner;        /* frame owner to release after the unit (zero-copy) */
	struct ip_addr src, dst;
};

/* Counters only the workers keep (call control does not look into RTP
 * payloads: telephone-events and in-band DTMF are the workers'). */
static const int worker_counters[] = { C_rtp_events,  C_rtp_non_dtmf_events,     C_dtmf_rfc4733,
				       C_dtmf_inband, C_dtmf_inband_suppressed, C_dtmf_dropped };
#define N_WORKER_COUNTERS (sizeof(worker_counters) / sizeof(worker_counters[0]))

struct pworker {
	struct rv_ring *ring;
	struct engine *e;
	uint64_t last_hk_seq;
	/* written by the worker, read by anyone */
	atomic_bool finished;
	atomic_uint_fast64_t wc[N_WORKER_COUNTERS];
	atomic_uint_fast64_t done, streams_full, calls;
	/* written by call control */
	uint64_t units, waits;
};

struct pipeline {
	struct rv_config wcfg;      /* the workers' copy: per-worker shares of the totals */
	unsigned n;
	struct pworker *w;
	struct engine *ctl;
	void (*release)(void *owner);
	bool stable;
	/* the frame call control is processing */
	const uint8_t *cur;
	uint32_t cur_len;
	void *cur_owner;
	bool owner_taken;
	/* the unit that took cur_owner: sent only once call control is done
	 * with the frame (the worker frees it, and the mbuf is then reused) */
	struct unit held;
	unsigned held_w;
	uint64_t hk_seq, hk_ts;
	uint64_t last_bcast_us;
};

#define TICK_BCAST_US 250000u

static void push(struct pipeline *pl, unsigned w, const struct unit *u)
{
	struct pworker *pw = &pl->w[w];
	pw->units++;
	if (rv_ring_put(pw->ring, u))
		return;
	pw->waits++;
	/* the worker is behind: it needs the CPU more than we do (on a machine
	 * with fewer cores than threads, spinning here starves it) */
	unsigned spins = 0;
	while (!rv_ring_put(pw->ring, u)) {
		if (++spins <= 64)
			continue;
		if (spins <= 96)
			sched_yield();
		else
			usleep(20);
	}
}

static void unit_fill(struct pipeline *pl, struct unit *u, uint8_t kind, uint64_t ts)
{
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	u->ts = ts;
	u->hk_seq = pl->hk_seq;
	u->hk_ts = pl->hk_ts;
}

static bool in_frame(const struct pipeline *pl, const uint8_t *p, size_t len)
{
	return pl->cur && p >= pl->cur && len <= pl->cur_len && (size_t)(p - pl->cur) <= pl->cur_len - len;
}

/* Points u at p..p+len: the frame itself when possible, else a copy. */
static bool unit_data(struct pipeline *pl, struct unit *u, const uint8_t *p, size_t len, bool may_take)
{
	u->len = (uint32_t)len;
	if (in_frame(pl, p, len)) {
		if (pl->stable) {
			u->data = p;
			return true;
		}
		if (may_take && pl->cur_owner && !pl->owner_taken) {
			u->data = p;
			u->owner = pl->cur_owner;
			pl->owner_taken = true;
			return true;
		}
	}
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return false;
	memcpy(copy, p, len);
	u->data = copy;
	u->copied = 1;
	return true;
}

/* Hands bytes p..p+len between src and dst to the worker owning Call-ID
 * hash h (a datagram may travel zero-copy with its frame, see unit_data). */
static void route(struct pipeline *pl, uint8_t kind, uint64_t h, const uint8_t *p, size_t len,
		  const struct ip_addr *src, uint16_t sport, const struct ip_addr *dst, uint16_t dport, uint64_t ts)
{
	struct unit u;
	unit_fill(pl, &u, kind, ts);
	u.src = *src;
	u.dst = *dst;
	u.sport = sport;
	u.dport = dport;
	if (!unit_data(pl, &u, p, len, kind == U_MEDIA))
		return;
	if (u.owner) {
		pl->held = u;
		pl->held_w = (unsigned)(h % pl->n);
	} else {
		push(pl, (unsigned)(h % pl->n), &u);
	}
}

static void route_sip(void *ctx, uint64_t h, const uint8_t *msg, size_t len, const struct ip_addr *src,
		      uint16_t sport, const struct ip_addr *dst, uint16_t dport, uint64_t ts)
{
	route(ctx, U_SIP, h, msg, len, src, sport, dst, dport, ts);
}

static void route_media(void *ctx, uint64_t h, const struct pkt *p, uint64_t ts)
{
	route(ctx, U_MEDIA, h, p->payload, p->payload_len, &p->src, p->sport, &p->dst, p->dport, ts);
}

static const struct engine_router router = { route_sip, route_media };

struct pipeline *pipeline_new(const struct rv_config *cfg, unsigned n, const struct engine_sink *sink,
			      void *const *sink_ctx, void (*release)(void *owner), bool stable_frames, char *err,
			      size_t errlen)
{
	if (n < 1 || n > PIPELINE_MAX_WORKERS) {
		snprintf(err, errlen, "pipeline: %u workers (1..%d)", n, PIPELINE_MAX_WORKERS);
		return NULL;
	}
	struct pipeline *pl = calloc(1, sizeof(*pl));
	if (!pl) {
		snprintf(err, errlen, "pipeline: out of memory");
		return NULL;
	}
	pl->wcfg = *cfg;
	pl->wcfg.consent_max_pending_total = cfg->consent_max_pending_total / n;
	pl->n = n;
	pl->release = release;
	pl->stable = stable_frames;
	pl->w = calloc(n, sizeof(*pl->w));
	pl->ctl = engine_new(cfg, sink, NULL);
	if (!pl->w || !pl->ctl)
		goto oom;
	engine_set_router(pl->ctl, &router, pl);
	for (unsigned i = 0; i < n; i++) {
		struct pworker *pw = &pl->w[i];
		char name[32];
		snprintf(name, sizeof(name), "rv_work%u", i);
		pw->ring = rv_ring_new(name, sizeof(struct unit), (unsigned)cfg->dpdk_ring_size);
		pw->e = engine_new(&pl->wcfg, sink, sink_ctx[i]);
		if (!pw->ring || !pw->e)
			goto oom;
	}
	return pl;
oom:
	snprintf(err, errlen, "pipeline: out of memory (%u workers, rings of %lld)", n,
		 (long long)cfg->dpdk_ring_size);
	pipeline_free(pl);
	return NULL;
}

static void unit_done(struct pipeline *pl, struct unit *u)
{
	if (u->copied)
		free((void *)(uintptr_t)u->data);
	else if (u->owner && pl->release)
		pl->release(u->owner);
}

void pipeline_free(struct pipeline *pl)
{
	if (!pl)
		return;
	for (unsigned i = 0; pl->w && i < pl->n; i++) {
		struct pworker *pw = &pl->w[i];
		if (pw->ring) {
			struct unit u[32];
			unsigned k;
			while ((k = rv_ring_get(pw->ring, u, 32)) > 0)
				for (unsigned j = 0; j < k; j++)
					unit_done(pl, &u[j]);
		}
		engine_free(pw->e);
		rv_ring_free(pw->ring);
	}
	engine_free(pl->ctl);
	free(pl->w);
	free(pl);
}

unsigned pipeline_workers(const struct pipeline *pl)
{
	return pl->n;
}

void pipeline_set_link(struct pipeline *pl, enum dec_link link)
{
	engine_set_link(pl->ctl, link);
}

static void broadcast(struct pipeline *pl, uint8_t kind)
{
	struct unit u;
	unit_fill(pl, &u, kind, pl->hk_ts);
	for (unsigned i = 0; i < pl->n; i++)
		push(pl, i, &u);
	pl->last_bcast_us = pl->hk_ts;
}

/* After call control ran its timers at now: the next units carry a new
 * housekeeping round; workers that got nothing for a while hear a tick. */
static void after_housekeeping(struct pipeline *pl)
{
	pl->hk_seq++;
	pl->hk_ts = engine_now(pl->ctl);
	if (pl->hk_ts >= pl->last_bcast_us + TICK_BCAST_US)
		broadcast(pl, U_TICK);
}

bool pipeline_frame(struct pipeline *pl, uint64_t ts, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
		    void *owner)
{
	pl->cur = frame;
	pl->cur_len = caplen;
	pl->cur_owner = owner;
	pl->owner_taken = false;
	engine_packet(pl->ctl, ts, frame, caplen, wirelen);
	pl->cur = NULL;
	pl->cur_owner = NULL;
	/* a frame is one datagram: its unit is the frame's only one, so
	 * sending it last keeps the order */
	if (pl->owner_taken)
		push(pl, pl->held_w, &pl->held);
	after_housekeeping(pl);
	return pl->owner_taken;
}

void pipeline_tick(struct pipeline *pl, uint64_t now_us)
{
	engine_tick(pl->ctl, now_us);
	after_housekeeping(pl);
}

void pipeline_finish(struct pipeline *pl)
{
	engine_finish(pl->ctl);
	broadcast(pl, U_FINISH);
}

bool pipeline_worker_finished(const struct pipeline *pl, unsigned w)
{
	return atomic_load_explicit(&pl->w[w].finished, memory_order_acquire);
}

bool pipeline_done(const struct pipeline *pl)
{
	for (unsigned i = 0; i < pl->n; i++)
		if (!pipeline_worker_finished(pl, i))
			return false;
	return true;
}


static void publish(struct pworker *pw)
{
	struct rv_counters c;
	engine_counters(pw->e, &c);
	for (size_t i = 0; i < N_WORKER_COUNTERS; i++)
		atomic_store_explicit(&pw->wc[i], c.c[worker_counters[i]], memory_order_relaxed);
	atomic_store_explicit(&pw->streams_full, c.c[C_streams_table_full], memory_order_relaxed);
	atomic_store_explicit(&pw->calls, c.c[C_calls_created], memory_order_relaxed);
}

unsigned pipeline_work(struct pipeline *pl, unsigned w, unsigned max)
{
	struct pworker *pw = &pl->w[w];
	struct unit u[32];
	if (max > 32)
		max = 32;
	unsigned k = rv_ring_get(pw->ring, u, max);
	bool fin = false;
	for (unsigned i = 0; i < k; i++) {
		struct unit *x = &u[i];
		if (x->hk_seq != pw->last_hk_seq) {
			/* the timers call control ran before this unit's frame */
			engine_tick(pw->e, x->hk_ts);
			pw->last_hk_seq = x->hk_seq;
		}
		switch (x->kind) {
		case U_SIP:
			engine_sip_unit(pw->e, x->ts, x->data, x->len, &x->src, x->sport, &x->dst, x->dport);
			break;
		case U_MEDIA: {
			struct pkt p;
			memset(&p, 0, sizeof(p));
			p.proto = DEC_IPPROTO_UDP;
			p.ipver = x->src.family == 6 ? 6 : 4;
			p.src = x->src;
			p.dst = x->dst;
			p.sport = x->sport;
			p.dport = x->dport;
			p.payload = x->data;
			p.payload_len = x->len;
			engine_media_unit(pw->e, x->ts, &p);
			break;
		}
		case U_TICK:
			break;
		case U_FINISH:
			engine_finish(pw->e);
			fin = true;
			break;
		default:
			break;
		}
		unit_done(pl, x);
	}
	if (k) {
		atomic_fetch_add_explicit(&pw->done, k, memory_order_relaxed);
		publish(pw);
	}
	if (fin) /* last: the pipeline may be freed once every worker has finished */
		atomic_store_explicit(&pw->finished, true, memory_order_release);
	return k;
}

void pipeline_counters(const struct pipeline *pl, struct rv_counters *out)
{
	engine_counters(pl->ctl, out);
	for (size_t k = 0; k < N_WORKER_COUNTERS; k++) {
		uint64_t v = 0;
		for (unsigned i = 0; i < pl->n; i++)
			v += atomic_load_explicit(&pl->w[i].wc[k], memory_order_relaxed);
		out->c[worker_counters[k]] = v;
	}
}

void pipeline_worker_stats(const struct pipeline *pl, unsigned w, struct pipeline_wstats *st)
{
	const struct pworker *pw = &pl->w[w];
	st->units = pw->units;
	st->waits = pw->waits;
	st->done = atomic_load_explicit(&pw->done, memory_order_relaxed);
	st->streams_full = atomic_load_explicit(&pw->streams_full, memory_order_relaxed);
	st->calls = atomic_load_explicit(&pw->calls, memory_order_relaxed);
}

#else /* !RV_HAVE_DPDK */

struct pipeline {
	int unused;
};

struct pipeline *pipeline_new(const struct rv_config *cfg, unsigned n, const struct engine_sink *sink,
			      void *const *sink_ctx, void (*release)(void *owner), bool stable_frames, char *err,
			      size_t errlen)
{
	(void)cfg;
	(void)n;
	(void)sink;
	(void)sink_ctx;
	(void)release;
	(void)stable_frames;
	snprintf(err, errlen, "more than one worker needs a build with DPDK (this one was built with DPDK=0)");
	return NULL;
}

/* Never reached: pipeline_new() never returns one in this build. */
void pipeline_free(struct pipeline *pl)
{
	free(pl);
}
unsigned pipeline_workers(const struct pipeline *pl)
{
	(void)pl;
	return 0;
}
void pipeline_set_link(struct pipeline *pl, enum dec_link link)
{
	(void)pl;
	(void)link;
}
bool pipeline_frame(struct pipeline *pl, uint64_t ts, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
		    void *owner)
{
	(void)pl, (void)ts, (void)frame, (void)caplen, (void)wirelen, (void)owner;
	return false;
}
void pipeline_tick(struct pipeline *pl, uint64_t now_us)
{
	(void)pl, (void)now_us;
}
void pipeline_finish(struct pipeline *pl)
{
	(void)pl;
}
bool pipeline_done(const struct pipeline *pl)
{
	(void)pl;
	return true;
}
void pipeline_counters(const struct pipeline *pl, struct rv_counters *out)
{
	(void)pl;
	memset(out, 0, sizeof(*out));
}
void pipeline_worker_stats(const struct pipeline *pl, unsigned w, struct pipeline_wstats *st)
{
	(void)pl, (void)w;
	memset(st, 0, sizeof(*st));
}
unsigned pipeline_work(struct pipeline *pl, unsigned w, unsigned max)
{
	(void)pl, (void)w, (void)max;
	return 0;
}
bool pipeline_worker_finished(const struct pipeline *pl, unsigned w)
{
	(void)pl, (void)w;
	return true;
}

#endif
