/*
 * test_engine_state.c - the engine's state per tracked call is kept small
 * (docs/performance.md, "engine state per tracked call") without losing
 * anything:
 *
 *   - payload-type maps are allocated to size, with common encoding names
 *     as indexes into a shared read-only table: every lookup must give what
 *     the fixed 16 x char[24] maps gave (a reference copy of that code is
 *     below), over random and hostile a=rtpmap sequences;
 *   - the Call-ID, caller and callee share one allocation, users cut to 63
 *     bytes as before;
 *   - the probation holding array exists only while a candidate SSRC holds
 *     packets;
 *   - a "no" from the sink's want_inband frees the stream's detector and is
 *     not asked again;
 *   - heap per call (a call with two G.711 streams, their in-band detectors
 *     and four expectations) stays under 2 KiB (release build only: glibc
 *     mallinfo2 does not see ASan's allocator).
 */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "engine_int.h"

/* ---------------------------------------------------------------- payload-type maps */

/* The maps as they were: 16 entries of {pt, rate, char enc[24]} per party. */
struct old_entry {
	uint8_t pt;
	uint32_t rate;
	char enc[24];
};
struct old_map {
	uint8_t n;
	struct old_entry e[16];
};

static void old_update(struct old_map *pm, const struct sdp_media *md)
{
	for (unsigned i = 0; i < md->n_rtpmap; i++) {
		const struct sdp_rtpmap *r = &md->rtpmap[i];
		unsigned k;
		for (k = 0; k < pm->n; k++)
			if (pm->e[k].pt == r->pt)
				break;
		if (k == pm->n) {
			if (pm->n == 16)
				continue;
			pm->n++;
		}
		pm->e[k].pt = r->pt;
		pm->e[k].rate = r->rate;
		size_t l = r->encoding.len < sizeof(pm->e[k].enc) - 1 ? r->encoding.len : sizeof(pm->e[k].enc) - 1;
		memcpy(pm->e[k].enc, r->encoding.p, l);
		pm->e[k].enc[l] = '\0';
	}
}

static const struct old_entry *old_call_pt(const struct old_map m[2], uint8_t receiver, uint8_t pt)
{
	for (int k = 0; k < 2; k++) {
		const struct old_map *pm = &m[k == 0 ? receiver : OTHER_PARTY(receiver)];
		for (unsigned i = 0; i < pm->n; i++)
			if (pm->e[i].pt == pt)
				return &pm->e[i];
	}
	return NULL;
}

static const char *old_stream_codec(const struct old_map m[2], uint8_t sender, uint8_t pt)
{
	const struct old_entry *e = old_call_pt(m, OTHER_PARTY(sender), pt);
	if (e)
		return e->enc;
	uint32_t rate;
	const char *n = sdp_static_pt(pt, &rate);
	return n ? n : "unknown";
}

/* Every lookup of the new maps against the old ones. */
static void check_same(const struct rv_call *c, const struct old_map m[2])
{
	for (uint8_t recv = 0; recv < 2; recv++) {
		for (unsigned pt = 0; pt < 128; pt++) {
			const struct old_entry *oe = old_call_pt(m, recv, (uint8_t)pt);
			struct pt_info pi;
			memset(&pi, 0xa5, sizeof(pi));
			bool found = call_pt(c, recv, (uint8_t)pt, &pi);
			assert_int_equal(found, oe != NULL);
			if (oe) {
				assert_int_equal(pi.pt, pt);
				assert_int_equal(pi.rate, oe->rate);
				assert_string_equal(pi.enc, oe->enc);
			}
			struct rv_stream s;
			memset(&s, 0, sizeof(s));
			s.call = (struct rv_call *)c;
			s.party = OTHER_PARTY(recv);
			assert_string_equal(stream_codec(&s), "");
			s.has_audio_pt = true;
			s.audio_pt = (uint8_t)pt;
			assert_string_equal(stream_codec(&s), old_stream_codec(m, s.party, (uint8_t)pt));
		}
	}
}

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static const char *const names[] = {
	"PCMU", "PCMA", "telephone-event", "G722", "G729", "GSM", "opus", "iLBC", "speex", "L16", "CN", "AMR",
	"AMR-WB", "G726-32", "red", "H264", "VP8",
	/* near misses: other case, prefixes, suffixes */
	"pcmu", "Pcma", "TELEPHONE-EVENT", "telephone-even", "telephone-events", "PCM", "PCMUX", "G7221", "",
	/* long ones: exactly 23, 24 and more characters (cut to 23) */
	"x-vendor-codec-23-chars", "x-vendor-codec-24-chars!", "telephone-event-extended-beyond",
	"AMR-WB-with-a-very-long-suffix",
};

