/*
 * sdp.c - Session Description Protocol parser (see sdp.h).
 *
 * Concept: an SDP body is a list of "x=value" lines; a session section is
 * followed by media sections each opened by m=.  A recorder needs, per
 * media: where RTP goes (c= address, m= port, a=rtcp), which payload types
 * mean which codec (m= formats, a=rtpmap, RFC 3551 static table), and the
 * direction.  One pass over the lines, no copies: encodings and protos are
 * spans into the input.
 *
 * RFC sections followed: RFC 4566 sec. 5 (line grammar, 5.7 c=, 5.14 m=,
 * 6 attributes rtpmap/ptime/sendrecv/sendonly/recvonly/inactive), RFC 3264
 * sec. 5.1/6 (port 0 = rejected stream; session-level direction applies to
 * every media unless overridden), RFC 3605 (a=rtcp), RFC 5761 (a=rtcp-mux),
 * RFC 3551 table 4/5 (static payload types).
 *
 * Decisions (documented, see also sdp.h):
 *  - m= with a port that is not a number or > 65535 (ATTACKS B1): the media
 *    is kept (so m-line indexes still line up between offer and answer)
 *    with port 0, i.e. disabled, and SDP_F_BAD_PORT is set.
 *  - a format that is not a number or > 127 on an RTP m= line (B2): skipped,
 *    SDP_F_BAD_PT.  Non-RTP protos (udptl, TCP/...) keep n_pt 0 silently.
 *  - "RTP/..." and any proto containing "/RTP/" (UDP/TLS/RTP/SAVPF) count
 *    as RTP.
 *  - A media-level c= that cannot be parsed (FQDN, bad address, B7) sets
 *    SDP_F_BAD_CONN and leaves that media without a connection address
 *    (has_conn false) rather than falling back to the session one.
 *  - a=ptime at session level (not in RFC 4566, but seen) is inherited by
 *    media without their own.
 *  - A NUL byte ends its line; the rest of that line is ignored and parsing
 *    resumes after the next LF (B3, B4).  The last line needs no newline.
 *
 * Not done: b=, t=, r=, z=, k=, o= semantics (z= with any number of entries
 * is just skipped, B10), a=fmtp, a=crypto/SDES, ICE candidates, multicast
 * address ranges ("/ttl/n" is ignored), offer/answer matching (the caller
 * pairs offer and answer m-lines by index).
 */
#include "sdp.h"

static struct span sp_sub(struct span s, size_t from, size_t to)
{
	return span_make(s.p + from, to - from);
}

/* Splits off the next SP/HT-separated token of *s (leading blanks skipped). */
static struct span next_tok(struct span *s)
{
	size_t i = 0;
	while (i < s->len && ascii_is_ws(s->p[i]))
		i++;
	size_t b = i;
	while (i < s->len && !ascii_is_ws(s->p[i]))
		i++;
	struct span t = sp_sub(*s, b, i);
	*s = sp_sub(*s, i, s->len);
	return t;
}

static const char *const err_names[SDP_E__COUNT] = { "ok", "empty", "syntax" };

const char *sdp_err_name(int code)
{
	if (code > 0 || -code >= SDP_E__COUNT)
		return "unknown error";
	return err_names[-code];
}

/* RFC 3551 tables 4 and 5. */
static const struct {
	const char *name;
	uint32_t rate;
} static_pts[35] = {
	[0] = { "PCMU", 8000 }, [3] = { "GSM", 8000 }, [4] = { "G723", 8000 },
	[5] = { "DVI4", 8000 }, [6] = { "DVI4", 16000 }, [7] = { "LPC", 8000 },
	[8] = { "PCMA", 8000 }, [9] = { "G722", 8000 }, [10] = { "L16", 44100 },
	[11] = { "L16", 44100 }, [12] = { "QCELP", 8000 }, [13] = { "CN", 8000 },
	[14] = { "MPA", 90000 }, [15] = { "G728", 8000 }, [16] = { "DVI4", 11025 },
	[17] = { "DVI4", 22050 }, [18] = { "G729", 8000 }, [25] = { "CelB", 90000 },
	[26] = { "JPEG", 90000 }, [28] = { "nv", 90000 }, [31] = { "H261", 90000 },
	[32] = { "MPV", 90000 }, [33] = { "MP2T", 90000 }, [34] = { "H263", 90000 },
};

