"""Least privilege for live capture (issue 6, acceptance 6).

`capture -i IFACE` is started as root on a veth pair inside a private network namespace with
[service] user = a throwaway user (useradd -M, removed at the end).  The store directory is
chowned to that user beforehand; the key file stays root's (0400): capture opens the device,
the store and the keys as root, then drops.  Checked from /proc/PID/status (and every thread
under /proc/PID/task): Uid/Gid are the service user's, CapBnd/CapEff/CapPrm/CapAmb are all
zero, NoNewPrivs is 1; a scenario replayed with tcpreplay is then still recorded; the audit log
holds capture-start and capture-stop (the latter written after the drop, uid_at_stop = the
service user).  Also: live capture as root without [service] user (and without allow_root)
refuses to start and writes nothing; the key file is 0400, the store directory 0700, the LMDB
files 0600.  Offline file mode as root stays allowed (the other suites run it).
Needs root, iproute2 and tcpreplay; skipped otherwise.
"""
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import rvtest  # noqa: E402
import test_recorder as R  # noqa: E402

NS = "rvpriv%d" % os.getpid()
SVC = "rvtest_svc"


def sh(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, check=check)


def status_of(path):
    out = {}
    try:
        for ln in open(path):
            k, _, v = ln.partition(":")
            out[k] = v.strip()
    except OSError:
        pass
    return out


def main():
    tap = rvtest.Tap()
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("tcpreplay"):
        tap.skip("privilege drop", "needs root, iproute2 and tcpreplay")
        tap.done()
    try:
        sh("ip", "netns", "add", NS)
    except subprocess.CalledProcessError as e:
        tap.skip("privilege drop", "cannot create a network namespace: %s" % e.stderr.strip())
        tap.done()
    sh("userdel", SVC, check=False)
    base = tempfile.mkdtemp(prefix="rvpriv-", dir="/tmp")
    try:
        sh("useradd", "-M", "-s", "/usr/sbin/nologin", SVC)
        run(tap, base)
    finally:
        sh("ip", "netns", "del", NS, check=False)
        sh("userdel", SVC, check=False)
        shutil.rmtree(base, ignore_errors=True)
    tap.done()


def write_conf(path, store, key, extra):
    with open(path, "w") as f:
        f.write("[storage]\npath = %s\nkey_file = %s\n%s\n" % (store, key, extra))


