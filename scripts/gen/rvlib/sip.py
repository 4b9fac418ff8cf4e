"""SIP (RFC 3261) message and SDP (RFC 4566) builders. Text in, bytes out; CRLF line ends."""
from .media import CODECS, TEL_EVENT_PT


def host(ip):
    return "[%s]" % ip if ":" in ip else ip


def sdp(sess_id, version, ip, port, codec, direction="sendrecv", dtmf=True, ptime=20,
        extra_lines=()):
    pt = CODECS[codec][0]
    fam = "IP6" if ":" in ip else "IP4"
    fmts = [str(pt)] + ([str(TEL_EVENT_PT)] if dtmf else [])
    lines = [
        "v=0",
        "o=rvgen %d %d IN %s %s" % (sess_id, version, fam, ip),
        "s=rvgen",
        "c=IN %s %s" % (fam, ip),
        "t=0 0",
        "m=audio %d RTP/AVP %s" % (port, " ".join(fmts)),
        "a=rtpmap:%d %s/%d" % (pt, codec, CODECS[codec][1]),
    ]
    if dtmf:
        lines += ["a=rtpmap:%d telephone-event/8000" % TEL_EVENT_PT,
                  "a=fmtp:%d 0-16" % TEL_EVENT_PT]
    lines += ["a=ptime:%d" % ptime]
    lines += list(extra_lines)
    lines.append("a=" + direction)
    return ("\r\n".join(lines) + "\r\n").encode()


def message(start_line, headers, body=b"", content_type=None, content_length=None):
    """headers: list of (name, value). Content-Type/Length appended automatically."""
    h = [start_line]
    for n, v in headers:
        h.append("%s: %s" % (n, v))
    if body and content_type:
        h.append("Content-Type: " + content_type)
    h.append("Content-Length: %s" % (len(body) if content_length is None else content_length))
    return ("\r\n".join(h) + "\r\n\r\n").encode() + body


REASONS = {100: "Trying", 180: "Ringing", 183: "Session Progress", 200: "OK", 302: "Moved Temporarily",
           401: "Unauthorized", 407: "Proxy Authentication Required", 486: "Busy Here",
           487: "Request Terminated", 503: "Service Unavailable", 603: "Decline"}


class Dialog:
    """State of one SIP dialog between caller (a) and callee (b).

    a/b: dict(user, ip, port, name). transport: 'UDP' or 'TCP'. rng: random.Random for tags/branches.
    """

    def __init__(self, rng, call_id, a, b, transport="UDP"):
        self.rng = rng
        self.call_id = call_id
        self.p = {"a": a, "b": b}
        self.transport = transport
        self.tag = {"a": "%08x" % rng.getrandbits(32), "b": None}
        self.cseq = {"a": 1, "b": rng.randint(100, 5000)}

    def branch(self):
        return "z9hG4bK%016x" % self.rng.getrandbits(64)

    def uri(self, side, with_port=False):
        p = self.p[side]
        if with_port:
            return "sip:%s@%s:%d" % (p["user"], host(p["ip"]), p["port"])
        return "sip:%s@%s" % (p["user"], host(p["ip"]))

    def _from_to(self, side):
        """From/To headers for a request sent by `side`."""
        other = "b" if side == "a" else "a"
        f = "<%s>;tag=%s" % (self.uri(side), self.tag[side])
        if self.p[side].get("name"):
            f = '"%s" ' % self.p[side]["name"] + f
        t = "<%s>" % self.uri(other)
        if self.tag[other]:
            t += ";tag=%s" % self.tag[other]
        return f, t

    def request(self, side, method, cseq, branch, body=b"", ctype=None, extra=(), ruri=None,
                content_length=None):
        other = "b" if side == "a" else "a"
        p = self.p[side]
        f, t = self._from_to(side)
        if ruri is None:
            ruri = self.uri(other) if method == "INVITE" and side == "a" and not self.tag["b"] \
                else self.uri(other, True)
        hdrs = [("Via", "SIP/2.0/%s %s:%d;branch=%s" % (self.transport, host(p["ip"]), p["port"], branch)),
                ("Max-Forwards", "70"), ("From", f), ("To", t), ("Call-ID", self.call_id),
                ("CSeq", "%d %s" % (cseq, method))]
        if method in ("INVITE",):
            hdrs.append(("Contact", "<%s>" % self.uri(side, True)))
        hdrs += list(extra)
        hdrs.append(("User-Agent", "rvgen/1.0"))
        return message("%s %s SIP/2.0" % (method, ruri), hdrs, body, ctype, content_length)

    def response(self, req_side, code, method, cseq, branch, body=b"", ctype=None, extra=(),
                 to_tag=True):
        """Response sent by the other side to a request that `req_side` sent."""
        resp_side = "b" if req_side == "a" else "a"
        rp = self.p[req_side]
        f, t = self._from_to(req_side)
        if to_tag and not self.tag[resp_side] and code > 100:
            self.tag[resp_side] = "%08x" % self.rng.getrandbits(32)
        if code > 100 and self.tag[resp_side] and ";tag=" not in t:
            t += ";tag=%s" % self.tag[resp_side]
        hdrs = [("Via", "SIP/2.0/%s %s:%d;branch=%s" % (self.transport, host(rp["ip"]), rp["port"], branch)),
                ("From", f), ("To", t), ("Call-ID", self.call_id), ("CSeq", "%d %s" % (cseq, method))]
        if method == "INVITE" and 200 <= code < 300 or code in (180, 183):
            hdrs.append(("Contact", "<%s>" % self.uri(resp_side, True)))
        hdrs += list(extra)
        return message("SIP/2.0 %d %s" % (code, REASONS.get(code, "Unknown")), hdrs, body, ctype)
