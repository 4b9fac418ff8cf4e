/*
 * rtp.c - RTP fixed header (RFC 3550 sec. 5.1), header extensions (RFC 3550
 * sec. 5.3.1 and RFC 8285 sec. 4.2/4.3), compound RTCP validation (RFC 3550
 * sec. 6.4-6.7 and A.2, RFC 5506 reduced-size, RFC 4585 sec. 6 feedback,
 * RFC 3611 XR blocks), RFC 4733 sec. 2.3 telephone-events and RFC 5761
 * sec. 4 RTP/RTCP demultiplexing.
 *
 * Every length field is checked against the bytes that are actually there
 * before it is used: the extension length is in 32-bit words (ATTACKS C1),
 * the CSRC count in words (C2), the padding count must be 1..payload (C3),
 * RFC 8285 elements must end inside the extension (C4), every RTCP
 * sub-packet length must fit the compound packet (C5), BYE reasons (C6),
 * SDES items and feedback FCI (C8) must fit their sub-packet.
 *
 * Does NOT: decrypt SRTP/SRTCP (an SRTCP trailer makes rtcp_parse fail with
 * a length or content error), track sequence numbers or SSRC changes (that
 * is the stream layer's job, RFC 3550 A.1), or decode codec payloads.
 * No allocation; output spans point into the input.
 */
#include "rtp.h"

#define RTP_HDR_LEN 12u
#define RTCP_HDR_LEN 4u

int rtp_parse(const uint8_t *p, size_t len, struct rtp_hdr *h)
{
	struct cursor c;
	uint8_t b0, b1;
	uint16_t seq;
	uint32_t ts, ssrc;

	memset(h, 0, sizeof(*h));
	cur_init(&c, p, len);
	if (len < RTP_HDR_LEN)
		return RTP_E_SHORT;
	if (!cur_u8(&c, &b0) || !cur_u8(&c, &b1) || !cur_be16(&c, &seq) || !cur_be32(&c, &ts) ||
	    !cur_be32(&c, &ssrc))
		return RTP_E_SHORT;
	h->version = (uint8_t)(b0 >> 6);
	if (h->version != 2)
		return RTP_E_VERSION;
	/* RFC 5761 sec. 4: PT 72-76 with M folded in is RTCP SR..APP */
	if ((b1 & 0x7f) >= 72 && (b1 & 0x7f) <= 76)
		return RTP_E_RTCP_PT;
	h->padding = (b0 & 0x20) != 0;
	h->extension = (b0 & 0x10) != 0;
	h->cc = b0 & 0x0f;
	h->marker = (b1 & 0x80) != 0;
	h->pt = b1 & 0x7f;
	h->seq = seq;
	h->ts = ts;
	h->ssrc = ssrc;

	if (!cur_skip(&c, (size_t)h->cc * 4u))
		return RTP_E_CSRC;

	if (h->extension) {
		uint16_t prof, words;
		const uint8_t *ext;
		if (!cur_be16(&c, &prof) || !cur_be16(&c, &words))
			return RTP_E_EXT;
		/* length counts 32-bit words, not octets (C1) */
		if (!cur_take(&c, (size_t)words * 4u, &ext))
			return RTP_E_EXT;
		h->ext_profile = prof;
		h->ext = span_make(ext, (size_t)words * 4u);
	}

	h->hdr_len = c.off;
	h->payload = cur_ptr(&c);
	h->payload_len = cur_left(&c);
	if (h->padding) {
		/* the count includes itself, so 0 is invalid (C3) */
		uint8_t pad;
		if (h->payload_len == 0)
			return RTP_E_PADDING;
		pad = p[len - 1];
		if (pad == 0 || pad > h->payload_len)
			return RTP_E_PADDING;
		h->payload_len -= pad;
	}
	return RTP_OK;
}

const char *rtp_err_name(int code)
{
	static const char *const names[RTP_E__COUNT] = {
		"ok", "short", "version", "csrc", "ext", "padding", "rtcp_pt",
	};
	if (code > 0 || code <= -RTP_E__COUNT)
		return "unknown";
	return names[-code];
}

