/*
 * media.c - media expectations learnt from SDP, RTP streams and DTMF.
 *
 * An expectation says "party P of call C receives RTP (or RTCP) at
 * addr:port".  A UDP datagram that belongs to no stream yet is matched
 * against expectations by its destination (the sender is the other party),
 * then by its source (symmetric RTP: the sender is P), then, when
 * rtp.port_only_fallback is on, by port alone (NAT rewrote the address).
 *
 * A stream is one direction of a call between one pair of endpoints.  A new
 * SSRC on a stream must pass probation (RFC 3550 A.1: rtp.probation
 * packets in sequence) before it is accepted; the packets held during
 * probation are then accepted in order, so none is lost from the counts.
 * A different SSRC that never passes (an injected packet) is dropped and
 * counted, and never disturbs the active source.  Sequence bookkeeping
 * follows A.1 (MAX_DROPOUT 3000, resync on two packets after a jump) with
 * a 128-packet window to tell duplicates from late packets.
 *
 * DTMF: RFC 4733 events are one digit per (SSRC, RTP timestamp), so the
 * repeated updates and end packets collapse into one; in-band tones on
 * G.711 streams are detected with spandsp and suppressed when the same
 * digit from the same party was already signalled as an event.
 */
#include "engine_int.h"
#include "inband.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DROPOUT 3000

/* ---- keys ---- */

struct flow_key {
	uint8_t b[38];
};

static void flow_key(struct flow_key *k, const struct ip_addr *s, uint16_t sp, const struct ip_addr *d, uint16_t dp)
{
	k->b[0] = s->family;
	memcpy(k->b + 1, s->b, 16);
	memcpy(k->b + 17, d->b, 16);
	k->b[33] = (uint8_t)(sp >> 8);
	k->b[34] = (uint8_t)sp;
	k->b[35] = (uint8_t)(dp >> 8);
	k->b[36] = (uint8_t)dp;
	k->b[37] = d->family;
}

static uint64_t addr_port_hash(const struct ip_addr *a, uint16_t port)
{
	uint8_t b[19];
	b[0] = a->family;
	memcpy(b + 1, a->b, 16);
	b[17] = (uint8_t)(port >> 8);
	b[18] = (uint8_t)port;
	return rv_hash(b, sizeof(b));
}

static uint64_t port_hash(uint16_t port)
{
	uint8_t b[2] = { (uint8_t)(port >> 8), (uint8_t)port };
	return rv_hash(b, 2);
}

/* ---- expectations ---- */

static void expect_del(struct engine *e, struct rv_expect *x)
{
	htab_remove(&e->exp_addr, &x->hn_addr);
	htab_remove(&e->exp_port, &x->hn_port);
	list_del(&x->call_link);
	list_del(&x->fifo);
	x->call->n_expects--;
	e->n_expects--;
	free(x);
}

void expect_add(struct engine *e, struct rv_call *c, const struct ip_addr *a, uint16_t port, uint8_t party,
		uint8_t kind, uint64_t ts)
{
	uint64_t h = addr_port_hash(a, port);
	for (struct hnode *n = htab_first(&e->exp_addr, h); n; n = htab_next(n, h)) {
		struct rv_expect *x = container_of(n, struct rv_expect, hn_addr);
		if (x->call == c && x->port == port && x->party == party && x->kind == kind &&
		    ip_addr_eq(&x->addr, a)) {
			x->created_us = ts;
			list_move_tail(&e->exp_fifo, &x->fifo);
			return;
		}
	}
	if (c->n_expects >= RV_MAX_EXPECTS_PER_CALL)
		expect_del(e, container_of(c->expects.next, struct rv_expect, call_link));
	if (e->n_expects >= (uint64_t)e->cfg->limits_max_expectations) {
		if (list_empty(&e->exp_fifo))
			return;
		expect_del(e, container_of(e->exp_fifo.next, struct rv_expect, fifo));
		CNT(&e->cnt, expectations_evicted);
	}
	struct rv_expect *x = calloc(1, sizeof(*x));
	if (!x)
		return;
	x->call = c;
	x->addr = *a;
	x->port = port;
	x->party = party;
	x->kind = kind;
	x->created_us = ts;
	htab_insert(&e->exp_addr, &x->hn_addr, h);
	htab_insert(&e->exp_port, &x->hn_port, port_hash(port));
	list_add_tail(&c->expects, &x->call_link);
	list_add_tail(&e->exp_fifo, &x->fifo);
	c->n_expects++;
	e->n_expects++;
	CNT(&e->cnt, expectations_added);
}