/* One random name into buf (owned by the caller), returned as a span. */
static struct span rand_name(char *buf, size_t cap)
{
	uint32_t k = rnd() % 4;
	if (k < 3) {
		const char *n = names[rnd() % (sizeof(names) / sizeof(names[0]))];
		size_t l = strlen(n);
		memcpy(buf, n, l);
		return span_make(buf, l);
	}
	/* raw bytes, any value (NUL included), 0..30 long */
	size_t l = rnd() % 31;
	if (l > cap)
		l = cap;
	for (size_t i = 0; i < l; i++)
		buf[i] = (char)(rnd() % 5 == 0 ? 0 : rnd() & 0xff);
	return span_make(buf, l);
}

static void test_pt_maps_same_as_fixed_maps(void **state)
{
	(void)state;
	static const uint32_t rates[] = { 8000, 16000, 48000, 0, 90000, 0xffffffffu };
	for (int round = 0; round < 300; round++) {
		struct rv_call *c = calloc(1, sizeof(*c));
		assert_non_null(c);
		struct old_map m[2];
		memset(m, 0, sizeof(m));
		int sdps = 1 + (int)(rnd() % 8);
		for (int k = 0; k < sdps; k++) {
			uint8_t party = (uint8_t)(rnd() & 1);
			struct sdp_media *md = calloc(1, sizeof(*md));
			char *buf = malloc(SDP_MAX_FMT * 32);
			assert_non_null(md);
			assert_non_null(buf);
			md->n_rtpmap = (uint8_t)(rnd() % (SDP_MAX_FMT + 1));
			unsigned pts = 4 + rnd() % 24; /* often more than 16 distinct */
			for (unsigned i = 0; i < md->n_rtpmap; i++) {
				md->rtpmap[i].pt = (uint8_t)(rnd() % 3 ? 96 + rnd() % pts : rnd() % 128);
				md->rtpmap[i].rate = rates[rnd() % (sizeof(rates) / sizeof(rates[0]))];
				md->rtpmap[i].encoding = rand_name(buf + i * 32, 32);
			}
			old_update(&m[party], md);
			pt_map_update(&c->pt[party], md);
			/* the map must not point into the SDP */
			memset(buf, 'Z', SDP_MAX_FMT * 32);
			free(buf);
			free(md);
			check_same(c, m);
		}
		pt_map_free(c->pt[0]);
		pt_map_free(c->pt[1]);
		free(c);
	}
}

