/*
 * engine.c - pipeline (decode -> reassemble -> classify), the call table and
 * its timers.  See engine.h for the contract.
 *
 * Timers: each call sits on the list of its phase (setup, answered, hold,
 * ended); every list has one timeout (invite_timeout, inactivity_timeout,
 * max_call_duration, linger) and is kept in order of last activity, so
 * expiry only ever looks at list heads.
 */
#include "engine_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const outcome_names[] = { "answered", "cancelled", "rejected", "failed", "unanswered" };
static const char *const end_names[] = { "none",		"bye",	       "cancel",  "rejected",
					 "rtp_inactivity", "capture_end", "timeout", "evicted" };

const char *call_outcome_name(enum call_outcome o)
{
	return (unsigned)o < 5 ? outcome_names[o] : "unknown";
}

const char *end_reason_name(enum end_reason r)
{
	return (unsigned)r < 8 ? end_names[r] : "unknown";
}

const char *party_name(uint8_t p)
{
	return p == PARTY_CALLER ? "caller" : "callee";
}

const char *dtmf_source_name(uint8_t s)
{
	static const char *const n[] = { "rfc4733", "sip-info", "inband" };
	return s < 3 ? n[s] : "unknown";
}

enum call_outcome call_outcome(const struct rv_call *c)
{
	if (c->answered)
		return OUT_ANSWERED;
	if (c->cancel_seen)
		return OUT_CANCELLED;
	if (c->final_status >= 500 && c->final_status < 600)
		return OUT_FAILED;
	if (c->final_status >= 300)
		return OUT_REJECTED;
	return OUT_UNANSWERED;
}

static void tcp_msg_cb(void *ctx, const struct tcp_msg *m)
{
	struct engine *e = ctx;
	CNT(&e->cnt, tcp_messages);
	sip_handle(e, m->msg, m->len, &m->src, m->sport, &m->dst, m->dport, m->ts_us);
}

struct engine *engine_new(const struct rv_config *cfg, const struct engine_sink *sink, void *ctx)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->cfg = cfg;
	e->sink = sink;
	e->sink_ctx = ctx;
	e->link = DEC_LINK_ETH;
	e->next_id = 1;
	util_init_key();
	for (int i = 0; i < 4; i++)
		list_init(&e->l_phase[i]);
	list_init(&e->exp_fifo);
	size_t mc = (size_t)cfg->limits_max_calls, ms = (size_t)cfg->limits_max_streams,
	       me = (size_t)cfg->limits_max_expectations;
	if (htab_init(&e->calls, 1024, mc) || htab_init(&e->streams, 1024, ms) ||
	    htab_init(&e->exp_addr, 1024, me) || htab_init(&e->exp_port, 1024, me))
		goto fail;
	struct ipreasm_limits il = {
		.max_datagrams = (uint32_t)cfg->limits_max_frag_datagrams,
		.max_bytes = (size_t)cfg->limits_max_frag_bytes,
		.timeout_us = cfg->limits_frag_timeout,
	};
	e->ipr = ipreasm_new(&il);
	struct tcpreasm_limits tl = {
		.max_conns = (uint32_t)cfg->limits_max_tcp_conns,
		.max_buf = (size_t)cfg->limits_tcp_buffer,
		.max_ooo_segs = (uint32_t)cfg->limits_tcp_ooo_segments,
		.idle_us = cfg->limits_tcp_idle_timeout,
	};
	e->tcp = tcpreasm_new(&tl, sip_frame, tcp_msg_cb, e);
	if (!e->ipr || !e->tcp)
		goto fail;
	return e;
fail:
	engine_free(e);
	return NULL;
}

static void sctp_slot_free(struct sctp_slot *sl);

static void call_free_mem(struct rv_call *c)
{
	pt_map_free(c->pt[0]);
	pt_map_free(c->pt[1]);
	free(c->call_id);
	free(c->dtmf);
	free(c);
}