bool rtp_is_rtcp(const uint8_t *p, size_t len)
{
	if (len < 2)
		return false;
	return p[1] >= 192 && p[1] <= 223;
}

int rtp_ext_count(const struct rtp_hdr *h)
{
	const uint8_t *e = h->ext.p;
	size_t n = h->ext.len, i = 0;
	int count = 0;

	if (!h->extension || !e)
		return 0;
	if (h->ext_profile == 0xBEDE) {
		/* RFC 8285 sec. 4.2: ID(4) L(4), L+1 data bytes */
		while (i < n) {
			uint8_t b = e[i];
			size_t el;
			if (b == 0) {
				i++;
				continue;
			}
			if ((b >> 4) == 15)
				break;
			el = (size_t)(b & 0x0f) + 1u;
			if (el > n - i - 1)
				return -1;
			i += 1u + el;
			count++;
		}
		return count;
	}
	if ((h->ext_profile & 0xFFF0) == 0x1000) {
		/* RFC 8285 sec. 4.3: ID(8) L(8), L data bytes */
		while (i < n) {
			size_t el;
			if (e[i] == 0) {
				i++;
				continue;
			}
			if (n - i < 2)
				return -1;
			el = e[i + 1];
			if (el > n - i - 2)
				return -1;
			i += 2u + el;
			count++;
		}
		return count;
	}
	return 0; /* not an RFC 8285 extension */
}

/* SDES (RFC 3550 sec. 6.5): sc chunks of SSRC + items, each chunk ending in
 * a null item and padded to a 32-bit boundary. */
static bool rtcp_sdes_ok(const uint8_t *b, size_t blen, unsigned sc)
{
	size_t off = 4;
	for (unsigned k = 0; k < sc; k++) {
		if (blen - off < 4)
			return false;
		off += 4; /* SSRC/CSRC */
		for (;;) {
			uint8_t type;
			if (off >= blen)
				return false;
			type = b[off];
			if (type == 0) {
				off++;
				off = (off + 3u) & ~(size_t)3u;
				if (off > blen)
					return false;
				break;
			}
			if (blen - off < 2)
				return false;
			if ((size_t)b[off + 1] > blen - off - 2)
				return false;
			off += 2u + b[off + 1];
		}
	}
	return true;
}

/* XR (RFC 3611 sec. 3): SSRC, then report blocks BT(8) type-specific(8)
 * block length(16, words) each fitting the packet. */
static bool rtcp_xr_ok(const uint8_t *b, size_t blen)
{
	size_t off = 8;
	if (blen < 8)
		return false;
	while (off < blen) {
		size_t bl;
		if (blen - off < 4)
			return false;
		bl = (size_t)rd_be16(b + off + 2) * 4u;
		if (bl > blen - off - 4)
			return false;
		off += 4u + bl;
	}
	return true;
}

/* Checks one sub-packet's content; b[0..blen) is the sub-packet without
 * padding (blen >= 4). */
