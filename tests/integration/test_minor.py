"""Education profile, minors (issue 6, acceptance 5): when the INVITE carries the profile's
minor_header (X-Subject-Minor: yes) only a guardian's consent signal counts: the configured
guardian_sequence (71, RFC 4733 from the consent party) or the guardian_header
(X-Guardian-Consent: granted).  The minor's own grant digit 1 (or the ordinary consent header)
is ignored and counted; such a call is not kept.  The consent evidence records "minor" and
"guardian": true.  A call of the same profile without the minor header follows the normal rule.

Input: the generator's `compliance` scenario (scripts/gen/rvlib/compliance.py), whose truth has
per call "minor", "expect_kept" and "expect_guardian".
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402
from test_retention import make_env, capture, calls, export_sha, out  # noqa: E402


def main():
    t = rvtest.Tap()
    pcap, truth = rvtest.generate("compliance", 21)
    tc = {c["call_id"]: c for c in truth["calls"]}
    d, conf, store, keyf = make_env("minor")
    p = capture(conf, pcap)
    o = out(p)
    t.ok(p.returncode == 0, "capture", o[-1500:])
    t.ok("pending_bytes_persisted_without_consent 0" in o, "no byte stored without consent")
    ign = [l for l in o.splitlines() if "signals_ignored_digit" in l]
    n_ign = int(ign[0].split()[-1]) if ign else 0
    # minor's own grants: one '1' (call 6), one '1' before the guardian (call 8), one consent header (call 9)
    t.ok(n_ign >= 3, "the minors' own grant signals are ignored and counted (signals_ignored_digit %d)" % n_ign)
    cs = calls(conf) or {}
    edu = [cid for cid, c in tc.items() if c["profile"] == "education"]
    t.ok(len(edu) == 7 and all(cid in cs for cid in edu), "every education call has a record")
    for cid in sorted(edu, key=lambda c: tc[c]["invite_time"]):
        want, c = tc[cid], cs.get(cid, {})
        con = c.get("consent", {})
        kind = want["scenario_kind"]
        t.eq(c.get("profile"), "education", "%s: profile education" % kind)
        t.eq(bool(con.get("minor")), want["minor"], "%s: minor recorded in the evidence" % kind)
        t.eq(bool(c.get("audio")), want["expect_kept"], "%s: audio %s" % (kind, "kept" if want["expect_kept"]
                                                                          else "not kept"))
        t.eq(bool(con.get("guardian")), want["expect_guardian"], "%s: guardian %s" % (kind, want["expect_guardian"]))
        if want["expect_kept"]:
            t.eq(con.get("state"), "granted", "%s: consent granted" % kind)
            if want["expect_guardian"] and con.get("method") == "rfc4733":
                t.eq(con.get("value"), "71", "%s: the evidence holds the guardian sequence" % kind)
        else:
            t.ok(con.get("state") in ("timeout", "denied", "none"), "%s: consent not granted (%s)"
                 % (kind, con.get("state")))
            sha, eo, files = export_sha(conf, cid, os.path.join(d, "x", cid[:16]))
            t.ok(sha is None and not files, "%s: nothing to export" % kind, eo)
    # other profiles are unaffected by the minor rule
    others = [cid for cid, c in tc.items() if c["profile"] != "education"]
    t.ok(all(bool(cs[cid].get("audio")) == tc[cid]["expect_kept"] and not cs[cid]["consent"].get("guardian")
             for cid in others), "finance/default calls follow the normal consent rule")

    # without the education profile the same digits are an ordinary grant: proves the rule is the profile's
    d2, conf2, _, _ = make_env("minor-off")
    with open(conf2) as f:
        txt = f.read()
    with open(conf2, "w") as f:
        f.write(txt.replace("minor_header = X-Subject-Minor: yes\n", ""))
    capture(conf2, pcap)
    cs2 = calls(conf2) or {}
    only_minor_digit = [cid for cid in edu if tc[cid]["scenario_kind"].startswith("minor: only the minor's")]
    t.ok(only_minor_digit and all(cs2.get(cid, {}).get("audio") for cid in only_minor_digit),
         "control: without minor_header the minor's digit 1 grants (the call is kept)")
    t.done()


if __name__ == "__main__":
    main()
