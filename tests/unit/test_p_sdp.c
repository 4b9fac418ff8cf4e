/*
 * test_p_sdp.c - unit tests for parsers/sdp.c: session vs media c=, several
 * m= lines, rtpmap, static payload types, direction at both levels, port 0,
 * a=rtcp, IPv6, and the ATTACKS.md B1-B13 inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "sdp.h"

static struct sdp sd;
static uint8_t *last_buf;

/* Exact-size heap copy kept until the next parse so ASan sees over-reads. */
static int parse_n(const void *s, size_t n)
{
	free(last_buf);
	last_buf = malloc(n ? n : 1);
	assert_non_null(last_buf);
	memcpy(last_buf, s, n);
	return sdp_parse(last_buf, n, &sd);
}

static int parse_s(const char *s)
{
	return parse_n(s, strlen(s));
}

#define assert_span(sp, lit)                                                                    \
	do {                                                                                    \
		struct span s__ = (sp);                                                         \
		char buf__[256];                                                                \
		size_t n__ = s__.len < sizeof(buf__) - 1 ? s__.len : sizeof(buf__) - 1;         \
		if (n__)                                                                        \
			memcpy(buf__, s__.p, n__);                                              \
		buf__[n__] = 0;                                                                 \
		assert_string_equal(buf__, (lit));                                              \
		assert_int_equal(s__.len, strlen(lit));                                         \
	} while (0)

static void assert_ip4(const struct ip_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	assert_int_equal(a->family, 4);
	const uint8_t e[4] = { x, y, z, w };
	assert_memory_equal(a->b, e, 4);
}

static void test_basic(void **state)
{
	(void)state;
	assert_int_equal(parse_s("v=0\r\n"
				 "o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\r\n"
				 "s=\r\n"
				 "c=IN IP4 192.0.2.101\r\n"
				 "t=0 0\r\n"
				 "m=audio 49170 RTP/AVP 0 8 101\r\n"
				 "a=rtpmap:0 PCMU/8000\r\n"
				 "a=rtpmap:101 telephone-event/8000\r\n"
				 "a=fmtp:101 0-15\r\n"
				 "a=ptime:20\r\n"
				 "m=video 51372 RTP/AVP 31 32\r\n"
				 "c=IN IP4 192.0.2.102\r\n"
				 "a=rtpmap:31 H261/90000\r\n"
				 "a=rtpmap:32 MPV/90000\r\n"),
			 SDP_OK);
	assert_int_equal(sd.flags, 0);
	assert_true(sd.has_conn);
	assert_ip4(&sd.conn, 192, 0, 2, 101);
	assert_int_equal(sd.n_media, 2);
	const struct sdp_media *a = &sd.m[0], *v = &sd.m[1];
	assert_int_equal(a->type, SDP_MT_AUDIO);
	assert_span(a->media, "audio");
	assert_int_equal(a->port, 49170);
	assert_int_equal(a->nports, 1);
	assert_span(a->proto, "RTP/AVP");
	assert_true(a->rtp);
	assert_int_equal(a->n_pt, 3);
	assert_int_equal(a->pt[0], 0);
	assert_int_equal(a->pt[1], 8);
	assert_int_equal(a->pt[2], 101);
	assert_int_equal(a->n_rtpmap, 2);
	const struct sdp_rtpmap *r = sdp_find_rtpmap(a, 101);
	assert_non_null(r);
	assert_span(r->encoding, "telephone-event");
	assert_int_equal(r->rate, 8000);
	assert_int_equal(r->channels, 0);
	assert_null(sdp_find_rtpmap(a, 8));
	assert_true(a->has_conn);
	assert_ip4(&a->conn, 192, 0, 2, 101);
	assert_int_equal(a->ptime, 20);
	assert_int_equal(a->dir, SDP_SENDRECV);
	assert_int_equal(v->type, SDP_MT_VIDEO);
	assert_ip4(&v->conn, 192, 0, 2, 102);
	assert_int_equal(v->ptime, 0);
	assert_int_equal(v->n_rtpmap, 2);
}

