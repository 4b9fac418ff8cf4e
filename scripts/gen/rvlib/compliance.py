"""Scenario `compliance` (seed 21): calls for profiles, retention and the minor rule.

Profiles (docs/compliance.md; tests/integration/test_retention.py and test_minor.py use them):
  finance    callee prefix 4969555   (retention 5y in the tests)
  education  callee prefix 4930777   minor_header "X-Subject-Minor: yes",
             guardian_sequence 71, guardian_header X-Guardian-Consent
  default    everything else (callee 4930555...)
Consent as in the `consent` scenario: callee's digit 1 grants, 0 refuses (RFC 4733).

Every call's truth gets "scenario_kind", "profile" (expected), "minor" (INVITE carries
X-Subject-Minor: yes), "expect_kept" (audio must be stored) and "expect_guardian" (the
consent evidence must say the grant came from a guardian).  The minor header is added to
the initial INVITE only (by wrapping sip.Dialog for those Call-IDs).
"""
import random

from . import calls as calls_mod
from . import net
from .calls import Ctx, CallSpec, simulate, MS, SEC
from .scenarios import T0, finalize_truth, call_ips, background
from .sip import Dialog

CAPTURE_S = 120
MINOR_HEADER = ("X-Subject-Minor", "yes")
GUARDIAN_HEADER = "X-Guardian-Consent"
PROFILES = {
    "finance": {"match_callee_prefixes": "4969555"},
    "education": {"match_callee_prefixes": "4930777", "minor_header": "X-Subject-Minor: yes",
                  "guardian_sequence": "71", "guardian_header": GUARDIAN_HEADER},
}


class _MinorDialog(Dialog):
    minors = set()

    def request(self, side, method, cseq, branch, body=b"", ctype=None, extra=(), ruri=None,
                content_length=None):
        if method == "INVITE" and self.call_id in self.minors and not self.tag["b"]:
            extra = list(extra) + [MINOR_HEADER]
        return Dialog.request(self, side, method, cseq, branch, body, ctype, extra, ruri, content_length)


def compliance_specs(rng):
    s = []

    def add(start, kind, profile, prefix, kept, minor=False, guardian=False, **kw):
        i = len(s)
        talk = kw.pop("talk", rng.uniform(18, 22))
        kw.setdefault("ring", rng.uniform(0.8, 1.5))
        kw["rfc4733"] = [(a, d, x / talk) for a, d, x in kw.get("rfc4733", ())]
        kw["hdr"] = [(a, m, n, v, x / talk) for a, m, n, v, x in kw.get("hdr", ())]
        spec = CallSpec(call_id="%016x-k%02d@rvgen.compliance" % (rng.getrandbits(64), i),
                        caller="33066610%04d" % (i + 100), callee="%s%05d" % (prefix, i + 100),
                        start=T0 + int(start * SEC) + rng.randint(0, 999) * MS, ips=call_ips(i + 40, 4),
                        talk=talk, **kw)
        spec.kind = kind
        spec.expect = {"profile": profile, "minor": minor, "expect_kept": kept, "expect_guardian": guardian}
        s.append(spec)

    add(2, "finance granted", "finance", "4969555", True, rfc4733=[("b", "1", 4.0)])
    add(7, "finance granted (PCMA)", "finance", "4969555", True, codec="PCMA", rfc4733=[("b", "1", 3.0)])
    add(12, "default granted", "default", "4930555", True, rfc4733=[("b", "1", 4.0)])
    add(17, "default granted (PCMA)", "default", "4930555", True, codec="PCMA", rfc4733=[("b", "1", 5.0)])
    add(22, "default denied", "default", "4930555", False, rfc4733=[("b", "0", 4.0)])
    add(27, "minor: guardian sequence 71", "education", "4930777", True, minor=True, guardian=True,
        rfc4733=[("b", "7", 3.0), ("b", "1", 4.0)])
    add(32, "minor: only the minor's grant digit 1 -> not kept", "education", "4930777", False, minor=True,
        rfc4733=[("b", "1", 4.0)])
    add(37, "minor: guardian header on INFO", "education", "4930777", True, minor=True, guardian=True,
        hdr=[("b", "INFO", GUARDIAN_HEADER, "granted", 5.0)])
    add(42, "minor: 1 (ignored) then guardian 71", "education", "4930777", True, minor=True, guardian=True,
        rfc4733=[("b", "1", 3.0), ("b", "7", 6.0), ("b", "1", 7.0)])
    add(47, "minor: consent header granted by the minor -> not kept", "education", "4930777", False, minor=True,
        hdr=[("b", "INFO", "X-Recording-Consent", "granted", 5.0)])
    add(52, "education, not a minor: 1 grants", "education", "4930777", True, rfc4733=[("b", "1", 4.0)])
    add(57, "minor: guardian sequence from the caller (wrong party) -> not kept", "education", "4930777", False,
        minor=True, rfc4733=[("a", "7", 3.0), ("a", "1", 4.0)])
    return s


def run_compliance(args, writer):
    rng = random.Random(args.seed)
    end = T0 + CAPTURE_S * SEC
    ctx = Ctx(rng, end, args.truth_payloads)
    specs = compliance_specs(rng)
    if args.calls:
        specs = specs[:args.calls]
    _MinorDialog.minors = {sp.call_id for sp in specs if sp.expect["minor"]}
    saved = calls_mod.Dialog
    calls_mod.Dialog = _MinorDialog
    try:
        out = []
        for sp in specs:
            c = simulate(ctx, sp)
            c["scenario_kind"] = sp.kind
            c.update(sp.expect)
            out.append(c)
    finally:
        calls_mod.Dialog = saved
    background(ctx, CAPTURE_S)
    ctx.emit(end, net.arp(1, "10.9.0.1", "10.9.0.254"))
    ctx.packets.sort(key=lambda p: (p[0], p[1]))
    for ts, _, f in ctx.packets:
        writer.write(ts, f)
    truth = finalize_truth("compliance", args.seed, writer.count, out, ctx.counters, {"profiles": PROFILES})
    return truth, ctx.sip_stats
