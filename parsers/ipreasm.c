/*
 * ipreasm.c - IPv4 (RFC 791/815) and IPv6 (RFC 8200 sec. 4.5) fragment
 * reassembly with bounded memory (see ipreasm.h for the contract).
 *
 * A datagram in progress is found through a chained hash table keyed by
 * (version, src, dst, protocol, id) and sits on an age list ordered by the
 * arrival of its first fragment; the list head is the oldest datagram, so
 * both the timeout sweep and "evict the oldest" are O(1) per datagram.
 * Fragments are kept in a list sorted by offset, each in its own small
 * allocation.  Completion is O(1): the datagram is whole when the fragment
 * at offset 0 and the last fragment (M = 0) are present and the bytes held
 * equal the total, which (with overlaps refused) means there is no hole.
 *
 * Policies:
 *  - Overlap (RFC 5722, also applied to IPv4): any two fragments sharing a
 *    byte drop the whole datagram (stats.overlaps).  An exact duplicate
 *    (same offset, same length, same bytes) is a retransmission and is
 *    ignored (IPR_MORE); a same-range fragment with different bytes is an
 *    overlap.
 *  - Non-last fragments must carry a multiple of 8 bytes; zero-length
 *    fragments, a second "last" fragment with a different end, or data past
 *    a known end are malformed (stats.bad, the datagram is dropped).
 *  - Oversize: IPv4 header + data > 65535, or IPv6 unfragmentable part
 *    (minus the fixed header) + data > 65535 (stats.oversize, dropped).
 *  - At most IPR_MAX_FRAGS fragments per datagram (beyond: stats.bad).
 *  - Memory: ipreasm_bytes() counts each fragment's payload plus
 *    IPR_FRAG_OVERHEAD, plus the saved header of the first fragment, so the
 *    limit bounds what is really allocated.  When max_datagrams or
 *    max_bytes would be exceeded the oldest datagrams are evicted
 *    (stats.evicted); a fragment that cannot fit even alone is dropped and
 *    counted there too, as are allocation failures.
 *  - Timeouts use capture time: a datagram whose first fragment arrived
 *    timeout_us or more before now is dropped (stats.timeouts), by
 *    ipreasm_expire() and lazily at each feed.  timeout_us = 0 disables.
 *  - Limits of 0 select defaults (1024 datagrams, 4 MiB).
 *
 * The key includes the protocol also for IPv6 (the RFC keys on src, dst,
 * id only); the unfragmentable part of an IPv6 datagram and the IPv4
 * header are taken from the offset-0 fragment.  Not done: IPv4 options
 * that must not be copied into later fragments are irrelevant (only the
 * first fragment's header is used); no ICMP "time exceeded" is produced.
 */
#include "ipreasm.h"

#include <stdlib.h>

#define IPR_MAX_FRAGS 1024
#define IPR_FRAG_OVERHEAD 32
#define IPR_MAX_HDR 1024     /* v6 unfragmentable part kept at most */
#define IPR_MAX_PAYLOAD 65535
#define IPR_OUT_CAP (IPR_MAX_PAYLOAD + 64)
#define IPR_DEF_DATAGRAMS 1024
#define IPR_DEF_BYTES (4u << 20)
#define IPR_MAX_BUCKETS (1u << 20)

struct ipr_key {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint8_t ver;
	uint8_t proto;
	uint8_t pad[2];
};

struct ipr_frag {
	struct ipr_frag *next;
	uint32_t off;
	uint32_t len;
	uint8_t data[];
};

struct ipr_dgram {
	struct ipr_key key;
	struct ipr_dgram *hnext;               /* hash chain */
	struct ipr_dgram *aprev, *anext;       /* age list */
	uint64_t first_us;
	struct ipr_frag *frags;                /* sorted by offset */
	uint32_t nfrags;
	uint32_t held;                         /* payload bytes held */
	uint32_t total;                        /* payload length once the last fragment is seen */
	bool have_last;
	size_t acct;                           /* bytes accounted to this datagram */
	uint8_t *hdr;                          /* header of the offset-0 fragment */
	size_t hdr_len;
	size_t nh_pos;                         /* v6: Next Header byte naming the Fragment header */
};

