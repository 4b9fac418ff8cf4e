/*
 * rtp.h - RTP and RTCP headers (RFC 3550), header extensions (RFC 8285),
 * telephone-events (RFC 4733) and RTP/RTCP demultiplexing (RFC 5761).
 *
 * rtp_parse() validates version 2, the CSRC list, the extension length (in
 * 32-bit words) and the padding count against the packet length, so the
 * payload span it returns is always inside the packet.  rtcp_parse() walks
 * a compound RTCP packet and checks every sub-packet's length (including
 * BYE reason and feedback lengths).  Depends on libc only.
 */
#ifndef RV_PARSERS_RTP_H
#define RV_PARSERS_RTP_H

#include "common.h"

struct rtp_hdr {
	uint8_t version;
	bool padding, extension, marker;
	uint8_t cc;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint16_t ext_profile; /* when extension */
	struct span ext;      /* extension data (without its 4-byte header) */
	const uint8_t *payload;
	size_t payload_len;   /* padding removed */
	size_t hdr_len;       /* fixed header + CSRCs + extension */
};

enum rtp_err {
	RTP_OK = 0,
	RTP_E_SHORT = -1,      /* shorter than 12 bytes */
	RTP_E_VERSION = -2,    /* version != 2 */
	RTP_E_CSRC = -3,       /* CSRC list past the end */
	RTP_E_EXT = -4,        /* extension header or length past the end */
	RTP_E_PADDING = -5,    /* padding count 0 or larger than the payload */
	RTP_E_RTCP_PT = -6,    /* payload type in the RTCP range 72-76 (RFC 5761) */
	RTP_E__COUNT = 7
};

int rtp_parse(const uint8_t *p, size_t len, struct rtp_hdr *h);
const char *rtp_err_name(int code);

/* RFC 5761 sec. 4: true when a packet on an RTP port is RTCP (second byte
 * 192-223, i.e. PT 64-95 with the marker bit folded in). */
bool rtp_is_rtcp(const uint8_t *p, size_t len);

/* RFC 8285 elements inside h->ext (profile 0xBEDE one-byte or 0x100X
 * two-byte).  Returns the number of elements, or -1 when malformed (an
 * element running past the extension).  ID 15 in the one-byte form stops the
 * walk (reserved), ID 0 is padding. */
int rtp_ext_count(const struct rtp_hdr *h);

struct rtcp_info {
	unsigned packets;     /* sub-packets in the compound packet */
	uint32_t ssrc;        /* sender SSRC of the first sub-packet */
	bool has_sr, has_rr, has_sdes, has_bye, has_app, has_fb;
};

enum rtcp_err {
	RTCP_OK = 0,
	RTCP_E_SHORT = -1,     /* shorter than a header */
	RTCP_E_VERSION = -2,
	RTCP_E_LENGTH = -3,    /* a sub-packet's length runs past the end */
	RTCP_E_PT = -4,        /* first packet not SR/RR (RFC 3550 A.2) or unknown type */
	RTCP_E_CONTENT = -5,   /* report count / BYE reason / SDES items inconsistent with length */
	RTCP_E__COUNT = 6
};

/* Any known type (200-207) may come first: reduced-size RTCP (RFC 5506)
 * sends a lone feedback or XR packet, so RTCP_E_PT means an unknown type
 * anywhere in the compound.  Padding (P bit) is accepted on the last
 * sub-packet only.  1-3 stray bytes after the last sub-packet are ignored
 * (seen in real captures).  An SRTCP trailer makes the walk fail. */
int rtcp_parse(const uint8_t *p, size_t len, struct rtcp_info *out);
const char *rtcp_err_name(int code);

/* RFC 4733 sec. 2.3 telephone-event payload. */
struct rfc4733_event {
	uint8_t event;     /* 0-9, 10 '*', 11 '#', 12-15 A-D, others non-DTMF */
	bool end;
	uint8_t volume;
	uint16_t duration; /* timestamp units */
};

/* Parses the first 4-byte event block of payload.  -1 when shorter than 4. */
int rfc4733_parse(const uint8_t *payload, size_t len, struct rfc4733_event *ev);

/* '0'-'9', '*', '#', 'A'-'D' for events 0-15, 0 otherwise. */
char rfc4733_digit(uint8_t event);

#endif
