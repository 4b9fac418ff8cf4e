/*
 * tcpreasm.c - per-direction TCP stream reassembly (RFC 9293 sec. 3.4
 * sequence numbers, compared modulo 2^32 as in sec. 3.4 / RFC 1982) for
 * message protocols: SIP over TCP (RFC 3261 sec. 18.3, framed by the
 * caller's framer) and SIP over WebSocket (RFC 7118, framed here per
 * RFC 6455 sec. 5 after the sec. 4 opening handshake).
 *
 * Concept: a direction is (src ip:port -> dst ip:port).  It owns
 *   - next_seq: the next byte expected (SYN sets ISN+1; otherwise the first
 *     data segment seen defines it - a passive tap often starts mid-stream);
 *   - buf: contiguous, not yet framed bytes (<= max_buf);
 *   - an out-of-order queue of copied segments ahead of next_seq (at most
 *     max_ooo_segs segments, and buf + queue <= max_buf).  When a segment
 *     cannot be queued the hole is given up: buffered bytes are dropped,
 *     next_seq jumps to the earliest queued byte and the framer resyncs.
 * Bytes already consumed (retransmissions, overlaps) are trimmed.  When buf
 * is full and the framer cannot cut a message, buf is dropped (overflow)
 * and framing resynchronises on later bytes.
 *
 * WebSocket: a direction whose first bytes are "GET " with an
 * "Upgrade: websocket" header has its HTTP header block consumed (never
 * delivered); the reverse direction's "HTTP/1.1 101" header block likewise.
 * Both then carry RFC 6455 frames: data frames are unmasked (in place, or
 * into a per-direction message buffer when fragmented), and each complete
 * text/binary message is delivered once.  Control frames are skipped.  A
 * client direction whose upgrade answer is never seen switches to frames
 * when its next bytes look like a masked frame header.
 *
 * Memory bound: per direction <= 2 * max_buf (stream + out-of-order) plus
 * max_buf for a fragmented WebSocket message, plus a fixed struct; at most
 * max_conns directions (least recently fed evicted).
 *
 * Does NOT: check checksums, follow ACKs, handle urgent data, reassemble
 * permessage-deflate (RSV1) frames (skipped and counted as ws_bad), or
 * interpret HTTP beyond the upgrade handshake.  Callbacks must not call back
 * into the same tcpreasm.  Depends on libc only.
 */
#include "tcpreasm.h"

#include <stdlib.h>

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04

#define HTTP_HDR_MAX 8192u /* longest HTTP upgrade header block looked at */

enum dir_mode {
	DM_NEW = 0,  /* no bytes classified yet */
	DM_FRAMER,   /* caller's framer */
	DM_HTTP_REQ, /* "GET " seen, collecting the header block */
	DM_HTTP_RESP, /* "HTTP/1.1 101" seen, collecting the header block */
	DM_WS_WAIT,  /* upgrade request consumed, answer not seen yet */
	DM_WS,       /* RFC 6455 frames */
	DM_DEAD,     /* framing lost (framer said -2): ignored until a new SYN */
};

struct seg {
	struct seg *next;
	uint32_t seq;
	size_t len;
	uint8_t data[];
};

struct dir {
	struct dir *hnext;               /* hash chain */
	struct dir *lru_prev, *lru_next; /* lru_prev towards most recent */
	struct ip_addr src, dst;
	uint16_t sport, dport;
	uint32_t hash;
	uint64_t last_ts;

	bool seq_known;
	uint32_t next_seq;
	uint8_t *buf;
	size_t len, cap;

	struct seg *ooo; /* sorted by sequence relative to next_seq */
	uint32_t n_ooo;
	size_t ooo_bytes;

	enum dir_mode mode;
	uint8_t *wsmsg; /* fragmented WebSocket message being joined */
	size_t wslen, wscap;
	bool ws_in_msg;  /* a data frame without FIN was seen */
	bool ws_discard; /* current message exceeded max_buf: drop until FIN */
};