static void test_static_pt(void **state)
{
	(void)state;
	static const struct {
		uint8_t pt;
		const char *name;
		uint32_t rate;
	} t[] = {
		{ 0, "PCMU", 8000 },   { 3, "GSM", 8000 },     { 4, "G723", 8000 },  { 5, "DVI4", 8000 },
		{ 6, "DVI4", 16000 },  { 7, "LPC", 8000 },     { 8, "PCMA", 8000 },  { 9, "G722", 8000 },
		{ 10, "L16", 44100 },  { 11, "L16", 44100 },   { 12, "QCELP", 8000 }, { 13, "CN", 8000 },
		{ 14, "MPA", 90000 },  { 15, "G728", 8000 },   { 16, "DVI4", 11025 }, { 17, "DVI4", 22050 },
		{ 18, "G729", 8000 },  { 25, "CelB", 90000 },  { 26, "JPEG", 90000 }, { 28, "nv", 90000 },
		{ 31, "H261", 90000 }, { 32, "MPV", 90000 },   { 33, "MP2T", 90000 }, { 34, "H263", 90000 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t rate = 0;
		const char *n = sdp_static_pt(t[i].pt, &rate);
		assert_non_null(n);
		assert_string_equal(n, t[i].name);
		assert_int_equal(rate, t[i].rate);
	}
	static const uint8_t none[] = { 1, 2, 19, 20, 24, 27, 29, 30, 35, 95, 96, 101, 127, 200, 255 };
	for (size_t i = 0; i < sizeof(none); i++)
		assert_null(sdp_static_pt(none[i], NULL));
	assert_non_null(sdp_static_pt(0, NULL));
}

static void test_direction(void **state)
{
	(void)state;
	assert_int_equal(parse_s("v=0\r\nc=IN IP4 10.0.0.1\r\na=sendonly\r\n"
				 "m=audio 1000 RTP/AVP 0\r\n"
				 "m=audio 1002 RTP/AVP 0\r\na=inactive\r\n"
				 "m=audio 1004 RTP/AVP 0\r\na=recvonly\r\n"
				 "m=audio 1006 RTP/AVP 0\r\na=sendrecv\r\n"),
			 SDP_OK);
	assert_int_equal(sd.dir, SDP_SENDONLY);
	assert_int_equal(sd.m[0].dir, SDP_SENDONLY);
	assert_int_equal(sd.m[1].dir, SDP_INACTIVE);
	assert_int_equal(sd.m[2].dir, SDP_RECVONLY);
	assert_int_equal(sd.m[3].dir, SDP_SENDRECV);
	assert_int_equal(parse_s("v=0\na=inactive\nm=audio 0 RTP/AVP 0\n"), SDP_OK);
	assert_int_equal(sd.m[0].dir, SDP_INACTIVE);
	assert_int_equal(sd.m[0].port, 0);
}

static void test_conn(void **state)
{
	(void)state;
	/* multicast with TTL, IPv6, media without session c= */
	assert_int_equal(parse_s("v=0\r\nc=IN IP4 224.2.1.1/127\r\n"
				 "m=audio 49170/2 RTP/AVP 0\r\n"
				 "m=audio 5004 RTP/AVP 0\r\nc=IN IP6 2001:db8::1\r\n"
				 "m=audio 5006 RTP/AVP 0\r\nc=IN IP4 host.example.com\r\n"),
			 SDP_OK);
	assert_true(sd.has_conn);
	assert_ip4(&sd.conn, 224, 2, 1, 1);
	assert_int_equal(sd.m[0].nports, 2);
	assert_int_equal(sd.m[0].port, 49170);
	assert_ip4(&sd.m[0].conn, 224, 2, 1, 1);
	assert_int_equal(sd.m[1].conn.family, 6);
	assert_int_equal(sd.m[1].conn.b[0], 0x20);
	assert_int_equal(sd.m[1].conn.b[15], 1);
	assert_false(sd.m[2].has_conn);
	assert_true(sd.flags & SDP_F_BAD_CONN);

	assert_int_equal(parse_s("v=0\r\nc=IN IP4 sip.example.com\r\nm=audio 1 RTP/AVP 0\r\n"), SDP_OK);
	assert_false(sd.has_conn);
	assert_false(sd.m[0].has_conn);
	assert_int_equal(sd.flags, SDP_F_BAD_CONN);
	assert_int_equal(parse_s("v=0\r\nc=IN IP6 1.2.3.4\r\n"), SDP_OK);
	assert_false(sd.has_conn);
	assert_int_equal(parse_s("v=0\r\nc=IN IP4 2001:db8::1\r\n"), SDP_OK);
	assert_false(sd.has_conn);
	assert_int_equal(parse_s("v=0\r\nc=ATM NSAP 1.2.3.4\r\n"), SDP_OK);
	assert_false(sd.has_conn);
	assert_int_equal(parse_s("v=0\r\nc=\r\nc=IN\r\nc=IN IP4\r\n"), SDP_OK);
	assert_false(sd.has_conn);
	assert_int_equal(parse_s("v=0\r\nc=IN IP4 0.0.0.0\r\n"), SDP_OK); /* hold, old style */
	assert_true(sd.has_conn);
}

static void test_rtcp_mux_ptime(void **state)
{
	(void)state;
	assert_int_equal(parse_s("v=0\r\na=ptime:30\r\nc=IN IP4 10.1.1.1\r\n"
				 "m=audio 5000 RTP/SAVP 96\r\n"
				 "a=rtpmap:96 opus/48000/2\r\n"
				 "a=rtcp:5005 IN IP4 10.9.9.9\r\n"
				 "a=rtcp-mux\r\n"
				 "m=audio 6000 UDP/TLS/RTP/SAVPF 0\r\n"
				 "a=rtcp:6001\r\n"
				 "a=ptime:20.5\r\n"
				 "m=image 7000 udptl t38\r\n"
				 "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
				 "m=message 9 TCP/MSRP *\r\n"),
			 SDP_OK);
	assert_int_equal(sd.flags, 0);
	assert_int_equal(sd.n_media, 5);
	assert_int_equal(sd.m[0].rtcp_port, 5005);
	assert_ip4(&sd.m[0].rtcp_addr, 10, 9, 9, 9);
	assert_true(sd.m[0].rtcp_mux);
	assert_int_equal(sd.m[0].ptime, 30);
	assert_int_equal(sd.m[0].rtpmap[0].channels, 2);
	assert_int_equal(sd.m[0].rtpmap[0].rate, 48000);
	assert_span(sd.m[0].rtpmap[0].encoding, "opus");
	assert_true(sd.m[1].rtp);
	assert_int_equal(sd.m[1].rtcp_port, 6001);
	assert_int_equal(sd.m[1].rtcp_addr.family, 0);
	assert_false(sd.m[1].rtcp_mux);
	assert_int_equal(sd.m[1].ptime, 20);
	assert_int_equal(sd.m[2].type, SDP_MT_IMAGE);
	assert_false(sd.m[2].rtp);
	assert_int_equal(sd.m[2].n_pt, 0);
	assert_int_equal(sd.m[3].type, SDP_MT_APPLICATION);
	assert_int_equal(sd.m[4].type, SDP_MT_OTHER);
	assert_int_equal(parse_s("v=0\nm=text 1 RTP/AVP 98\na=rtcp:99999\na=rtcp:9 IN IP4 x.y\n"), SDP_OK);
	assert_int_equal(sd.m[0].type, SDP_MT_TEXT);
	assert_int_equal(sd.m[0].rtcp_port, 9);
	assert_int_equal(sd.flags, SDP_F_BAD_PORT | SDP_F_BAD_CONN);
}

static void test_errors(void **state)
{
	(void)state;
	assert_int_equal(parse_n("", 0), SDP_E_EMPTY);
	assert_int_equal(sdp_parse(NULL, 0, &sd), SDP_E_EMPTY);
	assert_int_equal(parse_s("\r\n\r\n  \n"), SDP_E_EMPTY);
	assert_int_equal(parse_s("o=x\r\nv=0\r\n"), SDP_E_SYNTAX);
	assert_int_equal(parse_s("v=1\r\n"), SDP_E_SYNTAX);
	assert_int_equal(parse_s("hello"), SDP_E_SYNTAX);
	assert_int_equal(parse_s("v=0"), SDP_OK); /* no newline at all */
	assert_int_equal(sd.n_media, 0);
	assert_int_equal(parse_s("\r\nv=0\r\nnot a line\r\n=x\r\n1=2\r\n"), SDP_OK);
	assert_int_equal(sd.flags, SDP_F_BAD_LINE);
	assert_string_equal(sdp_err_name(SDP_OK), "ok");
	assert_string_equal(sdp_err_name(SDP_E_SYNTAX), "syntax");
	assert_string_equal(sdp_err_name(-99), "unknown error");
	assert_string_equal(sdp_err_name(5), "unknown error");
	/* last line without newline still parsed */
	assert_int_equal(parse_s("v=0\nm=audio 4000 RTP/AVP 0\na=rtpmap:0 PCMU/8000"), SDP_OK);
	assert_int_equal(sd.m[0].n_rtpmap, 1);
	assert_int_equal(sd.m[0].rtpmap[0].rate, 8000);
}

/* ATTACKS B1-B13 */
static void test_attacks(void **state)
{
	(void)state;
	/* B1 port > 65535: media kept, disabled */
	assert_int_equal(parse_s("v=0\r\nm=audio 70000 RTP/AVP 0\r\nm=audio 4000 RTP/AVP 0\r\n"), SDP_OK);
	assert_int_equal(sd.n_media, 2);
	assert_int_equal(sd.m[0].port, 0);
	assert_int_equal(sd.m[1].port, 4000);
	assert_true(sd.flags & SDP_F_BAD_PORT);
	assert_int_equal(parse_s("v=0\r\nm=audio -1 RTP/AVP 0\r\nm=audio 99999999999999999999999 RTP/AVP 0\r\n"),
			 SDP_OK);
	assert_int_equal(sd.m[0].port, 0);
	assert_int_equal(sd.m[1].port, 0);
	assert_int_equal(parse_s("v=0\r\nm=audio 4000/0 RTP/AVP 0\r\n"), SDP_OK);
	assert_int_equal(sd.m[0].nports, 1);
	assert_true(sd.flags & SDP_F_BAD_PORT);

	/* B2 huge payload type: skipped */
	assert_int_equal(parse_s("v=0\r\nm=audio 17000 RTP/AVP 4294967296 128 x 0 -1\r\n"
				 "a=rtpmap:4294967296 X/8000\r\na=rtpmap:128 Y/8000\r\n"),
			 SDP_OK);
	assert_int_equal(sd.m[0].n_pt, 1);
	assert_int_equal(sd.m[0].pt[0], 0);
	assert_int_equal(sd.m[0].n_rtpmap, 0);
	assert_int_equal(sd.flags, SDP_F_BAD_PT);

	/* B3/B4 NUL inside and at the end of a line */
	static const char b3[] = "v=0\r\na=fmtp\0:101 0-16\r\nm=audio 5 RTP/AVP 0\r\na=rtpmap:0 PCMU\0/8000\r\nc=IN IP4 1.2.3.4\0";
	assert_int_equal(parse_n(b3, sizeof(b3) - 1), SDP_OK);
	assert_int_equal(sd.n_media, 1);
	assert_int_equal(sd.m[0].n_rtpmap, 0);
	assert_true(sd.m[0].has_conn);
	static const char b4[] = "v=0\r\nm=\0";
	assert_int_equal(parse_n(b4, sizeof(b4) - 1), SDP_OK);
	assert_int_equal(parse_n("v=0\0", 4), SDP_OK);
	assert_int_equal(parse_n("v\0=0", 4), SDP_E_SYNTAX);

	/* B5 tokens shorter than literals */
	assert_int_equal(parse_s("v=0\nc=I\nc=IN I\nm=a\nm=\nm=audio\nm=audio 1\na=\na=r\na=rtpmap\na=rtpmap:\n"
				 "a=rtpmap:0\na=rtpmap:0 P\na=rtpmap:0 P/\na=rtpmap:0 /8000\na=rtcp\na=rtcp:\n"
				 "a=ptime\na=ptime:\na=ptime:.\na=s\na"),
			 SDP_OK);
	assert_int_equal(sd.n_media, 4);
	assert_int_equal(sd.m[3].n_rtpmap, 0);

	/* B6 URL ending in % */
	assert_int_equal(parse_s("v=0\r\nu=http://example.com/%\r\ne=%\r\nu=%"), SDP_OK);

	/* B7 oversized c= and media type */
	char big[9000];
	size_t o = (size_t)snprintf(big, sizeof(big), "v=0\r\nc=IN IP4 ");
	memset(big + o, '1', 4000);
	o += 4000;
	o += (size_t)snprintf(big + o, sizeof(big) - o, "\r\nm=");
	memset(big + o, 'a', 4000);
	o += 4000;
	o += (size_t)snprintf(big + o, sizeof(big) - o, " 1 RTP/AVP 0\r\n");
	assert_int_equal(parse_n(big, o), SDP_OK);
	assert_false(sd.has_conn);
	assert_int_equal(sd.m[0].media.len, 4000);
	assert_int_equal(sd.m[0].type, SDP_MT_OTHER);

	/* B8: no m=, only port 0, only unknown media */
	assert_int_equal(parse_s("v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\n"), SDP_OK);
	assert_int_equal(sd.n_media, 0);
	assert_false(sd.has_conn);
	assert_int_equal(sd.conn.family, 0);
	assert_int_equal(parse_s("v=0\r\nm=audio 0 RTP/AVP 0\r\n"), SDP_OK);
	assert_int_equal(sd.m[0].port, 0);
	assert_false(sd.m[0].has_conn);
	assert_int_equal(parse_s("v=0\r\nm=foo 1234 bar baz\r\n"), SDP_OK);
	assert_int_equal(sd.m[0].type, SDP_MT_OTHER);

	/* B9: ptime extremes */
	assert_int_equal(parse_s("v=0\r\nm=audio 1 RTP/AVP 0\r\na=ptime:4294967295\r\n"), SDP_OK);
	assert_int_equal(sd.m[0].ptime, 4294967295u);
	assert_int_equal(parse_s("v=0\r\nm=audio 1 RTP/AVP 0\r\na=ptime:4294967296\r\n"), SDP_OK);
	assert_int_equal(sd.m[0].ptime, 0);

	/* B10 many z= */
	o = (size_t)snprintf(big, sizeof(big), "v=0\r\nz=");
	for (int i = 0; i < 400; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "%d -1h ", 2882844526u + i);
	o += (size_t)snprintf(big + o, sizeof(big) - o, "\r\nm=audio 1 RTP/AVP 0\r\n");
	assert_true(o < sizeof(big));
	assert_int_equal(parse_n(big, o), SDP_OK);
	assert_int_equal(sd.n_media, 1);

	/* B11/B12: too many media and formats, duplicate media lines */
	o = (size_t)snprintf(big, sizeof(big), "v=0\r\n");
	for (int i = 0; i < 20; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n");
	assert_int_equal(parse_n(big, o), SDP_OK);
	assert_int_equal(sd.n_media, SDP_MAX_MEDIA);
	assert_true(sd.flags & SDP_F_TOO_MANY_MEDIA);
	o = (size_t)snprintf(big, sizeof(big), "v=0\r\nm=audio 4000 RTP/AVP");
	for (int i = 0; i < 100; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, " %d", i);
	o += (size_t)snprintf(big + o, sizeof(big) - o, "\r\n");
	for (int i = 0; i < 100; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "a=rtpmap:%d X%d/8000\r\n", i, i);
	assert_int_equal(parse_n(big, o), SDP_OK);
	assert_int_equal(sd.m[0].n_pt, SDP_MAX_FMT);
	assert_int_equal(sd.m[0].n_rtpmap, SDP_MAX_FMT);
	assert_int_equal(sd.flags, SDP_F_TOO_MANY_FMT);
	/* duplicate rtpmap for one pt: first wins */
	assert_int_equal(parse_s("v=0\nm=audio 1 RTP/AVP 96\na=rtpmap:96 A/8000\na=rtpmap:96 B/16000\n"), SDP_OK);
	assert_int_equal(sd.m[0].n_rtpmap, 1);
	assert_span(sd.m[0].rtpmap[0].encoding, "A");

	/* B13: NULL-ish attributes */
	assert_int_equal(parse_s("v=0\nm=audio 1 RTP/AVP 0\na=rtpmap:0 PCMU/x\na=rtpmap:0 PCMU/8000/x\n"
				 "a=rtpmap:0 PCMU/8000/300\na=:\na=rtcp-mux:junk\n"),
			 SDP_OK);
	assert_true(sd.flags & SDP_F_BAD_LINE);
	assert_true(sd.m[0].rtcp_mux);
}

static void test_truncation(void **state)
{
	(void)state;
	static const char s[] = "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nc=IN IP4 10.0.0.1/3\r\nt=0 0\r\n"
				"a=recvonly\r\nm=audio 49170/2 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
				"a=rtcp:49171 IN IP6 ::1\r\na=ptime:20\r\nm=video 0 RTP/AVP 31\r\nc=IN IP6 fe80::1\r\n";
	for (size_t cut = 0; cut <= sizeof(s) - 1; cut++) {
		int rc = parse_n(s, cut);
		assert_true(rc == SDP_OK || rc == SDP_E_EMPTY || rc == SDP_E_SYNTAX);
		assert_true(sd.n_media <= SDP_MAX_MEDIA);
	}
	assert_int_equal(sd.n_media, 2);
	assert_int_equal(sd.m[0].rtcp_addr.family, 6);
	assert_int_equal(sd.m[1].conn.family, 6);
	assert_int_equal(sd.m[0].dir, SDP_RECVONLY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),	  cmocka_unit_test(test_static_pt),
		cmocka_unit_test(test_direction), cmocka_unit_test(test_conn),
		cmocka_unit_test(test_rtcp_mux_ptime), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_attacks),	  cmocka_unit_test(test_truncation),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(last_buf);
	return rc;
}