void expect_free_call(struct engine *e, struct rv_call *c)
{
	while (!list_empty(&c->expects))
		expect_del(e, container_of(c->expects.next, struct rv_expect, call_link));
}

/* How long a call keeps its media addresses against a later SDP of another
 * call that names the same address: a live call's media cannot be taken
 * over (ATTACKS B11), while a port reused after a call that silently ended
 * (no BYE captured) goes to the new call once the old one is quiet. */
#define EXPECT_HOLD_US 5000000u

static bool call_live(const struct engine *e, const struct rv_call *c)
{
	return c->phase != PH_ENDED && c->last_us + EXPECT_HOLD_US >= e->now_us;
}

/* Prefers the oldest expectation of a live call; otherwise the newest. */
static bool better(const struct engine *e, const struct rv_expect *a, const struct rv_expect *b)
{
	if (!b)
		return true;
	bool la = call_live(e, a->call), lb = call_live(e, b->call);
	if (la != lb)
		return la;
	if (a->created_us != b->created_us)
		return la ? a->created_us < b->created_us : a->created_us > b->created_us;
	return la ? a->call->id < b->call->id : a->call->id > b->call->id;
}

static struct rv_expect *expect_find(struct engine *e, const struct ip_addr *a, uint16_t port)
{
	uint64_t h = addr_port_hash(a, port);
	struct rv_expect *best = NULL;
	for (struct hnode *n = htab_first(&e->exp_addr, h); n; n = htab_next(n, h)) {
		struct rv_expect *x = container_of(n, struct rv_expect, hn_addr);
		if (x->port == port && ip_addr_eq(&x->addr, a) && better(e, x, best))
			best = x;
	}
	return best;
}

/* Did party announce addr (any port) in an SDP of this call? */
static bool party_announced(const struct rv_call *c, uint8_t party, const struct ip_addr *addr)
{
	for (const struct list *l = c->expects.next; l != &c->expects; l = l->next) {
		const struct rv_expect *x = container_of(l, struct rv_expect, call_link);
		if (x->party == party && ip_addr_eq(&x->addr, addr))
			return true;
	}
	return false;
}

/* Does the call already have a stream sent by party to dst:dport? */
static bool party_sends_to(const struct rv_call *c, uint8_t party, const struct ip_addr *dst, uint16_t dport)
{
	for (const struct list *l = c->streams.next; l != &c->streams; l = l->next) {
		const struct rv_stream *s = container_of(l, struct rv_stream, call_link);
		if (s->party == party && s->dport == dport && ip_addr_eq(&s->dst, dst))
			return true;
	}
	return false;
}

static struct rv_expect *expect_find_port(struct engine *e, uint16_t port, uint8_t family)
{
	uint64_t h = port_hash(port);
	struct rv_expect *best = NULL;
	for (struct hnode *n = htab_first(&e->exp_port, h); n; n = htab_next(n, h)) {
		struct rv_expect *x = container_of(n, struct rv_expect, hn_port);
		if (x->port == port && x->addr.family == family && x->kind == EXP_RTP && better(e, x, best))
			best = x;
	}
	return best;
}

/* ---- payload types ---- */