struct tcpreasm {
	struct tcpreasm_limits lim;
	tcpreasm_frame_fn frame;
	tcpreasm_msg_fn cb;
	void *ctx;
	struct dir **tab;
	uint32_t nbuckets; /* power of two */
	uint32_t conns;
	size_t bytes;
	struct dir *lru_head, *lru_tail;
	struct tcpreasm_stats st;
};

static void dir_process(struct tcpreasm *t, struct dir *d);

/* ---- table ---- */

static uint32_t key_hash(const struct ip_addr *s, const struct ip_addr *dst, uint16_t sp, uint16_t dp)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ s->b[i]) * 16777619u;
	for (int i = 0; i < 16; i++)
		h = (h ^ dst->b[i]) * 16777619u;
	h = (h ^ s->family) * 16777619u;
	h = (h ^ (uint32_t)(sp >> 8)) * 16777619u;
	h = (h ^ (uint32_t)(sp & 0xff)) * 16777619u;
	h = (h ^ (uint32_t)(dp >> 8)) * 16777619u;
	h = (h ^ (uint32_t)(dp & 0xff)) * 16777619u;
	return h;
}

static struct dir *dir_find(const struct tcpreasm *t, const struct ip_addr *s, const struct ip_addr *dst,
			    uint16_t sp, uint16_t dp)
{
	uint32_t h = key_hash(s, dst, sp, dp);
	for (struct dir *d = t->tab[h & (t->nbuckets - 1)]; d; d = d->hnext)
		if (d->hash == h && d->sport == sp && d->dport == dp && ip_addr_eq(&d->src, s) &&
		    ip_addr_eq(&d->dst, dst))
			return d;
	return NULL;
}

static struct dir *dir_reverse(struct tcpreasm *t, const struct dir *d)
{
	return dir_find(t, &d->dst, &d->src, d->dport, d->sport);
}

static void lru_unlink(struct tcpreasm *t, struct dir *d)
{
	if (d->lru_prev)
		d->lru_prev->lru_next = d->lru_next;
	else
		t->lru_head = d->lru_next;
	if (d->lru_next)
		d->lru_next->lru_prev = d->lru_prev;
	else
		t->lru_tail = d->lru_prev;
	d->lru_prev = d->lru_next = NULL;
}

static void lru_push_front(struct tcpreasm *t, struct dir *d)
{
	d->lru_prev = NULL;
	d->lru_next = t->lru_head;
	if (t->lru_head)
		t->lru_head->lru_prev = d;
	t->lru_head = d;
	if (!t->lru_tail)
		t->lru_tail = d;
}

static void ooo_clear(struct tcpreasm *t, struct dir *d)
{
	struct seg *s = d->ooo;
	while (s) {
		struct seg *n = s->next;
		t->bytes -= s->len;
		free(s);
		s = n;
	}
	d->ooo = NULL;
	d->n_ooo = 0;
	d->ooo_bytes = 0;
}

static void ws_msg_reset(struct dir *d)
{
	d->wslen = 0;
	d->ws_in_msg = false;
	d->ws_discard = false;
}

static void dir_free(struct tcpreasm *t, struct dir *d)
{
	struct dir **pp = &t->tab[d->hash & (t->nbuckets - 1)];
	while (*pp && *pp != d)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = d->hnext;
	lru_unlink(t, d);
	ooo_clear(t, d);
	t->bytes -= d->cap + d->wscap;
	free(d->buf);
	free(d->wsmsg);
	free(d);
	t->conns--;
}

