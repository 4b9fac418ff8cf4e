/*
 * sip.c - SIP message parser and stream framer (see sip.h).
 *
 * Concept: a SIP message is a start line, header lines and an optional body
 * (RFC 3261 sec. 7).  sip_parse() walks the header block once, line by line
 * (memchr for line ends), records every header as a span into the input and
 * extracts the few headers a recorder keys calls on (Call-ID, From, To, CSeq,
 * Via branch, Contact, Content-Type, Content-Length).  Nothing is copied or
 * allocated; struct sip_msg is caller-owned and borrows the input.
 *
 * RFC sections followed:
 *   RFC 3261 7.1 / 7.2 start lines, 7.3 header syntax (token names,
 *   optional whitespace before ':', folding by leading SP/HT, 7.3.3 compact
 *   forms), 20.x header definitions, 25.1 ABNF for name-addr / addr-spec,
 *   quoted-string and quoted-pair, 18.3 framing over streams (Content-Length
 *   mandatory there, absent means empty body), RFC 5626 sec. 3.5.1 CRLF
 *   keep-alives, RFC 3966 tel: URIs, RFC 2046 sec. 5.1 multipart bodies,
 *   RFC 4733 event codes for INFO DTMF (0-9, 10 '*', 11 '#', 12-15 A-D).
 *
 * Hardening (ATTACKS.md): every header is a span, so long values (A1) are
 * harmless; empty or 1-byte values (A2, A3, A9) are handled by bounded span
 * loops; Content-Length is an unsigned decimal bounded by the bytes present
 * (A4, A5, A6, A13); control characters in header names and repeated
 * dialog-defining headers with another value are rejected (A10); every loop
 * advances at least one byte or is capped (A11); SigComp or other binary
 * input fails the start-line check (A12); multipart parsing never leaves the
 * body span (A8).
 *
 * Not done here: URI unescaping (%xx), header-value semantic validation
 * beyond the fields above, nested multipart bodies (only the top level is
 * searched for application/sdp), SigComp decompression, WebSocket framing
 * (tcpreasm does that), Content-Encoding (compressed bodies are returned
 * as is).
 */
#include "sip.h"

/* ---------------------------------------------------------------- helpers */