static void test_pt_map_cases(void **state)
{
	(void)state;
	struct rv_call c;
	memset(&c, 0, sizeof(c));
	struct old_map m[2];
	memset(m, 0, sizeof(m));
	struct sdp_media md;
	memset(&md, 0, sizeof(md));
	/* 20 payload types: the first 16 are kept */
	char nb[20][40];
	for (int i = 0; i < 20; i++) {
		snprintf(nb[i], sizeof(nb[i]), "codec-%02d-%s", i, i & 1 ? "long-name-past-23" : "x");
		md.rtpmap[i] = (struct sdp_rtpmap){ .pt = (uint8_t)(96 + i), .encoding = span_make(nb[i], strlen(nb[i])),
						    .rate = (uint32_t)(8000 * (i + 1)) };
	}
	md.n_rtpmap = 20;
	pt_map_update(&c.pt[PARTY_CALLEE], &md);
	old_update(&m[PARTY_CALLEE], &md);
	check_same(&c, m);
	struct pt_info pi;
	assert_true(call_pt(&c, PARTY_CALLEE, 96 + 15, &pi));
	assert_false(call_pt(&c, PARTY_CALLEE, 96 + 16, &pi));
	assert_true(call_pt(&c, PARTY_CALLEE, 97, &pi));
	assert_string_equal(pi.enc, "codec-01-long-name-past"); /* 23 characters */
	/* a later rtpmap for a known pt replaces name and rate; a new one is dropped when full */
	md.n_rtpmap = 2;
	md.rtpmap[0] = (struct sdp_rtpmap){ .pt = 97, .encoding = span_make("PCMA", 4), .rate = 8000 };
	md.rtpmap[1] = (struct sdp_rtpmap){ .pt = 120, .encoding = span_make("opus", 4), .rate = 48000 };
	pt_map_update(&c.pt[PARTY_CALLEE], &md);
	old_update(&m[PARTY_CALLEE], &md);
	check_same(&c, m);
	assert_true(call_pt(&c, PARTY_CALLEE, 97, &pi));
	assert_string_equal(pi.enc, "PCMA");
	assert_int_equal(pi.rate, 8000);
	/* the same SDP again changes nothing */
	struct pt_map *before = c.pt[PARTY_CALLEE];
	pt_map_update(&c.pt[PARTY_CALLEE], &md);
	assert_ptr_equal(c.pt[PARTY_CALLEE], before);
	/* names read back as written, case and all */
	md.n_rtpmap = 3;
	md.rtpmap[0] = (struct sdp_rtpmap){ .pt = 0, .encoding = span_make("pcmu", 4), .rate = 8000 };
	md.rtpmap[1] = (struct sdp_rtpmap){ .pt = 101, .encoding = span_make("Telephone-Event", 15), .rate = 8000 };
	md.rtpmap[2] = (struct sdp_rtpmap){ .pt = 8, .encoding = span_make("PCMA", 4), .rate = 8000 };
	pt_map_update(&c.pt[PARTY_CALLER], &md);
	old_update(&m[PARTY_CALLER], &md);
	check_same(&c, m);
	assert_true(call_pt(&c, PARTY_CALLER, 0, &pi));
	assert_string_equal(pi.enc, "pcmu");
	assert_true(call_pt(&c, PARTY_CALLER, 101, &pi));
	assert_string_equal(pi.enc, "Telephone-Event");
	/* the receiver's own map first, then the other party's */
	assert_true(call_pt(&c, PARTY_CALLER, 97, &pi));
	assert_string_equal(pi.enc, "PCMA");
	/* an empty m= section leaves a missing map missing */
	struct rv_call d;
	memset(&d, 0, sizeof(d));
	md.n_rtpmap = 0;
	pt_map_update(&d.pt[0], &md);
	assert_null(d.pt[0]);
	pt_map_free(c.pt[0]);
	pt_map_free(c.pt[1]);
}

/* ---------------------------------------------------------------- a small engine */

struct probe {
	struct rv_call *last_call;
	unsigned want_calls, want_yes;
	unsigned streams_freed;
};

static void p_call_new(void *ctx, struct rv_call *c)
{
	((struct probe *)ctx)->last_call = c;
}

static bool p_want_inband(void *ctx, struct rv_call *c, struct rv_stream *s)
{
	(void)c;
	(void)s;
	struct probe *p = ctx;
	p->want_calls++;
	return p->want_calls <= p->want_yes;
}

static void p_stream_free(void *ctx, struct rv_stream *s)
{
	(void)s;
	((struct probe *)ctx)->streams_freed++;
}

static const struct engine_sink probe_sink = {
	.call_new = p_call_new,
	.want_inband = p_want_inband,
	.stream_free = p_stream_free,
};

static struct ip_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct ip_addr x;
	memset(&x, 0, sizeof(x));
	x.family = 4;
	x.b[0] = a;
	x.b[1] = b;
	x.b[2] = c;
	x.b[3] = d;
	return x;
}

static const char *ip4s(const struct ip_addr *a, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", a->b[0], a->b[1], a->b[2], a->b[3]);
	return buf;
}

/* INVITE (request) or 200 OK, with an SDP announcing media at m:port:
 * PCMU and, as pt 101, the encoding te (none when NULL). */