/* Encoding names common enough to be named by an index into this table
 * instead of being copied into every map.  A name matches only byte for
 * byte, so it reads back exactly as the SDP wrote it.  Read-only, shared by
 * every engine of the process. */
static const char *const well_known_enc[] = {
	NULL, /* 0: the name is stored in the map */
	"telephone-event", /* WK_TELEPHONE_EVENT */
	"PCMU", "PCMA", "G722", "G729", "GSM", "opus", "iLBC", "speex", "L16",
	"CN", "AMR", "AMR-WB", "G726-32", "red", "H264", "VP8",
};
#define WK_TELEPHONE_EVENT 1
#define N_WELL_KNOWN (sizeof(well_known_enc) / sizeof(well_known_enc[0]))

struct pt_slot {
	uint8_t pt;
	uint8_t known;   /* index into well_known_enc; 0: the name is at off */
	uint16_t off;    /* into the names that follow the slots */
	uint32_t rate;
};

struct pt_map {
	uint8_t n;
	struct pt_slot e[]; /* n slots, then the names not in well_known_enc, each NUL-terminated */
};

static const char *slot_enc(const struct pt_map *m, const struct pt_slot *sl)
{
	if (sl->known)
		return well_known_enc[sl->known];
	return (const char *)(m->e + m->n) + sl->off;
}

static const struct pt_slot *map_find(const struct pt_map *m, uint8_t pt)
{
	if (!m)
		return NULL;
	for (unsigned i = 0; i < m->n; i++)
		if (m->e[i].pt == pt)
			return &m->e[i];
	return NULL;
}

static uint8_t well_known(const char *p, size_t len)
{
	for (unsigned k = 1; k < N_WELL_KNOWN; k++)
		if (strlen(well_known_enc[k]) == len && memcmp(well_known_enc[k], p, len) == 0)
			return (uint8_t)k;
	return 0;
}

void pt_map_free(struct pt_map *pm)
{
	free(pm);
}

void pt_map_update(struct pt_map **pm, const struct sdp_media *md)
{
	struct {
		uint8_t pt;
		uint32_t rate;
		const char *enc; /* into the old map or the SDP */
		size_t len;
	} v[RV_PT_MAP];
	const struct pt_map *old = *pm;
	unsigned n = 0;
	for (unsigned i = 0; old && i < old->n; i++, n++) {
		v[n].pt = old->e[i].pt;
		v[n].rate = old->e[i].rate;
		v[n].enc = slot_enc(old, &old->e[i]);
		v[n].len = strlen(v[n].enc);
	}
	bool changed = false;
	unsigned nr = md->n_rtpmap < SDP_MAX_FMT ? md->n_rtpmap : SDP_MAX_FMT;
	for (unsigned i = 0; i < nr; i++) {
		const struct sdp_rtpmap *r = &md->rtpmap[i];
		size_t len = r->encoding.len < RV_PT_ENC_MAX ? r->encoding.len : RV_PT_ENC_MAX;
		const char *enc = len ? (const char *)r->encoding.p : "";
		unsigned k;
		for (k = 0; k < n; k++)
			if (v[k].pt == r->pt)
				break;
		if (k == n) {
			if (n == RV_PT_MAP)
				continue;
			n++;
		} else if (v[k].rate == r->rate && v[k].len == len && memcmp(v[k].enc, enc, len) == 0) {
			continue;
		}
		changed = true;
		v[k].pt = r->pt;
		v[k].rate = r->rate;
		v[k].enc = enc;
		v[k].len = len;
	}
	if (!changed)
		return;
	uint8_t known[RV_PT_MAP];
	size_t names = 0;
	for (unsigned k = 0; k < n; k++) {
		known[k] = well_known(v[k].enc, v[k].len);
		if (!known[k])
			names += v[k].len + 1;
	}
	struct pt_map *m = malloc(sizeof(*m) + n * sizeof(m->e[0]) + names);
	if (!m)
		return;
	m->n = (uint8_t)n;
	char *np = (char *)(m->e + n);
	size_t off = 0;
	for (unsigned k = 0; k < n; k++) {
		m->e[k] = (struct pt_slot){ .pt = v[k].pt, .known = known[k], .off = (uint16_t)off, .rate = v[k].rate };
		if (!known[k]) {
			memcpy(np + off, v[k].enc, v[k].len);
			np[off + v[k].len] = '\0';
			off += v[k].len + 1;
		}
	}
	free(*pm);
	*pm = m;
}

