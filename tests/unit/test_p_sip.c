/*
 * test_p_sip.c - unit tests for parsers/sip.c: real-world messages, compact
 * forms (suricata_sip_compact_form.pcap), folding, display names, tel: URIs,
 * every error code, truncation sweep, multipart SDP, INFO DTMF, framing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "sip.h"

/* Exact-size heap copy so ASan flags any read past the end. */
static uint8_t *dup_bytes(const void *s, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);
	assert_non_null(b);
	memcpy(b, s, n);
	return b;
}

static struct sip_msg msg;

/* The last parsed buffer stays alive until the next parse (spans point into it). */
static uint8_t *last_buf;

static int parse_n(const char *s, size_t n, struct sip_msg *m)
{
	free(last_buf);
	last_buf = dup_bytes(s, n);
	return sip_parse(last_buf, n, m);
}

static int parse_s(const char *s)
{
	return parse_n(s, strlen(s), &msg);
}

#define assert_span(sp, lit)                                                                    \
	do {                                                                                    \
		struct span s__ = (sp);                                                         \
		char buf__[512];                                                                \
		size_t n__ = s__.len < sizeof(buf__) - 1 ? s__.len : sizeof(buf__) - 1;         \
		if (n__)                                                                        \
			memcpy(buf__, s__.p, n__);                                              \
		buf__[n__] = 0;                                                                 \
		assert_string_equal(buf__, (lit));                                              \
		assert_int_equal(s__.len, strlen(lit));                                         \
	} while (0)

static const char invite_sdp[] =
	"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
	"Max-Forwards: 70\r\n"
	"To: Bob <sip:bob@biloxi.example.com>\r\n"
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
	"CSeq: 314159 INVITE\r\n"
	"Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 149\r\n"
	"\r\n"
	"v=0\r\n"
	"o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.101\r\n"
	"t=0 0\r\n"
	"m=audio 49172 RTP/AVP 0\r\n"
	"a=rtpmap:0 PCMU/8000\r\n";

static void test_invite_sdp(void **state)
{
	(void)state;
	assert_int_equal(strlen(invite_sdp) - (strstr(invite_sdp, "\r\n\r\n") + 4 - invite_sdp), 149);
	assert_int_equal(parse_s(invite_sdp), SIP_OK);
	assert_true(msg.is_request);
	assert_int_equal(msg.method, SIP_M_INVITE);
	assert_span(msg.method_str, "INVITE");
	assert_span(msg.ruri, "sip:bob@biloxi.example.com");
	assert_span(msg.call_id, "a84b4c76e66710@pc33.atlanta.example.com");
	assert_span(msg.from, "Alice <sip:alice@atlanta.example.com>;tag=1928301774");
	assert_span(msg.from_user, "alice");
	assert_span(msg.from_tag, "1928301774");
	assert_span(msg.to_user, "bob");
	assert_int_equal(msg.to_tag.len, 0);
	assert_int_equal(msg.cseq, 314159);
	assert_int_equal(msg.cseq_method, SIP_M_INVITE);
	assert_span(msg.cseq_method_str, "INVITE");
	assert_span(msg.via_branch, "z9hG4bK776asdhds");
	assert_span(msg.contact, "<sip:alice@pc33.atlanta.example.com>");
	assert_span(msg.content_type, "application/sdp");
	assert_true(msg.has_content_length);
	assert_int_equal(msg.content_length, 149);
	assert_int_equal(msg.body.len, 149);
	assert_memory_equal(msg.body.p, "v=0\r\n", 5);
	assert_int_equal(msg.n_hdrs, 9);
	assert_span(msg.hdrs[1].name, "Max-Forwards");
	assert_span(msg.hdrs[1].value, "70");

	struct span sdp;
	assert_int_equal(sip_body_sdp(&msg, &sdp), 1);
	assert_int_equal(sdp.len, 149);
	char d;
	uint32_t dur;
	assert_int_equal(sip_info_dtmf(&msg, &d, &dur), 0);
}

/* Every prefix of a valid INVITE fails cleanly (it has a Content-Length). */
static void test_invite_truncated(void **state)
{
	(void)state;
	size_t n = strlen(invite_sdp);
	for (size_t cut = 0; cut < n; cut++) {
		int rc = parse_n(invite_sdp, cut, &msg);
		assert_true(rc < 0);
	}
	assert_int_equal(parse_n(invite_sdp, n, &msg), SIP_OK);
	/* a longer datagram (trailing junk) still yields exactly the body */
	char big[1024];
	snprintf(big, sizeof(big), "%sGARBAGE", invite_sdp);
	assert_int_equal(parse_s(big), SIP_OK);
	assert_int_equal(msg.body.len, 149);
}