/* Unlinks a call from every table and frees it (no report). */
static void call_destroy(struct engine *e, struct rv_call *c)
{
	list_del(&c->tl);
	htab_remove(&e->calls, &c->hn);
	e->n_calls--;
	stream_free_call(e, c);
	expect_free_call(e, c);
	call_free_mem(c);
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	/* calls still open are discarded without a report (engine_finish reports) */
	for (int i = 0; i < 4; i++) {
		while (!list_empty(&e->l_phase[i])) {
			call_destroy(e, container_of(e->l_phase[i].next, struct rv_call, tl));
		}
	}
	htab_destroy(&e->calls);
	htab_destroy(&e->streams);
	htab_destroy(&e->exp_addr);
	htab_destroy(&e->exp_port);
	for (int i = 0; i < RV_SCTP_SLOTS; i++)
		sctp_slot_free(&e->sctp[i]);
	if (e->want_orphans)
		orphans_free(&e->orphans);
	ipreasm_free(e->ipr);
	tcpreasm_free(e->tcp);
	free(e);
}

void engine_set_link(struct engine *e, enum dec_link link)
{
	e->link = link;
}

void engine_set_orphans(struct engine *e, bool on)
{
	if (on && !e->want_orphans && orphans_init(&e->orphans) == 0)
		e->want_orphans = true;
}

void engine_each_orphan(struct engine *e, void (*cb)(void *ctx, const struct orphan *s), void *ctx)
{
	if (e->want_orphans)
		orphans_each(&e->orphans, cb, ctx);
}

/* ---- call table ---- */

struct rv_call *call_find(struct engine *e, const uint8_t *cid, size_t len, uint64_t h)
{
	for (struct hnode *n = htab_first(&e->calls, h); n; n = htab_next(n, h)) {
		struct rv_call *c = container_of(n, struct rv_call, hn);
		if (c->call_id_len == len && memcmp(c->call_id, cid, len) == 0)
			return c;
	}
	return NULL;
}

/* Makes room for one more call: finished calls are reported first, then the
 * oldest unanswered call is dropped, and only then an answered call ends. */
static bool call_make_room(struct engine *e)
{
	if (e->n_calls < (uint64_t)e->cfg->limits_max_calls)
		return true;
	if (!list_empty(&e->l_phase[PH_ENDED])) {
		call_finalize(e, container_of(e->l_phase[PH_ENDED].next, struct rv_call, tl));
		return true;
	}
	if (!list_empty(&e->l_phase[PH_SETUP])) {
		struct rv_call *c = container_of(e->l_phase[PH_SETUP].next, struct rv_call, tl);
		CNT(&e->cnt, calls_evicted_unanswered);
		call_destroy(e, c);
		return true;
	}
	for (int ph = PH_ANSWERED; ph <= PH_HOLD; ph++) {
		if (!list_empty(&e->l_phase[ph])) {
			struct rv_call *c = container_of(e->l_phase[ph].next, struct rv_call, tl);
			CNT(&e->cnt, calls_evicted_answered);
			c->end_reason = END_EVICTED;
			c->end_us = c->last_us;
			call_finalize(e, c);
			return true;
		}
	}
	return false;
}

#define RV_USER_MAX 63 /* bytes kept of the caller's and callee's user parts */

/* Copies u (cut to RV_USER_MAX bytes) to dst with a NUL; returns the end. */
static char *put_user(char *dst, struct span u)
{
	size_t l = u.len < RV_USER_MAX ? u.len : RV_USER_MAX;
	if (l)
		memcpy(dst, u.p, l);
	dst[l] = '\0';
	return dst + l + 1;
}

struct rv_call *call_create(struct engine *e, const uint8_t *cid, size_t len, uint64_t h, struct span caller,
			    struct span callee, uint64_t ts)
{
	if (len > UINT32_MAX || !call_make_room(e))
		return NULL;
	struct rv_call *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	size_t lr = caller.len < RV_USER_MAX ? caller.len : RV_USER_MAX;
	size_t le = callee.len < RV_USER_MAX ? callee.len : RV_USER_MAX;
	c->call_id = malloc(len + 1 + lr + 1 + le + 1);
	if (!c->call_id) {
		free(c);
		return NULL;
	}
	memcpy(c->call_id, cid, len);
	c->call_id[len] = '\0';
	c->call_id_len = (uint32_t)len;
	char *u = c->call_id + len + 1;
	c->caller = u;
	u = put_user(u, caller);
	c->callee = u;
	put_user(u, callee);
	c->cid_hash = h;
	c->id = e->next_id++;
	c->invite_us = ts;
	c->last_us = ts;
	list_init(&c->streams);
	list_init(&c->expects);
	c->phase = PH_SETUP;
	c->tl_since = e->now_us;
	list_add_tail(&e->l_phase[PH_SETUP], &c->tl);
	htab_insert(&e->calls, &c->hn, h);
	e->n_calls++;
	CNT(&e->cnt, calls_created);
	if (e->sink->call_new)
		e->sink->call_new(e->sink_ctx, c);
	return c;
}

