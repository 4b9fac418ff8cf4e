"""Retention end to end (issue 6, acceptance 3): profiles give each call its deadline,
`rtpvault sweep --now T` deletes exactly the expired calls (never one under hold, never one
early), each deletion has a receipt in the audit log, a deleted call cannot be exported, the
freed pages are reused by the next capture, and a finance call (retention 5y) survives
4 years 364 days and is gone after 5 years.  Also hold / unhold / erase.

Input: the generator's `compliance` scenario (scripts/gen/rvlib/compliance.py): 2 finance, 3
default and 7 education calls.  Real binary, real LMDB files under build/test-tmp.

This module also holds the helpers used by test_rotation.py and test_minor.py.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402

DAY = 86400
YEAR = 365 * DAY


def rv(args, timeout=600):
    return subprocess.run([rvtest.BIN] + list(args), capture_output=True, timeout=timeout)


def out(p):
    return p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


PROFILES = """
[profile finance]
retention = 5y
match_callee_prefixes = 4969555

[profile education]
retention = 1y
match_callee_prefixes = 4930777
minor_header = X-Subject-Minor: yes
guardian_sequence = 71
guardian_header = X-Guardian-Consent
"""


def make_env(tag, extra="", batch=100):
    d = tempfile.mkdtemp(prefix="cmp-%s-" % tag, dir=rvtest.TMP)
    store = os.path.join(d, "store")
    keyf = os.path.join(d, "kek.key")
    conf = os.path.join(d, "rtpvault.conf")
    with open(conf, "w") as f:
        f.write("[storage]\npath = %s\nkey_file = %s\n\n[retention]\nsweep_batch = %d\n" % (store, keyf, batch))
        f.write(PROFILES)
        f.write(extra)
    p = rv(["keys", "init", "-c", conf])
    if p.returncode != 0:
        raise RuntimeError("keys init failed: " + out(p))
    return d, conf, store, keyf


def capture(conf, pcap):
    return rv(["capture", "-c", conf, "-r", pcap], timeout=900)


def calls(conf):
    p = rv(["calls", "-c", conf, "--json"])
    try:
        return {c["call_id"]: c for c in json.loads(p.stdout.decode("utf-8"))}
    except ValueError:
        return None


def export_sha(conf, cid, outdir):
    """sha256 of the exported pcap, or None when export fails."""
    os.makedirs(outdir, exist_ok=True)
    p = rv(["export", "-c", conf, cid, "--purpose", "test", "--format", "pcap", "-o", outdir])
    pcaps = [f for f in os.listdir(outdir) if f.endswith(".pcap")]
    if p.returncode != 0 or len(pcaps) != 1:
        return None, out(p), pcaps
    with open(os.path.join(outdir, pcaps[0]), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest(), out(p), pcaps


def audit_entries(conf):
    """audit list --json as a list of dicts, or None when the audit command is not available."""
    p = rv(["audit", "-c", conf, "list", "--json"])
    if p.returncode != 0:
        return None
    txt = p.stdout.decode("utf-8", "replace").strip()
    try:
        v = json.loads(txt)
        return v if isinstance(v, list) else v.get("entries", [])
    except ValueError:
        try:
            return [json.loads(l) for l in txt.splitlines() if l.strip()]
        except ValueError:
            return None


def entry_text(e):
    return json.dumps(e, sort_keys=True)


def sweep(conf, now):
    p = rv(["sweep", "-c", conf, "--now", str(int(now))])
    deleted = [l.split()[3] for l in out(p).splitlines() if l.startswith("sweep: deleted record")]
    return p, deleted


def store_size(store):
    return os.path.getsize(os.path.join(store, "data.mdb"))


def main():
    t = rvtest.Tap()
    pcap, truth = rvtest.generate("compliance", 21)
    tc = {c["call_id"]: c for c in truth["calls"]}
    d, conf, store, keyf = make_env("ret")
    p = capture(conf, pcap)
    t.ok(p.returncode == 0, "capture of the compliance scenario", out(p)[-2000:])
    cs = calls(conf)
    t.ok(cs is not None and len(cs) == len(tc), "every call is stored as a record (%d)" % len(tc))
    if not cs:
        t.done()
    # profiles and deadlines
    ret = {"finance": 5 * YEAR, "education": YEAR, "default": 180 * DAY}
    bad = []
    for cid, c in cs.items():
        want = tc[cid]["profile"]
        dl = c.get("retention_deadline")
        if c.get("profile") != want or dl is None or abs(dl - (c["invite_time"] + ret[want])) > 1e-3:
            bad.append((cid, c.get("profile"), want, dl))
    t.ok(not bad, "each call has its profile and deadline = invite + retention", bad)

    by = lambda prof: sorted((c["invite_time"], cid) for cid, c in cs.items() if c["profile"] == prof)  # noqa: E731
    dflt, edu, fin = by("default"), by("education"), by("finance")
    held = dflt[0][1]
    p = rv(["hold", "-c", conf, held, "--reason", "litigation 2026-17"])
    t.ok(p.returncode == 0, "hold a default call", out(p))
    p = rv(["hold", "-c", conf, held])
    t.ok(p.returncode != 0, "hold without --reason is refused")

    # exports before any deletion
    sha_before = {}
    for cid, c in cs.items():
        if c.get("audio"):
            sha_before[cid] = export_sha(conf, cid, os.path.join(d, "x0", cid[:16]))[0]

    # nothing early: just before the first default deadline
    first_dl = min(cs[cid]["retention_deadline"] for _, cid in dflt)
    p, deleted = sweep(conf, first_dl - 1)
    t.ok(p.returncode == 0 and deleted == [], "sweep 1 s before the first deadline deletes nothing", out(p))
    t.eq(len(calls(conf)), len(tc), "all calls still there")

    size1 = store_size(store)
    # past every default deadline, before any education deadline
    last_dflt = max(cs[cid]["retention_deadline"] for _, cid in dflt)
    p, deleted = sweep(conf, last_dflt + 1)
    want = sorted(cid for _, cid in dflt if cid != held)
    got_ids = sorted(deleted)
    left = calls(conf)
    t.ok(p.returncode == 0, "sweep past the default deadlines", out(p))
    t.eq(sorted(set(cs) - set(left)), want, "exactly the expired default calls are deleted (not the held one)")
    t.eq(len(got_ids), len(want), "one deletion line per deleted call")
    t.ok("1 expired calls kept under hold" in out(p), "the held call is reported as kept", out(p))
    t.ok(held in left, "the held call survives its deadline")

    # receipts
    ents = audit_entries(conf)
    if ents is None:
        t.skip("deletion receipts in the audit log", "audit list not available in this build")
    else:
        texts = [entry_text(e) for e in ents if "sweep" in entry_text(e)]
        missing = [cid for cid in want if not any(cid in x for x in texts)]
        t.ok(not missing, "each deleted call has a sweep receipt (call id, profile, deadline, time)", missing)
        t.ok(all('deadline' in x and 'profile' in x and 'deleted_at' in x for x in texts), "receipts carry "
             "profile, deadline and deletion time", texts[:2])
        holds = [e for e in ents if "hold" in entry_text(e) and "litigation 2026-17" in entry_text(e)]
        t.ok(len(holds) >= 1, "the hold is audited with its reason")
        p = rv(["audit", "-c", conf, "verify"])
        t.ok(p.returncode == 0, "audit log verifies after sweep", out(p))

    # deleted calls cannot be exported
    for cid in want[:2]:
        sha, o, files = export_sha(conf, cid, os.path.join(d, "x1", cid[:16]))
        t.ok(sha is None and not files, "export of deleted call %s fails and writes nothing" % cid[:16], o)
    # the rest still exports identically
    same = all(export_sha(conf, cid, os.path.join(d, "x2", cid[:16]))[0] == sha_before[cid]
               for cid in left if cid in sha_before)
    t.ok(same, "remaining calls export identically after the sweep")

    # erase
    p = rv(["erase", "-c", conf, held, "--reason", "data subject request"])
    t.ok(p.returncode != 0 and "hold" in out(p), "erase of a held call is refused", out(p))
    p = rv(["erase", "-c", conf, edu[0][1]])
    t.ok(p.returncode != 0, "erase without --reason is refused")
    p = rv(["erase", "-c", conf, edu[0][1], "--reason", "data subject request"])
    t.ok(p.returncode == 0 and edu[0][1] not in calls(conf), "erase deletes an education call before its deadline",
         out(p))
    sha, o, files = export_sha(conf, edu[0][1], os.path.join(d, "x3"))
    t.ok(sha is None, "an erased call cannot be exported", o)
    p = rv(["unhold", "-c", conf, held, "--reason", "case closed"])
    t.ok(p.returncode == 0, "unhold", out(p))
    p, deleted = sweep(conf, last_dflt + 1)
    t.ok(p.returncode == 0, "sweep after unhold runs", out(p))
    t.ok(held not in calls(conf), "after unhold the expired call is deleted by the next sweep", out(p))

    # finance: survives 4 years 364 days, gone after 5 years
    fin_first = min(cs[cid]["invite_time"] for _, cid in fin)
    fin_last = max(cs[cid]["invite_time"] for _, cid in fin)
    p, deleted = sweep(conf, fin_first + 4 * YEAR + 364 * DAY)
    left = calls(conf)
    t.ok(all(cid in left for _, cid in fin), "finance calls survive 4 years 364 days", out(p))
    t.ok(not any(cid in left for _, cid in edu), "education calls (1y) are gone by then")
    p, deleted = sweep(conf, fin_last + 5 * YEAR + 1)
    left = calls(conf)
    t.ok(left is not None and not any(cid in left for _, cid in fin), "finance calls are gone after 5 years",
         out(p) + "\ncalls --json: " + str(left))
    t.ok(left is not None and len(left) == 0, "the store holds no call any more (calls --json lists none)")

    # store reuse: a second capture after the sweep does not grow data.mdb by the full amount
    size2 = store_size(store)
    d0, conf0, store0, _ = make_env("ret-size")
    capture(conf0, pcap)
    full = store_size(store0)
    p = capture(conf, pcap)
    size3 = store_size(store)
    t.diag("data.mdb: fresh capture %d, after first capture+sweep %d/%d, after second capture %d"
           % (full, size1, size2, size3))
    t.ok(p.returncode == 0 and size3 - size2 < full // 2,
         "second capture after the sweep reuses freed pages (grew %d bytes, a fresh capture needs %d)"
         % (size3 - size2, full))
    p, deleted = sweep(conf, 0)
    t.ok(p.returncode == 0 and deleted == [], "--now 0 (epoch seconds) deletes nothing", out(p))
    p = rv(["sweep", "-c", conf, "--now", "2199-01-01T00:00:00Z"])
    t.ok(p.returncode == 0 and "sweep: %d expired calls deleted" % len(tc) in out(p),
         "--now in ISO 8601 is accepted (the second capture's calls are all deleted in 2199)", out(p))
    p = rv(["sweep", "-c", conf, "--now", "yesterday"])
    t.ok(p.returncode == 2, "--now that is not a time is a usage error", out(p))
    t.done()


if __name__ == "__main__":
    main()