static int rtcp_content(const uint8_t *b, size_t blen, uint8_t pt, unsigned cnt)
{
	switch (pt) {
	case 200: /* SR: header, SSRC, 20 bytes sender info, RC report blocks */
		if ((size_t)28 + (size_t)cnt * 24u > blen)
			return RTCP_E_CONTENT;
		return RTCP_OK;
	case 201: /* RR */
		if ((size_t)8 + (size_t)cnt * 24u > blen)
			return RTCP_E_CONTENT;
		return RTCP_OK;
	case 202:
		return rtcp_sdes_ok(b, blen, cnt) ? RTCP_OK : RTCP_E_CONTENT;
	case 203: { /* BYE: SC sources, optional length-prefixed reason (C6) */
		size_t off = 4 + (size_t)cnt * 4u;
		if (off > blen)
			return RTCP_E_CONTENT;
		if (off < blen && (size_t)b[off] > blen - off - 1)
			return RTCP_E_CONTENT;
		return RTCP_OK;
	}
	case 204: /* APP: SSRC + 4-byte name */
		return blen >= 12 ? RTCP_OK : RTCP_E_CONTENT;
	case 205: /* RTPFB */
	case 206: /* PSFB */
		/* RFC 4585 sec. 6.1: header, sender SSRC, media SSRC (C8) */
		if (blen < 12)
			return RTCP_E_CONTENT;
		if (pt == 206 && cnt == 3) {
			/* RPSI (sec. 6.3.3): PB, PT, bit string, PB padding bits */
			size_t fci = blen - 12;
			if (fci < 4 || (size_t)b[12] > fci * 8u - 16u)
				return RTCP_E_CONTENT;
		}
		return RTCP_OK;
	case 207:
		return rtcp_xr_ok(b, blen) ? RTCP_OK : RTCP_E_CONTENT;
	default:
		return RTCP_E_PT;
	}
}

int rtcp_parse(const uint8_t *p, size_t len, struct rtcp_info *out)
{
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	if (len < RTCP_HDR_LEN)
		return RTCP_E_SHORT;
	/* each sub-packet is >= 4 bytes, so this loop runs <= len/4 times */
	while (off < len) {
		size_t left = len - off, plen, blen;
		const uint8_t *b = p + off;
		uint8_t pt;
		unsigned cnt;
		int rc;

		if (left < RTCP_HDR_LEN)
			break; /* stray tail bytes seen in real captures: ignored */
		if ((b[0] >> 6) != 2)
			return RTCP_E_VERSION;
		pt = b[1];
		cnt = b[0] & 0x1f;
		if (pt < 200 || pt > 207)
			return RTCP_E_PT;
		plen = ((size_t)rd_be16(b + 2) + 1u) * 4u;
		if (plen > left)
			return RTCP_E_LENGTH;
		blen = plen;
		if (b[0] & 0x20) {
			/* RFC 3550 sec. 6.4.1: padding only on the last packet */
			uint8_t pad = b[plen - 1];
			if (off + plen != len)
				return RTCP_E_CONTENT;
			if (pad == 0 || pad > plen - RTCP_HDR_LEN)
				return RTCP_E_CONTENT;
			blen = plen - pad;
		}
		rc = rtcp_content(b, blen, pt, cnt);
		if (rc != RTCP_OK)
			return rc;
		if (out->packets == 0 && blen >= 8)
			out->ssrc = rd_be32(b + 4);
		out->packets++;
		switch (pt) {
		case 200: out->has_sr = true; break;
		case 201: out->has_rr = true; break;
		case 202: out->has_sdes = true; break;
		case 203: out->has_bye = true; break;
		case 204: out->has_app = true; break;
		case 205:
		case 206: out->has_fb = true; break;
		default: break;
		}
		off += plen;
	}
	return RTCP_OK;
}

const char *rtcp_err_name(int code)
{
	static const char *const names[RTCP_E__COUNT] = {
		"ok", "short", "version", "length", "pt", "content",
	};
	if (code > 0 || code <= -RTCP_E__COUNT)
		return "unknown";
	return names[-code];
}

int rfc4733_parse(const uint8_t *payload, size_t len, struct rfc4733_event *ev)
{
	struct cursor c;
	uint8_t e, flags;
	uint16_t dur;

	memset(ev, 0, sizeof(*ev));
	cur_init(&c, payload, len);
	if (!cur_u8(&c, &e) || !cur_u8(&c, &flags) || !cur_be16(&c, &dur))
		return -1;
	ev->event = e;
	ev->end = (flags & 0x80) != 0;
	ev->volume = flags & 0x3f;
	ev->duration = dur;
	return 0;
}

char rfc4733_digit(uint8_t event)
{
	static const char digits[] = "0123456789*#ABCD";
	return event < 16 ? digits[event] : 0;
}
