"""Role-based access to recordings (issue 6, acceptance 1).

Throwaway OS users are created (useradd -M, removed at the end) and the real binary is run as
them with `runuser -u USER -- rtpvault ...`; access.c identifies the caller by getuid() only.

How the test users reach the store and key: the key file is refused when group/world readable
(by design), so each test user gets its OWN COPY of the store directory, the key (mode 0400,
owned by that user) and the config (same [access] and profiles, paths pointing at the copy),
all chowned to that user.  File permissions are the outer perimeter (whoever can read the key
can decrypt); the roles are the policy the tool enforces for the people who operate it.  After
the users ran, root (admin) lists each copy's audit log to see their entries.

Config: [access] supervisor = rvtest_sup, @rvtest_grp; compliance = rvtest_comp;
auditor = rvtest_aud.  [profile default]: read/export by admin, compliance, supervisor;
purposes "quality review", "dispute".  [profile healthcare] (callees 49305550010[0-2]):
read by admin, compliance; export only by compliance; purpose "medical-legal".
Checked: a user without the role for a profile cannot list its numbers, show or export its
calls; every refusal is audited (user, uid, result refused); an allowed export with a
purpose not in the profile's list is refused and writes nothing; group membership counts;
the auditor may read the audit log but not calls; a supervisor may not read the audit log.
"""
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402
import test_recorder as R  # noqa: E402

USERS = ["rvtest_sup", "rvtest_comp", "rvtest_aud", "rvtest_none", "rvtest_gm"]
GROUP = "rvtest_grp"
HC_RE = "^49305550010[0-2]$"

PROFILES = """
[access]
admin = root
compliance = rvtest_comp
supervisor = rvtest_sup, @rvtest_grp
auditor = rvtest_aud

[profile healthcare]
match_callee_regex = %s
read_roles = admin, compliance
export_roles = compliance
purposes = medical-legal

[profile default]
read_roles = admin, compliance, supervisor
export_roles = admin, compliance, supervisor
purposes = quality review, dispute
""" % HC_RE


def sh(args):
    return subprocess.run(args, capture_output=True, text=True)


def setup_users():
    cleanup_users()
    sh(["groupadd", GROUP])
    for u in USERS:
        args = ["useradd", "-M", "-s", "/usr/sbin/nologin", u]
        if u == "rvtest_gm":
            args[1:1] = ["-G", GROUP]
        p = sh(args)
        if p.returncode != 0:
            raise RuntimeError("useradd %s: %s" % (u, p.stderr))


def cleanup_users():
    for u in USERS:
        sh(["userdel", u])
    sh(["groupdel", GROUP])


def user_copy(base, master, user, binary):
    """Copy of store + key + config owned by user; returns its config path."""
    d = os.path.join(base, user)
    shutil.copytree(os.path.join(master, "store"), os.path.join(d, "store"))
    shutil.copy(os.path.join(master, "kek.key"), os.path.join(d, "kek.key"))
    text = open(os.path.join(master, "rtpvault.conf")).read()
    text = text.replace(master + "/", d + "/")
    conf = os.path.join(d, "rtpvault.conf")
    open(conf, "w").write(text)
    pw = pwd.getpwnam(user)
    for root, dirs, files in os.walk(d):
        os.chown(root, pw.pw_uid, pw.pw_gid)
        for f in files:
            os.chown(os.path.join(root, f), pw.pw_uid, pw.pw_gid)
    os.chmod(d, 0o700)
    os.chmod(os.path.join(d, "kek.key"), 0o400)
    os.chmod(os.path.join(d, "store"), 0o700)
    return conf


def run_as(user, binary, args):
    p = subprocess.run(["runuser", "-u", user, "--", binary] + args, capture_output=True, timeout=300)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def main():
    tap = rvtest.Tap()
    if os.geteuid() != 0 or not shutil.which("runuser") or not shutil.which("useradd"):
        tap.skip("role tests", "need root, runuser and useradd")
        tap.done()
    base = tempfile.mkdtemp(prefix="rvacc-", dir="/tmp")
    os.chmod(base, 0o711)
    binary = os.path.join(base, "rtpvault")
    shutil.copy(rvtest.BIN, binary)
    os.chmod(binary, 0o755)
    try:
        setup_users()
        run(tap, base, binary)
    finally:
        cleanup_users()
        shutil.rmtree(base, ignore_errors=True)
    tap.done()