/* suricata_sip_compact_form.pcap, frame 1 (UDP payload, 894 bytes) */
static const char compact_invite[] =
	"INVITE sip:97239287044@voip.brujula.net SIP/2.0\r\n"
	"v: SIP/2.0/UDP 192.168.1.2:5060;branch=z9hG4bKnp104984053-44ce4a41192.168.1.2;rport\r\n"
	"f: \\\"arik\\\" <sip:816666@voip.brurjula.net>;tag=6433ef9\r\n"
	"t: <sip:97239287044@voip.brujula.net>\r\n"
	"Call-ID: 105090259-446faf7a@192.168.1.2\r\n"
	"CSeq: 1 INVITE\r\n"
	"User-Agent: Nero SIPPS IP Phone Version 2.0.51.16\r\n"
	"Expires: 120\r\n"
	"Accept: application/sdp\r\n"
	"c: application/sdp\r\n"
	"l: 272\r\n"
	"Contact: <sip:816666@192.168.1.2>\r\n"
	"Max-Forwards: 70\r\n"
	"Allow: INVITE, ACK, CANCEL, BYE, REFER, OPTIONS, NOTIFY, INFO\r\n"
	"\r\n"
	"v=0\r\n"
	"o=SIPPS 105015165 105015162 IN IP4 192.168.1.2\r\n"
	"s=SIP call\r\n"
	"i=Session Description Protocol\r\n"
	"u=https://www.sdp.proto\r\n"
	"e=j.doe@example.com (Jane Doe)\r\n"
	"p=+1 617 555-6011 (Jane Doe)\r\n"
	"c=IN IP4 192.168.1.2\r\n"
	"b=AS:64\r\n"
	"t=3034423619 3042462419\r\n"
	"r=604800 3600 0 90000\r\n"
	"z=2882844526 -1h 2898848070 0\r\n"
	"k=prompt\r\n"
	"a=sendrecv\r\n"
	"m=audio 30000 RTP/AVP 0 8 97 2 3\r\n"
	"a=rtpmap:0 pcmu/8000\r\n";

static void test_compact_form(void **state)
{
	(void)state;
	assert_int_equal(strlen(compact_invite), 894);
	assert_int_equal(parse_s(compact_invite), SIP_OK);
	assert_span(msg.call_id, "105090259-446faf7a@192.168.1.2");
	assert_span(msg.from_user, "816666");
	assert_span(msg.from_tag, "6433ef9");
	assert_span(msg.to_user, "97239287044");
	assert_span(msg.via_branch, "z9hG4bKnp104984053-44ce4a41192.168.1.2");
	assert_span(msg.content_type, "application/sdp");
	assert_int_equal(msg.content_length, 272);
	assert_int_equal(msg.body.len, 272);
	assert_span(msg.contact, "<sip:816666@192.168.1.2>");

	struct span v;
	assert_int_equal(sip_find_header(&msg, "Content-Length", &v), 1);
	assert_span(v, "272");
	assert_int_equal(sip_find_header(&msg, "content-type", &v), 1);
	assert_span(v, "application/sdp");
	assert_int_equal(sip_find_header(&msg, "Via", &v), 1);
	assert_true(span_starts_ci(v, "SIP/2.0/UDP 192.168.1.2"));
	assert_int_equal(sip_find_header(&msg, "From", &v), 1);
	assert_int_equal(sip_find_header(&msg, "Call-ID", &v), 1);
	assert_int_equal(sip_find_header(&msg, "i", &v), 1); /* compact asks for long */
	assert_span(v, "105090259-446faf7a@192.168.1.2");
	assert_int_equal(sip_find_header(&msg, "max-forwards", &v), 1);
	assert_span(v, "70");
	assert_int_equal(sip_find_header(&msg, "Subject", &v), 0);
	assert_int_equal(sip_find_header(&msg, "X-Nothing", &v), 0);
	struct span sdp;
	assert_int_equal(sip_body_sdp(&msg, &sdp), 1);
	assert_int_equal(sdp.len, 272);
}