struct ipreasm {
	struct ipreasm_limits lim;
	struct ipreasm_stats st;
	struct ipr_dgram **buckets;
	size_t nbuckets;                       /* power of two */
	struct ipr_dgram *old, *young;         /* age list ends */
	uint32_t count;
	size_t bytes;
	uint8_t out[IPR_OUT_CAP];
};

static uint32_t key_hash(const struct ipr_key *k)
{
	/* FNV-1a over the key; adequate against accidental clustering. */
	const uint8_t *b = (const uint8_t *)k;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < sizeof(*k); i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h ^ (h >> 15);
}

struct ipreasm *ipreasm_new(const struct ipreasm_limits *lim)
{
	struct ipreasm *r = calloc(1, sizeof(*r));
	size_t nb = 16;

	if (!r)
		return NULL;
	if (lim)
		r->lim = *lim;
	if (r->lim.max_datagrams == 0)
		r->lim.max_datagrams = IPR_DEF_DATAGRAMS;
	if (r->lim.max_bytes == 0)
		r->lim.max_bytes = IPR_DEF_BYTES;
	while (nb < r->lim.max_datagrams && nb < IPR_MAX_BUCKETS)
		nb <<= 1;
	r->buckets = calloc(nb, sizeof(*r->buckets));
	if (!r->buckets) {
		free(r);
		return NULL;
	}
	r->nbuckets = nb;
	return r;
}

static void dgram_destroy(struct ipreasm *r, struct ipr_dgram *d)
{
	struct ipr_dgram **pp = &r->buckets[key_hash(&d->key) & (r->nbuckets - 1)];
	struct ipr_frag *f, *fn;

	while (*pp && *pp != d)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = d->hnext;
	if (d->aprev)
		d->aprev->anext = d->anext;
	else
		r->old = d->anext;
	if (d->anext)
		d->anext->aprev = d->aprev;
	else
		r->young = d->aprev;
	for (f = d->frags; f; f = fn) {
		fn = f->next;
		free(f);
	}
	free(d->hdr);
	r->bytes -= d->acct;
	r->count--;
	free(d);
}

void ipreasm_free(struct ipreasm *r)
{
	if (!r)
		return;
	while (r->old)
		dgram_destroy(r, r->old);
	free(r->buckets);
	free(r);
}

void ipreasm_expire(struct ipreasm *r, uint64_t now_us)
{
	if (r->lim.timeout_us == 0)
		return;
	/* Age order is arrival order; capture time that runs backwards only
	 * delays expiry, never frees too early.  Bounded by r->count. */
	while (r->old && now_us >= r->old->first_us && now_us - r->old->first_us >= r->lim.timeout_us) {
		r->st.timeouts++;
		dgram_destroy(r, r->old);
	}
}

const struct ipreasm_stats *ipreasm_stats(const struct ipreasm *r)
{
	return &r->st;
}

size_t ipreasm_bytes(const struct ipreasm *r)
{
	return r->bytes;
}

uint32_t ipreasm_count(const struct ipreasm *r)
{
	return r->count;
}

/* v6: validates the unfragmentable part and finds the Next Header byte
 * that names the Fragment header.  Returns false when malformed. */
static bool v6_nh_pos(const uint8_t *h, size_t hlen, size_t *pos)
{
	size_t off = 40, at = 6;
	uint8_t nh;

	if (hlen < 40 || hlen > IPR_MAX_HDR)
		return false;
	nh = h[6];
	for (unsigned i = 0; off < hlen; i++) {
		size_t elen;
		if (i >= 16 || hlen - off < 8)
			return false;
		if (nh == 0 || nh == 43 || nh == 60)
			elen = ((size_t)h[off + 1] + 1) * 8;
		else if (nh == 51)
			elen = ((size_t)h[off + 1] + 2) * 4;
		else if (nh == 44)
			elen = 8;
		else
			return false;
		if (elen > hlen - off)
			return false;
		at = off;
		nh = h[off];
		off += elen;
	}
	*pos = at;
	return true;
}