const char *sdp_static_pt(uint8_t pt, uint32_t *rate)
{
	if (pt >= sizeof(static_pts) / sizeof(static_pts[0]) || !static_pts[pt].name)
		return NULL;
	if (rate)
		*rate = static_pts[pt].rate;
	return static_pts[pt].name;
}

const struct sdp_rtpmap *sdp_find_rtpmap(const struct sdp_media *m, uint8_t pt)
{
	if (!m)
		return NULL;
	unsigned n = m->n_rtpmap < SDP_MAX_FMT ? m->n_rtpmap : SDP_MAX_FMT;
	for (unsigned i = 0; i < n; i++)
		if (m->rtpmap[i].pt == pt)
			return &m->rtpmap[i];
	return NULL;
}

/* "IN IP4 <addr>[/ttl[/n]]" or "IN IP6 <addr>[/n]" (nettype, addrtype, address). */
static int parse_conn(struct span v, struct ip_addr *out)
{
	struct span net = next_tok(&v);
	struct span type = next_tok(&v);
	struct span addr = next_tok(&v);
	if (!span_eq_ci(net, "IN") || addr.len == 0)
		return -1;
	long sl = span_find_byte(addr, '/');
	if (sl >= 0)
		addr.len = (size_t)sl;
	struct ip_addr a;
	if (ip_addr_parse(addr, &a) != 0)
		return -1;
	if (span_eq_ci(type, "IP4")) {
		if (a.family != 4)
			return -1;
	} else if (span_eq_ci(type, "IP6")) {
		if (a.family != 6)
			return -1;
	} else {
		return -1;
	}
	*out = a;
	return 0;
}

static enum sdp_dir dir_of(struct span a, bool *ok)
{
	*ok = true;
	if (span_eq_ci(a, "sendrecv"))
		return SDP_SENDRECV;
	if (span_eq_ci(a, "sendonly"))
		return SDP_SENDONLY;
	if (span_eq_ci(a, "recvonly"))
		return SDP_RECVONLY;
	if (span_eq_ci(a, "inactive"))
		return SDP_INACTIVE;
	*ok = false;
	return SDP_SENDRECV;
}

static enum sdp_media_type mtype_of(struct span s)
{
	if (span_eq_ci(s, "audio"))
		return SDP_MT_AUDIO;
	if (span_eq_ci(s, "video"))
		return SDP_MT_VIDEO;
	if (span_eq_ci(s, "image"))
		return SDP_MT_IMAGE;
	if (span_eq_ci(s, "text"))
		return SDP_MT_TEXT;
	if (span_eq_ci(s, "application"))
		return SDP_MT_APPLICATION;
	return SDP_MT_OTHER;
}

/* m=<media> <port>[/<n>] <proto> <fmt> ... */
static void parse_m(struct span v, struct sdp_media *md, unsigned *flags)
{
	uint64_t n;
	md->media = next_tok(&v);
	md->type = mtype_of(md->media);
	struct span port = next_tok(&v);
	md->nports = 1;
	long sl = span_find_byte(port, '/');
	if (sl >= 0) {
		struct span np = sp_sub(port, (size_t)sl + 1, port.len);
		port.len = (size_t)sl;
		if (span_to_u64(np, 65535, &n) == 0 && n > 0)
			md->nports = (uint16_t)n;
		else
			*flags |= SDP_F_BAD_PORT;
	}
	if (span_to_u64(port, 65535, &n) == 0) {
		md->port = (uint16_t)n;
	} else {
		md->port = 0;
		*flags |= SDP_F_BAD_PORT;
	}
	md->proto = next_tok(&v);
	md->rtp = span_starts_ci(md->proto, "RTP/") || span_find(md->proto, "/RTP/", 5) >= 0;
	if (!md->rtp)
		return;
	/* every iteration consumes a token, so the loop is bounded by v.len */
	for (;;) {
		struct span f = next_tok(&v);
		if (f.len == 0)
			break;
		if (span_to_u64(f, 127, &n) != 0) {
			*flags |= SDP_F_BAD_PT;
			continue;
		}
		if (md->n_pt >= SDP_MAX_FMT) {
			*flags |= SDP_F_TOO_MANY_FMT;
			continue;
		}
		md->pt[md->n_pt++] = (uint8_t)n;
	}
}