static void test_compact_all(void **state)
{
	(void)state;
	assert_int_equal(parse_s("MESSAGE sip:a@b SIP/2.0\r\n"
				 "i: abc\r\nf: <sip:x@y>;tag=1\r\nt: sip:z@y\r\nCSeq: 2 MESSAGE\r\n"
				 "s: hello\r\nk: 100rel\r\ne: gzip\r\no: dialog\r\nu: talk\r\nr: <sip:r@x>\r\n"
				 "x: 1800\r\ny: abc\r\nb: <sip:q@x>\r\nm: <sip:c@h>\r\nv: SIP/2.0/TCP h;branch=z9\r\n"
				 "c: text/plain\r\nl: 2\r\n\r\nhi"),
			 SIP_OK);
	static const char *const names[][2] = {
		{ "Subject", "hello" },	     { "Supported", "100rel" }, { "Content-Encoding", "gzip" },
		{ "Event", "dialog" },	     { "Allow-Events", "talk" }, { "Refer-To", "<sip:r@x>" },
		{ "Session-Expires", "1800" }, { "Identity", "abc" },	   { "Referred-By", "<sip:q@x>" },
		{ "Contact", "<sip:c@h>" },  { "Content-Type", "text/plain" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct span v;
		assert_int_equal(sip_find_header(&msg, names[i][0], &v), 1);
		assert_span(v, names[i][1]);
	}
	assert_int_equal(msg.method, SIP_M_MESSAGE);
	assert_span(msg.body, "hi");
	assert_span(msg.via_branch, "z9");
	assert_span(msg.to_user, "z");
}

static void test_responses(void **state)
{
	(void)state;
	assert_int_equal(parse_s("SIP/2.0 200 OK\r\n"
				 "Via: SIP/2.0/UDP server10.biloxi.example.com;branch=z9hG4bKnashds8;received=192.0.2.3\r\n"
				 "Via: SIP/2.0/UDP bigbox3.site3.atlanta.example.com;branch=z9hG4bK77ef4c2312983.1\r\n"
				 "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
				 "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
				 "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
				 "CSeq: 314159 INVITE\r\n"
				 "Contact: <sip:bob@192.0.2.4>\r\n"
				 "Content-Length: 0\r\n\r\n"),
			 SIP_OK);
	assert_false(msg.is_request);
	assert_int_equal(msg.method, SIP_M_NONE);
	assert_int_equal(msg.status, 200);
	assert_span(msg.reason, "OK");
	assert_span(msg.to_tag, "a6c85cf");
	assert_span(msg.via_branch, "z9hG4bKnashds8");
	assert_int_equal(msg.body.len, 0);

	/* 183 with SDP, bare LF line ends */
	assert_int_equal(parse_s("SIP/2.0 183 Session Progress\n"
				 "Via: SIP/2.0/UDP 10.251.23.139:5060;received=10.251.23.139;branch=z9hG4bK12b005c2\n"
				 "Call-ID: 1135D8701739D86@10.251.23.139\n"
				 "From: \"0360653674\" <sip:+33360653674@ims.mnc010.mcc208.3gppnetwork.org;user=phone>;tag=66891B8\n"
				 "To: <sip:147@ims.mnc010.mcc208.3gppnetwork.org;user=phone>;tag=524b656f-1388\n"
				 "CSeq: 1 INVITE\n"
				 "Content-Type: application/sdp\n"
				 "Content-Length: 10\n\n"
				 "v=0\no=x\ns=\n"),
			 SIP_OK);
	assert_int_equal(msg.status, 183);
	assert_span(msg.reason, "Session Progress");
	assert_span(msg.from_user, "+33360653674");
	assert_span(msg.from_tag, "66891B8");
	assert_span(msg.to_user, "147");
	assert_span(msg.to_tag, "524b656f-1388");
	assert_span(msg.body, "v=0\no=x\ns=");

	/* status without a reason phrase */
	assert_int_equal(parse_s("SIP/2.0 486\r\nCall-ID: x\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nCSeq: 1 INVITE\r\n\r\n"),
			 SIP_OK);
	assert_int_equal(msg.status, 486);
	assert_int_equal(msg.reason.len, 0);
}

static void test_requests(void **state)
{
	(void)state;
	assert_int_equal(parse_s("BYE sip:alice@pc33.atlanta.example.com SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds10\r\n"
				 "Max-Forwards: 70\r\n"
				 "From: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
				 "To: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
				 "Call-ID: a84b4c76e66710\r\n"
				 "CSeq: 231 BYE\r\n"
				 "Content-Length: 0\r\n\r\n"),
			 SIP_OK);
	assert_int_equal(msg.method, SIP_M_BYE);
	assert_int_equal(msg.cseq_method, SIP_M_BYE);
	assert_int_equal(msg.cseq, 231);

	assert_int_equal(parse_s("CANCEL sip:bob@biloxi.example.com SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
				 "To: Bob <sip:bob@biloxi.example.com>\r\n"
				 "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
				 "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
				 "CSeq: 314159 CANCEL\r\n"
				 "Content-Length: 0\r\n\r\n"),
			 SIP_OK);
	assert_int_equal(msg.method, SIP_M_CANCEL);

	assert_int_equal(parse_s("REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7\r\n"
				 "Max-Forwards: 70\r\n"
				 "To: Bob <sip:bob@biloxi.example.com>\r\n"
				 "From: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n"
				 "Call-ID: 843817637684230@998sdasdh09\r\n"
				 "CSeq: 1826 REGISTER\r\n"
				 "Contact: <sip:bob@192.0.2.4>\r\n"
				 "Expires: 7200\r\n"
				 "Content-Length: 0\r\n\r\n"),
			 SIP_OK);
	assert_int_equal(msg.method, SIP_M_REGISTER);
	struct span v;
	assert_int_equal(sip_find_header(&msg, "EXPIRES", &v), 1);
	assert_span(v, "7200");

	/* extension method, no Via, no Content-Length: body is the rest */
	assert_int_equal(parse_s("FOO sip:x@y SIP/2.0\r\nCall-ID: c\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\n"
				 "CSeq: 7 FOO\r\n\r\nrest"),
			 SIP_OK);
	assert_int_equal(msg.method, SIP_M_UNKNOWN);
	assert_span(msg.method_str, "FOO");
	assert_int_equal(msg.cseq_method, SIP_M_UNKNOWN);
	assert_int_equal(msg.via_branch.len, 0);
	assert_false(msg.has_content_length);
	assert_span(msg.body, "rest");

	/* method names are case-sensitive; unknown lowercase still parses */
	assert_int_equal(parse_s("invite sip:x@y SIP/2.0\r\nCall-ID: c\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\n"
				 "CSeq: 7 invite\r\n\r\n"),
			 SIP_OK);
	assert_int_equal(msg.method, SIP_M_UNKNOWN);
}

static void test_via_variants(void **state)
{
	(void)state;
	/* topmost Via without branch (RFC 2543), a second value has one */
	assert_int_equal(parse_s("ACK sip:x@y SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP h1:5060, SIP/2.0/UDP h2;branch=z9other\r\n"
				 "Via: SIP/2.0/UDP h3;branch=z9third\r\n"
				 "Call-ID: c\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCSeq: 7 ACK\r\n\r\n"),
			 SIP_OK);
	assert_int_equal(msg.via_branch.len, 0);
	assert_int_equal(msg.cseq_method, SIP_M_ACK);
	/* branch in the first of two comma-separated values */
	assert_int_equal(parse_s("ACK sip:x@y SIP/2.0\r\n"
				 "v: SIP/2.0/UDP h1;rport;BRANCH=z9first , SIP/2.0/UDP h2;branch=z9other\r\n"
				 "Call-ID: c\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCSeq: 7 ACK\r\n\r\n"),
			 SIP_OK);
	assert_span(msg.via_branch, "z9first");
}

static void test_folding(void **state)
{
	(void)state;
	assert_int_equal(parse_s("INVITE sip:bob@b SIP/2.0\r\n"
				 "Subject: I know you're there,\r\n"
				 "         pull up the car\r\n"
				 "From: \"Alice\"\r\n"
				 "\t<sip:alice@a.example>\r\n"
				 "  ;tag=77\r\n"
				 "To: <sip:bob@b>\r\n"
				 "Call-ID: folded\r\n"
				 "CSeq: 1\r\n"
				 " INVITE\r\n"
				 "\r\n"),
			 SIP_OK);
	struct span v;
	assert_int_equal(sip_find_header(&msg, "s", &v), 1);
	assert_span(v, "I know you're there,\r\n         pull up the car");
	assert_span(msg.from_user, "alice");
	assert_span(msg.from_tag, "77");
	assert_int_equal(msg.cseq, 1);
	assert_int_equal(msg.cseq_method, SIP_M_INVITE);
	assert_int_equal(msg.n_hdrs, 5);
	/* a continuation line with no header before it */
	assert_int_equal(parse_s("INVITE sip:bob@b SIP/2.0\r\n folded\r\nCall-ID: x\r\n\r\n"), SIP_E_HEADER);
}

static void hdr_from(const char *from, const char *user, const char *tag)
{
	char buf[1024];
	snprintf(buf, sizeof(buf),
		 "OPTIONS sip:x@y SIP/2.0\r\nCall-ID: c\r\nFrom: %s\r\nTo: <sip:c@d>\r\nCSeq: 1 OPTIONS\r\n\r\n",
		 from);
	assert_int_equal(parse_s(buf), SIP_OK);
	assert_span(msg.from_user, user);
	assert_span(msg.from_tag, tag);
}

static void test_display_names(void **state)
{
	(void)state;
	hdr_from("\"A <b@c> \\\"quoted\\\" ;tag=no\" <sip:alice@a.com;transport=udp;tag=no>;tag=abc", "alice", "abc");
	hdr_from("Bob <sips:bob@b.org>;tag=t1;other", "bob", "t1");
	hdr_from("sip:carol@c.org;tag=99", "carol", "99");
	hdr_from("sip:dave:secret@d.org", "dave", "");
	hdr_from("<sip:erin;x=y@e.org>;TAG=E", "erin", "E");
	hdr_from("<tel:+1-555-1234;phone-context=example.com>;tag=t", "+1-555-1234", "t");
	hdr_from("tel:+15551234;tag=z", "+15551234", "z");
	hdr_from("<sip:host.only.org>;tag=h", "", "h");
	hdr_from("<http://x@y>;tag=h", "", "h");
	hdr_from("\"unterminated <sip:u@x>;tag=q", "u", "q");
	hdr_from("\"quoted tag\" <sip:f@g>;tag=\"qt\"", "f", "qt");
	hdr_from("<sip:g@h", "g", "");
	hdr_from("x", "", "");
	hdr_from("/", "", "");
	hdr_from("\"", "", "");
	hdr_from("<", "", "");
	hdr_from(";tag=", "", "");
}

static void test_header_param(void **state)
{
	(void)state;
	struct span out;
	const char *v = "Digest realm=\"r\";nonce=\"abc;d\" ; lr ;Q = 0.5;x=\"y";
	struct span s = span_make(v, strlen(v));
	assert_int_equal(sip_header_param(s, "nonce", &out), 1);
	assert_span(out, "abc;d");
	assert_int_equal(sip_header_param(s, "lr", &out), 1);
	assert_int_equal(out.len, 0);
	assert_int_equal(sip_header_param(s, "q", &out), 1);
	assert_span(out, "0.5");
	assert_int_equal(sip_header_param(s, "x", &out), 1); /* A3: 1-char quoted token */
	assert_span(out, "y");
	assert_int_equal(sip_header_param(s, "d", &out), 0);
	assert_int_equal(sip_header_param(s, "realm", &out), 0); /* not after ';' */
	const char *w = "<sip:a@b;tag=inner>;tag=outer";
	assert_int_equal(sip_header_param(span_make(w, strlen(w)), "tag", &out), 1);
	assert_span(out, "outer");
	const char *q = "multipart/mixed; boundary=\"";
	assert_int_equal(sip_header_param(span_make(q, strlen(q)), "boundary", &out), 1);
	assert_int_equal(out.len, 0);
	assert_int_equal(sip_header_param(span_make(q, 0), "boundary", &out), 0);
	assert_int_equal(sip_header_param(span_make(q, strlen(q)), "", &out), 0);
}

#define HDRS_OK "Call-ID: c\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nCSeq: 1 INVITE\r\n"

static void test_errors(void **state)
{
	(void)state;
	assert_int_equal(parse_s(""), SIP_E_START_LINE);
	assert_int_equal(parse_s("HELLO\r\n" HDRS_OK "\r\n"), SIP_E_START_LINE);
	assert_int_equal(parse_s("INVITE sip:x SIP/3.0\r\n" HDRS_OK "\r\n"), SIP_E_START_LINE);
	assert_int_equal(parse_s("NOTIFY * HTTP/1.1\r\n" HDRS_OK "\r\n"), SIP_E_START_LINE);
	assert_int_equal(parse_s("INVITE  SIP/2.0\r\n" HDRS_OK "\r\n"), SIP_E_START_LINE);
	assert_int_equal(parse_s("SIP/2.0 20 OK\r\n" HDRS_OK "\r\n"), SIP_E_START_LINE);
	assert_int_equal(parse_s("SIP/2.0 2000 OK\r\n" HDRS_OK "\r\n"), SIP_E_START_LINE);
	assert_int_equal(parse_s("SIP/2.0 099 Low\r\n" HDRS_OK "\r\n"), SIP_E_STATUS);
	assert_int_equal(parse_s("SIP/2.0 700 High\r\n" HDRS_OK "\r\n"), SIP_E_STATUS);
	/* A12: SigComp messages start with 11111xxx */
	assert_int_equal(parse_n("\xf8\x00\x01\x02INVITE sip:x SIP/2.0\r\n", 25, &msg), SIP_E_START_LINE);

	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\nCall-ID\x01: x\r\n" HDRS_OK "\r\n"), SIP_E_HEADER);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\nCall\x7f-ID: x\r\n" HDRS_OK "\r\n"), SIP_E_HEADER);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\nNoColonHere\r\n" HDRS_OK "\r\n"), SIP_E_HEADER);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n: empty name\r\n" HDRS_OK "\r\n"), SIP_E_HEADER);
	/* whitespace before the colon is fine */
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\nCall-ID \t: c\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\n"
				 "CSeq: 1 INVITE\r\n\r\n"),
			 SIP_OK);
	assert_span(msg.call_id, "c");

	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK), SIP_E_NO_END);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0"), SIP_E_NO_END);

	char big[8192];
	size_t o = (size_t)snprintf(big, sizeof(big), "INVITE sip:x SIP/2.0\r\n" HDRS_OK);
	for (int i = 0; i < SIP_MAX_HEADERS; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "X-H%d: v\r\n", i);
	snprintf(big + o, sizeof(big) - o, "\r\n");
	assert_int_equal(parse_s(big), SIP_E_TOO_MANY_HDRS);

	/* A4, A5, A6 */
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "Content-Length: -1\r\n\r\nabc"),
			 SIP_E_CONTENT_LENGTH);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "Content-Length: 4294967328\r\n\r\n"
				 "0123456789012345678901234567890123456789"),
			 SIP_E_CONTENT_LENGTH);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "Content-Length: 4294967295\r\n\r\nabc"),
			 SIP_E_CONTENT_LENGTH);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "Content-Length: 4\r\n\r\nabc"),
			 SIP_E_CONTENT_LENGTH);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "Content-Length: 3\r\n\r\nabc"), SIP_OK);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "Content-Length: +3\r\n\r\nabc"),
			 SIP_E_CONTENT_LENGTH);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "Content-Length: 0x3\r\n\r\nabc"),
			 SIP_E_CONTENT_LENGTH);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "Content-Length:\r\n\r\nabc"),
			 SIP_E_CONTENT_LENGTH);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "Content-Length: 1 2\r\n\r\nabc"),
			 SIP_E_CONTENT_LENGTH);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "l: 002\r\n\r\nabc"), SIP_OK);
	assert_int_equal(msg.body.len, 2);

	/* A10 duplicates */
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "Call-ID: other\r\n\r\n"), SIP_E_DUP_HEADER);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "i: other\r\n\r\n"), SIP_E_DUP_HEADER);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "i:   c  \r\n\r\n"), SIP_OK);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "To: <sip:evil@d>\r\n\r\n"), SIP_E_DUP_HEADER);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "f: <sip:evil@d>\r\n\r\n"), SIP_E_DUP_HEADER);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "CSeq: 2 INVITE\r\n\r\n"), SIP_E_DUP_HEADER);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "CSeq: 1 INVITE\r\n\r\n"), SIP_OK);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "l: 0\r\nContent-Length: 3\r\n\r\nabc"),
			 SIP_E_DUP_HEADER);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\n" HDRS_OK "l: 3\r\nContent-Length: 3\r\n\r\nabc"), SIP_OK);

	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nCSeq: 1 INVITE\r\n\r\n"),
			 SIP_E_MISSING);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\nCall-ID: c\r\nTo: <sip:c@d>\r\nCSeq: 1 INVITE\r\n\r\n"),
			 SIP_E_MISSING);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\nCall-ID: c\r\nFrom: <sip:a@b>\r\nCSeq: 1 INVITE\r\n\r\n"),
			 SIP_E_MISSING);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\nCall-ID: c\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\n\r\n"),
			 SIP_E_MISSING);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\nCall-ID:\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\n"
				 "CSeq: 1 INVITE\r\n\r\n"),
			 SIP_E_MISSING);

	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\nCall-ID: c\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\n"
				 "CSeq: INVITE\r\n\r\n"),
			 SIP_E_CSEQ);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\nCall-ID: c\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\n"
				 "CSeq: 1\r\n\r\n"),
			 SIP_E_CSEQ);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\nCall-ID: c\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\n"
				 "CSeq: 4294967296 INVITE\r\n\r\n"),
			 SIP_E_CSEQ);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\nCall-ID: c\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\n"
				 "CSeq: 4294967295 INVITE\r\n\r\n"),
			 SIP_OK);
	assert_int_equal(msg.cseq, 4294967295u);
	assert_int_equal(parse_s("INVITE sip:x SIP/2.0\r\nCall-ID: c\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\n"
				 "CSeq: 1 INVITE extra\r\n\r\n"),
			 SIP_E_CSEQ);

	for (int c = 1; c >= -SIP_E__COUNT; c--)
		assert_non_null(sip_err_name(c));
	assert_string_equal(sip_err_name(SIP_E_DUP_HEADER), "duplicate_header");
	assert_string_equal(sip_method_name(SIP_M_INFO), "INFO");
	assert_string_equal(sip_method_name((enum sip_method)99), "?");
}