/* The receiver's entry for pt, else the other party's (*mp: its map). */
static const struct pt_slot *call_slot(const struct rv_call *c, uint8_t receiver, uint8_t pt,
				       const struct pt_map **mp)
{
	for (int k = 0; k < 2; k++) {
		const struct pt_map *m = c->pt[k == 0 ? receiver : OTHER_PARTY(receiver)];
		const struct pt_slot *sl = map_find(m, pt);
		if (sl) {
			*mp = m;
			return sl;
		}
	}
	return NULL;
}

bool call_pt(const struct rv_call *c, uint8_t receiver, uint8_t pt, struct pt_info *out)
{
	const struct pt_map *m;
	const struct pt_slot *sl = call_slot(c, receiver, pt, &m);
	if (!sl)
		return false;
	out->pt = pt;
	out->rate = sl->rate;
	out->enc = slot_enc(m, sl);
	return true;
}

static const char *pt_name(const struct rv_call *c, uint8_t receiver, uint8_t pt)
{
	const struct pt_map *m;
	const struct pt_slot *sl = call_slot(c, receiver, pt, &m);
	if (sl)
		return slot_enc(m, sl);
	uint32_t rate;
	return sdp_static_pt(pt, &rate);
}

const char *stream_codec(const struct rv_stream *s)
{
	if (!s->has_audio_pt)
		return "";
	const char *n = pt_name(s->call, OTHER_PARTY(s->party), s->audio_pt);
	return n ? n : "unknown";
}

static bool is_event_pt(const struct rv_call *c, uint8_t receiver, uint8_t pt)
{
	const struct pt_map *m;
	const struct pt_slot *sl = call_slot(c, receiver, pt, &m);
	if (sl && sl->known) /* per packet: no string compare for the common names */
		return sl->known == WK_TELEPHONE_EVENT;
	uint32_t rate;
	const char *n = sl ? slot_enc(m, sl) : sdp_static_pt(pt, &rate);
	return n && span_eq_ci(span_make(n, strlen(n)), "telephone-event");
}

/* ---- sequence bookkeeping ---- */

static uint64_t seg_lost(const struct rv_stream *s)
{
	if (!s->active || s->max_ext + 1 <= s->base_ext)
		return 0;
	uint64_t expected = s->max_ext - s->base_ext + 1;
	return expected > s->unique ? expected - s->unique : 0;
}

uint64_t stream_lost(const struct rv_stream *s)
{
	return s->lost_closed + seg_lost(s);
}

static void seg_start(struct rv_stream *s, uint32_t ssrc, uint16_t first_seq)
{
	if (s->active)
		s->lost_closed += seg_lost(s);
	s->active = true;
	s->ssrc = ssrc;
	s->base_ext = 65536u + first_seq;
	s->max_ext = s->base_ext - 1;
	s->unique = 0;
	s->win[0] = s->win[1] = 0;
	s->bad_seq = 0xffffffffu;
	if (s->n_ssrcs < RV_MAX_SSRCS) {
		bool seen = false;
		for (unsigned i = 0; i < s->n_ssrcs; i++)
			seen |= s->ssrcs[i] == ssrc;
		if (!seen)
			s->ssrcs[s->n_ssrcs++] = ssrc;
	}
}