static void sip_te(struct engine *e, uint64_t ts, bool invite, const char *cid, const char *from, const char *to,
		   const struct ip_addr *m, uint16_t port, const char *te)
{
	char sdp[512], msg[2048], mb[32], tl[64] = "";
	if (te)
		snprintf(tl, sizeof(tl), "a=rtpmap:101 %s/8000\r\n", te);
	int sl = snprintf(sdp, sizeof(sdp),
			  "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
			  "m=audio %u RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n%s",
			  ip4s(m, mb, sizeof(mb)), mb, port, tl);
	int ml;
	if (invite)
		ml = snprintf(msg, sizeof(msg),
			      "INVITE sip:%s@10.9.9.9 SIP/2.0\r\nVia: SIP/2.0/UDP 10.8.8.8:5060;branch=z9hG4bK1\r\n"
			      "From: <sip:%s@10.8.8.8>;tag=from1\r\nTo: <sip:%s@10.9.9.9>\r\nCall-ID: %s\r\n"
			      "CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
			      to, from, to, cid, sl, sdp);
	else
		ml = snprintf(msg, sizeof(msg),
			      "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.8.8.8:5060;branch=z9hG4bK1\r\n"
			      "From: <sip:%s@10.8.8.8>;tag=from1\r\nTo: <sip:%s@10.9.9.9>;tag=to1\r\nCall-ID: %s\r\n"
			      "CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
			      from, to, cid, sl, sdp);
	assert_true(ml > 0 && ml < (int)sizeof(msg));
	struct ip_addr a = v4(10, 8, 8, 8), b = v4(10, 9, 9, 9);
	if (invite)
		engine_sip_unit(e, ts, (const uint8_t *)msg, (size_t)ml, &a, 5060, &b, 5060);
	else
		engine_sip_unit(e, ts, (const uint8_t *)msg, (size_t)ml, &b, 5060, &a, 5060);
}

static void sip(struct engine *e, uint64_t ts, bool invite, const char *cid, const char *from, const char *to,
		const struct ip_addr *m, uint16_t port)
{
	sip_te(e, ts, invite, cid, from, to, m, port, "telephone-event");
}

/* One packet of payload type pt (loud mu-law noise) from src:sp to dst:dp. */
static void rtp_pt(struct engine *e, uint64_t ts, const struct ip_addr *src, uint16_t sp, const struct ip_addr *dst,
		   uint16_t dp, uint32_t ssrc, uint16_t seq, uint8_t pt)
{
	uint8_t b[12 + 160];
	b[0] = 0x80;
	b[1] = pt;
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	uint32_t t = (uint32_t)seq * 160u;
	b[4] = (uint8_t)(t >> 24);
	b[5] = (uint8_t)(t >> 16);
	b[6] = (uint8_t)(t >> 8);
	b[7] = (uint8_t)t;
	b[8] = (uint8_t)(ssrc >> 24);
	b[9] = (uint8_t)(ssrc >> 16);
	b[10] = (uint8_t)(ssrc >> 8);
	b[11] = (uint8_t)ssrc;
	for (int i = 0; i < 160; i++)
		b[12 + i] = (uint8_t)(rnd() & 0x7f); /* loud mu-law samples */
	struct pkt p;
	memset(&p, 0, sizeof(p));
	p.ipver = 4;
	p.proto = DEC_IPPROTO_UDP;
	p.src = *src;
	p.dst = *dst;
	p.sport = sp;
	p.dport = dp;
	p.payload = b;
	p.payload_len = sizeof(b);
	engine_media_unit(e, ts, &p);
}

static void rtp(struct engine *e, uint64_t ts, const struct ip_addr *src, uint16_t sp, const struct ip_addr *dst,
		uint16_t dp, uint32_t ssrc, uint16_t seq)
{
	rtp_pt(e, ts, src, sp, dst, dp, ssrc, seq, 0);
}

static struct rv_stream *first_stream(struct rv_call *c)
{
	return list_empty(&c->streams) ? NULL : container_of(c->streams.next, struct rv_stream, call_link);
}

static void test_call_strings(void **state)
{
	(void)state;
	struct rv_config *cfg = config_default();
	assert_non_null(cfg);
	struct probe pr = { 0 };
	struct engine *e = engine_new(cfg, &probe_sink, &pr);
	assert_non_null(e);
	char longu[101];
	memset(longu, 'u', 100);
	longu[100] = '\0';
	longu[62] = '7'; /* the 63rd byte is kept, the 64th is not */
	longu[63] = '8';
	struct ip_addr m = v4(10, 1, 0, 1);
	sip(e, 1000000, true, "cid-strings@host", longu, "4930123", &m, 20000);
	struct rv_call *c = pr.last_call;
	assert_non_null(c);
	assert_string_equal(c->call_id, "cid-strings@host");
	assert_int_equal(c->call_id_len, 16);
	assert_int_equal(strlen(c->caller), 63);
	assert_memory_equal(c->caller, longu, 63);
	assert_string_equal(c->callee, "4930123");
	/* empty users */
	sip(e, 1000001, true, "cid-empty", "", "", &m, 20002);
	c = pr.last_call;
	assert_string_equal(c->call_id, "cid-empty");
	assert_string_equal(c->caller, "");
	assert_string_equal(c->callee, "");
	engine_free(e);
	config_free(cfg);
}