/* A1, A7: long values are just spans */
static void test_long_values(void **state)
{
	(void)state;
	size_t n = 70000;
	char *b = malloc(n + 512);
	assert_non_null(b);
	size_t o = (size_t)sprintf(b, "INVITE sip:x SIP/2.0\r\nCall-ID: ");
	memset(b + o, 'A', 65536);
	o += 65536;
	o += (size_t)sprintf(b + o, "\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\nCSeq: 1 ");
	memset(b + o, 'M', 1000);
	o += 1000;
	o += (size_t)sprintf(b + o, "\r\nVia: SIP/2.0/UDP h\r\n\r\n");
	assert_int_equal(parse_n(b, o, &msg), SIP_OK);
	assert_int_equal(msg.call_id.len, 65536);
	assert_int_equal(msg.cseq_method_str.len, 1000);
	assert_int_equal(msg.via_branch.len, 0);
	free(b);
}

static void info_msg(char *buf, size_t n, const char *ctype, const char *body)
{
	snprintf(buf, n,
		 "INFO sip:x@y SIP/2.0\r\nCall-ID: c\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\n"
		 "CSeq: 3 INFO\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
		 ctype, strlen(body), body);
}

static int dtmf(const char *ctype, const char *body, char *d, uint32_t *dur)
{
	char buf[1024];
	info_msg(buf, sizeof(buf), ctype, body);
	assert_int_equal(parse_s(buf), SIP_OK);
	return sip_info_dtmf(&msg, d, dur);
}