static void win_shift(uint64_t w[2], uint64_t d)
{
	if (d >= 128) {
		w[0] = w[1] = 0;
	} else if (d >= 64) {
		w[1] = d == 64 ? w[0] : w[0] << (d - 64);
		w[0] = 0;
	} else {
		w[1] = (w[1] << d) | (w[0] >> (64 - d));
		w[0] <<= d;
	}
}

static bool win_test_set(uint64_t w[2], uint64_t age)
{
	uint64_t bit = 1ULL << (age & 63);
	uint64_t *word = &w[age >> 6];
	bool was = (*word & bit) != 0;
	*word |= bit;
	return was;
}

/* Returns true when the packet is a duplicate. */
static bool seq_update(struct rv_stream *s, uint16_t seq)
{
	int32_t delta = (int16_t)(uint16_t)(seq - (uint16_t)s->max_ext);
	if (s->max_ext + 1 == s->base_ext)
		delta = (int16_t)(uint16_t)(seq - (uint16_t)(s->base_ext - 1));
	if (delta > 0) {
		if (delta > MAX_DROPOUT) {
			if (s->bad_seq == seq) {
				/* two in a row after a jump: the source restarted its sequence */
				s->lost_closed += seg_lost(s);
				s->base_ext = s->max_ext + 1 + 65536u * 2;
				s->base_ext = (s->base_ext & ~0xffffULL) + seq;
				s->max_ext = s->base_ext;
				s->unique = 1;
				s->win[0] = 1;
				s->win[1] = 0;
				s->bad_seq = 0xffffffffu;
			} else {
				s->bad_seq = (uint16_t)(seq + 1);
			}
			return false;
		}
		win_shift(s->win, (uint64_t)delta);
		s->win[0] |= 1;
		s->max_ext += (uint64_t)delta;
		s->unique++;
		return false;
	}
	if (delta == 0)
		return true;
	uint64_t age = (uint64_t)(-delta);
	if (age < 128) {
		if (win_test_set(s->win, age))
			return true;
	}
	s->unique++;
	if (s->max_ext >= age && s->max_ext - age < s->base_ext)
		s->base_ext = s->max_ext - age;
	return false;
}

/* ---- DTMF ---- */

static void dtmf_rfc4733(struct engine *e, struct rv_stream *s, const struct rtp_hdr *h, uint64_t ts)
{
	struct rfc4733_event ev;
	if (rfc4733_parse(h->payload, h->payload_len, &ev) < 0)
		return;
	if (s->ev_valid && s->ev_ssrc == h->ssrc && s->ev_ts == h->ts)
		return; /* an update or a repeated end packet of the same event */
	s->ev_valid = true;
	s->ev_ssrc = h->ssrc;
	s->ev_ts = h->ts;
	char digit = rfc4733_digit(ev.event);
	if (!digit) {
		CNT(&e->cnt, rtp_non_dtmf_events);
		return;
	}
	struct rv_dtmf d = { .digit = digit, .source = DTMF_RFC4733, .party = s->party, .ts_us = ts,
			     .ssrc = h->ssrc, .seq = h->seq, .duration_ms = ev.duration / 8 };
	CNT(&e->cnt, dtmf_rfc4733);
	call_add_dtmf(e, s->call, &d);
}

/* Is the detector wanted on s?  A "no" from the sink is final: the
 * detector is freed and the sink is not asked again for this stream. */
static bool inband_wanted(struct engine *e, struct rv_call *c, struct rv_stream *s)
{
	if (s->inband_off)
		return false;
	if (!e->sink->want_inband || e->sink->want_inband(e->sink_ctx, c, s))
		return true;
	s->inband_off = true;
	inband_free(s->dtmf_rx);
	s->dtmf_rx = NULL;
	return false;
}