static struct dir *dir_new(struct tcpreasm *t, const struct pkt *p)
{
	struct dir *d;
	if (t->conns >= t->lim.max_conns && t->lru_tail) {
		dir_free(t, t->lru_tail);
		t->st.evicted++;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->src = p->src;
	d->dst = p->dst;
	d->sport = p->sport;
	d->dport = p->dport;
	d->hash = key_hash(&p->src, &p->dst, p->sport, p->dport);
	d->hnext = t->tab[d->hash & (t->nbuckets - 1)];
	t->tab[d->hash & (t->nbuckets - 1)] = d;
	lru_push_front(t, d);
	t->conns++;
	return d;
}

/* ---- lifecycle ---- */

struct tcpreasm *tcpreasm_new(const struct tcpreasm_limits *lim, tcpreasm_frame_fn frame,
			      tcpreasm_msg_fn cb, void *ctx)
{
	struct tcpreasm *t;
	uint32_t nb = 16;

	if (!lim || !frame || !cb || lim->max_conns == 0 || lim->max_buf == 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->lim = *lim;
	t->frame = frame;
	t->cb = cb;
	t->ctx = ctx;
	while (nb < lim->max_conns && nb < (1u << 20))
		nb <<= 1;
	t->nbuckets = nb;
	t->tab = calloc(nb, sizeof(*t->tab));
	if (!t->tab) {
		free(t);
		return NULL;
	}
	return t;
}

void tcpreasm_free(struct tcpreasm *t)
{
	if (!t)
		return;
	while (t->lru_head)
		dir_free(t, t->lru_head);
	free(t->tab);
	free(t);
}

const struct tcpreasm_stats *tcpreasm_stats(const struct tcpreasm *t)
{
	return &t->st;
}

uint32_t tcpreasm_conns(const struct tcpreasm *t)
{
	return t->conns;
}

size_t tcpreasm_bytes(const struct tcpreasm *t)
{
	return t->bytes;
}

bool tcpreasm_tracks(const struct tcpreasm *t, const struct pkt *p)
{
	return dir_find(t, &p->src, &p->dst, p->sport, p->dport) ||
	       dir_find(t, &p->dst, &p->src, p->dport, p->sport);
}

void tcpreasm_expire(struct tcpreasm *t, uint64_t now_us)
{
	/* LRU order is feed order, which follows capture time; stop at the
	 * first direction still active. */
	if (t->lim.idle_us == 0)
		return;
	while (t->lru_tail) {
		struct dir *d = t->lru_tail;
		if (now_us < d->last_ts || now_us - d->last_ts < t->lim.idle_us)
			break;
		dir_free(t, d);
		t->st.expired++;
	}
}

/* ---- delivery ---- */

static void deliver(struct tcpreasm *t, const struct dir *d, const uint8_t *m, size_t n, bool ws)
{
	struct tcp_msg msg;
	msg.src = d->src;
	msg.dst = d->dst;
	msg.sport = d->sport;
	msg.dport = d->dport;
	msg.ts_us = d->last_ts;
	msg.websocket = ws;
	msg.msg = m;
	msg.len = n;
	t->st.messages++;
	t->cb(t->ctx, &msg);
}

static void buf_consume(struct dir *d, size_t n)
{
	if (n >= d->len) {
		d->len = 0;
		return;
	}
	memmove(d->buf, d->buf + n, d->len - n);
	d->len -= n;
}

/* Runs the caller's framer over buf; returns bytes consumed. */
static size_t run_framer(struct tcpreasm *t, struct dir *d)
{
	size_t off = 0;
	while (off < d->len) {
		size_t left = d->len - off, ml = 0, skip = 0;
		int r = t->frame(d->buf + off, left, &ml, &skip);
		if (r == 1 && ml >= 1 && ml <= left) {
			deliver(t, d, d->buf + off, ml, false);
			off += ml;
		} else if (r == 0) {
			break;
		} else if (r == -2) {
			/* the stream's framing is lost: a peer would close the
			 * connection, so nothing after this point is a message */
			t->st.abandoned++;
			d->mode = DM_DEAD;
			return d->len;
		} else {
			/* -1, or a framer answer that does not fit: resync */
			if (r == 1 || skip == 0)
				skip = 1;
			if (skip > left)
				skip = left;
			t->st.resyncs++;
			off += skip;
		}
	}
	return off;
}

/* ---- WebSocket (RFC 6455 sec. 5.2) ---- */

static bool ws_append(struct tcpreasm *t, struct dir *d, const uint8_t *p, size_t n)
{
	if (n > t->lim.max_buf - d->wslen)
		return false;
	if (d->wslen + n > d->wscap) {
		size_t nc = d->wscap ? d->wscap : 256;
		uint8_t *nb;
		while (nc < d->wslen + n)
			nc = nc > t->lim.max_buf / 2 ? t->lim.max_buf : nc * 2;
		if (nc > t->lim.max_buf)
			nc = t->lim.max_buf;
		nb = realloc(d->wsmsg, nc);
		if (!nb)
			return false;
		t->bytes += nc - d->wscap;
		d->wsmsg = nb;
		d->wscap = nc;
	}
	memcpy(d->wsmsg + d->wslen, p, n);
	d->wslen += n;
	return true;
}

/* Parses frames from buf; returns bytes consumed (the whole buffer when a
 * malformed frame header forces a resync). */
static size_t run_ws(struct tcpreasm *t, struct dir *d)
{
	size_t off = 0;
	/* every iteration consumes >= 2 bytes or stops */
	while (d->len - off >= 2) {
		uint8_t *f = d->buf + off;
		size_t left = d->len - off, hl = 2;
		uint64_t plen = f[1] & 0x7f;
		uint8_t op = f[0] & 0x0f, rsv = f[0] & 0x70;
		bool fin = (f[0] & 0x80) != 0, masked = (f[1] & 0x80) != 0;

		if (plen == 126) {
			if (left < 4)
				break;
			plen = rd_be16(f + 2);
			hl = 4;
		} else if (plen == 127) {
			if (left < 10)
				break;
			plen = ((uint64_t)rd_be32(f + 2) << 32) | rd_be32(f + 6);
			hl = 10;
		}
		if (masked)
			hl += 4;
		if ((op >= 3 && op <= 7) || op >= 11 || (op >= 8 && (!fin || plen > 125)) ||
		    plen > (uint64_t)t->lim.max_buf || hl + (size_t)plen > t->lim.max_buf) {
			/* not a frame we can trust: drop everything, resync */
			t->st.ws_bad++;
			ws_msg_reset(d);
			return d->len;
		}
		if (left < hl + (size_t)plen)
			break;
		t->st.ws_frames++;
		{
			uint8_t *pl = f + hl;
			size_t n = (size_t)plen;
			if (masked) {
				const uint8_t *key = f + hl - 4;
				for (size_t i = 0; i < n; i++)
					pl[i] ^= key[i & 3];
			}
			off += hl + n;
			if (op >= 8)
				continue; /* close/ping/pong */
			if (rsv) {
				/* compressed or unknown extension: unusable */
				t->st.ws_bad++;
				if (op != 0 || d->ws_in_msg) {
					d->ws_in_msg = !fin;
					d->ws_discard = !fin;
					d->wslen = 0;
				}
				continue;
			}
			if (op == 0 && !d->ws_in_msg) {
				t->st.ws_bad++; /* continuation of nothing */
				continue;
			}
			if (op != 0 && d->ws_in_msg) {
				t->st.ws_bad++; /* unfinished message abandoned */
				ws_msg_reset(d);
			}
			if (op != 0 && fin) {
				deliver(t, d, pl, n, true);
				continue;
			}
			if (op != 0) {
				d->ws_in_msg = true;
				d->ws_discard = false;
				d->wslen = 0;
			}
			if (!d->ws_discard && !ws_append(t, d, pl, n)) {
				t->st.ws_bad++;
				d->ws_discard = true;
				d->wslen = 0;
			}
			if (fin) {
				if (!d->ws_discard)
					deliver(t, d, d->wsmsg, d->wslen, true);
				ws_msg_reset(d);
			}
		}
	}
	return off;
}

/* ---- HTTP upgrade handshake (RFC 6455 sec. 4) ---- */

static bool prefix_match(const uint8_t *p, size_t len, const char *lit, bool *partial)
{
	size_t n = strlen(lit), m = len < n ? len : n;
	*partial = false;
	if (memcmp(p, lit, m) != 0)
		return false;
	if (len < n)
		*partial = true;
	return true;
}

/* true when a line "Upgrade: ...websocket..." is in the header block */
static bool has_ws_upgrade(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		struct span rest = span_make(p + i, n - i);
		long e = span_find(rest, "\r\n", 2);
		struct span line = span_make(p + i, e < 0 ? n - i : (size_t)e);
		if (span_starts_ci(line, "upgrade:")) {
			struct span v = span_trim(span_make(line.p + 8, line.len - 8));
			for (size_t k = 0; k + 9 <= v.len; k++)
				if (span_starts_ci(span_make(v.p + k, v.len - k), "websocket"))
					return true;
		}
		if (e < 0)
			break;
		i += (size_t)e + 2;
	}
	return false;
}

/* Decides what a client waiting for the upgrade answer becomes. */
static void ws_settle_reverse(struct tcpreasm *t, struct dir *d, bool upgraded)
{
	struct dir *r = dir_reverse(t, d);
	if (!r || r->mode != DM_WS_WAIT)
		return;
	r->mode = upgraded ? DM_WS : DM_FRAMER;
	dir_process(t, r);
}

/* Classifies a direction's first bytes and consumes an HTTP upgrade header
 * block.  Returns false when more bytes are needed. */
static bool classify(struct tcpreasm *t, struct dir *d)
{
	bool partial;
	long hend;
	size_t lim = t->lim.max_buf < HTTP_HDR_MAX ? t->lim.max_buf : HTTP_HDR_MAX;

	if (d->mode == DM_NEW) {
		if (d->len == 0)
			return false;
		if (prefix_match(d->buf, d->len, "GET ", &partial)) {
			if (partial)
				return false;
			d->mode = DM_HTTP_REQ;
		} else if (prefix_match(d->buf, d->len, "HTTP/1.1 101", &partial)) {
			if (partial)
				return false;
			d->mode = DM_HTTP_RESP;
		} else {
			d->mode = DM_FRAMER;
			ws_settle_reverse(t, d, false);
			return true;
		}
	}
	if (d->mode == DM_HTTP_REQ || d->mode == DM_HTTP_RESP) {
		hend = span_find(span_make(d->buf, d->len), "\r\n\r\n", 4);
		if (hend < 0) {
			if (d->len < lim)
				return false;
			/* no header end in sight: not an upgrade */
			if (d->mode == DM_HTTP_RESP)
				ws_settle_reverse(t, d, false);
			d->mode = DM_FRAMER;
			return true;
		}
		if (d->mode == DM_HTTP_RESP) {
			buf_consume(d, (size_t)hend + 4);
			d->mode = DM_WS;
			ws_settle_reverse(t, d, true);
			return true;
		}
		if (!has_ws_upgrade(d->buf, (size_t)hend)) {
			d->mode = DM_FRAMER;
			return true;
		}
		buf_consume(d, (size_t)hend + 4);
		{
			struct dir *r = dir_reverse(t, d);
			if (r && r->mode == DM_WS)
				d->mode = DM_WS;
			else if (r && r->mode == DM_FRAMER)
				d->mode = DM_FRAMER;
			else
				d->mode = DM_WS_WAIT;
		}
		return true;
	}
	if (d->mode == DM_WS_WAIT) {
		/* answer not seen: a masked frame header means it was accepted */
		if (d->len < 2)
			return false;
		if ((d->buf[0] & 0x70) == 0 && (d->buf[1] & 0x80)) {
			d->mode = DM_WS;
			return true;
		}
		return false;
	}
	return true;
}

static void dir_process(struct tcpreasm *t, struct dir *d)
{
	/* each pass either changes mode forward or returns; <= 4 passes */
	for (int pass = 0; pass < 8; pass++) {
		enum dir_mode before = d->mode;
		if (d->mode == DM_FRAMER) {
			buf_consume(d, run_framer(t, d));
			return;
		}
		if (d->mode == DM_WS) {
			buf_consume(d, run_ws(t, d));
			return;
		}
		if (d->mode == DM_DEAD) {
			d->len = 0;
			return;
		}
		if (!classify(t, d) && d->mode == before)
			return;
	}
}

/* ---- stream ---- */

/* Appends in-order bytes, framing as it goes; drops buf when it is full and
 * no message could be cut. */
static void stream_append(struct tcpreasm *t, struct dir *d, const uint8_t *p, size_t n)
{
	d->next_seq += (uint32_t)n;
	while (n > 0) {
		size_t room, take;
		if (d->len == t->lim.max_buf) {
			t->st.overflows++;
			d->len = 0;
			ws_msg_reset(d);
		}
		room = t->lim.max_buf - d->len;
		take = n < room ? n : room;
		if (d->len + take > d->cap) {
			size_t nc = d->cap ? d->cap : 1024;
			uint8_t *nb;
			while (nc < d->len + take)
				nc = nc > t->lim.max_buf / 2 ? t->lim.max_buf : nc * 2;
			if (nc > t->lim.max_buf)
				nc = t->lim.max_buf;
			nb = realloc(d->buf, nc);
			if (!nb) {
				t->st.overflows++;
				d->len = 0;
				return;
			}
			t->bytes += nc - d->cap;
			d->buf = nb;
			d->cap = nc;
		}
		memcpy(d->buf + d->len, p, take);
		d->len += take;
		p += take;
		n -= take;
		dir_process(t, d);
	}
}

/* Places bytes starting at seq: trims what was already consumed, appends
 * what is next.  Returns false when seq is ahead of next_seq. */
static bool place_in_order(struct tcpreasm *t, struct dir *d, uint32_t seq, const uint8_t *p, size_t n,
			   bool *retrans)
{
	int32_t off = (int32_t)(seq - d->next_seq);
	if (off > 0)
		return false;
	if (off < 0) {
		size_t dup = (size_t)(-(int64_t)off);
		*retrans = true;
		if (dup >= n)
			return true;
		p += dup;
		n -= dup;
	}
	stream_append(t, d, p, n);
	return true;
}

/* Appends every queued segment that has become contiguous. */
static void ooo_flush(struct tcpreasm *t, struct dir *d)
{
	while (d->ooo && (int32_t)(d->ooo->seq - d->next_seq) <= 0) {
		struct seg *s = d->ooo;
		bool rt = false;
		d->ooo = s->next;
		d->n_ooo--;
		d->ooo_bytes -= s->len;
		t->bytes -= s->len;
		place_in_order(t, d, s->seq, s->data, s->len, &rt);
		free(s);
	}
}

/* Gives up the hole before the earliest queued segment. */
static void gap_skip(struct tcpreasm *t, struct dir *d, uint32_t to)
{
	t->st.gaps_skipped++;
	d->len = 0;
	ws_msg_reset(d);
	d->next_seq = to;
	ooo_flush(t, d);
}

static bool ooo_insert(struct tcpreasm *t, struct dir *d, uint32_t seq, const uint8_t *p, size_t n)
{
	struct seg **pp = &d->ooo, *s;
	if (d->n_ooo >= t->lim.max_ooo_segs || n > t->lim.max_buf ||
	    d->len + d->ooo_bytes > t->lim.max_buf - n)
		return false;
	while (*pp && (int32_t)((*pp)->seq - d->next_seq) < (int32_t)(seq - d->next_seq))
		pp = &(*pp)->next;
	if (*pp && (*pp)->seq == seq && (*pp)->len >= n) {
		t->st.retransmissions++; /* same segment queued already */
		return true;
	}
	s = malloc(sizeof(*s) + n);
	if (!s)
		return false;
	s->seq = seq;
	s->len = n;
	memcpy(s->data, p, n);
	s->next = *pp;
	*pp = s;
	d->n_ooo++;
	d->ooo_bytes += n;
	t->bytes += n;
	t->st.out_of_order++;
	return true;
}

static void place(struct tcpreasm *t, struct dir *d, uint32_t seq, const uint8_t *p, size_t n)
{
	bool rt = false;
	if (place_in_order(t, d, seq, p, n, &rt)) {
		if (rt)
			t->st.retransmissions++;
		ooo_flush(t, d);
		return;
	}
	if (ooo_insert(t, d, seq, p, n))
		return;
	/* queue full: skip the hole up to the earliest queued byte */
	{
		uint32_t to = seq;
		if (d->ooo && (int32_t)(d->ooo->seq - seq) < 0)
			to = d->ooo->seq;
		gap_skip(t, d, to);
	}
	if (place_in_order(t, d, seq, p, n, &rt)) {
		ooo_flush(t, d);
		return;
	}
	if (ooo_insert(t, d, seq, p, n))
		return;
	/* still no room: give up everything before this segment */
	ooo_clear(t, d);
	gap_skip(t, d, seq);
	place_in_order(t, d, seq, p, n, &rt);
}

/* Delivers whatever is queued across remaining holes (stream end). */
static void drain(struct tcpreasm *t, struct dir *d)
{
	while (d->ooo)
		gap_skip(t, d, d->ooo->seq);
}

void tcpreasm_feed(struct tcpreasm *t, const struct pkt *p, uint64_t ts_us)
{
	struct dir *d;
	uint8_t fl = p->tcp_flags;
	uint32_t seq = p->tcp_seq;
	const uint8_t *data = p->payload;
	size_t n = data ? p->payload_len : 0;

	t->st.segments++;
	d = dir_find(t, &p->src, &p->dst, p->sport, p->dport);
	if (fl & TCP_RST) {
		/* data of the RST segment first, then both directions go */
		struct dir *r;
		if (d && n > 0) {
			d->last_ts = ts_us;
			place(t, d, seq, data, n);
		}
		if (d) {
			drain(t, d);
			dir_free(t, d);
		}
		r = dir_find(t, &p->dst, &p->src, p->dport, p->sport);
		if (r) {
			drain(t, r);
			dir_free(t, r);
		}
		return;
	}
	if (!d) {
		if (n == 0 && !(fl & TCP_SYN))
			return; /* bare ACK/FIN of an untracked direction */
		d = dir_new(t, p);
		if (!d)
			return;
	} else {
		lru_unlink(t, d);
		lru_push_front(t, d);
	}
	d->last_ts = ts_us;
	if (fl & TCP_SYN) {
		/* (re)start: ISN + 1 is the first data byte, unless this is a
		 * retransmitted SYN of the stream already followed */
		uint32_t isn1 = seq + 1;
		int32_t back = (int32_t)(d->next_seq - isn1);
		if (!d->seq_known || back < 0 || back > (1 << 24)) {
			ooo_clear(t, d);
			d->len = 0;
			ws_msg_reset(d);
			d->mode = DM_NEW;
			d->next_seq = isn1;
			d->seq_known = true;
		}
		seq = isn1;
	}
	if (n > 0) {
		if (!d->seq_known) {
			d->next_seq = seq;
			d->seq_known = true;
		}
		place(t, d, seq, data, n);
	}
	if (fl & TCP_FIN) {
		drain(t, d);
		dir_free(t, d);
	}
}