static void test_info_dtmf(void **state)
{
	(void)state;
	char d;
	uint32_t dur;
	assert_int_equal(dtmf("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", &d, &dur), 1);
	assert_int_equal(d, '5');
	assert_int_equal(dur, 160);
	assert_int_equal(msg.method, SIP_M_INFO);
	assert_int_equal(dtmf("Application/DTMF-Relay", "signal = 10\nDURATION = 250", &d, &dur), 1);
	assert_int_equal(d, '*');
	assert_int_equal(dur, 250);
	assert_int_equal(dtmf("application/dtmf-relay", "Signal=11\r\n", &d, &dur), 1);
	assert_int_equal(d, '#');
	assert_int_equal(dur, 0);
	assert_int_equal(dtmf("application/dtmf-relay", "Signal=#\r\nDuration=100\r\n", &d, &dur), 1);
	assert_int_equal(d, '#');
	assert_int_equal(dtmf("application/dtmf-relay", "Signal=b\r\n", &d, &dur), 1);
	assert_int_equal(d, 'B');
	assert_int_equal(dtmf("application/dtmf-relay", "Signal=15\r\n", &d, &dur), 1);
	assert_int_equal(d, 'D');
	assert_int_equal(dtmf("application/dtmf", " 7 \r\n", &d, &dur), 1);
	assert_int_equal(d, '7');
	assert_int_equal(dur, 0);
	assert_int_equal(dtmf("application/dtmf", "Signal=*\r\nDuration=90", &d, &dur), 1);
	assert_int_equal(d, '*');
	assert_int_equal(dur, 90);
	assert_int_equal(dtmf("application/dtmf", "11", &d, &dur), 1);
	assert_int_equal(d, '#');

	assert_int_equal(dtmf("application/dtmf-relay", "Signal=X\r\n", &d, &dur), -1);
	assert_int_equal(d, 0);
	assert_int_equal(dtmf("application/dtmf-relay", "Signal=16\r\n", &d, &dur), -1);
	assert_int_equal(dtmf("application/dtmf-relay", "Duration=100\r\n", &d, &dur), -1);
	assert_int_equal(dtmf("application/dtmf-relay", "Signal=1\r\nDuration=-5\r\n", &d, &dur), -1);
	assert_int_equal(dtmf("application/dtmf-relay", "Signal=1\r\nDuration=99999999999\r\n", &d, &dur), -1);
	assert_int_equal(dtmf("application/dtmf-relay", "", &d, &dur), -1);
	assert_int_equal(dtmf("application/dtmf", "", &d, &dur), -1);
	assert_int_equal(dtmf("application/dtmf", "12345", &d, &dur), -1);
	assert_int_equal(dtmf("application/dtmf", "=", &d, &dur), -1);
	assert_int_equal(dtmf("text/plain", "Signal=5", &d, &dur), 0);
	assert_int_equal(dtmf("application/sdp", "v=0\r\n", &d, &dur), 0);
}