void call_set_phase(struct engine *e, struct rv_call *c, enum call_phase ph, uint64_t ts)
{
	(void)ts;
	c->phase = ph;
	c->tl_since = e->now_us;
	list_move_tail(&e->l_phase[ph], &c->tl);
}

void call_touch(struct engine *e, struct rv_call *c, uint64_t ts)
{
	if (ts > c->last_us)
		c->last_us = ts;
	if (c->phase != PH_ENDED && c->phase != PH_HOLD) {
		c->tl_since = e->now_us;
		list_move_tail(&e->l_phase[c->phase], &c->tl);
	}
}

void call_add_dtmf(struct engine *e, struct rv_call *c, const struct rv_dtmf *d)
{
	if (c->n_dtmf == c->cap_dtmf) {
		if (c->cap_dtmf >= RV_MAX_DTMF_PER_CALL) {
			CNT(&e->cnt, dtmf_dropped);
			return;
		}
		unsigned nc = c->cap_dtmf ? c->cap_dtmf * 2 : 8;
		struct rv_dtmf *nd = realloc(c->dtmf, nc * sizeof(*nd));
		if (!nd) {
			CNT(&e->cnt, dtmf_dropped);
			return;
		}
		c->dtmf = nd;
		c->cap_dtmf = nc;
	}
	c->dtmf[c->n_dtmf++] = *d;
	if (e->sink->dtmf)
		e->sink->dtmf(e->sink_ctx, c, d);
}

void call_finalize(struct engine *e, struct rv_call *c)
{
	if (c->end_reason == END_NONE) {
		if (!c->answered && c->final_status >= 300) {
			c->end_reason = END_REJECTED; /* challenged, never retried */
		} else {
			c->end_reason = END_CAPTURE_END;
			c->end_us = 0;
		}
	}
	CNT(&e->cnt, calls_finished);
	if (e->sink->call_end)
		e->sink->call_end(e->sink_ctx, c);
	call_destroy(e, c);
}

/* ---- timers ---- */

/* Ends every call on phase list ph that has been idle for timeout.  why is
 * the end reason to record (END_NONE: the call already has one). */
static void expire_list(struct engine *e, enum call_phase ph, uint64_t timeout, enum end_reason why)
{
	struct list *l = &e->l_phase[ph];
	while (!list_empty(l)) {
		struct rv_call *c = container_of(l->next, struct rv_call, tl);
		if (c->tl_since + timeout > e->now_us)
			break;
		if (why == END_TIMEOUT && c->final_status) {
			c->end_reason = END_REJECTED; /* an authentication challenge nobody answered */
		} else if (why != END_NONE) {
			c->end_reason = why;
			c->end_us = c->last_us;
		}
		call_finalize(e, c);
	}
}

static void run_timers(struct engine *e)
{
	const struct rv_config *cfg = e->cfg;
	expire_list(e, PH_ENDED, cfg->sip_linger, END_NONE);
	expire_list(e, PH_SETUP, cfg->sip_invite_timeout, END_TIMEOUT);
	expire_list(e, PH_ANSWERED, cfg->rtp_inactivity_timeout, END_RTP_INACTIVITY);
	expire_list(e, PH_HOLD, cfg->sip_max_call_duration, END_RTP_INACTIVITY);
}

static void housekeeping(struct engine *e)
{
	run_timers(e);
	if (e->now_us >= e->last_tick_us + 1000000u) {
		ipreasm_expire(e->ipr, e->now_us);
		tcpreasm_expire(e->tcp, e->now_us);
		e->last_tick_us = e->now_us;
	}
}

void engine_tick(struct engine *e, uint64_t now_us)
{
	if (now_us > e->now_us)
		e->now_us = now_us;
	housekeeping(e);
}

uint64_t engine_now(const struct engine *e)
{
	return e->now_us;
}

static const struct engine_sink empty_sink;

void engine_set_router(struct engine *e, const struct engine_router *r, void *ctx)
{
	e->router = r;
	e->router_ctx = ctx;
	e->sink = &empty_sink;
	e->sink_ctx = NULL;
}