static void dtmf_inband(struct engine *e, struct rv_stream *s, const struct rtp_hdr *h, uint64_t ts)
{
	if (!s->dtmf_rx) {
		s->dtmf_rx = inband_new();
		if (!s->dtmf_rx)
			return;
	}
	char digits[8];
	int n = inband_feed(s->dtmf_rx, h->payload, h->payload_len, s->alaw, digits, (int)sizeof(digits));
	struct rv_call *c = s->call;
	for (int k = 0; k < n; k++) {
		bool dup = false;
		for (unsigned i = 0; i < c->n_dtmf && !dup; i++) {
			const struct rv_dtmf *d = &c->dtmf[i];
			dup = d->source == DTMF_RFC4733 && d->digit == digits[k] && d->party == s->party &&
			      ts <= d->ts_us + 2000000u && d->ts_us <= ts + 2000000u;
		}
		if (dup) {
			CNT(&e->cnt, dtmf_inband_suppressed);
			continue;
		}
		struct rv_dtmf d = { .digit = digits[k], .source = DTMF_INBAND, .party = s->party, .ts_us = ts,
				     .ssrc = h->ssrc, .seq = h->seq };
		CNT(&e->cnt, dtmf_inband);
		call_add_dtmf(e, c, &d);
	}
}

/* ---- streams ---- */

static void accept_packet(struct engine *e, struct rv_stream *s, const struct rtp_hdr *h, const uint8_t *raw,
			  size_t len, uint64_t ts)
{
	struct rv_call *c = s->call;
	if (e->router) {
		/* call control of a pipeline: only what its timers and its choice
		 * of call need; the worker owning the call does the rest */
		if (!s->first_us)
			s->first_us = ts;
		s->last_us = ts;
		CNT(&e->cnt, rtp_packets);
		call_touch(e, c, ts);
		return;
	}
	bool dup = seq_update(s, h->seq);
	s->pt_bits[h->pt >> 6] |= 1ULL << (h->pt & 63);
	if (!s->first_us)
		s->first_us = ts;
	s->last_us = ts;
	CNT(&e->cnt, rtp_packets);
	bool event = is_event_pt(c, OTHER_PARTY(s->party), h->pt);
	if (event) {
		s->event_packets++;
		CNT(&e->cnt, rtp_events);
		dtmf_rfc4733(e, s, h, ts);
	} else {
		s->packets++;
		if (dup)
			s->dups++;
		if (!s->has_audio_pt) {
			s->has_audio_pt = true;
			s->audio_pt = h->pt;
			const char *n = pt_name(c, OTHER_PARTY(s->party), h->pt);
			if (n) {
				struct span sn = span_make(n, strlen(n));
				s->g711 = span_eq_ci(sn, "PCMU") || span_eq_ci(sn, "PCMA");
				s->alaw = span_eq_ci(sn, "PCMA");
			}
		}
		if (s->g711 && !dup && h->pt == s->audio_pt && e->cfg->rtp_inband_dtmf && inband_wanted(e, c, s))
			dtmf_inband(e, s, h, ts);
	}
	call_touch(e, c, ts);
	if (e->sink->rtp) {
		struct rtp_view v = { .h = h, .pkt = raw, .len = len, .ts_us = ts, .dup = dup, .event = event };
		e->sink->rtp(e->sink_ctx, c, s, &v);
	}
}

static void cand_clear(struct engine *e, struct rv_stream *s, bool failed)
{
	if (failed)
		CNT_ADD(&e->cnt, rtp_probation_failed, s->cand_n);
	for (unsigned i = 0; i < s->cand_n; i++)
		free(s->cand[i].data);
	s->cand_n = 0;
	free(s->cand);
	s->cand = NULL;
}

static void cand_hold(struct rv_stream *s, const struct rtp_hdr *h, const uint8_t *raw, size_t len, uint64_t ts)
{
	if (!s->cand) {
		s->cand = malloc(RV_MAX_HELD * sizeof(*s->cand));
		if (!s->cand)
			return;
	}
	struct held_pkt *hp = &s->cand[s->cand_n];
	hp->data = malloc(len ? len : 1);
	if (!hp->data)
		return;
	memcpy(hp->data, raw, len);
	hp->len = (uint32_t)len;
	hp->ts_us = ts;
	s->cand_n++;
	s->cand_ssrc = h->ssrc;
	s->cand_last_seq = h->seq;
}