static const char mp_body[] =
	"--unique-boundary-1\r\n"
	"Content-Type: application/sdp\r\n"
	"\r\n"
	"v=0\r\n"
	"o=Bob 2890844527 2890844527 IN IP4 host.example.com\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.4\r\n"
	"t=0 0\r\n"
	"m=audio 3456 RTP/AVP 0\r\n"
	"\r\n"
	"--unique-boundary-1\r\n"
	"Content-Type: application/ISUP; version=nxv3; base=etsi121\r\n"
	"Content-Disposition: signal; handling=optional\r\n"
	"\r\n"
	"\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x33\x63\x21\x43\x00\x00\x03\x06\x0d\x03\x80\x90\xa2\x05\r\n"
	"--unique-boundary-1--\r\n";

static const char mp_sdp[] = "v=0\r\n"
			     "o=Bob 2890844527 2890844527 IN IP4 host.example.com\r\n"
			     "s=-\r\n"
			     "c=IN IP4 192.0.2.4\r\n"
			     "t=0 0\r\n"
			     "m=audio 3456 RTP/AVP 0\r\n";

static int mp(const char *ctype, const char *body, size_t blen, struct span *sdp)
{
	char buf[4096];
	int o = snprintf(buf, sizeof(buf),
			 "INVITE sip:x@y SIP/2.0\r\nCall-ID: c\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
			 "CSeq: 3 INVITE\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n",
			 ctype, blen);
	assert_true(o > 0 && (size_t)o + blen < sizeof(buf));
	memcpy(buf + o, body, blen);
	int rc = parse_n(buf, (size_t)o + blen, &msg);
	assert_int_equal(rc, SIP_OK);
	rc = sip_body_sdp(&msg, sdp);
	if (rc == 1) {
		size_t off = (size_t)(sdp->p - msg.body.p);
		assert_true(off + sdp->len <= blen);
	}
	return rc;
}