/* a=rtpmap:<pt> <encoding>/<rate>[/<channels>] */
static void parse_rtpmap(struct span v, struct sdp_media *md, unsigned *flags)
{
	uint64_t n;
	struct span pt = next_tok(&v);
	struct span enc = next_tok(&v);
	if (span_to_u64(pt, 127, &n) != 0) {
		*flags |= SDP_F_BAD_PT;
		return;
	}
	struct sdp_rtpmap r;
	memset(&r, 0, sizeof(r));
	r.pt = (uint8_t)n;
	long s1 = span_find_byte(enc, '/');
	if (s1 <= 0) {
		*flags |= SDP_F_BAD_LINE;
		return;
	}
	r.encoding = sp_sub(enc, 0, (size_t)s1);
	struct span rest = sp_sub(enc, (size_t)s1 + 1, enc.len);
	long s2 = span_find_byte(rest, '/');
	struct span rate = s2 < 0 ? rest : sp_sub(rest, 0, (size_t)s2);
	if (span_to_u64(rate, UINT32_MAX, &n) != 0) {
		*flags |= SDP_F_BAD_LINE;
		return;
	}
	r.rate = (uint32_t)n;
	if (s2 >= 0) {
		if (span_to_u64(sp_sub(rest, (size_t)s2 + 1, rest.len), 255, &n) == 0)
			r.channels = (uint8_t)n;
		else
			*flags |= SDP_F_BAD_LINE;
	}
	if (sdp_find_rtpmap(md, r.pt))
		return; /* first definition wins */
	if (md->n_rtpmap >= SDP_MAX_FMT) {
		*flags |= SDP_F_TOO_MANY_FMT;
		return;
	}
	md->rtpmap[md->n_rtpmap++] = r;
}

/* a=rtcp:<port> [IN IP4 <addr>] */
static void parse_rtcp(struct span v, struct sdp_media *md, unsigned *flags)
{
	uint64_t n;
	struct span port = next_tok(&v);
	if (span_to_u64(port, 65535, &n) != 0) {
		*flags |= SDP_F_BAD_PORT;
		return;
	}
	md->rtcp_port = (uint16_t)n;
	struct span rest = span_trim(v);
	if (rest.len) {
		struct ip_addr a;
		if (parse_conn(rest, &a) == 0)
			md->rtcp_addr = a;
		else
			*flags |= SDP_F_BAD_CONN;
	}
}

/* a=ptime:<ms> (a fraction like "20.0" keeps the integer part). */
static bool parse_ptime(struct span v, uint32_t *out)
{
	uint64_t n;
	v = span_trim(v);
	long dot = span_find_byte(v, '.');
	if (dot >= 0)
		v.len = (size_t)dot;
	if (span_to_u64(v, UINT32_MAX, &n) != 0)
		return false;
	*out = (uint32_t)n;
	return true;
}

struct sess_state {
	uint32_t ptime;
	struct sdp_media *cur; /* NULL in the session section or after too many m= */
	bool in_media;
};