static void test_probation_and_detector_lifetime(void **state)
{
	(void)state;
	struct rv_config *cfg = NULL;
	assert_int_equal(config_load_string("t", "[rtp]\nprobation = 3\n", &cfg, stderr), 0);
	struct probe pr = { .want_yes = 6 };
	struct engine *e = engine_new(cfg, &probe_sink, &pr);
	assert_non_null(e);
	struct ip_addr ma = v4(10, 1, 0, 1), mb = v4(10, 2, 0, 1);
	uint64_t ts = 2000000;
	sip(e, ts, true, "cid-life", "100", "200", &ma, 30000);
	struct rv_call *c = pr.last_call;
	assert_non_null(c);
	sip(e, ts + 1000, false, "cid-life", "100", "200", &mb, 40000);
	/* the callee sends to the caller's address: held while on probation */
	rtp(e, ts + 2000, &mb, 40000, &ma, 30000, 0x1111, 10);
	struct rv_stream *s = first_stream(c);
	assert_non_null(s);
	assert_non_null(s->cand);
	assert_int_equal(s->cand_n, 1);
	rtp(e, ts + 3000, &mb, 40000, &ma, 30000, 0x1111, 11);
	assert_int_equal(s->cand_n, 2);
	rtp(e, ts + 4000, &mb, 40000, &ma, 30000, 0x1111, 12);
	/* accepted: the holding array is gone, the detector is there */
	assert_true(s->active);
	assert_null(s->cand);
	assert_int_equal(s->cand_n, 0);
	assert_int_equal(s->packets, 3);
	assert_non_null(s->dtmf_rx);
	assert_int_equal(pr.want_calls, 3);
	/* a new SSRC is held on probation while the active one goes on */
	rtp(e, ts + 5000, &mb, 40000, &ma, 30000, 0x2222, 500);
	assert_non_null(s->cand);
	assert_int_equal(s->cand_n, 1);
	rtp(e, ts + 6000, &mb, 40000, &ma, 30000, 0x1111, 13);
	assert_int_equal(s->packets, 4);
	assert_int_equal(pr.want_calls, 4);
	assert_non_null(s->cand);
	/* one out of sequence: the candidate fails and starts over */
	rtp(e, ts + 7000, &mb, 40000, &ma, 30000, 0x2222, 700);
	assert_non_null(s->cand);
	assert_int_equal(s->cand_n, 1);
	rtp(e, ts + 8000, &mb, 40000, &ma, 30000, 0x2222, 701);
	assert_int_equal(s->cand_n, 2);
	assert_non_null(s->dtmf_rx);
	/* it passes: the array goes; on its third packet the sink says no to
	 * the detector, which goes too, and the sink is not asked again */
	rtp(e, ts + 9000, &mb, 40000, &ma, 30000, 0x2222, 702);
	assert_null(s->cand);
	assert_int_equal(s->ssrc, 0x2222);
	assert_int_equal(s->packets, 7);
	assert_int_equal(pr.want_calls, 7);
	assert_null(s->dtmf_rx);
	assert_true(s->inband_off);
	for (uint16_t q = 703; q < 728; q++)
		rtp(e, ts + 10000 + q * 20000u, &mb, 40000, &ma, 30000, 0x2222, q);
	assert_int_equal(pr.want_calls, 7);
	assert_null(s->dtmf_rx);
	assert_int_equal(s->packets, 32);
	engine_finish(e);
	assert_int_equal(pr.streams_freed, 1);
	engine_free(e);
	config_free(cfg);
}

/* Telephone-event packets are told from audio by the SDP's name for their
 * payload type, in any case; a payload type nobody named is audio. */