def run(tap, base, binary):
    pcap, truth = rvtest.generate("consent", 31, ["--calls", "8"])
    master = os.path.join(base, "master")
    os.makedirs(master)
    os.chmod(master, 0o700)
    conf = os.path.join(master, "rtpvault.conf")
    with open(conf, "w") as f:
        f.write("[consent]\npre_consent_audio = keep\n")
        f.write("\n[storage]\npath = %s/store\nkey_file = %s/kek.key\n" % (master, master))
        f.write(PROFILES)
    p = R.rv(["keys", "init", "-c", conf])
    tap.ok(p.returncode == 0, "keys init", p.stderr.decode()[-300:])
    p = R.capture(conf, pcap)
    if not tap.ok(p.returncode == 0, "capture exits 0", p.stderr.decode("utf-8", "replace")[-800:]):
        return
    rc, calls, err = R.calls_json(conf)
    if not tap.ok(rc == 0 and calls, "root (admin) lists calls", err[-300:]):
        return
    audio = [c for c in calls if c.get("audio")]
    profiled = any("profile" in c for c in calls)
    hc = [c for c in audio if c.get("profile") == "healthcare"]
    df = [c for c in audio if c.get("profile", "default") == "default"]
    tap.diag("calls with audio: %d, healthcare %d, default %d, profiles recorded: %s" %
             (len(audio), len(hc), len(df), profiled))
    if not tap.ok(len(df) >= 1, "at least one default-profile call with audio"):
        return
    dcall = df[0]
    confs = {u: user_copy(base, master, u, binary) for u in USERS}

    # --- no role at all: nothing listed, shown or exported; every refusal audited
    u = "rvtest_none"
    rc, out, err = run_as(u, binary, ["calls", "-c", confs[u]])
    tap.ok(rc != 0 and dcall["callee"] not in out and dcall["caller"] not in out and "refused" in err,
           "no role: calls refused, no numbers listed", "rc %d out %r err %r" % (rc, out[-300:], err[-300:]))
    rc, out, err = run_as(u, binary, ["show", "-c", confs[u], dcall["call_id"]])
    tap.ok(rc != 0 and not out.strip() and "refused" in err, "no role: show refused, nothing printed", err[-300:])
    od = os.path.join(base, u, "out")
    rc, out, err = run_as(u, binary, ["export", "-c", confs[u], dcall["call_id"], "--purpose", "dispute",
                                      "--format", "all", "-o", od])
    tap.ok(rc != 0 and not (os.path.isdir(od) and os.listdir(od)) and "refused" in err,
           "no role: export refused, nothing written", err[-300:])
    ents = audit_of(confs[u])
    mine = [e for e in ents if e["user"] == u and e["uid"] == pwd.getpwnam(u).pw_uid]
    got = {(e["command"], e["result"]) for e in mine}
    tap.ok({("calls", "refused"), ("show", "refused"), ("export", "refused")} <= got,
           "no role: the three refusals are in the audit log with user and uid", repr(sorted(got)))
    exr = [e for e in mine if e["command"] == "export"]
    tap.ok(exr and exr[0]["purpose"] == "dispute", "refused export audited with its purpose")

    # --- supervisor: default profile yes, healthcare no
    for u in ("rvtest_sup", "rvtest_gm"):
        how = "supervisor" if u == "rvtest_sup" else "supervisor via @group"
        rc, out, err = run_as(u, binary, ["calls", "-c", confs[u], "--json"])
        listed = json.loads(out) if rc == 0 and out.strip() else None
        calls_err = err
        tap.ok(listed is not None and any(c["call_id"] == dcall["call_id"] for c in listed),
               "%s: calls lists default-profile calls" % how, err[-300:])
        rc, out, err = run_as(u, binary, ["show", "-c", confs[u], dcall["call_id"]])
        tap.ok(rc == 0 and dcall["callee"] in out, "%s: show of a default-profile call" % how, err[-300:])
        od = os.path.join(base, u, "ok")
        rc, out, err = run_as(u, binary, ["export", "-c", confs[u], dcall["call_id"], "--purpose", "quality review",
                                          "--format", "pcap", "-o", od])
        tap.ok(rc == 0 and any(f.endswith(".pcap") for f in os.listdir(od)),
               "%s: export with an allowed purpose" % how, err[-300:])
        od = os.path.join(base, u, "badpurpose")
        rc, out, err = run_as(u, binary, ["export", "-c", confs[u], dcall["call_id"], "--purpose", "curiosity",
                                          "--format", "pcap", "-o", od])
        tap.ok(rc != 0 and not (os.path.isdir(od) and os.listdir(od)) and "purpose" in err,
               "%s: export with a purpose not in the list is refused, nothing written" % how, err[-300:])
        if not hc:
            tap.skip("%s: healthcare calls withheld" % how, "recorder does not store profiles in this build")
            continue
        h = hc[0]
        if listed is not None:
            tap.ok(all(c["callee"] != h["callee"] and c["caller"] != h["caller"] for c in listed) and
                   "withheld" in calls_err, "%s: healthcare calls (and their numbers) are not listed" % how,
                   calls_err[-300:])
        rc, out, err = run_as(u, binary, ["calls", "-c", confs[u]])
        tap.ok(rc == 0 and h["callee"] not in out, "%s: text listing has no healthcare number" % how)
        rc, out, err = run_as(u, binary, ["show", "-c", confs[u], h["call_id"]])
        tap.ok(rc != 0 and not out.strip() and "healthcare" in err, "%s: show of a healthcare call refused" % how,
               err[-300:])
        od = os.path.join(base, u, "hc")
        rc, out, err = run_as(u, binary, ["export", "-c", confs[u], h["call_id"], "--purpose", "medical-legal",
                                          "--format", "all", "-o", od])
        tap.ok(rc != 0 and not (os.path.isdir(od) and os.listdir(od)), "%s: export of a healthcare call refused" % how,
               err[-300:])
        ents = audit_of(confs[u])
        ref = {(e["command"]) for e in ents if e["user"] == u and e["result"] == "refused"}
        tap.ok({"calls", "show", "export"} <= ref, "%s: refusals audited (%s)" % (how, sorted(ref)))
        rp = [e for e in ents if e["user"] == u and e["command"] == "export" and e["purpose"] == "curiosity"]
        tap.ok(rp and rp[0]["result"] == "refused", "%s: refused purpose audited" % how)

    # --- compliance: healthcare export with its purpose only
    u = "rvtest_comp"
    if hc:
        h = hc[0]
        od = os.path.join(base, u, "hc-bad")
        rc, out, err = run_as(u, binary, ["export", "-c", confs[u], h["call_id"], "--purpose", "quality review",
                                          "--format", "pcap", "-o", od])
        tap.ok(rc != 0 and not (os.path.isdir(od) and os.listdir(od)) and "medical-legal" in err,
               "compliance: healthcare export with a purpose not in its list refused (names the allowed)", err[-300:])
        od = os.path.join(base, u, "hc-ok")
        rc, out, err = run_as(u, binary, ["export", "-c", confs[u], h["call_id"], "--purpose", "medical-legal",
                                          "--ticket", "HC-1", "--format", "pcap", "-o", od])
        tap.ok(rc == 0 and os.listdir(od), "compliance: healthcare export with purpose medical-legal", err[-300:])
        rc, out, err = R.rv(["export", "-c", conf, h["call_id"], "--purpose", "medical-legal", "--format", "pcap",
                             "-o", os.path.join(base, "root-hc")]).returncode, "", ""
        tap.ok(rc != 0, "admin (root) may not export healthcare (export_roles = compliance)")
    else:
        tap.skip("compliance: healthcare exports", "recorder does not store profiles in this build")

    # --- auditor: audit log yes, calls no; supervisor: audit log no
    u = "rvtest_aud"
    rc, out, err = run_as(u, binary, ["audit", "-c", confs[u], "list"])
    tap.ok(rc == 0 and "capture-start" in out, "auditor: audit list allowed", err[-300:])
    rc, out, err = run_as(u, binary, ["audit", "-c", confs[u], "verify"])
    tap.ok(rc == 0, "auditor: audit verify allowed", out + err)
    rc, out, err = run_as(u, binary, ["calls", "-c", confs[u]])
    tap.ok(rc != 0 and dcall["callee"] not in out, "auditor: calls refused", err[-300:])
    u = "rvtest_sup"
    rc, out, err = run_as(u, binary, ["audit", "-c", confs[u], "list"])
    tap.ok(rc != 0 and "refused" in err and "capture-start" not in out, "supervisor: audit list refused", err[-300:])
    for u in USERS:
        rc, out, err = R.rv(["audit", "-c", confs[u], "verify"]).returncode, "", ""
        tap.ok(rc == 0, "%s's copy: audit chain verifies after their accesses" % u)


def audit_of(conf):
    p = R.rv(["audit", "-c", conf, "list", "--json"])
    return json.loads(p.stdout.decode())


if __name__ == "__main__":
    main()
