/*
 * orphan.c - RTP streams without signalling (see orphan.h).
 */
#include "orphan.h"

#include <stdlib.h>
#include <string.h>

#include "rtp.h"

#define EVENT_PT 101

static uint64_t key_hash(const struct ip_addr *s, uint16_t sp, const struct ip_addr *d, uint16_t dp)
{
	uint8_t b[38];
	b[0] = s->family;
	memcpy(b + 1, s->b, 16);
	memcpy(b + 17, d->b, 16);
	b[33] = (uint8_t)(sp >> 8);
	b[34] = (uint8_t)sp;
	b[35] = (uint8_t)(dp >> 8);
	b[36] = (uint8_t)dp;
	b[37] = 0x5a; /* not the stream table's key */
	return rv_hash(b, sizeof(b));
}

int orphans_init(struct orphans *o)
{
	memset(o, 0, sizeof(*o));
	list_init(&o->fifo);
	return htab_init(&o->tab, 256, ORPHAN_MAX);
}

static void drop(struct orphans *o, struct orphan *s)
{
	htab_remove(&o->tab, &s->hn);
	list_del(&s->fifo);
	o->n--;
	free(s);
}

void orphans_free(struct orphans *o)
{
	while (!list_empty(&o->fifo))
		drop(o, container_of(o->fifo.next, struct orphan, fifo));
	htab_destroy(&o->tab);
}

static void add_ssrc(struct orphan *s, uint32_t ssrc)
{
	for (unsigned i = 0; i < s->n_ssrcs; i++)
		if (s->ssrcs[i] == ssrc)
			return;
	if (s->n_ssrcs < 8)
		s->ssrcs[s->n_ssrcs++] = ssrc;
}

static void count(struct orphan *s, const struct rtp_hdr *h, uint64_t ts)
{
	add_ssrc(s, h->ssrc);
	s->pt_bits[h->pt >> 6] |= 1ULL << (h->pt & 63);
	if (!s->first_us)
		s->first_us = ts;
	s->last_us = ts;
	if (h->pt != EVENT_PT) {
		s->packets++;
		return;
	}
	s->event_packets++;
	struct rfc4733_event ev;
	if (rfc4733_parse(h->payload, h->payload_len, &ev) < 0)
		return;
	if (s->ev_valid && s->ev_ssrc == h->ssrc && s->ev_ts == h->ts)
		return;
	s->ev_valid = true;
	s->ev_ssrc = h->ssrc;
	s->ev_ts = h->ts;
	char d = rfc4733_digit(ev.event);
	if (d && s->n_digits < ORPHAN_MAX_DIGITS) {
		s->digit_us[s->n_digits] = ts;
		s->digits[s->n_digits++] = d;
	}
}

void orphans_udp(struct orphans *o, const struct pkt *p, uint64_t ts)
{
	struct rtp_hdr h;
	if (rtp_is_rtcp(p->payload, p->payload_len) || rtp_parse(p->payload, p->payload_len, &h) != RTP_OK)
		return;
	uint64_t k = key_hash(&p->src, p->sport, &p->dst, p->dport);
	struct orphan *s = NULL;
	for (struct hnode *n = htab_first(&o->tab, k); n; n = htab_next(n, k)) {
		struct orphan *x = container_of(n, struct orphan, hn);
		if (x->sport == p->sport && x->dport == p->dport && ip_addr_eq(&x->src, &p->src) &&
		    ip_addr_eq(&x->dst, &p->dst)) {
			s = x;
			break;
		}
	}
	if (!s) {
		if (o->n >= ORPHAN_MAX) {
			drop(o, container_of(o->fifo.next, struct orphan, fifo));
			o->evicted++;
		}
		s = calloc(1, sizeof(*s));
		if (!s)
			return;
		s->src = p->src;
		s->dst = p->dst;
		s->sport = p->sport;
		s->dport = p->dport;
		htab_insert(&o->tab, &s->hn, k);
		list_add_tail(&o->fifo, &s->fifo);
		o->n++;
	}
	if (s->accepted) {
		count(s, &h, ts);
		return;
	}
	/* probation: two in sequence with one SSRC; every packet seen before
	 * that is then counted too (Wireshark counts them all) */
	if (s->run && h.ssrc == s->ssrc && h.seq == (uint16_t)(s->last_seq + 1)) {
		s->accepted = true;
		s->first_us = s->pre_first_us;
		s->packets += s->pre_audio;
		s->event_packets += s->pre_events;
		add_ssrc(s, s->ssrc);
		count(s, &h, ts);
		return;
	}
	if (!s->pre_first_us)
		s->pre_first_us = ts;
	if (h.pt == EVENT_PT)
		s->pre_events++;
	else
		s->pre_audio++;
	s->run = 1;
	s->ssrc = h.ssrc;
	s->last_seq = h.seq;
}

struct sorted {
	const struct orphan **v;
	size_t n;
};

static int cmp_first(const void *a, const void *b)
{
	const struct orphan *x = *(const struct orphan *const *)a, *y = *(const struct orphan *const *)b;
	return x->first_us < y->first_us ? -1 : x->first_us > y->first_us;
}

void orphans_each(struct orphans *o, void (*cb)(void *ctx, const struct orphan *s), void *ctx)
{
	if (!o->n)
		return;
	const struct orphan **v = malloc(o->n * sizeof(*v));
	if (!v)
		return;
	size_t n = 0;
	for (struct list *l = o->fifo.next; l != &o->fifo; l = l->next) {
		const struct orphan *s = container_of(l, struct orphan, fifo);
		if (s->accepted)
			v[n++] = s;
	}
	qsort(v, n, sizeof(*v), cmp_first);
	for (size_t i = 0; i < n; i++)
		cb(ctx, v[i]);
	free(v);
}