static void test_multipart(void **state)
{
	(void)state;
	struct span sdp;
	size_t bl = sizeof(mp_body) - 1;
	assert_int_equal(mp("multipart/mixed;boundary=unique-boundary-1", mp_body, bl, &sdp), 1);
	assert_span(sdp, mp_sdp);
	assert_span(msg.content_type, "multipart/mixed");
	assert_int_equal(mp("Multipart/Mixed; boundary=\"unique-boundary-1\"; foo=bar", mp_body, bl, &sdp), 1);
	assert_span(sdp, mp_sdp);

	/* SDP second, preamble, LF-only, transport padding after the delimiter */
	const char *b2 = "preamble text\n"
			 "--xyz  \n"
			 "Content-Type: text/plain\n"
			 "\n"
			 "hello --xyz not at line start\n"
			 "--xyz\n"
			 "content-type: Application/SDP\n"
			 "\n"
			 "v=0\n"
			 "--xyz--\n"
			 "epilogue";
	assert_int_equal(mp("multipart/alternative; boundary=xyz", b2, strlen(b2), &sdp), 1);
	assert_span(sdp, "v=0");

	/* no SDP part */
	const char *b3 = "--xyz\r\nContent-Type: text/plain\r\n\r\nhi\r\n--xyz--";
	assert_int_equal(mp("multipart/mixed; boundary=xyz", b3, strlen(b3), &sdp), 0);
	/* part without headers (default text/plain) */
	const char *b4 = "--xyz\r\n\r\nhi\r\n--xyz--";
	assert_int_equal(mp("multipart/mixed; boundary=xyz", b4, strlen(b4), &sdp), 0);

	/* A8: malformed */
	assert_int_equal(mp("multipart/mixed", mp_body, bl, &sdp), -1);
	assert_int_equal(mp("multipart/mixed; boundary=", mp_body, bl, &sdp), -1);
	assert_int_equal(mp("multipart/mixed; boundary=\"", mp_body, bl, &sdp), -1);
	assert_int_equal(mp("multipart/mixed; boundary=other", mp_body, bl, &sdp), -1);
	const char *b5 = "--xyz\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n";
	assert_int_equal(mp("multipart/mixed; boundary=xyz", b5, strlen(b5), &sdp), -1); /* no closing */
	const char *b6 = "--xyz\r\nContent-Type: application/sdp\r\nv=0\r\n--xyz--\r\n";
	assert_int_equal(mp("multipart/mixed; boundary=xyz", b6, strlen(b6), &sdp), -1); /* no blank line */
	const char *b7 = "--xyz";
	assert_int_equal(mp("multipart/mixed; boundary=xyz", b7, strlen(b7), &sdp), -1);
	const char *b8 = "--xyz--";
	assert_int_equal(mp("multipart/mixed; boundary=xyz", b8, strlen(b8), &sdp), 0);
	const char *b9 = "--xyz\r\n--xyz--";
	assert_int_equal(mp("multipart/mixed; boundary=xyz", b9, strlen(b9), &sdp), -1);
	assert_int_equal(mp("multipart/mixed; boundary=xyz", "", 0, &sdp), -1);
	/* every truncation of the good body: never 1 with a span outside, no crash */
	for (size_t cut = 0; cut < bl; cut++) {
		int rc = mp("multipart/mixed;boundary=unique-boundary-1", mp_body, cut, &sdp);
		assert_true(rc == -1 || rc == 0 || rc == 1);
	}
	/* empty application/sdp body */
	assert_int_equal(mp("application/sdp", "", 0, &sdp), 0);
}

/* ------------------------------------------------------------ framing */

static int frame(const char *s, size_t n, size_t *ml, size_t *sk)
{
	uint8_t *b = dup_bytes(s, n);
	int rc = sip_frame(b, n, ml, sk);
	free(b);
	return rc;
}

static const char bye_msg[] = "BYE sip:a@b SIP/2.0\r\nCall-ID: c\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\n"
			      "CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n";

static void test_frame_two(void **state)
{
	(void)state;
	char buf[2048];
	size_t l1 = strlen(invite_sdp), l2 = strlen(bye_msg);
	memcpy(buf, invite_sdp, l1);
	memcpy(buf + l1, bye_msg, l2);
	size_t ml, sk;
	assert_int_equal(frame(buf, l1 + l2, &ml, &sk), 1);
	assert_int_equal(ml, l1);
	assert_int_equal(frame(buf + l1, l2, &ml, &sk), 1);
	assert_int_equal(ml, l2);
	assert_int_equal(parse_n(buf + l1, ml, &msg), SIP_OK);

	/* no Content-Length on a stream: empty body */
	const char *nocl = "OPTIONS sip:a SIP/2.0\r\nCall-ID: c\r\n\r\nXYZ";
	assert_int_equal(frame(nocl, strlen(nocl), &ml, &sk), 1);
	assert_int_equal(ml, strlen(nocl) - 3);
	/* compact l:, odd spacing, LF only */
	const char *lf = "SIP/2.0 200 OK\nL :  3 \n\nabcSIP/2.0";
	assert_int_equal(frame(lf, strlen(lf), &ml, &sk), 1);
	assert_int_equal(ml, strlen(lf) - 7);
}

