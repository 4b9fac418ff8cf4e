/*
 * sip.h - SIP messages (RFC 3261 sec. 7, 20, 25) as seen on the wire.
 *
 * sip_parse() reads one whole message (start line, headers, body) and fills
 * a caller-allocated struct sip_msg with spans into the input.  Compact
 * header forms (i f t v m l c k s e o u r x y b) and folded lines (sec. 7.3.1)
 * are understood; header names compare case-insensitively.  The headers a
 * recorder depends on (Call-ID, From, To, CSeq, Content-Length) must appear
 * at most once with one value: a second, different value is a parser
 * differential waiting to happen (ATTACKS A10) and the message is rejected.
 * Content-Length is parsed as an unsigned decimal bounded by the bytes
 * present (no sign, no wrap-around: A4, A5).  Every header is also recorded
 * in hdrs[] (bounded) so callers can look up any header by name.
 *
 * sip_frame() finds message boundaries in a byte stream (TCP): headers end
 * at the first empty line, the body is Content-Length (or l:) bytes.
 * Depends on libc only.
 */
#ifndef RV_PARSERS_SIP_H
#define RV_PARSERS_SIP_H

#include "common.h"

#define SIP_MAX_HEADERS 128     /* more and the message is rejected */
#define SIP_MAX_MSG (64 * 1024) /* framer refuses larger messages */

enum sip_method {
	SIP_M_NONE = 0, /* responses */
	SIP_M_UNKNOWN,
	SIP_M_INVITE,
	SIP_M_ACK,
	SIP_M_BYE,
	SIP_M_CANCEL,
	SIP_M_OPTIONS,
	SIP_M_REGISTER,
	SIP_M_PRACK,
	SIP_M_SUBSCRIBE,
	SIP_M_NOTIFY,
	SIP_M_PUBLISH,
	SIP_M_INFO,
	SIP_M_REFER,
	SIP_M_MESSAGE,
	SIP_M_UPDATE,
};

struct sip_hdr {
	struct span name;  /* as written (may be compact) */
	struct span value; /* trimmed; may contain folded CRLF+WS inside */
};

struct sip_msg {
	bool is_request;
	enum sip_method method;  /* request method */
	struct span method_str;
	struct span ruri;
	int status;              /* response status code 100-699 */
	struct span reason;

	struct span call_id;     /* trimmed value */
	struct span from, to;    /* whole header values */
	struct span from_user, to_user; /* user part of the URI (sip:, sips:, tel:) */
	struct span from_tag, to_tag;   /* tag parameter, empty when absent */
	uint32_t cseq;
	enum sip_method cseq_method;
	struct span cseq_method_str;
	struct span via_branch;  /* branch of the topmost Via, empty when absent */
	struct span contact;
	struct span content_type; /* media type only, e.g. "application/sdp", trimmed, no params */
	struct span content_type_full; /* whole value incl. parameters (boundary=...) */
	bool has_content_length;
	uint32_t content_length;
	struct span body;        /* exactly content_length bytes when given, else the rest */

	unsigned n_hdrs;
	struct sip_hdr hdrs[SIP_MAX_HEADERS];
};

enum sip_err {
	SIP_OK = 0,
	SIP_E_START_LINE = -1,   /* not a SIP request/status line */
	SIP_E_HEADER = -2,       /* header line without a colon, bad name characters */
	SIP_E_NO_END = -3,       /* headers not terminated by an empty line */
	SIP_E_TOO_MANY_HDRS = -4,
	SIP_E_CONTENT_LENGTH = -5, /* not a number, negative, too large, or more than the bytes present */
	SIP_E_DUP_HEADER = -6,   /* Call-ID/From/To/CSeq/Content-Length repeated with another value */
	SIP_E_MISSING = -7,      /* no Call-ID, From, To or CSeq */
	SIP_E_CSEQ = -8,         /* CSeq not "number method" */
	SIP_E_STATUS = -9,       /* status code outside 100-699 */
	SIP_E__COUNT = 10
};

int sip_parse(const uint8_t *p, size_t len, struct sip_msg *m);
const char *sip_err_name(int code);
const char *sip_method_name(enum sip_method m);

/* Cheap check used to classify UDP/TCP payloads on non-SIP ports: the first
 * line is "SIP/2.0 NNN ..." or "METHOD <uri> SIP/2.0".  SSDP's
 * "NOTIFY * HTTP/1.1" is not SIP (ATTACKS D5). */
bool sip_looks_like(const uint8_t *p, size_t len);

/* tcpreasm_frame_fn for SIP over stream transports (see tcpreasm.h).
 * A message without Content-Length has an empty body (RFC 3261 sec. 18.3).
 * Keep-alive CRLFs (RFC 5626) are skipped.  Messages above SIP_MAX_MSG or
 * with an invalid Content-Length are skipped (-1) so the stream resyncs.
 * Details: a first line that is not a SIP start line is skipped up to and
 * including its LF (bytes with no LF yet that cannot begin a start line are
 * skipped whole); an invalid or conflicting Content-Length skips the header
 * block; headers not ended within SIP_MAX_MSG skip the start line.  Each
 * call rescans from p, so calling it on a slowly growing buffer costs
 * O(len) per call (bounded by SIP_MAX_MSG). */
int sip_frame(const uint8_t *p, size_t len, size_t *msg_len, size_t *skip);

/* First header named name (long form; the compact form matches too),
 * case-insensitive.  Returns 1 and its value, 0 when absent. */
int sip_find_header(const struct sip_msg *m, const char *name, struct span *value);

/* Value of parameter name (";name=value", case-insensitive name) in a
 * header value, quotes removed.  1 found, 0 absent. */
int sip_header_param(struct span value, const char *name, struct span *out);

/* The SDP carried by the body: the body itself when Content-Type is
 * application/sdp, or the first application/sdp part of a multipart body
 * (RFC 2046 boundaries; ATTACKS A8).  1 found, 0 none, -1 malformed. */
int sip_body_sdp(const struct sip_msg *m, struct span *sdp);

/* DTMF carried by a SIP INFO body: application/dtmf-relay ("Signal=5",
 * "Duration=160") or application/dtmf ("5").  Signals 10 and 11 mean '*'
 * and '#'.  Returns 1 with *digit in 0-9 * # A-D (and *duration_ms, 0 when
 * absent), 0 when the body is not a DTMF body, -1 when malformed.
 * Only Content-Type is looked at (the caller checks the method); numeric
 * signals 12-15 map to A-D (RFC 4733 events), a-d to A-D. */
int sip_info_dtmf(const struct sip_msg *m, char *digit, uint32_t *duration_ms);

#endif