/* RFC 3261 25.1 token characters (alphanum - . ! % * _ + ` ' ~). */
static const uint8_t token_tab[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* The line starting at pos within p[0..lim): false when no LF ends it
 * yet; else *le = index of its LF, *ce = end of its content (CR removed). */
static inline bool next_line(const uint8_t *p, size_t lim, size_t pos, size_t *le, size_t *ce)
{
	const uint8_t *nl = memchr(p + pos, '\n', lim - pos);
	if (!nl)
		return false;
	*le = (size_t)(nl - p);
	*ce = *le;
	if (*ce > pos && p[*ce - 1] == '\r')
		(*ce)--;
	return true;
}

static inline bool is_token(uint8_t c)
{
	return token_tab[c] != 0;
}

static struct span sp_sub(struct span s, size_t from, size_t to)
{
	return span_make(s.p + from, to - from);
}

static bool span_eq(struct span a, struct span b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* Trim SP/HT/CR/LF on both sides. */
static struct span trim(struct span s)
{
	return span_trim(s);
}

/* Index just after a quoted string starting at s.p[i] == '"' (quoted-pair
 * aware), or s.len when unterminated (*ok false). */
static size_t skip_quoted(struct span s, size_t i, bool *ok)
{
	i++;
	while (i < s.len) {
		if (s.p[i] == '\\') {
			i += 2;
			continue;
		}
		if (s.p[i] == '"') {
			*ok = true;
			return i + 1;
		}
		i++;
	}
	*ok = false;
	return s.len;
}

/* The first comma-separated value of a header (commas inside quotes or
 * <...> do not count). */
static struct span first_value(struct span v)
{
	size_t i = 0;
	bool in_angle = false;
	while (i < v.len) {
		uint8_t c = v.p[i];
		if (c == '"' && !in_angle) {
			bool ok;
			i = skip_quoted(v, i, &ok);
			continue;
		}
		if (c == '<')
			in_angle = true;
		else if (c == '>')
			in_angle = false;
		else if (c == ',' && !in_angle)
			return trim(sp_sub(v, 0, i));
		i++;
	}
	return v;
}

/* ---------------------------------------------------------------- methods */

static const char *const method_names[] = {
	[SIP_M_NONE] = "", [SIP_M_UNKNOWN] = "UNKNOWN", [SIP_M_INVITE] = "INVITE",
	[SIP_M_ACK] = "ACK", [SIP_M_BYE] = "BYE", [SIP_M_CANCEL] = "CANCEL",
	[SIP_M_OPTIONS] = "OPTIONS", [SIP_M_REGISTER] = "REGISTER", [SIP_M_PRACK] = "PRACK",
	[SIP_M_SUBSCRIBE] = "SUBSCRIBE", [SIP_M_NOTIFY] = "NOTIFY", [SIP_M_PUBLISH] = "PUBLISH",
	[SIP_M_INFO] = "INFO", [SIP_M_REFER] = "REFER", [SIP_M_MESSAGE] = "MESSAGE",
	[SIP_M_UPDATE] = "UPDATE",
};

const char *sip_method_name(enum sip_method m)
{
	if ((unsigned)m >= sizeof(method_names) / sizeof(method_names[0]))
		return "?";
	return method_names[m];
}

/* Methods are case-sensitive (RFC 3261 7.1). */
static enum sip_method method_of(struct span s)
{
	for (unsigned i = SIP_M_INVITE; i <= SIP_M_UPDATE; i++) {
		size_t n = strlen(method_names[i]);
		if (s.len == n && memcmp(s.p, method_names[i], n) == 0)
			return (enum sip_method)i;
	}
	return SIP_M_UNKNOWN;
}

static const char *const err_names[SIP_E__COUNT] = {
	"ok", "bad_start_line", "bad_header", "headers_not_terminated", "too_many_headers",
	"bad_content_length", "duplicate_header", "missing_header", "bad_cseq", "bad_status_code",
};

const char *sip_err_name(int code)
{
	if (code > 0 || -code >= SIP_E__COUNT)
		return "unknown error";
	return err_names[-code];
}

/* ------------------------------------------------------------- start line */

/* Parses a start line (no CR/LF).  m may be NULL (classification only). */
static int parse_start_line(struct span line, struct sip_msg *m)
{
	static const char ver[] = "SIP/2.0";
	const size_t vl = sizeof(ver) - 1;
	size_t i = 0;

	while (line.len && ascii_is_ws(line.p[line.len - 1]))
		line.len--;
	if (line.len >= vl + 1 && span_starts_ci(line, ver) && line.p[vl] == ' ') {
		/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase */
		i = vl;
		while (i < line.len && line.p[i] == ' ')
			i++;
		if (line.len - i < 3 || !ascii_is_digit(line.p[i]) || !ascii_is_digit(line.p[i + 1]) ||
		    !ascii_is_digit(line.p[i + 2]))
			return SIP_E_START_LINE;
		if (line.len - i > 3 && !ascii_is_ws(line.p[i + 3]))
			return SIP_E_START_LINE;
		int st = (line.p[i] - '0') * 100 + (line.p[i + 1] - '0') * 10 + (line.p[i + 2] - '0');
		if (st < 100 || st > 699)
			return SIP_E_STATUS;
		if (m) {
			m->is_request = false;
			m->method = SIP_M_NONE;
			m->status = st;
			m->reason = trim(sp_sub(line, i + 3, line.len));
		}
		return SIP_OK;
	}
	/* Request-Line = Method SP Request-URI SP SIP-Version */
	while (i < line.len && is_token(line.p[i]))
		i++;
	if (i == 0 || i >= line.len || line.p[i] != ' ')
		return SIP_E_START_LINE;
	size_t mend = i;
	while (i < line.len && line.p[i] == ' ')
		i++;
	size_t us = i;
	while (i < line.len && line.p[i] > ' ' && line.p[i] < 0x7f)
		i++;
	size_t ue = i;
	if (ue == us || i >= line.len || line.p[i] != ' ')
		return SIP_E_START_LINE;
	while (i < line.len && line.p[i] == ' ')
		i++;
	if (line.len - i != vl || !span_starts_ci(sp_sub(line, i, line.len), ver))
		return SIP_E_START_LINE;
	if (m) {
		m->is_request = true;
		m->method_str = sp_sub(line, 0, mend);
		m->method = method_of(m->method_str);
		m->ruri = sp_sub(line, us, ue);
	}
	return SIP_OK;
}

bool sip_looks_like(const uint8_t *p, size_t len)
{
	if (!p || len == 0)
		return false;
	size_t lim = len < 2048 ? len : 2048;
	const uint8_t *nl = memchr(p, '\n', lim);
	if (!nl)
		return false;
	struct span line = span_make(p, (size_t)(nl - p));
	if (line.len && line.p[line.len - 1] == '\r')
		line.len--;
	return parse_start_line(line, NULL) == SIP_OK;
}

/* ---------------------------------------------------------------- headers */

enum hkind { H_OTHER, H_CALLID, H_FROM, H_TO, H_CSEQ, H_CLEN, H_CTYPE, H_VIA, H_CONTACT };

/* Long name and compact letter (RFC 3261 7.3.3 + extensions' compact forms). */
static const struct {
	const char *name;
	char compact;
} compact_tab[] = {
	{ "Call-ID", 'i' }, { "From", 'f' }, { "To", 't' }, { "Via", 'v' },
	{ "Contact", 'm' }, { "Content-Length", 'l' }, { "Content-Type", 'c' },
	{ "Supported", 'k' }, { "Subject", 's' }, { "Content-Encoding", 'e' },
	{ "Event", 'o' }, { "Allow-Events", 'u' }, { "Refer-To", 'r' },
	{ "Session-Expires", 'x' }, { "Identity", 'y' }, { "Referred-By", 'b' },
};

static enum hkind hdr_kind(struct span n)
{
	if (n.len == 1) {
		switch (ascii_lower(n.p[0])) {
		case 'i': return H_CALLID;
		case 'f': return H_FROM;
		case 't': return H_TO;
		case 'l': return H_CLEN;
		case 'c': return H_CTYPE;
		case 'v': return H_VIA;
		case 'm': return H_CONTACT;
		default: return H_OTHER;
		}
	}
	switch (n.len) {
	case 2: return span_eq_ci(n, "To") ? H_TO : H_OTHER;
	case 3: return span_eq_ci(n, "Via") ? H_VIA : H_OTHER;
	case 4:
		if (span_eq_ci(n, "From"))
			return H_FROM;
		return span_eq_ci(n, "CSeq") ? H_CSEQ : H_OTHER;
	case 7:
		if (span_eq_ci(n, "Call-ID"))
			return H_CALLID;
		return span_eq_ci(n, "Contact") ? H_CONTACT : H_OTHER;
	case 12: return span_eq_ci(n, "Content-Type") ? H_CTYPE : H_OTHER;
	case 14: return span_eq_ci(n, "Content-Length") ? H_CLEN : H_OTHER;
	default: return H_OTHER;
	}
}

int sip_header_param(struct span value, const char *name, struct span *out)
{
	size_t i = 0;
	bool in_angle = false;
	struct span want = span_make(name, name ? strlen(name) : 0);

	if (!out || want.len == 0)
		return 0;
	*out = span_make(value.p, 0);
	while (i < value.len) {
		uint8_t c = value.p[i];
		if (c == '"' && !in_angle) {
			bool ok;
			i = skip_quoted(value, i, &ok);
			continue;
		}
		if (c == '<') {
			in_angle = true;
		} else if (c == '>') {
			in_angle = false;
		} else if (c == ';' && !in_angle) {
			i++;
			while (i < value.len && ascii_is_ws(value.p[i]))
				i++;
			size_t ns = i;
			while (i < value.len && is_token(value.p[i]))
				i++;
			struct span pn = sp_sub(value, ns, i);
			while (i < value.len && ascii_is_ws(value.p[i]))
				i++;
			bool match = pn.len == want.len && span_starts_ci(pn, name);
			if (i < value.len && value.p[i] == '=') {
				i++;
				while (i < value.len && ascii_is_ws(value.p[i]))
					i++;
				size_t vs = i, ve;
				if (i < value.len && value.p[i] == '"') {
					bool ok;
					i = skip_quoted(value, i, &ok);
					vs++;
					ve = ok ? i - 1 : i;
				} else {
					while (i < value.len && value.p[i] != ';' && value.p[i] != ',' &&
					       !ascii_is_ws(value.p[i]) && value.p[i] != '>' &&
					       value.p[i] != '\r' && value.p[i] != '\n')
						i++;
					ve = i;
				}
				if (match) {
					*out = sp_sub(value, vs, ve);
					return 1;
				}
			} else if (match) {
				*out = span_make(value.p + i, 0);
				return 1;
			}
			continue;
		}
		i++;
	}
	return 0;
}

/* name-addr / addr-spec (RFC 3261 20.10, 25.1): the URI and the header
 * parameters that follow it.  Quoted display names may contain '<' and
 * escaped quotes; a backslash outside quotes also escapes the next byte
 * (seen in the wild: f: \"arik\" <sip:...>).  An unterminated quote falls
 * back to the first '<'. */
static void split_addr(struct span v, struct span *uri, struct span *params)
{
	size_t i = 0, lt = v.len;
	bool unterminated = false;

	while (i < v.len) {
		uint8_t c = v.p[i];
		if (c == '"') {
			bool ok;
			i = skip_quoted(v, i, &ok);
			if (!ok)
				unterminated = true;
			continue;
		}
		if (c == '\\') {
			i += 2;
			continue;
		}
		if (c == '<') {
			lt = i;
			break;
		}
		i++;
	}
	if (unterminated) {
		long k = span_find_byte(v, '<');
		lt = k < 0 ? v.len : (size_t)k;
	}
	if (lt < v.len) {
		struct span rest = sp_sub(v, lt + 1, v.len);
		long gt = span_find_byte(rest, '>');
		if (gt < 0) {
			*uri = trim(rest);
			*params = span_make(v.p + v.len, 0);
		} else {
			*uri = trim(sp_sub(rest, 0, (size_t)gt));
			*params = sp_sub(rest, (size_t)gt + 1, rest.len);
		}
		return;
	}
	/* addr-spec: the URI ends at the first ';' (those are header params) */
	long sc = span_find_byte(v, ';');
	size_t e = sc < 0 ? v.len : (size_t)sc;
	*uri = trim(sp_sub(v, 0, e));
	*params = sp_sub(v, e, v.len);
}

/* User part of a sip:/sips:/tel: URI, empty otherwise. */
static struct span uri_user(struct span uri)
{
	struct span u = span_make(uri.p, 0);
	size_t s;

	if (span_starts_ci(uri, "sip:"))
		s = 4;
	else if (span_starts_ci(uri, "sips:"))
		s = 5;
	else if (span_starts_ci(uri, "tel:")) {
		size_t i = 4;
		while (i < uri.len && uri.p[i] != ';' && uri.p[i] != '?' && uri.p[i] != '>' &&
		       !ascii_is_ws(uri.p[i]))
			i++;
		return sp_sub(uri, 4, i);
	} else
		return u;
	struct span rest = sp_sub(uri, s, uri.len);
	long at = span_find_byte(rest, '@');
	if (at < 0)
		return span_make(rest.p, 0);
	size_t e = 0;
	while (e < (size_t)at && rest.p[e] != ':' && rest.p[e] != ';')
		e++;
	return sp_sub(rest, 0, e);
}

static int set_once(struct span *dst, struct span v)
{
	if (dst->p != NULL && !span_eq(*dst, v))
		return SIP_E_DUP_HEADER;
	*dst = v;
	return SIP_OK;
}

struct parse_state {
	bool have_via, have_contact, have_ctype, have_cseq;
	struct span cseq_val;
	uint64_t clen;
};

/* linear whitespace, including the CRLF of a folded line */
static bool is_lws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int parse_cseq(struct span v, struct sip_msg *m)
{
	size_t i = 0;
	uint64_t n = 0;
	while (i < v.len && ascii_is_digit(v.p[i])) {
		n = n * 10 + (uint64_t)(v.p[i] - '0');
		if (n > UINT32_MAX)
			return SIP_E_CSEQ;
		i++;
	}
	if (i == 0 || i >= v.len || !is_lws(v.p[i]))
		return SIP_E_CSEQ;
	while (i < v.len && is_lws(v.p[i]))
		i++;
	size_t ms = i;
	while (i < v.len && is_token(v.p[i]))
		i++;
	if (i == ms || i != v.len)
		return SIP_E_CSEQ;
	m->cseq = (uint32_t)n;
	m->cseq_method_str = sp_sub(v, ms, i);
	m->cseq_method = method_of(m->cseq_method_str);
	return SIP_OK;
}

/* One complete (possibly folded) header. */
static int take_header(struct sip_msg *m, struct parse_state *st, struct span name, struct span v)
{
	int rc;
	switch (hdr_kind(name)) {
	case H_CALLID:
		return set_once(&m->call_id, v);
	case H_FROM:
		return set_once(&m->from, v);
	case H_TO:
		return set_once(&m->to, v);
	case H_CSEQ:
		if (st->have_cseq)
			return span_eq(st->cseq_val, v) ? SIP_OK : SIP_E_DUP_HEADER;
		if ((rc = parse_cseq(v, m)) != SIP_OK)
			return rc;
		st->have_cseq = true;
		st->cseq_val = v;
		return SIP_OK;
	case H_CLEN: {
		uint64_t n;
		if (v.len == 0 || span_to_u64(v, UINT32_MAX, &n) != 0)
			return SIP_E_CONTENT_LENGTH;
		if (m->has_content_length && n != st->clen)
			return SIP_E_DUP_HEADER;
		m->has_content_length = true;
		st->clen = n;
		m->content_length = (uint32_t)n;
		return SIP_OK;
	}
	case H_CTYPE:
		if (!st->have_ctype) {
			st->have_ctype = true;
			m->content_type_full = v;
			long sc = span_find_byte(v, ';');
			m->content_type = trim(sc < 0 ? v : sp_sub(v, 0, (size_t)sc));
		}
		return SIP_OK;
	case H_VIA:
		if (!st->have_via) {
			st->have_via = true;
			struct span b;
			if (sip_header_param(first_value(v), "branch", &b))
				m->via_branch = b;
		}
		return SIP_OK;
	case H_CONTACT:
		if (!st->have_contact) {
			st->have_contact = true;
			m->contact = v;
		}
		return SIP_OK;
	default:
		return SIP_OK;
	}
}

static void addr_fields(struct span v, struct span *user, struct span *tag)
{
	struct span uri, params, t;
	split_addr(v, &uri, &params);
	*user = uri_user(uri);
	if (sip_header_param(params, "tag", &t))
		*tag = t;
	else
		*tag = span_make(params.p, 0);
}

int sip_parse(const uint8_t *p, size_t len, struct sip_msg *m)
{
	struct parse_state st;
	size_t pos, hend = 0;
	bool ended = false;
	int rc;

	memset(m, 0, offsetof(struct sip_msg, hdrs));
	memset(&st, 0, sizeof(st));
	if (!p || len == 0)
		return SIP_E_START_LINE;

	/* start line */
	const uint8_t *nl = memchr(p, '\n', len);
	size_t le = nl ? (size_t)(nl - p) : len;
	struct span line = span_make(p, le);
	if (line.len && line.p[line.len - 1] == '\r')
		line.len--;
	if ((rc = parse_start_line(line, m)) != SIP_OK)
		return rc;
	if (!nl)
		return SIP_E_NO_END;
	pos = le + 1;

	/* header lines; a header is committed when the next non-folded line
	 * (or the empty line) is seen, so folded values are whole */
	bool open = false;
	struct span cur_name = { 0 };
	size_t vstart = 0, vend = 0;
	while (pos < len) {
		size_t ce;
		if (!next_line(p, len, pos, &le, &ce))
			break;
		if (ce > pos && ascii_is_ws(p[pos])) {
			/* continuation of the previous header (7.3.1) */
			if (!open)
				return SIP_E_HEADER;
			vend = ce;
			pos = le + 1;
			continue;
		}
		if (open) {
			struct span v = trim(span_make(p + vstart, vend - vstart));
			m->hdrs[m->n_hdrs - 1].value = v;
			if ((rc = take_header(m, &st, cur_name, v)) != SIP_OK)
				return rc;
			open = false;
		}
		if (ce == pos) {
			hend = le + 1;
			ended = true;
			break;
		}
		/* header-name *WS ":" value */
		size_t i = pos;
		while (i < ce && is_token(p[i]))
			i++;
		if (i == pos)
			return SIP_E_HEADER;
		size_t ne = i;
		while (i < ce && ascii_is_ws(p[i]))
			i++;
		if (i >= ce || p[i] != ':')
			return SIP_E_HEADER;
		if (m->n_hdrs >= SIP_MAX_HEADERS)
			return SIP_E_TOO_MANY_HDRS;
		cur_name = span_make(p + pos, ne - pos);
		m->hdrs[m->n_hdrs].name = cur_name;
		m->hdrs[m->n_hdrs].value = span_make(p + i + 1, 0);
		m->n_hdrs++;
		open = true;
		vstart = i + 1;
		vend = ce;
		pos = le + 1;
	}
	if (!ended)
		return SIP_E_NO_END;

	if (m->call_id.len == 0 || m->from.len == 0 || m->to.len == 0 || !st.have_cseq)
		return SIP_E_MISSING;

	size_t avail = len - hend;
	if (m->has_content_length) {
		if (st.clen > avail)
			return SIP_E_CONTENT_LENGTH;
		m->body = span_make(p + hend, (size_t)st.clen);
	} else {
		m->body = span_make(p + hend, avail);
	}

	addr_fields(m->from, &m->from_user, &m->from_tag);
	addr_fields(m->to, &m->to_user, &m->to_tag);
	return SIP_OK;
}

int sip_find_header(const struct sip_msg *m, const char *name, struct span *value)
{
	if (!m || !name || !value)
		return 0;
	struct span want = span_make(name, strlen(name));
	char alt = 0;               /* compact letter of a long name */
	const char *alt_long = NULL; /* long name of a compact letter */

	for (size_t k = 0; k < sizeof(compact_tab) / sizeof(compact_tab[0]); k++) {
		if (span_eq_ci(want, compact_tab[k].name)) {
			alt = compact_tab[k].compact;
			break;
		}
		if (want.len == 1 && ascii_lower(want.p[0]) == compact_tab[k].compact) {
			alt_long = compact_tab[k].name;
			break;
		}
	}
	unsigned n = m->n_hdrs < SIP_MAX_HEADERS ? m->n_hdrs : SIP_MAX_HEADERS;
	for (unsigned i = 0; i < n; i++) {
		struct span hn = m->hdrs[i].name;
		if (span_eq_ci(hn, name) || (alt && hn.len == 1 && ascii_lower(hn.p[0]) == alt) ||
		    (alt_long && span_eq_ci(hn, alt_long))) {
			*value = m->hdrs[i].value;
			return 1;
		}
	}
	return 0;
}

/* -------------------------------------------------------------- multipart */

#define SIP_MAX_PARTS 64
#define SIP_MAX_BOUNDARY 200

/* Next delimiter "--boundary" at a line start at or after from; returns its
 * index or -1. */
static long find_delim(struct span body, size_t from, struct span bnd)
{
	/* at most one iteration per byte: every miss advances past the hit */
	while (from < body.len) {
		struct span rest = sp_sub(body, from, body.len);
		long k = span_find(rest, "--", 2);
		if (k < 0)
			return -1;
		size_t at = from + (size_t)k;
		if ((at == 0 || body.p[at - 1] == '\n') && body.len - at - 2 >= bnd.len &&
		    memcmp(body.p + at + 2, bnd.p, bnd.len) == 0) {
			size_t nx = at + 2 + bnd.len;
			uint8_t c = nx < body.len ? body.p[nx] : '\n';
			if (c == '-' || c == '\r' || c == '\n' || ascii_is_ws(c))
				return (long)at;
		}
		from = at + 1;
	}
	return -1;
}

/* Content-Type of a MIME part's header block, media type only. */
static struct span part_ctype(struct span hdrs)
{
	size_t pos = 0;
	struct span none = span_make(hdrs.p, 0);
	while (pos < hdrs.len) {
		struct span rest = sp_sub(hdrs, pos, hdrs.len);
		long k = span_find_byte(rest, '\n');
		size_t e = k < 0 ? hdrs.len : pos + (size_t)k;
		struct span line = sp_sub(hdrs, pos, e);
		long c = span_find_byte(line, ':');
		if (c > 0) {
			struct span n = trim(sp_sub(line, 0, (size_t)c));
			if (span_eq_ci(n, "Content-Type") || span_eq_ci(n, "c")) {
				struct span v = sp_sub(line, (size_t)c + 1, line.len);
				long sc = span_find_byte(v, ';');
				return trim(sc < 0 ? v : sp_sub(v, 0, (size_t)sc));
			}
		}
		pos = e + 1;
	}
	return none;
}

static int multipart_sdp(struct span body, struct span ctype_full, struct span *sdp)
{
	struct span bnd;
	bool found = false;

	if (!sip_header_param(ctype_full, "boundary", &bnd) || bnd.len == 0 ||
	    bnd.len > SIP_MAX_BOUNDARY)
		return -1;
	long d = find_delim(body, 0, bnd);
	if (d < 0)
		return -1;
	size_t pos = (size_t)d;
	for (unsigned n = 0; n < SIP_MAX_PARTS; n++) {
		size_t after = pos + 2 + bnd.len;
		if (body.len - after >= 2 && body.p[after] == '-' && body.p[after + 1] == '-')
			return found ? 1 : 0; /* close-delimiter */
		/* rest of the delimiter line (transport padding) */
		struct span rest = sp_sub(body, after, body.len);
		long k = span_find_byte(rest, '\n');
		if (k < 0)
			return -1;
		size_t ps = after + (size_t)k + 1;
		long nd = find_delim(body, ps, bnd);
		if (nd < 0)
			return -1; /* no closing delimiter */
		size_t pe = (size_t)nd; /* the CRLF before the delimiter belongs to it */
		if (pe > ps && body.p[pe - 1] == '\n')
			pe--;
		if (pe > ps && body.p[pe - 1] == '\r')
			pe--;
		struct span part = sp_sub(body, ps, pe < ps ? ps : pe);
		/* part headers end at an empty line; a part may start with one */
		size_t hs_end, bs;
		if (part.len >= 1 && part.p[0] == '\n') {
			hs_end = 0;
			bs = 1;
		} else if (part.len >= 2 && part.p[0] == '\r' && part.p[1] == '\n') {
			hs_end = 0;
			bs = 2;
		} else {
			long e1 = span_find(part, "\r\n\r\n", 4);
			long e2 = span_find(part, "\n\n", 2);
			if (e1 < 0 && e2 < 0)
				return -1;
			if (e1 >= 0 && (e2 < 0 || e1 + 2 <= e2)) {
				hs_end = (size_t)e1 + 2;
				bs = (size_t)e1 + 4;
			} else {
				hs_end = (size_t)e2 + 1;
				bs = (size_t)e2 + 2;
			}
		}
		if (!found) {
			struct span ct = part_ctype(sp_sub(part, 0, hs_end));
			if (span_eq_ci(ct, "application/sdp")) {
				*sdp = sp_sub(part, bs, part.len);
				found = true;
			}
		}
		pos = (size_t)nd;
	}
	return -1; /* too many parts */
}

int sip_body_sdp(const struct sip_msg *m, struct span *sdp)
{
	if (!m || !sdp)
		return 0;
	*sdp = span_make(m->body.p, 0);
	if (span_eq_ci(m->content_type, "application/sdp")) {
		if (m->body.len == 0)
			return 0;
		*sdp = m->body;
		return 1;
	}
	if (span_starts_ci(m->content_type, "multipart/")) {
		int rc = multipart_sdp(m->body, m->content_type_full, sdp);
		if (rc != 1)
			*sdp = span_make(m->body.p, 0);
		return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------- DTMF */

/* A DTMF signal value: one character 0-9 * # A-D (a-d) or an RFC 4733
 * event number 0-15. */
static int dtmf_signal(struct span v, char *digit)
{
	v = trim(v);
	if (v.len == 1) {
		uint8_t c = v.p[0];
		if (ascii_is_digit(c) || c == '*' || c == '#') {
			*digit = (char)c;
			return 1;
		}
		c = (uint8_t)ascii_lower(c);
		if (c >= 'a' && c <= 'd') {
			*digit = (char)(c - 'a' + 'A');
			return 1;
		}
		return -1;
	}
	uint64_t n;
	if (span_to_u64(v, 15, &n) != 0)
		return -1;
	static const char ev[] = "0123456789*#ABCD";
	*digit = ev[n];
	return 1;
}

/* "Signal=x" / "Duration=n" lines (application/dtmf-relay). */
static int dtmf_relay(struct span body, char *digit, uint32_t *dur)
{
	size_t pos = 0;
	bool have_sig = false;
	for (unsigned n = 0; n < 64 && pos < body.len; n++) {
		struct span rest = sp_sub(body, pos, body.len);
		long k = span_find_byte(rest, '\n');
		size_t e = k < 0 ? body.len : pos + (size_t)k;
		struct span line = trim(sp_sub(body, pos, e));
		pos = e + 1;
		if (line.len == 0)
			continue;
		long eq = span_find_byte(line, '=');
		if (eq < 0)
			continue;
		struct span key = trim(sp_sub(line, 0, (size_t)eq));
		struct span val = trim(sp_sub(line, (size_t)eq + 1, line.len));
		if (span_eq_ci(key, "Signal")) {
			if (have_sig)
				continue;
			if (dtmf_signal(val, digit) != 1)
				return -1;
			have_sig = true;
		} else if (span_eq_ci(key, "Duration")) {
			uint64_t d;
			if (span_to_u64(val, UINT32_MAX, &d) != 0)
				return -1;
			*dur = (uint32_t)d;
		}
	}
	return have_sig ? 1 : -1;
}

int sip_info_dtmf(const struct sip_msg *m, char *digit, uint32_t *duration_ms)
{
	char d = 0;
	uint32_t dur = 0;
	int rc;

	if (!m || !digit || !duration_ms)
		return 0;
	*digit = 0;
	*duration_ms = 0;
	if (span_eq_ci(m->content_type, "application/dtmf-relay")) {
		rc = dtmf_relay(m->body, &d, &dur);
	} else if (span_eq_ci(m->content_type, "application/dtmf")) {
		if (span_find_byte(m->body, '=') >= 0)
			rc = dtmf_relay(m->body, &d, &dur);
		else
			rc = dtmf_signal(m->body, &d);
	} else {
		return 0;
	}
	if (rc != 1)
		return -1;
	*digit = d;
	*duration_ms = dur;
	return 1;
}

/* ---------------------------------------------------------------- framing */

/* Content-Length header line in the framer: "Content-Length" or "l", any
 * case, optional whitespace, ':'.  Returns 1 and the value span, 0 when the
 * line is another header. */
static int frame_clen_line(struct span line, struct span *val)
{
	size_t i = 0;
	while (i < line.len && is_token(line.p[i]))
		i++;
	struct span n = span_make(line.p, i);
	if (!(n.len == 1 && ascii_lower(n.p[0]) == 'l') && !span_eq_ci(n, "Content-Length"))
		return 0;
	while (i < line.len && ascii_is_ws(line.p[i]))
		i++;
	if (i >= line.len || line.p[i] != ':')
		return 0;
	*val = sp_sub(line, i + 1, line.len);
	return 1;
}

/* Plausible prefix of a start line with no LF yet: "SIP/" or a method
 * token followed by SP.  Returns false for clear garbage. */
static bool plausible_prefix(const uint8_t *p, size_t len)
{
	size_t i = 0;
	while (i < len && is_token(p[i]))
		i++;
	if (i == len)
		return true;
	if (p[i] == '/' && span_starts_ci(span_make(p, len), "SIP/"))
		return true;
	if (p[i] != ' ' || i == 0)
		return false;
	for (; i < len; i++)
		if (p[i] < 0x20 && p[i] != '\r' && p[i] != '\t')
			return false;
	return true;
}

int sip_frame(const uint8_t *p, size_t len, size_t *msg_len, size_t *skip)
{
	size_t lim = len < SIP_MAX_MSG ? len : SIP_MAX_MSG;
	size_t i = 0;

	*msg_len = 0;
	*skip = 0;
	if (!p || len == 0)
		return 0;
	/* RFC 5626 keep-alives: bare CRLFs between messages */
	while (i < len && (p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i > 0) {
		*skip = i;
		return -1;
	}
	const uint8_t *nl = memchr(p, '\n', lim);
	if (!nl) {
		if (len >= SIP_MAX_MSG || !plausible_prefix(p, lim)) {
			*skip = lim;
			return -1;
		}
		return 0;
	}
	size_t le = (size_t)(nl - p);
	size_t first_end = le + 1;
	struct span first = span_make(p, le);
	if (first.len && first.p[first.len - 1] == '\r')
		first.len--;
	if (parse_start_line(first, NULL) != SIP_OK) {
		*skip = first_end;
		return -1;
	}

	/* header lines up to the empty line, noting Content-Length */
	bool have_cl = false, bad_cl = false;
	uint64_t cl = 0;
	size_t pos = le + 1, hend = 0;
	while (pos < lim) {
		size_t ce;
		if (!next_line(p, lim, pos, &le, &ce))
			break;
		if (ce == pos) {
			hend = le + 1;
			break;
		}
		struct span v;
		if (!ascii_is_ws(p[pos]) && frame_clen_line(span_make(p + pos, ce - pos), &v)) {
			uint64_t n = 0;
			if (span_to_u64(v, SIP_MAX_MSG, &n) != 0 || (have_cl && n != cl))
				bad_cl = true;
			else
				cl = n;
			have_cl = true;
		}
		pos = le + 1;
	}
	if (hend == 0) {
		if (len >= SIP_MAX_MSG) {
			/* too large: drop the start line, resync on a later one */
			*skip = first_end;
			return -1;
		}
		return 0;
	}
	if (bad_cl || hend + cl > SIP_MAX_MSG) {
		/* the message boundary is unknowable (ATTACKS A4/A5): whatever
		 * follows could be a smuggled message, so the stream is lost */
		*skip = hend;
		return -2;
	}
	if (!have_cl)
		cl = 0;
	if (len - hend < cl)
		return 0;
	*msg_len = hend + (size_t)cl;
	return 1;
}