static void test_frame_split(void **state)
{
	(void)state;
	size_t n = strlen(invite_sdp), ml, sk;
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(frame(invite_sdp, cut, &ml, &sk), 0);
	assert_int_equal(frame(invite_sdp, n, &ml, &sk), 1);
	assert_int_equal(ml, n);
}

static void test_frame_resync(void **state)
{
	(void)state;
	size_t ml, sk;
	assert_int_equal(frame("\r\n\r\n", 4, &ml, &sk), -1);
	assert_int_equal(sk, 4);
	assert_int_equal(frame("\r\n\r\nINVITE", 10, &ml, &sk), -1);
	assert_int_equal(sk, 4);
	assert_int_equal(frame("", 0, &ml, &sk), 0);

	/* garbage line, then a message: stream resyncs at the line end */
	char buf[2048];
	const char *g = "GET / HTTP/1.1\r\n";
	size_t gl = strlen(g), bl = strlen(bye_msg);
	memcpy(buf, g, gl);
	memcpy(buf + gl, bye_msg, bl);
	assert_int_equal(frame(buf, gl + bl, &ml, &sk), -1);
	assert_int_equal(sk, gl);
	assert_int_equal(frame(buf + sk, gl + bl - sk, &ml, &sk), 1);
	assert_int_equal(ml, bl);

	/* binary garbage without any LF is dropped whole */
	assert_int_equal(frame("\x16\x03\x01\x02\x00", 5, &ml, &sk), -1);
	assert_int_equal(sk, 5);
	/* A12 SigComp */
	assert_int_equal(frame("\xf8\x01\x02\x03\n", 5, &ml, &sk), -1);
	assert_int_equal(sk, 5);
	/* partial start line that may still become SIP */
	assert_int_equal(frame("INVITE sip:a", 12, &ml, &sk), 0);
	assert_int_equal(frame("SIP/2.", 6, &ml, &sk), 0);

	/* invalid Content-Length: framing lost for good (-2), header block skipped */
	const char *bad = "INVITE sip:a SIP/2.0\r\nContent-Length: -1\r\n\r\nbody";
	assert_int_equal(frame(bad, strlen(bad), &ml, &sk), -2);
	assert_int_equal(sk, strlen(bad) - 4);
	const char *bad2 = "INVITE sip:a SIP/2.0\r\nl: 4294967328\r\n\r\nbody";
	assert_int_equal(frame(bad2, strlen(bad2), &ml, &sk), -2);
	assert_int_equal(sk, strlen(bad2) - 4);
	const char *bad3 = "INVITE sip:a SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nbody";
	assert_int_equal(frame(bad3, strlen(bad3), &ml, &sk), -2);
	const char *big = "INVITE sip:a SIP/2.0\r\nl: 70000\r\n\r\nbody";
	assert_int_equal(frame(big, strlen(big), &ml, &sk), -2);
	assert_int_equal(sk, strlen(big) - 4);

	/* headers never ending within SIP_MAX_MSG */
	char *huge = malloc(SIP_MAX_MSG + 100);
	assert_non_null(huge);
	size_t o = (size_t)sprintf(huge, "INVITE sip:a SIP/2.0\r\nX: ");
	memset(huge + o, 'a', SIP_MAX_MSG + 100 - o);
	assert_int_equal(frame(huge, SIP_MAX_MSG - 1, &ml, &sk), 0);
	assert_int_equal(frame(huge, SIP_MAX_MSG + 100, &ml, &sk), -1);
	assert_int_equal(sk, 22);
	assert_int_equal(frame(huge + 22, SIP_MAX_MSG + 78, &ml, &sk), -1);
	assert_true(sk >= 1);
	free(huge);
}

static void test_looks_like(void **state)
{
	(void)state;
	assert_true(sip_looks_like((const uint8_t *)invite_sdp, strlen(invite_sdp)));
	assert_true(sip_looks_like((const uint8_t *)"SIP/2.0 180 Ringing\r\n", 21));
	assert_true(sip_looks_like((const uint8_t *)"OPTIONS sip:x SIP/2.0\n", 22));
	assert_false(sip_looks_like((const uint8_t *)"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n", 48));
	assert_false(sip_looks_like((const uint8_t *)"M-SEARCH * HTTP/1.1\r\n", 21));
	assert_false(sip_looks_like((const uint8_t *)"HTTP/1.1 200 OK\r\n", 17));
	assert_false(sip_looks_like((const uint8_t *)"SIP/2.0 200 OK", 14));
	assert_false(sip_looks_like((const uint8_t *)"\x80\x00\x01\x02\n", 5));
	assert_false(sip_looks_like(NULL, 0));
	assert_false(sip_looks_like((const uint8_t *)"", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invite_sdp),   cmocka_unit_test(test_invite_truncated),
		cmocka_unit_test(test_compact_form), cmocka_unit_test(test_compact_all),
		cmocka_unit_test(test_responses),    cmocka_unit_test(test_requests),
		cmocka_unit_test(test_via_variants), cmocka_unit_test(test_folding),
		cmocka_unit_test(test_display_names), cmocka_unit_test(test_header_param),
		cmocka_unit_test(test_errors),	     cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_info_dtmf),    cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_frame_two),    cmocka_unit_test(test_frame_split),
		cmocka_unit_test(test_frame_resync), cmocka_unit_test(test_looks_like),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(last_buf);
	return rc;
}