static void stream_rtp(struct engine *e, struct rv_stream *s, const struct rtp_hdr *h, const uint8_t *raw,
		       size_t len, uint64_t ts)
{
	if (s->active && h->ssrc == s->ssrc) {
		accept_packet(e, s, h, raw, len, ts);
		return;
	}
	unsigned need = (unsigned)e->cfg->rtp_probation;
	if (need > RV_MAX_HELD + 1)
		need = RV_MAX_HELD + 1;
	bool follows = s->cand_n > 0 && h->ssrc == s->cand_ssrc && h->seq == (uint16_t)(s->cand_last_seq + 1);
	if (!follows && s->cand_n > 0)
		cand_clear(e, s, true);
	if ((unsigned)s->cand_n + 1 < need) {
		cand_hold(s, h, raw, len, ts);
		return;
	}
	/* probation passed: the held packets, then this one, start a new segment */
	struct rtp_hdr hh;
	uint16_t first = s->cand_n ? rd_be16(s->cand[0].data + 2) : h->seq;
	seg_start(s, h->ssrc, first);
	for (unsigned i = 0; i < s->cand_n; i++) {
		if (rtp_parse(s->cand[i].data, s->cand[i].len, &hh) == RTP_OK)
			accept_packet(e, s, &hh, s->cand[i].data, s->cand[i].len, s->cand[i].ts_us);
	}
	cand_clear(e, s, false);
	accept_packet(e, s, h, raw, len, ts);
}

/* The stream table's key hash: the IPv4 5-tuple in 12 bytes (SipHash-2-4
 * in 8 rounds instead of 14 for the 38-byte key, one lookup per packet);
 * other families the 38-byte key.  Both are keyed SipHash (hash flooding),
 * and the lengths differ, so the two kinds cannot be steered together. */
static uint64_t flow_hash(const struct pkt *p)
{
	if (p->src.family == 4 && p->dst.family == 4) {
		uint32_t s4, d4;
		memcpy(&s4, p->src.b, 4);
		memcpy(&d4, p->dst.b, 4);
		return rv_hash_u64_u32((uint64_t)d4 << 32 | s4, (uint32_t)p->dport << 16 | p->sport);
	}
	struct flow_key k;
	flow_key(&k, &p->src, p->sport, &p->dst, p->dport);
	return rv_hash(k.b, sizeof(k.b));
}

static struct rv_stream *stream_find(struct engine *e, const struct pkt *p, uint64_t *hout)
{
	uint64_t h = flow_hash(p);
	*hout = h;
	for (struct hnode *n = htab_first(&e->streams, h); n; n = htab_next(n, h)) {
		struct rv_stream *s = container_of(n, struct rv_stream, hn);
		if (s->sport == p->sport && s->dport == p->dport && ip_addr_eq(&s->src, &p->src) &&
		    ip_addr_eq(&s->dst, &p->dst))
			return s;
	}
	return NULL;
}

static void rtcp_on_call(struct engine *e, struct rv_call *c, const struct pkt *p, uint64_t ts)
{
	struct rtcp_info ri;
	int rc = rtcp_parse(p->payload, p->payload_len, &ri);
	if (rc < 0) {
		CNT(&e->cnt, rtcp_malformed);
		counters_err(e->cnt.rtcp, RTCP_E__COUNT, rc);
		return;
	}
	c->rtcp_packets++;
	CNT(&e->cnt, rtcp_packets);
	call_touch(e, c, ts);
}

