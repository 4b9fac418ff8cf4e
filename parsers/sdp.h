/*
 * sdp.h - Session Description Protocol (RFC 4566) as used in offer/answer
 * (RFC 3264): what media each side will receive, where, and how.
 *
 * Parsed: c= (session and media level; IN IP4 / IN IP6; a "/ttl" suffix is
 * ignored), every m= line (port, port count, proto, payload types), a=rtpmap,
 * a=ptime, a=rtcp (RFC 3605), a=sendrecv/sendonly/recvonly/inactive at
 * session and media level, a=rtcp-mux.  Media inherit the session-level c=
 * and direction.  Port 0 means a rejected/disabled stream.  Payload types
 * are 0-127 (larger numbers are ignored and flagged); static types without
 * a=rtpmap get their RFC 3551 names via sdp_static_pt().
 *
 * Lines may end in CRLF or LF; a NUL or the end of input ends a line without
 * reading further (ATTACKS B3, B4).  Bounded arrays: extra m= lines or
 * formats are counted in flags, never written out of bounds.  Depends on
 * libc only.
 *
 * Decisions: an m= port that is not a number or > 65535 keeps the media
 * (m-line indexes stay aligned for offer/answer) with port 0 and sets
 * SDP_F_BAD_PORT; formats are only read as payload types when the proto is
 * RTP ("RTP/..." or containing "/RTP/", e.g. UDP/TLS/RTP/SAVPF); a media
 * c= that cannot be parsed leaves that media with has_conn false (no
 * fallback to the session c=); the first a=rtpmap for a pt wins; a
 * session-level a=ptime is inherited by media.
 */
#ifndef RV_PARSERS_SDP_H
#define RV_PARSERS_SDP_H

#include "common.h"

#define SDP_MAX_MEDIA 8
#define SDP_MAX_FMT 32

enum sdp_dir { SDP_SENDRECV = 0, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };

enum sdp_media_type { SDP_MT_OTHER = 0, SDP_MT_AUDIO, SDP_MT_VIDEO, SDP_MT_IMAGE, SDP_MT_TEXT, SDP_MT_APPLICATION };

struct sdp_rtpmap {
	uint8_t pt;
	struct span encoding; /* e.g. "PCMU", "telephone-event" */
	uint32_t rate;
	uint8_t channels;     /* 0 when not given */
};

struct sdp_media {
	enum sdp_media_type type;
	struct span media;       /* as written */
	uint16_t port;           /* 0 = disabled */
	uint16_t nports;         /* 1 unless "port/n" */
	struct span proto;       /* "RTP/AVP", "RTP/SAVP", "udptl"... */
	bool rtp;                /* proto starts with RTP/ */
	uint8_t n_pt;
	uint8_t pt[SDP_MAX_FMT];
	uint8_t n_rtpmap;
	struct sdp_rtpmap rtpmap[SDP_MAX_FMT];
	struct ip_addr conn;     /* effective connection address (media or session level) */
	bool has_conn;
	enum sdp_dir dir;        /* effective direction */
	uint16_t rtcp_port;      /* from a=rtcp, 0 when absent */
	struct ip_addr rtcp_addr;/* from a=rtcp when it names one */
	bool rtcp_mux;
	uint32_t ptime;          /* ms, 0 when absent */
};

#define SDP_F_TOO_MANY_MEDIA 0x01
#define SDP_F_TOO_MANY_FMT 0x02
#define SDP_F_BAD_PT 0x04      /* payload type > 127 or not a number */
#define SDP_F_BAD_CONN 0x08    /* c= not understood (FQDN, bad address) */
#define SDP_F_BAD_PORT 0x10    /* m= port not a number or > 65535 */
#define SDP_F_BAD_LINE 0x20    /* a line not of the form x=... */

struct sdp {
	struct ip_addr conn;     /* session-level c= */
	bool has_conn;
	enum sdp_dir dir;        /* session-level direction */
	unsigned n_media;
	struct sdp_media m[SDP_MAX_MEDIA];
	unsigned flags;
};

enum sdp_err {
	SDP_OK = 0,
	SDP_E_EMPTY = -1,  /* no v= / nothing parseable */
	SDP_E_SYNTAX = -2, /* first line not v=0 */
	SDP_E__COUNT = 3
};

/* Parses; returns 0 (even with flags set for skipped parts) or a negative
 * enum sdp_err.  out is fully initialised in every case. */
int sdp_parse(const uint8_t *p, size_t len, struct sdp *out);
const char *sdp_err_name(int code);

/* RFC 3551 table 4 name and clock rate of a static payload type, NULL for
 * dynamic or unassigned types. */
const char *sdp_static_pt(uint8_t pt, uint32_t *rate);

/* The rtpmap entry for pt in m, or NULL. */
const struct sdp_rtpmap *sdp_find_rtpmap(const struct sdp_media *m, uint8_t pt);

#endif