def run(tap, base):
    ns = ["ip", "netns", "exec", NS]
    sh(*ns, "ip", "link", "add", "va", "type", "veth", "peer", "name", "vb")
    sh(*ns, "ip", "link", "set", "va", "up")
    sh(*ns, "ip", "link", "set", "vb", "up")
    sh(*ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", check=False)
    os.chmod(base, 0o711)
    pw = pwd.getpwnam(SVC)

    # refusal: live as root without a service user
    store0, key0, conf0 = os.path.join(base, "s0"), os.path.join(base, "k0.key"), os.path.join(base, "c0.conf")
    write_conf(conf0, store0, key0, "")
    R.rv(["keys", "init", "-c", conf0])
    p = subprocess.run(ns + [rvtest.BIN, "capture", "-c", conf0, "-i", "vb", "--no-progress"], capture_output=True,
                       timeout=20)
    err = p.stderr.decode()
    tap.ok(p.returncode != 0 and "root" in err and "[service] user" in err and not os.path.exists(store0),
           "live capture as root without [service] user refuses to start and writes nothing", err[-300:])
    st = os.stat(key0)
    tap.ok(stat.S_IMODE(st.st_mode) == 0o400, "keys init creates the key file 0400 (%o)" % stat.S_IMODE(st.st_mode))

    # the real run
    store, key, conf = os.path.join(base, "store"), os.path.join(base, "kek.key"), os.path.join(base, "rtpvault.conf")
    write_conf(conf, store, key, "[consent]\npre_consent_audio = keep\n[service]\nuser = %s\n" % SVC)
    p = R.rv(["keys", "init", "-c", conf])
    tap.ok(p.returncode == 0, "keys init")
    os.mkdir(store, 0o700)
    os.chown(store, pw.pw_uid, pw.pw_gid)
    pcap, truth = rvtest.generate("consent", 41, ["--calls", "4"])
    proc = subprocess.Popen(ns + [rvtest.BIN, "capture", "-c", conf, "-i", "vb", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    status = {}
    for _ in range(50):
        time.sleep(0.1)
        status = status_of("/proc/%d/status" % proc.pid)
        if status.get("Uid", "0").split()[0] != "0" or proc.poll() is not None:
            break
    time.sleep(0.3)
    status = status_of("/proc/%d/status" % proc.pid)
    tap.diag("Uid %s Gid %s CapBnd %s CapEff %s CapPrm %s CapAmb %s NoNewPrivs %s" % tuple(
        status.get(k) for k in ("Uid", "Gid", "CapBnd", "CapEff", "CapPrm", "CapAmb", "NoNewPrivs")))
    uids = status.get("Uid", "").split()
    tap.ok(uids and all(int(u) == pw.pw_uid for u in uids), "after start-up the capture runs as %s (uid %d): Uid %s"
           % (SVC, pw.pw_uid, status.get("Uid")))
    gids = status.get("Gid", "").split()
    tap.ok(gids and all(int(g) == pw.pw_gid for g in gids), "... and its group (Gid %s)" % status.get("Gid"))
    tap.ok(status.get("Groups", "x").split() in ([], [str(pw.pw_gid)]), "... no supplementary groups of root (%r)"
           % status.get("Groups"))
    tap.ok(status.get("CapBnd") == "0000000000000000", "capability bounding set is empty (CapBnd %s)"
           % status.get("CapBnd"))
    tap.ok(all(status.get(k) == "0000000000000000" for k in ("CapEff", "CapPrm", "CapInh", "CapAmb")),
           "no effective, permitted, inheritable or ambient capability")
    tap.ok(status.get("NoNewPrivs") == "1", "no_new_privs is set")
    bad = []
    for tid in os.listdir("/proc/%d/task" % proc.pid):
        ts = status_of("/proc/%d/task/%s/status" % (proc.pid, tid))
        if ts and (ts.get("CapBnd") != "0000000000000000" or ts.get("Uid", "0").split()[0] == "0"):
            bad.append((tid, ts.get("Uid"), ts.get("CapBnd")))
    tap.ok(not bad, "every thread (writer included) is unprivileged with an empty bounding set", repr(bad))
    r = sh(*ns, "tcpreplay", "-q", "-i", "va", "-K", "--pps=20000", pcap, check=False)
    tap.ok(r.returncode == 0, "tcpreplay played the scenario", r.stderr[-300:])
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    tap.ok(proc.returncode == 0, "capture exits 0 on SIGTERM after dropping privileges", err.decode()[-800:])
    rc, calls, cerr = R.calls_json(conf)
    tcalls = {c["call_id"] for c in truth["calls"]}
    got = {c["call_id"] for c in (calls or []) if c.get("audio")}
    tap.ok(rc == 0 and got and got <= tcalls, "calls captured after the drop are stored and readable (%d with audio)"
           % len(got), cerr[-300:])
    p = R.rv(["audit", "-c", conf, "list", "--json"])
    ents = json.loads(p.stdout.decode()) if p.returncode == 0 else []
    stop = [e for e in ents if e["command"] == "capture-stop"]
    tap.ok(any(e["command"] == "capture-start" for e in ents) and stop and
           json.loads(stop[-1]["detail"]).get("uid_at_stop") == pw.pw_uid,
           "audit: capture-start, and capture-stop written as the service user", repr(stop[-1:]))
    tap.ok(R.rv(["audit", "-c", conf, "verify"]).returncode == 0, "audit chain verifies")
    # modes
    sm = stat.S_IMODE(os.stat(store).st_mode)
    tap.ok(sm == 0o700, "store directory is 0700 (%o)" % sm)
    fm = {f: stat.S_IMODE(os.stat(os.path.join(store, f)).st_mode) for f in os.listdir(store) if f.endswith(".mdb")}
    tap.ok(fm and all(m == 0o600 for m in fm.values()), "LMDB files are 0600 (%r)" % fm)
    tap.ok(stat.S_IMODE(os.stat(key).st_mode) == 0o400, "key file 0400")


if __name__ == "__main__":
    main()