static uint16_t ipv4_csum(const uint8_t *h, size_t len)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)((h[i] << 8) | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static struct ipr_dgram *dgram_find(struct ipreasm *r, const struct ipr_key *k, uint32_t h)
{
	struct ipr_dgram *d;
	for (d = r->buckets[h & (r->nbuckets - 1)]; d; d = d->hnext)
		if (memcmp(&d->key, k, sizeof(*k)) == 0)
			return d;
	return NULL;
}

/* Drops a datagram and counts why; returns IPR_DROPPED for tail calls. */
static int drop(struct ipreasm *r, struct ipr_dgram *d, uint64_t *counter)
{
	(*counter)++;
	if (d)
		dgram_destroy(r, d);
	return IPR_DROPPED;
}

/* Makes room for `need` more bytes without evicting `keep`.  Returns false
 * when even evicting everything else is not enough. */
static bool make_room(struct ipreasm *r, size_t need, struct ipr_dgram *keep)
{
	while (r->bytes + need > r->lim.max_bytes) {
		struct ipr_dgram *v = r->old;
		if (v == keep)
			v = v->anext;
		if (!v)
			return false;
		r->st.evicted++;
		dgram_destroy(r, v);
	}
	return true;
}

static int build(struct ipreasm *r, struct ipr_dgram *d, const uint8_t **out, size_t *out_len)
{
	size_t hl = d->hdr_len, n = hl + d->total;
	const struct ipr_frag *f;
	uint8_t *o = r->out;

	/* oversize was refused on feed, so n fits; keep the check anyway */
	if (n > IPR_OUT_CAP)
		return drop(r, d, &r->st.oversize);
	memcpy(o, d->hdr, hl);
	for (f = d->frags; f; f = f->next)
		memcpy(o + hl + f->off, f->data, f->len);
	if (d->key.ver == 4) {
		o[2] = (uint8_t)(n >> 8);
		o[3] = (uint8_t)n;
		o[6] &= 0x40; /* keep DF, clear MF and the offset */
		o[7] = 0;
		o[10] = o[11] = 0;
		uint16_t c = ipv4_csum(o, hl);
		o[10] = (uint8_t)(c >> 8);
		o[11] = (uint8_t)c;
	} else {
		size_t pl = n - 40;
		o[4] = (uint8_t)(pl >> 8);
		o[5] = (uint8_t)pl;
		o[d->nh_pos] = d->key.proto;
	}
	*out = o;
	*out_len = n;
	r->st.reassembled++;
	dgram_destroy(r, d);
	return IPR_DONE;
}

int ipreasm_feed(struct ipreasm *r, const struct pkt *p, uint64_t now_us, const uint8_t **out,
		 size_t *out_len)
{
	const struct pkt_frag *fr = &p->frag;
	struct ipr_key k;
	struct ipr_dgram *d;
	struct ipr_frag *nf, **pp;
	size_t end, limit_hdr, need;
	uint32_t h;

	r->st.fragments++;
	if (!p->is_frag || (p->ipver != 4 && p->ipver != 6) || !fr->data || fr->data_len == 0 ||
	    !fr->hdr || fr->data_len > IPR_MAX_PAYLOAD || (fr->offset & 7) ||
	    (fr->more && (fr->data_len & 7)))
		return drop(r, NULL, &r->st.bad);
	if (p->ipver == 4 && (fr->hdr_len < 20 || fr->hdr_len > 60))
		return drop(r, NULL, &r->st.bad);
	if (p->ipver == 6 && (fr->hdr_len < 40 || fr->hdr_len > IPR_MAX_HDR))
		return drop(r, NULL, &r->st.bad);

	ipreasm_expire(r, now_us);

	memset(&k, 0, sizeof(k));
	memcpy(k.src, p->src.b, 16);
	memcpy(k.dst, p->dst.b, 16);
	k.id = fr->id;
	k.ver = p->ipver;
	k.proto = fr->next_proto;
	h = key_hash(&k);
	d = dgram_find(r, &k, h);

	end = (size_t)fr->offset + fr->data_len;
	limit_hdr = p->ipver == 4 ? fr->hdr_len : fr->hdr_len - 40;
	if (d && d->hdr)
		limit_hdr = d->key.ver == 4 ? d->hdr_len : d->hdr_len - 40;
	if (limit_hdr + end > IPR_MAX_PAYLOAD)
		return drop(r, d, &r->st.oversize);

	if (d) {
		/* consistency with what is known about the end */
		if (!fr->more && d->have_last && end != d->total)
			return drop(r, d, &r->st.bad);
		if (d->have_last && end > d->total)
			return drop(r, d, &r->st.bad);
		/* find the insertion point; check overlap with neighbours */
		for (pp = &d->frags; *pp && (*pp)->off < fr->offset; pp = &(*pp)->next)
			;
		struct ipr_frag *prev = NULL, *f;
		for (f = d->frags; f && f != *pp; f = f->next)
			prev = f;
		if (*pp && (*pp)->off == fr->offset && (*pp)->len == fr->data_len &&
		    memcmp((*pp)->data, fr->data, fr->data_len) == 0 &&
		    (fr->more || d->have_last))
			return IPR_MORE; /* retransmitted duplicate */
		if (prev && (size_t)prev->off + prev->len > fr->offset)
			return drop(r, d, &r->st.overlaps);
		if (*pp && (*pp)->off < end)
			return drop(r, d, &r->st.overlaps);
		if (!fr->more) {
			/* the last fragment must end after everything held */
			struct ipr_frag *t = d->frags;
			while (t && t->next)
				t = t->next;
			if (t && (size_t)t->off + t->len > end)
				return drop(r, d, &r->st.bad);
		}
		if (d->nfrags >= IPR_MAX_FRAGS)
			return drop(r, d, &r->st.bad);
	} else {
		if (r->count >= r->lim.max_datagrams) {
			r->st.evicted++;
			dgram_destroy(r, r->old);
		}
		d = calloc(1, sizeof(*d));
		if (!d)
			return drop(r, NULL, &r->st.evicted);
		d->key = k;
		d->first_us = now_us;
		d->hnext = r->buckets[h & (r->nbuckets - 1)];
		r->buckets[h & (r->nbuckets - 1)] = d;
		d->aprev = r->young;
		if (r->young)
			r->young->anext = d;
		else
			r->old = d;
		r->young = d;
		r->count++;
		pp = &d->frags;
	}

	need = fr->data_len + IPR_FRAG_OVERHEAD + (fr->offset == 0 ? fr->hdr_len : 0);
	if (!make_room(r, need, d))
		return drop(r, d, &r->st.evicted);
	/* make_room never frees d, and *pp is inside d, so pp stays valid */

	if (fr->offset == 0) {
		size_t pos = 0;
		if (p->ipver == 6 && !v6_nh_pos(fr->hdr, fr->hdr_len, &pos))
			return drop(r, d, &r->st.bad);
		d->hdr = malloc(fr->hdr_len);
		if (!d->hdr)
			return drop(r, d, &r->st.evicted);
		memcpy(d->hdr, fr->hdr, fr->hdr_len);
		d->hdr_len = fr->hdr_len;
		d->nh_pos = pos;
	}
	nf = malloc(sizeof(*nf) + fr->data_len);
	if (!nf)
		return drop(r, d, &r->st.evicted);
	nf->off = fr->offset;
	nf->len = (uint32_t)fr->data_len;
	memcpy(nf->data, fr->data, fr->data_len);
	nf->next = *pp;
	*pp = nf;
	d->nfrags++;
	d->held += nf->len;
	d->acct += need;
	r->bytes += need;
	if (!fr->more) {
		d->have_last = true;
		d->total = (uint32_t)end;
	}

	if (d->have_last && d->hdr && d->held == d->total)
		return build(r, d, out, out_len);
	return IPR_MORE;
}