static void attribute(struct span v, struct sdp *out, struct sess_state *ss)
{
	struct span name = v, val = span_make(v.p + v.len, 0);
	long c = span_find_byte(v, ':');
	if (c >= 0) {
		name = sp_sub(v, 0, (size_t)c);
		val = sp_sub(v, (size_t)c + 1, v.len);
	}
	name = span_trim(name);
	bool ok;
	enum sdp_dir d = dir_of(name, &ok);
	if (!ss->in_media) {
		if (ok)
			out->dir = d;
		else if (span_eq_ci(name, "ptime"))
			parse_ptime(val, &ss->ptime);
		return;
	}
	struct sdp_media *md = ss->cur;
	if (!md)
		return; /* attributes of a media we could not store */
	if (ok) {
		md->dir = d;
	} else if (span_eq_ci(name, "rtpmap")) {
		parse_rtpmap(val, md, &out->flags);
	} else if (span_eq_ci(name, "ptime")) {
		parse_ptime(val, &md->ptime);
	} else if (span_eq_ci(name, "rtcp")) {
		parse_rtcp(val, md, &out->flags);
	} else if (span_eq_ci(name, "rtcp-mux")) {
		md->rtcp_mux = true;
	}
}

int sdp_parse(const uint8_t *p, size_t len, struct sdp *out)
{
	struct sess_state ss;
	size_t pos = 0;
	bool seen_v = false;

	if (!out)
		return SDP_E_EMPTY;
	memset(out, 0, sizeof(*out));
	memset(&ss, 0, sizeof(ss));
	if (!p)
		return SDP_E_EMPTY;
	while (pos < len) {
		/* line = [pos, e); next line at nx.  A NUL ends the line. */
		const uint8_t *nl = memchr(p + pos, '\n', len - pos);
		size_t le = nl ? (size_t)(nl - p) : len;
		size_t nx = nl ? le + 1 : len;
		const uint8_t *z = memchr(p + pos, '\0', le - pos);
		size_t e = z ? (size_t)(z - p) : le;
		if (e > pos && p[e - 1] == '\r')
			e--;
		struct span line = span_make(p + pos, e - pos);
		pos = nx;
		if (span_trim(line).len == 0)
			continue;
		if (line.len < 2 || line.p[1] != '=' || !((line.p[0] >= 'a' && line.p[0] <= 'z') ||
							    (line.p[0] >= 'A' && line.p[0] <= 'Z'))) {
			if (!seen_v)
				return SDP_E_SYNTAX;
			out->flags |= SDP_F_BAD_LINE;
			continue;
		}
		uint8_t t = line.p[0];
		struct span v = sp_sub(line, 2, line.len);
		if (!seen_v) {
			if (t != 'v' || !span_eq_ci(span_trim(v), "0"))
				return SDP_E_SYNTAX;
			seen_v = true;
			continue;
		}
		switch (t) {
		case 'c': {
			struct ip_addr a;
			bool good = parse_conn(v, &a) == 0;
			if (!good)
				out->flags |= SDP_F_BAD_CONN;
			if (!ss.in_media) {
				if (good) {
					out->conn = a;
					out->has_conn = true;
				}
			} else if (ss.cur) {
				ss.cur->has_conn = good;
				if (good)
					ss.cur->conn = a;
				else
					memset(&ss.cur->conn, 0, sizeof(ss.cur->conn));
			}
			break;
		}
		case 'm':
			ss.in_media = true;
			if (out->n_media >= SDP_MAX_MEDIA) {
				out->flags |= SDP_F_TOO_MANY_MEDIA;
				ss.cur = NULL;
				break;
			}
			ss.cur = &out->m[out->n_media++];
			ss.cur->conn = out->conn;
			ss.cur->has_conn = out->has_conn;
			ss.cur->dir = out->dir;
			ss.cur->ptime = ss.ptime;
			parse_m(v, ss.cur, &out->flags);
			break;
		case 'a':
			attribute(v, out, &ss);
			break;
		default:
			break; /* o= s= t= z= b= k= ...: not needed */
		}
	}
	return seen_v ? SDP_OK : SDP_E_EMPTY;
}