static void stream_free(struct engine *e, struct rv_stream *s)
{
	if (e->sink->stream_free)
		e->sink->stream_free(e->sink_ctx, s);
	cand_clear(e, s, true);
	inband_free(s->dtmf_rx);
	htab_remove(&e->streams, &s->hn);
	list_del(&s->call_link);
	e->n_streams--;
	free(s);
}

void stream_free_call(struct engine *e, struct rv_call *c)
{
	while (!list_empty(&c->streams))
		stream_free(e, container_of(c->streams.next, struct rv_stream, call_link));
}

/* RTCP (by port or by RFC 5761 demultiplexing) is counted on the call and
 * consumed; malformed RTP is counted and consumed.  Returns true when *hdr
 * holds a valid RTP header to process. */
static bool parse_media(struct engine *e, struct rv_call *c, const struct pkt *p, bool rtcp_port,
			struct rtp_hdr *hdr, uint64_t ts)
{
	if (rtcp_port || rtp_is_rtcp(p->payload, p->payload_len)) {
		rtcp_on_call(e, c, p, ts);
		return false;
	}
	int rc = rtp_parse(p->payload, p->payload_len, hdr);
	if (rc != RTP_OK) {
		CNT(&e->cnt, rtp_malformed_on_call);
		counters_err(e->cnt.rtp, RTP_E__COUNT, rc);
		return false;
	}
	return true;
}

bool media_udp(struct engine *e, const struct pkt *p, uint64_t ts, bool known_only)
{
	uint64_t h;
	struct rtp_hdr hdr;
	struct rv_stream *s = stream_find(e, p, &h);
	if (s) {
		if (e->router)
			e->router->media(e->router_ctx, s->call->cid_hash, p, ts);
		if (parse_media(e, s->call, p, false, &hdr, ts))
			stream_rtp(e, s, &hdr, p->payload, p->payload_len, ts);
		return true;
	}
	if (known_only)
		return false;

	uint8_t sender;
	bool port_only = false;
	struct rv_expect *x = expect_find(e, &p->dst, p->dport);
	if (x) {
		sender = OTHER_PARTY(x->party);
	} else if ((x = expect_find(e, &p->src, p->sport)) != NULL) {
		sender = x->party;
	} else if (e->cfg->rtp_port_only_fallback && (x = expect_find_port(e, p->dport, p->dst.family)) != NULL) {
		sender = OTHER_PARTY(x->party);
		port_only = true;
	} else if (e->cfg->rtp_port_only_fallback && (x = expect_find_port(e, p->sport, p->src.family)) != NULL) {
		sender = x->party;
		port_only = true;
	} else {
		return false;
	}
	struct rv_call *c = x->call;
	if (e->router)
		e->router->media(e->router_ctx, c->cid_hash, p, ts);
	if (!parse_media(e, c, p, x->kind == EXP_RTCP, &hdr, ts))
		return true;
	/* A second source sending to a port the party already sends to must be
	 * an address the party announced in SDP (moved media); the first source
	 * is learnt as it is (NAT).  Anything else is refused (ATTACKS C10, RTP
	 * bleed: injected media "locking on" to a call). */
	if (party_sends_to(c, sender, &p->dst, p->dport) && !party_announced(c, sender, &p->src)) {
		CNT(&e->cnt, rtp_source_rejected);
		return true;
	}
	if (e->n_streams >= (uint64_t)e->cfg->limits_max_streams) {
		CNT(&e->cnt, streams_table_full);
		return true;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return true;
	s->call = c;
	s->party = sender;
	s->port_only = port_only;
	s->src = p->src;
	s->dst = p->dst;
	s->sport = p->sport;
	s->dport = p->dport;
	htab_insert(&e->streams, &s->hn, h);
	list_add_tail(&c->streams, &s->call_link);
	c->n_streams++;
	e->n_streams++;
	CNT(&e->cnt, streams_created);
	if (port_only)
		CNT(&e->cnt, rtp_port_only_matches);
	stream_rtp(e, s, &hdr, p->payload, p->payload_len, ts);
	return true;
}