void engine_sip_unit(struct engine *e, uint64_t ts, const uint8_t *msg, size_t len, const struct ip_addr *src,
		     uint16_t sport, const struct ip_addr *dst, uint16_t dport)
{
	if (ts > e->now_us)
		e->now_us = ts;
	sip_handle(e, msg, len, src, sport, dst, dport, ts);
}

void engine_media_unit(struct engine *e, uint64_t ts, const struct pkt *p)
{
	if (ts > e->now_us)
		e->now_us = ts;
	media_udp(e, p, ts, false);
}

void engine_finish(struct engine *e)
{
	/* ended calls first (they have their reasons), then the rest */
	for (int ph = PH_ENDED; ph >= 0; ph--) {
		struct list *l = &e->l_phase[ph];
		while (!list_empty(l))
			call_finalize(e, container_of(l->next, struct rv_call, tl));
	}
}

/* ---- classification ---- */

static bool is_sip_port(const struct engine *e, const struct pkt *p)
{
	return config_port_in(e->cfg->sip_ports, p->sport) || config_port_in(e->cfg->sip_ports, p->dport);
}

static bool crlf_only(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\r' && p[i] != '\n' && p[i] != 0)
			return false;
	return true;
}

static bool looks_like_ws_or_sip(const uint8_t *p, size_t n)
{
	struct span s = span_make(p, n);
	return sip_looks_like(p, n) || span_starts_ci(s, "GET ") || span_starts_ci(s, "HTTP/1.1 101");
}

static void sctp_slot_free(struct sctp_slot *sl)
{
	free(sl->buf);
	memset(sl, 0, sizeof(*sl));
}

/* One DATA chunk that is part of a fragmented user message. */
static void sctp_fragment(struct engine *e, const struct pkt *p, const struct sctp_data *d, uint64_t ts)
{
	struct sctp_slot *sl = NULL, *victim = &e->sctp[0];
	for (int i = 0; i < RV_SCTP_SLOTS; i++) {
		struct sctp_slot *x = &e->sctp[i];
		if (x->used && x->stream == d->stream && x->sport == p->sport && x->dport == p->dport &&
		    ip_addr_eq(&x->src, &p->src) && ip_addr_eq(&x->dst, &p->dst)) {
			sl = x;
			break;
		}
		if (!x->used || (victim->used && x->last_us < victim->last_us))
			victim = x;
	}
	if (d->flags & 0x02) { /* B: a new message starts */
		if (sl) {
			CNT(&e->cnt, sctp_fragmented);
			sctp_slot_free(sl);
		} else {
			sl = victim;
			if (sl->used) {
				CNT(&e->cnt, sctp_fragmented);
				sctp_slot_free(sl);
			}
		}
		sl->buf = malloc(RV_SCTP_MAX_MSG);
		if (!sl->buf)
			return;
		sl->used = true;
		sl->src = p->src;
		sl->dst = p->dst;
		sl->sport = p->sport;
		sl->dport = p->dport;
		sl->stream = d->stream;
		sl->len = 0;
	} else if (!sl || d->tsn != sl->next_tsn) {
		CNT(&e->cnt, sctp_fragmented); /* a middle or end without its start */
		if (sl)
			sctp_slot_free(sl);
		return;
	}
	if (d->data.len > RV_SCTP_MAX_MSG - sl->len) {
		CNT(&e->cnt, sctp_fragmented);
		sctp_slot_free(sl);
		return;
	}
	memcpy(sl->buf + sl->len, d->data.p, d->data.len);
	sl->len += d->data.len;
	sl->next_tsn = d->tsn + 1;
	sl->last_us = ts;
	if (d->flags & 0x01) { /* E: complete */
		if (sip_looks_like(sl->buf, sl->len)) {
			CNT(&e->cnt, sctp_messages);
			sip_handle(e, sl->buf, sl->len, &p->src, p->sport, &p->dst, p->dport, ts);
		}
		sctp_slot_free(sl);
	}
}

static void sctp_packet(struct engine *e, const struct pkt *p, uint64_t ts)
{
	size_t off = 0;
	struct sctp_data d;
	int r;
	while ((r = sctp_next_chunk(p->payload, p->payload_len, &off, &d)) == 1) {
		if ((d.flags & 0x03) == 0x03) {
			if (!sip_looks_like(d.data.p, d.data.len))
				continue;
			CNT(&e->cnt, sctp_messages);
			sip_handle(e, d.data.p, d.data.len, &p->src, p->sport, &p->dst, p->dport, ts);
		} else {
			sctp_fragment(e, p, &d, ts);
		}
	}
	if (r < 0)
		CNT(&e->cnt, sctp_bad);
}