static void test_event_payload_types(void **state)
{
	(void)state;
	struct rv_config *cfg = config_default();
	assert_non_null(cfg);
	struct probe pr = { .want_yes = 1u << 30 };
	struct engine *e = engine_new(cfg, &probe_sink, &pr);
	assert_non_null(e);
	static const char *const te[] = { "telephone-event", "Telephone-Event", "TELEPHONE-EVENT", NULL, "telephone-even" };
	static const uint64_t events[] = { 2, 2, 2, 0, 0 };
	uint64_t ts = 4000000;
	for (unsigned i = 0; i < sizeof(te) / sizeof(te[0]); i++) {
		char cid[32];
		snprintf(cid, sizeof(cid), "cid-ev-%u", i);
		struct ip_addr ma = v4(10, 5, 0, (uint8_t)i), mb = v4(10, 6, 0, (uint8_t)i);
		sip_te(e, ts, true, cid, "1", "2", &ma, 30000, te[i]);
		struct rv_call *c = pr.last_call;
		sip_te(e, ts + 10, false, cid, "1", "2", &mb, 40000, te[i]);
		for (uint16_t q = 0; q < 6; q++)
			rtp_pt(e, ts + 20 + q, &mb, 40000, &ma, 30000, 0x77, q, q >= 4 ? 101 : 0);
		struct rv_stream *s = first_stream(c);
		assert_non_null(s);
		assert_int_equal(s->event_packets, events[i]);
		assert_int_equal(s->packets, 6 - events[i]);
		assert_string_equal(stream_codec(s), "PCMU");
		ts += 1000;
	}
	engine_free(e);
	config_free(cfg);
}

/* Not in the ASan build: its allocator is not glibc's, mallinfo2 does not
 * see it (and run-all.sh would count a cmocka skip as a failure). */
#if !defined(__SANITIZE_ADDRESS__)
static void test_heap_per_call(void **state)
{
	(void)state;
	struct rv_config *cfg = config_default();
	assert_non_null(cfg);
	struct probe pr = { .want_yes = 1u << 30 };
	struct engine *e = engine_new(cfg, &probe_sink, &pr);
	assert_non_null(e);
	struct mallinfo2 m0 = mallinfo2();
	enum { CALLS = 400 };
	uint64_t ts = 3000000;
	for (unsigned i = 0; i < CALLS; i++) {
		char cid[64];
		snprintf(cid, sizeof(cid), "%08x-%04x-4a1b-9c2d-%012x@sbc.example", i * 2654435761u, i, i * 7919u);
		struct ip_addr ma = v4(10, 1, (uint8_t)(i >> 8), (uint8_t)i), mb = v4(10, 2, (uint8_t)(i >> 8), (uint8_t)i);
		sip(e, ts, true, cid, "4930123456", "4940987654", &ma, 30000);
		sip(e, ts + 10, false, cid, "4930123456", "4940987654", &mb, 40000);
		for (uint16_t q = 0; q < 4; q++) {
			rtp(e, ts + 20 + q, &mb, 40000, &ma, 30000, 0x1000 + i, q);
			rtp(e, ts + 20 + q, &ma, 30000, &mb, 40000, 0x9000 + i, q);
		}
		ts += 100;
	}
	struct mallinfo2 m1 = mallinfo2();
	uint64_t calls, streams, expects;
	engine_sizes(e, &calls, &streams, &expects);
	assert_int_equal(calls, CALLS);
	assert_int_equal(streams, 2 * CALLS);
	assert_int_equal(expects, 4 * CALLS);
	size_t used = (m1.uordblks + m1.hblkhd) - (m0.uordblks + m0.hblkhd);
	double per_call = (double)used / CALLS;
	print_message("heap per call: %.0f bytes (2 G.711 streams with detectors, 4 expectations)\n", per_call);
	assert_true(per_call < 2048);
	engine_free(e);
	config_free(cfg);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pt_maps_same_as_fixed_maps),
		cmocka_unit_test(test_pt_map_cases),
		cmocka_unit_test(test_call_strings),
		cmocka_unit_test(test_probation_and_detector_lifetime),
		cmocka_unit_test(test_event_payload_types),
#if !defined(__SANITIZE_ADDRESS__)
		cmocka_unit_test(test_heap_per_call),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