static void handle_l4(struct engine *e, const struct pkt *p, uint64_t ts)
{
	switch (p->proto) {
	case DEC_IPPROTO_UDP:
		/* known media first: the hot path */
		if (media_udp(e, p, ts, true))
			return;
		if (is_sip_port(e, p) || (e->cfg->sip_detect_any_port && sip_looks_like(p->payload, p->payload_len))) {
			if (p->payload_len == 0 || crlf_only(p->payload, p->payload_len))
				return; /* keep-alive */
			sip_handle(e, p->payload, p->payload_len, &p->src, p->sport, &p->dst, p->dport, ts);
			return;
		}
		if (!media_udp(e, p, ts, false)) {
			CNT(&e->cnt, udp_unmatched);
			if (e->want_orphans)
				orphans_udp(&e->orphans, p, ts);
		}
		return;
	case DEC_IPPROTO_TCP:
		if (is_sip_port(e, p) || tcpreasm_tracks(e->tcp, p) ||
		    (e->cfg->sip_detect_any_port && looks_like_ws_or_sip(p->payload, p->payload_len))) {
			CNT(&e->cnt, tcp_segments);
			tcpreasm_feed(e->tcp, p, ts);
		} else {
			CNT(&e->cnt, tcp_non_sip);
		}
		return;
	case DEC_IPPROTO_SCTP:
		sctp_packet(e, p, ts);
		return;
	default:
		return;
	}
}

void engine_packet(struct engine *e, uint64_t ts, const uint8_t *frame, uint32_t caplen, uint32_t wirelen)
{
	struct pkt p;
	CNT(&e->cnt, packets);
	CNT_ADD(&e->cnt, bytes, wirelen);
	if (caplen < wirelen)
		CNT(&e->cnt, frames_truncated);
	if (ts > e->now_us)
		e->now_us = ts;

	int rc = decode_frame(e->link, frame, caplen, &p);
	if (rc == DEC_OK && p.is_frag) {
		const uint8_t *dg;
		size_t dl;
		CNT(&e->cnt, ip_fragments);
		int r = ipreasm_feed(e->ipr, &p, ts, &dg, &dl);
		if (r != IPR_DONE)
			goto out;
		CNT(&e->cnt, ip_reassembled);
		rc = decode_ip(dg, dl, &p);
		if (rc == DEC_OK && p.is_frag)
			goto out; /* fragment inside a reassembled tunnel: not supported, counted below */
	}
	if (rc != DEC_OK) {
		counters_err(e->cnt.dec, DEC_E__COUNT, rc);
		goto out;
	}
	handle_l4(e, &p, ts);
out:
	housekeeping(e);
}

void engine_counters(const struct engine *e, struct rv_counters *out)
{
	*out = e->cnt;
	const struct ipreasm_stats *is = ipreasm_stats(e->ipr);
	out->c[C_ip_frag_timeouts] = is->timeouts;
	out->c[C_ip_frag_overlaps] = is->overlaps;
	out->c[C_ip_frag_oversize] = is->oversize;
	out->c[C_ip_frag_evicted] = is->evicted;
	out->c[C_ip_frag_bad] = is->bad;
	const struct tcpreasm_stats *ts = tcpreasm_stats(e->tcp);
	out->c[C_tcp_retransmissions] = ts->retransmissions;
	out->c[C_tcp_out_of_order] = ts->out_of_order;
	out->c[C_tcp_gaps_skipped] = ts->gaps_skipped;
	out->c[C_tcp_overflows] = ts->overflows;
	out->c[C_tcp_resyncs] = ts->resyncs;
	out->c[C_tcp_evicted] = ts->evicted;
	out->c[C_tcp_expired] = ts->expired;
	out->c[C_tcp_abandoned] = ts->abandoned;
	out->c[C_ws_frames] = ts->ws_frames;
	out->c[C_ws_bad] = ts->ws_bad;
}

void engine_sizes(const struct engine *e, uint64_t *calls, uint64_t *streams, uint64_t *expects)
{
	*calls = e->n_calls;
	*streams = e->n_streams;
	*expects = e->n_expects;
}
